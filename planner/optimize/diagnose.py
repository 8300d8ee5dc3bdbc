"""Infeasibility in the user's terms: which requirements cannot all hold, in sentences.

Takes candidates the solver proved to have no plan, and returns an `InfeasibleError` whose reasons
name the requirements to relax (the monthly budget, a latency budget, the survive policy, ...)
rather than model rows. It re-solves the model with penalised slack on one family of rows at a
time (the builder records every row's family and meaning for this) and writes a sentence for
each row that needed slack. It exists because "infeasible" alone tells a user nothing to act on.
"""

from __future__ import annotations

import math
import time
from typing import Any

from ..catalog import Catalog
from ..errors import InfeasibleError
from ..model.build import BuildOptions, build_model
from ..model.candidates import Candidates
from ..solve import SolverOptions, get_backend
from .common import PlanOptions

# Families in the order a user would rather relax them, with their names in the user's words.
RELAXABLE = {
    "budget": "the monthly budget",
    "max_providers": "the provider limit (policy.max_providers)",
    "max_regions": "a service's max_regions",
    "private_capacity": "private data-centre capacity",
    "private_share": "the private share of a hybrid strategy (policy.private_share_min)",
    "dependency_latency": "a dependency latency budget",
    "user_latency": "a user latency budget",
    "user_share": "a user group's share of capacity within its latency budget",
    "single_writer": "a single-writer database's primary and standby",
    "survival": "the survive policy or a DR strategy",
    "demand": "a service's demand",
}


def explain_infeasible(
    cands: Candidates, catalog: Catalog, options: PlanOptions, deadline: float = math.inf
) -> InfeasibleError:
    """Which requirements cannot all hold: re-solve with penalised slack on one family of rows at a
    time, in the order a user would rather relax them; the first family whose slack alone restores a
    plan is explained row by row, and the others that would also do are named. When no single
    family suffices, slack on every row together. Past `deadline` (one elastic model of a large
    application takes tens of seconds to build and solve) it says so rather than keep the user
    waiting."""
    present = {row.family for row in build_model(cands, catalog, BuildOptions(couple=True)).rows}
    enough: list[str] = []
    first: list[str] = []
    for family in RELAXABLE:
        if family not in present:
            continue
        if time.perf_counter() > deadline:
            if first:
                break
            return InfeasibleError(
                [
                    "the solver found that no plan meets every requirement, and the diagnosis of "
                    "which one to relax did not finish in time "
                    f"(it had {options.time_limit:g} s); raise --time-limit for a full diagnosis, "
                    "or try relaxing survive, residency or latency budgets one at a time"
                ]
            )
        fams = frozenset({family, "survival_cut"} if family == "survival" else {family})
        messages = _elastic_messages(cands, catalog, options, fams)
        if messages is None:
            continue
        enough.append(family)
        if not first:
            first = messages
    if first:
        return InfeasibleError(first, [RELAXABLE[f] for f in enough[1:]])
    messages = _elastic_messages(cands, catalog, options, None)
    return InfeasibleError(
        messages
        or [
            "the requirements conflict, and the diagnosis could not isolate "
            "which; try relaxing survive, residency or latency budgets one at a time"
        ]
    )


def _elastic_messages(
    cands: Candidates, catalog: Catalog, options: PlanOptions, families: frozenset[str] | None
) -> list[str] | None:
    """Sentences for the rows that need slack when only `families` may bend; None if that is not
    enough."""
    built = build_model(
        cands, catalog, BuildOptions(couple=True, elastic=True, elastic_families=families)
    )
    result = get_backend("highs").solve(
        built.prob, SolverOptions("highs", 20.0, 0.01, options.threads)
    )
    if not result.status.has_plan:
        return None
    used = [
        (row, float(var.varValue or 0.0))
        for var, row in built.slacks
        if (var.varValue or 0.0) > 1e-6
    ]
    messages: list[str] = []
    for row, slack in used:
        msg = _sentence(row.family, row.meta, slack, cands, catalog)
        if msg and msg not in messages:
            messages.append(msg)
    return messages[:12]


