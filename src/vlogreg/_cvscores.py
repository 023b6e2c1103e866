"""Scores of every fold x C model of ``LogisticRegressionCV`` on its fold's test rows,
computed here for accuracy and log-loss (the scorers' formulas) from one product per
chunk of test rows for all the Cs at once, instead of one scorer call per model; and any
other scikit-learn scorer on decision values computed where X lives (``heldout_scores``);
and scikit-learn's metadata routing of ``LogisticRegressionCV`` (what reaches the
splitter and the scorer).
"""

from __future__ import annotations

import inspect
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import make_scorer
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)

from . import _predict
from ._kernels.threads import blas_single_thread

#: scorers computed here from every C's decision values at once (one product per chunk
#: of a fold's test rows), by scikit-learn's formulas (log_loss clips the
#: probabilities to [eps, 1 - eps]); any other scorer is called per model as
#: scikit-learn does
DIRECT = (None, "accuracy", "neg_log_loss")
#: test rows per chunk: the chunk's copy of X's rows stays in cache for its product
#: (for CSR X, its non-zeros: by n, a 10k-column CSR X got chunks of 26 rows, and the
#: sparse L1 path's scores were 5000 Python-level row slices)
CHUNK_BYTES = 1 << 21


def direct_scores(scoring, paths, folds, X, y_idx, sample_weight, fit_intercept,
                   n_threads=None, heldout=None):
    """scores (n_folds, n_l1, n_cs) of accuracy or neg_log_loss, equal to what
    ``predict`` / ``predict_proba`` (``vlogreg._predict``) give to scikit-learn's scorers.

    Binary: fold i's test rows are taken in chunks of ``CHUNK_BYTES`` (never a copy of
    the fold's X), ``Z = X_chunk W_i + b_i`` (rows, n_l1 n_cs) for every C at once, and
    per row ``-log P(y_i) = softplus(-t)``, ``t = +-z``, clipped to
    ``[-log(1 - eps), -log(eps)]`` (scikit-learn's clip of P to [eps, 1 - eps]), or
    ``[z > 0] == y_i``; weighted sums per column, chunks spread over ``n_threads``.

    ``heldout``: per fold, its test rows' decision values (len(te), n_l1 n_cs k) under
    its models, computed where X lives (``BackendGrid.heldout``), instead of products
    with ``X``.
    """
    F, L, nC, k, _ = paths.shape
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    if k > 1:
        return direct_scores_multi(scoring, paths, folds, X, y_idx, sw, fit_intercept,
                                   heldout)
    # each distinct model once: along a path of C, a warm start that already meets tol
    # repeats the previous C's coefficients, and their scores must tie exactly (equal
    # columns of one product can differ in the last bit), so that the choice among them
    # is scikit-learn's tie rule (the first C), not rounding
    coefs, first, which = zip(*(np.unique(paths[i].reshape(L * nC, -1), axis=0,
                                          return_index=True, return_inverse=True)
                                for i in range(F)))
    if heldout is not None:
        out = []
        for i, (_, te) in enumerate(folds):
            w = np.ones(len(te)) if sw is None else sw[te]
            num = _sums(scoring, heldout[i][:, first[i]], y_idx[te] == 1, w)
            out.append(num[which[i].ravel()] / w.sum())
        return np.stack(out).reshape(F, L, nC)
    n = X.shape[1]
    if sp.issparse(X):  # a row's bytes are its non-zeros'; Z's (rows, L nC) counts too
        per_row = max(X.nnz / max(1, X.shape[0]) * (X.dtype.itemsize + 4), 8.0 * L * nC)
    else:
        per_row = X.dtype.itemsize * n
    rows = max(1, int(CHUNK_BYTES // max(1, per_row)))
    tasks = [(i, te[r:r + rows]) for i, (_, te) in enumerate(folds)
             for r in range(0, len(te), rows)]

    def run(part):
        num, den = [np.zeros(len(c)) for c in coefs], np.zeros(F)
        for i, te in part:
            Z = np.asarray(X[te] @ coefs[i][:, :n].T, dtype=np.float64)
            if fit_intercept:
                Z += coefs[i][:, n]
            w = np.ones(len(te)) if sw is None else sw[te]
            num[i] += _sums(scoring, Z, y_idx[te] == 1, w)
            den[i] += w.sum()
        return num, den

    threads = max(1, min(n_threads or os.cpu_count() or 1, len(tasks)))
    edges = np.linspace(0, len(tasks), threads + 1).astype(int)
    parts = [tasks[edges[t]:edges[t + 1]] for t in range(threads)]
    with blas_single_thread(), ThreadPoolExecutor(threads) as pool:
        sums = list(pool.map(run, parts))  # added in thread order: reproducible
    den = sum(s[1] for s in sums)
    return np.stack([sum(s[0][i] for s in sums)[which[i].ravel()] / den[i]
                     for i in range(F)]).reshape(F, L, nC)


def _sums(scoring, Z, yes, w):
    """Per column of the decision values ``Z`` (rows, models) of a binary model: the
    ``w``-weighted sum of log P(y) (``-softplus(-t)``, ``t = +-z``, clipped as
    scikit-learn clips P to [eps, 1 - eps]) or of correct labels ``[z > 0] == yes``."""
    if scoring == "neg_log_loss":
        eps = np.finfo(np.float64).eps
        t = np.where(yes[:, None], Z, -Z)
        v = np.maximum(-t, 0.0) + np.log1p(np.exp(-np.abs(t)))
        np.clip(v, -np.log1p(-eps), -np.log(eps), out=v)
        return -(w @ v)
    return w @ ((Z > 0) == yes[:, None])


def direct_scores_multi(scoring, paths, folds, X, y_idx, sw, fit_intercept, heldout=None):
    """``direct_scores`` of a multinomial path: one product per fold (or its
    ``heldout`` decision values), each model's probabilities from ``vlogreg._predict``."""
    F, L, nC, k, _ = paths.shape
    out = np.empty((F, L, nC))
    for i, (_, te) in enumerate(folds):
        if heldout is not None:
            Z = np.asarray(heldout[i], dtype=np.float64)
        else:
            W = paths[i].reshape(L * nC * k, -1)
            n = X.shape[1]
            Z = np.asarray(X[te] @ W[:, :n].T, dtype=np.float64)
            if fit_intercept:
                Z += W[:, n]
        yt = y_idx[te]
        w = None if sw is None else sw[te]
        rows = np.arange(len(te))
        for j in range(L * nC):
            z = Z[:, j * k:(j + 1) * k]
            if scoring == "neg_log_loss":
                p = _predict.proba(z)[rows, yt]
                eps = np.finfo(p.dtype).eps
                v = -np.average(-np.log(np.clip(p, eps, 1 - eps)), weights=w)
            else:
                v = np.average(_predict.label_index(z) == yt, weights=w)
            out[i, j // nC, j % nC] = v
    return out


def fold_scorer(scorer, classes):
    """``scorer`` as scikit-learn's ``_log_reg_scoring_path`` calls it on a fold: a
    metric that takes ``labels`` gets every class of the whole y (a fold's test rows may
    lack one), and a binary one its ``pos_label`` (the last class)."""
    if hasattr(scorer, "_score_func"):
        sig = inspect.signature(scorer._score_func).parameters
        if "labels" in sig:
            pos = {"pos_label": classes[-1]} if len(classes) <= 2 and \
                "pos_label" in sig else {}
            scorer = make_scorer(scorer._score_func,
                                 greater_is_better=scorer._sign == 1,
                                 response_method=scorer._response_method,
                                 labels=classes, **pos, **getattr(scorer, "_kwargs", {}))
    return scorer


class HeldOutModel(ClassifierMixin, BaseEstimator):
    """One fitted model's decision values on a fold's test rows, computed where X lives
    (a Dask cluster, a GPU, a file): scikit-learn's scorers call its ``predict`` /
    ``predict_proba`` / ``decision_function`` with the rows' positions (r, 1) in place of
    X, and get what ``LogisticRegression`` would give on those rows.

    Parameters
    ----------
    classes : ndarray (K,)
    z : ndarray (r,) for two classes, else (r, K)
    """

    def __init__(self, classes, z):
        self.classes = classes
        self.z = z

    @property
    def classes_(self):
        return self.classes

    def _z(self, X):
        return self.z[np.asarray(X)[:, 0]]

    def decision_function(self, X):
        return self._z(X)

    def predict_proba(self, X):
        return _predict.proba(self._z(X))

    def predict_log_proba(self, X):
        return _predict.log_proba(self._z(X))

    def predict(self, X):
        return _predict.labels(self._z(X), self.classes)


def model_scores(scorer, model, paths, folds, X, y, sample_weight):
    """scores (n_folds, n_l1, n_cs) of any scorer called per model on its fold's test rows
    of X (in memory), as scikit-learn's ``_log_reg_scoring_path`` calls it; ``model``: an
    unfitted ``LogisticRegression`` whose coefficients are set to each model's in turn."""
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    n, fit_intercept = X.shape[1], model.fit_intercept
    out = np.empty(paths.shape[:3])
    for i, (_, te) in enumerate(folds):
        kw = {} if sw is None else {"sample_weight": sw[te]}
        Xt, yt = X[te], y[te]
        for j in range(paths.shape[1]):
            for c in range(paths.shape[2]):
                w = paths[i, j, c]
                model.coef_ = w[:, :n]
                model.intercept_ = w[:, n] if fit_intercept else np.zeros(len(w))
                out[i, j, c] = scorer(model, Xt, yt, **kw)
    return out


def heldout_scores(scorer, paths, folds, heldout, y, sample_weight, classes):
    """scores (n_folds, n_l1, n_cs) of any scikit-learn scorer (``fold_scorer``'s) from
    the folds' held-out decision values (``heldout[i]``: (len(te), n_l1 n_cs k), the
    models in ``paths``' order), as ``_fold_scores`` gives them with X in memory."""
    F, L, nC, k, _ = paths.shape
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    out = np.empty((F, L, nC))
    for i, (_, te) in enumerate(folds):
        kw = {} if sw is None else {"sample_weight": sw[te]}
        rows = np.arange(len(te))[:, None]
        Z = np.asarray(heldout[i], dtype=np.float64)
        for j in range(L * nC):
            z = Z[:, j * k:(j + 1) * k]
            model = HeldOutModel(classes, z[:, 0] if k == 1 else z)
            out[i, j // nC, j % nC] = scorer(model, rows, y[te], **kw)
    return out


def metadata_router(est):
    """scikit-learn's ``LogisticRegressionCV`` routing for ``est``: ``fit``'s extra
    parameters go to the splitter's ``split`` (e.g. ``groups``); ``fit``'s and ``score``'s
    to the scorer (``est._get_scorer()``) where it requests them
    (``set_score_request(sample_weight=True)``)."""
    return (MetadataRouter(owner=est).add_self_request(est)
            .add(splitter=est.cv,
                 method_mapping=MethodMapping().add(caller="fit", callee="split"))
            .add(scorer=est._get_scorer(),
                 method_mapping=MethodMapping().add(caller="score", callee="score")
                 .add(caller="fit", callee="score")))


def routed_metadata(est, method, sample_weight, params):
    """``(parameters for the splitter's split, whether the scorer gets sample_weight)``
    of ``est.<method>(X, y, sample_weight, **params)`` by scikit-learn's rules: with
    metadata routing on, as routed; without it, extra parameters are scikit-learn's
    one-line error and the scorer gets the weights when there are any."""
    _raise_for_params(params, est, method)
    if not _routing_enabled():
        return {}, sample_weight is not None
    if sample_weight is not None:  # (None would be an unrouted argument of score)
        params = dict(params, sample_weight=sample_weight)
    routed = process_routing(est, method, **params)
    others = set(routed.scorer.score) - {"sample_weight"}
    if others:
        raise ValueError(f"{type(est).__name__}: the scorer requests {sorted(others)}; "
                         f"vlogreg passes only sample_weight to a scorer.")
    split = routed.splitter.split if method == "fit" else {}
    return split, routed.scorer.score.get("sample_weight") is not None
