"""Convex relaxations of unconstrained features models, solved with cvxpy (Clarabel by default,
SCS).

* :func:`nuclear_relaxation`, :func:`gap` - certified global optimum of any regularized UFM;
* :func:`max_margin` - the nuclear-norm max-margin program (SELI / ETF geometry);
* :func:`layer_peeled_sdp` - the layer-peeled model of Fang et al. (2021) as an SDP;
* :func:`minority_collapse_sweep`, :func:`minority_threshold` - Minority Collapse;
* :func:`ce_minority_threshold` - the minority-collapse threshold of the two-group CE UFM;
* :func:`max_min_angle` - the max-min-angle frame SDP (its optimum is the simplex ETF);
* :func:`least_squares_program` - the MSE-optimal classifier of fixed features (the central path);
* :func:`normalized_ce_sdp`, :func:`supcon_sdp` - certified lower bounds for normalized-feature CE
  and full-batch SupCon (Gram programs with a fixed diagonal).

Classes of equal size are exchangeable; :mod:`ufm.relaxations._symmetry` reduces the nuclear-norm
program and the layer-peeled SDP to that symmetry's fixed-point subspace (a 2G x 2G PSD block for G
distinct class sizes instead of 2K x 2K).

cvxpy is imported only when a relaxation is solved. Every solve raises
:class:`ufm.errors.SolverFailed` (naming the solver and its status) unless the solver reports
optimality.
"""

from ._ce_minority import ce_minority_threshold
from ._frames import MaxMinAngle, max_min_angle
from ._layer_peeled import (
    LayerPeeled,
    MinoritySweep,
    MinorityThreshold,
    layer_peeled_sdp,
    minority_collapse_sweep,
    minority_threshold,
)
from ._least_squares import least_squares_program
from ._nuclear import (
    SYMMETRIES,
    MaxMargin,
    MinNormInterpolation,
    NuclearCertificate,
    gap,
    max_margin,
    min_norm_interpolation,
    nuclear_relaxation,
)
from ._solve import SOLVERS
from ._sphere import SphereBound, normalized_ce_sdp, supcon_sdp

__all__ = [
    "least_squares_program",
    "nuclear_relaxation",
    "gap",
    "NuclearCertificate",
    "max_margin",
    "MaxMargin",
    "min_norm_interpolation",
    "MinNormInterpolation",
    "layer_peeled_sdp",
    "LayerPeeled",
    "minority_collapse_sweep",
    "MinoritySweep",
    "minority_threshold",
    "MinorityThreshold",
    "ce_minority_threshold",
    "max_min_angle",
    "MaxMinAngle",
    "normalized_ce_sdp",
    "supcon_sdp",
    "SphereBound",
    "SOLVERS",
    "SYMMETRIES",
]
