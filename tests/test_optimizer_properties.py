"""Properties of the optimiser on generated instances small enough to enumerate.

The brute force below is written from the documented rules (docs/model.md), not from the model
builder: it enumerates every unit vector, keeps those that survive every failure of the policy,
and takes the cheapest. The optimiser must find exactly that cost, and every plan it returns must
pass the independent verifier.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.optimize import PlanOptions, make_plan
from planner.spec import spec_from_data
from planner.synthetic import SynthOffering, SynthRegion, make_catalog

FRACTION = {"active_active": 1.0, "warm_standby": 0.25}
RATES = {
    "same_region": 0.0,
    "same_continent": 0.02,
    "other_continent": 0.05,
    "other_provider": 0.09,
}


@st.composite
def instances(draw: st.DrawFn) -> dict:
    regions, offerings = [], []
    for p in range(draw(st.integers(1, 2))):
        for k in range(draw(st.integers(1, 2))):
            r = SynthRegion(
                f"p{p}",
                f"r{k}",
                continent=draw(st.sampled_from(["AS", "EU"])),
                jurisdiction=draw(st.sampled_from(["KR", "EU"])),
                zones=draw(st.integers(1, 3)),
            )
            regions.append(r)
            vcpu = draw(st.sampled_from([2.0, 4.0, 8.0]))
            price = vcpu * draw(st.integers(10, 40))
            offerings.append(
                SynthOffering(
                    f"{r.provider}/{r.code}", f"vm{int(vcpu)}", "compute.vm", price, vcpu=vcpu
                )
            )
    n_services = draw(st.integers(1, 2))
    services = []
    for j in range(n_services):
        svc = {
            "name": f"s{j}",
            "category": "compute.vm",
            "tiers": ["IaaS"],
            "demand": {"vcpu": draw(st.integers(1, 8))},
            "dr": draw(st.sampled_from(list(FRACTION))),
            "max_regions": draw(st.integers(1, 4)),
        }
        if draw(st.booleans()):
            svc["residency"] = [draw(st.sampled_from(sorted({r.jurisdiction for r in regions})))]
        services.append(svc)
    deps = []
    if n_services == 2 and draw(st.booleans()):
        deps.append({"from": "s0", "to": "s1", "gb_per_month": draw(st.integers(0, 800))})
    survive = draw(st.sampled_from(["none", "zone", "region", "provider"]))
    spec = {
        "app": "prop",
        "policy": {"survive": survive},
        "services": services,
        "dependencies": deps,
    }
    return {"regions": regions, "offerings": offerings, "spec": spec}


# prices far enough apart that equal-cost placements (which hide what a rule changes) are rare
PRICES = st.sampled_from([10, 13, 17, 22, 29, 40])


@st.composite
def latency_instances(draw: st.DrawFn) -> dict:
    """A caller on VMs and a database with a latency budget between them, over three or four
    regions of one continent that lie along a line about 150 km apart (planner.synthetic): a
    budget of 3 ms reaches only the same region, 8 ms the neighbours, 40 ms all. VMs and databases
    are priced apart, so the two services need not be placed alike."""
    regions = [
        SynthRegion(f"p{k % 2}", f"r{k // 2}", zones=draw(st.integers(1, 2)))
        for k in range(draw(st.integers(3, 4)))
    ]
    offerings = []
    for r in regions:
        rid = f"{r.provider}/{r.code}"
        offerings += [
            SynthOffering(rid, "vm4", "compute.vm", 4 * draw(PRICES), vcpu=4.0),
            SynthOffering(rid, "db4", "db.relational", 4 * draw(PRICES), tier="PaaS", vcpu=4.0),
        ]
    services = [
        {
            "name": name,
            "category": category,
            "tiers": [tier],
            "demand": {"vcpu": draw(st.integers(1, 8))},
            "dr": draw(st.sampled_from(list(FRACTION))),
            "max_regions": draw(st.integers(2, 4)),
        }
        for name, category, tier in (("s0", "compute.vm", "IaaS"), ("s1", "db.relational", "PaaS"))
    ]
    dep = {
        "from": "s0",
        "to": "s1",
        "gb_per_month": draw(st.integers(0, 800)),
        # the neighbours' budget twice as often: there, which regions survive a failure matters
        "max_latency_ms": draw(st.sampled_from([3.0, 8.0, 8.0, 40.0])),
    }
    survive = draw(st.sampled_from(["none", "zone", "region", "provider"]))
    spec = {
        "app": "prop",
        "policy": {"survive": survive},
        "services": services,
        "dependencies": [dep],
    }
    return {"regions": regions, "offerings": offerings, "spec": spec}


def _scenarios(survive: str, regions: list[SynthRegion]) -> list[tuple[set[str], str]]:
    ids = [f"{r.provider}/{r.code}" for r in regions]
    if survive == "none":
        return []
    if survive == "region":
        return [({i}, "") for i in ids]
    if survive == "provider":
        return [
            ({i for i, r in zip(ids, regions, strict=True) if r.provider == p}, "")
            for p in sorted({r.provider for r in regions})
        ]
    return [((set(), i) if r.zones >= 2 else ({i}, "")) for i, r in zip(ids, regions, strict=True)]


def brute_force(inst: dict) -> float:
    """Cheapest cost over every unit vector that meets the documented rules; inf if none."""
    regions, offerings, spec = inst["regions"], inst["offerings"], inst["spec"]
    region_of = {f"{r.provider}/{r.code}": r for r in regions}
    scen = _scenarios(spec["policy"]["survive"], regions)
    options = []  # per service: list of (units by offering, cost, regions present with capacity)
    for svc in spec["services"]:
        d = svc["demand"]["vcpu"]
        cand = [
            o
            for o in offerings
            if o.category == svc["category"]
            and ("residency" not in svc or region_of[o.region].jurisdiction in svc["residency"])
        ]
        # Search space: carrying the demand alone needs k units; under zone survival a multi-zone
        # region may need spares, so search up to 2k there (wider than any optimum needs).
        zone = spec["policy"]["survive"] == "zone"
        ranges = [
            range(
                0, (2 if zone and region_of[o.region].zones >= 2 else 1) * math.ceil(d / o.vcpu) + 1
            )
            for o in cand
        ]
        feasible = []
        for units in itertools.product(*ranges):
            cap = {o.region: n * o.vcpu for o, n in zip(cand, units, strict=True) if n}
            if sum(cap.values()) < d or len(cap) > svc.get("max_regions", 4):
                continue
            ok = True
            for lost, zone_region in scen:
                if not any(r in lost or r == zone_region for r in cap):
                    continue
                alive = 0.0
                for o, n in zip(cand, units, strict=True):
                    if not n or o.region in lost:
                        continue
                    z = region_of[o.region].zones
                    alive += (
                        (n - math.ceil(n / z)) * o.vcpu
                        if o.region == zone_region and z >= 2
                        else n * o.vcpu
                    )
                frac = FRACTION[svc["dr"]]
                if alive < frac * d - 1e-9:
                    ok = False
                    break
                still = {
                    o.region
                    for o, n in zip(cand, units, strict=True)
                    if n
                    and o.region not in lost
                    and not (
                        o.region == zone_region
                        and region_of[o.region].zones >= 2
                        and n - math.ceil(n / region_of[o.region].zones) <= 0
                    )
                }
                if frac < 1 and not still:
                    ok = False  # must grow back into a region where it still runs
                    break
            if ok:
                cost = sum(n * o.usd_per_month for o, n in zip(cand, units, strict=True))
                units_at = {o.region: n for o, n in zip(cand, units, strict=True) if n}
                feasible.append((cost, cap, units_at))
        options.append(feasible)
    rtt = make_catalog(regions, offerings).rtt_ms
    best = math.inf
    zones = {rid: r.zones for rid, r in region_of.items()}
    for combo in itertools.product(*options):
        if not _budgets_hold(spec["dependencies"], combo, scen, rtt, zones):
            continue
        total = sum(c for c, _cap, _units in combo)
        for dep in spec["dependencies"]:
            src = combo[int(dep["from"][1:])][1]
            dst = combo[int(dep["to"][1:])][1]
            d = spec["services"][int(dep["from"][1:])]["demand"]["vcpu"]
            # the declared volume, from the cheapest caller regions first, each region carrying
            # at most its share of the caller's capacity (docs/model.md section 5)
            price = {r: min(_rate(region_of[r], region_of[t]) for t in dst) for r in src}
            left = 1.0
            for r in sorted(src, key=lambda x: price[x]):
                take = min(left, src[r] / d)
                total += take * dep["gb_per_month"] * price[r]
                left -= take
        best = min(best, total)
    return best


def _budgets_hold(deps: list[dict], combo: tuple, scen: list, rtt: Any, zones: dict) -> bool:
    """Every region running a caller has a region running the callee within the budget, in
    normal operation and, from each caller region still running to the callee's regions still
    running, after each failure. A zone failure of a region with Z >= 2 zones leaves a service
    running there only if units remain: n - ceil(n / Z) > 0 (docs/model.md, the rules: 1)."""

    def running(units_at: dict, lost: set, zone: str) -> set:
        return {
            r
            for r, n in units_at.items()
            if r not in lost and (r != zone or n - math.ceil(n / zones[r]) > 0)
        }

    for dep in deps:
        budget = dep.get("max_latency_ms")
        if budget is None:
            continue
        src = combo[int(dep["from"][1:])][2]
        dst = combo[int(dep["to"][1:])][2]
        for lost, zone in [(set(), ""), *scen]:
            callees = running(dst, lost, zone)
            for r in running(src, lost, zone):
                if not any(rtt(r, t) <= budget for t in callees):
                    return False
    return True


def _rate(a: SynthRegion, b: SynthRegion) -> float:
    if (a.provider, a.code) == (b.provider, b.code):
        return RATES["same_region"]
    if a.provider != b.provider:
        return RATES["other_provider"]
    return RATES["same_continent"] if a.continent == b.continent else RATES["other_continent"]


def _solve(inst: dict, method: str = "decomposed", solver: str = "highs", **policy: object):
    spec_data = {**inst["spec"], "policy": {**inst["spec"]["policy"], **policy}}
    cat = make_catalog(inst["regions"], inst["offerings"])
    return make_plan(
        spec_from_data(spec_data, "generated"),
        cat,
        PlanOptions(method=method, solver=solver, gap=1e-9, time_limit=60),
    )


def _cost_or_inf(inst: dict, **kw: Any) -> float:
    from planner.errors import InfeasibleError

    try:
        plan = _solve(inst, **kw)
    except InfeasibleError:
        return math.inf
    assert plan.verification.ok, plan.verification.violations
    return plan.objective


@given(instances())
def test_optimum_matches_brute_force(inst: dict) -> None:
    """T4: the decomposed optimiser's cost equals exhaustive enumeration; infeasible iff none
    exists."""
    expected = brute_force(inst)
    got = _cost_or_inf(inst)
    if math.isinf(expected):
        assert math.isinf(got)
    else:
        assert got == pytest.approx(expected, rel=1e-7, abs=1e-6)


@settings(max_examples=30)
@given(latency_instances())
def test_optimum_matches_brute_force_with_latency_budgets(inst: dict) -> None:
    """The same with a dependency latency budget, which holds after each failure of the policy
    too (issue 15, rule 5): the brute force checks the documented rule, not the model's rows."""
    expected = brute_force(inst)
    got = _cost_or_inf(inst)
    if math.isinf(expected):
        assert math.isinf(got)
    else:
        assert got == pytest.approx(expected, rel=1e-7, abs=1e-6)


