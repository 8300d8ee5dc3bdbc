"""A resilience compliance view, the way AWS Resilience Hub reports one: for each kind of failure
(zone, region, data centre, provider), every single failure of that kind among the plan's regions
is evaluated; the worst case gives the achieved RTO and RPO, which are set against the spec's
targets, with the demand-weighted shortfall and pass or fail.

Pure: no Streamlit. Reads the library's failure evaluation (the one the sweep and the verifier
use) and the catalog's recovery figures of each DR strategy; adds no model of its own.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from planner.analysis.failure import (
    DOWN,
    OK,
    RECOVERING,
    FailureTables,
    evaluate,
    failures_of_kind,
)
from planner.catalog import Catalog
from planner.plan import Plan

KINDS = ("zone", "region", "site", "provider")
# what each survival policy promises to outlive (a data centre is a kind of region for the
# policy `site`, and a provider outage takes its regions with it)
REQUIRED = {
    "none": (),
    "zone": ("zone",),
    "region": ("zone", "region"),
    "site": ("zone", "region", "site"),
    "provider": ("zone", "region", "site", "provider"),
}


def service_weights(plan: Plan) -> pd.Series:
    """Each service's weight in the shortfall: its share of the plan's running (non-backup)
    monthly cost, so that a large service short by 10% counts more than a small one. Services
    demand different resources (vCPU, storage, requests), so their own units cannot be added."""
    p = plan.placements
    cost = p[p["role"] != "backup"].groupby("service")["usd_per_month"].sum()
    names = [s.name for s in plan.spec.services]
    cost = cost.reindex(names).fillna(0.0)
    total = float(cost.sum())
    if total <= 0:
        return pd.Series(1.0 / max(len(names), 1), index=names)
    return cost / total


def _strictest(values: list[float | None]) -> float | None:
    given = [v for v in values if v is not None]
    return min(given) if given else None


def compliance(plan: Plan, catalog: Catalog) -> pd.DataFrame:
    """One row per kind of failure: scenarios evaluated, whether the policy requires surviving
    it, the worst services down, the worst demand-weighted shortfall (%), the achieved RTO and
    RPO in minutes (inf: a service stays down until the failed place returns), the spec's
    strictest targets, and `passed` (None where the kind has no failure among the plan's
    regions)."""
    tables = FailureTables.build(plan, catalog)
    weights = service_weights(plan).reindex(tables.services).fillna(0.0).to_numpy()
    strategies = catalog.strategies
    rto = np.array(
        [float(strategies.at[plan.strategies[s], "rto_minutes"]) for s in tables.services]
    )
    rpo = np.array(
        [float(strategies.at[plan.strategies[s], "rpo_minutes"]) for s in tables.services]
    )
    target_rto = _strictest([s.rto_minutes for s in plan.spec.services])
    target_rpo = _strictest([s.rpo_minutes for s in plan.spec.services])
    required = REQUIRED.get(plan.spec.policy.survive, ())
    demand = tables.demand[np.arange(len(tables.services)), tables.main]
    rows = []
    for kind in KINDS:
        batch = failures_of_kind(tables, catalog, kind)
        row: dict[str, object] = {
            "failure_kind": kind,
            "required": kind in required,
            "scenarios": len(batch),
            "target_rto_minutes": target_rto,
            "target_rpo_minutes": target_rpo,
        }
        if len(batch) == 0:
            row.update(
                services_down=0,
                weighted_shortfall_pct=0.0,
                achieved_rto_minutes=0.0,
                achieved_rpo_minutes=0.0,
                passed=None,
            )
            rows.append(row)
            continue
        ev = evaluate(tables, batch)
        status = ev.status
        down = status == DOWN
        short = np.clip(demand[None, :] - ev.main_left, 0, None) / np.where(demand > 0, demand, 1)
        short = np.where(down | (status == RECOVERING), 1.0, short)
        weighted = 100 * (short * weights[None, :]).sum(axis=1)
        affected = status != OK
        # a service that is down waits for the failed place to return: no recovery time bounds it
        worst_rto = np.where(down, math.inf, np.where(affected, rto[None, :], 0.0)).max()
        worst_rpo = np.where(down, math.inf, np.where(affected, rpo[None, :], 0.0)).max()
        unserved = ~ev.groups_ok.reshape(len(batch), -1)
        survived = (
            ~down.any(axis=1) & ~unserved.any(axis=1) & (ev.dependencies_out.sum(axis=1) == 0)
        )
        meets = bool(survived.all())
        if target_rto is not None:
            meets = meets and worst_rto <= target_rto
        if target_rpo is not None:
            meets = meets and worst_rpo <= target_rpo
        row.update(
            services_down=int(down.sum(axis=1).max()),
            weighted_shortfall_pct=float(weighted.max()),
            achieved_rto_minutes=float(worst_rto),
            achieved_rpo_minutes=float(worst_rpo),
            passed=meets,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def weighted_shortfall(plan: Plan, catalog: Catalog, kind: str) -> pd.Series:
    """The demand-weighted shortfall (%) of every single failure of `kind`, in the sweep's
    order: each service's share of demand left unmet, weighted by `service_weights`."""
    tables = FailureTables.build(plan, catalog)
    weights = service_weights(plan).reindex(tables.services).fillna(0.0).to_numpy()
    batch = failures_of_kind(tables, catalog, kind)
    if len(batch) == 0:
        return pd.Series(dtype=float)
    ev = evaluate(tables, batch)
    demand = tables.demand[np.arange(len(tables.services)), tables.main]
    short = np.clip(demand[None, :] - ev.main_left, 0, None) / np.where(demand > 0, demand, 1)
    short = np.where((ev.status == DOWN) | (ev.status == RECOVERING), 1.0, short)
    return pd.Series(100 * (short * weights[None, :]).sum(axis=1), index=batch.names)
