"""Independent verification of a plan: shares no code with the model builder.

It re-reads capacities and prices from the catalog by offering id, generates the failure scenarios
of the policy itself, and checks demand in normal operation and after every failure, residency,
provider rules, private capacity, latency budgets, limits and the reported cost. A plan that fails
here is never shown as a plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..catalog import Catalog

# The verifier shares only catalog definitions (column names, the main-resource order) with the
# model builder; every rule it checks is its own reading of docs/model.md, not the model's rows.
from ..catalog.columns import MAIN_RESOURCE_ORDER, RESOURCES, SITE_CAPACITY, main_resource

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan
    from ..spec import AppSpec, Service

_DATA = ("storage_gb",)
TOL = 1e-6


@dataclass
class VerificationReport:
    ok: bool
    scenarios_checked: int
    violations: list[str] = field(default_factory=list)
    cost_usd_per_month: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "scenarios_checked": self.scenarios_checked,
            "violations": list(self.violations),
            "cost_usd_per_month": round(self.cost_usd_per_month, 4),
        }


def failure_domains(policy: str, regions: pd.DataFrame) -> list[tuple[str, set[str], str]]:
    """(name, regions lost entirely, region losing one zone) for each single failure of the
    policy."""
    if policy == "none":
        return []
    out: list[tuple[str, set[str], str]] = []
    if policy == "region":
        out = [(f"region {r}", {r}, "") for r in regions.index]
    elif policy == "site":
        for site in sorted(set(regions["site"])):
            out.append((f"site {site}", set(regions.index[regions["site"] == site]), ""))
    elif policy == "provider":
        for p in sorted(set(regions["provider"])):
            out.append((f"provider {p}", set(regions.index[regions["provider"] == p]), ""))
    elif policy == "zone":
        for r, z in regions["zones"].items():
            out.append(
                (f"a zone of {r}", set(), r) if int(z) >= 2 else (f"the only zone of {r}", {r}, "")
            )
    return out


def verify_plan(plan: Plan, catalog: Catalog) -> VerificationReport:
    """Check `plan` (a planner.plan.Plan) against its spec and the catalog.

    The rules below are checked, and their violations reported, in this order: per service in
    the spec's order, then the rules over the whole plan."""
    spec = plan.spec
    unknown = sorted(set(plan.placements["offering"]) - set(catalog.offerings.index))
    if unknown:
        return VerificationReport(False, 0, [f"offerings not in the catalog: {unknown[:5]}"])
    rows = _PlanRows.read(plan.placements, catalog)
    v: list[str] = _whole_units(rows)
    for svc in spec.services:  # each service in the spec's order, normal operation
        mine = rows.of_service(svc.name)
        prim = mine[~rows.is_backup[mine]]
        if not len(prim):
            v.append(f"{svc.name}: not placed anywhere")
            continue
        v += _offerings_allowed(svc, mine, rows, catalog)
        v += _where_it_runs(svc, spec, mine, rows)
        strategy = plan.strategies.get(svc.name)
        if strategy is None or strategy not in catalog.strategies.index:
            v.append(f"{svc.name}: unknown strategy {strategy}")
            continue  # the service's remaining rules are not checked
        v += _strategy_rules(svc, strategy, mine, rows, catalog.strategies)
        v += _data_copies(svc, mine, rows)
        v += _private_share(svc, spec, prim, rows, catalog)
        v += _normal_demand(svc, prim, rows)
    # the whole plan: private sites, every failure of the policy, latency, limits and cost
    v += _private_capacity(rows, catalog)
    domains = failure_domains(spec.policy.survive, catalog.regions.loc[sorted(set(rows.region))])
    saas = _saas_services(spec, rows, catalog)
    if domains:
        v += _check_scenarios(spec, plan.strategies, rows, catalog, domains, saas)
    v += _user_latency(spec, rows, catalog, domains, saas)
    v += _dependency_latency(spec, rows, catalog, domains, saas)
    v += _provider_count(spec, rows)
    cost = _recompute_cost(plan.placements, spec, catalog)
    v += _cost_and_budget(spec, cost, float(plan.cost["total"]))
    return VerificationReport(not v, len(domains) + 1, v, cost)


