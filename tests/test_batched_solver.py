"""The batched L-BFGS: every model's solution equals an independent fit of that model."""

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression as SkLR

from vlogreg.objective.batched import BatchedObjective
from vlogreg.objective.logistic import LogisticObjective
from vlogreg.solvers.batched_lbfgs import batched_lbfgs


def _problem(m=600, n=6, seed=0, n_folds=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * np.linspace(0.5, 3.0, n)
    w = rng.normal(size=n)
    y = (rng.random(m) < 1 / (1 + np.exp(-(X @ w) * 0.5 - 0.3))).astype(float)
    sw = rng.uniform(0.3, 2.0, m)
    fold = (np.arange(m) % n_folds).astype(np.int32)
    return X, y, sw, fold


@pytest.mark.parametrize("precondition", [True, False])
def test_each_model_equals_scikit_learn_on_its_rows(precondition):
    X, y, sw, fold = _problem()
    Cs = np.array([1e-2, 1.0, 1e2])
    exclude = np.repeat([0, 1, 2], 3).astype(np.int32)
    C = np.tile(Cs, 3)
    S = np.array([sw[fold != f].sum() for f in exclude])
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=1 / (C * S),
                           kernel="numpy")
    res = batched_lbfgs(obj, tol=1e-10, max_iter=300, precondition=precondition)
    assert res.converged.all()
    assert np.all(res.grad_norm <= 1e-10)
    for k in range(len(exclude)):
        rows = fold != exclude[k]
        ref = SkLR(C=C[k], tol=1e-12, max_iter=10_000).fit(X[rows], y[rows], sw[rows])
        np.testing.assert_allclose(res.theta[:-1, k], ref.coef_[0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(res.theta[-1, k], ref.intercept_[0], rtol=1e-6,
                                   atol=1e-7)


def test_matches_scipy_without_intercept_and_models_subset():
    X, y, sw, fold = _problem(seed=1)
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=[0, 1, 2, -1],
                           alpha=[0.1, 0.01, 1e-3, 0.05], fit_intercept=False,
                           kernel="numpy")
    res = batched_lbfgs(obj, models=[3, 1], tol=1e-10, max_iter=300)
    for j, k in enumerate([3, 1]):
        single = obj.single(k, kernel="numpy")
        ref = minimize(single.value_and_grad, np.zeros(single.n_params), jac=True,
                       method="BFGS", options={"gtol": 1e-12, "maxiter": 5000})
        np.testing.assert_allclose(res.theta[:, j], ref.x, rtol=1e-6, atol=1e-8)


def test_warm_start_and_per_model_stopping():
    X, y, sw, fold = _problem(seed=2)
    exclude = np.array([0, 1, 2], dtype=np.int32)
    S = np.array([sw[fold != f].sum() for f in exclude])
    alpha = 1 / (np.array([1e-3, 1.0, 1e3]) * S)
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                           kernel="numpy")
    cold = batched_lbfgs(obj, tol=1e-8, max_iter=300)
    assert cold.converged.all()
    # each model stops on its own: the strongly penalized one needs fewer iterations
    assert cold.n_iter[0] < cold.n_iter[2]
    warm = batched_lbfgs(obj, cold.theta, tol=1e-8, max_iter=300)
    np.testing.assert_array_equal(warm.n_iter, 0)
    # the same point, through the preconditioner's coordinates and back (rounding)
    np.testing.assert_allclose(warm.theta, cold.theta, rtol=1e-13, atol=1e-15)
    capped = batched_lbfgs(obj, tol=1e-12, max_iter=2)
    assert not capped.converged.any()
    assert np.all(capped.n_iter == 2)
    with pytest.raises(ValueError, match="max_iter"):
        batched_lbfgs(obj, max_iter=-1)


def test_many_features_use_the_diagonal_preconditioner(monkeypatch):
    rng = np.random.default_rng(5)
    m, n = 400, 300
    X = rng.normal(size=(m, n))
    y = (rng.random(m) < 0.5).astype(float)
    fold = (np.arange(m) % 2).astype(np.int32)
    obj = BatchedObjective(X, y, fold=fold, exclude=[0, 1], alpha=[0.1, 0.5],
                           kernel="numpy")
    # diagonal bounds beyond BOUND_MAX_DENSE columns (here 100)
    monkeypatch.setattr("vlogreg.objective.batched.BOUND_MAX_DENSE", 100)
    bounds = obj.hessian_bounds()
    assert bounds.shape == (2, n + 1)
    for k, alpha in enumerate([0.1, 0.5]):  # at theta = 0: LogisticObjective's bound
        ref = LogisticObjective(X, y, alpha=alpha).hessian_bound(max_dense=100)
        np.testing.assert_allclose(bounds[k], ref, rtol=1e-12)
    res = batched_lbfgs(obj, tol=1e-9, max_iter=500)
    assert res.converged.all()
    for k in range(2):
        single = obj.single(k, kernel="numpy")
        ref = minimize(single.value_and_grad, np.zeros(n + 1), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-11, "ftol": 0, "maxiter": 5000})
        np.testing.assert_allclose(res.theta[:, k], ref.x, atol=1e-6)
