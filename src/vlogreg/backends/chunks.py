"""What the chunked backends (Dask, files on disk) check and merge, chunk by chunk.

A chunk's ``chunk_stats`` reads it once (NaN / inf in X, labels, counts and weight sums
per label, bad weights, and for ``standardize=True`` its column moments, which
``column_scales`` merges); ``check_stats`` merges the chunks' stats and raises the first
problem as the one-line error the in-memory path gives. Nothing of size m is kept.
"""

from __future__ import annotations

import numpy as np

from .._labels import encode_labels
from .._scaling import Moments, moments, scales
from .._validation import cell, first_nonfinite, nonfinite_message


def chunk_stats(Xc, yc, swc, offset, unique=np.unique, with_moments=False):
    """What the checks need from one chunk (rows ``offset..``), in one read of it
    (``unique(y, return_inverse=True)``; ``with_moments``: the columns' ``Moments``)."""
    out = {"m": int(Xc.shape[0]), "x_bad": first_nonfinite(Xc, offset), "y_nan": None,
           "sw_bad": None}
    if with_moments:
        out["moments"] = moments(Xc, swc)
    yc = np.asarray(yc)
    if yc.dtype.kind == "f" and np.isnan(yc).any():
        out["y_nan"] = offset + int(np.flatnonzero(np.isnan(yc))[0])
        return out
    try:
        out["labels"], inv = unique(yc, return_inverse=True)
    except TypeError:
        raise ValueError("y mixes labels of different types (e.g. numbers and strings); "
                         "convert them to one type.") from None
    inv = inv.ravel()
    out["counts"] = np.bincount(inv, minlength=len(out["labels"])).astype(np.float64)
    out["wsums"] = out["counts"]
    if swc is not None:
        swc = np.asarray(swc, dtype=np.float64)
        bad = ~np.isfinite(swc) | (swc < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            out["sw_bad"] = [offset + i, float(swc[i])]
        out["wsums"] = np.bincount(inv, weights=swc, minlength=len(out["labels"]))
    return out


def check_stats(stats, columns=None):
    """Merge the chunks' ``chunk_stats`` and raise the first problem (one-line errors).

    Returns
    -------
    classes : ndarray (K,), sorted
    counts, wsums : ndarray (K,)
        Examples per class, and their summed sample weights (the counts without them).
    m : int
    """
    bad = [s["x_bad"] for s in stats if s["x_bad"] is not None]
    if bad:
        total = sum(b[3] for b in bad)
        row, col, val = bad[0][:3]
        raise ValueError(nonfinite_message("X", cell(row, col, columns), val, total))
    for s in stats:
        if s["y_nan"] is not None:
            raise ValueError(f"y contains NaN at position {s['y_nan']}; remove the rows "
                             f"without a label, or give them one.")
        if s["sw_bad"] is not None:
            pos, val = s["sw_bad"]
            raise ValueError(f"sample_weight has the value {val} at position {pos}; "
                             f"weights must be finite and >= 0.")
    stats = [s for s in stats if s["m"] > 0]
    if not stats:
        raise ValueError("X has no rows; pass at least 2 examples of 2 classes.")
    labels = np.concatenate([s["labels"] for s in stats])
    try:
        classes, inv = np.unique(labels, return_inverse=True)
    except TypeError:
        raise ValueError("y mixes labels of different types (e.g. numbers and strings); "
                         "convert them to one type.") from None
    classes, _ = encode_labels(classes)  # sklearn's target checks, >= 2 classes
    inv = inv.ravel()
    counts = np.bincount(inv, np.concatenate([s["counts"] for s in stats]), len(classes))
    wsums = np.bincount(inv, np.concatenate([s["wsums"] for s in stats]), len(classes))
    return classes, counts, wsums, sum(s["m"] for s in stats)


def column_scales(stats, spec):
    """The ``ColumnScales`` of the chunks' merged moments for ``spec.standardize``,
    else None (``chunk_stats(..., with_moments=spec.standardize)`` made them)."""
    if not spec.standardize:
        return None
    return scales(Moments.merge([s.get("moments") for s in stats]), spec.fit_intercept)
