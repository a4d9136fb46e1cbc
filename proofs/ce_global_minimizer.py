"""Global minimizers of the regularized cross-entropy UFM (balanced classes).

Statement (Zhu et al. 2021, NeurIPS, "A geometric analysis of neural collapse with unconstrained
features", Thm 3.1; derived here, consistent with it). K >= 2 balanced classes of n samples,
d >= K - 1, lambda_W, lambda_H > 0, bias regularized (lambda_b >= 0), free or absent. Let
kappa = K sqrt(n lambda_W lambda_H). If kappa >= 1 the unique global minimizer is W = 0, H = 0
(value log K). If kappa < 1 the global minimizers are w_k = s u_k, h_{k,i} = t u_k, b = beta 1
(beta = 0 when lambda_b > 0) with u_1..u_K a unit simplex ETF, s^2 = rho x*, t^2 = x*/rho,
rho = sqrt(n lambda_H/lambda_W), x* = ((K-1)/K) log((K - (K-1) kappa)/kappa), and the minimal value
is g(x*) with g(x) = log(1 + (K-1) exp(-K x/(K-1))) + kappa x.

Proof outline: (A) a lower bound valid for every (W, H, b): Jensen twice, Cauchy-Schwarz and AM-GM
reduce f to g(y) for the scalar y = ||W||_F ||H||_F / (K sqrt n); (B) g is convex, so its minimum
is x* or 0 according to g'(0) = kappa - 1; (C) the ETF configuration attains g(x*): every
inequality of (A) is an equality there, and its gradient vanishes (checked for symbolic K with the
P/J algebra).
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.minimizers import KAPPA, PJ, RHO, SYMBOLS, derivation

K, n, lW, lH, x = (SYMBOLS[s] for s in ("K", "n", "lambda_W", "lambda_H", "x"))
u = sp.Symbol("u", real=True)
A, B = sp.symbols("A B", nonnegative=True)  # A = ||W||_F, B = ||H||_F
kappa = sp.Symbol("kappa", positive=True)

# (A) The lower bound.
phi = sp.log(1 + (K - 1) * sp.exp(u))
nonnegative("phi(u) = log(1 + (K-1) e^u) is increasing: phi' >= 0", sp.diff(phi, u))
nonnegative(
    "phi is convex: phi'' >= 0 (Jensen applies to it and, inside it, to exp)", sp.diff(phi, u, 2)
)
identity(
    "CE of a sample of class k: log sum_j e^{z_j - z_k} = log(1 + sum_{j != k} e^{z_j - z_k}); by "
    "Jensen on exp this is >= phi(mean_{j != k}(z_j - z_k)). Bias part of the mean, averaged over "
    "balanced classes, is sum_k sum_{j != k}(b_j - b_k) = 0 (checked for K = 5)",
    sum(sp.Symbol(f"b{j}") - sp.Symbol(f"b{k}") for k in range(5) for j in range(5) if j != k),
    0,
)
identity(
    "sum_{j != k}(w_j - w_k) = K (wbar - w_k), so the averaged margin is -(K/(K-1)) (1/K) sum_k "
    "(w_k - wbar).m_k (checked for K = 4 with symbols)",
    sum(sp.Symbol(f"w{j}") - sp.Symbol("w1") for j in range(4) if j != 1),
    4 * (sum(sp.Symbol(f"w{j}") for j in range(4)) / 4 - sp.Symbol("w1")),
)
identity(
    "Cauchy-Schwarz and ||W - 1 wbar^T|| <= ||W||, ||M||_F <= ||H||_F / sqrt(n) (Jensen on class "
    "means): the averaged margin is >= -A B/((K-1) sqrt n) = -K y/(K-1) with y = A B/(K sqrt n)",
    -A * B / ((K - 1) * sp.sqrt(n)),
    -K / (K - 1) * (A * B / (K * sp.sqrt(n))),
)
identity(
    "AM-GM: lambda_W A^2/2 + lambda_H B^2/2 - sqrt(lambda_W lambda_H) A B "
    "is a square / 2, hence >= 0",
    lW * A**2 / 2 + lH * B**2 / 2 - sp.sqrt(lW * lH) * A * B,
    (sp.sqrt(lW) * A - sp.sqrt(lH) * B) ** 2 / 2,
)
identity(
    "sqrt(lambda_W lambda_H) A B = kappa y, so f >= phi(-K y/(K-1)) + kappa y = g(y) "
    "(phi increasing)",
    sp.sqrt(lW * lH) * A * B,
    KAPPA * (A * B / (K * sp.sqrt(n))),
)

# (B) The scalar problem.
g = sp.log(1 + (K - 1) * sp.exp(-K * x / (K - 1))) + kappa * x
F = derivation("ce", "free")["objective"]
identity(
    "the ETF logits (x for the own class, -x/(K-1) otherwise) give "
    "CE = log(1 + (K-1)e^{-Kx/(K-1)}) (compared through exp, which is injective on the reals)",
    sp.expand(sp.exp(F.subs(KAPPA, kappa) - kappa * x)),
    sp.expand(sp.exp(g - kappa * x)),
)
dg = sp.diff(g, x)
identity(
    "g'(x) = kappa - K/(e^{Kx/(K-1)} + K - 1)", dg, kappa - K / (sp.exp(K * x / (K - 1)) + K - 1)
)
nonnegative(
    "g''(x) >= 0: g is convex (second-order condition along the reduced variable)", sp.diff(g, x, 2)
)
identity(
    "g'(0) = kappa - 1: x = 0 is optimal iff kappa >= 1 (the threshold)", dg.subs(x, 0), kappa - 1
)
x_star = (K - 1) / K * sp.log((K - (K - 1) * kappa) / kappa)
identity(
    "for kappa < 1, g'(x*) = 0 at x* = ((K-1)/K) log((K - (K-1) kappa)/kappa)",
    dg.subs(x, x_star),
    0,
)
regimes = derivation("ce", "free")["regimes"]
interior = next(r for r in regimes if not r.zero)
identity(
    "sympy.solve finds the same root (the one ufm.minimizers uses; "
    "compared through exp(K x/(K-1)))",
    sp.exp(K * interior.solution[x] / (K - 1)),
    sp.exp(K * x_star.subs(kappa, KAPPA) / (K - 1)),
)
nonnegative(
    "g''(x*) > 0: a strict minimum (written as kappa (K - (K-1) kappa)/(K-1) with 0 < kappa < 1)",
    sp.simplify(sp.diff(g, x, 2).subs(x, x_star)).subs(
        kappa, 1 / (1 + sp.Symbol("c", positive=True))
    ),
)
value = sp.log(K / (K - (K - 1) * kappa)) + kappa * x_star
identity(
    "the minimal value g(x*) = log(K/(K - (K-1) kappa)) + kappa x* (through exp(g - kappa x))",
    sp.exp(g - kappa * x).subs(x, x_star),
    sp.exp(value - kappa * x_star),
)
points = [
    {K: k, n: m, lW: sp.Rational(1, 10**a), lH: sp.Rational(3, 10**b)}
    for k, m, a, b in ((2, 1, 2, 3), (3, 7, 3, 3), (5, 2, 4, 2), (10, 50, 5, 4), (12, 3, 6, 6))
]
fact(
    "ufm.minimizers reports this value: agreement to 40 digits at five rational points "
    "with kappa < 1",
    all(
        abs(sp.N((interior.value - value.subs(kappa, KAPPA)).subs(pt), 50)) < sp.Float(10) ** -40
        and sp.N(KAPPA.subs(pt)) < 1
        for pt in points
    ),
    "K, n, lambda_W, lambda_H in "
    "{(2,1,1e-2,3e-3), (3,7,1e-3,3e-3), (5,2,1e-4,3e-2), (10,50,1e-5,3e-4), (12,3,1e-6,3e-6)}",
)
identity("at the zero solution the value is log K", g.subs(x, 0), sp.log(K))

# (C) Attainment: the split, and stationarity of the full objective for symbolic K.
s2, t2 = RHO * x, x / RHO
identity("s t = x for s^2 = rho x, t^2 = x/rho", sp.sqrt(s2 * t2), x)
identity(
    "AM-GM holds with equality: K lambda_W s^2/2 + n K lambda_H t^2/2 = kappa x",
    K * lW * s2 / 2 + n * K * lH * t2 / 2,
    KAPPA * x,
)
q = sp.exp(-x / (K - 1)) / (sp.exp(x) + (K - 1) * sp.exp(-x / (K - 1)))
p_own = sp.exp(x) / (sp.exp(x) + (K - 1) * sp.exp(-x / (K - 1)))
Gbar = (PJ.from_IJ(p_own - q, q) - PJ.from_IJ(1, 0)) * (1 / K)
identity(
    "class-averaged softmax residual (softmax - Y) = -q K P / K: no J part, so grad_b = 0 for any "
    "lambda_b at b = 0 (and for the free bias)",
    Gbar.j,
    0,
)
identity("and its P coefficient is -q", Gbar.p, -q)
s, t = sp.sqrt(s2), sp.sqrt(t2)
identity(
    "grad_W f = (-q t + lambda_W s) U^T vanishes iff q = lambda_W s/t = kappa/K",
    lW * s / t,
    KAPPA / K,
)
identity(
    "grad_h f = (-q s K/N + lambda_H t) u_k vanishes iff q = n lambda_H t/s = kappa/K",
    n * lH * t / s,
    KAPPA / K,
)
identity("and q = kappa/K is exactly g'(x) = 0: kappa - K q = g'(x)", kappa - K * q, dg)
done("Zhu et al. (2021) Thm 3.1, regularized CE UFM")
print("verified")
