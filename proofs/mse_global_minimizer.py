"""Global minimizers of the regularized MSE UFM (balanced classes): no, free and regularized bias.

Statement (Tirer & Bruna 2022, ICML; Zhou et al. 2022, ICML; derived here, consistent with them;
the regularized-bias case is derived here). K >= 2 balanced classes of n samples,
lambda_W, lambda_H > 0, kappa = K sqrt(n lambda_W lambda_H). Every global minimizer has collapsed
features and class logits W M = alpha P + gamma J, b = beta 1 with

* no bias (d >= K): alpha = K gamma = (1 - kappa)_+ (W M = (1-kappa)_+ I, orthogonal frame), value
  kappa - kappa^2/2 (1/2 if kappa >= 1);
* free bias (d >= K - 1): alpha = (1 - kappa)_+, gamma = 0, beta = 1/K (simplex ETF), value
  (K-1)/K (kappa - kappa^2/2);
* regularized bias: alpha = (1 - kappa)_+; gamma = 0, beta = 1/(K(1 + lambda_b)) if
  kappa >= lambda_b/(1 + lambda_b), else beta = kappa/(K lambda_b),
  gamma = (1-kappa)/K - kappa/(K lambda_b).

W = 0, H = 0 iff kappa >= 1 in all three.

Proof outline: (A) lambda_W/2 ||W||^2 + lambda_H/2 ||H||^2 >= sqrt(lambda_W lambda_H) ||W H||_*,
with equality for a balanced factorization, turns the problem into a convex one in Z = W H (and b)
whose minimizer, by the symmetry of balanced classes and convexity, may be averaged into the form
Z = (alpha P + gamma J) Y, b = beta 1; (B) on that form the objective is an explicit convex
function F(alpha, gamma, beta) (computed with the P/J algebra for symbolic K); (C) its KKT
conditions, solved by sympy, give the regimes above.
"""

import sympy as sp
from _steps import done, identity, nonnegative

from ufm.minimizers import KAPPA, PJ, SYMBOLS, derivation

K, n, lW, lH, lb = (SYMBOLS[s] for s in ("K", "n", "lambda_W", "lambda_H", "lambda_b"))
alpha, gamma, beta = (SYMBOLS[s] for s in ("alpha", "gamma", "beta"))
A, B = sp.symbols("A B", nonnegative=True)

