"""Coordination by neighbourhood re-solves: a local search from the union of stand-alone plans.

Takes units and strategies (the union, which prices no egress and may miss latency budgets) and
returns a `Coordination`: the units and strategies the search reached, and how many moves it made.
The services of each dependency that costs egress or misses its budget are re-solved with the rest
of the plan held fixed (`Neighbourhoods.resolve`, the one model builder over a few services),
warm-started from the current plan, so no move of its own makes the plan dearer; a group tied by
budgets that it could not mend in time takes its places from a fallback that meets them. It exists
because the coupled model of a large application does not solve in the time a user waits, while
models of a few services do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from ..catalog import Catalog
from ..model.build import BuildOptions, build_model
from ..model.candidates import Candidates
from ..model.readout import strategies_of, units_of
from ..plan import egress_for, fees_for, placements_from_units
from ..solve import SolverOptions, get_backend
from .common import Placement, PlanOptions, column_lookup, say
from .latency import latency_groups, latency_violations
from .private import PrivateUse

# One neighbourhood re-solve starts from a plan it can only improve, so a short limit loses little;
# mending a missed latency budget starts from no plan and gets four times as long. Limits on work
# (branch-and-bound nodes), not time, so the search takes the same moves on any machine.
BLOCK_NODES = 50
# A group still missing its budgets whose re-solve model has more nonzeros than this is not
# re-solved whole when a fallback placement meets its budgets: it takes that placement, and the
# single and pair stages improve it. No node limit bounds the presolve and root of such models
# (50-service benchmark, survive: region, loaded machine: a five-service group took 38 s).
LATENCY_NONZEROS = 30_000
STAGE_NAMES = {
    "latency": "services tied by latency budgets together",
    "single": "one service at a time",
    "pair": "linked pairs",
}


class Neighbourhoods:
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
            s: set(g) for s, g in off.loc[off["serves"].astype(bool)].groupby("service")["region"]
        }
        self.base = {s: set(g) for s, g in pruned.offers.groupby("service")["region"]}
        self.partners: dict[str, set[str]] = {s: set() for s in full.services()}
        for dep in full.spec.dependencies:
            self.partners[dep.source].add(dep.target)
            self.partners[dep.target].add(dep.source)
        self.service_of = column_lookup(off, "service")
        self.region_of = column_lookup(off, "region")
        self.serves = column_lookup(off, "serves")
        self.provider_of = column_lookup(off, "provider")
        self.region_provider = dict(
            zip(off["region"].tolist(), off["provider"].tolist(), strict=True)
        )
        self.private_use = PrivateUse(off)
        self.seconds = {"build_s": 0.0, "solve_s": 0.0}

    def fragile(self, units: dict[int, int]) -> dict[str, set[str]]:
        """Service -> regions where losing a zone stops it (see `common.zone_fragile`)."""
        most: dict[tuple[str, str], int] = {}
        for i, n in units.items():
            if n > 0 and self.serves[i]:
                key = (self.service_of[i], self.region_of[i])
                most[key] = max(most.get(key, 0), n)
        out: dict[str, set[str]] = {}
        for (s, r), n in most.items():
            if n <= 1:
                out.setdefault(s, set()).add(r)
        return out

    def regions(self, units: dict[int, int]) -> dict[str, set[str]]:
        """Service -> regions where the given units run it (serving rows only)."""
        out: dict[str, set[str]] = {}
        for i, n in units.items():
            if n > 0 and self.serves[i]:
                out.setdefault(self.service_of[i], set()).add(self.region_of[i])
        return out

    def resolve(
        self,
        block: list[str],
        units: dict[int, int],
        strategies: dict[str, str],
        time_limit: float,
        gap: float,
        start: Placement | None = None,
        node_limit: int = BLOCK_NODES,
        max_nonzeros: int | None = None,
    ) -> Placement | None:
        """New units and strategies for the block's services, or None when the solve found no plan.
        `start`: another placement of the block's services that meets the couplings, to start
        from when the current one does not (its regions join the model)."""
        where = self.regions(units)
        inside = set(block)
        if start is not None:  # the block's services as placed in `start`, everything else as now
            units = {i: n for i, n in units.items() if self.service_of[i] not in inside}
            units.update({i: n for i, n in start.units.items() if self.service_of[i] in inside})
            strategies = {
                **strategies,
                **{s: start.strategies[s] for s in block if s in start.strategies},
            }
            where = {s: r for s, r in where.items() if s not in inside}
            where.update(
                self.regions({i: n for i, n in units.items() if self.service_of[i] in inside})
            )
        fixed_partners = sorted(set().union(*(self.partners[s] for s in block)) - inside)
        keep = self._within_provider_limit(self._regions_for(block, where), units)
        held = [i for i, n in units.items() if n > 0 and self.service_of[i] in fixed_partners]
        sub = self._candidates(block, keep, held, fixed_partners)
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
        if max_nonzeros is not None:
            nonzeros = sum(len(row) for row in built.prob.constraints.values())
            if nonzeros > max_nonzeros:
                return None
        warm = [(v.name, float(units.get(i, 0))) for i, v in built.n.items()]
        warm += [(u.name, 1.0 if r in where.get(s, ()) else 0.0) for (s, r), u in built.u.items()]
        warm += [
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
                start=tuple(warm),
                node_limit=node_limit,
            ),
        )
        self.seconds["solve_s"] += result.seconds
        if not result.status.has_plan:
            return None
        new_units = {i: n for i, n in units_of(built).items() if self.service_of[i] in inside}
        return Placement(new_units, {s: v for s, v in strategies_of(built).items() if s in inside})

    def _within_provider_limit(
        self, keep: dict[str, set[str]], units: dict[int, int]
    ) -> dict[str, set[str]]:
        """`keep` limited to the providers the plan uses when it uses as many as
        `policy.max_providers` allows: the re-solve holds only the block and its partners, so its
        own provider row cannot see the providers of the rest of the plan."""
        limit = self.full.spec.policy.max_providers
        if limit is None:
            return keep
        used = {self.provider_of[i] for i, n in units.items() if n > 0}
        if len(used) < limit:
            return keep
        region_provider = self.region_provider
        return {s: {r for r in regs if region_provider[r] in used} for s, regs in keep.items()}

    def _regions_for(self, block: list[str], where: dict[str, set[str]]) -> dict[str, set[str]]:
        """Regions each service of the block may use in its re-solve: those dominance keeps, where
        it is, where its partners are, and those within a latency budget of the regions its
        partners may use."""
        inside = set(block)
        keep: dict[str, set[str]] = {}
        for s in block:
            regs = set(self.base.get(s, ())) | where.get(s, set())
            for t in self.partners[s]:
                regs |= where.get(t, set()) & self.allowed[s]
            keep[s] = regs
        budgets = [
            (d.source, d.target, d.max_latency_ms)
            for d in self.full.spec.dependencies
            if d.max_latency_ms is not None
        ]
        for _ in range(len(block)):  # along chains of budgets inside the block, to a fixed point
            grew = False
            for source, target, budget in budgets:
                for a, b in ((source, target), (target, source)):
                    if a not in inside:
                        continue
                    around = keep[b] if b in inside else where.get(b, set())
                    near = {
                        r
                        for r in self.allowed[a] - keep[a]
                        if any(self.catalog.rtt_ms(r, rb) <= budget for rb in around)
                    }
                    if near:
                        keep[a] |= near
                        grew = True
            if not grew:
                break
        return keep

    def _candidates(
        self,
        block: list[str],
        keep: dict[str, set[str]],
        held: list[int],
        fixed_partners: list[str],
    ) -> Candidates:
        """The re-solve's candidates: the block's rows in `keep`, and the partners' `held` rows."""
        off = self.off
        inside = set(block)
        # the block's own rows only (a pass over the whole table per re-solve cost 50 ms at 50
        # services)
        mine = [
            i
            for s in block
            for i in off.index[self.full.rows_of.get(s, [])]
            if self.region_of[i] in keep[s]
        ]
        rows = pd.Index(mine + held)
        services = [s for s in self.full.services() if s in inside or s in fixed_partners]
        return self.full.with_offers(off.loc[rows.sort_values()], services)


