"""``summary``: standard errors, tests and model statistics of a fitted model.

With ``X~ = [1, X]`` (m, p), weights ``s`` (class weights folded in, as in ``fit``) and
``a = sigmoid(X~ theta)``, the information is ``I = X~^T diag(s a (1 - a)) X~``:

- unpenalized binary fit (``kind="mle"``): ``cov = inv(I)``, as statsmodels' ``Logit``
  (``s`` are frequency weights, as in ``GLM(freq_weights=s)``); K >= 3 classes: the
  parameters of classes 2..K against the first, as statsmodels' ``MNLogit``;
- L2 fit (``kind="laplace-l2"``): ``C sum_i s_i loss_i + ||w||^2 / 2`` is C times the
  negative log posterior ``sum_i s_i loss_i + ||w||^2 / (2 C)`` under the prior
  ``w ~ N(0, C I)``, whose Laplace approximation is ``cov = inv(I + I_w / C)``
  (``I_w``: identity on the coefficients, 0 on the intercepts; ``diag(sigma_j^2)``
  on them for a ``standardize=True`` fit, whose penalty is on ``sigma_j w_j``).

``cov_type="HC0"`` / ``"cluster"`` replace ``inv(I)`` by the sandwich
``inv(I) B inv(I)`` (``_covariance``); the information, ``B``, the log-likelihood and
the separation test come from ONE read of X.
"""

from __future__ import annotations

import numbers
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from scipy.stats import norm
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._arrays import to_numpy
from .._estimator import LogisticRegression
from .._labels import final_weights
from .._names import COV_TYPES
from .._scaling import column_scales
from .._warnings import warn
from ..backends import array_api, backend_for, memory
from ..objective.logistic import LogisticObjective
from ._covariance import inverse, one_pass, sandwich
from ._modeltests import model_statistics
from ._table import Summary

#: Bytes of one densified row block of X~ while the information matrix is built.
_DENSE_BLOCK_BYTES = 8 * 1024 * 1024


