"""The decomposed method as its sequence of stages, each a call into the module that does it.

Takes candidates, a deadline and the timings to fill in; returns a verified `Plan`, or raises
NoPlanError when none was verified in time (InfeasibleError comes from the stages). The stages,
each skipped once a plan is verified within the requested gap of the lower bound:

1. every service alone over the regions dominance keeps (`parts`): the union, and a lower bound;
2. an over-full private site repaired, private vCPU priced for a better bound (`private`);
3. groups tied by latency budgets seated within their budgets and bounded jointly (`latency`),
   then the neighbourhood search over dependencies (`neighbourhood`); the cheapest verified plan
   of those tried goes on;
4. with the gap still open, the coupled model warm-started from that plan (`coupled`).

Besides, costly dependencies are bounded as pairs, and `max_providers` is handled exactly: every
subset of providers bounded and planned, the later stages kept within the most promising one.
Every solve stops at a work limit, so the plan does not depend on the machine's speed; the
deadline is a safety net only.

This module decides only the order, how much work each stage may do, and what it reports; the
`Incumbent` (the best plan so far and the proven bound) is what passes from stage to stage.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import dataclass, field, replace

from ..catalog import Catalog
from ..errors import InfeasibleError, NoPlanError
from ..model.candidates import Candidates, prune_dominated
from ..plan import Plan
from .common import Placement, PlanOptions, assemble, say, where, zone_fragile
from .coupled import (
    COUPLED_NODES,
    COUPLED_NODES_PRUNED,
    COUPLED_NONZEROS,
    FULL_MODEL_LIMIT,
    CoupledTooLarge,
    pruned_regions,
    solve_coupled,
)
from .latency import GroupBounds, latency_groups, latency_violations, seat_latency_groups
from .neighbourhood import coordinate_locally
from .parts import (
    PART_NODES,
    PartResult,
    egress_floor,
    relaxed_block_bound,
    solve_block,
    solve_each,
)
from .private import lagrangian_bound, overfills_private, repair_private


@dataclass
class StandAlone:
    """Every service solved alone: the union of their units and strategies, each one's proven
    bound, the egress no placement avoids, the lower bound they make together (the bounds' sum
    plus that egress), and the summed size of their models."""

    units: dict[int, int]
    strategies: dict[str, str]
    service_bound: dict[str, float]
    floor: float
    bound: float
    size: dict[str, int]
    # (service, providers) -> its solve within them, for services solved by provider sets
    within: dict[tuple[str, frozenset[str]], PartResult | str | None] = field(default_factory=dict)
    # solver fallbacks that answered a stand-alone solve (see parts.fallback_if_error)
    notes: list[str] = field(default_factory=list)


@dataclass
class Incumbent:
    """The best plan so far, the units and strategies it was assembled from (where the next stage
    starts), and the proven lower bound on the cost of any plan."""

    plan: Plan
    units: dict[int, int]
    strategies: dict[str, str]
    bound: float


@dataclass
class _Run:
    """What every stage of one decomposed solve reads."""

    cands: Candidates
    pruned: Candidates
    catalog: Catalog
    options: PlanOptions
    deadline: float
    timings: dict[str, float]
    size: dict[str, int]  # of the stand-alone models, reported as the plan's model size
    # the candidates were narrowed to one set of providers (`_repair_providers`): a bound proven
    # over them holds for that set only, not for the whole problem
    narrowed: bool = False
    # the cheapest verified plan on other providers than those the run was narrowed to
    reserve: Incumbent | None = None

    def stop_at(self, verified: bool) -> float:
        """When a stage stops: at the time limit once a plan is verified, a little later (the
        grace) while none is."""
        return self.deadline if verified else self.deadline + FIRST_PLAN_GRACE_S

    @property
    def per_service_limit(self) -> float:
        """The wall-clock limit of one part's solve: the time left, a safety net only (parts stop
        at their work limits, `parts.PART_NODES`)."""
        return _time_left(self.deadline)

    def incumbent(
        self, units: dict[int, int], strategies: dict[str, str], bound: float
    ) -> Incumbent:
        """The verified plan these units and strategies make, with `bound` as its lower bound."""
        plan = assemble(
            self.cands,
            self.catalog,
            units,
            strategies,
            bound,
            "decomposed",
            self.options.solver,
            self.size,
            self.options.gap,
        )
        return Incumbent(plan, units, strategies, bound)


# The steps to a first verified plan (the stand-alone solves, the provider sets, the seating) may
# run this long past the time limit when no plan is verified yet: a tiny limit still gets a plan
# where one comes in moments, and the limit still holds within a few seconds (issue 19: a
# comparison of methods, and the user's wait, count on it). The search for a better plan stops at
# the limit itself.
FIRST_PLAN_GRACE_S = 5.0


def _time_left(deadline: float) -> float:
    """Seconds to the deadline (at least one): the safety net given to each solve, whose own work
    limit decides where it stops so that the plan does not depend on the machine's speed."""
    return max(1.0, deadline - time.perf_counter())


