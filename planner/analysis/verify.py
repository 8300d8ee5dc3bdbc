"""Independent verification of a plan: shares no code with the model builder.

It re-reads capacities and prices from the catalog by offering id, generates the failures of the
policy itself, and checks demand in normal operation and after every failure, residency,
provider rules, private capacity, latency budgets, limits and the reported cost. A plan that fails
here is never shown as a plan.

The rules of docs/model.md that concern failures (and normal operation: capacity, single writer,
user groups, dependency latency) are evaluated by `planner.analysis.failure`, the one function
what-if, the sweep and availability call too; this module words what it finds. The static rules
(tiers, residency, whole data copies, managed storage beside its instance, private share and
capacity, limits, cost) are its own.
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
from ..catalog.columns import RESOURCES, SITE_CAPACITY, main_resource
from .failure import (
    RECOVERING,
    TOL,
    Evaluation,
    FailureBatch,
    FailureTables,
    evaluate,
    growth_note,
    normal_operation,
    policy_failures,
    running_where,
    serving_left,
    short_sets,
    stack,
)
from .verify_traffic import check_traffic

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan
    from ..spec import AppSpec, Service


@dataclass
class VerificationReport:
    ok: bool
    scenarios_checked: int
    violations: list[str] = field(default_factory=list)
    cost_usd_per_month: float = 0.0
    # remarks that are not violations: growth that needs a control plane the failure hits
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "scenarios_checked": self.scenarios_checked,
            "violations": list(self.violations),
            "cost_usd_per_month": round(self.cost_usd_per_month, 4),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class _Failures:
    """The failure function's tables, the failures checked (normal operation first) and what it
    found; `checked` are the services whose own rules are reported (placed, known strategy)."""

    t: FailureTables
    batch: FailureBatch
    ev: Evaluation
    checked: np.ndarray


def verify_plan(plan: Plan, catalog: Catalog) -> VerificationReport:
    """Check `plan` (a planner.plan.Plan) against its spec and the catalog.

    The rules below are checked, and their violations reported, in this order: per service in
    the spec's order, then the rules over the whole plan."""
    spec = plan.spec
    unknown = sorted(set(plan.placements["offering"]) - set(catalog.offerings.index))
    if unknown:
        return VerificationReport(False, 0, [f"offerings not in the catalog: {unknown[:5]}"])
    rows = _PlanRows.read(plan.placements, catalog)
    t = FailureTables.build(plan, catalog)
    batch = stack(normal_operation(t), policy_failures(t, catalog, spec.policy.survive))
    f = _Failures(t, batch, evaluate(t, batch), np.zeros(len(t.services), dtype=bool))
    v: list[str] = _whole_units(rows)
    for j, svc in enumerate(spec.services):  # each service in the spec's order, normal operation
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
        f.checked[j] = True
        v += _strategy_rules(svc, strategy, mine, rows, catalog.strategies)
        v += _data_copies(svc, mine, rows)
        v += _managed_storage(svc, mine, rows, catalog)
        v += _private_share(svc, spec, prim, rows, catalog)
        v += _normal_operation(svc, j, f)
    # the whole plan: private sites, every failure of the policy, latency, limits and cost
    v += _private_capacity(rows, catalog)
    for j, svc in enumerate(spec.services):
        if f.checked[j]:
            v += _after_failures(svc, j, f)
    v += _user_groups(f)
    v += _dependency_latency(f)
    v += _provider_count(spec, rows)
    traffic_problems, traffic_cost = check_traffic(plan, catalog)
    v += traffic_problems
    cost = _recompute_cost(plan.placements, spec, catalog) + traffic_cost
    v += _cost_and_budget(spec, cost, float(plan.cost["total"]))
    return VerificationReport(not v, len(batch), v, cost, _control_plane_notes(f))


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


