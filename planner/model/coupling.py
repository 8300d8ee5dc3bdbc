"""The families over presence and shared resources: users reaching a present region
(`define_user_latency`), private sites' capacity (`define_private_capacity`), latency budgets and
egress between dependent services (`define_dependency_latency`, `define_egress`), the policy's
limits (`define_limits`) and the stand-alone cost floors (`define_service_floors`).

They live together because they are where services meet each other or the policy as a whole:
most of their rows sum over several services (private capacity, dependency latency, egress, the
provider limit and the budget: the families named in `COUPLING`), and the rest (user reach, region
limits, floors) are rows over presence or cost rather than over one service's capacity.
"""

from __future__ import annotations

from collections import defaultdict

import pulp

from ..catalog.columns import SITE_CAPACITY
from .candidates import Scenario
from .core import BuilderCore


class CouplingFamilies(BuilderCore):
    """User latency, private capacity, dependency latency, egress, limits, service floors."""

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
                    [(self.running_after(s, r, f), 1.0) for r in alive],
                    pulp.LpConstraintGE,
                    1.0,
                    service=s,
                    group=group,
                    scenario=f.id,
                )

    def define_private_capacity(self) -> None:
        """Per private site and resource: sum over services of cap[i] n[i] <= usable capacity
        (hosts x allocation ratio - reserved). Running units only; growth into a site is held in
        full by `define_survival`."""
        kind = self.field("kind")
        private = [i for i in self.labels if kind[i] == "private"]
        sites = self.cat.sites
        for r, g in self.group(("region",), private, sort=True).items():
            for res, col in SITE_CAPACITY.items():
                cap = self.column(res)
                terms = [(self.m.n[i], cap[i]) for i in g if cap[i] > 0]
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

    def define_dependency_latency(self) -> None:
        """u[s,r] <= sum of u[t,r'] over regions r' of the callee within the budget of r (no
        products), in normal operation and after each failure of the policy: then the sum runs
        over the callee's regions within budget that survive it, for each caller region that does.

        A failure row is needed only where the failure takes one of the callee's regions within
        budget of r (it then touches the callee) and leaves r running; for any other failure every
        term of the normal-operation row survives, so that row already implies it. Global SaaS
        loses no region but to a provider failure, and a zone failure of a multi-zone region loses
        no region at all (as in `define_user_latency`)."""
        lost_by: dict[str, list[int]] = defaultdict(list)  # region -> failures losing it
        for j, f in enumerate(self.c.scenarios):
            for r in f.regions:
                lost_by[r].append(j)
            if f.zone_of:  # a zone failure may take every unit a service holds there
                lost_by[f.zone_of].append(j)
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
                for f in self._failures_of_near(s, t, r, near, lost_by):
                    alive = [rt for rt in near if not self._loses(t, rt, f)]
                    caller = self._caller_after(s, r, f)
                    self.add(
                        "dependency_latency",
                        f"dep{k}-{s}-in-{r}-near-{t}-without-{f.id}",
                        [(caller, 1.0), *((self._after(t, rt, f), -1.0) for rt in alive)],
                        pulp.LpConstraintLE,
                        0.0,
                        service=s,
                        target=t,
                        region=r,
                        budget=dep.max_latency_ms,
                        scenario=f.id,
                    )

    def _loses(self, s: str, r: str, f: Scenario) -> bool:
        """Whether failure f takes service s out of region r (global SaaS: only with its
        provider)."""
        if s in self.c.global_services and f.kind != "provider":
            return False
        return r in f.regions

    def _after(self, s: str, r: str, f: Scenario) -> pulp.LpVariable:
        """s runs in r after f (global SaaS keeps its regions but to a provider failure)."""
        if s in self.c.global_services and f.kind != "provider":
            return self.m.u[(s, r)]
        return self.running_after(s, r, f)

    def _caller_after(self, s: str, r: str, f: Scenario) -> pulp.LpVariable:
        """s runs in r after f, as a caller: bounded from below, so the budget row binds."""
        if s in self.c.global_services and f.kind != "provider":
            return self.m.u[(s, r)]
        return self.still_runs_after(s, r, f)

    def _hits(self, s: str, r: str, f: Scenario) -> bool:
        """Whether failure f may take service s out of region r: it loses r, or a zone of it."""
        if s in self.c.global_services and f.kind != "provider":
            return False
        return r in f.regions or r == f.zone_of

    def _failures_of_near(
        self, s: str, t: str, r: str, near: list[str], lost_by: dict[str, list[int]]
    ) -> list[Scenario]:
        """The failures that take some callee region of `near` and leave the caller in r, in the
        scenarios' order: those that need a row of their own."""
        hit = sorted({j for rt in near if rt in lost_by for j in lost_by[rt]})
        out = []
        for j in hit:
            f = self.c.scenarios[j]
            if self._loses(s, r, f) or not any(self._hits(t, rt, f) for rt in near):
                continue
            out.append(f)
        return out

    def define_limits(self) -> None:
        """At most `max_regions` regions per service; at most `max_providers` providers; the
        budget."""
        # a region counts where the service runs or holds a data copy (u + h <= 1 there)
        presence = [*self.m.u.items(), *self.m.h.items()]
        by_service: dict[str, list[pulp.LpVariable]] = defaultdict(list)
        for (s, _r), u in presence:
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
            providers = sorted({provider_of[r] for (_s, r), _u in presence})
            if len(providers) > self.spec.policy.max_providers:
                w = {p: self.var(f"w_{j}", 0, 1, pulp.LpBinary) for j, p in enumerate(providers)}
                for (s, r), u in presence:
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
                for i in self.backups:
                    p = provider_of[self.region_of[i]]
                    self.add(
                        "max_providers",
                        f"backup-uses-{p}-{i}",
                        [(self.m.n[i], 1.0), (w[p], -self.max_units[i])],
                        pulp.LpConstraintLE,
                        0.0,
                        service=self.service_of[i],
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
