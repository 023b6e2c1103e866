"""Dask backend: fit on a dask array or DataFrame, chunked by rows, on any scheduler.

``prepare`` persists X (rows chunked, one chunk over the columns, C-contiguous), the
encoded labels and the final weights ONCE, where the data live (the workers of the
user's ``distributed.Client``, or this process without one). Each solver evaluation is
then one round trip. With a client, one task per group of chunks on one worker
(``dask_setup.chunk_groups``)::

    group_partial(X_1, X_4, ..., theta)    group_partial(X_2, X_3, ..., theta)   ...
      (chunk_partial per chunk, added in chunk order, on the worker)
                \\___________________ add_parts on the client ___________________/
                            |
                    (loss, gradient): n_params numbers per group, never a chunk

Without one, one ``dask.compute`` of a delayed tree of ``add_parts`` over the chunks.
A worker lost in a fit costs nothing but time: the scheduler recomputes its chunks from
their lineage, and the groups (fixed at the first evaluation) add in the same order.

Prediction is lazy: ``decision_function`` / ``predict`` / ``predict_proba`` return dask
arrays built with ``map_blocks``; non-finite values raise when the blocks are computed.
"""

from __future__ import annotations

import sys
import warnings

import dask
import dask.array as da
import dask.core
import numpy as np
from dask import delayed

from .._validation import cell, first_nonfinite, nonfinite_message
from ..objective.chunked import ChunkedObjective, ChunkSpec, add_parts, chunk_partial
from ..objective.standardized import with_scaling
from . import dask_setup
from .base import FitData
from .dask_setup import SPLIT_EVERY, chunk_groups, group_partial


