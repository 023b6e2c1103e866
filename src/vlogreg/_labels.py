"""Labels and weights: the one owner of the rules that turn (y, sample_weight,
class_weight) into class indices and the final per-example weights ``s``.

Every backend applies these: in memory on all of y at once, chunked backends chunk by
chunk (the class counts and weight sums are merged first, then each chunk is encoded).

- classes: the sorted distinct labels (at least two), each label -> its index;
- class weights: None, "balanced" (``m / (K counts_k)``) or a dict {label: weight};
- ``s = sample_weight * class_weight[y_idx]``: finite, >= 0, and summing to S > 0.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._validation import check_finite, is_missing


def _shown(v):
    """A missing label as a user wrote it: ``NaN`` (not ``np.float64(nan)``), ``<NA>``,
    ``None``."""
    return "NaN" if isinstance(v, float | np.floating) and v != v else repr(v)


def check_labels_present(y):
    """One-line ValueError naming the first missing label (None, NaN, pandas' NA) by
    its row, or the types of mixed labels (strings and numbers): scikit-learn would say "'<' not supported between instances of 'NoneType'
    and 'str'" or "boolean value of NA is ambiguous"."""
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        return  # not array-like: scikit-learn's checks say so
    if arr.ndim != 1:
        return
    if arr.dtype.kind == "f":
        missing = np.isnan(arr)
    elif arr.dtype.kind == "O":
        missing = np.fromiter(map(is_missing, arr), dtype=bool, count=len(arr))
    else:
        return
    if not missing.any() and arr.dtype.kind == "O":
        if len({isinstance(v, str) for v in arr}) > 1:  # "1" and 1: two classes?
            names = sorted({type(v).__name__ for v in arr})
            raise ValueError(f"y mixes labels of the types {', '.join(names)}; use labels "
                             f"of one type (all numbers or all strings).")
    if missing.any():
        rows = np.flatnonzero(missing)
        more = f" ({len(rows)} missing in all)" if len(rows) > 1 else ""
        raise ValueError(f"y has a missing label ({_shown(arr[rows[0]])}) at row "
                         f"{int(rows[0])}{more}; every sample needs a label: drop those rows "
                         f"or fill them in.")


def encode_labels(y):
    """``(classes, y_idx)``: sorted classes and each label's index (>= 2 classes).

    scikit-learn's target checks apply (a continuous y is refused, with its message);
    missing labels and labels of mixed types are one-line errors naming them.
    """
    fast = _encode_small_ints(y)
    if fast is not None:
        classes, y_idx = fast
    else:
        classes, y_idx = _encode_sorted(y)
    if len(classes) < 2:
        raise ValueError(f"y holds one class only ({np.asarray(classes[:1]).tolist()[0]!r}); "
                         f"logistic regression needs samples of at least 2 classes in the "
                         f"data.")
    return classes, y_idx.ravel()


#: widest range of integer labels encoded by counting (a table of this many counts)
_MAX_INT_RANGE = 1 << 20


def _encode_small_ints(y):
    """``(classes, y_idx)`` of 1-D boolean or integer labels in a range of at most
    ``_MAX_INT_RANGE`` values, by counting (min, max, bincount: a few reads of y, where
    ``np.unique`` sorts it: 20-40 ms on 1M labels); None for any other y. Such labels are
    always classification targets (binary or multiclass), so scikit-learn's check,
    which sorts y too, has nothing to refuse."""
    if not isinstance(y, np.ndarray) or y.ndim != 1 or y.size == 0 or \
            y.dtype.kind not in "biu":
        return None
    if y.dtype.kind == "b":
        n_true = int(np.count_nonzero(y))
        present = [v for v, c in ((False, y.size - n_true), (True, n_true)) if c]
        return np.array(present, dtype=bool), y.astype(np.intp)
    lo, hi = int(y.min()), int(y.max())
    if hi - lo >= _MAX_INT_RANGE or hi > np.iinfo(np.intp).max:
        return None
    if lo == 0 and hi == 1:  # 0/1 labels: their own indices
        return np.array([0, 1], dtype=y.dtype), y.astype(np.intp)
    shifted = y.astype(np.intp) - lo
    counts = np.bincount(shifted, minlength=hi - lo + 1)
    present = counts > 0
    index = np.cumsum(present) - 1  # label - lo -> its class index
    return (np.flatnonzero(present) + lo).astype(y.dtype), index[shifted].astype(np.intp)


def _encode_sorted(y):
    """``(classes, y_idx)`` of any labels, by scikit-learn's checks and ``np.unique``."""
    check_labels_present(y)
    check_classification_targets(y)
    try:
        classes, y_idx = np.unique(y, return_inverse=True)
    except TypeError:  # labels that cannot be ordered: 1 and "a"
        kinds = sorted({type(v).__name__ for v in np.asarray(y, dtype=object)})
        raise ValueError(f"y mixes labels of the types {', '.join(kinds)}; use labels of "
                         f"one type (all numbers or all strings).") from None
    return classes, y_idx


def class_weights(class_weight, classes, counts):
    """``class_weight`` as a vector over ``classes`` (None when not set).

    "balanced" needs the class counts only: ``m / (K counts_k)``, what
    ``compute_class_weight`` gives for the full y.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (len(classes) * counts)
    if isinstance(class_weight, dict):
        # as strict as sample_weight: a negative, NaN or inf weight, or one that is no
        # number, is named with its class (scikit-learn would take -1, and end in a
        # LinAlgError for inf)
        for label, w in class_weight.items():
            if not isinstance(w, numbers.Real) or isinstance(w, (bool, np.bool_)) \
                    or not np.isfinite(w) or w < 0:
                raise ValueError(f"class_weight[{label!r}] = {w!r}: class weights must be "
                                 f"finite numbers >= 0 (0 leaves the class out).")
    return compute_class_weight(class_weight, classes=classes, y=classes)


def check_sample_weight(sw, name="sample_weight"):
    """Raise a one-line ValueError unless every weight is finite and >= 0."""
    check_finite(sw, name)
    if np.any(sw < 0):
        raise ValueError(f"{name} has negative values (first at position "
                         f"{int(np.flatnonzero(sw < 0)[0])}); weights must be >= 0.")


_TINY = float(np.finfo(np.float64).tiny)


def total_weight(wsums, cw):
    """``S = sum_k cw_k * wsums_k`` (``wsums``: the sample weights summed per class);
    ValueError when it is not positive, or outside float64's normal range (chunked
    backends do not rescale the weights: an overflowing or subnormal S would give NaN
    or imprecise coefficients)."""
    S = _positive_sum(wsums if cw is None else cw * wsums)
    if not _TINY <= S < np.inf:
        raise ValueError(f"the sample weights sum to {S:.3g}, outside float64's normal "
                         f"range; multiply them all by one factor that brings the sum near "
                         f"1 (the optimum does not depend on a common factor of the "
                         f"weights, only on C * sum(sample_weight)).")
    return S


def _positive_sum(s):
    with np.errstate(over="ignore"):
        S = float(np.sum(s))
    if not S > 0:
        raise ValueError("sample_weight sums to 0 (class_weight folded in): give at least "
                         "one sample a positive weight.")
    return S


#: weights whose largest value lies outside [2**-500, 2**500] are rescaled
_RESCALE_BEYOND = 500


def scaled_weights(s):
    """``(s * 2**-e, e)``: the final weights brought near 1 when they are extreme.

    The mean objective ``sum_i s_i loss_i / S`` does not change when every weight is
    multiplied by one factor, and with a power of two the products and sums scale
    exactly: weights of 1e308 (whose sum overflows) or 1e-320 (subnormal, imprecise)
    give the fit of weights near 1. ``FitSpec.strengths(S', e)`` takes ``e`` back into
    the penalty, which depends on the true ``S = S' 2**e``. Weights within
    ``2**+-500`` are returned as they are (``e = 0``): no change to ordinary fits.
    """
    top = float(np.max(s)) if len(s) else 1.0
    e = math.frexp(top)[1] - 1 if top > 0 else 0
    if abs(e) <= _RESCALE_BEYOND:
        return s, 0
    return np.ldexp(s, -e), e


def final_weights(sw, class_weight, classes, y_idx):
    """Checked sample weights with the class weights folded in (float64, sum > 0).

    Parameters
    ----------
    sw : ndarray (m,) float64
    class_weight : None, "balanced" or dict
    classes : ndarray (K,)
    y_idx : ndarray (m,) of class indices
    """
    check_sample_weight(sw)
    # the class counts only where class_weight is set (a bincount of 1M labels: 1.6 ms,
    # a fixed cost of every fit otherwise)
    counts = None if class_weight is None else np.bincount(y_idx, minlength=len(classes))
    cw = class_weights(class_weight, classes, counts)
    if cw is not None:
        with np.errstate(over="ignore"):
            sw = sw * cw[y_idx]
        if not np.isfinite(sw).all():
            row = int(np.flatnonzero(~np.isfinite(sw))[0])
            raise ValueError(f"sample_weight * class_weight overflows float64 at row {row}; "
                             f"divide sample_weight by a common factor (the fit does not "
                             f"depend on it).")
    _positive_sum(sw)
    return sw


def encode_chunk(yc, swc, classes, cw):
    """A chunk's labels as class indices, and its final weights (None: all ones).

    Returns ``(y_idx (m_c,) intp, s (m_c,) float64 or None)`` with ``s = sw * cw[y_idx]``.
    """
    y_idx = np.searchsorted(classes, np.asarray(yc))
    s = None if swc is None else np.asarray(swc, dtype=np.float64)
    if cw is not None:
        s = cw[y_idx] if s is None else s * cw[y_idx]
    return y_idx, s
