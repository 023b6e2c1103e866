"""Many binary models on one X where the data live: the batched objective of each backend.

``prepare_grid(X, y, sample_weight, spec)`` validates (X, y, sample_weight) with the
backend's own ``prepare`` (its checks, messages and label / weight rules: one checking
pass), brings the m labels and final weights to the host (the splitters and the scorers
need them; X stays where it is) and returns a ``BackendGrid``, which builds for any fold
ids and models:

- ``objective(fold, exclude, alpha, fit_intercept)``: a ``ChunkedBatchedObjective``
  whose every evaluation is ONE pass over the data for all the models: on Dask one
  graph (``batched_partial`` per chunk, the numba K-column kernel where it takes the
  chunk, tree-summed), on a source on disk one sequential pass over its chunks, on an
  array-API X two products in X's namespace and device;
- ``heldout(fold, coefs, fit_intercept)``: every row's decision values under the models
  that left its fold out (the cross-validation scores' input), in one pass.

The rows ``X[::sample_step(m)]`` (at most ``BOUND_MAX_ROWS``) are brought to memory
once, for the preconditioner's Hessian bounds (``objective.batched_chunked``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._arrays import to_numpy
from .._labels import encode_chunk
from .._spec import FitSpec
from ..objective.array_api_batched import ArrayAPIBatchedSums
from ..objective.batched_chunked import (
    ChunkedBatchedObjective,
    batched_partial,
    sample_step,
)
from ..objective.chunked import add_parts
from ..objective.passes import Passes


@dataclass
class BackendGrid:
    """A validated X on its backend, with the host labels and weights.

    Attributes
    ----------
    X : the backend's X (a persisted dask array, a row source, an array-API array)
    y : ndarray (m,) intp
        Class indices.
    s : ndarray (m,) float64
        Final row weights (class weights folded in), scaled by ``2**-exp2``.
    classes : ndarray (n_classes,)
    exp2 : int
    feature_names : ndarray or None
    sample : ndarray (m_s, n)
        The rows ``X[::sample_step(m)]`` in memory.
    passes : Passes
        Reads of X outside the objectives: the checks, the sample, the held-out scores.
    """

    X: object
    y: np.ndarray
    s: np.ndarray
    classes: np.ndarray
    exp2: int
    feature_names: object
    sample: np.ndarray
    map_for: Callable = field(repr=False)      # fold -> map_batched
    heldout_z: Callable = field(repr=False)  # (fold, Wt (n, F J), b (F J,), J) -> (m, J)
    prepare_single: Callable = field(repr=False, default=None)  # (labels, s, spec) -> FitData
    passes: Passes = field(default_factory=Passes)
    reads: float = 1.0

    @property
    def m(self):
        return len(self.y)

    def objective(self, fold, exclude, alpha, fit_intercept):
        """The batched objective of the models ``exclude`` (K,) on these data (see
        ``BatchedObjective``: model k leaves out the rows of fold ``exclude[k]``)."""
        fold = np.asarray(fold, dtype=np.int32)
        exclude = np.asarray(exclude, dtype=np.int32)
        sums = np.bincount(fold, weights=self.s)
        total = float(self.s.sum())
        S = np.array([total - (sums[f] if 0 <= f < len(sums) else 0.0) for f in exclude])
        step = sample_step(self.m)
        sample = (self.sample, self.y[::step], self.s[::step], fold[::step])
        return ChunkedBatchedObjective(
            self.map_for(fold), n=self.sample.shape[1], m=self.m, dtype=self.sample.dtype,
            S=S, exclude=exclude, alpha=alpha, fit_intercept=fit_intercept, sample=sample,
            reads=self.reads)

    def single(self, rows, fit_intercept):
        """The single-model objective (binary or multinomial, any penalty) of the rows
        ``rows`` (index array; None: every row) on the backend, the other rows' weights
        0, and its total weight: the per-model loop of the cases the batched objective
        does not take. Checked by the backend's ``prepare`` (one more pass)."""
        s = self.s
        if rows is not None:
            s = np.zeros_like(self.s)
            s[rows] = self.s[rows]
        spec = FitSpec(penalty="l2", C=1.0, fit_intercept=fit_intercept)
        obj = self.prepare_single(self.classes[self.y], s, spec).objective
        self.passes.add("validation", obj.passes.counts["validation"])
        return obj, float(s.sum())

    def heldout(self, fold, coefs, fit_intercept):
        """Row i's decision values under the J models of its fold: (m, J) float64.

        ``coefs`` (F, J, p): fold f's J models (``[w; b]``), i.e. the models fitted
        without fold f's rows. One pass over X (a "prediction").
        """
        F, J, p = coefs.shape
        n = self.sample.shape[1]
        W = coefs.reshape(F * J, p)
        b = W[:, n] if fit_intercept else np.zeros(F * J)
        Z = self.heldout_z(np.asarray(fold, dtype=np.int32),
                           np.ascontiguousarray(W[:, :n].T), b, J)
        self.passes.add("prediction")  # Z = X W: one product, one read of X
        return Z


