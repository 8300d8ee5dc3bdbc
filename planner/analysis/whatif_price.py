"""Price what-if: the plan again under prices an architect is unsure of.

`mcplan whatif SPEC --price provider=naver:+20% --price private.utilization=0.3` re-plans on a
catalog whose prices are changed as stated and shows what moves and what it costs, so a choice that
rests on one uncertain figure can be seen to flip (or not) before it is acted on.

A change is `KIND=NAME:CHANGE`: KIND is `provider`, `region`, `category` or `offering`; CHANGE is
`+20%`, `-10%` or `x1.5`, applied to the monthly unit prices and fees of the matching offerings.
`private.utilization=U` re-prices private sites as if their chargeback spread the site's cost
over a share U of its capacity (chargeback prices scale with 1 / utilisation).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError, did_you_mean

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..plan import Plan

KINDS = ("provider", "region", "category", "offering")
_CHANGE = re.compile(r"^(?:(?P<pct>[+-]\d+(?:\.\d+)?)%|x(?P<mul>\d+(?:\.\d+)?))$")


@dataclass(frozen=True)
class PriceChange:
    kind: str  # provider | region | category | offering | private.utilization
    name: str  # what it applies to ("" for private.utilization)
    factor: float  # multiplier of the matching prices; for utilisation, the new utilisation
    text: str  # as the user wrote it

    def describe(self) -> str:
        if self.kind == "private.utilization":
            return f"private sites charge back at {self.factor:.0%} utilisation"
        return f"{self.kind} {self.name} prices x{self.factor:g}"


def parse_price_change(text: str, catalog: Catalog) -> PriceChange:
    """`provider=naver:+20%` and friends, checked against the catalog; InputError says how to
    write it."""
    how = (
        "write KIND=NAME:CHANGE with KIND provider, region, category or offering and CHANGE like "
        "+20%, -10% or x1.5 (e.g. provider=naver:+20%), or private.utilization=0.3"
    )
    key, sep, rest = text.partition("=")
    key = key.strip().lower()
    if not sep or not rest:
        raise InputError(f"--price {text!r}: {how}")
    if key in ("private.utilization", "private.utilisation"):
        try:
            value = float(rest)
        except ValueError:
            raise InputError(f"--price {text!r}: utilisation is a number in (0, 1]") from None
        if not 0 < value <= 1:
            raise InputError(f"--price {text!r}: utilisation is a number in (0, 1], e.g. 0.3")
        return PriceChange("private.utilization", "", value, text)
    if key not in KINDS:
        raise InputError(f"--price {text!r}: unknown kind {key!r}; {how}")
    name, colon, change = rest.rpartition(":")
    m = _CHANGE.match(change.strip())
    if not colon or not name or m is None:
        raise InputError(f"--price {text!r}: {how}")
    factor = 1 + float(m["pct"]) / 100 if m["pct"] is not None else float(m["mul"])
    if factor < 0:
        raise InputError(f"--price {text!r}: a price cannot fall by more than 100%")
    known = _names(catalog, key)
    if name not in known:
        raise InputError(f"--price {text!r}: no {key} {name!r}; {did_you_mean(name, known)}")
    return PriceChange(key, name, factor, text)


def _names(catalog: Catalog, kind: str) -> list[str]:
    off = catalog.offerings
    if kind == "offering":
        return sorted(off.index)
    return sorted(set(off[kind]))


def repriced(catalog: Catalog, changes: list[PriceChange]) -> Catalog:
    """A copy of the catalog with the changes applied to monthly unit prices and fees."""
    off = catalog.offerings.copy()
    factor = pd.Series(1.0, index=off.index)
    for c in changes:
        if c.kind == "private.utilization":
            private = off["provider"].map(catalog.providers["kind"]).eq("private")
            old = catalog.sites["target_utilization"].reindex(off["region"]).to_numpy()
            scale = pd.Series(old, index=off.index).fillna(1.0) / c.factor
            factor = factor.where(~private, factor * scale)
            continue
        match = off.index == c.name if c.kind == "offering" else off[c.kind] == c.name
        factor = factor.where(~match, factor * c.factor)
    off["usd_per_month"] = off["usd_per_month"] * factor
    off["fixed_usd_per_month"] = off["fixed_usd_per_month"] * factor
    return dataclasses.replace(catalog, offerings=off)


def plan_changes(before: Plan, after: Plan) -> pd.DataFrame:
    """Per service: where it ran and runs, and its cost of units before and after."""
    rows = []
    for svc in before.spec.services:
        b = before.placements[before.placements["service"] == svc.name]
        a = after.placements[after.placements["service"] == svc.name]
        rows.append(
            {
                "service": svc.name,
                "regions_before": ", ".join(sorted(set(b["region"]))),
                "regions_after": ", ".join(sorted(set(a["region"]))),
                "usd_before": float(b["usd_per_month"].sum()),
                "usd_after": float(a["usd_per_month"].sum()),
                "moved": set(b["region"]) != set(a["region"]),
            }
        )
    return pd.DataFrame(rows)
