"""Check an availability input and reduce it to the arrays both engines evaluate.

Takes an :class:`~.availability_layout.AvailabilityInput`; :func:`compile_input` returns a
:class:`CompiledInput` (the uncertain failure domains with their probabilities, for each replica
the domains that take it down, shares, required shares and each service's dependency closure) or
raises :class:`AvailabilityInputError` listing every problem of the input at once, each with how
to fix it. Both engines start here, so an input the exact engine accepts is one Monte Carlo
accepts too, and neither has to guard against malformed data while it computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt

from planner.errors import InputError, Problem, did_you_mean

from .availability_layout import AvailabilityInput

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class AvailabilityInputError(InputError):
    """The availability input is inconsistent; lists every problem with how to fix it."""

    kind = "availability input"


def below_required(share_sum: npt.ArrayLike, required: float) -> BoolArray:
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


def _problem(where: str, field: str, message: str, value: object = None, fix: str = "") -> Problem:
    return Problem("", where, field, message, value, fix)


def _service_problems(inp: AvailabilityInput) -> tuple[list[Problem], set[str]]:
    """Problems of the services and their replicas, and the set of service names."""
    problems: list[Problem] = []
    add = problems.append
    names = [s.name for s in inp.services]
    if not names:
        add(
            _problem(
                "services", "", "the plan has no services", fix="add at least one ServiceLayout"
            )
        )
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            add(
                _problem(
                    f"services[{i}]",
                    "name",
                    "duplicate service name",
                    name,
                    "give each a unique name",
                )
            )
        seen.add(name)

    regions = set(inp.region_domains)
    for i, svc in enumerate(inp.services):
        where = f"services[{i}] ({svc.name})"
        req = _as_number(svc.required_share)
        if req is None or req <= 0:
            add(_problem(where, "required_share", "must be a positive number", svc.required_share))
        if not svc.replicas:
            add(
                _problem(
                    where,
                    "replicas",
                    "a service needs at least one replica",
                    fix="place it somewhere",
                )
            )
        for j, rep in enumerate(svc.replicas):
            rw = f"{where}.replicas[{j}]"
            if rep.region not in regions:
                add(
                    _problem(
                        rw,
                        "region",
                        "region has no failure domains listed",
                        rep.region,
                        "add it to region_domains or " + did_you_mean(rep.region, regions),
                    )
                )
            share = _as_number(rep.capacity_share)
            if share is None or share < 0:
                add(
                    _problem(
                        rw, "capacity_share", "must be a non-negative number", rep.capacity_share
                    )
                )
            if _bad_probability(rep.unavailability):
                add(
                    _problem(
                        rw, "unavailability", "must be a probability in [0, 1]", rep.unavailability
                    )
                )
    return problems, seen


def _domain_problems(inp: AvailabilityInput) -> list[Problem]:
    """Problems of the failure domains of the regions in use, their probabilities and the front
    door's."""
    problems: list[Problem] = []
    add = problems.append
    regions = set(inp.region_domains)
    domains = set(inp.domain_unavailability)
    used_regions = {r.region for s in inp.services for r in s.replicas} & regions
    for region in sorted(used_regions):
        doms = inp.region_domains[region]
        where = f"region_domains[{region!r}]"
        if isinstance(doms, str):
            add(
                _problem(
                    where,
                    "",
                    "must be a tuple of domain ids, not a string",
                    doms,
                    f"write ({doms!r},)",
                )
            )
            continue
        for d in doms:
            if d not in domains:
                add(
                    _problem(
                        where,
                        "",
                        "domain has no unavailability",
                        d,
                        "add it to domain_unavailability or " + did_you_mean(d, domains),
                    )
                )
    for d, q in inp.domain_unavailability.items():
        if _bad_probability(q):
            add(_problem(f"domain_unavailability[{d!r}]", "", "must be a probability in [0, 1]", q))
    if _bad_probability(inp.front_door_unavailability):
        add(
            _problem(
                "front_door_unavailability",
                "",
                "must be a probability in [0, 1]",
                inp.front_door_unavailability,
            )
        )
    return problems


def _dependency_graph(inp: AvailabilityInput, seen: set[str]) -> tuple[nx.DiGraph, list[Problem]]:
    """The hard dependencies between the services named in `seen`, and the malformed ones."""
    problems: list[Problem] = []
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(seen)
    for i, edge in enumerate(inp.dependencies):
        try:
            caller, callee = edge
        except (TypeError, ValueError):
            problems.append(
                _problem(f"dependencies[{i}]", "", "must be a (caller, callee) pair", edge)
            )
            continue
        bad = [n for n in (caller, callee) if n not in seen]
        for n in bad:
            problems.append(
                _problem(
                    f"dependencies[{i}]", "", "names an unknown service", n, did_you_mean(n, seen)
                )
            )
        if not bad:
            graph.add_edge(caller, callee)
    return graph, problems


def _validate(inp: AvailabilityInput) -> nx.DiGraph:
    """Check the whole input, raise one error listing every problem; return the dependency DAG."""
    problems, seen = _service_problems(inp)
    problems += _domain_problems(inp)
    graph, dependency_problems = _dependency_graph(inp, seen)
    problems += dependency_problems
    if problems:
        raise AvailabilityInputError(problems)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
    raise AvailabilityInputError(
        [
            _problem(
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
class CompiledInput:
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


def compile_input(inp: AvailabilityInput) -> CompiledInput:
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
    return CompiledInput(
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
