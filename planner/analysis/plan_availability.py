"""Availability of a plan: the plan's placements turned into the availability engine's input.

Failure domains are the plan's regions (each with the catalog's region unavailability), the
providers it uses, and shared sites. A replica is a service's capacity in one region; its own
unavailability comes from its offerings' SLA, and a replica spread over two or more zones fails
only if both zones' instances fail, with a common-cause share beta (F4). A service is up when its
surviving replicas hold the share of demand its DR strategy keeps running (at least one replica
for strategies that start from nothing); hard dependencies are the spec's dependencies; a front
door sits in series when users are served from more than one region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import Catalog
from ..catalog.columns import RESOURCES, main_resource
from ..plan import global_services
from .availability import (
    AvailabilityInput,
    AvailabilityResult,
    Replica,
    ServiceLayout,
    exact_availability,
    monte_carlo_availability,
)

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan


def plan_layout(
    plan: Plan,
    catalog: Catalog,
    beta: float | None = None,
    region_unavailability: dict[str, float] | None = None,
) -> AvailabilityInput:
    """Build the engine's input for a plan. `region_unavailability` overrides the catalog's
    figure per region (from history)."""
    spec = plan.spec
    p = plan.placements
    defaults = catalog.availability
    b = defaults["zone_beta"] if beta is None else beta
    regions = catalog.regions
    prim = p[p["role"] != "backup"]
    spread = global_services(p, catalog)
    # a global SaaS service's replicas sit in its provider as a whole: only the provider's loss
    # (its own SLA aside) takes them down
    prim = prim.assign(
        location=[
            f"{provider} (global)" if s in spread else r
            for s, r, provider in zip(
                prim["service"], prim["region"], prim["provider"], strict=True
            )
        ]
    )
    services = []
    for svc in spec.services:
        demand = svc.demand.as_dict()
        res = main_resource(demand)
        mine = prim[prim["service"] == svc.name]
        replicas = []
        for region, g in mine.groupby("location", sort=True):
            share = float((g[res] * g["units"]).sum()) / demand[res]
            if share <= 0:
                continue
            u_one = 1.0 - float(catalog.offerings.loc[g["offering"], "sla_pct"].min()) / 100.0
            zoned = region in regions.index and int(regions.at[region, "zones"]) >= 2
            u = (
                b * u_one + ((1 - b) * u_one) ** 2
                if zoned and int(g["units"].sum()) >= 2
                else u_one
            )
            replicas.append(Replica(region, min(share, 10.0), u))
        strategy = catalog.strategies.loc[plan.strategies[svc.name]]
        data_only = all(demand[r] == 0 for r in RESOURCES if r != "storage_gb")
        frac = float(strategy["data_fraction"] if data_only else strategy["compute_fraction"])
        services.append(ServiceLayout(svc.name, tuple(replicas), required_share=max(frac, 1e-9)))
    used = sorted(set(prim.loc[~prim["service"].isin(spread), "region"]))
    region_domains: dict[str, tuple[str, ...]] = {}
    domain_u: dict[str, float] = {}
    for provider in sorted(set(prim.loc[prim["service"].isin(spread), "provider"])):
        region_domains[f"{provider} (global)"] = (f"provider:{provider}",)
        domain_u[f"provider:{provider}"] = defaults["provider"]
    for r in used:
        kind = regions.at[r, "kind"]
        site = regions.at[r, "site"]
        doms = [f"region:{r}", f"provider:{regions.at[r, 'provider']}"]
        if site != r:
            doms.append(f"site:{site}")
            domain_u[f"site:{site}"] = defaults[
                "private_region" if kind == "private" else "public_region"
            ]
        region_domains[r] = tuple(doms)
        override = (region_unavailability or {}).get(r)
        domain_u[f"region:{r}"] = override if override is not None else defaults[f"{kind}_region"]
        domain_u[f"provider:{regions.at[r, 'provider']}"] = defaults["provider"]
    front = 0.0
    user_facing = [s.name for s in spec.services if s.user_facing]
    if user_facing and len(set(prim.loc[prim["service"].isin(user_facing), "region"])) > 1:
        front = defaults["front_door"]
    deps = tuple((d.source, d.target) for d in spec.dependencies)
    return AvailabilityInput(tuple(services), region_domains, domain_u, deps, front)


def plan_availability(
    plan: Plan,
    catalog: Catalog,
    beta: float | None = None,
    region_unavailability: dict[str, float] | None = None,
    samples: int = 200_000,
    seed: int = 0,
) -> AvailabilityResult:
    """Exact availability when the plan's domains can be enumerated, else Monte Carlo with a 95%
    confidence interval."""
    inp = plan_layout(plan, catalog, beta, region_unavailability)
    n_domains = len(inp.domain_unavailability)
    if n_domains <= 20:
        return exact_availability(inp)
    return monte_carlo_availability(inp, samples=samples, seed=seed)
