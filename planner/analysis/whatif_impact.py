"""What one failure does to a plan.

:func:`evaluate_failure` takes a plan, the catalog and a :class:`~.whatif_failures.Failure` and
returns a :class:`FailureImpact`: per service whether it keeps running, runs degraded, recovers
(relaunches from its data within its strategy's RTO) or goes down (by its own rules or through
its hard dependencies), with the capacity before and after, the shortfall and the RTO/RPO its
strategy gives; per user group and user-facing service the latency before and after against the
budget, the group's share, the capacity it can count on within its budget and whether it is
served; per dependency with a latency budget the worst latency from the caller's regions to the
callee's, before and after; the change in egress once traffic is served from the survivors; and
a summary of all that.

The failure is evaluated by :func:`planner.analysis.failure.evaluate`, with normal operation
beside it for the "before" columns: the same function the sweep and the verifier call, so the
three agree by construction. This module turns its arrays into readable tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import RESOURCES
from .failure import (
    DOWN,
    OK,
    RECOVERING,
    STATUS,
    Evaluation,
    FailureTables,
    dependency_cycle_error,
    evaluate,
    failure_batch,
    fair_parts,
    growth_note,
    normal_operation,
    running_where,
    stack,
)
from .whatif_failures import Failure, spared_services

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan

__all__ = [
    "FailureImpact",
    "FailureSummary",
    "dependency_cycle_error",
    "evaluate_failure",
]


class FailureSummary(TypedDict):
    """The impact in a few numbers (JSON-ready: strings, numbers, lists of strings)."""

    failure: str
    scope: str
    regions_down: list[str]  # regions of the plan the failure takes down
    services_down: int
    services_recovering: int
    services_degraded: int
    survived: bool  # no service down
    users_affected: list[str]  # user groups not served by some user-facing service
    dependencies_out_of_budget: int  # budgeted dependencies some serving caller region now misses
    failover_egress_usd_per_month: float
    notes: list[str]


@dataclass
class FailureImpact:
    failure: Failure
    # service, status, reason, capacity_before, capacity_after, resource, shortfall, strategy,
    # rto_minutes, rpo_minutes, note (capacities and shortfall in the service's main resource)
    services: pd.DataFrame
    # group, service, before_ms, after_ms, budget_ms, within_budget, share,
    # capacity_within_budget, served (see `_user_table`)
    users: pd.DataFrame
    failover_egress_usd_per_month: float
    summary: FailureSummary
    # caller, callee, before_ms, after_ms, budget_ms, out_of_budget: one row per dependency with a
    # latency budget (see `_dependency_table`)
    dependencies: pd.DataFrame = field(default_factory=pd.DataFrame)


_USER_COLUMNS = [
    "group",
    "service",
    "before_ms",
    "after_ms",
    "budget_ms",
    "within_budget",
    "share",
    "capacity_within_budget",
    "served",
]
_DEPENDENCY_COLUMNS = ["caller", "callee", "before_ms", "after_ms", "budget_ms", "out_of_budget"]
_BEFORE, _AFTER = 0, 1  # the rows of the evaluation: normal operation, then the failure


def _own_note(t: FailureTables, ev: Evaluation, j: int, st: pd.Series) -> str:
    """Why the service has its own status after the failure (empty when it is untouched)."""
    own = int(ev.own_status[_AFTER, j])
    name, demand = str(st.name), float(t.demand[j, t.main[j]])
    short = ev.short[_AFTER, j]
    if own == DOWN:
        if short[RESOURCES.index("storage_gb")]:
            left = float(ev.have[_AFTER, j, RESOURCES.index("storage_gb")])
            if left <= 0:
                return "no surviving copy of its data"
            return f"{left:g} GB of its data survive, {name} keeps {st['data_fraction']:.0%}"
        if short.any():
            return f"less than the {st['compute_fraction']:.0%} of demand {name} keeps running"
        if ev.growth_fails[_AFTER, j]:
            return (
                "cannot grow back to its demand: it runs in no public region that survives "
                "and the private capacity it holds is short"
            )
        return (
            f"single writer: no region left holds the {st['compute_fraction']:.0%} of its "
            "demand a promoted primary needs"
        )
    if own == RECOVERING:
        return (
            f"relaunches from its data ({name}, RTO {st['rto_minutes']:g} min, "
            f"RPO {st['rpo_minutes']:g} min)"
        )
    if own != OK:
        after = float(ev.main_left[_AFTER, j])
        return (
            f"{after / demand:.0%} of demand left; scales up ({name}, "
            f"RTO {st['rto_minutes']:g} min)"
        )
    return ""


def _service_table(
    plan: Plan, catalog: Catalog, t: FailureTables, ev: Evaluation, failure: Failure
) -> pd.DataFrame:
    rows = []
    main_names = [RESOURCES[m] for m in t.main]
    for j, name in enumerate(t.services):
        st = catalog.strategies.loc[plan.strategies[name]]
        touched = bool(ev.touched[_AFTER, j])
        status = STATUS[int(ev.status[_AFTER, j])]
        note = _own_note(t, ev, j, st)
        cp_down = failure.control_plane and bool(st["control_plane_dependent"])
        if touched and cp_down and status != "ok":
            note = (
                f"{st.name} must launch or scale capacity, but the control plane is down: "
                "recovery waits for the incident to end"
            )
        if ev.control_plane_note[_AFTER, j]:
            note = "; ".join(x for x in (note, growth_note(t, ev, _AFTER, j)) if x)
        demand = float(t.demand[j, t.main[j]])
        after = float(ev.main_left[_AFTER, j])
        rows.append(
            {
                "service": name,
                "status": status,
                "reason": "",
                "capacity_before": float(ev.main_left[_BEFORE, j]),
                "capacity_after": after,
                "resource": main_names[j],
                "shortfall": max(0.0, demand - after),
                "strategy": str(st.name),
                "rto_minutes": float(st["rto_minutes"]) if touched else 0.0,
                "rpo_minutes": float(st["rpo_minutes"]) if touched else 0.0,
                "note": note,
            }
        )
    table = pd.DataFrame(rows)
    _dependency_reasons(plan, t, ev, table)
    return table


def _dependency_reasons(plan: Plan, t: FailureTables, ev: Evaluation, table: pd.DataFrame) -> None:
    """A service down (recovering) only because of what it calls says which callees."""
    position = {s: i for i, s in enumerate(t.services)}
    callees: dict[int, list[int]] = {}
    for d in plan.spec.dependencies:
        callees.setdefault(position[d.source], []).append(position[d.target])
    for j in range(len(t.services)):
        if ev.status[_AFTER, j] != ev.own_status[_AFTER, j] and ev.status[_AFTER, j] >= RECOVERING:
            bad = dict.fromkeys(
                t.services[c] for c in callees.get(j, []) if ev.status[_AFTER, c] >= RECOVERING
            )
            table.at[j, "reason"] = f"depends on {', '.join(bad)}"


def _nearest(rtt: np.ndarray, where: np.ndarray) -> float:
    return float(rtt[where].min()) if where.any() else math.inf


def _user_table(t: FailureTables, ev: Evaluation) -> pd.DataFrame:
    """Per user-facing service and user group: the nearest region running it before and after
    (infinite after when the service is down or recovering), whether that is within the budget,
    the group's share, the capacity it can count on within its budget (its fair part, see
    `failure.fair_parts`; NaN for global SaaS, served by its vendor) and whether it is served."""
    u = t.users
    where = running_where(t, ev)
    fair = fair_parts(t, ev, _AFTER, t.alpha)
    rows = []
    for j, s in enumerate(u.services.tolist()):
        up = ev.status[_AFTER, s] < RECOVERING
        for g, group in enumerate(u.groups):
            after = _nearest(u.rtt[g], where[_AFTER, s]) if up else math.inf
            rows.append(
                {
                    "group": group,
                    "service": t.services[s],
                    "before_ms": _nearest(u.rtt[g], where[_BEFORE, s]),
                    "after_ms": after,
                    "budget_ms": float(u.budget[g]),
                    "within_budget": bool(after <= u.budget[g] + 1e-6),
                    "share": float(u.share[g]),
                    "capacity_within_budget": float(fair[j, g]) if u.tested[j] else math.nan,
                    "served": bool(ev.served[_AFTER, j, g]),
                }
            )
    return pd.DataFrame(rows, columns=_USER_COLUMNS)


def _dependency_table(t: FailureTables, ev: Evaluation) -> pd.DataFrame:
    """Per dependency with a latency budget: the worst, over the regions running the caller, of
    the nearest region running the callee, before and after the failure (after: from the caller's
    regions still running to the callee's). A caller that is down or recovering serves no calls:
    its latency after is unknown (NaN) and not out of budget, since it is counted as down."""
    dt = t.dependencies
    where = running_where(t, ev)

    def worst(d: int, caller: int, callee: int) -> float:
        nearest = [_nearest(dt.rtt[r], where[d, callee]) for r in np.flatnonzero(where[d, caller])]
        return max(nearest, default=0.0)

    rows = []
    for k in range(len(dt.index)):
        caller, callee = int(dt.caller[k]), int(dt.callee[k])
        serving = ev.status[_AFTER, caller] < RECOVERING
        rows.append(
            {
                "caller": t.services[caller],
                "callee": t.services[callee],
                "before_ms": worst(_BEFORE, caller, callee),
                "after_ms": worst(_AFTER, caller, callee) if serving else math.nan,
                "budget_ms": float(dt.budget[k]),
                "out_of_budget": bool(ev.dependencies_out[_AFTER, k]),
            }
        )
    return pd.DataFrame(rows, columns=_DEPENDENCY_COLUMNS)


def _summary(
    failure: Failure,
    plan: Plan,
    services: pd.DataFrame,
    users: pd.DataFrame,
    dependencies: pd.DataFrame,
    egress: float,
) -> FailureSummary:
    return {
        "failure": failure.label,
        "scope": failure.scope,
        "regions_down": sorted(failure.regions & set(plan.placements["region"])),
        "services_down": int((services["status"] == "down").sum()),
        "services_recovering": int((services["status"] == "recovering").sum()),
        "services_degraded": int((services["status"] == "degraded").sum()),
        "survived": bool((services["status"] != "down").all()),
        "users_affected": sorted(set(users.loc[~users["served"], "group"])) if len(users) else [],
        "dependencies_out_of_budget": int(dependencies["out_of_budget"].sum())
        if len(dependencies)
        else 0,
        "failover_egress_usd_per_month": round(egress, 2),
        "notes": list(failure.notes),
    }


def evaluate_failure(plan: Plan, catalog: Catalog, failure: Failure) -> FailureImpact:
    """Impact of one failure on a plan (see module docstring)."""
    t = FailureTables.build(plan, catalog)
    ev = evaluate(t, stack(normal_operation(t), failure_batch(t, catalog, failure)))
    services = _service_table(plan, catalog, t, ev, failure)
    users = _user_table(t, ev)
    dependencies = _dependency_table(t, ev)
    egress = _failover_egress(
        plan, catalog, failure, spared_services(plan.placements, catalog, failure)
    )
    summary = _summary(failure, plan, services, users, dependencies, egress)
    return FailureImpact(failure, services, users, egress, summary, dependencies)


def _failover_egress(plan: Plan, catalog: Catalog, failure: Failure, spared: set[str]) -> float:
    """Extra egress per month once traffic is served from the survivors (negative: saves egress)."""
    from ..plan import egress_for

    p = plan.placements
    after = p[~p["region"].isin(failure.regions) | p["service"].isin(spared)]
    before = float(plan.traffic["usd_per_month"].sum()) if len(plan.traffic) else 0.0
    now = egress_for(after, plan.spec, catalog)
    return float(now["usd_per_month"].sum()) - before
