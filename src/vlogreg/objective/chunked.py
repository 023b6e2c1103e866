"""``ChunkedObjective``: the objective of data held in row chunks, summed chunk by chunk.

The rows of X are split into chunks ``X = [X_1; ...; X_C]`` (a dask array's blocks, a
file's row groups). Every quantity the solvers need is a sum over examples, so it is a
sum over chunks of the same quantity on each chunk:

    J(theta) = sum_c J_c(theta) + (alpha / 2) ||w||^2,
    J_c(theta) = (1/S) sum_{i in c} s_i loss_i(theta),     S = sum_i s_i (all chunks)

and likewise ``grad J``, ``H v`` and ``H``. ``J_c`` and its derivatives are computed by
``LogisticObjective`` itself on the chunk (the loss maths lives in ``objective.logistic`` alone),
built with ``alpha = 0`` and the global ``S``, so the chunks' results simply add up.

A backend supplies the map and the sum: an object ``chunks`` with

- ``map_sum(op, *args)``: ``sum over chunks of chunk_partial(spec, op, X_c, y_c, s_c,
  *args)`` in ONE pass over the data (one ``compute`` for Dask);
- ``subset(max_rows)``: ``(chunks', rows)``, the chunks that estimate the Hessian bound
  and the Lipschitz constant (all of them, or a few evenly spaced ones on disk).

The checks of the chunks and the encoding of their labels live with the backends
(``vlogreg.backends.chunks``).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from .._layout import ParamLayout
from .blocks import kernel_threads
from .information import information_sums
from .logistic import LogisticObjective
from .passes import Passes
from .protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from .secondorder import power_lipschitz, spd_ridge


@dataclass(frozen=True)
class ChunkSpec:
    """What every chunk's ``LogisticObjective`` shares: sizes, loss and the global S."""

    n: int
    n_classes: int
    fit_intercept: bool
    S: float
    n_threads: int | None = 1  # Dask: one per task (workers parallelise); disk: None

    def objective(self, Xc, y_idx, s):
        """The chunk's ``LogisticObjective``: X_c (m_c, n), labels (m_c,), weights."""
        obj = LogisticObjective(Xc, y_idx, s, alpha=0.0, l1=0.0,
                                fit_intercept=self.fit_intercept,
                                n_classes=self.n_classes, n_threads=self.n_threads)
        obj.S = self.S  # divide by the GLOBAL weight sum: the chunks' results add up
        return obj


# ---------------------------------------------------------------- per-chunk operations
def _weight(obj, s):
    return float(obj.m) if s is None else float(np.sum(s, dtype=np.float64))


