"""Plans a person would draw by hand, priced from the catalog and checked by the planner's verifier.

Three hand-drawn plans, each chosen service by service:

* `single-region`: the cheapest single region, holding full demand, with no survival at all;
* `pair-one-cloud`: the cheapest two regions of one provider, each holding full demand;
* `pair-two-clouds`: the cheapest region of one provider plus the cheapest of another, each
  holding full demand.

The calculation, kept deliberately simple (what one would do in a spreadsheet):

1. The regions and offerings a service may use come from `planner.model.candidates.build_candidates`
   (category, tier, residency, provider rules), the same filter the optimiser starts from.
2. Sizing in one region ("full demand"): take the offering that covers the most of the service's
   still-uncovered resources, cheapest first (price x units, plus its per-region fee), buy
   `max(ceil(need / capacity))` units of it, subtract what it provides from every need, repeat
   until nothing is left. A region that cannot cover every demanded resource is skipped.
3. A region pair costs the sum of its two regions (both full: survives losing either).
4. Services are placed in dependency order (callees first). A caller with a latency budget only
   considers regions that have a region of its callee within the budget, as a person would put an
   API next to its database. A private site is only used while its capacity (vCPU, memory,
   storage) lasts, in that order of placement.
5. The strategy is the service's own `dr`, or active/active when it says `auto`.
6. The plan (placements, per-region fees, egress by the documented rule) is assembled with the
   planner's own plan tables and checked by `planner.analysis.verify.verify_plan` against the
   same spec. A plan that fails is reported as "not feasible for the policy", with its cost.
   The single-region plan is also checked against the spec with `survive: none`, to show it is a
   valid plan for that weaker policy.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from planner.analysis.verify import verify_plan
from planner.catalog import Catalog
from planner.catalog.columns import RESOURCES
from planner.model.candidates import Candidates, build_candidates
from planner.plan import Plan, egress_for, fees_for, placements_from_units
from planner.spec import AppSpec

KINDS = ("single-region", "pair-one-cloud", "pair-two-clouds")
_SITE_RES = (("vcpu", "vcpu_capacity"), ("mem_gib", "mem_gib_capacity"), ("storage_gb", "storage_gb_capacity"))


@dataclass
class Baseline:
    kind: str
    cost: float | None  # $/month of the hand plan (None: no plan could be drawn)
    feasible: bool  # passes verify_plan for the spec's own policy
    violations: list[str] = field(default_factory=list)
    valid_without_survival: bool | None = None  # single-region: passes with survive none
    seconds: float = 0.0
    note: str = ""
    plan: Plan | None = field(default=None, repr=False)

    def row(self) -> dict[str, Any]:
        return {"kind": self.kind, "cost": self.cost, "feasible": self.feasible,
                "violations": len(self.violations), "first_violation": self.violations[0] if self.violations else "",
                "valid_without_survival": self.valid_without_survival, "seconds": self.seconds,
                "note": self.note}


# ---------------------------------------------------------------- sizing in one region
def size_region(rows: pd.DataFrame, demand: dict[str, float]) -> tuple[dict[int, int], float] | None:
    """Units per candidate row so that `rows` (one region's offerings) cover the full demand, by
    the greedy rule of the module docstring; with its cost. None if the region cannot cover it."""
    need = {r: d for r, d in demand.items() if d > 0}
    units: dict[int, int] = {}
    fees: dict[str, float] = {}
    while need:
        best = None
        for i, row in rows.iterrows():
            covers = [r for r in need if float(row[r]) > 0]
            if not covers:
                continue
            n = max(math.ceil(round(need[r] / float(row[r]), 9)) for r in covers)
            fee = float(row["fixed_usd_per_month"]) if row["category"] not in fees else 0.0
            cost = float(row["usd_per_month"]) * n + fee
            key = (-len(covers), cost)
            if best is None or key < best[0]:
                best = (key, i, n, covers)
        if best is None:
            return None
        _, i, n, _ = best
        row = rows.loc[i]
        units[i] = units.get(i, 0) + n
        if float(row["fixed_usd_per_month"]) > 0:
            fees[row["category"]] = max(fees.get(row["category"], 0.0), float(row["fixed_usd_per_month"]))
        for r in list(need):
            need[r] -= n * float(row[r])
            if need[r] <= 1e-9 * (1 + demand[r]):
                del need[r]
    cost = sum(float(rows.at[i, "usd_per_month"]) * n for i, n in units.items()) + sum(fees.values())
    return units, cost


def _topological(spec: AppSpec) -> list[str]:
    """Callees before callers (spec order among equals; a cycle falls back to spec order)."""
    names = [s.name for s in spec.services]
    callees: dict[str, set[str]] = {n: set() for n in names}
    for d in spec.dependencies:
        callees[d.source].add(d.target)
    done: list[str] = []
    placed: set[str] = set()
    left = list(names)
    while left:
        ready = [n for n in left if callees[n] <= placed]
        if not ready:
            ready = left[:1]
        for n in ready:
            done.append(n)
            placed.add(n)
        left = [n for n in left if n not in placed]
    return done


# ---------------------------------------------------------------- the hand plans
def _choose(kind: str, options: dict[str, tuple[dict[int, int], float, str]]) -> list[str] | None:
    """Regions for one service: options maps region -> (units, cost, provider)."""
    if not options:
        return None
    by_cost = sorted(options, key=lambda r: (options[r][1], r))
    if kind == "single-region":
        return by_cost[:1]
    per_provider: dict[str, list[str]] = {}
    for r in by_cost:
        per_provider.setdefault(options[r][2], []).append(r)
    if kind == "pair-one-cloud":
        pairs = [regs[:2] for regs in per_provider.values() if len(regs) >= 2]
    else:
        firsts = sorted((regs[0] for regs in per_provider.values()), key=lambda r: (options[r][1], r))
        pairs = [firsts[:2]] if len(firsts) >= 2 else []
    if not pairs:
        return None
    return min(pairs, key=lambda p: (sum(options[r][1] for r in p), p))


def hand_plan(kind: str, spec: AppSpec, catalog: Catalog, cands: Candidates | None = None) -> Baseline:
    """One hand-drawn plan of `kind` (see KINDS), verified."""
    if kind not in KINDS:
        raise ValueError(f"unknown baseline {kind}: use one of {', '.join(KINDS)}")
    start = time.perf_counter()
    cands = cands if cands is not None else build_candidates(spec, catalog)
    off = cands.offers[cands.offers["role"] == "primary"]
    by_service = dict(tuple(off.groupby("service", sort=False)))
    sites = catalog.sites
    left = {r: {res: float(sites.at[r, col]) for res, col in _SITE_RES} for r in sites.index}
    budgets: dict[str, list[tuple[str, float]]] = {}
    for d in spec.dependencies:
        if d.max_latency_ms is not None:
            budgets.setdefault(d.source, []).append((d.target, d.max_latency_ms))
    where: dict[str, list[str]] = {}
    units: dict[int, int] = {}
    strategies: dict[str, str] = {}
    missing: list[str] = []
    for s in _topological(spec):
        svc = spec.service(s)
        strategies[s] = svc.dr if svc.dr != "auto" else "active_active"
        rows = by_service.get(s)
        if rows is None:
            missing.append(s)
            continue
        demand = svc.demand.as_dict()
        options: dict[str, tuple[dict[int, int], float, str]] = {}
        for r, g in rows.groupby("region", sort=True):
            near = all(any(catalog.rtt_ms(r, t) <= budget for t in where.get(target, []))
                       for target, budget in budgets.get(s, []) if target in where)
            if not near:
                continue
            sized = size_region(g, demand)
            if sized is None:
                continue
            u, cost = sized
            if r in left and any(sum(float(g.at[i, res]) * n for i, n in u.items()) > left[r][res] + 1e-9
                                 for res, _ in _SITE_RES):
                continue
            options[r] = (u, cost, str(g["provider"].iloc[0]))
        chosen = _choose(kind, options)
        if chosen is None:
            missing.append(s)
            continue
        where[s] = chosen
        for r in chosen:
            u = options[r][0]
            units.update(u)
            if r in left:
                for res, _ in _SITE_RES:
                    left[r][res] -= sum(float(off.at[i, res]) * n for i, n in u.items())
    if missing:
        what = "a region" if kind == "single-region" else "a region pair"
        return Baseline(kind, None, False, [f"no {what} for {len(missing)} services, e.g. {missing[0]}"],
                        seconds=time.perf_counter() - start, note=f"cannot draw: no {what} for some services")
    placements = placements_from_units(units, cands.offers, strategies)
    plan = Plan(spec, placements, strategies, fees_for(placements, catalog), egress_for(placements, spec, catalog),
                status="hand-drawn", bound=None, method=f"hand:{kind}", solver="none")
    report = verify_plan(plan, catalog)
    plan.verification = report
    out = Baseline(kind, plan.objective, report.ok, list(report.violations), plan=plan)
    if kind == "single-region":
        weaker = spec.model_copy(update={"policy": spec.policy.model_copy(update={"survive": "none"})})
        weak_plan = Plan(weaker, placements, strategies, plan.fees, plan.egress, status="hand-drawn",
                         method=plan.method, solver="none")
        out.valid_without_survival = verify_plan(weak_plan, catalog).ok
    out.seconds = time.perf_counter() - start
    if not report.ok:
        out.note = "not feasible for the policy"
    return out


def hand_baselines(spec: AppSpec, catalog: Catalog, cands: Candidates | None = None) -> list[Baseline]:
    cands = cands if cands is not None else build_candidates(spec, catalog)
    return [hand_plan(kind, spec, catalog, cands) for kind in KINDS]


def resources_of(plan: Plan) -> dict[str, float]:
    """Total capacity bought by a plan (for the report)."""
    p = plan.placements
    return {r: float((p[r] * p["units"]).sum()) for r in RESOURCES}
