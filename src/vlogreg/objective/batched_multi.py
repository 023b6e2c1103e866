"""K multinomial logistic regressions on the same X at once, in one read of X.

Model k has C classes (``n_classes``), its coefficients ``W_k`` (n, C) and intercepts
``b_k`` (C,), its rows (``fold != exclude[k]``, weights ``w_ik = s_i`` there, 0 else),
its L2 strength ``alpha_k`` and L1 strength ``l1_k``; its smooth objective is the single
model's (``LogisticObjective(n_classes=C)``)::

    J_k = (1/S_k) sum_i w_ik (log sum_c e^{z_ikc} - z_ik,y_i) + (alpha_k / 2) ||W_k||^2

With every model's ``W_k`` side by side in one (n, K C) matrix, each cache block of rows
makes ``Z_blk = X_blk [W_1 .. W_K]`` (blk, K C), a softmax per model group of C columns,
``dZ_ikc = w_ik (softmax(z_ik)_c - [y_i = c])``, and ``G += X_blk^T dZ_blk``: X is read
once per evaluation for the K C columns (blocked NumPy / BLAS on dense X; a CSR X goes
through the compiled ``numba_softmax_csr`` kernel, row by row, when numba is there).

theta per model (a column of the (p, k) arrays the solvers pass) is the single model's
flat layout (``ParamLayout``): ``[W.ravel() (row-major, entry j C + c), b]``.
"""

from __future__ import annotations

import numpy as np

from .._kernels import batched_softmax_kernel
from .._layout import ParamLayout
from .batched import BatchedObjective
from .logistic import LogisticObjective
from .protocol import BOUND_MAX_DENSE
from .secondorder import spd_ridge


