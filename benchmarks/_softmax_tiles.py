"""Probe kernels for issue 16 (``softmax_floor_probe.py``): the multinomial kernel's two
products on one L1/L2-resident tile, written as numba loops with fixed register blocks,
to set beside ``_intrinsics.gemm`` (OpenBLAS) on the same tile.

For a tile of ``nt`` rows (X_t, nt x n), W (n, K), dZ (K, nt):

    Z^T  = (X_t W)^T        z[k, i]  = sum_j x_ij W[j, k]
    G^T  = dZ X_t           gt[k, j] = sum_i dz[k, i] x_ij

C order (``A`` is X, rows contiguous):

- ``zc4x2``: the dot form, 4 rows x 2 classes = 8 independent accumulators over the
  contiguous features (fastmath reassoc lets LLVM vectorize each reduction over j);
- ``gc8``: the axpy form, ``gt[k, :] += sum_{r < 8} dz[k, i + r] x_{i + r}``: 8 rows
  per pass over the features, gt's row in L1 (loaded and stored once per 8 rows);
- ``make_gc_reg(K, L, n)``: the register-blocked form the issue proposed, generated
  source with K x L scalar accumulators per block of L contiguous features (one load of
  x per row and block, K broadcasts of dz). numba compiles with LLVM's SLP vectorizer
  OFF (``NUMBA_SLP_VECTORIZE=0``, its default) and its loop vectorizer vectorizes the
  loop over the rows with gathers, so only ``NUMBA_SLP_VECTORIZE=1
  NUMBA_LOOP_VECTORIZE=0`` (process-wide settings, which a library cannot impose on its
  users) turns it into the intended micro-kernel (checked in the assembly: one zmm load
  of x per row, K ``vfmadd231pd`` with a broadcast operand into K zmm accumulators).

F order (``A`` is X^T, (n, m), the rows of X contiguous per feature):

- ``zf8``: ``z[k, :] += sum_{q < 8} W[j + q, k] A[j + q, rows]``: 8 features per pass
  over the tile's rows, z's row in L1;
- ``gf4``: the dot form over the tile's rows, 4 features x 1 class of accumulators.

The accumulators are in X's dtype (the first term starts them: a literal 0 would make
them float64 for float32 X).
"""

from __future__ import annotations

from numba import njit

from vlogreg._kernels._intrinsics import prefetch

FM = {"reassoc", "contract"}


@njit(fastmath=FM, error_model="numpy", nogil=True)
def zc4x2(A, t0, nt, WT, z):
    """C order: ``z[k, i] = x_{t0+i} . WT[k]`` for i < nt, 4 rows x 2 classes a block."""
    n = A.shape[1]
    K = WT.shape[0]
    i = 0
    while i + 4 <= nt:
        x0, x1, x2, x3 = A[t0 + i], A[t0 + i + 1], A[t0 + i + 2], A[t0 + i + 3]
        k = 0
        while k + 2 <= K:
            wk, wl = WT[k], WT[k + 1]
            w, v = wk[0], wl[0]
            a0, a1, a2, a3 = x0[0] * w, x1[0] * w, x2[0] * w, x3[0] * w
            c0, c1, c2, c3 = x0[0] * v, x1[0] * v, x2[0] * v, x3[0] * v
            for j in range(1, n):
                w, v = wk[j], wl[j]
                u0, u1, u2, u3 = x0[j], x1[j], x2[j], x3[j]
                a0 += u0 * w
                a1 += u1 * w
                a2 += u2 * w
                a3 += u3 * w
                c0 += u0 * v
                c1 += u1 * v
                c2 += u2 * v
                c3 += u3 * v
            z[k, i], z[k, i + 1], z[k, i + 2], z[k, i + 3] = a0, a1, a2, a3
            z[k + 1, i], z[k + 1, i + 1], z[k + 1, i + 2], z[k + 1, i + 3] = c0, c1, c2, c3
            k += 2
        if k < K:   # an odd K's last class
            wk = WT[k]
            w = wk[0]
            a0, a1, a2, a3 = x0[0] * w, x1[0] * w, x2[0] * w, x3[0] * w
            for j in range(1, n):
                w = wk[j]
                a0 += x0[j] * w
                a1 += x1[j] * w
                a2 += x2[j] * w
                a3 += x3[j] * w
            z[k, i], z[k, i + 1], z[k, i + 2], z[k, i + 3] = a0, a1, a2, a3
        i += 4
    while i < nt:
        x0 = A[t0 + i]
        for k in range(K):
            wk = WT[k]
            a0 = x0[0] * wk[0]
            for j in range(1, n):
                a0 += x0[j] * wk[j]
            z[k, i] = a0
        i += 1


