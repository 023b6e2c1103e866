"""Fused one-pass loss + gradient of K binary models on a CSR X, compiled with numba.

The sparse twin of ``numba_kcol.batched_loss_grad`` (cross-validation folds and a
path of C on text-like data). The driver ``kcol_csr`` also serves the multinomial
loss (``numba_softmax_csr``: the same pass with a softmax row function). With ``W``
(n, K) C-contiguous, feature j's K coefficients are one contiguous row ``W[j]``, and
so is its gradient row ``G[j]``.
Per row i of X, with ``w_ik = s_i [fold_i != exclude_k]``:

    z_i    = b + sum_p x_ip W[j_p]             (K-vector, one W row per non-zero)
    e_ik   = exp(-|z_ik|)                       (float64, branch-free series)
    loss_k += w_ik (max(z_ik, 0) - y_i z_ik + log1p(e_ik))
    dz_ik  = w_ik ((z_ik >= 0 ? 1 : e_ik) / (1 + e_ik) - y_i)
    G[j_p] += x_ip dz_i,  gb += dz_i            (K-vector updates, one per non-zero)

z_i, e_i and dz_i live in three K-vectors: nothing of size (m, K) is formed. With a few
non-zeros per row the cost is the K per-row log-losses (vectorized over the models),
not the products. The exp and log1p series are ``numba_common``'s (float32 X: the
shorter ones, as the single-model kernels); z and the sums are float64.

Threads: rows are split into ``n_parts_csr`` ranges, one per thread, each with its own
G, gb and loss accumulators (part 0 adds into G itself); the parts are then added in
part order. The result is bit-identical across runs for a given number of threads,
and equal to 1e-12 (float64 rounding) across thread counts.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from .numba_common import exp_neg32, exp_neg64, log1p32, log1p64
from .numba_kcol import check_batched_args
from .numba_kcol_rows import BATCHED, SOFTMAX, softmax_groups
from .threads import kernel_threads

#: rows per thread at least (set, not tuned): each extra thread has a whole (n, K) G
#: to zero and add, whatever its rows
MIN_PART_ROWS = 2048
#: bytes of the threads' G partials (parts x n x K float64) at most: fewer parts beyond
#: (not tuned either; with many cores and a large n K, zeroing and adding the partials
#: may cost more than the threads save)
PARTS_BYTES = 1 << 30


def n_parts_csr(m, n, k, threads):
    """Row ranges (and G partials) of one pass: one per thread, fewer for few rows or
    partials above ``PARTS_BYTES``."""
    return int(max(1, min(threads, m // MIN_PART_ROWS, PARTS_BYTES // max(1, 8 * n * k))))


def _make_row_models(exp_neg, log1p_small):
    """The K models' maths of one row, with the given exp and log1p series."""

    @njit(inline="always", fastmath={"contract"})
    def row_models(z, e, dz, yi, si, fi, exclude, lacc, gacc):
        """Fills ``dz`` (K,) and adds row i's terms to ``lacc`` (loss) and ``gacc``."""
        K = z.shape[0]
        for k in range(K):
            e[k] = exp_neg(-abs(z[k]))
        for k in range(K):
            zk = z[k]
            ek = e[k]
            w = si if fi != exclude[k] else 0.0
            lacc[k] += w * (max(zk, 0.0) - yi * zk + log1p_small(ek))
            d = w * ((1.0 if zk >= 0 else ek) / (1.0 + ek) - yi)
            dz[k] = d
            gacc[k] += d

    return row_models


_row_models64 = _make_row_models(exp_neg64, log1p64)
_row_models32 = _make_row_models(exp_neg32, log1p32)


