"""Label-smoothed CE UFM with two class sizes: the minority and zero thresholds scale by 1 - alpha.

Statement (derived here; consistent with Zhou et al. 2022b, "Are all losses created equal: a neural
collapse perspective", whose abstract states that label smoothing's UFM minimizers are NC solutions,
and with the sharp minority-collapse threshold of Hong & Ling 2023, both read in abstract only).
Loss l(z, y) = LSE(z) - q_y^T z, q_y = (1 - alpha) e_y + (alpha/K) 1, alpha in [0, 1); objective
(1/N) sum_i l(W h_i + b, y_i) + lambda_W/2 ||W||^2 + lambda_H/2 ||H||^2, bias none or free,
mu = sqrt(lambda_W lambda_H), d >= K - 1, class sizes n_1..n_K, D = diag(n), P = I - 11^T/K.

(a) W = H = 0 (with the optimal bias) is a global minimizer iff
    mu >= mu_0 = (1 - alpha) sigma_max(Yhat)/N, Yhat = P D^(1/2) (no bias) or
    (I - n 1^T/N) D^(1/2) (free bias).
(b) Two groups, K_A classes of n_A and K_B >= 2 of n_B < n_A samples: the minority classes' logit
    columns (classifiers, class means) coincide at the global minimizer iff
    mu >= mu_B = (1 - alpha) sqrt(n_B)/N.

Proof outline. The UFM equals the convex program
min data(Zbar + b 1^T) + mu ||Zbar D^(1/2)||_* (ufm.relaxations._nuclear; exact for d >= K - 1),
data = (1/N) sum_k n_k l(zbar_k + b, k). A point is optimal iff Lambda/mu is in the
subdifferential of the nuclear norm at Y = Zbar D^(1/2), Lambda = -grad data D^(-1/2) (and
grad_b data = 0 for a free bias). (a) At Zbar = 0 the subdifferential is the unit spectral-norm
ball, so 0 is optimal iff ||Lambda_0||_2 <= mu; ``zero_steps`` computes
Lambda_0 = (1 - alpha) Yhat / N. (b) The argument of proofs/ce_minority_threshold.py uses only the
exchange symmetry of the minority classes, which the smoothed targets keep: the collapsed point is
optimal iff ||Q^T Lambda Q|| <= mu on the minority zero-sum vectors Q, and ``minority_steps``
gives Q^T Lambda Q = (1 - alpha) (sqrt(n_B)/N) I at every collapsed point. The functions take the
claimed factor ``shrink`` (the statement's 1 - alpha), so that a wrong constant fails a step
(tests/test_claims_ls_imbalanced.py plants one).
"""

import math

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm.minimizers import ce_minority_threshold_value, ce_zero_threshold_value
from ufm.relaxations import ce_minority_threshold, nuclear_relaxation
from ufm.relaxations._ce_minority import two_group_problem, zero_threshold

alpha = sp.Symbol("alpha", nonnegative=True)
u, v = sp.symbols("u v", real=True)
K_A, K_, n_A, n_B, n = sp.symbols("K_A K n_A n_B n", positive=True)
SHRINK = 1 - alpha


def targets(K):
    """Q (K x K): column k is q_k = (1 - alpha) e_k + (alpha/K) 1."""
    return (1 - alpha) * sp.eye(K) + alpha / K * sp.ones(K, K)


