"""Minimum-norm interpolation of the labels by the unregularized UFM: the nuclear norm of Yhat.

Statement (derived here; consistent with Mixon, Parshall & Pi 2020, "Neural collapse with
unconstrained features", whose gradient flow reaches W W^T = sqrt(n)(I - 11^T/K), b = 1/K).
K >= 2 classes of sizes n_1..n_K, N = sum n_k, D = diag(n), one-hot labels Y (K x N), d >= K:

    min_{W,H,b} (||W||^2 + ||H||^2)/2  s.t.  W H + b 1^T = Y      (b = 0 without bias)
        = ||Yhat||_*,   Yhat = (I - n 1^T/N) D^(1/2) (free bias),  D^(1/2) (no bias),

attained exactly when b = n/N, W M = I - n 1^T/N (or I), W W^T = (Yhat Yhat^T)^(1/2) and
M^T M = D^(-1/2) (Yhat^T Yhat)^(1/2) D^(-1/2), features collapsed. Balanced classes: sqrt(n)(K-1)
with a simplex ETF W W^T = sqrt(n)(I - 11^T/K), b = 1/K (free); sqrt(n) K with W W^T = sqrt(n) I.

Proof outline: (A) for a fixed Z = W H, min (||W||^2 + ||H||^2)/2 = ||Z||_* (||Z||_* <=
||W|| ||H|| <= (||W||^2 + ||H||^2)/2, equality for the balanced SVD factors W = U S^(1/2),
H = S^(1/2) V^T, which are unique up to rotation: W W^T = (Z Z^T)^(1/2), H^T H = (Z^T Z)^(1/2));
(B) Z = Y - b 1^T = Zbar E^T with E the N x K class indicator, E^T E = D, so Z Z^T = Zbar D Zbar^T
and ||Z||_* = ||Zbar D^(1/2)||_* = ||D^(1/2) - b s^T||_*, s = D^(1/2) 1 = sqrt(n), |s|^2 = N;
(C) with the orthogonal Q = [Pi_s-basis | s/sqrt(N)], ||A - b s^T||_* = ||[A Pi_s, (A - b s^T)
s/sqrt(N)]||_* = tr (A Pi_s A^T + c c^T)^(1/2) >= tr (A Pi_s A^T)^(1/2), strictly unless c = 0 (the
square root is operator monotone and the trace strictly monotone), i.e. b = A s/N = n/N uniquely,
and A Pi_s = Yhat; (D) the limit lambda -> 0 of the regularized minimizer (lambda_W = lambda_H =
lambda) divided by lambda is this value (the soft threshold at t = N lambda -> 0).
"""

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm.minimizers import PJ, SYMBOLS, derivation, min_norm_interpolant
from ufm.relaxations import min_norm_interpolation

# (A) AM-GM: (a^2 + b^2)/2 - a b = (a - b)^2/2 >= 0, equal iff a = b (balanced factors).
a, b_ = sp.symbols("a b", positive=True)
identity("AM-GM: (a^2 + b^2)/2 - a b = (a - b)^2/2", (a**2 + b_**2) / 2 - a * b_, (a - b_) ** 2 / 2)

# (B)-(C) on explicit class sizes (3, 2, 1) with a symbolic bias.
sizes = (3, 2, 1)
K, N = len(sizes), sum(sizes)
E = sp.Matrix(N, K, lambda i, k: 1 if sum(sizes[:k]) <= i < sum(sizes[: k + 1]) else 0)
D = sp.diag(*sizes)
Dh = sp.diag(*[sp.sqrt(m) for m in sizes])
bvec = sp.Matrix(K, 1, lambda k, _: sp.Symbol(f"b{k}", real=True))
n = sp.Matrix(sizes)
s = Dh * sp.ones(K, 1)
Y = E.T
identity("E^T E = D (class indicator)", E.T * E, D)
Zbar = sp.eye(K) - bvec * sp.ones(1, K)
identity("Y - b 1^T = Zbar E^T with Zbar = I - b 1^T", Y - bvec * sp.ones(1, N), Zbar * E.T)
identity(
    "Z Z^T = (Zbar D^(1/2))(Zbar D^(1/2))^T: same singular values, ||Z||_* = ||Zbar D^(1/2)||_*",
    (Zbar * E.T) * (Zbar * E.T).T,
    (Zbar * Dh) * (Zbar * Dh).T,
)
identity("Zbar D^(1/2) = D^(1/2) - b s^T, s = D^(1/2) 1", Zbar * Dh, Dh - bvec * s.T)
identity("|s|^2 = N", (s.T * s)[0], N)
Pi = sp.eye(K) - s * s.T / N
identity("Pi_s s = 0 and Pi_s^2 = Pi_s (orthogonal projector)", Pi * Pi, Pi)
c = (Dh - bvec * s.T) * s / sp.sqrt(N)
identity(
    "(D^(1/2) - b s^T) = (D^(1/2) - b s^T) Pi_s + c s^T/sqrt(N), with (D^(1/2) - b s^T) Pi_s = "
    "D^(1/2) Pi_s independent of b",
    (Dh - bvec * s.T) * Pi,
    Dh * Pi,
)
identity(
    "c = 0 iff b = D^(1/2) s/N = n/N",
    c.subs({bvec[k]: sp.Rational(sizes[k], N) for k in range(K)}),
    sp.zeros(K, 1),
)
identity(
    "D^(1/2) Pi_s = (I - n 1^T/N) D^(1/2) = Yhat", Dh * Pi, (sp.eye(K) - n * sp.ones(1, K) / N) * Dh
)
Yhat = Dh * Pi
identity(
    "(D^(1/2) - b s^T)(D^(1/2) - b s^T)^T = Yhat Yhat^T + c c^T: the bias only adds the PSD c c^T, "
    "so tr(...)^(1/2) >= tr(Yhat Yhat^T)^(1/2) (Loewner-Heinz: the square root is operator "
    "monotone; equal traces force equal square roots, so c = 0)",
    (Dh - bvec * s.T) * (Dh - bvec * s.T).T,
    Yhat * Yhat.T + c * c.T,
)
rng = np.random.default_rng(0)
Dh_f, s_f = np.asarray(Dh, dtype=float), np.asarray(s, dtype=float).ravel()
best = np.linalg.svd(np.asarray(Yhat, dtype=float), compute_uv=False).sum()
excess = min(
    np.linalg.svd(Dh_f - np.outer(np.array(sizes) / N + 0.1 * rng.standard_normal(K), s_f),
                  compute_uv=False).sum() - best
    for _ in range(200)
)  # fmt: skip
fact(
    "numerically: 200 biases b = n/N + 0.1 g (g standard normal) all give a larger nuclear norm",
    excess > 0,
    f"smallest excess {excess:.3e}",
)

