"""The K-column kernel (numba_kcol): K binary models at once, and the multinomial loss,
against plain NumPy computations; deterministic across thread counts."""

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg._kernels import batched_kernel, softmax_kernel
from vlogreg.objective.logistic import LogisticObjective

numba = pytest.importorskip("numba")
from vlogreg._kernels import numba_kcol  # after the skip: needs numba


def batched_reference(X, W, b, y, sw, fold, exclude):
    """The batched binary sums in float64 NumPy, straight from their definitions."""
    X = np.asarray(X, dtype=np.float64)
    z = X @ W + b
    w = sw[:, None] * (fold[:, None] != exclude[None, :])
    a = 1.0 / (1.0 + np.exp(-z))
    dz = w * (a - y[:, None])
    loss = (w * (np.logaddexp(0.0, z) - y[:, None] * z)).sum(axis=0)
    return loss, X.T @ dz, dz.sum(axis=0)


def _problem(m, n, K, dtype, order, seed):
    rng = np.random.default_rng(seed)
    X = np.asarray(rng.standard_normal((m, n)), dtype=dtype, order=order)
    W = rng.standard_normal((n, K)) * 0.4
    b = rng.standard_normal(K)
    y = (rng.random(m) < 0.4).astype(np.float64)
    sw = rng.random(m) * 2
    fold = rng.integers(0, 5, m).astype(np.int32)
    exclude = rng.integers(-1, 5, K).astype(np.int32)
    return X, W, b, y, sw, fold, exclude


def _run(X, W, b, y, sw, fold, exclude, n_threads=None):
    n, K = W.shape
    G = np.full((n, K), np.nan)
    gb = np.full(K, np.nan)
    fn = batched_kernel(X, kernel="numba")
    loss = fn(X, W, b, y, sw, fold, exclude, G, gb, n_threads)
    return loss, G, gb


def _close(got, want, rtol):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


