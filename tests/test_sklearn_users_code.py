"""What scikit-learn users' code relies on beyond the numbers (found by running
scikit-learn's own test_logistic.py on vlogreg, tests/test_sklearn_suite.py): the first
words of its warnings and errors (users' filters and ``match=`` quote them), metadata
routing in LogisticRegressionCV, and the private methods its tools call.

The oracle is scikit-learn 1.9 itself: its estimator on the same input gives the
message whose start vlogreg's must have, the scores with and without routed weights,
and the one-vs-rest probabilities from the same coefficients.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression, LogisticRegressionCV


def _start(message, words=4):
    """The start of a message that a user's filter quotes: its first words."""
    return " ".join(str(message).split()[:words])


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in rec]


@pytest.fixture(scope="module")
def binary():
    X, y = load_iris(return_X_y=True)
    return X, (y == 1).astype(int)


# ------------------------------------------------------- ConvergenceWarning's start
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky", "sag", "saga",
                                    "liblinear"])
def test_convergence_warning_starts_as_scikit_learns_for_its_solver_names(binary, solver):
    X, y = binary
    kw = dict(solver=solver, max_iter=1, tol=1e-15, random_state=0)
    theirs = [m for c, m in _warnings_of(lambda: sk.LogisticRegression(**kw).fit(X, y))
              if issubclass(c, ConvergenceWarning)]
    ours = [m for c, m in _warnings_of(lambda: LogisticRegression(**kw).fit(X, y))
            if issubclass(c, ConvergenceWarning)]
    assert len(theirs) == len(ours) == 1, (theirs, ours)
    assert ours[0].startswith(_start(theirs[0])), (ours[0], theirs[0])
    # a user's filter on scikit-learn's words (filterwarnings matches the start)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=re.escape(_start(theirs[0])),
                                category=ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            LogisticRegression(**kw).fit(X, y)


@pytest.mark.parametrize("solver", ["auto", "gd", "agd", "newton"])
def test_vlogregs_own_solver_names_keep_vlogregs_words(binary, solver):
    X, y = binary
    caught = _warnings_of(lambda: LogisticRegression(solver=solver, max_iter=1,
                                                     tol=1e-15).fit(X, y))
    (message,) = [m for c, m in caught if issubclass(c, ConvergenceWarning)]
    assert message.startswith("solver=") and "did not converge in 1 iterations" in message


# ------------------------------------------------------ parameter warnings' starts
@pytest.mark.parametrize("params", [
    dict(penalty="l2"), dict(penalty="l1", l1_ratio=0.5, solver="saga"),
    dict(penalty="l1", l1_ratio=0.0, solver="saga"), dict(penalty="l2", l1_ratio=1.0),
    dict(penalty=None, C=4.0), dict(l1_ratio=None),
])
def test_parameter_warnings_start_as_scikit_learns(binary, params):
    X, y = StandardScaler().fit_transform(binary[0]), binary[1]
    theirs = _warnings_of(lambda: sk.LogisticRegression(**params, max_iter=1000).fit(X, y))
    ours = _warnings_of(lambda: LogisticRegression(**params).fit(X, y))
    theirs = [(c, m) for c, m in theirs if not issubclass(c, ConvergenceWarning)]
    assert [c for c, _ in ours] == [c for c, _ in theirs]
    for (_, mine), (_, sks) in zip(ours, theirs):
        assert mine.startswith(_start(sks)), (mine, sks)


def test_cv_warnings_start_as_scikit_learns(binary):
    X, y = binary
    kw = dict(Cs=2, l1_ratios=None, scoring="neg_log_loss", max_iter=1000)
    theirs = _warnings_of(lambda: sk.LogisticRegressionCV(**kw).fit(X, y))
    ours = _warnings_of(lambda: LogisticRegressionCV(**kw).fit(X, y))
    theirs = [(c, m) for c, m in theirs if not issubclass(c, ConvergenceWarning)]
    ours = [(c, m) for c, m in ours if not issubclass(c, ConvergenceWarning)]
    assert sorted(_start(m, 3) for _, m in ours) == sorted(_start(m, 3) for _, m in theirs)
    legacy = [m for _, m in ours if "use_legacy_attributes" in m]
    assert legacy and "The default value of use_legacy_attributes will change from True" \
        in legacy[0]


def test_nan_error_starts_as_scikit_learns():
    X = np.array([[-1.0, 0.0], [0.0, np.nan], [1.0, 1.0]])
    y = [0, 1, 1]
    with pytest.raises(ValueError) as theirs:
        sk.LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"^Input X contains NaN at row 1, column 1; ") \
            as ours:
        LogisticRegression().fit(X, y)
    assert str(ours.value).startswith(_start(theirs.value).rstrip("."))