@njit(fastmath=FM, error_model="numpy", nogil=True)
def zc4x2_pf(A, t0, nt, WT, z, ahead):
    """``zc4x2`` with the rows ``ahead`` rows on prefetched into L1 (as the binary
    kernel's blocks do, ``numba_common.prefetch_rows``), a few lines per block of 4
    rows: the read spread through the arithmetic."""
    m, n = A.shape
    step = 64 // A.itemsize
    for i0 in range(0, nt, 4):
        for r in range(t0 + i0 + ahead, min(t0 + i0 + ahead + 4, m)):
            for q in range(0, n, step):
                prefetch(A[r], q)
        zc4x2(A, t0 + i0, min(4, nt - i0), WT, z[:, i0:])


@njit(fastmath=FM, error_model="numpy", nogil=True)
def gc8(A, t0, nt, dz, gt):
    """C order: ``gt[k, :] = sum_{i < nt} dz[k, i] x_{t0+i}``, 8 rows per pass."""
    n = A.shape[1]
    K = gt.shape[0]
    for k in range(K):
        for j in range(n):
            gt[k, j] = 0
    i = 0
    while i + 8 <= nt:
        x0, x1, x2, x3 = A[t0 + i], A[t0 + i + 1], A[t0 + i + 2], A[t0 + i + 3]
        x4, x5, x6, x7 = A[t0 + i + 4], A[t0 + i + 5], A[t0 + i + 6], A[t0 + i + 7]
        for k in range(K):
            gk = gt[k]
            d0, d1, d2, d3 = dz[k, i], dz[k, i + 1], dz[k, i + 2], dz[k, i + 3]
            d4, d5, d6, d7 = dz[k, i + 4], dz[k, i + 5], dz[k, i + 6], dz[k, i + 7]
            for j in range(n):
                gk[j] += (d0 * x0[j] + d1 * x1[j] + d2 * x2[j] + d3 * x3[j]
                          + d4 * x4[j] + d5 * x5[j] + d6 * x6[j] + d7 * x7[j])
        i += 8
    while i < nt:
        x0 = A[t0 + i]
        for k in range(K):
            gk = gt[k]
            d0 = dz[k, i]
            for j in range(n):
                gk[j] += d0 * x0[j]
        i += 1


@njit(fastmath=FM, error_model="numpy", nogil=True)
def zf8(A, t0, nt, W, z):
    """F order (``A`` = X^T, (n, m)): ``z[k, :nt] = sum_j W[j, k] A[j, t0:t0 + nt]``,
    8 features per pass over the rows."""
    n = A.shape[0]
    K = W.shape[1]
    for k in range(K):
        for i in range(nt):
            z[k, i] = 0
    j = 0
    while j + 8 <= n:
        a0, a1 = A[j, t0:t0 + nt], A[j + 1, t0:t0 + nt]
        a2, a3 = A[j + 2, t0:t0 + nt], A[j + 3, t0:t0 + nt]
        a4, a5 = A[j + 4, t0:t0 + nt], A[j + 5, t0:t0 + nt]
        a6, a7 = A[j + 6, t0:t0 + nt], A[j + 7, t0:t0 + nt]
        for k in range(K):
            zk = z[k]
            w0, w1, w2, w3 = W[j, k], W[j + 1, k], W[j + 2, k], W[j + 3, k]
            w4, w5, w6, w7 = W[j + 4, k], W[j + 5, k], W[j + 6, k], W[j + 7, k]
            for i in range(nt):
                zk[i] += (w0 * a0[i] + w1 * a1[i] + w2 * a2[i] + w3 * a3[i]
                          + w4 * a4[i] + w5 * a5[i] + w6 * a6[i] + w7 * a7[i])
        j += 8
    while j < n:
        a0 = A[j, t0:t0 + nt]
        for k in range(K):
            zk = z[k]
            w0 = W[j, k]
            for i in range(nt):
                zk[i] += w0 * a0[i]
        j += 1


