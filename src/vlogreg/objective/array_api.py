"""Arrays where they live: the objective on any array-API namespace (torch, CuPy, ...).

X stays in its namespace and on its device (a CUDA GPU for torch.cuda / CuPy). The
solvers keep the parameters on the host as float64 NumPy vectors (scipy's L-BFGS-B
needs them there): per evaluation only ``n_params`` floats go to the device and
``n_params + 1`` come back. The maths is the same as ``objective.logistic`` (stable log-loss, one
exp per element), written with array-API functions only, as two products
``z = X w`` and ``X^T dz`` (the portable path). Binary fits on CUDA tensors (torch, or
CuPy viewed through DLPack) use instead the fused Triton kernel of
``_kernels.triton_binary`` when Triton is installed: one read of X per loss+gradient
and per Hessian-vector product (``VLOGREG_KERNEL=numpy`` turns it off,
``VLOGREG_KERNEL=triton`` forces it). Multinomial fits on CUDA take
``_kernels.triton_multi``'s one-read loss+gradient where it serves the shape; their
Hessian-vector products stay two products.

The backend that builds it from an estimator's data is ``vlogreg.backends.array_api``.
"""

from __future__ import annotations

import os

import numpy as np

from .._arrays import namespace as _xp
from .._arrays import to_numpy
from .._layout import ParamLayout
from .logistic import LogisticObjective
from .passes import Passes
from .protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from .secondorder import assemble_hessian, bordered, power_lipschitz
from .separation import disjoint_ranges, unseparated

#: row chunk of ``ArrayAPIObjective.hessian``: its curvature and Gram products
HESSIAN_CHUNK_BYTES = 8 * 2**20


