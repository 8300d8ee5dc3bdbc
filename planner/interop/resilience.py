"""A resilience policy in the shape of AWS Resilience Hub's, mapped onto the planner's own fields,
and the compliance of a plan with it per disruption type.

The accepted mapping follows Resilience Hub's `CreateResiliencyPolicy` request:

    policyName: shop-critical            # optional, echoed
    tier: MissionCritical                # optional, echoed
    dataLocationConstraint: SameCountry  # AnyLocation (default), SameContinent, SameCountry
    home: KR                             # ours: the jurisdiction the data stays in or near
    policy:
      AZ:       {rtoInSecs: 300,   rpoInSecs: 60}
      Region:   {rtoInSecs: 3600,  rpoInSecs: 900}
      Provider: {rtoInSecs: 14400, rpoInSecs: 3600}   # ours: a whole cloud provider
      Software: {rtoInSecs: 60,    rpoInSecs: 0}      # accepted; the planner does not model it
      Hardware: {rtoInSecs: 60,    rpoInSecs: 0}      # accepted; the planner does not model it

Mapping (pure, `policy_fields`): the widest disruption type given becomes `policy.survive`
(Provider -> `provider`, Region -> `region`, AZ -> `zone`); every service that sets neither `dr`
nor its own targets gets `dr: auto` with the strictest RTO and RPO of the types the plan must
survive, in minutes (a strategy's RTO and RPO hold for any failure it survives, so the strictest
target binds); the data-location constraint becomes `residency` (`SameCountry`: [home];
`SameContinent`: every jurisdiction of the catalog on home's continent).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import Problem, SpecError, did_you_mean

# Resilience Hub's disruption types that the planner models, widest last, with the `survive`
# value and the sweep kind of each
DISRUPTIONS = {"AZ": "zone", "Region": "region", "Provider": "provider"}
NOT_MODELLED = ("Software", "Hardware")
DATA_LOCATIONS = ("AnyLocation", "SameContinent", "SameCountry")
TOP_KEYS = ("policyName", "policyDescription", "tier", "dataLocationConstraint", "home", "policy")
TARGET_KEYS = ("rtoInSecs", "rpoInSecs")
_EXAMPLE_TARGET = "{rtoInSecs: 3600, rpoInSecs: 300}"  # an hour to recover, five minutes lost


@dataclass(frozen=True)
class Target:
    rto_minutes: float
    rpo_minutes: float


@dataclass(frozen=True)
class ResiliencePolicy:
    """A checked resilience policy: targets per modelled disruption type."""

    targets: dict[str, Target]  # keyed by AZ, Region, Provider
    data_location: str = "AnyLocation"
    home: str | None = None
    name: str = ""
    tier: str = ""
    ignored: tuple[str, ...] = ()  # disruption types accepted but not modelled

    @property
    def survive(self) -> str:
        widest = [d for d in DISRUPTIONS if d in self.targets][-1]
        return DISRUPTIONS[widest]

    @property
    def strictest(self) -> Target:
        return Target(
            min(t.rto_minutes for t in self.targets.values()),
            min(t.rpo_minutes for t in self.targets.values()),
        )


@dataclass(frozen=True)
class PolicyFields:
    """What a resilience policy sets in a spec: policy fields and per-service defaults."""

    policy: dict[str, Any]
    service_defaults: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def parse_resilience_policy(
    data: Any, source: str = "resilience policy", prefix: str = ""
) -> ResiliencePolicy:
    """Check a Resilience Hub-shaped mapping; raise SpecError listing every problem, each at
    `prefix` + its path (a spec loader passes its file and `resilience_policy.`)."""
    problems: list[Problem] = []

    def problem(path: str, message: str, value: Any = None, fix: str = "") -> None:
        where = (prefix + path).rstrip(".")
        problems.append(Problem(source, where, "", message, value=value, fix=fix))

    if not isinstance(data, Mapping):
        problem(
            "",
            "must be a mapping with `policy` (and `dataLocationConstraint`)",
            type(data).__name__,
            fix=f"write e.g. `resilience_policy: {{policy: {{Region: {_EXAMPLE_TARGET}}}}}`",
        )
        raise SpecError(problems)
    for key in data:
        if key not in TOP_KEYS:
            problem(str(key), "unknown key", fix=did_you_mean(str(key), TOP_KEYS))
    location = data.get("dataLocationConstraint", "AnyLocation")
    if location not in DATA_LOCATIONS:
        problem(
            "dataLocationConstraint",
            "unknown constraint",
            location,
            did_you_mean(str(location), DATA_LOCATIONS),
        )
    home = data.get("home")
    if location in ("SameCountry", "SameContinent") and not (isinstance(home, str) and home):
        problem(
            "home",
            f"`{location}` needs the jurisdiction the data stays in or near",
            fix="add `home: KR` (a jurisdiction code of the catalog, see docs/spec.md, Residency)",
        )
    policy = data.get("policy")
    targets: dict[str, Target] = {}
    ignored: list[str] = []
    if not isinstance(policy, Mapping) or not policy:
        problem(
            "policy",
            "missing or empty: give RTO and RPO per disruption type",
            fix="e.g. `policy: {Region: {rtoInSecs: 3600, rpoInSecs: 900}}`",
        )
    else:
        for kind, target in policy.items():
            path = f"policy.{kind}"
            if kind not in DISRUPTIONS and kind not in NOT_MODELLED:
                problem(
                    path,
                    "unknown disruption type",
                    fix=did_you_mean(str(kind), [*DISRUPTIONS, *NOT_MODELLED]),
                )
                continue
            if not isinstance(target, Mapping):
                problem(
                    path,
                    "must be a mapping of rtoInSecs and rpoInSecs",
                    type(target).__name__,
                    fix=f"write e.g. `{kind}: {_EXAMPLE_TARGET}`",
                )
                continue
            for key in target:
                if key not in TARGET_KEYS:
                    problem(f"{path}.{key}", "unknown key", fix=did_you_mean(str(key), TARGET_KEYS))
            bad = False
            for key in TARGET_KEYS:
                if not _number(target.get(key)):
                    problem(
                        f"{path}.{key}",
                        "missing, or not a number of seconds at least 0",
                        target.get(key),
                        fix="write whole seconds, e.g. 3600 for an hour",
                    )
                    bad = True
            if bad:
                continue
            if kind in NOT_MODELLED:
                ignored.append(str(kind))
                continue
            targets[str(kind)] = Target(target["rtoInSecs"] / 60, target["rpoInSecs"] / 60)
        if not targets and not problems:
            problem(
                "policy",
                "gives only Software or Hardware targets, which the planner does not model",
                fix="add AZ, Region or Provider targets",
            )
    if problems:
        raise SpecError(problems)
    return ResiliencePolicy(
        targets,
        str(location),
        str(home) if home else None,
        str(data.get("policyName", "")),
        str(data.get("tier", "")),
        tuple(ignored),
    )


def policy_fields(policy: ResiliencePolicy, regions: pd.DataFrame | None = None) -> PolicyFields:
    """The planner's fields for a resilience policy (pure). `regions` (the catalog's regions
    table) is needed only for `SameContinent`, to list the jurisdictions of home's continent."""
    strictest = policy.strictest
    defaults: dict[str, Any] = {
        "dr": "auto",
        "rto_minutes": strictest.rto_minutes,
        "rpo_minutes": strictest.rpo_minutes,
    }
    notes = [
        f"survive: {policy.survive} (the widest disruption type of the policy)",
        f"services without their own targets: dr auto, RTO {strictest.rto_minutes:g} min, "
        f"RPO {strictest.rpo_minutes:g} min (the strictest of the policy)",
    ]
    if policy.data_location == "SameCountry" and policy.home:
        defaults["residency"] = [policy.home]
    elif policy.data_location == "SameContinent" and policy.home:
        if regions is None:
            raise SpecError(
                [
                    Problem(
                        "resilience_policy",
                        "dataLocationConstraint",
                        "",
                        "SameContinent needs the catalog's regions to list the jurisdictions",
                        fix="pass the catalog's regions table, or use SameCountry",
                    )
                ]
            )
        mine = regions.loc[regions["jurisdiction"] == policy.home, "continent"]
        if mine.empty:
            raise SpecError(
                [
                    Problem(
                        "resilience_policy",
                        "home",
                        "",
                        "no region of the catalog has this jurisdiction",
                        value=policy.home,
                        fix=did_you_mean(policy.home, set(regions["jurisdiction"])),
                    )
                ]
            )
        continent = mine.iloc[0]
        defaults["residency"] = sorted(
            set(regions.loc[regions["continent"] == continent, "jurisdiction"])
        )
    if policy.ignored:
        notes.append(f"{', '.join(policy.ignored)} targets are accepted but not modelled")
    return PolicyFields({"survive": policy.survive}, defaults, notes)


