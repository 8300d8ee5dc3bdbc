"""The tidy table of a study: its columns, typing, sort order, summary and output files.

Takes the result rows of finished tasks (plain dicts, one per app x strategy x scenario) and
returns typed pandas tables: `tidy` (one row per task), `summarize_study` (one row per app x
strategy) and `comparable` (the table without timings). It exists so that every executor's rows
end up in the same table, byte for byte apart from `seconds`: the types, the rounding done by the
tasks and the sort order are fixed here, not by the order in which tasks happen to finish.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

BASELINE = "(baseline)"  # the scenario of the plan itself, before any failure
COLUMNS = [
    "app",
    "strategy",
    "scenario",
    "scenario_kind",
    "failed_regions",
    "usd_per_month",
    "availability",
    "services_down",
    "services_recovering",
    "services_degraded",
    "survived",
    "shortfall",
    "replan_usd_per_month",
    "replan_cost_delta",
    "migration_gb",
    "migration_usd",
    "replan_note",
    "status",
    "gap",
    "error",
    "seconds",
]
_INT_COLUMNS = ("services_down", "services_recovering", "services_degraded")
_FLOAT_COLUMNS = (
    "usd_per_month",
    "availability",
    "shortfall",
    "replan_usd_per_month",
    "replan_cost_delta",
    "migration_gb",
    "migration_usd",
    "gap",
    "seconds",
)
_STR_COLUMNS = (
    "app",
    "strategy",
    "scenario",
    "scenario_kind",
    "failed_regions",
    "replan_note",
    "status",
    "error",
)
SUMMARY_COLUMNS = [
    "app",
    "strategy",
    "usd_per_month",
    "availability",
    "scenarios",
    "scenarios_survived",
    "worst_replan_usd_per_month",
    "worst_replan_cost_delta",
    "errors",
    "error",
]


def tidy(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The result rows as a typed table, sorted by app, strategy, scenario."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    # nullable types: a plan task has no failure counts, a task without re-plan no re-plan cost
    for c in _INT_COLUMNS:
        table[c] = table[c].astype("Int64")
    for c in _FLOAT_COLUMNS:
        table[c] = table[c].astype("float64")
    for c in _STR_COLUMNS:
        table[c] = table[c].fillna("").astype(str)
    table["survived"] = table["survived"].astype("boolean")
    # a stable sort: the order tasks finished in (which differs between executors) must not show
    return table.sort_values(["app", "strategy", "scenario"], kind="mergesort").reset_index(
        drop=True
    )


def summarize_study(table: pd.DataFrame) -> pd.DataFrame:
    """Per app x strategy: base cost, availability, scenarios, scenarios survived, worst re-plan."""
    rows = []
    for (app, strategy), g in table.groupby(["app", "strategy"], sort=True):
        base = g[g["scenario"] == BASELINE]
        sc = g[g["scenario"] != BASELINE]
        rows.append(
            {
                "app": app,
                "strategy": strategy,
                "usd_per_month": float(base["usd_per_month"].iloc[0]) if len(base) else math.nan,
                "availability": float(base["availability"].iloc[0]) if len(base) else math.nan,
                "scenarios": len(sc),
                "scenarios_survived": int(sc["survived"].fillna(False).sum()),
                "worst_replan_usd_per_month": float(sc["replan_usd_per_month"].max())
                if len(sc)
                else math.nan,
                "worst_replan_cost_delta": float(sc["replan_cost_delta"].max())
                if len(sc)
                else math.nan,
                "errors": int((g["error"] != "").sum()),
                "error": "" if not len(base) else str(base["error"].iloc[0]),
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the timing column: what must be identical across executors."""
    return table.drop(columns=["seconds"])


def write_tables(table: pd.DataFrame, summary: pd.DataFrame, files: dict[str, Path]) -> None:
    """The table and its summary as Parquet and CSV, at the paths of `store.output_paths`."""
    table.to_parquet(files["parquet"], index=False)
    table.to_csv(files["csv"], index=False)
    summary.to_parquet(files["summary_parquet"], index=False)
    summary.to_csv(files["summary_csv"], index=False)
