"""Smoke test of the benchmark harness (what CI runs; the full benchmark is `python -m benchmarks`).

A tiny instance on a small synthetic catalog: the generator is deterministic for a seed, the
runner's row carries every field with a verified plan and timings that add up, no feasible
hand-drawn baseline is cheaper than our plan, a child that overruns its budget becomes a row
saying so, and the report holds every row. Every instance family at a tiny size: it validates,
has what makes it that family, plans to a verified plan, and the report has its row. No
assertion is about how fast anything ran: the machine may be busy.
"""

from __future__ import annotations

import math

import pytest

from benchmarks.baselines import KINDS, hand_baselines
from benchmarks.generate import (
    FAMILIES,
    USER_GROUPS,
    InstanceConfig,
    build_instance,
    catalog_for,
    spec_data,
)
from benchmarks.isolate import run_in_subprocess
from benchmarks.report import render
from benchmarks.run import Config, RunPlan, plan_runs, run_config
from benchmarks.targets import summary, targets

CATALOG = "synthetic:12"
ROW_FIELDS = (
    "candidates_s",
    "prune_s",
    "build_s",
    "solve_s",
    "other_s",
    "total_s",
    "wall_s",
    "verify_s",
    "whatif",
    "availability",
    "variables",
    "constraints",
    "cost",
    "bound",
    "gap",
    "status",
    "verified",
    "peak_rss_mb",
    "baselines",
)


@pytest.fixture(scope="module")
def small_catalog():
    return catalog_for(CATALOG)


# services in the tiny instances: enough for every family's planning stages, few enough that the
# file stays within a minute
TINY = 6


@pytest.fixture(scope="module")
def family_rows():
    return [run_config(Config(CATALOG, TINY, seed=2, family=f, extras=True)) for f in FAMILIES]


@pytest.fixture(scope="module")
def row(family_rows):
    """Our method's row on the region family's tiny instance (planned once, for every test)."""
    return next(r for r in family_rows if r["family"] == "region")


def test_generator_is_deterministic(small_catalog) -> None:
    a = spec_data(InstanceConfig(12, seed=7), small_catalog)
    b = spec_data(InstanceConfig(12, seed=7), small_catalog)
    c = spec_data(InstanceConfig(12, seed=8), small_catalog)
    assert a == b
    assert a != c
    assert len(a["services"]) == 12
    assert sum(1 for s in a["services"] if s.get("residency")) == round(0.3 * 12)


def _positive(row: dict, *keys: str) -> None:
    """Each timing is there, a finite number, and above zero: time passes when work is done."""
    for k in keys:
        value = row.get(k)
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (k, value)


def test_runner_row_has_every_field_and_a_verified_plan(row) -> None:
    missing = [k for k in ROW_FIELDS if row.get(k) is None]
    assert not missing, missing
    assert row["services"] == TINY and row["label"] == "decomposed/highs"
    assert row["verified"] is True and row["violations"] == []
    assert row["status"] == "optimal" and row["plan_method"] == "decomposed"
    assert row["gap"] <= row["gap_target"] + 1e-12
    assert row["bound"] <= row["cost"] + 1e-6
    assert row["variables"] > 0 and row["constraints"] > 0
    assert row["plan_regions"] >= 2  # survive: region needs a second region for every service
    assert row["rss_before_mb"] > 0 and row["peak_rss_mb"] >= row["rss_before_mb"]
    assert {b["kind"] for b in row["baselines"]} == set(KINDS)
    assert row["progress"], "the planner reported no progress"


def test_runner_row_timings_add_up(row) -> None:
    phases = ("candidates_s", "prune_s", "build_s", "solve_s")
    _positive(row, "catalog_load_s", "generate_s", *phases, "total_s", "wall_s", "verify_s")
    # at a few services the per-service solves run in this process (worker processes start at larger
    # sizes), so the phases are parts of make_plan's own total, which is inside the timed call
    assert sum(row[k] for k in phases) <= row["total_s"] + 1e-9
    assert row["other_s"] == pytest.approx(row["total_s"] - sum(row[k] for k in phases))
    assert row["other_s"] >= 0
    assert row["total_s"] <= row["wall_s"] + 1e-9


