"""The fused Triton loss+gradient kernel (``_kernels.triton_binary``).

Without a GPU the kernels run in Triton's interpreter on CPU torch tensors. Triton
decides at import time whether ``triton.language`` is interpreted, so those cases run
in a child pytest process started with ``TRITON_INTERPRET=1`` (test_interpreted_suite);
in this process they are not collected. The ``gpu`` cases need a CUDA device and run
the compiled kernel (benchmarks/gpu_check.py runs them on a GPU machine).
"""

import importlib
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the Triton kernel runs on torch tensors")
try:
    importlib.import_module("triton")
except Exception as exc:  # not installed (or a broken install): nothing to test here
    pytest.skip(f"the fused GPU kernel needs triton (Linux only): {exc}",
                allow_module_level=True)
pytest.importorskip("array_api_compat")

from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from vlogreg import LogisticRegression  # noqa: E402
from vlogreg.objective.array_api import ArrayAPIObjective  # noqa: E402
from vlogreg._kernels import triton_binary as tb  # noqa: E402
from vlogreg._kernels import triton_multi as tm  # noqa: E402
from vlogreg.objective.logistic import LogisticObjective  # noqa: E402

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1" and tb.interpretable()
HAS_CUDA = torch.cuda.is_available()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _problem(m, n, dtype, weighted, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((m, n)) * scale).astype(dtype)
    y = (rng.random(m) < 0.4).astype(np.float64)
    s = rng.uniform(0.2, 3.0, m) if weighted else None
    w = rng.standard_normal(n) / np.sqrt(n)
    return X, y, s, w, 0.25


def _reference(X, y, s, w, b):
    """(sum s loss, X^T dz, sum dz) of vlogreg's NumPy objective, in float64."""
    obj = LogisticObjective(np.asarray(X, dtype=np.float64), y, s, kernel="numpy")
    loss, dw, db = obj.loss_grad(w, b)
    return loss * obj.S, dw * obj.S, db * obj.S


def _check(got, ref, rtol):
    loss, dw, db = got
    rloss, rdw, rdb = ref
    assert np.isfinite(loss) and np.all(np.isfinite(dw)) and np.isfinite(db)
    assert abs(loss - rloss) <= rtol * abs(rloss)
    scale = max(np.abs(rdw).max(), abs(rdb), 1e-300)
    np.testing.assert_allclose(dw, rdw, rtol=0, atol=rtol * scale)
    assert abs(db - rdb) <= rtol * scale


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------------------------- any machine
def test_plan_depends_on_the_shape_only():
    for m in (1, 63, 64, 65, 10_000, 10_000_000):
        for n in (1, 3, 100, 256, 257, 1000):
            for itemsize in (4, 8):
                cfg = tb.plan(m, n, itemsize)
                assert cfg == tb.plan(m, n, itemsize)
                assert cfg["kernel"] == ("one_tile" if n <= tb.ONE_TILE_MAX_N else "tiles")
                bm, bn = cfg["BLOCK_M"], cfg["BLOCK_N"]
                assert bm & (bm - 1) == 0 and bn & (bn - 1) == 0
                assert cfg["kernel"] == "tiles" or bn >= n
                assert cfg["rows_per_prog"] % (bm * cfg["FLUSH"]) == 0
                assert 1 <= cfg["n_programs"] <= tb.MAX_PROGRAMS
                assert cfg["n_programs"] * cfg["rows_per_prog"] >= m
                assert (cfg["n_programs"] - 1) * cfg["rows_per_prog"] < m


def _ptxas():
    import glob

    import triton

    return glob.glob(os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia",
                                  "bin", "ptxas"))


@pytest.mark.skipif(INTERPRETED, reason="compiling needs the real triton.language")
@pytest.mark.parametrize("n", [100, 300])
@pytest.mark.parametrize("itemsize", [4, 8])
@pytest.mark.parametrize("hessp", [False, True])
def test_kernels_compile_for_an_h100(n, itemsize, hessp):
    # what the interpreter cannot check: the kernels compile for sm_90 (no GPU needed)
    if not _ptxas():
        pytest.skip("this triton build has no NVIDIA backend (ptxas)")
    cfg = tb.plan(10_000_000, n, itemsize)
    k = tb.compile_for(cfg, n, itemsize, hessp=hessp, arch=90)
    ptx = k.asm["ptx"]
    assert ".target sm_90" in ptx and len(k.asm["cubin"]) > 0
    if itemsize == 4:  # float32 values widened into float64 sums (loss, db, dw's flushes)
        assert "cvt.f64.f32" in ptx


