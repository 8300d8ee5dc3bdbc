"""Load a catalog folder into validated, typed pandas tables (see catalogs/README.md).

Takes the path of a catalog folder (by default the embedded one); returns a `Catalog`, whose tables
are indexed by canonical ids and whose latency and egress matrices are ready for the model, or
raises one `CatalogError` listing every problem found in any file. This module is the order of the
work; each step lives in its own module of this package:

* `tables.py`     reads each CSV and YAML file and types its columns (`columns.py`);
* `private.py`    turns private providers' `sites.yaml` into regions, capacity and chargeback;
* `checks.py`     the rules across tables (region ids, egress rules, references, pairs);
* `offerings.py`  one row per (sku, region) with a monthly price;
* `matrices.py`   per-region egress rates, the region-by-region latency and egress matrices, the
                  egress rules' destinations and tiers checked, and the exact egress bill;
* `import_egress.py` reads each provider's egress.csv in either shape (the older one converted).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CatalogError, Problem, did_you_mean
from . import columns as C
from .checks import check_egress, check_pairs, check_references, check_regions
from .geo import LatencyModel, haversine_km
from .import_egress import read_egress_rules_into
from .matrices import (
    EgressRates,
    Schedule,
    attach_internet_rate,
    build_schedules,
    check_egress_rules,
    check_egress_tiers,
    egress_bill,
    egress_rates,
    latency_matrix,
    schedules_by_region,
)
from .offerings import HOURS_PER_MONTH as HOURS_PER_MONTH
from .offerings import attach_saas_scope, attach_writers, expand_offerings
from .private import CostModel as CostModel
from .private import HostCost as HostCost
from .private import HostGroup as HostGroup
from .private import PrivateCloud as PrivateCloud
from .private import Ratios as Ratios
from .private import Reserved as Reserved
from .private import Site as Site
from .private import read_private_cloud
from .tables import AVAILABILITY_FALLBACK, read_availability, read_latency_model, read_table
from .tables import MAX_CSV_BYTES as MAX_CSV_BYTES

# The `X as X` imports above keep the names this module defined before it was split importable
# from here.


def default_catalog_dir() -> Path:
    """The embedded catalog: inside the installed package, or the repository's `catalogs/`."""
    packaged = Path(__file__).resolve().parent.parent / "data" / "catalogs"
    if (packaged / "providers.csv").exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "catalogs"