def apply_resilience_policy(
    spec_data: Mapping[str, Any],
    data: Any,
    regions: pd.DataFrame | None = None,
    source: str = "resilience policy",
) -> dict[str, Any]:
    """Spec data with a resilience policy applied (a new mapping; the input is not changed). A
    service keeps what it sets itself: its own `dr`, `rto_minutes`, `rpo_minutes` or `residency`
    win over the policy's defaults. An explicit `policy.survive` that differs from the policy's
    is an error. `SameContinent` without `regions` reads the embedded catalog's regions (a spec
    loader has no catalog at hand)."""
    policy = parse_resilience_policy(data, source, "resilience_policy.")
    if regions is None and policy.data_location == "SameContinent":
        from ..catalog import load_catalog

        regions = load_catalog().regions
    fields = policy_fields(policy, regions)
    out = dict(spec_data)
    given = dict(out.get("policy") or {})
    if "survive" in given and given["survive"] != fields.policy["survive"]:
        raise SpecError(
            [
                Problem(
                    source,
                    "policy.survive",
                    "",
                    f"the spec says survive `{given['survive']}` but the resilience policy's "
                    f"widest disruption type means `{fields.policy['survive']}`",
                    fix="remove `survive` from the spec's policy, or the disruption type from the "
                    "resilience policy",
                )
            ]
        )
    out["policy"] = {**given, **fields.policy}
    services = []
    for s in out.get("services") or []:
        if not isinstance(s, Mapping):
            services.append(s)
            continue
        own_targets = any(k in s for k in ("dr", "rto_minutes", "rpo_minutes"))
        extra = {
            k: v
            for k, v in fields.service_defaults.items()
            if k not in s and (k == "residency" or not own_targets)
        }
        services.append({**s, **extra})
    out["services"] = services
    return out


