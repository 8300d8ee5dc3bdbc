"""A corpus of bad inputs, run through the real CLI (issue 17).

Every bad spec must end with exit code 2, nothing on standard output, and a message on standard
error that names the file and the place inside it, without a traceback. Specs that are well formed
but cannot all hold must end with exit code 3 and an explanation in the user's terms. Hostile
inputs (alias bombs, huge or binary files, YAML tags that would run code) must be refused quickly,
in bounded memory, and without running anything.

Each case runs once, in its own folder. A hostile case (alias bombs, deep nesting, YAML tags,
generated megabyte files) and a case that reaches the solver (exit 3) run as `python -m planner
...` in a process of their own, a few at a time, under a 2 GiB address-space cap and a timeout (a
guard against a hang, not a speed target): the cap, the solver's own output and a crash are what
a process shows. Every other case is refused before any solving, and runs in this process
through `planner.cli.main` with its standard output and error captured, under the same timeout:
it starts no solver and holds nothing the memory cap would catch, and it saves a Python start
and the library's import per case. The contract every case is held to
(`test_bad_input_is_refused_with_a_fix`): exit 2 (or 3 when the case is well formed but
impossible), no traceback and no "this is a bug", nothing on standard
output, standard error naming the file or the option and at most 64 KiB long, nothing solved
before a bad input is refused (no progress line), and a fix in every message. "A fix" is what the
docs promise ("each problem names the file, the path inside the spec, the value found, and a
fix"): every listed problem carries the project's `Fix:` clause, or tells the user what to do in
its own words (the case then names that instruction in `fix`); a message with no problem list
(`--out` refusals, argparse) must contain its case's `fix`; an infeasibility explanation must say
what to relax or choose. A message that only says what is wrong is not a fix.

Spec fixtures say in their first comment which mistake they show; generated and command-line
cases say it in `why`. A case that found a bug in the planner carries `bug`: it is marked
xfail(strict=True) with the exact message, for the owner to fix and then unmark.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from planner.catalog import Catalog
from planner.errors import SpecError, did_you_mean
from planner.optimize import make_plan
from planner.spec import load_spec, spec_from_text

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad_specs"
INFEASIBLE = FIXTURES / "infeasible_specs"
MEMORY_LIMIT = 2 * 1024**3  # address space for one CLI run; an expanded alias bomb needs far more
TIMEOUT = 60  # seconds for one CLI run: a hang fails the case; timing belongs in benchmarks
WORKERS = min(4, (os.cpu_count() or 2) + 1)  # CLI runs at once; most of each is the import
STDERR_LIMIT = 64 * 1024  # a message is for reading: it must not echo a megabyte back


@dataclass
class Run:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    cwd: Path | None = None


def _limit_memory() -> None:
    """In the child: cap the address space so a runaway expansion fails instead of swapping."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def plan(spec: Path | str, cwd: Path, limit_memory: bool = False) -> Run:
    """Run `python -m planner plan SPEC --quiet` in `cwd` and capture everything. The timeout is
    a guard against a hang (the test fails), not a speed target: timing belongs in benchmarks."""
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "plan", str(spec), "--quiet"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        preexec_fn=_limit_memory if limit_memory else None,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


class _Hung(BaseException):
    """Raised by the alarm in a run still going after TIMEOUT seconds. A BaseException, so the
    CLI's own `except Exception` cannot swallow it."""


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise _Hung

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_in_process(args: tuple[str, ...], cwd: Path) -> Run:
    """`mcplan ARGS` in `cwd` through `planner.cli.main`, as `python -m planner` runs it: its exit
    code (argparse's SystemExit included), standard output and error captured, an exception that
    escapes written as the traceback Python would print, and a run still going after TIMEOUT
    seconds stopped and reported as timed out."""
    from planner.cli import main

    out, err = StringIO(), StringIO()
    here = Path.cwd()
    timed_out = False
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err), _alarm(TIMEOUT):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's refusals, --help, --version
                if isinstance(exc.code, str):
                    err.write(exc.code + "\n")
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except _Hung:
                timed_out, code = True, -signal.SIGALRM
            except BaseException:  # noqa: BLE001 - what would reach the user as a traceback
                err.write(traceback.format_exc())
                code = 1
    finally:
        os.chdir(here)
    return Run(code, out.getvalue(), err.getvalue(), timed_out=timed_out, cwd=cwd)


def run_all(
    jobs: Mapping[str, tuple[tuple[str, ...], Path]],
    outputs: Path,
    in_process: frozenset[str] = frozenset(),
) -> dict[str, Run]:
    """Run every job (`python -m planner ARGS` in its folder): those named in `in_process`
    through `run_in_process`, one at a time between looks at the others; the rest each in its
    own process, WORKERS at a time, each under the memory cap, and a run still going after
    TIMEOUT seconds is killed and reported as timed out. Processes are started and watched from
    this thread only (no threads: `preexec_fn` is not safe beside them), and their output goes
    to files in `outputs`, so no pipe fills; each file is removed once read."""
    local = [(key, job) for key, job in jobs.items() if key in in_process]
    pending = [(key, job) for key, job in jobs.items() if key not in in_process]
    running: dict[str, tuple[subprocess.Popen[bytes], float, Path]] = {}
    done: dict[str, Run] = {}
    while pending or running or local:
        while pending and len(running) < WORKERS:
            key, (args, cwd) = pending.pop(0)
            slot = outputs / str(len(jobs) - len(pending))  # 1, 2, ... in start order
            with open(f"{slot}.out", "wb") as out, open(f"{slot}.err", "wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "planner", *args],
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    preexec_fn=_limit_memory,
                )
            running[key] = (proc, time.monotonic(), slot)
        for key, (proc, started, slot) in list(running.items()):
            code = proc.poll()
            late = code is None and time.monotonic() - started > TIMEOUT
            if late:
                proc.kill()
                code = proc.wait()
            if code is None:
                continue
            del running[key]
            out, err = Path(f"{slot}.out"), Path(f"{slot}.err")
            done[key] = Run(
                code,
                out.read_text(encoding="utf-8", errors="replace"),
                err.read_text(encoding="utf-8", errors="replace"),
                timed_out=late,
                cwd=jobs[key][1],
            )
            out.unlink()
            err.unlink()
        if local:  # the processes run on while this one works through a case of its own
            key, (args, cwd) = local.pop(0)
            done[key] = run_in_process(args, cwd)
        else:
            time.sleep(0.02)
    return done


def assert_input_error(run: Run, spec: Path | str, *expected: str) -> None:
    """Exit 2, empty stdout, no traceback, the file and every expected fragment on stderr."""
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.code == 2, f"exit {run.code}, stderr:\n{run.stderr}"
    assert run.stdout == ""
    assert str(spec) in run.stderr, f"stderr does not name {spec}:\n{run.stderr}"
    for text in expected:
        assert text in run.stderr, f"{text!r} not in stderr:\n{run.stderr}"


