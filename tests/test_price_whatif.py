"""Price what-if (issue 16): parsing the changes, re-pricing the catalog, and a plan that moves
when the provider it relies on becomes dearer."""

from __future__ import annotations

import pytest

from planner.analysis.whatif_price import parse_price_change, plan_changes, repriced
from planner.errors import InputError
from planner.optimize import PlanOptions, make_plan
from planner.spec import spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog

REGIONS = [SynthRegion("p0", "r0"), SynthRegion("p1", "r0")]
OFFERINGS = [
    SynthOffering("p0/r0", "vm4", "compute.vm", 100.0, vcpu=4.0),
    SynthOffering("p1/r0", "vm4", "compute.vm", 120.0, vcpu=4.0),
]
SPEC = {
    "app": "price",
    "policy": {"survive": "none"},
    "services": [{"name": "web", "category": "compute.vm", "demand": {"vcpu": 8}}],
}


@pytest.fixture(scope="module")
def catalog():  # noqa: ANN201
    return make_catalog(REGIONS, OFFERINGS)


@pytest.mark.parametrize(
    ("text", "kind", "name", "factor"),
    [
        ("provider=p0:+30%", "provider", "p0", 1.3),
        ("region=p1/r0:-10%", "region", "p1/r0", 0.9),
        ("category=compute.vm:x2", "category", "compute.vm", 2.0),
        ("private.utilization=0.3", "private.utilization", "", 0.3),
    ],
)
def test_changes_are_read(catalog, text: str, kind: str, name: str, factor: float) -> None:  # noqa: ANN001
    change = parse_price_change(text, catalog)
    assert (change.kind, change.name) == (kind, name)
    assert change.factor == pytest.approx(factor)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("provider=p9:+20%", "p0, p1"),
        ("provider=p0", "KIND=NAME:CHANGE"),
        ("vendor=p0:+20%", "unknown kind"),
        ("provider=p0:+20", "KIND=NAME:CHANGE"),
        ("private.utilization=1.5", "(0, 1]"),
        ("provider=p0:-150%", "more than 100%"),
    ],
)
def test_bad_changes_say_how_to_write_them(catalog, text: str, says: str) -> None:  # noqa: ANN001
    with pytest.raises(InputError, match=r"--price") as err:
        parse_price_change(text, catalog)
    assert says in str(err.value)


def test_repricing_scales_only_the_matching_offerings(catalog) -> None:  # noqa: ANN001
    new = repriced(catalog, [parse_price_change("provider=p0:+30%", catalog)])
    price = new.offerings["usd_per_month"]
    assert price["p0/r0/vm4"] == pytest.approx(130.0)
    assert price["p1/r0/vm4"] == pytest.approx(120.0)
    assert catalog.offerings.at["p0/r0/vm4", "usd_per_month"] == pytest.approx(100.0)


def test_a_dearer_provider_loses_the_service(catalog) -> None:  # noqa: ANN001
    spec = spec_from_data(SPEC, "test")
    options = PlanOptions(time_limit=30)
    before = make_plan(spec, catalog, options)
    assert set(before.placements["region"]) == {"p0/r0"}
    after = make_plan(
        spec, repriced(catalog, [parse_price_change("provider=p0:+30%", catalog)]), options
    )
    assert set(after.placements["region"]) == {"p1/r0"}
    assert after.objective == pytest.approx(240.0)
    moved = plan_changes(before, after)
    assert moved.loc[0, "moved"]
    assert (moved.loc[0, "usd_before"], moved.loc[0, "usd_after"]) == (200.0, 240.0)
