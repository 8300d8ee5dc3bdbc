"""The families that price traffic as it flows (docs/model.md section 5, and `planner.traffic`,
which routes the same flows for the bill): internet egress to each user group
(`define_internet_egress`), replication of each full copy at the write rate
(`define_replication`), and each dependency's request and reply on their declared volumes
(`define_egress`).

The first two are per service (their rows sum over one service's units), so stand-alone models
and their bounds price them; dependency traffic ties two services and is one of the `COUPLING`
families. All are linear: a flow variable per source region and price class, bounded by the
capacity the service holds there and by where the other end runs, never a product of binaries.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from ..catalog.columns import main_resource
from .core import BuilderCore


class TrafficFamilies(BuilderCore):
    """Internet egress, replication and dependency traffic."""

    def _main_capacity(self, s: str, r: str) -> list[tuple[pulp.LpVariable, float]]:
        """Capacity of s in r in its main resource, as (unit variable, capacity per unit)."""
        res = main_resource(self.demand[s])
        return self.alive_terms(list(self.running_cells.get((s, r), [])), res, None)

    def define_internet_egress(self) -> None:
        """A service's internet traffic I: each user group g receives w_g I from regions within
        its budget (all running regions when it has no groups), t[g,r] >= 0, and a region sends
        at most its share of the capacity, sum_g t[g,r] <= I cap_r / d. Cost: the region's
        first-tier internet rate per GB."""
        for svc in self.spec.services:
            s, volume = svc.name, svc.internet_gb_per_month
            regions = self.regions_of.get(s, [])
            if volume <= 0 or not regions or s in self.fixed_services:
                continue
            if s in self.c.global_services:
                continue  # a SaaS vendor's traffic is in its price
            d = self.demand[s][main_resource(self.demand[s])]
            if svc.user_facing and self.spec.users:
                groups = [
                    (
                        u.name,
                        u.share * volume,
                        sorted(self.c.user_reach.get((s, u.name), ())) or regions,
                    )
                    for u in self.spec.users
                ]
            else:
                groups = [("all users", volume, regions)]
            sent: dict[str, list[pulp.LpVariable]] = defaultdict(list)
            for g, gb, reach in groups:
                ts = []
                for r in reach:
                    t = self.var(self.fresh("t"), 0, None, pulp.LpContinuous)
                    rate = self.cat.internet_rate(r)
                    if rate:
                        self.cost.append((t, rate))
                        self.cost_of[s].append((t, rate))
                    sent[r].append(t)
                    ts.append(t)
                self.add(
                    "internet",
                    f"internet-{s}-to-{g}",
                    [(t, 1.0) for t in ts],
                    pulp.LpConstraintGE,
                    gb,
                    service=s,
                    group=g,
                )
            for r, ts in sent.items():
                self.add(
                    "internet",
                    f"internet-{s}-from-{r}",
                    [
                        *((t, 1.0) for t in ts),
                        *((n, -c * volume / d) for n, c in self._main_capacity(s, r)),
                    ],
                    pulp.LpConstraintLE,
                    0.0,
                    service=s,
                    region=r,
                )

    def origins(self, s: str) -> dict[str, pulp.LpVariable]:
        """Where s takes its writes: a single writer's primary p[s,r]; for another stateful
        service, o[s,r] binary over the regions it runs in (sum 1, o <= u), made on first use."""
        if s in self.m.p:
            return self.m.p[s]
        regions = self.regions_of.get(s, [])
        o = {r: self.var(self.fresh("o"), 0, 1, pulp.LpBinary) for r in regions}
        self.add(
            "replication",
            f"one-origin-{s}",
            [(v, 1.0) for v in o.values()],
            pulp.LpConstraintEQ,
            1.0,
            service=s,
        )
        for r, v in o.items():
            self.add(
                "replication",
                f"origin-runs-{s}-{r}",
                [(v, 1.0), (self.m.u[(s, r)], -1.0)],
                pulp.LpConstraintLE,
                0.0,
                service=s,
                region=r,
            )
        self.m.p[s] = o
        return o

    def define_replication(self) -> None:
        """Every region other than the origin holding a copy of a stateful service's data (it runs
        there, holds a copy, or keeps a backup) receives its write rate W:
        e_r >= W rate_c (sum_{r' in c} o[r'] + copy_r - 1) for each class c of origins r' by the
        price of r' -> r (equal prices share a row; the origin r itself is free)."""
        for svc in self.spec.services:
            s, w = svc.name, svc.write_gb_per_month
            if w <= 0 or s in self.fixed_services or not self.regions_of.get(s):
                continue
            origin = self.origins(s)
            copies: list[tuple[str, list[pulp.LpVariable]]] = []
            for (ss, r), _idx in self.cells.items():
                if ss == s:
                    here = [
                        v for v in (self.m.u.get((s, r)), self.m.h.get((s, r))) if v is not None
                    ]
                    copies.append((r, here))
            copies += [(r, [b]) for (ss, r), b in self.m.b.items() if ss == s]
            for k, (r, copy) in enumerate(copies):
                classes: dict[float, list[pulp.LpVariable]] = defaultdict(list)
                for ro, o in origin.items():
                    rate = round(self.cat.egress_rate(ro, r), 6) if ro != r else 0.0
                    if rate > 0:
                        classes[rate].append(o)
                if not classes:
                    continue
                e = self.var(self.fresh("e"), 0, None, pulp.LpContinuous)
                self.cost.append((e, 1.0))
                self.cost_of[s].append((e, 1.0))
                for rate, os in sorted(classes.items()):
                    self.add(
                        "replication",
                        f"replicate-{s}-to-{r}-{k}-{rate}",
                        [(e, 1.0), *((o, -w * rate) for o in os), *((v, -w * rate) for v in copy)],
                        pulp.LpConstraintGE,
                        -w * rate,
                        service=s,
                        region=r,
                    )

    def define_egress(self) -> None:
        """Each dependency's declared request volume Q and reply volume R: a fraction
        phi[r,c] >= 0 of its calls leaves caller region r for callee regions of price class c
        (price Q x rate(r -> r') + R x rate(r' -> r)); sum phi = 1; a caller region carries at most
        its share of the caller's capacity, sum_c phi[r,c] <= cap_r / D; and phi[r,c] <= the
        callee's presence in class c: where it runs, or its primary when it is a single writer
        (writes go to the primary)."""
        for k, dep in self._dependencies():
            sent, back = dep.gb_per_month, dep.reply_gb_per_month
            s, t = dep.source, dep.target
            callers, targets = self.regions_of.get(s, []), self.regions_of.get(t, [])
            if sent + back <= 0 or not callers or not targets:
                continue
            d = self.demand[s][main_resource(self.demand[s])]
            single = t in self.c.single_writer and t not in self.mixed_writers
            at = self.m.p[t] if t in self.m.p and single else None
            phis: list[pulp.LpVariable] = []
            for r in callers:
                classes: dict[float, list[pulp.LpVariable]] = defaultdict(list)
                for rt in targets:
                    price = sent * self.cat.egress_rate(r, rt) + back * self.cat.egress_rate(rt, r)
                    classes[round(price, 6)].append(at[rt] if at is not None else self.m.u[(t, rt)])
                here = []
                for price, present in sorted(classes.items()):
                    phi = self.var(f"y_{len(self.m.egress)}", 0, None, pulp.LpContinuous)
                    self.m.egress.append(
                        (phi, price, {"dependency": k, "region": r, "rate": price})
                    )
                    if price:
                        self.cost.append((phi, price))
                    self.add(
                        "egress",
                        f"egress{k}-{r}-{price}",
                        [(phi, 1.0), *((v, -1.0) for v in present)],
                        pulp.LpConstraintLE,
                        0.0,
                        dependency=k,
                    )
                    here.append(phi)
                self.add(
                    "egress",
                    f"egress{k}-{r}-share",
                    [
                        *((phi, 1.0) for phi in here),
                        *((n, -c / d) for n, c in self._main_capacity(s, r)),
                    ],
                    pulp.LpConstraintLE,
                    0.0,
                    dependency=k,
                )
                phis += here
            self.add(
                "egress",
                f"egress{k}-routed",
                [(phi, 1.0) for phi in phis],
                pulp.LpConstraintGE,
                1.0,
                dependency=k,
            )
