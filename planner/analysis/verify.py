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
    """Check `plan` (a planner.plan.Plan) against its spec and the catalog."""
    spec = plan.spec
    p: pd.DataFrame = plan.placements
    strategies: dict[str, str] = plan.strategies
    v: list[str] = []
    off = catalog.offerings
    unknown = sorted(set(p["offering"]) - set(off.index))
    if unknown:
        return VerificationReport(False, 0, [f"offerings not in the catalog: {unknown[:5]}"])
    units = p["units"].to_numpy(dtype=float)
    if np.any(units < 0) or np.any(np.abs(units - np.round(units)) > TOL):
        v.append("unit counts must be whole, non-negative numbers")
    cap = off.loc[p["offering"], list(RESOURCES)].to_numpy(dtype=float) * units[:, None]
    total_cap = pd.DataFrame(cap, columns=list(RESOURCES), index=p.index)
    cap_storage = total_cap["storage_gb"].to_numpy()
    info = off.loc[p["offering"]].reset_index()
    info.index = p.index
    reg = catalog.regions
    jur = reg.loc[p["region"], "jurisdiction"].to_numpy()
    kind = reg.loc[p["region"], "kind"].to_numpy()
    zones = reg.loc[p["region"], "zones"].to_numpy(dtype=int)
    is_backup = (p["role"] == "backup").to_numpy()
    cats = catalog.service_categories
    strat = catalog.strategies

    # ------------------------------------------------------- per-service rules, normal operation
    # plain arrays and each service's row positions, so each service costs its own rows only
    category, provider, region = (
        info["category"].to_numpy(),
        p["provider"].to_numpy(),
        p["region"].to_numpy(),
    )
    rows_of = {s: np.asarray(ix) for s, ix in p.groupby("service", sort=False).indices.items()}
    for svc in spec.services:
        mine = rows_of.get(svc.name, np.zeros(0, dtype=int))
        backup_rows = mine[is_backup[mine]]
        prim = mine[~is_backup[mine]]
        if not len(prim):
            v.append(f"{svc.name}: not placed anywhere")
            continue
        allowed = cats[cats["service_category"] == svc.category]
        if svc.tiers:
            allowed = allowed[allowed["tier"].isin(svc.tiers)]
        bad_cat = set(category[prim]) - set(allowed["offering_category"])
        if bad_cat:
            v.append(
                f"{svc.name}: uses offerings of category {sorted(bad_cat)} not allowed for "
                f"{svc.category} in tiers {svc.tiers or 'any'}"
            )
        if len(backup_rows) and not (set(category[backup_rows]) <= {"storage.object"}):
            v.append(f"{svc.name}: backups must be object storage")
        if svc.residency and not set(jur[mine]) <= set(svc.residency):
            v.append(
                f"{svc.name}: placed in jurisdictions {sorted(set(jur[mine]))}, "
                f"allowed {list(svc.residency)}"
            )
        provs = set(provider[mine])
        if svc.providers and not provs <= set(svc.providers):
            v.append(f"{svc.name}: uses providers {sorted(provs)}, allowed {list(svc.providers)}")
        banned = provs & (set(svc.forbid_providers) | set(spec.policy.exclude_providers))
        if banned:
            v.append(f"{svc.name}: uses forbidden or excluded providers {sorted(banned)}")
        excluded = set(region[mine]) & set(spec.policy.exclude_regions)
        if excluded:
            v.append(f"{svc.name}: uses excluded regions {sorted(excluded)}")
        if len(set(region[prim])) > svc.max_regions:
            v.append(f"{svc.name}: runs in more than {svc.max_regions} regions")
        name = strategies.get(svc.name)
        if name not in strat.index:
            v.append(f"{svc.name}: unknown strategy {name}")
            continue
        if svc.dr != "auto" and name != svc.dr:
            v.append(f"{svc.name}: strategy {name} differs from the requested {svc.dr}")
        if svc.rto_minutes is not None and strat.at[name, "rto_minutes"] > svc.rto_minutes + TOL:
            v.append(
                f"{svc.name}: {name} gives RTO {strat.at[name, 'rto_minutes']:g} min "
                f"> required {svc.rto_minutes:g}"
            )
        if svc.rpo_minutes is not None and strat.at[name, "rpo_minutes"] > svc.rpo_minutes + TOL:
            v.append(
                f"{svc.name}: {name} gives RPO {strat.at[name, 'rpo_minutes']:g} min "
                f"> required {svc.rpo_minutes:g}"
            )
        if len(backup_rows) and not bool(strat.at[name, "backup_copies"]):
            v.append(f"{svc.name}: holds backup copies but {name} does not use them")
        # replicated data: each region holding the service's data (or a backup) holds all of it
        d_data = svc.demand.storage_gb
        if d_data > 0:
            held_data: dict[tuple[str, bool], float] = {}
            for r, backup, gb in zip(region[mine], is_backup[mine], cap_storage[mine], strict=True):
                held_data[(r, bool(backup))] = held_data.get((r, bool(backup)), 0.0) + float(gb)
            for (r, backup), held in sorted(held_data.items()):
                if held < d_data - TOL * (1 + d_data):
                    what = "backup copy" if backup else "copy"
                    v.append(f"{svc.name}: {r} holds a partial {what} ({held:g} of {d_data:g} GB)")
        share = spec.policy.private_share_min
        if share > 0 and _could_use_private(svc, spec, catalog):
            on_private = dict(
                zip(RESOURCES, cap[prim[kind[prim] == "private"]].sum(axis=0), strict=True)
            )
            for res, d in svc.demand.as_dict().items():
                if res != "storage_gb" and d > 0 and on_private[res] < share * d - TOL * (1 + d):
                    v.append(
                        f"{svc.name}: {on_private[res]:g} {res} on private sites, "
                        f"policy wants {share:.0%} of {d:g}"
                    )
        have = dict(zip(RESOURCES, cap[prim].sum(axis=0), strict=True))
        for res, d in svc.demand.as_dict().items():
            if d > 0 and have[res] < d - TOL * (1 + d):
                v.append(f"{svc.name}: {have[res]:g} {res} in normal operation, demand {d:g}")

    # ---------------------------------------------------------------- private capacity
    sites = catalog.sites
    for r in sorted(set(p.loc[kind == "private", "region"])):
        here = (p["region"] == r).to_numpy()
        for res, col in SITE_CAPACITY.items():
            used = total_cap.loc[here, res].sum()
            if used > float(sites.at[r, col]) + TOL:
                v.append(f"site {r}: {used:g} {res} used, {float(sites.at[r, col]):g} usable")

    # ---------------------------------------------------------------- every failure of the policy
    used_regions = reg.loc[sorted(set(p["region"]))]
    domains = failure_domains(spec.policy.survive, used_regions)
    tier = info["tier"].to_numpy()
    saas = {s.name for s in spec.services if (tier[rows_of.get(s.name, [])] == "SaaS").all()}
    if domains:
        v.extend(
            _check_scenarios(
                spec, p, strategies, strat, off, domains, saas, units, kind, zones, is_backup
            )
        )

    # ---------------------------------------------------------------- latency
    present = {s: set(region[ix[~is_backup[ix]]]) for s, ix in rows_of.items()}
    for svc in spec.services:
        if not svc.user_facing:
            continue
        for u in spec.users:
            rtt = catalog.rtt_from_point_ms(u.lat, u.lon)
            near = {r for r in present.get(svc.name, set()) if rtt[r] <= u.max_latency_ms + TOL}
            if not near:
                v.append(
                    f"{svc.name}: no region within {u.max_latency_ms:g} ms of users in {u.name}"
                )
                continue
            for name, lost_regions, _z in domains:
                if svc.name in saas and not name.startswith("provider"):
                    continue
                if not (near - lost_regions):
                    v.append(
                        f"{svc.name}: after losing {name}, users in {u.name} have no region within "
                        f"{u.max_latency_ms:g} ms"
                    )
    for dep in spec.dependencies:
        if dep.max_latency_ms is None:
            continue
        for r in present.get(dep.source, set()):
            best = min(
                (catalog.rtt_ms(r, t) for t in present.get(dep.target, set())), default=math.inf
            )
            if best > dep.max_latency_ms + TOL:
                v.append(
                    f"{dep.source} in {r}: nearest {dep.target} is {best:.1f} ms away, "
                    f"budget {dep.max_latency_ms:g}"
                )

    # ---------------------------------------------------------------- limits and cost
    n_prov = len(set(p["provider"]))
    if spec.policy.max_providers is not None and n_prov > spec.policy.max_providers:
        v.append(f"uses {n_prov} providers, policy allows {spec.policy.max_providers}")
    cost = _recompute_cost(p, spec, catalog)
    reported = float(plan.cost["total"])
    if abs(cost - reported) > 1e-6 * max(1.0, cost):
        v.append(f"reported cost {reported:.4f} differs from the catalog's {cost:.4f}")
    if spec.policy.budget_per_month is not None and cost > spec.policy.budget_per_month + 1e-6:
        v.append(f"costs {cost:.2f} per month, over the budget of {spec.policy.budget_per_month:g}")
    return VerificationReport(not v, len(domains) + 1, v, cost)


