"""``LogisticRegression(standardize=True)`` against scikit-learn's pipeline, on every backend.

The oracle is ``make_pipeline(StandardScaler(), LogisticRegression(solver=
"newton-cholesky"))`` with its coefficients mapped back to the original columns,
``w = w~ / sigma``, ``b = b~ - mu . w``: vlogreg must give them (1e-8) without copying X,
for dense, sparse, Dask, out-of-core and array-API input, and the objective of the
standardized problem must be the one of the scaled copy of X (value, gradient,
Hessian, products), so that every solver sees the same problem.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.linear_model import LogisticRegression as SkLR
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg._spec import FitSpec
from vlogreg.backends import memory
from vlogreg.objective.standardized import StandardizedObjective

TOL = 1e-8


def _spector():
    d = sm.datasets.spector.load_pandas()
    return d.exog.to_numpy(float), d.endog.to_numpy().astype(int)


def _cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:, :10], y  # raw units: areas ~1e3 next to smoothness ~1e-1


def _wine():
    X, y = load_wine(return_X_y=True)
    return X, y  # 3 classes, raw units (proline ~1e3)


DATA = {"spector": _spector, "breast_cancer": _cancer, "wine": _wine}


def _pipeline(X, y, w=None, C=1.0, fit_intercept=True):
    """The sklearn pipeline's coefficients on the original scale."""
    sc = StandardScaler(with_mean=fit_intercept).fit(X, sample_weight=w)
    lr = SkLR(C=C, solver="newton-cholesky", tol=1e-14, max_iter=1000,
              fit_intercept=fit_intercept).fit(sc.transform(X), y, sample_weight=w)
    scale = sc.scale_ if sc.scale_ is not None else np.ones(X.shape[1])
    coef = lr.coef_ / scale
    mean = sc.mean_ if fit_intercept else np.zeros(X.shape[1])
    intercept = lr.intercept_ - coef @ mean if fit_intercept else np.zeros(len(coef))
    if coef.shape[0] > 1:  # vlogreg reports centred multinomial intercepts
        intercept = intercept - intercept.mean()
    return coef, intercept


def _fit(X, y, **kw):
    kw = {"tol": 1e-12, "max_iter": 1000, **kw}
    return LogisticRegression(standardize=True, **kw).fit(X, y)


