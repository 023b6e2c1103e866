"""Numerically stable elementwise functions: sigmoid, softplus, log-loss.

All of them are finite and correct for every finite input (|z| up to 1e300 in
float64, up to the largest float32 in float32) and never emit an overflow
RuntimeWarning: ``exp`` is only ever applied to ``-|z| <= 0``.
"""

from __future__ import annotations

import numpy as np


def _float_array(z):
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return z


def sigmoid(z):
    """Logistic function ``a = 1 / (1 + exp(-z))``, elementwise and overflow-free.

    Parameters
    ----------
    z : array_like
        Any shape. Integer input is promoted to float64; float32 stays float32.

    Returns
    -------
    a : ndarray, same shape and float dtype as ``z``
        Values in [0, 1]. For ``z >= 0``, ``1 / (1 + e)``; for ``z < 0``,
        ``e / (1 + e)`` with ``e = exp(-|z|)``, so ``exp`` never overflows.
    """
    z = _float_array(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def softplus(z):
    """``log(1 + exp(z))`` computed as ``max(z, 0) + log1p(exp(-|z|))``."""
    z = _float_array(z)
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_loss_terms(z, y):
    """Per-example log-loss ``-y log(a) - (1 - y) log(1 - a)`` with ``a = sigmoid(z)``.

    Computed as ``max(z, 0) - y z + log1p(exp(-|z|))``. For labels in {0, 1} the
    first two terms cancel exactly, so the loss of a confident right answer is
    accurate to the last bit instead of being lost to cancellation.

    Parameters
    ----------
    z : ndarray
        Decision values, any shape.
    y : ndarray
        Labels in {0, 1}, broadcastable to ``z``.

    Returns
    -------
    loss : ndarray, shape of ``z``, non-negative and finite for finite ``z``.
    """
    z = _float_array(z)
    y = np.asarray(y).astype(z.dtype, copy=False)  # float32 z stays float32
    return (np.maximum(z, 0) - y * z) + np.log1p(np.exp(-np.abs(z)))


def log_softmax(z):
    """Row-wise ``log softmax`` of ``z`` of shape (m, K), shifted by the row max."""
    z = _float_array(z)
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
