"""One loss+gradient against one read of X, on the same X in the same run.

    python benchmarks/kernel.py [--m 2000000] [--n 100] [--repeat 7] [--pause 0.3]
                                [--classes 10] [--multinomial-m 1000000]

One read of X: a BLAS gemv (X @ v), the ratios' denominator; a numba column-sum over X
(C order) is shown beside it. Cases: binary (logistic) loss, C and F (column-major)
order, float64 and float32; then the multinomial loss with ``--classes`` classes
(0: none) on an X of ``--multinomial-m`` rows. Candidates: vlogreg's numba kernel
(binary: ``numba_binary``; multinomial: the K-column ``numba_kcol``), vlogreg's NumPy row
blocks, and the textbook two-pass NumPy gradient. Each timing follows a ``--pause`` of
sleep: OpenBLAS's threads spin for ~0.1 s after a threaded call, and a kernel started
in that window ran up to 2x slower on 2 cores. Medians, candidates alternating within
each round. Prints a Markdown table (ratios to X @ v) and the BLAS/threads in use.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _softmax_two_pass(X, W, b, y):
    z = X @ W + b
    z -= z.max(axis=1, keepdims=True)
    a = np.exp(z)
    a /= a.sum(axis=1, keepdims=True)
    a[np.arange(len(y)), y] -= 1.0
    return X.T @ a


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=2_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--pause", type=float, default=0.3,
                    help="seconds of sleep before each timing (OpenBLAS's threads spin)")
    ap.add_argument("--classes", type=int, default=10,
                    help="classes of the multinomial cases (0: no multinomial case)")
    ap.add_argument("--multinomial-m", type=int, default=1_000_000)
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
    print(f"X: {args.m:,} x {args.n} (multinomial: {args.multinomial_m:,} x {args.n}, "
          f"{args.classes} classes), median of {args.repeat}, {args.pause} s pause before "
          f"each timing; numba threads {numba.get_num_threads()}; BLAS: "
          + ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                      f"({i['num_threads']} threads)" for i in threadpool_info()))
    print()
    print("| loss | dtype | order | one read: X @ v | numba kernel | NumPy row blocks "
          "| NumPy two-pass |")
    print("|---|---|---|---|---|---|---|")
    cases = [("binary", dt, order) for dt in (np.float64, np.float32) for order in "CF"]
    if args.classes > 2:
        cases += [("multinomial", dt, order) for dt in (np.float64, np.float32)
                  for order in "CF"]
    for loss, dt, order in cases:
        m = args.m if loss == "binary" else args.multinomial_m
        X = np.asarray(rng.standard_normal((m, args.n)), dtype=dt, order=order)
        v = np.ones(args.n, dt)
        if loss == "binary":
            y = (rng.random(m) < 0.5).astype(dt)
            s = np.ones(m, dt)
            w = (rng.standard_normal(args.n) * 0.1).astype(dt)
            blocks = LogisticObjective(X, y, kernel="numpy")

            def kernel():
                return numba_binary.loss_grad(X, y, s, w, 0.1)

            def two_pass():
                z = X @ w + dt(0.1)
                a = 1.0 / (1.0 + np.exp(-z))
                return X.T @ (a - y)

            def numpy_blocks():
                return blocks.loss_grad(w, 0.1)
        else:
            K = args.classes
            y = rng.integers(0, K, m)
            W = (rng.standard_normal((args.n, K)) * 0.1).astype(dt)
            b = np.zeros(K, dt)
            fast = LogisticObjective(X, y, n_classes=K, kernel="numba")
            blocks = LogisticObjective(X, y, n_classes=K, kernel="numpy")

            def kernel():
                return fast.loss_grad(W, b)

            def two_pass():
                return _softmax_two_pass(X, W, b, y)

            def numpy_blocks():
                return blocks.loss_grad(W, b)

        cands = {"gemv": lambda: X @ v, "colsum": lambda: colsum(X) if order == "C" else 0,
                 "kernel": kernel, "blocks": numpy_blocks, "two-pass": two_pass}
        for f in cands.values():
            f()
        times = {k: [] for k in cands}
        for _ in range(args.repeat):
            for k, f in cands.items():
                time.sleep(args.pause)
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: float(np.median(v)) for k, v in times.items()}
        floor = med["gemv"]
        cell = {k: f"{med[k] * 1e3:.1f} ms ({med[k] / floor:.2f}x)" for k in med}
        cs = f", numba column-sum {med['colsum'] * 1e3:.1f} ms" if order == "C" else ""
        print(f"| {loss} | {np.dtype(dt).name} | {order} | {floor * 1e3:.1f} ms{cs} | "
              f"{cell['kernel']} | {cell['blocks']} | {cell['two-pass']} |", flush=True)
        X = blocks = fast = None  # free before the next X


if __name__ == "__main__":
    main()
