"""Private-cloud sites: read each private provider's `sites.yaml` into capacity and chargeback.

Takes the catalog folder and the providers table; returns two frames: the sites table, one row per
site of sellable capacity (hosts times the Nova allocation ratios, less what each host reserves)
and chargeback rates (the site's monthly cost spread over the capacity it expects to sell), and
one `regions.csv`-shaped row per site, so sites are regions like any other. It exists because a
private provider is described by its hardware and costs, not by a price list, and this is the one
place that turns the one into the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CatalogError, Problem
from ..safeyaml import load_yaml_file
from .offerings import HOURS_PER_MONTH


# The schema of sites.yaml. Unknown keys are errors, so a misspelt field is reported instead of
# silently left at its default.
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


def read_private_cloud(
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
        for s in cloud.sites:
            row = _site_capacity(prov, s, cloud.cost_model)
            site_rows.append(row)
            vcpu, mem = row["vcpu_capacity"], row["mem_gib_capacity"]
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
            region_rows.append(_site_as_region(prov, s))
    sites = (
        pd.DataFrame(site_rows).set_index("region")
        if site_rows
        else pd.DataFrame(columns=["vcpu_capacity", "mem_gib_capacity", "storage_gb_capacity"])
    )
    return sites, pd.DataFrame(region_rows)


def _site_capacity(prov: str, s: Site, cm: CostModel) -> dict[str, Any]:
    """What a site sells (hosts x allocation ratio, less each host's reservation) and what it
    charges per vCPU-hour and GiB-hour."""
    r = s.reserved_per_host
    vcpu = sum(h.count * (h.threads * s.allocation_ratio.cpu - r.vcpu) for h in s.hosts)
    mem = sum(h.count * (h.ram_gib * s.allocation_ratio.ram - r.ram_gib) for h in s.hosts)
    disk = sum(h.count * (h.disk_gb * s.allocation_ratio.disk - r.disk_gb) for h in s.hosts)
    hosts = sum(h.count for h in s.hosts)
    cost = s.cost_usd_per_host_month
    month = hosts * (cost.hardware + cost.power + cost.space + cost.staff)
    # Chargeback: spread the site's monthly cost over the share of capacity we expect to sell.
    sellable = cm.target_utilization
    return {
        "region": f"{prov}/{s.site}",
        "provider": prov,
        "vcpu_capacity": vcpu,
        "mem_gib_capacity": mem,
        "storage_gb_capacity": disk,
        "hosts": hosts,
        "usd_per_month": month,
        "usd_per_vcpu_hour": month / (vcpu * sellable) / cm.hours_per_month if vcpu > 0 else np.nan,
        "usd_per_gib_hour": month / (mem * sellable) / cm.hours_per_month if mem > 0 else np.nan,
        "cpu_ratio": s.allocation_ratio.cpu,
        "ram_ratio": s.allocation_ratio.ram,
        "disk_ratio": s.allocation_ratio.disk,
        "target_utilization": sellable,
    }


def _site_as_region(prov: str, s: Site) -> dict[str, object]:
    """A site as a row of `regions.csv`, so the rest of the catalog treats it as a region."""
    return {
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
