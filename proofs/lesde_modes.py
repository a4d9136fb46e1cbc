"""Modes of the linear locally elastic drift (I and L models) and the L model's boundary.

Model (the authors' code zjiayao/le_sde, src/utils.py fwd_euler and src/data_analyzer.py
estimate_AB_I / estimate_AB_L; per-sample SDE derived here, see ufm/dynamics/_lesde_model.py):
balanced class means obey dm_c/dt = (1/K) sum_c' E_cc' Pi_c' m_c' with E = (alpha - beta) I + beta
11^T; I model Pi = I, L model Pi_c = u_c u_c^T / |u_c|^2, u_c = e_c - 1/K.

Steps: (1) I model: E has eigenvalue alpha + (K-1) beta on 1 and alpha - beta on 1-perp, so the
common mode grows at (alpha + (K-1) beta)/K and every contrast at (alpha - beta)/K; (2) L model:
the coefficients s_c = u_c^T m_c/|u_c|^2 obey a closed K x K system; (3) its simplex mode s = 1 has
rate (alpha - beta)/K, its zero-sum modes (alpha + beta/(K-1))/K; (4) the whole L generator has no
other non-zero rate; (5) boundary: the centred means grow iff max(alpha - beta, alpha + beta/(K-1))
> 0; with beta > 0 this holds for alpha in (-beta/(K-1), beta), where alpha < beta; (6) when the
simplex mode dominates (beta < 0 < alpha - beta) the means align with u_c, a simplex ETF.
Run: ``python proofs/lesde_modes.py`` (prints each step and "verified").
"""

import sympy as sp
from _steps import done, fact, identity

alpha, beta = sp.symbols("alpha beta", real=True)
ones = {K: sp.ones(K, 1) for K in (3, 4)}

# (1) I model
for K in (3, 4):
    E = (alpha - beta) * sp.eye(K) + beta * sp.ones(K, K)
    identity(
        f"(1) K={K}: E 1 = (alpha + (K-1) beta) 1", E * ones[K], (alpha + (K - 1) * beta) * ones[K]
    )
    v = sp.Matrix([1, -1] + [0] * (K - 2))
    identity(
        f"(1) K={K}: E v = (alpha - beta) v for v = e_0 - e_1 (spans 1-perp with its permutations)",
        E * v,
        (alpha - beta) * v,
    )


def l_drift(K, M):
    """(1/K) sum_c' E_cc' Pi_c' m_c' for class means M (K x K, features = logits)."""
    E = (alpha - beta) * sp.eye(K) + beta * sp.ones(K, K)
    u = [sp.eye(K)[:, c] - sp.ones(K, 1) / K for c in range(K)]
    Pi = [u[c] * u[c].T / (u[c].T * u[c])[0] for c in range(K)]
    return sp.Matrix.hstack(*[
        sum((E[c, e] * Pi[e] * M[:, e] for e in range(K)), sp.zeros(K, 1)) / K for c in range(K)
    ]), u  # fmt: skip


# (2)-(3) L model, coefficient system
for K in (3, 4):
    s = sp.Matrix(sp.symbols(f"s0:{K}", real=True))
    _, u = l_drift(K, sp.zeros(K, K))
    M = sp.Matrix.hstack(*[s[c] * u[c] for c in range(K)])
    D, _ = l_drift(K, M)
    coeff = sp.Matrix([(u[c].T * D[:, c])[0] / (u[c].T * u[c])[0] for c in range(K)])
    S = sp.Matrix(
        K, K, lambda c, e, K=K: (alpha - beta) * int(c == e)
        + beta * sp.Rational(K * int(c == e) - 1, K - 1)
    ) / K  # fmt: skip
    identity(
        f"(2) K={K}: ds/dt = S s with S = [(alpha - beta) I + beta (K I - 11^T)/(K-1)]/K",
        coeff,
        S * s,
    )
    identity(
        f"(3) K={K}: simplex mode S 1 = (alpha - beta)/K 1",
        S * ones[K],
        (alpha - beta) / K * ones[K],
    )
    z = sp.Matrix([1, -1] + [0] * (K - 2))
    identity(
        f"(3) K={K}: zero-sum mode S z = (alpha + beta/(K-1))/K z",
        S * z,
        (alpha + beta / (K - 1)) / K * z,
    )

# (4) the full L generator on vec(M) (K = 3: 9 x 9) has rates {(a-b)/K, (a + b/(K-1))/K x2, 0 x6}
K = 3
cols = []
for i in range(K * K):
    M = sp.zeros(K, K)
    M[i] = 1
    cols.append(sp.Matrix(l_drift(K, M)[0]).reshape(K * K, 1))
G = sp.Matrix.hstack(*cols)
lam = sp.Symbol("lam")
charpoly = sp.factor(G.charpoly(lam).as_expr())
want = lam**6 * (lam - (alpha - beta) / K) * (lam - (alpha + beta / (K - 1)) / K) ** 2
identity(
    "(4) K=3: det(lam I - G) = lam^6 (lam - (alpha-beta)/3)(lam - (alpha + beta/2)/3)^2",
    charpoly,
    want,
)

# (5) boundary
eps, b = sp.symbols("epsilon b", positive=True)
for K in (3, 4):
    a = -b / (K - 1) + eps
    identity(
        f"(5) K={K}: at alpha = -beta/(K-1) + eps the zero-sum rate is eps/K",
        (a + b / (K - 1)) / K,
        eps / K,
    )
    fact(
        f"(5) K={K}: there alpha - beta = -beta K/(K-1) + eps < 0 for eps < beta K/(K-1)",
        sp.simplify((a - b).subs(eps, b * K / (K - 1) / 2)).is_negative is True,
    )

# (6) ETF when the simplex mode dominates
for K in (3, 4):
    U = sp.Matrix.hstack(*[sp.eye(K)[:, c] - sp.ones(K, 1) / K for c in range(K)])
    identity(
        f"(6) K={K}: Gram of u_c = I - 11^T/K (a simplex ETF up to scale)",
        U.T * U,
        sp.eye(K) - sp.ones(K, K) / K,
    )
done("LE-SDE modes and the L boundary")
print("verified")