def test_runner_row_analyses_ran_on_our_plan(row) -> None:
    assert row["analysed_plan"] == "ours"
    assert row["whatif"] == "ok", row["whatif"]
    _positive(row, "whatif_region_ms", "whatif_provider_ms", "whatif_tables_ms")
    assert row["whatif_region_scenarios"] == row["plan_regions"]
    assert row["whatif_provider_scenarios"] > 0
    assert row["whatif_both_ms"] == pytest.approx(
        row["whatif_region_ms"] + row["whatif_provider_ms"]
    )
    assert row["whatif_both_prebuilt_tables_ms"] <= row["whatif_both_shared_tables_ms"]
    assert row["availability"] == "ok", row["availability"]
    _positive(row, "availability_s")
    assert 0 < row["availability_availability"] <= 1


def test_feasible_baselines_cost_at_least_ours(row) -> None:
    feasible = [b for b in row["baselines"] if b["feasible"]]
    assert feasible, row["baselines"]
    for b in feasible:
        assert b["cost"] >= row["cost"] * (1 - row["gap_target"]) - 1e-6, b
    single = next(b for b in row["baselines"] if b["kind"] == "single-region")
    assert not single["feasible"]  # no survival at all cannot meet survive: region
    assert single["valid_without_survival"] is True


def test_hand_baselines_are_verified_plans(small_catalog) -> None:
    from benchmarks.generate import make_instance

    spec = make_instance(InstanceConfig(5, seed=3), small_catalog)
    for b in hand_baselines(spec, small_catalog):
        if b.plan is not None:
            assert b.plan.verification is not None
            assert b.feasible == b.plan.verification.ok


def test_subprocess_run_and_report(row) -> None:
    config = Config(CATALOG, 3, seed=2, method="monolithic", time_limit=10.0)
    fresh = run_in_subprocess(config, timeout=120)
    assert fresh["verified"] is True, fresh
    assert fresh["config"] == config.__dict__ and fresh["label"] == "monolithic/highs 10s"
    _positive(fresh, "wall_s", "process_wall_s")
    assert fresh["wall_s"] <= fresh["process_wall_s"]  # the child's planning is inside its life
    text = render([row, fresh], _meta(), None)
    lines = text.splitlines()
    sections = [ln for ln in lines if ln.startswith("## ")]
    assert sections == [
        "## Machine and run",
        "## Instances",
        "## Every family and size side by side",
        "## Targets: met, or how far",
        "## Our method: phases, model, result",
        "## Baselines on the same instances",
        "## Timeline of our method (the planner's progress messages)",
        "## Targets, case by case",
    ]
    assert lines[0].startswith("**Run:** now, 0.0 min (expected 1.0, at most 2.0), preset quick;")
    machine = "2 cores, load average 0.50 at the start and 1.50 at the end; planner abc (clean)"
    assert machine in lines[0]
    # our run in the phases table (with its verified plan) and first among the tiny rows
    ours = [ln for ln in lines if ln.startswith(f"| region | {TINY} | decomposed/highs |")]
    assert len(ours) == 1 and "| optimal | True |" in ours[0]
    assert any(ln.startswith(f"| region | {TINY} | **ours** (decomposed/highs) |") for ln in lines)
    assert any(ln.startswith("| region | 3 | monolithic/highs 10s |") for ln in lines)
    for kind in KINDS:
        assert any(ln.startswith(f"| region | {TINY} | hand: {kind} |") for ln in lines), kind
    for line in targets([row, fresh]):
        assert line in lines
    assert "python -m benchmarks --quick" in text


def _meta() -> dict:
    return {
        "machine": {
            "nproc": 2,
            "mem_gib": 1,
            "cpu": "x",
            "platform": "p",
            "python": "3",
            "highs": "1",
            "pulp": "1",
            "numpy": "1",
            "pandas": "1",
        },
        "load": (0.5, 1.5),
        "catalog": CATALOG,
        "regions": 14,
        "seed": 3,
        "started": "now",
        "elapsed_s": 1.0,
        "expected_s": 60.0,
        "at_most_s": 120.0,
        "preset": "quick",
        "planner": "abc (clean)",
        "command": "python -m benchmarks --quick",
        "profile_size": None,
    }


def test_a_child_past_its_budget_becomes_a_killed_row() -> None:
    # 200 services cannot be generated and planned in 2 s: the child is killed at the budget
    config = Config(CATALOG, 200, seed=1, method="monolithic", time_limit=60.0)
    killed = run_in_subprocess(config, timeout=2)
    assert killed["status"] == "killed after 2 s"
    assert killed["label"] == config.label() and killed["services"] == 200
    assert killed["wall_s"] >= 2
    assert killed["error"].startswith(("last planner step:", "no planner step reported"))
    assert "cost" not in killed