@dataclass(frozen=True)
class _PlanRows:
    """The placements read against the catalog once: one array entry per placement row, in the
    placements' order, and each service's row positions (so each service costs its own rows)."""

    p: pd.DataFrame
    units: np.ndarray
    cap: np.ndarray  # rows x RESOURCES: the catalog's capacity per unit x units
    total_cap: pd.DataFrame  # the same, labelled by resource and by the placements' index
    info: pd.DataFrame  # the catalog's offering row of each placement, on the placements' index
    jurisdiction: np.ndarray
    kind: np.ndarray  # public | private
    zones: np.ndarray
    is_backup: np.ndarray
    category: np.ndarray
    provider: np.ndarray
    region: np.ndarray
    rows_of: dict[str, np.ndarray]

    @classmethod
    def read(cls, p: pd.DataFrame, catalog: Catalog) -> _PlanRows:
        off = catalog.offerings
        units = p["units"].to_numpy(dtype=float)
        cap = off.loc[p["offering"], list(RESOURCES)].to_numpy(dtype=float) * units[:, None]
        info = off.loc[p["offering"]].reset_index()
        info.index = p.index
        reg = catalog.regions
        return cls(
            p=p,
            units=units,
            cap=cap,
            total_cap=pd.DataFrame(cap, columns=list(RESOURCES), index=p.index),
            info=info,
            jurisdiction=reg.loc[p["region"], "jurisdiction"].to_numpy(),
            kind=reg.loc[p["region"], "kind"].to_numpy(),
            zones=reg.loc[p["region"], "zones"].to_numpy(dtype=int),
            is_backup=(p["role"] == "backup").to_numpy(),
            category=info["category"].to_numpy(),
            provider=p["provider"].to_numpy(),
            region=p["region"].to_numpy(),
            rows_of={
                s: np.asarray(ix) for s, ix in p.groupby("service", sort=False).indices.items()
            },
        )

    def of_service(self, name: str) -> np.ndarray:
        return self.rows_of.get(name, np.zeros(0, dtype=int))


def _whole_units(rows: _PlanRows) -> list[str]:
    units = rows.units
    if np.any(units < 0) or np.any(np.abs(units - np.round(units)) > TOL):
        return ["unit counts must be whole, non-negative numbers"]
    return []


def _offerings_allowed(
    svc: Service, mine: np.ndarray, rows: _PlanRows, catalog: Catalog
) -> list[str]:
    """Offering categories the service's category and tiers allow; backups are object storage."""
    out: list[str] = []
    prim = mine[~rows.is_backup[mine]]
    backup_rows = mine[rows.is_backup[mine]]
    cats = catalog.service_categories
    allowed = cats[cats["service_category"] == svc.category]
    if svc.tiers:
        allowed = allowed[allowed["tier"].isin(svc.tiers)]
    bad_cat = set(rows.category[prim]) - set(allowed["offering_category"])
    if bad_cat:
        out.append(
            f"{svc.name}: uses offerings of category {sorted(bad_cat)} not allowed for "
            f"{svc.category} in tiers {svc.tiers or 'any'}"
        )
    if len(backup_rows) and not (set(rows.category[backup_rows]) <= {"storage.object"}):
        out.append(f"{svc.name}: backups must be object storage")
    return out


def _where_it_runs(svc: Service, spec: AppSpec, mine: np.ndarray, rows: _PlanRows) -> list[str]:
    """Residency, allowed, forbidden and excluded providers, excluded regions, most regions."""
    out: list[str] = []
    jur = rows.jurisdiction
    if svc.residency and not set(jur[mine]) <= set(svc.residency):
        out.append(
            f"{svc.name}: placed in jurisdictions {sorted(set(jur[mine]))}, "
            f"allowed {list(svc.residency)}"
        )
    provs = set(rows.provider[mine])
    if svc.providers and not provs <= set(svc.providers):
        out.append(f"{svc.name}: uses providers {sorted(provs)}, allowed {list(svc.providers)}")
    banned = provs & (set(svc.forbid_providers) | set(spec.policy.exclude_providers))
    if banned:
        out.append(f"{svc.name}: uses forbidden or excluded providers {sorted(banned)}")
    excluded = set(rows.region[mine]) & set(spec.policy.exclude_regions)
    if excluded:
        out.append(f"{svc.name}: uses excluded regions {sorted(excluded)}")
    prim = mine[~rows.is_backup[mine]]
    if len(set(rows.region[prim])) > svc.max_regions:
        out.append(f"{svc.name}: runs in more than {svc.max_regions} regions")
    return out


