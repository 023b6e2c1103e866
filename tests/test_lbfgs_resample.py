"""L-BFGS's second preconditioner: the Hessian at its first point, sampled on the bound's
rows (``hessian_bound(theta=...)``), and the Dask setup that answers the solver's first
requests from the one read that checks X.

The sampled Hessian is checked against its formula written here (scipy's ``expit``, the
strided rows, the weights), the solver's use of it against the same solver without it
(same optimum, a better first step, the reads counted row by row), and the Dask fit
that uses it (plain threads scheduler: no ``distributed.Client``) against the in-memory
fit, with chunks of unequal sizes, sample weights and an intercept. The same on a
LocalCluster is in tests/test_dask.py.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from _fit_helpers import assert_same_fit, fit
from scipy.special import expit
from test_passes import counting

from vlogreg import LogisticObjective
from vlogreg.objective.protocol import BOUND_MAX_ROWS
from vlogreg.objective.standardized import StandardizedObjective
from vlogreg.solvers import SOLVERS

# the module (vlogreg.solvers exports the function of the same name)
lbfgs_module = importlib.import_module("vlogreg.solvers.lbfgs")

#: rows and columns where the sampled Hessian pays (BOUND_MAX_ROWS * p1 <= m, p1 = 3)
M, N = 100_000, 2


def make_data(m=M, n=N, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((m, n)) * rng.uniform(0.5, 2.0, n)).astype(dtype)
    y = (X @ np.linspace(1.5, -1.0, n) + 0.3 + rng.logistic(size=m) > 0).astype(int)
    sw = rng.uniform(0.0, 2.0, m)
    return X, y, sw


def sampled_hessian(X, y, sw, theta, alpha, fit_intercept, max_rows):
    """The formula: rows ``::step`` of X, ``d = s a (1 - a) / sum(s)`` over them."""
    step = -(-X.shape[0] // max_rows)
    Xs, ss = X[::step].astype(np.float64), sw[::step]
    n = X.shape[1]
    a = expit(Xs @ theta[:n] + (theta[n] if fit_intercept else 0.0))
    d = ss * a * (1 - a) / ss.sum()
    Xt = np.hstack([Xs, np.ones((len(Xs), 1))]) if fit_intercept else Xs
    H = Xt.T @ (d[:, None] * Xt)
    H[np.arange(n), np.arange(n)] += alpha
    return H


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sampled_hessian_is_its_formula(dtype, fit_intercept):
    X, y, sw = make_data(m=5003, n=4, dtype=dtype)
    sw = sw.astype(dtype).astype(np.float64)  # the objective keeps them in X's dtype
    obj = LogisticObjective(X, y, sw, alpha=0.01, fit_intercept=fit_intercept)
    theta = np.linspace(-0.8, 0.6, obj.n_params)
    for max_rows in (700, 5003):  # every 8th row; every row
        want = sampled_hessian(X, y, sw, theta, 0.01, fit_intercept, max_rows)
        got = obj.hessian_bound(max_rows=max_rows, ridge=False, theta=theta)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        diag = obj.hessian_bound(max_rows=max_rows, max_dense=1, ridge=False, theta=theta)
        np.testing.assert_allclose(diag, np.diag(want), rtol=1e-12, atol=1e-15)
    # every row: the Hessian itself (hessian's own code, which computes z and a in X's
    # dtype: float32's rounding there; the sample is in float64, as the bound's)
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(obj.hessian_bound(max_rows=5003, ridge=False, theta=theta),
                               obj.hessian(theta), rtol=rtol, atol=rtol * 1e-3)


def test_standardized_sampled_hessian_is_its_hessian():
    X, y, sw = make_data(m=3000, n=4, seed=2)
    X = X * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -2.0, 1.0]
    inner = LogisticObjective(X, y, sw, alpha=0.0, fit_intercept=True)
    obj = StandardizedObjective(inner, X.mean(axis=0), X.std(axis=0), alpha=0.02)
    theta = np.linspace(-0.5, 0.5, obj.n_params)
    np.testing.assert_allclose(obj.hessian_bound(ridge=False, theta=theta),
                               obj.hessian(theta), rtol=1e-10, atol=1e-13)


def _fit(X, y, sw, resample, monkeypatch, **kw):
    """lbfgs on the in-memory objective; ``resample=False`` never re-whitens."""
    with monkeypatch.context() as mp:
        if not resample:
            mp.setattr(lbfgs_module, "_resamples", lambda objective: False)
        Xc = counting(X)
        obj = LogisticObjective(Xc, y, sw, alpha=1e-4, fit_intercept=True, kernel="numpy")
        seen = []
        bound = obj.hessian_bound
        obj.hessian_bound = lambda **a: (seen.append(a.get("theta")), bound(**a))[1]
        res = SOLVERS["lbfgs"](obj, tol=1e-10, max_iter=100, **kw)
        return res, seen, Xc.rows[0]


def test_lbfgs_rewhitens_after_its_newton_step(monkeypatch):
    X, y, sw = make_data()
    res, seen, rows = _fit(X, y, sw, True, monkeypatch)
    ref, ref_seen, _ = _fit(X, y, sw, False, monkeypatch)
    assert res.converged and ref.converged
    np.testing.assert_allclose(res.theta, ref.theta, rtol=0, atol=1e-8)
    # the bound at zero, then the Hessian at the Newton step's point
    assert ref_seen == [None]
    assert seen[0] is None and len(seen) == 2 and np.any(seen[1])
    # the first step in its coordinates is a (subsampled) Newton step: after it, and
    # after the next two, the objective is closer to the optimum than with the bound's
    # coordinates (loss_history[0]: theta = 0; the Newton step's point is no iterate)
    f_opt = min(res.loss, ref.loss)
    gaps = np.array(res.loss_history[1:4]) - f_opt
    ref_gaps = np.array(ref.loss_history[1:4]) - f_opt
    assert np.all(gaps < ref_gaps) and gaps[0] < 0.5 * ref_gaps[0]
    # every read is counted: the sample's rows too, as a share of one pass
    assert res.n_passes * M == pytest.approx(rows)
    assert res.passes["bound"] == pytest.approx(2 * len(X[::-(-M // BOUND_MAX_ROWS)]) / M)


def test_lbfgs_does_not_resample_where_it_costs_more_than_a_pass(monkeypatch):
    X, y, sw = make_data(m=BOUND_MAX_ROWS * 3 - 1)  # one row short of paying
    _, seen, _ = _fit(X, y, sw, True, monkeypatch)
    assert seen == [None]
    # nor with a warm start (no Newton step from zero) or an L1 part
    X, y, sw = make_data()
    _, seen, _ = _fit(X, y, sw, True, monkeypatch, theta0=np.full(N + 1, 0.1))
    assert seen == [None]


# ------------------------------------------------------- Dask without a distributed Client
da = pytest.importorskip("dask.array")


@pytest.fixture
def threads():
    import dask

    with dask.config.set(scheduler="threads"):
        yield


class Computes:
    """Counts the graphs the local schedulers run (one per compute / persist)."""

    def __init__(self):
        from dask.callbacks import Callback

        self.n = 0
        self.callback = Callback(start=lambda dsk: setattr(self, "n", self.n + 1))


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_threads_setup_is_one_read_and_answers_the_first_requests(threads, class_weight):
    from vlogreg import LogisticRegression
    from vlogreg.backends import dask as _dask
    from vlogreg.backends import dask_setup

    X, y, sw = make_data(m=20_000, n=3, seed=4)
    chunks = ((7000, 3000, 10000), (3,))
    est = LogisticRegression(solver="lbfgs", class_weight=class_weight)
    count, stats = Computes(), []
    real = dask_setup.stats
    with count.callback, pytest.MonkeyPatch.context() as mp:
        mp.setattr(dask_setup, "stats", lambda *a: (stats.append(1), real(*a))[1])
        obj = _dask.prepare(da.from_array(X, chunks=chunks), y, sw,
                            est._fit_spec()).objective
        # persist (X, y, w), the stats (one task per chunk), persist (labels, weights)
        assert count.n == 3 and len(stats) == 3
        before = obj.n_evals
        P = obj.hessian_bound()
        f, g = obj.value_and_grad(obj.zeros())
        assert count.n == 3 and obj.n_evals == before  # both came with the stats
        theta = np.linspace(-0.2, 0.3, obj.n_params)
        obj.expect("hessian_bound", theta)
        obj.value_and_grad(theta)
        H = obj.hessian_bound(theta=theta)
        assert count.n == 4  # the sampled Hessian rode in that pass
    mem = LogisticRegression(solver="lbfgs", class_weight=class_weight)
    from vlogreg.backends import memory

    ref = memory.prepare(X, y, sw, mem._fit_spec()).objective
    np.testing.assert_allclose(P, ref.hessian_bound(), rtol=1e-11)
    np.testing.assert_allclose(g, ref.grad(ref.zeros()), rtol=1e-11, atol=1e-15)
    assert float(f) == pytest.approx(ref.value(ref.zeros()), rel=1e-13)
    np.testing.assert_allclose(H, ref.hessian_bound(theta=theta), rtol=1e-11)


def test_threads_fit_with_rewhitening_equals_in_memory(threads, monkeypatch):
    X, y, sw = make_data(seed=5)
    calls = []
    real = lbfgs_module._rewhiten
    monkeypatch.setattr(lbfgs_module, "_rewhiten",
                        lambda *a: (calls.append(1), real(*a))[1])
    kw = dict(solver="lbfgs", tol=1e-10, max_iter=200, C=10.0)
    ref = fit(X, y, sw, **kw)
    chunks = ((30_000, 45_000, 25_000), (N,))
    got = fit(da.from_array(X, chunks=chunks), da.from_array(y, chunks=40_000),
              da.from_array(sw, chunks=chunks[0]), **kw)
    assert calls == [1, 1]  # both fits re-whitened after their Newton step
    assert_same_fit(ref, got)
    assert got.n_iter_[0] == ref.n_iter_[0]
