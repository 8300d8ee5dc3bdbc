"""Load a catalog folder into validated, typed pandas tables (see catalogs/README.md)."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CatalogError, Problem, did_you_mean
from ..safeyaml import load_yaml_file
from . import columns as C
from .geo import LatencyModel, haversine_km

HOURS_PER_MONTH = 730.0
# Used only when a catalog has no availability.yaml (synthetic catalogs); the shipped file is the
# source.
AVAILABILITY_FALLBACK = {
    "public_region": 1e-4,
    "private_region": 1.8e-4,
    "provider": 1e-5,
    "front_door": 1e-4,
    "zone_beta": 0.05,
}
MAX_CSV_BYTES = 20 * 1024 * 1024


def default_catalog_dir() -> Path:
    """The embedded catalog: inside the installed package, or the repository's `catalogs/`."""
    packaged = Path(__file__).resolve().parent.parent / "data" / "catalogs"
    if (packaged / "providers.csv").exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "catalogs"


# ---------------------------------------------------------------- private cloud (YAML) schema
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HostGroup(_Strict):
    model: str
    count: int = Field(gt=0)
    cores: int = Field(gt=0)
    threads: int = Field(gt=0)
    ram_gib: float = Field(gt=0)
    disk_gb: float = Field(gt=0)


class Ratios(_Strict):
    cpu: float = Field(gt=0, le=64)
    ram: float = Field(gt=0, le=8)
    disk: float = Field(gt=0, le=8)


class Reserved(_Strict):
    vcpu: float = Field(default=0, ge=0)
    ram_gib: float = Field(default=0, ge=0)
    disk_gb: float = Field(default=0, ge=0)


class HostCost(_Strict):
    hardware: float = Field(ge=0)
    power: float = Field(ge=0)
    space: float = Field(ge=0)
    staff: float = Field(ge=0)


class Site(_Strict):
    site: str
    name: str
    city: str
    country: str
    jurisdiction: str
    continent: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    zones: int = Field(ge=0, le=12)
    campus: str = ""
    hosts: list[HostGroup] = Field(min_length=1)
    allocation_ratio: Ratios
    reserved_per_host: Reserved = Reserved()
    cost_usd_per_host_month: HostCost
    source_url: str
    as_of: str
    status: str


class CostModel(_Strict):
    hours_per_month: float = Field(default=HOURS_PER_MONTH, gt=0)
    target_utilization: float = Field(gt=0, le=1)


