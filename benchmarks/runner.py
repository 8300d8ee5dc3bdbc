"""Run benchmark configurations, each in a fresh Python process, and write a markdown report.

One configuration = (catalog, services, seed, method, solver, time limit). The child process loads
the catalog, generates the instance (neither is timed as planning), then times `make_plan` and
reads its phase timings (candidates, dominance pruning, model build, solve; `other` is the rest of
`make_plan`: assembling plans and the verifications it runs itself), re-runs the independent
verifier on its own to time it, and for our method also times the what-if sweeps and the plan's
availability. Peak memory is the child's `ru_maxrss` (plus that of its own children, for CBC),
so it is per configuration. Hand-drawn baselines are computed in the same child after the peak
is read.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FULL_SIZES = (50, 200, 1000)
MONO_SIZES = (50, 200)
QUICK_CATALOG = "synthetic:12"
QUICK_SIZES = (5, 20)

# ---------------------------------------------------------------- targets (docs/benchmarks.md)
TARGET_WALL_S = {50: 5.0, 200: 20.0, 1000: 90.0}
TARGET_GAP = {50: 0.01, 200: 0.01, 1000: 0.02}
TARGET_BUILD_SHARE = 0.20
TARGET_MONO_TIME_SHARE = 0.10
TARGET_SWEEP_MS = 10.0
SWEEP_SIZE = 200


@dataclass(frozen=True)
class Config:
    catalog: str
    services: int
    seed: int = 1
    method: str = "decomposed"  # decomposed | monolithic
    solver: str = "highs"
    time_limit: float | None = None  # None: PlanOptions' default
    extras: bool = False  # what-if, availability and hand-drawn baselines
    gap: float | None = None  # None: PlanOptions' default

    def label(self) -> str:
        return (
            f"{self.method}/{self.solver}"
            + (f" {self.time_limit:g}s" if self.time_limit else "")
            + (f" gap {self.gap:.0%}" if self.gap is not None else "")
        )


# ---------------------------------------------------------------- in the child process
def _rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux reports KiB


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


def run_config(config: Config, progress_path: str | None = None) -> dict[str, Any]:
    """Run one configuration in this process; the result row (JSON-safe). The planner's progress
    messages go, with their time since `make_plan` started, to `progress_path` and the row."""
    from planner.analysis.verify import verify_plan
    from planner.errors import PlannerError
    from planner.optimize import PlanOptions, make_plan

    from .generate import InstanceConfig, catalog_for, describe, make_instance

    row: dict[str, Any] = {
        "config": config.__dict__,
        "label": config.label(),
        "services": config.services,
        "catalog": config.catalog,
        "method": config.method,
        "solver": config.solver,
        "load_avg_start": os.getloadavg()[0],
    }
    t0 = time.perf_counter()
    catalog = catalog_for(config.catalog)
    row["catalog_load_s"] = time.perf_counter() - t0
    row["regions"] = len(catalog.regions)
    t0 = time.perf_counter()
    spec = make_instance(InstanceConfig(config.services, config.seed), catalog)
    row["generate_s"] = time.perf_counter() - t0
    row["instance"] = describe(spec)
    row["rss_before_mb"] = _rss_mb()
    if config.method == "hand":
        _hand_only(spec, catalog, row)
        return row
    kwargs: dict[str, Any] = {"method": config.method, "solver": config.solver}
    if config.time_limit is not None:
        kwargs["time_limit"] = config.time_limit
    if config.gap is not None:
        kwargs["gap"] = config.gap
    progress: list[str] = []
    t_start = [time.perf_counter()]

    def say(msg: str) -> None:
        progress.append(f"{time.perf_counter() - t_start[0]:7.1f} s  {msg}")
        if progress_path:
            with open(progress_path, "a", encoding="utf-8") as fh:
                fh.write(progress[-1] + "\n")

    kwargs["progress"] = say
    row["progress"] = progress
    options = PlanOptions(**kwargs)
    row["time_limit"] = options.time_limit
    row["gap_target"] = options.gap
    t0 = t_start[0] = time.perf_counter()
    try:
        plan = make_plan(spec, catalog, options)
    except PlannerError as exc:
        row["wall_s"] = time.perf_counter() - t0
        row["status"] = f"no plan: {type(exc).__name__}"
        row["error"] = str(exc)[:300]
        row["peak_rss_mb"] = _rss_mb()
        plan = None
    if plan is not None:
        row["wall_s"] = time.perf_counter() - t0
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
        if config.extras:
            row["analysed_plan"] = "ours"
            _whatif(plan, catalog, row)
            _availability(plan, catalog, row)
        row["peak_rss_mb"] = _rss_mb()
    if config.extras:
        _hand_only(spec, catalog, row, analyse=plan is None)
    row["load_avg_end"] = os.getloadavg()[0]
    return row


def child_main(config_json: str, out_path: str) -> int:
    row = run_config(Config(**json.loads(config_json)), out_path + ".progress")
    Path(out_path).write_text(json.dumps(row, default=str))
    return 0


def run_in_subprocess(config: Config, timeout: float) -> dict[str, Any]:
    """Run `config` in a fresh interpreter; a crash or a timeout becomes a row saying so."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.runner",
            "--child",
            json.dumps(config.__dict__),
            str(out),
        ]
        root = Path(__file__).resolve().parents[1]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
        t0 = time.perf_counter()
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, cwd=root, env=env
            )
        except subprocess.TimeoutExpired:
            progress = Path(str(out) + ".progress")
            steps = progress.read_text().splitlines() if progress.exists() else []
            return _failed_row(
                config,
                f"killed after {timeout:.0f} s",
                time.perf_counter() - t0,
                progress=steps,
                error=f"last planner step: {steps[-1].strip()}"
                if steps
                else "no planner step reported",
            )
        if done.returncode != 0 or not out.exists():
            return _failed_row(
                config,
                f"crashed (exit {done.returncode})",
                time.perf_counter() - t0,
                error=done.stderr[-600:],
            )
        row = json.loads(out.read_text())
        row["process_wall_s"] = time.perf_counter() - t0
        return row


