"""Offline base maps (dashboards/geo/, Natural Earth outlines) and fitting a map's view to its
points. Pure: no Streamlit."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent.parent / "geo"
DETAILED = "korea-50m.geojson"  # drawn over the world outline where it has more detail


@functools.cache
def _features(name: str) -> tuple[dict[str, Any], ...]:
    with open(FOLDER / name, encoding="utf-8") as fh:
        return tuple(json.load(fh)["features"])


def outlines() -> dict[str, Any]:
    """Country outlines as one GeoJSON FeatureCollection: the world at 1:110m with Korea and
    Japan replaced by their 1:50m outlines."""
    detail = _features(DETAILED)
    replaced = {f["properties"]["id"] for f in detail}
    world = [f for f in _features("world-110m.geojson") if f["properties"]["id"] not in replaced]
    return {"type": "FeatureCollection", "features": [*world, *detail]}


def _mercator_y(lat: float) -> float:
    lat = max(min(lat, 85.0), -85.0)
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


TILE_PX = 512  # deck.gl's web-Mercator world is 512 px wide at zoom 0


def fit_view(
    lats: list[float], lons: list[float], width_px: float = 900, height_px: float = 480
) -> tuple[float, float, float]:
    """(latitude, longitude, zoom) of a web-Mercator view that shows every point with a margin,
    in a map of about `width_px` x `height_px` (the main column of a wide page at 1440 px). A
    single point, or points close together, get a regional zoom rather than a street."""
    if not lats:
        return 25.0, 40.0, 0.6
    lon_lo, lon_hi = min(lons), max(lons)
    y_lo, y_hi = _mercator_y(min(lats)), _mercator_y(max(lats))
    lon_span = max(lon_hi - lon_lo, 7.0)  # a country at least: a city's regions stay apart
    y_span = max(y_hi - y_lo, math.radians(6.0))
    margin = 0.7  # share of the frame the points may fill
    zoom_x = math.log2(width_px * margin * 360.0 / (TILE_PX * lon_span))
    zoom_y = math.log2(height_px * margin * 2 * math.pi / (TILE_PX * y_span))
    zoom = max(0.0, min(zoom_x, zoom_y, 6.0))
    y_mid = (y_lo + y_hi) / 2
    lat_mid = math.degrees(2 * math.atan(math.exp(y_mid)) - math.pi / 2)
    return lat_mid, (lon_lo + lon_hi) / 2, zoom


def separate(
    lats: list[float], lons: list[float], radius_deg: float, close_deg: float = 0.5
) -> list[tuple[float, float]]:
    """Positions that keep points at one place apart: the points within `close_deg` of the first
    of a group are set on a circle of `radius_deg` around it, in their given order (so the same
    input always draws the same way). Lone points stay where they are."""
    out = list(zip(lats, lons, strict=True))
    groups: list[list[int]] = []
    for i, (lat, lon) in enumerate(out):
        for g in groups:
            lat0, lon0 = out[g[0]]
            if abs(lat - lat0) <= close_deg and abs(lon - lon0) <= close_deg:
                g.append(i)
                break
        else:
            groups.append([i])
    moved = list(out)
    for g in groups:
        if len(g) < 2:
            continue
        lat0 = sum(out[i][0] for i in g) / len(g)
        lon0 = sum(out[i][1] for i in g) / len(g)
        stretch = 1 / max(math.cos(math.radians(lat0)), 0.2)  # a degree of longitude is shorter
        for k, i in enumerate(g):
            angle = math.pi / 2 + 2 * math.pi * k / len(g)
            moved[i] = (
                lat0 + radius_deg * math.sin(angle),
                lon0 + radius_deg * stretch * math.cos(angle),
            )
    return moved
