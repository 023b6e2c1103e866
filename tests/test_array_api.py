"""The estimator on array-API arrays: namespace x dtype x solver, against the NumPy fit.

CPU grid (runs in CI): array-api-strict and torch CPU tensors. CUDA (torch.cuda, CuPy)
cases are marked ``gpu`` and skipped where no GPU is present; benchmarks/gpu_check.py
runs them on a GPU machine.
"""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression

pytest.importorskip("array_api_compat")


def _namespaces():
    out = []
    try:
        import array_api_strict as xps

        out.append(pytest.param(lambda a: xps.asarray(a), id="array_api_strict"))
    except ImportError:
        pass
    try:
        import torch

        out.append(pytest.param(lambda a: torch.from_numpy(a), id="torch-cpu"))
        cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
        out.append(pytest.param(lambda a: torch.from_numpy(a).cuda(), id="torch-cuda",
                                marks=[pytest.mark.gpu, cuda]))
    except ImportError:
        pass
    try:
        import cupy

        has_gpu = cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, or cupy without a driver
        has_gpu = False
    if has_gpu:
        out.append(pytest.param(lambda a: cupy.asarray(a), id="cupy", marks=pytest.mark.gpu))
    return out


NAMESPACES = _namespaces()
if not NAMESPACES:  # pragma: no cover
    pytest.skip("no array-API namespace installed", allow_module_level=True)


def _data(multiclass):
    X, y = load_iris(return_X_y=True) if multiclass else load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _host(a):
    from vlogreg.objective.array_api import to_numpy

    return to_numpy(a) if not isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("to_xp", NAMESPACES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("multiclass", [False, True])
def test_fit_equals_numpy_fit(to_xp, dtype, solver, multiclass):
    X, y = _data(multiclass)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    ref = LogisticRegression(solver=solver, tol=tol, max_iter=20_000).fit(X.astype(dtype), y)
    Xa = to_xp(X.astype(dtype))
    model = LogisticRegression(solver=solver, tol=tol, max_iter=20_000).fit(Xa, y)
    assert isinstance(model.coef_, np.ndarray) and model.coef_.dtype == dtype
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=rtol, atol=rtol * scale)
    # predictions come back in X's namespace and device, equal to the NumPy ones
    proba = model.predict_proba(Xa)
    assert type(proba) is type(Xa)
    np.testing.assert_allclose(_host(proba), model.predict_proba(X.astype(dtype)),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
    pred = model.predict(Xa)
    assert type(pred) is type(Xa)
    np.testing.assert_array_equal(_host(pred), model.predict(X.astype(dtype)))
    z = model.decision_function(Xa)
    assert tuple(z.shape) == ((len(y), 3) if multiclass else (len(y),))


@pytest.mark.parametrize("to_xp", NAMESPACES)
def test_string_labels_and_weights(to_xp):
    X, y = _data(False)
    labels = np.where(y == 1, "benign", "malignant")
    w = np.linspace(0.5, 2.0, len(y))
    ref = LogisticRegression(tol=1e-10).fit(X, labels, sample_weight=w)
    model = LogisticRegression(tol=1e-10).fit(to_xp(X), labels, sample_weight=w)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
    assert list(model.predict(to_xp(X))) == list(ref.predict(X))  # strings: host array


@pytest.mark.parametrize("to_xp", NAMESPACES)
def test_l1_on_array_api(to_xp):
    X, y = _data(False)
    ref = LogisticRegression(l1_ratio=1.0, C=0.1, tol=1e-9, max_iter=5000).fit(X, y)
    model = LogisticRegression(l1_ratio=1.0, C=0.1, tol=1e-9, max_iter=5000).fit(to_xp(X), y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("to_xp", NAMESPACES)
def test_bad_input_is_refused(to_xp):
    X, y = _data(False)
    Xn = X.copy()
    Xn[3, 4] = np.nan
    with pytest.raises(ValueError, match="row 3, column 4"):
        LogisticRegression().fit(to_xp(Xn), y)
    with pytest.raises(ValueError, match="shape"):
        LogisticRegression().fit(to_xp(X), y[:-1])
    model = LogisticRegression().fit(to_xp(X), y)
    with pytest.raises(ValueError, match="features"):
        model.predict(to_xp(X[:, :5]))


@pytest.mark.parametrize("to_xp", NAMESPACES[:2])
def test_first_order_solvers_on_array_api(to_xp):
    X, y = _data(False)
    for solver in ("gd", "agd"):
        ref = LogisticRegression(solver=solver, tol=1e-6, max_iter=5000).fit(X, y)
        model = LogisticRegression(solver=solver, tol=1e-6, max_iter=5000).fit(to_xp(X), y)
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("to_xp", NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_hessian_by_row_chunks_equals_numpy(to_xp, n_classes, fit_intercept, monkeypatch):
    import vlogreg.objective.array_api as aa
    from vlogreg.objective.logistic import LogisticObjective

    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((301, 6))
    y = rng.integers(0, n_classes, 301)
    s = rng.uniform(0.5, 2.0, 301)
    kw = dict(alpha=0.1, fit_intercept=fit_intercept, n_classes=n_classes)
    ref = LogisticObjective(X, y, s, kernel="numpy", **kw)
    obj = aa.ArrayAPIObjective(to_xp(X), y, s, **kw)
    theta = rng.standard_normal(ref.n_params)
    want = ref.hessian(theta)
    monkeypatch.setattr(aa, "HESSIAN_CHUNK_BYTES", 7 * 6 * 8)  # 7 rows: 43 chunks
    np.testing.assert_allclose(obj.hessian(theta), want, rtol=1e-12, atol=1e-14)
    curv = obj.curvature(theta)
    np.testing.assert_allclose(obj.hessian(theta, curv), want, rtol=1e-12, atol=1e-14)
    monkeypatch.setattr(aa, "HESSIAN_CHUNK_BYTES", 2**30)  # one chunk
    np.testing.assert_allclose(obj.hessian(theta), want, rtol=1e-12, atol=1e-14)
