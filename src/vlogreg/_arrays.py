"""Which library an array comes from, and its values on the host.

Array-API arrays (torch, CuPy, array-api-strict, JAX) are recognised by the module of
their type, so none of those libraries is imported to ask.
"""

from __future__ import annotations

import numpy as np

#: array-API namespaces served (the first part of the array type's module)
NAMESPACES = ("torch", "cupy", "array_api_strict", "jax")


def library(a) -> str:
    """The top-level module of ``a``'s type: "numpy", "torch", "dask", ..."""
    return type(a).__module__.split(".")[0]


def is_array_api(a) -> bool:
    return library(a) in NAMESPACES


def namespace(a):
    """NumPy for NumPy arrays (and anything array-like); else array-api-compat's
    namespace for ``a``'s library (ImportError naming the extra when it is missing)."""
    if not is_array_api(a):
        return np
    try:
        from array_api_compat import array_namespace
    except ImportError:
        raise ImportError(f"{library(a)} arrays need array-api-compat: pip install "
                          f"'vlogreg[gpu]'.") from None
    return array_namespace(a)


def to_numpy(a):
    """A host NumPy copy (or view) of an array from any namespace and device (a SciPy
    sparse matrix comes back dense)."""
    mod = library(a)
    if mod == "scipy" and hasattr(a, "toarray"):
        return a.toarray()
    if mod == "torch":
        return a.detach().cpu().numpy()
    if mod == "cupy":
        return a.get()
    if mod in NAMESPACES:
        return np.from_dlpack(a)
    return np.asarray(a)