@pytest.mark.skipif(INTERPRETED, reason="compiling needs the real triton.language")
@pytest.mark.parametrize("n,k", [(100, 3), (28, 64)])
@pytest.mark.parametrize("itemsize", [4, 8])
def test_multinomial_kernel_compiles_for_an_h100(n, k, itemsize):
    if not _ptxas():
        pytest.skip("this triton build has no NVIDIA backend (ptxas)")
    cfg = tm.plan(10_000_000, n, k, itemsize)
    ptx = tm.compile_for(cfg, n, k, itemsize, arch=90).asm["ptx"]
    assert ".target sm_90" in ptx
    if itemsize == 4:  # IEEE float32 products: FMAs, never tf32 tensor-core products
        assert "mma" not in ptx and "tf32" not in ptx


def test_cpu_tensors_take_the_portable_path(monkeypatch):
    monkeypatch.delenv("VLOGREG_KERNEL", raising=False)
    X, y = _breast_cancer()
    obj = ArrayAPIObjective(torch.from_numpy(X), y)
    assert obj._fused is None  # auto: the kernel is for CUDA tensors
    with pytest.raises(ValueError, match="kernel="):
        ArrayAPIObjective(torch.from_numpy(X), y, kernel="cuda")


@pytest.mark.skipif(INTERPRETED, reason="the interpreter is on in this process")
def test_forcing_on_cpu_without_the_interpreter_says_why(monkeypatch):
    X, y = _breast_cancer()
    with pytest.raises(ValueError, match="TRITON_INTERPRET"):
        ArrayAPIObjective(torch.from_numpy(X), y, kernel="triton")
    monkeypatch.setenv("VLOGREG_KERNEL", "triton")
    with pytest.raises(ValueError, match="TRITON_INTERPRET"):
        LogisticRegression().fit(torch.from_numpy(X), y)


def test_forcing_refuses_what_the_kernel_cannot_take():
    import array_api_strict as xps

    X, y = _breast_cancer()
    with pytest.raises(ValueError, match="not a torch tensor"):
        ArrayAPIObjective(xps.asarray(X), y, kernel="triton")


