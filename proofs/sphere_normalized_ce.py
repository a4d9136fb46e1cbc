"""Normalized features and classifiers with CE: the simplex ETF and its value.

Statement (Yaras, Wang, Zhu, Balzano & Qu 2022, NeurIPS; value derived here, consistent with Lu &
Steinerberger 2020 and Graf et al. 2021). For K >= 2 balanced classes, d >= K - 1, tau > 0:

    min (1/N) sum_{k,i} CE(W h_{k,i} / tau, k)  over  ||w_k|| = 1, ||h_{k,i}|| = 1

equals log(1 + (K-1) exp(-K/((K-1) tau))), attained by a simplex ETF with h_{k,i} = w_k.

Proof: for fixed W the samples' terms are separate, so h_{k,i} = h_k loses nothing. With
s = sum_j w_j and a_k = s - K w_k, Jensen inside each log-sum-exp gives
CE_k >= phi(a_k.h_k / ((K-1) tau)), phi(u) = log(1 + (K-1) e^u) convex increasing; Jensen over k
gives >= phi(sum_k a_k.h_k / (K(K-1) tau)); Cauchy-Schwarz with ||h_k|| = 1 gives
sum_k a_k.h_k >= -sqrt(K sum_k ||a_k||^2) = -sqrt(K (K^3 - K ||s||^2)) >= -K^2. The ETF meets
every step with equality (s = 0, h_k = w_k parallel to -a_k, all ||a_k|| equal), and it is a
Riemannian critical point.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.spherical import normalized_ce_optimum
from ufm.tolerances import FLOAT, relative_deviation

K = sp.Symbol("K", positive=True)
tau = sp.Symbol("tau", positive=True)
u = sp.Symbol("u", real=True)
phi = sp.log(1 + (K - 1) * sp.exp(u))
nonnegative("phi(u) = log(1 + (K-1) e^u) is increasing", sp.diff(phi, u))
nonnegative("phi is convex (Jensen over classes applies)", sp.diff(phi, u, 2))
s2, sw = sp.symbols("s2 sw", real=True)  # ||s||^2 and sum_k s.w_k (= ||s||^2)
identity(
    "sum_k ||s - K w_k||^2 = K||s||^2 - 2K sum_k s.w_k + K^2 sum_k ||w_k||^2 = K^3 - K||s||^2 "
    "for unit w_k (sum_k s.w_k = ||s||^2)",
    (K * s2 - 2 * K * sw + K**2 * K).subs(sw, s2),
    K**3 - K * s2,
)
x = sp.symbols("x0:6", real=True)
fact(
    "Cauchy-Schwarz: K sum_k x_k^2 - (sum_k x_k)^2 = sum_{j<k} (x_j - x_k)^2 >= 0 (K = 2..6), so "
    "sum_k ||a_k|| <= sqrt(K sum_k ||a_k||^2)",
    all(
        sp.expand(k_ * sum(v**2 for v in x[:k_]) - sum(x[:k_]) ** 2
                  - sum((x[i] - x[j]) ** 2 for i in range(k_) for j in range(i + 1, k_))) == 0
        for k_ in range(2, 7)
    ),
)  # fmt: skip
identity(
    "at ||s|| = 0 the bound on sum_k a_k.h_k is -sqrt(K K^3) = -K^2",
    -sp.sqrt(K * K**3),
    -(K**2),
)
bound = phi.subs(u, -(K**2) / (K * (K - 1) * tau))
identity(
    "so CE >= phi(-K/((K-1) tau)) = log(1 + (K-1) exp(-K/((K-1) tau)))",
    bound,
    sp.log(1 + (K - 1) * sp.exp(-K / ((K - 1) * tau))),
)
own, other = 1 / tau, -1 / ((K - 1) * tau)
identity(
    "the ETF (w_j.h_k = 1 if j = k, -1/(K-1) otherwise) attains it (compared through exp)",
    sp.expand(sp.exp(sp.log(sp.exp(own) + (K - 1) * sp.exp(other)) - own)),
    sp.expand(sp.exp(bound)),
)
p_other = sp.exp(other) / (sp.exp(own) + (K - 1) * sp.exp(other))
p_own = sp.exp(own) / (sp.exp(own) + (K - 1) * sp.exp(other))
identity(
    "Riemannian criticality: column k of the logit gradient is p_other (1 - K e_k), since "
    "p_own - 1 = -(K-1) p_other",
    p_own - 1,
    -(K - 1) * p_other,
)
identity(
    "so row j of grad_W = (1/(K tau)) sum_k G_jk h_k = (p_other/(K tau)) (sum_k h_k - K h_j) "
    "= -(p_other/tau) w_j at the ETF (sum_k h_k = 0, h_j = w_j): normal to the sphere, the "
    "tangent part vanishes (likewise for H)",
    (p_other / (K * tau)) * (0 - K),
    -p_other / tau,
)
values = [(2, sp.Rational(1, 2)), (3, 1), (5, sp.Rational(7, 3))]
fact(
    "ufm.spherical.normalized_ce_optimum: the ETF's loss and the chain's bound both equal the "
    "value (K, tau) in {(2, 1/2), (3, 1), (5, 7/3)}",
    all(
        relative_deviation(float(out), float(bound.subs({K: k_, tau: t_}))) <= FLOAT
        for k_, t_ in values
        for out in normalized_ce_optimum(k_, t_).values()
    ),
)
done("Normalized-feature CE (Yaras et al. 2022)")
print("verified")