# ---------------------------------------------------------------- the catalog
@dataclass
class Catalog:
    """The validated catalog. Tables are indexed by canonical ids; units sit in column names."""

    root: Path
    providers: pd.DataFrame  # index provider
    regions: pd.DataFrame  # index region ("aws/ap-northeast-2")
    offerings: pd.DataFrame  # index offering ("aws/ap-northeast-2/m5.large")
    egress_rules: pd.DataFrame
    sites: pd.DataFrame  # private sites: capacity and chargeback, index region
    service_categories: pd.DataFrame
    strategies: pd.DataFrame  # index strategy
    incidents: pd.DataFrame  # index incident
    latency_measured: pd.DataFrame
    latency_model: LatencyModel
    egress_pairs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["src", "dst", "usd_per_gb"])
    )
    availability: dict[str, float] = field(default_factory=lambda: dict(AVAILABILITY_FALLBACK))
    # volume tiers and free allowances (<provider>/egress_tiers.csv); empty: every flow is flat
    egress_tiers: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["provider", *(c.name for c in C.EGRESS_TIERS)]
        )
    )
    latency_ms: np.ndarray = field(init=False, repr=False)
    latency_measured_mask: np.ndarray = field(init=False, repr=False)
    egress_usd_per_gb: np.ndarray = field(init=False, repr=False)
    internet_usd_per_gb: np.ndarray = field(init=False, repr=False)
    cross_zone_usd_per_gb: np.ndarray = field(init=False, repr=False)
    region_pos: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.region_pos = {r: i for i, r in enumerate(self.regions.index)}
        self.latency_ms, self.latency_measured_mask = latency_matrix(
            self.regions, self.latency_model, self.latency_measured, self.region_pos
        )
        rates = egress_rates(self.regions, self.egress_pairs, self.region_pos, self.egress_rules)
        self.egress_usd_per_gb = rates.pair
        self.internet_usd_per_gb = rates.internet
        self.cross_zone_usd_per_gb = rates.cross_zone

    # Small lookups used by the model, the verifier and the CLI.
    def position(self, region: str) -> int:
        """The region's row and column in the latency and egress matrices."""
        try:
            return self.region_pos[region]
        except KeyError:
            raise CatalogError(
                [
                    Problem(
                        "",
                        "",
                        "region",
                        "unknown region",
                        value=region,
                        fix=did_you_mean(region, self.region_pos),
                    )
                ]
            ) from None

    def rtt_ms(self, src: str, dst: str) -> float:
        return float(self.latency_ms[self.position(src), self.position(dst)])

    # Egress. The optimiser prices each GB at the first paid tier (`egress_rate`,
    # `internet_rate`); `egress_bill` applies the volume tiers and free allowances. Tiers only fall
    # with volume, so the first-tier price is never below the exact one.
    def egress_rate(self, src: str, dst: str) -> float:
        """First-tier $/GB from region `src` to region `dst`, by the most specific egress rule
        for the destination (catalogs/README.md); 0 inside one region (zone-local)."""
        return float(self.egress_usd_per_gb[self.position(src), self.position(dst)])

    def internet_rate(self, src: str) -> float:
        """First paid tier $/GB from region `src` to the internet (the optimiser's rate)."""
        return float(self.internet_usd_per_gb[self.position(src)])

    def cross_zone_rate(self, src: str) -> float:
        """$/GB between two zones of region `src` where the provider charges it (0 otherwise);
        not part of `egress_rate`, which assumes traffic inside a region stays in one zone."""
        return float(self.cross_zone_usd_per_gb[self.position(src)])

    @functools.cached_property
    def egress_schedules(self) -> dict[tuple[str, str, str], Schedule]:
        """The tier schedule (or free allowance) of each (region, scope, kind), read once."""
        return schedules_by_region(self.regions, build_schedules(self.egress_tiers))[0]

    def egress_bill(self, flows: pd.DataFrame) -> pd.DataFrame:
        """The monthly egress bill of `flows`: columns `source` (region id), `destination`
        (region id or `internet`) and `gb` (GB per month), any others passed through. Returns
        one row per flow, in order, adding `usd_per_gb` (first-tier rate), `usd_flat` (gb x that
        rate: what the optimiser prices), `usd` (exact: tiers and free allowances applied as the
        provider aggregates them, shared among the flows in proportion to volume so the rows add
        up to the exact total) and `rule`. See `matrices.egress_bill` for the order of the steps.
        """
        rates = EgressRates(
            self.egress_usd_per_gb, self.internet_usd_per_gb, self.cross_zone_usd_per_gb
        )
        return egress_bill(flows, self.regions, self.region_pos, rates, self.egress_schedules)

    def runs_globally(self, offerings: Iterable[str]) -> np.ndarray:
        """For each offering id: whether it is SaaS of `global` scope (saas_scope.csv), which only
        a whole-provider outage takes down; every other offering fails with its region. The one
        reading of scope that the model, the verifier, what-if and availability share."""
        ids = list(offerings)
        unknown = [o for o in ids if o not in self.offerings.index]
        if unknown:
            raise KeyError(unknown[0])
        return np.fromiter((o in self.global_offerings for o in ids), dtype=bool, count=len(ids))

    @functools.cached_property
    def global_offerings(self) -> frozenset[str]:
        """Ids of the offerings that run globally, read once (set look-ups, not pandas
        indexing, keep the what-if sweep within its milliseconds)."""
        off = self.offerings
        if "scope" not in off:  # a catalog built in code without scopes: everything regional
            return frozenset()
        return frozenset(off.index[(off["tier"] == "SaaS") & (off["scope"] == "global")])

    def single_writer(self, offerings: Iterable[str]) -> np.ndarray:
        """For each offering id: whether it takes its writes on one primary (writers.csv `single`,
        and every offering outside the database and cache categories); False only for a
        multi-writer one, every replica of which takes writes (DynamoDB global tables). A service
        of `columns.SINGLE_WRITER_CATEGORIES` is single-writer unless every serving offering it
        uses is multi-writer (docs/model.md, rule 3)."""
        ids = list(offerings)
        unknown = [o for o in ids if o not in self.offerings.index]
        if unknown:
            raise KeyError(unknown[0])
        multi = self.multi_writer_offerings
        return np.fromiter((o not in multi for o in ids), dtype=bool, count=len(ids))

    @functools.cached_property
    def multi_writer_offerings(self) -> frozenset[str]:
        """Ids of the multi-writer offerings, read once (set look-ups, as `global_offerings`)."""
        off = self.offerings
        if off.empty:
            return frozenset()
        if "writers" not in off:  # a catalog built in code without writers: category defaults
            writers = off["category"].map(C.DEFAULT_WRITERS).fillna("single")
        else:
            writers = off["writers"]
        return frozenset(off.index[writers == "multi"])

    def rtt_from_point_ms(self, lat: float, lon: float) -> pd.Series:
        """Modelled round trip from a user location to every region."""
        km = haversine_km(lat, lon, self.regions["lat"].to_numpy(), self.regions["lon"].to_numpy())
        return pd.Series(self.latency_model.rtt_ms(km), index=self.regions.index, name="rtt_ms")