def test_monolithic_target_is_judged_on_our_fastest_run_that_beats_it() -> None:
    """'Cost <= the monolithic plan, in <= 1/10 of its time' counts any run of our method at that
    size (the target-settings run has a short time limit); its time is capped at its own limit."""

    def ours(label: str, cost: float, wall: float, extras: bool) -> dict:
        return {
            "services": 50,
            "method": "decomposed",
            "label": label,
            "cost": cost,
            "wall_s": wall,
            "gap": 0.05,
            "verified": True,
            "baselines": [],
            "config": {"extras": extras, "gap": None if extras else 0.01},
        }

    rows = [
        ours("default", 100.0, 60.0, True),
        ours("5s", 110.0, 5.0, False),
        {
            "services": 50,
            "method": "monolithic",
            "label": "mono",
            "cost": 120.0,
            "wall_s": 141.0,
            "time_limit": 120.0,
            "verified": True,
            "config": {},
        },
    ]
    line = next(x for x in targets(rows) if "monolithic" in x)
    assert line.endswith("| met |") and "ours (5s)" in line and "0.04 of its 120 s" in line
    rows[2]["cost"] = 105.0  # only the 60 s run is as cheap: half the baseline's time is too slow
    line = next(x for x in targets(rows) if "monolithic" in x)
    assert (
        line.endswith("| **not met** |")
        and "ours (default)" in line
        and "0.50 of its 120 s" in line
    )
    rows[2]["verified"] = False  # a plan the verifier refused is no plan to match
    line = next(x for x in targets(rows) if "monolithic" in x)
    assert line.endswith("| met |") and "ours (5s)" in line and "it $105 NOT verified" in line
    rows[2].update(cost=None, verified=None, status="no plan: NoPlanError")
    line = next(x for x in targets(rows) if "monolithic" in x)
    assert line.endswith("| met |") and "ours (5s)" in line
    assert "it no plan: NoPlanError (141.0 s)" in line
    rows[1]["verified"] = rows[0]["verified"] = False  # nor is one of ours
    line = next(x for x in targets(rows) if "monolithic" in x)
    assert line.endswith("| **not met** |") and "ours (default) $100 NOT verified" in line
    line = next(x for x in summary(rows) if "monolithic" in x)
    assert line.endswith("| **not met**: 0 of 1 baselines |")


def test_profile_phases_name_functions_the_planner_has() -> None:
    """A phase whose function was renamed would be reported as 0 s, not as an error."""
    import re
    from pathlib import Path

    from benchmarks.profiling import PHASES

    planner = Path(__file__).resolve().parents[1] / "planner"
    source = "\n".join(p.read_text() for p in planner.rglob("*.py"))
    for label, names in PHASES:
        for name in names:
            assert re.search(rf"^\s*def {name}\(", source, re.M), (label, name)


def test_a_child_still_planning_past_its_budget_is_killed_as_an_overrun() -> None:
    """The time limit holds: planning that goes on past its budget is stopped, and the row says
    it overran and for how long it had run, rather than waiting for it."""
    # 1000 services cannot be planned in a second: planning is killed at its 1 s budget, past
    # its 0.1 s limit
    config = Config(CATALOG, 1000, seed=1, method="monolithic", time_limit=0.1, budget_s=1.0)
    row = run_in_subprocess(config, timeout=300)
    assert row["status"].startswith("overrun: still planning at"), row
    assert row["status"].endswith("for a 0.1 s limit, killed")
    assert row["killed"] is True and row["time_limit"] == 0.1
    assert row["wall_s"] >= 1.0 and row["overrun_s"] == pytest.approx(row["wall_s"] - 0.1)
    assert "cost" not in row
    line = targets([row])[-1]
    assert "1 of 1 late" in line and "(killed)" in line and line.endswith("| **not met** |")


# ---------------------------------------------------------------- instance families


