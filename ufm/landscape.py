r"""Second-order landscape of the regularized UFM: exact Hessian, curvature, critical points.

The objective (conventions of :mod:`ufm.objectives`) is

.. math:: f(W,H,b) = L(Z) + \frac{\lambda_W}{2}\|W\|_F^2 + \frac{\lambda_H}{2}\|H\|_F^2
          + \frac{\lambda_b}{2}\|b\|^2, \qquad Z = WH + b\mathbf 1_N^\top,

with L the normalized CE or MSE data term. Because Z is bilinear in (W, H), the Hessian in a
direction :math:`V = (\Delta W, \Delta H, \Delta b)` is

.. math:: \nabla^2 f[V, V] = \langle \nabla^2 L(Z)[\Delta Z], \Delta Z\rangle
          + 2\langle G, \Delta W\,\Delta H\rangle + \lambda_W\|\Delta W\|_F^2
          + \lambda_H\|\Delta H\|_F^2 + \lambda_b\|\Delta b\|^2,

where :math:`\Delta Z = \Delta W H + W\Delta H + \Delta b\mathbf 1^\top`, :math:`G = \nabla L(Z)`
and :math:`\nabla^2 L(Z)[\Delta Z]` has columns
:math:`\frac1N(\operatorname{diag}(p_i) - p_ip_i^\top)\Delta z_i` (CE,
:math:`p_i = \mathrm{softmax}(z_i)`) or :math:`\frac1N\Delta Z` (MSE). The middle term, the cross
term of the bilinearity, is the only source of negative curvature.

Variables are flattened by :func:`pack`: ``x = [W.ravel(), H.ravel(), b]`` (row-major; b omitted for
``bias='none'``), so P = Kd + dN (+ K).

Strict saddles. Zhu et al. (2021) [1]_ prove for CE, and Zhou et al. (2022) [2]_ for MSE, that every
critical point of the regularized UFM that is not a global minimizer has a direction of negative
curvature; [1]_ assumes a feature dimension d > K (the case d = K is treated by Shen & Gu [3]_).
This module builds the known non-global critical points in closed form (:func:`critical_points`) and
measures their curvature (:func:`classify_critical_point`); the closed forms are derived here (see
``proofs/strict_saddle.py``) and are consistent with [1]_ and [2]_.

References
----------
.. [1] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS (global landscape: strict-saddle theorem, d > K).
.. [2] Zhou, Li, Ding, You, Qu & Zhu (2022), "On the optimization landscape of neural collapse under
   MSE loss: global optimality with unconstrained features", ICML.
.. [3] Shen & Gu (2024), "Geometric analysis of unconstrained feature models with d = K",
   arXiv:2407.10702.

Length: one concern (second-order analysis); the exact Hessian, its matrix-free product and the
critical points share the link Hessians and the block layout, which would otherwise be
re-exported between modules.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.optimize
import scipy.sparse.linalg

from ._validation import check_int
from .errors import InvalidParameter, NotConverged
from .objectives import check_point, data_term, gradient, logits
from .problem import Problem
from .tolerances import NEGATIVE_CURVATURE, STATIONARY

__all__ = [
    "pack",
    "unpack",
    "hessian",
    "hessian_vector_product",
    "extreme_eigenpairs",
    "escape_direction",
    "classify_critical_point",
    "critical_points",
    "origin_spectrum",
    "Direction",
    "ExtremeEigenpairs",
    "CriticalPointReport",
    "CriticalPoint",
    "DENSE_MAX",
]

#: Largest number of variables P for which :func:`extreme_eigenpairs` forms the dense Hessian (a
#: P x P float64 matrix of 2000^2 * 8 B = 32 MB and an O(P^3) eigh of about a second); larger
#: problems use ARPACK on the matrix-free Hessian-vector product.
DENSE_MAX = 2000

#: ARPACK relative accuracy, far below NEGATIVE_CURVATURE: a small eigenvalue's sign is reliable.
_ARPACK_TOL = 1e-12


class Direction(NamedTuple):
    """A direction in parameter space, shaped like (W, H, b); ``b`` is None for ``bias='none'``."""

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray | None


class ExtremeEigenpairs(NamedTuple):
    """The k smallest and k largest Hessian eigenvalues (ascending), eigenvectors as P x k."""

    smallest: np.ndarray
    smallest_vectors: np.ndarray
    largest: np.ndarray
    largest_vectors: np.ndarray


class CriticalPointReport(NamedTuple):
    """Second-order summary of a point; ``direction`` is the unit eigenvector of ``lambda_min``."""

    grad_norm: float
    lambda_min: float
    lambda_max: float
    verdict: str
    direction: Direction


class CriticalPoint(NamedTuple):
    """A named exact critical point; iterates as ``(name, W, H, b)``, b None for ``bias='none'``."""

    name: str
    W: np.ndarray
    H: np.ndarray
    b: np.ndarray | None


def _size(problem: Problem) -> int:
    K, d, N = problem.K, problem.d, problem.N
    return K * d + d * N + (K if problem.has_bias else 0)


def pack(W, H, b=None) -> np.ndarray:
    """Flatten (W, H, b) into ``x = [W.ravel(), H.ravel(), b]`` (row-major; b skipped when None)."""
    parts = [np.ravel(np.asarray(W, dtype=float)), np.ravel(np.asarray(H, dtype=float))]
    if b is not None:
        parts.append(np.ravel(np.asarray(b, dtype=float)))
    return np.concatenate(parts)


def unpack(problem: Problem, x) -> Direction:
    """Inverse of :func:`pack` for ``problem``'s shapes; ``b`` is None for ``bias='none'``.

    Raises
    ------
    InvalidParameter
        If ``x`` is not a vector of length P = Kd + dN (+ K with a bias).
    """
    K, d, N = problem.K, problem.d, problem.N
    x = np.asarray(x, dtype=float)
    P = _size(problem)
    if x.shape != (P,):
        raise InvalidParameter(
            f"x must be a vector of length P={P} for this problem, got shape {x.shape}"
        )
    W = x[: K * d].reshape(K, d)
    H = x[K * d : K * d + d * N].reshape(d, N)
    b = x[K * d + d * N :] if problem.has_bias else None
    return Direction(W, H, b)


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0)


def _prepare(problem: Problem, W, H, b):
    W, H, b = check_point(problem, W, H, b)
    _, G = data_term(problem.loss_fn, logits(W, H, b), problem.labels)
    return W, H, b, G


def _hvp(problem: Problem, W, H, b, G, V: Direction) -> np.ndarray:
    dW, dH = V.W, V.H
    dZ = dW @ H + W @ dH
    if problem.has_bias:
        dZ = dZ + V.b[:, None]
    S = problem.loss_fn.link_impl.hessian_apply(logits(W, H, b), dZ)
    out_W = S @ H.T + G @ dH.T + problem.lambda_W * dW
    out_H = W.T @ S + dW.T @ G + problem.lambda_H * dH
    out_b = S.sum(axis=1) + problem.lambda_b * V.b if problem.has_bias else None
    return pack(out_W, out_H, out_b)


def hessian_vector_product(problem: Problem, W, H, b, V) -> np.ndarray:
    r"""Matrix-free product of the exact Hessian with a direction, in O(KdN) operations.

    .. math:: \nabla^2 f\,V = \bigl(S H^\top + G\,\Delta H^\top + \lambda_W\Delta W,\;
              W^\top S + \Delta W^\top G + \lambda_H\Delta H,\;
              S\mathbf 1 + \lambda_b\Delta b\bigr),
              \qquad S = \nabla^2 L(Z)[\Delta W H + W\Delta H + \Delta b\mathbf 1^\top]

    (module docstring for :math:`\nabla^2 L`; :math:`\lambda_b = 0` for ``bias='free'``).

    Parameters
    ----------
    problem : Problem
    W : array_like, shape (K, d)
    H : array_like, shape (d, N)
    b : array_like, shape (K,), or None for ``bias='none'``
    V : array_like, shape (P,)
        The direction, flattened by :func:`pack`.

    Returns
    -------
    ndarray, shape (P,)
        The product, flattened by :func:`pack`.

    Raises
    ------
    InvalidParameter
        Wrong shapes or non-finite entries.
    """
    W, H, b, G = _prepare(problem, W, H, b)
    return _hvp(problem, W, H, b, G, unpack(problem, V))


def hessian(problem: Problem, W, H, b=None) -> np.ndarray:
    r"""The exact (analytic) Hessian of the objective at (W, H, b), as a dense P x P matrix.

    With :math:`J` the Jacobian of :math:`\operatorname{vec}(Z)` (row-major) in the variables of
    :func:`pack` -- :math:`J_W = I_K\otimes H^\top`, :math:`J_H = W\otimes I_N`,
    :math:`J_b = I_K\otimes\mathbf 1_N` --

    .. math:: \nabla^2 f = J^\top \nabla^2 L(Z)\, J + C
              + \operatorname{diag}(\lambda_W I, \lambda_H I, \lambda_b I),
              \qquad C_{(k,j),(j',i)} = \delta_{jj'} G_{ki}

    where C (and its transpose) is the W-H cross term of the bilinearity, :math:`G = \nabla L(Z)`,
    and :math:`\nabla^2 L(Z)` is block diagonal over samples:
    :math:`\frac1N(\operatorname{diag}(p_i) - p_ip_i^\top)` for CE, :math:`\frac1N I_K` for MSE.

    Parameters
    ----------
    problem : Problem
    W : array_like, shape (K, d)
    H : array_like, shape (d, N)
    b : array_like, shape (K,), optional
        Required unless ``bias='none'``.

    Returns
    -------
    ndarray, shape (P, P)
        Symmetric; P = Kd + dN (+ K with a bias), ordered as :func:`pack`.

    Raises
    ------
    InvalidParameter
        Wrong shapes or non-finite entries.

    Examples
    --------
    >>> import numpy as np
    >>> p = Problem(loss='mse', K=2, d=1, n=1, lambda_W=0.25, lambda_H=0.25, bias='none')
    >>> Hess = hessian(p, np.zeros((2, 1)), np.zeros((1, 2)))   # the origin, kappa = 1/2
    >>> Hess.shape, float(np.linalg.eigvalsh(Hess)[0])           # lambda - 1/(K sqrt(n))
    ((4, 4), -0.25)
    """
    W, H, b, G = _prepare(problem, W, H, b)
    K, d, N = problem.K, problem.d, problem.N
    Z = logits(W, H, b)
    blocks = [np.kron(np.eye(K), H.T), np.kron(W, np.eye(N))]
    if problem.has_bias:
        blocks.append(np.kron(np.eye(K), np.ones((N, 1))))
    J = np.hstack(blocks)
    # D[(k,i),(l,i')] = delta_ii' B_i[k,l] / N with B_i the link's Hessian of sample i, row/column
    # index k*N + i
    B = problem.loss_fn.link_impl.hessian_blocks(Z)
    D = np.einsum("ikl,ij->kilj", B, np.eye(N)).reshape(K * N, K * N) / N
    Hess = J.T @ D @ J
    nW, nH = K * d, d * N
    C = np.einsum("ki,jl->kjli", G, np.eye(d)).reshape(nW, nH)
    Hess[:nW, nW : nW + nH] += C
    Hess[nW : nW + nH, :nW] += C.T
    diag = [np.full(nW, problem.lambda_W), np.full(nH, problem.lambda_H)]
    if problem.has_bias:
        diag.append(np.full(K, problem.lambda_b))
    Hess[np.diag_indices_from(Hess)] += np.concatenate(diag)
    return 0.5 * (Hess + Hess.T)


def extreme_eigenpairs(problem: Problem, W, H, b=None, k: int = 1, dense: bool | None = None):
    """The k smallest and k largest eigenvalues of the Hessian with unit eigenvectors.

    Dense ``numpy.linalg.eigh`` of :func:`hessian` when P <= :data:`DENSE_MAX` (or ``dense=True``);
    otherwise ARPACK (``scipy.sparse.linalg.eigsh``, ``which='SA'`` and ``'LA'``, tol 1e-12, a fixed
    starting vector for reproducibility) on :func:`hessian_vector_product`.

    Parameters
    ----------
    problem, W, H, b
        As in :func:`hessian`.
    k : int
        Number of eigenpairs at each end, 1 <= k < P (and 2k <= P for the dense route to be
        meaningful).
    dense : bool, optional
        Force (True) or forbid (False) the dense route; default by size.

    Returns
    -------
    ExtremeEigenpairs
        ``smallest`` (k,), ``smallest_vectors`` (P, k), ``largest`` (k,), ``largest_vectors``
        (P, k), eigenvalues ascending.

    Raises
    ------
    InvalidParameter
        Bad shapes, or k outside 1..P-1.
    NotConverged
        If ARPACK does not converge.
    """
    W, H, b, G = _prepare(problem, W, H, b)
    P = _size(problem)
    k = check_int("k", k, 1)
    if k >= P:
        raise InvalidParameter(f"k must be < P={P} (the number of variables), got {k}")
    if dense is None:
        dense = P <= DENSE_MAX
    if dense:
        # LAPACK syevd (divide and conquer): scipy's default MRRR driver (evr) fails on some of
        # these Hessians with "Internal Error" (exactly repeated eigenvalues from the symmetries)
        values, vectors = np.linalg.eigh(hessian(problem, W, H, b))
        return ExtremeEigenpairs(values[:k], vectors[:, :k], values[-k:], vectors[:, -k:])
    op = scipy.sparse.linalg.LinearOperator(
        (P, P),
        matvec=lambda v: _hvp(problem, W, H, b, G, unpack(problem, np.ravel(v))),
        dtype=float,
    )
    v0 = np.random.default_rng(0).standard_normal(P)
    ends = []
    for which in ("SA", "LA"):
        try:
            values, vectors = scipy.sparse.linalg.eigsh(
                op, k=k, which=which, tol=_ARPACK_TOL, v0=v0
            )
        except scipy.sparse.linalg.ArpackNoConvergence as exc:
            raise NotConverged(
                f"ARPACK did not converge for the {which} Hessian eigenvalues (P={P}); "
                "use dense=True if the dense matrix fits in memory"
            ) from exc
        order = np.argsort(values)
        ends.append((values[order], vectors[:, order]))
    (lo, lo_vec), (hi, hi_vec) = ends
    return ExtremeEigenpairs(lo, lo_vec, hi, hi_vec)


def escape_direction(problem: Problem, W, H, b=None) -> tuple[float, Direction]:
    r"""The most negative curvature and its unit direction: :math:`(\lambda_{\min}, v)`.

    Along v,
    :math:`f(x + tv) = f(x) + t\langle\nabla f, v\rangle + \tfrac{t^2}{2}\lambda_{\min} + O(t^3)`;
    at a critical point with :math:`\lambda_{\min} < 0` a step along :math:`\pm v` decreases f. If
    :math:`\lambda_{\min} \ge 0` there is no escape direction and v is merely the eigenvector.

    Returns
    -------
    value : float
        The smallest Hessian eigenvalue.
    direction : Direction
        The unit eigenvector, shaped like (W, H, b).
    """
    pairs = extreme_eigenpairs(problem, W, H, b, k=1)
    return float(pairs.smallest[0]), unpack(problem, pairs.smallest_vectors[:, 0])


def classify_critical_point(
    problem: Problem,
    W,
    H,
    b=None,
    grad_tol: float = STATIONARY,
    curvature_tol: float = NEGATIVE_CURVATURE,
) -> CriticalPointReport:
    """Gradient norm, extreme Hessian eigenvalues and a second-order verdict at (W, H, b).

    Verdicts: ``'not critical'`` if ``||grad f|| > grad_tol``; otherwise ``'strict saddle'`` if
    ``lambda_min < -curvature_tol``; otherwise ``'local minimum (second-order)'`` (the second-order
    necessary conditions hold; rotations of feature space make some eigenvalues exactly zero).

    Parameters
    ----------
    problem, W, H, b
        As in :func:`hessian`.
    grad_tol : float
        Default :data:`ufm.tolerances.STATIONARY` (for exact constructions; loosen for iterates of a
        descent method, whose gradient is only as small as its stopping rule).
    curvature_tol : float
        Default :data:`ufm.tolerances.NEGATIVE_CURVATURE`.

    Returns
    -------
    CriticalPointReport
        ``grad_norm, lambda_min, lambda_max, verdict, direction`` (unit eigenvector of lambda_min).
    """
    g = gradient(problem, W, H, b)
    grad_norm = float(np.linalg.norm(pack(g.W, g.H, g.b if problem.has_bias else None)))
    pairs = extreme_eigenpairs(problem, W, H, b, k=1)
    lam_min, lam_max = float(pairs.smallest[0]), float(pairs.largest[-1])
    if grad_norm > grad_tol:
        verdict = "not critical"
    elif lam_min < -curvature_tol:
        verdict = "strict saddle"
    else:
        verdict = "local minimum (second-order)"
    direction = unpack(problem, pairs.smallest_vectors[:, 0])
    return CriticalPointReport(grad_norm, lam_min, lam_max, verdict, direction)


# Known critical points ---------------------------------------------------------------------------


def _optimal_bias(problem: Problem, Zbar: np.ndarray) -> np.ndarray:
    r"""Stationary bias for collapsed logits Zbar (K x K, column k shared by class k).

    Solves :math:`\sum_k \pi_k \nabla\ell(\bar z_k + b; t_k) + \lambda_b b = 0`
    (:math:`\pi_k = n_k/N`) by :meth:`ufm.losses.Loss.stationary_bias`. For ``bias='free'`` and a
    shift-invariant loss b is determined up to a multiple of 1 and the mean-zero gauge is returned.
    """
    K = problem.K
    if problem.bias == "none":
        return np.zeros(K)
    pi = np.asarray(problem.class_sizes, dtype=float) / problem.N
    b = problem.loss_fn.stationary_bias(Zbar, pi, problem.lambda_b)
    if problem.bias == "free" and problem.loss_fn.shift_invariant:
        b = b - b.mean()
    return b


def _collapsed_point(problem: Problem, E: np.ndarray, s: float, b) -> tuple:
    """W = a E U^T, class means c U E^T (U = first columns of I_d), a c = s, c/a balanced."""
    d, r = problem.d, E.shape[1]
    n = problem.n
    ratio = np.sqrt(problem.lambda_W / (n * problem.lambda_H))  # c / a, from the W and H equations
    a = np.sqrt(s / ratio)
    c = a * ratio
    U = np.eye(d)[:, :r]
    W = a * E @ U.T
    H = np.repeat(c * U @ E.T, n, axis=1)
    return W, H, (b if problem.has_bias else None)


def _subspace(K: int, S: list[int], centred: bool) -> np.ndarray:
    """Orthonormal basis (K x r) of span{e_k : k in S}, or of its zero-sum vectors if centred."""
    basis = np.eye(K)[:, S]
    if centred:
        M = basis @ (np.eye(len(S)) - 1.0 / len(S))
        U = np.linalg.svd(M, full_matrices=False)[0]
        return U[:, : len(S) - 1]
    return basis


def _target_gap(problem: Problem) -> float:
    """t_own - t_other: the loss's target gap (1 for one-hot targets, 1 - alpha with smoothing)."""
    own, other = problem.loss_fn.target_pair(problem.K)
    return own - other


def _ce_gap(problem: Problem, m: int, s: float) -> tuple[float, np.ndarray]:
    """Residual g - (p_own - p_other) - kappa on the sub-simplex of the first m classes, and b
    (g = t_own - t_other, :func:`_target_gap`)."""
    K = problem.K
    V = _subspace(K, list(range(m)), centred=True)
    Zbar = s * V @ V.T
    b = _optimal_bias(problem, Zbar)
    p = _softmax(Zbar + b[:, None])
    return _target_gap(problem) - (p[0, 0] - p[1, 0]) - _kappa(problem), b


def _kappa(problem: Problem) -> float:
    return problem.K * float(np.sqrt(problem.n * problem.lambda_W * problem.lambda_H))


def _ce_subsimplex_scale(problem: Problem, m: int) -> float | None:
    """The root s > 0 of the reduced CE stationarity equation, or None if it has none."""
    hi = 1.0
    while _ce_gap(problem, m, hi)[0] > 0:
        hi *= 2.0
        if hi > 1e4:
            return None
    return scipy.optimize.brentq(
        lambda s: _ce_gap(problem, m, s)[0], 0.0, hi, xtol=1e-15, rtol=1e-15
    )


def critical_points(problem: Problem) -> list[CriticalPoint]:
    r"""Exact critical points of the regularized UFM that are strict saddles below the threshold.

    With :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}` (balanced classes):

    * ``origin``: W = 0, H = 0 and the stationary bias b_0 (CE: softmax(b_0) = class proportions
      when free, b_0 = 0 for balanced classes; MSE: :math:`b_0 = \pi/(1 + \lambda_b)`, i.e. 1/K when
      free; none: 0). Its Hessian spectrum is :func:`origin_spectrum`: a strict saddle iff
      :math:`\sigma_{\max}(G_0) > \sqrt{\lambda_W\lambda_H}`, i.e. :math:`\kappa < 1` for balanced
      classes, and the global minimizer otherwise (convex relaxation
      :math:`\min_Z L(Z) + \sqrt{\lambda_W\lambda_H}\|Z\|_*` is optimal at Z = 0 iff
      :math:`\|G_0\|_2 \le \sqrt{\lambda_W\lambda_H}`).
    * ``subframe-m`` (balanced, :math:`\kappa < 1`, :math:`\lambda_W, \lambda_H > 0`): collapsed
      points :math:`W = aEU^\top`, :math:`\bar H = cUE^\top` (class means), where E (K x r) is an
      orthonormal basis of a subspace V of class space built on the first m classes, U the first r
      columns of :math:`I_d`, and :math:`c/a = \sqrt{\lambda_W/(n\lambda_H)}`. Only ranks r < d are
      built: a free feature direction carries the negative curvature (the origin's cross term on a
      class outside V). With r = d < K the point can be a global minimizer of the rank-limited
      problem (for MSE every d-subset frame ties), so it is not listed.

      - MSE, ``bias='none'``: V = span{e_1..e_m}, m = 1..K-1, and :math:`a c = 1 - \kappa`, so
        :math:`W\bar H = (1-\kappa)P_V`: the orthogonal frame of m classes.
      - MSE with a bias: V = {v supported on the first m classes, sum v = 0}, m = 2..K-1,
        :math:`a c = 1 - \kappa` and :math:`b = \mathbf 1/(K(1+\lambda_b))`: a simplex ETF of m
        classes.
      - CE: the same V, :math:`a c = s` with s > 0 the root of the reduced stationarity equation
        :math:`1 - (p_{\text{own}} - p_{\text{other}}) = \kappa` (the softmax probabilities of the
        own and another sub-simplex class at the logits :math:`sP_V + b\mathbf 1^\top`, b the
        stationary bias).

    With m = K (MSE none) or the whole of :math:`\mathbf 1^\perp` these formulas give the global
    minimizers (orthogonal frame, simplex ETF); the proper sub-frames are the rank-deficient
    critical points. Derived here (``proofs/strict_saddle.py``); consistent with [1]_ and [2]_.

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    list of CriticalPoint
        ``(name, W, H, b)``; the origin first. Sub-frames are omitted when they do not exist
        (kappa >= 1, a zero lambda, imbalanced classes) or when their rank is not below d.

    Raises
    ------
    InvalidParameter
        If ``problem`` is not a Problem.
    NotConverged
        If a constructed point's gradient exceeds :data:`ufm.tolerances.STATIONARY` (a bug,
        never expected).
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    K, d, N = problem.K, problem.d, problem.N
    b0 = _optimal_bias(problem, np.zeros((K, K)))
    points = [
        CriticalPoint(
            "origin", np.zeros((K, d)), np.zeros((d, N)), b0 if problem.has_bias else None
        )
    ]
    if not (problem.balanced and problem.lambda_W > 0 and problem.lambda_H > 0):
        return _verified(problem, points)
    square = problem.loss_fn.link == "square"
    if square and problem.loss_fn.target_pair(K) != (1.0, 0.0):
        raise InvalidParameter(
            "critical points in closed form are derived for one-hot targets under the square "
            "link; "
            f"loss {problem.loss!r} has targets {problem.loss_fn.target_pair(K)}"
        )
    kappa = _kappa(problem)
    if kappa >= _target_gap(problem):
        return _verified(problem, points)
    orthogonal = square and problem.bias == "none"
    for m in range(1 if orthogonal else 2, K):
        E = _subspace(K, list(range(m)), centred=not orthogonal)
        if E.shape[1] >= d:  # no free feature direction: possibly a global minimizer when d < K
            break
        if square:
            s = 1.0 - kappa
            b = _optimal_bias(problem, s * E @ E.T)
        else:
            s = _ce_subsimplex_scale(problem, m)
            if s is None:
                continue
            b = _ce_gap(problem, m, s)[1]
        W, H, b = _collapsed_point(problem, E, s, b)
        points.append(CriticalPoint(f"subframe-{m}", W, H, b))
    return _verified(problem, points)


def _verified(problem: Problem, points: list[CriticalPoint]) -> list[CriticalPoint]:
    for point in points:
        g = gradient(problem, point.W, point.H, point.b)
        norm = float(np.linalg.norm(pack(g.W, g.H, g.b)))
        if norm > STATIONARY:
            raise NotConverged(
                f"constructed critical point {point.name!r} has gradient norm {norm:.3g} "
                f"> {STATIONARY}"
            )
    return points


def origin_spectrum(problem: Problem) -> np.ndarray:
    r"""All P Hessian eigenvalues at the origin critical point, in closed form (ascending).

    At W = 0, H = 0 the Jacobian of Z in (W, H) vanishes, so the Hessian splits into a (W, H) block
    :math:`\begin{pmatrix}\lambda_W I & C\\ C^\top & \lambda_H I\end{pmatrix}` whose cross term C
    has the singular values :math:`\sigma_1..\sigma_K` of :math:`G_0 = \nabla L(b_0\mathbf 1^\top)`
    (K x N), each repeated d times, and a b block
    :math:`\sum_k\pi_k(\operatorname{diag}p - pp^\top) + \lambda_b I` (CE, p = softmax(b_0)) or
    :math:`(1 + \lambda_b) I` (MSE). Hence the eigenvalues

    .. math:: \frac{\lambda_W+\lambda_H}{2} \pm \sqrt{\Bigl(\frac{\lambda_W-\lambda_H}{2}\Bigr)^2
              + \sigma_i^2}\ (\times d\ \text{each}),\quad \lambda_H\ (\times d(N-K)),

    plus the b block. For balanced classes :math:`\sigma_{\max} = 1/(K\sqrt n)` in every loss and
    bias mode, so :math:`\lambda_{\min} < 0` iff :math:`\kappa = K\sqrt{n\lambda_W\lambda_H} < 1`.
    Derived here; consistent with [1]_ and [2]_.

    Returns
    -------
    ndarray, shape (P,)
    """
    origin = critical_points(problem)[0]
    K, d, N = problem.K, problem.d, problem.N
    _, G0 = data_term(
        problem.loss_fn, logits(origin.W, origin.H, _bias_or_zero(origin.b, K)), problem.labels
    )
    sigma = np.linalg.svd(G0, compute_uv=False)
    mid = 0.5 * (problem.lambda_W + problem.lambda_H)
    radius = np.sqrt((0.5 * (problem.lambda_W - problem.lambda_H)) ** 2 + sigma**2)
    parts = [
        np.repeat(mid - radius, d),
        np.repeat(mid + radius, d),
        np.full(d * (N - K), problem.lambda_H),
    ]
    if problem.has_bias:
        block = problem.loss_fn.link_impl.hessian_blocks(origin.b[:, None])[0]
        parts.append(np.linalg.eigvalsh(block + problem.lambda_b * np.eye(K)))
    return np.sort(np.concatenate(parts))


def _bias_or_zero(b, K: int) -> np.ndarray:
    return np.zeros(K) if b is None else b
