"""Fused one-pass loss + gradient for Fortran-ordered (column-major) dense X.

A data frame's ``to_numpy()`` is usually column-major, and copying it to row-major
would double the memory of a fit. Columns are contiguous here, so the kernel walks
tiles of ``R`` rows x all columns, sized to stay in L2 between its two products:

    z[tile]  = b + sum_j X[tile, j] w_j      (eight columns at a time: one update of z)
    dz[tile] = the per-row maths of ``numba_binary`` (same series, same precision)
    dw_j    += X[tile, j] . dz[tile]         (eight columns at a time: one read of dz)

X is read from memory once per pass; the second product re-reads the tile from L2.
Two schedules (``tile_plan`` picks one by dtype, ``FUSE_ITEMSIZES``):

- *fused* (float64 and float32): one sweep over the columns does the ``dw`` products of tile t
  (from L2) and the ``z`` products of tile t + 1 (from memory), so every sweep streams
  new data while it re-reads the old; two tiles live in L2, each a quarter of it;
- *two sweeps* (kept for comparison, ``benchmarks/kernel_ab.py``): ``z`` of tile t while tile t + 1 is prefetched into L2, then
  ``dw`` of tile t; one tile of half the L2.

Chunks of rows and their fixed-order sum are those of ``numba_binary``: results are
bit-identical for any thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._intrinsics import prefetch_l2
from .numba_common import LINE, _elementwise, l2_bytes

#: bytes of X per tile of the two-sweep schedule: half a core's L2, so both products of
#: a tile read it there. With a 2 MiB L2 (Intel Xeon, 2M x 100, 2 threads) 1 MiB beat
#: 0.25-6 MiB tiles in float32 and float64; with a 1 MiB L2 (AMD Zen 5, 1M x 100, one
#: thread) 256 KiB-1 MiB tiles were within the run's noise and 64-128 KiB up to 1.5x
#: slower. The fused schedule holds two tiles, each half of this
TILE_BYTES = l2_bytes() // 2

#: the fused schedule for float64 and float32 X. On AMD Zen 5 (1 MiB L2, 2M x 100, 2 threads,
#: 21 alternating runs under load, three runs) float64 fused with L2/4 tiles against two
#: sweeps with L2/2 tiles: wall min/median 1.41/1.24x vs 1.54/1.34x, 1.16/1.47x vs
#: 1.31/1.69x, 1.41/1.57x vs 1.90/1.79x of one read (X @ v); float32 won in CPU time
#: but lost the wall minimum in all three runs (1.61 vs 1.36x, 1.64 vs 1.55x, 1.44 vs
#: 1.39x), so it keeps two sweeps. In CPU time, fused with L2/2 tiles (the whole L2 in
#: use; two runs) and with L2/8 tiles (one run) were slower than with L2/4 in both
#: dtypes, and two sweeps with L2/4 tiles slower than with L2/2 (one run): the gain is
#: the schedule's, not the smaller tile's. Quiet (nothing else running, 21 rounds,
#: `benchmarks/kernel_ab.py --cases f64F,f32F,f32C`, 2026-12-01) float32 fused with L2/4
#: tiles against two sweeps with L2/2: wall min/median 1.22/1.16x vs 1.29/1.25x, CPU
#: 1.42/1.19x vs 1.51/1.29x, so float32 is fused too (float64 1.25/1.23x vs 1.32/1.31x;
#: fused L2/2 tiles 1.21/1.21x and 1.20/1.14x, within that run's noise of L2/4)
FUSE_ITEMSIZES = (8, 4)


def tile_rows(n, itemsize, tile_bytes=None):
    """Rows per tile: a multiple of 64 in [64, 8192], about ``tile_bytes`` (default
    ``TILE_BYTES``) of X."""
    r = (TILE_BYTES if tile_bytes is None else tile_bytes) // max(1, n * itemsize)
    return int(min(8192, max(64, r - r % 64)))


def tile_plan(n, itemsize):
    """``(R, fuse)``: rows per tile and the schedule for ``n`` features of ``itemsize``
    bytes (see the module's docstring and ``FUSE_ITEMSIZES``): fused tiles are half
    as tall, since two of them share the L2."""
    fuse = itemsize in FUSE_ITEMSIZES
    return tile_rows(n, itemsize, TILE_BYTES // 2 if fuse else TILE_BYTES), fuse


@njit(inline="always", fastmath={"reassoc", "contract"})
def _z_update(XT, j, g, t0, nt, w, zt):
    """``zt[:nt] += sum_{c < g} XT[j + c, t0:t0 + nt] w[j + c]`` for g = 8 or 1 columns:
    eight columns per pass over zt (one load and store of zt per 8 products)."""
    if g == 8:
        w0, w1, w2, w3 = w[j], w[j + 1], w[j + 2], w[j + 3]
        w4, w5, w6, w7 = w[j + 4], w[j + 5], w[j + 6], w[j + 7]
        # 1-d views of the columns: numba vectorizes these loops, not XT[j, r]
        x0, x1 = XT[j, t0:t0 + nt], XT[j + 1, t0:t0 + nt]
        x2, x3 = XT[j + 2, t0:t0 + nt], XT[j + 3, t0:t0 + nt]
        x4, x5 = XT[j + 4, t0:t0 + nt], XT[j + 5, t0:t0 + nt]
        x6, x7 = XT[j + 6, t0:t0 + nt], XT[j + 7, t0:t0 + nt]
        for i in range(nt):
            zt[i] += ((x0[i] * w0 + x1[i] * w1) + (x2[i] * w2 + x3[i] * w3)) \
                + ((x4[i] * w4 + x5[i] * w5) + (x6[i] * w6 + x7[i] * w7))
    else:
        wj = w[j]
        x0 = XT[j, t0:t0 + nt]
        for i in range(nt):
            zt[i] += x0[i] * wj


@njit(inline="always", fastmath={"reassoc", "contract"})
def _dw_update(XT, j, g, t0, nt, dzt, acc64):
    """``acc64[j + c] += XT[j + c, t0:t0 + nt] . dzt[:nt]`` for c < g (8 or 1): eight
    independent sums per read of dzt, each in X's dtype, added to float64 per tile."""
    if g == 8:
        a0 = XT.dtype.type(0)
        a1 = a2 = a3 = a4 = a5 = a6 = a7 = a0
        x0, x1 = XT[j, t0:t0 + nt], XT[j + 1, t0:t0 + nt]
        x2, x3 = XT[j + 2, t0:t0 + nt], XT[j + 3, t0:t0 + nt]
        x4, x5 = XT[j + 4, t0:t0 + nt], XT[j + 5, t0:t0 + nt]
        x6, x7 = XT[j + 6, t0:t0 + nt], XT[j + 7, t0:t0 + nt]
        for i in range(nt):
            d = dzt[i]
            a0 += x0[i] * d
            a1 += x1[i] * d
            a2 += x2[i] * d
            a3 += x3[i] * d
            a4 += x4[i] * d
            a5 += x5[i] * d
            a6 += x6[i] * d
            a7 += x7[i] * d
        acc64[j] += a0
        acc64[j + 1] += a1
        acc64[j + 2] += a2
        acc64[j + 3] += a3
        acc64[j + 4] += a4
        acc64[j + 5] += a5
        acc64[j + 6] += a6
        acc64[j + 7] += a7
    else:
        a = XT.dtype.type(0)
        x0 = XT[j, t0:t0 + nt]
        for i in range(nt):
            a += x0[i] * dzt[i]
        acc64[j] += a


@njit(inline="always", fastmath={"reassoc", "contract"})
def _z_tile(XT, t0, nt, w, b, zt):
    """``zt[:nt] = b + X[t0:t0 + nt] w``, all columns (no prefetch)."""
    n = XT.shape[0]
    n8 = n - n % 8
    for i in range(nt):
        zt[i] = b
    j = 0
    while j < n:
        g = 8 if j < n8 else 1
        _z_update(XT, j, g, t0, nt, w, zt)
        j += g


@njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", cache=True,
      nogil=True)
