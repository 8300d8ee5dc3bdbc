"""Catalog views: which providers, regions and offerings match a filter, and the columns shown.

The CLI (`mcplan catalog providers|regions|offerings --provider ...`) and the dashboard's catalog
explorer answer the same question, so they share this one reading of a filter: a region matches
when its provider, jurisdiction and id do, and (when the filter names tiers or categories, or the
caller asks for it) when it sells at least one matching offering; an offering matches when its
region does and its tier and category do. An empty part of the filter keeps everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError, Problem, did_you_mean
from .columns import TIERS
from .load import Catalog

REGION_COLUMNS = (
    "region",
    "provider",
    "name",
    "city",
    "country",
    "jurisdiction",
    "continent",
    "lat",
    "lon",
    "zones",
    "site",
    "kind",
    "price_factor",
    "status",
    "source_url",
    "as_of",
)
OFFERING_COLUMNS = (
    "offering",
    "provider",
    "region",
    "sku",
    "category",
    "tier",
    "vcpu",
    "mem_gib",
    "storage_gb",
    "requests_m",
    "users",
    "lb",
    "usd_per_month",
    "fixed_usd_per_month",
    "price_basis",
    "sla_pct",
    "sla_mode",
    "managed_layers",
    "status",
    "source_url",
    "as_of",
)


@dataclass(frozen=True)
class CatalogFilter:
    """Allowed values per field; an empty tuple allows every value."""

    providers: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def check(self, catalog: Catalog, label: str = "--{field}") -> None:
        """Raise one InputError naming every value the catalog does not know, with a 'did you
        mean'. `label` names the field in the user's terms (the CLI's option by default)."""
        known = {
            "provider": (self.providers, set(catalog.providers.index)),
            "jurisdiction": (self.jurisdictions, set(catalog.regions["jurisdiction"])),
            "region": (self.regions, set(catalog.regions.index)),
            "tier": (self.tiers, set(TIERS)),
            "category": (self.categories, set(catalog.offerings["category"])),
        }
        problems = [
            Problem(
                "",
                label.format(field=field),
                "",
                "unknown value",
                value=value,
                fix=did_you_mean(value, valid),
            )
            for field, (values, valid) in known.items()
            for value in values
            if value not in valid
        ]
        if problems:
            raise InputError(problems)


def _keep(column: pd.Series, allowed: Iterable[str]) -> pd.Series:
    allowed = tuple(allowed)
    return column.isin(allowed) if allowed else pd.Series(True, index=column.index)


def _region_mask(catalog: Catalog, flt: CatalogFilter) -> pd.Series:
    """Regions whose provider, jurisdiction and id match (what they sell aside)."""
    reg = catalog.regions
    keep = _keep(reg["provider"], flt.providers) & _keep(reg["jurisdiction"], flt.jurisdictions)
    return keep & _keep(pd.Series(reg.index, index=reg.index), flt.regions)


def matching_offerings(catalog: Catalog, flt: CatalogFilter) -> pd.DataFrame:
    """Offerings (indexed by offering id) in matching regions, of a matching tier and category."""
    off = catalog.offerings
    keep = off["region"].isin(catalog.regions.index[_region_mask(catalog, flt)])
    keep &= _keep(off["tier"], flt.tiers) & _keep(off["category"], flt.categories)
    return off[keep]


def matching_regions(
    catalog: Catalog, flt: CatalogFilter, selling_only: bool = False
) -> pd.DataFrame:
    """Regions (indexed by region id) that match; with tiers or categories in the filter, or
    `selling_only`, only those selling at least one matching offering."""
    reg = catalog.regions
    keep = _region_mask(catalog, flt)
    if selling_only or flt.tiers or flt.categories:
        keep &= reg.index.isin(matching_offerings(catalog, flt)["region"])
    return reg[keep]


def matching_providers(catalog: Catalog, flt: CatalogFilter) -> pd.DataFrame:
    """Providers with their region and SKU counts; with tiers or categories in the filter, only
    those selling a matching offering."""
    regs = catalog.regions.groupby("provider").size().rename("regions")
    skus = catalog.offerings.groupby("provider")["sku"].nunique().rename("skus")
    out = catalog.providers.join(regs).join(skus)
    keep = _keep(pd.Series(out.index, index=out.index), flt.providers)
    if flt.jurisdictions or flt.regions:
        keep &= out.index.isin(matching_regions(catalog, flt)["provider"])
    if flt.tiers or flt.categories:
        keep &= out.index.isin(matching_offerings(catalog, flt)["provider"])
    return out[keep]