def _sentence(
    family: str, meta: dict[str, Any], slack: float, cands: Candidates, catalog: Catalog
) -> str:
    """A row that needed `slack`, as a sentence about the spec: `meta` names what the row asked,
    and the sentence ends with what to relax and, where the slack or the catalog says it without
    another solve, by how much."""
    spec = cands.spec
    s = meta.get("service", "")
    if family == "survival":
        return _survival_sentence(meta, cands, catalog)
    if family == "user_latency":
        group = meta["group"]
        u = next(x for x in spec.users if x.name == group)
        reach = sorted(cands.user_reach.get((s, group), ()))
        relax = (
            f"; raise max_latency_ms of the users in {group}, or allow `{s}` more regions near "
            "them (residency, providers, policy exclusions)"
        )
        if "scenario" in meta:
            return (
                f"users in {group} need `{s}` within {u.max_latency_ms:g} ms even after losing "
                f"{meta['scenario'].split(':', 1)[1]}, but the only allowed regions that close are "
                f"{', '.join(reach) or 'none'}{relax}"
            )
        return (
            f"no region allowed for `{s}` is within {u.max_latency_ms:g} ms of users in "
            f"{group}{relax}"
        )
    if family == "user_share":
        groups = ", ".join(meta.get("groups", [])) or "a user group"
        after = f" after losing {meta['scenario'].split(':', 1)[1]}" if "scenario" in meta else ""
        return (
            f"users in {groups} need {meta['share']:.0%} of `{s}`'s {meta['resource']} within "
            f"their latency budget{after}, more than the regions allowed that close can hold; "
            f"raise their max_latency_ms, or allow `{s}` more regions near them"
        )
    if family == "single_writer":
        return (
            f"`{s}` is a single-writer database: one region must hold its whole demand and, to "
            "survive losing it, another region a standby of the strategy's size; its allowed "
            f"regions and limits do not leave room for both; allow `{s}` more regions or "
            "providers, raise its max_regions, or relax policy.survive"
        )
    if family == "dependency_latency":
        target, region = meta["target"], meta["region"]
        offers = cands.offers[cands.offers["service"] == target]
        nearest = min(((catalog.rtt_ms(region, r), r) for r in set(offers["region"])), default=None)
        enough = (
            f" to at least {math.ceil(nearest[0]):g} ms (the nearest region `{target}` may use, "
            f"{nearest[1]}, is {nearest[0]:.1f} ms away)"
            if nearest is not None and "scenario" not in meta
            else ""
        )
        return (
            f"`{s}` in {region} has no region of `{target}` within {meta['budget']:g} ms it may "
            f"use; raise the max_latency_ms of the dependency {s} -> {target}{enough}, or allow "
            f"`{target}` a region near {region}"
        )
    if family == "private_capacity":
        return (
            f"private site {meta['site']} has {meta['capacity']:,.0f} {meta['resource']} usable; "
            f"the plan needs about {meta['capacity'] + slack:,.0f}; add that much capacity to the "
            "site, or allow public regions to take the rest (lower policy.private_share_min)"
        )
    if family == "max_providers":
        needed = (
            f" to {int(meta['limit']) + math.ceil(slack - 1e-6)}"
            if "limit" in meta and slack > 1e-6
            else ""
        )
        return (
            f"the policy allows at most {spec.policy.max_providers} provider(s), fewer than the "
            f"survival and residency requirements need; raise policy.max_providers{needed}"
        )
    if family == "max_regions":
        more = int(meta["limit"]) + math.ceil(slack - 1e-6)
        return (
            f"`{s}` may use at most {meta['limit']} regions, fewer than it needs; raise its "
            f"max_regions to {more}"
        )
    if family == "budget":
        cheapest = meta["budget"] + slack
        return (
            f"the cheapest plan that meets everything else costs about "
            f"${cheapest:,.2f}/month, over the budget of ${meta['budget']:,.2f}; raise "
            f"policy.budget_per_month to at least {math.ceil(cheapest):,} (USD a month)"
        )
    if family == "demand":
        return (
            f"`{s}` cannot get {meta['demand']:g} {meta['resource']} from its allowed offerings; "
            f"allow it more providers or regions, or lower its demand"
        )
    return f"{family} constraint {meta} cannot hold; relax {RELAXABLE.get(family, family)}"


