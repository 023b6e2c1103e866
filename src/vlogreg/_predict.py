"""Predictions from decision values: the one set of functions every backend applies.

``z`` is ``X coef^T + intercept``: shape (m,) for two classes, (m, K) for more. Each
function works on a block of rows of z in any array namespace (NumPy, torch, CuPy,
array-api-strict): a backend applies it to all of z, or block by block where it is
lazy (Dask). So every backend gives the same numbers, to the last bit of the maths.

Stable forms, for any finite z:

- two classes: ``P(1) = sigmoid(z)``, ``P(0) = sigmoid(-z)`` (never ``1 - p``: a small
  probability keeps its relative accuracy), and ``log P(1) = -softplus(-z)``,
  ``log P(0) = -softplus(z)`` with ``softplus(t) = max(t, 0) + log1p(exp(-|t|))``;
- K classes: ``log P = z - logsumexp(z)`` row by row (shifted by the row max) and
  ``P = exp(log P)``.
"""

from __future__ import annotations

import numpy as np

from ._arrays import namespace, to_numpy


def _sigmoid(xp, z):
    e = xp.exp(-xp.abs(z))  # <= 1: never overflows
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(xp, z):
    return xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))


def _log_softmax(xp, z):
    shifted = z - xp.max(z, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def log_proba(z):
    """``log P(class)``, shape (m, K), columns in the order of the classes."""
    xp = namespace(z)
    if z.ndim == 1:
        return xp.stack([-_softplus(xp, z), -_softplus(xp, -z)], axis=1)
    return _log_softmax(xp, z)


def proba(z):
    """``P(class)``, shape (m, K), columns in the order of the classes; rows sum to 1."""
    xp = namespace(z)
    if z.ndim == 1:
        return xp.stack([_sigmoid(xp, -z), _sigmoid(xp, z)], axis=1)
    return xp.exp(_log_softmax(xp, z))


def ovr_proba(z):
    """One-vs-rest ``P(class)``, shape (m, K): each class's ``sigmoid(z_k)``, the row
    normalized to sum 1 (scikit-learn's ``_predict_proba_lr``, liblinear's estimate);
    two classes: the same as ``proba``. Not the multinomial model's probabilities,
    which are ``proba``'s softmax."""
    xp = namespace(z)
    if z.ndim == 1:
        return proba(z)
    p = _sigmoid(xp, z)
    return p / xp.sum(p, axis=1, keepdims=True)


def label_index(z):
    """Index of the predicted class, shape (m,): ``z > 0`` for two classes, else the
    first class of largest ``z`` (ties go to the lower index, as ``argmax``)."""
    xp = namespace(z)
    if z.ndim == 1:
        return xp.astype(z > 0, xp.int64)
    return xp.argmax(z, axis=1)


def labels(z, classes):
    """Predicted labels, shape (m,): values of ``classes`` (a NumPy array).

    In z's namespace and on its device when the classes are numbers; strings have no
    array-API dtype, so for them the labels come back as a NumPy array.
    """
    xp = namespace(z)
    idx = label_index(z)
    if xp is np:
        return classes[idx]
    if classes.dtype.kind in "iufb":
        from array_api_compat import device

        return xp.take(xp.asarray(classes, device=device(z)), idx)
    return classes[to_numpy(idx)]
