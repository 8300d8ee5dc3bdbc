"""Region-by-region matrices: round-trip time and egress price between every two regions; and
the egress bill with the providers' volume tiers and free allowances.

Takes the validated regions, egress rules (`<provider>/egress.csv`, one first-tier $/GB per source
and destination class), measured latencies, exact egress pair prices, the volume tiers
(`<provider>/egress_tiers.csv`) and the latency model; returns the per-region egress rates
(columns added to the regions table, and the internet and cross-zone rates by region position),
two square matrices in the order of the regions table, so the model and the verifier look a pair
up by position instead of recomputing distances and rules, and the exact bill of a set of flows.
A measured figure or an exact pair price replaces the modelled one. The egress checks (rules and
tiers against the regions) live here too, beside the resolution they protect.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, did_you_mean
from . import columns as C
from .geo import LatencyModel, haversine_km

INTERNET = "internet"  # a flow's destination when it leaves for users on the internet
_RANK_REGION, _RANK_CONTINENT, _RANK_ANY = 2, 1, 0  # how specific a `from` or `applies_to` is
_TOL = 1e-9


# ---------------------------------------------------------------- egress rules: first-tier rates
def _source_rank(frm: str, code: str, continent: str) -> int:
    """How specifically a rule's `from` names a source region: -1 when it does not cover it."""
    if frm == code:
        return _RANK_REGION
    if frm == continent:
        return _RANK_CONTINENT
    return _RANK_ANY if frm == "*" else -1


def rules_by_source(regions: pd.DataFrame, rules: pd.DataFrame) -> list[dict[str, float]]:
    """For each region, in table order: destination class -> $/GB of the most specific source
    row that covers the region (its own code, else its continent, else `*`)."""
    groups = {str(p): g for p, g in rules.groupby("provider")} if not rules.empty else {}
    out: list[dict[str, float]] = []
    for prov, code, cont in zip(
        regions["provider"], regions["code"], regions["continent"], strict=True
    ):
        best: dict[str, tuple[int, float]] = {}
        g = groups.get(str(prov))
        if g is not None:
            for frm, to, usd in zip(g["from"], g["to"], g["usd_per_gb"], strict=True):
                rank = _source_rank(str(frm), str(code), str(cont))
                if rank >= 0 and (to not in best or rank > best[to][0]):
                    best[str(to)] = (rank, float(usd))
        out.append({k: v for k, (_, v) in best.items()})
    return out


@dataclass(frozen=True)
class EgressRates:
    """First-tier $/GB by region position: every pair (NaN where no rule applies; 0 on the
    diagonal), to the internet, and between two zones of one region."""

    pair: np.ndarray
    internet: np.ndarray
    cross_zone: np.ndarray


def _is_wide(rules: pd.DataFrame) -> bool:
    """Rules in no usable long shape: a catalog built in code keeps its rates on the regions."""
    return rules.empty or "to" not in rules.columns


def resolve_egress(regions: pd.DataFrame, rules: pd.DataFrame) -> EgressRates:
    """The first-tier rate of every (source, destination) pair by the documented precedence:
    the most specific destination class wins (a region code; a continent code, across
    continents; `same_continent` / `other_continent`; `other_region`; for another provider's
    region `other_provider:<continent>`, `other_provider`, then `internet`), and among rows of
    that class the most specific source (region code, continent, `*`)."""
    n = len(regions)
    prov = regions["provider"].to_numpy()
    cont = regions["continent"].to_numpy()
    code = regions["code"].to_numpy()
    pair = np.full((n, n), np.nan)
    internet = np.full(n, np.nan)
    cross = np.zeros(n)
    continents = set(C.CONTINENTS)
    prefix = C.EGRESS_OTHER_PROVIDER_PREFIX
    for i, d in enumerate(rules_by_source(regions, rules)):
        same_p = prov == prov[i]
        same_c = cont == cont[i]
        row = np.full(n, np.nan)
        # from the least to the most specific destination; each later assignment overrides
        if "other_region" in d:
            row[same_p] = d["other_region"]
        if "same_continent" in d:
            row[same_p & same_c] = d["same_continent"]
        if "other_continent" in d:
            row[same_p & ~same_c] = d["other_continent"]
        for key, usd in d.items():
            if key in continents and key != cont[i]:
                row[same_p & (cont == key)] = usd
        for key, usd in d.items():
            if key not in C.EGRESS_CLASSES and key not in continents and not key.startswith(prefix):
                row[same_p & (code == key)] = usd
        other = ~same_p
        row[other] = d.get("other_provider", d.get("internet", np.nan))
        for key, usd in d.items():
            if key.startswith(prefix):
                row[other & (cont == key[len(prefix) :])] = usd
        row[i] = 0.0
        pair[i] = row
        internet[i] = d.get("internet", np.nan)
        cross[i] = d.get("cross_zone", 0.0)
    return EgressRates(pair, internet, cross)


