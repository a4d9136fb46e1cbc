"""Exceptions raised by ufm.

Every message names the argument (or file field), the rule it broke, and the value received, so that
the caller knows what to change: ``lambda_W must be finite and >= 0, got -0.1``.
"""

from __future__ import annotations

__all__ = [
    "UFMError",
    "InvalidParameter",
    "InvalidFile",
    "SolverFailed",
    "NotConverged",
    "AccuracyWarning",
]


class UFMError(Exception):
    """Base class of every error ufm raises on purpose."""


class InvalidParameter(UFMError, ValueError):
    """An argument is outside the domain where the requested object or theorem is defined."""


class InvalidFile(UFMError, ValueError):
    """A configuration file is missing, truncated, or does not follow the documented schema."""


class SolverFailed(UFMError, RuntimeError):
    """A convex solver did not certify optimality.

    Attributes
    ----------
    solver : str
        The solver's name (``"CLARABEL"``, ``"SCS"``, ...).
    status : str
        The status the solver reported (``"infeasible"``, ``"optimal_inaccurate"``, ...).
    """

    def __init__(self, message: str, *, solver: str, status: str):
        super().__init__(f"{message} (solver {solver}, status {status!r})")
        self.solver = solver
        self.status = status


class NotConverged(UFMError, RuntimeError):
    """An iterative method stopped before reaching the accuracy it was asked for."""


class AccuracyWarning(UserWarning):
    """A result is usable but less accurate than requested; the message names the remedy."""
