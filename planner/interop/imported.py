"""What the importers share: resources found in a source, grouped into spec services, written out
as a spec with a comment block that lists what was mapped, what was skipped and why, and what was
assumed.

Source regions and sizes become demand, never constraints: a service's capacity is the sum of its
resources' sizes, and the regions it ran in become user groups (where the users are), so the
planner stays free to move it to any provider that serves them within their latency budget.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import pandas as pd
import yaml

from ..catalog.columns import RESOURCES
from ..errors import InputError, Problem
from .defaults import BALANCER_LATENCY_MS, DEFAULT_MAX_LATENCY_MS

NAME_PATTERN = re.compile(r"[^A-Za-z0-9_\-]+")


@dataclass(frozen=True)
class Skipped:
    address: str  # the source's own name for it: `aws_vpc.main`, `ConfigMap/app-config`
    reason: str  # why it is not in the spec, and what to do if it should be


@dataclass(frozen=True)
class Found:
    """One source resource mapped to a share of a spec service."""

    address: str
    group: str  # resources with the same group form one service
    name: str  # the service name wanted for the group
    category: str
    tier: str
    demand: dict[str, float]
    stateful: bool = False
    user_facing: bool = False
    region: str | None = None  # canonical catalog region id, when the source says and it is known


@dataclass(frozen=True)
class Call:
    """A dependency between two groups of found resources, as the source shows it."""

    caller: str  # group
    callee: str  # group
    max_latency_ms: float | None = None  # set for a balancer and a backend it fronts


@dataclass
class ImportResult:
    """A spec built from a source: the data, and the text with its comment block."""

    spec: dict[str, Any]
    mapped: list[tuple[str, str]]  # (source address, spec service)
    skipped: list[Skipped]
    notes: list[str]  # assumptions the user should check
    source: str = ""
    tool: str = ""
    extra_header: list[str] = field(default_factory=list)

    def header(self) -> list[str]:
        lines = [
            f"Imported by `mcplan import {self.tool}` from {self.source}.",
            *self.extra_header,
            f"Mapped {len(self.mapped)} resource(s) to {len(self.spec['services'])} service(s):",
            *(f"  - {address} -> {service}" for address, service in self.mapped),
            f"Skipped {len(self.skipped)} resource(s):",
            *(f"  - {s.address}: {s.reason}" for s in self.skipped),
        ]
        if self.notes:
            lines += ["Assumptions (check them):", *(f"  - {n}" for n in self.notes)]
        lines.append(
            "Source regions and sizes are demand (user groups and capacity), not constraints; "
            "add `providers`, `residency` or policy limits by hand if the move must be bounded."
        )
        return lines

    def text(self) -> str:
        head = "\n".join(f"# {line}".rstrip() for line in self.header())
        body = yaml.safe_dump(self.spec, sort_keys=False, allow_unicode=True, width=100)
        return f"{head}\n{body}"


# a short word for a category, to tell apart services that share a source name (`web` the VMs and
# `web` the load balancer become `web` and `web-lb`)
CATEGORY_SUFFIX = {
    "compute.vm": "vm",
    "compute.k8s": "k8s",
    "db.relational": "db",
    "storage.object": "bucket",
    "storage.block": "disk",
    "network.lb": "lb",
    "cache": "cache",
}
# names modules give their one resource: the module's name says more
GENERIC_NAMES = {"this", "main", "default", "self", "primary"}


def service_name(wanted: str, taken: set[str], category: str = "") -> str:
    """A valid, unique (ignoring case) spec service name close to `wanted`."""
    base = NAME_PATTERN.sub("-", wanted).strip("-_")[:56] or "service"
    if not base[0].isalnum():
        base = f"s{base}"
    suffix = CATEGORY_SUFFIX.get(category)
    if base.lower() in taken and suffix and f"{base}-{suffix}".lower() not in taken:
        base = f"{base}-{suffix}"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name.lower())
    return name


def canonical_region(provider: str, raw: str | None, regions: pd.DataFrame | None) -> str | None:
    """The catalog's id of a provider's region as a source writes it (`ap-northeast-2`,
    `Korea Central`, `asia-northeast3-a` as a zone, `KR`), or None when the catalog has no such
    region."""
    if not raw or regions is None or not isinstance(raw, str):
        return None
    own = regions[regions["provider"] == provider]
    codes = {str(c).lower().replace(" ", ""): rid for rid, c in own["code"].items()}
    key = raw.lower().replace(" ", "")
    if key in codes:
        return codes[key]
    # a zone: drop its letter (AWS `ap-northeast-2a`) or its suffix (GCP `asia-northeast3-a`)
    for zone_cut in (re.sub(r"-[a-z]$", "", key), re.sub(r"[a-z]$", "", key)):
        if zone_cut in codes:
            return codes[zone_cut]
    return None


def _round(value: float) -> float | int:
    rounded = round(value, 3)
    return int(rounded) if float(rounded).is_integer() else rounded


def build_spec(
    app: str,
    description: str,
    found: list[Found],
    regions: pd.DataFrame | None,
    max_latency_ms: float = DEFAULT_MAX_LATENCY_MS,
    calls: list[Call] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, str]], list[str]]:
    """The spec data for the found resources: one service per group (demand summed, stateful or
    user-facing if any of its resources is), user groups at the source regions (shares by vCPU),
    and dependencies between groups. Returns (spec, mapped, notes)."""
    groups: dict[str, list[Found]] = defaultdict(list)
    for f in found:
        groups[f.group].append(f)
    taken: set[str] = set()
    names: dict[str, str] = {}
    services: list[dict[str, Any]] = []
    mapped: list[tuple[str, str]] = []
    for group, items in groups.items():
        first = items[0]
        name = service_name(first.name, taken, first.category)
        names[group] = name
        demand = {
            r: _round(sum(f.demand.get(r, 0.0) for f in items))
            for r in RESOURCES
            if sum(f.demand.get(r, 0.0) for f in items) > 0
        }
        service: dict[str, Any] = {
            "name": name,
            "category": first.category,
            "tiers": [first.tier],
            "demand": demand,
        }
        if any(f.stateful for f in items):
            service["stateful"] = True
        if any(f.user_facing for f in items):
            service["user_facing"] = True
        services.append(service)
        mapped += [(f.address, name) for f in items]

    notes: list[str] = []
    weight: dict[str, float] = defaultdict(float)
    for f in found:
        if f.region is not None:
            weight[f.region] += max(f.demand.get("vcpu", 0.0), 1.0)
    users = _user_groups(weight, regions, max_latency_ms)
    if users:
        notes.append(
            f"users are placed at the source regions ({', '.join(sorted(weight))}) with a "
            f"{max_latency_ms:g} ms budget to user-facing services (--max-latency-ms)"
        )
    spec: dict[str, Any] = {"app": app, "description": description}
    if users:
        spec["users"] = users
    spec["policy"] = {"survive": "region"}
    spec["services"] = services
    deps = _spec_dependencies(calls or [], names)
    if deps:
        spec["dependencies"] = deps
    return spec, mapped, notes


def finish_import(
    found: list[Found],
    skipped: list[Skipped],
    calls: list[Call],
    *,
    tool: str,
    source: str,
    app: str,
    description: str,
    regions: pd.DataFrame | None,
    max_latency_ms: float,
    nothing: str,
    fix: str,
    header: list[str],
    assumed_first: list[str] | None = None,
    assumed_last: list[str] | None = None,
) -> ImportResult:
    """What both importers end with: refused when nothing was found (`nothing` says what is
    missing, `fix` what to do; the first skipped resources say why), else the spec and its notes,
    the importer's own assumptions around those of the spec."""
    if not found:
        raise InputError(
            [
                Problem(
                    source,
                    "",
                    "",
                    f"{nothing} ({len(skipped)} skipped: "
                    + "; ".join(f"{s.address}: {s.reason}" for s in skipped[:3])
                    + ")",
                    fix=fix,
                )
            ]
        )
    spec, mapped, notes = build_spec(app, description, found, regions, max_latency_ms, calls)
    notes += _balancer_notes(found, calls, spec.get("dependencies", []))
    notes = [*(assumed_first or []), *notes, *(assumed_last or [])]
    return ImportResult(spec, mapped, skipped, notes, source, tool, header)


