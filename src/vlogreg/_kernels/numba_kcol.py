"""Fused one-pass loss + gradient for K coefficient columns at once, compiled with numba.

For ``W`` (n, K) and ``b`` (K,), each block of ``B`` = 16 rows of X goes through

    Z_blk  = X_blk W + b                     (K dot products per row, in X's dtype:
                                              ``numba_binary._dots`` per column of W)
    dZ_blk, loss terms = a row function of Z_blk (float64, see ``numba_kcol_rows``)
    G     += X_blk^T dZ_blk,  gb += sum dZ_blk (``numba_binary._axpys`` per column)

while the block sits in L1: X is read from memory ONCE per evaluation, whatever K.
Two row functions share this driver: the multinomial softmax (K classes, one model) and
the batched binary log-loss (K independent binary models, each on its own rows, for
cross-validation: row i counts in model k when ``fold[i] != exclude[k]``).

Fortran-ordered X is read in tiles of rows, each transposed into a small row-major
buffer (in L2) that the same blocks then walk: X is not copied, and the K passes over
a block read L1, not 100 strided columns. Rows are split into chunks that depend on
m (and on K x n, for the partials' memory) only; numba's threads take chunks with
their own accumulators, and the chunks' partials are added in chunk order: results are
bit-identical for any thread count. float32 X keeps float32 products and gradient
accumulators flushed into float64 every ``FLUSH`` rows, as ``numba_binary`` does.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._intrinsics import gemm
from .numba_binary import n_chunks_for
from .numba_kcol_rows import BATCHED, SOFTMAX, batched_binary_rows, softmax_rows
from .threads import blas_single_thread, kernel_threads

#: bytes of the chunks' gradient partials (n_chunks x K x n float64) at most: fewer
#: chunks for a large K x n (load balance matters less than 1 GB of partials)
PARTS_BYTES = 64 << 20
#: bytes of X per tile: the tile stays in L2 between its two products
TILE_BYTES = 256 << 10


def n_chunks_kcol(m, n, k):
    """Chunks of rows: ``n_chunks_for(m)``, fewer when the partials would pass
    ``PARTS_BYTES``. Depends on the shapes only (bit-identical for any threads)."""
    return max(1, min(n_chunks_for(m), PARTS_BYTES // (8 * k * (n + 1))))


def tile_rows_kcol(n, itemsize):
    """Rows per tile: about ``TILE_BYTES`` of X, a multiple of 16 in [16, 4096]."""
    r = TILE_BYTES // max(1, n * itemsize)
    return int(min(4096, max(16, r - r % 16)))


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def kcol_dense(A, fortran, R, WT, b, y, sw, fold, exclude, mode, n_chunks, g_parts,
               gb_parts, loss_parts):
    """One pass over dense X: per-chunk partial sums of the loss terms, G and gb.

    Parameters
    ----------
    A : ndarray (m, n) C-contiguous X, or (n, m) the C-contiguous transpose of an
        F-contiguous X (``fortran`` True)
    R : int, rows per tile
    WT : ndarray (K, n) of X's dtype, the coefficient columns as rows
    b : ndarray (K,) of X's dtype
    y, sw : ndarray (m,) float64: labels (class indices for the softmax, {0, 1} for the
        batched binary loss) and row weights
    fold : ndarray (m,) int32, exclude : ndarray (K,) int32 (batched binary only)
    mode : int, ``SOFTMAX`` or ``BATCHED``
    g_parts : ndarray (n_chunks, K, n) float64, out: chunk c's ``sum dz_ik x_i``
    gb_parts, loss_parts : ndarray (n_chunks, K) float64, out (the softmax's loss is in
        column 0)
    """
    if fortran:
        n, m = A.shape
    else:
        m, n = A.shape
    K = WT.shape[0]
    single = A.itemsize == 4
    NO, TR = 110, 116   # BLAS's 'n' (as stored) and 't' (transposed)
    for c in prange(n_chunks):
        r0 = (c * m) // n_chunks
        r1 = ((c + 1) * m) // n_chunks
        acc64 = np.zeros((K, n), np.float64)
        gt = np.empty((K, n), A.dtype)       # a tile's G^T, in X's dtype
        zt = np.empty((K, R), A.dtype)       # Z^T: BLAS's column-major (R, K), ld R
        dzt = np.empty((K, R), A.dtype)
        z64 = np.empty((K, R), np.float64)
        eb = np.empty((K, R), np.float64)
        wb = np.empty(R, np.float64)
        rb = np.empty(R, np.float64)
        dz64 = np.empty(R, np.float64)
        gacc = np.zeros(K, np.float64)
        lacc = np.zeros(K, np.float64)
        for t0 in range(r0, r1, R):
            nt = min(R, r1 - t0)
            for k in range(K):
                for i in range(nt):
                    zt[k, i] = b[k]
            # Z_t (nt x K) = X_t W + b. In BLAS's column-major terms a C-ordered X is
            # X^T (n x m, ld n), an F-ordered one X (m x n, ld m)
            if fortran:
                gemm(NO, NO, nt, K, n, A, t0, m, WT, n, 1.0, zt, R)
            else:
                gemm(TR, NO, nt, K, n, A, t0 * n, n, WT, n, 1.0, zt, R)
            for k in range(K):
                for i in range(nt):
                    z64[k, i] = zt[k, i]
            if mode == SOFTMAX:
                lacc[0] += softmax_rows(z64, nt, y, sw, t0, eb, wb, rb, dzt, gacc, single)
            else:
                batched_binary_rows(z64, nt, y, sw, fold, exclude, t0, eb[0], wb, dz64, dzt,
                                    gacc, lacc, single)
            # G_t (n x K) = X_t^T dZ_t, while X_t is still in cache
            if fortran:
                gemm(TR, NO, n, K, nt, A, t0, m, dzt, R, 0.0, gt, n)
            else:
                gemm(NO, NO, n, K, nt, A, t0 * n, n, dzt, R, 0.0, gt, n)
            for k in range(K):
                for j in range(n):
                    acc64[k, j] += gt[k, j]
        for k in range(K):
            for j in range(n):
                g_parts[c, k, j] = acc64[k, j]
            gb_parts[c, k] = gacc[k]
            loss_parts[c, k] = lacc[k]


def kcol_pass(X, W, b, y, sw, fold, exclude, mode):
    """One pass over X for the coefficient columns W: ``(loss (K,), G (n, K), gb (K,))``,
    unnormalized sums added over the chunks in chunk order."""
    m, n = X.shape
    K = W.shape[1]
    nc = n_chunks_kcol(m, n, K)
    g_parts = np.empty((nc, K, n))
    gb_parts = np.empty((nc, K))
    loss_parts = np.empty((nc, K))
    dt = X.dtype
    WT = np.ascontiguousarray(np.asarray(W).T, dtype=dt)
    bx = np.ascontiguousarray(b, dtype=dt).reshape(K)
    fortran = not X.flags.c_contiguous
    A = X.T if fortran else X
    T = tile_rows_kcol(n, X.itemsize)
    with blas_single_thread():  # each tile's products run in the kernel's own threads
        kcol_dense(A, fortran, T, WT, bx, y, sw, fold, exclude, mode, nc, g_parts, gb_parts,
                   loss_parts)
    # chunk order, fixed: bit-identical for any number of threads
    g, gb, loss = g_parts[0].copy(), gb_parts[0].copy(), loss_parts[0].copy()
    for c in range(1, nc):
        g += g_parts[c]
        gb += gb_parts[c]
        loss += loss_parts[c]
    return loss, g.T, gb


def softmax_loss_grad(X, y, s, W, b):
    """The multinomial ``(sum_i s_i loss_i, X^T dZ, sum_i dz_i)``, ``dZ = s (A - Y)``,
    in one pass over X.

    Parameters
    ----------
    X : C- or F-contiguous float32/float64 ndarray (m, n)
    y : ndarray (m,) float64, class indices in {0, ..., K-1}
    s : ndarray (m,) float64, row weights (ones for unweighted)
    W : ndarray (n, K), b : ndarray (K,)

    Returns
    -------
    loss : float, dW : ndarray (n, K) float64, db : ndarray (K,) float64
    """
    K = W.shape[1]
    loss, g, gb = kcol_pass(X, W, b, np.asarray(y, np.float64), np.asarray(s, np.float64),
                            _NO_FOLD, np.full(K, -1, np.int32), SOFTMAX)
    return float(loss[0]), g, gb


def batched_loss_grad(X, W, b, y, sw, fold, exclude, G, gb, n_threads=None):
    """K binary models on the same X in one pass: model k uses the rows with
    ``fold[i] != exclude[k]`` (``exclude[k] = -1``: every row).

    With ``w_ik = sw_i [fold_i != exclude_k]`` and ``a_ik = sigmoid(x_i . W[:, k] + b_k)``,
    writes ``G[:, k] = sum_i w_ik (a_ik - y_i) x_i`` and ``gb[k] = sum_i w_ik (a_ik - y_i)``,
    and returns ``loss[k] = sum_i w_ik logloss(z_ik, y_i)``: unnormalized sums.

    Parameters
    ----------
    X : C- or F-contiguous float32/float64 ndarray (m, n)
    W : ndarray (n, K) float64, b : ndarray (K,) float64
    y : ndarray (m,) float64 in {0, 1}; sw : ndarray (m,) float64
    fold : ndarray (m,) int32 (>= 0); exclude : ndarray (K,) int32
    G : ndarray (n, K) float64, out; gb : ndarray (K,) float64, out
    n_threads : int, optional
        numba threads for this call (None: numba's current setting).

    Returns
    -------
    loss : ndarray (K,) float64
    """
    m, n = X.shape
    K = np.shape(W)[1] if np.ndim(W) == 2 else -1
    if np.shape(W) != (n, K) or np.shape(G) != (n, K) or np.shape(b) != (K,) \
            or np.shape(gb) != (K,) or np.shape(exclude) != (K,):
        raise ValueError(f"batched kernel: X is {m} x {n}, so W and G need shape (n, K) "
                         "and b, gb, exclude shape (K,); got W "
                         f"{np.shape(W)}, G {np.shape(G)}, b {np.shape(b)}, gb "
                         f"{np.shape(gb)}, exclude {np.shape(exclude)}.")
    if np.shape(y) != (m,) or np.shape(sw) != (m,) or np.shape(fold) != (m,):
        raise ValueError(f"batched kernel: y, sw and fold need shape ({m},); got "
                         f"{np.shape(y)}, {np.shape(sw)}, {np.shape(fold)}.")
    with kernel_threads(n_threads):
        loss, g, gbk = kcol_pass(X, W, b, np.asarray(y, np.float64),
                                 np.asarray(sw, np.float64), np.asarray(fold, np.int32),
                                 np.asarray(exclude, np.int32), BATCHED)
    G[...] = g
    gb[...] = gbk
    return loss


_NO_FOLD = np.zeros(1, np.int32)  # the softmax reads no fold ids