def loss_grad_fortran(XT, y, s, w, b, n_chunks, R, fuse, grad_parts, loss_parts):
    """One pass over F-contiguous X (m, n), given as its C-contiguous transpose ``XT``
    (n, m) (numba vectorizes C-layout indexing): per-chunk partials, as
    ``loss_grad_dense``. ``R`` rows per tile; ``fuse``: the fused schedule (``z`` of
    the next tile in the same sweep as ``dw`` of this one), else two sweeps per tile.
    Both give the same sums in the same order: the schedule moves no rounding."""
    n, m = XT.shape
    single = XT.itemsize == 4
    n8 = n - n % 8
    step = max(1, LINE // XT.itemsize)
    for c in prange(n_chunks):
        r0 = (c * m) // n_chunks
        r1 = ((c + 1) * m) // n_chunks
        acc64 = np.zeros(n, np.float64)
        zt = np.empty(R, XT.dtype)
        dzt = np.empty(R, XT.dtype)
        z64 = np.empty(R, np.float64)
        e64 = np.empty(R, np.float64)
        dz64 = np.empty(R, np.float64)
        loss = 0.0
        db = 0.0
        if fuse:
            _z_tile(XT, r0, min(R, r1 - r0), w, b, zt)
        for t0 in range(r0, r1, R):
            nt = min(R, r1 - t0)
            nxt = t0 + R
            if not fuse:
                for i in range(nt):
                    zt[i] = b
                # the next tile's columns: 100 column streams outrun the hardware
                # prefetcher. Into L2, where the tile is used: into L1, a tile of L2's
                # size evicted the columns in use
                pf = min(R, m - nxt)
                j = 0
                while j < n:
                    g = 8 if j < n8 else 1
                    for jj in range(j, j + g):
                        for i in range(0, pf, step):
                            prefetch_l2(XT, nxt + i + jj * m)
                    _z_update(XT, j, g, t0, nt, w, zt)
                    j += g
            for i in range(nt):
                z64[i] = zt[i]
            loss += _elementwise(z64, y[t0:t0 + nt], s[t0:t0 + nt], nt, e64, dz64, single)
            for i in range(nt):
                dzt[i] = dz64[i]
                db += dz64[i]
            # fused: zt (copied to z64 above) now takes the next tile's z
            nn = min(R, r1 - nxt) if fuse and nxt < r1 else 0
            for i in range(nn):
                zt[i] = b
            j = 0
            while j < n:
                g = 8 if j < n8 else 1
                _dw_update(XT, j, g, t0, nt, dzt, acc64)
                if nn > 0:
                    _z_update(XT, j, g, nxt, nn, w, zt)
                j += g
        for j in range(n):
            grad_parts[c, j] = acc64[j]
        grad_parts[c, n] = db
        loss_parts[c] = loss
