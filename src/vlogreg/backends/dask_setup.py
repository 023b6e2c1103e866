"""The Dask fit's setup as ONE round trip to the workers (with a ``distributed.Client``).

Everything ``prepare`` needs from the data is submitted at once, as tasks on the
persisted chunks' futures, and the client waits once (one ``gather``)::

    stats_c = chunk_stats(X_c, y_c, sw_c)             per chunk, ONE read of X_c: NaN /
                                                      inf, labels, weights, the weighted
                                                      row sums per label
    info    = merge(stats_1 ... stats_C)              one task: check_stats, class weights,
                                                      S, the loss and gradient at zero
                                                      (grad_at_zero), the passes to fold in
    y_c~, s_c = encode_chunk(y_c, sw_c, info)         per chunk, kept on its worker
    part_c  = chunk_partial("many", X_c, y_c~, s_c, ops(info))      per chunk
    total   = the tree sum of the parts (as ``DaskChunks`` adds them)

The solver's first requests come with it: the loss and gradient at zero (every solver
starting at zero) from the label sums of the read that checked X, and L-BFGS's
preconditioner bound (``ops``: the same chunk operation as a pass of its own, on the
bound's strided rows only). A bad input makes ``merge`` return its ValueError (the
one-line message of ``check_stats``), the later tasks then do nothing, and the client
raises it. Only per-chunk summaries and the sums reach the client, never a chunk.
The setup thus reads X once (plus the bound's rows), where checks and a first pass of
their own read it twice.

After the setup, an evaluation is one task per group of chunks on one worker
(``chunk_groups``, ``group_partial``; see ``DaskChunks``).
"""

from __future__ import annotations

import numpy as np

from .._labels import class_weights, encode_chunk, total_weight
from .._layout import ParamLayout
from ..objective.chunked import _N_OUT, ChunkSpec, add_parts, chunk_partial
from ..objective.protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from ..solvers import choose_solver
from .chunks import check_stats, chunk_stats, column_scales, grad_at_zero

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
    """The ``(op, args)`` a solver asks for first, to fold into the setup's pass.

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


def _stats(Xc, yc, swc, offset, with_moments=False, sums=False):
    return chunk_stats(Xc, yc, swc, offset, _unique_inverse, with_moments, sums)


def _merge(spec, n, columns, *stats):
    """check_stats & co. on a worker: the setup's numbers, or the ValueError to raise."""
    try:
        classes, counts, wsums, m = check_stats(stats, columns)
        cw = class_weights(spec.class_weight, classes, counts)
        S = total_weight(wsums, cw)
    except (ValueError, TypeError) as exc:
        return exc
    ops = first_ops(spec, n, len(classes), m)
    # the loss and gradient at zero come from the stats' label sums (the read that
    # checked X): the first pass reads only the bound's rows
    g0 = [(args, grad_at_zero(stats, classes, cw, S, spec.fit_intercept))
          for op, args in ops if op == "value_and_grad"]
    return {"classes": classes, "cw": cw, "S": S, "m": m,
            "ops": [(op, args) for op, args in ops if op != "value_and_grad"],
            "g0": g0[0] if g0 else None, "scales": column_scales(stats, spec)}


def _encode_y(info, yc):
    if isinstance(info, Exception):
        return None
    classes, yc = info["classes"], np.asarray(yc)
    if len(classes) == 2 and yc.dtype.kind in "biuf":  # = searchsorted: y is in classes
        return (yc == classes[1]).astype(np.intp)
    return encode_chunk(yc, None, classes, None)[0]


def _encode_s(info, yc, swc):
    if isinstance(info, Exception):
        return None
    swc = np.ones(len(yc), dtype=np.float64) if swc is None else swc
    return encode_chunk(yc, swc, info["classes"], info["cw"])[1]


def _first_pass(info, n, fit_intercept, Xc, yc, sc):
    if isinstance(info, Exception) or not info["ops"]:
        return None
    spec = ChunkSpec(n=n, n_classes=len(info["classes"]), fit_intercept=fit_intercept,
                     S=info["S"], n_threads=1)
    return chunk_partial(spec, "many", Xc, yc, sc, info["ops"])


# ------------------------------------------------------------------ the client's side
def setup(client, spec, futures, offsets, n, columns):
    """Submit the setup's tasks over the chunks' futures ``(xf, yf, swf)`` and wait once.

    Returns
    -------
    info : dict
        ``classes``, ``cw`` (class weights or None), ``S``, ``m``, ``ops``, ``scales``
        (the ``ColumnScales`` of ``standardize=True``, else None).
    known : dict
        ``{op: (args, result)}`` of the passes folded in.
    encoded : (list, list)
        The futures of the encoded labels and of the final weights (None each when
        there are no weights) per chunk, held on the workers.
    held : list
        Futures to keep alive with the chunks (the lineage of the encoded ones).
    """
    xf, yf, swf = futures
    C = len(xf)
    stats = client.map(_stats, xf, yf, swf, offsets, [spec.standardize] * C,
                       [spec.zero_start] * C, pure=False)
    info = client.submit(_merge, spec, n, columns, *stats, pure=False)
    infos = [info] * C
    yi = client.map(_encode_y, infos, yf, pure=False)
    weighted = any(s is not None for s in swf) or spec.class_weight is not None
    s = client.map(_encode_s, infos, yf, swf, pure=False) if weighted else [None] * C
    parts = client.map(_first_pass, infos, [n] * C, [spec.fit_intercept] * C, xf,
                       yi, s, pure=False)
    info_v, tops = client.gather([info, tree_futures(client, parts)])
    if isinstance(info_v, Exception):
        raise info_v
    total = add_parts(*tops)
    known, ends = {}, np.cumsum([_N_OUT[op] for op, _ in info_v["ops"]])
    for (op, args), e in zip(info_v["ops"], ends):
        if total is not None:
            known[op] = (args, total[e - _N_OUT[op]:e])
    if info_v["g0"] is not None:
        known["value_and_grad"] = info_v["g0"]
    return info_v, known, (yi, s), [info, *stats]
