"""Availability of a plan: closed-form formulas and an exact engine over failure domains.

Everything here works in **unavailability** ``U = 1 - A`` rather than availability. A plan with
five nines has ``A = 0.99999``; subtracting such numbers from one throws away most of their
significant digits, while ``U = 1e-5`` keeps all of them. Products of ``(1 - U_i)`` are
therefore taken in log space, ``1 - prod(1 - U_i) = -expm1(sum(log1p(-U_i)))``, and every
probability we return is clamped to ``[0, 1]``.

Two layers:

* **Formulas** (reference/reliability.md section 3), pure functions on floats:

  - F1 series (hard dependencies), :func:`series_unavailability`;
  - F2 parallel (any one suffices), :func:`parallel_unavailability`;
  - F3 k-of-n with unequal components, :func:`k_of_n_unavailability`;
  - F4 beta-factor common cause, :func:`beta_parallel_unavailability`;
  - F7 downtime conversion, :func:`minutes_per_month`, :func:`minutes_per_year`;
  - SLA and outage-history conversions.

* **The plan engine**, :func:`exact_availability` and :func:`monte_carlo_availability`. A plan is
  described by :class:`AvailabilityInput`: services made of replicas placed in regions, regions
  sitting in failure domains (region, provider, campus, common-cause zone group, ...), and hard
  dependencies between services. The engine does **not** assume services fail independently:
  it conditions on the joint up/down state of every failure domain the plan uses, so two services
  in the same region go down together. Given the domain state, the remaining randomness (each
  replica's own component failure) is independent, which makes the conditional probabilities
  exact products; summing over the ``2^D`` domain states gives the exact answer.

Model, in symbols. Let ``F`` be the set of failure domains used by the plan, each down with
probability ``q_f``, independently. A domain state is ``x in {0,1}^F`` (1 = down) with

    P(x) = prod_f q_f^{x_f} (1 - q_f)^{1 - x_f}.

Region ``r`` with domains ``F_r`` is up in ``x`` iff ``x_f = 0`` for all ``f in F_r``. Replica
``i`` of a service (region ``r_i``, share ``c_i``, own unavailability ``u_i``) is up iff its
region is up and its component is up (probability ``1 - u_i``, independent of everything else).
Service ``s`` is up iff ``sum_{i up} c_i >= k_s`` (``k_s`` = required share). Because distinct
services own distinct replicas, services are conditionally independent given ``x``:

    P(app up | x) = (1 - U_front) * prod_s (1 - U_s(x)),
    U_app = 1 - (1 - U_front) * (1 - sum_x P(x) * [1 - prod_s (1 - U_s(x))]).

A service is *effectively* up when it and every service it transitively depends on are up; its
effective unavailability uses the same formula restricted to its dependency closure. The whole
application is up iff every service is up (dependencies then add nothing) and the front door
(global DNS / traffic manager, in series with everything) is up.

Common-cause failures between zones of one region or sites of one campus (F4's beta factor) are
expressed in the same domain model: :func:`common_cause_domains` builds one shared domain with
``beta * u`` and one independent domain per member with ``(1 - beta) * u``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, cast

import networkx as nx
import numpy as np
import numpy.typing as npt

from planner.errors import InputError, PlannerError, Problem, did_you_mean

__all__ = [
    "HOURS_PER_YEAR",
    "MAX_EXACT_DOMAINS",
    "MAX_REPLICAS_PER_SERVICE",
    "MINUTES_PER_MONTH",
    "MINUTES_PER_YEAR",
    "AvailabilityInput",
    "AvailabilityInputError",
    "AvailabilityResult",
    "CommonCauseDomains",
    "Replica",
    "ServiceLayout",
    "TooManyDomainsError",
    "beta_parallel_unavailability",
    "common_cause_domains",
    "domain_unavailability_from_history",
    "domain_unavailability_from_sla",
    "exact_availability",
    "k_of_n_unavailability",
    "minutes_per_month",
    "minutes_per_year",
    "monte_carlo_availability",
    "parallel_unavailability",
    "series_unavailability",
    "sla_to_unavailability",
]

MINUTES_PER_MONTH = 43_200.0  # 30 days, the convention of provider SLAs and reliability.md F7
MINUTES_PER_YEAR = 525_600.0  # 365 days
HOURS_PER_YEAR = 8_760.0  # 365 days, consistent with MINUTES_PER_YEAR

MAX_EXACT_DOMAINS = 22
"""Most uncertain failure domains :func:`exact_availability` will enumerate (2^22 states)."""

MAX_REPLICAS_PER_SERVICE = 16
"""Largest replica count per service for the exact engine (its per-service table has 2^m rows)."""

_Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval
_CHUNK_BITS = 16  # enumerate domain states 2^16 at a time so memory stays flat up to 2^22 states

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class AvailabilityInputError(InputError):
    """The availability input is inconsistent; lists every problem with how to fix it."""

    kind = "availability input"


class TooManyDomainsError(PlannerError, ValueError):
    """Exact enumeration would need more than ``2^MAX_EXACT_DOMAINS`` domain states."""

    exit_code = 2


# --------------------------------------------------------------------------------------------
# Formulas (reliability.md section 3)
# --------------------------------------------------------------------------------------------


def _probability(value: float, what: str = "unavailability") -> float:
    """Return ``value`` as a float after checking it is a probability (NaN is rejected too)."""
    v = float(value)
    if not 0.0 <= v <= 1.0:  # written this way so NaN fails the check
        raise ValueError(f"{what} must be a probability in [0, 1], got {value!r}")
    return v


def _clamp01(x: float) -> float:
    """Clamp round-off excursions back into [0, 1]."""
    return min(1.0, max(0.0, x))


def series_unavailability(us: Iterable[float]) -> float:
    """F1, components in series (all must be up).

    ``A = prod A_i``, so ``U = 1 - prod(1 - U_i) = -expm1(sum_i log1p(-U_i))``.

    The log form keeps full relative precision when every ``U_i`` is tiny: ``1 - prod(...)``
    would cancel, whereas ``log1p``/``expm1`` are accurate near zero. An empty chain is always up
    (``U = 0``); any certainly-down component makes the chain certainly down.
    """
    vals = [_probability(u) for u in us]
    if any(u == 1.0 for u in vals):
        return 1.0  # log1p(-1) is -inf; the answer is exact anyway
    return _clamp01(-math.expm1(math.fsum(math.log1p(-u) for u in vals)))


def parallel_unavailability(us: Iterable[float]) -> float:
    """F2, independent redundant components, any one suffices.

    ``A = 1 - prod(1 - A_i)``, i.e. ``U = prod U_i``; ``n`` identical components give ``U^n``.
    Computed directly on unavailabilities, so two components at ``1e-6`` give ``1e-12`` to full
    precision. An empty set of components is never up (``U = 1``, the empty product).
    """
    return _clamp01(math.prod(_probability(u) for u in us))


def k_of_n_unavailability(k: int, us: Sequence[float]) -> float:
    """F3, at least ``k`` of ``n`` independent components must be up (components may differ).

    With identical components this is ``U = sum_{j<k} C(n,j) A^j U^(n-j)``. For unequal ``U_i``
    we run a dynamic programme over the number of components up: after adding component ``i``,

        p_i(j) = p_{i-1}(j) * U_i + p_{i-1}(j-1) * (1 - U_i),   p_0(0) = 1,

    and return ``sum_{j<k} p_n(j)``. Only counts below ``k`` are needed, so the table is
    truncated to ``k`` entries (O(n k) time). Every term is a sum of non-negative products, so
    there is no cancellation. ``k = 0`` is always up; ``k > n`` is never up.
    """
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    k = int(k)
    vals = [_probability(u) for u in us]
    if k == 0:
        return 0.0
    if k > len(vals):
        return 1.0
    # dist[j] = P(exactly j of the components seen so far are up), for j < k only: the mass that
    # reaches k can never come back below k, so it is simply dropped.
    dist = [1.0] + [0.0] * (k - 1)
    for u in vals:
        for j in range(k - 1, 0, -1):
            dist[j] = dist[j] * u + dist[j - 1] * (1.0 - u)
        dist[0] *= u
    return _clamp01(math.fsum(dist))


def beta_parallel_unavailability(u: float, n: int, beta: float, *, exact: bool = False) -> float:
    """F4, beta-factor common cause for ``n`` identical redundant components.

    A fraction ``beta`` of each component's unavailability ``u`` is common to all of them:

        U_sys ~= beta*u + ((1 - beta)*u)^n          (F4 as printed in reliability.md)

    ``beta = 0`` gives F2 (``u^n``), ``beta = 1`` gives a single component (``u``).

    F4 is the rare-event approximation of the two-level model where the common cause (``beta*u``)
    and each component's independent part (``(1-beta)*u``) are independent events:

        U_exact = 1 - (1 - beta*u) * (1 - ((1 - beta)*u)^n)
                = F4 - beta*u * ((1 - beta)*u)^n.

    ``exact=True`` returns ``U_exact``, which is what :func:`exact_availability` computes for the
    domains built by :func:`common_cause_domains`. The two differ by ``beta*u*((1-beta)*u)^n``,
    far below the printed digits for realistic ``u``.
    """
    u = _probability(u)
    beta = _probability(beta, "beta")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    common = beta * u
    independent = ((1.0 - beta) * u) ** int(n)
    if exact:
        return series_unavailability([common, independent])
    return _clamp01(common + independent)


def minutes_per_month(u: float) -> float:
    """F7, expected downtime per 30-day month: ``U * 43 200`` minutes."""
    return _probability(u) * MINUTES_PER_MONTH


def minutes_per_year(u: float) -> float:
    """F7, expected downtime per 365-day year: ``U * 525 600`` minutes."""
    return _probability(u) * MINUTES_PER_YEAR


def sla_to_unavailability(sla_pct: float) -> float:
    """Unavailability promised by an SLA given in percent: ``U = (100 - SLA) / 100``.

    The subtraction is done in decimal on the number's shortest repr, so ``99.99`` gives exactly
    the float nearest ``1e-4`` (binary ``100 - 99.99`` would carry 99.99's representation error
    into the fifth significant digit of ``U``).
    """
    v = float(sla_pct)
    if not 0.0 <= v <= 100.0:
        raise ValueError(f"an SLA must be a percentage in [0, 100], got {sla_pct!r}")
    return _clamp01(float((Decimal(100) - Decimal(repr(v))) / Decimal(100)))


def domain_unavailability_from_sla(sla_pct: float) -> float:
    """Probability that a failure domain is down, taking its SLA percentage at face value.

    An SLA is a contractual floor, not a measurement, so this is a pessimistic proxy; prefer
    :func:`domain_unavailability_from_history` when an outage record exists.
    """
    return sla_to_unavailability(sla_pct)


def domain_unavailability_from_history(outage_hours_total: float, years: float) -> float:
    """Probability that a failure domain is down, from an observed outage history.

    ``q = hours down / hours observed = outage_hours_total / (years * 8 760)``: the fraction of
    observed time the domain was unavailable (a point estimate; short histories are noisy).
    """
    hours = float(outage_hours_total)
    span = float(years)
    if not math.isfinite(span) or span <= 0.0:
        raise ValueError(f"years observed must be a positive number, got {years!r}")
    if not math.isfinite(hours) or hours < 0.0:
        raise ValueError(f"outage hours must be a non-negative number, got {outage_hours_total!r}")
    observed = span * HOURS_PER_YEAR
    if hours > observed:
        raise ValueError(
            f"{hours} outage hours cannot fit in {span} years ({observed} hours observed); "
            "check the units (hours, years)"
        )
    return _clamp01(hours / observed)


# --------------------------------------------------------------------------------------------
# Plan input and result
# --------------------------------------------------------------------------------------------


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


def _result(
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
    core = _clamp01(core)
    u = series_unavailability([core, front_door]) if app is None else _clamp01(app)
    return AvailabilityResult(
        unavailability=u,
        availability=1.0 - u,
        minutes_per_month=minutes_per_month(u),
        minutes_per_year=minutes_per_year(u),
        unavailability_without_front_door=core,
        service_unavailability={k: _clamp01(v) for k, v in own.items()},
        service_effective_unavailability={k: _clamp01(v) for k, v in effective.items()},
        method=method,
        domains_enumerated=domains,
        samples=samples,
        confidence_interval=interval,
    )


# --------------------------------------------------------------------------------------------
# Common cause through the domain model
# --------------------------------------------------------------------------------------------


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
    u = _probability(unavailability)
    b = _probability(beta, "beta")
    names = tuple(members)
    if not names:
        raise ValueError(f"common-cause group {group!r} needs at least one member")
    if len(set(names)) != len(names):
        raise ValueError(f"common-cause group {group!r} lists a member twice: {names!r}")
    common = f"common:{group}"
    region_domains = {m: (common, f"member:{m}", *shared_domains) for m in names}
    domain_u = {common: b * u} | {f"member:{m}": (1.0 - b) * u for m in names}
    return CommonCauseDomains(names, region_domains, domain_u)


# --------------------------------------------------------------------------------------------
# Validation and compilation of the plan
# --------------------------------------------------------------------------------------------


def _shortfall(share_sum: npt.ArrayLike, required: float) -> BoolArray:
    """True where surviving capacity is below the requirement.

    A small tolerance keeps 4 x 0.25 (or 10 x 0.1) counting as a full share despite round-off.
    """
    tol = 1e-9 * max(1.0, required)
    return np.asarray(share_sum, dtype=np.float64) < required - tol


def _as_number(value: object) -> float | None:
    """``value`` as a finite float, or None when it is not one (strings, NaN, inf, None)."""
    if isinstance(value, bool | str | bytes):
        return None  # float("0.5") would succeed, but a string here is a caller's mistake
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _bad_probability(value: object) -> bool:
    """True unless ``value`` is a number in [0, 1]."""
    v = _as_number(value)
    return v is None or not 0.0 <= v <= 1.0


def _validate(inp: AvailabilityInput) -> nx.DiGraph:
    """Check the whole input, raise one error listing every problem; return the dependency DAG."""
    problems: list[Problem] = []

    def add(where: str, field: str, message: str, value: object = None, fix: str = "") -> None:
        problems.append(Problem("", where, field, message, value, fix))

    names = [s.name for s in inp.services]
    if not names:
        add("services", "", "the plan has no services", fix="add at least one ServiceLayout")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            add(f"services[{i}]", "name", "duplicate service name", name, "give each a unique name")
        seen.add(name)

    regions = set(inp.region_domains)
    domains = set(inp.domain_unavailability)
    for i, svc in enumerate(inp.services):
        where = f"services[{i}] ({svc.name})"
        req = _as_number(svc.required_share)
        if req is None or req <= 0:
            add(where, "required_share", "must be a positive number", svc.required_share)
        if not svc.replicas:
            add(where, "replicas", "a service needs at least one replica", fix="place it somewhere")
        for j, rep in enumerate(svc.replicas):
            rw = f"{where}.replicas[{j}]"
            if rep.region not in regions:
                add(
                    rw,
                    "region",
                    "region has no failure domains listed",
                    rep.region,
                    "add it to region_domains or " + did_you_mean(rep.region, regions),
                )
            share = _as_number(rep.capacity_share)
            if share is None or share < 0:
                add(rw, "capacity_share", "must be a non-negative number", rep.capacity_share)
            if _bad_probability(rep.unavailability):
                add(rw, "unavailability", "must be a probability in [0, 1]", rep.unavailability)

    used_regions = {r.region for s in inp.services for r in s.replicas} & regions
    for region in sorted(used_regions):
        doms = inp.region_domains[region]
        if isinstance(doms, str):
            add(
                f"region_domains[{region!r}]",
                "",
                "must be a tuple of domain ids, not a string",
                doms,
                f"write ({doms!r},)",
            )
            continue
        for d in doms:
            if d not in domains:
                add(
                    f"region_domains[{region!r}]",
                    "",
                    "domain has no unavailability",
                    d,
                    "add it to domain_unavailability or " + did_you_mean(d, domains),
                )
    for d, q in inp.domain_unavailability.items():
        if _bad_probability(q):
            add(f"domain_unavailability[{d!r}]", "", "must be a probability in [0, 1]", q)
    if _bad_probability(inp.front_door_unavailability):
        add(
            "front_door_unavailability",
            "",
            "must be a probability in [0, 1]",
            inp.front_door_unavailability,
        )

    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(seen)
    for i, edge in enumerate(inp.dependencies):
        try:
            caller, callee = edge
        except (TypeError, ValueError):
            add(f"dependencies[{i}]", "", "must be a (caller, callee) pair", edge)
            continue
        bad = [n for n in (caller, callee) if n not in seen]
        for n in bad:
            add(f"dependencies[{i}]", "", "names an unknown service", n, did_you_mean(n, seen))
        if not bad:
            graph.add_edge(caller, callee)

    if problems:
        raise AvailabilityInputError(problems)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
    raise AvailabilityInputError(
        [
            Problem(
                "",
                "dependencies",
                "",
                f"hard dependencies form a cycle: {path}",
                None,
                "hard dependencies must form a DAG; remove one edge of the cycle or make it a "
                "soft dependency",
            )
        ]
    )


@dataclass(frozen=True)
class _Compiled:
    """The plan reduced to arrays: what both the exact and the Monte Carlo engines consume."""

    names: tuple[str, ...]
    domains: tuple[str, ...]  # uncertain domains only (0 < q < 1), the ones to enumerate/sample
    q: FloatArray  # their probabilities of being down
    # Per service, per replica: indices into `domains` whose failure takes the replica's region
    # down, or None when the region is certainly down (it has a domain with q == 1).
    replica_domains: tuple[tuple[tuple[int, ...] | None, ...], ...]
    shares: tuple[FloatArray, ...]
    replica_u: tuple[FloatArray, ...]
    required: tuple[float, ...]
    closures: tuple[tuple[int, ...], ...]  # service index -> itself plus transitive callees
    front_door: float


def _compile(inp: AvailabilityInput) -> _Compiled:
    """Validate ``inp`` and reduce it to the arrays both engines use."""
    graph = _validate(inp)
    names = tuple(s.name for s in inp.services)
    index = {n: i for i, n in enumerate(names)}
    q_all = {d: float(q) for d, q in inp.domain_unavailability.items()}

    # Only domains of regions the plan uses matter, and of those only the uncertain ones
    # (0 < q < 1) of regions that are not certainly down: the rest need no enumeration, which
    # keeps D, and so 2^D, as small as the plan allows.
    used_regions = {r.region for s in inp.services for r in s.replicas}
    live = [
        inp.region_domains[r]
        for r in used_regions
        if not any(q_all[d] == 1.0 for d in inp.region_domains[r])
    ]
    used = sorted({d for doms in live for d in doms})
    uncertain = tuple(d for d in used if 0.0 < q_all[d] < 1.0)
    pos = {d: i for i, d in enumerate(uncertain)}

    replica_domains: list[tuple[tuple[int, ...] | None, ...]] = []
    for s in inp.services:
        per: list[tuple[int, ...] | None] = []
        for r in s.replicas:
            doms = inp.region_domains[r.region]
            if any(q_all[d] == 1.0 for d in doms):
                per.append(None)
            else:
                per.append(tuple(sorted(pos[d] for d in doms if d in pos)))
        replica_domains.append(tuple(per))

    closures = tuple(tuple(sorted(index[m] for m in {n} | nx.descendants(graph, n))) for n in names)
    return _Compiled(
        names=names,
        domains=uncertain,
        q=np.array([q_all[d] for d in uncertain], dtype=np.float64),
        replica_domains=tuple(replica_domains),
        shares=tuple(
            np.array([float(r.capacity_share) for r in s.replicas], dtype=np.float64)
            for s in inp.services
        ),
        replica_u=tuple(
            np.array([float(r.unavailability) for r in s.replicas], dtype=np.float64)
            for s in inp.services
        ),
        required=tuple(float(s.required_share) for s in inp.services),
        closures=closures,
        front_door=float(inp.front_door_unavailability),
    )


# --------------------------------------------------------------------------------------------
# Exact engine
# --------------------------------------------------------------------------------------------


def _service_down_table(shares: FloatArray, us: FloatArray, required: float) -> FloatArray:
    """``P(service down | which replicas' regions are up)`` for every up/down pattern of regions.

    Index ``M`` of the result is a bit pattern (bit ``i`` set = replica ``i``'s region is up).
    With ``T`` ranging over patterns of replicas actually up (``T subset of M``),

        P(down | M) = sum_T [sum_{i in T} c_i < k] * prod_i f_i(M_i, T_i),
        f_i(0, 0) = 1, f_i(0, 1) = 0, f_i(1, 0) = u_i, f_i(1, 1) = 1 - u_i,

    i.e. the Kronecker product ``(f_{m-1} x ... x f_0)`` applied to the shortfall indicator.
    We apply it one axis at a time (O(m 2^m)) instead of forming the 2^m x 2^m matrix. Summing
    the probabilities of the *down* outcomes (all terms non-negative) keeps tiny ``U`` exact.
    """
    m = len(shares)
    patterns = np.arange(1 << m, dtype=np.int64)
    up = ((patterns[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(np.float64)
    v = _shortfall(up @ shares, required).astype(np.float64).reshape((2,) * m)
    for i in range(m):
        f = np.array([[1.0, 0.0], [us[i], 1.0 - us[i]]], dtype=np.float64)
        axis = m - 1 - i  # C-order reshape puts bit 0 on the last axis
        v = np.moveaxis(np.tensordot(f, v, axes=([1], [axis])), 0, axis)
    return np.clip(v.reshape(-1), 0.0, 1.0)


def _state_probabilities(q: FloatArray) -> FloatArray:
    """``P(x)`` for every domain state ``x`` (bit ``j`` of the index set = domain ``j`` down).

    Built as the Kronecker product of ``[1 - q_j, q_j]``: each step doubles the vector, the new
    domain taking the highest bit. Products only, so tiny probabilities keep full precision.
    """
    p = np.ones(1, dtype=np.float64)
    for qj in q:
        p = np.concatenate([p * (1.0 - qj), p * qj])
    return p


def _log_survival(u: FloatArray) -> FloatArray:
    """``log(1 - u)`` elementwise, ``-inf`` where ``u == 1`` (without a divide warning)."""
    with np.errstate(divide="ignore"):
        return np.log1p(-u)


def exact_availability(
    inp: AvailabilityInput, *, max_domains: int = MAX_EXACT_DOMAINS
) -> AvailabilityResult:
    """Exact availability of a plan by enumerating the states of the domains it uses.

    Maths (see the module docstring for the model): for every domain state ``x``,

        U_s(x)     = table_s[pattern of replica regions up in x]   (see _service_down_table)
        U_core(x)  = 1 - prod_s (1 - U_s(x))
        U_eff,s(x) = 1 - prod_{t in closure(s)} (1 - U_t(x))

    and each reported quantity is ``sum_x P(x) * (.)(x)``; the app is the core in series with
    the front door. Products over services are valid because, given ``x``, different services'
    replicas fail independently; the sum over ``x`` is what makes services sharing a region or
    provider fail together.

    States are processed 2^16 at a time: the probability of a state factors into a low-bit vector
    (computed once) times a high-bit scalar, so memory stays flat and the work is vectorised.

    Raises:
        AvailabilityInputError: the input is inconsistent (lists every problem) or the
            dependencies form a cycle.
        TooManyDomainsError: the plan uses more than ``max_domains`` uncertain domains.
    """
    plan = _compile(inp)
    d = len(plan.domains)
    if d > max_domains:
        raise TooManyDomainsError(
            f"exact availability enumerates 2^D states of the failure domains a plan uses; this "
            f"plan uses D = {d} uncertain domains, above the limit of {max_domains}. Use "
            f"monte_carlo_availability(inp, samples=..., seed=...) instead, or merge domains that "
            f"always fail together."
        )
    too_wide = [
        n for n, s in zip(plan.names, plan.shares, strict=True) if len(s) > MAX_REPLICAS_PER_SERVICE
    ]
    if too_wide:
        raise TooManyDomainsError(
            f"exact availability supports at most {MAX_REPLICAS_PER_SERVICE} replicas per "
            f"service; {', '.join(too_wide)} have more. Use monte_carlo_availability instead."
        )

    tables = [
        _service_down_table(s, u, k)
        for s, u, k in zip(plan.shares, plan.replica_u, plan.required, strict=True)
    ]
    log_tables = [_log_survival(t) for t in tables]
    masks = [
        [None if doms is None else sum(1 << j for j in doms) for doms in svc]
        for svc in plan.replica_domains
    ]

    low_bits = min(d, _CHUNK_BITS)
    p_low = _state_probabilities(plan.q[:low_bits])
    q_high = plan.q[low_bits:]
    low_codes = np.arange(1 << low_bits, dtype=np.int64)
    n_svc = len(plan.names)
    own_parts: list[list[float]] = [[] for _ in range(n_svc)]
    eff_parts: list[list[float]] = [[] for _ in range(n_svc)]
    core_parts: list[float] = []
    # sum_x P(x) is 1 only up to round-off; dividing by it (accumulated by the very same
    # operations as the numerators) makes "down in every state" come out as exactly 1.
    total_parts: list[float] = []
    ones = np.ones(low_codes.shape, dtype=np.float64)

    for high in range(1 << (d - low_bits)):
        # P(x) = p_low[x_low] * p_high(x_high); the high part is one number per chunk.
        p_high = math.prod(
            float(qj) if (high >> j) & 1 else 1.0 - float(qj) for j, qj in enumerate(q_high)
        )
        weights = p_low * p_high
        total_parts.append(float(np.dot(weights, ones)))
        codes = (high << low_bits) | low_codes
        region_up: dict[int, BoolArray] = {}  # replicas sharing a region share its up-vector
        down: list[FloatArray] = []
        logs: list[FloatArray] = []
        for svc_masks, table, log_table in zip(masks, tables, log_tables, strict=True):
            pattern = np.zeros(codes.shape, dtype=np.int64)
            for i, mask in enumerate(svc_masks):
                if mask is None:
                    continue  # region certainly down: bit stays 0
                if mask not in region_up:
                    region_up[mask] = (codes & mask) == 0
                pattern |= region_up[mask].astype(np.int64) << i
            down.append(table[pattern])
            logs.append(log_table[pattern])
        for s in range(n_svc):
            own_parts[s].append(float(np.dot(weights, down[s])))
            closure = plan.closures[s]
            if len(closure) == 1:
                eff_parts[s].append(own_parts[s][-1])
            else:
                u_eff = -np.expm1(np.sum([logs[t] for t in closure], axis=0))
                eff_parts[s].append(float(np.dot(weights, u_eff)))
        u_core = -np.expm1(np.sum(logs, axis=0))
        core_parts.append(float(np.dot(weights, u_core)))

    total = math.fsum(total_parts)
    return _result(
        core=math.fsum(core_parts) / total,
        front_door=plan.front_door,
        own={n: math.fsum(own_parts[i]) / total for i, n in enumerate(plan.names)},
        effective={n: math.fsum(eff_parts[i]) / total for i, n in enumerate(plan.names)},
        method="exact",
        domains=d,
    )


# --------------------------------------------------------------------------------------------
# Monte Carlo cross-check
# --------------------------------------------------------------------------------------------


def _wilson(failures: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``failures / n``.

    ``centre = (p + z^2/2n) / (1 + z^2/n)``,
    ``half = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)``. Unlike the normal interval it stays
    inside [0, 1] and is not degenerate when no failure was observed, which is the usual case
    for highly available plans.
    """
    p = failures / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    return _clamp01(centre - half), _clamp01(centre + half)


def monte_carlo_availability(
    inp: AvailabilityInput,
    *,
    samples: int = 200_000,
    seed: int = 0,
    batch_size: int = 65_536,
) -> AvailabilityResult:
    """Estimate availability by sampling domain states and replica failures.

    Each sample draws every uncertain domain (down with ``q_f``), every replica component (down
    with ``u_i``) and the front door independently, then evaluates the same rules as the exact
    engine. ``U`` is the fraction of samples with the app down, with a 95 % Wilson interval.
    Samples are drawn from ``numpy.random.default_rng(seed)`` in batches of ``batch_size``, so a
    given ``(seed, samples, batch_size)`` always returns the same result.

    Use it for plans with more than ``MAX_EXACT_DOMAINS`` domains, and as an independent check of
    :func:`exact_availability`. Note that unavailabilities far below ``1 / samples`` are not
    resolved (the estimate is then usually 0, with the interval giving an upper bound).
    """
    if isinstance(samples, bool) or int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    plan = _compile(inp)
    rng = np.random.default_rng(seed)
    n_svc = len(plan.names)
    own_down = [0] * n_svc
    eff_down = [0] * n_svc
    core_down = 0
    app_down = 0

    done = 0
    while done < samples:
        n = min(int(batch_size), int(samples) - done)
        dom_down = rng.random((n, len(plan.domains))) < plan.q
        region_up: dict[tuple[int, ...], BoolArray] = {}
        svc_up: list[BoolArray] = []
        for s in range(n_svc):
            capacity = np.zeros(n, dtype=np.float64)
            comp_up = rng.random((n, len(plan.shares[s]))) >= plan.replica_u[s]
            for i, doms in enumerate(plan.replica_domains[s]):
                if doms is None:
                    continue
                if doms not in region_up:
                    # numpy's stubs type .any(axis=1) as a scalar or an array: here it is an array
                    region_up[doms] = ~cast(BoolArray, dom_down[:, list(doms)].any(axis=1))
                capacity += plan.shares[s][i] * (region_up[doms] & comp_up[:, i])
            svc_up.append(~_shortfall(capacity, plan.required[s]))
        for s in range(n_svc):
            own_down[s] += int(np.count_nonzero(~svc_up[s]))
            eff = np.logical_and.reduce([svc_up[t] for t in plan.closures[s]])
            eff_down[s] += int(np.count_nonzero(~eff))
        core_up = np.logical_and.reduce(svc_up)
        front_up = rng.random(n) >= plan.front_door
        core_down += int(np.count_nonzero(~core_up))
        app_down += int(np.count_nonzero(~(core_up & front_up)))
        done += n

    total = int(samples)
    return _result(
        core=core_down / total,
        front_door=plan.front_door,
        own={nm: own_down[i] / total for i, nm in enumerate(plan.names)},
        effective={nm: eff_down[i] / total for i, nm in enumerate(plan.names)},
        method="monte_carlo",
        domains=len(plan.domains),
        samples=total,
        interval=_wilson(app_down, total),
        app=app_down / total,
    )