def _balancer_notes(
    found: list[Found], calls: list[Call], dependencies: list[dict[str, Any]]
) -> list[str]:
    """What was assumed of the load balancers: the budget to the backends found, and which
    balancers front nothing the source shows (the planner may then place them anywhere)."""
    notes: list[str] = []
    held = [d for d in dependencies if "max_latency_ms" in d]
    if held:
        pairs = ", ".join(f"{d['from']} -> {d['to']}" for d in held)
        notes.append(
            f"a load balancer stays within {BALANCER_LATENCY_MS:g} ms of each service it fronts "
            f"({pairs}): its region, or one in the same city; no traffic volume is known"
        )
    fronting = {c.caller for c in calls if c.max_latency_ms is not None}
    # one name per balancer, not per instance of it (`count`)
    alone = list(dict.fromkeys(f.group for f in found if f.category == "network.lb"))
    alone = [group for group in alone if group not in fronting]
    if alone:
        notes.append(
            f"no backend found for {', '.join(alone)}: add a dependency from its service to each "
            f"service it fronts, with max_latency_ms: {BALANCER_LATENCY_MS:g}, or the planner may "
            "place it far from them"
        )
    return notes


def _spec_dependencies(calls: list[Call], names: dict[str, str]) -> list[dict[str, Any]]:
    """The spec's dependencies: one per kept pair of groups, with the tightest budget any call
    of that pair sets."""
    budgets: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in calls:
        if c.max_latency_ms is not None:
            budgets[(c.caller, c.callee)].append(c.max_latency_ms)
    deps: list[dict[str, Any]] = []
    for a, b in acyclic([(c.caller, c.callee) for c in calls], names):
        dep: dict[str, Any] = {"from": names[a], "to": names[b]}
        if budgets[(a, b)]:
            dep["max_latency_ms"] = min(budgets[(a, b)])
        deps.append(dep)
    return deps