def summary(model, X, y, sample_weight=None, *, cov_type="nonrobust", groups=None,
            alpha=0.05, feature_names=None) -> Summary:
    """Standard errors, z, p-values, intervals, odds ratios and model tests of a fit.

    Parameters
    ----------
    model : vlogreg.LogisticRegression, fitted
        ``penalty=None`` (or ``C=inf``), or an L2 penalty.
    X : array_like or sparse matrix, shape (m, n)
        The data the model was fitted on (the information is evaluated there).
    y : array_like, shape (m,)
        Labels, among ``model.classes_``.
    sample_weight : array_like, shape (m,), optional
        The weights given to ``fit`` (frequency weights); ``model.class_weight`` is
        multiplied in.
    cov_type : {"nonrobust", "HC0", "cluster"}, default "nonrobust"
        ``inv(I)``; the sandwich ``inv(I) B inv(I)`` with ``B = sum_i s_i g_i g_i^T``
        (``g_i`` the score of row i); or with ``B = sum_g u_g u_g^T``,
        ``u_g = sum_{i in g} s_i g_i`` times ``G / (G - 1) (N - 1) / (N - q)``: what
        statsmodels' ``Logit(...).fit(cov_type=...)`` computes by default.
    groups : array_like, shape (m,), optional
        Cluster labels (any hashable values), for ``cov_type="cluster"``.
    alpha : float in (0, 1), default 0.05
        Intervals have level ``1 - alpha``.
    feature_names : sequence of str, optional
        Names of X's columns when the model has none (``feature_names_in_``).

    Returns
    -------
    Summary
        The table (coef, std_err, z, p_value, ci, odds_ratio and its ci) and the model
        statistics (log-likelihood, null log-likelihood, pseudo R-squared, the LR test
        against the intercept-only model, AIC, BIC, degrees of freedom).

    Raises
    ------
    ValueError
        L1 / elastic-net fits, separable data, a singular information matrix (collinear
        columns, named), bad groups, or inputs that do not match the model.
    """
    _check_model(model)
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 1):
        raise ValueError(f"alpha={alpha!r} is not valid; use a number in (0, 1), e.g. 0.05 "
                         f"for 95% intervals.")
    spec = model._fit_spec()
    if spec.penalty in ("l1", "elasticnet") and (spec.penalty == "l1" or spec.l1_ratio > 0) \
            and not np.isinf(spec.C):
        raise ValueError(f"the penalty ({spec.penalty!r}, l1_ratio={model.l1_ratio!r}) "
                         f"has an L1 part: there are no valid standard errors for a lasso "
                         f"fit; refit with C=np.inf on the selected features (coef_ != 0) "
                         f"and summarise that model.")
    K = len(model.classes_)
    backend = backend_for(X)
    if backend is array_api:  # torch, CuPy: the (m, p) sums are NumPy's anyway
        X, y = to_numpy(X), None if y is None else to_numpy(y)
        sample_weight = None if sample_weight is None else to_numpy(sample_weight)
        backend = memory
    if backend is memory:
        X, y_idx, sw = _check_inputs(model, X, y, sample_weight)
        codes, n_groups = _check_groups(cov_type, groups, X.shape[0])
        # alpha=0: the objective gives the data term alone; the prior is added below
        objective = LogisticObjective(X, y_idx, sw, alpha=0.0, n_classes=K,
                                      fit_intercept=model.fit_intercept,
                                      block_bytes=_block_bytes(X))
        S, n_obs = float(sw.sum()), int(X.shape[0])

        def scales():
            return column_scales(X, sample_weight, model.fit_intercept).scale
    else:  # Dask, a file on disk, an array-API array: their backend reads the chunks
        codes, n_groups = _check_groups_elsewhere(cov_type, groups)
        objective, sigma = _chunked_objective(model, X, y, sample_weight)
        S, n_obs = float(objective.S), int(objective.m)

        def scales():
            return sigma
    # the estimator's own mapping from (penalty, C, l1_ratio) to the mean objective's
    # strengths, so that inference always describes the objective fit() minimised
    l2_mean, _ = spec.strengths(S)
    theta = objective.layout.from_attributes(*model._numpy_attributes())
    res = one_pass(objective, theta, cov_type, codes, n_groups)
    if l2_mean == 0 and res.n_unseparated == 0:
        raise ValueError("The data are perfectly separable: the log-likelihood has no "
                         "finite maximum, so there are no standard errors; fit with "
                         "penalty='l2' (any finite C), or drop the separating feature(s).")
    if not getattr(model, "converged_", True):
        warn("The model did not converge, so the standard errors are evaluated away from "
             "the optimum; refit with a larger max_iter.")
    info = res.info
    # the prior's precision on each coefficient: (1 - l1_ratio) / C, times sigma_j^2 when
    # the penalty was on the standardized coefficients sigma_j w_j
    prior = l2_mean * S
    if prior > 0 and getattr(model, "standardize", False):
        prior = prior * np.repeat(scales() ** 2, objective.k)  # theta: feature-major
    w_idx = np.flatnonzero(objective.penalized_mask())
    info[w_idx, w_idx] += prior  # the diagonal, coefficients only
    reference = objective.multinomial and l2_mean == 0  # MNLogit's parametrisation
    order, names = _layout(model, objective, feature_names, reference)
    est = theta[order]
    if reference:  # classes 2..K against the first: their differences
        est = est - np.tile(theta[order[:objective.layout.p1]], K)
        order, names, est = (order[objective.layout.p1:], names[objective.layout.p1:],
                             est[objective.layout.p1:])
    A = info[np.ix_(order, order)]

    null = None
    if objective.multinomial and objective.fit_intercept and not reference:
        # softmax is flat along "add c to every intercept" (the intercepts are not
        # penalized): u spans the null space of info; the fit reports centred
        # intercepts, i.e. u^T theta = 0, and under that constraint cov = pinv(info)
        null = np.zeros(len(order))
        null[:: objective.layout.p1] = 1.0 / np.sqrt(K)
    n_params = len(order) - (null is not None)
    cov = inverse(A, names, null)
    if cov_type != "nonrobust":
        cov = sandwich(cov, res.meat[np.ix_(order, order)], cov_type, n_obs=S,
                       n_params=len(order), n_groups=n_groups)
    std_err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    z = est / std_err  # std_err > 0: cov passed the Cholesky pivot test
    p_value = 2.0 * norm.sf(np.abs(z))
    q = norm.ppf(1.0 - alpha / 2.0)
    stats = model_statistics(res.log_likelihood, res.class_weights, n_params, K)
    kind, note = "mle", ("maximum likelihood; information I = X~^T diag(s a (1-a)) X~, "
                         "weights as frequency weights; z, p-values and intervals are "
                         "asymptotic.")
    if reference:
        note += (f" Classes {', '.join(map(str, model.classes_[1:]))} against "
                 f"{model.classes_[0]!s} (statsmodels' MNLogit).")
    if np.any(prior > 0):
        kind, note = "laplace-l2", (
            f"penalized L2 fit (C={model.C:g}): Bayesian posterior-approximation (Laplace) "
            f"standard errors under the Gaussian prior w ~ N(0, {1 / (l2_mean * S):g} I) "
            f"implied by C, cov = inv(X~^T D X~ + I_w / C); NOT frequentist MLE standard "
            f"errors. The coefficients are shrunk towards 0; p-values, the LR test, AIC "
            f"and BIC are approximate.")
        if getattr(model, "standardize", False):
            note += (" standardize=True: the prior is on the standardized coefficients "
                     "sigma_j w_j, i.e. I_w = diag(sigma_j^2).")
        if null is not None:
            note += (" The intercepts are reported centred (softmax ignores a common shift) "
                     "and their standard errors hold under that sum-to-zero constraint.")
    if cov_type == "nonrobust" and kind == "mle":
        note += " Covariance: inv(I)."
    else:
        note += f" Covariance: {cov_type} sandwich inv(I) B inv(I)" + (
            f" over {n_groups} clusters, times G/(G-1) (N-1)/(N-q)." if n_groups else ".")
    return Summary(names=names, coef=est, std_err=std_err, z=z, p_value=p_value,
                   ci_low=est - q * std_err, ci_high=est + q * std_err, cov=cov,
                   kind=kind, alpha=float(alpha),
                   n_obs=n_obs, sum_weights=S,
                   log_likelihood=res.log_likelihood, note=note, cov_type=cov_type,
                   n_groups=n_groups or None, **stats)


