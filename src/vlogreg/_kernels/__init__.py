"""Compiled one-pass kernels, used when numba (a dependency) can be imported.

``binary_kernel(X)`` returns the fused loss+gradient function for X; ``softmax_kernel``,
``batched_kernel`` and ``batched_softmax_kernel`` the K-column ones (multinomial; K
binary models on one X; K multinomial models on one CSR X; dense or CSR). Each
returns None when X is better served by the portable blocked NumPy path of
``objective.logistic`` (numba missing or disabled with ``VLOGREG_KERNEL=numpy``, X small enough to sit in cache, a dense X
that is neither C- nor F-contiguous, or a dtype the kernel does not take).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp

from .threads import kernel_threads  # noqa: F401  (re-exported)

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


def _takes(X, kernel, sparse_ok):
    """Whether the numba kernels serve X: ``kernel`` checked, "numba" forced (a
    one-line ValueError when they cannot take X), "auto" for a large enough X."""
    if kernel not in ("auto", "numba", "numpy"):
        raise ValueError(f"kernel={kernel!r} is not valid; use 'auto', 'numba' or 'numpy'.")
    if kernel == "numpy":
        return False
    if sp.issparse(X):
        ok = sparse_ok and X.format == "csr" and X.dtype in (np.float32, np.float64)
        nbytes = X.data.nbytes + X.indices.nbytes if ok else 0
    else:
        ok = X.dtype in (np.float32, np.float64) and X.ndim == 2 and X.shape[1] > 0 \
            and (X.flags.c_contiguous or X.flags.f_contiguous)
        nbytes = X.nbytes
    if kernel == "numba":
        if not numba_available():
            raise ValueError("kernel='numba' needs numba, which cannot be imported here: "
                             "pip install numba, or use kernel='auto'.")
        if not ok:
            raise ValueError("kernel='numba' takes C- or F-contiguous float32/float64 arrays"
                             + (" or CSR matrices" if sparse_ok else " (no sparse matrix "
                                "for this loss)")
                             + "; use np.ascontiguousarray(X) or kernel='auto'.")
        return True
    return ok and nbytes >= MIN_KERNEL_BYTES and numba_available()


def binary_kernel(X, kernel="auto"):
    """The numba loss+gradient for this X, or None for the NumPy path.

    Parameters
    ----------
    X : ndarray or CSR matrix
    kernel : {"auto", "numba", "numpy"}
        "numba" forces the kernel (ValueError if it cannot take X); "numpy" disables it.

    Returns
    -------
    ``numba_binary.loss_grad``: ``fn(X, y, s, w, b) -> (loss, dw, db)``, or None.
    """
    if not _takes(X, kernel, sparse_ok=True):
        return None
    from . import numba_binary

    return numba_binary.loss_grad


def softmax_kernel(X, kernel="auto"):
    """The numba multinomial loss+gradient for this X (dense or CSR), or None for the
    NumPy path.

    Returns
    -------
    ``numba_kcol.softmax_loss_grad`` (dense X) or ``numba_softmax_csr.softmax_loss_grad``
    (CSR X): ``fn(X, y, s, W, b) -> (loss, dW (n, K), db (K,))`` with y the class
    indices and s the row weights (float64), or None.
    """
    if not _takes(X, kernel, sparse_ok=True):
        return None
    if sp.issparse(X):
        from . import numba_softmax_csr

        return numba_softmax_csr.softmax_loss_grad
    from . import numba_kcol

    return numba_kcol.softmax_loss_grad


def batched_softmax_kernel(X, kernel="auto"):
    """The numba kernel for K multinomial models on the same CSR X, or None (NumPy path;
    and for dense X, which has no such kernel).

    Returns
    -------
    ``numba_softmax_csr.batched_softmax_loss_grad``:
    ``fn(X, W, b, y, sw, fold, exclude, C, G, gb, n_threads) -> loss (K,)``, or None.
    """
    if not sp.issparse(X):
        if kernel == "numba":
            raise ValueError("kernel='numba': the batched multinomial kernel takes CSR "
                             "matrices only; use kernel='auto' for a dense X.")
        _takes(X, kernel, sparse_ok=True)  # kernel's value checked
        return None
    if not _takes(X, kernel, sparse_ok=True):
        return None
    from . import numba_softmax_csr

    return numba_softmax_csr.batched_softmax_loss_grad


def batched_kernel(X, kernel="auto"):
    """The numba kernel for K binary models on the same X, or None (NumPy path).

    Returns
    -------
    ``numba_kcol.batched_loss_grad`` (dense X) or ``numba_kcol_csr.batched_loss_grad``
    (CSR X): ``fn(X, W, b, y, sw, fold, exclude, G, gb, n_threads) -> loss (K,)``; model
    k uses the rows with ``fold[i] != exclude[k]`` and G (n, K), gb (K,) are written in
    place (unnormalized sums; see their docstrings), or None.
    """
    if not _takes(X, kernel, sparse_ok=True):
        return None
    if sp.issparse(X):
        from . import numba_kcol_csr

        return numba_kcol_csr.batched_loss_grad
    from . import numba_kcol

    return numba_kcol.batched_loss_grad


def csr_diagonals_kernel(X, kernel="auto"):
    """The numba pass of K binary models' Hessian diagonals on a CSR X, or None (sparse
    products; and for dense X, whose bounds come from a row subsample).

    Returns
    -------
    ``numba_kcol_csr.hessian_diagonals``:
    ``fn(X, W, b, sw, fold, exclude, n_threads) -> (D (n, K), dsum (K,))``, or None.
    """
    if not sp.issparse(X) or not _takes(X, kernel, sparse_ok=True):
        return None
    from . import numba_kcol_csr

    return numba_kcol_csr.hessian_diagonals