def solve_decomposed(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    deadline: float,
    timings: dict[str, float],
) -> Plan:
    """The decomposed method's stages, in order (see the module docstring)."""
    pruned = _prune(cands, options, timings)
    alone = _solve_alone(cands, pruned, catalog, options, deadline, timings)
    run = _Run(cands, pruned, catalog, options, deadline, timings, alone.size)
    plan = _improve(run, alone)
    plan.notes.extend(note for note in alone.notes if note not in plan.notes)
    late = time.perf_counter() > deadline
    if late and not plan.time_limited and plan.status != "optimal":
        # some stage may have stopped at the limit (the provider sets, the seating, the search)
        # and another run, on a machine more or less busy, may stop elsewhere: say so (a
        # comparison of runs, and the determinism test, count on the status)
        plan.time_limited = True
        plan.notes.append("time limit reached: the plan is the best found, not proven optimal")
    return plan


def _improve(run: _Run, alone: StandAlone) -> Plan:
    """From the stand-alone solves to the plan returned: each stage in turn until the plan is
    verified within the gap."""
    cands, catalog, options = run.cands, run.catalog, run.options
    best = run.incumbent(alone.units, alone.strategies, alone.bound)
    if _good_enough(best.plan, options):
        return best.plan
    best = _bound_pairs(run, alone, best)
    if _good_enough(best.plan, options):
        return best.plan
    # Coupling (egress, dependency latency, shared private capacity, limits) not satisfied or not
    # priced well by the union: solve the coupled model over pruned regions, keep the better plan.
    if not best.plan.verification.ok and overfills_private(best.plan, catalog):
        best = _repair_private_capacity(run, alone, best)
        if _good_enough(best.plan, options):
            return best.plan
    if len(cands.offers) <= WHOLE_FIRST_ROWS:
        whole = _whole_first(run, best)
        if whole is not None:
            return whole
    limit = cands.spec.policy.max_providers
    if limit is not None and len(best.plan.providers()) > limit:
        best = _repair_providers(run, alone, best, limit)
        if _good_enough(best.plan, options):
            return best.plan
    # The time limit holds even without a verified plan (then `_finish` says to raise it): a user
    # waiting, or a comparison of methods, must be able to count on it.
    if _has_couplings(cands) and time.perf_counter() < run.stop_at(best.plan.verification.ok):
        best = _coordinate(run, alone, best)
        if _good_enough(best.plan, options):
            return best.plan
    return _finish_or_reserve(run, best)


# Candidate rows up to which the coupled model is solved whole before the searches (after the
# private repair, whose price of private capacity is a bound the whole model's root may lack): it
# is then the quickest way to a proven plan (kr-ecommerce, 165 rows: the neighbourhood search took
# 1.3 s to reach the plan the whole model proves optimal in 0.4 s). Not much further: eu-fintech's
# 422 rows under a provider limit took 3.4 s whole, 2.2 s through the provider sets (measured).
WHOLE_FIRST_ROWS = 300


def _whole_first(run: _Run, best: Incumbent) -> Plan | None:
    """The whole coupled model, for a small application: its plan when verified within the gap,
    else None (the search goes on from the incumbent)."""
    say(run.options, "small enough to solve whole: coordinating in the full coupled model")
    try:
        plan = solve_coupled(
            run.cands,
            run.catalog,
            run.options,
            run.deadline,
            run.timings,
            bound=best.bound,
            label="decomposed",
            full=True,
            start=best.plan,
            node_limit=COUPLED_NODES,
        )
    except NoPlanError:
        return None
    if best.plan.verification.ok and best.plan.objective <= plan.objective + 1e-9:
        best.plan.bound = plan.bound
        plan = best.plan
    return plan if _good_enough(plan, run.options) else None


def _finish_or_reserve(run: _Run, best: Incumbent) -> Plan:
    """`_finish`, or the plan in reserve (other providers) when it is verified and cheaper, or
    when `_finish` has no verified plan."""
    reserve = run.reserve
    if reserve is None:
        return _finish(run, best)
    try:
        plan = _finish(run, best)
    except NoPlanError:
        plan = None
    if plan is None or not plan.verification.ok or reserve.plan.objective < plan.objective - 1e-9:
        reserve.plan.bound = max(reserve.plan.bound or 0.0, best.bound)
        say(run.options, f"kept the plan on other providers: ${reserve.plan.objective:,.2f}/month")
        return reserve.plan
    return plan


