"""The Fortran-order kernel's two schedules (fused: ``dw`` of one tile and ``z`` of the
next in one sweep; two sweeps per tile) on tiles small enough that every chunk holds
several, with a partial last tile, against the float64 oracle of
test_kernels_tails; equal to each other bit for bit, and across thread counts."""

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from test_kernels_tails import _oracle

from vlogreg._kernels import numba_binary, numba_fortran
from vlogreg._kernels.numba_fortran import loss_grad_fortran, tile_plan


def _run(X, y, s, w, b, R, fuse, n_chunks):
    """``loss_grad_fortran`` on F-ordered X with ``R`` rows per tile, chunk partials
    added in chunk order as ``numba_binary.loss_grad`` does."""
    n = X.shape[1]
    grad_parts = np.empty((n_chunks, n + 1))
    loss_parts = np.empty(n_chunks)
    loss_grad_fortran(X.T, y, s, w, X.dtype.type(b), n_chunks, R, fuse, grad_parts,
                      loss_parts)
    total = grad_parts[0].copy()
    for c in range(1, n_chunks):
        total += grad_parts[c]
    return float(loss_parts.sum()), total[:n], float(total[n])


def _problem(rng, m, n, dtype):
    X = np.asarray(rng.standard_normal((m, n)), dtype=dtype, order="F")
    y = (rng.random(m) < 0.4).astype(dtype)
    s = rng.random(m).astype(dtype)
    w = (rng.standard_normal(n) / np.sqrt(n)).astype(dtype)
    return X, y, s, w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fuse", [True, False])
def test_many_tiles_row_tails_and_column_groups_against_float64_oracle(dtype, fuse):
    # R = 5 and 64 rows per tile; m: one partial tile, exact tiles, several tiles with a
    # tail, in 1 or 3 chunks (chunk edges fall inside tiles); n: column groups of 8 with
    # and without a remainder of single columns
    rng = np.random.default_rng(16)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for n in (1, 7, 8, 9, 17, 40):
        for m in (3, 5, 10, 64, 129, 331):
            for R in (5, 64):
                for n_chunks in (1, 3):
                    X, y, s, w = _problem(rng, m, n, dtype)
                    f1, g1, gb1 = _run(X, y, s, w, -0.2, R, fuse, n_chunks)
                    f2, g2, gb2 = _oracle(X, y.astype(np.float64), s.astype(np.float64),
                                          w, dtype(-0.2))
                    where = f"n={n}, m={m}, R={R}, chunks={n_chunks}"
                    scale = max(np.abs(g2).max(), abs(gb2), 1.0)
                    np.testing.assert_allclose(f1, f2, rtol=rtol, err_msg=where)
                    np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * scale,
                                               err_msg=where)
                    np.testing.assert_allclose(gb1, gb2, rtol=rtol, atol=rtol * scale,
                                               err_msg=where)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_and_two_sweep_schedules_are_bit_identical(dtype):
    # the same sums in the same order: only when each product is computed moves
    rng = np.random.default_rng(5)
    X, y, s, w = _problem(rng, 20_011, 37, dtype)
    for R in (64, 1000):
        fused = _run(X, y, s, w, 0.3, R, True, 4)
        sweeps = _run(X, y, s, w, 0.3, R, False, 4)
        assert fused[0] == sweeps[0] and fused[2] == sweeps[2]
        assert np.array_equal(fused[1], sweeps[1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fuse", [True, False])
def test_bit_identical_run_to_run_and_across_thread_counts(dtype, fuse):
    rng = np.random.default_rng(6)
    m = 200_003
    X, y, s, w = _problem(rng, m, 19, dtype)
    nc = numba_binary.n_chunks_for(m)
    assert nc > 1  # several chunks, so two threads split them
    before = numba.get_num_threads()
    try:
        results = []
        for t in sorted({1, 2, before}):
            numba.set_num_threads(min(t, numba.config.NUMBA_NUM_THREADS))
            results += [_run(X, y, s, w, 0.1, 64, fuse, nc) for _ in range(2)]
    finally:
        numba.set_num_threads(before)
    for f, g, gb in results[1:]:
        assert f == results[0][0] and gb == results[0][2]
        assert np.array_equal(g, results[0][1])


def test_float32_fused_tracks_float64_fused_on_the_same_values():
    rng = np.random.default_rng(7)
    X32, y, s, w32 = _problem(rng, 5000, 37, np.float32)
    f32, g32, b32 = _run(X32, y, s, w32, -0.2, 64, True, 2)
    f64, g64, b64 = _run(X32.astype(np.float64, order="F"), y.astype(np.float64),
                         s.astype(np.float64), w32.astype(np.float64), np.float32(-0.2),
                         64, True, 2)
    np.testing.assert_allclose(f32, f64, rtol=1e-6)
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5 * np.abs(g64).max())
    np.testing.assert_allclose(b32, b64, rtol=1e-5, atol=1e-5 * np.abs(g64).max())


def test_tile_plan_fused_tiles_share_the_two_sweep_tiles_bytes():
    # fused (both dtypes): two tiles live at once, together no more than one two-sweep
    # tile's TILE_BYTES (above the floor of 64 rows)
    for n in (10, 100, 300):
        for itemsize in (8, 4):
            R, fuse = tile_plan(n, itemsize)
            assert fuse
            assert R % 64 == 0
            assert R == 64 or 2 * R * n * itemsize <= numba_fortran.TILE_BYTES
