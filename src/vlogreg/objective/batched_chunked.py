"""K binary models on data held in row chunks (Dask, files on disk): one pass per evaluation.

The batched objective (``objective.batched``) is a sum over rows, so it is a sum over
chunks ``X = [X_1; ...; X_C]`` of the same unnormalized sums on each chunk::

    loss_k = sum_c sum_{i in c} w_ik loss(z_ik, y_i),   G = sum_c X_c^T dZ_c,
    gb_k = sum_c sum_{i in c} dZ_ik,      w_ik = s_i [fold_i != exclude_k]

``batched_partial`` is one chunk's share (the compiled K-column kernel
``_kernels.batched_kernel`` where it takes the chunk, else the blocked NumPy
``batched_loss_grad``); a backend adds the chunks' shares in one pass over its data
(``map_batched``) and ``ChunkedBatchedObjective`` normalizes them as the in-memory
``BatchedObjective`` does (``batched.finish``). The preconditioner's Hessian bounds come
from the strided row sample that ``BatchedObjective.hessian_bounds`` reads in memory
(the same rows, so the same bounds), taken once by the backend.
"""

from __future__ import annotations

import numpy as np

from .._kernels import batched_kernel
from .batched import BatchedObjective, batched_loss_grad, finish
from .blocks import kernel_threads
from .passes import Passes
from .protocol import BOUND_MAX_ROWS


def sample_step(m):
    """The stride of the rows the Hessian bounds read (``BOUND_MAX_ROWS`` at most):
    ``X[::sample_step(m)]`` are the rows ``BatchedObjective.hessian_bounds`` reads."""
    return max(1, -(-int(m) // BOUND_MAX_ROWS))


def batched_partial(Xc, yc, sc, fc, W, b, exclude, n_threads=1):
    """One chunk's unnormalized sums for K binary models, or None for a chunk of no rows.

    Parameters
    ----------
    Xc : ndarray (m_c, n) float32/float64
    yc : ndarray (m_c,)
        Labels in {0, 1} (class indices).
    sc : ndarray (m_c,) or None
        Row weights (ones when None).
    fc : ndarray (m_c,) of int
        The rows' fold ids (>= 0).
    W : ndarray (n, K) float64
    b : ndarray (K,) float64
    exclude : ndarray (K,) int32
        Model k uses the rows with ``fc != exclude[k]`` (-1: every row).
    n_threads : int or None
        The kernel's threads (one per Dask task: the workers are the parallelism).

    Returns
    -------
    (loss (K,), G (n, K), gb (K,)) float64, the sums of ``batched_loss_grad``.
    """
    if Xc.shape[0] == 0:
        return None
    if not (Xc.flags.c_contiguous or Xc.flags.f_contiguous):
        Xc = np.ascontiguousarray(Xc)
    m_c, n = Xc.shape
    K = W.shape[1]
    y = np.asarray(yc, dtype=np.float64)
    s = np.ones(m_c) if sc is None else np.asarray(sc, dtype=np.float64)
    fold = np.asarray(fc, dtype=np.int32)
    G, gb = np.empty((n, K)), np.empty(K)
    kernel = batched_kernel(Xc)
    with kernel_threads(n_threads):
        if kernel is not None:
            loss = kernel(Xc, W, b, y, s, fold, exclude, G, gb, n_threads)
        else:
            loss = batched_loss_grad(Xc, W, b, y, s, fold, exclude, G, gb,
                                     n_threads=n_threads)
    return np.asarray(loss, dtype=np.float64), G, gb


class ChunkedBatchedObjective:
    """``BatchedObjective``'s interface over a backend's one-pass sum of the chunks.

    Parameters
    ----------
    map_batched : callable ``(W (n, k), b (k,), exclude (k,) int32) -> (loss, G, gb)``
        The sums of ``batched_partial`` over every chunk, in ONE pass over the data.
    n, m : int
        Columns and rows of X.
    dtype : numpy dtype of X
    S : ndarray (K,)
        Each model's total weight ``S_k = sum_i s_i [fold_i != exclude_k]``.
    exclude : ndarray (K,) of int
    alpha : ndarray (K,) or float
        L2 strengths (settable, as ``BatchedObjective.alpha``).
    fit_intercept : bool
    sample : (Xs, ys, ss, fs)
        The rows ``X[::sample_step(m)]`` in memory with their labels, weights and folds:
        what ``hessian_bounds`` reads.
    reads : float
        Reads of X per evaluation (2 for the array-API path's two products).

    Attributes
    ----------
    passes : Passes
        One ``loss_grad`` pass per evaluation, whatever the number of models.
    n_evals : int
    """

    def __init__(self, map_batched, *, n, m, dtype, S, exclude, alpha, fit_intercept,
                 sample, reads=1.0):
        self._map, self._reads = map_batched, float(reads)
        self.n, self.m = int(n), int(m)
        self.dtype = np.dtype(dtype)
        self.S = np.asarray(S, dtype=np.float64)
        self.exclude = np.asarray(exclude, dtype=np.int32)
        self.n_models = len(self.exclude)
        self.fit_intercept = bool(fit_intercept)
        self.p = self.n + int(self.fit_intercept)
        self.n_coef = self.n  # coefficients per model before the intercept (binary)
        if self.S.shape != self.exclude.shape or np.any(self.S <= 0):
            raise ValueError("a model has no rows of positive weight (its fold holds every "
                             "row); use more folds or check the weights.")
        Xs, ys, ss, fs = sample
        # the bounds' rows: every model's column of the in-memory objective on them
        self._sample = BatchedObjective(Xs, ys, ss, fold=fs, exclude=self.exclude,
                                        alpha=alpha, fit_intercept=fit_intercept,
                                        kernel="numpy")
        self.passes = Passes()
        self.n_evals = 0

    @property
    def alpha(self):
        return self._sample.alpha

    @alpha.setter
    def alpha(self, value):
        self._sample.alpha = np.broadcast_to(np.asarray(value, dtype=np.float64),
                                             self.exclude.shape).copy()

    def loss_grad(self, W, b, models=None):
        """Losses and gradients of the models ``models`` in one pass over the chunks;
        ``BatchedObjective.loss_grad``'s contract."""
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        W = np.ascontiguousarray(W, dtype=np.float64)
        k = W.shape[1]
        b = (np.zeros(k) if not self.fit_intercept
             else np.ascontiguousarray(b, dtype=np.float64))
        loss, G, gb = self._map(W, b, np.ascontiguousarray(self.exclude[models]))
        self.n_evals += 1
        self.passes.add("loss_grad", self._reads)
        return finish(loss, np.array(G, dtype=np.float64), gb, W, self.S[models],
                      self.alpha[models], self.fit_intercept)

    value_and_grad = BatchedObjective.value_and_grad

    def hessian_bounds(self, models=None, theta=None, shared=False):
        """``BatchedObjective.hessian_bounds`` on the sampled rows (the rows it reads in
        memory): no pass over the chunks."""
        return self._sample.hessian_bounds(models, theta, shared=shared)
