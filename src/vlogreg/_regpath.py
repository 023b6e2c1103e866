"""Regularization paths: many fits on one X, along a grid of C and across folds.

``solve_grid`` is the engine shared by ``vlogreg.path`` (``logistic_path``) and
``vlogreg.LogisticRegressionCV``. When the folds partition the rows (K-fold and its
stratified and grouped variants, or one fit on every row) every (fold, C) model is a
column of one batched objective (``BatchedObjective``, binary; ``BatchedMultinomial``,
three classes or more): each evaluation reads X once for all the models of a stage, and
the stages go along the C grid from the smallest C (the largest penalty) up, each
warm-started from the previous one's solutions (``warm=False``: all the models in one
batch from zero). L2 runs ``batched_lbfgs``; an L1 part (L1, elastic net) the batched
OWL-QN ``batched_owlqn``. Folds that do not partition the rows run the single-model
solver per model, on a copy of the fold's training rows, warm-started along C the same
way.

X that is not in memory (a dask array, a torch / CuPy array, a source on disk) stays
on its backend (``backends.batched``): its batched objective (binary L2) makes one pass
over the data per evaluation, and the other cases (multinomial, an L1 part, folds that
do not partition the rows) run the backend's single-model objective with the other
rows' weights 0 (the same objective as on a copy of the rows).

The strengths come from C as in ``LogisticRegression``: model k minimises
``C sum_i s_i loss_i + penalty(w)`` over its training rows, i.e. the mean objective
with ``alpha_k = 1 / (C S_k)`` (``FitSpec.strengths``), S_k the model's total weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._spec import FitSpec, n_threads, resolve_penalty
from .backends import backend_for, memory
from .backends.batched import prepare_grid
from .objective.batched import BatchedObjective
from .objective.batched_multi import BatchedMultinomial
from .objective.blocks import blas_single_thread
from .objective.logistic import LogisticObjective
from .solvers import SOLVERS, batched_lbfgs, choose_solver
from .solvers.batched_prox import batched_owlqn


@dataclass
class GridData:
    """Validated data for many fits: X (CSR or ndarray), the class indices ``y``, the
    final weights ``s`` (class weights folded in, scaled by ``2**-exp2``), ``classes``."""

    X: object
    y: np.ndarray
    s: np.ndarray
    classes: np.ndarray
    exp2: int
    feature_names: object = None
    backend: object = None  # a backends.batched.BackendGrid where X is not in memory

    @property
    def n_classes(self):
        return len(self.classes)


def prepare_grid_data(X, y, sample_weight=None, *, class_weight=None, fit_intercept=True,
                      estimator="logistic_path"):
    """X, y and the weights checked and encoded once, as ``LogisticRegression.fit`` does
    (the in-memory backend's ``prepare``: same errors, same label and weight rules)."""
    spec = FitSpec(penalty="l2", C=1.0, fit_intercept=fit_intercept,
                   class_weight=class_weight, estimator=estimator)
    backend = backend_for(X)
    if backend is not memory:  # Dask, array API, a source on disk: X stays there
        grid = prepare_grid(backend, X, y, sample_weight, spec)
        return GridData(grid.X, grid.y, grid.s, grid.classes, grid.exp2,
                        grid.feature_names, backend=grid)
    data = memory.prepare(X, y, sample_weight, spec)
    obj = data.objective
    s = np.ones(obj.m) if obj.s is None else np.asarray(obj.s, dtype=np.float64)
    # alpha = 1 / (S 2**exp2) for C = 1: recover the power of two the weights lost
    exp2 = int(round(np.log2(1.0 / (obj.alpha * s.sum()))))
    return GridData(obj.X, np.asarray(obj.y).astype(np.intp), s, data.classes, exp2,
                    data.feature_names)


@dataclass
class GridResult:
    """Fits of ``n_fits`` training sets x ``n_cs`` values of C.

    Attributes
    ----------
    coefs : ndarray (n_fits, n_cs, k, n + fit_intercept)
        Each fit's coefficients, the intercept last (scikit-learn's ``coefs_paths_``
        convention); k = 1 (binary) or the number of classes.
    n_iter : ndarray (n_fits, n_cs) int
    converged : ndarray (n_fits, n_cs) bool
    batched : bool
        Whether the batched objective and solver ran (else one model at a time).
    passes : dict or None
        The batched objective's reads of X by kind (``objective.passes``).
    """

    coefs: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    batched: bool
    passes: dict | None = None


def fold_ids(trains, tests, m):
    """Each row's fold (``len(tests)`` for rows in no test set) when the splits are
    "train = every row outside test" with disjoint test sets; None otherwise."""
    fold = np.full(m, len(tests), dtype=np.int32)
    for i, (tr, te) in enumerate(zip(trains, tests)):
        te = np.asarray(te)
        if len(tr) + len(te) != m or np.any(fold[te] != len(tests)) or \
                np.bincount(te, minlength=m).max(initial=0) > 1:
            return None
        fold[te] = i
    for i, tr in enumerate(trains):
        if np.any(fold[np.asarray(tr)] == i):
            return None
    return fold


def solve_grid(data, Cs, *, l1_ratio=0.0, trains=None, tests=None, fit_intercept=True,
               tol=1e-4, max_iter=100, solver="auto", warm=True, seed=0, n_jobs=None,
               kernel="auto", theta0=None):
    """Fit every (training set, C) model; see the module's docstring.

    Parameters
    ----------
    data : GridData
    Cs : ndarray (n_cs,)
        Any order; solved from the smallest up (warm starts), stored in this order.
    l1_ratio : float
    trains, tests : lists of index arrays, optional
        The folds' training and test rows; None: one fit on every row.
    solver : str
        The single-model solver where the batched one does not apply ("auto" as in
        ``LogisticRegression``).
    warm : bool
        Warm starts along C (else, batched: all models from zero in one batch).
    theta0 : ndarray (n + fit_intercept,), optional
        Two classes only: where every fit's first (smallest) C starts, ``[w; b]``
        (zeros when omitted), e.g. ``LogisticRegressionCV``'s refit from the folds'
        mean solution.
    """
    Cs = np.asarray(Cs, dtype=np.float64)
    m = data.X.shape[0]
    trains = [None] if trains is None else list(trains)
    fold = (np.zeros(m, np.int32) if tests is None
            else fold_ids(trains, tests, m))
    excludes = [-1] if tests is None else list(range(len(trains)))
    if theta0 is not None:
        theta0 = np.asarray(theta0, dtype=np.float64)
        if data.n_classes != 2 or theta0.shape != (data.X.shape[1] + int(fit_intercept),):
            raise ValueError(f"solve_grid: theta0 of shape {theta0.shape} does not fit; "
                             f"pass [w; b] of one binary model (n_features + "
                             f"fit_intercept entries).")
    # in memory every partition of the rows is batched; on a backend, binary L2 (its
    # batched objective's case), the other cases one model at a time where X lives
    batched = fold is not None and (data.backend is None or
                                    (data.n_classes == 2 and l1_ratio == 0))
    with blas_single_thread():  # the row blocks' threads are the parallelism
        if batched:
            return _solve_batched(data, Cs, fold, excludes, l1_ratio, fit_intercept, tol,
                                  max_iter, warm, n_jobs, kernel, seed, theta0)
        return _solve_each(data, Cs, trains, l1_ratio, fit_intercept, tol, max_iter,
                           solver, seed, n_jobs, theta0)


def _strengths(C, l1_ratio, S, exp2):
    spec = FitSpec(penalty=resolve_penalty("deprecated", C, l1_ratio), C=C,
                   l1_ratio=l1_ratio)
    return spec.strengths(S, exp2)


def _solve_batched(data, Cs, fold, excludes, l1_ratio, fit_intercept, tol, max_iter, warm,
                   n_jobs, kernel, seed=0, theta0=None):
    F, nC = len(excludes), len(Cs)
    common = dict(fold=fold, exclude=np.repeat(excludes, nC), alpha=0.0,
                  fit_intercept=fit_intercept, n_threads=n_threads(n_jobs))
    if data.backend is not None:  # one pass over the data where they live per evaluation
        obj = data.backend.objective(fold, common["exclude"], 0.0, fit_intercept)
    elif data.n_classes > 2:
        obj = BatchedMultinomial(data.X, data.y, data.s, n_classes=data.n_classes,
                                 kernel=kernel, **common)
    else:
        obj = BatchedObjective(data.X, data.y, data.s, kernel=kernel, **common)
    C_of = np.tile(Cs, F)  # model f nC + c: fold f, C_c
    obj.alpha, obj.l1 = np.array([_strengths(C, l1_ratio, S, data.exp2)
                                  for C, S in zip(C_of, obj.S)]).T.copy()
    solve = batched_owlqn if l1_ratio > 0 else batched_lbfgs
    theta = np.zeros((obj.p, F * nC))
    n_iter = np.zeros(F * nC, dtype=np.int64)
    conv = np.zeros(F * nC, dtype=bool)
    stages = ([np.arange(F) * nC + c for c in np.argsort(Cs, kind="stable")] if warm
              else [np.arange(F * nC)])
    prev = start = prev_models = None
    known = True  # the previous stage's smooth gradients are at its returned theta
    for models in stages:
        start = None
        if prev is not None and known:
            # J and its gradient at the previous C's solution, for this C: only the L2
            # term changes, (d alpha / 2) ||w||^2 and d alpha w, so no read of X
            # (the L1 term is the solver's own: its start is the smooth part's)
            d_alpha = obj.alpha[models] - obj.alpha[prev_models]
            w = prev.theta[:obj.n_coef]
            g = prev.grad.copy()
            g[:obj.n_coef] += d_alpha * w
            f = prev.loss - obj.l1_value(prev.theta, prev_models) if l1_ratio > 0 \
                else prev.loss
            start = (f + 0.5 * d_alpha * np.einsum("jk,jk->k", w, w), g)
        # a warm stage's models are the folds of one C: for binary L2, one Hessian at
        # their mean start preconditions them all (one Gram matrix a stage, not one a
        # fold; the same iterations on make_classification 300k x 50 and 1M x 100)
        first = None if theta0 is None else np.repeat(theta0[:, None], len(models), 1)
        warm_start = prev is not None or first is not None
        shared = "shared" if data.n_classes == 2 and l1_ratio == 0 else "start"
        res = solve(obj, first if prev is None else prev.theta, models=models, tol=tol,
                    max_iter=max_iter, start=start,
                    precondition=shared if warm_start else True)
        known = l1_ratio == 0 or res.converged.all()
        if not known:
            _finish_singly(obj, res, models, tol, max_iter, seed)  # (next start: a read)
        theta[:, models], n_iter[models], conv[models] = res.theta, res.n_iter, \
            res.converged
        prev, prev_models = res, models
    if data.n_classes > 2:  # the single fits' attributes: centred intercepts, (C, n + 1)
        coefs = np.stack([np.column_stack(obj.layout.to_attributes(t)) if fit_intercept
                          else obj.layout.to_attributes(t)[0] for t in theta.T])
        coefs = coefs.reshape(F, nC, data.n_classes, -1)
    else:
        coefs = theta.T.reshape(F, nC, 1, obj.p)
    return GridResult(coefs, n_iter.reshape(F, nC), conv.reshape(F, nC), True,
                      obj.passes.snapshot())


def grid_passes(data, grids):
    """Reads of X by kind of the data's checks, the fold fits (batched) and, where X is
    not in memory, the held-out scores; None where a fit kept no count."""
    if any(g.passes is None for g in grids):
        return None
    out = {} if data.backend is None else data.backend.passes.snapshot()
    for g in grids:
        for kind, v in g.passes.items():
            out[kind] = out.get(kind, 0.0) + v
    return {k: v for k, v in out.items() if v}


def _finish_singly(obj, res, models, tol, max_iter, seed):
    """The models ``batched_owlqn`` left unconverged (orthant-wise steps can crawl where
    many coefficients hover at 0 on an ill-conditioned problem: the multinomial loss at
    weak penalties), finished one at a time by the single-model L1 solver (the split
    L-BFGS-B) from where the batch stopped; ``res`` is updated in place."""
    for j in np.flatnonzero(~res.converged):
        single = obj.single(models[j], n_threads=obj.n_threads)
        r = SOLVERS["lbfgs"](single, res.theta[:, j], tol=tol, max_iter=max_iter,
                             seed=seed)
        res.theta[:, j], res.converged[j] = r.theta, r.converged
        res.n_iter[j] += r.n_iter


def _solve_each(data, Cs, trains, l1_ratio, fit_intercept, tol, max_iter, solver, seed,
                n_jobs, theta0=None):
    F, nC = len(trains), len(Cs)
    k = data.n_classes if data.n_classes > 2 else 1
    coefs = np.zeros((F, nC, k, data.X.shape[1] + int(fit_intercept)))
    n_iter = np.zeros((F, nC), dtype=np.int64)
    conv = np.zeros((F, nC), dtype=bool)
    for i, tr in enumerate(trains):
        if data.backend is not None:  # where X lives: the other rows' weights 0
            single, S = data.backend.single(tr, fit_intercept)
        else:
            X, y, s = (data.X, data.y, data.s) if tr is None else \
                (data.X[tr], data.y[tr], data.s[tr])
            S = float(s.sum())
        theta = theta0
        for c in np.argsort(Cs, kind="stable"):  # smallest C first: warm starts
            alpha, l1 = _strengths(Cs[c], l1_ratio, S, data.exp2)
            if data.backend is not None:
                obj = single
                obj.alpha, obj.l1 = alpha, l1  # (applied at each evaluation)
            else:
                obj = LogisticObjective(X, y, s, alpha=alpha, l1=l1,
                                        fit_intercept=fit_intercept,
                                        n_classes=data.n_classes,
                                        n_threads=n_threads(n_jobs))
            name = choose_solver(solver, has_l1=l1 > 0, n_params=obj.n_params, m=obj.m)
            kw = {} if name == "newton" else {"seed": seed}
            res = SOLVERS[name](obj, theta, tol=tol, max_iter=max_iter, **kw)
            theta = res.theta
            w, b = obj.layout.to_attributes(theta, np.float64,
                                            center_coef=alpha == 0 and l1 == 0)
            coefs[i, c] = np.column_stack([w, b]) if fit_intercept else w
            n_iter[i, c], conv[i, c] = res.n_iter, res.converged
    return GridResult(coefs, n_iter, conv, False)


def l1_min_c(data, fit_intercept=True, l1_ratio=1.0):
    """The smallest C at which an L1 (elastic-net) fit has a non-zero coefficient.

    At ``w = 0`` with the intercept at its own optimum (class frequencies
    ``p0 = sum_i s_i y_i / sum_i s_i``; ``1/2`` or ``1/K`` without intercept), the
    gradient of ``C sum_i s_i loss_i`` is ``C X^T (s (p0 - y))``; ``w = 0`` stays optimal
    while its max-norm is at most ``l1_ratio``, so (glmnet's lambda_max)::

        C_min = l1_ratio / max_j |X^T (s (y - p0))|_j

    Without intercept this is scikit-learn's ``l1_min_c(loss="log")``. inf when every
    gradient is 0 (no C selects a feature).
    """
    s = data.s * 2.0 ** data.exp2
    K = data.n_classes
    Y = np.eye(K)[data.y] if K > 2 else (data.y == 1).astype(np.float64)[:, None]
    if fit_intercept:
        p0 = s @ Y / s.sum()
    else:
        p0 = np.full(Y.shape[1], 1.0 / K if K > 2 else 0.5)
    if data.backend is not None:
        G = _gradient_at_p0(data, p0, fit_intercept) * s.sum()
    else:
        G = np.asarray(data.X.T @ (s[:, None] * (Y - p0)))
    top = float(np.max(np.abs(G))) if G.size else 0.0
    return np.inf if top == 0 else float(l1_ratio) / top


def _gradient_at_p0(data, p0, fit_intercept):
    """``X^T (s (Y - p0)) / sum(s)`` where X lives: minus the mean loss's coefficient
    gradient at ``w = 0`` with the intercepts that give the probabilities ``p0`` (one
    loss+gradient pass of the backend's single-model objective)."""
    obj, _ = data.backend.single(None, fit_intercept)
    if data.n_classes == 2:
        b = np.log(p0[0]) - np.log1p(-p0[0])  # sigmoid(b) = p0
    else:
        b = np.log(p0)  # softmax(b) = p0
    k = 1 if data.n_classes == 2 else data.n_classes
    theta = obj.layout.pack(np.zeros(data.X.shape[1] * k), b)  # (b dropped without)
    _, g = obj.value_and_grad(theta)
    coef, _ = obj.layout.unpack(-g)
    return np.asarray(coef).reshape(data.X.shape[1], -1)


@dataclass
class PathResult:
    """Coefficients along a grid of C (``vlogreg.path``).

    Attributes
    ----------
    Cs : ndarray (n_cs,)
        The grid, in the order given (the default grid is increasing).
    coefs : ndarray (n_cs, k, n_features)
        ``coef_`` at each C: k = 1 for two classes, else one row per class.
    intercepts : ndarray (n_cs, k)
    n_iter : ndarray (n_cs,) int
    converged : ndarray (n_cs,) bool
    classes : ndarray (n_classes,)
    l1_ratio : float
    c_min : float or None
        With an L1 part: the smallest C with a non-zero coefficient (``l1_min_c``),
        where the default grid starts.
    """

    Cs: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    classes: np.ndarray
    l1_ratio: float
    c_min: float | None = None


def logistic_path(X, y, *, Cs=10, l1_ratio=0.0, sample_weight=None, class_weight=None,
                  fit_intercept=True, tol=1e-4, max_iter=100, solver="auto",
                  warm_start=True, n_jobs=None):
    """Fit logistic regressions along a grid of C, each warm-started from the last.

    The penalty is ``LogisticRegression``'s: ``C sum_i s_i loss_i + l1_ratio ||w||_1 +
    (1 - l1_ratio) ||w||^2 / 2``; every point of the path equals
    ``LogisticRegression(C=C, l1_ratio=l1_ratio, tol=tol).fit(X, y)`` to ``tol``.

    Parameters
    ----------
    X : array-like or sparse matrix (m, n), or any X ``LogisticRegression.fit`` takes
        (a dask array, a torch / CuPy array, a source on disk), fitted where it lives.
    y : array-like (m,)
    Cs : int or array-like
        An int: that many values, ``np.logspace(-4, 4, Cs)`` for L2 (scikit-learn's
        grid) and, with an L1 part, ``C_min * np.logspace(0, 4, Cs)`` from the smallest
        C that gives a non-zero coefficient (``PathResult.c_min``), as glmnet does.
    l1_ratio : float in [0, 1]
    sample_weight, class_weight, fit_intercept, tol, max_iter, solver, n_jobs
        As in ``LogisticRegression``.
    warm_start : bool
        Solve from the smallest C up, each fit starting at the previous solution.

    Returns
    -------
    PathResult
    """
    if not (isinstance(l1_ratio, (int, float, np.floating)) and 0 <= l1_ratio <= 1):
        raise ValueError(f"logistic_path: l1_ratio={l1_ratio!r} is not valid; use a "
                         f"number in [0, 1] (0 for L2, 1 for L1).")
    data = prepare_grid_data(X, y, sample_weight, class_weight=class_weight,
                             fit_intercept=fit_intercept)
    c_min = l1_min_c(data, fit_intercept, l1_ratio) if l1_ratio > 0 else None
    Cs = check_cs(Cs, "logistic_path", c_min)
    grid = solve_grid(data, Cs, l1_ratio=float(l1_ratio), fit_intercept=fit_intercept,
                      tol=tol, max_iter=max_iter, solver=solver, warm=warm_start,
                      n_jobs=n_jobs)
    n = data.X.shape[1]
    coefs = grid.coefs[0]  # (n_cs, k, n + fit_intercept)
    intercepts = coefs[..., n] if fit_intercept else np.zeros(coefs.shape[:2])
    return PathResult(Cs, coefs[..., :n].copy(), intercepts.copy(), grid.n_iter[0],
                      grid.converged[0], data.classes, float(l1_ratio), c_min)


def check_cs(Cs, who, c_min=None):
    """The grid of C from ``Cs`` (an int or values); one-line errors naming the fix."""
    if isinstance(Cs, (int, np.integer)) and not isinstance(Cs, bool):
        if Cs < 1:
            raise ValueError(f"{who}: Cs={Cs!r} is not valid; use a positive number of "
                             f"values or a list of positive C.")
        if c_min is not None and np.isfinite(c_min):
            return c_min * np.logspace(0, 4, Cs)
        return np.logspace(-4, 4, Cs)
    arr = np.asarray(Cs, dtype=np.float64).ravel() if np.ndim(Cs) else np.array([])
    if arr.size == 0 or np.any(np.isnan(arr)) or np.any(arr <= 0):
        raise ValueError(f"{who}: Cs={Cs!r} is not valid; use a positive number of values "
                         f"or a non-empty list of positive C.")
    return arr
