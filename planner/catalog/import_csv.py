"""Read a foreign CSV table safely: the shared first step of every importer.

Takes the path of a CSV file someone downloaded (a SkyPilot price list, a skyplane ping or egress
table) and the columns an importer wants, each under any of its alias names; returns the header
and the data rows as text with the line each started on, maps wanted fields to positions, and
parses numbers and `provider:region` keys. Anything wrong becomes a located `Problem` (file, line,
column, value, fix): an unreadable file raises at once, a bad cell is collected so one
`CatalogError` can list every bad row. It exists so the three importers share one notion of
"readable input" and report problems the same way.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from ..errors import CatalogError, Problem

StrPath = str | PathLike[str]

# A full SkyPilot vms.csv is a few MB; anything far larger is almost certainly the wrong file, and
# reading it whole would only waste memory before failing.
MAX_INPUT_BYTES = 64 * 1024 * 1024
# Same rule as the loader's `id` columns: whatever we write as a sku or region code must load back.
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
# GCP zones are `<region>-<letter>` and GCP regions always end in a digit, so this never eats
# part of a region code.
GCP_ZONE_SUFFIX = re.compile(r"-[a-z]$")


@dataclass
class RawTable:
    """A CSV read as text: the header and each data row with the line it started on."""

    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def fail(
    file: str, message: str, fix: str = "", where: str = "", column: str = "", value: object = None
) -> CatalogError:
    """One located problem as an error, for input so wrong that reading cannot go on."""
    return CatalogError([Problem(file, where, column, message, value=value, fix=fix)])


def read_raw(path: StrPath) -> RawTable:
    """Read a CSV as text with exact line numbers; any unreadable file becomes a CatalogError.

    The csv module (rather than pandas) is used so a problem can name the real line of the file
    even when there are blank lines or quoted newlines.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise fail(file, "file not found", fix="check the path")
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise fail(
            file,
            f"file is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB",
            fix="pass the CSV table itself, not an archive or a database dump",
        )
    data = p.read_bytes()
    if b"\x00" in data:
        raise fail(file, "file is binary, not a CSV text file", fix="export the table as UTF-8 CSV")
    try:
        text = data.decode("utf-8-sig")  # -sig: spreadsheets often prepend a byte-order mark
    except UnicodeDecodeError as exc:
        raise fail(
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
        raise fail(
            file,
            f"not a valid CSV file: {exc}",
            where=f"line {reader.line_num}",
            fix="check the quoting on that line",
        ) from None
    if header is None:
        raise fail(file, "file is empty", fix="pass a CSV file with a header line and data rows")
    if not rows:
        raise fail(file, "file has a header but no data rows", fix="pass the full table")
    return RawTable(file, header, rows)


def find_columns(
    raw: RawTable, wanted: Mapping[str, tuple[str, ...]], problems: list[Problem]
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


def row_cells(
    raw: RawTable, pos: dict[str, int], problems: list[Problem]
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


def parse_number(
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


def region_id(key: str, default_provider: str | None) -> tuple[str | None, str]:
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
        code = GCP_ZONE_SUFFIX.sub("", code)
    if not VALID_ID.match(prov) or not VALID_ID.match(code):
        return None, "not a valid `provider:region` key"
    return f"{prov}/{code}", ""


def raise_if(problems: list[Problem]) -> None:
    """Stop with every problem collected so far, if there is one."""
    if problems:
        raise CatalogError(problems)
