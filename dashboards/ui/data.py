"""Data for the screens: cached calls into the planner library, nothing else.

Cheap, pure results (tables) go through `st.cache_data`; the catalog through `st.cache_resource`.
Anything that solves a model goes through `solved`, a small shared memo that also remembers
planner errors (so an infeasible spec is diagnosed once, not on every rerun) and lets the caller
show the planner's progress messages live while it solves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
import yaml

import planner
from planner import (
    STRATEGIES,
    AppSpec,
    Catalog,
    Plan,
    PlannerError,
    PlanOptions,
    check_against_catalog,
    load_catalog,
    make_plan,
    plan_to_csv,
    plan_to_json,
    spec_from_text,
)
from planner.catalog.select import CatalogFilter, matching_offerings, matching_regions
from planner.examples import examples_dir

T = TypeVar("T")
Progress = Callable[[str], None]

DEFAULT_EXAMPLE = "hybrid-dr.yaml"
EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
LAYERS = ("hardware", "virtualization", "os", "runtime", "application")  # bottom of the stack first


# ----------------------------------------------------------------------------- catalog
@st.cache_resource(show_spinner=False)
def catalog() -> Catalog:
    return load_catalog()


@st.cache_data(show_spinner=False)
def filter_options() -> dict[str, list[str]]:
    cat = catalog()
    return {
        "provider": sorted(cat.providers.index),
        "tier": sorted(set(cat.offerings["tier"])),
        "category": sorted(set(cat.offerings["category"])),
        "jurisdiction": sorted(set(cat.regions["jurisdiction"])),
    }


@st.cache_data(show_spinner=False)
def catalog_view(
    providers: tuple[str, ...],
    tiers: tuple[str, ...],
    categories: tuple[str, ...],
    jurisdictions: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Regions and offerings matching the filters (an empty filter keeps everything).
    A region is shown when it matches and sells at least one matching offering."""
    flt = CatalogFilter(
        providers=providers, jurisdictions=jurisdictions, tiers=tiers, categories=categories
    )
    offerings = matching_offerings(catalog(), flt)
    regions = matching_regions(catalog(), flt, selling_only=True)
    regions = regions.reset_index()[
        [
            "region",
            "provider",
            "name",
            "city",
            "country",
            "jurisdiction",
            "continent",
            "lat",
            "lon",
            "zones",
            "kind",
        ]
    ]
    return regions, offerings.reset_index()


def managed_layers(offering: str) -> tuple[str, ...]:
    return tuple(catalog().offerings.at[offering, "managed_layers"])


def is_private(offering: str) -> bool:
    """The offering runs on your own private cloud (its provider is of kind private)."""
    provider = catalog().offerings.at[offering, "provider"]
    return bool(catalog().providers.at[provider, "kind"] == "private")


# ----------------------------------------------------------------------------- examples and specs
@st.cache_data(show_spinner=False)
def examples() -> list[str]:
    return sorted(p.name for p in examples_dir().glob("*.yaml"))


@st.cache_data(show_spinner=False)
def example_text(name: str) -> str:
    return (examples_dir() / name).read_text(encoding="utf-8")


@st.cache_data(show_spinner=False)
def exercise_text(name: str) -> str:
    return (EXERCISES / name).read_text(encoding="utf-8")


@st.cache_data(show_spinner=False)
def exercises() -> list[dict[str, Any]]:
    """The incident exercises of the Learn page (dashboards/exercises/exercises.yaml)."""
    with open(EXERCISES / "exercises.yaml", encoding="utf-8") as fh:
        return list(yaml.safe_load(fh))


def starter_text(ref: str) -> str:
    """An exercise's file: `example:<name>` is one of the examples; other names live in
    dashboards/exercises/."""
    return (
        example_text(ref.removeprefix("example:"))
        if ref.startswith("example:")
        else exercise_text(ref)
    )


@st.cache_data(show_spinner=False, max_entries=64)
def check_spec(text: str, source: str) -> AppSpec:
    """Parse (safe YAML, size cap) and validate against the catalog; a SpecError lists every
    problem."""
    spec = spec_from_text(text, source)
    check_against_catalog(spec, catalog(), source)
    return spec


