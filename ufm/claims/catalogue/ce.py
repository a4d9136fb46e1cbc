r"""Family ``ce``: cross-entropy UFMs.

* ``ce.global-minimizer``: the global minimizer of the regularized CE UFM (Zhu et al. 2021);
* ``ce.implicit-max-margin``: without weight decay and without bias, gradient descent on the CE UFM
  converges in direction to the minimizer of the max-margin program

  .. math:: v^* = \min_{W,H}\ \tfrac12(\|W\|_F^2 + \|H\|_F^2)\ \text{ s.t. }\
            (w_{y_i} - w_j)^\top h_i \ge 1\ \ \forall i,\ j\ne y_i,

  with :math:`v^* = (K-1)\sqrt n` for balanced classes (a simplex ETF) and the SELI value
  :math:`\|PD^{1/2}\|_*` in general (P = I - 11^T/K, D = diag(n_k)); its classifier Gram direction
  is :math:`(PDP)^{1/2}` normalized. The prediction is written here literally; the routes compute
  it by sympy (:func:`ufm.minimizers.max_margin_value`), by the convex program
  (:func:`ufm.relaxations.max_margin`) and by descent (:func:`ufm.dynamics.margin_descent`).
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from .._core import Claim, Domain, IntRange, Route
from .._registry import register
from ._common import centring, etf_unit_gram
from ._minimizer import register_minimizer


def theorem(point: dict, bias: str) -> dict:
    r"""Zhu et al. 2021, Thm 3.1, in ufm's normalization.

    With kappa = K sqrt(n lambda_W lambda_H): the origin iff kappa >= 1, else a simplex ETF with
    s t = x* = ((K-1)/K) log((K - (K-1) kappa)/kappa), s^2 = x* sqrt(n lambda_H/lambda_W),
    h = t u_k, b = 0 (regularized) or any constant (free).
    """
    K, n, lW, lH = point["K"], point["n"], point["lambda_W"], point["lambda_H"]
    kappa = K * math.sqrt(n * lW * lH)
    P = etf_unit_gram(K)
    if kappa >= 1:
        x = s2 = t2 = 0.0
    else:
        x = (K - 1) / K * math.log((K - (K - 1) * kappa) / kappa)
        s2, t2 = x * math.sqrt(n * lH / lW), x * math.sqrt(lW / (n * lH))
    value = math.log1p((K - 1) * math.exp(-K * x / (K - 1))) + kappa * x
    return {"objective": value, "WWt": s2 * P, "MtM": t2 * P, "WM": x * P, "b_centred": np.zeros(K)}


register_minimizer(
    "ce.global-minimizer",
    "Zhu et al. 2021, Thm 3.1",
    "Every global minimizer of the regularized CE UFM (balanced, d >= K-1) is collapsed onto a "
    "simplex ETF with self-dual classifier, of the stated scale and value, and is W = H = 0 iff "
    "K sqrt(n lambda_W lambda_H) >= 1.",
    "ce",
    "any",
    -1,
    theorem,
    "proofs/ce_global_minimizer.py",
)


def label_smoothing_theorem(point: dict, bias: str) -> dict:
    r"""Label-smoothed CE minimizer (derived here, ``proofs/ce_label_smoothing.py``; consistent with
    Zhou et al. 2022b and Guo et al. 2025, whose abstracts state that the global minimizers are NC
    solutions in closed form).

    With :math:`\gamma = \sqrt{n\lambda_W\lambda_H}`, :math:`\kappa = K\gamma` and
    :math:`\bar q = \alpha/K + \gamma`: the origin iff :math:`\alpha + \kappa \ge 1`, else a simplex
    ETF whose logits have the gap (own minus other)
    :math:`c^* = \log\frac{1 - (K-1)\bar q}{\bar q}`, i.e. W M = x K/(K-1) P with
    x = (K-1)c*/K, balanced factors as for CE, and the value

    .. math:: f^* = -(1 - \alpha + \tfrac\alpha K)\log p_k - (K-1)\tfrac\alpha K\log p_j
              + \gamma (K-1) c^*,\quad p_k = \frac{1}{1 + (K-1)e^{-c^*}},\ p_j = e^{-c^*}p_k

    (:math:`f^* = \log K` at the origin). :math:`\alpha = 0` is Zhu et al. 2021, Thm 3.1.
    """
    K, n, lW, lH = point["K"], point["n"], point["lambda_W"], point["lambda_H"]
    alpha = point["smoothing"]
    gamma = math.sqrt(n * lW * lH)
    q = alpha / K + gamma
    c = math.log((1 - (K - 1) * q) / q) if alpha + K * gamma < 1 else 0.0
    x = (K - 1) * c / K
    s2, t2 = x * math.sqrt(n * lH / lW), x * math.sqrt(lW / (n * lH))
    p_own = 1 / (1 + (K - 1) * math.exp(-c))
    p_other = math.exp(-c) * p_own
    value = (
        -(1 - alpha + alpha / K) * math.log(p_own)
        - (K - 1) * (alpha / K) * math.log(p_other)
        + gamma * (K - 1) * c
    )
    P = etf_unit_gram(K)
    return {"objective": value, "WWt": s2 * P, "MtM": t2 * P, "WM": x * P, "b_centred": np.zeros(K)}


register_minimizer(
    "ce.label-smoothing",
    "derived here (proofs/ce_label_smoothing.py); consistent with Zhou et al. 2022b, "
    "Guo et al. 2025",
    "Every global minimizer of the regularized label-smoothed CE UFM (smoothing alpha, balanced, "
    "d >= K-1) is collapsed onto a simplex ETF with self-dual classifier whose off-class softmax "
    "probability is alpha/K + sqrt(n lambda_W lambda_H), and is W = H = 0 iff alpha + "
    "K sqrt(n lambda_W lambda_H) >= 1.",
    "ce-ls",
    "any",
    -1,
    label_smoothing_theorem,
    "proofs/ce_label_smoothing.py",
)

# --------------------------------------------------------------------------------------------------
# ce.implicit-max-margin


def _unit(G: np.ndarray) -> np.ndarray:
    return G / np.linalg.norm(G)


def _margin_predict(point):
    r"""v* = (K-1) sqrt(n) (balanced), else ||P D^{1/2}||_*; classifier Gram ∝ (P D P)^{1/2}."""
    sizes = np.asarray(point["class_sizes"], dtype=float)
    K = sizes.size
    P = centring(K)
    if np.all(sizes == sizes[0]):
        import sympy as sp

        value = (K - 1) * sp.sqrt(int(sizes[0]))
    else:
        value = float(np.linalg.svd(P @ np.diag(np.sqrt(sizes)), compute_uv=False).sum())
    vals, vecs = np.linalg.eigh(P @ np.diag(sizes) @ P)
    root = (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T
    return {"value": value, "gram_W": _unit(root)}


def _margin_symbolic(point):
    from ...minimizers import max_margin_value

    return {"value": max_margin_value(point["class_sizes"])}


def _margin_convex(point):
    from ...relaxations import max_margin

    res = max_margin(point["class_sizes"])
    return {"value": res.objective, "gram_W": _unit(res.gram_W)}


def _margin_dynamic(point):
    from ...dynamics import margin_descent
    from ...problem import Problem

    sizes = point["class_sizes"]
    p = Problem(
        loss="ce",
        K=len(sizes),
        d=point["d"],
        class_sizes=sizes,
        lambda_W=0.0,
        lambda_H=0.0,
        bias="none",
    )
    run = margin_descent(p, seed=point["seed"])
    return {"value": 1.0 / run.margin, "gram_W": _unit(run.W @ run.W.T)}


def _margin_sizes(p):
    rng = np.random.default_rng(p["seed"])
    if p["balanced"]:
        return {"class_sizes": (int(rng.integers(1, 5)),) * p["K"]}
    return {"class_sizes": tuple(int(x) for x in rng.integers(1, 5, p["K"]))}


register(
    Claim(
        id="ce.implicit-max-margin",
        citation="derived here; consistent with Ji, Lu, Zhang, Deng & Su 2022 (ICLR, "
        "unconstrained layer-peeled model) and Thrampoulidis et al. 2022 (SELI)",
        statement="Gradient descent on the unregularized, bias-free CE UFM converges in direction "
        "to the max-margin solution: 1/(normalized margin) decreases to "
        "min 1/2(||W||^2 + ||H||^2) s.t. margins >= 1, which is (K-1) sqrt(n) for balanced "
        "classes and ||P D^(1/2)||_* (SELI) in general, with W W^T in the direction of "
        "(P D P)^(1/2).",
        domain=Domain(
            {
                "K": IntRange(2, 4, fast_hi=3),
                "balanced": IntRange(0, 1),
                "extra_d": IntRange(0, 2),
                "seed": IntRange(0, 10**6),
            },
            derive=lambda p: {"d": p["K"] + p["extra_d"], **_margin_sizes(p)},
            description="K <= 4 classes of sizes 1..4 (balanced or not), d >= K, "
            "lambda_W = lambda_H = 0, no bias; descent stopped at loss 1e-12",
        ),
        predict=_margin_predict,
        routes={
            "symbolic": Route(
                "symbolic",
                _margin_symbolic,
                tol.FLOAT,
                fast_points=2,
                description="exact (K-1) sqrt(n) by AM-GM on the ETF ansatz (balanced); "
                "SELI value from the exact characteristic polynomial of P D (otherwise)",
            ),
            "convex": Route(
                "convex",
                _margin_convex,
                tol.CONVEX_ARGMIN,
                max_points=3,
                description="min ||Z D^(1/2)||_* s.t. margins >= 1 (Clarabel): value and "
                "W W^T direction",
            ),
            "dynamic": Route(
                "dynamic",
                _margin_dynamic,
                tol.MAX_MARGIN_DESCENT,
                max_points=4,
                description="gradient descent without weight decay to loss 1e-12: "
                "1/(normalized margin) and W W^T direction",
            ),
        },
        proof="proofs/max_margin.py",
    )
)

# --------------------------------------------------------------------------------------------------
# ce.imbalanced-minority-threshold (code in _minority.py)

from . import _minority  # noqa: E402

register(_minority.CLAIM)

# --------------------------------------------------------------------------------------------------
# ce.label-smoothing-imbalanced (code in _ls_imbalanced.py)

from . import _ls_imbalanced  # noqa: E402

register(_ls_imbalanced.CLAIM)