def load_catalog(root: Path | str | None = None) -> Catalog:
    """Read and validate a catalog folder; raise one CatalogError listing every problem."""
    root = Path(root) if root is not None else default_catalog_dir()
    problems: list[Problem] = []
    if not (root / "providers.csv").exists():
        raise CatalogError(
            [
                Problem(
                    str(root),
                    "",
                    "",
                    "not a catalog folder (no providers.csv)",
                    fix="pass the folder that holds providers.csv, or omit --catalog",
                )
            ]
        )

    providers = read_table(root, "providers.csv", C.PROVIDERS, problems)
    region_parts, offering_parts, price_parts, egress_parts, tier_parts = _read_provider_folders(
        root, providers, problems
    )

    private, site_regions = read_private_cloud(root, providers, problems)
    if not site_regions.empty:
        region_parts.append(site_regions)
    regions = pd.concat(region_parts, ignore_index=True) if region_parts else pd.DataFrame()
    offerings_raw = (
        pd.concat(offering_parts, ignore_index=True) if offering_parts else pd.DataFrame()
    )
    prices = (
        pd.concat(price_parts, ignore_index=True)
        if price_parts
        else pd.DataFrame(columns=["provider", "sku", "region", "price_usd", "file_row"])
    )
    egress = pd.concat(egress_parts, ignore_index=True) if egress_parts else pd.DataFrame()
    tiers = (
        pd.concat(tier_parts, ignore_index=True)
        if tier_parts
        else pd.DataFrame(columns=["provider", *(c.name for c in C.EGRESS_TIERS), "file_row"])
    )

    service_categories = read_table(root, "service_categories.csv", C.SERVICE_CATEGORIES, problems)
    strategies = read_table(root, "strategies.csv", C.STRATEGIES, problems).set_index("strategy")
    incidents = read_table(root, "incidents.csv", C.INCIDENTS, problems)
    latency = read_table(root, "latency_measured.csv", C.LATENCY, problems)
    pairs = (
        read_table(root, "egress_pairs.csv", C.EGRESS_PAIRS, problems)
        if (root / "egress_pairs.csv").exists()
        else pd.DataFrame(columns=["src", "dst", "usd_per_gb"])
    )
    model = read_latency_model(root, problems)
    availability = read_availability(root, problems)
    scopes = _saas_scopes(root, problems)
    writers = _writers(root, problems)

    regions = check_regions(regions, providers, problems)
    offerings = expand_offerings(offerings_raw, regions, prices, private, problems)
    offerings = attach_saas_scope(offerings, scopes, problems)
    offerings = attach_writers(offerings, writers, problems)
    egress = check_egress(egress, regions, problems)
    if not regions.empty and "code" in regions:
        check_egress_rules(egress, regions, problems)
        check_egress_tiers(tiers, egress, regions.set_index("region", drop=False), problems)
    check_references(
        latency, incidents, regions, service_categories, offerings, providers, problems
    )
    check_pairs(pairs, regions, problems)
    if problems:
        raise CatalogError(problems)

    regions = regions.set_index("region", drop=True)
    regions.index.name = "region"
    regions = attach_internet_rate(regions, egress)
    return Catalog(
        root=root,
        providers=providers.set_index("provider"),
        regions=regions,
        offerings=offerings,
        egress_rules=egress,
        sites=private,
        service_categories=service_categories,
        strategies=strategies,
        incidents=incidents.set_index("incident"),
        latency_measured=latency,
        latency_model=model,
        egress_pairs=pairs,
        availability=availability,
        egress_tiers=tiers,
    )


