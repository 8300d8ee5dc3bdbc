"""Repair a plan after a failure, and price getting there.

:func:`replan` takes a plan, the catalog and a :class:`~.whatif_failures.Failure` and returns a
:class:`Replan`: the failure's impact, a new plan made without the failed regions (under the
same policy if it still holds, else surviving nothing until they return; None when no plan
exists at all), the migration each new region needs (data copied from the cheapest surviving
copy or a backup, its egress, the hours at the given bandwidth, live or cold) and the cost before
and after. It is the only part of what-if that plans, so it alone imports the optimiser, and only
when it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..catalog import Catalog
from ..errors import InputError
from .whatif_failures import Failure
from .whatif_impact import FailureImpact, evaluate_failure

if TYPE_CHECKING:  # planning is imported when replan runs: the rest of what-if does not need it
    from ..optimize import PlanOptions
    from ..plan import Plan

_MIGRATION_COLUMNS = ["service", "from_region", "to_region", "gb", "usd", "hours", "mode"]


@dataclass
class Replan:
    impact: FailureImpact
    plan: Plan | None  # the repaired plan; None when no plan exists without the failed regions
    migration: pd.DataFrame  # service, from_region, to_region, gb, usd, hours, mode
    cost_before: float
    cost_after: float
    policy_note: str = ""

    @property
    def cost_delta(self) -> float:
        return self.cost_after - self.cost_before


def _plan_without(
    plan: Plan, catalog: Catalog, failure: Failure, options: PlanOptions | None
) -> tuple[Plan | None, str]:
    """A plan without the failed regions, under the same policy if it still can hold, else
    surviving none; with a note when the policy was weakened, or why no plan exists (None)."""
    from ..errors import InfeasibleError
    from ..optimize import PlanOptions, make_plan

    spec = plan.spec
    excluded = tuple(sorted(set(spec.policy.exclude_regions) | failure.regions))
    new_spec = spec.with_policy(exclude_regions=excluded)
    opts = options or PlanOptions()
    try:
        return make_plan(new_spec, catalog, opts), ""
    except InfeasibleError as exc:
        weaker = new_spec.with_policy(survive="none")
        try:
            new = make_plan(weaker, catalog, opts)
        except InfeasibleError as exc2:
            return None, (
                "no repaired plan exists without the failed regions: " + "; ".join(exc2.reasons[:3])
            )
        return new, (
            "the policy `survive: "
            + spec.policy.survive
            + "` cannot hold without the failed regions ("
            + "; ".join(exc.reasons[:2])
            + "); the repaired plan survives nothing until they return"
        )


def _migration(
    plan: Plan,
    new: Plan,
    impact: FailureImpact,
    catalog: Catalog,
    failure: Failure,
    bandwidth_gbps: float,
) -> pd.DataFrame:
    """What each service must copy into the regions it newly runs in, from where, at what price
    and in how long; live when the service kept running, cold when it went down."""
    old = plan.placements
    rows = []
    status = dict(zip(impact.services["service"], impact.services["status"], strict=True))
    for svc in plan.spec.services:
        before = set(old.loc[old["service"] == svc.name, "region"])
        after = set(new.placements.loc[new.placements["service"] == svc.name, "region"])
        gb = svc.demand.storage_gb
        sources = before - failure.regions
        mode = "live" if status[svc.name] != "down" else "cold"
        for r in sorted(after - before):
            if gb > 0 and sources:
                rate, src = min((catalog.egress_rate(s, r), s) for s in sorted(sources))
            elif gb > 0:
                rate, src = 0.0, "(no surviving copy: restore from backup or lose data)"
            else:
                rate, src = 0.0, "-"
            rows.append(
                {
                    "service": svc.name,
                    "from_region": src,
                    "to_region": r,
                    "gb": gb,
                    "usd": gb * rate,
                    "hours": gb * 8 / (bandwidth_gbps * 3600),
                    "mode": mode,
                }
            )
    return pd.DataFrame(rows, columns=_MIGRATION_COLUMNS)


def replan(
    plan: Plan,
    catalog: Catalog,
    failure: Failure,
    options: PlanOptions | None = None,
    bandwidth_gbps: float = 1.0,
) -> Replan:
    """Plan again without the failed regions (same policy if it still can hold, else survive none),
    and price getting there: data to copy into each new region from the cheapest surviving copy
    (or a backup), its egress, the time at `bandwidth_gbps`, and live versus cold migration."""
    if bandwidth_gbps <= 0:
        raise InputError("--bandwidth-gbps must be positive")
    impact = evaluate_failure(plan, catalog, failure)
    new, note = _plan_without(plan, catalog, failure, options)
    if new is None:
        empty = pd.DataFrame(columns=_MIGRATION_COLUMNS)
        return Replan(impact, None, empty, float(plan.cost["total"]), math.nan, note)
    migration = _migration(plan, new, impact, catalog, failure, bandwidth_gbps)
    return Replan(impact, new, migration, float(plan.cost["total"]), float(new.cost["total"]), note)
