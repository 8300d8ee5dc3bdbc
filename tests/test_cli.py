"""The `mcplan` command line, run for real as `python -m planner` in a subprocess.

Covers the version, the catalog listings in all three formats and their filters, the plan's JSON
and CSV contracts on the small examples, and the `--out` safety rules (never overwrite without
--force, never overwrite an input, no traceback for a bad output path).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import planner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SMALL_EXAMPLES = ["single-dc", "hybrid-dr", "kr-ecommerce"]
REGION_ID = re.compile(r"^[a-z]+/[A-Za-z0-9][A-Za-z0-9._\-]*$")


@dataclass
class Run:
    """One finished CLI run."""

    code: int
    stdout: str
    stderr: str


def mcplan(*args: str, cwd: Path | None = None) -> Run:
    """Run `python -m planner ARGS` and capture everything; never a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ok(*args: str, cwd: Path | None = None) -> str:
    """Run and require exit 0; return standard output."""
    run = mcplan(*args, cwd=cwd)
    assert run.code == 0, f"exit {run.code}:\n{run.stderr}"
    return run.stdout


def csv_rows(text: str) -> list[dict[str, str]]:
    """Parse CSV text with the standard library."""
    return list(csv.DictReader(io.StringIO(text)))


# Read-only runs used by several tests: started together in a thread pool (each is a separate
# process, so they overlap) and then served from memory.
PREFETCH: list[tuple[str, ...]] = [
    *(
        ("catalog", what, "--format", fmt)
        for what in ("regions", "providers", "offerings")
        for fmt in ("table", "json", "csv")
    ),
    ("catalog", "regions", "--provider", "naver", "--format", "json"),
    ("catalog", "regions", "--jurisdiction", "KR", "--format", "json"),
    ("catalog", "offerings", "--tier", "SaaS", "--format", "csv"),
    *(
        ("plan", str(EXAMPLES / f"{name}.yaml"), "--format", "json", "--quiet")
        for name in SMALL_EXAMPLES
    ),
    ("plan", str(EXAMPLES / "single-dc.yaml"), "--format", "csv", "--quiet"),
]


@pytest.fixture(scope="module")
def runs() -> Callable[..., Run]:
    """`mcplan(...)` memoised per argument list for the module; PREFETCH runs in parallel."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        seen: dict[tuple[str, ...], Run] = dict(
            zip(PREFETCH, pool.map(lambda args: mcplan(*args), PREFETCH), strict=True)
        )

    def get(*args: str) -> Run:
        if args not in seen:
            seen[args] = mcplan(*args)
        return seen[args]

    return get


@pytest.fixture(scope="module")
def cached(runs: Callable[..., Run]) -> Callable[..., str]:
    """Like `ok(...)`, served from `runs`."""

    def get(*args: str) -> str:
        run = runs(*args)
        assert run.code == 0, f"exit {run.code}:\n{run.stderr}"
        return run.stdout

    return get


# ---------------------------------------------------------------- version
def test_version() -> None:
    """`mcplan --version` prints the package version and exits 0."""
    out = ok("--version")
    assert out.strip() == f"mcplan {planner.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", planner.__version__)


def test_no_command_is_an_input_error() -> None:
    """A bare `mcplan` shows usage and exits 2."""
    run = mcplan()
    assert run.code == 2
    assert "usage:" in run.stderr


# ---------------------------------------------------------------- catalog listings
REGION_KEYS = {
    "region",
    "provider",
    "city",
    "country",
    "jurisdiction",
    "continent",
    "lat",
    "lon",
    "zones",
}


def test_regions_json(cached: Callable[..., str]) -> None:
    """A JSON list of objects with the documented keys and canonical `provider/code` ids."""
    rows = json.loads(cached("catalog", "regions", "--format", "json"))
    assert isinstance(rows, list) and len(rows) >= 120
    for row in rows:
        assert isinstance(row, dict)
        assert set(row) >= REGION_KEYS, REGION_KEYS - set(row)
        assert REGION_ID.match(row["region"]), row["region"]
        assert row["region"].split("/", 1)[0] == row["provider"]
        assert -90 <= row["lat"] <= 90 and -180 <= row["lon"] <= 180
        assert isinstance(row["zones"], int)
    ids = [r["region"] for r in rows]
    assert len(ids) == len(set(ids))
    assert "aws/ap-northeast-2" in ids
    seoul = next(r for r in rows if r["region"] == "aws/ap-northeast-2")
    assert (seoul["country"], seoul["jurisdiction"], seoul["continent"]) == ("KR", "KR", "AS")


def test_regions_csv_matches_json(cached: Callable[..., str]) -> None:
    """The CSV listing parses with the csv module and has the same rows as the JSON one."""
    from_json = json.loads(cached("catalog", "regions", "--format", "json"))
    from_csv = csv_rows(cached("catalog", "regions", "--format", "csv"))
    assert len(from_csv) == len(from_json)
    assert set(from_csv[0]) >= REGION_KEYS
    assert [r["region"] for r in from_csv] == [r["region"] for r in from_json]


def test_regions_table(cached: Callable[..., str]) -> None:
    """The default text table names the regions."""
    out = cached("catalog", "regions", "--format", "table")
    assert "aws/ap-northeast-2" in out and "naver/KR" in out


def test_filter_provider_naver(cached: Callable[..., str]) -> None:
    """--provider naver keeps exactly Naver's five regions."""
    rows = json.loads(cached("catalog", "regions", "--provider", "naver", "--format", "json"))
    assert len(rows) == 5
    assert {r["provider"] for r in rows} == {"naver"}