def _failed_row(config: Config, status: str, wall_s: float, **extra: Any) -> dict[str, Any]:
    """The row of a configuration whose child process did not report one."""
    return {
        "config": config.__dict__,
        "label": config.label(),
        "services": config.services,
        "method": config.method,
        "solver": config.solver,
        "status": status,
        "wall_s": wall_s,
        **extra,
    }


# ---------------------------------------------------------------- profile
PHASES = (
    ("candidate preparation", ("build_candidates", "check_against_catalog")),
    ("dominance pruning", ("prune_dominated",)),
    ("per-service solves (in worker processes when parallel: waiting time here)", ("_solve_each",)),
    ("model build (PuLP)", ("build_model",)),
    ("PuLP -> arrays (to_matrix)", ("to_matrix",)),
    ("HiGHS run", ()),  # the built-in highspy run
    ("solution check", ("check_solution",)),
    ("plan assembly + verification", ("_assemble",)),
)


def profile_default(services: int, catalog_name: str, seed: int) -> tuple[str, dict[str, float]]:
    """cProfile of `make_plan` with the default options, except that the per-service solves run in
    this process (`workers=1`) so that the profiler sees inside them (in worker processes they
    would show only as waiting): cumulative seconds per phase and the top functions by own time."""
    import dataclasses

    from planner.optimize import PlanOptions, make_plan

    from .generate import InstanceConfig, catalog_for, make_instance

    catalog = catalog_for(catalog_name)
    spec = make_instance(InstanceConfig(services, seed), catalog)
    from planner.errors import PlannerError

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    outcome = "plan"
    prof.enable()
    try:
        fields = {f.name for f in dataclasses.fields(PlanOptions)}
        plan = make_plan(
            spec, catalog, PlanOptions(workers=1) if "workers" in fields else PlanOptions()
        )
        outcome = f"{plan.status}, gap {_pct(plan.gap)}"
    except PlannerError as exc:
        outcome = f"no plan: {type(exc).__name__}"
    finally:
        prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    raw = stats.stats  # type: ignore[attr-defined]
    phases: dict[str, float] = {f"total under the profiler ({outcome})": wall}
    for label, names in PHASES:
        phases[label] = sum(
            ct
            for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in raw.items()
            if (func in names and "planner" in filename)
            or (label == "HiGHS run" and filename == "~" and "highspy" in func and ".run" in func)
        )
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    # file names relative to site-packages or the project: no paths of the machine in the report
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    text = re.sub(r"\S*site-packages/", "", buf.getvalue().replace(root, ""))
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((k for k, ln in enumerate(lines) if ln.strip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + 16]), phases


