"""reference: the loop versions equal the vectorized one (and the objective), and bad input
gets a ValueError that names the problem."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vlogreg import LogisticObjective, reference
from vlogreg.reference import IMPLEMENTATIONS, one_loop, two_loops, vectorized

IMPLS = [two_loops, one_loop, vectorized]
IMPL_IDS = ["two_loops", "one_loop", "vectorized"]

_val = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def problems(draw):
    n_x = draw(st.integers(1, 6))
    m = draw(st.integers(1, 30))
    X = draw(hnp.arrays(np.float64, (n_x, m), elements=_val))
    Y = draw(hnp.arrays(np.int64, (1, m), elements=st.integers(0, 1))).astype(np.float64)
    w = draw(hnp.arrays(np.float64, (n_x, 1), elements=_val))
    b = draw(_val)
    return w, b, X, Y


def _textbook(w, b, X, Y):
    """The note's formulas, written out independently (safe here: |z| <= 155)."""
    m = X.shape[1]
    Z = w.T @ X + b
    A = 1.0 / (1.0 + np.exp(-Z))
    dZ = A - Y
    # -log(1 - a) as log(1 + exp(z)): the same number, without the cancellation of 1 - a
    cost = float(np.sum(Y * np.logaddexp(0.0, -Z) + (1 - Y) * np.logaddexp(0.0, Z)) / m)
    return X @ dZ.T / m, float(dZ.sum() / m), cost