def test_every_family_is_seeded_and_is_what_it_says(small_catalog) -> None:
    # 30 services: enough that every family's traits show (user-facing services among them)
    for name, family in FAMILIES.items():
        config = InstanceConfig(30, seed=4, family=name)
        data = spec_data(config, small_catalog)
        assert data == spec_data(config, small_catalog), name
        assert data != spec_data(InstanceConfig(30, seed=5, family=name), small_catalog)
        catalog, spec = build_instance(config, small_catalog)  # validates the spec
        assert spec.policy.survive == family.survive
        assert spec.policy.max_providers == family.max_providers
        budgets = {d.max_latency_ms for d in spec.dependencies if d.max_latency_ms}
        assert budgets <= set(family.latency_budgets_ms), (name, budgets)
        may = [s for s in spec.services if not s.forbid_providers]
        assert len(may) == round(family.private_share * 30), name
        facing = [s for s in spec.services if s.user_facing]
        if family.user_facing_share:
            assert [u.name for u in spec.users] == [g["name"] for g in USER_GROUPS]
            assert facing and all(s.internet_gb_per_month > 0 and not s.residency for s in facing)
        else:
            assert not spec.users and not facing
        site_vcpu = catalog.sites["vcpu_capacity"].sum()
        if family.private_capacity_share is None:
            assert site_vcpu == small_catalog.sites["vcpu_capacity"].sum()
        else:  # the private sites hold the family's share of what may use them: it binds
            want = family.private_capacity_share * sum(s.demand.vcpu for s in may)
            assert site_vcpu == pytest.approx(want)


def test_the_region_family_is_the_earlier_instance(small_catalog) -> None:
    """Families change the application on one skeleton: the default family is the earlier
    sessions' instance, and every family has the same services and dependency graph."""
    base = spec_data(InstanceConfig(12, seed=7), small_catalog)
    assert base["policy"] == {"survive": "region"} and "users" not in base
    assert base == spec_data(InstanceConfig(12, seed=7, family="region"), small_catalog)
    for name in FAMILIES:
        other = spec_data(InstanceConfig(12, seed=7, family=name), small_catalog)
        assert [s["demand"] for s in other["services"]] == [s["demand"] for s in base["services"]]
        pairs = [(d["from"], d["to"]) for d in other["dependencies"]]
        assert pairs == [(d["from"], d["to"]) for d in base["dependencies"]], name
    with pytest.raises(ValueError, match="unknown family"):
        spec_data(InstanceConfig(5, family="nope"), small_catalog)


def test_every_family_plans_to_a_verified_plan(family_rows) -> None:
    for r in family_rows:
        assert r["verified"] is True and r["violations"] == [], (r["family"], r.get("status"))
        assert r["instance"]["services"] == TINY
        assert r["bound"] <= r["cost"] + 1e-6
        assert {b["kind"] for b in r["baselines"]} == set(KINDS)
        for b in r["baselines"]:
            if b["feasible"]:
                assert b["cost"] >= r["cost"] * (1 - r["gap_target"]) - 1e-6, (r["family"], b)


def test_the_report_has_a_row_per_family(family_rows) -> None:
    text = render(family_rows, _meta(), None)
    lines = text.splitlines()
    start = lines.index("## Every family and size side by side")
    summary = lines[start : start + 20]
    for name in FAMILIES:
        assert sum(ln.startswith(f"| {name} | {TINY} | $") for ln in summary) == 1, name
        assert any(ln.startswith(f"| {name} | {TINY} | **ours** (") for ln in lines), name
        assert any(ln.startswith(f"| {name} | {TINY} | hand: pair-two-clouds |") for ln in lines)
        survive = FAMILIES[name].survive  # the instances table
        assert any(ln.startswith(f"| {name} | {TINY} | {survive} |") for ln in lines), name
    for line in targets(family_rows):
        assert line in lines


def test_run_plan_lists_families_sizes_baselines_and_examples() -> None:
    rp = RunPlan(
        ["region", "provider", "zone"], [50, 1000], [50], "shipped", mono_limit=120.0,
        families_at={1000: ["zone"]}, mono_families=["provider"], examples=["kr-ecommerce"],
    )  # fmt: skip
    runs = plan_runs(rp)
    keys = [(c.family, c.services, c.method, c.solver, c.gap is not None) for c in runs]
    assert keys == [
        ("region", 50, "decomposed", "highs", False),
        ("region", 50, "decomposed", "highs", True),
        ("provider", 50, "decomposed", "highs", False),
        ("provider", 50, "decomposed", "highs", True),
        ("provider", 50, "monolithic", "highs", False),
        ("provider", 50, "monolithic", "cbc", False),
        ("zone", 50, "decomposed", "highs", False),
        ("zone", 50, "decomposed", "highs", True),
        ("zone", 1000, "decomposed", "highs", False),
        ("zone", 1000, "decomposed", "highs", True),
        ("region", 0, "first-plan", "highs", False),
        ("region", 0, "compare", "highs", False),
    ]
    assert runs[1].time_limit == 5.0 and runs[1].gap == 0.01
    assert runs[-1].example == "kr-ecommerce" and runs[-1].budget_s == 30.0


