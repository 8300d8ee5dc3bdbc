"""Studies: many (application, strategy, failure scenario) evaluations run as one batch.

A study file names applications, strategies and failure sets; `run_study` plans each app under
each strategy, evaluates (and optionally re-plans) every failure scenario of that plan, and writes
one tidy table (Parquet and CSV) plus a per app x strategy summary.

Tasks come in two kinds, each one solve-and-evaluate unit:
  * a *plan* task: one (app, strategy) plan, its cost and availability (the `(baseline)` row);
  * a *scenario* task: one failure of that plan, evaluated and (if `replan`) re-planned.
Scenario tasks are created when their plan task finishes (the plan decides which regions and
providers can fail), so the pipeline stays busy without a barrier between the two kinds.

Backends (`serial`, `processes`, `dask`) only move tasks and results; the same task function runs
everywhere, so the table is identical whichever backend ran it (the `seconds` column aside).
Finished tasks are written one file each to `<out>.parts/`, so an interrupted study resumes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import __version__
from .errors import InputError, OutputExistsError, PlannerError, Problem, did_you_mean

BASELINE = "(baseline)"
FAILURE_SETS = ("single-region", "providers", "incidents")
BACKENDS = ("serial", "processes", "dask")
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


@contextlib.contextmanager
def plain_main() -> Iterator[None]:
    """Start worker processes with a plain `__main__`.

    Dask's nanny starts workers with multiprocessing's spawn, which re-imports the caller's main
    module in every worker: that fails for scripts without a main guard, notebooks, Streamlit, and
    test runners that leave another module as `__main__`. While the workers start, `__main__` is an
    empty module, so nothing of the caller's is re-run.
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


class StudyFailedError(PlannerError):
    """More tasks failed than the failure budget allows; finished tasks stay in the parts folder."""

    exit_code = 1


# ------------------------------------------------------------------------------ the study file
class StudyApp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    spec: str = Field(min_length=1)  # path, relative to the study file


