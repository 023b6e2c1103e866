"""Issue 16's probe: can numba micro-kernels with fixed register blocks compute the
multinomial kernel's two products faster than OpenBLAS, and where does a pass's time go?

    python benchmarks/softmax_floor_probe.py [--part tile,pass,phases] [--m 1000000]
        [--n 100] [--classes 10] [--tile-rows 256] [--rounds 15] [--threads 2]

- ``tile``: the two products of one L1/L2-resident tile (``--tile-rows`` x n, K
  classes), ONE thread: GFLOP/s of the probe kernels (``_softmax_tiles``) against
  ``_intrinsics.gemm`` on the same tile (OpenBLAS, the calls ``numba_kcol.kcol_dense``
  makes) and a square 1024 gemm (the machine's practical peak on one core). The
  register-blocked ``gc_reg`` is included when numba's SLP vectorizer is on
  (``NUMBA_SLP_VECTORIZE=1 NUMBA_LOOP_VECTORIZE=0``; see ``_softmax_tiles``).
- ``pass``: one multinomial loss+gradient of m x n (C order), ``--threads`` numba
  threads: today's ``kcol_pass`` (OpenBLAS tile products) against the same driver with
  the probe's tile kernels, and one read of X (X @ v).
- ``phases``: ONE thread, today's schedule (OpenBLAS products, ``softmax_rows``) with
  phases switched off, X from memory or a tile-sized X in L2 (the same rows in total),
  and with the next tile prefetched into L2 in slices: between the G sub-products, or
  between 16-row blocks of the softmax.

Each timing after a 0.3 s pause (``pass`` and ``phases``; 0.02 s in ``tile``, whose
calls are single-threaded), candidates alternating within each round; the minimum (the
least disturbed run) and the median of the process CPU time (``pass``: wall time too).
Every kernel's result is checked against NumPy before it is timed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NO, TR = 110, 116   # BLAS's 'n' and 't'


def _compiled():
    """The numba drivers (compiled on first use; imported late so --help is quick)."""
    import _softmax_tiles as tiles
    from numba import njit, prange

    from vlogreg._kernels._intrinsics import gemm, prefetch_l2
    from vlogreg._kernels.numba_common import FLUSH
    from vlogreg._kernels.numba_kcol_rows import softmax_rows

    def repeat(kern):
        @njit(nogil=True)
        def run(A, nt, B, out, reps):
            for _ in range(reps):
                kern(A, 0, nt, B, out)
        return run

    @njit(nogil=True)
    def gemm_zc(A, nt, W, zr, reps):   # Z^T (K x nt) = W^T X_t^T, as kcol_dense (C)
        n, K = W.shape
        for _ in range(reps):
            gemm(NO, NO, K, nt, n, W, K, A, n, 0.0, zr, K)

    @njit(nogil=True)
    def gemm_gc(A, nt, dz, gt, reps):  # G (n x K) = X_t^T dZ_t, as kcol_dense (C)
        n = A.shape[1]
        K, R = dz.shape
        for _ in range(reps):
            gemm(NO, NO, n, K, nt, A, n, dz, R, 0.0, gt, n)

    @njit(nogil=True)
    def gemm_zf(AT, nt, WT, z, reps):  # as kcol_dense (F): Z (nt x K) = X_t W
        n, m = AT.shape
        R = z.shape[1]
        for _ in range(reps):
            gemm(NO, NO, nt, WT.shape[0], n, AT, m, WT, n, 0.0, z, R)

    @njit(nogil=True)
    def gemm_gf(AT, nt, dz, gt, reps):
        n, m = AT.shape
        K, R = dz.shape
        for _ in range(reps):
            gemm(TR, NO, n, K, nt, AT, m, dz, R, 0.0, gt, n)

    @njit(parallel=True, fastmath={"reassoc", "contract"}, error_model="numpy", nogil=True)
    def pass_tiles(A, R, WT, b, y, sw, n_chunks, g_parts, loss_parts):
        """kcol_dense's SOFTMAX schedule (C order) with the probe's tile products."""
        m, n = A.shape
        K = WT.shape[0]
        single = A.itemsize == 4
        S = FLUSH if single else R
        for c in prange(n_chunks):
            r0, r1 = (c * m) // n_chunks, ((c + 1) * m) // n_chunks
            acc64, gt = np.zeros((K, n)), np.empty((K, n), A.dtype)
            zt, dzt = np.empty((K, R), A.dtype), np.empty((K, R), A.dtype)
            z64, eb = np.empty((K, R)), np.empty((K, R))
            wb, rb, gacc = np.empty(R), np.empty(R), np.zeros(K)
            loss = 0.0
            for t0 in range(r0, r1, R):
                nt = min(R, r1 - t0)
                tiles.zc4x2(A, t0, nt, WT, zt)
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zt[k, i] + b[k]
                loss += softmax_rows(z64, nt, y, sw, t0, eb, wb, rb, dzt, gacc, single)
                for s0 in range(0, nt, S):
                    tiles.gc8(A, t0 + s0, min(S, nt - s0), dzt[:, s0:], gt)
                    for k in range(K):
                        for j in range(n):
                            acc64[k, j] += gt[k, j]
            g_parts[c] = acc64
            loss_parts[c] = loss

    @njit(fastmath={"reassoc", "contract"}, error_model="numpy", nogil=True)
    def phases(A, mtot, R, S, W, WT, b, y, sw, do_z, do_s, do_g, pf, ahead):
        """One thread, kcol_dense's C-order schedule over ``mtot`` rows (tiles of A
        again and again when A is small); ``pf`` 1: prefetch the next tile into L2 in
        slices, one before each of the tile's G sub-products; 2: in slices between
        16-row blocks of the softmax; 3: the softmax in 16-row blocks, no prefetch.
        ``do_z`` 2: Z by the probe's ``zc4x2`` instead of OpenBLAS; 3: by ``zc4x2_pf``,
        ``ahead`` rows ahead."""
        m, n = A.shape
        K = W.shape[1]
        single = A.itemsize == 4
        acc64, gt = np.zeros((K, n)), np.empty((K, n), A.dtype)
        zt, dzt = np.zeros((K, R), A.dtype), np.zeros((K, R), A.dtype)
        z64, eb = np.zeros((K, R)), np.empty((K, R))
        wb, rb, gacc = np.empty(R), np.empty(R), np.zeros(K)
        step = 64 // A.itemsize
        lines = (R * n + step - 1) // step
        per = (lines + (R + S - 1) // S) // ((R + S - 1) // S + 1) + 1
        loss = 0.0
        for g0 in range(0, mtot, R):
            t0 = g0 % m
            nt = min(R, m - t0)
            nxt = t0 + R < m
            Xt = A[t0:t0 + nt]
            q = 0
            if do_z == 3:   # the same, with the rows ahead prefetched through the loop
                tiles.zc4x2_pf(A, t0, nt, WT, zt, ahead)
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zt[k, i] + b[k]
            elif do_z == 2:   # the probe's dot-form Z, computing from the rows as they come
                tiles.zc4x2(A, t0, nt, WT, zt)
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zt[k, i] + b[k]
            elif do_z:
                gemm(NO, NO, K, nt, n, W, K, Xt, n, 0.0, zt, K)
                zr = zt.reshape(K * R)
                for k in range(K):
                    for i in range(nt):
                        z64[k, i] = zr[i * K + k] + b[k]
            if do_s and pf >= 2:   # the softmax in 16-row blocks (2: a slice between)
                per2 = (lines * 16 + nt - 1) // nt
                for i0 in range(0, nt, 16):
                    if nxt and pf == 2:
                        for p in range(q, min(q + per2, lines)):
                            prefetch_l2(A[t0 + R:], p * step)
                        q += per2
                    loss += softmax_rows(z64[:, i0:], min(16, nt - i0), y, sw, i0,
                                         eb[:, i0:], wb[i0:], rb[i0:], dzt[:, i0:], gacc,
                                         single)
            elif do_s:
                loss += softmax_rows(z64, nt, y, sw, 0, eb, wb, rb, dzt, gacc, single)
            for s0 in range(0, nt, S):
                if pf == 1 and nxt:
                    for p in range(q, min(q + per, lines)):
                        prefetch_l2(A[t0 + R:], p * step)
                    q += per
                if do_g:
                    ns = min(S, nt - s0)
                    gemm(NO, NO, n, K, ns, A[t0 + s0:t0 + s0 + ns], n, dzt[:, s0:], R,
                         0.0, gt, n)
                    for k in range(K):
                        for j in range(n):
                            acc64[k, j] += gt[k, j]
            if 0 < pf < 3 and nxt:   # what the slices left
                for p in range(q, lines):
                    prefetch_l2(A[t0 + R:], p * step)
        return loss + acc64.sum()

    return tiles, repeat, gemm_zc, gemm_gc, gemm_zf, gemm_gf, pass_tiles, phases


def _rounds(cases, rounds, pause):
    """``{name: (wall times, CPU times)}``, the cases alternating within each round."""
    for f in cases.values():
        f()
    res = {k: ([], []) for k in cases}
    for _ in range(rounds):
        for k, f in cases.items():
            time.sleep(pause)
            t, c = time.perf_counter(), time.process_time()
            f()
            res[k][0].append(time.perf_counter() - t)
            res[k][1].append(time.process_time() - c)
    return res


def _check(name, got, want, dt):
    err = np.abs(got - want).max() / np.abs(want).max()
    if err > (1e-12 if dt == np.float64 else 1e-5):
        raise AssertionError(f"{name}: relative error {err:.2e} against NumPy")


def tile(args, dt, c):
    tiles, repeat, gemm_zc, gemm_gc, gemm_zf, gemm_gf = c[:6]
    from numba.core import config
    from threadpoolctl import threadpool_limits

    R, n, K = args.tile_rows, args.n, args.classes
    rng = np.random.default_rng(0)
    X = rng.standard_normal((R, n)).astype(dt)
    XT = np.ascontiguousarray(X.T)
    W = rng.standard_normal((n, K)).astype(dt)
    WT = np.ascontiguousarray(W.T)
    dz = rng.standard_normal((K, R)).astype(dt)
    z, zr, gt = np.empty((K, R), dt), np.empty((R, K), dt), np.empty((K, n), dt)
    z64, g64 = (X.astype(np.float64) @ W).T, dz.astype(np.float64) @ X
    kern = {"zc4x2 (Z, C)": (tiles.zc4x2, X, WT, z, z64),
            "gc8 (G, C)": (tiles.gc8, X, dz, gt, g64),
            "zf8 (Z, F)": (tiles.zf8, XT, W, z, z64),
            "gf4 (G, F)": (tiles.gf4, XT, dz, gt, g64)}
    if config.SLP_VECTORIZE:
        kern["gc_reg L=8 (G, C)"] = (tiles.make_gc_reg(K, 8, n, dt), X, dz, gt, g64)
    flop = 2 * R * n * K
    reps = max(1, int(2e8 / flop))
    cases = {}
    for name, (f, A, B, out, want) in kern.items():
        f(A, 0, R, B, out)
        _check(name, out, want, dt)
        run = repeat(f)
        cases[name] = (lambda r=run, A=A, B=B, out=out: r(A, R, B, out, reps))
    gemm_zc(X, R, W, zr, 1)
    _check("gemm Z (C)", zr.T, z64, dt)
    gemm_gf(XT, R, dz, gt, 1)
    _check("gemm G (F)", gt, g64, dt)
    cases.update({"gemm Z (C)": lambda: gemm_zc(X, R, W, zr, reps),
                  "gemm G (C)": lambda: gemm_gc(X, R, dz, gt, reps),
                  "gemm Z (F)": lambda: gemm_zf(XT, R, WT, z, reps),
                  "gemm G (F)": lambda: gemm_gf(XT, R, dz, gt, reps)})
    Q = rng.standard_normal((1024, 1024)).astype(dt)
    cases["square gemm 1024"] = lambda: Q @ Q
    with threadpool_limits(1):
        res = _rounds(cases, args.rounds, 0.02)
    print(f"\ntile {R} x {n}, K = {K}, {np.dtype(dt).name}, one thread: GFLOP/s at the "
          f"minimum and the median CPU time of {args.rounds} rounds")
    for name, (_, cpu) in res.items():
        fl = 2 * 1024 ** 3 if name.startswith("square") else flop * reps
        print(f"  {name:20s} {fl / min(cpu) / 1e9:7.1f} {fl / np.median(cpu) / 1e9:7.1f}")


def _problem(args, dt):
    from vlogreg._kernels.numba_kcol import tile_rows_kcol

    m, n, K = args.m, args.n, args.classes
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n)).astype(dt)
    W = (0.1 * rng.standard_normal((n, K))).astype(dt)
    y = rng.integers(0, K, m).astype(np.float64)
    return X, W, np.zeros(K, dt), y, np.ones(m), tile_rows_kcol(n, X.itemsize)


def whole_pass(args, dt, c):
    import numba
    from threadpoolctl import threadpool_limits

    from vlogreg._kernels.numba_kcol import kcol_pass, n_chunks_kcol
    from vlogreg._kernels.numba_kcol_rows import SOFTMAX

    pass_tiles = c[6]
    numba.set_num_threads(args.threads)
    X, W, b, y, sw, R = _problem(args, dt)
    m, n = X.shape
    K = W.shape[1]
    WT = np.ascontiguousarray(W.T)
    nc = n_chunks_kcol(m, n, K)
    g_parts, l_parts = np.empty((nc, K, n)), np.empty(nc)
    fold, exclude = np.zeros(1, np.int32), np.full(K, -1, np.int32)
    v = np.ones(n, dt)
    loss, g, _ = kcol_pass(X, W, b, y, sw, fold, exclude, SOFTMAX)
    pass_tiles(X, R, WT, b, y, sw, nc, g_parts, l_parts)
    _check("pass_tiles loss", np.array([l_parts.sum()]), loss[:1], np.float32)
    _check("pass_tiles gradient", g_parts.sum(0).T, g, np.float32)
    cases = {"X @ v (one read)": lambda: X @ v,
             "kcol_pass (OpenBLAS)": lambda: kcol_pass(X, W, b, y, sw, fold, exclude,
                                                       SOFTMAX),
             "probe tile kernels": lambda: pass_tiles(X, R, WT, b, y, sw, nc, g_parts,
                                                      l_parts)}
    with threadpool_limits(1):
        res = _rounds(cases, args.rounds, 0.3)
    rd = res["X @ v (one read)"][0]
    print(f"\n{m} x {n}, K = {K}, {np.dtype(dt).name}, C order, tile {R} rows, "
          f"{args.threads} numba threads, {args.rounds} rounds: wall ms min / median "
          "(x one read), CPU ms min / median")
    for name, (wall, cpu) in res.items():
        print(f"  {name:22s} {1e3 * min(wall):7.1f} {1e3 * np.median(wall):7.1f} "
              f"({min(wall) / min(rd):.2f}x {np.median(wall) / np.median(rd):.2f}x)  "
              f"CPU {1e3 * min(cpu):7.1f} {1e3 * np.median(cpu):7.1f}")


def phase_split(args, dt, c):
    from threadpoolctl import threadpool_limits

    from vlogreg._kernels.numba_common import prefetch_rows

    phases = c[7]
    X, W, b, y, sw, R = _problem(args, dt)
    m = X.shape[0]
    Xs = np.ascontiguousarray(X[:R])     # one tile: in L2 after its first pass
    ys, sws = y[:R].copy(), sw[:R].copy()
    v = np.ones(X.shape[1], dt)
    S = R // 4
    WT = np.ascontiguousarray(W.T)
    ahead = prefetch_rows(X.shape[1], X.itemsize)

    def run(A, z, s, g, pf=0):
        return lambda: phases(A, m, R, S, W, WT, b, ys, sws, z, s, g, pf, ahead)

    cases = {"X @ v (one read)": lambda: X @ v,
             "full, X from memory": run(X, True, True, True),
             "full + L2 prefetch, G slices": run(X, True, True, True, 1),
             "full + L2 prefetch, softmax": run(X, True, True, True, 2),
             "full, softmax in 16-row blocks": run(X, True, True, True, 3),
             "full, tile in L2": run(Xs, True, True, True),
             "Z only, from memory": run(X, True, False, False),
             "Z only, in L2": run(Xs, True, False, False),
             "Z only (zc4x2), from memory": run(X, 2, False, False),
             "Z only (zc4x2), in L2": run(Xs, 2, False, False),
             "Z only (zc4x2 + pf), from memory": run(X, 3, False, False),
             "softmax only": run(Xs, False, True, False),
             "G only, in L2": run(Xs, False, False, True)}
    with threadpool_limits(1):
        res = _rounds(cases, args.rounds, 0.3)
    print(f"\n{m} x {X.shape[1]}, K = {W.shape[1]}, {np.dtype(dt).name}, C order, tile "
          f"{R} rows, ONE thread: CPU ms min / median of {args.rounds} rounds")
    for name, (_, cpu) in res.items():
        print(f"  {name:30s} {1e3 * min(cpu):7.1f} {1e3 * np.median(cpu):7.1f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", default="tile,pass,phases")
    ap.add_argument("--m", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--tile-rows", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtypes", default="float64,float32")
    args = ap.parse_args()
    c = _compiled()
    for dt in (np.dtype(d).type for d in args.dtypes.split(",")):
        for part in args.part.split(","):
            {"tile": tile, "pass": whole_pass, "phases": phase_split}[part](args, dt, c)


if __name__ == "__main__":
    main()
