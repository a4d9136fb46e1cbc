r"""Exact global minimizer of the deep linear UFM under MSE, one singular value at a time.

Model (:mod:`ufm.models.deep_linear`, ``loss='mse'``): L weight layers on free features, q = L + 1
factors,

.. math:: f = \frac1{2N}\|W_L\cdots W_1H + b\mathbf 1^\top - Y\|_F^2
          + \sum_{l=1}^L\frac{\lambda_l}2\|W_l\|_F^2 + \frac{\lambda_H}2\|H\|_F^2,

b free or absent, any class sizes :math:`n_k` (D = diag(n)), widths and d at least the rank.

Reduction (derived here; consistent with Tirer & Bruna 2022 [1]_ and Dang et al. 2023 [2]_, whose
abstracts state collapse at every layer; the text of their theorems could not be read):

* features collapse: projecting the logits Z onto the class-indicator rows (:math:`Z\Pi`) lowers
  the data term and every singular value, so :math:`Z = \bar Z Y`;
* for a fixed product Z the penalties are at least :math:`C\sum_i\sigma_i(Z)^{2/q}`,
  :math:`C = \frac q2\mu`, :math:`\mu = (\lambda_L\cdots\lambda_1\lambda_H)^{1/q}`, with equality
  for the balanced factorization :math:`\lambda_x\|X\|` equal across the factors
  (AM-GM over the factors; ``proofs/deep_linear.py``);
* with :math:`X = \bar ZD^{1/2}` and the free bias eliminated, the data term is
  :math:`\frac1{2N}\|X - \hat Y\|_F^2`, :math:`\hat Y = D^{1/2}` (no bias) or
  :math:`D^{1/2}(I - \sqrt n\sqrt n^\top/N)` (free bias); by von Neumann's trace inequality X
  shares the singular vectors of :math:`\hat Y = U\operatorname{diag}(\sigma)V^\top` and each
  singular value solves

.. math:: s_i = \operatorname*{argmin}_{s\ge0} g_i(s),\qquad
          g_i(s) = \frac1{2N}(s - \sigma_i)^2 + C s^{2/q}.

With :math:`s = t^q` the positive stationary points are the positive real roots of

.. math:: t^{2q-2} - \sigma_i t^{q-2} + 2NC/q = 0,

found exactly (sympy ``real_roots`` of the polynomial with the exact rational values of the float
coefficients) and compared with s = 0. For q >= 3 the zero solution wins discontinuously
(:func:`jump_thresholds`).

References
----------
.. [1] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
   collapse", ICML.
.. [2] Dang, Tran, Osher, Tran-The, Ho & Nguyen (2023), "Neural collapse in deep linear networks:
   from balanced to imbalanced data", ICML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from ._validation import check_int, check_nonneg, check_positive
from .errors import InvalidParameter
from .problem import Problem

__all__ = [
    "ScalarSolution",
    "DeepClosedForm",
    "singular_value_problem",
    "jump_thresholds",
    "deep_linear_minimizer",
]

#: Digits of the exact roots' numerical values (well beyond float64).
_DIGITS = 30


@dataclass(frozen=True)
class ScalarSolution:
    r"""The one-dimensional problem of one singular value.

    Attributes
    ----------
    s : float
        The global minimizer :math:`s_i \ge 0` (0 on a tie).
    value : float
        :math:`g_i(s_i)`.
    local_minimizers : tuple of float
        Every positive local minimizer (exact roots of the stationarity polynomial with
        :math:`g'' > 0`), ascending; a positive one above the global minimizer 0 is metastable.
    local_values : tuple of float
        :math:`g_i` at each of ``local_minimizers``, in the same order.
    """

    s: float
    value: float
    local_minimizers: tuple[float, ...]
    local_values: tuple[float, ...] = ()


def singular_value_problem(sigma: float, C: float, q: int, N: int) -> ScalarSolution:
    r"""Minimize :math:`g(s) = \frac1{2N}(s-\sigma)^2 + Cs^{2/q}` over :math:`s \ge 0` exactly.

    Parameters
    ----------
    sigma : float
        Singular value of :math:`\hat Y` (>= 0).
    C : float
        :math:`\frac q2(\lambda_L\cdots\lambda_1\lambda_H)^{1/q}` (> 0).
    q : int
        Number of factors (weight layers + 1, >= 2).
    N : int
        Number of samples.

    Returns
    -------
    ScalarSolution

    Examples
    --------
    >>> round(singular_value_problem(1.0, 0.1, 2, 1).s, 12)  # q = 2: soft threshold 1 - 2NC/2
    0.9
    """
    sigma = check_nonneg("sigma", sigma)
    C = check_positive("C", C)
    q = check_int("q", q, 2)
    N = check_int("N", N, 1)
    t = sp.Symbol("t", positive=True)
    poly = sp.Poly(
        t ** (2 * q - 2) - sp.Rational(sigma) * t ** (q - 2) + 2 * N * sp.Rational(C) / q, t
    )
    s_sym = sp.Symbol("s")
    g = (s_sym - sp.Rational(sigma)) ** 2 / (2 * N) + sp.Rational(C) * s_sym ** sp.Rational(2, q)
    G = (t**q - sp.Rational(sigma)) ** 2 / (2 * N) + sp.Rational(C) * t**2  # g(t^q)
    G2 = sp.diff(G, t, 2)
    local = []
    for root in poly.real_roots():
        r = sp.N(root, _DIGITS)
        if r > 0 and sp.N(G2.subs(t, r), _DIGITS) > 0:
            local.append((r**q, sp.N(g.subs(s_sym, r**q), _DIGITS)))
    local.sort()
    best_s, best = sp.Integer(0), sp.N(g.subs(s_sym, 0), _DIGITS)
    for s, value in local:
        if value < best:
            best_s, best = s, value
    return ScalarSolution(
        float(best_s),
        float(best),
        tuple(float(s) for s, _ in local),
        tuple(float(value) for _, value in local),
    )


@cache
def jump_thresholds(q: int) -> dict[str, sp.Expr]:
    r"""Exact thresholds of :math:`\phi_a(z) = (z-1)^2 + a z^p`, p = 2/q, z = s/sigma (q >= 3).

    :math:`g = \frac{\sigma^2}{2N}\phi_a` with :math:`a = 2NC\sigma^{p-2}`. Solved here by sympy:

    * ``z_star``, ``a_star``: :math:`\phi_a(z) = \phi_a(0)` and :math:`\phi_a'(z) = 0` at z > 0:
      for a > a* the zero solution is the unique global minimizer, at a* the minimizer jumps
      from z* sigma to 0;
    * ``z_e``, ``a_e``: :math:`\phi_a' = \phi_a'' = 0`: a positive local minimizer exists iff
      a < a_e (the metastable window is (a*, a_e)).

    Derived here (``proofs/deep_linear.py``); consistent with the bad minimum at zero of deep
    linear networks with weight decay (Ziyin, Li & Meng 2022).
    """
    q = check_int("q", q, 3)
    z, a = sp.symbols("z a", positive=True)
    p = sp.Rational(2, q)
    phi = (z - 1) ** 2 + a * z**p
    a_of_z = sp.solve(sp.Eq(sp.diff(phi, z), 0), a)[0]  # stationarity, solved for a
    # phi(z) = phi(0) = 1 along the stationary curve: (z - 1)^2 + a(z) z^p - 1 = 0
    on_curve = sp.simplify((z - 1) ** 2 + a_of_z * z**p - 1)
    z_star = [r for r in sp.solve(on_curve, z) if r.is_positive]
    # the fold: d a(z)/dz = 0 (phi' = phi'' = 0)
    z_e = [r for r in sp.solve(sp.diff(a_of_z, z), z) if r.is_positive]
    if len(z_star) != 1 or len(z_e) != 1:
        raise InvalidParameter(
            f"q={q}: expected one positive jump and one fold, got {z_star}, {z_e}"
        )
    return {
        "z_star": sp.nsimplify(z_star[0]),
        "a_star": sp.simplify(a_of_z.subs(z, z_star[0])),
        "z_e": sp.nsimplify(z_e[0]),
        "a_e": sp.simplify(a_of_z.subs(z, z_e[0])),
    }


@dataclass(frozen=True)
class DeepClosedForm:
    r"""The global minimizer of the deep linear MSE UFM (:func:`deep_linear_minimizer`).

    Attributes
    ----------
    objective : float
    blocks : dict of str -> ndarray
        ``W{L}``, ..., ``W1``, ``H`` (and ``b`` with a bias): a realization (balanced factors).
    sigma, s : ndarray (K,)
        Singular values of :math:`\hat Y` and of the optimal :math:`X = \bar ZD^{1/2}`.
    metastable : ndarray (K,)
        Per singular value, the largest positive local minimizer of :math:`g_i` where the global
        one is 0 (NaN elsewhere).
    C : float
    a : ndarray (K,)
        :math:`a_i = 2NC\sigma_i^{2/q - 2}` (inf for :math:`\sigma_i = 0`).
    zero_solution : bool
        All :math:`s_i = 0`: the weights and features vanish.
    metastable_objective : float
        The objective at the local minimizer that keeps every metastable singular value (the
        others at their global :math:`s_i`): :math:`\sum_i g_i`; NaN when none is metastable.
    """

    objective: float
    blocks: dict
    sigma: np.ndarray
    s: np.ndarray
    metastable: np.ndarray
    C: float
    a: np.ndarray
    zero_solution: bool
    metastable_objective: float = np.nan

    def layer_norms(self) -> dict[str, float]:
        """Frobenius norm of each weight layer and of H."""
        return {k: float(np.linalg.norm(v)) for k, v in self.blocks.items() if k != "b"}


def _target(problem: Problem) -> np.ndarray:
    r""":math:`\hat Y` (K x K) of the module docstring."""
    n = np.asarray(problem.class_sizes, dtype=float)
    root = np.diag(np.sqrt(n))
    if problem.bias == "none":
        return root
    sq = np.sqrt(n)
    return root @ (np.eye(problem.K) - np.outer(sq, sq) / problem.N)


def deep_linear_minimizer(problem: Problem, seed: int | None = None) -> DeepClosedForm:
    r"""Global minimizer of the deep linear MSE UFM (module docstring), exactly per singular value.

    Parameters
    ----------
    problem : Problem
        ``model='deep-linear'``, ``loss='mse'``, ``bias`` 'none' or 'free', every lambda > 0, any
        class sizes; d and every hidden width at least the rank of :math:`\hat Y` (K without bias,
        K - 1 with a free bias).
    seed : int, optional
        Rotate every hidden space by a seeded Haar orthogonal matrix (the minimizer is unique up to
        these rotations).

    Returns
    -------
    DeepClosedForm

    Raises
    ------
    InvalidParameter
        Another model, loss or bias mode, a zero lambda, or a width below the rank.
    """
    if problem.model != "deep-linear" or problem.loss != "mse" or problem.bias == "regularized":
        raise InvalidParameter(
            "deep_linear_minimizer needs model='deep-linear', loss='mse', bias 'none' or 'free', "
            f"got model={problem.model!r}, loss={problem.loss!r}, bias={problem.bias!r}"
        )
    params = problem.model_params
    L, decays = params["depth"], [*params["lambdas"], problem.lambda_H]
    if min(decays) <= 0:
        raise InvalidParameter(
            f"deep_linear_minimizer needs every lambda > 0 (lambdas, lambda_H), got {decays}"
        )
    q, N, K = L + 1, problem.N, problem.K
    mu = float(np.prod(decays)) ** (1.0 / q)
    C = q / 2 * mu
    U, sigma, Vt = np.linalg.svd(_target(problem))
    sigma[sigma < 1e-12 * sigma[0]] = 0.0  # the exact zero of the centred (free-bias) target
    rank = int(np.count_nonzero(sigma))
    dims = [K, *params["widths"], problem.d]  # d_L, ..., d_0
    if min(dims[1:]) < rank:
        raise InvalidParameter(
            f"d and every hidden width must be >= rank {rank} of the target, got d={problem.d}, "
            f"widths={params['widths']}"
        )
    solutions = [singular_value_problem(float(sg), C, q, N) for sg in sigma]
    s = np.array([sol.s for sol in solutions])
    stuck = [sol.s == 0 and bool(sol.local_minimizers) for sol in solutions]
    meta = np.array(
        [sol.local_minimizers[-1] if m else np.nan for sol, m in zip(solutions, stuck, strict=True)]
    )
    meta_value = sum(
        sol.local_values[-1] if m else sol.value for sol, m in zip(solutions, stuck, strict=True)
    )
    with np.errstate(divide="ignore"):
        a = np.where(sigma > 0, 2 * N * C * sigma ** (2.0 / q - 2), np.inf)
    n = np.asarray(problem.class_sizes, dtype=float)
    labels = np.repeat(np.arange(K), problem.class_sizes)
    # Z = U S R with orthonormal rows R = V^T D^{-1/2} Y (K x N)
    R = (Vt / np.sqrt(n))[:, labels]
    root = s ** (1.0 / q)
    rng = None if seed is None else np.random.default_rng(check_int("seed", seed, 0))

    def frame(dim):
        E = np.eye(dim)[:, :K] if dim >= K else np.eye(dim, K)
        if rng is not None:
            Q, Rq = np.linalg.qr(rng.standard_normal((dim, dim)))
            E = (Q * np.sign(np.diag(Rq))) @ E
        return E

    frames = [U, *[frame(dim) for dim in dims[1:]]]
    names = [f"W{layer}" for layer in range(L, 0, -1)]
    blocks = {}
    for i, (name, lam) in enumerate(zip(names, decays[:-1], strict=True)):
        blocks[name] = np.sqrt(mu / lam) * (frames[i] * root) @ frames[i + 1].T
    blocks["H"] = np.sqrt(mu / problem.lambda_H) * (frames[-1] * root) @ R
    if problem.bias == "free":
        X = (U * s) @ Vt
        Zbar = X / np.sqrt(n)
        blocks["b"] = (n - Zbar @ n) / N
    return DeepClosedForm(
        objective=float(sum(sol.value for sol in solutions)),
        blocks=blocks,
        sigma=sigma,
        s=s,
        metastable=meta,
        C=C,
        a=a,
        zero_solution=bool(np.all(s == 0)),
        metastable_objective=float(meta_value) if any(stuck) else np.nan,
    )
