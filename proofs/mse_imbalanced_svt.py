"""Global minimizer of the regularized MSE UFM with any class sizes: singular-value soft threshold.

Statement (derived here; consistent with Liu 2024, arXiv 2411.17278, and Dang et al. 2023, ICML).
K >= 2 classes of sizes n_1..n_K, N = sum n_k, D = diag(n), lambda_W, lambda_H > 0, objective
1/(2N) ||W H + b 1^T - Y||^2 + lambda_W/2 ||W||^2 + lambda_H/2 ||H||^2 with b free (d >= K - 1) or
b = 0 (d >= K). Let Yhat = (I - n 1^T/N) D^{1/2} (free bias) or D^{1/2} (no bias), SVD
Yhat = U diag(sigma) V^T, t = N sqrt(lambda_W lambda_H). Then every global minimizer is collapsed
with class logits Zbar D^{1/2} = U diag((sigma - t)_+) V^T, b = (n - Zbar n)/N (free bias), value

    f* = 1/(2N) sum_i min(sigma_i, t)^2 + sqrt(lambda_W lambda_H) sum_i (sigma_i - t)_+ .

Without bias Zbar = diag((1 - N sqrt(lambda_W lambda_H / n_k))_+): class k is zeroed iff
n_k <= N^2 lambda_W lambda_H.

Proof outline: (A) the nuclear-norm bound (proofs/mse_global_minimizer.py, step 1) turns the
problem into min over Z (K x N), b of 1/(2N)||Z + b 1^T - Y||^2 + sqrt(lambda_W lambda_H) ||Z||_*;
replacing Z by its class average Z Y^T D^{-1} Y (a right multiplication by an orthogonal
projector) lowers both
terms, so Z = Zbar Y; (B) in A = Zbar D^{1/2} the data term is 1/(2N)||A - D^{1/2} + b s^T||^2,
s = D^{1/2} 1; minimizing over b leaves 1/(2N)||A Pi - Yhat||^2 with Pi = I - s s^T/N, and
||A Pi||_* <= ||A||_* lets A = A Pi; (C) the proximal problem of the nuclear norm is solved by soft
thresholding (von Neumann's trace inequality reduces it to the singular values, then a scalar
problem); (D) the balanced factorization attains the bound.
"""

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm import Problem
from ufm.minimizers import global_minimizer

lW, lH = sp.symbols("lambda_W lambda_H", positive=True)
c = sp.sqrt(lW * lH)

# (A)-(B) on explicit class sizes (3, 2, 1), with symbolic logits and bias.
sizes = (3, 2, 1)
K, N = len(sizes), sum(sizes)
Y = sp.Matrix(K, N, lambda k, i: 1 if sum(sizes[:k]) <= i < sum(sizes[: k + 1]) else 0)
Zbar = sp.Matrix(K, K, lambda i, j: sp.Symbol(f"z{i}{j}", real=True))
b = sp.Matrix(sp.symbols(f"b0:{K}", real=True))
D_half = sp.diag(*[sp.sqrt(m) for m in sizes])
n_vec = sp.Matrix(sizes)
s_vec = D_half * sp.ones(K, 1)
identity("Y Y^T = D (n = (3, 2, 1))", Y * Y.T, sp.diag(*sizes))
identity(
    "||Zbar Y + b 1^T - Y||^2 = ||(Zbar - I + b 1^T) D^(1/2)||_F^2: "
    "the data term in A = Zbar D^(1/2)",
    (Zbar * Y + b * sp.ones(1, N) - Y).norm() ** 2,
    ((Zbar - sp.eye(K) + b * sp.ones(1, K)) * D_half).norm() ** 2,
)
A = Zbar * D_half
R = A - D_half
b_star = -R * s_vec / N
identity(
    "the data term's gradient in b vanishes at b* = (D^(1/2) - A) s / N = (n - Zbar n)/N",
    sp.Matrix([sp.diff((R + b * s_vec.T).norm() ** 2, bk) for bk in b]).subs(
        dict(zip(b, b_star, strict=True))
    ),
    sp.zeros(K, 1),
)
identity("b* = (n - Zbar n)/N", b_star, (n_vec - Zbar * n_vec) / N)
Pi = sp.eye(K) - s_vec * s_vec.T / N
identity("the residual at b* is (A - D^(1/2)) Pi", R + b_star * s_vec.T, R * Pi)
Yhat = (sp.eye(K) - n_vec * sp.ones(1, K) / N) * D_half
identity("D^(1/2) Pi = (I - n 1^T/N) D^(1/2) = Yhat", D_half * Pi, Yhat)
identity("Yhat s = 0: Yhat = Yhat Pi", Yhat * Pi, Yhat)
identity(
    "Yhat Yhat^T = D - n n^T/N (rational: its eigenvalues are the sigma_i^2)",
    Yhat * Yhat.T,
    sp.diag(*sizes) - n_vec * n_vec.T / N,
)
rng = np.random.default_rng(0)
P_num = np.array(Pi.evalf(), dtype=float)
contracts = all(
    np.linalg.norm(X @ P_num, "nuc") <= np.linalg.norm(X, "nuc") + 1e-12
    for X in rng.normal(size=(200, K, K))
)
fact(
    "||A Pi||_* <= ||A||_* (sigma_i(A Pi) <= sigma_i(A) ||Pi||_2, Pi an orthogonal projector; "
    "200 random A): the optimal A satisfies A = A Pi, so f = 1/(2N)||A - Yhat||^2 + c||A||_*",
    contracts,
)

