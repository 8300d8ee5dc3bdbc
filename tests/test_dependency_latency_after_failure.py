"""Dependency latency budgets hold after each failure of the policy (issue 15, rule 5).

The model, the verifier, what-if and the sweep read the rule the same way: after a failure, every
surviving region running the caller has a surviving region running the callee within the budget.
The small world below makes the cheapest plan that meets the budget in normal operation only
break it after a failure, so the planner must pay for a dearer placement.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from planner import Catalog, Plan, PlanOptions, make_plan, spec_from_text, verify_plan
from planner.analysis.whatif import evaluate_failure, failure_from, sweep
from planner.plan import egress_for, fees_for
from planner.spec import load_spec
from planner.synthetic import SynthOffering, SynthRegion, make_catalog
from tests.conftest import EXAMPLES

# the Plan field holding what the plan pays for traffic (egress before it priced every flow)
FLOWS = "traffic" if "traffic" in {f.name for f in dataclasses.fields(Plan)} else "egress"

# Seoul and Incheon are one metro apart (2.5 ms on the synthetic latency model), Busan about
# 11 ms from either. The api's VMs are cheap in Seoul and Incheon; the database is cheap in Seoul
# and Busan and dear in Incheon.
VM = {"seoul": 100.0, "incheon": 100.0, "busan": 500.0}
DB = {"seoul": 100.0, "incheon": 400.0, "busan": 120.0}

SPEC = """
app: near
policy: {survive: region}
services:
  - {name: api, category: compute.vm, tiers: [IaaS], demand: {vcpu: 4}, dr: active_active}
  - {name: db, category: db.relational, tiers: [PaaS], demand: {vcpu: 4}, dr: active_active}
dependencies:
  - {from: api, to: db, max_latency_ms: 5}
