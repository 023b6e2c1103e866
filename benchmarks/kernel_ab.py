"""The binary kernel's run-time choices against each other and one read of X, in one
process: the A/B behind the choices in ``numba_fortran`` and ``numba_common``.

    python benchmarks/kernel_ab.py [--m 2000000] [--n 100] [--repeat 21] [--pause 0.3]
                                   [--cases f64C,f32C,f64F,f32F]

Per case (dtype and order of a standard normal X), the candidates alternate within each
round, each timing after ``--pause`` s of sleep (OpenBLAS's and OpenMP's threads spin
after a call): X @ v (one read, the denominator), then

- F order: the two schedules of ``numba_fortran.loss_grad_fortran`` (fused, two sweeps)
  with tiles of L2/2 and L2/4 bytes (``TILE_BYTES`` and half of it);
- C order: the tiles of ``numba_kcol.kcol_dense`` with K = 1 (BLAS products per
  tile; tiles of L2/4, its ``TILE_BYTES``, and L2/2), and the blocks of
  ``numba_binary.loss_grad_dense`` with the prefetch distance of ``prefetch_rows`` and
  with half and twice its rows.

Prints, per candidate, the minimum (the least disturbed run) and the median of the
wall time and of the process CPU time, as ratios to X @ v; ``*`` marks the choice
vlogreg makes on this machine. On a loaded machine compare the minima and the CPU
times; a choice should win on both minimum and median.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def candidates(X, y, s, w, b):
    """``{name: (call, is_default)}`` for X's order and dtype (see the docstring)."""
    from vlogreg._kernels import numba_binary, numba_fortran, numba_kcol
    from vlogreg._kernels.numba_common import FLUSH, prefetch_rows
    from vlogreg._kernels.numba_kcol_rows import BINARY
    from vlogreg._kernels.threads import blas_single_thread

    m, n = X.shape
    nc = numba_binary.n_chunks_for(m)
    grad_parts, loss_parts = np.empty((nc, n + 1)), np.empty(nc)
    b = X.dtype.type(b)
    out = {}
    if X.flags.c_contiguous:
        # the tiles of numba_kcol with K = 1, as numba_binary.loss_grad calls them for
        # X that c_tiles admits, with tiles of L2/4 (TILE_BYTES) and L2/2
        tiled = numba_binary.c_tiles(X)  # the itemsize, and X larger than the L3
        kp = numba_kcol.n_chunks_kcol(m, n, 1)
        g_parts, gb_parts = np.empty((kp, 1, n)), np.empty((kp, 1))
        l_parts = np.empty((kp, 1))
        W = np.ascontiguousarray(w.reshape(n, 1))
        bk = np.array([b])
        S = FLUSH if X.itemsize == 4 else 1 << 30
        WT = np.ascontiguousarray(W.T)
        fold, excl = np.zeros(0, np.int32), np.full(1, -1, np.int32)

        def tiles(R):
            with blas_single_thread():  # as kcol_pass calls it: BLAS on one thread per tile
                numba_kcol.kcol_dense(X, False, R, min(S, R), W, WT, bk, y, s, fold, excl,
                                      BINARY, kp, g_parts, gb_parts, l_parts)

        R4 = numba_kcol.tile_rows_kcol(n, X.itemsize)
        for R, div in ((R4, 4), (2 * R4, 2)):
            out[f"C tiles (BLAS), L2/{div} ({R} rows)"] = (
                lambda R=R: tiles(R), div == 4 and tiled)
        pf = prefetch_rows(n, X.itemsize)
        for rows in sorted({pf, max(16, pf // 2), 2 * pf}):
            out[f"C blocks, prefetch {rows} rows"] = (
                lambda rows=rows: numba_binary.loss_grad_dense(
                    X, y, s, w, b, nc, rows, grad_parts, loss_parts),
                rows == pf and not tiled)
        return out
    R_default, fuse_default = numba_fortran.tile_plan(n, X.itemsize)
    for fuse in (True, False):
        for div in (2, 4):
            R = numba_fortran.tile_rows(n, X.itemsize, numba_fortran.l2_bytes() // div)
            name = f"F {'fused' if fuse else 'two sweeps'}, tiles L2/{div} ({R} rows)"
            out[name] = (lambda R=R, fuse=fuse: numba_fortran.loss_grad_fortran(
                X.T, y, s, w, b, nc, R, fuse, grad_parts, loss_parts),
                (R, fuse) == (R_default, fuse_default))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=2_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--pause", type=float, default=0.3)
    ap.add_argument("--cases", default="f64C,f32C,f64F,f32F")
    args = ap.parse_args()
    import numba

    from vlogreg._hardware import cache_bytes

    print(f"X: {args.m:,} x {args.n}, {args.repeat} rounds, {args.pause} s pause; numba "
          f"threads {numba.get_num_threads()}; L1d {cache_bytes(1, 0) >> 10} KiB, L2 "
          f"{cache_bytes(2, 0) >> 10} KiB")
    rng = np.random.default_rng(0)
    for case in args.cases.split(","):
        dt = np.float32 if case.startswith("f32") else np.float64
        X = np.asarray(rng.standard_normal((args.m, args.n)), dtype=dt, order=case[-1])
        y = (rng.random(args.m) < 0.5).astype(dt)
        s = np.ones(args.m, dt)
        w = (rng.standard_normal(args.n) * 0.1).astype(dt)
        v = np.ones(args.n, dt)
        cands = {"one read: X @ v": (lambda X=X, v=v: X @ v, False),
                 **candidates(X, y, s, w, 0.1)}
        for f, _ in cands.values():
            f()
        wall = {k: [] for k in cands}
        cpu = {k: [] for k in cands}
        for _ in range(args.repeat):
            for k, (f, _) in cands.items():
                time.sleep(args.pause)
                c0, t0 = time.process_time(), time.perf_counter()
                f()
                wall[k].append(time.perf_counter() - t0)
                cpu[k].append(time.process_time() - c0)
        print(f"\n{case}: | candidate | wall min | wall median | CPU min | CPU median |")
        floor = "one read: X @ v"
        for k, (_, default) in cands.items():
            cells = [f"{np.min(t[k]) / np.min(t[floor]):.2f}x | "
                     f"{np.median(t[k]) / np.median(t[floor]):.2f}x" for t in (wall, cpu)]
            extra = f" ({np.min(wall[k]) * 1e3:.1f} ms)" if k == floor else ""
            print(f"| {k}{' *' if default else ''}{extra} | {cells[0]} | {cells[1]} |",
                  flush=True)
        X = None


if __name__ == "__main__":
    main()