# (C) Proximal map of the nuclear norm: per singular value, min_s 1/(2N)(s - sigma)^2 + c s, s >= 0.
s, sigma, t = sp.symbols("s sigma t", nonnegative=True)
g = (s - sigma) ** 2 / (2 * N) + c * s
identity(
    "stationary point s = sigma - N sqrt(lambda_W lambda_H) = sigma - t",
    sp.solve(sp.diff(g, s), s)[0],
    sigma - N * c,
)
identity(
    "at s = 0 the derivative is c - sigma/N = (t - sigma)/N: s = 0 optimal iff sigma <= t",
    sp.diff(g, s).subs(s, 0),
    (N * c - sigma) / N,
)
identity(
    "value for sigma > t: t^2/(2N) + c (sigma - t) (= min(sigma,t)^2/(2N) + c (sigma - t)_+)",
    g.subs(s, sigma - N * c),
    (N * c) ** 2 / (2 * N) + c * (sigma - N * c),
)
identity("value for sigma <= t: sigma^2/(2N)", g.subs(s, 0), sigma**2 / (2 * N))
identity("g is convex in s: g'' = 1/N > 0", sp.diff(g, s, 2), sp.Rational(1, N))

Mc = sp.Matrix(2, K, lambda i, k: sp.Symbol(f"m{k}_{i}", real=True))
# (D) The balanced factorization W = c_ U S^(1/2), G = M D^(1/2) = S^(1/2) V^T / c_, c_^2 =
# sqrt(lambda_H/lambda_W), attains sqrt(lambda_W lambda_H) ||A||_* (||H||_F^2 = ||M D^(1/2)||_F^2).
identity(
    "lambda_W/2 ||W||^2 + lambda_H/2 ||H||^2 = sqrt(lambda_W lambda_H) sum s_i",
    lW / 2 * sp.sqrt(lH / lW) * s + lH / 2 * s / sp.sqrt(lH / lW),
    c * s,
)
identity(
    "||H||_F^2 = sum_k n_k ||m_k||^2 = ||M D^(1/2)||_F^2 (collapsed features, n = (3, 2, 1))",
    sum(sizes[k] * (Mc[:, k].T * Mc[:, k])[0] for k in range(K)),
    (Mc * D_half).norm() ** 2,
)

# Corollaries.
n_k, Nsym = sp.symbols("n_k N", positive=True)
identity(
    "no bias: Yhat = D^(1/2) is diagonal, sigma_k = sqrt(n_k); class logit "
    "(sqrt(n_k) - t)/sqrt(n_k) = 1 - N sqrt(lambda_W lambda_H / n_k)",
    (sp.sqrt(n_k) - Nsym * c) / sp.sqrt(n_k),
    1 - Nsym * sp.sqrt(lW * lH / n_k),
)
fact(
    "no bias: class k zeroed iff sqrt(n_k) <= N sqrt(lambda_W lambda_H) iff n_k <= N^2 lambda_W "
    "lambda_H (both sides nonnegative, squaring is monotone)",
    sp.simplify((Nsym * c) ** 2 - Nsym**2 * lW * lH) == 0,
)
Kb, nb = sp.symbols("K n", positive=True)
kappa = Kb * sp.sqrt(nb * lW * lH)
identity(
    "balanced with bias: Yhat Yhat^T = n (I - 11^T/K) (K = 4, n = 3), "
    "so sigma = sqrt(n), K - 1 times",
    ((sp.eye(4) - sp.ones(4, 4) / 4) * sp.sqrt(3))
    * ((sp.eye(4) - sp.ones(4, 4) / 4) * sp.sqrt(3)).T,
    3 * (sp.eye(4) - sp.ones(4, 4) / 4),
)
identity(
    "balanced: t/sigma = nK sqrt(lambda_W lambda_H)/sqrt(n) = kappa",
    nb * Kb * c / sp.sqrt(nb),
    kappa,
)
identity(
    "balanced, kappa < 1: (K-1)[t^2/(2N) + c(sqrt(n) - t)] = (K-1)/K (kappa - kappa^2/2), "
    "the free-bias value of proofs/mse_global_minimizer.py",
    (Kb - 1) * ((nb * Kb * c) ** 2 / (2 * nb * Kb) + c * (sp.sqrt(nb) - nb * Kb * c)),
    (Kb - 1) / Kb * (kappa - kappa**2 / 2),
)

# The library's closed form against the exact value: roots of the characteristic polynomial of the
# rational matrix D - n n^T/N (or D), exact algebraic numbers evaluated to 30 digits.
for sizes, bias, lam in (
    ((5, 3, 1), "free", (0.03, 0.02)),
    ((6, 3, 1), "none", (0.05, 0.04)),
    ((6, 2, 2, 1), "free", (0.01, 0.05)),
):
    n_v = sp.Matrix(sizes)
    Ntot = sum(sizes)
    C = sp.diag(*sizes) - (n_v * n_v.T / Ntot if bias == "free" else sp.zeros(len(sizes)))
    mus = sp.Poly(C.charpoly().as_expr()).all_roots()
    lwr, lhr = sp.Rational(lam[0]), sp.Rational(lam[1])
    cr = sp.sqrt(lwr * lhr)
    tr = Ntot * cr
    value = sum(sp.Min(mu, tr**2) / (2 * Ntot) + cr * sp.Max(sp.sqrt(mu) - tr, 0) for mu in mus)
    p = Problem(
        loss="mse",
        K=len(sizes),
        d=len(sizes),
        class_sizes=sizes,
        lambda_W=lam[0],
        lambda_H=lam[1],
        bias=bias,
    )
    got = global_minimizer(p).objective
    want = float(sp.N(value, 30))
    fact(
        f"global_minimizer on n = {sizes}, bias {bias}, lambdas {lam}: value {got!r} equals the "
        f"exact {want!r}",
        abs(got - want) <= 1e-14 * (1 + abs(want)),
    )
done("Imbalanced MSE UFM: singular-value soft threshold")
print("verified")
