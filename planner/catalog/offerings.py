"""Offerings: one row per (sku, region) with a monthly price; the one place prices are normalised.

Takes the offering rows of every provider's `offerings.csv`, the regions (after `check_regions`),
the exact regional prices of `prices.csv` and the private sites' chargeback rates; returns the
offerings table indexed `region/sku`, every price turned into US dollars per month, and appends a
located `Problem` for a repeated sku, an offering without capacity or price, an unknown region or
a price for a sku or region the catalog does not offer. It exists so every consumer of the catalog
compares prices in one unit, whatever unit the provider lists them in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import Problem, did_you_mean
from . import columns as C

# 365 x 24 / 12: the month every hourly price is turned into (private sites may set their own).
HOURS_PER_MONTH = 730.0


def expand_offerings(
    offs: pd.DataFrame,
    regions: pd.DataFrame,
    prices: pd.DataFrame,
    sites: pd.DataFrame,
    problems: list[Problem],
) -> pd.DataFrame:
    """One row per (offering, region) with a monthly price per unit; the one place prices are
    normalised."""
    if offs.empty or regions.empty:
        return pd.DataFrame()
    offs = _check_offering_rows(offs, problems)
    # Where each sku is offered: listed regions, or every region of its provider.
    reg_codes = regions.groupby("provider")["code"].apply(list).to_dict()
    out = _one_row_per_region(offs, reg_codes, problems)
    rinfo = regions.set_index("region")
    out["price_factor"] = out["region"].map(rinfo["price_factor"]).astype(float)

    # Exact regional list prices override base x factor.
    if not prices.empty:
        out["exact_price_usd"] = _exact_prices(out, offs, prices, rinfo, reg_codes, problems)
    else:
        out["exact_price_usd"] = np.nan
    out["price_status"] = _price_status(out, prices, rinfo)
    _add_monthly_price(out, sites, problems)
    out["fixed_usd_per_month"] = out["fixed_usd_per_month"].fillna(0.0).astype(float)
    out["offering"] = out["region"] + "/" + out["sku"]
    keep = [
        "offering",
        "provider",
        "region",
        "sku",
        "category",
        "tier",
        *C.RESOURCES,
        "usd_per_month",
        "fixed_usd_per_month",
        "price_usd",
        "price_unit",
        "price_basis",
        "sla_pct",
        "sla_mode",
        "managed_layers",
        "source_url",
        "as_of",
        "status",
        "price_status",
    ]
    return out[keep].set_index("offering")


def _price_status(out: pd.DataFrame, prices: pd.DataFrame, rinfo: pd.DataFrame) -> np.ndarray:
    """How far the monthly price of each row can be trusted (V verified, S sourced, U unverified):
    an exact regional price's own status; otherwise the weaker of the offering's and of the
    region's, whose price factor scales it."""
    rank = {s: k for k, s in enumerate(C.STATUSES)}  # V, S, U: later is weaker
    region_status = out["region"].map(rinfo["status"]).fillna("U")
    weaker = np.where(
        out["status"].map(rank).fillna(2).to_numpy()
        >= region_status.map(rank).fillna(2).to_numpy(),
        out["status"].to_numpy(),
        region_status.to_numpy(),
    )
    if prices.empty:
        return weaker
    exact = prices.assign(region_id=prices["provider"] + "/" + prices["region"])
    exact = exact.set_index(["provider", "sku", "region_id"])["status"]
    exact = exact[~exact.index.duplicated()]
    key = pd.MultiIndex.from_arrays([out["provider"], out["sku"], out["region"]])
    own = exact.reindex(key).to_numpy()
    return np.where(pd.isna(own), weaker, own)


def _check_offering_rows(offs: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    """The rows of offerings.csv without repeated skus; a repeated sku, an offering without
    capacity and one without a price (other than chargeback) are problems."""
    file = offs["provider"] + "/offerings.csv"
    for i in offs.index[offs.duplicated(["provider", "sku"])]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "sku",
                "duplicate sku",
                value=offs.at[i, "sku"],
                fix="each sku appears once per provider",
            )
        )
    offs = offs.drop_duplicates(["provider", "sku"])
    cap = offs[list(C.RESOURCES)].fillna(0.0)
    for i in offs.index[(cap.to_numpy() <= 0).all(axis=1)]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "vcpu..lb",
                "an offering must provide some capacity",
                fix="set at least one of " + ", ".join(C.RESOURCES),
            )
        )
    charge = offs["price_unit"] == "chargeback"
    for i in offs.index[~charge & ~(offs["price_usd"].fillna(0) > 0)]:
        problems.append(
            Problem(
                file[i],
                f"row {offs.at[i, 'file_row']}",
                "price_usd",
                "price must be a positive number",
                value=offs.at[i, "price_usd"],
                fix="write the list price per price_unit, e.g. 0.096",
            )
        )
    return offs