def _strategy_rules(
    svc: Service, name: str, mine: np.ndarray, rows: _PlanRows, strat: pd.DataFrame
) -> list[str]:
    """The requested strategy, the RTO and RPO it gives, backups only where it uses them."""
    out: list[str] = []
    if svc.dr != "auto" and name != svc.dr:
        out.append(f"{svc.name}: strategy {name} differs from the requested {svc.dr}")
    if svc.rto_minutes is not None and strat.at[name, "rto_minutes"] > svc.rto_minutes + TOL:
        out.append(
            f"{svc.name}: {name} gives RTO {strat.at[name, 'rto_minutes']:g} min "
            f"> required {svc.rto_minutes:g}"
        )
    if svc.rpo_minutes is not None and strat.at[name, "rpo_minutes"] > svc.rpo_minutes + TOL:
        out.append(
            f"{svc.name}: {name} gives RPO {strat.at[name, 'rpo_minutes']:g} min "
            f"> required {svc.rpo_minutes:g}"
        )
    if rows.is_backup[mine].any() and not bool(strat.at[name, "backup_copies"]):
        out.append(f"{svc.name}: holds backup copies but {name} does not use them")
    return out


def _data_copies(svc: Service, mine: np.ndarray, rows: _PlanRows) -> list[str]:
    """Replicated data: each region holding the service's data (or a backup) holds all of it."""
    out: list[str] = []
    d_data = svc.demand.storage_gb
    if d_data <= 0:
        return out
    held_data: dict[tuple[str, bool], float] = {}
    cap_storage = rows.total_cap["storage_gb"].to_numpy()
    for r, backup, gb in zip(
        rows.region[mine], rows.is_backup[mine], cap_storage[mine], strict=True
    ):
        held_data[(r, bool(backup))] = held_data.get((r, bool(backup)), 0.0) + float(gb)
    for (r, backup), held in sorted(held_data.items()):
        if held < d_data - TOL * (1 + d_data):
            what = "backup copy" if backup else "copy"
            out.append(f"{svc.name}: {r} holds a partial {what} ({held:g} of {d_data:g} GB)")
    return out


def _private_share(
    svc: Service, spec: AppSpec, prim: np.ndarray, rows: _PlanRows, catalog: Catalog
) -> list[str]:
    """The policy's share of demand on private sites, for services that could run on one."""
    out: list[str] = []
    share = spec.policy.private_share_min
    if share > 0 and _could_use_private(svc, spec, catalog):
        on_private = dict(
            zip(RESOURCES, rows.cap[prim[rows.kind[prim] == "private"]].sum(axis=0), strict=True)
        )
        for res, d in svc.demand.as_dict().items():
            if res != "storage_gb" and d > 0 and on_private[res] < share * d - TOL * (1 + d):
                out.append(
                    f"{svc.name}: {on_private[res]:g} {res} on private sites, "
                    f"policy wants {share:.0%} of {d:g}"
                )
    return out


def _normal_demand(svc: Service, prim: np.ndarray, rows: _PlanRows) -> list[str]:
    """Every demanded resource is met with every region up."""
    have = dict(zip(RESOURCES, rows.cap[prim].sum(axis=0), strict=True))
    return [
        f"{svc.name}: {have[res]:g} {res} in normal operation, demand {d:g}"
        for res, d in svc.demand.as_dict().items()
        if d > 0 and have[res] < d - TOL * (1 + d)
    ]


def _private_capacity(rows: _PlanRows, catalog: Catalog) -> list[str]:
    """What the plan uses of each private site fits in what the site can give."""
    out: list[str] = []
    p = rows.p
    sites = catalog.sites
    for r in sorted(set(p.loc[rows.kind == "private", "region"])):
        here = (p["region"] == r).to_numpy()
        for res, col in SITE_CAPACITY.items():
            used = rows.total_cap.loc[here, res].sum()
            if used > float(sites.at[r, col]) + TOL:
                out.append(f"site {r}: {used:g} {res} used, {float(sites.at[r, col]):g} usable")
    return out


