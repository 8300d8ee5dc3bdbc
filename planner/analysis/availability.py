"""Availability of a plan: closed-form formulas and an exact engine over failure domains.

This is the front module: import from here. The work is done in

==============================  ================================================================
``availability_formulas``       F1-F4 and F7 on floats, SLA and outage-history conversions
``availability_layout``         the engines' input (:class:`AvailabilityInput`), their result,
                                common-cause groups written as failure domains
``availability_compile``        validation of an input (every problem listed) and its reduction
                                to the arrays both engines evaluate
``availability_exact``          :func:`exact_availability`, enumeration of domain states
``availability_monte_carlo``    :func:`monte_carlo_availability`, the sampled cross-check
``plan_availability``           a planner Plan turned into an :class:`AvailabilityInput`
==============================  ================================================================

Everything works in **unavailability** ``U = 1 - A`` rather than availability. A plan with
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

from .availability_compile import AvailabilityInputError
from .availability_exact import (
    MAX_EXACT_DOMAINS,
    MAX_REPLICAS_PER_SERVICE,
    TooManyDomainsError,
    exact_availability,
)
from .availability_formulas import (
    HOURS_PER_YEAR,
    MINUTES_PER_MONTH,
    MINUTES_PER_YEAR,
    beta_parallel_unavailability,
    domain_unavailability_from_history,
    domain_unavailability_from_sla,
    k_of_n_unavailability,
    minutes_per_month,
    minutes_per_year,
    parallel_unavailability,
    series_unavailability,
    sla_to_unavailability,
)
from .availability_layout import (
    AvailabilityInput,
    AvailabilityResult,
    CommonCauseDomains,
    Replica,
    ServiceLayout,
    common_cause_domains,
)
from .availability_monte_carlo import monte_carlo_availability

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
