"""What one failure does to a plan.

:func:`evaluate_failure` takes a plan, the catalog and a :class:`~.whatif_failures.Failure` and
returns a :class:`FailureImpact`: per service whether it keeps running, runs degraded, recovers
(relaunches from its data within its strategy's RTO) or goes down (also through its hard
dependencies), with the capacity before and after, the shortfall and the RTO/RPO its strategy
gives; per user group and user-facing service the latency before and after against the budget;
per dependency with a latency budget the worst latency from the caller's regions to the callee's,
before and after (the verifier's rule after a failure); the change in egress once traffic is
served from the survivors; and a summary of all that.

It is the readable, one-failure-at-a-time account of an outage, written row by row; the sweep
(:mod:`.whatif_sweep`) answers the same questions for every failure of a kind at once with
arrays, and the tests hold the two to the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import networkx as nx
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import main_resource
from ..errors import SpecError
from ..spec.model import dependency_cycle
from .whatif_failures import Failure, spared_services

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan
    from ..spec import AppSpec, Dependency, Service


class FailureSummary(TypedDict):
    """The impact in a few numbers (JSON-ready: strings, numbers, lists of strings)."""

    failure: str
    scope: str
    regions_down: list[str]  # regions of the plan the failure takes down
    services_down: int
    services_recovering: int
    services_degraded: int
    survived: bool  # no service down
    users_affected: list[str]  # user groups that lose a service within their latency budget
    dependencies_out_of_budget: int  # budgeted dependencies some serving caller region now misses
    failover_egress_usd_per_month: float
    notes: list[str]


@dataclass
class FailureImpact:
    failure: Failure
    # service, status, reason, capacity_before, capacity_after, resource, shortfall, strategy,
    # rto_minutes, rpo_minutes, note (capacities and shortfall in the service's main resource)
    services: pd.DataFrame
    users: pd.DataFrame  # group, service, before_ms, after_ms, budget_ms, within_budget
    failover_egress_usd_per_month: float
    summary: FailureSummary
    # caller, callee, before_ms, after_ms, budget_ms, out_of_budget: one row per dependency with a
    # latency budget (see `_dependency_table`)
    dependencies: pd.DataFrame = field(default_factory=pd.DataFrame)


_RANK = {"ok": 0, "degraded": 1, "recovering": 2, "down": 3}  # how bad a service's status is


def _capacity(plan: Plan) -> pd.DataFrame:
    p = plan.placements
    out = p[p["role"] != "backup"].copy()
    for res in ("vcpu", "mem_gib", "storage_gb", "requests_m", "users", "lb"):
        out[f"{res}_total"] = out[res] * out["units"]
    return out


def _status(
    demand: float,
    after: float,
    st: pd.Series,
    touched: bool,
    data_left: bool,
    present_after: bool,
) -> tuple[str, str]:
    """A service's own status after the failure, and why, from the capacity it has left (`after`
    of `demand`, in its main resource) and whether a copy of its data survives."""
    frac = float(st["compute_fraction"])  # what keeps serving; data is judged by surviving copies
    if not touched:
        return "ok", ""
    if not data_left:
        return "down", "no surviving copy of its data"
    if (frac > 0 and after + 1e-9 < frac * demand) or not present_after:
        return "down", f"less than the {frac:.0%} of demand {st.name} keeps running"
    if after + 1e-9 < max(frac * demand, 1e-9) or (frac == 0 and after <= 0):
        return "recovering", (
            f"relaunches from its data ({st.name}, RTO {st['rto_minutes']:g} min, "
            f"RPO {st['rpo_minutes']:g} min)"
        )
    if after + 1e-9 >= demand:
        return "ok", ""
    return "degraded", (
        f"{after / demand:.0%} of demand left; scales up ({st.name}, RTO {st['rto_minutes']:g} min)"
    )


def _service_row(
    svc: Service,
    st: pd.Series,
    cap: pd.DataFrame,
    backups: pd.DataFrame,
    failure: Failure,
    spared: set[str],
) -> dict[str, object]:
    """One service's row of the impact table, before its dependencies are taken into account.
    A spared service (global SaaS whose provider is still up) loses nothing."""
    lost = cap["region"].isin(failure.regions) & ~cap["service"].isin(spared)
    d = svc.demand.as_dict()
    res = main_resource(d)
    mine = cap["service"] == svc.name
    before = float(cap.loc[mine, f"{res}_total"].sum())
    after = float(cap.loc[mine & ~lost, f"{res}_total"].sum())
    touched = bool((mine & lost).any())
    data_left = True
    if d["storage_gb"] > 0:
        copies = cap.loc[
            mine & ~lost & (cap["storage_gb_total"] >= d["storage_gb"] - 1e-9), "region"
        ]
        bcopies = backups[
            (backups["service"] == svc.name) & ~backups["region"].isin(failure.regions)
        ]
        data_left = len(copies) > 0 or len(bcopies) > 0
    present_after = bool((mine & ~lost).any()) or (d["storage_gb"] > 0 and data_left)
    status, note = _status(d[res], after, st, touched, data_left, present_after)
    if touched and failure.control_plane and bool(st["control_plane_dependent"]) and status != "ok":
        note = (
            f"{st.name} must launch or scale capacity, but the control plane is down: "
            "recovery waits for the incident to end"
        )
    return {
        "service": svc.name,
        "status": status,
        "reason": "",
        "capacity_before": before,
        "capacity_after": after,
        "resource": res,
        "shortfall": max(0.0, d[res] - after),
        "strategy": st.name,
        "rto_minutes": 0.0 if not touched else float(st["rto_minutes"]),
        "rpo_minutes": 0.0 if not touched else float(st["rpo_minutes"]),
        "note": note,
    }


def _follow_dependencies(spec: AppSpec, services: pd.DataFrame) -> dict[str, str]:
    """Each service's status once its hard dependencies count: a service whose callee is down
    (recovering) is down (recovering) too. Updates `services` and returns the statuses."""
    own_status = dict(zip(services["service"], services["status"], strict=True))
    graph = nx.DiGraph([(d.source, d.target) for d in spec.dependencies])
    graph.add_nodes_from(own_status)
    effective = dict(own_status)
    try:
        callees_first = list(reversed(list(nx.topological_sort(graph))))
    except nx.NetworkXUnfeasible:
        raise dependency_cycle_error(spec.dependencies, spec.source) from None
    for s in callees_first:
        worst = max(
            (effective[t] for t in graph.successors(s)), key=_RANK.__getitem__, default="ok"
        )
        if _RANK[worst] >= _RANK["recovering"] and _RANK[worst] > _RANK[effective[s]]:
            effective[s] = worst
    for i, r in services.iterrows():
        if effective[r["service"]] != r["status"]:
            bad = [
                t
                for t in graph.successors(r["service"])
                if _RANK[effective[t]] >= _RANK["recovering"]
            ]
            services.at[i, "status"] = effective[r["service"]]
            services.at[i, "reason"] = f"depends on {', '.join(bad)}"
    return effective


def _user_table(
    spec: AppSpec,
    catalog: Catalog,
    cap: pd.DataFrame,
    failure: Failure,
    effective: dict[str, str],
    spared: set[str],
) -> pd.DataFrame:
    """Per user group and user-facing service: the nearest region running it before and after."""
    urows = []
    present = {s: set(g["region"]) for s, g in cap.groupby("service")}
    for svc in spec.services:
        if not svc.user_facing:
            continue
        for u in spec.users:
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            before = min((rtt[r] for r in present.get(svc.name, ())), default=math.inf)
            alive = present.get(svc.name, set())
            if svc.name not in spared:
                alive = alive - failure.regions
            after = min((rtt[r] for r in alive), default=math.inf)
            if effective[svc.name] in ("down", "recovering"):
                after = math.inf
            urows.append(
                {
                    "group": u.name,
                    "service": svc.name,
                    "before_ms": before,
                    "after_ms": after,
                    "budget_ms": u.max_latency_ms,
                    "within_budget": after <= u.max_latency_ms,
                }
            )
    return pd.DataFrame(
        urows, columns=["group", "service", "before_ms", "after_ms", "budget_ms", "within_budget"]
    )


_DEPENDENCY_COLUMNS = ["caller", "callee", "before_ms", "after_ms", "budget_ms", "out_of_budget"]


def _dependency_table(
    spec: AppSpec,
    catalog: Catalog,
    cap: pd.DataFrame,
    failure: Failure,
    effective: dict[str, str],
    spared: set[str],
) -> pd.DataFrame:
    """Per dependency with a latency budget: the worst, over the regions running the caller, of
    the nearest region running the callee, before and after the failure (after: from the caller's
    surviving regions to the callee's). A caller that is down or recovering serves no calls: its
    latency after is unknown (NaN) and not out of budget, since it is counted as down already."""
    present = {s: set(g["region"]) for s, g in cap.groupby("service")}

    def after(s: str) -> set[str]:
        regions = present.get(s, set())
        return regions if s in spared else regions - failure.regions

    def worst(callers: set[str], callees: set[str]) -> float:
        return max(
            (min((catalog.rtt_ms(r, t) for t in callees), default=math.inf) for r in callers),
            default=0.0,
        )

    rows = []
    for dep in spec.dependencies:
        if dep.max_latency_ms is None:
            continue
        before = worst(present.get(dep.source, set()), present.get(dep.target, set()))
        serving = effective.get(dep.source, "ok") not in ("down", "recovering")
        now = worst(after(dep.source), after(dep.target)) if serving else math.nan
        rows.append(
            {
                "caller": dep.source,
                "callee": dep.target,
                "before_ms": before,
                "after_ms": now,
                "budget_ms": dep.max_latency_ms,
                # the verifier's tolerance, so both judge a budget met at the same latencies
                "out_of_budget": serving and now > dep.max_latency_ms + 1e-6,
            }
        )
    return pd.DataFrame(rows, columns=_DEPENDENCY_COLUMNS)


def _summary(
    failure: Failure,
    cap: pd.DataFrame,
    services: pd.DataFrame,
    users: pd.DataFrame,
    dependencies: pd.DataFrame,
    egress: float,
) -> FailureSummary:
    return {
        "failure": failure.label,
        "scope": failure.scope,
        "regions_down": sorted(failure.regions & set(cap["region"])),
        "services_down": int((services["status"] == "down").sum()),
        "services_recovering": int((services["status"] == "recovering").sum()),
        "services_degraded": int((services["status"] == "degraded").sum()),
        "survived": bool((services["status"] != "down").all()),
        "users_affected": sorted(set(users.loc[~users["within_budget"], "group"]))
        if len(users)
        else [],
        "dependencies_out_of_budget": int(dependencies["out_of_budget"].sum())
        if len(dependencies)
        else 0,
        "failover_egress_usd_per_month": round(egress, 2),
        "notes": list(failure.notes),
    }


def evaluate_failure(plan: Plan, catalog: Catalog, failure: Failure) -> FailureImpact:
    """Impact of one failure on a plan (see module docstring)."""
    cap = _capacity(plan)
    backups = plan.placements[plan.placements["role"] == "backup"]
    strategies = catalog.strategies
    spared = spared_services(plan.placements, catalog, failure)
    services = pd.DataFrame(
        [
            _service_row(
                svc, strategies.loc[plan.strategies[svc.name]], cap, backups, failure, spared
            )
            for svc in plan.spec.services
        ]
    )
    effective = _follow_dependencies(plan.spec, services)
    users = _user_table(plan.spec, catalog, cap, failure, effective, spared)
    dependencies = _dependency_table(plan.spec, catalog, cap, failure, effective, spared)
    egress = _failover_egress(plan, catalog, failure, spared)
    summary = _summary(failure, cap, services, users, dependencies, egress)
    return FailureImpact(failure, services, users, egress, summary, dependencies)


def _failover_egress(plan: Plan, catalog: Catalog, failure: Failure, spared: set[str]) -> float:
    """Extra egress per month once traffic is served from the survivors (negative: saves egress)."""
    from ..plan import egress_for

    p = plan.placements
    after = p[~p["region"].isin(failure.regions) | p["service"].isin(spared)]
    before = float(plan.egress["usd_per_month"].sum()) if len(plan.egress) else 0.0
    now = egress_for(after, plan.spec, catalog)
    return float(now["usd_per_month"].sum()) - before


def dependency_cycle_error(dependencies: Sequence[Dependency], spec_file: str) -> SpecError:
    """The spec error for hard dependencies that loop back (a spec that skipped
    `check_against_catalog`, where the cycle is refused first)."""
    problem = dependency_cycle(dependencies, spec_file)
    assert problem is not None, "called only where a topological order failed"
    return SpecError([problem])
