"""Candidates: the sparse table of (service, offering) pairs the model may use, and the failure
scenarios of the policy.

Everything that can be decided before the solver is decided here, with vectorised pandas filters:
category and tier, residency, provider lists and exclusions, user latency. A service left with no
candidate is explained in the user's terms before any model is built.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..catalog.columns import RESOURCES, SINGLE_WRITER_CATEGORIES, main_resource
from ..errors import InfeasibleError
from ..spec import AppSpec, Service


@dataclass(frozen=True)
class Scenario:
    """One failure of the policy: whole regions lost, and regions that lose a share (a zone)."""

    id: str  # "region:aws/us-east-1", "provider:gcp", "zone:naver/KR"
    kind: str  # zone | region | site | provider
    regions: frozenset[str]  # regions lost entirely
    zone_of: str = ""  # for zone scenarios of multi-zone regions: the region that loses one zone
    provider: str = ""

    def label(self) -> str:
        kind, _, what = self.id.partition(":")
        return {
            "zone": f"one zone of {what}",
            "region": f"region {what}",
            "site": f"site {what}",
            "provider": f"all of {what}",
        }.get(kind, self.id)


@dataclass(frozen=True)
class StrategyOption:
    name: str
    compute_fraction: float
    data_fraction: float
    backup_copies: bool
    rto_minutes: float
    rpo_minutes: float
    control_plane_dependent: bool


@dataclass
class Candidates:
    spec: AppSpec
    offers: pd.DataFrame  # one row per (service, offering, role); columns below
    demand: pd.DataFrame  # index service, columns RESOURCES
    strategies: dict[str, list[StrategyOption]]
    scenarios: list[Scenario]
    user_reach: dict[tuple[str, str], frozenset[str]]  # (service, user group) -> regions in budget
    global_services: frozenset[str]  # global SaaS only: survives zone/region/site failures
    notes: list[str] = field(default_factory=list)
    # stateful services with one writable primary (docs/model.md, the rules: rule 3)
    single_writer: frozenset[str] = frozenset()
    # The offers table's columns as Python lists, made on first use (`column_values`): a model
    # builder reads rows through them. A restriction slices its parent's lists (`_parent`: the
    # parent and the positions of the restriction's rows in it) rather than converting its own
    # table, as a per-service model is built many times over from one large table.
    _lists: dict[str, list[Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _parent: tuple[Candidates, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __getstate__(self) -> dict[str, Any]:
        # sent to worker processes without the caches (a restriction would carry its parent)
        return {k: v for k, v in self.__dict__.items() if k not in ("_lists", "_parent")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lists={}, _parent=None)

    def services(self) -> list[str]:
        return list(self.demand.index)

    def column_values(self, name: str) -> list[Any]:
        """The offers column `name` as a list of Python values, in table order, made once."""
        if name not in self._lists:
            if self._parent is not None:
                parent, positions = self._parent
                values = parent.column_values(name)
                self._lists[name] = [values[p] for p in positions.tolist()]
            else:
                self._lists[name] = self.offers[name].tolist()
        return self._lists[name]

    @functools.cached_property
    def rows_of(self) -> dict[str, np.ndarray]:
        """Service -> positions of its offer rows (restrict() is called per service, many times)."""
        return {
            s: np.asarray(ix)
            for s, ix in self.offers.groupby("service", sort=False).indices.items()
        }

    def restrict(
        self, services: list[str], regions: dict[str, set[str]] | None = None
    ) -> Candidates:
        """A copy limited to some services (and optionally to some regions per service)."""
        rows = [self.rows_of[s] for s in services if s in self.rows_of]
        positions = np.sort(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)
        if regions is not None:  # only over the services' own rows: the full table can be 500k rows
            service, region = self.column_values("service"), self.column_values("region")
            positions = positions[
                np.array(
                    [region[p] in regions.get(service[p], ()) for p in positions.tolist()],
                    dtype=bool,
                )
            ]
        # keep the original row labels: unit counts from sub-models are merged by them
        sub = self.with_offers(self.offers.iloc[positions], services)
        sub._parent = (self, positions)
        return sub

    def with_offers(self, offers: pd.DataFrame, services: list[str] | None = None) -> Candidates:
        """The same problem over another offers table (a subset, or re-priced rows), limited to
        `services` (default: all); row labels are kept."""
        services = self.services() if services is None else services
        keep = set(services)
        return Candidates(
            self.spec,
            offers,
            self.demand.loc[services],
            {s: self.strategies[s] for s in services},
            self.scenarios,
            {k: v for k, v in self.user_reach.items() if k[0] in keep},
            frozenset(s for s in self.global_services if s in keep),
            self.notes,
            frozenset(s for s in self.single_writer if s in keep),
        )


def allowed_strategies(svc: Service, strategies: pd.DataFrame) -> tuple[list[StrategyOption], str]:
    """The strategies that meet the service's RTO/RPO; for a fixed `dr`, that one or a reason."""

    def option(name: str) -> StrategyOption:
        row = strategies.loc[name]
        return StrategyOption(
            name,
            float(row["compute_fraction"]),
            float(row["data_fraction"]),
            bool(row["backup_copies"]),
            float(row["rto_minutes"]),
            float(row["rpo_minutes"]),
            bool(row["control_plane_dependent"]),
        )

    def meets(o: StrategyOption) -> bool:
        return (svc.rto_minutes is None or o.rto_minutes <= svc.rto_minutes) and (
            svc.rpo_minutes is None or o.rpo_minutes <= svc.rpo_minutes
        )

    names = list(strategies.index) if svc.dr == "auto" else [svc.dr]
    options = [option(n) for n in names]
    ok = [o for o in options if meets(o)]
    if ok:
        return ok, ""
    if svc.dr == "auto":
        wanted = " and ".join(
            f"{label} {value:g} min"
            for label, value in (("RTO", svc.rto_minutes), ("RPO", svc.rpo_minutes))
            if value is not None
        )
        return [], (
            f"`{svc.name}` asks for {wanted}, "
            "which no disaster-recovery strategy in the catalog gives "
            f"(the best is active_active with RTO {option('active_active').rto_minutes:g} min)"
        )
    o = options[0]
    wanted = " and ".join(
        f"{label} {value:g} min"
        for label, value in (("RTO", svc.rto_minutes), ("RPO", svc.rpo_minutes))
        if value is not None
    )
    return [], (
        f"`{svc.name}` uses {o.name}, which recovers in about {o.rto_minutes:g} min with up to "
        f"{o.rpo_minutes:g} min of data loss, but it requires {wanted}: choose a faster "
        "strategy or `dr: auto`"
    )


