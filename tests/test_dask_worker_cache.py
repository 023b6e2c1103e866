"""The chunk objectives a Dask worker keeps between evaluations (objective.chunked):
reused while the same chunk arrays come back, rebuilt for other arrays, dropped with
the chunk's labels, and the same numbers as a fresh objective."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from vlogreg.objective import chunked
from vlogreg.objective.chunked import ChunkSpec, chunk_partial


@pytest.fixture
def counted(monkeypatch):
    built = []
    make = ChunkSpec.objective

    def objective(self, Xc, y_idx, s):
        built.append(1)
        return make(self, Xc, y_idx, s)

    monkeypatch.setattr(ChunkSpec, "objective", objective)
    return built


@pytest.mark.parametrize("n_classes", [2, 3])
def test_kept_while_the_same_arrays_come_back(counted, n_classes):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 7))
    y = rng.integers(0, n_classes, 5000).astype(np.intp)
    s = rng.uniform(0.5, 2.0, 5000)
    spec = ChunkSpec(n=7, n_classes=n_classes, fit_intercept=True, S=5000.0)
    theta = rng.standard_normal(8 if n_classes == 2 else 8 * n_classes) * 0.1
    _, g1 = chunk_partial(spec, "value_and_grad", X, y, s, theta)
    f2, g2 = chunk_partial(spec, "value_and_grad", X, y, s, theta)
    assert len(counted) == 1  # built once
    fresh = spec.objective(X, y, s).value_and_grad(theta)
    np.testing.assert_array_equal(f2, fresh[0])
    np.testing.assert_array_equal(g2, fresh[1])
    np.testing.assert_array_equal(g1, g2)
    del counted[:]
    chunk_partial(spec, "value_and_grad", X.copy(), y, s, theta)      # another X
    chunk_partial(spec, "value_and_grad", X, y, None, theta)          # other weights
    other = ChunkSpec(n=7, n_classes=n_classes, fit_intercept=True, S=2500.0)
    _, g3 = chunk_partial(other, "value_and_grad", X, y, None, theta)  # another S
    assert len(counted) == 3
    np.testing.assert_allclose(g3, 2 * chunk_partial(spec, "value_and_grad", X, y, None,
                                                     theta)[1], rtol=1e-12)


def test_dropped_with_the_labels():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4000, 5))
    y = rng.integers(0, 2, 4000).astype(np.intp)
    spec = ChunkSpec(n=5, n_classes=2, fit_intercept=False, S=4000.0)
    chunk_partial(spec, "value_and_grad", X, y, None, np.zeros(5))
    key = id(y)
    assert key in chunked._OBJECTIVES
    del y
    gc.collect()
    assert key not in chunked._OBJECTIVES  # nor X, held by the objective, kept alive


def test_holds_no_reference_to_x_between_evaluations(counted):
    """A worker may spill a chunk of X: the kept objective must not keep it in memory;
    the same X coming back (from disk: another array) builds a new objective."""
    import weakref

    rng = np.random.default_rng(2)
    X = rng.standard_normal((4000, 5))
    y = rng.integers(0, 2, 4000).astype(np.intp)
    spec = ChunkSpec(n=5, n_classes=2, fit_intercept=True, S=4000.0)
    theta = np.full(6, 0.1)
    want = chunk_partial(spec, "value_and_grad", X, y, None, theta)
    ref = weakref.ref(X)
    X_again = X.copy()  # the chunk read back from disk
    del X
    gc.collect()
    assert ref() is None and id(y) in chunked._OBJECTIVES
    got = chunk_partial(spec, "value_and_grad", X_again, y, None, theta)
    assert len(counted) == 2
    np.testing.assert_array_equal(got[1], want[1])