def zero_steps(shrink):
    """(a): the multiplier at zero logits, without and with a free bias, for K = 2..4."""
    for K in (2, 3, 4):
        q = targets(K)
        identity(
            f"K = {K}: grad l(0, y) = softmax(0) - q_y = (1 - alpha)(1/K - e_y): the CE gradient "
            "at zero logits times 1 - alpha",
            sp.ones(K, K) / K - q,
            shrink * (sp.ones(K, K) / K - sp.eye(K)),
        )
        sizes = sp.symbols(f"n1:{K + 1}", positive=True)
        N = sum(sizes)
        D = sp.diag(*sizes)
        root, inv_root = (
            sp.diag(*[sp.sqrt(s) for s in sizes]),
            sp.diag(*[1 / sp.sqrt(s) for s in sizes]),
        )
        P = sp.eye(K) - sp.ones(K, K) / K
        grad = (sp.ones(K, K) / K - q) * D / N  # column k: (n_k/N)(softmax(0) - q_k)
        identity(
            f"K = {K}, no bias: Lambda_0 = -grad D^(-1/2) = (1 - alpha) P D^(1/2) / N",
            -grad * inv_root,
            shrink * P * root / N,
        )
        n_vec = sp.Matrix(sizes)
        pi = q * n_vec / N
        identity(
            f"K = {K}, free bias: pi = sum_k n_k q_k / N makes grad_b = sum_k n_k (pi - q_k)/N "
            "vanish, and it sums to 1 (a softmax of some b: all its entries are positive)",
            sp.Matrix.vstack(
                sum(((pi - q[:, k]) * sizes[k] for k in range(K)), sp.zeros(K, 1)),
                sp.Matrix([[sum(pi)]]),
            ),
            sp.Matrix.vstack(sp.zeros(K, 1), sp.Matrix([[1]])),
        )
        grad_b = (pi * sp.ones(1, K) - q) * D / N
        identity(
            f"K = {K}, free bias: Lambda_0 = (1 - alpha) (I - n 1^T/N) D^(1/2) / N",
            -grad_b * inv_root,
            shrink * (sp.eye(K) - n_vec * sp.ones(1, K) / N) * root / N,
        )
    identity(
        "balanced (n_k = n): sigma_max(P D^(1/2)) = sqrt(n), so mu >= mu_0 reads "
        "K sqrt(n) mu >= 1 - alpha: the zero threshold alpha + kappa >= 1 of ce.label-smoothing",
        K_ * sp.sqrt(n) * shrink * sp.sqrt(n) / (K_ * n),
        1 - alpha,
    )


def minority_steps(shrink):
    """(b): the minority zero-sum block of the multiplier at any collapsed point."""
    for KB in (2, 3, 4):
        K = K_A + KB
        N = K_A * n_A + KB * n_B
        p = sp.exp(u) / (KB * sp.exp(u) + K_A * sp.exp(v))
        q_block = (1 - alpha) * sp.eye(KB) + alpha / K * sp.ones(KB, KB)
        grad = n_B / N * (p * sp.ones(KB, KB) - q_block)
        zero_sum = [sp.eye(KB)[:, 0] - sp.eye(KB)[:, j] for j in range(1, KB)]
        Q = sp.Matrix.hstack(*sp.GramSchmidt(zero_sum, orthonormal=True))
        identity(
            f"K_B = {KB}: the smoothed data gradient on the minority zero-sum vectors is "
            "-(1 - alpha)(n_B/N) I (softmax and alpha/K parts constant on the block, J x = 0)",
            Q.T * grad * Q,
            -shrink * n_B / N * sp.eye(KB - 1),
        )
        identity(
            f"K_B = {KB}: Lambda there is (1 - alpha)(sqrt(n_B)/N) I for every u, v: the "
            "collapsed point is optimal iff mu >= mu_B = (1 - alpha) sqrt(n_B)/N",
            -(Q.T * grad * Q) / sp.sqrt(n_B),
            shrink * sp.sqrt(n_B) / N * sp.eye(KB - 1),
        )
    for KA in (2, 3):
        sizes = [n_A] * KA + [n_B] * 2
        K = len(sizes)
        P = sp.eye(K) - sp.ones(K, K) / K
        root = sp.diag(*[sp.sqrt(s) for s in sizes])
        x = sp.Matrix([1, -1] + [0] * (K - 2))
        identity(
            f"K_A = {KA}: a majority zero-sum x has P D^(1/2) x = sqrt(n_A) x, and "
            "D^(1/2) P D^(1/2) <= D, so sigma_max(Yhat) = sqrt(n_A) (both biases: "
            "(I - n 1^T/N) D^(1/2) x = sqrt(n_A) x too) and mu_0 = (1 - alpha) sqrt(n_A)/N > mu_B",
            P * root * x,
            sp.sqrt(n_A) * x,
        )


