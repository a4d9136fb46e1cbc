"""The simplex ETF and its identities, for every K (symbolic) and exactly for K = 2..30.

Statement (Papyan, Han & Donoho 2020, PNAS, definition of the simplex ETF). For K >= 2 the matrix
G = K/(K-1) (I - J/K), J = 1 1^T, is positive semidefinite of rank K - 1 with unit diagonal and
off-diagonal entries -1/(K-1). Hence K unit vectors m_1..m_K with Gram G exist in R^d iff
d >= K - 1; they have equal norms, pairwise cosines -1/(K-1), sum m_k = 0, and their minimal
pairwise angle arccos(-1/(K-1)) is the largest any K unit vectors can have.

Method: matrices a I + b J form a commutative algebra; write them as p P + j J with P = I - J/K
(P^2 = P, P J = 0, J^2 = K J). Then p is the eigenvalue on 1-perp (multiplicity K - 1) and jK the
eigenvalue on 1: this proves statements for symbolic K.
"""

import sympy as sp
from _steps import done, fact, identity, nonnegative

from ufm.geometry import etf_gram, is_simplex_etf, simplex_etf
from ufm.minimizers import PJ

K = sp.Symbol("K", integer=True, positive=True)
Km = sp.Symbol("K_minus_1", positive=True)  # K - 1 > 0 for K >= 2

G = PJ.from_IJ(K / (K - 1), -1 / (K - 1), K)
identity("G = K/(K-1) P: its coefficient on J vanishes", G.j, 0)
identity("the eigenvalue on 1-perp (multiplicity K-1) is K/(K-1)", G.p, K / (K - 1))
nonnegative("so G is positive semidefinite (K/(K-1) > 0)", (Km + 1) / Km)
identity(
    "G^2 = K/(K-1) G: G is K/(K-1) times the projection P, rank K - 1", (G * G).p, K / (K - 1) * G.p
)
identity(
    "diagonal entry of pP + jJ is p(1 - 1/K) + j = 1 (unit, hence equal, norms)",
    G.p * (1 - 1 / K) + G.j,
    1,
)
identity("off-diagonal entry -p/K + j = cosine = -1/(K-1)", -G.p / K + G.j, -1 / (K - 1))
identity("||M 1||^2 = 1^T G 1 = (eigenvalue on 1) * K = 0, so M 1 = 0", G.j * K * K, 0)
s = sp.Symbol("S", real=True)  # S = sum of the K(K-1) off-diagonal cosines of any K unit vectors
identity(
    "any K unit vectors: ||sum m_k||^2 = K + S >= 0, and mean cosine + 1/(K-1) = (K + S)/(K(K-1)) "
    ">= 0",
    s / (K * (K - 1)) + 1 / (K - 1),
    (K + s) / (K * (K - 1)),
)
fact(
    "the largest cosine is at least the mean, so the minimal angle is at most arccos(-1/(K-1)); "
    "the ETF attains it in every pair",
    True,
    "max_{i != j} cos >= mean >= -1/(K-1) = cos(ETF angle)",
)

for K_value in range(2, 31):
    for d in (K_value - 1, K_value):
        verdicts = is_simplex_etf(simplex_etf(K_value, d, exact=True))
        if not all(verdicts.values()):
            fact(f"exact ETF K={K_value} d={d}", False, str(verdicts))
    if etf_gram(K_value) != PJ.from_IJ(
        K_value / sp.Integer(K_value - 1), -1 / sp.Integer(K_value - 1), K_value
    ).matrix(K_value):
        fact(f"Gram of K={K_value}", False)
fact(
    "exact frames for K = 2..30, d in {K-1, K}: every identity holds exactly",
    True,
    "unit norm, equinorm, Gram, cosines, M 1 = 0, rank K-1, max-min angle",
)
done("Simplex ETF identities")
print("verified")
