"""The Dask fit's setup as ONE round trip to the workers (with a ``distributed.Client``).

Everything ``prepare`` needs from the data is submitted at once, as tasks on the
persisted chunks' futures, and the client waits once (one ``gather``)::

    stats_c = chunk_stats(X_c, y_c, sw_c)             per chunk: NaN / inf, labels, weights
    info    = merge(stats_1 ... stats_C)              one task: check_stats, class weights,
                                                      S, and the passes to fold in (ops)
    y_c~, s_c = encode_chunk(y_c, sw_c, info)         per chunk, kept on its worker
    part_c  = chunk_partial("many", X_c, y_c~, s_c, ops(info))      per chunk
    total   = the tree sum of the parts (as ``DaskChunks`` adds them)

``ops`` are the solver's first passes (L-BFGS: its preconditioner's bound and the loss
and gradient at zero; the other solvers: the loss and gradient at zero): the same chunk
operations, the same chunk order and tree as a pass of their own, so the same numbers.
A bad input makes ``merge`` return its ValueError (the one-line message of
``check_stats``), the later tasks then do nothing, and the client raises it. Only
per-chunk summaries and the sums reach the client, never a chunk.
"""

from __future__ import annotations

import numpy as np

from .._labels import class_weights, encode_chunk, total_weight
from .._layout import ParamLayout
from ..objective.chunked import _N_OUT, ChunkSpec, add_parts, chunk_partial
from ..objective.protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from ..solvers import choose_solver
from .chunks import check_stats, chunk_stats, column_scales

#: chunk results added per task of the tree reduction
SPLIT_EVERY = 8


def tree_futures(client, parts, split_every=SPLIT_EVERY):
    """The tree of ``add_parts`` over futures on the workers, down to <= split_every
    futures: the client adds those (``add_parts(*gathered)``), one fixed order."""
    while len(parts) > split_every:
        parts = [client.submit(add_parts, *parts[i:i + split_every], pure=False)
                 for i in range(0, len(parts), split_every)]
    return parts


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


def _stats(Xc, yc, swc, offset, with_moments=False):
    return chunk_stats(Xc, yc, swc, offset, _unique_inverse, with_moments)


def _merge(spec, n, columns, *stats):
    """check_stats & co. on a worker: the setup's numbers, or the ValueError to raise."""
    try:
        classes, counts, wsums, m = check_stats(stats, columns)
        cw = class_weights(spec.class_weight, classes, counts)
        S = total_weight(wsums, cw)
    except (ValueError, TypeError) as exc:
        return exc
    return {"classes": classes, "cw": cw, "S": S, "m": m,
            "ops": first_ops(spec, n, len(classes), m),
            "scales": column_scales(stats, spec)}


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
    stats = client.map(_stats, xf, yf, swf, offsets, [spec.standardize] * C, pure=False)
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
    return info_v, known, (yi, s), [info, *stats]
