"""Strict saddles of the regularized UFM: the origin and the sub-frame critical points (sympy).

Claim: every critical point of the regularized UFM that is not a global minimizer
has a direction of negative curvature (Zhu et al. 2021, CE, stated for d > K; Zhou et al. 2022,
MSE). This script derives, exactly, the two families that ``ufm.landscape.critical_points`` builds:

1. the origin W = 0, H = 0 (with its stationary bias). Its Hessian has the (W, H) block
   [[lambda_W I, C], [C^T, lambda_H I]] whose cross term C has the singular values of G0 = dL/dZ at
   the origin; each singular value sigma gives the eigenvalues
   (lambda_W + lambda_H)/2 +- sqrt(((lambda_W - lambda_H)/2)^2 + sigma^2), negative iff
   sigma^2 > lambda_W lambda_H. For balanced classes sigma_max = 1/(K sqrt(n)) in every loss and
   bias mode, so the origin is a strict saddle iff kappa = K sqrt(n lambda_W lambda_H) < 1: the
   threshold where the negative curvature disappears.
2. sub-frames for MSE without bias: W = a E U^T, class means c U E^T with W Hbar = (1 - kappa) P_S,
   a critical point that is not global, with the same negative curvature as the origin.
3. the reduced CE equation 1 - (p_own - p_other) = kappa for the CE sub-simplex, which has a root
   s > 0 exactly when kappa < 1.

Derived here; consistent with Zhu et al. (2021) and Zhou et al. (2022). Run:
``python proofs/strict_saddle.py``.
"""

from __future__ import annotations

import itertools

import sympy as sp


