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
here numerically; [1]_ proves the R -> infinity limit). Collapse is measured by the minority spread
:math:`\max_{k,l\in B}\|w_k - w_l\|^2/E_W` (defined even when the common minority row shrinks to 0,
which happens at still larger R), and reported also as the mean cosine between minority rows.

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

from .._repr import short_repr
from .._validation import check_choice, check_int, check_positive
from ..errors import InvalidParameter
from ..tolerances import COLLAPSE_SPREAD, CONVEX_ARGMIN, FLOAT
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


def _class_program(cp, sizes, trace_W: float, trace_H: float):
    r"""The SDP restricted to class-exchange-symmetric Gram matrices (module docstring):
    (cvxpy problem, recover() -> the full 2K x 2K Gram matrix)."""
    groups = ClassGroups(sizes)
    G, g = groups.G, groups.counts
    Q = cp.Variable((2 * G, 2 * G), PSD=True)
    # The 2x2 blocks [[x, y], [y, z]] on the within-group zero-sum subspaces exist only for groups
    # of >= 2 classes; elsewhere the a-coefficients are 0 (module docstring of _symmetry).
    multi = np.flatnonzero(g > 1)
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
    p = g * np.asarray(groups.sizes) / float(np.dot(g, groups.sizes))
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


@dataclass(frozen=True)
class MinorityThreshold:
    """Imbalance ratio at which the minority classifiers collapse, located by bisection.

    Attributes
    ----------
    threshold : float
        Midpoint of the final bracket.
    accuracy : float
        Half-width of the final bracket: the located ratio is within ``accuracy`` of the point
        where the minority spread first falls to ``collapse_tol``.
    bracket : tuple of float
        (R not collapsed, R collapsed).
    collapse_tol : float
        Spread below which the minority rows count as collapsed.
    solves : int
        Number of SDP solves used.
    """

    __repr__ = short_repr

    threshold: float
    accuracy: float
    bracket: tuple[float, float]
    collapse_tol: float
    solves: int


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
    collapse_tol: float = COLLAPSE_SPREAD,
    solver: str = "clarabel",
    tol: float | None = None,
    max_ratio: float = 1e4,
) -> MinorityThreshold:
    r"""Locate the Minority Collapse threshold R* of the layer-peeled model by bisection on R =
    n_A/n_B.

    Collapse at R means :math:`\max_{k,l\in B}\|w_k - w_l\|^2/E_W \le` ``collapse_tol`` at the LPM
    optimum (:func:`layer_peeled_sdp` with K_A classes of size R and K_B of size 1). The spread
    decreases to 0 as R increases to R* and stays 0 beyond (measured), so bisection keeps a bracket
    (not collapsed, collapsed) and halves it until its width is <= 2 ``xtol``. Because the spread
    vanishes linearly in R* - R (measured slope ~2 per unit R for K_A = K_B = 5, E_W = E_H = 1), the
    criterion places the located ratio below the exact R* by about ``collapse_tol``/slope (~5e-5
    with the defaults), well inside ``xtol``; the default ``collapse_tol`` sits 100x above the
    solver's noise in the spread.

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
    collapse_tol : float
        Spread threshold (default ``ufm.tolerances.COLLAPSE_SPREAD``).
    solver, tol
        As in :func:`layer_peeled_sdp`.
    max_ratio : float
        Largest R tried when searching for a collapsed R_high.

    Returns
    -------
    MinorityThreshold

    Raises
    ------
    InvalidParameter
        Bad arguments; R_low already collapsed; R_high (or every R up to ``max_ratio``) not
        collapsed.
    SolverFailed
        A solve did not reach optimality.
    """
    K_A, K_B, E_W, E_H = _check_minority(K_A, K_B, E_W, E_H)
    R_low = check_positive("R_low", R_low)
    xtol = check_positive("xtol", xtol)
    collapse_tol = check_positive("collapse_tol", collapse_tol)
    max_ratio = check_positive("max_ratio", max_ratio)
    solves = 0

    def collapsed(R: float) -> bool:
        nonlocal solves
        solves += 1
        lpm = layer_peeled_sdp(
            K_A + K_B, _minority_sizes(K_A, K_B, R), E_W, E_H, solver=solver, tol=tol
        )
        return _minority_stats(lpm, K_A)[0] <= collapse_tol

    if collapsed(R_low):
        raise InvalidParameter(
            f"the minority classifiers are already collapsed at R_low={R_low}; lower R_low"
        )
    if R_high is None:
        R_high = 2.0 * R_low
        while not collapsed(R_high):
            R_low, R_high = R_high, 2.0 * R_high
            if R_high > max_ratio:
                raise InvalidParameter(
                    f"no Minority Collapse up to R={R_low:g} (max_ratio={max_ratio:g}) for "
                    f"K_A={K_A}, K_B={K_B}, E_W={E_W}, E_H={E_H}; raise max_ratio or lower the "
                    "energies"
                )
    else:
        R_high = check_positive("R_high", R_high)
        if R_high <= R_low or not collapsed(R_high):
            raise InvalidParameter(
                f"R_high must exceed R_low={R_low} and show collapse, got R_high={R_high}"
            )
    lo, hi = R_low, R_high
    steps = max(0, math.ceil(math.log2((hi - lo) / (2 * xtol))))
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        if collapsed(mid):
            hi = mid
        else:
            lo = mid
    return MinorityThreshold(0.5 * (lo + hi), 0.5 * (hi - lo), (lo, hi), collapse_tol, solves)


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
    collapsed : tuple of bool
        spread <= ``collapse_tol``.
    threshold : MinorityThreshold or None
        The bisection result, located between the last non-collapsed and first collapsed ratio of
        the sweep; None if the sweep shows no transition.
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
    collapse_tol: float = COLLAPSE_SPREAD,
    solver: str = "clarabel",
    tol: float | None = None,
) -> MinoritySweep:
    """Solve the layer-peeled SDP at each imbalance ratio R = n_A/n_B and measure the minority
    classifiers.

    Parameters
    ----------
    K_A, K_B : int
        Majority (>= 1) and minority (>= 2) class counts.
    E_W, E_H : float
        Energy budgets (> 0).
    ratios : sequence of float
        Ratios R >= 1, increasing.
    locate : bool
        Also bisect for the threshold (:func:`minority_threshold`) inside the first transition of
        the sweep.
    xtol, collapse_tol, solver, tol
        As in :func:`minority_threshold`.

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
    collapse_tol = check_positive("collapse_tol", collapse_tol)
    xtol = check_positive("xtol", xtol)
    objective, cosine, spread = [], [], []
    for R in ratios:
        lpm = layer_peeled_sdp(
            K_A + K_B, _minority_sizes(K_A, K_B, R), E_W, E_H, solver=solver, tol=tol
        )
        s, c = _minority_stats(lpm, K_A)
        objective.append(lpm.objective)
        spread.append(s)
        cosine.append(c)
    collapsed = tuple(s <= collapse_tol for s in spread)
    threshold = None
    if locate and any(collapsed):
        first = collapsed.index(True)
        low = ratios[first - 1] if first > 0 else 1.0
        if low < ratios[first]:
            threshold = minority_threshold(
                K_A,
                K_B,
                E_W,
                E_H,
                R_low=low,
                R_high=ratios[first],
                xtol=xtol,
                collapse_tol=collapse_tol,
                solver=solver,
                tol=tol,
            )
    return MinoritySweep(
        K_A,
        K_B,
        E_W,
        E_H,
        ratios,
        tuple(objective),
        tuple(cosine),
        tuple(spread),
        collapsed,
        threshold,
    )