# ---------------------------------------------------------------- the committed corpus
CORPUS = [
    # (file, number of problems, fragments stderr must contain: the place inside the file first)
    ("wrong_type_vcpu.yaml", 1, ["services[0].demand.vcpu", "valid number", "got 'lots'"]),
    (
        "negative_demand.yaml",
        1,
        ["services[0].demand.mem_gib", "greater than or equal to 0", "got -8"],
    ),
    # the typo is two problems: an unknown key, and the real key missing
    (
        "unknown_key_typo.yaml",
        2,
        ["services[0].deamnd", "remove `deamnd`", "services[0].demand", "Field required"],
    ),
    (
        "unknown_dependency.yaml",
        1,
        ["dependencies[0].to", "unknown service", "did you mean `orders-db`"],
    ),
    (
        "unknown_exclude_region.yaml",
        1,
        ["policy.exclude_regions[0]", "unknown region", "did you mean", "`aws/us-east-1`"],
    ),
    (
        "unknown_provider.yaml",
        1,
        ["services[0].providers[0]", "unknown provider", "did you mean `aws`"],
    ),
    (
        "unknown_category.yaml",
        1,
        ["services[0].category", "unknown service category", "did you mean `compute.vm`"],
    ),
    (
        "unknown_jurisdiction.yaml",
        1,
        ["services[0].residency[0]", "no region has this jurisdiction", "got 'XX'"],
    ),
    ("duplicate_service.yaml", 1, ["services", "`web` is used twice"]),
    ("shares_not_one.yaml", 1, ["users", "user shares must add up to 1", "got 0.9"]),
    ("empty.yaml", 1, ["the file is empty"]),
    ("just_a_list.yaml", 1, ["the top level must be a mapping", "got 'list'"]),
    ("invalid_syntax.yaml", 1, ["line 7, column 9", "not valid YAML"]),
    ("binary.bin", 1, ["not UTF-8"]),
    ("nul_bytes.yaml", 1, ["not valid YAML"]),
    # silently wrong before: the last key won, true was 1 vCPU, web and Web were two services
    ("duplicate_key.yaml", 1, ["line 6, column 5", "the key `demand` is given twice", "keep one"]),
    ("bool_as_number.yaml", 1, ["services[0].demand.vcpu", "not true or false", "e.g. 16"]),
    ("nan_demand.yaml", 1, ["services[0].demand.vcpu", "finite number", "not .nan"]),
    ("names_differ_in_case.yaml", 1, ["`web` and `Web` differ only in upper/lower case"]),
    ("deep_nesting.yaml", 1, ["nested more than 64 levels deep"]),
    (
        "mutual_dependency.yaml",
        1,
        ["dependencies", "web -> api -> web", "dependencies[0], dependencies[1]", "remove one"],
    ),
]
HOSTILE = ["python_tag.yaml", "billion_laughs.yaml", "alias_bomb_wide.yaml"]
INFEASIBLE_CASES = [
    # (file, fragments of the explanation, in the user's terms)
    (
        "kr_aws_survive_provider.yaml",
        ["`web`", "provider outage", "two providers", "aws", "relax policy.survive to `zone`"],
    ),
    ("latency_1ms.yaml", ["`web`", "latency"]),
    ("rto_zero_warm_standby.yaml", ["`web`", "warm_standby", "RTO"]),
    ("budget_one_dollar.yaml", ["budget of $1.00", "raise policy.budget_per_month to at least"]),
    ("budget_below_cheapest.yaml", ["budget of $100.00", "raise policy.budget_per_month"]),
]


# ---------------------------------------------------------------- the contract's cases
@dataclass(frozen=True)
class Case:
    """One bad input and what its refusal must say."""

    id: str
    args: tuple[str, ...]  # after `python -m planner`, run in the case's own folder
    names: str  # the file or the option standard error must name
    expect: tuple[str, ...] = ()  # fragments standard error must contain
    code: int = 2
    problems: int | None = 1  # problems listed for the one mistake (None: not counted)
    fix: str = ""  # an instruction in the message's own words, accepted in place of `Fix:`
    forbid: tuple[str, ...] = ()  # fragments standard error must not contain
    bug: str = ""  # the planner bug this case shows: xfail(strict=True) with this reason
    why: str = ""  # the mistake, for cases that are not a commented fixture
    make: Callable[[Path], None] | None = field(default=None, compare=False)  # writes its input


# Cases whose bug (the `bug=` text, kept as the record of what was wrong) has been fixed since the
# corpus found it: they run as plain cases and must pass.
FIXED = {
    "yaml_unhashable_key.yaml",
    "type_demand_string.yaml",
    "type_huge_integer.yaml",
    "type_services_mapping.yaml",
    "type_demand_list.yaml",
    "type_residency_string.yaml",
    "type_max_regions_fraction.yaml",
    "type_name_number.yaml",
    "type_services_empty_list.yaml",
    "name_empty.yaml",
    "name_with_space.yaml",
    "name_fullwidth.yaml",
    "name_65_chars.yaml",
    "name_app_81_chars.yaml",
    "name_reserved_chars.yaml",
    "ref_unknown_tier.yaml",
    "ref_unknown_dr.yaml",
    "policy_unknown_survive.yaml",
    "policy_availability_100.yaml",
    "size_alias_bomb_in_services.yaml",
    "gen:10000-services",
    "gen:2mb-app-name",
    "billion_laughs.yaml",
    "yaml_unclosed_quote.yaml",
    "yaml_top_level_services_list.yaml",
    "yaml_scalar_file.yaml",
    "yaml_two_documents.yaml",
    "yaml_null_key.yaml",
    "type_app_date.yaml",
    "ref_self_dependency.yaml",
    "ref_exclude_provider_unknown.yaml",
    "size_alias_count.yaml",
    "infeasible_kr_naver_survive_provider.yaml",
    "cli:time-limit-negative",
    "cli:time-limit-word",
    "cli:time-limit-nan",
    "cli:threads-zero",
    "cli:price-below-minus-100",
    "cli:bandwidth-negative",
    "duplicate_service.yaml",
    "just_a_list.yaml",
    "nul_bytes.yaml",
    "alias_bomb_wide.yaml",
    "infeasible/kr_aws_survive_provider.yaml",
    "infeasible/budget_one_dollar.yaml",
}


def bad(name: str, *expect: str, code: int = 2, **kw: Any) -> Case:
    """A committed spec fixture, planned. Infeasible ones run --quiet (the explanation alone)
    and must name the service in conflict (an explanation names no file); bad ones run without
    --quiet, so a progress line would show that solving began."""
    path = str(BAD / name)
    args = ("plan", path, "--quiet") if code == 3 else ("plan", path)
    return Case(name, args, (expect[0] if code == 3 else path), expect, code, **kw)


def no_fix(kind: str, line: str) -> str:
    """The reason for a problem that lacks a fix because `_FIXES` has no entry for its type."""
    return (
        f"no fix: planner/spec/model.py _FIXES has no entry for pydantic's `{kind}`, so the "
        f"problem is only what is wrong: `{line}`"
    )


OK_SPEC = """\
app: ok
policy: {survive: region}
services:
  - {name: web, category: compute.vm, demand: {vcpu: 4, mem_gib: 8}}
"""
EXISTING = "an existing file that --out must not replace\n"


def cli(case_id: str, why: str, *args: str, names: str, **kw: Any) -> Case:
    """A command-line mistake, run in a folder holding a valid `ok.yaml` and `exists.txt`."""
    return Case(f"cli:{case_id}", args, names, why=why, problems=None, **kw)


def _write_services(count: int) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        rows = (
            f"  - {{name: s{i}, category: compute.vm, demand: {{vcpu: 1}}}}" for i in range(count)
        )
        (folder / "many.yaml").write_text("app: many\nservices:\n" + "\n".join(rows) + "\n")

    return write


