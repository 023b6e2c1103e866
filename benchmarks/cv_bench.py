"""Cross-validation side by side: vlogreg's LogisticRegressionCV, scikit-learn's, glum's.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/cv_bench.py [--sizes 300000x50,1000000x100] [--folds 5] \\
        [--Cs 10] [--repeat 3] [--no-sklearn] [--no-glum] [--quick]

Each size: ``make_classification(m, n, n_informative=n // 2, random_state=0)``, float64,
C-contiguous; the same ``StratifiedKFold(folds, shuffle=True, random_state=0)`` splits
(a list, so every library sees the same rows), ``Cs = np.logspace(-4, 4, n_Cs)``, L2,
``scoring="neg_log_loss"``, tol=1e-4 (``--tol``), refit on the chosen C. Where the
mean scores of several Cs agree to ~1e-8 (large, easy data), the chosen C depends on
where each solver stops within tol: the progress log prints vlogreg's mean scores at
both libraries' choices.

- vlogreg: ``LogisticRegressionCV(Cs, cv=splits, l1_ratios=(0,), ...)``; and one
  ``LogisticRegression().fit`` of the whole data (the "cost of one fit" the CV is
  measured against). Each timed after one untimed warm-up (numba compiles there).
- scikit-learn: its ``LogisticRegressionCV`` with the same parameters (solver lbfgs).
- glum: ``GeneralizedLinearRegressorCV(family="binomial", l1_ratio=0)`` on the alphas
  of the same Cs (``alpha = 1 / (C m_train)``, glum's objective being the mean
  log-loss plus ``alpha ||w||^2 / 2``), ``cv=splits``; it selects by its own deviance,
  which is the log-loss: its chosen C is reported as ``1 / (alpha_ m_train)``.
  Skipped with a message when glum is not installed.
- the batched objective: one loss+gradient of K = folds x Cs models
  (``BatchedObjective``, one read of X) against one single-model loss+gradient
  (``LogisticObjective``) on the same X; medians of ``--repeat`` (at least 5) calls.

Times are medians of ``--repeat`` runs (scikit-learn and glum: one run, they are slow).
``--quick`` is a smoke test on small X whose times say nothing. The Markdown table goes
to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

import vlogreg
from vlogreg.objective.batched import BatchedObjective
from vlogreg.objective.logistic import LogisticObjective


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def bench_size(m, n, n_folds, n_cs, repeat, run_sklearn, run_glum, tol=1e-4):
    X, y = make_classification(m, n, n_informative=n // 2, random_state=0)
    splits = list(StratifiedKFold(n_folds, shuffle=True, random_state=0).split(X, y))
    Cs = np.logspace(-4, 4, n_cs)
    kw = dict(Cs=Cs, cv=splits, l1_ratios=(0,), scoring="neg_log_loss", tol=tol,
              use_legacy_attributes=False)
    rows = {}
    fit = lambda: vlogreg.LogisticRegression(tol=tol).fit(X, y)  # noqa: E731
    fit()
    rows["vlogreg one fit"] = (timed(fit, repeat)[0], None)
    log(f"{m}x{n}: one fit {rows['vlogreg one fit'][0]:.3f} s")
    cv = lambda: vlogreg.LogisticRegressionCV(**kw).fit(X, y)  # noqa: E731
    cv()
    t, est = timed(cv, repeat)
    rows["vlogreg LogisticRegressionCV"] = (t, est.C_)
    means = est.scores_[:, 0].mean(axis=0)  # to see how flat the scores are near the top
    log(f"{m}x{n}: vlogreg CV {t:.3f} s, C_={est.C_:.4g}")
    if run_sklearn:
        from sklearn.linear_model import LogisticRegressionCV
        t, est = timed(lambda: LogisticRegressionCV(**kw).fit(X, y), 1)
        rows["scikit-learn LogisticRegressionCV"] = (t, est.C_)
        log(f"{m}x{n}: vlogreg's mean scores at the two chosen Cs: "
            f"{means[np.argmin(np.abs(Cs - est.C_))]:.10f} (scikit-learn's C), "
            f"{means.max():.10f} (vlogreg's C)")
        log(f"{m}x{n}: scikit-learn CV {t:.3f} s, C_={est.C_:.4g}")
    if run_glum:
        try:
            from glum import GeneralizedLinearRegressorCV
        except ImportError:
            log("glum is not installed: its column is skipped (pip install glum)")
        else:
            m_train = m * (n_folds - 1) / n_folds
            alphas = np.sort(1.0 / (Cs * m_train))[::-1]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, est = timed(lambda: GeneralizedLinearRegressorCV(
                    family="binomial", l1_ratio=0, alphas=alphas, cv=splits,
                    gradient_tol=tol).fit(X, y), 1)
            rows["glum GeneralizedLinearRegressorCV"] = (t, 1.0 / (est.alpha_ * m_train))
            log(f"{m}x{n}: glum CV {t:.3f} s")
    # the batched objective: K = folds x Cs models against one model, same X
    K = n_folds * n_cs
    fold = np.zeros(m, np.int32)
    for i, (_, te) in enumerate(splits):
        fold[te] = i
    batch = BatchedObjective(X, y, fold=fold, exclude=np.repeat(np.arange(n_folds), n_cs),
                             alpha=1e-4)
    single = LogisticObjective(X, y, alpha=1e-4)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(n, K)) * 0.01, np.zeros(K)
    batch.loss_grad(W, b)
    single.loss_grad(W[:, 0], 0.0)
    r = max(repeat, 5)
    t_batch = timed(lambda: batch.loss_grad(W, b), r)[0]
    t_single = timed(lambda: single.loss_grad(W[:, 0], 0.0), r)[0]
    return rows, (K, t_batch, t_single)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="300000x50,1000000x100")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--Cs", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-4, help="every fit's tol (1e-4)")
    ap.add_argument("--no-sklearn", action="store_true")
    ap.add_argument("--no-glum", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small X, 1 repeat (smoke test)")
    args = ap.parse_args(argv)
    sizes = "3000x10" if args.quick else args.sizes
    repeat = 1 if args.quick else args.repeat
    print("| data | method | time (s) | scikit-learn's time / this | this / one vlogreg fit "
          "| C chosen |")
    print("|---|---|---:|---:|---:|---:|")
    objective_rows = []
    for size in sizes.split(","):
        m, n = (int(v) for v in size.lower().split("x"))
        rows, obj = bench_size(m, n, args.folds, args.Cs, repeat, not args.no_sklearn,
                               not args.no_glum, args.tol)
        base = rows["vlogreg one fit"][0]
        sk = rows.get("scikit-learn LogisticRegressionCV", (None,))[0]
        for name, (t, C) in rows.items():
            ratio_sk = f"{sk / t:.1f}" if sk else ""  # scikit-learn's time / this time
            print(f"| {m:,} x {n} | {name} | {t:.3f} | {ratio_sk} | {t / base:.2f} | "
                  f"{'' if C is None else f'{C:.4g}'} |")
        objective_rows.append((m, n, *obj))
    print()
    print("| data | K models | batched loss+grad (s) | one model's loss+grad (s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for m, n, K, tb, ts in objective_rows:
        print(f"| {m:,} x {n} | {K} | {tb:.4f} | {ts:.4f} | {tb / ts:.2f} |")


if __name__ == "__main__":
    main()
