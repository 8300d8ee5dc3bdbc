"""The optimiser's latency check after a zone failure agrees with the verifier's rule.

A service holding one unit in a region stops there when that region loses a zone (n units spread
over the zones keep n - ceil(n/Z), none when n = 1). The 200-service zone benchmark showed the
optimiser's quick check (`latency_violations`) counting such a callee as still running, so the
seating left budgets missed that only the verifier saw, and no plan was verified.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.catalog import load_catalog
from planner.optimize.common import zone_fragile
from planner.optimize.latency import latency_violations
from planner.spec.model import load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zone-db-latency.yaml"
SEOUL = "aws/ap-northeast-2"


@pytest.fixture(scope="module")
def spec_and_catalog():
    return load_spec(EXAMPLE), load_catalog()


def test_a_callee_with_one_unit_in_the_region_misses_the_budget_after_a_zone_loss(
    spec_and_catalog,
) -> None:
    spec, catalog = spec_and_catalog
    everywhere = {s.name: {SEOUL} for s in spec.services}
    # one database unit in Seoul: losing a zone of Seoul stops it, and no other region is in budget
    fragile = {"ledger-db": {SEOUL}}
    missed = latency_violations(spec, everywhere, catalog, frozenset(), fragile)
    assert missed == [("order-api", "ledger-db")]


def test_with_two_units_the_callee_keeps_running_and_the_budget_holds(spec_and_catalog) -> None:
    spec, catalog = spec_and_catalog
    everywhere = {s.name: {SEOUL} for s in spec.services}
    assert latency_violations(spec, everywhere, catalog, frozenset(), {}) == []


def test_a_fragile_caller_stops_too_so_it_owes_no_budget(spec_and_catalog) -> None:
    spec, catalog = spec_and_catalog
    everywhere = {s.name: {SEOUL} for s in spec.services}
    fragile = {"order-api": {SEOUL}, "ledger-db": {SEOUL}, "session-cache": {SEOUL}}
    assert latency_violations(spec, everywhere, catalog, frozenset(), fragile) == []


def test_zone_fragile_reads_the_largest_serving_row_per_region() -> None:
    import pandas as pd

    offers = pd.DataFrame(
        {
            "service": ["db", "db", "db", "api"],
            "region": ["a", "a", "b", "a"],
            "serves": [True, True, True, False],
        }
    )
    # db: rows of 1 and 2 units in a (the second keeps it running), 1 unit in b; api: a copy only
    assert zone_fragile(offers, {0: 1, 1: 2, 2: 1, 3: 1}) == {"db": {"b"}}
    assert zone_fragile(offers, {0: 1, 2: 0}) == {"db": {"a"}}


def test_the_stand_alone_solves_stop_at_their_deadline_with_advice(spec_and_catalog) -> None:
    """Issue 19: a time limit holds whatever the size. Past its deadline the per-service phase
    stops and says how many services it solved and what limit would do, instead of running on."""
    import time

    from planner.errors import NoPlanError
    from planner.model.candidates import build_candidates
    from planner.optimize.common import PlanOptions
    from planner.optimize.parts import solve_each

    spec, catalog = spec_and_catalog
    cands = build_candidates(spec, catalog)
    options = PlanOptions(time_limit=7)
    solved = solve_each(cands, catalog, options, 7.0, deadline=time.perf_counter() - 1.0)
    with pytest.raises(NoPlanError, match=r"0 of 3 services .* raise --time-limit"):
        next(solved)
    # with time left, every service is solved
    assert len(list(solve_each(cands, catalog, options, 7.0, deadline=None))) == 3
