"""Where the time of one ``LogisticRegression.fit`` goes, phase by phase, float32 against
float64 (issue 16: the fixed cost of a fit is the same for both dtypes and pulls their
ratio down).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/fit_phases.py [--m 1000000] [--n 100] [--tol 1e-3] [--repeat 7]
        [--order C|F] [--solver auto]

The problem of ``benchmarks/run.py``'s "dense 1000k x 100 float32/float64" (its
``vlogreg.bench.problems.dense``: make_classification, C = 1, L2) fitted as its
"vlogreg auto" adapter does. The two dtypes' fits alternate in one process, each after a
0.3 s pause (OpenBLAS's threads spin ~0.1 s after a call); each phase is timed
exclusively (a phase called inside another is taken out of the outer one), and the
table gives, per phase, the minimum (least disturbed) and the median over ``--repeat``
fits, with the calls per fit. "other" is the fit's time outside every listed phase
(parameter checks, scipy's L-BFGS-B arithmetic, the solver's own vector work). The
reads of X each fit counted (``passes_``) and its iterations close the table.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import time

import numpy as np
from _timers import Timers

import vlogreg
import vlogreg._estimator as estimator_module
from vlogreg._layout import ParamLayout
from vlogreg.backends import memory
from vlogreg.bench.problems import dense
from vlogreg.objective import logistic

# the module, not the function of the same name that vlogreg.solvers exports
lbfgs_module = importlib.import_module("vlogreg.solvers.lbfgs")

PAUSE = 0.3

#: (owner, attribute, label): the phases of a fit, in the order they run
PHASES = [
    (memory, "check_labels_present", "y: labels present"),
    (memory, "_get_feature_names", "X: feature names"),
    (memory, "check_X_y", "X, y: check_X_y"),
    (memory, "_check_sample_weight", "sample_weight"),
    (memory, "encode_labels", "y: encode labels"),
    (memory, "final_weights", "weights"),
    (memory, "scaled_weights", "weights"),
    (memory, "fit_threads", "threads"),
    (logistic.LogisticObjective, "__init__", "objective: init"),
    (memory, "checked_start", "checks + gradient at 0 (1 read)"),
    (estimator_module, "choose_solver", "choose solver"),
    (lbfgs_module, "start_point", "start point"),
    (lbfgs_module, "stop_tol", "start point"),
    (logistic, "float64_rows", "bound: row subsample"),
    (logistic, "weighted_gram", "bound: Gram matrix"),
    (logistic.LogisticObjective, "hessian_bound", "bound: the rest"),
    (np.linalg, "cholesky", "bound: Cholesky"),
    (logistic.LogisticObjective, "loss_grad", "loss+gradient (1 read each)"),
    (logistic.LogisticObjective, "value_and_grad", "value_and_grad (besides)"),
    (lbfgs_module, "minimize", "scipy L-BFGS-B (besides)"),
    (lbfgs_module, "make_result", "result"),
    (ParamLayout, "to_attributes", "attributes"),
    (logistic.LogisticObjective, "separates", "separation test"),
]


def fit_once(timers, X, y, tol, solver):
    est = vlogreg.LogisticRegression(C=1.0, l1_ratio=0.0, solver=solver, tol=tol,
                                     max_iter=10_000)
    gc.collect()
    time.sleep(PAUSE)
    timers.reset()
    t = time.perf_counter()
    est.fit(X, y)
    total = time.perf_counter() - t
    phases = dict(timers.time)
    phases["other"] = total - sum(phases.values())
    return total, phases, dict(timers.calls), est


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--order", choices=["C", "F"], default="C")
    ap.add_argument("--solver", default="auto")
    args = ap.parse_args()

    data = {}
    for dt in (np.float32, np.float64):
        p = dense(m=args.m, n=args.n, dtype=dt)
        X = p.X if args.order == "C" else np.asfortranarray(p.X)
        data[np.dtype(dt).name] = (X, p.y)
        del p
    timers = Timers()
    for owner, name, label in PHASES:
        timers.wrap(owner, name, label)
    for name, (X, y) in data.items():  # compile the kernels, warm the caches
        fit_once(timers, X, y, args.tol, args.solver)
    runs = {name: [] for name in data}
    for _ in range(args.repeat):
        for name, (X, y) in data.items():
            runs[name].append(fit_once(timers, X, y, args.tol, args.solver))

    labels = []
    for _, _, label in PHASES + [(None, None, "other")]:
        if label not in labels and any(label in r[1] for rs in runs.values() for r in rs):
            labels.append(label)
    names = list(data)
    print(f"dense {args.m:,} x {args.n} ({args.order} order), solver={args.solver!r}, "
          f"tol={args.tol:g}; {args.repeat} fits per dtype, alternating; ms, min / median "
          f"(calls per fit)\n")
    print("| phase | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label in labels + ["fit (total)"]:
        cells = []
        for name in names:
            if label == "fit (total)":
                v = [r[0] for r in runs[name]]
                calls = ""
            else:
                v = [r[1].get(label, 0.0) for r in runs[name]]
                calls = f" ({runs[name][-1][2].get(label, 0)})" if label != "other" else ""
            cells.append(f"{1e3 * min(v):.1f} / {1e3 * float(np.median(v)):.1f}{calls}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    t = {name: [r[0] for r in runs[name]] for name in names}
    if len(names) == 2:
        a, b = names
        print(f"\n{b} / {a} fit time: min {min(t[b]) / min(t[a]):.2f}x, median "
              f"{np.median(t[b]) / np.median(t[a]):.2f}x")
    for name in names:
        est = runs[name][-1][3]
        print(f"{name}: {int(est.n_iter_[0])} iterations ({est.solver_}), reads counted "
              f"{est.n_passes_:.3f} {est.passes_}")


if __name__ == "__main__":
    main()
