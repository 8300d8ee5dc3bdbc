"""Reading a plan's JSON (docs/json.md) for the exporters: the file, its shape, and errors that
say how to get a right one."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem

MAX_PLAN_BYTES = 64 * 1024 * 1024
SCHEMA_VERSION = 2  # the plan JSON the exporters read (planner.report.plan_to_dict)
HOW = "write it with `mcplan plan SPEC --format json --out plan.json`"


def read_json(path: Path, how: str = HOW) -> Any:
    """A JSON file's value, or an InputError naming the file and how to get a good one."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise InputError([Problem(str(path), "", "", what, fix=f"give a JSON file; {how}")])
    if path.stat().st_size > MAX_PLAN_BYTES:
        raise InputError([Problem(str(path), "", "", "larger than 64 MiB", fix=how)])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError([Problem(str(path), "", "", "not UTF-8 text", fix=how)]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        instead = _what_else(text) if how == HOW else None
        raise InputError(
            [
                Problem(
                    str(path),
                    f"line {exc.lineno}, column {exc.colno}",
                    "",
                    f"not JSON ({exc.msg})" if instead is None else f"not JSON: {instead}",
                    fix=how,
                )
            ]
        ) from None


# the first line of a plan's CSV (docs/json.md) and the keys that only a spec has at its top
_PLAN_CSV_HEADER = "service,provider,region,sku,"
_SPEC_KEYS = ("app:", "services:", "policy:", "users:", "dependencies:")


def _what_else(text: str) -> str | None:
    """What a file given as a plan's JSON seems to be instead, when it is one of ours."""
    lines = [ln.strip() for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("#")]
    if lines and lines[0].startswith(_PLAN_CSV_HEADER):
        return "this is a plan's CSV (`--format csv`), which has no traffic, fees or totals"
    if any(ln.startswith(_SPEC_KEYS) for ln in lines[:200]):
        return "this looks like a spec (YAML); plan it first"
    return None


# what the exporters read of each row, and the JSON type each must have (docs/json.md)
_TEXT, _COUNT, _NUMBER = "text", "whole number", "number"
_ROWS: dict[str, dict[str, str]] = {
    "placements": {
        "service": _TEXT,
        "provider": _TEXT,
        "region": _TEXT,
        "sku": _TEXT,
        "category": _TEXT,
        "role": _TEXT,
        "units": _COUNT,
        "usd_per_unit_month": _NUMBER,
        "usd_per_month": _NUMBER,
    },
    "fees": {"service": _TEXT, "region": _TEXT, "category": _TEXT, "usd_per_month": _NUMBER},
    "traffic": {
        "kind": _TEXT,
        "service": _TEXT,
        "flow": _TEXT,
        "source_region": _TEXT,
        "destination": _TEXT,
        "gb_per_month": _NUMBER,
        "usd_per_gb": _NUMBER,
        "usd_per_month": _NUMBER,
    },
}
_MAX_PROBLEMS = 20


def _is(value: Any, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(value, str) and value != ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not math.isfinite(value):
        return False
    return value >= 0 and float(value).is_integer() if kind == _COUNT else True


def check_plan(data: Any, source: str = "plan") -> dict[str, Any]:
    """The plan JSON itself when it has the shape the exporters read (every field they use, of
    its type); else an InputError listing the problems (the first 20)."""
    if not isinstance(data, dict):
        raise InputError([Problem(source, "", "", "the top level must be a JSON object", fix=HOW)])
    problems: list[Problem] = []
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or isinstance(version, bool):
        # version 1 billed traffic in an `egress` table the exporters do not read: its bill
        # would silently miss the traffic
        problems.append(
            Problem(
                source,
                "schema_version",
                "",
                f"the exporters read plans of schema version {SCHEMA_VERSION} (docs/json.md)",
                value=version,
                fix="plan the spec again with this mcplan: "
                "`mcplan plan SPEC --format json --out plan.json`",
            )
        )
    if "resource_changes" in data or "planned_values" in data:
        problems.append(
            Problem(
                source,
                "",
                "",
                "this is a Terraform plan, not an mcplan plan",
                fix="turn it into a spec with `mcplan import terraform` first, plan the spec, "
                "then export the plan",
            )
        )
    for key in ("placements", "services"):
        if not isinstance(data.get(key), list):
            problems.append(Problem(source, key, "", "missing or not a list", fix=HOW))
    if not _is(data.get("objective_usd_per_month"), _NUMBER):
        problems.append(
            Problem(source, "objective_usd_per_month", "", "missing or not a number", fix=HOW)
        )
    for table, fields in _ROWS.items():
        rows = data.get(table, [])
        if table != "placements" and not isinstance(rows, list):
            problems.append(Problem(source, table, "", "not a list", fix=HOW))
            continue
        for i, row in enumerate(rows if isinstance(rows, list) else []):
            if not isinstance(row, dict):
                problems.append(Problem(source, f"{table}[{i}]", "", "not an object", fix=HOW))
                continue
            for key, kind in fields.items():
                if not _is(row.get(key), kind):
                    what = "missing" if key not in row else f"not a {kind}"
                    value = row.get(key) if key in row else None
                    problems.append(
                        Problem(source, f"{table}[{i}].{key}", "", what, value=value, fix=HOW)
                    )
            capacity = row.get("capacity")
            per_unit = capacity.get("per_unit", {}) if isinstance(capacity, dict) else None
            if capacity is not None and not (
                isinstance(per_unit, dict) and all(_is(v, _NUMBER) for v in per_unit.values())
            ):
                problems.append(
                    Problem(
                        source,
                        f"{table}[{i}].capacity",
                        "",
                        "not an object whose `per_unit` maps resources to numbers",
                        fix=HOW,
                    )
                )
    if problems:
        raise InputError(problems[:_MAX_PROBLEMS])
    return data


def region_code(region: str) -> str:
    """`aws/ap-northeast-2` -> `ap-northeast-2`."""
    return region.split("/", 1)[1] if "/" in region else region
