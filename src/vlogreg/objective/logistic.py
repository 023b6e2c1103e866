"""The objective: the one place where the maths of the loss and its derivatives lives.

Examples are rows: ``X`` of shape (m, n). With per-example weights ``s`` (ones by
default), ``S = sum(s)`` and an L2 strength ``alpha``, the smooth objective is

    J(w, b) = (1/S) sum_i s_i * loss_i(z_i)  +  (alpha / 2) ||w||^2,    z = X w + b

which, for ``alpha = 1 / (C S)``, is scikit-learn's ``C sum_i s_i loss_i + ||w||^2 / 2``
divided by ``C S``: same minimiser. An L1 part ``l1 * ||w||_1`` is held here too, but is
not smooth and is left to the solvers (proximal steps or the split L-BFGS-B).

Binary: ``a = sigmoid(z)``, ``dz = s (a - y) / S``. Multinomial with K classes: ``Z = X W + b``
of shape (m, K), ``A = softmax(Z)``, ``dZ = s (A - Y) / S`` with Y one-hot. In both,

    dw = X^T dz + alpha w,     db = sum(dz)

``loss_grad`` computes all of it in ONE read of X (see ``objective.blocks``). Solvers see a flat
parameter vector ``theta = [w.ravel(), b]`` through ``value_and_grad``, ``hessp``, ...
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .._kernels import binary_kernel, softmax_kernel
from .._layout import ParamLayout
from .._math import sigmoid
from .blocks import RowBlocks, kernel_threads
from .passes import Passes
from .protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from .secondorder import (
    assemble_hessian,
    float64_rows,
    power_lipschitz,
    spd_ridge,
    weighted_gram,
)
from .separation import disjoint_ranges, unseparated


class LossGrad(NamedTuple):
    """Loss and gradient of the smooth objective: ``(loss, dw, db)``."""

    loss: float
    dw: np.ndarray
    db: np.ndarray


class LogisticObjective:
    """Fixed data of a logistic regression fit, and its loss, gradient and Hessian.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix, shape (m, n)
        Float32 or float64; never copied. Sparse input is used as CSR (CSC is
        converted once).
    y : ndarray, shape (m,)
        Binary: labels in {0, 1}. Multinomial: class indices in {0, ..., K-1}.
    sample_weight : ndarray, shape (m,), optional
        Non-negative weights ``s``; ones when omitted.
    alpha : float
        L2 strength, the objective has ``(alpha / 2) ||w||^2``.
    l1 : float
        L1 strength ``l1 ||w||_1``; not part of ``loss_grad`` (it is not smooth).
    fit_intercept : bool
        Whether ``b`` is a parameter (it is never penalized).
    n_classes : int
        2 for the binary (sigmoid) loss, K >= 3 for the multinomial (softmax) loss.
    block_bytes : int
        Bytes of X processed per block (a block stays in cache between the two products).
    n_threads : int, optional
        Threads for the NumPy block path and the numba kernel (default: all cores for
        large X).
    kernel : {"auto", "numba", "numpy"}
        The loss+gradient runs in a compiled numba kernel (binary: ``numba_binary``;
        multinomial, dense X: the K-column ``numba_kcol``) when numba is installed and X
        is large enough to gain ("auto"); "numba" forces it (a ValueError when it cannot
        take X), "numpy" forces the portable path.
    """

    def __init__(self, X, y, sample_weight=None, *, alpha=0.0, l1=0.0, fit_intercept=True,
                 n_classes=2, block_bytes=None, n_threads=None, kernel="auto"):
        if sp.issparse(X) and X.format != "csr":
            X = sp.csr_matrix(X)
        self.X = X
        self.m, self.n = X.shape
        self.dtype = X.dtype
        self.multinomial = n_classes > 2
        self.k = n_classes if self.multinomial else 1
        y = np.asarray(y)
        if self.multinomial:
            self.y = y.astype(np.intp)
        else:
            self.y = y.astype(self.dtype)
        if sample_weight is None:
            self.s = None
            self.S = float(self.m)
        else:
            s = np.asarray(sample_weight, dtype=np.float64)
            self.S = float(s.sum())
            self.s = s.astype(self.dtype)
        self.alpha = float(alpha)
        self.l1 = float(l1)
        self.fit_intercept = bool(fit_intercept)
        self.layout = ParamLayout(self.n, n_classes if self.multinomial else 2,
                                  self.fit_intercept)
        self.blocks = RowBlocks(X, block_bytes=block_bytes, n_threads=n_threads)
        self._kernel_threads = n_threads  # None: numba's own default
        if self.multinomial:
            self._kernel = softmax_kernel(X, kernel)
            if self._kernel is not None:  # the K-column kernel takes float64 y and s
                self._y_kernel = self.y.astype(np.float64)
                self._s_kernel = (np.ones(self.m) if self.s is None
                                  else self.s.astype(np.float64))
        else:
            self._kernel = binary_kernel(X, kernel)
            if self._kernel is not None:  # the kernel always takes weights
                self._y_kernel = self.y
                self._s_kernel = np.ones(self.m, self.dtype) if self.s is None else self.s
        self.n_coef, self.n_params = self.layout.n_coef, self.layout.n_params
        self.n_evals = 0  # passes over X made through loss_grad / loss, for the record
        self.passes = Passes()  # every read of X, by kind (objective.passes)
        self._known = None  # (theta, J, grad J) made in another pass (know)

    # ------------------------------------------------------------------ layout
    def unpack(self, theta):
        """``(coef, intercept)``: coef (n,) or (n, K), intercept a float or (K,)."""
        return self.layout.unpack(theta)

    def pack(self, coef, intercept):
        """Inverse of ``unpack``: a flat float64 vector."""
        return self.layout.pack(coef, intercept)

    def zeros(self):
        return self.layout.zeros()

    def penalized_mask(self):
        """Boolean mask over ``theta``: True for the coefficients, False for intercepts."""
        return self.layout.penalized_mask()

    def expect(self, op, theta=None):
        """A solver's hint (see ``Objective.expect``): in memory, nothing to gain."""

    # --------------------------------------------------------------- the kernel
    def _block_loss_dz(self, Xb, rows, coef, intercept, need_grad=True):
        """One block's forward and backward step: ``(sum of s_i loss_i, dz)``."""
        z = Xb @ coef
        z += intercept
        yb = self.y[rows]
        sb = None if self.s is None else self.s[rows]
        if self.multinomial:
            zmax = z.max(axis=1, keepdims=True)
            z -= zmax
            ez = np.exp(z)
            norm = ez.sum(axis=1, keepdims=True)
            idx = np.arange(z.shape[0])
            losses = np.log(norm[:, 0]) - z[idx, yb]
            if need_grad:
                dz = ez
                dz /= norm
                dz[idx, yb] -= 1.0
        else:
            # one exp serves both the loss and the sigmoid: e = exp(-|z|) <= 1
            e = np.exp(-np.abs(z))
            losses = np.maximum(z, 0) - yb * z + np.log1p(e)
            if need_grad:
                dz = np.where(z >= 0, 1.0, e)
                dz /= 1.0 + e
                dz -= yb
        if sb is not None:
            loss = float(np.dot(sb.astype(np.float64), losses))
            if need_grad:
                dz *= sb[:, None] if self.multinomial else sb
        else:
            loss = float(losses.sum(dtype=np.float64))
        return loss, (dz if need_grad else None)

    def _cast(self, coef, intercept):
        # coef must have X's dtype, or X @ coef would upcast (copy) a float32 block
        return (np.asarray(coef, dtype=self.dtype),
                np.asarray(intercept, dtype=self.dtype))

    def loss_grad(self, coef, intercept) -> LossGrad:
        """Loss and gradient in one read of X.

        Returns
        -------
        LossGrad
            ``loss`` (float), ``dw`` of coef's shape, ``db`` (float or (K,)), all float64:
            ``dw = X^T dz + alpha w``, ``db = sum(dz)``, ``dz = s (a - y) / S``.
        """
        c, b = self._cast(coef, intercept)
        if self._kernel is not None:
            with kernel_threads(self._kernel_threads):
                loss, dw, db = self._kernel(self.X, self._y_kernel, self._s_kernel, c,
                                            b if self.multinomial else float(b))
        else:
            def block(Xb, rows):
                loss, dz = self._block_loss_dz(Xb, rows, c, b)
                dw = np.asarray(Xb.T @ dz, dtype=np.float64)
                return loss, dw, dz.sum(axis=0, dtype=np.float64)

            loss, dw, db = self.blocks.map_sum(block)
        self.n_evals += 1
        self.passes.add("loss_grad")
        inv_s = 1.0 / self.S
        coef64 = np.asarray(coef, dtype=np.float64)
        loss = loss * inv_s + 0.5 * self.alpha * float(np.vdot(coef64, coef64))
        dw = dw * inv_s + self.alpha * coef64
        db = db * inv_s
        if not self.multinomial:
            db = float(db)
        return LossGrad(float(loss), dw, db)

    def loss(self, coef, intercept) -> float:
        """The smooth objective alone (one read of X, no gradient)."""
        if self._kernel is not None:  # the fused pass costs the same as a loss-only one
            return self.loss_grad(coef, intercept).loss
        c, b = self._cast(coef, intercept)
        (loss,) = self.blocks.map_sum(
            lambda Xb, rows: (self._block_loss_dz(Xb, rows, c, b, need_grad=False)[0],))
        self.n_evals += 1
        self.passes.add("loss")
        coef64 = np.asarray(coef, dtype=np.float64)
        return float(loss / self.S + 0.5 * self.alpha * np.vdot(coef64, coef64))

    def decision_function(self, coef, intercept, kind="prediction"):
        """``z = X w + b``: shape (m,) or (m, K); one read of X, counted as ``kind``."""
        c, b = self._cast(coef, intercept)
        self.passes.add(kind)
        return np.asarray(self.X @ c) + b

    def n_unseparated(self, theta):
        """Examples NOT classified with a margin at theta (weight-0 rows count too):
        0 means the data are perfectly separated there."""
        z = self.decision_function(*self.unpack(theta))
        return unseparated(z, self.y)

    def separates(self, theta):
        """True when theta classifies every example with a margin (the estimator's
        SeparationWarning for unpenalized fits); one read of X."""
        return self.n_unseparated(theta) == 0

    def separating_columns(self):
        """Columns that separate the classes by themselves (``disjoint_ranges`` of the
        classes' ranges of x_j), for the SeparationWarning to name; one read of X."""
        y = np.asarray(self.y).astype(np.intp)
        self.passes.add("prediction")
        lo, hi = [], []
        for c in range(max(2, self.k)):
            Xc = self.X[y == c]
            lo.append(np.asarray(Xc.min(axis=0).todense() if sp.issparse(Xc)
                                 else Xc.min(axis=0)).ravel())
            hi.append(np.asarray(Xc.max(axis=0).todense() if sp.issparse(Xc)
                                 else Xc.max(axis=0)).ravel())
        return disjoint_ranges(np.array(lo), np.array(hi))

    # ------------------------------------------------------- flat-vector interface
    def know(self, theta, value, grad):
        """Keep ``(J, grad J)`` at theta, made in another pass (``start.checked_start``):
        the next ``value_and_grad``, if at exactly theta, returns it without a read."""
        self._known = (np.array(theta, dtype=np.float64), float(value), np.array(grad))

    def value_and_grad(self, theta):
        """Smooth objective and its gradient at the flat ``theta`` (float64)."""
        known, self._known = self._known, None
        if known is not None and np.array_equal(known[0], theta):
            self.n_evals += 1  # an evaluation, though not a pass (passes has its read)
            return known[1], known[2].copy()
        loss, dw, db = self.loss_grad(*self.unpack(theta))
        return loss, self.layout.join(dw, db)

    def value(self, theta):
        return self.loss(*self.unpack(theta))

    def grad(self, theta):
        return self.value_and_grad(theta)[1]

    def l1_value(self, theta):
        """``l1 * ||w||_1`` (the intercept is not penalized)."""
        return self.l1 * float(np.abs(np.asarray(theta)[: self.n_coef]).sum())

    # ------------------------------------------------------------- second order
    def curvature(self, theta):
        """Per-example curvature at ``theta``, stored for ``hessp`` / ``hessian``.

        Binary: ``h = s a (1 - a) / S`` of shape (m,). Multinomial: the probabilities
        ``A`` (m, K) and ``s / S``; the Hessian block of example i is
        ``(s_i / S) (diag(a_i) - a_i a_i^T)``.
        """
        coef, intercept = self.unpack(theta)
        return self._curvature_from_z(self.decision_function(coef, intercept, "curvature"),
                                      slice(0, self.m))

    def _curvature_from_z(self, z, rows):
        """``curvature`` of the examples ``rows`` from their decision values ``z``."""
        z = np.asarray(z, dtype=np.float64)
        s = np.ones(z.shape[0]) if self.s is None else self.s[rows].astype(np.float64)
        if self.multinomial:
            z -= z.max(axis=1, keepdims=True)
            a = np.exp(z)
            a /= a.sum(axis=1, keepdims=True)
            return a, s / self.S
        a = sigmoid(z)
        return a * (1.0 - a) * s / self.S, None

    def hessp(self, theta, v, curvature=None):
        """Hessian-vector product ``H v`` of the smooth objective at ``theta``.

        ``H v = X~^T (h * (X~ v)) + alpha v_w`` with ``X~ = [X, 1]``; for the multinomial
        loss ``h *`` is the per-example ``diag(a) - a a^T`` applied to each row of U.
        Pass ``curvature=self.curvature(theta)`` to reuse it over many products.
        """
        h, sw = self.curvature(theta) if curvature is None else curvature
        vw, vb = self.unpack(v)
        vw_c = np.asarray(vw, dtype=self.dtype)

        def block(Xb, rows):
            u = np.asarray(Xb @ vw_c, dtype=np.float64) + vb
            if self.multinomial:
                ab = h[rows]
                r = ab * u
                r -= ab * (r.sum(axis=1, keepdims=True))  # a*u - a (a.u)
                r *= sw[rows, None]
            else:
                r = h[rows] * u
            r_c = r.astype(self.dtype, copy=False)
            return np.asarray(Xb.T @ r_c, dtype=np.float64), r.sum(axis=0)

        hw, hb = self.blocks.map_sum(block)
        self.passes.add("hessp")
        hw = hw + self.alpha * np.asarray(vw, dtype=np.float64)
        return self.layout.join(hw, hb)

    def hessian(self, theta, curvature=None):
        """The full Hessian (n_params, n_params), built block by block in one read of X.

        Binary: ``X~^T diag(h) X~ + alpha I_w``. Multinomial: the (k, l) block over
        classes is ``X~^T diag(sw (delta_kl a_k - a_k a_l)) X~``. The layout matches
        ``theta`` (coef row-major over (n, K), then the intercepts). Without
        ``curvature`` each block's curvature is computed from the block itself, so the
        whole Hessian costs one read of X.
        """
        k, n, fi = self.k, self.n, self.fit_intercept
        p1 = n + (1 if fi else 0)
        c, b = self._cast(*self.unpack(theta))

        def block(Xb, rows):
            if curvature is None:  # z of the block while it is in cache: one read of X
                hb, swb = self._curvature_from_z(np.asarray(Xb @ c) + b, rows)
            else:
                hb = curvature[0][rows]
                swb = None if curvature[1] is None else curvature[1][rows]
            out = np.empty((k, k, p1, p1))
            if not self.multinomial:
                out[0, 0] = weighted_gram(Xb, hb, fi)
                return (out,)
            ab, sb = hb, swb
            for i in range(k):
                for j in range(i, k):
                    d = -ab[:, i] * ab[:, j]
                    if i == j:
                        d = d + ab[:, i]
                    out[i, j] = weighted_gram(Xb, sb * d, fi)
                    out[j, i] = out[i, j]
            return (out,)

        (blocks,) = self.blocks.map_sum(block)
        self.passes.add("hessian")
        return assemble_hessian(blocks, self.layout, self.alpha)

    def hessian_bound(self, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE, ridge=True,
                      theta=None):
        """A cheap SPD approximation of the Hessian, to precondition quasi-Newton solvers.

        The binary Hessian is ``X~^T diag(s a (1-a)) X~ / S + alpha I`` with
        ``a (1-a) <= 1/4`` everywhere; its bound ``X~^T diag(s) X~ / (4 S) + alpha I`` is
        estimated from at most ``max_rows`` evenly strided rows (a view: no copy of X).
        The multinomial loss gets the same matrix (factor 1/2) for every class.

        ``theta`` (binary loss only): the sampled rows' own curvature ``a (1-a)`` at
        theta replaces its bound 1/4, i.e. the Hessian AT theta estimated from the same
        rows, ``X~_s^T diag(s a (1-a)) X~_s / S_s + alpha I`` (no longer a bound; L-BFGS
        re-whitens with it after its first step). ``ridge=False`` leaves out
        ``spd_ridge`` (a chunk's share, summed before it).

        Returns
        -------
        ndarray (p1, p1) when ``p1 = n + fit_intercept <= max_dense``, else its diagonal
        (p1,) (Jacobi); p1 is per class for the multinomial loss.
        """
        if theta is not None and self.multinomial:
            raise ValueError("hessian_bound(theta=...) is the binary loss's Hessian; "
                             "call it without theta for the multinomial bound.")
        step = max(1, -(-self.m // max_rows))
        p1 = self.n + (1 if self.fit_intercept else 0)
        # the dense bound's Gram matrix converts the strided rows in its own pass
        gram_only = p1 <= max_dense and theta is None and not sp.issparse(self.X)
        Xs = self.X[::step] if gram_only else float64_rows(self.X[::step])
        self.passes.add("bound", Xs.shape[0] / max(self.m, 1))
        s = np.ones(self.m) if self.s is None else self.s.astype(np.float64)
        ss = s[::step]
        if theta is None:  # the bound: every a (1 - a) at its maximum 1/4 (1/2 softmax)
            scale = (0.25 if not self.multinomial else 0.5) / float(ss.sum())
        else:
            coef, intercept = self.unpack(np.asarray(theta, dtype=np.float64))
            a = sigmoid(np.asarray(Xs @ coef).ravel() + intercept)
            ss, scale = ss * (a * (1.0 - a)), 1.0 / float(ss.sum())
        if p1 <= max_dense:
            G = weighted_gram(Xs, ss * scale, self.fit_intercept, dtype=np.float64,
                              n_threads=self.blocks.n_threads)
            G[np.arange(self.n), np.arange(self.n)] += self.alpha
            return spd_ridge(G) if ridge else G
        if sp.issparse(Xs):
            d = np.asarray(Xs.multiply(Xs).T @ ss).ravel() * scale
        else:
            d = (Xs ** 2).T @ ss * scale
        d = d + self.alpha
        if self.fit_intercept:
            d = np.append(d, scale * ss.sum())
        return spd_ridge(d) if ridge else d

    def lipschitz(self, n_iter=8, seed=0):
        """An estimate of the Lipschitz constant L of the gradient (power iterations).

        ``L <= lambda_max(X~^T diag(s) X~) / (4 S) + alpha`` (binary; for softmax the
        curvature factor 1/4 becomes 1/2). A few power iterations give
        ``lambda_max`` from below; the solvers' line searches cover the rest.
        """
        s = np.ones(self.m) if self.s is None else self.s.astype(np.float64)

        def gram_vec(v):  # X~^T diag(s) X~ v / S, one read of X
            vw = v[: self.n].astype(self.dtype)
            vb = v[self.n] if self.fit_intercept else 0.0

            def block(Xb, rows):
                u = (np.asarray(Xb @ vw, dtype=np.float64) + vb) * s[rows]
                return np.asarray(Xb.T @ u.astype(self.dtype), dtype=np.float64), u.sum()

            gw, gb = self.blocks.map_sum(block)
            self.passes.add("bound")
            w = np.concatenate([gw, [gb]]) if self.fit_intercept else gw
            return w / self.S

        return power_lipschitz(gram_vec, self.n + (1 if self.fit_intercept else 0),
                               self.multinomial, self.alpha, n_iter, seed)

