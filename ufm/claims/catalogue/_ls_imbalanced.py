r"""``ce.label-smoothing-imbalanced``: the label-smoothed CE UFM with two class sizes.

K_A majority classes of n_A samples, K_B >= 2 minority classes of n_B < n_A samples,
N = K_A n_A + K_B n_B, :math:`\mu = \sqrt{\lambda_W\lambda_H}`, smoothing :math:`\alpha`,
bias none or free, d = K - 1. At the global minimizer (derived here,
``proofs/ce_label_smoothing_imbalanced.py``; consistent with Zhou et al. 2022b and with the sharp
minority threshold of Hong & Ling 2023):

* the minority classes' logits, classifiers and class means coincide iff
  :math:`\mu \ge \mu_B = (1-\alpha)\sqrt{n_B}/N`: label smoothing scales the CE threshold of
  ``ce.imbalanced-minority-threshold`` by :math:`1 - \alpha`;
* W = H = 0 iff :math:`\mu \ge \mu_0 = (1-\alpha)\,\sigma_{\max}(\hat Y)/N`,
  :math:`\hat Y = PD^{1/2}` (no bias) or :math:`(I - n\mathbf 1^\top/N)D^{1/2}` (free bias),
  :math:`P = I - \mathbf 1\mathbf 1^\top/K`, D = diag(n_k): the gradient of the smoothed loss at
  zero logits is :math:`1 - \alpha` times the CE one. For balanced classes this is the
  ``ce.label-smoothing`` threshold :math:`\alpha + K\sqrt n\mu = 1`.

The prediction writes both formulas literally; the routes measure them by sympy
(:func:`ufm.minimizers.ce_minority_threshold_value`,
:func:`ufm.minimizers.ce_zero_threshold_value`),
by the nuclear-norm program (the certified bisection :func:`ufm.relaxations.ce_minority_threshold`
with the smoothed targets, the zero face's dual certificate
:func:`ufm.relaxations._ce_minority.zero_threshold`, and the verdicts read off the unrestricted
program's optimum at the point) and by gradient descent (the verdicts read off its logits, and its
Gram matrices W W^T, M^T M, W M against the certified optimum's: ``gram_gap`` = 0 says the descent
reached the global minimizer, so its verdicts are the minimizer's). Registered from ``ce.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route
from ._common import centring, yhat
from ._minority import minority_spread

REGIMES = ("apart", "minority collapsed", "zero")

#: mu / threshold in each regime: 'apart' mu in [0.3, 0.75] mu_B and 'zero' in [1.25, 1.6] mu_0, as
#: in ce.imbalanced-minority-threshold; 'minority collapsed' log-uniform in [1.15 mu_B, 0.85 mu_0],
#: drawn only where that interval has a ratio >= _MIN_WINDOW (with K_A = 1, mu_0/mu_B can be as
#: small as sqrt(2)). Descent's spreads decay at rates proportional to the distance from the
#: thresholds, so these margins keep DESCENT_STEPS sufficient.
_APART, _COLLAPSED, _ZERO, _MIN_WINDOW = (0.3, 0.75), (1.15, 0.85), (1.25, 1.6), 1.1

#: Gradient descent settings. Measured at 60 points of the full domain (20 per regime): minority
#: spread <= 3.2e-15 where collapsed and >= 0.29 where apart (DESCENT_MINORITY_SPREAD = 1e-6
#: separates them), logits <= 7.5e-62 in the zero regime and >= 0.26 elsewhere
#: (DESCENT_ZERO_LOGITS), Grams within 2.4e-4 of the certified optimum's, the convex side's
#: O(sqrt(gap)) accuracy (compared at CONVEX_ARGMIN = 1e-3).
DESCENT_STEPS, DESCENT_LR = 8000, 0.5


def thresholds(p: dict) -> tuple[float, float]:
    r"""(mu_B, mu_0) = ((1 - alpha) sqrt(n_B)/N, (1 - alpha) sigma_max(Yhat)/N)."""
    sizes = (p["n_A"],) * p["K_A"] + (p["n_B"],) * p["K_B"]
    K, N = len(sizes), sum(sizes)
    root = np.diag(np.sqrt(np.asarray(sizes, dtype=float)))
    Y = centring(K) @ root if p["bias"] == "none" else yhat(sizes, "free")
    shrink = 1.0 - p["smoothing"]
    return shrink * math.sqrt(p["n_B"]) / N, shrink * float(np.linalg.norm(Y, 2)) / N


def sample(p: dict) -> dict:
    """n_A = imbalance n_B and mu placed by the regime and the position in [0, 100]."""
    point = {**p, "n_A": p["imbalance"] * p["n_B"]}
    mu_B, mu_0 = thresholds(point)
    t = p["position"] / 100
    if p["regime"] == "apart":
        mu = mu_B * (_APART[0] + (_APART[1] - _APART[0]) * t)
    elif p["regime"] == "zero":
        mu = mu_0 * (_ZERO[0] + (_ZERO[1] - _ZERO[0]) * t)
    else:
        lo, hi = _COLLAPSED[0] * mu_B, _COLLAPSED[1] * mu_0
        mu = lo * (hi / lo) ** t
    return {"n_A": point["n_A"], "mu": mu}


def _window_open(p: dict) -> bool:
    mu_B, mu_0 = thresholds(p)
    return _COLLAPSED[1] * mu_0 >= _MIN_WINDOW * _COLLAPSED[0] * mu_B


def predict(p: dict) -> dict:
    r"""Collapsed iff :math:`\mu \ge \mu_B`, zero iff :math:`\mu \ge \mu_0` (both thresholds as
    logarithms); the descent's Grams equal the certified minimizer's (gap 0)."""
    mu_B, mu_0 = thresholds(p)
    return {
        "minority_collapsed": float(p["mu"] >= mu_B),
        "zero": float(p["mu"] >= mu_0),
        "log_minority_threshold": math.log(mu_B),
        "log_zero_threshold": math.log(mu_0),
        "gram_gap": 0.0,
    }


def _problem(p: dict):
    from ...relaxations._ce_minority import two_group_problem

    return two_group_problem(
        p["K_A"], p["n_A"], p["K_B"], p["n_B"], p["mu"], bias=p["bias"], ratio=p["ratio"],
        smoothing=p["smoothing"],
    )  # fmt: skip


def symbolic(p: dict) -> dict:
    import sympy as sp

    from ...minimizers import ce_minority_threshold_value, ce_zero_threshold_value

    sizes = (p["n_A"],) * p["K_A"] + (p["n_B"],) * p["K_B"]
    alpha = p["smoothing"]
    mu_B = ce_minority_threshold_value(p["K_A"], p["n_A"], p["K_B"], p["n_B"], alpha)
    mu_0 = ce_zero_threshold_value(sizes, p["bias"], alpha)
    mu = sp.Float(p["mu"], 30)  # the float's exact binary value
    return {
        "minority_collapsed": float(bool(mu >= mu_B)),
        "zero": float(bool(mu >= mu_0)),
        "log_minority_threshold": float(sp.log(mu_B)),
        "log_zero_threshold": float(sp.log(mu_0)),
    }


def convex(p: dict) -> dict:
    from ...relaxations import ce_minority_threshold, nuclear_relaxation
    from ...relaxations._ce_minority import zero_threshold

    problem = _problem(p)
    Z = nuclear_relaxation(problem).Z
    th = ce_minority_threshold(
        p["K_A"], p["n_A"], p["K_B"], p["n_B"], bias=p["bias"], ratio=p["ratio"],
        smoothing=p["smoothing"], xtol=tol.CE_MINORITY_BISECTION,
    )  # fmt: skip
    return {
        "minority_collapsed": float(minority_spread(Z, p["K_A"]) <= tol.CONVEX_MINORITY_SPREAD),
        "zero": float(np.linalg.norm(Z) <= tol.CONVEX_ZERO_LOGITS),
        "log_minority_threshold": math.log(th.threshold),
        "log_zero_threshold": math.log(zero_threshold(problem)),
    }


def dynamic(p: dict) -> dict:
    from ...dynamics import gradient_descent
    from ...metrics import class_means, gram_invariants
    from ...relaxations import nuclear_relaxation

    problem = _problem(p)
    run = gradient_descent(
        problem, steps=DESCENT_STEPS, lr=DESCENT_LR, seed=p["seed"], full_history=False
    )
    M, _ = class_means(run.H, problem.labels, problem.K)
    logits = run.W @ M
    cert = nuclear_relaxation(problem)
    descent, certified = gram_invariants(run.W, M), gram_invariants(cert.W, cert.M)
    spread = minority_spread(logits, p["K_A"])
    return {
        "minority_collapsed": float(spread <= tol.DESCENT_MINORITY_SPREAD),
        "zero": float(np.linalg.norm(logits) <= tol.DESCENT_ZERO_LOGITS),
        "gram_gap": max(tol.relative_deviation(descent[k], certified[k]) for k in descent),
    }


CLAIM = Claim(
    id="ce.label-smoothing-imbalanced",
    citation="derived here (proofs/ce_label_smoothing_imbalanced.py); consistent with Zhou et al. "
    "2022b (label smoothing: NC global minimizers) and Hong & Ling 2023 (sharp minority-collapse "
    "threshold)",
    statement="In the regularized label-smoothed CE UFM (smoothing alpha) with K_A classes of n_A "
    "and K_B >= 2 classes of n_B < n_A samples (bias none or free, d >= K - 1), the minority "
    "classes' logits, classifiers and class means coincide at the global minimizer iff "
    "sqrt(lambda_W lambda_H) >= (1 - alpha) sqrt(n_B)/N, and W = H = 0 iff sqrt(lambda_W "
    "lambda_H) >= (1 - alpha) sigma_max(Yhat)/N, Yhat = (I - 11^T/K) D^(1/2) (no bias) or "
    "(I - n 1^T/N) D^(1/2) (free bias).",
    domain=Domain(
        {
            "K_A": IntRange(1, 2),
            "K_B": IntRange(2, 3, fast_hi=2),
            "n_B": IntRange(1, 2),
            "imbalance": IntRange(3, 5),
            "bias": Choice(("none", "free")),
            "ratio": LogRange(0.5, 2.0),
            "smoothing": LogRange(0.02, 0.8),
            "regime": Choice(REGIMES),
            "position": IntRange(0, 100),
            "seed": IntRange(0, 10**6),
        },
        derive=sample,
        where=_window_open,
        description="K_A 1..2, K_B 2..3, n_B 1..2, n_A = (3..5) n_B, bias none/free, alpha in "
        "[0.02, 0.8], lambda_W/lambda_H in [1/4, 4]; mu in [0.3, 0.75] mu_B ('apart'), "
        "[1.15 mu_B, 0.85 mu_0] ('minority collapsed'; drawn where that window is >= 1.1 wide) "
        "or [1.25, 1.6] mu_0 ('zero')",
        regimes=REGIMES,
        regime_of=lambda p: p["regime"],
    ),
    predict=predict,
    routes={
        "symbolic": Route(
            "symbolic",
            symbolic,
            tol.FLOAT,
            fast_points=3,
            description="sympy: the smoothed subgradient's minority block (1 - alpha) sqrt(n_B)/N "
            "and the zero-logit multiplier's exact spectral norm; compared with mu exactly",
        ),
        "convex": Route(
            "convex",
            convex,
            tol.CONVEX_ARGMIN,
            max_points=3,
            fast_points=3,
            # both thresholds at the bisection's accuracy (CE_MINORITY_THRESHOLD); the zero
            # certificate is closer still (exact without a bias, the bias solve's ~1e-9 with one)
            key_tolerances={
                "log_minority_threshold": tol.CE_MINORITY_THRESHOLD,
                "log_zero_threshold": tol.CE_MINORITY_THRESHOLD,
            },
            description="certified bisection on the collapsed-minority nuclear-norm program and "
            "the zero face's dual certificate (ce-ls targets); verdicts from the unrestricted "
            "program's optimum at mu",
        ),
        "dynamic": Route(
            "dynamic",
            dynamic,
            tol.CONVEX_ARGMIN,
            max_points=4,
            fast_points=3,
            description="gradient descent (8000 steps, lr 0.5): verdicts from its logits W M; "
            "its W W^T, M^T M, W M against the certified optimum's",
        ),
    },
    proof="proofs/ce_label_smoothing_imbalanced.py",
)
