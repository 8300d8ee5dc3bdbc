"""`mcplan export PLAN.json --to karmada DIR`: a Karmada PropagationPolicy per service the plan
runs on Kubernetes, dividing its replicas over the plan's regions by the plan's weights.

A member cluster is named after its region (`aws/ap-northeast-2` -> `aws-ap-northeast-2`): join
each cluster to Karmada under that name. A service's weight in a region is the vCPU it holds there
(units x vCPU per unit; units when its nodes carry no vCPU), divided by the weights' greatest
common divisor. Karmada cannot spread by provider itself; the explicit per-region weights carry
the plan's spread across providers.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

import yaml

from ..errors import InputError
from .planjson import check_plan

API_VERSION = "policy.karmada.io/v1alpha1"
# the workload kinds a service may be deployed as; a selector that matches nothing is harmless
SELECTED_KINDS = (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("v1", "Service"))


# Kubernetes object names (RFC 1123): a namespace is a label, at most 63 characters
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_MAX = 63


def workload_name(service: str) -> str:
    """The DNS-1123 name a service's workloads and policy go by: a spec allows `_` and upper
    case in service names (`app_cluster`), which Kubernetes refuses in object names."""
    return re.sub(r"[^a-z0-9-]+", "-", service.lower()).strip("-")[:_LABEL_MAX] or "service"


def check_namespace(namespace: str) -> str:
    """The namespace itself when Kubernetes takes it; else an InputError with the rule."""
    if len(namespace) <= _LABEL_MAX and _LABEL.match(namespace):
        return namespace
    suggestion = workload_name(namespace)
    raise InputError(
        f"--namespace `{namespace}` is not a Kubernetes namespace: lowercase letters, digits "
        f"and `-`, starting and ending with a letter or digit, at most {_LABEL_MAX} characters "
        f"(e.g. `{suggestion}`)"
    )


def cluster_name(region: str) -> str:
    """A DNS-1123 name for the member cluster of a region."""
    return re.sub(r"[^a-z0-9-]+", "-", region.lower()).strip("-")[:63]


def weights(placements: list[dict[str, Any]]) -> dict[str, int]:
    """Region -> whole-number weight of one service's Kubernetes placements."""
    raw: dict[str, float] = defaultdict(float)
    for p in placements:
        per_unit = ((p.get("capacity") or {}).get("per_unit") or {}).get("vcpu") or 1.0
        raw[str(p["region"])] += float(per_unit) * int(p["units"])
    whole = {r: max(1, round(w)) for r, w in raw.items() if w > 0}
    divisor = math.gcd(*whole.values()) if whole else 1
    return {r: w // divisor for r, w in sorted(whole.items())}


def propagation_policy(service: str, by_region: dict[str, int], namespace: str) -> dict[str, Any]:
    """The policy for the workloads named `service` (a DNS-1123 name, see workload_name)."""
    clusters = [cluster_name(r) for r in by_region]
    return {
        "apiVersion": API_VERSION,
        "kind": "PropagationPolicy",
        "metadata": {
            "name": f"{service}-placement",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "mcplan"},
        },
        "spec": {
            "resourceSelectors": [
                {"apiVersion": api, "kind": kind, "name": service} for api, kind in SELECTED_KINDS
            ],
            "placement": {
                "clusterAffinity": {"clusterNames": clusters},
                "replicaScheduling": {
                    "replicaSchedulingType": "Divided",
                    "replicaDivisionPreference": "Weighted",
                    "weightPreference": {
                        "staticWeightList": [
                            {"targetCluster": {"clusterNames": [cluster_name(r)]}, "weight": w}
                            for r, w in by_region.items()
                        ]
                    },
                },
            },
        },
    }


def export_karmada(plan: dict[str, Any], namespace: str = "default") -> dict[str, str]:
    """{file name: YAML text}: one PropagationPolicy per Kubernetes-hosted service of the plan,
    and a README.md naming the member clusters to join."""
    plan = check_plan(plan)
    check_namespace(namespace)
    by_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in plan["placements"]:
        if p["category"] == "compute.k8s":
            by_service[str(p["service"])].append(p)
    files: dict[str, str] = {}
    clusters: set[str] = set()
    lines = [
        f"# {plan.get('app', '')}: Karmada propagation policies",
        "",
        "Written by `mcplan export --to karmada`. Join each member cluster under the name below "
        "(`karmadactl join NAME ...`), then apply the policies with the workloads "
        "(`kubectl --kubeconfig karmada-apiserver.config apply -f .`).",
        "",
        "| service | cluster (region) | weight |",
        "|---|---|---|",
    ]
    names: dict[str, str] = {}
    for service in sorted(by_service):
        name = workload_name(service)
        while name in names.values():  # `app_x` and `app-x` are two services, one name
            name = f"{name[: _LABEL_MAX - 2]}-{len(names)}"
        names[service] = name
    for service, rows in sorted(by_service.items()):
        by_region = weights(rows)
        clusters.update(by_region)
        name = names[service]
        doc = propagation_policy(name, by_region, namespace)
        files[f"{name}-propagationpolicy.yaml"] = yaml.safe_dump(doc, sort_keys=False)
        shown = service if name == service else f"{service} (workloads named `{name}`)"
        lines += [f"| {shown} | {cluster_name(r)} ({r}) | {w} |" for r, w in by_region.items()]
    if not by_service:
        lines += [
            "",
            "The plan runs no service on Kubernetes: there is nothing to propagate. Services of "
            "category `compute.k8s` (or `compute.vm` with tier PaaS) are placed on clusters.",
        ]
    lines += [
        "",
        f"Member clusters: {', '.join(cluster_name(r) for r in sorted(clusters)) or 'none'}.",
        "",
    ]
    files["README.md"] = "\n".join(lines)
    return files
