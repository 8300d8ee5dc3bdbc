"""Solver back-ends behind one small interface, with our own status enum.

The model is written in PuLP (the modelling layer the code reads as). `HighsBackend` hands it to
HiGHS through highspy in one `passModel` call from sparse arrays: PuLP's own HiGHS bridge adds rows
one Python call at a time, measured 15x slower on large models. `CbcBackend` uses PuLP's bundled CBC
as the fallback. Both are checked the same way afterwards: we never trust a status alone; the
returned values must satisfy every row and bound (`check_solution`), or the result is INVALID.
"""

from __future__ import annotations

import enum
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pulp

if TYPE_CHECKING:  # highspy is imported when HiGHS is used, not when this module is
    import highspy

FEAS_TOL = 1e-6
INT_TOL = 1e-5
GUARD_SLACK_S = 1.0  # how long past its time limit a HiGHS run may go before it is interrupted


class SolveStatus(enum.Enum):
    OPTIMAL = "optimal"  # proven within the requested gap
    FEASIBLE = "feasible"  # a plan, not proven (time limit); gap says how far it may be
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"  # limits reached before any plan was found
    INVALID = "invalid_solver_result"  # the solver claimed a plan that does not satisfy the model
    ERROR = "error"

    @property
    def has_plan(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class SolverOptions:
    solver: str = "highs"  # highs | cbc
    time_limit: float = 60.0  # seconds, enforced by the solver and by our own wall-clock guard
    gap: float = 0.005  # relative MIP gap at which to stop
    threads: int = 1
    msg: bool = False
    relax: bool = False  # solve the LP relaxation (integrality dropped): a valid lower bound
    start: tuple[tuple[str, float], ...] = ()  # (variable name, value): a partial MIP start
    stop_at: float | None = (
        None  # stop once a plan this cheap is found (an outside bound proves it)
    )
    small_model: bool = (
        False  # HiGHS settings measured faster on many small models (SMALL_MODEL_HIGHS)
    )
    # Branch-and-bound nodes after which to stop: a limit on work, not on time, so the answer is
    # the same whatever the machine's load (the time limit is then only a safety net).
    node_limit: int | None = None


# For the many small stand-alone service models (tens to a few hundred integer columns): no restart
# after root fixings, a one-cut pool and no RINS/RENS sub-MIPs. On the 200-service benchmark's 200
# service models this took the HiGHS time from 15.7 s to 6.5 s with the same plans and bounds
# (docs/benchmarks.md, third session); restarts and sub-MIPs are what pays off on large models.
SMALL_MODEL_HIGHS = {
    "mip_allow_restart": False,
    "mip_pool_soft_limit": 1,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
}


@dataclass
class SolveResult:
    status: SolveStatus
    objective: float | None = None
    bound: float | None = None  # proven lower bound on the objective (minimisation), if known
    seconds: float = 0.0
    solver: str = ""
    detail: str = ""
    values: dict[str, float] = field(default_factory=dict, repr=False)
    # stopped by the wall clock (the time limit or the guard), so the answer depends on how fast
    # the machine ran; a node limit or a proof gives the same answer on any machine
    clock_cut: bool = False

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if abs(self.objective) < 1e-9:
            return 0.0 if abs(self.bound) < 1e-9 else None
        return max(0.0, (self.objective - self.bound) / abs(self.objective))


class Backend(Protocol):
    name: str

    def solve(self, prob: pulp.LpProblem, options: SolverOptions) -> SolveResult: ...


# ------------------------------------------------------------------ matrix form of a PuLP problem
@dataclass
class MatrixForm:
    variables: list[pulp.LpVariable]
    cost: np.ndarray
    offset: float
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray
    starts: np.ndarray  # CSR by row
    index: np.ndarray
    value: np.ndarray
    row_names: list[str]


def to_matrix(prob: pulp.LpProblem) -> MatrixForm:
    """One pass over PuLP's expressions into CSR arrays (no per-row solver calls)."""
    variables = prob.variables()
    col = {v.name: j for j, v in enumerate(variables)}
    n = len(variables)
    cost = np.zeros(n)
    obj = prob.objective if prob.objective is not None else pulp.LpAffineExpression()
    for v, c in obj.items():
        cost[col[v.name]] = c
    offset = float(obj.constant)
    inf = math.inf
    col_lo = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], dtype=float)
    col_hi = np.array([inf if v.upBound is None else v.upBound for v in variables], dtype=float)
    integer = np.array([v.cat == pulp.LpInteger for v in variables], dtype=bool)
    m = len(prob.constraints)
    row_lo, row_hi = np.full(m, -inf), np.full(m, inf)
    starts = np.zeros(m + 1, dtype=np.int64)
    idx: list[int] = []
    val: list[float] = []
    names = []
    for i, (name, con) in enumerate(prob.constraints.items()):
        names.append(name)
        rhs = -con.constant
        if con.sense == pulp.LpConstraintGE:
            row_lo[i] = rhs
        elif con.sense == pulp.LpConstraintLE:
            row_hi[i] = rhs
        else:
            row_lo[i] = row_hi[i] = rhs
        for v, c in con.items():
            idx.append(col[v.name])
            val.append(c)
        starts[i + 1] = len(idx)
    index = np.asarray(idx, dtype=np.int64)
    value = np.asarray(val, dtype=float)
    # each row's terms by column: an expression's order can follow a set's, which changes between
    # interpreters (hash seeds), and the solver's path may depend on it
    order = np.lexsort((index, np.repeat(np.arange(m), np.diff(starts))))
    return MatrixForm(
        variables,
        cost,
        offset,
        col_lo,
        col_hi,
        integer,
        row_lo,
        row_hi,
        starts,
        index[order],
        value[order],
        names,
    )


