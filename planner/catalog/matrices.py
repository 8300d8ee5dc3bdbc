"""Region-by-region matrices: round-trip time and egress price between every two regions.

Takes the validated regions, egress rules, measured latencies, exact egress pair prices and the
latency model; returns the per-region egress rates (columns added to the regions table) and two
square matrices in the order of the regions table, so the model and the verifier look a pair up
by position instead of recomputing distances and rules. A measured figure or an exact pair price
replaces the modelled one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geo import LatencyModel, haversine_km


def attach_internet_rate(regions: pd.DataFrame, egress: pd.DataFrame) -> pd.DataFrame:
    """The regions table with the $/GB rates of the egress rule that applies to each region."""
    rules = _rule_per_region(regions, egress)
    regions = regions.copy()
    for col in (
        "internet_usd_per_gb",
        "same_continent_usd_per_gb",
        "other_continent_usd_per_gb",
        "other_provider_usd_per_gb",
    ):
        regions[col] = rules[col].to_numpy()
    return regions


def _rule_per_region(regions: pd.DataFrame, egress: pd.DataFrame) -> pd.DataFrame:
    """The egress rule that applies to each region: its own row, else its continent's, else `*`."""
    rules = egress.set_index(["provider", "from"])
    picked = []
    for _rid, row in regions.iterrows():
        for key in (
            (row["provider"], row["code"]),
            (row["provider"], row["continent"]),
            (row["provider"], "*"),
        ):
            if key in rules.index:
                picked.append(
                    rules.loc[key] if rules.loc[key].ndim == 1 else rules.loc[key].iloc[0]
                )
                break
        else:  # validation guarantees coverage; keep a safe, visible default for partial catalogs
            picked.append(pd.Series({c: np.nan for c in rules.columns}))
    return pd.DataFrame(picked, index=regions.index)


def latency_matrix(
    regions: pd.DataFrame,
    model: LatencyModel,
    latency_measured: pd.DataFrame,
    region_pos: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Round trip in ms between every two regions, and which of the figures were measured."""
    lat = regions["lat"].to_numpy(dtype=float)
    lon = regions["lon"].to_numpy(dtype=float)
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    rtt = model.rtt_ms(km)
    np.fill_diagonal(rtt, 0.0)
    measured = np.zeros_like(rtt, dtype=bool)
    # thousands of measured pairs: index them at once rather than row by row
    i = np.fromiter((region_pos[r] for r in latency_measured["src"]), dtype=int)
    j = np.fromiter((region_pos[r] for r in latency_measured["dst"]), dtype=int)
    value = latency_measured["rtt_ms"].to_numpy(dtype=float)
    rtt[i, j] = rtt[j, i] = value
    measured[i, j] = measured[j, i] = True
    return rtt, measured


def egress_matrix(
    regions: pd.DataFrame, egress_pairs: pd.DataFrame, region_pos: dict[str, int]
) -> np.ndarray:
    """$/GB from each region (row) to each region (column)."""
    r = regions
    prov = r["provider"].to_numpy()
    cont = r["continent"].to_numpy()
    same_p = prov[:, None] == prov[None, :]
    same_c = cont[:, None] == cont[None, :]
    rate = np.where(
        same_p,
        np.where(
            same_c,
            r["same_continent_usd_per_gb"].to_numpy()[:, None],
            r["other_continent_usd_per_gb"].to_numpy()[:, None],
        ),
        r["other_provider_usd_per_gb"].to_numpy()[:, None],
    ).astype(float)
    # exact pair prices (an imported price table) override the provider rules
    for src, dst, usd in zip(
        egress_pairs["src"],
        egress_pairs["dst"],
        egress_pairs["usd_per_gb"],
        strict=True,
    ):
        rate[region_pos[src], region_pos[dst]] = float(usd)
    np.fill_diagonal(rate, 0.0)  # traffic inside a region is free
    return rate