class ArrayAPIObjective:
    """``LogisticObjective``'s interface for X in an array-API namespace.

    Parameters are those of ``LogisticObjective``; ``X`` (m, n) float32/float64 on any
    device, ``y`` (m,) class indices as a NumPy array, ``sample_weight`` NumPy (m,).
    ``kernel``: "auto", "triton" (forced) or "array_api" (two products); see
    ``_fused_kernel``.
    """

    def __init__(self, X, y, sample_weight=None, *, alpha=0.0, l1=0.0, fit_intercept=True,
                 n_classes=2, kernel="auto"):
        from array_api_compat import device

        xp = self.xp = _xp(X)
        self.X = X
        self.device = device(X)
        self.m, self.n = X.shape
        self.dtype = np.dtype(str(X.dtype).split(".")[-1])
        self.multinomial = n_classes > 2
        self.k = n_classes if self.multinomial else 1
        self._xdtype = X.dtype
        # the elementwise maths (m-vectors) in float64 where the device has it (not
        # Apple's MPS, for one): X's dtype there
        try:
            xp.asarray(np.zeros(1), device=self.device)
            self._wide, self._wide_xp = np.dtype(np.float64), xp.float64
        except Exception:
            self._wide, self._wide_xp = self.dtype, X.dtype
        s = np.ones(self.m) if sample_weight is None else np.asarray(sample_weight, float)
        self.S = float(s.sum())
        self.s = self._dev(s, self._wide)
        self._y_host = y = np.asarray(y)
        self._Y = None  # the multinomial one-hot (m, K): built when two products need it
        if self.multinomial:
            y_dev = self._dev(y, np.int32)  # class indices, for the kernel
        else:
            self.y = y_dev = self._dev(y, self._wide)
        self.alpha, self.l1 = float(alpha), float(l1)
        self.fit_intercept = bool(fit_intercept)
        self.layout = ParamLayout(self.n, n_classes if self.multinomial else 2,
                                  self.fit_intercept)
        self.n_coef, self.n_params = self.layout.n_coef, self.layout.n_params
        self.n_evals = 0
        self.passes = Passes()  # reads of X by kind: two where there is no fused kernel
        self._fused = _fused_kernel(X, y_dev, self.s, kernel, n_classes)
        del xp

    def _onehot(self):
        if self._Y is None:
            self._Y = self._dev(self._y_host[:, None] == np.arange(self.k), self._wide)
        return self._Y

    def _dev(self, a, dtype=None):
        """Host NumPy -> X's namespace and device, in X's dtype (or ``dtype``)."""
        dtype = self.dtype if dtype is None else dtype  # (np.dtype objects are falsy)
        return self.xp.asarray(np.asarray(a, dtype=dtype), device=self.device)

    def _x(self, a):
        """An m-vector (float64) in X's dtype, for a product with X."""
        return self.xp.astype(a, self._xdtype)

    # the flat-vector interface is LogisticObjective's (layout, packing, penalties)
    unpack = LogisticObjective.unpack
    pack = LogisticObjective.pack
    zeros = LogisticObjective.zeros
    l1_value = LogisticObjective.l1_value
    penalized_mask = LogisticObjective.penalized_mask
    expect = LogisticObjective.expect

    def _z(self, theta, X=None):
        """``X~ theta`` on X's device, for all of X or the row chunk ``X``."""
        coef, b = self.unpack(theta)
        W = self._dev(coef if self.multinomial else np.asarray(coef))
        z = (self.X if X is None else X) @ W
        return z + self._dev(np.asarray(b)) if self.fit_intercept else z

    def _loss_dz(self, z, need_grad=True):
        """``(sum s loss, dz)`` from z, the elementwise maths and the sums over rows in
        float64 (where the device has it) whatever X's dtype; ``dz`` is float64 too."""
        xp = self.xp
        z = xp.astype(z, self._wide_xp)
        if self.multinomial:
            Y = self._onehot()
            z = z - xp.max(z, axis=1, keepdims=True)
            ez = xp.exp(z)
            norm = xp.sum(ez, axis=1, keepdims=True)
            losses = xp.log(norm[:, 0]) - xp.sum(Y * z, axis=1)
            dz = (ez / norm - Y) * self.s[:, None] if need_grad else None
        else:
            e = xp.exp(-xp.abs(z))  # one exp for the loss and the sigmoid, never overflows
            losses = xp.maximum(z, xp.zeros_like(z)) - self.y * z + xp.log1p(e)
            a = xp.where(z >= 0, xp.ones_like(e), e) / (1 + e)
            dz = (a - self.y) * self.s if need_grad else None
        return float(xp.sum(losses * self.s)), dz

    def _fused_call(self, theta):
        coef, b = self.unpack(theta)
        if self.multinomial:
            return self._fused(coef, b)  # (sum s loss, X^T dZ (n K,), sum dZ (K,))
        return self._fused(coef, float(b))  # (sum s loss, X^T dz, sum dz) on the host

    def value_and_grad(self, theta):
        """Smooth objective and gradient at the host vector ``theta`` (float64)."""
        self.n_evals += 1
        self.passes.add("loss_grad", 1 if self._fused is not None else 2)
        if self._fused is not None:  # one read of X
            loss, dw, db = self._fused_call(theta)
        else:  # two products
            loss, dz = self._loss_dz(self._z(theta))
            dw = to_numpy(self.X.T @ self._x(dz)).astype(np.float64)
            db = to_numpy(self.xp.sum(dz, axis=0)) if self.fit_intercept else None
        coef = np.asarray(theta[: self.n_coef], dtype=np.float64)
        dw = dw.ravel() / self.S + self.alpha * coef
        loss = loss / self.S + 0.5 * self.alpha * float(coef @ coef)
        if not self.fit_intercept:
            return loss, dw
        db = np.asarray(db, dtype=np.float64).ravel() / self.S
        return loss, np.concatenate([dw, np.atleast_1d(db)])

    def value(self, theta):
        if self._fused is not None:  # the fused pass costs what a loss-only pass does
            return self.value_and_grad(theta)[0]
        self.n_evals += 1
        self.passes.add("loss")
        loss, _ = self._loss_dz(self._z(theta), need_grad=False)
        coef = np.asarray(theta[: self.n_coef], dtype=np.float64)
        return loss / self.S + 0.5 * self.alpha * float(coef @ coef)

    def grad(self, theta):
        return self.value_and_grad(theta)[1]

    def separates(self, theta):
        """True when theta classifies every example with a margin (one read of X)."""
        self.passes.add("prediction")
        return unseparated(to_numpy(self._z(theta)), self._y_host) == 0

    def separating_columns(self):
        """As ``LogisticObjective.separating_columns``, on X's device."""
        xp, lo, hi = self.xp, [], []
        self.passes.add("prediction")
        for c in range(max(2, self.k)):
            rows = self._dev(np.flatnonzero(self._y_host == c), np.int64)
            Xc = xp.take(self.X, rows, axis=0)
            lo.append(to_numpy(xp.min(Xc, axis=0)))
            hi.append(to_numpy(xp.max(Xc, axis=0)))
        return disjoint_ranges(np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64))

    def _curvature_z(self, z, s):
        xp = self.xp
        z = xp.astype(z, self._wide_xp)
        if self.multinomial:
            z = z - xp.max(z, axis=1, keepdims=True)
            a = xp.exp(z)
            return a / xp.sum(a, axis=1, keepdims=True), s / self.S
        e = xp.exp(-xp.abs(z))
        return e / ((1 + e) * (1 + e)) * s / self.S, None  # a (1 - a) = e / (1+e)^2

    def curvature(self, theta):
        """Binary: ``(h, None)``, ``h = s a (1 - a) / S``; multinomial: ``(a, s / S)``."""
        self.passes.add("curvature")
        return self._curvature_z(self._z(theta), self.s)

    def hessp(self, theta, v, curvature=None):
        xp = self.xp
        h, sw = self.curvature(theta) if curvature is None else curvature
        fused = self._fused is not None and not self.multinomial
        self.passes.add("hessp", 1 if fused else 2)
        if fused:  # X~ v, X^T r in one read
            coef, b = self.unpack(v)
            hw, hb = self._fused.hessp(coef, float(b), h)
            hw = hw + self.alpha * np.asarray(coef, dtype=np.float64)
            return np.append(hw, hb) if self.fit_intercept else hw
        u = xp.astype(self._z(v), self._wide_xp)  # X~ v
        if self.multinomial:
            r = h * u
            r = (r - h * xp.sum(r, axis=1, keepdims=True)) * sw[:, None]
        else:
            r = h * u
        hw = to_numpy(self.X.T @ self._x(r)).astype(np.float64).ravel()
        hw = hw + self.alpha * np.asarray(v[: self.n_coef], dtype=np.float64)
        if not self.fit_intercept:
            return hw
        return np.concatenate([hw, np.atleast_1d(to_numpy(xp.sum(r, axis=0))).ravel()])

    def hessian(self, theta, curvature=None):
        """The full Hessian (n_params, n_params) in one read of X, by row chunks.

        Per chunk of about ``HESSIAN_CHUNK_BYTES`` (small enough to stay in a GPU's L2
        between its two uses): its curvature (unless given), then one weighted Gram
        product ``X_c^T (d X_c)`` per class pair on X's device, summed there in
        float64; only the (K, K, p1, p1) blocks come to the host.
        """
        xp, n, k = self.xp, self.n, self.k
        rows = max(1, HESSIAN_CHUNK_BYTES // (n * self.dtype.itemsize))
        pairs = [(i, j) for i in range(k) for j in range(i, k)]
        acc = {ij: [0.0, 0.0, 0.0] for ij in pairs}  # X^T D X, X^T d, sum d (float64)
        for r0 in range(0, self.m, rows):
            r1 = min(r0 + rows, self.m)  # the array API has no out-of-bounds slices
            Xc = self.X[r0:r1, :]
            if curvature is None:  # the chunk's z while it is in cache
                h, sw = self._curvature_z(self._z(theta, Xc), self.s[r0:r1])
            else:
                h = curvature[0][r0:r1, ...]
                sw = None if curvature[1] is None else curvature[1][r0:r1]
            for i, j in pairs:
                if not self.multinomial:
                    d = h
                else:  # sw (delta_ij a_i - a_i a_j)
                    d = -h[:, i] * h[:, j] + (h[:, i] if i == j else 0.0)
                    d = d * sw
                dx = Xc * self._x(d)[:, None]
                f64 = self._wide_xp
                acc[i, j][0] = acc[i, j][0] + xp.astype(Xc.T @ dx, f64)
                acc[i, j][1] = acc[i, j][1] + xp.astype(xp.sum(dx, axis=0), f64)
                acc[i, j][2] = acc[i, j][2] + xp.sum(d)
        self.passes.add("hessian")
        p1 = n + (1 if self.fit_intercept else 0)
        blocks = np.zeros((k, k, p1, p1))
        for i, j in pairs:
            G, xd, dsum = acc[i, j]
            blocks[i, j] = blocks[j, i] = bordered(to_numpy(G), to_numpy(xd),
                                                   float(dsum), self.fit_intercept)
        return assemble_hessian(blocks, self.layout, self.alpha)

    def hessian_bound(self, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE, ridge=True,
                      theta=None):
        """As ``LogisticObjective.hessian_bound``, on a strided subsample brought to host."""
        step = max(1, -(-self.m // max_rows))
        Xs = to_numpy(self.X[::step, :])
        self.passes.add("bound", Xs.shape[0] / max(self.m, 1))
        ys = np.zeros(Xs.shape[0], dtype=np.int64)
        sub = LogisticObjective(Xs, ys, to_numpy(self.s[::step]), alpha=self.alpha,
                                fit_intercept=self.fit_intercept,
                                n_classes=self.k if self.multinomial else 2)
        return sub.hessian_bound(max_rows=max_rows, max_dense=max_dense, ridge=ridge,
                                 theta=theta)

    def lipschitz(self, n_iter=8, seed=0):
        """Power-iteration estimate of the gradient's Lipschitz constant (see objective.logistic)."""
        xp = self.xp

        def gram_vec(v):  # X~^T diag(s) X~ v / S on X's device
            self.passes.add("bound", 1 if fused_h is not None else 2)
            if fused_h is not None:  # the Hessian kernel with h = s / S: one read
                w, hb = self._fused.hessp(v[: self.n], v[self.n] if self.fit_intercept
                                          else 0.0, fused_h)
                return np.append(w, hb) if self.fit_intercept else w
            u = self.X @ self._dev(v[: self.n])
            if self.fit_intercept:
                u = u + float(v[self.n])
            u = xp.astype(u, self._wide_xp) * self.s
            w = to_numpy(self.X.T @ self._x(u)).astype(np.float64)
            if self.fit_intercept:
                w = np.append(w, float(xp.sum(u)))
            return w / self.S

        fused_h = None if self._fused is None or self.multinomial else self.s / self.S
        return power_lipschitz(gram_vec, self.n + (1 if self.fit_intercept else 0),
                               self.multinomial, self.alpha, n_iter, seed)


def _fused_kernel(X, y, s, kernel="auto", n_classes=2):
    """The fused Triton loss+gradient for a fit on X, or None (two products).

    ``kernel``: "auto" (the kernel for CUDA tensors when Triton is installed, unless
    ``VLOGREG_KERNEL=numpy``; ``VLOGREG_KERNEL=triton`` forces it), "triton" (forced:
    ValueError where it cannot run) or "array_api" (never).
    """
    if kernel not in ("auto", "triton", "array_api"):
        raise ValueError(f"kernel={kernel!r} is not valid; use 'auto', 'triton' or "
                         f"'array_api'.")
    env = os.environ.get("VLOGREG_KERNEL", "auto").lower()
    if kernel == "array_api" or (kernel == "auto" and env == "numpy"):
        return None
    force = kernel == "triton" or env == "triton"
    try:
        from .._kernels import triton_fused
    except Exception as exc:  # no triton (or a broken install): the portable path
        if force:
            raise ValueError(f"the Triton kernel needs torch and triton (PyTorch's CUDA "
                             f"build on Linux ships triton): {exc}") from None
        return None
    return triton_fused.fused_for(X, y, s, force=force, n_classes=n_classes)

