"""A plan: placements, strategies and costs, in tidy tables, plus how it was solved and verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .catalog import Catalog
from .catalog.columns import RESOURCES
from .spec import AppSpec

PLACEMENT_COLUMNS = [
    "service",
    "provider",
    "region",
    "sku",
    "offering",
    "category",
    "tier",
    "role",
    "units",
    *RESOURCES,
    "usd_per_unit_month",
    "usd_per_month",
]


@dataclass
class Plan:
    spec: AppSpec
    placements: pd.DataFrame  # PLACEMENT_COLUMNS; capacity columns are per unit
    strategies: dict[str, str]
    fees: pd.DataFrame  # service, region, category, usd_per_month
    traffic: pd.DataFrame  # planner.traffic.TRAFFIC_COLUMNS: every flow the plan pays for
    bound: float | None = None
    gap_target: float = 0.001  # the relative gap asked for; within it the plan counts as optimal
    time_limited: bool = False  # the solver stopped at its time limit
    method: str = ""
    solver: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    model_size: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    verification: Any = None  # VerificationReport, set by verify()
    # how much of the cost rests on unverified prices and chargeback (planner.trust), when known
    trust: pd.DataFrame | None = None

    @property
    def cost(self) -> dict[str, float]:
        """The monthly bill by line: units (compute, storage, standby), per-region fees, and
        traffic (internet egress, replication, dependency requests and replies), at the rates
        the optimiser prices; the lines add up to `total`."""
        p = self.placements
        storage_only = p[list(RESOURCES)].drop(columns="storage_gb").le(0).all(axis=1)
        standby = p["role"].isin(["standby", "backup"])
        flows = self.traffic
        by_kind = flows.groupby("kind")["usd_per_month"].sum() if len(flows) else pd.Series()
        out = {
            "compute": float(p.loc[~standby & ~storage_only, "usd_per_month"].sum()),
            "storage": float(p.loc[~standby & storage_only, "usd_per_month"].sum()),
            "standby": float(p.loc[standby, "usd_per_month"].sum()),
            "fees": float(self.fees["usd_per_month"].sum()) if len(self.fees) else 0.0,
            "internet_egress": float(by_kind.get("internet", 0.0)),
            "replication": float(by_kind.get("replication", 0.0)),
            "dependency_traffic": float(by_kind.get("dependency", 0.0) + by_kind.get("reply", 0.0)),
        }
        out["total"] = sum(out.values())
        return out

    @property
    def egress(self) -> pd.DataFrame:
        """The traffic between dependent services (requests and replies): a view of `traffic`."""
        t = self.traffic
        return t[t["kind"].isin(["dependency", "reply"])] if len(t) else t

    @property
    def status(self) -> str:
        """optimal (proven within the requested gap), feasible_time_limit, or feasible."""
        gap = self.gap
        if gap is not None and gap <= self.gap_target + 1e-9:
            return "optimal"
        return "feasible_time_limit" if self.time_limited else "feasible"

    @property
    def objective(self) -> float:
        return self.cost["total"]

    @property
    def gap(self) -> float | None:
        if self.bound is None:
            return None
        total = self.objective
        if total <= 1e-9:
            return 0.0
        return max(0.0, (total - self.bound) / total)

    def regions(self) -> list[str]:
        return sorted(set(self.placements["region"]))

    def providers(self) -> list[str]:
        return sorted(set(self.placements["provider"]))


def placements_from_units(
    units: dict[int, int], offers: pd.DataFrame, strategies: dict[str, str]
) -> pd.DataFrame:
    """Turn chosen unit counts (by candidates row) into the placements table, with display roles:
    backups are `backup`; under active/active every region is `active`; otherwise the region holding
    the most capacity is `primary` and the rest are `standby`."""
    rows = offers.loc[[i for i, n in units.items() if n > 0]].copy()
    rows["units"] = [units[i] for i in rows.index]
    rows["usd_per_unit_month"] = rows["usd_per_month"]
    rows["usd_per_month"] = rows["usd_per_unit_month"] * rows["units"]
    # the region holding the most capacity (sum of resources x units; alphabetically first on ties)
    prim = rows[rows["role"] == "primary"]
    weight = prim[list(RESOURCES)].mul(prim["units"], axis=0).sum(axis=1)
    by_region = weight.groupby([prim["service"], prim["region"]]).sum()
    top = {s: r for s, r in by_region.groupby(level=0).idxmax().tolist()} if len(by_region) else {}
    service, region = rows["service"].tolist(), rows["region"].tolist()
    rows["role"] = [
        "backup"
        if role == "backup"
        else "active"
        if strategies.get(s) == "active_active"
        else "primary"
        if r == top.get(s)
        else "standby"
        for s, r, role in zip(service, region, rows["role"].tolist(), strict=True)
    ]
    out = rows[PLACEMENT_COLUMNS].sort_values(["service", "role", "region", "sku"], kind="stable")
    return out.reset_index(drop=True)


def fees_for(placements: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Per-region fees (a managed cluster's control plane) owed by the placements."""
    fee = catalog.offerings["fixed_usd_per_month"].reindex(placements["offering"]).to_numpy()
    p = placements.assign(fee=fee)
    p = p[p["fee"] > 0]
    if p.empty:
        return pd.DataFrame(columns=["service", "region", "category", "usd_per_month"])
    out = p.groupby(["service", "region", "category"], as_index=False)["fee"].max()
    return out.rename(columns={"fee": "usd_per_month"})


def egress_for(placements: pd.DataFrame, spec: AppSpec, catalog: Catalog) -> pd.DataFrame:
    """Every flow the placements pay for, routed by `planner.traffic.route_traffic`."""
    from .traffic import route_traffic

    return route_traffic(placements, spec, catalog)


def global_services(placements: pd.DataFrame, catalog: Catalog) -> set[str]:
    """Services whose running units are all global SaaS (`Catalog.runs_globally`): a zone,
    region or site failure leaves them running; only the loss of their whole provider takes them
    down. What-if, the sweep and availability read this; the model and the verifier apply the
    same reading of the catalog."""
    running = placements[placements["role"] != "backup"]
    offerings = running["offering"].to_numpy()
    # most plans hold no global SaaS at all: settle that with one look-up per distinct offering
    # (the what-if sweep calls this per plan, within its few-millisecond budget)
    distinct = list(dict.fromkeys(offerings.tolist()))
    if not distinct or not catalog.runs_globally(distinct).any():
        return set()
    everywhere = catalog.runs_globally(offerings)
    flags = pd.Series(everywhere, index=running.index).groupby(running["service"]).all()
    return set(flags.index[flags.to_numpy(dtype=bool)])
