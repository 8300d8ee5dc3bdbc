"""What every stage of planning shares: the options, progress messages, and unit counts as plans.

Stages pass placements around as plain numbers, `units` (candidates row -> unit count) and
`strategies` (service -> strategy name), and turn them into a verified `Plan` with `assemble`
whenever they need to compare or report one. `where` and `column_lookup` read those numbers
against the candidates table without indexing it row by row. Nothing here solves anything; it
exists so the stage modules need not import one another for these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..analysis.verify import verify_plan
from ..catalog import Catalog
from ..model.candidates import Candidates
from ..plan import Plan, egress_for, fees_for, placements_from_units

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanOptions:
    """How to plan: the method, the solver and its limits, and where progress messages go."""

    method: str = "decomposed"  # decomposed | monolithic
    solver: str = "highs"  # highs | cbc
    time_limit: float = 60.0
    gap: float = 0.001
    threads: int = 1
    workers: int = (
        0  # processes for the per-service solves (0: one per core when there are many services)
    )
    progress: Progress | None = field(default=None, compare=False)


@dataclass
class Placement:
    """Where some services run: unit counts by candidates row, and each service's strategy."""

    units: dict[int, int]
    strategies: dict[str, str]


def say(options: PlanOptions, msg: str) -> None:
    if options.progress is not None:
        options.progress(msg)


def assemble(
    cands: Candidates,
    catalog: Catalog,
    units: dict[int, int],
    strategies: dict[str, str],
    bound: float | None,
    method: str,
    solver: str,
    size: dict[str, int],
    gap_target: float = 0.001,
) -> Plan:
    """The plan these unit counts and strategies make, with its fees, egress and verification."""
    placements = placements_from_units(units, cands.offers, strategies)
    plan = Plan(
        cands.spec,
        placements,
        strategies,
        fees_for(placements, catalog),
        egress_for(placements, cands.spec, catalog),
        bound=bound,
        method=method,
        solver=solver,
        model_size=dict(size),
        gap_target=gap_target,
    )
    plan.verification = verify_plan(plan, catalog)
    return plan


def column_lookup(frame: pd.DataFrame, column: str) -> dict[Any, Any]:
    """Row label -> value (several times faster than Series.to_dict on Arrow-backed strings)."""
    return dict(zip(frame.index, frame[column].tolist(), strict=True))


def where(off: pd.DataFrame, units: dict[int, int]) -> dict[str, set[str]]:
    """Service -> regions where it runs: where it holds units that serve its load (a region
    holding only a data copy is not one)."""
    rows = off.loc[[i for i, n in units.items() if n > 0]]
    rows = rows[rows["serves"].astype(bool)]
    return {s: set(g) for s, g in rows.groupby("service")["region"]}


def zone_fragile(off: pd.DataFrame, units: dict[int, int]) -> dict[str, set[str]]:
    """Service -> regions where losing one zone stops it: every serving row there holds at most
    one unit. The verifier's rule: n units spread over the zones leave n - ceil(n/Z), at least one
    exactly when n >= 2 (`core.still_runs_after` models the same)."""
    rows = off.loc[[i for i, n in units.items() if n > 0]]
    rows = rows[rows["serves"].astype(bool)]
    held = rows.index.map(units).to_numpy()
    most = pd.Series(held, index=rows.index).groupby([rows["service"], rows["region"]]).max()
    out: dict[str, set[str]] = {}
    for (s, r), n in most.items():
        if n <= 1:
            out.setdefault(str(s), set()).add(str(r))
    return out
