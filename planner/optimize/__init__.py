"""Plan an application: candidates -> model -> solve -> plan -> verify, by one of two methods.

`decomposed` (default, `decomposed.py`):
1. each service is solved alone, without the families that couple services, over the regions that
   survive dominance pruning; the sum of these proven bounds, plus egress no placement can avoid,
   is a valid lower bound for the whole problem (`parts.py`);
2. if their union over-fills a private site, it is repaired greedily and a Lagrangian price on
   private vCPU tightens the bound (`private.py`);
3. when the union misses a latency budget, each group of services tied by budgets is seated in
   regions all within its tightest budget of one another (each member re-solved alone there: a
   verified plan in seconds) while worker processes solve each group as one model with those
   budgets (no egress) over regions pruned by latency-aware dominance: a group's proven bound
   replaces its members' own, and its placement replaces its seating in the fallback
   (`latency.py`);
4. couplings (latency budgets, egress between dependent services) are coordinated by a
   neighbourhood search from the union: services tied by latency budgets are re-solved together
   (a group not mended in time takes its seated places), then each service and each linked pair
   with its partners fixed, warm-started so no move makes the plan worse; every re-solve uses the
   one model builder (`neighbourhood.py`);
5. with the gap still open, one coupled model (unpruned when small, skipped when large) is solved
   warm-started from the best verified plan; its bound counts only when nothing was pruned
   (`coupled.py`).
Every solve stops at a work limit (branch-and-bound nodes), never on the clock, so the same input
gives the same plan on any machine; `time_limit` is a safety net, and a run that reaches it says so.
`monolithic`: the single coupled model, the reference (`coupled.py`).

When the solver proves there is no plan, `diagnose.py` says which requirements conflict.
"""

from __future__ import annotations

import time

from ..catalog import Catalog
from ..model.candidates import build_candidates
from ..plan import Plan
from ..solve import get_backend
from ..spec import AppSpec, check_against_catalog
from ..traffic import with_invoice, writers_primary
from ..trust import cost_trust
from .common import PlanOptions, Progress, say
from .coupled import solve_coupled
from .decomposed import solve_decomposed
from .diagnose import explain_infeasible

__all__ = ["PlanOptions", "Progress", "explain_infeasible", "make_plan"]


def make_plan(
    spec: AppSpec,
    catalog: Catalog,
    options: PlanOptions = PlanOptions(),  # noqa: B008 (frozen: one shared default is safe)
) -> Plan:
    """The cheapest verified plan that meets the spec's policy; or InfeasibleError / NoPlanError."""
    if options.method not in ("decomposed", "monolithic"):
        raise ValueError(f"unknown method `{options.method}`: use decomposed or monolithic")
    get_backend(options.solver)  # unknown solver names fail before any work
    start = time.perf_counter()
    check_against_catalog(spec, catalog)
    cands = build_candidates(spec, catalog)
    timings = {"candidates_s": time.perf_counter() - start}
    say(
        options,
        f"{len(cands.offers)} candidate offerings for {len(spec.services)} services, "
        f"{len(cands.scenarios)} failure scenarios",
    )
    deadline = start + options.time_limit
    if options.method == "monolithic":
        plan = solve_coupled(
            cands, catalog, options, deadline, timings, bound=None, label="monolithic"
        )
    else:
        plan = solve_decomposed(cands, catalog, options, deadline, timings)
        # Its solves stop at work limits, the time limit being a safety net: a run that reached it
        # may have been cut anywhere, and another run on a faster or idler machine may differ.
        if time.perf_counter() >= deadline and plan.status != "optimal" and not plan.time_limited:
            plan.time_limited = True
            plan.notes.append(
                "time limit reached: the search was cut short, so the plan may differ on a less "
                "loaded machine or with a higher --time-limit; its gap is against the proven bound"
            )
    plan.trust = cost_trust(plan, catalog)
    plan.traffic = with_invoice(plan.traffic, catalog)
    plan.placements = writers_primary(plan.traffic, plan.placements)
    timings["total_s"] = time.perf_counter() - start
    plan.timings = timings
    return plan
