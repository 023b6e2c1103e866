"""vlogreg.path: every point equals an independent fit at its C."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLR
from sklearn.preprocessing import StandardScaler
from sklearn.svm import l1_min_c as sk_l1_min_c

import vlogreg


def _data(n_classes=2, m=400, n=6, seed=0):
    X, y = make_classification(m, n, n_informative=3, n_redundant=1, n_classes=n_classes,
                               random_state=seed)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_l2_path_equals_scikit_learn_fits(n_classes, weighted):
    X, y = _data(n_classes)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y)) if weighted else None
    res = vlogreg.path(X, y, Cs=[10.0, 1e-3, 0.1, 1e3], sample_weight=sw, tol=1e-10,
                       max_iter=1000)
    assert res.converged.all()
    assert res.coefs.shape == (4, 1 if n_classes == 2 else 3, X.shape[1])
    for C, coef, intercept in zip(res.Cs, res.coefs, res.intercepts):
        ref = SkLR(C=C, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(coef, ref.coef_, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(intercept, ref.intercept_, rtol=1e-6, atol=1e-7)


def test_warm_and_cold_paths_agree():
    X, y = _data()
    kw = dict(Cs=6, tol=1e-10, max_iter=1000)
    warm = vlogreg.path(X, y, **kw)
    cold = vlogreg.path(X, y, warm_start=False, **kw)
    np.testing.assert_allclose(warm.coefs, cold.coefs, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(warm.Cs, np.logspace(-4, 4, 6))


def _saga(C, l1_ratio, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLR(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                    max_iter=50_000).fit(X, y)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_and_elastic_net_path_equals_independent_fits(l1_ratio):
    X, y = _data(m=200, n=5)
    res = vlogreg.path(X, y, Cs=4, l1_ratio=l1_ratio, tol=1e-10, max_iter=2000)
    assert res.converged.all()
    np.testing.assert_allclose(res.Cs, res.c_min * np.logspace(0, 4, 4))
    # at c_min, w = 0 and the intercept is the log-odds of the classes (analytic)
    assert np.abs(res.coefs[0]).max() < 1e-12  # zero to rounding (equality at c_min)
    np.testing.assert_allclose(res.intercepts[0], np.log(y.mean() / (1 - y.mean())),
                               rtol=1e-8)
    for C, coef, intercept in zip(res.Cs[1:], res.coefs[1:], res.intercepts[1:]):
        # saga at tol=1e-12 resolves these to about 1e-6 (not at c_min: its intercept
        # stops 6e-3 short there, hence the analytic check above)
        ref = _saga(C, l1_ratio, X, y)
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-5)
        np.testing.assert_allclose(intercept, ref.intercept_, atol=1e-5)


def test_l1_path_starts_at_the_first_nonzero_coefficient():
    X, y = _data(m=300, n=5, seed=3)
    res = vlogreg.path(X, y, Cs=3, l1_ratio=1.0, tol=1e-10, max_iter=2000)
    below = _saga(res.c_min * 0.98, 1.0, X, y)
    above = _saga(res.c_min * 1.05, 1.0, X, y)
    assert np.all(np.abs(below.coef_) < 1e-8)
    assert np.max(np.abs(above.coef_)) > 1e-4
    # the path's own first point is at c_min: zero there (to rounding: at c_min the
    # optimality condition |gradient| <= 1 holds with equality)
    assert np.abs(res.coefs[0]).max() < 1e-12


@pytest.mark.parametrize("n_classes", [2, 3])
def test_c_min_without_intercept_is_scikit_learns_l1_min_c(n_classes):
    X, y = _data(n_classes)
    res = vlogreg.path(X, y, Cs=2, l1_ratio=1.0, fit_intercept=False, tol=1e-8)
    assert res.c_min == pytest.approx(sk_l1_min_c(X, y, loss="log", fit_intercept=False),
                                      rel=1e-12)


def test_bad_grid_names_the_fix():
    X, y = _data()
    with pytest.raises(ValueError, match="Cs=0 is not valid"):
        vlogreg.path(X, y, Cs=0)
    with pytest.raises(ValueError, match="list of positive C"):
        vlogreg.path(X, y, Cs=[1.0, -1.0])
    with pytest.raises(ValueError, match="l1_ratio=2 is not valid"):
        vlogreg.path(X, y, l1_ratio=2)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_multinomial_l1_path_equals_independent_fits(l1_ratio):
    # the batched multinomial OWL-QN along the path against one LogisticRegression per C;
    # no redundant column: with one, the weakest penalty leaves a direction of curvature
    # ~1e-4, where a gradient of 1e-10 fixes theta to 1e-6 only
    X, y = make_classification(300, 5, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=2)
    X = StandardScaler().fit_transform(X)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    res = vlogreg.path(X, y, Cs=4, l1_ratio=l1_ratio, sample_weight=sw, tol=1e-10,
                       max_iter=2000)
    assert res.converged.all()
    for C, coef, intercept in zip(res.Cs, res.coefs, res.intercepts):
        ref = vlogreg.LogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-11,
                                         max_iter=10_000).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(intercept, ref.intercept_, atol=1e-7)
