"""``secondorder.weighted_gram``: ``X~^T diag(d) X~`` by the syrk of ``sqrt(d) X`` in parts.

The oracle is the plain product ``Xt.T @ (d[:, None] * Xt)`` of the bordered matrix
``Xt = [X, 1]`` in float64 (NumPy's general product, no square roots), for the shapes
and layouts the fits give it: the strided row subsample of the Hessian bound (C and F
order, float32 converted inside), more rows than one part (``GRAM_PART_ROWS``), weights
with zeros, negative weights (the multinomial Hessian's off-diagonal blocks), no rows.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg import LogisticObjective
from vlogreg.objective.secondorder import GRAM_PART_ROWS, weighted_gram


def reference(X, d, fit_intercept):
    X = np.asarray(X, dtype=np.float64)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    return Xt.T @ (np.asarray(d, dtype=np.float64)[:, None] * Xt)


def _data(m, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)) * np.linspace(0.1, 3.0, n) + 0.5, rng.uniform(0, 2, m)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_strided_subsample_in_float64(order, dtype, fit_intercept):
    # more rows than two parts, not a multiple of a part: the last part is short
    X, _ = _data(3 * 5 * GRAM_PART_ROWS // 2 + 7, 13)
    X = np.asarray(X, dtype=dtype, order=order)
    Xs = X[::3]  # a strided view, as the Hessian bound takes it
    d = np.random.default_rng(1).uniform(0, 1, Xs.shape[0])
    d[::5] = 0.0  # zero weights (weight-0 rows, a (1 - a) rounded to 0)
    got = weighted_gram(Xs, d, fit_intercept, dtype=np.float64)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, reference(Xs, d, fit_intercept), rtol=1e-12, atol=1e-9)


def test_the_same_sum_for_any_thread_count():
    X, d = _data(4 * GRAM_PART_ROWS + 100, 9)
    one = weighted_gram(X, d, True, n_threads=1)
    for n_threads in (2, 3, 8):
        np.testing.assert_array_equal(weighted_gram(X, d, True, n_threads=n_threads), one)


def test_float32_products_by_default():
    # a Newton block of float32 X keeps float32 products (summed over blocks in float64)
    X, d = _data(2000, 7)
    X32 = X.astype(np.float32)
    got = weighted_gram(X32, d, True)
    np.testing.assert_allclose(got, reference(X32, d, True), rtol=2e-5)
    assert not np.allclose(got, reference(X32, d, True), rtol=1e-12, atol=0)


def test_negative_weights_take_the_general_product():
    X, d = _data(500, 6)
    d = d - 1.0  # signs mixed: no square root
    np.testing.assert_allclose(weighted_gram(X, d, True), reference(X, d, True),
                               rtol=1e-12, atol=1e-10)


def test_no_rows():
    G = weighted_gram(np.zeros((0, 4)), np.zeros(0), True, n_threads=2)
    np.testing.assert_array_equal(G, np.zeros((5, 5)))


def test_sparse_rows_unchanged():
    X, d = _data(400, 8)
    X[np.abs(X) < 1.0] = 0.0
    np.testing.assert_allclose(weighted_gram(sp.csr_matrix(X), d, True),
                               reference(X, d, True), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("order", ["C", "F"])
def test_hessian_bound_is_the_subsamples_gram_without_a_float64_copy(monkeypatch, order):
    # the bound of float32 X: its strided rows converted inside the Gram matrix's pass,
    # not copied to float64 first (float64_rows is left to the bound at theta)
    X, _ = _data(3000, 5)
    X32 = np.asarray(X, dtype=np.float32, order=order)
    y = (X[:, 0] > 0.5).astype(float)
    obj = LogisticObjective(X32, y, alpha=1e-3, n_threads=2)

    def no_copy(Xs):
        raise AssertionError("float64_rows copied the subsample")

    monkeypatch.setattr("vlogreg.objective.logistic.float64_rows", no_copy)
    P = obj.hessian_bound(max_rows=1000)
    Xs = X32[::3]
    ref = reference(Xs, np.full(Xs.shape[0], 0.25 / Xs.shape[0]), True)
    ref[np.arange(5), np.arange(5)] += 1e-3
    ref[np.diag_indices(6)] += 1e-10 * np.diag(ref)  # spd_ridge
    np.testing.assert_allclose(P, ref, rtol=1e-12, atol=1e-15)
