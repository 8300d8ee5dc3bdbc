"""Plan an application: candidates -> model -> solve -> plan -> verify, by one of two methods.

`decomposed` (default):
1. each service is solved alone, without the families that couple services, over the regions that
   survive dominance pruning; the sum of these proven bounds, plus egress no placement can avoid,
   is a valid lower bound for the whole problem;
2. if their union over-fills a private site, it is repaired greedily and a Lagrangian price on
   private vCPU tightens the bound;
3. when the union misses a latency budget, each group of services tied by budgets is seated in
   regions all within its tightest budget of one another (each member re-solved alone there: a
   verified plan in seconds) while worker processes solve each group as one model with those
   budgets (no egress) over regions pruned by latency-aware dominance: a group's proven bound
   replaces its members' own, and its placement replaces its seating in the fallback;
4. couplings (latency budgets, egress between dependent services) are coordinated by a
   neighbourhood search from the union: services tied by latency budgets are re-solved together
   (a group not mended in time takes its seated places), then each service and each linked pair
   with its partners fixed, warm-started so no move makes the plan worse; every re-solve uses the
   one model builder;
5. with time left, one coupled model (unpruned when small) is solved warm-started from the best
   verified plan; its bound counts only when nothing was pruned.
`monolithic`: the single coupled model, the reference.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import pandas as pd

from .analysis.verify import verify_plan
from .catalog import Catalog
from .catalog.columns import SITE_RESOURCES
from .errors import InfeasibleError, NoPlanError, SolverError
from .model.build import BuildOptions, BuiltModel, build_model
from .model.candidates import Candidates, build_candidates, prune_dominated
from .plan import Plan, egress_for, fees_for, placements_from_units
from .solve import SolveResult, SolverOptions, SolveStatus, get_backend
from .spec import AppSpec, check_against_catalog

Progress = Callable[[str], None]
FULL_MODEL_LIMIT = 4000  # candidate rows up to which the coupled model is solved unpruned
# One neighbourhood re-solve starts from a plan it can only improve, so a short limit loses little;
# mending a missed latency budget starts from no plan and gets four times as long.
BLOCK_TIME_LIMIT = 0.5
SEAT_REGIONS = 8  # regions a service may choose from when seated next to its latency partners
SEAT_TRIES = 4  # seed regions tried per group before leaving it to the neighbourhood search
PROGRESS_EVERY_S = 5.0  # how often long phases report progress
STAGE_NAMES = {
    "latency": "services tied by latency budgets together",
    "single": "one service at a time",
    "pair": "linked pairs",
}


@dataclass(frozen=True)
class PlanOptions:
    method: str = "decomposed"  # decomposed | monolithic
    solver: str = "highs"  # highs | cbc
    time_limit: float = 60.0
    gap: float = 0.001
    threads: int = 1
    workers: int = (
        0  # processes for the per-service solves (0: one per core when there are many services)
    )
    progress: Progress | None = field(default=None, compare=False)


def _say(options: PlanOptions, msg: str) -> None:
    if options.progress is not None:
        options.progress(msg)


def make_plan(spec: AppSpec, catalog: Catalog, options: PlanOptions = PlanOptions()) -> Plan:
    """The cheapest plan that meets the spec's policy, verified; or InfeasibleError / NoPlanError."""
    if options.method not in ("decomposed", "monolithic"):
        raise ValueError(f"unknown method `{options.method}`: use decomposed or monolithic")
    get_backend(options.solver)  # unknown solver names fail before any work
    start = time.perf_counter()
    check_against_catalog(spec, catalog)
    cands = build_candidates(spec, catalog)
    timings = {"candidates_s": time.perf_counter() - start}
    _say(
        options,
        f"{len(cands.offers)} candidate offerings for {len(spec.services)} services, "
        f"{len(cands.scenarios)} failure scenarios",
    )
    deadline = start + options.time_limit
    if options.method == "monolithic":
        plan = _solve_coupled(
            cands, catalog, options, deadline, timings, bound=None, label="monolithic"
        )
    else:
        plan = _solve_decomposed(cands, catalog, options, deadline, timings)
    timings["total_s"] = time.perf_counter() - start
    plan.timings = timings
    return plan