def test_filter_jurisdiction_kr(cached: Callable[..., str]) -> None:
    """--jurisdiction KR keeps only Korean regions, of several providers."""
    rows = json.loads(cached("catalog", "regions", "--jurisdiction", "KR", "--format", "json"))
    assert rows
    assert {r["jurisdiction"] for r in rows} == {"KR"}
    assert {"aws/ap-northeast-2", "naver/KR", "openstack/seoul-dc1"} <= {r["region"] for r in rows}


def test_filter_tier_saas_offerings(cached: Callable[..., str]) -> None:
    """--tier SaaS on offerings keeps only SaaS offerings, and not none of them."""
    rows = csv_rows(cached("catalog", "offerings", "--tier", "SaaS", "--format", "csv"))
    assert rows
    assert {r["tier"] for r in rows} == {"SaaS"}
    everything = json.loads(cached("catalog", "offerings", "--format", "json"))
    assert len(rows) == sum(1 for r in everything if r["tier"] == "SaaS")


@pytest.mark.parametrize(
    ("flag", "value", "suggestion"),
    [
        ("--provider", "navr", "`naver`"),
        ("--tier", "Saas", "`SaaS`"),
        ("--region", "aws/ap-northeast-9", "`aws/ap-northeast-2`"),
        ("--category", "compute.vmm", "`compute.vm`"),
    ],
)
def test_unknown_filter_value(flag: str, value: str, suggestion: str) -> None:
    """An unknown filter value is exit 2 with a did-you-mean, not an empty listing."""
    what = "offerings" if flag in ("--tier", "--category") else "regions"
    run = mcplan("catalog", what, flag, value, "--format", "json")
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    assert flag in run.stderr and value in run.stderr
    assert "did you mean" in run.stderr and suggestion in run.stderr, run.stderr


@pytest.mark.parametrize("what", ["providers", "offerings"])
def test_listing_in_three_formats(cached: Callable[..., str], what: str) -> None:
    """providers and offerings work as table, JSON and CSV, with the same rows in JSON and CSV."""
    table = cached("catalog", what, "--format", "table")
    from_json = json.loads(cached("catalog", what, "--format", "json"))
    from_csv = csv_rows(cached("catalog", what, "--format", "csv"))
    assert isinstance(from_json, list) and from_json
    assert len(from_csv) == len(from_json)
    key = "provider" if what == "providers" else "offering"
    assert [r[key] for r in from_csv] == [str(r[key]) for r in from_json]
    assert key in table.splitlines()[0]
    if what == "providers":
        assert {r["provider"] for r in from_json} == {"aws", "azure", "gcp", "naver", "openstack"}
    else:
        assert all(r["offering"].startswith(r["region"] + "/") for r in from_json)
        assert all(r["usd_per_month"] is not None and r["usd_per_month"] > 0 for r in from_json)


