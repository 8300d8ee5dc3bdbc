"""The one place the placement MILP is built (PuLP), as a short script of constraint families.

Index sets come from the candidates table: i = a (service, offering, role) row, (s, r) = a service
present in a region, f = a failure scenario of the policy, k = a disaster-recovery strategy.
Expressions are built from (variable, coefficient) pairs, never with Python's `sum()` (quadratic
in PuLP). Every row records its family and what it means, so an elastic re-solve can explain an
infeasible model in the user's terms.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from ..catalog import Catalog
from ..catalog.columns import DATA_RESOURCES, RESOURCES, SITE_CAPACITY, main_resource
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
    u: dict[tuple[str, str], pulp.LpVariable]  # presence of a service in a region
    z: dict[tuple[str, str], pulp.LpVariable]  # chosen strategy when there is a choice
    egress: list[tuple[pulp.LpVariable, float, dict[str, Any]]]  # (x, $ per month at x = 1, meta)
    rows: list[Row] = field(default_factory=list)
    slacks: list[tuple[pulp.LpVariable, Row]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def size(self) -> dict[str, int]:
        return {"variables": len(self.prob.variables()), "constraints": len(self.prob.constraints)}


class ModelBuilder:
    """Builds one model: each `define_*` method adds one constraint family (docs/model.md lists
    them in this order); `build_model` is the only caller."""

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
        off = cands.offers
        self.off = off
        self.primary = off.index[off["role"] == "primary"]
        self.regions_of = {
            s: sorted(set(g["region"]))
            for s, g in off.loc[self.primary].groupby("service", sort=False)
        }
        # per-row lookups and the (service, region) cells, computed once: pandas indexing per row
        # or a mask over the whole table per cell was most of the build time of the small models
        self._columns: dict[str, dict[int, float]] = {}
        self.max_units = self.column("max_units")
        self.service_of = dict(zip(off.index, off["service"].tolist(), strict=True))
        self.cells = off.loc[self.primary].groupby(["service", "region"], sort=False).groups
        self.demand = {
            s: {res: float(v) for res, v in row.items()}
            for s, row in cands.demand.to_dict(orient="index").items()
        }
        # Services whose every row is held at a given count (the partners in a neighbourhood
        # re-solve): their own rows (demand, survival, copies, cuts, limits) are constants the held
        # plan already meets, so the per-service families skip them and only the rows that tie them
        # to free services are built.
        fixed = self.opt.fixed_units
        self.fixed_services = (
            {
                s
                for s, g in off.groupby("service", sort=False).groups.items()
                if all(i in fixed for i in g)
            }
            if fixed
            else set()
        )
        self.region_info = catalog.regions

    # ---------------------------------------------------------------- helpers
    def column(self, name: str) -> dict[int, float]:
        """Row label -> value of a numeric offers column, built once per model."""
        if name not in self._columns:
            self._columns[name] = dict(
                zip(self.off.index, self.off[name].astype(float).tolist(), strict=True)
            )
        return self._columns[name]

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

    # ---------------------------------------------------------------- families
    def define_units(self) -> None:
        """n[i] in {0..M_i}: units of offering i for its service; M_i carries the whole demand
        alone."""
        fixed = self.opt.fixed_units
        for i, s, m, price in zip(
            self.off.index,
            self.off["service"],
            self.off["max_units"],
            self.off["usd_per_month"],
            strict=True,
        ):
            if i in fixed:
                v = self.var(f"n_{i}", int(fixed[i]), int(fixed[i]), pulp.LpInteger)
            else:
                v = self.var(f"n_{i}", 0, int(m), pulp.LpInteger)
            self.m.n[i] = v
            self.cost.append((v, float(price)))
            self.cost_of[s].append((v, float(price)))

    def define_presence(self) -> None:
        """u[s,r] binary; n[i] <= M_i u[s,r(i)] (tight M) and u[s,r] <= sum n (present means
        >= 1 unit). Offerings with a per-region fee (a cluster's control plane) get one fee binary
        per (service, region, category) that their units also need."""
        for j, ((s, r), idx) in enumerate(self.cells.items()):
            u = self.var(f"u_{j}", 0, 1, pulp.LpBinary)
            self.m.u[(s, r)] = u
            for i in idx:
                self.add(
                    "linking",
                    f"link-{s}-{i}",
                    [(self.m.n[i], 1.0), (u, -float(self.max_units[i]))],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )
            self.add(
                "linking",
                f"present-{s}-in-{r}",
                [(u, 1.0), *((self.m.n[i], -1.0) for i in idx)],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
        fees = self.off.loc[self.primary][self.off.loc[self.primary, "fixed_usd_per_month"] > 0]
        for k, ((s, r, _cat), g) in enumerate(
            fees.groupby(["service", "region", "category"]).groups.items()
        ):
            y = self.var(f"fee_{k}", 0, 1, pulp.LpBinary)
            self.cost.append((y, float(self.off.loc[g, "fixed_usd_per_month"].max())))
            self.cost_of[s].append(self.cost[-1])
            for i in g:
                self.add(
                    "linking",
                    f"fee-{s}-{i}",
                    [(self.m.n[i], 1.0), (y, -float(self.max_units[i]))],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )

    def define_full_copies(self) -> None:
        """Data is replicated, not pooled: every region that holds a service's data holds all of it,
        sum over i in (s,r) of storage[i] n[i] >= d_storage x u[s,r]; backup copies likewise, with a
        binary b[s,r] per backup region. (Pooling would let three regions each hold a third and
        'survive' any loss while some objects exist in only one place.)"""
        for res in DATA_RESOURCES:
            capacity = self.column(res)
            for (s, r), u in self.m.u.items():
                if s in self.fixed_services:
                    continue
                d = self.demand[s][res]
                if d <= 0:
                    continue
                terms = [
                    (self.m.n[i], float(capacity[i])) for i in self.cells[(s, r)] if capacity[i] > 0
                ]
                self.add(
                    "demand",
                    f"full-copy-{s}-in-{r}-{res}",
                    [*terms, (u, -d)],
                    pulp.LpConstraintGE,
                    0.0,
                    service=s,
                    region=r,
                    resource=res,
                    demand=d,
                )
            backups = self.off[self.off["role"] == "backup"]
            for j, ((s, r), g) in enumerate(backups.groupby(["service", "region"], sort=False)):
                if s in self.fixed_services:
                    continue
                d = self.demand[s][res]
                b = self.var(f"b_{j}", 0, 1, pulp.LpBinary)
                for i in g.index:
                    self.add(
                        "linking",
                        f"backup-link-{s}-{i}",
                        [(self.m.n[i], 1.0), (b, -float(self.max_units[i]))],
                        pulp.LpConstraintLE,
                        0.0,
                        service=s,
                        region=r,
                    )
                terms = [
                    (self.m.n[i], float(c)) for i, c in zip(g.index, g[res], strict=True) if c > 0
                ]
                self.add(
                    "demand",
                    f"full-backup-{s}-in-{r}",
                    [*terms, (b, -d)],
                    pulp.LpConstraintGE,
                    0.0,
                    service=s,
                    region=r,
                    resource=res,
                    demand=d,
                )

    def define_strategy(self) -> None:
        """z[s,k] binary, one strategy per service when `dr: auto` leaves a choice; backup copies
        (object storage in another region) exist only under a strategy that uses them."""
        for s, options in self.c.strategies.items():
            if len(options) > 1:
                zs = [
                    (self.var(f"z_{len(self.m.z) + j}", 0, 1, pulp.LpBinary), o)
                    for j, o in enumerate(options)
                ]
                for z, o in zs:
                    self.m.z[(s, o.name)] = z
                self.add(
                    "strategy",
                    f"one-strategy-{s}",
                    [(z, 1.0) for z, _ in zs],
                    pulp.LpConstraintEQ,
                    1.0,
                    service=s,
                )
        backups = self.off.index[self.off["role"] == "backup"]
        for i in backups:
            s = self.service_of[i]
            terms, const = self.strategy_terms(s, "backup_copies", float(self.max_units[i]))
            if terms:
                self.add(
                    "strategy",
                    f"backup-needs-strategy-{s}-{i}",
                    [(self.m.n[i], 1.0), *((v, -c) for v, c in terms)],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                )
            elif const == 0:
                self.m.n[i].upBound = 0

    def define_demand(self) -> None:
        """Normal operation: for each service and resource, sum cap[i,res] n[i] >= demand[s,res]."""
        prim = self.off.loc[self.primary]
        for s, g in prim.groupby("service", sort=False):
            if s in self.fixed_services:
                continue
            for res in RESOURCES:
                d = self.demand[s][res]
                if d <= 0:
                    continue
                terms = [
                    (self.m.n[i], float(cap))
                    for i, cap in zip(g.index, g[res], strict=True)
                    if cap > 0
                ]
                self.add(
                    "demand",
                    f"demand-{s}-{res}",
                    terms,
                    pulp.LpConstraintGE,
                    d,
                    service=s,
                    resource=res,
                    demand=d,
                )

    def _touches(self, s: str, f: Scenario) -> bool:
        if s in self.c.global_services and f.kind != "provider":
            return False
        return any(r in f.regions or r == f.zone_of for r in self.regions_of.get(s, ()))

    def define_survival(self) -> None:
        """For each failure f of the policy that touches service s and each resource it demands:
        capacity surviving f >= fraction(strategy) x demand. Data may survive as backup copies under
        a backup strategy. A zone failure in a multi-zone region removes the largest zone's share of
        each offering, k[i] >= n[i]/zones (k integer, so it is the ceiling). Strategies that start
        from less than full capacity must be able to grow after the failure: into a surviving public
        region (where they are present), or else into private capacity already held."""
        zone_k: dict[int, pulp.LpVariable] = {}
        code = {r: j for j, r in enumerate(self.region_info.index)}
        # whole columns as arrays once, sliced per service: the loops below touch numpy, not pandas
        off = self.off
        all_names = off["region"].to_numpy(dtype=object)
        all_regions = np.array([code[r] for r in all_names])
        all_backup = (off["role"] == "backup").to_numpy()
        all_zones = off["zones"].to_numpy(dtype=int)
        all_private = (off["kind"] == "private").to_numpy()
        all_caps = {res: off[res].to_numpy(dtype=float) for res in RESOURCES}
        labels = off.index.to_numpy()
        lost_codes = {f.id: [code[r] for r in f.regions if r in code] for f in self.c.scenarios}
        for s, pos in off.groupby("service", sort=False).indices.items():
            if s in self.fixed_services:
                continue
            scen = [f for f in self.c.scenarios if self._touches(s, f)]
            if not scen:
                continue
            idx = labels[pos]
            nvars = [self.m.n[i] for i in idx]
            regions, backup, zones = all_regions[pos], all_backup[pos], all_zones[pos]
            private, region_names = all_private[pos], all_names[pos]
            caps = {res: col[pos] for res, col in all_caps.items()}
            for f in scen:
                lost = np.isin(regions, lost_codes[f.id])
                in_zone = (regions == code.get(f.zone_of, -1)) & (zones >= 2)
                for res in RESOURCES:
                    d = self.demand[s][res]
                    if d <= 0:
                        continue
                    attr = "data_fraction" if res in DATA_RESOURCES else "compute_fraction"
                    frac_terms, frac_const = self.strategy_terms(s, attr, d)
                    cap = caps[res]
                    alive = (cap > 0) & ~lost & (~backup if res not in DATA_RESOURCES else True)
                    terms = [(nvars[p], float(cap[p])) for p in np.flatnonzero(alive)]
                    for p in np.flatnonzero(alive & in_zone):
                        i = int(idx[p])
                        if i not in zone_k:
                            zone_k[i] = self.var(f"k_{i}", 0, None, pulp.LpInteger)
                            self.add(
                                "survival",
                                f"zone-spread-{s}-{i}",
                                [(zone_k[i], 1.0), (nvars[p], -1.0 / int(zones[p]))],
                                pulp.LpConstraintGE,
                                0.0,
                                service=s,
                            )
                        terms.append((zone_k[i], -float(cap[p])))
                    terms += [(v, -c) for v, c in frac_terms]
                    self.add(
                        "survival",
                        f"survive-{s}-without-{f.id}-{res}",
                        terms,
                        pulp.LpConstraintGE,
                        frac_const,
                        service=s,
                        scenario=f.id,
                        resource=res,
                        demand=d,
                    )
                    if res not in DATA_RESOURCES:
                        self._define_growth(
                            s, f, res, d, lost, backup, private, cap, nvars, region_names
                        )

    def _define_growth(
        self,
        s: str,
        f: Scenario,
        res: str,
        d: float,
        lost: np.ndarray,
        backup: np.ndarray,
        private: np.ndarray,
        cap: np.ndarray,
        nvars: list[pulp.LpVariable],
        region_names: np.ndarray,
    ) -> None:
        grow_terms, grow_const = self.strategy_terms(
            s, "compute_fraction", d, when=lambda o: o.compute_fraction < 1
        )
        if not grow_terms and grow_const == 0:
            return
        keep = ~lost & ~backup
        terms = [(nvars[p], float(cap[p])) for p in np.flatnonzero(keep & private & (cap > 0))]
        public_regions = sorted(set(region_names[keep & ~private]))
        terms += [(self.m.u[(s, r)], d) for r in public_regions if (s, r) in self.m.u]
        terms += [(v, -c) for v, c in grow_terms]
        self.add(
            "survival",
            f"grow-{s}-after-{f.id}-{res}",
            terms,
            pulp.LpConstraintGE,
            grow_const,
            service=s,
            scenario=f.id,
            resource=res,
            demand=d,
            growth=True,
        )

    def define_survival_cuts(self) -> None:
        """Valid inequalities that make the LP bound strong (the N+1 rows alone let the relaxation
        spread fractional units over every region). When the policy's failures partition regions
        (region, site, provider) and service s can be present in at most K of those domains, each
        domain holds at most T - frac x d of the total T, so T >= frac x d x K / (K - 1)."""
        policy = self.spec.policy.survive
        if policy not in ("region", "site", "provider"):
            return
        key = {"region": "region", "site": "site", "provider": "provider"}[policy]
        for s, g in self.off.groupby("service", sort=False):
            if s in self.fixed_services:
                continue
            if s in self.c.global_services:
                continue
            prim = g[g["role"] == "primary"]
            domains = prim[key].nunique()
            max_regions = self.spec.service(s).max_regions
            k = min(domains, max_regions)
            if k < 2:
                continue
            for res in RESOURCES:
                d = self.demand[s][res]
                if d <= 0:
                    continue
                attr = "data_fraction" if res in DATA_RESOURCES else "compute_fraction"
                frac = min(getattr(o, attr) for o in self.c.strategies[s])
                if frac <= 0:
                    continue
                rows = g if res in DATA_RESOURCES else prim
                terms = [
                    (self.m.n[i], float(c))
                    for i, c in zip(rows.index, rows[res], strict=True)
                    if c > 0
                ]
                need = (
                    max(d, frac * d * k / (k - 1))
                    if res not in DATA_RESOURCES
                    else frac * d * k / (k - 1)
                )
                self.add(
                    "survival_cut",
                    f"cut-{s}-{res}",
                    terms,
                    pulp.LpConstraintGE,
                    need,
                    service=s,
                    resource=res,
                    demand=d,
                )

    def define_private_share(self) -> None:
        """Hybrid strategies: for services with private candidates, private capacity covers at
        least `policy.private_share_min` of each compute resource's demand:
        sum_{i private} cap n >= share x d."""
        share = self.spec.policy.private_share_min
        if share <= 0:
            return
        prim = self.off.loc[self.primary]
        for s, g in prim[prim["kind"] == "private"].groupby("service", sort=False):
            if s in self.fixed_services:
                continue
            for res in COMPUTE_RESOURCES:
                d = self.demand[s][res]
                terms = [
                    (self.m.n[i], float(c)) for i, c in zip(g.index, g[res], strict=True) if c > 0
                ]
                if d > 0 and terms:
                    self.add(
                        "private_share",
                        f"private-share-{s}-{res}",
                        terms,
                        pulp.LpConstraintGE,
                        share * d,
                        service=s,
                        resource=res,
                        share=share,
                    )

    def define_private_capacity(self) -> None:
        """Per private site and resource: sum over services of cap[i] n[i] <= usable capacity
        (hosts x allocation ratio - reserved). Running units only; growth into a site is held in
        full by `define_survival`."""
        priv = self.off[self.off["kind"] == "private"]
        sites = self.cat.sites
        for r, g in priv.groupby("region", sort=True):
            for res, col in SITE_CAPACITY.items():
                terms = [
                    (self.m.n[i], float(c)) for i, c in zip(g.index, g[res], strict=True) if c > 0
                ]
                usable = float(sites.at[r, col]) - float(
                    self.opt.private_reserved.get((r, res), 0.0)
                )
                if terms:
                    self.add(
                        "private_capacity",
                        f"capacity-{r}-{res}",
                        terms,
                        pulp.LpConstraintLE,
                        usable,
                        site=r,
                        resource=res,
                        capacity=usable,
                    )

    def define_user_latency(self) -> None:
        """Each user group reaches a present region of every user-facing service within its budget,
        in normal operation and after each failure of the policy."""
        for (s, group), reach in self.c.user_reach.items():
            if s in self.fixed_services:
                continue
            regs = sorted(reach)
            self.add(
                "user_latency",
                f"users-{group}-reach-{s}",
                [(self.m.u[(s, r)], 1.0) for r in regs if (s, r) in self.m.u],
                pulp.LpConstraintGE,
                1.0,
                service=s,
                group=group,
            )
            for f in self.c.scenarios:
                if not self._touches(s, f):
                    continue
                alive = [r for r in regs if r not in f.regions and (s, r) in self.m.u]
                self.add(
                    "user_latency",
                    f"users-{group}-reach-{s}-without-{f.id}",
                    [(self.m.u[(s, r)], 1.0) for r in alive],
                    pulp.LpConstraintGE,
                    1.0,
                    service=s,
                    group=group,
                    scenario=f.id,
                )

    def define_dependency_latency(self) -> None:
        """u[s,r] <= sum of u[t,r'] over regions r' of the callee within the budget of r (no
        products)."""
        for k, dep in self._dependencies():
            if dep.max_latency_ms is None:
                continue
            s, t = dep.source, dep.target
            targets = self.regions_of.get(t, [])
            for r in self.regions_of.get(s, []):
                near = [rt for rt in targets if self.cat.rtt_ms(r, rt) <= dep.max_latency_ms]
                self.add(
                    "dependency_latency",
                    f"dep{k}-{s}-in-{r}-near-{t}",
                    [(self.m.u[(s, r)], 1.0), *((self.m.u[(t, rt)], -1.0) for rt in near)],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    target=t,
                    region=r,
                    budget=dep.max_latency_ms,
                )

    def define_egress(self) -> None:
        """Traffic on a dependency leaves each region running the caller in proportion to the
        capacity held there (its main resource, over the caller's demand) and goes to the
        cheapest region running the callee (free in the same region). Per rate class c of the
        callee's regions: sum_c y[d,r,c] >= gb x cap_r / D_s and y[d,r,c] <= F x sum of u[t,r']
        for r' in c (F bounds the region's traffic). Cost sum rate_c y[d,r,c]: linear, no products
        of binaries."""
        for k, dep in self._dependencies():
            if dep.gb_per_month <= 0:
                continue
            s, t = dep.source, dep.target
            res = main_resource(self.c.demand.loc[s])
            d = self.demand[s][res]
            cap = self.column(res)
            targets = self.regions_of.get(t, [])
            for r in self.regions_of.get(s, []):
                held = [i for i in self.cells[(s, r)] if cap[i] > 0]
                if not held:
                    continue
                share = [(self.m.n[i], -dep.gb_per_month * cap[i] / d) for i in held]
                cap_max = sum(
                    cap[i] * self.max_units[i] for i in held
                )  # the most this region can hold
                bound = dep.gb_per_month * max(1.0, cap_max / d)
                classes: dict[float, list[str]] = defaultdict(list)
                for rt in targets:
                    classes[round(self.cat.egress_rate(r, rt), 6)].append(rt)
                ys = []
                for rate, regs in sorted(classes.items()):
                    y = self.var(f"y_{len(self.m.egress)}", 0, None, pulp.LpContinuous)
                    self.m.egress.append((y, rate, {"dependency": k, "region": r, "rate": rate}))
                    if rate:
                        self.cost.append((y, rate))
                    self.add(
                        "egress",
                        f"egress{k}-{r}-{rate}",
                        [(y, 1.0), *((self.m.u[(t, rt)], -bound) for rt in regs)],
                        pulp.LpConstraintLE,
                        0.0,
                        dependency=k,
                    )
                    ys.append(y)
                self.add(
                    "egress",
                    f"egress{k}-{r}-routed",
                    [*((y, 1.0) for y in ys), *share],
                    pulp.LpConstraintGE,
                    0.0,
                    dependency=k,
                )

    def define_limits(self) -> None:
        """At most `max_regions` regions per service; at most `max_providers` providers; the
        budget."""
        by_service: dict[str, list[pulp.LpVariable]] = defaultdict(list)
        for (s, _r), u in self.m.u.items():
            by_service[s].append(u)
        for svc in self.spec.services:
            if svc.name in self.fixed_services:
                continue
            us = by_service.get(svc.name, [])
            if len(us) > svc.max_regions:
                self.add(
                    "max_regions",
                    f"max-regions-{svc.name}",
                    [(u, 1.0) for u in us],
                    pulp.LpConstraintLE,
                    float(svc.max_regions),
                    service=svc.name,
                    limit=svc.max_regions,
                )
        if self._coupled("max_providers") and self.spec.policy.max_providers is not None:
            provider_of = self.region_info["provider"]
            providers = sorted({provider_of[r] for (_s, r) in self.m.u})
            if len(providers) > self.spec.policy.max_providers:
                w = {p: self.var(f"w_{j}", 0, 1, pulp.LpBinary) for j, p in enumerate(providers)}
                for (s, r), u in self.m.u.items():
                    self.add(
                        "max_providers",
                        f"uses-{provider_of[r]}-{s}-{r}",
                        [(u, 1.0), (w[provider_of[r]], -1.0)],
                        pulp.LpConstraintLE,
                        0.0,
                        service=s,
                        provider=provider_of[r],
                    )
                # backup copies have no presence variable but still use their provider
                for i in self.off.index[self.off["role"] == "backup"]:
                    p = provider_of[self.off.at[i, "region"]]
                    self.add(
                        "max_providers",
                        f"backup-uses-{p}-{i}",
                        [(self.m.n[i], 1.0), (w[p], -float(self.off.at[i, "max_units"]))],
                        pulp.LpConstraintLE,
                        0.0,
                        service=self.off.at[i, "service"],
                        provider=p,
                    )
                self.add(
                    "max_providers",
                    "max-providers",
                    [(v, 1.0) for v in w.values()],
                    pulp.LpConstraintLE,
                    float(self.spec.policy.max_providers),
                    limit=self.spec.policy.max_providers,
                )
        if self._coupled("budget") and self.spec.policy.budget_per_month is not None:
            real = [(v, c) for v, c in self.cost if not v.name.startswith("slack_")]
            self.add(
                "budget",
                "budget",
                real,
                pulp.LpConstraintLE,
                float(self.spec.policy.budget_per_month),
                budget=self.spec.policy.budget_per_month,
            )

    def define_service_floors(self) -> None:
        """sum of a service's unit prices and fees >= its stand-alone bound
        (BuildOptions.service_floor)."""
        for s, floor in self.opt.service_floor.items():
            if s in self.cost_of and floor > 0:
                self.add(
                    "service_floor",
                    f"floor-{s}",
                    self.cost_of[s],
                    pulp.LpConstraintGE,
                    float(floor),
                    service=s,
                )

    def _coupled(self, family: str) -> bool:
        return self.opt.couple and family not in self.opt.omit

    def build(self) -> BuiltModel:
        start = time.perf_counter()
        self.define_units()
        self.define_presence()
        self.define_strategy()
        self.define_demand()
        self.define_full_copies()
        self.define_survival()
        self.define_survival_cuts()
        self.define_private_share()
        self.define_user_latency()
        # uncoupled, a relaxation still keeps each service within a site's capacity on its own
        self.define_private_capacity()
        if self._coupled("dependency_latency"):
            self.define_dependency_latency()
        if self._coupled("egress"):
            self.define_egress()
        self.define_limits()
        self.define_service_floors()
        self.prob.setObjective(pulp.LpAffineExpression(self.cost))
        self.m.seconds = time.perf_counter() - start
        return self.m


def build_model(
    cands: Candidates, catalog: Catalog, options: BuildOptions = BuildOptions()
) -> BuiltModel:
    """Build the placement MILP for the given candidates (all services, or a subset)."""
    return ModelBuilder(cands, catalog, options).build()
