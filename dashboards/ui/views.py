"""Display tables: library results reshaped for a chart or a table. Pure functions, no Streamlit.

Only reshaping lives here (joins for coordinates, renames, long format for charts); every figure
comes from the library unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from planner.catalog import Catalog
from planner.catalog.columns import RESOURCES
from planner.plan import Plan

from .geo import fit_view, separate

Label = Callable[[str], str]


def plan_sites(plan: Plan, catalog: Catalog, failed: Iterable[str] = ()) -> pd.DataFrame:
    """One row per region the plan uses: provider, position (moved apart where regions share a
    city), monthly cost, services, running vCPU, failed?"""
    p = plan.placements
    running = p[p["role"] != "backup"]
    by = p.groupby("region").agg(
        usd_per_month=("usd_per_month", "sum"),
        services=("service", lambda s: ", ".join(sorted(set(s)))),
    )
    vcpu = (running["vcpu"] * running["units"]).groupby(running["region"]).sum()
    reg = catalog.regions.loc[by.index, ["provider", "name", "city", "lat", "lon"]]
    out = reg.join(by).reset_index().rename(columns={"index": "region"})
    out["vcpu"] = out["region"].map(vcpu).fillna(0.0)
    out["failed"] = out["region"].isin(set(failed))
    out = out.sort_values("region", kind="stable").reset_index(drop=True)
    span = max(
        float(out["lat"].max() - out["lat"].min()) if len(out) else 0.0,
        float(out["lon"].max() - out["lon"].min()) if len(out) else 0.0,
        6.0,
    )
    moved = separate(list(out["lat"]), list(out["lon"]), radius_deg=span * 0.06)
    out["true_lat"], out["true_lon"] = out["lat"], out["lon"]
    out["lat"] = [lat for lat, _ in moved]
    out["lon"] = [lon for _, lon in moved]
    return out


def map_view(sites: pd.DataFrame, users: pd.DataFrame) -> tuple[float, float, float]:
    """The view that shows every region and user group of a plan."""
    lats = [*sites["lat"], *users["lat"]]
    lons = [*sites["lon"], *users["lon"]]
    return fit_view([float(x) for x in lats], [float(x) for x in lons])


def plan_links(plan: Plan, catalog: Catalog) -> pd.DataFrame:
    """One arc per (dependency, caller region, callee region) where the two differ."""
    p = plan.placements[plan.placements["role"] != "backup"]
    where = p.groupby("service")["region"].apply(lambda s: sorted(set(s))).to_dict()
    pos = catalog.regions[["lat", "lon"]]
    rows = []
    for dep in plan.spec.dependencies:
        for a in where.get(dep.source, []):
            for b in where.get(dep.target, []):
                if a != b:
                    rows.append(
                        {
                            "from_lon": pos.at[a, "lon"],
                            "from_lat": pos.at[a, "lat"],
                            "to_lon": pos.at[b, "lon"],
                            "to_lat": pos.at[b, "lat"],
                            "label": f"{dep.source} → {dep.target}",
                            "region": f"{a} → {b}",
                        }
                    )
    return pd.DataFrame(
        rows, columns=["from_lon", "from_lat", "to_lon", "to_lat", "label", "region"]
    )


def plan_users(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [{"lat": u.lat, "lon": u.lon, "label": u.name, "region": ""} for u in plan.spec.users],
        columns=["lat", "lon", "label", "region"],
    )


def cost_by_service(plan: Plan, role_label: Label) -> pd.DataFrame:
    p = plan.placements
    out = p.groupby(["service", "role"], as_index=False)["usd_per_month"].sum()
    return out.assign(role_label=out["role"].map(role_label))


def cost_components(plan: Plan, component_label: Label) -> pd.DataFrame:
    cost = plan.cost
    rows = [
        {"component": k, "component_label": component_label(k), "usd_per_month": v}
        for k, v in cost.items()
        if k != "total"
    ]
    return pd.DataFrame(rows)


def placements_table(plan: Plan, role_label: Label) -> pd.DataFrame:
    p = plan.placements
    capacity = [
        ", ".join(f"{r[k] * r['units']:g} {k}" for k in RESOURCES if r[k] > 0)
        for r in p.to_dict(orient="records")
    ]
    return pd.DataFrame(
        {
            "service": p["service"],
            "region": p["region"],
            "sku": p["sku"],
            "tier": p["tier"],
            "role": p["role"].map(role_label),
            "units": p["units"],
            "capacity": capacity,
            "usd_per_month": p["usd_per_month"],
        }
    )


WHO_ORDER = {"you": 0, "team": 1, "vendor": 2}


def stack_rows(
    columns: dict[str, tuple[str, ...]],
    layers: tuple[str, ...],
    layer_label: Label,
    who_labels: dict[str, str],
    private: Iterable[str] = (),
) -> pd.DataFrame:
    """Long table for the responsibility chart: for each column (an offering, or on-premises),
    each layer and who runs it (`columns` maps column name -> managed layers). In the columns
    named in `private` (offerings of your own private cloud) the managed layers are run by your
    own cloud team, not by a vendor. `who_labels` names you, team and vendor."""
    own = set(private)
    rows = []
    for name, managed in columns.items():
        for level, layer in enumerate(layers):
            who = ("team" if name in own else "vendor") if layer in managed else "you"
            rows.append(
                {
                    "column": name,
                    "layer": layer,
                    "layer_label": layer_label(layer),
                    "level": level,
                    "who": who,
                    "who_order": WHO_ORDER[who],
                    "who_label": who_labels[who],
                }
            )
    return pd.DataFrame(rows)


def sweep_long(
    sweep: pd.DataFrame, measures: dict[str, str], kind_label: Label = str
) -> pd.DataFrame:
    """Long format of a failure sweep for the heat map; share = value / the worst value of its
    measure. A scenario ("region aws/ap-northeast-2") is named with `kind_label` of its kind."""

    def scenario(name: str) -> str:
        kind, _, what = str(name).partition(" ")
        return f"{kind_label(kind)} {what}" if what else str(name)

    keep = [m for m in measures if m in sweep.columns]
    named = sweep.assign(scenario=sweep["scenario"].map(scenario))
    long = named.melt(id_vars="scenario", value_vars=keep, var_name="measure", value_name="value")
    worst = long.groupby("measure")["value"].transform("max").replace(0, 1)
    return long.assign(measure_label=long["measure"].map(measures), share=long["value"] / worst)


def placement_diff(a: Plan, b: Plan) -> pd.DataFrame:
    """Per service, where each plan runs it and what it costs there, side by side."""

    def summary(plan: Plan) -> pd.DataFrame:
        p = plan.placements
        g = p.groupby("service")
        return pd.DataFrame(
            {
                "regions": g["region"].apply(lambda s: ", ".join(sorted(set(s)))),
                "usd_per_month": g["usd_per_month"].sum(),
                "strategy": pd.Series(plan.strategies),
            }
        )

    left, right = summary(a), summary(b)
    out = left.merge(right, left_index=True, right_index=True, how="outer", suffixes=("_a", "_b"))
    out = out.reset_index(names="service")
    out["differs"] = (out["regions_a"] != out["regions_b"]) | (
        out["strategy_a"] != out["strategy_b"]
    )
    return out


def replica_layout(plan: Plan) -> pd.DataFrame:
    """Per service: how many regions and providers hold it, its units and its DR strategy."""
    p = plan.placements[plan.placements["role"] != "backup"]
    g = p.groupby("service")
    return pd.DataFrame(
        {
            "regions": g["region"].nunique(),
            "providers": g["provider"].nunique(),
            "units": g["units"].sum(),
            "strategy": pd.Series(plan.strategies),
        }
    ).reset_index(names="service")


def private_showback(plan: Plan, catalog: Catalog) -> pd.DataFrame:
    """What each service would be charged back for its private-cloud (OpenStack) placements."""
    p = plan.placements
    kind = catalog.regions["kind"].reindex(p["region"]).to_numpy()
    mine = p[kind == "private"]
    out = mine.assign(
        vcpu_total=mine["vcpu"] * mine["units"],
        mem_gib_total=mine["mem_gib"] * mine["units"],
        storage_gb_total=mine["storage_gb"] * mine["units"],
    )
    return out.groupby(["service", "region"], as_index=False)[
        ["vcpu_total", "mem_gib_total", "storage_gb_total", "usd_per_month"]
    ].sum()


def vms(plan: Plan) -> pd.DataFrame:
    """The plan's virtual machines (IaaS compute), one row per placement."""
    p = plan.placements
    mine = p[(p["category"] == "compute.vm") & (p["tier"] == "IaaS")]
    return mine[["service", "provider", "region", "sku", "units", "vcpu", "mem_gib", "role"]]