def attach_internet_rate(regions: pd.DataFrame, egress: pd.DataFrame) -> pd.DataFrame:
    """The regions table with the $/GB rates of the egress rules that apply to each region, by
    destination class: to the internet, to another region of the provider on the same or on
    another continent (without continent- or region-specific rows), to another provider, and
    between two zones of the region."""
    regions = regions.copy()
    if _is_wide(egress):
        return regions
    by_src = rules_by_source(regions, egress)
    nan = float("nan")

    def pick(*keys: str) -> list[float]:
        return [next((d[k] for k in keys if k in d), nan) for d in by_src]

    regions["internet_usd_per_gb"] = pick("internet")
    regions["same_continent_usd_per_gb"] = pick("same_continent", "other_region")
    regions["other_continent_usd_per_gb"] = pick("other_continent", "other_region")
    regions["other_provider_usd_per_gb"] = pick("other_provider", "internet")
    regions["cross_zone_usd_per_gb"] = [d.get("cross_zone", 0.0) for d in by_src]
    return regions


def latency_matrix(
    regions: pd.DataFrame,
    model: LatencyModel,
    latency_measured: pd.DataFrame,
    region_pos: dict[str, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Round trip in ms between every two regions, and which of the figures were measured."""
    lat = regions["lat"].to_numpy(dtype=float)
    lon = regions["lon"].to_numpy(dtype=float)
    km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    rtt = model.rtt_ms(km)
    np.fill_diagonal(rtt, 0.0)
    measured = np.zeros_like(rtt, dtype=bool)
    # thousands of measured pairs: index them at once rather than row by row
    i = np.fromiter((region_pos[r] for r in latency_measured["src"]), dtype=int)
    j = np.fromiter((region_pos[r] for r in latency_measured["dst"]), dtype=int)
    value = latency_measured["rtt_ms"].to_numpy(dtype=float)
    rtt[i, j] = rtt[j, i] = value
    measured[i, j] = measured[j, i] = True
    return rtt, measured


def _legacy_rates(regions: pd.DataFrame) -> EgressRates:
    """Rates from the four per-region columns (a catalog built in code, without rules)."""
    r = regions
    prov = r["provider"].to_numpy()
    cont = r["continent"].to_numpy()
    same_p = prov[:, None] == prov[None, :]
    same_c = cont[:, None] == cont[None, :]
    pair = np.where(
        same_p,
        np.where(
            same_c,
            r["same_continent_usd_per_gb"].to_numpy()[:, None],
            r["other_continent_usd_per_gb"].to_numpy()[:, None],
        ),
        r["other_provider_usd_per_gb"].to_numpy()[:, None],
    ).astype(float)
    internet = r["internet_usd_per_gb"].to_numpy(dtype=float)
    cross = (
        r["cross_zone_usd_per_gb"].to_numpy(dtype=float)
        if "cross_zone_usd_per_gb" in r
        else np.zeros(len(r))
    )
    return EgressRates(pair, internet, cross)


def egress_rates(
    regions: pd.DataFrame,
    egress_pairs: pd.DataFrame,
    region_pos: dict[str, int],
    rules: pd.DataFrame | None = None,
) -> EgressRates:
    """First-tier rates: by the rules (destination-aware) when the catalog has them, else from
    the regions' columns; exact pair prices override; traffic inside a region is 0 here (the
    optimiser assumes it stays within a zone; `cross_zone` gives the price where it does not)."""
    rates = (
        _legacy_rates(regions)
        if rules is None or _is_wide(rules)
        else resolve_egress(regions, rules)
    )
    pair = rates.pair
    # exact pair prices (an imported price table) override the provider rules
    for src, dst, usd in zip(
        egress_pairs["src"],
        egress_pairs["dst"],
        egress_pairs["usd_per_gb"],
        strict=True,
    ):
        pair[region_pos[src], region_pos[dst]] = float(usd)
    np.fill_diagonal(pair, 0.0)  # traffic inside a region is free in the optimiser's rate
    return rates


def egress_matrix(
    regions: pd.DataFrame,
    egress_pairs: pd.DataFrame,
    region_pos: dict[str, int],
    rules: pd.DataFrame | None = None,
) -> np.ndarray:
    """$/GB from each region (row) to each region (column), first tier."""
    return egress_rates(regions, egress_pairs, region_pos, rules).pair


# ---------------------------------------------------------------- egress rules: checks
def _to_kind(to: str, codes: set[str]) -> str:
    """What a `to` names: class, continent, other_provider, region, or '' (nothing known)."""
    prefix = C.EGRESS_OTHER_PROVIDER_PREFIX
    if to in C.EGRESS_CLASSES:
        return "class"
    if to in C.CONTINENTS:
        return "continent"
    if to.startswith(prefix) and to[len(prefix) :] in C.CONTINENTS:
        return "other_provider"
    return "region" if to in codes else ""


def check_egress_rules(
    egress: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]
) -> None:
    """Each rule's `to` is a destination class, a continent, `other_provider:<continent>` or a
    region of the provider; no rule can never apply; one row per (from, to); and every pair of
    regions and every region's internet traffic is priced by some rule. (`from` itself is checked
    by `checks.check_egress`.)"""
    if egress.empty or regions.empty or _is_wide(egress):
        return
    choices = (
        *C.EGRESS_CLASSES,
        *C.CONTINENTS,
        *(C.EGRESS_OTHER_PROVIDER_PREFIX + c for c in C.CONTINENTS),
    )
    cont_of = dict(zip(regions["code"], regions["continent"], strict=True))
    for prov, rules in egress.groupby("provider"):
        file = f"{prov}/egress.csv"
        mine = regions["provider"] == prov
        codes = set(regions.loc[mine, "code"])
        seen: dict[tuple[str, str], int] = {}
        for frm, to, line in zip(rules["from"], rules["to"], rules["file_row"], strict=True):
            where = f"row {line}"
            kind = _to_kind(to, codes)
            if not kind:
                problems.append(
                    Problem(
                        file,
                        where,
                        "to",
                        "neither a destination class, a continent, `other_provider:<continent>` "
                        "nor a region of this provider",
                        value=to,
                        fix=did_you_mean(to, (*choices, *codes))
                        or "use one of: " + ", ".join(C.EGRESS_CLASSES),
                    )
                )
            src_cont = frm if frm in C.CONTINENTS else cont_of.get(frm) if frm in codes else None
            if kind == "continent" and src_cont == to:
                problems.append(
                    Problem(
                        file,
                        where,
                        "to",
                        f"a continent destination applies across continents; traffic within {to} "
                        "is `same_continent`",
                        value=to,
                        fix="write to = same_continent",
                    )
                )
            if kind == "region" and to == frm:
                problems.append(
                    Problem(
                        file,
                        where,
                        "to",
                        "a region's traffic to itself is `cross_zone`",
                        value=to,
                        fix="write to = cross_zone",
                    )
                )
            key = (str(frm), str(to))
            if key in seen:
                problems.append(
                    Problem(
                        file,
                        where,
                        "to",
                        f"the pair from {frm} to {to} repeats row {seen[key]}",
                        value=to,
                        fix="keep one row per `from` and `to`",
                    )
                )
            seen.setdefault(key, int(line))
    _check_coverage(egress, regions, problems)


def _check_coverage(egress: pd.DataFrame, regions: pd.DataFrame, problems: list[Problem]) -> None:
    """Every region's internet traffic and every pair of regions has a first-tier rate."""
    rates = resolve_egress(regions, egress)
    prov = regions["provider"].to_numpy()
    cont = regions["continent"].to_numpy()
    code = regions["code"].to_numpy()
    missing: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i in np.flatnonzero(np.isnan(rates.internet)):
        missing[(str(prov[i]), "internet")].append(str(code[i]))
    for i, j in zip(*np.nonzero(np.isnan(rates.pair)), strict=True):
        if prov[i] != prov[j]:
            continue  # another provider falls back to the internet rate, reported above
        what = "same_continent" if cont[i] == cont[j] else "other_continent"
        if str(code[i]) not in missing[(str(prov[i]), what)]:
            missing[(str(prov[i]), what)].append(str(code[i]))
    text = {
        "internet": "to the internet",
        "same_continent": "to another region on the same continent",
        "other_continent": "to a region on another continent",
    }
    for (p, what), codes in sorted(missing.items()):
        problems.append(
            Problem(
                f"{p}/egress.csv",
                "",
                "to",
                f"no rule prices traffic {text[what]} from regions {codes[:5]}",
                fix=f"add a row with from = `*` and to = {what}"
                + (" (or other_region)" if what != "internet" else ""),
            )
        )