def _op_bound(obj, s, frac, max_dense, theta=None):
    # The bound is a weighted mean of x x^T: average the chunks' own (normalised) bounds
    # with their weights S_c. A chunk samples about frac * m_c of its rows, strided the
    # way hessian_bound strides them. A chunk without weight adds zeros (exactly nothing).
    # With theta: the sampled Hessian at theta (hessian_bound's theta), averaged alike.
    max_rows = max(1, int(np.ceil(frac * obj.m)))
    step = max(1, -(-obj.m // max_rows))
    if not _weight(obj, s) > 0 or (s is not None and not np.sum(s[::step]) > 0):
        p1 = obj.n + (1 if obj.fit_intercept else 0)
        return np.zeros((p1, p1) if p1 <= max_dense else p1), np.array(0.0)
    P = obj.hessian_bound(max_rows=max_rows, max_dense=max_dense, ridge=False, theta=theta)
    return P * _weight(obj, s), np.array(_weight(obj, s))


def _op_gram_vec(obj, s, spec, v):
    # X~^T diag(s) X~ v (unnormalised): the binary Hessian-vector product of this chunk
    # with its curvature replaced by the weights, and the chunk's weight sum
    h = np.ones(obj.m) if s is None else np.asarray(s, dtype=np.float64)
    binary = LogisticObjective(obj.X, np.zeros(obj.m), fit_intercept=spec.fit_intercept,
                               n_threads=spec.n_threads)
    return binary.hessp(np.zeros_like(v), v, curvature=(h, None)), np.array(_weight(obj, s))


def _op_separated(obj, s, theta):
    # examples NOT classified with a margin (the estimator's SeparationWarning test)
    return (np.array(float(obj.n_unseparated(theta))),)


def _op_information(obj, s, theta, cov_type):
    # inference's sums (objective.information); "nonrobust" has no middle term
    H, meat, ll, unsep, counts = information_sums(obj, theta, cov_type)
    return H, np.asarray(meat, dtype=np.float64), np.array(ll), np.array(float(unsep)), \
        counts


def _op_many(obj, s, ops):
    # several operations in one task: the chunk is read from memory once per operation,
    # but the pass (the round trip to the workers) is shared
    return tuple(r for op, args in ops for r in _OPS[op](obj, s, *args))


_OPS = {
    "value_and_grad": lambda obj, s, theta: tuple(
        np.asarray(r, dtype=np.float64) for r in obj.value_and_grad(theta)),
    "value": lambda obj, s, theta: (np.array(obj.value(theta)),),
    "hessp": lambda obj, s, theta, v: (obj.hessp(theta, v),),
    "hessian": lambda obj, s, theta: (obj.hessian(theta),),
    "bound": _op_bound,
    "gram_vec": _op_gram_vec,
    "separated": _op_separated,
    "information": _op_information,
    "many": _op_many,
}
#: the kind of pass (``objective.passes``) each operation counts as; a pass of several
#: operations counts as its loss+gradient when it has one (the rest rides along)
_KIND = {"value_and_grad": "loss_grad", "value": "loss", "hessp": "hessp",
         "hessian": "hessian", "bound": "bound", "gram_vec": "bound",
         "separated": "prediction", "information": "hessian"}
#: tuples each operation returns (for splitting the results of "many")
_N_OUT = {"value_and_grad": 2, "value": 1, "hessp": 1, "hessian": 1, "bound": 2,
          "gram_vec": 2, "separated": 1, "information": 5}


#: the chunk objectives built in this process, by ``id`` of the chunk's labels, each
#: dropped when those labels are freed: a Dask worker keeps a fit's chunks and encoded
#: labels between its evaluations, so the same arrays come back each pass, and the
#: objective's own arrays (y in X's dtype, the kernel's unit weights: m_c values each,
#: fresh pages) are made once per fit instead of once per pass (~1.3 ms of a 250k-row
#: chunk's ~5 ms kernel, one thread). A kept objective holds no reference to X between
#: evaluations (a worker may spill the chunk), only a weak one to check it.
_OBJECTIVES = {}
_LOCK = threading.Lock()


def _detach(obj, Xc):
    """Set (or, with None, drop) the objective's references to its chunk of X."""
    obj.X = obj.blocks.X = Xc


def _chunk_objective(spec, Xc, y_idx, s):
    """``(spec.objective(Xc, y_idx, s), entry)``: the kept one while the same arrays come
    back (taken out while in use: a concurrent task on the same arrays builds its own),
    else a new one; ``entry`` is what ``_keep`` stores back, None if not kept."""
    key = id(y_idx)
    with _LOCK:
        hit = _OBJECTIVES.pop(key, None)
    if hit is not None:
        yref, xref, hspec, hs, obj = hit
        if yref() is y_idx and xref() is Xc and hs is s and hspec == spec:
            _detach(obj, Xc)
            return obj, hit
    obj = spec.objective(Xc, y_idx, s)  # imports the kernel when it will run
    if obj.y is y_idx or getattr(obj, "_y_kernel", None) is y_idx:
        return obj, None  # kept, it would keep the labels, and itself, alive
    try:
        entry = (weakref.ref(y_idx, lambda _, key=key: _OBJECTIVES.pop(key, None)),
                 weakref.ref(Xc), spec, s, obj)
    except TypeError:  # arrays that take no weak reference: not kept
        return obj, None
    return obj, entry


def _keep(key, entry):
    if entry is not None and entry[0]() is not None:
        _detach(entry[4], None)
        with _LOCK:
            _OBJECTIVES[key] = entry


def chunk_partial(spec, op, Xc, y_idx, s, *args):
    """One chunk's share of ``op`` (a tuple of float64 arrays), or None for no rows."""
    if Xc.shape[0] == 0:
        return None
    obj, entry = _chunk_objective(spec, Xc, y_idx, s)
    try:
        with kernel_threads(spec.n_threads):
            return _OPS[op](obj, s, *args)
    finally:
        _keep(id(y_idx), entry)


def add_parts(*parts):
    """Element-wise sum of the tuples returned by ``chunk_partial`` (None adds nothing)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return tuple(sum(arrs[1:], arrs[0].copy()) for arrs in zip(*parts))


class ChunkedObjective:
    """``LogisticObjective``'s flat-parameter interface over row chunks.

    Parameters
    ----------
    chunks : backend object with ``map_sum(op, *args)`` and ``subset(max_rows)``
        (see the module docstring); each ``map_sum`` is one pass over the data.
    spec : ChunkSpec
    m : int
        Rows in all chunks.
    dtype : numpy dtype of X (float32 or float64)
    alpha, l1 : float
        Penalty strengths of the mean objective, as in ``LogisticObjective``.
    """

    def __init__(self, chunks, spec, *, m, dtype, alpha=0.0, l1=0.0):
        self.chunks, self.spec = chunks, spec
        self.m, self.n, self.S = int(m), spec.n, float(spec.S)
        self.dtype = np.dtype(dtype)
        self.alpha, self.l1 = float(alpha), float(l1)
        self.fit_intercept = spec.fit_intercept
        self.layout = ParamLayout(self.n, spec.n_classes, self.fit_intercept)
        self.multinomial, self.k = self.layout.multinomial, self.layout.k
        self.n_coef, self.n_params = self.layout.n_coef, self.layout.n_params
        self.n_evals = 0  # passes over the data, for the record
        self.passes = Passes()  # the same passes by kind, a subset's as its share
        # results computed ahead in a shared pass: {op: (theta, result)}, used when the
        # solver asks for exactly that theta (the same numbers: the same chunk sums)
        self._known = {}
        # the solver's announced next value_and_grad point (expect), folded into the
        # next pass that reads every chunk
        self._next_vg = None
        # Newton announced (expect("hessian")) that each value_and_grad is followed by
        # the Hessian at the same point: both come from one pass
        self._with_hessian = False
        # L-BFGS announced (expect("hessian_bound", theta)) the sampled Hessian at the
        # point of its next value_and_grad: it rides in that pass
        self._next_bound = None

    def preload(self, known):
        """Results of the backend's setup pass, ``{op: (args, result)}``, kept for the
        solver: used when it asks for exactly those arguments (the same chunk sums, so
        the same numbers), else dropped. Counts the setup's pass (the checks' read of
        X, which brought them along)."""
        self.n_evals += 1
        self.passes.add("validation")
        for op, (args, result) in known.items():
            if op == "bound":  # what hessian_bound takes: (bound, loss and gradient at 0)
                fg = known.get("value_and_grad")
                self._known["bound"] = (np.array(args), (result, fg and fg[1]))
            else:
                self._known[op] = (args[0], result)

    def _sum(self, op, *args):
        self.n_evals += 1
        self.passes.add(_KIND[op])
        return self.chunks.map_sum(op, *args)

    def _sum_many(self, ops, chunks=None, share=1.0):
        """The results of several ``(op, args)`` at once: one pass, one round trip
        (over ``chunks``, ``share`` of the rows, when not all of them)."""
        self.n_evals += 1
        kinds = [op for op, _ in ops]
        self.passes.add(_KIND["value_and_grad" if "value_and_grad" in kinds else kinds[0]],
                        share)
        out = (self.chunks if chunks is None else chunks).map_sum("many", ops)
        ends = np.cumsum([_N_OUT[op] for op, _ in ops])
        return [None if out is None else out[e - _N_OUT[op]:e]
                for (op, _), e in zip(ops, ends)]

    def _take(self, op, theta):
        known = self._known.pop(op, None)
        return known[1] if known is not None and np.array_equal(known[0], theta) else None

    def _penalty(self, theta):
        w = np.asarray(theta, dtype=np.float64)[: self.n_coef]
        return w, 0.5 * self.alpha * float(np.vdot(w, w))

    # ------------------------------------------------------------------ layout
    unpack = LogisticObjective.unpack
    pack = LogisticObjective.pack
    zeros = LogisticObjective.zeros
    penalized_mask = LogisticObjective.penalized_mask

    def expect(self, op, theta=None):
        """The solver's next request (see ``Objective.expect``), folded into a pass."""
        if op == "value_and_grad":
            self._next_vg = np.array(theta, dtype=np.float64)
        elif op == "hessian_bound":
            self._next_bound = np.array(theta, dtype=np.float64)
        elif op == "hessian":
            self._with_hessian = True
        else:
            raise ValueError(f"expect: unknown request {op!r}")

    def l1_value(self, theta):
        """``l1 * ||w||_1`` (the intercept is not penalized)."""
        return self.l1 * float(np.abs(np.asarray(theta)[: self.n_coef]).sum())

    # ---------------------------------------------------------- first order
    def value_and_grad(self, theta):
        """``(J, grad J)`` at the flat ``theta``: one pass, ``sum_c`` of the chunks'."""
        theta = np.asarray(theta, dtype=np.float64)
        fg = self._take("value_and_grad", theta)
        at, self._next_bound = self._next_bound, None
        if fg is None and self._with_hessian:
            fg, (H,) = self._sum_many([("value_and_grad", (theta,)), ("hessian", (theta,))])
            self._known["hessian"] = (theta.copy(), (H,))
        elif fg is None and at is not None and np.array_equal(at, theta):
            fg, out = self._sum_many([("value_and_grad", (theta,)), self._bound_op(theta)])
            self._known["bound_at"] = (theta.copy(), out)
        elif fg is None:
            fg = self._sum("value_and_grad", theta)
        f, g = fg
        w, pen = self._penalty(theta)
        g = g.copy()
        g[: self.n_coef] += self.alpha * w
        return float(f) + pen, g

    def value(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        (f,) = self._sum("value", theta)
        return float(f) + self._penalty(theta)[1]

    def grad(self, theta):
        return self.value_and_grad(theta)[1]

    # --------------------------------------------------------- second order
    def curvature(self, theta):
        """The point itself: each chunk recomputes its curvature inside ``hessp`` /
        ``hessian`` (the same pass), as keeping m values between passes would cost memory
        on every worker."""
        return np.array(theta, dtype=np.float64)

    def hessp(self, theta, v, curvature=None):
        """``H v = sum_c X~_c^T (h_c * (X~_c v)) + alpha v_w`` in one pass."""
        v = np.asarray(v, dtype=np.float64)
        (hv,) = self._sum("hessp", np.asarray(theta, dtype=np.float64), v)
        hv = hv.copy()
        hv[: self.n_coef] += self.alpha * v[: self.n_coef]
        return hv

    def information(self, theta, cov_type="nonrobust"):
        """Inference's sums at theta over every chunk, in one pass: as
        ``objective.information.information_sums`` (``"nonrobust"`` or ``"HC0"``; the
        clusters of ``"cluster"`` would have to travel with the chunks)."""
        if cov_type not in ("nonrobust", "HC0"):
            raise ValueError(f"cov_type={cov_type!r} needs X in memory; pass X as a NumPy "
                             f"array or sparse matrix, or use cov_type='HC0'.")
        H, meat, ll, unsep, counts = self._sum(
            "information", np.asarray(theta, dtype=np.float64), cov_type)
        return H, (meat if cov_type == "HC0" else 0.0), float(ll), int(unsep), counts

    def hessian(self, theta, curvature=None):
        """The full Hessian ``sum_c H_c + alpha I_w`` (n_params, n_params), one pass."""
        theta = np.asarray(theta, dtype=np.float64)
        (H,) = self._take("hessian", theta) or self._sum("hessian", theta)
        H = H.copy()
        H[np.arange(self.n_coef), np.arange(self.n_coef)] += self.alpha
        return H

    def _bound_op(self, theta=None, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE,
                  rows=None):
        """The chunk operation of ``hessian_bound`` (over ``rows`` rows, all by default)."""
        frac = min(1.0, max_rows / max(self.m if rows is None else rows, 1))
        return ("bound", (frac, max_dense) + (() if theta is None else (theta,)))

    def hessian_bound(self, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE, ridge=True,
                      theta=None):
        """``X~^T diag(s) X~ / (4 S) + alpha I`` estimated from at most ~``max_rows`` rows.

        The weighted mean over chunks of ``LogisticObjective.hessian_bound`` on each
        chunk's strided rows: (p1, p1) when ``p1 <= max_dense``, else its diagonal.
        ``theta`` (binary): the sampled Hessian at theta instead (see
        ``LogisticObjective.hessian_bound``); announced with ``expect("hessian_bound",
        theta)`` it came with the pass of ``value_and_grad(theta)``.
        """
        sub, rows = self.chunks.subset(max_rows)
        if theta is not None:
            theta = np.asarray(theta, dtype=np.float64)
            known = self._known.pop("bound_at", None)
            if known is not None and np.array_equal(known[0], theta) and \
                    max_rows == BOUND_MAX_ROWS and max_dense == BOUND_MAX_DENSE:
                out = known[1]
            else:  # a pass of its own, over every chunk (a chunk samples its rows)
                (out,) = self._sum_many([self._bound_op(theta, max_rows, max_dense)])
            return self._finish_bound(out, ridge)
        bound = self._bound_op(None, max_rows, max_dense, rows)
        nxt, self._next_vg = self._next_vg, None
        if sub is self.chunks:
            # every chunk is read anyway: the pass also evaluates the loss and gradient
            # where the solver said it goes next (expect), unless the setup's pass
            # computed both already (_known["bound"])
            known = self._take("bound", np.array(bound[1]))
            if known is not None:
                out, fg = known
                at = self.zeros()  # the setup folds in the bound and theta = 0
            elif nxt is not None:
                out, fg = self._sum_many([bound, ("value_and_grad", (nxt,))])
                at = nxt
            else:
                (out,), fg = self._sum_many([bound]), None
            if fg is not None:
                self._known["value_and_grad"] = (at, fg)
        else:
            (out,) = self._sum_many([bound], sub, min(1.0, rows / max(self.m, 1)))
        return self._finish_bound(out, ridge)

    def _finish_bound(self, out, ridge):
        """The chunks' summed ``(sum_c P_c S_c, sum_c S_c)``: their mean, plus alpha."""
        p1 = self.n + (1 if self.fit_intercept else 0)
        if out is None or not float(out[1]) > 0:  # no chunk with positive weight sampled
            return np.ones(p1)
        P = out[0] / float(out[1])
        idx = np.arange(self.n)
        if P.ndim == 2:
            P[idx, idx] += self.alpha
        else:
            P[idx] += self.alpha
        return spd_ridge(P) if ridge else P  # after alpha, as in memory: the same bound

    def separating_columns(self):
        """Not computed on chunks (the chunks' min and max do not add up): ``[]``, so
        the SeparationWarning of a chunked fit names no column."""
        return []

    def separates(self, theta):
        """True when ``theta`` classifies every example with a margin (one pass): the
        chunked twin of the estimator's in-memory test for its SeparationWarning."""
        out = self._sum("separated", np.asarray(theta, dtype=np.float64))
        return out is not None and float(out[0]) == 0.0

    def lipschitz(self, n_iter=8, seed=0, max_rows=262144):
        """An estimate of the gradient's Lipschitz constant L (power iterations).

        ``L <= lambda_max(X~^T diag(s) X~) / (4 S) + alpha`` (factor 1/2 for softmax), the
        same iterations as ``LogisticObjective.lipschitz``, each one pass of
        ``sum_c X~_c^T (s_c * (X~_c v))`` over the chunks of ``subset(max_rows)``
        (all of them for Dask, so the estimate and the solver's path are the in-memory
        ones; a few evenly spaced chunks on disk, where ``S`` becomes their weight).
        """
        sub, rows = self.chunks.subset(max_rows)

        def gram_vec(v):
            self.n_evals += 1
            self.passes.add("bound", min(1.0, rows / max(self.m, 1)) if sub is not
                            self.chunks else 1.0)
            gv, w = sub.map_sum("gram_vec", self.spec, v)
            return gv / float(w)

        return power_lipschitz(gram_vec, self.n + (1 if self.fit_intercept else 0),
                               self.multinomial, self.alpha, n_iter, seed)
