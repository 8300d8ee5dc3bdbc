"""What the availability engines take and return: the plan as plain data, and the result.

:class:`AvailabilityInput` describes a plan for the engines (services made of replicas placed in
regions, the failure domains each region sits in with their probabilities of being down, and the
hard dependencies between services); :class:`AvailabilityResult` is what both the exact and the
Monte Carlo engine return. :func:`common_cause_domains` writes F4's beta factor as failure domains
so that zones or sites with a common cause can be placed in an input.

These are kept apart from the engines so that a caller (the plan adapter in
``plan_availability``, the tests, a notebook) can build an input without reading how it is
evaluated, and so that both engines share one result type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .availability_formulas import (
    checked_probability,
    clamp01,
    minutes_per_month,
    minutes_per_year,
    series_unavailability,
)


@dataclass(frozen=True)
class Replica:
    """One placement of a service.

    Attributes:
        region: canonical region id (``"aws/ap-northeast-2"``); must be a key of
            ``AvailabilityInput.region_domains``.
        capacity_share: this replica's capacity as a fraction of the service's demand
            (1.0 = can carry the whole load alone, 0.5 = half of it).
        unavailability: the replica's own component unavailability (for example from the
            service's SLA), independent of the domains and of every other replica.
    """

    region: str
    capacity_share: float = 1.0
    unavailability: float = 0.0


@dataclass(frozen=True)
class ServiceLayout:
    """A service and where its replicas run.

    The service is up when the replicas that are up (region up and component up) have
    ``sum(capacity_share) >= required_share``. With shares of 1.0 and ``required_share = 1`` this
    is "any one suffices" (F2); with shares of 0.5 it is "2 of n" (F3).
    """

    name: str
    replicas: tuple[Replica, ...]
    required_share: float = 1.0


@dataclass(frozen=True)
class AvailabilityInput:
    """Everything the availability engine needs about one plan; plain data.

    Attributes:
        services: the services and their replicas.
        region_domains: region -> failure domains it sits in (``("region:aws/us-east-1",
            "provider:aws")``). A region is down when ANY of its domains is down. An empty tuple
            means the region has no modelled failure of its own.
        domain_unavailability: domain -> probability it is down. Domains are independent of each
            other; correlation is expressed by sharing a domain (a provider-wide control plane, a
            campus, a zone group's common cause).
        dependencies: ``(caller, callee)`` pairs: the caller needs the callee (hard dependency,
            series). They must form a DAG.
        front_door_unavailability: global DNS / traffic manager in series with the whole app.
    """

    services: tuple[ServiceLayout, ...]
    region_domains: Mapping[str, tuple[str, ...]]
    domain_unavailability: Mapping[str, float]
    dependencies: Sequence[tuple[str, str]] = ()
    front_door_unavailability: float = 0.0


@dataclass(frozen=True)
class AvailabilityResult:
    """Availability of one plan.

    Attributes:
        unavailability: ``U`` of the whole application, front door included.
        availability: ``1 - U``.
        minutes_per_month: ``U * 43 200`` (F7).
        minutes_per_year: ``U * 525 600`` (F7).
        unavailability_without_front_door: ``U`` of "every service effectively up".
        service_unavailability: per service, ``U`` of the service alone (its replicas and the
            domains they sit in), ignoring its dependencies.
        service_effective_unavailability: per service, ``U`` of the service together with
            everything it transitively depends on (front door excluded).
        method: ``"exact"`` or ``"monte_carlo"``.
        domains_enumerated: number of uncertain domains (``0 < q < 1``) the plan uses, which the
            exact method enumerates (``2^D`` states) and Monte Carlo samples.
        samples: Monte Carlo sample count (``None`` for exact).
        confidence_interval: Monte Carlo 95 % Wilson interval on ``unavailability`` (``None``
            for exact).
    """

    unavailability: float
    availability: float
    minutes_per_month: float
    minutes_per_year: float
    unavailability_without_front_door: float
    service_unavailability: Mapping[str, float]
    service_effective_unavailability: Mapping[str, float]
    method: Literal["exact", "monte_carlo"]
    domains_enumerated: int
    samples: int | None = None
    confidence_interval: tuple[float, float] | None = None

    def service_rows(self) -> list[dict[str, float | str]]:
        """One tidy row per service, units in the keys, for tables and charts."""
        return [
            {
                "service": name,
                "unavailability": u,
                "effective_unavailability": self.service_effective_unavailability[name],
                "effective_availability_pct": 100.0
                * (1.0 - self.service_effective_unavailability[name]),
                "effective_downtime_min_per_month": minutes_per_month(
                    self.service_effective_unavailability[name]
                ),
            }
            for name, u in self.service_unavailability.items()
        ]


def make_result(
    *,
    core: float,
    front_door: float,
    own: Mapping[str, float],
    effective: Mapping[str, float],
    method: Literal["exact", "monte_carlo"],
    domains: int,
    samples: int | None = None,
    interval: tuple[float, float] | None = None,
    app: float | None = None,
) -> AvailabilityResult:
    """Assemble a result; the app's ``U`` is the core in series with the front door (F1)."""
    core = clamp01(core)
    u = series_unavailability([core, front_door]) if app is None else clamp01(app)
    return AvailabilityResult(
        unavailability=u,
        availability=1.0 - u,
        minutes_per_month=minutes_per_month(u),
        minutes_per_year=minutes_per_year(u),
        unavailability_without_front_door=core,
        service_unavailability={k: clamp01(v) for k, v in own.items()},
        service_effective_unavailability={k: clamp01(v) for k, v in effective.items()},
        method=method,
        domains_enumerated=domains,
        samples=samples,
        confidence_interval=interval,
    )


@dataclass(frozen=True)
class CommonCauseDomains:
    """Domains modelling ``n`` members (zones, sites) that share a common cause.

    Merge ``region_domains`` and ``domain_unavailability`` into an :class:`AvailabilityInput`
    and place replicas in the member ids.
    """

    members: tuple[str, ...]
    region_domains: dict[str, tuple[str, ...]]
    domain_unavailability: dict[str, float]


def common_cause_domains(
    group: str,
    members: Sequence[str],
    unavailability: float,
    beta: float,
    shared_domains: Sequence[str] = (),
) -> CommonCauseDomains:
    """Express F4's beta factor as failure domains.

    For a group (a region's zones, a campus's sites) whose members each have unavailability ``u``,
    of which a fraction ``beta`` is common cause, build

    * one domain ``common:<group>`` down with probability ``beta * u``, shared by every member;
    * one domain ``member:<member>`` per member, down with probability ``(1 - beta) * u``.

    Each member sits in both (plus ``shared_domains``, e.g. ``("provider:gcp",)``). A service with
    one full-capacity, otherwise perfect replica per member then has, from the engine,
    ``1 - (1 - beta*u)(1 - ((1-beta)*u)^n)``, i.e.
    ``beta_parallel_unavailability(u, n, beta, exact=True)``; F4 itself is that value's
    rare-event approximation.
    """
    u = checked_probability(unavailability)
    b = checked_probability(beta, "beta")
    names = tuple(members)
    if not names:
        raise ValueError(f"common-cause group {group!r} needs at least one member")
    if len(set(names)) != len(names):
        raise ValueError(f"common-cause group {group!r} lists a member twice: {names!r}")
    common = f"common:{group}"
    region_domains = {m: (common, f"member:{m}", *shared_domains) for m in names}
    domain_u = {common: b * u} | {f"member:{m}": (1.0 - b) * u for m in names}
    return CommonCauseDomains(names, region_domains, domain_u)
