"""Family ``seli``: the SELI geometry of the max-margin (vanishing-regularization) UFM."""

from __future__ import annotations

import numpy as np

from ... import tolerances as tol
from .._core import Claim, Domain, IntRange, Route
from .._registry import register
from ._common import centring


def _seli_predict(point):
    r"""The SVD factors of the simplex-encoded label matrix (Thrampoulidis et al. 2022), per class.

    W W^T = (P D P)^{1/2}, M^T M = D^{-1/2}(D^{1/2} P D^{1/2})^{1/2} D^{-1/2}, logits Z = P.
    """
    sizes = np.asarray(point["class_sizes"], dtype=float)
    K = sizes.size
    P = centring(K)

    def psd_sqrt(A):
        vals, vecs = np.linalg.eigh(A)
        return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T

    import sympy as sp

    Dh = np.diag(np.sqrt(sizes))
    return {
        "WWt": psd_sqrt(P @ np.diag(sizes) @ P),
        "MtM": np.linalg.inv(Dh) @ psd_sqrt(Dh @ P @ Dh) @ np.linalg.inv(Dh),
        "WM": sp.eye(K) - sp.ones(K, K) / K,
        "margins": sp.ones(K * (K - 1), 1),
    }


def _seli_convex(point):
    from ...relaxations import max_margin

    res = max_margin(point["class_sizes"])
    return {"WWt": res.gram_W, "MtM": res.gram_M, "WM": res.W @ res.M}


def _seli_symbolic(point):
    import sympy as sp

    sizes = point["class_sizes"]
    K = len(sizes)
    P = sp.eye(K) - sp.ones(K, K) / K
    # exact margins of the SEL logits: z_kk - z_jk = 1 for every class k and j != k
    margins = [P[k, k] - P[j, k] for k in range(K) for j in range(K) if j != k]
    return {"WM": P, "margins": sp.Matrix(margins)}


register(
    Claim(
        id="seli.max-margin",
        citation="Thrampoulidis et al. 2022 (SELI); Ji et al. 2021",
        statement="The max-margin (vanishing-regularization) UFM has logits equal to the "
        "simplex-encoded labels (margins exactly 1) and W, H given by their SVD (SELI); for "
        "balanced classes a simplex ETF.",
        domain=Domain(
            {
                "K": IntRange(2, 6, fast_hi=4),
                "n_lo": IntRange(1, 5),
                "n_hi": IntRange(1, 20),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {
                "class_sizes": tuple(
                    int(x)
                    for x in np.random.default_rng(p["seed"]).integers(
                        min(p["n_lo"], p["n_hi"]), max(p["n_lo"], p["n_hi"]) + 1, p["K"]
                    )
                )
            },
            description="any class sizes, d >= K",
        ),
        predict=_seli_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _seli_symbolic,
                tol.EXACT,
                description="exact SEL matrix and its margins (sympy)",
            ),
            "convex": Route(
                "convex",
                _seli_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="min ||Z D^(1/2)||_* s.t. margins >= 1, Clarabel",
            ),
        },
        proof="proofs/seli.py",
    )
)