def _check_scenarios(
    spec: AppSpec,
    p: pd.DataFrame,
    strategies: dict[str, str],
    strat: pd.DataFrame,
    off: pd.DataFrame,
    domains: list[tuple[str, set[str], str]],
    saas: set[str],
    units: np.ndarray,
    kind: np.ndarray,
    zones: np.ndarray,
    is_backup: np.ndarray,
) -> list[str]:
    """Capacity left after each failure, for every service at once (domains x services arrays)."""
    out: list[str] = []
    names = [s.name for s in spec.services]
    s_of = p["service"].map({n: i for i, n in enumerate(names)}).to_numpy()
    region = p["region"].to_numpy()
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
    onehot = np.zeros((len(p), len(names)))
    onehot[np.arange(len(p)), s_of] = 1.0
    touched = ((lost | zone_hit).astype(float) @ onehot) > 0  # D x S
    provider_domain = np.array([name.startswith("provider") for name, _, _ in domains])
    for j, svc in enumerate(names):
        if svc in saas:
            touched[~provider_domain, j] = False  # SaaS runs across the vendor's regions
    public = kind == "public"
    offering_rows = off.loc[p["offering"]]
    for svc_obj in spec.services:
        j = names.index(svc_obj.name)
        if not touched[:, j].any() or strategies.get(svc_obj.name) not in strat.index:
            continue
        st = strat.loc[strategies[svc_obj.name]]
        mine = np.flatnonzero(s_of == j)  # this service's rows: the arrays below are that narrow
        backup, pub = is_backup[mine], public[mine]
        for res, d in svc_obj.demand.as_dict().items():
            if d <= 0:
                continue
            per_unit = offering_rows[res].to_numpy(dtype=float)[mine]
            data = res in _DATA
            frac = float(st["data_fraction"] if data else st["compute_fraction"])
            counts = np.ones(len(mine), bool) if data else ~backup
            alive = (alive_units[:, mine[counts]] * per_unit[counts]).sum(axis=1)  # D
            short = touched[:, j] & (alive < frac * d - TOL * (1 + d))
            for k in np.flatnonzero(short):
                out.append(
                    f"{svc_obj.name}: after losing {domains[k][0]}, {alive[k]:g} {res} remain, "
                    f"needs {frac * d:g} ({strategies[svc_obj.name]})"
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
                stuck = touched[:, j] & ~public_left & (private_alive < d - TOL * (1 + d))
                for k in np.flatnonzero(stuck):
                    out.append(
                        f"{svc_obj.name}: after losing {domains[k][0]}, it must grow back to "
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
