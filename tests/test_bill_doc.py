"""docs/bill.md works out the kr-ecommerce bill by hand (issue 16): every line's arithmetic holds,
the lines add up to the stated total, and the total is the planner's, to the cent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planner import PlanOptions, make_plan
from planner.spec import load_spec
from tests.conftest import EXAMPLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "bill.md"


def _rows(text: str, header: str) -> list[list[str]]:
    """The body rows of the markdown table whose header starts with `header`."""
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _number(cell: str) -> float:
    return float(cell.replace(",", "").replace("$", ""))


def test_the_hand_computed_bill_is_the_planners(catalog) -> None:  # noqa: ANN001
    text = DOC.read_text(encoding="utf-8")
    units = _rows(text, "| service | region | offering |")
    flows = _rows(text, "| kind | flow | from |")
    assert units and flows
    unit_total = 0.0
    for row in units:
        n, price, amount = int(row[4]), float(row[5]), _number(row[7])
        assert n * price == pytest.approx(amount, abs=0.005), row
        unit_total += n * price
    traffic_total = 0.0
    for row in flows:
        gb, rate, amount = _number(row[4]), float(row[5]), _number(row[6])
        assert gb * rate == pytest.approx(amount, abs=0.005), row
        traffic_total += gb * rate
    stated = re.search(r"= \*\*\$([\d,]+\.\d\d)\*\* a month", text)
    assert stated, "the doc states its total as = **$X** a month"
    assert unit_total + traffic_total == pytest.approx(_number(stated.group(1)), abs=0.005)

    plan = make_plan(load_spec(EXAMPLES / "kr-ecommerce.yaml"), catalog, PlanOptions())
    assert plan.objective == pytest.approx(unit_total + traffic_total, abs=0.005)
    # line by line too: the planner buys what the page lists, and pays for the flows it lists
    bought = sorted(
        (r.service, r.region, r.sku, int(r.units)) for r in plan.placements.itertuples()
    )
    assert bought == sorted((r[0], r[1], r[2], int(r[4])) for r in units)
    paid = plan.traffic[plan.traffic["usd_per_month"] > 0]
    assert len(paid) == len(flows)
    assert paid["usd_per_month"].sum() == pytest.approx(traffic_total, abs=0.005)
