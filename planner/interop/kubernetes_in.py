"""`mcplan import kubernetes`: a spec from Kubernetes manifests (a file or a folder of YAML).

Workloads become services: a Deployment or StatefulSet is a `compute.k8s` service whose demand is
replicas x the sum of its containers' requests (limits when a container has no requests), plus
the storage of the claims it mounts (a StatefulSet's volumeClaimTemplates count once per
replica). A Service of type LoadBalancer becomes a `network.lb` service that depends on each
workload it selects within a few milliseconds, and makes them user-facing; a ClusterIP Service
only names its workloads, so that a container's environment that mentions it
(`DB_HOST=orders-db`, `postgres://orders-db:5432`) becomes a dependency. A PersistentVolumeClaim
mounted by no workload becomes a `storage.block` service.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import InputError, Problem
from ..safeyaml import MAX_YAML_BYTES, _AliasCappedLoader
from .defaults import BALANCER_LATENCY_MS, DEFAULT_MAX_LATENCY_MS
from .imported import Call, Found, ImportResult, Skipped, finish_import

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILES = 500

_CPU = re.compile(r"^([0-9.]+)(m?)$")
_MEMORY = re.compile(r"^([0-9.]+(?:[eE][0-9]+)?)([KMGTPE]i?|[mk])?$")
_MEMORY_FACTOR = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}

# kinds that are read elsewhere or hold no capacity, with the reason they are not services
_NOT_WORKLOADS = {
    "ConfigMap": "configuration: no capacity to place",
    "Secret": "configuration: no capacity to place (and never copied into the spec)",
    "Namespace": "a name space: no capacity to place",
    "ServiceAccount": "identity: no capacity to place",
    "Role": "access control: no capacity to place",
    "RoleBinding": "access control: no capacity to place",
    "ClusterRole": "access control: no capacity to place",
    "ClusterRoleBinding": "access control: no capacity to place",
    "Ingress": "an HTTP routing rule: the Service it routes to carries the load balancer",
    "NetworkPolicy": "a traffic rule: no capacity to place",
    "HorizontalPodAutoscaler": "a scaling rule: demand is read from the workload's replicas",
    "PodDisruptionBudget": "an eviction rule: no capacity to place",
    "DaemonSet": "one pod per node: its size follows the cluster's node count, which manifests "
    "do not state; add its requests to the workloads' demand by hand",
    "Job": "a run-to-completion task: no steady capacity; add it by hand if it matters",
    "CronJob": "a scheduled task: no steady capacity; add it by hand if it matters",
}


def cpu_cores(value: Any) -> float:
    """A Kubernetes CPU quantity (`500m`, `2`, `0.5`) in cores; ValueError if unreadable."""
    text = str(value).strip()
    m = _CPU.match(text)
    if not m:
        raise ValueError(f"CPU quantity `{text}` is not like 500m or 2")
    return float(m.group(1)) / (1000 if m.group(2) else 1)


def memory_gib(value: Any) -> float:
    """A Kubernetes memory quantity (`512Mi`, `1Gi`, `1G`, `1000000`) in GiB."""
    text = str(value).strip()
    m = _MEMORY.match(text)
    if not m:
        raise ValueError(f"memory quantity `{text}` is not like 512Mi or 1Gi")
    return float(m.group(1)) * _MEMORY_FACTOR[m.group(2)] / 2.0**30


def read_manifests(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file, document) for every YAML document of a manifest file or of every manifest file in a
    folder (recursively); `List` documents are opened into their items."""
    if not path.exists():
        raise InputError(
            [Problem(str(path), "", "", "no such file or folder", fix="check the path")]
        )
    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
        if path.is_dir()
        else [path]
    )
    if not files:
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "",
                    "the folder holds no manifest (*.yaml, *.yml, *.json)",
                    fix="point at the folder of the application's manifests, or render a Helm "
                    "chart first: `helm template NAME CHART > app.yaml`",
                )
            ]
        )
    if len(files) > MAX_FILES:
        raise InputError(f"{path} holds {len(files)} manifest files; import at most {MAX_FILES}")
    docs: list[tuple[str, dict[str, Any]]] = []
    problems: list[Problem] = []
    for f in files:
        if f.stat().st_size > MAX_YAML_BYTES:
            problems.append(Problem(str(f), "", "", "larger than 2 MiB", fix="split the file"))
            continue
        try:
            text = f.read_text(encoding="utf-8")
            for doc in yaml.load_all(text, Loader=_AliasCappedLoader):  # noqa: S506 - safe loader
                items = (
                    doc.get("items")
                    if isinstance(doc, dict) and doc.get("kind") == "List"
                    else [doc]
                )
                docs += [(str(f), d) for d in items or [] if isinstance(d, dict)]
        except UnicodeDecodeError:
            problems.append(Problem(str(f), "", "", "not UTF-8 text", fix="save it as UTF-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problems.append(
                Problem(
                    str(f),
                    where,
                    "",
                    f"not valid YAML ({getattr(exc, 'problem', exc)})",
                    fix="check the indentation and quoting there",
                )
            )
    if problems:
        raise InputError(problems)
    if not docs:
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "",
                    "no Kubernetes object found",
                    fix="each document needs `apiVersion`, `kind` and `metadata.name`",
                )
            ]
        )
    return docs


