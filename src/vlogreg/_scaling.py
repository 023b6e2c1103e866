"""Column means and scales for ``standardize=True``, in the pass that validates X.

With weights ``w`` (the sample weights, ones by default; class weights are not in them,
as in ``StandardScaler().fit(X, sample_weight=w)``), ``W = sum_i w_i``:

    mu_j = sum_i w_i x_ij / W,     sigma_j = sqrt(sum_i w_i (x_ij - mu_j)^2 / W)

Dense X is walked in row blocks: each block's mean and centred sum of squares are
computed while it is in cache and merged with Chan et al.'s update, so X is read from
memory once and a column with a large mean loses no digits to ``E[x^2] - mu^2``. Sparse
X uses its stored values only (the zeros contribute ``mu_j^2`` each): never densified.
Row chunks (Dask, files) give their ``Moments`` and ``merge`` adds them up.

A constant column (``sigma_j <= 10 eps |mu_j|``) keeps ``sigma_j = 1``, as
``StandardScaler`` does: centred, it is all zeros and its coefficient stays 0. Without an
intercept the columns are scaled but not centred (``mu_j = 0``): centring would add an
intercept the model was told not to have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: Bytes of a dense row block whose moments are computed in cache.
BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class Moments:
    """Weighted column moments: total weight, means (n,), centred sums of squares (n,),
    and ``sumsq``, the unweighted sum of all squared values (the value checks' bound:
    finite and small exactly when every value is)."""

    W: float
    mean: np.ndarray
    m2: np.ndarray
    sumsq: float

    @staticmethod
    def merge(parts):
        """The moments of the union of row sets (Chan et al.'s pairwise update)."""
        parts = [p for p in parts if p is not None]
        W, mean, m2, ss = 0.0, None, None, 0.0
        for p in parts:
            ss += p.sumsq
            if not p.W > 0:
                if mean is None:
                    mean, m2 = np.zeros_like(p.mean), np.zeros_like(p.m2)
                continue
            if mean is None or W == 0:
                W, mean, m2 = p.W, p.mean.copy(), p.m2.copy()
                continue
            tot = W + p.W
            delta = p.mean - mean
            m2 = m2 + p.m2 + delta * delta * (W * p.W / tot)
            mean = mean + delta * (p.W / tot)
            W = tot
        return Moments(W, mean, m2, ss)


@dataclass(frozen=True)
class ColumnScales:
    """``mean`` (n,) (zeros when not centred) and ``scale`` (n,) (1 for constant
    columns): the standardized column j is ``(x_j - mean_j) / scale_j``."""

    mean: np.ndarray
    scale: np.ndarray


def moments(X, w=None):
    """``Moments`` of X (m, n), dense (NumPy) or SciPy sparse, weights w (m,) or None."""
    m, n = X.shape
    w = np.ones(m) if w is None else np.asarray(w, dtype=np.float64)
    if sp.issparse(X):
        if X.format not in ("csr", "csc"):
            X = X.tocsr()
        if not X.has_canonical_format:  # duplicates would count twice in (x - mu)^2
            X = X.copy()
            X.sum_duplicates()
        # the stored values with their row and column, CSR or CSC as given (no copy)
        outer = np.repeat(np.arange(X.shape[X.format == "csc"]), np.diff(X.indptr))
        rows, cols = (outer, X.indices) if X.format == "csr" else (X.indices, outer)
        d = X.data.astype(np.float64, copy=False)
        with np.errstate(all="ignore"):  # NaN / inf / huge values: the checks name them
            return _sparse_moments(d, rows, cols, w, m, n)
    return _dense_moments(X, w, m, n)


def _sparse_moments(d, rows, cols, w, m, n):
    """Moments from the stored values ``d`` at (rows, cols); zeros are implicit."""
    wd = w[rows]
    W = float(w.sum())
    mean = np.bincount(cols, wd * d, n) / W if W > 0 else np.zeros(n)
    dev = d - mean[cols]
    # the weight of each column's zeros: exactly 0 for a fully stored column (W - the
    # stored rows' weight would leave a rounding error, times mu^2)
    wzero = np.where(np.bincount(cols, minlength=n) == m, 0.0,
                     np.maximum(W - np.bincount(cols, wd, n), 0.0))
    m2 = np.bincount(cols, wd * dev * dev, n) + wzero * mean * mean
    return Moments(W, mean, m2, float(d @ d))


def _dense_moments(X, w, m, n):
    """Moments of dense X by row blocks (each block's, merged)."""
    step = max(1, BLOCK_BYTES // max(1, X.itemsize * n))
    parts = []
    for r0 in range(0, m, step):
        Xb, wb = X[r0:r0 + step], w[r0:r0 + step]
        Wb = float(wb.sum())
        with np.errstate(all="ignore"):  # NaN / inf: the value checks name them
            ss = float(np.einsum("ij,ij->", Xb, Xb, dtype=np.float64))
            if Wb > 0:
                mb = (wb @ Xb) / Wb
                D = Xb - mb
                m2b = wb @ (D * D)
            else:
                mb, m2b = np.zeros(n), np.zeros(n)
        parts.append(Moments(Wb, np.asarray(mb, np.float64), np.asarray(m2b, np.float64),
                             ss))
    return Moments.merge(parts) if parts else Moments(0.0, np.zeros(n), np.zeros(n), 0.0)


def scales(mo, center=True):
    """``ColumnScales`` from ``Moments``: centred when ``center`` (an intercept)."""
    W = mo.W if mo.W > 0 else 1.0
    sigma = np.sqrt(np.maximum(mo.m2, 0.0) / W)
    constant = ~(sigma > 10 * np.finfo(np.float64).eps * np.abs(mo.mean))
    sigma = np.where(constant, 1.0, sigma)
    mean = mo.mean if center else np.zeros_like(mo.mean)
    return ColumnScales(np.asarray(mean, dtype=np.float64), sigma)


def column_scales(X, sample_weight=None, center=True):
    """``ColumnScales`` of an in-memory X (one read of it)."""
    return scales(moments(X, sample_weight), center)