def build_scenarios(policy: str, regions: pd.DataFrame) -> list[Scenario]:
    """Every single failure of the policy's kind among `regions` (the catalog rows in use)."""
    if policy == "none":
        return []
    if policy == "region":
        return [
            Scenario(f"region:{r}", "region", frozenset([r]), provider=p)
            for r, p in zip(regions.index, regions["provider"], strict=True)
        ]
    if policy == "site":
        return [
            Scenario(f"site:{site}", "site", frozenset(group.index))
            for site, group in regions.groupby("site", sort=True)
        ]
    if policy == "provider":
        return [
            Scenario(f"provider:{p}", "provider", frozenset(group.index), provider=p)
            for p, group in regions.groupby("provider", sort=True)
        ]
    if policy == "zone":
        out = []
        for r, z in zip(regions.index, regions["zones"], strict=True):
            if int(z) >= 2:
                out.append(Scenario(f"zone:{r}", "zone", frozenset(), zone_of=r))
            else:  # a single-zone region (or private site) loses everything with its zone
                out.append(Scenario(f"zone:{r}", "zone", frozenset([r])))
        return out
    raise ValueError(f"unknown survive policy {policy}")


def build_candidates(spec: AppSpec, catalog: Catalog) -> Candidates:
    """Filter the catalog down to what each service may use; explain any service left with
    nothing.

    Per service, in order: the strategies its RTO/RPO allow (`allowed_strategies`); the offerings
    its category, tiers, residency, provider and region exclusions and user latency budgets allow
    (`_filtered_rows`, once per kind of request); a unit bound per offering (`_with_unit_bounds`);
    and which of its regions each user group reaches (`_user_reach`). Then the one offers table
    (`_offers_table`), the demand and the failure scenarios of the regions in use.
    """
    off = catalog.offerings.reset_index()
    regions = catalog.regions
    off = off.join(regions[["jurisdiction", "site", "zones", "kind"]], on="region")
    policy = spec.policy
    reasons: list[str] = []
    parts = []
    strategies: dict[str, list[StrategyOption]] = {}
    reach: dict[tuple[str, str], frozenset[str]] = {}
    global_services = set()
    single_writer = set()

    user_rtt = {u.name: catalog.rtt_from_point_ms(u.lat, u.lon) for u in spec.users}
    # Services that ask the same way get the same rows: filter once per kind of request (a large
    # application has hundreds of services and a few dozen kinds), then size per service.
    rows_for: dict[tuple, pd.DataFrame | list] = {}
    for svc in spec.services:
        options, why = allowed_strategies(svc, catalog.strategies)
        strategies[svc.name] = options
        if why:
            reasons.append(why)
        demand = svc.demand.as_dict()
        needed = [r for r in RESOURCES if demand[r] > 0]
        backed = any(o.backup_copies for o in options) and demand["storage_gb"] > 0
        key = _request_kind(svc, needed, backed)
        if key not in rows_for:
            rows_for[key] = _filtered_rows(
                svc, needed, backed, spec, off, catalog.service_categories, regions, user_rtt
            )
        found = rows_for[key]
        if isinstance(found, list):  # the filters that emptied it, to explain
            reasons.append(_explain_empty(svc, found, off))
            continue
        rows = found[found["role"] == "primary"]
        parts.append(_with_unit_bounds(svc.name, found, demand, needed, policy.survive))
        if len(rows) and catalog.runs_globally(rows["offering"]).all():
            global_services.add(svc.name)
        serving = rows[rows[main_resource(demand)] > 0]
        if _is_single_writer(svc, serving, catalog):
            single_writer.add(svc.name)
        if svc.user_facing:
            reach.update(_user_reach(svc.name, set(serving["region"]), spec, user_rtt))
    if policy.survive == "provider" and policy.max_providers == 1:
        # known before any solve: surviving a provider needs one to lose and one to carry on
        reasons.append(
            "the policy allows at most 1 provider(s), fewer than surviving the loss of a whole "
            "provider needs (one to lose and one to carry on); raise policy.max_providers to 2, "
            "or survive `region`"
        )
    if reasons:
        raise InfeasibleError(reasons)
    offers = _offers_table(parts)
    demand_table = pd.DataFrame(
        [s.demand.as_dict() for s in spec.services],
        index=pd.Index([s.name for s in spec.services], name="service"),
    )
    used = regions.loc[sorted(set(offers["region"]))]
    scenarios = build_scenarios(policy.survive, used)
    return Candidates(
        spec,
        offers,
        demand_table,
        strategies,
        scenarios,
        reach,
        frozenset(global_services),
        single_writer=frozenset(single_writer),
    )


