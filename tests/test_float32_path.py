"""float32 data follow the float64 path: the preconditioner is built in float64.

L-BFGS runs in coordinates whitened by the Hessian bound ``X~^T X~ / 4 + alpha`` of a
row subsample. Built from float32 products, its ~1e-7 rounding moved the near-zero
eigenvalues of collinear columns (make_classification's redundant ones) by orders of
magnitude, and float32 fits went another way from the second iteration: 9 iterations
to tol 1e-5 where float64 took 7 (200k x 100). The oracle here is the float64 objective
of the same (float32-rounded) values: only the dtype of the arithmetic differs.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from vlogreg import LogisticObjective, LogisticRegression


def collinear_data(m=20000, n=30, seed=0):
    X, y = make_classification(n_samples=m, n_features=n, n_informative=n // 2,
                               n_redundant=4, random_state=seed)
    X32 = X.astype(np.float32)
    return X32, X32.astype(np.float64), y


def test_float32_bound_is_the_float64_bound_of_the_same_values():
    X32, X64, y = collinear_data()
    P32 = LogisticObjective(X32, y, alpha=1e-4).hessian_bound()
    P64 = LogisticObjective(X64, y, alpha=1e-4).hessian_bound()
    np.testing.assert_allclose(P32, P64, rtol=1e-12, atol=1e-15)
    # the whitening factors, where the rounding mattered
    np.testing.assert_allclose(np.linalg.cholesky(P32), np.linalg.cholesky(P64),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("tol", [1e-3, 1e-4])
def test_float32_fit_takes_the_float64_path(tol):
    X32, X64, y = collinear_data()
    f32 = LogisticRegression(tol=tol, solver="lbfgs").fit(X32, y)
    f64 = LogisticRegression(tol=tol, solver="lbfgs").fit(X64, y)
    assert abs(int(f32.n_iter_[0]) - int(f64.n_iter_[0])) <= 1
    h32, h64 = np.array(f32.loss_history_), np.array(f64.loss_history_)
    k = min(len(h32), len(h64))
    # the same iterates, up to the float32 rounding of z in the loss (~1e-7 relative)
    np.testing.assert_allclose(h32[:k], h64[:k], rtol=1e-6)
