"""An outside reviewer's checks: the CLI's JSON read against docs/json.md, and the plan re-checked
against docs/model.md "The rules a plan must meet" by a small checker written here from the JSON,
the spec and the catalog's CSV files alone (it imports nothing of planner.analysis, the model or
the optimiser), then the other commands' output and a corpus of mistaken input.

Each bundled example is planned once per module, through the command line as a user would.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CATALOG = ROOT / "catalogs"
EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))
SLOW_EXAMPLES = {"global-saas"}  # about 20 s on its own
CENT = 0.005
COMPUTE_TOLERANCE = 1e-6


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def mcplan(*args: str, cwd: Path | None = None, timeout: int = 300) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _refuse_constant(name: str) -> float:
    raise AssertionError(f"the JSON holds {name}, which docs/json.md promises never to print")


def strict_json(text: str) -> Any:
    """json.loads that fails on NaN and Infinity instead of reading them."""
    return json.loads(text, parse_constant=_refuse_constant)


def example_param(name: str) -> Any:
    marks = [pytest.mark.slow] if name in SLOW_EXAMPLES else []
    return pytest.param(name, marks=marks, id=name)


EXAMPLE_PARAMS = [example_param(n) for n in EXAMPLE_NAMES]


@pytest.fixture(scope="module")
def planned() -> Callable[[str], dict[str, Any]]:
    """The JSON of `mcplan plan NAME --format json`, planned once per example per module."""
    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            run = mcplan("plan", name, "--format", "json")
            assert run.code == 0, run.stderr
            assert "Traceback" not in run.stderr
            cache[name] = strict_json(run.stdout)
        return cache[name]

    return get


def spec_of(name: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ------------------------------------------------------------------ the catalog, read as CSV
@dataclass(frozen=True)
class Region:
    provider: str
    jurisdiction: str
    zones: int
    site: str


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def catalog_regions() -> dict[str, Region]:
    out: dict[str, Region] = {}
    for path in sorted(CATALOG.glob("*/regions.csv")):
        provider = path.parent.name
        for row in _read_csv(path):
            rid = f"{provider}/{row['region']}"
            site = row.get("site") or ""
            out[rid] = Region(provider, row["jurisdiction"], int(float(row["zones"] or 0)), site)
    sites = yaml.safe_load((CATALOG / "openstack" / "sites.yaml").read_text(encoding="utf-8"))
    for s in sites["sites"]:
        rid = f"openstack/{s['site']}"
        out[rid] = Region("openstack", s["jurisdiction"], int(s.get("zones", 1)), "")
    # a region without a shared site is its own failure domain
    return {
        rid: Region(r.provider, r.jurisdiction, r.zones, r.site or rid) for rid, r in out.items()
    }


def catalog_strategies() -> dict[str, tuple[float, float, bool]]:
    """strategy -> (compute fraction alpha, data fraction beta, backup copies allowed)."""
    return {
        row["strategy"]: (
            float(row["compute_fraction"]),
            float(row["data_fraction"]),
            row["backup_copies"].strip().lower() == "true",
        )
        for row in _read_csv(CATALOG / "strategies.csv")
    }


def multi_writer_skus() -> set[tuple[str, str]]:
    return {
        (row["provider"], row["sku"])
        for row in _read_csv(CATALOG / "writers.csv")
        if row["writers"].strip() == "multi"
    }


def global_saas_skus() -> set[tuple[str, str]]:
    return {
        (row["provider"], row["sku"])
        for row in _read_csv(CATALOG / "saas_scope.csv")
        if row["scope"].strip() == "global"
    }


REGIONS = catalog_regions()
STRATEGIES = catalog_strategies()
DATA = "storage_gb"
MAIN_ORDER = ("vcpu", "requests_m", "users", "lb", "mem_gib", "storage_gb")


# ------------------------------------------------------------------ the independent checker
@dataclass(frozen=True)
class Failure:
    name: str
    lost: frozenset[str]  # regions lost whole
    zone_of: str | None  # a multi-zone region that loses one zone


def failures(policy: dict[str, Any], used: set[str]) -> list[Failure]:
    """docs/spec.md "What `survive` means", over the regions the plan uses."""
    survive = policy["survive"]
    if survive == "none":
        return []
    if survive == "provider":
        by: dict[str, set[str]] = defaultdict(set)
        for r in used:
            by[REGIONS[r].provider].add(r)
        return [Failure(f"provider {p}", frozenset(rs), None) for p, rs in sorted(by.items())]
    if survive == "site":
        by = defaultdict(set)
        for r in used:
            by[REGIONS[r].site].add(r)
        # a site takes every catalog region on it, used or not: only the used ones matter here
        return [Failure(f"site {s}", frozenset(rs), None) for s, rs in sorted(by.items())]
    if survive == "zone":
        return [
            Failure(f"zone of {r}", frozenset(), r)
            if REGIONS[r].zones >= 2
            else Failure(f"zone of {r}", frozenset({r}), None)
            for r in sorted(used)
        ]
    assert survive == "region", survive
    return [Failure(f"region {r}", frozenset({r}), None) for r in sorted(used)]


def units_left(row: dict[str, Any], failure: Failure | None) -> int:
    if failure is None:
        return int(row["units"])
    if row["region"] in failure.lost:
        return 0
    if row["region"] == failure.zone_of:
        zones = REGIONS[row["region"]].zones
        return int(row["units"]) - math.ceil(int(row["units"]) / zones)
    return int(row["units"])


def main_resource(demand: dict[str, float]) -> str:
    return next(r for r in MAIN_ORDER if demand.get(r, 0) > 0)


def is_global(rows: list[dict[str, Any]]) -> bool:
    scope = global_saas_skus()
    return bool(rows) and all((r["provider"], r["sku"]) in scope for r in rows)


def single_writer(service: dict[str, Any], spec_service: dict[str, Any], rows: list[Any]) -> bool:
    if not spec_service.get("stateful") or service["category"] not in ("db.relational", "cache"):
        return False
    main = main_resource(service["demand"])
    serving = [r for r in rows if r["capacity"]["per_unit"].get(main, 0) > 0]
    multi = multi_writer_skus()
    return not all((r["provider"], r["sku"]) in multi for r in serving)


def violations(plan: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """What the plan breaks among the rules that need no latency model: residency, excluded
    regions and providers, the provider limit, capacity in normal operation and after each
    failure (rule 4), and the single writer's one region (rule 3)."""
    found: list[str] = []
    policy = plan["policy"]
    rows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in plan["placements"]:
        rows_of[row["service"]].append(row)
        if row["region"] not in REGIONS:
            found.append(f"{row['service']}: unknown region {row['region']}")
    used = {row["region"] for row in plan["placements"]}
    providers = {REGIONS[r].provider for r in used if r in REGIONS}
    if policy.get("max_providers") is not None and len(providers) > policy["max_providers"]:
        found.append(f"{len(providers)} providers, limit {policy['max_providers']}")
    for r in used & set(policy.get("exclude_regions") or []):
        found.append(f"excluded region {r} used")
    for p in providers & set(policy.get("exclude_providers") or []):
        found.append(f"excluded provider {p} used")
    spec_services = {s["name"]: s for s in spec["services"]}
    scenarios: list[Failure | None] = [None, *failures(policy, used)]
    for service in plan["services"]:
        name, demand = service["name"], service["demand"]
        rows = rows_of[name]
        residency = set(service["residency"])
        for row in rows:
            if residency and REGIONS[row["region"]].jurisdiction not in residency:
                found.append(f"{name}: {row['region']} is outside {sorted(residency)}")
        alpha, beta, backups = STRATEGIES[service["strategy"]]
        writer = single_writer(service, spec_services[name], rows)
        global_saas = is_global(rows)
        for failure in scenarios:
            if failure is not None and global_saas and not failure.name.startswith("provider"):
                continue
            label = "normal operation" if failure is None else failure.name
            for res, d in demand.items():
                if d <= 0:
                    continue
                if res == DATA:
                    counted = [r for r in rows if r["role"] != "backup" or backups]
                    need = d if failure is None else beta * d
                else:
                    counted = [r for r in rows if r["role"] != "backup"]
                    need = d if failure is None else alpha * d
                left = sum(
                    units_left(r, failure) * r["capacity"]["per_unit"].get(res, 0.0)
                    for r in counted
                )
                if left < need * (1 - COMPUTE_TOLERANCE) - COMPUTE_TOLERANCE:
                    found.append(f"{name}, {label}: {res} {left:g} < {need:g}")
            if writer:
                need_share = 1.0 if failure is None else alpha
                by_region: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
                for r in rows:
                    if r["role"] == "backup":
                        continue
                    for res, cap in r["capacity"]["per_unit"].items():
                        by_region[r["region"]][res] += units_left(r, failure) * cap
                compute = [res for res, d in demand.items() if d > 0 and res != DATA]
                if need_share > 0 and not any(
                    all(
                        have[res] >= need_share * demand[res] * (1 - COMPUTE_TOLERANCE)
                        for res in compute
                    )
                    for have in by_region.values()
                ):
                    found.append(f"{name}, {label}: no one region holds the writer's share")
    return found