def test_example_and_sweep_targets_read_their_rows() -> None:
    def example(method: str, name: str, wall: float, **kw: object) -> dict:
        return {"services": 0, "family": "region", "example": name, "method": method,
                "label": method, "wall_s": wall, "config": {"example": name}, **kw}  # fmt: skip

    plan = {"time_limit": 60.0, "status": "optimal", "verified": True, "gap": 0.0}
    rows = [
        example("first-plan", "a", 1.5, cost=10.0, **plan),
        example("first-plan", "b", 3.0, cost=10.0, **plan),
        example("compare", "a", 8.0, status="ok", strategies=5, strategies_planned=5),
        example("compare", "b", 30.2, status="stopped at 30 s, still running", killed=True,
                progress=["  0.1 s  strategy 1/6: optimal (the cheapest)",
                          "  1.0 s  strategy optimal: $1.00/month, optimal",
                          "  1.1 s  strategy 2/6: single_region (one region)"]),
        example("first-plan", "c", 62.0, cost=10.0, **{**plan, "overrun_s": 2.0}),
        example("first-plan", "d", 0.5, cost=10.0, **{**plan, "verified": False}),
    ]  # fmt: skip
    lines = targets(rows)
    first = next(x for x in lines if "first plan" in x)
    assert "1 of 4 within; over: b 3.0 s, c 62.0 s, d 0.5 s" in first
    assert first.endswith("| **not met** |")
    comp = next(x for x in lines if x.startswith("| compare"))
    assert "1 of 2 within" in comp
    assert "b stopped at 30 s, still running (1 of 6 done, stopped in single_region)" in comp
    assert "1 of 4 late: c first-plan: 62.0 s for 60 s" in lines[-1]
    short = summary(rows)
    first = next(x for x in short if "first plan" in x)
    assert "within: a 1.5 s (gap 0.00%); over: b 3.0 s (gap 0.00%), c 62.0 s" in first
    assert "d 0.5 s (gap 0.00%, NOT verified)" in first
    assert first.endswith("| **not met**: 1 of 4 examples |")
    comp = next(x for x in short if "`compare`" in x)
    assert comp.endswith("| **not met**: 1 of 2 examples |")
    assert short[-1] == lines[-1]  # the time-limit line is the same in both tables


def test_compare_of_a_bundled_example_has_a_row_per_strategy() -> None:
    import planner
    from planner.examples import resolve_spec

    catalog = planner.load_catalog()
    spec = planner.load_spec(resolve_spec("provider-saas"))
    table = planner.compare(spec, catalog)
    assert list(table["strategy"]) == list(planner.STRATEGIES)
    # found by the eighth benchmark run: within a provider set without private sites the
    # private share of hybrid_private_primary was lost, and the plan failed verification
    hybrid = table.set_index("strategy").loc["hybrid_private_primary"]
    assert hybrid["status"] == "optimal" and hybrid["usd_per_month"] > 0, hybrid


