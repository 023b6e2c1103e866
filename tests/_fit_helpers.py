"""Helpers shared by the chunked-data tests (Dask and out-of-core)."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from vlogreg import LogisticRegression, SeparationWarning


def make_data(m, n, n_classes, seed=0, dtype=np.float64):
    """(X, y): standard-normal X (m, n); labels of a noisy linear model on its first
    two columns (logistic noise for 2 classes, Gumbel for more)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    if n_classes == 2:
        y = (X[:, 0] - X[:, 1] + rng.logistic(size=m) > 0).astype(int)
    else:
        y = (X[:, :2] @ rng.standard_normal((2, n_classes))
             + rng.gumbel(size=(m, n_classes))).argmax(axis=1)
    return X, y


def fit(X, y=None, sample_weight=None, **kw):
    """A LogisticRegression(**kw) fitted quietly (max_iter-limited cases warn); a
    SeparationWarning (a ConvergenceWarning) still shows, for the tests that want it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("always", SeparationWarning)
        return LogisticRegression(**kw).fit(X, y, sample_weight)


def assert_same_fit(a, b, atol=1e-8):
    assert a.coef_.dtype == b.coef_.dtype
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(b.intercept_, a.intercept_, rtol=0, atol=atol)
    np.testing.assert_array_equal(b.classes_, a.classes_)
