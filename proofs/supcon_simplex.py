"""Full-batch supervised contrastive loss on a sphere: class collapse onto a simplex ETF.

Statement (Graf, Hofer, Niethammer & Kwitt 2021, ICML: the minimizers collapse each class to a
vertex of a regular simplex; value derived here). For K >= 2 classes of n >= 2 samples,
d >= K - 1, radius rho > 0, with L the SupCon loss of ufm.contrastive (all anchors, positives the
other samples of the anchor's class, denominator over all a != i):

    min L over ||z_i|| = rho  equals  log((n-1) + n(K-1) exp(-rho^2 K/(K-1))).

Proof: with G = Z^T Z, Jensen inside anchor i's log-sum-exp, on the positives and the negatives
separately, gives term_i >= psi(x_i), x_i = mean negative G_ia - mean positive G_ip,
psi(x) = log(n - 1 + n(K-1) e^x) convex increasing; Jensen over anchors gives L >= psi(mean x).
With class sums S_k, S = sum_k S_k, T = sum_k ||S_k||^2:
sum_i sum_{a not in class(i)} G_ia = ||S||^2 - T and sum_i sum_{p in P(i)} G_ip = T - N rho^2,
and 0 <= ||S||^2 <= K T, T <= K n^2 rho^2; the linear function is smallest at S = 0,
T = K n^2 rho^2, giving mean x >= -rho^2 K/(K-1). Equality: classes collapsed (||S_k|| = n rho),
centred, equal Gram entries: a simplex ETF.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.spherical import supcon_optimum
from ufm.tolerances import FLOAT, relative_deviation

K, n, rho = sp.symbols("K n rho", positive=True)
S2, T, u = sp.symbols("S2 T u", real=True)
N = K * n
psi = sp.log(n - 1 + n * (K - 1) * sp.exp(u))
nonnegative(
    "psi(u) = log(n - 1 + n(K-1) e^u) is increasing (n >= 2 assumed below)",
    sp.diff(psi, u).subs(n, 2 + sp.Symbol("m", nonnegative=True)),
)
nonnegative(
    "psi is convex (Jensen over anchors applies)",
    sp.diff(psi, u, 2).subs(n, 2 + sp.Symbol("m", nonnegative=True)),
)
mean_x = ((S2 - T) / (n * (K - 1)) - (T - N * rho**2) / (n - 1)) / N
identity(
    "d(mean x)/d||S||^2 = 1/(N n (K-1)) > 0: take ||S||^2 = 0",
    sp.diff(mean_x, S2),
    1 / (N * n * (K - 1)),
)
identity(
    "d(mean x)/dT = -(1/(n(K-1)) + 1/(n-1))/N < 0: take T = K n^2 rho^2 (||S_k|| <= n rho)",
    sp.diff(mean_x, T),
    -(1 / (n * (K - 1)) + 1 / (n - 1)) / N,
)
smallest = sp.simplify(mean_x.subs({S2: 0, T: K * n**2 * rho**2}))
identity("the smallest mean x is -rho^2 K/(K-1)", smallest, -(rho**2) * K / (K - 1))
bound = psi.subs(u, smallest)
own, other = rho**2, -(rho**2) / (K - 1)
identity(
    "the collapsed ETF (G = rho^2 within a class, -rho^2/(K-1) across) attains the bound at every "
    "anchor: log((n-1) e^{rho^2} + n(K-1) e^{-rho^2/(K-1)}) - rho^2 (compared through exp)",
    sp.expand(sp.exp(sp.log((n - 1) * sp.exp(own) + n * (K - 1) * sp.exp(other)) - own)),
    sp.expand(sp.exp(bound)),
)
fact(
    "the ETF is centred with ||S_k|| = n rho, so it meets S = 0 and T = K n^2 rho^2: "
    "sum of the unit ETF Gram is 0 for K = 2..8",
    all(
        sum(sp.eye(k_) - sp.Rational(1, k_ - 1) * (sp.ones(k_, k_) - sp.eye(k_))) == 0
        for k_ in range(2, 9)
    ),
)
values = [(2, 2, 1), (3, 3, sp.Rational(1, 2)), (4, 2, sp.Rational(3, 2))]
fact(
    "ufm.spherical.supcon_optimum: the collapsed ETF's loss and the chain's bound both equal the "
    "value (K, n, rho) in {(2, 2, 1), (3, 3, 1/2), (4, 2, 3/2)}",
    all(
        relative_deviation(float(out), float(bound.subs({K: k_, n: n_, rho: r_}))) <= FLOAT
        for k_, n_, r_ in values
        for out in supcon_optimum(k_, n_, r_).values()
    ),
)
done("Full-batch SupCon on the sphere (Graf et al. 2021)")
print("verified")