def _dict(value: Any) -> dict[str, Any]:
    """A mapping of a manifest, or {} where the manifest has something else (manifests are user
    input: a malformed one is reported, never a crash)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    """The mappings of a manifest's list, or [] where it has something else."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _at(doc: Any, *path: str) -> Any:
    """doc[path[0]][path[1]]..., None where a step is missing or not a mapping."""
    for key in path:
        doc = _dict(doc).get(key)
    return doc


def _name(doc: dict[str, Any]) -> str:
    return str(_at(doc, "metadata", "name") or "?")


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return _dict(_at(doc, "spec", "template", "spec"))


def _requests(pod: dict[str, Any]) -> tuple[float, float, list[str]]:
    """(cores, GiB, containers without requests or limits) of one pod."""
    cores = gib = 0.0
    unsized: list[str] = []
    for c in _items(pod.get("containers")):
        asked = _dict(_at(c, "resources", "requests")) or _dict(_at(c, "resources", "limits"))
        if "cpu" not in asked and "memory" not in asked:
            unsized.append(str(c.get("name", "?")))
            continue
        cores += cpu_cores(asked["cpu"]) if "cpu" in asked else 0.0
        gib += memory_gib(asked["memory"]) if "memory" in asked else 0.0
    return cores, gib, unsized


def _claim_gb(claim: dict[str, Any]) -> float:
    storage = _at(claim, "spec", "resources", "requests", "storage")
    return memory_gib(storage) * 2.0**30 / 1e9 if storage is not None else 0.0


def _mounted_gb(pod: dict[str, Any], claims: dict[str, dict[str, Any]], mounted: set[str]) -> float:
    """GB of the claims a pod mounts (recorded in `mounted`)."""
    total = 0.0
    for vol in _items(pod.get("volumes")):
        claim_name = _at(vol, "persistentVolumeClaim", "claimName")
        if isinstance(claim_name, str) and claim_name in claims:
            total += _claim_gb(claims[claim_name])
            mounted.add(claim_name)
    return total


def _env_text(pod: dict[str, Any]) -> str:
    values = [
        str(e.get("value", "")) for c in _items(pod.get("containers")) for e in _items(c.get("env"))
    ]
    return "\n".join(values)


