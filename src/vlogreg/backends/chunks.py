"""What the chunked backends (Dask, files on disk) check and merge, chunk by chunk.

A chunk's ``chunk_stats`` reads it once (NaN / inf in X, labels, counts and weight sums
per label, bad weights, for ``standardize=True`` its column moments, which
``column_scales`` merges, and with ``sums=True`` its weighted row sums per label, from
which ``grad_at_zero`` makes the solver's first loss and gradient, and with ``bound``
the preconditioner's bound on its strided rows, which ``merge_bounds`` adds up);
``check_stats`` merges the chunks' stats and raises the first problem as the one-line
error the in-memory path gives. Nothing of size m is kept.
"""

from __future__ import annotations

import numpy as np

from .._labels import encode_labels
from .._scaling import Moments, moments, scales
from .._validation import cell, first_nonfinite, nonfinite_message
from ..objective.logistic import LogisticObjective
from ..objective.start import start_block_bytes

#: the largest per-label bound a chunk's stats carry (labels x p1^2 values): beyond it
#: (class weights, many labels and columns) the solver's bound is a pass of its own
MAX_LABEL_BOUNDS = 1 << 20


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


def sampled_bounds(Xc, inv, n_groups, swc, frac, max_dense, fit_intercept):
    """The chunk's share of the preconditioner's bound, before the class weights.

    The rows are those the chunk operation of ``ChunkedObjective.hessian_bound``
    samples (about ``frac * m_c``, every ``step``-th), split by label when
    ``n_groups > 1`` (class weights, known only after the merge, weigh the labels
    there; the labels partition the rows, so the split costs no extra flops).

    Returns
    -------
    P : ndarray (L, p1, p1), or (L, p1) beyond ``max_dense`` columns
        Each group's binary bound ``X~_l^T diag(sw_l) X~_l / (4 SS_l)``
        (``LogisticObjective.hessian_bound`` on its rows; zeros for no weight).
    SS : ndarray (L,)
        Each group's sampled weight sum.
    """
    m = Xc.shape[0]
    step = max(1, -(-m // max(1, int(np.ceil(frac * m)))))
    Xs = Xc[::step]
    ss = np.ones(Xs.shape[0]) if swc is None else np.asarray(swc, dtype=np.float64)[::step]
    groups = inv[::step] if n_groups > 1 else np.zeros(Xs.shape[0], dtype=np.intp)
    p1 = Xc.shape[1] + (1 if fit_intercept else 0)
    P = np.zeros((n_groups,) + ((p1, p1) if p1 <= max_dense else (p1,)))
    SS = np.zeros(n_groups)
    # weights whose sum overflows: not here, but the merge's one-line error
    # (total_weight), before any bound is used
    with np.errstate(over="ignore", invalid="ignore"):
        for g in range(n_groups):
            rows = np.flatnonzero(groups == g)
            SS[g] = float(ss[rows].sum())
            if SS[g] > 0:
                sub = LogisticObjective(Xs[rows], np.zeros(len(rows), dtype=np.intp),
                                        ss[rows], fit_intercept=fit_intercept, n_threads=1)
                P[g] = sub.hessian_bound(max_rows=len(rows), max_dense=max_dense,
                                         ridge=False)
    return P, SS


def merge_bounds(stats, classes, cw, multinomial):
    """The bound's chunk sums ``(sum_c P_c S_c, sum_c S_c)`` from the stats'
    ``sampled_bounds`` (as the chunk operation ``bound`` would give them), or None
    when no chunk has sampled weight.

    A chunk's bound is the mean of its groups' ``P_l`` weighted by ``cw_l SS_l``
    (doubled for the softmax), ``S_c`` its total (class-weighted) weight."""
    total, weight = None, 0.0
    for s in stats:
        if not s["m"]:
            continue
        P, SS = s["bound"]
        c = np.ones(len(SS)) if cw is None else \
            np.asarray(cw, dtype=np.float64)[np.searchsorted(classes, s["labels"])]
        W = float(np.sum(s["wsums"])) if cw is None else float(c @ s["wsums"])
        ss = float(c @ SS)
        if not (W > 0 and ss > 0):  # as the chunk operation: a chunk adds nothing
            continue
        Pc = np.tensordot(c * SS / ss, P, axes=1) * (2.0 if multinomial else 1.0)
        total = Pc * W if total is None else total + Pc * W
        weight += W
    return None if total is None else (total, np.array(weight))


def chunk_stats(Xc, yc, swc, offset, unique=np.unique, with_moments=False, sums=False,
                bound=None):
    """What the checks need from one chunk (rows ``offset..``), in one read of it
    (``unique(y, return_inverse=True)``; ``with_moments``: the columns' ``Moments``;
    ``sums``: its ``label_sums`` as ``"label_sums"``, which also check X; ``bound``:
    ``(frac, max_dense, fit_intercept, by_label)``, its ``sampled_bounds`` as
    ``"bound"``, by label when ``by_label``, if not too large)."""
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
    if bound is not None and out["m"] and out["x_bad"] is None and out["sw_bad"] is None:
        frac, max_dense, fit_intercept, by_label = bound
        L = len(out["labels"]) if by_label else 1
        p1 = Xc.shape[1] + (1 if fit_intercept else 0)
        if L == 1 or L * (p1 * p1 if p1 <= max_dense else p1) <= MAX_LABEL_BOUNDS:
            out["bound"] = sampled_bounds(Xc, inv, L, swc, frac, max_dense, fit_intercept)
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
