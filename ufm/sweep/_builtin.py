r"""Built-in studies: specs (as dicts) for ``ufm sweep --builtin NAME [--quick]``.

* ``threshold`` - closed-form CE and MSE minimizers (free bias, n = 10, d = K,
  :math:`\lambda_W = \lambda_H`) over a grid in :math:`(\kappa, K)`; data variables ``objective``
  and ``zero_solution``, coordinates ``loss``, ``K``, ``kappa``. Predicted boundary: the zero
  solution holds iff :math:`\kappa \ge 1` (Zhu et al. 2021, Thm 3.1; Zhou et al. 2022).
* ``benign`` - gradient descent on the sizes of workload S of ``benchmarks/bench_dynamics.py``
  (CE, free bias, K = 4, d = 8, n = 20, T = 20000 steps) at
  :math:`\lambda_W = \lambda_H = 5\cdot10^{-3}` and lr = 0.5 (at workload S's
  :math:`\lambda = 5\cdot10^{-4}`, lr = 0.1, T steps leave gaps ~1e-2: not converged, measured),
  from 10,000 seeds at each of three start scales (1, 1e-3, 3; quick: 100 seeds, two scales,
  T = 5000, worst gap ~5e-10 measured); gaps to the nuclear-norm certificate and to the closed
  form. Prediction: every gap is ~0 (no spurious local minimum; Zhu et al. 2021).
* ``minority`` - Minority Collapse of the layer-peeled model (Fang et al. 2021) over the imbalance
  ratio R and the feature budget E_H (K_A = K_B = 2, E_W = 1); predicted boundary: the threshold
  R*(E_H) located by bisection (``ufm.relaxations.minority_threshold``).
* ``lesde`` - probability that the features of the LE-SDE (Zhang, Wang & Su 2021) are linearly
  separable, in the linear I model of the authors' code (:mod:`ufm.dynamics._lesde_model`), over
  :math:`(\alpha/\beta, T)` (K = 3, n = 10, d = 2, beta = 1, sigma = 0.1, initial scale 0.1):
  paths drawn from the exact Gaussian law at time T (``ufm.dynamics.lesde_moments``, no time
  stepping). The centred class means grow at the rate :math:`(\alpha - \beta)/K` while the
  within-class spread grows like :math:`\sigma\sqrt T`, so P(separable) tends to 1 for
  :math:`\alpha > \beta` and to 0 for :math:`\alpha < \beta` (claim
  ``lesde.separability-transition``, derived here): predicted boundary :math:`\alpha/\beta = 1`,
  approached as T grows (measured, quick: 0 at every point below :math:`\alpha/\beta = 4` at
  T = 2; at T = 128, 0 up to :math:`\alpha/\beta = 1` and 1 from 1.41 on).

``--quick`` shrinks each to well under a minute on 2 cores.
"""

from __future__ import annotations

from ..errors import InvalidParameter
from ._spec import Spec, parse_spec

__all__ = ["BUILTINS", "builtin_spec"]


def _threshold(quick: bool) -> dict:
    return {
        "task": "minimizer",
        "name": "threshold",
        "fixed": {"n": 10, "bias": "free"},
        "params": {
            "loss": ["ce", "mse"],
            "K": [2, 3, 5, 8] if quick else list(range(2, 11)),
            "kappa": {"range": [0.25, 4.0], "num": 16 if quick else 49, "scale": "log"},
        },
        "outputs": ["objective", "zero_solution", "w_norm"],
        "plot": {"variable": "zero_solution", "x": "kappa", "y": "K", "boundary": {"kappa": 1.0}},
    }


def _benign(quick: bool) -> dict:
    return {
        "task": "descent",
        "name": "benign",
        "seeds": 100 if quick else 10_000,
        "fixed": {"loss": "ce", "bias": "free", "K": 4, "d": 8, "n": 20, "lambda_W": 5e-3,
                  "lambda_H": 5e-3, "steps": 5_000 if quick else 20_000, "lr": 0.5},
        "params": {"init_scale": [1.0, 1e-3] if quick else [1.0, 1e-3, 3.0]},
        "plot": {"variable": "gap_certificate", "reduce": "max"},
    }  # fmt: skip


def _minority(quick: bool) -> dict:
    return {
        "task": "minority",
        "name": "minority",
        "fixed": {"K_A": 2, "K_B": 2, "E_W": 1.0},
        "params": {
            "E_H": [0.5, 1.0, 2.0] if quick else [0.25, 0.5, 1.0, 2.0, 4.0],
            "R": {"range": [1.0, 100.0], "num": 10 if quick else 25, "scale": "log"},
        },
        "plot": {"variable": "spread", "x": "R", "y": "E_H", "boundary": "minority_threshold"},
    }


def _lesde(quick: bool) -> dict:
    return {
        "task": "lesde",
        "name": "lesde",
        "fixed": {"model": "I", "K": 3, "n": 10, "d": 2, "beta": 1.0, "noise": 0.1,
                  "init_scale": 0.1, "paths": 40 if quick else 200},
        "params": {
            "time": {"range": [2.0, 128.0], "num": 4 if quick else 7, "scale": "log"},
            # odd num: alpha/beta = 1, the boundary, is a grid point
            "alpha_over_beta": {"range": [0.25, 4.0], "num": 9 if quick else 25, "scale": "log"},
        },
        "plot": {"variable": "probability", "x": "alpha_over_beta", "y": "time",
                 "boundary": {"alpha_over_beta": 1.0}},
    }  # fmt: skip


#: name -> function (quick) -> spec dict.
BUILTINS = {"threshold": _threshold, "benign": _benign, "minority": _minority, "lesde": _lesde}


def builtin_spec(name: str, *, quick: bool = False) -> Spec:
    """The validated spec of a built-in study (module docstring).

    Raises
    ------
    InvalidParameter
        Unknown name.
    """
    if name not in BUILTINS:
        raise InvalidParameter(f"builtin must be one of {sorted(BUILTINS)}, got {name!r}")
    return parse_spec(BUILTINS[name](quick), source=f"builtin {name}")
