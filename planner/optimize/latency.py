"""Services tied by dependency latency budgets: finding the budgets a placement misses, seating
each such group where it meets them, and bounding each group as one model.

Services solved alone go wherever they are cheapest, so a caller and its callee can land further
apart than their budget allows. Any placement of a group inside a set of regions all within the
group's tightest budget of one another meets its budgets (`latency_clique`), so
`seat_latency_groups` takes the union's units and returns a `Seating` that meets every budget in
moments. Meanwhile `GroupBounds` solves each such group as one model in worker processes: its
`collect` returns a `JointResult` with how much the groups' proven bounds exceed the sum of their
members' stand-alone bounds, and placements meeting the budgets.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from dataclasses import dataclass, replace

import networkx as nx

from ..catalog import Catalog
from ..model.build import BuildOptions, BuiltModel, build_model
from ..model.candidates import Candidates, Scenario, build_scenarios, prune_dominated
from ..model.readout import strategies_of, units_of
from ..solve import SolverOptions, get_backend
from ..spec import AppSpec
from .common import Placement, PlanOptions, column_lookup, where, zone_fragile
from .parts import PartResult, Worker, solve_block, start_worker
from .private import PrivateUse

SEAT_REGIONS = 8  # regions a service may choose from when seated next to its latency partners
SEAT_TRIES = 4  # seed regions tried per group before leaving it to the neighbourhood search
SEAT_NODES = 500  # work limit of one member's seating solve (a plan within 1% is all it needs)
GROUP_ROWS_PER_MEMBER = 700  # larger joint models are not tried (see GroupBounds)
# Nor are joint models above this many candidate rows in all: each is waited for to its node limit
# (the plan must not depend on the machine's speed), and under survive: region their presolve and
# root take the time (50-service benchmark, loaded machine: three two-member groups of 680-790 rows
# took 44 s at 100 nodes, for a bound 0.4% higher).
GROUP_ROWS = 500
# Joint models of at most this many candidate rows in all are solved here, after the seating,
# rather than in worker processes: starting one costs about 1.2 s (importing pandas, PuLP, HiGHS;
# 5 s on a loaded machine), where kr-ecommerce's one group of 160 rows solves in a fraction of that.
GROUPS_HERE_ROWS = 400


def latency_groups(spec: AppSpec) -> list[tuple[str, ...]]:
    """Services tied to one another by dependency latency budgets (two or more), each sorted."""
    tied = nx.Graph(
        [(d.source, d.target) for d in spec.dependencies if d.max_latency_ms is not None]
    )
    return sorted(tuple(sorted(c)) for c in nx.connected_components(tied))


def latency_violations(
    spec: AppSpec,
    regions_of: dict[str, set[str]],
    catalog: Catalog,
    global_services: frozenset[str] | set[str] = frozenset(),
    fragile: dict[str, set[str]] | None = None,
) -> list[tuple[str, str]]:
    """Dependencies (caller, callee) whose latency budget some caller region misses, in normal
    operation or after a failure of the policy (then from a caller region that survives it to the
    callee's regions that do), with services in the regions `regions_of` gives (see `where`).
    The verifier's rules: a zone failure of a multi-zone region stops a service there only where
    it holds at most one unit per row (`fragile`, see `zone_fragile`; none when not given), and
    `global_services` (global SaaS) lose their regions only to a provider failure."""
    fragile = fragile or {}
    in_use = sorted(set().union(*regions_of.values())) if regions_of else []
    failures = build_scenarios(spec.policy.survive, catalog.regions.loc[in_use])
    lost_by: dict[str, list[Scenario]] = {}  # region -> failures that lose it (or one of its zones)
    for f in failures:
        for r in f.regions | ({f.zone_of} if f.zone_of else set()):
            lost_by.setdefault(r, []).append(f)

    def loses(s: str, r: str, f: Scenario) -> bool:
        if s in global_services and f.kind != "provider":
            return False
        return r in f.regions or (r == f.zone_of and r in fragile.get(s, ()))

    out = []
    for dep in spec.dependencies:
        if dep.max_latency_ms is None:
            continue
        targets = regions_of.get(dep.target, set())
        for r in regions_of.get(dep.source, ()):
            near = [t for t in targets if catalog.rtt_ms(r, t) <= dep.max_latency_ms]
            # only a failure that loses a callee region within budget can leave r with none
            if not near or any(
                not loses(dep.source, r, f) and all(loses(dep.target, t, f) for t in near)
                for t0 in near
                for f in lost_by.get(t0, ())
            ):
                out.append((dep.source, dep.target))
                break
    return out


def latency_clique(
    catalog: Catalog, seed: list[str], regions: set[str], budget: float
) -> list[str]:
    """Regions pairwise within `budget` of each other, nearest the seed first: the seed (as much of
    it as is such a set itself), grown nearest first. Every service placed inside it meets every
    budget of at least `budget`."""
    pos = {r: catalog.position(r) for r in regions | set(seed)}
    rtt = catalog.latency_ms
    near = lambda a, b: max(rtt[pos[a], pos[b]], rtt[pos[b], pos[a]]) <= budget  # noqa: E731
    clique = [seed[0]]
    for r in seed[1:]:
        if all(near(r, x) for x in clique):
            clique.append(r)
    # ties by name: a set's order changes from one interpreter to the next (hash seeds)
    far = {r: max(rtt[pos[r], pos[x]] for x in clique) for r in regions - set(clique)}
    for r in sorted(far, key=lambda r: (far[r], r)):
        if all(near(r, x) for x in clique):
            clique.append(r)
    return clique


# ------------------------------------------------------------------ seating
@dataclass
class Seating:
    """A placement meeting every budget it could, and how many groups were seated to get it."""

    units: dict[int, int]
    strategies: dict[str, str]
    seated: int


def seat_latency_groups(
    full: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    limit: float,
    deadline: float | None = None,
) -> Seating:
    """A plan that meets every dependency latency budget, built in moments rather than searched for.

    For each group of services tied by budgets that some budget misses: around a region of the
    member with the fewest allowed regions (the hardest to move), first where it is now, grows a set
    of regions all within the group's tightest budget of one another; each member not already inside
    it is solved again alone (the cheap stand-alone model) over its nearest few regions of that set,
    with private capacity already held by others reserved. Any placement inside the set meets the
    group's budgets. When a member has no plan there, the next seed region is tried (at most
    SEAT_TRIES); a group that cannot be seated is left as it was, for the neighbourhood search.
    The work is bounded (groups x tries x members, each a small solve of at most SEAT_NODES
    nodes, `limit` seconds its safety net); past `deadline` (the plan's time limit) the groups not
    yet seated stay as they were."""
    tied = nx.Graph(
        [
            (d.source, d.target, {"budget": d.max_latency_ms})
            for d in full.spec.dependencies
            if d.max_latency_ms is not None
        ]
    )
    seats = _Seats(full, catalog, options, units, strategies, limit, list(tied.nodes))
    seated = 0
    missed = {
        s
        for pair in latency_violations(
            full.spec,
            where(full.offers, units),
            catalog,
            full.global_services,
            zone_fragile(full.offers, units),
        )
        for s in pair
    }
    for group in map(set, nx.connected_components(tied)):
        if not group & missed:
            continue
        if deadline is not None and time.perf_counter() > deadline:
            break
        budget = min(d["budget"] for _a, _b, d in tied.subgraph(group).edges(data=True))
        if seats.seat(group, budget):
            seated += 1
    units = {i: n for held in seats.mine.values() for i, n in held.items()}
    return Seating(units, seats.strategies, seated)


class _Seats:
    """The placement being seated, group by group: each service's units, the strategies, and the
    private capacity in use, with lookups over the rows in use only (the full table can hold 500k
    offers)."""

    def __init__(
        self,
        full: Candidates,
        catalog: Catalog,
        options: PlanOptions,
        units: dict[int, int],
        strategies: dict[str, str],
        limit: float,
        tied: list[str],
    ):
        self.full, self.catalog, self.options, self.limit = full, catalog, options, limit
        off = full.offers
        info = off.loc[list(units), ["service", "region", "serves"]]
        service_of, self.region_of = column_lookup(info, "service"), column_lookup(info, "region")
        self.serving = set(info.index[info["serves"].astype(bool)])  # rows it runs where held
        # per service: each step costs what one service holds
        self.mine: dict[str, dict[int, int]] = {}
        for i, n in units.items():
            self.mine.setdefault(service_of[i], {})[i] = n
        self.strategies = dict(strategies)
        self.private_use = PrivateUse(off)
        self.private = self.private_use(units)
        self.allowed: dict[str, set[str]] = {}
        for s in tied:
            rows = full.restrict([s]).offers
            self.allowed[s] = set(rows.loc[rows["serves"].astype(bool), "region"])

    def regions(self, held: dict[int, int]) -> set[str]:
        return {self.region_of[i] for i, n in held.items() if n > 0 and i in self.serving}

    def seat(self, group: set[str], budget: float) -> bool:
        """Seat the group around one seed region after another (its anchor's regions in use
        first); False, with nothing changed, when no seed tried has room for every member."""
        allowed = self.allowed
        anchor = min(sorted(group), key=lambda s: len(allowed.get(s, ())))
        pool = set().union(*(allowed.get(s, set()) for s in group))
        weight: dict[str, float] = {}
        for i, n in self.mine.get(anchor, {}).items():
            if i in self.serving:
                weight[self.region_of[i]] = weight.get(self.region_of[i], 0.0) + n
        held = sorted(weight, key=lambda r: (-weight[r], r))
        seeds = held + sorted(allowed.get(anchor, set()) - set(held))
        for seed in seeds[:SEAT_TRIES]:
            clique = latency_clique(self.catalog, [seed, *held], pool, budget)
            if self._seat_inside([anchor, *sorted(group - {anchor})], clique):
                return True
        return False

    def _seat_inside(self, members: list[str], clique: list[str]) -> bool:
        """Move each member not already inside `clique` into it; commit only if all fit."""
        moved: dict[str, Placement] = {}
        usage = dict(self.private)
        for s in members:
            if self.regions(self.mine.get(s, {})) <= set(clique):
                continue
            own = self.private_use(self.mine.get(s, {}))
            reserved = {k: v - own.get(k, 0.0) for k, v in usage.items()}
            near = [r for r in clique if r in self.allowed.get(s, set())]
            # the nearest few are enough to survive a region or provider and keep the model small
            built = self._solve_at(s, near[:SEAT_REGIONS], reserved)
            if built is None and len(near) > SEAT_REGIONS:
                built = self._solve_at(s, near, reserved)
            if built is None:
                return False
            moved[s] = Placement(units_of(built), strategies_of(built))
            sub = built.cands.offers.loc[list(moved[s].units)]
            self.region_of.update(column_lookup(sub, "region"))
            self.serving.update(sub.index[sub["serves"].astype(bool)])
            for k, v in self.private_use(moved[s].units).items():
                reserved[k] = reserved.get(k, 0.0) + v
            usage = reserved
        for s, placed in moved.items():
            self.mine[s] = placed.units
            self.strategies.update(placed.strategies)
        self.private = usage
        return True

    def _solve_at(
        self, s: str, choices: list[str], reserved: dict[tuple[str, str], float]
    ) -> BuiltModel | None:
        """Service `s` alone over `choices`, with `reserved` private capacity taken by others."""
        built = build_model(
            self.full.restrict([s], {s: set(choices)}),
            self.catalog,
            BuildOptions(couple=False, private_reserved=reserved),
        )
        options = self.options
        result = get_backend(options.solver).solve(
            built.prob,
            SolverOptions(
                options.solver,
                self.limit,
                max(options.gap, 0.01),
                options.threads,
                small_model=True,
                node_limit=SEAT_NODES,
            ),
        )
        return built if result.status.has_plan else None


# ------------------------------------------------------------------ joint group models
@dataclass
class JointResult:
    """What the joint group models gave by the time they were collected: how much the finished
    groups raise the sum of their stand-alone bounds, how many finished, and the placement given
    with the finished groups' placements (which meet their budgets) in place of their members'."""

    gain: float
    finished: int
    units: dict[int, int]
    strategies: dict[str, str]


class GroupBounds:
    """Joint models of the groups tied by latency budgets, solved in worker processes (small ones
    here, at `collect`: GROUPS_HERE_ROWS): a bound for each group and a placement meeting its
    budgets.

    Each group whose stand-alone plans miss a budget is one model with those budgets
    (`parts.solve_block`) over regions pruned by latency-aware dominance. The model is a relaxation
    of the group's part of the whole problem and the pruning is exact (candidates.prune_dominated),
    so its proven bound may replace the sum of its members' stand-alone bounds; each member's own
    bound is a row of the model (a valid cut that lifts its weak linear relaxation). Groups run
    smallest first, on `processes` workers; those finished when `collect` is called count, the rest
    keep their members' bounds and plans. Each stops at its work limit (`parts.GROUP_NODES`), and
    `collect` waits for all of them unless the run reaches its deadline, so the result does not
    depend on the machine's speed."""

    def __init__(
        self,
        cands: Candidates,
        catalog: Catalog,
        options: PlanOptions,
        units: dict[int, int],
        service_bound: dict[str, float],
        deadline: float,
        processes: int,
        here_rows: int = GROUPS_HERE_ROWS,
    ):
        self.workers: list[Worker] = []
        self.here: list[tuple[str, ...]] = []  # groups solved in this process, at `collect`
        self.tried = 0
        placed = where(cands.offers, units)
        missed = {
            s
            for pair in latency_violations(
                cands.spec,
                placed,
                catalog,
                cands.global_services,
                zone_fragile(cands.offers, units),
            )
            for s in pair
        }
        groups = [g for g in latency_groups(cands.spec) if missed.intersection(g)]
        left = deadline - time.perf_counter()
        if not groups or left <= 1.0 or processes < 1:
            return
        pruned = prune_dominated(cands.restrict([s for g in groups for s in g]), catalog)
        rows = {g: sum(len(pruned.rows_of.get(s, ())) for s in g) for g in groups}
        # Latency-aware dominance prunes little where a member has many regions near its partners:
        # such joint models rarely close in the time a group gets (measured: 2 services x 130
        # regions, no bound above the stand-alone ones in 20 s), so they are not tried.
        groups = sorted(
            (
                g
                for g in groups
                if rows[g] <= GROUP_ROWS_PER_MEMBER * len(g) and rows[g] <= GROUP_ROWS
            ),
            key=lambda g: (rows[g], g),
        )
        if not groups:
            return
        self.tried = len(groups)
        self.floors = {s: service_bound[s] for g in groups for s in g}
        self.offers = cands.offers
        limit = left  # the safety net: each joint model stops at parts.GROUP_NODES
        quiet = replace(options, progress=None)
        if sum(rows[g] for g in groups) <= here_rows or processes == 1:
            self.here, self.pruned, self.catalog, self.options = groups, pruned, catalog, quiet
            return
        self.tmp = tempfile.TemporaryDirectory(prefix="mcplan-")
        for w in range(min(processes, len(groups))):  # smallest first on every worker
            self.workers.append(
                start_worker(
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

    def stop(self) -> None:
        """End every worker now and remove their files, reading nothing: for when planning is
        interrupted (an error or Ctrl-C elsewhere must not be hidden by the groups' results)."""
        for worker in self.workers:
            if worker.proc.poll() is None:
                worker.proc.kill()
                worker.proc.wait()
            worker.stderr.close()
        if self.workers:
            self.tmp.cleanup()
        self.workers = []

    def collect(
        self, wait_until: float, units: dict[int, int], strategies: dict[str, str]
    ) -> JointResult:
        """Stop the workers by `wait_until`; what the finished groups give, their placements put
        into `units`/`strategies` (copies)."""
        done: list[tuple[tuple[str, ...], PartResult | BaseException]] = []
        for block in self.here:
            if time.perf_counter() >= wait_until:
                break
            left = wait_until - time.perf_counter()
            try:
                solved = solve_block(
                    self.pruned, self.catalog, self.options, block, left, self.floors
                )
            except Exception as exc:  # as a worker would return it
                done.append((block, exc))
                continue
            done.append((block, solved))
        try:
            while (
                any(w.proc.poll() is None for w in self.workers)
                and time.perf_counter() < wait_until
            ):
                time.sleep(0.05)
            for worker in self.workers:
                if worker.proc.poll() is None:
                    worker.proc.kill()
                    worker.proc.wait()
                res = worker.result_path
                for path in (res, res + ".part"):
                    if os.path.exists(path):
                        with open(path, "rb") as f:
                            done += pickle.load(f)
                        break
        finally:
            self.stop()
        gain = 0.0
        service_of = column_lookup(self.offers.loc[list(units)], "service")
        units, strategies = dict(units), dict(strategies)
        for block, out in done:
            if isinstance(out, BaseException):
                raise out
            gain += max(0.0, out.bound - sum(self.floors[s] for s in block))
            if out.strategies:  # a placement that meets the group's budgets
                for i in [i for i in units if service_of.get(i) in block]:
                    del units[i]
                units.update(out.units)
                strategies.update(out.strategies)
        return JointResult(gain, len(done), units, strategies)
