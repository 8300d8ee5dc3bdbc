"""Seeded benchmark instances: application specs and catalogs.

A spec is built from one `numpy.random.Generator` seeded with `seed`, drawing in a fixed order, so
the same (services, seed, catalog) always gives the same spec. What it contains:

* services of seven shapes (web, api, k8s, db, cache, objects, functions) with demands drawn from
  a lognormal (median 8 vCPU), mem/storage in proportion, and a DR strategy per shape;
* residency on about `residency_share` of them, to one of KR / EU / US;
* private capacity: about `private_share` of the services may use the catalog's private
  (OpenStack) sites; every other service forbids the private providers;
* dependencies between services (a random DAG: each service calls up to two earlier ones) with
  traffic in GB/month, and a latency budget on about `latency_share` of them. Budgets are put
  only between services of the same "home" geography (their residency, or a drawn home for
  unrestricted services), so chains of budgets never ask for two continents at once;
* policy `survive: region` (every single region or private site may fail).

A *family* (`FAMILIES`) changes the kind of application on the same skeleton of services and
dependencies (the same draws in the same order, so the `region` family is the earlier sessions'
instance): the failure to survive and `max_providers`, the latency budgets, the share of services
that may use the private sites and how much those sites can hold (`family_catalog` shrinks their
capacity so it binds), and user groups with services that send them internet traffic. What a
family adds beyond the skeleton is drawn from a second generator, so it never shifts the
skeleton's draws.

Shapes a catalog cannot serve (a synthetic catalog sells only VMs and block storage) are not
drawn; a residency is not given to a shape that fewer than two regions of that jurisdiction sell,
since surviving a region loss then has no answer.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from planner.catalog import Catalog, load_catalog
from planner.catalog.columns import RESOURCES, SITE_CAPACITY
from planner.spec import AppSpec, spec_from_data
from planner.synthetic import random_catalog

JURISDICTIONS = ("KR", "EU", "US")
JURISDICTION_WEIGHTS = (0.4, 0.35, 0.25)
LATENCY_BUDGETS_MS = (15.0, 25.0, 50.0)
# user groups of the user-facing families: the three home geographies, weighted as they are
USER_GROUPS = (
    {"name": "seoul", "lat": 37.57, "lon": 126.98, "share": 0.40},
    {"name": "frankfurt", "lat": 50.11, "lon": 8.68, "share": 0.35},
    {"name": "virginia", "lat": 38.9, "lon": -77.4, "share": 0.25},
)
USER_LATENCY_MS = 150.0  # reachable from two regions per continent, so a region may fail
USER_FACING_SHAPES = ("web", "api", "k8s", "objects", "fn")


@dataclass(frozen=True)
class Family:
    """A kind of application: what changes from the `region` family's instance."""

    name: str
    summary: str
    survive: str = "region"
    max_providers: int | None = None
    latency_budgets_ms: tuple[float, ...] = LATENCY_BUDGETS_MS
    private_share: float = 0.25
    # the private sites together hold this share of the vCPU (and memory, storage) of the
    # services that may use them, so their capacity binds; None: the catalog's own capacity
    private_capacity_share: float | None = None
    user_facing_share: float = 0.0  # of the services whose shape serves users, not resident
    internet_median_gb: float = 0.0  # per user-facing service per month (lognormal, sigma 1)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("region", "survive the loss of any region (the earlier sessions' instances)"),
        Family("provider", "survive the loss of a whole provider, at most 2 providers",
               survive="provider", max_providers=2),
        Family("zone", "survive the loss of any zone, dependency budgets of 5-15 ms",
               survive="zone", latency_budgets_ms=(5.0, 10.0, 15.0)),
        Family("private", "half the services may use the private sites, whose capacity binds",
               private_share=0.5, private_capacity_share=0.5),
        Family("users", "user-facing: three user groups, internet egress dominant",
               user_facing_share=0.6, internet_median_gb=20000.0),
        Family("mix", "region survival, at most 3 providers, budgets 5-50 ms, binding private "
               "sites, some user-facing services", max_providers=3,
               latency_budgets_ms=(5.0, 10.0, 15.0, 25.0, 50.0), private_share=0.4,
               private_capacity_share=0.5, user_facing_share=0.3, internet_median_gb=2000.0),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Shape:
    name: str
    category: str
    tiers: tuple[str, ...]
    weight: float
    main: str  # the resource that sizes it