def check_solution(mf: MatrixForm, x: np.ndarray) -> str:
    """'' when x satisfies every bound, integrality and row of the model; else what is violated."""
    if x.shape != mf.cost.shape or not np.all(np.isfinite(x)):
        return "the solution vector is missing or not finite"
    scale = 1.0 + np.abs(x)
    if np.any(x < mf.col_lo - FEAS_TOL * scale) or np.any(x > mf.col_hi + FEAS_TOL * scale):
        j = int(np.argmax((mf.col_lo - x) + (x - mf.col_hi)))
        return f"variable {mf.variables[j].name} = {x[j]:g} is outside its bounds"
    frac = np.abs(x - np.round(x))
    if np.any(mf.integer & (frac > INT_TOL)):
        j = int(np.argmax(np.where(mf.integer, frac, 0)))
        return f"integer variable {mf.variables[j].name} = {x[j]:g} is fractional"
    if len(mf.row_lo):
        rows = np.repeat(np.arange(len(mf.row_lo)), np.diff(mf.starts))
        terms = mf.value * x[mf.index]
        activity = np.bincount(rows, weights=terms, minlength=len(mf.row_lo))
        # relative to the size of the row's terms: large coefficients carry proportionate round-off
        magnitude = np.bincount(rows, weights=np.abs(terms), minlength=len(mf.row_lo))
        tol = FEAS_TOL * (1.0 + np.maximum(np.abs(activity), magnitude))
        bad = (activity < mf.row_lo - tol) | (activity > mf.row_hi + tol)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            return (
                f"row {mf.row_names[i]} is violated: activity {activity[i]:g} not in "
                f"[{mf.row_lo[i]:g}, {mf.row_hi[i]:g}]"
            )
    return ""


def _relaxed(mf: MatrixForm) -> MatrixForm:
    from dataclasses import replace

    return replace(mf, integer=np.zeros_like(mf.integer))


def _assign(mf: MatrixForm, x: np.ndarray) -> dict[str, float]:
    for v, val in zip(mf.variables, x, strict=True):
        v.varValue = float(val)
    return {v.name: float(val) for v, val in zip(mf.variables, x, strict=True)}


