"""Running a study: `run_study` takes a study (file or `Study`), runs its tasks on an executor and
returns a `StudyResult` with the tidy table and its summary, also written as Parquet and CSV.

This is the loop that ties the other modules together: the study file (`spec`) gives the tasks
(`tasks`), the parts folder (`store`) supplies those finished in an earlier run, an executor
(`executors`) runs the rest, each finished plan adds its scenario tasks, failures are counted
against the study's budget, progress is reported, and the rows become the table (`results`).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..errors import InputError, PlannerError, Problem, did_you_mean
from .executors import EXECUTORS, Executor, make_executor
from .results import summarize_study, tidy, write_tables
from .spec import Study, check_explicit_regions, load_study
from .store import PartsStore, output_paths, refuse_overwrite
from .tasks import Outcome, Task, TaskMaker


class StudyFailedError(PlannerError):
    """More tasks failed than the failure budget allows; finished tasks stay in the parts folder."""

    exit_code = 1


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


def _load_specs(study: Study, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The study's specs by app name, and the SHA-256 of each spec file (part of the task keys)."""
    from ..spec import load_spec

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
    return specs, digests


class _Run:
    """The state of one `run_study` call: tasks known, in flight and finished, and the counts
    that progress and the failure budget are computed from. The executor is started only when a
    task is not in the parts folder, so a fully resumed study starts no workers."""

    def __init__(
        self,
        store: PartsStore,
        start_executor: Callable[[], Executor],
        budget: float,
        progress: Callable[[StudyProgress], None] | None,
        started: float,
    ):
        self.store, self.start_executor = store, start_executor
        self.budget, self.progress = budget, progress
        self.started = started  # when run_study was called: elapsed includes loading
        self.executor: Executor | None = None
        self.outcomes: dict[str, Outcome] = {}
        self.ready: list[tuple[Task, Outcome]] = []  # resumed from parts, handled like finished
        self.in_flight = self.total = self.executed = self.skipped = self.failed = 0
        self.task_seconds: list[float] = []

    def enqueue(self, task: Task) -> None:
        self.total += 1
        saved = self.store.load(task)
        if saved is not None:
            self.ready.append((task, saved))
            return
        if self.executor is None:
            self.executor = self.start_executor()
        self.executor.submit(task)
        self.in_flight += 1

    def pending(self) -> bool:
        return bool(self.ready or self.in_flight)

    def next_finished(self) -> tuple[Task, Outcome]:
        """The next finished task: a resumed one first, else the next the executor hands back
        (saved to the parts folder unless it failed, so that a resumed study tries it again)."""
        if self.ready:
            self.skipped += 1
            task, outcome = self.ready.pop(0)
        else:
            assert self.executor is not None
            task, outcome = self.executor.next()
            self.in_flight -= 1
            self.executed += 1
            self.task_seconds.append(float(outcome.rows[0].get("seconds") or 0.0))
            if outcome.failed:
                self.failed += 1
            else:
                self.store.save(task, outcome)
        self.outcomes[task.key] = outcome
        return task, outcome

    def check_budget(self, last: Outcome) -> None:
        # a fraction is of the tasks known so far: the total grows as plans reveal scenarios
        limit = self.budget if self.budget >= 1 else self.budget * self.total
        if self.failed > limit:
            raise StudyFailedError(
                f"{self.failed} of {self.total} tasks failed, more than the budget "
                f"({self.budget:g}); finished tasks are kept in {self.store.folder}. Last error: "
                f"{last.rows[0]['error']}"
            )

    def report(self, task: Task) -> None:
        if self.progress is None:
            return
        elapsed = time.perf_counter() - self.started
        done = self.executed + self.skipped
        eta = None if self.executed == 0 else elapsed / self.executed * (self.total - done)
        self.progress(
            StudyProgress(
                done,
                self.total,
                self.executed,
                self.skipped,
                self.failed,
                elapsed,
                eta,
                f"{task.app}/{task.strategy}/{task.scenario}",
            )
        )

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()


def _drive(run: _Run, maker: TaskMaker, apps: list[str], catalog: Any) -> None:
    """Run every task of the study, each finished plan adding its scenario tasks."""
    try:
        for task in maker.plan_tasks(apps):
            run.enqueue(task)
        while run.pending():
            task, outcome = run.next_finished()
            if task.kind == "plan":
                for scenario in maker.scenario_tasks(task, outcome, catalog):
                    run.enqueue(scenario)
            run.check_budget(outcome)
            run.report(task)
    finally:
        run.close()


def _executor_name(executor: str, backend: str | None, scheduler: Any) -> str:
    # `backend` is the former name of `executor`; "backend" now means a solver only
    name = backend if backend is not None else executor
    if scheduler is not None and name == "processes":
        name = "dask"
    if name not in EXECUTORS:
        raise InputError(f"unknown executor `{name}`: {did_you_mean(name, EXECUTORS)}")
    return name


def run_study(
    study: Study | Path | str,
    catalog_dir: Path | str | None = None,
    executor: str = "processes",
    scheduler: Any = None,
    out: Path | str | None = None,
    force: bool = False,
    workers: int | None = None,
    max_failures: float | None = None,
    progress: Callable[[StudyProgress], None] | None = stderr_progress,
    keep_parts: bool = False,
    *,
    backend: str | None = None,
) -> StudyResult:
    """Run a study and write `<out>.parquet`, `<out>.csv`, `<out>.summary.{parquet,csv}`.

    executor: serial | processes (default; `workers` processes, default one per core) | dask
    (`scheduler`: an address, a distributed.Client, or "local-cluster"; giving a scheduler with
    executor="processes" selects dask). `backend` is the former name of `executor`, still
    accepted. Finished tasks go to `<out>.parts/`; a re-run resumes from there. Raises
    OutputExistsError if an output file exists and not `force`, StudyFailedError when more than
    `max_failures` tasks fail (fraction if < 1, else a count).
    """
    from ..catalog import load_catalog

    started = time.perf_counter()
    source = str(study) if not isinstance(study, Study) else "<study>"
    if not isinstance(study, Study):
        study = load_study(study)
    name = _executor_name(executor, backend, scheduler)
    budget = study.max_failures if max_failures is None else max_failures
    files = output_paths(out if out is not None else Path(study.base_dir or ".") / study.name)
    if not force:
        refuse_overwrite(files)
    store = PartsStore(files["parts"])

    cat_dir = None if catalog_dir is None else str(Path(catalog_dir).resolve())
    catalog = load_catalog(cat_dir)
    check_explicit_regions(study, catalog, source)
    specs, digests = _load_specs(study, source)
    maker = TaskMaker(study, (__version__, cat_dir, study.time_limit, study.gap), digests)
    run = _Run(
        store,
        lambda: make_executor(name, catalog, cat_dir, specs, scheduler, workers),
        budget,
        progress,
        started,
    )
    _drive(run, maker, list(specs), catalog)

    table = tidy([r for o in run.outcomes.values() for r in o.rows])
    summary = summarize_study(table)
    write_tables(table, summary, files)
    if not keep_parts:
        store.remove()
    return StudyResult(
        table,
        summary,
        {k: v for k, v in files.items() if k != "parts"},
        run.executed,
        run.skipped,
        run.failed,
        time.perf_counter() - started,
        run.total,
        run.task_seconds,
    )
