"""Plan an application: candidates -> model -> solve -> plan -> verify, by one of two methods.

`decomposed` (default): each service is first solved alone without the families that couple
services; these sub-problems are small, solve to proven optimality in milliseconds, and the sum of
their bounds is a valid lower bound for the whole problem. If their union already satisfies every
coupling constraint it is the plan. Otherwise one coupled model is solved over a pruned candidate
set, and the plan's gap is reported against the unpruned lower bound. Otherwise one coupled model is solved over the regions
that survive dominance pruning plus those the dependency partners chose (co-location), warm-started
from the union. `monolithic`: the single coupled model, the reference.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .analysis.verify import verify_plan
from .catalog import Catalog
from .catalog.columns import RESOURCES
from .errors import InfeasibleError, NoPlanError, SolverError
from .model.build import BuildOptions, BuiltModel, build_model
from .model.candidates import Candidates, build_candidates, prune_dominated
from .plan import Plan, egress_for, fees_for, placements_from_units
from .solve import SolverOptions, SolveResult, SolveStatus, get_backend
from .spec import AppSpec, check_against_catalog

Progress = Callable[[str], None]
FULL_MODEL_LIMIT = 4000  # candidate rows up to which the coupled model is solved unpruned


@dataclass(frozen=True)
class PlanOptions:
    method: str = "decomposed"  # decomposed | monolithic
    solver: str = "highs"  # highs | cbc
    time_limit: float = 60.0
    gap: float = 0.001
    threads: int = 1
    workers: int = 0  # processes for the per-service solves (0: one per core when there are many services)
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
    _say(options, f"{len(cands.offers)} candidate offerings for {len(spec.services)} services, "
                  f"{len(cands.scenarios)} failure scenarios")
    deadline = start + options.time_limit
    if options.method == "monolithic":
        plan = _solve_coupled(cands, catalog, options, deadline, timings, bound=None, label="monolithic")
    else:
        plan = _solve_decomposed(cands, catalog, options, deadline, timings)
    timings["total_s"] = time.perf_counter() - start
    plan.timings = timings
    return plan


# ------------------------------------------------------------------ decomposition
def _solve_decomposed(cands: Candidates, catalog: Catalog, options: PlanOptions, deadline: float,
                      timings: dict[str, float]) -> Plan:
    backend = get_backend(options.solver)
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
    for k, (s, out) in enumerate(_solve_each(pruned, catalog, options, per_service_limit)):
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
        if (k + 1) % 25 == 0 or k + 1 == len(services):
            _say(options, f"solved {k + 1}/{len(services)} services alone (lower bound ${bound:,.2f}/month)")
    timings.update(build_s=build_s, solve_s=solve_s)
    union = _assemble(cands, catalog, units, strategies, bound, "decomposed", options.solver, size, options.gap)
    if union.verification.ok and union.gap is not None and union.gap <= options.gap + 1e-9:
        return union
    # Coupling (egress, dependency latency, shared private capacity, limits) not satisfied or not
    # priced well by the union: solve the coupled model over pruned regions, keep the better plan.
    if not union.verification.ok and _overfills_private(union, catalog):
        repaired = _repair_private(pruned, catalog, options, units, strategies, union, per_service_limit)
        if repaired is not None:
            _say(options, "repaired shared private capacity greedily (largest saving per vCPU first)")
            for price in repaired[2]:
                if time.perf_counter() > deadline - 0.25 * options.time_limit:
                    break  # the bound is a refinement: keep time for the plan itself
                lagrangian = _lagrangian_bound(pruned, catalog, options, service_bound, price, per_service_limit)
                if lagrangian > bound:
                    _say(options, f"private vCPU priced at ${price:,.4f}/month raises the lower bound "
                                  f"from ${bound:,.2f} to ${lagrangian:,.2f}")
                    bound = lagrangian
            union = _assemble(cands, catalog, repaired[0], repaired[1], bound, "decomposed", options.solver,
                              size, options.gap)
            if union.verification.ok and union.gap is not None and union.gap <= options.gap + 1e-9:
                return union
    if union.verification.ok and time.perf_counter() >= deadline:
        union.time_limited = True
        union.notes.append("time limit reached before coordinating services: the plan is verified, "
                           "its gap is against the proven lower bound")
        return union
    # coordination improves a plan we already hold (when the union verifies): bound its time
    box = deadline if not union.verification.ok else min(
        deadline, time.perf_counter() + max(2.0, 0.25 * options.time_limit))
    if len(cands.offers) <= FULL_MODEL_LIMIT:
        # Small enough to solve whole: no pruning, and the solver's bound is valid for the problem.
        _say(options, "coordinating services in the full coupled model")
        coupled = _solve_coupled(cands, catalog, options, box, timings, bound=bound,
                                 label="decomposed", full=True, start=union)
        if union.verification.ok and union.objective <= coupled.objective + 1e-9:
            union.bound = coupled.bound
            return union
        return coupled
    keep = _pruned_regions(pruned, cands, union, catalog)
    _say(options, "coordinating services over "
                  f"{sum(len(v) for v in keep.values())} pruned (service, region) pairs")
    try:
        coupled = _solve_coupled(cands.restrict(services, keep), catalog, options, box, timings,
                                 bound=bound, label="decomposed", start=union, diagnose=False)
    except (InfeasibleError, NoPlanError):
        if union.verification.ok:
            return union
        _say(options, "pruned model has no plan; solving the full coupled model")
        return _solve_coupled(cands, catalog, options, deadline, timings, bound=bound, label="decomposed")
    if union.verification.ok and union.objective <= coupled.objective + 1e-9:
        return union
    return coupled


def _solve_one(cands: Candidates, catalog: Catalog, options: PlanOptions, service: str, limit: float):
    """One service alone, without coupling: its proven bound, units and strategy."""
    sub = cands.restrict([service])
    t0 = time.perf_counter()
    built = build_model(sub, catalog, BuildOptions(couple=False))
    build_s = time.perf_counter() - t0
    result = get_backend(options.solver).solve(
        built.prob, SolverOptions(options.solver, limit, options.gap, options.threads))
    if result.status == SolveStatus.INFEASIBLE:
        raise explain_infeasible(sub, catalog, options)
    result = _fallback_if_error(result, built, options, limit)
    _check_result(result)
    bound = result.bound if result.bound is not None else 0.0
    return _units_of(built), _strategies_of(built), bound, build_s, result.seconds, built.size


def _solve_each(cands: Candidates, catalog: Catalog, options: PlanOptions, limit: float):  # noqa: ANN202
    """Yield (service, result or exception) for each service, in spec order: in worker processes
    when there are enough services to pay for starting them (see planner._worker), else here."""
    import os
    import pickle
    import subprocess
    import sys
    import tempfile

    services = cands.services()
    workers = options.workers or min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(services) < 40:
        for s in services:
            try:
                yield s, _solve_one(cands, catalog, options, s, limit)
            except Exception as exc:
                yield s, exc
        return
    quiet = replace(options, progress=None)
    chunks = [services[w::workers] for w in range(workers)]  # interleaved: similar work per worker
    with tempfile.TemporaryDirectory(prefix="mcplan-") as tmp:
        procs = []
        for w, chunk in enumerate(chunks):
            job, res = os.path.join(tmp, f"job{w}.pkl"), os.path.join(tmp, f"res{w}.pkl")
            with open(job, "wb") as f:
                pickle.dump((cands.restrict(chunk), catalog, quiet, chunk, limit), f)
            procs.append((subprocess.Popen([sys.executable, "-m", "planner._worker", job, res],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), res))
        results: dict[str, object] = {}
        for proc, res in procs:
            _, err = proc.communicate()
            if proc.returncode != 0 or not os.path.exists(res):
                raise SolverError("a solver worker process failed: "
                                  + err.decode(errors="replace").strip().splitlines()[-1:][0:1].__str__())
            with open(res, "rb") as f:
                results.update(dict(pickle.load(f)))
    for s in services:
        yield s, results[s]


def _fallback_if_error(result: SolveResult, built: BuiltModel, options: PlanOptions, limit: float) -> SolveResult:
    """CBC as the fallback when HiGHS errors out (not when it proves infeasibility or times out)."""
    if result.status in (SolveStatus.ERROR, SolveStatus.INVALID) and options.solver == "highs":
        retry = get_backend("cbc").solve(built.prob, SolverOptions("cbc", limit, options.gap, options.threads))
        if retry.status.has_plan or retry.status == SolveStatus.INFEASIBLE:
            retry.detail = f"CBC fallback after HiGHS {result.status.value}: {result.detail}"
            return retry
    return result


def _overfills_private(plan: Plan, catalog: Catalog) -> bool:
    p = plan.placements.join(catalog.regions["kind"], on="region")
    p = p[p["kind"] == "private"]
    if p.empty:
        return False
    for res, col in (("vcpu", "vcpu_capacity"), ("mem_gib", "mem_gib_capacity"), ("storage_gb", "storage_gb_capacity")):
        used = (p[res] * p["units"]).groupby(p["region"]).sum()
        if (used > catalog.sites[col].reindex(used.index) + 1e-9).any():
            return True
    return False


def _repair_private(cands: Candidates, catalog: Catalog, options: PlanOptions, units: dict[int, int],
                    strategies: dict[str, str], union: Plan, limit: float):  # noqa: ANN202
    """Greedy repair of shared private capacity (as measured in the solver findings): services on an
    over-full site are solved again without private regions; those that save the most per vCPU
    stay private while the site has room, the others take their public plan."""
    off = cands.offers
    p = union.placements.join(catalog.regions["kind"], on="region")
    users = sorted(set(p.loc[p["kind"] == "private", "service"]))
    public_only = Candidates(cands.spec, off[off["kind"] != "private"], cands.demand, cands.strategies,
                             cands.scenarios, cands.user_reach, cands.global_services, cands.notes)
    alt: dict[str, tuple] = {}
    rows = []
    for s in users:
        if s not in set(public_only.offers["service"]):
            continue  # cannot leave the private cloud: keeps its place
        try:
            alt[s] = _solve_one(public_only, catalog, options, s, limit)
        except (InfeasibleError, NoPlanError, SolverError):
            continue
        mine = p[(p["service"] == s)]
        cost_private = float(mine["usd_per_month"].sum())
        vcpu = float((mine.loc[mine["kind"] == "private", "vcpu"] * mine.loc[mine["kind"] == "private", "units"]).sum())
        public_cost = float(sum(off.at[i, "usd_per_month"] * n for i, n in alt[s][0].items()))
        rows.append((s, (public_cost - cost_private) / max(vcpu, 1e-9)))
    if not rows:
        return None
    left = {r: {res: float(catalog.sites.at[r, col]) for res, col in
                (("vcpu", "vcpu_capacity"), ("mem_gib", "mem_gib_capacity"), ("storage_gb", "storage_gb_capacity"))}
            for r in catalog.sites.index}
    fixed = [s for s in users if s not in alt]
    for s in fixed:  # services with no public alternative are placed first
        _take(p, s, left)
    new_units = dict(units)
    new_strategies = dict(strategies)
    left_out: list[float] = []
    for s, saving in sorted(rows, key=lambda x: -x[1]):
        if not _take(p, s, left):
            left_out.append(saving)
            for i in list(new_units):
                if off.at[i, "service"] == s:
                    del new_units[i]
            new_units.update(alt[s][0])
            new_strategies.update(alt[s][1])
    # prices to try for a Lagrangian bound: the marginal saving per vCPU where the site filled up
    prices = sorted({round(f * x, 6) for x in left_out[:1] for f in (0.5, 1.0, 2.0) if x > 0})
    return new_units, new_strategies, prices


def _lagrangian_bound(cands: Candidates, catalog: Catalog, options: PlanOptions, service_bound: dict[str, float],
                      price: float, limit: float) -> float:
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
    priced.loc[private, "usd_per_month"] = priced.loc[private, "usd_per_month"] + price * priced.loc[private, "vcpu"]
    sub = Candidates(cands.spec, priced[priced["service"].isin(capable)], cands.demand.loc[capable],
                     {s: cands.strategies[s] for s in capable}, cands.scenarios,
                     {k: v for k, v in cands.user_reach.items() if k[0] in capable},
                     frozenset(s for s in cands.global_services if s in capable), cands.notes)
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
    need = {r: {res: float((g[res] * g["units"]).sum()) for res in ("vcpu", "mem_gib", "storage_gb")}
            for r, g in mine.groupby("region")}
    if any(need[r][res] > left[r][res] + 1e-9 for r in need for res in need[r]):
        return False
    for r in need:
        for res in need[r]:
            left[r][res] -= need[r][res]
    return True


def _pruned_regions(pruned: Candidates, full: Candidates, union: Plan, catalog: Catalog) -> dict[str, set[str]]:
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
            near = {r: {t for t in allowed_t if catalog.rtt_ms(r, t) <= dep.max_latency_ms}
                    for r in keep.get(dep.source, set())}
            for r, ts in near.items():
                keep[dep.target] |= ts
    return keep


# ------------------------------------------------------------------ one coupled model
def _solve_coupled(cands: Candidates, catalog: Catalog, options: PlanOptions, deadline: float,
                   timings: dict[str, float], bound: float | None, label: str, full: bool = False,
                   start: Plan | None = None, diagnose: bool = True) -> Plan:
    t0 = time.perf_counter()
    built = build_model(cands, catalog, BuildOptions(couple=True))
    timings["build_s"] = timings.get("build_s", 0.0) + time.perf_counter() - t0
    _say(options, f"solving {built.size['variables']} variables x {built.size['constraints']} constraints "
                  f"with {options.solver} (limit {max(1.0, deadline - time.perf_counter()):.0f} s)")
    left = max(1.0, deadline - time.perf_counter())
    warm = _warm_start(built, start) if start is not None and start.verification.ok else ()
    # with a valid outside bound, stop as soon as a plan is within the requested gap of it
    stop_at = bound / (1 - options.gap) if bound is not None and bound > 0 and options.gap < 1 else None
    result = get_backend(options.solver).solve(
        built.prob, SolverOptions(options.solver, left, options.gap, options.threads, start=warm, stop_at=stop_at))
    result = _fallback_if_error(result, built, options, left)
    timings["solve_s"] = timings.get("solve_s", 0.0) + result.seconds
    if result.status == SolveStatus.INFEASIBLE:
        # a pruned attempt is our restriction, not the user's problem: no diagnosis then
        raise explain_infeasible(cands, catalog, options) if diagnose else InfeasibleError(["pruned model"])
    _check_result(result)
    # The solver's bound is valid for the whole problem only when no candidate was pruned.
    own = result.bound if (label == "monolithic" or full) else None
    bounds = [b for b in (bound, own) if b is not None]
    plan = _assemble(cands, catalog, _units_of(built), _strategies_of(built),
                     max(bounds) if bounds else None, label, options.solver, built.size, options.gap)
    if result.status == SolveStatus.FEASIBLE and result.detail != "target reached":
        plan.time_limited = True
        plan.notes.append("time limit reached: the plan is the best found, not proven optimal")
    if not plan.verification.ok:
        raise SolverError("the solver returned a plan that fails independent verification:\n  - "
                          + "\n  - ".join(plan.verification.violations[:10]))
    return plan


def _warm_start(built: BuiltModel, plan: Plan) -> tuple[tuple[str, float], ...]:
    """Unit counts, presences and strategies of a known plan, as a partial MIP start."""
    units = plan.placements.groupby(["service", "offering", "role"])["units"].sum()
    off = built.cands.offers
    start: list[tuple[str, float]] = []
    for i, var in built.n.items():
        key = (off.at[i, "service"], off.at[i, "offering"], "backup" if off.at[i, "role"] == "backup" else None)
        n = 0.0
        for role in (("backup",) if key[2] else ("primary", "active", "standby")):
            n += float(units.get((key[0], key[1], role), 0.0))
        start.append((var.name, n))
    present = set(zip(plan.placements["service"], plan.placements["region"], strict=True))
    start += [(u.name, 1.0 if key in present else 0.0) for key, u in built.u.items()]
    start += [(z.name, 1.0 if plan.strategies.get(s) == name else 0.0) for (s, name), z in built.z.items()]
    return tuple(start)


def _check_result(result: SolveResult) -> None:
    if result.status == SolveStatus.NO_SOLUTION:
        raise NoPlanError(f"no plan found within the time limit ({result.seconds:.1f} s); "
                          "raise --time-limit or simplify the spec")
    if result.status == SolveStatus.INVALID:
        raise SolverError(f"the solver's answer does not satisfy the model ({result.detail}); "
                          "not showing it as a plan")
    if not result.status.has_plan:
        raise SolverError(f"solver failed: {result.status.value} {result.detail}")


def _units_of(built: BuiltModel) -> dict[int, int]:
    return {i: int(round(v.varValue or 0.0)) for i, v in built.n.items() if round(v.varValue or 0.0) > 0}


def _strategies_of(built: BuiltModel) -> dict[str, str]:
    out = {}
    for s, options in built.cands.strategies.items():
        if len(options) == 1:
            out[s] = options[0].name
        else:
            out[s] = max(options, key=lambda o: built.z[(s, o.name)].varValue or 0.0).name
    return out


def _assemble(cands: Candidates, catalog: Catalog, units: dict[int, int], strategies: dict[str, str],
              bound: float | None, method: str, solver: str, size: dict[str, int],
              gap_target: float = 0.001) -> Plan:
    placements = placements_from_units(units, cands.offers, strategies)
    plan = Plan(cands.spec, placements, strategies, fees_for(placements, catalog),
                egress_for(placements, cands.spec, catalog), bound=bound, method=method,
                solver=solver, model_size=dict(size), gap_target=gap_target)
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


def explain_infeasible(cands: Candidates, catalog: Catalog, options: PlanOptions) -> InfeasibleError:
    """Which requirements cannot all hold: re-solve with penalised slack on one family of rows at a
    time, in the order a user would rather relax them; the first family whose slack alone restores a
    plan is explained row by row, and the others that would also do are named. When no single
    family suffices, slack on every row together."""
    present = {row.family for row in build_model(cands, catalog, BuildOptions(couple=True)).rows}
    enough: list[str] = []
    first: list[str] = []
    for family in RELAXABLE:
        if family not in present:
            continue
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
    return InfeasibleError(messages or ["the requirements conflict, and the diagnosis could not isolate "
                                        "which; try relaxing survive, residency or latency budgets one at a time"])


def _elastic_messages(cands: Candidates, catalog: Catalog, options: PlanOptions,
                      families: frozenset[str] | None) -> list[str] | None:
    """Sentences for the rows that need slack when only `families` may bend; None if that is not enough."""
    built = build_model(cands, catalog, BuildOptions(couple=True, elastic=True, elastic_families=families))
    result = get_backend("highs").solve(built.prob, SolverOptions("highs", 20.0, 0.01, options.threads))
    if not result.status.has_plan:
        return None
    used = [(row, float(var.varValue or 0.0)) for var, row in built.slacks if (var.varValue or 0.0) > 1e-6]
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
    off = cands.offers[(cands.offers["service"] == s) & (cands.offers["role"] == "primary")] if s else None
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
            return (f"{why}surviving a provider outage needs two providers that offer {cat} there; "
                    f"it may use only {len(provs)} ({', '.join(provs)})")
        if meta.get("growth"):
            return (f"`{s}` must grow back to full capacity after losing {scen.split(':', 1)[1]}, but no public "
                    "region it may use survives and the private capacity it holds is too small")
        if len(regs) == 1:
            return (f"{why}surviving a {scen.split(':', 1)[0]} outage needs a second region for `{s}`, "
                    f"but only {regs[0]} is allowed")
        return (f"{why}`{s}` cannot keep enough {meta.get('resource')} running without "
                f"{scen.split(':', 1)[1]} among its allowed regions ({', '.join(regs[:6])})")
    if family == "user_latency":
        group = meta["group"]
        u = next(x for x in spec.users if x.name == group)
        reach = sorted(cands.user_reach.get((s, group), ()))
        if "scenario" in meta:
            return (f"users in {group} need `{s}` within {u.max_latency_ms:g} ms even after losing "
                    f"{meta['scenario'].split(':', 1)[1]}, but the only allowed regions that close are "
                    f"{', '.join(reach) or 'none'}")
        return f"no region allowed for `{s}` is within {u.max_latency_ms:g} ms of users in {group}"
    if family == "dependency_latency":
        return (f"`{s}` in {meta['region']} has no region of `{meta['target']}` within "
                f"{meta['budget']:g} ms it may use")
    if family == "private_capacity":
        return (f"private site {meta['site']} has {meta['capacity']:,.0f} {meta['resource']} usable; "
                f"the plan needs about {meta['capacity'] + slack:,.0f}")
    if family == "max_providers":
        return (f"the policy allows at most {spec.policy.max_providers} provider(s), fewer than the "
                "survival and residency requirements need")
    if family == "max_regions":
        return f"`{s}` may use at most {meta['limit']} regions, fewer than it needs"
    if family == "budget":
        return (f"the cheapest plan that meets everything else costs about "
                f"${meta['budget'] + slack:,.2f}/month, over the budget of ${meta['budget']:,.2f}")
    if family == "demand":
        return f"`{s}` cannot get {meta['demand']:g} {meta['resource']} from its allowed offerings"
    return f"{family} constraint {meta} cannot hold"


def array_units(plan: Plan) -> np.ndarray:
    return plan.placements["units"].to_numpy()
