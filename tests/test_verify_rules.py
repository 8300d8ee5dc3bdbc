"""The independent verifier, one rule at a time.

Each test starts from a plan that verifies, changes its placements, its strategies or the spec it
is checked against so that exactly one rule breaks, and checks that `verify_plan` rejects it with
violations of that rule only, naming what broke. The unchanged plan passing is checked in every
test, so each one can fail either way.

The plans are drawn by hand on a small synthetic catalog (two public providers, two private
sites): their placements are written out below, so what each test relies on does not move when
the optimiser finds another optimum (it used to be the optimiser's plan). Each test still states
the shape it relies on as an assertion.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re

import pandas as pd
import pytest

from planner import Catalog, Plan, spec_from_text, verify_plan
from planner.catalog.columns import RESOURCES
from planner.plan import PLACEMENT_COLUMNS, egress_for, fees_for
from planner.spec import AppSpec, UserGroup
from planner.synthetic import SynthOffering, SynthRegion, make_catalog

# the Plan field holding what the plan pays for traffic (egress before it priced every flow)
FLOWS = "traffic" if "traffic" in {f.name for f in dataclasses.fields(Plan)} else "egress"


def _public(region: str, factor: float) -> list[SynthOffering]:
    return [
        SynthOffering(region, "vm4", "compute.vm", 100 * factor, vcpu=4, mem_gib=16),
        SynthOffering(region, "vm2", "compute.vm", 50 * factor, vcpu=2, mem_gib=8),
        SynthOffering(region, "blk", "storage.block", 20 * factor, storage_gb=500),
        SynthOffering(region, "obj", "storage.object", 5 * factor, tier="PaaS", storage_gb=500),
        # a managed database: instances and their storage are sold apart (rule 2)
        SynthOffering(region, "rds4", "db.relational", 150 * factor, tier="PaaS", vcpu=4),
        SynthOffering(region, "rds-gp3", "db.relational", 30 * factor, tier="PaaS", storage_gb=500),
        # a multi-writer database: every replica takes writes (rule 3)
        SynthOffering(
            region, "mdb2", "db.relational", 90 * factor, tier="PaaS", vcpu=2, writers="multi"
        ),
        SynthOffering(
            region, "mdb4", "db.relational", 180 * factor, tier="PaaS", vcpu=4, writers="multi"
        ),
    ]


def _private(region: str, price: float) -> list[SynthOffering]:
    return [
        SynthOffering(region, "flavor4", "compute.vm", price, vcpu=4, mem_gib=16),
        SynthOffering(region, "vol", "storage.block", price / 4, storage_gb=500),
    ]


@pytest.fixture(scope="module")
def world() -> Catalog:
    """Provider pa in Seoul and Busan (two zones each), pb in Tokyo (JP), and two private sites
    near Seoul and Busan with 24 vCPU each: private compute is cheapest, Tokyo the cheapest
    public region."""
    regions = [
        SynthRegion("pa", "seoul", zones=2, lat=37.55, lon=126.99),
        SynthRegion("pa", "busan", zones=2, lat=35.18, lon=129.08),
        SynthRegion("pb", "tokyo", jurisdiction="JP", zones=3, lat=35.68, lon=139.69),
        *(
            SynthRegion(
                "priv",
                code,
                zones=1,
                lat=lat,
                lon=lon,
                private=True,
                vcpu_capacity=24,
                mem_gib_capacity=1e5,
                storage_gb_capacity=1e6,
            )
            for code, lat, lon in (("dc1", 37.40, 127.10), ("dc2", 35.10, 129.00))
        ),
    ]
    offerings = [
        *_public("pa/seoul", 1.0),
        *_public("pa/busan", 1.1),
        *_public("pb/tokyo", 0.9),
        *_private("priv/dc1", 40),
        *_private("priv/dc2", 45),
        # global SaaS: the vendor runs it across its regions (see the regional variant below)
        SynthOffering(
            "pa/seoul", "sso", "saas.identity", 30, tier="SaaS", users=100, scope="global"
        ),
    ]
    return make_catalog(regions, offerings)


SHOP = """
app: shop
policy: {survive: region}
users:
  - {name: seoul, lat: 37.5, lon: 127.0, share: 1.0, max_latency_ms: 30}
services:
  - {name: web, category: compute.vm, tiers: [IaaS], demand: {vcpu: 8}, user_facing: true,
     dr: active_active}
  - {name: api, category: compute.vm, tiers: [IaaS], demand: {vcpu: 8}, dr: warm_standby,
     providers: [pa, pb]}
  - {name: db, category: db.relational, tiers: [IaaS], demand: {vcpu: 4, storage_gb: 400},
     dr: backup_restore}
  - {name: docs, category: storage.block, tiers: [IaaS], demand: {storage_gb: 400},
     dr: backup_restore}
  - {name: batch, category: compute.vm, tiers: [IaaS], demand: {vcpu: 4}, dr: pilot_light}
