"""Elementwise maths of ``vlogreg._math``: finite, overflow-free, dtype-preserving, accurate.

The oracle is Python's ``decimal`` module at 60 significant digits with an exponent
range far beyond float64's: every reference value is computed exactly enough that its
conversion to float64 / float32 is the correctly rounded true value. The library's
results must lie within a few units in the last place of it.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from decimal import Decimal, localcontext

import numpy as np
import pytest
import scipy.special

from vlogreg import course
from vlogreg._math import log_loss_terms, log_softmax, sigmoid, softplus

DTYPES = [np.float64, np.float32]


# --------------------------------------------------------------------------- helpers
@contextmanager
def strict_fp():
    """Any overflow / invalid / divide-by-zero or any warning becomes an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


@contextmanager
def _dec():
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.Emax = 10**9
        ctx.Emin = -10**9
        yield


def _d_log1p(e):
    """log(1 + e) for a Decimal 0 <= e <= 1, without losing a tiny e to the 1."""
    if e < Decimal("1e-25"):
        return e - e * e / 2  # remainder e^3 / 3: relative 1e-50
    return (1 + e).ln()


def d_sigmoid(x):
    """Exact-to-60-digits sigmoid of the float x, as a Python float (correctly rounded)."""
    with _dec():
        z = Decimal(float(x))
        if z >= 0:
            return float(1 / (1 + (-z).exp()))
        e = z.exp()
        return float(e / (1 + e))


def d_softplus(x):
    """log(1 + exp(x)), as a correctly rounded Python float."""
    with _dec():
        z = Decimal(float(x))
        if z > 0:
            return float(z + _d_log1p((-z).exp()))
        return float(_d_log1p(z.exp()))


def d_log_softmax_row(row):
    with _dec():
        z = [Decimal(float(v)) for v in row]
        zmax = max(z)
        shifted = [v - zmax for v in z]
        lse = sum(v.exp() for v in shifted).ln()
        return [float(v - lse) for v in shifted]


def oracle(fn, z):
    return np.array([fn(v) for v in np.ravel(z)]).reshape(np.shape(z))


def grid(dtype):
    """Symmetric values from 0 to the dtype's largest float, dense around the transitions."""
    fi = np.finfo(dtype)
    pos = [0.0, float(fi.smallest_subnormal), float(fi.tiny), 1e-30, 1e-8, 1e-3, 0.1, 0.5,
           1.0, 2.0, 5.0, 10.0, 15.0, 17.0, 20.0, 30.0, 36.0, 37.0, 40.0, 50.0, 87.0,
           88.7, 89.0, 100.0, 103.0, 104.0, 1e3, 1e4, 1e6, 1e15, 1e30]
    if dtype == np.float64:
        pos += [700.0, 708.0, 709.0, 709.8, 710.0, 744.0, 745.0, 745.2, 746.0, 1e100,
                1e200, 1e300]
    pos += [float(fi.max) / 2, float(fi.max)]
    pos = np.array(pos, dtype=dtype)
    return np.concatenate([-pos[::-1], pos])


def ulp_close(actual, expected, dtype, n_ulp):
    """|actual - expected| <= n_ulp ulps of expected (subnormal spacing near zero)."""
    fi = np.finfo(dtype)
    expected = np.asarray(expected, dtype=np.float64)
    # one ulp of the dtype at |expected| (2^(exponent - mantissa bits)), computed in float64
    # so that the ulp of the largest float does not overflow; subnormal spacing near 0
    _, exponent = np.frexp(expected.astype(dtype))
    spacing = np.maximum(np.ldexp(1.0, exponent.astype(np.int64) - fi.nmant - 1),
                         float(fi.smallest_subnormal))
    err = np.abs(np.asarray(actual, dtype=np.float64) - expected)
    bad = err > n_ulp * spacing
    assert not bad.any(), (
        f"{bad.sum()} values off by more than {n_ulp} ulp, e.g. "
        f"actual={np.asarray(actual)[bad][:5]}, expected={np.asarray(expected)[bad][:5]}")


def test_oracle_agrees_with_scipy_in_safe_range():
    # the decimal oracle itself, against scipy on values where scipy is accurate
    z = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(oracle(d_sigmoid, z), scipy.special.expit(z), rtol=1e-15)
    np.testing.assert_allclose(oracle(d_softplus, z), np.logaddexp(0.0, z), rtol=1e-15)
    row = np.array([[0.3, -2.0, 5.0]])
    np.testing.assert_allclose(d_log_softmax_row(row[0]),
                               scipy.special.log_softmax(row, axis=1)[0], rtol=1e-15,
                               atol=1e-16)  # scipy's log(sum) is absolutely accurate only


