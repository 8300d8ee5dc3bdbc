"""Benchmark configurations, and the child process that runs one.

A configuration (`Config`) is (catalog, family, services, seed, method, solver, time limit, gap):
which instance to generate and how to plan it; or a bundled example and what the user does with
it first (`first-plan`: the plan the dashboard computes, `make_plan` with the default options;
`compare`: every named strategy). `plan_runs` lists the configurations of a benchmark run.
`run_config` runs one in the current process and returns its result row, a JSON-safe dict. The
catalog load and instance generation are timed apart from planning; then `make_plan` is timed
with its phase timings (candidates, dominance pruning, model build, solve; `other` is the rest of
`make_plan`: assembling plans and the verifications it runs itself), the independent verifier is
re-run on its own to time it, and for our method (`extras`) the what-if sweeps and the plan's
availability are timed too. Hand-drawn baselines are computed after the peak memory is read, so
they do not count in it. `child_main` is what `isolate` starts in a fresh process.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .isolate import mark_phase, peak_rss_mb, progress_file
from .targets import TARGET_GAP, TARGET_WALL_S

EXAMPLE_METHODS = ("first-plan", "compare")


@dataclass(frozen=True)
class Config:
    catalog: str
    services: int
    seed: int = 1
    # decomposed | monolithic | hand (the hand-drawn baselines only) | first-plan | compare
    method: str = "decomposed"
    solver: str = "highs"
    time_limit: float | None = None  # None: PlanOptions' default
    extras: bool = False  # what-if, availability and hand-drawn baselines
    gap: float | None = None  # None: PlanOptions' default
    family: str = "region"
    example: str = ""  # a bundled example (first-plan, compare), instead of a generated instance
    budget_s: float | None = None  # planning is killed after this; None: time limit + grace

    def label(self) -> str:
        if self.method in EXAMPLE_METHODS:
            return self.method
        return (
            f"{self.method}/{self.solver}"
            + (f" {self.time_limit:g}s" if self.time_limit else "")
            + (f" gap {self.gap:.0%}" if self.gap is not None else "")
        )


@dataclass(frozen=True)
class RunPlan:
    """What a benchmark run measures (the command line's choices)."""

    families: list[str]
    sizes: list[int]
    mono_sizes: list[int]
    catalog: str
    seed: int = 1
    mono_limit: float = 120.0
    our_limit: float | None = None
    cbc: bool = True
    # size -> the only families measured at that size (a size not named: every family)
    families_at: dict[int, list[str]] | None = None
    mono_families: list[str] | None = None  # None: every family
    examples: list[str] | None = None  # bundled examples to plan and compare (None: none)
    compare_budget_s: float = 30.0
    # sizes at which our method also runs with the default options (None: every size); at the
    # others only the target's run is made, and it carries the analyses and hand-drawn baselines
    default_sizes: list[int] | None = None


def plan_runs(rp: RunPlan) -> list[Config]:
    """The configurations of one benchmark run, in the order they run: per size, per family, our
    method (default options, then the target's), then the monolithic baselines; then the
    bundled examples. The first run of our method at a size has `extras`."""
    runs = []
    at = rp.families_at or {}
    for n in rp.sizes:
        default = rp.default_sizes is None or n in rp.default_sizes or n not in TARGET_WALL_S
        for fam in rp.families:
            if n in at and fam not in at[n]:
                continue
            base: dict[str, Any] = {
                "catalog": rp.catalog, "services": n, "seed": rp.seed, "family": fam
            }  # fmt: skip
            if default:
                runs.append(Config(**base, time_limit=rp.our_limit, extras=True))
            if n in TARGET_WALL_S:  # what the target asks for: its gap, within its wall time
                runs.append(
                    Config(
                        **base, time_limit=TARGET_WALL_S[n], gap=TARGET_GAP[n], extras=not default
                    )
                )
            if n in rp.mono_sizes and (rp.mono_families is None or fam in rp.mono_families):
                runs.append(Config(**base, method="monolithic", time_limit=rp.mono_limit))
                if rp.cbc:
                    runs.append(
                        Config(**base, method="monolithic", solver="cbc", time_limit=rp.mono_limit)
                    )
    for name in rp.examples or []:
        runs.append(Config("shipped", 0, method="first-plan", example=name))
        runs.append(
            Config("shipped", 0, method="compare", example=name, budget_s=rp.compare_budget_s)
        )
    return runs


# ---------------------------------------------------------------- timing the analyses
def _timed(fn: Any, repeat: int = 1) -> tuple[Any, float, float]:
    """(result, first call seconds, median seconds of `repeat` further calls or the first)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return out, first, statistics.median(times) if times else first


def _whatif(plan: Any, catalog: Any, row: dict[str, Any]) -> None:
    try:
        from planner.analysis.whatif import sweep, sweep_tables
    except ImportError as exc:
        row["whatif"] = f"not available ({exc})"
        return
    for kind in ("region", "provider"):
        out, first, med = _timed(lambda kind=kind: sweep(plan, catalog, kind=kind), repeat=6)
        row[f"whatif_{kind}_ms"] = 1000 * med
        row[f"whatif_{kind}_first_ms"] = 1000 * first
        row[f"whatif_{kind}_scenarios"] = len(out)
    _, _, tables_s = _timed(lambda: sweep_tables(plan, catalog), repeat=6)
    tables = sweep_tables(plan, catalog)
    _, _, hot_s = _timed(
        lambda: (sweep(plan, catalog, "region", tables), sweep(plan, catalog, "provider", tables)),
        repeat=6,
    )
    row["whatif_tables_ms"] = 1000 * tables_s
    row["whatif_both_ms"] = row["whatif_region_ms"] + row["whatif_provider_ms"]
    row["whatif_both_shared_tables_ms"] = 1000 * (tables_s + hot_s)
    row["whatif_both_prebuilt_tables_ms"] = 1000 * hot_s
    row["whatif"] = "ok"


def _availability(plan: Any, catalog: Any, row: dict[str, Any]) -> None:
    try:
        from planner.analysis.plan_availability import plan_availability
    except ImportError as exc:
        row["availability"] = f"not available ({exc})"
        return
    try:
        result, first, _ = _timed(lambda: plan_availability(plan, catalog))
    except Exception as exc:  # report, do not hide: the row says what failed
        row["availability"] = f"error: {type(exc).__name__}: {exc}"[:200]
        return
    row["availability_s"] = first
    row["availability"] = "ok"
    for name in ("availability", "method", "exact"):
        value = getattr(result, name, None)
        if isinstance(value, bool | int | float | str):
            row[f"availability_{name}"] = value


def _hand_only(spec: Any, catalog: Any, row: dict[str, Any], analyse: bool = True) -> None:
    """The hand-drawn baselines into `row`; with `analyse`, the what-if and availability timings
    on the cheapest feasible one (used when our method has no plan to analyse)."""
    from .baselines import hand_baselines

    baselines = hand_baselines(spec, catalog)
    row["baselines"] = [b.row() for b in baselines]
    feasible = [b for b in baselines if b.feasible and b.plan is not None]
    if analyse and feasible:
        best = min(feasible, key=lambda b: b.cost or math.inf)
        row["analysed_plan"] = f"hand: {best.kind} (ours has no plan)"
        _whatif(best.plan, catalog, row)
        _availability(best.plan, catalog, row)


# ---------------------------------------------------------------- one configuration
def _instance(config: Config, row: dict[str, Any]) -> tuple[Any, Any]:
    """The catalog and the generated spec, each timed apart (neither counts as planning)."""
    from .generate import InstanceConfig, build_instance, catalog_for, describe

    t0 = time.perf_counter()
    catalog = catalog_for(config.catalog)
    row["catalog_load_s"] = time.perf_counter() - t0
    row["regions"] = len(catalog.regions)
    t0 = time.perf_counter()
    catalog, spec = build_instance(
        InstanceConfig(config.services, config.seed, config.family), catalog
    )
    row["generate_s"] = time.perf_counter() - t0
    row["private_site_vcpu"] = float(catalog.sites["vcpu_capacity"].sum())
    row["instance"] = describe(spec)
    row["rss_before_mb"] = peak_rss_mb()
    return catalog, spec


def _recorder(
    row: dict[str, Any], progress_path: str | None
) -> tuple[Callable[[str], None], list[float]]:
    """A progress callback for `make_plan` that keeps each message with its time since the
    start (in the row, and appended to `progress_path` at once, so a killed child leaves its last
    step behind), and the one-element list holding that start, to reset when planning begins."""
    progress: list[str] = []
    t_start = [time.perf_counter()]

    def say(msg: str) -> None:
        progress.append(f"{time.perf_counter() - t_start[0]:7.1f} s  {msg}")
        if progress_path:
            with open(progress_path, "a", encoding="utf-8") as fh:
                fh.write(progress[-1] + "\n")

    row["progress"] = progress
    return say, t_start


def _plan_fields(plan: Any, catalog: Any, row: dict[str, Any]) -> None:
    """Phase timings, result, model size and an independently timed verification of `plan`."""
    from planner.analysis.verify import verify_plan

    timings = dict(plan.timings)
    for key in ("candidates_s", "prune_s", "build_s", "solve_s", "total_s"):
        row[key] = timings.get(key)
    known = sum(timings.get(k, 0.0) for k in ("candidates_s", "prune_s", "build_s", "solve_s"))
    row["other_s"] = timings.get("total_s", row["wall_s"]) - known
    row.update(
        status=plan.status,
        cost=plan.objective,
        bound=plan.bound,
        gap=plan.gap,
        variables=plan.model_size.get("variables"),
        constraints=plan.model_size.get("constraints"),
        plan_method=plan.method,
        notes=list(plan.notes),
    )
    report, row["verify_s"], _ = _timed(lambda: verify_plan(plan, catalog))
    row["verified"] = bool(report.ok)
    row["violations"] = list(report.violations[:3])
    p = plan.placements
    private = p[p["region"].isin(catalog.sites.index)]
    row["private_vcpu_used"] = float((private["vcpu"] * private["units"]).sum())
    row["private_vcpu_capacity"] = (
        float(catalog.sites["vcpu_capacity"].sum()) if len(catalog.sites) else 0.0
    )
    row["plan_regions"] = len(set(p["region"]))


def _plan(
    config: Config,
    spec: Any,
    catalog: Any,
    row: dict[str, Any],
    say: Callable[[str], None],
    t_start: list[float],
    phase_path: str | None = None,
) -> Any:
    """`make_plan` under `config`'s options, timed; the plan, or None with the row saying why."""
    from planner.errors import PlannerError
    from planner.optimize import PlanOptions, make_plan

    kwargs: dict[str, Any] = {"method": config.method, "solver": config.solver, "progress": say}
    if config.time_limit is not None:
        kwargs["time_limit"] = config.time_limit
    if config.gap is not None:
        kwargs["gap"] = config.gap
    options = PlanOptions(**kwargs)
    row["time_limit"] = options.time_limit
    row["gap_target"] = options.gap
    t0 = t_start[0] = time.perf_counter()
    mark_phase(phase_path, "start")
    try:
        plan = make_plan(spec, catalog, options)
    except PlannerError as exc:
        row["wall_s"] = time.perf_counter() - t0
        mark_phase(phase_path, "end")
        row["status"] = f"no plan: {type(exc).__name__}"
        row["error"] = str(exc)[:300]
        row["peak_rss_mb"] = peak_rss_mb()
        _overrun(row)
        return None
    row["wall_s"] = time.perf_counter() - t0
    mark_phase(phase_path, "end")
    _overrun(row)
    return plan


def _overrun(row: dict[str, Any]) -> None:
    """Mark a run that returned more than `OVERRUN_TOLERANCE_S` after its time limit."""
    from .isolate import OVERRUN_TOLERANCE_S

    limit = row.get("time_limit")
    if limit is not None and row["wall_s"] > limit + OVERRUN_TOLERANCE_S:
        row["overrun_s"] = row["wall_s"] - limit


def run_config(
    config: Config, progress_path: str | None = None, phase_path: str | None = None
) -> dict[str, Any]:
    """Run one configuration in this process; the result row (JSON-safe). The planner's progress
    messages go, with their time since `make_plan` started, to `progress_path` and the row; the
    start and end of planning are marked in `phase_path` (how `isolate` holds the time limit)."""
    row: dict[str, Any] = {
        "config": config.__dict__,
        "label": config.label(),
        "services": config.services,
        "family": config.family,
        "example": config.example,
        "catalog": config.catalog,
        "method": config.method,
        "solver": config.solver,
        "load_avg_start": os.getloadavg()[0],
    }
    if config.method in EXAMPLE_METHODS:
        _example(config, row, progress_path, phase_path)
        row["load_avg_end"] = os.getloadavg()[0]
        return row
    catalog, spec = _instance(config, row)
    if config.method == "hand":
        _hand_only(spec, catalog, row)
        return row
    say, t_start = _recorder(row, progress_path)
    plan = _plan(config, spec, catalog, row, say, t_start, phase_path)
    if plan is not None:
        _plan_fields(plan, catalog, row)
        if config.extras:
            row["analysed_plan"] = "ours"
            _whatif(plan, catalog, row)
            _availability(plan, catalog, row)
        row["peak_rss_mb"] = peak_rss_mb()
    if config.extras:
        _hand_only(spec, catalog, row, analyse=plan is None)
    row["load_avg_end"] = os.getloadavg()[0]
    return row


# ---------------------------------------------------------------- bundled examples
def _example(
    config: Config, row: dict[str, Any], progress_path: str | None, phase_path: str | None
) -> None:
    """A bundled example as a user meets it: its first plan with the default options (what the
    dashboard computes), or `compare` of every named strategy with the default options. The
    catalog load and the spec's parse are timed apart, as the dashboard keeps both."""
    import planner
    from planner.errors import PlannerError
    from planner.examples import resolve_spec

    t0 = time.perf_counter()
    catalog = planner.load_catalog()
    spec = planner.load_spec(resolve_spec(config.example))
    row["catalog_load_s"] = time.perf_counter() - t0
    row["instance"] = {"services": len(spec.services), "survive": spec.policy.survive}
    say, t_start = _recorder(row, progress_path)
    options = planner.PlanOptions(progress=say)
    row["time_limit"] = options.time_limit if config.method == "first-plan" else None
    t0 = t_start[0] = time.perf_counter()
    mark_phase(phase_path, "start")
    try:
        if config.method == "first-plan":
            plan = planner.make_plan(spec, catalog, options)
        else:
            table = planner.compare(spec, catalog, options)
    except PlannerError as exc:
        row["wall_s"] = time.perf_counter() - t0
        mark_phase(phase_path, "end")
        row["status"] = f"no plan: {type(exc).__name__}"
        row["error"] = str(exc)[:300]
        _overrun(row)  # a first plan that failed late is late all the same
        return
    row["wall_s"] = time.perf_counter() - t0
    mark_phase(phase_path, "end")
    if config.method == "first-plan":
        row.update(status=plan.status, cost=plan.objective, bound=plan.bound, gap=plan.gap)
        row["verified"] = bool(planner.verify_plan(plan, catalog).ok)
        _overrun(row)
        return
    costs = table["usd_per_month"].astype(float)
    row["status"] = "ok"
    row["strategies"] = len(table)
    row["strategies_planned"] = int(costs.notna().sum())
    row["strategy_costs"] = {
        str(k): (None if math.isnan(v) else float(v))
        for k, v in zip(table["strategy"], costs, strict=True)
    }


def child_main(config_json: str, out_path: str) -> int:
    """The child process: run the configuration given as JSON, write its row to `out_path`."""
    from .isolate import phase_file

    row = run_config(
        Config(**json.loads(config_json)), str(progress_file(out_path)), str(phase_file(out_path))
    )
    Path(out_path).write_text(json.dumps(row, default=str))
    return 0
