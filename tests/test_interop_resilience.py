"""A Resilience Hub-shaped resilience policy (planner.interop.resilience): its checks, its mapping
onto the planner's own fields, its application to spec data, and the compliance table of a plan
per disruption type."""

from __future__ import annotations

from typing import Any

import pytest

from planner import PlanOptions, make_plan
from planner.catalog import Catalog
from planner.errors import SpecError
from planner.interop.resilience import (
    COMPLIANCE_COLUMNS,
    apply_resilience_policy,
    compliance_table,
    parse_resilience_policy,
    policy_fields,
)
from planner.spec import check_against_catalog, spec_from_data

HUB = {
    "policyName": "shop-critical",
    "tier": "MissionCritical",
    "dataLocationConstraint": "SameCountry",
    "home": "KR",
    "policy": {
        "AZ": {"rtoInSecs": 300, "rpoInSecs": 60},
        "Region": {"rtoInSecs": 3600, "rpoInSecs": 900},
        "Software": {"rtoInSecs": 60, "rpoInSecs": 0},
    },
}

SPEC: dict[str, Any] = {
    "app": "resilient",
    "services": [
        {"name": "web", "category": "compute.vm", "demand": {"vcpu": 8, "mem_gib": 16}},
        {
            "name": "db",
            "category": "db.relational",
            "tiers": ["PaaS"],
            "stateful": True,
            "demand": {"vcpu": 2, "mem_gib": 8, "storage_gb": 100},
            "dr": "warm_standby",
        },
    ],
}


def test_mapping_takes_the_widest_type_and_the_strictest_targets() -> None:
    policy = parse_resilience_policy(HUB)
    assert policy.survive == "region"
    assert policy.ignored == ("Software",)
    fields = policy_fields(policy)
    assert fields.policy == {"survive": "region"}
    # 300 s and 60 s are the strictest of AZ and Region, in minutes
    assert fields.service_defaults == {
        "dr": "auto",
        "rto_minutes": 5.0,
        "rpo_minutes": 1.0,
        "residency": ["KR"],
    }
    provider = parse_resilience_policy(
        {"policy": {"Provider": {"rtoInSecs": 7200, "rpoInSecs": 3600}}}
    )
    assert provider.survive == "provider"
    assert policy_fields(provider).service_defaults == {
        "dr": "auto",
        "rto_minutes": 120.0,
        "rpo_minutes": 60.0,
    }


