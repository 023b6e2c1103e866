"""Standard errors, z-statistics, p-values and confidence intervals of a fitted model.

With ``X~ = [1, X]`` (m, p), weights ``s`` (class weights folded in, as in ``fit``) and
``a = sigmoid(X~ theta)``, the information is ``I = X~^T diag(s a (1 - a)) X~``:

- unpenalized binary fit (``kind="mle"``): ``cov = inv(I)``, as statsmodels' ``Logit``
  (``s`` are frequency weights, as in ``GLM(freq_weights=s)``);
- L2 fit (``kind="laplace-l2"``): ``C sum_i s_i loss_i + ||w||^2 / 2`` is C times the
  negative log posterior ``sum_i s_i loss_i + ||w||^2 / (2 C)`` under the prior
  ``w ~ N(0, C I)``, whose Laplace approximation is ``cov = inv(I + I_w / C)``
  (``I_w``: identity on the coefficients, 0 on the intercepts).
"""

from __future__ import annotations

import numbers
import textwrap
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.stats import norm
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._estimator import LogisticRegression
from ._labels import final_weights
from ._warnings import warn
from .backends.memory import check_X
from .objective.logistic import LogisticObjective

#: Bytes of one densified row block of X~ while the information matrix is built.
_DENSE_BLOCK_BYTES = 8 * 1024 * 1024
#: Smallest Cholesky pivot of the unit-diagonal information matrix taken as non-singular
#: (1 - R^2 of a parameter on the ones before it; 1e-10 inflates its std err 1e5 times).
_MIN_PIVOT = 1e-10


@dataclass(eq=False)
class Summary:
    """Inference table of a fitted ``LogisticRegression``; arrays have shape (p,).

    Attributes
    ----------
    names : ndarray of str
        ``"intercept"`` first (when fitted), then the features; for K >= 3 classes,
        ``"label:intercept"``, ``"label:feature"`` class by class.
    coef, std_err, z, p_value, ci_low, ci_high : ndarray of float64
        ``z = coef / std_err``, ``p_value = 2 norm.sf(|z|)``,
        ``ci = coef -+ norm.ppf(1 - alpha / 2) std_err``.
    cov : ndarray, shape (p, p)
        The covariance matrix the standard errors come from, in ``names`` order.
    kind : {"mle", "laplace-l2"}
    alpha : float
        The intervals have level ``1 - alpha``.
    n_obs : int
        Rows of X.
    sum_weights : float
        ``sum_i s_i`` (class weights included).
    log_likelihood : float
        ``sum_i s_i log p(y_i | x_i)`` at ``coef`` (never includes the penalty).
    note : str
        What the numbers mean, in words.
    """

    names: np.ndarray
    coef: np.ndarray
    std_err: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    cov: np.ndarray
    kind: str
    alpha: float
    n_obs: int
    sum_weights: float
    log_likelihood: float
    note: str

    def _columns(self):
        lo, hi = f"[{self.alpha / 2:g}", f"{1 - self.alpha / 2:g}]"
        return {"coef": self.coef, "std err": self.std_err, "z": self.z,
                "P>|z|": self.p_value, lo: self.ci_low, hi: self.ci_high}

    def to_frame(self):
        """The table as a pandas DataFrame indexed by ``names`` (statsmodels' columns)."""
        try:
            import pandas as pd
        except ImportError:  # pandas is optional for vlogreg, only this method needs it
            raise ImportError("Summary.to_frame() needs pandas; install it with `pip "
                              "install pandas`, or read the Summary's arrays.") from None
        return pd.DataFrame(self._columns(), index=pd.Index(list(self.names)))

    def __str__(self):
        cols = self._columns()
        w = max(12, max((len(str(n)) for n in self.names), default=0) + 2)
        width = w + 11 * len(cols)
        title = ("Logistic regression: maximum likelihood" if self.kind == "mle" else
                 "Logistic regression: Laplace approximation of the L2 fit")
        lines = [title.center(width), "=" * width,
                 f"No. observations: {self.n_obs}   Sum of weights: {self.sum_weights:.6g}"
                 f"   Log-likelihood: {self.log_likelihood:.6g}",
                 "=" * width, " " * w + "".join(f"{c:>11s}" for c in cols), "-" * width]
        for i, name in enumerate(self.names):
            p = self.p_value[i]
            cells = [_fmt(self.coef[i]), _fmt(self.std_err[i]), _fmt(self.z[i], 3),
                     f"{p:.3f}" if p >= 1e-3 else f"{p:.2e}", _fmt(self.ci_low[i], 3),
                     _fmt(self.ci_high[i], 3)]
            lines.append(f"{str(name):<{w}s}" + "".join(f"{c:>11s}" for c in cells))
        lines.append("=" * width)
        lines += textwrap.wrap("Note: " + self.note, width=max(width, 60))
        return "\n".join(lines)


