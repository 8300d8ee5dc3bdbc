"""Reading a plan's JSON (docs/json.md) for the exporters: the file, its shape, and errors that
say how to get a right one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem

MAX_PLAN_BYTES = 64 * 1024 * 1024
HOW = "write it with `mcplan plan SPEC --format json --out plan.json`"
_PLACEMENT_KEYS = ("service", "provider", "region", "sku", "category", "role", "units")


def read_json(path: Path, how: str = HOW) -> Any:
    """A JSON file's value, or an InputError naming the file and how to get a good one."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise InputError([Problem(str(path), "", "", what, fix=f"give a JSON file; {how}")])
    if path.stat().st_size > MAX_PLAN_BYTES:
        raise InputError([Problem(str(path), "", "", "larger than 64 MiB", fix=how)])
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError([Problem(str(path), "", "", "not UTF-8 text", fix=how)]) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    str(path),
                    f"line {exc.lineno}, column {exc.colno}",
                    "",
                    f"not JSON ({exc.msg})",
                    fix=how,
                )
            ]
        ) from None


def check_plan(data: Any, source: str = "plan") -> dict[str, Any]:
    """The plan JSON itself when it has the shape the exporters read; else an InputError listing
    every missing piece."""
    if not isinstance(data, dict):
        raise InputError([Problem(source, "", "", "the top level must be a JSON object", fix=HOW)])
    problems: list[Problem] = []
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
    for key, kind in (("placements", list), ("services", list), ("objective_usd_per_month", float)):
        if not isinstance(data.get(key), kind | int if kind is float else kind):
            problems.append(Problem(source, key, "", f"missing or not a {kind.__name__}", fix=HOW))
    for i, p in enumerate(data.get("placements") or []):
        missing = [k for k in _PLACEMENT_KEYS if not isinstance(p, dict) or k not in p]
        if missing:
            problems.append(
                Problem(source, f"placements[{i}]", "", f"lacks {', '.join(missing)}", fix=HOW)
            )
            break
    if problems:
        raise InputError(problems)
    return data


def region_code(region: str) -> str:
    """`aws/ap-northeast-2` -> `ap-northeast-2`."""
    return region.split("/", 1)[1] if "/" in region else region
