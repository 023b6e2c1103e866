"""One read of X for inference, and the covariance matrices made from it.

With ``X~ = [X, 1]`` (intercept last, as in theta), weights ``s`` (frequency weights),
probabilities ``a`` and residuals ``r = y - a`` (one-hot ``Y - A`` for K classes), one
pass over X's row blocks or chunks (``objective.information``) accumulates

- the information ``I = X~^T diag(s a (1 - a)) X~`` (per class pair
  ``X~^T diag(s (delta_kl a_k - a_k a_l)) X~``);
- the sandwich's middle term ``B``: ``HC0`` ``sum_i s_i g_i g_i^T`` with the score
  ``g_i = x~_i r_i`` (``x~_i (x) r_i`` for K classes); ``cluster``
  ``sum_g u_g u_g^T`` with ``u_g = sum_{i in g} s_i g_i``;
- the log-likelihood ``sum_i s_i log p(y_i | x_i)`` and how many rows theta does not
  separate (the separation test).

The covariances are then ``inv(I)`` (nonrobust) and ``inv(I) B inv(I)``, with
statsmodels' default small-sample factor ``G / (G - 1) (N - 1) / (N - q)`` for clusters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from ..objective.information import information_sums
from ..objective.secondorder import assemble_hessian

#: Smallest Cholesky pivot of the unit-diagonal information matrix taken as non-singular
#: (1 - R^2 of a parameter on the ones before it; 1e-10 inflates its std err 1e5 times).
MIN_PIVOT = 1e-10


@dataclass
class Pass:
    """What the one read of X gives (sums over examples, theta's layout)."""

    info: np.ndarray          # (p, p): X~^T D X~ (the log-likelihood's, not the mean's)
    meat: np.ndarray | None   # (p, p): B, or None for cov_type="nonrobust"
    log_likelihood: float
    n_unseparated: int
    class_weights: np.ndarray  # (n_classes,): sum of s over each class's rows


def one_pass(objective, theta, cov_type="nonrobust", groups=None, n_groups=0):
    """Information, middle term, log-likelihood and separation at theta, ONE read of X.

    Parameters
    ----------
    objective : LogisticObjective or ChunkedObjective
        Built with ``alpha=0``: in memory (``objective.information.information_sums``
        over its row blocks), or over row chunks (its ``information``: the same sums,
        chunk by chunk, in one pass; ``cov_type="cluster"`` needs X in memory).
    theta : ndarray (n_params,)
    cov_type : {"nonrobust", "HC0", "cluster"}
    groups : ndarray of int (m,), optional
        Cluster codes in ``0 .. n_groups - 1`` (``cov_type="cluster"``).
    """
    layout = objective.layout
    k = layout.k
    if hasattr(objective, "information"):
        H, meat, ll, unsep, counts = objective.information(theta, cov_type)
    else:
        H, meat, ll, unsep, counts = information_sums(objective, theta, cov_type, groups,
                                                      n_groups)
    info = assemble_hessian(H, layout, 0.0)
    if cov_type == "HC0":
        meat = assemble_hessian(meat, layout, 0.0)
    elif cov_type == "cluster":
        U = np.zeros((n_groups, layout.n_params))
        idx = layout.class_index()
        for cl in range(k):
            U[:, idx[cl]] = meat[:, cl, :]
        meat = U.T @ U
    else:
        meat = None
    return Pass(info, meat, float(ll), int(unsep), np.asarray(counts, dtype=np.float64))


def inverse(H, names, null=None):
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
        ok = np.min(np.diag(c[0])) ** 2 > MIN_PIVOT
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


def sandwich(bread, meat, cov_type, *, n_obs, n_params, n_groups=None):
    """``bread B bread`` with statsmodels' default corrections.

    ``HC0``: none. ``cluster``: ``G / (G - 1) * (N - 1) / (N - q)``, as
    ``statsmodels.stats.sandwich_covariance.cov_cluster(use_correction=True)``, the
    default of ``Logit(...).fit(cov_type="cluster")``.
    """
    cov = bread @ meat @ bread
    if cov_type == "cluster":
        G = n_groups
        cov *= G / (G - 1.0) * (n_obs - 1.0) / (n_obs - n_params)
    return (cov + cov.T) / 2.0
