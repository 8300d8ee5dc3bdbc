"""The whole bill's traffic (issue 16): declared volumes, replies, writes to the primary,
replication of every copy, internet egress to user groups; and the independent check of it."""

from __future__ import annotations

import dataclasses

import pytest

from planner.analysis.verify import verify_plan
from planner.optimize import PlanOptions, make_plan
from planner.spec import spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog

OPTIONS = PlanOptions(time_limit=30)


def _catalog(internet: dict[str, float] | None = None):  # noqa: ANN202
    """Two providers with one region each; p1's compute is dearer. Egress: 0.09 to the internet,
    0.09 to another provider (synthetic defaults), unless `internet` overrides a region's."""
    regions = [SynthRegion("p0", "r0", zones=1), SynthRegion("p1", "r0", zones=1)]
    offerings = [
        SynthOffering("p0/r0", "vm4", "compute.vm", 100.0, vcpu=4.0),
        SynthOffering("p1/r0", "vm4", "compute.vm", 110.0, vcpu=4.0),
        SynthOffering("p0/r0", "db4", "db.relational", 200.0, tier="PaaS", vcpu=4.0),
        SynthOffering("p1/r0", "db4", "db.relational", 200.0, tier="PaaS", vcpu=4.0),
        SynthOffering("p0/r0", "disk", "storage.block", 1.0, storage_gb=100.0),
        SynthOffering("p1/r0", "disk", "storage.block", 1.0, storage_gb=100.0),
    ]
    cat = make_catalog(regions, offerings)
    if internet:
        reg = cat.regions.copy()
        for r, rate in internet.items():
            reg.loc[r, "internet_usd_per_gb"] = rate
        cat = dataclasses.replace(cat, regions=reg)
    return cat


def _spec(**web: object) -> dict:
    return {
        "app": "traffic",
        "policy": {"survive": "none"},
        "services": [
            {"name": "web", "category": "compute.vm", "demand": {"vcpu": 8}, **web},
        ],
    }


def test_growing_internet_traffic_moves_the_service_to_cheaper_egress() -> None:
    """At no traffic the cheaper compute wins; at 10 TB a month the cheaper internet egress does
    (p0: 200 + 10,000 x 0.12 = 1,400; p1: 220 + 10,000 x 0.05 = 720)."""
    cat = _catalog({"p0/r0": 0.12, "p1/r0": 0.05})
    quiet = make_plan(spec_from_data(_spec(), "t"), cat, OPTIONS)
    assert set(quiet.placements["region"]) == {"p0/r0"}
    busy = make_plan(spec_from_data(_spec(internet_gb_per_month=10_000), "t"), cat, OPTIONS)
    assert set(busy.placements["region"]) == {"p1/r0"}
    assert busy.cost["internet_egress"] == pytest.approx(500.0)
    assert busy.objective == pytest.approx(720.0)
    assert busy.verification.ok, busy.verification.violations


def test_dependency_traffic_is_billed_on_declared_volumes_both_ways() -> None:
    """api runs on p1 with twice its demand (16 vCPU for 8: the bill must not double), db on p0:
    the 1,000 GB of requests and the 3,000 GB of replies each cross providers at 0.09 a GB."""
    spec = {
        "app": "t",
        "policy": {"survive": "none"},
        "services": [
            {"name": "api", "category": "compute.vm", "demand": {"vcpu": 8}, "providers": ["p1"]},
            {"name": "db", "category": "db.relational", "demand": {"vcpu": 4}, "providers": ["p0"]},
        ],
        "dependencies": [
            {"from": "api", "to": "db", "gb_per_month": 1000, "reply_gb_per_month": 3000}
        ],
    }
    plan = make_plan(spec_from_data(spec, "t"), _catalog(), OPTIONS)
    assert plan.verification.ok, plan.verification.violations
    flows = plan.traffic
    assert flows.loc[flows["kind"] == "dependency", "gb_per_month"].sum() == pytest.approx(1000)
    replies = flows[flows["kind"] == "reply"]
    assert replies["gb_per_month"].sum() == pytest.approx(3000.0)
    assert set(replies["source_region"]) == {"p0/r0"}  # replies leave the callee
    assert plan.cost["dependency_traffic"] == pytest.approx(4000 * 0.09)


