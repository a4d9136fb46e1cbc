"""Named tolerances, each with the reason for its size.

Deviations are measured on the scale-free form

.. math:: \\operatorname{dev}(x, y) = \\frac{|x - y|}{1 + |y|},

so that one number works for predictions near zero and at scale (see :func:`relative_deviation`).
Modules import the constants from here; tests and claims never use a bare literal tolerance.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EXACT",
    "FLOAT",
    "GRADIENT_FD",
    "METRIC_ZERO",
    "relative_deviation",
]

#: Symbolic identities are checked exactly: ``sympy.simplify(lhs - rhs) == 0``. The constant documents
#: that there is no tolerance at all.
EXACT = 0.0

#: Closed forms evaluated in float64: a handful of operations on O(1) numbers, each rounding by
#: 2**-53 ~ 1.1e-16; sums over N <= 1e4 terms and K x K Gram products lose at most a few hundred ulps.
FLOAT = 1e-12

#: Central finite differences with step h = 1e-6 on O(1) inputs: truncation error O(h^2) ~ 1e-12 times
#: the third derivative, plus rounding eps/h ~ 1e-10; 1e-6 leaves a margin for large logits.
GRADIENT_FD = 1e-6

#: NC metrics on an exactly collapsed float64 configuration: rounding in Gram matrices and norms
#: (about sqrt(eps) for the square roots of near-zero variances) stays far below 1e-6.
METRIC_ZERO = 1e-6


def relative_deviation(got, want) -> float:
    """Scale-free deviation ``max |got - want| / (1 + |want|)`` over all entries.

    Parameters
    ----------
    got, want : float or array_like
        Measured and predicted values, broadcastable against each other.

    Returns
    -------
    float
        The largest entrywise deviation; ``inf`` if ``got`` contains a non-finite value.
    """
    got = np.asarray(got, dtype=float)
    want = np.asarray(want, dtype=float)
    if not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.max(np.abs(got - want) / (1.0 + np.abs(want)), initial=0.0))