def library_steps(shrink):
    """The library's exact and convex computations agree with (a) and (b)."""
    cases = [(2, 6, 2, 2, sp.Rational(3, 10)), (1, 3, 3, 1, sp.Rational(1, 5)),
             (1, 5, 2, 1, sp.Rational(1, 2)), (2, 10, 3, 2, sp.Rational(3, 5))]  # fmt: skip
    fact(
        "ce_minority_threshold_value(smoothing=alpha) = (1 - alpha) sqrt(n_B)/N exactly",
        all(
            sp.simplify(
                ce_minority_threshold_value(*c)
                - shrink.subs(alpha, c[4]) * sp.sqrt(c[3]) / (c[0] * c[1] + c[2] * c[3])
            )
            == 0
            for c in cases
        ),
        str(cases),
    )
    worst = 0.0
    for KA, nA, KB, nB, a in cases:
        sizes = (nA,) * KA + (nB,) * KB
        nv = np.asarray(sizes, dtype=float)
        N, K = nv.sum(), nv.size
        for bias in ("none", "free"):
            centre = np.eye(K) - (1 / K if bias == "none" else np.outer(nv, np.ones(K)) / N)
            formula = (
                float(shrink.subs(alpha, a)) * np.linalg.norm(centre @ np.diag(np.sqrt(nv)), 2) / N
            )
            exact = float(ce_zero_threshold_value(sizes, bias, a))
            worst = max(worst, abs(exact - formula) / formula)
    fact(
        "ce_zero_threshold_value (largest root of the characteristic polynomial of grad D^-1 "
        "grad^T) = (1 - alpha) sigma_max(Yhat)/N to float64 rounding, both biases",
        worst < 1e-13,
        f"worst relative difference {worst:.2g} over {len(cases)} size sets x 2 biases",
    )
    KA, nA, KB, nB, a = 1, 5, 2, 1, 0.5
    mu_B = float(shrink.subs(alpha, a)) * math.sqrt(nB) / (KA * nA + KB * nB)
    th = ce_minority_threshold(KA, nA, KB, nB, bias="free", smoothing=a, xtol=1e-6)
    fact(
        "the certified bisection on the nuclear-norm program (ce-ls targets) brackets mu_B",
        th.bracket[0] < mu_B <= th.bracket[1],
        f"{th.bracket} vs {mu_B}",
    )
    mu_0 = float(ce_zero_threshold_value((nA,) * KA + (nB,) * KB, "free", sp.Rational(1, 2)))
    certified = zero_threshold(two_group_problem(KA, nA, KB, nB, 1.0, bias="free", smoothing=a))
    fact(
        "the zero face's dual certificate (cvxpy bias, library loss targets) gives mu_0",
        abs(certified - mu_0) <= 1e-8 * mu_0,
        f"{certified} vs {mu_0}",
    )
    spreads, norms = [], []
    for factor in (0.9, 1.1):
        Z = nuclear_relaxation(
            two_group_problem(KA, nA, KB, nB, factor * mu_B, bias="free", smoothing=a)
        ).Z
        spreads.append(float(np.linalg.norm(Z[:, 1] - Z[:, 2])))
        Z = nuclear_relaxation(
            two_group_problem(KA, nA, KB, nB, factor * mu_0, bias="free", smoothing=a)
        ).Z
        norms.append(float(np.linalg.norm(Z)))
    fact(
        "the unrestricted program: minority apart at 0.9 mu_B, equal at 1.1 mu_B; logits nonzero "
        "at 0.9 mu_0, zero at 1.1 mu_0",
        spreads[0] > 0.1 and spreads[1] < 1e-4 and norms[0] > 0.01 and norms[1] < 1e-4,
        f"spreads {spreads[0]:.3g}, {spreads[1]:.2g}; norms {norms[0]:.3g}, {norms[1]:.2g}",
    )


if __name__ == "__main__":
    zero_steps(SHRINK)
    minority_steps(SHRINK)
    library_steps(SHRINK)
    done(
        "label-smoothed CE UFM, two class sizes: minority collapse iff mu >= (1 - alpha) "
        "sqrt(n_B)/N, W = H = 0 iff mu >= (1 - alpha) sigma_max(Yhat)/N"
    )
    print("verified")
