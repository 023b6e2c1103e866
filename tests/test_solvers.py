"""Solvers: each reaches the optimum that scipy.optimize finds for the same objective,
written independently here; SolverResult, callbacks, stopping, and the course's fixed step."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special as ss
from scipy.optimize import minimize

from vlogreg import LogisticObjective, SolverResult, course
from vlogreg.solvers import SOLVERS, IterationState

ALL = list(SOLVERS)
L1_SOLVERS = ["gd", "agd", "lbfgs"]
M, N, K3 = 120, 4, 3
ALPHA = 0.05


# --------------------------------------------------------------------------- data, oracle
def make_data(n_classes, seed=0, m=M, n=N):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) * rng.uniform(0.5, 2.0, n)
    X[:, -1] = rng.standard_normal(m)  # a pure-noise feature: L1 zeroes it
    if n_classes == 2:
        y = (X[:, 0] - X[:, 1] + 0.3 + rng.logistic(size=m) > 0).astype(float)
    else:
        scores = X[:, :2] @ rng.standard_normal((2, n_classes)) + rng.gumbel(size=(m, n_classes))
        y = scores.argmax(axis=1)
    return X, y


def smooth_ref(X, y, n_classes, alpha, theta):
    """(1/m) sum loss_i + alpha/2 ||W||^2 and its gradient; theta = [W.ravel(), b]."""
    m, n = X.shape
    k = n_classes if n_classes > 2 else 1
    W = theta[: n * k].reshape(n, k)
    b = theta[n * k:]
    Z = X @ W + b
    if n_classes == 2:
        z = Z[:, 0]
        f = np.mean(np.logaddexp(0.0, z) - y * z)
        dZ = (ss.expit(z) - y)[:, None] / m
    else:
        onehot = np.eye(n_classes)[y]
        f = np.mean(ss.logsumexp(Z, axis=1) - (Z * onehot).sum(axis=1))
        dZ = (ss.softmax(Z, axis=1) - onehot) / m
    f += 0.5 * alpha * np.sum(W**2)
    return f, np.concatenate([(X.T @ dZ + alpha * W).ravel(), dZ.sum(axis=0)])


def oracle_l2(X, y, n_classes, alpha):
    k = n_classes if n_classes > 2 else 1
    p = (X.shape[1] + 1) * k
    res = minimize(lambda t: smooth_ref(X, y, n_classes, alpha, t), np.zeros(p), jac=True,
                   method="L-BFGS-B",
                   options=dict(gtol=1e-12, ftol=1e-15, maxiter=10_000, maxcor=30))
    assert np.max(np.abs(res.jac)) < 1e-8, res  # the oracle itself is at an optimum
    return res.x, res.fun


def oracle_l1(X, y, n_classes, alpha, l1):
    """min f(w, b) + l1 ||w||_1 as min f(u - v, b) + l1 sum(u + v) over u, v >= 0."""
    k = n_classes if n_classes > 2 else 1
    nc = X.shape[1] * k

    def theta_of(x):
        return np.concatenate([x[:nc] - x[nc:2 * nc], x[2 * nc:]])

    def fun(x):
        f, g = smooth_ref(X, y, n_classes, alpha, theta_of(x))
        gw = g[:nc]
        return f + l1 * x[:2 * nc].sum(), np.concatenate([gw + l1, -gw + l1, g[nc:]])

    bounds = [(0, None)] * (2 * nc) + [(None, None)] * k
    res = minimize(fun, np.zeros(2 * nc + k), jac=True, method="L-BFGS-B", bounds=bounds,
                   options=dict(gtol=1e-12, ftol=1e-15, maxiter=10_000, maxcor=30))
    theta = theta_of(res.x)
    # KKT of the oracle's answer: |g_j| <= l1 where w_j = 0, g_j = -l1 sign(w_j) elsewhere
    _, g = smooth_ref(X, y, n_classes, alpha, theta)
    w, gw = theta[:nc], g[:nc]
    nz = np.abs(w) > 1e-10
    assert np.all(np.abs(gw[~nz]) <= l1 + 1e-8)
    np.testing.assert_allclose(gw[nz], -l1 * np.sign(w[nz]), atol=1e-7)
    np.testing.assert_allclose(g[nc:], 0, atol=1e-8)
    return theta, fun(res.x)[0]


def centered(theta, n_classes):
    """Multinomial intercepts are defined up to a common constant: remove it."""
    theta = theta.copy()
    if n_classes > 2:
        theta[N * n_classes:] -= theta[N * n_classes:].mean()
    return theta


def total(obj, theta):
    return obj.value(theta) + obj.l1_value(theta)


TIGHT = dict(tol=1e-8, max_iter=20_000)


# --------------------------------------------------------------------------- optimum
@pytest.mark.parametrize("n_classes", [2, K3])
@pytest.mark.parametrize("solver", ALL)
def test_reaches_scipy_optimum_l2(solver, n_classes):
    X, y = make_data(n_classes)
    obj = LogisticObjective(X, y, alpha=ALPHA, n_classes=n_classes)
    theta_ref, f_ref = oracle_l2(X, y, n_classes, ALPHA)
    # the oracle's function and the library's objective are the same function
    np.testing.assert_allclose(obj.value(theta_ref), f_ref, rtol=1e-13)
    res = SOLVERS[solver](obj, **TIGHT)
    assert isinstance(res, SolverResult)
    assert res.converged, res.message
    assert abs(total(obj, res.theta) - f_ref) <= 1e-6 * abs(f_ref)
    assert total(obj, res.theta) >= f_ref - 1e-12 * abs(f_ref)  # no one beats the optimum
    np.testing.assert_allclose(centered(res.theta, n_classes), centered(theta_ref, n_classes),
                               rtol=0, atol=1e-5)


@pytest.mark.parametrize("n_classes, alpha, l1", [(2, ALPHA, 0.02), (2, 0.0, 0.03),
                                                  (K3, ALPHA, 0.02)])
@pytest.mark.parametrize("solver", L1_SOLVERS)
def test_reaches_scipy_optimum_l1(solver, n_classes, alpha, l1):
    X, y = make_data(n_classes, seed=1)
    obj = LogisticObjective(X, y, alpha=alpha, l1=l1, n_classes=n_classes)
    theta_ref, F_ref = oracle_l1(X, y, n_classes, alpha, l1)
    np.testing.assert_allclose(total(obj, theta_ref), F_ref, rtol=1e-13)
    nc = N * (n_classes if n_classes > 2 else 1)
    assert np.any(np.abs(theta_ref[:nc]) < 1e-10), "the test wants some exact zeros"
    res = SOLVERS[solver](obj, **TIGHT)
    F = total(obj, res.theta)
    assert abs(F - F_ref) <= 1e-6 * abs(F_ref)
    assert F >= F_ref - 1e-12 * abs(F_ref)
    np.testing.assert_allclose(res.loss, F, rtol=1e-12)
    np.testing.assert_allclose(centered(res.theta, n_classes), centered(theta_ref, n_classes),
                               rtol=0, atol=1e-4)
    # the coefficients that the oracle sets to zero are (numerically) zero here too
    zero = np.abs(theta_ref[:nc]) < 1e-10
    assert np.all(np.abs(res.theta[:nc][zero]) < 1e-6)


@pytest.mark.parametrize("solver", ALL)
def test_sparse_and_float32_reach_the_same_optimum(solver):
    X, y = make_data(2, seed=2)
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.5] = 0.0
    theta_ref, f_ref = oracle_l2(Xs, y, 2, ALPHA)
    for Xl in (sp.csr_matrix(Xs), Xs.astype(np.float32)):
        obj = LogisticObjective(Xl, y, alpha=ALPHA)
        res = SOLVERS[solver](obj, tol=1e-6, max_iter=20_000)
        tol = 1e-6 if Xl.dtype == np.float64 else 1e-5  # float32 data: 1e-5 relative
        assert abs(total(obj, res.theta) - f_ref) <= tol * abs(f_ref)


# --------------------------------------------------------------------------- SolverResult
@pytest.mark.parametrize("n_classes", [2, K3])
@pytest.mark.parametrize("solver", ALL)
def test_result_fields(solver, n_classes):
    X, y = make_data(n_classes)
    obj = LogisticObjective(X, y, alpha=ALPHA, n_classes=n_classes)
    res = SOLVERS[solver](obj, tol=1e-6)
    assert res.theta.shape == (obj.n_params,) and res.theta.dtype == np.float64
    coef, intercept = obj.unpack(res.theta)
    np.testing.assert_array_equal(res.coef, coef)
    if n_classes == 2:
        assert res.coef.shape == (N,) and isinstance(res.intercept, float)
    else:
        assert res.coef.shape == (N, K3) and np.shape(res.intercept) == (K3,)
    np.testing.assert_array_equal(np.atleast_1d(res.intercept), res.theta[obj.n_coef:])
    assert isinstance(res.n_iter, int) and res.n_iter >= 1
    assert res.converged is True and res.message == "converged"
    assert res.grad_norm <= 1e-6
    np.testing.assert_allclose(res.grad_norm, np.max(np.abs(obj.grad(res.theta))), rtol=1e-9)
    h = res.loss_history
    assert len(h) == res.n_iter + 1
    np.testing.assert_allclose(h[0], obj.value(obj.zeros()), rtol=1e-12)
    np.testing.assert_allclose(h[-1], res.loss, rtol=1e-12)
    assert isinstance(res.n_evals, int) and res.n_evals >= res.n_iter



@pytest.mark.parametrize("solver, n_classes", [
    ("gd", 2), ("gd", K3), ("agd", 2), ("agd", K3),
    ("lbfgs", 2), ("lbfgs", K3), ("newton", 2), ("newton", K3)])
def test_result_loss_is_the_objective_at_theta(solver, n_classes):
    X, y = make_data(n_classes)
    obj = LogisticObjective(X, y, alpha=ALPHA, n_classes=n_classes)
    res = SOLVERS[solver](obj, tol=1e-6)
    assert res.converged
    np.testing.assert_allclose(res.loss, total(obj, res.theta), rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, K3])
@pytest.mark.parametrize("solver, l1", [("gd", 0.0), ("gd", 0.02), ("newton", 0.0)])
def test_loss_history_non_increasing(solver, n_classes, l1):
    X, y = make_data(n_classes, seed=3)
    obj = LogisticObjective(X, y, alpha=ALPHA, l1=l1, n_classes=n_classes)
    h = np.array(SOLVERS[solver](obj, **TIGHT).loss_history)
    assert len(h) > 2
    # the line searches accept f_new <= model + 1e-12 |f| (gd) / + 1e-13 |f| (newton): a
    # rounding-level slack, which is all the increase there may be
    assert np.all(np.diff(h) <= 1e-12 * np.abs(h[:-1])), np.diff(h).max()
    assert h[-1] < h[0]


@pytest.mark.parametrize("solver", ["gd", "agd", "lbfgs"])
def test_n_evals_counts_the_objectives_loss_evaluations(solver):
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=ALPHA)
    before = obj.n_evals
    res = SOLVERS[solver](obj, tol=1e-6)
    assert res.n_evals == obj.n_evals - before


def test_newton_n_evals_includes_hessian_passes():
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=ALPHA)
    before = obj.n_evals
    res = SOLVERS["newton"](obj, tol=1e-6)
    # loss passes, plus one Hessian pass per iteration (its curvature computed in the
    # same read of X, block by block)
    assert res.n_evals == obj.n_evals - before + res.n_iter


# --------------------------------------------------------------------------- callback, stop
@pytest.mark.parametrize("solver", ALL)
def test_callback_is_called_every_iteration(solver):
    X, y = make_data(K3)
    obj = LogisticObjective(X, y, alpha=ALPHA, n_classes=K3)
    states, losses_at_call = [], []

    def record(state):
        states.append(state)
        losses_at_call.append(total(obj, state.theta))  # evaluated now, not afterwards

    res = SOLVERS[solver](obj, tol=1e-6, callback=record)
    assert res.converged
    assert [s.n_iter for s in states] == list(range(1, res.n_iter + 1))
    assert all(isinstance(s, IterationState) for s in states)
    assert all(s.theta.shape == (obj.n_params,) for s in states)
    np.testing.assert_allclose([s.loss for s in states], losses_at_call, rtol=1e-12)
    np.testing.assert_allclose([s.loss for s in states], res.loss_history[1:], rtol=1e-12)


@pytest.mark.parametrize("solver", ["gd", "agd", "newton", "lbfgs"])
def test_callback_states_keep_their_own_theta(solver):
    X, y = make_data(K3)
    obj = LogisticObjective(X, y, alpha=ALPHA, n_classes=K3)
    states, thetas_at_call = [], []

    def record(state):
        states.append(state)
        thetas_at_call.append(state.theta.copy())

    SOLVERS[solver](obj, tol=1e-6, callback=record)
    assert len(states) >= 2
    for s, t in zip(states, thetas_at_call):
        np.testing.assert_array_equal(s.theta, t)


@pytest.mark.parametrize("solver", ALL)
def test_callback_returning_true_stops_early(solver):
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=1e-4)  # weak penalty: many iterations to converge
    calls = []

    def stop_at_two(state):
        calls.append(state.n_iter)
        return state.n_iter >= 2

    res = SOLVERS[solver](obj, tol=1e-12, max_iter=1000, callback=stop_at_two)
    assert calls == [1, 2]
    assert res.n_iter == 2
    assert not res.converged
    assert res.message == "stopped by callback"
    assert len(res.loss_history) == 3


@pytest.mark.parametrize("solver", ALL)
def test_max_iter_reached_is_reported(solver):
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=1e-4)
    res = SOLVERS[solver](obj, tol=1e-14, max_iter=3)
    assert res.n_iter <= 3
    assert not res.converged


@pytest.mark.parametrize("solver", ["gd", "agd", "newton", "lbfgs"])
def test_max_iter_zero_returns_the_start(solver):
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=ALPHA)
    theta0 = np.random.default_rng(4).standard_normal(obj.n_params)
    keep = theta0.copy()
    res = SOLVERS[solver](obj, theta0, max_iter=0)
    np.testing.assert_array_equal(theta0, keep)  # the caller's start is not modified
    np.testing.assert_array_equal(res.theta, theta0)
    assert res.n_iter == 0
    assert not res.converged
    np.testing.assert_allclose(res.loss, obj.value(theta0), rtol=1e-12)


@pytest.mark.parametrize("solver", ALL)
def test_start_at_the_optimum_converges_immediately(solver):
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=ALPHA)
    theta_ref, _ = oracle_l2(X, y, 2, ALPHA)
    res = SOLVERS[solver](obj, theta_ref, tol=1e-6)
    assert res.converged
    assert res.n_iter <= 1
    np.testing.assert_allclose(res.theta, theta_ref, atol=1e-6)


@pytest.mark.parametrize("solver", ALL)
@pytest.mark.parametrize("kw, match", [(dict(tol=-1.0), r"tol must be a non-negative number"),
                                       (dict(tol=float("nan")), r"tol must be"),
                                       (dict(max_iter=-1), r"max_iter must be a non-negative"),
                                       (dict(max_iter=2.5), r"max_iter must be")])
def test_bad_tol_and_max_iter(solver, kw, match):
    X, y = make_data(2)
    with pytest.raises(ValueError, match=match):
        SOLVERS[solver](LogisticObjective(X, y), **kw)


def test_newton_refuses_l1():
    X, y = make_data(2)
    obj = LogisticObjective(X, y, alpha=ALPHA, l1=0.01)
    with pytest.raises(ValueError, match=r"newton.*L1.*lbfgs"):
        SOLVERS["newton"](obj)


# --------------------------------------------------------------------------- fixed step
def test_fixed_learning_rate_gd_is_the_course():
    X, y = make_data(2, seed=5, m=50)
    obj = LogisticObjective(X, y)  # alpha = 0, intercept: the course's objective
    n_iter, lr = 250, 0.3
    res = SOLVERS["gd"](obj, learning_rate=lr, tol=0.0, max_iter=n_iter)
    assert res.n_iter == n_iter
    w0, b0 = course.initialize_with_zeros(N)
    params, _, costs = course.optimize(w0, b0, X.T, y.reshape(1, -1), num_iterations=n_iter,
                                       learning_rate=lr)
    np.testing.assert_allclose(res.coef, params["w"].ravel(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.intercept, params["b"], rtol=1e-12, atol=1e-14)
    # the course records the cost before iterations 0, 100, 200: history[0], [100], [200]
    np.testing.assert_allclose(res.loss_history[0:n_iter:100], costs, rtol=1e-12)


def test_fixed_learning_rate_too_large_is_reported_not_hidden():
    X, y = make_data(2, seed=6)
    obj = LogisticObjective(X, y, alpha=ALPHA)
    res = SOLVERS["gd"](obj, learning_rate=1e3, tol=1e-8, max_iter=200)
    assert not res.converged


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_fixed_learning_rate_must_be_positive(lr):
    X, y = make_data(2)
    with pytest.raises(ValueError, match=r"learning_rate must be a positive number"):
        SOLVERS["gd"](LogisticObjective(X, y), learning_rate=lr)
