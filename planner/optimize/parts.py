"""Parts of the problem solved on their own: a service alone, or a group tied by latency budgets.

Takes candidates and a block of services; returns a `PartResult`: the part's unit counts and
strategies, its proven lower bound, and what the solve cost. A service alone is solved without
the families that couple services, so the sum of the parts' bounds is a valid lower bound for the
whole problem, and their union is the first plan. Many parts are solved in worker processes
(`planner._worker`) when there are enough to pay for starting them.

Also here, because every solve goes through them: what a solver's answer means (`check_result`),
CBC as the fallback when HiGHS errors, and the egress no placement can avoid (`egress_floor`),
which adds to the parts' bounds since a part alone prices no egress.
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import IO

from ..catalog import Catalog
from ..errors import InfeasibleError, NoPlanError, SolverError
from ..model.build import BuildOptions, BuiltModel, build_model
from ..model.candidates import Candidates
from ..model.readout import strategies_of, units_of
from ..solve import SolveResult, SolverOptions, SolveStatus, get_backend
from .common import PlanOptions
from .diagnose import explain_infeasible

# A latency group's joint model leaves out egress and the plan-wide limits: a relaxation, so its
# proven bound is valid for the group, and over regions pruned with latency-aware dominance it is
# exact.
GROUP_OMITS = frozenset({"egress", "max_providers", "budget"})
# Parts (a service alone, a group) are solved to this gap whatever the plan's: a part's slack adds
# up in the union and in the bound, and small models prove 0.1% about as fast as 1% (measured, 200
# services).
PART_GAP = 0.001
# Below this many services the per-service solves run in this process: starting a worker (importing
# pandas, PuLP, HiGHS) costs about 1.2 s and the two cores of the benchmark machine scale by about
# 1.25, so workers pay from about 65 services (measured: 50 services 2.3 s here, 2.6 s on two
# workers; 100 services 4.7 s and 3.8 s).
WORKERS_FROM = 64
PROGRESS_EVERY_S = 5.0  # how often long phases report progress
# Work limits (branch-and-bound nodes), so the same input gives the same plan on any machine; time
# limits are only the safety net of the whole run. A service alone proves its bound well within
# PART_NODES on the bundled examples (global-saas's web tier, the hardest, takes 3,412 nodes); a
# joint group model gets GROUP_NODES before its members keep their own bounds and plans (5,000
# took 32 s for five groups of the 50-service provider benchmark, and raised no bound).
PART_NODES = 20_000
GROUP_NODES = 500


@dataclass
class PartResult:
    """A part solved: its units and strategies (none when a group found no plan in time), its
    proven lower bound, the seconds spent building and solving its model, and the model's size.
    Sent back from worker processes, so it stays a plain module-level dataclass (picklable)."""

    units: dict[int, int]
    strategies: dict[str, str]
    bound: float
    build_s: float
    solve_s: float
    size: dict[str, int]
    objective: float = math.inf  # the part model's cost of these units (inf: no plan)
    note: str = ""  # the solver fallback that answered (FALLBACK_NOTE ...), for the plan's notes


@dataclass
class Worker:
    """A started `python -m planner._worker`: the process, where it writes its results, and the
    file that holds its stderr (closed by whoever collects it)."""

    proc: subprocess.Popen[bytes]
    result_path: str
    stderr: IO[bytes]


def solve_one(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    service: str,
    limit: float,
    node_limit: int | None = None,
) -> PartResult:
    """One service alone, without coupling: its proven bound, units and strategy."""
    return solve_block(cands, catalog, options, (service,), limit, node_limit=node_limit)


def solve_block(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    block: tuple[str, ...],
    limit: float,
    floors: dict[str, float] | None = None,
    node_limit: int | None = None,
    omit: frozenset[str] = GROUP_OMITS,
    diagnose: bool = True,
) -> PartResult:
    """One service alone without coupling, or a group tied by latency budgets with those budgets
    (see GROUP_OMITS) and each member's stand-alone bound as a floor on its cost. `node_limit`:
    the work limit, PART_NODES or GROUP_NODES when not given; `omit`: the coupling families a
    group's model leaves out (each left out keeps it a relaxation of the group's part);
    `diagnose`: explain an infeasible model in the user's terms (off for a restriction of our
    own)."""
    sub = cands.restrict(list(block))
    t0 = time.perf_counter()
    alone = len(block) == 1
    build = (
        BuildOptions(couple=False) if alone else BuildOptions(omit=omit, service_floor=floors or {})
    )
    built = build_model(sub, catalog, build)
    build_s = time.perf_counter() - t0
    result = get_backend(options.solver).solve(
        built.prob,
        SolverOptions(
            options.solver,
            limit,
            min(options.gap, PART_GAP),
            options.threads,
            small_model=True,
            node_limit=node_limit or (PART_NODES if alone else GROUP_NODES),
        ),
    )
    if result.status == SolveStatus.INFEASIBLE:
        # a restriction of our own (`diagnose` off) needs no explanation in the user's terms
        raise explain_infeasible(sub, catalog, options) if diagnose else InfeasibleError([])
    result = fallback_if_error(result, built, options, limit)
    floor = sum((floors or {}).get(s, 0.0) for s in block)
    note = result.detail if result.detail.startswith(FALLBACK_NOTE) else ""
    if not alone and result.status == SolveStatus.NO_SOLUTION:  # the members keep their own plans
        bound = max(result.bound or 0.0, floor)
        return PartResult({}, {}, bound, build_s, result.seconds, built.size, note=note)
    check_result(result)
    bound = max(result.bound if result.bound is not None else 0.0, floor)
    return PartResult(
        units_of(built),
        strategies_of(built),
        bound,
        build_s,
        result.seconds,
        built.size,
        result.objective if result.objective is not None else math.inf,
        note,
    )


def relaxed_block_bound(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    block: tuple[str, ...],
    limit: float,
    floors: dict[str, float],
    omit: frozenset[str],
) -> float:
    """A lower bound on the cost of `block` in any plan: the linear relaxation of its joint model
    (the couplings in `omit` left out, each member's `floors` a row), or the floors' sum when the
    relaxation is not solved. A relaxation of a relaxation, so valid; solved without branching, so
    its time does not grow with the depth of a search."""
    built = build_model(
        cands.restrict(list(block)), catalog, BuildOptions(omit=omit, service_floor=floors)
    )
    result = get_backend("highs").solve(
        built.prob, SolverOptions("highs", limit, 0.0, options.threads, relax=True)
    )
    floor = sum(floors.get(s, 0.0) for s in block)
    if result.status != SolveStatus.OPTIMAL or result.bound is None:
        return floor
    return max(result.bound, floor)


def solve_each(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    limit: float,
    on_count: Callable[[int, int], None] | None = None,
    node_limit: int | None = None,
    deadline: float | None = None,
) -> Iterator[tuple[str, PartResult | BaseException]]:
    """Yield (service, result or exception) for each service alone, in spec order: in worker
    processes when there are enough services to pay for starting them (see planner._worker), else
    here. A `node_limit` other than PART_NODES (a search for plans rather than bounds) solves here:
    the workers keep to PART_NODES. Past `deadline` (the plan's time limit) it stops, workers
    killed, and raises NoPlanError: without every service solved there is no first plan."""
    services = cands.services()
    workers = options.workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(services) < WORKERS_FROM or node_limit is not None:
        for done, s in enumerate(services):
            if deadline is not None and time.perf_counter() > deadline:
                raise _out_of_time(done, len(services), options)
            try:
                yield s, solve_one(cands, catalog, options, s, limit, node_limit)
            except Exception as exc:
                yield s, exc
        return
    quiet = replace(options, progress=None)
    blocks: list[tuple[str, ...]] = [(s,) for s in services]
    chunks = [blocks[w::workers] for w in range(workers)]  # interleaved: similar work per worker
    with tempfile.TemporaryDirectory(prefix="mcplan-") as tmp:
        started = [
            start_worker(tmp, w, cands, catalog, quiet, chunk, limit, None)
            for w, chunk in enumerate(chunks)
            if chunk
        ]
        reported = time.perf_counter()
        while any(worker.proc.poll() is None for worker in started):
            time.sleep(0.2)
            if deadline is not None and time.perf_counter() > deadline:
                done = sum(_count(worker.result_path + ".done") for worker in started)
                for worker in started:
                    worker.proc.kill()
                    worker.proc.wait()
                    worker.stderr.close()
                raise _out_of_time(done, len(services), options)
            if on_count is not None and time.perf_counter() - reported >= PROGRESS_EVERY_S:
                reported = time.perf_counter()
                done = sum(_count(worker.result_path + ".done") for worker in started)
                on_count(done, len(services))
        results: dict[tuple[str, ...], PartResult | BaseException] = {}
        for worker in started:
            results.update(_results_of(worker))
    for s in services:
        yield s, results[(s,)]


def _out_of_time(done: int, total: int, options: PlanOptions) -> NoPlanError:
    """The time limit reached before every service was solved alone: no plan to show yet, and
    about how long the first plan needs at this pace."""
    need = options.time_limit * total / max(done, 1)
    return NoPlanError(
        f"no plan within the time limit ({options.time_limit:g} s): {done} of {total} services "
        f"were solved alone by then, and a first plan needs every one; raise --time-limit "
        f"(at this pace, to about {math.ceil(1.5 * need / 10) * 10:g} s)"
    )


def _results_of(worker: Worker) -> list[tuple[tuple[str, ...], PartResult | BaseException]]:
    """What a finished worker wrote; a SolverError with its last stderr line when it failed."""
    worker.stderr.seek(0)
    message = worker.stderr.read().decode(errors="replace").strip().splitlines()
    worker.stderr.close()
    if worker.proc.returncode != 0 or not os.path.exists(worker.result_path):
        raise SolverError(
            "a solver worker process failed: "
            + (message[-1] if message else f"exit code {worker.proc.returncode}")
        )
    with open(worker.result_path, "rb") as f:
        return list(pickle.load(f))


def start_worker(
    tmp: str,
    w: int,
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    blocks: list[tuple[str, ...]],
    limit: float,
    floors: dict[str, float] | None,
    stream: bool = False,
) -> Worker:
    """Start `python -m planner._worker` on some blocks, with its job and result files in `tmp`."""
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
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner._worker", job, res],
        stdout=subprocess.DEVNULL,
        stderr=err,
    )
    return Worker(proc, res, err)


def _count(path: str) -> int:
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read() or 0)
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return 0


# the start of a result's detail when the other solver answered in place of the chosen one
FALLBACK_NOTE = "solver fallback:"


def fallback_if_error(
    result: SolveResult, built: BuiltModel, options: PlanOptions, limit: float
) -> SolveResult:
    """The other solver when one errors out or returns an answer that breaks the model (not when
    it proves infeasibility or times out): CBC after HiGHS, HiGHS after CBC (whose binary has
    crashed on small zone-survival models). `detail` says which, for the plan's notes."""
    if result.status not in (SolveStatus.ERROR, SolveStatus.INVALID):
        return result
    other = "cbc" if options.solver == "highs" else "highs"
    retry = get_backend(other).solve(
        built.prob,
        SolverOptions(other, limit, options.gap, options.threads, node_limit=PART_NODES),
    )
    if retry.status.has_plan or retry.status == SolveStatus.INFEASIBLE:
        names = {"highs": "HiGHS", "cbc": "CBC"}
        retry.detail = (
            f"{FALLBACK_NOTE} {names[other]} answered after {names[options.solver]} "
            f"{result.status.value}: {result.detail}"
        )
        return retry
    return result


def check_result(result: SolveResult) -> None:
    """Raise, in the user's terms, when the solver's answer is not a plan we may show."""
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


def egress_floor(
    cands: Candidates, catalog: Catalog, skip: frozenset[tuple[str, str]] = frozenset()
) -> float:
    """Traffic every plan pays: a dependency between services that share no allowed region sends
    its declared requests and replies between them, at no less than the cheapest pair of allowed
    regions. Stand-alone bounds price no dependency traffic, so this adds to them. `skip`:
    dependencies (source, target) priced elsewhere (by a pair's joint model)."""
    off = cands.offers[cands.offers["serves"].astype(bool)]
    allowed = {s: sorted(set(g)) for s, g in off.groupby("service")["region"]}
    total = 0.0
    for dep in cands.spec.dependencies:
        if (dep.source, dep.target) in skip:
            continue
        src, dst = allowed.get(dep.source, []), allowed.get(dep.target, [])
        sent, back = dep.gb_per_month, dep.reply_gb_per_month
        if sent + back > 0 and src and dst and not set(src) & set(dst):
            total += min(
                sent * catalog.egress_rate(a, b) + back * catalog.egress_rate(b, a)
                for a in src
                for b in dst
            )
    return total
