"""Independent check of a plan's traffic table (docs/model.md section 5): every flow the spec
implies is there with its declared volume, leaves a region allowed to send it, and is priced at
the catalog's rate; the verifier's cost is the sum of these checked flows.

It reads the flows the plan reports rather than routing them again, so it shares no code with
`planner.traffic` or the model: it checks the rules a routing must meet, not how one was found.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import RESOURCES, SINGLE_WRITER_CATEGORIES, main_resource

if TYPE_CHECKING:
    from ..plan import Plan

TOL = 1e-6


def check_traffic(plan: Plan, catalog: Catalog) -> tuple[list[str], float]:
    """(violations, the monthly cost of the flows at the catalog's rates)."""
    spec, flows = plan.spec, plan.traffic
    out: list[str] = []
    if flows is None or not len(flows):
        flows = pd.DataFrame(
            columns=["kind", "service", "flow", "source_region", "destination", "gb_per_month"]
        )
    held = _held(plan.placements, spec)
    rate = [
        catalog.internet_rate(src) if dst == "internet" else catalog.egress_rate(src, dst)
        for src, dst in zip(flows["source_region"], flows["destination"], strict=True)
    ]
    cost = float((flows["gb_per_month"].to_numpy(dtype=float) * rate).sum()) if len(flows) else 0.0
    out += _internet_flows(plan, catalog, flows, held)
    out += _dependency_flows(plan, catalog, flows, held)
    out += _replication_flows(plan, flows)
    return out, cost


def _held(placements: pd.DataFrame, spec: object) -> dict[str, dict[str, float]]:
    """Service -> region -> capacity held in its main resource (serving rows, not backups)."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    p = placements[placements["role"] != "backup"]
    for svc in spec.services:  # type: ignore[attr-defined]
        res = main_resource(svc.demand.as_dict())
        mine = p[p["service"] == svc.name]
        per_region = (mine[res] * mine["units"]).groupby(mine["region"]).sum()
        out[svc.name] = {r: float(c) for r, c in per_region.items() if c > 0}
    return out


def _volume_by(flows: pd.DataFrame, kind: str, keys: list[str]) -> pd.Series:
    mine = flows[flows["kind"] == kind]
    return mine.groupby(keys)["gb_per_month"].sum() if len(mine) else pd.Series(dtype=float)


def _internet_flows(
    plan: Plan, catalog: Catalog, flows: pd.DataFrame, held: dict[str, dict[str, float]]
) -> list[str]:
    """Each group gets its share of a service's internet traffic, from regions where the service
    runs (within the group's budget when it has one), each region at most its capacity share."""
    out: list[str] = []
    spec = plan.spec
    mine = flows[flows["kind"] == "internet"]
    for svc in spec.services:
        volume = svc.internet_gb_per_month
        rows = mine[mine["service"] == svc.name]
        where = held.get(svc.name, {})
        if volume <= 0 or not where:
            if len(rows):
                out.append(f"{svc.name}: internet traffic billed but none declared or running")
            continue
        if not len(rows):
            continue  # global SaaS: the vendor's traffic is in its price (checked by the bill)
        groups = (
            {u.name: u for u in spec.users}
            if svc.user_facing and spec.users
            else {"all users": None}
        )
        for g, u in groups.items():
            sent = rows[rows["flow"] == g]
            want = volume * (u.share if u is not None else 1.0)
            if abs(float(sent["gb_per_month"].sum()) - want) > TOL * (1 + want):
                out.append(
                    f"{svc.name}: users in {g} receive {sent['gb_per_month'].sum():,.2f} GB of "
                    f"internet traffic, the spec implies {want:,.2f}"
                )
            if u is None:
                continue
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            reach = [r for r in where if rtt[r] <= u.max_latency_ms + TOL]
            far = sorted(set(sent["source_region"]) - set(reach)) if reach else []
            if far:
                out.append(f"{svc.name}: users in {g} served from {far}, beyond their budget")
        d = svc.demand.as_dict()[main_resource(svc.demand.as_dict())]
        for r, gb in rows.groupby("source_region")["gb_per_month"].sum().items():
            limit = volume * where.get(str(r), 0.0) / d
            if gb > limit + TOL * (1 + limit):
                out.append(
                    f"{svc.name}: {r} sends {gb:,.2f} GB to users but holds capacity for "
                    f"{limit:,.2f}"
                )
    return out


def _dependency_flows(
    plan: Plan, catalog: Catalog, flows: pd.DataFrame, held: dict[str, dict[str, float]]
) -> list[str]:
    """Each dependency's request and reply volumes are the declared ones, sent between regions
    where each side runs (to a region holding the callee's whole demand when it is a single
    writer), each caller region at most its capacity share."""
    out: list[str] = []
    spec = plan.spec
    demand = {s.name: s.demand.as_dict() for s in spec.services}
    p = plan.placements[plan.placements["role"] != "backup"]
    for dep in spec.dependencies:
        name = f"{dep.source}->{dep.target}"
        for kind, volume, sender, receiver in (
            ("dependency", dep.gb_per_month, dep.source, dep.target),
            ("reply", dep.reply_gb_per_month, dep.target, dep.source),
        ):
            rows = flows[(flows["kind"] == kind) & (flows["flow"] == name)]
            got = float(rows["gb_per_month"].sum())
            both_run = bool(held.get(dep.source)) and bool(held.get(dep.target))
            if volume > 0 and both_run and abs(got - volume) > TOL * (1 + volume):
                out.append(f"{name}: {kind} traffic {got:,.2f} GB, declared {volume:,.2f}")
            bad_src = set(rows["source_region"]) - set(held.get(sender, {}))
            bad_dst = set(rows["destination"]) - set(held.get(receiver, {}))
            if bad_src or bad_dst:
                out.append(f"{name}: {kind} traffic between regions where the services do not run")
        requests = flows[(flows["kind"] == "dependency") & (flows["flow"] == name)]
        d = demand[dep.source][main_resource(demand[dep.source])]
        volume = dep.gb_per_month
        for r, gb in requests.groupby("source_region")["gb_per_month"].sum().items():
            limit = volume * held.get(dep.source, {}).get(str(r), 0.0) / d
            if gb > limit + TOL * (1 + limit):
                out.append(f"{name}: {r} sends {gb:,.2f} GB but holds capacity for {limit:,.2f}")
        callee = next(s for s in spec.services if s.name == dep.target)
        if len(requests) and _single_writer(plan, catalog, dep.target):
            need = {res: v for res, v in callee.demand.as_dict().items() if v > 0}
            need.pop("storage_gb", None)
            mine = p[p["service"] == dep.target]
            totals = mine[list(RESOURCES)].mul(mine["units"], axis=0).groupby(mine["region"]).sum()
            whole = {
                str(r)
                for r, row in totals.iterrows()
                if all(row[res] >= v - TOL * (1 + v) for res, v in need.items())
            }
            if not set(requests["destination"]) <= whole:
                out.append(f"{name}: writes go to a region that is not {dep.target}'s primary")
    return out


def _single_writer(plan: Plan, catalog: Catalog, service: str) -> bool:
    """A stateful database or cache with a single-writer offering among its serving units."""
    svc = next(s for s in plan.spec.services if s.name == service)
    if not svc.stateful or svc.category not in SINGLE_WRITER_CATEGORIES:
        return False
    p = plan.placements
    mine = p[(p["service"] == service) & (p["role"] != "backup")]
    return bool(len(mine)) and bool(catalog.single_writer(mine["offering"]).any())


def _replication_flows(plan: Plan, flows: pd.DataFrame) -> list[str]:
    """Every region holding a copy of a stateful service's data, but one (its origin), receives
    the write rate from that origin."""
    out: list[str] = []
    rep = flows[flows["kind"] == "replication"]
    for svc in plan.spec.services:
        w = svc.write_gb_per_month
        if w <= 0:
            continue
        copies = set(plan.placements.loc[plan.placements["service"] == svc.name, "region"])
        rows = rep[rep["service"] == svc.name]
        origins = set(rows["source_region"])
        if len(copies) <= 1:
            continue
        if len(origins) != 1 or not origins <= copies:
            out.append(f"{svc.name}: replication must start from one region holding its data")
            continue
        origin = next(iter(origins))
        got = rows.groupby("destination")["gb_per_month"].sum()
        for r in sorted(copies - {origin}):
            if abs(float(got.get(r, 0.0)) - w) > TOL * (1 + w):
                out.append(f"{svc.name}: its copy in {r} must receive {w:,.2f} GB of writes")
    return out