# ---------------------------------------------------------------- tiers and allowances
@dataclass(frozen=True)
class Schedule:
    """The rows of one (provider, scope, kind, applies_to) of egress_tiers.csv."""

    provider: str
    scope: str
    kind: str
    applies_to: str
    aggregation: str
    bands: tuple[tuple[float, float, float], ...]  # (from_gb, to_gb, usd_per_gb), by from_gb
    rows: tuple[int, ...]  # the lines of its rows in the file

    @property
    def first_paid(self) -> float:
        """$/GB of the first band with a price (0 when every band is free)."""
        return next((usd for _, _, usd in self.bands if usd > 0), 0.0)

    @property
    def allowance_gb(self) -> float:
        """GB a `free` schedule gives (its only band's end)."""
        return self.bands[0][1] if self.kind == "free" else 0.0

    def cost(self, gb: float) -> float:
        """USD for `gb` GB through the bands (a `tier` schedule)."""
        return sum(usd * max(0.0, min(gb, hi) - lo) for lo, hi, usd in self.bands if gb > lo)


def _tokens(applies_to: str) -> tuple[str, ...]:
    return tuple(sorted(set(str(applies_to).split())))


def build_schedules(tiers: pd.DataFrame) -> list[Schedule]:
    """The tier table grouped into schedules (rows of one provider, scope, kind, applies_to)."""
    if tiers is None or tiers.empty:
        return []
    out = []
    keys = tiers.assign(_at=[" ".join(_tokens(a)) for a in tiers["applies_to"]])
    for (prov, scope, kind, at), g in keys.groupby(["provider", "scope", "kind", "_at"], sort=True):
        g = g.sort_values("from_gb", kind="stable")
        bands = tuple(
            (float(lo), float(hi), float(usd))
            for lo, hi, usd in zip(g["from_gb"], g["to_gb"], g["usd_per_gb"], strict=True)
        )
        out.append(
            Schedule(
                str(prov),
                str(scope),
                str(kind),
                str(at),
                str(g["aggregation"].iloc[0]),
                bands,
                tuple(int(x) for x in g["file_row"]) if "file_row" in g else (),
            )
        )
    return out