def _saas_services(spec: AppSpec, rows: _PlanRows, catalog: Catalog) -> set[str]:
    """Services made of global SaaS offerings only: the vendor runs them across its regions, so
    only the loss of the vendor (a provider failure) takes them down. Regional SaaS fails with
    its region, like any other offering."""
    everywhere = catalog.runs_globally(rows.p["offering"])
    return {
        s.name
        for s in spec.services
        if len(rows.rows_of.get(s.name, [])) and everywhere[rows.rows_of[s.name]].all()
    }


def _present(rows: _PlanRows) -> dict[str, set[str]]:
    """Regions each service runs in (backups excluded)."""
    return {s: set(rows.region[ix[~rows.is_backup[ix]]]) for s, ix in rows.rows_of.items()}


def _user_latency(
    spec: AppSpec,
    rows: _PlanRows,
    catalog: Catalog,
    domains: list[tuple[str, set[str], str]],
    saas: set[str],
) -> list[str]:
    """Each user group has a region of each user-facing service within its latency budget, in
    normal operation and after every failure of the policy."""
    out: list[str] = []
    present = _present(rows)
    for svc in spec.services:
        if not svc.user_facing:
            continue
        for u in spec.users:
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            near = {r for r in present.get(svc.name, set()) if rtt[r] <= u.max_latency_ms + TOL}
            if not near:
                out.append(
                    f"{svc.name}: no region within {u.max_latency_ms:g} ms of users in {u.name}"
                )
                continue
            for name, lost_regions, _z in domains:
                if svc.name in saas and not name.startswith("provider"):
                    continue
                if not (near - lost_regions):
                    out.append(
                        f"{svc.name}: after losing {name}, users in {u.name} have no region within "
                        f"{u.max_latency_ms:g} ms"
                    )
    return out


def _dependency_latency(
    spec: AppSpec,
    rows: _PlanRows,
    catalog: Catalog,
    domains: list[tuple[str, set[str], str]],
    saas: set[str],
) -> list[str]:
    """Each region running a caller has the callee within the dependency's latency budget, in
    normal operation and after every failure of the policy: then from each caller region that
    survives it to the nearest callee region that survives it. A zone failure of a multi-zone
    region leaves that region running; global SaaS loses its regions only to a provider failure.
    A caller region that misses its budget in normal operation is reported once, for that."""
    out: list[str] = []
    present = _present(rows)

    def survivors(s: str, name: str, lost: set[str]) -> set[str]:
        regions = present.get(s, set())
        if s in saas and not name.startswith("provider"):
            return regions
        return regions - lost

    for dep in spec.dependencies:
        if dep.max_latency_ms is None:
            continue
        budget = dep.max_latency_ms
        callees = present.get(dep.target, set())
        for r in sorted(present.get(dep.source, set())):  # messages in a stable order
            best = min((catalog.rtt_ms(r, t) for t in callees), default=math.inf)
            if best > budget + TOL:
                out.append(
                    f"{dep.source} in {r}: nearest {dep.target} is {best:.1f} ms away, "
                    f"budget {budget:g}"
                )
                continue
            for name, lost, _zone in domains:
                if r not in survivors(dep.source, name, lost):
                    continue
                left = survivors(dep.target, name, lost)
                after = min((catalog.rtt_ms(r, t) for t in left), default=math.inf)
                if after > budget + TOL:
                    nearest = (
                        f"nearest {dep.target} is {after:.1f} ms away"
                        if left
                        else f"no {dep.target} is left"
                    )
                    out.append(
                        f"{dep.source} in {r}: after losing {name}, {nearest}, budget {budget:g}"
                    )
    return out


def _provider_count(spec: AppSpec, rows: _PlanRows) -> list[str]:
    n_prov = len(set(rows.p["provider"]))
    if spec.policy.max_providers is not None and n_prov > spec.policy.max_providers:
        return [f"uses {n_prov} providers, policy allows {spec.policy.max_providers}"]
    return []


def _cost_and_budget(spec: AppSpec, cost: float, reported: float) -> list[str]:
    """The reported cost is the catalog's, and within the budget."""
    out: list[str] = []
    if abs(cost - reported) > 1e-6 * max(1.0, cost):
        out.append(f"reported cost {reported:.4f} differs from the catalog's {cost:.4f}")
    if spec.policy.budget_per_month is not None and cost > spec.policy.budget_per_month + 1e-6:
        out.append(
            f"costs {cost:.2f} per month, over the budget of {spec.policy.budget_per_month:g}"
        )
    return out