def readable(value: object) -> str:
    """A cell of a mixed-type comparison table: numbers to at most four decimals, no noise."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if value != value:  # NaN: no value
            return "–"
        if abs(value) < 1e-9:
            return "0"
        text = f"{value:,.4f}".rstrip("0").rstrip(".")
        return text
    return "–" if value is None else str(value)


def impact_table(
    services: pd.DataFrame, value_label: Callable[[str, object], str], text: Label, no_recovery: str
) -> pd.DataFrame:
    """A failure's per-service table for display: statuses and strategies by name, library texts
    translated, and a service that is down shows no recovery figures (its strategy did not
    save it: it is down until the failed regions return)."""
    down = services["status"] == "down"
    out = services.assign(
        status=services["status"].map(lambda v: value_label("status", v)),
        strategy=[
            no_recovery if d else value_label("strategy", v)
            for d, v in zip(down, services["strategy"], strict=True)
        ],
    )
    for col in ("rto_minutes", "rpo_minutes"):
        if col in out:
            out[col] = out[col].astype(float).where(~down)
    for col in ("reason", "note"):
        if col in out:
            out[col] = [text(str(v)) if isinstance(v, str) and v else "" for v in out[col]]
    return out


def service_diff(
    a: Plan, b: Plan, avail_a: pd.DataFrame | None, avail_b: pd.DataFrame | None
) -> pd.DataFrame:
    """Per service, plan A against plan B, as a cost diff reads: where it runs, its monthly cost
    and availability in each, and the change (`change`: added, removed, changed or unchanged)."""

    def summary(plan: Plan, avail: pd.DataFrame | None) -> pd.DataFrame:
        p = plan.placements
        g = p.groupby("service")
        out = pd.DataFrame(
            {
                "regions": g["region"].apply(lambda s: ", ".join(sorted(set(s)))),
                "usd_per_month": g["usd_per_month"].sum(),
                "strategy": pd.Series(plan.strategies),
            }
        )
        if avail is not None and len(avail):
            pct = avail.set_index("service")["effective_availability_pct"]
            out["availability_pct"] = pct.reindex(out.index)
        else:
            out["availability_pct"] = float("nan")
        return out

    left, right = summary(a, avail_a), summary(b, avail_b)
    out = left.merge(
        right, left_index=True, right_index=True, how="outer", suffixes=("_a", "_b")
    ).reset_index(names="service")
    out["delta_usd"] = out["usd_per_month_b"].fillna(0.0) - out["usd_per_month_a"].fillna(0.0)
    out["change"] = [
        "added"
        if pd.isna(ra)
        else "removed"
        if pd.isna(rb)
        else "unchanged"
        if ra == rb and sa == sb
        else "changed"
        for ra, rb, sa, sb in zip(
            out["regions_a"], out["regions_b"], out["strategy_a"], out["strategy_b"], strict=True
        )
    ]
    return out[
        [
            "service",
            "change",
            "regions_a",
            "regions_b",
            "strategy_a",
            "strategy_b",
            "usd_per_month_a",
            "usd_per_month_b",
            "delta_usd",
            "availability_pct_a",
            "availability_pct_b",
        ]
    ]


def availability_rows(
    services: pd.DataFrame,
    front_door: float | None,
    availability: float,
    minutes_per_month: float,
    front_door_label: str,
    whole_label: str,
) -> pd.DataFrame:
    """The per-service availability table with every element in series listed: each service,
    the front door when users are served from more than one region, and the whole application
    (the headline figure), so that the rows reconcile with it."""
    rows = services[
        ["service", "effective_availability_pct", "effective_downtime_min_per_month"]
    ].copy()
    # minutes in a month, as the library counts them (downtime = unavailability x this)
    month = minutes_per_month / (1.0 - availability) if availability < 1.0 else 43_830.0
    extra = []
    if front_door is not None:
        extra.append(
            {
                "service": front_door_label,
                "effective_availability_pct": 100 * (1 - front_door),
                "effective_downtime_min_per_month": front_door * month,
            }
        )
    extra.append(
        {
            "service": whole_label,
            "effective_availability_pct": 100 * availability,
            "effective_downtime_min_per_month": minutes_per_month,
        }
    )
    return pd.concat([rows, pd.DataFrame(extra)], ignore_index=True)


def traffic_table(flows: pd.DataFrame, word: Label, text: Label) -> pd.DataFrame:
    """The flows a plan pays for, for display: kinds and the internet by name, the library's
    flow descriptions ("copy in REGION", "all users") translated."""
    out = flows[
        ["kind", "service", "flow", "source_region", "destination", "gb_per_month", "usd_per_month"]
    ].copy()
    out["kind"] = out["kind"].map(word)
    out["destination"] = [d if "/" in str(d) else word(str(d)) for d in out["destination"]]
    out["flow"] = [f if "->" in str(f) else text(str(f)) for f in out["flow"]]
    return out