def test_catalog_out_file(tmp_path: Path) -> None:
    """`catalog ... --out FILE` writes the listing to the file instead of stdout."""
    out = tmp_path / "providers.csv"
    run = mcplan("catalog", "providers", "--format", "csv", "--out", str(out))
    assert run.code == 0, run.stderr
    assert run.stdout == ""
    assert len(csv_rows(out.read_text(encoding="utf-8"))) == 5


# ---------------------------------------------------------------- plan: JSON and CSV contracts
@pytest.fixture(scope="module")
def plans(cached: Callable[..., str]) -> dict[str, dict[str, Any]]:
    """The JSON plan of each small example."""
    return {
        name: json.loads(
            cached("plan", str(EXAMPLES / f"{name}.yaml"), "--format", "json", "--quiet")
        )
        for name in SMALL_EXAMPLES
    }


PLACEMENT_KEYS = {
    "service",
    "provider",
    "region",
    "sku",
    "tier",
    "units",
    "capacity",
    "role",
    "usd_per_month",
}


@pytest.mark.parametrize("name", SMALL_EXAMPLES)
def test_plan_json_contract(plans: dict[str, dict[str, Any]], name: str) -> None:
    """The top-level fields, services and placements of the documented JSON plan."""
    plan = plans[name]
    assert plan["status"] in ("optimal", "feasible", "feasible_time_limit")
    assert isinstance(plan["objective_usd_per_month"], float | int)
    assert plan["objective_usd_per_month"] > 0
    assert plan["gap"] is None or 0 <= plan["gap"] <= 1
    assert plan["policy"]["survive"] in ("none", "zone", "region", "provider", "site")
    assert plan["services"]
    for s in plan["services"]:
        assert s["name"] and s["demand"] and all(v > 0 for v in s["demand"].values())
    assert plan["placements"]
    names = {s["name"] for s in plan["services"]}
    for p in plan["placements"]:
        assert set(p) >= PLACEMENT_KEYS, PLACEMENT_KEYS - set(p)
        assert p["service"] in names
        assert p["region"].startswith(p["provider"] + "/")
        assert p["tier"] in ("IaaS", "PaaS", "SaaS")
        assert isinstance(p["units"], int) and p["units"] > 0
        assert {"per_unit", "total"} <= set(p["capacity"])
        assert p["usd_per_month"] >= 0
    assert names == {p["service"] for p in plan["placements"]}, "every service is placed"
    assert plan["verification"]["ok"] is True
    assert plan["verification"]["scenarios_checked"] >= 1


def test_plan_json_policy_is_the_spec_policy(plans: dict[str, dict[str, Any]]) -> None:
    """The policy echoed in the plan is the one in the spec."""
    assert plans["single-dc"]["policy"]["survive"] == "none"
    assert plans["hybrid-dr"]["policy"]["survive"] == "site"
    assert plans["kr-ecommerce"]["policy"]["survive"] == "region"


@pytest.mark.parametrize("name", SMALL_EXAMPLES)
def test_plan_costs_add_up(plans: dict[str, dict[str, Any]], name: str) -> None:
    """Placements + per-region fees + traffic = the objective (each figure rounded to 1e-6)."""
    plan = plans[name]
    terms = [p["usd_per_month"] for p in plan["placements"]]
    terms += [f["usd_per_month"] for f in plan["fees"]]
    terms += [e["usd_per_month"] for e in plan["traffic"]]
    tolerance = 1e-6 * (len(terms) + 1)  # the JSON rounds every figure to 6 decimals
    assert sum(terms) == pytest.approx(plan["objective_usd_per_month"], abs=tolerance)
    breakdown = plan["cost_breakdown_usd_per_month"]
    assert breakdown["total"] == pytest.approx(plan["objective_usd_per_month"], abs=1e-6)
    parts = sum(v for k, v in breakdown.items() if k != "total")
    assert parts == pytest.approx(breakdown["total"], abs=1e-5)


