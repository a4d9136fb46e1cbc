"""Neural Collapse metrics of real networks' features, streamed and out of core.

:func:`measure` reads features from ``.npy`` (memory-mapped), ``.npz``, Zarr, HDF5, any array-like
or a Dask array, chunk by chunk, into mergeable float64 accumulators; the metrics of
:func:`ufm.nc_metrics` come out equal (to rounding) to the in-memory computation, next to newer
metrics (GNC2, UNC3, NC5, effective ranks, nearest-ETF distance, test NCC accuracy and CDNV).
"""

import sys
import types

from ._accumulate import Accumulator
from ._compare import COMPARE_KEYS, Comparison, compare_ufm
from ._extra import (
    effective_rank,
    etf_procrustes_distance,
    hyperspherical_uniformity,
    ood_orthogonality,
    procrustes_distance,
    unc3_cosine_cov,
    unc3_dot_variance,
)
from ._measure import CHUNK_BYTES, MEMORY_LIMIT, Measurement, measure, memory_estimate

__all__ = [
    "measure",
    "Measurement",
    "Accumulator",
    "MEMORY_LIMIT",
    "CHUNK_BYTES",
    "memory_estimate",
    "effective_rank",
    "hyperspherical_uniformity",
    "unc3_dot_variance",
    "unc3_cosine_cov",
    "ood_orthogonality",
    "etf_procrustes_distance",
    "procrustes_distance",
    "compare_ufm",
    "Comparison",
    "COMPARE_KEYS",
]


class _CallableModule(types.ModuleType):
    """``ufm.measure(...)`` is :func:`measure` (the issue's Python API) while ``ufm.measure`` stays
    the package that holds it: calling the module calls the function."""

    def __call__(self, *args, **kwargs) -> Measurement:
        return measure(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
