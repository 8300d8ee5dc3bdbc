"""Every variable of a model has a name of its own: the solver back-end finds a variable's column
by its name, so two variables of one name would be solved as one."""

from __future__ import annotations

from collections import Counter

import pulp

from planner.catalog import Catalog
from planner.model.build import BuildOptions, ModelBuilder
from planner.model.candidates import Scenario, build_candidates
from planner.spec import load_spec
from tests.conftest import EXAMPLES


def test_variables_made_late_never_take_a_name_made_early(catalog: Catalog) -> None:
    """A caller's 'still runs after a zone failure' binary is made while the dependency rows are
    built, after the backup copies' binaries: it was named `b_k` like them (and a single writer's
    'uses a single-writer offering' binary `w_k` like the providers' binaries)."""
    cands = build_candidates(load_spec(EXAMPLES / "kr-ecommerce.yaml"), catalog)
    builder = ModelBuilder(cands, catalog, BuildOptions(couple=True))
    built = builder.build()
    assert built.b  # the example keeps backup copies
    (s, r), _ = next(iter(builder.running_cells.items()))
    zone = Scenario(f"zone:{r}", "zone", frozenset(), zone_of=r)
    late = builder.still_runs_after(s, r, zone)
    assert late.name not in {v.name for v in built.b.values()}
    builder.prob.addConstraint(
        pulp.LpConstraint(pulp.LpAffineExpression([(late, 1.0)]), pulp.LpConstraintLE, "t", 1.0)
    )
    names = Counter(v.name for v in builder.prob.variables())
    assert [n for n, k in names.items() if k > 1] == []
