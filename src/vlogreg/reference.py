"""The loop versions the vectorized gradient replaces, kept as verified references.

Same convention as the course: X (n_x, m), Y (1, m), w (n_x, 1), b a float. Each
function computes ONE iteration's ``(dw, db, cost)`` of the mean log-loss, where
``dw`` has shape (n_x, 1) and ``db``, ``cost`` are floats:

- ``two_loops``: the note's "original": a Python loop over the m examples, and inside
  it an explicit Python loop over the n_x features (the note's dw1, dw2, ...).
- ``one_loop``: the note's "partial" version: the loop over examples remains, the
  features are handled as one vector operation.
- ``vectorized``: the note's seven lines, no Python loop at all.

They are deliberately written the slow way; ``vlogreg bench loops`` times them.
The per-example cost uses the same stable log-loss as the rest of the library, so
the three agree to rounding for every finite input.
"""

from __future__ import annotations

import math

import numpy as np

from ._math import log_loss_terms, sigmoid
from .course import _check

__all__ = ["two_loops", "one_loop", "vectorized", "IMPLEMENTATIONS"]


def _scalar_sigmoid(z):
    # math.exp on -|z| only: never overflows
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)


def _scalar_loss(z, y):
    return max(z, 0.0) - y * z + math.log1p(math.exp(-abs(z)))


def two_loops(w, b, X, Y):
    """One iteration with a loop over examples and, inside it, a loop over features.

    Returns
    -------
    dw : ndarray (n_x, 1), db : float, cost : float
    """
    w, b, X, Y = _check(w, b, X, Y)
    n_x, m = X.shape
    J = 0.0
    dw = np.zeros((n_x, 1))
    db = 0.0
    for i in range(m):
        z_i = b
        for j in range(n_x):
            z_i += w[j, 0] * X[j, i]
        a_i = _scalar_sigmoid(z_i)
        y_i = Y[0, i]
        J += _scalar_loss(z_i, y_i)
        dz_i = a_i - y_i
        for j in range(n_x):
            dw[j, 0] += X[j, i] * dz_i
        db += dz_i
    return dw / m, db / m, J / m


def one_loop(w, b, X, Y):
    """One iteration with a loop over examples, vectorized over features.

    Returns
    -------
    dw : ndarray (n_x, 1), db : float, cost : float
    """
    w, b, X, Y = _check(w, b, X, Y)
    n_x, m = X.shape
    J = 0.0
    dw = np.zeros((n_x, 1))
    db = 0.0
    for i in range(m):
        x_i = X[:, i:i + 1]
        z_i = float(np.dot(w.T, x_i)[0, 0]) + b
        a_i = _scalar_sigmoid(z_i)
        y_i = Y[0, i]
        J += _scalar_loss(z_i, y_i)
        dz_i = a_i - y_i
        dw += x_i * dz_i
        db += dz_i
    return dw / m, db / m, J / m


def vectorized(w, b, X, Y):
    """One iteration, zero loops: the note's seven lines.

    Returns
    -------
    dw : ndarray (n_x, 1), db : float, cost : float
    """
    w, b, X, Y = _check(w, b, X, Y)
    m = X.shape[1]
    Z = np.dot(w.T, X) + b
    A = sigmoid(Z)
    dZ = A - Y
    dw = (1 / m) * np.dot(X, dZ.T)
    db = float((1 / m) * np.sum(dZ))
    cost = float(np.sum(log_loss_terms(Z, Y)) / m)
    return dw, db, cost


#: name -> function, in the note's order (slowest first)
IMPLEMENTATIONS = {"original (two loops)": two_loops,
                   "partial (one loop)": one_loop,
                   "vectorized": vectorized}
