"""The checks of X and the solvers' first evaluation in ONE read of X.

Every solver starts at theta = 0 (unless warm-started), where ``z = b = 0``: every
``a = sigmoid(0) = 1/2`` (softmax: ``1/K``), so the loss is ``log 2`` (``log K``) whatever
X is, and the gradient needs no product ``X w``:

    dz0 = s (1/2 - y) / S   (multinomial: s (1/K - Y) / S),
    dw  = X^T dz0,   db = sum(dz0).

The value checks (``vlogreg._validation.check_values``: NaN, inf, values too large for
the arithmetic) settle on the sum of squares of X. Both come from the same row blocks,
each read from memory once and used twice while it is in cache, so the checking pass
also makes the solver's first loss+gradient; the objective keeps it for the solver's
first ``value_and_grad`` (``LogisticObjective.know``). When the sum of squares does
not settle the checks (a NaN, an inf, a huge value, or an overflow of the sum),
``check_values`` runs on X and names the problem: the same one-line error as before.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._hardware import cache_bytes
from .._validation import MAX_ABS, check_values
from .blocks import RowBlocks

#: bytes per row block: the block's second use (the sum of squares after ``dz0 @ X_b``)
#: must read cache, not memory, and each block costs a Python call of both products.
#: 256 KiB blocks (one core's L2) made the checks of a 1M x 100 float64 X 4 reads of
#: time on a 2-core AMD EPYC (Python calls, not bytes); blocks of up to 4 MiB, as long
#: as every thread's block fits in a share of the shared L3, made it ~1.5 reads and the
#: whole easy 1M x 100 fit 0.24 s -> 0.20 s
START_BLOCK_BYTES = (256 * 1024, 4 << 20)


def start_block_bytes(n_threads):
    """Row-block bytes of the checking pass: half the shared L3 spread over the threads,
    within ``START_BLOCK_BYTES``."""
    lo, hi = START_BLOCK_BYTES
    return int(min(hi, max(lo, cache_bytes(3, 8 << 20) // (2 * max(1, n_threads)))))


def checked_start(objective, name="X", columns=None):
    """``check_values(objective.X)`` and the loss+gradient at theta = 0, one read of X.

    Parameters
    ----------
    objective : LogisticObjective
        Dense X (sparse X is checked by ``check_values`` on its stored values, and the
        solver makes its first evaluation itself).
    name, columns :
        For ``check_values``'s message.

    Returns
    -------
    float
        The reads of X made (1, more only when the sum of squares did not settle the
        checks); the caller records them as the ``validation`` pass.
    """
    X = objective.X
    if sp.issparse(X) or not isinstance(X, np.ndarray) or X.size == 0:
        check_values(X, name, columns=columns)
        return 1.0
    k = objective.k
    s = np.ones(objective.m) if objective.s is None else objective.s.astype(np.float64)
    if objective.multinomial:
        dz0 = np.tile(s[:, None] / k, (1, k))
        dz0[np.arange(objective.m), objective.y] -= s
    else:
        dz0 = s * (0.5 - objective.y.astype(np.float64))
    dz0_x = dz0.astype(objective.dtype)  # X's dtype: no upcast copy of a block

    def block(Xb, rows):
        flat = Xb.reshape(-1)
        with np.errstate(all="ignore"):  # a NaN / inf / overflow: check_values says so
            return (np.asarray(dz0_x[rows].T @ Xb, dtype=np.float64),
                    float(np.dot(flat, flat)))

    n_threads = objective.blocks.n_threads
    blocks = RowBlocks(X, block_bytes=start_block_bytes(n_threads), n_threads=n_threads)
    dw, sq = blocks.map_sum(block)
    limit = MAX_ABS.get(X.dtype)
    reads = 1.0
    if not (np.isfinite(sq) and (limit is None or sq <= limit * limit)):
        check_values(X, name, columns=columns)  # raises naming the value, if there is one
        reads += 1.0
    if np.all(np.isfinite(dw)):
        inv_s = 1.0 / objective.S
        db = dz0.sum(axis=0) * inv_s
        loss = float(np.log(k if objective.multinomial else 2))
        g = objective.layout.join(dw.T * inv_s, db)  # dw (K, n) -> (n, K)
        objective.know(objective.zeros(), loss, g)
    return reads
