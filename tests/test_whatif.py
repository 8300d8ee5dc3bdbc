"""What-if, sweeps, replans, incidents, strategies and the frontier (issue 4)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from planner.analysis.availability import monte_carlo_availability
from planner.analysis.plan_availability import plan_availability, plan_layout
from planner.analysis.verify import verify_plan
from planner.analysis.whatif import evaluate_failure, failure_from, replan, sweep
from planner.optimize import make_plan
from planner.spec import load_spec, spec_from_data
from planner.strategies import compare, frontier
from tests.conftest import EXAMPLES

SURVIVING = {"kr-ecommerce.yaml": "region", "eu-fintech.yaml": "provider", "hybrid-dr.yaml": "site"}


@pytest.fixture(scope="module")
def plans(catalog):
    return {
        name: make_plan(load_spec(EXAMPLES / name), catalog)
        for name in [*SURVIVING, "single-dc.yaml"]
    }


@pytest.mark.parametrize("name", sorted(SURVIVING))
def test_sweep_agrees_with_the_verifier(plans, catalog, name: str) -> None:
    """Every single failure of the plan's own policy leaves no service beyond recovery."""
    plan = plans[name]
    assert plan.verification.ok
    table = sweep(plan, catalog, SURVIVING[name])
    assert len(table) >= 2
    assert (table["services_down"] == 0).all(), table


def test_sweep_finds_what_the_verifier_rejects(plans, catalog) -> None:
    """The single-data-centre plan fails its region: both the sweep and the verifier say so."""
    plan = plans["single-dc.yaml"]
    table = sweep(plan, catalog, "region")
    assert table["services_down"].max() == 3
    strict = spec_from_data(
        {**plan.spec.model_dump(by_alias=True), "policy": {"survive": "region"}}, "x"
    )
    plan.spec, original = strict, plan.spec
    try:
        assert not verify_plan(plan, catalog).ok
    finally:
        plan.spec = original


@pytest.mark.parametrize("name", sorted(SURVIVING))
def test_single_failure_matches_the_sweep(plans, catalog, name: str) -> None:
    plan = plans[name]
    table = sweep(plan, catalog, "region").set_index("scenario")
    for region in plan.regions():
        impact = evaluate_failure(plan, catalog, failure_from(catalog, regions=[region]))
        row = table.loc[f"region {region}"]
        assert impact.summary["services_down"] == row["services_down"]
        assert impact.summary["services_recovering"] == row["services_recovering"]


def test_pangyo_fire_takes_down_the_single_data_centre(plans, catalog) -> None:
    impact = evaluate_failure(
        plans["single-dc.yaml"], catalog, failure_from(catalog, incident="pangyo-2022")
    )
    assert impact.summary["services_down"] == 3 and not impact.summary["survived"]
    assert impact.summary["users_affected"] == ["korea"]
    survivor = evaluate_failure(
        plans["kr-ecommerce.yaml"], catalog, failure_from(catalog, incident="pangyo-2022")
    )
    assert survivor.summary["survived"]


def _paris_zone_only(catalog):
    spec = spec_from_data(
        {
            "app": "paris",
            "policy": {"survive": "zone"},
            "services": [
                {
                    "name": "web",
                    "category": "compute.vm",
                    "tiers": ["IaaS"],
                    "demand": {"vcpu": 16},
                    "providers": ["gcp"],
                }
            ],
        },
        "paris",
    )
    spec = spec.model_copy(
        update={
            "policy": spec.policy.model_copy(
                update={
                    "exclude_regions": tuple(
                        r for r in catalog.regions.index if r != "gcp/europe-west9"
                    )
                }
            )
        }
    )
    return make_plan(spec, catalog)


def test_paris_incident_defeats_a_zone_only_design(catalog) -> None:
    """europe-west9 2023: 'independent' zones failed together, so zone survival is not enough."""
    plan = _paris_zone_only(catalog)
    assert plan.regions() == ["gcp/europe-west9"]
    assert (sweep(plan, catalog, "zone")["services_down"] == 0).all()
    impact = evaluate_failure(plan, catalog, failure_from(catalog, incident="gcp-paris-2023"))
    assert impact.summary["services_down"] == 1


def test_control_plane_incident_flags_strategies_that_must_launch(catalog) -> None:
    spec = spec_from_data(
        {
            "app": "use1",
            "policy": {"survive": "region"},
            "services": [
                {
                    "name": "api",
                    "category": "compute.vm",
                    "tiers": ["IaaS"],
                    "demand": {"vcpu": 64},
                    "providers": ["aws"],
                    "dr": "warm_standby",
                    "residency": ["US"],
                }
            ],
        },
        "use1",
    )
    spec = spec.model_copy(
        update={
            "policy": spec.policy.model_copy(
                update={
                    "exclude_regions": tuple(
                        r
                        for r in catalog.regions.index
                        if r.startswith("aws/") and r not in ("aws/us-east-1", "aws/us-east-2")
                    )
                }
            )
        }
    )
    plan = make_plan(spec, catalog)
    assert set(plan.regions()) == {"aws/us-east-1", "aws/us-east-2"}
    impact = evaluate_failure(plan, catalog, failure_from(catalog, incident="aws-use1-2021"))
    row = impact.services.set_index("service").loc["api"]
    assert row["status"] in ("degraded", "recovering")
    assert "control plane is down" in row["note"]
    # rule 4's note: the region it grows back in is aws's too, whose control plane is hit
    assert "growth in aws/us-east-2 needs aws's control plane during its outage" in row["note"]


