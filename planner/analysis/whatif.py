"""What if a zone, region, site or provider fails (or a real incident replays)?

`evaluate_failure` tells, for a plan, which services keep running, run degraded or go down (also
through their hard dependencies), the capacity shortfall, the users who lose their latency budget
and their new latency, the RTO/RPO each service's strategy gives, and the egress of failover
traffic. `sweep` evaluates every single failure of a kind at once with array arithmetic. `replan`
repairs the plan without the failed domains and prices the migration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import MAIN_RESOURCE_ORDER, main_resource
from ..errors import InputError, Problem, SpecError, did_you_mean

if TYPE_CHECKING:  # planning is imported when replan runs: the rest of what-if does not need it
    from ..optimize import PlanOptions


@dataclass(frozen=True)
class Failure:
    """A set of regions down together, with what kind of event it is."""

    regions: frozenset[str]
    label: str
    scope: str = "region"  # zone | region | site | provider | network | control_plane | mixed
    control_plane: bool = False  # APIs down: nothing can be launched or scaled during the event
    incident: str | None = None
    notes: tuple[str, ...] = ()


def failure_from(
    catalog: Catalog,
    regions: tuple[str, ...] | list[str] = (),
    providers: tuple[str, ...] | list[str] = (),
    sites: tuple[str, ...] | list[str] = (),
    incident: str | None = None,
) -> Failure:
    """Build a Failure from user words; unknown names are input errors with a 'did you mean'."""
    problems = []
    lost: set[str] = set()
    labels: list[str] = []
    scopes: set[str] = set()
    reg = catalog.regions
    for r in regions:
        if r not in reg.index:
            problems.append(
                Problem("", "--fail", "", "unknown region", value=r, fix=did_you_mean(r, reg.index))
            )
        else:
            lost.add(r)
            labels.append(r)
            scopes.add("region")
    for p in providers:
        if p not in catalog.providers.index:
            problems.append(
                Problem(
                    "",
                    "--fail-provider",
                    "",
                    "unknown provider",
                    value=p,
                    fix=did_you_mean(p, catalog.providers.index),
                )
            )
        else:
            lost |= set(reg.index[reg["provider"] == p])
            labels.append(f"all of {p}")
            scopes.add("provider")
    for s in sites:
        hit = set(reg.index[(reg["site"] == s) | (reg.index == s)])
        if not hit:
            problems.append(
                Problem(
                    "",
                    "--fail-site",
                    "",
                    "unknown site",
                    value=s,
                    fix=did_you_mean(s, set(reg["site"])),
                )
            )
        lost |= hit
        labels.append(f"site {s}")
        scopes.add("site")
    control_plane = False
    notes: list[str] = []
    if incident is not None:
        inc = catalog.incidents
        if incident not in inc.index:
            problems.append(
                Problem(
                    "",
                    "--incident",
                    "",
                    "unknown incident",
                    value=incident,
                    fix=did_you_mean(incident, inc.index),
                )
            )
        else:
            row = inc.loc[incident]
            lost |= set(str(row["regions"]).split())
            labels.append(f"{incident} ({row['title']})")
            scopes.add(str(row["scope"]))
            control_plane = row["scope"] == "control_plane"
            notes.append(f"{row['date']}: {row['what_failed']} Lesson: {row['lesson']}")
            if row["scope"] == "network" and not str(row["regions"]).split():
                notes.append(
                    "a carrier network outage: cloud regions stay up, but users behind that "
                    "carrier cannot reach any of them; only multi-homed access helps"
                )
            if not str(row["regions"]).split() and row["scope"] != "network":
                notes.append(
                    "the site of this incident is not in the catalog; nothing in the plan is hit"
                )
    if problems:
        raise InputError(problems)
    scope = scopes.pop() if len(scopes) == 1 else ("mixed" if scopes else "none")
    return Failure(
        frozenset(lost),
        " + ".join(labels) or "nothing",
        scope,
        control_plane,
        incident,
        tuple(notes),
    )


@dataclass
class FailureImpact:
    failure: Failure
    # service, status, reason, capacity_before, capacity_after, resource, shortfall, strategy,
    # rto_minutes, rpo_minutes, note (capacities and shortfall in the service's main resource)
    services: pd.DataFrame
    users: pd.DataFrame  # group, service, before_ms, after_ms, budget_ms, within_budget
    failover_egress_usd_per_month: float
    summary: dict[str, object] = field(default_factory=dict)


def _capacity(plan: object) -> pd.DataFrame:
    p = plan.placements  # type: ignore[attr-defined]
    out = p[p["role"] != "backup"].copy()
    for res in ("vcpu", "mem_gib", "storage_gb", "requests_m", "users", "lb"):
        out[f"{res}_total"] = out[res] * out["units"]
    return out


def evaluate_failure(plan: object, catalog: Catalog, failure: Failure) -> FailureImpact:
    """Impact of one failure on a plan (see module docstring)."""
    spec = plan.spec  # type: ignore[attr-defined]
    strategies = plan.strategies  # type: ignore[attr-defined]
    cap = _capacity(plan)
    backups = plan.placements[plan.placements["role"] == "backup"]  # type: ignore[attr-defined]
    strat = catalog.strategies
    lost = cap["region"].isin(failure.regions)
    rows = []
    own_status: dict[str, str] = {}
    for svc in spec.services:
        d = svc.demand.as_dict()
        res = main_resource(d)
        mine = cap["service"] == svc.name
        before = float(cap.loc[mine, f"{res}_total"].sum())
        after = float(cap.loc[mine & ~lost, f"{res}_total"].sum())
        st = strat.loc[strategies[svc.name]]
        touched = bool((mine & lost).any())
        data_left = True
        if d["storage_gb"] > 0:
            copies = cap.loc[
                mine & ~lost & (cap["storage_gb_total"] >= d["storage_gb"] - 1e-9), "region"
            ]
            bcopies = backups[
                (backups["service"] == svc.name) & ~backups["region"].isin(failure.regions)
            ]
            data_left = len(copies) > 0 or len(bcopies) > 0
        note = ""
        frac = float(
            st["compute_fraction"]
        )  # what keeps serving; data is judged by surviving copies
        present_after = bool((mine & ~lost).any()) or (d["storage_gb"] > 0 and data_left)
        if not touched:
            status = "ok"
        elif not data_left:
            status, note = "down", "no surviving copy of its data"
        elif (frac > 0 and after + 1e-9 < frac * d[res]) or not present_after:
            status, note = "down", f"less than the {frac:.0%} of demand {st.name} keeps running"
        elif after + 1e-9 < max(frac * d[res], 1e-9) or (frac == 0 and after <= 0):
            status = "recovering"
            note = (
                f"relaunches from its data ({st.name}, RTO {st['rto_minutes']:g} min, "
                f"RPO {st['rpo_minutes']:g} min)"
            )
        elif after + 1e-9 >= d[res]:
            status = "ok"
        else:
            status = "degraded"
            note = (
                f"{after / d[res]:.0%} of demand left; scales up "
                f"({st.name}, RTO {st['rto_minutes']:g} min)"
            )
        if (
            touched
            and failure.control_plane
            and bool(st["control_plane_dependent"])
            and status != "ok"
        ):
            note = (
                f"{st.name} must launch or scale capacity, but the control plane is down: "
                "recovery waits for the incident to end"
            )
        own_status[svc.name] = status
        rows.append(
            {
                "service": svc.name,
                "status": status,
                "reason": "",
                "capacity_before": before,
                "capacity_after": after,
                "resource": res,
                "shortfall": max(0.0, d[res] - after),
                "strategy": st.name,
                "rto_minutes": 0.0 if not touched else float(st["rto_minutes"]),
                "rpo_minutes": 0.0 if not touched else float(st["rpo_minutes"]),
                "note": note,
            }
        )
    # hard dependencies: a service whose callee is down is down too
    graph = nx.DiGraph([(d.source, d.target) for d in spec.dependencies])
    graph.add_nodes_from(own_status)
    effective = dict(own_status)
    rank = {"ok": 0, "degraded": 1, "recovering": 2, "down": 3}
    try:
        callees_first = list(reversed(list(nx.topological_sort(graph))))
    except nx.NetworkXUnfeasible:
        raise _cycle_error(spec.dependencies, spec.source) from None
    for s in callees_first:
        worst = max((effective[t] for t in graph.successors(s)), key=rank.__getitem__, default="ok")
        if rank[worst] >= rank["recovering"] and rank[worst] > rank[effective[s]]:
            effective[s] = worst
    services = pd.DataFrame(rows)
    for i, r in services.iterrows():
        if effective[r["service"]] != r["status"]:
            bad = [
                t
                for t in graph.successors(r["service"])
                if rank[effective[t]] >= rank["recovering"]
            ]
            services.at[i, "status"] = effective[r["service"]]
            services.at[i, "reason"] = f"depends on {', '.join(bad)}"
    # users: nearest surviving region of each user-facing service
    urows = []
    present = {s: set(g["region"]) for s, g in cap.groupby("service")}
    for svc in spec.services:
        if not svc.user_facing:
            continue
        for u in spec.users:
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            before = min((rtt[r] for r in present.get(svc.name, ())), default=math.inf)
            alive = present.get(svc.name, set()) - failure.regions
            after = min((rtt[r] for r in alive), default=math.inf)
            if effective[svc.name] in ("down", "recovering"):
                after = math.inf
            urows.append(
                {
                    "group": u.name,
                    "service": svc.name,
                    "before_ms": before,
                    "after_ms": after,
                    "budget_ms": u.max_latency_ms,
                    "within_budget": after <= u.max_latency_ms,
                }
            )
    users = pd.DataFrame(
        urows, columns=["group", "service", "before_ms", "after_ms", "budget_ms", "within_budget"]
    )
    egress = _failover_egress(plan, catalog, failure)
    summary = {
        "failure": failure.label,
        "scope": failure.scope,
        "regions_down": sorted(failure.regions & set(cap["region"])),
        "services_down": int((services["status"] == "down").sum()),
        "services_recovering": int((services["status"] == "recovering").sum()),
        "services_degraded": int((services["status"] == "degraded").sum()),
        "survived": bool((services["status"] != "down").all()),
        "users_affected": sorted(set(users.loc[~users["within_budget"], "group"]))
        if len(users)
        else [],
        "failover_egress_usd_per_month": round(egress, 2),
        "notes": list(failure.notes),
    }
    return FailureImpact(failure, services, users, egress, summary)


def _failover_egress(plan: object, catalog: Catalog, failure: Failure) -> float:
    """Extra egress per month once traffic is served from the survivors (negative: saves egress)."""
    from ..plan import egress_for

    p = plan.placements  # type: ignore[attr-defined]
    after = p[~p["region"].isin(failure.regions)]
    before = float(plan.egress["usd_per_month"].sum()) if len(plan.egress) else 0.0  # type: ignore[attr-defined]
    now = egress_for(after, plan.spec, catalog)  # type: ignore[attr-defined]
    return float(now["usd_per_month"].sum()) - before


# ---------------------------------------------------------------------------------------- sweep
@dataclass
class SweepTables:
    """Arrays precomputed once per plan so that every scenario is a few vector operations.

    The fields up to `user_reach` are what `sweep_tables` gathers from the plan; the rest are
    derived from them on construction, so tables built from those fields alone work the same."""

    services: list[str]
    regions: list[str]
    capacity: np.ndarray  # services x regions, main resource
    data_ok: np.ndarray  # services x regions: a full data copy (or backup) there
    needs_data: np.ndarray  # services
    demand: np.ndarray
    required: np.ndarray  # capacity the strategy keeps running after a failure (fraction x demand)
    dep_order: list[tuple[int, list[int]]]  # (service, callees) in reverse topological order
    user_reach: list[tuple[int, np.ndarray]]  # (service, regions within a group's budget) pairs
    # every service each service needs up (itself, and its hard dependencies followed to the end),
    # one run per service in service order; needed_start[i] is where service i's run begins
    needed: np.ndarray = field(init=False, repr=False)
    needed_start: np.ndarray = field(init=False, repr=False)
    user_service: np.ndarray = field(init=False, repr=False)  # service of each user_reach pair
    user_within: np.ndarray = field(init=False, repr=False)  # pairs x regions, within budget

    def __post_init__(self) -> None:
        closure = _dependency_closure(self.dep_order, len(self.services))
        service_of, self.needed = np.nonzero(closure)
        # every run holds at least the service itself, so no run is empty
        self.needed_start = np.flatnonzero(np.r_[True, service_of[1:] != service_of[:-1]])
        self.user_service = np.array([s for s, _ in self.user_reach], dtype=np.intp)
        self.user_within = (
            np.array([w for _, w in self.user_reach], dtype=bool)
            if self.user_reach
            else np.zeros((0, len(self.regions)), dtype=bool)
        )


def _dependency_closure(dep_order: list[tuple[int, list[int]]], n_services: int) -> np.ndarray:
    """services x services: True where the row service needs the column service up."""
    # Callees come first in dep_order, so each service's set of needed services is complete when
    # its callers read it. Python ints serve as bit sets: a few hundred ORs instead of array work.
    needed = [0] * n_services
    for s, callees in dep_order:
        bits = 1 << s
        for callee in callees:
            bits |= needed[callee]
        needed[s] = bits
    width = (n_services + 7) // 8
    packed = np.frombuffer(b"".join(bits.to_bytes(width, "little") for bits in needed), np.uint8)
    return np.unpackbits(
        packed.reshape(n_services, width), axis=1, count=n_services, bitorder="little"
    ).astype(bool)


def _cycle_error(dependencies: tuple[object, ...], spec_file: str) -> SpecError:
    """The spec error for hard dependencies that loop back: which services, which entries."""
    edges = [(d.source, d.target) for d in dependencies]  # type: ignore[attr-defined]
    cycle = nx.find_cycle(nx.DiGraph(edges))
    names = [caller for caller, _ in cycle]
    entries = [f"dependencies[{edges.index(edge)}]" for edge in cycle]
    return SpecError(
        [
            Problem(
                spec_file,
                "dependencies",
                "",
                f"services {', '.join(names)} depend on each other in a cycle: "
                f"{' -> '.join([*names, names[0]])} ({', '.join(entries)})",
                fix="what-if takes a service down with any service it calls, which needs calls "
                "that never lead back to the caller: remove one dependency of the cycle (the "
                "call its caller can run without)",
            )
        ]
    )


def _callees_first(
    services: list[str], dependencies: tuple[object, ...], spec_file: str = ""
) -> list[tuple[int, list[int]]]:
    """(service, callees) with every service after all of its callees; a cycle cannot be ordered
    and is a spec error (`spec_file` names the spec in its message)."""
    index = {s: i for i, s in enumerate(services)}
    callees: list[dict[int, None]] = [{} for _ in services]  # dicts: no repeats, first-seen order
    callers: list[list[int]] = [[] for _ in services]
    for d in dependencies:
        source, target = index[d.source], index[d.target]  # type: ignore[attr-defined]
        if target not in callees[source]:
            callees[source][target] = None
            callers[target].append(source)
    waiting = [len(c) for c in callees]
    ready = [i for i, n in enumerate(waiting) if n == 0]
    order = []
    for s in ready:  # `ready` grows while it is walked
        order.append((s, list(callees[s])))
        for caller in callers[s]:
            waiting[caller] -= 1
            if waiting[caller] == 0:
                ready.append(caller)
    if len(order) < len(services):
        raise _cycle_error(dependencies, spec_file)
    return order


def compensated_sums(cells: np.ndarray, values: np.ndarray, n_cells: int) -> np.ndarray:
    """Per-cell sums of `values` (cell ids in `cells`, 0 to `n_cells` - 1), added in row order with
    the Kahan compensation pandas' groupby sum uses, so that thresholds on the sums decide exactly
    as they did with pandas (NaN skipped; a cell without rows sums to 0)."""
    total = np.zeros(n_cells)
    compensation = np.zeros(n_cells)
    if not len(cells):
        return total
    by_cell = np.argsort(cells, kind="stable")  # rows of one cell stay in table order
    sorted_cells = cells[by_cell]
    first = np.r_[True, sorted_cells[1:] != sorted_cells[:-1]]
    start_of_cell = np.maximum.accumulate(np.where(first, np.arange(len(cells)), 0))
    rank = np.empty(len(cells), dtype=np.intp)
    rank[by_cell] = np.arange(len(cells)) - start_of_cell
    # one step per rank: each cell appears at most once in a step, so plain fancy indexing is safe
    with np.errstate(invalid="ignore"):  # inf - inf below is expected; pandas resets it to 0
        for k in range(int(rank.max()) + 1):
            step = (rank == k) & ~np.isnan(values)
            c, y = cells[step], values[step] - compensation[cells[step]]
            t = total[c] + y
            compensation[c] = t - total[c] - y
            compensation[c] = np.where(np.isnan(compensation[c]), 0.0, compensation[c])
            total[c] = t
    return total


def sweep_tables(plan: object, catalog: Catalog) -> SweepTables:
    """The plan as the arrays `sweep` works on, from a few passes over the whole placements."""
    spec = plan.spec  # type: ignore[attr-defined]
    p = plan.placements  # type: ignore[attr-defined]
    services = [s.name for s in spec.services]
    n_services = len(services)
    region_of_row, region_labels = pd.factorize(p["region"], sort=True)
    regions = list(region_labels)
    n_regions = len(regions)
    resources = MAIN_RESOURCE_ORDER  # the columns of `demands` and `per_unit` below
    storage = resources.index("storage_gb")

    demands = np.array([[float(getattr(s.demand, r)) for r in resources] for s in spec.services])
    demanded = demands > 0
    if not demanded.any(axis=1).all():
        empty = services[int(np.flatnonzero(~demanded.any(axis=1))[0])]
        raise InputError(f"service `{empty}` has no demand: give one of {', '.join(resources)}")
    main = demanded.argmax(axis=1)  # each service's main_resource: its first demanded column
    demand = demands[np.arange(n_services), main]
    needs = demands[:, storage] > 0

    # rows of services the spec does not name are left out, as they always were
    position = {s: i for i, s in enumerate(services)}
    label_of_row, service_labels = pd.factorize(p["service"])
    service_of_label = np.array([position.get(s, -1) for s in service_labels], dtype=np.intp)
    service_of_row = service_of_label[label_of_row]
    known = service_of_row >= 0
    cell_of_row = service_of_row * n_regions + region_of_row  # (service, region) flattened
    units = p["units"].to_numpy(dtype=float)
    per_unit = np.column_stack([p[r].to_numpy(dtype=float) for r in resources])

    running = np.flatnonzero(known & (p["role"].to_numpy() != "backup"))
    main_total = per_unit[running, main[service_of_row[running]]] * units[running]
    # bincount adds in row order, as the per-service np.add.at did, so the sums round the same
    cap = np.bincount(cell_of_row[running], weights=main_total, minlength=n_services * n_regions)
    cap = cap.reshape(n_services, n_regions)

    # a region holds the data if its rows (backups included) add up to the full storage demand
    holding = np.flatnonzero(known & needs[np.maximum(service_of_row, 0)])
    held = compensated_sums(
        cell_of_row[holding], per_unit[holding, storage] * units[holding], n_services * n_regions
    )
    has_rows = np.zeros(n_services * n_regions, dtype=bool)
    has_rows[cell_of_row[holding]] = True
    full_copy = held >= np.repeat(demands[:, storage], n_regions) - 1e-9
    data = (has_rows & full_copy).reshape(n_services, n_regions)

    # what keeps serving; whether the data survives is judged by full copies (data_ok) instead
    strategies = catalog.strategies
    fraction_of = dict(
        zip(strategies.index, strategies["compute_fraction"].to_numpy(dtype=float), strict=True)
    )
    chosen = plan.strategies  # type: ignore[attr-defined]
    required = np.array([fraction_of[chosen[s]] for s in services]) * demand

    order = _callees_first(services, spec.dependencies, spec.source)
    reach: list[tuple[int, np.ndarray]] = []
    facing = [i for i, s in enumerate(spec.services) if s.user_facing]
    if facing and spec.users:
        positions = catalog.regions.index.get_indexer(regions)
        if (positions < 0).any():
            raise KeyError(regions[int(np.flatnonzero(positions < 0)[0])])
        within = [
            catalog.rtt_from_point_ms(u.lat, u.lon).to_numpy()[positions] <= u.max_latency_ms
            for u in spec.users
        ]
        reach = [(i, w) for i in facing for w in within]
    return SweepTables(services, regions, cap, data, needs, demand, required, order, reach)


def _scenarios(
    catalog: Catalog, regions: list[str], kind: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Names, regions lost (scenarios x regions) and the share of a region's capacity lost where a
    single zone goes (scenarios x regions) of every single failure of `kind`."""
    table = catalog.regions
    positions = table.index.get_indexer(regions)
    if (positions < 0).any():
        raise KeyError(regions[int(np.flatnonzero(positions < 0)[0])])
    n = len(regions)
    if kind == "region":
        return [f"region {r}" for r in regions], np.eye(n, dtype=bool), np.zeros((n, n))
    if kind in ("provider", "site"):
        of_region = table[kind].to_numpy()[positions]
        names = sorted(set(of_region))
        lost = of_region[None, :] == np.array(names, dtype=object)[:, None]
        return [f"{kind} {x}" for x in names], lost, np.zeros((len(names), n))
    if kind == "zone":
        zones = np.array([int(z) for z in table["zones"].to_numpy()[positions]], dtype=np.int64)
        has_zones = zones >= 2
        # a zone takes its share of the region's capacity; a region without zones goes whole
        share = np.divide(1.0, zones, out=np.zeros(n), where=has_zones)
        return [f"zone of {r}" for r in regions], np.diag(~has_zones), np.diag(share)
    raise InputError(f"unknown sweep kind `{kind}`: use region, provider, zone or site")


