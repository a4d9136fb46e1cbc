r"""Implicit bias of gradient descent on the unregularized cross-entropy UFM: the max-margin limit.

Without weight decay and without bias (:math:`\lambda_W = \lambda_H = 0`, ``bias='none'``) the
cross-entropy UFM has no minimizer once the features are separated: the loss decays to 0 while
:math:`\|(W, H)\|` grows like :math:`\sqrt{\log t}`. The iterates converge in *direction* to a KKT
point of the max-margin program

.. math:: \min_{W,H}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\
          (w_{y_i} - w_j)^\top h_i \ge 1\quad\forall i,\ j\ne y_i

(Ji, Lu, Zhang, Deng & Su 2022 [1]_ for the UFM; Lyu & Li 2020 [2]_ for homogeneous models), whose
minimizers are the simplex ETF (balanced classes) and SELI (Thrampoulidis et al. 2022 [3]_).
Progress is measured by the normalized margin

.. math:: \gamma(W, H) = \frac{\min_{i,\ j\ne y_i}(w_{y_i} - w_j)^\top h_i}
                          {\tfrac12(\|W\|_F^2 + \|H\|_F^2)},

which is invariant under scaling (W, H) -> (cW, cH) and bounded by 1/v* with v* the value of the
program above: rescaling (W, H) by :math:`1/\sqrt{m_{\min}}` gives a feasible point of value
:math:`1/\gamma`. So :math:`1/\gamma(W_t, H_t)` is an upper bound on v* at every step, and it
decreases to v* like :math:`1/\log t` (the margin scale grows like log t) with a fixed step.

References
----------
.. [1] Ji, Lu, Zhang, Deng & Su (2022), "An unconstrained layer-peeled perspective on neural
   collapse", ICLR.
.. [2] Lyu & Li (2020), "Gradient descent maximizes the margin of homogeneous neural networks",
   ICLR.
.. [3] Thrampoulidis, Kini, Vakilian & Behnia (2022), "Imbalance trouble: revisiting
   neural-collapse geometry", NeurIPS.
.. [4] Nacson, Lee, Gunasekar, Savarese, Srebro & Soudry (2019), "Convergence of gradient descent
   on separable data", AISTATS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_positive
from ..errors import InvalidParameter, NotConverged
from ..problem import Problem
from ._descent import gradient_descent, initialize

__all__ = ["normalized_margin", "MarginDescent", "margin_descent"]


def normalized_margin(W: np.ndarray, H: np.ndarray, labels) -> float:
    r"""Normalized margin :math:`\min_{i,\,j\ne y_i}(w_{y_i} - w_j)^\top h_i /
    (\tfrac12(\|W\|_F^2 + \|H\|_F^2))` (module docstring).

    Parameters
    ----------
    W : ndarray, shape (K, d)
    H : ndarray, shape (d, N)
    labels : array_like of int, shape (N,)

    Returns
    -------
    float
        Negative when some sample is misclassified; at most 1/v* (v* the max-margin value).

    Raises
    ------
    InvalidParameter
        Shapes that do not match, fewer than 2 classes, or W = H = 0.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 0.0], [-1.0, 0.0]]); H = np.array([[1.0, -1.0], [0.0, 0.0]])
    >>> normalized_margin(W, H, [0, 1])
    1.0
    """
    W = np.asarray(W, dtype=float)
    H = np.asarray(H, dtype=float)
    labels = np.asarray(labels, dtype=int)
    if W.ndim != 2 or H.ndim != 2 or W.shape[1] != H.shape[0] or labels.shape != (H.shape[1],):
        raise InvalidParameter(
            f"W (K x d), H (d x N) and labels (N,) must match, got shapes {W.shape}, {H.shape}, "
            f"{labels.shape}"
        )
    if W.shape[0] < 2:
        raise InvalidParameter(f"W must have K >= 2 rows, got {W.shape[0]}")
    energy = 0.5 * (float(np.sum(W * W)) + float(np.sum(H * H)))
    if energy == 0:
        raise InvalidParameter("the normalized margin is undefined at W = H = 0")
    Z = W @ H
    cols = np.arange(Z.shape[1])
    margins = Z[labels, cols][None, :] - Z
    margins[labels, cols] = np.inf
    return float(margins.min()) / energy


@dataclass(frozen=True, eq=False)
class MarginDescent:
    """Outcome of :func:`margin_descent`.

    Attributes
    ----------
    problem : Problem
    W, H : ndarray, shapes (K, d), (d, N)
        Final iterate (its direction is what converges).
    loss : float
        Final data term (1/N) sum CE.
    margin : float
        Normalized margin of the final iterate (:func:`normalized_margin`).
    steps : int
        Gradient steps taken.
    """

    problem: Problem
    W: np.ndarray
    H: np.ndarray
    loss: float
    margin: float
    steps: int


def margin_descent(
    problem: Problem,
    *,
    seed: int = 0,
    init_scale: float = 0.1,
    loss_floor: float = 1e-12,
    chunk: int = 200,
    max_chunks: int = 500,
) -> MarginDescent:
    r"""Gradient descent on the unregularized CE UFM, run until the loss reaches ``loss_floor``.

    The step size is raised as the loss decays (:math:`\eta_c = \min(2\eta_{c-1},\
    \tfrac12/(\ell\,L_0))` per chunk of ``chunk`` steps, with :math:`\ell` the loss and
    :math:`L_0 = (\|W\|_2^2 + \|H\|_2^2)/N`): the Hessian of the CE data term is of the order of
    the loss times :math:`L_0` once the samples are separated, so this keeps
    :math:`\eta\times` curvature :math:`\le 1/2`, and it is a time change of gradient flow (the
    normalized step of Nacson et al. 2019 [4]_), reaching a loss of 1e-12 in a few thousand
    steps instead of 1e12. Below ~1e-12 the float64 cross-entropy of logits of size ~30 loses its
    digits (log(1 + e^{-q}) with q ~ 30), which is why the run stops there; the margin scale is
    then :math:`q_{\min}\approx -\log(\ell) \approx 28` and the normalized margin is within
    O(1/q_min) of its limit (module docstring).

    Parameters
    ----------
    problem : Problem
        CE, ``lambda_W = lambda_H = 0``, ``bias='none'``.
    seed : int
    init_scale : float
        Standard deviation of the random start (small: the implicit bias acts from near 0).
    loss_floor : float
        Stop once the loss is <= this value (> 0).
    chunk : int
        Steps per call of the compiled loop.
    max_chunks : int
        Chunks before giving up.

    Returns
    -------
    MarginDescent

    Raises
    ------
    InvalidParameter
        A problem with a regularizer, a bias or another loss; bad numbers.
    NotConverged
        The loss did not reach ``loss_floor`` within ``max_chunks`` chunks.
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    if problem.loss != "ce" or problem.bias != "none":
        raise InvalidParameter(
            f"margin_descent needs loss='ce' and bias='none', got loss={problem.loss!r}, "
            f"bias={problem.bias!r}"
        )
    if problem.lambda_W != 0 or problem.lambda_H != 0:
        raise InvalidParameter(
            "margin_descent needs lambda_W = lambda_H = 0 (no weight decay), got "
            f"lambda_W={problem.lambda_W}, lambda_H={problem.lambda_H}"
        )
    loss_floor = check_positive("loss_floor", loss_floor)
    chunk = check_int("chunk", chunk, 1)
    max_chunks = check_int("max_chunks", max_chunks, 1)
    W, H, b = initialize(problem, seed, init_scale)
    lr, loss, steps = 1.0, float("inf"), 0
    for c in range(max_chunks):
        if c:
            curvature = (np.linalg.norm(W, 2) ** 2 + np.linalg.norm(H, 2) ** 2) / problem.N
            lr = min(2.0 * lr, 0.5 / (curvature * min(loss, 1.0)))
        result = gradient_descent(problem, steps=chunk, lr=lr, init=(W, H, b), record_every=chunk)
        W, H, loss = result.W, result.H, float(result.objective[-1])
        steps += chunk
        if loss <= loss_floor:
            return MarginDescent(
                problem, W, H, loss, normalized_margin(W, H, problem.labels), steps
            )
    raise NotConverged(
        f"the CE loss is {loss:.3g} > loss_floor={loss_floor:g} after {steps} steps; raise "
        "max_chunks"
    )
