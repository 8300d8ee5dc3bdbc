"""The coupled model: every service and every coupling in one MILP, solved in one time box.

Takes candidates (all of them, or restricted to regions worth coordinating over), a deadline and
optionally a verified plan to warm-start from and an outside lower bound; returns a verified
`Plan`. The monolithic method is exactly this, and the reference the decomposed method is compared
with. The decomposed method ends with it, when time is left: small applications are solved whole
(FULL_MODEL_LIMIT), so the solver's bound counts; larger ones over `pruned_regions`, where its
bound is not valid for the whole problem and only the outside bound is kept.
"""

from __future__ import annotations

import time

from ..catalog import Catalog
from ..errors import InfeasibleError, SolverError
from ..model.build import BuildOptions, build_model
from ..model.candidates import Candidates
from ..model.readout import strategies_of, units_of, warm_start
from ..plan import Plan
from ..solve import SolverOptions, SolveStatus, get_backend
from .common import PlanOptions, assemble, say
from .diagnose import explain_infeasible
from .parts import FALLBACK_NOTE, check_result, fallback_if_error

FULL_MODEL_LIMIT = 4000  # candidate rows up to which the coupled model is solved unpruned
# Work limit of the decomposed method's last stage (branch-and-bound nodes, not seconds, so the
# plan does not depend on the machine's load); the monolithic method has none: it is the
# reference of what the solver does in the time given.
COUPLED_NODES = 1000
# Over pruned regions (more than FULL_MODEL_LIMIT candidate rows) its bound does not count and it
# can only polish the plan: fewer nodes (50 services under survive: provider, 5,475 columns: 1,000
# nodes did not end within 10 s; the plan gained $8 of $50,144).
COUPLED_NODES_PRUNED = 100
# Nonzeros above which the decomposed method does not try the coupled model once it holds a
# verified plan, which no node limit bounds the time of: global-saas's whole model has 663,000
# (user shares after each of 132 failures), and HiGHS spent 9 s presolving it and 25 s on part of
# its root; under survive: provider it has 118,000 and 1,000 nodes took more than 45 s (measured).
# The examples whose plan this stage improves have at most 12,000. The monolithic method and a run
# with no verified plan yet solve it whatever its size.
COUPLED_NONZEROS = 50_000


class CoupledTooLarge(Exception):
    """The coupled model has more nonzeros than the caller allowed (`max_nonzeros`)."""


def solve_coupled(
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
    node_limit: int | None = None,
    max_nonzeros: int | None = None,
) -> Plan:
    """The coupled model over `cands`, solved until `deadline`, as a verified plan labelled with
    `label` (the method). Its bound is the larger of `bound` (valid from outside) and the solver's
    own, which counts only when no candidate was pruned (`full`, or the monolithic method).
    `start`: a plan to warm-start from if verified. `diagnose`: explain an infeasible model in the
    user's terms (off for a pruned model, whose infeasibility is our own restriction).
    `node_limit`: the solve's work limit; `max_nonzeros`: raise CoupledTooLarge, unsolved, when the
    model is larger."""
    t0 = time.perf_counter()
    built = build_model(cands, catalog, BuildOptions(couple=True))
    timings["build_s"] = timings.get("build_s", 0.0) + time.perf_counter() - t0
    if max_nonzeros is not None:
        nonzeros = sum(len(row) for row in built.prob.constraints.values())
        if nonzeros > max_nonzeros:
            raise CoupledTooLarge(f"{nonzeros} nonzeros")
    say(
        options,
        f"solving {built.size['variables']} variables x {built.size['constraints']} constraints "
        f"with {options.solver} (limit {max(1.0, deadline - time.perf_counter()):.0f} s)",
    )
    left = max(1.0, deadline - time.perf_counter())
    warm = warm_start(built, start) if start is not None and start.verification.ok else ()
    # with a valid outside bound, stop as soon as a plan is within the requested gap of it
    stop_at = (
        bound / (1 - options.gap) if bound is not None and bound > 0 and options.gap < 1 else None
    )
    result = get_backend(options.solver).solve(
        built.prob,
        SolverOptions(
            options.solver,
            left,
            options.gap,
            options.threads,
            start=warm,
            stop_at=stop_at,
            node_limit=node_limit,
        ),
    )
    # the other solver gets what is left of the time limit, not a second one
    result = fallback_if_error(result, built, options, max(1.0, deadline - time.perf_counter()))
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
    check_result(result)
    # The solver's bound is valid for the whole problem only when no candidate was pruned.
    own = result.bound if (label == "monolithic" or full) else None
    bounds = [b for b in (bound, own) if b is not None]
    plan = assemble(
        cands,
        catalog,
        units_of(built),
        strategies_of(built),
        max(bounds) if bounds else None,
        label,
        options.solver,
        built.size,
        options.gap,
    )
    if result.detail.startswith(FALLBACK_NOTE):
        plan.notes.append(result.detail)
    if result.clock_cut:
        plan.time_limited = True
        plan.notes.append("time limit reached: the plan is the best found, not proven optimal")
    if not plan.verification.ok:
        raise SolverError(
            "the solver returned a plan that fails independent verification:\n  - "
            + "\n  - ".join(plan.verification.violations[:10])
        )
    return plan


def pruned_regions(
    pruned: Candidates, full: Candidates, union: Plan, catalog: Catalog
) -> dict[str, set[str]]:
    """Regions for the coordination model, per service: those that survived dominance pruning,
    plus, for each dependency, the regions its partner chose alone (co-location makes egress free
    and meets latency budgets)."""
    keep = {s: set(g["region"]) for s, g in pruned.offers.groupby("service")}
    off = full.offers[full.offers["serves"].astype(bool)]
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
            for ts in near.values():
                keep[dep.target] |= ts
    return keep