# ------------------------------------------------------------------ decomposition
def _solve_decomposed(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    deadline: float,
    timings: dict[str, float],
) -> Plan:
    units: dict[int, int] = {}
    strategies: dict[str, str] = {}
    bound = 0.0
    build_s = solve_s = 0.0
    size = {"variables": 0, "constraints": 0}
    services = cands.services()
    t0 = time.perf_counter()
    pruned = prune_dominated(cands)
    timings["prune_s"] = time.perf_counter() - t0
    _say(options, f"dominance pruning kept {len(pruned.offers)} of {len(cands.offers)} candidates")
    per_service_limit = max(2.0, options.time_limit / 4)
    service_bound: dict[str, float] = {}

    def counted(done: int, total: int) -> None:
        _say(options, f"solving services alone: {done}/{total} done")

    for s, out in _solve_each(pruned, catalog, options, per_service_limit, counted):
        if isinstance(out, BaseException):
            raise out
        sub_units, sub_strategies, sub_bound, b_s, s_s, sub_size = out
        build_s += b_s
        solve_s += s_s
        for key, val in sub_size.items():
            size[key] += val
        bound += sub_bound
        service_bound[s] = sub_bound
        units.update(sub_units)
        strategies.update(sub_strategies)
    _say(options, f"solved {len(services)} services alone (lower bound ${bound:,.2f}/month)")
    timings.update(build_s=build_s, solve_s=solve_s)
    floor = _egress_floor(cands, catalog)
    if floor > 0:
        bound += floor
        _say(options, f"egress that no placement avoids raises the lower bound by ${floor:,.2f}")
    base_bound = bound  # stand-alone bounds and the egress floor: what the group bounds add to
    union = _assemble(
        cands, catalog, units, strategies, bound, "decomposed", options.solver, size, options.gap
    )
    if union.verification.ok and union.gap is not None and union.gap <= options.gap + 1e-9:
        return union
    # Coupling (egress, dependency latency, shared private capacity, limits) not satisfied or not
    # priced well by the union: solve the coupled model over pruned regions, keep the better plan.
    if not union.verification.ok and _overfills_private(union, catalog):
        t_repair = time.perf_counter()
        repaired = _repair_private(
            pruned, catalog, options, units, strategies, union, per_service_limit
        )
        if repaired is not None:
            before = union.objective
            units, strategies = repaired[0], repaired[1]
            union = _assemble(
                cands,
                catalog,
                units,
                strategies,
                bound,
                "decomposed",
                options.solver,
                size,
                options.gap,
            )
            _say(
                options,
                f"repaired shared private capacity greedily (largest saving per vCPU first): "
                f"${before:,.2f} -> ${union.objective:,.2f}/month",
            )
            # each price re-solves the services that may go private, about as long as the repair took
            step = time.perf_counter() - t_repair
            for price in repaired[2]:
                if time.perf_counter() + step > deadline - 0.25 * options.time_limit:
                    break  # the bound is a refinement: keep time for the plan itself
                lagrangian = (
                    _lagrangian_bound(
                        pruned, catalog, options, service_bound, price, per_service_limit
                    )
                    + floor
                )
                if lagrangian > bound:
                    _say(
                        options,
                        f"private vCPU priced at ${price:,.4f}/month raises the lower bound "
                        f"from ${bound:,.2f} to ${lagrangian:,.2f}",
                    )
                    bound = lagrangian
                else:
                    # The dual function is concave in the price and the prices rise: once one does
                    # not raise the bound, no higher one does.
                    _say(
                        options,
                        f"private vCPU priced at ${price:,.4f}/month: no better lower bound",
                    )
                    break
            union.bound = bound
            if union.verification.ok and union.gap is not None and union.gap <= options.gap + 1e-9:
                return union
    # Past the deadline with no verified plan, still seat the groups that miss latency budgets: the
    # time limit bounds the search for a better plan, not the (bounded) steps to a first one.
    if _has_couplings(cands) and (time.perf_counter() < deadline or not union.verification.ok):
        t0 = time.perf_counter()
        tried = [(union, units, strategies)]
        fallback = None
        if _latency_violations(cands.spec, _where(cands.offers, units), catalog):
            # Each group whose budgets the union misses, solved whole in worker processes: a bound, and
            # a placement meeting its budgets. Meanwhile every such group is seated here (a verified
            # placement in moments, whatever the workers manage); the groups the workers solve take
            # their joint placements. The result is the fallback, in case the search below cannot
            # mend every budget in time, and where the search starts each group it mends.
            workers = options.workers or min(os.cpu_count() or 1, 8)
            groups = _GroupBounds(cands, catalog, options, units, service_bound, deadline, workers)
            try:
                # not cut by the deadline: seating is bounded work and, with budgets missed, the only
                # quick way to a verified plan (cut at 50 services and 5 s, planning ended with none)
                fallback = _seat_latency_groups(
                    cands, catalog, options, units, strategies, min(per_service_limit, 2.0)
                )
                seat = _assemble(
                    cands,
                    catalog,
                    fallback[0],
                    fallback[1],
                    bound,
                    "decomposed",
                    options.solver,
                    size,
                    options.gap,
                )
            except BaseException:
                groups.collect(time.perf_counter(), {}, {})  # stop the workers
                raise
            tried.append((seat, fallback[0], fallback[1]))
            _say(
                options,
                f"seated {fallback[2]} groups of services tied by latency budgets in regions within "
                f"budget of each other: ${seat.objective:,.2f}/month, "
                f"{'verified' if seat.verification.ok else 'not verified'}",
            )
            if groups.tried:
                gain, done, joint_units, joint_strategies = groups.collect(
                    time.perf_counter() + GROUP_SHARE * (deadline - time.perf_counter()),
                    fallback[0],
                    fallback[1],
                )
                timings["groups_s"] = time.perf_counter() - t0
                if base_bound + gain > bound:
                    bound = base_bound + gain
                    for plan, _, _ in tried:
                        plan.bound = bound
                joint = _assemble(
                    cands,
                    catalog,
                    joint_units,
                    joint_strategies,
                    bound,
                    "decomposed",
                    options.solver,
                    size,
                    options.gap,
                )
                tried.append((joint, joint_units, joint_strategies))
                _say(
                    options,
                    f"{done} of {groups.tried} groups tied by latency budgets solved as one model each "
                    f"(lower bound ${bound:,.2f}/month), placed so: ${joint.objective:,.2f}/month, "
                    f"{'verified' if joint.verification.ok else 'not verified'}",
                )
                # the joint models price no egress: their placements can cost more than the seating
                if not seat.verification.ok or (
                    joint.verification.ok and joint.objective <= seat.objective
                ):
                    fallback = (joint_units, joint_strategies, fallback[2])
        units2, strategies2, moves = _coordinate_locally(
            cands,
            pruned,
            catalog,
            options,
            units,
            strategies,
            deadline,
            timings,
            fallback[:2] if fallback else None,
        )
        timings["coordinate_s"] = time.perf_counter() - t0
        if moves:
            local = _assemble(
                cands,
                catalog,
                units2,
                strategies2,
                bound,
                "decomposed",
                options.solver,
                size,
                options.gap,
            )
            tried.append((local, units2, strategies2))
            _say(
                options,
                f"coordinated dependencies by {moves} neighbourhood re-solves: "
                f"${local.objective:,.2f}/month, {'verified' if local.verification.ok else 'not verified'}",
            )
        # the cheapest verified plan, or the union (unverified) when none is
        union, units, strategies = min(
            tried, key=lambda x: (not x[0].verification.ok, x[0].objective)
        )
        if union.verification.ok and union.gap is not None and union.gap <= options.gap + 1e-9:
            return union
    if union.verification.ok and time.perf_counter() >= deadline:
        union.time_limited = True
        union.notes.append(
            "time limit reached while coordinating services: the plan is verified, "
            "its gap is against the proven lower bound"
        )
        return union
    if not union.verification.ok and time.perf_counter() >= deadline:
        raise NoPlanError(
            f"no verified plan within the time limit ({options.time_limit:g} s): the services "
            "were solved alone but not coordinated in time; raise --time-limit"
        )
    # coordination improves a plan we already hold (when the union verifies): bound its time
    box = (
        deadline
        if not union.verification.ok
        else min(deadline, time.perf_counter() + max(2.0, 0.25 * options.time_limit))
    )
    if len(cands.offers) <= FULL_MODEL_LIMIT:
        # Small enough to solve whole: no pruning, and the solver's bound is valid for the problem.
        _say(options, "coordinating services in the full coupled model")
        coupled = _solve_coupled(
            cands,
            catalog,
            options,
            box,
            timings,
            bound=bound,
            label="decomposed",
            full=True,
            start=union,
        )
        if union.verification.ok and union.objective <= coupled.objective + 1e-9:
            union.bound = coupled.bound
            return union
        return coupled
    keep = _pruned_regions(pruned, cands, union, catalog)
    _say(
        options,
        "coordinating services over "
        f"{sum(len(v) for v in keep.values())} pruned (service, region) pairs",
    )
    try:
        coupled = _solve_coupled(
            cands.restrict(services, keep),
            catalog,
            options,
            box,
            timings,
            bound=bound,
            label="decomposed",
            start=union,
            diagnose=False,
        )
    except (InfeasibleError, NoPlanError):
        if union.verification.ok:
            return union
        if time.perf_counter() >= deadline:
            raise NoPlanError(
                f"no verified plan within the time limit ({options.time_limit:g} s): the "
                "services could not be coordinated in time; raise --time-limit"
            ) from None
        _say(options, "pruned model has no plan; solving the full coupled model")
        return _solve_coupled(
            cands, catalog, options, deadline, timings, bound=bound, label="decomposed"
        )
    if union.verification.ok and union.objective <= coupled.objective + 1e-9:
        return union
    return coupled


def _egress_floor(cands: Candidates, catalog: Catalog) -> float:
    """Egress every plan pays: a dependency between services that share no allowed region sends at
    least its monthly traffic (the caller holds at least its demand) at no less than the cheapest
    rate between their allowed regions. Stand-alone bounds price no egress, so this adds to them."""
    off = cands.offers[cands.offers["role"] == "primary"]
    allowed = {s: sorted(set(g)) for s, g in off.groupby("service")["region"]}
    total = 0.0
    for dep in cands.spec.dependencies:
        src, dst = allowed.get(dep.source, []), allowed.get(dep.target, [])
        if dep.gb_per_month > 0 and src and dst and not set(src) & set(dst):
            total += dep.gb_per_month * min(catalog.egress_rate(a, b) for a in src for b in dst)
    return total


def _has_couplings(cands: Candidates) -> bool:
    return bool(cands.spec.dependencies)


# A latency group's joint model leaves out egress and the plan-wide limits: a relaxation, so its
# proven bound is valid for the group, and over regions pruned with latency-aware dominance it is exact.
GROUP_OMITS = frozenset({"egress", "max_providers", "budget"})
# Parts (a service alone, a group) are solved to this gap whatever the plan's: a part's slack adds up
# in the union and in the bound, and small models prove 0.1% about as fast as 1% (measured, 200 services).
PART_GAP = 0.001
# Below this many services the per-service solves run in this process: starting a worker (importing
# pandas, PuLP, HiGHS) costs about 1.2 s and the two cores of the benchmark machine scale by about
# 1.25, so workers pay from about 65 services (measured: 50 services 2.3 s here, 2.6 s on two
# workers; 100 services 4.7 s and 3.8 s).
WORKERS_FROM = 64
GROUP_ROWS_PER_MEMBER = 700  # larger joint models are not tried (see _GroupBounds)
GROUP_SHARE = 0.3  # of the time left, the most the joint group models may take


