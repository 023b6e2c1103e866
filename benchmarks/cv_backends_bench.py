"""Cross-validation where X lives: the batched objective on Dask against one model's.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/cv_backends_bench.py \\
        [--rows 300000] [--features 50] [--chunk-rows 50000] [--models 50] [--repeat 7]
        [--cluster WORKERS]

Two tables, each on the same X in memory and as a persisted dask array (the threaded
scheduler of this process, or a ``distributed.LocalCluster`` with ``--cluster N``):

1. one evaluation: the batched loss+gradient of ``--models`` models (5 folds, the rest
   of the models spread over C) against one single-model loss+gradient of the same
   backend. The two alternate in one process; each timing is preceded by a 0.3 s pause
   (BLAS threads spin after a call); min and median of ``--repeat``;
2. ``LogisticRegressionCV`` (5 stratified folds x 10 Cs, L2, neg_log_loss, tol=1e-4):
   wall time of one fit, the chosen C, and its reads of X (``passes_``).
"""

from __future__ import annotations

import argparse
import contextlib
import time
import warnings

import numpy as np


def _time(fn, repeat):
    out = []
    for _ in range(repeat):
        time.sleep(0.3)
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def evaluation_table(X, Xd, y, yd, models, repeat):
    """One batched evaluation against one single-model evaluation, per backend."""
    from vlogreg._spec import FitSpec
    from vlogreg.backends import batched, dask, memory
    from vlogreg.objective.batched import BatchedObjective

    m, n = X.shape
    rng = np.random.default_rng(0)
    fold = rng.integers(0, 5, m).astype(np.int32)
    exclude = np.arange(models) % 5
    alpha = np.full(models, 1e-4)
    W, b = rng.normal(size=(n, models)) * 0.1, np.zeros(models)
    theta = np.append(W[:, 0], 0.0)
    spec = FitSpec(penalty="l2", C=1.0)
    grid = batched.prepare_grid(dask, Xd, yd, None, spec)
    cases = {
        "numpy": (BatchedObjective(X, y, fold=fold, exclude=exclude, alpha=alpha),
                  memory.prepare(X, y, None, spec).objective),
        "dask": (grid.objective(fold, exclude, alpha, True),
                 dask.prepare(Xd, yd, None, spec).objective),
    }
    print(f"| backend | K | batched loss+grad min / median (s) | one model's min / "
          f"median (s) | ratio of minima |\n|---|---:|---:|---:|---:|")
    for name, (many, one) in cases.items():
        tb, t1 = [], []
        for _ in range(repeat):  # alternating, in the same process
            tb += _time(lambda: many.loss_grad(W, b), 1)
            t1 += _time(lambda: one.value_and_grad(theta), 1)
        print(f"| {name} | {models} | {min(tb):.4f} / {np.median(tb):.4f} | "
              f"{min(t1):.4f} / {np.median(t1):.4f} | {min(tb) / min(t1):.2f} |")


def cv_table(X, Xd, y, yd):
    from sklearn.model_selection import StratifiedKFold

    import vlogreg

    params = dict(Cs=10, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                  l1_ratios=(0,), scoring="neg_log_loss", use_legacy_attributes=False,
                  tol=1e-4)
    print("\n| input | LogisticRegressionCV (s) | C chosen | reads of X (passes_) |\n"
          "|---|---:|---:|---|")
    for name, (Xi, yi) in {"numpy": (X, y), "dask": (Xd, yd)}.items():
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = vlogreg.LogisticRegressionCV(**params).fit(Xi, yi)
        t = time.perf_counter() - t
        reads = ", ".join(f"{k} {v:g}" for k, v in est.passes_.items())
        print(f"| {name} | {t:.3f} | {est.C_:.4g} | {reads} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--chunk-rows", type=int, default=50_000)
    ap.add_argument("--models", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--cluster", type=int, default=0,
                    help="workers of a distributed.LocalCluster (0: threaded scheduler)")
    args = ap.parse_args(argv)

    import dask
    import dask.array as da
    from sklearn.datasets import make_classification

    X, y = make_classification(args.rows, args.features, n_informative=args.features // 2,
                               random_state=0)
    Xd, yd = dask.persist(da.from_array(X, chunks=(args.chunk_rows, args.features)),
                          da.from_array(y, chunks=args.chunk_rows))
    print(f"{args.rows:,} x {args.features}, chunks of {args.chunk_rows:,} rows, "
          f"{'LocalCluster(%d)' % args.cluster if args.cluster else 'threaded scheduler'}\n")
    ctx = contextlib.nullcontext()
    if args.cluster:
        import distributed

        cluster = distributed.LocalCluster(n_workers=args.cluster, threads_per_worker=1,
                                           dashboard_address=":0")
        ctx = distributed.Client(cluster)
    with ctx:
        if args.cluster:
            Xd, yd = dask.persist(Xd, yd)
        evaluation_table(X, Xd, y, yd, args.models, args.repeat)
        cv_table(X, Xd, y, yd)


if __name__ == "__main__":
    main()
