"""Named tolerances, each with the reason for its size.

Deviations are measured on the scale-free form

.. math:: \\operatorname{dev}(x, y) = \\frac{|x - y|}{1 + |y|},

so that one number works for predictions near zero and at scale (see :func:`relative_deviation`).
Modules import the constants from here; tests and claims never use a bare literal tolerance.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EXACT",
    "FLOAT",
    "CLOSED_FORM",
    "GRADIENT_FD",
    "METRIC_ZERO",
    "STREAMING",
    "STATIONARY",
    "SPHERE_STATIONARY",
    "NEGATIVE_CURVATURE",
    "FEASIBILITY",
    "UNIT_NORM",
    "CLARABEL_EPS",
    "SCS_EPS",
    "CONVEX_CLARABEL",
    "CONVEX_SCS",
    "CONVEX_ARGMIN",
    "KERNEL_TWIN",
    "KERNEL_EXP",
    "DESCENT_OBJECTIVE",
    "DESCENT_METRIC",
    "DESCENT_GRAM",
    "FLOW_ORDER",
    "MONTE_CARLO_SIGMAS",
    "LESDE_PROBABILITY",
    "MAX_MARGIN_DESCENT",
    "SOFTMAX_CODE_ASCENT",
    "LESDE_EULER_RATE",
    "LESDE_NC_RATIO",
    "LESDE_MOMENTS",
    "LESDE_FIT_SIGMAS",
    "LESDE_FIT_ZERO_MODE",
    "DESCENT_STATIONARY",
    "MINORITY_CERTIFICATE_SAFETY",
    "MINORITY_SPREAD_EXTRAPOLATION",
    "DEEP_DESCENT",
    "CENTRAL_PATH_DESCENT",
    "FLOW_INTERPOLANT",
    "MIN_NORM_INIT_SCALE",
    "CE_MINORITY_BISECTION",
    "CE_MINORITY_THRESHOLD",
    "DESCENT_MINORITY_SPREAD",
    "CONVEX_MINORITY_SPREAD",
    "CONVEX_ZERO_LOGITS",
    "DESCENT_ZERO_LOGITS",
    "relative_deviation",
]

#: Symbolic identities are checked exactly: ``sympy.simplify(lhs - rhs) == 0``. The constant
#: documents that there is no tolerance at all.
EXACT = 0.0

#: Closed forms evaluated in float64: a handful of operations on O(1) numbers, each rounding by
#: 2**-53 ~ 1.1e-16; sums over N <= 1e4 terms and K x K Gram products lose at most a few hundred
#: ulps.
FLOAT = 1e-12

#: Closed-form realizations (sympy results converted to float64, then W W^T, M^T M, W M and the
#: objective evaluated in numpy) against a theorem's formula evaluated in float64: each side carries
#: the rounding of a few dozen operations on O(10) numbers plus log-sum-exp over N <= 10^3 samples,
#: ~1e-13 relative; 1e-9 leaves four decades of margin and is still far below any modelling error.
CLOSED_FORM = 1e-9

#: Central finite differences with step h = 1e-6 on O(1) inputs: truncation error O(h^2) ~ 1e-12
#: times the third derivative, plus rounding eps/h ~ 1e-10; 1e-6 leaves a margin for large logits.
GRADIENT_FD = 1e-6

#: NC metrics on an exactly collapsed float64 configuration: rounding in Gram matrices and norms
#: (about sqrt(eps) for the square roots of near-zero variances) stays far below 1e-6.
METRIC_ZERO = 1e-6

#: Streamed metrics (ufm.measure: class statistics merged chunk by chunk with Chan et al.'s pairwise
#: updates) against the in-memory ufm.nc_metrics on the same float64 data: the two sum the same
#: terms in different orders and the merges add O(log #chunks) roundings per entry, so metrics of
#: O(1) data differ by ~1e-14 (measured <= 6e-15 for N <= 10^3); 1e-10 is the issue's bar and stays
#: far below any difference a wrong merge would make.
STREAMING = 1e-10

#: Gradient norm under which a constructed critical point counts as stationary (ufm.landscape):
#: the points are closed forms or roots found to machine accuracy, so the gradient is float64
#: rounding of O(1) entries summed over P <= 1e4 coordinates, ~1e-14; 1e-10 leaves a wide margin.
STATIONARY = 1e-10

#: Riemannian gradient norm at which descent on a product of spheres stops (ufm.dynamics,
#: sphere_descent). Near a minimizer with smallest nonzero Riemannian Hessian eigenvalue mu the
#: distance to the minimizer set is <= |grad|/mu and the objective gap <= |grad|^2/(2 mu); in the
#: claims' domains (tau >= 0.25, rho <= 2) mu >= ~1e-3 (measured), so 1e-9 puts the Gram matrices
#: within ~1e-6 and the value within ~1e-15 of the limit, far inside DESCENT_GRAM and
#: DESCENT_OBJECTIVE, while staying above float64 rounding of the gradient (~1e-14).
SPHERE_STATIONARY = 1e-9

#: A Hessian eigenvalue below -NEGATIVE_CURVATURE counts as negative curvature (ufm.landscape):
#: dense eigh is backward stable, error ~ eps * ||Hessian|| ~ 1e-15 for O(1) entries, and ARPACK
#: runs to tol=1e-12 relative; the symmetries of the UFM (rotations of feature space) put exact
#: zeros in the spectrum of every critical point, which must not read as negative curvature.
NEGATIVE_CURVATURE = 1e-8


#: Relative slack of a norm budget (the layer-peeled model's E_W, E_H): points recovered from a
#: convex solution meet its constraints only to the solver's feasibility tolerance, at most SCS's
#: 1e-6 (SCS_EPS, absolute plus relative); 1e-5 of the budget leaves a factor 10.
FEASIBILITY = 1e-5

#: Deviation |norm - 1| allowed on the sphere model's unit rows and columns: normalizing in float64
#: leaves a few ulps (~1e-15) for d <= 1e4; 1e-10 leaves room for a retraction's accumulated
#: rounding and still reads a point off the sphere as an error.
UNIT_NORM = 1e-10


#: Gap and feasibility tolerance handed to Clarabel (interior point; its own default): a primal-dual
#: method reaches 1e-8 in a few dozen iterations on the relaxations' O(K)-sized cones.
CLARABEL_EPS = 1e-8

#: eps_abs = eps_rel handed to SCS (first-order ADMM): 1e-6 is reachable within the iteration cap on
#: the exponential cones of cross-entropy; tighter settings stall.
SCS_EPS = 1e-6

#: Optimal values of a convex relaxation solved by Clarabel at CLARABEL_EPS, compared with a closed
#: form or another solve: the value error is the gap tolerance times the problem scale
#: (<= 1e-8 * O(10)), plus the exponential-cone feasibility error propagated through log-sum-exp;
#: 1e-6 leaves two decades.
CONVEX_CLARABEL = 1e-6

#: Optimal values from SCS at SCS_EPS: ADMM residuals of 1e-6 per cone entry, summed over O(K^2)
#: entries and amplified by the conditioning of the nuclear-norm SDP, give errors up to ~1e-4.
CONVEX_SCS = 1e-3

#: Minimizers (Gram matrices, logits) rather than values: an interior-point solution of a degenerate
#: SDP (optimal Gram matrix of rank < size, no strict complementarity) is accurate only to
#: O(sqrt(gap)) = sqrt(1e-8) = 1e-4 in its entries; 1e-3 allows for the O(K) constant.
CONVEX_ARGMIN = 1e-3


#: The numba kernels against their plain-numpy twins (same operations, different summation order and
#: BLAS blocking): each step differs by a few ulps, and gradient descent with lr < 2/L is
#: contractive along the trajectory, so differences stay ~1e-14 after thousands of steps; 1e-10 is
#: the issue's bar.
KERNEL_TWIN = 1e-10

#: The kernels' vectorized exp (ufm.dynamics._kernels.exp_nonpositive) vs numpy.exp, as a relative
#: error: its Taylor remainder is < 1e-17 and its Horner evaluation rounds ~14 times on values in
#: [0.7, 1.5] (the scaling by 2^n is exact): a few ulp at worst (measured 1.01); 4 ulp = 8.9e-16.
KERNEL_EXP = 4 * 2.0**-52

#: Gradient descent after T steps vs the closed-form minimum value (relative deviation): with
#: contraction factor q = 1 - lr*mu per step near the minimizer, the objective gap is ~q^(2T); the
#: tests choose lr, T so that q^(2T) < 1e-12, and 1e-6 is the issue's bar (float64 rounding of f
#: ~1e-15).
DESCENT_OBJECTIVE = 1e-6

#: NC metrics after gradient descent that reached DESCENT_OBJECTIVE: metrics are O(distance to the
#: collapsed set) ~ sqrt(objective gap / mu) ~ 1e-6 / sqrt(1e-2) = 1e-5 at the tests' settings; 1e-4
#: is the issue's bar.
DESCENT_METRIC = 1e-4

#: Rotation-free Gram matrices W W^T, M^T M, W M after descent vs the closed form: first order in
#: the distance to the minimizer set, hence the same order as the metrics.
DESCENT_GRAM = 1e-4


#: Gradient flow vs the Richardson extrapolation 2 x_(lr/2) - x_lr of gradient descent (forward
#: Euler on the flow): the residual is O(lr^2), so the observed order log2(r(lr)/r(lr/2)) is 2 up to
#: the next term, O(lr) ~ 1e-2 at lr = 1e-2, while the integrator's own error (rtol 1e-9) is 100x
#: below the residual.
FLOW_ORDER = 0.1

#: Monte-Carlo checks of Gaussian increments: a statistic is accepted within this many standard
#: errors of its mean (two-sided false-alarm probability 6e-7 per check under the normal
#: approximation).
MONTE_CARLO_SIGMAS = 5.0


#: The LE-SDE separability probability, estimated from 40 paths, against the claim's 0 or 1: if the
#: true probability is 1 (or 0) the estimate is exactly 1 (0); 0.1 (relative, i.e. up to 0.2
#: absolute near 1) admits up to ~8 atypical paths out of 40 and still rejects a probability of 1/2,
#: whose 40-path estimate exceeds 0.8 with binomial probability < 1e-4.
LESDE_PROBABILITY = 0.1


#: Unregularized CE descent (ufm.dynamics.margin_descent) stopped at loss 1e-12 vs the max-margin
#: limit: 1/gamma(t) (value) and the unit-norm Gram W W^T/||W W^T||_F. The normalized margin
#: converges only like 1/log t: the margins grow like q ~ -log(loss), and the hard minimum margin
#: differs from the smoothed margin -log sum_{i,j} exp(-m_ij) by at most log(N(K-1)) (the
#: leading term of the homogeneous-model analysis, Lyu & Li 2020), so the relative gap is
#: ~ log(N(K-1))/q. The run stops at q ~ -log(1e-12) = 27.6 (below, float64 cross-entropy loses its
#: digits); the claim's domain has N(K-1) <= 48 (K <= 4, n_k <= 4), so log(48)/27.6 = 0.14;
#: measured: gap / (log(N(K-1))/q) <= 0.79 in 120 runs with K <= 5. The deviation of 1/gamma is
#: one-sided (1/gamma(t) >= v* always: a rescaled iterate is feasible).
MAX_MARGIN_DESCENT = 0.15

#: Ascent on the smoothed minimal margin F_tau (ufm.codes.max_min_margin_ascent) vs the softmax
#: code's margin m*: F_tau >= min margin - tau log(K(K-1)), so at the global maximizer of F_tau
#: the hard margin (>= F_tau) is within tau_end log(K(K-1)) <= 1e-4 log(90) = 4.5e-4 of m* for
#: K <= 10; 1e-3 leaves 2x. (Measured: the best of 4 starts reaches m* to <= 5e-15 for K <= 10,
#: the codes' maxima being sharp.) It is one-sided in truth (a feasible point never beats m*) and
#: still rejects any other constant that differs from m* by more than 1e-3 (1 + m*).
SOFTMAX_CODE_ASCENT = 1e-3


def relative_deviation(got, want) -> float:
    """Scale-free deviation ``max |got - want| / (1 + |want|)`` over all entries.

    Parameters
    ----------
    got, want : float or array_like
        Measured and predicted values, broadcastable against each other.

    Returns
    -------
    float
        The largest entrywise deviation; ``inf`` if ``got`` contains a non-finite value.
    """
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    if not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.max(np.abs(got - want) / (1.0 + np.abs(want)), initial=0.0))


#: LE-SDE growth rate measured from noiseless Euler paths, log(ratio)/T, against the exact rate
#: lambda: Euler multiplies by 1 + lambda dt per step,
#: log(1 + lambda dt)/dt = lambda - lambda^2 dt/2
#: + O(dt^2); the claims use dt = 1e-3 and |lambda| <= 1, so the bias is <= 5e-4: 1e-3 leaves 2x.
LESDE_EULER_RATE = 1e-3

#: LE-SDE NC1 trace ratio (ratio of path averages) over its exact ratio of expectations, from 400
#: paths: tr Sigma_B sums d(K-1) >= 2 chi-square modes per path, relative sd <= sqrt(2/800) = 0.05
#: (tr Sigma_W has far more degrees of freedom), the ratio estimator's bias is O(1/P), and Euler's
#: bias is 2 lambda^2 dt T <= 2%: 5 standard deviations plus the bias stay below 0.3.
LESDE_NC_RATIO = 0.3

#: Exact LE-SDE moments by two evaluations (closed form, Van Loan with k doublings, moment ODE at
#: rtol 1e-10): each doubling adds a few ulps relative, the ODE its 1e-10 tolerance; 1e-8 leaves
#: two decades above both.
LESDE_MOMENTS = 1e-8

#: Standard deviations allowed between fitted LE-SDE elasticities and planted ones. The fit's error
#: from noise sigma is bounded (heuristically, by the endpoints of a window) by
#: c * 2 delta / tau: delta = sigma sqrt(eta T / n) / (|y(0)| min_t phi(t)) the relative noise of a
#: mode, tau the shortest window, c the largest coefficient sum of the inversion (K or 2(K-1));
#: delta is one standard deviation of a Gaussian, so 4 of them fail by chance < 1e-4 per mode.
LESDE_FIT_SIGMAS = 4.0

#: A mode of class-mean snapshots smaller than this fraction of the first snapshot's norm counts as
#: zero (fit_lesde refuses it): centring leaves rounding of a few ulps (~1e-16 relative), and a
#: log-growth measured from a start 1e-12 of the data's size would be rounding, not dynamics.
LESDE_FIT_ZERO_MODE = 1e-12

#: Gradient norm ||grad f||_F (over W, H, b jointly) below which the end of a descent counts as
#: stationary in the verdict of ``ufm flow`` (ufm.dynamics.convergence_verdict). Near a minimizer
#: whose Hessian has smallest nonzero eigenvalue mu, f - f* <= ||grad f||^2 / (2 mu); the CLI's
#: examples have mu >= ~1e-2 (measured), so 1e-5 bounds the value gap by ~5e-9, inside
#: DESCENT_OBJECTIVE, while float64 rounding of the gradient (~1e-14) stays far below it.
DESCENT_STATIONARY = 1e-5


#: Error bound on the Minority Collapse certificate psi(R) (ufm.relaxations.minority_threshold) as
#: a multiple of the polished point's gradient norm (plus float64 rounding): psi is smooth in the
#: logits, so its error is first order in the distance to the stationary point, i.e. in the
#: gradient. Measured against a reference (Clarabel at 1e-12, whose dual and primal estimates of psi
#: agree to <= 1e-10) at 18 points (5 parameter sets, R within 0.1 of R*): |psi - psi_ref| <=
#: 0.14 x gradient wherever the deviation exceeds 1e-11, and below 1e-11 (the reference's own
#: accuracy) elsewhere; 10 leaves a factor 70 where it could be measured.
MINORITY_CERTIFICATE_SAFETY = 10.0

#: Minority Collapse threshold from the independent spread route (the unrestricted layer-peeled
#: SDP's minority spread at four ratios 0.4-1.6% below R*, Clarabel at 1e-10, extrapolated to 0 by a
#: quadratic), relative to R*: the spread's entries are accurate to O(sqrt(tol)) ~ 1e-5 and its
#: slope is ~0.08 per unit R, so the root moves by ~1e-4 absolute; measured 2.5e-5 relative at worst
#: over 5 parameter sets against the certified bracket; 1e-4 leaves a factor 4.
MINORITY_SPREAD_EXTRAPOLATION = 1e-4

#: Descent on the deep linear UFM (chain_descend_to_stationary, stopped at
#: ||grad f|| <= STATIONARY (1 + |f|) ~ 1e-10) vs the exact minimizer of the scalar law: the
#: distance to the minimizer set is <= ||grad f|| / h, h the smallest nonzero Hessian eigenvalue
#: there, and the objective, Gram matrices and singular values move by first order in it. With
#: every a_i kept 20% (mse.deep-linear) or 3% and 15% of the window (mse.deep-linear-jump) away
#: from the thresholds, h is of the order of the smallest decay: measured h >= 1.1e-2 (finite-
#: difference Hessian at 15 sampled minimizers, metastable ones included), and the decays are
#: >= ~1e-3 in the domains (a_1 = 0.1, N = 16, q = 4), so distances <= ~1e-7: 1e-6 leaves 10x.
#: Measured deviations: <= 2e-9 in 30 runs (depth 2, 3; K <= 4).
DEEP_DESCENT = 1e-6

#: Renormalized descent on the central path (central_path_descent, stopped at a Riemannian
#: gradient ||G_perp|| ||H~|| <= 1e-10) vs the exact limit value and trace and NC1 = 0; its start
#: value (a float64 least-squares solve) vs the exact closed form. Near a non-degenerate maximizer
#: on the sphere tr Sigma_T = tau the value gap is quadratic in the stopping gradient and the
#: distance (so the trace and NC1) linear in it over the curvature: 1e-8 leaves room for a
#: curvature down to ~1e-2 (no bound is proved here). Measured deviations: <= 6e-16 in 40 runs,
#: 10 per regime (K <= 4, d <= 6, lambda in {0} and [0.1, 1]).
CENTRAL_PATH_DESCENT = 1e-8

#: Unregularized MSE gradient flow from a small start (scale eps = MIN_NORM_INIT_SCALE, RK45 at
#: rtol 1e-10) vs the minimum-norm interpolant (mse.min-norm-interpolant): the flow conserves
#: W^T W - H H^T = O(eps^2), so its interpolating end has balanced factors (the min-norm Grams) up
#: to O(eps^2); with a free bias the early phase (b relaxes to n/N at rate 1 while W H = O(eps^2))
#: leaves b and the mean feature off by first order in eps (measured |b - n/N| <= 0.7 eps at
#: eps = 1e-6 and 1e-8, 20 points, K <= 4; Grams and value <= 1e-10, the integrator's rtol
#: accumulated). 1e-6 = 100 eps leaves two decades.
FLOW_INTERPOLANT = 1e-6

#: Init scale of that flow: small enough that its O(eps) bias error is far below FLOW_INTERPOLANT,
#: large enough that the escape time N log(1/eps)/sigma_min stays short (~18 N/sigma_min).
MIN_NORM_INIT_SCALE = 1e-8

#: Requested relative half-width of the bracket of ufm.relaxations.ce_minority_threshold in the
#: claim ce.imbalanced-minority-threshold: the certificate's sign is exact up to float64 rounding
#: (~1e-15) and psi is smooth in mu, so the chord's root plus two solves 1e-6 away from it certify
#: the bracket (4-5 solves in all, measured).
CE_MINORITY_BISECTION = 1e-6

#: Deviation allowed on log(mu*) from that bracket's midpoint: |log(mid) - log(mu*)| <= the
#: relative half-width CE_MINORITY_BISECTION (to first order), divided by 1 + |log mu*| in the
#: deviation; 1e-5 leaves a factor 10.
CE_MINORITY_THRESHOLD = 1e-5

#: Minority logit spread (largest distance between minority class-logit columns over 1 + ||Z||)
#: below which descent (6000 steps, lr 0.5) counts the minority as collapsed: measured <= 5e-16
#: with mu in [1.25, 1.6] mu* and >= 0.31 with mu in [0.3, 0.75] mu* (16 points of the claim's
#: full domain; the spread decays geometrically above mu*, to ~1e-30 at 20000 steps, and
#: converges to a positive value below): 1e-6 separates both by many orders.
DESCENT_MINORITY_SPREAD = 1e-6

#: Minority logit spread (as for DESCENT_MINORITY_SPREAD) below which the unrestricted nuclear-norm
#: program's optimum (Clarabel) counts as collapsed: measured ~4e-7 at mu = 1.05 mu* (the
#: O(sqrt(gap)) noise of a degenerate optimum) and >= 0.1 at mu <= 0.95 mu*; 1e-4 separates both.
CONVEX_MINORITY_SPREAD = 1e-4

#: Frobenius norm of the class logits below which the unrestricted nuclear-norm program's optimum
#: (Clarabel) counts as W = H = 0 (ce.label-smoothing-imbalanced): an exact zero optimum comes back
#: as O(sqrt(gap)) noise, measured <= 3.4e-8 at mu in [1.25, 1.6] mu_0, while the nonzero optima
#: at mu <= 0.85 mu_0 have norm >= 0.26 (60 points of the claim's full domain); 1e-4 separates both
#: by three decades.
CONVEX_ZERO_LOGITS = 1e-4

#: Frobenius norm of the class logits W M below which descent (8000 steps, lr 0.5) counts as
#: W = H = 0 (ce.label-smoothing-imbalanced): above mu_0 the iterates contract to 0 geometrically
#: (rate ~ lr (mu - mu_0)), measured <= 7.5e-62 at mu >= 1.25 mu_0, and >= 0.26 at mu <= 0.85 mu_0
#: (60 points of the claim's full domain); 1e-6 separates both by many orders.
DESCENT_ZERO_LOGITS = 1e-6
