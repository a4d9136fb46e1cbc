"""``verify_convergence``: run gradient descent and compare its end point with the closed form."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._repr import short_repr
from ..errors import InvalidParameter, SolverFailed
from ..metrics import class_means, gram_gaps, gram_invariants
from ..problem import Problem
from ..tolerances import (
    DESCENT_GRAM,
    DESCENT_METRIC,
    DESCENT_OBJECTIVE,
    DESCENT_STATIONARY,
    relative_deviation,
)
from ._descent import DescentResult, gradient_descent

__all__ = [
    "verify_convergence",
    "ConvergenceReport",
    "collapse_metrics",
    "gap_to_closed_form",
    "ClosedFormGap",
    "convergence_verdict",
    "default_init_scale",
]


def collapse_metrics(problem: Problem) -> tuple[str, ...]:
    """The NC metrics that vanish at the problem's global minimizer.

    Within-class variability (NC1) always; the classifier and mean geometry is the orthogonal frame
    for the bias-free MSE model (Zhou et al. 2022) and the simplex ETF otherwise (Zhu et al. 2021;
    Tirer & Bruna 2022). ``nc3_zhu`` compares W times the centred means with the ETF Gram, which
    holds in both cases (W M~ = c I (I - 11^T/K) for the orthogonal frame).
    """
    if problem.loss == "mse" and problem.bias == "none":
        return ("nc1", "of_distance_classifiers", "of_distance_means", "nc3_zhu")
    return ("nc1", "etf_distance_classifiers", "etf_distance_means", "nc3_zhu", "nc3_papyan")


@dataclass(frozen=True, eq=False)
class ConvergenceReport:
    """Result of :func:`verify_convergence`.

    Attributes
    ----------
    descent : DescentResult
    closed_form_objective : float or None
        Global minimum value, None where no closed form applies.
    objective_gap : float or None
        ``relative_deviation(f_final, f_star)``.
    gram_gaps : dict or None
        ``{'WWt', 'MtM', 'WM'}``: relative deviations of W W^T, M^T M and W M from the closed form's
        (rotation-free: both sides are invariant under W -> W Q^T, H -> Q H).
    metrics : dict
        Final NC metrics (``descent.metrics``).
    checked_metrics : tuple of str
        The metrics expected to vanish (:func:`collapse_metrics`).
    tolerances : dict
        objective, gram, metric.
    ok : bool or None
        All gaps and checked metrics within tolerance; None where no closed form applies.
    """

    __repr__ = short_repr

    descent: DescentResult = field(repr=False)
    closed_form_objective: float | None
    objective_gap: float | None
    gram_gaps: dict | None
    metrics: dict = field(repr=False)
    checked_metrics: tuple
    tolerances: dict
    ok: bool | None

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {
            "objective": float(self.descent.objective[-1]),
            "closed_form_objective": self.closed_form_objective,
            "objective_gap": self.objective_gap,
            "gram_gaps": self.gram_gaps,
            "metrics": self.metrics,
            "checked_metrics": list(self.checked_metrics),
            "tolerances": self.tolerances,
            "ok": self.ok,
        }


def _closed_form(problem: Problem):
    """The closed-form minimizer, or None outside its hypotheses (or before ufm.minimizers
    exists)."""
    try:
        from ..minimizers import global_minimizer
    except ImportError:
        return None
    try:
        return global_minimizer(problem)
    except InvalidParameter:
        return None


@dataclass(frozen=True)
class ClosedFormGap:
    """Result of :func:`gap_to_closed_form`.

    Attributes
    ----------
    objective : float
        Global minimum value f* of the closed form.
    objective_gap : float
        ``relative_deviation(f_final, f*)``.
    gram_gaps : dict
        ``{'WWt', 'MtM', 'WM'}``: :func:`ufm.metrics.gram_gaps` of the end point from the closed
        form.
    zero_solution : bool
        The closed form is W = H = 0 (beyond the threshold), where the NC metrics are undefined.
    """

    objective: float
    objective_gap: float
    gram_gaps: dict
    zero_solution: bool


def gap_to_closed_form(descent: DescentResult) -> ClosedFormGap | None:
    r"""Distance of the end point of a descent to the closed-form global minimizer, rotation-free.

    .. math:: \mathrm{gap}_f = \frac{|f(X_T) - f^\star|}{1 + |f^\star|},\qquad
              \mathrm{gap}_G = \max_{ij}\frac{|G_{ij}(X_T) - G^\star_{ij}|}{1 + |G^\star_{ij}|}
              \ \text{for}\ G \in \{WW^\top, M^\top M, WM\}

    with M the class means (d x K) and the Grams of :func:`ufm.metrics.gram_invariants`. The
    closed form comes from :func:`ufm.minimizers.global_minimizer` (Zhu et al. 2021, Thm 3.1 for
    CE; Tirer & Bruna 2022 and Zhou et al. 2022 for MSE).

    Parameters
    ----------
    descent : DescentResult
        A run of :func:`gradient_descent` (its problem and end point).

    Returns
    -------
    ClosedFormGap or None
        None where no closed form applies (outside the hypotheses of ``global_minimizer``).
    """
    problem = descent.problem
    star = _closed_form(problem)
    if star is None:
        return None
    f_star = float(star.objective)
    M, _ = class_means(descent.H, problem.labels, problem.K)
    return ClosedFormGap(
        objective=f_star,
        objective_gap=relative_deviation(descent.objective[-1], f_star),
        gram_gaps=gram_gaps(
            gram_invariants(descent.W, M), gram_invariants(np.asarray(star.W), np.asarray(star.M))
        ),
        zero_solution=bool(getattr(star, "zero_solution", False)),
    )


def verify_convergence(
    problem: Problem,
    *,
    steps: int,
    lr: float,
    seed: int = 0,
    init_scale: float = 1.0,
    objective_tol: float = DESCENT_OBJECTIVE,
    gram_tol: float = DESCENT_GRAM,
    metric_tol: float = DESCENT_METRIC,
    progress=None,
) -> ConvergenceReport:
    r"""Run :func:`gradient_descent` and measure its distance to the closed-form global minimizer.

    .. math:: \mathrm{gap}_f \le \epsilon_f,\qquad \mathrm{gap}_G \le \epsilon_G,\qquad
              \mathrm{NC}_j(X_T) \le \epsilon_{\mathrm{NC}}

    with the gaps of :func:`gap_to_closed_form` and the metrics of :func:`collapse_metrics`. The
    closed form comes from :func:`ufm.minimizers.global_minimizer` (CE balanced, d >= K-1, bias
    regularized/free; MSE with bias none, d >= K, or bias free, d >= K-1); elsewhere every gap is
    None and ``ok`` is None.

    Parameters
    ----------
    problem : Problem
    steps, lr, seed, init_scale, progress
        Passed to :func:`gradient_descent`.
    objective_tol, gram_tol, metric_tol : float
        Tolerances on the objective gap, the Gram gaps and the collapse metrics.

    Returns
    -------
    ConvergenceReport
    """
    descent = gradient_descent(
        problem, steps=steps, lr=lr, seed=seed, init_scale=init_scale, progress=progress
    )
    tolerances = {"objective": objective_tol, "gram": gram_tol, "metric": metric_tol}
    checked = collapse_metrics(problem)
    gap = gap_to_closed_form(descent)
    if gap is None:
        return ConvergenceReport(
            descent, None, None, None, descent.metrics, checked, tolerances, None
        )
    # A metric that is undefined (None) at a nonzero minimizer means descent went to the zero
    # solution.
    metric_ok = all(
        descent.metrics[key] is not None and descent.metrics[key] <= metric_tol for key in checked
    )
    ok = (
        gap.objective_gap <= objective_tol
        and max(gap.gram_gaps.values()) <= gram_tol
        and (gap.zero_solution or metric_ok)
    )
    return ConvergenceReport(
        descent, gap.objective, gap.objective_gap, gap.gram_gaps, descent.metrics, checked,
        tolerances, ok,
    )  # fmt: skip


def default_init_scale(problem: Problem) -> float:
    r"""Standard deviation :math:`s = 1/\sqrt d` of the random start of ``ufm flow``.

    Derived here: the global minimizers' row norms :math:`\|w_k\|` and feature norms
    :math:`\|h_i\|` do not depend on d (Zhu et al. 2021, Thm 3.1; the closed forms of
    :mod:`ufm.minimizers`), while an i.i.d. :math:`\mathcal N(0, s^2)` start has
    :math:`\|w_k\| \approx \|h_i\| \approx s\sqrt d` and logits of standard deviation
    :math:`s^2\sqrt d`. With :math:`s = 1/\sqrt d` the start has unit norms and logits of order
    :math:`1/\sqrt d` at every d, so the step size that works at small d still works at large d
    (with s = 1 the logits grow like :math:`\sqrt d` and descent stalls or diverges).
    """
    return 1.0 / float(np.sqrt(problem.d))


def _reference_gap(descent: DescentResult, certify: bool):
    """(reference name, relative objective gap): closed form, else the nuclear certificate."""
    star = gap_to_closed_form(descent)
    if star is not None:
        return "closed_form", star.objective_gap
    if not certify or descent.problem.lambda_W <= 0 or descent.problem.lambda_H <= 0:
        return None, None
    from ..relaxations import nuclear_relaxation

    try:
        certificate = nuclear_relaxation(descent.problem, allow_lower_bound=True)
    except (InvalidParameter, SolverFailed):
        # outside the program's domain or limits, or not solved: the verdict rests on the gradient
        return None, None
    above = max(float(descent.objective[-1]) - certificate.lower, 0.0)
    return "certificate", above / (1.0 + abs(certificate.lower))


def convergence_verdict(
    descent: DescentResult,
    *,
    gradient_tol: float = DESCENT_STATIONARY,
    objective_tol: float = DESCENT_OBJECTIVE,
    certify: bool = True,
) -> dict:
    r"""Has a descent converged, and to the global minimum? A JSON-ready verdict.

    .. math:: \|\nabla f(X_T)\|_F \le \epsilon_\nabla,\qquad
              \frac{f(X_T) - f_{\mathrm{ref}}}{1 + |f_{\mathrm{ref}}|} \le \epsilon_f

    with :math:`f_{\mathrm{ref}}` the closed-form minimum (:func:`gap_to_closed_form`; gap
    two-sided) where one applies, else the certified lower bound of the nuclear-norm program
    (:func:`ufm.relaxations.nuclear_relaxation`, any class sizes; one-sided, a gap below
    :math:`\epsilon_f` certifies global optimality). The status is

    * ``'global_minimum'``: stationary and within :math:`\epsilon_f` of the reference;
    * ``'stationary'``: stationary, but the gap exceeds :math:`\epsilon_f` (a saddle, or a
      certificate that is only a lower bound because d is below its rank) or no reference
      applies (then ``reference`` is None);
    * ``'not_converged'``: the gradient norm exceeds :math:`\epsilon_\nabla` (raise the steps).

    Parameters
    ----------
    descent : DescentResult
    gradient_tol, objective_tol : float
        :math:`\epsilon_\nabla` and :math:`\epsilon_f`.
    certify : bool
        Solve the convex certificate when no closed form applies (seconds for small K).

    Returns
    -------
    dict
        ``status``, ``gradient_norm``, ``gradient_tol``, ``reference`` (``'closed_form'``,
        ``'certificate'`` or None), ``objective_gap``, ``objective_tol``, ``advice``.
    """
    gradient_norm = float(descent.gradient_norm[-1])
    reference, objective_gap = _reference_gap(descent, certify)
    if gradient_norm > gradient_tol:
        status, advice = "not_converged", "raise steps (or lr, while descent stays monotone)"
    elif objective_gap is not None and objective_gap <= objective_tol:
        status, advice = "global_minimum", None
    elif objective_gap is None:
        status, advice = "stationary", "no closed form or certificate applies"
    else:
        status, advice = "stationary", "above the reference: a saddle or a loose certificate"
    return {
        "status": status,
        "gradient_norm": gradient_norm,
        "gradient_tol": gradient_tol,
        "reference": reference,
        "objective_gap": objective_gap,
        "objective_tol": objective_tol,
        "advice": advice,
    }
