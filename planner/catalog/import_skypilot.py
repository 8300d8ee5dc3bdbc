"""Import a SkyPilot catalog VM price list: one hourly on-demand price per (sku, region).

Takes a SkyPilot catalog `vms.csv` (`InstanceType, vCPUs, MemoryGiB, Price, Region`, one row per
availability zone) and the catalog provider it prices; returns a frame `sku, region, vcpu,
mem_gib, price_usd` that `import_write.py` turns into offerings and regional list prices. It
exists so public list prices can be refreshed from a maintained source instead of typed by hand.
"""

from __future__ import annotations

import pandas as pd

from ..errors import Problem
from .import_csv import (
    GCP_ZONE_SUFFIX,
    VALID_ID,
    StrPath,
    fail,
    find_columns,
    parse_number,
    raise_if,
    read_raw,
    row_cells,
)

SKYPILOT_COLUMNS = {
    "sku": ("InstanceType",),
    "vcpu": ("vCPUs",),
    "mem_gib": ("MemoryGiB",),
    "price": ("Price",),
    "region": ("Region",),
}


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
    if not VALID_ID.match(provider):
        raise fail(
            file,
            "not a valid provider id",
            column="provider",
            value=provider,
            fix="pass the provider folder name, e.g. aws",
        )
    raw = read_raw(path)
    problems: list[Problem] = []
    pos = find_columns(raw, SKYPILOT_COLUMNS, problems)
    raise_if(problems)  # without the required columns no row can be read
    for opt, key in (("AcceleratorName", "acc_name"), ("AcceleratorCount", "acc_count")):
        if opt in raw.header:
            pos[key] = raw.header.index(opt)
    records: list[dict[str, object]] = []
    for line, c in row_cells(raw, pos, problems):
        record = _vm_record(c, file, line, provider, problems)
        if record is not None:
            records.append(record)
    raise_if(problems)
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


def _vm_record(
    c: dict[str, str], file: str, line: int, provider: str, problems: list[Problem]
) -> dict[str, object] | None:
    """One row's sku, region, vcpu, mem_gib and price_usd, or None for a row that is skipped (an
    accelerator instance, no on-demand price) or has a problem (recorded in `problems`)."""
    hint_price = "write the on-demand price in USD per hour, e.g. 0.096, or leave it empty"
    price_text = c["price"]
    price = (
        None
        if price_text == ""
        else parse_number(price_text, file, line, "Price", problems, hint=hint_price)
    )
    if c.get("acc_name", "") not in ("", "nan", "None"):
        return None  # a GPU/accelerator instance: out of scope for compute.vm capacity
    if c.get("acc_count", "") not in ("", "0", "0.0", "nan"):
        return None
    if price is None or price <= 0:
        return None  # not sold on demand there (empty) or already reported as a problem
    ok = True
    for key, col in (("sku", "InstanceType"), ("region", "Region")):
        if not VALID_ID.match(c[key]):
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
    vcpu = parse_number(c["vcpu"], file, line, "vCPUs", problems, hint="a positive vCPU count")
    mem = parse_number(c["mem_gib"], file, line, "MemoryGiB", problems, hint="memory in GiB, > 0")
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
        return None
    region = GCP_ZONE_SUFFIX.sub("", c["region"]) if provider == "gcp" else c["region"]
    return {"sku": c["sku"], "region": region, "vcpu": vcpu, "mem_gib": mem, "price_usd": price}
