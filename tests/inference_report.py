"""Print the largest relative difference from statsmodels of each number of the summary.

    python tests/inference_report.py

The data sets, fits and statsmodels calls are those of ``test_inference_stats.py``
(imported from it), so the report and the tests cannot drift apart. One row per
quantity: the largest ``|ours - theirs| / |theirs|`` over the data sets and covariance
types, and where it occurs. Not a test module (no ``test_`` prefix).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import statsmodels.api as sm  # noqa: E402

import test_inference_stats as T  # noqa: E402
from vlogreg.inference import summary  # noqa: E402


def _rel(a, b):
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if np.array_equal(a, b):
        return 0.0
    nz = b != 0  # an exact 0 of theirs (a df, a cov entry) is compared absolutely
    return float(max(np.max(np.abs(a - b)[nz] / np.abs(b[nz]), initial=0.0),
                     np.max(np.abs(a[~nz]), initial=0.0)))


def _cases():
    """(label, Summary, statsmodels results, flatten) of every compared fit."""
    for name, load in T.BINARY.items():
        X, y, groups = load()
        model = T._mle(X, y)
        for cov in ("nonrobust", "HC0", "cluster"):
            g = groups if cov == "cluster" else None
            yield (f"{name} {cov}", summary(model, X, y, cov_type=cov, groups=g),
                   T._sm_fit(X, y, cov_type=cov, groups=g), np.asarray)
    X, y, groups = T._anes()
    model = T._mle(X, y)
    for cov in ("nonrobust", "HC0", "cluster"):
        g = groups if cov == "cluster" else None
        yield (f"anes96 MNLogit {cov}", summary(model, X, y, cov_type=cov, groups=g),
               T._sm_fit(X, y, cls=sm.MNLogit, cov_type=cov, groups=g),
               lambda a: np.asarray(a).T.ravel())


def main():
    worst = {}
    for label, s, r, flat in _cases():
        ci = np.asarray(r.conf_int())
        lo, hi = (ci[:, 0], ci[:, 1]) if ci.ndim == 2 else (ci[..., 0].ravel(),
                                                          ci[..., 1].ravel())
        pairs = {"coef": (s.coef, flat(r.params)), "std err": (s.std_err, flat(r.bse)),
                 "z": (s.z, flat(r.tvalues)), "p-value": (s.p_value, flat(r.pvalues)),
                 "CI": (np.r_[s.ci_low, s.ci_high], np.r_[lo, hi]),
                 "odds ratio": (s.odds_ratio, np.exp(flat(r.params))),
                 "odds ratio CI": (np.r_[s.or_ci_low, s.or_ci_high], np.exp(np.r_[lo, hi])),
                 "cov": (s.cov[np.abs(r.cov_params()) > 0],
                         np.asarray(r.cov_params())[np.abs(r.cov_params()) > 0]),
                 "log-likelihood": (s.log_likelihood, r.llf),
                 "null log-likelihood": (s.null_log_likelihood, r.llnull),
                 "pseudo R2": (s.pseudo_r2, r.prsquared), "LR stat": (s.lr_stat, r.llr),
                 "LR p-value": (s.lr_pvalue, r.llr_pvalue), "AIC": (s.aic, r.aic),
                 "BIC": (s.bic, r.bic), "df model": (s.df_model, r.df_model),
                 "df resid": (s.df_resid, r.df_resid)}
        for q, (a, b) in pairs.items():
            d = _rel(a, b)
            if q not in worst or d > worst[q][0]:
                worst[q] = (d, label)
    print(f"{'quantity':<22s} {'largest rel. diff':>18s}  where")
    for q, (d, label) in worst.items():
        print(f"{q:<22s} {d:18.1e}  {label}")


if __name__ == "__main__":
    main()
