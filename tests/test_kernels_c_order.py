"""The binary kernel on C-ordered X, in both of its schedules: the tiles of
``numba_kcol`` with one coefficient column (BLAS products per tile, the choice for the
itemsizes in ``numba_binary.C_TILES_ITEMSIZES``) and the 16-row blocks of
``loss_grad_dense``. Each test runs both on both dtypes, whatever the choice is."""

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from test_kernels_tails import _oracle  # noqa: E402

from vlogreg._kernels import numba_binary, numba_kcol  # noqa: E402
from vlogreg._kernels.numba_common import FLUSH  # noqa: E402

SCHEDULES = {"tiles": (4, 8), "blocks": ()}
DTYPES = [np.float64, np.float32]


def _route(monkeypatch, name):
    """C-ordered X of both dtypes and every size through the schedule ``name`` (the
    tiles otherwise start above the L3 cache's size)."""
    monkeypatch.setattr(numba_binary, "C_TILES_ITEMSIZES", SCHEDULES[name])
    monkeypatch.setattr(numba_binary, "l3_bytes", lambda: 0)


@pytest.fixture(params=sorted(SCHEDULES))
def schedule(request, monkeypatch):
    _route(monkeypatch, request.param)
    return request.param


def _problem(m, n, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    y = (rng.random(m) < 0.4).astype(dtype)
    s = (rng.random(m) * 2).astype(dtype)     # row weights, not all ones
    w = (rng.standard_normal(n) / np.sqrt(n)).astype(dtype)
    return X, y, s, w


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 9, 17, 100, 257, 1000])
def test_row_tails_and_column_remainders_against_float64_oracle(schedule, dtype, n):
    # rows: one, a block and its neighbours, a tile and its neighbours, a flush of
    # float32 products, two tiles and a tail; columns: remainders of every vector width
    R = numba_kcol.tile_rows_kcol(n, np.dtype(dtype).itemsize)
    rows = sorted({1, 7, 15, 16, 17, R - 1, R, R + 1, FLUSH + 3, 2 * R + 17})
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for m in rows:
        X, y, s, w = _problem(m, n, dtype, seed=m + n)
        b = 0.3
        f1, g1, gb1 = numba_binary.loss_grad(X, y, s, w, b)
        f2, g2, gb2 = _oracle(X, y.astype(np.float64), s.astype(np.float64), w, dtype(b))
        where = f"{schedule}, m={m}, n={n}"
        assert g1.dtype == np.float64 and g1.shape == (n,), where
        scale = max(np.abs(g2).max(), abs(gb2), 1.0)
        np.testing.assert_allclose(f1, f2, rtol=rtol, err_msg=where)
        np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * scale, err_msg=where)
        np.testing.assert_allclose(gb1, gb2, rtol=rtol, atol=rtol * scale, err_msg=where)


def test_gradient_is_the_loss_derivative_by_finite_differences(schedule):
    # float64, central differences of the kernel's own loss: the gradient and the loss
    # come from the same pass, so this checks them against each other
    X, y, s, w = _problem(700, 9, np.float64, seed=5)
    b, h = -0.2, 1e-6
    _, g, gb = numba_binary.loss_grad(X, y, s, w, b)
    fd = np.empty(9)
    for j in range(9):
        e = np.zeros(9)
        e[j] = h
        fd[j] = (numba_binary.loss_grad(X, y, s, w + e, b)[0]
                 - numba_binary.loss_grad(X, y, s, w - e, b)[0]) / (2 * h)
    fdb = (numba_binary.loss_grad(X, y, s, w, b + h)[0]
           - numba_binary.loss_grad(X, y, s, w, b - h)[0]) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gb, fdb, rtol=1e-6, atol=1e-6)


def test_float32_tracks_float64_on_the_same_values(schedule):
    # the same float32-representable X, y, s, w in both dtypes: float32 products added
    # into float64 (every FLUSH rows) stay within float32 rounding of the float64 run
    X, y, s, w = _problem(20_000, 100, np.float32, seed=6)
    f32, g32, gb32 = numba_binary.loss_grad(X, y, s, w, 0.1)
    f64, g64, gb64 = numba_binary.loss_grad(X.astype(np.float64), y.astype(np.float64),
                                            s.astype(np.float64), w.astype(np.float64),
                                            float(np.float32(0.1)))
    scale = np.abs(g64).max()
    np.testing.assert_allclose(f32, f64, rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(gb32, gb64, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiles_and_blocks_agree(monkeypatch, dtype):
    # two schedules, two summation orders, one sum
    X, y, s, w = _problem(70_001, 33, dtype, seed=7)
    out = {}
    for name in SCHEDULES:
        _route(monkeypatch, name)
        out[name] = numba_binary.loss_grad(X, y, s, w, 0.4)
    (fa, ga, gba), (fb, gb_, gbb) = out["tiles"], out["blocks"]
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(fa, fb, rtol=rtol)
    np.testing.assert_allclose(ga, gb_, rtol=rtol, atol=rtol * np.abs(gb_).max())
    np.testing.assert_allclose(gba, gbb, rtol=rtol, atol=rtol * np.abs(gb_).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_bit_identical_across_thread_counts_and_runs(schedule, dtype):
    X, y, s, w = _problem(200_003, 9, dtype, seed=8)  # several chunks, tile tails
    before = numba.get_num_threads()
    counts = sorted({1, min(2, numba.config.NUMBA_NUM_THREADS), before})
    try:
        results = []
        for t in counts + counts:       # each count twice: run to run as well
            numba.set_num_threads(t)
            results.append(numba_binary.loss_grad(X, y, s, w, -0.1))
    finally:
        numba.set_num_threads(before)
    for f, g, gb in results[1:]:
        assert f == results[0][0]
        assert np.array_equal(g, results[0][1])
        assert gb == results[0][2]


def test_the_choice_routes_c_order_by_itemsize_and_size(monkeypatch):
    calls = []
    real = numba_binary.kcol_pass
    monkeypatch.setattr(numba_binary, "kcol_pass",
                        lambda *a, **k: calls.append(a[0].dtype) or real(*a, **k))
    monkeypatch.setattr(numba_binary, "C_TILES_ITEMSIZES", (8,))
    X, y, s, w = _problem(100, 5, np.float64, seed=9)
    numba_binary.loss_grad(X, y, s, w, 0.0)       # in cache (under the L3): blocks
    assert calls == []
    monkeypatch.setattr(numba_binary, "l3_bytes", lambda: X.nbytes - 1)
    for dtype in DTYPES:
        X, y, s, w = _problem(100, 5, dtype, seed=9)
        numba_binary.loss_grad(X, y, s, w, 0.0)
        numba_binary.loss_grad(np.asfortranarray(X), y, s, w, 0.0)  # F order: its own
    assert calls == [np.float64]


def test_blas_single_thread_limits_the_blas_the_kernels_call():
    # a fresh interpreter whose first BLAS limit comes before scipy's BLAS is loaded (as
    # in a process whose first kernel call is a tiled one): it must still be limited
    import subprocess
    import sys

    code = ("import threadpoolctl\n"
            "from vlogreg._kernels.threads import blas_single_thread\n"
            "with blas_single_thread():\n"
            "    import scipy.linalg.cython_blas\n"
            "    print([i['num_threads'] for i in threadpoolctl.threadpool_info()\n"
            "           if i['user_api'] == 'blas'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    counts = eval(out)
    assert counts and all(c == 1 for c in counts), out
