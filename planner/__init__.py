"""multicloud-planner: survivable, lowest-cost placement across public and private clouds.

The public API, in the order of a planning session (the CLI, the dashboard, the study executors
and the tests use these names; everything else is an implementation detail that may move):

    catalog = planner.load_catalog()                      # or load_catalog("my-catalog/")
    spec = planner.load_spec("examples/kr-ecommerce.yaml")
    plan = planner.make_plan(spec, catalog, planner.PlanOptions(time_limit=30))
    planner.verify_plan(plan, catalog).ok                 # the independent check, every scenario
    failure = planner.failure_from(catalog, regions=["aws/ap-northeast-2"])
    impact = planner.evaluate_failure(plan, catalog, failure)  # what that outage does
    table = planner.compare(spec, catalog)                # named strategies side by side

Names are imported on first use, so `import planner` stays cheap (the CLI's start-up and the
dashboard's first paint do not pay for PuLP, HiGHS or the solvers until they plan).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    # catalog and spec
    "Catalog": "planner.catalog",
    "load_catalog": "planner.catalog",
    "AppSpec": "planner.spec",
    "load_spec": "planner.spec",
    "spec_from_text": "planner.spec",
    "spec_from_data": "planner.spec",
    "check_against_catalog": "planner.spec",
    # planning
    "PlanOptions": "planner.optimize",
    "make_plan": "planner.optimize",
    "Plan": "planner.plan",
    "verify_plan": "planner.analysis.verify",
    # what-if
    "failure_from": "planner.analysis.whatif",
    "evaluate_failure": "planner.analysis.whatif",
    "sweep": "planner.analysis.whatif",
    "replan": "planner.analysis.whatif",
    "plan_availability": "planner.analysis.plan_availability",
    # strategies
    "STRATEGIES": "planner.strategies",
    "plan_with_strategy": "planner.strategies",
    "compare": "planner.strategies",
    "frontier": "planner.strategies",
    # reports
    "plan_to_dict": "planner.report",
    "plan_to_json": "planner.report",
    "plan_to_csv": "planner.report",
    "plan_to_text": "planner.report",
    # errors a caller may catch
    "PlannerError": "planner.errors",
    "InputError": "planner.errors",
    "SpecError": "planner.errors",
    "CatalogError": "planner.errors",
    "InfeasibleError": "planner.errors",
    "NoPlanError": "planner.errors",
    "SolverError": "planner.errors",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # the same names, for type checkers and editors (`x as x`: re-exported)
    from .analysis.plan_availability import plan_availability as plan_availability
    from .analysis.verify import verify_plan as verify_plan
    from .analysis.whatif import evaluate_failure as evaluate_failure
    from .analysis.whatif import failure_from as failure_from
    from .analysis.whatif import replan as replan
    from .analysis.whatif import sweep as sweep
    from .catalog import Catalog as Catalog
    from .catalog import load_catalog as load_catalog
    from .errors import CatalogError as CatalogError
    from .errors import InfeasibleError as InfeasibleError
    from .errors import InputError as InputError
    from .errors import NoPlanError as NoPlanError
    from .errors import PlannerError as PlannerError
    from .errors import SolverError as SolverError
    from .errors import SpecError as SpecError
    from .optimize import PlanOptions as PlanOptions
    from .optimize import make_plan as make_plan
    from .plan import Plan as Plan
    from .report import plan_to_csv as plan_to_csv
    from .report import plan_to_dict as plan_to_dict
    from .report import plan_to_json as plan_to_json
    from .report import plan_to_text as plan_to_text
    from .spec import AppSpec as AppSpec
    from .spec import check_against_catalog as check_against_catalog
    from .spec import load_spec as load_spec
    from .spec import spec_from_data as spec_from_data
    from .spec import spec_from_text as spec_from_text
    from .strategies import STRATEGIES as STRATEGIES
    from .strategies import compare as compare
    from .strategies import frontier as frontier
    from .strategies import plan_with_strategy as plan_with_strategy


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
