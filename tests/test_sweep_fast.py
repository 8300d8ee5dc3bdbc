"""The array sweep agrees with a plain loop over the placements, failure by failure."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from planner.analysis.whatif import (
    compensated_sums,
    evaluate_failure,
    failure_from,
    sweep,
    sweep_tables,
)
from planner.errors import InputError, SpecError
from planner.optimize import make_plan
from planner.spec import load_spec
from planner.spec.model import Dependency, UserGroup
from tests.conftest import EXAMPLES

KINDS = ("region", "provider", "zone", "site")
MAIN = ("vcpu", "requests_m", "users", "lb", "mem_gib", "storage_gb")


def _reference_sweep(plan, catalog, kind: str) -> pd.DataFrame:
    """The sweep's rules written out one service, region and scenario at a time."""
    spec = plan.spec
    regions = sorted({row.region for row in plan.placements.itertuples()})
    info = catalog.regions

    if kind == "region":
        scenarios = [(f"region {r}", {r}, {}) for r in regions]
    elif kind in ("provider", "site"):
        groups: dict[str, set[str]] = {}
        for r in regions:
            groups.setdefault(info.at[r, kind], set()).add(r)
        scenarios = [(f"{kind} {g}", groups[g], {}) for g in sorted(groups)]
    else:
        scenarios = []
        for r in regions:
            zones = int(info.at[r, "zones"])
            scenarios.append(
                (f"zone of {r}", set(), {r: 1.0 / zones})
                if zones >= 2
                else (f"zone of {r}", {r}, {})
            )

    main, demand, required, capacity, full_copies = {}, {}, {}, {}, {}
    for svc in spec.services:
        wanted = {res: getattr(svc.demand, res) for res in MAIN}
        main[svc.name] = next(res for res in MAIN if wanted[res] > 0)
        demand[svc.name] = wanted[main[svc.name]]
        fraction = catalog.strategies.at[plan.strategies[svc.name], "compute_fraction"]
        required[svc.name] = fraction * demand[svc.name]
        capacity[svc.name] = {}
        stored: dict[str, float] = {}
        for row in plan.placements.itertuples():
            if row.service != svc.name:
                continue
            stored[row.region] = stored.get(row.region, 0.0) + row.storage_gb * row.units
            if row.role != "backup":
                amount = getattr(row, main[svc.name]) * row.units
                capacity[svc.name][row.region] = capacity[svc.name].get(row.region, 0.0) + amount
        full_copies[svc.name] = (
            {r for r, gb in stored.items() if gb >= wanted["storage_gb"] - 1e-9}
            if wanted["storage_gb"] > 0
            else None
        )

    callees: dict[str, set[str]] = {s.name: set() for s in spec.services}
    for d in spec.dependencies:
        callees[d.source].add(d.target)

    def needed(name: str) -> set[str]:
        out = {name}
        for callee in callees[name]:
            out |= needed(callee)
        return out

    rows = []
    for label, lost, zone_share in scenarios:
        own_down, own_recovering, alive = set(), set(), {}
        for svc in spec.services:
            s = svc.name
            alive[s] = sum(
                cap * (1.0 - zone_share.get(r, 0.0))
                for r, cap in capacity[s].items()
                if r not in lost
            )
            copy_left = full_copies[s] is not None and bool(full_copies[s] - lost)
            data_lost = full_copies[s] is not None and not copy_left
            too_little = alive[s] + 1e-9 < required[s]
            nothing_to_relaunch = required[s] <= 0 and alive[s] <= 0 and not copy_left
            if data_lost or too_little or nothing_to_relaunch:
                own_down.add(s)
            elif alive[s] <= 0:
                own_recovering.add(s)
        down = [s.name for s in spec.services if needed(s.name) & own_down]
        recovering = [
            s.name for s in spec.services if s.name not in down and needed(s.name) & own_recovering
        ]
        degraded = [
            s.name
            for s in spec.services
            if s.name not in down
            and s.name not in recovering
            and alive[s.name] + 1e-9 < demand[s.name]
        ]
        cut = 0
        for svc in spec.services:
            if not svc.user_facing:
                continue
            for group in spec.users:
                rtt = catalog.rtt_from_point_ms(group.lat, group.lon)
                reachable = any(
                    r not in lost and rtt[r] <= group.max_latency_ms
                    for r, cap in capacity[svc.name].items()
                    if cap > 0
                )
                if not reachable or svc.name in down or svc.name in recovering:
                    cut += 1
        # a budgeted dependency is out of budget when a surviving region of a caller that still
        # serves has no surviving region of the callee within the budget
        out_of_budget = 0
        for dep in spec.dependencies:
            if dep.max_latency_ms is None or dep.source in down or dep.source in recovering:
                continue
            callee_regions = [r for r in capacity[dep.target] if r not in lost]
            if any(
                not any(catalog.rtt_ms(r, t) <= dep.max_latency_ms + 1e-6 for t in callee_regions)
                for r in capacity[dep.source]
                if r not in lost
            ):
                out_of_budget += 1
        shortfall = [max(0.0, demand[s] - alive[s]) / demand[s] for s in alive]
        rows.append(
            {
                "scenario": label,
                "services_down": len(down),
                "services_recovering": len(recovering),
                "services_degraded": len(degraded),
                "demand_shortfall_pct": 100 * sum(shortfall) / len(shortfall),
                "users_affected": cut,
                "dependencies_out_of_budget": out_of_budget,
                "down": ", ".join(down),
                "recovering": ", ".join(recovering),
                "degraded": ", ".join(degraded),
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def kr_plan(catalog):
    return make_plan(load_spec(EXAMPLES / "kr-ecommerce.yaml"), catalog)


def _harder(plan):
    """The same placements with strategies that must relaunch, a dependency chain, more user
    groups and every service user-facing: every rule of the sweep has work to do."""
    out = copy.copy(plan)
    names = [s.name for s in plan.spec.services]
    relaunching = ("pilot_light", "backup_restore")
    out.strategies = {
        s.name: relaunching[i % 2] if s.demand.storage_gb > 0 else "warm_standby"
        for i, s in enumerate(plan.spec.services)
    }
    # each link of the chain has a latency budget of 5 ms (about a metro apart): some callers are
    # further than that from their callee, which counts wherever the caller still serves
    chain = tuple(
        Dependency(**{"from": a, "to": b, "max_latency_ms": 5})
        for a, b in zip(names, names[1:], strict=False)
    )
    groups = (
        *plan.spec.users,
        UserGroup(name="sydney", lat=-33.87, lon=151.21, share=0.1, max_latency_ms=150),
        UserGroup(name="busan", lat=35.18, lon=129.08, share=0.1, max_latency_ms=5),
    )
    out.spec = plan.spec.model_copy(
        update={
            "services": tuple(
                s.model_copy(update={"user_facing": True}) for s in plan.spec.services
            ),
            "dependencies": plan.spec.dependencies + chain,
            "users": groups,
        }
    )
    # the data rows of one region turn into backups: they keep the data but serve nothing
    p = out.placements
    to_backup = (p["region"] == max(plan.regions())).to_numpy() & (p["storage_gb"] > 0).to_numpy()
    out.placements = p.assign(role=np.where(to_backup, "backup", p["role"].to_numpy()))
    return out


def _assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    # sums are taken in another order here, so shares agree to rounding; all else exactly
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_sweep_matches_the_loop(kr_plan, catalog, kind: str) -> None:
    _assert_same(sweep(kr_plan, catalog, kind), _reference_sweep(kr_plan, catalog, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_sweep_matches_the_loop_on_the_harder_plan(kr_plan, catalog, kind: str) -> None:
    plan = _harder(kr_plan)
    _assert_same(sweep(plan, catalog, kind), _reference_sweep(plan, catalog, kind))


def test_the_harder_plan_reaches_every_rule(kr_plan, catalog) -> None:
    plan = _harder(kr_plan)
    both = pd.concat([_reference_sweep(plan, catalog, kind) for kind in KINDS])
    for measure in (
        "services_down",
        "services_recovering",
        "services_degraded",
        "users_affected",
        "dependencies_out_of_budget",
    ):
        assert both[measure].sum() > 0, measure
    # recovering spreads to callers whose own capacity is untouched
    assert (both["services_recovering"] > 1).any()


def test_prebuilt_tables_give_the_same_sweep(kr_plan, catalog) -> None:
    plan = _harder(kr_plan)
    tables = sweep_tables(plan, catalog)
    for kind in KINDS:
        pd.testing.assert_frame_equal(
            sweep(plan, catalog, kind, tables=tables), sweep(plan, catalog, kind)
        )


def test_sweep_refuses_unknown_kinds_and_dependency_cycles(kr_plan, catalog) -> None:
    with pytest.raises(InputError, match="unknown sweep kind `planet`"):
        sweep(kr_plan, catalog, "planet")
    a, b, c = (s.name for s in kr_plan.spec.services[:3])
    cyclic = copy.copy(kr_plan)
    # the cycle is b -> c -> b; a only calls into it, so it is not named as part of it
    cyclic.spec = kr_plan.spec.model_copy(
        update={
            "dependencies": (
                Dependency(**{"from": a, "to": b}),
                Dependency(**{"from": b, "to": c}),
                Dependency(**{"from": c, "to": b}),
            )
        }
    )
    failure = failure_from(catalog, regions=[kr_plan.regions()[0]])
    for run in (
        lambda: sweep(cyclic, catalog, "region"),
        lambda: evaluate_failure(cyclic, catalog, failure),
    ):
        with pytest.raises(SpecError) as caught:
            run()
        (problem,) = caught.value.problems
        assert problem.where == "dependencies"
        assert f"services {b}, {c} depend on each other in a cycle: {b} -> {c} -> {b}" in (
            problem.message
        )
        assert "(dependencies[1], dependencies[2])" in problem.message
        assert "remove one dependency of the cycle" in problem.fix


def test_data_sums_round_like_pandas() -> None:
    """Whether a region holds a full copy compares a sum with the demand: the sum must round as
    pandas' groupby sum does, which compensates (1e16 + 1 + 1 is not 1e16 there)."""
    rng = np.random.default_rng(7)
    values = rng.choice([1e16, 1.0, 0.1, 1 / 3, 2.5e-3], size=200) * rng.integers(1, 5, size=200)
    cells = rng.integers(0, 9, size=200)
    want = pd.Series(values).groupby(cells).sum().reindex(range(9), fill_value=0.0).to_numpy()
    np.testing.assert_array_equal(compensated_sums(cells, values, 9), want)
