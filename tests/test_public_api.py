"""The public API in planner/__init__.py: every name resolves, importing it stays cheap, and a
planning session runs through it alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

import planner
from tests.conftest import EXAMPLES


def test_every_public_name_resolves() -> None:
    missing = [name for name in planner.__all__ if getattr(planner, name, None) is None]
    assert not missing
    assert set(dir(planner)) >= set(planner.__all__)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        planner.no_such_thing  # noqa: B018


def test_import_does_not_load_the_solvers() -> None:
    # The CLI's start-up and the dashboard's first paint import planner; PuLP and pandas come
    # only with the first name that needs them.
    heavy = "('pulp', 'highspy', 'pandas')"
    code = f"import sys, planner; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_session_through_the_public_api() -> None:
    catalog = planner.load_catalog()
    spec = planner.load_spec(EXAMPLES / "single-dc.yaml")
    plan = planner.make_plan(spec, catalog, planner.PlanOptions(time_limit=30))
    assert planner.verify_plan(plan, catalog).ok
    site = plan.regions()[0]
    impact = planner.evaluate_failure(plan, catalog, planner.failure_from(catalog, regions=[site]))
    # single-dc runs everything in one data centre: losing it takes every service down
    assert impact.summary["services_down"] == len(spec.services)
    assert '"schema_version"' in planner.plan_to_json(plan)


def test_errors_are_one_family() -> None:
    for name in ("InputError", "SpecError", "CatalogError", "InfeasibleError", "NoPlanError"):
        assert issubclass(getattr(planner, name), planner.PlannerError)