class Study(BaseModel):
    """A validated study file. Paths in `apps` are resolved against `base_dir`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = "study"
    apps: tuple[StudyApp, ...] = Field(min_length=1)
    strategies: tuple[str, ...] | Literal["all"] = "all"
    failures: tuple[Literal["single-region", "providers", "incidents"] | tuple[str, ...], ...] = (
        "single-region",
    )
    replan: bool = True
    time_limit: float = Field(default=60.0, gt=0, le=86_400)
    gap: float = Field(default=0.001, ge=0, lt=1)
    max_failures: float = Field(default=0.1, ge=0)  # < 1: a fraction of the tasks; >= 1: a count
    base_dir: str = ""

    @field_validator("apps", mode="before")
    @classmethod
    def _apps(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple({"spec": a} if isinstance(a, str) else a for a in v)
        return v

    @field_validator("strategies")
    @classmethod
    def _strategies(cls, v: Any) -> Any:
        from .strategies import STRATEGIES

        if v == "all":
            return v
        for name in v:
            if name not in STRATEGIES:
                raise ValueError(f"unknown strategy `{name}`: {did_you_mean(name, STRATEGIES)}")
        if len(set(v)) != len(v):
            raise ValueError("a strategy is listed twice")
        return v

    @field_validator("failures")
    @classmethod
    def _failures(cls, v: Any) -> Any:
        for f in v:
            if isinstance(f, tuple) and not f:
                raise ValueError("an explicit failure needs at least one region id")
        return v

    def strategy_names(self) -> list[str]:
        from .strategies import STRATEGIES

        return list(STRATEGIES) if self.strategies == "all" else list(self.strategies)

    def spec_paths(self) -> list[Path]:
        base = Path(self.base_dir)
        return [(base / a.spec) for a in self.apps]


def load_study(path: Path | str) -> Study:
    """Read a study file safely and validate it; InputError lists every problem."""
    from .safeyaml import load_yaml_file

    path = Path(path)
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "",
                    "a study file is a mapping (name, apps, strategies, failures, ...)",
                    value=type(data).__name__,
                )
            ]
        )
    if "base_dir" in data:
        raise InputError(
            [
                Problem(
                    str(path),
                    "",
                    "base_dir",
                    "not allowed in the file",
                    fix="spec paths are relative to the study file",
                )
            ]
        )
    return study_from_data({**data, "base_dir": str(path.resolve().parent)}, str(path))


def study_from_data(data: dict[str, Any], source: str = "<study>") -> Study:
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                source,
                ".".join(str(p) for p in e["loc"]),
                "",
                e["msg"],
                value=None if isinstance(e.get("input"), dict) else e.get("input"),
                fix=_fix_for(dict(e)),
            )
            for e in exc.errors()
        ]
        raise InputError(problems) from None
    missing = [
        Problem(
            source,
            f"apps[{i}]",
            "spec",
            "spec file not found",
            value=a.spec,
            fix="spec paths are relative to the study file",
        )
        for i, (a, p) in enumerate(zip(study.apps, study.spec_paths(), strict=True))
        if not p.is_file()
    ]
    if missing:
        raise InputError(missing)
    return study


def _fix_for(err: dict[str, Any]) -> str:
    if err["loc"] and err["loc"][0] == "failures":
        return "use single-region, providers, incidents, or a list of region ids lost together"
    if err["type"] == "extra_forbidden":
        return (
            "allowed keys: name, apps, strategies, failures, replan, time_limit, gap, max_failures"
        )
    return ""


# ------------------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class Task:
    kind: str  # plan | scenario
    app: str
    strategy: str
    key: str  # fingerprint: the parts file name
    scenario: str = BASELINE
    scenario_kind: str = "baseline"  # baseline | region | provider | incident | regions
    regions: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    incident: str | None = None
    replan: bool = False
    time_limit: float = 60.0
    gap: float = 0.001
    plan: Any = None  # the base plan, for scenario tasks
    base: tuple[float, float] = (math.nan, math.nan)  # base plan cost and availability


@dataclass
class Outcome:
    key: str
    rows: list[dict[str, Any]]
    plan: Any = None  # plan tasks only
    failed: bool = False  # an unexpected exception (counts against the failure budget)


def _options(task: Task):  # noqa: ANN202
    from .optimize import PlanOptions

    return PlanOptions(time_limit=task.time_limit, gap=task.gap)


def _r(x: Any, nd: int = 6) -> float:
    if x is None:
        return math.nan
    x = float(x)
    return x if math.isnan(x) or math.isinf(x) else round(x, nd)


def _row(task: Task) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in COLUMNS}
    row.update(
        app=task.app,
        strategy=task.strategy,
        scenario=task.scenario,
        scenario_kind=task.scenario_kind,
        failed_regions=" ".join(sorted(task.regions)),
        usd_per_month=task.base[0],
        availability=task.base[1],
        error="",
        replan_note="",
        status="",
    )
    return row


def _plan_task(task: Task, catalog: Any, specs: dict[str, Any], row: dict[str, Any]) -> Any:
    from .analysis.plan_availability import plan_availability
    from .strategies import plan_with_strategy

    try:
        plan = plan_with_strategy(specs[task.app], catalog, task.strategy, _options(task))
    except (
        PlannerError
    ) as exc:  # infeasible for this app, no plan in time, bad input: a row, not a crash
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["status"] = "no plan"
        return None
    row.update(
        usd_per_month=_r(plan.objective),
        availability=_r(plan_availability(plan, catalog).availability, 12),
        status=plan.status,
        gap=_r(plan.gap, 9),
    )
    return plan


def _scenario_task(task: Task, catalog: Any, row: dict[str, Any]) -> None:
    from .analysis.whatif import evaluate_failure, failure_from, replan

    failure = failure_from(
        catalog, regions=list(task.regions), providers=list(task.providers), incident=task.incident
    )
    if task.scenario_kind in ("provider", "incident"):
        row["failed_regions"] = " ".join(sorted(failure.regions))
    if task.replan:
        rp = replan(task.plan, catalog, failure, _options(task))
        new: Any = rp.plan
        impact = rp.impact
        row.update(
            replan_usd_per_month=_r(rp.cost_after),
            replan_cost_delta=_r(rp.cost_delta),
            migration_gb=_r(rp.migration["gb"].sum()),
            migration_usd=_r(rp.migration["usd"].sum()),
            replan_note=rp.policy_note,
            status="no plan" if new is None else new.status,
            gap=math.nan if new is None else _r(new.gap, 9),
        )
    else:
        impact = evaluate_failure(task.plan, catalog, failure)
    s: Any = impact.summary
    row.update(
        services_down=int(s["services_down"]),
        services_recovering=int(s["services_recovering"]),
        services_degraded=int(s["services_degraded"]),
        survived=bool(s["survived"]),
        shortfall=_r(pd.to_numeric(impact.services["shortfall"], errors="coerce").fillna(0).sum()),
    )


def execute(task: Task, catalog: Any, specs: dict[str, Any]) -> Outcome:
    """Run one task. Never raises (except KeyboardInterrupt): an error becomes the row's `error`."""
    start = time.perf_counter()
    row = _row(task)
    plan, failed = None, False
    try:
        if task.kind == "plan":
            plan = _plan_task(task, catalog, specs, row)
        else:
            _scenario_task(task, catalog, row)
    except Exception as exc:  # noqa: BLE001 - the bounded failure policy records and continues
        failed = True
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["seconds"] = round(time.perf_counter() - start, 3)
    return Outcome(task.key, [row], plan, failed)