def test_compare_keeps_the_other_rows_when_one_strategy_fails_its_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A strategy whose plan fails the verifier is a bug row, not a lost table."""
    import planner
    import planner.strategies as strategies
    from planner.errors import SolverError
    from planner.examples import resolve_spec

    real = strategies.plan_with_strategy

    def failing(spec, catalog, name, options=None):  # type: ignore[no-untyped-def]
        if name == "single_region":
            raise SolverError("the solver returned a plan that fails independent verification")
        return real(spec, catalog, name, options)

    monkeypatch.setattr(strategies, "plan_with_strategy", failing)
    spec = planner.load_spec(resolve_spec("kr-ecommerce"))
    table = planner.compare(spec, planner.load_catalog(), None, ["single_region", "optimal"])
    rows = table.set_index("strategy")
    assert rows.loc["single_region", "status"].startswith("no plan: a bug in mcplan")
    assert rows.loc["optimal", "usd_per_month"] > 0


# ---------------------------------------------------------------- presets, run lists, targets
def _methods(runs: list) -> set[tuple[str, str]]:
    return {(c.method, c.solver) for c in runs}


def test_without_a_preset_the_run_is_issue19s_and_an_option_given_wins() -> None:
    from benchmarks.runner import _runs, parse_args

    default, issue19 = parse_args([]), parse_args(["--preset", "issue19"])
    assert _runs(default) == _runs(issue19) and default.preset == "issue19"
    quick = vars(parse_args(["--quick"]))
    assert quick["preset"] == "quick" and quick["catalog"] == CATALOG
    assert quick == {**vars(parse_args(["--preset", "quick"])), "quick": True}
    assert parse_args(["--quick", "--sizes", "4"]).sizes == "4"
    # --families-at appends: given, it replaces the preset's list instead of adding to it
    assert parse_args(["--families-at", "200=zone"]).families_at == ["200=zone"]
    assert parse_args([]).families_at == ["1000=region,mix"]


def test_the_quick_run_covers_every_code_path_on_small_instances() -> None:
    from benchmarks.runner import _runs, parse_args

    runs, catalog = _runs(parse_args(["--quick"]))
    assert catalog == CATALOG and len(runs) <= 8
    assert _methods(runs) == {
        ("decomposed", "highs"), ("monolithic", "highs"), ("monolithic", "cbc"),
        ("first-plan", "highs"), ("compare", "highs"),
    }  # fmt: skip
    instances = [c for c in runs if not c.example]
    assert max(c.services for c in instances) <= 5
    assert 2 <= len({c.family for c in instances}) <= 3
    assert all(c.extras for c in instances if c.method == "decomposed")  # hand-drawn, analyses
    assert len({c.example for c in runs if c.example}) == 1
    assert all(c.time_limit is not None and c.time_limit <= 10 for c in instances)


def test_the_issue19_run_measures_every_family_and_size_in_40_minutes() -> None:
    from benchmarks.runner import _runs, parse_args
    from benchmarks.schedule import total
    from planner.examples import bundled_examples

    runs, catalog = _runs(parse_args(["--preset", "issue19"]))
    assert catalog == "shipped"
    ours = [c for c in runs if c.method == "decomposed"]
    target = {(c.family, c.services) for c in ours if c.gap is not None}
    assert target == {(f, n) for f in FAMILIES for n in (50, 200)} | {
        ("region", 1000),
        ("mix", 1000),
    }
    # each case analysed and compared with the hand-drawn plans exactly once
    analysed = [(c.family, c.services) for c in ours if c.extras]
    assert sorted(analysed) == sorted(target)
    assert {(c.family, c.services) for c in ours if c.gap is None} == {
        (f, n) for f in FAMILIES for n in (50, 200)
    }
    mono = [c for c in runs if c.method == "monolithic"]
    assert {c.solver for c in mono} == {"highs", "cbc"}
    assert {c.services for c in mono} == {50} and 1 <= len({c.family for c in mono}) <= 2
    assert all(c.time_limit == 120.0 for c in mono)
    names = {e.name for e in bundled_examples()}
    for method in ("first-plan", "compare"):
        assert {c.example for c in runs if c.method == method} == names
    assert total(runs).expected_s <= 40 * 60  # the run list's own estimate (schedule.py)


def test_an_estimate_is_its_limit_plus_the_process_and_at_most_its_budget() -> None:
    from benchmarks.isolate import planning_budget
    from benchmarks.schedule import estimate

    mono = Config("shipped", 50, method="monolithic", time_limit=120.0)
    ours = Config("shipped", 50, extras=True)
    e, f = estimate(mono), estimate(ours)
    assert e.at_most_s - e.expected_s == pytest.approx(planning_budget(mono) - 120.0)
    assert f.expected_s > e.expected_s - 120.0 + 60.0  # the default 60 s, and the extras
    comp = estimate(Config("shipped", 0, method="compare", example="x", budget_s=5.0))
    assert comp.expected_s <= comp.at_most_s


def _ours_row(family: str, n: int, gap_target: float | None, **kw: object) -> dict:
    return {
        "services": n, "family": family, "method": "decomposed", "label": f"{family}-{n}",
        "verified": True, "baselines": [],
        "config": {"family": family, "gap": gap_target, "extras": gap_target is None}, **kw,
    }  # fmt: skip


def test_the_targets_summary_counts_families_and_says_how_far() -> None:
    """One line per target: each family's result, by how much it misses, and a verdict counted
    from them; a killed run is reported as killed, a late one as late."""
    rows = [
        _ours_row("region", 50, 0.01, cost=100.0, gap=0.005, wall_s=4.0),
        _ours_row("zone", 50, 0.01, cost=100.0, gap=0.0897, wall_s=17.1, overrun_s=12.1),
        _ours_row("mix", 50, 0.01, status="overrun: still planning at 20 s for a 5 s limit, "
                  "killed", wall_s=20.0, time_limit=5.0, overrun_s=15.0, killed=True),
    ]  # fmt: skip
    line = summary(rows)[0]
    assert line.startswith("| 50 services: verified, gap <= 1%, <= 5 s | region 0.50% in 4.0 s;")
    assert "zone 8.97% in 17.1 s, 12.1 s late (+7.97 points, +12.1 s)" in line
    assert "mix killed at 20 s (5 s limit)" in line
    assert line.endswith("| **not met**: 1 of 3 families |")
    rows = rows[:1]
    assert summary(rows)[0].endswith("| met (1 of 1 families) |")
    rows[0]["verified"] = False
    assert "(NOT verified)" in summary(rows)[0] and "**not met**" in summary(rows)[0]


def test_without_a_default_run_the_target_run_is_analysed_and_compared() -> None:
    rp = RunPlan(["region"], [50, 1000], [], CATALOG, default_sizes=[50])
    runs = plan_runs(rp)
    assert [(c.services, c.gap, c.extras) for c in runs] == [
        (50, None, True),
        (50, 0.01, False),
        (1000, 0.02, True),
    ]
    hand = {"kind": "pair-two-clouds", "cost": 150.0, "feasible": True, "seconds": 1.0,
            "note": "", "first_violation": "", "violations": 0}  # fmt: skip
    target = _ours_row("region", 1000, 0.02, cost=120.0, gap=0.01, wall_s=80.0, baselines=[hand])
    target["config"]["extras"] = True
    text = render([target], _meta(), None)
    side = next(ln for ln in text.splitlines() if ln.startswith("| region | 1000 | "))
    assert side.startswith("| region | 1000 | not run | $120, 1.00%, 80.0 s | 2% in 90 s: met |")
    assert side.endswith("| pair-two-clouds $150 | -20.0% |")
    assert "| cost <= every feasible hand-drawn baseline" in text and "region 1000 -20.0%" in text
    short = text.split("## In short\n", 1)[1].splitlines()
    assert "| family | 1000: 2% in 90 s | vs hand-drawn (1000) |" in short
    assert "| region | 1.00%, 80.0 s | -20.0% |" in short


def test_a_saved_run_renders_again_to_the_same_report(family_rows, tmp_path) -> None:
    """`--render` rebuilds the report from the JSON rows alone (after a fix to the report or the
    targets, without running again)."""
    import json

    from benchmarks.runner import main

    saved, out = tmp_path / "run.json", tmp_path / "run.md"
    saved.write_text(json.dumps({"meta": _meta(), "rows": family_rows}, default=str))
    assert main(["--render", str(saved), "--out", str(out)]) == 0
    assert out.read_text() == render(family_rows, _meta(), None) + "\n"
    assert main(["--render", str(saved), "--out", str(out)]) == 2  # kept without --force


def test_the_hand_drawn_target_is_not_applicable_where_no_hand_drawn_plan_is_feasible() -> None:
    infeasible = {"kind": "pair-one-cloud", "cost": 90.0, "feasible": False}
    feasible = {"kind": "pair-two-clouds", "cost": 150.0, "feasible": True}
    rows = [_ours_row("zone", 50, None, cost=100.0, gap=0.01, wall_s=60.0, baselines=[infeasible])]
    line = next(x for x in summary(rows) if "hand-drawn" in x)
    assert line.endswith("| no hand-drawn plan feasible: zone 50 | n/a |")
    rows.append(_ours_row("mix", 50, None, cost=160.0, gap=0.01, wall_s=60.0, baselines=[feasible]))
    line = next(x for x in summary(rows) if "hand-drawn" in x)
    assert "mix 50 +6.7% (above pair-two-clouds); no hand-drawn plan feasible: zone 50" in line
    assert line.endswith("| **not met**: 0 of 1 cases with one |")
