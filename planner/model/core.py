"""The model builder's state and the helpers every constraint family uses.

`BuilderCore` holds what one build reads and writes: the candidates and catalog, the index sets
(i = a (service, offering, role) row, (s, r) = a service present in a region, f = a failure
scenario of the policy, k = a disaster-recovery strategy), per-row column lookups, the cost terms,
and `add`, through which every row goes. The families are methods of the classes that build on it
(`survival.py`, `coupling.py`), and `planner.model.build.ModelBuilder` puts them all together.

`BuildOptions`, `Row` and `BuiltModel` are defined here because the core needs them; other modules
import them from `planner.model.build`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulp

from ..catalog import Catalog
from ..catalog.columns import DATA_RESOURCES, RESOURCES
from .candidates import Candidates, Scenario

COMPUTE_RESOURCES = tuple(r for r in RESOURCES if r not in DATA_RESOURCES)
SLACK_PENALTY = 1e6


_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


@dataclass(frozen=True)
class BuildOptions:
    couple: bool = True  # families that tie services together (see `COUPLING`)
    # Coupling families left out even when coupled: a relaxation whose optimum is a valid lower
    # bound (the joint bound of services tied by latency budgets leaves out egress and the limits).
    omit: frozenset[str] = frozenset()
    # Service -> a cost its own units and fees cannot go below (its proven stand-alone bound): a
    # valid cut that lifts the linear relaxation of a joint model to at least the sum of these.
    service_floor: Mapping[str, float] = field(default_factory=dict)
    elastic: bool = False  # penalised slack on rows, to explain infeasibility
    elastic_families: frozenset[str] | None = None  # which families get slack (None: all)
    # Neighbourhood re-solves (planner.optimize): rows whose unit counts are held at given values,
    # and private capacity already taken by services outside the model, per (site, resource).
    fixed_units: Mapping[int, int] = field(default_factory=dict)
    private_reserved: Mapping[tuple[str, str], float] = field(default_factory=dict)


COUPLING = ("private_capacity", "dependency_latency", "egress", "max_providers", "budget")


@dataclass
class Row:
    family: str
    name: str
    meta: dict[str, Any]


@dataclass
class BuiltModel:
    prob: pulp.LpProblem
    cands: Candidates
    n: dict[int, pulp.LpVariable]  # units, by offers row
    u: dict[tuple[str, str], pulp.LpVariable]  # the service runs (serves) in the region
    z: dict[tuple[str, str], pulp.LpVariable]  # chosen strategy when there is a choice
    egress: list[tuple[pulp.LpVariable, float, dict[str, Any]]]  # (x, $ per month at x = 1, meta)
    rows: list[Row] = field(default_factory=list)
    slacks: list[tuple[pulp.LpVariable, Row]] = field(default_factory=list)
    seconds: float = 0.0
    # the service holds a data copy (and nothing that serves) in the region
    h: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)
    b: dict[tuple[str, str], pulp.LpVariable] = field(default_factory=dict)  # a backup copy
    # where a service takes its writes: a single writer's primary, another stateful service's
    # replication origin (service -> region -> binary)
    p: dict[str, dict[str, pulp.LpVariable]] = field(default_factory=dict)

    @property
    def size(self) -> dict[str, int]:
        return {"variables": len(self.prob.variables()), "constraints": len(self.prob.constraints)}


class BuilderCore:
    """What every family reads and writes while one model is built; the families themselves are
    added by the classes that inherit from it."""

    def __init__(self, cands: Candidates, catalog: Catalog, options: BuildOptions):
        self.c = cands
        self.cat = catalog
        self.opt = options
        self.spec = cands.spec
        self.prob = pulp.LpProblem(_NAME.sub("_", self.spec.app) or "plan", pulp.LpMinimize)
        self.cost: list[tuple[pulp.LpVariable, float]] = []
        self.cost_of: dict[str, list[tuple[pulp.LpVariable, float]]] = defaultdict(
            list
        )  # units and fees
        self.m = BuiltModel(self.prob, cands, {}, {}, {}, [])
        self._names: dict[str, int] = {}
        self._fresh: dict[str, int] = {}
        self._running_after: dict[tuple[str, str, str], pulp.LpVariable] = {}
        self._still_runs_after: dict[tuple[str, str, str], pulp.LpVariable] = {}
        # single-writer services whose candidates include multi-writer offerings (serving.py)
        self.mixed_writers: set[str] = set()
        off = cands.offers
        self.off = off
        # The offers table read once into plain lists and dicts by row label: pandas indexing,
        # groupby and masks per family were most of the build time of the small models (a service
        # alone has tens of rows), and these serve every family below.
        self.labels: list[int] = off.index.tolist()
        self._fields: dict[str, dict[int, Any]] = {}
        self._columns: dict[str, dict[int, float]] = {}
        self.service_of = self.field("service")
        self.region_of = self.field("region")
        self.category_of = self.field("category")
        self.role_of = self.field("role")
        self.max_units = self.column("max_units")
        serves = self.field("serves")
        self.primary = [i for i in self.labels if self.role_of[i] == "primary"]
        self.backups = [i for i in self.labels if self.role_of[i] == "backup"]
        # rows that serve the service's load: where they are, the service runs (docs/model.md,
        # the rules: 1); the other primary rows hold data copies or are a managed instance's disk
        self.serving = [i for i in self.labels if serves[i]]
        # (service, region) cells of primary rows and of serving rows, in order of appearance
        self.cells = self.group(("service", "region"), self.primary)
        self.running_cells = self.group(("service", "region"), self.serving)
        self.regions_of: dict[str, list[str]] = {}
        for s, r in self.running_cells:
            self.regions_of.setdefault(s, []).append(r)
        for regions in self.regions_of.values():
            regions.sort()
        self._region_sets = {s: frozenset(rs) for s, rs in self.regions_of.items()}
        # (service, region, category) -> a managed instance of that category runs there
        self._managed: dict[tuple[str, str, str], pulp.LpVariable] = {}
        # alive units of a row in the zone that fails: k[i] >= n[i]/zones (define_survival)
        self.zone_k: dict[int, pulp.LpVariable] = {}
        demand = cands.demand
        self.demand = {
            s: dict(zip(demand.columns, map(float, values), strict=True))
            for s, values in zip(demand.index, demand.to_numpy().tolist(), strict=True)
        }
        # Services whose every row is held at a given count (the partners in a neighbourhood
        # re-solve): their own rows (demand, survival, copies, cuts, limits) are constants the held
        # plan already meets, so the per-service families skip them and only the rows that tie them
        # to free services are built.
        fixed = self.opt.fixed_units
        self.fixed_services = (
            {s for s, g in self.group(("service",)).items() if all(i in fixed for i in g)}
            if fixed
            else set()
        )
        self.region_info = catalog.regions

    # ---------------------------------------------------------------- helpers
    def column(self, name: str) -> dict[int, float]:
        """Row label -> value of a numeric offers column as a float, built once per model."""
        if name not in self._columns:
            values = map(float, self.c.column_values(name))
            self._columns[name] = dict(zip(self.labels, values, strict=True))
        return self._columns[name]

    def field(self, name: str) -> dict[int, Any]:
        """Row label -> value of any offers column, built once per model."""
        if name not in self._fields:
            self._fields[name] = dict(zip(self.labels, self.c.column_values(name), strict=True))
        return self._fields[name]

    def group(
        self, by: tuple[str, ...], rows: list[int] | None = None, sort: bool = False
    ) -> dict[Any, list[int]]:
        """Row labels of `rows` (default: all, in table order) by the values of the `by` columns
        (a single column's value, or a tuple of them), in order of first appearance or sorted:
        pandas' `groupby(...).groups` as plain lists."""
        fields = [self.field(name) for name in by]
        out: dict[Any, list[int]] = {}
        for i in self.labels if rows is None else rows:
            key = fields[0][i] if len(fields) == 1 else tuple(f[i] for f in fields)
            out.setdefault(key, []).append(i)
        return {k: out[k] for k in sorted(out)} if sort else out

    def fresh(self, prefix: str) -> str:
        """A new variable name `prefix_k` (service names may differ only in characters that LP
        names cannot hold, so names of new families are numbered)."""
        k = self._fresh.get(prefix, 0)
        self._fresh[prefix] = k + 1
        return f"{prefix}_{k}"

    def var(self, name: str, lo: float, hi: float | None, cat: str) -> pulp.LpVariable:
        return pulp.LpVariable(name, lowBound=lo, upBound=hi, cat=cat)

    def add(
        self,
        family: str,
        name: str,
        terms: list[tuple[pulp.LpVariable, float]],
        sense: int,
        rhs: float,
        **meta: Any,
    ) -> None:
        """Add one row `terms (sense) rhs`; elastic mode adds a penalised slack to it."""
        key = _NAME.sub("_", name)[:200]
        if key in self._names:
            self._names[key] += 1
            key = f"{key}#{self._names[key]}"
        else:
            self._names[key] = 0
        row = Row(family, key, meta)
        fams = self.opt.elastic_families
        if self.opt.elastic and (fams is None or family in fams):
            slack = pulp.LpVariable(f"slack_{len(self.m.slacks)}", lowBound=0)
            terms = [*terms, (slack, 1.0 if sense == pulp.LpConstraintGE else -1.0)]
            self.cost.append((slack, SLACK_PENALTY))
            self.m.slacks.append((slack, row))
        self.prob.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, key, rhs))
        self.m.rows.append(row)

    def zone_units(self, i: int) -> pulp.LpVariable:
        """k[i] >= n[i] / zones, integer: the units of row i in the zone that fails (units spread
        evenly, so the ceiling), created once per row and shared by every family that needs it."""
        if i not in self.zone_k:
            s = self.service_of[i]
            self.zone_k[i] = self.var(f"k_{i}", 0, None, pulp.LpInteger)
            self.add(
                "linking",  # what k means, not a requirement a user could relax
                f"zone-spread-{s}-{i}",
                [(self.zone_k[i], 1.0), (self.m.n[i], -1.0 / self.column("zones")[i])],
                pulp.LpConstraintGE,
                0.0,
                service=s,
            )
        return self.zone_k[i]

    def running_after(self, s: str, r: str, f: Scenario) -> pulp.LpVariable:
        """Whether s still runs in r after failure f (rule 1): u[s,r] itself unless f is a zone
        failure of r, which may take every unit it holds there; then a binary a <= u[s,r] and
        a <= the serving units left, sum (n_i - k_i), made once per (service, failure)."""
        if r != f.zone_of:
            return self.m.u[(s, r)]
        key = (s, r, f.id)
        if key not in self._running_after:
            a = self.var(self.fresh("a"), 0, 1, pulp.LpBinary)
            rows = [i for i in self.running_cells[(s, r)]]
            self.add(
                "linking",
                f"runs-{s}-in-{r}-after-{f.id}",
                [(a, 1.0), (self.m.u[(s, r)], -1.0)],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
            self.add(
                "linking",
                f"units-left-{s}-in-{r}-after-{f.id}",
                [
                    (a, 1.0),
                    *((self.m.n[i], -1.0) for i in rows),
                    *((self.zone_units(i), 1.0) for i in rows),
                ],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
            self._running_after[key] = a
        return self._running_after[key]

    def still_runs_after(self, s: str, r: str, f: Scenario) -> pulp.LpVariable:
        """Whether s still runs in r after failure f, bounded from below: a caller in r whose
        dependency budget must hold after f cannot escape the rule by claiming it stopped
        (`running_after` bounds its variable only from above, which is what a callee needs).
        Units spread evenly over Z >= 2 zones leave n - ceil(n/Z) >= 1 exactly when n >= 2, so
        for each serving row n <= 1 + (max units - 1) b."""
        if r != f.zone_of:
            return self.m.u[(s, r)]
        key = (s, r, f.id)
        if key not in self._still_runs_after:
            b = self.var(self.fresh("c"), 0, 1, pulp.LpBinary)
            zones = self.column("zones")
            for i in self.running_cells[(s, r)]:
                most = float(self.max_units[i])
                if zones[i] < 2 or most < 2:
                    continue  # at most one unit, or one zone: nothing of it is left
                self.add(
                    "linking",
                    f"still-runs-{s}-in-{r}-after-{f.id}-row-{i}",
                    [(self.m.n[i], 1.0), (b, -(most - 1.0))],
                    pulp.LpConstraintLE,
                    1.0,
                    service=s,
                    region=r,
                )
            self._still_runs_after[key] = b
        return self._still_runs_after[key]

    def alive_terms(
        self, rows: list[int], res: str, f: Scenario | None
    ) -> list[tuple[pulp.LpVariable, float]]:
        """Capacity in `res` of `rows` that keeps running through failure f (None: normal
        operation): rows in a lost region count nothing, rows in the region losing a zone lose
        the units in that zone."""
        cap, zones = self.column(res), self.column("zones")
        terms: list[tuple[pulp.LpVariable, float]] = []
        for i in rows:
            c = cap[i]
            if c <= 0:
                continue
            r = self.region_of[i]
            if f is not None and r in f.regions:
                continue
            terms.append((self.m.n[i], c))
            if f is not None and r == f.zone_of and zones[i] >= 2:
                terms.append((self.zone_units(i), -c))
        return terms

    def strategy_terms(
        self, s: str, attr: str, scale: float, when: Any = None
    ) -> tuple[list[tuple[pulp.LpVariable, float]], float]:
        """`scale * (strategy attribute)` as (terms, constant): a constant when the strategy is
        fixed."""
        options = self.c.strategies[s]
        if len(options) == 1:
            o = options[0]
            value = getattr(o, attr) if when is None else float(when(o))
            return [], scale * value
        terms = []
        for o in options:
            value = getattr(o, attr) if when is None else float(when(o))
            if value:
                terms.append((self.m.z[(s, o.name)], scale * value))
        return terms, 0.0

    def _dependencies(self) -> list[tuple[int, Any]]:
        """Dependencies between services of this model (a sub-model may hold only some services)."""
        here = set(self.c.demand.index)
        return [
            (k, d)
            for k, d in enumerate(self.spec.dependencies)
            if d.source in here and d.target in here
        ]

    def _touches(self, s: str, f: Scenario) -> bool:
        if s in self.c.global_services and f.kind != "provider":
            return False
        regions = self._region_sets.get(s, frozenset())
        return f.zone_of in regions or not regions.isdisjoint(f.regions)

    def _coupled(self, family: str) -> bool:
        return self.opt.couple and family not in self.opt.omit