dependencies:
  - {from: web, to: api, gb_per_month: 100}
  - {from: api, to: db, gb_per_month: 50, max_latency_ms: 20}
"""

# One service on provider pa's VMs and one SaaS service, planned to survive nothing: checked
# under each policy, only the failures of that policy break it.
SOLO = """
app: solo
policy: {survive: none}
services:
  - {name: app, category: compute.vm, tiers: [IaaS], demand: {vcpu: 12}, providers: [pa]}
  - {name: login, category: saas.identity, tiers: [SaaS], demand: {users: 50}}
"""


# The plans the tests start from, row by row: (service, offering, units, role).
SHOP_ROWS = [
    ("api", "pa/seoul/vm4", 1, "primary"),
    ("api", "pa/busan/vm4", 1, "standby"),
    ("batch", "priv/dc1/flavor4", 1, "primary"),
    ("batch", "priv/dc2/flavor4", 1, "standby"),
    ("db", "priv/dc1/flavor4", 1, "primary"),
    ("db", "priv/dc1/vol", 1, "primary"),
    ("db", "priv/dc2/flavor4", 1, "standby"),
    ("db", "priv/dc2/vol", 1, "standby"),
    ("db", "pb/tokyo/obj", 1, "backup"),
    ("docs", "priv/dc1/vol", 1, "primary"),
    ("docs", "pb/tokyo/obj", 1, "backup"),
    ("web", "priv/dc1/flavor4", 1, "active"),
    ("web", "priv/dc2/flavor4", 1, "active"),
    ("web", "pb/tokyo/vm4", 1, "active"),
]
SHOP_STRATEGIES = {
    "web": "active_active",
    "api": "warm_standby",
    "db": "backup_restore",
    "docs": "backup_restore",
    "batch": "pilot_light",
}
SOLO_ROWS = [("app", "pa/seoul/vm4", 3, "active"), ("login", "pa/seoul/sso", 1, "active")]


def _drawn(
    text: str,
    name: str,
    catalog: Catalog,
    rows: list[tuple[str, str, float, str]],
    strategies: dict[str, str],
) -> Plan:
    """A plan from its rows, priced from the catalog as the planner prices its own."""
    p = pd.DataFrame(
        [_row(catalog, s, o, n, role) for s, o, n, role in rows], columns=PLACEMENT_COLUMNS
    )
    spec = spec_from_text(text, name)
    flows = {FLOWS: egress_for(p, spec, catalog)}
    return Plan(
        spec=spec, placements=p, strategies=dict(strategies), fees=fees_for(p, catalog), **flows
    )


def _plan(
    text: str,
    name: str,
    catalog: Catalog,
    rows: list[tuple[str, str, float, str]],
    strategies: dict[str, str],
) -> Plan:
    plan = _drawn(text, name, catalog, rows, strategies)
    report = verify_plan(plan, catalog)
    assert report.ok, report.violations
    plan.verification = report
    return plan


@pytest.fixture(scope="module")
def shop(world: Catalog) -> Plan:
    return _plan(SHOP, "shop.yaml", world, SHOP_ROWS, SHOP_STRATEGIES)


@pytest.fixture(scope="module")
def solo(world: Catalog) -> Plan:
    return _plan(
        SOLO, "solo.yaml", world, SOLO_ROWS, {"app": "active_active", "login": "active_active"}
    )


# ------------------------------------------------------------------------------------ helpers
def _changed(
    plan: Plan,
    catalog: Catalog,
    placements: pd.DataFrame | None = None,
    strategies: dict[str, str] | None = None,
    spec: AppSpec | None = None,
    reprice: bool = True,
) -> Plan:
    """A copy of `plan` with the given parts replaced. Changed placements are priced again from
    the catalog (units x price, fees, egress), as the planner prices its own, so that a change of
    units or offerings does not also break the reported cost."""
    out = copy.copy(plan)
    out.spec = spec if spec is not None else plan.spec
    out.strategies = dict(strategies if strategies is not None else plan.strategies)
    out.placements = (placements if placements is not None else plan.placements).copy()
    if reprice:
        p = out.placements
        p["usd_per_month"] = p["usd_per_unit_month"] * p["units"]
        out.fees = fees_for(p, catalog)
        setattr(out, FLOWS, egress_for(p, out.spec, catalog))
    return out


def _service(spec: AppSpec, name: str, **changes: object) -> AppSpec:
    """The spec with one service's fields replaced."""
    services = tuple(s.model_copy(update=changes) if s.name == name else s for s in spec.services)
    return spec.model_copy(update={"services": services})