def _managed_storage(
    svc: Service, mine: np.ndarray, rows: _PlanRows, catalog: Catalog
) -> list[str]:
    """Rule 2: a managed database's storage (a `db.*` offering without the main resource) exists
    only where the service runs an instance of that offering family."""
    res = main_resource(svc.demand.as_dict())
    per_unit = rows.info[res].to_numpy(dtype=float)[mine]
    held = ~rows.is_backup[mine]
    category = rows.category[mine]
    managed = np.array([str(c).startswith("db.") for c in category], dtype=bool)
    instances = {
        (r, c)
        for r, c, ok in zip(rows.region[mine], category, held & (per_unit > 0), strict=True)
        if ok
    }
    out: list[str] = []
    for i in np.flatnonzero(held & managed & (per_unit <= 0)):
        where, sku = rows.region[mine[i]], rows.p["sku"].to_numpy()[mine[i]]
        message = f"{svc.name}: managed storage {sku} in {where} without an instance there"
        if (where, category[i]) not in instances and message not in out:
            out.append(message)
    return out


def _normal_operation(svc: Service, j: int, f: _Failures) -> list[str]:
    """Every demanded resource is met with every region up, and a single writer's primary holds
    its whole demand (the failure function's normal-operation row)."""
    ev = f.ev
    out = [
        f"{svc.name}: {ev.have[0, j, k]:g} {res} in normal operation, demand {f.t.demand[j, k]:g}"
        for k, res in enumerate(RESOURCES)
        if ev.short[0, j, k]
    ]
    if not ev.writer_ok[0, j]:
        out.append(
            f"{svc.name} is single-writer but no region holds its whole demand " + _largest(f, 0, j)
        )
    return out


def _largest(f: _Failures, d: int, j: int) -> str:
    """The region coming closest to holding a single writer's need, for the message."""
    t, ev = f.t, f.ev
    need = ev.need[d, j]
    ask = np.flatnonzero((t.demand[j] > 0) & np.array([r != "storage_gb" for r in RESOURCES]))
    cells = np.flatnonzero(t.cell_service == j)
    if not len(cells) or not len(ask):
        return "(it runs in no region)"
    alive = serving_left(t, f.batch, d, cells)[:, ask]  # cells x asked resources
    ratio = alive / np.where(need[ask] > 0, need[ask], 1.0)
    best = int(ratio.min(axis=1).argmax())
    k = int(ratio[best].argmin())
    return (
        f"(largest: {alive[best, k]:g} of {need[ask[k]]:g} {RESOURCES[ask[k]]} "
        f"in {t.regions[t.cell_region[cells[best]]]})"
    )


def _after_failures(svc: Service, j: int, f: _Failures) -> list[str]:
    """After each failure of the policy that touches it: capacity and data (rule 4), growth
    (rule 4) and a promotable single writer (rule 3; a single writer whose primary holds too
    little in normal operation is reported for that only)."""
    t, ev, out = f.t, f.ev, []
    strategy = t.strategy[j]
    for d in range(1, len(f.batch)):
        if not ev.touched[d, j]:
            continue
        lost = f.batch.names[d]
        for short in np.flatnonzero(ev.short[d, j]).tolist():
            out.append(
                f"{svc.name}: after losing {lost}, {ev.have[d, j, short]:g} {RESOURCES[short]} "
                f"remain, needs {ev.need[d, j, short]:g} ({strategy})"
            )
        if ev.growth_fails[d, j]:
            for k, res in enumerate(RESOURCES):
                demand = t.demand[j, k]
                if res == "storage_gb" or demand <= 0:
                    continue
                left = ev.private_left[d, j, k]
                if left < demand - TOL * (1 + demand):
                    out.append(
                        f"{svc.name}: after losing {lost}, it must grow back to {demand:g} {res} "
                        "but no public region where it runs survives, and the private capacity "
                        f"it holds is short ({left:g} {res})"
                    )
        # a primary too small in normal operation is reported once, for that
        if not ev.writer_ok[d, j] and ev.writer_ok[0, j]:
            asked = [
                f"{ev.need[d, j, k]:g} {res}"
                for k, res in enumerate(RESOURCES)
                if res != "storage_gb" and ev.need[d, j, k] > 0
            ]
            out.append(
                f"{svc.name}: after losing {lost}, no single region can be promoted with "
                f"{' and '.join(asked)} " + _largest(f, d, j)
            )
    return out