@njit(fastmath={"reassoc", "contract"}, error_model="numpy", cache=True, inline="always")
def _row_z(z, b, data, indices, indptr, i, W):
    """``z = b + x_i W`` (K,) for CSR row i: one contiguous W row per non-zero."""
    for k in range(z.shape[0]):
        z[k] = b[k]
    for p in range(indptr[i], indptr[i + 1]):
        x = np.float64(data[p])
        wj = W[indices[p]]
        for k in range(z.shape[0]):
            z[k] += x * wj[k]


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def kcol_csr(data, indices, indptr, W, b, y, sw, fold, exclude, mode, C, G, g_rest,
             gb_parts, loss_parts):
    """One pass over a CSR X: per-part partial sums of the loss terms, G and gb.

    Parameters
    ----------
    data, indices, indptr : X's CSR arrays (data float32/float64)
    W : ndarray (n, K) float64, C-contiguous; b : ndarray (K,) float64
    y, sw : ndarray (m,) float64: labels ({0, 1}, or class indices for the softmax) and
        row weights; fold : ndarray (m,) int32
    exclude : ndarray int32: (K,) binary models, or (K / C,) multinomial models
    mode : int, ``BATCHED`` (K binary models) or ``SOFTMAX`` (K / C multinomial models
        of C classes, ``numba_kcol_rows.softmax_groups``)
    G : ndarray (n, K) float64 C-contiguous, out: part 0's ``sum_i dz_ik x_i``
    g_rest : ndarray (parts - 1, n, K) float64, out: those of parts 1, 2, ...
    gb_parts, loss_parts : ndarray (parts, K) float64, out (the softmax's model g's loss
        in column g)
    """
    n_parts = g_rest.shape[0] + 1
    m = indptr.shape[0] - 1
    K = W.shape[1]
    single = data.itemsize == 4
    for c in prange(n_parts):
        r0 = (c * m) // n_parts
        r1 = ((c + 1) * m) // n_parts
        g = G if c == 0 else g_rest[c - 1]
        g[:, :] = 0.0   # here, in the thread that adds into it (its pages are local)
        z = np.empty(K, np.float64)
        e = np.empty(K, np.float64)
        dz = np.empty(K, np.float64)
        lacc = np.zeros(K, np.float64)
        gacc = np.zeros(K, np.float64)
        for i in range(r0, r1):
            _row_z(z, b, data, indices, indptr, i, W)
            if mode == SOFTMAX:
                softmax_groups(z, e, dz, int(y[i]), sw[i], fold[i], exclude, C, lacc, gacc,
                               single)
            elif single:
                _row_models32(z, e, dz, y[i], sw[i], fold[i], exclude, lacc, gacc)
            else:
                _row_models64(z, e, dz, y[i], sw[i], fold[i], exclude, lacc, gacc)
            for p in range(indptr[i], indptr[i + 1]):
                x = np.float64(data[p])
                gj = g[indices[p]]
                for k in range(K):
                    gj[k] += x * dz[k]
        for k in range(K):
            gb_parts[c, k] = gacc[k]
            loss_parts[c, k] = lacc[k]


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def diag_csr(data, indices, indptr, W, b, sw, fold, exclude, D, d_rest, dsum_parts):
    """One pass over a CSR X: per-part partial sums of the K models' Hessian diagonals,
    ``D[j, k] = sum_i w_ik a_ik (1 - a_ik) x_ij^2`` and ``dsum[k] = sum_i w_ik a_ik (1 -
    a_ik)``, with ``a_ik (1 - a_ik) = e / (1 + e)^2``, ``e = exp(-|z_ik|)``. Arguments
    as ``kcol_csr``'s (D, d_rest and dsum_parts for G, g_rest and gb_parts)."""
    n_parts = d_rest.shape[0] + 1
    m = indptr.shape[0] - 1
    K = W.shape[1]
    for c in prange(n_parts):
        r0 = (c * m) // n_parts
        r1 = ((c + 1) * m) // n_parts
        g = D if c == 0 else d_rest[c - 1]
        g[:, :] = 0.0
        z = np.empty(K, np.float64)
        d = np.empty(K, np.float64)
        dacc = np.zeros(K, np.float64)
        for i in range(r0, r1):
            _row_z(z, b, data, indices, indptr, i, W)
            for k in range(K):
                e = exp_neg64(-abs(z[k]))
                w = sw[i] if fold[i] != exclude[k] else 0.0
                d[k] = w * (e / ((1.0 + e) * (1.0 + e)))
                dacc[k] += d[k]
            for p in range(indptr[i], indptr[i + 1]):
                x = np.float64(data[p])
                x2 = x * x
                gj = g[indices[p]]
                for k in range(K):
                    gj[k] += x2 * d[k]
        for k in range(K):
            dsum_parts[c, k] = dacc[k]


def add_parts(g_rest, G):
    """``G += g_rest[0] + g_rest[1] + ...`` in part order. NumPy, not a numba prange
    over G's rows: for one (n, K) part, 20000 x 100 and 100000 x 100, the prange took
    12-24 ms against NumPy's 1-12 ms (min and median of 15 alternated calls, 2 cores
    under load): memory-bound adds gain nothing from waking threads."""
    for part in g_rest:
        G += part


