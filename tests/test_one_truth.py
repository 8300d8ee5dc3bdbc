"""One truth (issue 15, rule 7): the verifier accepts a plan exactly when the failure function
finds it clean: in normal operation and after every failure of its policy (as the sweep sweeps
them) no service is down, every user group is served and every dependency is within budget.

Small random plans are drawn row by row on a synthetic catalog and on the shipped one, meeting
every static rule of the verifier by construction (allowed offerings, whole data copies, managed
storage beside its instance, backups only under backup/restore, no limits), so that what decides
the verdict is the failure rules alone; and every bundled example's plan is checked the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from planner import Catalog, Plan, verify_plan
from planner.analysis.failure import DOWN, FailureTables, evaluate, normal_operation
from planner.analysis.whatif import sweep
from planner.catalog.columns import RESOURCES
from planner.errors import InfeasibleError, NoPlanError
from planner.optimize import PlanOptions, make_plan
from planner.plan import PLACEMENT_COLUMNS, egress_for, fees_for
from planner.spec import load_spec, spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog
from tests.conftest import EXAMPLES

FLOWS = "traffic" if "traffic" in {f.name for f in fields(Plan)} else "egress"
STRATEGIES = ("active_active", "warm_standby", "pilot_light", "backup_restore")
POINTS = {"seoul": (37.5, 127.0), "busan": (35.2, 129.1), "tokyo": (35.7, 139.7)}


def failure_rules_clean(plan: Plan, catalog: Catalog) -> bool:
    """Normal operation and the sweep over the policy's failures: no service down, every user
    group served, every dependency within budget."""
    t = FailureTables.build(plan, catalog)
    normal = evaluate(t, normal_operation(t))
    clean = bool(
        (normal.status[0] != DOWN).all()
        and normal.groups_ok.all()
        and not normal.dependencies_out.any()
    )
    policy = plan.spec.policy.survive
    return clean and (policy == "none" or bool(sweep(plan, catalog, policy, t)["survived"].all()))


# ------------------------------------------------------------------------------------ worlds
def _synthetic_world() -> Catalog:
    regions = [
        SynthRegion("pa", "seoul", zones=2, lat=37.55, lon=126.99),
        SynthRegion("pa", "busan", zones=2, lat=35.18, lon=129.08),
        SynthRegion("pa", "daegu", zones=1, lat=35.87, lon=128.6),
        SynthRegion("pb", "tokyo", jurisdiction="JP", zones=3, lat=35.68, lon=139.69),
        *(
            SynthRegion(
                "priv",
                code,
                zones=1,
                lat=lat,
                lon=lon,
                private=True,
                vcpu_capacity=1e4,
                mem_gib_capacity=1e5,
                storage_gb_capacity=1e6,
            )
            for code, lat, lon in (("dc1", 37.4, 127.1), ("dc2", 35.1, 129.0))
        ),  # fmt: skip
    ]
    offerings = [
        o
        for r in ("pa/seoul", "pa/busan", "pa/daegu", "pb/tokyo")
        for o in (
            SynthOffering(r, "vm4", "compute.vm", 100, vcpu=4, mem_gib=16),
            SynthOffering(r, "vm2", "compute.vm", 50, vcpu=2, mem_gib=8),
            SynthOffering(r, "blk", "storage.block", 20, storage_gb=500),
            SynthOffering(r, "obj", "storage.object", 5, tier="PaaS", storage_gb=500),
            SynthOffering(r, "rds4", "db.relational", 150, tier="PaaS", vcpu=4, mem_gib=16),
            SynthOffering(r, "rds-gp3", "db.relational", 30, tier="PaaS", storage_gb=500),
            SynthOffering(r, "mdb2", "db.relational", 90, tier="PaaS", vcpu=2, writers="multi"),
        )
    ]
    offerings += [
        o
        for r in ("priv/dc1", "priv/dc2")
        for o in (
            SynthOffering(r, "flavor4", "compute.vm", 40, vcpu=4, mem_gib=16),
            SynthOffering(r, "vol", "storage.block", 10, storage_gb=500),
        )
    ]
    offerings += [
        SynthOffering("pa/seoul", "sso", "saas.identity", 30, tier="SaaS", users=100,
                      scope="global"),
        SynthOffering("pb/tokyo", "sso", "saas.identity", 30, tier="SaaS", users=100),
    ]  # fmt: skip
    return make_catalog(regions, offerings)


@pytest.fixture(scope="module")
def synthetic() -> Catalog:
    return _synthetic_world()


SHIPPED_REGIONS = (
    "aws/ap-northeast-2",
    "azure/koreacentral",
    "gcp/asia-northeast3",
    "naver/KR",
    "openstack/seoul-dc1",
    "openstack/busan-dc2",
)


# ------------------------------------------------------------------------------------ plans
@dataclass(frozen=True)
class _Kind:
    category: str
    tiers: tuple[str, ...]
    demand: dict[str, float]


KINDS = {
    "app": _Kind("compute.vm", ("IaaS",), {"vcpu": 8.0, "mem_gib": 16.0}),
    "small": _Kind("compute.vm", ("IaaS",), {"vcpu": 4.0}),
    "db": _Kind("db.relational", ("IaaS", "PaaS"), {"vcpu": 4.0, "storage_gb": 400.0}),
    "files": _Kind("storage.block", ("IaaS",), {"storage_gb": 300.0}),
    "login": _Kind("saas.identity", ("SaaS",), {"users": 50.0}),
}


def _offers(catalog: Catalog, region: str, category: str, resource: str) -> list[str]:
    """Offerings of `category` in `region` with capacity in `resource`, smallest first."""
    off = catalog.offerings
    mine = off[(off["region"] == region) & (off["category"] == category) & (off[resource] > 0)]
    if resource == "vcpu":
        mine = mine[mine["vcpu"] <= 8]
    if category == "db.relational" and resource == "vcpu":
        # each instance offering and its storage (rule 2): only offerings whose storage exists
        mine = mine[~mine.index.str.contains("multiaz|-ha|zrha")]
    return list(mine.sort_values(resource).index)


def _whole(catalog: Catalog, offering: str, gb: float) -> int:
    return math.ceil(gb / float(catalog.offerings.at[offering, "storage_gb"]) - 1e-9)


def _rows_of(  # noqa: C901 - one branch per kind of service, each a few lines
    draw: st.DrawFn, catalog: Catalog, name: str, kind: _Kind, strategy: str, regions: list[str]
) -> list[tuple[str, str, int, str]]:
    """A service's rows in some of `regions`: serving units, a whole data copy wherever it
    holds rows, managed storage beside its instance, backups under backup/restore."""
    out: list[tuple[str, str, int, str]] = []
    main = next(r for r in ("vcpu", "users", "storage_gb") if kind.demand.get(r, 0) > 0)
    storage = kind.demand.get("storage_gb", 0.0)
    paas = kind.category == "db.relational" and draw(st.booleans())
    chosen = draw(st.lists(st.sampled_from(regions), min_size=1, max_size=3, unique=True))
    for r in chosen:
        category = "compute.vm" if kind.category == "db.relational" and not paas else kind.category
        if category == "storage.block":
            serving = []
        else:
            serving = _offers(catalog, r, category, main if main != "storage_gb" else "vcpu")
            if not serving:
                continue
            units = draw(st.integers(1, 60 if main == "users" else 2))
            out.append((name, draw(st.sampled_from(serving[:2])), units, "primary"))
        if storage > 0:
            kinds = ("db.relational",) if paas else ("storage.block",)
            disks = [o for c in kinds for o in _offers(catalog, r, c, "storage_gb")]
            if not disks:
                return []
            disk = disks[0]
            out.append((name, disk, _whole(catalog, disk, storage), "primary"))
    if out and storage > 0 and strategy == "backup_restore" and draw(st.booleans()):
        public = [r for r in regions if catalog.regions.at[r, "kind"] == "public"]
        buckets = [o for r in public for o in _offers(catalog, r, "storage.object", "storage_gb")]
        if buckets:
            bucket = draw(st.sampled_from(buckets))
            out.append((name, bucket, _whole(catalog, bucket, storage), "backup"))
    return out


@st.composite
def plans(draw: st.DrawFn, catalog: Catalog, regions: list[str]) -> Plan:
    """A random plan meeting every static rule of the verifier (see the module docstring)."""
    n = draw(st.integers(1, 4))
    names = [f"s{i}" for i in range(n)]
    kinds = [draw(st.sampled_from(sorted(KINDS))) for _ in names]
    strategies = {
        s: "active_active" if k == "login" else draw(st.sampled_from(STRATEGIES))
        for s, k in zip(names, kinds, strict=True)
    }
    rows: list[tuple[str, str, int, str]] = []
    services = []
    for s, k in zip(names, kinds, strict=True):
        kind = KINDS[k]
        placed = _rows_of(draw, catalog, s, kind, strategies[s], regions)
        if not placed:  # nothing to sell it here: a compute service on the private sites
            kind = KINDS["small"]
            placed = _rows_of(draw, catalog, s, kind, strategies[s], regions)
        rows += placed
        services.append(
            {
                "name": s,
                "category": kind.category,
                "tiers": list(kind.tiers),
                "demand": kind.demand,
                "stateful": draw(st.booleans()),
                "user_facing": draw(st.booleans()),
                "dr": "auto",
            }
        )
    weights = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    users = [
        {
            "name": f"g{i}",
            "lat": POINTS[point][0],
            "lon": POINTS[point][1],
            "share": w / sum(weights),
            "max_latency_ms": draw(st.sampled_from([5, 15, 40])),
        }
        for i, (w, point) in enumerate(
            zip(weights, [draw(st.sampled_from(sorted(POINTS))) for _ in weights], strict=True)
        )
    ]
    deps = [
        {"from": names[a], "to": names[b], **({"max_latency_ms": budget} if budget else {})}
        for a in range(n)
        for b in range(a)
        if draw(st.booleans())
        for budget in [draw(st.sampled_from([None, 5, 15]))]
    ]
    policy = draw(st.sampled_from(["none", "zone", "region", "site", "provider"]))
    spec = spec_from_data(
        {
            "app": "random",
            "policy": {"survive": policy},
            "users": users,
            "services": services,
            "dependencies": deps,
        },
        "random.yaml",
    )
    return _plan(catalog, spec, rows, strategies)


def _plan(catalog: Catalog, spec, rows, strategies) -> Plan:  # noqa: ANN001
    off = catalog.offerings
    table = pd.DataFrame(
        [
            {
                "service": s,
                **{k: off.at[o, k] for k in ("provider", "region", "sku", "category", "tier")},
                "offering": o,
                "role": role,
                "units": units,
                **{r: float(off.at[o, r]) for r in RESOURCES},
                "usd_per_unit_month": float(off.at[o, "usd_per_month"]),
                "usd_per_month": float(off.at[o, "usd_per_month"]) * units,
            }
            for s, o, units, role in rows
        ],
        columns=PLACEMENT_COLUMNS,
    )
    flows = {FLOWS: egress_for(table, spec, catalog)}
    return Plan(
        spec=spec,
        placements=table,
        strategies=strategies,
        fees=fees_for(table, catalog),
        **flows,
    )


RANDOM = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SYNTHETIC_REGIONS = ["pa/seoul", "pa/busan", "pa/daegu", "pb/tokyo", "priv/dc1", "priv/dc2"]


def _agree(plan: Plan, catalog: Catalog) -> None:
    report = verify_plan(plan, catalog)
    assert report.ok == failure_rules_clean(plan, catalog), report.violations


@RANDOM
@given(data=st.data())
def test_the_verifier_is_the_failure_function_on_random_plans(
    synthetic: Catalog, data: st.DataObject
) -> None:
    _agree(data.draw(plans(synthetic, SYNTHETIC_REGIONS)), synthetic)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_verifier_is_the_failure_function_on_the_shipped_catalog(
    catalog: Catalog, data: st.DataObject
) -> None:
    _agree(data.draw(plans(catalog, list(SHIPPED_REGIONS))), catalog)


def test_random_plans_reach_both_verdicts(synthetic: Catalog) -> None:
    """The draws are not all of one kind: plans that survive their policy's failures and plans
    that do not are both drawn (so the property above can fail either way)."""
    for wanted in (True, False):
        found = find(
            plans(synthetic, SYNTHETIC_REGIONS),
            lambda p, w=wanted: (
                p.spec.policy.survive != "none" and verify_plan(p, synthetic).ok == w
            ),
            # the first one found will do: no shrinking, which would cost a minute
            settings=settings(
                max_examples=500, deadline=None, database=None, phases=[Phase.generate]
            ),
        )
        assert verify_plan(found, synthetic).ok == wanted


# ------------------------------------------------------------------------------------ examples
@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: Path(p).stem)
def test_the_verifier_is_the_failure_function_on_every_example(
    path: Path, catalog: Catalog
) -> None:
    """Whatever the optimiser makes of an example (the model may still read the rules
    differently), the verifier's verdict on it is the failure function's."""
    try:
        plan = make_plan(load_spec(path), catalog, PlanOptions(time_limit=15))
    except (InfeasibleError, NoPlanError):
        pytest.skip("no plan for this example")
    _agree(plan, catalog)