# ---------------------------------------------------------------- the machine
def machine() -> dict[str, Any]:
    import highspy
    import numpy
    import pandas
    import pulp

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    h = highspy.Highs()
    hv = (
        f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
        if hasattr(h, "versionMajor")
        else "?"
    )
    return {
        "nproc": os.cpu_count(),
        "mem_gib": round(mem_gib, 1),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "highs": hv,
        "pulp": pulp.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(),
        "load_avg": os.getloadavg(),
    }


def planner_state() -> str:
    """The planner code measured: git commit, plus a hash of uncommitted changes under planner/."""
    import hashlib

    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", "planner"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not head:
        return "unknown (no git)"
    if diff:
        digest = hashlib.sha1(diff.encode()).hexdigest()[:10]
        return f"{head} + uncommitted planner/ changes (diff sha1 {digest})"
    return f"{head} (clean)"


# ---------------------------------------------------------------- the report
def _f(x: Any, fmt: str = ".2f", none: str = "-") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return none
    return format(x, fmt)


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _money(x: Any) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _vs(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0:
        return "-"
    return f"{100 * (ours / theirs - 1):+.1f}%"


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _analyses(r: dict[str, Any]) -> tuple[str, str]:
    """What-if and availability cells (and on which plan they ran, when not ours)."""
    on = "" if r.get("analysed_plan") in (None, "ours") else f" on {r['analysed_plan']}"
    if r.get("whatif") == "ok":
        wi = (
            f"{r['whatif_region_ms']:.1f} + {r['whatif_provider_ms']:.1f} = "
            f"{r['whatif_both_ms']:.1f} ({r['whatif_region_first_ms']:.1f} + "
            f"{r['whatif_provider_first_ms']:.1f}){on}"
        )
    else:
        wi = str(r.get("whatif", "-"))
    if r.get("availability") == "ok":
        av = _f(r.get("availability_s"), ".3f") + on
    else:
        av = str(r.get("availability", "-"))
    return wi, av


def ours_of(rows: list[dict[str, Any]], n: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["services"] == n and r.get("config", {}).get("extras")), None)


def at_target_of(rows: list[dict[str, Any]], n: int) -> dict[str, Any] | None:
    """Our method run with the target's gap and wall time as its options, if it was."""
    return next(
        (
            r
            for r in rows
            if r["services"] == n
            and r.get("method") == "decomposed"
            and r.get("config", {}).get("gap") is not None
        ),
        None,
    )


OURS_COLUMNS = (
    "services", "run", "cand. s", "prune s", "build s", "solve s", "other s", "**total s**",
    "build share", "verify s", "what-if region + provider ms", "availability s", "vars", "cons",
    "cost $/mo", "bound", "**gap**", "status", "verified", "peak MB",
)  # fmt: skip


def _ours_line(r: dict[str, Any]) -> str:
    wi, av = _analyses(r)
    wall = f"**{_f(r.get('wall_s'))}**"
    peak = _f(r.get("peak_rss_mb"), ".0f")
    if r.get("cost") is None:
        return _row(r["services"], r["label"], *["-"] * 5, wall, "-", "-", wi, av, *["-"] * 5,
                    r.get("status"), "-", peak)  # fmt: skip
    share = r["build_s"] / r["wall_s"] if r.get("build_s") is not None and r.get("wall_s") else None
    return _row(
        r["services"], r["label"], _f(r.get("candidates_s")), _f(r.get("prune_s")), _f(r.get("build_s")),
        _f(r.get("solve_s")), _f(r.get("other_s")), wall, _pct(share), _f(r.get("verify_s"), ".3f"),
        wi, av, r.get("variables"), r.get("constraints"), _money(r.get("cost")),
        _money(r.get("bound")), f"**{_pct(r.get('gap'))}**", r.get("status"), r.get("verified"),
        peak,
    )  # fmt: skip


