"""The linearized locally elastic ODE (LE-ODE) and its closed-form solution, derived in sympy.

Model (ufm.dynamics._lesde, after Zhang, Wang & Su 2021, NeurIPS): features x_i in R^K are the
logits (d = K, W0 = I), E = (alpha - beta) I + beta 11^T, and at zero noise

    dx_i/dt = (1/N) sum_j E_{y_i y_j} (e_{y_j} - softmax(x_j)).

Steps: (1) linearize softmax at 0; (2) the drift depends on i only through y_i, so class means obey
a closed linear ODE; (3) for balanced classes it decouples along 1 and the simplex directions
e_k - 1/K; (4) solve in closed form and verify by substitution; (5) read off the phase transition.
Run: ``python proofs/le_ode.py`` (prints each step and "verified").
"""

import sympy as sp

K = 3  # a concrete K keeps the printout short; set K = 4 or 5 to re-run every step
alpha, beta, t, c0 = sp.symbols("alpha beta t c0", real=True)
z = sp.Matrix(sp.symbols(f"z0:{K}", real=True))

# (1) softmax(z) = 1/K + P z / K + O(|z|^2), P = I - 11^T/K
softmax = sp.Matrix([sp.exp(z[k]) / sum(sp.exp(z[j]) for j in range(K)) for k in range(K)])
jac = softmax.jacobian(z).subs({zi: 0 for zi in z})
P = sp.eye(K) - sp.ones(K, K) / K
assert sp.simplify(softmax.subs({zi: 0 for zi in z}) - sp.ones(K, 1) / K) == sp.zeros(K, 1)
assert sp.simplify(jac - P / K) == sp.zeros(K, K)
print("(1) softmax(z) = 1/K + (I - 11^T/K) z / K + O(|z|^2)")

# (2) with n samples per class, (1/N) sum_j E_{k y_j} g_j = (1/K) sum_k' E_{kk'} gbar_k' where
# gbar_k' is the class-k' mean of g_j = e_k' - 1/K - P x_j / K, which is linear:
# gbar_k' = e_k' - 1/K - P m_k' / K.
E = (alpha - beta) * sp.eye(K) + beta * sp.ones(K, K)
m = [sp.Matrix(sp.symbols(f"m{k}_0:{K}", real=True)) for k in range(K)]
e = [sp.eye(K)[:, k] for k in range(K)]
gbar = [e[k] - sp.ones(K, 1) / K - P * m[k] / K for k in range(K)]
rhs = [sum((E[k, kp] * gbar[kp] for kp in range(K)), sp.zeros(K, 1)) / K for k in range(K)]
print("(2) dm_k/dt = (1/K) sum_k' E_kk' [(e_k' - 1/K) - P m_k'/K]")

# (3) ansatz m_k(t) = c(t) (e_k - 1/K) (simplex directions): the ODE closes on c(t)
c = sp.Function("c")
ansatz = [c(t) * (e[k] - sp.ones(K, 1) / K) for k in range(K)]
subs = {s: v for k in range(K) for s, v in zip(m[k], ansatz[k], strict=True)}
reduced = [sp.simplify(rhs[k].subs(subs)) for k in range(K)]
rate = (alpha - beta) / K
ode = sp.Eq(c(t).diff(t), rate * (1 - c(t) / K))
for k in range(K):
    assert sp.simplify(reduced[k] - ode.rhs * (e[k] - sp.ones(K, 1) / K)) == sp.zeros(K, 1)
print("(3) m_k = c(t)(e_k - 1/K) with dc/dt = (alpha - beta)/K * (1 - c/K)")

# (4) closed form, verified by substitution
solution = K + (c0 - K) * sp.exp(-(alpha - beta) * t / K**2)
assert sp.simplify(solution.diff(t) - ode.rhs.subs(c(t), solution)) == 0
assert sp.simplify(solution.subs(t, 0) - c0) == 0
print("(4) c(t) = K + (c(0) - K) exp(-(alpha - beta) t / K^2)")

# (5) from c(0) = 0: alpha > beta gives c(t) -> K > 0 (own logit largest: correctly classified);
# alpha < beta gives c(t) = -K (exp((beta - alpha) t / K^2) - 1) < 0 (own logit smallest: reversed).
c_from_0 = solution.subs(c0, 0)
assert sp.limit(c_from_0.subs({alpha: 2, beta: 1}), t, sp.oo) == K
assert sp.limit(c_from_0.subs({alpha: 1, beta: 2}), t, sp.oo) == -sp.oo
assert sp.simplify(c_from_0.diff(t).subs(t, 0) - (alpha - beta) / K) == 0
print("(5) c(0) = 0: c'(0) = (alpha - beta)/K, so sign(alpha - beta) decides separability")
print("verified")