# ------------------------------------------------------------------ HiGHS
_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A Highs instance; the first one per process prints a banner on C stdout, which would
    corrupt JSON output, so it is created with file descriptor 1 pointed at /dev/null."""
    import os
    import sys

    import highspy

    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    _banner_shown = True
    return h


class HighsBackend:
    name = "highs"

    def solve(self, prob: pulp.LpProblem, options: SolverOptions) -> SolveResult:
        """Configure HiGHS, pass the model and any start, run under a wall-clock guard, and
        read the answer back (each step its own function below)."""
        start = time.perf_counter()
        mf = to_matrix(prob)
        h = _new_highs()
        _configure(h, options)
        lp = _highs_lp(mf, options)
        if lp.num_col_ == 0:
            return SolveResult(SolveStatus.OPTIMAL, mf.offset, mf.offset, 0.0, self.name)
        h.passModel(lp)
        _set_start_and_target(h, mf, options)
        # cancelSolve only stops a run that checks for user interrupts (highspy's interrupt
        # callbacks; measured: no slower on a 40-service model stopped at 300 nodes, 84-88 s)
        h.HandleUserInterrupt = True
        # HiGHS has been measured running far past time_limit on large MILPs: guard the wall clock
        # (cancelSolve interrupts it at its next check, well within a second on our models).
        fired = threading.Event()

        def cancel() -> None:
            fired.set()
            h.cancelSolve()

        guard = threading.Timer(options.time_limit + GUARD_SLACK_S, cancel)
        guard.daemon = True
        guard.start()
        try:
            h.run()
        finally:
            guard.cancel()
        return self._answer(h, mf, options, start, fired.is_set())

    def _answer(
        self,
        h: highspy.Highs,
        mf: MatrixForm,
        options: SolverOptions,
        start: float,
        guard_fired: bool = False,
    ) -> SolveResult:
        """What HiGHS found, checked against the model: a plan, a bound, or why there is none."""
        import highspy

        model_status = h.getModelStatus()
        info = h.getInfo()
        ms = highspy.HighsModelStatus
        result = self._read(h, mf, options, start, model_status, info, guard_fired)
        # an interrupt that is not our target is the wall-clock guard
        result.clock_cut = (
            model_status == ms.kTimeLimit
            or guard_fired
            or (model_status == ms.kInterrupt and result.detail != "target reached")
        )
        return result

    def _read(
        self,
        h: highspy.Highs,
        mf: MatrixForm,
        options: SolverOptions,
        start: float,
        model_status: highspy.HighsModelStatus,
        info: highspy.HighsInfo,
        guard_fired: bool = False,
    ) -> SolveResult:
        import highspy

        seconds = time.perf_counter() - start
        ms = highspy.HighsModelStatus
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if model_status == ms.kInfeasible:
            return SolveResult(SolveStatus.INFEASIBLE, seconds=seconds, solver=self.name)
        if model_status in (ms.kUnbounded, ms.kUnboundedOrInfeasible):
            return SolveResult(
                SolveStatus.INFEASIBLE, seconds=seconds, solver=self.name, detail=str(model_status)
            )
        if not has_primal:
            stopped = model_status in (
                ms.kTimeLimit,
                ms.kInterrupt,
                ms.kIterationLimit,
                ms.kSolutionLimit,
            ) or (
                # the wall-clock guard's cancel landing before the search set a status (seen
                # when it met a 200-service coupled model in presolve): a time-out, not an error
                model_status == ms.kNotset and guard_fired
            )
            status = SolveStatus.NO_SOLUTION if stopped else SolveStatus.ERROR
            # no plan, but branch and bound may have proven a bound before the limit
            dual = float(info.mip_dual_bound) if mf.integer.any() else math.nan
            return SolveResult(
                status,
                bound=dual if math.isfinite(dual) else None,
                seconds=seconds,
                solver=self.name,
                detail=str(model_status),
            )
        x = np.asarray(h.getSolution().col_value, dtype=float)
        problem = check_solution(mf if not options.relax else _relaxed(mf), x)
        if problem:
            return SolveResult(
                SolveStatus.INVALID, seconds=seconds, solver=self.name, detail=problem
            )
        if options.relax:
            objective = float(mf.cost @ x + mf.offset)
            return SolveResult(
                SolveStatus.OPTIMAL,
                objective,
                objective,
                time.perf_counter() - start,
                self.name,
                detail="lp relaxation",
            )
        objective = float(mf.cost @ x + mf.offset)
        bound: float | None
        if mf.integer.any():
            bound = float(info.mip_dual_bound)
            bound = min(bound, objective) if math.isfinite(bound) else None
        else:
            bound = objective
        status = SolveStatus.OPTIMAL if model_status == ms.kOptimal else SolveStatus.FEASIBLE
        detail = str(model_status)
        if (
            options.stop_at is not None
            and model_status == ms.kInterrupt
            and objective <= options.stop_at + 1e-9
        ):
            detail = "target reached"
        return SolveResult(
            status, objective, bound, seconds, self.name, detail=detail, values=_assign(mf, x)
        )


# The thread count HiGHS's process-wide task scheduler was set up with (None: not yet). HiGHS sets
# it up at the first run and fails a later run that asks for another count (model status 'not
# set'), so every HiGHS run of the process takes its count from `highs_threads`.
_SCHEDULER_THREADS: int | None = None


def highs_threads(requested: int | None = None) -> int:
    """The thread count for the next HiGHS run: `requested` (the scheduler reset first when it
    was set up with another), or with None the count already in use (1 before any run)."""
    global _SCHEDULER_THREADS
    threads = requested if requested is not None else (_SCHEDULER_THREADS or 1)
    if _SCHEDULER_THREADS is not None and threads != _SCHEDULER_THREADS:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _SCHEDULER_THREADS = threads
    return threads


def _configure(h: highspy.Highs, options: SolverOptions) -> None:
    h.setOptionValue("output_flag", bool(options.msg))
    h.setOptionValue("time_limit", float(options.time_limit))
    h.setOptionValue("mip_rel_gap", float(options.gap))
    h.setOptionValue("threads", highs_threads(int(options.threads)))
    h.setOptionValue("random_seed", 0)
    if options.node_limit is not None:
        h.setOptionValue("mip_max_nodes", int(options.node_limit))
    if options.small_model:
        for key, value in SMALL_MODEL_HIGHS.items():
            h.setOptionValue(key, value)


def _highs_lp(mf: MatrixForm, options: SolverOptions) -> highspy.HighsLp:
    """The matrix form as HiGHS's own model (rowwise, infinite bounds as kHighsInf)."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = len(mf.cost)
    lp.num_row_ = len(mf.row_lo)
    inf = highspy.kHighsInf
    lp.col_cost_ = mf.cost
    lp.col_lower_ = np.where(np.isinf(mf.col_lo), -inf, mf.col_lo)
    lp.col_upper_ = np.where(np.isinf(mf.col_hi), inf, mf.col_hi)
    lp.row_lower_ = np.where(np.isinf(mf.row_lo), -inf, mf.row_lo)
    lp.row_upper_ = np.where(np.isinf(mf.row_hi), inf, mf.row_hi)
    lp.offset_ = mf.offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = mf.starts.astype(np.int32)
    lp.a_matrix_.index_ = mf.index.astype(np.int32)
    lp.a_matrix_.value_ = mf.value
    if mf.integer.any() and not options.relax:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
            for b in mf.integer
        ]
    return lp


