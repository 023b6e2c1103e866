"""Backends: where the data live. One protocol (``base.Backend``), one module each:

========================  ==============================================================
``memory``                NumPy arrays and SciPy sparse matrices (the default)
``array_api``             torch, CuPy, array-api-strict, JAX: computed on X's device
``dask``                  dask arrays and DataFrames, on any scheduler or a cluster
``outofcore``             row sources on disk (``vlogreg.data.open_source``)
========================  ==============================================================

``backend_for(X)`` is the one place that tells them apart. The optional libraries
(dask, array-api-compat) are imported only when their backend is used.
"""

from __future__ import annotations

from .._arrays import is_array_api, library
from . import array_api, memory, outofcore
from .base import Backend, FitData, FittedModel

__all__ = ["Backend", "FitData", "FittedModel", "backend_for"]


def backend_for(X):
    """The backend module for X (see the table above)."""
    if library(X) in ("dask", "dask_expr"):
        from . import dask

        return dask
    if hasattr(X, "iter_row_chunks"):
        return outofcore
    if is_array_api(X):
        return array_api

    return memory