def _fmt(v, digits=4):
    # fixed point where it is readable, else scientific: 1e-7 must not print as 0.0000
    if v == 0 or (1e-3 <= abs(v) < 1e5) or not np.isfinite(v):
        return f"{v:.{digits}f}"
    return f"{v:.3e}"


def summary(model, X, y, sample_weight=None, *, alpha=0.05) -> Summary:
    """Standard errors, z, p-values and ``1 - alpha`` intervals of a fitted model.

    Parameters
    ----------
    model : vlogreg.LogisticRegression, fitted
        ``penalty=None`` (or ``C=inf``) for two classes, or an L2 penalty.
    X : array_like or sparse matrix, shape (m, n)
        The data the model was fitted on (the information is evaluated there).
    y : array_like, shape (m,)
        Labels, among ``model.classes_``.
    sample_weight : array_like, shape (m,), optional
        The weights given to ``fit``; ``model.class_weight`` is multiplied in.
    alpha : float in (0, 1), default 0.05
        Intervals have level ``1 - alpha``.

    Returns
    -------
    Summary
        ``kind="mle"``: ``cov = inv(X~^T diag(s a (1-a)) X~)``.
        ``kind="laplace-l2"``: ``cov = inv(X~^T D X~ + I_w / C)``, D the per-example
        Hessian blocks (``s a (1-a)``, or ``s (diag(a) - a a^T)`` for K classes).

    Raises
    ------
    ValueError
        L1 / elastic-net fits, unpenalized multiclass fits, separable data, a singular
        information matrix (collinear columns), or inputs that do not match the model.
    """
    X, y_idx, sw = _check_inputs(model, X, y, sample_weight)
    if not (isinstance(alpha, numbers.Real) and 0 < alpha < 1):
        raise ValueError(f"alpha={alpha!r} is not valid; use a number in (0, 1), e.g. 0.05 "
                         f"for 95% intervals.")
    K = len(model.classes_)
    S = float(sw.sum())
    # the estimator's own mapping from (penalty, C, l1_ratio) to the mean objective's
    # strengths, so that inference always describes the objective fit() minimised
    l2_mean, l1_mean = model._fit_spec().strengths(S)
    if l1_mean > 0:
        raise ValueError(f"the penalty ({model._fit_spec().penalty!r}, l1_ratio="
                         f"{model.l1_ratio!r}) has an L1 part: there are no valid standard "
                         f"errors for a lasso fit; refit with C=np.inf on the selected "
                         f"features (coef_ != 0) and summarise that model.")
    if K > 2 and l2_mean == 0:
        raise ValueError("An unpenalized multinomial fit is not identifiable (one vector "
                         "added to every class's coefficients changes nothing); use "
                         "statsmodels' MNLogit, or fit with penalty='l2'.")
    # alpha=0: the objective gives the data term alone; the prior is added below
    objective = LogisticObjective(X, y_idx, sw, alpha=0.0, n_classes=K,
                                  fit_intercept=model.fit_intercept,
                                  block_bytes=_block_bytes(X))
    theta = objective.layout.from_attributes(*model._numpy_attributes())
    if l2_mean == 0 and objective.separates(theta):
        raise ValueError("The data are perfectly separable: the log-likelihood has no "
                         "finite maximum, so there are no standard errors; fit with "
                         "penalty='l2' (any finite C), or drop the separating feature(s).")
    if not getattr(model, "converged_", True):
        warn("The model did not converge, so the standard errors are evaluated away from "
             "the optimum; refit with a larger max_iter.")
    # objective.hessian is that of the MEAN loss (1/S) sum s_i loss_i: times S it is
    # the information X~^T D X~ of the log-likelihood
    info = S * objective.hessian(theta)
    prior_precision = l2_mean * S  # (1 - l1_ratio) / C: the 1/C of w ~ N(0, C I)
    w_idx = np.flatnonzero(objective.penalized_mask())
    info[w_idx, w_idx] += prior_precision  # the diagonal, coefficients only
    order, names = _layout(model, objective)
    names_theta = np.empty_like(names)
    names_theta[order] = names

    null = None
    if objective.multinomial and objective.fit_intercept:
        # softmax is flat along "add c to every intercept" (the intercepts are not
        # penalized): u spans the null space of info; the fit reports centred
        # intercepts, i.e. u^T theta = 0, and under that constraint cov = pinv(info)
        null = np.zeros(objective.n_params)
        null[objective.n_coef:] = 1.0 / np.sqrt(K)
    cov_theta = _inverse(info, names_theta, null)

    est = theta[order]
    cov = cov_theta[np.ix_(order, order)]
    std_err = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    z = est / std_err  # std_err > 0: cov passed the Cholesky pivot test
    p_value = 2.0 * norm.sf(np.abs(z))
    q = norm.ppf(1.0 - alpha / 2.0)
    log_lik = -S * objective.value(theta)
    kind, note = "mle", ("maximum likelihood; cov = inv(X~^T diag(s a (1-a)) X~), weights "
                         "as frequency weights; z, p-values and intervals are asymptotic.")
    if prior_precision > 0:
        kind, note = "laplace-l2", (
            f"penalized L2 fit (C={model.C:g}): Bayesian posterior-approximation (Laplace) "
            f"standard errors under the Gaussian prior w ~ N(0, {1 / prior_precision:g} I) "
            f"implied by C, cov = inv(X~^T D X~ + I_w / C); NOT frequentist MLE standard "
            f"errors. The coefficients are shrunk towards 0; p-values are approximate.")
        if null is not None:
            note += (" The intercepts are reported centred (softmax ignores a common shift) "
                     "and their standard errors hold under that sum-to-zero constraint.")
    return Summary(names=names, coef=est, std_err=std_err, z=z, p_value=p_value,
                   ci_low=est - q * std_err, ci_high=est + q * std_err, cov=cov,
                   kind=kind, alpha=float(alpha),
                   n_obs=int(X.shape[0]), sum_weights=S, log_likelihood=float(log_lik),
                   note=note)


