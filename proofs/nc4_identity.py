"""NC2 + NC3 imply NC4: a self-dual classifier on equinorm centred means picks the nearest mean.

Statement (derived here; consistent with Papyan, Han & Donoho 2020, PNAS, where NC4 is observed to
follow from NC1-NC3). Let mu_1..mu_K be class means with global mean mu_G and centred means
mu~_k = mu_k - mu_G of equal norm (NC2), and let the classifier be self-dual (NC3):
w_k = c mu~_k with c > 0 and b_k = -c <mu~_k, mu_G> (+ any constant). Then for every feature
vector h and classes j, k

    (W h + b)_j - (W h + b)_k = (c/2) (||h - mu_k||^2 - ||h - mu_j||^2),

so argmax_k (W h + b)_k = argmin_k ||h - mu_k||: the classifier is the nearest-class-centre rule
(NC4). NC1 is what makes the decision *stable*: with vanishing within-class variability every
training feature sits at its class mean, at distance 0 from it and at least
min_{j != k} ||mu_j - mu_k|| from the others.
"""

import sympy as sp
from _steps import done, identity

d = 3  # the identity is coordinate-wise; d = 3 exhibits every cross term
h, g, u, v = (sp.Matrix(sp.symbols(f"{s}0:{d}", real=True)) for s in "hguv")
c = sp.Symbol("c", positive=True)


def sq(x):
    return (x.T * x)[0]


def logit(m):
    """(W h + b)_k with w_k = c m (m the centred mean) and b_k = -c <m, mu_G>."""
    return c * (m.T * h)[0] - c * (m.T * g)[0]


identity(
    "polarization: <m, h - mu_G> = (||h - mu_G||^2 + ||m||^2 - ||h - mu_G - m||^2)/2",
    (u.T * (h - g))[0],
    (sq(h - g) + sq(u) - sq(h - g - u)) / 2,
)
identity(
    "logit difference = (c/2)(||h - mu_k||^2 - ||h - mu_j||^2) + (c/2)(||mu~_j||^2 - ||mu~_k||^2)",
    logit(u) - logit(v),
    c / 2 * (sq(h - g - v) - sq(h - g - u)) + c / 2 * (sq(u) - sq(v)),
)
equinorm = {v[2]: sp.sqrt(sq(u) - v[0] ** 2 - v[1] ** 2)}  # ||mu~_k|| = ||mu~_j|| (NC2)
identity(
    "under equinorm the norm term vanishes: logits order like minus squared distances",
    (logit(u) - logit(v)).subs(equinorm),
    (c / 2 * (sq(h - g - v) - sq(h - g - u))).subs(equinorm),
)
done("NC2 + NC3 imply NC4")
print("verified")
