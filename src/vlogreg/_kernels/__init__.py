"""Compiled one-pass kernels, used when available (numba installed: ``vlogreg[fast]``).

``binary_kernel(X)`` returns the fused loss+gradient function for X, or None when X
is better served by the portable blocked NumPy path of ``objective.logistic`` (numba missing or
disabled with ``VLOGREG_KERNEL=numpy``, X small enough to sit in cache, a dense X
that is neither C- nor F-contiguous, or a dtype the kernel does not take).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

#: below this many bytes of X the NumPy path (one block, no threads) is as fast
MIN_KERNEL_BYTES = 1 << 20


def numba_available():
    if os.environ.get("VLOGREG_KERNEL", "auto").lower() == "numpy":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def binary_kernel(X, kernel="auto"):
    """The numba loss+gradient for this X, or None for the NumPy path.

    Parameters
    ----------
    X : ndarray or CSR matrix
    kernel : {"auto", "numba", "numpy"}
        "numba" forces the kernel (ValueError if it cannot take X); "numpy" disables it.
    """
    if kernel not in ("auto", "numba", "numpy"):
        raise ValueError(f"kernel={kernel!r} is not valid; use 'auto', 'numba' or 'numpy'.")
    if kernel == "numpy":
        return None
    if sp.issparse(X):
        ok = X.format == "csr" and X.dtype in (np.float32, np.float64)
        nbytes = X.data.nbytes + X.indices.nbytes
    else:
        ok = X.dtype in (np.float32, np.float64) and X.ndim == 2 and X.shape[1] > 0 \
            and (X.flags.c_contiguous or X.flags.f_contiguous)
        nbytes = X.nbytes
    if kernel == "numba":
        if not numba_available():
            raise ValueError("kernel='numba' needs numba: pip install 'vlogreg[fast]'.")
        if not ok:
            raise ValueError("kernel='numba' takes C- or F-contiguous float32/float64 arrays "
                             "or CSR matrices; use np.ascontiguousarray(X) or "
                             "kernel='auto'.")
    elif not ok or nbytes < MIN_KERNEL_BYTES or not numba_available():
        return None
    from . import numba_binary

    return numba_binary.loss_grad
