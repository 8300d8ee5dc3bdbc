"""Named placement strategies an architect recognises, the comparison table, and the frontier.

A strategy is a transformation of the spec's policy and services (data, not new model code):
the same model then finds the cheapest plan of that shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .analysis.failure import FailureTables
from .analysis.plan_availability import plan_availability
from .analysis.whatif import sweep
from .catalog import Catalog
from .errors import InfeasibleError, InputError, NoPlanError, SolverError, did_you_mean
from .optimize import PlanOptions, make_plan
from .plan import Plan
from .spec import AppSpec


@dataclass(frozen=True)
class Strategy:
    name: str
    description: str
    transform: Callable[[AppSpec, Catalog], AppSpec]


def _services(spec: AppSpec, **changes: object) -> AppSpec:
    out = spec.model_copy(
        update={"services": tuple(s.model_copy(update=changes) for s in spec.services)}
    )
    out._source = spec.source
    return out


def _private(catalog: Catalog) -> tuple[str, ...]:
    return tuple(catalog.providers.index[catalog.providers["kind"] == "private"])


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("optimal", "free choice under the spec's own policy", lambda spec, cat: spec),
        Strategy(
            "single_region",
            "everything in one region of one provider, no failure survived",
            lambda spec, cat: _services(
                spec.with_policy(survive="none", max_providers=1), max_regions=1
            ),
        ),
        Strategy(
            "multi_region_single_cloud",
            "one public cloud, surviving the loss of any region",
            lambda spec, cat: spec.with_policy(
                survive="region",
                max_providers=1,
                exclude_providers=tuple(set(spec.policy.exclude_providers) | set(_private(cat))),
            ),
        ),
        Strategy(
            "multi_cloud_active_active",
            "every service active in two or more clouds, surviving a provider outage",
            lambda spec, cat: _services(
                spec.with_policy(
                    survive="provider", max_providers=max(2, spec.policy.max_providers or 2)
                ),
                dr="active_active",
                rto_minutes=None,
                rpo_minutes=None,
            ),
        ),
        Strategy(
            "hybrid_private_primary",
            "private OpenStack runs normal operation; public cloud is disaster recovery",
            lambda spec, cat: spec.with_policy(survive="site", private_share_min=1.0),
        ),
        Strategy(
            "cloud_bursting",
            "private sites carry the base load (60%), public cloud the peaks",
            lambda spec, cat: spec.with_policy(private_share_min=0.6),
        ),
    )
}


def plan_with_strategy(
    spec: AppSpec, catalog: Catalog, name: str, options: PlanOptions | None = None
) -> Plan:
    if name not in STRATEGIES:
        raise InputError(f"unknown strategy `{name}`: {did_you_mean(name, STRATEGIES)}")
    plan = make_plan(STRATEGIES[name].transform(spec, catalog), catalog, options or PlanOptions())
    plan.notes.append(f"strategy {name}: {STRATEGIES[name].description}")
    return plan


def worst_latency_ms(plan: Plan, catalog: Catalog) -> float:
    """Worst, over user groups and user-facing services, of the round trip to the nearest region
    running the service (serving units: a volume or a backup serves no user; docs/model.md,
    rule 1)."""
    t = FailureTables.build(plan, catalog)
    u = t.users
    serving = t.cell_serving
    worst = 0.0
    for s in u.services.tolist():
        running = t.cell_region[(t.cell_service == s) & (serving > 0)]
        for g in range(len(u.groups)):
            worst = max(worst, float(u.rtt[g, running].min()) if len(running) else math.inf)
    return worst


def summarize(plan: Plan, catalog: Catalog, beta: float | None = None) -> dict[str, object]:
    """One comparison row for a plan."""
    avail = plan_availability(plan, catalog, beta=beta)
    sweeps = sweep(plan, catalog, "region")
    strat = catalog.strategies.loc[list(plan.strategies.values())]
    return {
        "usd_per_month": round(plan.objective, 2),
        "availability_pct": 100 * avail.availability,
        "downtime_minutes_per_year": avail.minutes_per_year,
        "worst_latency_ms": round(worst_latency_ms(plan, catalog), 1),
        # with no failure to survive, recovery objectives do not apply
        "rto_minutes": math.nan
        if plan.spec.policy.survive == "none"
        else float(strat["rto_minutes"].max()),
        "rpo_minutes": math.nan
        if plan.spec.policy.survive == "none"
        else float(strat["rpo_minutes"].max()),
        "providers": ", ".join(plan.providers()),
        "regions": len(plan.regions()),
        # survived: no service down, every user group served, every dependency within budget
        "survives_single_region_failures": f"{int(sweeps['survived'].sum())}/{len(sweeps)}",
        "gap": None if plan.gap is None else round(plan.gap, 8),
        "status": plan.status,
    }


def compare(
    spec: AppSpec,
    catalog: Catalog,
    options: PlanOptions | None = None,
    names: list[str] | None = None,
) -> pd.DataFrame:
    """Plan the same app under each strategy; one row per strategy (infeasible ones say why)."""
    rows = []
    chosen = names or list(STRATEGIES)
    say = options.progress if options is not None else None
    for k, name in enumerate(chosen, start=1):
        if say is not None:
            say(f"strategy {k}/{len(chosen)}: {name} ({STRATEGIES[name].description})")
        try:
            plan = plan_with_strategy(spec, catalog, name, options)
            rows.append({"strategy": name, **summarize(plan, catalog)})
            if say is not None:
                say(f"strategy {name}: ${plan.objective:,.2f}/month, {plan.status}")
        except (InfeasibleError, NoPlanError) as exc:
            reason = exc.reasons[0] if isinstance(exc, InfeasibleError) else str(exc)
            rows.append(
                {"strategy": name, "usd_per_month": math.nan, "status": f"no plan: {reason}"}
            )
        except SolverError as exc:
            # one strategy's failed self-check must not cost the user the other rows; the row
            # says it is a bug, never a plan
            rows.append(
                {
                    "strategy": name,
                    "usd_per_month": math.nan,
                    "status": f"no plan: a bug in mcplan, please report it ({exc})",
                }
            )
    return pd.DataFrame(rows)


def frontier(
    spec: AppSpec, catalog: Catalog, x: str = "availability", options: PlanOptions | None = None
) -> pd.DataFrame:
    """Pareto frontier of cost against availability or latency, by re-solving with a tightened
    requirement (epsilon constraint): survival level for availability, the users' latency budget
    for latency. Every point is a verified plan; dominated points are dropped."""
    points = []
    if x == "availability":
        for survive in ("none", "zone", "region", "site", "provider"):
            try:
                plan = make_plan(
                    spec.with_policy(survive=survive), catalog, options or PlanOptions()
                )
            except (InfeasibleError, NoPlanError):
                continue
            a = plan_availability(plan, catalog)
            points.append(
                {
                    "requirement": f"survive {survive}",
                    "usd_per_month": plan.objective,
                    "availability_pct": 100 * a.availability,
                    "verified": plan.verification.ok,
                }
            )
        key, better = "availability_pct", "higher"
    elif x == "latency":
        if not spec.users:
            raise InputError("a latency frontier needs users with latency budgets in the spec")
        for factor in (3.0, 2.0, 1.5, 1.0, 0.75, 0.5, 0.35):
            users = tuple(
                u.model_copy(update={"max_latency_ms": u.max_latency_ms * factor})
                for u in spec.users
            )
            tightened = spec.model_copy(update={"users": users})
            tightened._source = spec.source
            try:
                plan = make_plan(tightened, catalog, options or PlanOptions())
            except (InfeasibleError, NoPlanError):
                continue
            points.append(
                {
                    "requirement": f"latency budgets x{factor:g}",
                    "usd_per_month": plan.objective,
                    "worst_latency_ms": worst_latency_ms(plan, catalog),
                    "verified": plan.verification.ok,
                }
            )
        key, better = "worst_latency_ms", "lower"
    else:
        raise InputError(f"unknown frontier axis `{x}`: use availability or latency")
    df = pd.DataFrame(points)
    if df.empty:
        return df
    df = df.sort_values(["usd_per_month", key], ascending=[True, better == "lower"], kind="stable")
    keep, best = [], None
    for _, row in df.iterrows():  # a point stays if it improves on every cheaper point
        v = row[key]
        if best is None or (v > best + 1e-12 if better == "higher" else v < best - 1e-12):
            keep.append(True)
            best = v
        else:
            keep.append(False)
    return df[keep].reset_index(drop=True)