COMPLIANCE_COLUMNS = [
    "disruption",
    "scenarios",
    "survived",
    "target_rto_minutes",
    "achieved_rto_minutes",
    "target_rpo_minutes",
    "achieved_rpo_minutes",
    "passed",
    "note",
]


def compliance_table(plan: Any, catalog: Any, policy: ResiliencePolicy) -> pd.DataFrame:
    """Per disruption type of the policy: did the plan survive every such failure (the same
    sweep `mcplan whatif --sweep` runs), and are the RTO and RPO it achieves (those of its
    slowest strategy, an upper bound for any one failure) within the targets. A last row checks
    the data-location constraint against the jurisdictions the plan uses."""
    from ..analysis.whatif_sweep import sweep

    strategies = catalog.strategies
    used = [s for s in plan.strategies.values() if s in strategies.index]
    rto = float(strategies.loc[used, "rto_minutes"].max()) if used else 0.0
    rpo = float(strategies.loc[used, "rpo_minutes"].max()) if used else 0.0
    rows = []
    for kind in (d for d in DISRUPTIONS if d in policy.targets):
        target = policy.targets[kind]
        table = sweep(plan, catalog, DISRUPTIONS[kind])
        failed = table.loc[~table["survived"], "scenario"].tolist()
        survived = not failed
        ok = survived and rto <= target.rto_minutes + 1e-9 and rpo <= target.rpo_minutes + 1e-9
        if not survived:
            note = f"not survived: {', '.join(failed[:3])}" + (" ..." if len(failed) > 3 else "")
        elif not ok:
            note = "survived, but the slowest strategy misses the target"
        else:
            note = ""
        rows.append(
            {
                "disruption": kind,
                "scenarios": len(table),
                "survived": survived,
                "target_rto_minutes": target.rto_minutes,
                "achieved_rto_minutes": rto if survived else None,
                "target_rpo_minutes": target.rpo_minutes,
                "achieved_rpo_minutes": rpo if survived else None,
                "passed": ok,
                "note": note,
            }
        )
    if policy.data_location != "AnyLocation" and policy.home:
        regions = catalog.regions
        places = regions.loc[plan.regions(), "jurisdiction"].tolist()
        if policy.data_location == "SameCountry":
            allowed = {policy.home}
        else:
            home_continents = set(regions.loc[regions["jurisdiction"] == policy.home, "continent"])
            allowed = set(regions.loc[regions["continent"].isin(home_continents), "jurisdiction"])
        outside = sorted(set(places) - allowed)
        rows.append(
            {
                "disruption": f"data location ({policy.data_location} {policy.home})",
                "scenarios": 0,
                "survived": True,
                "target_rto_minutes": None,
                "achieved_rto_minutes": None,
                "target_rpo_minutes": None,
                "achieved_rpo_minutes": None,
                "passed": not outside,
                "note": f"placed in {', '.join(outside)}" if outside else "",
            }
        )
    return pd.DataFrame(rows, columns=COMPLIANCE_COLUMNS)