def _good_enough(plan: Plan, options: PlanOptions) -> bool:
    """Verified, and within the requested gap of the proven bound: the plan to return."""
    return plan.verification.ok and plan.gap is not None and plan.gap <= options.gap + 1e-9


def _has_couplings(cands: Candidates) -> bool:
    """Whether any dependency ties services together (egress, latency budgets)."""
    return bool(cands.spec.dependencies)


# ------------------------------------------------------------------ 1. every service alone
def _prune(cands: Candidates, options: PlanOptions, timings: dict[str, float]) -> Candidates:
    """The candidates without the regions dominance proves useless to a service alone."""
    t0 = time.perf_counter()
    pruned = prune_dominated(cands)
    timings["prune_s"] = time.perf_counter() - t0
    say(options, f"dominance pruning kept {len(pruned.offers)} of {len(cands.offers)} candidates")
    return pruned


def _solve_alone(
    cands: Candidates,
    pruned: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    deadline: float,
    timings: dict[str, float],
) -> StandAlone:
    """Every service solved alone over the pruned candidates (see `parts.solve_each`), or, under
    a provider limit, a large service as the best of its solves within each set of providers (see
    `_split_by_providers`)."""
    units: dict[int, int] = {}
    strategies: dict[str, str] = {}
    bound = 0.0
    build_s = solve_s = 0.0
    size = {"variables": 0, "constraints": 0}
    service_bound: dict[str, float] = {}

    def counted(done: int, total: int) -> None:
        say(options, f"solving services alone: {done}/{total} done")

    def take(s: str, out: PartResult) -> None:
        nonlocal bound, build_s, solve_s
        build_s += out.build_s
        solve_s += out.solve_s
        for key, val in out.size.items():
            size[key] += val
        bound += out.bound
        service_bound[s] = out.bound
        units.update(out.units)
        strategies.update(out.strategies)

    stop = deadline + FIRST_PLAN_GRACE_S  # no plan yet: the grace applies
    limit = _time_left(deadline)
    within, split = _split_by_providers(cands, pruned, catalog, options, limit, stop)
    notes = [out.note for out in within.values() if isinstance(out, PartResult) and out.note]
    for s, result in split.items():
        take(s, result)
    rest = [s for s in pruned.services() if s not in split]
    if rest:
        todo = pruned if not split else pruned.restrict(rest)
        for s, out in solve_each(todo, catalog, options, limit, counted, deadline=stop):
            if isinstance(out, BaseException):
                raise out
            take(s, out)
            if out.note:
                notes.append(out.note)
    say(options, f"solved {len(cands.services())} services alone (lower bound ${bound:,.2f}/month)")
    timings.update(build_s=build_s, solve_s=solve_s)
    floor = egress_floor(cands, catalog)
    if floor > 0:
        bound += floor
        say(options, f"egress that no placement avoids raises the lower bound by ${floor:,.2f}")
    unique = list(dict.fromkeys(notes))
    return StandAlone(units, strategies, service_bound, floor, bound, size, within, unique)


# Under a provider limit, a service is solved alone by provider sets (below) when it has at least
# SPLIT_ROWS pruned candidate rows and at most SPLIT_SETS sets. far-user-groups' web tier (382
# rows) under survive: provider, max_providers: 2 took 25.6 s over its four providers at once (a
# plan may spread over three or four, each holding a part) and 0.5 s as six pairs, each holding
# full demand twice. Services of the 50-service provider benchmark (80 rows, at most 168) solve
# quickly at once, and the provider repair skips many of their sets: split, their stand-alone
# stage took 14.5 s instead of 12.2 s with the repair (measured).
SPLIT_ROWS = 200
SPLIT_SETS = 10


def _provider_sets(cands: Candidates, service: str, limit: int) -> list[frozenset[str]]:
    """The distinct sets of providers `service` may use within some `limit` providers, the keys
    `_repair_providers` solves it under."""
    off = cands.offers
    every = sorted(set(off["provider"]))
    mine = frozenset(off.loc[off["service"] == service, "provider"])
    sets = {mine & frozenset(k) for k in itertools.combinations(every, min(limit, len(every)))}
    return sorted((x for x in sets if x), key=sorted)