def _write_3mb(folder: Path) -> None:
    row = "  - {name: svc-%05d, category: compute.vm, demand: {vcpu: 4, mem_gib: 8}}\n"
    with (folder / "big.yaml").open("w", encoding="utf-8") as f:
        f.write("app: big\nservices:\n")
        i = 0
        while f.tell() < 3 * 1024 * 1024:
            f.write(row % i)
            i += 1


def _write_long_name(folder: Path) -> None:
    text = "app: " + "x" * 2_000_000 + "\nservices:\n" + OK_SPEC.split("services:\n")[1]
    (folder / "long.yaml").write_text(text, encoding="utf-8")


def generated(case_id: str, why: str, file: str, make: Callable[[Path], None], **kw: Any) -> Case:
    """A spec too big to commit, written into the case's folder before it runs."""
    return Case(f"gen:{case_id}", ("plan", file), file, why=why, make=make, **kw)


LITERAL = "literal_error"
QUOTE_CONTEXT = (
    "planner/safeyaml.py reports PyYAML's `problem` and `problem_mark` only and drops its "
    "`context` and `context_mark`"
)
TOP_LEVEL = (
    "no fix, and `rstrip('.')` cuts the message's `...` (`with app, services,  (got ...)`): "
    "`the top level must be a mapping with app, services,  (got '{}').`"
)
CASES: list[Case] = [
    # ------------------------------------------------------------ YAML syntax
    bad("yaml_tab_indent.yaml", "line 7, column 1", "not valid YAML"),
    bad(
        "yaml_unclosed_quote.yaml",
        "line 2",
        "quoted scalar",
        bug=f"the error points at the end of the file, not at the quote on line 2 ({QUOTE_CONTEXT}"
        "): `line 5, column 1: not valid YAML: found unexpected end of stream. Fix: check "
        "indentation, colons and quotes near that line`",
    ),
    bad("yaml_unclosed_bracket.yaml", "line 7, column 11", "expected ',' or ']'"),
    bad(
        "yaml_top_level_services_list.yaml",
        "the top level must be a mapping",
        bug=TOP_LEVEL.format("list"),
    ),
    bad("yaml_scalar_file.yaml", "the top level must be a mapping", bug=TOP_LEVEL.format("str")),
    bad("yaml_only_comments.yaml", "the file is empty"),
    bad("yaml_bom_only.yaml", "the file is empty"),
    # a BOM and CRLF line ends change nothing: no stray key, the same line numbers
    bad(
        "yaml_bom_crlf_unknown_provider.yaml",
        "services[0].providers[0]",
        "unknown provider",
        "got 'amazon'",
        forbid=("\ufeff", "Extra inputs"),
    ),
    bad("yaml_bom_crlf_duplicate_key.yaml", "line 8, column 5", "the key `demand` is given twice"),
    bad("yaml_utf16.yaml", "not UTF-8"),
    bad(
        "yaml_two_documents.yaml",
        "line 5, column 1",
        "single document",
        bug=f"the message is half a sentence and its fix does not apply ({QUOTE_CONTEXT}: "
        "`expected a single document in the stream`): `line 5, column 1: not valid YAML: but "
        "found another document. Fix: check indentation, colons and quotes near that line`",
    ),
    bad("yaml_no_space_after_colon.yaml", "line 6, column 5", "could not find expected ':'"),
    bad("yaml_cloudformation_tag.yaml", "line 2, column 6", "'!Ref'"),
    bad(
        "yaml_null_key.yaml",
        "line 3, column 1",
        "a key is empty",
        forbid=("None:",),
        bug="no fix, and the place is Python's `None`: `yaml_null_key.yaml, None: Keys should be "
        "strings.`",
    ),
    bad(
        "yaml_unhashable_key.yaml",
        "line 3",
        bug="exit 1, a bug: `mcplan: unexpected error (TypeError: unhashable type: 'list'). "
        "This is a bug in mcplan` (safeyaml.py construct_mapping calls `seen.add(key)` on a "
        "list key before PyYAML's own `found unhashable key` check)",
    ),
    bad("yaml_bad_indent_dedent.yaml", "line 6, column 4", "not valid YAML"),
    # ------------------------------------------------------------ types
    bad(
        "type_demand_string.yaml",
        "services[0].demand",
        bug=no_fix(
            "model_type",
            "services[0].demand: Input should be a valid dictionary or instance of Demand "
            "(got '4 vcpu, 8 GiB').",
        ),
    ),
    bad("type_mem_with_unit.yaml", "services[0].demand.mem_gib", "got '8Gi'"),
    bad("type_zero_demand.yaml", "services[0].demand", "demand is empty", fix="give at least one"),
    bad("type_huge_vcpu.yaml", "services[0].demand.vcpu", "at most 1000000"),
    bad(
        "type_huge_integer.yaml",
        "services[0].demand.vcpu",
        bug="no fix, and a wrong diagnosis (it is a number, only too large): `services[0].demand"
        ".vcpu: Input should be a valid number (got 9999...9).` with all 400 digits",
    ),
    bad(
        "type_nan_spellings.yaml",
        "services[0].demand.vcpu",
        "services[0].demand.mem_gib",
        "services[0].demand.storage_gb",
        "finite number",
        problems=3,
    ),
    bad(
        "type_inf_spellings.yaml",
        "services[0].demand.vcpu",
        "services[0].demand.mem_gib",
        "services[0].demand.storage_gb",
        "services[0].rto_minutes",
        "finite number",
        problems=4,
    ),
    bad(
        "type_yes_as_number.yaml",
        "services[0].demand.vcpu",
        "services[0].demand.mem_gib",
        "not true or false",
        problems=2,
        fix="write e.g. 16",
    ),
    bad("type_bool_field_word.yaml", "services[0].stateful", "got 'maybe'"),
    bad(
        "type_services_mapping.yaml",
        "services",
        bug=no_fix("tuple_type", "services: Input should be a valid tuple."),
    ),
    bad(
        "type_demand_list.yaml",
        "services[0].demand",
        bug=no_fix(
            "model_type",
            "services[0].demand: Input should be a valid dictionary or instance of Demand.",
        ),
    ),
    bad(
        "type_residency_string.yaml",
        "services[0].residency",
        bug=no_fix(
            "tuple_type", "services[0].residency: Input should be a valid tuple (got 'KR')."
        ),
    ),
    bad(
        "type_max_regions_fraction.yaml",
        "services[0].max_regions",
        bug=no_fix(
            "int_from_float",
            "services[0].max_regions: Input should be a valid integer, got a number with a "
            "fractional part (got 2.5).",
        ),
    ),
    bad(
        "type_name_number.yaml",
        "services[0].name",
        bug=no_fix("string_type", "services[0].name: Input should be a valid string (got 404)."),
    ),
    bad(
        "type_app_date.yaml",
        "app",
        forbid=("datetime.date",),
        bug=no_fix(
            "string_type",
            "app: Input should be a valid string (got datetime.date(2024, 5, 1)).",
        )
        + "; the value is shown as Python's repr",
    ),
    bad(
        "type_services_empty_list.yaml",
        "services",
        bug=no_fix(
            "too_short", "services: Tuple should have at least 1 item after validation, not 0."
        ),
    ),
    bad("type_negative_rto.yaml", "services[0].rto_minutes", "got -5"),
    # ------------------------------------------------------------ names
    bad(
        "name_empty.yaml",
        "services[0].name",
        bug=no_fix(
            "string_too_short", "services[0].name: String should have at least 1 character."
        ),
    ),
    bad(
        "name_with_space.yaml",
        "services[0].name",
        "got 'orders db'",
        bug=no_fix(
            "string_pattern_mismatch",
            "services[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_\\-]*$' "
            "(got 'orders db').",
        ),
    ),
    bad("name_cyrillic_lookalike.yaml", "dependencies[0].from", "did you mean `web`"),
    bad(
        "name_fullwidth.yaml",
        "services[0].name",
        bug=no_fix(
            "string_pattern_mismatch",
            "services[0].name: String should match pattern '^[A-Za-z0-9][A-Za-z0-9_\\-]*$' "
            "(got 'ｗｅｂ').",
        ),
    ),
    bad(
        "name_65_chars.yaml",
        "services[0].name",
        bug=no_fix(
            "string_too_long",
            "services[0].name: String should have at most 64 characters (got 'aaa...a').",
        ),
    ),
    bad(
        "name_app_81_chars.yaml",
        "app",
        bug=no_fix("string_too_long", "app: String should have at most 80 characters (got ...)."),
    ),
    bad(
        "name_users_differ_in_case.yaml",
        "`Seoul` and `SEOUL` differ only in upper/lower case",
        fix="rename one",
    ),
    bad(
        "name_reserved_chars.yaml",
        "services[0].name",
        bug=no_fix(
            "string_pattern_mismatch",
            "services[0].name: String should match pattern ... (got 'orders/db:primary').",
        ),
    ),
    # ------------------------------------------------------------ references
    bad("ref_unknown_from.yaml", "dependencies[0].from", "got 'frontend'", "use one of: db, web"),
    bad(
        "ref_self_dependency.yaml",
        "dependencies[0]",
        "cannot depend on itself",
        bug="no fix (check_against_catalog builds the Problem without one): "
        "`dependencies[0]: a service cannot depend on itself.`",
    ),
    bad("ref_cycle_three.yaml", "web -> api -> db -> web", "dependencies[2]"),
    bad("ref_provider_upper_case.yaml", "services[0].providers[0]", "did you mean `aws`"),
    bad("ref_residency_lower_case.yaml", "services[0].residency[0]", "did you mean `KR`"),
    bad("ref_residency_uk.yaml", "services[0].residency[0]", "did you mean `GB`"),
    bad("ref_category_trailing_space.yaml", "services[0].category", "did you mean `db.relational`"),
    bad(
        "ref_unknown_tier.yaml",
        "services[0].tiers[0]",
        bug=no_fix(
            LITERAL, "services[0].tiers[0]: Input should be 'IaaS', 'PaaS' or 'SaaS' (got 'Iaas')."
        ),
    ),
    bad("ref_tier_not_allowed.yaml", "services[0].tiers", "`cache` cannot run as SaaS"),
    bad(
        "ref_exclude_provider_unknown.yaml",
        "policy.exclude_providers[0]",
        "got 'ncp'",
        forbid=("did you mean `gcp`",),
        bug="a wrong fix: `ncp` is Naver Cloud Platform, and following the suggestion excludes "
        "Google instead: `policy.exclude_providers[0]: unknown provider (got 'ncp'). Fix: did you "
        "mean `gcp`?` (planner/errors.py _ALIASES knows UK -> GB, not NCP -> naver)",
    ),
    bad("ref_forbid_provider_unknown.yaml", "services[0].forbid_providers[0]", "`gcp`"),
    bad("ref_region_without_provider.yaml", "policy.exclude_regions[0]", "`aws/ap-northeast-2`"),
    bad(
        "ref_unknown_dr.yaml",
        "services[0].dr",
        bug=no_fix(
            LITERAL,
            "services[0].dr: Input should be 'active_active', 'warm_standby', 'pilot_light', "
            "'backup_restore' or 'auto' (got 'active-active').",
        ),
    ),
    bad("ref_dependency_key_typo.yaml", "dependencies[0].latency_ms", "`max_latency_ms`"),
    bad("ref_policy_key_typo.yaml", "policy.survives", "did you mean `survive`"),
    # ------------------------------------------------------------ policy
    bad(
        "policy_unknown_survive.yaml",
        "policy.survive",
        bug=no_fix(
            LITERAL,
            "policy.survive: Input should be 'none', 'zone', 'region', 'provider' or 'site' "
            "(got 'datacenter').",
        ),
    ),
    bad("policy_max_providers_zero.yaml", "policy.max_providers", "at least 1"),
    bad("policy_max_providers_eleven.yaml", "policy.max_providers", "at most 10"),
    bad("policy_budget_zero.yaml", "policy.budget_per_month", "got 0"),
    bad("policy_budget_negative.yaml", "policy.budget_per_month", "got -500"),
    bad("policy_private_share_above_one.yaml", "policy.private_share_min", "at most 1"),
    bad(
        "policy_availability_100.yaml",
        "policy.availability_target",
        "less than 100",
        forbid=("at most 100",),
        bug="the fix contradicts the bound (100 is what was refused): `policy.availability_"
        "target: Input should be less than 100 (got 100). Fix: use a value of at most 100.0` "
        "(_FIXES reads `lt` as `at most`)",
    ),
    bad("policy_availability_fraction.yaml", "policy.availability_target", "got 0.9995"),
    # ------------------------------------------------------------ users
    bad("users_shares_over_one.yaml", "users", "must add up to 1", "got 1.4"),
    bad("users_shares_percent.yaml", "users[0].share", "users[1].share", problems=2),
    bad("users_latency_zero.yaml", "users[0].max_latency_ms", "got 0"),
    bad("users_lat_out_of_range.yaml", "users[0].lat", "got 95"),
    bad("users_lat_lon_swapped.yaml", "users[0].lat", "got 126.98"),
    bad("users_lon_out_of_range.yaml", "users[0].lon", "got -200"),
    # ------------------------------------------------------------ traffic (issues 15 and 16)
    bad(
        "traffic_write_on_stateless.yaml",
        "services[0]",
        "write_gb_per_month",
        fix="set `stateful: true` or remove it",
    ),
    bad("traffic_negative_internet.yaml", "services[0].internet_gb_per_month", "got -100"),
    bad("traffic_reply_string.yaml", "dependencies[0].reply_gb_per_month", "got '2 TB'"),
    bad("traffic_dependency_latency_zero.yaml", "dependencies[0].max_latency_ms", "got 0"),
    # ------------------------------------------------------------ sizes
    bad("size_nesting_70_mappings.yaml", "nested more than 64 levels deep"),
    bad(
        "size_alias_count.yaml",
        "more than 200 YAML aliases",
        bug="no fix (safeyaml.py raises a plain YAMLError, which becomes a Problem without one): "
        "`not valid YAML: more than 200 YAML aliases (*name); the file looks like an alias "
        "bomb.`",
    ),
    bad(
        "size_alias_bomb_in_services.yaml",
        "services[8]",
        problems=9,
        bug=no_fix(
            "model_type",
            "services[0]: Input should be a valid dictionary or instance of Service.` (nine times)",
        ),
    ),
    generated(
        "3mb-file",
        "3 MB of well-formed services, over the 2 MiB cap: refused from its size",
        "big.yaml",
        _write_3mb,
        expect=("KiB limit",),
    ),
    generated(
        "10000-services",
        "10,000 services, over the limit of 5,000",
        "many.yaml",
        _write_services(10_000),
        expect=("services", "at most 5000"),
        bug=no_fix(
            "too_long",
            "services: Tuple should have at most 5000 items after validation, not 10000.",
        ),
    ),
    generated(
        "2mb-app-name",
        "an app name of 2,000,000 characters, under the file cap",
        "long.yaml",
        _write_long_name,
        expect=("app",),
        bug="the message echoes the whole 2,000,000-character value back (2 MB on standard "
        "error), and has no fix: `app: String should have at most 80 characters (got 'xxx...')`",
    ),
    # ------------------------------------------------------------ well formed, impossible: exit 3
    bad(
        "infeasible_kr_naver_survive_provider.yaml",
        "`web`",
        "provider outage",
        "naver",
        "allow `web` a second provider (aws, azure, gcp",
        "relax policy.survive to `zone`",
        code=3,
        bug="explains the conflict but says nothing to relax: `web` may only run in KR and is "
        "limited to naver; surviving a provider outage needs two providers that offer "
        "compute.vm there; it may use only 1 (naver)`",
    ),
    bad("infeasible_exclude_all_providers.yaml", "`web`", "no region left", code=3),
    bad(
        "infeasible_residency_all_regions_excluded.yaml",
        "`web`",
        "no region left",
        "7 regions",
        code=3,
    ),
    bad("infeasible_saas_on_openstack.yaml", "`sso`", "no region left", code=3),
    bad("infeasible_one_region_survive_region.yaml", "`web`", "at most 1 region", code=3),
    bad(
        "infeasible_max_providers_one_survive_provider.yaml",
        "at most 1 provider(s)",
        "raise policy.max_providers to 2",
        code=3,
    ),
    bad(
        "infeasible_dependency_latency_kr_jp.yaml",
        "`web`",
        "within 3 ms",
        "raise the max_latency_ms of the dependency web -> db to at least",
        code=3,
    ),
    # ------------------------------------------------------------ command-line misuse
    cli(
        "time-limit-negative",
        "a negative time limit",
        *("plan", "ok.yaml", "--time-limit", "-1"),
        names="--time-limit",
        fix="write e.g. --time-limit 60",
        bug="no fix: `1 problem(s) in the input: - --time-limit must be positive (seconds).` "
        "(cli.py raises InputError from a bare string, so the Problem has no fix)",
    ),
    cli(
        "time-limit-word",
        "a time limit that is not a number",
        *("plan", "ok.yaml", "--time-limit", "abc"),
        names="--time-limit",
        fix="write e.g. --time-limit 60",
        bug="no fix (argparse's own message; the usage line only shows `[--time-limit S]`): "
        "`mcplan: error: argument --time-limit: invalid float value: 'abc'`",
    ),
    cli(
        "time-limit-nan",
        "a time limit of NaN (float() accepts it; `nan <= 0` is false)",
        *("plan", "ok.yaml", "--time-limit", "nan"),
        names="--time-limit",
        fix="write e.g. --time-limit 60",
        bug="accepted: exit 0 and a plan, solved with a NaN time limit (cli.py _plan_options "
        "checks `args.time_limit <= 0`, which NaN passes)",
    ),
    cli(
        "threads-zero",
        "zero solver threads",
        *("plan", "ok.yaml", "--threads", "0"),
        names="--threads",
        fix="write e.g. --threads 1",
        bug="no fix: `1 problem(s) in the input: - --threads must be at least 1.`",
    ),
    cli(
        "gap-above-one",
        "an optimality gap of 150 %",
        *("plan", "ok.yaml", "--gap", "1.5"),
        names="--gap",
        fix="e.g. 0.001",
    ),
    cli(
        "format-yaml",
        "an output format the CLI does not write",
        *("plan", "ok.yaml", "--format", "yaml"),
        names="--format",
        fix="choose from 'table', 'json', 'csv'",
    ),
    cli(
        "out-missing-folder",
        "--out into a folder that does not exist",
        *("plan", "ok.yaml", "--out", "no-such-folder/plan.txt"),
        names="no-such-folder",
        fix="create it first",
    ),
    cli(
        "out-onto-spec",
        "--out onto the spec being planned",
        *("plan", "ok.yaml", "--out", "ok.yaml"),
        names="ok.yaml",
        fix="choose another name",
    ),
    cli(
        "out-onto-spec-forced",
        "--out onto the spec, spelled another way, with --force",
        *("plan", "ok.yaml", "--out", "./ok.yaml", "--force"),
        names="ok.yaml",
        fix="choose another name",
    ),
    cli(
        "out-existing-file",
        "--out onto an existing file without --force",
        *("plan", "ok.yaml", "--out", "exists.txt"),
        names="exists.txt",
        fix="pass --force",
    ),
    cli(
        "out-folder",
        "--out naming a folder",
        *("plan", "ok.yaml", "--out", "."),
        names=".",
        expect=("is a folder",),
        fix="give a file name",
    ),
    cli(
        "example-typo",
        "a bundled example's name misspelt",
        *("plan", "kr-ecomerce"),
        names="kr-ecomerce",
        expect=("no such file",),
    ),
    cli(
        "whatif-unknown-region",
        "whatif with a region that does not exist",
        *("whatif", "ok.yaml", "--fail", "aws/mars-1"),
        names="--fail",
        expect=("unknown region", "got 'aws/mars-1'"),
    ),
    cli(
        "whatif-unknown-incident",
        "whatif replaying an incident the catalog does not have",
        *("whatif", "ok.yaml", "--incident", "no-such-outage"),
        names="--incident",
        expect=("pangyo-2022",),
    ),
    cli(
        "whatif-nothing-fails",
        "whatif without saying what fails",
        *("whatif", "ok.yaml"),
        names="--fail",
        fix="say what fails",
    ),
    cli(
        "whatif-price-and-sweep",
        "a price change and a failure sweep in one what-if",
        *("whatif", "ok.yaml", "--sweep", "region", "--price", "provider=aws:+1%"),
        names="--price",
        fix="ask one what-if at a time",
    ),
    cli(
        "price-unknown-provider",
        "a price change for a provider that does not exist",
        *("whatif", "ok.yaml", "--price", "provider=nope:+1%"),
        names="--price",
        expect=("no provider 'nope'",),
        fix="use one of: aws, azure, gcp, naver, openstack",
    ),
    cli(
        "price-bad-change",
        "a price change that is not a percentage or a factor",
        *("whatif", "ok.yaml", "--price", "provider=aws:abc"),
        names="--price",
        fix="write KIND=NAME:CHANGE",
    ),
    cli(
        "price-below-minus-100",
        "a price falling by 150 %",
        *("whatif", "ok.yaml", "--price", "provider=aws:-150%"),
        names="--price",
        bug="no fix: `--price 'provider=aws:-150%': a price cannot fall by more than 100%.`",
    ),
    cli(
        "compare-unknown-strategy",
        "compare with a strategy that does not exist",
        *("compare", "ok.yaml", "--strategies", "optimal,nope"),
        names="nope",
        fix="use one of: cloud_bursting",
    ),
    cli(
        "strategy-unknown",
        "plan with a strategy that does not exist, refused before the spec is read",
        *("plan", "ok.yaml", "--strategy", "multi-cloud"),
        names="--strategy",
        expect=("unknown strategy `multi-cloud`", "did you mean `multi_cloud_active_active`"),
    ),
    cli(
        "replan-with-sweep",
        "--replan beside --sweep, which names no one failure to repair (it was ignored)",
        *("whatif", "ok.yaml", "--sweep", "region", "--replan"),
        names="--replan",
    ),
    cli(
        "replan-with-price",
        "--replan beside a price change, which names no failure (it was ignored)",
        *("whatif", "ok.yaml", "--price", "provider=aws:+5%", "--replan"),
        names="--replan",
    ),
    cli(
        "gap-nan",
        "a gap of NaN (float() accepts it, and every comparison with it is false)",
        *("plan", "ok.yaml", "--gap", "nan"),
        names="--gap",
        fix="write e.g. --gap 0.001",
    ),
    cli(
        "threads-fraction",
        "a fractional number of solver threads",
        *("plan", "ok.yaml", "--threads", "1.5"),
        names="--threads",
        fix="write e.g. --threads 1",
    ),
    cli(
        "dashboard-port-out-of-range",
        "a port above 65535 (it was a traceback before)",
        *("dashboard", "--port", "99999"),
        names="--port",
        fix="write e.g. --port 8501",
    ),
    cli(
        "study-workers-zero",
        "a study with zero workers (it ran with one per core instead)",
        *("study", "kr-ecommerce-study", "--workers", "0"),
        names="--workers",
        fix="write e.g. --workers 2",
    ),
    cli(
        "study-max-failures-negative",
        "a negative failure budget for a study",
        *("study", "kr-ecommerce-study", "--max-failures", "-1"),
        names="--max-failures",
        fix="write e.g. --max-failures 0.1",
    ),
    cli(
        "dashboard-address-empty",
        "an empty address for the dashboard to listen on",
        *("dashboard", "--address", " "),
        names="--address",
    ),
    cli(
        "bandwidth-negative",
        "a negative migration bandwidth for --replan",
        *("whatif", "ok.yaml", "--fail", "aws/ap-northeast-2", "--replan"),
        *("--bandwidth-gbps", "-1"),
        names="--bandwidth-gbps",
        fix="write e.g. --bandwidth-gbps 1",
        bug="checked after the plan is solved (progress lines `.. solved 1 services alone` come "
        "first; whatif_replan.replan checks it, not the CLI before planning), and no fix: "
        "`--bandwidth-gbps must be positive.`",
    ),
]

