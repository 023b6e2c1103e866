"""Fused one-pass multinomial loss + gradient on a CSR X (one model, or K models of C
classes side by side for cross-validation), compiled with numba.

The driver is ``numba_kcol_csr.kcol_csr`` (the K binary models' sparse kernel) with
the softmax row function ``numba_kcol_rows.softmax_groups``. Per row i of X, with
``w_ig = s_i [fold_i != exclude_g]`` for model g and its C columns ``g C .. g C + C``:

    z_i     = b + sum_p x_ip W[j_p]                     ((K C,), one W row per non-zero)
    loss_g += w_ig (log sum_c e^{z_igc - max} - (z_ig,y_i - max))
    dz_igc  = w_ig (softmax(z_ig)_c - [c == y_i])
    G[j_p] += x_ip dz_i,  gb += dz_i                    (one G row per non-zero)

so X is read once per evaluation and nothing of size (m, K C) is formed: with a few
non-zeros per row and tens of classes, the cost is the per-row softmax (branch-free exp
series of ``numba_common``; float32 X the shorter one), not the products.

Determinism: unlike the binary models' kernel (one row range per thread), the row
ranges here depend on X's shape and non-zeros, K and this machine's core count only
(``n_parts_fixed``), never on numba's thread setting, and their partials are added in
range order: results are bit-identical across runs and across thread counts.
"""

from __future__ import annotations

import os

import numpy as np

from .numba_kcol_csr import MIN_PART_ROWS, csr_pass
from .numba_kcol_rows import SOFTMAX
from .threads import kernel_threads

#: bytes of the ranges' G partials (parts x n x K float64) at most. Smaller than the
#: binary kernel's budget: here the ranges do not follow the threads, so a one-thread
#: call zeroes and adds every partial too (not tuned)
PARTS_BYTES = 256 << 20
#: row ranges at most: one per core of this machine, whatever numba's thread setting
MAX_PARTS = os.cpu_count() or 1
#: non-zeros per feature a range has at least: its rows then cost (2 K flops a
#: non-zero, twice) several times zeroing and adding its (n, K) partial, which a
#: one-thread call (a Dask task, n_jobs=1) pays for every range (not tuned)
PART_NNZ_PER_FEATURE = 4


def n_parts_fixed(m, n, k, nnz):
    """Row ranges of one pass: one per core, fewer for few rows (``MIN_PART_ROWS`` each),
    few non-zeros (``PART_NNZ_PER_FEATURE`` n each) or partials above ``PARTS_BYTES``.
    Independent of the thread count."""
    return int(max(1, min(MAX_PARTS, m // MIN_PART_ROWS, nnz // (PART_NNZ_PER_FEATURE * n),
                          PARTS_BYTES // max(1, 8 * n * k))))


def _check_classes(y, C):
    """y's class indices in {0, ..., C - 1}, or a one-line ValueError (the kernel indexes
    z with them, unchecked)."""
    if len(y) and (y.min() < 0 or y.max() > C - 1 or not np.all(y == np.floor(y))):
        raise ValueError(f"softmax kernel: y must hold class indices 0 .. {C - 1}; got "
                         f"values in [{y.min()}, {y.max()}]. Encode the labels first "
                         "(np.unique(y, return_inverse=True)).")


def softmax_loss_grad(X, y, s, W, b):
    """The multinomial ``(sum_i s_i loss_i, X^T dZ, sum_i dz_i)``, ``dZ = s (A - Y)``,
    in one pass over a CSR X: the contract of ``numba_kcol.softmax_loss_grad``.

    Parameters
    ----------
    X : scipy.sparse CSR matrix (m, n), float32/float64 data, int32/int64 indices
    y : ndarray (m,) float64, class indices in {0, ..., K-1}
    s : ndarray (m,) float64, row weights (ones for unweighted)
    W : ndarray (n, K), b : ndarray (K,)

    Returns
    -------
    loss : float, dW : ndarray (n, K) float64, db : ndarray (K,) float64
    """
    n, K = np.shape(W)
    dW, db = np.empty((n, K)), np.empty(K)
    loss = batched_softmax_loss_grad(X, W, np.reshape(b, K), y, s,
                                     np.zeros(X.shape[0], np.int32),
                                     np.full(1, -1, np.int32), K, dW, db)
    return float(loss[0]), dW, db


def batched_softmax_loss_grad(X, W, b, y, sw, fold, exclude, C, G, gb, n_threads=None):
    """K multinomial models of C classes on the same CSR X in one pass: model g has the
    columns ``g C .. g C + C - 1`` of W and uses the rows with ``fold[i] != exclude[g]``
    (``exclude[g] = -1``: every row).

    With ``w_ig = sw_i [fold_i != exclude_g]`` and ``a_ig = softmax(x_i W_g + b_g)``,
    writes ``G[:, g C + c] = sum_i w_ig (a_igc - [y_i = c]) x_i`` and ``gb[g C + c] =
    sum_i w_ig (a_igc - [y_i = c])``, and returns ``loss[g] = sum_i w_ig (log sum_c
    e^{z_igc} - z_ig,y_i)``: unnormalized sums.

    Parameters
    ----------
    X : scipy.sparse CSR matrix (m, n), float32/float64 data, int32/int64 indices
    W : ndarray (n, K C), b : ndarray (K C,)
    y : ndarray (m,), class indices in {0, ..., C - 1}; sw : ndarray (m,) float64
    fold : ndarray (m,) int32 (>= 0); exclude : ndarray (K,) int32
    C : int, classes per model
    G : ndarray (n, K C) float64, out; gb : ndarray (K C,) float64, out
    n_threads : int, optional
        numba threads for this call (None: numba's current setting); the results do
        not depend on it.

    Returns
    -------
    loss : ndarray (K,) float64
    """
    m, n = X.shape
    KC = len(exclude) * C
    if np.shape(W) != (n, KC) or np.shape(G) != (n, KC) or np.shape(b) != (KC,) \
            or np.shape(gb) != (KC,):
        raise ValueError(f"softmax kernel: X is {m} x {n} with {len(exclude)} model(s) of "
                         f"{C} classes, so W and G need shape ({n}, {KC}) and b, gb "
                         f"({KC},); got W {np.shape(W)}, G {np.shape(G)}, b "
                         f"{np.shape(b)}, gb {np.shape(gb)}.")
    if np.shape(y) != (m,) or np.shape(sw) != (m,) or np.shape(fold) != (m,):
        raise ValueError(f"softmax kernel: y, sw and fold need shape ({m},); got "
                         f"{np.shape(y)}, {np.shape(sw)}, {np.shape(fold)}.")
    _check_classes(np.asarray(y), C)
    if KC == 0:
        return np.zeros(len(exclude))
    with kernel_threads(n_threads):
        loss, gb[...] = csr_pass(X, W, b, y, sw, fold, exclude, SOFTMAX, C,
                                 n_parts_fixed(m, n, KC, X.nnz), G)
    return loss[: len(exclude)]
