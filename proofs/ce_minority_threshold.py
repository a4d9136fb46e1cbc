"""Two-group CE UFM: the minority classes collapse iff sqrt(lambda_W lambda_H) >= sqrt(n_B)/N.

Statement (derived here; consistent with Hong & Ling 2023, "Neural collapse for unconstrained
feature model under cross-entropy loss with imbalanced data", whose abstract states a sharp
threshold for minority collapse; their code's convex program, ana_utils.solve_cvx, is the program
below with their lambda = mu). K_A classes of n_A samples, K_B >= 2 classes of n_B < n_A samples,
N = K_A n_A + K_B n_B, mu = sqrt(lambda_W lambda_H), d >= K - 1, bias none, free or regularized:
the minority classes' logit columns (classifiers, class means) coincide at every global minimizer
iff mu >= mu* = sqrt(n_B)/N (for mu > mu* at every minimizer; for mu < mu* at none).

Proof outline. (A) The UFM equals min F(Zbar, b) = (1/N) sum_k n_k CE(zbar_k + b, k)
+ mu ||Zbar D^(1/2)||_* (+ lambda_b/2 ||b||^2) (ufm.relaxations._nuclear: nuclear-norm identity,
within-class symmetry; exact for d >= K - 1). (B) The program is invariant under permutations of
the minority classes; an optimum may be averaged over them, so an optimum is collapsed iff the
minority group's own-logit excess a_B is 0. (C) Y = Zbar D^(1/2) is optimal iff
Lambda/mu is in the subdifferential of ||.||_* at Y, Lambda = -grad data(Zbar) D^(-1/2): Lambda/mu
= U V^T + W', U^T W' = 0, W' V = 0, ||W'|| <= 1. The optimum with a_B = 0 imposed (a face of the
problem: the minority zero-sum component of Y fixed to 0) satisfies this on every component but the
minority zero-sum vectors on both sides, which that Y annihilates; averaging W' over the minority
permutations (a convex set, invariant) makes it act on them as a multiple of the identity (they
carry the standard representation once on each side, Schur). So the collapsed point is optimal iff
||Q^T Lambda Q|| <= mu, Q a basis of those vectors. (D) below: Q^T Lambda Q = (sqrt(n_B)/N) I at
every collapsed point (steps 1-3). (E) Uniqueness for mu > mu*: grad data is the same at every
minimizer (a convex function with Lipschitz gradient plus a convex one), so Lambda is, and
<Lambda/mu, Y'> = ||Y'||_* forces every optimal Y' to vanish where ||Lambda/mu|| < 1. For mu < mu*
no collapsed point is optimal, since the condition does not depend on the collapsed point.
"""

import math

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm.minimizers import ce_minority_threshold_value
from ufm.relaxations import ce_minority_threshold, nuclear_relaxation
from ufm.relaxations._ce_minority import two_group_problem

u, v = sp.symbols("u v", real=True)
K_A, n_A, n_B, mu, K, n = sp.symbols("K_A n_A n_B mu K n", positive=True)

# (D) In a minority column k, the K_B minority logits are equal (u) and the K_A majority ones are
# equal (v), bias included: softmax p = e^u/(K_B e^u + K_A e^v) on every minority row.
for KB in (2, 3, 4, 5):
    N = K_A * n_A + KB * n_B
    p = sp.exp(u) / (KB * sp.exp(u) + K_A * sp.exp(v))
    grad = n_B / N * (p * sp.ones(KB, KB) - sp.eye(KB))  # (n_k/N)(softmax_j - delta_jk)
    zero_sum = [sp.eye(KB)[:, 0] - sp.eye(KB)[:, j] for j in range(1, KB)]
    Q = sp.Matrix.hstack(*sp.GramSchmidt(zero_sum, orthonormal=True))
    identity(
        f"K_B = {KB}: the data gradient on the minority zero-sum vectors is -(n_B/N) I "
        "(softmax constant on the block, J x = 0)",
        Q.T * grad * Q,
        -n_B / N * sp.eye(KB - 1),
    )
    identity(
        f"K_B = {KB}: Lambda = -grad D^(-1/2) there is (sqrt(n_B)/N) I for every u, v, so its "
        "spectral norm is <= mu iff mu >= mu* = sqrt(n_B)/N",
        -(Q.T * grad * Q) / sp.sqrt(n_B),
        sp.sqrt(n_B) / N * sp.eye(KB - 1),
    )

# Balanced limit: n_A = n_B = n, K = K_A + K_B: mu* = 1/(K sqrt(n)), the zero-solution threshold
# K sqrt(n) mu = 1 of Zhu et al. 2021, Thm 3.1 (every class collapses to the origin together).
identity(
    "n_A = n_B = n: mu* K sqrt(n) = 1 (Zhu et al. 2021's kappa = 1)",
    sp.sqrt(n) / (K * n) * K * sp.sqrt(n),
    1,
)

# The threshold in n_B at fixed mu: collapse iff q(s) = K_B mu s^2 - s + K_A n_A mu >= 0,
# s = sqrt(n_B); the roots s_-+ = (1 -+ sqrt(1 - 4 K_A K_B n_A mu^2))/(2 K_B mu).
KB_ = sp.Symbol("K_B", positive=True)
s = sp.Symbol("s", positive=True)
q = KB_ * mu * s**2 - s + K_A * n_A * mu
disc = sp.sqrt(1 - 4 * K_A * KB_ * n_A * mu**2)
for root in ((1 - disc) / (2 * KB_ * mu), (1 + disc) / (2 * KB_ * mu)):
    identity("s_-+ are the roots of K_B mu s^2 - s + K_A n_A mu", q.subs(s, root), 0)
identity(
    "mu >= sqrt(n_B)/N  <=>  q(sqrt(n_B)) >= 0: q(sqrt(n_B)) = N mu - sqrt(n_B)",
    q.subs(s, sp.sqrt(n_B)),
    (K_A * n_A + KB_ * n_B) * mu - sp.sqrt(n_B),
)

# The library.
cases = [(2, 6, 2, 2), (1, 9, 3, 3), (3, 4, 2, 1), (2, 10, 3, 2)]
fact(
    "ce_minority_threshold_value equals sqrt(n_B)/N exactly",
    all(
        sp.simplify(ce_minority_threshold_value(*c) - sp.sqrt(c[3]) / (c[0] * c[1] + c[2] * c[3]))
        == 0
        for c in cases
    ),
    str(cases),
)
th = ce_minority_threshold(2, 6, 2, 2, bias="free", xtol=1e-5)
fact(
    "the certified bisection on the nuclear-norm program brackets sqrt(2)/16",
    th.bracket[0] < math.sqrt(2) / 16 <= th.bracket[1],
    f"{th.bracket}",
)
spreads = []
for factor in (0.9, 1.1):
    Z = nuclear_relaxation(two_group_problem(2, 6, 2, 2, factor * math.sqrt(2) / 16)).Z
    spreads.append(float(np.linalg.norm(Z[:, 2] - Z[:, 3])))
fact(
    "the unrestricted program: minority columns apart at 0.9 mu*, equal at 1.1 mu*",
    spreads[0] > 0.1 and spreads[1] < 1e-4,
    f"spreads {spreads[0]:.3g}, {spreads[1]:.2g}",
)
done("two-group CE UFM: minority collapse iff sqrt(lambda_W lambda_H) >= sqrt(n_B)/N")
print("verified")
