"""Global minimizers of the regularized UFM with label-smoothed cross-entropy (balanced classes).

Statement (derived here; consistent with Zhou et al. 2022b, NeurIPS, "Are all losses created equal:
a neural collapse perspective", whose abstract states that the UFM's global minimizers under label
smoothing are NC solutions; the threshold and the scale below were not read in any paper). K >= 2
balanced classes of n samples, d >= K - 1, lambda_W, lambda_H > 0, smoothing alpha in [0, 1), bias
regularized (lambda_b >= 0), free or absent; loss l(z, y) = LSE(z) - q_y^T z with
q_y = (1 - alpha) e_y + (alpha/K) 1. Let kappa = K sqrt(n lambda_W lambda_H). If alpha + kappa >= 1
the unique global minimizer is W = 0, H = 0 (value log K). Otherwise the minimizers are the simplex
ETF configurations of the CE theorem (proofs/ce_global_minimizer.py) with kappa replaced by
alpha + kappa: x* = ((K-1)/K) log((K - (K-1)(alpha + kappa))/(alpha + kappa)); the off-class softmax
probability at the optimum is exactly qbar = (alpha + kappa)/K.

Proof outline: (A) l = CE + alpha (z_y - mean z) = psi(m) with m the mean off-class margin and psi
convex, so Jensen over the samples and the Cauchy-Schwarz + AM-GM bounds of the CE proof give
f >= h(u) + kappa y with u <= y = ||W|| ||H||/(K sqrt n); h decreases for u <= 0, so
f >= min_{u >= 0} g(u), g(u) = log(1 + (K-1) e^{-K u/(K-1)}) + (alpha + kappa) u: the CE scalar
problem with kappa -> alpha + kappa. (B) g is convex with g'(0) = alpha + kappa - 1. (C) The ETF
attains g(x*), and it is a stationary point of the full objective.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.minimizers import KAPPA, PJ, SYMBOLS, derivation

K, n, lW, lH, x = (SYMBOLS[s] for s in ("K", "n", "lambda_W", "lambda_H", "x"))
alpha = SYMBOLS["smoothing"]
u = sp.Symbol("u", real=True)
kappa = sp.Symbol("kappa", positive=True)

# (A) The loss as a convex function of the mean off-class margin.
z = sp.symbols("z0:4", real=True)
lse = sp.log(sum(sp.exp(v) for v in z))
q = [(1 - alpha) * (1 if j == 0 else 0) + alpha / 4 for j in range(4)]
identity(
    "LSE(z) - q_y^T z = CE(z, y) + alpha (z_y - mean z) (K = 4, class y = 0, symbolic logits)",
    lse - sum(qj * zj for qj, zj in zip(q, z, strict=True)),
    (lse - z[0]) + alpha * (z[0] - sum(z) / 4),
)
m = sum(z[j] - z[0] for j in range(1, 4)) / 3
identity(
    "z_y - mean z = -((K-1)/K) m, m = mean_{j != y}(z_j - z_y) the mean off-class margin (K = 4)",
    z[0] - sum(z) / 4,
    -sp.Rational(3, 4) * m,
)
phi = sp.log(1 + (K - 1) * sp.exp(u))
psi = phi - alpha * (K - 1) / K * u
nonnegative(
    "psi(m) = phi(m) - alpha (K-1) m / K is convex (phi'' >= 0): Jensen bounds the sample mean of "
    "l >= CE-Jensen bound by psi of the mean margin, whose bias part averages to 0 (balanced)",
    sp.diff(psi, u, 2),
)
h = psi.subs(u, -K * u / (K - 1))
s_ = sp.Symbol("s", nonnegative=True)
e_ = 1 + s_
identity(
    "h(u) = psi(-K u/(K-1)) = log(1 + (K-1) e^{-K u/(K-1)}) + alpha u",
    h,
    sp.log(1 + (K - 1) * sp.exp(-K * u / (K - 1))) + alpha * u,
)
nonnegative(
    "for u <= 0 (so e = e^{-K u/(K-1)} = 1 + s >= 1), 1 - alpha - h'(u) = (e - 1)/(1 + (K-1) e) "
    ">= 0: h'(u) <= alpha - 1 < 0, h decreases there, so h(u) >= h(0) = log K",
    (e_ - 1) / (1 + (K - 1) * e_),
)
identity(
    "the identity behind that step: h'(u) = alpha - K e/(1 + (K-1) e) at e = e^{-K u/(K-1)}",
    sp.diff(h, u),
    alpha - K * sp.exp(-K * u / (K - 1)) / (1 + (K - 1) * sp.exp(-K * u / (K - 1))),
)
identity(
    "with u <= y and kappa y >= kappa u for u >= 0 (AM-GM and Cauchy-Schwarz as in the CE proof): "
    "f >= min_{u >= 0} g(u), g(u) = h(u) + kappa u",
    h + kappa * u,
    sp.log(1 + (K - 1) * sp.exp(-K * u / (K - 1))) + (alpha + kappa) * u,
)

# (B) The scalar problem: the CE problem with kappa -> alpha + kappa.
g = sp.log(1 + (K - 1) * sp.exp(-K * x / (K - 1))) + (alpha + kappa) * x
F = derivation("ce-ls", "free")["objective"]
identity(
    "ufm.minimizers' reduced objective (ETF logits x, -x/(K-1)) is g (compared through exp)",
    sp.expand(sp.exp(F.subs(KAPPA, kappa) - (alpha + kappa) * x)),
    sp.expand(sp.exp(g - (alpha + kappa) * x)),
)
dg = sp.diff(g, x)
nonnegative("g''(x) >= 0: g is convex", sp.diff(g, x, 2))
identity(
    "g'(0) = alpha + kappa - 1: W = H = 0 is optimal iff alpha + kappa >= 1",
    dg.subs(x, 0),
    alpha + kappa - 1,
)
a = alpha + kappa
x_star = (K - 1) / K * sp.log((K - (K - 1) * a) / a)
identity("for alpha + kappa < 1, g'(x*) = 0", dg.subs(x, x_star), 0)
regimes = derivation("ce-ls", "free")["regimes"]
interior = next(r for r in regimes if not r.zero)
identity(
    "sympy.solve finds the same root (the one ufm.minimizers uses; through exp(K x/(K-1)))",
    sp.exp(K * interior.solution[x] / (K - 1)),
    sp.exp(K * x_star.subs(kappa, KAPPA) / (K - 1)),
)
zero = next(r for r in regimes if r.zero)
identity(
    "and its zero-solution condition is alpha + kappa - 1 >= 0",
    zero.conditions[0],
    alpha + KAPPA - 1,
)
c_star = K * x_star / (K - 1)
qbar = sp.exp(-c_star) / (1 + (K - 1) * sp.exp(-c_star))
identity(
    "the off-class softmax probability at the optimum is qbar = (alpha + kappa)/K", qbar, a / K
)
identity(
    "alpha = 0 gives the cross-entropy root of proofs/ce_global_minimizer.py",
    x_star.subs(alpha, 0),
    (K - 1) / K * sp.log((K - (K - 1) * kappa) / kappa),
)

# (C) Attainment: stationarity of the full objective at the ETF (symbolic K, P/J algebra).
p_other = sp.exp(-x / (K - 1)) / (sp.exp(x) + (K - 1) * sp.exp(-x / (K - 1)))
p_own = sp.exp(x) / (sp.exp(x) + (K - 1) * sp.exp(-x / (K - 1)))
Gbar = (PJ.from_IJ(p_own - p_other, p_other) - PJ.from_IJ(1 - alpha, alpha / K)) * (1 / K)
identity(
    "class-averaged residual softmax - q has no J part: grad_b = 0 at b = 0 for every bias mode",
    sp.simplify(Gbar.j),
    0,
)
identity(
    "its P coefficient is (alpha - K p_other)/K, so grad_W = grad_H = 0 iff p_other = "
    "(alpha + kappa)/K (the balance conditions of the CE proof give the kappa/K)",
    sp.simplify(Gbar.p - (alpha - K * p_other) / K),
    0,
)
value = (
    -(1 - alpha + alpha / K) * sp.log(1 / (1 + (K - 1) * sp.exp(-c_star)))
    - (K - 1) * alpha / K * sp.log(sp.exp(-c_star) / (1 + (K - 1) * sp.exp(-c_star)))
    + kappa * x_star
)
points = [
    {K: k, n: m_, lW: sp.Rational(1, 10**a_), lH: sp.Rational(3, 10**b_), alpha: al}
    for k, m_, a_, b_, al in (
        (2, 1, 2, 3, sp.Rational(1, 10)),
        (3, 7, 3, 3, sp.Rational(1, 2)),
        (5, 2, 4, 2, sp.Rational(3, 10)),
        (10, 50, 5, 4, sp.Rational(9, 10)),
    )
]
fact(
    "ufm.minimizers' value equals -(1-alpha+alpha/K) log p_own - (K-1)(alpha/K) log p_other "
    "+ kappa x* to 40 digits at four rational points with alpha + kappa < 1",
    all(
        abs(sp.N((interior.value - value.subs(kappa, KAPPA)).subs(pt), 50)) < sp.Float(10) ** -40
        and sp.N((alpha + KAPPA).subs(pt)) < 1
        for pt in points
    ),
    "(K, n, lambda_W, lambda_H, alpha) in {(2,1,1e-2,3e-3,.1), (3,7,1e-3,3e-3,.5), "
    "(5,2,1e-4,3e-2,.3), (10,50,1e-5,3e-4,.9)}",
)
identity("at the zero solution the value is log K", g.subs(x, 0), sp.log(K))
done("label-smoothed CE UFM: ETF below alpha + kappa = 1, zero solution above")
print("verified")