def _with_group(spec: AppSpec, group: UserGroup) -> AppSpec:
    """The spec with one user group more; the others' shares scaled so that all add up to 1."""
    scale = 1 - group.share
    users = tuple(u.model_copy(update={"share": u.share * scale}) for u in spec.users)
    return spec.model_copy(update={"users": (*users, group)})


def _rows(plan: Plan, service: str) -> pd.DataFrame:
    p = plan.placements
    return p[p["service"] == service]


def _row(catalog: Catalog, service: str, offering: str, units: float, role: str) -> dict:
    """A placements row for `units` of a catalog offering."""
    o = catalog.offerings.loc[offering]
    return {
        "service": service,
        "provider": o["provider"],
        "region": o["region"],
        "sku": o["sku"],
        "offering": offering,
        "category": o["category"],
        "tier": o["tier"],
        "role": role,
        "units": units,
        **{r: float(o[r]) for r in RESOURCES},
        "usd_per_unit_month": float(o["usd_per_month"]),
        "usd_per_month": float(o["usd_per_month"]) * units,
    }


def _only_rule_broken(
    base: Plan, broken: Plan, catalog: Catalog, rule: str, *names: str
) -> list[str]:
    """`base` verifies; `broken` does not, every violation matches the `rule` pattern and the
    violations mention every one of `names`."""
    before = verify_plan(base, catalog)
    assert before.ok, before.violations
    after = verify_plan(broken, catalog)
    assert not after.ok, "the verifier accepted a plan that breaks the rule"
    others = [v for v in after.violations if not re.search(rule, v)]
    assert not others, f"violations of other rules too: {others}"
    for name in names:
        assert any(name in v for v in after.violations), (name, after.violations)
    return after.violations


def _scenario(violations: list[str]) -> set[str]:
    """The failures named in survival violations ("after losing <failure>, ...")."""
    return {m.group(1) for v in violations if (m := re.search(r"after losing (.+?), ", v))}


# ------------------------------------------------------------------------------------ the plan
def test_the_plans_have_the_shapes_the_tests_rely_on(shop: Plan, solo: Plan) -> None:
    assert shop.strategies == {
        "web": "active_active",
        "api": "warm_standby",
        "db": "backup_restore",
        "docs": "backup_restore",
        "batch": "pilot_light",
    }
    regions = {s: set(_rows(shop, s)["region"]) for s in shop.strategies}
    assert len(regions["web"]) == 3 and len({r.split("/")[0] for r in regions["web"]}) == 2
    assert regions["batch"] <= {"priv/dc1", "priv/dc2"}
    assert set(_rows(shop, "docs")["role"]) == {"primary", "backup"}
    assert set(solo.placements["region"]) == {"pa/seoul"}
    assert _rows(solo, "app")["units"].tolist() == [3]


# ------------------------------------------------------------------------------------ the rows
def test_an_offering_not_in_the_catalog(shop: Plan, world: Catalog) -> None:
    p = shop.placements.copy()
    p.loc[0, "offering"] = "pa/seoul/vm999"
    broken = _changed(shop, world, p, reprice=False)
    _only_rule_broken(shop, broken, world, "offerings not in the catalog", "pa/seoul/vm999")


def test_units_must_be_whole(shop: Plan, world: Catalog) -> None:
    p = shop.placements.astype({"units": float})
    row = _rows(shop, "web").index[0]
    p.loc[row, "units"] += 0.5  # more capacity, priced: only the count itself is wrong
    _only_rule_broken(shop, _changed(shop, world, p), world, "whole, non-negative")


def test_every_service_is_placed(shop: Plan, world: Catalog) -> None:
    # batch has no users, dependencies or latency budgets: removing it breaks nothing else
    p = shop.placements[shop.placements["service"] != "batch"]
    _only_rule_broken(
        shop, _changed(shop, world, p), world, r"^batch: not placed anywhere$", "batch"
    )


def test_offering_categories_follow_the_service_tiers(shop: Plan, world: Catalog) -> None:
    # compute.vm offerings serve a compute.vm service in IaaS only
    spec = _service(shop.spec, "web", tiers=("PaaS",))
    _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r"^web: .*category.*not allowed", "web"
    )


def test_backups_are_object_storage(shop: Plan, world: Catalog) -> None:
    p = shop.placements.copy()
    (row,) = p.index[(p["service"] == "docs") & (p["role"] == "backup")]
    region = p.at[row, "region"]
    # the same capacity as block storage, in the same region
    p.loc[row] = pd.Series(_row(world, "docs", f"{region}/blk", 1, "backup"))
    _only_rule_broken(
        shop, _changed(shop, world, p), world, r"^docs: backups must be object storage$", "docs"
    )


