"""The batched OWL-QN (L1 / elastic net, K models sharing X): each model equals an
independent single fit, ``vlogreg.LogisticRegression`` on a copy of the model's rows."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg.objective.batched import BatchedObjective
from vlogreg.objective.batched_multi import BatchedMultinomial
from vlogreg.solvers.batched_prox import batched_owlqn


def _problem(n_classes=2, m=400, n=8, seed=0, sparse=False):
    X, y = make_classification(m, n, n_informative=5, n_redundant=0, n_classes=n_classes,
                               random_state=seed)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(seed)
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    sw = rng.uniform(0.3, 2.0, m)
    fold = rng.integers(0, 3, m).astype(np.int32)
    return X, y, sw, fold


def _strengths(C, l1_ratio, S):
    return (1 - l1_ratio) / (C * S), l1_ratio / (C * S)


def _single_fit(X, y, sw, rows, C, l1_ratio):
    return LogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-11, max_iter=10_000).fit(
        X[rows], y[rows], sample_weight=sw[rows])


# (exclude, C, l1_ratio) per model: folds, every row, L1 and elastic net, several C
MODELS = [(0, 0.05, 1.0), (1, 0.3, 1.0), (2, 3.0, 1.0), (-1, 0.1, 0.5), (1, 1.0, 0.2)]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_each_model_equals_an_independent_fit(sparse, n_classes):
    X, y, sw, fold = _problem(n_classes, sparse=sparse)
    exclude = np.array([e for e, _, _ in MODELS], dtype=np.int32)
    cls = BatchedMultinomial if n_classes > 2 else BatchedObjective
    kw = dict(n_classes=n_classes) if n_classes > 2 else {}
    obj = cls(X, y, sw, fold=fold, exclude=exclude, alpha=0.0, **kw)
    obj.alpha, obj.l1 = np.array([_strengths(C, r, S) for (_, C, r), S
                                  in zip(MODELS, obj.S)]).T.copy()
    res = batched_owlqn(obj, tol=1e-10, max_iter=2000)
    assert res.converged.all()
    for k, (e, C, r) in enumerate(MODELS):
        ref = _single_fit(X, y, sw, fold != e, C, r)
        if n_classes > 2:
            coef, intercept = obj.layout.to_attributes(res.theta[:, k])
        else:
            coef, intercept = res.theta[:-1, k][None], res.theta[-1:, k]
        np.testing.assert_allclose(coef, ref.coef_, atol=1e-7)
        np.testing.assert_allclose(intercept, ref.intercept_, atol=1e-7)
        # the zeros are exact and the same ones
        np.testing.assert_array_equal(coef == 0, np.abs(ref.coef_) < 1e-12)


def test_models_stop_on_their_own_and_warm_starts_agree():
    X, y, sw, fold = _problem(seed=1)
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=[0, 1, 2], alpha=0.0,
                           l1=[1e3, 1e-2, 1e-3])
    res = batched_owlqn(obj, tol=1e-10, max_iter=2000)
    assert res.converged.all()
    # model 0's L1 strength is above every |gradient| at 0 except the intercept's: it
    # stops as soon as its intercept is optimal, long before the others
    assert np.all(res.theta[:-1, 0] == 0)
    assert res.n_iter[0] < res.n_iter[1] and res.n_iter[0] < res.n_iter[2]
    # from the solution, nothing to do; from a perturbed start, the same solution
    again = batched_owlqn(obj, res.theta, tol=1e-10, max_iter=2000)
    np.testing.assert_array_equal(again.n_iter, 0)
    start = res.theta[:, [2, 1]] + 0.1
    warm = batched_owlqn(obj, start, models=np.array([2, 1]), tol=1e-10,
                         precondition="start", max_iter=2000)
    np.testing.assert_allclose(warm.theta, res.theta[:, [2, 1]], atol=1e-8)


def test_l2_only_models_equal_batched_lbfgs():
    # l1 = 0: the method is L-BFGS on the smooth objective; same minimiser
    from vlogreg.solvers.batched_lbfgs import batched_lbfgs
    X, y, sw, fold = _problem(seed=2)
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=[0, 1], alpha=[1e-2, 1e-1])
    a = batched_owlqn(obj, tol=1e-10, max_iter=2000)
    b = batched_lbfgs(obj, tol=1e-10, max_iter=2000)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-8)


def test_unconverged_models_are_finished_singly():
    # solve_grid's fallback: what the batch leaves unconverged, the single L1 solver
    # finishes from there, to the same minimiser as an independent fit
    from vlogreg._regpath import _finish_singly
    X, y, sw, fold = _problem(seed=3)
    models = [(0, 0.3, 1.0), (2, 1.0, 0.5)]
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=[e for e, _, _ in models],
                           alpha=0.0)
    obj.alpha, obj.l1 = np.array([_strengths(C, r, S) for (_, C, r), S
                                  in zip(models, obj.S)]).T.copy()
    res = batched_owlqn(obj, tol=1e-10, max_iter=2)
    assert not res.converged.any()
    _finish_singly(obj, res, np.arange(2), 1e-10, 5000, 0)
    assert res.converged.all()
    for k, (e, C, r) in enumerate(models):
        ref = _single_fit(X, y, sw, fold != e, C, r)
        np.testing.assert_allclose(res.theta[:-1, k], ref.coef_[0], atol=1e-7)
        np.testing.assert_allclose(res.theta[-1, k], ref.intercept_[0], atol=1e-7)


def test_l1_path_on_sparse_text_needs_no_single_model_finish(monkeypatch):
    # Zipf-distributed columns, one non-zero a row: rare columns enter the model along
    # the path of C. Scaled by the exact diagonals (every row, not a subsample that
    # misses rare columns), OWL-QN takes each warm start to tol in the batch
    import vlogreg
    from vlogreg import _regpath
    from vlogreg.bench.problems import sparse_text
    from vlogreg._regpath import l1_min_c, prepare_grid_data

    prob = sparse_text(40_000, 2_000, 5e-4, seed=1)
    finished = []
    real = _regpath._finish_singly
    monkeypatch.setattr(_regpath, "_finish_singly",
                        lambda obj, res, *a: (finished.append(int((~res.converged).sum())),
                                              real(obj, res, *a)))
    Cs = l1_min_c(prepare_grid_data(prob.X, prob.y)) * np.logspace(0, 2, 8)
    est = vlogreg.LogisticRegressionCV(Cs=Cs, cv=3, l1_ratios=(1.0,), tol=1e-4,
                                       scoring="neg_log_loss",
                                       use_legacy_attributes=False).fit(prob.X, prob.y)
    assert finished == []
    assert est.batched_ and np.count_nonzero(est.coef_) > 0
