"""The one stopping rule (issue #15, item 5, and the badly scaled columns of the
hostile-inputs issue; item 7, agd against gd).

``converged_`` is True exactly when the max-norm of the true gradient of the mean
objective at the returned coefficients is at most ``stop_tol(tol, dtype)``, and a
ConvergenceWarning is raised exactly when it is False. The gradient is recomputed here
independently (plain NumPy on the problem as posed), never read from the solver.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg.solvers import stop_tol, tol_floor

SOLVERS = ["gd", "agd", "lbfgs", "newton"]


def _true_gradient(X, y, coef, intercept, C, sw=None):
    """Gradient of ``(1/S) sum_i s_i logloss_i + ||w||^2 / (2 C S)`` (binary, L2), in
    float64, with its (p,) entries ``[dw, db]``."""
    X = np.asarray(X, dtype=np.float64)
    w = np.asarray(coef, dtype=np.float64).ravel()
    b = float(np.asarray(intercept, dtype=np.float64)[0])
    s = np.ones(len(y)) if sw is None else np.asarray(sw, dtype=np.float64)
    S = s.sum()
    z = X @ w + b
    dz = s * (0.5 * (1 + np.tanh(z / 2)) - y) / S  # sigmoid(z) - y, stably
    return np.concatenate([X.T @ dz + w / (C * S), [dz.sum()]])


def _fit(est, X, y, sw=None):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est.fit(X, y, sample_weight=sw)
    return est, [w for w in rec if issubclass(w.category, ConvergenceWarning)]


def _bc(raw=False):
    X, y = load_breast_cancer(return_X_y=True)
    return (X if raw else StandardScaler().fit_transform(X)), y


def test_floor_per_dtype():
    assert tol_floor(np.float64) == 32 * np.finfo(np.float64).eps
    assert tol_floor(np.float32) == 32 * np.finfo(np.float32).eps
    assert stop_tol(1e-12, np.float32) == tol_floor(np.float32)
    assert stop_tol(1e-12, np.float64) == 1e-12  # float64 resolves it: kept


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tol, max_iter", [(1e-4, 100), (1e-8, 300), (1e-12, 500),
                                           (1e-12, 5)])
def test_converged_and_the_warning_tell_the_truth(solver, dtype, tol, max_iter):
    X, y = _bc()
    X = X.astype(dtype)
    est, caught = _fit(LogisticRegression(C=1.0, solver=solver, tol=tol,
                                          max_iter=max_iter), X, y)
    g = np.max(np.abs(_true_gradient(X, y, est.coef_, est.intercept_, 1.0)))
    # float32: the solver's gradient is computed in float32 arithmetic, this one in
    # float64 on the same data: they differ by the rounding of z (~1e-7 here)
    slack = 0.0 if dtype == np.float64 else 1e-6
    assert est.converged_ == (not caught)
    if est.converged_:
        assert g <= stop_tol(tol, dtype) * (1 + 1e-6) + slack
    else:
        assert g > stop_tol(tol, dtype) - slack


@pytest.mark.parametrize("name", ["breast cancer", "iris 0 vs rest"])
def test_lbfgs_reaches_tol_1e_12(name):
    """The issue: lbfgs said converged_=True, silently, at a gradient of 8e-9."""
    X, y = _bc() if name == "breast cancer" else load_iris(return_X_y=True)
    if name != "breast cancer":
        y = (y == 0).astype(int) + (y == 1)  # two classes, not separable
    est, caught = _fit(LogisticRegression(solver="lbfgs", tol=1e-12, max_iter=1000), X, y)
    g = np.max(np.abs(_true_gradient(X, y, est.coef_, est.intercept_, 1.0)))
    assert est.converged_ and not caught
    assert g <= 1e-12


def test_float32_below_its_floor_converges_silently():
    """The issue's reproduction: iris as float32, C=1e-2, tol=1e-12, sample weights,
    warned after 13 iterations though 3.3e-6 from the float64 optimum."""
    from sklearn.linear_model import LogisticRegression as SkLR

    X, y = load_iris(return_X_y=True)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    kw = dict(C=1e-2, tol=1e-12, max_iter=500)
    est, caught = _fit(LogisticRegression(solver="lbfgs", **kw), X.astype(np.float32), y, sw)
    assert est.converged_ and not caught
    ref = LogisticRegression(solver="newton", **kw).fit(X, y, sample_weight=sw)  # float64
    theirs = SkLR(solver="lbfgs", **kw).fit(X.astype(np.float32), y, sample_weight=sw)
    ours_err = np.max(np.abs(est.coef_ - ref.coef_))
    assert ours_err < 1e-5
    assert ours_err <= np.max(np.abs(theirs.coef_ - ref.coef_))


def test_badly_scaled_columns_checked_on_the_true_gradient():
    """Columns scaled 1e12, 1e-12 and 1, no penalty, lbfgs, tol=1e-8: converged_ must
    describe the true gradient (preconditioning aside), and the fit must reach the
    optimum, which is the same for any column scaling (fitted here on unit columns)."""
    rng = np.random.default_rng(0)
    scale = np.array([1e12, 1e-12, 1.0])
    U = rng.standard_normal((200, 3))
    y = (U @ [1.0, -1.0, 0.5] + rng.logistic(size=200) > 0).astype(int)
    X = U * scale
    est, caught = _fit(LogisticRegression(C=np.inf, solver="lbfgs", tol=1e-8,
                                          max_iter=1000), X, y)
    ref = LogisticRegression(C=np.inf, solver="newton", tol=1e-12).fit(U, y)

    def loss(coef, intercept, X):
        z = X @ np.ravel(coef) + intercept[0]
        return float(np.sum(np.logaddexp(0, z) - y * z))

    g = np.max(np.abs(_true_gradient(X, y, est.coef_, est.intercept_, np.inf)))
    assert est.converged_ == (g <= 1e-8) == (not caught)
    assert loss(est.coef_, est.intercept_, X) <= loss(ref.coef_, ref.intercept_, U) + 1e-9
    np.testing.assert_allclose(est.coef_ * scale, ref.coef_, rtol=1e-5)


# ----------------------------------------------------------------- 7. agd vs gd
def _problems():
    bc = _bc()
    Xi, yi = load_iris(return_X_y=True)
    Xm, ym = make_classification(500, 20, n_informative=5, random_state=0)
    X3, y3 = make_classification(300, 10, n_informative=4, n_classes=3, random_state=1)
    return {"breast cancer": bc, "iris": (StandardScaler().fit_transform(Xi), yi),
            "make_classification": (Xm, ym), "3 classes": (X3, y3)}


@pytest.mark.parametrize("tol", [1e-6, 1e-12])
@pytest.mark.parametrize("l1_ratio, C", [(1.0, 0.1), (0.5, 0.5), (0.0, 1.0)])
@pytest.mark.parametrize("name", list(_problems()))
def test_agd_never_needs_more_iterations_than_gd(name, l1_ratio, C, tol):
    X, y = _problems()[name]
    n = {}
    for solver in ("gd", "agd"):
        est, caught = _fit(LogisticRegression(solver=solver, l1_ratio=l1_ratio, C=C,
                                              tol=tol, max_iter=10_000), X, y)
        assert est.converged_ and not caught, (solver, est.n_iter_)
        n[solver] = est.n_iter_[0]
    assert n["agd"] <= n["gd"], n
