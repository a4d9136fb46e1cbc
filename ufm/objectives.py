r"""The regularized UFM objective and its exact gradient, in numpy.

Conventions (stated once; every other module follows them):

* ``loss='ce'`` (Zhu et al. 2021 [1]_, eq. (4)): data term
  :math:`\frac1N\sum_i \mathcal L_{CE}(z_i, y_i)` with
  :math:`\mathcal L_{CE}(z, y) = \log\sum_j e^{z_j} - z_y`, evaluated by log-sum-exp so that logits
  of any size are safe.
* ``loss='mse'`` (Tirer & Bruna 2022 [2]_; Zhou et al. 2022 [3]_): data term
  :math:`\frac{1}{2N}\|Z - Y\|_F^2` with Y the K x N one-hot matrix.
* ``loss='ce-ls'`` with smoothing :math:`\alpha` (label smoothing): data term
  :math:`\frac1N\sum_i [\log\sum_j e^{z_{ji}} - q_{y_i}^\top z_i]`,
  :math:`q_y = (1-\alpha)e_y + \frac\alpha K\mathbf 1`. Every loss is defined once, in its file
  under
  :mod:`ufm.losses`.
* Regularizer
  :math:`\frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2 + \frac{\lambda_b}{2}\|b\|^2`
  (the last term only for ``bias='regularized'``); logits :math:`Z = WH + b\mathbf 1_N^\top`.

Shapes: W is K x d, H is d x N (columns grouped by class), b has length K.

References
----------
.. [1] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS.
.. [2] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
   collapse", ICML.
.. [3] Zhou, Li, Ding, You, Qu & Zhu (2022), "On the optimization landscape of neural collapse under
   MSE loss: global optimality with unconstrained features", ICML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from ._validation import check_matrix
from .errors import InvalidParameter
from .losses import get_loss
from .losses._links import weighted_sq_norm
from .problem import Problem

__all__ = ["objective", "gradient", "data_term", "Gradient", "logits"]


class Gradient(NamedTuple):
    """Partial derivatives of the objective; ``b`` is all zeros when ``bias='none'`` (b fixed)."""

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray


def check_point(problem: Problem, W, H, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a point (W, H, b) of ``problem``'s UFM; b = None allowed only for ``bias='none'``.

    Returns float64 arrays W (K x d), H (d x N), b (K,) (zeros for ``bias='none'``). Shared by
    :func:`objective`, :func:`gradient` and :mod:`ufm.landscape`.
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    if problem.model != "ufm":
        raise InvalidParameter(
            f"a point (W, H, b) belongs to model 'ufm', but the problem has model "
            f"{problem.model!r}: use its named blocks (ufm.models.get_model({problem.model!r}))"
        )
    K, d, N = problem.K, problem.d, problem.N
    W = check_matrix("W", W, (K, d))
    H = check_matrix("H", H, (d, N))
    if problem.has_bias:
        if b is None:
            raise InvalidParameter(f"b (length K={K}) is required when bias={problem.bias!r}")
        b = check_matrix("b", b, (K,))
    else:
        b = np.zeros(K) if b is None else check_matrix("b", b, (K,))
        if np.any(b != 0):
            raise InvalidParameter("b must be None or zero when bias='none'")
    return W, H, b


def _float64_range(what: str, W: np.ndarray, H: np.ndarray) -> InvalidParameter:
    """The error for a finite point whose ``what`` exceeds the float64 range (about 1.8e308)."""
    top = [float(np.max(np.abs(A), initial=0.0)) for A in (W, H)]
    return InvalidParameter(
        f"{what} at (W, H, b) must lie within the float64 range (|x| <= 1.8e308); it overflows "
        f"at max|W| = {top[0]:.3g}, max|H| = {top[1]:.3g}: rescale the point"
    )


def logits(W: np.ndarray, H: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Z = W H + b 1^T (K x N); raises InvalidParameter when an entry overflows float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        Z = W @ H + b[:, None]
    if not np.all(np.isfinite(Z)):
        raise _float64_range("the logits W H + b 1^T", W, H)
    return Z


def data_term(loss, Z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The normalized data term of ``loss`` (a :class:`ufm.losses.Loss` or a registered name) at
    logits Z (K x N) and its gradient in Z."""
    return get_loss(loss).value_and_grad(Z, labels)


