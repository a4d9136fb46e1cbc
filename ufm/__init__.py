"""ufm: Neural Collapse in the unconstrained features model.

Public API (small on purpose; submodules hold the rest):

* :class:`Problem` - an unconstrained features model (loss, K, d, class sizes, lambdas, bias mode);
* :func:`objective`, :func:`gradient` - the regularized UFM objective and its gradient;
* :func:`nc_metrics` - NC1-NC4 of a configuration, with named conventions (:class:`Conventions`);
* :class:`Configuration`, :func:`load` - configurations and their ``.npz`` files;
* :func:`fit_lesde` - elasticities of the locally elastic SDE fitted to feature snapshots
  (:func:`ufm.dynamics.fit_lesde`, imported on first use);
* ``ufm.measure(features, labels, W, b)`` - NC metrics of real networks' features, streamed from
  disk or Dask (:mod:`ufm.measure`, imported on first use).

Heavy submodules (``minimizers`` uses sympy, ``relaxations`` cvxpy, ``dynamics`` numba) are imported
on first attribute access, so ``import ufm`` stays fast.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import (
    AccuracyWarning,
    InvalidFile,
    InvalidParameter,
    NotConverged,
    SolverFailed,
    UFMError,
)
from .io import Configuration, load
from .metrics import Conventions, nc_metrics
from .objectives import gradient, objective
from .problem import Problem

_LAZY_SUBMODULES = (
    "geometry",
    "minimizers",
    "relaxations",
    "dynamics",
    "claims",
    "landscape",
    "plot",
    "measure",
)

__all__ = [
    "__version__",
    "Problem",
    "objective",
    "gradient",
    "nc_metrics",
    "Conventions",
    "Configuration",
    "load",
    "UFMError",
    "InvalidParameter",
    "InvalidFile",
    "SolverFailed",
    "NotConverged",
    "AccuracyWarning",
    "fit_lesde",
]

#: Public functions of lazy submodules, re-exported here and imported on first use.
_LAZY_FUNCTIONS = {"fit_lesde": "dynamics"}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
    raise AttributeError(f"module 'ufm' has no attribute {name!r}")