def acyclic(pairs: list[tuple[str, str]], known: Iterable[str]) -> list[tuple[str, str]]:
    """The (caller, callee) pairs between known groups, in order, without repeats, self-calls or
    a pair that would close a loop (the spec refuses cycles: the first pairs seen win)."""
    known = set(known)
    graph: nx.DiGraph = nx.DiGraph()
    kept: list[tuple[str, str]] = []
    for a, b in pairs:
        if a not in known or b not in known or a == b or (a, b) in kept:
            continue
        graph.add_edge(a, b)
        if nx.is_directed_acyclic_graph(graph):
            kept.append((a, b))
        else:
            graph.remove_edge(a, b)
    return kept


def _user_groups(
    weight: dict[str, float], regions: pd.DataFrame | None, max_latency_ms: float
) -> list[dict[str, Any]]:
    if not weight or regions is None:
        return []
    total = sum(weight.values())
    ordered = sorted(weight)
    shares = [round(weight[r] / total, 4) for r in ordered]
    shares[-1] = round(1.0 - sum(shares[:-1]), 4)  # the shares must add up to 1
    return [
        {
            "name": f"near {rid}",
            "lat": float(regions.at[rid, "lat"]),
            "lon": float(regions.at[rid, "lon"]),
            "share": share,
            "max_latency_ms": max_latency_ms,
        }
        for rid, share in zip(ordered, shares, strict=True)
        if share > 0
    ]