def _set_start_and_target(h: highspy.Highs, mf: MatrixForm, options: SolverOptions) -> None:
    """A partial MIP start, and an interrupt once a plan reaches `stop_at` (the caller holds a
    valid bound, so a plan that close to it needs no proof)."""
    if options.start and not options.relax:
        col = {v.name: j for j, v in enumerate(mf.variables)}
        pairs = [(col[name], value) for name, value in options.start if name in col]
        if pairs:
            idx, vals = zip(*pairs, strict=True)
            # a partial start: HiGHS completes the remaining variables itself
            h.setSolution(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(vals, dtype=float))
    if options.stop_at is not None and not options.relax:
        target = float(options.stop_at)

        def _interrupt(event: highspy.HighsCallbackEvent) -> None:
            if event.data_out.objective_function_value <= target:
                assert event.data_in is not None  # HiGHS passes it to interrupt callbacks
                event.data_in.user_interrupt = True

        h.cbMipInterrupt.subscribe(_interrupt)


# ------------------------------------------------------------------ CBC (PuLP's bundled binary)
class CbcBackend:
    name = "cbc"

    def solve(self, prob: pulp.LpProblem, options: SolverOptions) -> SolveResult:
        start = time.perf_counter()
        mf = to_matrix(prob)
        # CBC's preprocessing (Cgl) has fixed variables wrongly: on a two-region zone-survival model
        # it proved 42 "optimal" where 40 is feasible (tests/test_solver.py), and it answered
        # "infeasible" for the feasible 200-service benchmark model. Slower without it; not wrong.
        solver = pulp.PULP_CBC_CMD(
            msg=options.msg,
            timeLimit=options.time_limit,
            gapRel=options.gap,
            threads=options.threads,
            options=["preprocess off"],
            maxNodes=options.node_limit,
        )
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            return SolveResult(
                SolveStatus.ERROR,
                seconds=time.perf_counter() - start,
                solver=self.name,
                detail=str(exc),
            )
        seconds = time.perf_counter() - start
        # PuLP reports a time-limited CBC run as "Optimal": read sol_status, never status alone.
        sol = prob.sol_status
        if sol == pulp.LpSolutionInfeasible or prob.status == pulp.LpStatusInfeasible:
            return SolveResult(SolveStatus.INFEASIBLE, seconds=seconds, solver=self.name)
        # CBC does not say which limit stopped it: a run that lasted its time limit was cut by it
        clock_cut = sol != pulp.LpSolutionOptimal and seconds >= options.time_limit
        if sol not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return SolveResult(
                SolveStatus.NO_SOLUTION,
                seconds=seconds,
                solver=self.name,
                detail=pulp.LpStatus.get(prob.status, "?"),
                clock_cut=clock_cut,
            )
        x = np.array(
            [np.nan if v.varValue is None else v.varValue for v in mf.variables], dtype=float
        )
        problem = check_solution(mf, x)
        if problem:
            return SolveResult(
                SolveStatus.INVALID, seconds=seconds, solver=self.name, detail=problem
            )
        objective = float(mf.cost @ x + mf.offset)
        proven = sol == pulp.LpSolutionOptimal
        # CBC through PuLP does not expose its bound; a proven run is within the requested gap.
        bound = (
            objective * (1 - options.gap)
            if proven and objective > 0
            else (objective if proven else None)
        )
        return SolveResult(
            SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
            objective,
            bound,
            seconds,
            self.name,
            values={v.name: float(v.varValue or 0.0) for v in mf.variables},
            clock_cut=clock_cut,
        )


BACKENDS: dict[str, type[Backend]] = {"highs": HighsBackend, "cbc": CbcBackend}


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]()
    except KeyError:
        raise ValueError(f"unknown solver `{name}`: use one of {', '.join(BACKENDS)}") from None
