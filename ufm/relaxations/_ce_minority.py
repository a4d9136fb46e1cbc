r"""Minority collapse in the regularized CE UFM with two groups of classes, by a dual certificate.

K_A majority classes of n_A samples and K_B >= 2 minority classes of n_B < n_A samples,
N = K_A n_A + K_B n_B, :math:`\mu = \sqrt{\lambda_W\lambda_H}`, d >= K - 1. By
:mod:`ufm.relaxations._nuclear` the UFM equals the convex program

.. math:: \min_{\bar Z, b}\ F(\bar Z, b) = \frac1N\sum_k n_k\,\mathrm{CE}(\bar z_k + b, k)
          + \mu\|\bar ZD^{1/2}\|_* \ (+ \tfrac{\lambda_b}2\|b\|^2),

the objective of Hong & Ling (2023) as their code's ``ana_utils.solve_cvx`` states it (read:
(1/N) sum_k n_k CE + l ||Zbar diag(sqrt n)||_* + l_2 ||b||^2), with their l = mu and
l_2 = lambda_b/2. The minority columns of :math:`\bar Z` coincide iff the minority group's
own-logit excess a_B of the class-exchange reduction is 0.

**Certificate** (derived here; consistent with the sharp minority-collapse threshold that Hong &
Ling 2023 state in their abstract). Solve the program with a_B = 0 (``collapsed``). Write
:math:`\Lambda = -\nabla_{\bar Z}\,\text{data}\; D^{-1/2}`, with
:math:`\nabla_{\bar Z}\text{data}_{jk} = \frac{n_k}N(\mathrm{softmax}(\bar z_k + b)_j -
\delta_{jk})`. A convex function is minimal iff :math:`\Lambda/\mu \in \partial\|Y\|_*` at
:math:`Y = \bar ZD^{1/2}`; the restricted solution satisfies this on every component except the
zero-sum vectors supported on the minority classes (on both sides), which :math:`Y` annihilates, so
there the subgradient is free up to spectral norm 1. The collapsed point is optimal for the full
program iff

.. math:: \psi(\mu) = \mu - \|Q^\top\Lambda Q\|_2 \ \ge\ 0,

Q an orthonormal basis of those vectors. With the minority logits of each minority column equal,
the softmax is constant on them and :math:`Q^\top\Lambda Q = (\sqrt{n_B}/N) I`: so
:math:`\mu^* = \sqrt{n_B}/N` (the symbolic route,
:func:`ufm.minimizers.ce_minority_threshold_value`, derives it; here it is evaluated from the
solver's logits, not assumed). For n_A = n_B it is the threshold :math:`K\sqrt{n}\mu = 1`
of the zero solution (Zhu et al. 2021, Thm 3.1).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import InvalidParameter
from ..problem import Problem
from ._layer_peeled import MinorityThreshold, certified_bisection
from ._nuclear import _class_program
from ._solve import import_cvxpy, resolve_tolerance, solve

__all__ = ["ce_minority_threshold", "two_group_problem"]


def two_group_problem(
    K_A: int, n_A: int, K_B: int, n_B: int, mu: float, *, bias: str = "none",
    lambda_b: float = 0.0, ratio: float = 1.0,
) -> Problem:  # fmt: skip
    """The CE UFM with K_A classes of n_A and K_B of n_B samples, d = K - 1 and
    lambda_W = mu ratio, lambda_H = mu / ratio (so sqrt(lambda_W lambda_H) = mu)."""
    K_A, K_B = check_int("K_A", K_A, 1), check_int("K_B", K_B, 2)
    n_A, n_B = check_int("n_A", n_A, 1), check_int("n_B", n_B, 1)
    if n_B >= n_A:
        raise InvalidParameter(f"the minority must be smaller: n_B={n_B} >= n_A={n_A}")
    mu, ratio = check_positive("mu", mu), check_positive("ratio", ratio)
    bias = check_choice("bias", bias, ("none", "free", "regularized"))
    extra = {"lambda_b": lambda_b} if bias == "regularized" else {}
    K = K_A + K_B
    return Problem(
        loss="ce", K=K, d=K - 1, class_sizes=(n_A,) * K_A + (n_B,) * K_B,
        lambda_W=mu * ratio, lambda_H=mu / ratio, bias=bias, **extra,
    )  # fmt: skip


def minority_certificate(problem: Problem, solver: str, tol: float) -> tuple[float, float]:
    r"""(psi(mu), its error bound) of the module docstring for a :func:`two_group_problem`:
    solve the program with the minority group collapsed and evaluate the one subgradient condition
    that collapsing leaves unchecked. The error is the float64 rounding of the block (its entries
    depend on the logits only through the softmax, which the exact equality of the collapsed
    minority logits makes constant on the block)."""
    cp = import_cvxpy()
    program, recover = _class_program(cp, problem, collapsed=(1,))
    solve(program, solver, tol, "nuclear-norm program (collapsed minority)")
    Z, b = recover()
    logits = Z + (0.0 if b is None else b[:, None])
    softmax = np.exp(logits - logits.max(axis=0))
    softmax /= softmax.sum(axis=0)
    n = np.asarray(problem.class_sizes, dtype=float)
    K = n.size
    Lam = -(n / problem.N)[None, :] * (softmax - np.eye(K)) / np.sqrt(n)[None, :]
    minority = np.flatnonzero(n == n.min())
    basis = np.zeros((K, minority.size))
    basis[minority] = np.eye(minority.size) - 1.0 / minority.size
    Q = np.linalg.qr(basis)[0][:, : minority.size - 1]
    block = Q.T @ Lam @ Q
    mu = float(np.sqrt(problem.lambda_W * problem.lambda_H))
    psi = mu - float(np.linalg.norm(block, 2))
    error = K * K * np.finfo(float).eps * (1.0 + float(np.abs(Lam).max()))
    return psi, float(error)


def ce_minority_threshold(
    K_A: int,
    n_A: int,
    K_B: int,
    n_B: int,
    *,
    bias: str = "none",
    lambda_b: float = 0.0,
    ratio: float = 1.0,
    xtol: float = 1e-6,
    solver: str = "clarabel",
    tol: float | None = None,
    max_doublings: int = 60,
) -> MinorityThreshold:
    r"""Bracket the regularization mu* = sqrt(lambda_W lambda_H) above which the minority classes
    of the two-group CE UFM collapse (their logit columns, classifiers and class means coincide),
    by bisection on the sign of the dual certificate psi(mu) of the module docstring.

    The search starts at mu = 1/N (1.5/N if psi is uncertain there) and doubles (or halves)
    until the signs differ; a sign is
    certified when |psi| exceeds its error. The two points ``xtol`` (relative) on either side of
    the root of the chord of psi are tried first, then bisection keeps certified ends
    lo < mu* <= hi (:func:`ufm.relaxations._layer_peeled.certified_bisection`) until the bracket
    is <= 2 ``xtol`` (relative to its upper end) wide.

    Parameters
    ----------
    K_A, n_A, K_B, n_B : int
        Majority and minority classes and sizes (K_B >= 2, n_B < n_A).
    bias : {'none', 'free', 'regularized'}
    lambda_b : float
        Bias penalty for ``bias='regularized'``.
    ratio : float
        lambda_W / mu (= mu / lambda_H).
    xtol : float
        Requested relative half-width of the bracket.
    solver, tol
        As in :func:`ufm.relaxations.nuclear_relaxation`.
    max_doublings : int
        Largest number of doublings/halvings while searching for a sign change.

    Returns
    -------
    MinorityThreshold
        ``threshold`` is mu*; ``bracket`` (lo, hi) has psi(lo) certified < 0, psi(hi) > 0.

    Raises
    ------
    InvalidParameter
        Bad arguments; no sign change within ``max_doublings``.
    SolverFailed
        A solve did not reach optimality.

    Examples
    --------
    >>> th = ce_minority_threshold(2, 6, 2, 2)
    >>> abs(th.threshold - 2**0.5 / 16) <= th.accuracy
    True
    """
    xtol = check_positive("xtol", xtol)
    max_doublings = check_int("max_doublings", max_doublings, 1)
    solver, tol = resolve_tolerance(solver, tol)
    two_group_problem(K_A, n_A, K_B, n_B, 1.0, bias=bias, lambda_b=lambda_b, ratio=ratio)
    psi = {}

    def sign(mu: float) -> int:
        p = two_group_problem(K_A, n_A, K_B, n_B, mu, bias=bias, lambda_b=lambda_b, ratio=ratio)
        value, error = psi[mu] = minority_certificate(p, solver, tol)
        return 1 if value > error else -1 if value < -error else 0

    mu = 1.0 / (K_A * n_A + K_B * n_B)
    first = sign(mu)
    if first == 0:  # the start sits on mu* to within the certificate's error: step off it
        mu *= 1.5
        first = sign(mu)
    step = 2.0 if first < 0 else 0.5
    for _ in range(max_doublings):
        other = mu * step
        second = sign(other)
        if first != 0 and second == -first:
            break
        mu, first = other, second
    else:
        raise InvalidParameter(
            f"no certified sign change of the minority certificate within {max_doublings} "
            f"doublings from mu = 1/N for K_A={K_A}, n_A={n_A}, K_B={K_B}, n_B={n_B}"
        )
    lo, hi = sorted((mu, other))
    # False position first: psi is smooth in mu, so the root of its chord lands near mu*; the two
    # points xtol away from it usually straddle mu* with certified signs (two solves). Whatever
    # they certify narrows the bracket, and bisection finishes the rest.
    guess = lo + (hi - lo) * psi[lo][0] / (psi[lo][0] - psi[hi][0])
    for x in (guess * (1 - xtol), guess * (1 + xtol)):
        if lo < x < hi:
            s = sign(x)
            lo, hi = (x, hi) if s < 0 else (lo, x) if s > 0 else (lo, hi)
    lo, hi = certified_bisection(sign, lo, hi, xtol * hi)
    return MinorityThreshold.from_bracket(lo, hi, psi)
