"""Between a built model and plain numbers: what a solved model chose, and a known plan as a start.

Takes a `BuiltModel` (from `build_model`) whose variables hold the solver's values, and returns
unit counts by candidates row and a strategy per service: the numbers every stage of planning
passes on, merges and compares, free of PuLP. The other way, `warm_start` turns a plan into
values for the model's variables, a partial MIP start. These read the model's variable layout
(`n`, `u`, `z`), so they live next to the builder that defines it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .build import BuiltModel

if TYPE_CHECKING:
    from ..plan import Plan


def units_of(built: BuiltModel) -> dict[int, int]:
    """Candidates row -> units the solution buys there (rows it buys none of are left out)."""
    return {
        i: int(round(v.varValue or 0.0)) for i, v in built.n.items() if round(v.varValue or 0.0) > 0
    }


def strategies_of(built: BuiltModel) -> dict[str, str]:
    """Service -> the disaster-recovery strategy the solution chose (the only one, when fixed)."""
    out = {}
    for s, options in built.cands.strategies.items():
        if len(options) == 1:
            out[s] = options[0].name
        else:
            out[s] = max(options, key=lambda o: built.z[(s, o.name)].varValue or 0.0).name
    return out


def warm_start(built: BuiltModel, plan: Plan) -> tuple[tuple[str, float], ...]:
    """Unit counts, presences and strategies of a known plan, as a partial MIP start."""
    units = plan.placements.groupby(["service", "offering", "role"])["units"].sum()
    off = built.cands.offers
    start: list[tuple[str, float]] = []
    for i, var in built.n.items():
        key = (
            off.at[i, "service"],
            off.at[i, "offering"],
            "backup" if off.at[i, "role"] == "backup" else None,
        )
        n = 0.0
        # a plan shows primary rows by display role (primary, active, standby); the model has one
        for role in ("backup",) if key[2] else ("primary", "active", "standby"):
            n += float(units.get((key[0], key[1], role), 0.0))
        start.append((var.name, n))
    present = set(zip(plan.placements["service"], plan.placements["region"], strict=True))
    start += [(u.name, 1.0 if key in present else 0.0) for key, u in built.u.items()]
    start += [
        (z.name, 1.0 if plan.strategies.get(s) == name else 0.0) for (s, name), z in built.z.items()
    ]
    return tuple(start)
