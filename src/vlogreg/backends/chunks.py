"""What the chunked backends (Dask, files on disk) check and merge, chunk by chunk.

A chunk's ``chunk_stats`` reads it once (NaN / inf in X, labels, counts and weight sums
per label, bad weights, for ``standardize=True`` its column moments, which
``column_scales`` merges, and with ``sums=True`` its weighted row sums per label, from
which ``grad_at_zero`` makes the solver's first loss and gradient); ``check_stats``
merges the chunks' stats and raises the first problem as the one-line error the
in-memory path gives. Nothing of size m is kept.
"""

from __future__ import annotations

import numpy as np

from .._labels import encode_labels
from .._scaling import Moments, moments, scales
from .._validation import cell, first_nonfinite, nonfinite_message
from ..objective.start import start_block_bytes


def label_sums(Xc, inv, n_labels, swc=None):
    """``R[l] = sum_{i: inv_i = l} sw_i x_i`` (float64), one read of X in row blocks.

    Each row block is read from memory once and then from cache for each label (one
    BLAS product ``w_l @ X_b`` per label). With weights, ``R`` has one row more: the
    plain column sums. Every row enters some row of ``R`` with weight 1, so ``R`` is
    finite unless X holds a NaN or an inf (or a sum overflows): the check of X comes
    with the sums (a zero weight would hide a NaN in a weighted sum).

    Returns
    -------
    ndarray (n_labels, n), or (n_labels + 1, n) with ``swc``
    """
    m, n = Xc.shape
    R = np.zeros((n_labels + (swc is not None), n))
    rows = max(1, start_block_bytes(1) // max(1, n * Xc.itemsize))
    ones = np.ones(min(rows, m))
    with np.errstate(all="ignore"):  # a NaN / inf: the caller looks element by element
        for r0 in range(0, m, rows):
            Xb, ib = Xc[r0:r0 + rows], inv[r0:r0 + rows]
            if Xb.dtype != np.float64:  # float64 sums (a copy of the block, in cache)
                Xb = Xb.astype(np.float64)
            for label in range(n_labels):
                wl = (ib == label).astype(np.float64)
                if swc is not None:
                    wl *= swc[r0:r0 + rows]
                R[label] += wl @ Xb
            if swc is not None:
                R[n_labels] += ones[:len(ib)] @ Xb
    return R


def grad_at_zero(stats, classes, cw, S, fit_intercept):
    """The loss and gradient at theta = 0 from the chunks' ``label_sums``.

    At theta = 0 every ``a = 1/K`` (K = 2 for the binary model), so with ``T_k`` the
    weighted row sums of class k, ``W_k`` its weight sum and ``cw`` the class weights::

        dW[:, k] = ((1/K) sum_l cw_l T_l - cw_k T_k) / S     (binary: dw = dW[:, 1])
        db_k     = ((1/K) sum_l cw_l W_l - cw_k W_k) / S
        J(0)     = log(K) sum_l cw_l W_l / S

    Returns
    -------
    (ndarray (), ndarray (n_params,)) : as a pass of ``value_and_grad`` at zero
    """
    K = len(classes)
    n = next(s["label_sums"].shape[1] for s in stats if "label_sums" in s)
    T, Wk = np.zeros((K, n)), np.zeros(K)
    for s in stats:
        if s["m"] == 0:
            continue
        k = np.searchsorted(classes, s["labels"])
        np.add.at(T, k, s["label_sums"][:len(k)])
        np.add.at(Wk, k, s["wsums"])
    c = np.ones(K) if cw is None else np.asarray(cw, dtype=np.float64)
    dW = (c @ T / K)[:, None] - (c[:, None] * T).T      # (n, K)
    db = (c @ Wk) / K - c * Wk
    k = slice(1, 2) if K == 2 else slice(None)          # the binary model: class 1's
    g = np.concatenate([dW[:, k].ravel(), db[k] if fit_intercept else []]) / S
    return np.array(np.log(K) * float(c @ Wk) / S), g


def chunk_stats(Xc, yc, swc, offset, unique=np.unique, with_moments=False, sums=False):
    """What the checks need from one chunk (rows ``offset..``), in one read of it
    (``unique(y, return_inverse=True)``; ``with_moments``: the columns' ``Moments``;
    ``sums``: its ``label_sums`` as ``"label_sums"``, which also check X)."""
    out = {"m": int(Xc.shape[0]), "x_bad": None, "y_nan": None, "sw_bad": None}
    if with_moments:
        out["moments"] = moments(Xc, swc)
    yc = np.asarray(yc)
    if yc.dtype.kind == "f" and np.isnan(yc).any():
        out["y_nan"] = offset + int(np.flatnonzero(np.isnan(yc))[0])
        out["x_bad"] = first_nonfinite(Xc, offset)
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
    if sums and out["m"]:
        out["label_sums"] = label_sums(Xc, inv, len(out["labels"]), swc)
        if not np.isfinite(out["label_sums"]).all():  # X, or the weights (sw_bad)
            out["x_bad"] = first_nonfinite(Xc, offset)
    else:
        out["x_bad"] = first_nonfinite(Xc, offset)
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