def test_writes_go_to_the_primary_and_every_copy_receives_them() -> None:
    """A single-writer db surviving a provider keeps a primary and a standby in the two providers:
    api's requests all go to the primary's region, and the standby's copy receives the 50 GB of
    writes a month across providers (0.09 a GB)."""
    spec = {
        "app": "t",
        "policy": {"survive": "provider"},
        "services": [
            {"name": "api", "category": "compute.vm", "demand": {"vcpu": 8}},
            {
                "name": "db",
                "category": "db.relational",
                "demand": {"vcpu": 4, "storage_gb": 100},
                "stateful": True,
                "write_gb_per_month": 50,
            },
        ],
        "dependencies": [{"from": "api", "to": "db", "gb_per_month": 1000}],
    }
    plan = make_plan(spec_from_data(spec, "t"), _catalog(), OPTIONS)
    assert plan.verification.ok, plan.verification.violations
    flows = plan.traffic
    requests = flows[flows["kind"] == "dependency"]
    assert requests["destination"].nunique() == 1
    rep = flows[flows["kind"] == "replication"]
    assert len(rep) == 1
    assert rep["gb_per_month"].iloc[0] == pytest.approx(50.0)
    assert rep["source_region"].iloc[0] == requests["destination"].iloc[0]  # from the primary
    assert plan.cost["replication"] == pytest.approx(4.5)
    lines = [k for k in plan.cost if k != "total"]
    assert sum(plan.cost[k] for k in lines) == pytest.approx(plan.cost["total"])


def test_internet_traffic_follows_each_groups_share_and_budget() -> None:
    """Two user groups each reach only their own region (1 ms budgets around far-apart regions):
    each group's share of the traffic leaves its own region, at that region's rate."""
    regions = [
        SynthRegion("p0", "r0", zones=1, lat=37.5, lon=127.0),
        SynthRegion("p0", "r1", zones=1, lat=35.2, lon=129.1),
    ]
    offerings = [
        SynthOffering("p0/r0", "vm4", "compute.vm", 100.0, vcpu=4.0),
        SynthOffering("p0/r1", "vm4", "compute.vm", 100.0, vcpu=4.0),
    ]
    cat = make_catalog(regions, offerings)
    reg = cat.regions.copy()
    reg.loc["p0/r1", "internet_usd_per_gb"] = 0.2
    cat = dataclasses.replace(cat, regions=reg)
    budget = max(cat.rtt_from_point_ms(37.5, 127.0)["p0/r0"], 1.0) + 0.5
    spec = _spec(user_facing=True, internet_gb_per_month=1000)
    spec["users"] = [
        {"name": "north", "lat": 37.5, "lon": 127.0, "share": 0.75, "max_latency_ms": budget},
        {"name": "south", "lat": 35.2, "lon": 129.1, "share": 0.25, "max_latency_ms": budget},
    ]
    plan = make_plan(spec_from_data(spec, "t"), cat, OPTIONS)
    assert plan.verification.ok, plan.verification.violations
    net = plan.traffic[plan.traffic["kind"] == "internet"].set_index("flow")
    assert net.at["north", "source_region"] == "p0/r0"
    assert net.at["south", "source_region"] == "p0/r1"
    assert net["gb_per_month"].to_dict() == pytest.approx({"north": 750.0, "south": 250.0})
    assert plan.cost["internet_egress"] == pytest.approx(750 * 0.09 + 250 * 0.2)


def test_the_verifier_catches_a_bill_that_leaves_traffic_out() -> None:
    cat = _catalog({"p0/r0": 0.12, "p1/r0": 0.05})
    plan = make_plan(spec_from_data(_spec(internet_gb_per_month=10_000), "t"), cat, OPTIONS)
    assert plan.verification.ok
    plan.traffic = plan.traffic.assign(gb_per_month=plan.traffic["gb_per_month"] / 2)
    report = verify_plan(plan, cat)
    assert not report.ok
    assert any("internet traffic" in v for v in report.violations), report.violations