def _read_provider_folders(
    root: Path, providers: pd.DataFrame, problems: list[Problem]
) -> tuple[
    list[pd.DataFrame],
    list[pd.DataFrame],
    list[pd.DataFrame],
    list[pd.DataFrame],
    list[pd.DataFrame],
]:
    """Each provider folder's regions, offerings, prices, egress rules and egress tiers, in
    provider order.

    `regions.csv` and `prices.csv` are optional (a private provider's regions are its sites), so
    is `egress_tiers.csv` (without it every flow is billed at its first-tier rate);
    `offerings.csv` and `egress.csv` are not (egress.csv in either shape, see `import_egress`).
    """
    region_parts, offering_parts, price_parts, egress_parts, tier_parts = [], [], [], [], []
    for prov in providers["provider"]:
        folder = root / str(prov)
        if not folder.is_dir():
            problems.append(
                Problem(
                    str(root / "providers.csv"),
                    "",
                    "provider",
                    f"provider `{prov}` has no folder {prov}/",
                    fix=f"create {prov}/",
                )
            )
            continue
        if (folder / "regions.csv").exists():
            region_parts.append(_provider_table(root, prov, "regions.csv", C.REGIONS, problems))
        offering_parts.append(_provider_table(root, prov, "offerings.csv", C.OFFERINGS, problems))
        if (folder / "prices.csv").exists():
            price_parts.append(_provider_table(root, prov, "prices.csv", C.PRICES, problems))
        rules = read_egress_rules_into(root, f"{prov}/egress.csv", problems)
        rules.insert(0, "provider", prov)
        egress_parts.append(rules)
        if (folder / "egress_tiers.csv").exists():
            tier_parts.append(
                _provider_table(root, prov, "egress_tiers.csv", C.EGRESS_TIERS, problems)
            )
    return region_parts, offering_parts, price_parts, egress_parts, tier_parts


def _provider_table(
    root: Path, prov: str, name: str, cols: tuple[C.Col, ...], problems: list[Problem]
) -> pd.DataFrame:
    """One table of a provider's folder, each row tagged with its provider and its line in the
    file (the header is line 1), so later checks can point at the row."""
    table = read_table(root, f"{prov}/{name}", cols, problems)
    table.insert(0, "provider", prov)
    table["file_row"] = table.index + 2
    return table


def _saas_scopes(root: Path, problems: list[Problem]) -> pd.DataFrame:
    """saas_scope.csv with each row's line in the file; a catalog that sells no SaaS may omit it
    (a SaaS offering without a scope is reported by `attach_saas_scope`)."""
    if not (root / "saas_scope.csv").exists():
        return pd.DataFrame(columns=[c.name for c in C.SAAS_SCOPE] + ["file_row"])
    table = read_table(root, "saas_scope.csv", C.SAAS_SCOPE, problems)
    table["file_row"] = table.index + 2
    return table


def _writers(root: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """writers.csv with each row's line in the file, or None when the catalog has none (every
    database and cache offering then takes its category's default; with the file, one without a
    row is reported by `attach_writers`). A bad `writers` cell's problem names the offering."""
    if not (root / "writers.csv").exists():
        return None
    found: list[Problem] = []
    table = read_table(root, "writers.csv", C.WRITERS, found)
    table["file_row"] = table.index + 2
    for p in found:
        line = int(p.where[4:]) if p.where.startswith("row ") else -1
        if p.field == "writers" and line - 2 in table.index:
            offering = f"{table.at[line - 2, 'provider']}/{table.at[line - 2, 'sku']}"
            p = dataclasses.replace(p, message=f"{p.message} for {offering}")
        problems.append(p)
    return table
