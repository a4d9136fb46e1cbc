"""Deep linear MSE UFM: one scalar problem per singular value, and the jump to zero at depth.

Statement (derived here; consistent with Tirer & Bruna 2022 and Dang et al. 2023, ICML, whose
abstracts state collapse at every layer; Ziyin, Li & Meng 2022 for the bad minimum at zero).
L weight layers W_L..W_1 on free features H (ufm ``depth`` = L), q = L + 1 factors ("depth >= 3
factors" in the literature's count = ufm depth >= 2), objective

    f = 1/(2N) ||W_L...W_1 H + b 1^T - Y||^2 + sum_l lambda_l/2 ||W_l||^2 + lambda_H/2 ||H||^2,

b free or absent, any class sizes, widths >= rank. With mu = (lambda_L...lambda_1 lambda_H)^(1/q),
C = q mu/2 and the SVD Yhat = U diag(sigma) V^T of Yhat = (I - n 1^T/N) D^(1/2) (free bias) or
D^(1/2) (no bias), every global minimizer has collapsed features at every layer, balanced factors
(lambda_x ||X||-spectra equal) and class logits X = Zbar D^(1/2) = U diag(s) V^T with

    s_i = argmin_{s >= 0} g_i(s),   g_i(s) = 1/(2N)(s - sigma_i)^2 + C s^(2/q).

With s = sigma z, p = 2/q, a = 2 N C sigma^(p-2) = q N mu sigma^(p-2): g = sigma^2/(2N) phi_a(z),
phi_a(z) = (z - 1)^2 + a z^p. For q >= 3 the zero solution is global iff a >= a* = q(1 - z*)
z*^(1-p), z* = (q-2)/(q-1) (the logit jumps from z* sigma to 0), and a positive local minimizer
exists iff a < a_e = q(1 - z_e) z_e^(1-p), z_e = (q-2)/(2(q-1)): the metastable window (a*, a_e).
q = 3: z* = 1/2, a* = (3/2) 2^(-1/3) = 1.19055, z_e = 1/4, a_e = (9/4) 4^(-1/3) = 1.41741.

Proof outline: (A) for a fixed product the penalties are at least C sum_i sigma_i(product)^(2/q)
(AM-GM over the q factors after aligning their singular vectors), with equality for the balanced
factorization; (B) the data term reduces exactly as in proofs/mse_imbalanced_svt.py steps (A)-(B)
(they concern the data term only), and replacing the logits Z by their class average Z Pi (Pi an
orthogonal projector) lowers every singular value, hence the penalty bound too: features collapse;
(C) von Neumann's trace inequality aligns X with Yhat, leaving g_i per singular value; (D) the
scalar law below.
"""

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm import Problem
from ufm.minimizers_deep import deep_linear_minimizer, jump_thresholds, singular_value_problem

s, sigma, N, C, t, z, a, mu = sp.symbols("s sigma N C t z a mu", positive=True)

# (A) AM-GM over the factors, q = 3: u_x > 0 the x-th factor's singular value, prod u_x = s.
l1, l2, l3, u1, u2, u3 = sp.symbols("lambda_1 lambda_2 lambda_3 u_1 u_2 u_3", positive=True)
x1, x2, x3 = [sp.cbrt(lx * u**2) for lx, u in ((l1, u1), (l2, u2), (l3, u3))]
identity(
    "AM-GM for three terms: x^3 + y^3 + w^3 - 3xyw = (x+y+w)((x-y)^2 + (y-w)^2 + (w-x)^2)/2",
    x1**3 + x2**3 + x3**3 - 3 * x1 * x2 * x3,
    (x1 + x2 + x3) * ((x1 - x2) ** 2 + (x2 - x3) ** 2 + (x3 - x1) ** 2) / 2,
)
X, Yv, Wv = sp.symbols("X Y W", positive=True)  # (lambda_x u_x^2)^(1/3), x = 1, 2, 3
am_gm = (X + Yv + Wv) * ((X - Yv) ** 2 + (Yv - Wv) ** 2 + (Wv - X) ** 2)
fact(
    "hence sum lambda_x u_x^2/2 >= (3/2)(prod lambda_x u_x^2)^(1/3) = C s^(2/3): a positive sum "
    "times a sum of squares (sympy's sign analysis of the factored form)",
    am_gm.is_nonnegative is True,
    f"{am_gm} >= 0",
)
for q in (2, 3, 4, 5):
    lam = sp.symbols(f"l0:{q}", positive=True)
    m = sp.prod(lam) ** sp.Rational(1, q)
    u = [sp.sqrt(m / lx) * s ** sp.Rational(1, q) for lx in lam]
    identity(
        f"q={q}: the balanced factors u_x = sqrt(mu/lambda_x) s^(1/q) have product s and "
        "penalty (q/2) mu s^(2/q) = C s^(2/q)",
        sp.Matrix([sp.powsimp(sp.prod(u), force=True), sum(lx * ux**2 / 2 for lx, ux in
                                                          zip(lam, u, strict=True))]),
        sp.Matrix([s, sp.Rational(q, 2) * m * s ** sp.Rational(2, q)]),
    )  # fmt: skip

# (D) the scalar law.
for q in (2, 3, 4, 5):
    p = sp.Rational(2, q)
    g = (s - sigma) ** 2 / (2 * N) + C * s**p
    identity(
        f"q={q}: g(sigma z) = sigma^2/(2N) phi_a(z), a = 2 N C sigma^(p-2)",
        g.subs(s, sigma * z),
        sigma**2 / (2 * N) * ((z - 1) ** 2 + 2 * N * C * sigma ** (p - 2) * z**p),
    )
    identity(
        f"q={q}: d/dt g(t^q) = (q t/N)(t^(2q-2) - sigma t^(q-2) + 2NC/q): stationary points of g "
        "at s = t^q > 0 are the positive roots of that polynomial",
        sp.diff(g.subs(s, t**q), t),
        q * t / N * (t ** (2 * q - 2) - sigma * t ** (q - 2) + 2 * N * C / q),
    )
