"""``StandardizedObjective``: a fit on standardized columns without a copy of X.

With column means ``mu`` and scales ``sigma`` (``vlogreg._scaling``), the model on the
standardized columns ``(x_j - mu_j) / sigma_j`` is, for every class,

    z = X (w / sigma) - (mu / sigma) . w + b  =  X w~ + b~,
    w~ = w / sigma,   b~ = b - (mu / sigma) . w

so the standardized parameters theta map LINEARLY to the raw-scale ones, ``theta~ = T
theta``, and any objective of the raw data gives the standardized one:

    J(theta)      = J_raw(T theta) + (alpha / 2) ||w||^2     (the penalty on w: scale-free)
    grad J        = T^T grad J_raw(T theta) + alpha w
    H v           = T^T H_raw (T v) + alpha v_w,    H = T^T H_raw T + alpha I_w

``T^T`` maps a raw gradient ``(g_w, g_b)`` to ``(g_w / sigma - (mu / sigma) g_b, g_b)``.
The wrapped objective (NumPy, sparse, chunked, array API) is built with ``alpha = l1 =
0`` and never knows: no backend carries code for the algebra, and sparse X stays sparse.
``original(theta)`` gives the raw-scale parameters the estimator reports.
"""

from __future__ import annotations

import numpy as np

from .protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from .secondorder import spd_ridge


def with_scaling(make, scales, alpha, l1):
    """``make(alpha, l1)``, or its standardized twin when ``scales`` is not None.

    Parameters
    ----------
    make : callable ``(alpha, l1) -> Objective`` on the raw data
    scales : vlogreg._scaling.ColumnScales or None
    alpha, l1 : float
        The penalty strengths (on the standardized coefficients when scaled).
    """
    if scales is None:
        return make(alpha, l1)
    return StandardizedObjective(make(0.0, 0.0), scales.mean, scales.scale,
                                 alpha=alpha, l1=l1)