def _survival_sentence(meta: dict[str, Any], cands: Candidates, catalog: Catalog) -> str:
    """A survival row that needed slack: what the service's own limits leave it to survive with,
    and what to relax: another provider or region the catalog has for it, or a narrower
    outage to survive that its allowed regions can already outlive."""
    spec = cands.spec
    s = meta.get("service", "")
    svc = spec.service(s) if s else None
    off = (
        cands.offers[(cands.offers["service"] == s) & (cands.offers["role"] == "primary")]
        if s
        else None
    )
    why = ""
    if svc is not None:
        limits = []
        if svc.residency:
            limits.append(f"may only run in {'/'.join(svc.residency)}")
        if svc.providers:
            limits.append(f"is limited to {', '.join(svc.providers)}")
        if svc.user_facing and spec.users:
            limits.append("must be within its users' latency budgets")
        why = (f"`{s}` " + " and ".join(limits) + "; ") if limits else ""
    scen = str(meta.get("scenario", ""))
    provs = sorted(set(off["provider"])) if off is not None else []
    regs = sorted(set(off["region"])) if off is not None else []
    most_zones = int(off["zones"].max()) if off is not None and len(off) else 0
    cat = svc.category if svc else ""
    if scen.startswith("provider:"):
        others = _other_providers(svc, spec, catalog, provs) if svc is not None else []
        where = f" in {'/'.join(svc.residency)}" if svc is not None and svc.residency else ""
        verb = "offers" if len(others) == 1 else "offer"
        allow = (
            f"allow `{s}` a second provider ({', '.join(others)} {verb} {cat}{where})"
            if others
            else f"allow `{s}` a wider residency"
        )
        return (
            f"{why}surviving a provider outage needs two providers that offer {cat} there; "
            f"it may use only {len(provs)} ({', '.join(provs)}); {allow}, or "
            f"{_narrower_survive(regs, most_zones)}"
        )
    if meta.get("growth"):
        return (
            f"`{s}` must grow back to full capacity after losing {scen.split(':', 1)[1]}, "
            "but no public region it may use survives and the private capacity it holds is "
            f"too small; allow `{s}` a public region, or add private capacity"
        )
    if len(regs) == 1:
        zone = (
            f", or relax policy.survive to `zone` ({regs[0]} has {most_zones} zones)"
            if most_zones >= 2 and scen.split(":", 1)[0] not in ("zone", "site")
            else ""
        )
        return (
            f"{why}surviving a {scen.split(':', 1)[0]} outage needs a second region for `{s}`, "
            f"but only {regs[0]} is allowed; allow it another region (residency, providers, "
            f"policy exclusions){zone}"
        )
    return (
        f"{why}`{s}` cannot keep enough {meta.get('resource')} running without "
        f"{scen.split(':', 1)[1]} among its allowed regions ({', '.join(regs[:6])}); allow it "
        "more regions, raise its max_regions, or relax policy.survive or its DR strategy"
    )


def _narrower_survive(regions: list[str], most_zones: int) -> str:
    """The widest outage narrower than a provider's that the allowed regions can outlive."""
    if len(regions) >= 2:
        return f"relax policy.survive to `region` ({len(regions)} regions are allowed)"
    if most_zones >= 2:
        return f"relax policy.survive to `zone` ({regions[0]} has {most_zones} zones)"
    return "relax policy.survive"


def _other_providers(svc: Any, spec: Any, catalog: Catalog, using: list[str]) -> list[str]:
    """Providers outside `using` that offer the service's category where its residency allows,
    and that neither the service nor the policy forbids: the catalog answers without a solve."""
    off = catalog.offerings
    regions = catalog.regions
    rows = off[off["category"] == svc.category]
    if svc.residency:
        allowed = set(regions.index[regions["jurisdiction"].isin(svc.residency)])
        rows = rows[rows["region"].isin(allowed)]
    rows = rows[~rows["region"].isin(spec.policy.exclude_regions)]
    barred = set(using) | set(svc.forbid_providers) | set(spec.policy.exclude_providers)
    return sorted(set(rows["provider"]) - barred)