def _solve_one(
    cands: Candidates, catalog: Catalog, options: PlanOptions, service: str, limit: float
):
    """One service alone, without coupling: its proven bound, units and strategy."""
    return _solve_block(cands, catalog, options, (service,), limit)


def _solve_block(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    block: tuple[str, ...],
    limit: float,
    floors: dict[str, float] | None = None,
):
    """One service alone without coupling, or a group tied by latency budgets with those budgets
    (see GROUP_OMITS) and each member's stand-alone bound as a floor on its cost: the proven bound,
    units and strategies (none when a group found no plan in time), build and solve seconds, size."""
    sub = cands.restrict(list(block))
    t0 = time.perf_counter()
    alone = len(block) == 1
    build = (
        BuildOptions(couple=False)
        if alone
        else BuildOptions(omit=GROUP_OMITS, service_floor=floors or {})
    )
    built = build_model(sub, catalog, build)
    build_s = time.perf_counter() - t0
    result = get_backend(options.solver).solve(
        built.prob,
        SolverOptions(
            options.solver, limit, min(options.gap, PART_GAP), options.threads, small_model=True
        ),
    )
    if result.status == SolveStatus.INFEASIBLE:
        raise explain_infeasible(sub, catalog, options)
    result = _fallback_if_error(result, built, options, limit)
    floor = sum((floors or {}).get(s, 0.0) for s in block)
    if not alone and result.status == SolveStatus.NO_SOLUTION:  # the members keep their own plans
        return {}, {}, max(result.bound or 0.0, floor), build_s, result.seconds, built.size
    _check_result(result)
    bound = max(result.bound if result.bound is not None else 0.0, floor)
    return _units_of(built), _strategies_of(built), bound, build_s, result.seconds, built.size


def _solve_each(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    limit: float,
    on_count: Callable[[int, int], None] | None = None,
):  # noqa: ANN202
    """Yield (service, result or exception) for each service alone, in spec order: in worker
    processes when there are enough services to pay for starting them (see planner._worker), else here."""
    import pickle
    import tempfile

    services = cands.services()
    workers = options.workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(services) < WORKERS_FROM:
        for s in services:
            try:
                yield s, _solve_one(cands, catalog, options, s, limit)
            except Exception as exc:
                yield s, exc
        return
    quiet = replace(options, progress=None)
    blocks = [(s,) for s in services]
    chunks = [blocks[w::workers] for w in range(workers)]  # interleaved: similar work per worker
    with tempfile.TemporaryDirectory(prefix="mcplan-") as tmp:
        procs = [
            _start_worker(tmp, w, cands, catalog, quiet, chunk, limit, None)
            for w, chunk in enumerate(chunks)
            if chunk
        ]
        reported = time.perf_counter()
        while any(proc.poll() is None for proc, _, _ in procs):
            time.sleep(0.2)
            if on_count is not None and time.perf_counter() - reported >= PROGRESS_EVERY_S:
                reported = time.perf_counter()
                on_count(sum(_count(res + ".done") for _, res, _ in procs), len(services))
        results: dict[tuple[str, ...], object] = {}
        for proc, res, err in procs:
            err.seek(0)
            message = err.read().decode(errors="replace").strip().splitlines()
            err.close()
            if proc.returncode != 0 or not os.path.exists(res):
                raise SolverError(
                    "a solver worker process failed: "
                    + (message[-1] if message else f"exit code {proc.returncode}")
                )
            with open(res, "rb") as f:
                results.update(dict(pickle.load(f)))
    for s in services:
        yield s, results[(s,)]


def _start_worker(
    tmp: str,
    w: int,
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    blocks: list[tuple[str, ...]],
    limit: float,
    floors: dict[str, float] | None,
    stream: bool = False,
):  # noqa: ANN202
    """Start `python -m planner._worker` on some blocks; (process, result path, stderr file)."""
    import pickle
    import subprocess
    import sys

    job, res = os.path.join(tmp, f"job{w}.pkl"), os.path.join(tmp, f"res{w}.pkl")
    members = [s for b in blocks for s in b]
    with open(job, "wb") as f:
        pickle.dump(
            (
                cands.restrict(members),
                catalog,
                options,
                blocks,
                limit,
                {s: v for s, v in (floors or {}).items() if s in set(members)},
                stream,
            ),
            f,
        )
    # stderr to a file, not a pipe: a chatty worker cannot fill a pipe nobody reads yet
    err = open(os.path.join(tmp, f"err{w}.txt"), "w+b")  # noqa: SIM115 (closed by the caller)
    return (
        subprocess.Popen(
            [sys.executable, "-m", "planner._worker", job, res],
            stdout=subprocess.DEVNULL,
            stderr=err,
        ),
        res,
        err,
    )


class _GroupBounds:
    """Joint models of the groups tied by latency budgets, solved in worker processes: a bound for
    each group and a placement meeting its budgets.

    Each group whose stand-alone plans miss a budget is one model with those budgets
    (`_solve_block`) over regions pruned by latency-aware dominance. The model is a relaxation of
    the group's part of the whole problem and the pruning is exact (candidates.prune_dominated), so
    its proven bound may replace the sum of its members' stand-alone bounds; each member's own bound
    is a row of the model (a valid cut that lifts its weak linear relaxation). Groups run smallest
    first, on `processes` workers; those finished when `collect` is called count, the rest keep
    their members' bounds and plans."""

    def __init__(
        self,
        cands: Candidates,
        catalog: Catalog,
        options: PlanOptions,
        units: dict[int, int],
        service_bound: dict[str, float],
        deadline: float,
        processes: int,
    ):
        import tempfile

        self.procs: list = []
        self.tried = 0
        where = _where(cands.offers, units)
        missed = {s for pair in _latency_violations(cands.spec, where, catalog) for s in pair}
        groups = [g for g in _latency_groups(cands.spec) if missed.intersection(g)]
        left = deadline - time.perf_counter()
        if not groups or left <= 1.0 or processes < 1:
            return
        pruned = prune_dominated(cands.restrict([s for g in groups for s in g]), catalog)
        rows = {g: sum(len(pruned._rows_of.get(s, ())) for s in g) for g in groups}
        # Latency-aware dominance prunes little where a member has many regions near its partners:
        # such joint models rarely close in the time a group gets (measured: 2 services x 130
        # regions, no bound above the stand-alone ones in 20 s), so they are not tried.
        groups = sorted(
            (g for g in groups if rows[g] <= GROUP_ROWS_PER_MEMBER * len(g)), key=rows.get
        )
        if not groups:
            return
        self.tried = len(groups)
        self.floors = {s: service_bound[s] for g in groups for s in g}
        self.offers = cands.offers
        limit = min(
            max(0.5, GROUP_SHARE * left * processes / len(groups)), 0.1 * options.time_limit, 10.0
        )
        self.tmp = tempfile.TemporaryDirectory(prefix="mcplan-")
        quiet = replace(options, progress=None)
        for w in range(min(processes, len(groups))):  # smallest first on every worker
            self.procs.append(
                _start_worker(
                    self.tmp.name,
                    w,
                    pruned,
                    catalog,
                    quiet,
                    groups[w::processes],
                    limit,
                    self.floors,
                    stream=True,
                )
            )

    def collect(
        self, wait_until: float, units: dict[int, int], strategies: dict[str, str]
    ) -> tuple[float, int, dict[int, int], dict[str, str]]:
        """Stop the workers by `wait_until`; how much the finished groups raise the sum of their
        stand-alone bounds, how many finished, and `units`/`strategies` with their placements."""
        import pickle

        done: list = []
        try:
            while (
                any(p.poll() is None for p, _, _ in self.procs) and time.perf_counter() < wait_until
            ):
                time.sleep(0.05)
            for proc, res, err in self.procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                err.close()
                for path in (res, res + ".part"):
                    if os.path.exists(path):
                        with open(path, "rb") as f:
                            done += pickle.load(f)
                        break
        finally:
            if self.procs:
                self.tmp.cleanup()
            self.procs = []
        gain = 0.0
        service_of = _column_lookup(self.offers.loc[list(units)], "service")
        units, strategies = dict(units), dict(strategies)
        for block, out in done:
            if isinstance(out, BaseException):
                raise out
            group_units, group_strategies, group_bound = out[:3]
            gain += max(0.0, group_bound - sum(self.floors[s] for s in block))
            if group_strategies:  # a placement that meets the group's budgets
                for i in [i for i in units if service_of.get(i) in block]:
                    del units[i]
                units.update(group_units)
                strategies.update(group_strategies)
        return gain, len(done), units, strategies


