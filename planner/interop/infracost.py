"""`mcplan export PLAN.json --to infracost FILE`: the plan's bill in Infracost's JSON shape, and
the difference of two plans in Infracost's diff shape, so the tools that post Infracost output
on pull requests can post a plan's cost too.

The shape is Infracost's JSON format version 0.2: `projects[].breakdown.resources[]`, each with
`costComponents[]` (`monthlyQuantity`, `unit`, `price`, `monthlyCost`, hourly figures at 730 hours
a month), totals as decimal strings. One resource per service and region holds the units bought
there (one cost component per SKU and role) and the region's fees; one resource per service holds
the traffic it sends (one component per flow). Every amount is the plan's own figure, added in
decimal arithmetic, so `totalMonthlyCost` is the plan's `objective_usd_per_month` to the cent.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext
from typing import Any

from .planjson import check_plan

FORMAT_VERSION = "0.2"
HOURS_PER_MONTH = Decimal(730)


def _dec(x: Any) -> Decimal:
    """A JSON number as an exact decimal (its shortest repr, not its binary expansion)."""
    return Decimal(repr(float(x))) if x is not None else Decimal(0)


def _text(d: Decimal) -> str:
    """A decimal amount as Infracost writes it: plain notation, no exponent, no trailing zeros."""
    with localcontext() as ctx:  # room for ten decimals of any amount a plan can hold
        ctx.prec = max(28, d.adjusted() + 12)
        q = d.quantize(Decimal("1e-10")).normalize()
    text = format(q, "f")
    return "0" if text in ("-0", "0") else text


def _component(
    name: str, unit: str, quantity: Decimal, price: Decimal, monthly: Decimal
) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "hourlyQuantity": _text(quantity / HOURS_PER_MONTH) if unit == "hours" else None,
        "monthlyQuantity": _text(quantity),
        "price": _text(price),
        "hourlyCost": _text(monthly / HOURS_PER_MONTH),
        "monthlyCost": _text(monthly),
        "_monthly": monthly,  # exact, removed before output
    }


def _resource(
    name: str, rtype: str, metadata: dict[str, Any], components: list[dict[str, Any]]
) -> dict[str, Any]:
    monthly = sum((c["_monthly"] for c in components), Decimal(0))
    return {
        "name": name,
        "resourceType": rtype,
        "tags": {},
        "metadata": metadata,
        "hourlyCost": _text(monthly / HOURS_PER_MONTH),
        "monthlyCost": _text(monthly),
        "costComponents": components,
        "subresources": [],
        "_monthly": monthly,
    }


def _resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    units: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    provider_of: dict[str, str] = {}
    for p in plan["placements"]:
        key = (str(p["service"]), str(p["region"]))
        provider_of[str(p["region"])] = str(p["provider"])
        units[key].append(
            _component(
                f"{p['sku']} ({p['role']}, {p['category']})",
                "units",
                Decimal(int(p["units"])),
                _dec(p.get("usd_per_unit_month")),
                _dec(p.get("usd_per_month")),
            )
        )
    for f in plan.get("fees") or []:
        key = (str(f["service"]), str(f["region"]))
        fee = _dec(f.get("usd_per_month"))
        units[key].append(_component(f"{f['category']} fee", "months", Decimal(1), fee, fee))
    out = [
        _resource(
            f"{service}.{region}",
            "mcplan_units",
            {
                "service": service,
                "region": region,
                "provider": provider_of.get(region, region.split("/")[0]),
            },
            components,
        )
        for (service, region), components in sorted(units.items())
    ]
    flows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in plan.get("traffic") or []:
        flows[str(t["service"])].append(
            _component(
                f"{t['kind']} {t['flow']}: {t['source_region']} -> {t['destination']}",
                "GB",
                _dec(t.get("gb_per_month")),
                _dec(t.get("usd_per_gb")),
                _dec(t.get("usd_per_month")),
            )
        )
    out += [
        _resource(f"{service}.traffic", "mcplan_traffic", {"service": service}, components)
        for service, components in sorted(flows.items())
    ]
    return out


def _strip(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The resources without the exact totals kept for arithmetic."""
    return [
        {
            **{k: v for k, v in r.items() if k != "_monthly"},
            "costComponents": [
                {k: v for k, v in c.items() if k != "_monthly"} for c in r["costComponents"]
            ],
        }
        for r in resources
    ]


def _breakdown(resources: list[dict[str, Any]]) -> tuple[dict[str, Any], Decimal]:
    total = sum((r["_monthly"] for r in resources), Decimal(0))
    return (
        {
            "resources": _strip(resources),
            "totalHourlyCost": _text(total / HOURS_PER_MONTH),
            "totalMonthlyCost": _text(total),
        },
        total,
    )