@njit(fastmath=FM, error_model="numpy", nogil=True)
def gf4(A, t0, nt, dz, gt):
    """F order: ``gt[k, j] = sum_{i < nt} dz[k, i] A[j, t0 + i]``, 4 features x 1 class
    of accumulators over the contiguous rows."""
    n = A.shape[0]
    K = gt.shape[0]
    j = 0
    while j + 4 <= n:
        a0, a1 = A[j, t0:t0 + nt], A[j + 1, t0:t0 + nt]
        a2, a3 = A[j + 2, t0:t0 + nt], A[j + 3, t0:t0 + nt]
        for k in range(K):
            dk = dz[k]
            d = dk[0]
            s0, s1, s2, s3 = d * a0[0], d * a1[0], d * a2[0], d * a3[0]
            for i in range(1, nt):
                d = dk[i]
                s0 += d * a0[i]
                s1 += d * a1[i]
                s2 += d * a2[i]
                s3 += d * a3[i]
            gt[k, j], gt[k, j + 1], gt[k, j + 2], gt[k, j + 3] = s0, s1, s2, s3
        j += 4
    while j < n:
        a0 = A[j, t0:t0 + nt]
        for k in range(K):
            dk = dz[k]
            s0 = dk[0] * a0[0]
            for i in range(1, nt):
                s0 += dk[i] * a0[i]
            gt[k, j] = s0
        j += 1


def gc_reg_source(K, L, n):
    """Source of ``gc_reg(A, t0, nt, dz, gt)`` (C order, as ``gc8``) with K x L scalar
    accumulators ``a{k}_{l}`` per block of L features, the features' remainder
    (``n % L``) in the dot form. K, L and n are compile-time constants."""
    nb = n // L
    out = ["def gc_reg(A, t0, nt, dz, gt):", f"    for jb in range({nb}):",
           f"        j0 = jb * {L}"]
    out += ["        " + "; ".join(f"a{k}_{q} = zero" for q in range(L)) for k in range(K)]
    out += ["        for i in range(nt):", "            x = A[t0 + i]",
            "            " + "; ".join(f"x{q} = x[j0 + {q}]" for q in range(L))]
    for k in range(K):
        out += [f"            d = dz[{k}, i]",
                "            " + "; ".join(f"a{k}_{q} += d * x{q}" for q in range(L))]
    out += ["        " + "; ".join(f"gt[{k}, j0 + {q}] = a{k}_{q}" for q in range(L))
            for k in range(K)]
    out += [f"    for j in range({nb * L}, {n}):", f"        for k in range({K}):",
            "            s = zero", "            for i in range(nt):",
            "                s += dz[k, i] * A[t0 + i, j]", "            gt[k, j] = s"]
    return "\n".join(out)


def make_gc_reg(K, L, n, dtype):
    """``gc_reg`` compiled for these constants (exec'd source: numba cannot cache it)."""
    ns = {"zero": dtype(0)}
    exec(gc_reg_source(K, L, n), ns)  # noqa: S102  (our own generated source)
    return njit(fastmath=FM, error_model="numpy", nogil=True)(ns["gc_reg"])