# The committed corpus and infeasible specs held to the same contract: what each one lacks.
EARLIER_BUGS = {
    "duplicate_service.yaml": "no fix (the validator's message states the rule only): "
    "`services: service name `web` is used twice; names must be unique.`",
    "just_a_list.yaml": TOP_LEVEL.format("list"),
    "nul_bytes.yaml": "no fix and no line (PyYAML's ReaderError is not a MarkedYAMLError, so "
    "safeyaml.py passes its text through): `not valid YAML: unacceptable character #x0000: "
    'special characters are not allowed\\n  in "<unicode string>", position 8.`',
    "billion_laughs.yaml": no_fix("string_type", "description: Input should be a valid string."),
    "alias_bomb_wide.yaml": "no fix (safeyaml.py raises a plain YAMLError, which becomes a "
    "Problem without one): `not valid YAML: more than 200 YAML aliases (*name); the file looks "
    "like an alias bomb.`",
    "kr_aws_survive_provider.yaml": "explains the conflict but says nothing to relax: `web` may "
    "only run in KR and is limited to aws; surviving a provider outage needs two providers "
    "that offer compute.vm there; it may use only 1 (aws)`",
    "budget_one_dollar.yaml": "says nothing to relax: `the cheapest plan that meets everything "
    "else costs about $142.37/month, over the budget of $1.00` (no `raise the budget to ...`)",
}
EARLIER_FIXES = {"bool_as_number.yaml": "write e.g. 16", "names_differ_in_case.yaml": "rename one"}
EARLIER = [
    *(
        bad(name, problems=count, fix=EARLIER_FIXES.get(name, ""), bug=EARLIER_BUGS.get(name, ""))
        for name, count, _ in CORPUS
    ),
    *(bad(name, bug=EARLIER_BUGS.get(name, "")) for name in HOSTILE),
    *(
        Case(
            f"infeasible/{name}",
            ("plan", str(INFEASIBLE / name), "--quiet"),
            expected[0],  # the service or the budget in conflict: an explanation names no file
            code=3,
            bug=EARLIER_BUGS.get(name, ""),
        )
        for name, expected in INFEASIBLE_CASES
    ),
]
ALL = CASES + EARLIER

