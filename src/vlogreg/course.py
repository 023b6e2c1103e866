"""The course's API, in the course's own convention: examples are COLUMNS.

    X : (n_x, m)    Y : (1, m)    w : (n_x, 1)    b : float

These are the functions of the week-2 programming assignment ("Logistic Regression
with a Neural Network mindset"), with the same names, arguments and return values,
so a learner's notebook runs unchanged against them. One iteration is the note's
seven vectorized lines::

    Z = np.dot(w.T, X) + b          # (1, m)
    A = sigmoid(Z)                  # (1, m)
    dZ = A - Y                      # (1, m)
    dw = (1/m) * np.dot(X, dZ.T)    # (n_x, 1)
    db = (1/m) * np.sum(dZ)         # float
    w = w - learning_rate * dw
    b = b - learning_rate * db

The cost is computed with the stable log-loss of ``vlogreg._math`` (it never returns
nan or inf for finite input), which equals the assignment's formula wherever that
formula is finite.
"""

from __future__ import annotations

import numpy as np

from ._math import log_loss_terms
from ._math import sigmoid as _sigmoid
from ._validation import as_float_array, check_binary01, check_finite

__all__ = ["sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model"]


def sigmoid(z):
    """Sigmoid of ``z``, elementwise: ``1 / (1 + exp(-z))``, overflow-free.

    Parameters
    ----------
    z : scalar or array_like of any shape

    Returns
    -------
    s : same shape as ``z`` (a NumPy scalar for scalar input)
    """
    s = _sigmoid(z)
    return s[()] if s.ndim == 0 else s


def initialize_with_zeros(dim):
    """``w`` of zeros with shape (dim, 1) and ``b = 0.0``.

    Parameters
    ----------
    dim : int
        Number of features ``n_x``.

    Returns
    -------
    w : ndarray, shape (dim, 1), float64
    b : float
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an integer number of features, got {dim!r}.")
    if dim < 1:
        raise ValueError(f"dim must be at least 1 (the number of features), got {dim}.")
    return np.zeros((int(dim), 1)), 0.0


def _check(w, b, X, Y=None, x_name="X", y_name="Y"):
    """Validate the course's shapes; return float arrays w (n_x, 1), X (n_x, m), Y (1, m)."""
    X = as_float_array(X, x_name)
    if X.ndim != 2:
        raise ValueError(f"{x_name} must have shape (n_x, m) with examples as columns, got "
                         f"shape {X.shape}; for a single example use x.reshape(-1, 1).")
    n_x, m = X.shape
    if m == 0 or n_x == 0:
        raise ValueError(f"{x_name} is empty (shape {X.shape}); pass at least one example "
                         f"and one feature.")
    w = as_float_array(w, "w")
    if w.size != n_x or w.ndim not in (1, 2) or (w.ndim == 2 and w.shape[1] != 1):
        raise ValueError(f"w has shape {w.shape} but {x_name} has n_x = {n_x} features "
                         f"(rows); w must have shape ({n_x}, 1), e.g. "
                         f"initialize_with_zeros({n_x}).")
    w = w.reshape(n_x, 1)
    b_arr = np.asarray(b, dtype=float) if np.isscalar(b) or np.ndim(b) == 0 else None
    if b_arr is None:
        raise ValueError(f"b must be a number (the bias), got an array of shape "
                         f"{np.shape(b)}.")
    check_finite(X, x_name, rows_are="feature row")
    check_finite(w, "w")
    if not np.isfinite(b_arr):
        raise ValueError(f"b is {float(b_arr)}; it must be a finite number.")
    if Y is None:
        return w, float(b_arr), X, None
    Y = as_float_array(Y, y_name)
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2 or Y.shape[0] != 1:
        raise ValueError(f"{y_name} must have shape (1, m), got {Y.shape}; use "
                         f"{y_name}.reshape(1, -1).")
    if Y.shape[1] != m:
        raise ValueError(f"{x_name} has m = {m} examples (columns) but {y_name} has "
                         f"{Y.shape[1]}; they must match: X is (n_x, m), Y is (1, m). If X "
                         f"holds examples as rows, pass X.T.")
    check_finite(Y, y_name)
    check_binary01(Y, y_name)
    return w, float(b_arr), X, Y


def _check_schedule(num_iterations, learning_rate):
    if not isinstance(num_iterations, (int, np.integer)) or num_iterations < 0:
        raise ValueError(f"num_iterations must be a non-negative integer, got "
                         f"{num_iterations!r}.")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")