@pytest.mark.skipif(INTERPRETED, reason="this is the child process")
def test_interpreted_suite():
    """The interpreted cases below, in a child pytest with TRITON_INTERPRET=1."""
    env = dict(os.environ, TRITON_INTERPRET="1")
    env.pop("VLOGREG_KERNEL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not gpu",
         os.path.abspath(__file__)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, out
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 25 and " failed" not in proc.stdout, out


# ------------------------------------------- Triton's interpreter (child process)
if INTERPRETED:

    @pytest.mark.parametrize("n", [1, 3, 100, 300])
    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    @pytest.mark.parametrize("weighted", [False, True])
    def test_interp_kernel_equals_numpy_objective(n, dtype, weighted):
        # not a multiple of any block; enough rows for 3 programs of whole flush groups
        m = {1: 5003, 3: 5003, 100: 1517, 300: 203}[n]
        X, y, s, w, b = _problem(m, n, dtype, weighted, seed=n)
        # 3 programs: each loops over several row blocks, the last one partial
        fb = tb.FusedBinary(torch.from_numpy(X), torch.from_numpy(y), torch.ones(m),
                            max_programs=3)
        assert fb.cfg["n_programs"] == 3
        got = tb.loss_grad(torch.from_numpy(X), y, s, w, b, max_programs=3)
        _check(got, _reference(X, y, s, w, b), 1e-12 if dtype == np.float64 else 1e-5)
        again = tb.loss_grad(torch.from_numpy(X), y, s, w, b, max_programs=3)
        assert got[0] == again[0] and got[2] == again[2]  # deterministic, bit for bit
        np.testing.assert_array_equal(got[1], again[1])

    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    @pytest.mark.parametrize("n", [3, 300])
    def test_interp_extreme_margins_stay_finite(dtype, n):
        X, y, s, w, b = _problem(150, n, dtype, True, seed=1)
        w = w / np.abs(X @ w).max() * 1e4  # |z| up to 1e4: exp(-|z|) underflows to 0
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = tb.loss_grad(torch.from_numpy(X), y, s, w, b)
        assert np.isfinite(got[0]) and got[0] > 1e3
        _check(got, _reference(X, y, s, w, b), 1e-12 if dtype == np.float64 else 1e-5)

    def test_interp_strided_views_are_read_in_place():
        X, y, s, w, b = _problem(300, 7, np.float64, True, seed=2)
        ref = _reference(X, y, s, w, b)
        wide = torch.from_numpy(np.repeat(X, 2, axis=1))
        for Xt in (wide[:, ::2], torch.from_numpy(np.asfortranarray(X)),
                   torch.from_numpy(np.hstack([X, X]))[:, :7]):
            _check(tb.loss_grad(Xt, y, s, w, b), ref, 1e-12)

    @pytest.mark.parametrize("fit_intercept", [True, False])
    def test_interp_objective_equals_two_pass(fit_intercept):
        X, y, s, _, _ = _problem(400, 12, np.float64, True, seed=3)
        kw = dict(alpha=0.01, fit_intercept=fit_intercept)
        fused = ArrayAPIObjective(torch.from_numpy(X), y, s, kernel="triton", **kw)
        plain = ArrayAPIObjective(torch.from_numpy(X), y, s, kernel="array_api", **kw)
        assert fused._fused is not None and plain._fused is None
        theta = np.random.default_rng(0).standard_normal(fused.n_params)
        f1, g1 = fused.value_and_grad(theta)
        f2, g2 = plain.value_and_grad(theta)
        assert abs(f1 - f2) <= 1e-13 * abs(f2)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
        assert abs(fused.value(theta) - f2) <= 1e-13 * abs(f2)

    @pytest.mark.parametrize("n", [12, 300])
    @pytest.mark.parametrize("fit_intercept", [True, False])
    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    def test_interp_hessp_in_one_launch_equals_numpy(n, fit_intercept, dtype):
        X, y, s, _, _ = _problem(203, n, dtype, True, seed=4)
        kw = dict(alpha=0.01, fit_intercept=fit_intercept)
        fused = ArrayAPIObjective(torch.from_numpy(X), y, s, kernel="triton", **kw)
        plain = ArrayAPIObjective(torch.from_numpy(X), y, s, kernel="array_api", **kw)
        ref = LogisticObjective(X.astype(np.float64), y, s, kernel="numpy", **kw)
        rng = np.random.default_rng(n)
        theta, v = rng.standard_normal((2, ref.n_params)) / np.sqrt(n)
        curv = fused.curvature(theta)
        calls = tb.n_calls
        got = fused.hessp(theta, v, curv)
        assert tb.n_calls == calls + 1  # X~ v and X^T r in one launch
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        want = ref.hessp(theta, v)
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)
        np.testing.assert_allclose(plain.hessp(theta, v), want, rtol=0, atol=rtol * scale)
        # the power iteration goes through the same kernel (h = s / S)
        calls = tb.n_calls
        lip = fused.lipschitz()
        assert tb.n_calls > calls
        assert lip == pytest.approx(ref.lipschitz(), rel=10 * rtol)

    def test_interp_newton_cg_through_the_kernel_equals_numpy_fit():
        from vlogreg.solvers.newton import newton

        X, y = _breast_cancer()
        kw = dict(alpha=1.0 / len(y))
        ref = newton(LogisticObjective(X, y, kernel="numpy", **kw), tol=1e-10)
        calls = tb.n_calls
        obj = ArrayAPIObjective(torch.from_numpy(X), y, kernel="triton", **kw)
        got = newton(obj, tol=1e-10, dense_max=0)  # truncated CG on the kernel's hessp
        assert tb.n_calls - calls > 2 * got.n_iter  # gradients and products alike
        assert got.converged
        np.testing.assert_allclose(got.theta, ref.theta, rtol=1e-8,
                                   atol=1e-8 * np.abs(ref.theta).max())

    @pytest.mark.parametrize("solver", ["lbfgs", "newton"])
    def test_interp_fit_through_the_kernel_equals_numpy_fit(solver, monkeypatch):
        monkeypatch.setenv("VLOGREG_KERNEL", "triton")
        X, y = _breast_cancer()
        w = np.linspace(0.5, 2.0, len(y))
        ref = LogisticRegression(solver=solver, tol=1e-10).fit(X, y, sample_weight=w)
        calls = tb.n_calls
        model = LogisticRegression(solver=solver, tol=1e-10).fit(torch.from_numpy(X), y,
                                                                 sample_weight=w)
        assert tb.n_calls > calls  # went through the kernel
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8, atol=1e-8 * scale)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-8,
                                   atol=1e-8 * scale)

    def test_interp_float32_fit(monkeypatch):
        monkeypatch.setenv("VLOGREG_KERNEL", "triton")
        X, y = _breast_cancer()
        X32 = X.astype(np.float32)
        ref = LogisticRegression(tol=1e-6, max_iter=5000).fit(X32, y)
        model = LogisticRegression(tol=1e-6, max_iter=5000).fit(torch.from_numpy(X32), y)
        assert model.coef_.dtype == np.float32
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-3, atol=1e-3 * scale)

    @pytest.mark.parametrize("n,k", [(1, 3), (7, 3), (100, 5), (20, 17)])
    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    def test_interp_multinomial_kernel_equals_numpy_objective(n, k, dtype):
        rng = np.random.default_rng(n * k)
        m = 2600  # not a multiple of any block; whole flush groups of 16-128 x 8 rows
        X = rng.standard_normal((m, n)).astype(dtype)
        y = rng.integers(0, k, m)
        s = rng.uniform(0.2, 3.0, m)
        W, b = rng.standard_normal((n, k)) / np.sqrt(n), rng.standard_normal(k)
        ref = LogisticObjective(X.astype(np.float64), y, s, n_classes=k, kernel="numpy")
        f, g = ref.value_and_grad(ref.pack(W, b))
        fm = tm.FusedMultinomial(torch.from_numpy(X), y, s, k, max_programs=3)
        assert fm.cfg["n_programs"] >= 2
        loss, dw, db = fm(W, b)
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        S = s.sum()
        assert abs(loss / S - f) <= rtol * abs(f)
        got = np.concatenate([dw, db]) / S
        np.testing.assert_allclose(got, g, rtol=0, atol=rtol * np.abs(g).max())
        again = fm(W, b)  # deterministic, bit for bit
        assert again[0] == loss
        np.testing.assert_array_equal(again[1], dw)

    @pytest.mark.parametrize("fit_intercept", [True, False])
    def test_interp_multinomial_fit_through_the_kernel(fit_intercept, monkeypatch):
        monkeypatch.setenv("VLOGREG_KERNEL", "triton")
        Xi, yi = load_iris(return_X_y=True)
        Xi = StandardScaler().fit_transform(Xi)
        w = np.linspace(0.5, 2.0, len(yi))
        kw = dict(tol=1e-10, fit_intercept=fit_intercept)
        ref = LogisticRegression(**kw).fit(Xi, yi, sample_weight=w)
        calls = tm.n_calls
        model = LogisticRegression(**kw).fit(torch.from_numpy(Xi), yi, sample_weight=w)
        assert tm.n_calls > calls  # went through the multinomial kernel
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-8, atol=1e-9)

    def test_interp_multinomial_kernel_refuses_what_it_does_not_serve(monkeypatch):
        X = torch.zeros((10, 300), dtype=torch.float64)
        y = np.arange(10) % 3
        with pytest.raises(ValueError, match="n <= 256 features"):
            ArrayAPIObjective(X, y, n_classes=3, kernel="triton")
        # not forced: the two products, no error
        assert ArrayAPIObjective(X, y, n_classes=3)._fused is None


