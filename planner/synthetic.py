"""Synthetic catalogs built in memory: for property tests (small, enumerable) and benchmarks
(large).

They share the shipped catalog's strategy and service-category tables, so a synthetic catalog
differs from the real one only in its regions, offerings and prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .catalog import Catalog, load_catalog
from .catalog.columns import DEFAULT_WRITERS, RESOURCES
from .catalog.geo import LatencyModel

CONTINENT_XY = {"AS": (37.0, 127.0), "EU": (50.0, 8.0), "NA": (39.0, -77.0)}


@dataclass(frozen=True)
class SynthRegion:
    provider: str
    code: str
    continent: str = "AS"
    jurisdiction: str = "KR"
    zones: int = 3
    lat: float | None = None
    lon: float | None = None
    private: bool = False
    vcpu_capacity: float = 0.0
    mem_gib_capacity: float = 0.0
    storage_gb_capacity: float = 0.0


@dataclass(frozen=True)
class SynthOffering:
    region: str  # canonical id
    sku: str
    category: str
    usd_per_month: float
    tier: str = "IaaS"
    scope: str = "regional"  # for SaaS: regional (fails with its region) or global
    vcpu: float = 0.0
    mem_gib: float = 0.0
    storage_gb: float = 0.0
    requests_m: float = 0.0
    users: float = 0.0
    lb: float = 0.0
    fixed_usd_per_month: float = 0.0
    # single | multi; empty: its category's default (single for db.relational and cache, multi
    # for db.keyvalue) and single for every other category, as the loader reads writers.csv
    writers: str = ""


@lru_cache(maxsize=1)
def _shared_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    real = load_catalog()
    return real.service_categories.copy(), real.strategies.copy()


def make_catalog(
    regions: list[SynthRegion],
    offerings: list[SynthOffering],
    egress: tuple[float, float, float, float] = (0.09, 0.02, 0.05, 0.09),
) -> Catalog:
    """A Catalog with the given regions and offerings; egress rates (internet, same continent,
    other continent, other provider) apply to every region."""
    cats, strategies = _shared_tables()
    rows = []
    for k, r in enumerate(regions):
        lat0, lon0 = CONTINENT_XY[r.continent]
        rows.append(
            {
                "region": f"{r.provider}/{r.code}",
                "provider": r.provider,
                "code": r.code,
                "name": r.code,
                "city": r.code,
                "country": r.jurisdiction,
                "jurisdiction": r.jurisdiction,
                "continent": r.continent,
                "lat": r.lat if r.lat is not None else lat0 + 0.9 * (k % 5),
                "lon": r.lon if r.lon is not None else lon0 + 1.1 * (k % 7),
                "zones": r.zones,
                "site": f"{r.provider}/{r.code}",
                "price_factor": 1.0,
                "kind": "private" if r.private else "public",
                "source_url": "synthetic",
                "as_of": "2026-01-01",
                "status": "U",
                "file_row": 0,
                "internet_usd_per_gb": egress[0],
                "same_continent_usd_per_gb": egress[1],
                "other_continent_usd_per_gb": egress[2],
                "other_provider_usd_per_gb": egress[3],
            }
        )
    reg = pd.DataFrame(rows).set_index("region")
    reg.index.name = "region"
    providers = sorted({r.provider for r in regions})
    kinds = {r.provider: ("private" if r.private else "public") for r in regions}
    prov = pd.DataFrame(
        {"name": providers, "kind": [kinds[p] for p in providers], "currency_note": ""},
        index=pd.Index(providers, name="provider"),
    )
    orows = []
    for o in offerings:
        provider = o.region.split("/", 1)[0]
        d = {
            "offering": f"{o.region}/{o.sku}",
            "provider": provider,
            "region": o.region,
            "sku": o.sku,
            "category": o.category,
            "tier": o.tier,
            "scope": o.scope if o.tier == "SaaS" else "regional",
            "writers": o.writers or DEFAULT_WRITERS.get(o.category, "single"),
            "usd_per_month": float(o.usd_per_month),
            "fixed_usd_per_month": float(o.fixed_usd_per_month),
            "price_usd": float(o.usd_per_month),
            "price_unit": "month",
            "price_basis": "synthetic",
            "sla_pct": 99.9,
            "sla_mode": "single_zone",
            "managed_layers": ("hardware", "virtualization"),
            "source_url": "synthetic",
            "as_of": "2026-01-01",
            "status": "U",
        }
        d.update({res: float(getattr(o, res)) for res in RESOURCES})
        orows.append(d)
    off = pd.DataFrame(orows).set_index("offering")
    sites = pd.DataFrame(
        [
            {
                "region": f"{r.provider}/{r.code}",
                "provider": r.provider,
                "vcpu_capacity": r.vcpu_capacity,
                "mem_gib_capacity": r.mem_gib_capacity,
                "storage_gb_capacity": r.storage_gb_capacity,
            }
            for r in regions
            if r.private
        ],
        columns=["region", "provider", "vcpu_capacity", "mem_gib_capacity", "storage_gb_capacity"],
    ).set_index("region")
    return Catalog(
        root=__import__("pathlib").Path("synthetic"),
        providers=prov,
        regions=reg,
        offerings=off,
        egress_rules=pd.DataFrame(),
        sites=sites,
        service_categories=cats,
        strategies=strategies,
        incidents=pd.DataFrame(
            columns=["date", "title", "provider", "scope", "regions"]
        ).rename_axis("incident"),
        latency_measured=pd.DataFrame(columns=["src", "dst", "rtt_ms"]),
        latency_model=LatencyModel(
            overhead_ms=5.0, ms_per_km=0.018, same_metro_ms=2.5, same_metro_km=80.0
        ),
    )


def random_catalog(
    n_providers: int,
    regions_per_provider: int,
    offerings_per_region: int,
    seed: int,
    private_sites: int = 0,
    private_vcpu: float = 0.0,
) -> Catalog:
    """A larger random catalog (benchmarks): prices ~ capacity x provider base x region factor x
    noise."""
    rng = np.random.default_rng(seed)
    continents = ["AS", "EU", "NA"]
    juris = {"AS": "KR", "EU": "EU", "NA": "US"}
    regions, offerings = [], []
    for p in range(n_providers):
        base = rng.uniform(0.85, 1.15)
        # a provider sells the same SKUs in every region, at a regional price factor (as real
        # ones do)
        sizes = sorted({float(2 ** int(rng.integers(1, 7))) for _ in range(offerings_per_region)})
        for k in range(regions_per_provider):
            c = continents[k % 3]
            regions.append(
                SynthRegion(
                    f"p{p}",
                    f"r{k}",
                    continent=c,
                    jurisdiction=juris[c],
                    zones=int(rng.integers(1, 4)),
                )
            )
            factor = rng.uniform(0.9, 1.4)
            for vcpu in sizes:
                price = vcpu * 35.0 * base * factor * (1 - 0.02 * np.log2(vcpu))
                offerings.append(
                    SynthOffering(
                        f"p{p}/r{k}",
                        f"vm-{int(vcpu)}",
                        "compute.vm",
                        round(price, 2),
                        vcpu=vcpu,
                        mem_gib=4 * vcpu,
                    )
                )
            offerings.append(
                SynthOffering(
                    f"p{p}/r{k}",
                    "disk100",
                    "storage.block",
                    round(8.0 * base * factor, 2),
                    storage_gb=100,
                )
            )
    for s in range(private_sites):
        c = continents[s % 3]
        regions.append(
            SynthRegion(
                "priv",
                f"site{s}",
                continent=c,
                jurisdiction=juris[c],
                zones=1,
                private=True,
                vcpu_capacity=private_vcpu,
                mem_gib_capacity=4 * private_vcpu,
                storage_gb_capacity=1e9,
            )
        )
        for vcpu in (4.0, 8.0, 16.0):
            offerings.append(
                SynthOffering(
                    f"priv/site{s}",
                    f"flavor-{int(vcpu)}",
                    "compute.vm",
                    vcpu * 12.0,
                    vcpu=vcpu,
                    mem_gib=4 * vcpu,
                )
            )
        offerings.append(
            SynthOffering(f"priv/site{s}", "ceph100", "storage.block", 2.0, storage_gb=100)
        )
    return make_catalog(regions, offerings)