class PrivateCloud(_Strict):
    cost_model: CostModel
    sites: list[Site] = Field(min_length=1)


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
    latency_ms: np.ndarray = field(init=False, repr=False)
    latency_measured_mask: np.ndarray = field(init=False, repr=False)
    egress_usd_per_gb: np.ndarray = field(init=False, repr=False)
    region_pos: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.region_pos = {r: i for i, r in enumerate(self.regions.index)}
        self.latency_ms, self.latency_measured_mask = _latency_matrix(self)
        self.egress_usd_per_gb = _egress_matrix(self)

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

    def egress_rate(self, src: str, dst: str) -> float:
        return float(self.egress_usd_per_gb[self.position(src), self.position(dst)])

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

    providers = _table(root, "providers.csv", C.PROVIDERS, problems)
    region_parts, offering_parts, price_parts, egress_parts = [], [], [], []
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
            regs = _table(root, f"{prov}/regions.csv", C.REGIONS, problems)
            regs.insert(0, "provider", prov)
            regs["file_row"] = regs.index + 2
            region_parts.append(regs)
        offs = _table(root, f"{prov}/offerings.csv", C.OFFERINGS, problems)
        offs.insert(0, "provider", prov)
        offs["file_row"] = offs.index + 2
        offering_parts.append(offs)
        if (folder / "prices.csv").exists():
            pr = _table(root, f"{prov}/prices.csv", C.PRICES, problems)
            pr.insert(0, "provider", prov)
            pr["file_row"] = pr.index + 2
            price_parts.append(pr)
        eg = _table(root, f"{prov}/egress.csv", C.EGRESS, problems)
        eg.insert(0, "provider", prov)
        eg["file_row"] = eg.index + 2
        egress_parts.append(eg)

    private, site_regions = _private_cloud(root, providers, problems)
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

    service_categories = _table(root, "service_categories.csv", C.SERVICE_CATEGORIES, problems)
    strategies = _table(root, "strategies.csv", C.STRATEGIES, problems).set_index("strategy")
    incidents = _table(root, "incidents.csv", C.INCIDENTS, problems)
    latency = _table(root, "latency_measured.csv", C.LATENCY, problems)
    pairs = (
        _table(root, "egress_pairs.csv", C.EGRESS_PAIRS, problems)
        if (root / "egress_pairs.csv").exists()
        else pd.DataFrame(columns=["src", "dst", "usd_per_gb"])
    )
    model = _latency_model(root, problems)
    availability = _availability(root, problems)

    regions = _check_regions(regions, providers, problems)
    offerings = _expand_offerings(offerings_raw, regions, prices, private, problems)
    egress = _check_egress(egress, regions, problems)
    _check_references(
        latency, incidents, regions, service_categories, offerings, providers, problems
    )
    _check_pairs(pairs, regions, problems)
    if problems:
        raise CatalogError(problems)

    regions = regions.set_index("region", drop=True)
    regions.index.name = "region"
    regions = _attach_internet_rate(regions, egress)
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
    )


def _table(root: Path, rel: str, cols: tuple[C.Col, ...], problems: list[Problem]) -> pd.DataFrame:
    """Read one CSV as text and type it; an unreadable file becomes a problem, not a traceback."""
    path = root / rel
    empty = pd.DataFrame({c.name: pd.Series(dtype=C._dtype(c)) for c in cols})
    if not path.exists():
        problems.append(
            Problem(rel, "", "", "file is missing", fix=f"create {rel} (see catalogs/README.md)")
        )
        return empty
    if path.stat().st_size > MAX_CSV_BYTES:
        problems.append(Problem(rel, "", "", "file is larger than 20 MiB"))
        return empty
    try:
        text = path.read_text(encoding="utf-8")
        # index_col=False: a header with fewer names than a row's cells must not turn a column into
        # the index; skip_blank_lines=False keeps index + 2 equal to the line in the file.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            raw = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                index_col=False,
                skip_blank_lines=False,
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            problems.append(
                Problem(
                    rel,
                    "header",
                    "",
                    "rows have more cells than the header has names",
                    fix="add the missing column name to the header, or remove the extra cells",
                )
            )
            return empty
        raw = raw[(raw != "").any(axis=1)]
    except UnicodeDecodeError:
        problems.append(Problem(rel, "", "", "file is not UTF-8 text", fix="save it as UTF-8 CSV"))
        return empty
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip()
        # pandas counts rows from 0 after the header in some messages; report the file's line number
        m = re.search(r"row (\d+)", msg)
        where = f"row {int(m.group(1)) + 1}" if m else ""
        m2 = re.search(r"line (\d+)", msg)
        where = where or (f"row {m2.group(1)}" if m2 else "")
        problems.append(
            Problem(
                rel,
                where,
                "",
                f"not a valid CSV file: {msg}",
                fix="check the quoting and the number of commas on each line",
            )
        )
        return empty
    typed, found = C.validate_columns(raw, rel, cols)
    problems.extend(found)
    return typed


