"""Multinomial logistic regression on a text-like CSR X (20-newsgroups-like: tf values,
Zipf columns, tens of classes): the fused numba CSR kernel against the NumPy row blocks
it replaced, and vlogreg's fit against scikit-learn's.

    python benchmarks/sparse_multinomial_bench.py > benchmarks/results/sparse_multinomial.md
    python benchmarks/sparse_multinomial_bench.py --m 20000 --n 10000 --repeat 2  # quick

Prints a Markdown section (rendered into docs/benchmarks.md by ``run.py --render``):

1. One loss+gradient (``LogisticObjective.value_and_grad``), the CSR kernel ("after")
   and the NumPy row blocks ("before", ``kernel="numpy"``), alternating in one process,
   a 0.3 s pause before each timing; min and median.
2. Fits at C=1 (scikit-learn's objective, ``vlogreg.bench.problems``): vlogreg with the
   kernel, vlogreg with the NumPy path (``VLOGREG_KERNEL=numpy``, read at each fit),
   scikit-learn lbfgs (and saga with ``--saga``), alternating; median time and the
   relative objective gap ``(F - F*) / F*``, F* the lowest value any fit reached,
   a tight vlogreg lbfgs fit (tol 1e-9) included.

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from vlogreg.bench.adapters import sklearn_fit, vlogreg_fit  # noqa: E402
from vlogreg.bench.problems import objective_value, sparse_text  # noqa: E402
from vlogreg.bench.runner import PAUSE, one_read  # noqa: E402
from vlogreg.objective.logistic import LogisticObjective  # noqa: E402

from run import machine  # noqa: E402


def _ms(t):
    return f"{1e3 * t:.1f} ms" if t < 1 else f"{t:.2f} s"


def _numpy_path(on):
    """vlogreg's NumPy path for the fits that follow (on) or its kernels (off)."""
    if on:
        os.environ["VLOGREG_KERNEL"] = "numpy"
    else:
        os.environ.pop("VLOGREG_KERNEL", None)


def loss_grad_ab(problem, repeat):
    """Seconds of one loss+gradient per path, alternating: {path: [seconds, ...]}."""
    X, y, K = problem.X, problem.y, problem.n_classes
    objs = {"CSR kernel": LogisticObjective(X, y, n_classes=K, kernel="numba"),
            "NumPy blocks": LogisticObjective(X, y, n_classes=K, kernel="numpy")}
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(objs["CSR kernel"].n_params) * 0.1
    values = {k: o.value_and_grad(theta) for k, o in objs.items()}  # compile, warm
    f0, g0 = values["NumPy blocks"]
    f1, g1 = values["CSR kernel"]
    diff = max(abs(f1 - f0) / abs(f0), np.abs(g1 - g0).max() / np.abs(g0).max())
    times = {k: [] for k in objs}
    reads = []
    for _ in range(repeat):
        for k, o in objs.items():
            time.sleep(PAUSE)
            t0 = time.perf_counter()
            o.value_and_grad(theta)
            times[k].append(time.perf_counter() - t0)
        reads.append(one_read(X))
    return times, float(np.median(reads)), diff


def fits(problem, tol, repeat, saga):
    """{label: (seconds list, iterations, value)} of the fits, alternating."""
    runs = {"vlogreg lbfgs (CSR kernel)": (vlogreg_fit("lbfgs"), False),
            "vlogreg lbfgs (NumPy blocks)": (vlogreg_fit("lbfgs"), True),
            "sklearn lbfgs": (sklearn_fit("lbfgs"), False)}
    if saga:
        runs["sklearn saga"] = (sklearn_fit("saga"), False)
    out = {k: ([], 0, np.inf) for k in runs}
    for _ in range(repeat):
        for label, (fit, numpy_path) in runs.items():
            _numpy_path(numpy_path)
            time.sleep(PAUSE)
            try:
                res = fit(problem, tol)
            finally:
                _numpy_path(False)
            if res is None:
                continue
            value = objective_value(problem, res.coef, res.intercept)
            secs, _, best = out[label]
            out[label] = (secs + [res.seconds], res.n_iter, min(best, value))
    ref = vlogreg_fit("lbfgs")(problem, 1e-9)
    f_star = min([objective_value(problem, ref.coef, ref.intercept)]
                 + [v for _, _, v in out.values()])
    return out, f_star


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--density", type=float, default=1e-3)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--tol", type=float, default=1e-4, help="every fit's tol")
    ap.add_argument("--repeat", type=int, default=7, help="rounds of the loss+gradient A/B")
    ap.add_argument("--fit-repeat", type=int, default=3)
    ap.add_argument("--saga", action="store_true", help="also time scikit-learn's saga")
    ap.add_argument("--no-fits", action="store_true")
    args = ap.parse_args()
    problem = sparse_text(args.m, args.n, args.density, n_classes=args.classes)
    X = problem.X
    cmd = "python benchmarks/sparse_multinomial_bench.py " + " ".join(sys.argv[1:])
    print(f"## Multinomial on a sparse X: {problem.name}\n")
    print(f"{problem.describe}, {X.nnz:,} non-zeros ({X.nnz / X.shape[0]:.0f} a row), "
          f"Zipf columns (`bench.problems.sparse_text`). Command: `{cmd.strip()}` "
          f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}). Machine: "
          f"{machine()}.\n")
    times, read, diff = loss_grad_ab(problem, args.repeat)
    print(f"One loss+gradient, {args.repeat} alternating rounds (largest relative "
          f"difference between the two: {diff:.1e}; one read of X, `X @ v`: "
          f"{_ms(read)}):\n")
    print("| path | min | median | median in reads of X |")
    print("|---|---|---|---|")
    for k, v in times.items():
        print(f"| {k} | {_ms(min(v))} | {_ms(np.median(v))} | "
              f"{np.median(v) / read:.1f} |")
    before, after = (np.median(times["NumPy blocks"]), np.median(times["CSR kernel"]))
    print(f"\nThe kernel: {before / after:.2f}x the NumPy blocks by the medians, "
          f"{min(times['NumPy blocks']) / min(times['CSR kernel']):.2f}x by the minima.\n")
    if args.no_fits:
        return
    out, f_star = fits(problem, args.tol, args.fit_repeat, args.saga)
    print(f"Fits at tol {args.tol:g}, C=1, {args.fit_repeat} alternating rounds; gap "
          f"`(F - F*) / F*` with F* = {f_star:.10g}:\n")
    print("| fit | median time | min-max | iterations | gap |")
    print("|---|---|---|---|---|")
    for label, (secs, n_iter, value) in out.items():
        if not secs:
            print(f"| {label} | (not run) | | | |")
            continue
        print(f"| {label} | {_ms(np.median(secs))} | {_ms(min(secs))}-{_ms(max(secs))} | "
              f"{n_iter} | {(value - f_star) / f_star:.1e} |")


if __name__ == "__main__":
    main()
