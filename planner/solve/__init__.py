"""Solvers behind one small interface: HiGHS (default) and CBC, with our own status enum."""

from .backends import (
    BACKENDS,
    Backend,
    CbcBackend,
    HighsBackend,
    SolveResult,
    SolverOptions,
    SolveStatus,
    check_solution,
    get_backend,
    to_matrix,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "CbcBackend",
    "HighsBackend",
    "SolveResult",
    "SolveStatus",
    "SolverOptions",
    "check_solution",
    "get_backend",
    "to_matrix",
]
