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
4. Services are placed in dependency order (callees first). Services linked by latency budgets
   share one home jurisdiction (a resident member's, else the cheapest for the group), and a
   caller with a budget only considers regions that have a region of its callee within it, as a
   person would put an API next to its database. If nothing meets the budget the cheapest choice
   is taken anyway and the verifier reports the violation. A private site is only used while its
   capacity (vCPU, memory, storage) lasts, in that order of placement.
   A user-facing service in a surviving plan is placed instead so that every user group has two
   of its regions within the group's budget (losing one leaves one): greedily the region that
   serves the most groups still short, cheaper first, within one provider for `pair-one-cloud`.
5. The strategy is the service's own `dr`, or active/active when it says `auto`.
6. With `max_providers: k` in the policy, each plan is drawn within one set of k providers, as a
   person would first pick the clouds: the three sets where each service's cheapest regions in
   two different providers of the set add up to least are tried, and the cheapest plan the
   verifier accepts is kept (else the cheapest).
7. The plan (placements, per-region fees, egress by the documented rule) is assembled with the
   planner's own plan tables and checked by `planner.analysis.verify.verify_plan` against the
   same spec. A plan that fails is reported as "not feasible for the policy", with its cost.
   The single-region plan is also checked against the spec with `survive: none`, to show it is a
   valid plan for that weaker policy.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from planner.analysis.verify import verify_plan
from planner.catalog import Catalog
from planner.catalog.columns import RESOURCES, SITE_CAPACITY
from planner.model.candidates import Candidates, build_candidates
from planner.plan import Plan, egress_for, fees_for, placements_from_units
from planner.spec import AppSpec

KINDS = ("single-region", "pair-one-cloud", "pair-two-clouds")
PROVIDER_SETS_TRIED = 3


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
        return {
            "kind": self.kind,
            "cost": self.cost,
            "feasible": self.feasible,
            "violations": len(self.violations),
            "first_violation": self.violations[0] if self.violations else "",
            "valid_without_survival": self.valid_without_survival,
            "seconds": self.seconds,
            "note": self.note,
        }


# ---------------------------------------------------------------- sizing in one region
def size_region(
    caps: np.ndarray, price: np.ndarray, fee: np.ndarray, category: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """Units per offering (rows of one region; `caps` is rows x RESOURCES) so that they cover the
    full `demand`, by the greedy rule of the module docstring, and their cost with fees; None if
    the region cannot cover it."""
    need = demand.astype(float).copy()
    tol = 1e-9 * (1.0 + demand)
    units = np.zeros(len(price), dtype=np.int64)
    fees: dict[str, float] = {}
    has = caps > 0
    while (need > tol).any():
        covers = has & (need > tol)
        count = covers.sum(axis=1)
        if count.max() == 0:
            return None
        ratio = np.where(covers, need / np.where(has, caps, 1.0), 0.0)
        n = np.ceil(np.round(ratio, 9)).max(axis=1)
        extra = np.array([0.0 if c in fees else f for c, f in zip(category, fee, strict=True)])
        cost = np.where(count == count.max(), price * n + extra, np.inf)
        i = int(np.argmin(cost))
        units[i] += int(n[i])
        if fee[i] > 0:
            fees[str(category[i])] = max(fees.get(str(category[i]), 0.0), float(fee[i]))
        need = need - n[i] * caps[i]
    return units, float((price * units).sum() + sum(fees.values()))


@dataclass
class _Option:
    region: str
    provider: str
    jurisdiction: str
    rows: np.ndarray  # candidate row labels
    units: np.ndarray
    cost: float
    held: dict[str, float]  # vCPU / memory / storage bought (for private capacity)


def _options(cands: Candidates, catalog: Catalog) -> dict[str, list[_Option]]:
    """Every region each service may use, sized for its full demand, cheapest first."""
    off = cands.offers[cands.offers["role"] == "primary"]
    jurisdiction = catalog.regions["jurisdiction"]
    out: dict[str, list[_Option]] = {}
    for s, g in off.groupby("service", sort=False):
        demand = cands.demand.loc[s, list(RESOURCES)].to_numpy(dtype=float)
        caps = g[list(RESOURCES)].to_numpy(dtype=float)
        price = g["usd_per_month"].to_numpy(dtype=float)
        fee = g["fixed_usd_per_month"].to_numpy(dtype=float)
        cat = g["category"].to_numpy()
        labels = g.index.to_numpy()
        opts = []
        for r, pos in g.groupby("region", sort=True).indices.items():
            sized = size_region(caps[pos], price[pos], fee[pos], cat[pos], demand)
            if sized is None:
                continue
            u, cost = sized
            held = {res: float((caps[pos][:, k] * u).sum()) for k, res in enumerate(RESOURCES)}
            opts.append(
                _Option(
                    r,
                    str(g["provider"].iloc[pos[0]]),
                    str(jurisdiction[r]),
                    labels[pos],
                    u,
                    cost,
                    held,
                )
            )
        out[s] = sorted(opts, key=lambda o: (o.cost, o.region))
    return out


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
        ready = [n for n in left if callees[n] <= placed] or left[:1]
        for n in ready:
            done.append(n)
            placed.add(n)
        left = [n for n in left if n not in placed]
    return done


def _homes(spec: AppSpec, options: dict[str, list[_Option]]) -> dict[str, str]:
    """One jurisdiction per group of services linked by latency budgets: that of a resident
    member, else the one where the members' cheapest regions add up to least (each with two
    regions there)."""
    graph = nx.Graph()
    graph.add_nodes_from(s.name for s in spec.services)
    graph.add_edges_from(
        (d.source, d.target) for d in spec.dependencies if d.max_latency_ms is not None
    )
    home: dict[str, str] = {}
    for group in nx.connected_components(graph):
        if len(group) < 2:
            continue
        forced = {j for s in group for j in spec.service(s).residency}
        if len(forced) == 1:
            choice = forced.pop()
        elif forced:
            continue  # members resident in different places: no single home
        else:
            best = None
            for j in sorted({o.jurisdiction for s in group for o in options.get(s, [])}):
                per = [[o for o in options.get(s, []) if o.jurisdiction == j] for s in group]
                if any(len(p) < 2 for p in per):
                    continue
                total = sum(p[0].cost for p in per)
                if best is None or total < best[0]:
                    best = (total, j)
            if best is None:
                continue
            choice = best[1]
        for s in group:
            home[s] = choice
    return home


# ---------------------------------------------------------------- the hand plans
def _choose(kind: str, opts: list[_Option]) -> list[_Option] | None:
    """Regions for one service from its usable options (cheapest first)."""
    if not opts:
        return None
    if kind == "single-region":
        return opts[:1]
    per_provider: dict[str, list[_Option]] = {}
    for o in opts:
        per_provider.setdefault(o.provider, []).append(o)
    if kind == "pair-one-cloud":
        pairs = [p[:2] for p in per_provider.values() if len(p) >= 2]
    else:
        firsts = sorted((p[0] for p in per_provider.values()), key=lambda o: (o.cost, o.region))
        pairs = [firsts[:2]] if len(firsts) >= 2 else []
    if not pairs:
        return None
    return min(pairs, key=lambda p: (p[0].cost + p[1].cost, p[0].region, p[1].region))


def _near_users(
    service: str,
    chosen: list[_Option],
    opts: list[_Option],
    reach: dict[tuple[str, str], frozenset[str]],
    kind: str,
) -> list[_Option]:
    """Regions for a user-facing service: greedily the region that gives the most user groups
    still short of two regions within their budget one more (the cheaper first among equals),
    until none is short; within one provider for `pair-one-cloud` (the cheapest that covers),
    and topped up from `chosen` to at least two regions."""
    groups = [regions for (svc, _g), regions in sorted(reach.items()) if svc == service]

    def cover(pool: list[_Option]) -> tuple[list[_Option], bool]:
        out: list[_Option] = []
        while True:
            short = [g for g in groups if sum(o.region in g for o in out) < 2]
            if not short:
                return out, True
            gain = [
                (sum(o.region in g for g in short), o)
                for o in pool
                if all(o.region != x.region for x in out)
            ]
            gain = [(k, o) for k, o in gain if k > 0]
            if not gain:
                return out, False
            out.append(min(gain, key=lambda ko: (-ko[0], ko[1].cost, ko[1].region))[1])

    pools = [opts]
    if kind == "pair-one-cloud":
        providers = sorted({o.provider for o in opts})
        pools = [[o for o in opts if o.provider == p] for p in providers] + [opts]
    tries = [cover(pool) for pool in pools]
    done = [out for out, ok in tries if ok]
    best = min(done, key=lambda out: sum(o.cost for o in out)) if done else tries[-1][0]
    for o in chosen:
        if len(best) >= 2:
            break
        if all(o.region != x.region for x in best):
            best.append(o)
    return best


def hand_plan(
    kind: str,
    spec: AppSpec,
    catalog: Catalog,
    cands: Candidates | None = None,
    options: dict[str, list[_Option]] | None = None,
) -> Baseline:
    """One hand-drawn plan of `kind` (see KINDS), verified."""
    if kind not in KINDS:
        raise ValueError(f"unknown baseline {kind}: use one of {', '.join(KINDS)}")
    start = time.perf_counter()
    cands = cands if cands is not None else build_candidates(spec, catalog)
    options = options if options is not None else _options(cands, catalog)
    home = _homes(spec, options)
    sites = catalog.sites
    left = {
        r: {res: float(sites.at[r, col]) for res, col in SITE_CAPACITY.items()} for r in sites.index
    }
    budgets: dict[str, list[tuple[str, float]]] = {}
    for d in spec.dependencies:
        if d.max_latency_ms is not None:
            budgets.setdefault(d.source, []).append((d.target, d.max_latency_ms))
    rtt, pos = catalog.latency_ms, catalog.region_pos
    where: dict[str, list[str]] = {}
    units: dict[int, int] = {}
    strategies: dict[str, str] = {}
    missing: list[str] = []
    relaxed: list[str] = []
    for s in _topological(spec):
        svc = spec.service(s)
        strategies[s] = svc.dr if svc.dr != "auto" else "active_active"

        def fits(o: _Option) -> bool:
            return o.region not in left or all(
                o.held[res] <= left[o.region][res] + 1e-9 for res in SITE_CAPACITY
            )

        def near(o: _Option, s: str = s) -> bool:
            return all(
                any(rtt[pos[o.region], pos[t]] <= budget for t in where[target])
                for target, budget in budgets.get(s, [])
                if target in where
            )

        usable = [o for o in options.get(s, []) if fits(o)]
        at_home = [o for o in usable if s not in home or o.jurisdiction == home[s]]
        chosen = _choose(kind, [o for o in at_home if near(o)])
        if chosen is None:  # no choice meets the latency budgets: take the cheapest, and say so
            chosen = _choose(kind, at_home) or _choose(kind, usable)
            if chosen is not None and budgets.get(s):
                relaxed.append(s)
        if chosen is None:
            missing.append(s)
            continue
        if kind != "single-region" and svc.user_facing:
            chosen = _near_users(s, chosen, at_home or usable, cands.user_reach, kind)
        where[s] = [o.region for o in chosen]
        for o in chosen:
            units.update({int(i): int(n) for i, n in zip(o.rows, o.units, strict=True) if n > 0})
            if o.region in left:
                for res in SITE_CAPACITY:
                    left[o.region][res] -= o.held[res]
    if missing:
        what = "region" if kind == "single-region" else "region pair"
        return Baseline(
            kind,
            None,
            False,
            [f"no {what} for {len(missing)} services, e.g. {missing[0]}"],
            seconds=time.perf_counter() - start,
            note=f"cannot draw: no {what} for some services",
        )
    placements = placements_from_units(units, cands.offers, strategies)
    plan = Plan(
        spec,
        placements,
        strategies,
        fees_for(placements, catalog),
        egress_for(placements, spec, catalog),
        bound=None,
        method=f"hand:{kind}",
        solver="none",
    )
    report = verify_plan(plan, catalog)
    plan.verification = report
    out = Baseline(kind, plan.objective, report.ok, list(report.violations), plan=plan)
    if kind == "single-region":
        weaker = spec.with_policy(survive="none")
        weak_plan = Plan(
            weaker,
            placements,
            strategies,
            plan.fees,
            plan.traffic,
            method=plan.method,
            solver="none",
        )
        out.valid_without_survival = verify_plan(weak_plan, catalog).ok
    out.seconds = time.perf_counter() - start
    notes = []
    if not report.ok:
        notes.append("not feasible for the policy")
    if relaxed:
        notes.append(f"{len(relaxed)} services placed without meeting their latency budget")
    out.note = "; ".join(notes)
    return out


def provider_sets(spec: AppSpec, options: dict[str, list[_Option]]) -> list[tuple[str, ...] | None]:
    """The sets of providers to draw within under `max_providers` (rule 6), cheapest first by
    the sum of each service's cheapest region in the set; [None] when there is no such limit."""
    k = spec.policy.max_providers
    providers = sorted({o.provider for opts in options.values() for o in opts})
    if k is None or len(providers) <= k:
        return [None]

    def estimate(chosen: tuple[str, ...]) -> float:
        # each service's cheapest regions in two different providers of the set (inf: none)
        total = 0.0
        for opts in options.values():
            firsts: dict[str, float] = {}
            for o in opts:
                if o.provider in chosen and o.provider not in firsts:
                    firsts[o.provider] = o.cost
            total += sum(sorted(firsts.values())[:2]) if len(firsts) >= 2 else math.inf
        return total

    ranked = sorted(itertools.combinations(providers, k), key=lambda c: (estimate(c), c))
    return list(ranked[:PROVIDER_SETS_TRIED])


def _within(options: dict[str, list[_Option]], chosen: tuple[str, ...] | None) -> dict:
    if chosen is None:
        return options
    return {s: [o for o in opts if o.provider in chosen] for s, opts in options.items()}


def hand_baselines(
    spec: AppSpec, catalog: Catalog, cands: Candidates | None = None
) -> list[Baseline]:
    """All three hand-drawn plans (regions sized once, shared)."""
    start = time.perf_counter()
    cands = cands if cands is not None else build_candidates(spec, catalog)
    options = _options(cands, catalog)
    shared = time.perf_counter() - start
    sets = provider_sets(spec, options)
    out = []
    for kind in KINDS:
        drawn = []
        for chosen in sets:
            b = hand_plan(kind, spec, catalog, cands, _within(options, chosen))
            if chosen is not None:
                b.note = "; ".join(x for x in (f"within {', '.join(chosen)}", b.note) if x)
            drawn.append(b)
        # the cheapest accepted plan, else the cheapest drawn; the time is that of all tries
        best = min(drawn, key=lambda b: (not b.feasible, b.cost is None, b.cost or 0.0))
        best.seconds = sum(b.seconds for b in drawn)
        out.append(best)
    for b in out:
        b.seconds += shared / len(out)
    return out