def _count(path: str) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read() or 0)
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return 0


def _fallback_if_error(
    result: SolveResult, built: BuiltModel, options: PlanOptions, limit: float
) -> SolveResult:
    """CBC as the fallback when HiGHS errors out (not when it proves infeasibility or times out)."""
    if result.status in (SolveStatus.ERROR, SolveStatus.INVALID) and options.solver == "highs":
        retry = get_backend("cbc").solve(
            built.prob, SolverOptions("cbc", limit, options.gap, options.threads)
        )
        if retry.status.has_plan or retry.status == SolveStatus.INFEASIBLE:
            retry.detail = f"CBC fallback after HiGHS {result.status.value}: {result.detail}"
            return retry
    return result


def _overfills_private(plan: Plan, catalog: Catalog) -> bool:
    p = plan.placements.join(catalog.regions["kind"], on="region")
    p = p[p["kind"] == "private"]
    if p.empty:
        return False
    for res, col in (
        ("vcpu", "vcpu_capacity"),
        ("mem_gib", "mem_gib_capacity"),
        ("storage_gb", "storage_gb_capacity"),
    ):
        used = (p[res] * p["units"]).groupby(p["region"]).sum()
        if (used > catalog.sites[col].reindex(used.index) + 1e-9).any():
            return True
    return False


def _repair_private(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    union: Plan,
    limit: float,
):  # noqa: ANN202
    """Greedy repair of shared private capacity (as measured in the solver findings): services on an
    over-full site are solved again without private regions; those that save the most per vCPU
    stay private while the site has room, the others take their public plan."""
    off = cands.offers
    p = union.placements.join(catalog.regions["kind"], on="region")
    users = sorted(set(p.loc[p["kind"] == "private", "service"]))
    public_only = Candidates(
        cands.spec,
        off[off["kind"] != "private"],
        cands.demand,
        cands.strategies,
        cands.scenarios,
        cands.user_reach,
        cands.global_services,
        cands.notes,
    )
    alt: dict[str, tuple] = {}
    rows = []
    public = set(public_only.offers["service"])
    movable = [
        s for s in users if s in public
    ]  # the others cannot leave the private cloud: they stay
    for s, out in _solve_each(public_only.restrict(movable), catalog, options, limit):
        if isinstance(out, (InfeasibleError, NoPlanError, SolverError)):
            continue
        if isinstance(out, BaseException):
            raise out
        alt[s] = out
        mine = p[(p["service"] == s)]
        cost_private = float(mine["usd_per_month"].sum())
        vcpu = float(
            (
                mine.loc[mine["kind"] == "private", "vcpu"]
                * mine.loc[mine["kind"] == "private", "units"]
            ).sum()
        )
        public_cost = float(sum(off.at[i, "usd_per_month"] * n for i, n in alt[s][0].items()))
        rows.append((s, (public_cost - cost_private) / max(vcpu, 1e-9)))
    if not rows:
        return None
    left = {
        r: {
            res: float(catalog.sites.at[r, col])
            for res, col in (
                ("vcpu", "vcpu_capacity"),
                ("mem_gib", "mem_gib_capacity"),
                ("storage_gb", "storage_gb_capacity"),
            )
        }
        for r in catalog.sites.index
    }
    fixed = [s for s in users if s not in alt]
    for s in fixed:  # services with no public alternative are placed first
        _take(p, s, left)
    new_strategies = dict(strategies)
    service_of = _column_lookup(off.loc[list(units)], "service")
    mine_of: dict[str, dict[int, int]] = {}
    for i, n in units.items():
        mine_of.setdefault(service_of[i], {})[i] = n
    left_out: list[float] = []
    for s, saving in sorted(rows, key=lambda x: -x[1]):
        if not _take(p, s, left):
            left_out.append(saving)
            mine_of[s] = dict(alt[s][0])
            new_strategies.update(alt[s][1])
    new_units = {i: n for held in mine_of.values() for i, n in held.items()}
    # prices to try for a Lagrangian bound: the marginal saving per vCPU where the site filled up
    prices = sorted({round(f * x, 6) for x in left_out[:1] for f in (0.5, 1.0, 2.0) if x > 0})
    return new_units, new_strategies, prices


def _lagrangian_bound(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    service_bound: dict[str, float],
    price: float,
    limit: float,
) -> float:
    """A valid lower bound with private vCPU priced at `price` per vCPU-month instead of capped:
    sum over services of their stand-alone bound with that price, minus price x the capacity of the
    sites they may use. For the optimal plan x*, sum_s (cost_s + price v_s(x*)) - price C <= cost(x*)
    because sum_s v_s(x*) <= C; each service's own minimum is at most its term. Services that may
    not use a private site keep their unpriced bound."""
    off = cands.offers
    private = off["kind"] == "private"
    capable = sorted(set(off.loc[private, "service"]))
    if not capable:
        return -math.inf
    priced = off.copy()
    priced.loc[private, "usd_per_month"] = (
        priced.loc[private, "usd_per_month"] + price * priced.loc[private, "vcpu"]
    )
    sub = Candidates(
        cands.spec,
        priced[priced["service"].isin(capable)],
        cands.demand.loc[capable],
        {s: cands.strategies[s] for s in capable},
        cands.scenarios,
        {k: v for k, v in cands.user_reach.items() if k[0] in capable},
        frozenset(s for s in cands.global_services if s in capable),
        cands.notes,
    )
    total = sum(b for s, b in service_bound.items() if s not in capable)
    for _s, out in _solve_each(sub, catalog, options, limit):
        if isinstance(out, BaseException):
            return -math.inf  # no bound from this price; the plain bound still holds
        total += out[2]
    sites = sorted(set(off.loc[private, "region"]))
    return total - price * float(catalog.sites.loc[sites, "vcpu_capacity"].sum())


def _take(p: pd.DataFrame, service: str, left: dict[str, dict[str, float]]) -> bool:
    """Reserve the service's private usage if it fits everywhere; False (nothing reserved) if not."""
    mine = p[(p["service"] == service) & (p["kind"] == "private")]
    need = {
        r: {res: float((g[res] * g["units"]).sum()) for res in SITE_RESOURCES}
        for r, g in mine.groupby("region")
    }
    if any(need[r][res] > left[r][res] + 1e-9 for r in need for res in need[r]):
        return False
    for r in need:
        for res in need[r]:
            left[r][res] -= need[r][res]
    return True


