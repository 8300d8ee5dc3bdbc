"""The task model: what one unit of a study's work is, how tasks are enumerated, how one runs.

Two kinds of task, each one solve-and-evaluate unit:
  * a *plan* task: one (app, strategy) plan, its cost and availability (the `(baseline)` row);
  * a *scenario* task: one failure of that plan, evaluated and (if `replan`) re-planned.
`TaskMaker` turns a `Study` into plan tasks, and a finished plan into its scenario tasks (the plan
decides which regions and providers can fail, so they cannot be known earlier). `execute` runs
one task against a catalog and the specs and returns an `Outcome`: its table row, the plan for a
plan task, and whether it failed unexpectedly.

It exists apart from the executors so that the same function runs wherever a task is sent (this
process, a worker process, a Dask worker): the rows cannot depend on where they were made. A
task's `key` is a fingerprint of everything its result depends on; the store names files by it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import PlannerError
from .results import BASELINE, COLUMNS
from .spec import Study


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


# ------------------------------------------------------------------------- enumerating tasks
def task_key(*parts: Any) -> str:
    """A short, stable fingerprint of `parts` (JSON, so equal inputs give equal keys anywhere)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def scenarios(study: Study, plan: Any, catalog: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The failures of `plan` that `study` asks for, as (kind, scenario id, Task fields), sorted by
    id; the same failure asked for twice (one region list written in two orders) is listed once."""
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


@dataclass(frozen=True)
class TaskMaker:
    """Makes a study's tasks with their keys. `common` holds what every result depends on (planner
    version, catalog folder, time limit, gap) and `digests` each app's spec file hash, so that a
    resumed study reuses a finished task only when nothing it depends on has changed."""

    study: Study
    common: tuple[Any, ...]
    digests: dict[str, str]

    def plan_tasks(self, apps: list[str]) -> list[Task]:
        """One plan task per app x strategy, apps in the given order, strategies in the study's."""
        return [self.plan_task(app, s) for app in apps for s in self.study.strategy_names()]

    def plan_task(self, app: str, strategy: str) -> Task:
        return Task(
            "plan",
            app,
            strategy,
            task_key("plan", self.common, self.digests[app], strategy),
            time_limit=self.study.time_limit,
            gap=self.study.gap,
        )

    def scenario_tasks(self, plan_task: Task, outcome: Outcome, catalog: Any) -> list[Task]:
        """The scenario tasks of a finished plan task (none if it found no plan)."""
        if outcome.plan is None:
            return []
        base = (outcome.rows[0]["usd_per_month"], outcome.rows[0]["availability"])
        study = self.study
        return [
            Task(
                "scenario",
                plan_task.app,
                plan_task.strategy,
                task_key("scenario", plan_task.key, sid, study.replan),
                scenario=sid,
                scenario_kind=kind,
                replan=study.replan,
                time_limit=study.time_limit,
                gap=study.gap,
                plan=outcome.plan,
                base=base,
                **fields,
            )
            for kind, sid, fields in scenarios(study, outcome.plan, catalog)
        ]


# ---------------------------------------------------------------------------- running a task
def _options(task: Task):  # noqa: ANN202
    from ..optimize import PlanOptions

    return PlanOptions(time_limit=task.time_limit, gap=task.gap)


def _r(x: Any, nd: int = 6) -> float:
    # rounded, so that float noise between processes cannot make two executors' tables differ
    if x is None:
        return math.nan
    x = float(x)
    return x if math.isnan(x) or math.isinf(x) else round(x, nd)


def blank_row(task: Task) -> dict[str, Any]:
    """The task's table row before it runs: what the task itself says, nothing measured."""
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


def lost_outcome(task: Task, error: str) -> Outcome:
    """The failed outcome of a task whose executor lost it (a worker died, a pickling error)."""
    row = blank_row(task)
    row.update(error=error, seconds=0.0)
    return Outcome(task.key, [row], None, True)


def _plan_task(task: Task, catalog: Any, specs: dict[str, Any], row: dict[str, Any]) -> Any:
    from ..analysis.plan_availability import plan_availability
    from ..strategies import plan_with_strategy

    try:
        plan = plan_with_strategy(specs[task.app], catalog, task.strategy, _options(task))
    except PlannerError as exc:  # infeasible, no plan in time, bad input: a row, not a crash
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
    from ..analysis.whatif import evaluate_failure, failure_from, replan

    failure = failure_from(
        catalog, regions=list(task.regions), providers=list(task.providers), incident=task.incident
    )
    if task.scenario_kind in ("provider", "incident"):
        # which regions these stand for is the catalog's answer, known only now
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
    row = blank_row(task)
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