@settings(max_examples=50, deadline=None)
@given(problems())
def test_two_loops_one_loop_vectorized_and_objective_agree(problem):
    w, b, X, Y = problem
    results = [f(w, b, X, Y) for f in IMPLS]
    n_x = X.shape[0]
    for dw, db, cost in results:
        assert isinstance(dw, np.ndarray) and dw.shape == (n_x, 1) and dw.dtype == np.float64
        assert isinstance(db, float) and isinstance(cost, float)
        assert np.isfinite(cost) and cost >= 0
    dw0, db0, cost0 = results[-1]
    for dw, db, cost in results[:-1]:
        np.testing.assert_allclose(dw, dw0, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(db, db0, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(cost, cost0, rtol=1e-12, atol=1e-12)
    # the library's objective (examples as rows) on the transposed data
    loss, dw_o, db_o = LogisticObjective(X.T, Y.ravel()).loss_grad(w.ravel(), b)
    np.testing.assert_allclose(loss, cost0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw_o, dw0.ravel(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db_o, db0, rtol=1e-12, atol=1e-12)
    # and the textbook formulas
    dw_t, db_t, cost_t = _textbook(w, b, X, Y)
    np.testing.assert_allclose(dw0, dw_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db0, db_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cost0, cost_t, rtol=1e-12, atol=1e-12)


def test_implementations_registry_in_the_notes_order():
    assert list(IMPLEMENTATIONS.values()) == [two_loops, one_loop, vectorized]
    assert set(reference.__all__) >= {"two_loops", "one_loop", "vectorized"}


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_confident_predictions_stay_finite(impl):
    # |z| = 2000: the textbook log(1 - a) would be log(0)
    w = np.array([[100.0], [-100.0]])
    X = np.array([[10.0, -10.0, 10.0], [-10.0, 10.0, -10.0]])
    Y = np.array([[1.0, 0.0, 0.0]])
    dw, db, cost = impl(w, 0.0, X, Y)
    # examples 0, 1 are right with z = +-2000 (loss ~ e^-2000 = 0); example 2 is wrong
    # with z = 2000, so its loss is 2000 and dz = 1
    np.testing.assert_allclose(cost, 2000.0 / 3, rtol=1e-15)
    np.testing.assert_allclose(dw, X[:, 2:3] / 3, rtol=1e-15)
    np.testing.assert_allclose(db, 1.0 / 3, rtol=1e-15)


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
def test_inputs_are_not_modified_and_lists_are_accepted(impl):
    w = np.array([[0.5], [-1.0]])
    X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
    Y = np.array([[1, 0, 1]])
    copies = [a.copy() for a in (w, X, Y)]
    dw, db, cost = impl(w, 0.3, X, Y)
    for a, c in zip((w, X, Y), copies):
        np.testing.assert_array_equal(a, c)
    dw2, db2, cost2 = impl(w.tolist(), 0.3, X.tolist(), Y.tolist())
    np.testing.assert_allclose(dw2, dw, rtol=1e-15)
    assert db2 == pytest.approx(db, rel=1e-15) and cost2 == pytest.approx(cost, rel=1e-15)


# --------------------------------------------------------------------------- bad input
W2 = np.zeros((2, 1))
X23 = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
Y13 = np.array([[1.0, 0.0, 1.0]])


def _with(a, pos, value):
    a = np.array(a, dtype=float)
    a[pos] = value
    return a


BAD_INPUTS = [
    # (w, b, X, Y, exception, regex the message must match)
    ("Y too long", W2, 0.0, X23, np.array([[1.0, 0.0, 1.0, 0.0]]), ValueError,
     r"X has m = 3 examples \(columns\) but Y has 4"),
    ("X transposed", W2, 0.0, X23.T, Y13, ValueError, r"w has shape \(2, 1\).*n_x = 3"),
    ("label 2", W2, 0.0, X23, np.array([[1.0, 2.0, 0.0]]), ValueError,
     r"Y must hold labels 0 and 1 only, but Y\[0, 1\] = .*2"),
    ("label -1", W2, 0.0, X23, np.array([[-1.0, 0.0, 0.0]]), ValueError,
     r"labels 0 and 1 only"),
    ("NaN in X", W2, 0.0, _with(X23, (1, 2), np.nan), Y13, ValueError,
     r"X contains NaN at feature row 1, column 2"),
    ("inf in X", W2, 0.0, _with(X23, (0, 1), np.inf), Y13, ValueError,
     r"X contains inf at feature row 0, column 1"),
    ("-inf in X", W2, 0.0, _with(X23, (0, 0), -np.inf), Y13, ValueError,
     r"X contains -inf"),
    ("NaN in Y", W2, 0.0, X23, np.array([[1.0, np.nan, 0.0]]), ValueError, r"Y contains NaN"),
    ("NaN in w", np.array([[np.nan], [0.0]]), 0.0, X23, Y13, ValueError, r"w contains NaN"),
    ("NaN b", W2, np.nan, X23, Y13, ValueError, r"b is nan.*finite"),
    ("empty m", W2, 0.0, np.zeros((2, 0)), np.zeros((1, 0)), ValueError, r"X is empty"),
    ("empty n_x", np.zeros((0, 1)), 0.0, np.zeros((0, 3)), Y13, ValueError, r"X is empty"),
    ("X 1-D", W2, 0.0, np.array([1.0, 2.0]), Y13, ValueError,
     r"X must have shape \(n_x, m\).*got shape \(2,\)"),
    ("X 3-D", W2, 0.0, np.zeros((2, 3, 1)), Y13, ValueError, r"X must have shape \(n_x, m\)"),
    ("w too long", np.zeros((3, 1)), 0.0, X23, Y13, ValueError,
     r"w has shape \(3, 1\) but X has n_x = 2"),
    ("w a row", np.zeros((1, 2)), 0.0, X23, Y13, ValueError, r"w has shape \(1, 2\)"),
    ("w 3-D", np.zeros((2, 1, 1)), 0.0, X23, Y13, ValueError, r"w has shape \(2, 1, 1\)"),
    ("Y a column", W2, 0.0, X23, Y13.T, ValueError, r"Y must have shape \(1, m\), got \(3, 1\)"),
    ("b an array", W2, np.array([0.0, 1.0]), X23, Y13, ValueError, r"b must be a number"),
    ("X strings", W2, 0.0, np.array([["a", "b", "c"], ["d", "e", "f"]]), Y13, ValueError,
     r"X has dtype .* not numeric"),
    ("X ragged", W2, 0.0, [[1.0, 2.0], [1.0]], Y13, ValueError, r"X could not be read"),
    ("X sparse", W2, 0.0, sp.csr_matrix(X23), Y13, TypeError, r"X is a sparse matrix"),
]


@pytest.mark.parametrize("impl", IMPLS, ids=IMPL_IDS)
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_error_naming_the_problem(impl, case):
    _, w, b, X, Y, exc, match = case
    with pytest.raises(exc, match=match):
        impl(w, b, X, Y)
