"""The neighbourhood search that coordinates services after their stand-alone solves: it mends
missed latency budgets, never makes the plan dearer, and its plans pass the independent verifier."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.catalog import Catalog
from planner.model.candidates import build_candidates, prune_dominated
from planner.optimize import PlanOptions, make_plan
from planner.optimize.common import Placement, assemble, where
from planner.optimize.latency import latency_clique, latency_violations, seat_latency_groups
from planner.optimize.neighbourhood import Neighbourhoods, coordinate_locally
from planner.optimize.parts import egress_floor, solve_one
from planner.spec import spec_from_data


def _spec(budget: float | None, gb: float) -> dict:
    return {
        "app": "coordination",
        "policy": {"survive": "region"},
        "services": [
            {
                "name": "api",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": 32},
                "dr": "active_active",
                "forbid_providers": ["openstack"],
            },
            {
                "name": "ledger",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": 8, "storage_gb": 500},
                "dr": "active_active",
                "residency": ["KR"],
                "forbid_providers": ["openstack"],
            },
        ],
        "dependencies": [
            {
                "from": "api",
                "to": "ledger",
                "gb_per_month": gb,
                **({"max_latency_ms": budget} if budget is not None else {}),
            }
        ],
    }


def _union(spec, catalog: Catalog):  # noqa: ANN001, ANN202
    cands = build_candidates(spec, catalog)
    pruned = prune_dominated(cands)
    units: dict[int, int] = {}
    strategies: dict[str, str] = {}
    for s in cands.services():
        out = solve_one(pruned, catalog, PlanOptions(), s, 10.0)
        units.update(out.units)
        strategies.update(out.strategies)
    return cands, pruned, units, strategies


def test_latency_budget_missed_by_the_union_is_mended(catalog: Catalog) -> None:
    spec = spec_from_data(_spec(budget=25.0, gb=200.0), "test")
    cands, pruned, units, strategies = _union(spec, catalog)
    hood = Neighbourhoods(cands, pruned, catalog, PlanOptions())
    # the premise: alone, the unrestricted caller goes somewhere cheap and far from Korea
    assert latency_violations(spec, hood.regions(units), catalog) == [("api", "ledger")]
    timings: dict[str, float] = {}
    moved = coordinate_locally(
        cands, pruned, catalog, PlanOptions(), units, strategies, time.perf_counter() + 60, timings
    )
    units2, strategies2 = moved.units, moved.strategies
    assert moved.moves >= 1
    assert latency_violations(spec, hood.regions(units2), catalog) == []
    plan = assemble(cands, catalog, units2, strategies2, None, "decomposed", "highs", {})
    assert plan.verification.ok, plan.verification.violations
    # the caller moved to within the budget of the Korean ledger (Korea, or as near as Tokyo)
    at = plan.placements.groupby("service")["region"].agg(set)
    assert all(min(catalog.rtt_ms(r, t) for t in at["ledger"]) <= 25.0 for r in at["api"])
    assert timings["build_s"] > 0 and timings["solve_s"] > 0


def test_coordination_never_makes_the_plan_dearer_and_cuts_egress(catalog: Catalog) -> None:
    """Heavy traffic between services whose stand-alone optima sit apart: co-location pays."""
    spec = spec_from_data(_spec(budget=None, gb=200_000.0), "test")
    cands, pruned, units, strategies = _union(spec, catalog)
    union = assemble(cands, catalog, units, strategies, None, "decomposed", "highs", {})
    assert union.cost["dependency_traffic"] > 0  # the premise: alone, they do not share regions
    moved = coordinate_locally(
        cands, pruned, catalog, PlanOptions(), units, strategies, time.perf_counter() + 60, {}
    )
    units2, strategies2 = moved.units, moved.strategies
    local = assemble(cands, catalog, units2, strategies2, None, "decomposed", "highs", {})
    assert local.verification.ok
    assert local.objective < union.objective - 1.0
    assert local.cost["dependency_traffic"] < union.cost["dependency_traffic"]


@pytest.mark.parametrize("budget", [None, 25.0])
def test_make_plan_result_is_verified_and_within_its_bound(
    catalog: Catalog, budget: float | None
) -> None:
    spec = spec_from_data(_spec(budget=budget, gb=5_000.0), "test")
    plan = make_plan(spec, catalog, PlanOptions(time_limit=30))
    assert plan.verification.ok
    assert plan.bound is not None and plan.bound <= plan.objective + 1e-6


def test_egress_floor_prices_traffic_between_disjoint_jurisdictions(catalog: Catalog) -> None:
    data = _spec(budget=None, gb=1_000.0)
    data["services"][0]["residency"] = ["US"]
    spec = spec_from_data(data, "test")
    cands = build_candidates(spec, catalog)
    floor = egress_floor(cands, catalog)
    us = catalog.regions.index[catalog.regions["jurisdiction"] == "US"]
    kr = catalog.regions.index[catalog.regions["jurisdiction"] == "KR"]
    cheapest = min(
        catalog.egress_rate(a, b)
        for a in us
        if a in set(cands.offers["region"])
        for b in kr
        if b in set(cands.offers["region"])
    )
    assert floor == pytest.approx(1_000.0 * cheapest)
    assert floor > 0
    plan = make_plan(spec, catalog, PlanOptions(time_limit=30))
    assert (
        plan.cost["dependency_traffic"] >= floor - 1e-6
    )  # the floor never exceeds what a plan pays


def _chain_spec(budget: float) -> dict:
    """Three services tied by budgets: a Korean ledger, and two callers free to go anywhere."""
    data = _spec(budget=budget, gb=200.0)
    data["services"].append(
        {
            "name": "web",
            "category": "compute.vm",
            "tiers": ["IaaS"],
            "demand": {"vcpu": 16},
            "dr": "active_active",
            "forbid_providers": ["openstack"],
        }
    )
    data["dependencies"].append(
        {"from": "web", "to": "api", "gb_per_month": 50.0, "max_latency_ms": budget}
    )
    return data


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 131), budget=st.sampled_from([5.0, 15.0, 25.0, 50.0, 120.0]))
def test_latency_clique_is_pairwise_within_budget(
    catalog: Catalog, seed: int, budget: float
) -> None:
    regions = list(catalog.regions.index)
    start = regions[seed]
    clique = latency_clique(catalog, [start], set(regions), budget)
    assert clique[0] == start
    assert len(clique) == len(set(clique))
    for a in clique:
        for b in clique:
            assert catalog.rtt_ms(a, b) <= budget and catalog.rtt_ms(b, a) <= budget
    # maximal: no region left out is within budget of every member
    for r in set(regions) - set(clique):
        assert any(max(catalog.rtt_ms(r, x), catalog.rtt_ms(x, r)) > budget for x in clique)


def test_seating_meets_every_budget_and_the_plan_verifies(catalog: Catalog) -> None:
    spec = spec_from_data(_chain_spec(15.0), "test")
    cands, _pruned, units, strategies = _union(spec, catalog)
    before = latency_violations(spec, where(cands.offers, units), catalog)
    assert before  # the premise: alone, the callers go somewhere cheap and far from Korea
    seating = seat_latency_groups(cands, catalog, PlanOptions(), units, strategies, 10.0)
    units2, strategies2 = seating.units, seating.strategies
    assert seating.seated == 1
    assert latency_violations(spec, where(cands.offers, units2), catalog) == []
    plan = assemble(cands, catalog, units2, strategies2, None, "decomposed", "highs", {})
    assert plan.verification.ok, plan.verification.violations
    # all three sit in regions within the budget of one another, around the Korean ledger
    placed = where(cands.offers, units2)
    used = set().union(*placed.values())
    assert all(catalog.rtt_ms(a, b) <= 15.0 for a in used for b in used)
    assert placed["ledger"] <= set(catalog.regions.index[catalog.regions["jurisdiction"] == "KR"])


def test_search_out_of_time_falls_back_to_the_seated_groups(catalog: Catalog) -> None:
    """With no time left the search makes no move of its own; the groups it could not mend take
    their seated places, so the plan still meets every budget."""
    spec = spec_from_data(_chain_spec(15.0), "test")
    cands, pruned, units, strategies = _union(spec, catalog)
    seating = seat_latency_groups(cands, catalog, PlanOptions(), units, strategies, 10.0)
    moved = coordinate_locally(
        cands,
        pruned,
        catalog,
        PlanOptions(),
        units,
        strategies,
        time.perf_counter() - 1.0,
        {},
        Placement(seating.units, seating.strategies),
    )
    units2, strategies2 = moved.units, moved.strategies
    assert latency_violations(spec, where(cands.offers, units2), catalog) == []
    assert units2 == seating.units
    plan = assemble(cands, catalog, units2, strategies2, None, "decomposed", "highs", {})
    assert plan.verification.ok, plan.verification.violations


def test_time_limit_spent_before_seating_still_gives_a_verified_plan(catalog: Catalog) -> None:
    """The time limit bounds the search for a better plan, not the first verified one: with the
    deadline gone by the end of the stand-alone solves, the groups that miss their budgets are
    still seated (before, seating stopped at the deadline and planning ended with no plan)."""
    spec = spec_from_data(_chain_spec(15.0), "test")
    plan = make_plan(spec, catalog, PlanOptions(time_limit=0.01))
    assert plan.verification.ok, plan.verification.violations
    assert plan.time_limited
    where = (
        plan.placements[plan.placements["role"] == "primary"].groupby("service")["region"].agg(set)
    )
    assert latency_violations(spec, where.to_dict(), catalog) == []
