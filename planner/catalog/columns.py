"""Column specifications for catalog tables and the one validator that applies them.

Each table file is described by a tuple of `Col`; `validate_columns` turns raw text cells into
typed columns and reports every bad cell with its file, row (the line in the CSV) and a fix.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, SupportsInt

import pandas as pd

from ..errors import Problem, did_you_mean

RESOURCES = ("vcpu", "mem_gib", "storage_gb", "requests_m", "users", "lb")
DATA_RESOURCES = ("storage_gb",)
SITE_RESOURCES = ("vcpu", "mem_gib", "storage_gb")  # what a private site's capacity caps
# A private site's capacity column for each resource it caps (the sites table's columns).
SITE_CAPACITY = {res: f"{res}_capacity" for res in SITE_RESOURCES}
# The resource that stands for a service's size (apportioning traffic, shortfalls, shares): the
# first of these that the service asks for. Serving resources come before memory and storage.
MAIN_RESOURCE_ORDER = ("vcpu", "requests_m", "users", "lb", "mem_gib", "storage_gb")


def main_resource(demand: Any) -> str:
    """The resource that stands for a service's size: the first of MAIN_RESOURCE_ORDER it asks
    for. `demand` maps resource names to amounts (a dict or a pandas row)."""
    return next(r for r in MAIN_RESOURCE_ORDER if float(demand[r]) > 0)


LAYERS = ("hardware", "virtualization", "os", "runtime", "application")
TIERS = ("IaaS", "PaaS", "SaaS")
CONTINENTS = ("AF", "AS", "EU", "NA", "OC", "SA")
STATUSES = ("V", "S", "U")
PRICE_UNITS = ("hour", "month", "gb_month", "million_requests", "user_month", "chargeback")
SLA_MODES = ("single_zone", "multi_zone", "regional")
FAILURE_SCOPES = ("zone", "region", "site", "provider", "network", "control_plane")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


@dataclass(frozen=True)
class Col:
    name: str
    kind: str  # id | text | float | int | bool | date | enum | words
    required: bool = True
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    default: object = None
    hint: str = ""
    positive: bool = False  # strictly greater than zero


PROVENANCE = (
    Col("source_url", "text", hint="a public URL or the word `assumption`"),
    Col("as_of", "date"),
    Col("status", "enum", choices=STATUSES),
)

PROVIDERS = (
    Col("provider", "id"),
    Col("name", "text"),
    Col("kind", "enum", choices=("public", "private")),
    Col("currency_note", "text", required=False, default=""),
)

REGIONS = (
    Col("region", "id"),
    Col("name", "text"),
    Col("city", "text"),
    Col("country", "text", hint="an ISO 3166 alpha-2 code such as KR"),
    Col("jurisdiction", "text"),
    Col("continent", "enum", choices=CONTINENTS),
    Col("lat", "float", lo=-90, hi=90, hint="latitude in degrees, -90..90"),
    Col("lon", "float", lo=-180, hi=180, hint="longitude in degrees, -180..180"),
    Col("zones", "int", lo=0, hi=12),
    Col("site", "text", required=False, default=""),
    Col("price_factor", "float", lo=0.2, hi=5.0, hint="a multiplier near 1.0"),
    *PROVENANCE,
)

OFFERINGS = (
    Col("sku", "id"),
    Col("category", "text"),
    Col("tier", "enum", choices=TIERS),
    *(Col(r, "float", required=False, lo=0, hi=1e9, default=0.0) for r in RESOURCES),
    Col(
        "price_usd",
        "float",
        required=False,
        lo=0,
        hi=1e6,
        default=None,
        hint="a positive list price",
    ),
    Col("price_unit", "enum", choices=PRICE_UNITS),
    Col("fixed_usd_per_month", "float", required=False, lo=0, hi=1e6, default=0.0),
    Col("sla_pct", "float", lo=90, hi=100, hint="a monthly uptime percentage such as 99.9"),
    Col("sla_mode", "enum", choices=SLA_MODES),
    Col("managed_layers", "words", choices=LAYERS),
    Col("regions", "text", required=False, default=""),
    *PROVENANCE,
)

PRICES = (
    Col("sku", "id"),
    Col("region", "id"),
    Col("price_usd", "float", lo=0, hi=1e6, positive=True, hint="a positive list price"),
    *PROVENANCE,
)

# Egress (<provider>/egress.csv): one first-tier $/GB per source (`from`: a region code, a continent
# code or `*`) and destination class (`to`). A destination class is one of EGRESS_CLASSES, a
# continent code (another region of the provider on that continent, from another continent), a
# region code of the provider, or `other_provider:<continent>` (a region of another provider on
# that continent). The most specific destination wins, then the most specific source
# (catalogs/README.md, "<provider>/egress.csv").
EGRESS_CLASSES = (
    "internet",  # to users on the internet
    "cross_zone",  # between two zones of the source region (not in the optimiser's rate)
    "same_continent",  # another region of the provider on the source's continent
    "other_continent",  # another region of the provider on another continent
    "other_region",  # any other region of the provider
    "other_provider",  # a region of another provider (else the `internet` rate)
)
EGRESS_OTHER_PROVIDER_PREFIX = "other_provider:"
_USD_PER_GB_HINT = "a price per GB, typically 0.01..0.2"
EGRESS = (
    Col("from", "text", hint="a region code of the provider, a continent code or `*`"),
    Col("to", "text", hint="a destination class such as internet or other_continent"),
    Col("usd_per_gb", "float", lo=0, hi=5, hint=_USD_PER_GB_HINT),
    Col("note", "text", required=False, default=""),
    *PROVENANCE,
)
# The shape egress.csv had before destination classes: one row per `from` with four rates. The
# loader and the importer still read it, as the four destination classes named here.
EGRESS_WIDE_CLASSES = {
    "internet_usd_per_gb": "internet",
    "same_continent_usd_per_gb": "same_continent",
    "other_continent_usd_per_gb": "other_continent",
    "other_provider_usd_per_gb": "other_provider",
}
EGRESS_WIDE = (
    Col("from", "text"),
    *(Col(c, "float", lo=0, hi=5, hint=_USD_PER_GB_HINT) for c in EGRESS_WIDE_CLASSES),
    *PROVENANCE,
)

# Volume tiers and free allowances (<provider>/egress_tiers.csv, optional). A schedule is the rows
# of one (scope, kind, applies_to): `tier` rows price consecutive bands of the month's volume
# from 0 GB up, the last open-ended; a `free` row is an allowance of `to_gb` GB credited at the
# first paid tier. `aggregation` says whose volume a band counts: each region's own (`region`) or
# the sum over every region the schedule applies to (`account`).
EGRESS_TIER_SCOPES = ("internet", "inter_region")
EGRESS_TIER_KINDS = ("tier", "free")
EGRESS_AGGREGATIONS = ("region", "account")
EGRESS_TIERS = (
    Col("scope", "enum", choices=EGRESS_TIER_SCOPES),
    Col("kind", "enum", required=False, default="tier", choices=EGRESS_TIER_KINDS),
    Col(
        "applies_to",
        "text",
        hint="space-separated region codes of the provider, continent codes or `*`",
    ),
    Col("from_gb", "float", lo=0, hi=1e9, hint="GB per month where the band starts, 0..1e9"),
    Col(
        "to_gb",
        "float",
        required=False,
        lo=0,
        hi=1e9,
        default=float("inf"),
        hint="GB per month where the band ends; empty for no end",
    ),
    Col("usd_per_gb", "float", lo=0, hi=5, hint=_USD_PER_GB_HINT),
    Col("aggregation", "enum", choices=EGRESS_AGGREGATIONS),
    Col("note", "text", required=False, default=""),
    *PROVENANCE,
)

# Where a SaaS offering runs, and so what takes it down: a `regional` one fails with its region, a
# `global` one (run by the vendor across its regions) only with its whole provider.
SAAS_SCOPES = ("regional", "global")
SAAS_SCOPE = (
    Col("provider", "id"),
    Col("sku", "id"),
    Col("scope", "enum", choices=SAAS_SCOPES),
    *PROVENANCE,
)

# Where a stateful offering takes writes: `single` (one writable primary; every other copy is a
# read replica or a standby that must be promoted) or `multi` (every replica takes writes, as in
# DynamoDB global tables). writers.csv states it for each offering of WRITER_CATEGORIES; without
# the file each takes its category's default, and every other offering counts as `single`.
WRITER_MODES = ("single", "multi")
WRITER_CATEGORIES = ("db.relational", "db.keyvalue", "cache")
DEFAULT_WRITERS = {"db.relational": "single", "db.keyvalue": "multi", "cache": "single"}
WRITERS = (
    Col("provider", "id"),
    Col("sku", "id"),
    Col(
        "writers",
        "enum",
        choices=WRITER_MODES,
        hint="`single` (one writable primary, other copies read replicas or standbys) or `multi` "
        "(every replica takes writes)",
    ),
    *PROVENANCE,
)
# Service categories that are single-writer unless every serving offering is multi-writer: a
# relational database or a cache takes its writes on one primary, so after a failure one region on
# its own must carry the service (docs/model.md, rule 3), whatever capacity is spread elsewhere.
SINGLE_WRITER_CATEGORIES = ("db.relational", "cache")

SERVICE_CATEGORIES = (
    Col("service_category", "text"),
    Col("tier", "enum", choices=TIERS),
    Col("offering_category", "text"),
)

STRATEGIES = (
    Col("strategy", "id"),
    Col("rto_minutes", "float", lo=0, hi=1e6),
    Col("rpo_minutes", "float", lo=0, hi=1e6),
    Col("compute_fraction", "float", lo=0, hi=1),
    Col("data_fraction", "float", lo=0, hi=1),
    Col("backup_copies", "bool"),
    Col("control_plane_dependent", "bool"),
    *PROVENANCE,
)

LATENCY = (
    Col("src", "text"),
    Col("dst", "text"),
    Col("rtt_ms", "float", lo=0, hi=2000),
    *PROVENANCE,
)

EGRESS_PAIRS = (
    Col("src", "text"),
    Col("dst", "text"),
    Col("usd_per_gb", "float", lo=0, hi=5, hint="a price per GB, typically 0.01..0.2"),
    *PROVENANCE,
)

INCIDENTS = (
    Col("incident", "id"),
    Col("date", "date"),
    Col("title", "text"),
    Col("provider", "text"),
    Col("scope", "enum", choices=FAILURE_SCOPES),
    Col("regions", "text", required=False, default=""),
    Col("duration_hours", "float", lo=0, hi=1e5),
    Col("what_failed", "text"),
    Col("lesson", "text"),
    *PROVENANCE,
)


def _row(i: SupportsInt) -> str:
    return f"row {int(i) + 2}"  # the CSV line: +1 for the header, +1 because lines count from 1


def validate_columns(
    raw: pd.DataFrame, file: str, cols: Sequence[Col]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Type every column of `raw` (all text) per `cols`; return the typed table and the problems.

    Unknown columns are reported (a typo in a header would otherwise silently drop data).
    """
    problems: list[Problem] = []
    known = {c.name for c in cols}
    for extra in raw.columns:
        if extra not in known:
            problems.append(
                Problem(
                    file,
                    "header",
                    str(extra),
                    "unknown column",
                    fix=did_you_mean(str(extra), known),
                )
            )
    out = pd.DataFrame(index=raw.index)
    for col in cols:
        if col.name not in raw.columns:
            if col.required:
                problems.append(
                    Problem(
                        file,
                        "header",
                        col.name,
                        "required column is missing",
                        fix=f"add a `{col.name}` column",
                    )
                )
            out[col.name] = col.default
            continue
        text = raw[col.name].fillna("").astype(str).str.strip()
        values: list[object] = []
        for i, cell in zip(raw.index, text, strict=True):
            value, msg = _parse(cell, col)
            if msg:
                problems.append(
                    Problem(
                        file, _row(i), col.name, msg, value=cell, fix=col.hint or _default_fix(col)
                    )
                )
            values.append(value)
        out[col.name] = pd.Series(values, index=raw.index, dtype=_dtype(col))
    return out, problems


