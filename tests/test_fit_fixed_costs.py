"""The fixed cost of a fit (issue 16): what every fit does besides its loss+gradient
passes stays cheap without losing a check or copying X.

- the value checks of a large X (several row blocks over threads, as the checking pass
  that also makes the first gradient walks them) still name the first bad value's row
  and column, in C and Fortran order, float32 and float64, and sparse;
- a fit never copies X, whatever its order (a DataFrame's ``to_numpy()`` is usually
  Fortran-ordered): the peak of the memory NumPy allocates during a fit stays a small
  fraction of X's bytes (tracemalloc sees NumPy's allocations);
- the class counts behind ``class_weight="balanced"`` are still taken when it is set.
"""

from __future__ import annotations

import re
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils.class_weight import compute_class_weight

from vlogreg import LogisticRegression
from vlogreg._labels import final_weights

M, N = 120_000, 20  # float64 C: 19 MB, above the threaded size; blocks of <= 4 MiB
ROW, COL = 100_003, 17  # in a late block of the second thread's share


def _data(dtype, order, n=N):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((M, n))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.logistic(size=M) > 0).astype(int)
    return np.asarray(X, dtype=dtype, order=order), y


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_a_late_non_finite_value_is_named_by_row_and_column(order, dtype, bad, word):
    X, y = _data(dtype, order)
    X[ROW, COL] = bad
    X[ROW + 5, 2] = bad  # a second one: the first is named, the count says both
    with pytest.raises(ValueError, match=rf"^Input X contains {re.escape(word)} at row "
                                         rf"{ROW}, column {COL} \(2 non-finite"):
        LogisticRegression().fit(X, y)


@pytest.mark.parametrize("order", ["C", "F"])
def test_a_late_value_too_large_for_float32_is_named_by_column(order):
    X, y = _data(np.float32, order)
    X[ROW, COL] = 3e20  # finite, but its square overflows float32 sums
    with pytest.raises(ValueError, match=rf"as large as 3e\+20 \(column {COL}\).*scale"):
        LogisticRegression().fit(X, y)


def test_a_late_non_finite_value_in_sparse_X_is_named():
    X, y = _data(np.float64, "C")
    X[np.abs(X) < 1.0] = 0.0
    X[ROW, COL] = np.nan
    with pytest.raises(ValueError, match=rf"NaN at row {ROW}, column {COL}"):
        LogisticRegression().fit(sp.csr_matrix(X), y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_fit_never_copies_X_in_either_order(dtype):
    X, y = _data(dtype, "C", n=50)
    XF = np.asfortranarray(X)
    LogisticRegression(tol=1e-3).fit(XF, y)  # numba's compilation outside the trace
    fits = {}
    for name, data in (("C", X), ("F", XF)):
        tracemalloc.start()
        fits[name] = LogisticRegression(tol=1e-3).fit(data, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        # X is 24 / 48 MB; the fit's own arrays are O(m) vectors (~6 MB at 120k rows)
        # and the Hessian bound's row subsample
        assert peak < 0.5 * X.nbytes, (name, peak, X.nbytes)
    # the same objective in either order
    np.testing.assert_allclose(fits["F"].coef_, fits["C"].coef_, rtol=1e-4, atol=1e-6)


def test_balanced_class_weights_still_count_the_classes():
    y_idx = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    classes = np.array([10, 20, 30])
    got = final_weights(np.ones(10), "balanced", classes, y_idx)
    want = compute_class_weight("balanced", classes=classes, y=classes[y_idx])[y_idx]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    np.testing.assert_array_equal(final_weights(np.ones(10), None, classes, y_idx),
                                  np.ones(10))
