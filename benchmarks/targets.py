"""Issue 16's targets, every ratio from one run of this script, as one Markdown table.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/targets.py \\
        [--repeat 7] [--fit-repeat 9] [--no-dask] > benchmarks/results/targets.md

Each part runs in a fresh interpreter, one after the other (never side by side):

1. ``benchmarks/kernel.py --m 2000000 --classes 10 --multinomial-m 1000000``: one
   loss+gradient against one read of X (``X @ v``), medians of ``--repeat`` alternating
   rounds, each timing after a 0.3 s pause; the binary kernel on 2M x 100 (float64 and
   float32, C and F order) and the multinomial one on 1M x 100, 10 classes.
2. The float32 fit against the float64 fit on ``vlogreg.bench.problems.dense`` (1M x
   100, L2, C = 1; "vlogreg auto", as ``benchmarks/run.py``): for each dtype the loosest
   tol of 1e-2, 1e-3, ... whose fit reaches a relative gap of 1e-5 (``run_problem``'s
   sweep, against its tight reference fits), then ``--fit-repeat`` fits per dtype at
   that tol, the dtypes alternating, each after a 0.3 s pause; the ratio of the medians.
3. ``benchmarks/dask_bench.py --data normal``: vlogreg's lbfgs against dask-ml's lbfgs
   to a gap of 1e-6 on a 2-worker LocalCluster, 2M x 50 standard normal.

Nothing here asserts a time; the table says for each target whether this run met it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PAUSE = 0.3
GAP = 1e-5


def _run(args):
    """stdout of ``python <args>`` in a fresh interpreter, run from the repository's
    root (so that the scripts print their commands as a user types them; stderr
    passes)."""
    out = subprocess.run([sys.executable, *args], cwd=os.path.dirname(HERE), check=True,
                         stdout=subprocess.PIPE, text=True)
    return out.stdout


def kernel_ratios(repeat):
    """``{(loss, dtype, order): ratio of the numba kernel to X @ v}`` and kernel.py's
    output."""
    text = _run([os.path.join("benchmarks", "kernel.py"), "--m", "2000000", "--repeat", str(repeat),
                 "--classes", "10", "--multinomial-m", "1000000"])
    ratios = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0] in ("binary", "multinomial"):
            found = re.search(r"\(([\d.]+)x\)", cells[4])
            if found:
                ratios[(cells[0], cells[1], cells[2])] = float(found.group(1))
    return ratios, text


def fit_ratio(fit_repeat, log):
    """float64 fit time / float32 fit time to a gap of ``GAP`` (ratio of medians), and
    per dtype ``(tol, median seconds, gap, iterations)``."""
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
    from vlogreg.bench.adapters import ADAPTERS
    from vlogreg.bench.problems import dense, objective_value
    from vlogreg.bench.runner import reference_value, run_problem

    fit = ADAPTERS["vlogreg auto"]
    chosen = {}
    for dtype in (np.float32, np.float64):
        problem = dense(dtype=dtype)
        out = run_problem(problem, labels=["vlogreg auto"], targets=(GAP,), repeat=1,
                          log=lambda s: None)
        got = out["results"][GAP].get("vlogreg auto")
        if got is None:
            raise RuntimeError(f"vlogreg auto did not reach a gap of {GAP:g} on "
                               f"{problem.name}")
        chosen[dtype] = (problem, got["tol"], reference_value(problem))
        log(f"{problem.name}: tol {got['tol']:g} reaches gap {got['gap']:.2e}")
    seconds = {dtype: [] for dtype in chosen}
    last = {}
    for _ in range(fit_repeat):
        for dtype, (problem, tol, _) in chosen.items():
            time.sleep(PAUSE)
            result = fit(problem, tol)
            seconds[dtype].append(result.seconds)
            last[dtype] = result
    rows = {}
    for dtype, (problem, tol, f_star) in chosen.items():
        r = last[dtype]
        gap = (objective_value(problem, r.coef, r.intercept) - f_star) / abs(f_star)
        rows[np.dtype(dtype).name] = (tol, float(np.median(seconds[dtype])),
                                      float(np.min(seconds[dtype])), gap, r.n_iter)
    ratio = rows["float64"][1] / rows["float32"][1]
    return ratio, rows


def dask_ratio():
    """dask-ml lbfgs / vlogreg lbfgs time to a gap of 1e-6 (medians), and the output."""
    text = _run([os.path.join("benchmarks", "dask_bench.py"), "--data", "normal", "--repeats", "5"])
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0] == "dask-ml" and cells[1] == "lbfgs":
            found = re.search(r"([\d.]+)x", cells[5])
            if found:
                return float(found.group(1)), text
    raise RuntimeError("dask_bench.py printed no dask-ml lbfgs row:\n" + text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="kernel.py's rounds")
    ap.add_argument("--fit-repeat", type=int, default=9, help="fits per dtype")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask part")
    args = ap.parse_args()
    def log(s):
        print(s, file=sys.stderr, flush=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    ratios, kernel_text = kernel_ratios(args.repeat)
    f32, fits = fit_ratio(args.fit_repeat, log)
    dask = None if args.no_dask else dask_ratio()

    def k(loss, dtype, order):
        return ratios.get((loss, dtype, order), float("nan"))

    def met(ok):
        return "yes" if ok else "no"

    rows = []
    for dtype, limit in (("float64", 1.25), ("float32", 1.25)):
        r = k("binary", dtype, "C")
        rows.append((f"binary, 2M x 100, C order, {dtype}: <= {limit}x one read", f"{r:.2f}x",
                     met(r <= limit)))
    for dtype in ("float64", "float32"):
        r = k("binary", dtype, "F")
        rows.append((f"binary, 2M x 100, F order, {dtype}: <= 1.3x", f"{r:.2f}x",
                     met(r <= 1.3)))
    for dtype in ("float64", "float32"):
        rc, rf = k("multinomial", dtype, "C"), k("multinomial", dtype, "F")
        rows.append((f"multinomial, 10 classes, 1M x 100, {dtype}: <= 1.6x",
                     f"C {rc:.2f}x, F {rf:.2f}x", met(max(rc, rf) <= 1.6)))
    detail = "; ".join(f"{d} tol {t:g}, {med:.3f} s (min {mn:.3f}), gap {g:.1e}, {it} "
                       f"iterations" for d, (t, med, mn, g, it) in fits.items())
    rows.append(("float32 fit >= 1.5x faster than float64 to a gap of 1e-5, 1M x 100",
                 f"{f32:.2f}x ({detail})", met(f32 >= 1.5)))
    if dask is not None:
        rows.append(("Dask LocalCluster, 2M x 50: >= 3x dask-ml lbfgs to 1e-6",
                     f"{dask[0]:.1f}x", met(dask[0] >= 3)))

    print(f"## Issue 16's targets, one run ({started})\n")
    print("Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
          f"benchmarks/targets.py --repeat {args.repeat} --fit-repeat {args.fit_repeat}"
          f"{' --no-dask' if args.no_dask else ''}`\n")
    print("| target | measured | met |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\n### kernel.py's table in this run\n")
    print(kernel_text.strip())
    if dask is not None:
        print("\n### dask_bench.py's table in this run\n")
        print(dask[1].strip())


if __name__ == "__main__":
    main()