RTOL = {np.float64: 1e-12, np.float32: 2e-6}  # float32: z and dz rounded to float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("K", [1, 3, 50])
def test_batched_equals_numpy(dtype, order, K):
    # 3001 x 37: several tiles and a tail of rows; 37 columns: no multiple of a vector
    args = _problem(3001, 37, K, dtype, order, seed=K)
    _close(_run(*args), batched_reference(*args), RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_batched_every_tail_of_rows_and_columns(dtype, order, monkeypatch):
    # 1 KiB tiles: 16-32 rows, so each m below ends on a different partial tile
    monkeypatch.setattr(numba_kcol, "TILE_BYTES", 1024)
    for n in (1, 5, 37):
        for m in (1, 7, 16, 17, 31, 65, 200, 1000):
            args = _problem(m, n, 3, dtype, order, seed=m + n)
            try:
                _close(_run(*args), batched_reference(*args), RTOL[dtype])
            except AssertionError as e:
                raise AssertionError(f"m={m}, n={n}: {e}") from None


def test_batched_exclude_minus_one_uses_every_row_and_weights_count():
    X, W, b, y, sw, fold, _ = _problem(2000, 9, 4, np.float64, "C", seed=7)
    exclude = np.array([-1, 0, 4, 9], np.int32)  # 9: no row has fold 9, as -1
    W[:, 3], b[3] = W[:, 0], b[0]
    loss, G, gb = _run(X, W, b, y, sw, fold, exclude)
    # model k alone, as a plain weighted binary fit's sums on its own rows
    for k in range(4):
        rows = fold != exclude[k]
        z = X[rows] @ W[:, k] + b[k]
        a = 1.0 / (1.0 + np.exp(-z))
        d = sw[rows] * (a - y[rows])
        np.testing.assert_allclose(G[:, k], X[rows].T @ d, rtol=1e-12)
        np.testing.assert_allclose(gb[k], d.sum(), rtol=1e-12)
        np.testing.assert_allclose(
            loss[k], (sw[rows] * (np.logaddexp(0, z) - y[rows] * z)).sum(), rtol=1e-12)
    # -1 and an absent fold: every row, the same model
    assert loss[0] == loss[3] and gb[0] == gb[3] and np.array_equal(G[:, 0], G[:, 3])


@pytest.mark.parametrize("order", ["C", "F"])
def test_batched_float32_within_1e5_of_float64(order):
    X, W, b, y, sw, fold, exclude = _problem(20_000, 30, 5, np.float64, order, seed=3)
    X32 = np.asarray(X, dtype=np.float32, order=order)
    want = _run(X32.astype(np.float64), W, b, y, sw, fold, exclude)  # the same values
    _close(_run(X32, W, b, y, sw, fold, exclude), want, 1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_batched_bit_identical_across_thread_counts(dtype, order):
    args = _problem(200_000, 8, 3, dtype, order, seed=5)  # several chunks
    results = [_run(*args, n_threads=t) for t in sorted({1, numba.get_num_threads()})]
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored
    for r in results[1:]:
        for got, first in zip(r, results[0]):
            assert np.array_equal(got, first)


def test_batched_kernel_choice_and_bad_input():
    big = np.zeros((20_000, 20))
    assert batched_kernel(big) is numba_kcol.batched_loss_grad
    assert batched_kernel(np.asfortranarray(big)) is not None
    assert batched_kernel(big[:100]) is None                     # small: NumPy
    assert batched_kernel(sp.csr_matrix(big)) is None            # no non-zero: NumPy
    from vlogreg._kernels import numba_kcol_csr
    assert batched_kernel(sp.csr_matrix(big), kernel="numba") is \
        numba_kcol_csr.batched_loss_grad                           # CSR: its own kernel
    assert batched_kernel(big, kernel="numpy") is None
    with pytest.raises(ValueError, match="or CSR matrices"):
        batched_kernel(sp.coo_matrix(big), kernel="numba")
    X, W, b, y, sw, fold, exclude = _problem(50, 4, 3, np.float64, "C", seed=0)
    with pytest.raises(ValueError, match=r"shape \(n, K\)"):
        _run(X, W[:, :2], b, y, sw, fold, exclude)
    with pytest.raises(ValueError, match="y, sw and fold"):
        _run(X, W, b, y[:-1], sw, fold, exclude)


# ---------------------------------------------------------------- multinomial (softmax)
def softmax_reference(X, y, s, W, b):
    z = np.asarray(X, dtype=np.float64) @ W + b
    z -= z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    idx = np.arange(len(y))
    a = np.exp(z - lse[:, None])
    a[idx, y] -= 1.0
    dz = s[:, None] * a
    return (s * (lse - z[idx, y])).sum(), np.asarray(X, np.float64).T @ dz, dz.sum(axis=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("K", [3, 10])
def test_softmax_equals_numpy(dtype, order, K, monkeypatch):
    monkeypatch.setattr(numba_kcol, "TILE_BYTES", 4096)  # many tiles and a tail
    rng = np.random.default_rng(K)
    X = np.asarray(rng.standard_normal((1001, 13)), dtype=dtype, order=order)
    y = rng.integers(0, K, 1001)
    s = rng.random(1001)
    for scale in (0.0, 0.5, 30.0):  # uniform, moderate and saturated probabilities
        W = rng.standard_normal((13, K)) * scale
        b = rng.standard_normal(K)
        got = softmax_kernel(X, "numba")(X, y.astype(np.float64), s, W, b)
        _close(got, softmax_reference(X, y, s, W, b), RTOL[dtype])


def test_multinomial_objective_takes_the_kernel():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 20))  # 3.2 MB: "auto" takes the kernel
    y = rng.integers(0, 4, 20_000)
    auto = LogisticObjective(X, y, n_classes=4)
    assert auto._kernel is numba_kcol.softmax_loss_grad
    assert LogisticObjective(X[:100], y[:100], n_classes=4)._kernel is None
    assert LogisticObjective(X, y, n_classes=4, kernel="numpy")._kernel is None
    from vlogreg._kernels import numba_softmax_csr  # CSR X: its own kernel
    csr = LogisticObjective(sp.csr_matrix(X), y, n_classes=4, kernel="numba")
    assert csr._kernel is numba_softmax_csr.softmax_loss_grad
    with pytest.raises(ValueError, match="kernel='numba'"):
        LogisticObjective(X[:, ::2], y, n_classes=4, kernel="numba")  # not contiguous
    ref = LogisticObjective(X, y, n_classes=4, kernel="numpy", alpha=0.1)
    fast = LogisticObjective(X, y, n_classes=4, kernel="numba", alpha=0.1)
    theta = rng.standard_normal(fast.n_params) * 0.3
    f1, g1 = fast.value_and_grad(theta)
    f2, g2 = ref.value_and_grad(theta)
    np.testing.assert_allclose(f1, f2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12 * np.abs(g2).max())


@pytest.mark.parametrize("order", ["C", "F"])
def test_softmax_bit_identical_across_thread_counts(order):
    rng = np.random.default_rng(9)
    X = np.asarray(rng.standard_normal((150_000, 6)), order=order)
    y = rng.integers(0, 5, 150_000).astype(np.float64)
    W = rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    s = np.ones(150_000)
    before = numba.get_num_threads()
    try:
        results = []
        for t in sorted({1, before}):
            numba.set_num_threads(t)
            results.append(numba_kcol.softmax_loss_grad(X, y, s, W, b))
    finally:
        numba.set_num_threads(before)
    for r in results[1:]:
        assert r[0] == results[0][0]
        assert np.array_equal(r[1], results[0][1]) and np.array_equal(r[2], results[0][2])


def test_batched_no_model_and_no_row():
    X, W, b, y, sw, fold, exclude = _problem(40, 6, 2, np.float64, "C", seed=1)
    loss, G, gb = _run(X, W[:, :0], b[:0], y, sw, fold, exclude[:0])
    assert loss.shape == (0,) and G.shape == (6, 0) and gb.shape == (0,)
    loss, G, gb = _run(X[:0], W, b, y[:0], sw[:0], fold[:0], exclude)
    assert np.array_equal(loss, [0, 0]) and not G.any() and not gb.any()
