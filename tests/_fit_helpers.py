"""Helpers shared by the chunked-data tests (Dask and out-of-core)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from vlogreg import LogisticRegression


def fit(X, y=None, sample_weight=None, **kw):
    """A LogisticRegression(**kw) fitted quietly (max_iter-limited cases warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(**kw).fit(X, y, sample_weight)


def assert_same_fit(a, b, atol=1e-8):
    assert a.coef_.dtype == b.coef_.dtype
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(b.intercept_, a.intercept_, rtol=0, atol=atol)
    np.testing.assert_array_equal(b.classes_, a.classes_)
