"""The loss on the central path: the least-squares classifier's value in Sigma_W, Sigma_B.

Statement (Han, Papyan & Donoho 2022, ICLR, "Neural collapse under MSE loss: proximity to and
dynamics on the central path" (abstract read); the closed form and its imbalanced version derived
here). For features H (d x N, columns grouped by class, n_k per class, pi_k = n_k/N), one-hot
labels Y and lambda >= 0,

    L(H) = min_{W,b} 1/(2N) ||W H + b 1^T - Y||^2 + lambda/2 ||W||^2
         = 1/2 [ sum_k pi_k (1 - pi_k) - tr((Sigma_T + lambda I)^+ Mt Pi^2 Mt^T) ],

with mu_G the global mean, Mt = [mu_k - mu_G] (d x K), Pi = diag(pi), Sigma_T = Hc Hc^T/N
(Hc = H - mu_G 1^T) = Sigma_W + Sigma_B, Sigma_B = Mt Pi Mt^T (all 1/N about the global mean).
Balanced classes (Pi^2 = Pi/K): L(H) = (1/2K) [K - 1 - tr((Sigma_T + lambda I)^+ Sigma_B)].

On the sphere tr Sigma_T = tau: tr((Sigma_T + lambda I)^+ Sigma_B) <= r/(1 + lambda r/tau),
r = min(d, K - 1), attained by collapsed features (Sigma_W = 0) whose Sigma_B has r eigenvalues
tau/r; this is the limit of the renormalized central-path descent.

Proof outline: (A) f is a convex quadratic in b, minimized at b = pi - W mu_G, which leaves
1/(2N)||W Hc - Yc||^2 (Yc = Y - pi 1^T); (B) Yc Hc^T/N = Pi Mt^T and ||Yc||^2/N = sum pi(1 - pi);
(C) completing the square in W with S = Sigma_T + lambda I; (D) exact checks against the exact
rational least-squares solve; (E) the bound on the sphere.
"""

import numpy as np
import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.dynamics import central_path_descent
from ufm.minimizers import central_path_loss, least_squares_classifier

lam, t, tau = sp.symbols("lambda t tau", positive=True)

# (A)-(B) on a symbolic small case: d = 2, class sizes (2, 1), every feature entry a symbol
sizes, d = (2, 1), 2
N, K = sum(sizes), len(sizes)
H = sp.Matrix(d, N, sp.symbols(f"h0:{d * N}", real=True))
W = sp.Matrix(K, d, sp.symbols(f"w0:{K * d}", real=True))
Y = sp.Matrix([[1, 1, 0], [0, 0, 1]])
pi = sp.Matrix([sp.Rational(n, N) for n in sizes])
mu_G = H * sp.ones(N, 1) / N
Hc, Yc = H - mu_G * sp.ones(1, N), Y - pi * sp.ones(1, N)
b = pi - W * mu_G
R = W * H + b * sp.ones(1, N) - Y
bs = sp.Matrix(sp.symbols(f"b0:{K}", real=True))
grad_b = (W * H + bs * sp.ones(1, N) - Y) * sp.ones(N, 1) / N
at_b = grad_b.subs(dict(zip(bs, b, strict=True)))
identity("(A) the gradient in b vanishes at b = pi - W mu_G", at_b, sp.zeros(K, 1))
identity("(A) there the residual is W Hc - Yc", R, W * Hc - Yc)
Mt = sp.Matrix.hstack(Hc[:, :2] * sp.ones(2, 1) / 2, Hc[:, 2:])
Pi = sp.diag(*pi)
identity("(B) cross-covariance Yc Hc^T / N = Pi Mt^T", Yc * Hc.T / N, Pi * Mt.T)
identity("(B) ||Yc||^2 / N = sum_k pi_k (1 - pi_k)", (Yc * Yc.T).trace() / N,
         sum(p * (1 - p) for p in pi))  # fmt: skip