# ------------------------------------------------------------------ docs/json.md, field by field
NUMBER = (int, float)
TOP_KEYS: dict[str, Any] = {
    "schema_version": int,
    "status": str,
    "app": str,
    "objective_usd_per_month": NUMBER,
    "bound_usd_per_month": (*NUMBER, type(None)),
    "gap": (*NUMBER, type(None)),
    "cost_breakdown_usd_per_month": dict,
    "traffic_invoice_usd_per_month": (*NUMBER, type(None)),
    "policy": dict,
    "services": list,
    "placements": list,
    "fees": list,
    "traffic": list,
    "trust": (list, type(None)),
    "providers": list,
    "regions": list,
    "verification": dict,
    "availability": (dict, type(None)),
    "solve": dict,
    "notes": list,
}
BREAKDOWN = (
    "compute",
    "storage",
    "standby",
    "fees",
    "internet_egress",
    "replication",
    "dependency_traffic",
)
PLACEMENT_KEYS: dict[str, Any] = {
    "service": str,
    "provider": str,
    "region": str,
    "sku": str,
    "offering": str,
    "category": str,
    "tier": str,
    "role": str,
    "units": int,
    "capacity": dict,
    "usd_per_unit_month": NUMBER,
    "usd_per_month": NUMBER,
}
TRAFFIC_KEYS: dict[str, Any] = {
    "kind": str,
    "service": str,
    "flow": str,
    "source_region": str,
    "destination": str,
    "gb_per_month": NUMBER,
    "usd_per_gb": NUMBER,
    "usd_per_month": NUMBER,
    "usd_invoice": NUMBER,
}
TRUST_KEYS = (
    "provider",
    "usd_per_month",
    "unverified_usd",
    "chargeback_usd",
    "traffic_usd",
    "unverified_share",
    "chargeback_share",
)
SERVICE_KEYS: dict[str, Any] = {
    "name": str,
    "category": str,
    "demand": dict,
    "strategy": str,
    "rto_minutes": (*NUMBER, type(None)),
    "rpo_minutes": (*NUMBER, type(None)),
    "residency": list,
    "user_facing": bool,
}
POLICY_KEYS = (
    "survive",
    "availability_target",
    "max_providers",
    "budget_per_month",
    "exclude_regions",
    "exclude_providers",
    "private_share_min",
)
RESOURCES = {"vcpu", "mem_gib", "storage_gb", "requests_m", "users", "lb"}


