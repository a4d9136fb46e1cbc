"""Family ``lpm``: the norm-constrained layer-peeled model (balanced ETF, Minority Collapse)."""

from __future__ import annotations

import math

from ... import tolerances as tol
from ...metrics import gram_invariants
from .._core import Claim, Domain, IntRange, LogRange, Route
from .._registry import register
from ._common import etf_unit_gram

# --------------------------------------------------------------------------------------------------
# Balanced classes: simplex ETF


def _lpm_predict(point):
    K, E_W, E_H = point["K"], point["E_W"], point["E_H"]
    G = etf_unit_gram(K)
    value = math.log1p((K - 1) * math.exp(-K * math.sqrt(E_W * E_H) / (K - 1)))
    return {"objective": value, "WWt": E_W * G, "MtM": E_H * G, "WM": math.sqrt(E_W * E_H) * G}


def _lpm_symbolic(point):
    from ...minimizers import layer_peeled_optimum

    cf = layer_peeled_optimum(point["K"], point["E_W"], point["E_H"])
    return {"objective": cf.objective, **gram_invariants(cf.W, cf.M)}


def _lpm_convex(point):
    from ...relaxations import layer_peeled_sdp

    K = point["K"]
    res = layer_peeled_sdp(K, (point["n"],) * K, point["E_W"], point["E_H"])
    return {"objective": res.objective, **gram_invariants(res.W, res.M)}


register(
    Claim(
        id="lpm.balanced-etf",
        citation="Fang et al. 2021; Lu & Steinerberger 2020; Graf et al. 2021",
        statement="In the norm-constrained layer-peeled model with CE and balanced classes, the "
        "optimum is log(1 + (K-1) exp(-K sqrt(E_W E_H)/(K-1))), attained by a self-dual simplex "
        "ETF with ||w_k||^2 = E_W and ||h||^2 = E_H.",
        domain=Domain(
            {
                "K": IntRange(2, 10, fast_hi=4),
                "n": IntRange(1, 20),
                "E_W": LogRange(0.1, 10.0),
                "E_H": LogRange(0.1, 10.0),
            },
            description="balanced classes, d >= K - 1, energy budgets E_W, E_H > 0",
        ),
        predict=_lpm_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _lpm_symbolic,
                tol.CLOSED_FORM,
                description="sympy derivation (ufm.minimizers.layer_peeled_optimum)",
            ),
            "convex": Route(
                "convex",
                _lpm_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="SDP over the Gram matrix of (W, M), Clarabel",
            ),
        },
        proof="proofs/layer_peeled.py",
    )
)

# --------------------------------------------------------------------------------------------------
# Minority Collapse


def _minority_convex(point):
    from ...relaxations import minority_collapse_sweep, minority_threshold

    args = (point["K_A"], point["K_B"], point["E_W"], point["E_H"])
    located = minority_threshold(*args)
    R_star = located.threshold
    sweep = minority_collapse_sweep(*args, ((1 + R_star) / 2, 2 * R_star), locate=False)
    psi, error = sweep.certificate, sweep.certificate_error
    return {
        # below the threshold the minority classifiers are certified apart, above certified
        # collapsed, and the optimum's minority rows coincide (spread 0 to the Gram's accuracy)
        "certified_apart_below": float(psi[0] < -error[0]),
        "certified_collapsed_above": float(psi[1] > error[1]),
        "spread_above": sweep.minority_spread[1],
    }


register(
    Claim(
        id="lpm.minority-collapse",
        citation="Fang et al. 2021 (Minority Collapse)",
        statement="With K_A majority classes of size n_A and K_B minority classes of size n_B in "
        "the layer-peeled model, the minority classifiers coincide once n_A/n_B exceeds a finite "
        "threshold.",
        domain=Domain(
            {
                "K_A": IntRange(1, 5, fast_hi=3),
                "K_B": IntRange(2, 5, fast_hi=3),
                "E_W": LogRange(0.5, 2.0),
                "E_H": LogRange(0.5, 2.0),
            },
            description="K_A >= 1, K_B >= 2, energy budgets in [0.5, 2]",
        ),
        predict=lambda point: {
            "certified_apart_below": 1.0,
            "certified_collapsed_above": 1.0,
            "spread_above": 0.0,
        },
        routes={
            "convex": Route(
                "convex",
                _minority_convex,
                tol.CONVEX_ARGMIN,
                max_points=2,
                description="certified bracket on R*, then the certificate psi and the minority "
                "spread at (1 + R*)/2 and 2R* (layer-peeled SDP)",
            ),
        },
    )
)