def _baseline_lines(rows: list[dict[str, Any]], n: int) -> list[str]:
    out = []
    ours = ours_of(rows, n)
    oc = ours.get("cost") if ours else None
    if ours:
        out.append(_row(
            n, f"**ours** ({ours['label']})", _f(ours.get("wall_s")), _money(oc),
            _money(ours.get("bound")), _pct(ours.get("gap")), ours.get("verified"), "-",
            _f(ours.get("peak_rss_mb"), ".0f"), ours.get("status"),
        ))  # fmt: skip
    for r in rows:
        if r["services"] != n or r is ours:
            continue
        note = r.get("status", "")
        if r.get("error"):
            note += f": {r['error'][:90]}"
        out.append(_row(
            n, r["label"], _f(r.get("wall_s")), _money(r.get("cost")), _money(r.get("bound")),
            _pct(r.get("gap")), r.get("verified", "-"), _vs(oc, r.get("cost")),
            _f(r.get("peak_rss_mb"), ".0f"), note,
        ))  # fmt: skip
    for b in (ours or {}).get("baselines", []):
        notes = [b["note"]] if b["note"] else []
        if b["kind"] == "single-region" and b.get("valid_without_survival") is not None:
            notes.append(f"valid for survive none: {b['valid_without_survival']}")
        if not b["feasible"] and b["first_violation"]:
            notes.append(f"{b['violations']} violations, e.g. {b['first_violation'][:90]}")
        out.append(_row(
            n, f"hand: {b['kind']}", _f(b["seconds"]), _money(b["cost"]), "-", "-",
            b["feasible"], _vs(oc, b["cost"]), "-", "; ".join(notes),
        ))  # fmt: skip
    return out