# ---------------------------------------------------------------- metadata routing
@pytest.fixture(scope="module")
def weighted():
    X, y = make_classification(n_samples=300, n_features=6, random_state=0)
    sw = np.where(np.arange(len(y)) < len(y) // 2, 2.0, 1.0)
    return StandardScaler().fit_transform(X), y, sw


@pytest.mark.parametrize("requested", [True, False])
def test_routed_sample_weight_reaches_the_scorer_only_when_requested(weighted, requested):
    X, y, sw = weighted
    kw = dict(Cs=3, l1_ratios=(0,), tol=1e-10, use_legacy_attributes=False)
    with sklearn.config_context(enable_metadata_routing=True):
        ours = LogisticRegressionCV(scoring=get_scorer("accuracy").set_score_request(
            sample_weight=requested), max_iter=1000, **kw).fit(X, y, sample_weight=sw)
        theirs = sk.LogisticRegressionCV(scoring=get_scorer("accuracy").set_score_request(
            sample_weight=requested), max_iter=10_000, **kw).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-12)
        if requested:
            assert ours.score(X, y, sample_weight=sw) == theirs.score(X, y, sample_weight=sw)
        else:
            with pytest.raises(TypeError, match="not routed to any object"):
                ours.score(X, y, sample_weight=sw)
    with sklearn.config_context(enable_metadata_routing=False):  # the weights, always
        plain = LogisticRegressionCV(scoring="accuracy", max_iter=1000, **kw).fit(
            X, y, sample_weight=sw)
    assert np.array_equal(plain.scores_, ours.scores_) == requested


def test_groups_reach_the_splitter_with_routing_and_are_refused_without(weighted):
    X, y, _ = weighted
    groups = np.arange(len(y)) % 5
    kw = dict(Cs=3, l1_ratios=(0,), tol=1e-10, cv=GroupKFold(3), scoring="neg_log_loss",
              use_legacy_attributes=False)
    with sklearn.config_context(enable_metadata_routing=True):
        ours = LogisticRegressionCV(max_iter=1000, **kw).fit(X, y, groups=groups)
        theirs = sk.LogisticRegressionCV(max_iter=10_000, **kw).fit(X, y, groups=groups)
    np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=1e-6)
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        LogisticRegressionCV(**kw).fit(X, y, groups=groups)


def test_default_scorer_is_accuracy():
    assert LogisticRegressionCV()._get_scorer()._score_func.__name__ == \
        sk.LogisticRegressionCV()._get_scorer()._score_func.__name__ == "accuracy_score"


# ------------------------------------------------- what scikit-learn's tools call
@pytest.mark.parametrize("n_classes", [2, 3])
def test_one_vs_rest_probabilities_are_scikit_learns_from_the_same_coefficients(n_classes):
    X, y = make_classification(n_samples=60, n_features=5, n_informative=4,
                               n_redundant=0, n_classes=n_classes, random_state=0)
    ours = LogisticRegression().fit(X, y)
    theirs = sk.LogisticRegression().fit(X, y)  # then given our coefficients
    theirs.coef_, theirs.intercept_ = ours.coef_.copy(), ours.intercept_.copy()
    np.testing.assert_allclose(ours._predict_proba_lr(X), theirs._predict_proba_lr(X),
                               rtol=1e-12, atol=1e-15)


def test_cv_refit_with_liblinear_is_logistic_regressions_fit_at_c():
    # scikit-learn's test_logistic_cv: liblinear has no warm start, so scikit-learn's
    # refit is the fit from zero, LogisticRegression's; vlogreg's too for that name
    rng = np.random.RandomState(42)
    X = rng.randn(50, 5)
    y = np.sign(X @ (5 * rng.randn(5)))
    X = (X - X.mean()) / X.std()
    kw = dict(fit_intercept=False, solver="liblinear")
    cv = LogisticRegressionCV(Cs=[1.0], l1_ratios=(0.0,), cv=3, scoring="neg_log_loss",
                              use_legacy_attributes=False, **kw).fit(X, y)
    np.testing.assert_array_equal(cv.coef_, LogisticRegression(C=cv.C_, **kw).fit(X, y).coef_)
    # the fit itself: scikit-learn's optimum to what tol=1e-4 resolves
    ref = sk.LogisticRegression(C=1.0, fit_intercept=False, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(cv.coef_, ref.coef_, rtol=1e-3)


def test_legacy_elastic_net_scores_are_c_by_l1_ratio():
    # scikit-learn's test_scores_attribute_layout_elasticnet at a tol where the fits
    # agree (at its tol=1e-3 they agree only to where each stopped, tests/_sklearn_suite)
    X, y = make_classification(n_samples=1000, random_state=0)
    cv = StratifiedKFold(n_splits=5)
    Cs, l1_ratios = [0.1, 1, 10], [0.1, 0.9]
    kw = dict(solver="saga", tol=1e-8, max_iter=5000)
    lrcv = LogisticRegressionCV(Cs=Cs, l1_ratios=l1_ratios, cv=cv, scoring="neg_log_loss",
                                use_legacy_attributes=True, **kw).fit(X, y)
    mean = lrcv.scores_[1].mean(axis=0)  # (n_cs, n_l1_ratios)
    for i, C in enumerate(Cs):
        for j, l1_ratio in enumerate(l1_ratios):
            each = cross_val_score(LogisticRegression(C=C, l1_ratio=l1_ratio, **kw), X, y,
                                   cv=cv, scoring="neg_log_loss").mean()
            assert mean[i, j] == pytest.approx(each, rel=1e-6)
