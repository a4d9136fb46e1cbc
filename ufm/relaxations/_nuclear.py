r"""The regularized UFM as a convex program in the logits: nuclear-norm certificates, max margin.

For Z = W H (K x N) of rank at most d,

.. math:: \min\Big\{\tfrac{\lambda_W}{2}\|W\|_F^2 + \tfrac{\lambda_H}{2}\|H\|_F^2 :
          WH = Z,\ W\in\mathbb R^{K\times d}\Big\} = \sqrt{\lambda_W\lambda_H}\,\|Z\|_*,

attained by the balanced SVD factorization :math:`Z = USV^\top`,
:math:`W = (\lambda_H/\lambda_W)^{1/4} US^{1/2}`, :math:`H = (\lambda_W/\lambda_H)^{1/4}
S^{1/2}V^\top` (AM-GM on :math:`\|W\|_F\|H\|_F \ge \|Z\|_*`). Hence the UFM equals

.. math:: \min_{Z,\,b,\ \operatorname{rank} Z\le d}\ \text{data}(Z + b\mathbf 1^\top)
          + \sqrt{\lambda_W\lambda_H}\,\|Z\|_* + \tfrac{\lambda_b}{2}\|b\|^2,

and dropping the rank constraint gives a convex lower bound that is exact whenever some optimal Z
has rank <= d. Derived here; consistent with the nuclear-norm reformulations of Zhu et al. (2021)
[1]_ and Zhou et al. (2022) [2]_.

**When the rank constraint may be dropped** (derived here, verified by the tests). Write r_max for
a bound on the rank of an optimal Z that the convex program can impose without loss:

* A shift-invariant loss (the softmax link: ``ce``, ``ce-ls``), every bias mode: the loss is
  invariant under :math:`z_i \to z_i + c\mathbf 1`, and
  :math:`P = I - \mathbf 1\mathbf 1^\top/K` satisfies :math:`\|PZ\|_* \le \|Z\|_*`,
  :math:`\|Pb\| \le \|b\|`; so :math:`\mathbf 1^\top Z = 0` (and :math:`\mathbf 1^\top b = 0`) is
  imposed and r_max = K - 1.
* The square link (``mse``) with ``bias='free'``: replacing Z by
  :math:`Z(I - \mathbf 1\mathbf 1^\top/N)` and b by
  :math:`b + Z\mathbf 1/N` leaves the data term unchanged and does not increase the nuclear norm; so
  :math:`Z\mathbf 1 = 0` is imposed. With equal columns within a class this reads
  :math:`\bar Z n = 0`, so r_max = K - 1.
* The square link with ``bias='none'`` or ``'regularized'``: r_max = K.

For d >= r_max the relaxation is exact. For d < r_max it is exact only if the solution happens to
have rank <= d (e.g. the zero solution under strong regularization); this is checked, never assumed:
the relaxation is accepted only if the UFM objective of the recovered rank-<=d configuration matches
the convex optimum.

**Within-class symmetry** (derived here, tested against the unreduced K x N program). The convex
objective is invariant under permutations of the columns within a class and convex, so averaging an
optimal Z over those permutations gives an optimal Z with equal columns within each class: :math:`Z
= \bar Z E^\top` with E the N x K class-indicator matrix and :math:`\bar Z` K x K. Since
:math:`E^\top E = D = \operatorname{diag}(n)`, :math:`ZZ^\top = (\bar ZD^{1/2})(\bar
ZD^{1/2})^\top`, so :math:`\|Z\|_* = \|\bar Z D^{1/2}\|_*`: a nuclear norm of the class-logit matrix
with column k weighted by :math:`\sqrt{n_k}`. The data terms become :math:`\frac1N\sum_k
n_k\,\ell(\bar z_k + b, k)`. If :math:`\bar ZD^{1/2} = USV^\top`, then :math:`Z =
US(ED^{-1/2}V)^\top` is an SVD of Z, and the class means of the balanced factorization are :math:`M
= (\lambda_W/\lambda_H)^{1/4}S^{1/2}V^\top D^{-1/2}`.

**Class-exchange symmetry** (derived here, tested against both programs above). Permuting classes
of equal size, simultaneously on the rows and columns of :math:`\bar Z` and on b, leaves the
reduced program invariant (D is unchanged, so :math:`\|P\bar ZP^\top D^{1/2}\|_* =
\|P\bar ZD^{1/2}P^\top\|_*`), and so do the constraints above. An optimum is therefore fixed by
these permutations (:mod:`ufm.relaxations._symmetry`): with G groups of :math:`g_i` classes of size
:math:`s_i`, :math:`\bar Z_{rk} = c_{\gamma(r)\gamma(k)} + a_{\gamma(k)}\delta_{rk}` and
:math:`b_k = \beta_{\gamma(k)}`. Column k of :math:`\bar ZD^{1/2}` is column k of :math:`\bar Z`
times :math:`\sqrt{s_{\gamma(k)}}`, so the within-group zero-sum vectors of group j give singular
value :math:`\sqrt{s_j}|a_j|` with multiplicity :math:`g_j - 1` and the group indicators the
singular values of the G x G matrix :math:`T_{ij} = \sqrt{s_j}(a_j\delta_{ij} +
\sqrt{g_ig_j}\,c_{ij})`:

.. math:: \|\bar ZD^{1/2}\|_* = \|T\|_* + \sum_{j=1}^G (g_j - 1)\sqrt{s_j}\,|a_j|.

With :math:`L_{ij} = c_{ij} + \beta_i` a class of group j has own logit :math:`L_{jj} + a_j`,
:math:`g_j - 1` logits :math:`L_{jj}` and :math:`g_i` logits :math:`L_{ij}` (i != j); the data
term is :math:`\sum_j \frac{g_js_j}N\,\ell_j` with these multiplicities
(:func:`ufm.relaxations._symmetry.exchange_data`), the bias penalty
:math:`\frac{\lambda_b}2\sum_i g_i\beta_i^2`, and the constraints read
:math:`\sum_i g_ic_{ij} + a_j = 0` (CE), :math:`\sum_i g_i\beta_i = 0` (CE with bias),
:math:`\sum_j g_js_jc_{ij} + s_ia_i = 0` (MSE, free bias). The program has G^2 + 2G variables and
one 2G x 2G PSD block (the nuclear norm of T), independent of K for a fixed number of distinct
sizes; :math:`\bar Z` and b are expanded back to K x K and K before the factorization.

References
----------
.. [1] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS.
.. [2] Zhou, Li, Ding, You, Qu & Zhu (2022), "On the optimization landscape of neural collapse
   under MSE loss: global optimality with unconstrained features", ICML.
.. [3] Thrampoulidis, Kini, Vakilian & Behnia (2022), "Imbalance trouble: revisiting neural-collapse
   geometry", NeurIPS.
.. [4] Ji, Lu, Zhang, Deng & Su (2021), "An unconstrained layer-peeled perspective on neural
   collapse", ICLR 2022.

Length: one program (the nuclear-norm relaxation) in its reduced and per-class forms, its
certificate and the max-margin program that reuses its factorization; each form's derivation is
stated above next to the code that implements it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._limits import check_sdp
from .._repr import short_repr
from .._validation import check_choice, check_int
from ..errors import InvalidParameter, SolverFailed
from ..io import Configuration
from ..objectives import objective as ufm_objective
from ..problem import Problem
from ..tolerances import CONVEX_CLARABEL, CONVEX_SCS, relative_deviation
from ._solve import import_cvxpy, resolve_tolerance, solve
from ._symmetry import ClassGroups, exchange_data, expand

__all__ = [
    "NuclearCertificate",
    "nuclear_relaxation",
    "gap",
    "MaxMargin",
    "max_margin",
    "MinNormInterpolation",
    "min_norm_interpolation",
]

#: Agreement required between the convex optimum and the UFM objective of the recovered
#: configuration, by solver (the relaxation's value error, see ufm.tolerances).
_VALUE_TOL = {"CLARABEL": CONVEX_CLARABEL, "SCS": CONVEX_SCS}

#: Singular values below this fraction of the largest count as zero when reporting the rank: far
#: above the O(sqrt(gap)) ~ 1e-4 noise an interior-point solution leaves in a degenerate spectrum,
#: far below any singular value of a nonzero optimum in the tests (>= 1e-2 of the largest).
_RANK_RTOL = 1e-3


def numerical_rank(S: np.ndarray) -> int:
    """Number of singular (or eigen-) values above ``_RANK_RTOL`` times the largest (0 for
    all-zero)."""
    S = np.asarray(S, dtype=float)
    top = float(S.max(initial=0.0))
    # An optimum that is zero up to solver noise (the zero solution) has rank 0, not rank K.
    if top <= _RANK_RTOL:
        return 0
    return int(np.count_nonzero(S > _RANK_RTOL * top))


def _rank_bound(problem: Problem) -> int:
    shift_invariant = problem.loss_fn.shift_invariant
    return problem.K - 1 if shift_invariant or problem.bias == "free" else problem.K


@dataclass(frozen=True, eq=False)
class NuclearCertificate:
    """Certified global optimum of a regularized UFM, from its nuclear-norm convex program.

    Attributes
    ----------
    problem : Problem
    objective : float
        The solver's primal value of the convex program (the global optimum of the UFM, to the
        solver tolerance, when ``exact``).
    lower : float
        Certified lower bound on the optimum: the solver's dual value, ``objective`` minus a
        positive ``duality_gap`` (feasible points of the UFM lie above it up to ``tolerance``,
        the dual's feasibility error; :func:`gap` measures from it).
    tolerance : float
        Accuracy of the certificate's values: the solver's value tolerance
        (``ufm.tolerances.CONVEX_CLARABEL`` or ``CONVEX_SCS``) times 1 + |lower|.
    upper : float
        UFM objective f(W, H, b) of the recovered configuration (agrees with ``objective`` to the
        solver tolerance when ``exact``).
    exact : bool
        True when the relaxation is tight for this d (always for d >= ``rank_bound``); False only
        with ``allow_lower_bound=True``, and then ``objective`` is merely a lower bound.
    status, solver : str
        Solver status (always ``'optimal'``) and name.
    duality_gap : float
        Primal minus dual objective reported by the solver.
    solve_time : float
        Seconds spent in cvxpy and the solver.
    Z : ndarray, shape (K, K) if ``reduced`` else (K, N)
        Optimal logits W H without the bias (reduced: column k is the logit vector of class k;
        with ``symmetry='classes'`` it commutes with permutations of equal-size classes).
    W : ndarray, shape (K, d)
    H : ndarray, shape (d, N)
    M : ndarray, shape (d, K)
        Class means of H.
    b : ndarray, shape (K,)
    rank : int
        Numerical rank of the optimal Z.
    rank_bound : int
        The rank an optimal Z can be assumed to have (module docstring): K - 1 or K.
    reduced : bool
        Whether the within-class symmetry reduction was used (``symmetry != 'none'``).
    symmetry : {'classes', 'samples', 'none'}
        The symmetry reduction the program was solved with (:func:`nuclear_relaxation`).
    """

    __repr__ = short_repr

    problem: Problem
    objective: float
    lower: float
    tolerance: float
    upper: float
    exact: bool
    status: str
    solver: str
    duality_gap: float
    solve_time: float
    Z: np.ndarray
    W: np.ndarray
    H: np.ndarray
    M: np.ndarray
    b: np.ndarray
    rank: int
    rank_bound: int
    reduced: bool
    symmetry: str = "classes"

    def configuration(self) -> Configuration:
        """The recovered (W, H, b) as a :class:`ufm.Configuration` with provenance."""
        return Configuration(
            self.W,
            self.H,
            self.b,
            problem=self.problem,
            metadata={
                "produced_by": {
                    "method": "ufm.relaxations.nuclear_relaxation",
                    "parameters": {"solver": self.solver, "symmetry": self.symmetry},
                },
                "extra": {
                    "certified_objective": self.objective,
                    "certified_lower_bound": self.lower,
                    "exact": self.exact,
                    "duality_gap": self.duality_gap,
                    "rank": self.rank,
                },
            },
        )


def _data_term(cp, loss, logits, weights: np.ndarray, labels: np.ndarray, N: int):
    """(1/N) sum_j c_j loss(logits_j, label_j) for columns j of ``logits`` with weights c_j."""
    targets = loss.class_targets(logits.shape[0])[:, labels]
    return loss.link_impl.cvx_columns(cp, logits, targets, weights, N)


def _sample_program(cp, problem: Problem, symmetry: str):
    """The convex program over the K x N logits (``'none'``) or the K x K class logits
    (``'samples'``): (cvxpy problem, recover() -> (Z, b or None))."""
    K, N = problem.K, problem.N
    if symmetry == "samples":
        weights, labels = np.asarray(problem.class_sizes, dtype=float), np.arange(K)
    else:
        weights, labels = np.ones(N), np.asarray(problem.labels)
    m = weights.size
    Z = cp.Variable((K, m))
    constraints = []
    shift_invariant = problem.loss_fn.shift_invariant
    if shift_invariant:
        constraints.append(cp.sum(Z, axis=0) == 0)
    if problem.bias == "free":
        constraints.append(Z @ weights == 0)
    b = None
    logits = Z
    if problem.has_bias:
        b = cp.Variable(K)
        if shift_invariant:
            constraints.append(cp.sum(b) == 0)
        logits = Z + cp.reshape(b, (K, 1), order="F") @ np.ones((1, m))
    cost = _data_term(cp, problem.loss_fn, logits, weights, labels, N)
    cost = cost + _mu(problem) * cp.normNuc(Z @ np.diag(np.sqrt(weights)))
    if problem.bias == "regularized":
        cost = cost + 0.5 * problem.lambda_b * cp.sum_squares(b)

    def recover():
        return Z.value, None if b is None else b.value

    return cp.Problem(cp.Minimize(cost), constraints), recover


def _class_program(cp, problem: Problem, collapsed: tuple[int, ...] = ()):
    r"""The class-exchange-reduced program (module docstring): (cvxpy problem, recover() -> (K x
    K class logits, b or None)). ``collapsed`` lists groups j whose own-logit excess a_j is fixed
    to 0: their classes' logit columns (and rows) then coincide."""
    groups = ClassGroups(problem.class_sizes)
    G, g, s = groups.G, groups.counts, groups.sizes
    a = cp.Variable(G)
    C = cp.Variable((G, G))
    constraints = [a[j] == 0 for j in collapsed]
    shift_invariant = problem.loss_fn.shift_invariant
    if shift_invariant:
        constraints.append(C.T @ g + a == 0)
    if problem.bias == "free":
        constraints.append(C @ (g * s) + cp.multiply(s, a) == 0)
    beta = None
    L = C
    if problem.has_bias:
        beta = cp.Variable(G)
        if shift_invariant:
            constraints.append(g @ beta == 0)
        L = C + cp.reshape(beta, (G, 1), order="F") @ np.ones((1, G))
    T = cp.multiply(groups.root_counts() * np.sqrt(s)[None, :], C) + cp.diag(
        cp.multiply(np.sqrt(s), a)
    )
    nuclear = cp.normNuc(T) + ((g - 1) * np.sqrt(s)) @ cp.abs(a)
    data = exchange_data(cp, problem.loss_fn, L, a, groups, g * s / problem.N)
    cost = data + _mu(problem) * nuclear
    if problem.bias == "regularized":
        cost = cost + 0.5 * problem.lambda_b * (g @ cp.square(beta))

    def recover():
        Z = expand(np.asarray(a.value, float), np.asarray(C.value, float), groups.index)
        return Z, None if beta is None else np.asarray(beta.value, float)[groups.index]

    return cp.Problem(cp.Minimize(cost), constraints), recover


#: Symmetry reductions of :func:`nuclear_relaxation`, from most to least reduced.
SYMMETRIES = ("classes", "samples", "none")


def _resolve_symmetry(reduced: bool, symmetry: str | None) -> str:
    if symmetry is None:
        return "classes" if reduced else "none"
    symmetry = check_choice("symmetry", symmetry, SYMMETRIES)
    if not reduced and symmetry != "none":
        raise InvalidParameter(
            f"reduced=False asks for the unreduced program, which contradicts "
            f"symmetry={symmetry!r}; pass only one of them"
        )
    return symmetry


def _mu(problem: Problem) -> float:
    return float(np.sqrt(problem.lambda_W * problem.lambda_H))


def balanced_factors(
    Z: np.ndarray, weights: np.ndarray, d: int, ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Balanced factorization of :math:`\bar Z D^{1/2}` into (W, per-column factor, singular
    values).

    Returns W (K x d) and F (d x m) with :math:`W F = \bar Z` truncated to its d leading singular
    directions, :math:`W = \rho^{1/2} U S^{1/2}`, :math:`F = \rho^{-1/2} S^{1/2}V^\top D^{-1/2}`,
    where :math:`\rho = (\lambda_H/\lambda_W)^{1/2}` is ``ratio`` (1 for the unweighted max-margin
    problem).
    """
    K, m = Z.shape
    U, S, Vt = np.linalg.svd(Z * np.sqrt(weights)[None, :], full_matrices=False)
    r = min(S.size, d)
    root = np.sqrt(S[:r])
    W = np.zeros((K, d))
    F = np.zeros((d, m))
    W[:, :r] = np.sqrt(ratio) * U[:, :r] * root
    F[:r] = (root[:, None] * Vt[:r]) / np.sqrt(ratio) / np.sqrt(weights)[None, :]
    return W, F, S


def nuclear_relaxation(
    problem: Problem,
    *,
    solver: str = "clarabel",
    reduced: bool = True,
    symmetry: str | None = None,
    tol: float | None = None,
    allow_lower_bound: bool = False,
) -> NuclearCertificate:
    r"""Certified global optimum of a regularized UFM by its nuclear-norm convex program.

    Solves

    .. math:: \min_{\bar Z,\,b}\ \frac1N\sum_{k=1}^K n_k\,\ell(\bar z_k + b, k)
              + \sqrt{\lambda_W\lambda_H}\,\|\bar Z D^{1/2}\|_* + \frac{\lambda_b}{2}\|b\|^2

    (:math:`\bar Z` K x K, D = diag(n_1..n_K); by default restricted without loss to matrices
    invariant under exchanging classes of equal size, ``symmetry='classes'``; ``'samples'`` solves
    it over all K x K matrices, ``'none'`` over the full K x N logit matrix with unit weights),
    with :math:`\ell` the CE or the halved squared error of :mod:`ufm.objectives`, b fixed to 0
    for ``bias='none'`` and unpenalized for ``bias='free'``. Recovers (W, H) by the balanced SVD
    factorization and certifies that the UFM objective of the recovered configuration equals the
    convex optimum (module docstring for the derivation, the rank condition and the symmetry
    reductions).

    Parameters
    ----------
    problem : Problem
        Any loss, bias mode and class sizes; lambda_W and lambda_H must be > 0 (with either zero the
        infimum is not attained).
    solver : {'clarabel', 'scs'}
    reduced : bool
        False: solve the unreduced K x N program (the same as ``symmetry='none'``).
    symmetry : {'classes', 'samples', 'none'}, optional
        Which symmetry reduction to use (module docstring): ``'classes'`` (default; within-class
        and class-exchange, a 2G x 2G PSD block for G distinct class sizes), ``'samples'``
        (within-class only, 2K x 2K), ``'none'`` (K x N logits, (K + N) x (K + N)). All give the
        same optimum; the first is by far the fastest.
    tol : float, optional
        Solver gap/feasibility tolerance (default ``ufm.tolerances.CLARABEL_EPS`` / ``SCS_EPS``).
    allow_lower_bound : bool
        For d below the rank bound, return a non-tight relaxation (``exact=False``; its
        ``objective`` is a lower bound) instead of raising.

    Returns
    -------
    NuclearCertificate

    Raises
    ------
    InvalidParameter
        lambda_W or lambda_H is 0; unknown ``symmetry`` or one contradicting ``reduced=False``; or
        d < rank bound and the relaxation is not tight (the message
        gives both values), unless ``allow_lower_bound``.
    LimitExceeded
        ``symmetry='none'`` or ``'samples'`` whose PSD block of side K + N (or 2K) needs more
        memory than the limit (:func:`ufm._limits.check_sdp`).
    SolverFailed
        The solver did not reach optimality, or its optimum is not matched by the recovered
        configuration.

    Examples
    --------
    >>> from ufm import Problem
    >>> p = Problem(loss='mse', K=3, d=3, n=2, lambda_W=0.1, lambda_H=0.1, bias='none')
    >>> c = 1 - 0.1 * 3 * 2**0.5  # Z = c I per class: f = (1-c)^2/2 + mu K sqrt(n) c, mu = 0.1
    >>> abs(nuclear_relaxation(p).objective - ((1 - c) ** 2 / 2 + 0.1 * 3 * 2**0.5 * c)) < 1e-6
    True
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    for name in ("lambda_W", "lambda_H"):
        if getattr(problem, name) <= 0:
            raise InvalidParameter(
                f"{name} must be > 0 for a nuclear-norm certificate (with it 0 the infimum is not "
                f"attained), got {getattr(problem, name)}"
            )
    symmetry = _resolve_symmetry(reduced, symmetry)
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    if symmetry == "classes":
        program, recover = _class_program(cp, problem)
    else:
        # the nuclear norm of the K x m logits is a PSD block of side K + m
        m = problem.N if symmetry == "none" else problem.K
        check_sdp(
            f"the nuclear-norm program with symmetry={symmetry!r}", problem.K + m,
            "use symmetry='classes' (the default; the same optimum)",
        )  # fmt: skip
        program, recover = _sample_program(cp, problem, symmetry)
    info = solve(program, solver, tol, "nuclear-norm relaxation")
    K, d = problem.K, problem.d
    Z, b = recover()
    Z = np.asarray(Z, dtype=float)
    b = np.zeros(K) if b is None else np.asarray(b, dtype=float)
    reduced = symmetry != "none"
    weights = np.asarray(problem.class_sizes if reduced else np.ones(problem.N), dtype=float)
    ratio = float(np.sqrt(problem.lambda_H / problem.lambda_W))
    W, F, S = balanced_factors(Z, weights, d, ratio)
    labels = np.asarray(problem.labels)
    H = F[:, labels] if reduced else F
    M = F if reduced else np.stack([H[:, labels == k].mean(axis=1) for k in range(K)], axis=1)
    value = float(program.value)
    upper = ufm_objective(problem, W, H, b if problem.has_bias else None)
    bound = _rank_bound(problem)
    rank = numerical_rank(S)
    exact = relative_deviation(upper, value) <= _VALUE_TOL[info.solver]
    if not exact:
        if d >= bound:
            raise SolverFailed(
                f"the recovered configuration's objective {upper:.10g} does not match the "
                f"convex optimum {value:.10g}; solve more accurately (lower tol or use clarabel)",
                solver=info.solver,
                status="inaccurate_recovery",
            )
        if not allow_lower_bound:
            raise InvalidParameter(
                f"d={d} is below the rank bound {bound} and the relaxation is not tight here: "
                f"the convex optimum {value:.10g} has rank {rank} > d, and the best rank-{d} "
                f"truncation has objective {upper:.10g}; use d >= {bound}, or accept a lower "
                "bound (allow_lower_bound=True; on the command line --allow-lower-bound)"
            )
    # The dual value bounds the optimum from below (weak duality); the primal value can sit above
    # feasible points by the gap (CE: up to ~1e-8 at CLARABEL_EPS).
    lower = value - max(info.duality_gap, 0.0)
    return NuclearCertificate(
        problem=problem,
        objective=value,
        lower=lower,
        tolerance=_VALUE_TOL[info.solver] * (1.0 + abs(lower)),
        upper=float(upper),
        exact=bool(exact),
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
        solve_time=info.solve_time,
        Z=Z,
        W=W,
        H=H,
        M=M,
        b=b,
        rank=rank,
        rank_bound=bound,
        reduced=reduced,
        symmetry=symmetry,
    )


def gap(
    config,
    problem: Problem | None = None,
    certificate: NuclearCertificate | None = None,
    **solve_kw,
) -> float:
    r"""How far a configuration is above the certified global optimum: :math:`f(W,H,b) - f_\ell`,
    with :math:`f_\ell \le f^\star` the certificate's lower bound ``certificate.lower``.

    Parameters
    ----------
    config : Configuration or tuple
        A :class:`ufm.Configuration`, or ``(W, H, b)`` / ``(W, H)`` (b omitted only for
        ``bias='none'``).
    problem : Problem, optional
        Default: the configuration's problem, else the certificate's.
    certificate : NuclearCertificate, optional
        A certificate for the same problem; computed by :func:`nuclear_relaxation` (with
        ``solve_kw``) when omitted.

    Returns
    -------
    float
        Non-negative: an upper bound on the suboptimality :math:`f - f^\star` (also when the
        certificate is not ``exact``). A configuration below the bound by less than
        ``certificate.tolerance`` (the bound's accuracy) has gap 0.

    Raises
    ------
    InvalidParameter
        No problem can be determined, or the certificate belongs to a different problem.
    SolverFailed
        The configuration lies below the bound by more than ``certificate.tolerance``: the
        certificate is wrong (solve it again more accurately).
    """
    if isinstance(config, Configuration):
        W, H, b = config.W, config.H, config.b
        problem = problem if problem is not None else config.problem
    elif isinstance(config, tuple | list) and len(config) in (2, 3):
        W, H = config[0], config[1]
        b = config[2] if len(config) == 3 else None
    else:
        raise InvalidParameter(
            f"config must be a ufm.Configuration or a tuple (W, H, b), got {type(config).__name__}"
        )
    if problem is None:
        if certificate is None:
            raise InvalidParameter(
                "gap needs a problem: pass problem= or a configuration that has one"
            )
        problem = certificate.problem
    if certificate is None:
        certificate = nuclear_relaxation(problem, **solve_kw)
    elif not isinstance(certificate, NuclearCertificate):
        raise InvalidParameter(
            f"certificate must be a NuclearCertificate, got {type(certificate).__name__}"
        )
    elif certificate.problem != problem:
        raise InvalidParameter(
            f"the certificate is for {certificate.problem.to_dict()}, not for {problem.to_dict()}"
        )
    if not problem.has_bias and b is not None and not np.any(np.asarray(b)):
        b = None
    value = float(ufm_objective(problem, W, H, b) - certificate.lower)
    if value < -certificate.tolerance:
        raise SolverFailed(
            f"the configuration's objective is {-value:.3g} below the certified lower bound "
            f"{certificate.lower:.10g}, beyond its tolerance {certificate.tolerance:.3g}: the "
            "certificate is inaccurate; solve again with a lower tol",
            solver=certificate.solver,
            status="bound_violated",
        )
    return max(value, 0.0)


@dataclass(frozen=True, eq=False)
class MaxMargin:
    """Solution of the nuclear-norm max-margin program (see :func:`max_margin`).

    Attributes
    ----------
    class_sizes : tuple of int
    objective : float
        :math:`\\|Z\\|_* = \\min (\\|W\\|_F^2 + \\|H\\|_F^2)/2` under the margin constraints.
    Z : ndarray, shape (K, K)
        Class logits (column k: logits of class k).
    W : ndarray, shape (K, r)
    M : ndarray, shape (r, K)
        Class means (features of a class are all equal to its mean).
    gram_W, gram_M : ndarray, shape (K, K)
        W W^T and M^T M.
    rank : int
    status, solver : str
    duality_gap : float
    """

    __repr__ = short_repr

    class_sizes: tuple[int, ...]
    objective: float
    Z: np.ndarray
    W: np.ndarray
    M: np.ndarray
    gram_W: np.ndarray
    gram_M: np.ndarray
    rank: int
    status: str
    solver: str
    duality_gap: float


def max_margin(class_sizes, *, solver: str = "clarabel", tol: float | None = None) -> MaxMargin:
    r"""The max-margin (vanishing-regularization) limit of the CE UFM without bias, as a program.

    .. math:: \min_{W,H}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\
              (w_{y_i} - w_j)^\top h_i \ge 1\ \ \forall i,\ j\ne y_i
              \;=\; \min_{\bar Z}\ \|\bar Z D^{1/2}\|_*\ \text{ s.t. }\
              \bar z_{kk} - \bar z_{jk} \ge 1,

    the second form by the nuclear-norm identity (d >= K) and the within-class symmetry reduction of
    the module docstring (the constraints are per column and permutation invariant within a class);
    :math:`\mathbf 1^\top\bar Z = 0` is imposed without loss (margins are invariant under it, the
    nuclear norm does not grow). The regularization path of the CE UFM converges in direction to its
    solution (Ji et al. 2021 [4]_; Thrampoulidis et al. 2022 [3]_), which is the SELI geometry: the
    logits equal the simplex-encoded labels :math:`\bar Z = I - \mathbf 1\mathbf 1^\top/K`, for
    balanced classes a simplex ETF (checked numerically against :func:`ufm.geometry.seli` in the
    tests).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1, ..., n_K (K >= 2, each >= 1).
    solver : {'clarabel', 'scs'}
    tol : float, optional

    Returns
    -------
    MaxMargin

    Raises
    ------
    InvalidParameter
        Bad class sizes.
    SolverFailed
        The solver did not reach optimality.
    """
    sizes = class_sizes_tuple(class_sizes)
    solver, tol = resolve_tolerance(solver, tol)
    cp = import_cvxpy()
    K = len(sizes)
    n = np.asarray(sizes, dtype=float)
    Z = cp.Variable((K, K))
    margins = cp.reshape(cp.diag(Z), (1, K), order="F") - Z
    off = 1.0 - np.eye(K)
    constraints = [cp.multiply(off, margins) >= off, cp.sum(Z, axis=0) == 0]
    program = cp.Problem(cp.Minimize(cp.normNuc(Z @ np.diag(np.sqrt(n)))), constraints)
    info = solve(program, solver, tol, "max-margin program")
    Zv = np.asarray(Z.value, dtype=float)
    W, M, S = balanced_factors(Zv, n, K, 1.0)
    rank = numerical_rank(S)
    W, M = W[:, :rank], M[:rank]
    return MaxMargin(
        class_sizes=sizes,
        objective=float(program.value),
        Z=Zv,
        W=W,
        M=M,
        gram_W=W @ W.T,
        gram_M=M.T @ M,
        rank=rank,
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
    )


def class_sizes_tuple(class_sizes) -> tuple[int, ...]:
    """Validate integer class sizes (K >= 2 entries, each >= 1)."""
    if isinstance(class_sizes, str | bytes) or not hasattr(class_sizes, "__len__"):
        raise InvalidParameter(
            f"class_sizes must be a sequence of K >= 2 integers, got {class_sizes!r}"
        )
    if len(class_sizes) < 2:
        raise InvalidParameter(f"class_sizes must have K >= 2 entries, got {len(class_sizes)}")
    return tuple(check_int(f"class_sizes[{k}]", s, 1) for k, s in enumerate(class_sizes))


@dataclass(frozen=True)
class MinNormInterpolation:
    """Solution of :func:`min_norm_interpolation`: value, Grams W W^T (K x K), H^T H (N x N), its
    class-block means M^T M (K x K), the logits Z (K x N) and the bias; solver report."""

    __repr__ = short_repr

    class_sizes: tuple[int, ...]
    bias: str
    objective: float
    gram_W: np.ndarray
    gram_H: np.ndarray
    gram_M: np.ndarray
    Z: np.ndarray
    b: np.ndarray
    status: str
    solver: str
    duality_gap: float


def min_norm_interpolation(
    class_sizes, bias: str = "free", *, solver: str = "clarabel", tol: float | None = None
) -> MinNormInterpolation:
    r"""The minimum-norm interpolation of the one-hot labels as a semidefinite program.

    .. math:: \min_{W,H,b}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\ WH + b\mathbf 1^\top = Y
              \;=\; \min_{A,B,b}\ \tfrac12(\operatorname{tr}A + \operatorname{tr}B)\ \text{ s.t. }\
              \begin{pmatrix}A & Y - b\mathbf 1^\top\\ (Y - b\mathbf 1^\top)^\top & B\end{pmatrix}
              \succeq 0

    over the full K x N logits (no class symmetry assumed), b = 0 for ``bias='none'``: the inner
    minimum over (A, B) for a fixed Z = Y - b 1^T is :math:`\|Z\|_*`, attained at
    :math:`A = (ZZ^\top)^{1/2} = WW^\top`, :math:`B = (Z^\top Z)^{1/2} = H^\top H` (the SDP form of
    the nuclear norm; the module docstring's identity with :math:`\lambda_W = \lambda_H`), so the
    program's A and B are the Grams of the minimum-norm factors (for d >= rank Z).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1, ..., n_K (K >= 2, each >= 1); samples are grouped by class.
    bias : {'free', 'none'}
    solver : {'clarabel', 'scs'}
    tol : float, optional

    Returns
    -------
    MinNormInterpolation

    Raises
    ------
    InvalidParameter
        Bad class sizes or bias mode.
    LimitExceeded
        The (K + N) x (K + N) PSD block needs more memory than the limit.
    SolverFailed
        The solver did not reach optimality.
    """
    sizes = class_sizes_tuple(class_sizes)
    bias = check_choice("bias", bias, ("free", "none"))
    solver, tol = resolve_tolerance(solver, tol)
    K, N = len(sizes), sum(sizes)
    check_sdp("the min-norm interpolation program", K + N, "use fewer samples per class")
    cp = import_cvxpy()
    indicator = np.eye(K)[np.repeat(np.arange(K), sizes)]  # N x K, E_ik = [y_i = k]
    X = cp.Variable((K + N, K + N), PSD=True)
    b = cp.Variable(K) if bias == "free" else None
    logits = (
        indicator.T
        if b is None
        else indicator.T - cp.reshape(b, (K, 1), order="F") @ (np.ones((1, N)))
    )
    program = cp.Problem(cp.Minimize(cp.trace(X) / 2), [X[:K, K:] == logits])
    info = solve(program, solver, tol, "min-norm interpolation program")
    Xv = np.asarray(X.value, dtype=float)
    Xv = (Xv + Xv.T) / 2
    gram_H = Xv[K:, K:]
    means = indicator / np.asarray(sizes, dtype=float)  # N x K: column k averages class k
    return MinNormInterpolation(
        class_sizes=sizes,
        bias=bias,
        objective=float(program.value),
        gram_W=Xv[:K, :K],
        gram_H=gram_H,
        gram_M=means.T @ gram_H @ means,
        Z=Xv[:K, K:],
        b=np.zeros(K) if b is None else np.asarray(b.value, dtype=float),
        status=info.status,
        solver=info.solver,
        duality_gap=info.duality_gap,
    )