def _own_fold(Z, fold, J):
    """Row i's J columns of the (m, F J) decision values: those of fold ``fold[i]``."""
    m = Z.shape[0]
    if m == 0:
        return np.zeros((0, J))
    return Z.reshape(m, -1, J)[np.arange(m), np.asarray(fold).ravel()]


def _heldout_block(Xc, fc, Wt, b, J):
    return _own_fold(np.asarray(Xc @ Wt, dtype=np.float64) + b, fc[:, 0], J)


def prepare_grid(backend, X, y, sample_weight, spec):
    """``BackendGrid`` of X on ``backend`` (a module of ``vlogreg.backends`` other than
    ``memory``), validated by its ``prepare``."""
    data = backend.prepare(X, y, sample_weight, spec)
    obj = data.objective
    name = backend.__name__.rsplit(".", 1)[-1]  # (by name: dask is imported only if used)
    build = {"dask": _dask_grid, "outofcore": _outofcore_grid,
             "array_api": _array_api_grid}[name]
    grid = build(obj, data)
    grid.passes.add("validation", obj.passes.counts["validation"])
    return grid


# ------------------------------------------------------------------------ Dask
def _dask_grid(obj, data):
    import dask.array as da

    from . import dask as bdask

    X = obj.chunks.arrays[0]  # persisted by prepare, rows in chunks, C order
    rows = (X.chunks[0],)
    y_idx, s = _dask_host_labels(obj.chunks)
    step = sample_step(len(y_idx))
    sample = X[::step].compute()
    def heldout_z(fold, Wt, b, J):
        fd = da.from_array(fold[:, None], chunks=(rows[0], (1,)))
        return da.map_blocks(_heldout_block, X, fd, Wt, b, J, chunks=(rows[0], (J,)),
                             dtype=np.float64).compute()

    grid = BackendGrid(X, y_idx, s, data.classes, 0, data.feature_names, sample,
                       map_for=lambda fold: DaskBatched(X, y_idx, s, fold),
                       heldout_z=heldout_z,
                       prepare_single=lambda labels, w, spec: bdask.prepare(
                           X, da.from_array(labels, chunks=rows),
                           da.from_array(w, chunks=rows), spec))
    grid.passes.add("bound", sample.shape[0] / max(X.shape[0], 1))
    return grid


def _dask_host_labels(chunks):
    """The encoded labels and final weights of a Dask fit's chunks, on the host (read
    from ``backends.dask.DaskChunks``: its persisted arrays, or the setup's futures
    when a ``distributed.Client`` ran it)."""
    import dask

    client = getattr(chunks, "client", None)
    if client is not None and chunks.arrays[1] is None:  # the setup's futures
        _, yf, sf = chunks._futures
        y_idx = np.concatenate(client.gather(list(yf)))
        s = None if sf[0] is None else np.concatenate(client.gather(list(sf)))
    else:
        y_idx, s = dask.compute(chunks.arrays[1], chunks.arrays[2])
    y_idx = np.asarray(y_idx, dtype=np.intp)
    s = np.ones(len(y_idx)) if s is None else np.asarray(s, dtype=np.float64)
    return y_idx, s


