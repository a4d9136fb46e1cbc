r"""``ce.imbalanced-minority-threshold``: the two-group CE UFM's minority-collapse threshold.

K_A majority classes of n_A samples, K_B >= 2 minority classes of n_B < n_A samples,
N = K_A n_A + K_B n_B, :math:`\mu = \sqrt{\lambda_W\lambda_H}`, d = K - 1: the minority classes'
logit columns (so their classifiers and class means) coincide at the global minimizer iff
:math:`\mu \ge \mu^* = \sqrt{n_B}/N` (derived here, ``proofs/ce_minority_threshold.py``;
consistent with the sharp minority-collapse threshold of Hong & Ling 2023). The prediction is
written here literally; the routes measure it by sympy
(:func:`ufm.minimizers.ce_minority_threshold_value`), by the nuclear-norm program (the certified
bisection :func:`ufm.relaxations.ce_minority_threshold`, and the minority spread of the unrestricted
program at the point) and by gradient descent (:func:`ufm.dynamics.gradient_descent`). Registered
from ``ce.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from .._core import Choice, Claim, Domain, IntRange, LogRange, Route

REGIMES = ("below", "above")

#: mu / mu* on each side: far enough from mu* for descent to settle (the minority spread decays at
#: a rate proportional to mu - mu*) and, above, below sqrt(n_A)/N (n_A >= 3 n_B), where the
#: majority classes stay apart.
_BELOW, _ABOVE = (0.3, 0.75), (1.25, 1.6)

#: Descent settings: the minority spread above mu* is <= 5e-16 after 6000 steps at 16 points of
#: the domain, >= 0.31 below (ufm.tolerances.DESCENT_MINORITY_SPREAD).
_STEPS, _LR = 6000, 0.5


def threshold(p: dict) -> float:
    r""":math:`\mu^* = \sqrt{n_B}/(K_A n_A + K_B n_B)`."""
    return math.sqrt(p["n_B"]) / (p["K_A"] * p["n_A"] + p["K_B"] * p["n_B"])


def sample(p: dict) -> dict:
    """n_A = imbalance n_B and mu placed by the regime and the position in [0, 1]."""
    lo, hi = _BELOW if p["regime"] == "below" else _ABOVE
    n_A = p["imbalance"] * p["n_B"]
    mu = threshold({**p, "n_A": n_A}) * (lo + (hi - lo) * p["position"] / 100)
    return {"n_A": n_A, "mu": mu}


def predict(p: dict) -> dict:
    r"""Collapsed iff :math:`\mu \ge \sqrt{n_B}/N`; the threshold as its logarithm."""
    mu_star = threshold(p)
    return {"minority_collapsed": float(p["mu"] >= mu_star), "log_threshold": math.log(mu_star)}


def _problem(p: dict):
    from ...relaxations._ce_minority import two_group_problem

    return two_group_problem(
        p["K_A"], p["n_A"], p["K_B"], p["n_B"], p["mu"], bias=p["bias"], ratio=p["ratio"]
    )


def minority_spread(Z: np.ndarray, K_A: int) -> float:
    r"""Largest distance between two minority logit columns of the class logits Z (K x K),
    relative to 1 + ||Z||_F."""
    B = Z[:, K_A:]
    gaps = B[:, :, None] - B[:, None, :]
    return float(np.sqrt((gaps**2).sum(axis=0)).max() / (1.0 + np.linalg.norm(Z)))


def symbolic(p: dict) -> dict:
    import sympy as sp

    from ...minimizers import ce_minority_threshold_value

    mu_star = ce_minority_threshold_value(p["K_A"], p["n_A"], p["K_B"], p["n_B"])
    collapsed = bool(sp.Float(p["mu"], 30) >= mu_star)
    return {"minority_collapsed": float(collapsed), "log_threshold": float(sp.log(mu_star))}


def convex(p: dict) -> dict:
    from ...relaxations import ce_minority_threshold, nuclear_relaxation

    cert = nuclear_relaxation(_problem(p))
    spread = minority_spread(cert.Z, p["K_A"])
    th = ce_minority_threshold(
        p["K_A"], p["n_A"], p["K_B"], p["n_B"], bias=p["bias"], ratio=p["ratio"],
        xtol=tol.CE_MINORITY_BISECTION,
    )  # fmt: skip
    return {
        "minority_collapsed": float(spread <= tol.CONVEX_MINORITY_SPREAD),
        "log_threshold": math.log(th.threshold),
    }


def dynamic(p: dict) -> dict:
    from ...dynamics import gradient_descent

    problem = _problem(p)
    run = gradient_descent(problem, steps=_STEPS, lr=_LR, seed=p["seed"], full_history=False)
    labels = np.asarray(problem.labels)
    M = np.stack([run.H[:, labels == k].mean(axis=1) for k in range(problem.K)], axis=1)
    spread = minority_spread(run.W @ M, p["K_A"])
    return {"minority_collapsed": float(spread <= tol.DESCENT_MINORITY_SPREAD)}


CLAIM = Claim(
    id="ce.imbalanced-minority-threshold",
    citation="derived here (proofs/ce_minority_threshold.py); consistent with Hong & Ling 2023, "
    "'Neural collapse for unconstrained feature model under cross-entropy loss with imbalanced "
    "data' (sharp minority-collapse threshold)",
    statement="In the regularized CE UFM with K_A classes of n_A samples and K_B >= 2 classes of "
    "n_B < n_A samples (d >= K - 1), the minority classes' logits, classifiers and class means "
    "coincide at the global minimizer iff sqrt(lambda_W lambda_H) >= sqrt(n_B)/N, "
    "N = K_A n_A + K_B n_B.",
    domain=Domain(
        {
            "K_A": IntRange(1, 3, fast_hi=2),
            "K_B": IntRange(2, 3, fast_hi=2),
            "n_B": IntRange(1, 2),
            "imbalance": IntRange(3, 5),
            "bias": Choice(("none", "free")),
            "ratio": LogRange(0.5, 2.0),
            "regime": Choice(REGIMES),
            "position": IntRange(0, 100),
            "seed": IntRange(0, 10**6),
        },
        derive=sample,
        description="K_A 1..3, K_B 2..3, n_B 1..2, n_A = (3..5) n_B, bias none/free, "
        "lambda_W/lambda_H in [1/4, 4]; mu in [0.3, 0.75] mu* ('below') or [1.25, 1.6] mu* "
        "('above')",
        regimes=REGIMES,
        regime_of=lambda p: p["regime"],
    ),
    predict=predict,
    routes={
        "symbolic": Route(
            "symbolic",
            symbolic,
            tol.FLOAT,
            description="sympy: the subgradient's minority zero-sum block sqrt(n_B)/N at any "
            "collapsed logits; compared with mu exactly",
        ),
        "convex": Route(
            "convex",
            convex,
            tol.CE_MINORITY_THRESHOLD,
            max_points=3,
            description="certified bisection on the collapsed-minority nuclear-norm program "
            "(dual certificate), and the unrestricted program's minority spread at mu",
        ),
        "dynamic": Route(
            "dynamic",
            dynamic,
            tol.FLOAT,
            max_points=4,
            description="gradient descent (6000 steps, lr 0.5): minority logit spread <= "
            "DESCENT_MINORITY_SPREAD",
        ),
    },
    proof="proofs/ce_minority_threshold.py",
)