@dataclass(frozen=True)
class _Failures:
    """Every failure of the policy against every placement row: domains x rows, and the
    failures that take capacity from each service (domains x services)."""

    domains: list[tuple[str, set[str], str]]
    lost: np.ndarray  # the row's region is lost entirely
    alive_units: np.ndarray  # the row's units still running
    touched: np.ndarray  # domains x services

    @classmethod
    def of(
        cls,
        domains: list[tuple[str, set[str], str]],
        rows: _PlanRows,
        s_of: np.ndarray,
        n_services: int,
        saas_columns: list[int],
    ) -> _Failures:
        region, zones, units = rows.region, rows.zones, rows.units
        lost = np.array(
            [[r in lost_set for r in region] for _, lost_set, _ in domains], dtype=bool
        )  # D x rows
        zone_hit = (
            np.array([(region == z) & (zones >= 2) for _, _, z in domains], dtype=bool)
            if any(z for _, _, z in domains)
            else np.zeros_like(lost)
        )
        # units spread over a region's zones: the failed zone holds the ceiling of n / zones
        alive_units = np.where(lost, 0.0, units[None, :])
        alive_units = np.where(
            zone_hit,
            units[None, :] - np.ceil(units[None, :] / np.maximum(zones, 1)[None, :] - 1e-9),
            alive_units,
        )
        onehot = np.zeros((len(region), n_services))
        onehot[np.arange(len(region)), s_of] = 1.0
        touched = ((lost | zone_hit).astype(float) @ onehot) > 0  # D x S
        provider_domain = np.array([name.startswith("provider") for name, _, _ in domains])
        for j in saas_columns:
            touched[~provider_domain, j] = False  # SaaS runs across the vendor's regions
        return cls(domains, lost, alive_units, touched)


def _check_scenarios(
    spec: AppSpec,
    strategies: dict[str, str],
    rows: _PlanRows,
    catalog: Catalog,
    domains: list[tuple[str, set[str], str]],
    saas: set[str],
) -> list[str]:
    """Capacity left after each failure, for every service at once (domains x services arrays)."""
    out: list[str] = []
    strat = catalog.strategies
    names = [s.name for s in spec.services]
    s_of = rows.p["service"].map({n: i for i, n in enumerate(names)}).to_numpy()
    saas_columns = [j for j, svc in enumerate(names) if svc in saas]
    failures = _Failures.of(domains, rows, s_of, len(names), saas_columns)
    offering_rows = catalog.offerings.loc[rows.p["offering"]]
    for svc in spec.services:
        j = names.index(svc.name)
        if not failures.touched[:, j].any() or strategies.get(svc.name) not in strat.index:
            continue
        mine = np.flatnonzero(s_of == j)  # this service's rows: the arrays below are that narrow
        out += _service_after_failures(
            svc,
            strategies[svc.name],
            strat,
            failures,
            failures.touched[:, j],
            mine,
            rows,
            offering_rows,
        )
    return out


def _service_after_failures(
    svc: Service,
    strategy: str,
    strat: pd.DataFrame,
    failures: _Failures,
    touched: np.ndarray,
    mine: np.ndarray,
    rows: _PlanRows,
    offering_rows: pd.DataFrame,
) -> list[str]:
    """After each failure that touches it, the service keeps what its strategy keeps running (its
    data whole), and what must grow back to full demand can: in a public region that survives,
    or on private capacity it already holds."""
    out: list[str] = []
    st = strat.loc[strategy]
    domains, lost, alive_units = failures.domains, failures.lost, failures.alive_units
    backup, pub = rows.is_backup[mine], (rows.kind == "public")[mine]
    for res, d in svc.demand.as_dict().items():
        if d <= 0:
            continue
        per_unit = offering_rows[res].to_numpy(dtype=float)[mine]
        data = res in _DATA
        frac = float(st["data_fraction"] if data else st["compute_fraction"])
        counts = np.ones(len(mine), bool) if data else ~backup
        alive = (alive_units[:, mine[counts]] * per_unit[counts]).sum(axis=1)  # D
        short = touched & (alive < frac * d - TOL * (1 + d))
        for k in np.flatnonzero(short):
            out.append(
                f"{svc.name}: after losing {domains[k][0]}, {alive[k]:g} {res} remain, "
                f"needs {frac * d:g} ({strategy})"
            )
        if not data and frac < 1:
            prim = ~backup
            public_left = (
                (~lost[:, mine[prim & pub]]).any(axis=1)
                if (prim & pub).any()
                else np.zeros(len(domains), bool)
            )
            priv = prim & ~pub
            private_alive = (alive_units[:, mine[priv]] * per_unit[priv]).sum(axis=1)
            stuck = touched & ~public_left & (private_alive < d - TOL * (1 + d))
            for k in np.flatnonzero(stuck):
                out.append(
                    f"{svc.name}: after losing {domains[k][0]}, it must grow back to "
                    f"{d:g} {res} but no public region survives and private capacity held "
                    "is short"
                )
    return out