def _split_by_providers(
    cands: Candidates,
    pruned: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    limit: float,
    stop: float,
) -> tuple[dict[tuple[str, frozenset[str]], PartResult | str | None], dict[str, PartResult]]:
    """With `max_providers` = k, every plan of a service lies within one of its provider sets,
    so the least of its bounds within each set is a valid bound, tighter than its bound over all
    providers at once (under `survive: provider` a service alone may spread over more than k
    providers, each holding a share: a model both looser than the problem and slow to prove), and
    the cheapest of those plans is its stand-alone plan. Each set is solved to the stand-alone
    work limit. Returns every solve (the provider repair reuses them) and, per service so solved,
    its best result; a service with a set left unproven (no plan within the work limit) or no plan
    in any set is left to the ordinary stand-alone solve."""
    policy = cands.spec.policy
    within: dict[tuple[str, frozenset[str]], PartResult | str | None] = {}
    best: dict[str, PartResult] = {}
    if policy.max_providers is None:
        return within, best
    for s in cands.services():
        if len(pruned.rows_of.get(s, ())) < SPLIT_ROWS or time.perf_counter() > stop:
            continue
        sets = _provider_sets(cands, s, policy.max_providers)
        if len(sets) > SPLIT_SETS:
            continue
        results = []
        for providers in sets:
            out = _solve_within(cands, catalog, options, limit, s, providers, PART_NODES)
            within[(s, providers)] = out
            results.append(out)
        if any(out is None for out in results):
            continue
        solved = [out for out in results if isinstance(out, PartResult)]
        if solved:
            chosen = min(solved, key=lambda out: out.objective)
            least = min(out.bound for out in solved)
            best[s] = replace(chosen, bound=least)
    return within, best


# ------------------------------------------------------------------ 1b. costly dependencies
# A dependency whose traffic costs the union at least this share of its total is bounded (and
# placed) as a pair: the stand-alone bounds price none of it.
PAIR_SHARE = 0.01
PAIR_OMITS = frozenset({"max_providers", "budget"})  # a pair's model prices its own traffic
# Candidate rows above which a pair is not bounded. Dominance compares no egress, so a pair's model
# holds every candidate of both: global-saas's api and db have 1,280 rows and 400,000 nonzeros
# (survival rows for 132 failures); its linear relaxation took 0.8 s and raised their bounds by
# $428, where the integer model took 8-17 s to raise them by $515 (measured).
PAIR_ROWS = 1500


