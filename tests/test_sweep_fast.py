"""The array sweep agrees with a plain loop over the placements, failure by failure.

The loop below is the rules of docs/model.md ("The rules a plan must meet") written out one
service, row and scenario at a time, from the catalog, without the failure function's arrays:
running presence, alive units (a zone takes ceil(n/Z) of each row), capacity and data after a
failure, growth where the service still runs, the single writer's promotable region, user groups
by brute-force Hall's condition, dependency latency over running regions, SaaS by its scope.
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from planner.analysis.whatif import (
    Failure,
    compensated_sums,
    evaluate_failure,
    failure_from,
    sweep,
    sweep_tables,
)
from planner.catalog.columns import RESOURCES, SINGLE_WRITER_CATEGORIES
from planner.errors import InputError, SpecError
from planner.optimize import make_plan
from planner.plan import global_services
from planner.spec import load_spec
from planner.spec.model import Dependency, UserGroup
from tests.conftest import EXAMPLES

KINDS = ("region", "provider", "zone", "site")
MAIN = ("vcpu", "requests_m", "users", "lb", "mem_gib", "storage_gb")
TOL = 1e-6


def _scenarios(plan, catalog, kind: str) -> list[tuple[str, set[str], set[str]]]:
    """(name, regions lost, regions losing one zone) of every failure of `kind`."""
    regions = sorted({row.region for row in plan.placements.itertuples()})
    info = catalog.regions
    if kind == "region":
        return [(f"region {r}", {r}, set()) for r in regions]
    if kind in ("provider", "site"):
        groups: dict[str, set[str]] = {}
        for r in regions:
            groups.setdefault(info.at[r, kind], set()).add(r)
        if kind == "provider":  # a provider failure loses every region of the provider
            groups = {p: set(info.index[info["provider"] == p]) for p in groups}
        return [(f"{kind} {g}", groups[g], set()) for g in sorted(groups)]
    return [
        (f"zone of {r}", set(), {r})
        if int(info.at[r, "zones"]) >= 2
        else (f"zone of {r}", {r}, set())
        for r in regions
    ]


class _Service:
    """One service's rows read from the catalog, and its rules under one failure."""

    def __init__(self, svc, plan, catalog, everywhere: bool) -> None:
        self.svc = svc
        self.demand = {res: float(getattr(svc.demand, res)) for res in RESOURCES}
        self.main = next(res for res in MAIN if self.demand[res] > 0)
        st = catalog.strategies.loc[plan.strategies[svc.name]]
        self.alpha, self.beta = float(st["compute_fraction"]), float(st["data_fraction"])
        self.everywhere = everywhere
        off = catalog.offerings
        self.rows = []
        for row in plan.placements.itertuples():
            if row.service != svc.name:
                continue
            cap = {res: float(off.at[row.offering, res]) for res in RESOURCES}
            backup = row.role == "backup"
            self.rows.append(
                {
                    "region": row.region,
                    "provider": off.at[row.offering, "provider"],
                    "units": float(row.units),
                    "cap": cap,
                    "backup": backup,
                    "serving": not backup and cap[self.main] > 0,
                    "public": catalog.regions.at[row.region, "kind"] == "public",
                    "offering": row.offering,
                    "zones": int(catalog.regions.at[row.region, "zones"]),
                }
            )
        single = [
            bool(catalog.single_writer([r["offering"]])[0]) for r in self.rows if r["serving"]
        ]
        self.writer = svc.stateful and svc.category in SINGLE_WRITER_CATEGORIES and any(single)

    def alive(self, row, lost: set[str], zone: set[str], providers_lost: set[str]) -> float:
        n = row["units"]
        if self.everywhere:
            return 0.0 if row["provider"] in providers_lost else n
        if row["region"] in lost:
            return 0.0
        if row["region"] in zone and row["zones"] >= 2:
            return n - math.ceil(n / row["zones"] - 1e-9)
        return n

    def _own_down(self, pairs, held, data, serving, normal: bool) -> bool:
        """Rules 3 and 4 on the alive units (`pairs`: (alive units, row))."""
        alpha, beta = (1.0, 1.0) if normal else (self.alpha, self.beta)
        compute = [res for res in RESOURCES if res != "storage_gb" and self.demand[res] > 0]
        slack = {res: TOL * (1 + self.demand[res]) for res in RESOURCES}
        down = False
        for res in RESOURCES:
            have = data if res == "storage_gb" and not normal else held[res]
            need = (beta if res == "storage_gb" else alpha) * self.demand[res]
            down |= self.demand[res] > 0 and have < need - slack[res]
        if not normal and alpha < 1 and compute:
            running = {reg for reg, c in serving.items() if c[self.main] > 0}
            public = any(r["public"] and r["region"] in running for _, r in pairs)
            private = {res: 0.0 for res in compute}
            for a, r in pairs:
                if not r["backup"] and not r["public"]:
                    for res in compute:
                        private[res] += a * r["cap"][res]
            short = any(private[res] < self.demand[res] - slack[res] for res in compute)
            down |= not public and short
        if self.writer and compute and alpha > 0:
            promotable = [
                all(c[res] >= alpha * self.demand[res] - slack[res] for res in compute)
                for c in serving.values()
            ]
            down |= not any(promotable)
        return down

    def state(self, lost, zone, providers_lost, normal: bool = False) -> dict:
        """Own status ('ok', 'degraded', 'recovering', 'down'), main capacity left and the
        capacity of serving rows per region."""
        pairs = [(self.alive(r, lost, zone, providers_lost), r) for r in self.rows]
        touched = normal or any(a < r["units"] and r["units"] > 0 for a, r in pairs)
        held = dict.fromkeys(RESOURCES, 0.0)
        serving: dict[str, dict[str, float]] = {}
        for a, r in pairs:
            for res in RESOURCES:
                if not r["backup"]:
                    held[res] += a * r["cap"][res]
            if r["serving"]:
                here = serving.setdefault(r["region"], dict.fromkeys(RESOURCES, 0.0))
                for res in RESOURCES:
                    here[res] += a * r["cap"][res]
        data = sum(a * r["cap"]["storage_gb"] for a, r in pairs)
        main_left, d = held[self.main], self.demand[self.main]
        status = "ok"
        if touched and self._own_down(pairs, held, data, serving, normal):
            status = "down"
        elif touched and main_left <= 0:
            status = "recovering"
        elif touched and main_left < d - TOL * (1 + d):
            status = "degraded"
        return {
            "status": status,
            "main_left": main_left,
            "capacity": {reg: c[self.main] for reg, c in serving.items() if c[self.main] > 0},
            "alpha": 1.0 if normal else self.alpha,
        }


