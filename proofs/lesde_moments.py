"""Exact Gaussian moments of the linear LE-SDE (I model) and the NC1 ratio, derived in sympy.

Model (ufm/dynamics/_lesde_model.py; drift from the authors' code zjiayao/le_sde, per-sample SDE
derived here). A contrast mode of the class means obeys dy = lam y dt + sqrt(q) dW with lam =
(alpha - beta)/K and q = eta sigma^2/n; a within-class deviation mode obeys dz = sqrt(eta) sigma dW.

Steps: (1) the variance v(t) = e^{2 lam t} v0 + q (e^{2 lam t} - 1)/(2 lam) solves v' = 2 lam v + q,
v(0) = v0; (2) lam -> 0 gives v0 + q t; (3) the deviation modes Z = delta H (H orthonormal,
1^T H = 0)
receive no drift because the drift is constant within a class; (4) E tr Sigma_W / E tr Sigma_B =
(n-1) K w / (n (K-1) v); (5) with lam > 0 it tends to 0; (6) the library's closed form equals (1).
Run: ``python proofs/lesde_moments.py`` (prints each step and "verified").
"""

import math
import sys
from pathlib import Path

import sympy as sp
from _steps import done, fact, identity

t, v0, q = sp.symbols("t v0 q", nonnegative=True)
lam = sp.Symbol("lam", nonzero=True, real=True)
v = sp.exp(2 * lam * t) * v0 + q * (sp.exp(2 * lam * t) - 1) / (2 * lam)
identity("(1) v' = 2 lam v + q", sp.diff(v, t), 2 * lam * v + q)
identity("(1) v(0) = v0", v.subs(t, 0), v0)
identity("(2) lim lam -> 0 of v = v0 + q t", sp.limit(v, lam, 0), v0 + q * t)

n = 4
H = sp.Matrix([[1, 1, 1], [-1, 1, 1], [0, -2, 1], [0, 0, -3]]) * sp.diag(
    1 / sp.sqrt(2), 1 / sp.sqrt(6), 1 / sp.sqrt(12)
)
identity("(3) n=4: H^T H = I", H.T * H, sp.eye(3))
identity(
    "(3) n=4: 1^T H = 0, so a class-constant drift g 1^T maps to g 1^T H = 0",
    sp.ones(1, n) * H,
    sp.zeros(1, 3),
)

K, nn, d, w, vv = sp.symbols("K n d w v", positive=True)
trace_W = K * d * (nn - 1) * w / (K * nn)  # (1/N) sum over K classes of E||Z_c||_F^2 = d(n-1) w
trace_B = d * (K - 1) * vv / K  # (1/K) E||M~||_F^2, d (K-1) contrast modes of variance v
identity(
    "(4) E tr Sigma_W / E tr Sigma_B", trace_W / trace_B, (nn - 1) * K * w / (nn * (K - 1) * vv)
)

lam_p, s2, sig2 = sp.Rational(1, 3), sp.Rational(1, 100), sp.Rational(1, 100)
ratio = (
    (nn - 1)
    * K
    * (s2 + sig2 * t)
    / (nn * (K - 1) * v.subs({lam: lam_p, v0: s2 / nn, q: sig2 / nn}))
)
identity(
    "(5) lam = 1/3: the ratio -> 0 as t -> oo", sp.limit(ratio.subs({K: 3, nn: 10}), t, sp.oo), 0
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from ufm.dynamics import lesde_moments  # noqa: E402

law = lesde_moments(3, 10, 2, 2.0, 1.0, 0.1, 6.0, init_scale=0.1)
exact = float(
    v.subs({lam: sp.Rational(1, 3), v0: sp.Rational(1, 1000), q: sp.Rational(1, 1000), t: 6})
)
got = math.exp(2 * law.blocks[1].log_scale) * law.blocks[1].cov[0, 0]
fact(
    "(6) ufm.dynamics.lesde_moments (K=3, n=10, alpha=2, beta=1, sigma=s=0.1, t=6) = (1)",
    abs(got - exact) <= 1e-12 * exact,
    f"{got!r} vs {exact!r}",
)
done("LE-SDE moments")
print("verified")
