"""The one place the placement MILP is built (PuLP), as a short script of constraint families.

`build_model` is the only entry point; `ModelBuilder.build` calls the families in the order of
docs/model.md section 4, and that order decides the rows and variables of the model. The families
are methods of `ModelBuilder`, written in the module of what they are about:

- `core.py`: the state and helpers every family uses (`add`, column lookups, index sets), and
  `BuildOptions`, `Row`, `BuiltModel`;
- `build.py` (here): the variables every other family refers to (units, presence, strategy);
- `survival.py`: each service's own capacity (demand, full copies, survival, cuts, private share);
- `serving.py`: whom that capacity serves (a single writer's primary and standby, user groups'
  shares);
- `traffic.py`: traffic as it flows (internet egress, replication, dependency requests and
  replies);
- `coupling.py`: presence and shared resources (user and dependency latency, private capacity,
  the policy's limits, service floors).

Expressions are built from (variable, coefficient) pairs, never with Python's `sum()` (quadratic
in PuLP). Every row records its family and what it means, so an elastic re-solve can explain an
infeasible model in the user's terms.
"""

from __future__ import annotations

import time

import pulp

from ..catalog import Catalog
from .candidates import Candidates
from .core import (
    COMPUTE_RESOURCES,
    COUPLING,
    SLACK_PENALTY,
    BuildOptions,
    BuiltModel,
    Row,
)
from .coupling import CouplingFamilies
from .serving import ServingFamilies
from .survival import SurvivalFamilies
from .traffic import TrafficFamilies

__all__ = [
    "COMPUTE_RESOURCES",
    "COUPLING",
    "SLACK_PENALTY",
    "BuildOptions",
    "BuiltModel",
    "ModelBuilder",
    "Row",
    "build_model",
]


class ModelBuilder(SurvivalFamilies, ServingFamilies, TrafficFamilies, CouplingFamilies):
    """Builds one model: each `define_*` method adds one constraint family (docs/model.md lists
    them in this order); `build_model` is the only caller."""

    # ---------------------------------------------------------------- variables
    def define_units(self) -> None:
        """n[i] in {0..M_i}: units of offering i for its service; M_i carries the whole demand
        alone."""
        fixed = self.opt.fixed_units
        price = self.column("usd_per_month")
        for i in self.labels:
            if i in fixed:
                v = self.var(f"n_{i}", int(fixed[i]), int(fixed[i]), pulp.LpInteger)
            else:
                v = self.var(f"n_{i}", 0, int(self.max_units[i]), pulp.LpInteger)
            self.m.n[i] = v
            self.cost.append((v, price[i]))
            self.cost_of[self.service_of[i]].append((v, price[i]))

    def define_presence(self) -> None:
        """u[s,r] binary: s runs in r. Serving rows and a managed database's storage rows need it,
        n[i] <= M_i u[s,r(i)] (tight M), and running means serving units, u[s,r] <= sum of serving
        n. Rows that only hold data (a volume, a bucket) need u[s,r] + h[s,r], where h[s,r] binary
        is a data copy in a region s does not run in; u + h <= 1. Offerings with a per-region fee
        (a cluster's control plane) get one fee binary per (service, region, category) that their
        units also need."""
        serves, attached = self.column("serves"), self.column("attached")
        for j, ((s, r), idx) in enumerate(self.cells.items()):
            running = [i for i in idx if serves[i]]
            data_only = [i for i in idx if not serves[i] and not attached[i]]
            u = self.var(f"u_{j}", 0, 1, pulp.LpBinary) if running else None
            h = self.var(f"h_{j}", 0, 1, pulp.LpBinary) if data_only else None
            if u is not None:
                self.m.u[(s, r)] = u
                self.add(
                    "linking",
                    f"present-{s}-in-{r}",
                    [(u, 1.0), *((self.m.n[i], -1.0) for i in running)],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )
            if h is not None:
                self.m.h[(s, r)] = h
                if u is not None:
                    self.add(
                        "linking",
                        f"runs-or-holds-{s}-in-{r}",
                        [(u, 1.0), (h, 1.0)],
                        pulp.LpConstraintLE,
                        1.0,
                        service=s,
                        region=r,
                    )
            for i in idx:
                allow = [v for v in ((u, h) if i in data_only else (u,)) if v is not None]
                if attached[i] and u is not None:
                    allow = self._managed_instance(s, r, i, running)
                if not allow:  # a managed disk where no instance of its kind can run
                    self.m.n[i].upBound = 0
                    continue
                self.add(
                    "linking",
                    f"link-{s}-{i}",
                    [(self.m.n[i], 1.0), *((v, -float(self.max_units[i])) for v in allow)],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )
        fee = self.column("fixed_usd_per_month")
        fees = self.group(
            ("service", "region", "category"), [i for i in self.primary if fee[i] > 0], sort=True
        )
        for k, ((s, r, _cat), g) in enumerate(fees.items()):
            y = self.var(f"fee_{k}", 0, 1, pulp.LpBinary)
            self.cost.append((y, max(fee[i] for i in g)))
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

    def _managed_instance(
        self, s: str, r: str, i: int, running: list[int]
    ) -> list[pulp.LpVariable]:
        """What managed storage row i needs: an instance of its own category in the region (rule
        2), not merely the service running there on other offerings (a database whose tiers allow
        virtual machines too). u[s,r] when every serving row there is of that category; else a
        binary m <= sum of that category's serving units there, shared by the cell's storage rows
        of the category; none when no instance of it can run there."""
        category = self.category_of[i]
        same = [j for j in running if self.category_of[j] == category]
        if len(same) == len(running):
            return [self.m.u[(s, r)]]
        if not same:
            return []
        key = (s, r, category)
        if key not in self._managed:
            m = self.var(self.fresh("m"), 0, 1, pulp.LpBinary)
            self.add(
                "linking",
                f"managed-{s}-in-{r}-{category}",
                [(m, 1.0), *((self.m.n[j], -1.0) for j in same)],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
            self._managed[key] = m
        return [self._managed[key]]

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
        for i in self.backups:
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

    def build(self) -> BuiltModel:
        start = time.perf_counter()
        self.define_units()
        self.define_presence()
        self.define_strategy()
        self.define_demand()
        self.define_full_copies()
        self.define_survival()
        self.define_survival_cuts()
        self.define_single_writer()
        self.define_private_share()
        self.define_user_latency()
        self.define_user_shares()
        self.define_internet_egress()
        self.define_replication()
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


# one shared default, as a default argument is evaluated once anyway (the options are frozen)
_DEFAULTS = BuildOptions()


def build_model(
    cands: Candidates, catalog: Catalog, options: BuildOptions = _DEFAULTS
) -> BuiltModel:
    """Build the placement MILP for the given candidates (all services, or a subset)."""
    return ModelBuilder(cands, catalog, options).build()
