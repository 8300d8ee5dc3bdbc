"""Import egress prices: a region-pair table, or a provider's egress rules and volume tiers.

Takes an egress table (`src, dst|dest, cost`, keys `provider:region` or bare AWS codes, as in
skyplane); returns the region-pair rows (`src, dst, usd_per_gb`), which `import_write.py` merges
into `egress_pairs.csv`, and on their own the rows whose destination is `internet`, which the
catalog does not import (internet egress is priced by each provider's `egress.csv` rules). It
exists because an exact price per pair beats the per-provider rules wherever one is published.

It also reads and writes a provider's own `egress.csv` (first-tier $/GB by source and destination
class) in the current shape or the older one (one row per `from` with four rates, converted here
and by the loader), and `egress_tiers.csv` (volume tiers and free allowances), so a user's own
figures can be imported into a catalog folder (`import_egress_rules`) and the shipped files are
written the same way.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..errors import CatalogError, Problem, did_you_mean
from . import columns as C
from .import_csv import (
    VALID_ID,
    StrPath,
    find_columns,
    parse_number,
    raise_if,
    read_raw,
    region_id,
    row_cells,
)
from .tables import read_table

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


# ---------------------------------------------------------------- egress rules and tiers
RULE_COLUMNS = [c.name for c in C.EGRESS]
TIER_COLUMNS = [c.name for c in C.EGRESS_TIERS]


def is_wide_header(header: Sequence[str]) -> bool:
    """Whether an egress.csv header is the older shape (one row per `from`, four rates)."""
    return "to" not in header and any(c in header for c in C.EGRESS_WIDE_CLASSES)


def _header(path: Path) -> list[str]:
    """The first line of a CSV as column names ([] when it cannot be read)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return [c.strip() for c in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def rules_from_wide(wide: pd.DataFrame) -> pd.DataFrame:
    """Rows of the older shape as rules of the current one: each `from` row becomes four rows,
    `internet`, `same_continent`, `other_continent` and `other_provider`, with the same
    provenance (and the same `provider` and `file_row` when the table has them)."""
    rates = list(C.EGRESS_WIDE_CLASSES)
    keep = [c for c in wide.columns if c not in rates]
    parts = []
    for order, (col, to) in enumerate(C.EGRESS_WIDE_CLASSES.items()):
        part = wide[keep].copy()
        part["to"] = to
        part["usd_per_gb"] = wide[col].astype(float)
        part["note"] = ""
        part["_order"] = order
        parts.append(part)
    if not parts or wide.empty:
        return pd.DataFrame(columns=[*RULE_COLUMNS, *[c for c in keep if c not in RULE_COLUMNS]])
    long = pd.concat(parts).rename_axis("_row").sort_values(["_row", "_order"], kind="stable")
    front = [c for c in keep if c not in RULE_COLUMNS]
    return long.reset_index(drop=True)[[*front, *RULE_COLUMNS]]


def read_egress_rules_into(root: Path, rel: str, problems: list[Problem]) -> pd.DataFrame:
    """An egress.csv of either shape as typed rules, each with its line in the file
    (`file_row`); every bad cell is appended to `problems`. The loader's reader."""
    wide = is_wide_header(_header(root / rel))
    table = read_table(root, rel, C.EGRESS_WIDE if wide else C.EGRESS, problems)
    table["file_row"] = table.index + 2
    return rules_from_wide(table) if wide else table


def read_egress_rules(path: StrPath) -> pd.DataFrame:
    """Read a provider's egress rules (`from, to, usd_per_gb`, or the older `from` + four rate
    columns, converted) and check each cell and `to` on its own; raise one CatalogError listing
    every problem. Whether `from` and `to` name regions of the provider is checked when the
    rules are loaded into a catalog (`import_egress_rules`). Returns RULE_COLUMNS + `file_row`."""
    p = Path(path)
    problems: list[Problem] = []
    rules = read_egress_rules_into(p.parent, p.name, problems)
    prefix = C.EGRESS_OTHER_PROVIDER_PREFIX
    known = (*C.EGRESS_CLASSES, *C.CONTINENTS, *(prefix + c for c in C.CONTINENTS))
    for to, line in zip(rules["to"], rules["file_row"], strict=True):
        to = str(to)
        if to and to not in known and not VALID_ID.match(to):
            problems.append(
                Problem(
                    p.name,
                    f"row {line}",
                    "to",
                    "neither a destination class, a continent, `other_provider:<continent>` nor "
                    "a region code",
                    value=to,
                    fix=did_you_mean(to, known) or "use one of: " + ", ".join(C.EGRESS_CLASSES),
                )
            )
    if problems:
        raise CatalogError(problems)
    return rules.reset_index(drop=True)


def read_egress_tiers(path: StrPath) -> pd.DataFrame:
    """Read an egress_tiers.csv and check each cell; raise one CatalogError listing every
    problem. The bands and `applies_to` are checked against the regions when loaded into a
    catalog. Returns TIER_COLUMNS + `file_row` (`to_gb` is inf where the band has no end)."""
    p = Path(path)
    problems: list[Problem] = []
    tiers = read_table(p.parent, p.name, C.EGRESS_TIERS, problems)
    if problems:
        raise CatalogError(problems)
    tiers["file_row"] = tiers.index + 2
    return tiers.reset_index(drop=True)


def _num(x: object) -> str:
    value = float(x)  # type: ignore[arg-type]
    return "" if value == float("inf") else f"{value:.10g}"


def _rule_order(rules: pd.DataFrame) -> pd.DataFrame:
    """Canonical order: `*`, then continents, then region codes; within each `from`, the
    destination classes in EGRESS_CLASSES order, then continents, regions, other providers."""
    conts = {c: k for k, c in enumerate(C.CONTINENTS)}
    classes = {c: k for k, c in enumerate(C.EGRESS_CLASSES)}

    def from_key(f: str) -> tuple[int, int, str]:
        if f == "*":
            return (0, 0, "")
        return (1, conts[f], "") if f in conts else (2, 0, f)

    def to_key(t: str) -> tuple[int, int, str]:
        if t in classes:
            return (0 if t != "other_provider" else 3, classes[t], "")
        if t in conts:
            return (1, conts[t], "")
        if t.startswith(C.EGRESS_OTHER_PROVIDER_PREFIX):
            return (4, 0, t)
        return (2, 0, t)

    keys = [
        (*from_key(str(f)), *to_key(str(t)))
        for f, t in zip(rules["from"], rules["to"], strict=True)
    ]
    order = sorted(range(len(rules)), key=lambda k: keys[k])
    return rules.iloc[order]


def _write(path: StrPath, columns: list[str], records: list[dict[str, object]]) -> Path:
    out = Path(path)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for rec in records:
            w.writerow(
                [
                    _num(rec[c]) if c in _NUMERIC else "" if pd.isna(rec[c]) else str(rec[c])
                    for c in columns
                ]
            )
    return out


_NUMERIC = {"usd_per_gb", "from_gb", "to_gb"}


def write_egress_rules(rules: pd.DataFrame, path: StrPath) -> Path:
    """Write rules (RULE_COLUMNS; `note` may be absent) as an egress.csv in canonical order."""
    table = _rule_order(rules if "note" in rules else rules.assign(note=""))
    return _write(path, RULE_COLUMNS, table[RULE_COLUMNS].to_dict("records"))


def write_egress_tiers(tiers: pd.DataFrame, path: StrPath) -> Path:
    """Write tiers (TIER_COLUMNS; `kind` and `note` may be absent) as an egress_tiers.csv, in
    the order given."""
    table = tiers
    for col, default in (("kind", "tier"), ("note", ""), ("to_gb", float("inf"))):
        if col not in table:
            table = table.assign(**{col: default})
    return _write(path, TIER_COLUMNS, table[TIER_COLUMNS].to_dict("records"))


def import_egress_rules(
    catalog: StrPath,
    provider: str,
    rules: StrPath | None = None,
    tiers: StrPath | None = None,
) -> list[Path]:
    """Import a user's egress rules and/or tiers into `<catalog>/<provider>/`: read and check
    each file (either egress.csv shape), write it in the current shape, then load the catalog to
    check it against the regions. On any problem the catalog's files are left as they were and
    one CatalogError lists every problem. Returns the paths written."""
    from .load import load_catalog  # the loader imports this module

    folder = Path(catalog) / provider
    if not (folder / "offerings.csv").exists():
        raise CatalogError(
            [
                Problem(
                    str(folder),
                    "",
                    "",
                    f"`{provider}` is not a provider folder of this catalog",
                    fix="pass the catalog folder and a provider listed in its providers.csv",
                )
            ]
        )
    jobs: list[tuple[Path, pd.DataFrame, bool]] = []
    if rules is not None:
        jobs.append((folder / "egress.csv", read_egress_rules(rules), True))
    if tiers is not None:
        jobs.append((folder / "egress_tiers.csv", read_egress_tiers(tiers), False))
    with tempfile.TemporaryDirectory() as tmp:
        saved: list[tuple[Path, Path | None]] = []
        for target, _, _ in jobs:
            backup = Path(tmp) / target.name
            if target.exists():
                shutil.copy2(target, backup)
                saved.append((target, backup))
            else:
                saved.append((target, None))
        try:
            for target, table, is_rules in jobs:
                (write_egress_rules if is_rules else write_egress_tiers)(table, target)
            load_catalog(Path(catalog))
        except CatalogError:
            for target, kept in saved:
                if kept is not None:
                    shutil.copy2(kept, target)
                else:
                    target.unlink(missing_ok=True)
            raise
    return [target for target, _, _ in jobs]