# ---------------------------------------------------------------------------------- backends
class Backend:
    """Moves tasks to where they run and outcomes back. submit() never blocks; next() blocks
    until some submitted task has finished and returns (task, outcome)."""

    def submit(self, task: Task) -> None:
        raise NotImplementedError

    def next(self) -> tuple[Task, Outcome]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SerialBackend(Backend):
    def __init__(self, catalog: Any, specs: dict[str, Any]):
        self.catalog, self.specs = catalog, specs
        self.pending: list[Task] = []

    def submit(self, task: Task) -> None:
        self.pending.append(task)

    def next(self) -> tuple[Task, Outcome]:
        task = self.pending.pop(0)
        return task, execute(task, self.catalog, self.specs)


def _write_frame(f: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    f.write(len(data).to_bytes(8, "little"))
    f.write(data)
    f.flush()


def _read_frame(f: Any) -> Any:
    head = f.read(8)
    if len(head) < 8:
        raise EOFError("worker closed its pipe")
    n = int.from_bytes(head, "little")
    data = f.read(n)
    if len(data) < n:
        raise EOFError("worker closed its pipe mid-message")
    return pickle.loads(data)  # noqa: S301 - our own worker process


class ProcessBackend(Backend):
    """One `python -m planner._study_worker` per core (a fresh interpreter: no fork after HiGHS
    threads exist, no re-import of the caller's __main__). Each worker receives the catalog
    folder and the specs once at start, then tasks one at a time over its stdin (so a free
    worker always takes the next task)."""

    def __init__(self, catalog_dir: str | None, specs: dict[str, Any], workers: int | None = None):
        self.n = max(1, workers or os.cpu_count() or 1)
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self.results: queue.Queue[tuple[Task, Outcome]] = queue.Queue()
        self.procs: list[subprocess.Popen[bytes]] = []
        self.init = ("init", catalog_dir, specs)
        self.threads = [threading.Thread(target=self._feed, daemon=True) for _ in range(self.n)]
        for t in self.threads:
            t.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planner._study_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.procs.append(proc)
        _write_frame(proc.stdin, self.init)
        return proc

    def _feed(self) -> None:
        proc: subprocess.Popen[bytes] | None = None
        while True:
            task = self.tasks.get()
            if task is None:
                break
            try:
                if proc is None or proc.poll() is not None:
                    proc = self._spawn()
                _write_frame(proc.stdin, task)
                outcome = _read_frame(proc.stdout)
            except (EOFError, OSError, pickle.PickleError) as exc:  # a worker died: that task fails
                row = _row(task)
                row.update(error=f"worker process failed: {type(exc).__name__}: {exc}", seconds=0.0)
                outcome = Outcome(task.key, [row], None, True)
                proc = None
            self.results.put((task, outcome))
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()

    def submit(self, task: Task) -> None:
        self.tasks.put(task)

    def next(self) -> tuple[Task, Outcome]:
        return self.results.get()

    def close(self) -> None:
        for _ in self.threads:
            self.tasks.put(None)
        for p in list(self.procs):
            if p.poll() is None:
                try:
                    if p.stdin is not None:
                        p.stdin.close()
                    p.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    p.kill()
                    p.wait()
            for f in (p.stdin, p.stdout):
                if f is not None and not f.closed:
                    f.close()


@lru_cache(maxsize=4)
def _worker_catalog(catalog_dir: str | None) -> Any:
    """The catalog, loaded once per worker process (Dask workers and planner._study_worker)."""
    from .catalog import load_catalog

    return load_catalog(catalog_dir)


def _dask_execute(task: Task, specs: dict[str, Any], catalog_dir: str | None) -> Outcome:
    return execute(task, _worker_catalog(catalog_dir), specs)


class DaskBackend(Backend):
    """Dask distributed: `scheduler` is an address (tcp://host:8786), a distributed.Client, or
    "local-cluster" (a LocalCluster on loopback, one single-threaded worker per core).
    Specs are scattered to every worker once; each worker loads the catalog once (cached).
    """

    def __init__(
        self,
        catalog_dir: str | None,
        specs: dict[str, Any],
        scheduler: Any,
        workers: int | None = None,
    ):
        from distributed import Client, LocalCluster, as_completed

        self.cluster = None
        self.own_client = True
        if scheduler is None or scheduler == "local-cluster":
            with plain_main():
                self.cluster = LocalCluster(
                    n_workers=max(1, workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            self.client = Client(self.cluster)
        elif isinstance(scheduler, str):
            self.client = Client(scheduler)
        else:
            self.client, self.own_client = scheduler, False
        self.catalog_dir = catalog_dir
        self.specs = self.client.scatter(specs, broadcast=True, hash=False)
        self.futures = as_completed([], with_results=False)
        self.tasks: dict[str, Task] = {}

    def submit(self, task: Task) -> None:
        fut = self.client.submit(
            _dask_execute,
            task,
            self.specs,
            self.catalog_dir,
            pure=False,
            key=f"study-{task.kind}-{task.key}-{time.monotonic_ns()}",
        )
        self.tasks[str(fut.key)] = task
        self.futures.add(fut)

    def next(self) -> tuple[Task, Outcome]:
        fut = next(self.futures)
        task = self.tasks.pop(str(fut.key))
        try:
            outcome = fut.result()
        except Exception as exc:  # noqa: BLE001 - a worker lost or a pickling failure
            row = _row(task)
            row.update(error=f"dask: {type(exc).__name__}: {exc}", seconds=0.0)
            outcome = Outcome(task.key, [row], None, True)
        fut.release()
        return task, outcome

    def close(self) -> None:
        try:
            if self.own_client:
                self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


# ------------------------------------------------------------------------------- the runner
@dataclass(frozen=True)
class StudyProgress:
    done: int  # tasks finished, including those resumed from the parts folder
    total: int  # tasks known so far (scenario tasks appear as their plans finish)
    executed: int  # tasks run by this call
    skipped: int  # tasks taken from the parts folder
    failed: int
    elapsed: float  # seconds since this call started
    eta: float | None  # estimated seconds left, None until a task has run
    task: str  # the task that just finished: app/strategy/scenario


def stderr_progress(p: StudyProgress) -> None:
    eta = "?" if p.eta is None else f"{p.eta:.0f}s"
    print(
        f"study: {p.done}/{p.total} tasks ({p.skipped} resumed, {p.failed} failed), "
        f"{p.elapsed:.0f}s elapsed, ETA {eta}: {p.task}",
        file=sys.stderr,
        flush=True,
    )


@dataclass
class StudyResult:
    table: pd.DataFrame
    summary: pd.DataFrame
    files: dict[str, Path]
    executed: int
    skipped: int
    failed: int
    seconds: float
    tasks: int = 0
    task_seconds: list[float] = field(default_factory=list)


def output_paths(out: Path | str) -> dict[str, Path]:
    """`out` is a path stem (an extension .parquet or .csv is dropped)."""
    out = Path(out)
    if out.suffix in (".parquet", ".csv"):
        out = out.with_suffix("")
    return {
        "parquet": out.with_name(out.name + ".parquet"),
        "csv": out.with_name(out.name + ".csv"),
        "summary_parquet": out.with_name(out.name + ".summary.parquet"),
        "summary_csv": out.with_name(out.name + ".summary.csv"),
        "parts": out.with_name(out.name + ".parts"),
    }


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _scenarios(study: Study, plan: Any, catalog: Any) -> list[tuple[str, str, dict[str, Any]]]:
    out: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for f in study.failures:
        if f == "single-region":
            for r in plan.regions():
                out[f"region:{r}"] = ("region", f"region:{r}", {"regions": (r,)})
        elif f == "providers":
            for p in plan.providers():
                out[f"provider:{p}"] = ("provider", f"provider:{p}", {"providers": (p,)})
        elif f == "incidents":
            for i in sorted(catalog.incidents.index):
                out[f"incident:{i}"] = ("incident", f"incident:{i}", {"incident": str(i)})
        else:
            regs = tuple(sorted(set(f)))
            sid = "regions:" + "+".join(regs)
            out[sid] = ("regions", sid, {"regions": regs})
    return [out[k] for k in sorted(out)]


def _check_explicit_regions(study: Study, catalog: Any, source: str) -> None:
    problems = [
        Problem(
            source,
            f"failures[{i}]",
            "",
            "unknown region",
            value=r,
            fix=did_you_mean(r, catalog.regions.index),
        )
        for i, f in enumerate(study.failures)
        if isinstance(f, tuple)
        for r in f
        if r not in catalog.regions.index
    ]
    if problems:
        raise InputError(problems)


def run_study(
    study: Study | Path | str,
    catalog_dir: Path | str | None = None,
    backend: str = "processes",
    scheduler: Any = None,
    out: Path | str | None = None,
    force: bool = False,
    workers: int | None = None,
    max_failures: float | None = None,
    progress: Callable[[StudyProgress], None] | None = stderr_progress,
    keep_parts: bool = False,
) -> StudyResult:
    """Run a study and write `<out>.parquet`, `<out>.csv`, `<out>.summary.{parquet,csv}`.

    backend: serial | processes (default; `workers` processes, default one per core) | dask
    (`scheduler`: an address, a distributed.Client, or "local-cluster"; giving a scheduler with
    backend="processes" selects dask). Finished tasks go to `<out>.parts/`; a re-run resumes
    from there. Raises OutputExistsError if an output file exists and not `force`,
    StudyFailedError when more than `max_failures` tasks fail (fraction if < 1, else a count).
    """
    from .catalog import load_catalog
    from .spec import load_spec

    started = time.perf_counter()
    source = str(study) if not isinstance(study, Study) else "<study>"
    if not isinstance(study, Study):
        study = load_study(study)
    if scheduler is not None and backend == "processes":
        backend = "dask"
    if backend not in BACKENDS:
        raise InputError(f"unknown backend `{backend}`: {did_you_mean(backend, BACKENDS)}")
    budget = study.max_failures if max_failures is None else max_failures
    files = output_paths(out if out is not None else Path(study.base_dir or ".") / study.name)
    if not force:
        existing = [str(p) for k, p in files.items() if k != "parts" and p.exists()]
        if existing:
            raise OutputExistsError(
                f"refusing to overwrite {', '.join(existing)}: pass force=True (--force) "
                "or choose another output"
            )
    parts = files["parts"]
    parts.mkdir(parents=True, exist_ok=True)

    cat_dir = None if catalog_dir is None else str(Path(catalog_dir).resolve())
    catalog = load_catalog(cat_dir)
    _check_explicit_regions(study, catalog, source)
    specs: dict[str, Any] = {}
    digests: dict[str, str] = {}
    for path in study.spec_paths():
        spec = load_spec(path)
        if spec.app in specs:
            raise InputError(
                [
                    Problem(
                        source,
                        "apps",
                        "",
                        "two specs name the same app",
                        value=spec.app,
                        fix="give each application a distinct `app:` name",
                    )
                ]
            )
        specs[spec.app] = spec
        digests[spec.app] = hashlib.sha256(path.read_bytes()).hexdigest()
    common = (__version__, cat_dir, study.time_limit, study.gap)

    def plan_task(app: str, strategy: str) -> Task:
        return Task(
            "plan",
            app,
            strategy,
            _key("plan", common, digests[app], strategy),
            time_limit=study.time_limit,
            gap=study.gap,
        )

    def scenario_task(
        pt: Task, plan: Any, base: tuple[float, float], kind: str, sid: str, kw: dict[str, Any]
    ) -> Task:
        return Task(
            "scenario",
            pt.app,
            pt.strategy,
            _key("scenario", pt.key, sid, study.replan),
            scenario=sid,
            scenario_kind=kind,
            replan=study.replan,
            time_limit=study.time_limit,
            gap=study.gap,
            plan=plan,
            base=base,
            **kw,
        )

    outcomes: dict[str, Outcome] = {}
    total = executed = skipped = failed = 0
    task_seconds: list[float] = []
    runner: Backend | None = None
    in_flight = 0
    ready: list[tuple[Task, Outcome]] = []  # resumed from parts, handled like finished tasks

    def part_path(task: Task) -> Path:
        return parts / f"{task.kind}-{task.key}.pkl"

    def enqueue(task: Task) -> None:
        nonlocal total, in_flight, runner
        total += 1
        p = part_path(task)
        if p.exists():
            try:
                with open(p, "rb") as f:
                    ready.append((task, pickle.load(f)))  # noqa: S301 - our own parts folder
                return
            except (OSError, EOFError, pickle.PickleError):
                p.unlink(missing_ok=True)  # a torn write: run it again
        if runner is None:
            runner = _make_backend(backend, catalog, cat_dir, specs, scheduler, workers)
        runner.submit(task)
        in_flight += 1

    try:
        for app in specs:
            for strategy in study.strategy_names():
                enqueue(plan_task(app, strategy))
        while ready or in_flight:
            if ready:
                task, outcome = ready.pop(0)
                skipped += 1
            else:
                assert runner is not None
                task, outcome = runner.next()
                in_flight -= 1
                executed += 1
                task_seconds.append(float(outcome.rows[0].get("seconds") or 0.0))
                if outcome.failed:
                    failed += 1
                else:  # failures are not saved: a resumed study tries them again
                    tmp = part_path(task).with_suffix(".tmp")
                    with open(tmp, "wb") as f:
                        pickle.dump(outcome, f, protocol=pickle.HIGHEST_PROTOCOL)
                    os.replace(tmp, part_path(task))
            outcomes[task.key] = outcome
            if task.kind == "plan" and outcome.plan is not None:
                base = (outcome.rows[0]["usd_per_month"], outcome.rows[0]["availability"])
                for kind, sid, kw in _scenarios(study, outcome.plan, catalog):
                    enqueue(scenario_task(task, outcome.plan, base, kind, sid, kw))
            limit = budget if budget >= 1 else budget * total
            if failed > limit:
                raise StudyFailedError(
                    f"{failed} of {total} tasks failed, more than the budget "
                    f"({budget:g}); finished tasks are kept in {parts}. Last error: "
                    f"{outcome.rows[0]['error']}"
                )
            if progress is not None:
                elapsed = time.perf_counter() - started
                done = executed + skipped
                eta = None if executed == 0 else elapsed / executed * (total - done)
                progress(
                    StudyProgress(
                        done,
                        total,
                        executed,
                        skipped,
                        failed,
                        elapsed,
                        eta,
                        f"{task.app}/{task.strategy}/{task.scenario}",
                    )
                )
    finally:
        if runner is not None:
            runner.close()

    table = tidy([r for o in outcomes.values() for r in o.rows])
    summary = summarize_study(table)
    table.to_parquet(files["parquet"], index=False)
    table.to_csv(files["csv"], index=False)
    summary.to_parquet(files["summary_parquet"], index=False)
    summary.to_csv(files["summary_csv"], index=False)
    if not keep_parts:
        for p in parts.glob("*.pkl"):
            p.unlink()
        for p in parts.glob("*.tmp"):
            p.unlink()
        parts.rmdir()
    return StudyResult(
        table,
        summary,
        {k: v for k, v in files.items() if k != "parts"},
        executed,
        skipped,
        failed,
        time.perf_counter() - started,
        total,
        task_seconds,
    )


def _make_backend(
    backend: str,
    catalog: Any,
    cat_dir: str | None,
    specs: dict[str, Any],
    scheduler: Any,
    workers: int | None,
) -> Backend:
    if backend == "serial":
        return SerialBackend(catalog, specs)
    if backend == "processes":
        return ProcessBackend(cat_dir, specs, workers)
    return DaskBackend(cat_dir, specs, scheduler, workers)


def tidy(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The result rows as a typed table, sorted by app, strategy, scenario."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    for c in _INT_COLUMNS:
        table[c] = table[c].astype("Int64")
    for c in _FLOAT_COLUMNS:
        table[c] = table[c].astype("float64")
    for c in _STR_COLUMNS:
        table[c] = table[c].fillna("").astype(str)
    table["survived"] = table["survived"].astype("boolean")
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
    return pd.DataFrame(
        rows,
        columns=[
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
        ],
    )


def comparable(table: pd.DataFrame) -> pd.DataFrame:
    """The table without the timing column: what must be identical across backends."""
    return table.drop(columns=["seconds"])
