"""Write imported figures into a copy of a catalog.

Takes the copied catalog folder, the base catalog as loaded and the frames the readers returned
(`import_skypilot.py`, `import_latency.py`, `import_egress.py`); rewrites the copy's CSV files
(new skus in `offerings.csv`, regional prices in `prices.csv`, pairs in `latency_measured.csv` and
`egress_pairs.csv`) and returns counts of what was written, replaced and dropped, for
`ImportSummary`. Existing rows are kept as written (read back as text), except those an imported
row replaces. It exists apart from the readers so reading stays free of any catalog file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .import_csv import fail
from .load import Catalog


def _read_text_table(path: Path) -> pd.DataFrame:
    """A catalog CSV as untouched text, so rewriting it keeps every existing cell as written."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n")


def _fmt(x: float) -> str:
    """Shortest text that reads back to the same float; whole numbers without a trailing `.0`."""
    x = float(x)
    return str(int(x)) if x.is_integer() else repr(x)


def write_vms(
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

    new_skus, listed = _add_skus(out, prov, vms_known, codes, base_codes, source_url, as_of)
    written, replaced = _upsert_prices(out / prov / "prices.csv", vms_known, source_url, as_of)
    return {
        "skus_added": tuple(new_skus),
        "skus_already_listed": tuple(sorted(set(vms_known["sku"]) & listed)),
        "prices_written": written,
        "prices_replaced": replaced,
        "prices_dropped": int((~in_cat).sum()),
    }


def _add_skus(
    out: Path,
    prov: str,
    vms_known: pd.DataFrame,
    codes: set[str],
    base_codes: set[str],
    source_url: str,
    as_of: str,
) -> tuple[list[str], set[str]]:
    """Append the skus offerings.csv does not list yet as IaaS `compute.vm` rows, their SLA columns
    copied from an existing compute.vm row; the new skus and the skus listed before."""
    off_path = out / prov / "offerings.csv"
    offs = _read_text_table(off_path)
    template = offs[(offs["category"] == "compute.vm") & (offs["tier"] == "IaaS")]
    if template.empty:
        template = offs[offs["category"] == "compute.vm"]
    listed = set(offs["sku"])
    new_skus = sorted(set(vms_known["sku"]) - listed)
    if new_skus and template.empty:
        raise fail(
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
    return new_skus, listed


def _upsert_prices(
    price_path: Path, vms_known: pd.DataFrame, source_url: str, as_of: str
) -> tuple[int, int]:
    """Write every imported (sku, region) price into prices.csv, replacing an existing row for the
    same pair; how many rows were written and how many replaced."""
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
    return len(add), int(replace.sum())


def write_pairs(
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
