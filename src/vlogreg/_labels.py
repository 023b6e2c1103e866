"""Labels and weights: the one owner of the rules that turn (y, sample_weight,
class_weight) into class indices and the final per-example weights ``s``.

Every backend applies these: in memory on all of y at once, chunked backends chunk by
chunk (the class counts and weight sums are merged first, then each chunk is encoded).

- classes: the sorted distinct labels (at least two), each label -> its index;
- class weights: None, "balanced" (``m / (K counts_k)``) or a dict {label: weight};
- ``s = sample_weight * class_weight[y_idx]``: finite, >= 0, and summing to S > 0.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._validation import check_finite


def encode_labels(y):
    """``(classes, y_idx)``: sorted classes and each label's index (>= 2 classes).

    scikit-learn's target checks apply (a continuous y is refused, with its message).
    """
    check_classification_targets(y)
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y holds one class only ({np.asarray(classes[:1]).tolist()[0]!r}); "
                         f"logistic regression needs samples of at least 2 classes in the "
                         f"data.")
    return classes, y_idx.ravel()


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
    return compute_class_weight(class_weight, classes=classes, y=classes)


def check_sample_weight(sw, name="sample_weight"):
    """Raise a one-line ValueError unless every weight is finite and >= 0."""
    check_finite(sw, name)
    if np.any(sw < 0):
        raise ValueError(f"{name} has negative values (first at position "
                         f"{int(np.flatnonzero(sw < 0)[0])}); weights must be >= 0.")


def total_weight(wsums, cw):
    """``S = sum_k cw_k * wsums_k`` (``wsums``: the sample weights summed per class);
    ValueError when it is not positive."""
    S = float(np.sum(wsums if cw is None else cw * wsums))
    if not S > 0:
        raise ValueError("sample_weight sums to 0: give at least one sample a positive "
                         "weight.")
    return S


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
    cw = class_weights(class_weight, classes, np.bincount(y_idx, minlength=len(classes)))
    if cw is not None:
        sw = sw * cw[y_idx]
    total_weight(sw, None)
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
