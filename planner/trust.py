"""How much of a plan's cost rests on figures nobody has checked.

Every catalog price carries a status (V verified against the provider, S from a named source, U
unverified or an assumption; `price_status` of the offerings table), and a private site's price is
a chargeback model rather than an invoice. `cost_trust` splits a plan's monthly cost per provider
into what rests on unverified prices and what on private chargeback, so an architect sees which
part of a comparison between clouds is solid before acting on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .catalog import Catalog
    from .plan import Plan

TRUST_COLUMNS = [
    "provider",
    "usd_per_month",
    "unverified_usd",  # units and fees whose price is status U
    "chargeback_usd",  # units and fees on private sites: a chargeback model
    "traffic_usd",  # traffic the provider bills, priced by its egress rules
    "unverified_share",
    "chargeback_share",
]


def cost_trust(plan: Plan, catalog: Catalog) -> pd.DataFrame:
    """One row per provider and a `total` row (TRUST_COLUMNS); shares are of the row's cost."""
    p = plan.placements
    off = catalog.offerings
    # a catalog built in code without statuses (synthetic ones) counts as unverified
    known = off["price_status"] if "price_status" in off else pd.Series("U", index=off.index)
    status = known.reindex(p["offering"]).fillna("U").to_numpy()
    kind = catalog.providers["kind"].reindex(p["provider"]).fillna("public").to_numpy()
    units = pd.DataFrame(
        {
            "provider": p["provider"].to_numpy(),
            "usd_per_month": p["usd_per_month"].to_numpy(dtype=float),
            "unverified_usd": p["usd_per_month"].to_numpy(dtype=float) * (status == "U"),
            "chargeback_usd": p["usd_per_month"].to_numpy(dtype=float) * (kind == "private"),
            "traffic_usd": 0.0,
        }
    )
    parts = [units]
    if len(plan.fees):
        fee_provider = plan.fees["region"].map(catalog.regions["provider"])
        fee_kind = catalog.providers["kind"].reindex(fee_provider).fillna("public").to_numpy()
        fees = plan.fees["usd_per_month"].to_numpy(dtype=float)
        parts.append(
            pd.DataFrame(
                {
                    "provider": fee_provider.to_numpy(),
                    "usd_per_month": fees,
                    "unverified_usd": 0.0,
                    "chargeback_usd": fees * (fee_kind == "private"),
                    "traffic_usd": 0.0,
                }
            )
        )
    if len(plan.traffic):
        sender = plan.traffic["source_region"].map(catalog.regions["provider"])
        usd = plan.traffic["usd_per_month"].to_numpy(dtype=float)
        parts.append(
            pd.DataFrame(
                {
                    "provider": sender.to_numpy(),
                    "usd_per_month": usd,
                    "unverified_usd": 0.0,
                    "chargeback_usd": 0.0,
                    "traffic_usd": usd,
                }
            )
        )
    table = pd.concat(parts, ignore_index=True).groupby("provider", sort=True).sum()
    table.loc["total"] = table.sum()
    cost = table["usd_per_month"].where(table["usd_per_month"] > 0)
    table["unverified_share"] = (table["unverified_usd"] / cost).fillna(0.0)
    table["chargeback_share"] = (table["chargeback_usd"] / cost).fillna(0.0)
    return table.reset_index()[TRUST_COLUMNS]


def trust_sentence(table: pd.DataFrame) -> str:
    """The total row in one line, for the text report and the dashboard."""
    total = table[table["provider"] == "total"].iloc[0]
    return (
        f"{total['unverified_share']:.0%} of the cost (${total['unverified_usd']:,.2f}) rests on "
        f"unverified prices, {total['chargeback_share']:.0%} (${total['chargeback_usd']:,.2f}) on "
        "private-cloud chargeback assumptions"
    )
