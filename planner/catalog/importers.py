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
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CatalogError, OutputExistsError, Problem
from .load import Catalog, load_catalog

__all__ = [
    "ImportSummary",
    "import_into_catalog",
    "read_egress_table",
    "read_internet_egress",
    "read_latency_table",
    "read_skypilot_vms",
]

StrPath = str | PathLike[str]

# A full SkyPilot vms.csv is a few MB; anything far larger is almost certainly the wrong file, and
# reading it whole would only waste memory before failing.
MAX_INPUT_BYTES = 64 * 1024 * 1024
# Same rule as the loader's `id` columns: whatever we write as a sku or region code must load back.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# GCP zones are `<region>-<letter>` and GCP regions always end in a digit, so this never eats
# part of a region code.
_GCP_ZONE_SUFFIX = re.compile(r"-[a-z]$")
# Bounds the loader enforces on latency_measured.csv and egress_pairs.csv; checking them here turns
# an out-of-range figure into a located problem in the *input* file instead of in the written copy.
MAX_RTT_MS = 2000.0
MAX_USD_PER_GB = 5.0

SKYPILOT_COLUMNS = {
    "sku": ("InstanceType",),
    "vcpu": ("vCPUs",),
    "mem_gib": ("MemoryGiB",),
    "price": ("Price",),
    "region": ("Region",),
}
LATENCY_COLUMNS = {
    "src": ("src_region", "src"),
    "dst": ("dst_region", "dst"),
    "rtt": ("avg_rtt", "rtt_ms"),
}
EGRESS_COLUMNS = {"src": ("src",), "dst": ("dst", "dest"), "cost": ("cost", "usd_per_gb")}
INTERNET = "internet"


# ---------------------------------------------------------------- reading raw text safely
@dataclass
class _Raw:
    """A CSV read as text: the header and each data row with the line it started on."""

    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _fail(
    file: str, message: str, fix: str = "", where: str = "", column: str = "", value: object = None
) -> CatalogError:
    return CatalogError([Problem(file, where, column, message, value=value, fix=fix)])