def _joined_names(services: np.ndarray, flags: np.ndarray) -> list[str]:
    return [", ".join(services[row].tolist()) for row in flags]


def sweep(
    plan: object, catalog: Catalog, kind: str = "region", tables: SweepTables | None = None
) -> pd.DataFrame:
    """Every single failure of `kind` (region, provider, zone, site) among the plan's regions:
    services down (own capacity below what its strategy keeps running, no data copy left, or a hard
    dependency down), degraded (below full demand), capacity shortfall and user groups cut off."""
    t = tables if tables is not None else sweep_tables(plan, catalog)
    names, lost, part = _scenarios(catalog, t.regions, kind)
    up = ~lost
    keep = up.astype(float) * (1.0 - part)  # surviving share of each region's capacity
    alive = keep @ t.capacity.T  # scenarios x services, the same float product as ever
    # yes/no products stay boolean (numpy's own loop): as floats, products of this size go to
    # the threaded BLAS, which stalls for milliseconds whenever the other cores are busy
    has_copy = up @ t.data_ok.T
    # down: cannot recover (no data copy left, or below what the strategy keeps running);
    # recovering: nothing running but its data survives, so it relaunches within its RTO
    own_down = (t.needs_data[None, :] & ~has_copy) | (alive + 1e-9 < t.required[None, :])
    relaunch = t.needs_data[None, :] & has_copy
    own_down |= (t.required[None, :] <= 0) & (alive <= 0) & ~relaunch
    recovering = ~own_down & (alive <= 0)
    # a service is down (recovering) when anything it needs is
    down = np.logical_or.reduceat(own_down[:, t.needed], t.needed_start, axis=1)
    rec = np.logical_or.reduceat(recovering[:, t.needed], t.needed_start, axis=1) & ~down
    degraded = ~down & ~rec & (alive + 1e-9 < t.demand[None, :])
    # a user group keeps a service if a surviving region within its budget runs it, and it is up
    offered = (t.capacity[t.user_service] > 0) & t.user_within  # pairs x regions
    served = (up @ offered.T) & ~down[:, t.user_service] & ~rec[:, t.user_service]
    short = (
        np.clip(t.demand[None, :] - alive, 0, None) / np.where(t.demand > 0, t.demand, 1)[None, :]
    )
    service_names = np.array(t.services, dtype=object)
    return pd.DataFrame(
        {
            "scenario": names,
            "services_down": down.sum(axis=1),
            "services_recovering": rec.sum(axis=1),
            "services_degraded": degraded.sum(axis=1),
            "demand_shortfall_pct": 100 * short.mean(axis=1),
            "users_affected": (~served).sum(axis=1),
            "down": _joined_names(service_names, down),
            "recovering": _joined_names(service_names, rec),
        }
    )


