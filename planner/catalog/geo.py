"""Great-circle distance and the distance-based round-trip model: its form, its fit on measured
pairs and its error by distance band (docs/latency.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0


def haversine_km(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def pair_km(regions: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Great-circle km between the `src` and `dst` regions of each row of `pairs` (ids in the
    index of `regions`, which has `lat` and `lon`), e.g. of latency_measured.csv."""
    src, dst = regions.loc[pairs["src"]], regions.loc[pairs["dst"]]
    return np.asarray(
        haversine_km(
            src["lat"].to_numpy(dtype=float),
            src["lon"].to_numpy(dtype=float),
            dst["lat"].to_numpy(dtype=float),
            dst["lon"].to_numpy(dtype=float),
        ),
        dtype=float,
    )


@dataclass(frozen=True)
class LatencyModel:
    """Round trip = overhead + ms_per_km x distance; pairs closer than `same_metro_km` get
    `same_metro_ms`.

    The parameters are catalog data (`latency_model.yaml`) fitted on measured inter-region pings
    with `fit_latency_model`. The planner uses the model only where no measured figure exists
    (`matrices.latency_matrix`) and from a user's location to a region.
    """

    overhead_ms: float
    ms_per_km: float
    same_metro_ms: float
    same_metro_km: float

    def rtt_ms(self, km: np.ndarray | float) -> np.ndarray:
        km = np.asarray(km, dtype=float)
        return np.where(
            km <= self.same_metro_km, self.same_metro_ms, self.overhead_ms + self.ms_per_km * km
        )


# The distance bands the model's error is reported in (docs/latency.md) and that weigh equally in
# its fit: lower edges in km, each band up to the next edge.
DISTANCE_BANDS_KM = (0.0, 100.0, 300.0, 1000.0, 3000.0, 8000.0)


def distance_band(km: np.ndarray | float) -> np.ndarray:
    """Index into DISTANCE_BANDS_KM of each distance's band."""
    return np.searchsorted(DISTANCE_BANDS_KM, np.asarray(km, dtype=float), side="right") - 1


def band_label(band: int) -> str:
    lo = DISTANCE_BANDS_KM[band]
    if band + 1 == len(DISTANCE_BANDS_KM):
        return f">{lo:g} km"
    hi = DISTANCE_BANDS_KM[band + 1]
    return f"<{hi:g} km" if lo == 0 else f"{lo:g}-{hi:g} km"


def fit_latency_model(
    km: np.ndarray, rtt_ms: np.ndarray, same_metro_km: float = 80.0, iterations: int = 300
) -> LatencyModel:
    """Fit the model's parameters on measured pairs (great-circle km, measured round trip in ms).

    `same_metro_ms` is the median of the pairs within `same_metro_km`. The line through the other
    pairs minimises the absolute error with every distance band weighing the same in total:
    intercontinental pairs are most of any all-pairs matrix (56 % of skyplane's), and unweighted
    they set the line for every short pair too. Absolute rather than squared error because routing
    detours give a long right tail. Solved by iteratively reweighted least squares.
    """
    km, y = np.asarray(km, dtype=float), np.asarray(rtt_ms, dtype=float)
    near = km <= same_metro_km
    if near.sum() == 0 or (~near).sum() < 2:
        raise ValueError("need measured pairs both within and beyond same_metro_km")
    x, yf = km[~near], y[~near]
    band = distance_band(x)
    weight = 1.0 / np.bincount(band)[band]
    design = np.column_stack([np.ones_like(x), x])
    coef = _weighted_least_squares(design, yf, weight)
    for _ in range(iterations):
        residual = np.maximum(np.abs(yf - design @ coef), 1e-3)
        coef = _weighted_least_squares(design, yf, weight / residual)
    return LatencyModel(
        overhead_ms=float(coef[0]),
        ms_per_km=float(coef[1]),
        same_metro_ms=float(np.median(y[near])),
        same_metro_km=float(same_metro_km),
    )


def _weighted_least_squares(design: np.ndarray, y: np.ndarray, weight: np.ndarray) -> np.ndarray:
    root = np.sqrt(weight)
    return np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]


def band_errors(model: LatencyModel, km: np.ndarray, rtt_ms: np.ndarray) -> pd.DataFrame:
    """The model's error (modelled - measured, ms) on measured pairs, per distance band and over
    all: pairs, median measured RTT, mean and median error, 90th percentile of the absolute
    error. A positive error is a model slower than the measurement (it turns placements away);
    a negative one lets a placement through that the network does not meet."""
    km, y = np.asarray(km, dtype=float), np.asarray(rtt_ms, dtype=float)
    err = model.rtt_ms(km) - y
    band = distance_band(km)
    rows = []
    for b in [*range(len(DISTANCE_BANDS_KM)), None]:
        m = np.ones_like(km, dtype=bool) if b is None else band == b
        if not m.any():
            continue
        rows.append(
            {
                "band": "all" if b is None else band_label(b),
                "pairs": int(m.sum()),
                "measured_median_ms": float(np.median(y[m])),
                "mean_error_ms": float(err[m].mean()),
                "median_error_ms": float(np.median(err[m])),
                "p90_abs_error_ms": float(np.percentile(np.abs(err[m]), 90)),
            }
        )
    return pd.DataFrame(rows).set_index("band")
