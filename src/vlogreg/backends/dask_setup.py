"""The Dask fit's setup: ONE read of X, one round trip, and the solver's first pass in it.

Everything ``prepare`` needs from the data comes from one task per chunk, and the
client waits once (one ``gather`` with a ``distributed.Client``; one ``dask.compute``
of the same tasks without one)::

    stats_c = chunk_stats(X_c, y_c, sw_c, opts)       per chunk, ONE read of X_c: NaN /
                                                      inf, labels, weights, the weighted
                                                      row sums per label; on its strided
                                                      rows L-BFGS's bound (by label with
                                                      class weights)
    info, known = merge(stats_1 ... stats_C)          on the client: check_stats, class
                                                      weights, S, the loss and gradient
                                                      at zero (grad_at_zero), the bound
                                                      (merge_bounds), the scales
    y_c~, s_c = encode_chunk(y_c, sw_c, info)         per chunk, kept on its worker,
                                                      submitted and NOT waited for: the
                                                      first evaluation's tasks follow them

The solver's first requests (every solver starting at zero; L-BFGS's preconditioner
bound) are thus answered by the read that checked X; a bad input raises the one-line
message of ``check_stats`` on the client. Only per-chunk summaries reach the client,
never a chunk. The setup is one level of tasks: no merge task on a worker whose result
the others wait for, no first pass after the encoding.

After the setup, an evaluation is one task per group of chunks on one worker
(``chunk_groups``, ``group_partial``; see ``DaskChunks``).
"""

from __future__ import annotations

import numpy as np

from .._labels import class_weights, encode_chunk, total_weight
from .._layout import ParamLayout
from ..objective.chunked import add_parts, chunk_partial
from ..objective.protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from ..solvers import SKLEARN_SOLVERS, choose_solver
from .chunks import check_stats, chunk_stats, column_scales, grad_at_zero, merge_bounds

#: chunk results added per task of the tree reduction
SPLIT_EVERY = 8


def tree_futures(client, parts, split_every=SPLIT_EVERY):
    """The tree of ``add_parts`` over futures on the workers, down to <= split_every
    futures: the client adds those (``add_parts(*gathered)``), one fixed order."""
    while len(parts) > split_every:
        parts = [client.submit(add_parts, *parts[i:i + split_every], pure=False)
                 for i in range(0, len(parts), split_every)]
    return parts


def chunk_groups(client, futures):
    """The chunk indices of each evaluation task, groups ordered by their first chunk.

    A worker's chunks (in chunk order) are split into as many contiguous groups as it
    has threads, so its tasks still run side by side; a chunk held by several workers
    goes to the one with the fewest chunks so far, and a chunk held by none (yet) is a
    group of its own. The scheduler runs a task where its chunks are, so nothing moves;
    if a worker is lost, its groups' chunks are recomputed elsewhere and the groups,
    hence the order of every sum, stay the same.
    """
    who, threads = client.who_has(futures), client.nthreads()
    by_worker, groups = {}, []
    for i, f in enumerate(futures):
        held = who.get(f.key) or ()
        if held:
            addr = min(held, key=lambda a: len(by_worker.get(a, ())))
            by_worker.setdefault(addr, []).append(i)
        else:
            groups.append([i])
    for addr, idx in by_worker.items():
        k = max(1, min(int(threads.get(addr, 1)), len(idx)))
        groups += [[int(i) for i in part] for part in np.array_split(idx, k)]
    return sorted(groups, key=lambda g: g[0])


def group_partial(spec, op, xs, ys, ss, *args):
    """``chunk_partial`` on a worker's group of chunks, added in chunk order."""
    return add_parts(*[chunk_partial(spec, op, x, y, s, *args)
                       for x, y, s in zip(xs, ys, ss)])


def first_ops(spec, n, K, m):
    """The ``(op, args)`` a solver asks for first, answered by the setup's read.

    The arguments are those the solver passes (``hessian_bound()``'s defaults, theta =
    0); a result is used only when the solver asks for exactly those arguments, so a
    wrong guess costs time only.
    """
    p = ParamLayout(n, K, spec.fit_intercept).n_params
    solver = choose_solver(spec.solver, has_l1=spec.has_l1, n_params=p, m=m)
    ops = []
    if solver == "lbfgs" and not spec.has_l1:  # preconditioned (no bound with an L1 part)
        ops.append(("bound", (min(1.0, BOUND_MAX_ROWS / max(m, 1)), BOUND_MAX_DENSE)))
    if spec.zero_start:  # (Newton's Hessian at zero: a pass of its own, as before)
        ops.append(("value_and_grad", (np.zeros(p),)))
    return ops