# --------------------------------------------------------------------------- sigmoid
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_finite_accurate_and_overflow_free(dtype):
    z = grid(dtype)
    with strict_fp():
        a = sigmoid(z)
    assert a.dtype == dtype
    assert a.shape == z.shape
    assert np.all(np.isfinite(a))
    assert np.all((a >= 0) & (a <= 1))
    ulp_close(a, oracle(d_sigmoid, z), dtype, 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_limits_and_midpoint(dtype):
    fi = np.finfo(dtype)
    big = np.array([fi.max, -fi.max, 0.0], dtype=dtype)
    with strict_fp():
        a = sigmoid(big)
    assert a[0] == 1.0 and a[1] == 0.0 and a[2] == 0.5


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_symmetry(dtype):
    z = grid(dtype)
    with strict_fp():
        a, b = sigmoid(z), sigmoid(-z)
    eps = np.finfo(dtype).eps
    # sigmoid(-z) = 1 - sigmoid(z): exact in the maths, 1 ulp of 1 in floating point
    np.testing.assert_allclose(b.astype(np.float64), 1.0 - a.astype(np.float64),
                               rtol=0, atol=2 * eps)
    # and the small side keeps its relative accuracy (no 1 - a cancellation): for z > 0,
    # sigmoid(-z) = exp(-z) sigmoid(z) exactly
    pos = (z > 0) & (z < 80)
    e = np.exp(-z[pos].astype(np.float64))
    np.testing.assert_allclose(b[pos], e * a[pos].astype(np.float64), rtol=4 * eps, atol=0)


def test_sigmoid_monotone_and_shape():
    z = np.sort(grid(np.float64))
    with strict_fp():
        a = sigmoid(z)
    assert np.all(np.diff(a) >= 0)
    z3 = np.linspace(-5, 5, 24).reshape(2, 3, 4)
    assert sigmoid(z3).shape == (2, 3, 4)
    np.testing.assert_allclose(sigmoid(z3), scipy.special.expit(z3), rtol=1e-15)


def test_sigmoid_integer_input_becomes_float64():
    out = sigmoid(np.array([-3, 0, 3]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, scipy.special.expit([-3.0, 0.0, 3.0]), rtol=1e-15)


def test_sigmoid_does_not_modify_input():
    z = np.array([-2.0, 0.0, 3.0])
    z.setflags(write=False)
    sigmoid(z)
    np.testing.assert_array_equal(z, [-2.0, 0.0, 3.0])


def test_course_sigmoid_scalar_value():
    with strict_fp():
        assert float(course.sigmoid(0)) == 0.5
        assert np.ndim(course.sigmoid(2.0)) == 0
        assert float(course.sigmoid(1e300)) == 1.0
        assert float(course.sigmoid(-1e300)) == 0.0


def test_course_sigmoid_scalar_input_returns_numpy_scalar():
    assert isinstance(course.sigmoid(0.0), np.generic)


# --------------------------------------------------------------------------- softplus
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_finite_accurate_and_overflow_free(dtype):
    z = grid(dtype)
    with strict_fp():
        out = softplus(z)
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))
    assert np.all(out >= 0)
    ulp_close(out, oracle(d_softplus, z), dtype, 4)


def test_softplus_identity_softplus_z_minus_softplus_minus_z_is_z():
    z = np.linspace(-50, 50, 201)
    with strict_fp():
        np.testing.assert_allclose(softplus(z) - softplus(-z), z, rtol=0, atol=1e-13)


# --------------------------------------------------------------------------- log-loss
def _d_logloss(z, y):
    # -y log(a) - (1 - y) log(1 - a) = y softplus(-z) + (1 - y) softplus(z)
    return d_softplus(-z) if y == 1 else d_softplus(z)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label", [0, 1])
def test_log_loss_terms_finite_accurate_and_overflow_free(dtype, label):
    z = grid(dtype)
    y = np.full_like(z, label)
    with strict_fp():
        out = log_loss_terms(z, y)
    assert out.dtype == dtype
    assert out.shape == z.shape
    assert np.all(np.isfinite(out))
    assert np.all(out >= 0)
    expected = np.array([_d_logloss(v, label) for v in z])
    ulp_close(out, expected, dtype, 4)