@dataclass
class Coordination:
    """Where the neighbourhood search left the plan, and how many moves (accepted re-solves, and
    groups that took their fallback places) it made."""

    units: dict[int, int]
    strategies: dict[str, str]
    moves: int


def coordinate_locally(
    full: Candidates,
    pruned: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    deadline: float,
    timings: dict[str, float],
    fallback: Placement | None = None,
) -> Coordination:
    """Neighbourhood search from the union of stand-alone plans: the services of each dependency
    that costs egress or misses its latency budget are re-solved one at a time with their
    partners fixed, then both together, so a pair can also move to a third region. A block is
    solved again only after it or a partner changed. A group tied by latency budgets that the
    search could not mend in time takes its place from `fallback` (a plan that meets them)."""
    search = _Search(full, pruned, catalog, options, units, strategies)
    search.fallback_ready = fallback is not None
    for stage in ("latency", "single", "pair"):
        for _ in range(3):  # a move elsewhere can make a dependency worth another look
            if time.perf_counter() > deadline:
                break
            before = search.moves
            search.sweep(stage, deadline, fallback)
            if search.moves == before or time.perf_counter() > deadline:
                break
        if stage == "latency" and fallback is not None:
            search.take_unmended(fallback)
        say(options, f"coordination, {STAGE_NAMES[stage]}: {search.moves} moves so far")
    timings.update({k: timings.get(k, 0.0) + v for k, v in search.hood.seconds.items()})
    return Coordination(search.units, search.strategies, search.moves)