# ----------------------------------------------------------------------------- solving, memoised
class _Memo:
    """Outcomes of solves by key, least recently used dropped first; shared by all sessions."""

    def __init__(self, size: int = 48) -> None:
        self._items: OrderedDict[str, tuple[bool, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: str) -> tuple[bool, Any] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: str, outcome: tuple[bool, Any]) -> None:
        with self._lock:
            self._items[key] = outcome
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


@st.cache_resource(show_spinner=False)
def _memo() -> _Memo:
    return _Memo()


def solved(key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per key; a PlannerError it raises is remembered and raised again."""
    hit: tuple[bool, Any] | None = _memo().get(key)
    if hit is None:
        try:
            hit = (True, compute())
        except PlannerError as exc:
            hit = (False, exc)
        _memo().put(key, hit)
    ok, value = hit
    if not ok:
        error: PlannerError = value
        raise error.with_traceback(None)
    result: T = value
    return result


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked to plan: a spec's text and the choices made around it."""

    text: str
    source: str
    survive: str = ""  # "" keeps the spec's own policy
    strategy: str = ""  # "" lets the optimiser choose (the spec's own dr settings)
    time_limit: float = 60.0
    relax: tuple[str, ...] = ()  # RELAXATIONS applied to the spec (see `relaxed_spec`)
    without: tuple[str, ...] = ()  # regions taken out, as after a failure

    @property
    def key(self) -> str:
        return digest("plan", asdict(self))


def default_request() -> PlanRequest:
    return PlanRequest(example_text(DEFAULT_EXAMPLE), DEFAULT_EXAMPLE)


# One survival level less, for the relaxation "survive one level lower" (site and provider both
# step down to region: a data centre lost is one kind of region lost).
LOWER_SURVIVE = {"provider": "region", "site": "region", "region": "zone", "zone": "none"}
RELAXATIONS = ("survive_lower", "allow_excluded_regions", "allow_all_providers", "drop_budget")


def relaxed_spec(spec: AppSpec, relax: tuple[str, ...], without: tuple[str, ...]) -> AppSpec:
    """`spec` with the named requirements relaxed and the regions `without` excluded."""
    policy: dict[str, Any] = {}
    if "survive_lower" in relax:
        policy["survive"] = LOWER_SURVIVE.get(spec.policy.survive, spec.policy.survive)
    excluded = () if "allow_excluded_regions" in relax else spec.policy.exclude_regions
    policy["exclude_regions"] = tuple(sorted(set(excluded) | set(without)))
    if "allow_all_providers" in relax:
        policy.update(exclude_providers=(), max_providers=None)
    if "drop_budget" in relax:
        policy["budget_per_month"] = None
    out = spec.with_policy(**policy)
    if "allow_all_providers" in relax:
        services = tuple(
            s.model_copy(update={"providers": (), "forbid_providers": ()}) for s in spec.services
        )
        out = out.model_copy(update={"services": services})
        out._source = spec.source
    return out


def useful_relaxations(spec: AppSpec) -> tuple[str, ...]:
    """The relaxations that change something in this spec."""
    out = []
    if spec.policy.survive in LOWER_SURVIVE:
        out.append("survive_lower")
    if spec.policy.exclude_regions:
        out.append("allow_excluded_regions")
    if (
        spec.policy.exclude_providers
        or spec.policy.max_providers is not None
        or any(s.providers or s.forbid_providers for s in spec.services)
    ):
        out.append("allow_all_providers")
    if spec.policy.budget_per_month is not None:
        out.append("drop_budget")
    return tuple(out)


def spec_of(req: PlanRequest) -> AppSpec:
    spec = check_spec(req.text, req.source)
    if req.survive and req.survive != spec.policy.survive:
        spec = spec.with_policy(survive=req.survive)
    if req.relax or req.without:
        spec = relaxed_spec(spec, req.relax, req.without)
    return spec


@dataclass(frozen=True)
class Relaxed:
    """One relaxation tried: the request it makes, and its plan or why there is none."""

    name: str
    request: PlanRequest
    plan: Plan | None
    error: PlannerError | None


def relaxation_options(
    req: PlanRequest, without: tuple[str, ...] = (), survive: str | None = None
) -> list[PlanRequest]:
    """Requests for each single relaxation of `req` (after losing `without`; under `survive`
    when given), each with a short time limit: they answer "what would it take", not the final
    design."""
    base = replace(req, without=tuple(sorted(set(req.without) | set(without))))
    if survive is not None:
        base = replace(base, survive=survive)
    spec = spec_of(base)
    return [
        replace(base, relax=(*base.relax, name), time_limit=min(base.time_limit, 20.0))
        for name in useful_relaxations(spec)
        if name not in base.relax
    ]


def try_relaxations(requests: list[PlanRequest], progress: Progress | None = None) -> list[Relaxed]:
    """Solve each relaxed request; the ones that plan come first, cheapest first."""
    out = []
    for r in requests:
        try:
            out.append(Relaxed(r.relax[-1], r, plan(r, progress), None))
        except PlannerError as exc:
            out.append(Relaxed(r.relax[-1], r, None, exc))
    return sorted(out, key=lambda x: (x.plan is None, x.plan.cost["total"] if x.plan else 0.0))


def plan(req: PlanRequest, progress: Progress | None = None) -> Plan:
    def compute() -> Plan:
        spec = spec_of(req)
        options = PlanOptions(time_limit=req.time_limit, progress=progress)
        if req.strategy:
            return planner.plan_with_strategy(spec, catalog(), req.strategy, options)
        return make_plan(spec, catalog(), options)

    return solved(req.key, compute)


def strategy_names() -> list[str]:
    return list(STRATEGIES)


def compare(req: PlanRequest, progress: Progress | None = None) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        return planner.compare(
            spec_of(req), catalog(), PlanOptions(time_limit=req.time_limit, progress=progress)
        )

    return solved(digest("compare", req.key), compute)


def frontier(req: PlanRequest, progress: Progress | None = None) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        return planner.frontier(
            spec_of(req),
            catalog(),
            x="availability",
            options=PlanOptions(time_limit=req.time_limit, progress=progress),
        )

    return solved(digest("frontier", req.key), compute)


# ----------------------------------------------------------------------------- plan analyses
@st.cache_data(show_spinner=False, max_entries=64)
def plan_json(key: str, _plan: Plan, _availability: Any = None) -> str:
    """The plan's JSON with the availability the screen shows (not null when it is shown)."""
    return plan_to_json(_plan, _availability)


@st.cache_data(show_spinner=False, max_entries=64)
def plan_exports(key: str, _plan: Plan, _availability: Any = None) -> dict[str, tuple[Any, str]]:
    """The plan for the tools architects use (planner.interop, when the library has it):
    Terraform and Karmada as zip archives and an Infracost-shaped JSON, by name -> (data,
    file name). A format the library refuses for this plan is left out."""
    try:
        from planner import interop
    except ImportError:
        return {}
    contract = planner.plan_to_dict(_plan, _availability)
    app = _plan.spec.app
    makers = {
        "terraform": lambda: (
            interop.zip_files(interop.export_terraform(contract), f"{app}-terraform"),
            f"{app}-terraform.zip",
        ),
        "karmada": lambda: (
            interop.zip_files(interop.export_karmada(contract), f"{app}-karmada"),
            f"{app}-karmada.zip",
        ),
        "infracost": lambda: (
            json.dumps(interop.export_infracost(contract), indent=2, ensure_ascii=False),
            f"{app}-infracost.json",
        ),
    }
    out: dict[str, tuple[Any, str]] = {}
    for name, make in makers.items():
        try:
            out[name] = make()
        except (PlannerError, AttributeError, ValueError):
            continue
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def plan_csv(key: str, _plan: Plan) -> str:
    return plan_to_csv(_plan)


@st.cache_data(show_spinner=False, max_entries=64)
def availability(key: str, _plan: Plan) -> dict[str, Any]:
    res = planner.plan_availability(_plan, catalog())
    return {
        "availability": res.availability,
        "minutes_per_year": res.minutes_per_year,
        "minutes_per_month": res.minutes_per_month,
        "method": res.method,
        "services": pd.DataFrame(res.service_rows()),
        "front_door": res.unavailability - res.unavailability_without_front_door > 1e-15,
        "front_door_unavailability": float(catalog().availability["front_door"]),
        "result": res,
    }


@st.cache_data(show_spinner=False, max_entries=64)
def failure_impact(
    key: str,
    _plan: Plan,
    regions: tuple[str, ...],
    providers: tuple[str, ...],
    sites: tuple[str, ...],
    incident: str | None,
) -> Any:
    failure = planner.failure_from(
        catalog(), regions=regions, providers=providers, sites=sites, incident=incident
    )
    return planner.evaluate_failure(_plan, catalog(), failure)


@st.cache_data(show_spinner=False, max_entries=64)
def sweep(key: str, _plan: Plan, kind: str) -> pd.DataFrame:
    """The library's sweep, with its unweighted mean shortfall replaced by the demand-weighted
    one (each service's unmet share weighted by its share of the running cost)."""
    from .compliance import weighted_shortfall

    out = planner.sweep(_plan, catalog(), kind=kind)
    weighted = weighted_shortfall(_plan, catalog(), kind)
    if len(out) and len(weighted) == len(out):
        out = out.assign(demand_shortfall_pct=weighted.to_numpy())
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def compliance(key: str, _plan: Plan) -> pd.DataFrame:
    from .compliance import compliance as compute

    return compute(_plan, catalog())


def replan(
    key: str,
    plan_: Plan,
    regions: tuple[str, ...],
    providers: tuple[str, ...],
    sites: tuple[str, ...],
    incident: str | None,
    progress: Progress | None = None,
) -> Any:
    def compute() -> Any:
        failure = planner.failure_from(
            catalog(), regions=regions, providers=providers, sites=sites, incident=incident
        )
        return planner.replan(
            plan_, catalog(), failure, PlanOptions(time_limit=60.0, progress=progress)
        )

    return solved(digest("replan", key, regions, providers, sites, incident), compute)


# ----------------------------------------------------------------------------- the trade-off
SURVIVAL_LEVELS = ("none", "zone", "region", "provider")
POINT_TIME_LIMIT = 4.0  # each point of the trade-off is a quick look: its gap is shown


def point_requests(req: PlanRequest) -> list[tuple[str, str, PlanRequest]]:
    """(kind, name, request) of every point of the trade-off chart: this plan, the spec under
    each survival level, and under each named strategy."""
    quick = min(req.time_limit, POINT_TIME_LIMIT)
    out = [("this", "this", req)]
    out += [
        ("survive", level, replace(req, survive=level, strategy="", time_limit=quick))
        for level in SURVIVAL_LEVELS
    ]
    out += [
        ("strategy", name, strategy_request(req, name))
        for name in strategy_names()
        if name != "optimal"
    ]
    return out


def strategy_request(req: PlanRequest, name: str) -> PlanRequest:
    """The request for `req` under a named strategy ("optimal": the spec's own settings)."""
    quick = min(req.time_limit, POINT_TIME_LIMIT)
    return replace(req, strategy="" if name == "optimal" else name, time_limit=quick)


@st.cache_data(show_spinner=False, max_entries=256)
def plan_summary(key: str, _plan: Plan) -> dict[str, Any]:
    """One comparison row for a plan (cost, availability, downtime, latency, RTO/RPO...)."""
    from planner.strategies import summarize

    row = summarize(_plan, catalog())
    row["downtime_min_per_month"] = float(row.pop("downtime_minutes_per_year")) / 12.0
    row["time_limited"] = bool(_plan.time_limited or _plan.status != "optimal")
    return row


def tradeoff(req: PlanRequest, progress: Progress | None = None) -> pd.DataFrame:
    """Every point of the trade-off, solved (or from the memo): one row each, with kind, name,
    the plan's summary, and `error` for a point without a plan."""
    rows = []
    for kind, name, r in point_requests(req):
        row: dict[str, Any] = {"kind": kind, "name": name, "key": r.key, "error": ""}
        try:
            row.update(plan_summary(r.key, plan(r, progress)))
        except PlannerError as exc:
            row["error"] = type(exc).__name__
        rows.append(row)
    return pd.DataFrame(rows)
