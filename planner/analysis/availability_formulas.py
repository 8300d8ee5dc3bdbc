"""Closed-form availability formulas (reference/reliability.md section 3), pure functions on floats.

They take component unavailabilities ``U = 1 - A`` (or an SLA percentage, or an outage history)
and return one unavailability or a downtime figure; nothing here knows about plans. They exist on
their own because they are the textbook reference the plan engine is checked against (the engine
must agree with F2, F3 and F4 on the layouts they describe), and the downtime conversions are
what every report prints.

  - F1 series (hard dependencies), :func:`series_unavailability`;
  - F2 parallel (any one suffices), :func:`parallel_unavailability`;
  - F3 k-of-n with unequal components, :func:`k_of_n_unavailability`;
  - F4 beta-factor common cause, :func:`beta_parallel_unavailability`;
  - F7 downtime conversion, :func:`minutes_per_month`, :func:`minutes_per_year`;
  - SLA and outage-history conversions.

Everything works in unavailability, not availability: five nines is ``U = 1e-5``, whose digits
survive, while ``1 - 0.99999`` loses most of them. Products of ``(1 - U_i)`` are taken in log
space and every probability returned is clamped to ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

MINUTES_PER_MONTH = 43_200.0  # 30 days, the convention of provider SLAs and reliability.md F7
MINUTES_PER_YEAR = 525_600.0  # 365 days
HOURS_PER_YEAR = 8_760.0  # 365 days, consistent with MINUTES_PER_YEAR


def checked_probability(value: float, what: str = "unavailability") -> float:
    """Return ``value`` as a float after checking it is a probability (NaN is rejected too)."""
    v = float(value)
    if not 0.0 <= v <= 1.0:  # written this way so NaN fails the check
        raise ValueError(f"{what} must be a probability in [0, 1], got {value!r}")
    return v


def clamp01(x: float) -> float:
    """Clamp round-off excursions back into [0, 1]."""
    return min(1.0, max(0.0, x))


def series_unavailability(us: Iterable[float]) -> float:
    """F1, components in series (all must be up).

    ``A = prod A_i``, so ``U = 1 - prod(1 - U_i) = -expm1(sum_i log1p(-U_i))``.

    The log form keeps full relative precision when every ``U_i`` is tiny: ``1 - prod(...)``
    would cancel, whereas ``log1p``/``expm1`` are accurate near zero. An empty chain is always up
    (``U = 0``); any certainly-down component makes the chain certainly down.
    """
    vals = [checked_probability(u) for u in us]
    if any(u == 1.0 for u in vals):
        return 1.0  # log1p(-1) is -inf; the answer is exact anyway
    return clamp01(-math.expm1(math.fsum(math.log1p(-u) for u in vals)))


def parallel_unavailability(us: Iterable[float]) -> float:
    """F2, independent redundant components, any one suffices.

    ``A = 1 - prod(1 - A_i)``, i.e. ``U = prod U_i``; ``n`` identical components give ``U^n``.
    Computed directly on unavailabilities, so two components at ``1e-6`` give ``1e-12`` to full
    precision. An empty set of components is never up (``U = 1``, the empty product).
    """
    return clamp01(math.prod(checked_probability(u) for u in us))


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
    vals = [checked_probability(u) for u in us]
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
    return clamp01(math.fsum(dist))


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
    u = checked_probability(u)
    beta = checked_probability(beta, "beta")
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    common = beta * u
    independent = ((1.0 - beta) * u) ** int(n)
    if exact:
        return series_unavailability([common, independent])
    return clamp01(common + independent)


def minutes_per_month(u: float) -> float:
    """F7, expected downtime per 30-day month: ``U * 43 200`` minutes."""
    return checked_probability(u) * MINUTES_PER_MONTH


def minutes_per_year(u: float) -> float:
    """F7, expected downtime per 365-day year: ``U * 525 600`` minutes."""
    return checked_probability(u) * MINUTES_PER_YEAR


def sla_to_unavailability(sla_pct: float) -> float:
    """Unavailability promised by an SLA given in percent: ``U = (100 - SLA) / 100``.

    The subtraction is done in decimal on the number's shortest repr, so ``99.99`` gives exactly
    the float nearest ``1e-4`` (binary ``100 - 99.99`` would carry 99.99's representation error
    into the fifth significant digit of ``U``).
    """
    v = float(sla_pct)
    if not 0.0 <= v <= 100.0:
        raise ValueError(f"an SLA must be a percentage in [0, 100], got {sla_pct!r}")
    return clamp01(float((Decimal(100) - Decimal(repr(v))) / Decimal(100)))


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
    return clamp01(hours / observed)
