"""How long a benchmark run takes, worked out from its run list before it starts.

Takes the configurations of a run (`run.plan_runs`) and returns, for each and in total, the
seconds it is expected to take and the most it can take: planning up to its time limit (or the
budget at which `isolate` stops it), plus what a configuration's process does besides planning
(start, catalog, instance, analyses, hand-drawn baselines). It exists so that a run can be sized
to the time there is (`python -m benchmarks --list`), instead of being found too long at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .isolate import DEFAULT_TIME_LIMIT_S, planning_budget
from .run import Config

# Seconds a configuration's process spends besides planning, by size: interpreter start, catalog
# and instance generation (PROCESS_S); in the run with `extras`, the what-if and availability
# timings and the hand-drawn baselines too (EXTRAS_S). Measured on the shipped catalog, 2 cores
# at load 8-10 (2026-12-02), with the hand-drawn-only configuration: 17-19 s at 50 services,
# 23-52 s at 200, 117 s (region) and 253 s (mix: three provider sets tried) at 1000; sizes
# between are interpolated. A quieter machine takes less.
PROCESS_S = ((0, 5.0), (1000, 6.0))
EXTRAS_S = ((0, 0.0), (50, 14.0), (200, 33.0), (1000, 180.0))
# a bundled example's first plan and compare: seconds expected (same day and load: first plans
# 0.3-45 s, mean 8.3 s; compares 4-20 s, or stopped at the budget: mean 15 s at a 20 s budget)
FIRST_PLAN_S = 8.0
COMPARE_S = 15.0


def _interpolate(table: tuple[tuple[int, float], ...], n: int) -> float:
    for (n0, s0), (n1, s1) in zip(table, table[1:], strict=False):
        if n <= n1:
            return s0 + (s1 - s0) * (n - n0) / (n1 - n0)
    (n0, s0), (n1, s1) = table[-2], table[-1]
    return s1 + (s1 - s0) * (n - n1) / (n1 - n0)  # past the table: the last slope goes on


@dataclass(frozen=True)
class Estimate:
    """Seconds one configuration is expected to take, and the most it can take."""

    expected_s: float
    at_most_s: float


def estimate(config: Config) -> Estimate:
    """Expected: planning runs to its time limit (a compare to its budget, a first plan its
    usual few seconds). At most: planning stopped at its budget (`isolate.planning_budget`)."""
    around = _interpolate(PROCESS_S, config.services)
    if config.extras or config.method == "hand":
        around += _interpolate(EXTRAS_S, config.services)
    if config.method == "hand":
        return Estimate(around, around)
    budget = planning_budget(config)
    if config.method == "compare":
        return Estimate(around + min(COMPARE_S, budget), around + budget)
    if config.method == "first-plan":
        return Estimate(around + FIRST_PLAN_S, around + budget)
    limit = config.time_limit or DEFAULT_TIME_LIMIT_S
    return Estimate(around + limit, around + budget)


def total(configs: Iterable[Config]) -> Estimate:
    estimates = [estimate(c) for c in configs]
    return Estimate(sum(e.expected_s for e in estimates), sum(e.at_most_s for e in estimates))


def run_list(configs: list[Config]) -> str:
    """The run list, one configuration a line with its estimate, and the total: what `--list`
    prints."""
    lines = []
    for k, c in enumerate(configs):
        what = c.example or f"{c.family} {c.services}"
        e = estimate(c)
        lines.append(
            f"{k + 1:3d}. {what:<20} {c.label():<28} expected {e.expected_s:6.0f} s, "
            f"at most {e.at_most_s:6.0f} s"
        )
    t = total(configs)
    lines.append(
        f"{len(configs)} configurations: expected {t.expected_s / 60:.1f} min (each run to its "
        f"time limit), at most {t.at_most_s / 60:.1f} min (each stopped at its budget)"
    )
    return "\n".join(lines)