def _check_inputs(model, X, y, sample_weight):
    """Validated ``(X, y as class indices, weights with class_weight folded in)``."""
    if not isinstance(model, LogisticRegression):
        raise TypeError(f"summary() takes a vlogreg.LogisticRegression, got "
                        f"{type(model).__name__}; fit one with vlogreg.LogisticRegression.")
    check_is_fitted(model, msg="This LogisticRegression is not fitted yet; call "
                               "model.fit(X, y) before summary(model, X, y).")
    n = model.n_features_in_
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    if len(shape) != 2 or shape[1] != n:
        raise ValueError(f"X has shape {tuple(shape)}, but the model was fitted on {n} "
                         f"features; pass the (m, {n}) data the model was fitted on.")
    # the same conversion and checks as predict(): dtype, sparse format, NaN/inf, names
    X = check_X(X, model)
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


def _layout(model, objective):
    """Table order as indices into ``theta`` (coef feature-major over K, then the
    intercepts), and the names in that order: per class, the intercept, the features."""
    feats = getattr(model, "feature_names_in_", None)
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


def _inverse(H, names, null=None):
    """``inv(H)`` by Cholesky, or ``pinv(H)`` when ``null`` (unit) spans H's null space.

    H is scaled to unit diagonal first, so that the singularity test does not depend on
    the features' units; ``inv(H + u u^T) - u u^T = pinv(H)`` when ``H u = 0``, ``|u| = 1``.
    """
    if null is not None:
        H = H + np.outer(null, null)
    d = np.sqrt(np.diag(H))
    d[~(d > 0)] = 1.0  # an all-zero column: its zero pivot is reported below by name
    Hs = H / d[:, None] / d[None, :]
    try:
        c = sla.cho_factor(Hs, lower=True, check_finite=False)
        ok = np.min(np.diag(c[0])) ** 2 > _MIN_PIVOT
    except sla.LinAlgError:
        ok = False
    if not ok:
        # the eigenvector of the smallest eigenvalue says which parameters are tied
        lam, V = np.linalg.eigh(Hs)
        v = V[:, 0]
        tied = [names[i] for i in np.argsort(-np.abs(v)) if abs(v[i]) > 0.1][:6]
        raise ValueError(
            f"The information matrix is singular (smallest scaled eigenvalue {lam[0]:.1e}): "
            f"{', '.join(map(repr, tied))} are (nearly) collinear (or all-zero), or the "
            f"data are quasi-separable; drop or combine those columns, or fit with "
            f"penalty='l2'.")
    cov = sla.cho_solve(c, np.eye(len(d)), check_finite=False)
    cov = cov / d[:, None] / d[None, :]
    if null is not None:
        cov -= np.outer(null, null)
    return (cov + cov.T) / 2.0
