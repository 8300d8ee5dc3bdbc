"""The Monte Carlo availability engine: sample domain states and replica failures.

Takes an :class:`~.availability_layout.AvailabilityInput` and returns an
:class:`~.availability_layout.AvailabilityResult` with the estimated unavailability and a 95 %
Wilson interval. It exists for two reasons: plans with more uncertain failure domains than the
exact engine can enumerate, and an independent cross-check of the exact engine (the same rules,
evaluated by drawing outcomes instead of summing over them). A given ``(seed, samples,
batch_size)`` always gives the same result.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from .availability_compile import BoolArray, below_required, compile_input
from .availability_formulas import clamp01
from .availability_layout import AvailabilityInput, AvailabilityResult, make_result

_Z95 = 1.959963984540054  # standard normal quantile for a two-sided 95 % interval


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
    return clamp01(centre - half), clamp01(centre + half)


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
    plan = compile_input(inp)
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
            svc_up.append(~below_required(capacity, plan.required[s]))
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
    return make_result(
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
