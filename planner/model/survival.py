"""The families that size each service for its own demand: in normal operation (`define_demand`,
and `define_full_copies` for data, which is replicated rather than pooled), after each failure of
the policy (`define_survival`, with the growth rows of strategies that start below full capacity),
the cuts that keep the LP bound of those rows strong (`define_survival_cuts`), and the private share
of hybrid strategies (`define_private_share`).

They live together because each is a row per service over that service's own units: none ties two
services together, so a service held fixed in a neighbourhood re-solve skips all of them.
"""

from __future__ import annotations

import numpy as np
import pulp

from ..catalog.columns import DATA_RESOURCES, RESOURCES
from .candidates import Scenario
from .core import COMPUTE_RESOURCES, BuilderCore


class SurvivalFamilies(BuilderCore):
    """Demand, full copies, survival (and growth), survival cuts, private share."""

    def define_demand(self) -> None:
        """Normal operation: for each service and resource, sum cap[i,res] n[i] >= demand[s,res]."""
        for s, g in self.group(("service",), self.primary).items():
            if s in self.fixed_services:
                continue
            for res in RESOURCES:
                d = self.demand[s][res]
                if d <= 0:
                    continue
                cap = self.column(res)
                terms = [(self.m.n[i], cap[i]) for i in g if cap[i] > 0]
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

    def define_full_copies(self) -> None:
        """Data is replicated, not pooled: every region that holds a service's data holds all of it,
        sum over i in (s,r) of storage[i] n[i] >= d_storage x (u[s,r] + h[s,r]) (it runs there or
        holds a copy there); backup copies likewise, with a
        binary b[s,r] per backup region. (Pooling would let three regions each hold a third and
        'survive' any loss while some objects exist in only one place.)"""
        for res in DATA_RESOURCES:
            capacity = self.column(res)
            for (s, r), idx in self.cells.items():
                if s in self.fixed_services:
                    continue
                d = self.demand[s][res]
                if d <= 0:
                    continue
                terms = [(self.m.n[i], float(capacity[i])) for i in idx if capacity[i] > 0]
                # where it runs or holds a copy (at most one of the two), it holds all its data
                here = [v for v in (self.m.u.get((s, r)), self.m.h.get((s, r))) if v is not None]
                self.add(
                    "demand",
                    f"full-copy-{s}-in-{r}-{res}",
                    [*terms, *((v, -d) for v in here)],
                    pulp.LpConstraintGE,
                    0.0,
                    service=s,
                    region=r,
                    resource=res,
                    demand=d,
                )
            backups = self.group(("service", "region"), self.backups)
            for j, ((s, r), g) in enumerate(backups.items()):
                if s in self.fixed_services:
                    continue
                d = self.demand[s][res]
                b = self.var(f"b_{j}", 0, 1, pulp.LpBinary)
                self.m.b[(s, r)] = b
                for i in g:
                    self.add(
                        "linking",
                        f"backup-link-{s}-{i}",
                        [(self.m.n[i], 1.0), (b, -float(self.max_units[i]))],
                        pulp.LpConstraintLE,
                        0.0,
                        service=s,
                        region=r,
                    )
                terms = [(self.m.n[i], capacity[i]) for i in g if capacity[i] > 0]
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

    def define_survival(self) -> None:
        """For each failure f of the policy that touches service s and each resource it demands:
        capacity surviving f >= fraction(strategy) x demand. Data may survive as backup copies under
        a backup strategy. A zone failure in a multi-zone region removes the largest zone's share of
        each offering, k[i] >= n[i]/zones (k integer, so it is the ceiling). Strategies that start
        from less than full capacity must be able to grow after the failure: into a surviving public
        region (where they are present), or else into private capacity already held."""
        code = {r: j for j, r in enumerate(self.region_info.index)}
        # whole columns as arrays once, sliced per service: the loops below touch numpy, not pandas
        all_names = np.array(list(self.region_of.values()), dtype=object)
        all_regions = np.array([code[r] for r in all_names], dtype=int)
        all_backup = np.array([role == "backup" for role in self.role_of.values()], dtype=bool)
        all_zones = np.array(list(self.column("zones").values()), dtype=int)
        all_private = np.array([k == "private" for k in self.field("kind").values()], dtype=bool)
        all_caps = {res: np.array(list(self.column(res).values())) for res in RESOURCES}
        labels = np.array(self.labels, dtype=np.int64)
        lost_codes = {f.id: [code[r] for r in f.regions if r in code] for f in self.c.scenarios}
        positions: dict[str, list[int]] = {}
        for at, s in enumerate(self.service_of.values()):
            positions.setdefault(s, []).append(at)
        for s, pos in positions.items():
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
                        terms.append((self.zone_units(int(idx[p])), -float(cap[p])))
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
        # where it still runs after f: a zone failure may take all it holds in that region
        terms += [(self.running_after(s, r, f), d) for r in public_regions if (s, r) in self.m.u]
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
        domain_of = self.field(key)
        for s, g in self.group(("service",)).items():
            if s in self.fixed_services:
                continue
            if s in self.c.global_services:
                continue
            prim = [i for i in g if self.role_of[i] == "primary"]
            domains = len({domain_of[i] for i in prim if not _missing(domain_of[i])})
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
                cap = self.column(res)
                terms = [(self.m.n[i], cap[i]) for i in rows if cap[i] > 0]
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
        kind = self.field("kind")
        private = [i for i in self.primary if kind[i] == "private"]
        for s, g in self.group(("service",), private).items():
            if s in self.fixed_services:
                continue
            for res in COMPUTE_RESOURCES:
                d = self.demand[s][res]
                cap = self.column(res)
                terms = [(self.m.n[i], cap[i]) for i in g if cap[i] > 0]
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


def _missing(value: object) -> bool:
    """None or NaN: what pandas' `nunique` leaves out."""
    return value is None or value != value