@settings(max_examples=25)
@given(instances())
def test_monolithic_matches_decomposed(inst: dict) -> None:
    """The reference single model and the default path agree on the optimum."""
    assert _cost_or_inf(inst, method="monolithic") == pytest.approx(
        _cost_or_inf(inst), rel=1e-7, abs=1e-6
    )


@settings(max_examples=25)
@given(instances())
def test_cost_never_drops_when_survival_tightens(inst: dict) -> None:
    """T12: none <= zone <= region <= provider (each policy's plans satisfy the weaker ones)."""
    costs = [_cost_or_inf(inst, survive=s) for s in ("none", "zone", "region", "provider")]
    for weaker, stronger in itertools.pairwise(costs):
        assert stronger >= weaker - 1e-6


@settings(max_examples=15)
@given(instances())
def test_highs_and_cbc_agree(inst: dict) -> None:
    """T6: both back-ends reach the same optimum on the same model."""
    a = _cost_or_inf(inst, method="monolithic", solver="highs")
    b = _cost_or_inf(inst, method="monolithic", solver="cbc")
    if math.isinf(a) or math.isinf(b):
        assert math.isinf(a) and math.isinf(b)
    else:
        assert b == pytest.approx(a, rel=2e-3, abs=1e-6)


@settings(max_examples=10)
@given(instances())
def test_same_input_same_plan(inst: dict) -> None:
    """T16: determinism, of the plan or of the explanation why there is none."""
    from planner.errors import InfeasibleError

    def outcome() -> tuple[str, object]:
        try:
            plan = _solve(inst)
        except InfeasibleError as exc:
            return "infeasible", (exc.reasons, exc.alternatives)
        cols = ["service", "offering", "units", "role"]
        return "plan", plan.placements[cols].to_dict("records")

    assert outcome() == outcome()


