"""Rule 2 of the model (docs/model.md): a managed database's storage exists only where the service
runs an instance of that offering's own family, not merely some instance.

Found on the 50-service `provider` benchmark, whose monolithic solve once returned a plan the
verifier refused (managed storage beside virtual machines running the database, and no managed
instance in that region): a service whose tiers allow both runs in a region with either, and the
storage was linked only to running there. Here prices are skewed so that such a mix would be the
cheapest plan the old rows allowed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from planner.catalog import Catalog
from planner.model.build import BuildOptions, build_model
from planner.model.candidates import Candidates, build_candidates
from planner.model.readout import units_of
from planner.solve import SolverOptions, SolveStatus, get_backend
from planner.spec import spec_from_data


def _db_spec(survive: str) -> dict:
    return {
        "app": "managed-storage",
        "policy": {"survive": survive},
        "services": [
            {
                "name": "db",
                "category": "db.relational",
                "tiers": ["PaaS", "IaaS"],
                "demand": {"vcpu": 4, "storage_gb": 500},
                "stateful": True,
                "dr": "warm_standby",
                "providers": ["aws"],
            }
        ],
    }


def _priced(cands: Candidates, managed_instance: float, machine: float) -> Candidates:
    """Managed instances and virtual machines at these multiples of their prices, and managed
    storage nearly free: cheaper than any volume, so whatever the model allows of it is bought."""
    off = cands.offers.copy()
    managed = off["category"].str.startswith("db.")
    instance = off["vcpu"] > 0
    off.loc[managed & instance, "usd_per_month"] *= managed_instance
    off.loc[~managed & instance, "usd_per_month"] *= machine
    off.loc[managed & ~instance, "usd_per_month"] = 0.01
    return cands.with_offers(off)


def _bought(catalog: Catalog, cands: Candidates) -> pd.DataFrame:
    built = build_model(cands, catalog, BuildOptions(couple=False))
    result = get_backend("highs").solve(built.prob, SolverOptions(gap=0.0, time_limit=60))
    assert result.status is SolveStatus.OPTIMAL
    units = units_of(built)
    return cands.offers.loc[sorted(units)]


def _storage_alone(bought: pd.DataFrame) -> list[str]:
    """Managed storage rows bought without an instance of their category in their region."""
    instances = set(
        zip(
            bought.loc[bought["serves"], "region"],
            bought.loc[bought["serves"], "category"],
            strict=True,
        )
    )
    storage = bought[bought["attached"]]
    return [
        o
        for o, r, c in zip(storage["offering"], storage["region"], storage["category"], strict=True)
        if (r, c) not in instances
    ]


@pytest.mark.parametrize("survive", ["region", "none"])
def test_no_managed_storage_beside_machines_only(catalog: Catalog, survive: str) -> None:
    """Machines cheap and managed instances dear: the plan runs on machines, and the nearly free
    managed storage may not come with them (the old rows bought exactly that mix)."""
    cands = _priced(
        build_candidates(spec_from_data(_db_spec(survive), "<test>"), catalog), 20.0, 0.5
    )
    both = cands.offers.groupby("region")["category"].agg(
        lambda c: {"db.relational", "compute.vm"} <= set(c)
    )
    assert both.any()  # regions where either kind of instance can run
    bought = _bought(catalog, cands)
    assert (bought["category"] == "compute.vm").any()
    assert _storage_alone(bought) == []


def test_managed_storage_beside_managed_instances_is_still_bought(catalog: Catalog) -> None:
    """Managed instances cheap: managed storage is bought beside them, through the same rows."""
    cands = _priced(
        build_candidates(spec_from_data(_db_spec("region"), "<test>"), catalog), 0.5, 20.0
    )
    bought = _bought(catalog, cands)
    assert bought["attached"].any()
    assert _storage_alone(bought) == []
