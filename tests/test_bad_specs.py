"""A corpus of bad application specs, run through the real CLI.

Every bad spec must end with exit code 2, nothing on standard output, and a message on standard
error that names the file and the place inside it, without a traceback. Specs that are well formed
but cannot all hold must end with exit code 3 and an explanation in the user's terms. Hostile
inputs (alias bombs, huge or binary files, YAML tags that would run code) must be refused quickly,
in bounded memory, and without running anything.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from planner.catalog import Catalog
from planner.errors import SpecError, did_you_mean
from planner.optimize import make_plan
from planner.spec import load_spec, spec_from_text

FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad_specs"
INFEASIBLE = FIXTURES / "infeasible_specs"
MEMORY_LIMIT = 2 * 1024**3  # address space for one CLI run; an expanded alias bomb needs far more


@dataclass
class Run:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str


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
        timeout=60,
        cwd=cwd,
        preexec_fn=_limit_memory if limit_memory else None,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


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


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Run each corpus file through the CLI once, on first use, and remember the result."""
    cwd = tmp_path_factory.mktemp("corpus-cwd")
    done: dict[str, Run] = {}

    def get(name: str) -> Run:
        if name not in done:
            done[name] = plan(BAD / name, cwd)
        return done[name]

    return get


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
    used = {c[0] for c in CORPUS} | {
        "python_tag.yaml",
        "billion_laughs.yaml",
        "alias_bomb_wide.yaml",
    }
    assert {p.name for p in BAD.iterdir()} == used


def test_python_tag_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    """`!!python/object/apply:os.system` is a YAML error at its line; the command never runs."""
    spec = BAD / "python_tag.yaml"
    run = plan(spec, tmp_path)
    assert_input_error(run, spec, "line 2", "not valid YAML", "python/object/apply:os.system")
    assert not (tmp_path / "pwned-by-yaml").exists(), "the YAML tag ran a shell command"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("billion_laughs.yaml", ["description"]),
        ("alias_bomb_wide.yaml", ["more than 200 YAML aliases", "alias bomb"]),
    ],
)
def test_alias_bomb_is_refused_fast_in_bounded_memory(
    tmp_path: Path, name: str, expected: list[str]
) -> None:
    """Aliases are never expanded: refused in seconds, within a 2 GiB address space."""
    spec = BAD / name
    run = plan(spec, tmp_path, limit_memory=True)
    assert_input_error(run, spec, *expected)
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
    assert_input_error(plan(spec, tmp_path), spec, "no such file", "mcplan examples")


def test_directory_as_spec(tmp_path: Path) -> None:
    """A folder passed as the spec is an input error, not an IsADirectoryError traceback."""
    folder = tmp_path / "specs"
    folder.mkdir()
    assert_input_error(plan(folder, tmp_path), folder, "not a regular file")


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
INFEASIBLE_CASES = [
    # (file, fragments of the explanation, in the user's terms)
    ("kr_aws_survive_provider.yaml", ["`web`", "provider outage", "two providers", "aws"]),
    ("latency_1ms.yaml", ["`web`", "latency"]),
    ("rto_zero_warm_standby.yaml", ["`web`", "warm_standby", "RTO"]),
    ("budget_one_dollar.yaml", ["budget of $1.00"]),
    ("budget_below_cheapest.yaml", ["budget of $100.00"]),
]


def _reasons(stderr: str) -> list[str]:
    """The bullet lines of an infeasibility explanation."""
    return [line[4:] for line in stderr.splitlines() if line.startswith("  - ")]


@pytest.fixture(scope="module")
def infeasible_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """Run each infeasible spec through the CLI once, on first use, and remember the result."""
    cwd = tmp_path_factory.mktemp("infeasible-cwd")
    done: dict[str, Run] = {}

    def get(name: str) -> Run:
        if name not in done:
            done[name] = plan(INFEASIBLE / name, cwd)
        return done[name]

    return get


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
