"""The traffic a plan pays for, as it flows: to users over the internet, between dependent
services (the request and the reply, on their declared volumes), and replication of each full data
copy from where writes land (docs/model.md section 5).

`route_traffic` reads only the placements, the spec and the catalog, and routes each flow the
cheapest way the rules allow, so it gives the same bill as the model's optimum for the same units:

- a service's traffic leaves the regions where it runs in proportion at most to the capacity it
  holds there (a region with a tenth of the capacity carries at most a tenth of the volume);
- internet traffic to a user group leaves regions within that group's latency budget;
- a single-writer service's requests and replication start at its primary, a region that holds
  its whole demand; a multi-writer stateful service replicates from one region where it runs;
- every region other than the origin that holds a copy of the data (running, data copy or
  backup) receives the write rate.

The model prices the same flows at the catalog's first-tier rates (linear); the tiers and free
allowances of the real invoice are applied to these flows by `Catalog.egress_bill`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .catalog.columns import RESOURCES, main_resource

if TYPE_CHECKING:
    from .catalog import Catalog
    from .spec import AppSpec

TRAFFIC_COLUMNS = [
    "kind",  # internet | dependency | reply | replication
    "service",  # who pays: the sender
    "flow",  # the user group, the dependency (caller->callee) or the copy it feeds
    "source_region",
    "destination",  # a region, or `internet`
    "gb_per_month",
    "usd_per_gb",
    "usd_per_month",
]
INTERNET = "internet"


def running_capacity(placements: pd.DataFrame, spec: AppSpec) -> dict[str, dict[str, float]]:
    """Service -> region -> capacity it runs there in its main resource (serving units only)."""
    main = {s.name: main_resource(s.demand.as_dict()) for s in spec.services}
    p = placements[placements["role"] != "backup"]
    out: dict[str, dict[str, float]] = {}
    cols = {
        res: p[res].to_numpy(dtype=float) * p["units"].to_numpy(dtype=float) for res in RESOURCES
    }
    for k, (s, r) in enumerate(zip(p["service"].tolist(), p["region"].tolist(), strict=True)):
        if s not in main:
            continue
        c = float(cols[main[s]][k])
        if c > 0:
            out.setdefault(s, {})[r] = out.get(s, {}).get(r, 0.0) + c
    return out


def primaries(placements: pd.DataFrame, spec: AppSpec, single_writer: set[str]) -> dict:
    """Single-writer service -> regions that can be its primary: each holds its whole demand of
    every resource but storage (rule 3). Sorted, so ties break the same way every time."""
    p = placements[placements["role"] != "backup"]
    out: dict[str, list[str]] = {}
    for s in spec.services:
        if s.name not in single_writer:
            continue
        mine = p[p["service"] == s.name]
        d = s.demand.as_dict()
        held = mine[list(RESOURCES)].mul(mine["units"], axis=0).groupby(mine["region"]).sum()
        ok = [
            r
            for r, row in held.iterrows()
            if all(row[res] >= d[res] - 1e-9 for res in RESOURCES if res != "storage_gb")
        ]
        out[s.name] = sorted(ok)
    return out


def _fill(costs: dict[str, float], limits: dict[str, float], volume: float) -> dict[str, float]:
    """Send `volume` from the cheapest sources first, each up to its limit (exact for a single
    flow: a fractional knapsack). Ties break by region name; any remainder goes to the cheapest."""
    out: dict[str, float] = {}
    left = volume
    for r in sorted(costs, key=lambda x: (costs[x], x)):
        take = min(left, limits.get(r, 0.0))
        if take > 0:
            out[r] = take
            left -= take
        if left <= 1e-12:
            break
    if left > 1e-12 and costs:
        cheapest = min(costs, key=lambda x: (costs[x], x))
        out[cheapest] = out.get(cheapest, 0.0) + left
    return out


def route_traffic(
    placements: pd.DataFrame,
    spec: AppSpec,
    catalog: Catalog,
    single_writer: set[str] | None = None,
) -> pd.DataFrame:
    """Every flow of the plan with its volume and first-tier price (TRAFFIC_COLUMNS)."""
    if single_writer is None:
        single_writer = single_writer_services(placements, spec, catalog)
    cap = running_capacity(placements, spec)
    global_saas = _global(placements, catalog)
    primary = _choose_primaries(placements, spec, catalog, cap, single_writer)
    rows: list[dict[str, Any]] = []
    rows += _internet(spec, catalog, cap, global_saas)
    rows += _dependencies(spec, catalog, cap, primary)
    rows += _replication(placements, spec, catalog, cap, primary)
    out = pd.DataFrame(rows, columns=TRAFFIC_COLUMNS)
    return out[out["gb_per_month"] > 1e-12].reset_index(drop=True)


def single_writer_services(placements: pd.DataFrame, spec: AppSpec, catalog: Catalog) -> set[str]:
    """Stateful databases and caches whose serving offerings include a single-writer one."""
    from .catalog.columns import SINGLE_WRITER_CATEGORIES

    out = set()
    for s in spec.services:
        if not s.stateful or s.category not in SINGLE_WRITER_CATEGORIES:
            continue
        rows = placements[(placements["service"] == s.name) & (placements["role"] != "backup")]
        if len(rows) and catalog.single_writer(rows["offering"]).any():
            out.add(s.name)
    return out


def _global(placements: pd.DataFrame, catalog: Catalog) -> set[str]:
    from .plan import global_services

    return global_services(placements, catalog)


def _internet(
    spec: AppSpec, catalog: Catalog, cap: dict[str, dict[str, float]], global_saas: set[str]
) -> list[dict[str, Any]]:
    """Each user group's share of a service's internet traffic, from regions within its budget,
    each region at most its share of capacity: a transportation problem, solved exactly."""
    rows: list[dict[str, Any]] = []
    rtt = {u.name: catalog.rtt_from_point_ms(u.lat, u.lon) for u in spec.users}
    for s in spec.services:
        volume = s.internet_gb_per_month
        where = cap.get(s.name, {})
        if volume <= 0 or not where or s.name in global_saas:
            continue  # a SaaS vendor's own traffic is in its price
        d = s.demand.as_dict()[main_resource(s.demand.as_dict())]
        limit = {r: volume * c / d for r, c in where.items()}
        rate = {r: catalog.internet_rate(r) for r in where}
        if s.user_facing and spec.users:
            groups = [
                (
                    u.name,
                    u.share * volume,
                    [r for r in where if rtt[u.name][r] <= u.max_latency_ms + 1e-9] or list(where),
                )
                for u in spec.users
            ]
        else:
            groups = [("all users", volume, list(where))]
        sent = _transport(groups, limit, rate)
        for (g, r), gb in sorted(sent.items()):
            rows.append(_row(INTERNET, s.name, g, r, INTERNET, gb, rate[r]))
    return rows


def _transport(
    groups: list[tuple[str, float, list[str]]],
    limit: dict[str, float],
    rate: dict[str, float],
) -> dict[tuple[str, str], float]:
    """Cheapest assignment of each group's volume to regions in its reach, each region within its
    limit. One group: a fractional knapsack. Several: the LP, by HiGHS (tiny and exact)."""
    if len(groups) == 1:
        g, volume, reach = groups[0]
        return {(g, r): v for r, v in _fill({r: rate[r] for r in reach}, limit, volume).items()}
    import highspy

    pairs = [(g, r) for g, _v, reach in groups for r in sorted(reach)]
    from .solve.backends import highs_threads

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    # HiGHS's task scheduler is set up once per process by the first run, with that run's thread
    # count; a later run asking for another count fails (model status 'not set'): HiGHS's own
    # default here made every later solve of a users-heavy plan fail, seating included
    h.setOptionValue("threads", highs_threads())
    inf = highspy.kHighsInf
    for _pair in pairs:
        h.addVar(0.0, inf)
    h.changeColsCost(
        len(pairs), np.arange(len(pairs), dtype=np.int32), [rate[r] for _g, r in pairs]
    )
    for g, volume, _reach in groups:  # each group gets its volume
        idx = [k for k, (gg, _r) in enumerate(pairs) if gg == g]
        h.addRow(volume, volume, len(idx), np.array(idx, dtype=np.int32), np.ones(len(idx)))
    for r in sorted({r for _g, r in pairs}):  # each region within its share of capacity
        idx = [k for k, (_g, rr) in enumerate(pairs) if rr == r]
        h.addRow(
            -inf, limit.get(r, 0.0), len(idx), np.array(idx, dtype=np.int32), np.ones(len(idx))
        )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        # capacity cannot carry every group (a plan that does not serve its users): each group
        # from its own cheapest regions, capacity ignored, so the bill still counts the traffic
        out: dict[tuple[str, str], float] = {}
        for g, volume, reach in groups:
            cheapest = min(reach, key=lambda x: (rate[x], x))
            out[(g, cheapest)] = volume
        return out
    values = h.getSolution().col_value
    return {pair: float(v) for pair, v in zip(pairs, values, strict=True) if v > 1e-9}


def _choose_primaries(
    placements: pd.DataFrame,
    spec: AppSpec,
    catalog: Catalog,
    cap: dict[str, dict[str, float]],
    single_writer: set[str],
) -> dict[str, str]:
    """Service -> the region its writes land in: for a single writer, the primary that makes its
    replication and the traffic sent to it cheapest; for another stateful service with a write
    rate, the region it runs in that makes replication cheapest."""
    options = primaries(placements, spec, single_writer)
    out: dict[str, str] = {}
    for s in spec.services:
        if s.name in options and options[s.name]:
            candidates = options[s.name]
        elif s.stateful and s.write_gb_per_month > 0 and cap.get(s.name):
            candidates = sorted(cap[s.name])
        else:
            continue

        def total(origin: str, name: str = s.name) -> float:
            flows = _replication_of(placements, spec, catalog, name, origin)
            flows += _dependencies(spec, catalog, cap, {name: origin}, only_to=name)
            return sum(float(f["usd_per_month"]) for f in flows)

        out[s.name] = min(candidates, key=lambda r: (round(total(r), 9), r))
    return out


def _dependencies(
    spec: AppSpec,
    catalog: Catalog,
    cap: dict[str, dict[str, float]],
    primary: dict[str, str],
    only_to: str | None = None,
) -> list[dict[str, Any]]:
    """Each dependency's request volume leaves the caller's regions (each at most its share of
    the caller's capacity) for the callee's nearest-priced region (its primary when it has one),
    and the reply comes back the same way."""
    rows: list[dict[str, Any]] = []
    demand = {s.name: s.demand.as_dict() for s in spec.services}
    for dep in spec.dependencies:
        if only_to is not None and dep.target != only_to:
            continue
        sent, back = dep.gb_per_month, dep.reply_gb_per_month
        callers = cap.get(dep.source, {})
        targets = (
            [primary[dep.target]] if dep.target in primary else sorted(cap.get(dep.target, {}))
        )
        if sent + back <= 0 or not callers or not targets:
            continue
        d = demand[dep.source][main_resource(demand[dep.source])]

        def price(r: str, t: str, sent: float = sent, back: float = back) -> float:
            return sent * catalog.egress_rate(r, t) + back * catalog.egress_rate(t, r)

        best = {r: _cheapest(targets, lambda t, r=r: price(r, t)) for r in callers}
        share = _fill(
            {r: price(r, best[r]) for r in callers}, {r: c / d for r, c in callers.items()}, 1.0
        )
        name = f"{dep.source}->{dep.target}"
        for r, frac in sorted(share.items()):
            t = best[r]
            if sent > 0:
                rows.append(
                    _row(
                        "dependency", dep.source, name, r, t, sent * frac, catalog.egress_rate(r, t)
                    )
                )
            if back > 0:
                rows.append(
                    _row("reply", dep.target, name, t, r, back * frac, catalog.egress_rate(t, r))
                )
    return rows


def _cheapest(options: list[str], price: Any) -> str:
    """The option of lowest price, the first by name on ties."""
    return min(options, key=lambda o: (price(o), o))


def _replication(
    placements: pd.DataFrame,
    spec: AppSpec,
    catalog: Catalog,
    cap: dict[str, dict[str, float]],
    primary: dict[str, str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for s in spec.services:
        if s.write_gb_per_month > 0 and s.name in primary:
            rows += _replication_of(placements, spec, catalog, s.name, primary[s.name])
    return rows


def _replication_of(
    placements: pd.DataFrame, spec: AppSpec, catalog: Catalog, service: str, origin: str
) -> list[dict[str, Any]]:
    """The write rate, from the origin to every other region holding a copy of the data."""
    svc = next(s for s in spec.services if s.name == service)
    if svc.write_gb_per_month <= 0:
        return []
    mine = placements[(placements["service"] == service) & (placements["units"] > 0)]
    copies = sorted(set(mine["region"]) - {origin})
    return [
        _row(
            "replication",
            service,
            f"copy in {r}",
            origin,
            r,
            svc.write_gb_per_month,
            catalog.egress_rate(origin, r),
        )
        for r in copies
    ]


def _row(
    kind: str, service: str, flow: str, src: str, dst: str, gb: float, rate: float
) -> dict[str, Any]:
    return {
        "kind": kind,
        "service": service,
        "flow": flow,
        "source_region": src,
        "destination": dst,
        "gb_per_month": float(gb),
        "usd_per_gb": float(rate),
        "usd_per_month": float(gb) * float(rate),
    }


def with_invoice(traffic: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """The flows with `usd_invoice`: what the invoice charges for each once the providers' volume
    tiers and free allowances apply (`Catalog.egress_bill`), beside `usd_per_month`, the
    first-tier price the optimiser uses (tiers only lower it: the optimiser's rate is an upper
    bound of the invoice)."""
    if not len(traffic):
        return traffic.assign(usd_invoice=pd.Series(dtype=float))
    bill = catalog.egress_bill(
        pd.DataFrame(
            {
                "source": traffic["source_region"].to_numpy(),
                "destination": traffic["destination"].to_numpy(),
                "gb": traffic["gb_per_month"].to_numpy(dtype=float),
            }
        )
    )
    return traffic.assign(usd_invoice=bill["usd"].to_numpy(dtype=float))


def writers_primary(traffic: pd.DataFrame, placements: pd.DataFrame) -> pd.DataFrame:
    """The placements with `role` `primary` where each service's writes land (the origin of its
    replication, or where its callers' requests go when it is a single writer) and `standby` in
    its other regions, so the table names the region the bill routes writes to. Services the
    traffic says nothing about keep their roles; backups and active/active regions too."""
    origin = {
        str(s): str(r)
        for s, r in traffic.loc[traffic["kind"] == "replication", ["service", "source_region"]]
        .drop_duplicates("service")
        .itertuples(index=False)
    }
    if not origin:
        return placements
    out = placements.copy()
    relabel = out["service"].isin(list(origin)) & out["role"].isin(["primary", "standby"])
    at_origin = out["region"] == out["service"].map(origin)
    out.loc[relabel & at_origin, "role"] = "primary"
    out.loc[relabel & ~at_origin, "role"] = "standby"
    return out.sort_values(["service", "role", "region", "sku"], kind="stable").reset_index(
        drop=True
    )