# ---------------------------------------------------------------------------------------- replan
@dataclass
class Replan:
    impact: FailureImpact
    plan: object  # the repaired Plan
    migration: pd.DataFrame  # service, from_region, to_region, gb, usd, hours, mode
    cost_before: float
    cost_after: float
    policy_note: str = ""

    @property
    def cost_delta(self) -> float:
        return self.cost_after - self.cost_before


def replan(
    plan: object,
    catalog: Catalog,
    failure: Failure,
    options: PlanOptions | None = None,
    bandwidth_gbps: float = 1.0,
) -> Replan:
    """Plan again without the failed regions (same policy if it still can hold, else survive none),
    and price getting there: data to copy into each new region from the cheapest surviving copy
    (or a backup), its egress, the time at `bandwidth_gbps`, and live versus cold migration."""
    from ..errors import InfeasibleError
    from ..optimize import PlanOptions, make_plan

    if bandwidth_gbps <= 0:
        raise InputError("--bandwidth-gbps must be positive")
    spec = plan.spec  # type: ignore[attr-defined]
    impact = evaluate_failure(plan, catalog, failure)
    excluded = tuple(sorted(set(spec.policy.exclude_regions) | failure.regions))
    new_spec = spec.model_copy(
        update={"policy": spec.policy.model_copy(update={"exclude_regions": excluded})}
    )
    new_spec._source = spec.source
    opts = options or PlanOptions()
    note = ""
    try:
        new = make_plan(new_spec, catalog, opts)
    except InfeasibleError as exc:
        weaker = new_spec.model_copy(
            update={"policy": new_spec.policy.model_copy(update={"survive": "none"})}
        )
        weaker._source = spec.source
        try:
            new = make_plan(weaker, catalog, opts)
        except InfeasibleError as exc2:
            empty = pd.DataFrame(
                columns=["service", "from_region", "to_region", "gb", "usd", "hours", "mode"]
            )
            return Replan(
                impact,
                None,
                empty,
                float(plan.cost["total"]),  # type: ignore[attr-defined]
                math.nan,
                "no repaired plan exists without the failed regions: "
                + "; ".join(exc2.reasons[:3]),
            )
        note = (
            "the policy `survive: "
            + spec.policy.survive
            + "` cannot hold without the failed regions ("
            + "; ".join(exc.reasons[:2])
            + "); the repaired plan survives nothing until they return"
        )
    old = plan.placements  # type: ignore[attr-defined]
    rows = []
    status = dict(zip(impact.services["service"], impact.services["status"], strict=True))
    for svc in spec.services:
        before = set(old.loc[old["service"] == svc.name, "region"])
        after = set(new.placements.loc[new.placements["service"] == svc.name, "region"])  # type: ignore[attr-defined]
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
    migration = pd.DataFrame(
        rows, columns=["service", "from_region", "to_region", "gb", "usd", "hours", "mode"]
    )
    return Replan(impact, new, migration, float(plan.cost["total"]), float(new.cost["total"]), note)  # type: ignore[attr-defined]
