"""Separation: whether decision values classify every row with a margin, and which
columns separate the classes by themselves (the ``SeparationWarning``'s facts)."""

from __future__ import annotations

import numpy as np


def disjoint_ranges(lo, hi):
    """Columns j whose class ranges ``[lo[c, j], hi[c, j]]`` (K, n) do not overlap: a
    threshold (K - 1 thresholds) on x_j alone then classifies every example."""
    order = np.argsort(lo, axis=0, kind="stable")
    lo_s = np.take_along_axis(lo, order, axis=0)
    hi_s = np.take_along_axis(hi, order, axis=0)
    return [int(j) for j in np.flatnonzero(np.all(hi_s[:-1] < lo_s[1:], axis=0))]


def unseparated(z, y):
    """How many rows of the decision values z (m,) / (m, K) do not put their label
    ``y`` (0/1, or the class index) strictly ahead of every other class."""
    z = np.array(z, dtype=np.float64)
    if z.ndim == 1:
        return int(np.count_nonzero(~(np.where(y == 1, z, -z) > 0)))
    idx = np.arange(z.shape[0])
    y = np.asarray(y, dtype=np.intp)
    true = z[idx, y].copy()
    z[idx, y] = -np.inf
    return int(np.count_nonzero(~(true > z.max(axis=1))))