@pytest.mark.parametrize("name", sorted(SURVIVING))
def test_the_user_table_says_whether_each_group_is_served(plans, catalog, name: str) -> None:
    """Rule 5 in what-if's terms: a group of a user-facing service is served when the capacity it
    can count on within its budget covers its share of what the strategy keeps running (and the
    service is up); summary['users_affected'] names the groups that are not."""
    plan = plans[name]
    demand = {s.name: s.demand.as_dict() for s in plan.spec.services}
    for region in plan.regions():
        impact = evaluate_failure(plan, catalog, failure_from(catalog, regions=[region]))
        users = impact.users
        assert list(users.columns) == [
            "group",
            "service",
            "before_ms",
            "after_ms",
            "budget_ms",
            "within_budget",
            "share",
            "capacity_within_budget",
            "served",
        ]
        services = impact.services.set_index("service")
        for row in users.itertuples():
            up = services.at[row.service, "status"] not in ("down", "recovering")
            if pd.isna(row.capacity_within_budget):  # global SaaS: served by its vendor
                assert row.served == up
                continue
            strategy = catalog.strategies.loc[plan.strategies[row.service]]
            need = (
                strategy["compute_fraction"]
                * demand[row.service][services.at[row.service, "resource"]]
            )
            if need > 0:
                enough = row.capacity_within_budget >= row.share * need * (1 - 1e-6) - 1e-6
            else:  # nothing to keep running: somewhere within budget to grow into
                enough = row.capacity_within_budget >= 0 and bool(row.within_budget)
            assert row.served == (up and enough), (region, row)
        assert impact.summary["users_affected"] == sorted(set(users.loc[~users["served"], "group"]))


def test_replan_avoids_the_failed_region_and_prices_the_move(plans, catalog) -> None:
    plan = plans["kr-ecommerce.yaml"]
    failure = failure_from(catalog, regions=["openstack/seoul-dc1"])
    fixed = replan(plan, catalog, failure, bandwidth_gbps=2.0)
    assert fixed.plan is not None and fixed.plan.verification.ok
    assert "openstack/seoul-dc1" not in fixed.plan.regions()
    assert not set(fixed.migration["to_region"]) & failure.regions
    for r in fixed.migration.itertuples():
        demand = plan.spec.service(r.service).demand.storage_gb
        assert r.gb == demand
        assert r.hours == pytest.approx(demand * 8 / (2.0 * 3600))
        assert r.mode in ("live", "cold")


def test_replan_says_when_no_repair_exists(plans, catalog) -> None:
    fixed = replan(plans["single-dc.yaml"], catalog, failure_from(catalog, incident="pangyo-2022"))
    assert fixed.plan is None and "no repaired plan" in fixed.policy_note


def test_unknown_failure_names_get_did_you_mean(catalog) -> None:
    from planner.errors import InputError

    with pytest.raises(InputError, match=r"did you mean .*`aws/us-east-1`"):
        failure_from(catalog, regions=["aws/us-east-9"])
    with pytest.raises(InputError, match="pangyo-2022"):
        failure_from(catalog, incident="pangyo")


def test_strategies_never_exceed_rto_rpo(plans, catalog) -> None:
    """T11: a strategy is never assigned whose RTO/RPO exceed the service's requirement."""
    checked = 0
    for plan in plans.values():
        for svc in plan.spec.services:
            st = catalog.strategies.loc[plan.strategies[svc.name]]
            if svc.rto_minutes is not None:
                assert st["rto_minutes"] <= svc.rto_minutes, svc.name
                checked += 1
            if svc.rpo_minutes is not None:
                assert st["rpo_minutes"] <= svc.rpo_minutes, svc.name
                checked += 1
    # the examples set both on several services: the loop above must have had work to do
    assert checked >= 4, checked


def test_availability_exact_and_monte_carlo_agree(plans, catalog) -> None:
    plan = plans["kr-ecommerce.yaml"]
    exact = plan_availability(plan, catalog)
    mc = monte_carlo_availability(plan_layout(plan, catalog), samples=400_000, seed=3)
    lo, hi = mc.confidence_interval
    assert lo <= exact.unavailability <= hi
    single = plan_availability(plans["single-dc.yaml"], catalog)
    assert single.availability < exact.availability  # surviving a region is worth something


def test_compare_and_frontier(catalog) -> None:
    spec = load_spec(EXAMPLES / "kr-ecommerce.yaml")
    table = compare(spec, catalog, names=["optimal", "single_region", "multi_cloud_active_active"])
    assert list(table["strategy"]) == ["optimal", "single_region", "multi_cloud_active_active"]
    by = table.set_index("strategy")
    assert by.loc["single_region", "survives_single_region_failures"] == "0/1"
    assert (
        by.loc["optimal", "usd_per_month"]
        <= by.loc["multi_cloud_active_active", "usd_per_month"] + 1e-6
    )
    front = frontier(spec, catalog, "availability")
    assert len(front) >= 2 and front["verified"].all()
    assert front["usd_per_month"].is_monotonic_increasing
    assert front["availability_pct"].is_monotonic_increasing


def test_cli_whatif_and_compare_json(tmp_path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "whatif",
            str(EXAMPLES / "kr-ecommerce.yaml"),
            "--fail",
            "naver/KR",
            "--replan",
            "--format",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["failure"]["survived"] is True
    assert {s["service"] for s in out["services"]} == {
        "storefront",
        "orders-api",
        "orders-db",
        "product-images",
    }
    assert out["replan"]["plan"]["verification"]["ok"] is True
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "whatif",
            str(EXAMPLES / "kr-ecommerce.yaml"),
            "--fail",
            "naver/KRR",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "did you mean" in bad.stderr and "Traceback" not in bad.stderr
