"""The families that say who a service's capacity serves: a single-writer database's primary and
promoted standby (`define_single_writer`), and each user group's share of a user-facing service
(`define_user_shares`); docs/model.md, the rules 3 and 5.

Both are rows per service over that service's own units, like the families of `survival.py`, so a
service held fixed in a neighbourhood re-solve skips them and the decomposition keeps them whole.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pulp

from ..catalog.columns import main_resource
from .candidates import Scenario
from .core import COMPUTE_RESOURCES, BuilderCore

# Up to this many user groups, each state's groups are checked with Hall's condition (one row per
# distinct union of the groups' reaches, no new variables); beyond it, with assignment variables.
HALL_GROUPS = 10


def hall_sets(reach: Mapping[str, frozenset[str]], share: Mapping[str, float]) -> dict:
    """Distinct unions U of the groups' reaches, each with W(U) = the share of the groups that
    reach nothing outside U. Capacity c assigns each group its share d*w_g from its reach exactly
    when c(U) >= d*W(U) for every such U (Hall's theorem for this transportation problem)."""
    unions: set[frozenset[str]] = set()
    for r in reach.values():
        unions |= {u | r for u in unions} | {r}
    return {u: sum(share[g] for g, r in reach.items() if r <= u) for u in unions}


class ServingFamilies(BuilderCore):
    """Single-writer primaries and standbys; user groups' shares."""

    def define_single_writer(self) -> None:
        """A single-writer service has one primary region p[s,r] (binary, sum = 1, only where it
        runs) holding the whole demand of every compute resource. When a failure can take the
        primary, one standby q[s,r] elsewhere (sum <= 1, p + q <= 1) holds alpha x d on its own:
        a failure that loses the primary's region must leave the standby's,
        sum_{r lost} p <= sum_{r kept} q; a zone failure of the primary's region leaves it alpha x d
        unless a standby elsewhere takes over. With a choice of strategy, alpha is sum alpha_k z_k
        and the product with p or q is written with alpha_max as big-M."""
        for s in [x.name for x in self.spec.services if x.name in self.c.single_writer]:
            regions = self.regions_of.get(s, [])
            if not regions:
                continue
            cells = {r: list(self.running_cells[(s, r)]) for r in regions}
            compute = [res for res in COMPUTE_RESOURCES if self.demand[s][res] > 0]
            p = {r: self.var(self.fresh("p"), 0, 1, pulp.LpBinary) for r in regions}
            # a service held fixed keeps its primary too: its callers' writes are routed to it
            self.m.p[s] = p
            uses = self._uses_single_writer(s, [i for r in regions for i in cells[r]])
            self.add(
                "single_writer",
                f"one-primary-{s}",
                [(v, 1.0) for v in p.values()] + ([] if uses is None else [(uses, -1.0)]),
                pulp.LpConstraintEQ,
                1.0 if uses is None else 0.0,
                service=s,
            )
            for r in regions:
                self.add(
                    "single_writer",
                    f"primary-runs-{s}-{r}",
                    [(p[r], 1.0), (self.m.u[(s, r)], -1.0)],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )
                for res in compute:
                    d = self.demand[s][res]
                    self.add(
                        "single_writer",
                        f"primary-{s}-in-{r}-{res}",
                        [*self.alive_terms(cells[r], res, None), (p[r], -d)],
                        pulp.LpConstraintGE,
                        0.0,
                        service=s,
                        region=r,
                        resource=res,
                        demand=d,
                    )
            if s in self.fixed_services:
                continue  # its standby rows are constants the held plan meets
            scenarios = [f for f in self.c.scenarios if self._touches(s, f)]
            if scenarios:
                self._define_standby(s, cells, compute, p, scenarios)
            if self.spec.policy.survive in ("region", "provider"):
                # Every region can be lost, so the primary's d and the standby's alpha x d sit in
                # two regions: a valid cut that the linear relaxation would not find by itself.
                alpha = min(o.compute_fraction for o in self.c.strategies[s])
                for res in compute:
                    d = self.demand[s][res]
                    rows = [i for r in regions for i in cells[r]]
                    need = (1.0 + alpha) * d
                    self.add(
                        "single_writer",
                        f"cut-single-writer-{s}-{res}",
                        self.alive_terms(rows, res, None)
                        + ([] if uses is None else [(uses, -need)]),
                        pulp.LpConstraintGE,
                        need if uses is None else 0.0,
                        service=s,
                        resource=res,
                        demand=d,
                    )

    def _uses_single_writer(self, s: str, rows: list[int]) -> pulp.LpVariable | None:
        """None when every serving candidate of s is single-writer (the rules always apply);
        otherwise a binary w, 1 when s uses a single-writer offering (n_i <= M_i w for those),
        and the primary, standby and cut rows hold only then (rule 3: single-writer unless every
        offering it uses is multi-writer). Its callers' requests then go to wherever it runs."""
        single = self.cat.single_writer([self.field("offering")[i] for i in rows])
        if single.all():
            return None
        w = self.var(self.fresh("sw"), 0, 1, pulp.LpBinary)
        for i in np.asarray(rows)[single]:
            self.add(
                "single_writer",
                f"uses-single-writer-{s}-{i}",
                [(self.m.n[int(i)], 1.0), (w, -float(self.max_units[int(i)]))],
                pulp.LpConstraintLE,
                0.0,
                service=s,
            )
        self.mixed_writers.add(s)
        return w

    def _define_standby(
        self,
        s: str,
        cells: dict[str, list[int]],
        compute: list[str],
        p: dict[str, pulp.LpVariable],
        scenarios: list[Scenario],
    ) -> None:
        regions = list(cells)
        q = {r: self.var(self.fresh("q"), 0, 1, pulp.LpBinary) for r in regions}
        self.add(
            "single_writer",
            f"one-standby-{s}",
            [(v, 1.0) for v in q.values()],
            pulp.LpConstraintLE,
            1.0,
            service=s,
        )
        alpha_terms, alpha_const = self.strategy_terms(s, "compute_fraction", 1.0)
        alpha_max = max(o.compute_fraction for o in self.c.strategies[s])
        for r in regions:
            self.add(
                "single_writer",
                f"standby-apart-{s}-{r}",
                [(p[r], 1.0), (q[r], 1.0)],
                pulp.LpConstraintLE,
                1.0,
                service=s,
                region=r,
            )
            self.add(
                "single_writer",
                f"standby-runs-{s}-{r}",
                [(q[r], 1.0), (self.m.u[(s, r)], -1.0)],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
            for res in compute:  # alive >= alpha d - alpha_max d (1 - q)
                d = self.demand[s][res]
                self.add(
                    "single_writer",
                    f"standby-{s}-in-{r}-{res}",
                    [
                        *self.alive_terms(cells[r], res, None),
                        *((v, -c * d) for v, c in alpha_terms),
                        (q[r], -alpha_max * d),
                    ],
                    pulp.LpConstraintGE,
                    (alpha_const - alpha_max) * d,
                    service=s,
                    region=r,
                    resource=res,
                    demand=d,
                )
        for f in scenarios:
            lost = [r for r in regions if r in f.regions]
            if lost:
                self.add(
                    "single_writer",
                    f"promote-{s}-without-{f.id}",
                    [
                        *((p[r], 1.0) for r in lost),
                        *((q[r], -1.0) for r in regions if r not in lost),
                    ],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    scenario=f.id,
                )
            z = f.zone_of
            if z not in cells:
                continue
            others = [(q[r], 1.0) for r in regions if r != z]
            for res in compute:
                # alive in z >= alpha d - alpha_max d (1 - p[z]) - alpha_max d sum_{r != z} q[r]
                d = self.demand[s][res]
                self.add(
                    "single_writer",
                    f"primary-zone-{s}-without-{f.id}-{res}",
                    [
                        *self.alive_terms(cells[z], res, f),
                        *((v, -c * d) for v, c in alpha_terms),
                        (p[z], -alpha_max * d),
                        *((v, alpha_max * d) for v, _ in others),
                    ],
                    pulp.LpConstraintGE,
                    (alpha_const - alpha_max) * d,
                    service=s,
                    scenario=f.id,
                    resource=res,
                    demand=d,
                )

    def define_user_shares(self) -> None:
        """The running capacity within each user group's budget covers its share of the main
        resource's demand: d in normal operation, alpha x d after each failure that touches the
        service. Groups that reach the same regions share them: Hall's condition over the distinct
        unions of their reaches (`hall_sets`), or assignment variables for many groups. A row
        that a failure leaves as it was in normal operation is implied and left out."""
        share = {g.name: float(g.share) for g in self.spec.users}
        reach_of: dict[str, dict[str, frozenset[str]]] = {}
        for (s, group), groups_reach in self.c.user_reach.items():
            reach_of.setdefault(s, {})[group] = frozenset(groups_reach)
        for s, reach in reach_of.items():
            regions = self.regions_of.get(s, [])
            if s in self.fixed_services or s in self.c.global_services or not regions:
                continue
            res = main_resource(self.demand[s])
            d = self.demand[s][res]
            cells = {r: list(self.running_cells[(s, r)]) for r in regions}
            reach = {g: r & frozenset(regions) for g, r in reach.items()}
            self._shares_in_state(s, res, d, cells, reach, share, None, ([], 1.0), {})
            normal = hall_sets(reach, share) if len(reach) <= HALL_GROUPS else {}
            alpha = self.strategy_terms(s, "compute_fraction", 1.0)
            for f in self.c.scenarios:
                if self._touches(s, f):
                    kept = {g: r - f.regions for g, r in reach.items()}
                    self._shares_in_state(s, res, d, cells, kept, share, f, alpha, normal)

    def _shares_in_state(
        self,
        s: str,
        res: str,
        d: float,
        cells: dict[str, list[int]],
        reach: dict[str, frozenset[str]],
        share: dict[str, float],
        f: Scenario | None,
        alpha: tuple[list[tuple[pulp.LpVariable, float]], float],
        normal: dict,
    ) -> None:
        alpha_terms, alpha_const = alpha
        if not alpha_terms and alpha_const <= 0:
            return  # nothing must keep serving (pilot light, backup and restore)
        tag = "" if f is None else f"-without-{f.id}"
        meta = {"service": s, "resource": res} | ({} if f is None else {"scenario": f.id})
        if len(reach) > HALL_GROUPS:
            self._assign_shares(s, res, d, cells, reach, share, f, alpha, tag, meta)
            return
        everywhere = frozenset(cells) - (f.regions if f is not None else frozenset())
        for j, (union, w) in enumerate(sorted(hall_sets(reach, share).items(), key=_order)):
            if w <= 0 or union == everywhere:
                continue  # the demand and survival rows already ask this of all regions
            hit = f is not None and (f.zone_of in union or bool(union & f.regions))
            if f is not None and not hit and w <= normal.get(union, 0.0) + 1e-12:
                continue  # the same capacity as in normal operation, asked for no more
            terms = [t for r in sorted(union) for t in self.alive_terms(cells[r], res, f)]
            self.add(
                "user_share",
                f"users-share-{s}-{j}{tag}",
                [*terms, *((v, -c * w * d) for v, c in alpha_terms)],
                pulp.LpConstraintGE,
                alpha_const * w * d,
                groups=sorted(g for g, r in reach.items() if r <= union),
                share=w,
                demand=d,
                **meta,
            )

    def _assign_shares(
        self,
        s: str,
        res: str,
        d: float,
        cells: dict[str, list[int]],
        reach: dict[str, frozenset[str]],
        share: dict[str, float],
        f: Scenario | None,
        alpha: tuple[list[tuple[pulp.LpVariable, float]], float],
        tag: str,
        meta: dict,
    ) -> None:
        """x[g,r] >= 0 of region r's capacity serves group g: sum_g x[g,r] <= alive capacity of r,
        sum_{r in reach(g)} x[g,r] >= w_g alpha d."""
        alpha_terms, alpha_const = alpha
        x: dict[tuple[str, str], pulp.LpVariable] = {}
        for g, regs in reach.items():
            for r in sorted(regs):
                x[(g, r)] = self.var(self.fresh("x"), 0, None, pulp.LpContinuous)
            self.add(
                "user_share",
                f"users-share-{s}-{g}{tag}",
                [
                    *((x[(g, r)], 1.0) for r in sorted(regs)),
                    *((v, -c * share[g] * d) for v, c in alpha_terms),
                ],
                pulp.LpConstraintGE,
                alpha_const * share[g] * d,
                groups=[g],
                share=share[g],
                demand=d,
                **meta,
            )
        for r, rows in cells.items():
            used = [(v, -1.0) for (g, rr), v in x.items() if rr == r]
            if used:
                self.add(
                    "user_share",
                    f"users-capacity-{s}-{r}{tag}",
                    [*self.alive_terms(rows, res, f), *used],
                    pulp.LpConstraintGE,
                    0.0,
                    region=r,
                    **meta,
                )


def _order(item: tuple[frozenset[str], float]) -> tuple[int, list[str]]:
    """A stable order of the unions (sets have none): smallest first, then by name."""
    return (len(item[0]), sorted(item[0]))
