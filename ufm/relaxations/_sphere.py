r"""Certified lower bounds for losses on spheres: Gram-matrix programs with a fixed diagonal.

**Normalized cross-entropy** (Yaras et al. 2022 [1]_; model ``'sphere'`` of :mod:`ufm.models`):

.. math:: \min_{\|w_k\| = 1,\ \|h_{k,i}\| = 1}\ \frac1N\sum_{k=1}^K\sum_{i=1}^{n_k}
          \mathcal L_{CE}\Big(\frac{Wh_{k,i}}{\tau}, k\Big).

For fixed W the objective is a sum of separate terms in the h_{k,i}, so giving every sample of
class k the best feature of its class loses nothing: the minimum is attained with
:math:`h_{k,i} = h_k`. With :math:`X = [W; M^\top][W; M^\top]^\top` (2K x 2K, :math:`M = [h_1
\dots h_K]`) the logits :math:`w_j^\top h_k/\tau = X_{j,K+k}/\tau` are linear in X, the
cross-entropy is convex in its logits (log-sum-exp minus a linear term), and the unit norms are
the linear constraints :math:`X_{ii} = 1`:

.. math:: p^\star = \min_{X\succeq 0,\ \operatorname{diag}X = \mathbf 1}\ \sum_k\frac{n_k}{N}
          \Big(\log\sum_j e^{X_{j,K+k}/\tau} - X_{k,K+k}/\tau\Big).

It relaxes the model (drops :math:`\operatorname{rank}X \le d`), so its value is a lower bound on
the model's minimum for every d, and the solver's dual objective is a *certified* lower bound
(weak duality). It is tight whenever an optimal X has rank <= d (factor X = F F^T in dimension
rank X); for balanced classes the optimal X is the simplex-ETF Gram of rank K - 1, so the bound is
tight for d >= K - 1.

**Full-batch SupCon** (Graf et al. 2021 [2]_; :func:`ufm.contrastive.supcon_loss`): the loss is a
function of :math:`G = Z^\top Z` (N x N), convex in it, and :math:`\|z_i\| = \rho` reads
:math:`G_{ii} = \rho^2`:

.. math:: \min_{G\succeq 0,\ \operatorname{diag}G = \rho^2\mathbf 1}\ \frac1N\sum_i\Big(
          \log\sum_{a\ne i}e^{G_{ia}} - \frac1{|P(i)|}\sum_{p\in P(i)}G_{ip}\Big),

an exponential-cone SDP, again a certified lower bound for every d, tight for d >= rank of its
optimum (K - 1 for balanced classes: class collapse onto a simplex ETF).

References
----------
.. [1] Yaras, Wang, Zhu, Balzano & Qu (2022), "Neural collapse with normalized features: a
   geometric analysis over the Riemannian manifold", NeurIPS.
.. [2] Graf, Hofer, Niethammer & Kwitt (2021), "Dissecting supervised contrastive learning", ICML.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._repr import short_repr
from .._validation import check_int, check_positive
from ._layer_peeled import _positive_sizes
from ._solve import import_cvxpy, resolve_tolerance, solve

__all__ = ["SphereBound", "normalized_ce_sdp", "supcon_sdp"]


@dataclass(frozen=True, eq=False)
class SphereBound:
    """Solution of a fixed-diagonal Gram program (module docstring).

    Attributes
    ----------
    objective : float
        Optimal value of the program (primal).
    lower_bound : float
        Certified lower bound on the loss's minimum over the spheres in any dimension d: the
        solver's dual objective, ``objective - max(duality_gap, 0)``.
    gram : ndarray
        Optimal Gram matrix: 2K x 2K of (w_1..w_K, h_1..h_K) for :func:`normalized_ce_sdp`,
        N x N of (z_1..z_N) for :func:`supcon_sdp`.
    status, solver : str
    duality_gap : float
    solve_time : float
    """

    __repr__ = short_repr

    objective: float
    lower_bound: float
    gram: np.ndarray
    status: str
    solver: str
    duality_gap: float
    solve_time: float


def _solve(program, X, solver, tol, what) -> SphereBound:
    info = solve(program, solver, tol, what)
    gram = np.asarray(X.value, dtype=float)
    value = float(program.value)
    return SphereBound(
        objective=value,
        lower_bound=value - max(info.duality_gap, 0.0),
        gram=0.5 * (gram + gram.T),
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
        solve_time=info.solve_time,
    )


def normalized_ce_sdp(
    K: int, tau: float, class_sizes=None, *, solver: str = "clarabel", tol: float | None = None
) -> SphereBound:
    r"""Certified lower bound on the normalized-feature CE model by its SDP over the Gram matrix
    of (W, M) with unit diagonal (module docstring).

    .. math:: \min_{X\succeq 0,\ \operatorname{diag}X = \mathbf 1}\ \sum_k\frac{n_k}{N}
              \Big(\log\sum_j e^{X_{j,K+k}/\tau} - X_{k,K+k}/\tau\Big)

    Parameters
    ----------
    K : int
        Number of classes, >= 2.
    tau : float
        Temperature, > 0.
    class_sizes : sequence of K positive numbers, optional
        Only the proportions matter; default balanced.
    solver : {'clarabel', 'scs'}
    tol : float, optional
        Solver tolerance (defaults in ``ufm.tolerances``).

    Returns
    -------
    SphereBound
        ``gram`` is 2K x 2K: blocks W W^T, W M, M^T M.

    Raises
    ------
    InvalidParameter
        K < 2, tau <= 0, class_sizes not K positive numbers.
    SolverFailed
        The solver did not reach optimality.

    Examples
    --------
    >>> import math
    >>> bound = normalized_ce_sdp(3, 0.5)
    >>> abs(bound.lower_bound - math.log(1 + 2 * math.exp(-3.0))) < 1e-6
    True
    """
    from ..errors import InvalidParameter

    K = check_int("K", K, 2)
    tau = check_positive("tau", tau)
    sizes = (1.0,) * K if class_sizes is None else _positive_sizes(class_sizes)
    if len(sizes) != K:
        raise InvalidParameter(f"class_sizes must have K={K} entries, got {len(sizes)}")
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    p = np.asarray(sizes) / sum(sizes)
    X = cp.Variable((2 * K, 2 * K), PSD=True)
    logits = X[:K, K:] / tau
    cost = p @ (cp.log_sum_exp(logits, axis=0) - cp.diag(logits))
    program = cp.Problem(cp.Minimize(cost), [cp.diag(X) == 1])
    return _solve(program, X, solver, tol, "normalized-CE SDP")


def supcon_sdp(
    labels, rho: float, *, K: int | None = None, solver: str = "clarabel", tol: float | None = None
) -> SphereBound:
    r"""Certified lower bound on the full-batch SupCon loss by its exponential-cone SDP over the
    Gram matrix of the features (module docstring).

    .. math:: \min_{G\succeq 0,\ \operatorname{diag}G = \rho^2\mathbf 1}\ \frac1N\sum_i\Big(
              \log\sum_{a\ne i}e^{G_{ia}} - \frac1{|P(i)|}\sum_{p\in P(i)}G_{ip}\Big)

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Classes 0..K-1, each with >= 2 samples.
    rho : float
        Radius of the sphere, > 0.
    K : int, optional
        Number of classes (default ``max(labels) + 1``).
    solver : {'clarabel', 'scs'}
    tol : float, optional

    Returns
    -------
    SphereBound
        ``gram`` is N x N.

    Raises
    ------
    InvalidParameter
        Bad labels (a class with < 2 samples), rho <= 0.
    SolverFailed
        The solver did not reach optimality.

    Examples
    --------
    >>> import math
    >>> bound = supcon_sdp([0, 0, 1, 1], 1.0)
    >>> abs(bound.lower_bound - math.log(1 + 2 * math.exp(-2.0))) < 1e-6
    True
    """
    from ..contrastive import positive_weights

    rho = check_positive("rho", rho)
    labels, B = positive_weights(labels, K)
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    N = labels.shape[0]
    G = cp.Variable((N, N), PSD=True)
    # the anchor leaves its own denominator
    others = [np.delete(np.arange(N), i) for i in range(N)]
    denominators = cp.hstack([cp.log_sum_exp(G[i, others[i]]) for i in range(N)])
    cost = (cp.sum(denominators) - cp.sum(cp.multiply(B, G))) / N
    program = cp.Problem(cp.Minimize(cost), [cp.diag(G) == rho**2])
    return _solve(program, G, solver, tol, "SupCon SDP")