def test_brute_force_oracle_can_fail() -> None:
    """The oracle is not vacuous: a two-region instance needs both regions to survive a region
    loss."""
    inst: dict[str, Any] = {
        "regions": [SynthRegion("p0", "r0", zones=1), SynthRegion("p0", "r1", zones=1)],
        "offerings": [
            SynthOffering("p0/r0", "vm4", "compute.vm", 40.0, vcpu=4.0),
            SynthOffering("p0/r1", "vm4", "compute.vm", 50.0, vcpu=4.0),
        ],
        "spec": {
            "app": "x",
            "policy": {"survive": "region"},
            "dependencies": [],
            "services": [
                {
                    "name": "s0",
                    "category": "compute.vm",
                    "tiers": ["IaaS"],
                    "demand": {"vcpu": 4},
                    "dr": "active_active",
                }
            ],
        },
    }
    assert brute_force(inst) == pytest.approx(90.0)
    inst["spec"]["policy"]["survive"] = "none"
    assert brute_force(inst) == pytest.approx(40.0)
    assert _cost_or_inf(inst) == pytest.approx(40.0)
    assert np.isfinite(brute_force(inst))


@st.composite
def private_instances(draw: st.DrawFn) -> dict:
    """Small instances where a cheap private site is too small for everyone (the coupling the
    decomposition must repair, and the Lagrangian bound must stay below the optimum for)."""
    regions = [
        SynthRegion("p0", "r0", zones=1),
        SynthRegion("p0", "r1", zones=1),
        SynthRegion("p1", "r0", zones=1),
        SynthRegion(
            "priv",
            "site0",
            zones=1,
            private=True,
            vcpu_capacity=float(draw(st.sampled_from([4, 8, 12, 16]))),
            mem_gib_capacity=1e6,
            storage_gb_capacity=1e9,
        ),
    ]
    offerings = [
        SynthOffering(
            f"{r.provider}/{r.code}",
            "vm4",
            "compute.vm",
            float(draw(st.integers(60, 120))),
            vcpu=4.0,
        )
        for r in regions[:3]
    ]
    offerings.append(
        SynthOffering(
            "priv/site0", "flavor4", "compute.vm", float(draw(st.integers(10, 50))), vcpu=4.0
        )
    )
    services = [
        {
            "name": f"s{j}",
            "category": "compute.vm",
            "tiers": ["IaaS"],
            "demand": {"vcpu": draw(st.integers(1, 12))},
            "dr": "active_active",
        }
        for j in range(draw(st.integers(2, 4)))
    ]
    spec = {
        "app": "priv",
        "policy": {"survive": draw(st.sampled_from(["none", "region"]))},
        "services": services,
        "dependencies": [],
    }
    return {"regions": regions, "offerings": offerings, "spec": spec}