def test_backups_only_under_a_strategy_that_uses_them(shop: Plan, world: Catalog) -> None:
    # pilot light keeps the same share of data and compute as backup/restore, but no backups
    spec = _service(shop.spec, "docs", dr="pilot_light")
    strategies = {**shop.strategies, "docs": "pilot_light"}
    broken = _changed(shop, world, strategies=strategies, spec=spec)
    _only_rule_broken(shop, broken, world, r"^docs: holds backup copies but pilot_light", "docs")


# ------------------------------------------------------------------------------------ where
def test_residency(shop: Plan, world: Catalog) -> None:
    assert set(world.regions.loc[_rows(shop, "web")["region"], "jurisdiction"]) == {"JP", "KR"}
    spec = _service(shop.spec, "web", residency=("KR",))
    _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r"^web: placed in jurisdictions", "JP"
    )


def test_provider_allow_list(shop: Plan, world: Catalog) -> None:
    spec = _service(shop.spec, "web", providers=("priv",))
    _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r"^web: uses providers .*allowed", "pb"
    )


def test_forbidden_providers(shop: Plan, world: Catalog) -> None:
    spec = _service(shop.spec, "web", forbid_providers=("pb",))
    _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r"^web: uses forbidden or excluded", "pb"
    )


def test_excluded_providers(shop: Plan, world: Catalog) -> None:
    in_tokyo = sorted(set(shop.placements.loc[shop.placements["provider"] == "pb", "service"]))
    assert len(in_tokyo) >= 3
    spec = shop.spec.with_policy(exclude_providers=("pb",))
    violations = _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r": uses forbidden or excluded", *in_tokyo
    )
    assert len(violations) == len(in_tokyo)


def test_excluded_regions(shop: Plan, world: Catalog) -> None:
    in_tokyo = sorted(set(shop.placements.loc[shop.placements["region"] == "pb/tokyo", "service"]))
    spec = shop.spec.with_policy(exclude_regions=("pb/tokyo",))
    violations = _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r": uses excluded regions", *in_tokyo
    )
    assert len(violations) == len(in_tokyo)


def test_max_regions(shop: Plan, world: Catalog) -> None:
    spec = _service(shop.spec, "web", max_regions=2)
    _only_rule_broken(
        shop, _changed(shop, world, spec=spec), world, r"^web: runs in more than 2 regions$"
    )


def test_backup_regions_do_not_count_towards_max_regions(shop: Plan, world: Catalog) -> None:
    """The other side of the rule above: docs runs in one region and keeps a backup in another."""
    assert _rows(shop, "docs").groupby("role")["region"].nunique().to_dict() == {
        "backup": 1,
        "primary": 1,
    }
    spec = _service(shop.spec, "docs", max_regions=1)
    assert verify_plan(_changed(shop, world, spec=spec), world).ok


def test_max_providers(shop: Plan, world: Catalog) -> None:
    used = shop.providers()
    spec = shop.spec.with_policy(max_providers=len(used) - 1)
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        rf"^uses {len(used)} providers, policy allows {len(used) - 1}$",
    )


# ------------------------------------------------------------------------------------ strategies
def test_an_unknown_strategy(shop: Plan, world: Catalog) -> None:
    strategies = {**shop.strategies, "api": "hot_spare"}
    _only_rule_broken(
        shop,
        _changed(shop, world, strategies=strategies),
        world,
        r"^api: unknown strategy hot_spare$",
    )


def test_the_requested_strategy(shop: Plan, world: Catalog) -> None:
    spec = _service(shop.spec, "api", dr="active_active")
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        r"^api: strategy warm_standby differs from the requested active_active$",
    )


def test_rto(shop: Plan, world: Catalog) -> None:
    assert world.strategies.at["warm_standby", "rto_minutes"] == 15
    spec = _service(shop.spec, "api", rto_minutes=10)
    _only_rule_broken(shop, _changed(shop, world, spec=spec), world, r"^api: .*RTO 15 min > .*10")


def test_rpo(shop: Plan, world: Catalog) -> None:
    assert world.strategies.at["warm_standby", "rpo_minutes"] == 1
    spec = _service(shop.spec, "api", rpo_minutes=0.5)
    _only_rule_broken(shop, _changed(shop, world, spec=spec), world, r"^api: .*RPO 1 min > .*0.5")


def test_strategy_fractions_after_a_failure(shop: Plan, world: Catalog) -> None:
    """api keeps half its demand in each of two regions: enough for warm standby (a quarter), not
    for active/active (all of it)."""
    api = _rows(shop, "api")
    assert len(set(api["region"])) == 2
    assert ((api["vcpu"] * api["units"]).groupby(api["region"]).sum() == 4).all()
    spec = _service(shop.spec, "api", dr="active_active")
    strategies = {**shop.strategies, "api": "active_active"}
    violations = _only_rule_broken(
        shop,
        _changed(shop, world, strategies=strategies, spec=spec),
        world,
        r"^api: after losing region .*, 4 vcpu remain, needs 8 \(active_active\)$",
    )
    assert _scenario(violations) == {f"region {r}" for r in api["region"]}


