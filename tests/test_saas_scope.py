"""SaaS by its scope: a regional SaaS offering fails with its region, a global one only with its
provider; the model, the verifier, what-if, the sweep and availability all read it the same way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import planner
from planner import Catalog, Plan, PlanOptions
from planner.analysis.plan_availability import plan_layout
from planner.catalog import default_catalog_dir

SSO = """
app: login
policy: {{survive: {survive}}}
services:
  - {{name: sso, category: saas.identity, tiers: [SaaS], demand: {{users: 5000}},
     providers: [{provider}]}}
"""


def _plan(catalog: Catalog, provider: str, survive: str) -> Plan:
    spec = planner.spec_from_text(SSO.format(provider=provider, survive=survive), "login.yaml")
    return planner.make_plan(spec, catalog, PlanOptions(time_limit=30))


def test_every_saas_offering_states_its_scope(catalog: Catalog) -> None:
    saas = catalog.offerings[catalog.offerings["tier"] == "SaaS"]
    assert len(saas) and set(saas["scope"]) <= {"regional", "global"}
    scope = dict(zip(saas["sku"], saas["scope"], strict=True))
    assert scope["ncloud-single-sign-on"] == "regional"  # offered in Korea only
    assert scope["cognito-user-pools-lite"] == "regional"  # a user pool lives in one region
    assert scope["entra-id-p1"] == "global"
    assert not catalog.runs_globally(
        catalog.offerings.index[catalog.offerings["tier"] != "SaaS"]
    ).any()


def test_a_saas_offering_without_a_scope_is_a_catalog_problem(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(default_catalog_dir(), folder)
    scopes = folder / "saas_scope.csv"
    lines = scopes.read_text(encoding="utf-8").splitlines()
    scopes.write_text("\n".join(line for line in lines if "entra-id-p1" not in line) + "\n")
    with pytest.raises(planner.CatalogError) as err:
        planner.load_catalog(folder)
    message = str(err.value)
    assert "azure/entra-id-p1 has no scope" in message and "regional|global" in message


def test_global_saas_survives_its_region_but_not_its_provider(catalog: Catalog) -> None:
    plan = _plan(catalog, "azure", "region")
    assert plan.verification.ok, plan.verification.violations
    regions = plan.regions()
    # no spare capacity is bought: the vendor runs it across its regions
    assert plan.placements["units"].sum() == 5000
    down = planner.sweep(plan, catalog, kind="region")
    assert (down["services_down"] == 0).all()
    impact = planner.evaluate_failure(plan, catalog, planner.failure_from(catalog, regions[:1]))
    assert impact.summary["services_down"] == 0
    assert impact.services.set_index("service").at["sso", "capacity_after"] == 5000
    gone = planner.sweep(plan, catalog, kind="provider")
    assert gone["services_down"].tolist() == [1]
    lost = planner.evaluate_failure(
        plan, catalog, planner.failure_from(catalog, providers=["azure"])
    )
    assert lost.summary["services_down"] == 1
    # availability: its one replica fails only with the provider
    layout = plan_layout(plan, catalog)
    (replica,) = layout.services[0].replicas
    assert layout.region_domains[replica.region] == ("provider:azure",)


def test_regional_saas_fails_with_its_region(catalog: Catalog) -> None:
    # Ncloud SSO is sold in Korea only: one region cannot survive that region's loss
    with pytest.raises(planner.InfeasibleError):
        _plan(catalog, "naver", "region")
    plan = _plan(catalog, "naver", "none")
    (region,) = plan.regions()
    down = planner.sweep(plan, catalog, kind="region")
    assert down.set_index("scenario").at[f"region {region}", "services_down"] == 1
    impact = planner.evaluate_failure(plan, catalog, planner.failure_from(catalog, [region]))
    assert impact.summary["services_down"] == 1
    layout = plan_layout(plan, catalog)
    (replica,) = layout.services[0].replicas
    assert replica.region == region and f"region:{region}" in layout.region_domains[region]


@pytest.mark.parametrize("provider", ["azure", "aws"])
def test_plan_verification_agrees_with_the_region_sweep(catalog: Catalog, provider: str) -> None:
    """Regional Cognito needs a second region to survive a region's loss; global Entra does not:
    either way the printed (verified) plan loses no service in any single region failure."""
    plan = _plan(catalog, provider, "region")
    assert plan.verification.ok
    assert (planner.sweep(plan, catalog, kind="region")["services_down"] == 0).all()
    units = plan.placements["units"].sum()
    # regional Cognito must hold spare capacity outside each region; global Entra holds none
    assert units == 5000 if provider == "azure" else units > 5000