def schedules_by_region(
    regions: pd.DataFrame, schedules: Iterable[Schedule]
) -> tuple[dict[tuple[str, str, str], Schedule], list[tuple[str, Schedule, Schedule]]]:
    """For each (region id, scope, kind): the schedule whose `applies_to` names the region most
    specifically (its code, else its continent, else `*`); and the ties (two schedules that name
    one region equally specifically), which the checks report."""
    by_provider: dict[str, list[Schedule]] = defaultdict(list)
    for s in schedules:
        by_provider[s.provider].append(s)
    out: dict[tuple[str, str, str], Schedule] = {}
    ties: list[tuple[str, Schedule, Schedule]] = []
    for rid, prov, code, cont in zip(
        regions.index, regions["provider"], regions["code"], regions["continent"], strict=True
    ):
        found: dict[tuple[str, str], list[tuple[int, Schedule]]] = defaultdict(list)
        for s in by_provider.get(str(prov), []):
            rank = max(_source_rank(t, str(code), str(cont)) for t in s.applies_to.split())
            if rank >= 0:
                found[(s.scope, s.kind)].append((rank, s))
        for (scope, kind), cands in found.items():
            top = max(rank for rank, _ in cands)
            named = [s for rank, s in cands if rank == top]
            out[(str(rid), scope, kind)] = named[0]
            ties.extend((str(rid), named[0], other) for other in named[1:])
    return out, ties


