"""Availability of a plan: the plan's placements turned into the availability engine's input.

Failure domains are the plan's regions (each with the catalog's region unavailability), the
providers it uses, and shared sites. A service's *locations* are the regions where it holds rows
(backups included: they hold its data), or its provider as a whole for global SaaS, which only
the provider's loss takes down. A location's own unavailability comes from its offerings' SLA,
and one spread over two or more zones fails only if both zones' instances fail, with a
common-cause share beta (F4).

Whether a service is up in a state of the domains is not decided here: for every pattern of its
locations up or down, :func:`planner.analysis.failure.evaluate` (the function the verifier,
what-if and the sweep call) says whether the service's own rules hold with the locations that are
down lost (up = ok or degraded; down and recovering are not up). The engine takes that answer in
one of two exact forms for the domain states:

* a threshold on capacity shares (each location's main-resource capacity over demand; the least
  share sum among the patterns that are up), when that threshold gives every pattern's answer,
  as it does for capacity-only services. Component (SLA) failures then count as losing that
  location, exactly as the engine's k-of-n reads them;
* otherwise (a single writer that must promote one region, growth that needs a public region,
  data held apart from compute) the minimal sets of locations that keep it up, each as one
  replica in every domain of its members: the service is up when any such set is. Component
  failures are then approximated: a set's unavailability combines its members' as if each set
  failed on its own.

A global SaaS location is down exactly when its provider's domain is: the failure function's
"every catalog region of the provider lost" coincides with that except for a provider whose every
region the plan uses, each down on its own at once, which the engine does not read as the
provider's loss.

Hard dependencies are the spec's dependencies; a front door sits in series when users are served
from more than one region. A service with more than `MAX_PATTERN_LOCATIONS` locations is read
by capacity share against its strategy's fraction (the patterns would be too many).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..catalog import Catalog
from ..catalog.columns import RESOURCES
from .availability import (
    AvailabilityInput,
    AvailabilityResult,
    Replica,
    ServiceLayout,
    TooManyDomainsError,
    exact_availability,
    monte_carlo_availability,
)
from .availability_compile import below_required
from .failure import RECOVERING, FailureBatch, FailureTables, evaluate

if TYPE_CHECKING:  # for annotations only
    from ..plan import Plan

MAX_PATTERN_LOCATIONS = 12  # 4096 patterns of a service's locations
_CHUNK = 256  # patterns evaluated at once: memory stays flat for services with many locations


@dataclass(frozen=True)
class _Location:
    name: str  # a region, or "<provider> (global)"
    cells: list[int]
    share: float  # main-resource capacity held over demand (0 for data only)
    unavailability: float
    domains: tuple[str, ...]


def _locations(
    plan: Plan,
    catalog: Catalog,
    t: FailureTables,
    b: float,
    region_unavailability: dict[str, float],
) -> tuple[list[list[_Location]], dict[str, float]]:
    """Per service its locations, and the unavailability of every domain they sit in."""
    regions = catalog.regions
    p = plan.placements
    sla = catalog.offerings["sla_pct"].reindex(p["offering"]).to_numpy(dtype=float)
    backup = (p["role"] == "backup").to_numpy()
    units = p["units"].to_numpy(dtype=float)
    cell_of = {
        (t.services[s], t.regions[r]): c
        for c, (s, r) in enumerate(
            zip(t.cell_service.tolist(), t.cell_region.tolist(), strict=True)
        )
    }
    rows_of: dict[int, list[int]] = {}
    for i, key in enumerate(zip(p["service"].tolist(), p["region"].tolist(), strict=True)):
        if key in cell_of:
            rows_of.setdefault(cell_of[key], []).append(i)
    out: list[list[_Location]] = [[] for _ in t.services]
    domain_u: dict[str, float] = {}
    at: list[dict[str, int]] = [{} for _ in t.services]  # per service, location -> position
    for c in range(len(t.cell_service)):
        j = int(t.cell_service[c])
        provider = t.providers[t.region_provider[t.cell_region[c]]]
        where = f"{provider} (global)" if t.cell_everywhere[c] else t.regions[t.cell_region[c]]
        if where not in at[j]:
            at[j][where] = len(out[j])
            out[j].append(_Location(where, [], 0.0, 0.0, ()))
        out[j][at[j][where]].cells.append(c)
    for j, per_service in enumerate(out):
        demand = float(t.demand[j, t.main[j]])
        for k, loc in enumerate(per_service):
            rows = np.array([i for c in loc.cells for i in rows_of[c]], dtype=np.intp)
            held = rows[~backup[rows]] if (~backup[rows]).any() else rows
            u_one = 1.0 - float(sla[held].min()) / 100.0
            zoned = loc.name in regions.index and int(regions.at[loc.name, "zones"]) >= 2
            u = b * u_one + ((1 - b) * u_one) ** 2 if zoned and units[held].sum() >= 2 else u_one
            serving = float(t.cell_serving[loc.cells].sum())
            domains = _domains(loc.name, catalog, domain_u, region_unavailability)
            per_service[k] = _Location(loc.name, loc.cells, min(serving / demand, 10.0), u, domains)
    return out, domain_u


def _domains(
    where: str, catalog: Catalog, domain_u: dict[str, float], overrides: dict[str, float]
) -> tuple[str, ...]:
    """The failure domains a location sits in, their unavailability added to `domain_u`."""
    defaults = catalog.availability
    if where.endswith(" (global)"):
        provider = where.removesuffix(" (global)")
        domain_u[f"provider:{provider}"] = defaults["provider"]
        return (f"provider:{provider}",)
    row = catalog.regions.loc[where]
    kind, site, provider = row["kind"], row["site"], row["provider"]
    doms = [f"region:{where}", f"provider:{provider}"]
    override = overrides.get(where)
    domain_u[doms[0]] = override if override is not None else defaults[f"{kind}_region"]
    domain_u[doms[1]] = defaults["provider"]
    if site != where:
        doms.append(f"site:{site}")
        domain_u[f"site:{site}"] = defaults[
            "private_region" if kind == "private" else "public_region"
        ]
    return tuple(doms)


def up_patterns(t: FailureTables, locations: list[list[_Location]]) -> list[np.ndarray | None]:
    """Per service, whether it is up (its own rules hold: ok or degraded) for every pattern of
    its locations (bit l of the pattern set: location l is up), from the failure function; None
    for a service with more than MAX_PATTERN_LOCATIONS locations. Every service's patterns go
    into one batch of failures (a down location is its region lost, or for global SaaS its
    provider lost), evaluated a chunk at a time."""
    region_of = {r: i for i, r in enumerate(t.regions)}
    provider_of = {p: i for i, p in enumerate(t.providers)}
    owner, codes, lost_at, gone_at = [], [], [], []
    n = 0  # rows so far: each service's patterns follow the previous service's
    for j, locs in enumerate(locations):
        if len(locs) > MAX_PATTERN_LOCATIONS:
            continue
        code = np.arange(1 << len(locs), dtype=np.int64)
        owner.append(np.full(len(code), j))
        codes.append(code)
        for k, loc in enumerate(locs):
            row = n + np.flatnonzero((code >> k) & 1 == 0)  # the patterns where it is down
            if loc.name in region_of:
                lost_at.append((row, region_of[loc.name]))
            else:
                gone_at.append((row, provider_of[loc.name.removesuffix(" (global)")]))
        n += len(code)
    lost = np.zeros((n, len(t.regions)), dtype=bool)
    gone = np.zeros((n, len(t.providers)), dtype=bool)
    for rows, r in lost_at:
        lost[rows, r] = True
    for rows, p in gone_at:
        gone[rows, p] = True
    up = np.zeros(n, dtype=bool)
    who = np.concatenate(owner) if owner else np.zeros(0, dtype=np.intp)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(start + _CHUNK, n))
        size = part.stop - part.start
        batch = FailureBatch(
            [""] * size, lost[part], np.zeros_like(lost[part]), gone[part], np.zeros(size, bool)
        )
        status = evaluate(t, batch, own_only=True).own_status
        up[part] = status[np.arange(size), who[part]] < RECOVERING
    out: list[np.ndarray | None] = [None] * len(locations)
    offset = 0
    for j, code in zip([int(o[0]) for o in owner], codes, strict=True):
        out[j] = up[offset : offset + len(code)]
        offset += len(code)
    return out


def _threshold(shares: np.ndarray, up: np.ndarray) -> float | None:
    """The required share that makes the engine's threshold (surviving shares >= it) give `up`
    for every pattern, or None when no threshold does."""
    m = len(shares)
    codes = np.arange(1 << m, dtype=np.int64)
    bits = ((codes[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(np.float64)
    sums = bits @ shares  # as the engine adds them
    if not up.any():
        return float(shares.sum()) + 1.0  # never up: more than everything it holds
    k = float(sums[up].min())
    if k <= 0:
        return None
    return k if bool((~below_required(sums, k) == up).all()) else None


def _path_sets(
    name: str, locs: list[_Location], up: np.ndarray, region_domains: dict[str, tuple[str, ...]]
) -> ServiceLayout:
    """The service as its minimal sets of locations that keep it up: one replica per set, in
    every domain of its members. The failure function's answer is monotone (losing more never
    helps), so a set is minimal when dropping any one member takes the service down."""
    m = len(locs)
    replicas = []
    for code in np.flatnonzero(up).tolist():
        members = [k for k in range(m) if code >> k & 1]
        if any(up[code & ~(1 << k)] for k in members):
            continue
        key = f"{name}: " + (" + ".join(locs[k].name for k in members) if members else "always")
        region_domains[key] = tuple(dict.fromkeys(d for k in members for d in locs[k].domains))
        u = 1.0 - float(np.prod([1.0 - locs[k].unavailability for k in members]))
        replicas.append(Replica(key, 1.0, u))
    return ServiceLayout(name, tuple(replicas), required_share=1.0)


def _service_layout(
    t: FailureTables,
    j: int,
    locs: list[_Location],
    up: np.ndarray | None,
    region_domains: dict[str, tuple[str, ...]],
) -> ServiceLayout:
    name = t.services[j]
    replicas = tuple(Replica(loc.name, loc.share, loc.unavailability) for loc in locs)
    shares = np.array([loc.share for loc in locs], dtype=np.float64)
    if up is None:  # too many locations to read pattern by pattern: its strategy's fraction
        data_only = not (t.demand[j] > 0)[[r != "storage_gb" for r in RESOURCES]].any()
        frac = float(t.beta[j] if data_only else t.alpha[j])
        return ServiceLayout(name, replicas, required_share=max(frac, 1e-9))
    required = _threshold(shares, up)
    if required is not None:
        return ServiceLayout(name, replicas, required_share=required)
    return _path_sets(name, locs, up, region_domains)


def plan_layout(
    plan: Plan,
    catalog: Catalog,
    beta: float | None = None,
    region_unavailability: dict[str, float] | None = None,
) -> AvailabilityInput:
    """Build the engine's input for a plan. `region_unavailability` overrides the catalog's
    figure per region (from history)."""
    spec = plan.spec
    b = catalog.availability["zone_beta"] if beta is None else beta
    t = FailureTables.build(plan, catalog)
    locations, domain_u = _locations(plan, catalog, t, b, region_unavailability or {})
    region_domains = {loc.name: loc.domains for per in locations for loc in per}
    patterns = up_patterns(t, locations)
    services = tuple(
        _service_layout(t, j, locations[j], patterns[j], region_domains)
        for j in range(len(t.services))
    )
    front = 0.0
    facing = np.array([s.user_facing for s in spec.services], dtype=bool)
    if len(set(t.cell_region[facing[t.cell_service] & (t.cell_serving > 0)].tolist())) > 1:
        front = catalog.availability["front_door"]
    deps = tuple((d.source, d.target) for d in spec.dependencies)
    return AvailabilityInput(services, region_domains, domain_u, deps, front)


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
        try:
            return exact_availability(inp)
        except TooManyDomainsError:  # a service read as more sets than the engine enumerates
            pass
    return monte_carlo_availability(inp, samples=samples, seed=seed)