def test_log_loss_terms_matches_textbook_formula_in_safe_range():
    rng = np.random.default_rng(0)
    z = rng.uniform(-20, 20, size=(3, 50))
    y = rng.integers(0, 2, size=(3, 50)).astype(float)
    a = 1.0 / (1.0 + np.exp(-z))
    textbook = -y * np.log(a) - (1 - y) * np.log(1 - a)
    with strict_fp():
        out = log_loss_terms(z, y)
    # textbook loses accuracy to log(1 - a) for confident predictions: compare absolutely
    np.testing.assert_allclose(out, textbook, rtol=1e-9, atol=1e-12)


def test_log_loss_terms_confident_right_answer_is_accurate():
    # exp(-40) ~ 4e-18: the textbook formula gives 0 or rounding noise; the exact value is
    # log1p(exp(-40))
    z = np.array([40.0, -40.0])
    y = np.array([1.0, 0.0])
    expected = np.array([_d_logloss(40.0, 1), _d_logloss(-40.0, 0)])
    ulp_close(log_loss_terms(z, y), expected, np.float64, 2)
    assert log_loss_terms(z, y)[0] > 0


def test_log_loss_terms_broadcasts_labels():
    z = np.array([[1.0, -2.0, 3.0]])
    y = np.array([1.0, 0.0, 1.0])
    out = log_loss_terms(z, y)
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out[0], [_d_logloss(1.0, 1), _d_logloss(-2.0, 0),
                                        _d_logloss(3.0, 1)], rtol=1e-15)


def test_log_loss_terms_float32_with_float32_labels_stays_float32():
    z = np.array([0.5, -1.0], dtype=np.float32)
    assert log_loss_terms(z, np.array([1, 0], dtype=np.float32)).dtype == np.float32
    assert log_loss_terms(z, np.float32(1)).dtype == np.float32


def test_log_loss_terms_float32_with_integer_labels_stays_float32():
    z = np.array([0.5, -1.0], dtype=np.float32)
    assert log_loss_terms(z, np.array([1, 0])).dtype == np.float32


# --------------------------------------------------------------------------- log-softmax
def _softmax_rows(dtype):
    fi = np.finfo(dtype)
    top = 1e300 if dtype == np.float64 else float(fi.max) / 2
    rows = [
        [0.0, 0.0, 0.0],
        [1.0, 2.0, 3.0],
        [-1.0, 0.5, 0.25],
        [0.0, -50.0, -1000.0],
        [1e5, -1e5, 0.0],
        [top, -top, 0.0],
        [-top, -top, -top],
        [top, top, top],
        [top, top / 2, -top / 2],
        [-top, 1.0, -1.0],
        [30.0, 30.0 + 1e-3, 29.0],
    ]
    return np.array(rows, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_finite_accurate_and_overflow_free(dtype):
    z = _softmax_rows(dtype)
    with strict_fp():
        out = log_softmax(z)
    assert out.dtype == dtype
    assert out.shape == z.shape
    assert np.all(np.isfinite(out))
    assert np.all(out <= 0)
    expected = np.array([d_log_softmax_row(r) for r in z])
    # the algorithm is (z - max) - log(sum exp(z - max)): forward error of a few ulp of
    # |z - max| and of the log term (which is in [0, log K])
    eps = float(np.finfo(dtype).eps)
    zf = z.astype(np.float64)
    scale = np.abs(zf - zf.max(axis=1, keepdims=True)) + np.log(z.shape[1]) + 1.0
    err = np.abs(out.astype(np.float64) - expected)
    assert np.all(err <= 4 * eps * scale), (out, expected)
    # each row is a log-probability distribution
    p = np.exp(out.astype(np.float64))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=4 * eps * z.shape[1])


def test_log_softmax_matches_scipy_on_random_rows():
    rng = np.random.default_rng(1)
    z = rng.normal(scale=10, size=(20, 4))
    np.testing.assert_allclose(log_softmax(z), scipy.special.log_softmax(z, axis=1),
                               rtol=1e-13, atol=1e-13)


def test_log_softmax_is_shift_invariant():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 3))
    np.testing.assert_allclose(log_softmax(z + 123.0), log_softmax(z), rtol=0, atol=1e-13)