def _one_row_per_region(
    offs: pd.DataFrame, reg_codes: dict[str, list[str]], problems: list[Problem]
) -> pd.DataFrame:
    """Each offering repeated for every region it is sold in, with a `region` id column; a listed
    region its provider does not have is a problem."""
    file = offs["provider"] + "/offerings.csv"
    pairs = []
    for i, row in offs.iterrows():
        listed = str(row["regions"]).split()
        known = set(reg_codes.get(row["provider"], []))
        for code in listed:
            if code not in known:
                problems.append(
                    Problem(
                        file[i],
                        f"row {row['file_row']}",
                        "regions",
                        f"offering in a region that does not exist: `{code}`",
                        value=code,
                        fix=did_you_mean(code, known),
                    )
                )
        for code in listed or reg_codes.get(row["provider"], []):
            if code in known:
                pairs.append((i, f"{row['provider']}/{code}"))
    idx, reg = zip(*pairs, strict=True) if pairs else ((), ())
    out = offs.loc[list(idx)].reset_index(drop=True)
    out["region"] = list(reg)
    return out


def _exact_prices(
    out: pd.DataFrame,
    offs: pd.DataFrame,
    prices: pd.DataFrame,
    rinfo: pd.DataFrame,
    reg_codes: dict[str, list[str]],
    problems: list[Problem],
) -> np.ndarray:
    """Each row's list price from prices.csv, NaN where there is none; a price for a sku or region
    the catalog does not have, or for a region the sku is not offered in, is a problem."""
    prices = prices.copy()
    prices["region_id"] = prices["provider"] + "/" + prices["region"]
    known_skus = set(offs["provider"] + "/" + offs["sku"])
    for _, p in prices.iterrows():
        pf = f"{p['provider']}/prices.csv"
        if f"{p['provider']}/{p['sku']}" not in known_skus:
            problems.append(
                Problem(
                    pf,
                    f"row {p['file_row']}",
                    "sku",
                    "sku not in offerings.csv",
                    value=p["sku"],
                    fix=did_you_mean(p["sku"], offs["sku"]),
                )
            )
        if p["region_id"] not in rinfo.index:
            problems.append(
                Problem(
                    pf,
                    f"row {p['file_row']}",
                    "region",
                    "region does not exist",
                    value=p["region"],
                    fix=did_you_mean(p["region"], reg_codes.get(p["provider"], [])),
                )
            )
    offered = set(zip(out["provider"], out["sku"], out["region"], strict=True))
    for _, p in prices.iterrows():
        if (
            f"{p['provider']}/{p['sku']}" in known_skus
            and p["region_id"] in rinfo.index
            and (p["provider"], p["sku"], p["region_id"]) not in offered
        ):
            problems.append(
                Problem(
                    f"{p['provider']}/prices.csv",
                    f"row {p['file_row']}",
                    "region",
                    "the sku is not offered in this region",
                    value=p["region"],
                    fix="add the region to the offering's `regions`, or remove the price",
                )
            )
    exact = prices.set_index(["provider", "sku", "region_id"])["price_usd"]
    exact = exact[~exact.index.duplicated()]
    key = pd.MultiIndex.from_arrays([out["provider"], out["sku"], out["region"]])
    return exact.reindex(key).to_numpy()


def _add_monthly_price(out: pd.DataFrame, sites: pd.DataFrame, problems: list[Problem]) -> None:
    """Set `usd_per_month` and `price_basis` on every row: the exact list price or base price x
    region factor, times the quantity the price unit is per; private rows by chargeback."""
    has_exact = out["exact_price_usd"].notna()
    unit_price = np.where(has_exact, out["exact_price_usd"], out["price_usd"] * out["price_factor"])
    per_unit = {
        "hour": HOURS_PER_MONTH,
        "month": 1.0,
        "gb_month": out["storage_gb"],
        "million_requests": out["requests_m"],
        "user_month": out["users"],
    }
    monthly = np.zeros(len(out))
    for unit, mult in per_unit.items():
        mask = (out["price_unit"] == unit).to_numpy()
        monthly = np.where(
            mask,
            unit_price * np.asarray(mult, dtype=float) if np.ndim(mult) else unit_price * mult,
            monthly,
        )
    out["price_basis"] = np.where(has_exact, "list", "base x region factor")
    # Private chargeback: the larger of the flavor's vCPU and RAM share of what a site sells.
    charge = (out["price_unit"] == "chargeback").to_numpy()
    if charge.any():
        if sites.empty:
            problems.append(Problem("", "", "price_unit", "chargeback offerings need sites.yaml"))
        else:
            vcpu_rate = out["region"].map(sites["usd_per_vcpu_hour"]).astype(float)
            gib_rate = out["region"].map(sites["usd_per_gib_hour"]).astype(float)
            cb = np.maximum(out["vcpu"] * vcpu_rate, out["mem_gib"] * gib_rate) * HOURS_PER_MONTH
            monthly = np.where(charge, cb.to_numpy(), monthly)
            out.loc[charge, "price_basis"] = "chargeback"
    out["usd_per_month"] = monthly


