"""What the numba kernels share: block sizes, and the per-row maths of a block of rows
(branch-free exp and log1p series that vectorize over the block)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .._hardware import cache_bytes
from . import cache_stamp, compile_note

compile_note.install()  # every numba kernel module imports this one
cache_stamp.check()     # before any cached kernel is loaded

B = 16            # rows per block: z, e, dz of a block live in registers / L1
FLUSH = 256       # rows between float32 -> float64 flushes of dw. With 4096 the gradient's
                  # rounding moved the first L-BFGS iterate of a 300k x 100 float32 fit to
                  # a loss 5e-7 (relative) off the float64 one; with 256, 4e-9
LINE = 64         # bytes per cache line


def n_chunks_for(m):
    """Chunks of rows for m examples: depends on m only (determinism), ~32k rows each."""
    return max(1, min(1024, m // 32768))


def l1_bytes():
    """This machine's L1 data cache per core in bytes (``_hardware.cache_bytes``),
    32 KiB where unknown (48 KiB on AMD Zen 5 and recent Intel cores, 32 KiB on older
    ones)."""
    return cache_bytes(1, 32 << 10)


#: how far ahead of the block being computed the C-order kernel prefetches, in bytes of
#: X, by itemsize: the distances tuned on Zen 5 at n = 100 (2M x 100, 2 threads, runs
#: under load): float64 40 rows (31 KiB; 32-64 rows beat 16), float32 16 rows (6 KiB;
#: 40 rows were no better and 81 rows, 32 KiB, were slower in all of min, quartile and
#: median of 25 alternating runs). In bytes rather than rows, so that other n keep the
#: distance: 16 rows ahead are 640 bytes for 10 float32 features, too close to hide the
#: memory's latency, and 40 rows 1.5 MiB for 5000 float64 ones, evicted before use
PREFETCH_BYTES = {4: 16 * 100 * 4, 8: 40 * 100 * 8}


def prefetch_rows(n, itemsize):
    """Rows of ``n`` features of ``itemsize`` bytes to prefetch ahead: about
    ``PREFETCH_BYTES[itemsize]`` of X, at most two thirds of the L1 data cache (read at
    run time: the rows must still be there when their block comes), at least one block
    (``B`` rows)."""
    ahead = min(PREFETCH_BYTES[itemsize], l1_bytes() * 2 // 3)
    return int(max(B, ahead // max(1, n * itemsize)))


def l2_bytes():
    """This machine's L2 cache per core in bytes (``_hardware.cache_bytes``), 1 MiB
    where unknown: the tiles that must stay in cache between a kernel's two products
    are sized from it at run time (2 MiB on the Intel Xeon the kernels were first
    tuned on, 1 MiB on AMD Zen 4/5)."""
    return cache_bytes(2, 1 << 20)


def l3_bytes():
    """The L3 cache cpu0 shares, in bytes (``_hardware.cache_bytes``), 8 MiB where
    unknown (32 MiB on the AMD EPYC Zen 5 machine): an X larger than this streams from
    memory on every pass."""
    return cache_bytes(3, 8 << 20)


LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
#: 2^-k for k = 0..1075 (subnormals included): exp's scale, gathered from a table
POW2NEG = np.ldexp(1.0, -np.arange(1076)).astype(np.float64)
#: 1/k!, k = 0..13: Taylor series of exp on |r| <= ln2 / 2 (error < 1e-17)
EXP_C = np.array([1.0 / np.prod(np.arange(1, k + 1, dtype=np.float64)) for k in range(14)])
#: 1/(2k+1), k = 0..17: atanh series of log1p(e) = 2 atanh(e / (2 + e)), e in [0, 1]
LOG_C = 1.0 / (2.0 * np.arange(18) + 1.0)


def _make_exp_neg(n_exp):
    """``exp(t)`` for ``t <= 0`` (float64), a Taylor series of degree ``n_exp`` around
    the nearest multiple of ln 2: branch-free, so a loop over a block's rows vectorizes
    (libm's exp is a scalar call). Below -745 the result is 0 (exp underflows there)."""

    @njit(inline="always", fastmath={"contract"})
    def exp_neg(t):
        t = max(t, -745.0)
        kk = int(0.5 - t * LOG2E)         # t = -kk ln2 + r, |r| <= ln2/2
        r = (t + kk * LN2_HI) + kk * LN2_LO
        p = EXP_C[n_exp]
        for q in range(n_exp - 1, -1, -1):
            p = p * r + EXP_C[q]
        return p * POW2NEG[kk]

    return exp_neg


#: float64: series error < 1e-17; float32: < 3e-10 relative, far below float32's own
#: rounding of z, at half the cost
exp_neg64 = _make_exp_neg(13)
exp_neg32 = _make_exp_neg(8)


def _make_log1p(n_log):
    """``log1p(e)`` for ``0 <= e <= 1`` as ``2 atanh(s)``, ``s = e / (2 + e) <= 1/3``: an
    odd series of degree ``2 n_log + 1`` in s (``LOG_C``), branch-free like ``exp_neg``."""

    @njit(inline="always", fastmath={"contract"})
    def log1p_small(e):
        s = e / (2.0 + e)
        s2 = s * s
        q = LOG_C[n_log]
        for c in range(n_log - 1, -1, -1):
            q = q * s2 + LOG_C[c]
        return 2.0 * s * q

    return log1p_small


#: float64: series error < 1e-17; float32: < 3e-10 relative (as exp_neg32)
log1p64 = _make_log1p(17)
log1p32 = _make_log1p(8)


def _make_elementwise(exp_neg, log1p_small):
    """The per-row maths of a block, with exp's series ``exp_neg`` and log1p's
    ``log1p_small``: compile-time constants, so the series unroll and the loops over
    the rows of a block vectorize."""

    @njit(inline="always", fastmath={"contract"})
    def elementwise(zb, yb, sb, nb, eb, dzb):
        """Fills ``dzb[:nb]``; returns the block's weighted loss (float64)."""
        loss = 0.0
        for k in range(nb):
            eb[k] = exp_neg(-abs(zb[k]))
        for k in range(nb):
            e = eb[k]
            z = zb[k]
            log1p_e = log1p_small(e)
            y = yb[k]
            w = sb[k]
            loss += w * (max(z, 0.0) - y * z + log1p_e)
            a = (1.0 if z >= 0 else e) / (1.0 + e)
            dzb[k] = w * (a - y)
        return loss

    return elementwise


#: float64 X: series errors < 1e-17
_elementwise64 = _make_elementwise(exp_neg64, log1p64)
#: float32 X: errors < 3e-10 relative, far below the float32 rounding of z itself, at
#: half the per-row cost
_elementwise32 = _make_elementwise(exp_neg32, log1p32)


@njit(inline="always")
def _elementwise(zb, yb, sb, nb, eb, dzb, single):
    if single:
        return _elementwise32(zb, yb, sb, nb, eb, dzb)
    return _elementwise64(zb, yb, sb, nb, eb, dzb)