def _regularizer(problem: Problem, W, H, b) -> float:
    reg = weighted_sq_norm(W, 0.5 * problem.lambda_W) + weighted_sq_norm(H, 0.5 * problem.lambda_H)
    if problem.bias == "regularized":
        reg += weighted_sq_norm(b, 0.5 * problem.lambda_b)
    return reg


def _by_model(method: str, problem: Problem, W, H, b):
    """``method`` of the problem's model record (:mod:`ufm.models`) at named blocks: ``W`` is a
    mapping of blocks, or (W, H[, b]) name the blocks W, H, b."""
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    from .models import get_model

    if isinstance(W, Mapping):
        if H is not None or b is not None:
            raise InvalidParameter("give either a mapping of named blocks or (W, H, b), not both")
        blocks = W
    else:
        blocks = {"W": W, "H": H} if b is None else {"W": W, "H": H, "b": b}
    return getattr(get_model(problem.model), method)(problem, blocks)


def objective(problem: Problem, W, H=None, b=None) -> float:
    r"""Value of the regularized UFM objective f(W, H, b) named by ``problem``.

    .. math:: f = \text{data}(WH + b\mathbf 1^\top) + \frac{\lambda_W}{2}\|W\|_F^2
              + \frac{\lambda_H}{2}\|H\|_F^2 + \frac{\lambda_b}{2}\|b\|^2

    with the data term and normalization of the module docstring.

    Parameters
    ----------
    problem : Problem
    W : array_like, shape (K, d), or mapping
        The classifier, or a mapping of the named blocks of ``problem``'s model
        (:mod:`ufm.models`; e.g. ``{"W3": ..., "W2": ..., "W1": ..., "H": ..., "b": ...}`` for
        ``model='deep-linear'``); for a model other than ``'ufm'`` the value is that model's
        objective.
    H : array_like, shape (d, N), columns grouped by class
    b : array_like, shape (K,), optional
        Required unless ``problem.bias == 'none'``.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameter
        Wrong shapes, non-finite entries, or a bias that contradicts the bias mode.

    Examples
    --------
    >>> import numpy as np
    >>> p = Problem(loss='mse', K=2, d=2, n=1, lambda_W=0.0, lambda_H=0.0, bias='none')
    >>> objective(p, np.eye(2), np.eye(2))
    0.0
    """
    if isinstance(W, Mapping) or getattr(problem, "model", "ufm") != "ufm":
        return _by_model("objective", problem, W, H, b)
    W, H, b = check_point(problem, W, H, b)
    value, _ = data_term(problem.loss_fn, logits(W, H, b), problem.labels)
    value += _regularizer(problem, W, H, b)
    if not np.isfinite(value):
        raise _float64_range("the objective", W, H)
    return value


def gradient(problem: Problem, W, H=None, b=None) -> Gradient | dict:
    r"""Exact gradient of :func:`objective`.

    With :math:`G = \partial\,\text{data}/\partial Z` (CE: :math:`(\mathrm{softmax}(Z) - Y)/N`; MSE:
    :math:`(Z - Y)/N`; in general the loss's link gradient, :mod:`ufm.losses`):

    .. math:: \nabla_W f = G H^\top + \lambda_W W,\quad \nabla_H f = W^\top G + \lambda_H H,\quad
              \nabla_b f = G\mathbf 1 + \lambda_b b

    (:math:`\lambda_b = 0` for ``bias='free'``; :math:`\nabla_b f = 0` for ``bias='none'``).

    Named blocks (a mapping ``W``) or a model other than ``'ufm'`` give the model's gradient
    (:mod:`ufm.models`) as a dict name -> array.

    Returns
    -------
    Gradient or dict
        Named tuple ``(W, H, b)`` of arrays shaped like the arguments; a dict of the model's blocks
        for named blocks or another model.
    """
    if isinstance(W, Mapping) or getattr(problem, "model", "ufm") != "ufm":
        return _by_model("gradient", problem, W, H, b)
    W, H, b = check_point(problem, W, H, b)
    _, G = data_term(problem.loss_fn, logits(W, H, b), problem.labels)
    with np.errstate(over="ignore", invalid="ignore"):
        gW = G @ H.T + problem.lambda_W * W
        gH = W.T @ G + problem.lambda_H * H
        gb = np.zeros(problem.K) if problem.bias == "none" else G.sum(axis=1) + problem.lambda_b * b
    if not all(np.all(np.isfinite(g)) for g in (gW, gH, gb)):
        raise _float64_range("the gradient", W, H)
    return Gradient(gW, gH, gb)
