"""`Candidates.restrict` and the column lists a model builder reads: a restriction slices its
parent's lists, and must give exactly what its own table holds."""

from __future__ import annotations

import pickle

from planner.catalog import Catalog
from planner.model.candidates import build_candidates
from planner.spec import load_spec
from tests.conftest import EXAMPLES

COLUMNS = ("service", "region", "category", "role", "vcpu", "max_units", "serves", "zones")


def test_a_restriction_reads_the_rows_of_its_own_table(catalog: Catalog) -> None:
    cands = build_candidates(load_spec(EXAMPLES / "kr-ecommerce.yaml"), catalog)
    services = cands.services()
    cands.column_values("region")  # the parent's list made first, as in a run
    for block in ([services[0]], services[1:3], services[::-1]):
        sub = cands.restrict(block)
        assert set(sub.offers["service"]) == set(block)
        assert list(sub.offers.index) == sorted(sub.offers.index)
        for name in COLUMNS:
            assert sub.column_values(name) == sub.offers[name].tolist(), name


def test_a_restriction_to_regions_keeps_only_their_rows(catalog: Catalog) -> None:
    cands = build_candidates(load_spec(EXAMPLES / "global-saas.yaml"), catalog)
    s, t = cands.services()[:2]
    where = {
        s: set(sorted(set(cands.offers.loc[cands.offers["service"] == s, "region"]))[:2]),
        t: set(sorted(set(cands.offers.loc[cands.offers["service"] == t, "region"]))[-1:]),
    }
    sub = cands.restrict([s, t], where)
    off = cands.offers
    expected = off[
        [r in where.get(x, ()) for x, r in zip(off["service"], off["region"], strict=True)]
    ]
    assert list(sub.offers.index) == list(expected.index)
    assert len(sub.offers) > 0
    for name in COLUMNS:
        assert sub.column_values(name) == expected[name].tolist(), name


def test_a_restriction_travels_to_a_worker_without_its_parent(catalog: Catalog) -> None:
    cands = build_candidates(load_spec(EXAMPLES / "kr-ecommerce.yaml"), catalog)
    sub = cands.restrict(cands.services()[:1])
    sub.column_values("region")
    copy = pickle.loads(pickle.dumps(sub))
    assert copy._parent is None and copy._lists == {}
    assert len(pickle.dumps(sub)) < len(pickle.dumps(cands))
    assert copy.column_values("region") == sub.column_values("region")
