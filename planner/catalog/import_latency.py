"""Import a measured round-trip table: one symmetric RTT per unordered region pair.

Takes a ping table (`src_region, dst_region, avg_rtt` as skyplane publishes it, keys
`provider:region`, GCP possibly by zone); returns a frame `src, dst, rtt_ms` with canonical
`provider/region` ids and `src < dst`, which `import_write.py` merges into
`latency_measured.csv`. It exists because a measured figure beats the distance model
(`geo.py`) wherever one is available.

Two kinds of row measure something other than the path between two regions, and are left out
when the table has the columns that show them (skyplane's does):

* a row measured on GCP's Standard network tier (`src_tier`/`dst_tier` = `STANDARD`): that tier
  hands traffic to the public internet near the sender, so it measures another route than the
  default Premium tier the catalog prices (same-city pairs come out at 20-190 ms instead of 2-4);
* a spiky row (`avg_rtt` more than 10 % + 1 ms above `min_rtt`): its average is set by a few
  outlying pings (up to 264 ms on a 3.6 ms path), not by the path.

A pair whose every row is left out is not returned, so the distance model covers it.

`python -m planner.catalog.import_latency latency.csv OUT` imports such a table into a copy of the
shipped catalog and prints what it kept and how the distance model fits the result (see
docs/latency.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PlannerError, Problem
from .import_csv import (
    StrPath,
    find_columns,
    parse_number,
    raise_if,
    read_raw,
    region_id,
    row_cells,
)

# The bound the loader enforces on latency_measured.csv; checking it here turns an out-of-range
# figure into a located problem in the *input* file instead of in the written copy.
MAX_RTT_MS = 2000.0

LATENCY_COLUMNS = {
    "src": ("src_region", "src"),
    "dst": ("dst_region", "dst"),
    "rtt": ("avg_rtt", "rtt_ms"),
}
# Read when present: they let the reader leave out rows that do not measure the region-to-region
# path (module docstring). A table without them is taken as it is.
OPTIONAL_COLUMNS = {
    "min": ("min_rtt",),
    "src_tier": ("src_tier",),
    "dst_tier": ("dst_tier",),
}
KEPT_TIER = "PREMIUM"  # GCP's default network tier; AWS and Azure rows are labelled with it too
DROPPED_TIER = "STANDARD"
# A row is spiky when avg_rtt > SPIKE_RATIO * min_rtt + SPIKE_MARGIN_MS. In skyplane's table the
# median row has its average 0.16 ms above its minimum; 90 % are within 11 %.
SPIKE_RATIO = 1.1
SPIKE_MARGIN_MS = 1.0

# Where the shipped measurements come from (docs/latency.md): skyplane's ping table at the last
# commit that had it, and that commit's date.
SKYPLANE_LATENCY_URL = (
    "https://github.com/skyplane-project/skyplane/blob/"
    "2e3b2c01735054a8053d6a939d69fe43a652d2d0/profiles/latency.csv"
)
SKYPLANE_LATENCY_AS_OF = "2022-11-02"


@dataclass(frozen=True)
class LatencyTable:
    """The pairs a ping table yields, and what was left out on the way."""

    pairs: pd.DataFrame  # src, dst, rtt_ms; src < dst
    rows: int  # data rows read
    rows_same_region: int  # both ends in one region (two GCP zones of it)
    rows_standard_tier: int
    rows_spiky: int
    pairs_without_usable_row: tuple[tuple[str, str], ...]


def read_latency_table(path: StrPath) -> pd.DataFrame:
    """Read a measured round-trip table into one symmetric RTT per unordered region pair.

    Accepts `src_region`/`src`, `dst_region`/`dst` and `avg_rtt`/`rtt_ms` columns; keys are
    `provider:region` (GCP may be keyed by zone, `gcp:asia-northeast3-a`, which maps to region
    `gcp/asia-northeast3`). Repeated measurements of a directed pair are averaged first, then the
    two directions are averaged, so a direction measured more often does not dominate the pair.
    Pairs inside one region (two GCP zones of it) are dropped: the catalog treats them as 0 ms.
    Standard-tier and spiky rows are left out when the table shows them (module docstring).

    Returns columns `src, dst, rtt_ms` with `src < dst` (canonical ids `provider/region`).
    """
    return read_latency_measurements(path).pairs


def read_latency_measurements(path: StrPath) -> LatencyTable:
    """`read_latency_table`, with the counts of the rows it left out and of the pairs it lost."""
    raw = read_raw(path)
    problems: list[Problem] = []
    pos = find_columns(raw, LATENCY_COLUMNS, problems)
    raise_if(problems)
    pos |= {
        key: raw.header.index(name)
        for key, names in OPTIONAL_COLUMNS.items()
        for name in names[:1]
        if name in raw.header
    }
    names = {k: raw.header[i] for k, i in pos.items()}
    records: list[tuple[str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    same = standard = spiky = 0
    for line, c in row_cells(raw, pos, problems):
        ids = [_region(c, key, names, raw.file, line, problems) for key in ("src", "dst")]
        rtt = _rtt(c, "rtt", names, raw.file, line, problems)
        low = _rtt(c, "min", names, raw.file, line, problems) if "min" in c else None
        tiers = [_tier(c, key, names, raw.file, line, problems) for key in ("src_tier", "dst_tier")]
        if low is not None and rtt is not None and low > rtt:
            problems.append(
                Problem(
                    raw.file,
                    f"row {line}",
                    names["min"],
                    f"above {names['rtt']} ({c['rtt']})",
                    value=c["min"],
                    fix="check that the minimum and average columns are not swapped",
                )
            )
            continue
        if ids[0] is None or ids[1] is None or rtt is None or None in tiers:
            continue
        if ids[0] == ids[1]:
            same += 1
            continue
        seen.add((min(ids[0], ids[1]), max(ids[0], ids[1])))
        if DROPPED_TIER in tiers:
            standard += 1
        elif low is not None and rtt > SPIKE_RATIO * low + SPIKE_MARGIN_MS:
            spiky += 1
        else:
            records.append((ids[0], ids[1], rtt))
    raise_if(problems)
    pairs = _fold(records)
    kept = set(zip(pairs["src"], pairs["dst"], strict=True))
    return LatencyTable(
        pairs=pairs,
        rows=len(raw.rows),
        rows_same_region=same,
        rows_standard_tier=standard,
        rows_spiky=spiky,
        pairs_without_usable_row=tuple(sorted(seen - kept)),
    )


def _region(
    c: dict[str, str],
    key: str,
    names: dict[str, str],
    file: str,
    line: int,
    problems: list[Problem],
) -> str | None:
    rid, err = region_id(c[key], None)
    if err:
        problems.append(
            Problem(
                file,
                f"row {line}",
                names[key],
                err,
                value=c[key],
                fix="write provider:region, e.g. aws:us-east-1",
            )
        )
    return rid


def _rtt(
    c: dict[str, str],
    key: str,
    names: dict[str, str],
    file: str,
    line: int,
    problems: list[Problem],
) -> float | None:
    return parse_number(
        c[key],
        file,
        line,
        names[key],
        problems,
        hi=MAX_RTT_MS,
        hint=f"a round trip in milliseconds, 0..{MAX_RTT_MS:g}",
    )


def _tier(
    c: dict[str, str],
    key: str,
    names: dict[str, str],
    file: str,
    line: int,
    problems: list[Problem],
) -> str | None:
    """The row's network tier at one end: `PREMIUM`, `STANDARD` or '' (not stated); None if bad."""
    if key not in c:
        return ""
    tier = c[key].strip().upper()
    if tier in ("", KEPT_TIER, DROPPED_TIER):
        return tier
    problems.append(
        Problem(
            file,
            f"row {line}",
            names[key],
            "unknown network tier",
            value=c[key],
            fix=f"write {KEPT_TIER} or {DROPPED_TIER}, or leave it empty",
        )
    )
    return None