def _pruned_regions(
    pruned: Candidates, full: Candidates, union: Plan, catalog: Catalog
) -> dict[str, set[str]]:
    """Regions for the coordination model, per service: those that survived dominance pruning,
    plus, for each dependency, the regions its partner chose alone (co-location makes egress free
    and meets latency budgets)."""
    keep = {s: set(g["region"]) for s, g in pruned.offers.groupby("service")}
    off = full.offers[full.offers["role"] == "primary"]
    chosen = {s: set(g["region"]) for s, g in union.placements.groupby("service")}
    for dep in full.spec.dependencies:
        allowed_t = set(off.loc[off["service"] == dep.target, "region"])
        allowed_s = set(off.loc[off["service"] == dep.source, "region"])
        keep[dep.target] |= chosen.get(dep.source, set()) & allowed_t
        keep[dep.source] |= chosen.get(dep.target, set()) & allowed_s
        if dep.max_latency_ms is not None:
            # every kept caller region needs callee regions within the budget to choose from
            near = {
                r: {t for t in allowed_t if catalog.rtt_ms(r, t) <= dep.max_latency_ms}
                for r in keep.get(dep.source, set())
            }
            for r, ts in near.items():
                keep[dep.target] |= ts
    return keep


# ------------------------------------------------------------------ one coupled model
def _solve_coupled(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    deadline: float,
    timings: dict[str, float],
    bound: float | None,
    label: str,
    full: bool = False,
    start: Plan | None = None,
    diagnose: bool = True,
) -> Plan:
    t0 = time.perf_counter()
    built = build_model(cands, catalog, BuildOptions(couple=True))
    timings["build_s"] = timings.get("build_s", 0.0) + time.perf_counter() - t0
    _say(
        options,
        f"solving {built.size['variables']} variables x {built.size['constraints']} constraints "
        f"with {options.solver} (limit {max(1.0, deadline - time.perf_counter()):.0f} s)",
    )
    left = max(1.0, deadline - time.perf_counter())
    warm = _warm_start(built, start) if start is not None and start.verification.ok else ()
    # with a valid outside bound, stop as soon as a plan is within the requested gap of it
    stop_at = (
        bound / (1 - options.gap) if bound is not None and bound > 0 and options.gap < 1 else None
    )
    result = get_backend(options.solver).solve(
        built.prob,
        SolverOptions(
            options.solver, left, options.gap, options.threads, start=warm, stop_at=stop_at
        ),
    )
    result = _fallback_if_error(result, built, options, left)
    timings["solve_s"] = timings.get("solve_s", 0.0) + result.seconds
    if result.status == SolveStatus.INFEASIBLE:
        # a pruned attempt is our restriction, not the user's problem: no diagnosis then
        raise (
            explain_infeasible(
                cands, catalog, options, time.perf_counter() + max(30.0, options.time_limit)
            )
            if diagnose
            else InfeasibleError(["pruned model"])
        )
    _check_result(result)
    # The solver's bound is valid for the whole problem only when no candidate was pruned.
    own = result.bound if (label == "monolithic" or full) else None
    bounds = [b for b in (bound, own) if b is not None]
    plan = _assemble(
        cands,
        catalog,
        _units_of(built),
        _strategies_of(built),
        max(bounds) if bounds else None,
        label,
        options.solver,
        built.size,
        options.gap,
    )
    if result.status == SolveStatus.FEASIBLE and result.detail != "target reached":
        plan.time_limited = True
        plan.notes.append("time limit reached: the plan is the best found, not proven optimal")
    if not plan.verification.ok:
        raise SolverError(
            "the solver returned a plan that fails independent verification:\n  - "
            + "\n  - ".join(plan.verification.violations[:10])
        )
    return plan


def _warm_start(built: BuiltModel, plan: Plan) -> tuple[tuple[str, float], ...]:
    """Unit counts, presences and strategies of a known plan, as a partial MIP start."""
    units = plan.placements.groupby(["service", "offering", "role"])["units"].sum()
    off = built.cands.offers
    start: list[tuple[str, float]] = []
    for i, var in built.n.items():
        key = (
            off.at[i, "service"],
            off.at[i, "offering"],
            "backup" if off.at[i, "role"] == "backup" else None,
        )
        n = 0.0
        for role in ("backup",) if key[2] else ("primary", "active", "standby"):
            n += float(units.get((key[0], key[1], role), 0.0))
        start.append((var.name, n))
    present = set(zip(plan.placements["service"], plan.placements["region"], strict=True))
    start += [(u.name, 1.0 if key in present else 0.0) for key, u in built.u.items()]
    start += [
        (z.name, 1.0 if plan.strategies.get(s) == name else 0.0) for (s, name), z in built.z.items()
    ]
    return tuple(start)


def _check_result(result: SolveResult) -> None:
    if result.status == SolveStatus.NO_SOLUTION:
        raise NoPlanError(
            f"no plan found within the time limit ({result.seconds:.1f} s); "
            "raise --time-limit or simplify the spec"
        )
    if result.status == SolveStatus.INVALID:
        raise SolverError(
            f"the solver's answer does not satisfy the model ({result.detail}); "
            "not showing it as a plan"
        )
    if not result.status.has_plan:
        raise SolverError(f"solver failed: {result.status.value} {result.detail}")


def _units_of(built: BuiltModel) -> dict[int, int]:
    return {
        i: int(round(v.varValue or 0.0)) for i, v in built.n.items() if round(v.varValue or 0.0) > 0
    }


def _strategies_of(built: BuiltModel) -> dict[str, str]:
    out = {}
    for s, options in built.cands.strategies.items():
        if len(options) == 1:
            out[s] = options[0].name
        else:
            out[s] = max(options, key=lambda o: built.z[(s, o.name)].varValue or 0.0).name
    return out


def _assemble(
    cands: Candidates,
    catalog: Catalog,
    units: dict[int, int],
    strategies: dict[str, str],
    bound: float | None,
    method: str,
    solver: str,
    size: dict[str, int],
    gap_target: float = 0.001,
) -> Plan:
    placements = placements_from_units(units, cands.offers, strategies)
    plan = Plan(
        cands.spec,
        placements,
        strategies,
        fees_for(placements, catalog),
        egress_for(placements, cands.spec, catalog),
        bound=bound,
        method=method,
        solver=solver,
        model_size=dict(size),
        gap_target=gap_target,
    )
    plan.verification = verify_plan(plan, catalog)
    return plan


# ------------------------------------------------------------------ infeasibility, explained
# Families in the order a user would rather relax them, with their names in the user's words.
RELAXABLE = {
    "budget": "the monthly budget",
    "max_providers": "the provider limit (policy.max_providers)",
    "max_regions": "a service's max_regions",
    "private_capacity": "private data-centre capacity",
    "private_share": "the private share of a hybrid strategy (policy.private_share_min)",
    "dependency_latency": "a dependency latency budget",
    "user_latency": "a user latency budget",
    "survival": "the survive policy or a DR strategy",
    "demand": "a service's demand",
}


def explain_infeasible(
    cands: Candidates, catalog: Catalog, options: PlanOptions, deadline: float = math.inf
) -> InfeasibleError:
    """Which requirements cannot all hold: re-solve with penalised slack on one family of rows at a
    time, in the order a user would rather relax them; the first family whose slack alone restores a
    plan is explained row by row, and the others that would also do are named. When no single
    family suffices, slack on every row together. Past `deadline` (one elastic model of a large
    application takes tens of seconds to build and solve) it says so rather than keep the user waiting."""
    present = {row.family for row in build_model(cands, catalog, BuildOptions(couple=True)).rows}
    enough: list[str] = []
    first: list[str] = []
    for family in RELAXABLE:
        if family not in present:
            continue
        if time.perf_counter() > deadline:
            if first:
                break
            return InfeasibleError(
                [
                    "the solver found that no plan meets every requirement, and the diagnosis of which one to "
                    f"relax did not finish in time (it had {options.time_limit:g} s); raise --time-limit for a full "
                    "diagnosis, or try relaxing survive, residency or latency budgets one at a time"
                ]
            )
        fams = frozenset({family, "survival_cut"} if family == "survival" else {family})
        messages = _elastic_messages(cands, catalog, options, fams)
        if messages is None:
            continue
        enough.append(family)
        if not first:
            first = messages
    if first:
        return InfeasibleError(first, [RELAXABLE[f] for f in enough[1:]])
    messages = _elastic_messages(cands, catalog, options, None)
    return InfeasibleError(
        messages
        or [
            "the requirements conflict, and the diagnosis could not isolate "
            "which; try relaxing survive, residency or latency budgets one at a time"
        ]
    )