def _check_groups(cov_type, groups, m):
    """``(codes 0..G-1 of shape (m,), G)`` for clusters; ``(None, 0)`` otherwise."""
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type={cov_type!r} is not valid; use one of "
                         f"{', '.join(map(repr, COV_TYPES))}.")
    if cov_type != "cluster":
        if groups is not None:
            raise ValueError(f"groups are only used with cov_type='cluster' (got "
                             f"cov_type={cov_type!r}); pass cov_type='cluster' or drop groups.")
        return None, 0
    if groups is None:
        raise ValueError("cov_type='cluster' needs groups: one cluster label per row of X.")
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != m:
        raise ValueError(f"groups has shape {groups.shape}, but X has {m} rows; pass one "
                         f"cluster label per row.")
    try:
        _, codes = np.unique(groups, return_inverse=True)
    except TypeError:
        raise ValueError("groups mixes labels of different types; convert them to one "
                         "type (e.g. str).") from None
    n_groups = int(codes.max()) + 1 if m else 0
    if n_groups < 2:
        raise ValueError(f"groups holds {n_groups} cluster(s); cluster-robust standard "
                         f"errors need at least 2 (in practice dozens).")
    return codes.ravel().astype(np.intp), n_groups


def _check_model(model):
    if not isinstance(model, LogisticRegression):
        raise TypeError(f"summary() takes a vlogreg.LogisticRegression, got "
                        f"{type(model).__name__}; fit one with vlogreg.LogisticRegression.")
    check_is_fitted(model, msg="This LogisticRegression is not fitted yet; call "
                               "model.fit(X, y) before summary(model, X, y).")


def _check_groups_elsewhere(cov_type, groups):
    """``(None, 0)``: clusters need X in memory (their codes would travel with X)."""
    if cov_type == "cluster" or groups is not None:
        raise ValueError("cov_type='cluster' needs X in memory (a NumPy array, DataFrame "
                         "or sparse matrix); for X on Dask or on disk use cov_type='HC0' "
                         "or 'nonrobust'.")
    return None, 0