def test_plan_capacity_totals(plans: dict[str, dict[str, Any]]) -> None:
    """Each placement's total capacity is units x per-unit capacity."""
    for plan in plans.values():
        for p in plan["placements"]:
            per, total = p["capacity"]["per_unit"], p["capacity"]["total"]
            assert set(per) == set(total)
            for k, v in per.items():
                assert total[k] == pytest.approx(v * p["units"])


def test_plan_csv(plans: dict[str, dict[str, Any]], cached: Callable[..., str]) -> None:
    """`--format csv` parses with the csv module, one row per placement."""
    rows = csv_rows(cached("plan", str(EXAMPLES / "single-dc.yaml"), "--format", "csv", "--quiet"))
    placements = plans["single-dc"]["placements"]
    assert len(rows) == len(placements)
    assert {
        "service",
        "provider",
        "region",
        "sku",
        "tier",
        "role",
        "units",
        "usd_per_month",
    } <= set(rows[0])
    assert sorted((r["service"], r["sku"], int(r["units"])) for r in rows) == sorted(
        (p["service"], p["sku"], p["units"]) for p in placements
    )


def test_plan_quiet_keeps_stderr_clean(runs: Callable[..., Run]) -> None:
    """`--quiet` prints no progress; stdout is only the plan."""
    run = runs("plan", str(EXAMPLES / "single-dc.yaml"), "--format", "json", "--quiet")
    assert run.code == 0
    assert run.stderr == ""
    json.loads(run.stdout)