def _is_single_writer(svc: Service, serving: pd.DataFrame, catalog: Catalog) -> bool:
    """A stateful database or cache has one writable primary unless every offering that could
    serve it is multi-writer (catalogs/writers.csv): its load cannot be pooled across regions."""
    if not svc.stateful or svc.category not in SINGLE_WRITER_CATEGORIES:
        return False
    return bool(len(serving)) and bool(catalog.single_writer(serving["offering"]).any())


def _request_kind(svc: Service, needed: list[str], backed: bool) -> tuple:
    """What `_filtered_rows` reads of a service: services with the same kind get the same rows."""
    return (
        svc.category,
        tuple(svc.tiers),
        tuple(svc.residency),
        tuple(svc.providers),
        tuple(svc.forbid_providers),
        bool(svc.user_facing),
        tuple(needed),
        backed,
    )


def _with_unit_bounds(
    service: str, found: pd.DataFrame, demand: dict[str, float], needed: list[str], survive: str
) -> pd.DataFrame:
    """The service's own copy of its rows, with `max_units`: a tight big-M per row."""
    cand = found.copy()
    cand.insert(0, "service", service)
    # Tight big-M: units needed to carry the whole demand alone with this offering.
    ratios = np.where(
        cand[needed].to_numpy() > 0,
        np.array([demand[r] for r in needed]) / cand[needed].where(cand[needed] > 0, 1).to_numpy(),
        0.0,
    )
    backup_rows = (cand["role"] == "backup").to_numpy()
    storage_ratio = demand["storage_gb"] / cand["storage_gb"].where(cand["storage_gb"] > 0, 1)
    m = np.where(backup_rows, storage_ratio.to_numpy(), ratios.max(axis=1))
    k = np.ceil(np.round(m, 9)).astype(int).clip(min=1)
    if survive == "zone":
        # Surviving the loss of one zone inside a region needs spare units in that region:
        # n - ceil(n / z) >= k holds for n = k + ceil(k / (z - 1)).
        z = cand["zones"].to_numpy(dtype=int)
        multi = z >= 2
        k = np.where(multi, k + np.ceil(k / np.maximum(z - 1, 1)).astype(int), k)
    cand["max_units"] = k
    # Running presence (docs/model.md, the rules: 1 and 2): a primary row serves when it has
    # capacity in the service's main resource; a managed database's storage row is attached to
    # the instances it belongs to; any other row (a volume, a bucket) holds a data copy only.
    primary = cand["role"] == "primary"
    cand["serves"] = primary & (cand[main_resource(demand)] > 0)
    cand["attached"] = primary & ~cand["serves"] & cand["category"].str.startswith("db.")
    return cand


