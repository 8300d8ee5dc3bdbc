"""Each benchmark configuration in a fresh Python process, and what to report when it fails.

Takes a configuration (`run.Config`) and a time budget, runs it as `python -m benchmarks --child`
and returns the child's result row; a child that is killed at the budget or crashes becomes a row
saying so (with the planner's last progress message, or the end of its stderr).

The time limit holds: the child marks when planning starts and ends (`mark_phase`), and a child
still planning `grace_s` after its time limit is killed with everything it started (its process
group: CBC, worker processes) and reported as an overrun with the time it had run. A plan that
comes back more than `OVERRUN_TOLERANCE_S` late is kept, and its row says by how much.

It exists because the figures must not depend on what ran before: no warm caches or imported
modules from another configuration, and a peak memory (`ru_maxrss`) that belongs to this
configuration alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Config

ROOT = Path(__file__).resolve().parents[1]  # the checkout, so the child imports this code


def peak_rss_mb() -> float:
    """Peak resident memory of this process or of its largest child (CBC runs as a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux reports KiB


def progress_file(out_path: str | Path) -> Path:
    """Where the child appends the planner's progress messages as they come (read if killed)."""
    return Path(str(out_path) + ".progress")


OVERRUN_TOLERANCE_S = 5.0  # "within a few seconds": later than this past the limit is an overrun
DEFAULT_TIME_LIMIT_S = 60.0  # PlanOptions' default, for a configuration that keeps it
POLL_S = 0.25


GRACE_MIN_S = 15.0
GRACE_SHARE = 0.25


def grace_s(limit: float) -> float:
    """How long past its time limit a child may go on planning before it is killed: enough to
    assemble and verify the plan it has (seconds at 1000 services), not a second solve."""
    return max(GRACE_MIN_S, GRACE_SHARE * limit)


def planning_budget(config: Config) -> float:
    """Seconds of planning after which the child is killed."""
    if config.budget_s is not None:
        return config.budget_s
    limit = config.time_limit or DEFAULT_TIME_LIMIT_S
    return limit + grace_s(limit)


def kill_after(config: Config) -> float:
    """Seconds of the child's whole life after which it is killed (loading, generating, planning,
    analyses and hand-drawn baselines): a stuck child is to be reported, not waited for."""
    return planning_budget(config) * 2 + 600


def phase_file(out_path: str | Path) -> Path:
    """Where the child marks the start and the end of planning (`mark_phase`)."""
    return Path(str(out_path) + ".phase")


def mark_phase(path: str | Path | None, what: str) -> None:
    """Append `what` (start or end) and the wall-clock time to the phase file, if there is one."""
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{what} {time.time()}\n")


def _phases(path: Path) -> dict[str, float]:
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        what, _, at = line.partition(" ")
        try:
            out[what] = float(at)
        except ValueError:
            continue  # a line being written as it is read
    return out


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_in_subprocess(config: Config, timeout: float) -> dict[str, Any]:
    """Run `config` in a fresh interpreter; a crash, an overrun of the planning budget or of
    `timeout` (the child's whole life) becomes a row saying so."""
    budget = planning_budget(config)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.json"
        err = Path(tmp) / "stderr.txt"
        cmd = [sys.executable, "-m", "benchmarks", "--child", json.dumps(config.__dict__), str(out)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        t0 = time.perf_counter()
        with open(err, "w", encoding="utf-8") as err_fh:
            # a session of its own, so that a kill takes CBC and the worker processes with it
            proc = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=err_fh, text=True, cwd=ROOT, env=env,
                start_new_session=True,
            )  # fmt: skip
            while proc.poll() is None:
                time.sleep(POLL_S)
                phases = _phases(phase_file(out))
                planning = "start" in phases and "end" not in phases
                if planning and time.time() - phases["start"] > budget:
                    ran = time.time() - phases["start"]
                    _kill_group(proc)
                    return _killed_row(config, budget, ran, progress_file(out), overrun=True)
                if time.perf_counter() - t0 > timeout:
                    _kill_group(proc)
                    return _killed_row(
                        config, timeout, time.perf_counter() - t0, progress_file(out)
                    )
        if proc.returncode != 0 or not out.exists():
            return failed_row(
                config,
                f"crashed (exit {proc.returncode})",
                time.perf_counter() - t0,
                error=err.read_text()[-600:],
            )
        row = json.loads(out.read_text())
        row["process_wall_s"] = time.perf_counter() - t0
        return row


def _killed_row(
    config: Config, budget: float, wall_s: float, progress: Path, overrun: bool = False
) -> dict[str, Any]:
    steps = progress.read_text().splitlines() if progress.exists() else []
    extra: dict[str, Any] = {}
    if overrun and config.method == "compare":  # no time limit to overrun: stopped at its budget
        status = f"stopped at {wall_s:.0f} s, still running"
        extra["killed"] = True
    elif overrun:
        limit = config.time_limit or DEFAULT_TIME_LIMIT_S
        status = f"overrun: still planning at {wall_s:.0f} s for a {limit:g} s limit, killed"
        extra.update(time_limit=limit, overrun_s=wall_s - limit, killed=True)
    else:
        status = f"killed after {budget:.0f} s"
    return failed_row(
        config,
        status,
        wall_s,
        progress=steps,
        error=f"last planner step: {steps[-1].strip()}" if steps else "no planner step reported",
        **extra,
    )


def failed_row(config: Config, status: str, wall_s: float, **extra: Any) -> dict[str, Any]:
    """The row of a configuration whose child process did not report one."""
    return {
        "config": config.__dict__,
        "label": config.label(),
        "services": config.services,
        "family": config.family,
        "example": config.example,
        "method": config.method,
        "solver": config.solver,
        "status": status,
        "wall_s": wall_s,
        **extra,
    }
