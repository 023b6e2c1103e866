"""Model statistics and likelihood-ratio tests, counted as statsmodels counts them.

With ``N = sum_i s_i`` (frequency weights), ``N_k`` the weight of class k, K classes and
``q`` estimated parameters (``p1 = n + 1`` per equation: ``p1`` binary, ``(K - 1) p1``
for statsmodels' MNLogit parametrisation):

    ll0       = sum_k N_k log(N_k / N)              (the intercept-only model)
    df_model  = q - (K - 1),   df_resid = N - q
    LR        = 2 (ll - ll0) ~ chi2(df_model)
    AIC       = -2 ll + 2 q,   BIC = -2 ll + log(N) q
    pseudo R2 = 1 - ll / ll0                         (McFadden)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2


def model_statistics(ll, class_weights, n_params, n_classes):
    """The Summary's model statistics (a dict of its field names).

    Parameters
    ----------
    ll : float
        Log-likelihood at the fit.
    class_weights : ndarray (K,)
        ``N_k``: summed weights of each class.
    n_params : int
        ``q``: free parameters (constraints already taken off).
    n_classes : int
        K.
    """
    Nk = np.asarray(class_weights, dtype=np.float64)
    N = float(Nk.sum())
    pos = Nk > 0
    ll0 = float(np.sum(Nk[pos] * np.log(Nk[pos] / N)))
    df_model = float(n_params - (n_classes - 1))
    lr = 2.0 * (ll - ll0)
    return {"null_log_likelihood": ll0,
            "pseudo_r2": 1.0 - ll / ll0 if ll0 != 0 else math.nan,
            "lr_stat": lr, "lr_df": df_model,
            "lr_pvalue": float(chi2.sf(lr, df_model)) if df_model > 0 else math.nan,
            "aic": -2.0 * ll + 2.0 * n_params,
            "bic": -2.0 * ll + math.log(N) * n_params,
            "df_model": df_model, "df_resid": N - n_params}


@dataclass(frozen=True)
class LRTest:
    """A likelihood-ratio test of a restricted model against a larger one.

    Attributes
    ----------
    statistic : float
        ``2 (ll_full - ll_restricted)``.
    df : float
        ``df_model_full - df_model_restricted``: the restrictions.
    p_value : float
        ``chi2.sf(statistic, df)``.
    """

    statistic: float
    df: float
    p_value: float


def lr_test(restricted, full) -> LRTest:
    """Likelihood-ratio test of nested maximum-likelihood fits, as statsmodels'
    ``full_results.compare_lr_test(restricted_results)``.

    Parameters
    ----------
    restricted, full : vlogreg.inference.Summary
        ``summary(...)`` of two unpenalized fits on the same rows and weights, the
        restricted model's columns a subset of the full one's (nesting is the caller's
        to ensure: only the counts are checked).

    Returns
    -------
    LRTest
    """
    for name, s in (("restricted", restricted), ("full", full)):
        if not hasattr(s, "log_likelihood") or not hasattr(s, "df_model"):
            raise TypeError(f"lr_test: {name} is a {type(s).__name__}; pass the "
                            f"vlogreg.inference.summary(model, X, y) of each fit.")
        if s.kind != "mle":
            raise ValueError(f"lr_test: the {name} model is a penalized fit ({s.kind}); "
                             f"the likelihood-ratio test compares maximum-likelihood fits: "
                             f"refit both unpenalized (C=np.inf).")
    if restricted.n_obs != full.n_obs or not math.isclose(
            restricted.sum_weights, full.sum_weights, rel_tol=1e-12):
        raise ValueError(f"lr_test: the models were summarised on different data "
                         f"({restricted.n_obs} rows, weight {restricted.sum_weights:g} vs "
                         f"{full.n_obs} rows, weight {full.sum_weights:g}); use the same "
                         f"rows and weights for both.")
    df = float(full.df_model - restricted.df_model)
    if not df > 0:
        raise ValueError(f"lr_test: the full model has {full.df_model:g} degrees of freedom, "
                         f"not more than the restricted model's {restricted.df_model:g}; "
                         f"pass (restricted, full) in that order.")
    stat = 2.0 * (full.log_likelihood - restricted.log_likelihood)
    return LRTest(float(stat), df, float(chi2.sf(stat, df)))
