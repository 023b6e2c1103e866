"""Array-API backend: fit and predict on torch, CuPy, array-api-strict (or JAX) arrays.

X stays in its namespace and on its device; the objective is
``vlogreg.objective.array_api.ArrayAPIObjective``. Predictions come back in X's
namespace and device; ``coef_`` is a NumPy array.
"""

from __future__ import annotations

import numpy as np

from ..objective.array_api import ArrayAPIObjective, _xp, is_array_api, to_numpy


def prepare(estimator, X, y, sample_weight):
    """Validate X (m, n) in its namespace, encode y on the host; the objective."""
    from .._validation import MAX_ABS

    xp = _xp(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (m examples, n features), got shape "
                         f"{tuple(X.shape)}; reshape it.")
    m, n = X.shape
    if m == 0 or n == 0:
        raise ValueError(f"X has shape {tuple(X.shape)}: at least 1 sample and 1 feature "
                         f"are needed.")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64)
    elif X.dtype not in (xp.float32, xp.float64):
        X = xp.astype(X, xp.float32)
    bad = ~xp.isfinite(X)
    if bool(xp.any(bad)):
        row, col = (int(i[0]) for i in xp.nonzero(bad))
        raise ValueError(f"X contains NaN or inf at row {row}, column {col}; remove those "
                         f"rows or impute the missing values first.")
    limit = MAX_ABS[np.dtype(str(X.dtype).split(".")[-1])]
    if float(xp.max(xp.abs(X))) > limit:
        raise ValueError(f"X has values larger than {limit:g}: they overflow the fit's "
                         f"arithmetic; scale the features first.")
    y_host = to_numpy(y) if is_array_api(y) else np.asarray(y)
    if y_host.ndim != 1 or len(y_host) != m:
        raise ValueError(f"y must have shape ({m},) to match X, got {y_host.shape}.")
    classes, y_idx = estimator.encode_labels(y_host)
    if sample_weight is None:
        sw = np.ones(m)
    else:
        sw = np.asarray(to_numpy(sample_weight) if is_array_api(sample_weight)
                        else sample_weight, dtype=np.float64)
        if sw.shape != (m,):
            raise ValueError(f"sample_weight must have shape ({m},), got {sw.shape}.")
    sw = estimator.final_weights(sw, classes, y_host, y_idx)
    alpha, l1 = estimator._strengths(float(sw.sum()))
    estimator.n_features_in_ = n
    return ArrayAPIObjective(X, y_idx, sw, alpha=alpha, l1=l1,
                             fit_intercept=estimator.fit_intercept,
                             n_classes=len(classes)), classes


def decision_function(estimator, X):
    """``X coef^T + intercept`` in X's namespace and device: (m,) or (m, K)."""
    from array_api_compat import device

    xp = _xp(X)
    if X.ndim != 2 or X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[-1]} features, but LogisticRegression is "
                         f"expecting {estimator.n_features_in_} features as input.")
    if not xp.isdtype(X.dtype, "real floating"):
        X = xp.astype(X, xp.float64)
    coef = xp.asarray(np.ascontiguousarray(estimator.coef_.T), device=device(X))
    b = xp.asarray(estimator.intercept_, device=device(X))
    z = X @ xp.astype(coef, X.dtype) + xp.astype(b, X.dtype)
    return z[:, 0] if len(estimator.classes_) == 2 else z


def _log_proba(estimator, X):
    xp = _xp(X)
    z = decision_function(estimator, X)
    if len(estimator.classes_) == 2:
        z = xp.stack([xp.zeros_like(z), z], axis=1)
    z = z - xp.max(z, axis=1, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))


def predict_log_proba(estimator, X):
    return _log_proba(estimator, X)


def predict_proba(estimator, X):
    return _xp(X).exp(_log_proba(estimator, X))


def predict(estimator, X):
    """Labels: in X's namespace when the classes are numbers, else a NumPy array."""
    from array_api_compat import device

    xp = _xp(X)
    idx = xp.argmax(_log_proba(estimator, X), axis=1)
    classes = estimator.classes_
    if classes.dtype.kind in "iufb":
        return xp.take(xp.asarray(classes, device=device(X)), idx)
    return classes[to_numpy(idx)]  # strings have no array-API dtype: labels on the host
