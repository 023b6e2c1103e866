"""The cost cuts of the cross-validation (issue 19) keep its results: Hessians only for
the models that take a step, every model's Gram matrix in one walk over the subsample,
and the scores from chunks of each fold's test rows, against independent oracles."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import KFold, StratifiedKFold

import vlogreg.objective.batched as batched_mod
from vlogreg import LogisticRegressionCV
from vlogreg._cvscores import direct_scores
from vlogreg.objective.batched import BatchedObjective
from vlogreg.objective.secondorder import weighted_gram
from vlogreg.solvers.batched_lbfgs import batched_lbfgs


def _problem(m=900, n=5, seed=0, n_folds=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n)) * np.linspace(0.5, 2.0, n)
    y = (rng.random(m) < expit(X @ rng.normal(size=n) + 0.3)).astype(float)
    sw = rng.uniform(0.3, 2.0, m)
    fold = (np.arange(m) % n_folds).astype(np.int32)
    return X, y, sw, fold


def test_converged_warm_starts_take_no_hessian_and_keep_their_coefficients():
    X, y, sw, fold = _problem()
    exclude = np.array([0, 1, 2], dtype=np.int32)
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=[0.1, 0.01, 1e-3],
                           kernel="numpy")
    cold = batched_lbfgs(obj, tol=1e-9, max_iter=300)
    assert cold.converged.all()
    asked = []
    real = obj.hessian_bounds
    obj.hessian_bounds = lambda models=None, theta=None: (asked.append(list(models)),
                                                          real(models, theta))[1]
    # models 0 and 2 start at their solution, model 1 from zero: only model 1 is
    # preconditioned, and it reaches the same solution as the cold fit
    theta0 = cold.theta.copy()
    theta0[:, 1] = 0.0
    warm = batched_lbfgs(obj, theta0, tol=1e-9, max_iter=300, precondition="start")
    assert asked == [[1]]
    np.testing.assert_array_equal(warm.theta[:, [0, 2]], cold.theta[:, [0, 2]])
    np.testing.assert_array_equal(warm.n_iter[[0, 2]], 0)
    np.testing.assert_allclose(warm.theta[:, 1], cold.theta[:, 1], rtol=1e-6, atol=1e-8)
    # every model already converged: no Hessian at all, no read of X given the start
    asked.clear()
    again = batched_lbfgs(obj, cold.theta, tol=1e-9, precondition="start",
                          start=(cold.loss, cold.grad))
    assert asked == [] and again.n_evals == 0
    np.testing.assert_array_equal(again.theta, cold.theta)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_hessians_at_theta_are_the_subsamples_weighted_grams(monkeypatch, sparse,
                                                             n_threads):
    X, y, sw, fold = _problem(m=1000, n=4)
    if sparse:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    monkeypatch.setattr(batched_mod, "BOUND_MAX_ROWS", 143)  # every 7th row
    exclude = np.array([0, 2, -1, 1], dtype=np.int32)
    alpha = np.array([0.1, 0.0, 1e-3, 2.0])
    obj = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                           kernel="numpy", n_threads=n_threads)
    theta = np.random.default_rng(1).normal(size=(5, 4)) * 0.5
    H = obj.hessian_bounds(theta=theta)
    rows = np.arange(0, 1000, 7)
    Xs = X[rows].toarray() if sparse else X[rows]
    # shared: one Hessian of every subsample row at the models' mean theta
    shared = obj.hessian_bounds(theta=theta, shared=True)
    mean = theta.mean(axis=1)
    for k in range(4):
        for got, t, w in [(H[k], theta[:, k], sw[rows] * (fold[rows] != exclude[k])),
                          (shared[k], mean, sw[rows])]:
            a = expit(Xs @ t[:4] + t[4])
            ref = weighted_gram(Xs, w * a * (1 - a) / w.sum(), True)
            ref[np.arange(4), np.arange(4)] += alpha[k]
            # spd_ridge adds 1e-10 of each diagonal entry
            np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-14)


def _sk_scores(scoring, Z, y, sw):
    """scikit-learn's own scorers on the probabilities of predict_proba (P(0) as
    expit(-z): as 1 - expit(z) it would lose its relative accuracy where it is tiny)."""
    if scoring == "neg_log_loss":
        return -log_loss(y, np.column_stack([expit(-Z), expit(Z)]), sample_weight=sw,
                         labels=[0, 1])
    return accuracy_score(y, (Z > 0).astype(int), sample_weight=sw)


@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_direct_scores_equal_scikit_learns_scorers(monkeypatch, scoring, weighted, sparse):
    rng = np.random.default_rng(3)
    m, n, F, L, nC = 700, 4, 3, 2, 3
    X = rng.normal(size=(m, n))
    X[:5] *= 60  # decision values beyond +-36: P clipped to [eps, 1 - eps]
    y = (rng.random(m) < 0.4).astype(np.intp)
    sw = rng.uniform(0.2, 3.0, m) if weighted else None
    Xin = sp.csr_matrix(X) if sparse else X
    folds = list(KFold(F, shuffle=True, random_state=0).split(X))
    paths = rng.normal(size=(F, L, nC, 1, n + 1))
    paths[:, 1, 2] = paths[:, 0, 1]  # the same model twice: exactly the same score
    monkeypatch.setattr("vlogreg._cvscores.CHUNK_BYTES", 8 * n * 50)  # several chunks per fold
    out = direct_scores(scoring, paths, folds, Xin, y, sw, True, n_threads=2)
    for i, (_, te) in enumerate(folds):
        for j in range(L):
            for c in range(nC):
                w = paths[i, j, c, 0]
                ref = _sk_scores(scoring, X[te] @ w[:n] + w[n], y[te],
                                 None if sw is None else sw[te])
                np.testing.assert_allclose(out[i, j, c], ref, rtol=1e-9)
    np.testing.assert_array_equal(out[:, 1, 2], out[:, 0, 1])


def test_cs_whose_fits_stop_at_the_previous_solution_tie_and_the_first_is_chosen():
    # large C on easy data: the warm start already meets tol, so those Cs repeat the
    # previous C's coefficients; their scores must tie exactly, and scikit-learn's rule
    # (the first of the best) picks the smallest of them, whatever the rounding
    X, y = make_classification(4000, 6, n_informative=4, random_state=0)
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    est = LogisticRegressionCV(Cs=np.logspace(-4, 4, 10), cv=folds, l1_ratios=(0,),
                               scoring="neg_log_loss", tol=1e-4,
                               use_legacy_attributes=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        est.fit(X, y)
    cp, sc = est.coefs_paths_[:, 0, :, 0], est.scores_[:, 0]  # (folds, Cs, dof), (folds, Cs)
    same = np.all(cp[:, 1:] == cp[:, :-1], axis=(0, 2))  # C_c repeats C_{c-1} in every fold
    assert same.any()
    for c in np.flatnonzero(same) + 1:
        np.testing.assert_array_equal(sc[:, c], sc[:, c - 1])
    mean = sc.mean(axis=0)
    assert est.C_ == est.Cs_[np.flatnonzero(mean == mean.max())[0]]


def test_batched_refit_equals_an_independent_fit_with_weights():
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = make_classification(800, 6, n_informative=4, weights=[0.7], random_state=2)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    est = LogisticRegressionCV(Cs=5, cv=4, l1_ratios=(0,), scoring="neg_log_loss",
                               class_weight={0: 1.0, 1: 2.5}, tol=1e-10, max_iter=1000,
                               use_legacy_attributes=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        est.fit(X, y, sample_weight=sw)
    assert est.batched_ and est.converged_
    ref = SkLR(C=est.C_, class_weight={0: 1.0, 1: 2.5}, tol=1e-12, max_iter=10_000).fit(
        X, y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)


def test_solve_grid_from_a_solution_takes_no_step_and_checks_theta0():
    from vlogreg._regpath import prepare_grid_data, solve_grid

    X, y, sw, _ = _problem()
    data = prepare_grid_data(X, y, sw)
    first = solve_grid(data, [0.5], tol=1e-9, max_iter=500)
    theta = first.coefs[0, 0, 0]
    again = solve_grid(data, [0.5], tol=1e-9, theta0=theta)
    assert first.converged.all() and again.n_iter[0, 0] == 0
    np.testing.assert_array_equal(again.coefs[0, 0, 0], theta)
    with pytest.raises(ValueError, match="theta0 of shape"):
        solve_grid(data, [0.5], theta0=theta[:-1])
