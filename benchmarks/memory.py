"""Peak extra resident memory of a fit, as a fraction of the bytes of X.

    python benchmarks/memory.py [--m 1000000] [--n 100] [--dtype float64] [--solver auto]

Each measurement runs in a fresh subprocess: X is written to a .npy file first and
loaded there (so no generator temporaries inflate the baseline), the kernel's peak
RSS counter is reset (/proc/self/clear_refs), the model is fitted, and
``VmHWM - VmRSS(before fit)`` is reported against ``X.nbytes``. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CHILD = r"""
import json, sys, numpy as np, warnings
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
X = np.load(sys.argv[1]); y = np.load(sys.argv[2])
solver, lib = sys.argv[3], sys.argv[4]
if lib == "vlogreg":
    from vlogreg import LogisticRegression
    est = LogisticRegression(solver=solver, tol=1e-6, max_iter=1000)
else:
    from sklearn.linear_model import LogisticRegression
    est = LogisticRegression(solver=solver, tol=1e-6, max_iter=1000)
est.fit(X[:20000], y[:20000])        # imports, compilation (the kernel takes X > 1 MB)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")                      # reset VmHWM to the current RSS
before = status("VmRSS")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est.fit(X, y)
print(json.dumps({"before": before, "peak": status("VmHWM"), "x_bytes": X.nbytes}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--dtype", default="float64")
    args = ap.parse_args()
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=args.m, n_features=args.n,
                               n_informative=args.n // 2, random_state=0)
    X = np.ascontiguousarray(X, dtype=args.dtype)
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = os.path.join(tmp, "X.npy"), os.path.join(tmp, "y.npy")
        np.save(xp, X)
        np.save(yp, y)
        del X
        print("| library | solver | X (MB) | peak extra (MB) | extra / X |")
        print("|---|---|---|---|---|")
        for lib, solver in [("vlogreg", "auto"), ("vlogreg", "lbfgs"), ("vlogreg", "newton"),
                            ("sklearn", "lbfgs"), ("sklearn", "newton-cholesky")]:
            out = subprocess.run([sys.executable, "-c", CHILD, xp, yp, solver, lib],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            extra = r["peak"] - r["before"]
            print(f"| {lib} | {solver} | {r['x_bytes'] / 1e6:.0f} | {extra / 1e6:.1f} | "
                  f"{extra / r['x_bytes']:.3f} |")


if __name__ == "__main__":
    main()
