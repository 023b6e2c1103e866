"""The multinomial CSR kernel (numba_softmax_csr): one softmax model, or K of them side by
side, on a sparse X. Oracles: the dense K-column kernel and the NumPy sums from the
definitions on X's dense copy, the blocked NumPy objectives, finite differences, and
scikit-learn's lbfgs fit; bit-identical across runs and thread counts."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from test_kernels_kcol import softmax_reference
from test_kernels_kcol_csr import sparse_x
from threadpoolctl import threadpool_limits

import vlogreg._kernels as kernels
from vlogreg import LogisticRegression
from vlogreg._kernels import batched_softmax_kernel, softmax_kernel
from vlogreg.objective.batched_multi import BatchedMultinomial
from vlogreg.objective.logistic import LogisticObjective

numba = pytest.importorskip("numba")
from vlogreg._kernels import (  # after the skip: needs numba
    numba_kcol,
    numba_softmax_csr,
)


def _problem(m, n, K, dtype=np.float64, seed=0, density=0.02, scale=1.0):
    """A CSR X with empty rows and empty columns, class indices, row weights (some 0)."""
    rng = np.random.default_rng(seed)
    X = sparse_x(m, n, rng, seed, density, dtype)
    W = rng.standard_normal((n, K)) * scale
    b = rng.standard_normal(K)
    y = rng.integers(0, K, m)
    s = rng.uniform(0.0, 2.0, m)
    s[rng.random(m) < 0.05] = 0.0
    return X, y, s, W, b


def _kernel(X, y, s, W, b):
    return softmax_kernel(X, "numba")(X, y.astype(np.float64), s, W, b)


def _close(got, want, rtol):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * np.abs(w).max())


@pytest.mark.parametrize("K", [2, 3, 7, 20])  # 3, 7, 20: no multiple of a vector width
@pytest.mark.parametrize("scale", [0.0, 0.5, 5.0])  # uniform .. saturated probabilities
def test_equals_the_dense_kernel_and_the_definitions(K, scale):
    X, y, s, W, b = _problem(2003, 157, K, seed=K, scale=scale)
    assert np.diff(X.indptr).min() == 0 and np.bincount(X.indices, minlength=157).min() == 0
    assert softmax_kernel(X, "numba") is numba_softmax_csr.softmax_loss_grad
    got = _kernel(X, y, s, W, b)
    assert isinstance(got[0], float) and got[1].shape == (157, K) and got[2].shape == (K,)
    _close(got, numba_kcol.softmax_loss_grad(X.toarray(), y.astype(np.float64), s, W, b),
           1e-12)
    _close(got, softmax_reference(X.toarray(), y, s, W, b), 1e-12)


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_equals_the_numpy_blocks(weighted, fit_intercept):
    X, y, s, W, b = _problem(3000, 211, 7, seed=4)
    kw = dict(alpha=0.01, n_classes=7, fit_intercept=fit_intercept)
    sw = s if weighted else None
    fast = LogisticObjective(X, y, sw, kernel="numba", **kw)
    assert fast._kernel is numba_softmax_csr.softmax_loss_grad
    ref = LogisticObjective(X, y, sw, kernel="numpy", block_bytes=64 << 10, **kw)
    assert ref._kernel is None and len(ref.blocks.starts) > 1
    theta = fast.pack(W, b)
    f1, g1 = fast.value_and_grad(theta)
    f2, g2 = ref.value_and_grad(theta)
    np.testing.assert_allclose(f1, f2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12 * np.abs(g2).max())


def test_gradient_against_finite_differences():
    X, y, s, W, b = _problem(300, 23, 5, seed=7, density=0.1)
    loss, dW, db = _kernel(X, y, s, W, b)
    h = 1e-6
    for j, c in [(0, 0), (3, 4), (11, 2), (22, 1)]:
        Wp, Wm = W.copy(), W.copy()
        Wp[j, c] += h
        Wm[j, c] -= h
        fd = (_kernel(X, y, s, Wp, b)[0] - _kernel(X, y, s, Wm, b)[0]) / (2 * h)
        np.testing.assert_allclose(dW[j, c], fd, rtol=1e-6, atol=1e-6)
    for c in range(5):
        bp, bm = b.copy(), b.copy()
        bp[c] += h
        bm[c] -= h
        fd = (_kernel(X, y, s, W, bp)[0] - _kernel(X, y, s, W, bm)[0]) / (2 * h)
        np.testing.assert_allclose(db[c], fd, rtol=1e-6, atol=1e-6)


def test_float32_data():
    """float32 X: z is summed in float64 from exact float64 copies of the data, so the
    only difference from the float64 sums is the shorter exp series (< 3e-10)."""
    X, y, s, W, b = _problem(2000, 99, 7, dtype=np.float32, seed=5)
    got = _kernel(X, y, s, W, b)
    _close(got, softmax_reference(X.toarray().astype(np.float64), y, s, W, b), 1e-8)


def test_int64_indices_give_the_same_bits():
    X, y, s, W, b = _problem(2000, 99, 7, seed=6)
    X64 = X.copy()  # scipy's constructors would take the indices back to int32
    X64.indices, X64.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    assert X64.indices.dtype == np.int64
    for got, want in zip(_kernel(X64, y, s, W, b), _kernel(X, y, s, W, b)):
        np.testing.assert_array_equal(got, want)


def test_bit_identical_across_runs_and_thread_counts(monkeypatch):
    monkeypatch.setattr(numba_softmax_csr, "MAX_PARTS", 4)  # partials on any machine
    X, y, s, W, b = _problem(20_000, 301, 7, seed=8)
    assert numba_softmax_csr.n_parts_fixed(20_000, 301, 7, X.nnz) == 4
    fold = np.zeros(20_000, np.int32)
    exclude = np.full(1, -1, np.int32)

    def run(threads):
        G, gb = np.full((301, 7), np.nan), np.full(7, np.nan)
        loss = numba_softmax_csr.batched_softmax_loss_grad(
            X, W, b, y.astype(np.float64), s, fold, exclude, 7, G, gb, n_threads=threads)
        return loss, G, gb

    first = run(1)
    for threads in (1, 2, 2, 1):
        for got, want in zip(run(threads), first):
            np.testing.assert_array_equal(got, want)
    _close(first, softmax_reference(X.toarray(), y, s, W, b), 1e-12)


# ---------------------------------------------------------- K multinomial models at once
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_batched_equals_the_numpy_blocks_and_single_objectives(fit_intercept):
    X, y, s, _, _ = _problem(3000, 121, 3, seed=9)
    rng = np.random.default_rng(9)
    fold = rng.integers(0, 4, 3000).astype(np.int32)
    exclude = np.array([-1, 0, 1, 2, 3, 0, 7], np.int32)   # 7: every row counts
    alpha = np.array([0.0, 1e-3, 0.1, 1.0, 0.0, 5.0, 0.01])
    kw = dict(n_classes=3, fold=fold, exclude=exclude, alpha=alpha,
              fit_intercept=fit_intercept)
    fast = BatchedMultinomial(X, y, s, kernel="numba", **kw)
    assert fast._softmax is numba_softmax_csr.batched_softmax_loss_grad
    ref = BatchedMultinomial(X, y, s, kernel="numpy", **kw)
    assert ref._softmax is None
    theta = rng.standard_normal((fast.p, 7))
    f1, g1 = fast.value_and_grad(theta)
    f2, g2 = ref.value_and_grad(theta)
    np.testing.assert_allclose(f1, f2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-12 * np.abs(g2).max())
    for k in (0, 3, 6):
        rows = fold != exclude[k]
        single = LogisticObjective(X[rows], y[rows], s[rows], alpha=alpha[k], n_classes=3,
                                   fit_intercept=fit_intercept, kernel="numpy")
        want_f, want_g = single.value_and_grad(theta[:, k])
        np.testing.assert_allclose(f1[k], want_f, rtol=1e-12)
        np.testing.assert_allclose(g1[:, k], want_g, rtol=1e-12,
                                   atol=1e-12 * np.abs(want_g).max())
    models = np.array([5, 1])  # a subset, in any order
    f_sub, g_sub = fast.value_and_grad(theta[:, models], models=models)
    np.testing.assert_allclose(f_sub, f1[models], rtol=1e-14)
    np.testing.assert_allclose(g_sub, g1[:, models], rtol=1e-14, atol=1e-16)


def test_bad_input_is_refused_in_one_line():
    X, y, s, W, b = _problem(200, 30, 4, seed=10)
    fn = numba_softmax_csr.batched_softmax_loss_grad
    fold, exclude = np.zeros(200, np.int32), np.full(1, -1, np.int32)
    G, gb = np.empty((30, 4)), np.empty(4)
    for bad in (y + 1, y - 1, y + 0.5):
        with pytest.raises(ValueError, match=r"class indices 0 \.\. 3") as err:
            fn(X, W, b, bad.astype(np.float64), s, fold, exclude, 4, G, gb)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=r"W and G need shape \(30, 8\)"):
        fn(X, W, b, y.astype(np.float64), s, fold, np.full(2, -1, np.int32), 4, G, gb)
    with pytest.raises(ValueError, match="y, sw and fold"):
        fn(X, W, b, y[:-1].astype(np.float64), s, fold, exclude, 4, G, gb)
    with pytest.raises(ValueError, match="CSR matrices only"):
        batched_softmax_kernel(X.toarray(), kernel="numba")
    assert batched_softmax_kernel(X.toarray()) is None
    assert batched_softmax_kernel(X, kernel="numpy") is None
    with pytest.raises(ValueError, match="is not valid"):
        batched_softmax_kernel(X.toarray(), kernel="fast")


def test_auto_takes_the_kernel_for_a_large_csr_only():
    X, y, _, _, _ = _problem(20_000, 1000, 5, seed=11, density=0.01)
    assert X.data.nbytes + X.indices.nbytes >= kernels.MIN_KERNEL_BYTES
    assert softmax_kernel(X) is numba_softmax_csr.softmax_loss_grad
    assert LogisticObjective(X, y, n_classes=5)._kernel is numba_softmax_csr.softmax_loss_grad
    assert softmax_kernel(X[:100]) is None  # small: the NumPy path
    assert softmax_kernel(X.tocsc(), "auto") is None


# -------------------------------------------------------------------- the estimator
def test_estimator_on_csr_equals_sklearn_and_the_dense_fit(monkeypatch):
    rng = np.random.default_rng(12)
    m, n, K = 1500, 60, 5
    X = sp.random(m, n, density=0.15, format="csr", random_state=12,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal((n, K)) + rng.gumbel(size=(m, K))).argmax(axis=1)
    monkeypatch.setattr(kernels, "MIN_KERNEL_BYTES", 0)  # "auto" takes this small X
    calls = []
    real = numba_softmax_csr.softmax_loss_grad
    monkeypatch.setattr(numba_softmax_csr, "softmax_loss_grad",
                        lambda *a: calls.append(1) or real(*a))
    kw = dict(C=0.5, solver="lbfgs", tol=1e-10, max_iter=10_000)
    est = LogisticRegression(**kw).fit(X, y)
    assert len(calls) > 10  # the fit ran through the CSR kernel
    dense = LogisticRegression(**kw).fit(X.toarray(), y)
    sk = SkLogisticRegression(C=0.5, tol=1e-12, max_iter=10_000)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(X, y)
    assert sk.n_iter_.max() < 10_000, "the scikit-learn oracle did not converge"
    # the multinomial coefficients are defined up to a shift per feature (sum over the
    # classes, with L2: 0); scikit-learn's and ours both have it 0
    for other in (sk, dense):
        scale = np.abs(other.coef_).max()
        np.testing.assert_allclose(est.coef_, other.coef_, rtol=1e-5, atol=1e-5 * scale)
        np.testing.assert_allclose(est.intercept_, other.intercept_, rtol=1e-5,
                                   atol=1e-5 * np.abs(other.intercept_).max())


def test_cross_validation_on_csr_runs_the_kernel_and_equals_the_dense_one(monkeypatch):
    from vlogreg import LogisticRegressionCV

    rng = np.random.default_rng(13)
    X = sp.random(600, 40, density=0.2, format="csr", random_state=13,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal((40, 4)) + rng.gumbel(size=(600, 4))).argmax(axis=1)
    monkeypatch.setattr(kernels, "MIN_KERNEL_BYTES", 0)
    calls = []
    real = numba_softmax_csr.batched_softmax_loss_grad
    monkeypatch.setattr(numba_softmax_csr, "batched_softmax_loss_grad",
                        lambda *a: calls.append(1) or real(*a))
    kw = dict(Cs=4, cv=3, scoring="neg_log_loss", l1_ratios=(0,),
              use_legacy_attributes=False, tol=1e-10, max_iter=2000)
    sparse = LogisticRegressionCV(**kw).fit(X, y)
    assert sparse.batched_ and calls  # one batched objective, through the CSR kernel
    dense = LogisticRegressionCV(**kw).fit(X.toarray(), y)  # its NumPy blocks
    np.testing.assert_allclose(sparse.scores_, dense.scores_, rtol=1e-8)
    assert sparse.C_ == dense.C_
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6,
                               atol=1e-6 * np.abs(dense.coef_).max())
