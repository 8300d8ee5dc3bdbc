"""Dominance pruning under `survive: site`: where each of a service's regions is a site of its own,
a site failure is a region failure and the region rule prunes exactly (the optimum is the
unpruned one); where two of its regions share a site, nothing of the service is pruned, since
moving it into a site that also holds another of its regions changes what a failure takes."""

from __future__ import annotations

import pytest

from planner.catalog import Catalog
from planner.model.candidates import build_candidates, prune_dominated
from planner.optimize import PlanOptions, make_plan
from planner.spec import spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog

PRICES = {"r0": 40.0, "r1": 44.0, "r2": 48.0, "r3": 52.0}


def _catalog(shared: tuple[str, ...] = ()) -> Catalog:
    """Four regions of one provider, cheapest first; the regions in `shared` form one site."""
    regions = [SynthRegion("p0", code, zones=1) for code in PRICES]
    offerings = [
        SynthOffering(f"p0/{code}", "vm4", "compute.vm", price, vcpu=4.0)
        for code, price in PRICES.items()
    ]
    catalog = make_catalog(regions, offerings)
    for code in shared:
        catalog.regions.loc[f"p0/{code}", "site"] = "p0/campus"
    return catalog


SPEC = spec_from_data(
    {
        "app": "sites",
        "policy": {"survive": "site"},
        "services": [
            {
                "name": "web",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": 8},
                "dr": "active_active",
                "max_regions": 2,
            }
        ],
    },
    "sites",
)


def _regions_kept(catalog: Catalog) -> set[str]:
    return set(prune_dominated(build_candidates(SPEC, catalog)).offers["region"])


def test_sites_of_one_region_each_are_pruned_as_regions() -> None:
    catalog = _catalog()
    # two regions at most: the two cheapest dominate the others
    assert _regions_kept(catalog) == {"p0/r0", "p0/r1"}
    plan = make_plan(SPEC, catalog, PlanOptions(gap=1e-9))
    reference = make_plan(SPEC, catalog, PlanOptions(gap=1e-9, method="monolithic"))
    assert plan.verification.ok
    assert plan.objective == pytest.approx(reference.objective)
    assert set(plan.regions()) == {"p0/r0", "p0/r1"}


def test_a_service_with_two_regions_in_one_site_is_not_pruned() -> None:
    catalog = _catalog(shared=("r0", "r1"))
    assert _regions_kept(catalog) == {f"p0/{code}" for code in PRICES}
    plan = make_plan(SPEC, catalog, PlanOptions(gap=1e-9))
    # r0 and r1 fail together: the second copy goes to the next site, r2
    assert plan.verification.ok
    assert set(plan.regions()) == {"p0/r0", "p0/r2"}
    reference = make_plan(SPEC, catalog, PlanOptions(gap=1e-9, method="monolithic"))
    assert plan.objective == pytest.approx(reference.objective)
