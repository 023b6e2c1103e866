"""K logistic regressions on the same X at once: cross-validation folds, a path of C.

Every model k has its own coefficients ``(w_k, b_k)``, its own rows (the rows of fold
``f`` are left out of model k when ``exclude[k] = f``; ``-1`` keeps every row) and its
own L2 strength ``alpha_k``. With ``w_ik = s_i [fold_i != exclude_k]`` and
``S_k = sum_i w_ik``, model k's objective is the single model's (``LogisticObjective``)::

    J_k(w_k, b_k) = (1/S_k) sum_i w_ik loss(z_ik, y_i) + (alpha_k / 2) ||w_k||^2,
    Z = X W + b      (m, K): every model's decision values in ONE product

and its gradient ``dw_k = X^T dZ[:, k] / S_k + alpha_k w_k``, ``db_k = sum_i dZ_ik / S_k``
with ``dZ_ik = w_ik (a_ik - y_i)``. X is read once per evaluation whatever K is: each
cache block of rows serves ``Z_blk = X_blk W`` and ``G += X_blk^T dZ_blk`` (the K-column
products are the extra). Models that have converged drop out: ``loss_grad(..., models=)``
evaluates a subset.

Binary; the multinomial loss is ``batched_multi.BatchedMultinomial`` (a subclass). The L1
strengths ``l1_k`` are held here, but the L1 term is the solver's (``batched_owlqn``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._kernels import batched_kernel, csr_diagonals_kernel
from .._math import sigmoid
from .blocks import RowBlocks
from .logistic import LogisticObjective
from .passes import Passes
from .protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from .secondorder import bordered, float64_rows, spd_ridge


class BatchedLossGrad(NamedTuple):
    """Losses and gradients of K models: ``loss`` (K,), ``dw`` (n, K), ``db`` (K,)."""

    loss: np.ndarray
    dw: np.ndarray
    db: np.ndarray


def batched_loss_grad(X, W, b, y, sw, fold, exclude, G, gb, n_threads=None, blocks=None):
    """Unnormalized losses and gradients of K binary models in one read of X (NumPy).

    The same contract as the compiled ``vlogreg._kernels.batched_kernel``.

    Parameters
    ----------
    X : ndarray (m, n) float32/float64, or CSR matrix
    W : ndarray (n, K) float64
    b : ndarray (K,) float64
    y : ndarray (m,) float64 in {0, 1}
    sw : ndarray (m,) float64
        Row weights ``s``.
    fold : ndarray (m,) int32
        Each row's fold (>= 0).
    exclude : ndarray (K,) int32
        Model k uses the rows with ``fold != exclude[k]`` (-1: every row).
    G : ndarray (n, K) float64, written in place
        ``sum_i w_ik (a_ik - y_i) x_i``.
    gb : ndarray (K,) float64, written in place
        ``sum_i w_ik (a_ik - y_i)``.
    n_threads : int, optional
        Threads over the row blocks (``RowBlocks``'s default when None).
    blocks : RowBlocks, optional
        X's row blocks, when the caller keeps them (else built here).

    Returns
    -------
    loss : ndarray (K,) float64
        ``sum_i w_ik loss(z_ik, y_i)``, ``loss(z, y) = log(1 + e^z) - y z``.
    """
    blocks = RowBlocks(X, n_threads=n_threads) if blocks is None else blocks
    Wc = np.asarray(W, dtype=X.dtype)  # X's dtype, or X_blk @ W would upcast the block
    bc = np.asarray(b, dtype=X.dtype)
    exclude = np.asarray(exclude)

    def block(Xb, rows):
        z = np.asarray(Xb @ Wc)
        z += bc
        yb = y[rows, None]
        wb = np.where(fold[rows, None] != exclude[None, :], sw[rows, None], 0.0)
        # one exp for the loss and the sigmoid: e = exp(-|z|) <= 1 (as LogisticObjective)
        e = np.exp(-np.abs(z))
        losses = np.maximum(z, 0) - yb * z + np.log1p(e)
        dz = np.where(z >= 0, 1.0, e)
        dz /= 1.0 + e
        dz -= yb
        dz *= wb
        loss = np.einsum("ik,ik->k", wb, losses, dtype=np.float64)
        dw = np.asarray(Xb.T @ dz.astype(X.dtype, copy=False), dtype=np.float64)
        return loss, dw, dz.sum(axis=0, dtype=np.float64)

    loss, dw, db = blocks.map_sum(block)
    G[...] = dw
    gb[...] = db
    return np.asarray(loss, dtype=np.float64)


def finish(loss, G, gb, W, S, alpha, fit_intercept) -> BatchedLossGrad:
    """The models' ``J_k`` and gradients from the unnormalized sums of one pass.

    ``loss`` (k,), ``G`` (n, k) and ``gb`` (k,) are ``batched_loss_grad``'s sums (G is
    overwritten); ``J_k = loss_k / S_k + (alpha_k / 2) ||w_k||^2``, ``dw_k = G_k / S_k +
    alpha_k w_k``, ``db_k = gb_k / S_k`` (0 without intercept). Every backend's batched
    objective ends with it, so they normalize alike.
    """
    loss = np.asarray(loss, dtype=np.float64) / S + 0.5 * alpha * np.einsum("jk,jk->k",
                                                                            W, W)
    G /= S
    G += alpha * W
    return BatchedLossGrad(loss, G, gb / S if fit_intercept else np.zeros(len(S)))


class BatchedObjective:
    """K binary logistic regressions on one X: losses and gradients in one read of X.

    Parameters
    ----------
    X : ndarray (m, n) float32/float64, or sparse matrix (used as CSR)
    y : ndarray (m,)
        Labels in {0, 1}.
    sample_weight : ndarray (m,), optional
        Row weights ``s`` (ones when omitted).
    fold : ndarray (m,) of int, optional
        Each row's fold id (>= 0); None: one fold 0 (then ``exclude`` is all -1).
    exclude : ndarray (K,) of int
        The fold model k leaves out (-1: none).
    alpha : ndarray (K,)
        L2 strengths ``alpha_k`` (0 for none).
    l1 : ndarray (K,), optional
        L1 strengths ``l1_k``: model k's objective is ``J_k + l1_k ||w_k||_1``. Not part
        of ``loss_grad`` (not smooth): the solver (``solvers.batched_prox``) adds it;
        ``l1_value`` evaluates it.
    fit_intercept : bool
    n_threads : int, optional
    kernel : {"auto", "numba", "numpy"}
        "auto" runs the compiled K-column kernel (``_kernels.batched_kernel``: dense or
        CSR X large enough, numba installed), else the blocked NumPy ``batched_loss_grad``;
        "numba" forces the kernel, "numpy" the NumPy path.

    Attributes
    ----------
    S : ndarray (K,)
        Each model's total weight ``S_k = sum_i s_i [fold_i != exclude_k]``.
    n_evals : int
        Evaluations made (each one read of X, whatever the number of models).
    passes : Passes
        The same reads by kind (``loss_grad``), as the single-model objectives count.
    """

    def __init__(self, X, y, sample_weight=None, *, fold=None, exclude, alpha, l1=0.0,
                 fit_intercept=True, n_threads=None, kernel="auto"):
        if sp.issparse(X) and X.format != "csr":
            X = sp.csr_matrix(X)
        self.X = X
        self.m, self.n = X.shape
        self.dtype = X.dtype
        self.y = np.asarray(y, dtype=np.float64)
        self.sw = (np.ones(self.m) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64))
        self.fold = (np.zeros(self.m, np.int32) if fold is None
                     else np.asarray(fold, dtype=np.int32))
        self.exclude = np.asarray(exclude, dtype=np.int32)
        self.alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64),
                                     self.exclude.shape).copy()
        self.l1 = np.broadcast_to(np.asarray(l1, dtype=np.float64),
                                  self.exclude.shape).copy()
        if self.fold.shape != (self.m,) or self.y.shape != (self.m,) or \
                self.sw.shape != (self.m,):
            raise ValueError(f"BatchedObjective: y, sample_weight and fold need one entry "
                             f"per row of X ({self.m}); pass arrays of shape ({self.m},).")
        if np.any(self.fold < 0):
            raise ValueError("BatchedObjective: fold ids must be >= 0; number the folds "
                             "0, 1, ... (exclude=-1 keeps every row).")
        self.fit_intercept = bool(fit_intercept)
        self.n_models = len(self.exclude)
        self.p = self.n + int(self.fit_intercept)
        self.n_coef = self.n  # theta[:n_coef] are the coefficients (the L1 part's)
        sums = np.bincount(self.fold, weights=self.sw)
        total = float(self.sw.sum())
        self.S = np.array([total - (sums[f] if 0 <= f < len(sums) else 0.0)
                           for f in self.exclude])
        if np.any(self.S <= 0):
            raise ValueError("BatchedObjective: a model has no rows of positive weight "
                             "(its fold holds every row); use more folds or check the "
                             "weights.")
        self.n_threads = n_threads
        self.blocks = RowBlocks(X, n_threads=n_threads)
        self._kernel = batched_kernel(X, kernel)
        self._diag_kernel = csr_diagonals_kernel(X, kernel)
        self.n_evals = 0
        self.passes = Passes()

    def loss_grad(self, W, b, models=None) -> BatchedLossGrad:
        """Losses and gradients of the models ``models`` (all when None).

        Parameters
        ----------
        W : ndarray (n, k)
            Coefficients of the k models asked for, one column each.
        b : ndarray (k,)
            Their intercepts (ignored without intercept).
        models : ndarray of int (k,), optional
            Which of the K models the columns are.

        Returns
        -------
        BatchedLossGrad
            ``loss`` (k,), ``dw`` (n, k), ``db`` (k,): each model's ``J_k`` and gradient,
            equal to ``LogisticObjective.loss_grad`` on its rows.
        """
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        W = np.ascontiguousarray(W, dtype=np.float64)
        k = W.shape[1]
        b = (np.zeros(k) if not self.fit_intercept
             else np.ascontiguousarray(b, dtype=np.float64))
        exclude = np.ascontiguousarray(self.exclude[models])
        G, gb = np.empty((self.n, k)), np.empty(k)
        if self._kernel is not None:
            loss = self._kernel(self.X, W, b, self.y, self.sw, self.fold, exclude, G, gb,
                                self.n_threads)
        else:
            loss = batched_loss_grad(self.X, W, b, self.y, self.sw, self.fold, exclude,
                                     G, gb, blocks=self.blocks)
        self.n_evals += 1
        self.passes.add("loss_grad")
        return finish(loss, G, gb, W, self.S[models], self.alpha[models],
                      self.fit_intercept)

    def hessian_bounds(self, models=None, theta=None, shared=False):
        """Each model's SPD approximation of its Hessian, for the solver's preconditioner.

        With ``theta`` (p, k), the models' current coefficients (a warm start): the
        Hessian there, ``X~^T diag(w_ik a_ik (1 - a_ik)) X~ / S_k + alpha_k``, from one
        strided row subsample (``BOUND_MAX_ROWS`` rows, no pass over X), so that the
        first steps from a warm start are close to Newton steps. ``shared=True``
        (models alike, e.g. the folds of one C): one Hessian of the data for all of
        them, at their mean theta and over every subsample row,
        ``X~^T diag(s_i a_i (1 - a_i)) X~ / S`` plus each model's ``alpha_k``: one Gram
        matrix instead of k, the folds' differences (a fifth of the rows left out)
        being of the order of the subsample's own noise. Without ``theta``: the bound
        ``a (1 - a) <= 1/4`` (``LogisticObjective.hessian_bound``), i.e. the shared
        Hessian at theta = 0. A sparse X beyond ``BOUND_MAX_DENSE`` columns gets its
        diagonals over EVERY row instead (``sum_i d_ik x_ij^2``: O(nnz k), about one
        evaluation's cost): a subsample leaves rare columns (Zipf-distributed text
        features) without a row, their diagonal at the ridge's floor, and a solver
        scaled by it an absurd step along them (on sparse_text 100k x 10k the L1
        path's OWL-QN gave up on 11 of its 100 warm starts there).

        Returns (k, p, p), or (k, p) (diagonals) beyond ``BOUND_MAX_DENSE`` columns.
        """
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        n, k = self.n, len(models)
        if theta is None:  # the bound: the Hessian at theta = 0, where a (1 - a) = 1/4
            theta, shared = np.zeros((self.p, 1)), True
        theta = theta.mean(axis=1, keepdims=True) if shared else theta
        if sp.issparse(self.X) and self.p > BOUND_MAX_DENSE:  # every row (see above)
            out = self._diagonals_every_row(theta, models, shared)
        else:
            Xs, rows = self._subsample()
            z = np.asarray(Xs @ theta[:n])
            if self.fit_intercept:
                z += theta[n]
            a = sigmoid(z)
            w = self.sw[rows, None] * (True if shared else
                                       self.fold[rows, None] != self.exclude[models])
            d = w * a * (1.0 - a) / np.maximum(w.sum(axis=0), 1e-300)
            if self.p <= BOUND_MAX_DENSE:
                out = _weighted_grams(self._sub_blocks, d, self.fit_intercept)
            else:
                out = np.stack([_gram_diagonal(Xs, d[:, j], self.fit_intercept)
                                for j in range(d.shape[1])])
        out = np.repeat(out, k, axis=0) if shared else out
        if out.ndim == 2:
            out[:, :n] += self.alpha[models, None]
        else:
            out[:, np.arange(n), np.arange(n)] += self.alpha[models, None]
        return np.stack([spd_ridge(P) for P in out])

    def _diagonals_every_row(self, theta, models, shared):
        """(k', p) Hessian diagonals of a CSR X over every row, at theta (p, k'):
        ``sum_i d_ik x_ij^2`` and ``sum_i d_ik`` (the intercept's), ``d_ik = w_ik a_ik
        (1 - a_ik) / sum_i w_ik``; ``shared``: one column, every row. In one compiled
        pass (``_kernels.csr_diagonals_kernel``) or by sparse products."""
        n, k = self.n, theta.shape[1]
        b = theta[n] if self.fit_intercept else np.zeros(k)
        exclude = np.full(k, -1, np.int32) if shared else self.exclude[models]
        wsum = np.full(k, self.sw.sum()) if shared else self.S[models]
        if self._diag_kernel is not None:
            D, dsum = self._diag_kernel(self.X, theta[:n], b, self.sw, self.fold, exclude,
                                        self.n_threads)
        else:
            if not hasattr(self, "_x_squared"):  # X's pattern, its values squared, kept
                self._x_squared = sp.csr_matrix(
                    (np.square(self.X.data, dtype=np.float64), self.X.indices,
                     self.X.indptr), shape=self.X.shape)
            a = sigmoid(np.asarray(self.X @ theta[:n]) + b)
            d = self.sw[:, None] * (self.fold[:, None] != exclude) * a * (1.0 - a)
            D, dsum = np.asarray(self._x_squared.T @ d), d.sum(axis=0)
        wsum = np.maximum(wsum, 1e-300)
        out = (D / wsum).T
        return np.hstack([out, (dsum / wsum)[:, None]]) if self.fit_intercept else out

    def _subsample(self):
        """The strided row subsample of the Hessians at theta (``BOUND_MAX_ROWS`` rows,
        every ``step``-th), copied once and kept: ``(Xs, rows)``, Xs float64,
        C-contiguous or CSR; its row blocks in ``_sub_blocks``."""
        if not hasattr(self, "_sub"):
            rows = np.arange(0, self.m, max(1, -(-self.m // BOUND_MAX_ROWS)))
            Xs = float64_rows(self.X[rows])  # float64: see float64_rows
            if not sp.issparse(Xs):
                Xs = np.ascontiguousarray(Xs)
            self._sub = (Xs, rows)
            self._sub_blocks = RowBlocks(Xs, n_threads=self.n_threads)
        return self._sub

    def value_and_grad(self, theta, models=None):
        """``(J (k,), grad (p, k))`` at ``theta`` (p, k): rows ``[w; b]`` per model
        (``p = n + fit_intercept``), the columns the models ``models``."""
        W = theta[: self.n]
        b = theta[self.n] if self.fit_intercept else None
        loss, dw, db = self.loss_grad(W, b, models)
        return loss, (np.vstack([dw, db[None, :]]) if self.fit_intercept else dw)

    def l1_value(self, theta, models=None):
        """``l1_k ||w_k||_1`` (k,) of the models ``models`` at theta (p, k)."""
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        return self.l1[models] * np.abs(theta[: self.n_coef]).sum(axis=0)

    def single(self, k, **kw):
        """Model k as a ``LogisticObjective`` on its own rows (row weights zero
        elsewhere): the one-model objective it must equal."""
        w = self.sw * (self.fold != self.exclude[k])
        return LogisticObjective(self.X, self.y, w, alpha=self.alpha[k], l1=self.l1[k],
                                 fit_intercept=self.fit_intercept, **kw)


def _weighted_grams(blocks, d, fit_intercept):
    """``X~^T diag(d[:, j]) X~`` (k, p, p) of every column of d (rows, k) at once, over
    the row blocks of X (``blocks``, threads over the blocks as the objective's passes):
    each block is read from memory once for the k products."""
    k = d.shape[1]

    def block(Xb, rows):
        db = d[rows]
        if sp.issparse(Xb):
            return (np.stack([(Xb.T @ Xb.multiply(db[:, j, None]).tocsr()).toarray()
                              for j in range(k)]),
                    np.asarray(Xb.T @ db).T, db.sum(axis=0))
        return (np.stack([Xb.T @ (db[:, j, None] * Xb) for j in range(k)]),
                (Xb.T @ db).T, db.sum(axis=0))

    G, xd, dsum = blocks.map_sum(block)
    return np.stack([bordered(G[j], xd[j], float(dsum[j]), fit_intercept)
                     for j in range(k)])


def _gram_diagonal(Xs, d, fit_intercept):
    """The diagonal of ``X~^T diag(d) X~`` (n + fit_intercept,), dense or CSR rows."""
    if sp.issparse(Xs):
        diag = np.asarray(Xs.multiply(Xs).T @ d).ravel()
    else:
        diag = (np.asarray(Xs, dtype=np.float64) ** 2).T @ d
    return np.append(diag, d.sum()) if fit_intercept else diag
