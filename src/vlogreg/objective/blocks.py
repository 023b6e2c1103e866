"""Walk the rows of X in cache-sized blocks, and sum what a function returns per block.

This is how the objective reads X once per loss+gradient: a block of rows is loaded
for ``z = X_b w`` and is still in cache for ``X_b^T dz``. No copy of X is made: a dense
block is a view, a CSR block is built on views of ``data`` / ``indices``.

Blocks can be spread over threads (NumPy's BLAS calls release the GIL). Each thread
owns a fixed, contiguous range of blocks and its own accumulators, and the partial
sums are added in thread order, so results are bit-identical from run to run for a
given thread count.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from .._kernels.threads import blas_single_thread, kernel_threads  # noqa: F401

#: Default bytes of X per block: a few MB stays in L2/L3 between the two products.
DEFAULT_BLOCK_BYTES = 2 * 1024 * 1024
#: Below this size X is handled as one block by one thread: overheads would dominate.
MIN_THREADED_BYTES = 8 * 1024 * 1024

def _nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes
    return X.nbytes


class RowBlocks:
    """Row blocks of X, and a map-and-sum over them.

    Parameters
    ----------
    X : ndarray (m, n) or CSR matrix
    block_bytes : int, optional
        Target bytes per block (default ``DEFAULT_BLOCK_BYTES``).
    n_threads : int, optional
        Threads to spread the blocks over; default: ``os.cpu_count()`` for X larger
        than ``MIN_THREADED_BYTES``, else 1.
    """

    def __init__(self, X, block_bytes=None, n_threads=None):
        self.X = X
        m = X.shape[0]
        nbytes = _nbytes(X)
        block_bytes = DEFAULT_BLOCK_BYTES if block_bytes is None else int(block_bytes)
        row_bytes = max(1, nbytes // max(m, 1))
        rows = max(1, block_bytes // row_bytes)
        self.starts = np.arange(0, m, rows)
        self.stops = np.minimum(self.starts + rows, m)
        if n_threads is None:
            n_threads = (os.cpu_count() or 1) if nbytes >= MIN_THREADED_BYTES else 1
        self.n_threads = max(1, min(int(n_threads), len(self.starts)))
        self._pool = None

    def __len__(self):
        return len(self.starts)

    def block(self, i):
        """The i-th block of rows (a view) and its row slice."""
        r0, r1 = int(self.starts[i]), int(self.stops[i])
        X = self.X
        if sp.issparse(X):
            a, b = X.indptr[r0], X.indptr[r1]
            Xb = sp.csr_matrix((X.data[a:b], X.indices[a:b], X.indptr[r0:r1 + 1] - a),
                               shape=(r1 - r0, X.shape[1]))
        else:
            Xb = X[r0:r1]
        return Xb, slice(r0, r1)

    def _run(self, fn, lo, hi):
        acc = None
        for i in range(lo, hi):
            out = fn(*self.block(i))
            acc = list(out) if acc is None else [a + o for a, o in zip(acc, out)]
        return acc

    def map_sum(self, fn):
        """``sum over blocks of fn(X_b, rows)``, where fn returns a tuple of arrays/floats."""
        nb = len(self)
        if self.n_threads == 1 or nb == 1:
            return tuple(self._run(fn, 0, nb))
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.n_threads)
        edges = np.linspace(0, nb, self.n_threads + 1).astype(int)
        with blas_single_thread():
            futures = [self._pool.submit(self._run, fn, edges[t], edges[t + 1])
                       for t in range(self.n_threads)]
            parts = [f.result() for f in futures]
        acc = parts[0]
        for p in parts[1:]:
            acc = [a + o for a, o in zip(acc, p)]
        return tuple(acc)

    def __del__(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False)
