"""HiGHS sets up one task scheduler per process, with the thread count of its first run, and fails
a later run that asks for another count (model status 'not set'). The bill's traffic LP ran with
HiGHS's own default count before any plan's MIP, so every later solve of a plan with several user
groups failed: the seating seated nothing and the 200-service users benchmark had no plan. Each
case runs in a fresh interpreter, where the scheduler is not yet set up."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import pulp
from planner.solve import SolverOptions, get_backend
from planner.traffic import _transport

def mip(threads):
    prob = pulp.LpProblem("t", pulp.LpMinimize)
    x = pulp.LpVariable("x", 0, 10, cat="Integer")
    y = pulp.LpVariable("y", 0, 10, cat="Integer")
    prob += 3 * x + 2 * y
    prob += x + 2 * y >= 3
    return get_backend("highs").solve(prob, SolverOptions("highs", 10.0, 0.0, threads))

groups = [("seoul", 60.0, {"a", "b"}), ("tokyo", 40.0, {"b", "c"})]
flows = _transport(groups, {"a": 50.0, "b": 50.0, "c": 50.0}, {"a": 0.09, "b": 0.08, "c": 0.12})
assert abs(sum(flows.values()) - 100.0) < 1e-6, flows
for threads in THREADS:
    result = mip(threads)
    assert result.status.value == "optimal" and abs(result.objective - 4.0) < 1e-9, result
print("ok")
"""


@pytest.mark.parametrize("threads", [[1], [2], [1, 2, 1]])
def test_a_solve_after_the_traffic_lp_gets_an_answer(threads: list[int]) -> None:
    code = SCRIPT.replace("THREADS", repr(threads))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