def _elastic_messages(
    cands: Candidates, catalog: Catalog, options: PlanOptions, families: frozenset[str] | None
) -> list[str] | None:
    """Sentences for the rows that need slack when only `families` may bend; None if that is not enough."""
    built = build_model(
        cands, catalog, BuildOptions(couple=True, elastic=True, elastic_families=families)
    )
    result = get_backend("highs").solve(
        built.prob, SolverOptions("highs", 20.0, 0.01, options.threads)
    )
    if not result.status.has_plan:
        return None
    used = [
        (row, float(var.varValue or 0.0))
        for var, row in built.slacks
        if (var.varValue or 0.0) > 1e-6
    ]
    messages: list[str] = []
    for row, slack in used:
        msg = _sentence(row.family, row.meta, slack, cands, catalog)
        if msg and msg not in messages:
            messages.append(msg)
    return messages[:12]


def _sentence(family: str, meta: dict, slack: float, cands: Candidates, catalog: Catalog) -> str:
    spec = cands.spec
    s = meta.get("service", "")
    svc = spec.service(s) if s else None
    off = (
        cands.offers[(cands.offers["service"] == s) & (cands.offers["role"] == "primary")]
        if s
        else None
    )
    why = ""
    if svc is not None:
        limits = []
        if svc.residency:
            limits.append(f"may only run in {'/'.join(svc.residency)}")
        if svc.providers:
            limits.append(f"is limited to {', '.join(svc.providers)}")
        if svc.user_facing and spec.users:
            limits.append("must be within its users' latency budgets")
        why = (f"`{s}` " + " and ".join(limits) + "; ") if limits else ""
    if family == "survival":
        scen = meta["scenario"]
        provs = sorted(set(off["provider"])) if off is not None else []
        regs = sorted(set(off["region"])) if off is not None else []
        cat = svc.category if svc else ""
        if scen.startswith("provider:"):
            return (
                f"{why}surviving a provider outage needs two providers that offer {cat} there; "
                f"it may use only {len(provs)} ({', '.join(provs)})"
            )
        if meta.get("growth"):
            return (
                f"`{s}` must grow back to full capacity after losing {scen.split(':', 1)[1]}, but no public "
                "region it may use survives and the private capacity it holds is too small"
            )
        if len(regs) == 1:
            return (
                f"{why}surviving a {scen.split(':', 1)[0]} outage needs a second region for `{s}`, "
                f"but only {regs[0]} is allowed"
            )
        return (
            f"{why}`{s}` cannot keep enough {meta.get('resource')} running without "
            f"{scen.split(':', 1)[1]} among its allowed regions ({', '.join(regs[:6])})"
        )
    if family == "user_latency":
        group = meta["group"]
        u = next(x for x in spec.users if x.name == group)
        reach = sorted(cands.user_reach.get((s, group), ()))
        if "scenario" in meta:
            return (
                f"users in {group} need `{s}` within {u.max_latency_ms:g} ms even after losing "
                f"{meta['scenario'].split(':', 1)[1]}, but the only allowed regions that close are "
                f"{', '.join(reach) or 'none'}"
            )
        return f"no region allowed for `{s}` is within {u.max_latency_ms:g} ms of users in {group}"
    if family == "dependency_latency":
        return (
            f"`{s}` in {meta['region']} has no region of `{meta['target']}` within "
            f"{meta['budget']:g} ms it may use"
        )
    if family == "private_capacity":
        return (
            f"private site {meta['site']} has {meta['capacity']:,.0f} {meta['resource']} usable; "
            f"the plan needs about {meta['capacity'] + slack:,.0f}"
        )
    if family == "max_providers":
        return (
            f"the policy allows at most {spec.policy.max_providers} provider(s), fewer than the "
            "survival and residency requirements need"
        )
    if family == "max_regions":
        return f"`{s}` may use at most {meta['limit']} regions, fewer than it needs"
    if family == "budget":
        return (
            f"the cheapest plan that meets everything else costs about "
            f"${meta['budget'] + slack:,.2f}/month, over the budget of ${meta['budget']:,.2f}"
        )
    if family == "demand":
        return f"`{s}` cannot get {meta['demand']:g} {meta['resource']} from its allowed offerings"
    return f"{family} constraint {meta} cannot hold"


def array_units(plan: Plan) -> np.ndarray:
    return plan.placements["units"].to_numpy()


# ------------------------------------------------------------------ coordination by neighbourhood re-solves
class _PrivateUse:
    """Capacity that unit counts take at private sites, from lookups over the private rows built
    once (the offers table can hold 500k rows; indexing it per call cost 9 ms at 1000 services)."""

    def __init__(self, offers: pd.DataFrame):
        priv = offers[(offers["kind"] == "private").to_numpy()]
        self.rows = {
            i: (s, r, caps)
            for i, s, r, *caps in zip(
                priv.index,
                priv["service"].tolist(),
                priv["region"].tolist(),
                *(priv[res].astype(float).tolist() for res in SITE_RESOURCES),
                strict=True,
            )
        }

    def __call__(
        self, units: dict[int, int], services: set[str] | None = None
    ) -> dict[tuple[str, str], float]:
        """(site, resource) -> capacity taken by the given units (of `services` only, when given)."""
        out: dict[tuple[str, str], float] = {}
        for i, n in units.items():
            row = self.rows.get(i)
            if n <= 0 or row is None or (services is not None and row[0] not in services):
                continue
            for res, cap in zip(SITE_RESOURCES, row[2], strict=True):
                out[(row[1], res)] = out.get((row[1], res), 0.0) + cap * n
        return out


