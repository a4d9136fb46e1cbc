r"""The layer-peeled model (Fang, He, Long & Su 2021) as an SDP, and Minority Collapse.

The layer-peeled model (LPM) with cross-entropy and no bias [1]_:

.. math:: \min_{W,H}\ \frac1N\sum_{k=1}^K\sum_{i=1}^{n_k}\mathcal L_{CE}(Wh_{k,i}, k)
          \quad\text{s.t.}\quad \frac1K\sum_k\|w_k\|^2\le E_W,\quad
          \frac1K\sum_k\frac1{n_k}\sum_i\|h_{k,i}\|^2\le E_H.

Replacing each class's features by their mean keeps both constraints (Jensen) and does not increase
the objective (CE is convex in h for fixed W), so an optimum has collapsed features h_{k,i} = h_k.
With :math:`X = [W; M^\top][W; M^\top]^\top` (2K x 2K, M = [h_1..h_K] is d x K), the logits
:math:`w_j^\top h_k` are the entries :math:`X_{j,K+k}` and the model becomes the convex SDP

.. math:: \min_{X\succeq 0}\ \sum_k \frac{n_k}{N}\Big(\log\sum_j e^{X_{j,K+k}} - X_{k,K+k}\Big)
          \quad\text{s.t.}\quad \operatorname{tr}X_{WW}\le KE_W,\ \operatorname{tr}X_{HH}\le KE_H,

exact for d >= rank X (any PSD X factors in that dimension). Only the proportions n_k/N enter, so
real "sizes" (an imbalance ratio R) are allowed. For balanced classes the optimum is a simplex ETF
with value :math:`\log(1 + (K-1)e^{-K\sqrt{E_WE_H}/(K-1)})` (stated in [1]_; the value of the
ETF configuration, recomputed in the tests).

**Class-exchange symmetry** (derived here, tested against the full SDP). Permuting classes of
equal size, simultaneously on the rows of W and the columns of M, maps X to
:math:`\operatorname{diag}(P, P)X\operatorname{diag}(P, P)^\top` and leaves the SDP invariant; so
an optimal X has each of its four K x K blocks in the fixed-point subspace of
:mod:`ufm.relaxations._symmetry` (blocks :math:`a_iI + c_{ii}J`, :math:`c_{ij}J`). On the zero-sum
vectors of group i, X acts as the 2 x 2 matrix :math:`\begin{bmatrix}a^{WW}_i & a^{WH}_i\\
a^{WH}_i & a^{HH}_i\end{bmatrix}\otimes I_{g_i-1}`, on the group indicators as the 2G x 2G matrix
:math:`Q = \begin{bmatrix}T^{WW} & T^{WH}\\ (T^{WH})^\top & T^{HH}\end{bmatrix}` with
:math:`T_{ij} = a_j\delta_{ij} + \sqrt{g_ig_j}c_{ij}`. Hence :math:`X\succeq 0` iff Q is PSD and
each 2 x 2 block is PSD (a second-order cone), :math:`\operatorname{tr}X_{WW} =
\operatorname{tr}T^{WW} + \sum_i (g_i - 1)a^{WW}_i` (likewise for HH), and the logits are the
entries of the WH block. The program solved by default has one 2G x 2G PSD block and G
three-dimensional cones, G the number of distinct class sizes; the full Gram matrix is expanded
from it.

**Minority Collapse** ([1]_): with K_A classes of size n_A and K_B of size n_B and ratio
R = n_A/n_B, the minority classifier rows become identical once R exceeds a finite threshold (found
here numerically; [1]_ proves the R -> infinity limit). Collapse is decided by a dual
certificate psi(R) >= 0 (derived in :func:`minority_threshold`), whose certified sign brackets the
threshold; it is shown by the minority spread :math:`\max_{k,l\in B}\|w_k - w_l\|^2/E_W` (defined
even when the common minority row shrinks to 0, which happens at still larger R) and the mean
cosine between minority rows.

References
----------
.. [1] Fang, He, Long & Su (2021), "Exploring deep neural networks via layer-peeled model: Minority
   collapse in imbalanced training", PNAS 118(43), e2103091118.

Length: one program and its uses (the SDP, its reduced form, the Minority Collapse sweep and
threshold bracket) share the variables and the recovery of (W, H) from the Gram matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._limits import check_sdp
from .._repr import short_repr
from .._validation import check_choice, check_int, check_positive
from ..errors import InvalidParameter
from ..tolerances import (
    CONVEX_ARGMIN,
    FLOAT,
    MINORITY_CERTIFICATE_SAFETY,
)
from ._nuclear import numerical_rank
from ._solve import import_cvxpy, resolve_tolerance, solve
from ._symmetry import ClassGroups, exchange_data, expand

__all__ = [
    "LayerPeeled",
    "layer_peeled_sdp",
    "MinoritySweep",
    "minority_collapse_sweep",
    "MinorityThreshold",
    "minority_threshold",
]


@dataclass(frozen=True, eq=False)
class LayerPeeled:
    """Solution of the layer-peeled SDP.

    Attributes
    ----------
    class_sizes : tuple of float
    E_W, E_H : float
    objective : float
        Optimal value (the LPM's global minimum).
    gram : ndarray, shape (2K, 2K)
        Optimal Gram matrix of (w_1..w_K, h_1..h_K).
    rank : int
        Numerical rank of ``gram``: the smallest feature dimension d realizing the optimum.
    W : ndarray, shape (K, rank)
    M : ndarray, shape (rank, K)
        Class means (all features of a class equal their mean at the optimum).
    status, solver : str
    duality_gap : float
    solve_time : float
    """

    __repr__ = short_repr

    class_sizes: tuple[float, ...]
    E_W: float
    E_H: float
    objective: float
    gram: np.ndarray
    rank: int
    W: np.ndarray
    M: np.ndarray
    status: str
    solver: str
    duality_gap: float
    solve_time: float

    def configuration(self, problem=None):
        """The optimum as a :class:`ufm.Configuration` of ``model='layer-peeled'`` (blocks W, H).

        Each class's features equal its mean (the columns of M repeated n_k times); W and M are
        padded with zero coordinates from the rank up to ``problem.d``.

        Parameters
        ----------
        problem : Problem, optional
            A ``Problem(model='layer-peeled', loss='ce', ...)`` with this solution's K, budgets and
            class proportions, and d >= ``rank``. Default: the problem with d = ``rank`` and the
            class sizes of the solve (which must then be integers).

        Raises
        ------
        InvalidParameter
            A problem that does not match the solve, or real class sizes without a problem.
        """
        from ..io import Configuration
        from ..problem import Problem

        K = len(self.class_sizes)
        if problem is None:
            if any(not float(s).is_integer() for s in self.class_sizes):
                raise InvalidParameter(
                    f"class_sizes {self.class_sizes} are not integers: pass the problem whose "
                    "samples the configuration should have"
                )
            problem = Problem(
                loss="ce", K=K, d=self.rank, class_sizes=[int(s) for s in self.class_sizes],
                model="layer-peeled", model_params={"E_W": self.E_W, "E_H": self.E_H},
            )  # fmt: skip
        if not isinstance(problem, Problem) or problem.model != "layer-peeled":
            raise InvalidParameter(
                f"problem must be a ufm.Problem with model='layer-peeled', got {problem!r}"
            )
        shares = np.asarray(self.class_sizes) / sum(self.class_sizes)
        got = np.asarray(problem.class_sizes) / problem.N
        budgets = (problem.model_params["E_W"], problem.model_params["E_H"])
        if (
            problem.K != K
            or budgets != (self.E_W, self.E_H)
            or not np.allclose(got, shares, rtol=FLOAT, atol=0)
            or problem.d < self.rank
        ):
            raise InvalidParameter(
                f"problem (K={problem.K}, d={problem.d}, class_sizes={problem.class_sizes}, "
                f"E_W, E_H={budgets}) does not match this solve (K={K}, rank={self.rank}, "
                f"class_sizes={self.class_sizes}, E_W, E_H={(self.E_W, self.E_H)})"
            )
        pad = problem.d - self.rank
        W = np.pad(self.W, ((0, 0), (0, pad)))
        M = np.pad(self.M, ((0, pad), (0, 0)))
        return Configuration(
            W, M[:, problem.labels], problem=problem,
            metadata={
                "produced_by": {
                    "method": "ufm.relaxations.layer_peeled_sdp",
                    "parameters": {"solver": self.solver, "duality_gap": self.duality_gap},
                },
                "extra": {"objective": self.objective, "rank": self.rank},
            },
        )  # fmt: skip


def _positive_sizes(class_sizes) -> tuple[float, ...]:
    if isinstance(class_sizes, str | bytes) or not hasattr(class_sizes, "__len__"):
        raise InvalidParameter(
            f"class_sizes must be a sequence of K >= 2 positive numbers, got {class_sizes!r}"
        )
    return tuple(check_positive(f"class_sizes[{k}]", s) for k, s in enumerate(class_sizes))


def _full_program(cp, sizes, trace_W: float, trace_H: float):
    """The SDP over the full 2K x 2K Gram matrix: (cvxpy problem, recover() -> Gram matrix)."""
    K = len(sizes)
    p = np.asarray(sizes) / sum(sizes)
    X = cp.Variable((2 * K, 2 * K), PSD=True)
    logits = X[:K, K:]
    cost = p @ (cp.log_sum_exp(logits, axis=0) - cp.diag(logits))
    constraints = [cp.trace(X[:K, :K]) <= trace_W, cp.trace(X[K:, K:]) <= trace_H]
    return cp.Problem(cp.Minimize(cost), constraints), lambda: np.asarray(X.value, dtype=float)


def _class_program(cp, sizes, trace_W: float, trace_H: float, collapsed=()):
    r"""The SDP restricted to class-exchange-symmetric Gram matrices (module docstring):
    (cvxpy problem, recover() -> the full 2K x 2K Gram matrix). The last two constraints are the
    budgets tr X_WW <= trace_W, tr X_HH <= trace_H. The classes listed in ``collapsed`` (all of
    one size) form a group of their own whose within-group block is fixed to 0: they share one
    classifier row and one mean."""
    sizes = np.asarray(sizes, dtype=float)
    # sizes are > 0, so the key -1 separates the collapsed classes from any others of their size
    groups = ClassGroups(np.where(np.isin(np.arange(sizes.size), collapsed), -1.0, sizes))
    G, g = groups.G, groups.counts
    group_sizes = np.array([sizes[np.argmax(groups.index == i)] for i in range(G)])
    Q = cp.Variable((2 * G, 2 * G), PSD=True)
    # The 2x2 blocks [[x, y], [y, z]] on the within-group zero-sum subspaces exist only for groups
    # of >= 2 classes; elsewhere the a-coefficients are 0 (module docstring of _symmetry).
    shared = groups.index[collapsed[0]] if len(collapsed) else -1
    multi = np.flatnonzero((g > 1) & (np.arange(G) != shared))
    constraints = []
    if multi.size:
        lift = np.zeros((G, multi.size))
        lift[multi, np.arange(multi.size)] = 1.0
        x, y, z = (cp.Variable(multi.size) for _ in range(3))
        a_W, a_WH, a_H = lift @ x, lift @ y, lift @ z
        # [[x, y], [y, z]] is PSD iff ||(2y, x - z)|| <= x + z.
        constraints.append(cp.SOC(x + z, cp.vstack([2 * y, x - z]), axis=0))
    else:
        a_W = a_WH = a_H = cp.Constant(np.zeros(G))
    inv_root = 1.0 / groups.root_counts()
    c_WH = cp.multiply(inv_root, Q[:G, G:] - cp.diag(a_WH))
    p = g * group_sizes / float(np.dot(g, group_sizes))
    cost = exchange_data(cp, "ce", c_WH, a_WH, groups, p)
    constraints += [
        (g - 1) @ a_W + cp.trace(Q[:G, :G]) <= trace_W,
        (g - 1) @ a_H + cp.trace(Q[G:, G:]) <= trace_H,
    ]

    def recover():
        Qv = np.asarray(Q.value, dtype=float)
        aW, aWH, aH = (np.asarray(v.value, dtype=float) for v in (a_W, a_WH, a_H))

        def block(T, a):
            return expand(a, (T - np.diag(a)) * inv_root, groups.index)

        A = block(Qv[:G, :G], aW)
        B = block(Qv[:G, G:], aWH)
        C = block(Qv[G:, G:], aH)
        return np.block([[A, B], [B.T, C]])

    return cp.Problem(cp.Minimize(cost), constraints), recover


def layer_peeled_sdp(
    K: int,
    class_sizes,
    E_W: float,
    E_H: float,
    *,
    solver: str = "clarabel",
    tol: float | None = None,
    symmetry: str = "classes",
) -> LayerPeeled:
    r"""Global minimum of the layer-peeled model by its SDP over the Gram matrix of (W, M).

    .. math:: \min_{X\succeq 0}\ \sum_k \frac{n_k}{N}\Big(\log\sum_j e^{X_{j,K+k}} - X_{k,K+k}\Big)
              \ \text{ s.t. }\ \operatorname{tr}X_{WW}\le KE_W,\ \operatorname{tr}X_{HH}\le KE_H

    (module docstring for the derivation), by default over Gram matrices invariant under
    exchanging classes of equal size (``symmetry='classes'``, without loss). The optimum is
    factored as X = F F^T in the smallest
    dimension r = rank X: W = F[:K] (K x r), M = F[K:]^T (r x K).

    Parameters
    ----------
    K : int
        Number of classes, >= 2.
    class_sizes : sequence of K positive numbers
        n_1..n_K; only the proportions n_k/N matter.
    E_W, E_H : float
        Energy budgets, > 0.
    solver : {'clarabel', 'scs'}
    tol : float, optional
        Solver gap/feasibility tolerance (defaults in ``ufm.tolerances``).
    symmetry : {'classes', 'none'}
        ``'classes'``: solve the class-exchange-reduced SDP (2G x 2G for G distinct sizes);
        ``'none'``: the full 2K x 2K SDP. Same optimum.

    Returns
    -------
    LayerPeeled

    Raises
    ------
    InvalidParameter
        K < 2, class_sizes not K positive numbers, non-positive energies, unknown symmetry.
    LimitExceeded
        The PSD block (side 2G, or 2K with ``symmetry='none'``) needs more memory than the limit
        (:func:`ufm._limits.check_sdp`).
    SolverFailed
        The solver did not reach optimality.

    Examples
    --------
    >>> import math
    >>> lpm = layer_peeled_sdp(3, (10, 10, 10), 1.0, 1.0)
    >>> abs(lpm.objective - math.log(1 + 2 * math.exp(-1.5))) < 1e-6, lpm.rank
    (True, 2)
    """
    K = check_int("K", K, 2)
    sizes = _positive_sizes(class_sizes)
    if len(sizes) != K:
        raise InvalidParameter(f"class_sizes must have K={K} entries, got {len(sizes)}")
    E_W = check_positive("E_W", E_W)
    E_H = check_positive("E_H", E_H)
    symmetry = check_choice("symmetry", symmetry, ("classes", "none"))
    solver, tol = resolve_tolerance(solver, tol)
    side = 2 * (ClassGroups(sizes).G if symmetry == "classes" else K)
    check_sdp(f"the layer-peeled SDP with symmetry={symmetry!r}", side, "use symmetry='classes'")
    cp = import_cvxpy()
    build = _class_program if symmetry == "classes" else _full_program
    program, recover = build(cp, sizes, K * E_W, K * E_H)
    info = solve(program, solver, tol, "layer-peeled SDP")
    gram = recover()
    gram = 0.5 * (gram + gram.T)
    evals, evecs = np.linalg.eigh(gram)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    rank = numerical_rank(np.clip(evals, 0.0, None))
    F = evecs[:, :rank] * np.sqrt(np.clip(evals[:rank], 0.0, None))
    return LayerPeeled(
        class_sizes=sizes,
        E_W=E_W,
        E_H=E_H,
        objective=float(program.value),
        gram=gram,
        rank=rank,
        W=F[:K],
        M=F[K:].T,
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
        solve_time=info.solve_time,
    )


def _minority_stats(lpm: LayerPeeled, K_A: int) -> tuple[float, float | None]:
    """(spread, mean cosine) of the minority classifier rows (module docstring); cosine None if
    they vanish."""
    G = lpm.gram[: len(lpm.class_sizes), : len(lpm.class_sizes)][K_A:, K_A:]
    sq = np.diag(G)
    spread = float((sq[:, None] + sq[None, :] - 2 * G).max()) / lpm.E_W
    # Below this squared norm a row is solver noise (Gram entries are accurate to CONVEX_ARGMIN *
    # E_W), so its direction, and any cosine, is meaningless.
    if sq.min() <= CONVEX_ARGMIN * lpm.E_W:
        return spread, None
    C = G / np.sqrt(np.outer(sq, sq))
    return spread, float(C[np.triu_indices(len(sq), 1)].mean())


def _minority_sizes(K_A: int, K_B: int, R: float) -> tuple[float, ...]:
    return (R,) * K_A + (1.0,) * K_B


def _logit_loss(Z, p) -> tuple[float, np.ndarray]:
    r"""The objective :math:`\sum_k p_k(\log\sum_j e^{Z_{jk}} - Z_{kk})` and its gradient
    :math:`D_{jk} = p_k(\mathrm{softmax}(Z_{:,k})_j - \delta_{jk})` in the logits."""
    top = Z.max(axis=0)
    softmax = np.exp(Z - top)
    total = softmax.sum(axis=0)
    softmax /= total
    return float(p @ (top + np.log(total) - np.diag(Z))), p * (softmax - np.eye(Z.shape[0]))


def _collapsed_objective(p, expand, budgets, weights):
    r"""The layer-peeled objective over the distinct rows (U, V) of W and M^T with the minority
    rows shared, each scaled onto its budget sphere: W = E U a_W/||U||_c (E repeats the shared
    row, :math:`\|U\|_c^2 = \sum_j c_j\|u_j\|^2`, c the multiplicities); returns (x -> (f,
    gradient), x -> logits Z)."""
    m = expand.shape[1]

    def blocks(x):
        U, V = x.reshape(2, m, -1)
        norms = [math.sqrt(float(np.sum(weights[:, None] * Y * Y))) for Y in (U, V)]
        W, H = (a * Y / n for a, Y, n in zip(budgets, (U, V), norms, strict=True))
        return U, V, norms, W, H, (expand @ W) @ (expand @ H).T

    def value_and_gradient(x):
        U, V, norms, W, H, Z = blocks(x)
        f, D = _logit_loss(Z, p)
        grads = (expand.T @ D @ (expand @ H), expand.T @ D.T @ (expand @ W))
        # chain rule through Y -> a Y / ||Y||_c: remove the radial (c-weighted) component
        out = [
            a / n * (g - weights[:, None] * Y * float(np.sum(Y * g)) / n**2)
            for a, Y, n, g in zip(budgets, (U, V), norms, grads, strict=True)
        ]
        return f, np.concatenate([g.ravel() for g in out])

    return value_and_gradient, lambda x: blocks(x)[-1]


def _minority_certificate(K_A, K_B, E_W, E_H, R, solver, tol) -> tuple[float, float]:
    r"""(psi(R), its error bound) of :func:`minority_threshold`: solve the SDP with the minority
    rows and means forced equal, polish its factor by BFGS on the budget spheres, and evaluate
    the one dual condition that forcing leaves unchecked."""
    from scipy.optimize import minimize

    sizes = _minority_sizes(K_A, K_B, R)
    K = K_A + K_B
    cp = import_cvxpy()
    minority = tuple(range(K_A, K))
    program, recover = _class_program(cp, sizes, K * E_W, K * E_H, collapsed=minority)
    solve(program, solver, tol, "layer-peeled SDP (collapsed minority)")
    gram = recover()
    evals, evecs = np.linalg.eigh(0.5 * (gram + gram.T))
    rank = numerical_rank(np.clip(evals[::-1], 0.0, None))
    F = evecs[:, ::-1][:, :rank] * np.sqrt(np.clip(evals[::-1][:rank], 0.0, None))
    expand = np.zeros((K, K_A + 1))
    expand[np.arange(K_A), np.arange(K_A)] = 1.0
    expand[K_A:, K_A] = 1.0
    weights = expand.sum(axis=0)
    p = np.asarray(sizes) / sum(sizes)
    scale = K * math.sqrt(E_W * E_H)
    value_and_gradient, logits = _collapsed_objective(
        p, expand, (math.sqrt(K * E_W), math.sqrt(K * E_H)), weights
    )
    start = np.concatenate([F[: K_A + 1].ravel(), F[K : K + K_A + 1].ravel()])
    # BFGS ends on "precision loss" once the gradient is at float64 noise: the polished point is
    # used whatever its message, and the gradient left over sets the error bound.
    res = minimize(value_and_gradient, start, jac=True, method="BFGS", options={"gtol": 1e-14})
    Z = logits(res.x)
    psi = -float(np.sum(_logit_loss(Z, p)[1] * Z)) / scale - float(p[-1])
    gradient = float(np.linalg.norm(value_and_gradient(res.x)[1]))
    # float64 rounding of the K^2 terms of <D, Z>, each of size <= max|Z|
    rounding = K * K * np.finfo(float).eps * (1.0 + float(np.abs(Z).max()))
    return psi, float(MINORITY_CERTIFICATE_SAFETY * (gradient + rounding))


@dataclass(frozen=True)
class MinorityThreshold:
    """Imbalance ratio R* at which the minority classifiers collapse, in a certified bracket
    (:func:`minority_threshold`; for :func:`ufm.relaxations.ce_minority_threshold` the threshold is
    the regularization mu* and psi its certificate).

    Attributes
    ----------
    threshold : float
        Midpoint of ``bracket``.
    accuracy : float
        Half-width of ``bracket``: R* is within ``accuracy`` of ``threshold``.
    bracket : tuple of float
        (lo, hi) with lo < R* <= hi: psi(lo) < -error and psi(hi) > +error
        (:func:`minority_threshold`).
    certificate : tuple of float
        (psi(lo), psi(hi)).
    certificate_error : float
        The larger of the two error bounds on psi at the ends of the bracket.
    solves : int
        Number of SDP solves used.
    """

    __repr__ = short_repr

    threshold: float
    accuracy: float
    bracket: tuple[float, float]
    certificate: tuple[float, float]
    certificate_error: float
    solves: int

    @classmethod
    def from_bracket(cls, lo: float, hi: float, psi: dict) -> MinorityThreshold:
        """The result of a certified bisection ending at (lo, hi); ``psi`` maps every evaluated
        point to (psi, its error bound)."""
        return cls(
            threshold=0.5 * (lo + hi),
            accuracy=0.5 * (hi - lo),
            bracket=(lo, hi),
            certificate=(psi[lo][0], psi[hi][0]),
            certificate_error=float(max(psi[lo][1], psi[hi][1])),
            solves=len(psi),
        )


def _check_minority(K_A, K_B, E_W, E_H):
    return (
        check_int("K_A", K_A, 1),
        check_int("K_B", K_B, 2),
        check_positive("E_W", E_W),
        check_positive("E_H", E_H),
    )


def minority_threshold(
    K_A: int,
    K_B: int,
    E_W: float,
    E_H: float,
    *,
    R_low: float = 1.0,
    R_high: float | None = None,
    xtol: float = 1e-3,
    solver: str = "clarabel",
    tol: float | None = None,
    max_ratio: float = 1e4,
) -> MinorityThreshold:
    r"""Bracket the Minority Collapse threshold R* of the layer-peeled model, R = n_A/n_B, by the
    sign of a dual certificate.

    **Certificate** (derived here from the SDP's optimality conditions; consistent with the
    collapse shown by [1]_ and with the spread of :func:`minority_collapse_sweep`). With
    multipliers :math:`\mu_W, \mu_H \ge 0` of the two budgets and
    :math:`D_{jk} = p_k(\mathrm{softmax}(Z_{:,k})_j - \delta_{jk})` the gradient of the objective
    in the logits :math:`Z = X_{WH}` (:math:`p_k = n_k/N`), X is optimal iff
    :math:`S = egin{bmatrix}\mu_W I & D/2\ D^	op/2 & \mu_H I\end{bmatrix} \succeq 0` and
    SX = 0. Solve the SDP with the minority rows and means forced equal (the B group's
    within-group block fixed to 0). At that solution the minority logits coincide, so on the
    zero-sum vectors of B, D acts as :math:`-p_B`, and S is PSD there iff

    .. math:: \psi(R) = 2\sqrt{\mu_W\mu_H} - p_B \ \ge\ 0, \qquad p_B = rac{1}{K_AR + K_B},

    every other condition holding by construction. So :math:`\psi(R) \ge 0` iff the collapsed
    solution is optimal, i.e. iff R >= R*; psi is smooth in R (measured slope ~1e-3 per unit R at
    K_A = K_B = 5, E_W = 1, E_H = 5, where R* = 12.19244702). Complementary slackness with tight
    budgets gives :math:`\mu_W KE_W = \mu_H KE_H = -\tfrac12\langle D, Z\rangle`, so

    .. math:: \psi(R) = -\frac{\langle D, Z\rangle}{K\sqrt{E_WE_H}} - p_B,

    a function of the collapsed optimum's logits alone. The SDP's solution is accurate only to
    O(sqrt(tol)) in Z, so it is polished: BFGS on the distinct rows of W and M^T scaled onto the
    budget spheres, started from the SDP's factor, until the gradient is at float64 noise. The
    error bound on psi is ``MINORITY_CERTIFICATE_SAFETY`` times the polished gradient's norm plus
    the rounding of <D, Z> (``ufm.tolerances``). A sign is certified when :math:`|\psi|` exceeds
    its error; bisection keeps certified ends lo < R* <= hi and stops when the bracket is <= 2
    ``xtol`` wide or its midpoint and both quarter points are uncertain.

    Parameters
    ----------
    K_A, K_B : int
        Numbers of majority (>= 1) and minority (>= 2) classes.
    E_W, E_H : float
        LPM energy budgets (> 0).
    R_low : float
        A ratio without collapse (default 1: balanced classes give an ETF).
    R_high : float, optional
        A ratio with collapse; default: doubled from 2 R_low until collapse, up to ``max_ratio``.
    xtol : float
        Requested half-width of the final bracket.
    solver, tol
        As in :func:`layer_peeled_sdp` (for the collapsed-minority SDP that starts the polish).
    max_ratio : float
        Largest R tried when searching for a collapsed R_high.

    Returns
    -------
    MinorityThreshold

    Raises
    ------
    InvalidParameter
        Bad arguments; psi(R_low) not certified negative; psi(R_high) (or at every R up to
        ``max_ratio``) not certified positive.
    SolverFailed
        A solve did not reach optimality.

    Examples
    --------
    >>> th = minority_threshold(5, 5, 1.0, 5.0, R_low=12.0, R_high=12.5, xtol=1e-6)
    >>> th.bracket[0] < 12.192447 < th.bracket[1], th.accuracy <= 1e-5
    (True, True)
    """
    K_A, K_B, E_W, E_H = _check_minority(K_A, K_B, E_W, E_H)
    R_low = check_positive("R_low", R_low)
    xtol = check_positive("xtol", xtol)
    max_ratio = check_positive("max_ratio", max_ratio)
    solver, tol = resolve_tolerance(solver, tol)
    psi = {}

    def sign(R: float) -> int:
        """+1 / -1 where psi(R) is certified positive / negative, 0 where it is uncertain."""
        value, error = psi[R] = _minority_certificate(K_A, K_B, E_W, E_H, R, solver, tol)
        return 1 if value > error else -1 if value < -error else 0

    if sign(R_low) != -1:
        raise InvalidParameter(
            f"the minority classifiers are not certified apart at R_low={R_low} "
            f"(psi = {psi[R_low][0]:.3g} +/- {psi[R_low][1]:.2g}); lower R_low"
        )
    if R_high is None:
        R_high = 2.0 * R_low
        while sign(R_high) != 1:
            R_low, R_high = R_high, 2.0 * R_high
            if R_high > max_ratio:
                raise InvalidParameter(
                    f"no certified Minority Collapse up to R={R_low:g} (max_ratio={max_ratio:g}) "
                    f"for K_A={K_A}, K_B={K_B}, E_W={E_W}, E_H={E_H}; raise max_ratio or lower "
                    "the energies"
                )
    else:
        R_high = check_positive("R_high", R_high)
        if R_high <= R_low or sign(R_high) != 1:
            raise InvalidParameter(
                f"R_high must exceed R_low={R_low} and show certified collapse, got R_high={R_high}"
            )
    lo, hi = certified_bisection(sign, R_low, R_high, xtol)
    return MinorityThreshold.from_bracket(lo, hi, psi)


def certified_bisection(sign, lo: float, hi: float, xtol: float) -> tuple[float, float]:
    """Shrink a bracket lo < x* <= hi with ``sign(x)`` = -1 below x*, +1 at or above it, 0 where
    uncertain: halve at the midpoint (else a quarter point) until the bracket is <= 2 ``xtol``
    wide or the midpoint and both quarter points are uncertain."""
    while hi - lo > 2 * xtol:
        for t in (0.5, 0.25, 0.75):
            x = lo + t * (hi - lo)
            s = sign(x)
            if s:
                lo, hi = (x, hi) if s < 0 else (lo, x)
                break
        else:
            break
    return lo, hi


@dataclass(frozen=True)
class MinoritySweep:
    """A sweep of the imbalance ratio in the layer-peeled model (see
    :func:`minority_collapse_sweep`).

    Attributes
    ----------
    K_A, K_B : int
    E_W, E_H : float
    ratios : tuple of float
    objective : tuple of float
        LPM optimum at each ratio.
    minority_cosine : tuple of (float or None)
        Mean cosine between minority classifier rows (None where those rows vanish).
    minority_spread : tuple of float
        max ||w_k - w_l||^2 / E_W over minority pairs.
    certificate, certificate_error : tuple of float
        psi(R) of :func:`minority_threshold` and its error bound at each ratio.
    collapsed : tuple of bool
        psi(R) >= 0: the minority classifiers coincide at the optimum.
    threshold : MinorityThreshold or None
        The certified bracket on R*, bisected between the last ratio certified apart and the first
        certified collapsed; None if the sweep shows no certified transition.
    """

    __repr__ = short_repr

    K_A: int
    K_B: int
    E_W: float
    E_H: float
    ratios: tuple[float, ...]
    objective: tuple[float, ...]
    minority_cosine: tuple[float | None, ...]
    minority_spread: tuple[float, ...]
    certificate: tuple[float, ...]
    certificate_error: tuple[float, ...]
    collapsed: tuple[bool, ...]
    threshold: MinorityThreshold | None


def minority_collapse_sweep(
    K_A: int,
    K_B: int,
    E_W: float,
    E_H: float,
    ratios,
    *,
    locate: bool = True,
    xtol: float = 1e-3,
    solver: str = "clarabel",
    tol: float | None = None,
) -> MinoritySweep:
    """Solve the layer-peeled SDP at each imbalance ratio R = n_A/n_B, measure the minority
    classifiers and evaluate the collapse certificate psi(R) (:func:`minority_threshold`).

    Parameters
    ----------
    K_A, K_B : int
        Majority (>= 1) and minority (>= 2) class counts.
    E_W, E_H : float
        Energy budgets (> 0).
    ratios : sequence of float
        Ratios R >= 1, increasing.
    locate : bool
        Also bisect for the threshold (:func:`minority_threshold`) inside the first certified
        transition of the sweep.
    xtol, solver, tol
        As in :func:`minority_threshold` (``tol`` applies to the certificate; the sweep's SDPs use
        the solver's default unless it is given).

    Returns
    -------
    MinoritySweep

    Raises
    ------
    InvalidParameter
        Bad arguments (empty or non-increasing ratios, R < 1).
    SolverFailed
        A solve did not reach optimality.
    """
    K_A, K_B, E_W, E_H = _check_minority(K_A, K_B, E_W, E_H)
    if isinstance(ratios, str | bytes) or not hasattr(ratios, "__len__") or len(ratios) == 0:
        raise InvalidParameter(
            f"ratios must be a non-empty sequence of numbers >= 1, got {ratios!r}"
        )
    ratios = tuple(check_positive(f"ratios[{i}]", r) for i, r in enumerate(ratios))
    if min(ratios) < 1 or any(b <= a for a, b in zip(ratios[:-1], ratios[1:], strict=True)):
        raise InvalidParameter(f"ratios must be increasing and >= 1, got {ratios}")
    xtol = check_positive("xtol", xtol)
    cert_solver, cert_tol = resolve_tolerance(solver, tol)
    objective, cosine, spread, psi, psi_error = [], [], [], [], []
    for R in ratios:
        lpm = layer_peeled_sdp(
            K_A + K_B, _minority_sizes(K_A, K_B, R), E_W, E_H, solver=solver, tol=tol
        )
        s, c = _minority_stats(lpm, K_A)
        value, error = _minority_certificate(K_A, K_B, E_W, E_H, R, cert_solver, cert_tol)
        objective.append(lpm.objective)
        spread.append(s)
        cosine.append(c)
        psi.append(value)
        psi_error.append(error)
    threshold = None
    apart = [i for i, (v, e) in enumerate(zip(psi, psi_error, strict=True)) if v < -e]
    together = [i for i, (v, e) in enumerate(zip(psi, psi_error, strict=True)) if v > e]
    if locate and apart and together and together[-1] > apart[0]:
        first = next(i for i in together if i > apart[0])
        last = max(i for i in apart if i < first)
        threshold = minority_threshold(
            K_A, K_B, E_W, E_H, R_low=ratios[last], R_high=ratios[first], xtol=xtol,
            solver=solver, tol=tol,
        )  # fmt: skip
    return MinoritySweep(
        K_A,
        K_B,
        E_W,
        E_H,
        ratios,
        tuple(objective),
        tuple(cosine),
        tuple(spread),
        tuple(psi),
        tuple(psi_error),
        tuple(v >= 0 for v in psi),
        threshold,
    )
