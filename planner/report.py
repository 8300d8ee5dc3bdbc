"""Presentation of catalogs and plans: readable text tables, the stable JSON contract, CSV.

Pure functions from tables to text or plain dicts; no solving and no I/O here.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from .catalog.columns import RESOURCES
from .plan import Plan
from .trust import trust_sentence

JSON_VERSION = 2


def _clean(x: Any) -> Any:
    """JSON-safe values: numpy scalars to Python, NaN to None, tuples to lists."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in df.to_dict(orient="records")]


def availability_to_dict(result: Any) -> dict[str, Any]:
    return _clean(
        {
            "availability_pct": 100 * result.availability,
            "downtime_minutes_per_month": result.minutes_per_month,
            "downtime_minutes_per_year": result.minutes_per_year,
            "method": result.method,
            "confidence_interval": getattr(result, "confidence_interval", None),
            "note": "estimated availability (model): composed from SLAs and the catalog's "
            "outage assumptions, not a provider promise",
        }
    )


def plan_to_dict(plan: Plan, availability: Any = None) -> dict[str, Any]:
    """The documented, stable JSON contract of a plan (docs/json.md)."""
    spec = plan.spec
    cost = plan.cost
    placements = []
    for r in plan.placements.to_dict(orient="records"):
        per_unit = {k: r[k] for k in RESOURCES if r[k] > 0}
        placements.append(
            {
                "service": r["service"],
                "provider": r["provider"],
                "region": r["region"],
                "sku": r["sku"],
                "offering": r["offering"],
                "category": r["category"],
                "tier": r["tier"],
                "role": r["role"],
                "units": int(r["units"]),
                "capacity": {
                    "per_unit": per_unit,
                    "total": {k: v * r["units"] for k, v in per_unit.items()},
                },
                "usd_per_unit_month": round(r["usd_per_unit_month"], 6),
                "usd_per_month": round(r["usd_per_month"], 6),
            }
        )
    out = {
        "schema_version": JSON_VERSION,
        "status": plan.status,
        "app": spec.app,
        "objective_usd_per_month": round(cost["total"], 6),
        "bound_usd_per_month": None if plan.bound is None else round(plan.bound, 6),
        "gap": None if plan.gap is None else round(plan.gap, 8),
        "cost_breakdown_usd_per_month": {k: round(v, 6) for k, v in cost.items()},
        "traffic_invoice_usd_per_month": (
            round(float(plan.traffic["usd_invoice"].sum()), 6)
            if "usd_invoice" in plan.traffic
            else None
        ),
        "policy": spec.policy.model_dump(mode="json"),
        "services": [
            {
                "name": s.name,
                "category": s.category,
                "demand": {k: v for k, v in s.demand.as_dict().items() if v > 0},
                "strategy": plan.strategies.get(s.name),
                "rto_minutes": s.rto_minutes,
                "rpo_minutes": s.rpo_minutes,
                "residency": list(s.residency),
                "user_facing": s.user_facing,
            }
            for s in spec.services
        ],
        "placements": placements,
        "fees": records(plan.fees),
        "traffic": records(plan.traffic),
        "trust": None if plan.trust is None else records(plan.trust),
        "providers": plan.providers(),
        "regions": plan.regions(),
        "verification": plan.verification.as_dict() if plan.verification is not None else None,
        "availability": None if availability is None else availability_to_dict(availability),
        "solve": {
            "method": plan.method,
            "solver": plan.solver,
            "timings_s": {k: round(v, 4) for k, v in plan.timings.items()},
            "model_size": plan.model_size,
        },
        "notes": list(plan.notes),
    }
    return _clean(out)


def plan_to_json(plan: Plan, availability: Any = None) -> str:
    return json.dumps(plan_to_dict(plan, availability), indent=2, ensure_ascii=False)


def plan_to_csv(plan: Plan) -> str:
    cols = [
        "service",
        "provider",
        "region",
        "sku",
        "category",
        "tier",
        "role",
        "units",
        *RESOURCES,
        "usd_per_unit_month",
        "usd_per_month",
    ]
    # money per row to the cent, every other number to 6 significant digits (docs/json.md)
    return table_csv(plan.placements[cols], cents=("usd_per_month",))


