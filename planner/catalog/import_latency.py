"""Import a measured round-trip table: one symmetric RTT per unordered region pair.

Takes a ping table (`src_region, dst_region, avg_rtt` as skyplane publishes it, keys
`provider:region`, GCP possibly by zone); returns a frame `src, dst, rtt_ms` with canonical
`provider/region` ids and `src < dst`, which `import_write.py` merges into
`latency_measured.csv`. It exists because a measured figure beats the distance model
(`geo.py`) wherever one is available.
"""

from __future__ import annotations

import numpy as np
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

# The bound the loader enforces on latency_measured.csv; checking it here turns an out-of-range
# figure into a located problem in the *input* file instead of in the written copy.
MAX_RTT_MS = 2000.0

LATENCY_COLUMNS = {
    "src": ("src_region", "src"),
    "dst": ("dst_region", "dst"),
    "rtt": ("avg_rtt", "rtt_ms"),
}


def read_latency_table(path: StrPath) -> pd.DataFrame:
    """Read a measured round-trip table into one symmetric RTT per unordered region pair.

    Accepts `src_region`/`src`, `dst_region`/`dst` and `avg_rtt`/`rtt_ms` columns; keys are
    `provider:region` (GCP may be keyed by zone, `gcp:asia-northeast3-a`, which maps to region
    `gcp/asia-northeast3`). Repeated measurements of a directed pair are averaged first, then the
    two directions are averaged, so a direction measured more often does not dominate the pair.
    Pairs inside one region (two GCP zones of it) are dropped: the catalog treats them as 0 ms.

    Returns columns `src, dst, rtt_ms` with `src < dst` (canonical ids `provider/region`).
    """
    raw = read_raw(path)
    problems: list[Problem] = []
    pos = find_columns(raw, LATENCY_COLUMNS, problems)
    raise_if(problems)
    names = {k: raw.header[i] for k, i in pos.items()}
    records: list[tuple[str, str, float]] = []
    for line, c in row_cells(raw, pos, problems):
        ids = []
        for key in ("src", "dst"):
            rid, err = region_id(c[key], None)
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
        rtt = parse_number(
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
    raise_if(problems)
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
