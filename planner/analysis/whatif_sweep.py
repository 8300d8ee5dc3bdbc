"""Every single failure of a kind at once: the sweep.

:func:`sweep` takes a plan, the catalog and a kind of failure (region, provider, zone or site) and
returns one row per failure among the plan's regions: services down, recovering and degraded,
the mean demand shortfall, the (service, user group) pairs cut off, the pairs whose group the
rules leave unserved, the dependencies out of their latency budget, and whether the plan
survives that failure by the rules. :func:`sweep_tables` builds the plan's arrays once
(:class:`~.failure.FailureTables`, also named :class:`SweepTables`), so that sweeping many kinds
or many plans pays for them once.

The rules are not here: every failure is evaluated by :func:`planner.analysis.failure.evaluate`,
the function the verifier and :func:`~.whatif_impact.evaluate_failure` call too; this module
only counts what it finds.

:func:`compensated_sums` adds per-cell values in the order and with the compensation pandas'
groupby sum uses (kept for callers that compare sums with pandas' to the last bit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import Catalog
from .failure import (
    DEGRADED,
    DOWN,
    RECOVERING,
    Evaluation,
    FailureBatch,
    FailureTables,
    evaluate,
    failures_of_kind,
)

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan

SweepTables = FailureTables  # the name the sweep's tables had; they are the failure tables now


def sweep_tables(plan: Plan, catalog: Catalog) -> FailureTables:
    """The plan as the arrays `sweep` (and every failure evaluation) works on."""
    return FailureTables.build(plan, catalog)


def compensated_sums(cells: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """Per-cell sums of `values` (cell ids in `cells`, 0 to `n_cells` - 1), added in row order with
    the Kahan compensation pandas' groupby sum uses, so that thresholds on the sums decide exactly
    as they did with pandas (NaN skipped; a cell without rows sums to 0)."""
    total = np.zeros(n_cells)
    compensation = np.zeros(n_cells)
    if not len(cells):
        return total
    by_cell = np.argsort(cells, kind="stable")  # rows of one cell stay in table order
    sorted_cells = cells[by_cell]
    first = np.r_[True, sorted_cells[1:] != sorted_cells[:-1]]
    start_of_cell = np.maximum.accumulate(np.where(first, np.arange(len(cells)), 0))
    rank = np.empty(len(cells), dtype=np.intp)
    rank[by_cell] = np.arange(len(cells)) - start_of_cell
    # one step per rank: each cell appears at most once in a step, so plain fancy indexing is safe
    with np.errstate(invalid="ignore"):  # inf - inf below is expected; pandas resets it to 0
        for k in range(int(rank.max()) + 1):
            step = (rank == k) & ~np.isnan(values)
            c, y = cells[step], values[step] - compensation[cells[step]]
            t = total[c] + y
            compensation[c] = t - total[c] - y
            compensation[c] = np.where(np.isnan(compensation[c]), 0.0, compensation[c])
            total[c] = t
    return total


def _joined_names(services: np.ndarray, flags: np.ndarray) -> list[str]:
    return [", ".join(services[row].tolist()) for row in flags]


def sweep(
    plan: Plan, catalog: Catalog, kind: str = "region", tables: FailureTables | None = None
) -> pd.DataFrame:
    """Every single failure of `kind` (region, provider, zone, site) among the plan's regions:
    services down (a rule of its own fails, or a hard dependency is down), recovering (its data
    survives but nothing of it runs: it relaunches), degraded (below full demand), the mean
    demand shortfall, the (user-facing service, group) pairs cut off (the group is not served by
    the rules, or the service is down or recovering), the pairs the rules leave unserved, the
    dependencies out of their latency budget, and `survived`: no service down, every group
    served and every dependency within budget, which is what the verifier asks of a failure.
    `users_cut_off` names the pairs behind `users_affected` (``service@group``) and
    `out_of_budget` the dependencies behind `dependencies_out_of_budget` (``caller->callee``)."""
    t = tables if tables is not None else sweep_tables(plan, catalog)
    batch = failures_of_kind(t, catalog, kind)
    return sweep_frame(t, batch, evaluate(t, batch))


def sweep_frame(t: FailureTables, batch: FailureBatch, ev: Evaluation) -> pd.DataFrame:
    """The sweep's table from an evaluation of `batch` (one row per failure)."""
    down = ev.status == DOWN
    recovering = ev.status == RECOVERING
    degraded = ev.status == DEGRADED
    demand = t.demand[np.arange(len(t.services)), t.main]
    short = np.clip(demand[None, :] - ev.main_left, 0, None) / np.where(demand > 0, demand, 1)
    unserved = ~ev.groups_ok.reshape(len(batch), -1)
    out_of_budget = ev.dependencies_out.sum(axis=1)
    names = np.array(t.services, dtype=object)
    u, dt = t.users, t.dependencies
    # the (user-facing service, group) pairs and the dependencies behind the counts, by name
    pairs = np.array([f"{t.services[s]}@{g}" for s in u.services for g in u.groups], dtype=object)
    links = np.array(
        [f"{t.services[a]}->{t.services[b]}" for a, b in zip(dt.caller, dt.callee, strict=True)],
        dtype=object,
    )
    return pd.DataFrame(
        {
            "scenario": batch.names,
            "services_down": down.sum(axis=1),
            "services_recovering": recovering.sum(axis=1),
            "services_degraded": degraded.sum(axis=1),
            "demand_shortfall_pct": 100 * short.mean(axis=1) if len(t.services) else 0.0,
            "users_affected": (~ev.served.reshape(len(batch), -1)).sum(axis=1),
            "dependencies_out_of_budget": out_of_budget,
            "down": _joined_names(names, down),
            "recovering": _joined_names(names, recovering),
            "degraded": _joined_names(names, degraded),
            "groups_unserved": unserved.sum(axis=1),
            "survived": ~down.any(axis=1) & ~unserved.any(axis=1) & (out_of_budget == 0),
            "users_cut_off": _joined_names(pairs, ~ev.served.reshape(len(batch), -1)),
            "out_of_budget": _joined_names(links, ev.dependencies_out.astype(bool)),
        }
    )