class StandardizedObjective:
    """The objective of the standardized columns, over an objective of the raw ones.

    Parameters
    ----------
    inner : Objective
        Of the raw X, with ``alpha = l1 = 0``.
    mean, scale : ndarray (n,)
        ``mu`` (zeros: no centring) and ``sigma`` (> 0).
    alpha, l1 : float
        L2 and L1 strengths of the mean objective, on the standardized coefficients.
    """

    def __init__(self, inner, mean, scale, *, alpha=0.0, l1=0.0):
        self.inner = inner
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self._ms = self.mean / self.scale
        self.alpha, self.l1 = float(alpha), float(l1)
        self.layout = inner.layout
        for name in ("m", "n", "k", "multinomial", "fit_intercept", "n_coef", "n_params",
                     "dtype", "S"):
            setattr(self, name, getattr(inner, name))

    @property
    def n_evals(self):
        return self.inner.n_evals

    @property
    def passes(self):
        """The raw objective's ``Passes``: every read of X is one of its reads."""
        return self.inner.passes

    # ------------------------------------------------------------ the linear map T
    def _split(self, M):
        """theta-shaped rows of M (p, ...) as coef rows (n, k, ...) and intercepts."""
        M = np.asarray(M, dtype=np.float64)
        W = M[: self.n_coef].reshape((self.n, self.k) + M.shape[1:])
        b = M[self.n_coef:] if self.fit_intercept else None
        return W, b

    def _bcast(self, v, like):
        return v.reshape((-1,) + (1,) * (like.ndim - 1))

    def original(self, theta):
        """``T theta``: raw-scale parameters (theta's layout) of standardized ones."""
        W, b = self._split(theta)
        out = [(W / self._bcast(self.scale, W)).reshape(-1, *W.shape[2:])]
        if self.fit_intercept:
            out.append(b - np.tensordot(self._ms, W, axes=(0, 0)))
        return np.concatenate(out)

    def standardized(self, theta_raw):
        """``T^{-1}``: standardized parameters of raw-scale ones (a warm start)."""
        W, b = self._split(theta_raw)
        Ws = W * self._bcast(self.scale, W)
        out = [Ws.reshape(-1, *W.shape[2:])]
        if self.fit_intercept:
            out.append(b + np.tensordot(self.mean, W, axes=(0, 0)))
        return np.concatenate(out)

    def _adjoint(self, G):
        """``T^T G`` for G (p,) or (p, q): a raw gradient (or Hessian rows) mapped back."""
        W, b = self._split(G)
        out = W / self._bcast(self.scale, W)
        if self.fit_intercept:
            out = out - self._ms.reshape((-1,) + (1,) * (W.ndim - 1)) * b[None]
            return np.concatenate([out.reshape(-1, *W.shape[2:]), b])
        return out.reshape(-1, *W.shape[2:])

    # ------------------------------------------------------------------ layout
    def zeros(self):
        return self.layout.zeros()

    def pack(self, coef, intercept):
        return self.layout.pack(coef, intercept)

    def unpack(self, theta):
        return self.layout.unpack(theta)

    def penalized_mask(self):
        return self.layout.penalized_mask()

    def l1_value(self, theta):
        """``l1 ||w||_1`` on the standardized coefficients."""
        return self.l1 * float(np.abs(np.asarray(theta)[: self.n_coef]).sum())

    def expect(self, op, theta=None):
        self.inner.expect(op, None if theta is None else self.original(theta))

    # ------------------------------------------------------------- first order
    def _penalty(self, theta):
        w = np.asarray(theta, dtype=np.float64)[: self.n_coef]
        return w, 0.5 * self.alpha * float(np.vdot(w, w))

    def value_and_grad(self, theta):
        f, g = self.inner.value_and_grad(self.original(theta))
        w, pen = self._penalty(theta)
        g = self._adjoint(g)
        g[: self.n_coef] += self.alpha * w
        return float(f) + pen, g

    def value(self, theta):
        return float(self.inner.value(self.original(theta))) + self._penalty(theta)[1]

    def grad(self, theta):
        return self.value_and_grad(theta)[1]

    def separates(self, theta):
        return self.inner.separates(self.original(theta))

    def separating_columns(self):
        return self.inner.separating_columns()  # scaling keeps each column's order

    # ------------------------------------------------------------ second order
    def curvature(self, theta):
        return self.inner.curvature(self.original(theta))

    def hessp(self, theta, v, curvature=None):
        v = np.asarray(v, dtype=np.float64)
        hv = self._adjoint(self.inner.hessp(self.original(theta), self.original(v),
                                            curvature))
        hv[: self.n_coef] += self.alpha * v[: self.n_coef]
        return hv

    def hessian(self, theta, curvature=None):
        H = self.inner.hessian(self.original(theta), curvature)
        H = self._adjoint(self._adjoint(H).T)  # T^T H T (H symmetric)
        H[np.arange(self.n_coef), np.arange(self.n_coef)] += self.alpha
        return H

    def hessian_bound(self, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE, ridge=True,
                      theta=None):
        """The raw bound (per class, p1 x p1, or its diagonal) seen through T (with
        ``theta``: the raw sampled Hessian at ``original(theta)``, seen alike).

        Dense: ``T1^T B T1`` with T1 one class's block of T. Diagonal: the standardized
        diagonal ``(B_jj - mu_j^2 B_bb) / sigma_j^2``, taking the sampled rows' mean of
        x_j as mu_j (it is a preconditioner: the floor of ``spd_ridge`` covers the rest).
        """
        # the inner bound without its SPD ridge (in raw units, mapped through T it would
        # weigh (mu / sigma)^2 on the coefficients): added below, in standardized units
        raw = None if theta is None else self.original(theta)
        B = np.array(self.inner.hessian_bound(max_rows=max_rows, max_dense=max_dense,
                                              ridge=False, theta=raw), dtype=np.float64)
        n, idx = self.n, np.arange(self.n)
        if B.ndim == 2:
            T1 = np.eye(B.shape[0])
            T1[idx, idx] = 1.0 / self.scale
            if self.fit_intercept:
                T1[n, :n] = -self._ms
            B = T1.T @ B @ T1
            B[idx, idx] += self.alpha
        else:
            d = B[:n] - (self.mean ** 2 * B[n] if self.fit_intercept else 0.0)
            B[:n] = np.maximum(d, 0.0) / self.scale ** 2 + self.alpha
        return spd_ridge(B) if ridge else B

    def lipschitz(self, n_iter=8, seed=0):
        """Power iterations on ``T^T H_raw(0) T``: at theta = 0 the raw Hessian is the
        Gram bound itself (binary: ``X~^T diag(s) X~ / (4 S)``; softmax: that Gram
        times ``I/K - 1 1^T / K^2``, whose top eigenvalue is ``1/K`` against the bound's
        ``1/2``), so ``L = factor * lambda_max + alpha``."""
        zero = self.inner.zeros()
        curv = self.inner.curvature(zero)
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.n_params)
        v /= np.linalg.norm(v)
        lam = 0.0
        for _ in range(n_iter):
            w = self._adjoint(self.inner.hessp(zero, self.original(v), curv))
            lam = float(np.linalg.norm(w))
            if lam == 0.0:
                break
            v = w / lam
        factor = 0.5 * self.k if self.multinomial else 1.0
        return factor * lam + self.alpha