def _group_message(
    svc: str, f: _Failures, d: int, j: int, groups: list[int], need: float, cap: float
) -> str:
    """A set of user groups the running capacity cannot serve, in the user's terms."""
    u, t = f.t.users, f.t
    lost = f"after losing {f.batch.names[d]}, " if d else ""
    names = ", ".join(u.groups[g] for g in groups)
    if len(groups) == 1 and cap <= 0:
        (g,) = groups
        if d:
            return f"{svc}: {lost}users in {names} have no region within {u.budget[g]:g} ms"
        return f"{svc}: no region within {u.budget[g]:g} ms of users in {names}"
    res = RESOURCES[t.main[u.services[j]]]
    shares = ", ".join(f"{100 * u.share[g]:g}%" for g in groups)
    if len(groups) == 1:
        within = f"within {u.budget[groups[0]]:g} ms"
        who = f"users in {names} (share {shares})"
    else:
        within = "within their budgets (" + ", ".join(f"{u.budget[g]:g}" for g in groups) + " ms)"
        who = f"users in {names} (shares {shares})"
    return (
        f"{svc}: {lost}{who} need {need:g} {res} {within}; "
        f"running capacity there serves at most {cap:g}"
    )


def _user_groups(f: _Failures) -> list[str]:
    """Rule 5: each user group of each user-facing service is served within its budget, in
    normal operation and after each failure; a service whose groups are short in normal
    operation is reported for that only."""
    t, ev, u = f.t, f.ev, f.t.users
    out: list[str] = []
    for j, s in enumerate(u.services.tolist()):
        if not f.checked[s] or not u.tested[j]:
            continue
        for d in range(len(f.batch)):
            if ev.groups_ok[d, j].all():
                continue
            frac = 1.0 if f.batch.normal[d] else float(t.alpha[s])
            for groups, need, cap in short_sets(t, ev, d, j, frac):
                out.append(_group_message(t.services[s], f, d, j, groups, need, cap))
            if d == 0:
                break
    return out


def _dependency_latency(f: _Failures) -> list[str]:
    """Rule 6: each region running a caller has the callee within the dependency's budget, in
    normal operation and after each failure of the policy (from the caller's regions still
    running to the callee's). A caller region that misses its budget in normal operation is
    reported once, for that; a caller down or recovering after a failure is reported as such."""
    t, ev, dt = f.t, f.ev, f.t.dependencies
    out: list[str] = []
    if not len(dt.pair_cell):
        return out
    where = running_where(t, ev)
    for p, (k, cell) in enumerate(zip(dt.pair_dependency, dt.pair_cell, strict=True)):
        caller, callee, budget = int(dt.caller[k]), int(dt.callee[k]), float(dt.budget[k])
        r = int(t.cell_region[cell])
        source, target = t.services[caller], t.services[callee]
        if ev.pairs_missed[0, p]:
            best = float(dt.rtt[r, where[0, callee]].min()) if where[0, callee].any() else math.inf
            out.append(
                f"{source} in {t.regions[r]}: nearest {target} is {best:.1f} ms away, "
                f"budget {budget:g}"
            )
            continue
        for d in np.flatnonzero(ev.pairs_missed[1:, p] & (ev.status[1:, caller] < RECOVERING)):
            left = where[d + 1, callee]
            nearest = (
                f"nearest {target} is {float(dt.rtt[r, left].min()):.1f} ms away"
                if left.any()
                else f"no {target} is left"
            )
            out.append(
                f"{source} in {t.regions[r]}: after losing {f.batch.names[d + 1]}, {nearest}, "
                f"budget {budget:g}"
            )
    return out


def _control_plane_notes(f: _Failures) -> list[str]:
    """Rule 4's notes: growth that needs the control plane of a provider the failure hits."""
    out = []
    for d, j in zip(*np.nonzero(f.ev.control_plane_note[1:]), strict=True):
        if f.checked[j]:
            note = growth_note(f.t, f.ev, int(d) + 1, int(j))
            out.append(f"{f.t.services[j]}: after losing {f.batch.names[d + 1]}, {note}")
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
    """Units x catalog monthly price, plus per-region fees (traffic: `check_traffic`)."""
    off = catalog.offerings
    units = p["units"].to_numpy(dtype=float)
    total = float((off.loc[p["offering"], "usd_per_month"].to_numpy() * units).sum())
    fees: dict[tuple[str, str, str], float] = {}
    for s, r, o in zip(p["service"], p["region"], p["offering"], strict=True):
        fee = float(off.at[o, "fixed_usd_per_month"])
        if fee > 0:
            key = (s, r, str(off.at[o, "category"]))
            fees[key] = max(fees.get(key, 0.0), fee)
    return total + sum(fees.values())