SHAPES = (
    Shape("web", "compute.vm", ("IaaS", "PaaS"), 0.25, "vcpu"),
    Shape("api", "compute.vm", ("IaaS",), 0.25, "vcpu"),
    Shape("k8s", "compute.k8s", ("PaaS",), 0.10, "vcpu"),
    Shape("db", "db.relational", ("PaaS", "IaaS"), 0.15, "vcpu"),
    Shape("cache", "cache", ("PaaS", "IaaS"), 0.08, "vcpu"),
    Shape("objects", "storage.object", (), 0.10, "storage_gb"),
    Shape("fn", "compute.serverless", (), 0.07, "requests_m"),
)


@dataclass(frozen=True)
class InstanceConfig:
    services: int
    seed: int = 1
    family: str = "region"
    residency_share: float = 0.3
    latency_share: float = 0.3
    traffic_median_gb: float = 200.0  # per dependency per month (lognormal, sigma 1)

    @property
    def kind(self) -> Family:
        try:
            return FAMILIES[self.family]
        except KeyError:
            raise ValueError(
                f"unknown family `{self.family}`: use one of {', '.join(FAMILIES)}"
            ) from None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- catalogs
def synthetic_catalog(
    n_regions: int,
    seed: int = 0,
    providers: int = 4,
    offerings_per_region: int = 4,
    private_sites: int = 2,
    private_vcpu: float = 4000.0,
) -> Catalog:
    """A synthetic catalog with about `n_regions` public regions over `providers` clouds (three
    continents, round robin) plus `private_sites` private sites of `private_vcpu` vCPU each."""
    per = max(1, math.ceil(n_regions / providers))
    return random_catalog(
        providers,
        per,
        offerings_per_region,
        seed,
        private_sites=private_sites,
        private_vcpu=private_vcpu,
    )


def catalog_for(name: str) -> Catalog:
    """`shipped` (the catalog in the package) or `synthetic:REGIONS[:SEED]`."""
    if name == "shipped":
        return load_catalog()
    kind, _, rest = name.partition(":")
    if kind == "synthetic" and rest:
        parts = rest.split(":")
        return synthetic_catalog(int(parts[0]), seed=int(parts[1]) if len(parts) > 1 else 0)
    raise ValueError(f"unknown catalog `{name}`: use shipped or synthetic:REGIONS[:SEED]")


# ---------------------------------------------------------------- what a catalog can serve
def _regions_for(shape: Shape, catalog: Catalog) -> set[str]:
    """Regions selling an offering that can carry the shape's main resource."""
    cats = catalog.service_categories
    rows = cats[cats["service_category"] == shape.category]
    if shape.tiers:
        rows = rows[rows["tier"].isin(shape.tiers)]
    off = catalog.offerings
    ok = off["category"].isin(set(rows["offering_category"])) & (off[shape.main] > 0)
    return set(off.loc[ok, "region"])


def _profile(catalog: Catalog) -> tuple[list[Shape], dict[str, list[str]], list[str]]:
    """Shapes the catalog serves; for each, the jurisdictions with >= 2 regions selling it; the
    private providers."""
    jur = catalog.regions["jurisdiction"]
    shapes, residency = [], {}
    for shape in SHAPES:
        regions = _regions_for(shape, catalog)
        if len(regions) < 2:
            continue
        shapes.append(shape)
        residency[shape.name] = [
            j for j in JURISDICTIONS if int((jur.reindex(sorted(regions)) == j).sum()) >= 2
        ]
    private = sorted(catalog.providers.index[catalog.providers["kind"] == "private"])
    return shapes, residency, private