# (A) The nuclear-norm reduction.
identity(
    "AM-GM: lambda_W A^2/2 + lambda_H B^2/2 - sqrt(lambda_W lambda_H) A B is a square / 2; with "
    "||W H||_* <= ||W||_F ||H||_F this gives the nuclear-norm lower bound",
    lW * A**2 / 2 + lH * B**2 / 2 - sp.sqrt(lW * lH) * A * B,
    (sp.sqrt(lW) * A - sp.sqrt(lH) * B) ** 2 / 2,
)
rho = sp.sqrt(n * lH / lW)
sigma = sp.Symbol("sigma", positive=True)
identity(
    "equality for W = rho^{1/2} F, M = rho^{-1/2} F^T (F F^T = Zbar, eigenvalue sigma): "
    "lambda_W/2 rho sigma + n lambda_H/2 sigma/rho = sqrt(n lambda_W lambda_H) sigma",
    lW / 2 * rho * sigma + n * lH / 2 * sigma / rho,
    sp.sqrt(n * lW * lH) * sigma,
)
Y4 = sp.Matrix(4, 8, lambda k, i: 1 if i // 2 == k else 0)
identity(
    "Y Y^T = n I (checked for K = 4, n = 2): singular values of Y are sqrt(n)",
    Y4 * Y4.T,
    2 * sp.eye(4),
)
identity(
    "1_K 1_N^T = J Y and I = P + J/K (K = 4, n = 2), so every symmetric point is "
    "(alpha P + gamma J) Y + beta 1 1^T",
    sp.ones(4, 8),
    sp.ones(4, 4) * Y4,
)

# (B) The reduced objective.
logit = PJ(alpha, gamma)
residual = logit + PJ(0, beta) - PJ.from_IJ(1, 0)
data = residual.frobenius_sq() / (2 * K)
identity(
    "data term (1/(2N))||(Zbar + beta J - I) Y||^2 = (1/(2K))||Zbar + beta J - I||_F^2 = "
    "(K-1)/(2K)(alpha-1)^2 + K/2 (gamma + beta - 1/K)^2",
    data,
    (K - 1) / (2 * K) * (alpha - 1) ** 2 + K / 2 * (gamma + beta - 1 / K) ** 2,
)
Zbar = logit.matrix(4) + beta * sp.ones(4, 4) - sp.eye(4)
identity(
    "the same on explicit 4 x 4 matrices",
    (Zbar * Y4).norm() ** 2 / (2 * 8),
    data.subs(K, 4),
)
identity(
    "regularizer sqrt(lambda_W lambda_H)||Zbar Y||_* = "
    "sqrt(n lambda_W lambda_H)(alpha (K-1) + gamma K) = kappa/K ||Zbar||_*",
    sp.sqrt(lW * lH) * sp.sqrt(n) * logit.nuclear(),
    KAPPA / K * logit.nuclear(),
)

# (C) The KKT regimes, for each bias mode, as ufm.minimizers derives them.
kappa = sp.Symbol("kappa", positive=True)


def regime(bias, zero):
    return next(r for r in derivation("mse", bias)["regimes"] if set(r.zero) == set(zero))


none = regime("none", ())
identity("no bias, kappa < 1: alpha = 1 - kappa", none.solution[alpha], 1 - KAPPA)
identity(
    "no bias: K gamma = 1 - kappa, so W M = (1 - kappa) I (orthogonal frame)",
    K * none.solution[gamma],
    1 - KAPPA,
)
identity("no bias: value kappa - kappa^2/2", none.value, KAPPA - KAPPA**2 / 2)
zero = regime("none", ("alpha", "gamma"))
identity(
    "no bias, zero solution: the multiplier of alpha is (K-1)/K (kappa - 1) (>= 0 iff kappa >= 1)",
    zero.conditions[0],
    (K - 1) / K * (KAPPA - 1),
)
identity("no bias: value 1/2 past the threshold", zero.value, sp.Rational(1, 2))

free = regime("free", ("gamma",))
identity("free bias: beta = 1/K", free.solution[beta], 1 / K)
identity(
    "free bias: alpha = 1 - kappa, gamma = 0 (W M = (1-kappa) P: simplex ETF)",
    free.solution[alpha],
    1 - KAPPA,
)
identity(
    "free bias: the multiplier of gamma is kappa > 0, so gamma = 0 always",
    free.conditions[-1],
    KAPPA,
)
identity(
    "free bias: value (K-1)/K (kappa - kappa^2/2)", free.value, (K - 1) / K * (KAPPA - KAPPA**2 / 2)
)

reg_mean = regime("regularized", ())
reg_plain = regime("regularized", ("gamma",))
identity(
    "regularized bias, gamma = 0: beta = 1/(K(1 + lambda_b))",
    reg_plain.solution[beta],
    1 / (K * (1 + lb)),
)
identity(
    "its gamma multiplier is kappa - lambda_b/(1 + lambda_b): "
    "gamma = 0 iff kappa >= lambda_b/(1 + lambda_b)",
    reg_plain.conditions[-1],
    KAPPA - lb / (1 + lb),
)
identity("otherwise beta = kappa/(K lambda_b)", reg_mean.solution[beta], KAPPA / (K * lb))
identity(
    "and gamma = (1 - kappa)/K - kappa/(K lambda_b)",
    reg_mean.solution[gamma],
    (1 - KAPPA) / K - KAPPA / (K * lb),
)
F = derivation("mse", "regularized")["objective"]
hessian = sp.hessian(F, (alpha, gamma, beta))
for k in range(1, 4):
    nonnegative(
        f"F is convex: leading principal minor {k} of its Hessian is >= 0 (KKT is sufficient)",
        hessian[:k, :k].det(),
    )
done("Regularized MSE UFM (Tirer & Bruna 2022; Zhou et al. 2022)")
print("verified")