# ---------------------------------------------------------------- plan: --out safety
@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder holding a copy of the single-dc example."""
    (tmp_path / "single-dc.yaml").write_bytes((EXAMPLES / "single-dc.yaml").read_bytes())
    return tmp_path


def test_out_writes_refuses_then_forces(workdir: Path) -> None:
    """--out writes; a second run refuses (exit 2, file byte-identical); --force replaces it."""
    out = workdir / "plan.json"
    run = mcplan(
        "plan", "single-dc.yaml", "--format", "json", "--quiet", "--out", "plan.json", cwd=workdir
    )
    assert run.code == 0, run.stderr
    assert run.stdout == ""
    first = out.read_bytes()
    assert json.loads(first)["status"] == "optimal"

    run = mcplan(
        "plan", "single-dc.yaml", "--format", "csv", "--quiet", "--out", "plan.json", cwd=workdir
    )
    assert run.code == 2, run.stderr
    assert "plan.json" in run.stderr and "--force" in run.stderr
    assert out.read_bytes() == first

    run = mcplan(
        "plan",
        "single-dc.yaml",
        "--format",
        "csv",
        "--quiet",
        "--out",
        "plan.json",
        "--force",
        cwd=workdir,
    )
    assert run.code == 0, run.stderr
    replaced = out.read_bytes()
    assert replaced != first
    assert csv_rows(replaced.decode("utf-8"))
    assert not [p for p in workdir.iterdir() if p.name.startswith(".mcplan-")], "temp file left"


def test_out_file_gets_normal_permissions(workdir: Path) -> None:
    """A file written by --out is created like any other file: mode 0666 minus the umask."""
    old = os.umask(0o022)
    try:
        run = mcplan("plan", "single-dc.yaml", "--quiet", "--out", "plan.txt", cwd=workdir)
    finally:
        os.umask(old)
    assert run.code == 0, run.stderr
    assert (workdir / "plan.txt").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("spelling", ["./single-dc.yaml", "{abs}"])
def test_out_never_overwrites_the_spec(workdir: Path, spelling: str) -> None:
    """--out naming the spec itself is refused even with --force, and the spec is unchanged."""
    spec = workdir / "single-dc.yaml"
    before = spec.read_bytes()
    target = spelling.format(abs=spec)
    run = mcplan("plan", "single-dc.yaml", "--quiet", "--out", target, "--force", cwd=workdir)
    assert run.code == 2, run.stderr
    assert "input" in run.stderr
    assert run.stdout == ""
    assert spec.read_bytes() == before


def test_out_into_missing_folder_is_an_input_error(workdir: Path) -> None:
    """--out into a folder that does not exist is exit 2 with the path, not an unexpected error."""
    run = mcplan("plan", "single-dc.yaml", "--quiet", "--out", "no-such-dir/plan.json", cwd=workdir)
    assert run.code == 2, run.stderr
    assert "no-such-dir" in run.stderr
    assert "bug in mcplan" not in run.stderr


def test_out_is_a_folder(workdir: Path) -> None:
    """--out naming an existing folder is refused, even with --force."""
    (workdir / "plans").mkdir()
    run = mcplan("plan", "single-dc.yaml", "--quiet", "--out", "plans", "--force", cwd=workdir)
    assert run.code == 2, run.stderr
    assert "plans" in run.stderr
    assert (workdir / "plans").is_dir()


# ---------------------------------------------------------------- plan: bad arguments
@pytest.mark.parametrize(
    "args",
    [
        ["--solver", "gurobi"],
        ["--method", "fastest"],
        ["--time-limit", "0"],
        ["--gap", "1.5"],
    ],
)
def test_bad_solver_arguments(args: list[str]) -> None:
    """Unknown or out-of-range solver arguments are exit 2, before any solving."""
    run = mcplan("plan", str(EXAMPLES / "single-dc.yaml"), "--quiet", *args)
    assert run.code == 2, run.stderr
    assert run.stdout == ""
    assert args[0] in run.stderr, run.stderr


def test_unknown_catalog_folder_for_plan(tmp_path: Path) -> None:
    """`plan --catalog` pointing at a non-catalog folder is exit 2 naming that folder."""
    run = mcplan("plan", str(EXAMPLES / "single-dc.yaml"), "--quiet", "--catalog", str(tmp_path))
    assert run.code == 2, run.stderr
    assert str(tmp_path) in run.stderr and "providers.csv" in run.stderr


# ---------------------------------------------------------------- bundled examples, from anywhere
def test_examples_lists_every_bundled_spec() -> None:
    rows = csv_rows(ok("examples", "--format", "csv"))
    assert [r["name"] for r in rows] == sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
    assert all(r["shows"] and Path(r["file"]).is_file() for r in rows)


@pytest.mark.parametrize("spec", ["examples/single-dc.yaml", "single-dc", "single-dc.yaml"])
def test_the_readme_tour_runs_outside_the_clone(tmp_path: Path, spec: str) -> None:
    """The README's `mcplan plan examples/...` from a folder that has no examples/, and an
    example by its name, plan the bundled file."""
    plan = json.loads(ok("plan", spec, "--format", "json", "--quiet", cwd=tmp_path))
    assert plan["app"] == "single-dc" and plan["status"] == "optimal"


def test_a_missing_spec_says_how_to_find_the_examples(tmp_path: Path) -> None:
    run = mcplan("plan", "kr-ecomerce", cwd=tmp_path)
    assert run.code == 2 and run.stdout == ""
    assert "no such file" in run.stderr and "did you mean `kr-ecommerce`?" in run.stderr
    assert "mcplan examples" in run.stderr
    # a file of one's own that is missing is not mistaken for an example
    other = mcplan("plan", "specs/kr-ecommerce.yaml", cwd=tmp_path)
    assert other.code == 2 and "no such file" in other.stderr


# ---------------------------------------------------------------- mistakes caught before solving
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "{tmp}/missing/plan.csv"], "does not exist; create it first"),
        (["--out", "{tmp}"], "is a folder"),
        (["--out", "{tmp}/taken.csv"], "refusing to overwrite"),
        (["--out", "/proc/plan.txt"], "cannot write to the folder /proc"),
    ],
)
def test_output_is_checked_before_any_solving(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    (tmp_path / "taken.csv").write_text("mine\n")
    args = [a.format(tmp=tmp_path) for a in extra]
    run = mcplan("plan", "global-saas", "--format", "csv", *args)
    assert run.code == 2 and message in run.stderr, run.stderr
    # the progress messages of planning never started: the refusal came first
    assert "candidate offerings" not in run.stderr
    assert (tmp_path / "taken.csv").read_text() == "mine\n"


def test_whatif_without_a_failure_is_refused_before_solving() -> None:
    run = mcplan("whatif", "global-saas")
    assert run.code == 2 and "say what fails" in run.stderr
    assert "candidate offerings" not in run.stderr
    bad = mcplan("whatif", "global-saas", "--fail", "aws/nowhere")
    assert bad.code == 2 and "unknown region" in bad.stderr
    assert "candidate offerings" not in bad.stderr


@pytest.mark.parametrize("port", ["99999", "0"])
def test_dashboard_port_out_of_range(port: str) -> None:
    """A port out of range is refused while parsing: exit 2, the option named, a fix, no
    server started."""
    run = mcplan("dashboard", "--port", port)
    assert run.code == 2 and "argument --port" in run.stderr, run.stderr
    assert "from 1 to 65535" in run.stderr and "e.g. --port 8501" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_csv_numbers_are_rounded_as_documented(runs: Callable[..., Run]) -> None:
    """docs/json.md: money per row to the cent, every other number at most 6 significant digits."""
    rows = csv_rows(
        runs("plan", str(EXAMPLES / "single-dc.yaml"), "--format", "csv", "--quiet").stdout
    )
    assert rows
    for row in rows:
        for key, value in row.items():
            if re.fullmatch(r"-?[0-9.e+-]+", value or ""):
                digits = re.sub(r"e.*$", "", value).replace("-", "").replace(".", "").lstrip("0")
                if key == "usd_per_month":
                    assert len(value.split(".")[-1]) <= 2 or "." not in value, (key, value)
                else:
                    assert len(digits) <= 6, (key, value)


def test_compare_prints_no_nan(tmp_path: Path) -> None:
    text = ok("compare", "single-dc", "--quiet", "--strategies", "optimal,single_region")
    assert "NaN" not in text and "nan" not in text
    assert "n/a" in text  # single-dc survives nothing: recovery objectives do not apply


def test_compare_shows_progress_per_strategy() -> None:
    run = mcplan("compare", "single-dc", "--strategies", "optimal,single_region")
    assert run.code == 0, run.stderr
    assert "strategy 1/2: optimal" in run.stderr and "strategy 2/2: single_region" in run.stderr
    assert "strategy single_region: $" in run.stderr


@pytest.mark.parametrize("name", ["single-dc", "hybrid-dr", "kr-ecommerce", "eu-fintech"])
def test_three_runs_give_the_same_json(name: str) -> None:
    """The same spec, catalog and options give the same plan: the JSON of three runs is equal
    apart from the timings (examples that finish well within the default time limit; a run the
    limit cuts says so in its status and gap)."""

    def without_timings() -> dict:
        out = json.loads(ok("plan", name, "--format", "json", "--quiet"))
        out["solve"].pop("timings_s")
        return out

    first, *others = (without_timings() for _ in range(3))
    assert first["status"] == "optimal"
    assert all(other == first for other in others)


# ---------------------------------------------------------------- issue 17: the audit's items
BIG_SPEC = """\
app: big
policy: {survive: none}
services:
  - {name: web, category: compute.vm, demand: {vcpu: 3001, mem_gib: 6002}}