def _selects(service: dict[str, Any], workload: dict[str, Any]) -> bool:
    selector = _dict(_at(service, "spec", "selector"))
    labels = _dict(_at(workload, "spec", "template", "metadata", "labels"))
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def import_kubernetes(
    docs: list[tuple[str, dict[str, Any]]],
    regions: pd.DataFrame | None,
    source: str = "manifests",
    app: str = "imported",
    region: str | None = None,
    max_latency_ms: float = DEFAULT_MAX_LATENCY_MS,
) -> ImportResult:
    """A spec from parsed manifests. `region` (a catalog region id) is where the cluster runs
    today: it places the users; without it the spec has no user groups."""
    if region is not None and regions is not None and region not in regions.index:
        from ..errors import did_you_mean

        raise InputError(
            f"--region `{region}` is not a catalog region; {did_you_mean(region, regions.index)}"
        )
    skipped: list[Skipped] = []
    found: list[Found] = []
    workloads = [(f, d) for f, d in docs if d.get("kind") in ("Deployment", "StatefulSet")]
    services = [(f, d) for f, d in docs if d.get("kind") == "Service"]
    claims = {_name(d): d for _, d in docs if d.get("kind") == "PersistentVolumeClaim"}
    mounted: set[str] = set()
    front: dict[str, list[str]] = {}  # LoadBalancer Service address -> workloads it selects
    groups: dict[str, str] = {}  # workload name -> group
    balancers: list[Found] = []
    named: list[str] = []  # ClusterIP Services: read for their names, no capacity of their own
    for _, svc in services:
        spec = _dict(svc.get("spec"))
        targets = [_name(w) for _, w in workloads if _selects(svc, w)]
        address = f"Service/{_name(svc)}"
        if spec.get("type") == "LoadBalancer":
            balancers.append(
                Found(
                    address,
                    address,
                    _name(svc),
                    "network.lb",
                    "PaaS",
                    {"lb": 1.0},
                    user_facing=True,
                    region=region,
                )
            )
            front[address] = targets
        elif targets and spec.get("type") in (None, "ClusterIP", "NodePort"):
            named.append(f"{address} (names {', '.join(targets)})")
        elif spec.get("type") == "ExternalName":
            skipped.append(Skipped(address, "an ExternalName alias: points outside the cluster"))
        elif not targets:
            skipped.append(
                Skipped(address, "selects no Deployment or StatefulSet of these manifests")
            )
    for _, w in workloads:
        kind, name = str(w.get("kind")), _name(w)
        address = f"{kind}/{name}"
        pod = _pod_spec(w)
        replicas = _dict(w.get("spec")).get("replicas", 1)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            skipped.append(Skipped(address, f"replicas `{replicas}` is not a whole number"))
            continue
        try:
            cores, gib, unsized = _requests(pod)
            storage = _mounted_gb(pod, claims, mounted)
            if kind == "StatefulSet":
                templates = _items(_at(w, "spec", "volumeClaimTemplates"))
                storage += sum(_claim_gb(t) for t in templates) * replicas
        except ValueError as exc:
            skipped.append(Skipped(address, f"{exc}; fix the quantity"))
            continue
        if unsized:
            skipped.append(
                Skipped(
                    address,
                    f"container(s) {', '.join(unsized)} set no resources.requests (nor limits): "
                    "add requests.cpu and requests.memory so its demand is known",
                )
            )
            continue
        demand = {"vcpu": cores * replicas, "mem_gib": gib * replicas, "storage_gb": storage}
        if replicas == 0 or not any(demand.values()):
            skipped.append(Skipped(address, "scaled to zero replicas: nothing to place"))
            continue
        groups[name] = address
        found.append(
            Found(
                address,
                address,
                name,
                "compute.k8s",
                "PaaS",
                demand,
                stateful=kind == "StatefulSet" or storage > 0,
                user_facing=any(name in targets for targets in front.values()),
                region=region,
            )
        )
    found += balancers  # after the workloads: `web` the pods, `web-lb` their balancer
    for claim_name, claim in claims.items():
        if claim_name not in mounted:
            address = f"PersistentVolumeClaim/{claim_name}"
            try:
                gb = _claim_gb(claim)
            except ValueError as exc:
                skipped.append(Skipped(address, f"{exc}; fix the quantity"))
                continue
            if gb > 0:
                found.append(
                    Found(
                        address,
                        address,
                        claim_name,
                        "storage.block",
                        "IaaS",
                        {"storage_gb": gb},
                        stateful=True,
                        region=region,
                    )
                )
            else:
                skipped.append(Skipped(address, "requests no storage size"))
    for f, d in docs:
        doc_kind = d.get("kind")
        if doc_kind in ("Deployment", "StatefulSet", "Service", "PersistentVolumeClaim"):
            continue
        reason = _NOT_WORKLOADS.get(str(doc_kind)) or (
            f"kind `{doc_kind}` is not read (Deployment, StatefulSet, Service, "
            "PersistentVolumeClaim are)"
            if doc_kind
            else f"no `kind` (in {f})"
        )
        skipped.append(Skipped(f"{doc_kind}/{_name(d)}", reason))
    # nothing calls a balancer, so its ties close no loop
    calls = [
        Call(balancer, groups[name], BALANCER_LATENCY_MS)
        for balancer, targets in front.items()
        for name in targets
        if name in groups
    ]
    calls += [Call(a, b) for a, b in _dependencies(workloads, services, groups)]
    return finish_import(
        found,
        skipped,
        calls,
        tool="kubernetes",
        source=source,
        app=app,
        description=f"Imported from the Kubernetes manifests {source}.",
        regions=regions,
        max_latency_ms=max_latency_ms,
        nothing="no workload could be sized",
        fix="give the Deployments and StatefulSets resources.requests",
        header=[f"Read for names and dependencies only: {', '.join(named)}."] if named else [],
        assumed_last=[]
        if region is not None
        else ["no --region given: the spec has no user groups (users: [])"],
    )


def _dependencies(
    workloads: list[tuple[str, dict[str, Any]]],
    services: list[tuple[str, dict[str, Any]]],
    groups: dict[str, str],
) -> list[tuple[str, str]]:
    """(caller group, callee group) for every workload whose environment names a Service that
    selects another workload (`build_spec` drops a pair that would close a loop)."""
    pairs: list[tuple[str, str]] = []
    for _, w in workloads:
        caller = groups.get(_name(w))
        text = _env_text(_pod_spec(w))
        if caller is None or not text:
            continue
        for _, svc in services:
            if not re.search(rf"(?<![\w.-]){re.escape(_name(svc))}(?![\w-])", text):
                continue
            pairs += [
                (caller, groups[_name(t)])
                for _, t in workloads
                if _name(t) in groups and _selects(svc, t)
            ]
    return pairs
