"""Failures to ask "what if" about: a set of regions down together, and what kind of event it is.

:func:`failure_from` takes the user's words (region ids, provider names, site names, an incident
id from the catalog's incident list) and returns a :class:`Failure`: the regions lost, a label,
the scope (zone, region, site, provider, network, control plane, or mixed), whether the control
plane is down, and the incident's notes. Unknown names are collected and raised together as one
input error, each with a "did you mean". It is kept apart from the impact and sweep code so that
every what-if entry point (CLI, dashboard, studies) names failures the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..catalog import Catalog
from ..errors import InputError, Problem, did_you_mean


@dataclass(frozen=True)
class Failure:
    """A set of regions down together, with what kind of event it is."""

    regions: frozenset[str]
    label: str
    scope: str = "region"  # zone | region | site | provider | network | control_plane | mixed
    control_plane: bool = False  # APIs down: nothing can be launched or scaled during the event
    incident: str | None = None
    notes: tuple[str, ...] = ()
    # regions that each lose one of their zones (a region with one zone is lost instead): what
    # the sweep's and the policy's zone failures are, so one zone can be asked about too
    zones: frozenset[str] = frozenset()


@dataclass
class _Named:
    """What the user's words name so far, and the words that name nothing."""

    problems: list[Problem] = field(default_factory=list)
    lost: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)
    scopes: set[str] = field(default_factory=set)
    control_plane: bool = False
    notes: list[str] = field(default_factory=list)

    def unknown(self, option: str, what: str, value: str, known: Iterable[str]) -> None:
        self.problems.append(
            Problem("", option, "", f"unknown {what}", value=value, fix=did_you_mean(value, known))
        )


def _name_regions(named: _Named, catalog: Catalog, regions: Sequence[str]) -> None:
    reg = catalog.regions
    for r in regions:
        if r not in reg.index:
            named.unknown("--fail", "region", r, reg.index)
        else:
            named.lost.add(r)
            named.labels.append(r)
            named.scopes.add("region")


def _name_providers(named: _Named, catalog: Catalog, providers: Sequence[str]) -> None:
    reg = catalog.regions
    for p in providers:
        if p not in catalog.providers.index:
            named.unknown("--fail-provider", "provider", p, catalog.providers.index)
        else:
            named.lost |= set(reg.index[reg["provider"] == p])
            named.labels.append(f"all of {p}")
            named.scopes.add("provider")


def _name_sites(named: _Named, catalog: Catalog, sites: Sequence[str]) -> None:
    reg = catalog.regions
    for s in sites:
        hit = set(reg.index[(reg["site"] == s) | (reg.index == s)])
        if not hit:
            named.unknown("--fail-site", "site", s, set(reg["site"]))
        named.lost |= hit
        named.labels.append(f"site {s}")
        named.scopes.add("site")


def _name_incident(named: _Named, catalog: Catalog, incident: str) -> None:
    inc = catalog.incidents
    if incident not in inc.index:
        named.unknown("--incident", "incident", incident, inc.index)
        return
    row = inc.loc[incident]
    named.lost |= set(str(row["regions"]).split())
    named.labels.append(f"{incident} ({row['title']})")
    named.scopes.add(str(row["scope"]))
    named.control_plane = row["scope"] == "control_plane"
    named.notes.append(f"{row['date']}: {row['what_failed']} Lesson: {row['lesson']}")
    if row["scope"] == "network" and not str(row["regions"]).split():
        named.notes.append(
            "a carrier network outage: cloud regions stay up, but users behind that "
            "carrier cannot reach any of them; only multi-homed access helps"
        )
    if not str(row["regions"]).split() and row["scope"] != "network":
        named.notes.append(
            "the site of this incident is not in the catalog; nothing in the plan is hit"
        )


def failure_from(
    catalog: Catalog,
    regions: tuple[str, ...] | list[str] = (),
    providers: tuple[str, ...] | list[str] = (),
    sites: tuple[str, ...] | list[str] = (),
    incident: str | None = None,
) -> Failure:
    """Build a Failure from user words; unknown names are input errors with a 'did you mean'."""
    named = _Named()
    _name_regions(named, catalog, regions)
    _name_providers(named, catalog, providers)
    _name_sites(named, catalog, sites)
    if incident is not None:
        _name_incident(named, catalog, incident)
    if named.problems:
        raise InputError(named.problems)
    scopes = named.scopes
    scope = scopes.pop() if len(scopes) == 1 else ("mixed" if scopes else "none")
    return Failure(
        frozenset(named.lost),
        " + ".join(named.labels) or "nothing",
        scope,
        named.control_plane,
        incident,
        tuple(named.notes),
    )


def spared_services(placements: pd.DataFrame, catalog: Catalog, failure: Failure) -> set[str]:
    """The global SaaS services of a plan that this failure leaves running: a provider's global
    service goes down only when every region of that provider is down (the same reading as
    `planner.analysis.failure`, rule 7)."""
    from ..plan import global_services

    spared = set()
    running = placements[placements["role"] != "backup"]
    for service in global_services(placements, catalog):
        providers = set(running.loc[running["service"] == service, "provider"])
        regions = catalog.regions
        if not any(
            set(regions.index[regions["provider"] == p]) <= failure.regions for p in providers
        ):
            spared.add(service)
    return spared
