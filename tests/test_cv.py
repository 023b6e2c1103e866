"""vlogreg.LogisticRegressionCV against scikit-learn's on the same folds and scoring."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.linear_model import LogisticRegressionCV as SkCV
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from vlogreg import LogisticRegressionCV

TIGHT = dict(tol=1e-10, max_iter=2000)


def _pair(**kw):
    """Our estimator and scikit-learn's with the same parameters (the scikit-learn one
    at a tighter tol where its lbfgs stops short)."""
    ours = LogisticRegressionCV(**kw, **TIGHT)
    theirs = SkCV(**kw, tol=1e-12, max_iter=20_000)
    return ours, theirs


def _fit(est, X, y, **fit_kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return est.fit(X, y, **fit_kw)


def _compare(ours, theirs, legacy=True):
    np.testing.assert_allclose(ours.Cs_, theirs.Cs_)
    np.testing.assert_array_equal(ours.C_, theirs.C_)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    if legacy:
        assert list(ours.scores_) == list(theirs.scores_)
        for c in ours.scores_:
            assert ours.scores_[c].shape == theirs.scores_[c].shape
            np.testing.assert_allclose(ours.scores_[c], theirs.scores_[c], rtol=1e-6,
                                       atol=1e-6)
            assert ours.coefs_paths_[c].shape == theirs.coefs_paths_[c].shape
        assert ours.n_iter_.shape == theirs.n_iter_.shape
    else:
        assert ours.scores_.shape == theirs.scores_.shape
        np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=1e-6, atol=1e-6)
        assert ours.coefs_paths_.shape == theirs.coefs_paths_.shape
        assert ours.n_iter_.shape == theirs.n_iter_.shape
        assert ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-5, atol=1e-6)


def _binary(m=500, n=8, seed=0):
    X, y = make_classification(m, n, n_informative=min(5, n - 2), random_state=seed)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy", "roc_auc"])
def test_binary_l2_same_choice_and_scores(scoring):
    X, y = _binary()
    ours, theirs = _pair(Cs=8, cv=5, scoring=scoring, l1_ratios=(0,),
                         use_legacy_attributes=True)
    _fit(ours, X, y)
    _fit(theirs, X, y)
    assert ours.batched_
    _compare(ours, theirs)


def test_binary_weights_class_weight_and_new_attributes():
    X, y = _binary(seed=1)
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    ours, theirs = _pair(Cs=[1e-3, 1e-2, 0.1, 1.0, 10.0], cv=KFold(4, shuffle=True,
                                                                   random_state=0),
                         scoring="neg_log_loss", class_weight="balanced", l1_ratios=(0,),
                         use_legacy_attributes=False)
    _fit(ours, X, y, sample_weight=sw)
    _fit(theirs, X, y, sample_weight=sw)
    assert ours.batched_
    _compare(ours, theirs, legacy=False)


@pytest.mark.parametrize("legacy", [True, False])
def test_multinomial_iris(legacy):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    # newton: lbfgs stalls at its rounding floor above tol=1e-10 on the nearly separable
    # folds of the largest Cs (a ConvergenceWarning); both libraries' newton reach it
    ours, theirs = _pair(Cs=6, cv=StratifiedKFold(3, shuffle=True, random_state=1),
                         scoring="neg_log_loss", use_legacy_attributes=legacy,
                         solver="newton-cholesky")
    _fit(ours, X, y)
    _fit(theirs, X, y)
    assert ours.batched_  # the multinomial loss: one batched objective for every model
    _compare(ours, theirs, legacy)


def test_default_l1_ratios_and_refit_false():
    X, y = _binary(seed=2)
    ours, theirs = _pair(Cs=5, scoring="neg_log_loss", refit=False)
    _fit(ours, X, y)
    _fit(theirs, X, y)
    _compare(ours, theirs)
    np.testing.assert_array_equal(ours.l1_ratio_, theirs.l1_ratio_)


def test_folds_that_do_not_partition_fall_back_to_single_fits():
    X, y = _binary(seed=3)
    cv = ShuffleSplit(3, test_size=0.3, random_state=0)
    ours, theirs = _pair(Cs=4, cv=cv, scoring="neg_log_loss", l1_ratios=(0,))
    _fit(ours, X, y)
    _fit(theirs, X, y)
    assert not ours.batched_
    _compare(ours, theirs)


def test_l1_path_against_saga():
    X, y = _binary(m=200, n=5, seed=4)
    # every C above the folds' c_min: where every w is 0, saga's intercept stops short
    # of the log-odds (see test_path.py)
    kw = dict(Cs=[0.3, 1.0, 3.0], cv=3, scoring="neg_log_loss", l1_ratios=(1.0,),
              use_legacy_attributes=False)
    ours = _fit(LogisticRegressionCV(**kw, **TIGHT), X, y)
    theirs = _fit(SkCV(**kw, solver="saga", tol=1e-12, max_iter=50_000), X, y)
    assert ours.C_ == theirs.C_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-5)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)


def test_scores_use_the_scoring_and_predict_works():
    X, y = _binary()
    est = _fit(LogisticRegressionCV(Cs=3, scoring="neg_log_loss", l1_ratios=(0,)), X, y)
    from sklearn.metrics import log_loss
    assert est.score(X, y) == pytest.approx(-log_loss(y, est.predict_proba(X)))
    assert est.predict(X).shape == y.shape


@pytest.mark.parametrize("params, match", [
    (dict(l1_ratios=(0, 2)), "l1_ratios=.* is not valid"),
    (dict(Cs=0), "Cs=0 is not valid"),
    (dict(dual=True), "dual=True is not valid"),
    (dict(use_legacy_attributes="yes"), "use_legacy_attributes='yes'"),
    (dict(tol=-1.0), "LogisticRegressionCV: tol=-1.0"),
])
def test_bad_parameters_name_the_fix(params, match):
    X, y = _binary(m=60)
    with pytest.raises(ValueError, match=match):
        _fit(LogisticRegressionCV(**params), X, y)


_WEIGHT_EQUIVALENCE = (
    "not a property of cross-validation: the folds of repeated rows are not those of "
    "weighted rows, so the fold fits, the chosen C and the refit's start differ (the "
    "refits then agree to tol, not to the check's rtol=1e-7; scikit-learn's own "
    "LogisticRegressionCV fails it too at tol=1e-8, and passes at 1e-4 only by where "
    "its lbfgs stops)")


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    # cv=3 as scikit-learn's own check parameters: check_sparsify_coefficients has
    # classes of 3 rows
    [LogisticRegressionCV(Cs=3, cv=3, l1_ratios=(0,), scoring="neg_log_loss",
                          use_legacy_attributes=False),
     LogisticRegressionCV(Cs=3, cv=3, scoring="neg_log_loss")],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _WEIGHT_EQUIVALENCE,
        "check_sample_weight_equivalence_on_sparse_data": _WEIGHT_EQUIVALENCE})
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_sparse_input_is_batched_and_equals_dense():
    import scipy.sparse as sp
    X, y = _binary(seed=5)
    X[np.abs(X) < 0.8] = 0.0
    kw = dict(Cs=5, cv=4, scoring="neg_log_loss", l1_ratios=(0,),
              use_legacy_attributes=False, **TIGHT)
    dense = _fit(LogisticRegressionCV(**kw), X, y)
    sparse = _fit(LogisticRegressionCV(**kw), sp.csr_matrix(X), y)
    assert sparse.batched_
    np.testing.assert_allclose(sparse.scores_, dense.scores_, rtol=1e-9)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)


def test_explicit_penalty_wins_over_l1_ratios():
    X, y = _binary(seed=6)
    ours, theirs = _pair(Cs=4, cv=3, scoring="neg_log_loss", penalty="l2",
                         l1_ratios=(0.5,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation and "only used with elasticnet"
        ours.fit(X, y)
        theirs.fit(X, y)
    assert ours.batched_  # the L2 fits, not elastic-net ones
    _compare(ours, theirs)


def test_unconverged_fold_fits_warn():
    from sklearn.exceptions import ConvergenceWarning
    X, y = _binary(seed=7)
    est = LogisticRegressionCV(Cs=3, cv=3, scoring="neg_log_loss", l1_ratios=(0,),
                               use_legacy_attributes=False, tol=1e-12, max_iter=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert any("9 of 9 fold fits did not reach tol=1e-12" in m for m in messages)
    assert any("did not converge in 1 iterations" in m for m in messages)  # the refit


def _saga_pair(**kw):
    ours = LogisticRegressionCV(**kw, **TIGHT)
    theirs = SkCV(**kw, solver="saga", tol=1e-12, max_iter=100_000)
    return ours, theirs


def test_elastic_net_against_saga_same_c_l1_ratio_and_scores():
    X, y = _binary(m=200, n=5, seed=7)
    # every C above the folds' c_min (see test_l1_path_against_saga)
    ours, theirs = _saga_pair(Cs=[0.3, 1.0, 3.0], cv=StratifiedKFold(3),
                              l1_ratios=(0.3, 0.9),
                              scoring="neg_log_loss", use_legacy_attributes=False)
    _fit(ours, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)
    assert ours.batched_
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)


def test_multinomial_l1_against_saga():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours, theirs = _saga_pair(Cs=[0.1, 0.5, 2.0], cv=StratifiedKFold(3, shuffle=True,
                                                                     random_state=0),
                              l1_ratios=(1.0,), scoring="neg_log_loss",
                              use_legacy_attributes=False)
    _fit(ours, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)
    assert ours.batched_
    assert ours.C_ == theirs.C_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-6)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
