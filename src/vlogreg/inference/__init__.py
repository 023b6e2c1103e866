"""Inference for a fitted ``LogisticRegression``, with the numbers statsmodels gives.

``summary(model, X, y, ...)`` returns a ``Summary``: coefficients, standard errors
(``cov_type`` "nonrobust", "HC0" or "cluster"), z, p-values, confidence intervals, odds
ratios, and the model statistics (log-likelihood, the intercept-only model's, McFadden's
pseudo R-squared, the likelihood-ratio test, AIC, BIC, degrees of freedom).
``lr_test(restricted, full)`` compares two nested maximum-likelihood fits.

Modules: ``_summary`` (the function and its checks), ``_covariance`` (the one read of X
and the covariance matrices), ``_modeltests`` (model statistics, LR tests), ``_table``
(the ``Summary`` dataclass and its text and DataFrame forms).
"""

from ._modeltests import LRTest, lr_test
from ._summary import COV_TYPES, summary
from ._table import Summary

__all__ = ["COV_TYPES", "LRTest", "Summary", "lr_test", "summary"]
