"""The catalogue of Neural Collapse claims and the machinery that verifies them.

Each claim is encoded once (:class:`Claim`) and verified by independent routes: ``symbolic``
(sympy), ``convex`` (cvxpy) and ``dynamic`` (gradient descent / flow / SDE). ``ufm check`` and the
test suite iterate over :func:`list_claims`; adding a theorem means registering one :class:`Claim`
(the built-in ones live in :mod:`ufm.claims.catalogue`, one module per family; a user's in any
module loaded by :func:`load_claims_module` or ``ufm check --claims-module``; see the README).
"""

from ._check import DEFAULT_POINTS, CheckRow, check, sampling_plan
from ._core import Choice, Claim, Domain, IntRange, LogRange, Route, RouteResult, deviation
from ._registry import get_claim, list_claims, load_claims_module, register

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
    "load_claims_module",
    "sampling_plan",
    "check",
    "CheckRow",
    "DEFAULT_POINTS",
]
