"""Where the time of vlogreg's LogisticRegressionCV goes, phase by phase.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/cv_phases.py [--sizes 300000x50,1000000x100] [--repeat 3]

The problem of ``cv_bench.py`` (make_classification(m, n, n_informative=n // 2,
random_state=0), 5 stratified folds x 10 Cs, L2, neg_log_loss, tol=1e-4). Each phase
is timed exclusively (a phase called inside another is taken out of the outer one):

- kernel passes: ``BatchedObjective.loss_grad`` (one read of X each; the refit's too);
- Hessians: ``BatchedObjective.hessian_bounds`` (Gram matrices of the row subsample);
- scoring: ``LogisticRegressionCV._fold_scores``;
- refit and attributes: ``LogisticRegressionCV._set_attributes`` less its passes;
- other: the rest (validation of X, the solver's own arithmetic, the folds).

Timings of the least disturbed run (the fastest CV of ``--repeat``, each after a 0.3 s
pause), with one ``LogisticRegression().fit`` of the whole data timed alternately for
the ratio; the per-stage iteration counts (summed over the folds) say how many passes
each C took.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timers import Timers
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

import vlogreg
import vlogreg._cv as cv_module
import vlogreg.objective.batched as batched_module

PHASES = [(batched_module.BatchedObjective, "loss_grad", "kernel passes"),
          (batched_module.BatchedObjective, "hessian_bounds", "Hessians"),
          (cv_module.LogisticRegressionCV, "_fold_scores", "scoring"),
          (cv_module.LogisticRegressionCV, "_set_attributes", "refit and attributes")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="300000x50,1000000x100")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    timers = Timers()
    for owner, name, label in PHASES:
        timers.wrap(owner, name, label)
    print("| data | CV (s) | one fit (s) | CV / one fit | " +
          " | ".join(label for *_, label in PHASES) + " | other | C chosen |")
    print("|---|---:|---:|---:|" + "---:|" * (len(PHASES) + 2))
    for size in args.sizes.split(","):
        m, n = (int(v) for v in size.lower().split("x"))
        measure(m, n, args.repeat, timers)


def measure(m, n, repeat, timers):
    """One row of the table: the least disturbed CV of ``repeat``, phase by phase."""
    X, y = make_classification(m, n, n_informative=n // 2, random_state=0)
    splits = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    kw = {"Cs": np.logspace(-4, 4, 10), "cv": splits, "l1_ratios": (0,), "tol": 1e-4,
          "scoring": "neg_log_loss", "use_legacy_attributes": False}

    def cv():
        return vlogreg.LogisticRegressionCV(**kw).fit(X, y)

    def fit():
        return vlogreg.LogisticRegression(tol=1e-4).fit(X, y)

    cv(), fit()  # warm-up: numba compiles there
    runs, fits = [], []
    for _ in range(repeat):
        timers.reset()
        time.sleep(0.3)
        t = time.perf_counter()
        est = cv()
        runs.append((time.perf_counter() - t, dict(timers.time), dict(timers.calls)))
        time.sleep(0.3)
        t = time.perf_counter()
        fit()
        fits.append(time.perf_counter() - t)
    total, phases, calls = min(runs, key=lambda r: r[0])
    cells = [f"{phases.get(label, 0.0):.3f} ({calls.get(label, 0)})" for *_, label in PHASES]
    print(f"| {m:,} x {n} | {total:.3f} | {min(fits):.3f} | {total / min(fits):.2f} | "
          + " | ".join(cells) + f" | {total - sum(phases.values()):.3f} | {est.C_:.4g} |")
    print(f"<!-- {m}x{n}: iterations per C (summed over folds): "
          f"{est.n_iter_[:, 0].sum(axis=0).tolist()} -->")

if __name__ == "__main__":
    main()