class _Neighbourhoods:
    """Re-solve one service (or two linked ones) at a time with everything else held fixed.

    The sub-model is the coupled model over the block's services, given more regions than
    dominance alone keeps (its partners' regions, for co-location; regions within each latency
    budget of them), plus the dependency partners with their unit counts fixed, so every cost
    term that involves the block (its units and fees, egress on its dependencies) is priced
    exactly and every coupling row that involves it holds. A solve warm-started from the current
    plan returns a plan no worse for the whole application; the search repeats until no block
    improves or the time box ends. This is a local search: it improves the plan, the bound comes
    from elsewhere."""

    def __init__(
        self, full: Candidates, pruned: Candidates, catalog: Catalog, options: PlanOptions
    ):
        self.full, self.catalog, self.options = full, catalog, options
        off = full.offers
        self.off = off
        self.allowed = {
            s: set(g) for s, g in off.loc[off["role"] == "primary"].groupby("service")["region"]
        }
        self.base = {s: set(g) for s, g in pruned.offers.groupby("service")["region"]}
        self.partners: dict[str, set[str]] = {s: set() for s in full.services()}
        for dep in full.spec.dependencies:
            self.partners[dep.source].add(dep.target)
            self.partners[dep.target].add(dep.source)
        self.service_of = _column_lookup(off, "service")
        self.region_of = _column_lookup(off, "region")
        self.role_of = _column_lookup(off, "role")
        self.private_use = _PrivateUse(off)
        self.seconds = {"build_s": 0.0, "solve_s": 0.0}

    def regions(self, units: dict[int, int]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for i, n in units.items():
            if n > 0 and self.role_of[i] == "primary":
                out.setdefault(self.service_of[i], set()).add(self.region_of[i])
        return out

    def resolve(
        self,
        block: list[str],
        units: dict[int, int],
        strategies: dict[str, str],
        time_limit: float,
        gap: float,
        start: tuple[dict[int, int], dict[str, str]] | None = None,
    ) -> tuple[dict[int, int], dict[str, str]] | None:
        """New units and strategies for the block's services, or None when the solve found no plan.
        `start`: another placement of the block's services (units, strategies) that meets the
        couplings, to start from when the current one does not (its regions join the model)."""
        where = self.regions(units)
        inside = set(block)
        if start is not None:  # the block's services as placed in `start`, everything else as now
            units = {i: n for i, n in units.items() if self.service_of[i] not in inside}
            units.update({i: n for i, n in start[0].items() if self.service_of[i] in inside})
            strategies = {**strategies, **{s: start[1][s] for s in block if s in start[1]}}
            where = {s: r for s, r in where.items() if s not in inside}
            where.update(
                self.regions({i: n for i, n in units.items() if self.service_of[i] in inside})
            )
        fixed_partners = sorted(set().union(*(self.partners[s] for s in block)) - inside)
        keep: dict[str, set[str]] = {}
        for s in block:
            regs = set(self.base.get(s, ())) | where.get(s, set())
            for t in self.partners[s]:
                regs |= where.get(t, set()) & self.allowed[s]
            keep[s] = regs
        budgets = [d for d in self.full.spec.dependencies if d.max_latency_ms is not None]
        for _ in range(len(block)):  # along chains of budgets inside the block, to a fixed point
            grew = False
            for dep in budgets:
                for a, b in ((dep.source, dep.target), (dep.target, dep.source)):
                    if a not in inside:
                        continue
                    around = keep[b] if b in inside else where.get(b, set())
                    near = {
                        r
                        for r in self.allowed[a] - keep[a]
                        if any(self.catalog.rtt_ms(r, rb) <= dep.max_latency_ms for rb in around)
                    }
                    if near:
                        keep[a] |= near
                        grew = True
            if not grew:
                break
        off = self.off
        # the block's own rows only (a pass over the whole table per re-solve cost 50 ms at 50 services)
        mine = [
            i
            for s in block
            for i in off.index[self.full._rows_of.get(s, [])]
            if self.region_of[i] in keep[s]
        ]
        held = [i for i, n in units.items() if n > 0 and self.service_of[i] in fixed_partners]
        rows = pd.Index(mine + held)
        services = [s for s in self.full.services() if s in inside or s in fixed_partners]
        sub = Candidates(
            self.full.spec,
            off.loc[rows.sort_values()],
            self.full.demand.loc[services],
            {s: self.full.strategies[s] for s in services},
            self.full.scenarios,
            {k: v for k, v in self.full.user_reach.items() if k[0] in services},
            frozenset(s for s in self.full.global_services if s in services),
            self.full.notes,
        )
        others = set(self.full.services()) - inside - set(fixed_partners)
        reserved = self.private_use(units, others)
        t0 = time.perf_counter()
        built = build_model(
            sub,
            self.catalog,
            BuildOptions(
                couple=True, fixed_units={i: units[i] for i in held}, private_reserved=reserved
            ),
        )
        self.seconds["build_s"] += time.perf_counter() - t0
        start = [(v.name, float(units.get(i, 0))) for i, v in built.n.items()]
        start += [(u.name, 1.0 if r in where.get(s, ()) else 0.0) for (s, r), u in built.u.items()]
        start += [
            (z.name, 1.0 if strategies.get(s) == name else 0.0) for (s, name), z in built.z.items()
        ]
        result = get_backend(self.options.solver).solve(
            built.prob,
            SolverOptions(
                self.options.solver,
                time_limit,
                gap,
                self.options.threads,
                small_model=True,
                start=tuple(start),
            ),
        )
        self.seconds["solve_s"] += result.seconds
        if not result.status.has_plan:
            return None
        new_units = {i: n for i, n in _units_of(built).items() if self.service_of[i] in inside}
        return new_units, {s: v for s, v in _strategies_of(built).items() if s in inside}


def _latency_groups(spec: AppSpec) -> list[tuple[str, ...]]:
    """Services tied to one another by dependency latency budgets (two or more), each sorted."""
    tied = nx.Graph(
        [(d.source, d.target) for d in spec.dependencies if d.max_latency_ms is not None]
    )
    return sorted(tuple(sorted(c)) for c in nx.connected_components(tied))


def _latency_violations(
    spec: AppSpec, where: dict[str, set[str]], catalog: Catalog
) -> list[tuple[str, str]]:
    """Dependencies (caller, callee) whose latency budget some caller region misses."""
    out = []
    for dep in spec.dependencies:
        if dep.max_latency_ms is None:
            continue
        targets = where.get(dep.target, set())
        if any(
            min((catalog.rtt_ms(r, t) for t in targets), default=math.inf) > dep.max_latency_ms
            for r in where.get(dep.source, ())
        ):
            out.append((dep.source, dep.target))
    return out


def _latency_clique(
    catalog: Catalog, seed: list[str], regions: set[str], budget: float
) -> list[str]:
    """Regions pairwise within `budget` of each other, nearest the seed first: the seed (as much of
    it as is such a set itself), grown nearest first. Every service placed inside it meets every
    budget of at least `budget`."""
    pos = {r: catalog._pos(r) for r in regions | set(seed)}
    rtt = catalog.latency_ms
    near = lambda a, b: max(rtt[pos[a], pos[b]], rtt[pos[b], pos[a]]) <= budget  # noqa: E731
    clique = [seed[0]]
    for r in seed[1:]:
        if all(near(r, x) for x in clique):
            clique.append(r)
    for r in sorted(regions - set(clique), key=lambda r: max(rtt[pos[r], pos[x]] for x in clique)):
        if all(near(r, x) for x in clique):
            clique.append(r)
    return clique


def _seat_latency_groups(
    full: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    limit: float,
) -> tuple[dict[int, int], dict[str, str], int]:
    """A plan that meets every dependency latency budget, built in moments rather than searched for.

    For each group of services tied by budgets that some budget misses: around a region of the
    member with the fewest allowed regions (the hardest to move), first where it is now, grows a set
    of regions all within the group's tightest budget of one another; each member not already inside
    it is solved again alone (the cheap stand-alone model) over its nearest few regions of that set,
    with private capacity already held by others reserved. Any placement inside the set meets the
    group's budgets. When a member has no plan there, the next seed region is tried (at most
    SEAT_TRIES); a group that cannot be seated is left as it was, for the neighbourhood search.
    There is no deadline: the work is bounded (groups x tries x members, each a small solve of at
    most `limit` seconds), and when budgets are missed it is the quick way to a verified plan.
    Returns units, strategies and the number of groups seated."""
    off = full.offers
    tied = nx.Graph(
        [
            (d.source, d.target, {"budget": d.max_latency_ms})
            for d in full.spec.dependencies
            if d.max_latency_ms is not None
        ]
    )
    # lookups over the rows in use only: the full table can hold 500k offers
    info = off.loc[list(units), ["service", "region", "role"]]
    service_of, region_of = _column_lookup(info, "service"), _column_lookup(info, "region")
    primary = set(info.index[info["role"] == "primary"])
    mine: dict[str, dict[int, int]] = {}  # per service: each step costs what one service holds
    for i, n in units.items():
        mine.setdefault(service_of[i], {})[i] = n
    strategies = dict(strategies)
    private_use = _PrivateUse(off)
    private = private_use(units)
    allowed: dict[str, set[str]] = {}
    for s in tied.nodes:
        rows = full.restrict([s]).offers
        allowed[s] = set(rows.loc[rows["role"] == "primary", "region"])

    def regions(held: dict[int, int]) -> set[str]:
        return {region_of[i] for i, n in held.items() if n > 0 and i in primary}

    def seat(
        s: str, choices: list[str], reserved: dict[tuple[str, str], float]
    ) -> BuiltModel | None:
        built = build_model(
            full.restrict([s], {s: set(choices)}),
            catalog,
            BuildOptions(couple=False, private_reserved=reserved),
        )
        result = get_backend(options.solver).solve(
            built.prob,
            SolverOptions(
                options.solver, limit, max(options.gap, 0.01), options.threads, small_model=True
            ),
        )
        return built if result.status.has_plan else None

    seated = 0
    missed = {
        s for pair in _latency_violations(full.spec, _where(off, units), catalog) for s in pair
    }
    for group in map(set, nx.connected_components(tied)):
        if not group & missed:
            continue
        budget = min(d["budget"] for _a, _b, d in tied.subgraph(group).edges(data=True))
        anchor = min(sorted(group), key=lambda s: len(allowed.get(s, ())))
        pool = set().union(*(allowed.get(s, set()) for s in group))
        weight: dict[str, float] = {}
        for i, n in mine.get(anchor, {}).items():
            if i in primary:
                weight[region_of[i]] = weight.get(region_of[i], 0.0) + n
        held = sorted(weight, key=lambda r: -weight[r])
        seeds = held + sorted(allowed.get(anchor, set()) - set(held))
        for seed in seeds[:SEAT_TRIES]:
            clique = _latency_clique(catalog, [seed, *held], pool, budget)
            moved: dict[str, tuple[dict[int, int], dict[str, str]]] = {}
            usage = dict(private)
            for s in [anchor, *sorted(group - {anchor})]:
                if regions(mine.get(s, {})) <= set(clique):
                    continue
                own = private_use(mine.get(s, {}))
                reserved = {k: v - own.get(k, 0.0) for k, v in usage.items()}
                near = [r for r in clique if r in allowed.get(s, set())]
                # the nearest few are enough to survive a region or provider and keep the model small
                built = seat(s, near[:SEAT_REGIONS], reserved)
                if built is None and len(near) > SEAT_REGIONS:
                    built = seat(s, near, reserved)
                if built is None:
                    moved = {}
                    break
                moved[s] = (_units_of(built), _strategies_of(built))
                sub = built.cands.offers.loc[list(moved[s][0])]
                region_of.update(_column_lookup(sub, "region"))
                primary.update(sub.index[sub["role"] == "primary"])
                for k, v in private_use(moved[s][0]).items():
                    reserved[k] = reserved.get(k, 0.0) + v
                usage = reserved
            else:
                for s, (new_units, new_strategies) in moved.items():
                    mine[s] = new_units
                    strategies.update(new_strategies)
                private = usage
                seated += 1
                break
    units = {i: n for held in mine.values() for i, n in held.items()}
    return units, strategies, seated


def _column_lookup(frame: pd.DataFrame, column: str) -> dict:
    """Row label -> value (several times faster than Series.to_dict on Arrow-backed strings)."""
    return dict(zip(frame.index, frame[column].tolist(), strict=True))


def _where(off: pd.DataFrame, units: dict[int, int]) -> dict[str, set[str]]:
    """Service -> regions where it runs primary units."""
    rows = off.loc[[i for i, n in units.items() if n > 0]]
    rows = rows[rows["role"] == "primary"]
    return {s: set(g) for s, g in rows.groupby("service")["region"]}


def _coordinate_locally(
    full: Candidates,
    pruned: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    deadline: float,
    timings: dict[str, float],
    fallback: tuple[dict[int, int], dict[str, str]] | None = None,
) -> tuple[dict[int, int], dict[str, str], int]:
    """Neighbourhood search from the union of stand-alone plans: the services of each dependency
    that costs egress or misses its latency budget are re-solved one at a time with their
    partners fixed, then both together, so a pair can also move to a third region. A block is
    solved again only after it or a partner changed. A group tied by latency budgets that the
    search could not mend in time takes its place from `fallback` (a plan that meets them).
    Returns units, strategies and the number of accepted moves."""
    hood = _Neighbourhoods(full, pruned, catalog, options)
    units, strategies = dict(units), dict(strategies)
    version = dict.fromkeys(full.services(), 0)
    solved: set[tuple] = set()
    moves = 0

    def pending() -> list[tuple[str, str]]:
        """Dependencies worth coordinating, most expensive first (latency misses before all)."""
        placements = placements_from_units(units, full.offers, strategies)
        bad = _latency_violations(full.spec, hood.regions(units), catalog)
        egress = egress_for(placements, full.spec, catalog)
        costly: list[tuple[str, str]] = []
        if len(egress):
            cost = (
                egress.groupby(["source", "target"])["usd_per_month"]
                .sum()
                .sort_values(ascending=False)
            )
            costly = [(s, t) for (s, t), c in cost.items() if c > 1e-9]
        return bad + [p for p in costly if p not in bad]

    # services tied by latency budgets move together: one alone may have no region near both sides
    component = {s: group for group in _latency_groups(full.spec) for s in group}

    missed: dict[str, object] = {"moves": -1, "pairs": set()}

    def blocks(stage: str, s: str, t: str) -> list[list[str]]:
        if (
            stage == "latency"
        ):  # only while the budget is still missed: one solve mends the component
            if missed["moves"] != moves:  # recomputed only after a move
                missed.update(
                    moves=moves,
                    pairs=set(_latency_violations(full.spec, hood.regions(units), catalog)),
                )
            return [list(component[s])] if (s, t) in missed["pairs"] else []
        return [[s], [t]] if stage == "single" else [[s, t]]

    for stage in ("latency", "single", "pair"):
        for _ in range(3):  # a move elsewhere can make a dependency worth another look
            if time.perf_counter() > deadline:
                break
            before = moves
            for s, t in pending():
                if time.perf_counter() > deadline:
                    break
                for block in blocks(stage, s, t):
                    around = sorted(set(block).union(*(hood.partners[b] for b in block)))
                    key = (tuple(block), tuple(version[x] for x in around))
                    if key in solved:
                        continue
                    solved.add(key)
                    if time.perf_counter() > deadline:
                        break
                    out = hood.resolve(
                        block,
                        units,
                        strategies,
                        max(
                            0.2,
                            min(
                                BLOCK_TIME_LIMIT * (4 if stage == "latency" else 1),
                                deadline - time.perf_counter(),
                            ),
                        ),
                        # mending a budget needs a plan, not a proof
                        max(options.gap, 0.02) if stage == "latency" else options.gap,
                        # from the fallback's placement, which meets the budgets
                        fallback if stage == "latency" else None,
                    )
                    if out is None:
                        continue
                    new_units, new_strategies = out
                    old = {i: n for i, n in units.items() if hood.service_of[i] in block}
                    if new_units != old:
                        for i in old:
                            del units[i]
                        units.update(new_units)
                        strategies.update(new_strategies)
                        for b in block:
                            version[b] += 1
                        moves += 1
            if moves == before or time.perf_counter() > deadline:
                break
        if stage == "latency" and fallback is not None:
            missed = {
                component[s]
                for s, _t in _latency_violations(full.spec, hood.regions(units), catalog)
            }
            for group in missed:
                take = {i: n for i, n in fallback[0].items() if hood.service_of[i] in group}
                for i in [i for i in units if hood.service_of[i] in group]:
                    del units[i]
                units.update(take)
                strategies.update({s: fallback[1][s] for s in group})
                for b in group:
                    version[b] += 1
                moves += 1
        _say(options, f"coordination, {STAGE_NAMES[stage]}: {moves} moves so far")
    timings.update({k: timings.get(k, 0.0) + v for k, v in hood.seconds.items()})
    return units, strategies, moves