def _bound_pairs(run: _Run, alone: StandAlone, best: Incumbent) -> Incumbent:
    """The dependencies that cost the union most, as disjoint pairs of services outside latency
    groups (whose joint bounds `_seat_groups` adds): each pair's joint model over all its
    candidates, with the traffic between them and each member's stand-alone bound as a row, is a
    relaxation of the pair's part of the whole problem (it leaves out the couplings to other
    services and the plan-wide limits), and so is its linear relaxation, whose bound replaces the
    members' and that dependency's traffic floor."""
    plan, options = best.plan, run.options
    flows = plan.traffic[plan.traffic["kind"].isin(["dependency", "reply"])]
    if not len(flows):
        return best
    cost = flows.groupby("flow")["usd_per_month"].sum()
    tied = {s for group in latency_groups(run.cands.spec) for s in group}
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    for name, paid in sorted(cost.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        if paid < PAIR_SHARE * plan.objective:
            break
        source, target = str(name).split("->")
        rows = sum(len(run.cands.rows_of.get(x, ())) for x in (source, target))
        if source != target and not {source, target} & (taken | tied) and rows <= PAIR_ROWS:
            pairs.append((source, target))
            taken |= {source, target}
    if not pairs:
        return best
    t0 = time.perf_counter()
    gain = 0.0
    for pair in pairs:
        if time.perf_counter() > run.deadline:
            return best  # the safety net: unbounded pairs would leave the sum below incomplete
        floors = {s: alone.service_bound[s] for s in pair}
        bound = relaxed_block_bound(
            run.cands, run.catalog, options, pair, run.per_service_limit, floors, PAIR_OMITS
        )
        gain += max(0.0, bound - sum(floors.values()))
    bound = sum(alone.service_bound.values()) + gain
    bound += egress_floor(run.cands, run.catalog, skip=frozenset(pairs))
    run.timings["pairs_s"] = time.perf_counter() - t0
    if bound > best.bound:
        say(
            options,
            f"{len(pairs)} costly dependencies bounded as pairs with their traffic: lower bound "
            f"${best.bound:,.2f} -> ${bound:,.2f}/month",
        )
        best.bound = best.plan.bound = bound
        # disjoint from the latency groups, whose gains `_seat_groups` adds to this
        alone.bound = bound
    return best


# ------------------------------------------------------------------ 2. shared private capacity
def _repair_private_capacity(run: _Run, alone: StandAlone, best: Incumbent) -> Incumbent:
    """The union repaired to fit the private sites, its bound raised by pricing private vCPU; the
    union as it was when no service can move to a public region."""
    options = run.options
    repaired = repair_private(
        run.pruned,
        run.catalog,
        options,
        best.units,
        best.strategies,
        best.plan,
        run.per_service_limit,
        run.stop_at(best.plan.verification.ok),
    )
    if repaired is None:
        return best
    before = best.plan.objective
    plan = run.incumbent(repaired.units, repaired.strategies, best.bound).plan
    say(
        options,
        f"repaired shared private capacity greedily (largest saving per vCPU first): "
        f"${before:,.2f} -> ${plan.objective:,.2f}/month",
    )
    bound = _price_private_vcpu(run, alone, repaired.prices, best.bound)
    plan.bound = bound
    return Incumbent(plan, repaired.units, repaired.strategies, bound)


def _price_private_vcpu(run: _Run, alone: StandAlone, prices: list[float], bound: float) -> float:
    """The lower bound, raised by the first of `prices` per private vCPU that raise it."""
    options = run.options
    for price in prices:
        if time.perf_counter() > run.deadline:
            break  # the safety net: the bound is a refinement, the plan comes first
        lagrangian = (
            lagrangian_bound(
                run.pruned,
                run.catalog,
                options,
                alone.service_bound,
                price,
                run.per_service_limit,
                run.deadline,
            )
            + alone.floor
        )
        if lagrangian > bound:
            say(
                options,
                f"private vCPU priced at ${price:,.4f}/month raises the lower bound "
                f"from ${bound:,.2f} to ${lagrangian:,.2f}",
            )
            bound = lagrangian
        else:
            # The dual function is concave in the price and the prices rise: once one does
            # not raise the bound, no higher one does.
            say(
                options,
                f"private vCPU priced at ${price:,.4f}/month: no better lower bound",
            )
            break
    return bound


# ------------------------------------------------------------------ 2b. the provider limit
# Work limit of a service's re-solve within a set of providers. Its bound stays valid when it
# stops early (the solver's proven bound, and never below the service's bound over every provider).
SUBSET_NODES = 200


def _repair_providers(run: _Run, alone: StandAlone, best: Incumbent, limit: int) -> Incumbent:
    """The union on more providers than `policy.max_providers` = k allows. Every plan uses the
    providers of some k-subset of those the services may use, so each subset is bounded and planned
    on its own: every service re-solved alone over the subset's regions (or its stand-alone plan
    kept when that already lies within the subset, which is then optimal there too), the subset's
    bound the sum of those bounds plus the egress floor, its plan their union. The least subset
    bound is a lower bound of the whole problem (it prices the limit exactly, which the
    stand-alone bounds do not); the cheapest verified subset plan is kept. A subset whose partial
    sum already exceeds the best verified plan is left (that sum bounds it). Each (service,
    providers it may use in the subset) is solved once."""
    options, pruned = run.options, run.pruned
    off = run.cands.offers  # every candidate: pruning may drop a provider of a service
    allowed = {s: frozenset(g) for s, g in off.groupby("service")["provider"]}
    provider_of = run.cands.offers["provider"]
    service_of = run.cands.offers["service"]
    own: dict[str, set[str]] = {}
    for i, n in alone.units.items():
        if n > 0:
            own.setdefault(str(service_of[i]), set()).add(str(provider_of[i]))
    services = sorted(run.cands.services(), key=lambda s: (len(pruned.rows_of.get(s, ())), s))
    solved: dict[tuple[str, frozenset[str]], PartResult | str | None] = dict(alone.within)
    # per subset proven to hold no plan: the service that has none there
    impossible: dict[tuple[str, ...], str] = {}
    least = float("inf")
    planned: list[tuple[float, float, list[str], Incumbent]] = []
    t0 = time.perf_counter()
    subsets = list(itertools.combinations(sorted(set(off["provider"])), limit))
    for subset in subsets:
        if time.perf_counter() > run.stop_at(best.plan.verification.ok):
            least = -float("inf")  # the safety net: unexplored subsets bound nothing
            break
        keep = frozenset(subset)
        total = alone.floor + sum(alone.service_bound.values())
        units: dict[int, int] = {}
        strategies: dict[str, str] = {}
        feasible = True
        for s in services:
            if time.perf_counter() > run.stop_at(best.plan.verification.ok):
                feasible = False  # the safety net: this subset is left half planned
                least = -float("inf")
                break
            here = allowed.get(s, frozenset()) & keep
            if not here:
                impossible[subset] = s
                feasible = False
                break
            if own.get(s, set()) <= keep:
                units.update({i: n for i, n in alone.units.items() if service_of[i] == s})
                strategies[s] = alone.strategies[s]
                continue
            key = (s, here)
            if key not in solved:
                solved[key] = _solve_within(
                    run.cands, run.catalog, options, run.per_service_limit, s, here
                )
            out = solved[key]
            if not isinstance(out, PartResult):
                if out == INFEASIBLE:
                    impossible[subset] = s
                feasible = False
                break
            total += max(0.0, out.bound - alone.service_bound[s])
            units.update(out.units)
            strategies.update(out.strategies)
            if best.plan.verification.ok and total >= best.plan.objective:
                break  # no plan within this subset beats the one held; `total` bounds it
        if not feasible:
            continue
        least = min(least, total)
        if len(strategies) < len(services):
            continue  # left early: no plan of its own
        tried = run.incumbent(units, strategies, best.bound)
        planned.append((total, tried.plan.objective, sorted(keep), tried))
        if _cheaper_subset_plan(tried.plan, best.plan):
            best = tried
    run.timings["providers_s"] = time.perf_counter() - t0
    if len(impossible) == len(subsets):
        # every plan lies within some set of `limit` providers, and none holds one
        raise InfeasibleError(
            [
                f"no set of {limit} providers (policy.max_providers) can run every service: "
                + "; ".join(
                    f"within {', '.join(subset)}, {service} has no plan"
                    for subset, service in impossible.items()
                )
            ],
            ["policy.max_providers"],
        )
    say(
        options,
        f"planned within each of {len(subsets)} sets of {limit} providers "
        f"(policy.max_providers): best ${best.plan.objective:,.2f}/month, "
        f"{'verified' if best.plan.verification.ok else 'not verified'}",
    )
    if math.isfinite(least) and least > best.bound:
        say(
            options,
            f"the provider limit raises the lower bound from ${best.bound:,.2f} to ${least:,.2f}",
        )
        best.bound = best.plan.bound = least
    if not planned or _good_enough(best.plan, options):
        return best
    # Later stages (latency groups, the neighbourhood search, the coupled model) see only part of
    # the plan at a time, so none can keep the limit for the whole: they work within the subset
    # of least bound (where a cheaper plan is likeliest; its union may miss latency budgets, which
    # they mend), and the cheapest verified plan elsewhere stays in reserve.
    _total, _cost, names, start = min(planned, key=lambda x: (x[0], x[1], x[2]))
    _narrow(run, frozenset(names))
    say(options, f"coordinating within providers {', '.join(names)}")
    if start is not best:
        run.reserve = best if best.plan.verification.ok else None
        start.bound = start.plan.bound = best.bound
    return start


def _cheaper_subset_plan(a: Plan, b: Plan) -> bool:
    """A verified plan beats an unverified one; otherwise the cheaper (every subset plan keeps
    the provider limit; latency budgets, which the stand-alone solves ignore, may be missed)."""
    if a.verification.ok != b.verification.ok:
        return bool(a.verification.ok)
    if not b.verification.ok and len(b.providers()) > (a.spec.policy.max_providers or 10**6):
        return True  # the union over the limit
    return a.objective < b.objective - 1e-9


def _narrow(run: _Run, providers: frozenset[str]) -> None:
    """The run's candidates limited to `providers`. A service whose pruned regions all lie on
    other providers (under region survival a dominator may be of another provider) keeps all its
    regions on these: the later stages need rows of every service to place it."""

    def regions_in(c: Candidates) -> dict[str, set[str]]:
        off = c.offers[c.offers["provider"].isin(providers)]
        return {s: set(g) for s, g in off.groupby("service")["region"]}

    everywhere, kept = regions_in(run.cands), regions_in(run.pruned)
    missing = {s: regions for s, regions in everywhere.items() if s not in kept}
    run.cands = run.cands.restrict(run.cands.services(), everywhere)
    if missing:
        run.pruned = run.cands.restrict(run.cands.services(), kept | missing)
    else:
        run.pruned = run.pruned.restrict(run.pruned.services(), kept)
    run.narrowed = True


INFEASIBLE = "infeasible"  # what `_solve_within` answers for a service proven to have no plan


def _solve_within(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    limit: float,
    service: str,
    providers: frozenset[str],
    node_limit: int = SUBSET_NODES,
) -> PartResult | str | None:
    """`service` alone over the regions of `providers` (pruned among themselves); INFEASIBLE when
    it has no plan there, None when none was found within the work limit."""
    # Restricted first, then pruned: a region's dominator may belong to another provider (under
    # region survival), so pruning before restricting could lose a subset's optimum and its bound.
    off = cands.offers
    mine = off[(off["service"] == service) & off["provider"].isin(providers)]
    if cands.spec.policy.private_share_min > 0:
        # a service that could run on a private site owes it its share (rule of hybrid
        # strategies): a subset without private sites holds no plan for it, although a model
        # of the subset alone would no longer see the rule (it has no private rows to apply it to)
        could = off.loc[off["service"] == service, "kind"].eq("private").any()
        if could and not mine["kind"].eq("private").any():
            return INFEASIBLE
    regions = {service: set(mine["region"])}
    restricted = prune_dominated(cands.restrict([service], regions))
    try:
        out = solve_block(
            restricted,
            catalog,
            options,
            (service,),
            limit,
            node_limit=node_limit,
            diagnose=False,
        )
    except InfeasibleError:
        return INFEASIBLE
    except NoPlanError:
        return None
    return out if out.strategies else None


def _better(a: Plan, b: Plan) -> bool:
    """A verified plan beats an unverified one; between equals, the cheaper."""
    if a.verification.ok != b.verification.ok:
        return bool(a.verification.ok)
    if not a.verification.ok:  # neither verified: the one within the provider limit
        limit = a.spec.policy.max_providers or 10**6
        return len(a.providers()) <= limit < len(b.providers())
    return a.objective < b.objective - 1e-9


# ------------------------------------------------------------------ 3. coordination
@dataclass
class _Seated:
    """Plans meeting the latency budgets, tried besides the incumbent (the seating, and the joint
    group placements when the workers ran); the placement the search falls back on; the bound."""

    tried: list[Incumbent]
    fallback: Placement
    bound: float


def _coordinate(run: _Run, alone: StandAlone, best: Incumbent) -> Incumbent:
    """The cheapest verified plan of the incumbent, the seated groups, their joint placements and
    the neighbourhood search from the incumbent; the incumbent (unverified) when none is."""
    cands, options = run.cands, run.options
    t0 = time.perf_counter()
    tried = [best]
    fallback: Placement | None = None
    bound = best.bound
    if latency_violations(
        cands.spec,
        where(cands.offers, best.units),
        run.catalog,
        cands.global_services,
        zone_fragile(cands.offers, best.units),
    ):
        seated = _seat_groups(run, alone, best, t0)
        tried += seated.tried
        fallback, bound = seated.fallback, seated.bound
        done = [x for x in seated.tried if _good_enough(x.plan, options)]
        if done:
            run.timings["coordinate_s"] = time.perf_counter() - t0
            return min(done, key=lambda x: x.plan.objective)
    moved = coordinate_locally(
        cands,
        run.pruned,
        run.catalog,
        options,
        best.units,
        best.strategies,
        run.deadline,
        run.timings,
        fallback,
    )
    run.timings["coordinate_s"] = time.perf_counter() - t0
    if moved.moves:
        local = run.incumbent(moved.units, moved.strategies, bound)
        tried.append(local)
        say(
            options,
            f"coordinated dependencies by {moved.moves} neighbourhood re-solves: "
            f"${local.plan.objective:,.2f}/month, "
            f"{'verified' if local.plan.verification.ok else 'not verified'}",
        )
    # the cheapest verified plan, or the union (unverified) when none is
    chosen = min(tried, key=lambda x: (not x.plan.verification.ok, x.plan.objective))
    return replace(chosen, bound=bound)


def _seat_groups(run: _Run, alone: StandAlone, best: Incumbent, t0: float) -> _Seated:
    """Each group whose budgets the union misses, solved whole in worker processes: a bound, and
    a placement meeting its budgets. Meanwhile every such group is seated here (a verified
    placement in moments, whatever the workers manage); the groups the workers solve take their
    joint placements. The result is the fallback, in case the search cannot mend every budget in
    time, and where the search starts each group it mends."""
    cands, catalog, options, deadline = run.cands, run.catalog, run.options, run.deadline
    workers = options.workers or min(os.cpu_count() or 1, 8)
    groups = GroupBounds(
        cands, catalog, options, best.units, alone.service_bound, deadline, workers
    )
    try:
        # bounded work, and with budgets missed the quick way to a verified plan: only the
        # deadline cuts it (cut at 50 services and 5 s, planning ended with none)
        seating = seat_latency_groups(
            cands,
            catalog,
            options,
            best.units,
            best.strategies,
            run.per_service_limit,
            run.stop_at(best.plan.verification.ok),
        )
        seat = run.incumbent(seating.units, seating.strategies, best.bound)
    except BaseException:
        groups.stop()
        raise
    say(
        options,
        f"seated {seating.seated} groups of services tied by latency budgets in regions within "
        f"budget of each other: ${seat.plan.objective:,.2f}/month, "
        f"{'verified' if seat.plan.verification.ok else 'not verified'}",
    )
    fallback = Placement(seating.units, seating.strategies)
    if not groups.tried or _good_enough(seat.plan, options):
        groups.stop()  # the seated plan is within the gap: no group bound or placement needed
        return _Seated([seat], fallback, best.bound)
    # every group to its work limit: waiting on the clock would make the plan depend on load
    joined = groups.collect(deadline, seating.units, seating.strategies)
    run.timings["groups_s"] = time.perf_counter() - t0
    bound = best.bound
    # over narrowed candidates the groups' bounds hold for those providers only
    if not run.narrowed and alone.bound + joined.gain > bound:
        bound = alone.bound + joined.gain
        for plan in (best.plan, seat.plan):
            plan.bound = bound
    joint = run.incumbent(joined.units, joined.strategies, bound)
    say(
        options,
        f"{joined.finished} of {groups.tried} groups tied by latency budgets solved as one model "
        f"each (lower bound ${bound:,.2f}/month), placed so: ${joint.plan.objective:,.2f}/month, "
        f"{'verified' if joint.plan.verification.ok else 'not verified'}",
    )
    # the joint models price no egress: their placements can cost more than the seating
    if not seat.plan.verification.ok or (
        joint.plan.verification.ok and joint.plan.objective <= seat.plan.objective
    ):
        fallback = Placement(joined.units, joined.strategies)
    return _Seated([seat, joint], fallback, bound)


# ------------------------------------------------------------------ 4. one coupled model
def _finish(run: _Run, best: Incumbent) -> Plan:
    """The incumbent when time is up (NoPlanError if it is not verified); else the coupled model
    warm-started from it, whole when small, and the better of the two plans."""
    union, options = best.plan, run.options
    if time.perf_counter() >= run.deadline:
        if union.verification.ok:
            union.time_limited = True
            union.notes.append(
                "time limit reached while coordinating services: the plan is verified, "
                "its gap is against the proven lower bound"
            )
            return union
        raise NoPlanError(
            f"no verified plan within the time limit ({options.time_limit:g} s): the services "
            "were solved alone but not coordinated in time; raise --time-limit"
        )
    if run.narrowed and union.verification.ok:
        # within one set of providers its bound would not count, and its root alone can take
        # longer than the rest (global-saas under survive: provider: 30 s for no better plan)
        return union
    box = run.deadline  # the safety net: the coupled model stops at COUPLED_NODES
    try:
        if len(run.cands.offers) <= FULL_MODEL_LIMIT:
            return _solve_whole(run, best, box)
        return _solve_pruned(run, best, box)
    except CoupledTooLarge as size:
        say(options, f"the coupled model is too large to improve the plan ({size}): kept as is")
        return union


def _solve_whole(run: _Run, best: Incumbent, box: float) -> Plan:
    """The coupled model over every candidate until `box`, or the incumbent if no dearer."""
    # Small enough to solve whole: no pruning, and the solver's bound is valid for the problem.
    union = best.plan
    say(run.options, "coordinating services in the full coupled model")
    coupled = solve_coupled(
        run.cands,
        run.catalog,
        run.options,
        box,
        run.timings,
        bound=best.bound,
        label="decomposed",
        full=not run.narrowed,  # over one set of providers its bound holds for that set only
        start=union,
        # narrowed to some providers its bound does not count: it can only polish the plan
        node_limit=COUPLED_NODES_PRUNED if run.narrowed else COUPLED_NODES,
        max_nonzeros=COUPLED_NONZEROS if union.verification.ok else None,
    )
    if union.verification.ok and union.objective <= coupled.objective + 1e-9:
        union.bound = coupled.bound
        return union
    return coupled


def _solve_pruned(run: _Run, best: Incumbent, box: float) -> Plan:
    """The coupled model over the pruned regions until `box`, or the incumbent if no dearer; the
    whole coupled model when the pruned one has no plan and the incumbent is not verified."""
    cands, catalog, options, union = run.cands, run.catalog, run.options, best.plan
    keep = pruned_regions(run.pruned, cands, union, catalog)
    say(
        options,
        "coordinating services over "
        f"{sum(len(v) for v in keep.values())} pruned (service, region) pairs",
    )
    try:
        coupled = solve_coupled(
            cands.restrict(cands.services(), keep),
            catalog,
            options,
            box,
            run.timings,
            bound=best.bound,
            label="decomposed",
            start=union,
            diagnose=False,
            node_limit=COUPLED_NODES_PRUNED,
            max_nonzeros=COUPLED_NONZEROS if union.verification.ok else None,
        )
    except (InfeasibleError, NoPlanError):
        if union.verification.ok:
            return union
        if time.perf_counter() >= run.deadline:
            raise NoPlanError(
                f"no verified plan within the time limit ({options.time_limit:g} s): the "
                "services could not be coordinated in time; raise --time-limit"
            ) from None
        say(options, "pruned model has no plan; solving the full coupled model")
        return solve_coupled(
            cands, catalog, options, run.deadline, run.timings, bound=best.bound, label="decomposed"
        )
    if union.verification.ok and union.objective <= coupled.objective + 1e-9:
        return union
    return coupled
