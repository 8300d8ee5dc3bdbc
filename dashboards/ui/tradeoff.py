"""The cost-availability trade-off: which of the points shown are on the Pareto frontier.
Pure: no Streamlit, no solving."""

from __future__ import annotations

import pandas as pd


def pareto_front(
    points: pd.DataFrame, cost: str = "usd_per_month", downtime: str = "downtime_min_per_month"
) -> pd.Series:
    """True for each point on the frontier of the points given: no other point is at least as
    cheap and at least as available (no more downtime), and strictly better in one of the two.

    Every point shown counts, whatever its solve status: a time-limited plan is a plan one could
    buy, so it may dominate or be dominated like any other. Points without a cost or a downtime
    (no plan) are never on the frontier and dominate nothing."""
    ok = points[cost].notna() & points[downtime].notna()
    c = points[cost].to_numpy(dtype=float)
    d = points[downtime].to_numpy(dtype=float)
    valid = ok.to_numpy()
    on = []
    for i in range(len(points)):
        if not valid[i]:
            on.append(False)
            continue
        dominated = any(
            valid[j] and j != i and c[j] <= c[i] and d[j] <= d[i] and (c[j] < c[i] or d[j] < d[i])
            for j in range(len(points))
        )
        on.append(not dominated)
    return pd.Series(on, index=points.index, name="on_frontier")


def frontier_line(
    points: pd.DataFrame, cost: str = "usd_per_month", downtime: str = "downtime_min_per_month"
) -> pd.DataFrame:
    """The frontier's points in the order the line joins them (least downtime first); equal
    points are drawn once."""
    on = points[pareto_front(points, cost, downtime)]
    return on.drop_duplicates(subset=[cost, downtime]).sort_values([downtime, cost])
