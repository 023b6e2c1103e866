"""Fused one-pass loss + gradient for K coefficient columns at once, compiled with numba.

For ``W`` (n, K) and ``b`` (K,), each tile of R rows of X (about a quarter of the L2
cache) goes through

    Z_t  = X_t W + b                         (a BLAS gemm on the tile, in X's dtype)
    dZ_t, loss terms = a row function of Z_t (float64, ``numba_kcol_rows``)
    G   += X_t^T dZ_t,  gb += sum dZ_t       (a second gemm, while X_t is in cache)

so X is read from memory ONCE per evaluation, whatever K. Two row functions share this
driver: the multinomial softmax (K classes, one model) and the batched binary log-loss
(K independent binary models, each on its own rows, for cross-validation: row i counts
in model k when ``fold[i] != exclude[k]``).

The gemm calls (``_intrinsics.gemm``: scipy's BLAS through numba's own wrapper) take the
tile of a C- or F-ordered X in place, through its leading dimension: X is never
copied, and OpenBLAS picks its vector kernel for the CPU at run time. Rows are split
into chunks that depend on the shapes only; numba's threads take chunks (BLAS itself on
one thread inside them), each with its own accumulators, and the chunks' partials are
added in chunk order: results are bit-identical for any thread count. float32 X gets
float32 products, added into float64 accumulators once per tile.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._intrinsics import gemm
from .numba_common import l2_bytes, n_chunks_for
from .numba_kcol_rows import (
    BATCHED,
    BINARY,
    SOFTMAX,
    batched_binary_rows,
    binary_rows,
    softmax_rows,
)
from .threads import blas_single_thread, kernel_threads

#: bytes of the chunks' gradient partials (n_chunks x K x n float64) at most: fewer
#: chunks for a large K x n (load balance matters less than 1 GB of partials)
PARTS_BYTES = 64 << 20
#: bytes of X per tile: a quarter of a core's L2, so the tile stays there between its
#: two products (with a 1 MiB L2, 32 KiB-512 KiB tiles were within 10% of each other)
TILE_BYTES = l2_bytes() // 4


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
def kcol_dense(A, fortran, R, S, W, WT, b, y, sw, fold, exclude, mode, n_chunks, g_parts,
               gb_parts, loss_parts):
    """One pass over dense X: per-chunk partial sums of the loss terms, G and gb.

    Parameters
    ----------
    A : ndarray (m, n) C-contiguous X, or (n, m) the C-contiguous transpose of an
        F-contiguous X (``fortran`` True)
    R : int, rows per tile
    S : int, rows per product ``G += X_s^T dZ_s`` (``S >= R``: one per tile); float32
        X's products are added into float64 after each (``numba_common.FLUSH``)
    W, WT : ndarray (n, K) and (K, n), C-contiguous, of X's dtype: the coefficients
    b : ndarray (K,) of X's dtype
    y, sw : ndarray (m,): labels (class indices for the softmax, {0, 1} for the binary
        losses) and row weights; float64, or X's dtype for ``BINARY``
    fold : ndarray (m,) int32, exclude : ndarray (K,) int32 (batched binary only)
    mode : int, ``SOFTMAX``, ``BATCHED`` or ``BINARY`` (K = 1, no folds: the binary
        kernel for C-ordered X, ``numba_binary.loss_grad``)
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
        zt = np.empty((K, R), A.dtype)       # Z^T (F order) or Z (C order) of a tile
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
            # Z_t = X_t W + b, as BLAS's column-major operands (no copy of X): an
            # F-ordered X_t is (nt x n, ld m), W^T's memory is W (n x K, ld n), and
            # Z^T's is Z (nt x K, ld R). A C-ordered X_t is X_t^T (n x nt, ld n), W's
            # memory is W^T (K x n, ld K): there Z^T (K x nt) = W^T X_t^T is the faster
            # product (measured with OpenBLAS's SkylakeX and Haswell kernels)
            if fortran:
                Xt = A[:, t0:t0 + nt]
                for k in range(K):
                    for i in range(nt):
                        zt[k, i] = b[k]
                gemm(NO, NO, nt, K, n, Xt, m, WT, n, 1.0, zt, R)
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zt[k, i]
            else:
                Xt = A[t0:t0 + nt]
                gemm(NO, NO, K, nt, n, W, K, Xt, n, 0.0, zt, K)
                zr = zt.reshape(K * R)   # Z (nt, K) row-major in zt's memory
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zr[i * K + k] + b[k]
            if mode == SOFTMAX:
                lacc[0] += softmax_rows(z64, nt, y, sw, t0, eb, wb, rb, dzt, gacc, single)
            elif mode == BINARY:
                lacc[0] += binary_rows(z64, nt, y, sw, t0, eb[0], dz64, dzt, gacc, single)
            else:
                batched_binary_rows(z64, nt, y, sw, fold, exclude, t0, eb[0], wb, dz64, dzt,
                                    gacc, lacc, single)
            # G_t (n x K) = X_t^T dZ_t, while X_t is still in cache; G_t's memory is
            # G_t^T, dZ_t's is dZ_t^T (K x nt, ld R)
            for s0 in range(0, nt, S):
                ns = min(S, nt - s0)
                if fortran:
                    gemm(TR, NO, n, K, ns, A[:, t0 + s0:t0 + s0 + ns], m, dzt[:, s0:], R,
                         0.0, gt, n)
                else:
                    gemm(NO, NO, n, K, ns, A[t0 + s0:t0 + s0 + ns], n, dzt[:, s0:], R, 0.0,
                         gt, n)
                for k in range(K):
                    for j in range(n):
                        acc64[k, j] += gt[k, j]
        for k in range(K):
            for j in range(n):
                g_parts[c, k, j] = acc64[k, j]
            gb_parts[c, k] = gacc[k]
            loss_parts[c, k] = lacc[k]