def check_egress_tiers(
    tiers: pd.DataFrame,
    egress: pd.DataFrame,
    regions: pd.DataFrame,
    problems: list[Problem],
) -> None:
    """Each schedule's bands run from 0 GB without gap or overlap to an open end, with one
    aggregation and prices that only fall after the first paid band; a `free` schedule is one
    band from 0 at 0 $/GB; `applies_to` names regions of the provider, continents or `*`; no
    region is named equally specifically by two schedules; and an internet schedule's first paid
    band is the internet rate egress.csv gives each region it covers (the optimiser's rate)."""
    if tiers is None or tiers.empty or regions.empty:
        return
    for prov, rows in tiers.groupby("provider"):
        file = f"{prov}/egress_tiers.csv"
        codes = set(regions.loc[regions["provider"] == prov, "code"])
        for at, line in zip(rows["applies_to"], rows["file_row"], strict=True):
            tokens = str(at).split()
            if not tokens:
                problems.append(
                    Problem(file, f"row {line}", "applies_to", "empty value", fix="write `*`")
                )
            for t in tokens:
                if t != "*" and t not in C.CONTINENTS and t not in codes:
                    problems.append(
                        Problem(
                            file,
                            f"row {line}",
                            "applies_to",
                            "neither a region of this provider, a continent nor `*`",
                            value=t,
                            fix=did_you_mean(t, codes | set(C.CONTINENTS)),
                        )
                    )
    schedules = build_schedules(tiers)
    for s in schedules:
        _check_schedule(s, tiers, problems)
    by_region, ties = schedules_by_region(regions, schedules)
    seen_ties: set[tuple[str, str]] = set()
    for rid, a, b in ties:
        if (a.applies_to, b.applies_to) in seen_ties:
            continue
        seen_ties.add((a.applies_to, b.applies_to))
        problems.append(
            Problem(
                f"{a.provider}/egress_tiers.csv",
                f"row {b.rows[0]}" if b.rows else "",
                "applies_to",
                f"{rid} is named as specifically by `{a.applies_to}` (row "
                f"{a.rows[0] if a.rows else '?'}) as by `{b.applies_to}` for {a.scope} {a.kind}",
                value=b.applies_to,
                fix="name each region, continent or `*` in one schedule of a scope and kind",
            )
        )
    if egress is None or _is_wide(egress):
        return
    internet = dict(zip(regions.index, resolve_egress(regions, egress).internet, strict=True))
    off: dict[Schedule, list[str]] = defaultdict(list)
    for (rid, scope, kind), s in by_region.items():
        rate = internet.get(rid, float("nan"))
        checked = scope == "internet" and kind == "tier" and not math.isnan(rate)
        if checked and abs(s.first_paid - rate) > _TOL:
            off[s].append(rid)
    for s, rids in off.items():
        rate = internet[rids[0]]
        line = next(
            (ln for (_, _, usd), ln in zip(s.bands, s.rows, strict=False) if usd > 0),
            s.rows[0] if s.rows else 0,
        )
        problems.append(
            Problem(
                f"{s.provider}/egress_tiers.csv",
                f"row {line}",
                "usd_per_gb",
                f"the first paid band ({s.first_paid:g} $/GB) is not the internet rate of "
                f"egress.csv ({rate:g} $/GB) for {sorted(rids)[:5]}",
                value=s.first_paid,
                fix="make the two equal: the optimiser prices internet traffic at the first "
                "paid band",
            )
        )


