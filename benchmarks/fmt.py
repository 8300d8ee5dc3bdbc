"""Number formats and markdown table cells shared by the report, the targets and the progress
lines: a missing value shows as `-`, money in whole dollars, gaps in percent to two places.

Takes plain values (None and NaN allowed) and returns strings. It exists so that the report's
tables and the target verdicts print the same value the same way.
"""

from __future__ import annotations

import math
from typing import Any


def num(x: Any, fmt: str = ".2f", none: str = "-") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return none
    return format(x, fmt)


def pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def money(x: Any) -> str:
    return "-" if x is None else f"{x:,.0f}"


def vs(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0:
        return "-"
    return f"{100 * (ours / theirs - 1):+.1f}%"


def md_row(*cells: Any) -> str:
    # a cell's own | or newline would break the markdown table
    return "| " + " | ".join(str(c).replace("|", "/").replace("\n", " ") for c in cells) + " |"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"
