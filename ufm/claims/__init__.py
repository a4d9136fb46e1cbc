"""The catalogue of Neural Collapse claims and the machinery that verifies them.

Each claim is encoded once (:class:`Claim`) and verified by independent routes: ``symbolic``
(sympy), ``convex`` (cvxpy) and ``dynamic`` (gradient descent / flow / SDE). ``ufm check`` and the
test suite iterate over :func:`list_claims`; adding a theorem means registering one :class:`Claim`
(see the README for a user-defined example).
"""

from ._check import DEFAULT_POINTS, CheckRow, check
from ._core import Choice, Claim, Domain, IntRange, LogRange, Route, RouteResult, deviation
from ._registry import get_claim, list_claims, register

__all__ = [
    "Claim",
    "Route",
    "RouteResult",
    "Domain",
    "IntRange",
    "LogRange",
    "Choice",
    "deviation",
    "register",
    "get_claim",
    "list_claims",
    "check",
    "CheckRow",
    "DEFAULT_POINTS",
]
