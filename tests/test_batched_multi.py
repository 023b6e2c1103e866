"""The batched multinomial objective (K softmax models, one read of X) equals K single
multinomial LogisticObjectives, each on a copy of its own rows."""

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg.objective.batched_multi import BatchedMultinomial
from vlogreg.objective.logistic import LogisticObjective


def _problem(m=300, n=6, n_classes=4, seed=0, n_folds=4, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(0, n_classes, m)
    sw = rng.uniform(0.2, 3.0, m)
    fold = rng.integers(0, n_folds, m).astype(np.int32)
    return X, y, sw, fold, rng


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [True, False])
def test_equals_single_objectives(sparse, fit_intercept, weights):
    X, y, sw, fold, rng = _problem(sparse=sparse)
    sw = sw if weights else None
    exclude = np.array([-1, 0, 1, 2, 3, 0], dtype=np.int32)
    alpha = np.array([0.0, 1e-3, 0.1, 1.0, 0.0, 5.0])
    l1 = np.array([0.0, 0.0, 1e-2, 0.0, 0.3, 1e-3])
    batch = BatchedMultinomial(X, y, sw, n_classes=4, fold=fold, exclude=exclude,
                               alpha=alpha, l1=l1, fit_intercept=fit_intercept)
    theta = rng.normal(size=(batch.p, len(exclude)))
    theta[3, 2] = 0.0
    f, g = batch.value_and_grad(theta)
    F = f + batch.l1_value(theta)
    for k in range(len(exclude)):
        rows = fold != exclude[k]
        single = LogisticObjective(X[rows], y[rows], None if sw is None else sw[rows],
                                   alpha=alpha[k], l1=l1[k], n_classes=4,
                                   fit_intercept=fit_intercept, kernel="numpy")
        ref_f, ref_g = single.value_and_grad(theta[:, k])
        np.testing.assert_allclose(f[k], ref_f, rtol=1e-12)
        np.testing.assert_allclose(F[k], ref_f + single.l1_value(theta[:, k]), rtol=1e-12)
        np.testing.assert_allclose(g[:, k], ref_g, rtol=1e-12, atol=1e-14)


def test_model_subset_and_gradient_against_finite_differences():
    X, y, sw, fold, rng = _problem(m=120, n=3, n_classes=3, seed=1)
    batch = BatchedMultinomial(X, y, sw, n_classes=3, fold=fold, exclude=[0, 1, 2, 3],
                               alpha=[0.1, 0.2, 0.3, 0.4])
    theta = rng.normal(size=(batch.p, 4))
    f_all, g_all = batch.value_and_grad(theta)
    f_sub, g_sub = batch.value_and_grad(theta[:, [3, 1]], models=np.array([3, 1]))
    np.testing.assert_allclose(f_sub, f_all[[3, 1]], rtol=1e-14)
    np.testing.assert_allclose(g_sub, g_all[:, [3, 1]], rtol=1e-14, atol=1e-16)
    h = 1e-6
    for j in range(batch.p):
        e = np.zeros((batch.p, 4))
        e[j] = h
        fd = (batch.value_and_grad(theta + e)[0]
              - batch.value_and_grad(theta - e)[0]) / (2 * h)
        np.testing.assert_allclose(g_all[j], fd, rtol=1e-6, atol=1e-8)


def test_hessian_bound_dominates_the_hessian():
    # Bohning: the softmax Hessian is at most (1/2) X~^T diag(s) X~ / S per class block;
    # model 0 uses every row (the bound is the whole data's), so P - H is PSD anywhere
    X, y, sw, fold, rng = _problem(m=200, n=3, n_classes=3, seed=2)
    batch = BatchedMultinomial(X, y, sw, n_classes=3, fold=fold, exclude=[-1, 0],
                               alpha=[0.5, 0.5])
    P = batch.hessian_bounds()[0]
    single = batch.single(0, kernel="numpy")
    for _ in range(3):
        H = single.hessian(rng.normal(size=batch.p))
        assert np.linalg.eigvalsh(P - H).min() > -1e-10


def test_two_classes_name_the_fix():
    X, y, sw, fold, _ = _problem(n_classes=2)
    with pytest.raises(ValueError, match="use BatchedObjective for two classes"):
        BatchedMultinomial(X, y, sw, n_classes=2, fold=fold, exclude=[0], alpha=0.0)