"""


def significant_digits(value: str) -> int:
    """Significant digits of a number as written (`13240` has 4, `0.000125` has 3)."""
    mantissa = re.sub(r"[eE].*$", "", value).replace("-", "").replace(",", "")
    digits = mantissa.replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in mantissa else len(digits)


def test_csv_money_is_to_the_cent_above_ten_thousand(tmp_path: Path) -> None:
    """docs/json.md: `usd_per_month` to the cent. Six significant digits alone wrote a placement
    of $13,239.98 as 13240; every other number still has at most six."""
    (tmp_path / "big.yaml").write_text(BIG_SPEC, encoding="utf-8")
    rows = csv_rows(ok("plan", "big.yaml", "--format", "csv", "--quiet", cwd=tmp_path))
    assert any(float(r["usd_per_month"]) >= 10_000 for r in rows), rows
    for row in rows:
        assert re.fullmatch(r"\d+\.\d\d", row["usd_per_month"]), row
        units, price = float(row["units"]), float(row["usd_per_unit_month"])
        # the cent total is the unrounded product's, not the 6-digit unit price's
        total = units * price  # price has 6 significant digits: allow its rounding, and a cent
        assert float(row["usd_per_month"]) == pytest.approx(total, abs=0.005 + total * 1e-5)
        for key in ("units", "vcpu", "mem_gib", "usd_per_unit_month"):
            assert significant_digits(row[key]) <= 6, (key, row[key])


@pytest.fixture(scope="module")
def compared() -> dict[str, Run]:
    """`compare` on single-dc with a strategy that has a plan and one that has none, in text
    (with its progress) and in CSV."""
    args = ("compare", "single-dc", "--strategies", "optimal,multi_cloud_active_active")
    with ThreadPoolExecutor(max_workers=2) as pool:
        text, table = pool.map(lambda extra: mcplan(*args, *extra), [(), ("--format", "csv")])
    return {"text": text, "csv": table}


def test_compare_explains_every_cell(compared: dict[str, Run]) -> None:
    """Every column of the text table is explained under it, an n/a has its reason there, and a
    strategy with no plan says why and what to relax in its status."""
    run = compared["text"]
    assert run.code == 0, run.stderr
    table, _, legend = run.stdout.partition("\n\n")
    header = table.splitlines()[0].split()
    for column in header:
        if column not in ("strategy", "providers", "regions", "status"):
            assert column in legend, f"{column} is not explained:\n{legend}"
    assert "n/a when the plan survives no failure" in legend
    assert "NaN" not in run.stdout and "nan" not in table
    (no_plan,) = [line for line in table.splitlines() if "no plan:" in line]
    assert re.search(r"\b(relax|allow|raise|choose)\b", no_plan), no_plan
    assert "strategy 2/2: multi_cloud_active_active" in run.stderr


def test_compare_numbers_are_rounded_as_documented(compared: dict[str, Run]) -> None:
    """docs/json.md: money to the cent, every other number at most 6 significant digits, in the
    CSV and in the text table alike."""
    rows = csv_rows(compared["csv"].stdout)
    assert {r["strategy"] for r in rows} == {"optimal", "multi_cloud_active_active"}
    for row in rows:
        for key, value in row.items():
            if not re.fullmatch(r"-?[0-9.]+(e[+-]?\d+)?", value or ""):
                continue
            if key == "usd_per_month":
                assert re.fullmatch(r"\d+\.\d\d", value), (key, value)
            else:
                assert significant_digits(value) <= 6, (key, value)
    table = compared["text"].stdout.partition("\n\n")[0]
    for number in re.findall(r"(?<![\w/.])\d[\d,]*\.\d+(?![\w/])", table):
        assert significant_digits(number) <= 6 or re.fullmatch(r"[\d,]+\.\d\d", number), number


def test_sweep_names_the_services_behind_each_count() -> None:
    """`whatif --sweep`: each count of services down, recovering or degraded comes with their
    names, as many as it counts."""
    rows = csv_rows(ok("whatif", "kr-ecommerce", "--sweep", "region", "--format", "csv", "--quiet"))
    assert rows and any(int(r["services_degraded"]) for r in rows), rows
    services = {
        s["name"]
        for s in json.loads(ok("plan", "kr-ecommerce", "--format", "json", "--quiet"))["services"]
    }
    for row in rows:
        for count, names in (
            ("services_down", "down"),
            ("services_recovering", "recovering"),
            ("services_degraded", "degraded"),
        ):
            named = [n for n in row[names].split(", ") if n]
            assert len(named) == int(row[count]), (count, row)
            assert set(named) <= services, row


def _cbc_crashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every CBC run fail as the crashing binary did (PuLP's PulpSolverError); the list
    records each call."""
    import pulp

    calls: list[str] = []

    def crash(self: object, lp: object) -> None:
        calls.append("cbc")
        raise pulp.PulpSolverError("Pulp: Error while trying to execute cbc (simulated crash)")

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "actualSolve", crash)
    return calls