def attach_saas_scope(
    offerings: pd.DataFrame, scopes: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    """Offerings with a `scope` column: each SaaS offering's from `saas_scope.csv` (every SaaS
    sku needs a row there, with its source), `regional` for everything else, whose units run in
    the region they are bought in. A scope row for a sku that is not SaaS is a problem too."""
    if offerings.empty:
        return offerings
    file = "saas_scope.csv"
    known = {
        (p, s): (scope, row)
        for p, s, scope, row in zip(
            scopes["provider"], scopes["sku"], scopes["scope"], scopes["file_row"], strict=True
        )
    }
    saas = offerings[offerings["tier"] == "SaaS"]
    saas_skus = set(zip(saas["provider"], saas["sku"], strict=True))
    for provider, sku in sorted(saas_skus - set(known)):
        problems.append(
            Problem(
                file,
                "",
                "scope",
                f"the SaaS offering {provider}/{sku} has no scope",
                fix=f"add a row `{provider},{sku},regional|global,<source URL>,<date>,<status>`: "
                "regional if it fails with its region, global if only a whole-provider outage "
                "takes it down",
            )
        )
    for (provider, sku), (_scope, row) in sorted(known.items()):
        if (provider, sku) not in saas_skus:
            problems.append(
                Problem(
                    file,
                    f"row {row}",
                    "sku",
                    f"{provider}/{sku} is not a SaaS offering of the catalog",
                    fix="remove the row, or correct the provider or sku",
                )
            )
    scope = [
        known.get((p, s), ("regional", 0))[0] if tier == "SaaS" else "regional"
        for p, s, tier in zip(
            offerings["provider"], offerings["sku"], offerings["tier"], strict=True
        )
    ]
    return offerings.assign(scope=scope)


def attach_writers(
    offerings: pd.DataFrame, writers: pd.DataFrame | None, problems: list[Problem]
) -> pd.DataFrame:
    """Offerings with a `writers` column, `single` or `multi`: each database and cache offering's
    (a category of `WRITER_CATEGORIES`) from `writers.csv`, where every such sku needs a row with
    its source; `single` for every other offering, which the catalog cannot vouch takes writes in
    more than one place. `writers` is None when the catalog has no writers.csv: each database and
    cache offering then takes its category's default (`DEFAULT_WRITERS`). A row for a sku that is
    not a database or cache offering, or a sku's second row, is a problem too."""
    if offerings.empty:
        return offerings
    file = "writers.csv"
    stateful = offerings[offerings["category"].isin(C.WRITER_CATEGORIES)]
    stateful_skus = set(zip(stateful["provider"], stateful["sku"], strict=True))
    known: dict[tuple[str, str], str] = {}
    if writers is not None:
        rows = zip(
            writers["provider"],
            writers["sku"],
            writers["writers"],
            writers["file_row"],
            strict=True,
        )
        for p, s, mode, row in rows:
            if (p, s) in known:
                problems.append(
                    Problem(
                        file,
                        f"row {row}",
                        "sku",
                        f"{p}/{s} has a second row",
                        fix="keep one row per offering",
                    )
                )
            elif (p, s) not in stateful_skus:
                problems.append(
                    Problem(
                        file,
                        f"row {row}",
                        "sku",
                        f"{p}/{s} is not a database or cache offering of the catalog",
                        fix="remove the row, or correct the provider or sku (the file covers "
                        "categories " + ", ".join(C.WRITER_CATEGORIES) + ")",
                    )
                )
            known.setdefault((p, s), mode)
        for provider, sku in sorted(stateful_skus - set(known)):
            problems.append(
                Problem(
                    file,
                    "",
                    "writers",
                    f"the database or cache offering {provider}/{sku} has no writers row",
                    fix=f"add a row `{provider},{sku},single|multi,<source URL>,<date>,<status>`: "
                    "single if one primary takes the writes (read replicas, standbys), multi if "
                    "the provider documents writes to every replica at once",
                )
            )
    mode = [
        known.get((p, s), C.DEFAULT_WRITERS[cat]) if cat in C.DEFAULT_WRITERS else "single"
        for p, s, cat in zip(
            offerings["provider"], offerings["sku"], offerings["category"], strict=True
        )
    ]
    return offerings.assign(writers=mode)
