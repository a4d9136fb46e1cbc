r"""Renormalized gradient flow on the central path (Han, Papyan & Donoho 2022).

On the *central path* the classifier is always the MSE-optimal one for the current features:
:math:`(W, b) = (W^*(H), b^*(H))` (:func:`ufm.minimizers.least_squares_classifier`), and the
features descend the loss :math:`\mathcal L(H) = \min_{W,b} f(W, b, H)` of
:func:`ufm.minimizers.central_path_loss`. By the envelope theorem its gradient is that of f in H at
the optimal classifier,

.. math:: \nabla\mathcal L(H) = \frac1N W^{*\top}R,\qquad
          R = W^*H + b^*\mathbf 1^\top - Y,

and :math:`R\mathbf 1 = 0` (optimality of b), so the global mean of H never moves. Only
:math:`\lambda_W` regularizes; without a scale on H the features would grow without bound when
lambda > 0 (the loss decreases as :math:`\|H\|\to\infty`), so the flow is *renormalized* (the
paper's flow is "continually renormalized", abstract read; its exact renormalization was not read,
and this one is chosen here): the total variance
:math:`\tau = \mathrm{tr}\,\Sigma_T = \|\tilde H\|_F^2/N`
of the centred features is held at its starting value. Each step is a Riemannian gradient step on
that sphere: the gradient projected on the tangent space,
:math:`G - \langle G,\tilde H\rangle\tilde H/\|\tilde H\|_F^2`, then a rescaling back to
:math:`\|\tilde H\|_F^2 = N\tau`. At lambda = 0 the loss is scale-invariant and the projection
changes nothing to first order.

References
----------
.. [1] Han, Papyan & Donoho (2022), "Neural collapse under MSE loss: proximity to and dynamics on
   the central path", ICLR.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._repr import short_repr
from .._validation import check_int, check_positive
from ..errors import AccuracyWarning, InvalidParameter
from ..metrics import feature_metrics
from ..minimizers import _check_features, _one_hot, _ridge_statistics, least_squares_classifier

__all__ = ["CentralPath", "central_path_descent", "central_path_trace"]


def central_path_trace(H, class_sizes, lambda_W) -> float:
    r""":math:`\mathrm{tr}((\Sigma_T + \lambda I)^{+}\Sigma_B)`, covariances normalized by 1/N about
    the global mean (:func:`ufm.minimizers.central_path_loss`); at most
    :math:`\mathrm{rank}\,\Sigma_B \le \min(d, K-1)`, with equality at lambda = 0 iff
    :math:`\Sigma_W = 0` on the range of :math:`\Sigma_T`."""
    sizes, lam = _check_features(H, class_sizes, lambda_W)
    A, Mc, pi = _ridge_statistics(np.asarray(H, dtype=float), sizes, lam)
    return float(np.trace(A @ Mc @ np.diag(pi) @ Mc.T))


@dataclass(frozen=True, eq=False)
class CentralPath:
    """A run of :func:`central_path_descent`.

    Attributes
    ----------
    H : ndarray, shape (d, N)
        Final features.
    W, b : ndarray
        The least-squares classifier of the final features.
    objective : ndarray
        :math:`\\mathcal L(H_t)`, t = 0..steps; ``objective[0]`` (the start) and ``objective[-1]``
        (the end) by :func:`ufm.minimizers.least_squares_classifier`'s direct solve.
    trace : float
        :func:`central_path_trace` of the final features.
    nc1 : float
        NC1 of the final features (:func:`ufm.metrics.feature_metrics`).
    tau : float
        The conserved total variance tr Sigma_T.
    steps : int
        Steps taken (fewer than asked when the Riemannian gradient fell below ``grad_tol``).
    """

    __repr__ = short_repr

    H: np.ndarray
    W: np.ndarray
    b: np.ndarray
    objective: np.ndarray
    trace: np.ndarray
    nc1: float
    tau: float
    steps: int


def central_path_descent(
    H0,
    class_sizes,
    lambda_W: float,
    *,
    lr: float = 1.0,
    steps: int = 20_000,
    grad_tol: float = 1e-10,
) -> CentralPath:
    r"""Renormalized gradient descent of the features on the central path (module docstring).

    The step is :math:`\eta = \text{lr}\cdot N/\|W^*\|_2^2`: with W fixed the loss is a quadratic
    in each column :math:`h_i` with curvature at most :math:`\|W^*\|_2^2/N`, so lr < 2 is a stable
    step for it whatever the scale of the features (lr = 1: the exact step along its stiffest
    direction).

    Parameters
    ----------
    H0 : array_like, shape (d, N)
        Start, columns grouped by class, not all equal.
    class_sizes : sequence of int
    lambda_W : float
        >= 0.
    lr : float
        Step in units of the inverse curvature (> 0).
    steps : int
        Largest number of steps (>= 1).
    grad_tol : float
        Stop once the Riemannian gradient is this small: :math:`\|G_\perp\|_F\|\tilde H\|_F \le`
        ``grad_tol`` (scale-free: the first-order change of the loss under a relative change of
        the features).

    Returns
    -------
    CentralPath

    Raises
    ------
    InvalidParameter
        Bad sizes or shapes, negative lambda_W, non-positive lr or steps, constant features.

    Warns
    -----
    AccuracyWarning
        ``steps`` ran out before the gradient fell below ``grad_tol`` (raise ``steps``).
    """
    sizes, lam = _check_features(H0, class_sizes, lambda_W)
    lr = check_positive("lr", lr)
    steps = check_int("steps", steps, 1)
    H = np.array(H0, dtype=float)
    d, N = H.shape
    mean = H.mean(axis=1, keepdims=True)
    Hc = H - mean
    norm2 = float(np.sum(Hc * Hc))
    if not norm2 > 0:
        raise InvalidParameter("H0 must not have all columns equal (tr Sigma_T = 0)")
    # centred labels: with b = pi - W mu_G the residual W H + b 1^T - Y is W Hc - Yc
    Yc = _one_hot(sizes) - np.asarray(sizes)[:, None] / N
    objective = [least_squares_classifier(H, sizes, lam)[2]]
    taken, gradient = 0, np.inf
    while True:
        A = np.linalg.pinv(Hc @ Hc.T / N + lam * np.eye(d), hermitian=True)
        W = Yc @ Hc.T / N @ A
        R = W @ Hc - Yc
        if taken:
            objective.append(float(np.sum(R * R) / (2 * N) + lam / 2 * np.sum(W * W)))
        G = W.T @ R / N
        G -= np.sum(G * Hc) / norm2 * Hc
        gradient = float(np.linalg.norm(G)) * np.sqrt(norm2)
        if gradient <= grad_tol or taken == steps:
            break
        Hc = Hc - lr * N / max(np.linalg.norm(W, 2) ** 2, np.finfo(float).tiny) * G
        Hc *= np.sqrt(norm2 / np.sum(Hc * Hc))
        taken += 1
    if gradient > grad_tol:
        warnings.warn(
            f"central_path_descent stopped after steps={steps} with a Riemannian gradient "
            f"{gradient:.1e} > grad_tol={grad_tol:.0e}; raise steps",
            AccuracyWarning,
            stacklevel=2,
        )
    H = Hc + mean
    W, b, value = least_squares_classifier(H, sizes, lam)
    objective[-1] = value
    labels = np.repeat(np.arange(len(sizes)), sizes)
    nc1 = feature_metrics(Hc, labels)["nc1"]
    return CentralPath(
        H=H,
        W=W,
        b=b,
        objective=np.array(objective),
        trace=central_path_trace(H, sizes, lam),
        nc1=0.0 if nc1 is None else float(nc1),
        tau=norm2 / N,
        steps=taken,
    )