@settings(max_examples=20)
@given(private_instances())
def test_decomposed_bound_never_exceeds_the_optimum(inst: dict) -> None:
    """The reported lower bound (per-service and Lagrangian) is valid: at most the proven optimum
    of the single coupled model, and the plan is never cheaper than that optimum."""
    mono = _solve(inst, method="monolithic")  # feasible: the public regions have no capacity cap
    dec = _solve(inst)
    assert dec.verification.ok
    assert dec.bound is not None and dec.bound <= mono.objective + 1e-6
    assert dec.objective >= mono.objective - 1e-6


def test_lagrangian_bound_closes_the_gap_on_a_full_private_site() -> None:
    """Three services want an 8-vCPU private site (20/unit) over public VMs (100/unit): the
    per-service bound (80) ignores the cap; pricing private vCPU lifts the bound to the true
    optimum (240)."""
    regions = [
        SynthRegion("p0", "r0", zones=1),
        SynthRegion("p0", "r1", zones=1),
        SynthRegion("p1", "r0", zones=1),
        SynthRegion(
            "priv",
            "site0",
            zones=1,
            private=True,
            vcpu_capacity=8.0,
            mem_gib_capacity=1e6,
            storage_gb_capacity=1e9,
        ),
    ]
    offerings = [
        SynthOffering(f"{r.provider}/{r.code}", "vm4", "compute.vm", 100.0, vcpu=4.0)
        for r in regions[:3]
    ]
    offerings.append(SynthOffering("priv/site0", "flavor4", "compute.vm", 20.0, vcpu=4.0))
    spec = {
        "app": "t",
        "policy": {"survive": "none"},
        "dependencies": [],
        "services": [
            {"name": f"s{j}", "category": "compute.vm", "tiers": ["IaaS"], "demand": {"vcpu": v}}
            for j, v in enumerate([8, 4, 4])
        ],
    }
    inst = {"regions": regions, "offerings": offerings, "spec": spec}
    seen: list[str] = []
    plan = make_plan(
        spec_from_data(spec, "t"),
        make_catalog(regions, offerings),
        PlanOptions(gap=1e-9, progress=seen.append),
    )
    assert any("raises the lower bound" in m for m in seen)
    assert plan.objective == pytest.approx(240.0)
    assert plan.bound == pytest.approx(240.0)
    assert _cost_or_inf(inst, method="monolithic") == pytest.approx(240.0)


