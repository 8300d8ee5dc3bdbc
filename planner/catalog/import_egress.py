"""Import a region-pair egress price table: one $/GB per directed region pair.

Takes an egress table (`src, dst|dest, cost`, keys `provider:region` or bare AWS codes, as in
skyplane); returns the region-pair rows (`src, dst, usd_per_gb`), which `import_write.py` merges
into `egress_pairs.csv`, and on their own the rows whose destination is `internet`, which the
catalog does not import (internet egress is priced by each provider's `egress.csv` rules). It
exists because an exact price per pair beats the per-provider rules wherever one is published.
"""

from __future__ import annotations

import pandas as pd

from ..errors import Problem
from .import_csv import (
    StrPath,
    find_columns,
    parse_number,
    raise_if,
    read_raw,
    region_id,
    row_cells,
)

# The bound the loader enforces on egress_pairs.csv; checking it here turns an out-of-range figure
# into a located problem in the *input* file instead of in the written copy.
MAX_USD_PER_GB = 5.0

EGRESS_COLUMNS = {"src": ("src",), "dst": ("dst", "dest"), "cost": ("cost", "usd_per_gb")}
INTERNET = "internet"


def _read_egress(path: StrPath) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse an egress table once: (region-pair rows, internet rows), both at the max zone price."""
    raw = read_raw(path)
    problems: list[Problem] = []
    pos = find_columns(raw, EGRESS_COLUMNS, problems)
    raise_if(problems)
    names = {k: raw.header[i] for k, i in pos.items()}
    pairs: list[tuple[str, str, float]] = []
    internet: list[tuple[str, float]] = []
    for line, c in row_cells(raw, pos, problems):
        # Bare region codes appear in skyplane's AWS-only table; AWS is the only provider whose
        # codes it uses unprefixed, so assuming aws is safe there and explicit everywhere else.
        src, err = region_id(c["src"], "aws")
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
            dst, err = region_id(c["dst"], "aws")
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
        cost = parse_number(
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
    raise_if(problems)
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