# Inputs built to exhaust memory, recursion or the loader (what the cap and a process of their
# own are for), beside the generated megabyte files and everything that reaches the solver.
HOSTILE_FIXTURES = {
    *HOSTILE,
    "deep_nesting.yaml",
    "size_nesting_70_mappings.yaml",
    "size_alias_count.yaml",
    "size_alias_bomb_in_services.yaml",
}


def isolated(case: Case) -> bool:
    """Whether a case runs in a process of its own (see the module docstring)."""
    return case.code != 2 or case.make is not None or case.id in HOSTILE_FIXTURES


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every case of the module run once, a few at a time, each in a folder of its own holding
    a valid `ok.yaml`, an `exists.txt` and whatever the case writes (removed after the run:
    pytest keeps its temporary folders, and these files are megabytes)."""
    jobs = {}
    for case in ALL:
        folder = tmp_path_factory.mktemp("case")
        (folder / "ok.yaml").write_text(OK_SPEC, encoding="utf-8")
        (folder / "exists.txt").write_text(EXISTING, encoding="utf-8")
        if case.make is not None:
            case.make(folder)
        jobs[case.id] = (case.args, folder)
    in_process = frozenset(case.id for case in ALL if not isolated(case))
    done = run_all(jobs, tmp_path_factory.mktemp("outputs"), in_process)
    for case in ALL:
        if case.make is not None:
            (jobs[case.id][1] / case.names).unlink()
    return done


FIX_IN_EXPLANATION = re.compile(r"\b(relax|relaxing|choose|raise|allow)\b", re.IGNORECASE)


def _bullets(stderr: str) -> list[str]:
    """The listed problems (or reasons) of a message, one line each."""
    return [line[4:] for line in stderr.splitlines() if line.startswith("  - ")]


def assert_refused(run: Run, case: Case) -> None:
    """The contract of the module docstring, for one case."""
    err = run.stderr
    assert not run.timed_out, f"still running after {TIMEOUT} s; stderr so far:\n{err[:2000]}"
    assert "Traceback" not in run.stdout + err, err[:4000]
    assert "this is a bug" not in err.lower(), err[:2000]
    assert run.code == case.code, f"exit {run.code}, expected {case.code}; stderr:\n{err[:2000]}"
    assert run.stdout == "", f"a bad input printed output:\n{run.stdout[:2000]}"
    assert len(err) <= STDERR_LIMIT, f"stderr is {len(err):,} characters:\n{err[:1000]}..."
    assert case.names in err, f"stderr does not name {case.names!r}:\n{err}"
    for text in case.expect:
        assert text in err, f"{text!r} not in stderr:\n{err}"
    for text in case.forbid:
        assert text not in err, f"{text!r} in stderr:\n{err}"
    if case.code == 3:
        assert "No plan can meet every requirement" in err and _bullets(err), err
        assert FIX_IN_EXPLANATION.search(err), f"the explanation says nothing to relax:\n{err}"
        return
    progress = [line for line in err.splitlines() if line.startswith("  .. ")]
    assert not progress, f"refused only after work began:\n{err}"
    problems = _bullets(err)
    if case.problems is not None:
        assert f"{case.problems} problem(s)" in err and len(problems) == case.problems, err
    for problem in problems:
        assert "Fix: " in problem or (case.fix and case.fix in problem), f"no fix in: {problem}"
    if not problems:  # a refusal that lists no problems (--out, argparse) says it in prose
        assert case.fix and case.fix in err, f"no fix in:\n{err}"


def _param(case: Case) -> object:
    still_a_bug = case.bug and case.id not in FIXED
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if still_a_bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ALL])
def test_bad_input_is_refused_with_a_fix(runs: dict[str, Run], case: Case) -> None:
    """Exit 2 (3 when impossible), no traceback, nothing on stdout, the file or option named,
    nothing solved first, a fix for every problem; in bounded time and memory."""
    assert_refused(runs[case.id], case)


def test_out_refusals_leave_every_file_as_it_was(runs: dict[str, Run]) -> None:
    """A refused --out writes nothing: the spec and the existing file are unchanged, and no
    file (not even a temporary one) is left beside them."""
    for case in CASES:
        if "--out" not in case.args:
            continue
        folder = runs[case.id].cwd
        assert folder is not None
        assert (folder / "ok.yaml").read_text(encoding="utf-8") == OK_SPEC, case.id
        assert (folder / "exists.txt").read_text(encoding="utf-8") == EXISTING, case.id
        assert sorted(p.name for p in folder.iterdir()) == ["exists.txt", "ok.yaml"], case.id


def test_corpus_has_sixty_cases_of_its_own() -> None:
    """Issue 17: at least 60 distinct bad inputs beyond the earlier corpus, each fixture
    commented with its mistake unless it cannot hold a comment, each other case described."""
    assert len({c.id for c in CASES}) == len(CASES) >= 60
    for case in CASES:
        if case.id.startswith(("cli:", "gen:")):
            assert case.why, case.id
            continue
        head = (BAD / case.id).read_bytes()[:4]
        uncommentable = {"yaml_bom_only.yaml", "yaml_utf16.yaml"}
        assert head.lstrip(b"\xef\xbb\xbf").startswith(b"#") or case.id in uncommentable, case.id


@pytest.fixture(scope="module")
def corpus_run(runs: dict[str, Run]) -> Callable[[str], Run]:
    """The run of an earlier corpus file, from the module's one batch of runs."""
    return runs.__getitem__


