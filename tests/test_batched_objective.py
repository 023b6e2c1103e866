"""The batched objective (K models, one read of X) equals K single LogisticObjectives."""

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg.objective.batched import BatchedObjective, batched_loss_grad
from vlogreg.objective.logistic import LogisticObjective


def _problem(m=300, n=7, seed=0, n_folds=4, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    if sparse:
        X[rng.random(X.shape) < 0.6] = 0.0
        X = sp.csr_matrix(X)
    y = (rng.random(m) < 0.4).astype(float)
    sw = rng.uniform(0.2, 3.0, m)
    fold = rng.integers(0, n_folds, m).astype(np.int32)
    return X, y, sw, fold, rng


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [True, False])
def test_equals_single_objectives(sparse, fit_intercept, weights):
    X, y, sw, fold, rng = _problem(sparse=sparse)
    sw = sw if weights else None
    exclude = np.array([-1, 0, 1, 2, 3, 0, 2], dtype=np.int32)
    alpha = np.array([0.0, 1e-3, 0.1, 1.0, 1e-2, 5.0, 0.0])
    K = len(exclude)
    W = rng.normal(size=(X.shape[1], K))
    b = rng.normal(size=K)
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                             fit_intercept=fit_intercept, kernel="numpy")
    loss, dw, db = batch.loss_grad(W, b)
    for k in range(K):
        rows = fold != exclude[k]
        # the oracle: the single objective on the model's rows only (a copy of them)
        s_k = None if sw is None else sw[rows]
        single = LogisticObjective(X[rows], y[rows], s_k, alpha=alpha[k],
                                   fit_intercept=fit_intercept, kernel="numpy")
        ref = single.loss_grad(W[:, k], b[k] if fit_intercept else 0.0)
        np.testing.assert_allclose(loss[k], ref.loss, rtol=1e-12)
        np.testing.assert_allclose(dw[:, k], ref.dw, rtol=1e-12, atol=1e-14)
        if fit_intercept:
            np.testing.assert_allclose(db[k], ref.db, rtol=1e-12, atol=1e-14)
        # and the zero-weight formulation batch.single(k)
        ref2 = batch.single(k, kernel="numpy").loss_grad(W[:, k], b[k] if fit_intercept
                                                        else 0.0)
        np.testing.assert_allclose(loss[k], ref2.loss, rtol=1e-12)


def test_model_subset_and_flat_interface():
    X, y, sw, fold, rng = _problem()
    exclude = np.array([0, 1, 2, 3], dtype=np.int32)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                             kernel="numpy")
    theta = rng.normal(size=(X.shape[1] + 1, 4))
    f_all, g_all = batch.value_and_grad(theta)
    sub = np.array([3, 1])
    f_sub, g_sub = batch.value_and_grad(theta[:, sub], sub)
    # equal to rounding: BLAS sums a product of 2 columns in another order than of 4
    np.testing.assert_allclose(f_sub, f_all[sub], rtol=1e-14)
    np.testing.assert_allclose(g_sub, g_all[:, sub], rtol=1e-13, atol=1e-16)


def test_gradient_matches_finite_differences():
    X, y, sw, fold, rng = _problem(m=120, n=4)
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=[1, -1], alpha=[0.3, 0.0],
                             kernel="numpy")
    theta = rng.normal(size=(5, 2))
    _, g = batch.value_and_grad(theta)
    h = 1e-6
    for j in range(5):
        e = np.zeros((5, 2))
        e[j] = h
        fd = (batch.value_and_grad(theta + e)[0] - batch.value_and_grad(theta - e)[0]) / (2 * h)
        np.testing.assert_allclose(g[j], fd, rtol=1e-6, atol=1e-9)


def test_threads_and_blocks_do_not_change_the_sums():
    X, y, sw, fold, rng = _problem(m=5000, n=6)
    exclude = np.array([-1, 0, 2], dtype=np.int32)
    W, b = rng.normal(size=(6, 3)), rng.normal(size=3)
    out = []
    for threads in (1, 2):
        G, gb = np.empty((6, 3)), np.empty(3)
        from vlogreg.objective.blocks import RowBlocks
        loss = batched_loss_grad(X, W, b, y, sw, fold, exclude, G, gb,
                                 blocks=RowBlocks(X, block_bytes=4096, n_threads=threads))
        out.append((loss, G, gb))
    for a, c in zip(*out):
        np.testing.assert_allclose(a, c, rtol=1e-12)


def test_float32_close_to_float64():
    X, y, sw, fold, rng = _problem()
    W, b = rng.normal(size=(7, 2)) * 0.1, np.zeros(2)
    kw = dict(fold=fold, exclude=[0, 1], alpha=[0.1, 0.1], kernel="numpy")
    f64 = BatchedObjective(X, y, sw, **kw).loss_grad(W, b)
    f32 = BatchedObjective(X.astype(np.float32), y, sw, **kw).loss_grad(W, b)
    np.testing.assert_allclose(f32.loss, f64.loss, rtol=1e-5)
    np.testing.assert_allclose(f32.dw, f64.dw, rtol=1e-4, atol=1e-5)


