"""The README's tour, run as a new user runs it (issue 17).

Every `mcplan ...` line of README.md's fenced code blocks is run with the installed `mcplan`, from
a temporary folder outside the clone: `examples/NAME.yaml` and example names must resolve from
what the package installs (planner/examples.py), not from the clone's files. Each command must
exit 0, print something (or write its `--out` file, inside the test's folder) and never show a
traceback; `/tmp/...` output paths are moved into the test's folder. `mcplan dashboard` is started
on a free port, must answer Streamlit's health check, and is stopped with nothing left running.

The long commands (compare, frontier and study, 15-65 s each on two busy cores, and the
global-saas plan, 50-60 s) are in a separate test marked slow.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# The tour had 20 `mcplan` lines when this test was written; a rewrite that loses them is noticed.
TOUR_MIN_COMMANDS = 20
SLOW_SUBCOMMANDS = {"compare", "frontier", "study"}
SLOW_EXAMPLES = {"global-saas"}
QUICK_TIMEOUT = 300  # seconds per command; they take 1-22 s on two busy cores
SLOW_TIMEOUT = 1200

# Tour commands that fail today for a reason in planner code (not in the README): the reason, and
# what their standard error says (any other failure of theirs is a failure of the test).
KNOWN_FAILURES: dict[str, tuple[str, str]] = {}  # subcommand -> (why, its stderr)

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def tour_commands() -> list[list[str]]:
    """Each `mcplan ...` line of README.md's fenced code blocks, split as a shell would, without
    its trailing comment."""
    commands = []
    for block in FENCE.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            if argv and argv[0] == "mcplan":
                commands.append(argv)
    return commands


TOUR = tour_commands()


def is_slow(argv: list[str]) -> bool:
    return argv[1] in SLOW_SUBCOMMANDS or any(Path(a).stem in SLOW_EXAMPLES for a in argv[2:])


def tour_params(slow: bool) -> list[object]:
    params: list[object] = []
    for argv in TOUR:
        if argv[1] == "dashboard" or is_slow(argv) != slow:
            continue
        marks = []
        if argv[1] in KNOWN_FAILURES:
            marks.append(
                pytest.mark.xfail(
                    strict=True, raises=AssertionError, reason=KNOWN_FAILURES[argv[1]][0]
                )
            )
        params.append(pytest.param(argv, marks=marks, id=" ".join(argv[1:])))
    return params


def installed_mcplan() -> list[str]:
    """The installed console script: the one beside this interpreter, else the first on PATH,
    else `python -m planner`."""
    found = shutil.which("mcplan", path=str(Path(sys.executable).parent)) or shutil.which("mcplan")
    return [found] if found else [sys.executable, "-m", "planner"]


def user_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user outside the clone: no PYTHONPATH into it, temporary files inside
    the test's folder."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    scratch = tmp_path / ".tmp"
    scratch.mkdir(exist_ok=True)
    env.update(TMPDIR=str(scratch), STREAMLIT_SERVER_HEADLESS="true")
    return env


def stop_group(pgid: int) -> bool:
    """Kill what is left of a process group; True when something was left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    os.killpg(pgid, signal.SIGKILL)
    return True


def group_left(pgid: int, grace: float = 5.0) -> bool:
    """Whether a process of the group is still running after a grace period (then it is killed)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return stop_group(pgid)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_in(tmp_path: Path, args: list[str], timeout: float) -> Run:
    """Run the installed mcplan with ARGS in tmp_path, in its own process group, which must be
    empty once it has finished."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [*installed_mcplan(), *args],
        cwd=tmp_path,
        env=user_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc.pid)
        proc.communicate()
        pytest.fail(f"`mcplan {shlex.join(args)}` did not finish within {timeout} s")
    finally:
        if proc.poll() is None:
            stop_group(proc.pid)
            proc.wait()
    assert not group_left(proc.pid), f"`mcplan {shlex.join(args)}` left processes running"
    return Run(proc.returncode, stdout, stderr, time.monotonic() - start)


def outputs_into(tmp_path: Path, argv: list[str]) -> tuple[list[str], list[Path]]:
    """The command's arguments with each `--out` path moved inside tmp_path (a relative one is
    already there: the command runs in tmp_path), and those paths."""
    args, outs = list(argv[1:]), []
    for i, arg in enumerate(args[:-1]):
        if arg == "--out":
            target = Path(args[i + 1])
            if target.is_absolute():
                target = tmp_path / target.name
                args[i + 1] = str(target)
            outs.append(tmp_path / target)
    return args, outs


def written(out: Path) -> list[Path]:
    """The files an `--out` wrote: the file itself, or those named after it (a study's
    OUT.parquet, OUT.csv, OUT.summary.csv, ...)."""
    if out.is_file():
        return [out]
    return sorted(p for p in out.parent.glob(glob.escape(out.name) + ".*") if p.is_file())


def check_format(fmt: str, text: str, where: str) -> None:
    """A JSON output parses; a CSV one has a header and rows."""
    if fmt == "json":
        json.loads(text)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows and all(rows[0]), f"{where}: no CSV rows"