"""


@pytest.fixture(scope="module")
def world() -> Catalog:
    places = {"seoul": (37.55, 126.99), "incheon": (37.46, 126.70), "busan": (35.18, 129.08)}
    regions = [
        SynthRegion("pa", code, zones=1, lat=lat, lon=lon) for code, (lat, lon) in places.items()
    ]
    offerings = [
        o
        for code in places
        for o in (
            SynthOffering(f"pa/{code}", "vm4", "compute.vm", VM[code], vcpu=4),
            SynthOffering(f"pa/{code}", "db4", "db.relational", DB[code], tier="PaaS", vcpu=4),
        )
    ]
    return make_catalog(regions, offerings)


@pytest.fixture(scope="module")
def near(world: Catalog) -> Plan:
    return make_plan(spec_from_text(SPEC, "near.yaml"), world, PlanOptions(gap=1e-9))


def _regions(plan: Plan, service: str) -> set[str]:
    p = plan.placements
    return set(p.loc[(p["service"] == service) & (p["role"] != "backup"), "region"])


def _moved(plan: Plan, catalog: Catalog, service: str, src: str, dst: str) -> Plan:
    """`plan` with the service's rows in `src` moved to the same SKU in `dst`, priced again from
    the catalog (as the planner prices its own), so that only the placement changes."""
    out = copy.copy(plan)
    p = plan.placements.copy()
    off = catalog.offerings
    for i in p.index[(p["service"] == service) & (p["region"] == src)]:
        offering = f"{dst}/{p.at[i, 'sku']}"
        p.at[i, "region"] = dst
        p.at[i, "offering"] = offering
        p.at[i, "usd_per_unit_month"] = float(off.at[offering, "usd_per_month"])
    p["usd_per_month"] = p["usd_per_unit_month"] * p["units"]
    out.placements = p
    out.fees = fees_for(p, catalog)
    setattr(out, FLOWS, egress_for(p, plan.spec, catalog))
    return out


def test_latencies_of_the_world(world: Catalog) -> None:
    """The shape the tests below rely on."""
    assert world.rtt_ms("pa/seoul", "pa/incheon") <= 5
    assert world.rtt_ms("pa/incheon", "pa/busan") > 5
    assert world.rtt_ms("pa/seoul", "pa/busan") > 5


def test_the_planner_keeps_the_budget_after_each_failure(near: Plan, world: Catalog) -> None:
    """Normal operation alone would take the database to Seoul and Busan (420 a month): after
    losing Seoul, the api in Incheon is 11 ms from Busan. The plan keeps a database in Incheon
    instead, and no failure of the policy breaks the budget."""
    assert near.verification.ok, near.verification.violations
    assert _regions(near, "api") == {"pa/seoul", "pa/incheon"}
    assert _regions(near, "db") == {"pa/seoul", "pa/incheon"}
    assert near.objective == pytest.approx(700.0)
    table = sweep(near, world, "region")
    assert len(table) == 2
    assert (table["dependencies_out_of_budget"] == 0).all(), table
    # the placement the rule rules out is cheaper and meets every other rule
    cheaper = _moved(near, world, "db", "pa/incheon", "pa/busan")
    assert cheaper.cost["total"] == pytest.approx(420.0)
    report = verify_plan(cheaper, world)
    assert report.violations == [
        "api in pa/incheon: after losing region pa/seoul, nearest db is "
        f"{world.rtt_ms('pa/incheon', 'pa/busan'):.1f} ms away, budget 5"
    ]


def test_the_verifier_names_the_failure_that_breaks_the_budget(near: Plan, world: Catalog) -> None:
    """A plan that meets its budget in normal operation but not after a failure is rejected, and
    the message names the failure; the same plan without the budget passes."""
    broken = _moved(near, world, "db", "pa/incheon", "pa/busan")
    violations = verify_plan(broken, world).violations
    assert len(violations) == 1
    assert "after losing region pa/seoul" in violations[0]
    assert "nearest db is" in violations[0] and "budget 5" in violations[0]
    free = copy.copy(broken)
    dep = broken.spec.dependencies[0].model_copy(update={"max_latency_ms": None})
    free.spec = broken.spec.model_copy(update={"dependencies": (dep,)})
    assert verify_plan(free, world).ok
    # losing the only callee region: the database is down, and so is the api that calls it; a
    # caller that is down is reported as the callee's shortfall, not as a latency out of budget
    # (as what-if and the sweep count it)
    lonely = _moved(broken, world, "db", "pa/busan", "pa/seoul")
    lonely.placements = lonely.placements.drop_duplicates(["service", "region"])
    lonely.fees = fees_for(lonely.placements, world)
    assert verify_plan(lonely, world).violations == [
        "db: after losing region pa/seoul, 0 vcpu remain, needs 4 (active_active)"
    ]


def _agree(plan: Plan, catalog: Catalog, kind: str) -> None:
    """The sweep, evaluate_failure and the verifier give the same answer failure by failure."""
    table = sweep(plan, catalog, kind).set_index("scenario")
    violations = verify_plan(plan, catalog).violations
    regions = catalog.regions.loc[plan.regions()]
    groups = (
        {f"region {r}": {"regions": [r]} for r in regions.index}
        if kind == "region"
        else {f"provider {p}": {"providers": [p]} for p in sorted(set(regions["provider"]))}
    )
    for name, words in groups.items():
        impact = evaluate_failure(plan, catalog, failure_from(catalog, **words))
        count = impact.summary["dependencies_out_of_budget"]
        assert count == table.at[name, "dependencies_out_of_budget"], name
        assert count == int(impact.dependencies["out_of_budget"].sum())
        rejected = any(f"after losing {name}," in v for v in violations)
        assert rejected == (count > 0), (name, violations)


def test_whatif_and_sweep_agree_with_the_verifier(near: Plan, world: Catalog) -> None:
    broken = _moved(near, world, "db", "pa/incheon", "pa/busan")
    for plan in (near, broken):
        _agree(plan, world, "region")
    impact = evaluate_failure(broken, world, failure_from(world, regions=["pa/seoul"]))
    assert impact.summary["dependencies_out_of_budget"] == 1
    row = impact.dependencies.iloc[0]
    assert (row["caller"], row["callee"], row["budget_ms"]) == ("api", "db", 5)
    assert row["before_ms"] == pytest.approx(world.rtt_ms("pa/seoul", "pa/incheon"))
    assert row["after_ms"] == pytest.approx(world.rtt_ms("pa/incheon", "pa/busan"))
    assert bool(row["out_of_budget"])
    # losing Busan leaves Seoul within reach of both api regions
    fine = evaluate_failure(broken, world, failure_from(world, regions=["pa/busan"]))
    assert fine.summary["dependencies_out_of_budget"] == 0


def test_a_caller_that_is_down_is_not_out_of_budget(near: Plan, world: Catalog) -> None:
    """Losing the whole provider takes every service down: down, not out of budget."""
    impact = evaluate_failure(near, world, failure_from(world, providers=["pa"]))
    assert impact.summary["services_down"] == 2
    assert impact.summary["dependencies_out_of_budget"] == 0
    assert pd.isna(impact.dependencies.iloc[0]["after_ms"])
    table = sweep(near, world, "provider")
    assert table["services_down"].tolist() == [2]
    assert table["dependencies_out_of_budget"].tolist() == [0]


SURVIVE_KIND = {"zone": "zone", "region": "region", "site": "site", "provider": "provider"}


@pytest.mark.parametrize(
    "path", sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "global-saas.yaml")
)
def test_every_example_keeps_its_budgets_after_each_failure(path: Path, catalog: Catalog) -> None:
    """Every bundled example plans and verifies, and no failure of its policy's kind leaves a
    dependency out of budget, in the sweep and in evaluate_failure alike."""
    plan = make_plan(load_spec(path), catalog)
    assert plan.verification.ok, plan.verification.violations
    survive = plan.spec.policy.survive
    if survive == "none":
        return
    table = sweep(plan, catalog, SURVIVE_KIND[survive])
    assert (table["dependencies_out_of_budget"] == 0).all(), table
    if survive in ("region", "provider"):
        _agree(plan, catalog, survive)


@pytest.mark.slow
def test_global_saas_keeps_its_budgets_after_each_failure(catalog: Catalog) -> None:
    plan = make_plan(load_spec(EXAMPLES / "global-saas.yaml"), catalog, PlanOptions(time_limit=60))
    assert plan.verification.ok, plan.verification.violations
    table = sweep(plan, catalog, "region")
    assert (table["dependencies_out_of_budget"] == 0).all(), table
