"""Joint bounds of services tied by latency budgets: latency-aware dominance keeps the group's
optimum, the stand-alone floors lift the relaxation without cutting off plans, and the bound the
planner reports from a group stays at or below what the whole problem costs; its placement meets
the budgets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.catalog import Catalog
from planner.model.build import BuildOptions, build_model
from planner.model.candidates import build_candidates, prune_dominated
from planner.optimize import PlanOptions, make_plan
from planner.optimize.common import assemble, where
from planner.optimize.latency import GroupBounds, latency_violations
from planner.optimize.parts import GROUP_OMITS, solve_block, solve_one
from planner.solve import SolverOptions, SolveStatus, get_backend
from planner.spec import spec_from_data


def _spec(budget: float, vcpu: int, storage: int, callers: list[str], residency: list[str]) -> dict:
    return {
        "app": "group-bounds",
        "policy": {"survive": "region"},
        "services": [
            {
                "name": "web",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": vcpu},
                "dr": "active_active",
                "providers": callers,
            },
            {
                "name": "db",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": 4, "storage_gb": storage},
                "dr": "warm_standby",
                "residency": residency,
                "providers": ["aws", "gcp", "azure"],
            },
        ],
        "dependencies": [{"from": "web", "to": "db", "gb_per_month": 50, "max_latency_ms": budget}],
    }


def _optimum(
    cands,
    catalog: Catalog,
    floors: dict[str, float] | None = None,
    relax: bool = False,  # noqa: ANN001
) -> float | None:
    """The group model's optimum, or None when it has no plan."""
    built = build_model(cands, catalog, BuildOptions(omit=GROUP_OMITS, service_floor=floors or {}))
    result = get_backend("highs").solve(
        built.prob, SolverOptions("highs", 60.0, 1e-6, 1, relax=relax)
    )
    if result.status == SolveStatus.INFEASIBLE:
        return None
    assert result.status == SolveStatus.OPTIMAL, result
    return result.objective


def test_omit_leaves_out_the_named_families(catalog: Catalog) -> None:
    spec = spec_from_data(_spec(30.0, 16, 200, ["aws"], ["KR"]), "test")
    cands = build_candidates(spec, catalog)
    families = {
        row.family for row in build_model(cands, catalog, BuildOptions(omit=GROUP_OMITS)).rows
    }
    assert "dependency_latency" in families
    assert "egress" not in families
    assert "egress" in {row.family for row in build_model(cands, catalog).rows}


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.sampled_from([8.0, 20.0, 35.0, 60.0]),
    vcpu=st.integers(4, 48),
    storage=st.sampled_from([100, 800]),
    callers=st.sampled_from([["aws"], ["gcp"], ["aws", "azure"]]),
    residency=st.sampled_from([["KR"], ["JP"], ["KR", "JP"]]),
)
def test_latency_aware_pruning_keeps_the_group_optimum(
    catalog: Catalog,
    budget: float,
    vcpu: int,
    storage: int,
    callers: list[str],
    residency: list[str],
) -> None:
    spec = spec_from_data(_spec(budget, vcpu, storage, callers, residency), "test")
    cands = build_candidates(spec, catalog)
    pruned = prune_dominated(cands, catalog)
    assert len(pruned.offers) <= len(cands.offers)
    full = _optimum(cands, catalog)
    if full is None:  # too tight a budget: pruning must not make a plan appear either
        assert _optimum(pruned, catalog) is None
    else:
        assert _optimum(pruned, catalog) == pytest.approx(full, rel=1e-6, abs=1e-6)


