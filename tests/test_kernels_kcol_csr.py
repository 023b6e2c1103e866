"""The CSR K-column kernel (numba_kcol_csr): K binary models on a sparse X at once,
against the float64 sums from their definitions, the NumPy ``batched_loss_grad`` and K
single ``LogisticObjective``s; deterministic for a thread count."""

import numpy as np
import pytest
import scipy.sparse as sp
from test_kernels_kcol import batched_reference

from vlogreg._kernels import batched_kernel
from vlogreg.objective.batched import BatchedObjective, batched_loss_grad
from vlogreg.objective.logistic import LogisticObjective

numba = pytest.importorskip("numba")
from vlogreg._kernels import numba_kcol_csr  # after the skip: needs numba


def reference(X, W, b, y, sw, fold, exclude):
    """The batched binary sums from their definitions, on the dense copy of X."""
    return batched_reference(X.toarray(), W, b, y, sw, fold, exclude)


def sparse_x(m, n, rng, seed, density, dtype):
    """A CSR X (m, n) of normal values with a tenth of its rows and of its columns
    empty (the kernels' row and column edge cases)."""
    X = sp.random(m, n, density=density, format="lil", random_state=seed,
                  data_rvs=rng.standard_normal)
    X[rng.choice(m, m // 10, replace=False)] = 0.0   # empty rows
    X[:, rng.choice(n, n // 10, replace=False)] = 0.0  # empty columns
    X = sp.csr_matrix(X, dtype=dtype)
    X.eliminate_zeros()
    return X


def _problem(m, n, K, dtype=np.float64, seed=0, density=0.01):
    """A CSR X with empty rows and empty columns, row weights (some 0), five folds."""
    rng = np.random.default_rng(seed)
    X = sparse_x(m, n, rng, seed, density, dtype)
    W = rng.standard_normal((n, K)) * 2.0  # |z| up to ~10: both branches of the loss
    b = rng.standard_normal(K)
    y = (rng.random(m) < 0.4).astype(np.float64)
    sw = rng.uniform(0.0, 2.0, m)
    sw[rng.random(m) < 0.05] = 0.0
    fold = rng.integers(0, 5, m).astype(np.int32)
    exclude = np.resize(np.array([-1, 0, 1, 2, 3, 4, 7], np.int32), K)  # 7: no row
    return X, W, b, y, sw, fold, exclude


def _run(X, W, b, y, sw, fold, exclude, n_threads=None, G=None):
    n, K = W.shape
    G = np.full((n, K), np.nan) if G is None else G
    gb = np.full(K, np.nan)
    loss = batched_kernel(X, kernel="numba")(X, W, b, y, sw, fold, exclude, G, gb,
                                             n_threads)
    return loss, G, gb


def _close(got, want, rtol):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


@pytest.mark.parametrize("K", [1, 13, 40])  # 13: no multiple of any vector width
def test_equals_the_definitions_and_the_numpy_path(K):
    args = _problem(3001, 211, K, seed=K)
    X, W, b, y, sw, fold, exclude = args
    assert np.diff(X.indptr).min() == 0 and np.bincount(X.indices, minlength=211).min() == 0
    got = _run(*args)
    _close(got, reference(*args), 1e-12)
    G, gb = np.empty_like(W), np.empty(K)
    loss = batched_loss_grad(X, W, b, y, sw, fold, exclude, G, gb)
    _close(got, (loss, G, gb), 1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_equals_k_single_objectives(fit_intercept):
    X, W, b, y, sw, fold, exclude = _problem(2500, 97, 7, seed=3)
    alpha = np.array([0.0, 1e-3, 0.1, 1.0, 1e-2, 5.0, 0.0])
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                             fit_intercept=fit_intercept, kernel="numba")
    assert batch._kernel is numba_kcol_csr.batched_loss_grad
    loss, dw, db = batch.loss_grad(W, b)
    for k in range(7):
        rows = fold != exclude[k]
        single = LogisticObjective(X[rows], y[rows], sw[rows], alpha=alpha[k],
                                   fit_intercept=fit_intercept, kernel="numpy")
        ref = single.loss_grad(W[:, k], b[k] if fit_intercept else 0.0)
        np.testing.assert_allclose(loss[k], ref.loss, rtol=1e-12)
        np.testing.assert_allclose(dw[:, k], ref.dw, rtol=1e-12,
                                   atol=1e-12 * np.abs(ref.dw).max())
        if fit_intercept:
            np.testing.assert_allclose(db[k], ref.db, rtol=1e-12, atol=1e-15)
    # converged models drop out: a subset of the columns, in any order
    sub = np.array([5, 0, 3])
    for got, full in zip(batch.loss_grad(W[:, sub], b[sub], sub), (loss, dw, db)):
        np.testing.assert_allclose(got, full[..., sub], rtol=1e-12, atol=1e-15)


def test_float32_data():
    X, W, b, y, sw, fold, exclude = _problem(3001, 150, 9, seed=5)
    X32 = X.astype(np.float32)
    got = _run(X32, W, b, y, sw, fold, exclude)
    # z and the sums are float64 from the float32 values; only the shorter exp and
    # log1p series (errors < 3e-10) differ from the float64 definitions
    _close(got, reference(X32.astype(np.float64), W, b, y, sw, fold, exclude), 1e-8)
    # the NumPy path rounds z and dz to float32
    G, gb = np.empty_like(W), np.empty(9)
    loss = batched_loss_grad(X32, W, b, y, sw, fold, exclude, G, gb)
    _close(got, (loss, G, gb), 1e-5)


def test_int64_indices_and_a_non_contiguous_g():
    args = _problem(1500, 60, 5, seed=7)
    X = args[0]
    want = _run(*args)
    X64 = X.copy()  # (scipy's constructor would take int64 indices back to int32)
    X64.indices, X64.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    assert X64.indices.dtype == np.int64
    GF = np.full((5, 60), np.nan).T  # F-ordered out
    got = _run(X64, *args[1:], G=GF)
    assert got[1] is GF
    for g, w in zip(got, want):
        assert np.array_equal(g, w)


def test_bit_identical_across_runs_and_close_across_thread_counts():
    args = _problem(20_000, 300, 11, seed=9, density=0.005)
    m, n = args[0].shape
    first = _run(*args, n_threads=1)
    assert all(np.array_equal(a, c) for a, c in zip(_run(*args, n_threads=1), first))
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    assert numba_kcol_csr.n_parts_csr(m, n, 11, 2) == 2  # two row ranges, two partials
    two = _run(*args, n_threads=2)
    assert all(np.array_equal(a, c) for a, c in zip(_run(*args, n_threads=2), two))
    _close(two, first, 1e-12)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored


def test_kernel_choice_and_bad_input():
    X, W, b, y, sw, fold, exclude = _problem(200, 30, 3)
    assert batched_kernel(X) is None  # a few KiB: the NumPy path
    assert batched_kernel(X, kernel="numba") is numba_kcol_csr.batched_loss_grad
    big = sp.random(200_000, 100, density=0.01, format="csr", random_state=0)
    assert batched_kernel(big) is numba_kcol_csr.batched_loss_grad
    assert batched_kernel(big.astype(np.int64), kernel="auto") is None  # not float
    with pytest.raises(ValueError, match=r"shape \(n, K\)"):
        _run(X, W[:, :2], b, y, sw, fold, exclude)
    with pytest.raises(ValueError, match="y, sw and fold"):
        _run(X, W, b, y, sw[:-1], fold, exclude)
    loss, G, gb = _run(X, W[:, :0], b[:0], y, sw, fold, exclude[:0])  # no model left
    assert loss.shape == (0,) and G.shape == (30, 0)


def test_hessian_diagonals_equal_the_definitions_for_any_threads():
    X, W, b, y, sw, fold, exclude = _problem(20_000, 300, 13, seed=11, density=0.005)
    Xd = X.toarray()
    w = sw[:, None] * (fold[:, None] != exclude[None, :])
    a = 1.0 / (1.0 + np.exp(-(Xd @ W + b)))
    d = w * a * (1.0 - a)
    want = ((Xd ** 2).T @ d, d.sum(axis=0))
    one = numba_kcol_csr.hessian_diagonals(X, W, b, sw, fold, exclude, n_threads=1)
    _close(one, want, 1e-12)
    if numba.config.NUMBA_NUM_THREADS >= 2:
        _close(numba_kcol_csr.hessian_diagonals(X, W, b, sw, fold, exclude, n_threads=2),
               one, 1e-12)