def render(
    rows: list[dict[str, Any]], meta: dict[str, Any], profile: tuple[str, dict[str, float]] | None
) -> str:
    m, la = meta["machine"], meta["load"]
    out = [
        "## Machine and run\n",
        f"- {m['nproc']} cores, {m['mem_gib']} GiB, CPU `{m['cpu']}`, {m['platform']}",
        f"- Python {m['python']}, HiGHS {m['highs']} (highspy), PuLP {m['pulp']} (bundled CBC), "
        f"numpy {m['numpy']}, pandas {m['pandas']}",
        f"- load average (1 min) at start {la[0]:.2f}, at end {la[1]:.2f}; configurations run "
        "one at a time, each in a fresh process",
        f"- catalog `{meta['catalog']}` ({meta['regions']} regions), seed {meta['seed']}, "
        f"run {meta['started']} ({meta['elapsed_s'] / 60:.1f} min)",
        f"- planner code: {meta.get('planner', 'unknown')}",
        f"- command: `{meta['command']}`\n",
        "## Our method: phases, model, result\n",
        "Each size runs twice: with default options (60 s, gap 0.1%; what-if, availability and "
        "the hand-drawn baselines use this plan) and with the target's gap and wall time as its "
        "options (the target rows below judge this run).\n",
        "Seconds per phase as `make_plan` reports them; `other` = total minus the four phases "
        "(plan assembly, repair and the verifications `make_plan` runs itself); `verify` = one "
        "independent `verify_plan` call, timed apart. What-if = `sweep(plan, catalog, kind)`, "
        "median of 5 warm calls (first call in brackets). Peak = `ru_maxrss` of the run's process "
        "(or of its largest child).\n",
        _row(*OURS_COLUMNS),
        "|" + "---|" * len(OURS_COLUMNS),
    ]
    ours_rows = [
        r
        for r in rows
        if r.get("config", {}).get("extras") or r is at_target_of(rows, r["services"])
    ]
    out += [_ours_line(r) for r in sorted(ours_rows, key=lambda r: r["services"])]
    out += [
        "",
        "## Baselines on the same instances\n",
        "`ours vs` = our cost / baseline cost - 1 (negative: ours is cheaper). Monolithic = one "
        "coupled model, same spec. Hand-drawn plans: `benchmarks/baselines.py`, checked by "
        "`verify_plan` against the same policy.\n",
        _row(
            "services",
            "baseline",
            "time s",
            "cost $/mo",
            "bound",
            "gap",
            "feasible for the policy",
            "ours vs",
            "peak MB",
            "note",
        ),  # fmt: skip
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sorted({r["services"] for r in rows}):
        out += _baseline_lines(rows, n)
    out.append("")
    timeline = [r for r in ours_rows if r.get("progress")]
    if timeline:
        out.append("## Timeline of our method (the planner's progress messages)\n")
        for r in sorted(timeline, key=lambda r: r["services"]):
            why = f" ({r['error'][:160]})" if r.get("error") else ""
            out.append(f"{r['services']} services, {r['label']}, {r.get('status')}{why}:\n")
            out.append("```\n" + "\n".join(str(x) for x in r["progress"][:40]) + "\n```\n")
    out += ["## Targets\n", "| target | measured | verdict |", "|---|---|---|", *targets(rows), ""]
    if profile is not None:
        text, phases = profile
        out += [
            f"## Profile: default method, {meta['profile_size']} services (cProfile)\n",
            "Default options except `workers=1`, so the per-service solves run in the profiled "
            "process. Cumulative seconds under cProfile (which slows Python code, not HiGHS, so "
            "Python phases look heavier than in the table above); nested phases overlap (the "
            "per-service solves contain model builds, conversions and HiGHS runs).\n",
            "| phase | seconds |",
            "|---|---|",
            *(f"| {k} | {v:.2f} |" for k, v in phases.items()),
            "\nTop functions by own time:\n",
            "```\n" + text + "\n```\n",
        ]
    return "\n".join(out)


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """One line per target of docs/benchmarks.md, with the measured value and a verdict."""
    out = []
    sizes = sorted({r["services"] for r in rows})
    for n in sizes:
        if n not in TARGET_WALL_S:
            continue
        # judged on the run that was asked for the target's gap within its wall time, if any
        ours = at_target_of(rows, n) or ours_of(rows, n) or {}
        want = f"{n} services: verified, gap <= {TARGET_GAP[n]:.0%}, <= {TARGET_WALL_S[n]:g} s"
        if ours.get("cost") is None:
            got = (
                f"{ours.get('label', '')}: {ours.get('status', 'not run')} after "
                f"{_f(ours.get('wall_s'), '.1f')} s"
            )
            out.append(_row(want, got, _verdict(False)))
            continue
        ok = (
            ours.get("verified") is True
            and ours["gap"] is not None
            and ours["gap"] <= TARGET_GAP[n] + 1e-12
            and ours["wall_s"] <= TARGET_WALL_S[n]
        )
        got = (
            f"{ours['label']}: verified {ours.get('verified')}, gap {_pct(ours['gap'])}, "
            f"{ours['wall_s']:.1f} s"
        )
        out.append(_row(want, got, _verdict(ok)))
    for n in sizes:
        ours = ours_of(rows, n)
        if ours is None or n < 50:
            continue
        want = f"{n} services: cost <= monolithic best at 120 s, in <= 1/10 of its time"
        monos = [r for r in rows if r["services"] == n and r.get("method") == "monolithic"]
        if not monos:
            out.append(_row(want, "monolithic not run at this size", "not run"))
        # every run of our method at this size (the default and the target-settings one): the
        # target asks for its cost within a tenth of the baseline's time, whatever our time limit
        runs = [r for r in rows if r["services"] == n and r.get("method") == "decomposed"]
        for mono in monos:
            mc = mono.get("cost")
            # its time is at most its limit: a run past it (a slow stop, a diagnosis after a wrong
            # infeasible) must not make ours look faster than against the limit it was given
            its = (
                min(x for x in (mono.get("wall_s"), mono.get("time_limit")) if x)
                if mono.get("wall_s")
                else None
            )
            # judged on our fastest run whose plan costs no more than the baseline's (else the default run)
            beats = [
                r
                for r in runs
                if r.get("cost") is not None and (mc is None or r["cost"] <= mc + 1e-6)
            ]
            pick = min(beats, key=lambda r: r["wall_s"]) if beats else ours
            oc = pick.get("cost")
            cost_ok = oc is not None and (mc is None or oc <= mc + 1e-6)
            ratio = pick["wall_s"] / its if its else None
            time_ok = ratio is not None and ratio <= TARGET_MONO_TIME_SHARE
            got = (
                f"vs {mono['label']}: ours ({pick.get('label', '')}) {_money(oc) if oc is not None else 'no plan'}, "
                f"it {_money(mc) if mc is not None else 'no plan'}; our time {_f(ratio, '.2f')} "
                f"of its {_f(its, '.0f')} s (ran {_f(mono.get('wall_s'), '.0f')} s)"
            )
            out.append(_row(want, got, _verdict(cost_ok and time_ok)))
    for n in sizes:
        ours = ours_of(rows, n)
        if ours is None:
            continue
        want = f"{n} services: cost <= every feasible hand-drawn baseline"
        feas = [b for b in ours.get("baselines", []) if b["feasible"] and b["cost"] is not None]
        oc = ours.get("cost")
        if not feas:
            out.append(_row(want, "no hand-drawn baseline is feasible", "n/a"))
            continue
        ok = oc is not None and all(oc <= b["cost"] + 1e-6 for b in feas)
        costs = ", ".join(f"{b['kind']} {_money(b['cost'])}" for b in feas)
        got = f"ours {_money(oc) if oc is not None else 'no plan'}; {costs}"
        if oc is not None:
            got += " (" + ", ".join(f"{_vs(oc, b['cost'])}" for b in feas) + ")"
        out.append(_row(want, got, _verdict(ok)))
    for n in sizes:
        ours = ours_of(rows, n)
        if ours is None:
            continue
        want = f"{n} services: model build <= 20% of wall"
        if ours.get("build_s") is None:
            out.append(_row(want, f"not reported ({ours.get('status')})", _verdict(False)))
            continue
        share = ours["build_s"] / ours["wall_s"]
        got = f"{ours['build_s']:.2f} s of {ours['wall_s']:.2f} s = {share:.1%}"
        out.append(_row(want, got, _verdict(share <= TARGET_BUILD_SHARE)))
    ours = ours_of(rows, SWEEP_SIZE)
    want = f"region + provider what-if sweep, {SWEEP_SIZE}-service plan, <= 10 ms"
    if ours is None or ours.get("whatif") != "ok":
        out.append(_row(want, (ours or {}).get("whatif", "not run"), "not run"))
    else:
        both = ours["whatif_both_ms"]
        on = "" if ours.get("analysed_plan") in (None, "ours") else f" on {ours['analysed_plan']}"
        got = (
            f"{both:.1f} ms{on} ({ours['whatif_region_scenarios']} + "
            f"{ours['whatif_provider_scenarios']} scenarios; "
            f"{ours['whatif_both_shared_tables_ms']:.1f} ms with the tables built once and "
            f"shared, of which {ours.get('whatif_both_prebuilt_tables_ms', math.nan):.1f} ms "
            "the two sweeps)"
        )
        out.append(_row(want, got, _verdict(both <= TARGET_SWEEP_MS)))
    return out


# ---------------------------------------------------------------- command line
def plan_runs(
    sizes: list[int],
    mono_sizes: list[int],
    catalog: str,
    seed: int,
    mono_limit: float,
    our_limit: float | None,
    cbc: bool,
) -> list[Config]:
    runs = []
    for n in sizes:
        runs.append(Config(catalog, n, seed, "decomposed", "highs", our_limit, extras=True))
        if n in TARGET_WALL_S:  # what the target asks for: its gap, within its wall time
            runs.append(Config(catalog, n, seed, "decomposed", "highs", TARGET_WALL_S[n],
                               gap=TARGET_GAP[n]))  # fmt: skip
        if n in mono_sizes:
            runs.append(Config(catalog, n, seed, "monolithic", "highs", mono_limit))
            if cbc:
                runs.append(Config(catalog, n, seed, "monolithic", "cbc", mono_limit))
    return runs


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        return child_main(argv[1], argv[2])
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes",
        default=",".join(map(str, FULL_SIZES)),
        help="service counts (default 50,200,1000)",
    )
    ap.add_argument(
        "--mono-sizes",
        default=",".join(map(str, MONO_SIZES)),
        help="sizes at which the monolithic baselines run (default 50,200)",
    )
    ap.add_argument(
        "--time-limit",
        type=float,
        default=120.0,
        help="monolithic baselines' limit, s (default 120)",
    )
    ap.add_argument(
        "--our-time-limit",
        type=float,
        default=None,
        help="our method's limit (default: PlanOptions')",
    )
    ap.add_argument(
        "--catalog", default="shipped", help="shipped (default) or synthetic:REGIONS[:SEED]"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-cbc", action="store_true", help="skip the CBC monolithic baseline")
    ap.add_argument(
        "--profile",
        type=int,
        default=None,
        metavar="N",
        help="also cProfile the default method at N services",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_CATALOG}, sizes {QUICK_SIZES}, 10 s monolithic limit",
    )
    ap.add_argument("--out", default=None, help="write the markdown report here (default: stdout)")
    ap.add_argument("--json", default=None, help="also write the raw rows as JSON")
    ap.add_argument("--force", action="store_true", help="overwrite --out / --json files")
    args = ap.parse_args(argv)
    for path in (args.out, args.json):
        if path and Path(path).exists() and not args.force:
            print(f"{path} exists; pass --force to overwrite it", file=sys.stderr)
            return 2
    if args.quick:
        sizes, mono, catalog, limit = (
            list(QUICK_SIZES),
            list(QUICK_SIZES),
            QUICK_CATALOG,
            min(args.time_limit, 10.0),
        )
    else:
        sizes, mono, catalog, limit = (
            _ints(args.sizes),
            _ints(args.mono_sizes),
            args.catalog,
            args.time_limit,
        )
    runs = plan_runs(sizes, mono, catalog, args.seed, limit, args.our_time_limit, not args.no_cbc)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    state = planner_state()
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    rows = []
    for k, config in enumerate(runs):
        print(
            f"[{k + 1}/{len(runs)}] {config.services} services, {config.label()} ...",
            file=sys.stderr,
            flush=True,
        )
        budget = max(config.time_limit or 60.0, 60.0) * 3 + 600
        row = run_in_subprocess(config, timeout=budget)
        if config.extras and "baselines" not in row:
            # our run died before the hand-drawn baselines: compute them (and the analyses) apart
            print("    hand-drawn baselines in a separate process ...", file=sys.stderr, flush=True)
            hand = run_in_subprocess(
                Config(config.catalog, config.services, config.seed, "hand"), timeout=900
            )
            for key, value in hand.items():
                if key == "baselines" or key.startswith(("whatif", "availability", "analysed")):
                    row[key] = value
        rows.append(row)
        print(
            f"    {row.get('status')} cost {_money(row.get('cost'))} gap {_pct(row.get('gap'))} "
            f"in {_f(row.get('wall_s'))} s",
            file=sys.stderr,
            flush=True,
        )
    prof = None
    if args.profile:
        print(
            f"profiling the default method at {args.profile} services ...",
            file=sys.stderr,
            flush=True,
        )
        prof = profile_default(args.profile, catalog, args.seed)
    end_state = planner_state()
    if end_state != state:
        state += f"; **changed during the run** to {end_state}"
    first = next((r for r in rows if "regions" in r), {})
    meta = {
        "machine": machine(),
        "load": (load0, os.getloadavg()[0]),
        "catalog": catalog,
        "regions": first.get("regions", "?"),
        "seed": args.seed,
        "started": started,
        "elapsed_s": time.perf_counter() - t0,
        "command": "python -m benchmarks " + " ".join(argv),
        "profile_size": args.profile,
        "planner": state,
    }
    text = render(rows, meta, prof)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str))
    if args.out:
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
