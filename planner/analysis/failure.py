"""One truth: a plan evaluated under failures by the rules a plan must meet (docs/model.md).

The independent verifier, what-if (:func:`~.whatif_impact.evaluate_failure`), the sweep (and so
compare's "survives k of n") and availability's "is this service up in this state" all call
:func:`evaluate`; none of them has rules of its own for a failure. It reads the plan and the
catalog, never the optimisation model.

Use
    ``tables = FailureTables.build(plan, catalog)`` once per plan (arrays of cells, the
    (service, region) pairs that hold rows, and of columns, the regions plus one per provider for
    global SaaS; services; user groups; budgeted dependencies), then
    ``evaluate(tables, batch)`` for a :class:`FailureBatch` of D failures at once (boolean masks:
    region lost, region losing one zone, provider lost; a row may be normal operation). The
    :class:`Evaluation` holds D x services status codes (:data:`STATUS`), capacity left and
    needed, D x (user-facing service, group) served or not, D x budgeted dependencies out of
    budget, the single-writer check and the control-plane note flag. Builders:
    :func:`normal_operation`, :func:`failures_of_kind` (every failure of a kind, the sweep's),
    :func:`policy_failures` (the verifier's), :func:`batch_of` (named region sets).

The rules as read here (docs/model.md, "The rules a plan must meet"; each decision is stated):

* Rows. A row *serves* when it is not a backup and its offering has capacity in the service's
  main resource (``columns.main_resource``). Its alive units after a failure are 0 when its region
  is lost, ``n - ceil(n/Z)`` when its region (with Z >= 2 zones) loses a zone, else ``n``. A
  service *runs* in a region where serving units are left (rule 1): user reach, dependency
  latency and growth read running regions only; a region holding only disks or backups does not
  count. The zone rule applies to every row alike, disks and buckets included (the rules say
  nothing else changes): one block volume in a two-zone region is lost with the zone.
* Touched. A failure touches a service when one of its rows (backups included) loses a unit. An
  untouched service is as in normal operation, which the normal-operation row checks: its own
  rules are evaluated only where it is touched (normal operation counts as touching everything).
* Capacity (rule 4). For each resource with demand d: compute resources count non-backup rows
  and need ``alpha*d`` (the strategy's compute_fraction), ``storage_gb`` counts every row,
  backups included, and needs ``beta*d`` (data_fraction). In normal operation every resource
  needs d from non-backup rows (data held only as a backup is not served).
* Growth (rule 4). A touched service whose strategy keeps ``alpha < 1`` and which demands a
  compute resource must be able to grow back: it still runs in a public region, or the private
  capacity it still holds covers d of every compute resource it demands. Otherwise it is down.
* Control-plane note (rule 4). When the strategy is control_plane_dependent, the service must
  grow (some compute resource left below d), is not down, and every public region where it still
  runs belongs to a provider the failure hits (loses a region or a zone of it), the evaluation
  flags a note: not a violation and no change of status.
* Single writer (rule 3). A stateful service of ``SINGLE_WRITER_CATEGORIES`` is single-writer
  unless every serving offering it uses is multi-writer (``Catalog.single_writer``; a service
  with no serving row is not). One region's serving rows must hold d (normal operation), or
  ``alpha*d`` after a failure that touches it, of every compute resource it demands; otherwise
  it is down (it cannot promote a primary). With ``alpha = 0`` after a failure, or no compute
  demand, nothing is asked of it (growth asks the rest).
* User groups (rule 5), for each user-facing service that is not global SaaS: with c(r) the
  main-resource capacity of its serving rows in r left after the failure and Reach(g) the plan's
  regions within group g's budget (``catalog.rtt_from_point_ms``), the groups are served when
  every set T of groups has ``sum of c over the regions any of T reaches >= need * sum of w_g``
  over T (Hall's condition: an assignment of capacity to groups exists), ``need = d`` in normal
  operation and ``alpha*d`` after a failure. Exact over all subsets up to
  :data:`MAX_HALL_GROUPS` groups, by max-flow (networkx) above. A group is not served when it
  belongs to a set that breaks the condition (with max-flow: the groups on the source side of a
  minimum cut). With ``alpha = 0`` after a failure a group also needs a running region within
  its budget, to grow into. A global SaaS service is served by its vendor: not tested per group.
  :func:`fair_parts` gives each group the capacity it can count on (its share of the least
  capacity per unit of share over the sets it belongs to; served when that covers its share of
  the need). `Evaluation.groups_ok` is the rule; `Evaluation.served` also asks that the service
  be neither down nor recovering (what the sweep counts as users affected).
* Dependency latency (rule 6). Per dependency with a budget and per region running the caller in
  normal operation: a region running the callee within the budget (1e-6 ms tolerance), in normal
  operation and after a failure from each caller region still running to the callee's regions
  still running. A caller that is down or recovering is not counted as out of budget (it is
  counted as down already).
* SaaS scope (rule 7). A global SaaS service (``planner.plan.global_services``) loses rows only
  when its provider is lost: every catalog region of the provider is lost (a provider failure,
  or a failure of every region the provider has), and a zone failure never touches it.
* Status. A service's own status is *down* when a rule of its own fails (capacity below the
  strategy's fraction or data below it, no growth, no promotable single writer), *recovering*
  when nothing of its main resource runs but its data survives (it relaunches from it within its
  RTO), *degraded* when touched and below demand in its main resource, else *ok*. Then, as
  before, a service is down (recovering) when a service it needs, following hard dependencies,
  is down (recovering). Comparisons allow ``1e-6 * (1 + d)`` of round-off. A failure is
  *survived* when no service is down, every group is served by the rule and no dependency is
  out of budget: what the verifier asks of each failure of the policy and of normal operation.
* A strategy the catalog does not know reads as keeping everything running (``alpha = beta =
  1``, no control plane); the verifier reports it and none of that service's other rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import MAIN_RESOURCE_ORDER, RESOURCES, SINGLE_WRITER_CATEGORIES
from ..errors import InputError, SpecError
from ..spec.model import dependency_cycle

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan
    from ..spec import AppSpec, Dependency, Service
    from .whatif_failures import Failure

STATUS = ("ok", "degraded", "recovering", "down")  # status codes 0..3, worse as they grow
OK, DEGRADED, RECOVERING, DOWN = range(4)
TOL = 1e-6
MAX_HALL_GROUPS = 12  # Hall's condition over every subset up to here (4095 sets), max-flow above
_N = len(RESOURCES)
_STORAGE = RESOURCES.index("storage_gb")
_COMPUTE = np.array([r != "storage_gb" for r in RESOURCES])
# the quantities of a cell, per resource where so marked: held by non-backup rows (rule 4's
# compute capacity), storage of every row (rule 4's data), held by serving rows
_HELD = slice(0, _N)
_DATA = _N
_SERVING = slice(_N + 1, 2 * _N + 1)
_QUANTITIES = 2 * _N + 1


@dataclass(frozen=True)
class FailureTables:
    """A plan as arrays, built once; every evaluation reads only these.

    Cells are the (service, region) pairs holding rows of a service the spec names, sorted by
    service then region; `full` and `zone_left` hold each cell's quantities (see the `_HELD`,
    `_DATA`, `_SERVING` columns) with all units and with ``n - ceil(n/Z)`` units of each row."""

    services: list[str]
    regions: list[str]  # the plan's regions, sorted
    providers: list[str]  # their providers, sorted
    region_provider: np.ndarray  # R
    region_zones: np.ndarray  # R
    provider_regions: np.ndarray  # P: how many regions each provider has in the catalog
    cell_service: np.ndarray  # C
    cell_region: np.ndarray  # C
    cell_public: np.ndarray  # C
    cell_everywhere: np.ndarray  # C: the cell's service is global SaaS
    cell_units: np.ndarray  # C: holds at least one unit
    cell_column: np.ndarray  # C: its region, or its provider's column for global SaaS
    # C: main-resource capacity of the cell's serving rows with all units (> 0: the service runs
    # there in normal operation), and with a zone's share of each row lost
    cell_serving: np.ndarray
    cell_serving_zone: np.ndarray
    full: np.ndarray  # C x quantities
    zone_left: np.ndarray  # C x quantities
    columns: ColumnTables
    has_cells: np.ndarray  # S
    service_start: np.ndarray  # where each service with cells begins among the cells
    demand: np.ndarray  # S x RESOURCES
    main: np.ndarray  # S: index in RESOURCES of the main resource
    alpha: np.ndarray  # S: compute_fraction
    beta: np.ndarray  # S: data_fraction
    control_plane: np.ndarray  # S: control_plane_dependent
    strategy: list[str]
    strategy_known: np.ndarray  # S: False where the plan names a strategy the catalog lacks
    single_writer: np.ndarray  # S
    everywhere: np.ndarray  # S: global SaaS
    needed: np.ndarray  # every service each service needs up, one run per service
    needed_start: np.ndarray
    users: UserTables
    dependencies: DependencyTables

    @property
    def cell_provider(self) -> np.ndarray:
        return self.region_provider[self.cell_region]

    @classmethod
    def build(cls, plan: Plan, catalog: Catalog) -> FailureTables:
        return _build(plan, catalog)


@dataclass(frozen=True)
class ColumnTables:
    """The cells gathered by column, K of them: the plan's regions, then one column per provider
    for global SaaS (only its provider's loss takes it). A failure's sums are the plan's totals
    less the rows of the columns it takes (and plus what a zone failure leaves of its column):
    it touches few columns, so that is a gather and a segmented sum, not a matrix product."""

    full: np.ndarray  # K x (S x (RESOURCES held by non-backup rows, storage of every row))
    zone_left: np.ndarray  # the same with a zone's share of each row lost
    total: np.ndarray  # S x (RESOURCES held, storage): `full` over every column
    private_full: np.ndarray  # `full` on private sites only (0 on public columns)
    private_zone: np.ndarray
    private_total: np.ndarray
    public_full: np.ndarray  # K x S: 1 where the service runs in a public column
    public_zone: np.ndarray  # K x S: 1 where it still runs there after losing a zone
    public_count: np.ndarray  # S: public columns where it runs
    units: np.ndarray  # K x S: 1 where it holds units in the column


@dataclass(frozen=True)
class UserTables:
    """User-facing services (each with its cells) and the spec's user groups."""

    services: np.ndarray  # U: service index
    tested: np.ndarray  # U: False for global SaaS (served by its vendor)
    cells: np.ndarray  # the cells of those services, in cell order
    owner: np.ndarray  # per such cell, its position in `services`
    has_cells: np.ndarray  # U
    start: np.ndarray  # where each user service with cells begins in `cells`
    groups: list[str]
    share: np.ndarray  # G
    budget: np.ndarray  # G
    rtt: np.ndarray  # G x R: round trip from each group to each region
    reach: np.ndarray  # G x R: within the group's budget
    subsets: np.ndarray  # T x G: every non-empty set of groups (none above MAX_HALL_GROUPS)
    subset_reach: np.ndarray  # T x R
    subset_share: np.ndarray  # T


@dataclass(frozen=True)
class DependencyTables:
    """Dependencies with a latency budget, and per region running the caller in normal
    operation (a pair) the regions within the budget of it."""

    index: np.ndarray  # K: position in spec.dependencies
    caller: np.ndarray  # K
    callee: np.ndarray  # K
    budget: np.ndarray  # K
    has_pairs: np.ndarray  # K
    pair_start: np.ndarray  # where each dependency with pairs begins among the pairs
    pair_dependency: np.ndarray  # P: position in `index`
    pair_cell: np.ndarray  # P: the caller's cell
    pair_within: np.ndarray  # P x R
    rtt: np.ndarray  # R x R among the plan's regions


@dataclass(frozen=True)
class FailureBatch:
    """D failures (or normal operation) as masks over the tables' regions and providers."""

    names: list[str]
    lost: np.ndarray  # D x R: the region is lost entirely
    zone: np.ndarray  # D x R: the region loses one zone (only regions with two or more)
    provider_lost: np.ndarray  # D x P: the provider is lost (global SaaS goes with it)
    normal: np.ndarray  # D: normal operation (no failure; full demand is needed)

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate` finds, failure by failure (D rows)."""

    status: np.ndarray  # D x S: codes of STATUS, hard dependencies followed
    own_status: np.ndarray  # D x S: from the service's own rules only
    touched: np.ndarray  # D x S
    have: np.ndarray  # D x S x RESOURCES: capacity rule 4 counts
    need: np.ndarray  # D x S x RESOURCES: what rule 4 needs (0 where nothing is demanded)
    short: np.ndarray  # D x S x RESOURCES: rule 4 fails for the resource
    main_left: np.ndarray  # D x S: main resource on non-backup rows
    growth_fails: np.ndarray  # D x S
    private_left: np.ndarray  # D x S x RESOURCES: non-backup capacity left on private sites
    writer_ok: np.ndarray  # D x S: rule 3 holds (always for services that are not single-writer)
    control_plane_note: np.ndarray  # D x S
    serving: np.ndarray  # D x C: main-resource capacity of serving rows left per cell
    groups_ok: np.ndarray  # D x U x G: rule 5 holds for the group (the service's own state aside)
    served: np.ndarray  # D x U x G: rule 5 holds and the service is neither down nor recovering
    pairs_missed: np.ndarray  # D x pairs: a running caller region with no callee within budget
    dependencies_out: np.ndarray  # D x K: missed from a caller that is neither down nor recovering

    @property
    def running(self) -> np.ndarray:
        """D x C: the service runs in the cell's region."""
        return self.serving > 0


# ---------------------------------------------------------------------------------- tables
def _build(plan: Plan, catalog: Catalog) -> FailureTables:
    spec = plan.spec
    services = [s.name for s in spec.services]
    p = plan.placements
    position = {s: i for i, s in enumerate(services)}
    label_of_row, labels = pd.factorize(p["service"])
    service_of_row = np.array([position.get(s, -1) for s in labels.tolist()], dtype=np.intp)
    service_of_row = service_of_row[label_of_row]
    known = service_of_row >= 0  # rows of services the spec does not name are left out
    rows = p[known] if not known.all() else p
    service_of_row = service_of_row[known]
    region_of_row, region_labels = pd.factorize(rows["region"], sort=True)
    where = _Regions.of([str(r) for r in region_labels.tolist()], catalog)
    demand, main = _demands(spec.services)
    rows_read = _RowsRead.of(rows, catalog, service_of_row, main, where.zones[region_of_row])
    cells = _Cells.of(rows_read, service_of_row, region_of_row, len(where.names), len(services))
    everywhere = _global_services(rows, rows_read, service_of_row, catalog, len(services))
    alpha, beta, control, strategy, known_strategy = _strategies(plan, catalog, services)
    needed, needed_start = _needed(services, spec.dependencies, spec.source)
    n_regions = len(where.names)
    column = np.where(
        everywhere[cells.service], n_regions + where.provider[cells.region], cells.region
    ).astype(np.intp)
    main_serving = _N + 1 + main[cells.service]
    serving = tuple(
        q[np.arange(len(cells.service)), main_serving] for q in (cells.full, cells.zone_left)
    )
    return FailureTables(
        services=services,
        regions=where.names,
        providers=where.providers,
        region_provider=where.provider,
        region_zones=where.zones,
        provider_regions=where.provider_regions,
        cell_service=cells.service,
        cell_region=cells.region,
        cell_public=where.public[cells.region],
        cell_everywhere=everywhere[cells.service],
        cell_units=cells.units > 0,
        cell_column=column,
        cell_serving=serving[0],
        cell_serving_zone=serving[1],
        full=cells.full,
        zone_left=cells.zone_left,
        columns=_column_tables(cells, column, where, serving, len(services)),
        has_cells=cells.has_cells,
        service_start=cells.start,
        demand=demand,
        main=main,
        alpha=alpha,
        beta=beta,
        control_plane=control,
        strategy=strategy,
        strategy_known=known_strategy,
        single_writer=_single_writers(spec, rows, catalog, service_of_row, rows_read.serving),
        everywhere=everywhere,
        needed=needed,
        needed_start=needed_start,
        users=_user_tables(spec, catalog, where.at, cells, everywhere, len(where.names)),
        dependencies=_dependency_tables(spec, catalog, where.at, cells, position, main),
    )


@dataclass(frozen=True)
class _Regions:
    """The plan's regions read from the catalog."""

    names: list[str]
    at: np.ndarray  # position in catalog.regions
    providers: list[str]
    provider: np.ndarray  # per region, position in `providers`
    provider_regions: np.ndarray  # per provider, its regions in the catalog
    zones: np.ndarray
    public: np.ndarray
    provider_public: np.ndarray

    @classmethod
    def of(cls, names: list[str], catalog: Catalog) -> _Regions:
        arrays = _catalog_arrays(catalog)
        missing = [r for r in names if r not in arrays.region]
        if missing:
            raise InputError(f"region `{missing[0]}` is not in the catalog")
        at = np.array([arrays.region[r] for r in names], dtype=np.intp)
        of_region = arrays.region_provider[at]
        providers = sorted(set(of_region.tolist()))
        return cls(
            names,
            at,
            providers,
            np.searchsorted(np.array(providers, dtype=object), of_region).astype(np.intp),
            np.array([arrays.provider_regions.get(x, 0) for x in providers], dtype=np.int64),
            arrays.region_zones[at],
            arrays.region_public[at],
            np.array([arrays.provider_public.get(x, True) for x in providers], dtype=bool),
        )


def _column_tables(
    cells: _Cells,
    column: np.ndarray,
    where: _Regions,
    serving: tuple[np.ndarray, ...],
    n_services: int,
) -> ColumnTables:
    n_columns = len(where.names) + len(where.providers)
    slot = column * n_services + cells.service  # (column, service), flattened
    size = n_columns * n_services
    blocks = []
    for q in (cells.full, cells.zone_left):
        out = np.column_stack(
            [np.bincount(slot, weights=q[:, i], minlength=size) for i in range(_N + 1)]
        )
        blocks.append(out.reshape(n_columns, n_services * (_N + 1)))
    flags = [
        (np.bincount(slot, weights=values, minlength=size) > 0)
        .astype(np.float64)
        .reshape(n_columns, n_services)
        for values in (*serving, cells.units)
    ]
    private = ~np.concatenate([where.public, where.provider_public])[:, None]
    public_full = flags[0] * ~private
    return ColumnTables(
        full=blocks[0],
        zone_left=blocks[1],
        total=blocks[0].sum(axis=0),
        private_full=blocks[0] * private,
        private_zone=blocks[1] * private,
        private_total=(blocks[0] * private).sum(axis=0),
        public_full=public_full,
        public_zone=flags[1] * ~private,
        public_count=public_full.sum(axis=0),
        units=flags[2],
    )


def _demands(services: Sequence[Service]) -> tuple[np.ndarray, np.ndarray]:
    """services x RESOURCES demand, and each service's main resource (index in RESOURCES)."""
    demand = np.array(
        # the fields as stored (pydantic keeps them in __dict__): attribute look-ups on hundreds
        # of services would cost the sweep a millisecond
        [[s.demand.__dict__[r] for r in RESOURCES] for s in services],
        dtype=float,
    ).reshape(len(services), _N)
    demanded = demand > 0
    if len(services) and not demanded.any(axis=1).all():
        empty = services[int(np.flatnonzero(~demanded.any(axis=1))[0])].name
        raise InputError(f"service `{empty}` has no demand: give one of {', '.join(RESOURCES)}")
    order = np.array([RESOURCES.index(r) for r in MAIN_RESOURCE_ORDER], dtype=np.intp)
    return demand, order[demanded[:, order].argmax(axis=1)] if len(services) else order[:0]


@dataclass(frozen=True)
class _RowsRead:
    """The placement rows read against the catalog: per-unit capacities, units, roles."""

    capacity: np.ndarray  # rows x RESOURCES, per unit, from the catalog
    units: np.ndarray
    backup: np.ndarray
    serving: np.ndarray
    zones: np.ndarray

    @classmethod
    def of(
        cls,
        rows: pd.DataFrame,
        catalog: Catalog,
        service_of_row: np.ndarray,
        main: np.ndarray,
        zones: np.ndarray,
    ) -> _RowsRead:
        arrays = _catalog_arrays(catalog)
        position, per_unit = arrays.offering, arrays.per_unit
        offerings = rows["offering"].to_numpy()
        missing = [o for o in offerings.tolist() if o not in position]
        if missing:
            raise InputError(f"offering `{missing[0]}` is not in the catalog")
        # capacities come from the catalog, not from the plan's own columns: what the model wrote
        # down is what the verifier checks
        capacity = per_unit[[position[o] for o in offerings.tolist()]].reshape(len(rows), _N)
        backup = (rows["role"] == "backup").to_numpy()
        serving = ~backup & (capacity[np.arange(len(rows)), main[service_of_row]] > 0)
        return cls(capacity, rows["units"].to_numpy(dtype=float), backup, serving, zones)

    def quantities(self, units: np.ndarray) -> np.ndarray:
        """rows x quantities with `units` of each row."""
        amount = self.capacity * units[:, None]
        out = np.empty((len(units), _QUANTITIES))
        out[:, _HELD] = amount * ~self.backup[:, None]
        out[:, _DATA] = amount[:, _STORAGE]
        out[:, _SERVING] = amount * self.serving[:, None]
        return out


@dataclass(frozen=True)
class _CatalogArrays:
    """What the tables read of a catalog, as plain arrays and dicts: pandas look-ups by label
    would take most of a sweep's milliseconds."""

    tables: tuple[pd.DataFrame, ...]  # the catalog's tables these were read from
    offering: dict[str, int]
    per_unit: np.ndarray  # offerings x RESOURCES
    region: dict[str, int]
    region_provider: np.ndarray
    region_zones: np.ndarray
    region_public: np.ndarray
    provider_regions: dict[str, int]
    provider_public: dict[str, bool]
    strategy: dict[str, tuple[float, float, float]]  # compute and data fractions, control plane
    global_offerings: frozenset[str]

    @classmethod
    def of(cls, catalog: Catalog) -> _CatalogArrays:
        off, reg, prov = catalog.offerings, catalog.regions, catalog.providers
        st = catalog.strategies
        providers = reg["provider"].to_numpy()
        counts: dict[str, int] = {}
        for x in providers.tolist():
            counts[x] = counts.get(x, 0) + 1
        return cls(
            (off, reg, prov, st),
            {o: i for i, o in enumerate(off.index.tolist())},
            np.column_stack([off[r].to_numpy(dtype=float) for r in RESOURCES]),
            {r: i for i, r in enumerate(reg.index.tolist())},
            providers,
            reg["zones"].to_numpy().astype(np.int64),
            reg["kind"].to_numpy() == "public",
            counts,
            dict(zip(prov.index.tolist(), (prov["kind"] == "public").tolist(), strict=True)),
            {
                name: (float(a), float(b), float(bool(c)))
                for name, a, b, c in zip(
                    st.index.tolist(),
                    st["compute_fraction"].tolist(),
                    st["data_fraction"].tolist(),
                    st["control_plane_dependent"].tolist(),
                    strict=True,
                )
            },
            catalog.global_offerings,
        )


_CATALOG_CACHE: dict[int, _CatalogArrays] = {}


def _catalog_arrays(catalog: Catalog) -> _CatalogArrays:
    """The catalog's arrays, read once per set of tables. The cache holds the tables themselves,
    so an id is never reused while its entry lives, and a catalog with another table (such as
    `dataclasses.replace(catalog, offerings=...)`) is read again."""
    hit = _CATALOG_CACHE.get(id(catalog))
    tables = (catalog.offerings, catalog.regions, catalog.providers, catalog.strategies)
    if hit is not None and all(x is y for x, y in zip(hit.tables, tables, strict=True)):
        return hit
    if len(_CATALOG_CACHE) >= 8:
        _CATALOG_CACHE.pop(next(iter(_CATALOG_CACHE)))
    _CATALOG_CACHE[id(catalog)] = arrays = _CatalogArrays.of(catalog)
    return arrays


@dataclass(frozen=True)
class _Cells:
    service: np.ndarray
    region: np.ndarray
    units: np.ndarray
    full: np.ndarray
    zone_left: np.ndarray
    has_cells: np.ndarray
    start: np.ndarray

    @classmethod
    def of(
        cls,
        rows: _RowsRead,
        service_of_row: np.ndarray,
        region_of_row: np.ndarray,
        n_regions: int,
        n_services: int,
    ) -> _Cells:
        cell_of_row = service_of_row * n_regions + region_of_row
        ids, inverse = np.unique(cell_of_row, return_inverse=True)
        by_cell = np.argsort(inverse, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(inverse[by_cell]) != 0] if len(ids) else [])
        # a zone holds ceil(n / Z) of a row's units (spread evenly, the largest share assumed)
        zone_units = np.where(
            rows.zones >= 2,
            rows.units - np.ceil(rows.units / np.maximum(rows.zones, 1) - 1e-9),
            0.0,
        )

        def per_cell(values: np.ndarray) -> np.ndarray:
            if not len(ids):
                return np.zeros((0, *values.shape[1:]))
            return np.add.reduceat(values[by_cell], np.asarray(starts, dtype=np.intp), axis=0)

        service = (ids // max(n_regions, 1)).astype(np.intp)
        has_cells = np.zeros(n_services, dtype=bool)
        has_cells[service] = True
        start = np.flatnonzero(np.r_[True, service[1:] != service[:-1]]) if len(ids) else ids
        return cls(
            service,
            (ids % max(n_regions, 1)).astype(np.intp),
            per_cell(rows.units),
            per_cell(rows.quantities(rows.units)),
            per_cell(rows.quantities(zone_units)),
            has_cells,
            np.asarray(start, dtype=np.intp),
        )


def _global_services(
    rows: pd.DataFrame,
    read: _RowsRead,
    service_of_row: np.ndarray,
    catalog: Catalog,
    n_services: int,
) -> np.ndarray:
    """Rule 7: services whose running (non-backup) rows are all global SaaS offerings, the
    reading of `planner.plan.global_services` on the tables' arrays."""
    glob = _catalog_arrays(catalog).global_offerings
    out = np.zeros(n_services, dtype=bool)
    if not glob:
        return out
    offerings = rows["offering"].to_numpy()
    running = ~read.backup
    is_global = np.fromiter((o in glob for o in offerings.tolist()), dtype=bool, count=len(rows))
    has = np.bincount(service_of_row[running], minlength=n_services) > 0
    regional = np.bincount(service_of_row[running & ~is_global], minlength=n_services) > 0
    return has & ~regional


def _strategies(
    plan: Plan, catalog: Catalog, services: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Per service: compute and data fractions, control-plane dependence, the strategy's name
    and whether the catalog knows it (an unknown one reads as keeping everything running: the
    verifier reports it and checks nothing else of that service)."""
    fractions = _catalog_arrays(catalog).strategy
    names = [str(plan.strategies.get(s, "")) for s in services]
    known = np.array([n in fractions for n in names], dtype=bool)
    # an unknown strategy reads as keeping everything (alpha = beta = 1, no control plane)
    rows = np.array([fractions.get(n, (1.0, 1.0, 0.0)) for n in names], dtype=float)
    rows = rows.reshape(len(names), 3)
    return rows[:, 0], rows[:, 1], rows[:, 2] > 0, names, known


def _single_writers(
    spec: AppSpec,
    rows: pd.DataFrame,
    catalog: Catalog,
    service_of_row: np.ndarray,
    serving: np.ndarray,
) -> np.ndarray:
    """Rule 3: stateful services of SINGLE_WRITER_CATEGORIES with a single-writer serving
    offering (one multi-writer offering among single-writer ones does not make it multi-writer)."""
    services = spec.services
    out = np.zeros(len(services), dtype=bool)
    candidates = np.array(
        [s.stateful and s.category in SINGLE_WRITER_CATEGORIES for s in services], dtype=bool
    )
    if not candidates.any():
        return out
    mine = serving & candidates[service_of_row]
    single = catalog.single_writer(rows["offering"].to_numpy()[mine])
    out[service_of_row[mine][single]] = True
    return out


def _needed(
    services: list[str], dependencies: Sequence[Dependency], spec_file: str
) -> tuple[np.ndarray, np.ndarray]:
    """Every service each service needs up (itself and its hard dependencies followed to the
    end), flattened one run per service, and where each run starts."""
    order = callees_first(services, dependencies, spec_file)
    n = len(services)
    bits_of = [0] * n  # Python ints as bit sets: a few hundred ORs instead of array work
    for s, callees in order:
        bits = 1 << s
        for callee in callees:
            bits |= bits_of[callee]
        bits_of[s] = bits
    if not n:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    width = (n + 7) // 8
    packed = np.frombuffer(b"".join(b.to_bytes(width, "little") for b in bits_of), np.uint8)
    closure = np.unpackbits(packed.reshape(n, width), axis=1, count=n, bitorder="little")
    service_of, needed = np.nonzero(closure.astype(bool))
    # every run holds at least the service itself, so no run is empty
    start = np.flatnonzero(np.r_[True, service_of[1:] != service_of[:-1]])
    return needed.astype(np.intp), start.astype(np.intp)


def callees_first(
    services: list[str], dependencies: Sequence[Dependency], spec_file: str = ""
) -> list[tuple[int, list[int]]]:
    """(service, callees) with every service after all of its callees; a cycle cannot be ordered
    and is a spec error (`spec_file` names the spec in its message). A service calling itself
    needs nothing more than itself."""
    index = {s: i for i, s in enumerate(services)}
    callees: list[dict[int, None]] = [{} for _ in services]  # dicts: no repeats, first-seen order
    callers: list[list[int]] = [[] for _ in services]
    for d in dependencies:
        source, target = index[d.source], index[d.target]
        if target != source and target not in callees[source]:
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


def dependency_cycle_error(dependencies: Sequence[Dependency], spec_file: str) -> SpecError:
    """The spec error for hard dependencies that loop back (a spec that skipped
    `check_against_catalog`, where the cycle is refused first)."""
    problem = dependency_cycle(dependencies, spec_file)
    assert problem is not None, "called only where a topological order failed"
    return SpecError([problem])


def _user_tables(
    spec: AppSpec,
    catalog: Catalog,
    at: np.ndarray,
    cells: _Cells,
    everywhere: np.ndarray,
    n_regions: int,
) -> UserTables:
    services_spec = spec.services
    groups = list(spec.users)
    facing = np.array([i for i, s in enumerate(services_spec) if s.user_facing], dtype=np.intp)
    if not groups:
        facing = np.zeros(0, dtype=np.intp)
    rtt = np.array(
        [catalog.rtt_from_point_ms(g.lat, g.lon).to_numpy()[at] for g in groups], dtype=float
    ).reshape(len(groups), n_regions)
    budget = np.array([g.max_latency_ms for g in groups], dtype=float)
    reach = rtt <= budget[:, None] + TOL
    owner_of_service = np.full(len(services_spec), -1, dtype=np.intp)
    owner_of_service[facing] = np.arange(len(facing))
    mine = np.flatnonzero(owner_of_service[cells.service] >= 0)
    owner = owner_of_service[cells.service[mine]]
    has_cells = np.zeros(len(facing), dtype=bool)
    has_cells[owner] = True
    start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else owner
    n = len(groups)
    if 0 < n <= MAX_HALL_GROUPS:
        codes = np.arange(1, 1 << n)
        subsets = ((codes[:, None] >> np.arange(n)) & 1).astype(bool)
    else:
        subsets = np.zeros((0, n), dtype=bool)
    share = np.array([g.share for g in groups], dtype=float)
    return UserTables(
        services=facing,
        tested=~everywhere[facing],
        cells=mine,
        owner=owner,
        has_cells=has_cells,
        start=np.asarray(start, dtype=np.intp),
        groups=[g.name for g in groups],
        share=share,
        budget=budget,
        rtt=rtt,
        reach=reach,
        subsets=subsets,
        subset_reach=(subsets.astype(np.int64) @ reach.astype(np.int64)) > 0,
        subset_share=subsets.astype(float) @ share,
    )


def _dependency_tables(
    spec: AppSpec,
    catalog: Catalog,
    at: np.ndarray,
    cells: _Cells,
    position: dict[str, int],
    main: np.ndarray,
) -> DependencyTables:
    deps = spec.dependencies
    budgeted = [
        (k, position[d.source], position[d.target], float(d.max_latency_ms))
        for k, d in enumerate(deps)
        if d.max_latency_ms is not None and d.source in position and d.target in position
    ]
    rtt = catalog.latency_ms[np.ix_(at, at)] if len(at) else np.zeros((0, 0))
    caller = np.array([c for _, c, _, _ in budgeted], dtype=np.intp)
    budget = np.array([b for *_, b in budgeted], dtype=float)
    running = cells.full[np.arange(len(cells.service)), _N + 1 + main[cells.service]] > 0
    # per dependency, the cells where its caller runs: a run of the running cells (sorted by
    # service), found by binary search and laid out one run after another
    run = np.flatnonzero(running)
    of_run = cells.service[run]
    low = np.searchsorted(of_run, caller, "left")
    count = np.searchsorted(of_run, caller, "right") - low
    pd_arr = np.repeat(np.arange(len(caller), dtype=np.intp), count)
    first = np.repeat(low - np.cumsum(np.r_[0, count[:-1]]).astype(np.intp), count)
    pc_arr = run[first + np.arange(int(count.sum()), dtype=np.intp)].astype(np.intp)
    within = rtt[cells.region[pc_arr]] <= budget[pd_arr][:, None] + TOL if len(pc_arr) else None
    has_pairs = np.zeros(len(budgeted), dtype=bool)
    has_pairs[pd_arr] = True
    start = np.flatnonzero(np.r_[True, pd_arr[1:] != pd_arr[:-1]]) if len(pd_arr) else pd_arr
    return DependencyTables(
        index=np.array([k for k, *_ in budgeted], dtype=np.intp),
        caller=caller,
        callee=np.array([t for _, _, t, _ in budgeted], dtype=np.intp),
        budget=budget,
        has_pairs=has_pairs,
        pair_start=np.asarray(start, dtype=np.intp),
        pair_dependency=pd_arr,
        pair_cell=pc_arr,
        pair_within=within if within is not None else np.zeros((0, len(at)), dtype=bool),
        rtt=rtt,
    )


# ---------------------------------------------------------------------------------- batches
def _batch(
    t: FailureTables,
    names: list[str],
    lost: np.ndarray,
    zone: np.ndarray,
    provider_lost: np.ndarray | None = None,
    normal: np.ndarray | None = None,
) -> FailureBatch:
    """A batch; a provider counts as lost when every catalog region of it is lost (the masks
    cover the plan's regions, so where the catalog has more the caller says so)."""
    zones = t.region_zones[None, :]
    # a zone failure of a region with one zone loses the region
    lost = lost | (zone & (zones < 2))
    zone = zone & ~lost
    if provider_lost is None:
        onehot = np.zeros((len(t.regions), len(t.providers)), dtype=np.int64)
        onehot[np.arange(len(t.regions)), t.region_provider] = 1
        provider_lost = (lost.astype(np.int64) @ onehot) >= t.provider_regions[None, :]
        provider_lost &= t.provider_regions[None, :] > 0
    if normal is None:
        normal = np.zeros(len(names), dtype=bool)
    return FailureBatch(list(names), lost, zone, provider_lost, normal)


def normal_operation(t: FailureTables) -> FailureBatch:
    none = np.zeros((1, len(t.regions)), dtype=bool)
    return _batch(t, ["normal operation"], none, none, np.zeros((1, len(t.providers)), bool),
                  np.ones(1, dtype=bool))  # fmt: skip


def batch_of(
    t: FailureTables,
    catalog: Catalog,
    names: Sequence[str],
    lost: Sequence[frozenset[str] | set[str]],
    zones: Sequence[frozenset[str] | set[str]] = (),
) -> FailureBatch:
    """Failures named by sets of catalog regions lost (and regions losing one zone). A provider is
    lost when every region the catalog gives it is in the lost set."""
    index = {r: i for i, r in enumerate(t.regions)}
    lost_mask = np.zeros((len(names), len(t.regions)), dtype=bool)
    zone_mask = np.zeros_like(lost_mask)
    for k, regions in enumerate(lost):
        lost_mask[k, [index[r] for r in regions if r in index]] = True
    for k, regions in enumerate(zones):
        zone_mask[k, [index[r] for r in regions if r in index]] = True
    reg = catalog.regions
    everything = {p: set(reg.index[reg["provider"] == p]) for p in t.providers}
    provider_lost = np.array(
        [[everything[p] <= set(regions) for p in t.providers] for regions in lost], dtype=bool
    ).reshape(len(names), len(t.providers))
    return _batch(t, list(names), lost_mask, zone_mask, provider_lost)


def failures_of_kind(
    t: FailureTables, catalog: Catalog, kind: str, style: str = "sweep"
) -> FailureBatch:
    """Every single failure of `kind` (region, provider, zone, site) among the plan's regions,
    named as the sweep names them (`style="sweep"`) or as the verifier does (`"policy"`)."""
    n = len(t.regions)
    eye = np.eye(n, dtype=bool)
    none = np.zeros((n, n), dtype=bool)
    if kind == "region":
        return _batch(t, [f"region {r}" for r in t.regions], eye, none)
    if kind == "provider":
        lost = t.region_provider[None, :] == np.arange(len(t.providers))[:, None]
        names = [f"provider {p}" for p in t.providers]
        return _batch(t, names, lost, np.zeros_like(lost), np.eye(len(t.providers), dtype=bool))
    if kind == "zone":
        if style == "sweep":
            names = [f"zone of {r}" for r in t.regions]
        else:
            names = [
                f"a zone of {r}" if z >= 2 else f"the only zone of {r}"
                for r, z in zip(t.regions, t.region_zones.tolist(), strict=True)
            ]
        return _batch(t, names, none, eye)
    if kind == "site":
        return site_failures(t, catalog)
    raise InputError(f"unknown sweep kind `{kind}`: use region, provider, zone or site")


def site_failures(t: FailureTables, catalog: Catalog) -> FailureBatch:
    """Every site of the plan's regions lost, one at a time (a site: regions sharing a campus)."""
    site_of = catalog.regions["site"].reindex(t.regions).to_numpy()
    sites = sorted(set(site_of.tolist()))
    lost = site_of[None, :] == np.array(sites, dtype=object)[:, None]
    return _batch(t, [f"site {s}" for s in sites], lost, np.zeros_like(lost))


def policy_failures(t: FailureTables, catalog: Catalog, policy: str) -> FailureBatch:
    """The failures a policy asks a plan to survive (none for `none`), as the verifier names
    them."""
    if policy == "none":
        empty = np.zeros((0, len(t.regions)), dtype=bool)
        return _batch(t, [], empty, empty, np.zeros((0, len(t.providers)), dtype=bool))
    return failures_of_kind(t, catalog, policy, style="policy")


def stack(*batches: FailureBatch) -> FailureBatch:
    return FailureBatch(
        [n for b in batches for n in b.names],
        np.concatenate([b.lost for b in batches]),
        np.concatenate([b.zone for b in batches]),
        np.concatenate([b.provider_lost for b in batches]),
        np.concatenate([b.normal for b in batches]),
    )


# ---------------------------------------------------------------------------------- evaluation
def _column_masks(t: FailureTables, batch: FailureBatch) -> tuple[np.ndarray, np.ndarray]:
    """D x K: columns keeping all their units, and columns losing one zone's share of them. A
    global SaaS column keeps everything unless its provider is lost (rule 7)."""
    keep = np.concatenate([~batch.lost & ~batch.zone, ~batch.provider_lost], axis=1)
    zone = np.concatenate(
        [batch.zone & ~batch.lost, np.zeros(batch.provider_lost.shape, dtype=bool)], axis=1
    )
    return keep, zone


def cell_alive(
    t: FailureTables, batch: FailureBatch, cells: np.ndarray, quantities: slice | int
) -> np.ndarray:
    """D x len(cells) [x quantities]: what the given cells hold under each failure."""
    keep, zone = _column_masks(t, batch)
    k, z = keep[:, t.cell_column[cells]], zone[:, t.cell_column[cells]]
    full, part = t.full[cells, quantities], t.zone_left[cells, quantities]
    if full.ndim == 2:
        k, z = k[:, :, None], z[:, :, None]
    return k * full[None] + z * part[None]


@dataclass(frozen=True)
class _State:
    """What a batch leaves of the plan: per service (held per resource, data), per cell (the
    main resource of serving rows), the masks, and which services are touched."""

    keep: np.ndarray  # D x K
    zone: np.ndarray  # D x K
    per: np.ndarray  # D x S x (RESOURCES held, data)
    serving: np.ndarray  # D x C
    touched: np.ndarray  # D x S
    normal: np.ndarray  # D

    @classmethod
    def of(cls, t: FailureTables, batch: FailureBatch) -> _State:
        keep, zone = _column_masks(t, batch)
        c = t.columns
        n, s = len(batch), len(t.services)
        per = c.total[None, :] - _over_columns(c.full, ~keep)
        serving = keep[:, t.cell_column] * t.cell_serving[None, :]
        if zone.any():
            per += _over_columns(c.zone_left, zone)
            serving += zone[:, t.cell_column] * t.cell_serving_zone[None, :]
        touched = _over_columns(c.units, ~keep) > 0.5
        per = per.reshape(n, s, _N + 1)
        return cls(keep, zone, per, serving, touched | batch.normal[:, None], batch.normal)

    def left(self, total: np.ndarray, full: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """D x X: `total` less the columns each failure takes, plus what its zone failures
        leave (rows of `full` and `zone`, K x X)."""
        out = total[None, :] - _over_columns(full, ~self.keep)
        return out + _over_columns(zone, self.zone) if self.zone.any() else out


def _over_columns(rows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """D x X: per failure, the sum of `rows` (K x X) over the columns `mask` (D x K) marks; a
    gather and a segmented sum over the few columns a failure touches (a matrix product would
    go to the threaded BLAS, which stalls for milliseconds whenever the other cores are busy)."""
    d, k = np.nonzero(mask)
    out = np.zeros((mask.shape[0], rows.shape[1]))
    if len(d):
        start = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        out[d[start]] = np.add.reduceat(rows[k], start, axis=0)
    return out


def evaluate(t: FailureTables, batch: FailureBatch, own_only: bool = False) -> Evaluation:
    """The plan under each failure of `batch` (see the module docstring for the rules). With
    `own_only`, user groups and dependency latency are left out (all served, none out of
    budget): availability reads only whether each service is up."""
    state = _State.of(t, batch)
    running = state.serving > 0
    own = _own_rules(t, state, batch)
    own_down = state.touched & (own.short.any(axis=2) | own.growth_fails | ~own.writer_ok)
    own_rec = ~own_down & state.touched & (own.main_left <= 0)
    main_demand = t.demand[np.arange(len(t.services)), t.main]
    below = state.touched & (own.main_left < main_demand - TOL * (1 + main_demand))
    own_status = _codes(own_down, own_rec, below)
    if len(t.services):
        down = np.logical_or.reduceat(own_down[:, t.needed], t.needed_start, axis=1)
        rec = np.logical_or.reduceat(own_rec[:, t.needed], t.needed_start, axis=1) & ~down
    else:
        down, rec = own_down, own_rec
    status = _codes(down, rec, below)
    note = own.must_grow & t.control_plane[None, :] & own.runs_public & ~own_down
    if note.any():  # every public region where it still runs is the hit providers'
        onehot = np.zeros((len(t.regions), len(t.providers)), dtype=bool)
        onehot[np.arange(len(t.regions)), t.region_provider] = True
        hit = ((batch.lost | batch.zone) @ onehot) | batch.provider_lost  # boolean: no BLAS
        spared = np.concatenate([~hit[:, t.region_provider], ~batch.provider_lost], axis=1)
        escape = (running & t.cell_public[None, :] & spared[:, t.cell_column]).astype(float)
        note &= ~(_cells_to_services(t, escape) > 0.5)
    frac = np.where(batch.normal[:, None], 1.0, t.alpha[None, :])
    u = t.users
    n = len(batch)
    if own_only:
        groups_ok = np.ones((n, len(u.services), len(u.groups)), dtype=bool)
        missed = np.zeros((n, len(t.dependencies.pair_cell)), dtype=bool)
        out = np.zeros((n, len(t.dependencies.index)), dtype=bool)
    else:
        groups_ok = _groups_ok(t, state.serving, frac)
        missed, out = _dependency_latency(t, running, status)
    served = groups_ok & (status[:, u.services] < RECOVERING)[:, :, None]
    return Evaluation(
        status=status,
        own_status=own_status,
        touched=state.touched,
        have=own.have,
        need=own.need,
        short=own.short,
        main_left=own.main_left,
        growth_fails=own.growth_fails,
        private_left=own.private_left,
        writer_ok=own.writer_ok,
        control_plane_note=note,
        serving=state.serving,
        groups_ok=groups_ok,
        served=served,
        pairs_missed=missed,
        dependencies_out=out,
    )


def _cells_to_services(t: FailureTables, x: np.ndarray) -> np.ndarray:
    """D x C values summed over each service's cells: D x S."""
    out = np.zeros((x.shape[0], len(t.services)))
    if len(t.service_start):
        out[:, t.has_cells] = np.add.reduceat(x, t.service_start, axis=1)
    return out


def _codes(down: np.ndarray, recovering: np.ndarray, below: np.ndarray) -> np.ndarray:
    out = np.where(below, DEGRADED, OK).astype(np.int8)
    out[recovering] = RECOVERING
    out[down] = DOWN
    return out


@dataclass(frozen=True)
class _Own:
    have: np.ndarray
    need: np.ndarray
    short: np.ndarray
    main_left: np.ndarray
    growth_fails: np.ndarray
    must_grow: np.ndarray
    runs_public: np.ndarray
    private_left: np.ndarray
    writer_ok: np.ndarray


def _own_rules(t: FailureTables, state: _State, batch: FailureBatch) -> _Own:
    """Rules 3 and 4 for every service under every failure."""
    normal, touched, per = state.normal, state.touched, state.per
    frac_c = np.where(normal[:, None], 1.0, t.alpha[None, :])
    frac_d = np.where(normal[:, None], 1.0, t.beta[None, :])
    have = per[:, :, :_N].copy()
    # after a failure a backup counts for the data; in normal operation the data is served
    have[:, :, _STORAGE] = np.where(normal[:, None], have[:, :, _STORAGE], per[:, :, _N])
    demanded = t.demand > 0
    compute = demanded & _COMPUTE[None, :]
    need = np.where(_COMPUTE, frac_c[:, :, None], frac_d[:, :, None]) * t.demand[None]
    slack = TOL * (1 + t.demand)[None]
    short = touched[:, :, None] & demanded[None] & (have < need - slack)
    grows = ~normal[:, None] & touched & (t.alpha < 1)[None, :] & compute.any(axis=1)[None, :]
    c = t.columns
    runs_public = state.left(c.public_count, c.public_full, c.public_zone) > 0.5
    private_left = np.zeros_like(have)
    if grows.any():  # what it still holds on private sites, where it could grow without a cloud
        left = state.left(c.private_total, c.private_full, c.private_zone)
        private_left = left.reshape(per.shape)[:, :, :_N]
    private_ok = ((private_left >= t.demand[None] - slack) | ~compute[None]).all(axis=2)
    return _Own(
        have=have,
        need=need * demanded[None],
        short=short,
        main_left=per[:, np.arange(len(t.services)), t.main],
        growth_fails=grows & ~runs_public & ~private_ok,
        must_grow=grows & ((have < t.demand[None] - slack) & compute[None]).any(axis=2),
        runs_public=runs_public,
        private_left=private_left,
        writer_ok=_writer_ok(t, batch, frac_c, touched),
    )


def _writer_ok(
    t: FailureTables, batch: FailureBatch, frac: np.ndarray, touched: np.ndarray
) -> np.ndarray:
    """Rule 3, D x S: one region's serving rows hold the fraction of every compute resource a
    single-writer service demands (true where nothing is asked: not single-writer, untouched,
    alpha = 0 or no compute demand)."""
    ok = np.ones(touched.shape, dtype=bool)
    cells = np.flatnonzero(t.single_writer[t.cell_service])
    if not len(cells):
        return ok
    writers = np.flatnonzero(t.single_writer)  # only their needs are read
    compute = np.where((t.demand[writers] > 0) & _COMPUTE[None, :], t.demand[writers], 0.0)
    need = frac[:, writers, None] * compute[None]  # D x writers x RESOURCES
    owner = t.cell_service[cells]
    at = np.searchsorted(writers, owner)
    slack = TOL * (1 + t.demand[owner])[None]
    holds = (cell_alive(t, batch, cells, _SERVING) >= need[:, at] - slack).all(axis=2)
    start = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ok[:, owner[start]] = np.logical_or.reduceat(holds, start, axis=1)
    ok[:, writers] |= (need <= 0).all(axis=2)
    return ok | ~touched


def user_capacity(t: FailureTables, serving: np.ndarray) -> np.ndarray:
    """D x U x R: main-resource capacity of each user-facing service's serving rows left in each
    region (0 where it does not run)."""
    u = t.users
    out = np.zeros((serving.shape[0], len(u.services), len(t.regions)))
    out[:, u.owner, t.cell_region[u.cells]] = serving[:, u.cells]  # one cell per (service, region)
    return out


def _user_need(t: FailureTables, frac: np.ndarray) -> np.ndarray:
    """D x U: the main-resource demand each user-facing service must serve (d, or alpha*d)."""
    s = t.users.services
    return frac[:, s] * t.demand[s, t.main[s]][None, :]


def _groups_ok(t: FailureTables, serving: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Rule 5, D x U x G (see the module docstring)."""
    u = t.users
    n_groups = len(u.groups)
    ok = np.ones((serving.shape[0], len(u.services), n_groups), dtype=bool)
    if not len(u.services) or not n_groups:
        return ok
    cap = user_capacity(t, serving)
    need = _user_need(t, frac)
    if n_groups <= MAX_HALL_GROUPS:
        within = cap @ u.subset_reach.T.astype(float)  # D x U x T
        total = need[:, :, None] * u.subset_share[None, None, :]
        violated = within < total - TOL * (1 + total)
        short = (violated.astype(np.float64) @ u.subsets.astype(np.float64)) > 0.5
    else:
        short = np.zeros_like(ok)
        for d, j in itertools.product(range(cap.shape[0]), range(len(u.services))):
            short[d, j] = _short_by_flow(cap[d, j], need[d, j], u)[0]
    reach_running = ((cap > 0).astype(np.float64) @ u.reach.T.astype(np.float64)) > 0.5
    nowhere = (need <= 0)[:, :, None] & ~reach_running  # alpha = 0: somewhere to grow into
    ok = ~short & ~nowhere
    ok[:, ~u.tested] = True
    return ok


def _short_by_flow(
    capacity: np.ndarray, need: float, u: UserTables
) -> tuple[np.ndarray, np.ndarray]:
    """(groups short, capacity each group gets) of one service by max-flow: source -> group
    (its share of `need`) -> regions it reaches -> sink (the region's capacity). Short groups
    are those on the source side of a minimum cut, a set the regions cannot serve."""
    graph = nx.DiGraph()
    for g, w in enumerate(u.share):
        graph.add_edge("source", ("g", g), capacity=float(w * need))
        for r in np.flatnonzero(u.reach[g] & (capacity > 0)):
            graph.add_edge(("g", g), ("r", int(r)))  # no capacity attribute: unbounded
    for r in np.flatnonzero(capacity > 0):
        graph.add_edge(("r", int(r)), "sink", capacity=float(capacity[r]))
    graph.add_node("sink")
    value, flows = nx.maximum_flow(graph, "source", "sink")
    got = np.array([flows["source"].get(("g", g), 0.0) for g in range(len(u.share))])
    short = np.zeros(len(u.share), dtype=bool)
    if value < need * float(u.share.sum()) - TOL * (1 + need):
        _, (side, _) = nx.minimum_cut(graph, "source", "sink")
        short[[g for kind, g in (n for n in side if n != "source") if kind == "g"]] = True
    return short, got


def _dependency_latency(
    t: FailureTables, running: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rule 6: per (dependency, caller region) pair, the caller still runs there and no region
    still running the callee is within budget (D x pairs); per dependency, some such pair of a
    caller that is neither down nor recovering (D x K)."""
    dt = t.dependencies
    n = running.shape[0]
    out = np.zeros((n, len(dt.index)), dtype=bool)
    if not len(dt.pair_cell):
        return np.zeros((n, 0), dtype=bool), out
    where = np.zeros((n, len(t.services), len(t.regions)), dtype=bool)
    where[:, t.cell_service, t.cell_region] = running
    callee = dt.callee[dt.pair_dependency]
    covered = (where[:, callee, :] & dt.pair_within[None]).any(axis=2)
    missed = running[:, dt.pair_cell] & ~covered
    caller_up = status[:, dt.caller[dt.pair_dependency]] < RECOVERING
    out[:, dt.has_pairs] = np.logical_or.reduceat(missed & caller_up, dt.pair_start, axis=1)
    return missed, out


# ---------------------------------------------------------------------------------- for reports
def short_sets(
    t: FailureTables, ev: Evaluation, d: int, j: int, frac: float
) -> list[tuple[list[int], float, float]]:
    """Sets of groups that user-facing service `j` (position in `t.users.services`) cannot serve
    under failure `d`: (groups, demand they need together, capacity within their reach), the
    smallest sets first, until every short group is named once."""
    u = t.users
    cap = user_capacity(t, ev.serving[d : d + 1])[0, j]
    need = frac * float(t.demand[u.services[j], t.main[u.services[j]]])
    if len(u.groups) > MAX_HALL_GROUPS:
        short, _ = _short_by_flow(cap, need, u)
        groups = np.flatnonzero(short)
        reach = u.reach[groups].any(axis=0)
        short_groups = [int(g) for g in groups]
        return [(short_groups, need * float(u.share[groups].sum()), float(cap[reach].sum()))]
    within = u.subset_reach.astype(float) @ cap
    total = need * u.subset_share
    bad = np.flatnonzero(within < total - TOL * (1 + total))
    if need <= 0:  # alpha = 0: a group with no running region within budget has nowhere to grow
        bad = np.array(
            [k for k in range(len(u.subsets)) if u.subsets[k].sum() == 1 and within[k] <= 0]
        )
    named: set[int] = set()
    out = []
    # smallest sets first, the largest shortfall among sets of one size
    for k in sorted(bad.tolist(), key=lambda k: (u.subsets[k].sum(), within[k] - total[k])):
        members = [int(g) for g in np.flatnonzero(u.subsets[k])]
        if set(members) <= named:
            continue
        named |= set(members)
        out.append((members, float(total[k]), float(within[k])))
    return out


def fair_parts(t: FailureTables, ev: Evaluation, d: int, frac: np.ndarray) -> np.ndarray:
    """U x G: the capacity each group can count on under failure `d`: its share of the least
    capacity per unit of share over the sets of groups it belongs to (w_g x min over T of
    capacity within T's reach / sum of T's shares). A group is served when this covers its
    share of the demand. Above MAX_HALL_GROUPS groups: what a maximum flow gives it."""
    u = t.users
    cap = user_capacity(t, ev.serving[d : d + 1])[0]  # U x R
    out = np.zeros((len(u.services), len(u.groups)))
    if not len(u.groups):
        return out
    if len(u.groups) > MAX_HALL_GROUPS:
        need = _user_need(t, frac[None, :])[0]
        for j in range(len(u.services)):
            out[j] = _short_by_flow(cap[j], float(need[j]), u)[1]
        return out
    per_share = (cap @ u.subset_reach.T.astype(float)) / u.subset_share[None, :]  # U x T
    masked = np.where(u.subsets.T[None, :, :], per_share[:, None, :], np.inf)  # U x G x T
    return u.share[None, :] * masked.min(axis=2)


def growth_note(t: FailureTables, ev: Evaluation, d: int, j: int) -> str:
    """Rule 4's note: where the service would grow, and whose control plane that needs."""
    cells = np.flatnonzero((t.cell_service == j) & ev.running[d] & t.cell_public)
    regions = [t.regions[r] for r in t.cell_region[cells]]
    providers = sorted({t.providers[t.region_provider[r]] for r in t.cell_region[cells]})
    if len(providers) == 1:
        whose = f"{providers[0]}'s control plane during its outage"
    else:
        whose = f"the control planes of {' and '.join(providers)} during their outage"
    return f"growth in {', '.join(regions)} needs {whose}"


def serving_left(t: FailureTables, batch: FailureBatch, d: int, cells: np.ndarray) -> np.ndarray:
    """cells x RESOURCES: what the serving rows of `cells` hold under failure `d`."""
    return cell_alive(t, batch, cells, _SERVING)[d]


def running_where(t: FailureTables, ev: Evaluation) -> np.ndarray:
    """D x S x R: where each service runs (serving units left) under each failure."""
    out = np.zeros((ev.serving.shape[0], len(t.services), len(t.regions)), dtype=bool)
    out[:, t.cell_service, t.cell_region] = ev.running
    return out


def failure_batch(t: FailureTables, catalog: Catalog, failure: Failure) -> FailureBatch:
    """A what-if :class:`~.whatif_failures.Failure` as a batch of one."""
    return batch_of(t, catalog, [failure.label], [failure.regions], [failure.zones])
