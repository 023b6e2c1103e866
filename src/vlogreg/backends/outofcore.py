"""Out-of-core backend: fit from a row source larger than memory, one chunk at a time.

The sources (``.npy``, Parquet, Zarr) and their read-ahead live in ``vlogreg.data``;
here they become a ``ChunkedObjective`` whose every evaluation is one sequential pass:
chunk ``i + 1`` is read by a thread while chunk ``i`` is computed, and the chunks' sums
are added in file order.
"""

from __future__ import annotations

import numpy as np

from .._kernels.threads import fit_threads
from .._labels import class_weights, encode_chunk, total_weight
from .._validation import cell, first_nonfinite, nonfinite_message
from ..objective.chunked import ChunkedObjective, ChunkSpec, add_parts, chunk_partial
from ..objective.standardized import with_scaling
from .base import FitData, set_features
from .chunks import check_stats, chunk_stats, column_scales


class _Rows:
    """A source's chunks with their labels and weights: ``(start, X_c, y_c, sw_c)``."""

    def __init__(self, source, y, sample_weight):
        m = source.shape[0]
        if source.has_target and y is not None:
            raise ValueError("the source already holds the labels (target=...); pass "
                             "y=None to fit.")
        if not source.has_target and y is None:
            raise ValueError("no labels: pass y to fit, or open the source with "
                             "target=<the label column>.")
        self.source, self.y, self.sw = source, y, sample_weight
        for name, v in (("y", y), ("sample_weight", sample_weight)):
            if v is not None and (np.ndim(v) != 1 or len(v) != m):
                raise ValueError(f"{name} has shape {np.shape(v)} but the source has {m} "
                                 f"rows; pass one value per row.")

    def iter(self, indices=None):
        for start, Xc, yc in self.source.iter_row_chunks(indices):
            stop = start + Xc.shape[0]
            if yc is None:
                yc = np.asarray(self.y[start:stop])
            swc = None if self.sw is None else np.asarray(self.sw[start:stop], np.float64)
            yield start, Xc, yc, swc


class StreamChunks:
    """``map_sum`` as one sequential pass over (a subset of) the chunks of a source."""

    def __init__(self, spec, rows, classes, cw, indices=None):
        self.spec, self.rows, self.classes, self.cw = spec, rows, classes, cw
        self.indices = indices
        self.n_passes = 0

    def map_sum(self, op, *args):
        acc = None
        for _, Xc, yc, swc in self.rows.iter(self.indices):
            y_idx, s = encode_chunk(yc, swc, self.classes, self.cw)
            acc = add_parts(acc, chunk_partial(self.spec, op, Xc, y_idx, s, *args))
        self.n_passes += 1
        return acc

    def subset(self, max_rows):
        # evenly spaced chunks holding >= max_rows rows: the estimates need no full pass
        sizes = np.diff(self.rows.source.starts)
        if sizes.sum() <= max_rows:
            return self, int(sizes.sum())
        k = min(len(sizes), int(np.ceil(max_rows / sizes.mean())))
        idx = np.unique(np.linspace(0, len(sizes) - 1, k).round().astype(int))
        sub = StreamChunks(self.spec, self.rows, self.classes, self.cw, indices=idx)
        return sub, int(sizes[idx].sum())


def _checked_stats(source, rows, y, sample_weight, moments):
    """``(stats, read)``: the checking pass's per-chunk statistics (``chunk_stats``), and
    whether this call read the source for them.

    A source that holds its labels (``y`` and ``sample_weight`` None) and whose files
    are as they were at its last check (``RowSource.fingerprint``) gives that check's
    statistics again: ``summary`` after ``fit`` (and ``vlogreg train --inference`` on
    streamed data) reads the files once less. Anything else is checked again.
    """
    fingerprint = source.fingerprint() if y is None and sample_weight is None else None
    last = getattr(source, "_checked", None)
    if fingerprint is not None and last is not None and last[0] == fingerprint \
            and (last[1] or not moments):
        return last[2], False
    stats = [chunk_stats(Xc, yc, swc, start, with_moments=moments)
             for start, Xc, yc, swc in rows.iter()]
    if fingerprint is not None:  # taken before the pass: a file changed during it differs
        source._checked = (fingerprint, moments, stats)
    return stats, True


def prepare(X, y, sample_weight, spec):
    """The objective and classes of a row source; one checking pass over it.

    The labels and weights are encoded chunk by chunk in every pass, so nothing of size
    m is held in memory (only ``y`` / ``sample_weight`` when passed as arrays).
    """
    rows = _Rows(X, y, sample_weight)
    stats, read = _checked_stats(X, rows, y, sample_weight, spec.standardize)
    classes, counts, wsums, m = check_stats(stats, X.feature_names)
    cw = class_weights(spec.class_weight, classes, counts)
    S = total_weight(wsums, cw)
    n = X.shape[1]
    alpha, l1 = spec.strengths(S)
    cspec = ChunkSpec(n=n, n_classes=len(classes), fit_intercept=spec.fit_intercept,
                      S=S, n_threads=fit_threads(spec.n_jobs))
    chunks = StreamChunks(cspec, rows, classes, cw)
    objective = with_scaling(
        lambda a, b: ChunkedObjective(chunks, cspec, m=m, dtype=X.dtype, alpha=a, l1=b),
        column_scales(stats, spec), alpha, l1)
    if read:
        objective.passes.add("validation")  # the checking pass above
    return FitData(objective, classes, n, set_features(X.feature_names))


def decision_function(X, model):
    """``z = X coef^T + intercept`` streamed chunk by chunk: ndarray (m,) or (m, K)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None and X.feature_names is not None and \
            list(X.feature_names) != list(names):
        raise ValueError(f"the source's columns {X.feature_names} differ from those seen "
                         f"in fit; open it with features={list(names)}.")
    if X.shape[1] != model.n_features_in_:
        raise ValueError(f"the source has {X.shape[1]} features, but the model was fitted "
                         f"with {model.n_features_in_}; pass the same columns.")
    parts = []
    for start, Xc, _ in X.iter_row_chunks():
        bad = first_nonfinite(Xc, start)
        if bad is not None:
            row, col, value, count = bad
            raise ValueError(nonfinite_message("X", cell(row, col, X.feature_names), value,
                                               count))
        parts.append(Xc @ model.coef_.T + model.intercept_)
    z = np.concatenate(parts) if parts else np.zeros((0, len(model.intercept_)))
    return z[:, 0] if len(model.classes_) == 2 else z


def map_rows(fn, z, n_cols, dtype=None):
    return fn(z)
