"""Every single failure of a kind at once: the fast array sweep.

:func:`sweep` takes a plan, the catalog and a kind of failure (region, provider, zone or site) and
returns one row per failure among the plan's regions: services down, recovering and degraded,
the mean demand shortfall, the user groups cut off and the dependencies out of their latency
budget. :func:`sweep_tables` turns the plan into
the arrays every scenario reads (:class:`SweepTables`), once, so that each scenario is a few
vector operations; studies and the dashboard sweep many plans and many failures, which the
row-by-row :func:`~.whatif_impact.evaluate_failure` would make slow. The two must agree, scenario
by scenario (the tests check it), so the thresholds here mirror that function's.

:func:`compensated_sums` adds per-cell values in the order and with the compensation pandas'
groupby sum uses, so the data-copy threshold decides exactly as the row-by-row code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import MAIN_RESOURCE_ORDER
from ..errors import InputError
from ..plan import global_services
from .whatif_impact import dependency_cycle_error

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan
    from ..spec import Dependency


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
    # services: global SaaS, which only a whole-provider failure takes down (None: none are)
    everywhere: np.ndarray | None = None
    # (dependency, caller, callee, a region running the caller, the regions running the callee
    # within the dependency's latency budget of it), for each dependency with a budget, in the
    # spec's order of dependencies
    dependency_reach: list[tuple[int, int, int, int, np.ndarray]] = field(default_factory=list)
    # every service each service needs up (itself, and its hard dependencies followed to the end),
    # one run per service in service order; needed_start[i] is where service i's run begins
    needed: np.ndarray = field(init=False, repr=False)
    needed_start: np.ndarray = field(init=False, repr=False)
    user_service: np.ndarray = field(init=False, repr=False)  # service of each user_reach pair
    user_within: np.ndarray = field(init=False, repr=False)  # pairs x regions, within budget
    # the dependency_reach tuples as arrays: one entry per (dependency, caller region) pair
    pair_caller: np.ndarray = field(init=False, repr=False)
    pair_callee: np.ndarray = field(init=False, repr=False)
    pair_region: np.ndarray = field(init=False, repr=False)
    pair_within: np.ndarray = field(init=False, repr=False)  # pairs x regions
    pair_start: np.ndarray = field(init=False, repr=False)  # where each dependency's pairs begin

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
        reach = self.dependency_reach
        self.pair_caller = np.array([c for _, c, _, _, _ in reach], dtype=np.intp)
        self.pair_callee = np.array([t for _, _, t, _, _ in reach], dtype=np.intp)
        self.pair_region = np.array([r for _, _, _, r, _ in reach], dtype=np.intp)
        self.pair_within = (
            np.array([w for *_, w in reach], dtype=bool)
            if reach
            else np.zeros((0, len(self.regions)), dtype=bool)
        )
        dependency = np.array([d for d, *_ in reach], dtype=np.intp)
        self.pair_start = (
            np.flatnonzero(np.r_[True, dependency[1:] != dependency[:-1]])
            if reach
            else np.zeros(0, dtype=np.intp)
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


def _callees_first(
    services: list[str], dependencies: Sequence[Dependency], spec_file: str = ""
) -> list[tuple[int, list[int]]]:
    """(service, callees) with every service after all of its callees; a cycle cannot be ordered
    and is a spec error (`spec_file` names the spec in its message)."""
    index = {s: i for i, s in enumerate(services)}
    callees: list[dict[int, None]] = [{} for _ in services]  # dicts: no repeats, first-seen order
    callers: list[list[int]] = [[] for _ in services]
    for d in dependencies:
        source, target = index[d.source], index[d.target]
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
        raise dependency_cycle_error(dependencies, spec_file)
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


def sweep_tables(plan: Plan, catalog: Catalog) -> SweepTables:
    """The plan as the arrays `sweep` works on, from a few passes over the whole placements."""
    spec = plan.spec
    p = plan.placements
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
    chosen = plan.strategies
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
    spread = global_services(p, catalog)
    everywhere = np.array([s in spread for s in services], dtype=bool)
    # where each service runs: any running row, as the verifier reads it (capacity in the main
    # resource may be nil, as for a block volume next to a service's machines)
    runs = np.zeros(n_services * n_regions, dtype=bool)
    runs[cell_of_row[running]] = True
    dependency_reach = _dependency_reach(
        spec.dependencies, position, regions, runs.reshape(n_services, n_regions), catalog
    )
    return SweepTables(
        services,
        regions,
        cap,
        data,
        needs,
        demand,
        required,
        order,
        reach,
        everywhere,
        dependency_reach,
    )


def _dependency_reach(
    dependencies: Sequence[Dependency],
    position: dict[str, int],
    regions: list[str],
    runs: np.ndarray,
    catalog: Catalog,
) -> list[tuple[int, int, int, int, np.ndarray]]:
    """For each dependency with a latency budget and each region running its caller: the regions
    running the callee within the budget of it (with the verifier's tolerance)."""
    budgeted = [
        (k, position[d.source], position[d.target], d.max_latency_ms)
        for k, d in enumerate(dependencies)
        if d.max_latency_ms is not None and d.source in position and d.target in position
    ]
    if not budgeted:
        return []
    at = catalog.regions.index.get_indexer(regions)
    if (at < 0).any():
        raise KeyError(regions[int(np.flatnonzero(at < 0)[0])])
    rtt = catalog.latency_ms[np.ix_(at, at)]  # regions x regions of the plan
    number = np.array([k for k, _, _, _ in budgeted], dtype=np.intp)
    caller = np.array([c for _, c, _, _ in budgeted], dtype=np.intp)
    callee = np.array([t for _, _, t, _ in budgeted], dtype=np.intp)
    budget = np.array([b for _, _, _, b in budgeted], dtype=float)
    # dependencies x caller regions x callee regions: a callee region running it, within budget
    within = (rtt[None, :, :] <= budget[:, None, None] + 1e-6) & runs[callee][:, None, :]
    dep, region = np.nonzero(runs[caller])  # one pair per region running a caller, in order
    return [
        (int(number[d]), int(caller[d]), int(callee[d]), int(r), within[d, r])
        for d, r in zip(dep.tolist(), region.tolist(), strict=True)
    ]


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
    plan: Plan, catalog: Catalog, kind: str = "region", tables: SweepTables | None = None
) -> pd.DataFrame:
    """Every single failure of `kind` (region, provider, zone, site) among the plan's regions:
    services down (own capacity below what its strategy keeps running, no data copy left, or a hard
    dependency down), degraded (below full demand), capacity shortfall, user groups cut off and
    dependencies out of their latency budget (a serving caller's surviving region with no surviving
    callee region within it)."""
    t = tables if tables is not None else sweep_tables(plan, catalog)
    names, lost, part = _scenarios(catalog, t.regions, kind)
    up = ~lost
    keep = up.astype(float) * (1.0 - part)  # surviving share of each region's capacity
    alive = keep @ t.capacity.T  # scenarios x services, the same float product as ever
    # yes/no products stay boolean (numpy's own loop): as floats, products of this size go to
    # the threaded BLAS, which stalls for milliseconds whenever the other cores are busy
    has_copy = up @ t.data_ok.T
    spared = np.zeros(len(t.services), dtype=bool)
    if t.everywhere is not None and kind != "provider":
        # global SaaS keeps all it holds unless its whole provider goes (a provider sweep loses
        # every region of the provider, so there the regional arithmetic is already right)
        spared = t.everywhere
        alive[:, spared] = t.capacity[spared].sum(axis=1)
        has_copy[:, spared] = t.data_ok[spared].any(axis=1)
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
    reached = (up @ offered.T) | (spared[t.user_service] & offered.any(axis=1))[None, :]
    served = reached & ~down[:, t.user_service] & ~rec[:, t.user_service]
    out_of_budget = _dependencies_out_of_budget(t, up, spared, ~down & ~rec)
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
            "dependencies_out_of_budget": out_of_budget,
            "down": _joined_names(service_names, down),
            "recovering": _joined_names(service_names, rec),
            "degraded": _joined_names(service_names, degraded),
        }
    )


def _dependencies_out_of_budget(
    t: SweepTables, up: np.ndarray, spared: np.ndarray, serving: np.ndarray
) -> np.ndarray:
    """Per scenario, the dependencies with a latency budget that some surviving region of a
    serving caller misses: no surviving region of the callee is within the budget of it. A caller
    that is down or recovering is not counted (it is counted as down already)."""
    if not len(t.pair_caller):
        return np.zeros(len(up), dtype=np.int64)
    covered = up @ t.pair_within.T  # scenarios x pairs, boolean (see `sweep` on why)
    callee_spared = spared[t.pair_callee]
    covered[:, callee_spared] = t.pair_within[callee_spared].any(axis=1)
    caller_up = up[:, t.pair_region] | spared[t.pair_caller][None, :]
    missed = caller_up & ~covered & serving[:, t.pair_caller]
    return np.logical_or.reduceat(missed, t.pair_start, axis=1).sum(axis=1)