def _dtype(col: Col) -> str:
    return {"float": "float64", "int": "Int64", "bool": "bool"}.get(col.kind, "object")


def _default_fix(col: Col) -> str:
    if col.choices:
        return "use one of: " + ", ".join(col.choices)
    if col.kind == "date":
        return "write the date as YYYY-MM-DD"
    if col.lo is not None and col.hi is not None:
        return f"use a number between {col.lo:g} and {col.hi:g}"
    return ""


def _parse(cell: str, col: Col) -> tuple[object, str]:
    """Parse one cell; return (value, error message or '')."""
    if cell == "":
        if col.required:
            return col.default, "empty value"
        return col.default, ""
    if col.kind in ("text",):
        return cell, ""
    if col.kind == "id":
        return (cell, "") if _ID.match(cell) else (cell, "not a valid identifier")
    if col.kind == "date":
        if not _DATE.match(cell):
            return cell, "not a date"
        try:
            datetime.date.fromisoformat(cell)
        except ValueError:
            return cell, "not a date (no such day)"
        return cell, ""
    if col.kind == "enum":
        return (cell, "") if cell in col.choices else (cell, "not a known value")
    if col.kind == "words":
        words = cell.split()
        bad = [w for w in words if w not in col.choices]
        return (tuple(words), f"unknown entries {bad}") if bad else (tuple(words), "")
    if col.kind == "bool":
        low = cell.lower()
        if low in ("true", "yes", "1"):
            return True, ""
        if low in ("false", "no", "0"):
            return False, ""
        return False, "not true or false"
    try:
        number = float(cell)
    except ValueError:
        return col.default, "not a number"
    if number != number or number in (float("inf"), float("-inf")):
        return col.default, "not a finite number"
    if col.kind == "int" and not number.is_integer():
        return col.default, "not a whole number"
    if col.lo is not None and number < col.lo:
        return number, "negative" if col.lo == 0 and number < 0 else f"below {col.lo:g}"
    if col.hi is not None and number > col.hi:
        return number, f"above {col.hi:g}"
    if col.positive and number <= 0:
        return number, "must be greater than 0"
    return (int(number) if col.kind == "int" else number), ""
