"""Shared private capacity: what units take at private sites, repairing an over-full site, and
pricing private vCPU for a better lower bound.

Each service solved alone may fill a private OpenStack site as if it had it to itself; their
union can then hold more than a site has. `overfills_private` detects that on a plan;
`repair_private` takes the stand-alone units and returns a `PrivateRepair`: units and strategies
that fit (the services that save the most per vCPU stay private, the others take their best
public plan) and the prices per vCPU where the sites filled up. `lagrangian_bound` turns such a
price into a valid lower bound, tighter than the stand-alone sum when private capacity binds.
`PrivateUse` measures capacity taken, for the stages that re-solve some services with the rest held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import SITE_CAPACITY, SITE_RESOURCES
from ..errors import InfeasibleError, NoPlanError, SolverError
from ..model.candidates import Candidates
from ..plan import Plan
from .common import PlanOptions, column_lookup
from .parts import PartResult, solve_each


class PrivateUse:
    """Capacity that unit counts take at private sites, from lookups over the private rows built
    once (the offers table can hold 500k rows; indexing it per call cost 9 ms at 1000 services)."""

    def __init__(self, offers: pd.DataFrame):
        priv = offers[(offers["kind"] == "private").to_numpy()]
        self.rows = {
            i: (s, r, caps)
            for i, s, r, *caps in zip(
                priv.index,
                priv["service"].tolist(),
                priv["region"].tolist(),
                *(priv[res].astype(float).tolist() for res in SITE_RESOURCES),
                strict=True,
            )
        }

    def __call__(
        self, units: dict[int, int], services: set[str] | None = None
    ) -> dict[tuple[str, str], float]:
        """(site, resource) -> capacity taken by the given units (of `services` only, when
        given)."""
        out: dict[tuple[str, str], float] = {}
        for i, n in units.items():
            row = self.rows.get(i)
            if n <= 0 or row is None or (services is not None and row[0] not in services):
                continue
            for res, cap in zip(SITE_RESOURCES, row[2], strict=True):
                out[(row[1], res)] = out.get((row[1], res), 0.0) + cap * n
        return out


@dataclass
class PrivateRepair:
    """Units and strategies that fit the private sites, and the prices per vCPU-month to try for
    a Lagrangian bound (empty when every service that could stay private did)."""

    units: dict[int, int]
    strategies: dict[str, str]
    prices: list[float]


def overfills_private(plan: Plan, catalog: Catalog) -> bool:
    """Whether the plan holds more of some resource at a private site than the site has."""
    p = plan.placements.join(catalog.regions["kind"], on="region")
    p = p[p["kind"] == "private"]
    if p.empty:
        return False
    for res, col in SITE_CAPACITY.items():
        used = (p[res] * p["units"]).groupby(p["region"]).sum()
        if (used > catalog.sites[col].reindex(used.index) + 1e-9).any():
            return True
    return False


def repair_private(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    units: dict[int, int],
    strategies: dict[str, str],
    union: Plan,
    limit: float,
    deadline: float | None = None,
) -> PrivateRepair | None:
    """Greedy repair of shared private capacity: services on an over-full site are solved again
    without private regions; those that save the most per vCPU stay private while the site has
    room, the others take their public plan. None when no service has a public plan. Past
    `deadline`, the services not yet solved again keep their private places."""
    p = union.placements.join(catalog.regions["kind"], on="region")
    users = sorted(set(p.loc[p["kind"] == "private", "service"]))
    alt, savings = _public_alternatives(cands, catalog, options, p, users, limit, deadline)
    if not savings:
        return None
    left = {
        r: {res: float(catalog.sites.at[r, col]) for res, col in SITE_CAPACITY.items()}
        for r in catalog.sites.index
    }
    fixed = [s for s in users if s not in alt]
    for s in fixed:  # services with no public alternative are placed first
        _take(p, s, left)
    new_strategies = dict(strategies)
    service_of = column_lookup(cands.offers.loc[list(units)], "service")
    mine_of: dict[str, dict[int, int]] = {}
    for i, n in units.items():
        mine_of.setdefault(service_of[i], {})[i] = n
    left_out: list[float] = []
    for s, saving in sorted(savings, key=lambda x: -x[1]):
        if not _take(p, s, left):
            left_out.append(saving)
            mine_of[s] = dict(alt[s].units)
            new_strategies.update(alt[s].strategies)
    new_units = {i: n for held in mine_of.values() for i, n in held.items()}
    # prices to try for a Lagrangian bound: the marginal saving per vCPU where the site filled up
    prices = sorted({round(f * x, 6) for x in left_out[:1] for f in (0.5, 1.0, 2.0) if x > 0})
    return PrivateRepair(new_units, new_strategies, prices)


def _public_alternatives(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    p: pd.DataFrame,
    users: list[str],
    limit: float,
    deadline: float | None = None,
) -> tuple[dict[str, PartResult], list[tuple[str, float]]]:
    """Each private user's best plan on public regions alone, and what staying private saves per
    private vCPU it holds (`p`: the plan's placements with each region's kind)."""
    off = cands.offers
    public_only = cands.with_offers(off[off["kind"] != "private"])
    alt: dict[str, PartResult] = {}
    savings = []
    public = set(public_only.offers["service"])
    # the others cannot leave the private cloud: they stay
    movable = [s for s in users if s in public]
    solved = solve_each(public_only.restrict(movable), catalog, options, limit, deadline=deadline)
    while True:
        try:
            s, out = next(solved)
        except (StopIteration, NoPlanError):  # all solved, or the time limit: those not stay
            break
        if isinstance(out, (InfeasibleError, NoPlanError, SolverError)):
            continue
        if isinstance(out, BaseException):
            raise out
        alt[s] = out
        mine = p[(p["service"] == s)]
        cost_private = float(mine["usd_per_month"].sum())
        vcpu = float(
            (
                mine.loc[mine["kind"] == "private", "vcpu"]
                * mine.loc[mine["kind"] == "private", "units"]
            ).sum()
        )
        public_cost = float(sum(off.at[i, "usd_per_month"] * n for i, n in out.units.items()))
        savings.append((s, (public_cost - cost_private) / max(vcpu, 1e-9)))
    return alt, savings


def lagrangian_bound(
    cands: Candidates,
    catalog: Catalog,
    options: PlanOptions,
    service_bound: dict[str, float],
    price: float,
    limit: float,
    deadline: float | None = None,
) -> float:
    """A valid lower bound with private vCPU priced at `price` per vCPU-month instead of capped:
    sum over services of their stand-alone bound with that price, minus price x the capacity of the
    sites they may use. For the optimal plan x*, sum_s (cost_s + price v_s(x*)) - price C <=
    cost(x*) because sum_s v_s(x*) <= C; each service's own minimum is at most its term. Services
    that may not use a private site keep their unpriced bound."""
    off = cands.offers
    private = off["kind"] == "private"
    capable = sorted(set(off.loc[private, "service"]))
    if not capable:
        return -math.inf
    priced = off.copy()
    priced.loc[private, "usd_per_month"] = (
        priced.loc[private, "usd_per_month"] + price * priced.loc[private, "vcpu"]
    )
    sub = cands.with_offers(priced[priced["service"].isin(capable)], capable)
    total = sum(b for s, b in service_bound.items() if s not in capable)
    try:
        for _s, out in solve_each(sub, catalog, options, limit, deadline=deadline):
            if isinstance(out, BaseException):
                return -math.inf  # no bound from this price; the plain bound still holds
            total += out.bound
    except NoPlanError:  # the time limit: every service's term is needed
        return -math.inf
    sites = sorted(set(off.loc[private, "region"]))
    return total - price * float(catalog.sites.loc[sites, "vcpu_capacity"].sum())


def _take(p: pd.DataFrame, service: str, left: dict[str, dict[str, float]]) -> bool:
    """Reserve the service's private usage if it fits everywhere; False (nothing reserved) if
    not."""
    mine = p[(p["service"] == service) & (p["kind"] == "private")]
    need = {
        r: {res: float((g[res] * g["units"]).sum()) for res in SITE_RESOURCES}
        for r, g in mine.groupby("region")
    }
    if any(need[r][res] > left[r][res] + 1e-9 for r in need for res in need[r]):
        return False
    for r in need:
        for res in need[r]:
            left[r][res] -= need[r][res]
    return True