identity(
    "q=3: a = 2NC sigma^(p-2) = qN mu sigma^(p-2), C = q mu/2", 2 * N * (3 * mu / 2), 3 * N * mu
)

qs = sp.Symbol("q", positive=True)
pq = 2 / qs
a_of_z = qs * (1 - z) * z ** (1 - pq)
phi = (z - 1) ** 2 + a * z**pq
identity(
    "phi_a'(z) = 0 at z > 0 iff a = a(z) = q(1 - z) z^(1-p)  (p = 2/q)",
    sp.diff(phi, z).subs(a, a_of_z),
    0,
)
identity(
    "on that curve phi(z) - phi(0) = z((1 - q) z + q - 2): the jump z* = (q-2)/(q-1)",
    sp.expand(sp.powsimp(phi.subs(a, a_of_z) - 1, force=True)),
    sp.expand(z * ((1 - qs) * z + qs - 2)),
)
identity(
    "d a(z)/dz = q z^(-p) ((1-p)(1-z) - z): the fold z_e = (1-p)/(2-p) = (q-2)/(2(q-1))",
    sp.simplify(sp.diff(a_of_z, z) - qs * z ** (-pq) * ((1 - pq) * (1 - z) - z)),
    0,
)
for q in (3, 4, 5):
    p = sp.Rational(2, q)
    zs, ze = sp.Rational(q - 2, q - 1), sp.Rational(q - 2, 2 * (q - 1))
    a_star, a_e = q * (1 - zs) * zs ** (1 - p), q * (1 - ze) * ze ** (1 - p)
    phi_q = (z - 1) ** 2 + a * z**p
    identity(
        f"q={q}: at a* the positive stationary point z* ties with 0",
        sp.Matrix([phi_q.subs({a: a_star, z: zs}) - 1, sp.diff(phi_q, z).subs({a: a_star, z: zs})]),
        sp.zeros(2, 1),
    )
    fact(
        f"q={q}: and is a strict local minimizer there (phi'' > 0), so for a < a* it is global",
        sp.diff(phi_q, z, 2).subs({a: a_star, z: zs}) > 0,
        f"phi''(z*) = {sp.nsimplify(sp.diff(phi_q, z, 2).subs({a: a_star, z: zs}))}",
    )
    identity(
        f"q={q}: at a_e, phi' = phi'' = 0 at z_e (the positive minimizer disappears)",
        sp.Matrix([sp.diff(phi_q, z, k).subs({a: a_e, z: ze}) for k in (1, 2)]),
        sp.zeros(2, 1),
    )
    exact = jump_thresholds(q)
    identity(
        f"q={q}: ufm.minimizers_deep.jump_thresholds (sympy solve) gives the same z*, a*, z_e, a_e",
        sp.Matrix([exact["z_star"], exact["a_star"], exact["z_e"], exact["a_e"]]),
        sp.Matrix([zs, a_star, ze, a_e]),
    )
    fact(
        f"q={q}: a* < a_e (a non-empty window)",
        bool(a_star < a_e),
        f"{a_star.evalf(8)} < {a_e.evalf(8)}",
    )
fact(
    "q=3: a* = (3/2) 2^(-1/3) = 1.190551, a_e = (9/4) 4^(-1/3) = 1.417411",
    abs(float(jump_thresholds(3)["a_star"]) - 1.190551) < 1e-6
    and abs(float(jump_thresholds(3)["a_e"]) - 1.417411) < 1e-6,
)
identity(
    "q=2: phi = (z-1)^2 + a z is minimized at z = 1 - a/2 with phi = a - a^2/4 < 1 for a < 2: "
    "the soft threshold, a* = a_e = 2",
    ((z - 1) ** 2 + a * z).subs(z, 1 - a / 2),
    a - a**2 / 4,
)

# The library against the law, numerically: exact roots vs s = sigma z.
worst = 0.0
for q, a_val in ((3, 0.5), (3, 1.3), (4, 0.9), (2, 1.0)):
    sol = singular_value_problem(2.0, a_val * 2.0 ** (2 - 2 / q) / (2 * 3), q, 3)
    zz = np.linspace(1e-9, 1.5, 200001)
    grid = (zz - 1) ** 2 + a_val * zz ** (2 / q)
    z_best = zz[np.argmin(grid)] if grid.min() < 1 else 0.0
    worst = max(worst, abs(sol.s / 2.0 - z_best))
fact("singular_value_problem's s/sigma equals a fine grid's minimizer of phi_a (to the grid)",
     worst < 1e-4, f"max |difference| = {worst:.2e}")  # fmt: skip

p3 = Problem(
    loss="mse", K=3, d=3, class_sizes=(3, 2, 1), lambda_H=0.01, bias="none", model="deep-linear",
    model_params={"depth": 2, "lambdas": [0.02, 0.005]},
)  # fmt: skip
cf = deep_linear_minimizer(p3)
W2, W1, H = cf.blocks["W2"], cf.blocks["W1"], cf.blocks["H"]
fact(
    "balanced factors of the constructed minimizer: lambda_2 W2^T W2 = lambda_1 W1 W1^T and "
    "lambda_1 W1^T W1 = lambda_H H H^T",
    np.allclose(0.02 * W2.T @ W2, 0.005 * W1 @ W1.T, atol=1e-12)
    and np.allclose(0.005 * W1.T @ W1, 0.01 * H @ H.T, atol=1e-12),
)
done("deep linear MSE UFM: scalar law, balanced factors, exact jump thresholds")
print("verified")
