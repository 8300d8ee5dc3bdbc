"""Pure pieces of the dashboard (issue 18): the trade-off's Pareto frontier, the offline map's
outlines, view and separation of co-located regions, and the relaxations of an infeasible spec."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

DASH = Path(__file__).resolve().parents[1] / "dashboards"
sys.path.insert(0, str(DASH))

from ui import geo  # noqa: E402
from ui.tradeoff import frontier_line, pareto_front  # noqa: E402


def _points(rows: list[tuple[str, float, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["name", "usd_per_month", "downtime_min_per_month", "time_limited"]
    )


def _is_pareto(points: pd.DataFrame, on: pd.Series) -> bool:
    """No point on the frontier is dominated, and every point off it is."""
    for i, p in points.iterrows():
        dominated = any(
            q["usd_per_month"] <= p["usd_per_month"]
            and q["downtime_min_per_month"] <= p["downtime_min_per_month"]
            and (
                q["usd_per_month"] < p["usd_per_month"]
                or q["downtime_min_per_month"] < p["downtime_min_per_month"]
            )
            for j, q in points.iterrows()
            if j != i
        )
        if bool(on[i]) == dominated:
            return False
    return True


def test_a_time_limited_plan_dominated_by_strategies_is_off_the_frontier() -> None:
    """Issue 18: global-saas under survive: provider stopped at its time limit at $91,068 with
    a 92.5% gap, and the old frontier (a separate list of solves) climbed to it although two
    strategies were cheaper and more available. From the points shown, it is dominated."""
    points = _points(
        [
            ("survive none", 9_000.0, 120.0, False),
            ("survive region", 30_000.0, 4.0, False),
            ("survive provider (time limit, gap 92.5%)", 91_068.0, 2.0, True),
            ("multi-cloud active/active", 60_000.0, 0.5, False),
            ("multi-region one cloud", 45_000.0, 1.5, False),
        ]
    )
    # the line a frontier of its own solves would draw: none -> region -> provider
    old_line = points.iloc[[0, 1, 2]]
    assert not _is_pareto(points, points.index.isin(old_line.index))
    on = pareto_front(points)
    assert _is_pareto(points, on)
    assert not on[2], "the time-limited plan is dominated by two strategies"
    assert list(points.loc[on, "name"]) == [
        "survive none",
        "survive region",
        "multi-cloud active/active",
        "multi-region one cloud",
    ]
    line = frontier_line(points)
    # along the line, downtime falls as cost rises: never both worse
    assert line["downtime_min_per_month"].is_monotonic_increasing
    assert line["usd_per_month"].is_monotonic_decreasing


def test_a_time_limited_plan_that_nothing_beats_stays_on_the_frontier() -> None:
    points = _points([("cheap", 10.0, 50.0, False), ("limited", 20.0, 1.0, True)])
    assert list(pareto_front(points)) == [True, True]


def test_ties_and_missing_points() -> None:
    points = _points(
        [
            ("a", 10.0, 5.0, False),
            ("a again", 10.0, 5.0, False),  # equal: neither strictly better, both stay
            ("as cheap, more downtime", 10.0, 6.0, False),
            ("no plan", math.nan, math.nan, False),
        ]
    )
    assert list(pareto_front(points)) == [True, True, False, False]
    assert len(frontier_line(points)) == 1


def test_outlines_are_small_and_cover_the_world_and_korea() -> None:
    sizes = {p.name: p.stat().st_size for p in (DASH / "geo").glob("*.geojson")}
    assert set(sizes) == {"world-110m.geojson", "korea-50m.geojson"}
    assert sum(sizes.values()) < 300_000
    features = geo.outlines()["features"]
    names = {f["properties"]["name"] for f in features}
    assert {"South Korea", "North Korea", "Japan", "United States of America", "France"} <= names
    korea = next(f for f in features if f["properties"]["name"] == "South Korea")
    points = [p for poly in korea["geometry"]["coordinates"] for ring in poly for p in ring]
    assert len(points) > 100, "Korea is drawn from the 1:50m outline"
    assert min(p[0] for p in points) > 125.5 and max(p[0] for p in points) < 131.5
    assert "Natural Earth" in (DASH / "geo" / "README.md").read_text(encoding="utf-8")
    json.dumps(geo.outlines())  # what pydeck sends to the browser


def test_co_located_regions_are_set_apart_deterministically() -> None:
    lats, lons = [37.56, 37.57, 37.55, 35.1], [126.98, 126.97, 126.99, 129.0]
    moved = geo.separate(lats, lons, radius_deg=0.3)
    assert moved == geo.separate(lats, lons, radius_deg=0.3)
    assert moved[3] == (35.1, 129.0), "a lone region stays where it is"
    seoul = moved[:3]
    for i in range(3):
        for j in range(i + 1, 3):
            d = math.dist(seoul[i], seoul[j])
            assert d > 0.3, (seoul[i], seoul[j])


def _pixels(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """Web-Mercator pixel position at `zoom` (deck.gl: a 512 px world at zoom 0)."""
    size = 512 * 2**zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * size, (math.pi - y) / (2 * math.pi) * size


@pytest.mark.parametrize(
    "lats, lons",
    [
        ([37.5, 35.1, 40.7, 51.5], [127.0, 129.0, -74.0, -0.1]),  # three continents
        ([37.5, 35.1], [127.0, 129.0]),  # Korea
        ([48.9, 50.1, 53.3], [2.3, 8.7, -6.3]),  # Europe
    ],
)
def test_the_view_fits_every_point(lats: list[float], lons: list[float]) -> None:
    width, height = 900, 480
    lat, lon, zoom = geo.fit_view(lats, lons, width, height)
    cx, cy = _pixels(lat, lon, zoom)
    for a, b in zip(lats, lons, strict=True):
        x, y = _pixels(a, b, zoom)
        assert abs(x - cx) <= width / 2 and abs(y - cy) <= height / 2, (a, b)


def test_a_plan_in_one_country_is_seen_close() -> None:
    _, _, korea_zoom = geo.fit_view([37.5, 35.1], [127.0, 129.0])
    assert korea_zoom > 4
    assert geo.fit_view([], []) == (25.0, 40.0, 0.6)


@pytest.mark.parametrize("lang", ["ko"])
def test_relaxations_of_single_dc_after_the_pangyo_fire(lang: str) -> None:
    """What the What-if page solves when the repair is impossible: allowing the second site or
    a public cloud each makes a plan; a relaxation that changes nothing is not offered."""
    from ui.data import PlanRequest, relaxed_spec, useful_relaxations

    from planner import load_spec
    from planner.examples import examples_dir

    spec = load_spec(examples_dir() / "single-dc.yaml")
    assert useful_relaxations(spec) == ("allow_excluded_regions", "allow_all_providers")
    lost = ("openstack/seoul-dc1",)
    other_site = relaxed_spec(spec, ("allow_excluded_regions",), lost)
    assert other_site.policy.exclude_regions == lost
    public = relaxed_spec(spec, ("allow_all_providers",), lost)
    assert all(not s.providers for s in public.services)
    assert set(public.policy.exclude_regions) == {"openstack/busan-dc2", *lost}
    assert PlanRequest("x", "y", relax=("a",)).key != PlanRequest("x", "y").key


# ------------------------------------------------------------------ figures that reconcile
@pytest.fixture(scope="module")
def kr_plan():  # noqa: ANN201 - a Plan and the catalog
    from planner import PlanOptions, load_catalog, load_spec, make_plan
    from planner.examples import examples_dir

    catalog = load_catalog()
    spec = load_spec(examples_dir() / "kr-ecommerce.yaml")
    return make_plan(spec, catalog, PlanOptions(time_limit=60)), catalog


def test_the_availability_table_lists_every_element_in_series(kr_plan) -> None:  # noqa: ANN001
    """Issue 18: the headline availability did not reconcile with the per-service table (a front
    door in series was not listed). The table now ends with the front door and the whole app."""
    from ui.views import availability_rows

    import planner

    plan, catalog = kr_plan
    res = planner.plan_availability(plan, catalog)
    front = res.unavailability - res.unavailability_without_front_door
    assert front > 0, "kr-ecommerce serves users from several regions: a front door in series"
    rows = availability_rows(
        pd.DataFrame(res.service_rows()),
        float(catalog.availability["front_door"]),
        res.availability,
        res.minutes_per_month,
        "front door",
        "whole application",
    )
    assert list(rows["service"])[-2:] == ["front door", "whole application"]
    whole = rows.iloc[-1]
    assert whole["effective_availability_pct"] == pytest.approx(100 * res.availability)
    assert whole["effective_downtime_min_per_month"] == pytest.approx(res.minutes_per_month)
    # elements in series: the whole is down at least as often as its worst element and at most
    # as often as all of them apart (they share regions, so their outages overlap)
    parts = rows.iloc[:-1]["effective_downtime_min_per_month"]
    assert parts.max() <= res.minutes_per_month <= parts.sum() * (1 + 1e-9)


def test_the_json_download_carries_the_availability_shown(kr_plan) -> None:  # noqa: ANN001
    import planner

    plan, catalog = kr_plan
    res = planner.plan_availability(plan, catalog)
    shown = json.loads(planner.plan_to_json(plan, res))["availability"]
    assert shown is not None
    assert shown["availability_pct"] == pytest.approx(100 * res.availability)
    source = (DASH / "app_pages" / "plan.py").read_text(encoding="utf-8")
    assert 'data.plan_json(req.key, plan, None if avail is None else avail["result"])' in source


def test_compliance_per_failure_kind(kr_plan) -> None:  # noqa: ANN001
    from ui.compliance import compliance, service_weights, weighted_shortfall

    import planner

    plan, catalog = kr_plan
    rows = compliance(plan, catalog).set_index("failure_kind")
    assert list(rows.index) == ["zone", "region", "site", "provider"]
    assert plan.spec.policy.survive == "region"
    assert rows.loc["region", "required"] and not rows.loc["provider", "required"]
    # the verifier accepted the plan: every required kind passes, with no service down
    assert plan.verification.ok
    for kind in ("zone", "region"):
        assert rows.loc[kind, "passed"] is True or rows.loc[kind, "passed"] == True  # noqa: E712
        assert rows.loc[kind, "services_down"] == 0
        assert rows.loc[kind, "achieved_rto_minutes"] <= rows.loc[kind, "target_rto_minutes"]
    # the demand-weighted shortfall: each service's unmet share weighted by its cost share
    weights = service_weights(plan)
    assert weights.sum() == pytest.approx(1.0)
    sweep = planner.sweep(plan, catalog, "region").set_index("scenario")
    weighted = weighted_shortfall(plan, catalog, "region")
    assert list(weighted.index) == list(sweep.index)
    hit = sweep[sweep["services_degraded"] > 0]
    assert len(hit), "some region's loss leaves a service short"
    for scenario in hit.index:
        assert 0 < weighted[scenario] < 100
    assert rows.loc["region", "weighted_shortfall_pct"] == pytest.approx(weighted.max())


def test_a_plan_that_survives_nothing_fails_every_kind_without_being_required() -> None:
    from ui.compliance import compliance

    from planner import PlanOptions, load_catalog, load_spec, make_plan
    from planner.examples import examples_dir

    catalog = load_catalog()
    plan = make_plan(load_spec(examples_dir() / "single-dc.yaml"), catalog, PlanOptions())
    rows = compliance(plan, catalog)
    assert not rows["required"].any()
    assert (rows["passed"] == False).all()  # noqa: E712
    assert (rows["achieved_rto_minutes"] == math.inf).all()
    assert rows["weighted_shortfall_pct"].to_numpy() == pytest.approx([100.0] * 4)
