"""Family ``ce``: the global minimizer of the regularized cross-entropy UFM."""

from __future__ import annotations

import math

import numpy as np

from ._common import etf_unit_gram
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