def _close(model, coef, intercept, tol=TOL):
    scale = max(np.max(np.abs(coef)), np.max(np.abs(intercept)))
    np.testing.assert_allclose(model.coef_, coef, rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("name", DATA)
def test_equals_sklearn_pipeline(name):
    X, y = DATA[name]()
    model = _fit(X, y, solver="newton", C=0.5)
    coef, intercept = _pipeline(X, y, C=0.5)
    _close(model, coef, intercept)
    # predictions take the raw X
    np.testing.assert_allclose(model.decision_function(X),
                               (X @ coef.T + intercept).squeeze(), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("name", DATA)
@pytest.mark.parametrize("solver", ["lbfgs", "agd"])
def test_other_solvers_equal_the_fit_on_a_scaled_copy(name, solver):
    # L-BFGS and AGD stop ~1e-7 from the optimum whatever the scaling (their own
    # stopping rules); the same solver on the scaled copy must take the same path
    X, y = DATA[name]()
    sc = StandardScaler().fit(X)
    kw = {"solver": solver, "C": 0.5, "tol": 1e-10, "max_iter": 5000}
    copy = LogisticRegression(**kw).fit(sc.transform(X), y)
    coef = copy.coef_ / sc.scale_
    intercept = copy.intercept_ - coef @ sc.mean_
    _close(_fit(X, y, **kw), coef, intercept - (intercept.mean() if len(intercept) > 1
                                                else 0.0))


def test_sparse_is_never_densified_and_equals_dense():
    X, y = _cancer()
    X = X.copy()
    X[X < np.median(X, axis=0)] = 0.0  # half zeros: a sparse matrix worth the name
    model = _fit(sp.csr_matrix(X), y)
    _close(model, *_pipeline(X, y))
    assert isinstance(model.coef_, np.ndarray)
    _close(_fit(sp.csc_matrix(X), y), *_pipeline(X, y))


def test_sample_weight_weights_the_scales():
    X, y = _cancer()
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    model = LogisticRegression(standardize=True, tol=1e-12, max_iter=1000)
    model.fit(X, y, sample_weight=w)
    _close(model, *_pipeline(X, y, w))


def test_without_intercept_scales_but_does_not_centre():
    X, y = _spector()
    _close(_fit(X, y, fit_intercept=False), *_pipeline(X, y, fit_intercept=False))


def test_units_do_not_change_penalized_fit():
    # the example: with the default penalty, GPA's coefficient depends on its
    # units unless the penalty is scale-free
    X, y = _spector()
    Xk = X * np.array([1000.0, 1.0, 1.0])  # GPA in thousandths
    a, b = _fit(X, y), _fit(Xk, y)
    np.testing.assert_allclose(b.coef_[0] * [1000.0, 1.0, 1.0], a.coef_[0], rtol=1e-8)
    np.testing.assert_allclose(b.predict_proba(Xk), a.predict_proba(X), rtol=1e-8)
    raw = LogisticRegression(tol=1e-12).fit(X, y)
    rawk = LogisticRegression(tol=1e-12).fit(Xk, y)
    assert abs(rawk.coef_[0, 0] * 1000 / raw.coef_[0, 0] - 1) > 0.1  # not scale-free


def test_constant_column_gets_coefficient_zero():
    X, y = _cancer()
    X = np.column_stack([X, np.full(len(y), 7.0)])
    model = _fit(X, y)
    assert abs(model.coef_[0, -1]) < 1e-10  # 0 up to the rounding of 7 w - 7 w
    _close(model, *_pipeline(X, y))


def test_warm_start_and_float32():
    X, y = _cancer()
    model = LogisticRegression(standardize=True, warm_start=True, tol=1e-12, max_iter=1000)
    model.fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)  # starts at the solution: the same, in few iterations
    np.testing.assert_allclose(model.coef_, first, rtol=1e-9)
    assert model.n_iter_[0] <= 2
    m32 = _fit(X.astype(np.float32), y, tol=1e-6)  # float32: 1e-12 is below rounding
    assert m32.coef_.dtype == np.float32
    np.testing.assert_allclose(m32.coef_, first, rtol=2e-3)


def test_objective_equals_the_scaled_copy():
    X, y = _wine()
    spec = FitSpec(C=0.7, standardize=True)
    obj = memory.prepare(X, y, None, spec).objective
    assert isinstance(obj, StandardizedObjective)
    Xs = StandardScaler().fit_transform(X)
    ref = memory.prepare(Xs, y, None, FitSpec(C=0.7)).objective
    theta = np.random.default_rng(1).standard_normal(obj.n_params)
    v = np.random.default_rng(2).standard_normal(obj.n_params)
    f, g = obj.value_and_grad(theta)
    fr, gr = ref.value_and_grad(theta)
    assert f == pytest.approx(fr, rel=1e-12)
    np.testing.assert_allclose(g, gr, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(obj.hessp(theta, v), ref.hessp(theta, v), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(obj.hessian(theta), ref.hessian(theta), rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(obj.hessian_bound(), ref.hessian_bound(), rtol=1e-7,
                               atol=1e-9)
    # two power iterations from different starts: the same limit
    assert obj.lipschitz(n_iter=300) == pytest.approx(ref.lipschitz(n_iter=300), rel=1e-6)
    raw = obj.original(theta)
    np.testing.assert_allclose(obj.standardized(raw), theta, rtol=1e-12)


def test_bad_value_is_refused():
    X, y = _spector()
    with pytest.raises(ValueError, match="standardize='yes' is not valid; use True"):
        LogisticRegression(standardize="yes").fit(X, y)


# ------------------------------------------------------------------ every backend
def _as_backend(backend, X, y, request):
    if backend == "dask-local":
        da = pytest.importorskip("dask.array")
        return da.from_array(X, chunks=(50, X.shape[1])), da.from_array(y, chunks=50)
    if backend == "dask-client":
        da = pytest.importorskip("dask.array")
        request.getfixturevalue("dask_client")
        return da.from_array(X, chunks=(50, X.shape[1])), da.from_array(y, chunks=50)
    if backend == "npy":
        from vlogreg.data import open_source

        path = request.getfixturevalue("tmp_path") / "X.npy"
        np.save(path, X)
        return open_source(path, chunk_bytes=50 * X.shape[1] * 8), y
    if backend == "torch":
        torch = pytest.importorskip("torch")
        return torch.from_numpy(X), y
    if backend == "array_api_strict":
        xps = pytest.importorskip("array_api_strict")
        return xps.asarray(X), y
    raise AssertionError(backend)


@pytest.mark.parametrize("backend", ["dask-local", "dask-client", "npy", "torch",
                                     "array_api_strict"])
@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_every_backend_equals_sklearn_pipeline(backend, name, request):
    X, y = DATA[name]()
    Xb, yb = _as_backend(backend, X, y, request)
    model = LogisticRegression(standardize=True, tol=1e-12, max_iter=1000, C=0.5,
                               solver="newton").fit(Xb, yb)
    _close(model, *_pipeline(X, y, C=0.5))


def test_laplace_summary_of_a_standardized_fit_is_the_scaled_copys_mapped_back():
    # the prior is on the standardized coefficients: the summary on the raw columns is
    # the scaled copy's (checked against a finite-difference posterior in
    # test_inference.py) through the Jacobian of b = b~ - (mu / sigma) . w~, w = w~ / sigma
    from vlogreg.inference import summary

    X, y = _cancer()
    sc = StandardScaler().fit(X)
    Xs = sc.transform(X)
    s_copy = summary(LogisticRegression(C=0.3, tol=1e-12).fit(Xs, y), Xs, y)
    model = _fit(X, y, C=0.3)
    s = summary(model, X, y)
    n = X.shape[1]
    J = np.zeros((n + 1, n + 1))
    J[0, 0] = 1.0
    J[0, 1:] = -sc.mean_ / sc.scale_
    J[1:, 1:] = np.diag(1.0 / sc.scale_)
    np.testing.assert_allclose(s.coef, J @ s_copy.coef, rtol=1e-7)
    np.testing.assert_allclose(s.cov, J @ s_copy.cov @ J.T, rtol=1e-6, atol=1e-14)
    assert s.kind == "laplace-l2" and "standardized coefficients" in s.note


@pytest.mark.parametrize("backend", ["dask-local", "dask-client", "npy", "torch",
                                     "array_api_strict"])
def test_every_backend_gives_the_in_memory_standardized_objective(backend, request):
    # the same contract as test_objective_contract.py, through StandardizedObjective:
    # each backend's moments (chunk by chunk, block by block on a device) and objective
    # give the in-memory numbers
    from vlogreg.backends import backend_for

    X, y = _wine()
    spec = FitSpec(C=0.5, standardize=True)
    ref = memory.prepare(X, y, None, spec).objective
    Xb, yb = _as_backend(backend, X, y, request)
    obj = backend_for(Xb).prepare(Xb, yb, None, spec).objective
    assert isinstance(obj, StandardizedObjective)
    np.testing.assert_allclose(obj.mean, ref.mean, rtol=1e-12)
    np.testing.assert_allclose(obj.scale, ref.scale, rtol=1e-12)
    rng = np.random.default_rng(3)
    theta, v = rng.standard_normal(ref.n_params), rng.standard_normal(ref.n_params)
    f, g = obj.value_and_grad(theta)
    fr, gr = ref.value_and_grad(theta)
    assert f == pytest.approx(fr, rel=1e-12)
    np.testing.assert_allclose(g, gr, rtol=1e-10, atol=1e-12 * np.abs(gr).max())
    hv, hvr = obj.hessp(theta, v), ref.hessp(theta, v)
    np.testing.assert_allclose(hv, hvr, rtol=1e-10, atol=1e-12 * np.abs(hvr).max())
    H, Hr = obj.hessian(theta), ref.hessian(theta)
    np.testing.assert_allclose(H, Hr, rtol=1e-10, atol=1e-12 * np.abs(Hr).max())
    assert obj.separates(theta) == ref.separates(theta)


def test_moments_merge_and_keep_digits_of_a_large_mean():
    # a column of mean 1e8 and std ~1: E[x^2] - mu^2 would lose every digit
    from vlogreg._scaling import BLOCK_BYTES, Moments, moments, scales

    rng = np.random.default_rng(0)
    m = 3 * BLOCK_BYTES // (8 * 3) + 17  # several row blocks
    X = np.column_stack([1e8 + rng.standard_normal(m), rng.standard_normal(m),
                         np.where(rng.random(m) < 0.8, 0.0, rng.standard_normal(m))])
    w = rng.uniform(0.1, 2.0, m)
    mean = np.average(X, axis=0, weights=w)
    var = np.average((X - mean) ** 2, axis=0, weights=w)
    for mo in (moments(X, w), moments(sp.csr_matrix(X), w), moments(sp.csc_matrix(X), w),
               Moments.merge([moments(X[:1000], w[:1000]), moments(X[1000:], w[1000:])])):
        s = scales(mo)
        np.testing.assert_allclose(s.mean, mean, rtol=1e-13)
        # x ~ 1e8 is stored to +-7e-9: the variance ~1 is known to ~1e-8 (the naive
        # E[x^2] - mu^2 would be off by O(1))
        np.testing.assert_allclose(s.scale ** 2, var, rtol=1e-7)
    assert np.all(scales(moments(X, w), center=False).mean == 0)


@pytest.mark.parametrize("backend", ["numpy", "csr", "array_api_strict", "npy"])
def test_bad_values_are_still_named_when_the_checks_share_the_moments_pass(backend,
                                                                           request):
    X, y = _spector()
    X = X.copy()
    X[5, 1] = np.nan
    if backend == "csr":
        Xb, yb = sp.csr_matrix(X), y
    elif backend == "numpy":
        Xb, yb = X, y
    else:
        Xb, yb = _as_backend(backend, X, y, request)
    with pytest.raises(ValueError, match="NaN at row 5, column 1"):
        LogisticRegression(standardize=True).fit(Xb, yb)
    X[5, 1] = 1e200
    Xb = X if backend == "numpy" else sp.csr_matrix(X) if backend == "csr" else \
        _as_backend(backend, X, y, request)[0]
    if backend != "npy":  # (the chunked checks are the out-of-core backend's own)
        with pytest.raises(ValueError, match="larger than|as large as"):
            LogisticRegression(standardize=True).fit(Xb, yb)
