"""Build the dashboard's offline base maps from Natural Earth's country outlines.

Run once, by hand, when the outlines should change (the output is committed beside this file):

    python dashboards/geo/build_outlines.py PATH/TO/world-atlas

PATH/TO/world-atlas is the unpacked npm package `world-atlas` (2.0.2: Natural Earth 4.1.0 as
TopoJSON). It writes two GeoJSON files the maps draw as a base layer, so that no tile server is
needed:

- world-110m.geojson: every country at 1:110m (but Antarctica), coordinates rounded to 0.1
  degree, without the few pieces cut at the antimeridian (they would be drawn across the map);
- korea-50m.geojson: South and North Korea and Japan at 1:50m, rounded to 0.01 degree, for plans
  that stay in and around Korea (the 1:110m outline of Korea is a dozen points).

Only the standard library is used: TopoJSON is decoded here (delta-encoded, quantised arcs shared
between neighbouring countries) rather than through a GIS package.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
KOREA_AREA = {"410", "408", "392"}  # ISO 3166 numeric: South Korea, North Korea, Japan
LEFT_OUT = {"010"}  # Antarctica: no region there, and it fills the bottom of a world map


def _arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Absolute longitude/latitude of every arc (arcs are stored as quantised deltas)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def _ring(indices: list[int], arcs: list[list[tuple[float, float]]], digits: int) -> list:
    """One closed ring from arc indices (~i is arc i reversed), rounded, repeats dropped."""
    points: list[tuple[float, float]] = []
    for i in indices:
        part = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(part if not points else part[1:])  # arcs share their end points
    ring: list[list[float]] = []
    for lon, lat in points:
        p = [round(lon, digits), round(lat, digits)]
        if not ring or ring[-1] != p:
            ring.append(p)
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    # a ring cut at the antimeridian (eastern Russia, Fiji) would be drawn as a band across the
    # whole map: such small pieces are left out
    if any(abs(a[0] - b[0]) > 180 for a, b in zip(ring, ring[1:], strict=False)):
        return []
    return ring if len(ring) >= 4 else []


def _features(topo: dict[str, Any], digits: int, keep: set[str] | None) -> list[dict[str, Any]]:
    arcs = _arcs(topo)
    out = []
    for geom in topo["objects"]["countries"]["geometries"]:
        if keep is not None and geom.get("id") not in keep:
            continue
        if geom.get("id") in LEFT_OUT:
            continue
        if geom["type"] == "Polygon":
            polygons = [geom["arcs"]]
        elif geom["type"] == "MultiPolygon":
            polygons = geom["arcs"]
        else:
            continue
        shapes = []
        for polygon in polygons:
            rings = [r for r in (_ring(ix, arcs, digits) for ix in polygon) if r]
            if rings:
                shapes.append(rings)
        if shapes:
            out.append(
                {
                    "type": "Feature",
                    "properties": {"id": geom.get("id", ""), "name": geom["properties"]["name"]},
                    "geometry": {"type": "MultiPolygon", "coordinates": shapes},
                }
            )
    return out


def _write(path: Path, features: list[dict[str, Any]]) -> None:
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    print(f"{path.name}: {len(features)} countries, {path.stat().st_size / 1024:.0f} KiB")


def main(atlas: Path) -> None:
    world = json.loads((atlas / "countries-110m.json").read_text(encoding="utf-8"))
    detail = json.loads((atlas / "countries-50m.json").read_text(encoding="utf-8"))
    _write(HERE / "world-110m.geojson", _features(world, 1, None))
    _write(HERE / "korea-50m.geojson", _features(detail, 2, KOREA_AREA))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python dashboards/geo/build_outlines.py PATH/TO/world-atlas")
    main(Path(sys.argv[1]))
