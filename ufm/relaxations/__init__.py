"""Convex relaxations of unconstrained features models, solved with cvxpy (Clarabel by default,
SCS).

* :func:`nuclear_relaxation`, :func:`gap` - certified global optimum of any regularized UFM;
* :func:`max_margin` - the nuclear-norm max-margin program (SELI / ETF geometry);
* :func:`layer_peeled_sdp` - the layer-peeled model of Fang et al. (2021) as an SDP;
* :func:`minority_collapse_sweep`, :func:`minority_threshold` - Minority Collapse.

cvxpy is imported only when a relaxation is solved. Every solve raises
:class:`ufm.errors.SolverFailed` (naming the solver and its status) unless the solver reports
optimality.
"""

from ._layer_peeled import (
    LayerPeeled,
    MinoritySweep,
    MinorityThreshold,
    layer_peeled_sdp,
    minority_collapse_sweep,
    minority_threshold,
)
from ._nuclear import MaxMargin, NuclearCertificate, gap, max_margin, nuclear_relaxation
from ._solve import SOLVERS

__all__ = [
    "nuclear_relaxation",
    "gap",
    "NuclearCertificate",
    "max_margin",
    "MaxMargin",
    "layer_peeled_sdp",
    "LayerPeeled",
    "minority_collapse_sweep",
    "MinoritySweep",
    "minority_threshold",
    "MinorityThreshold",
    "SOLVERS",
]