@pytest.mark.parametrize(("name", "count", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_spec_is_an_input_error(
    corpus_run: Callable[[str], Run], name: str, count: int, expected: list[str]
) -> None:
    """Each bad spec: exit 2, the file and the path inside it on stderr, no traceback."""
    assert_input_error(corpus_run(name), BAD / name, *expected)


@pytest.mark.parametrize(("name", "count", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_spec_reports_one_problem_per_mistake(
    corpus_run: Callable[[str], Run], name: str, count: int, expected: list[str]
) -> None:
    """No follow-on noise: a spec with one mistake gets one problem (for example, not also
    "services should have at least 1 item" when the one service it has is wrong)."""
    run = corpus_run(name)
    assert run.code == 2, run.stderr
    reported = re.search(r"(\d+) problem\(s\)", run.stderr)
    assert reported, run.stderr
    assert int(reported.group(1)) == count, run.stderr


def test_corpus_is_complete() -> None:
    """Every committed bad spec is exercised by some test (none silently forgotten)."""
    fixtures = {c.id for c in CASES if not c.id.startswith(("cli:", "gen:"))}
    used = {c[0] for c in CORPUS} | set(HOSTILE) | fixtures
    assert {p.name for p in BAD.iterdir()} == used


def test_python_tag_is_refused_and_nothing_runs(runs: dict[str, Run]) -> None:
    """`!!python/object/apply:os.system` is a YAML error at its line; the command never runs."""
    spec = BAD / "python_tag.yaml"
    run = runs["python_tag.yaml"]
    assert_input_error(run, spec, "line 2", "not valid YAML", "python/object/apply:os.system")
    assert run.cwd is not None
    assert not (run.cwd / "pwned-by-yaml").exists(), "the YAML tag ran a shell command"
    assert sorted(p.name for p in run.cwd.iterdir()) == ["exists.txt", "ok.yaml"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("billion_laughs.yaml", ["description"]),
        ("alias_bomb_wide.yaml", ["more than 200 YAML aliases", "alias bomb"]),
    ],
)
def test_alias_bomb_is_refused_fast_in_bounded_memory(
    runs: dict[str, Run], name: str, expected: list[str]
) -> None:
    """Aliases are never expanded: refused in seconds, within a 2 GiB address space."""
    run = runs[name]
    assert_input_error(run, BAD / name, *expected)
    assert "out of memory" not in run.stderr


def test_huge_file_is_refused_by_size(tmp_path: Path) -> None:
    """A 50 MB file is refused from its size, before it is read or parsed."""
    spec = tmp_path / "huge.yaml"
    line = "- {name: padding, value: 0123456789012345678901234567890123456789}\n"
    with spec.open("w", encoding="utf-8") as f:
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            f.write(line)
    assert spec.stat().st_size >= 50 * 1024 * 1024
    try:
        run = plan(spec, tmp_path, limit_memory=True)
    finally:
        spec.unlink()  # do not keep 50 MB in pytest's temporary folders
    assert_input_error(run, spec, "KiB limit")


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is an input error that says so."""
    spec = tmp_path / "no-such-spec.yaml"
    run = run_in_process(("plan", str(spec), "--quiet"), tmp_path)
    assert_input_error(run, spec, "no such file", "mcplan examples")


def test_directory_as_spec(tmp_path: Path) -> None:
    """A folder passed as the spec is an input error, not an IsADirectoryError traceback."""
    folder = tmp_path / "specs"
    folder.mkdir()
    run = run_in_process(("plan", str(folder), "--quiet"), tmp_path)
    assert_input_error(run, folder, "not a regular file")


def test_endless_device_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """/dev/zero has size 0 on stat and never ends: refused as not a regular file (it grew to
    3.4 GB before), within a 2 GiB address space."""
    assert_input_error(plan("/dev/zero", tmp_path, limit_memory=True), "/dev/zero", "regular file")


# ---------------------------------------------------------------- through the library
THREE_MISTAKES = {
    "outside services": """
app: ""
policy: {survive: everything}
users:
  - {name: seoul, lat: 37.5, lon: 127.0, share: 0, max_latency_ms: 30}
services:
  - {name: web, category: compute.vm, demand: {vcpu: 4}}
""",
    "across services": """
app: three
policy: {survive: everything}
services:
  - {name: web, category: compute.vm, demand: {vcpu: lots}}
  - {name: db, category: db.relational, demand: {vcpu: 4}, dr: hot}
  - {name: ok, category: compute.vm, demand: {vcpu: 4}}
""",
    "in every service": """
app: three
policy: {survive: everything}
services:
  - {name: web, category: compute.vm, demand: {vcpu: lots}}
  - {name: db, category: db.relational, demand: {vcpu: 4}, dr: hot}
""",
}
THREE_MISTAKES_AT = {
    "outside services": {"app", "policy.survive", "users[0].share"},
    "across services": {"policy.survive", "services[0].demand.vcpu", "services[1].dr"},
    "in every service": {"policy.survive", "services[0].demand.vcpu", "services[1].dr"},
}


@pytest.mark.parametrize("case", list(THREE_MISTAKES))
def test_three_mistakes_give_three_problems(case: str) -> None:
    """`spec_from_text` reports every mistake at once, one Problem each, and nothing else."""
    with pytest.raises(SpecError) as info:
        spec_from_text(THREE_MISTAKES[case], "three.yaml")
    problems = info.value.problems
    assert len(problems) == 3, "\n".join(map(str, problems))
    assert {p.where for p in problems} == THREE_MISTAKES_AT[case]
    assert all(p.file == "three.yaml" for p in problems)


def test_fix_matches_the_bound() -> None:
    """A value below a minimum of 1 gets a fix about that minimum, not about negativity."""
    text = """
app: bound
services:
  - {name: web, category: compute.vm, demand: {vcpu: 4}, max_regions: 0}
  - {name: ok, category: compute.vm, demand: {vcpu: 4}}
"""
    with pytest.raises(SpecError) as info:
        spec_from_text(text, "bound.yaml")
    (p,) = info.value.problems
    assert p.where == "services[0].max_regions"
    assert "greater than or equal to 1" in p.message
    assert "not negative" not in p.fix, f"0 is not negative; the fix is misleading: {p}"


def test_control_characters_through_the_library() -> None:
    """`spec_from_text` turns a NUL byte into a SpecError, like any other unreadable YAML."""
    with pytest.raises(SpecError) as info:
        spec_from_text("app: nul\x00\nservices: []\n", "nul.yaml")
    assert info.value.problems[0].file == "nul.yaml"


# ---------------------------------------------------------------- infeasible specs
def _reasons(stderr: str) -> list[str]:
    """The bullet lines of an infeasibility explanation."""
    return [line[4:] for line in stderr.splitlines() if line.startswith("  - ")]


@pytest.fixture(scope="module")
def infeasible_run(runs: dict[str, Run]) -> Callable[[str], Run]:
    """The run of an infeasible spec, from the module's one batch of runs."""
    return lambda name: runs[f"infeasible/{name}"]


@pytest.mark.parametrize(
    ("name", "expected"), INFEASIBLE_CASES, ids=[c[0] for c in INFEASIBLE_CASES]
)
def test_infeasible_spec_is_explained(
    infeasible_run: Callable[[str], Run], name: str, expected: list[str]
) -> None:
    """Exit 3 and one sentence per conflicting requirement, in the user's terms."""
    run = infeasible_run(name)
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.code == 3, f"exit {run.code}, stderr:\n{run.stderr}"
    assert run.stdout == ""
    assert "No plan can meet every requirement" in run.stderr
    assert _reasons(run.stderr), run.stderr
    for text in expected:
        assert text in run.stderr, f"{text!r} not in stderr:\n{run.stderr}"
    # Python's spelling of "not given" is not the user's term for anything.
    assert "None" not in run.stderr, run.stderr


def test_infeasible_corpus_is_complete() -> None:
    """Every committed infeasible spec is exercised."""
    assert {p.name for p in INFEASIBLE.iterdir()} == {c[0] for c in INFEASIBLE_CASES}


@pytest.mark.parametrize("name", ["budget_one_dollar.yaml", "budget_below_cheapest.yaml"])
def test_budget_explanation_blames_only_the_budget(
    infeasible_run: Callable[[str], Run], catalog: Catalog, name: str
) -> None:
    """Without the budget the spec has a plan, so the budget is the only conflict to report,
    and the cost the explanation quotes is the real cheapest plan's cost."""
    spec_path = INFEASIBLE / name
    spec = load_spec(spec_path)
    unbudgeted = spec.model_copy(
        update={"policy": spec.policy.model_copy(update={"budget_per_month": None})}
    )
    cheapest = make_plan(unbudgeted, catalog).objective
    assert cheapest > spec.policy.budget_per_month

    run = infeasible_run(name)
    assert run.code == 3, run.stderr
    reasons = _reasons(run.stderr)
    assert reasons and all("budget" in r for r in reasons), (
        f"only the budget conflicts (the cheapest plan without it costs ${cheapest:,.2f}); "
        f"got:\n{run.stderr}"
    )
    quoted = [
        float(m.replace(",", "")) for m in re.findall(r"costs about \$([\d,.]+)/month", run.stderr)
    ]
    assert quoted, run.stderr
    assert quoted[0] == pytest.approx(cheapest, rel=0.01), (
        f"the explanation quotes ${quoted[0]:,.2f}, the cheapest plan costs ${cheapest:,.2f}"
    )
    # what to relax, by how much: a budget that the cheapest plan fits
    raise_to = re.search(r"raise policy\.budget_per_month to at least ([\d,]+)", run.stderr)
    assert raise_to, run.stderr
    assert float(raise_to.group(1).replace(",", "")) == pytest.approx(cheapest, rel=0.01)


@pytest.mark.parametrize(
    ("value", "options", "hint"),
    [
        ("AWS", ["aws", "azure", "gcp"], "did you mean `aws`?"),
        ("Gcp", ["aws", "azure", "gcp"], "did you mean `gcp`?"),
        ("UK", ["DE", "GB", "KR"], "did you mean `GB`?"),
        ("kr-ecomerce", ["kr-ecommerce", "single-dc"], "did you mean `kr-ecommerce`?"),
    ],
)
def test_did_you_mean_ignores_case_and_knows_aliases(
    value: str, options: list[str], hint: str
) -> None:
    assert did_you_mean(value, options) == hint


def test_did_you_mean_lists_what_is_valid_when_nothing_is_close() -> None:
    assert did_you_mean("zz", ["a", "b"]) == "use one of: a, b"
    many = [f"r{i:02d}" for i in range(40)]
    assert did_you_mean("xxxxxxx", many).endswith(", ... (40 in all)")


# ---------------------------------------------------------------- the in-process runner itself
def test_in_process_run_reports_what_a_process_would_show(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An exception that escapes the CLI is a traceback on standard error and exit 1, as under
    `python -m planner`; argparse's refusal is its exit code; the folder is the case's and is
    left afterwards."""
    import planner.cli

    def escapes(argv: list[str]) -> int:
        assert Path.cwd() == tmp_path
        raise RuntimeError("escaped")

    here = Path.cwd()
    monkeypatch.setattr(planner.cli, "main", escapes)
    run = run_in_process(("plan", "ok.yaml"), tmp_path)
    assert run.code == 1 and "Traceback" in run.stderr and "RuntimeError: escaped" in run.stderr
    assert Path.cwd() == here
    monkeypatch.undo()
    refused = run_in_process(("plan", "ok.yaml", "--format", "yaml"), tmp_path)
    assert refused.code == 2 and "invalid choice" in refused.stderr and refused.stdout == ""


def test_in_process_run_stops_a_hang(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A run still going after the timeout is stopped and reported as timed out, even through
    the CLI's own `except Exception`."""
    import planner.cli

    def hangs(argv: list[str]) -> int:
        try:
            time.sleep(30)
        except Exception:  # noqa: BLE001 - what main's last line of defence does
            return 1
        return 0

    monkeypatch.setattr(planner.cli, "main", hangs)
    monkeypatch.setattr(sys.modules[__name__], "TIMEOUT", 1)
    run = run_in_process(("plan", "ok.yaml"), tmp_path)
    assert run.timed_out and run.code != 0
