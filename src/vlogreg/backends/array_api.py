"""Array-API backend: fit and predict on torch, CuPy, array-api-strict (or JAX) arrays.

X stays in its namespace and on its device; the objective is
``vlogreg.objective.array_api.ArrayAPIObjective`` (the fused Triton kernel on CUDA
where it serves). Labels and weights are encoded on the host (m values, once).
Predictions come back in X's namespace and device. ``coef_`` and ``intercept_`` follow
scikit-learn's rule: arrays of X's namespace and device when ``array_api_dispatch`` is
on (``sklearn.set_config``), NumPy arrays otherwise.
"""

from __future__ import annotations

import numpy as np
from sklearn import get_config

from .._arrays import is_array_api, namespace, to_numpy
from .._labels import encode_labels, final_weights, scaled_weights
from .._scaling import Moments, scales
from .._validation import MAX_ABS, cell, nonfinite_message
from ..objective.array_api import ArrayAPIObjective
from ..objective.standardized import with_scaling

#: Bytes of X per row block whose column moments are computed on the device.
_MOMENT_BLOCK_BYTES = 1 << 24
from .base import FitData


def _float(X, xp):
    """X with a float dtype the fit computes in: float32 / float64 kept, other floats
    to float32, integers and booleans to float64."""
    if not xp.isdtype(X.dtype, "real floating"):
        return xp.astype(X, xp.float64)
    if X.dtype not in (xp.float32, xp.float64):
        return xp.astype(X, xp.float32)
    return X


def _check_finite(X, xp):
    bad = ~xp.isfinite(X)
    if bool(xp.any(bad)):
        row, col = (int(i[0]) for i in xp.nonzero(bad))
        value = float(to_numpy(X[row:row + 1, col:col + 1])[0, 0])
        raise ValueError(nonfinite_message("X", cell(row, col), value,
                                           int(xp.sum(xp.astype(bad, xp.int64)))))


def _host_vector(v, m, name):
    v = to_numpy(v) if is_array_api(v) else np.asarray(v)
    if v.shape != (m,):
        raise ValueError(f"{name} must have shape ({m},) to match X's rows, got "
                         f"{v.shape}; pass one value per row of X.")
    return v


def prepare(X, y, sample_weight, spec):
    """Validate X (m, n) in its namespace, encode y on the host; the objective."""
    xp = namespace(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (m examples, n features), got shape "
                         f"{tuple(X.shape)}; reshape it.")
    m, n = X.shape
    if m == 0 or n == 0:
        raise ValueError(f"X has shape {tuple(X.shape)}: at least 1 sample and 1 feature "
                         f"are needed.")
    X = _float(X, xp)
    limit = MAX_ABS[np.dtype(str(X.dtype).split(".")[-1])]
    sw = np.ones(m) if sample_weight is None else \
        _host_vector(sample_weight, m, "sample_weight").astype(np.float64)
    # standardize: the column moments in the pass that checks X (their sum of squares is
    # finite and small exactly when every value is); the checks' own passes otherwise
    mo = _moments(X, xp, scaled_weights(sw)[0]) if spec.standardize else None
    reads = 0 if mo is None else 1  # reads of X by the checks, for objective.passes
    if mo is None or not (np.isfinite(mo.sumsq) and mo.sumsq <= limit * limit):
        reads += 2
        _check_finite(X, xp)
        if float(xp.max(xp.abs(X))) > limit:
            raise ValueError(f"X has values larger than {limit:g}: they overflow the fit's "
                             f"arithmetic; scale the features first.")
    if y is None:
        raise ValueError(f"{spec.estimator} requires y to be passed, but the target y is "
                         f"None; pass the labels, one per row of X.")
    classes, y_idx = encode_labels(_host_vector(y, m, "y"))
    col_scales = None if mo is None else scales(mo, spec.fit_intercept)
    sw, exp2 = scaled_weights(final_weights(sw, spec.class_weight, classes, y_idx))
    alpha, l1 = spec.strengths(float(sw.sum()), exp2)
    objective = with_scaling(
        lambda a, b: ArrayAPIObjective(X, y_idx, sw, alpha=a, l1=b,
                                       fit_intercept=spec.fit_intercept,
                                       n_classes=len(classes)),
        col_scales, alpha, l1)
    objective.passes.add("validation", reads)
    to_input = None
    if get_config().get("array_api_dispatch", False):
        from array_api_compat import device

        where = device(X)

        def to_input(a):
            return xp.asarray(a, device=where)
    return FitData(objective, classes, n, to_input=to_input)


def _moments(X, xp, w):
    """Weighted column ``Moments`` of X on its device, by row blocks (no copy of X):
    each block's mean, centred and plain sums of squares, merged on the host."""
    from array_api_compat import device

    m, n = X.shape
    try:  # float64 where the device has it (not Apple's MPS)
        wide = xp.float64
        xp.asarray(np.zeros(1), dtype=wide, device=device(X))
    except Exception:
        wide = X.dtype
    w_dev = xp.asarray(np.asarray(w, dtype=np.float64), device=device(X))
    w_dev = xp.astype(w_dev, wide)
    rows = max(1, _MOMENT_BLOCK_BYTES // max(1, n * 8))
    parts = []
    with np.errstate(all="ignore"):  # NaN / inf (NumPy-backed namespaces): checked after
        for r0 in range(0, m, rows):
            r1 = min(r0 + rows, m)
            Xb, wb = xp.astype(X[r0:r1, :], wide), w_dev[r0:r1]
            Wb = float(np.sum(w[r0:r1]))
            ss = float(xp.sum(Xb * Xb))
            if not Wb > 0:
                parts.append(Moments(0.0, np.zeros(n), np.zeros(n), ss))
                continue
            mb = (wb @ Xb) / Wb
            D = Xb - mb
            parts.append(Moments(Wb, to_numpy(mb).astype(np.float64),
                                 to_numpy(wb @ (D * D)).astype(np.float64), ss))
    return Moments.merge(parts)


def decision_function(X, model):
    """``X coef^T + intercept`` in X's namespace and device: (m,) or (m, K)."""
    from array_api_compat import device

    xp = namespace(X)
    if X.ndim != 2 or X.shape[1] != model.n_features_in_:
        raise ValueError(f"X has {X.shape[-1]} features, but {type(model).__name__} is "
                         f"expecting {model.n_features_in_} features as input.")
    X = _float(X, xp)
    _check_finite(X, xp)
    coef = xp.asarray(np.ascontiguousarray(model.coef_.T), device=device(X))
    b = xp.asarray(model.intercept_, device=device(X))
    z = X @ xp.astype(coef, X.dtype) + xp.astype(b, X.dtype)
    return z[:, 0] if len(model.classes_) == 2 else z


def map_rows(fn, z, n_cols, dtype=None):
    return fn(z)
