"""Two versions side by side on issue 21's easy problem: time to solution in seconds and
in reads of X, and the reads the fit counted.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/easy_before_after.py \\
        --before /path/to/old/src [--after src] [--tol 1e-6] [--repeat 5] [--m 1000000]

Dense m x 100 float64, standard normal features, coefficients N(0, 1/n), labels drawn
from the model (``vlogreg.bench.problems.easy``), ``LogisticRegression(tol=tol)``. Each
measurement in a fresh subprocess with only that version's src on its path, the
versions alternating; in it: load X (untimed), one warm-up fit on 300k rows (numba
compiles or loads its cache), a 0.3 s pause, one read ``X @ v`` timed, a pause, the fit
timed. Medians over the subprocesses; the gap is judged against a tight newton fit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r'''
import json, sys, time, numpy as np
sys.path.insert(0, sys.argv[1])
import vlogreg
assert vlogreg.__file__.startswith(sys.argv[1]), vlogreg.__file__
from vlogreg import LogisticRegression
X = np.load(sys.argv[3]); y = np.load(sys.argv[4])
tol = float(sys.argv[2])
LogisticRegression(tol=tol).fit(X[:300000], y[:300000])
v = np.ones(X.shape[1])
time.sleep(0.3); t = time.perf_counter(); X @ v; read = time.perf_counter() - t
time.sleep(0.3); t = time.perf_counter(); c = LogisticRegression(tol=tol).fit(X, y)
sec = time.perf_counter() - t
print(json.dumps({"sec": sec, "read": read, "n_iter": int(c.n_iter_[0]), "solver": c.solver_,
                  "passes": getattr(c, "n_passes_", None), "coef": c.coef_.ravel().tolist(),
                  "b": float(c.intercept_[0])}))
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="src directory of the old code")
    ap.add_argument("--after", default=os.path.join(os.path.dirname(HERE), "src"))
    ap.add_argument("--tol", default="1e-6")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--m", type=int, default=1_000_000)
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.after))
    import numpy as np

    from vlogreg import LogisticRegression
    from vlogreg.bench.problems import easy
    from vlogreg.objective.logistic import LogisticObjective

    p = easy(m=args.m)
    work = tempfile.mkdtemp(prefix="vlogreg-easy-")
    xf, yf = os.path.join(work, "X.npy"), os.path.join(work, "y.npy")
    np.save(xf, p.X)
    np.save(yf, p.y)
    versions = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    res = {k: [] for k in versions}
    for r in range(args.repeat):
        for k, src in versions.items():
            out = subprocess.run([sys.executable, "-c", CHILD, src, args.tol, xf, yf],
                                 capture_output=True, text=True, env=env)
            if out.returncode:
                sys.exit(out.stderr)
            res[k].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"  {k} {r + 1}/{args.repeat}: {res[k][-1]['sec']:.3f} s", file=sys.stderr)
    obj = LogisticObjective(p.X, p.y, alpha=1.0 / args.m)
    ref = LogisticRegression(tol=1e-10, solver="newton").fit(p.X, p.y)
    f_star = obj.loss(ref.coef_.ravel(), ref.intercept_[0])
    print("| version | iterations | median time | one read | time in reads of X | "
          "reads counted | gap |\n|---|---|---|---|---|---|---|")
    for k, rs in res.items():
        sec = statistics.median(r["sec"] for r in rs)
        read = statistics.median(r["read"] for r in rs)
        gap = (obj.loss(np.array(rs[-1]["coef"]), rs[-1]["b"]) - f_star) / f_star
        counted = "-" if rs[-1]["passes"] is None else f"{rs[-1]['passes']:.1f}"
        print(f"| {k} | {rs[-1]['n_iter']} | {sec:.3f} s | {read * 1e3:.1f} ms | "
              f"{sec / read:.1f} | {counted} | {gap:.1e} |")


if __name__ == "__main__":
    main()