def plan_to_text(plan: Plan, availability: Any = None) -> str:
    spec = plan.spec
    cost = plan.cost
    lines = [f"Plan for {spec.app}: survive {spec.policy.survive}, status {plan.status}"]
    gap = "n/a" if plan.gap is None else f"{plan.gap:.3%}"
    bound = "n/a" if plan.bound is None else f"${plan.bound:,.2f}"
    lines.append(f"Monthly cost ${cost['total']:,.2f}  (proven lower bound {bound}, gap {gap})")
    lines.append(
        "  compute ${compute:,.2f} | storage ${storage:,.2f} | standby ${standby:,.2f} | "
        "fees ${fees:,.2f}".format(**cost)
    )
    lines.append(
        "  internet egress ${internet_egress:,.2f} | replication ${replication:,.2f} | "
        "dependency traffic ${dependency_traffic:,.2f}".format(**cost)
    )
    if "usd_invoice" in plan.traffic and len(plan.traffic):
        flat, invoice = plan.traffic["usd_per_month"].sum(), plan.traffic["usd_invoice"].sum()
        if abs(flat - invoice) > 0.005:
            lines.append(
                f"  traffic on the invoice, with volume tiers and free allowances: "
                f"${invoice:,.2f} (the optimiser prices it at first-tier rates: ${flat:,.2f})"
            )
    if plan.trust is not None and len(plan.trust):
        lines.append("  " + trust_sentence(plan.trust))
    lines.append(f"Providers: {', '.join(plan.providers())}   Regions: {', '.join(plan.regions())}")
    lines.append("")
    p = plan.placements.copy()
    p["capacity"] = [
        ", ".join(f"{r[k] * r['units']:g} {k}" for k in RESOURCES if r[k] > 0)
        for r in p.to_dict(orient="records")
    ]
    p["usd/month"] = p["usd_per_month"].map(lambda v: f"{v:,.2f}")
    show = p[["service", "region", "sku", "tier", "role", "units", "capacity", "usd/month"]]
    lines.append(show.to_string(index=False))
    lines.append("")
    strat = ", ".join(f"{s}: {k}" for s, k in plan.strategies.items())
    lines.append(f"DR strategies: {strat}")
    paid = plan.traffic[plan.traffic["usd_per_month"] > 0.005] if len(plan.traffic) else None
    if paid is not None and len(paid):
        lines.append("Traffic:")
        for r in paid.itertuples():
            lines.append(
                f"  {r.kind:<11} {r.service} {r.flow}: {r.source_region} -> {r.destination}, "
                f"{r.gb_per_month:,.0f} GB at ${r.usd_per_gb:.4g}/GB = ${r.usd_per_month:,.2f}"
            )
    v = plan.verification
    if v is not None:
        verdict = "OK" if v.ok else "FAILED"
        lines.append(
            f"Verification: {verdict}, normal operation and {v.scenarios_checked - 1} failure "
            f"scenario(s) of policy `{spec.policy.survive}` checked independently"
        )
    if availability is not None:
        lines.append(
            f"Estimated availability {100 * availability.availability:.4f}% "
            f"({availability.minutes_per_year:,.0f} min/year, {availability.minutes_per_month:.1f} "
            f"min/month; {availability.method}; a model, not a provider promise)"
        )
    t = plan.timings
    lines.append(
        f"Solved by {plan.method} with {plan.solver} in {t.get('total_s', 0):.2f} s "
        f"(build {t.get('build_s', 0):.2f} s, solve {t.get('solve_s', 0):.2f} s)"
    )
    lines += [f"Note: {n}" for n in plan.notes]
    return "\n".join(lines)


def _unknown_for_infinite(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose infinite numbers are missing: the tables mark "nothing reachable" (the
    latency to a service that is down) as infinite, which JSON prints as null; text and CSV
    show it the same way, as unknown, and never as `inf`."""
    shown = df.copy()
    for col in shown.columns:
        if shown[col].dtype.kind == "f":
            shown[col] = shown[col].where(np.isfinite(shown[col]))
    return shown


def table_text(df: pd.DataFrame, cents: tuple[str, ...] = (), digits: int | None = None) -> str:
    """A text table; unknown cells print as n/a. With `digits`, every other number has at most
    that many significant digits, and the money columns in `cents` are written to the cent."""
    if df.empty:
        return "(no rows)"
    # a count column with a missing cell turns float in pandas (2 shows as 2.0): show the whole
    # numbers it holds as such, and the missing cells as n/a
    shown = _unknown_for_infinite(df)
    for col in shown.columns:
        values = shown[col]
        present = values.dropna()
        gappy = values.dtype.kind == "f" and 0 < len(present) < len(values)
        if gappy and (present == present.round()).all() and present.abs().max() < 1e15:
            shown[col] = [("n/a" if pd.isna(v) else f"{int(v)}") for v in values]
    for col in cents:
        if col in shown.columns and shown[col].dtype.kind in "fi":
            shown[col] = ["n/a" if pd.isna(v) else f"{float(v):,.2f}" for v in shown[col]]
    float_format = None if digits is None else (lambda v: f"{v:.{digits}g}")
    return shown.to_string(index=False, na_rep="n/a", float_format=float_format)


def table_csv(df: pd.DataFrame, cents: tuple[str, ...] = ()) -> str:
    """CSV with every number at most 6 significant digits, except the money columns in `cents`,
    written to the cent (docs/json.md): 6 digits alone would print $13,239.98 as 13240."""
    shown = _unknown_for_infinite(df)
    for col in cents:
        if col in shown.columns:
            shown[col] = [
                "" if pd.isna(v) else f"{float(v):.2f}" for v in shown[col]
            ]  # strings: float_format below does not touch them
    buf = io.StringIO()
    shown.to_csv(buf, index=False, float_format="%.6g")
    return buf.getvalue()


def table_json(df: pd.DataFrame) -> str:
    return json.dumps(records(df), indent=2, ensure_ascii=False)
