"""Read one catalog file at a time into a typed table or a small record.

Takes the catalog folder and a file's name within it; returns a pandas frame typed by its column
spec (`columns.py`), the latency model, or the availability figures. A file that cannot be read
becomes a located `Problem` appended to the caller's list, and an empty or fallback value comes
back, so `load_catalog` can go on and report every problem of the catalog at once. This module
knows nothing of how tables refer to each other: that is `checks.py`.
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import pandas as pd

from ..errors import CatalogError, Problem
from ..safeyaml import load_yaml_file
from . import columns as C
from .geo import LatencyModel

# Used only when a catalog has no availability.yaml (synthetic catalogs); the shipped file is the
# source.
AVAILABILITY_FALLBACK = {
    "public_region": 1e-4,
    "private_region": 1.8e-4,
    "provider": 1e-5,
    "front_door": 1e-4,
    "zone_beta": 0.05,
}
MAX_CSV_BYTES = 20 * 1024 * 1024


def read_table(
    root: Path, rel: str, cols: tuple[C.Col, ...], problems: list[Problem]
) -> pd.DataFrame:
    """Read one CSV as text and type it; an unreadable file becomes a problem, not a traceback."""
    path = root / rel
    empty = pd.DataFrame({c.name: pd.Series(dtype=C._dtype(c)) for c in cols})
    if not path.exists():
        problems.append(
            Problem(rel, "", "", "file is missing", fix=f"create {rel} (see catalogs/README.md)")
        )
        return empty
    if path.stat().st_size > MAX_CSV_BYTES:
        problems.append(Problem(rel, "", "", "file is larger than 20 MiB"))
        return empty
    try:
        text = path.read_text(encoding="utf-8")
        # index_col=False: a header with fewer names than a row's cells must not turn a column into
        # the index; skip_blank_lines=False keeps index + 2 equal to the line in the file.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            raw = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                skipinitialspace=True,
                index_col=False,
                skip_blank_lines=False,
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            problems.append(
                Problem(
                    rel,
                    "header",
                    "",
                    "rows have more cells than the header has names",
                    fix="add the missing column name to the header, or remove the extra cells",
                )
            )
            return empty
        raw = raw[(raw != "").any(axis=1)]
    except UnicodeDecodeError:
        problems.append(Problem(rel, "", "", "file is not UTF-8 text", fix="save it as UTF-8 CSV"))
        return empty
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).strip()
        # pandas counts rows from 0 after the header in some messages; report the file's line number
        m = re.search(r"row (\d+)", msg)
        where = f"row {int(m.group(1)) + 1}" if m else ""
        m2 = re.search(r"line (\d+)", msg)
        where = where or (f"row {m2.group(1)}" if m2 else "")
        problems.append(
            Problem(
                rel,
                where,
                "",
                f"not a valid CSV file: {msg}",
                fix="check the quoting and the number of commas on each line",
            )
        )
        return empty
    typed, found = C.validate_columns(raw, rel, cols)
    problems.extend(found)
    return typed


def read_latency_model(root: Path, problems: list[Problem]) -> LatencyModel:
    """The distance-to-round-trip model of latency_model.yaml (a default when it is unusable)."""
    path = root / "latency_model.yaml"
    fallback = LatencyModel(overhead_ms=5.0, ms_per_km=0.018, same_metro_ms=2.5, same_metro_km=80.0)
    if not path.exists():
        problems.append(Problem("latency_model.yaml", "", "", "file is missing"))
        return fallback
    try:
        data = load_yaml_file(path, CatalogError)
        return LatencyModel(
            **{
                k: float(data[k])
                for k in ("overhead_ms", "ms_per_km", "same_metro_ms", "same_metro_km")
            }
        )
    except CatalogError as exc:
        problems.extend(exc.problems)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(
            Problem(
                "latency_model.yaml",
                "",
                str(exc),
                "missing or non-numeric parameter",
                fix="set overhead_ms, ms_per_km, same_metro_ms, same_metro_km",
            )
        )
    return fallback


def read_availability(root: Path, problems: list[Problem]) -> dict[str, float]:
    """The unavailability figures of availability.yaml, each a probability in [0, 1)."""
    path = root / "availability.yaml"
    if not path.exists():
        return dict(AVAILABILITY_FALLBACK)
    try:
        data = load_yaml_file(path, CatalogError)
        out = {
            "public_region": float(data["region_unavailability"]["public"]),
            "private_region": float(data["region_unavailability"]["private"]),
            "provider": float(data["provider_unavailability"]),
            "front_door": float(data["front_door_unavailability"]),
            "zone_beta": float(data["zone_beta"]),
        }
    except CatalogError as exc:
        problems.extend(exc.problems)
        return dict(AVAILABILITY_FALLBACK)
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(
            Problem(
                "availability.yaml",
                "",
                str(exc),
                "missing or non-numeric value",
                fix="see catalogs/README.md for the fields",
            )
        )
        return dict(AVAILABILITY_FALLBACK)
    for key, value in out.items():
        if not 0 <= value < 1:
            problems.append(
                Problem(
                    "availability.yaml", "", key, "must be a probability in [0, 1)", value=value
                )
            )
    return out
