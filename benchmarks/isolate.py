"""Each benchmark configuration in a fresh Python process, and what to report when it fails.

Takes a configuration (`run.Config`) and a time budget, runs it as `python -m benchmarks --child`
and returns the child's result row; a child that is killed at the budget or crashes becomes a row
saying so (with the planner's last progress message, or the end of its stderr). It exists because
the figures must not depend on what ran before: no warm caches or imported modules from another
configuration, and a peak memory (`ru_maxrss`) that belongs to this configuration alone.
"""

from __future__ import annotations

import json
import os
import resource
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


def kill_after(config: Config) -> float:
    """Seconds after which a configuration's child is killed: well past its own time limit, as
    a stuck child is to be reported, not waited for."""
    return max(config.time_limit or 60.0, 60.0) * 3 + 600


def run_in_subprocess(config: Config, timeout: float) -> dict[str, Any]:
    """Run `config` in a fresh interpreter; a crash or a timeout becomes a row saying so."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "row.json"
        cmd = [sys.executable, "-m", "benchmarks", "--child", json.dumps(config.__dict__), str(out)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        t0 = time.perf_counter()
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
            )
        except subprocess.TimeoutExpired:
            return _killed_row(config, timeout, time.perf_counter() - t0, progress_file(out))
        if done.returncode != 0 or not out.exists():
            return failed_row(
                config,
                f"crashed (exit {done.returncode})",
                time.perf_counter() - t0,
                error=done.stderr[-600:],
            )
        row = json.loads(out.read_text())
        row["process_wall_s"] = time.perf_counter() - t0
        return row


def _killed_row(config: Config, timeout: float, wall_s: float, progress: Path) -> dict[str, Any]:
    steps = progress.read_text().splitlines() if progress.exists() else []
    return failed_row(
        config,
        f"killed after {timeout:.0f} s",
        wall_s,
        progress=steps,
        error=f"last planner step: {steps[-1].strip()}" if steps else "no planner step reported",
    )


def failed_row(config: Config, status: str, wall_s: float, **extra: Any) -> dict[str, Any]:
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
