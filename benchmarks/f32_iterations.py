"""L-BFGS iterations of float32 against float64 fits of the same values (issue 16: "find
out why the iterates diverge"), and how fragile the float64 count is.

    python benchmarks/f32_iterations.py [--m 1000000] [--n 100] [--seeds 3]

The problem of ``benchmarks/run.py``'s "dense 1000k x 100 float32" (make_classification,
two redundant columns, C = 1); X32 and ``X64 = X32.astype(float64)`` hold the same
values, so only the dtype of the arithmetic differs. Printed, per tol (1e-3, 1e-4, 1e-5):
the iterations of

- the float32 fit and the float64 fit of the same values;
- float64 fits whose gradient carries Gaussian noise of 3e-9 (a float32 evaluation's
  size near the optimum), one line per seed;
- float64 fits whose first gradient (at theta = 0, from the checking pass) is off by
  1e-7 relative (a float32 product's rounding), one line per seed;

then, per iteration, how far the float32 and float64 iterates lie apart (relative
distance of theta, and the difference of the losses). Nothing here times anything.
"""

from __future__ import annotations

import argparse

import numpy as np

from vlogreg import LogisticObjective, LogisticRegression
from vlogreg.bench.problems import dense

TOLS = (1e-3, 1e-4, 1e-5)


def iterations(X, y):
    return [int(LogisticRegression(C=1.0, tol=tol, max_iter=1000).fit(X, y).n_iter_[0])
            for tol in TOLS]


def trace(X, y, tol):
    states = []
    LogisticRegression(C=1.0, tol=tol, max_iter=1000, callback=lambda st: states.append(
        (st.loss, st.grad_norm, np.array(st.theta))) and False).fit(X, y)
    return states


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    p = dense(m=args.m, n=args.n, dtype=np.float32)
    X32, y = p.X, p.y
    X64 = X32.astype(np.float64)
    print(f"dense {args.m:,} x {args.n}; iterations at tol {', '.join(map(str, TOLS))}")
    print(f"  float32:                              {iterations(X32, y)}")
    print(f"  float64, the same values:             {iterations(X64, y)}")
    loss_grad, know = LogisticObjective.loss_grad, LogisticObjective.know
    try:
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)

            def noisy(self, coef, intercept, rng=rng):
                loss, dw, db = loss_grad(self, coef, intercept)
                return loss, dw + 3e-9 * rng.standard_normal(dw.shape), db

            LogisticObjective.loss_grad = noisy
            print(f"  float64, gradient noise 3e-9 (seed {seed}): {iterations(X64, y)}")
        LogisticObjective.loss_grad = loss_grad
        for seed in range(args.seeds):
            rng = np.random.default_rng(seed)

            def first_off(self, theta, value, grad, rng=rng):
                know(self, theta, value, grad * (1 + 1e-7 * rng.standard_normal(grad.shape)))

            LogisticObjective.know = first_off
            print(f"  float64, first gradient 1e-7 off (seed {seed}): {iterations(X64, y)}")
    finally:
        LogisticObjective.loss_grad, LogisticObjective.know = loss_grad, know
    print("\nfloat32 against float64 (same values), tol 1e-5, per iteration:")
    for i, (a, b) in enumerate(zip(trace(X32, y, 1e-5), trace(X64, y, 1e-5))):
        apart = np.linalg.norm(a[2] - b[2]) / np.linalg.norm(b[2])
        print(f"  {i + 1:2d}: gradient max-norm {a[1]:.3e} / {b[1]:.3e}, theta apart "
              f"{apart:.2e} (relative), loss difference {a[0] - b[0]:+.2e}")


if __name__ == "__main__":
    main()
