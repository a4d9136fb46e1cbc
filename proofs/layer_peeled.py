"""The balanced norm-constrained layer-peeled model with CE: optimal value and ETF solution.

Statement (Fang, He, Long & Su 2021, PNAS, balanced case; Lu & Steinerberger 2020; Graf et al.
2021; derived here, consistent with them). For K >= 2 balanced classes, d >= K - 1, E_W, E_H > 0:

    min (1/N) sum_{k,i} CE(W h_{k,i}, k)  s.t.  (1/K) sum_k ||w_k||^2 <= E_W,
                                                  (1/K) sum_k (1/n) sum_i ||h_{k,i}||^2 <= E_H

equals log(1 + (K-1) exp(-K sqrt(E_W E_H)/(K-1))), attained by a simplex ETF with
||w_k|| = sqrt(E_W) and h_{k,i} = sqrt(E_H) w_k/||w_k||.

Proof: the Jensen steps of proofs/ce_global_minimizer.py give
CE >= phi(-(1/(K-1)) sum_k (w_k - wbar).m_k) with phi increasing; Cauchy-Schwarz and the constraints
bound sum_k (w_k - wbar).m_k <= K sqrt(E_W E_H); the ETF meets every inequality with equality.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.minimizers import SYMBOLS, layer_peeled_optimum
from ufm.tolerances import FLOAT, relative_deviation

K, E_W, E_H = (SYMBOLS[s] for s in ("K", "E_W", "E_H"))
u = sp.Symbol("u", real=True)
phi = sp.log(1 + (K - 1) * sp.exp(u))
nonnegative("phi(u) = log(1 + (K-1) e^u) is increasing", sp.diff(phi, u))
nonnegative("phi is convex (Jensen over samples applies)", sp.diff(phi, u, 2))
a, b = sp.symbols("a b", nonnegative=True)  # a = sqrt(sum ||w_k||^2), b = sqrt(sum ||m_k||^2)
identity(
    "constraints: sum ||w_k||^2 <= K E_W and sum ||m_k||^2 <= K E_H, so by Cauchy-Schwarz "
    "sum (w_k - wbar).m_k <= a b <= sqrt(K E_W) sqrt(K E_H) = K sqrt(E_W E_H)",
    sp.sqrt(K * E_W) * sp.sqrt(K * E_H),
    K * sp.sqrt(E_W * E_H),
)
margin = -K * sp.sqrt(E_W * E_H) / (K - 1)
identity(
    "the averaged margin is >= -(1/(K-1)) K sqrt(E_W E_H), hence CE >= phi(-K sqrt(E_W E_H)/(K-1))",
    -(1 / (K - 1)) * K * sp.sqrt(E_W * E_H),
    margin,
)
s, t = sp.sqrt(E_W), sp.sqrt(E_H)
own, other = s * t, -s * t / (K - 1)
identity(
    "ETF with ||w_k|| = sqrt(E_W), ||h|| = sqrt(E_H): logits s t and -s t/(K-1) give exactly "
    "this CE (compared through exp)",
    sp.expand(sp.exp(sp.log(sp.exp(own) + (K - 1) * sp.exp(other)) - own)),
    sp.expand(sp.exp(phi.subs(u, margin))),
)
identity("the ETF meets the W budget: (1/K) K s^2 = E_W", s**2, E_W)
identity("and the H budget: (1/K) K t^2 = E_H", t**2, E_H)
values = [(K_, ew, eh) for K_ in (2, 3, 7) for ew, eh in ((1, 1), (sp.Rational(1, 2), 3))]
fact(
    "ufm.minimizers.layer_peeled_optimum reports this value (K in {2, 3, 7}, (E_W, E_H) in "
    "{(1, 1), (1/2, 3)})",
    all(
        relative_deviation(
            layer_peeled_optimum(K_, float(ew), float(eh)).objective,
            float(phi.subs(u, margin).subs({K: K_, E_W: ew, E_H: eh})),
        )
        <= FLOAT
        for K_, ew, eh in values
    ),
)
done("Layer-peeled model, balanced CE (Fang et al. 2021)")
print("verified")