def kcol_pass(X, W, b, y, sw, fold, exclude, mode, sub_rows=None):
    """One pass over X for the coefficient columns W: ``(loss (K,), G (n, K), gb (K,))``,
    unnormalized sums added over the chunks in chunk order. ``sub_rows``: rows per
    product ``X_s^T dZ_s`` (None: one per tile)."""
    m, n = X.shape
    K = W.shape[1]
    if K == 0:  # BLAS takes no leading dimension of 0
        return np.zeros(0), np.zeros((n, 0)), np.zeros(0)
    nc = n_chunks_kcol(m, n, K)
    g_parts = np.empty((nc, K, n))
    gb_parts = np.empty((nc, K))
    loss_parts = np.empty((nc, K))
    dt = X.dtype
    Wx = np.ascontiguousarray(W, dtype=dt)
    WT = np.ascontiguousarray(Wx.T)
    bx = np.ascontiguousarray(b, dtype=dt).reshape(K)
    fortran = not X.flags.c_contiguous
    A = X.T if fortran else X
    T = tile_rows_kcol(n, X.itemsize)
    S = T if sub_rows is None else sub_rows
    with blas_single_thread():  # each tile's products run in the kernel's own threads
        kcol_dense(A, fortran, T, S, Wx, WT, bx, y, sw, fold, exclude, mode, nc, g_parts,
                   gb_parts, loss_parts)
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
    check_batched_args(X, W, b, y, sw, fold, exclude, G, gb)
    with kernel_threads(n_threads):
        loss, g, gbk = kcol_pass(X, W, b, np.asarray(y, np.float64),
                                 np.asarray(sw, np.float64), np.asarray(fold, np.int32),
                                 np.asarray(exclude, np.int32), BATCHED)
    G[...] = g
    gb[...] = gbk
    return loss


def check_batched_args(X, W, b, y, sw, fold, exclude, G, gb):
    """The shapes of a batched kernel's arguments (X (m, n); W, G (n, K); b, gb, exclude
    (K,); y, sw, fold (m,)), or a one-line ValueError naming the wrong ones."""
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


_NO_FOLD = np.zeros(1, np.int32)  # the softmax reads no fold ids
