r"""Closed-form global minimizers of the regularized UFM and of the layer-peeled model, by sympy.

Notation: K classes of n samples each (balanced), N = nK, feature dimension d; W is K x d, H is
d x N (columns grouped by class), b has length K; M (d x K) holds the class means.
:math:`J = \mathbf 1\mathbf 1^\top` and :math:`P = I - J/K` (K x K). The objectives are those of
:mod:`ufm.objectives`.

Every case is reduced to a few scalars (derived here; consistent with the papers cited):

* all minimizers are *collapsed*: :math:`h_{k,i} = m_k`, so :math:`WH = \bar Z Y` with the K x K
  class-logit matrix :math:`\bar Z = WM`, and, by the symmetry of balanced classes,
  :math:`\bar Z = \alpha P + \gamma J`, :math:`b = \beta\mathbf 1`;
* the regularizer is bounded below by the nuclear norm (Srebro et al.; the "nuclear-norm fact" of
  LITERATURE.md):
  :math:`\frac{\lambda_W}2\|W\|_F^2 + \frac{\lambda_H}2\|H\|_F^2
  \ge \sqrt{\lambda_W\lambda_H}\|WH\|_* = \sqrt{n\lambda_W\lambda_H}\,\|\bar Z\|_*`, with equality
  for the balanced factorization :math:`W = \rho^{1/2}F`, :math:`M = \rho^{-1/2}F^\top`,
  :math:`\bar Z = FF^\top`, :math:`\rho = \sqrt{n\lambda_H/\lambda_W}`;
* for cross-entropy only :math:`x = \alpha (K-1)/K` (the logit margin scale :math:`x = st` of
  :math:`w_k = s u_k`, :math:`h_{k,i} = t u_k`, u the unit simplex ETF) matters, and the objective
  is :math:`g(x) = \log(1 + (K-1)e^{-Kx/(K-1)}) + \kappa x`.

The deciding quantity is :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}`: W = 0, H = 0 is the unique
global minimizer iff :math:`\kappa \ge 1` (all cases). The reduced convex problems are solved by
enumerating their KKT regimes with ``sympy.solve`` (:func:`derivation`), not by hand-typed formulas.

References
----------
.. [1] Zhu, Ding, Zhou, Li, You, Sulam & Qu (2021), "A geometric analysis of neural collapse with
   unconstrained features", NeurIPS, Thm 3.1 (CE, d >= K - 1, balanced classes).
.. [2] Tirer & Bruna (2022), "Extended unconstrained features model for exploring deep neural
   collapse", ICML (MSE without bias: orthogonal frame).
.. [3] Zhou, Li, Ding, You, Qu & Zhu (2022), "On the optimization landscape of neural collapse under
   MSE loss: global optimality with unconstrained features", ICML (MSE with and without bias).
.. [4] Fang, He, Long & Su (2021), "Exploring deep neural networks via layer-peeled model: minority
   collapse in imbalanced training", PNAS (norm-constrained layer-peeled model, balanced case).
.. [5] Lu & Steinerberger (2020), "Neural collapse with cross-entropy loss"; Graf, Hofer, Niethammer
   & Kwitt (2021), "Dissecting supervised contrastive learning", ICML.
.. [6] Zhou, You, Li, Liu, Liu, Qu & Zhu (2022), "Are all losses created equal: a neural collapse
   perspective", NeurIPS (label smoothing: the global minimizers of the UFM are NC solutions).
.. [7] Liu (2024), "The exploration of neural collapse under imbalanced data", arXiv 2411.17278
   (imbalanced MSE with bias: the singular values of (I - n 1^T/N) D^(1/2) decide the geometry).
.. [8] Dang, Tran, Osher, Tran-The, Ho & Nguyen (2023), "Neural collapse in deep linear networks:
   from balanced to imbalanced data", ICML (imbalanced MSE without bias).

Length: one concern (closed-form minimizers of the one-layer models); every case goes through the
same KKT regime enumeration (:func:`derivation`), the same collapsed realization and the same
:class:`ClosedForm` result, so splitting by loss would duplicate them. The deep linear model has
its own module (:mod:`ufm.minimizers_deep`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p

from ._repr import short_repr
from ._validation import check_choice, check_int, check_nonneg, check_positive
from .errors import InvalidParameter
from .geometry import helmert_basis, random_rotation
from .losses import loss_class
from .problem import Problem

__all__ = [
    "ClosedForm",
    "PJ",
    "ce_minority_threshold_value",
    "ce_zero_threshold_value",
    "SYMBOLS",
    "derivation",
    "global_minimizer",
    "layer_peeled_optimum",
    "max_margin_value",
    "MinNormInterpolant",
    "min_norm_interpolant",
]

#: The symbols of every derivation: K, n, lambda_W, lambda_H, lambda_b, the CE margin scale x, the
#: MSE logit coefficients alpha (on P), gamma (on J) and the bias level beta.
SYMBOLS = {
    name: sp.Symbol(name, positive=True)
    for name in ("K", "n", "lambda_W", "lambda_H", "lambda_b", "E_W", "E_H")
}
SYMBOLS.update({name: sp.Symbol(name, nonnegative=True) for name in ("x", "alpha", "gamma")})
#: Loss parameters (:mod:`ufm.losses`), as symbols of the same name.
SYMBOLS["smoothing"] = sp.Symbol("smoothing", nonnegative=True)
SYMBOLS["beta"] = sp.Symbol("beta", real=True)
_K, _n, _lW, _lH, _lb = (SYMBOLS[s] for s in ("K", "n", "lambda_W", "lambda_H", "lambda_b"))
_x, _alpha, _gamma, _beta = (SYMBOLS[s] for s in ("x", "alpha", "gamma", "beta"))

#: The quantity that decides the zero solution, and the split ratio of the balanced factorization.
KAPPA = _K * sp.sqrt(_n * _lW * _lH)
RHO = sp.sqrt(_n * _lH / _lW)

_CITATIONS = {
    "ce": "Zhu et al. (2021), NeurIPS, Thm 3.1 "
    "(derived here by a Jensen + nuclear-norm lower bound)",
    "mse": "Tirer & Bruna (2022), ICML; Zhou et al. (2022), ICML "
    "(derived here by nuclear-norm proximal reduction)",
    "ce-ls": "derived here (proofs/ce_label_smoothing.py); consistent with Zhou et al. (2022b), "
    "NeurIPS (label-smoothing minimizers are NC solutions) and Guo et al. (2025), TMLR",
    "mse-imbalanced": "derived here (proofs/mse_imbalanced_svt.py); consistent with Liu (2024), "
    "arXiv 2411.17278, and Dang et al. (2023), ICML",
    "layer-peeled": "Fang et al. (2021), PNAS; Lu & Steinerberger (2020); Graf et al. (2021)",
}


@dataclass(frozen=True)
class PJ:
    r"""An element :math:`pP + jJ` of the commutative algebra spanned by P and J (K x K).

    Here :math:`P = I - J/K`, :math:`J = \mathbf 1\mathbf 1^\top` and K may be a symbol.

    :math:`P^2 = P`, :math:`PJ = 0`, :math:`J^2 = KJ`; eigenvalues p (multiplicity K - 1, on
    :math:`\mathbf 1^\perp`) and jK (on :math:`\mathbf 1`). This is how statements "for every K" are
    checked exactly: a K x K matrix of the form :math:`aI + bJ` is ``PJ(a, a/K + b)``
    (:meth:`from_IJ`).
    """

    p: sp.Expr
    j: sp.Expr
    K: sp.Expr = _K

    @classmethod
    def from_IJ(cls, a, b, K=_K) -> PJ:
        """:math:`aI + bJ = aP + (a/K + b)J`."""
        return cls(sp.sympify(a), sp.sympify(a) / K + b, K)

    def __add__(self, other: PJ) -> PJ:
        return PJ(self.p + other.p, self.j + other.j, self.K)

    def __sub__(self, other: PJ) -> PJ:
        return PJ(self.p - other.p, self.j - other.j, self.K)

    def __mul__(self, other) -> PJ:
        if isinstance(other, PJ):
            return PJ(self.p * other.p, self.K * self.j * other.j, self.K)
        return PJ(self.p * other, self.j * other, self.K)

    __rmul__ = __mul__

    def trace(self) -> sp.Expr:
        return self.p * (self.K - 1) + self.j * self.K

    def frobenius_sq(self) -> sp.Expr:
        """:math:`\\|A\\|_F^2 = \\mathrm{tr}(A^\\top A)` (A is symmetric)."""
        return (self * self).trace()

    def nuclear(self) -> sp.Expr:
        """Sum of absolute eigenvalues: :math:`|p|(K-1) + |j|K`."""
        return sp.Abs(self.p) * (self.K - 1) + sp.Abs(self.j) * self.K

    def matrix(self, K: int) -> sp.Matrix:
        """The explicit K x K matrix for a concrete K."""
        sub = {self.K: K} if isinstance(self.K, sp.Symbol) else {}
        p, j = sp.sympify(self.p).subs(sub), sp.sympify(self.j).subs(sub)
        return p * (sp.eye(K) - sp.ones(K, K) / K) + j * sp.ones(K, K)


def _reduced_objective(loss: str, bias: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    r"""The objective on collapsed symmetric points, as a function of the scale variables.

    Softmax link (``ce``, ``ce-ls``): logits of a class-k sample are :math:`x` (own class) and
    :math:`-x/(K-1)` (others); the bias is irrelevant (shift invariance) and 0 at the optimum.
    Square link (``mse``), targets :math:`T = (t_\circ - t_\times)I + t_\times J`:
    :math:`\frac1{2N}\|(\bar Z - T)Y + \beta\mathbf 1\mathbf 1_N^\top\|_F^2
    = \frac1{2K}\|\bar Z + \beta J - T\|_F^2` (since :math:`YY^\top = nI`,
    :math:`\mathbf 1\mathbf 1_N^\top = JY`), plus the nuclear-norm regularizer
    :math:`\frac{\kappa}{K}\|\bar Z\|_*` and :math:`\frac{\lambda_b}{2}K\beta^2`. The per-sample
    loss comes from :meth:`ufm.losses.Loss.sympy_sample` / ``sympy_target_pair``.
    """
    cls = loss_class(loss)
    if cls.link == "softmax":
        data = cls.sympy_sample(_x, -_x / (_K - 1), _K, SYMBOLS)
        # Regularizer K lambda_W s^2/2 + N lambda_H t^2/2 at its minimum over s t = x (AM-GM), which
        # proofs/ce_global_minimizer.py derives; equal to the nuclear-norm bound kappa x.
        return data + KAPPA * _x, (_x,)
    t_own, t_other = cls.sympy_target_pair(_K, SYMBOLS)
    logit = PJ(_alpha, _gamma)
    data = (logit + PJ(0, _beta) - PJ.from_IJ(t_own - t_other, t_other)).frobenius_sq() / (2 * _K)
    value = data + KAPPA / _K * logit.nuclear()
    if bias == "regularized":
        value += _lb * _K * _beta**2 / 2
    variables = (_alpha, _gamma) if bias == "none" else (_alpha, _gamma, _beta)
    return sp.simplify(value.subs({_beta: 0}) if bias == "none" else value), variables


@dataclass(frozen=True)
class _Regime:
    """One KKT regime of the reduced problem.

    Which nonnegative scales vanish, the solution in closed form, and the conditions (expressions
    that must be >= 0) under which it is the minimizer.
    """

    zero: tuple[str, ...]
    solution: dict
    conditions: tuple[sp.Expr, ...]
    value: sp.Expr


@cache
def derivation(loss: str, bias: str) -> dict:
    r"""The sympy derivation of the global minimizer for (loss, bias), balanced classes.

    The reduced objective F (see :func:`_reduced_objective`) is convex in its scale variables, with
    nonnegativity constraints on the scales (x, or alpha and gamma). Its KKT points are enumerated:
    for every set of scales fixed at 0, ``sympy.solve`` solves the stationarity equations of the
    others; the regime is optimal where the solution is nonnegative and the derivative in each fixed
    scale is nonnegative (the multiplier). Convexity makes KKT sufficient.

    Returns
    -------
    dict
        ``objective`` (F), ``variables``, ``regimes`` (list of _Regime), ``kappa``, ``rho``.
    """
    F, variables = _reduced_objective(loss, bias)
    scales = [v for v in variables if v in (_x, _alpha, _gamma)]
    regimes = []
    for r in range(len(scales) + 1):
        for zero in combinations(scales, r):
            free = [v for v in variables if v not in zero]
            G = F.subs({v: 0 for v in zero})
            # On the open orthant the nuclear norm is linear: drop Abs of nonnegative scales.
            G = G.replace(sp.Abs, lambda e: e)
            sols = sp.solve([sp.diff(G, v) for v in free], free, dict=True) if free else [{}]
            for sol in sols:
                sol = {v: sp.simplify(e) for v, e in sol.items()}
                sol.update({v: sp.Integer(0) for v in zero})
                conditions = [sol[v] for v in free if v in scales]
                conditions += [
                    sp.simplify(sp.diff(F.replace(sp.Abs, lambda e: e), v).subs(sol)) for v in zero
                ]
                value = sp.simplify(F.subs(sol).replace(sp.Abs, lambda e: e))
                regimes.append(_Regime(tuple(str(v) for v in zero), sol, tuple(conditions), value))
    return {"objective": F, "variables": variables, "regimes": regimes, "kappa": KAPPA, "rho": RHO}


#: Working precision (decimal digits) of the closed forms before rounding to float64: the
#: expressions are evaluated once per call, so 30 digits cost nothing and make the float64 result
#: correctly rounded.
_DIGITS = 30


def _exact(values: dict) -> dict:
    """Inputs as exact rationals (the binary value of each float).

    Substituting floats would evaluate at their 53-bit precision and lose the regime decision near
    the threshold to cancellation.
    """
    return {symbol: sp.Rational(value) for symbol, value in values.items()}


def _numeric(expr: sp.Expr, values: dict) -> float:
    return float(sp.N(sp.sympify(expr).subs(values), _DIGITS))


def _holds(condition: sp.Expr, values: dict) -> bool:
    """condition >= 0 at these numbers.

    A non-real value (a logarithm of a negative number outside the regime's domain) means the regime
    does not apply.
    """
    value = sp.N(condition.subs(values), _DIGITS)
    return bool(value.is_real) and value >= 0


def _select(regimes, values: dict) -> _Regime:
    """The regime whose KKT conditions hold at these numbers.

    On a boundary two regimes hold and give the same point; the one with more scales fixed at zero
    is taken, so that it is exactly zero.
    """
    for regime in sorted(regimes, key=lambda r: -len(r.zero)):
        if all(_holds(c, values) for c in regime.conditions):
            return regime
    raise AssertionError("no KKT regime holds; the reduced problem is convex, so this is a bug")


#: :math:`\kappa` as a symbol, for the expressions of :meth:`ClosedForm.in_kappa`.
KAPPA_SYMBOL = sp.Symbol("kappa", positive=True)

#: LaTeX of the symbols whose sympy names are not LaTeX (the label smoothing is alpha in the
#: README; it never appears next to the MSE coefficient alpha).
_LATEX_SYMBOLS = {KAPPA_SYMBOL: r"\kappa", SYMBOLS["smoothing"]: r"\alpha"}

#: LaTeX of the names of ``ClosedForm.expressions`` that are not ``<symbol>_star``.
_LATEX_NAMES = {
    "kappa": r"\kappa",
    "rho": r"\rho",
    "value": r"f^{\star}",
    "sigma": r"\sigma",
    "w_norm": r"\|w_k\|",
    "h_norm": r"\|h_i\|",
}


def _latex_name(name: str, expr) -> str:
    r"""LaTeX of an expression's name: x_star -> x^{\star}, reduced_objective -> F(x), ..."""
    if name in _LATEX_NAMES:
        return _LATEX_NAMES[name]
    if name.endswith("_star"):
        return f"{sp.latex(SYMBOLS[name[: -len('_star')]])}^{{\\star}}"
    if name == "reduced_objective":
        variables = sorted(expr.free_symbols & {_x, _alpha, _gamma, _beta}, key=sp.default_sort_key)
        return f"F({', '.join(sp.latex(v) for v in variables)})"
    return sp.latex(sp.Symbol(name))


def _symbolic(expr) -> bool:
    """A scalar sympy expression with symbols (numbers and matrices are printed as they are)."""
    return isinstance(expr, sp.Expr) and bool(expr.free_symbols)


@cache
def _in_kappa(expr):
    """``expr`` in kappa (lambda_H eliminated), simplified: the shorter of two forms."""
    # With positive symbols sqrt(n lambda_W lambda_H) becomes kappa/K on substitution.
    direct = expr.subs(_lH, KAPPA_SYMBOL**2 / (_K**2 * _n * _lW))
    split = sp.expand_log(direct, force=True)
    logs = sorted(split.atoms(sp.log), key=sp.default_sort_key)
    if logs:
        terms = sp.collect(sp.expand(split), logs, evaluate=False)
        tidy = sp.factor_terms(sp.Add(*(sp.factor(c) * t for t, c in terms.items())))
    else:
        tidy = sp.factor(direct)
    return min((direct, tidy), key=sp.count_ops)


@dataclass(frozen=True, eq=False)
class ClosedForm:
    r"""A global minimizer in closed form, with its sympy expressions.

    Attributes
    ----------
    problem : Problem or None
        The regularized UFM (None for the layer-peeled model).
    objective : float
        The minimal value.
    zero_solution : bool
        True past the threshold (``threshold >= threshold_critical``): W = 0, H = 0.
    threshold : float or None
        Value of the deciding quantity :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}` (None for the
        layer-peeled model).
    threshold_formula : str
    threshold_critical : float or None
        The value of ``threshold`` at and beyond which W = 0, H = 0: the loss's target gap
        :math:`t_{own} - t_{other}` (1 for ``ce`` and ``mse``, :math:`1 - \alpha` for ``ce-ls``);
        None for the layer-peeled model.
    w_norm, h_norm : float
        Common norm of the classifier rows and of the feature vectors.
    b : ndarray, (K,)
    W : ndarray, (K, d)
    H : ndarray, (d, N)
    M : ndarray, (d, K)
    expressions : dict
        name -> sympy expression (in :data:`SYMBOLS`), e.g. ``kappa``, ``x_star``, ``value``,
        ``s``, ``t``.
    hypotheses, citation : str
    """

    __repr__ = short_repr

    problem: Problem | None
    objective: float
    zero_solution: bool
    threshold: float | None
    threshold_formula: str
    w_norm: float
    h_norm: float
    b: np.ndarray
    W: np.ndarray
    H: np.ndarray
    M: np.ndarray
    expressions: dict
    hypotheses: str
    citation: str
    labels: np.ndarray = field(repr=False)
    parameters: dict = field(default_factory=dict)
    threshold_critical: float | None = 1.0

    def in_kappa(self) -> dict:
        r"""The expressions written in :math:`\kappa`, simplified (name -> sympy expression).

        :math:`\lambda_H = \kappa^2/(K^2 n\lambda_W)` is substituted (exact: it is the
        definition :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}` solved for :math:`\lambda_H`),
        logarithms of products are split (every argument is positive where the expression
        applies: :math:`K - (K-1)\kappa > 0` below the threshold) and the shortest of the
        simplified forms is kept. ``kappa`` keeps its definition. Forms without :math:`\kappa`
        (imbalanced classes, the layer-peeled model) are only simplified.
        """
        return {
            name: _in_kappa(expr) if name != "kappa" and _symbolic(expr) else expr
            for name, expr in self.expressions.items()
        }

    def latex(self) -> str:
        r"""Every expression of :meth:`in_kappa` as ``<symbol> = <LaTeX>``, one per line.

        Each line is a valid LaTeX math formula (e.g. ``x^{\star} = ...``, ``\kappa = ...``,
        ``F(x) = ...`` for the reduced objective, ``f^{\star}`` for the minimal value; the label
        smoothing is :math:`\alpha`), ready for ``$...$`` or an ``align`` environment.
        """
        lines = []
        for name, expr in self.in_kappa().items():
            body = sp.latex(expr, symbol_names=_LATEX_SYMBOLS)
            lines.append(f"{_latex_name(name, expr)} = {body}")
        return "\n".join(lines)

    def configuration(self, seed=None):
        """The realization as a :class:`ufm.Configuration`.

        ``seed`` rotates feature space by a random orthogonal matrix (the objective is invariant),
        ``None`` keeps the canonical frame. The layer-peeled optimum comes with its
        ``Problem(model='layer-peeled', ...)`` and the model's blocks W, H.
        """
        from .io import Configuration

        Q = np.eye(self.W.shape[1]) if seed is None else random_rotation(self.W.shape[1], seed)
        method = "global_minimizer" if self.problem is not None else "layer_peeled_optimum"
        problem = self.problem
        if problem is None:
            p = self.parameters
            problem = Problem(
                loss="ce", K=p["K"], d=p["d"], n=p["n"], model="layer-peeled",
                model_params={"E_W": p["E_W"], "E_H": p["E_H"]},
            )  # fmt: skip
        return Configuration(
            self.W @ Q.T,
            Q @ self.H,
            self.b if problem.has_bias else None,
            labels=self.labels,
            problem=problem,
            metadata={
                "produced_by": {
                    "method": f"ufm.minimizers.{method}",
                    "parameters": self.parameters,
                },
                "extra": {
                    "objective": self.objective,
                    "zero_solution": self.zero_solution,
                    "threshold": self.threshold,
                    "threshold_formula": self.threshold_formula,
                    # random_rotation accepted it, so it is an integer (numpy's included)
                    "rotation_seed": None if seed is None else int(seed),
                },
            },
        )


def _collapsed_realization(K: int, d: int, alpha: float, gamma: float, rho: float):
    r"""W (K x d), M (d x K) with :math:`WM = \alpha P + \gamma J`.

    :math:`W = \rho^{1/2}F`, :math:`M = \rho^{-1/2}F^\top`,
    F = [sqrt(alpha) E^T, sqrt(gamma K) 1/sqrt(K)] (zero parts dropped).
    """
    columns = []
    if alpha > 0:
        columns.append(math.sqrt(alpha) * helmert_basis(K).T)
    if gamma > 0:
        columns.append(math.sqrt(gamma) * np.ones((K, 1)))
    F = np.hstack(columns) if columns else np.zeros((K, 0))
    F = np.hstack([F, np.zeros((K, d - F.shape[1]))])
    return math.sqrt(rho) * F, F.T / math.sqrt(rho)


#: Hypotheses of the closed forms by (link, bias mode).
_HYPOTHESES = {
    ("softmax", "regularized"): (
        "balanced classes, d >= K - 1, lambda_W > 0, lambda_H > 0, lambda_b >= 0"
    ),
    ("softmax", "free"): "balanced classes, d >= K - 1, lambda_W > 0, lambda_H > 0",
    ("softmax", "none"): "balanced classes, d >= K - 1, lambda_W > 0, lambda_H > 0",
    ("square", "none"): "balanced classes, d >= K, lambda_W > 0, lambda_H > 0",
    ("square", "free"): "balanced classes, d >= K - 1, lambda_W > 0, lambda_H > 0",
    ("square", "regularized"): (
        "balanced classes, lambda_W > 0, lambda_H > 0, lambda_b >= 0; d >= K - 1, and d >= K "
        "when kappa < lambda_b/(1 + lambda_b) (the logits then carry a mean component)"
    ),
}


def _refuse(problem: Problem, rule: str, got: str) -> InvalidParameter:
    return InvalidParameter(
        f"the closed-form global minimizer ({problem.loss}, bias={problem.bias!r}) requires "
        f"{rule}, got {got}; outside these hypotheses use the convex relaxation "
        "`ufm relax nuclear` (ufm.relaxations.nuclear_relaxation)"
    )


def _threshold_formula(problem: Problem) -> str:
    """The zero-solution rule in words: kappa against the loss's target gap t_own - t_other."""
    gap = "1 - smoothing" if "smoothing" in problem.loss_params else "1"
    return (
        "kappa = K*sqrt(n*lambda_W*lambda_H); "
        f"W = 0, H = 0 is the unique global minimizer iff kappa >= {gap}"
    )


def _imbalanced_mse_minimizer(problem: Problem) -> ClosedForm:
    r"""MSE with any class sizes, free or no bias: singular-value soft thresholding.

    With :math:`D = \mathrm{diag}(n_1..n_K)`, :math:`\Pi = I - \mathbf n\mathbf 1^\top/N` (free
    bias) or :math:`I` (no bias) and :math:`\hat Y = \Pi D^{1/2}`, the collapsed problem is the
    proximal problem :math:`\min_A \frac1{2N}\|A - \hat Y\|_F^2 + \sqrt{\lambda_W\lambda_H}\|A\|_*`
    in :math:`A = \bar Z D^{1/2}` (``proofs/mse_imbalanced_svt.py``), solved by soft-thresholding
    the singular values at :math:`t = N\sqrt{\lambda_W\lambda_H}`. The left singular pairs come from
    the rational matrix :math:`\hat Y\hat Y^\top = \Pi D \Pi^\top` (:math:`D - \mathbf n\mathbf
    n^\top/N` or D), diagonalized in exact rational input at ``_DIGITS`` digits (mpmath), so that
    :math:`A = U\mathrm{diag}((1 - t/\sigma)_+)U^\top\hat Y` and
    :math:`\bar Z = U\mathrm{diag}((1 - t/\sigma)_+)U^\top\Pi`.
    """
    import mpmath

    K, d = problem.K, problem.d
    sizes = [sp.Integer(s) for s in problem.class_sizes]
    N = sum(sizes)
    n_vec = sp.Matrix(sizes)
    Pi = sp.eye(K) - n_vec * sp.ones(1, K) / N if problem.bias == "free" else sp.eye(K)
    C = Pi * sp.diag(*sizes) * Pi.T
    lW, lH = sp.Rational(problem.lambda_W), sp.Rational(problem.lambda_H)
    t_expr = N * sp.sqrt(lW * lH)
    with mpmath.workdps(_DIGITS):
        exact = [[mpmath.mpf(C[i, j].p) / C[i, j].q for j in range(K)] for i in range(K)]
        mu, U = mpmath.eigsy(mpmath.matrix(exact))
        root = mpmath.mpf(str(sp.N(sp.sqrt(lW * lH), _DIGITS)))
        t = int(N) * root
        # eigenvalues of a PSD matrix computed as tiny negatives are exact zeros (1 in ker for bias)
        sigma = [mpmath.sqrt(max(m, 0)) for m in mu]
        shrink = [max(1 - t / s, 0) if s > 0 else mpmath.mpf(0) for s in sigma]
        value = sum(min(s, t) ** 2 for s in sigma) / (2 * problem.N) + root * sum(
            max(s - t, 0) for s in sigma
        )
        U_np = np.array(U.tolist(), dtype=float)
        sigma_np = np.array([float(s) for s in sigma])
        shrink_np = np.array([float(x) for x in shrink])
        objective = float(value)
        t_float = float(t)
    Pi_np = np.array(Pi.tolist(), dtype=float)
    n_np = np.asarray(problem.class_sizes, dtype=float)
    Yhat = Pi_np * np.sqrt(n_np)
    Zbar = U_np @ np.diag(shrink_np) @ U_np.T @ Pi_np
    b = (n_np - Zbar @ n_np) / float(N) if problem.bias == "free" else np.zeros(K)
    # balanced factorization of A = U diag(s) V^T, V^T = diag(1/sigma) U^T Yhat on sigma > 0
    keep = shrink_np > 0
    s_kept = sigma_np[keep] * shrink_np[keep]
    c2 = math.sqrt(problem.lambda_H / problem.lambda_W)
    W = np.zeros((K, d))
    G = np.zeros((d, K))
    W[:, : keep.sum()] = math.sqrt(c2) * U_np[:, keep] * np.sqrt(s_kept)
    G[: keep.sum()] = (np.sqrt(s_kept) / sigma_np[keep])[:, None] * (U_np[:, keep].T @ Yhat)
    G /= math.sqrt(c2)
    M = G / np.sqrt(n_np)
    H = M[:, problem.labels]
    return ClosedForm(
        problem=problem,
        objective=objective,
        zero_solution=not keep.any(),
        threshold=t_float / float(sigma_np.max()),
        threshold_formula=(
            "t = N*sqrt(lambda_W*lambda_H) against the largest singular value sigma_1 of "
            "Yhat = (I - n 1^T/N) D^(1/2) (free bias) or D^(1/2) (no bias); "
            "W = 0, H = 0 is the unique global minimizer iff t/sigma_1 >= 1"
        ),
        w_norm=float(np.sqrt(np.sum(W**2) / K)),
        h_norm=float(np.sqrt(np.sum(H**2) / problem.N)),
        b=b,
        W=W,
        H=H,
        M=M,
        expressions={
            "t": t_expr,
            "sigma": sp.Matrix([sp.Float(x, _DIGITS) for x in sigma]),
            "value": sp.Float(value, _DIGITS),
        },
        hypotheses=_IMBALANCED_HYPOTHESES[problem.bias],
        citation=_CITATIONS["mse-imbalanced"],
        labels=problem.labels,
        parameters=problem.to_dict(),
    )


#: Hypotheses of the imbalanced MSE closed form by bias mode.
_IMBALANCED_HYPOTHESES = {
    "none": "any class sizes, d >= K, lambda_W > 0, lambda_H > 0",
    "free": "any class sizes, d >= K - 1, lambda_W > 0, lambda_H > 0",
}


def global_minimizer(problem: Problem) -> ClosedForm:
    r"""The global minimizer of a regularized UFM, in closed form.

    .. math:: \min_{W,H,b}\ \text{data}(WH + b\mathbf 1^\top) + \frac{\lambda_W}2\|W\|_F^2
              + \frac{\lambda_H}2\|H\|_F^2 + \frac{\lambda_b}2\|b\|^2

    With :math:`\kappa = K\sqrt{n\lambda_W\lambda_H}` and
    :math:`\rho = \sqrt{n\lambda_H/\lambda_W}`:

    * CE, any bias mode ([1]_ Thm 3.1): W = 0, H = 0 iff :math:`\kappa\ge 1`; otherwise
      :math:`w_k = s u_k`, :math:`h_{k,i} = t u_k` (u a unit simplex ETF), :math:`s^2 = \rho x^*`,
      :math:`t^2 = x^*/\rho`, :math:`x^* = \frac{K-1}{K}\log\frac{K - (K-1)\kappa}{\kappa}`; b = 0
      (a free bias is defined up to a constant vector, returned as 0). Value
      :math:`\log(1 + (K-1)e^{-Kx^*/(K-1)}) + \kappa x^*` (log K at the zero solution).
    * Label-smoothed CE with smoothing :math:`\alpha` (derived here,
      ``proofs/ce_label_smoothing.py``;
      consistent with [6]_): W = 0, H = 0 iff :math:`\alpha + \kappa \ge 1`; otherwise the same
      ETF with logit gap :math:`c^* = Kx^*/(K-1) = \log\frac{1 - (K-1)\bar q}{\bar q}`,
      :math:`\bar q = (\alpha + \kappa)/K`, the softmax probability of every other class at the
      optimum. Value :math:`\log(1 + (K-1)e^{-c^*}) + (\alpha + \kappa)x^*`.
    * MSE, no bias ([2]_, [3]_): :math:`WM = (1-\kappa)_+ I` (orthogonal frame), value
      :math:`\kappa - \kappa^2/2` (1/2 past the threshold).
    * MSE, free bias ([3]_): :math:`WM = (1-\kappa)_+P` (simplex ETF), b = 1/K, value
      :math:`\frac{K-1}{K}(\kappa - \kappa^2/2)`.
    * MSE, regularized bias (derived here): :math:`WM = (1-\kappa)_+P + \gamma J`, b = beta 1 with
      :math:`\beta = 1/(K(1+\lambda_b))`, :math:`\gamma = 0` when
      :math:`\kappa\ge\lambda_b/(1+\lambda_b)`, else :math:`\beta = \kappa/(K\lambda_b)`,
      :math:`\gamma = (1-\kappa)/K - \kappa/(K\lambda_b)`.
    * MSE with any class sizes :math:`n_k` (:math:`N = \sum_k n_k`, :math:`D = \mathrm{diag}(n)`),
      free or no bias (derived here, ``proofs/mse_imbalanced_svt.py``; consistent with [7]_, [8]_):
      with :math:`\hat Y = (I - \mathbf n\mathbf 1^\top/N)D^{1/2}` (free) or :math:`D^{1/2}` (none),
      SVD :math:`\hat Y = U\mathrm{diag}(\sigma)V^\top` and :math:`t = N\sqrt{\lambda_W\lambda_H}`,
      the class logits are :math:`\bar Z D^{1/2} = U\mathrm{diag}((\sigma - t)_+)V^\top`,
      :math:`b = (\mathbf n - \bar Z\mathbf n)/N` (free) or 0, value
      :math:`\frac1{2N}\sum_i\min(\sigma_i, t)^2 + \sqrt{\lambda_W\lambda_H}\sum_i(\sigma_i - t)_+`;
      ``threshold`` is :math:`t/\sigma_1` (W = 0, H = 0 iff >= 1; it equals kappa when balanced).
      Without bias :math:`\bar Z = \mathrm{diag}((1 - N\sqrt{\lambda_W\lambda_H/n_k})_+)`: class k
      is zeroed iff :math:`n_k \le N^2\lambda_W\lambda_H`. ``w_norm``/``h_norm`` are then root
      mean squares over rows / samples. A regularized bias with imbalanced classes is refused.

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    ClosedForm

    Raises
    ------
    InvalidParameter
        Imbalanced classes (except MSE with a free or no bias), d below the rank the minimizer
        needs, or a zero lambda_W / lambda_H (the infimum is then not attained for CE, and the
        minimizer is not unique or not attained for MSE).

    Examples
    --------
    >>> p = Problem(loss='ce', K=4, d=3, n=5, lambda_W=1e-3, lambda_H=1e-3, lambda_b=1e-3)
    >>> cf = global_minimizer(p)
    >>> cf.zero_solution, round(cf.threshold, 6)
    (False, 0.008944)
    """
    if not isinstance(problem, Problem):
        raise InvalidParameter(f"problem must be a ufm.Problem, got {type(problem).__name__}")
    K, d = problem.K, problem.d
    if problem.lambda_W == 0 or problem.lambda_H == 0:
        raise _refuse(
            problem,
            "lambda_W > 0 and lambda_H > 0 (with a zero weight decay the infimum is not attained "
            "or the minimizer is not unique)",
            f"lambda_W={problem.lambda_W}, lambda_H={problem.lambda_H}",
        )
    link = problem.loss_fn.link
    if not problem.balanced and (problem.loss, problem.bias) not in (
        ("mse", "free"),
        ("mse", "none"),
    ):
        raise _refuse(
            problem,
            "balanced classes (imbalanced classes only for MSE with a free or no bias)",
            f"class_sizes={problem.class_sizes}",
        )
    min_d = K if (link, problem.bias) == ("square", "none") else K - 1
    if d < min_d:
        raise _refuse(problem, f"d >= {min_d}", f"d={d} with K={K}")
    if not problem.balanced:
        return _imbalanced_mse_minimizer(problem)
    n = problem.n
    values = _exact(
        {_K: K, _n: n, _lW: problem.lambda_W, _lH: problem.lambda_H, _lb: problem.lambda_b}
        | {SYMBOLS[name]: value for name, value in problem.loss_params.items()}
    )
    deriv = derivation(problem.loss, problem.bias)
    regime = _select(deriv["regimes"], values)
    kappa = _numeric(KAPPA, values)
    rho = _numeric(RHO, values)
    sol = {str(v): _numeric(e, values) for v, e in regime.solution.items()}
    if link == "softmax":
        alpha, gamma, beta = sol["x"] * K / (K - 1), 0.0, 0.0
    else:
        alpha, gamma, beta = sol["alpha"], sol["gamma"], sol.get("beta", 0.0)
    if gamma > 0 and d < K:
        raise _refuse(
            problem,
            "d >= K here (kappa < lambda_b/(1 + lambda_b): the optimal logits have rank K)",
            f"d={d} with K={K}",
        )
    W, M = _collapsed_realization(K, d, alpha, gamma, rho)
    diag = alpha * (K - 1) / K + gamma
    expressions = {"kappa": KAPPA, "rho": RHO, "reduced_objective": deriv["objective"]}
    expressions.update({f"{name}_star": e for name, e in regime.solution.items()})
    expressions["value"] = regime.value
    if link == "softmax":
        expressions["s"] = sp.sqrt(RHO * regime.solution[_x])
        expressions["t"] = sp.sqrt(regime.solution[_x] / RHO)
    objective = _numeric(expressions["value"], values)
    return ClosedForm(
        problem=problem,
        objective=objective,
        zero_solution=bool(alpha == 0 and gamma == 0),
        threshold=kappa,
        threshold_formula=_threshold_formula(problem),
        threshold_critical=float(np.subtract(*problem.loss_fn.target_pair(K))),
        w_norm=math.sqrt(rho * diag),
        h_norm=math.sqrt(diag / rho),
        b=np.full(K, beta),
        W=W,
        H=M[:, problem.labels],
        M=M,
        expressions=expressions,
        hypotheses=_HYPOTHESES[link, problem.bias],
        citation=_CITATIONS[problem.loss],
        labels=problem.labels,
        parameters=problem.to_dict(),
    )


def layer_peeled_optimum(
    K: int, E_W: float, E_H: float, *, d: int | None = None, n: int = 1
) -> ClosedForm:
    r"""Optimum of the balanced norm-constrained layer-peeled model with cross-entropy.

    .. math:: \min_{W,H}\ \frac1N\sum_{k=1}^K\sum_{i=1}^n \mathcal L_{CE}(Wh_{k,i}, y_k)\quad
              \text{s.t.}\quad \frac1K\sum_k\|w_k\|^2\le E_W,\quad
              \frac1K\sum_k\frac1n\sum_i\|h_{k,i}\|^2 \le E_H,

    has value :math:`\log\bigl(1 + (K-1)\exp(-K\sqrt{E_WE_H}/(K-1))\bigr)`, attained by a simplex
    ETF with :math:`\|w_k\| = \sqrt{E_W}`,
    :math:`h_{k,i} = \sqrt{E_H}\,w_k/\|w_k\|` ([4]_ Thm 3; [5]_).
    Derived here by Jensen and Cauchy-Schwarz (``proofs/layer_peeled.py``).

    Parameters
    ----------
    K : int
        K >= 2.
    E_W, E_H : float
        Energy budgets, finite and > 0.
    d : int, optional
        Feature dimension of the realization, d >= K - 1 (default K).
    n : int
        Samples per class of the realization, >= 1 (the value does not depend on it).

    Returns
    -------
    ClosedForm
        ``problem`` None, ``threshold`` None, ``zero_solution`` False, b = 0.

    Raises
    ------
    InvalidParameter
        K < 2, a budget that is not finite and > 0, d < K - 1, n < 1.
    """
    K = check_int("K", K, 2)
    E_W, E_H = check_positive("E_W", E_W), check_positive("E_H", E_H)
    d = K if d is None else check_int("d", d, 1)
    if d < K - 1:
        raise InvalidParameter(f"the simplex ETF optimum needs d >= K - 1 = {K - 1}, got d={d}")
    n = check_int("n", n, 1)
    s_E_W, s_E_H = SYMBOLS["E_W"], SYMBOLS["E_H"]
    x = sp.sqrt(s_E_W * s_E_H)
    tail = (_K - 1) * sp.exp(-_K * x / (_K - 1))
    value = sp.log(1 + tail)
    values = _exact({_K: K, s_E_W: E_W, s_E_H: E_H})
    labels = np.repeat(np.arange(K), n)
    W, M = _collapsed_realization(
        K, d, K / (K - 1) * math.sqrt(E_W * E_H), 0.0, math.sqrt(E_W / E_H)
    )
    return ClosedForm(
        problem=None,
        # log1p: at 30 digits log(1 + tail) is 0 once tail < 1e-30 (E_W = E_H = 100, K = 5: 2e-54).
        objective=_numeric(log1p(tail), values),
        zero_solution=False,
        threshold=None,
        threshold_formula="none: the constrained optimum is never zero",
        threshold_critical=None,
        w_norm=math.sqrt(E_W),
        h_norm=math.sqrt(E_H),
        b=np.zeros(K),
        W=W,
        H=M[:, labels],
        M=M,
        expressions={
            "x_star": x,
            "value": value,
            "w_norm": sp.sqrt(s_E_W),
            "h_norm": sp.sqrt(s_E_H),
        },
        hypotheses="balanced classes, d >= K - 1, E_W > 0, E_H > 0",
        citation=_CITATIONS["layer-peeled"],
        labels=labels,
        parameters={"K": K, "d": d, "n": n, "E_W": E_W, "E_H": E_H},
    )


def max_margin_value(class_sizes):
    r"""Value of the max-margin UFM program (the direction limit of unregularized CE descent).

    .. math:: v^* = \min_{W,H}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\
              (w_{y_i} - w_j)^\top h_i \ge 1\ \ \forall i,\ j\ne y_i.

    * Balanced classes (size n), exact: :math:`v^* = (K-1)\sqrt n`. Derived here in sympy: the
      simplex-ETF ansatz :math:`w_k = s u_k`, :math:`h_i = t u_{y_i}` (unit ETF vectors, cosines
      -1/(K-1)) has margins :math:`stK/(K-1)`, and minimizing :math:`\tfrac K2(s^2 + nt^2)` under
      :math:`stK/(K-1) = 1` (AM-GM, attained at :math:`s^2 = nt^2`) gives :math:`(K-1)\sqrt n`;
      no feasible point does better, since
      :math:`\tfrac12(\|W\|^2 + \|H\|^2) \ge \|WH\|_* \ge \langle WH, PE^\top\rangle/\sqrt n
      \ge (K-1)\sqrt n` (``proofs/max_margin.py``).
    * Any sizes: the SELI value :math:`\|PD^{1/2}\|_* = \sum_k\sqrt{\mu_k}` with
      :math:`\mu_k` the eigenvalues of :math:`PD` (similar to :math:`D^{1/2}PD^{1/2}`), taken from
      its exact rational characteristic polynomial and rounded to float64 (Thrampoulidis et al.
      2022; :func:`ufm.relaxations.max_margin` solves the program).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1..n_K (K >= 2, each >= 1).

    Returns
    -------
    sympy.Expr or float
        Exact for balanced sizes, float64 otherwise.

    Raises
    ------
    InvalidParameter
        Bad class sizes.

    Examples
    --------
    >>> max_margin_value((4, 4, 4))
    4
    >>> round(max_margin_value((1, 4)), 12)
    1.581138830084
    """
    from .relaxations._nuclear import class_sizes_tuple

    sizes = class_sizes_tuple(class_sizes)
    K = len(sizes)
    if len(set(sizes)) == 1:
        s = sp.Symbol("s", positive=True)
        n = sp.Integer(sizes[0])
        # on the margin-1 curve t = (K-1)/(K s): the ansatz energy as a function of s alone
        energy = sp.Rational(K, 2) * (s**2 + n * ((K - 1) / (K * s)) ** 2)
        (s_star,) = sp.solve(sp.diff(energy, s), s)
        return sp.simplify(energy.subs(s, s_star))
    P = sp.eye(K) - sp.ones(K, K) / K
    roots = [complex(r) for r in (P * sp.diag(*sizes)).charpoly(sp.Symbol("mu")).nroots(n=30)]
    return float(sum(np.sqrt(max(r.real, 0.0)) for r in roots))


def _one_hot(class_sizes) -> np.ndarray:
    """Y (K x N): column i is e_k for the n_k columns of class k (grouped by class)."""
    return np.repeat(np.eye(len(class_sizes)), class_sizes, axis=1)


def _check_features(H, class_sizes, lambda_W) -> tuple[tuple[int, ...], float]:
    """Validated class sizes (K >= 2, each >= 1, summing to H's column count) and lambda_W."""
    from .relaxations._nuclear import class_sizes_tuple

    sizes = class_sizes_tuple(class_sizes)
    try:  # array_like: numpy arrays, sympy matrices and nested lists
        shape = np.shape(H)
    except ValueError:  # a ragged nested list
        shape = None
    if shape is None or len(shape) != 2 or shape[1] != sum(sizes):
        raise InvalidParameter(
            f"H must be a d x N matrix with N = sum(class_sizes) = {sum(sizes)} columns, "
            f"got shape {shape}"
        )
    return sizes, check_nonneg("lambda_W", lambda_W)


def least_squares_classifier(H, class_sizes, lambda_W, *, exact: bool = False):
    r"""The MSE-optimal classifier of fixed features (W, b free) and the loss there.

    .. math:: \mathcal L(H) = \min_{W,b}\ \frac1{2N}\|WH + b\mathbf 1^\top - Y\|_F^2
              + \frac{\lambda}2\|W\|_F^2,

    Y (K x N) one-hot, columns grouped by class. Solved directly as one least-squares problem in
    :math:`\tilde W = [W\ b]` (K x (d+1)) on :math:`X = [H; \mathbf 1^\top]`: the normal equations
    :math:`\tilde W(XX^\top/N + \lambda\,\mathrm{diag}(I_d, 0)) = YX^\top/N`, minimum-norm solution
    when singular (lambda = 0 and rank-deficient features; every solution has the same value).
    This is the least-squares (Webb & Lowe 1990) classifier; Han, Papyan & Donoho (2022) call the
    path of features along which the classifier stays at it the *central path*;
    the closed form of its value is :func:`central_path_loss`.

    Parameters
    ----------
    H : array_like or sympy.Matrix, shape (d, N)
        Features, columns grouped by class.
    class_sizes : sequence of int
        n_1..n_K (K >= 2).
    lambda_W : float or sympy.Rational
        Weight decay on W (>= 0).
    exact : bool
        Solve in exact rational arithmetic (sympy; H and lambda_W converted with
        ``sympy.Rational``, exact for binary floats) instead of float64 (``numpy.linalg.lstsq`` on
        the stacked system :math:`[X^\top; \sqrt{N\lambda}[I_d\ 0]]`).

    Returns
    -------
    (W, b, value)
        numpy arrays and a float, or sympy matrices and an exact value when ``exact``.

    Raises
    ------
    InvalidParameter
        Bad class sizes, H not d x N, lambda_W negative or not finite.
    """
    sizes, lam = _check_features(H, class_sizes, float(lambda_W))
    d, N = np.shape(H)
    if exact:
        Xs = sp.Matrix(H).applyfunc(sp.Rational).col_join(sp.ones(1, N))
        Ys = sp.Matrix(_one_hot(sizes).astype(int))
        lam_s = sp.Rational(lambda_W)
        reg = sp.diag(*([lam_s] * d + [0]))
        Wt = Ys * Xs.T / N * (Xs * Xs.T / N + reg).pinv()
        R = Wt * Xs - Ys
        W = Wt[:, :d]
        value = sp.nsimplify((R * R.T).trace() / (2 * N) + lam_s / 2 * (W * W.T).trace())
        return W, Wt[:, d], value
    H = np.asarray(H, dtype=float)
    X = np.vstack([H, np.ones((1, N))])
    A = np.vstack([X.T, math.sqrt(N * lam) * np.eye(d, d + 1)])
    B = np.vstack([_one_hot(sizes).T, np.zeros((d, len(sizes)))])
    Wt = np.linalg.lstsq(A, B, rcond=None)[0].T
    W, b = Wt[:, :d], Wt[:, d]
    R = Wt @ X - _one_hot(sizes)
    return W, b, float(np.sum(R * R) / (2 * N) + lam / 2 * np.sum(W * W))


def central_path_loss(H, class_sizes, lambda_W) -> float:
    r"""Closed form of :func:`least_squares_classifier`'s value in the class statistics.

    With :math:`\pi_k = n_k/N`, :math:`\Pi = \mathrm{diag}(\pi)`, global mean
    :math:`\mu_G = H\mathbf 1/N`, centred class means :math:`\tilde M = [\mu_k - \mu_G]` (d x K)
    and the covariances normalized by 1/N about the global mean,
    :math:`\Sigma_T = \frac1N\sum_i(h_i - \mu_G)(h_i - \mu_G)^\top = \Sigma_W + \Sigma_B`,
    :math:`\Sigma_B = \tilde M\Pi\tilde M^\top`:

    .. math:: \mathcal L(H) = \frac12\Big[\sum_k\pi_k(1 - \pi_k)
              - \mathrm{tr}\big((\Sigma_T + \lambda I)^{+}\tilde M\Pi^2\tilde M^\top\big)\Big],

    which for balanced classes (:math:`\Pi^2 = \Pi/K`) is Han, Papyan & Donoho (2022)'s

    .. math:: \mathcal L(H) = \frac1{2K}\Big[K - 1
              - \mathrm{tr}\big((\Sigma_T + \lambda I)^{+}\Sigma_B\big)\Big]

    (lambda = 0: the pseudo-inverse). Derived here (``proofs/central_path.py``): the optimal bias
    is :math:`b = \pi - W\mu_G`, leaving a ridge regression of the centred labels on the centred
    features, :math:`W = \tilde Y\tilde H^\top(\tilde H\tilde H^\top + N\lambda I)^{+}`, whose
    cross-covariance is :math:`\tilde Y\tilde H^\top/N = \Pi\tilde M^\top`; consistent with
    the paper's decomposition of the MSE loss (abstract read).

    Parameters
    ----------
    H : array_like, shape (d, N)
    class_sizes : sequence of int
    lambda_W : float

    Returns
    -------
    float

    Raises
    ------
    InvalidParameter
        As :func:`least_squares_classifier`.

    Examples
    --------
    >>> H = np.array([[1.0, 1.0, -1.0, -1.0]])
    >>> central_path_loss(H, (2, 2), 0.0)
    0.0
    """
    sizes, lam = _check_features(H, class_sizes, lambda_W)
    A, Mc, pi = _ridge_statistics(np.asarray(H, dtype=float), sizes, lam)
    return float(0.5 * (np.sum(pi * (1 - pi)) - np.trace(A @ Mc @ np.diag(pi**2) @ Mc.T)))


def _ridge_statistics(H: np.ndarray, sizes, lam: float):
    r"""(:math:`(\Sigma_T + \lambda I)^+`, centred class means :math:`\tilde M` (d x K),
    :math:`\pi = n/N`) of features H (d x N), covariances normalized by 1/N about the global
    mean."""
    d, N = H.shape
    labels = np.repeat(np.arange(len(sizes)), sizes)
    Hc = H - H.mean(axis=1, keepdims=True)
    Mc = np.stack([Hc[:, labels == k].mean(axis=1) for k in range(len(sizes))], axis=1)
    A = np.linalg.pinv(Hc @ Hc.T / N + lam * np.eye(d), hermitian=True)
    return A, Mc, np.asarray(sizes, dtype=float) / N


@dataclass(frozen=True)
class MinNormInterpolant:
    """The minimum-norm interpolant of the one-hot labels (:func:`min_norm_interpolant`).

    ``objective`` is the minimum of (||W||^2 + ||H||^2)/2, ``gram_W`` = W W^T, ``gram_M`` = M^T M
    (class means), ``WM`` the class logits Zbar and ``b`` the bias (zeros without bias).
    """

    __repr__ = short_repr

    class_sizes: tuple[int, ...]
    bias: str
    objective: float
    gram_W: np.ndarray
    gram_M: np.ndarray
    WM: np.ndarray
    b: np.ndarray


def min_norm_interpolant(class_sizes, bias: str = "free") -> MinNormInterpolant:
    r"""The minimum-norm interpolant as the vanishing-regularization limit of
    :func:`global_minimizer`.

    .. math:: \min_{W,H,b}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\
              WH + b\mathbf 1^\top = Y\ (b = 0 \text{ without bias})
              \;=\; \|\hat Y\|_* = \lim_{\lambda\to 0} f^*(\lambda)/\lambda,

    :math:`\hat Y = (I - \mathbf n\mathbf 1^\top/N)D^{1/2}` (free bias) or :math:`D^{1/2}` (none),
    attained with :math:`WW^\top = (\hat Y\hat Y^\top)^{1/2}`,
    :math:`M^\top M = D^{-1/2}(\hat Y^\top\hat Y)^{1/2}D^{-1/2}`,
    :math:`WM = I - \mathbf n\mathbf 1^\top/N`, :math:`b = \mathbf n/N` (free; balanced:
    value :math:`\sqrt n(K-1)`, a simplex ETF :math:`WW^\top = \sqrt n(I - \mathbf 1\mathbf
    1^\top/K)`, b = 1/K) or WM = I (none: value :math:`\sum_k\sqrt{n_k}`). Derived here
    (``proofs/min_norm_interpolant.py``); consistent with Mixon, Parshall & Pi (2020).

    The limit is taken on the regularized MSE UFM with :math:`\lambda_W = \lambda_H = \lambda`: by
    the soft threshold of :func:`global_minimizer` with :math:`t = N\lambda` below every nonzero
    singular value :math:`\sigma_i` of :math:`\hat Y` (r of them), the value is exactly
    :math:`\lambda\|\hat Y\|_* - rN\lambda^2/2` and the Grams, logits and bias are affine in
    :math:`\lambda` (their ``S = diag(sigma - t)``), so the limits are the exact Richardson
    combinations :math:`2g(\lambda) - g(2\lambda)` of :math:`g = f^*/\lambda` and of each matrix.
    :math:`\lambda = \sqrt{n_{\min}}/(4N)` keeps :math:`2N\lambda = \sqrt{n_{\min}}/2` below
    every :math:`\sigma_i \ge \sqrt{n_{\min}}` (Cauchy interlacing: the nonzero
    :math:`\sigma_i^2` are the eigenvalues of D compressed to a hyperplane, or of D itself).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1, ..., n_K (K >= 2, each >= 1).
    bias : {'free', 'none'}

    Returns
    -------
    MinNormInterpolant

    Raises
    ------
    InvalidParameter
        Bad class sizes or bias mode.

    Examples
    --------
    >>> round(min_norm_interpolant((3, 3, 3, 3)).objective ** 2, 9)  # (3 sqrt 3)^2
    27.0
    """
    from .relaxations._nuclear import class_sizes_tuple

    sizes = class_sizes_tuple(class_sizes)
    bias = check_choice("bias", bias, ("free", "none"))
    K, N = len(sizes), sum(sizes)
    lam = math.sqrt(min(sizes)) / (4 * N)

    def at(scale: float) -> list:
        p = Problem(
            loss="mse", K=K, d=K, class_sizes=sizes, lambda_W=scale * lam,
            lambda_H=scale * lam, bias=bias,
        )  # fmt: skip
        cf = global_minimizer(p)
        return [cf.objective / (scale * lam), cf.W @ cf.W.T, cf.M.T @ cf.M, cf.W @ cf.M, cf.b]

    value, gram_W, gram_M, WM, b = (2 * a - c for a, c in zip(at(1.0), at(2.0), strict=True))
    return MinNormInterpolant(sizes, bias, float(value), gram_W, gram_M, WM, np.asarray(b))


def ce_minority_threshold_value(K_A: int, n_A: int, K_B: int, n_B: int, smoothing=0):
    r"""Exact minority-collapse threshold :math:`\mu^* = \sqrt{n_B}/N` of the two-group CE UFM.

    K_A classes of n_A and K_B >= 2 of n_B < n_A samples, N = K_A n_A + K_B n_B, d >= K - 1: the
    minority classes' logit columns coincide at the global minimizer iff
    :math:`\sqrt{\lambda_W\lambda_H} \ge \mu^*` (derived here, ``proofs/ce_minority_threshold.py``;
    consistent with the sharp threshold stated in the abstract of Hong & Ling 2023). Derivation,
    in sympy: with the minority logits of a minority column collapsed to a common value u (the
    majority ones v, bias included), the gradient block of the data term
    :math:`\frac1N\sum_k n_k\mathrm{CE}(\bar z_k + b, k)` on the minority classes is
    :math:`\frac{n_B}N(pJ - I)`, p the common softmax probability; on the zero-sum vectors x of
    that block, :math:`-x^\top(\cdot)D^{-1/2}x/\|x\|^2 = \sqrt{n_B}/N` for every u, v: the
    subgradient of :math:`\mu\|\bar ZD^{1/2}\|_*` there has spectral norm <= 1 iff
    :math:`\mu \ge \sqrt{n_B}/N` (:mod:`ufm.relaxations._ce_minority`).

    With label smoothing alpha (``ce-ls``, targets :math:`(1-\alpha)e_k + \frac\alpha K\mathbf 1`)
    the block is :math:`\frac{n_B}N(pJ - (1-\alpha)I - \frac\alpha KJ)` and the threshold
    :math:`(1-\alpha)\sqrt{n_B}/N` (``proofs/ce_label_smoothing_imbalanced.py``).

    Parameters
    ----------
    K_A, n_A, K_B, n_B : int
        Majority and minority classes and sizes.
    smoothing : float or sympy number
        alpha in [0, 1), taken exactly (a float as its binary value).

    Returns
    -------
    sympy expression (exact)

    Raises
    ------
    InvalidParameter
        Bad sizes (K_A >= 1, K_B >= 2, 1 <= n_B < n_A).

    Examples
    --------
    >>> ce_minority_threshold_value(2, 6, 2, 2)
    sqrt(2)/16
    """
    K_A, K_B = check_int("K_A", K_A, 1), check_int("K_B", K_B, 2)
    n_A, n_B = check_int("n_A", n_A, 1), check_int("n_B", n_B, 1)
    if n_B >= n_A:
        raise InvalidParameter(f"the minority must be smaller: n_B={n_B} >= n_A={n_A}")
    alpha = _exact_smoothing(smoothing)
    u, v = sp.symbols("u v", real=True)
    K = K_A + K_B
    N = sp.Integer(K_A * n_A + K_B * n_B)
    p = sp.exp(u) / (K_B * sp.exp(u) + K_A * sp.exp(v))
    targets = (1 - alpha) * sp.eye(K_B) + alpha / K * sp.ones(K_B, K_B)
    block = sp.Integer(n_B) / N * (p * sp.ones(K_B, K_B) - targets)
    x = sp.zeros(K_B, 1)
    x[0], x[1] = 1, -1
    quotient = (-(x.T * block * x)[0, 0] / sp.sqrt(n_B)) / (x.T * x)[0, 0]
    return sp.simplify(quotient)


def _exact_smoothing(smoothing):
    """Label smoothing alpha validated as ``ce-ls`` does ([0, 1)), as an exact sympy number."""
    from .losses import get_loss

    if isinstance(smoothing, sp.Basic):
        if not (smoothing.is_number and 0 <= smoothing < 1):
            raise InvalidParameter(f"smoothing must be a number in [0, 1), got {smoothing}")
        return smoothing
    get_loss("ce-ls", smoothing=smoothing)
    return sp.Rational(smoothing)


def ce_zero_threshold_value(class_sizes, bias: str = "none", smoothing=0):
    r"""Exact zero-solution threshold of the (label-smoothed) CE UFM with any class sizes.

    W = H = 0 (with the optimal bias) is a global minimizer iff
    :math:`\sqrt{\lambda_W\lambda_H} \ge \mu_0 = \|\Lambda_0\|_2`, where
    :math:`\Lambda_0 = -\nabla_{\bar Z}\text{data}\,D^{-1/2}` at zero logits (plus the optimal
    bias): the subgradient condition of the nuclear-norm program at 0
    (:func:`ufm.relaxations._ce_minority.zero_threshold`). Derivation, in sympy: the gradient
    :math:`\nabla_{jk} = \frac{n_k}N(\pi_j - q_{jk})`, with :math:`\pi = \mathbf 1/K` (no bias)
    or the softmax of the optimal free bias, which solves :math:`\sum_k n_k(\pi - q_k) = 0`;
    then :math:`\mu_0^2` is the largest root of the characteristic polynomial of the rational
    matrix :math:`\Lambda_0\Lambda_0^\top = \nabla D^{-1}\nabla^\top`. The closed form
    :math:`(1-\alpha)\sigma_{\max}(\hat Y)/N`, :math:`\hat Y = PD^{1/2}` or
    :math:`(I - n\mathbf 1^\top/N)D^{1/2}`, is derived in
    ``proofs/ce_label_smoothing_imbalanced.py`` (not used here).

    Parameters
    ----------
    class_sizes : sequence of int
        n_1, ..., n_K (K >= 2).
    bias : {'none', 'free'}
    smoothing : float or sympy number
        alpha in [0, 1) (0: cross-entropy), taken exactly.

    Returns
    -------
    sympy expression (exact)

    Raises
    ------
    InvalidParameter
        Bad sizes, bias mode or smoothing.

    Examples
    --------
    >>> ce_zero_threshold_value((2, 2, 2))  # balanced CE: 1/(K sqrt(n))
    sqrt(2)/6
    >>> ce_zero_threshold_value((6, 6, 2, 2), smoothing=sp.Rational(1, 2))
    sqrt(6)/32
    """
    from .relaxations._nuclear import class_sizes_tuple

    sizes = class_sizes_tuple(class_sizes)
    bias = check_choice("bias", bias, ("none", "free"))
    alpha = _exact_smoothing(smoothing)
    K, N = len(sizes), sum(sizes)
    q = (1 - alpha) * sp.eye(K) + alpha / K * sp.ones(K, K)
    if bias == "none":
        pi = sp.ones(K, 1) / K
    else:
        unknowns = sp.symbols(f"pi0:{K}")
        pi_sym = sp.Matrix(unknowns)
        stationarity = sum((n * (pi_sym - q[:, k]) for k, n in enumerate(sizes)), sp.zeros(K, 1))
        pi = pi_sym.subs(sp.solve(list(stationarity), unknowns, dict=True)[0])
    grad = sp.Matrix(K, K, lambda j, k: sp.Integer(sizes[k]) / N * (pi[j] - q[j, k]))
    gram = grad * sp.diag(*[sp.Rational(1, n) for n in sizes]) * grad.T
    t = sp.Symbol("t")
    top = max(sp.Poly(gram.charpoly(t).as_expr(), t).real_roots())
    return sp.sqrt(top)
