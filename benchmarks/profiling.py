"""cProfile of the default method on one generated instance (`python -m benchmarks --profile N`).

Takes a size, a catalog name and a seed; returns the top functions by own time (as text, with
file names made relative so that no path of the machine reaches the report) and the cumulative
seconds of each planning phase. It exists to show where time goes inside `make_plan`, which the
phase timings of a normal run cannot split further (per-service solves, conversions, HiGHS runs).
"""

from __future__ import annotations

import cProfile
import dataclasses
import io
import os
import pstats
import re
import time
from pathlib import Path
from typing import Any

from .fmt import pct

# (report label, planner functions whose cumulative time is that phase); nested phases overlap.
# The names must follow the planner's: a renamed function shows as a phase of 0 s.
PHASES = (
    ("candidate preparation", ("build_candidates", "check_against_catalog")),
    ("dominance pruning", ("prune_dominated",)),
    ("per-service solves (in worker processes when parallel: waiting time here)", ("solve_each",)),
    ("model build (PuLP)", ("build_model",)),
    ("PuLP -> arrays (to_matrix)", ("to_matrix",)),
    ("HiGHS run", ()),  # the built-in highspy run
    ("solution check", ("check_solution",)),
    ("plan assembly + verification", ("assemble",)),
)


def _profiled_plan(spec: Any, catalog: Any) -> tuple[cProfile.Profile, str, float]:
    """make_plan under cProfile: the profile, the outcome in words, and the wall seconds."""
    from planner.errors import PlannerError
    from planner.optimize import PlanOptions, make_plan

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    outcome = "plan"
    prof.enable()
    try:
        fields = {f.name for f in dataclasses.fields(PlanOptions)}
        plan = make_plan(
            spec, catalog, PlanOptions(workers=1) if "workers" in fields else PlanOptions()
        )
        outcome = f"{plan.status}, gap {pct(plan.gap)}"
    except PlannerError as exc:
        outcome = f"no plan: {type(exc).__name__}"
    finally:
        prof.disable()
    return prof, outcome, time.perf_counter() - t0


def _phase_seconds(prof: cProfile.Profile, outcome: str, wall: float) -> dict[str, float]:
    raw = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    phases: dict[str, float] = {f"total under the profiler ({outcome})": wall}
    for label, names in PHASES:
        phases[label] = sum(
            ct
            for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in raw.items()
            if (func in names and "planner" in filename)
            or (label == "HiGHS run" and filename == "~" and "highspy" in func and ".run" in func)
        )
    return phases


def _top_functions(prof: cProfile.Profile) -> str:
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    # file names relative to site-packages or the project: no paths of the machine in the report
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    text = re.sub(r"\S*site-packages/", "", buf.getvalue().replace(root, ""))
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((k for k, ln in enumerate(lines) if ln.strip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + 16])


def profile_default(services: int, catalog_name: str, seed: int) -> tuple[str, dict[str, float]]:
    """cProfile of `make_plan` with the default options, except that the per-service solves run in
    this process (`workers=1`) so that the profiler sees inside them (in worker processes they
    would show only as waiting): cumulative seconds per phase and the top functions by own time."""
    from .generate import InstanceConfig, catalog_for, make_instance

    catalog = catalog_for(catalog_name)
    spec = make_instance(InstanceConfig(services, seed), catalog)
    prof, outcome, wall = _profiled_plan(spec, catalog)
    return _top_functions(prof), _phase_seconds(prof, outcome, wall)