def check_tour_command(tmp_path: Path, argv: list[str], timeout: float) -> None:
    args, outs = outputs_into(tmp_path, argv)
    run = run_in(tmp_path, args, timeout)
    shown = f"`{shlex.join(argv)}` (run as `mcplan {shlex.join(args)}` in {tmp_path})"
    assert "Traceback" not in run.stdout + run.stderr, f"{shown}:\n{run.stderr}"
    known = KNOWN_FAILURES.get(argv[1])
    if run.code != 0 and known and known[1] not in run.stderr:
        pytest.fail(f"{shown} exited {run.code}, not as known ({known[1]!r}):\n{run.stderr}")
    assert run.code == 0, f"{shown} exited {run.code}:\n{run.stderr}"
    for out in outs:
        files = written(out)
        assert files, f"{shown} did not write {out}:\n{run.stderr}"
        for file in files:
            assert file.resolve().is_relative_to(tmp_path.resolve()), file
            assert file.stat().st_size, f"{shown} wrote an empty {file}"
            if file.suffix in (".csv", ".json"):
                check_format(file.suffix[1:], file.read_text(encoding="utf-8"), str(file))
    if not outs:
        assert run.stdout.strip(), f"{shown} printed nothing:\n{run.stderr}"
        fmt = args[args.index("--format") + 1] if "--format" in args else "table"
        check_format(fmt, run.stdout, shown)
    print(f"{run.seconds:6.1f} s  {shlex.join(argv)}")


# ------------------------------------------------------------------ the tour is there
def test_the_readme_still_has_its_tour() -> None:
    lines = [shlex.join(argv) for argv in TOUR]
    assert len(TOUR) >= TOUR_MIN_COMMANDS, f"README.md's tour has {len(TOUR)} mcplan lines"
    quick = [shlex.join(argv) for argv in TOUR if not is_slow(argv)]
    for wanted in ("mcplan examples", "mcplan plan kr-ecommerce", "--fail", "--sweep", "--price"):
        assert any(wanted in line for line in quick), f"no quick tour command has {wanted!r}"
    assert any(argv[1] == "dashboard" for argv in TOUR), lines
    assert len(tour_params(slow=False)) >= 10 and len(tour_params(slow=True)) >= 5


# ------------------------------------------------------------------ each command, from outside
@pytest.mark.parametrize("argv", tour_params(slow=False))
def test_quick_tour_command_runs_outside_the_clone(tmp_path: Path, argv: list[str]) -> None:
    check_tour_command(tmp_path, argv, QUICK_TIMEOUT)


@pytest.mark.slow
@pytest.mark.parametrize("argv", tour_params(slow=True))
def test_slow_tour_command_runs_outside_the_clone(tmp_path: Path, argv: list[str]) -> None:
    check_tour_command(tmp_path, argv, SLOW_TIMEOUT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_dashboard_serves_from_outside_the_clone_and_stops(tmp_path: Path) -> None:
    """`mcplan dashboard` (on a free port, not the README's 8501 that may be in use) answers
    Streamlit's health check; a SIGTERM stops it and the server it started."""
    (argv,) = [argv for argv in TOUR if argv[1] == "dashboard"]
    port = free_port()
    args = [*argv[1:], "--port", str(port)]
    out, err = tmp_path / "dashboard.out", tmp_path / "dashboard.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [*installed_mcplan(), *args],
            cwd=tmp_path,
            env=user_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        health, deadline = "", time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    health = reply.read().decode()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert proc.poll() is None, f"the dashboard exited {proc.returncode}:\n{err.read_text()}"
        assert health == "ok", f"no health check answer on port {port}:\n{err.read_text()}"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        assert not group_left(proc.pid), "the dashboard left its server running"
        assert code == 130 and "interrupted" in err.read_text(), (code, err.read_text())
        assert "Traceback" not in out.read_text() + err.read_text(), err.read_text()
    finally:
        if proc.poll() is None:
            stop_group(proc.pid)
            proc.wait()
        stop_group(proc.pid)


def console_sessions() -> list[list[list[str]]]:
    """Each ```console block of README.md whose lines are `$ mcplan ...`: a session whose commands
    depend on one another (a file one writes, the next reads), as argument lists."""
    sessions = []
    for block in re.findall(r"^```console\n(.*?)^```", README.read_text("utf-8"), re.M | re.S):
        steps = [shlex.split(line[2:], comments=True) for line in block.splitlines()]
        steps = [argv for argv in steps if argv and argv[0] == "mcplan"]
        if steps:
            sessions.append(steps)
    return sessions


def test_the_readme_still_has_its_round_trip() -> None:
    """The Terraform round trip of issue 20: import, plan, the three exports, the strategy diff."""
    (steps,) = console_sessions()
    commands = [argv[1] for argv in steps]
    assert commands == ["import", "plan", "export", "export", "export", "compare"]


@pytest.mark.slow
def test_the_readme_round_trip_runs_in_order_outside_the_clone(tmp_path: Path) -> None:
    """Each `$ mcplan` line of the round trip, in order, in one folder outside the clone: each
    exits 0 without a traceback, and what one writes the next reads."""
    (steps,) = console_sessions()
    for argv in steps:
        run = run_in(tmp_path, argv[1:], SLOW_TIMEOUT)
        shown = f"`{shlex.join(argv)}`"
        assert run.code == 0, f"{shown} exited {run.code}:\n{run.stderr}"
        assert "Traceback" not in run.stdout + run.stderr, f"{shown}:\n{run.stderr}"
    plan = json.loads((tmp_path / "shop-plan.json").read_text(encoding="utf-8"))
    bill = json.loads((tmp_path / "shop-infracost.json").read_text(encoding="utf-8"))
    assert round(float(bill["totalMonthlyCost"]), 2) == round(plan["objective_usd_per_month"], 2)
    assert any((tmp_path / "shop-terraform").rglob("*.tf"))
    assert any((tmp_path / "shop-karmada").rglob("*.yaml"))
    diff = json.loads(run.stdout)  # the last step prints the diff
    assert diff["projects"][0]["metadata"]["strategies"]["head"] == "optimal"
