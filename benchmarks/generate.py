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

Shapes a catalog cannot serve (a synthetic catalog sells only VMs and block storage) are not
drawn; a residency is not given to a shape that fewer than two regions of that jurisdiction sell,
since surviving a region loss then has no answer.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from planner.catalog import Catalog, load_catalog
from planner.catalog.columns import RESOURCES
from planner.spec import AppSpec, spec_from_data
from planner.synthetic import random_catalog

JURISDICTIONS = ("KR", "EU", "US")
JURISDICTION_WEIGHTS = (0.4, 0.35, 0.25)
LATENCY_BUDGETS_MS = (15.0, 25.0, 50.0)


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
    residency_share: float = 0.3
    private_share: float = 0.25
    latency_share: float = 0.3
    traffic_median_gb: float = 200.0  # per dependency per month (lognormal, sigma 1)
    survive: str = "region"

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
    private_ok = set(rng.permutation(n)[: round(config.private_share * n)].tolist())
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
                dep["max_latency_ms"] = float(rng.choice(LATENCY_BUDGETS_MS))
            deps.append(dep)
    return {
        "app": f"bench-{config.services}-seed{config.seed}",
        "description": "generated by benchmarks.generate",
        "policy": {"survive": config.survive},
        "services": services,
        "dependencies": deps,
    }


def make_instance(config: InstanceConfig, catalog: Catalog) -> AppSpec:
    """The validated AppSpec of `config` on `catalog`."""
    return spec_from_data(
        spec_data(config, catalog), f"<benchmark {config.services} services seed {config.seed}>"
    )


def describe(spec: AppSpec) -> dict[str, Any]:
    """A few counts to print beside the results."""
    total = {r: sum(s.demand.as_dict()[r] for s in spec.services) for r in RESOURCES}
    return {
        "services": len(spec.services),
        "resident": sum(1 for s in spec.services if s.residency),
        "private_allowed": sum(1 for s in spec.services if not s.forbid_providers),
        "dependencies": len(spec.dependencies),
        "latency_budgets": sum(1 for d in spec.dependencies if d.max_latency_ms is not None),
        "vcpu": total["vcpu"],
    }