def _chunked_objective(model, X, y, sample_weight):
    """``(objective, sigma)`` for X that is not in memory: the objective of the data
    term alone (``alpha=0``) over X's chunks, built by X's backend exactly as ``fit``
    built it (the same checks, labels, class and sample weights, column scales), and
    the column scales ``sigma`` of a ``standardize=True`` fit (else None)."""
    n = model.n_features_in_
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 2 or shape[1] != n:
        raise ValueError(f"X has shape {shape}, but the model was fitted on {n} features; "
                         f"pass the (m, {n}) data the model was fitted on.")
    spec = replace(model._fit_spec(), penalty=None, C=np.inf, l1_ratio=None,
                   estimator="summary")
    data = backend_for(X).prepare(X, y, sample_weight, spec)
    classes = np.asarray(model.classes_)
    if len(data.classes) != len(classes) or np.any(data.classes != classes):
        raise ValueError(f"y holds the classes {data.classes.tolist()}, but the model was "
                         f"fitted on {classes.tolist()}; pass the labels used in fit.")
    names = getattr(model, "feature_names_in_", None)
    if names is not None and data.feature_names is not None and \
            list(data.feature_names) != list(names):
        raise ValueError(f"X's columns {list(data.feature_names)} differ from those seen in "
                         f"fit; pass X[{list(names)}].")
    objective, sigma = data.objective, None
    if hasattr(objective, "inner"):  # standardized: the raw data's objective inside
        objective, sigma = objective.inner, objective.scale
    if not hasattr(objective, "information"):
        raise TypeError(f"summary() cannot read X of type {type(X).__name__} in chunks; "
                        f"pass a NumPy array, a DataFrame, a sparse matrix, a dask array "
                        f"or a file opened with vlogreg.data.open_source.")
    return objective, sigma


def _check_inputs(model, X, y, sample_weight):
    """Validated ``(X, y as class indices, weights with class_weight folded in)``."""
    # the model's shape, and the same conversion and checks as predict(): dtype, sparse
    # format, NaN/inf, names (a model trained by the command line encodes a table)
    X = model._inference_X(X)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y has shape {y.shape}, but X has {X.shape[0]} rows; pass one "
                         f"label per row of X, as a 1-D array (y.ravel()).")
    classes = model.classes_
    try:  # classes_ is sorted (np.unique in fit)
        y_idx = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        known = classes[y_idx] == y
    except TypeError:  # labels of another type than classes_ (e.g. str vs int)
        y_idx, known = np.zeros(len(y), dtype=np.intp), np.zeros(len(y), dtype=bool)
    if not np.all(known):
        i = int(np.flatnonzero(~known)[0])
        raise ValueError(f"y[{i}] = {y[i:i + 1].tolist()[0]!r} is not one of the classes "
                         f"the model was fitted on ({classes.tolist()}); pass the labels "
                         f"used in fit.")
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    y_idx = y_idx.astype(np.intp)
    # the weights' checks and the class weights folded in exactly as fit() does
    return X, y_idx, final_weights(sw, model.class_weight, classes, y_idx)


def _block_bytes(X):
    """``block_bytes`` giving densified row blocks of ~_DENSE_BLOCK_BYTES.

    ``objective.hessian`` densifies one row block at a time, and RowBlocks sizes blocks
    by the bytes of X itself: for a sparse X that would densify far more rows.
    """
    m, n = X.shape
    nbytes = (X.data.nbytes + X.indices.nbytes) if sp.issparse(X) else X.nbytes
    row_bytes = max(1, nbytes // max(m, 1))
    rows = max(1, _DENSE_BLOCK_BYTES // (8 * (n + 1)))
    return rows * row_bytes


def _layout(model, objective, feature_names=None, reference=False):
    """Table order as indices into ``theta`` (coef feature-major over K, then the
    intercepts), and the names in that order: per class, the intercept, the features
    (``reference``: the first class's block is then dropped by the caller)."""
    feats = getattr(model, "feature_names_in_", None)
    if feats is None and feature_names is not None:
        feats = list(feature_names)
        if len(feats) != objective.n:
            raise ValueError(f"feature_names has {len(feats)} names for {objective.n} "
                             f"features; pass one name per column of X.")
    feats = [f"x{j}" for j in range(objective.n)] if feats is None else list(map(str, feats))
    prefixes = [f"{c}:" for c in model.classes_] if objective.multinomial else [""]
    idx = objective.layout.class_index()  # per class: the features, then the intercept
    order, names = [], []
    for c, pre in enumerate(prefixes):
        if objective.fit_intercept:
            order.append(idx[c, objective.n])
            names.append(pre + "intercept")
        order += list(idx[c, :objective.n])
        names += [pre + f for f in feats]
    return np.asarray(order, dtype=np.intp), np.asarray(names, dtype=object)
