"""K binary models on an array-API X (torch, CuPy, ...): the batched sums on X's device.

The same sums as ``batched.batched_loss_grad`` (``Z = X W + b``, the stable log-loss
with one exp per element, ``dZ`` weighted per model by ``w_ik = s_i [fold_i !=
exclude_k]``, ``G = X^T dZ``), written with array-API functions only, in X's namespace
and on its device: two products per evaluation and no copy of X to the host; only
``W`` (n, K) goes to the device and ``(loss, G, gb)`` come back. The elementwise maths
is in float64 where the device has it (as ``ArrayAPIObjective``).
"""

from __future__ import annotations

import numpy as np

from .._arrays import namespace, to_numpy


class ArrayAPIBatchedSums:
    """``map_batched`` for ``ChunkedBatchedObjective`` on an array-API X.

    Parameters
    ----------
    X : array (m, n) float32/float64 of an array-API namespace
    y : ndarray (m,)
        Labels in {0, 1} (host).
    s : ndarray (m,) float64
        Row weights (host).
    fold : ndarray (m,) int
        Row fold ids (host).
    """

    reads = 2.0  # Z = X W and G = X^T dZ: two products, two reads of X

    def __init__(self, X, y, s, fold):
        from array_api_compat import device

        self.xp, self.X, self.device = namespace(X), X, device(X)
        self._xdtype = X.dtype
        xp = self.xp
        try:  # the elementwise maths in float64 where the device has it (not MPS)
            xp.asarray(np.zeros(1), dtype=xp.float64, device=self.device)
            self._wide, self._wide_xp = np.float64, xp.float64
        except Exception:
            self._wide = np.dtype(str(X.dtype).split(".")[-1]).type
            self._wide_xp = X.dtype
        self.y = self._dev(np.asarray(y, dtype=np.float64), self._wide)[:, None]
        self.s = self._dev(np.asarray(s, dtype=np.float64), self._wide)[:, None]
        self.fold = self._dev(np.asarray(fold, dtype=np.int32), np.int32)[:, None]

    def _dev(self, a, dtype):
        return self.xp.asarray(np.asarray(a, dtype=dtype), device=self.device)

    def __call__(self, W, b, exclude):
        """``(loss (k,), G (n, k), gb (k,))``: unnormalized sums, float64 on the host."""
        xp = self.xp
        Wd = xp.astype(self._dev(W, np.float64), self._xdtype)
        z = xp.astype(self.X @ Wd, self._wide_xp)
        z = z + self._dev(b, self._wide)[None, :]
        keep = self.fold != self._dev(exclude, np.int32)[None, :]
        w = xp.where(keep, self.s, xp.zeros_like(z))
        e = xp.exp(-xp.abs(z))  # one exp for the loss and the sigmoid, never overflows
        losses = xp.maximum(z, xp.zeros_like(z)) - self.y * z + xp.log1p(e)
        a = xp.where(z >= 0, xp.ones_like(e), e) / (1 + e)
        dz = (a - self.y) * w
        G = self.X.T @ xp.astype(dz, self._xdtype)
        return (to_numpy(xp.sum(w * losses, axis=0)).astype(np.float64),
                to_numpy(G).astype(np.float64),
                to_numpy(xp.sum(dz, axis=0)).astype(np.float64))
