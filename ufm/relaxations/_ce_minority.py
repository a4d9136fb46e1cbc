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

**Label smoothing** (``smoothing`` alpha, the ``ce-ls`` loss; derived here,
``proofs/ce_label_smoothing_imbalanced.py``). The targets :math:`(1-\alpha)e_k + \frac\alpha
K\mathbf 1` replace :math:`e_k` in the gradient; their :math:`\mathbf 1` part vanishes on Q, so
:math:`Q^\top\Lambda Q = (1-\alpha)(\sqrt{n_B}/N) I`. The same subgradient test at the zero face
(:func:`zero_threshold`) gives the threshold of W = H = 0 for any class sizes.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import InvalidParameter
from ..problem import Problem
from ._layer_peeled import MinorityThreshold, certified_bisection
from ._nuclear import _class_program, _data_term
from ._solve import import_cvxpy, resolve_tolerance, solve

__all__ = ["ce_minority_threshold", "two_group_problem", "zero_threshold"]


def two_group_problem(
    K_A: int, n_A: int, K_B: int, n_B: int, mu: float, *, bias: str = "none",
    lambda_b: float = 0.0, ratio: float = 1.0, smoothing: float | None = None,
) -> Problem:  # fmt: skip
    """The CE UFM with K_A classes of n_A and K_B of n_B samples, d = K - 1 and
    lambda_W = mu ratio, lambda_H = mu / ratio (so sqrt(lambda_W lambda_H) = mu); with
    ``smoothing`` alpha the label-smoothed CE (``ce-ls``) instead."""
    K_A, K_B = check_int("K_A", K_A, 1), check_int("K_B", K_B, 2)
    n_A, n_B = check_int("n_A", n_A, 1), check_int("n_B", n_B, 1)
    if n_B >= n_A:
        raise InvalidParameter(f"the minority must be smaller: n_B={n_B} >= n_A={n_A}")
    mu, ratio = check_positive("mu", mu), check_positive("ratio", ratio)
    bias = check_choice("bias", bias, ("none", "free", "regularized"))
    extra = {"lambda_b": lambda_b} if bias == "regularized" else {}
    loss = {"loss": "ce"} if smoothing is None else {
        "loss": "ce-ls", "loss_params": {"smoothing": smoothing}
    }  # fmt: skip
    K = K_A + K_B
    return Problem(
        **loss, K=K, d=K - 1, class_sizes=(n_A,) * K_A + (n_B,) * K_B,
        lambda_W=mu * ratio, lambda_H=mu / ratio, bias=bias, **extra,
    )  # fmt: skip


def _multiplier(problem: Problem, logits: np.ndarray) -> np.ndarray:
    r""":math:`\Lambda = -\nabla_{\bar Z}\text{data}\;D^{-1/2}` at the class logits (K x K,
    bias included), :math:`\nabla_{jk} = \frac{n_k}N(\mathrm{softmax}(\text{logits}_k)_j -
    t_{jk})` with the loss's class targets t (one-hot for CE, smoothed for ``ce-ls``)."""
    softmax = np.exp(logits - logits.max(axis=0))
    softmax /= softmax.sum(axis=0)
    n = np.asarray(problem.class_sizes, dtype=float)
    targets = problem.loss_fn.class_targets(n.size)
    return -(n / problem.N)[None, :] * (softmax - targets) / np.sqrt(n)[None, :]


def zero_threshold(problem: Problem, *, solver: str = "clarabel", tol: float | None = None):
    r"""The smallest :math:`\mu = \sqrt{\lambda_W\lambda_H}` at which W = H = 0 is a global
    minimizer of a softmax-loss UFM (any class sizes, d >= K - 1), by the dual certificate of the
    zero face of the nuclear-norm program (:mod:`ufm.relaxations._nuclear`).

    Solve the program with :math:`\bar Z = 0` (only the bias is left: none, or
    :math:`\min_b \text{data}(b\mathbf 1^\top)\ (+\tfrac{\lambda_b}2\|b\|^2)`, by cvxpy); the
    point is optimal for the full program iff :math:`\Lambda_0/\mu` (``_multiplier`` at those
    logits) lies in the subdifferential of the nuclear norm at 0, the unit spectral-norm ball:
    iff :math:`\mu \ge \|\Lambda_0\|_2`. :math:`\Lambda_0` does not depend on
    :math:`\mu`, so the threshold is :math:`\|\Lambda_0\|_2` itself (derived here; for
    balanced CE it is Zhu et al. 2021's :math:`K\sqrt{n}\mu = 1`).

    Parameters
    ----------
    problem : Problem
        A softmax-loss UFM (``ce`` or ``ce-ls``); its lambda_W, lambda_H are not used.
    solver, tol
        As in :func:`ufm.relaxations.nuclear_relaxation` (for the bias; unused without one).

    Returns
    -------
    float
        :math:`\|\Lambda_0\|_2`; accurate to the bias's solver error times the softmax's
        Lipschitz constant (1), i.e. to ~``tol``.

    Raises
    ------
    InvalidParameter
        Not a softmax loss.
    SolverFailed
        The bias program did not reach optimality.

    Examples
    --------
    >>> from ufm import Problem
    >>> p = Problem(loss='ce', K=3, d=2, n=2, lambda_W=0.1, lambda_H=0.1, bias='none')
    >>> round(zero_threshold(p) * 3 * 2**0.5, 12)  # K sqrt(n) mu* = 1
    1.0
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    if not problem.loss_fn.shift_invariant:
        raise InvalidParameter(
            f"zero_threshold needs a softmax loss (ce, ce-ls), got loss={problem.loss!r}"
        )
    K = problem.K
    logits = np.zeros((K, K))
    if problem.has_bias:
        solver, tol = resolve_tolerance(solver, tol)
        cp = import_cvxpy()
        b = cp.Variable(K)
        weights = np.asarray(problem.class_sizes, dtype=float)
        cost = _data_term(
            cp, problem.loss_fn, cp.reshape(b, (K, 1), order="F") @ np.ones((1, K)), weights,
            np.arange(K), problem.N,
        )  # fmt: skip
        if problem.bias == "regularized":
            cost = cost + 0.5 * problem.lambda_b * cp.sum_squares(b)
        solve(cp.Problem(cp.Minimize(cost), [cp.sum(b) == 0]), solver, tol, "bias program")
        logits = logits + np.asarray(b.value, dtype=float)[:, None]
    return float(np.linalg.norm(_multiplier(problem, logits), 2))


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
    Lam = _multiplier(problem, Z + (0.0 if b is None else b[:, None]))
    n = np.asarray(problem.class_sizes, dtype=float)
    K = n.size
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
    smoothing: float | None = None,
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
    smoothing : float, optional
        Label smoothing alpha in [0, 1): the ``ce-ls`` loss (its targets enter the certificate;
        the threshold becomes (1 - alpha) sqrt(n_B)/N, ``proofs/ce_label_smoothing_imbalanced.py``).
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
    options = {"bias": bias, "lambda_b": lambda_b, "ratio": ratio, "smoothing": smoothing}
    two_group_problem(K_A, n_A, K_B, n_B, 1.0, **options)
    psi = {}

    def sign(mu: float) -> int:
        p = two_group_problem(K_A, n_A, K_B, n_B, mu, **options)
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