# ------------------------------------------------------------------------------------ capacity
def test_demand_in_normal_operation(shop: Plan, world: Catalog) -> None:
    """api holds 4 vCPU in each of two public regions. Asking one vCPU more than it holds breaks
    normal operation only: warm standby keeps a quarter of the demand after a failure, which 4
    still covers, and api can grow in the public region that survives. (Its calls to db, sent in
    proportion to a capacity it does not have, are out of proportion as a consequence.)"""
    api = _rows(shop, "api")
    assert set(api["provider"]) <= {"pa", "pb"} and len(set(api["region"])) == 2
    held = float((api["vcpu"] * api["units"]).sum())
    assert held == 8
    demand = shop.spec.service("api").demand.model_copy(update={"vcpu": held + 1})
    spec = _service(shop.spec, "api", demand=demand)
    violations = _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        r"^(api: 8 vcpu in normal operation, demand 9|api->db: .* sends .* but holds capacity .*)$",
    )
    assert "api: 8 vcpu in normal operation, demand 9" in violations


def test_every_copy_of_the_data_is_whole(shop: Plan, world: Catalog) -> None:
    """A VM of a service that stores data makes its region hold a copy: a region with a VM and no
    storage holds a partial (empty) copy."""
    db = _rows(shop, "db")
    spare = next(r for r in ("pa/seoul", "pa/busan") if r not in set(db["region"]))
    p = pd.concat(
        [shop.placements, pd.DataFrame([_row(world, "db", f"{spare}/vm4", 1, "standby")])],
        ignore_index=True,
    )
    _only_rule_broken(
        shop,
        _changed(shop, world, p),
        world,
        rf"^db: {spare} holds a partial copy \(0 of 400 GB\)$",
    )


def test_private_share(shop: Plan, world: Catalog) -> None:
    # api runs on public clouds only; allowed onto the private sites, half of it must run there
    assert not (_rows(shop, "api")["provider"] == "priv").any()
    spec = _service(shop.spec, "api", providers=()).with_policy(private_share_min=0.5)
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        r"^api: 0 vcpu on private sites, policy wants 50% of 8$",
    )


def test_private_site_capacity(shop: Plan, world: Catalog) -> None:
    p = shop.placements.copy()
    here = p["region"] == "priv/dc1"
    used = float((p.loc[here, "vcpu"] * p.loc[here, "units"]).sum())
    usable = float(world.sites.at["priv/dc1", "vcpu_capacity"])
    (row,) = p.index[here & (p["service"] == "web")]
    extra = math.floor((usable - used) / 4) + 1  # one 4-vCPU unit more than the site has left
    p.loc[row, "units"] += extra
    _only_rule_broken(
        shop,
        _changed(shop, world, p),
        world,
        rf"^site priv/dc1: {used + 4 * extra:g} vcpu used, {usable:g} usable$",
    )


# ------------------------------------------------------------------------------------ failures
@pytest.mark.parametrize(
    ("survive", "failure", "services"),
    [
        ("zone", "a zone of pa/seoul", {"app"}),
        ("region", "region pa/seoul", {"app"}),
        ("site", "site pa/seoul", {"app"}),
        ("provider", "provider pa", {"app", "login"}),
    ],
)
def test_capacity_after_each_failure_of_the_policy(
    solo: Plan, world: Catalog, survive: str, failure: str, services: set[str]
) -> None:
    """Three VMs in one two-zone region: a zone failure takes ceil(3 / 2) = 2 of them; region,
    site and provider failures take all three. The SaaS service is hit by the provider failure
    only."""
    spec = solo.spec.with_policy(survive=survive)
    violations = _only_rule_broken(
        solo, _changed(solo, world, spec=spec), world, r"after losing .*remain, needs"
    )
    assert {v.split(":")[0] for v in violations} == services
    assert _scenario(violations) == {failure}
    app = next(v for v in violations if v.startswith("app:"))
    left = 4 if survive == "zone" else 0
    assert f"{left} vcpu remain, needs 12 (active_active)" in app


def test_regional_saas_fails_with_its_region(solo: Plan, world: Catalog) -> None:
    """The same plan on a catalog where the SaaS offering is regional: losing its one region
    now takes the SaaS service down as well, as any offering of that region."""
    offerings = world.offerings.assign(scope="regional")
    regional = dataclasses.replace(world, offerings=offerings)
    spec = solo.spec.with_policy(survive="region")
    violations = verify_plan(_changed(solo, regional, spec=spec), regional).violations
    assert any(v.startswith("login: after losing region pa/seoul") for v in violations)
    # while with the catalog's global scope only the VMs are short
    assert not any(
        v.startswith("login:")
        for v in verify_plan(_changed(solo, world, spec=spec), world).violations
    )


