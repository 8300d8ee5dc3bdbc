"""Great-circle distance and the distance-based round-trip model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass(frozen=True)
class LatencyModel:
    """Round trip = overhead + ms_per_km x distance; pairs closer than `same_metro_km` get
    `same_metro_ms`.

    The parameters are catalog data (`latency_model.yaml`) fitted on measured inter-region pings.
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