def test_same_continent_lists_the_continents_jurisdictions(catalog: Catalog) -> None:
    policy = parse_resilience_policy(
        {
            "dataLocationConstraint": "SameContinent",
            "home": "KR",
            "policy": {"Region": {"rtoInSecs": 3600, "rpoInSecs": 900}},
        }
    )
    residency = policy_fields(policy, catalog.regions).service_defaults["residency"]
    assert {"KR", "JP", "SG"} <= set(residency)
    assert not {"US", "EU", "BR"} & set(residency)
    with pytest.raises(SpecError, match="regions"):
        policy_fields(policy)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ("region", ""),
        ({"policy": {}}, "policy"),
        ({"policy": {"Zone": {"rtoInSecs": 1, "rpoInSecs": 1}}}, "policy.Zone"),
        ({"policy": {"AZ": {"rtoInSecs": -5, "rpoInSecs": 1}}}, "policy.AZ.rtoInSecs"),
        ({"policy": {"AZ": {"rtoInSecs": True, "rpoInSecs": 1}}}, "policy.AZ.rtoInSecs"),
        ({"policy": {"AZ": {"rto": 5, "rtoInSecs": 5, "rpoInSecs": 1}}}, "policy.AZ.rto"),
        ({"policy": {"Software": {"rtoInSecs": 5, "rpoInSecs": 1}}}, "policy"),
        (
            {
                "dataLocationConstraint": "SameCountry",
                "policy": {"AZ": {"rtoInSecs": 5, "rpoInSecs": 1}},
            },
            "home",
        ),
        (
            {
                "dataLocationConstraint": "Nearby",
                "policy": {"AZ": {"rtoInSecs": 5, "rpoInSecs": 1}},
            },
            "dataLocationConstraint",
        ),
        ({"polcy": {}, "policy": {"AZ": {"rtoInSecs": 5, "rpoInSecs": 1}}}, "polcy"),
    ],
)
def test_bad_policies_say_where_and_how(data: Any, path: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_resilience_policy(data)
    problems = caught.value.problems
    assert any(p.where == path for p in problems), [str(p) for p in problems]
    assert all(p.fix or p.value is not None or p.where == "" for p in problems)


def test_apply_keeps_what_services_set_themselves(catalog: Catalog) -> None:
    out = apply_resilience_policy(SPEC, HUB)
    assert out is not SPEC and "survive" not in (SPEC.get("policy") or {})  # pure
    assert out["policy"] == {"survive": "region"}
    web, db = out["services"]
    assert (web["dr"], web["rto_minutes"], web["rpo_minutes"]) == ("auto", 5.0, 1.0)
    assert db["dr"] == "warm_standby" and "rto_minutes" not in db  # its own choice stands
    assert web["residency"] == db["residency"] == ["KR"]
    spec = spec_from_data(out, "resilient.yaml")
    check_against_catalog(spec, catalog)


def test_apply_refuses_a_conflicting_survive() -> None:
    with pytest.raises(SpecError, match="survive"):
        apply_resilience_policy({**SPEC, "policy": {"survive": "provider"}}, HUB)
    same = apply_resilience_policy(
        {**SPEC, "policy": {"survive": "region", "max_providers": 2}}, HUB
    )
    assert same["policy"] == {"survive": "region", "max_providers": 2}


@pytest.fixture(scope="module")
def region_plan(catalog: Catalog) -> Any:
    """A small plan that survives a region but stays on one provider."""
    data = {**SPEC, "policy": {"survive": "region", "max_providers": 1}}
    data["services"] = [dict(s, residency=["KR"]) for s in SPEC["services"]]
    spec = spec_from_data(data, "plan")
    return make_plan(spec, catalog, PlanOptions(time_limit=20))


def test_compliance_passes_what_the_plan_was_built_for(region_plan: Any, catalog: Catalog) -> None:
    policy = parse_resilience_policy(
        {
            "dataLocationConstraint": "SameCountry",
            "home": "KR",
            "policy": {"Region": {"rtoInSecs": 3600, "rpoInSecs": 600}},
        }
    )
    table = compliance_table(region_plan, catalog, policy)
    assert list(table.columns) == COMPLIANCE_COLUMNS
    region = table.set_index("disruption").loc["Region"]
    assert region["survived"] and region["passed"]
    # warm standby (15 min, 1 min) is the slowest strategy of the plan
    assert region["achieved_rto_minutes"] == 15.0 and region["achieved_rpo_minutes"] == 1.0
    assert region["scenarios"] == len(region_plan.regions())
    location = table.iloc[-1]
    assert location["disruption"].startswith("data location") and location["passed"]


def test_compliance_fails_what_the_plan_cannot_meet(region_plan: Any, catalog: Catalog) -> None:
    policy = parse_resilience_policy(
        {
            "dataLocationConstraint": "SameCountry",
            "home": "JP",
            "policy": {
                "Region": {"rtoInSecs": 300, "rpoInSecs": 60},  # 5 min: warm standby is 15
                "Provider": {"rtoInSecs": 3600, "rpoInSecs": 900},  # one provider: not survived
            },
        }
    )
    table = compliance_table(region_plan, catalog, policy).set_index("disruption")
    assert table.loc["Region", "survived"] and not table.loc["Region", "passed"]
    assert "misses the target" in table.loc["Region", "note"]
    assert not table.loc["Provider", "survived"] and not table.loc["Provider", "passed"]
    assert table.loc["Provider", "note"].startswith("not survived")
    assert not table.iloc[-1]["passed"] and "KR" in table.iloc[-1]["note"]


def test_apply_names_the_spec_file_and_the_key(catalog: Catalog) -> None:
    bad = {"policy": {"Region": {"rtoInSecs": "an hour", "rpoInSecs": 60}}}
    with pytest.raises(SpecError) as caught:
        apply_resilience_policy(SPEC, bad, source="app.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.where) == (
        "app.yaml",
        "resilience_policy.policy.Region.rtoInSecs",
    )
    continent = {
        "dataLocationConstraint": "SameContinent",
        "home": "KR",
        "policy": {"Region": {"rtoInSecs": 3600, "rpoInSecs": 900}},
    }
    out = apply_resilience_policy(SPEC, continent)  # no regions given: the embedded catalog's
    assert set(out["services"][0]["residency"]) == set(
        policy_fields(parse_resilience_policy(continent), catalog.regions).service_defaults[
            "residency"
        ]
    )