def _groups_served(service: _Service, state: dict, spec, catalog) -> list[bool]:
    """Rule 5 by brute force: every set of groups has the capacity its shares need within the
    regions any of them reaches (and somewhere to grow when nothing is needed)."""
    need = state["alpha"] * service.demand[service.main]
    reach = []
    for g in spec.users:
        rtt = catalog.rtt_from_point_ms(g.lat, g.lon)
        reach.append({r for r in state["capacity"] if rtt[r] <= g.max_latency_ms + TOL})
    served = [True] * len(spec.users)
    for size in range(1, len(spec.users) + 1):
        for group_set in itertools.combinations(range(len(spec.users)), size):
            regions = set().union(*(reach[g] for g in group_set))
            total = need * sum(spec.users[g].share for g in group_set)
            if sum(state["capacity"][r] for r in regions) < total - TOL * (1 + total):
                for g in group_set:
                    served[g] = False
    if need <= 0:
        served = [s and bool(reach[g]) for g, s in enumerate(served)]
    return served


def _reference_sweep(plan, catalog, kind: str) -> pd.DataFrame:
    """The sweep's rules written out one service, row and scenario at a time."""
    spec = plan.spec
    spread = global_services(plan.placements, catalog)
    services = {s.name: _Service(s, plan, catalog, s.name in spread) for s in spec.services}
    callees: dict[str, set[str]] = {s.name: set() for s in spec.services}
    for d in spec.dependencies:
        callees[d.source].add(d.target)

    def needed(name: str) -> set[str]:
        out = {name}
        for callee in callees[name]:
            out |= needed(callee)
        return out

    info = catalog.regions
    normal = {s: x.state(set(), set(), set(), normal=True) for s, x in services.items()}
    rows = []
    for label, lost, zone in _scenarios(plan, catalog, kind):
        gone = {p for p in set(info["provider"]) if set(info.index[info["provider"] == p]) <= lost}
        state = {s: x.state(lost, zone, gone) for s, x in services.items()}
        own = {s: st["status"] for s, st in state.items()}
        down = [s for s in services if any(own[t] == "down" for t in needed(s))]
        recovering = [
            s for s in services
            if s not in down and any(own[t] == "recovering" for t in needed(s))
        ]  # fmt: skip
        degraded = [s for s in services if own[s] == "degraded" and s not in down + recovering]
        cut = unserved = 0
        cut_names: list[str] = []
        for svc in spec.services:
            if not svc.user_facing:
                continue
            ok = (
                [True] * len(spec.users)
                if services[svc.name].everywhere
                else _groups_served(services[svc.name], state[svc.name], spec, catalog)
            )
            unserved += ok.count(False)
            up = svc.name not in down + recovering
            cut += sum(not (g and up) for g in ok)
            cut_names += [
                f"{svc.name}@{group.name}"
                for group, g in zip(spec.users, ok, strict=True)
                if not (g and up)
            ]
        out_of_budget = 0
        late: list[str] = []
        for dep in spec.dependencies:
            if dep.max_latency_ms is None or dep.source in down + recovering:
                continue
            callers = set(normal[dep.source]["capacity"]) & set(state[dep.source]["capacity"])
            left = state[dep.target]["capacity"]
            if any(
                not any(catalog.rtt_ms(r, t) <= dep.max_latency_ms + 1e-6 for t in left)
                for r in callers
            ):
                out_of_budget += 1
                late.append(f"{dep.source}->{dep.target}")
        shortfall = [
            max(0.0, x.demand[x.main] - state[s]["main_left"]) / x.demand[x.main]
            for s, x in services.items()
        ]
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
                "groups_unserved": unserved,
                "survived": not down and not unserved and not out_of_budget,
                "users_cut_off": ", ".join(cut_names),
                "out_of_budget": ", ".join(late),
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
    # and a service that only stores data serves from one region, with backups elsewhere: losing
    # that region leaves it recovering (relaunching from a backup), its callers with it
    data_only = {s.name for s in plan.spec.services if s.demand.vcpu == 0 and s.demand.storage_gb}
    first = p[p["service"].isin(data_only)].groupby("service")["region"].min()
    elsewhere = p["service"].isin(data_only) & (p["region"] != p["service"].map(first))
    to_backup |= elsewhere.to_numpy()
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
        "groups_unserved",
        "dependencies_out_of_budget",
    ):
        assert both[measure].sum() > 0, measure
    assert not both["survived"].all()
    # recovering spreads to callers whose own capacity is untouched
    assert (both["services_recovering"] > 1).any()