def test_floors_lift_the_relaxation_and_cut_off_no_plan(catalog: Catalog) -> None:
    spec = spec_from_data(_spec(12.0, 32, 800, ["aws", "azure"], ["KR"]), "test")
    cands = build_candidates(spec, catalog)
    pruned = prune_dominated(cands)
    floors = {s: solve_one(pruned, catalog, PlanOptions(), s, 10.0).bound for s in cands.services()}
    group = prune_dominated(cands, catalog)
    exact = _optimum(group, catalog)
    assert _optimum(group, catalog, floors) == pytest.approx(exact, rel=1e-6)
    lifted = _optimum(group, catalog, floors, relax=True)
    assert lifted >= sum(floors.values()) - 1e-6
    assert lifted <= exact + 1e-6
    # the joint bound from the planner's own group solve sits between the stand-alone sum and the
    # optimum
    bound = solve_block(group, catalog, PlanOptions(), ("db", "web"), 10.0, floors).bound
    assert sum(floors.values()) - 1e-6 <= bound <= exact + 1e-6


def test_planner_reports_the_group_bound_and_stops_its_worker(catalog: Catalog) -> None:
    spec = spec_from_data(_spec(12.0, 32, 800, ["aws", "azure"], ["KR"]), "test")
    cands = build_candidates(spec, catalog)
    pruned = prune_dominated(cands)
    alone = {s: solve_one(pruned, catalog, PlanOptions(), s, 10.0) for s in cands.services()}
    units = {i: n for out in alone.values() for i, n in out.units.items()}
    strategies = {s: v for out in alone.values() for s, v in out.strategies.items()}
    floors = {s: out.bound for s, out in alone.items()}
    # the premise: alone, the caller goes where the callee's budget is missed
    assert latency_violations(spec, where(cands.offers, units), catalog)
    # small groups are solved in this process (no worker to start) and give the same answer
    here = GroupBounds(cands, catalog, PlanOptions(), units, floors, time.perf_counter() + 30, 2)
    assert (here.tried, here.workers, len(here.here)) == (1, [], 1)
    in_process = here.collect(time.perf_counter() + 30, units, strategies)
    # the worker path, forced (here_rows=0), for the checks below
    start = time.perf_counter()
    groups = GroupBounds(cands, catalog, PlanOptions(), units, floors, start + 30, 2, here_rows=0)
    assert groups.tried == 1 and len(groups.workers) == 1
    joined = groups.collect(time.perf_counter() + 30, units, strategies)
    assert (in_process.gain, in_process.units) == (joined.gain, joined.units)
    joint_units, joint_strategies = joined.units, joined.strategies
    assert joined.finished == 1
    assert groups.workers == []
    exact = _optimum(prune_dominated(cands, catalog), catalog)
    assert 0.0 <= joined.gain <= exact - sum(floors.values()) + 1e-6
    # the group's placement meets its budget, and the plan built on it verifies
    assert not latency_violations(spec, where(cands.offers, joint_units), catalog)
    joint = assemble(cands, catalog, joint_units, joint_strategies, None, "decomposed", "highs", {})
    assert joint.verification.ok, joint.verification.violations
    # stopped at once, workers that have not finished count for nothing and leave nothing running
    early = GroupBounds(
        cands, catalog, PlanOptions(), units, floors, time.perf_counter() + 30, 2, here_rows=0
    )
    procs = [w.proc for w in early.workers]
    cut = early.collect(time.perf_counter(), units, strategies)
    # a worker needs over a second to start (imports); none can have answered yet
    assert (cut.finished, cut.gain) == (0, 0.0)
    assert cut.units == units
    assert all(p.poll() is not None for p in procs)
    # interrupted (an error or Ctrl-C while seating): stop() ends the workers and reads nothing
    halted = GroupBounds(
        cands, catalog, PlanOptions(), units, floors, time.perf_counter() + 30, 2, here_rows=0
    )
    procs, folder = [w.proc for w in halted.workers], Path(halted.tmp.name)
    halted.stop()
    assert all(p.poll() is not None for p in procs)
    assert not folder.exists() and halted.workers == []
    # with no time left no group is started, and stopping it is still safe
    idle = GroupBounds(cands, catalog, PlanOptions(), units, floors, time.perf_counter(), 2)
    assert idle.tried == 0
    idle.stop()
    # and the whole planner's bound includes it, below the verified plan's cost
    plan = make_plan(spec, catalog, PlanOptions(time_limit=30))
    assert plan.verification.ok, plan.verification.violations
    assert plan.bound <= plan.objective + 1e-6
