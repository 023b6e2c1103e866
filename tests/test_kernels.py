"""The compiled one-pass kernel equals the portable NumPy path, and is deterministic."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg import LogisticRegression
from vlogreg._kernels import binary_kernel
from vlogreg.objective.logistic import LogisticObjective

numba = pytest.importorskip("numba")

M, N = 3000, 37  # odd sizes: partial blocks, partial chunks, a tail of rows


def _data(dtype, sparse=False, weighted=False, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(M, N, density=0.2, format="csr", random_state=seed, dtype=dtype)
        X.data = X.data * 3 - 1  # negative values too
    else:
        X = rng.standard_normal((M, N)).astype(dtype)
    y = (rng.random(M) < 0.4).astype(np.int64)
    s = rng.random(M) * 2 if weighted else None
    return X, y, s


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_kernel_equals_numpy_path(dtype, sparse, weighted):
    X, y, s = _data(dtype, sparse, weighted)
    fast = LogisticObjective(X, y, s, alpha=0.01, kernel="numba")
    ref = LogisticObjective(X, y, s, alpha=0.01, kernel="numpy")
    assert fast._kernel is not None and ref._kernel is None
    rng = np.random.default_rng(1)
    for scale in (0.0, 0.3, 30.0):  # z near 0, moderate, and saturated sigmoids
        theta = rng.standard_normal(fast.n_params) * scale
        f1, g1 = fast.value_and_grad(theta)
        f2, g2 = ref.value_and_grad(theta)
        # float64: rounding only; float32: both paths round z and dz to float32
        rtol = 1e-12 if dtype == np.float64 else 2e-6
        np.testing.assert_allclose(f1, f2, rtol=rtol)
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())
        assert fast.value(theta) == f1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [1, 5, 37])
def test_kernel_every_tail_of_rows_and_columns(dtype, order, n):
    # m = 16 q + r for every r: full blocks of 16 and 8 rows and each partial tail;
    # n = 1, 5, 37: column groups of 4 with and without a remainder (F order)
    rng = np.random.default_rng(n)
    for m in (1, 7, 8, 9, 15, 16, 17, 24, 31, 65, 200, 1000):
        X = np.asarray(rng.standard_normal((m, n)), dtype=dtype, order=order)
        y = (rng.random(m) < 0.5).astype(np.int64)
        s = rng.random(m)
        fast = LogisticObjective(X, y, s, kernel="numba")
        ref = LogisticObjective(X, y, s, kernel="numpy")
        theta = rng.standard_normal(n + 1)
        f1, g1 = fast.value_and_grad(theta)
        f2, g2 = ref.value_and_grad(theta)
        rtol = 1e-12 if dtype == np.float64 else 2e-6
        np.testing.assert_allclose(f1, f2, rtol=rtol, err_msg=f"m={m}")
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max(),
                                   err_msg=f"m={m}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fortran_kernel_equals_c_kernel_over_many_chunks_and_tiles(dtype):
    # 300k x 30: several chunks (threads) and several L2 tiles per chunk
    rng = np.random.default_rng(4)
    X = rng.standard_normal((300_000, 30)).astype(dtype)
    y = (rng.random(300_000) < 0.3).astype(np.int64)
    theta = rng.standard_normal(31) * 0.2
    fc, gc = LogisticObjective(X, y, kernel="numba").value_and_grad(theta)
    F = np.asfortranarray(X)
    obj = LogisticObjective(F, y, kernel="numba")
    assert obj.X.flags.f_contiguous  # no copy to C order
    ff, gf = obj.value_and_grad(theta)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(ff, fc, rtol=rtol)
    np.testing.assert_allclose(gf, gc, rtol=rtol, atol=rtol * np.abs(gc).max())


def test_kernel_float32_within_1e5_of_float64():
    X, y, _ = _data(np.float64)
    theta = np.random.default_rng(2).standard_normal(N + 1) * 0.5
    f64, g64 = LogisticObjective(X, y, kernel="numba").value_and_grad(theta)
    f32, g32 = LogisticObjective(X.astype(np.float32), y, kernel="numba").value_and_grad(
        theta)
    np.testing.assert_allclose(f32, f64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5 * np.abs(g64).max())


@pytest.mark.parametrize("order", ["C", "F"])
def test_kernel_is_bit_identical_across_thread_counts(order):
    rng = np.random.default_rng(3)
    m = 200_000  # several chunks
    X = rng.standard_normal((m, 8))
    if order == "F":
        X = np.asfortranarray(X)
    y = (rng.random(m) < 0.5).astype(np.int64)
    obj = LogisticObjective(X, y, kernel="numba")
    theta = rng.standard_normal(9)
    before = numba.get_num_threads()
    try:
        results = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            results.append(obj.value_and_grad(theta))
    finally:
        numba.set_num_threads(before)
    for f, g in results[1:]:
        assert f == results[0][0]
        assert np.array_equal(g, results[0][1])


def test_fit_is_bit_identical_run_to_run():
    X, y, _ = _data(np.float64)
    X = np.vstack([X] * 200)  # large enough for the kernel and the threads
    y = np.concatenate([y] * 200)
    a = LogisticRegression(solver="lbfgs", tol=1e-8).fit(X, y)
    b = LogisticRegression(solver="lbfgs", tol=1e-8).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)


def test_kernel_choice():
    big = np.zeros((20_000, 20))
    assert binary_kernel(big) is not None                   # 3.2 MB, C-contiguous
    assert binary_kernel(np.asfortranarray(big)) is not None  # F order: its own kernel
    assert binary_kernel(big[:, ::2]) is None                 # strided: NumPy blocks
    assert binary_kernel(big[:100]) is None                  # small: NumPy, one block
    assert binary_kernel(big, kernel="numpy") is None
    with pytest.raises(ValueError, match="F-contiguous"):
        binary_kernel(big[:, ::2], kernel="numba")
    with pytest.raises(ValueError, match="kernel="):
        binary_kernel(big, kernel="fast")


def test_kernel_extreme_decision_values_stay_finite():
    # |z| up to ~1e300: exp's argument is clamped, log1p(e) ~ e, no overflow
    X = np.array([[1e300], [-1e300], [1e-300], [0.0]] * 1000)
    y = np.array([1, 0, 1, 0] * 1000)
    obj = LogisticObjective(X, y, kernel="numba")
    ref = LogisticObjective(X, y, kernel="numpy")
    for w in (1.0, -1.0, 0.5):
        f1, g1 = obj.value_and_grad(np.array([w, 0.0]))
        f2, g2 = ref.value_and_grad(np.array([w, 0.0]))
        assert np.isfinite(f1) and np.all(np.isfinite(g1))
        np.testing.assert_allclose(f1, f2, rtol=1e-12)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-300)


def test_first_compile_says_so_once_and_a_cached_run_is_silent(tmp_path):
    # a fresh numba cache: the first process compiles (one line on stderr, however many
    # kernels), the second loads the kernels from that cache and says nothing
    import subprocess
    import sys
    from pathlib import Path

    import vlogreg
    from vlogreg._kernels.compile_note import MESSAGE

    code = ("import numpy as np, scipy.sparse as sp\n"
            "from vlogreg._kernels import numba_binary\n"
            "X = sp.random(50, 4, density=0.5, format='csr', random_state=0)\n"
            "for dt in (np.float64, np.float32):\n"
            "    Xd = X.astype(dt); v = np.ones(50, dt)\n"
            "    numba_binary.loss_grad(Xd, v, v, np.ones(4, dt), 0.0)\n"
            "print('ok')\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": str(Path(vlogreg.__file__).parents[1])}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           check=False, text=True, timeout=600) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    assert runs[0].stderr.count(MESSAGE) == 1, runs[0].stderr
    assert MESSAGE not in runs[1].stderr, runs[1].stderr
