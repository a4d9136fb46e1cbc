"""Softmax codes: the largest minimal one-versus-rest margin of K unit classifiers in R^d.

Statement (derived here; consistent with Jiang, Zhou, Wang, Balzano, Zhu & Qu 2023, "Generalized
neural collapse for a large number of classes", and Alcala et al. 2026, "Neural collapse in the
orthoplex regime", both read as abstracts). With m_k(W) = dist(w_k, conv{w_j : j != k}) and
m(W) = min_k m_k(W) over unit rows w_1..w_K in R^d,

* for every K, d: m(W) <= K/(K-1), with equality for the simplex ETF (so it is optimal, K <= d+1);
* d = 2, K >= 4: m(W) <= 1 - cos(2 pi/K), with equality for the regular K-gon;
* K = 2d: the cross-polytope {+-e_i} has m = 1 (its optimality is checked by ascent, not here).

Each margin is certified both ways: a point p of the hull of the others gives m_k <= |w_k - p|, and
the unit direction h = (w_k - p)/|w_k - p| gives m_k >= min_j (w_k - w_j)^T h.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.codes import cross_polytope, exact_margin, polygon
from ufm.geometry import simplex_etf

K = sp.Symbol("K", positive=True)
mu2 = sp.Symbol("mu2", nonnegative=True)

# Upper bound for every code: the centroid c_k of the others is in their hull, and
# w_k - c_k = (K w_k - K mu)/(K-1) with mu the mean of all rows;
# sum_k |w_k - mu|^2 = K (1 - |mu|^2).
identity(
    "w_k - c_k = K/(K-1) (w_k - mu): (K w - (K mu - w) - w... ) coefficient of w_k, of mu",
    sp.Matrix([1 + 1 / (K - 1), -K / (K - 1)]),
    sp.Matrix([K / (K - 1), -K / (K - 1)]),
)
bound2 = (K / (K - 1)) ** 2 * (1 - mu2)
nonnegative(
    "min_k m_k^2 <= mean_k |w_k - c_k|^2 = (K/(K-1))^2 (1 - |mu|^2) <= (K/(K-1))^2",
    (K / (K - 1)) ** 2 - bound2,
)

# The simplex ETF attains it: cosines -1/(K-1), the others' centroid is -w_k/(K-1).
u = K / (K - 1)  # u = w_k - c_k = K/(K-1) w_k, |u| = K/(K-1)
identity(
    "ETF: (w_k - w_j)^T u = (1 + 1/(K-1)) K/(K-1) = |u|^2 for every j != k",
    (1 + 1 / (K - 1)) * u,
    u**2,
)
fact(
    "library: exact_margin(simplex ETF) = K/(K-1) for K = 2..8",
    all(
        sp.simplify(
            exact_margin(simplex_etf(k, k - 1, exact=True).T, 0, range(1, k))
            - sp.Rational(k, k - 1)
        )
        == 0
        for k in range(2, 9)
    ),
)

# d = 2. Vertex w = (1, 0) with neighbours at angles a and -b (a, b the angular gaps), rationally
# parametrized by t = tan(a/2), s = tan(b/2): the distance from w to the neighbours' chord is
# 2 sin(a/2) sin(b/2).
t, s = sp.symbols("t s", positive=True)
ca, sa = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
cb, sb = (1 - s**2) / (1 + s**2), 2 * s / (1 + s**2)
n1, n2, w = sp.Matrix([ca, sa]), sp.Matrix([cb, -sb]), sp.Matrix([1, 0])
e, r = n1 - n2, w - n2
cross = e[0] * r[1] - e[1] * r[0]
identity(
    "dist(w, chord)^2 = (2 sin(a/2) sin(b/2))^2",
    sp.cancel(cross**2 / (e.T * e)[0, 0]),
    4 * t**2 * s**2 / ((1 + t**2) * (1 + s**2)),
)
a, b = sp.symbols("a b", positive=True)
identity(
    "2 sin(a/2) sin(b/2) = (1 - cos((a+b)/2)) - (1 - cos((a-b)/2))",
    sp.expand_trig(2 * sp.sin(a / 2) * sp.sin(b / 2)),
    sp.expand_trig((1 - sp.cos((a + b) / 2)) - (1 - sp.cos((a - b) / 2))),
)
# The foot of the perpendicular lies on the chord when a, b < pi (the inscribed angles at the
# neighbours, a/2 and b/2, are acute), so m_k <= 1 - cos((a_k + b_k)/2). The gaps sum to 2 pi, so
# some vertex has a_k + b_k <= 4 pi/K <= pi (K >= 4), and 1 - cos is increasing on [0, pi]:
# m(W) <= 1 - cos(2 pi/K). The regular K-gon has a = b = 2 pi/K and attains it:
identity(
    "K-gon: chord distance with a = b = 2 pi/K equals 1 - cos(2 pi/K)",
    sp.expand_trig(2 * sp.sin(sp.pi / K) ** 2),
    sp.expand_trig(1 - sp.cos(2 * sp.pi / K)),
)
fact(
    "library: exact_margin(K-gon) = 1 - cos(2 pi/K) exactly, K = 4..12 (certified both ways)",
    all(
        sp.simplify(
            exact_margin(polygon(k, exact=True), 0, (1, k - 1)) - (1 - sp.cos(2 * sp.pi / k))
        )
        == 0
        for k in range(4, 13)
    ),
)

# K = 2d: the others of e_1 lie in {x_1 <= 0} (so m >= 1 with h = e_1) and contain +-e_2, whose
# midpoint 0 is at distance 1.
fact(
    "library: exact_margin(cross-polytope) = 1, d = 2..6",
    all(exact_margin(cross_polytope(k, exact=True), 0, (2, 3)) == 1 for k in range(2, 7)),
)
done("softmax codes: simplex K/(K-1), K-gon 1 - cos(2 pi/K), cross-polytope 1; verified")
