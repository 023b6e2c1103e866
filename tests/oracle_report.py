"""Print how far vlogreg's coefficients are from the independent oracles.

    python tests/oracle_report.py

One row per data set x penalty x C x solver: the largest |ours - theirs| over coef_ and
intercept_, relative to the largest |coefficient or intercept| of the oracle's fit (the
quantity ``test_oracles.py`` bounds by 1e-5), against scikit-learn and, for the
unpenalized binary cases, against statsmodels. The cases, data sets and settings are
those of ``test_oracles.py`` (imported from it), so the report and the tests cannot
drift apart. Not a test module: pytest does not collect it (no ``test_`` prefix).
"""

from __future__ import annotations

import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import test_oracles as T  # noqa: E402


def main():
    rows = []
    head = (f"{'data set':<20s} {'penalty':<11s} {'C':>6s} {'solver':<7s} "
            f"{'vs sklearn':>11s} {'vs statsmodels':>15s} {'n_iter':>7s} {'fit s':>7s}  "
            f"note")
    print(f"vlogreg vs oracles: max |ours - theirs| / max |theirs| over coef_ and "
          f"intercept_ (tests require <= {T.RTOL:g})")
    print(f"ours: tol={T.OUR_TOL:g}; scikit-learn: tol={T.ORACLE_TOL:g} "
          f"(newton-cg for l2/none, saga for l1/elasticnet); statsmodels Logit newton "
          f"tol=1e-12")
    print()
    print(head)
    print("-" * len(head))
    worst = 0.0
    for name, pen, C in T.CASES:
        ref = T.sklearn_oracle(name, pen, C)
        sm_ref = T.statsmodels_oracle(name) if (pen == "none" and
                                                name in T.STATSMODELS_CASES) else None
        for solver in T.SOLVERS_FOR[pen]:
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                est = T.ours(name, pen, C, solver)
                seconds = time.perf_counter() - t0
            d_sk = T.max_rel_diff(est.coef_, est.intercept_, *ref)
            worst = max(worst, d_sk)
            d_sm = (f"{T.max_rel_diff(est.coef_, est.intercept_, *sm_ref):15.1e}"
                    if sm_ref is not None else f"{'':15s}")
            if sm_ref is not None:
                worst = max(worst, T.max_rel_diff(est.coef_, est.intercept_, *sm_ref))
            note = ""
            if any(issubclass(w.category, ConvergenceWarning) for w in rec):
                note = "ConvergenceWarning (stopped at the rounding floor)"
            c_txt = "inf" if np.isinf(C) else f"{C:g}"
            print(f"{name:<20s} {pen:<11s} {c_txt:>6s} {solver:<7s} {d_sk:11.1e} {d_sm} "
                  f"{int(est.n_iter_[0]):7d} {seconds:7.2f}  {note}")
            rows.append((name, pen, C, solver, d_sk))
    print()
    print("the two oracles against each other (unpenalized, binary):")
    for name in T.STATSMODELS_CASES:
        d = T.max_rel_diff(*T.sklearn_oracle(name, "none", np.inf),
                           *T.statsmodels_oracle(name))
        print(f"  {name:<20s} sklearn vs statsmodels {d:.1e}")
    print()
    print(f"largest difference: {worst:.1e} ({'within' if worst <= T.RTOL else 'OVER'} "
          f"the tests' {T.RTOL:g})")
    return 0 if worst <= T.RTOL else 1


if __name__ == "__main__":
    sys.exit(main())
