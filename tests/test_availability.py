"""Tests for planner.analysis.availability (reliability.md section 3, tests T3 and T10).

The engine is checked against an independent brute force written here from the model's
definition (enumerate every domain state and every replica state, no shared code), against the
closed-form formulas, and against Monte Carlo.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.analysis.availability import (
    AvailabilityInput,
    AvailabilityInputError,
    Replica,
    ServiceLayout,
    TooManyDomainsError,
    beta_parallel_unavailability,
    common_cause_domains,
    domain_unavailability_from_history,
    domain_unavailability_from_sla,
    exact_availability,
    k_of_n_unavailability,
    minutes_per_month,
    minutes_per_year,
    monte_carlo_availability,
    parallel_unavailability,
    series_unavailability,
    sla_to_unavailability,
)

PROPS = settings(max_examples=60, deadline=None)
prob = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
small_prob = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)

# reliability.md section 3 worked example: ELB, EC2, RDS, S3 (AWS SLAs, percent)
CHAIN_SLAS = {"elb": 99.99, "ec2": 99.99, "rds": 99.95, "s3": 99.9}
ROUTER_U = sla_to_unavailability(99.99)


def chain_u() -> float:
    return series_unavailability(sla_to_unavailability(x) for x in CHAIN_SLAS.values())


# --------------------------------------------------------------------------------------------
# An independent brute force of the engine's model
# --------------------------------------------------------------------------------------------


def brute_force(inp: AvailabilityInput) -> tuple[float, dict[str, float], dict[str, float]]:
    """(app U, own U per service, effective U per service) by enumerating everything."""
    domains = sorted(
        {d for s in inp.services for r in s.replicas for d in inp.region_domains[r.region]}
    )
    replicas = [(s.name, r) for s in inp.services for r in s.replicas]
    deps: dict[str, set[str]] = {s.name: set() for s in inp.services}
    for a, b in inp.dependencies:
        deps[a].add(b)

    def closure(name: str) -> set[str]:
        out, todo = {name}, [name]
        while todo:
            for nxt in deps[todo.pop()]:
                if nxt not in out:
                    out.add(nxt)
                    todo.append(nxt)
        return out

    closures = {s.name: closure(s.name) for s in inp.services}
    core = 0.0
    own = dict.fromkeys(deps, 0.0)
    eff = dict.fromkeys(deps, 0.0)
    for dstate in itertools.product((False, True), repeat=len(domains)):
        down = {d for d, x in zip(domains, dstate, strict=True) if x}
        p_d = math.prod(
            inp.domain_unavailability[d] if x else 1 - inp.domain_unavailability[d]
            for d, x in zip(domains, dstate, strict=True)
        )
        if p_d == 0:
            continue
        for rstate in itertools.product((False, True), repeat=len(replicas)):
            p = p_d * math.prod(
                r.unavailability if x else 1 - r.unavailability
                for (_, r), x in zip(replicas, rstate, strict=True)
            )
            if p == 0:
                continue
            cap = dict.fromkeys(deps, 0.0)
            for (name, r), failed in zip(replicas, rstate, strict=True):
                if not failed and not down & set(inp.region_domains[r.region]):
                    cap[name] += r.capacity_share
            up = {s.name: cap[s.name] >= s.required_share - 1e-9 for s in inp.services}
            for n in deps:
                own[n] += p * (not up[n])
                eff[n] += p * (not all(up[m] for m in closures[n]))
            core += p * (not all(up.values()))
    app = 1 - (1 - core) * (1 - inp.front_door_unavailability)
    return app, own, eff


@st.composite
def plans(draw: st.DrawFn, max_services: int = 3, max_replicas: int = 6) -> AvailabilityInput:
    """Small random plans: <= 3 regions over <= 2 providers, <= 6 replicas in all."""
    n_regions = draw(st.integers(1, 3))
    n_providers = draw(st.integers(1, 2))
    regions = [f"p{i % n_providers}/r{i}" for i in range(n_regions)]
    region_domains = {
        r: (f"region:{r}", f"provider:p{i % n_providers}") for i, r in enumerate(regions)
    }
    # certain domains (0 and 1) are mixed in on purpose: the engine handles them separately
    q = st.one_of(small_prob, st.sampled_from([0.0, 1.0]))
    domain_u = {d: draw(q) for doms in region_domains.values() for d in doms}
    n_services = draw(st.integers(1, max_services))
    budget = max_replicas
    services = []
    for s in range(n_services):
        k = draw(st.integers(1, max(1, min(3, budget - (n_services - s - 1)))))
        budget -= k
        reps = tuple(
            Replica(
                draw(st.sampled_from(regions)),
                draw(st.sampled_from([0.25, 0.5, 1.0, 0.3])),
                draw(st.one_of(small_prob, st.just(0.0))),
            )
            for _ in range(k)
        )
        services.append(ServiceLayout(f"s{s}", reps, draw(st.sampled_from([0.5, 1.0, 1.3]))))
    deps = [
        (f"s{i}", f"s{j}")
        for i in range(n_services)
        for j in range(i + 1, n_services)
        if draw(st.booleans())
    ]
    return AvailabilityInput(
        tuple(services), region_domains, domain_u, deps, draw(st.floats(0.0, 0.1))
    )


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-13) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# --------------------------------------------------------------------------------------------
# T10: the worked example, to the digits reliability.md prints
# --------------------------------------------------------------------------------------------


def test_worked_example_single_region_chain() -> None:
    a1 = 1 - chain_u()
    assert round(a1, 6) == 0.998301
    assert f"{100 * a1:.3f}" == "99.830"
    assert round(minutes_per_month(1 - a1), 1) == 73.4
    assert round(minutes_per_year(1 - a1) / 60, 1) == 14.9
    # within 1e-9 of the naive product, which is accurate at three nines
    assert abs(a1 - 0.9999 * 0.9999 * 0.9995 * 0.999) < 1e-12


def test_worked_example_two_regions_and_router() -> None:
    u1 = chain_u()
    a2 = 1 - parallel_unavailability([u1, u1])
    assert round(a2, 7) == 0.9999971
    assert f"{100 * a2:.5f}" == "99.99971"
    u = series_unavailability([1 - a2, ROUTER_U])
    assert f"{100 * (1 - u):.4f}" == "99.9897"
    assert round(minutes_per_month(u), 1) == 4.4


@pytest.mark.parametrize(
    ("beta", "a_before", "pct_after", "min_month"),
    [(0.05, 0.999912, "99.981", 8.1), (0.10, 0.999828, "99.973", 11.8)],
)
def test_worked_example_beta(
    beta: float, a_before: float, pct_after: str, min_month: float
) -> None:
    u1 = chain_u()
    ub = beta_parallel_unavailability(u1, 2, beta)
    assert round(1 - ub, 6) == a_before
    u = series_unavailability([ub, ROUTER_U])
    assert f"{100 * (1 - u):.3f}" == pct_after
    assert round(minutes_per_month(u), 1) == min_month
    # "a 10 % common-mode share costs ~2.6x the downtime of the naive independent estimate"
    if beta == 0.10:
        naive = series_unavailability([parallel_unavailability([u1, u1]), ROUTER_U])
        assert round(u / naive, 1) == 2.6


def test_engine_reproduces_worked_example() -> None:
    """The same three numbers from the plan engine rather than the formulas."""
    region = "aws/us-east-1"
    chain = AvailabilityInput(
        services=tuple(
            ServiceLayout(n, (Replica(region, 1.0, sla_to_unavailability(s)),))
            for n, s in CHAIN_SLAS.items()
        ),
        region_domains={region: ()},
        domain_unavailability={},
        dependencies=[("elb", "ec2"), ("ec2", "rds"), ("rds", "s3")],
    )
    r1 = exact_availability(chain)
    assert f"{100 * r1.availability:.3f}" == "99.830"
    assert r1.service_effective_unavailability["elb"] == pytest.approx(chain_u(), rel=1e-12)
    assert r1.service_effective_unavailability["s3"] == pytest.approx(1e-3, rel=1e-12)
    assert r1.service_unavailability["rds"] == pytest.approx(5e-4, rel=1e-12)

    # the whole regional stack as one domain per region, two regions, router in front
    u1 = chain_u()
    two = AvailabilityInput(
        services=(ServiceLayout("stack", (Replica("aws/a"), Replica("aws/b"))),),
        region_domains={"aws/a": ("region:a",), "aws/b": ("region:b",)},
        domain_unavailability={"region:a": u1, "region:b": u1},
        front_door_unavailability=ROUTER_U,
    )
    r2 = exact_availability(two)
    assert f"{100 * r2.availability:.4f}" == "99.9897"
    assert r2.domains_enumerated == 2

    cc = common_cause_domains("aws-regions", ["aws/a", "aws/b"], u1, 0.10)
    beta = AvailabilityInput(
        services=(ServiceLayout("stack", (Replica("aws/a"), Replica("aws/b"))),),
        region_domains=cc.region_domains,
        domain_unavailability=cc.domain_unavailability,
        front_door_unavailability=ROUTER_U,
    )
    r3 = exact_availability(beta)
    assert round(1 - r3.unavailability_without_front_door, 6) == 0.999828
    assert f"{100 * r3.availability:.3f}" == "99.973"


# --------------------------------------------------------------------------------------------
# T10: table-driven formula values
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("us", "expected"),
    [
        ([], 0.0),
        ([0.1], 0.1),
        ([0.1, 0.2], 1 - 0.9 * 0.8),
        ([1e-9] * 3, 3e-9 - 3e-18),
        ([1.0, 0.0], 1.0),
    ],
)
def test_series_table(us: list[float], expected: float) -> None:
    assert close(series_unavailability(us), expected, rel=1e-12)


def test_ms_learn_series_example() -> None:
    # App Service 99.95 % x SQL DB 99.99 % = 99.94 % (reliability.md F1)
    u = series_unavailability([sla_to_unavailability(99.95), sla_to_unavailability(99.99)])
    assert f"{100 * (1 - u):.2f}" == "99.94"


@pytest.mark.parametrize(
    ("k", "us", "expected"),
    [
        (0, [0.3, 0.3], 0.0),
        (1, [0.1, 0.2], 0.02),  # F2
        (2, [0.1, 0.2], 1 - 0.9 * 0.8),  # F1
        (3, [0.1, 0.2], 1.0),  # more needed than exist
        (2, [0.1] * 3, 3 * 0.9 * 0.1**2 + 0.1**3),  # F3: 2 of 3 identical
    ],
)
def test_k_of_n_table(k: int, us: list[float], expected: float) -> None:
    assert close(k_of_n_unavailability(k, us), expected, rel=1e-12)


def test_sla_and_history_conversions() -> None:
    assert sla_to_unavailability(99.99) == 1e-4  # exact, not 1.0000000000005e-4
    assert sla_to_unavailability(100) == 0.0
    assert sla_to_unavailability(0) == 1.0
    assert domain_unavailability_from_sla(99.95) == 5e-4
    assert domain_unavailability_from_history(8.76, 1.0) == pytest.approx(1e-3, rel=1e-12)
    assert domain_unavailability_from_history(0.0, 3.0) == 0.0
    assert minutes_per_month(1e-3) == pytest.approx(43.2)
    assert minutes_per_year(1e-3) == pytest.approx(525.6)
    for bad in (-1, 100.5, math.nan):
        with pytest.raises(ValueError, match="percentage"):
            sla_to_unavailability(bad)
    with pytest.raises(ValueError, match="cannot fit"):
        domain_unavailability_from_history(9000, 1)
    with pytest.raises(ValueError, match="years"):
        domain_unavailability_from_history(1, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        parallel_unavailability([0.5, 1.5])


# --------------------------------------------------------------------------------------------
# T10: properties of the formulas
# --------------------------------------------------------------------------------------------


@PROPS
@given(st.lists(prob, max_size=8), st.integers(0, 9))
def test_formula_results_are_probabilities(us: list[float], k: int) -> None:
    for v in (series_unavailability(us), parallel_unavailability(us), k_of_n_unavailability(k, us)):
        assert 0.0 <= v <= 1.0


@PROPS
@given(st.lists(prob, min_size=1, max_size=7), prob, st.integers(1, 7))
def test_redundancy_never_lowers_availability(us: list[float], extra: float, k: int) -> None:
    assert parallel_unavailability([*us, extra]) <= parallel_unavailability(us)
    assert k_of_n_unavailability(k, [*us, extra]) <= k_of_n_unavailability(k, us) * (1 + 1e-12)


@PROPS
@given(st.lists(prob, max_size=7), prob)
def test_series_dependency_never_raises_availability(us: list[float], extra: float) -> None:
    assert series_unavailability([*us, extra]) >= series_unavailability(us) * (1 - 1e-12)


@PROPS
@given(prob, st.integers(1, 6))
def test_beta_limits(u: float, n: int) -> None:
    assert close(beta_parallel_unavailability(u, n, 0.0), parallel_unavailability([u] * n), 1e-12)
    assert beta_parallel_unavailability(u, n, 1.0) == u
    for exact in (False, True):
        assert 0.0 <= beta_parallel_unavailability(u, n, 0.3, exact=exact) <= 1.0


@PROPS
@given(st.lists(prob, min_size=1, max_size=7), st.data())
def test_k_of_n_matches_brute_force(us: list[float], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(us) + 1))
    brute = 0.0
    for state in itertools.product((False, True), repeat=len(us)):  # True = up
        if sum(state) < k:
            brute += math.prod(1 - u if x else u for u, x in zip(us, state, strict=True))
    assert close(k_of_n_unavailability(k, us), brute, rel=1e-9, abs_=1e-15)


@PROPS
@given(st.floats(1e-12, 1e-4), st.floats(1e-12, 1e-4))
def test_no_precision_loss_at_many_nines(a: float, b: float) -> None:
    assert close(parallel_unavailability([a, b]), a * b, rel=1e-12, abs_=0)
    assert close(k_of_n_unavailability(1, [a, b]), a * b, rel=1e-9, abs_=0)
    # 1 - (1-a)(1-b) = a + b - ab, which the naive float form loses at these sizes
    assert close(series_unavailability([a, b]), a + b - a * b, rel=1e-12, abs_=0)


def test_no_precision_loss_at_1e_minus_12() -> None:
    assert close(parallel_unavailability([1e-6, 1e-6]), 1e-12, rel=1e-12, abs_=0)
    assert close(series_unavailability([1e-12]), 1e-12, rel=1e-12, abs_=0)
    inp = AvailabilityInput(
        services=(ServiceLayout("web", (Replica("a"), Replica("b"))),),
        region_domains={"a": ("region:a",), "b": ("region:b",)},
        domain_unavailability={"region:a": 1e-6, "region:b": 1e-6},
    )
    r = exact_availability(inp)
    assert close(r.unavailability, 1e-12, rel=1e-9, abs_=0)
    assert r.minutes_per_year == pytest.approx(1e-12 * 525_600, rel=1e-9)


# --------------------------------------------------------------------------------------------
# The plan engine
# --------------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(plans())
def test_engine_matches_brute_force(inp: AvailabilityInput) -> None:
    r = exact_availability(inp)
    app, own, eff = brute_force(inp)
    assert 0.0 <= r.unavailability <= 1.0
    assert r.availability == 1.0 - r.unavailability
    assert close(r.unavailability, app, rel=1e-9, abs_=1e-14)
    for name in own:
        assert close(r.service_unavailability[name], own[name], rel=1e-9, abs_=1e-14)
        assert close(r.service_effective_unavailability[name], eff[name], rel=1e-9, abs_=1e-14)
        # a service is never more available together with its dependencies than alone
        assert r.service_effective_unavailability[name] >= r.service_unavailability[name] - 1e-15


@PROPS
@given(plans(max_replicas=5), st.data())
def test_engine_redundant_replica_never_lowers_availability(
    inp: AvailabilityInput, data: st.DataObject
) -> None:
    before = exact_availability(inp)
    s = data.draw(st.integers(0, len(inp.services) - 1))
    extra = Replica(
        data.draw(st.sampled_from(sorted(inp.region_domains))),
        data.draw(st.sampled_from([0.25, 0.5, 1.0])),
        data.draw(small_prob),
    )
    svc = inp.services[s]
    services = list(inp.services)
    services[s] = ServiceLayout(svc.name, (*svc.replicas, extra), svc.required_share)
    after = exact_availability(
        AvailabilityInput(
            tuple(services),
            inp.region_domains,
            inp.domain_unavailability,
            inp.dependencies,
            inp.front_door_unavailability,
        )
    )
    assert after.unavailability <= before.unavailability * (1 + 1e-12) + 1e-15
    name = svc.name
    assert (
        after.service_unavailability[name]
        <= before.service_unavailability[name] * (1 + 1e-12) + 1e-15
    )


@PROPS
@given(plans(max_services=2, max_replicas=4), st.data())
def test_engine_series_dependency_never_raises_availability(
    inp: AvailabilityInput, data: st.DataObject
) -> None:
    before = exact_availability(inp)
    # a new service (in a random existing region) that a random existing service now needs
    caller = data.draw(st.sampled_from([s.name for s in inp.services]))
    region = data.draw(st.sampled_from(sorted(inp.region_domains)))
    new = ServiceLayout("new", (Replica(region, 1.0, data.draw(small_prob)),))
    after = exact_availability(
        AvailabilityInput(
            (*inp.services, new),
            inp.region_domains,
            inp.domain_unavailability,
            [*inp.dependencies, (caller, "new")],
            inp.front_door_unavailability,
        )
    )
    assert after.unavailability >= before.unavailability * (1 - 1e-12) - 1e-15
    for s in inp.services:
        assert (
            after.service_effective_unavailability[s.name]
            >= before.service_effective_unavailability[s.name] * (1 - 1e-12) - 1e-15
        )


def test_unequal_shares_k_of_n_with_one_region() -> None:
    """Shares 0.5, 0.3, 0.2 needing 0.7: up iff replica 0 is up with at least one other."""
    us = [0.1, 0.2, 0.3]
    shares = [0.5, 0.3, 0.2]
    inp = AvailabilityInput(
        services=(
            ServiceLayout(
                "db", tuple(Replica("r", c, u) for c, u in zip(shares, us, strict=True)), 0.7
            ),
        ),
        region_domains={"r": ()},
        domain_unavailability={},
    )
    # up sets with share >= 0.7: {0,1} 0.8, {0,2} 0.7, {0,1,2} 1.0
    a = 0.9 * 0.8 * 0.3 + 0.9 * 0.2 * 0.7 + 0.9 * 0.8 * 0.7
    assert close(exact_availability(inp).unavailability, 1 - a, rel=1e-12)


def test_shared_region_fails_services_together() -> None:
    """Two services in one region: app U is the region's, not the independent product's."""
    q = 1e-3
    inp = AvailabilityInput(
        services=(
            ServiceLayout("web", (Replica("aws/ap-northeast-2"),)),
            ServiceLayout("db", (Replica("aws/ap-northeast-2"),)),
        ),
        region_domains={"aws/ap-northeast-2": ("region:aws/ap-northeast-2",)},
        domain_unavailability={"region:aws/ap-northeast-2": q},
    )
    r = exact_availability(inp)
    assert close(r.unavailability, q, rel=1e-12)
    independent = series_unavailability([q, q])  # what an independence assumption would give
    assert not close(r.unavailability, independent, rel=1e-3)
    assert r.service_unavailability == {"web": pytest.approx(q), "db": pytest.approx(q)}


def test_provider_domain_correlates_regions() -> None:
    """Two regions of one provider are not independent: the provider domain caps redundancy."""
    regions = {"aws/a": ("region:a", "provider:aws"), "aws/b": ("region:b", "provider:aws")}
    dom = {"region:a": 1e-3, "region:b": 1e-3, "provider:aws": 1e-4}
    inp = AvailabilityInput(
        services=(ServiceLayout("web", (Replica("aws/a"), Replica("aws/b"))),),
        region_domains=regions,
        domain_unavailability=dom,
    )
    expected = series_unavailability([1e-4, parallel_unavailability([1e-3, 1e-3])])
    assert close(exact_availability(inp).unavailability, expected, rel=1e-12)


def test_exact_and_monte_carlo_agree() -> None:
    regions = {
        "aws/a": ("region:aws/a", "provider:aws"),
        "aws/b": ("region:aws/b", "provider:aws"),
        "gcp/c": ("region:gcp/c", "provider:gcp"),
    }
    dom = {
        "region:aws/a": 0.04,
        "region:aws/b": 0.03,
        "region:gcp/c": 0.05,
        "provider:aws": 0.01,
        "provider:gcp": 0.02,
    }
    inp = AvailabilityInput(
        services=(
            ServiceLayout(
                "web",
                (
                    Replica("aws/a", 0.5, 0.01),
                    Replica("aws/b", 0.5, 0.02),
                    Replica("gcp/c", 0.5, 0.01),
                ),
                1.0,
            ),
            ServiceLayout("db", (Replica("aws/a", 1.0, 0.02), Replica("gcp/c", 1.0, 0.03))),
            ServiceLayout("cache", (Replica("aws/b", 1.0, 0.05),)),
        ),
        region_domains=regions,
        domain_unavailability=dom,
        dependencies=[("web", "db"), ("web", "cache")],
        front_door_unavailability=0.005,
    )
    exact = exact_availability(inp)
    mc = monte_carlo_availability(inp, samples=300_000, seed=7)
    assert mc.method == "monte_carlo" and mc.samples == 300_000
    assert mc.confidence_interval is not None
    lo, hi = mc.confidence_interval
    assert lo <= mc.unavailability <= hi
    assert lo <= exact.unavailability <= hi
    # per-service estimates within 5 binomial standard errors (no CI is reported for them)
    for name, u in exact.service_effective_unavailability.items():
        se = math.sqrt(u * (1 - u) / 300_000)
        assert abs(mc.service_effective_unavailability[name] - u) < 5 * se
    # deterministic for a seed
    again = monte_carlo_availability(inp, samples=300_000, seed=7)
    assert again == mc
    assert monte_carlo_availability(inp, samples=300_000, seed=8) != mc


# --------------------------------------------------------------------------------------------
# Common cause (beta) through the domain model; T3
# --------------------------------------------------------------------------------------------


@PROPS
@given(st.floats(0.0, 0.2), st.integers(1, 4), prob)
def test_common_cause_domains_agree_with_beta_formula(u: float, n: int, beta: float) -> None:
    zones = [f"gcp/europe-west9-{c}" for c in "abcd"[:n]]
    cc = common_cause_domains("gcp/europe-west9", zones, u, beta)
    inp = AvailabilityInput(
        services=(ServiceLayout("web", tuple(Replica(z) for z in zones)),),
        region_domains=cc.region_domains,
        domain_unavailability=cc.domain_unavailability,
    )
    engine = exact_availability(inp).unavailability
    assert close(engine, beta_parallel_unavailability(u, n, beta, exact=True), 1e-9, 1e-15)
    # F4 is the rare-event approximation: it differs by exactly beta*u*((1-beta)*u)^n
    f4 = beta_parallel_unavailability(u, n, beta)
    assert abs(f4 - engine) <= beta * u * ((1 - beta) * u) ** n + 1e-15


def test_zone_correlation_not_assumed_independent() -> None:
    """T3: europe-west9-style, all zones of one region can fail together."""
    zones = ["gcp/europe-west9-a", "gcp/europe-west9-b", "gcp/europe-west9-c"]
    u_zone = 1e-3

    def zonal(beta: float, region_wide: float = 0.0) -> float:
        cc = common_cause_domains(
            "gcp/europe-west9", zones, u_zone, beta, shared_domains=("region:gcp/europe-west9",)
        )
        inp = AvailabilityInput(
            # 2 of 3 zones needed (each sized at 50 %)
            services=(ServiceLayout("web", tuple(Replica(z, 0.5) for z in zones), 1.0),),
            region_domains=cc.region_domains,
            domain_unavailability=cc.domain_unavailability
            | {"region:gcp/europe-west9": region_wide},
        )
        return exact_availability(inp).unavailability

    independent = zonal(0.0)
    assert close(independent, k_of_n_unavailability(2, [u_zone] * 3), rel=1e-9)
    assert zonal(0.1) > independent
    assert zonal(0.1) > 10 * independent  # the common cause dominates at these numbers
    assert zonal(0.0, region_wide=1e-4) > independent
    assert zonal(0.0, region_wide=1.0) == 1.0  # the whole region burnt down: nothing survives


# --------------------------------------------------------------------------------------------
# Errors and limits
# --------------------------------------------------------------------------------------------


def _chain(n: int) -> tuple[ServiceLayout, ...]:
    return tuple(ServiceLayout(f"s{i}", (Replica("r"),)) for i in range(n))


def test_dependency_cycle_is_rejected() -> None:
    inp = AvailabilityInput(
        services=_chain(3),
        region_domains={"r": ()},
        domain_unavailability={},
        dependencies=[("s0", "s1"), ("s1", "s2"), ("s2", "s0")],
    )
    with pytest.raises(ValueError, match=r"cycle: s\d -> s\d -> s\d -> s\d") as err:
        exact_availability(inp)
    assert "DAG" in str(err.value)
    with pytest.raises(AvailabilityInputError, match="cycle"):
        monte_carlo_availability(inp, samples=10)


def test_self_dependency_is_a_cycle() -> None:
    inp = AvailabilityInput(_chain(1), {"r": ()}, {}, dependencies=[("s0", "s0")])
    with pytest.raises(ValueError, match="cycle: s0 -> s0"):
        exact_availability(inp)


def test_every_input_problem_is_listed_with_a_fix() -> None:
    inp = AvailabilityInput(
        services=(
            ServiceLayout("web", (Replica("aws/us-east-1", 1.0, 1.5), Replica("aws/us-eats-2"))),
            ServiceLayout("web", ()),
        ),
        region_domains={"aws/us-east-1": ("region:aws/us-east-1",), "aws/us-east-2": ()},
        domain_unavailability={"region:aws/us-east1": 1e-3},
        dependencies=[("web", "dbb")],
        front_door_unavailability=-0.1,
    )
    with pytest.raises(AvailabilityInputError) as err:
        exact_availability(inp)
    text = str(err.value)
    assert len(err.value.problems) == 7
    for needle in (
        "duplicate service name",
        "at least one replica",
        "unavailability: must be a probability",
        "did you mean `aws/us-east-2`",
        "did you mean `region:aws/us-east1`",
        "front_door_unavailability",
        "unknown service (got 'dbb')",
    ):
        assert needle in text, needle


def test_too_many_domains_for_exact() -> None:
    regions = {f"r{i}": (f"region:{i}",) for i in range(23)}
    inp = AvailabilityInput(
        services=(ServiceLayout("web", tuple(Replica(r, 0.1) for r in regions), 0.5),),
        region_domains=regions,
        domain_unavailability={f"region:{i}": 0.01 for i in range(23)},
    )
    with pytest.raises(TooManyDomainsError, match="D = 23.*monte_carlo_availability"):
        exact_availability(inp)
    # the suggested fallback works on the same input (23 replicas: beyond the exact engine too)
    mc = monte_carlo_availability(inp, samples=2_000, seed=1)
    assert mc.domains_enumerated == 23 and 0.0 <= mc.unavailability <= 1.0


def test_certain_domains_are_not_enumerated() -> None:
    """Domains with q of 0 or 1 do not count towards the limit and are handled exactly."""
    regions = {"a": ("region:a", "never"), "b": ("region:b", "always")}
    inp = AvailabilityInput(
        services=(ServiceLayout("web", (Replica("a"), Replica("b"))),),
        region_domains=regions,
        domain_unavailability={"region:a": 0.01, "region:b": 0.02, "never": 0.0, "always": 1.0},
    )
    r = exact_availability(inp)
    assert r.domains_enumerated == 1
    assert close(r.unavailability, 0.01, rel=1e-12)


def test_twenty_domains_enumerate_exactly() -> None:
    """16 regions over 4 providers (20 domains), 10 services of 4 half-size replicas each.
    (Its speed is measured in benchmarks/, not asserted here.)"""
    regions = {f"p{i % 4}/r{i}": (f"region:{i}", f"provider:p{i % 4}") for i in range(16)}
    dom = {f"region:{i}": 0.01 for i in range(16)} | {f"provider:p{i}": 1e-3 for i in range(4)}
    names = list(regions)
    services = tuple(
        ServiceLayout(
            f"s{j}", tuple(Replica(names[(j + k * 4) % 16], 0.5, 1e-3) for k in range(4)), 1.0
        )
        for j in range(10)
    )
    inp = AvailabilityInput(services, regions, dom, [(f"s{j}", f"s{j + 1}") for j in range(9)])
    r = exact_availability(inp)
    assert r.domains_enumerated == 20
    mc = monte_carlo_availability(inp, samples=200_000, seed=11)
    lo, hi = mc.confidence_interval
    assert lo <= r.unavailability <= hi
    assert 0.0 < r.unavailability < 1e-2
    assert r.service_effective_unavailability["s0"] == pytest.approx(
        r.unavailability_without_front_door, rel=1e-12
    )  # s0 needs every other service, so its closure is the whole app


# --------------------------------------------------------------------------------------------
# A plan's availability reads the failure function (issue 15, rule 7: one truth)
# --------------------------------------------------------------------------------------------
def _drawn_world():  # noqa: ANN202 - a Catalog
    """Provider pa in Seoul and Busan (and Daegu, which the plan leaves unused, so that losing
    the plan's pa regions is not losing pa), pb in Tokyo, a private site."""
    from planner.synthetic import SynthOffering, SynthRegion, make_catalog

    regions = [
        SynthRegion("pa", "seoul", zones=2, lat=37.55, lon=126.99),
        SynthRegion("pa", "busan", zones=2, lat=35.18, lon=129.08),
        SynthRegion("pa", "daegu", zones=2, lat=35.87, lon=128.6),
        SynthRegion("pb", "tokyo", jurisdiction="JP", zones=3, lat=35.68, lon=139.69),
        SynthRegion(
            "priv", "dc1", zones=1, lat=37.4, lon=127.1, private=True, vcpu_capacity=64,
            mem_gib_capacity=1e5, storage_gb_capacity=1e6,
        ),
    ]  # fmt: skip
    offerings = [
        o
        for region in ("pa/seoul", "pa/busan", "pa/daegu", "pb/tokyo")
        for o in (
            SynthOffering(region, "vm4", "compute.vm", 100, vcpu=4, mem_gib=16),
            SynthOffering(region, "vm2", "compute.vm", 50, vcpu=2, mem_gib=8),
            SynthOffering(region, "obj", "storage.object", 5, tier="PaaS", storage_gb=500),
        )
    ]
    offerings += [
        SynthOffering("priv/dc1", "flavor4", "compute.vm", 40, vcpu=4, mem_gib=16),
        SynthOffering("priv/dc1", "vol", "storage.block", 10, storage_gb=500),
        SynthOffering(
            "pa/seoul", "sso", "saas.identity", 30, tier="SaaS", users=100, scope="global"
        ),
    ]
    return make_catalog(regions, offerings)


DRAWN = """
app: drawn
policy: {survive: region}
users:
  - {name: seoul, lat: 37.5, lon: 127.0, share: 1.0, max_latency_ms: 40}
services:
  - {name: web, category: compute.vm, tiers: [IaaS], demand: {vcpu: 8}, user_facing: true}
  - {name: api, category: compute.vm, tiers: [IaaS], demand: {vcpu: 8}, dr: warm_standby}
  - {name: ledger, category: db.relational, tiers: [IaaS], demand: {vcpu: 4}, stateful: true}
  - {name: docs, category: storage.block, tiers: [IaaS], demand: {storage_gb: 400},
     dr: backup_restore}
  - {name: login, category: saas.identity, tiers: [SaaS], demand: {users: 50}}
dependencies:
  - {from: web, to: api}
  - {from: api, to: ledger}
"""
DRAWN_ROWS = [
    ("web", "pa/seoul/vm4", 1, "active"),
    ("web", "pa/busan/vm4", 1, "active"),
    ("web", "pb/tokyo/vm4", 1, "active"),
    # warm standby on a private site and in Busan: it must grow back into Busan, so it is up
    # while Busan runs it, whatever the site holds (not a threshold on capacity shares)
    ("api", "priv/dc1/flavor4", 1, "primary"),
    ("api", "pa/busan/vm4", 1, "standby"),
    # a single writer: only Seoul can hold its primary (again not a threshold)
    ("ledger", "pa/seoul/vm4", 1, "primary"),
    ("ledger", "pa/busan/vm2", 1, "standby"),
    ("ledger", "pb/tokyo/vm2", 1, "standby"),
    ("docs", "priv/dc1/vol", 1, "primary"),
    ("docs", "pb/tokyo/obj", 1, "backup"),
    ("login", "pa/seoul/sso", 1, "active"),
]


def _drawn_plan(catalog):  # noqa: ANN001, ANN202
    import pandas as pd

    from planner.catalog.columns import RESOURCES
    from planner.plan import PLACEMENT_COLUMNS, Plan, egress_for, fees_for
    from planner.spec import spec_from_text

    rows = []
    for service, offering, units, role in DRAWN_ROWS:
        o = catalog.offerings.loc[offering]
        rows.append(
            {
                **{k: o[k] for k in ("provider", "region", "sku", "category", "tier")},
                "service": service,
                "offering": offering,
                "role": role,
                "units": units,
                **{r: float(o[r]) for r in RESOURCES},
                "usd_per_unit_month": float(o["usd_per_month"]),
                "usd_per_month": float(o["usd_per_month"]) * units,
            }
        )
    p = pd.DataFrame(rows, columns=PLACEMENT_COLUMNS)
    spec = spec_from_text(DRAWN, "drawn.yaml")
    strategies = {"web": "active_active", "api": "warm_standby", "ledger": "active_active",
                  "docs": "backup_restore", "login": "active_active"}  # fmt: skip
    flows = egress_for(p, spec, catalog)
    field = "traffic" if "traffic" in Plan.__dataclass_fields__ else "egress"
    fees = fees_for(p, catalog)
    return Plan(spec=spec, placements=p, strategies=strategies, fees=fees, **{field: flows})


def test_the_engine_reads_whether_a_service_is_up_from_the_failure_function() -> None:
    """For every state of the plan's region and provider domains, the engine's input says a
    service is up (its replicas up hold the required share) exactly when the failure function
    says its own rules hold with the regions of that state lost (ok or degraded)."""
    from planner.analysis.availability_compile import below_required
    from planner.analysis.failure import RECOVERING, FailureTables, batch_of, evaluate
    from planner.analysis.plan_availability import plan_layout

    catalog = _drawn_world()
    plan = _drawn_plan(catalog)
    layout = plan_layout(plan, catalog)
    # the services whose up-ness is no threshold on capacity shares are read as sets of regions
    shapes = {s.name: [r.region for r in s.replicas] for s in layout.services}
    assert shapes["ledger"] == ["ledger: pa/seoul"]
    assert shapes["api"] == ["api: pa/busan"]
    assert shapes["login"] == ["pa (global)"]
    t = FailureTables.build(plan, catalog)
    regions = catalog.regions
    domains = sorted(set(layout.domain_unavailability))
    states = list(itertools.product((False, True), repeat=len(domains)))
    names, lost = [], []
    for state in states:
        down = {d for d, x in zip(domains, state, strict=True) if x}
        gone = {r for r in t.regions if f"region:{r}" in down}
        for d in down:
            if d.startswith("provider:"):  # a provider down loses every region it has
                gone |= set(regions.index[regions["provider"] == d.removeprefix("provider:")])
        names.append(", ".join(sorted(down)))
        lost.append(gone)
    ev = evaluate(t, batch_of(t, catalog, names, lost))
    for k, state in enumerate(states):
        down = {d for d, x in zip(domains, state, strict=True) if x}
        for j, service in enumerate(layout.services):
            held = sum(
                r.capacity_share
                for r in service.replicas
                if not set(layout.region_domains[r.region]) & down
            )
            engine_up = not below_required(held, service.required_share)
            assert engine_up == (ev.own_status[k, j] < RECOVERING), (service.name, names[k])
    assert (ev.own_status >= RECOVERING).any() and (ev.own_status < RECOVERING).any()