# ------------------------------------------------------------- CUDA (gpu marker)
@pytest.mark.parametrize("n", [1, 100, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
def test_gpu_kernel_equals_two_pass(n, dtype, weighted):
    X, y, s, w, b = _problem(100_003, n, dtype, weighted, seed=n)
    Xc = torch.from_numpy(X).cuda()
    got = tb.loss_grad(Xc, y, s, w, b)
    _check(got, _reference(X, y, s, w, b), 1e-11 if dtype == np.float64 else 1e-5)
    again = tb.loss_grad(Xc, y, s, w, b)
    assert got[0] == again[0] and got[2] == again[2]
    np.testing.assert_array_equal(got[1], again[1])
    two = ArrayAPIObjective(Xc, y, s, kernel="array_api")
    one = ArrayAPIObjective(Xc, y, s)
    assert one._fused is not None  # auto on CUDA
    theta = np.append(w, b)
    f1, g1 = one.value_and_grad(theta)
    f2, g2 = two.value_and_grad(theta)
    rtol = 1e-11 if dtype == np.float64 else 1e-5
    assert abs(f1 - f2) <= rtol * abs(f2)
    np.testing.assert_allclose(g1, g2, rtol=0, atol=rtol * np.abs(g2).max())


@pytest.mark.parametrize("n", [100, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
def test_gpu_hessp_and_hessian_equal_numpy(n, dtype):
    X, y, s, w, b = _problem(100_003, n, dtype, True, seed=n)
    ref = LogisticObjective(X.astype(np.float64), y, s, alpha=0.01, kernel="numpy")
    one = ArrayAPIObjective(torch.from_numpy(X).cuda(), y, s, alpha=0.01)
    assert one._fused is not None
    rng = np.random.default_rng(n)
    theta, v = rng.standard_normal((2, ref.n_params)) / np.sqrt(n)
    rtol = 1e-11 if dtype == np.float64 else 1e-5
    want = ref.hessp(theta, v)
    np.testing.assert_allclose(one.hessp(theta, v), want, rtol=0,
                               atol=rtol * np.abs(want).max())
    H = ref.hessian(theta)
    np.testing.assert_allclose(one.hessian(theta), H, rtol=0, atol=rtol * np.abs(H).max())


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
def test_gpu_when_the_kernel_is_used(monkeypatch):
    monkeypatch.delenv("VLOGREG_KERNEL", raising=False)
    X, y = _breast_cancer()
    Xc = torch.from_numpy(X).cuda()
    assert ArrayAPIObjective(Xc, y)._fused is not None
    assert isinstance(ArrayAPIObjective(Xc, y, n_classes=3)._fused, tm.FusedMultinomial)
    assert ArrayAPIObjective(torch.zeros((10, 300), device="cuda"), np.arange(10) % 3,
                             n_classes=3)._fused is None  # wider than the kernel serves
    assert ArrayAPIObjective(Xc.T.contiguous().T, y)._fused is None  # column-major
    assert ArrayAPIObjective(Xc, y, kernel="array_api")._fused is None
    monkeypatch.setenv("VLOGREG_KERNEL", "numpy")
    assert ArrayAPIObjective(Xc, y)._fused is None


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gpu_fit_equals_numpy_fit(dtype, monkeypatch):
    monkeypatch.delenv("VLOGREG_KERNEL", raising=False)
    X, y = _breast_cancer()
    X = X.astype(dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    ref = LogisticRegression(tol=tol, max_iter=5000).fit(X, y)
    calls = tb.n_calls
    model = LogisticRegression(tol=tol, max_iter=5000).fit(torch.from_numpy(X).cuda(), y)
    assert tb.n_calls > calls
    rtol = 1e-8 if dtype == np.float64 else 1e-3
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=rtol, atol=rtol * scale)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
def test_gpu_cupy_arrays_go_through_the_kernel():
    cupy = pytest.importorskip("cupy")
    X, y, s, w, b = _problem(50_001, 40, np.float32, True, seed=4)
    obj = ArrayAPIObjective(cupy.asarray(X), y, s)
    assert obj._fused is not None
    f, g = obj.value_and_grad(np.append(w, b))
    loss, dw, db = _reference(X, y, s, w, b)
    assert abs(f - loss / obj.S) <= 1e-5 * abs(loss / obj.S)
    np.testing.assert_allclose(g[:-1], dw / obj.S, rtol=0, atol=1e-5 * np.abs(dw).max() / obj.S)


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA GPU")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gpu_multinomial_kernel_equals_two_pass(dtype):
    rng = np.random.default_rng(5)
    m, n, k = 100_003, 100, 10
    X = rng.standard_normal((m, n)).astype(dtype)
    y = rng.integers(0, k, m)
    s = rng.uniform(0.2, 3.0, m)
    Xc = torch.from_numpy(X).cuda()
    one = ArrayAPIObjective(Xc, y, s, n_classes=k, alpha=0.01)
    two = ArrayAPIObjective(Xc, y, s, n_classes=k, alpha=0.01, kernel="array_api")
    assert isinstance(one._fused, tm.FusedMultinomial)
    theta = rng.standard_normal(one.n_params) / np.sqrt(n)
    f1, g1 = one.value_and_grad(theta)
    f2, g2 = two.value_and_grad(theta)
    rtol = 1e-11 if dtype == np.float64 else 1e-5
    assert abs(f1 - f2) <= rtol * abs(f2)
    np.testing.assert_allclose(g1, g2, rtol=0, atol=rtol * np.abs(g2).max())
