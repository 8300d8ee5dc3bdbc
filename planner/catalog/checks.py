"""Checks that look across catalog tables: region ids, egress rules, references, pairs.

Takes the tables `tables.py` read (each already valid on its own) and the list of problems so far;
appends a located `Problem` for every id that is repeated or points at nothing. `check_regions`
also returns the regions table with canonical `provider/code` ids, the provider's kind and a site
for every region, since every later check keys on those ids. The checks live apart from the
reading so each rule about how tables refer to each other is found in one place.
"""

from __future__ import annotations

import pandas as pd

from ..errors import Problem, did_you_mean
from . import columns as C


def check_regions(
    regions: pd.DataFrame, providers: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    """Canonical region ids (`provider/code`), each region's provider kind and site; a repeated
    id is a problem and only its first row is kept."""
    if regions.empty:
        problems.append(Problem("", "", "", "the catalog has no regions"))
        return regions
    regions = regions.copy()
    regions["code"] = regions["region"]
    regions["region"] = regions["provider"] + "/" + regions["code"]
    regions["kind"] = regions["provider"].map(providers.set_index("provider")["kind"])
    dup = regions[regions.duplicated("region", keep="first")]
    for _, row in dup.iterrows():
        problems.append(
            Problem(
                f"{row.provider}/regions.csv",
                f"row {row.file_row}",
                "region",
                "duplicate region id",
                value=row.code,
                fix="each region appears once; remove or rename the repeated row",
            )
        )
    regions = regions.drop_duplicates("region")
    # A site groups regions that share a building or campus; by default a region is its own site.
    blank = regions["site"].fillna("") == ""
    regions.loc[blank, "site"] = regions.loc[blank, "region"]
    return regions.reset_index(drop=True)


def check_egress(
    egress: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    """Every region of a provider is covered by one of its egress rules, and each rule's `from`
    is one of its regions, a continent or `*`."""
    if egress.empty or regions.empty:
        return egress
    for prov, rules in egress.groupby("provider"):
        froms = set(rules["from"])
        codes = set(regions.loc[regions["provider"] == prov, "code"])
        if "*" not in froms:
            missing = set(regions.loc[regions["provider"] == prov, "continent"]) - froms
            uncovered = regions[
                (regions["provider"] == prov)
                & ~regions["code"].isin(froms)
                & regions["continent"].isin(missing)
            ]
            if not uncovered.empty:
                problems.append(
                    Problem(
                        f"{prov}/egress.csv",
                        "",
                        "from",
                        f"no rule covers regions {list(uncovered['code'])[:5]}",
                        fix="add a row with from = `*`",
                    )
                )
        for f, line in zip(rules["from"], rules["file_row"], strict=True):
            if f != "*" and f not in codes and f not in C.CONTINENTS:
                problems.append(
                    Problem(
                        f"{prov}/egress.csv",
                        f"row {line}",
                        "from",
                        "neither a region of this provider, a continent nor `*`",
                        value=f,
                        fix=did_you_mean(f, codes | set(C.CONTINENTS)),
                    )
                )
    return egress


def check_references(
    latency: pd.DataFrame,
    incidents: pd.DataFrame,
    regions: pd.DataFrame,
    categories: pd.DataFrame,
    offerings: pd.DataFrame,
    providers: pd.DataFrame,
    problems: list[Problem],
) -> None:
    """Measured latencies and incidents name known regions and providers; every service category
    maps to a category some offering has."""
    ids = set(regions["region"]) if not regions.empty else set()
    _check_pair_table(latency, "latency_measured.csv", problems)
    for col in ("src", "dst"):
        for i, v in latency[col].items():
            if v not in ids:
                problems.append(
                    Problem(
                        "latency_measured.csv",
                        f"row {i + 2}",
                        col,
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )
    for i, row in incidents.iterrows():
        for v in str(row["regions"]).split():
            if v not in ids:
                problems.append(
                    Problem(
                        "incidents.csv",
                        f"row {i + 2}",
                        "regions",
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )
        if row["provider"] not in set(providers["provider"]) | {"-"}:
            problems.append(
                Problem(
                    "incidents.csv",
                    f"row {i + 2}",
                    "provider",
                    "unknown provider",
                    value=row["provider"],
                    fix=did_you_mean(row["provider"], providers["provider"]),
                )
            )
    if not offerings.empty:
        offered = set(offerings["category"])
        for i, v in categories["offering_category"].items():
            if v not in offered:
                problems.append(
                    Problem(
                        "service_categories.csv",
                        f"row {i + 2}",
                        "offering_category",
                        "no offering has this category",
                        value=v,
                        fix=did_you_mean(v, offered),
                    )
                )


def _check_pair_table(table: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """No pair of a region with itself, and each unordered pair at most once."""
    seen: dict[frozenset[str], int] = {}
    for i, (a, b) in enumerate(zip(table["src"], table["dst"], strict=True)):
        line = int(table.index[i]) + 2
        if a == b:
            problems.append(
                Problem(
                    file,
                    f"row {line}",
                    "dst",
                    "a region paired with itself",
                    value=b,
                    fix="remove the row: inside a region the figure is fixed",
                )
            )
        key = frozenset((a, b))
        if key in seen:
            problems.append(
                Problem(
                    file,
                    f"row {line}",
                    "src",
                    f"pair repeats row {seen[key]}",
                    value=f"{a} {b}",
                    fix="keep one row per pair",
                )
            )
        seen.setdefault(key, line)


def check_pairs(pairs: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]) -> None:
    """Exact egress prices: one row per direction, between known regions."""
    ids = set(regions["region"]) if not regions.empty else set()
    if not pairs.empty:
        seen: dict[tuple[str, str], int] = {}
        for i, (a, b) in enumerate(zip(pairs["src"], pairs["dst"], strict=True)):
            line = int(pairs.index[i]) + 2
            if (a, b) in seen:
                problems.append(
                    Problem(
                        "egress_pairs.csv",
                        f"row {line}",
                        "src",
                        f"pair repeats row {seen[(a, b)]}",
                        value=f"{a} {b}",
                        fix="keep one row per direction",
                    )
                )
            seen.setdefault((a, b), line)
    for col in ("src", "dst"):
        for i, v in pairs[col].items():
            if v not in ids:
                problems.append(
                    Problem(
                        "egress_pairs.csv",
                        f"row {i + 2}",
                        col,
                        "unknown region",
                        value=v,
                        fix=did_you_mean(v, ids),
                    )
                )