def _latency_model(root: Path, problems: list[Problem]) -> LatencyModel:
    path = root / "latency_model.yaml"
    fallback = LatencyModel(overhead_ms=5.0, ms_per_km=0.018, same_metro_ms=2.5, same_metro_km=80.0)
    if not path.exists():
        problems.append(Problem("latency_model.yaml", "", "", "file is missing"))
        return fallback
    try:
        data = load_yaml_file(path, CatalogError)
        return LatencyModel(
            **{
                k: float(data[k])
                for k in ("overhead_ms", "ms_per_km", "same_metro_ms", "same_metro_km")
            }
        )
    except CatalogError as exc:
        problems.extend(exc.problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(
            Problem(
                "latency_model.yaml",
                "",
                str(exc),
                "missing or non-numeric parameter",
                fix="set overhead_ms, ms_per_km, same_metro_ms, same_metro_km",
            )
        )
    return fallback


def _availability(root: Path, problems: list[Problem]) -> dict[str, float]:
    path = root / "availability.yaml"
    if not path.exists():
        return dict(AVAILABILITY_FALLBACK)
    try:
        data = load_yaml_file(path, CatalogError)
        out = {
            "public_region": float(data["region_unavailability"]["public"]),
            "private_region": float(data["region_unavailability"]["private"]),
            "provider": float(data["provider_unavailability"]),
            "front_door": float(data["front_door_unavailability"]),
            "zone_beta": float(data["zone_beta"]),
        }
    except CatalogError as exc:
        problems.extend(exc.problems)
        return dict(AVAILABILITY_FALLBACK)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(
            Problem(
                "availability.yaml",
                "",
                str(exc),
                "missing or non-numeric value",
                fix="see catalogs/README.md for the fields",
            )
        )
        return dict(AVAILABILITY_FALLBACK)
    for key, value in out.items():
        if not 0 <= value < 1:
            problems.append(
                Problem(
                    "availability.yaml", "", key, "must be a probability in [0, 1)", value=value
                )
            )
    return out


def _private_cloud(
    root: Path, providers: pd.DataFrame, problems: list[Problem]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites of private providers: regions rows plus a table of capacity and chargeback rates."""
    site_rows, region_rows = [], []
    for prov in providers.loc[providers["kind"] == "private", "provider"]:
        rel = f"{prov}/sites.yaml"
        try:
            data = load_yaml_file(root / rel, CatalogError)
            cloud = PrivateCloud.model_validate(data)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                problems.append(Problem(rel, path, "", err["msg"].lower(), value=err.get("input")))
            continue
        cm = cloud.cost_model
        for s in cloud.sites:
            r = s.reserved_per_host
            vcpu = sum(h.count * (h.threads * s.allocation_ratio.cpu - r.vcpu) for h in s.hosts)
            mem = sum(h.count * (h.ram_gib * s.allocation_ratio.ram - r.ram_gib) for h in s.hosts)
            disk = sum(h.count * (h.disk_gb * s.allocation_ratio.disk - r.disk_gb) for h in s.hosts)
            hosts = sum(h.count for h in s.hosts)
            cost = s.cost_usd_per_host_month
            month = hosts * (cost.hardware + cost.power + cost.space + cost.staff)
            # Chargeback: spread the site's monthly cost over the share of capacity we expect to
            # sell.
            sellable = cm.target_utilization
            site_rows.append(
                {
                    "region": f"{prov}/{s.site}",
                    "provider": prov,
                    "vcpu_capacity": vcpu,
                    "mem_gib_capacity": mem,
                    "storage_gb_capacity": disk,
                    "hosts": hosts,
                    "usd_per_month": month,
                    "usd_per_vcpu_hour": month / (vcpu * sellable) / cm.hours_per_month
                    if vcpu > 0
                    else np.nan,
                    "usd_per_gib_hour": month / (mem * sellable) / cm.hours_per_month
                    if mem > 0
                    else np.nan,
                    "cpu_ratio": s.allocation_ratio.cpu,
                    "ram_ratio": s.allocation_ratio.ram,
                    "disk_ratio": s.allocation_ratio.disk,
                    "target_utilization": sellable,
                }
            )
            if vcpu <= 0 or mem <= 0:
                problems.append(
                    Problem(
                        rel,
                        f"sites[{s.site}]",
                        "reserved_per_host",
                        "reservations leave no usable capacity",
                        fix="lower reserved_per_host or raise the allocation ratio",
                    )
                )
            region_rows.append(
                {
                    "provider": prov,
                    "region": s.site,
                    "name": s.name,
                    "city": s.city,
                    "country": s.country,
                    "jurisdiction": s.jurisdiction,
                    "continent": s.continent,
                    "lat": s.lat,
                    "lon": s.lon,
                    "zones": s.zones,
                    "site": s.campus,
                    "price_factor": 1.0,
                    "source_url": s.source_url,
                    "as_of": s.as_of,
                    "status": s.status,
                    "file_row": 0,
                }
            )
    sites = (
        pd.DataFrame(site_rows).set_index("region")
        if site_rows
        else pd.DataFrame(columns=["vcpu_capacity", "mem_gib_capacity", "storage_gb_capacity"])
    )
    return sites, pd.DataFrame(region_rows)


def _check_regions(
    regions: pd.DataFrame, providers: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    if regions.empty:
        problems.append(Problem("", "", "", "the catalog has no regions"))
        return regions
    regions = regions.copy()
    regions["code"] = regions["region"]
    regions["region"] = regions["provider"] + "/" + regions["code"]
    regions["kind"] = regions["provider"].map(providers.set_index("provider")["kind"])
    dup = regions[regions.duplicated("region", keep="first")]
    for _, row in dup.iterrows():
        problems.append(
            Problem(
                f"{row.provider}/regions.csv",
                f"row {row.file_row}",
                "region",
                "duplicate region id",
                value=row.code,
                fix="each region appears once; remove or rename the repeated row",
            )
        )
    regions = regions.drop_duplicates("region")
    # A site groups regions that share a building or campus; by default a region is its own site.
    blank = regions["site"].fillna("") == ""
    regions.loc[blank, "site"] = regions.loc[blank, "region"]
    return regions.reset_index(drop=True)


def _expand_offerings(
    offs: pd.DataFrame,
    regions: pd.DataFrame,
    prices: pd.DataFrame,
    sites: pd.DataFrame,
    problems: list[Problem],
) -> pd.DataFrame:
    """One row per (offering, region) with a monthly price per unit; the one place prices are
    normalised."""
    if offs.empty or regions.empty:
        return pd.DataFrame()
    file = offs["provider"] + "/offerings.csv"
    for i in offs.index[offs.duplicated(["provider", "sku"])]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "sku",
                "duplicate sku",
                value=offs.at[i, "sku"],
                fix="each sku appears once per provider",
            )
        )
    offs = offs.drop_duplicates(["provider", "sku"])
    cap = offs[list(C.RESOURCES)].fillna(0.0)
    for i in offs.index[(cap.to_numpy() <= 0).all(axis=1)]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "vcpu..lb",
                "an offering must provide some capacity",
                fix="set at least one of " + ", ".join(C.RESOURCES),
            )
        )
    charge = offs["price_unit"] == "chargeback"
    for i in offs.index[~charge & ~(offs["price_usd"].fillna(0) > 0)]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "price_usd",
                "price must be a positive number",
                value=offs.at[i, "price_usd"],
                fix="write the list price per price_unit, e.g. 0.096",
            )
        )
    # Where each sku is offered: listed regions, or every region of its provider.
    reg_codes = regions.groupby("provider")["code"].apply(list).to_dict()
    pairs = []
    for i, row in offs.iterrows():
        listed = str(row["regions"]).split()
        known = set(reg_codes.get(row["provider"], []))
        for code in listed:
            if code not in known:
                problems.append(
                    Problem(
                        file[i],
                        f"row {row['file_row']}",
                        "regions",
                        f"offering in a region that does not exist: `{code}`",
                        value=code,
                        fix=did_you_mean(code, known),
                    )
                )
        for code in listed or reg_codes.get(row["provider"], []):
            if code in known:
                pairs.append((i, f"{row['provider']}/{code}"))
    idx, reg = zip(*pairs, strict=True) if pairs else ((), ())
    out = offs.loc[list(idx)].reset_index(drop=True)
    out["region"] = list(reg)
    rinfo = regions.set_index("region")
    out["price_factor"] = out["region"].map(rinfo["price_factor"]).astype(float)

    # Exact regional list prices override base x factor.
    if not prices.empty:
        prices = prices.copy()
        prices["region_id"] = prices["provider"] + "/" + prices["region"]
        known_skus = set(offs["provider"] + "/" + offs["sku"])
        for _, p in prices.iterrows():
            pf = f"{p['provider']}/prices.csv"
            if f"{p['provider']}/{p['sku']}" not in known_skus:
                problems.append(
                    Problem(
                        pf,
                        f"row {p['file_row']}",
                        "sku",
                        "sku not in offerings.csv",
                        value=p["sku"],
                        fix=did_you_mean(p["sku"], offs["sku"]),
                    )
                )
            if p["region_id"] not in rinfo.index:
                problems.append(
                    Problem(
                        pf,
                        f"row {p['file_row']}",
                        "region",
                        "region does not exist",
                        value=p["region"],
                        fix=did_you_mean(p["region"], reg_codes.get(p["provider"], [])),
                    )
                )
        offered = set(zip(out["provider"], out["sku"], out["region"], strict=True))
        for _, p in prices.iterrows():
            if (
                f"{p['provider']}/{p['sku']}" in known_skus
                and p["region_id"] in rinfo.index
                and (p["provider"], p["sku"], p["region_id"]) not in offered
            ):
                problems.append(
                    Problem(
                        f"{p['provider']}/prices.csv",
                        f"row {p['file_row']}",
                        "region",
                        "the sku is not offered in this region",
                        value=p["region"],
                        fix="add the region to the offering's `regions`, or remove the price",
                    )
                )
        exact = prices.set_index(["provider", "sku", "region_id"])["price_usd"]
        exact = exact[~exact.index.duplicated()]
        key = pd.MultiIndex.from_arrays([out["provider"], out["sku"], out["region"]])
        out["exact_price_usd"] = exact.reindex(key).to_numpy()
    else:
        out["exact_price_usd"] = np.nan

    has_exact = out["exact_price_usd"].notna()
    unit_price = np.where(has_exact, out["exact_price_usd"], out["price_usd"] * out["price_factor"])
    per_unit = {
        "hour": HOURS_PER_MONTH,
        "month": 1.0,
        "gb_month": out["storage_gb"],
        "million_requests": out["requests_m"],
        "user_month": out["users"],
    }
    monthly = np.zeros(len(out))
    for unit, mult in per_unit.items():
        mask = (out["price_unit"] == unit).to_numpy()
        monthly = np.where(
            mask,
            unit_price * np.asarray(mult, dtype=float) if np.ndim(mult) else unit_price * mult,
            monthly,
        )
    out["price_basis"] = np.where(has_exact, "list", "base x region factor")
    # Private chargeback: the larger of the flavor's vCPU and RAM share of what a site sells.
    charge = (out["price_unit"] == "chargeback").to_numpy()
    if charge.any():
        if sites.empty:
            problems.append(Problem("", "", "price_unit", "chargeback offerings need sites.yaml"))
        else:
            vcpu_rate = out["region"].map(sites["usd_per_vcpu_hour"]).astype(float)
            gib_rate = out["region"].map(sites["usd_per_gib_hour"]).astype(float)
            cb = np.maximum(out["vcpu"] * vcpu_rate, out["mem_gib"] * gib_rate) * HOURS_PER_MONTH
            monthly = np.where(charge, cb.to_numpy(), monthly)
            out.loc[charge, "price_basis"] = "chargeback"
    out["usd_per_month"] = monthly
    out["fixed_usd_per_month"] = out["fixed_usd_per_month"].fillna(0.0).astype(float)
    out["offering"] = out["region"] + "/" + out["sku"]
    keep = [
        "offering",
        "provider",
        "region",
        "sku",
        "category",
        "tier",
        *C.RESOURCES,
        "usd_per_month",
        "fixed_usd_per_month",
        "price_usd",
        "price_unit",
        "price_basis",
        "sla_pct",
        "sla_mode",
        "managed_layers",
        "source_url",
        "as_of",
        "status",
    ]
    return out[keep].set_index("offering")


def _check_egress(
    egress: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    if egress.empty or regions.empty:
        return egress
    for prov, rules in egress.groupby("provider"):
        froms = set(rules["from"])
        codes = set(regions.loc[regions["provider"] == prov, "code"])
        if "*" not in froms:
            missing = set(regions.loc[regions["provider"] == prov, "continent"]) - froms
            uncovered = regions[
                (regions["provider"] == prov)
                & ~regions["code"].isin(froms)
                & regions["continent"].isin(missing)
            ]
            if not uncovered.empty:
                problems.append(
                    Problem(
                        f"{prov}/egress.csv",
                        "",
                        "from",
                        f"no rule covers regions {list(uncovered['code'])[:5]}",
                        fix="add a row with from = `*`",
                    )
                )
        for f, line in zip(rules["from"], rules["file_row"], strict=True):
            if f != "*" and f not in codes and f not in C.CONTINENTS:
                problems.append(
                    Problem(
                        f"{prov}/egress.csv",
                        f"row {line}",
                        "from",
                        "neither a region of this provider, a continent nor `*`",
                        value=f,
                        fix=did_you_mean(f, codes | set(C.CONTINENTS)),
                    )
                )
    return egress


def _check_references(
    latency: pd.DataFrame,
    incidents: pd.DataFrame,
    regions: pd.DataFrame,
    categories: pd.DataFrame,
    offerings: pd.DataFrame,
    providers: pd.DataFrame,
    problems: list[Problem],
) -> None:
    ids = set(regions["region"]) if not regions.empty else set()
    _check_pair_table(latency, "latency_measured.csv", problems)
    for col in ("src", "dst"):
        for i, v in latency[col].items():
            if v not in ids:
                problems.append(
                    Problem(
                        "latency_measured.csv",
                        f"row {i + 2}",
                        col,
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )
    for i, row in incidents.iterrows():
        for v in str(row["regions"]).split():
            if v not in ids:
                problems.append(
                    Problem(
                        "incidents.csv",
                        f"row {i + 2}",
                        "regions",
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )
        if row["provider"] not in set(providers["provider"]) | {"-"}:
            problems.append(
                Problem(
                    "incidents.csv",
                    f"row {i + 2}",
                    "provider",
                    "unknown provider",
                    value=row["provider"],
                    fix=did_you_mean(row["provider"], providers["provider"]),
                )
            )
    if not offerings.empty:
        offered = set(offerings["category"])
        for i, v in categories["offering_category"].items():
            if v not in offered:
                problems.append(
                    Problem(
                        "service_categories.csv",
                        f"row {i + 2}",
                        "offering_category",
                        "no offering has this category",
                        value=v,
                        fix=did_you_mean(v, offered),
                    )
                )


def _check_pair_table(table: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """No pair of a region with itself, and each unordered pair at most once."""
    seen: dict[frozenset[str], int] = {}
    for i, (a, b) in enumerate(zip(table["src"], table["dst"], strict=True)):
        line = int(table.index[i]) + 2
        if a == b:
            problems.append(
                Problem(
                    file,
                    f"row {line}",
                    "dst",
                    "a region paired with itself",
                    value=b,
                    fix="remove the row: inside a region the figure is fixed",
                )
            )
        key = frozenset((a, b))
        if key in seen:
            problems.append(
                Problem(
                    file,
                    f"row {line}",
                    "src",
                    f"pair repeats row {seen[key]}",
                    value=f"{a} {b}",
                    fix="keep one row per pair",
                )
            )
        seen.setdefault(key, line)


def _check_pairs(pairs: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]) -> None:
    ids = set(regions["region"]) if not regions.empty else set()
    if not pairs.empty:
        seen: dict[tuple[str, str], int] = {}
        for i, (a, b) in enumerate(zip(pairs["src"], pairs["dst"], strict=True)):
            line = int(pairs.index[i]) + 2
            if (a, b) in seen:
                problems.append(
                    Problem(
                        "egress_pairs.csv",
                        f"row {line}",
                        "src",
                        f"pair repeats row {seen[(a, b)]}",
                        value=f"{a} {b}",
                        fix="keep one row per direction",
                    )
                )
            seen.setdefault((a, b), line)
    for col in ("src", "dst"):
        for i, v in pairs[col].items():
            if v not in ids:
                problems.append(
                    Problem(
                        "egress_pairs.csv",
                        f"row {i + 2}",
                        col,
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )


def _attach_internet_rate(regions: pd.DataFrame, egress: pd.DataFrame) -> pd.DataFrame:
    rules = _rule_per_region(regions, egress)
    regions = regions.copy()
    for col in (
        "internet_usd_per_gb",
        "same_continent_usd_per_gb",
        "other_continent_usd_per_gb",
        "other_provider_usd_per_gb",
    ):
        regions[col] = rules[col].to_numpy()
    return regions


def _rule_per_region(regions: pd.DataFrame, egress: pd.DataFrame) -> pd.DataFrame:
    """The egress rule that applies to each region: its own row, else its continent's, else `*`."""
    rules = egress.set_index(["provider", "from"])
    picked = []
    for _rid, row in regions.iterrows():
        for key in (
            (row["provider"], row["code"]),
            (row["provider"], row["continent"]),
            (row["provider"], "*"),
        ):
            if key in rules.index:
                picked.append(
                    rules.loc[key] if rules.loc[key].ndim == 1 else rules.loc[key].iloc[0]
                )
                break
        else:  # validation guarantees coverage; keep a safe, visible default for partial catalogs
            picked.append(pd.Series({c: np.nan for c in rules.columns}))
    return pd.DataFrame(picked, index=regions.index)


def _latency_matrix(cat: Catalog) -> tuple[np.ndarray, np.ndarray]:
    lat = cat.regions["lat"].to_numpy(dtype=float)
    lon = cat.regions["lon"].to_numpy(dtype=float)
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    rtt = cat.latency_model.rtt_ms(km)
    np.fill_diagonal(rtt, 0.0)
    measured = np.zeros_like(rtt, dtype=bool)
    for _, m in cat.latency_measured.iterrows():
        i, j = cat.region_pos[m["src"]], cat.region_pos[m["dst"]]
        rtt[i, j] = rtt[j, i] = m["rtt_ms"]
        measured[i, j] = measured[j, i] = True
    return rtt, measured


def _egress_matrix(cat: Catalog) -> np.ndarray:
    r = cat.regions
    prov = r["provider"].to_numpy()
    cont = r["continent"].to_numpy()
    same_p = prov[:, None] == prov[None, :]
    same_c = cont[:, None] == cont[None, :]
    rate = np.where(
        same_p,
        np.where(
            same_c,
            r["same_continent_usd_per_gb"].to_numpy()[:, None],
            r["other_continent_usd_per_gb"].to_numpy()[:, None],
        ),
        r["other_provider_usd_per_gb"].to_numpy()[:, None],
    ).astype(float)
    # exact pair prices (an imported price table) override the provider rules
    for src, dst, usd in zip(
        cat.egress_pairs["src"],
        cat.egress_pairs["dst"],
        cat.egress_pairs["usd_per_gb"],
        strict=True,
    ):
        rate[cat.region_pos[src], cat.region_pos[dst]] = float(usd)
    np.fill_diagonal(rate, 0.0)  # traffic inside a region is free
    return rate