def _tree_sum(parts, split_every=SPLIT_EVERY):
    """A delayed tree of ``add_parts``: depth ``log_{split_every}(C)``, a fixed order."""
    add = delayed(add_parts, pure=False)
    while len(parts) > 1:
        parts = [add(*parts[i:i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def _client_of(arrays):
    """The ``distributed.Client`` that runs dask.compute now and holds ``arrays``' chunks
    as futures (persisted by it), with those futures in chunk order; else (None, None)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None, None
    try:
        client = distributed.default_client()
    except ValueError:
        return None, None
    if getattr(dask.base.get_scheduler(), "__self__", None) is not client:
        return None, None  # another scheduler is current (dask.config.set(scheduler=...))
    futures = []
    for a in arrays:
        if a is None:
            futures.append(None)
            continue
        by_key = {f.key: f for f in distributed.futures_of(a)}
        keys = list(dask.core.flatten(a.__dask_keys__()))
        if not all(k in by_key for k in keys):
            return None, None
        futures.append([by_key[k] for k in keys])
    return client, futures


class DaskChunks:
    """The persisted chunks of (X, y, s) and the map + sum over them.

    With a ``distributed.Client`` (the usual case) an evaluation submits ONE task per
    group of chunks that share a worker (``chunk_groups``: as many groups per worker as
    it has threads), on the chunks' futures: no graph to build, optimise and ship, and
    a task's fixed cost (scheduling, messages, the result's transfer) is paid per
    worker thread, not per chunk. Each task adds its chunks' results in chunk order,
    and the client adds the groups' in group order; the groups are fixed at the first
    evaluation, so every evaluation adds in the same order. Without a client (the local
    schedulers) it is one ``dask.compute`` of a delayed tree of ``add_parts``.

    Parameters
    ----------
    spec : ChunkSpec
    X : dask array (m, n), persisted, one column chunk
    y_idx, s : dask arrays (m,), persisted, chunked like X's rows (s may be None)
    futures : (client, (X's, y_idx's, s's futures per chunk), held), optional
        The chunks as futures instead of y_idx and s (the setup's round trip made them);
        ``held``: more futures to keep alive with them.
    """

    def __init__(self, spec, X, y_idx, s, futures=None):
        self.spec = spec
        self.arrays = (X, y_idx, s)  # held: the persisted data live as long as we do
        self.n_computes = 0
        self._groups = None  # the chunk indices of each task (futures path), in order
        if futures is not None:
            self.client, self._futures, self._held = futures
            return
        xs = X.to_delayed().ravel()
        ys = y_idx.to_delayed().ravel()
        ss = s.to_delayed().ravel() if s is not None else [None] * len(xs)
        self._parts = list(zip(xs, ys, ss))
        self.client, futures = _client_of(self.arrays)
        if self.client is not None:
            xf, yf, sf = futures
            self._futures = (xf, yf, sf if sf is not None else [None] * len(xf))

    def _map_sum_futures(self, op, args):
        client, (xf, yf, sf) = self.client, self._futures
        if self._groups is None:  # X's chunks exist by now (the setup read them)
            self._groups = chunk_groups(client, xf)
        G = len(self._groups)
        pick = [[[f[i] for i in g] for g in self._groups] for f in (xf, yf, sf)]
        # one client.map: one graph for all the groups' tasks
        parts = client.map(group_partial, [self.spec] * G, [op] * G, *pick,
                           *[[a] * G for a in args], pure=False)
        return add_parts(*client.gather(parts))

    def map_sum(self, op, *args):
        """``sum_c chunk_partial(spec, op, X_c, y_c, s_c, *args)``: one round trip."""
        self.n_computes += 1
        if self.client is not None:
            return self._map_sum_futures(op, args)
        # one key per array argument, shared by all chunk tasks (not C copies in the
        # graph); fresh keys every time (pure=False): an evaluation at the same theta is
        # recomputed, never confused with the results of one being released
        args = [delayed(a, pure=False) if isinstance(a, np.ndarray) else a for a in args]
        part = delayed(chunk_partial, pure=False)
        total = _tree_sum([part(self.spec, op, x, y, s, *args) for x, y, s in self._parts])
        (out,) = dask.compute(total)
        return out

    def subset(self, max_rows):
        # the chunks are in memory where they live: striding every one of them is cheap
        return self, int(self.arrays[0].shape[0])


# ----------------------------------------------------------------------- input
def _is_frame(obj):
    import dask.dataframe as dd

    return isinstance(obj, (dd.DataFrame, dd.Series))


def _as_matrix(X, lengths=True):
    """X as a float dask array (m, n), rows in chunks; and its column names (or None).

    ``lengths=False`` leaves a DataFrame's partition lengths unknown (no compute):
    enough for the row-wise maps of prediction."""
    columns = None
    if _is_frame(X):
        if X.ndim != 2:
            raise ValueError("X is a dask Series; pass a DataFrame (or X.to_frame()).")
        for name, dt in X.dtypes.items():
            if dt.kind not in "biuf":
                raise ValueError(f"column {name!r} of X has dtype {dt}; encode it as "
                                 f"numbers first (e.g. one-hot).")
        names = list(X.columns)
        columns = np.asarray(names, dtype=object) if all(isinstance(c, str) for c in
                                                         names) else None
        X = X.to_dask_array(lengths=True if lengths else None)
    if not isinstance(X, da.Array):
        raise TypeError(f"X is a {type(X).__name__}; pass a dask array or DataFrame.")
    if not isinstance(getattr(X, "_meta", None), np.ndarray):
        raise TypeError(f"X's chunks are {type(X._meta).__name__}, not NumPy arrays; "
                        f"pass dense NumPy chunks (X.map_blocks(lambda b: b.toarray())).")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional (m, n), got shape {X.shape}; reshape "
                         f"it (e.g. X.reshape(-1, 1) for one feature).")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X has dtype {X.dtype}, which is not numeric; pass numbers "
                         f"(float32 or float64).")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if lengths and any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if len(X.chunks[1]) > 1:  # a chunk must hold whole rows: z = X_c w needs every column
        X = X.rechunk({1: -1})
    # C order: row slices stay contiguous for the block walk (a DataFrame's blocks are not)
    return X.map_blocks(np.ascontiguousarray, dtype=X.dtype), columns


def _as_vector(v, X, name):
    """A vector argument as a dask array chunked like X's rows; length checked."""
    if v is None:
        return None
    if _is_frame(v):
        if v.ndim == 2:
            if len(v.columns) != 1:
                raise ValueError(f"{name} is a DataFrame with {len(v.columns)} columns; "
                                 f"pass one column (a Series).")
            v = v[v.columns[0]]
        with warnings.catch_warnings():  # string labels become an object array: fine
            warnings.filterwarnings("ignore", "Dask currently has limited support")
            v = v.to_dask_array(lengths=True)
    elif not isinstance(v, da.Array):
        v = np.asarray(v)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v.ravel()
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional (m,), got shape {v.shape}.")
    if isinstance(v, da.Array) and any(np.isnan(c) for c in v.chunks[0]):
        v = v.compute_chunk_sizes()
    if v.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {v.shape[0]} values but X has {X.shape[0]} rows; "
                         f"pass one value per row of X.")
    if isinstance(v, da.Array):
        return v.rechunk((X.chunks[0],)) if v.chunks[0] != X.chunks[0] else v
    return da.from_array(v, chunks=(X.chunks[0],))


def prepare(X, y, sample_weight, spec):
    """The objective and classes of a dask (X, y, sample_weight).

    Persists the data where they live (the workers' memory, or this process), then
    reads X once for the checks and the solver's first requests (``dask_setup``: one
    task per chunk, one round trip) and encodes labels and weights into two more
    persisted arrays. Nothing but per-chunk summaries (class counts, label sums, the
    bound's Gram matrices, the first bad value) reaches the client.
    """
    if y is None:
        raise ValueError("y is None; pass the labels (a dask array or Series, or an "
                         "array of one label per row of X).")
    X, columns = _as_matrix(X)
    y = _as_vector(y, X, "y")
    sw = _as_vector(sample_weight, X, "sample_weight")
    X, y, sw = dask.persist(X, y, sw)
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
    client, futures = _client_of((X, y, sw))
    if client is not None:  # the usual case: futures, no graph per call
        xf, yf, swf = futures
        swf = swf if swf is not None else [None] * len(xf)
        info, known, (yi, s), held = dask_setup.setup(client, spec, (xf, yf, swf), offsets,
                                                      X.shape, columns)
        chunks = DaskChunks(_chunk_spec(spec, X, info), X, None, None,
                            futures=(client, (xf, yi, s), held))
        return _fit_data(spec, chunks, info, known, X, columns)
    opts = dask_setup.stats_options(spec, int(X.shape[0]))
    ss = sw.to_delayed().ravel() if sw is not None else [None] * len(offsets)
    stat = delayed(dask_setup.stats, pure=False)
    (stats,) = dask.compute([stat(x, yc, s, o, opts) for x, yc, s, o in
                             zip(X.to_delayed().ravel(), y.to_delayed().ravel(), ss, offsets)])
    info, known = dask_setup.merge(spec, int(X.shape[1]), columns, stats)
    classes, cw = info["classes"], info["cw"]
    # encoded once and kept with X, so no pass has to search the classes again
    y_idx = y.map_blocks(lambda yc: dask_setup.encode_y(classes, yc), dtype=np.intp)
    s = None
    if sw is not None or cw is not None:
        base = sw if sw is not None else da.ones_like(y_idx, dtype=np.float64)
        s = da.map_blocks(lambda yc, swc: dask_setup.encode_s(classes, cw, yc, swc), y,
                          base, dtype=np.float64)
    y_idx, s = dask.persist(y_idx, s)
    return _fit_data(spec, DaskChunks(_chunk_spec(spec, X, info), X, y_idx, s), info,
                     known, X, columns)


def _chunk_spec(spec, X, info):
    return ChunkSpec(n=int(X.shape[1]), n_classes=len(info["classes"]),
                     fit_intercept=spec.fit_intercept, S=info["S"], n_threads=1)


def _fit_data(spec, chunks, info, known, X, columns):
    """The (standardized) ``ChunkedObjective`` over ``chunks``, with the setup's answers
    to the solver's first requests (``known``) preloaded."""
    alpha, l1 = spec.strengths(info["S"])

    def make(a, b):
        obj = ChunkedObjective(chunks, chunks.spec, m=info["m"], dtype=X.dtype, alpha=a,
                               l1=b)
        obj.preload(known)  # raw-scale passes: theta = 0 is 0 on either scale
        return obj

    return FitData(with_scaling(make, info["scales"], alpha, l1), info["classes"],
                   chunks.spec.n, columns)


# ------------------------------------------------------------------ prediction
def _check_features(model, X):
    names = getattr(model, "feature_names_in_", None)
    if _is_frame(X) and names is not None and X.ndim == 2:
        cols = list(X.columns)
        if cols != list(names):
            unknown = [c for c in cols if c not in set(names)]
            missing = [c for c in names if c not in set(cols)]
            raise ValueError(f"X's columns differ from those seen in fit (unknown: "
                             f"{unknown}, missing: {missing}); pass X[{list(names)}].")
    X, _ = _as_matrix(X, lengths=False)  # lazy: nothing is computed before the caller asks
    if X.shape[1] != model.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but the model was fitted with "
                         f"{model.n_features_in_}; pass the same columns as in fit.")
    return X


def _decision_block(Xc, coef, intercept, binary, block_info=None):
    offset = block_info[0]["array-location"][0][0] if block_info else 0
    bad = first_nonfinite(Xc, offset)
    if bad is not None:  # raised when the block is computed, naming the row
        row, col, value, count = bad
        raise ValueError(nonfinite_message("X", cell(row, col), value, count))
    z = Xc @ coef.T + intercept
    return z[:, 0] if binary else z


def decision_function(X, model):
    """``z = X coef^T + intercept`` as a lazy dask array, (m,) or (m, K)."""
    X = _check_features(model, X)
    binary = len(model.classes_) == 2
    coef, b = model.coef_, model.intercept_
    dtype = np.result_type(X.dtype, coef.dtype)
    if binary:
        return X.map_blocks(_decision_block, coef, b, True, drop_axis=1, dtype=dtype)
    return X.map_blocks(_decision_block, coef, b, False, chunks=(X.chunks[0], (len(b),)),
                        dtype=dtype)


def map_rows(fn, z, n_cols, dtype=None):
    """``fn`` on each row block of the lazy z: a lazy (m,) or (m, n_cols) array."""
    dtype = z.dtype if dtype is None else dtype
    if n_cols is None:  # one value per row
        return z.map_blocks(fn, dtype=dtype, **({"drop_axis": 1} if z.ndim == 2 else {}))
    return z.map_blocks(fn, chunks=(z.chunks[0], (n_cols,)), dtype=dtype,
                        **({"new_axis": 1} if z.ndim == 1 else {}))
