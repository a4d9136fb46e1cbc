r"""Pieces shared by the families: parameter points to problems, and the formulas predictions use.

The predictions write the matrices of the theorems literally (the centring matrix
:math:`P = I - \mathbf 1\mathbf 1^\top/K`, the Gram :math:`\frac{K}{K-1}P` of K unit vectors of a
simplex ETF) instead of calling :mod:`ufm.geometry`: each prediction encodes its theorem
independently of the code that the routes check. The measurement side uses the library
(:func:`ufm.metrics.gram_invariants`, :func:`ufm.dynamics.descend_to_stationary`).
"""

from __future__ import annotations

import math

import numpy as np

from ... import tolerances as tol
from ...losses import loss_class
from ...problem import Problem
from .._core import Route


def centring(K: int) -> np.ndarray:
    """P = I - 11^T/K (K x K)."""
    return np.eye(K) - 1.0 / K


def etf_unit_gram(K: int) -> np.ndarray:
    """K/(K-1) (I - 11^T/K): the Gram matrix of K unit vectors of a simplex ETF."""
    return K / (K - 1) * centring(K)


def lambdas(point: dict) -> dict:
    """lambda_W, lambda_H from kappa = K sqrt(n lambda_W lambda_H) and r = lambda_W / lambda_H.

    Sampling the threshold quantity kappa and the ratio r makes domains cover both sides of the
    threshold evenly.
    """
    prod = (point["kappa"] / point["K"]) ** 2 / point["n"]
    return {
        "lambda_W": math.sqrt(prod * point["ratio"]),
        "lambda_H": math.sqrt(prod / point["ratio"]),
    }


def ufm_problem(point: dict, loss: str, bias: str) -> Problem:
    """The balanced UFM of a parameter point (``lambda_b`` used only for a regularized bias; the
    loss's own parameters, e.g. ``smoothing`` of ``ce-ls``, are taken from the point by name)."""
    return Problem(
        loss=loss,
        loss_params={name: point[name] for name in loss_class(loss).parameters},
        K=point["K"],
        d=point["d"],
        n=point["n"],
        lambda_W=point["lambda_W"],
        lambda_H=point["lambda_H"],
        lambda_b=point.get("lambda_b") if bias == "regularized" else None,
        bias=bias,
    )


def sphere_routes(symbolic, convex, dynamic, *, describe: dict[str, str]) -> dict[str, Route]:
    """The three routes of a claim on spheres (``sphere``, ``supcon``): a sympy value, an SDP over
    the Gram matrix whose dual value is a certified lower bound (``lower_bound`` compared at the
    solver's gap accuracy, the Grams at argmin accuracy), and Riemannian descent from a random
    start (the objective at descent accuracy). ``describe`` maps each route name to its text."""
    return {
        "symbolic": Route("symbolic", symbolic, tol.CLOSED_FORM, description=describe["symbolic"]),
        "convex": Route(
            "convex",
            convex,
            tol.CONVEX_ARGMIN,
            max_points=4,
            key_tolerances={"lower_bound": tol.CONVEX_CLARABEL},
            description=describe["convex"],
        ),
        "dynamic": Route(
            "dynamic",
            dynamic,
            tol.DESCENT_GRAM,
            max_points=6,
            key_tolerances={"objective": tol.DESCENT_OBJECTIVE},
            description=describe["dynamic"],
        ),
    }


def yhat(sizes, bias: str) -> np.ndarray:
    """(I - n 1^T/N) D^(1/2) with a free bias, D^(1/2) without (K x K)."""
    n = np.asarray(sizes, dtype=float)
    K, N = n.size, n.sum()
    centre = np.eye(K) - np.outer(n, np.ones(K)) / N if bias == "free" else np.eye(K)
    return centre @ np.diag(np.sqrt(n))