def stats_options(spec, m):
    """``chunk_stats``'s options for the setup's read of X (``m`` rows in all): the
    moments for ``standardize``, the label sums for a zero start, the bound's strided
    rows when the solver may be L-BFGS (by label with class weights)."""
    lbfgs = SKLEARN_SOLVERS.get(spec.solver, spec.solver) in ("lbfgs", "auto")
    bound = (min(1.0, BOUND_MAX_ROWS / max(m, 1)), BOUND_MAX_DENSE, spec.fit_intercept,
             spec.class_weight is not None) if lbfgs and not spec.has_l1 else None
    return {"with_moments": spec.standardize, "sums": spec.zero_start, "bound": bound}


# ------------------------------------------------------------------ worker tasks
def _unique_inverse(yc, return_inverse=True):
    """``np.unique(yc, return_inverse=True)``, without its sort for <= 2 numeric labels
    (the usual y; a float y without NaN: chunk_stats checks NaN before)."""
    if yc.dtype.kind in "biuf" and yc.size:
        lo, hi = yc.min(), yc.max()
        inv = (yc == hi) & (lo != hi)
        if lo == hi or np.count_nonzero(inv) + np.count_nonzero(yc == lo) == yc.size:
            return np.unique(np.array([lo, hi], dtype=yc.dtype)), inv.astype(np.intp)
    return np.unique(yc, return_inverse=True)


def stats(Xc, yc, swc, offset, opts):
    """The setup's one task per chunk: ``chunk_stats`` with ``stats_options``."""
    return chunk_stats(Xc, yc, swc, offset, _unique_inverse, **opts)


def merge(spec, n, columns, stats):
    """The chunks' stats merged (``check_stats`` raises the first bad input).

    Returns
    -------
    info : dict
        ``classes``, ``cw`` (class weights or None), ``S``, ``m``, ``scales`` (the
        ``ColumnScales`` of ``standardize=True``, else None).
    known : dict
        ``{op: (args, result)}``: the solver's first requests (``first_ops``) that the
        stats answer, for ``ChunkedObjective.preload``.
    """
    classes, counts, wsums, m = check_stats(stats, columns)
    cw = class_weights(spec.class_weight, classes, counts)
    S = total_weight(wsums, cw)
    known = {}
    for op, args in first_ops(spec, n, len(classes), m):
        if op == "value_and_grad":  # from the label sums of the read that checked X
            known[op] = (args, grad_at_zero(stats, classes, cw, S, spec.fit_intercept))
        elif all("bound" in s for s in stats if s["m"]):  # else the solver's own pass
            known[op] = (args, merge_bounds(stats, classes, cw, len(classes) > 2))
    return ({"classes": classes, "cw": cw, "S": S, "m": m,
             "scales": column_scales(stats, spec)}, known)


def encode_y(classes, yc):
    """The chunk's labels as class indices (intp)."""
    yc = np.asarray(yc)
    if len(classes) == 2 and yc.dtype.kind in "biuf":  # = searchsorted: y is in classes
        return (yc == classes[1]).astype(np.intp)
    return encode_chunk(yc, None, classes, None)[0]


def encode_s(classes, cw, yc, swc):
    """The chunk's final weights: sample weights times class weights (float64)."""
    swc = np.ones(len(yc), dtype=np.float64) if swc is None else swc
    return encode_chunk(yc, swc, classes, cw)[1]


# ------------------------------------------------------------------ the client's side
def setup(client, spec, futures, offsets, shape, columns):
    """The setup on a ``distributed.Client``, over the chunks' futures
    ``(xf, yf, swf)`` of X (``shape`` (m, n)): one map of ``stats``, one gather, the
    merge here.

    Returns
    -------
    info, known : as ``merge``
    encoded : (list, list)
        The futures of the encoded labels and of the final weights (None each when
        there are no weights) per chunk, on the workers (maybe still running).
    held : list
        Futures to keep alive with the chunks (the lineage of the encoded ones).
    """
    xf, yf, swf = futures
    C = len(xf)
    opts = stats_options(spec, shape[0])
    parts = client.map(stats, xf, yf, swf, offsets, [opts] * C, pure=False)
    info, known = merge(spec, shape[1], columns, client.gather(parts))
    classes, cw = info["classes"], info["cw"]
    yi = client.map(encode_y, [classes] * C, yf, pure=False)
    weighted = any(w is not None for w in swf) or cw is not None
    s = client.map(encode_s, [classes] * C, [cw] * C, yf, swf, pure=False) if weighted \
        else [None] * C
    return info, known, (yi, s), [*yf, *(w for w in swf if w is not None)]