def test_losing_a_replica_breaks_survival(shop: Plan, world: Catalog) -> None:
    """web runs 4 vCPU in each of three regions for a demand of 8: with one region gone, the
    other two still carry normal operation, but not the loss of either of them. The users are
    short as well: they need the whole demand within their budget (rule 5), and 4 vCPU are left."""
    web = _rows(shop, "web")
    assert (web["vcpu"] * web["units"]).tolist() == [4.0, 4.0, 4.0]
    # all three are within the users' budget, so users keep a region after any one failure
    gone = sorted(set(web["region"]))[-1]
    p = shop.placements.drop(index=web.index[web["region"] == gone])
    violations = _only_rule_broken(
        shop,
        _changed(shop, world, p),
        world,
        r"^web: after losing region .*, (4 vcpu remain|users in seoul \(share 100%\) need 8 "
        r"vcpu within 30 ms; running capacity there serves at most 4$)",
    )
    assert _scenario(violations) == {f"region {r}" for r in set(web["region"]) - {gone}}
    assert len(violations) == 4  # per failure: the capacity left, and the users it leaves short


def test_growth_after_a_failure(shop: Plan, world: Catalog) -> None:
    """Pilot light keeps no compute running but must be able to grow back: batch runs only on
    private sites, so each must hold its whole demand. Without its second site, losing the first
    leaves nowhere to grow."""
    batch = _rows(shop, "batch")
    assert set(batch["provider"]) == {"priv"} and len(batch) == 2
    kept, gone = batch["region"].tolist()
    assert float((batch["vcpu"] * batch["units"]).iloc[0]) == 4  # its whole demand
    p = shop.placements.drop(index=batch.index[batch["region"] == gone])
    _only_rule_broken(
        shop,
        _changed(shop, world, p),
        world,
        rf"^batch: after losing region {kept}, it must grow back to 4 vcpu but no public region",
    )


# ------------------------------------------------------------------------------------ latency
def test_user_latency_in_normal_operation(shop: Plan, world: Catalog) -> None:
    far = UserGroup(name="frankfurt", lat=50.1, lon=8.7, share=0.1, max_latency_ms=10)
    spec = _with_group(shop.spec, far)
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        r"^web: no region within 10 ms of users in frankfurt$",
    )


def test_user_latency_after_a_failure(shop: Plan, world: Catalog) -> None:
    """Users next to one of web's regions, with a budget only that region meets: fine until it
    fails."""
    regions = sorted(set(_rows(shop, "web")["region"]))
    home = regions[-1]
    lat, lon = world.regions.loc[home, ["lat", "lon"]]
    group = UserGroup(name="local", lat=lat, lon=lon, share=0.1, max_latency_ms=5)
    rtt = world.rtt_from_point_ms(lat, lon)
    assert [r for r in regions if rtt[r] <= 5] == [home]
    spec = _with_group(shop.spec, group)
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        rf"^web: after losing region {home}, users in local have no region within 5 ms$",
    )


def test_dependency_latency(shop: Plan, world: Catalog) -> None:
    api, db = set(_rows(shop, "api")["region"]), set(_rows(shop, "db")["region"])
    nearest = {r: min(world.rtt_ms(r, t) for t in db) for r in api}
    worst = max(nearest, key=nearest.__getitem__)
    assert nearest[worst] > 0
    budget = nearest[worst] / 2
    deps = tuple(
        d.model_copy(update={"max_latency_ms": budget}) if d.target == "db" else d
        for d in shop.spec.dependencies
    )
    spec = shop.spec.model_copy(update={"dependencies": deps})
    violations = _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        rf"^api in .*: nearest db is .* ms away, budget {budget:g}$",
        f"api in {worst}",
    )
    assert len(violations) == sum(d > budget for d in nearest.values())


# ------------------------------------------------------------------------------------ cost
def test_reported_cost_is_the_catalog_cost(shop: Plan, world: Catalog) -> None:
    p = shop.placements.copy()
    p.loc[0, "usd_per_month"] += 1.0  # the plan says a dollar more than the catalog does
    _only_rule_broken(
        shop, _changed(shop, world, p, reprice=False), world, r"^reported cost .* differs"
    )


def test_budget(shop: Plan, world: Catalog) -> None:
    cost = shop.cost["total"]
    spec = shop.spec.with_policy(budget_per_month=cost - 1)
    _only_rule_broken(
        shop,
        _changed(shop, world, spec=spec),
        world,
        rf"^costs {cost:.2f} per month, over the budget of {cost - 1:g}$",
    )