def ufm_objective(loss, K, d, n, lam_W, lam_H, bias):
    """Symbolic objective, its variables (W, H, b) and the labels (columns grouped by class)."""
    N = K * n
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w{k}_{j}"))
    H = sp.Matrix(d, N, lambda j, i: sp.Symbol(f"h{j}_{i}"))
    b = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b{k}")) if bias != "none" else sp.zeros(K, 1)
    Z = W * H + b * sp.ones(1, N)
    labels = [i // n for i in range(N)]
    if loss == "mse":
        Y = sp.Matrix(K, N, lambda k, i: 1 if labels[i] == k else 0)
        data = sum((Z - Y).applyfunc(lambda x: x**2)) / (2 * N)
    else:
        data = (
            sum(sp.log(sum(sp.exp(Z[k, i]) for k in range(K))) - Z[labels[i], i] for i in range(N))
            / N
        )
    reg = lam_W / 2 * sum(W.applyfunc(lambda x: x**2)) + lam_H / 2 * sum(
        H.applyfunc(lambda x: x**2)
    )
    variables = list(W) + list(H) + (list(b) if bias != "none" else [])
    return data + reg, W, H, b, variables


def step_1_cross_block():
    lam_W, lam_H, sigma = sp.symbols("lambda_W lambda_H sigma", positive=True)
    block = sp.Matrix([[lam_W, sigma], [sigma, lam_H]])
    low = min(block.eigenvals(), key=lambda e: e.subs({sigma: 10, lam_W: 1, lam_H: 1}))
    print("1. (W,H) block per singular value sigma of G0: eigenvalues", list(block.eigenvals()))
    product = sp.simplify(block.det())
    assert sp.simplify(product - (lam_W * lam_H - sigma**2)) == 0
    print(
        "   smallest:",
        low,
        "; product of the pair = det =",
        product,
        "-> negative iff sigma^2 > lambda_W lambda_H",
    )


def step_2_sigma_max():
    print("2. sigma_max(G0) at the origin, exact, balanced classes:")
    for loss, bias, K, n in itertools.product(
        ("ce", "mse"), ("regularized", "free", "none"), (2, 3, 4), (1, 2, 3)
    ):
        N = K * n
        lam_b = sp.Rational(1, 7) if bias == "regularized" else 0
        if bias == "none":
            b0 = sp.zeros(K, 1)
        elif loss == "ce":
            b0 = sp.zeros(K, 1)  # softmax(0) = 1/K = class proportions, and lambda_b * 0 = 0
        else:
            b0 = sp.ones(K, 1) / (K * (1 + lam_b))
        Y = sp.Matrix(K, N, lambda k, i, n=n: 1 if i // n == k else 0)
        P = sp.ones(K, N) / K if loss == "ce" else b0 * sp.ones(1, N)
        G0 = (P - Y) / N
        if loss == "ce" or bias != "none":
            grad_b = G0 * sp.ones(N, 1) + lam_b * b0
            assert grad_b == sp.zeros(K, 1), (loss, bias, grad_b)
        top = max((G0 * G0.T).eigenvals())
        assert sp.simplify(top - sp.Rational(1, K**2 * n)) == 0, (loss, bias, K, n, top)
    print("   sigma_max^2 = 1/(K^2 n) for ce/mse x regularized/free/none, K = 2..4, n = 1..3;")
    print(
        "   so the origin has negative curvature iff 1/(K^2 n) > lambda_W lambda_H,\n"
        "   i.e. kappa = K sqrt(n lambda_W lambda_H) < 1"
    )


def step_3_full_hessian(loss):
    lam_W, lam_H = sp.symbols("lambda_W lambda_H", positive=True)
    K, d, n = 2, 1, 1
    f, W, H, b, variables = ufm_objective(loss, K, d, n, lam_W, lam_H, "none")
    Hess = sp.hessian(f, variables).subs({v: 0 for v in variables})
    eigs = list(Hess.eigenvals())
    kappa = sp.Symbol("kappa", positive=True)
    on_threshold = {lam_H: kappa**2 / (K**2 * n * lam_W)}
    smallest = [
        e for e in eigs if sp.simplify(e.subs(on_threshold).subs({kappa: 1, lam_W: 1})) == 0
    ]
    assert smallest, eigs
    value = sp.simplify(smallest[0].subs(on_threshold).subs({kappa: sp.Rational(1, 2), lam_W: 1}))
    assert value < 0
    print(f"3. {loss}, K=2, d=1, n=1, no bias: exact Hessian eigenvalues at the origin {eigs};")
    print(
        f"   one vanishes exactly at kappa = 1 and equals {value} < 0 at kappa = 1/2, lambda_W = 1"
    )


def step_4_mse_subframe():
    K, d, n = 3, 3, 2
    lam_W, lam_H = sp.Rational(1, 50), sp.Rational(1, 72)
    kappa = K * sp.sqrt(n * lam_W * lam_H)
    f, W, H, b, variables = ufm_objective("mse", K, d, n, lam_W, lam_H, "none")
    a, c = sp.symbols("a c", positive=True)
    # collapsed ansatz on S = {0}: w_0 = a e_1, h_{0,i} = c e_1, everything else 0
    point = {v: 0 for v in variables}
    point[W[0, 0]] = a
    for i in range(n):
        point[H[0, i]] = c
    grad = [sp.diff(f, v).subs(point) for v in variables]
    sol = sp.solve([g for g in grad if g != 0], [a, c], dict=True)
    assert len(sol) == 1, sol
    sol = sol[0]
    assert sp.simplify(sol[a] * sol[c] - (1 - kappa)) == 0
    exact = {k: sp.sympify(v).subs(sol) for k, v in point.items()}
    assert all(sp.simplify(sp.diff(f, v).subs(exact)) == 0 for v in variables)
    Hess = sp.hessian(f, variables).subs(exact)
    low = min(sp.Matrix(Hess).evalf(30).eigenvals(multiple=True), key=lambda e: sp.re(e))
    assert sp.re(low) < 0
    print(
        f"4. mse, no bias, K=3, d=3, n=2, kappa={kappa}: sub-frame S={{0}} with a c = 1 - kappa =",
        sp.nsimplify(sol[a] * sol[c]),
        "is critical (gradient exactly 0)",
    )
    print(f"   and its exact Hessian has lambda_min = {sp.re(low):.12f} < 0: a strict saddle")


def step_5_ce_equation():
    s, K, m = sp.symbols("s K m", positive=True)
    own = sp.exp(s * (1 - 1 / m))
    other = sp.exp(-s / m)
    denominator = own + (m - 1) * other + (K - m)
    gap = (own - other) / denominator
    assert sp.simplify(gap - (sp.exp(s) - 1) / (sp.exp(s) + m - 1 + (K - m) * sp.exp(s / m))) == 0
    at_zero = sp.limit(1 - gap, s, 0)
    at_infinity = sp.limit((1 - gap).subs({K: 5, m: 3}), s, sp.oo)
    assert at_zero == 1 and at_infinity == 0
    print(
        "5. CE sub-simplex (no bias): p_own - p_other = (e^s - 1)/(e^s + m - 1 + (K - m) e^{s/m});"
    )
    print(
        f"   1 - (p_own - p_other) goes from {at_zero} (s = 0) to {at_infinity} (s->oo, K=5, m=3);"
    )
    print("   it lies in (0, 1) for s > 0, so = kappa has a root s > 0 exactly when kappa < 1")


def main():
    step_1_cross_block()
    step_2_sigma_max()
    for loss in ("mse", "ce"):
        step_3_full_hessian(loss)
    step_4_mse_subframe()
    step_5_ce_equation()
    print("verified")


if __name__ == "__main__":
    main()