def _could_use_private(svc: Service, spec: AppSpec, catalog: Catalog) -> bool:
    """Whether any private site is open to the service under its own rules and the policy's (then
    the policy's private share applies to it)."""
    priv = catalog.regions[catalog.regions["kind"] == "private"]
    priv = priv[~priv.index.isin(spec.policy.exclude_regions)]
    priv = priv[
        ~priv["provider"].isin(set(svc.forbid_providers) | set(spec.policy.exclude_providers))
    ]
    if svc.residency:
        priv = priv[priv["jurisdiction"].isin(svc.residency)]
    if svc.providers:
        priv = priv[priv["provider"].isin(svc.providers)]
    if svc.user_facing and spec.users:
        near = set()
        for u in spec.users:
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            near |= set(rtt.index[rtt <= u.max_latency_ms])
        priv = priv[priv.index.isin(near)]
    if priv.empty:
        return False
    cats = catalog.service_categories
    ok = cats[cats["service_category"] == svc.category]
    if svc.tiers:
        ok = ok[ok["tier"].isin(svc.tiers)]
    needed = [r for r, d in svc.demand.as_dict().items() if d > 0]
    off = catalog.offerings
    usable = off["region"].isin(priv.index) & off["category"].isin(set(ok["offering_category"]))
    return bool((usable & (off[needed] > 0).any(axis=1)).any())


def _recompute_cost(p: pd.DataFrame, spec: AppSpec, catalog: Catalog) -> float:
    """Units x catalog monthly price, plus per-region fees, plus egress by the documented rule."""
    off = catalog.offerings
    units = p["units"].to_numpy(dtype=float)
    total = float((off.loc[p["offering"], "usd_per_month"].to_numpy() * units).sum())
    fees: dict[tuple[str, str, str], float] = {}
    for s, r, o in zip(p["service"], p["region"], p["offering"], strict=True):
        fee = float(off.at[o, "fixed_usd_per_month"])
        if fee > 0:
            key = (s, r, str(off.at[o, "category"]))
            fees[key] = max(fees.get(key, 0.0), fee)
    total += sum(fees.values())
    where: dict[str, set[str]] = {}
    for s, r, role in zip(p["service"], p["region"], p["role"], strict=True):
        if role != "backup":
            where.setdefault(s, set()).add(r)
    held = p[p["role"] != "backup"]
    order = list(MAIN_RESOURCE_ORDER)
    # per (service, region): catalog resources x units, summed once for every dependency to read
    per_row = (
        off.loc[held["offering"], order].to_numpy(dtype=float)
        * held["units"].to_numpy(dtype=float)[:, None]
    )
    cap_of = (
        pd.DataFrame(per_row, columns=order)
        .groupby([held["service"].to_numpy(), held["region"].to_numpy()])
        .sum()
    )
    demand_of = {s.name: s.demand for s in spec.services}
    for dep in spec.dependencies:
        targets = where.get(dep.target, set())
        if dep.gb_per_month <= 0 or not targets:
            continue
        demand = demand_of[dep.source]
        res = main_resource(demand.as_dict())
        for r in where.get(dep.source, set()):
            cap = float(cap_of.at[(dep.source, r), res])
            share = cap / getattr(demand, res)
            total += share * dep.gb_per_month * min(catalog.egress_rate(r, t) for t in targets)
    return total