class _Search:
    """The state of one neighbourhood search: the plan as it moves, a version per service (bumped
    when it moves), and the blocks already solved at their partners' current versions."""

    def __init__(
        self,
        full: Candidates,
        pruned: Candidates,
        catalog: Catalog,
        options: PlanOptions,
        units: dict[int, int],
        strategies: dict[str, str],
    ):
        self.full, self.catalog, self.options = full, catalog, options
        self.hood = Neighbourhoods(full, pruned, catalog, options)
        self.units, self.strategies = dict(units), dict(strategies)
        self.version = dict.fromkeys(full.services(), 0)
        self.solved: set[tuple[tuple[str, ...], tuple[int, ...]]] = set()
        self.moves = 0
        self._cost_now: float | None = None  # the bill of `units`, once asked for
        self.fallback_ready = False  # a placement meeting every budget is at hand
        # services tied by latency budgets move together: one alone may have no region near both
        # sides
        self.component = {s: group for group in latency_groups(full.spec) for s in group}
        # the dependencies missing their budgets, as of `self._missed_at` moves
        self._missed_at = -1
        self._missed: set[tuple[str, str]] = set()

    def pending(self) -> list[tuple[str, str]]:
        """Dependencies worth coordinating, most expensive first (latency misses before all)."""
        placements = placements_from_units(self.units, self.full.offers, self.strategies)
        bad = latency_violations(
            self.full.spec,
            self.hood.regions(self.units),
            self.catalog,
            self.full.global_services,
            self.hood.fragile(self.units),
        )
        flows = egress_for(placements, self.full.spec, self.catalog)
        flows = flows[flows["kind"].isin(["dependency", "reply"])]
        costly: list[tuple[str, str]] = []
        if len(flows):
            # stable order on equal costs: by the dependency's name
            cost = flows.groupby("flow")["usd_per_month"].sum().sort_index()
            cost = cost.sort_values(ascending=False, kind="stable")
            costly = [
                (str(name).split("->")[0], str(name).split("->")[1])
                for name, c in cost.items()
                if c > 1e-9
            ]
        return bad + [p for p in costly if p not in bad]

    def blocks(self, stage: str, s: str, t: str) -> list[list[str]]:
        """The blocks to re-solve for dependency s -> t at this stage."""
        if stage == "latency":  # only while the budget is still missed: one solve mends the group
            if self._missed_at != self.moves:  # recomputed only after a move
                self._missed_at = self.moves
                self._missed = set(
                    latency_violations(
                        self.full.spec,
                        self.hood.regions(self.units),
                        self.catalog,
                        self.full.global_services,
                        self.hood.fragile(self.units),
                    )
                )
            return [list(self.component[s])] if (s, t) in self._missed else []
        return [[s], [t]] if stage == "single" else [[s, t]]

    def sweep(self, stage: str, deadline: float, fallback: Placement | None) -> None:
        """One pass over the pending dependencies, each block solved at most once per version."""
        for s, t in self.pending():
            if time.perf_counter() > deadline:
                return
            for block in self.blocks(stage, s, t):
                around = sorted(set(block).union(*(self.hood.partners[b] for b in block)))
                key = (tuple(block), tuple(self.version[x] for x in around))
                if key in self.solved:
                    continue
                self.solved.add(key)
                if time.perf_counter() > deadline:
                    return
                self._move(stage, block, deadline, fallback)

    def _move(
        self, stage: str, block: list[str], deadline: float, fallback: Placement | None
    ) -> None:
        """Re-solve the block; take its new placement when it differs from the current one."""
        latency = stage == "latency"
        out = self.hood.resolve(
            block,
            self.units,
            self.strategies,
            max(1.0, deadline - time.perf_counter()),  # the safety net
            # mending a budget needs a plan, not a proof
            max(self.options.gap, 0.02) if latency else self.options.gap,
            # from the fallback's placement, which meets the budgets
            fallback if latency else None,
            BLOCK_NODES * (4 if latency else 1),
            LATENCY_NONZEROS if latency and self.fallback_ready else None,
        )
        if out is None:
            return
        service_of = self.hood.service_of
        old = {i: n for i, n in self.units.items() if service_of[i] in block}
        if out.units == old:
            return
        units = {i: n for i, n in self.units.items() if service_of[i] not in block}
        units.update(out.units)
        strategies = {**self.strategies, **out.strategies}
        # A re-solve whose warm start the solver could not complete may stop at its node limit
        # dearer than where it started: only a cheaper whole plan is a move. (A block still
        # missing its budget moves whatever the cost: meeting it comes first.)
        cost = None
        if not latency:
            cost = self._cost(units, strategies)
            if self._cost_now is None:
                self._cost_now = self._cost(self.units, self.strategies)
            if cost >= self._cost_now - 1e-9:
                return
        self.units, self.strategies, self._cost_now = units, strategies, cost
        for b in block:
            self.version[b] += 1
        self.moves += 1

    def _cost(self, units: dict[int, int], strategies: dict[str, str]) -> float:
        """The monthly cost of a placement as the bill counts it: units, fees and traffic."""
        placements = placements_from_units(units, self.full.offers, strategies)
        fees = fees_for(placements, self.catalog)
        flows = egress_for(placements, self.full.spec, self.catalog)
        return float(
            placements["usd_per_month"].sum()
            + (fees["usd_per_month"].sum() if len(fees) else 0.0)
            + (flows["usd_per_month"].sum() if len(flows) else 0.0)
        )

    def take_unmended(self, fallback: Placement) -> None:
        """Each group whose budgets are still missed takes its place from `fallback`."""
        service_of = self.hood.service_of
        unmended = {
            self.component[s]
            for s, _t in latency_violations(
                self.full.spec,
                self.hood.regions(self.units),
                self.catalog,
                self.full.global_services,
                self.hood.fragile(self.units),
            )
        }
        for group in unmended:
            take = {i: n for i, n in fallback.units.items() if service_of[i] in group}
            for i in [i for i in self.units if service_of[i] in group]:
                del self.units[i]
            self.units.update(take)
            self.strategies.update({s: fallback.strategies[s] for s in group})
            self._cost_now = None
            for b in group:
                self.version[b] += 1
            self.moves += 1