def batched_loss_grad(X, W, b, y, sw, fold, exclude, G, gb, n_threads=None):
    """K binary models on the same CSR X in one pass: model k uses the rows with
    ``fold[i] != exclude[k]`` (``exclude[k] = -1``: every row).

    The contract of ``numba_kcol.batched_loss_grad``: with ``w_ik = sw_i [fold_i !=
    exclude_k]`` and ``a_ik = sigmoid(x_i . W[:, k] + b_k)``, writes ``G[:, k] =
    sum_i w_ik (a_ik - y_i) x_i`` and ``gb[k] = sum_i w_ik (a_ik - y_i)``, and returns
    ``loss[k] = sum_i w_ik logloss(z_ik, y_i)``: unnormalized sums.

    Parameters
    ----------
    X : scipy.sparse CSR matrix (m, n), float32/float64 data
    W : ndarray (n, K) float64, b : ndarray (K,) float64
    y : ndarray (m,) float64 in {0, 1}; sw : ndarray (m,) float64
    fold : ndarray (m,) int32 (>= 0); exclude : ndarray (K,) int32
    G : ndarray (n, K) float64, out; gb : ndarray (K,) float64, out
    n_threads : int, optional
        numba threads for this call (None: numba's current setting); the rows are split
        into one range per thread.

    Returns
    -------
    loss : ndarray (K,) float64
    """
    check_batched_args(X, W, b, y, sw, fold, exclude, G, gb)
    m, n = X.shape
    K = W.shape[1]
    if K == 0:
        return np.zeros(0)
    with kernel_threads(n_threads):
        parts = n_parts_csr(m, n, K, numba.get_num_threads())
        loss, gb[...] = csr_pass(X, W, b, y, sw, fold, exclude, BATCHED, 1, parts, G)
    return loss


def csr_pass(X, W, b, y, sw, fold, exclude, mode, C, parts, G):
    """One ``kcol_csr`` pass over X in ``parts`` row ranges, on numba's current threads:
    writes ``G`` (n, K) and returns the loss terms and gb (K,), each part's partials
    added in part order. Arguments as ``kcol_csr``'s (any float dtype, any order)."""
    n, K = W.shape
    W = np.ascontiguousarray(W, dtype=np.float64)
    # the kernel adds into C-contiguous float64 rows of G: G itself when it is one
    Gc = G if G.flags.c_contiguous and G.dtype == np.float64 else np.empty((n, K))
    g_rest = np.empty((parts - 1, n, K))  # part 0 adds into Gc itself
    gb_parts = np.empty((parts, K))
    loss_parts = np.empty((parts, K))
    kcol_csr(X.data, X.indices, X.indptr, W, np.ascontiguousarray(b, dtype=np.float64),
             np.asarray(y, np.float64), np.asarray(sw, np.float64),
             np.asarray(fold, np.int32), np.asarray(exclude, np.int32), mode, C, Gc,
             g_rest, gb_parts, loss_parts)
    if parts > 1:
        add_parts(g_rest, Gc)
    if Gc is not G:
        G[...] = Gc
    # part order, fixed
    loss, gb = loss_parts[0].copy(), gb_parts[0].copy()
    for c in range(1, parts):
        loss += loss_parts[c]
        gb += gb_parts[c]
    return loss, gb


def hessian_diagonals(X, W, b, sw, fold, exclude, n_threads=None):
    """The K models' Hessian diagonals on a CSR X in one pass (unnormalized sums).

    With ``w_ik = sw_i [fold_i != exclude_k]`` and ``a_ik = sigmoid(x_i . W[:, k] +
    b_k)``: ``D[j, k] = sum_i w_ik a_ik (1 - a_ik) x_ij^2`` and ``dsum[k] = sum_i
    w_ik a_ik (1 - a_ik)`` (the intercept's entry). Threads and their partials as
    ``batched_loss_grad``'s.

    Parameters
    ----------
    X : scipy.sparse CSR matrix (m, n), float32/float64 data
    W : ndarray (n, K) float64, b : ndarray (K,) float64
    sw : ndarray (m,) float64; fold : ndarray (m,) int32; exclude : ndarray (K,) int32
    n_threads : int, optional

    Returns
    -------
    D : ndarray (n, K) float64, dsum : ndarray (K,) float64
    """
    m, n = X.shape
    K = W.shape[1]
    D = np.empty((n, K))
    if K == 0:
        return D, np.zeros(0)
    with kernel_threads(n_threads):
        parts = n_parts_csr(m, n, K, numba.get_num_threads())
        d_rest = np.empty((parts - 1, n, K))
        dsum_parts = np.empty((parts, K))
        diag_csr(X.data, X.indices, X.indptr, np.ascontiguousarray(W, dtype=np.float64),
                 np.ascontiguousarray(b, dtype=np.float64), np.asarray(sw, np.float64),
                 np.asarray(fold, np.int32), np.asarray(exclude, np.int32), D, d_rest,
                 dsum_parts)
        if parts > 1:
            add_parts(d_rest, D)
    dsum = dsum_parts[0].copy()
    for c in range(1, parts):
        dsum += dsum_parts[c]
    return D, dsum