class DaskBatched:
    """``map_batched`` on Dask: one graph (or one round of futures) per evaluation.

    The labels, weights and fold ids go to where X's chunks live once (persisted,
    chunked like X's rows); each evaluation runs ``batched_partial`` on every chunk
    (one numba thread per task: the workers are the parallelism) and adds the parts in
    the fixed tree of ``backends.dask`` (``add_parts``, ``SPLIT_EVERY`` at a time)."""

    def __init__(self, X, y, s, fold):
        import dask
        import dask.array as da

        from .dask import _client_of

        rows = (X.chunks[0],)
        yd, sd, fd = (da.from_array(np.asarray(v), chunks=rows) for v in (y, s, fold))
        yd, sd, fd = dask.persist(yd, sd, fd)
        self.arrays = (X, yd, sd, fd)  # held: the persisted chunks live as long as we do
        self.n_computes = 0
        self.client, futures = _client_of(self.arrays)
        if self.client is not None:
            self._futures = futures
        else:
            self._parts = list(zip(*(a.to_delayed().ravel() for a in self.arrays)))

    def __call__(self, W, b, exclude):
        from dask import compute, delayed

        from .dask import _tree_sum
        from .dask_setup import tree_futures

        self.n_computes += 1
        if self.client is not None:
            xf, yf, sf, ff = self._futures
            C = len(xf)
            parts = self.client.map(batched_partial, xf, yf, sf, ff, [W] * C, [b] * C,
                                    [exclude] * C, pure=False)
            return add_parts(*self.client.gather(tree_futures(self.client, parts)))
        W, b, exclude = (delayed(a, pure=False) for a in (W, b, exclude))
        part = delayed(batched_partial, pure=False)
        (out,) = compute(_tree_sum([part(x, y, s, f, W, b, exclude)
                                    for x, y, s, f in self._parts]))
        return out


# ------------------------------------------------------------------ out-of-core
def _outofcore_grid(obj, data):
    chunks = obj.chunks  # backends.outofcore.StreamChunks
    rows, classes, cw = chunks.rows, chunks.classes, chunks.cw
    n_threads = chunks.spec.n_threads
    m = int(obj.m)
    step = sample_step(m)
    y_parts, s_parts, sample = [], [], []
    for start, Xc, yc, swc in rows.iter():  # one pass: labels, weights, the sample rows
        y_idx, s = encode_chunk(yc, swc, classes, cw)
        y_parts.append(np.asarray(y_idx, dtype=np.intp))
        s_parts.append(np.ones(Xc.shape[0]) if s is None else np.asarray(s, np.float64))
        sample.append(np.array(Xc[(-start) % step::step]))  # a copy: buffers are reused
    y_idx, s = np.concatenate(y_parts), np.concatenate(s_parts)

    def map_for(fold):
        def map_batched(W, b, exclude):
            acc = None
            for start, Xc, _, _ in rows.iter():
                r = slice(start, start + Xc.shape[0])
                acc = add_parts(acc, batched_partial(Xc, y_idx[r], s[r], fold[r], W, b,
                                                     exclude, n_threads))
            return acc
        return map_batched

    def heldout_z(fold, Wt, b, J):
        return np.concatenate(
            [_own_fold(np.asarray(Xc @ Wt, dtype=np.float64) + b,
                       fold[start:start + Xc.shape[0]], J)
             for start, Xc, _, _ in rows.iter()] or [np.zeros((0, J))])

    def prepare_single(labels, w, spec):
        from .outofcore import prepare

        return prepare(rows.source, None if rows.source.has_target else labels, w, spec)

    grid = BackendGrid(rows.source, y_idx, s, data.classes, 0, data.feature_names,
                       np.concatenate(sample), map_for=map_for, heldout_z=heldout_z,
                       prepare_single=prepare_single)
    grid.passes.add("bound")  # the labels' and sample's pass read every chunk
    return grid


# ------------------------------------------------------------------- array API
def _array_api_prepare(X, labels, w, spec):
    from .array_api import prepare

    return prepare(X, labels, w, spec)


def _array_api_grid(obj, data):
    X, m = obj.X, obj.m
    y_idx = np.asarray(obj._y_host, dtype=np.intp)
    s = to_numpy(obj.s).astype(np.float64)
    # alpha = 2**-exp2 / sum(s) at C = 1 (FitSpec.strengths): the power of two taken out
    exp2 = int(round(np.log2(1.0 / (obj.alpha * s.sum()))))
    step = sample_step(m)
    sample = to_numpy(X[::step, :]).copy()  # the sampled rows only, never X

    def heldout_z(fold, Wt, b, J):
        xp = obj.xp
        Wd = xp.astype(xp.asarray(Wt, device=obj.device), X.dtype)
        return _own_fold(to_numpy(X @ Wd).astype(np.float64) + b, fold, J)

    grid = BackendGrid(X, y_idx, s, data.classes, exp2, data.feature_names, sample,
                       map_for=lambda fold: ArrayAPIBatchedSums(X, y_idx, s, fold),
                       heldout_z=heldout_z, reads=ArrayAPIBatchedSums.reads,
                       prepare_single=lambda labels, w, spec: _array_api_prepare(
                           X, labels, w, spec))
    grid.passes.add("bound", sample.shape[0] / max(m, 1))
    return grid