# ---------------------------------------------------------------- specs
def _demand(shape: Shape, rng: np.random.Generator) -> dict[str, float]:
    vcpu = float(np.clip(round(float(rng.lognormal(math.log(8.0), 0.8))), 1, 192))
    if shape.name == "web":
        return {"vcpu": vcpu, "mem_gib": vcpu * float(rng.choice([2, 4]))}
    if shape.name == "api":
        return {"vcpu": vcpu, "mem_gib": 4 * vcpu, "storage_gb": float(10 * rng.integers(5, 51))}
    if shape.name == "k8s":
        return {"vcpu": vcpu, "mem_gib": 4 * vcpu}
    if shape.name == "db":
        v = max(2.0, vcpu)
        return {
            "vcpu": v,
            "mem_gib": v * float(rng.choice([4, 8])),
            "storage_gb": float(100 * rng.integers(1, 51)),
        }
    if shape.name == "cache":
        return {"vcpu": max(2.0, vcpu), "mem_gib": 4 * max(2.0, vcpu)}
    if shape.name == "objects":
        return {"storage_gb": float(1000 * rng.integers(1, 51))}
    return {"requests_m": float(10 * rng.integers(1, 201))}  # fn


def _dr(shape: Shape, rng: np.random.Generator) -> dict[str, Any]:
    if shape.name in ("objects", "fn"):
        return {"dr": "active_active"}
    if shape.name == "db":
        k = rng.choice(3, p=[0.2, 0.5, 0.3])
        db: list[dict[str, Any]] = [
            {"dr": "active_active"},
            {"dr": "warm_standby"},
            {"dr": "auto", "rto_minutes": 30, "rpo_minutes": 5},
        ]
        return db[int(k)]
    k = rng.choice(3, p=[0.6, 0.2, 0.2])
    other: list[dict[str, Any]] = [
        {"dr": "active_active"},
        {"dr": "warm_standby"},
        {"dr": "auto", "rto_minutes": 60, "rpo_minutes": 15},
    ]
    return other[int(k)]


def spec_data(config: InstanceConfig, catalog: Catalog) -> dict[str, Any]:
    """The spec as plain data (what a YAML file would hold)."""
    family = config.kind
    rng = np.random.default_rng(config.seed)
    shapes, residency_ok, private = _profile(catalog)
    if not shapes:
        raise ValueError("the catalog sells nothing a benchmark service can use")
    weights = np.array([s.weight for s in shapes])
    weights = weights / weights.sum()
    width = len(str(config.services))
    n = config.services
    # exact shares (a random subset of that size), so small instances have them too
    resident = set(rng.permutation(n)[: round(config.residency_share * n)].tolist())
    private_ok = set(rng.permutation(n)[: round(family.private_share * n)].tolist())
    services: list[dict[str, Any]] = []
    home: list[str] = []
    deps: list[dict[str, Any]] = []
    for j in range(n):
        shape = shapes[int(rng.choice(len(shapes), p=weights))]
        svc: dict[str, Any] = {"name": f"s{j:0{width}d}-{shape.name}", "category": shape.category}
        if shape.tiers:
            svc["tiers"] = list(shape.tiers)
        svc["demand"] = _demand(shape, rng)
        if shape.name == "db":
            svc["stateful"] = True
        svc.update(_dr(shape, rng))
        # calls up to two of the 20 services before it: a layered application, not a random graph
        k = int(rng.choice([0, 1, 1, 2])) if j else 0
        targets = sorted({int(t) for t in rng.integers(max(0, j - 20), j, size=k)}) if k else []
        where = str(rng.choice(JURISDICTIONS, p=JURISDICTION_WEIGHTS))
        if j in resident and where in residency_ok[shape.name]:
            svc["residency"] = [where]
        elif targets and rng.random() < 0.8:
            where = home[targets[0]]  # an unrestricted service mostly lives beside what it calls
        if private and j not in private_ok:
            svc["forbid_providers"] = list(private)
        services.append(svc)
        home.append(where)
        for t in targets:
            dep: dict[str, Any] = {
                "from": svc["name"],
                "to": services[t]["name"],
                "gb_per_month": float(
                    round(float(rng.lognormal(math.log(config.traffic_median_gb), 1.0)), 1)
                ),
            }
            if home[t] == where and rng.random() < config.latency_share:
                dep["max_latency_ms"] = float(rng.choice(family.latency_budgets_ms))
            deps.append(dep)
    policy: dict[str, Any] = {"survive": family.survive}
    if family.max_providers is not None:
        policy["max_providers"] = family.max_providers
    data: dict[str, Any] = {
        "app": f"bench-{config.family}-{config.services}-seed{config.seed}",
        "description": f"generated by benchmarks.generate: {family.summary}",
        "policy": policy,
        "services": services,
        "dependencies": deps,
    }
    if family.user_facing_share > 0:
        _add_users(data, family, np.random.default_rng([config.seed, 19]))
    return data