class BatchedMultinomial(BatchedObjective):
    """K multinomial models on one X: ``value_and_grad`` of all of them in one read.

    Parameters
    ----------
    X : ndarray (m, n) float32/float64, or sparse matrix (used as CSR)
    y : ndarray (m,) of int
        Class indices in {0, ..., n_classes - 1}.
    sample_weight, fold, exclude, alpha, l1, fit_intercept, n_threads
        As in ``BatchedObjective``.
    kernel : {"auto", "numba", "numpy"}
        "auto" runs the compiled kernel (``_kernels.batched_softmax_kernel``) on a CSR
        X large enough, else the blocked NumPy pass; "numba" forces it (CSR X only),
        "numpy" the NumPy pass.
    n_classes : int
        C >= 3.

    Attributes
    ----------
    p : int
        Parameters per model, ``(n + fit_intercept) C``.
    n_coef : int
        The penalized ones, ``n C`` (theta's first rows).
    layout : ParamLayout
        theta's layout (the single model's).
    """

    def __init__(self, X, y, sample_weight=None, *, n_classes, fold=None, exclude, alpha,
                 l1=0.0, fit_intercept=True, n_threads=None, kernel="auto"):
        super().__init__(X, y, sample_weight, fold=fold, exclude=exclude, alpha=alpha,
                         l1=l1, fit_intercept=fit_intercept, n_threads=n_threads,
                         kernel="numpy")
        if n_classes < 3:
            raise ValueError(f"BatchedMultinomial: n_classes={n_classes} is not valid; "
                             f"use BatchedObjective for two classes.")
        self.n_classes = int(n_classes)
        self.yi = np.asarray(y).astype(np.intp)
        self.layout = ParamLayout(self.n, self.n_classes, self.fit_intercept)
        self.p, self.n_coef = self.layout.n_params, self.layout.n_coef
        self._softmax = batched_softmax_kernel(X, kernel)
        if self._softmax is not None:  # it takes float64 class indices (and checks them)
            self._y_kernel = self.yi.astype(np.float64)

    def value_and_grad(self, theta, models=None):
        """``(J (k,), grad (p, k))`` at ``theta`` (p, k) for the models ``models``."""
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        n, C, k = self.n, self.n_classes, theta.shape[1]
        W = theta[: self.n_coef].reshape(n, C, k)
        # model-major columns: model g's classes are the C columns g C .. g C + C - 1
        Wm = W.transpose(0, 2, 1).reshape(n, k * C)
        b = (theta[self.n_coef:].T if self.fit_intercept else np.zeros((k, C)))
        b = np.asarray(b, dtype=np.float64)
        exclude = self.exclude[models]
        if self._softmax is not None:
            dw, db = np.empty((n, k * C)), np.empty(k * C)
            loss = self._softmax(self.X, Wm, b.ravel(), self._y_kernel, self.sw, self.fold,
                                 np.ascontiguousarray(exclude), C, dw, db, self.n_threads)
            return self._finish(theta, models, loss, dw, db.reshape(k, C))
        Wm = np.ascontiguousarray(Wm, dtype=self.dtype)

        def block(Xb, rows):
            z = np.asarray(Xb @ Wm, dtype=np.float64).reshape(-1, k, C)
            z += b
            z -= z.max(axis=2, keepdims=True)
            ez = np.exp(z)
            norm = ez.sum(axis=2)
            idx = np.arange(z.shape[0])
            yb = self.yi[rows]
            losses = np.log(norm) - z[idx, :, yb]  # (blk, k)
            wb = np.where(self.fold[rows, None] != exclude[None, :],
                          self.sw[rows, None], 0.0)
            dz = ez
            dz /= norm[:, :, None]
            dz[idx, :, yb] -= 1.0
            dz *= wb[:, :, None]
            dw = np.asarray(Xb.T @ dz.reshape(-1, k * C).astype(self.dtype, copy=False),
                            dtype=np.float64)
            return np.einsum("ik,ik->k", wb, losses), dw, dz.sum(axis=0)

        loss, dw, db = self.blocks.map_sum(block)
        return self._finish(theta, models, loss, dw, db)

    def _finish(self, theta, models, loss, dw, db):
        """``(J (k,), grad (p, k))`` from one pass's unnormalized sums: ``loss`` (k,),
        ``dw`` (n, k C) model-major and ``db`` (k, C)."""
        n, C, k = self.n, self.n_classes, theta.shape[1]
        self.n_evals += 1
        self.passes.add("loss_grad")
        S, alpha = self.S[models], self.alpha[models]
        coef = theta[: self.n_coef]
        f = loss / S + 0.5 * alpha * np.einsum("jk,jk->k", coef, coef)
        g = np.empty((self.p, k))
        g[: self.n_coef] = dw.reshape(n, k, C).transpose(0, 2, 1).reshape(n * C, k) / S
        g[: self.n_coef] += alpha * coef
        if self.fit_intercept:
            g[self.n_coef:] = db.T / S
        return f, g

    def loss_grad(self, W, b, models=None):
        raise NotImplementedError("BatchedMultinomial: use value_and_grad(theta, models).")

    def hessian_bounds(self, models=None, theta=None, shared=False):
        """Each model's SPD bound of its Hessian in theta's layout: the single model's
        per-class bound (``LogisticObjective.hessian_bound``, factor 1/2, one strided
        row subsample) on every class's block, plus ``alpha_k`` on the coefficients.
        ``theta`` and ``shared`` are not used (the bound holds everywhere). Returns (k, p, p), or the
        diagonals (k, p) beyond ``BOUND_MAX_DENSE`` parameters."""
        models = np.arange(self.n_models) if models is None else np.asarray(models)
        if not hasattr(self, "_bound0"):
            per_class = LogisticObjective(
                self.X, self.yi, self.sw, fit_intercept=self.fit_intercept,
                n_classes=self.n_classes, kernel="numpy").hessian_bound(ridge=False)
            idx = self.layout.class_index()
            if self.p <= BOUND_MAX_DENSE:
                P = np.zeros((self.p, self.p))
                G = per_class if per_class.ndim == 2 else np.diag(per_class)
                for c in range(self.n_classes):
                    P[np.ix_(idx[c], idx[c])] = G
            else:
                P = np.zeros(self.p)
                diag = per_class if per_class.ndim == 1 else np.diagonal(per_class)
                for c in range(self.n_classes):
                    P[idx[c]] = diag
            self._bound0 = P
        out = np.repeat(self._bound0[None], len(models), axis=0)
        coef = np.arange(self.n_coef)
        if out.ndim == 2:
            out[:, coef] += self.alpha[models, None]
        else:
            out[:, coef, coef] += self.alpha[models, None]
        return np.stack([spd_ridge(P) for P in out])

    def single(self, k, **kw):
        """Model k as a ``LogisticObjective`` on its own rows (row weights zero
        elsewhere): the one-model objective it must equal."""
        w = self.sw * (self.fold != self.exclude[k])
        return LogisticObjective(self.X, self.yi, w, alpha=self.alpha[k], l1=self.l1[k],
                                 n_classes=self.n_classes,
                                 fit_intercept=self.fit_intercept, **kw)