# Balanced classes, every K, in the algebra p P + j J (I = P + J/K, so I - J/K = P).
Ks, ns = SYMBOLS["K"], SYMBOLS["n"]
centred = PJ.from_IJ(1, 0) - PJ(0, 1 / Ks)  # I - n 1^T/N with N = K n: I - J/K
identity(
    "balanced: I - n 1^T/N = I - J/K = P", sp.Matrix([centred.p, centred.j]), sp.Matrix([1, 0])
)
Yf, Yn = centred * sp.sqrt(ns), PJ.from_IJ(sp.sqrt(ns), 0)
root_f, root_n = PJ(sp.sqrt(ns), 0), PJ(sp.sqrt(ns), sp.sqrt(ns) / Ks)
for name, Yb, root in (("free", Yf, root_f), ("none", Yn, root_n)):
    square, target = root * root, Yb * Yb
    identity(
        f"bias {name}: (Yhat Yhat^T)^(1/2) = {root.p} P + {root.j} J (its square is Yhat Yhat^T; "
        "eigenvalues p, jK >= 0)",
        sp.Matrix([square.p, square.j]),
        sp.Matrix([target.p, target.j]),
    )
identity(
    "free: W W^T = sqrt(n)(I - 11^T/K), a simplex ETF; value tr = sqrt(n)(K - 1)",
    root_f.trace(),
    sp.sqrt(ns) * (Ks - 1),
)
identity(
    "none: W W^T = sqrt(n) I, an orthogonal frame; value tr = sqrt(n) K",
    root_n.trace(),
    sp.sqrt(ns) * Ks,
)
identity(
    "free: M^T M = D^(-1/2) sqrt(n) P D^(-1/2) = P/sqrt(n)", (root_f * (1 / ns)).p, 1 / sp.sqrt(ns)
)

# (D) the lambda -> 0 limit of the sympy derivation of the balanced regularized minimizer.
lW, lH = SYMBOLS["lambda_W"], SYMBOLS["lambda_H"]
lam = sp.Symbol("lambda", positive=True)
for bias, expected in (("free", sp.sqrt(ns) * (Ks - 1)), ("none", sp.sqrt(ns) * Ks)):
    collapsed = ("gamma",) if bias == "free" else ()  # the KKT regime with alpha > 0
    (regime,) = [r for r in derivation("mse", bias)["regimes"] if r.zero == collapsed]
    value = regime.value.subs({lW: lam, lH: lam})
    identity(
        f"lim_(lambda -> 0) f*(lambda)/lambda = ||Yhat||_*, bias {bias}",
        sp.limit(value / lam, lam, 0),
        expected,
    )

# Library: the Richardson limit and the SDP against the closed forms.
for sz, bias, expected in (
    ((3, 3, 3, 3), "free", 3 * np.sqrt(3)),
    ((3, 3, 3, 3), "none", 4 * np.sqrt(3)),
    ((3, 2, 1), "none", np.sqrt(3) + np.sqrt(2) + 1),
):
    lim = min_norm_interpolant(sz, bias)
    sdp = min_norm_interpolation(sz, bias)
    fact(
        f"min_norm_interpolant and the SDP give ||Yhat||_* for {sz}, bias {bias}",
        abs(lim.objective - expected) < 1e-12 and abs(sdp.objective - expected) < 1e-6,
        f"{lim.objective:.15f}, {sdp.objective:.9f} vs {expected:.15f}",
    )
lim = min_norm_interpolant((3, 2, 1), "free")
Yh = np.asarray((sp.eye(K) - n * sp.ones(1, K) / N) * Dh, dtype=float)
fact(
    "imbalanced free bias (3, 2, 1): the limit's value is sum of singular values of Yhat, b = n/N",
    abs(lim.objective - np.linalg.svd(Yh, compute_uv=False).sum()) < 1e-12
    and np.allclose(lim.b, np.array(sizes) / N, atol=1e-14),
    f"{lim.objective:.15f}, b = {lim.b}",
)
done("min-norm interpolant = nuclear norm of Yhat")