def _fold(records: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Average each directed pair's rows, then the two directions: one row per unordered pair."""
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


def main(argv: Sequence[str] | None = None) -> int:
    """Import a ping table into a copy of a catalog; print what was kept and the refitted model."""
    parser = argparse.ArgumentParser(
        prog="python -m planner.catalog.import_latency",
        description="Import a measured ping table (skyplane's profiles/latency.csv layout) into a "
        "copy of the catalog, then fit the distance model on the copy's measured pairs.",
    )
    parser.add_argument("table", help="the ping table (CSV)")
    parser.add_argument("out", help="a new or empty folder for the catalog copy")
    parser.add_argument("--catalog", help="the catalog to copy (default: the shipped one)")
    parser.add_argument("--source-url", default=SKYPLANE_LATENCY_URL)
    parser.add_argument("--as-of", default=SKYPLANE_LATENCY_AS_OF, help="YYYY-MM-DD")
    args = parser.parse_args(argv)

    # Imported here: importers.py imports this module.
    from .geo import band_errors, fit_latency_model, pair_km
    from .importers import import_into_catalog
    from .load import default_catalog_dir, load_catalog

    try:
        table = read_latency_measurements(args.table)
        summary = import_into_catalog(
            args.catalog or default_catalog_dir(),
            args.out,
            latency=args.table,
            source_url=args.source_url,
            as_of=args.as_of,
        )
        cat = load_catalog(args.out)
    except PlannerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(
        f"{table.rows} rows read: {table.rows_standard_tier} on GCP's Standard tier and "
        f"{table.rows_spiky} spiky rows left out, {table.rows_same_region} inside one region; "
        f"{len(table.pairs)} pairs, {len(table.pairs_without_usable_row)} without a usable row"
    )
    print(
        f"{summary.latency_pairs_written} pairs written to {summary.out_dir}, "
        f"{summary.latency_pairs_dropped} dropped (regions not in the catalog: "
        f"{', '.join(summary.unknown_regions) or 'none'}); "
        f"{len(cat.latency_measured)} measured pairs in the copy"
    )
    km = pair_km(cat.regions, cat.latency_measured)
    rtt = cat.latency_measured["rtt_ms"].to_numpy(dtype=float)
    fitted = fit_latency_model(km, rtt, cat.latency_model.same_metro_km)
    for name, model in (("catalog's model", cat.latency_model), ("refitted", fitted)):
        print(
            f"\n{name}: overhead_ms {model.overhead_ms:.4g}, ms_per_km {model.ms_per_km:.4g}, "
            f"same_metro_ms {model.same_metro_ms:.4g}, same_metro_km {model.same_metro_km:g}"
        )
        print(band_errors(model, km, rtt).round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