def _user_reach(
    service: str, present: set[str], spec: AppSpec, user_rtt: dict[str, pd.Series]
) -> dict[tuple[str, str], frozenset[str]]:
    """(service, user group) -> the service's regions within that group's latency budget."""
    reach = {}
    for u in spec.users:
        ok = user_rtt[u.name][user_rtt[u.name] <= u.max_latency_ms].index
        reach[(service, u.name)] = frozenset(r for r in ok if r in present)
    return reach


def _offers_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The services' rows as one table: the columns the model reads, sorted by service, role and
    offering, with fresh row labels (the model's row index i)."""
    offers = pd.concat(parts, ignore_index=True)
    keep = [
        "service",
        "offering",
        "provider",
        "region",
        "site",
        "zones",
        "kind",
        "sku",
        "category",
        "tier",
        "role",
        *RESOURCES,
        "usd_per_month",
        "fixed_usd_per_month",
        "max_units",
        "serves",
        "attached",
        "sla_pct",
        "sla_mode",
    ]
    offers = (
        offers[keep]
        .sort_values(["service", "role", "offering"], kind="stable")
        .reset_index(drop=True)
    )
    offers["zones"] = offers["zones"].astype(int)
    return offers


def _filtered_rows(
    svc: Service,
    needed: list[str],
    backed: bool,
    spec: AppSpec,
    off: pd.DataFrame,
    cats: pd.DataFrame,
    regions: pd.DataFrame,
    user_rtt: dict[str, pd.Series],
) -> pd.DataFrame | list[tuple[str, pd.Series]]:
    """The offerings a service of this kind may use (primary rows, then object-storage backup rows
    in the same regions when its strategy keeps backup copies); or, when none is left, the filter
    steps for `_explain_empty`."""
    policy = spec.policy
    mapping = cats[cats["service_category"] == svc.category]
    if svc.tiers:
        mapping = mapping[mapping["tier"].isin(svc.tiers)]
    tier_of = mapping.drop_duplicates("offering_category").set_index("offering_category")["tier"]
    mask = off["category"].isin(tier_of.index)
    mask &= (off[needed] > 0).any(axis=1)
    steps = [("category and tier", mask.copy())]
    if svc.residency:
        mask &= off["jurisdiction"].isin(svc.residency)
        steps.append((f"residency {'/'.join(svc.residency)}", mask.copy()))
    if svc.providers:
        mask &= off["provider"].isin(svc.providers)
    mask &= ~off["provider"].isin(set(svc.forbid_providers) | set(policy.exclude_providers))
    mask &= ~off["region"].isin(set(policy.exclude_regions))
    steps.append(("provider and region exclusions", mask.copy()))
    if svc.user_facing and spec.users:
        within = pd.Series(False, index=regions.index)
        for u in spec.users:
            within |= user_rtt[u.name] <= u.max_latency_ms
        mask &= off["region"].map(within).fillna(False).astype(bool)
        steps.append(("user latency budgets", mask.copy()))
    rows = off[mask].copy()
    if rows.empty:
        return steps
    rows["tier"] = rows["category"].map(tier_of)
    rows["role"] = "primary"
    if not backed:
        return rows
    backups = off[
        (off["category"] == "storage.object") & off["region"].isin(set(rows["region"]))
    ].copy()
    backups["tier"] = "PaaS"
    backups["role"] = "backup"
    return pd.concat([rows, backups], ignore_index=True)


def _explain_empty(svc: Service, steps: list[tuple[str, pd.Series]], off: pd.DataFrame) -> str:
    """Say which filter removed the last candidate of a service, in the user's terms."""
    before = None
    for name, mask in steps:
        if not mask.any():
            if before is None:
                tiers = "/".join(svc.tiers) if svc.tiers else "any tier"
                return (
                    f"`{svc.name}` asks for {svc.category} in {tiers}, and no offering in the "
                    "catalog provides the resources it demands that way"
                )
            left = off[before]
            where = sorted(set(left["provider"]))
            return (
                f"`{svc.name}` has no region left after the {name} filter "
                f"(before it, {left['region'].nunique()} regions of {', '.join(where)} could "
                f"run its {svc.category}); relax that requirement"
            )
        before = mask
    return f"`{svc.name}` has no candidate offering"


def prune_dominated(cands: Candidates, catalog: Catalog | None = None) -> Candidates:
    """Drop regions that provably cannot improve a service's stand-alone optimum.

    Region r2 dominates r for service s when, for every capacity shape (category, capacities,
    role) that s could buy in r, r2 sells the same shape at no higher price and fee; r2 is of the
    same kind (public/private), lies in every user group's reach that r does, has the same zone
    count under a zone policy, and the same provider under a provider policy. A plan uses at most
    K = max_regions regions of s, so with K dominators kept, one is unused and the plan can move
    from r to it at no extra cost and without weakening any failure scenario. Hence pruning keeps
    the per-service optimum exact, and the sum of those optima stays a valid lower bound.
    Private sites (finite, shared capacity), backup copies and, under `survive: site`, a
    service two of whose regions share a site are never pruned (where each region is a site of its
    own, site failures are region failures and the region rule applies).
    Dominance does not depend on demand, so services with the same candidate offerings, region
    limit and user reach share one computation.

    With `catalog`, dominance also keeps dependency latency budgets: for each budget of s, r2 is
    within it of every candidate region of the partner that r is within it of, and every failure
    of the policy loses r and r2 together or neither (budgets hold after each failure, and the
    partners do not move with s). Moving s from r to r2 then keeps every latency row of the plan,
    so the pruning stays exact for a model of several services with their latency budgets (and
    without egress, which dominance does not compare).
    """
    policy = cands.spec.policy.survive
    partners = _latency_partners(cands) if catalog is not None else {}
    off = cands.offers
    shape_cols = ["category", "role", *RESOURCES]
    shape_id = pd.Series(pd.MultiIndex.from_frame(off[shape_cols]).factorize()[0], index=off.index)
    keep_idx: list[pd.Index] = []
    memo: dict[tuple, set[str]] = {}
    for s, g in off.groupby("service", sort=False):
        if (g["role"] == "backup").any() or (policy == "site" and _shares_a_site(g)):
            keep_idx.append(g.index)
            continue
        k = cands.spec.service(s).max_regions
        reach_sets = tuple(
            sorted(
                (
                    tuple(sorted(reach))
                    for (svc, _grp), reach in cands.user_reach.items()
                    if svc == s
                )
            )
        )
        key = (tuple(g["offering"]), tuple(g["role"]), k, reach_sets, s if s in partners else None)
        if key not in memo:
            memo[key] = _undominated_regions(
                g,
                shape_id.loc[g.index],
                k,
                reach_sets,
                # each of the service's regions a site of its own: a site failure is a region's
                "region" if policy == "site" else policy,
                partners.get(s, []),
                catalog,
            )
        keep_idx.append(g.index[g["region"].isin(memo[key])])
    idx = keep_idx[0].append(keep_idx[1:]) if len(keep_idx) > 1 else keep_idx[0]
    offers = off.loc[idx]
    present = offers.groupby("service")["region"].agg(set).to_dict()
    reach = {
        key: frozenset(r for r in val if r in present.get(key[0], set()))
        for key, val in cands.user_reach.items()
    }
    return Candidates(
        cands.spec,
        offers,
        cands.demand,
        cands.strategies,
        cands.scenarios,
        reach,
        cands.global_services,
        cands.notes,
        cands.single_writer,
    )


def _shares_a_site(g: pd.DataFrame) -> bool:
    """Whether two of these offers' regions belong to one site (then a site failure takes both,
    and moving the service between regions may change what a failure takes)."""
    sites = g.drop_duplicates("region")["site"]
    return bool(sites.duplicated().any())


def _latency_partners(cands: Candidates) -> dict[str, list[tuple[list[str], float, bool]]]:
    """Service -> (partner's candidate regions, budget, whether the service is the caller) per
    budget."""
    prim = cands.offers[cands.offers["role"] == "primary"]
    regions_of = {s: sorted(set(g)) for s, g in prim.groupby("service")["region"]}
    out: dict[str, list[tuple[list[str], float, bool]]] = {}
    for dep in cands.spec.dependencies:
        if (
            dep.max_latency_ms is None
            or dep.source not in regions_of
            or dep.target not in regions_of
        ):
            continue
        out.setdefault(dep.source, []).append((regions_of[dep.target], dep.max_latency_ms, True))
        out.setdefault(dep.target, []).append((regions_of[dep.source], dep.max_latency_ms, False))
    return out


def _undominated_regions(
    g: pd.DataFrame,
    shape: pd.Series,
    k: int,
    reach_sets: tuple,
    policy: str,
    partners: Sequence[tuple[list[str], float, bool]] = (),
    catalog: Catalog | None = None,
) -> set[str]:
    regions, r_idx = np.unique(g["region"].to_numpy(), return_inverse=True)
    shapes, s_idx = np.unique(shape.to_numpy(), return_inverse=True)
    p = np.full((len(regions), len(shapes)), np.inf)
    np.minimum.at(p, (r_idx, s_idx), g["usd_per_month"].to_numpy(dtype=float))
    fee = np.zeros(len(regions))
    np.maximum.at(fee, r_idx, g["fixed_usd_per_month"].to_numpy(dtype=float))
    first = (
        pd.DataFrame(
            {
                "r": r_idx,
                "kind": g["kind"].to_numpy(),
                "zones": g["zones"].to_numpy(),
                "provider": g["provider"].to_numpy(),
            }
        )
        .drop_duplicates("r")
        .set_index("r")
        .sort_index()
    )
    # dom[a, b]: region a is at least as good as region b on every shape and on the fee
    dom = (p[:, None, :] <= p[None, :, :]).all(axis=2) & (fee[:, None] <= fee[None, :])
    kind = first["kind"].to_numpy()
    dom &= kind[:, None] == kind[None, :]
    if policy == "zone":
        z = first["zones"].to_numpy()
        dom &= z[:, None] == z[None, :]
    if policy == "provider":
        pv = first["provider"].to_numpy()
        dom &= pv[:, None] == pv[None, :]
    for reach in reach_sets:
        inside = np.isin(regions, list(reach))
        dom &= inside[:, None] | ~inside[None, :]  # b in reach => a in reach
    if partners and policy in ("region", "zone"):
        # Budgets hold after each failure too, and a partner's regions do not move with s: a move
        # from b to a region a that fails apart from b lets a failure of a take s away from a
        # partner that b served, or leave s in a without the partner b's failure took. So a
        # dominates b only when every failure loses both or neither: never under `region`; under
        # `zone`, among regions of two or more zones (a zone failure loses no region whole).
        # Under `provider` the same provider is already required; `site` prunes nothing.
        multi = first["zones"].to_numpy() >= 2
        dom &= (policy == "zone") & multi[:, None] & multi[None, :]
    if partners:
        assert catalog is not None  # partners are only found when a catalog is given
        mine = np.array([catalog.region_pos[r] for r in regions])
        for others, budget, caller in partners:
            theirs = np.array([catalog.region_pos[r] for r in others])
            rtt = (
                catalog.latency_ms[np.ix_(mine, theirs)]
                if caller
                else catalog.latency_ms[np.ix_(theirs, mine)].T
            )
            near = (
                rtt <= budget
            )  # near[x, j]: region x of the service meets the budget with partner region j
            # a dominates b only if a is near every partner region that b is near
            dom &= ~(near[:, None, :] < near[None, :, :]).any(
                axis=2
            )  # [a, b, j]: a is not near j, b is
    np.fill_diagonal(dom, False)
    order = np.argsort(np.where(np.isinf(p), 1e12, p).sum(axis=1), kind="stable")  # best first
    kept: list[int] = []
    for b in order:
        if kind[b] == "private" or int(dom[kept, b].sum()) < k:
            kept.append(int(b))
    return {str(regions[i]) for i in kept}
