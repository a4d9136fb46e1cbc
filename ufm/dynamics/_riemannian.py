r"""Riemannian gradient descent on a product of spheres (normalized features, SupCon).

The iterate is a matrix X (d x m) whose columns lie on the sphere of radius r. With f's Euclidean
gradient E, the Riemannian gradient is its projection onto the tangent spaces, column by column,

.. math:: \operatorname{grad} f(X)_{:,j} = E_{:,j} - \frac{\langle E_{:,j}, x_j\rangle}{r^2}x_j,

and a step moves along it and retracts back by normalization (the metric projection onto the
sphere, a first-order retraction; Absil, Mahony & Sepulchre 2008 [1]_, Sec. 4.1):

.. math:: X_{t+1} = R(X_t - \eta_t\operatorname{grad} f(X_t)),\qquad R(Y)_{:,j} = r\,y_j/\|y_j\|.

The step :math:`\eta_t` is found by backtracking from twice the previous accepted step (halving
until the Armijo condition :math:`f(X_{t+1}) \le f(X_t) - \tfrac12\eta_t\|\operatorname{grad}
f\|^2` holds; once that decrease is below the rounding of f, :math:`8\epsilon_{mach}(1 + |f|)`,
the test is instead that f moves only by rounding and the gradient norm shrinks): no step size
is asked of the caller, and the step adapts to the curvature, which
for small temperatures is exponentially small near the minimizer. Descent stops when
:math:`\|\operatorname{grad} f\|_F \le \texttt{SPHERE\_STATIONARY}`.

This is the descent route of the claims ``sphere.normalized-ce`` and ``supcon.simplex``: plain
numpy, since each step is two small matrix products (m <= 30 columns in the claims).

References
----------
.. [1] Absil, Mahony & Sepulchre (2008), "Optimization Algorithms on Matrix Manifolds", Princeton.
.. [2] Yaras, Wang, Zhu, Balzano & Qu (2022), "Neural collapse with normalized features: a
   geometric analysis over the Riemannian manifold", NeurIPS (Riemannian descent on this model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._repr import short_repr
from .._validation import check_int, check_matrix, check_positive
from ..errors import InvalidParameter, NotConverged
from ..models import get_model
from ..problem import Problem
from ..tolerances import SPHERE_STATIONARY, UNIT_NORM

__all__ = ["SphereDescent", "sphere_descent", "normalized_ce_descent", "supcon_descent"]

#: Step cap of :func:`sphere_descent`: from random starts on the claims' domains (K <= 6,
#: tau >= 0.25, rho <= 2) descent stops after at most a few thousand steps (measured); the cap is
#: ten times that and is reported as NotConverged, never returned.
SPHERE_MAX_STEPS = 50_000


@dataclass(frozen=True, eq=False)
class SphereDescent:
    """End of a Riemannian descent.

    Attributes
    ----------
    X : ndarray, shape (d, m)
        Final point, columns of norm ``radius``.
    objective : float
    gradient_norm : float
        Frobenius norm of the Riemannian gradient at X.
    steps : int
    """

    __repr__ = short_repr

    X: np.ndarray
    objective: float
    gradient_norm: float
    steps: int


#: Slack of the Armijo test, relative to 1 + |f|: a few ulps of float64, the rounding of a value
#: summed from O(N) terms of size O(1).
_ROUNDING = 8 * np.finfo(float).eps


def _tangent(E: np.ndarray, X: np.ndarray, radius: float) -> np.ndarray:
    return E - X * (np.sum(E * X, axis=0) / radius**2)


def _retract(Y: np.ndarray, radius: float) -> np.ndarray:
    return radius * Y / np.linalg.norm(Y, axis=0)


def sphere_descent(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    X0,
    radius: float = 1.0,
    *,
    tol: float = SPHERE_STATIONARY,
    max_steps: int = SPHERE_MAX_STEPS,
) -> SphereDescent:
    r"""Riemannian gradient descent with Armijo backtracking on the columns' spheres (module
    docstring).

    Parameters
    ----------
    fun : callable
        ``fun(X) -> (value, gradient)``: f and its Euclidean (or already Riemannian) gradient,
        shape (d, m).
    X0 : array_like, shape (d, m)
        Start; every column of norm ``radius`` (relative ``UNIT_NORM``).
    radius : float
        Radius r > 0 of the spheres.
    tol : float
        Stop when the Riemannian gradient's Frobenius norm is <= tol (> 0).
    max_steps : int
        Steps before giving up (>= 1).

    Returns
    -------
    SphereDescent

    Raises
    ------
    InvalidParameter
        Bad X0 (not finite, a column off the sphere), radius or tol <= 0, max_steps < 1.
    NotConverged
        The gradient norm is still above ``tol`` after ``max_steps`` steps, or no step decreases
        f (then f is not differentiable or its gradient is wrong).

    Examples
    --------
    >>> import numpy as np
    >>> run = sphere_descent(lambda X: (float(X[0, 0]), np.array([[1.0], [0.0]])),
    ...                      np.array([[0.6], [0.8]]))
    >>> np.round(run.X.ravel(), 8).tolist(), run.gradient_norm <= 1e-10
    ([-1.0, 0.0], True)
    """
    radius = check_positive("radius", radius)
    tol = check_positive("tol", tol)
    max_steps = check_int("max_steps", max_steps, 1)
    X = check_matrix("X0", X0, (None, None))
    off = np.abs(np.linalg.norm(X, axis=0) / radius - 1.0)
    if off.max() > UNIT_NORM:
        raise InvalidParameter(
            f"the columns of X0 must have norm radius={radius:g} (relative {UNIT_NORM:g}); "
            f"column {int(off.argmax())} is off by {off.max():.3g}"
        )
    value, E = fun(X)
    grad = _tangent(E, X, radius)
    eta = 1.0
    for step in range(max_steps):
        sq = float(np.sum(grad * grad))
        if sq <= tol**2:
            return SphereDescent(X, float(value), sq**0.5, step)
        eta *= 2.0
        slack = _ROUNDING * (1.0 + abs(value))
        while True:
            Y = _retract(X - eta * grad, radius)
            new_value, new_E = fun(Y)
            new_grad = _tangent(new_E, Y, radius)
            if 0.5 * eta * sq > slack:
                accept = new_value <= value - 0.5 * eta * sq
            else:
                # the Armijo decrease is below the rounding of f: a decrease would be noise, so a
                # step counts if f moves only by rounding and the gradient shrinks
                accept = new_value <= value + slack and np.sum(new_grad * new_grad) < sq
            if accept:
                break
            eta *= 0.5
            # a step below rounding of X that still fails: f does not decrease along -grad
            if eta * sq**0.5 < 1e-16 * radius:
                raise NotConverged(
                    f"no step decreases f from {value:.17g} (gradient norm {sq**0.5:.3g}); "
                    "check that fun returns the gradient of its value"
                )
        X, value, grad = Y, new_value, new_grad
    raise NotConverged(
        f"Riemannian descent is not stationary after {max_steps} steps (gradient norm "
        f"{float(np.linalg.norm(grad)):.3g} > tol={tol:g}): raise max_steps"
    )


def _random_sphere(d: int, m: int, radius: float, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((d, m))
    return _retract(X, radius)


def normalized_ce_descent(problem: Problem, *, seed: int = 0) -> SphereDescent:
    r"""Riemannian descent on the normalized-feature UFM (``model='sphere'``) from a random start.

    The iterate is :math:`X = [W^\top, H]` (d x (K + N)), unit columns; value and Riemannian
    gradient come from the problem's model record (:class:`ufm.models.sphere.SphereModel`).

    Parameters
    ----------
    problem : Problem
        ``model='sphere'`` (any loss of :mod:`ufm.losses`, ``tau`` in ``model_params``).
    seed : int
        Seed of the Gaussian start, normalized onto the spheres.

    Returns
    -------
    SphereDescent
        ``X[:, :K].T`` is W, ``X[:, K:]`` is H.

    Raises
    ------
    InvalidParameter
        A problem that is not ``model='sphere'``; seed < 0.
    NotConverged
        As in :func:`sphere_descent`.
    """
    if not isinstance(problem, Problem) or problem.model != "sphere":
        raise InvalidParameter(
            f"problem must be a ufm.Problem with model='sphere', got {problem!r}"
        )
    seed = check_int("seed", seed, 0)
    model, K = get_model(problem.model), problem.K

    def fun(X):
        blocks = {"W": np.ascontiguousarray(X[:, :K].T), "H": X[:, K:]}
        g = model.gradient(problem, blocks)
        return model.objective(problem, blocks), np.hstack([g["W"].T, g["H"]])

    return sphere_descent(fun, _random_sphere(problem.d, K + problem.N, 1.0, seed))


def supcon_descent(d: int, labels, rho: float, *, seed: int = 0) -> SphereDescent:
    r"""Riemannian descent on the full-batch SupCon loss (:func:`ufm.contrastive.supcon_loss`)
    over features on the sphere of radius rho, from a random start.

    Parameters
    ----------
    d : int
        Feature dimension, >= 1.
    labels : array_like of int, shape (N,)
        Classes 0..K-1, each with >= 2 samples.
    rho : float
        Radius, > 0.
    seed : int
        Seed of the Gaussian start.

    Returns
    -------
    SphereDescent
        ``X`` is Z (d x N).

    Raises
    ------
    InvalidParameter
        d < 1, bad labels, rho <= 0, seed < 0.
    NotConverged
        As in :func:`sphere_descent`.
    """
    from ..contrastive import supcon_loss

    d = check_int("d", d, 1)
    rho = check_positive("rho", rho)
    seed = check_int("seed", seed, 0)
    labels = np.asarray(labels)
    Z0 = _random_sphere(d, labels.shape[0] if labels.ndim == 1 else 0, rho, seed)
    supcon_loss(Z0, labels, rho)  # validates the labels once, with their own messages
    return sphere_descent(lambda Z: supcon_loss(Z, labels, rho), Z0, rho)