# (C) completing the square: 1/2 tr(W S W^T) - tr(W C^T) with S symmetric positive definite
S = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"s{min(i, j)}{max(i, j)}", real=True))
Cm = sp.Matrix(K, d, sp.symbols(f"c0:{K * d}", real=True))
Wstar = Cm * S.inv()
identity(
    "(C) 1/2 tr(W S W^T) - tr(W C^T) = 1/2 tr((W - C S^-1) S (W - C S^-1)^T) - 1/2 tr(C S^-1 C^T)",
    (W * S * W.T).trace() / 2 - (W * Cm.T).trace(),
    ((W - Wstar) * S * (W - Wstar).T).trace() / 2 - (Cm * S.inv() * Cm.T).trace() / 2,
)
Hs = sp.Matrix(np.random.default_rng(1).integers(-4, 5, (4, 3)))  # d = 4 > N - 1: singular
Hs_c = Hs - Hs * sp.ones(3, 1) / 3 * sp.ones(1, 3)
Mts = sp.Matrix.hstack(Hs_c[:, :2] * sp.ones(2, 1) / 2, Hs_c[:, 2:])
Ts = Hs_c * Hs_c.T / 3
identity("(C) lambda = 0: the class means lie in the range of Sigma_T (Sigma_T Sigma_T^+ Mt = Mt), "
         "so the minimum is -1/2 tr(C Sigma_T^+ C^T)", Ts * Ts.pinv() * Mts, Mts)  # fmt: skip


def exact_formula(Hr, sizes, lam_r, balanced_form):
    """The closed form in exact rationals (balanced_form: the paper's Sigma_B version)."""
    K, N = len(sizes), sum(sizes)
    Hr = sp.Matrix(Hr).applyfunc(sp.Rational)
    Hc = Hr - Hr * sp.ones(N, 1) / N * sp.ones(1, N)
    starts = np.cumsum((0,) + tuple(sizes))
    Mt = sp.Matrix.hstack(*[Hc[:, starts[k] : starts[k + 1]] * sp.ones(sizes[k], 1) / sizes[k]
                            for k in range(K)])  # fmt: skip
    Pi = sp.diag(*[sp.Rational(n, N) for n in sizes])
    S = Hc * Hc.T / N + sp.Rational(lam_r) * sp.eye(Hr.shape[0])
    A = S.pinv() if lam_r == 0 else S.inv()
    if balanced_form:
        return (K - 1 - (A * Mt * Pi * Mt.T).trace()) / (2 * K)
    return (sum(p * (1 - p) for p in Pi.diagonal()) - (A * Mt * Pi**2 * Mt.T).trace()) / 2


# (D) exact checks: the formula against the exact rational least-squares solve
rng = np.random.default_rng(0)
cases = [((3, 3, 3), 4, 0.0), ((3, 3, 3), 4, 0.25), ((2, 2), 5, 0.0), ((2, 2, 2, 2), 2, 0.5),
         ((2, 1, 3), 3, 0.0), ((2, 1, 3), 2, 0.375)]  # fmt: skip
for sizes, d, lam_r in cases:
    Hr = rng.integers(-4, 5, (d, sum(sizes))) / 2
    exact = least_squares_classifier(Hr, sizes, lam_r, exact=True)[2]
    balanced = len(set(sizes)) == 1
    identity(f"(D) sizes {sizes}, d = {d}, lambda = {lam_r}: least squares = closed form",
             exact, exact_formula(Hr, sizes, lam_r, balanced))  # fmt: skip
    fact("(D) the float closed form agrees", abs(central_path_loss(Hr, sizes, lam_r) - exact)
         < 1e-12, f"{central_path_loss(Hr, sizes, lam_r)!r}")  # fmt: skip

# (E) the bound on the sphere tr Sigma_T = tau
r = sp.Symbol("r", positive=True)
g = t / (t + lam)
nonnegative("(E) t/(t + lambda) is concave: -g'' >= 0", -sp.diff(g, t, 2))
nonnegative("(E) and increasing: g' >= 0", sp.diff(g, t))
identity("(E) r equal eigenvalues tau/r give r g(tau/r) = r/(1 + lambda r/tau)",
         r * g.subs(t, tau / r), r / (1 + lam * r / tau))  # fmt: skip
for sizes, d, lam_r in [((3, 3, 3), 4, 0.5), ((3, 3, 3, 3), 2, 0.0), ((2, 2, 2), 3, 0.2)]:
    K = len(sizes)
    Hr = rng.integers(-4, 5, (d, sum(sizes))) / 2
    run = central_path_descent(Hr, sizes, lam_r)
    rr = min(d, K - 1)
    limit = (K - 1 - rr / (1 + lam_r * rr / run.tau)) / (2 * K)
    fact(f"(E) descent, sizes {sizes}, d = {d}, lambda = {lam_r}: the end value is the bound",
         abs(run.objective[-1] - limit) < 1e-9, f"{run.objective[-1]!r} vs {limit!r}")  # fmt: skip

done("mse.central-path")
