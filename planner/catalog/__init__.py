"""Catalog: load and validate the provider, region, offering, egress and latency tables."""

from .load import HOURS_PER_MONTH, Catalog, default_catalog_dir, load_catalog

__all__ = ["HOURS_PER_MONTH", "Catalog", "default_catalog_dir", "load_catalog"]