def has_type(value: Any, kind: Any) -> bool:
    if (
        isinstance(value, bool)
        and kind is not bool
        and bool not in (kind if isinstance(kind, tuple) else (kind,))
    ):
        return False
    return isinstance(value, kind)


def typed(row: dict[str, Any], keys: dict[str, Any], where: str) -> None:
    for key, kind in keys.items():
        assert key in row, f"{where}: `{key}` missing"
        assert has_type(row[key], kind), f"{where}.{key}: {row[key]!r} is not {kind}"


def cents(a: float, b: float) -> bool:
    return abs(a - b) <= CENT


def documented_json_keys() -> str:
    return (ROOT / "docs" / "json.md").read_text(encoding="utf-8")


def iter_numbers(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        for v in value.values():
            yield from iter_numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_numbers(v)
    elif isinstance(value, float):
        yield value


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_plan_json_matches_docs_json_md(
    planned: Callable[[str], dict[str, Any]], name: str
) -> None:
    plan = planned(name)
    typed(plan, TOP_KEYS, "plan")
    assert plan["schema_version"] == 2
    assert plan["status"] in ("optimal", "feasible", "feasible_time_limit")
    assert all(math.isfinite(x) for x in iter_numbers(plan))
    assert set(plan["policy"]) >= set(POLICY_KEYS)
    for i, s in enumerate(plan["services"]):
        typed(s, SERVICE_KEYS, f"services[{i}]")
        assert set(s["demand"]) <= RESOURCES and all(v > 0 for v in s["demand"].values())
    for i, p in enumerate(plan["placements"]):
        typed(p, PLACEMENT_KEYS, f"placements[{i}]")
        assert p["role"] in ("active", "primary", "standby", "backup")
        assert p["tier"] in ("IaaS", "PaaS", "SaaS")
        assert p["offering"] == f"{p['region']}/{p['sku']}"
        assert p["region"].split("/")[0] == p["provider"]
    for i, t in enumerate(plan["traffic"]):
        typed(t, TRAFFIC_KEYS, f"traffic[{i}]")
        assert t["kind"] in ("internet", "dependency", "reply", "replication")
    for i, f in enumerate(plan["fees"]):
        typed(
            f,
            {"service": str, "region": str, "category": str, "usd_per_month": NUMBER},
            f"fees[{i}]",
        )
    for row in plan["trust"] or []:
        assert set(TRUST_KEYS) <= set(row)
    availability = plan["availability"]
    if availability is not None:
        assert availability["method"] in ("exact", "monte_carlo")
        assert 0 <= availability["availability_pct"] <= 100
        if availability["method"] == "exact":
            assert availability["confidence_interval"] is None
    verification = plan["verification"]
    assert verification["ok"] is True and verification["violations"] == []
    assert isinstance(verification["scenarios_checked"], int)
    solve = plan["solve"]
    assert solve["method"] in ("decomposed", "monolithic") and solve["solver"] in ("highs", "cbc")
    doc = documented_json_keys()
    for key in solve["timings_s"]:
        assert f"`{key}`" in doc, f"solve.timings_s.{key} is not in docs/json.md"


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_plan_json_adds_up_to_the_cent(planned: Callable[[str], dict[str, Any]], name: str) -> None:
    plan = planned(name)
    lines = plan["cost_breakdown_usd_per_month"]
    assert cents(lines["total"], sum(lines[k] for k in BREAKDOWN))
    assert cents(plan["objective_usd_per_month"], lines["total"])
    assert cents(plan["verification"]["cost_usd_per_month"], plan["objective_usd_per_month"])
    for p in plan["placements"]:
        assert cents(p["units"] * p["usd_per_unit_month"], p["usd_per_month"]), p
        per_unit, total = p["capacity"]["per_unit"], p["capacity"]["total"]
        assert set(per_unit) == set(total)
        for res, cap in per_unit.items():
            assert math.isclose(cap * p["units"], total[res], rel_tol=1e-9, abs_tol=1e-6), p
    placed = sum(p["usd_per_month"] for p in plan["placements"])
    assert cents(lines["compute"] + lines["storage"] + lines["standby"], placed)
    standby = sum(
        p["usd_per_month"] for p in plan["placements"] if p["role"] in ("standby", "backup")
    )
    assert cents(lines["standby"], standby)
    assert cents(lines["fees"], sum(f["usd_per_month"] for f in plan["fees"]))
    by_kind: dict[str, float] = defaultdict(float)
    for t in plan["traffic"]:
        assert cents(t["gb_per_month"] * t["usd_per_gb"], t["usd_per_month"]), t
        by_kind[t["kind"]] += t["usd_per_month"]
    assert cents(lines["internet_egress"], by_kind["internet"])
    assert cents(lines["replication"], by_kind["replication"])
    assert cents(lines["dependency_traffic"], by_kind["dependency"] + by_kind["reply"])
    invoice = plan["traffic_invoice_usd_per_month"]
    if invoice is not None:
        assert cents(invoice, sum(t["usd_invoice"] for t in plan["traffic"]))
        # the objective prices traffic at first-tier rates, never below the invoice
        assert invoice <= sum(t["usd_per_month"] for t in plan["traffic"]) + CENT
    if plan["bound_usd_per_month"] is not None and plan["objective_usd_per_month"] > 0:
        objective, bound = plan["objective_usd_per_month"], plan["bound_usd_per_month"]
        assert bound <= objective + CENT
        assert math.isclose(plan["gap"], max(0.0, (objective - bound) / objective), abs_tol=1e-7)
    trust = plan["trust"]
    if trust:
        total = trust[-1]
        assert total["provider"] == "total"
        assert cents(total["usd_per_month"], plan["objective_usd_per_month"])
        for field in ("usd_per_month", "unverified_usd", "chargeback_usd", "traffic_usd"):
            assert cents(total[field], sum(r[field] for r in trust[:-1])), field
        for r in trust:
            if r["usd_per_month"] > 0:
                assert math.isclose(
                    r["unverified_share"], r["unverified_usd"] / r["usd_per_month"], abs_tol=1e-5
                )
    assert plan["providers"] == sorted({p["provider"] for p in plan["placements"]})
    assert plan["regions"] == sorted({p["region"] for p in plan["placements"]})
    order = [(p["service"], p["role"], p["region"], p["sku"]) for p in plan["placements"]]
    assert order == sorted(order)


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_independent_checker_agrees_with_the_verifier(
    planned: Callable[[str], dict[str, Any]], name: str
) -> None:
    """The planner's verifier said ok; a checker written from docs/model.md alone agrees."""
    plan = planned(name)
    assert plan["verification"]["ok"]
    assert violations(plan, spec_of(name)) == []


def test_the_checker_can_fail(planned: Callable[[str], dict[str, Any]]) -> None:
    """Remove the standby site of kr-ecommerce's database and the checker sees the loss."""
    plan = json.loads(json.dumps(planned("kr-ecommerce")))
    plan["placements"] = [
        p
        for p in plan["placements"]
        if not (p["service"] == "orders-db" and p["role"] == "standby")
    ]
    found = violations(plan, spec_of("kr-ecommerce"))
    assert any(v.startswith("orders-db, region openstack/seoul-dc1") for v in found), found
    plan["policy"]["max_providers"] = 1
    plan["policy"]["exclude_regions"] = ["naver/KR"]
    found = violations(plan, spec_of("kr-ecommerce"))
    assert any("providers, limit 1" in v for v in found)
    assert "excluded region naver/KR used" in found


# ------------------------------------------------------------------ exports of every example
@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_every_example_exports_with_its_cost(
    planned: Callable[[str], dict[str, Any]], name: str
) -> None:
    """The Infracost bill of every example is its objective to the cent; Terraform writes a
    folder per provider the plan uses."""
    from planner.interop import export_infracost, export_terraform

    plan = planned(name)
    bill = export_infracost(plan)
    assert cents(float(bill["totalMonthlyCost"]), plan["objective_usd_per_month"])
    folders = {path.split("/")[0] for path in export_terraform(plan) if "/" in path}
    assert folders == set(plan["providers"])


# ------------------------------------------------------------------ the other commands' output
def _no_unknown_words(text: str) -> None:
    """A text table says n/a for what is unknown, never Python's nan or inf."""
    words = set(text.replace(",", " ").split())
    assert not words & {"nan", "NaN", "inf", "-inf", "Infinity"}, text


def test_whatif_of_a_lost_site_is_honest_json_and_text() -> None:
    """single-dc loses everything in the Pangyo replay: users and dependencies have no latency
    after it; JSON says null and the text n/a (it printed `inf` before)."""
    as_json = mcplan("whatif", "single-dc", "--incident", "pangyo-2022", "--format", "json")
    assert as_json.code == 0, as_json.stderr
    data = strict_json(as_json.stdout)
    assert data["failure"]["survived"] is False
    assert [u["after_ms"] for u in data["users"]] == [None]
    assert all(d["after_ms"] is None for d in data["dependencies"])
    text = mcplan("whatif", "single-dc", "--incident", "pangyo-2022")
    assert text.code == 0, text.stderr
    _no_unknown_words(text.stdout)
    assert "Failover egress, change from normal operation: -" in text.stdout


def test_whatif_replan_costs_match_the_plans(planned: Callable[[str], dict[str, Any]]) -> None:
    run = mcplan(
        "whatif", "kr-ecommerce", "--fail", "openstack/seoul-dc1", "--replan", "--format", "json"
    )
    assert run.code == 0, run.stderr
    data = strict_json(run.stdout)
    replan = data["replan"]
    assert cents(
        replan["cost_before_usd_per_month"], planned("kr-ecommerce")["objective_usd_per_month"]
    )
    assert cents(replan["cost_after_usd_per_month"], replan["plan"]["objective_usd_per_month"])
    assert "openstack/seoul-dc1" not in replan["plan"]["regions"]
    assert replan["plan"]["verification"]["ok"] is True
    for row in replan["migration"]:
        assert row["gb"] >= 0 and row["usd"] >= 0 and row["hours"] >= 0


def test_region_sweep_csv_has_no_unknown_words() -> None:
    run = mcplan("whatif", "kr-ecommerce", "--sweep", "region", "--format", "csv")
    assert run.code == 0, run.stderr
    rows = list(csv.DictReader(run.stdout.splitlines()))
    assert rows and all(r["survived"] == "True" for r in rows)
    _no_unknown_words(run.stdout)


@pytest.mark.slow
def test_compare_and_frontier_agree_with_the_plan(
    planned: Callable[[str], dict[str, Any]],
) -> None:
    objective = planned("kr-ecommerce")["objective_usd_per_month"]
    compare = mcplan("compare", "kr-ecommerce", "--format", "json", timeout=900)
    assert compare.code == 0, compare.stderr
    rows = {r["strategy"]: r for r in strict_json(compare.stdout)}
    assert cents(rows["optimal"]["usd_per_month"], objective)
    assert all(r["usd_per_month"] >= objective - CENT for r in rows.values() if r["usd_per_month"])
    frontier = mcplan("frontier", "kr-ecommerce", "--x", "availability", "--format", "json")
    assert frontier.code == 0, frontier.stderr
    points = {r["requirement"]: r for r in strict_json(frontier.stdout)}
    assert cents(points["survive region"]["usd_per_month"], objective)
    costs = [
        points[f"survive {s}"]["usd_per_month"] for s in ("none", "zone", "region", "provider")
    ]
    assert costs == sorted(costs)


# ------------------------------------------------------------------ mistaken and hostile input
def run_here(args: tuple[str, ...], cwd: Path) -> Run:
    """`mcplan ARGS` in `cwd` through planner.cli.main, as `python -m planner` runs it, with
    argparse's exits and any escaping exception (written as the traceback a user would see)."""
    import io
    import os
    import traceback
    from contextlib import redirect_stderr, redirect_stdout

    from planner.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = Path.cwd()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
            except BaseException:  # noqa: BLE001 - what would reach the user as a traceback
                err.write(traceback.format_exc())
                code = 1
    finally:
        os.chdir(here)
    return Run(code, out.getvalue(), err.getvalue())


def _spec_with(change: Callable[[dict[str, Any]], None]) -> str:
    spec = spec_of("kr-ecommerce")
    change(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def _set(*path: Any, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        node: Any = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _policy(value: Any, survive: str | None = None) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        spec["resilience_policy"] = value
        if survive is not None:
            spec["policy"]["survive"] = survive

    return change


REGION_TARGET = {"rtoInSecs": 3600, "rpoInSecs": 300}
SPEC_CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    (
        "internet-list",
        _set("services", 0, "internet_gb_per_month", value=[1, 2]),
        ["services[0].internet_gb_per_month", "valid number", "Fix:"],
    ),
    (
        "internet-with-unit",
        _set("services", 0, "internet_gb_per_month", value="3000 GB"),
        ["services[0].internet_gb_per_month", "got '3000 GB'", "Fix:"],
    ),
    (
        "internet-above-limit",
        _set("services", 0, "internet_gb_per_month", value=1e12),
        ["services[0].internet_gb_per_month", "less than or equal to", "Fix:"],
    ),
    (
        "write-on-stateless",
        _set("services", 0, "write_gb_per_month", value=10),
        ["services[0]", "stateful: true"],
    ),
    (
        "write-null",
        _set("services", 2, "write_gb_per_month", value=None),
        ["services[2].write_gb_per_month", "Fix:"],
    ),
    (
        "write-negative",
        _set("services", 2, "write_gb_per_month", value=-5),
        ["services[2].write_gb_per_month", "got -5", "Fix:"],
    ),
    (
        "reply-mapping",
        _set("dependencies", 0, "reply_gb_per_month", value={"a": 1}),
        ["dependencies[0].reply_gb_per_month", "Fix:"],
    ),
    (
        "dependency-volume-infinite",
        _set("dependencies", 0, "gb_per_month", value=float("inf")),
        ["dependencies[0].gb_per_month", "finite", "Fix:"],
    ),
    (
        "resilience-string",
        _policy("high"),
        ["resilience_policy", "must be a mapping", "Fix:", "rtoInSecs"],
    ),
    ("resilience-list", _policy([1]), ["resilience_policy", "got 'list'", "Fix:"]),
    (
        "resilience-target-null",
        _policy({"policy": {"Region": None}}),
        ["resilience_policy.policy.Region", "Fix:", "rpoInSecs"],
    ),
    (
        "resilience-rto-word",
        _policy({"policy": {"Region": {"rtoInSecs": "fast", "rpoInSecs": 60}}}),
        ["resilience_policy.policy.Region.rtoInSecs", "got 'fast'", "Fix:"],
    ),
    (
        "resilience-rto-nan",
        _policy({"policy": {"Region": {"rtoInSecs": float("nan"), "rpoInSecs": 60}}}),
        ["resilience_policy.policy.Region.rtoInSecs", "Fix:"],
    ),
    (
        "resilience-lower-case-type",
        _policy({"policy": {"region": REGION_TARGET}}),
        ["resilience_policy.policy.region", "did you mean `Region`"],
    ),
    (
        "resilience-location-number",
        _policy({"policy": {"Region": REGION_TARGET}, "dataLocationConstraint": 5}),
        ["resilience_policy.dataLocationConstraint", "AnyLocation"],
    ),
    (
        "resilience-wider-than-survive",
        _policy({"policy": {"Region": REGION_TARGET, "Provider": REGION_TARGET}}),
        ["policy.survive", "`provider`", "remove `survive`"],
    ),
    (
        "resilience-narrower-than-survive",
        _policy({"policy": {"Region": REGION_TARGET}}, survive="zone"),
        ["policy.survive", "`zone`", "remove `survive`"],
    ),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, planned: Any) -> Path:
    """A folder of wrong inputs beside a good plan, its spec and its CSV."""
    folder = tmp_path_factory.mktemp("hostile")
    plan = planned("kr-ecommerce")
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    (folder / "spec.yaml").write_text(
        (EXAMPLES / "kr-ecommerce.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "plan.csv").write_text(
        "service,provider,region,sku,category,tier,role,units,vcpu,mem_gib,storage_gb,"
        "requests_m,users,lb,usd_per_unit_month,usd_per_month\n"
        "web,aws,aws/ap-northeast-2,m5.large,compute.vm,IaaS,active,2,2,8,0,0,0,0,86.14,172.28\n",
        encoding="utf-8",
    )
    (folder / "v1.json").write_text(json.dumps({**plan, "schema_version": 1}), encoding="utf-8")
    (folder / "nan.json").write_text(
        json.dumps({**plan, "objective_usd_per_month": float("nan")}), encoding="utf-8"
    )
    (folder / "latin1.json").write_bytes(b'{"app": "caf\xe9"}')
    (folder / "empty.json").write_text("", encoding="utf-8")
    (folder / "bill.json").write_text("keep\n", encoding="utf-8")
    (folder / "a-folder").mkdir()
    filled = folder / "filled"
    filled.mkdir()
    (filled / "README.md").write_text("keep\n", encoding="utf-8")
    (folder / "tf.json").write_text(
        (EXAMPLES / "interop" / "three-tier.tfplan.json").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    for case, change, _ in SPEC_CASES:
        (folder / f"{case}.yaml").write_text(_spec_with(change), encoding="utf-8")
    return folder


CLI_CASES: list[tuple[str, tuple[str, ...], list[str]]] = [
    ("export-csv", ("export", "plan.csv", "--to", "infracost"), ["plan.csv", "plan's CSV"]),
    ("export-spec", ("export", "spec.yaml", "--to", "infracost"), ["spec.yaml", "a spec"]),
    (
        "export-schema-1",
        ("export", "v1.json", "--to", "infracost"),
        ["v1.json, schema_version", "got 1", "plan the spec again"],
    ),
    (
        "export-nan-objective",
        ("export", "nan.json", "--to", "karmada", "out-k"),
        ["objective_usd_per_month", "not a number"],
    ),
    ("export-latin1", ("export", "latin1.json", "--to", "infracost"), ["not UTF-8"]),
    ("export-empty", ("export", "empty.json", "--to", "infracost"), ["empty.json", "not JSON"]),
    ("export-folder", ("export", "a-folder", "--to", "infracost"), ["a-folder", "a folder"]),
    (
        "export-over-its-plan",
        ("export", "plan.json", "--to", "infracost", "plan.json", "--force"),
        ["--to infracost plan.json is one of the input files"],
    ),
    (
        "export-over-a-file",
        ("export", "plan.json", "--to", "infracost", "bill.json"),
        ["bill.json exists", "--force"],
    ),
    (
        "export-terraform-onto-a-file",
        ("export", "plan.json", "--to", "terraform", "bill.json"),
        ["bill.json is a file"],
    ),
    (
        "export-into-a-filled-folder",
        ("export", "plan.json", "--to", "terraform", "filled"),
        ["README.md", "refusing to overwrite", "--force"],
    ),
    (
        "export-two-destinations",
        ("export", "plan.json", "--to", "karmada", "a", "b"),
        ["takes one destination"],
    ),
    (
        "export-infracost-diff",
        ("export", "plan.json", "--to", "infracost-diff"),
        ["mcplan compare", "--format infracost-diff"],
    ),
    (
        "export-folder-in-missing-parent",
        ("export", "plan.json", "--to", "terraform", "nowhere/deeper/out"),
        ["nowhere/deeper", "does not exist"],
    ),
    (
        "import-our-plan-as-terraform",
        ("import", "terraform", "plan.json"),
        ["not the JSON of a Terraform plan", "terraform show -json"],
    ),
    (
        "import-terraform-onto-its-source",
        ("import", "terraform", "tf.json", "--out", "tf.json", "--force"),
        ["tf.json is one of the input files"],
    ),
    (
        "import-spec-as-manifests",
        ("import", "kubernetes", "spec.yaml"),
        ["spec.yaml", "no workload"],
    ),
    (
        "import-unknown-region",
        ("import", "kubernetes", "examples/interop/k8s-three-tier", "--region", "aws/mars-1"),
        ["aws/mars-1", "did you mean"],
    ),
    ("import-no-source", ("import", "kubernetes", "nowhere"), ["nowhere", "no such file"]),
    (
        "karmada-bad-namespace",
        ("export", "plan.json", "--to", "karmada", "out-k", "--namespace", "Shop Prod!"),
        ["--namespace `Shop Prod!` is not a Kubernetes namespace", "e.g. `shop-prod`"],
    ),
    (
        "export-empty-file-name",
        ("export", "plan.json", "--to", "infracost", ""),
        ["--to infracost is given an empty name"],
    ),
    ("plan-empty-out", ("plan", "spec.yaml", "--out", ""), ["--out", "an empty file name"]),
    (
        "import-latency-past-the-spec-limit",
        ("import", "terraform", "tf.json", "--max-latency-ms", "1e308"),
        ["argument --max-latency-ms", "at most 2,000"],
    ),
    (
        "import-bucket-past-the-spec-limit",
        ("import", "terraform", "tf.json", "--bucket-gb", "1e300"),
        ["argument --bucket-gb", "at most 1,000,000,000"],
    ),
    (
        "import-blank-out",
        ("import", "terraform", "tf.json", "--out", " "),
        ["--out", "an empty file name"],
    ),
]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.parametrize(("case", "args", "expected"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_mistaken_commands_exit_2_with_a_fix_and_touch_nothing(
    hostile: Path, case: str, args: tuple[str, ...], expected: list[str]
) -> None:
    before = _snapshot(hostile)
    run = run_here(args, hostile)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 2, f"{case}: exit {run.code}\n{run.stderr}"
    assert run.stdout == ""
    for text in expected:
        assert text in run.stderr, f"{case}: {text!r} not in\n{run.stderr}"
    assert _snapshot(hostile) == before, f"{case} changed files"


@pytest.mark.parametrize(
    ("case", "expected"), [(c[0], c[2]) for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES]
)
def test_mistaken_traffic_and_resilience_fields_exit_2_with_a_fix(
    hostile: Path, case: str, expected: list[str]
) -> None:
    run = run_here(("plan", f"{case}.yaml"), hostile)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code == 2, f"{case}: exit {run.code}\n{run.stderr}"
    assert run.stdout == ""
    assert f"{case}.yaml" in run.stderr
    for text in expected:
        assert text in run.stderr, f"{case}: {text!r} not in\n{run.stderr}"


def test_export_schema_version_is_the_reports() -> None:
    """The version the exporters accept is the one plan_to_dict writes."""
    from planner.interop.planjson import SCHEMA_VERSION
    from planner.report import JSON_VERSION

    assert SCHEMA_VERSION == JSON_VERSION


@pytest.mark.parametrize("name", EXAMPLE_PARAMS)
def test_roles_breakdown_and_scenarios_as_docs_json_md_says(
    planned: Callable[[str], dict[str, Any]], name: str
) -> None:
    """`active` only under active_active; `primary` is the region holding the most capacity;
    compute and storage split by what a row provides; one scenario per failure domain used."""
    plan = planned(name)
    strategy = {s["name"]: s["strategy"] for s in plan["services"]}
    rows_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in plan["placements"]:
        rows_of[p["service"]].append(p)
    for service, rows in rows_of.items():
        roles = {r["role"] for r in rows} - {"backup"}
        if strategy[service] == "active_active":
            assert roles == {"active"}, (service, roles)
            continue
        assert "active" not in roles and "primary" in roles, (service, roles)
        held: dict[str, float] = defaultdict(float)
        for r in rows:
            if r["role"] != "backup":
                held[r["region"]] += sum(r["capacity"]["total"].values())
        primary = {r["region"] for r in rows if r["role"] == "primary"}
        assert len(primary) == 1, (service, primary)
        assert held[primary.pop()] >= max(held.values()) - 1e-6, (service, dict(held))
    lines = plan["cost_breakdown_usd_per_month"]
    running = [p for p in plan["placements"] if p["role"] in ("active", "primary")]
    only_storage = [p for p in running if set(p["capacity"]["per_unit"]) == {"storage_gb"}]
    assert cents(lines["storage"], sum(p["usd_per_month"] for p in only_storage))
    assert cents(
        lines["compute"],
        sum(p["usd_per_month"] for p in running) - sum(p["usd_per_month"] for p in only_storage),
    )
    used = {p["region"] for p in plan["placements"]}
    expected = 1 + len(failures(plan["policy"], used))
    assert plan["verification"]["scenarios_checked"] == expected


def test_a_dash_is_standard_output_not_a_file(hostile: Path, tmp_path: Path) -> None:
    """`--to infracost -` and `--out -` print, as most tools do (they wrote a file named `-`)."""
    from planner.interop import export_infracost

    plan = json.loads((hostile / "plan.json").read_text(encoding="utf-8"))
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    run = run_here(("export", "plan.json", "--to", "infracost", "-"), tmp_path)
    assert run.code == 0, run.stderr
    assert strict_json(run.stdout) == export_infracost(plan)
    tf = (EXAMPLES / "interop" / "three-tier.tfplan.json").read_text(encoding="utf-8")
    (tmp_path / "tf.json").write_text(tf, encoding="utf-8")
    run = run_here(("import", "terraform", "tf.json", "--out", "-"), tmp_path)
    assert run.code == 0, run.stderr
    assert yaml.safe_load(run.stdout)["services"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "tf.json"]


def test_karmada_names_are_kubernetes_names() -> None:
    """A spec may name a service `app_cluster` (the Terraform import does); Kubernetes refuses
    `_` in object names, so the policy and its selectors use `app-cluster` (it wrote
    `app_cluster-placement`, which `kubectl apply` rejects)."""
    from planner.interop import export_karmada

    label = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    row = {
        "provider": "aws",
        "region": "aws/ap-northeast-2",
        "sku": "eks-m5-large",
        "category": "compute.k8s",
        "role": "active",
        "units": 2,
        "usd_per_unit_month": 10.0,
        "usd_per_month": 20.0,
        "capacity": {"per_unit": {"vcpu": 2.0}},
    }
    plan = {
        "schema_version": 2,
        "app": "a",
        "objective_usd_per_month": 40.0,
        "services": [],
        "placements": [{**row, "service": "App_Cluster"}, {**row, "service": "app-cluster"}],
    }
    files = export_karmada(plan)
    policies = [yaml.safe_load(text) for name, text in files.items() if name != "README.md"]
    assert len(policies) == 2
    names = {doc["metadata"]["name"] for doc in policies}
    assert len(names) == 2
    for doc in policies:
        assert label.match(doc["metadata"]["name"].removesuffix("-placement")), doc
        assert all(label.match(s["name"]) for s in doc["spec"]["resourceSelectors"])
    assert "App_Cluster (workloads named `app-cluster" in files["README.md"]


def test_imported_balancer_stays_near_its_backends(catalog: Any) -> None:
    """A LoadBalancer Service depends, with a latency budget, on the workloads it selects (it
    had no tie to them, and the bundled sample's plan put web-lb in India and web in Korea and
    Singapore)."""
    from planner.interop import import_kubernetes, read_manifests

    docs = read_manifests(EXAMPLES / "interop" / "k8s-three-tier")
    spec = import_kubernetes(docs, catalog.regions, region="aws/ap-northeast-2").spec
    balancer = [d for d in spec.get("dependencies", []) if d["from"] == "web-lb"]
    assert [(d["to"], d.get("max_latency_ms") is not None) for d in balancer] == [("web", True)]
