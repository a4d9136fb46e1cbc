r"""Softmax codes: the one-versus-rest margin of unit classifiers, exactly and by ascent.

For classifier rows :math:`w_1, \dots, w_K \in \mathbb R^d` (W is K x d) the one-versus-rest
margin of class k is

.. math:: m_k(W) = \operatorname{dist}\big(w_k,\ \operatorname{conv}\{w_j : j \ne k\}\big)
          = \max_{\|h\|\le 1}\ \min_{j\ne k}\ (w_k - w_j)^\top h,

(the second form by the minimax theorem: a bilinear function on a ball times a simplex; the
maximizing h is :math:`(w_k - p_k)/\|w_k - p_k\|`, :math:`p_k` the nearest point of the hull, when
:math:`m_k > 0`), and the margin of W is :math:`m(W) = \min_k m_k(W)`. This is the GNC2 quantity
of Jiang et al. (2023) [1]_, whose code evaluates :math:`\max_{\|h\|=1}\min_{j\ne k}(w_k-w_j)^\top
h` by projected gradient; here it is a quadratic program (:func:`one_vs_rest_margins`), with a
two-sided bracket read off its solution. *Softmax codes* are the unit rows maximizing m(W); on
them, with one unit feature per class, the spherical CE UFM at temperature :math:`\tau \to 0`
concentrates [1]_.

Known softmax codes (derived here; consistent with [1]_ and, for d + 2 <= K <= 2d, [2]_):

* K <= d + 1: the simplex ETF, :math:`m = K/(K-1)`;
* d = 2: the regular K-gon, :math:`m = 1 - \cos(2\pi/K)`;
* K = 2d: the cross-polytope :math:`\{\pm e_i\}`, m = 1.

:func:`exact_margin` certifies the margin of an exact configuration in sympy;
:func:`max_min_margin_ascent` searches for softmax codes by Riemannian ascent.

References
----------
.. [1] Jiang, Zhou, Wang, Balzano, Zhu & Qu (2023), "Generalized neural collapse for a large number
   of classes", arXiv 2310.05351.
.. [2] Alcala, Andreeva, Kobzar, Mixon, Na, Sule & Xie (2026), "Neural collapse in the orthoplex
   regime", arXiv 2603.20587.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ._repr import short_repr
from ._validation import check_int, check_matrix, check_positive
from .errors import InvalidParameter

__all__ = [
    "polygon",
    "cross_polytope",
    "exact_margin",
    "OneVsRestMargins",
    "one_vs_rest_margins",
    "CodeAscent",
    "max_min_margin_ascent",
]

#: Significant digits at which :func:`exact_margin` decides the sign of a non-zero exact number.
_SIGN_DIGITS = 50


def polygon(K: int, *, exact: bool = False):
    r"""The regular K-gon as K x 2 unit rows :math:`w_k = (\cos(2\pi k/K), \sin(2\pi k/K))`.

    Returns an ndarray, or a sympy Matrix with ``exact=True``. Raises InvalidParameter if K < 3.
    """
    K = check_int("K", K, 3)
    if exact:
        return sp.Matrix([[sp.cos(2 * sp.pi * k / K), sp.sin(2 * sp.pi * k / K)] for k in range(K)])
    angles = 2 * np.pi * np.arange(K) / K
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def cross_polytope(d: int, *, exact: bool = False):
    r"""The cross-polytope as 2d x d unit rows :math:`e_1, -e_1, e_2, -e_2, \dots`.

    Returns an ndarray, or a sympy Matrix with ``exact=True``. Raises InvalidParameter if d < 1.
    """
    d = check_int("d", d, 1)
    W = np.zeros((2 * d, d))
    W[0::2] = np.eye(d)
    W[1::2] = -np.eye(d)
    return sp.Matrix(W.astype(int)) if exact else W


def _sign(expr) -> int:
    """Exact sign: 0 if simplify proves zero, else the sign at _SIGN_DIGITS digits."""
    expr = sp.simplify(expr)
    if expr == 0:
        return 0
    value = expr.evalf(_SIGN_DIGITS)
    if not value.is_real or abs(value) < sp.Float(10) ** (5 - _SIGN_DIGITS):
        raise InvalidParameter(f"cannot decide the sign of {expr} (value {value})")
    return 1 if value > 0 else -1


def exact_margin(W, k: int, support) -> sp.Expr:
    r"""The exact margin :math:`m_k(W)` from a candidate face of the hull, certified both ways.

    The nearest point of the affine hull of :math:`\{w_j : j \in S\}` (S = ``support``, not
    containing k) solves the KKT system :math:`\min\|w_k - A^\top\alpha\|^2` s.t.
    :math:`\mathbf 1^\top\alpha = 1` (A: rows of W in S). If :math:`\alpha \ge 0` then
    :math:`p = A^\top\alpha` lies in the hull, so :math:`m_k \le \|u\|`, :math:`u = w_k - p`; and
    the direction :math:`h = u/\|u\|` gives :math:`m_k \ge \min_{j\ne k}(w_k - w_j)^\top u/\|u\|`.
    The margin is certified when the two bounds agree, i.e.
    :math:`(w_k - w_j)^\top u \ge u^\top u` for every :math:`j \ne k` (derived here).

    Parameters
    ----------
    W : sympy.Matrix, shape (K, d)
        Exact rows.
    k : int
        The class.
    support : sequence of int
        Indices of the face's vertices (distinct, != k).

    Returns
    -------
    sympy.Expr
        :math:`m_k(W) = \|u\|`.

    Raises
    ------
    InvalidParameter
        Bad k or support, a singular KKT system, a negative weight, or a certificate that fails
        (the support is not the face nearest to w_k). Signs of non-zero numbers are decided at
        50 significant digits, zeros by ``sympy.simplify``.

    Examples
    --------
    >>> exact_margin(polygon(4, exact=True), 0, (1, 3))
    1
    """
    if not isinstance(W, sp.MatrixBase):
        raise InvalidParameter(f"W must be a sympy Matrix, got {type(W).__name__}")
    K = W.rows
    k = check_int("k", k, 0)
    support = [check_int("support entry", j, 0) for j in support]
    if k >= K or not support or len(set(support)) != len(support) or k in support:
        raise InvalidParameter(
            f"k must be < K={K} and support distinct indices < K without k, got k={k}, "
            f"support={support}"
        )
    if max(support) >= K:
        raise InvalidParameter(f"support indices must be < K={K}, got {support}")
    A = W.extract(support, list(range(W.cols)))
    s = len(support)
    kkt = sp.BlockMatrix(
        [[2 * A * A.T, sp.ones(s, 1)], [sp.ones(1, s), sp.zeros(1, 1)]]
    ).as_explicit()
    if sp.simplify(kkt.det()) == 0:
        raise InvalidParameter(f"the support {support} is affinely dependent (singular KKT system)")
    rhs = (2 * A * W[k, :].T).col_join(sp.Matrix([1]))
    alpha = sp.simplify(kkt.LUsolve(rhs))[:s, 0]
    if any(_sign(a) < 0 for a in alpha):
        raise InvalidParameter(f"the nearest point of the face {support} is outside it: {alpha}")
    u = W[k, :].T - A.T * alpha
    uu = sp.simplify((u.T * u)[0, 0])
    for j in range(K):
        if j != k and _sign(((W[k, :] - W[j, :]) * u)[0, 0] - uu) < 0:
            raise InvalidParameter(
                f"the face {support} is not the nearest face to w_{k}: w_{j} violates the bound"
            )
    return sp.sqrt(uu)


@dataclass(frozen=True, eq=False)
class OneVsRestMargins:
    """Margins of each class and the bracket certifying them (:func:`one_vs_rest_margins`).

    Attributes
    ----------
    upper : ndarray, shape (K,)
        :math:`\\|w_k - p_k\\|` for a point :math:`p_k` of the hull of the others (>= m_k).
    lower : ndarray, shape (K,)
        :math:`\\min_{j\\ne k}(w_k - w_j)^\\top h_k` for the unit direction h_k (<= m_k).
    directions : ndarray, shape (d, K)
        h_k, column k.
    margin : float
        min_k upper: m(W) up to the bracket's width.
    margin_lower : float
        min_k lower.
    solver : str
    duality_gap : float
    """

    __repr__ = short_repr

    upper: np.ndarray
    lower: np.ndarray
    directions: np.ndarray
    margin: float
    margin_lower: float
    solver: str
    duality_gap: float


def one_vs_rest_margins(W, *, solver: str = "clarabel", tol: float | None = None):
    r"""One-versus-rest margins of W by one quadratic program, with a certified bracket.

    Solves, for all k at once (the program separates over k),

    .. math:: \min_{\alpha}\ \sum_{k=1}^K\Big\|w_k - \sum_{j\ne k}\alpha_{kj}w_j\Big\|^2
              \quad\text{s.t.}\quad \alpha_{kj}\ge 0,\ \alpha_{kk} = 0,\
              \textstyle\sum_j\alpha_{kj} = 1,

    then cleans each row of :math:`\alpha` onto the simplex (clip, renormalize), so that
    :math:`p_k = \sum_j\alpha_{kj}w_j` lies exactly in the hull: :math:`m_k \le \|w_k - p_k\|`
    (``upper``); and with :math:`h_k = (w_k - p_k)/\|w_k - p_k\|`,
    :math:`m_k \ge \min_{j\ne k}(w_k - w_j)^\top h_k` (``lower``; module docstring for m_k). At an
    optimal :math:`\alpha` the two agree; the solver's accuracy sets the width.

    Parameters
    ----------
    W : array_like, shape (K, d)
        Classifier rows (K >= 2, finite; unit norms are not required).
    solver : {'clarabel', 'scs'}
    tol : float, optional
        Solver tolerance (default that of :mod:`ufm.relaxations`).

    Returns
    -------
    OneVsRestMargins

    Raises
    ------
    InvalidParameter
        W not a finite K x d matrix with K >= 2.
    SolverFailed
        The solver did not reach optimality.

    Examples
    --------
    >>> r = one_vs_rest_margins(polygon(6))
    >>> bool(abs(r.margin - 0.5) < 1e-6 and r.margin_lower <= 0.5 + 1e-12)
    True
    """
    from .relaxations._solve import import_cvxpy, resolve_tolerance, solve

    W = check_matrix("W", W, (None, None))
    K = W.shape[0]
    if K < 2:
        raise InvalidParameter(f"W must have K >= 2 rows, got {K}")
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    alpha = cp.Variable((K, K), nonneg=True)
    program = cp.Problem(
        cp.Minimize(cp.sum_squares(W - alpha @ W)),
        [cp.diag(alpha) == 0, cp.sum(alpha, axis=1) == 1],
    )
    info = solve(program, solver, tol, "one-versus-rest margin QP")
    a = np.clip(np.asarray(alpha.value, dtype=float), 0.0, None)
    np.fill_diagonal(a, 0.0)
    a /= a.sum(axis=1, keepdims=True)
    U = W - a @ W
    upper = np.linalg.norm(U, axis=1)
    H = (U / np.where(upper > 0, upper, 1.0)[:, None]).T
    diffs = np.einsum("kd,dk->k", W, H)[:, None] - W @ H
    np.fill_diagonal(diffs, np.inf)
    lower = diffs.min(axis=0)
    return OneVsRestMargins(
        upper=upper,
        lower=lower,
        directions=H,
        margin=float(upper.min()),
        margin_lower=float(lower.min()),
        solver=info.solver,
        duality_gap=info.duality_gap,
    )


@dataclass(frozen=True, eq=False)
class CodeAscent:
    """Best run of :func:`max_min_margin_ascent`.

    Attributes
    ----------
    W : ndarray, shape (K, d)
        Unit classifier rows.
    H : ndarray, shape (d, K)
        Unit feature per class.
    margin : float
        :math:`\\min_k\\min_{j\\ne k}(w_k - w_j)^\\top h_k \\le m(W) \\le \\max_W m(W)`.
    margins : ndarray, shape (starts,)
        The same for every start.
    """

    __repr__ = short_repr

    W: np.ndarray
    H: np.ndarray
    margin: float
    margins: np.ndarray


def _pair_margins(W: np.ndarray, H: np.ndarray) -> np.ndarray:
    """m[k, j] = (w_k - w_j)^T h_k, +inf on the diagonal."""
    WH = W @ H
    m = np.diag(WH)[None, :] - WH
    np.fill_diagonal(m, np.inf)
    return m.T


def _ascend(W, H, taus, lr):
    for tau in taus:
        m = _pair_margins(W, H)
        lowest = m.min()
        P = np.exp(-(m - lowest) / tau)
        P /= P.sum()
        # dF/dm_kj = P_kj for F = -tau log sum exp(-m/tau); m_kj = (w_k - w_j)^T h_k
        gW = P.sum(axis=1)[:, None] * H.T - P.T @ H.T
        gH = (P.sum(axis=1)[:, None] * W - P @ W).T
        gW -= np.sum(gW * W, axis=1, keepdims=True) * W
        gH -= np.sum(gH * H, axis=0, keepdims=True) * H
        W = W + lr * tau * gW
        H = H + lr * tau * gH
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        H /= np.linalg.norm(H, axis=0, keepdims=True)
    return W, H


def max_min_margin_ascent(
    K: int,
    d: int,
    *,
    seed: int,
    starts: int = 4,
    steps: int = 4000,
    tau_start: float = 0.1,
    tau_end: float = 1e-4,
    lr: float = 1.0,
) -> CodeAscent:
    r"""Search for a softmax code by Riemannian gradient ascent on a smoothed minimal margin.

    Maximizes over unit rows :math:`w_k` and unit features :math:`h_k` (one per class)

    .. math:: F_\tau(W, H) = -\tau\log\sum_{k}\sum_{j\ne k}
              \exp\big(-(w_k - w_j)^\top h_k/\tau\big),

    which is the negative cross-entropy objective of the spherical UFM with one feature per class
    at temperature :math:`\tau`, up to the log: :math:`\min_{k,j} m_{kj} - \tau\log(K(K-1))
    \le F_\tau \le \min_{k,j} m_{kj}`. The step is :math:`\eta = \texttt{lr}\,\tau` along the
    Riemannian gradient (the smoothed function's curvature grows like :math:`1/\tau`), followed by
    normalization, with :math:`\tau` annealed geometrically from ``tau_start`` to ``tau_end``.
    Every returned margin is that of a feasible point, hence a certified lower bound on
    :math:`\max_W m(W)` (module docstring); the best of ``starts`` random starts is returned.

    Parameters
    ----------
    K, d : int
        K >= 2 classes in dimension d >= 1.
    seed : int
        Seed of the Gaussian starts.
    starts, steps : int
        Random starts (>= 1) and steps per start (>= 1).
    tau_start, tau_end : float
        Temperature schedule (> 0, tau_end <= tau_start).
    lr : float
        Step per unit temperature (> 0).

    Returns
    -------
    CodeAscent

    Raises
    ------
    InvalidParameter
        An argument out of range.

    Examples
    --------
    >>> r = max_min_margin_ascent(4, 2, seed=0, starts=2, steps=2000)
    >>> bool(0.99 < r.margin <= 1 + 1e-12)  # the square: 1 - cos(pi/2) = 1
    True
    """
    K, d = check_int("K", K, 2), check_int("d", d, 1)
    seed, starts, steps = (
        check_int("seed", seed, 0),
        check_int("starts", starts, 1),
        check_int("steps", steps, 1),
    )
    tau_start, tau_end = check_positive("tau_start", tau_start), check_positive("tau_end", tau_end)
    lr = check_positive("lr", lr)
    if tau_end > tau_start:
        raise InvalidParameter(f"tau_end must be <= tau_start={tau_start}, got {tau_end}")
    taus = np.geomspace(tau_start, tau_end, steps)
    rng = np.random.default_rng(seed)
    best, margins = None, []
    for _ in range(starts):
        W = rng.standard_normal((K, d))
        H = W.T.copy()
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        H /= np.linalg.norm(H, axis=0, keepdims=True)
        W, H = _ascend(W, H, taus, lr)
        margins.append(float(_pair_margins(W, H).min()))
        if best is None or margins[-1] > best[2]:
            best = (W, H, margins[-1])
    return CodeAscent(W=best[0], H=best[1], margin=best[2], margins=np.asarray(margins))
