"""Fused one-pass loss + gradient of the binary log-loss, compiled with numba.

C-ordered X larger than the L3 cache, of an itemsize in ``C_TILES_ITEMSIZES`` (float64),
goes through ``numba_kcol``'s tiles with one coefficient column (BLAS products per tile
of rows in L2, the same per-row maths; ``c_tiles``). Otherwise, for each block of
``B`` = 16 rows of X (still in L1 cache between the two products):

    z_k   = x_k . w + b                          (dot products in X's dtype, 8 rows at
                                                  a time: independent sums, w loaded once)
    e_k   = exp(-|z_k|)                          (float64, branch-free, vectorized)
    loss += s_k (max(z_k, 0) - y_k z_k + log1p(e_k))
    dz_k  = s_k ((z_k >= 0 ? 1 : e_k) / (1 + e_k) - y_k)
    dw   += sum_k dz_k x_k,   db += sum_k dz_k   (16 rows per update of dw: one load
                                                  and store of dw per block, not per row)

Rows are split into a number of chunks that depends on m alone; numba's threads take
chunks, each with its own accumulators (no false sharing), and the chunk results are
added in chunk order afterwards: the result is bit-identical for any thread count.
float32 X keeps float32 dot products and gradient accumulators, flushed into float64
every ``FLUSH`` rows, which keeps float32 gradients close to float64 ones; its
exp and log1p series are shorter (errors < 3e-10, far below float32's own rounding).
Fortran-ordered X has its kernel in ``numba_fortran``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._intrinsics import prefetch
from .numba_common import (
    FLUSH,
    LINE,
    B,
    _elementwise,
    l3_bytes,
    n_chunks_for,
    prefetch_rows,
)
from .numba_fortran import loss_grad_fortran, tile_plan
from .numba_kcol import kcol_pass
from .numba_kcol_rows import BINARY

#: itemsizes whose C-ordered X goes through the K-column tile driver with K = 1
#: (``numba_kcol``: per tile of a quarter of the L2, read at run time, z = X_t w and
#: dw += X_t^T dz as BLAS products, so OpenBLAS picks the vector kernel for the CPU at
#: run time) rather than ``loss_grad_dense`` (blocks of 16 rows in L1, numba's own
#: products). On AMD Zen 5 (2M x 100, 2 threads, in-process A/B under load, CPU time of
#: the ratio to X @ v, min) float64 tiles 1.34x-1.43x against blocks 1.68x-1.98x in five
#: runs; float32 tiles 1.20x-1.48x against blocks 1.15x-1.70x, no consistent winner, so
#: float32 keeps the blocks until a quiet rerun (``benchmarks/kernel_ab.py --cases
#: f64C,f32C``; ``benchmarks/results/kernel_floor.md``)
C_TILES_ITEMSIZES = (8,)


def c_tiles(X):
    """Whether C-ordered ``X`` takes the tiles: its itemsize is in ``C_TILES_ITEMSIZES``
    and it is larger than the L3 cache (read at run time), so that it streams from
    memory. With X in cache the blocks are faster: each tile's two BLAS calls cost
    ~10 us of overhead (5000 x 100 float64, one chunk: 0.33 ms against 0.12 ms, CPU
    min of 60 alternating calls, Zen 5)."""
    return X.itemsize in C_TILES_ITEMSIZES and X.nbytes > l3_bytes()


_ALL_ROWS = np.full(1, -1, np.int32)  # BINARY reads no fold ids: model 0 takes every row


@njit(inline="always", fastmath={"reassoc", "contract"})
def _dots(X, i, nb, w, b, zb):
    """``zb[k] = X[i + k] . w + b`` for k < nb: eight rows at a time share each load
    of w and give eight independent sums (one row at a time is latency-bound).
    Rows are taken as 1-d views: numba vectorizes ``x[j]``, not ``X[r, j]``."""
    n = X.shape[1]
    k = 0
    while k + 8 <= nb:
        x0, x1, x2, x3 = X[i + k], X[i + k + 1], X[i + k + 2], X[i + k + 3]
        x4, x5, x6, x7 = X[i + k + 4], X[i + k + 5], X[i + k + 6], X[i + k + 7]
        t0 = x0[0] * w[0]
        t1 = x1[0] * w[0]
        t2 = x2[0] * w[0]
        t3 = x3[0] * w[0]
        t4 = x4[0] * w[0]
        t5 = x5[0] * w[0]
        t6 = x6[0] * w[0]
        t7 = x7[0] * w[0]
        for j in range(1, n):
            wj = w[j]
            t0 += x0[j] * wj
            t1 += x1[j] * wj
            t2 += x2[j] * wj
            t3 += x3[j] * wj
            t4 += x4[j] * wj
            t5 += x5[j] * wj
            t6 += x6[j] * wj
            t7 += x7[j] * wj
        zb[k] = t0 + b
        zb[k + 1] = t1 + b
        zb[k + 2] = t2 + b
        zb[k + 3] = t3 + b
        zb[k + 4] = t4 + b
        zb[k + 5] = t5 + b
        zb[k + 6] = t6 + b
        zb[k + 7] = t7 + b
        k += 8
    for k in range(k, nb):
        x = X[i + k]
        t = x[0] * w[0]
        for j in range(1, n):
            t += x[j] * w[j]
        zb[k] = t + b


@njit(inline="always", fastmath={"reassoc", "contract"})
def _axpys(X, i, nb, dzb, acc):
    """``acc += sum_k dzb[k] X[i + k]`` for k < nb: a full block of 16 rows updates
    each acc[j] once (one load and one store of acc per 16 rows, not per row)."""
    n = X.shape[1]
    if nb == B:
        d0, d1, d2, d3 = dzb[0], dzb[1], dzb[2], dzb[3]
        d4, d5, d6, d7 = dzb[4], dzb[5], dzb[6], dzb[7]
        d8, d9, d10, d11 = dzb[8], dzb[9], dzb[10], dzb[11]
        d12, d13, d14, d15 = dzb[12], dzb[13], dzb[14], dzb[15]
        x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
        x4, x5, x6, x7 = X[i + 4], X[i + 5], X[i + 6], X[i + 7]
        x8, x9, x10, x11 = X[i + 8], X[i + 9], X[i + 10], X[i + 11]
        x12, x13, x14, x15 = X[i + 12], X[i + 13], X[i + 14], X[i + 15]
        for j in range(n):
            acc[j] += (((x0[j] * d0 + x1[j] * d1) + (x2[j] * d2 + x3[j] * d3))
                       + ((x4[j] * d4 + x5[j] * d5) + (x6[j] * d6 + x7[j] * d7))) \
                + (((x8[j] * d8 + x9[j] * d9) + (x10[j] * d10 + x11[j] * d11))
                   + ((x12[j] * d12 + x13[j] * d13) + (x14[j] * d14 + x15[j] * d15)))
    else:
        for k in range(nb):
            d = dzb[k]
            x = X[i + k]
            for j in range(n):
                acc[j] += x[j] * d


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def loss_grad_dense(X, y, s, w, b, n_chunks, pf_rows, grad_parts, loss_parts):
    """One pass over C-contiguous X (m, n): per-chunk partial (sum s loss, dw, db).

    Each block of rows prefetches the rows ``pf_rows`` ahead (``prefetch_rows``: a
    distance in bytes of X, capped by the L1 size read at run time). Writes
    ``grad_parts[c, :n]`` (dw), ``grad_parts[c, n]`` (db) and ``loss_parts[c]`` for
    each chunk c; the caller adds them in chunk order.
    """
    m, n = X.shape
    step = max(1, LINE // X.itemsize)
    single = X.itemsize == 4
    for c in prange(n_chunks):
        r0 = (c * m) // n_chunks
        r1 = ((c + 1) * m) // n_chunks
        acc = np.zeros(n, X.dtype)
        acc64 = np.zeros(n, np.float64)
        zb = np.empty(B, np.float64)
        eb = np.empty(B, np.float64)
        dzb = np.empty(B, X.dtype)
        dz64 = np.empty(B, np.float64)
        loss = 0.0
        db = 0.0
        since_flush = 0
        for start in range(r0, r1, B):
            nb = min(B, r1 - start)
            if start + pf_rows + nb <= m:
                ahead = (start + pf_rows) * n
                for j in range(0, nb * n, step):
                    prefetch(X, ahead + j)
            _dots(X, start, nb, w, b, zb)
            loss += _elementwise(zb, y[start:start + nb], s[start:start + nb], nb, eb, dz64,
                                 single)
            for k in range(nb):
                dzb[k] = dz64[k]
                db += dz64[k]
            _axpys(X, start, nb, dzb, acc)
            since_flush += nb
            if since_flush >= FLUSH:
                for j in range(n):
                    acc64[j] += acc[j]
                    acc[j] = 0
                since_flush = 0
        for j in range(n):
            grad_parts[c, j] = acc64[j] + acc[j]
        grad_parts[c, n] = db
        loss_parts[c] = loss


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def loss_grad_csr(data, indices, indptr, n, y, s, w, b, n_chunks, grad_parts, loss_parts):
    """One pass over a CSR matrix: per-chunk partial (sum s loss, dw, db), as above."""
    m = indptr.shape[0] - 1
    single = data.itemsize == 4
    for c in prange(n_chunks):
        r0 = (c * m) // n_chunks
        r1 = ((c + 1) * m) // n_chunks
        acc = np.zeros(n, np.float64)
        zb = np.empty(B, np.float64)
        eb = np.empty(B, np.float64)
        dz64 = np.empty(B, np.float64)
        loss = 0.0
        db = 0.0
        for start in range(r0, r1, B):
            nb = min(B, r1 - start)
            for k in range(nb):
                i = start + k
                t = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    t += data[p] * w[indices[p]]
                zb[k] = t + b
            loss += _elementwise(zb, y[start:start + nb], s[start:start + nb], nb, eb, dz64,
                                 single)
            for k in range(nb):
                i = start + k
                d = dz64[k]
                db += d
                for p in range(indptr[i], indptr[i + 1]):
                    acc[indices[p]] += data[p] * d
        for j in range(n):
            grad_parts[c, j] = acc[j]
        grad_parts[c, n] = db
        loss_parts[c] = loss


def loss_grad(X, y, s, w, b):
    """``(sum_i s_i loss_i, X^T dz, sum(dz))`` with ``dz = s (a - y)``, in one pass.

    Parameters
    ----------
    X : C- or F-contiguous float32/float64 ndarray (m, n), or a scipy.sparse CSR matrix
    y, s : ndarray (m,) of X's dtype (s: ones for unweighted)
    w : ndarray (n,) of X's dtype
    b : float

    Returns
    -------
    loss : float, dw : ndarray (n,) float64, db : float
    """
    m, n = X.shape
    nc = n_chunks_for(m)
    grad_parts = np.empty((nc, n + 1))
    loss_parts = np.empty(nc)
    if hasattr(X, "indptr"):
        loss_grad_csr(X.data, X.indices, X.indptr, n, y, s, w, float(b), nc, grad_parts,
                      loss_parts)
    elif X.flags.c_contiguous and c_tiles(X):
        # float32: each product X_s^T dz_s covers FLUSH rows before it is added to float64
        loss, g, gb = kcol_pass(X, w.reshape(n, 1), np.array([b]), y, s, _ALL_ROWS[:0],
                                _ALL_ROWS, BINARY, FLUSH if X.itemsize == 4 else None)
        return float(loss[0]), g[:, 0].copy(), float(gb[0])
    elif X.flags.c_contiguous:
        loss_grad_dense(X, y, s, w, X.dtype.type(b), nc, prefetch_rows(n, X.itemsize),
                        grad_parts, loss_parts)
    else:
        R, fuse = tile_plan(n, X.itemsize)
        loss_grad_fortran(X.T, y, s, w, X.dtype.type(b), nc, R, fuse, grad_parts,
                          loss_parts)
    # chunk order, fixed: bit-identical for any number of threads
    total = grad_parts[0].copy()
    for c in range(1, nc):
        total += grad_parts[c]
    return float(loss_parts.sum()), total[:n], float(total[n])