@st.composite
def provider_limit_instances(draw: st.DrawFn) -> dict:
    """Services on three providers of one or two regions each, linked by a dependency that pays
    traffic, under `max_providers` 1 or 2: the provider subsets (decomposed._repair_providers) and
    the pair bounds (decomposed._bound_pairs) are what the decomposed method adds here."""
    regions, offerings = [], []
    for p in range(3):
        for k in range(draw(st.integers(1, 2))):
            r = SynthRegion(f"p{p}", f"r{k}", continent=draw(st.sampled_from(["AS", "EU"])))
            regions.append(r)
            offerings.append(
                SynthOffering(f"p{p}/r{k}", "vm4", "compute.vm", 4.0 * draw(PRICES), vcpu=4.0)
            )
    services = [
        {
            "name": f"s{j}",
            "category": "compute.vm",
            "tiers": ["IaaS"],
            "demand": {"vcpu": draw(st.integers(1, 12))},
            "dr": draw(st.sampled_from(list(FRACTION))),
        }
        for j in range(draw(st.integers(2, 3)))
    ]
    deps = [
        {"from": "s0", "to": "s1", "gb_per_month": draw(st.integers(0, 4000))},
    ]
    spec = {
        "app": "providers",
        "policy": {
            "survive": draw(st.sampled_from(["none", "region", "provider"])),
            "max_providers": draw(st.integers(1, 2)),
        },
        "services": services,
        "dependencies": deps,
    }
    return {"regions": regions, "offerings": offerings, "spec": spec}