def _read_raw(path: StrPath) -> _Raw:
    """Read a CSV as text with exact line numbers; any unreadable file becomes a CatalogError.

    The csv module (rather than pandas) is used so a problem can name the real line of the file
    even when there are blank lines or quoted newlines.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise _fail(file, "file not found", fix="check the path")
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise _fail(
            file,
            f"file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB",
            fix="pass the CSV table itself, not an archive or a database dump",
        )
    data = p.read_bytes()
    if b"\x00" in data:
        raise _fail(
            file, "file is binary, not a CSV text file", fix="export the table as UTF-8 CSV"
        )
    try:
        text = data.decode("utf-8-sig")  # -sig: spreadsheets often prepend a byte-order mark
    except UnicodeDecodeError as exc:
        raise _fail(
            file, f"file is not UTF-8 text (byte {exc.start})", fix="save it as UTF-8 CSV"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # blank line
            if header is None:
                header = [c.strip() for c in cells]
            else:
                # reader.line_num is the line the record *ends* on; fine for one-line records, and
                # a multi-line record is still pointed at within a line or two.
                rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise _fail(
            file,
            f"not a valid CSV file: {exc}",
            where=f"line {reader.line_num}",
            fix="check the quoting on that line",
        ) from None
    if header is None:
        raise _fail(file, "file is empty", fix="pass a CSV file with a header line and data rows")
    if not rows:
        raise _fail(file, "file has a header but no data rows", fix="pass the full table")
    return _Raw(file, header, rows)


def _columns(
    raw: _Raw, wanted: Mapping[str, tuple[str, ...]], problems: list[Problem]
) -> dict[str, int]:
    """Map each wanted field to its column position, accepting any of its alias names."""
    pos: dict[str, int] = {}
    for key, names in wanted.items():
        for name in names:
            if name in raw.header:
                pos[key] = raw.header.index(name)
                break
        else:
            alt = " or ".join(f"`{n}`" for n in names)
            problems.append(
                Problem(
                    raw.file,
                    "header",
                    names[0],
                    "required column is missing",
                    value=",".join(raw.header)[:200],
                    fix=f"add a {alt} column",
                )
            )
    return pos


def _cells(
    raw: _Raw, pos: dict[str, int], problems: list[Problem]
) -> list[tuple[int, dict[str, str]]]:
    """Each data row as {field: text}; a row with fewer cells than the header is a problem."""
    width = len(raw.header)
    out: list[tuple[int, dict[str, str]]] = []
    for line, cells in raw.rows:
        if len(cells) != width:
            problems.append(
                Problem(
                    raw.file,
                    f"row {line}",
                    "",
                    f"has {len(cells)} cells, the header has {width}",
                    fix="check the commas and quoting",
                )
            )
            continue
        out.append((line, {k: cells[i] for k, i in pos.items()}))
    return out


def _number(
    text: str,
    file: str,
    line: int,
    column: str,
    problems: list[Problem],
    *,
    lo: float = 0.0,
    hi: float = math.inf,
    hint: str,
) -> float | None:
    """Parse one numeric cell, recording a located problem when it is not a number in [lo, hi]."""
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(file, f"row {line}", column, "not a number", value=text, fix=hint))
        return None
    if not math.isfinite(value):
        problems.append(
            Problem(file, f"row {line}", column, "not a finite number", value=text, fix=hint)
        )
        return None
    if value < lo:
        msg = "negative" if lo == 0 else f"below {lo:g}"
        problems.append(Problem(file, f"row {line}", column, msg, value=text, fix=hint))
        return None
    if value > hi:
        problems.append(Problem(file, f"row {line}", column, f"above {hi:g}", value=text, fix=hint))
        return None
    return value


def _region_id(key: str, default_provider: str | None) -> tuple[str | None, str]:
    """`provider:region` (or `provider/region`, or a bare code when a default provider applies)
    -> canonical `provider/region`. GCP zones collapse to their region. Returns (id, error)."""
    key = key.strip()
    for sep in (":", "/"):
        if sep in key:
            prov, code = key.split(sep, 1)
            break
    else:
        if default_provider is None:
            return None, "not a `provider:region` key"
        prov, code = default_provider, key
    prov, code = prov.strip().lower(), code.strip()
    if prov == "gcp":
        code = _GCP_ZONE_SUFFIX.sub("", code)
    if not _ID.match(prov) or not _ID.match(code):
        return None, "not a valid `provider:region` key"
    return f"{prov}/{code}", ""


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise CatalogError(problems)


# ---------------------------------------------------------------- SkyPilot VM prices
def read_skypilot_vms(path: StrPath, provider: str) -> pd.DataFrame:
    """Read a SkyPilot catalog VM CSV into one hourly on-demand price per (sku, region).

    Kept: CPU-only rows (no `AcceleratorName`, or `AcceleratorCount` 0) with a positive `Price`.
    SkyPilot leaves `Price` empty where an instance type is not sold on demand, so an empty or zero
    price is skipped rather than reported; a negative or non-numeric one is an error. The full
    files have one row per availability zone: rows collapse to one per (InstanceType, Region) at
    the lowest zone price (the price a buyer choosing the zone would pay).

    Returns columns `sku, region, vcpu, mem_gib, price_usd` (region = the provider's own code).
    """
    file = str(path)
    provider = provider.strip().lower()
    if not _ID.match(provider):
        raise _fail(
            file,
            "not a valid provider id",
            column="provider",
            value=provider,
            fix="pass the provider folder name, e.g. aws",
        )
    raw = _read_raw(path)
    problems: list[Problem] = []
    pos = _columns(raw, SKYPILOT_COLUMNS, problems)
    _raise_if(problems)  # without the required columns no row can be read
    for opt, key in (("AcceleratorName", "acc_name"), ("AcceleratorCount", "acc_count")):
        if opt in raw.header:
            pos[key] = raw.header.index(opt)
    hint_price = "write the on-demand price in USD per hour, e.g. 0.096, or leave it empty"
    records: list[dict[str, object]] = []
    for line, c in _cells(raw, pos, problems):
        price_text = c["price"]
        price = (
            None
            if price_text == ""
            else _number(price_text, file, line, "Price", problems, hint=hint_price)
        )
        if c.get("acc_name", "") not in ("", "nan", "None"):
            continue  # a GPU/accelerator instance: out of scope for compute.vm capacity
        if c.get("acc_count", "") not in ("", "0", "0.0", "nan"):
            continue
        if price is None or price <= 0:
            continue  # not sold on demand there (empty) or already reported as a problem
        ok = True
        for key, col in (("sku", "InstanceType"), ("region", "Region")):
            if not _ID.match(c[key]):
                problems.append(
                    Problem(
                        file,
                        f"row {line}",
                        col,
                        "not a valid identifier",
                        value=c[key],
                        fix="use letters, digits, `.`, `_` or `-`",
                    )
                )
                ok = False
        vcpu = _number(c["vcpu"], file, line, "vCPUs", problems, hint="a positive vCPU count")
        mem = _number(c["mem_gib"], file, line, "MemoryGiB", problems, hint="memory in GiB, > 0")
        for value, col in ((vcpu, "vCPUs"), (mem, "MemoryGiB")):
            if value == 0:
                problems.append(
                    Problem(
                        file,
                        f"row {line}",
                        col,
                        "must be positive",
                        value="0",
                        fix="a VM must provide some vCPUs and memory",
                    )
                )
                ok = False
        if not ok or vcpu is None or mem is None:
            continue
        region = _GCP_ZONE_SUFFIX.sub("", c["region"]) if provider == "gcp" else c["region"]
        records.append(
            {"sku": c["sku"], "region": region, "vcpu": vcpu, "mem_gib": mem, "price_usd": price}
        )
    _raise_if(problems)
    cols = ["sku", "region", "vcpu", "mem_gib", "price_usd"]
    if not records:
        text_cols = ("sku", "region")
        return pd.DataFrame(
            {k: pd.Series(dtype="object" if k in text_cols else "float64") for k in cols}
        )
    df = pd.DataFrame.from_records(records)
    # One row per AZ in the full files: keep the cheapest zone's price for the region.
    out = df.groupby(["sku", "region"], as_index=False, sort=True).agg(
        vcpu=("vcpu", "first"), mem_gib=("mem_gib", "first"), price_usd=("price_usd", "min")
    )
    return out[cols]


# ---------------------------------------------------------------- measured latency
def read_latency_table(path: StrPath) -> pd.DataFrame:
    """Read a measured round-trip table into one symmetric RTT per unordered region pair.

    Accepts `src_region`/`src`, `dst_region`/`dst` and `avg_rtt`/`rtt_ms` columns; keys are
    `provider:region` (GCP may be keyed by zone, `gcp:asia-northeast3-a`, which maps to region
    `gcp/asia-northeast3`). Repeated measurements of a directed pair are averaged first, then the
    two directions are averaged, so a direction measured more often does not dominate the pair.
    Pairs inside one region (two GCP zones of it) are dropped: the catalog treats them as 0 ms.

    Returns columns `src, dst, rtt_ms` with `src < dst` (canonical ids `provider/region`).
    """
    raw = _read_raw(path)
    problems: list[Problem] = []
    pos = _columns(raw, LATENCY_COLUMNS, problems)
    _raise_if(problems)
    names = {k: raw.header[i] for k, i in pos.items()}
    records: list[tuple[str, str, float]] = []
    for line, c in _cells(raw, pos, problems):
        ids = []
        for key in ("src", "dst"):
            rid, err = _region_id(c[key], None)
            if err:
                problems.append(
                    Problem(
                        raw.file,
                        f"row {line}",
                        names[key],
                        err,
                        value=c[key],
                        fix="write provider:region, e.g. aws:us-east-1",
                    )
                )
            ids.append(rid)
        rtt = _number(
            c["rtt"],
            raw.file,
            line,
            names["rtt"],
            problems,
            hi=MAX_RTT_MS,
            hint=f"a round trip in milliseconds, 0..{MAX_RTT_MS:g}",
        )
        if ids[0] is None or ids[1] is None or rtt is None or ids[0] == ids[1]:
            continue
        records.append((ids[0], ids[1], rtt))
    _raise_if(problems)
    if not records:
        return pd.DataFrame(
            {
                "src": pd.Series(dtype=object),
                "dst": pd.Series(dtype=object),
                "rtt_ms": pd.Series(dtype="float64"),
            }
        )
    df = pd.DataFrame.from_records(records, columns=["src", "dst", "rtt_ms"])
    directed = df.groupby(["src", "dst"], as_index=False)["rtt_ms"].mean()
    # RTT is symmetric: key both directions by the ordered pair, then average them.
    a, b = directed["src"].to_numpy(), directed["dst"].to_numpy()
    directed["src"], directed["dst"] = np.where(a < b, a, b), np.where(a < b, b, a)
    pairs = directed.groupby(["src", "dst"], as_index=False, sort=True)["rtt_ms"].mean()
    return pairs.reset_index(drop=True)


# ---------------------------------------------------------------- egress prices
def _read_egress(path: StrPath) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse an egress table once: (region-pair rows, internet rows), both at the max zone price."""
    raw = _read_raw(path)
    problems: list[Problem] = []
    pos = _columns(raw, EGRESS_COLUMNS, problems)
    _raise_if(problems)
    names = {k: raw.header[i] for k, i in pos.items()}
    pairs: list[tuple[str, str, float]] = []
    internet: list[tuple[str, float]] = []
    for line, c in _cells(raw, pos, problems):
        # Bare region codes appear in skyplane's AWS-only table; AWS is the only provider whose
        # codes it uses unprefixed, so assuming aws is safe there and explicit everywhere else.
        src, err = _region_id(c["src"], "aws")
        if err:
            problems.append(
                Problem(
                    raw.file,
                    f"row {line}",
                    names["src"],
                    err,
                    value=c["src"],
                    fix="write provider:region, e.g. aws:us-east-1",
                )
            )
        to_internet = c["dst"].lower() == INTERNET
        dst: str | None = None
        if not to_internet:
            dst, err = _region_id(c["dst"], "aws")
            if err:
                problems.append(
                    Problem(
                        raw.file,
                        f"row {line}",
                        names["dst"],
                        err,
                        value=c["dst"],
                        fix="write provider:region, or `internet`",
                    )
                )
        cost = _number(
            c["cost"],
            raw.file,
            line,
            names["cost"],
            problems,
            hi=MAX_USD_PER_GB,
            hint=f"a price in USD per GB, 0..{MAX_USD_PER_GB:g}",
        )
        if src is None or cost is None:
            continue
        if to_internet:
            internet.append((src, cost))
        elif dst is not None and dst != src:
            pairs.append((src, dst, cost))
    _raise_if(problems)
    # Several GCP zones collapse onto one region pair: keep the highest price, so the plan never
    # under-states what moving data between the two regions may cost.
    pair_df = pd.DataFrame.from_records(pairs, columns=["src", "dst", "usd_per_gb"])
    pair_df = pair_df.groupby(["src", "dst"], as_index=False, sort=True)["usd_per_gb"].max()
    net_df = pd.DataFrame.from_records(internet, columns=["src", "usd_per_gb"])
    net_df = net_df.groupby("src", as_index=False, sort=True)["usd_per_gb"].max()
    return pair_df.astype({"usd_per_gb": "float64"}), net_df.astype({"usd_per_gb": "float64"})


def read_egress_table(path: StrPath) -> pd.DataFrame:
    """Read a region-pair egress price table into one $/GB per directed region pair.

    Accepts `src`, `dst` or `dest`, and `cost` or `usd_per_gb`. Keys are `provider:region` or bare
    AWS region codes (provider `aws` assumed); GCP zones collapse to their region, and when several
    zones map to one pair the highest price is kept (conservative). Rows whose destination is
    `internet` are DROPPED here (use `read_internet_egress` for them), as are pairs inside one
    region.

    Returns columns `src, dst, usd_per_gb` (canonical ids).
    """
    return _read_egress(path)[0]


def read_internet_egress(path: StrPath) -> pd.DataFrame:
    """The `dst = internet` rows of an egress table: columns `src, usd_per_gb` (canonical src)."""
    return _read_egress(path)[1]


# ---------------------------------------------------------------- writing into a catalog copy
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


def _read_text_table(path: Path) -> pd.DataFrame:
    """A catalog CSV as untouched text, so rewriting it keeps every existing cell as written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def _fmt(x: float) -> str:
    """Shortest text that reads back to the same float; whole numbers without a trailing `.0`."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


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
    _raise_if(problems)


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
    if skypilot is not None and not provider:
        raise _fail(
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
        raise _fail(
            str(out),
            "the output folder lies inside the catalog being copied",
            fix="choose a folder outside base_dir",
        )

    catalog = load_catalog(base)  # a broken base catalog is reported as such, before any work
    known = set(catalog.regions.index)
    unknown: set[str] = set()

    # 1. Read every input first, so a bad file leaves nothing behind.
    vms = read_skypilot_vms(skypilot, provider) if skypilot is not None and provider else None
    lat = read_latency_table(latency) if latency is not None else None
    eg = read_egress_table(egress) if egress is not None else None
    prov = provider.strip().lower() if provider else ""
    if vms is not None:
        if prov not in catalog.providers.index:
            raise _fail(
                str(skypilot),
                "provider is not in the catalog",
                column="provider",
                value=prov,
                fix="use one of: " + ", ".join(catalog.providers.index),
            )
        public = catalog.providers.at[prov, "kind"] == "public"
        if not public or not (base / prov / "regions.csv").exists():
            raise _fail(
                str(skypilot),
                "list prices apply to public providers only",
                column="provider",
                value=prov,
                fix="private sites are priced by chargeback",
            )

    # 2. Copy, then write into the copy.
    created = not out.exists()
    shutil.copytree(base, out, dirs_exist_ok=True)
    try:
        counts: dict[str, Any] = {}
        if vms is not None:
            counts |= _write_vms(out, prov, vms, catalog, source_url, as_of, unknown)
        if lat is not None:
            # RTTs to 3 decimals: below a microsecond is ping jitter, not information.
            counts |= _write_pairs(
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
            counts |= _write_pairs(
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
        load_catalog(out)  # the contract: the result loads without errors
    except BaseException:
        # Leave no half-imported catalog behind; only what this call put there is removed.
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise
    return ImportSummary(out_dir=out, unknown_regions=tuple(sorted(unknown)), **counts)


def _write_vms(
    out: Path,
    prov: str,
    vms: pd.DataFrame,
    catalog: Catalog,
    source_url: str,
    as_of: str,
    unknown: set[str],
) -> dict[str, object]:
    """Append new SKUs to offerings.csv and upsert per-region prices into prices.csv."""
    regions = catalog.regions
    mine = regions[regions["provider"] == prov]
    codes = set(mine["code"])
    base_codes = set(mine.loc[mine["price_factor"] == 1.0, "code"])
    in_cat = vms["region"].isin(codes)
    unknown.update(f"{prov}/{r}" for r in vms.loc[~in_cat, "region"])
    vms_known = vms[in_cat]

    off_path = out / prov / "offerings.csv"
    offs = _read_text_table(off_path)
    template = offs[(offs["category"] == "compute.vm") & (offs["tier"] == "IaaS")]
    if template.empty:
        template = offs[offs["category"] == "compute.vm"]
    listed = set(offs["sku"])
    new_skus = sorted(set(vms_known["sku"]) - listed)
    if new_skus and template.empty:
        raise _fail(
            f"{prov}/offerings.csv",
            "no compute.vm row to copy the SLA columns from",
            fix="add one compute.vm offering by hand first",
        )
    new_rows = []
    for sku in new_skus:
        rows = vms_known[vms_known["sku"] == sku]
        at_base = rows[rows["region"].isin(base_codes)]
        base_price = float((at_base if not at_base.empty else rows)["price_usd"].min())
        where = sorted(rows["region"])
        row = dict.fromkeys(offs.columns, "")
        row.update(
            {
                "sku": sku,
                "category": "compute.vm",
                "tier": "IaaS",
                "vcpu": _fmt(rows["vcpu"].iloc[0]),
                "mem_gib": _fmt(rows["mem_gib"].iloc[0]),
                "price_usd": _fmt(base_price),
                "price_unit": "hour",
                "sla_pct": template["sla_pct"].iloc[0],
                "sla_mode": template["sla_mode"].iloc[0],
                "managed_layers": template["managed_layers"].iloc[0],
                # empty = every region of the provider; only say so when the data really covers
                # them all
                "regions": "" if set(where) == codes else " ".join(where),
                "source_url": source_url,
                "as_of": as_of,
                "status": "V",
            }
        )
        new_rows.append(row)
    if new_rows:
        offs = pd.concat([offs, pd.DataFrame(new_rows, columns=offs.columns)], ignore_index=True)
        _write_table(offs, off_path)

    price_path = out / prov / "prices.csv"
    cols = ["sku", "region", "price_usd", "source_url", "as_of", "status"]
    prices = _read_text_table(price_path) if price_path.exists() else pd.DataFrame(columns=cols)
    incoming = {(s, r) for s, r in zip(vms_known["sku"], vms_known["region"], strict=True)}
    keys = list(zip(prices["sku"], prices["region"], strict=True))
    replace = pd.Series([k in incoming for k in keys], index=prices.index, dtype=bool)
    add = pd.DataFrame(
        {
            "sku": vms_known["sku"],
            "region": vms_known["region"],
            "price_usd": [_fmt(p) for p in vms_known["price_usd"]],
            "source_url": source_url,
            "as_of": as_of,
            "status": "V",
        }
    )
    add = add.reindex(columns=prices.columns, fill_value="")
    prices = pd.concat([prices[~replace], add], ignore_index=True)
    _write_table(prices, price_path)
    return {
        "skus_added": tuple(new_skus),
        "skus_already_listed": tuple(sorted(set(vms_known["sku"]) & listed)),
        "prices_written": len(add),
        "prices_replaced": int(replace.sum()),
        "prices_dropped": int((~in_cat).sum()),
    }


def _write_pairs(
    path: Path,
    table: pd.DataFrame,
    value: str,
    known: set[str],
    unknown: set[str],
    source_url: str,
    as_of: str,
    *,
    unordered: bool,
    prefix: str,
    digits: int | None,
) -> dict[str, object]:
    """Merge region-pair figures into a catalog table; imported pairs replace existing ones."""
    ok = table["src"].isin(known) & table["dst"].isin(known)
    for col in ("src", "dst"):
        unknown.update(table.loc[~table[col].isin(known), col])
    keep = table[ok]
    key: Callable[[str, str], tuple[str, ...]] = (
        (lambda a, b: tuple(sorted((a, b)))) if unordered else (lambda a, b: (a, b))
    )
    cols = ["src", "dst", value, "source_url", "as_of", "status"]
    existing = _read_text_table(path) if path.exists() else pd.DataFrame(columns=cols)
    incoming = {key(a, b) for a, b in zip(keep["src"], keep["dst"], strict=True)}
    stale = pd.Series(
        [key(a, b) in incoming for a, b in zip(existing["src"], existing["dst"], strict=True)],
        index=existing.index,
        dtype=bool,
    )
    figures = [float(v) if digits is None else round(float(v), digits) for v in keep[value]]
    add = pd.DataFrame(
        {
            "src": keep["src"],
            "dst": keep["dst"],
            value: [_fmt(v) for v in figures],
            "source_url": source_url,
            "as_of": as_of,
            "status": "V",
        }
    )
    add = add.reindex(columns=existing.columns if len(existing.columns) else cols, fill_value="")
    merged = pd.concat([existing[~stale], add], ignore_index=True)
    _write_table(merged, path)
    return {f"{prefix}_pairs_written": len(add), f"{prefix}_pairs_dropped": int((~ok).sum())}
