r"""``descend_to_stationary``: gradient descent from a random start until the gradient vanishes.

The step is :math:`\eta = 1/(L_0 + \text{headroom})` with

.. math:: L_0 = \lambda_W + \lambda_H + \frac{(\|W_0\|_2 + \|H_0\|_2)^2}{N}

(spectral norms of the start): the data term (CE or MSE, curvature at most 1 per logit, weight 1/N
per sample) has Hessian blocks of norm at most :math:`\|H\|_2^2/N` (in W), :math:`\|W\|_2^2/N` (in
H) and :math:`\|W\|_2\|H\|_2/N` plus the residual (cross term); the regularizer adds
:math:`\lambda`; the headroom covers the growth of the iterates from the start to the minimizer's
scale, so that :math:`\eta L < 1` along the whole path. Descent then runs in chunks of steps until

.. math:: \|\nabla f(X_t)\|_F \le \epsilon\,(1 + |f(X_t)|),\qquad
          \epsilon = \texttt{tolerances.STATIONARY}.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_nonneg
from ..errors import NotConverged
from ..problem import Problem
from ..tolerances import STATIONARY
from ._descent import DescentResult, _check_problem, gradient_descent, initialize

__all__ = ["descend_to_stationary", "STATIONARY_HEADROOM", "STATIONARY_CHUNK", "STATIONARY_CHUNKS"]

#: Headroom added to the curvature bound of the start: in the claims' domains (kappa >= 0.05) the
#: minimizer has ||W||^2, ||H||^2/N <= K x* <= K log(K/kappa), below 10 for the sizes sampled, so
#: the step keeps lr * L < 1 along the whole path.
STATIONARY_HEADROOM = 10.0

#: Steps per kernel call between two stationarity tests: long enough that the Python round trip and
#: the final metrics of each chunk are invisible, short enough not to overshoot a fast convergence
#: by much.
STATIONARY_CHUNK = 100_000

#: Chunks before a run that is still not stationary is reported as not converged: 4e6 steps at
#: lr = 1/(L_0 + headroom) reach stationarity everywhere in the claims' domains except in the band
#: around a threshold (kappa = 1), where the minimizer is degenerate and descent is sublinear.
STATIONARY_CHUNKS = 40


def descend_to_stationary(
    problem: Problem,
    *,
    seed: int,
    init_scale: float = 1.0,
    headroom: float = STATIONARY_HEADROOM,
    chunk: int = STATIONARY_CHUNK,
    max_chunks: int = STATIONARY_CHUNKS,
) -> DescentResult:
    r"""Gradient descent (the numba kernel) from a random start, in chunks until stationary.

    .. math:: X_{t+1} = X_t - \eta\nabla f(X_t),\qquad
              \eta = \Big(\lambda_W + \lambda_H + \tfrac{(\|W_0\|_2 + \|H_0\|_2)^2}{N}
              + \text{headroom}\Big)^{-1},

    stopped after the first chunk whose end point has
    :math:`\|\nabla f\|_F \le \texttt{STATIONARY}\,(1 + |f|)`; the step rule is derived in the
    module docstring. This is the descent route of the claims (``ufm.claims``): it needs no step
    size and no step count from the caller, and it refuses to report a point that is not a
    critical point.

    Parameters
    ----------
    problem : Problem
    seed : int
        Seed of the random start (:func:`initialize`).
    init_scale : float
        Standard deviation s > 0 of the entries of the start.
    headroom : float
        Added to the curvature bound :math:`L_0` of the start (>= 0); raise it if descent warns that
        the objective increased.
    chunk : int
        Steps per kernel call between two stationarity tests (>= 1).
    max_chunks : int
        Chunks before giving up (>= 1).

    Returns
    -------
    DescentResult
        The last chunk (its ``steps``, ``objective`` and ``history`` cover that chunk only; its
        ``parameters`` hold the step ``lr`` and ``chunk`` as ``steps``).

    Raises
    ------
    InvalidParameter
        Bad problem, seed < 0, init_scale <= 0, headroom < 0, chunk < 1 or max_chunks < 1.
    NotConverged
        If the gradient is not stationary after ``max_chunks * chunk`` steps (raise ``max_chunks``,
        or move the problem away from a threshold such as kappa = 1, where descent is sublinear).

    References
    ----------
    .. [1] Zhu et al. (2021), "A geometric analysis of neural collapse with unconstrained features",
       NeurIPS: the regularized UFM has a benign landscape, so descent to a stationary point from a
       random start reaches a global minimizer.

    Examples
    --------
    >>> from ufm import Problem
    >>> p = Problem(loss="mse", K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias="none")
    >>> r = descend_to_stationary(p, seed=0)
    >>> bool(r.gradient_norm[-1] <= 1e-10 * (1 + abs(r.objective[-1])))
    True
    """
    problem = _check_problem(problem)
    headroom = check_nonneg("headroom", headroom)
    chunk = check_int("chunk", chunk, 1)
    max_chunks = check_int("max_chunks", max_chunks, 1)
    W, H, b = initialize(problem, seed, init_scale)
    spectral = np.linalg.norm(W, 2) + np.linalg.norm(H, 2)
    curvature = problem.lambda_W + problem.lambda_H + spectral**2 / problem.N
    lr = 1.0 / (curvature + headroom)
    for _ in range(max_chunks):
        result = gradient_descent(problem, steps=chunk, lr=lr, init=(W, H, b), full_history=False)
        W, H, b = result.W, result.H, result.b
        if result.gradient_norm[-1] <= STATIONARY * (1.0 + abs(result.objective[-1])):
            return result
    raise NotConverged(
        f"gradient descent (lr={lr:.3g}) is not stationary after {max_chunks * chunk} steps "
        f"(gradient norm {result.gradient_norm[-1]:.3g}); the point lies too close to a threshold "
        "(kappa = 1) or max_chunks is too small: raise max_chunks"
    )
