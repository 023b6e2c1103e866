"""The binary kernel against a float64 NumPy oracle for every feature count 1..40 (the
vector-width chunks of a row and their remainders), row counts around the 8- and 16-row
blocks, C and F order, float32 and float64."""

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from vlogreg._kernels import numba_binary

ROWS = (1, 7, 8, 9, 15, 16, 17, 31, 33, 100)


def _oracle(X, y, s, w, b):
    """``(sum s loss, X^T dz, sum dz)`` in float64 from the definitions: z = X w + b,
    loss = log(1 + e^z) - y z, dz = s (sigmoid(z) - y)."""
    X = X.astype(np.float64)
    z = X @ w.astype(np.float64) + float(b)
    loss = float(np.sum(s * (np.logaddexp(0.0, z) - y * z)))
    dz = s * (0.5 * (1.0 + np.tanh(0.5 * z)) - y)
    return loss, X.T @ dz, float(dz.sum())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_feature_count_and_row_tail_against_float64_oracle(dtype, order):
    rng = np.random.default_rng(16)
    # float64: rounding only; float32: X, w, z and dz rounded to float32 (the tolerance
    # of test_kernel_float32_within_1e5_of_float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for n in range(1, 41):
        for m in ROWS:
            X = np.asarray(rng.standard_normal((m, n)), dtype=dtype, order=order)
            y = (rng.random(m) < 0.5).astype(dtype)
            s = rng.random(m).astype(dtype)
            w = (rng.standard_normal(n) / np.sqrt(n)).astype(dtype)
            b = 0.3
            f1, g1, gb1 = numba_binary.loss_grad(X, y, s, w, b)
            f2, g2, gb2 = _oracle(X, y.astype(np.float64), s.astype(np.float64), w,
                                  dtype(b))
            where = f"n={n}, m={m}"
            assert g1.dtype == np.float64 and g1.shape == (n,)
            np.testing.assert_allclose(f1, f2, rtol=rtol, err_msg=where)
            scale = max(np.abs(g2).max(), abs(gb2), 1.0)
            np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * scale, err_msg=where)
            np.testing.assert_allclose(gb1, gb2, rtol=rtol, atol=rtol * scale,
                                       err_msg=where)


@pytest.mark.parametrize("order", ["C", "F"])
def test_float32_kernel_tracks_float64_kernel_on_the_same_values(order):
    # the same (float32-representable) X, y, w through both kernels: float32's
    # accumulation, flushed to float64, stays within float32 rounding of the float64 run
    rng = np.random.default_rng(17)
    m, n = 5000, 37
    X32 = np.asarray(rng.standard_normal((m, n)), dtype=np.float32, order=order)
    y = (rng.random(m) < 0.3).astype(np.float32)
    s = np.ones(m, np.float32)
    w32 = (rng.standard_normal(n) * 0.3).astype(np.float32)
    f32, g32, b32 = numba_binary.loss_grad(X32, y, s, w32, -0.2)
    X64 = X32.astype(np.float64, order=order)
    f64, g64, b64 = numba_binary.loss_grad(X64, y.astype(np.float64), s.astype(np.float64),
                                           w32.astype(np.float64), np.float32(-0.2))
    np.testing.assert_allclose(f32, f64, rtol=1e-6)
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5 * np.abs(g64).max())
    np.testing.assert_allclose(b32, b64, rtol=1e-5, atol=1e-5 * np.abs(g64).max())
