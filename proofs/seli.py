"""SELI reduces to the simplex ETF for balanced classes.

Statement (Thrampoulidis et al. 2022, NeurIPS, "Imbalance trouble"; derived here, consistent with
it). The SELI geometry of class sizes n_1..n_K has W W^T = (P D P)^{1/2} and class-mean Gram
M^T M = D^{-1/2} (D^{1/2} P D^{1/2})^{1/2} D^{-1/2} (D = diag(n_k), P = I - J/K). For balanced
sizes D = n I both are multiples of P, i.e. of the simplex ETF Gram K/(K-1) P: SELI is Neural
Collapse.
"""

import numpy as np
import sympy as sp
from _steps import done, fact, identity

from ufm.geometry import etf_gram, is_simplex_etf, seli
from ufm.minimizers import PJ, SYMBOLS
from ufm.tolerances import FLOAT, relative_deviation

K, n = SYMBOLS["K"], SYMBOLS["n"]
P = PJ(1, 0)
PDP = P * PJ.from_IJ(n, 0) * P
identity("balanced: P D P = n P (no J part)", PDP.j, 0)
identity("... with P coefficient n", PDP.p, n)
root = PJ(sp.sqrt(n), 0)
identity(
    "(sqrt(n) P)^2 = n P, and sqrt(n) P is PSD: (P D P)^{1/2} = sqrt(n) P", (root * root).p, PDP.p
)
identity(
    "sqrt(n) P = sqrt(n) (K-1)/K times the ETF Gram K/(K-1) P",
    root.p,
    sp.sqrt(n) * (K - 1) / K * K / (K - 1),
)
identity(
    "M^T M = n^{-1/2} sqrt(n) P n^{-1/2} = P / sqrt(n): also a multiple of the ETF Gram",
    (root * (1 / n)).p,
    1 / sp.sqrt(n),
)
ok = True
for K_ in range(2, 9):
    for n_ in (1, 3, 10):
        S = seli([n_] * K_)
        ok &= (
            relative_deviation(S.M_gram * np.sqrt(n_), (K_ - 1) / K_ * etf_gram(K_, exact=False))
            <= FLOAT
        )
        ok &= all(is_simplex_etf(S.M / np.linalg.norm(S.M[:, 0])).values())
fact("ufm.geometry.seli: balanced class means form a simplex ETF (K = 2..8, n in {1, 3, 10})", ok)
done("SELI, balanced case")
print("verified")
