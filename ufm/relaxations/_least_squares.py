r"""The least-squares classifier of fixed features as a convex program (the central path's value).

.. math:: \min_{W,b}\ \frac1{2N}\|WH + b\mathbf 1^\top - Y\|_F^2 + \frac{\lambda}2\|W\|_F^2,

Y (K x N) one-hot with columns grouped by class: a convex quadratic program whose value is the
closed form :func:`ufm.minimizers.central_path_loss` (Han, Papyan & Donoho 2022, ICLR).
"""

from __future__ import annotations

import numpy as np

from ..minimizers import _check_features, _one_hot
from ._solve import import_cvxpy, resolve_tolerance, solve

__all__ = ["least_squares_program"]


def least_squares_program(
    H, class_sizes, lambda_W: float, *, solver: str = "clarabel", tol: float | None = None
) -> float:
    """Optimal value of the program of the module docstring, solved with cvxpy.

    Parameters
    ----------
    H : array_like, shape (d, N)
        Features, columns grouped by class.
    class_sizes : sequence of int
    lambda_W : float
        >= 0.
    solver : {'clarabel', 'scs'}
    tol : float, optional
        Solver accuracy (default: the solver's, :data:`ufm.relaxations.SOLVERS`).

    Returns
    -------
    float
        The primal optimal value.

    Raises
    ------
    InvalidParameter
        Bad sizes, shapes or lambda_W.
    SolverFailed
        The solver did not report optimality.
    """
    sizes, lam = _check_features(H, class_sizes, lambda_W)
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    H = np.asarray(H, dtype=float)
    d, N = H.shape
    Y = _one_hot(sizes)
    W = cp.Variable((len(sizes), d))
    b = cp.Variable(len(sizes))
    residual = W @ H + cp.reshape(b, (len(sizes), 1), order="F") @ np.ones((1, N)) - Y
    problem = cp.Problem(
        cp.Minimize(cp.sum_squares(residual) / (2 * N) + lam / 2 * cp.sum_squares(W))
    )
    solve(problem, solver, tol, "least-squares classifier program")
    return float(problem.value)
