"""In-memory backend: NumPy arrays (C or Fortran order), SciPy sparse matrices, and
anything scikit-learn's ``check_array`` takes (lists, pandas DataFrames).

Validation is scikit-learn's (so the messages are those its users know), then the
project's own checks: NaN / inf and values too large for the arithmetic name their row
and column. float32 X stays float32; sparse X is used as CSR.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import (
    _check_sample_weight,
    _get_feature_names,
    check_X_y,
    validate_data,
)

from .._kernels.threads import fit_threads
from .._labels import (
    check_labels_present,
    encode_labels,
    final_weights,
    scaled_weights,
)
from .._scaling import moments, scales
from .._validation import (
    MAX_ABS,
    check_finite,
    check_values,
    frame_problem,
    refuse_lazy,
)
from ..objective.logistic import LogisticObjective
from ..objective.standardized import with_scaling
from ..objective.start import checked_start
from .base import FitData

_ACCEPT = dict(accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
               ensure_all_finite=False)


def prepare(X, y, sample_weight, spec):
    """Validate X (m, n) and y (m,), encode the labels and weights; the objective."""
    refuse_lazy(X)
    if y is not None:
        check_labels_present(y)  # before check_X_y, which fails on pandas' NA
    try:
        names = _get_feature_names(X)  # (scikit-learn's warnings for mixed column names)
        X, y = check_X_y(X, y, estimator=spec.estimator, **_ACCEPT)
    except (ValueError, TypeError) as exc:
        raise (frame_problem(X) or exc) from None
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    col_scales, reads = None, 1.0
    if spec.standardize:
        # the column moments in the pass that checks the values: their sum of squares
        # settles the checks (finite and small exactly when every value is); weights
        # brought near 1 by a power of two, which leaves the moments as they are
        mo = moments(X, scaled_weights(sw)[0])
        limit = MAX_ABS.get(X.dtype)
        if not (np.isfinite(mo.sumsq) and (limit is None or mo.sumsq <= limit * limit)):
            check_values(X, "X", columns=names)
        col_scales = scales(mo, spec.fit_intercept)
    fused = col_scales is None and _starts_in_check(X)  # the checks come later
    if not fused and not spec.standardize:
        check_values(X, "X", columns=names)
    try:
        classes, y_idx = encode_labels(y)
        sw, exp2 = scaled_weights(final_weights(sw, spec.class_weight, classes, y_idx))
        alpha, l1 = spec.strengths(float(sw.sum()), exp2)
    except ValueError:
        if fused:
            check_values(X, "X", columns=names)  # X's problem first, as in every backend
        raise
    objective = with_scaling(
        lambda a, b: LogisticObjective(X, y_idx, sw, alpha=a, l1=b,
                                       fit_intercept=spec.fit_intercept,
                                       n_classes=len(classes),
                                       n_threads=fit_threads(spec.n_jobs)),
        col_scales, alpha, l1)
    if fused:
        # the checks, and the solvers' loss+gradient at theta = 0 in the same read
        reads = checked_start(objective, "X", columns=names)
    # the checks (or the moments that settle them) read X once
    objective.passes.add("validation", reads)
    return FitData(objective, classes, X.shape[1], names)


def _starts_in_check(X):
    """Whether the checks of X come with the solvers' first evaluation (``checked_start``):
    dense C-ordered float X, whose row blocks are contiguous."""
    return isinstance(X, np.ndarray) and X.flags.c_contiguous and X.size > 0


def check_X(X, model):
    """X validated for ``model`` (dtype, sparse format, its features, NaN / inf)."""
    refuse_lazy(X)
    try:
        X = validate_data(model, X, reset=False, **_ACCEPT)  # reads the model, sets nothing
    except (ValueError, TypeError) as exc:
        raise (frame_problem(X) or exc) from None
    check_finite(X, "X", columns=getattr(model, "feature_names_in_", None))
    return X


def decision_function(X, model):
    """``z = X coef^T + intercept``: (m,) or (m, K)."""
    X = check_X(X, model)
    z = np.asarray(X @ model.coef_.T) + model.intercept_
    return z[:, 0] if len(model.classes_) == 2 else z


def map_rows(fn, z, n_cols, dtype=None):
    return fn(z)