def test_bad_inputs_name_the_fix():
    X, y, sw, fold, _ = _problem()
    with pytest.raises(ValueError, match="fold ids must be >= 0"):
        BatchedObjective(X, y, fold=fold - 5, exclude=[0], alpha=[0.0])
    with pytest.raises(ValueError, match="one entry per row"):
        BatchedObjective(X, y[:-1], exclude=[0], alpha=[0.0])
    with pytest.raises(ValueError, match="no rows of positive weight"):
        BatchedObjective(X, y, fold=np.zeros(len(y), np.int32), exclude=[0], alpha=[0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_numba_kernel_equals_numpy_path(dtype, order):
    pytest.importorskip("numba")
    X, y, sw, fold, rng = _problem(m=700, n=9)
    X = np.asarray(X, dtype=dtype, order=order)
    exclude = np.array([-1, 0, 1, 2, 3, 1], dtype=np.int32)
    alpha = np.array([0.0, 1e-3, 0.1, 1.0, 1e-2, 5.0])
    W, b = rng.normal(size=(9, 6)) * 0.3, rng.normal(size=6)
    kw = dict(fold=fold, exclude=exclude, alpha=alpha)
    fast = BatchedObjective(X, y, sw, kernel="numba", **kw)
    slow = BatchedObjective(X, y, sw, kernel="numpy", **kw)
    assert fast._kernel is not None and slow._kernel is None
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for a, c in zip(fast.loss_grad(W, b), slow.loss_grad(W, b)):
        np.testing.assert_allclose(a, c, rtol=rtol, atol=rtol * 1e-2)
    sub = np.array([4, 0])
    for a, c in zip(fast.loss_grad(W[:, sub], b[sub], sub), slow.loss_grad(W, b)):
        np.testing.assert_allclose(a, c[..., sub], rtol=rtol, atol=rtol * 1e-2)


def test_hessian_at_theta_equals_the_single_models_hessian():
    X, y, sw, fold, rng = _problem(m=500, n=6)  # fewer rows than the subsample: exact
    exclude = np.array([0, 2, -1], dtype=np.int32)
    alpha = np.array([0.1, 0.0, 1e-3])
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                             kernel="numpy")
    theta = rng.normal(size=(7, 3)) * 0.5
    H = batch.hessian_bounds(theta=theta)
    for k in range(3):
        ref = batch.single(k, kernel="numpy").hessian(theta[:, k])
        # spd_ridge adds 1e-10 of each diagonal entry
        np.testing.assert_allclose(H[k], ref, rtol=1e-9, atol=1e-12)
    # at theta = 0 the bound is the Hessian there (a (1 - a) = 1/4), up to the weights
    # of the rows each model leaves out
    H0 = batch.hessian_bounds()
    np.testing.assert_allclose(H0[2], batch.single(2).hessian(np.zeros(7)), rtol=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
def test_l1_composite_value_equals_single_objectives(sparse):
    # the full objective J_k + l1_k ||w_k||_1 with L1 and L2 strengths per model
    X, y, sw, fold, rng = _problem(sparse=sparse, seed=3)
    exclude = np.array([-1, 0, 1, 2, 3], dtype=np.int32)
    alpha = np.array([0.0, 1e-2, 0.0, 0.3, 1e-3])
    l1 = np.array([1e-2, 0.0, 0.5, 1e-3, 2e-2])
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha, l1=l1,
                             kernel="numpy")
    theta = rng.normal(size=(X.shape[1] + 1, len(exclude)))
    theta[2, 1] = 0.0  # a zero coefficient: |0| in the L1 term
    f, g = batch.value_and_grad(theta)
    F = f + batch.l1_value(theta)
    for k in range(len(exclude)):
        rows = fold != exclude[k]
        single = LogisticObjective(X[rows], y[rows], sw[rows], alpha=alpha[k], l1=l1[k],
                                   kernel="numpy")
        ref_f, ref_g = single.value_and_grad(theta[:, k])
        np.testing.assert_allclose(F[k], ref_f + single.l1_value(theta[:, k]),
                                   rtol=1e-12)
        np.testing.assert_allclose(g[:, k], ref_g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_sparse_wide_diagonals_read_every_row(kernel):
    # 40,000 rows: more than BOUND_MAX_ROWS, so dense and narrow X get a subsample of
    # every 2nd row; column 1100 has its only entries in odd rows, none sampled. A
    # sparse X beyond BOUND_MAX_DENSE columns gets the exact diagonals over all rows
    from vlogreg.objective.protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
    m, n = 40_000, 1200
    assert m > BOUND_MAX_ROWS and n + 1 > BOUND_MAX_DENSE
    rng = np.random.default_rng(4)
    cols = rng.integers(0, 1000, m)
    cols[1::1000] = 1100
    X = sp.csr_matrix((rng.uniform(0.5, 2.0, m), cols, np.arange(m + 1)), shape=(m, n))
    y = (rng.random(m) < 0.3).astype(float)
    sw = rng.uniform(0.2, 3.0, m)
    fold = rng.integers(0, 3, m).astype(np.int32)
    exclude = np.array([0, 2, -1], np.int32)
    alpha = np.array([0.0, 1e-3, 0.1])
    if kernel == "numba":
        pytest.importorskip("numba")
    batch = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                             kernel=kernel)
    assert (batch._diag_kernel is not None) == (kernel == "numba")
    theta = rng.normal(size=(n + 1, 3)) * 0.5
    Xd = X.toarray()
    # at theta, each model on its rows; the bound (theta = 0): shared, every row
    for th, H, shared in ((theta, batch.hessian_bounds(theta=theta), False),
                          (np.zeros((n + 1, 3)), batch.hessian_bounds(), True)):
        assert H.shape == (3, n + 1)
        for k in range(3):
            w = sw if shared else sw * (fold != exclude[k])
            a = 1.0 / (1.0 + np.exp(-(Xd @ th[:n, k] + th[n, k])))
            d = w * a * (1 - a) / w.sum()
            want = np.append((Xd ** 2).T @ d + alpha[k], d.sum())
            want = np.maximum(want, 1e-10 * want.mean())  # spd_ridge's floor (empty cols)
            np.testing.assert_allclose(H[k], want, rtol=1e-12)
        assert H[:, 1100].min() > 1e-5  # the unsampled column: its real curvature