def _check_schedule(s: Schedule, tiers: pd.DataFrame, problems: list[Problem]) -> None:
    file = f"{s.provider}/egress_tiers.csv"
    rows = dict(zip(s.bands, s.rows, strict=False)) if s.rows else {}

    def at(band: tuple[float, float, float]) -> str:
        return f"row {rows[band]}" if band in rows else ""

    mine = tiers[(tiers["provider"] == s.provider) & tiers["file_row"].isin(s.rows)]
    if mine["aggregation"].nunique() > 1:
        problems.append(
            Problem(
                file,
                f"row {s.rows[-1]}",
                "aggregation",
                f"the rows of schedule `{s.applies_to}` ({s.scope} {s.kind}) disagree on "
                "aggregation",
                value=sorted(set(mine["aggregation"])),
                fix="give every row of one schedule the same aggregation",
            )
        )
    if s.kind == "free":
        band = s.bands[0]
        lo, hi, usd = band
        if len(s.bands) > 1:
            problems.append(
                Problem(
                    file,
                    at(s.bands[1]),
                    "kind",
                    f"schedule `{s.applies_to}` has more than one free allowance for {s.scope}",
                    fix="state one allowance: one `free` row from 0 to the allowance in GB",
                )
            )
        if lo != 0 or math.isinf(hi) or hi <= 0 or usd != 0:
            problems.append(
                Problem(
                    file,
                    at(band),
                    "to_gb",
                    "a free allowance runs from 0 GB to the allowance, at 0 $/GB",
                    value=f"{lo:g}..{hi:g} at {usd:g}",
                    fix="write from_gb = 0, to_gb = the free GB per month, usd_per_gb = 0",
                )
            )
        return
    prev_hi = 0.0
    paid = None
    for k, band in enumerate(s.bands):
        lo, hi, usd = band
        last = k == len(s.bands) - 1
        if lo != prev_hi:
            problems.append(
                Problem(
                    file,
                    at(band),
                    "from_gb",
                    "the first band must start at 0 GB"
                    if k == 0
                    else f"the band starts at {lo:g} GB but the one before ends at {prev_hi:g} GB",
                    value=lo,
                    fix="make the bands consecutive: each from_gb is the to_gb of the one before",
                )
            )
        if hi <= lo:
            problems.append(
                Problem(
                    file,
                    at(band),
                    "to_gb",
                    "the band ends where it starts or before",
                    value=hi,
                    fix="to_gb must be greater than from_gb; leave it empty for no end",
                )
            )
        if last and not math.isinf(hi):
            problems.append(
                Problem(
                    file,
                    at(band),
                    "to_gb",
                    f"the last band of schedule `{s.applies_to}` ({s.scope}) has an end, so "
                    "larger volumes would be unpriced",
                    value=hi,
                    fix="leave to_gb empty on the last band",
                )
            )
        if paid is not None and usd > paid + _TOL:
            problems.append(
                Problem(
                    file,
                    at(band),
                    "usd_per_gb",
                    f"dearer than the band before ({paid:g} $/GB): tiers only fall with volume",
                    value=usd,
                    fix="check the figure; the optimiser's first-tier rate relies on falling tiers",
                )
            )
        if usd > 0:
            paid = usd
        prev_hi = hi