def _add_users(data: dict[str, Any], family: Family, rng: np.random.Generator) -> None:
    """User groups, and internet traffic to them from a share of the services that serve users.
    Resident services and services with a dependency budget are left out: a service held in one
    jurisdiction, or next to a callee, could not reach users on three continents."""
    budgeted = {d[k] for d in data["dependencies"] if "max_latency_ms" in d for k in ("from", "to")}
    eligible = [
        s
        for s in data["services"]
        if s["name"].rsplit("-", 1)[-1] in USER_FACING_SHAPES
        and not s.get("residency")
        and s["name"] not in budgeted
    ]
    count = max(1, round(family.user_facing_share * len(eligible)))  # a tiny instance has one
    chosen = rng.permutation(len(eligible))[:count]
    for k in sorted(int(i) for i in chosen):
        svc = eligible[k]
        svc["user_facing"] = True
        gb = float(rng.lognormal(math.log(family.internet_median_gb), 1.0))
        svc["internet_gb_per_month"] = float(round(gb, 1))
    data["users"] = [{**g, "max_latency_ms": USER_LATENCY_MS} for g in USER_GROUPS]


def family_catalog(config: InstanceConfig, catalog: Catalog, spec: AppSpec) -> Catalog:
    """The catalog the family's instance is planned on: `catalog` itself, or (a family whose
    private capacity binds) a copy whose private sites hold `private_capacity_share` of the
    demand of the services that may use them, split between the sites as their capacities are."""
    share = config.kind.private_capacity_share
    sites = catalog.sites
    if share is None or sites.empty:
        return catalog
    may = [s for s in spec.services if not set(s.forbid_providers) & set(sites["provider"])]
    scaled = sites.copy()
    for resource, column in SITE_CAPACITY.items():
        want = share * sum(s.demand.as_dict()[resource] for s in may)
        total = float(sites[column].sum())
        if total > 0 and want > 0:
            scaled[column] = sites[column] * (want / total)
    return dataclasses.replace(catalog, sites=scaled)


def make_instance(config: InstanceConfig, catalog: Catalog) -> AppSpec:
    """The validated AppSpec of `config` on `catalog`."""
    return spec_from_data(
        spec_data(config, catalog),
        f"<benchmark {config.family} {config.services} services seed {config.seed}>",
    )


def build_instance(config: InstanceConfig, catalog: Catalog) -> tuple[Catalog, AppSpec]:
    """The family's catalog (see `family_catalog`) and the validated spec of `config`."""
    spec = make_instance(config, catalog)
    return family_catalog(config, catalog, spec), spec


def describe(spec: AppSpec) -> dict[str, Any]:
    """A few counts to print beside the results."""
    total = {r: sum(s.demand.as_dict()[r] for s in spec.services) for r in RESOURCES}
    return {
        "survive": spec.policy.survive,
        "max_providers": spec.policy.max_providers,
        "user_facing": sum(1 for s in spec.services if s.user_facing),
        "internet_gb": sum(s.internet_gb_per_month for s in spec.services),
        "dependency_gb": sum(d.gb_per_month for d in spec.dependencies),
        "services": len(spec.services),
        "resident": sum(1 for s in spec.services if s.residency),
        "private_allowed": sum(1 for s in spec.services if not s.forbid_providers),
        "dependencies": len(spec.dependencies),
        "latency_budgets": sum(1 for d in spec.dependencies if d.max_latency_ms is not None),
        "vcpu": total["vcpu"],
    }