def _failure_of(catalog, scenario: str) -> Failure:
    """The what-if failure a sweep row names."""
    if scenario.startswith("zone of "):
        region = scenario.removeprefix("zone of ")
        if int(catalog.regions.at[region, "zones"]) >= 2:
            return Failure(frozenset(), scenario, "zone", zones=frozenset({region}))
        return Failure(frozenset({region}), scenario, "zone")
    kind, name = scenario.split(" ", 1)
    words = {"region": "regions", "provider": "providers", "site": "sites"}[kind]
    return failure_from(catalog, **{words: [name]})


@pytest.mark.parametrize("kind", KINDS)
def test_evaluate_failure_agrees_with_the_sweep(kr_plan, catalog, kind: str) -> None:
    """One failure at a time through evaluate_failure gives the sweep's row: the same function
    evaluates both."""
    plan = _harder(kr_plan)
    table = sweep(plan, catalog, kind)
    for row in table.itertuples():
        impact = evaluate_failure(plan, catalog, _failure_of(catalog, row.scenario))
        status = impact.services.set_index("service")["status"]
        assert impact.summary["services_down"] == row.services_down, row.scenario
        assert impact.summary["services_recovering"] == row.services_recovering
        assert impact.summary["services_degraded"] == row.services_degraded
        assert ", ".join(status.index[status == "down"]) == row.down
        assert int((~impact.users["served"]).sum()) == row.users_affected
        assert impact.summary["dependencies_out_of_budget"] == row.dependencies_out_of_budget


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
