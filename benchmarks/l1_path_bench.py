"""The L1 path by cross-validation on sparse text-like data: vlogreg against scikit-learn.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/l1_path_bench.py [--size 1000000x100000] [--density 1e-4] \\
        [--folds 5] [--Cs 20] [--decades 3] [--tol 1e-4] [--max-time 3600] \\
        [--no-sklearn | --no-vlogreg] [--quick]

The data is ``vlogreg.bench.problems.sparse_text`` (the "sparse 1000k x 100k, density
0.0001" problem of docs/benchmarks.md and benchmarks/run.py: Zipf-distributed columns,
tf-style values, a sparse true model), CSR float64. Both libraries get the same
``StratifiedKFold(folds, shuffle=True, random_state=0)`` splits (a list), the same grid
of C and ``scoring="neg_log_loss"``:

- the grid: ``c_min * np.logspace(0, decades, Cs)``, ``c_min`` the smallest C at which
  an L1 fit of the whole data has a non-zero coefficient (``_regpath.l1_min_c``, as the
  L1 path starts, glmnet's lambda_max): below it every model is the intercept alone.
- vlogreg: ``LogisticRegressionCV(Cs, cv=splits, l1_ratios=(1,), tol)``: every
  (fold, C) model in one batched objective, the batched OWL-QN along C.
- scikit-learn: ``LogisticRegressionCV(Cs, cv=splits, l1_ratios=(1,), solver="saga",
  tol, max_iter)``, the only scikit-learn solver for L1 at this size. Run in a child
  process stopped after ``--max-time`` seconds (then reported as "> max-time", with no
  C), so that the script ends in bounded time. Its tol is saga's (the change of the
  coefficients per epoch), vlogreg's the gradient's max-norm: the same number, not the
  same test; the chosen C and the mean scores at both choices say whether that matters.

Each library runs once (minutes each at full size). The Markdown table goes to stdout,
progress and every C's mean score to stderr. Beside the wall time, each run's process
CPU time (saga is single-threaded: its CPU time is its quiet wall time, so that its
side can run with ``--no-vlogreg`` on a busy machine, and vlogreg's quietly with
``--no-sklearn``). ``--quick``: 20000 x 2000, 3 folds, 5 Cs, a smoke test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold

import vlogreg
from vlogreg._regpath import l1_min_c, prepare_grid_data
from vlogreg.bench.problems import sparse_text


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _sklearn_cv(X, y, kw, max_iter, out):
    from sklearn.linear_model import LogisticRegressionCV
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga's ConvergenceWarning: n_iter is reported
        t, c = time.perf_counter(), time.process_time()
        est = LogisticRegressionCV(**kw, solver="saga", max_iter=max_iter).fit(X, y)
        out.put((time.perf_counter() - t, time.process_time() - c, float(est.C_),
                 est.scores_.mean(axis=0)[0], int(np.max(est.n_iter_))))


def run_sklearn(X, y, kw, max_iter, max_time):
    """scikit-learn's CV in a child process (fork: X is shared, not copied) stopped
    after max_time s: ``(wall, cpu, C_, mean scores per C, max n_iter)`` or None."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_sklearn_cv, args=(X, y, kw, max_iter, out))
    proc.start()
    proc.join(max_time)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None
    return out.get() if not out.empty() else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1000000x100000", help="m x n (1000000x100000)")
    ap.add_argument("--density", type=float, default=1e-4)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--Cs", type=int, default=20)
    ap.add_argument("--decades", type=float, default=3.0,
                    help="the grid spans c_min .. c_min 10**decades (3)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--max-iter", type=int, default=1000, help="both libraries' max_iter")
    ap.add_argument("--max-time", type=float, default=3600.0,
                    help="seconds after which scikit-learn's run is stopped (3600)")
    side = ap.add_mutually_exclusive_group()
    side.add_argument("--no-sklearn", action="store_true")
    side.add_argument("--no-vlogreg", action="store_true")
    ap.add_argument("--quick", action="store_true", help="20000 x 2000, 3 folds, 5 Cs")
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.density, args.folds, args.Cs = "20000x2000", 5e-3, 3, 5
    m, n = (int(v) for v in args.size.lower().split("x"))
    t0 = time.perf_counter()
    prob = sparse_text(m, n, args.density)
    X, y = prob.X, prob.y
    log(f"{prob.name}: {X.nnz:,} non-zeros, made in {time.perf_counter() - t0:.1f} s")
    splits = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(X, y))
    c_min = l1_min_c(prepare_grid_data(X, y))
    Cs = c_min * np.logspace(0, args.decades, args.Cs)
    kw = dict(Cs=Cs, cv=splits, l1_ratios=(1.0,), scoring="neg_log_loss", tol=args.tol,
              use_legacy_attributes=False)
    rows = []
    ours = None
    if not args.no_vlogreg:
        t, c = time.perf_counter(), time.process_time()
        est = vlogreg.LogisticRegressionCV(**kw, max_iter=args.max_iter).fit(X, y)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        ours = est.scores_.mean(axis=0)[0]
        log(f"vlogreg: {wall:.1f} s (CPU {cpu:.1f} s), C_={est.C_:.4g}, batched="
            f"{est.batched_}, max n_iter {int(np.max(est.n_iter_))}, non-zero coef "
            f"{np.count_nonzero(est.coef_)}")
        log("vlogreg mean scores per C: " + " ".join(f"{v:.8f}" for v in ours))
        rows.append(("vlogreg LogisticRegressionCV (batched OWL-QN)", wall, cpu,
                     float(est.C_), ours, int(np.max(est.n_iter_))))
    if not args.no_sklearn:
        theirs = run_sklearn(X, y, kw, args.max_iter, args.max_time)
        if theirs is None:
            log(f"scikit-learn: stopped after {args.max_time:.0f} s")
            rows.append(("scikit-learn LogisticRegressionCV (saga)", None, None, None, None,
                         None))
        else:
            wall, cpu, C_sk, sk_means, it_sk = theirs
            log(f"scikit-learn: {wall:.1f} s (CPU {cpu:.1f} s), C_={C_sk:.4g}")
            log("scikit-learn mean scores per C: " + " ".join(f"{v:.8f}" for v in sk_means))
            rows.append(("scikit-learn LogisticRegressionCV (saga)", wall, cpu, C_sk,
                         sk_means, it_sk))
    print(f"{prob.name}, {args.folds} folds x {args.Cs} Cs (c_min = {c_min:.4g} .. "
          f"10^{args.decades:g} c_min), L1, tol={args.tol:g}, max_iter={args.max_iter}")
    print()
    print("| method | wall (s) | CPU (s) | wall / vlogreg's | C chosen (index) | mean score "
          "there | max n_iter |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, wall, cpu, C, means, it in rows:
        if wall is None:
            print(f"| {name} | > {args.max_time:.0f} (stopped) | - | - | - | - | - |")
            continue
        ratio = f"{wall / rows[0][1]:.2f}" if ours is not None else "-"
        i = int(np.argmin(np.abs(Cs - C)))
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {ratio} | {C:.4g} ({i}) | "
              f"{means[i]:.8f} | {it} |")

if __name__ == "__main__":
    main()
