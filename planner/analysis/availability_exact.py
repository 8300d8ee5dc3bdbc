"""The exact availability engine: enumerate the joint states of the failure domains a plan uses.

Takes an :class:`~.availability_layout.AvailabilityInput` and returns an
:class:`~.availability_layout.AvailabilityResult` whose numbers are exact (up to round-off) under
the model of :mod:`planner.analysis.availability`. It exists because services sharing a region or
a provider do not fail independently: conditioning on every domain's up/down state makes the
remaining randomness independent, so each state's probabilities are exact products, and summing
over the ``2^D`` states gives the answer without any independence assumption between services.

The cost is ``2^D`` states, so the engine refuses plans with more than ``MAX_EXACT_DOMAINS``
uncertain domains (:class:`TooManyDomainsError`); Monte Carlo handles those.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from planner.errors import PlannerError

from .availability_compile import (
    BoolArray,
    CompiledInput,
    FloatArray,
    below_required,
    compile_input,
)
from .availability_layout import AvailabilityInput, AvailabilityResult, make_result

MAX_EXACT_DOMAINS = 22
"""Most uncertain failure domains :func:`exact_availability` will enumerate (2^22 states)."""

MAX_REPLICAS_PER_SERVICE = 16
"""Largest replica count per service for the exact engine (its per-service table has 2^m rows)."""
_CHUNK_BITS = 16  # enumerate domain states 2^16 at a time so memory stays flat up to 2^22 states


class TooManyDomainsError(PlannerError, ValueError):
    """Exact enumeration would need more than ``2^MAX_EXACT_DOMAINS`` domain states."""

    exit_code = 2


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
    v = below_required(up @ shares, required).astype(np.float64).reshape((2,) * m)
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


@dataclass(frozen=True)
class _ServiceTables:
    """Per service, what every domain state reads: ``P(down | regions up)`` by pattern, its
    ``log(1 - .)``, and for each replica the bit mask of the domains that take its region down
    (None: the region is certainly down)."""

    down: list[FloatArray]
    log_up: list[FloatArray]
    masks: list[list[int | None]]

    @classmethod
    def of(cls, plan: CompiledInput) -> _ServiceTables:
        down = [
            _service_down_table(s, u, k)
            for s, u, k in zip(plan.shares, plan.replica_u, plan.required, strict=True)
        ]
        masks = [
            [None if doms is None else sum(1 << j for j in doms) for doms in svc]
            for svc in plan.replica_domains
        ]
        return cls(down, [_log_survival(t) for t in down], masks)


@dataclass
class _Sums:
    """Per-chunk partial sums of ``P(x) * (.)(x)``, added with ``math.fsum`` at the end."""

    own: list[list[float]]  # per service
    effective: list[list[float]]  # per service
    core: list[float] = field(default_factory=list)
    # sum_x P(x) is 1 only up to round-off; dividing by it (accumulated by the very same
    # operations as the numerators) makes "down in every state" come out as exactly 1.
    total: list[float] = field(default_factory=list)


def _check_size(plan: CompiledInput, max_domains: int) -> None:
    """Refuse a plan whose enumeration would not fit, pointing to Monte Carlo."""
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


def _add_chunk(
    plan: CompiledInput,
    tables: _ServiceTables,
    codes: npt.NDArray[np.int64],
    weights: FloatArray,
    sums: _Sums,
) -> None:
    """Add one chunk of domain states (`codes`, bit ``j`` set = domain ``j`` down) with their
    probabilities `weights` to `sums`."""
    region_up: dict[int, BoolArray] = {}  # replicas sharing a region share its up-vector
    down: list[FloatArray] = []
    logs: list[FloatArray] = []
    for svc_masks, table, log_table in zip(tables.masks, tables.down, tables.log_up, strict=True):
        pattern = np.zeros(codes.shape, dtype=np.int64)
        for i, mask in enumerate(svc_masks):
            if mask is None:
                continue  # region certainly down: bit stays 0
            if mask not in region_up:
                region_up[mask] = (codes & mask) == 0
            pattern |= region_up[mask].astype(np.int64) << i
        down.append(table[pattern])
        logs.append(log_table[pattern])
    for s in range(len(plan.names)):
        sums.own[s].append(float(np.dot(weights, down[s])))
        closure = plan.closures[s]
        if len(closure) == 1:
            sums.effective[s].append(sums.own[s][-1])
        else:
            u_eff = -np.expm1(np.sum([logs[t] for t in closure], axis=0))
            sums.effective[s].append(float(np.dot(weights, u_eff)))
    u_core = -np.expm1(np.sum(logs, axis=0))
    sums.core.append(float(np.dot(weights, u_core)))


def exact_availability(
    inp: AvailabilityInput, *, max_domains: int = MAX_EXACT_DOMAINS
) -> AvailabilityResult:
    """Exact availability of a plan by enumerating the states of the domains it uses.

    Maths (see :mod:`planner.analysis.availability` for the model): for every domain state ``x``,

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
    plan = compile_input(inp)
    _check_size(plan, max_domains)
    d = len(plan.domains)
    tables = _ServiceTables.of(plan)

    low_bits = min(d, _CHUNK_BITS)
    p_low = _state_probabilities(plan.q[:low_bits])
    q_high = plan.q[low_bits:]
    low_codes = np.arange(1 << low_bits, dtype=np.int64)
    n_svc = len(plan.names)
    sums = _Sums(own=[[] for _ in range(n_svc)], effective=[[] for _ in range(n_svc)])
    ones = np.ones(low_codes.shape, dtype=np.float64)
    for high in range(1 << (d - low_bits)):
        # P(x) = p_low[x_low] * p_high(x_high); the high part is one number per chunk.
        p_high = math.prod(
            float(qj) if (high >> j) & 1 else 1.0 - float(qj) for j, qj in enumerate(q_high)
        )
        weights = p_low * p_high
        sums.total.append(float(np.dot(weights, ones)))
        _add_chunk(plan, tables, (high << low_bits) | low_codes, weights, sums)

    total = math.fsum(sums.total)
    return make_result(
        core=math.fsum(sums.core) / total,
        front_door=plan.front_door,
        own={n: math.fsum(sums.own[i]) / total for i, n in enumerate(plan.names)},
        effective={n: math.fsum(sums.effective[i]) / total for i, n in enumerate(plan.names)},
        method="exact",
        domains=d,
    )
