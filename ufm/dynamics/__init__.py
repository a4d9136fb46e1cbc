"""Collapse dynamics: gradient descent and flow on the UFM, and the locally elastic SDE.

Public API:

* :func:`gradient_descent`, :func:`gradient_flow`, :func:`initialize` - descent (numba, whole loop
in one
  compiled call) and the flow (adaptive Dormand-Prince) on the regularized UFM objective;
* :func:`chain_gradient_descent`, :func:`chain_descend_to_stationary` - descent on the deep
  linear UFM (``model='deep-linear'``, the numba chain kernel);
* :func:`central_path_descent`, :func:`central_path_trace` - renormalized descent of the
  features with the least-squares classifier re-solved at each step (Han, Papyan & Donoho 2022);
* :func:`descend_to_stationary` - descent with a step rule of its own, run until the gradient
  vanishes (the descent route of the claims);
* :func:`gap_to_closed_form`, :func:`verify_convergence` - compare the end of a descent with the
  closed-form global minimizer (rotation-free: Gram matrices), and run descent then compare;
  :func:`convergence_verdict` (stationarity, and the gap to the closed form or the convex
  certificate) and :func:`default_init_scale` (1/sqrt(d)), as ``ufm flow`` reports and uses them;
* :func:`sphere_descent`, :func:`normalized_ce_descent`, :func:`supcon_descent` - Riemannian
  gradient descent on products of spheres (normalized features, SupCon);
* :func:`margin_descent`, :func:`normalized_margin` - descent on the unregularized CE UFM
  until the loss is tiny, and the normalized margin whose limit is the max-margin value;
* :func:`simulate_lesde`, :func:`le_ode_mean`, :func:`separability_probability`,
:func:`is_separable` -
  the locally elastic SDE of Zhang, Wang & Su (2021), its linearized ODE in closed form, and the
  Monte-Carlo probability of linear separability;
* :func:`fit_lesde` - the elasticities alpha(t), beta(t) of the linear LE-SDE fitted to class-mean
  snapshots (the authors' estimators, by least squares on the modes' log-growth).

Kernels compile on first call (cached to disk), never at import.
"""

from ._central import CentralPath, central_path_descent, central_path_trace
from ._chain import ChainResult, chain_descend_to_stationary, chain_gradient_descent
from ._descent import DescentResult, FlowResult, gradient_descent, gradient_flow, initialize
from ._kernels import RECORDED_METRICS
from ._lesde import (
    LESDEMoments,
    LESDEResult,
    SeparabilityEstimate,
    is_separable,
    le_ode_mean,
    lesde_moments,
    readout,
    separability_exact,
    separability_probability,
    simulate_lesde,
)
from ._lesde_fit import LESDEFit, fit_lesde
from ._margin import MarginDescent, margin_descent, normalized_margin
from ._riemannian import SphereDescent, normalized_ce_descent, sphere_descent, supcon_descent
from ._stationary import descend_to_stationary
from ._verify import (
    ClosedFormGap,
    ConvergenceReport,
    collapse_metrics,
    convergence_verdict,
    default_init_scale,
    gap_to_closed_form,
    verify_convergence,
)

__all__ = [
    "central_path_descent",
    "central_path_trace",
    "CentralPath",
    "gradient_descent",
    "chain_gradient_descent",
    "chain_descend_to_stationary",
    "ChainResult",
    "gradient_flow",
    "initialize",
    "descend_to_stationary",
    "sphere_descent",
    "normalized_ce_descent",
    "supcon_descent",
    "SphereDescent",
    "DescentResult",
    "FlowResult",
    "RECORDED_METRICS",
    "margin_descent",
    "MarginDescent",
    "normalized_margin",
    "verify_convergence",
    "ConvergenceReport",
    "gap_to_closed_form",
    "ClosedFormGap",
    "collapse_metrics",
    "convergence_verdict",
    "default_init_scale",
    "simulate_lesde",
    "LESDEResult",
    "le_ode_mean",
    "lesde_moments",
    "LESDEMoments",
    "separability_exact",
    "readout",
    "is_separable",
    "separability_probability",
    "SeparabilityEstimate",
    "fit_lesde",
    "LESDEFit",
]