def propagate(w, b, X, Y):
    """Cost and gradient of one forward and backward pass, fully vectorized.

    Parameters
    ----------
    w : ndarray, shape (n_x, 1)
    b : float
    X : ndarray, shape (n_x, m)
    Y : ndarray, shape (1, m), labels 0 / 1

    Returns
    -------
    grads : dict
        ``{"dw": dw, "db": db}`` with ``dw = (1/m) X dZ^T`` of shape (n_x, 1) and
        ``db = (1/m) sum(dZ)`` a ``np.float64`` (the assignment's notebook asserts that
        type; it is a subclass of float), where ``dZ = sigmoid(w^T X + b) - Y``.
    cost : float
        ``-(1/m) sum(Y log A + (1 - Y) log(1 - A))``.
    """
    return _propagate(*_check(w, b, X, Y))


def _propagate(w, b, X, Y):
    """``propagate`` on checked arrays: the note's lines and nothing else."""
    m = X.shape[1]
    Z = np.dot(w.T, X) + b
    A = _sigmoid(Z)
    cost = float(np.sum(log_loss_terms(Z, Y)) / m)
    dZ = A - Y
    dw = (1 / m) * np.dot(X, dZ.T)
    db = np.float64((1 / m) * np.sum(dZ))
    return {"dw": dw, "db": db}, cost


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """Gradient descent with a fixed learning rate: ``w -= learning_rate * dw``, likewise b.

    Parameters
    ----------
    w : ndarray, shape (n_x, 1)
    b : float
    X : ndarray, shape (n_x, m)
    Y : ndarray, shape (1, m)
    num_iterations : int
    learning_rate : float
    print_cost : bool
        Print the cost every 100 iterations.

    Returns
    -------
    params : dict ``{"w": (n_x, 1), "b": float}``
    grads : dict ``{"dw": (n_x, 1), "db": float}``, the gradients of the last iteration
    costs : list of float, the cost at iterations 0, 100, 200, ...

    X and Y are validated once, before the loop: each iteration is the note's lines
    alone, as fast as the learner's own vectorized code.
    """
    _check_schedule(num_iterations, learning_rate)
    return _optimize(*_check(w, b, X, Y), num_iterations, learning_rate, print_cost)


def _optimize(w, b, X, Y, num_iterations, learning_rate, print_cost):
    """``optimize`` on checked arrays (no validation inside the loop)."""
    w = w.copy()  # the caller's w is not modified
    costs = []
    grads = {"dw": np.zeros_like(w), "db": np.float64(0.0)}
    for i in range(num_iterations):
        grads, cost = _propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return {"w": w, "b": float(b)}, grads, costs


def predict(w, b, X):
    """Labels 0.0 / 1.0 for each column of X: 1 where ``sigmoid(w^T X + b) > 0.5``.

    Returns
    -------
    Y_prediction : ndarray, shape (1, m), float64 values 0.0 and 1.0
    """
    return _predict(*_check(w, b, X)[:3])


def _predict(w, b, X):
    A = _sigmoid(np.dot(w.T, X) + b)
    return (A > 0.5).astype(np.float64)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
          print_cost=False):
    """Initialize, optimize, predict: the assignment's whole model.

    Returns
    -------
    d : dict with keys ``"costs"``, ``"Y_prediction_test"``, ``"Y_prediction_train"``,
        ``"w"``, ``"b"``, ``"learning_rate"``, ``"num_iterations"``.
    """
    X_train = as_float_array(X_train, "X_train")
    if X_train.ndim != 2:
        raise ValueError(f"X_train must have shape (n_x, m_train), got {X_train.shape}.")
    X_test_arr = as_float_array(X_test, "X_test")
    if X_test_arr.ndim != 2 or X_test_arr.shape[0] != X_train.shape[0]:
        raise ValueError(f"X_test has shape {X_test_arr.shape} but X_train has "
                         f"n_x = {X_train.shape[0]} features (rows); X_test must be "
                         f"({X_train.shape[0]}, m_test).")
    w, b = initialize_with_zeros(X_train.shape[0])
    # fail before training, not after it, and name the argument that is wrong; each
    # array is checked here once, and the functions below get them checked
    w, b, X_train, Y_train_arr = _check(w, b, X_train, Y_train, "X_train", "Y_train")
    _, _, X_test_arr, Y_test_arr = _check(w, b, X_test_arr, Y_test, "X_test", "Y_test")
    _check_schedule(num_iterations, learning_rate)
    params, grads, costs = _optimize(w, b, X_train, Y_train_arr, num_iterations,
                                     learning_rate, print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = _predict(w, b, X_test_arr)
    Y_prediction_train = _predict(w, b, X_train)
    if print_cost:
        train_acc = 100 - np.mean(np.abs(Y_prediction_train - Y_train_arr)) * 100
        test_acc = 100 - np.mean(np.abs(Y_prediction_test - Y_test_arr)) * 100
        print(f"train accuracy: {train_acc} %")
        print(f"test accuracy: {test_acc} %")
    return {"costs": costs, "Y_prediction_test": Y_prediction_test,
            "Y_prediction_train": Y_prediction_train, "w": w, "b": b,
            "learning_rate": learning_rate, "num_iterations": num_iterations}
