"""Max-margin value of the balanced UFM: (K-1) sqrt(n), attained by a simplex ETF.

Statement (derived here; consistent with Ji, Lu, Zhang, Deng & Su 2022, ICLR, whose gradient-flow
limit is this program, and Thrampoulidis et al. 2022, SELI). For K balanced classes of size n and
d >= K - 1,

    v* = min 1/2(||W||^2 + ||H||^2)  s.t.  (w_{y_i} - w_j)^T h_i >= 1 for all i, j != y_i

equals (K-1) sqrt(n). Upper bound: the ETF ansatz w_k = s u_k, h_i = t u_{y_i} with unit ETF
vectors u_k (cosines -1/(K-1)) and AM-GM. Lower bound: 1/2(||W||^2 + ||H||^2) >= ||W|| ||H||
>= ||WH||_* >= <WH, Y> for any Y of spectral norm <= 1; Y = P E^T / sqrt(n) (E the N x K class
indicator, P = I - J/K) has Y Y^T = P (spectral norm 1) and <Z, P E^T> = sum_i (z_{y_i,i} -
mean_j z_{j,i}) = sum_i (1/K) sum_{j != y_i} (z_{y_i,i} - z_{j,i}) >= N (K-1)/K.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.minimizers import PJ, SYMBOLS, max_margin_value

K, n = SYMBOLS["K"], SYMBOLS["n"]
s, t = sp.symbols("s t", positive=True)

cos = -1 / (K - 1)
margin = s * t * (1 - cos)
identity(
    "ETF ansatz margin (w_k - w_j)^T h_k = s t (1 + 1/(K-1)) = s t K/(K-1)",
    margin,
    s * t * K / (K - 1),
)
sqrt_n = sp.sqrt(n)
energy = K / 2 * (s**2 + n * t**2)
identity(
    "AM-GM: K/2 (s^2 + n t^2) - K sqrt(n) s t = K/2 (s - sqrt(n) t)^2",
    energy - K * sp.sqrt(n) * s * t,
    K / 2 * (s - sqrt_n * t) ** 2,
)
nonnegative("... a square times K/2 > 0, hence >= 0", K / 2 * sp.Symbol("r", real=True) ** 2)
identity(
    "at margin 1 (s t = (K-1)/K) the AM-GM bound is (K-1) sqrt(n)",
    (K * sp.sqrt(n) * s * t).subs(t, (K - 1) / (K * s)),
    (K - 1) * sp.sqrt(n),
)
s_star = sp.sqrt((K - 1) / K) * n ** sp.Rational(1, 4)
t_star = (K - 1) / (K * s_star)
identity("equality s^2 = n t^2 at s* = n^(1/4) sqrt((K-1)/K)", s_star**2, n * t_star**2)
identity(
    "the ansatz at s* has value (K-1) sqrt(n)",
    energy.subs({s: s_star, t: t_star}),
    (K - 1) * sp.sqrt(n),
)
P = PJ(1, 0)
identity("Y Y^T = P E^T E P / n = P: spectral norm 1 (P is a projection, P^2 = P)", (P * P).p, P.p)
N = n * K
identity(
    "certificate <WH, Y> >= N (K-1)/K / sqrt(n) = (K-1) sqrt(n)",
    N * (K - 1) / K / sp.sqrt(n),
    (K - 1) * sp.sqrt(n),
)
ok = all(
    sp.simplify(max_margin_value((n_,) * K_) - (K_ - 1) * sp.sqrt(n_)) == 0
    for K_ in range(2, 9)
    for n_ in (1, 2, 3, 7)
)
fact("ufm.minimizers.max_margin_value: (K-1) sqrt(n) exactly for K = 2..8, n in {1, 2, 3, 7}", ok)
done("max-margin value, balanced classes")
print("verified")
