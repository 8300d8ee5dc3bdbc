"""What if a zone, region, site or provider fails (or a real incident replays)?

This is the front module: import from here. `failure_from` names a failure in the user's words;
`evaluate_failure` tells, for a plan, which services keep running, run degraded or go down (also
through their hard dependencies), the capacity shortfall, the users who lose their latency budget
and their new latency, the RTO/RPO each service's strategy gives, and the egress of failover
traffic. `sweep` evaluates every single failure of a kind at once with array arithmetic. `replan`
repairs the plan without the failed domains and prices the migration. Both `evaluate_failure` and
`sweep` read a failure through :func:`planner.analysis.failure.evaluate`, the function the
verifier and availability call too (docs/model.md, "The rules a plan must meet").

====================  ===========================================================================
``whatif_failures``   :class:`Failure` and :func:`failure_from`
``whatif_impact``     :func:`evaluate_failure`, one failure in readable tables
``whatif_sweep``      :func:`sweep`, :func:`sweep_tables`, :func:`compensated_sums`: every failure
                      of a kind at once
``failure``           the rules, evaluated for a batch of failures (shared with the verifier)
``whatif_replan``     :func:`replan`, the repaired plan and its migration
====================  ===========================================================================
"""

from __future__ import annotations

from .whatif_failures import Failure, failure_from
from .whatif_impact import FailureImpact, FailureSummary, evaluate_failure
from .whatif_replan import Replan, replan
from .whatif_sweep import SweepTables, compensated_sums, sweep, sweep_tables

__all__ = [
    "Failure",
    "FailureImpact",
    "FailureSummary",
    "Replan",
    "SweepTables",
    "compensated_sums",
    "evaluate_failure",
    "failure_from",
    "replan",
    "sweep",
    "sweep_tables",
]