# ------------------------------------------------------------------------------------ issue 15
# The rules of docs/model.md that the verifier reads through planner.analysis.failure: each test
# states what the looser reading before them accepted.
def test_a_volume_is_not_where_a_service_runs(shop: Plan, world: Catalog) -> None:
    """Rule 1 for growth: pilot light must grow where it runs. batch on one private site, with a
    block volume in a public region, has nowhere to grow after losing the site: the volume holds
    no vCPU (it used to count as a public region to grow into)."""
    batch = _rows(shop, "batch")
    p = shop.placements.drop(index=batch.index[batch["region"] == "priv/dc2"])
    broken = _changed(shop, world, pd.concat(
        [p, pd.DataFrame([_row(world, "batch", "pa/seoul/blk", 1, "standby")])], ignore_index=True
    ))  # fmt: skip
    _only_rule_broken(
        shop,
        broken,
        world,
        r"^batch: after losing region priv/dc1, it must grow back to 4 vcpu but no public region "
        r"where it runs survives, and the private capacity it holds is short \(0 vcpu\)$",
    )


SITE = """
app: site
policy: {survive: none}
users:
  - {name: seoul, lat: 37.5, lon: 127.0, share: 1.0, max_latency_ms: 10}
services:
  - {name: site, category: compute.vm, tiers: [IaaS], demand: {vcpu: 4}, user_facing: true}
"""


def test_users_are_served_where_the_service_runs(world: Catalog) -> None:
    """Rule 1 for users: a block volume in Seoul does not serve users in Seoul; the service's
    VMs in Tokyo are 25 ms away, over the 10 ms budget."""
    near = [("site", "pa/seoul/vm4", 1, "active")]
    base = _plan(SITE, "site.yaml", world, near, {"site": "active_active"})
    far = [("site", "pb/tokyo/vm4", 1, "active"), ("site", "pa/seoul/blk", 1, "active")]
    broken = _drawn(SITE, "site.yaml", world, far, {"site": "active_active"})
    _only_rule_broken(base, broken, world, r"^site: no region within 10 ms of users in seoul$")


ORDERS = """
app: orders
policy: {survive: region}
services:
  - {name: orders, category: db.relational, tiers: [PaaS], demand: {vcpu: 4, storage_gb: 400},
     dr: active_active}
"""
ORDERS_ROWS = [
    ("orders", f"{region}/{sku}", 1, "active")
    for region in ("pa/seoul", "pa/busan", "pb/tokyo")
    for sku in ("rds4", "rds-gp3")
]


def test_managed_storage_needs_an_instance_beside_it(world: Catalog) -> None:
    """Rule 2: a managed database's storage exists only where an instance of it runs. Without
    its Busan instance, Busan's storage is a data copy the database cannot have (it used to pass:
    the copy is whole, and the other two regions carry the demand after any one failure)."""
    strategies = {"orders": "active_active"}
    base = _plan(ORDERS, "orders.yaml", world, ORDERS_ROWS, strategies)
    rows = [r for r in ORDERS_ROWS if r[1] != "pa/busan/rds4"]
    broken = _drawn(ORDERS, "orders.yaml", world, rows, strategies)
    _only_rule_broken(
        base,
        broken,
        world,
        r"^orders: managed storage rds-gp3 in pa/busan without an instance there$",
    )


LEDGER = """
app: ledger
policy: {survive: region}
services:
  - {name: ledger, category: db.relational, tiers: [IaaS, PaaS], demand: {vcpu: 4},
     dr: active_active, stateful: STATEFUL}
"""


def _ledger(world: Catalog, rows: list[tuple[str, float]], stateful: bool) -> Plan:
    text = LEDGER.replace("STATEFUL", "true" if stateful else "false")
    placed = [("ledger", offering, units, "active") for offering, units in rows]
    return _drawn(text, "ledger.yaml", world, placed, {"ledger": "active_active"})


def test_a_single_writer_holds_its_demand_in_one_region(world: Catalog) -> None:
    """Rule 3 in normal operation: 2 vCPU in each of three regions carry a stateless demand of
    4 after any one failure, but a stateful database writes on one primary, which no region can
    hold (the demand used to be pooled across regions). Reported once, for normal operation: no
    failure can then promote a region either."""
    split = [("pa/seoul/vm2", 1), ("pa/busan/vm2", 1), ("pb/tokyo/vm2", 1)]
    violations = _only_rule_broken(
        _ledger(world, split, stateful=False),
        _ledger(world, split, stateful=True),
        world,
        r"^ledger is single-writer but no region holds its whole demand "
        r"\(largest: 2 of 4 vcpu in pa/busan\)$",
    )
    assert len(violations) == 1