ZONE_ONE_REGION = """\
app: cbc-crash
policy: {survive: zone}
services:
  - {name: web, category: compute.vm, demand: {vcpu: 4, mem_gib: 8}, max_regions: 1}
"""


def test_a_cbc_crash_falls_back_to_highs_with_a_note(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Issue 17: CBC crashed on a one-service `survive: zone`, `max_regions: 1` model and the
    planner reported a solver failure. With CBC failing, `--solver cbc` still plans (HiGHS
    answers) and says so in a note."""
    from planner.cli import main

    calls = _cbc_crashes(monkeypatch)
    (tmp_path / "zone.yaml").write_text(ZONE_ONE_REGION, encoding="utf-8")
    code = main(
        [
            "plan",
            str(tmp_path / "zone.yaml"),
            "--solver",
            "cbc",
            "--method",
            "monolithic",
            "--quiet",
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert calls, "CBC was never asked"
    plan = json.loads(out.out)
    assert plan["status"] == "optimal" and plan["verification"]["ok"], plan["verification"]
    assert any("HiGHS answered after CBC error" in n for n in plan["notes"]), plan["notes"]


def test_a_cbc_crash_in_the_decomposed_method_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same fallback through the default method: the plan says HiGHS answered."""
    from planner import PlanOptions, load_catalog, load_spec, make_plan

    calls = _cbc_crashes(monkeypatch)
    spec = load_spec(EXAMPLES / "hybrid-dr.yaml")
    plan = make_plan(spec, load_catalog(None), PlanOptions(solver="cbc"))
    assert calls, "CBC was never asked"
    assert any("HiGHS answered after CBC error" in n for n in plan.notes), plan.notes


@pytest.mark.parametrize("stop", ["SIGINT", "SIGHUP"])
def test_dashboard_stops_its_server_when_interrupted(tmp_path: Path, stop: str) -> None:
    """Ctrl-C sent to `mcplan dashboard` alone (not its whole group, as `kill -INT` does), or
    its terminal closing (SIGHUP), stops the Streamlit server it started: nothing of its
    process group is left, exit 130 and "interrupted". (SIGTERM: tests/test_readme_tour.py.)"""
    import signal
    import socket
    import time
    import urllib.error
    import urllib.request

    from .test_readme_tour import group_left, stop_group

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    err = tmp_path / "dashboard.err"
    env = {**os.environ, "STREAMLIT_SERVER_HEADLESS": "true"}
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "planner", "dashboard", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        health, deadline = "", time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None and health != "ok":
            try:
                url = f"http://127.0.0.1:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    health = reply.read().decode()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        assert health == "ok", f"no health check answer on port {port}:\n{err.read_text()}"
        proc.send_signal(getattr(signal, stop))
        code = proc.wait(timeout=30)
        assert not group_left(proc.pid), f"{stop} left the Streamlit server running"
        assert code == 130 and "interrupted" in err.read_text(), (code, err.read_text())
        assert "Traceback" not in err.read_text(), err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop_group(proc.pid)


ONE_REGION_WITH_USERS = """\
app: one
policy: {survive: none}
users:
  - {name: seoul, lat: 37.57, lon: 126.98, share: 1, max_latency_ms: 30}
services:
  - {name: web, category: compute.vm, demand: {vcpu: 4, mem_gib: 8}, user_facing: true}
  - {name: db, category: compute.vm, demand: {vcpu: 4, mem_gib: 8}}
dependencies:
  - {from: web, to: db, max_latency_ms: 5}
"""


def test_sweep_names_the_user_groups_behind_its_counts(tmp_path: Path) -> None:
    """A failure that cuts users off says which groups, as it says which services."""
    (tmp_path / "one.yaml").write_text(ONE_REGION_WITH_USERS, encoding="utf-8")
    rows = csv_rows(
        ok("whatif", "one.yaml", "--sweep", "region", "--format", "csv", "--quiet", cwd=tmp_path)
    )
    cut = [r for r in rows if int(r["users_affected"])]
    assert cut, rows
    for row in cut:
        named = [v for k, v in row.items() if k not in ("scenario",) and "seoul" in v]
        assert named, f"no column names the group cut off: {row}"
