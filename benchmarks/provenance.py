"""What a benchmark run was measured on: the machine, the library versions, the planner's commit.

Takes nothing and returns plain values for the report's "Machine and run" section. It exists so
that a figure in docs/benchmarks.md can be traced to the hardware and code that produced it. Only
facts go into the report, never a path of the machine (the checkout's place, a user name).
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]  # the checkout: where git runs, not reported


def _proc_field(path: str, key: str) -> str | None:
    """The first `key: value` line's value in a /proc file (None off Linux or if absent)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, platform, Python and solver/library versions, load average."""
    import highspy
    import numpy
    import pandas
    import pulp

    cpu = _proc_field("/proc/cpuinfo", "model name") or ""
    mem = _proc_field("/proc/meminfo", "MemTotal")
    mem_gib = int(mem.split()[0]) / 1024 / 1024 if mem else 0.0
    # the module's constants: a Highs() instance would print its banner into the report
    parts = [getattr(highspy, f"HIGHS_VERSION_{k}", None) for k in ("MAJOR", "MINOR", "PATCH")]
    hv = ".".join(map(str, parts)) if None not in parts else "?"
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


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
    ).stdout


def planner_state() -> str:
    """The planner code measured: git commit, plus a hash of uncommitted changes under planner/."""
    try:
        head = _git("rev-parse", "--short", "HEAD").strip()
        diff = _git("diff", "HEAD", "--", "planner")
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if not head:
        return "unknown (no git)"
    if diff:
        digest = hashlib.sha1(diff.encode()).hexdigest()[:10]
        return f"{head} + uncommitted planner/ changes (diff sha1 {digest})"
    return f"{head} (clean)"