def test_a_single_writer_can_promote_a_standby(world: Catalog) -> None:
    """Rule 3 after a failure: the primary in Seoul holds the whole demand; after losing it, the
    4 vCPU left are split over Busan and Tokyo, and neither can be promoted on its own."""
    rows = [("pa/seoul/vm4", 1), ("pa/busan/vm2", 1), ("pb/tokyo/vm2", 1)]
    _only_rule_broken(
        _ledger(world, rows, stateful=False),
        _ledger(world, rows, stateful=True),
        world,
        r"^ledger: after losing region pa/seoul, no single region can be promoted with 4 vcpu "
        r"\(largest: 2 of 4 vcpu in pa/busan\)$",
    )
    # a multi-writer database takes writes in every region: the same split passes
    multi = [("pa/seoul/mdb4", 1), ("pa/busan/mdb2", 1), ("pb/tokyo/mdb2", 1)]
    assert verify_plan(_ledger(world, multi, stateful=True), world).ok
    # one single-writer offering among multi-writer ones makes the service single-writer
    mixed = [("pa/seoul/mdb4", 1), ("pa/busan/vm2", 1), ("pb/tokyo/mdb2", 1)]
    assert not verify_plan(_ledger(world, mixed, stateful=True), world).ok


PORTAL = """
app: portal
policy: {survive: none}
users:
  - {name: east, lat: 37.5, lon: 127.0, share: 0.5, max_latency_ms: 5}
  - {name: west, lat: 35.68, lon: 139.69, share: 0.5, max_latency_ms: 5}
services:
  - {name: portal, category: compute.vm, tiers: [IaaS], demand: {vcpu: 8}, user_facing: true}
"""
PORTAL_ROWS = [("portal", "pa/seoul/vm4", 1, "active"), ("portal", "pb/tokyo/vm4", 1, "active")]


def _portal(world: Catalog, users: list[tuple[float, float, float]]) -> Plan:
    """The portal plan (4 vCPU in Seoul and in Tokyo) with its two groups at (lat, lon, share)."""
    plan = _drawn(PORTAL, "portal.yaml", world, PORTAL_ROWS, {"portal": "active_active"})
    groups = tuple(
        g.model_copy(update={"lat": lat, "lon": lon, "share": share})
        for g, (lat, lon, share) in zip(plan.spec.users, users, strict=True)
    )
    plan.spec = plan.spec.model_copy(update={"users": groups})
    return plan


SEOUL, TOKYO = (37.5, 127.0), (35.68, 139.69)


def test_a_user_group_is_served_its_share(world: Catalog) -> None:
    """Rule 5: a group needs its share of the demand within its budget. Three quarters of the
    users in Seoul need 6 of the 8 vCPU there, and Seoul runs 4 (a region within the budget used
    to be enough)."""
    base = _portal(world, [(*SEOUL, 0.5), (*TOKYO, 0.5)])
    broken = _portal(world, [(*SEOUL, 0.75), (*TOKYO, 0.25)])
    _only_rule_broken(
        base,
        broken,
        world,
        r"^portal: users in east \(share 75%\) need 6 vcpu within 5 ms; running capacity there "
        r"serves at most 4$",
    )


def test_user_groups_share_the_capacity_they_reach(world: Catalog) -> None:
    """Rule 5 with two groups reaching the same region: each alone needs 4 vCPU, which Seoul
    has; together they need 8 (Hall's condition over the set of both)."""
    base = _portal(world, [(*SEOUL, 0.5), (*TOKYO, 0.5)])
    broken = _portal(world, [(*SEOUL, 0.5), (*SEOUL, 0.5)])
    _only_rule_broken(
        base,
        broken,
        world,
        r"^portal: users in east, west \(shares 50%, 50%\) need 8 vcpu within their budgets "
        r"\(5, 5 ms\); running capacity there serves at most 4$",
    )


def test_growth_that_needs_a_hit_control_plane_is_a_note(shop: Plan, world: Catalog) -> None:
    """Rule 4's note: api (warm standby) grows back where it still runs; in Busan after losing
    Seoul, but both are provider pa's, whose control plane the failure hits. A note, not a
    violation; with its standby in Tokyo (provider pb) losing Seoul needs no note."""
    report = verify_plan(shop, world)
    assert report.ok
    assert report.notes == [
        "api: after losing region pa/busan, growth in pa/seoul needs pa's control plane during "
        "its outage",
        "api: after losing region pa/seoul, growth in pa/busan needs pa's control plane during "
        "its outage",
    ]
    assert report.as_dict()["notes"] == report.notes
    p = shop.placements.copy()
    (standby,) = p.index[(p["service"] == "api") & (p["region"] == "pa/busan")]
    p.loc[standby] = pd.Series(_row(world, "api", "pb/tokyo/vm4", 1, "standby"))
    moved = verify_plan(_changed(shop, world, p), world)
    assert not any("after losing region pa/seoul" in n for n in moved.notes)
    # pilot light's growth on a private site it already holds needs no cloud control plane
    assert not any(n.startswith("batch:") for n in report.notes)
