"""Narrowing a run to one set of providers (decomposed._narrow, used under `max_providers`):
dominance may keep only another provider's regions for a service (under region survival a
dominator may be of any provider), and the service must still have rows to be placed."""

from __future__ import annotations

from planner.model.candidates import build_candidates, prune_dominated
from planner.optimize import PlanOptions
from planner.optimize.decomposed import _narrow, _Run
from planner.spec import spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog


def test_a_service_pruned_to_other_providers_keeps_its_rows_on_these() -> None:
    regions = [SynthRegion("p0", "r0"), SynthRegion("p1", "r0"), SynthRegion("p1", "r1")]
    prices = {"p0/r0": 50.0, "p1/r0": 10.0, "p1/r1": 12.0}  # p1's regions dominate p0's
    catalog = make_catalog(
        regions,
        [SynthOffering(r, "vm4", "compute.vm", price, vcpu=4.0) for r, price in prices.items()],
    )
    spec = spec_from_data(
        {
            "app": "narrow",
            "policy": {"survive": "region"},
            "services": [
                {
                    "name": "web",
                    "category": "compute.vm",
                    "tiers": ["IaaS"],
                    "demand": {"vcpu": 4},
                    "dr": "active_active",
                    "max_regions": 2,
                }
            ],
        },
        "narrow",
    )
    cands = build_candidates(spec, catalog)
    pruned = prune_dominated(cands)
    assert set(pruned.offers["provider"]) == {"p1"}  # the premise: p0 pruned away
    run = _Run(cands, pruned, catalog, PlanOptions(), 0.0, {}, {})
    _narrow(run, frozenset({"p0"}))
    assert set(run.pruned.offers["region"]) == {"p0/r0"}
    assert set(run.cands.offers["region"]) == {"p0/r0"}
    assert run.narrowed