# ---------------------------------------------------------------- the bill
def egress_bill(
    flows: pd.DataFrame,
    regions: pd.DataFrame,
    region_pos: Mapping[str, int],
    rates: EgressRates,
    schedules: Mapping[tuple[str, str, str], Schedule],
) -> pd.DataFrame:
    """The monthly bill of `flows` (`source`, `destination`, `gb`; other columns kept): per flow
    `usd_per_gb` (the first-tier rate the optimiser uses), `usd_flat` (gb x that rate), `usd`
    (tiers and free allowances applied) and `rule` (how `usd` was reached).

    Traffic to the internet and to another provider's region is internet egress of the source's
    provider (scope `internet`); between two regions of one provider it is `inter_region`; inside
    one region it is free (zone-local; `cross_zone` is not charged). A flow joins the tier
    schedule of its source region and scope when its first-tier rate is the schedule's first paid
    band (a flow priced otherwise, e.g. GCP to Oceania or an exact pair price, stays flat); the
    volume of the flows that share a schedule (per region or per account, as the schedule says)
    goes through the bands once and the cost is shared in proportion to volume. Then each free
    allowance is shared the same way, at each flow's first-tier rate: tiers are counted on the
    whole volume and the allowance is credited at the first paid band. So the per-flow `usd` add
    up to the exact total."""
    _check_flows(flows, region_pos)
    out = flows.copy()
    n = len(out)
    src = [str(s) for s in out["source"]]
    dst = [str(d) for d in out["destination"]]
    gb = out["gb"].to_numpy(dtype=float)
    prov_of = dict(zip(regions.index, regions["provider"], strict=True))
    rate = np.zeros(n)
    scope: list[str] = []
    for k in range(n):
        i = region_pos[src[k]]
        if dst[k] == INTERNET:
            rate[k] = rates.internet[i]
            scope.append("internet")
        elif dst[k] == src[k]:
            rate[k] = 0.0
            scope.append("")
        else:
            rate[k] = rates.pair[i, region_pos[dst[k]]]
            scope.append("internet" if prov_of[src[k]] != prov_of[dst[k]] else "inter_region")
    flat = gb * rate
    usd = flat.copy()
    rule = [""] * n

    def pools(kind: str) -> dict[tuple[Schedule, str], list[int]]:
        out_: dict[tuple[Schedule, str], list[int]] = defaultdict(list)
        for k in range(n):
            s = schedules.get((src[k], scope[k], kind)) if scope[k] else None
            if s is None or (kind == "tier" and abs(rate[k] - s.first_paid) > _TOL):
                continue
            out_[(s, src[k] if s.aggregation == "region" else "")].append(k)
        return out_

    for (s, _), ks in pools("tier").items():
        total = float(gb[ks].sum())
        cost = s.cost(total)
        for k in ks:
            usd[k] = cost * gb[k] / total if total > 0 else 0.0
            rule[k] = (
                f"{s.scope} tiers per {s.aggregation} on {total:g} GB "
                f"({len(s.bands)} bands from {s.first_paid:g} $/GB)"
            )
    for k in range(n):
        if not rule[k]:
            if not scope[k]:
                i = region_pos[src[k]]
                rule[k] = (
                    "same region: free (zone-local; cross-zone "
                    f"{rates.cross_zone[i]:g} $/GB not charged)"
                )
            else:
                rule[k] = f"{scope[k]} flat {rate[k]:g} $/GB (no tiers apply)"
    for (s, _), ks in pools("free").items():
        total = float(gb[ks].sum())
        free = min(s.allowance_gb, total)
        for k in ks:
            share = free * gb[k] / total if total > 0 else 0.0
            usd[k] -= share * rate[k]
            rule[k] += f"; {s.allowance_gb:g} GB free per {s.aggregation} shared by volume"
    out["usd_per_gb"] = rate
    out["usd_flat"] = flat
    out["usd"] = usd
    out["rule"] = rule
    return out


def _check_flows(flows: pd.DataFrame, region_pos: Mapping[str, int]) -> None:
    """Flows name known regions (or `internet` as a destination) and carry GB >= 0."""
    problems: list[Problem] = []
    missing = [c for c in ("source", "destination", "gb") if c not in flows.columns]
    for c in missing:
        problems.append(
            Problem("flows", "header", c, "required column is missing", fix=f"add `{c}`")
        )
    if missing:
        raise InputError(problems)
    for k, (s, d, g) in enumerate(
        zip(flows["source"], flows["destination"], flows["gb"], strict=True)
    ):
        where = f"flow {k}"
        if s not in region_pos:
            problems.append(
                Problem(
                    "flows", where, "source", "unknown region", s, did_you_mean(str(s), region_pos)
                )
            )
        if d != INTERNET and d not in region_pos:
            problems.append(
                Problem(
                    "flows",
                    where,
                    "destination",
                    "neither a region nor `internet`",
                    d,
                    did_you_mean(str(d), [*region_pos, INTERNET]),
                )
            )
        try:
            value = float(g)
        except (TypeError, ValueError):
            value = float("nan")
        if not math.isfinite(value) or value < 0:
            problems.append(
                Problem("flows", where, "gb", "not a volume >= 0", g, "give GB per month, >= 0")
            )
    if problems:
        raise InputError(problems)