@settings(max_examples=25)
@given(provider_limit_instances())
def test_provider_limit_bound_is_valid_and_the_plan_optimal(inst: dict) -> None:
    """Under max_providers, the decomposed method's bound (the least provider-subset bound, pair
    bounds) never exceeds the proven optimum of the single coupled model, and its plan is that
    optimum; infeasible for one exactly when for the other."""
    from planner.errors import InfeasibleError

    mono = _cost_or_inf(inst, method="monolithic")
    try:
        dec = _solve(inst)
    except InfeasibleError:
        assert math.isinf(mono)
        return
    assert dec.verification.ok, dec.verification.violations
    assert dec.bound is not None and dec.bound <= mono + 1e-6
    assert dec.objective == pytest.approx(mono, rel=1e-7, abs=1e-6)


# Found by test_optimum_matches_brute_force_with_latency_budgets (hypothesis, dev profile): both
# methods returned a plan the verifier refused (a caller's running-after variable had no lower
# bound), so planning stopped with SolverError.
_ZONE_LATENCY_CASE = {
    "regions": [
        SynthRegion(
            provider="p0",
            code="r0",
            continent="AS",
            jurisdiction="KR",
            zones=1,
            lat=None,
            lon=None,
            private=False,
            vcpu_capacity=0.0,
            mem_gib_capacity=0.0,
            storage_gb_capacity=0.0,
        ),
        SynthRegion(
            provider="p1",
            code="r0",
            continent="AS",
            jurisdiction="KR",
            zones=1,
            lat=None,
            lon=None,
            private=False,
            vcpu_capacity=0.0,
            mem_gib_capacity=0.0,
            storage_gb_capacity=0.0,
        ),
        SynthRegion(
            provider="p0",
            code="r1",
            continent="AS",
            jurisdiction="KR",
            zones=2,
            lat=None,
            lon=None,
            private=False,
            vcpu_capacity=0.0,
            mem_gib_capacity=0.0,
            storage_gb_capacity=0.0,
        ),
    ],
    "offerings": [
        SynthOffering(
            region="p0/r0",
            sku="vm4",
            category="compute.vm",
            usd_per_month=40,
            tier="IaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
        SynthOffering(
            region="p0/r0",
            sku="db4",
            category="db.relational",
            usd_per_month=40,
            tier="PaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
        SynthOffering(
            region="p1/r0",
            sku="vm4",
            category="compute.vm",
            usd_per_month=40,
            tier="IaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
        SynthOffering(
            region="p1/r0",
            sku="db4",
            category="db.relational",
            usd_per_month=40,
            tier="PaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
        SynthOffering(
            region="p0/r1",
            sku="vm4",
            category="compute.vm",
            usd_per_month=40,
            tier="IaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
        SynthOffering(
            region="p0/r1",
            sku="db4",
            category="db.relational",
            usd_per_month=40,
            tier="PaaS",
            scope="regional",
            vcpu=4.0,
            mem_gib=0.0,
            storage_gb=0.0,
            requests_m=0.0,
            users=0.0,
            lb=0.0,
            fixed_usd_per_month=0.0,
            writers="",
        ),
    ],
    "spec": {
        "app": "prop",
        "policy": {"survive": "zone"},
        "services": [
            {
                "name": "s0",
                "category": "compute.vm",
                "tiers": ["IaaS"],
                "demand": {"vcpu": 5},
                "dr": "active_active",
                "max_regions": 2,
            },
            {
                "name": "s1",
                "category": "db.relational",
                "tiers": ["PaaS"],
                "demand": {"vcpu": 1},
                "dr": "active_active",
                "max_regions": 2,
            },
        ],
        "dependencies": [{"from": "s0", "to": "s1", "gb_per_month": 0, "max_latency_ms": 3.0}],
    },
}


def test_zone_failure_latency_case_plans() -> None:
    """A caller left running in a region after a zone failure keeps its callee within budget:
    the model once let the caller's "still runs" variable drop to 0 (it was bounded only from
    above), and its plan failed the verifier."""
    plans = [_solve(_ZONE_LATENCY_CASE, method=m) for m in ("decomposed", "monolithic")]
    for plan in plans:
        assert plan.verification.ok, plan.verification.violations
    assert plans[0].objective == pytest.approx(plans[1].objective, rel=1e-9)
