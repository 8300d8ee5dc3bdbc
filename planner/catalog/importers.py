"""Import public, machine-readable data sets into our catalog format (see catalogs/README.md).

Three readers turn a foreign table into a tidy frame keyed the way our catalog keys things:

* `read_skypilot_vms`   SkyPilot catalog VM CSV (`InstanceType, vCPUs, MemoryGiB, Price, Region`)
                        -> one on-demand hourly price per (sku, region).
* `read_latency_table`  a measured ping table (`src_region, dst_region, avg_rtt`, as in skyplane)
                        -> one symmetric round trip per unordered region pair.
* `read_egress_table`   a region-pair egress price table (`src, dst|dest, cost`)
                        -> one $/GB per directed region pair. Rows whose destination is `internet`
                        are *dropped* from this table (our catalog prices internet egress with the
                        per-provider rules in `<provider>/egress.csv`); `read_internet_egress`
                        returns them on their own for whoever wants to compare.

`import_into_catalog` copies a catalog folder and writes the imported figures into the copy, so the
shipped catalog is never edited in place and a bad import never leaves a half-written catalog.

Every reader validates its whole input and raises one `CatalogError` listing every bad row (file,
line, column, value, fix) rather than stopping at the first or leaking a pandas traceback.

This module holds `import_into_catalog` and re-exports the readers; each part lives on its own:
`import_csv.py` reads any foreign CSV safely, `import_skypilot.py`, `import_latency.py` and
`import_egress.py` are the three readers, and `import_write.py` writes into the catalog copy.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OutputExistsError, Problem
from .import_csv import MAX_INPUT_BYTES as MAX_INPUT_BYTES
from .import_csv import StrPath, fail, raise_if
from .import_egress import EGRESS_COLUMNS as EGRESS_COLUMNS
from .import_egress import INTERNET as INTERNET
from .import_egress import MAX_USD_PER_GB as MAX_USD_PER_GB
from .import_egress import read_egress_table, read_internet_egress
from .import_latency import LATENCY_COLUMNS as LATENCY_COLUMNS
from .import_latency import MAX_RTT_MS as MAX_RTT_MS
from .import_latency import read_latency_table
from .import_skypilot import SKYPILOT_COLUMNS as SKYPILOT_COLUMNS
from .import_skypilot import read_skypilot_vms
from .import_write import write_pairs, write_vms
from .load import Catalog, load_catalog

__all__ = [
    "ImportSummary",
    "import_into_catalog",
    "read_egress_table",
    "read_internet_egress",
    "read_latency_table",
    "read_skypilot_vms",
]

# The `X as X` imports above keep the names this module defined before it was split importable
# from here; each reader lives in its own module (see the module docstring).

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ImportSummary:
    """What `import_into_catalog` wrote, so a CLI or a reviewer can see the effect at a glance."""

    out_dir: Path
    skus_added: tuple[str, ...] = ()
    skus_already_listed: tuple[str, ...] = ()
    prices_written: int = 0
    prices_replaced: int = 0
    prices_dropped: int = 0  # regions the catalog does not have
    latency_pairs_written: int = 0
    latency_pairs_dropped: int = 0
    egress_pairs_written: int = 0
    egress_pairs_dropped: int = 0
    unknown_regions: tuple[str, ...] = ()  # every input region not in the catalog


def _check_provenance(source_url: str, as_of: str) -> None:
    problems = []
    if not str(source_url).strip():
        problems.append(
            Problem(
                "import_into_catalog",
                "",
                "source_url",
                "empty or unusable",
                value=source_url,
                fix="pass the public URL of the data set",
            )
        )
    if not _DATE.match(str(as_of)):
        problems.append(
            Problem(
                "import_into_catalog",
                "",
                "as_of",
                "not a date",
                value=as_of,
                fix="write the date as YYYY-MM-DD",
            )
        )
    raise_if(problems)


def import_into_catalog(
    base_dir: StrPath,
    out_dir: StrPath,
    *,
    skypilot: StrPath | None = None,
    provider: str | None = None,
    latency: StrPath | None = None,
    egress: StrPath | None = None,
    source_url: str,
    as_of: str,
) -> ImportSummary:
    """Copy the catalog at `base_dir` to `out_dir` and write the imported figures into the copy.

    * `skypilot` (with `provider`): new SKUs go to `<provider>/offerings.csv` as IaaS `compute.vm`
      rows (base price = the base region's price, else the cheapest region's; SLA columns copied
      from an existing compute.vm row of the provider; `regions` limited to the regions that have
      an imported price, so no region gets a base x factor estimate labelled as verified). Every
      per-region price of a region in the catalog goes to `<provider>/prices.csv`, replacing an
      existing (sku, region) row. SKUs already in offerings.csv keep their row untouched.
    * `latency`: pairs whose two regions are in the catalog are merged into `latency_measured.csv`;
      an imported pair replaces an existing row for the same two regions, other rows are kept.
    * `egress`: pairs whose two regions are in the catalog are merged into `egress_pairs.csv` the
      same way. Internet rows are not imported (see `read_egress_table`).

    Every input is read and validated before anything is written; `out_dir` must not exist or be
    empty (`OutputExistsError`). The copy is loaded with `load_catalog` before returning; if that
    fails the copy is removed and the `CatalogError` is raised.
    """
    base, out = Path(base_dir), Path(out_dir)
    _check_provenance(source_url, as_of)
    _check_request(base, out, skypilot, provider)

    catalog = load_catalog(base)  # a broken base catalog is reported as such, before any work
    unknown: set[str] = set()

    # 1. Read every input first, so a bad file leaves nothing behind.
    vms = read_skypilot_vms(skypilot, provider) if skypilot is not None and provider else None
    lat = read_latency_table(latency) if latency is not None else None
    eg = read_egress_table(egress) if egress is not None else None
    prov = provider.strip().lower() if provider else ""
    if vms is not None:
        _check_priced_provider(catalog, base, prov, str(skypilot))

    # 2. Copy, then write into the copy.
    created = not out.exists()
    shutil.copytree(base, out, dirs_exist_ok=True)
    try:
        counts = _write_inputs(out, catalog, prov, vms, lat, eg, unknown, source_url, as_of)
        load_catalog(out)  # the contract: the result loads without errors
    except BaseException:
        # Leave no half-imported catalog behind; only what this call put there is removed.
        _remove_import(out, created)
        raise
    return ImportSummary(out_dir=out, unknown_regions=tuple(sorted(unknown)), **counts)


def _check_request(base: Path, out: Path, skypilot: StrPath | None, provider: str | None) -> None:
    """Refuse a call that cannot work before reading anything: a SkyPilot file without its
    provider, an output folder in use, or one inside the catalog being copied."""
    if skypilot is not None and not provider:
        raise fail(
            "import_into_catalog",
            "a SkyPilot file needs the provider it prices",
            column="provider",
            fix="pass provider=, e.g. provider='aws'",
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputExistsError(
            f"refusing to write the catalog into {out}: it exists and is not "
            "empty; choose a new folder or empty this one"
        )
    if out.resolve().is_relative_to(base.resolve()):
        raise fail(
            str(out),
            "the output folder lies inside the catalog being copied",
            fix="choose a folder outside base_dir",
        )


def _check_priced_provider(catalog: Catalog, base: Path, prov: str, file: str) -> None:
    """List prices can only be imported for a public provider of the catalog."""
    if prov not in catalog.providers.index:
        raise fail(
            file,
            "provider is not in the catalog",
            column="provider",
            value=prov,
            fix="use one of: " + ", ".join(catalog.providers.index),
        )
    public = catalog.providers.at[prov, "kind"] == "public"
    if not public or not (base / prov / "regions.csv").exists():
        raise fail(
            file,
            "list prices apply to public providers only",
            column="provider",
            value=prov,
            fix="private sites are priced by chargeback",
        )


def _write_inputs(
    out: Path,
    catalog: Catalog,
    prov: str,
    vms: pd.DataFrame | None,
    lat: pd.DataFrame | None,
    eg: pd.DataFrame | None,
    unknown: set[str],
    source_url: str,
    as_of: str,
) -> dict[str, Any]:
    """Write each input that was given into the copy at `out`; the counts for `ImportSummary`."""
    known = set(catalog.regions.index)
    counts: dict[str, Any] = {}
    if vms is not None:
        counts |= write_vms(out, prov, vms, catalog, source_url, as_of, unknown)
    if lat is not None:
        # RTTs to 3 decimals: below a microsecond is ping jitter, not information.
        counts |= write_pairs(
            out / "latency_measured.csv",
            lat,
            "rtt_ms",
            known,
            unknown,
            source_url,
            as_of,
            unordered=True,
            prefix="latency",
            digits=3,
        )
    if eg is not None:
        counts |= write_pairs(
            out / "egress_pairs.csv",
            eg,
            "usd_per_gb",
            known,
            unknown,
            source_url,
            as_of,
            unordered=False,
            prefix="egress",
            digits=None,
        )
    return counts


def _remove_import(out: Path, created: bool) -> None:
    """Remove what an import put in `out`: the folder if the import created it, else its content."""
    if created:
        shutil.rmtree(out, ignore_errors=True)
    else:
        for child in out.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