def _summary(resources: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(resources)
    return {
        "totalDetectedResources": n,
        "totalSupportedResources": n,
        "totalUnsupportedResources": 0,
        "totalUsageBasedResources": 0,
        "totalNoPriceResources": 0,
        "unsupportedResourceCounts": {},
        "noPriceResourceCounts": {},
    }


def _project_metadata(plan: dict[str, Any]) -> dict[str, Any]:
    return {"path": str(plan.get("app", "")), "type": "mcplan_plan", "status": plan.get("status")}


def export_infracost(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan's monthly bill as an Infracost breakdown (format 0.2)."""
    plan = check_plan(plan)
    resources = _resources(plan)
    breakdown, total = _breakdown(resources)
    return {
        "version": FORMAT_VERSION,
        "currency": "USD",
        "projects": [
            {
                "name": str(plan.get("app", "")),
                "metadata": _project_metadata(plan),
                "pastBreakdown": None,
                "breakdown": breakdown,
                "diff": None,
                "summary": _summary(resources),
            }
        ],
        "totalHourlyCost": _text(total / HOURS_PER_MONTH),
        "totalMonthlyCost": _text(total),
        "summary": _summary(resources),
    }


def _diff_resources(past: list[dict[str, Any]], head: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per resource and cost component: head minus past, for what changed."""
    before = {r["name"]: r for r in past}
    after = {r["name"]: r for r in head}
    out = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        b_parts = {c["name"]: c for c in (b or {}).get("costComponents", [])}
        a_parts = {c["name"]: c for c in (a or {}).get("costComponents", [])}
        components = []
        for part in sorted(set(b_parts) | set(a_parts)):
            pb, pa = b_parts.get(part), a_parts.get(part)
            delta = (pa["_monthly"] if pa else Decimal(0)) - (pb["_monthly"] if pb else Decimal(0))
            if delta == 0 and pa and pb and pa["monthlyQuantity"] == pb["monthlyQuantity"]:
                continue
            q = Decimal(pa["monthlyQuantity"] if pa else 0) - Decimal(
                pb["monthlyQuantity"] if pb else 0
            )
            ref = pa or pb
            assert ref is not None  # one of the two exists by construction
            components.append(_component(part, ref["unit"], q, Decimal(ref["price"]), delta))
        if components:
            ref_r = a or b
            assert ref_r is not None
            out.append(_resource(name, ref_r["resourceType"], ref_r["metadata"], components))
    return out


def infracost_diff(base_plan: dict[str, Any], head_plan: dict[str, Any]) -> dict[str, Any]:
    """How `head_plan` differs from `base_plan` in Infracost's diff shape: past and current
    breakdowns, the per-resource difference, and the past, current and difference totals."""
    base, head = check_plan(base_plan, "base plan"), check_plan(head_plan, "head plan")
    past_resources, head_resources = _resources(base), _resources(head)
    past, past_total = _breakdown(past_resources)
    current, head_total = _breakdown(head_resources)
    diff_resources = _diff_resources(past_resources, head_resources)
    diff, diff_total = _breakdown(diff_resources)
    diff_total = head_total - past_total  # equal to the sum of the differences
    diff["totalMonthlyCost"] = _text(diff_total)
    diff["totalHourlyCost"] = _text(diff_total / HOURS_PER_MONTH)
    return {
        "version": FORMAT_VERSION,
        "currency": "USD",
        "projects": [
            {
                "name": str(head.get("app", "")),
                "metadata": _project_metadata(head),
                "pastBreakdown": past,
                "breakdown": current,
                "diff": diff,
                "summary": _summary(head_resources),
            }
        ],
        "totalHourlyCost": _text(head_total / HOURS_PER_MONTH),
        "totalMonthlyCost": _text(head_total),
        "pastTotalHourlyCost": _text(past_total / HOURS_PER_MONTH),
        "pastTotalMonthlyCost": _text(past_total),
        "diffTotalHourlyCost": _text(diff_total / HOURS_PER_MONTH),
        "diffTotalMonthlyCost": _text(diff_total),
        "summary": _summary(head_resources),
    }


def strategy_diff(spec: Any, catalog: Any, options: Any, names: list[str]) -> dict[str, Any]:
    """`mcplan compare --format infracost-diff`: plan the spec under two named strategies (base,
    then head) and return the head's difference from the base in Infracost's diff shape."""
    from ..errors import InputError
    from ..report import plan_to_dict
    from ..strategies import STRATEGIES, plan_with_strategy

    if len(names) != 2:
        raise InputError(
            "--format infracost-diff compares two strategies: give them as "
            "`--strategies BASE,HEAD`, e.g. `--strategies multi_region_single_cloud,optimal`"
        )
    for name in names:
        if name not in STRATEGIES:
            from ..errors import did_you_mean

            raise InputError(f"unknown strategy `{name}`: {did_you_mean(name, STRATEGIES)}")
    base, head = (plan_to_dict(plan_with_strategy(spec, catalog, n, options)) for n in names)
    out = infracost_diff(base, head)
    out["projects"][0]["metadata"]["strategies"] = {"base": names[0], "head": names[1]}
    return out
