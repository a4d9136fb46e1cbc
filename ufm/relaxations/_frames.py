r"""The max-min-angle frame SDP: K unit vectors whose largest pairwise cosine is smallest.

.. math:: t^\star = \min_{G\succeq 0,\ t}\ t \quad\text{s.t.}\quad G_{kk} = 1,\quad
          G_{kl}\le t\ (k\ne l),

with G (K x K) the Gram matrix of K unit vectors in any dimension. The value is
:math:`t^\star = -1/(K-1)`, attained only by the Gram matrix of the simplex ETF,
:math:`\frac K{K-1}(I - \mathbf 1\mathbf 1^\top/K)`: this is the simplex bound for spherical
codes (Rankin 1955 [1]_). Derived here: for feasible (G, t),
:math:`0 \le \mathbf 1^\top G\mathbf 1 = K + \sum_{k\ne l}G_{kl} \le K + K(K-1)t`, so
:math:`t \ge -1/(K-1)`; at equality every :math:`G_{kl} = -1/(K-1)`, which is the ETF Gram
matrix (PSD with rank K - 1). This is the "maximal equiangular separation" of the class means and
classifiers in Neural Collapse (NC2, Papyan et al. 2020 [2]_).

References
----------
.. [1] Rankin (1955), "The closest packing of spherical caps in n dimensions", Proc. Glasgow
   Math. Assoc. 2, 139-144.
.. [2] Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase of
   deep learning training", PNAS 117(40).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._limits import check_sdp
from .._repr import short_repr
from .._validation import check_int
from ._solve import import_cvxpy, resolve_tolerance, solve

__all__ = ["MaxMinAngle", "max_min_angle"]


@dataclass(frozen=True, eq=False)
class MaxMinAngle:
    """Solution of the max-min-angle SDP (see :func:`max_min_angle`).

    Attributes
    ----------
    K : int
    t : float
        Optimal largest pairwise cosine (-1/(K-1) up to the solver tolerance).
    G : ndarray, shape (K, K)
        Optimal Gram matrix (unit diagonal).
    status, solver : str
    duality_gap : float
        Primal minus dual objective reported by the solver.
    solve_time : float
    """

    __repr__ = short_repr

    K: int
    t: float
    G: np.ndarray
    status: str
    solver: str
    duality_gap: float
    solve_time: float


def max_min_angle(K: int, *, solver: str = "clarabel", tol: float | None = None) -> MaxMinAngle:
    r"""Solve the max-min-angle SDP :math:`\min\{t : G\succeq 0,\ G_{kk} = 1,\ G_{kl}\le t\}`.

    Module docstring for the program and its value :math:`t^\star = -1/(K-1)` (the simplex ETF).

    Parameters
    ----------
    K : int
        Number of unit vectors, >= 2.
    solver : {'clarabel', 'scs'}
    tol : float, optional
        Solver gap/feasibility tolerance (defaults in ``ufm.tolerances``).

    Returns
    -------
    MaxMinAngle

    Raises
    ------
    InvalidParameter
        K < 2 or an unknown solver.
    LimitExceeded
        The program's estimated memory (:func:`ufm._limits.check_sdp`, side K) exceeds the limit.
    SolverFailed
        The solver did not reach optimality.

    Examples
    --------
    >>> res = max_min_angle(4)
    >>> abs(res.t + 1 / 3) < 1e-6, res.status
    (True, 'optimal')
    """
    K = check_int("K", K, 2)
    solver, tol = resolve_tolerance(solver, tol)
    check_sdp(
        "the max-min-angle SDP", K, "lower K (its value is -1/(K-1), ufm.geometry.simplex_etf)"
    )
    cp = import_cvxpy()
    G = cp.Variable((K, K), PSD=True)
    t = cp.Variable()
    program = cp.Problem(cp.Minimize(t), [cp.diag(G) == 1, cp.upper_tri(G) <= t])
    info = solve(program, solver, tol, "max-min-angle SDP")
    Gv = np.asarray(G.value, dtype=float)
    return MaxMinAngle(
        K=K,
        t=float(t.value),
        G=0.5 * (Gv + Gv.T),
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
        solve_time=info.solve_time,
    )
