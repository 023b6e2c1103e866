"""One loss+gradient against one read of X, on the same X in the same run.

    python benchmarks/kernel.py [--m 2000000] [--n 100] [--repeat 7]

Floor: the faster of a BLAS gemv (X @ v) and a numba column-sum over X (C order
only), both reading X exactly once. Rows for C (row-major) and F (column-major) X. Candidates: vlogreg's numba kernel, vlogreg's NumPy row blocks, and the
textbook two-pass NumPy gradient. Medians, candidates alternating within each round.
Prints a Markdown table (ratios to the floor) and the BLAS/threads in use.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=2_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    import numba
    from threadpoolctl import threadpool_info

    from vlogreg._kernels import numba_binary
    from vlogreg.objective.logistic import LogisticObjective

    @numba.njit(parallel=True, fastmath=True, cache=True)
    def colsum(X):
        m, n = X.shape
        nc = 64
        out = np.zeros((nc, n))
        for c in numba.prange(nc):
            acc = np.zeros(n, X.dtype)
            for i in range((c * m) // nc, ((c + 1) * m) // nc):
                for j in range(n):
                    acc[j] += X[i, j]
            for j in range(n):
                out[c, j] = acc[j]
        return out.sum(0)

    rng = np.random.default_rng(0)
    print(f"X: {args.m:,} x {args.n}, median of {args.repeat}; numba threads "
          f"{numba.get_num_threads()}; BLAS: "
          + ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                      f"({i['num_threads']} threads)" for i in threadpool_info()))
    print()
    print("| dtype | order | one read (floor) | numba kernel | NumPy row blocks "
          "| NumPy two-pass |")
    print("|---|---|---|---|---|---|")
    for dt, order in ((np.float64, "C"), (np.float32, "C"), (np.float64, "F"),
                      (np.float32, "F")):
        X = np.asarray(rng.standard_normal((args.m, args.n)), dtype=dt, order=order)
        y = (rng.random(args.m) < 0.5).astype(dt)
        s = np.ones(args.m, dt)
        w = (rng.standard_normal(args.n) * 0.1).astype(dt)
        blocks = LogisticObjective(X, y, kernel="numpy")

        def two_pass():
            z = X @ w + dt(0.1)
            a = 1.0 / (1.0 + np.exp(-z))
            return X.T @ (a - y)

        cands = {"gemv": lambda: X @ w, "colsum": lambda: colsum(X) if order == "C" else 0,
                 "kernel": lambda: numba_binary.loss_grad(X, y, s, w, 0.1),
                 "blocks": lambda: blocks.loss_grad(w, 0.1), "two-pass": two_pass}
        for f in cands.values():
            f()
        times = {k: [] for k in cands}
        for _ in range(args.repeat):
            for k, f in cands.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: float(np.median(v)) for k, v in times.items()}
        floor = min(med["gemv"], med["colsum"]) if order == "C" else med["gemv"]
        cell = {k: f"{med[k] * 1e3:.1f} ms ({med[k] / floor:.2f}x)" for k in med}
        cs = f", colsum {med['colsum'] * 1e3:.1f}" if order == "C" else ""
        print(f"| {np.dtype(dt).name} | {order} | {floor * 1e3:.1f} ms (gemv "
              f"{med['gemv'] * 1e3:.1f}{cs}) | {cell['kernel']} | {cell['blocks']} | "
              f"{cell['two-pass']} |", flush=True)
        X = blocks = None  # free before the next X


if __name__ == "__main__":
    main()
