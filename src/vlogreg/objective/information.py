"""The sums behind inference, over one objective's rows, in ONE read of X.

With ``X~ = [X, 1]`` (intercept last, as in theta), weights ``s``, probabilities ``a``
and residuals ``r = y - a`` (one-hot ``Y - A`` for K classes), each row block adds

- the information ``X~^T diag(s a (1 - a)) X~`` per class pair
  (``X~^T diag(s (delta_kl a_k - a_k a_l)) X~`` for K classes), as (k, k, p1, p1);
- the sandwich's middle term: ``HC0`` ``sum_i s_i g_i g_i^T`` with the score
  ``g_i = x~_i r_i`` (per class pair, as above); ``cluster`` the per-group sums
  ``u_g = sum_{i in g} s_i g_i`` (n_groups, k, p1);
- the log-likelihood ``sum_i s_i log p(y_i | x_i)``, how many rows theta does not
  separate, and the weighted class counts ``sum_{i: y_i = c} s_i``.

The sums of an in-memory objective and of a chunked one (``objective.chunked``: each
chunk's objective, then the chunks' sums added) are the same sums, so
``vlogreg.inference`` assembles the covariances from either.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._math import sigmoid
from .secondorder import weighted_gram
from .separation import unseparated


def information_sums(objective, theta, cov_type="nonrobust", groups=None, n_groups=0):
    """``(H, meat, log_likelihood, n_unseparated, class_weights)`` at theta, one read.

    Parameters
    ----------
    objective : LogisticObjective
        In memory (its rows, labels, weights and row blocks are read).
    theta : ndarray (n_params,)
    cov_type : {"nonrobust", "HC0", "cluster"}
    groups : ndarray of int (m,), optional
        Cluster codes in ``0 .. n_groups - 1`` (``cov_type="cluster"``).

    Returns
    -------
    H : ndarray (k, k, p1, p1)
    meat : ndarray (k, k, p1, p1) for "HC0", (n_groups, k, p1) for "cluster", else 0.0
    log_likelihood : float
    n_unseparated : int
    class_weights : ndarray (n_classes,), the weighted count of each class
    """
    layout = objective.layout
    k, fi, p1 = layout.k, layout.fit_intercept, layout.p1
    multi = layout.multinomial
    c, b = objective._cast(*objective.unpack(theta))

    def block(Xb, rows):
        z = np.asarray(Xb @ c, dtype=np.float64) + b
        yi = np.asarray(objective.y[rows]).astype(np.intp)
        sb = np.ones(z.shape[0]) if objective.s is None else \
            objective.s[rows].astype(np.float64)
        if multi:
            zs = z - z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(zs).sum(axis=1))
            a = np.exp(zs - lse[:, None])
            idx = np.arange(z.shape[0])
            ll = float(sb @ (zs[idx, yi] - lse))
            r = -a
            r[idx, yi] += 1.0
        else:
            yb = yi.astype(np.float64)
            ll = -float(sb @ (np.logaddexp(0.0, z) - yb * z))
            a = sigmoid(z)[:, None]
            r = yb[:, None] - a
        H = np.empty((k, k, p1, p1))
        for i in range(k):
            for j in range(i, k):
                d = a[:, i] * (1.0 - a[:, i]) if not multi or i == j else \
                    -a[:, i] * a[:, j]
                H[i, j] = H[j, i] = weighted_gram(Xb, sb * d, fi)
        meat = 0.0
        if cov_type == "HC0":
            meat = np.empty((k, k, p1, p1))
            for i in range(k):
                for j in range(i, k):
                    meat[i, j] = meat[j, i] = weighted_gram(Xb, sb * r[:, i] * r[:, j], fi)
        elif cov_type == "cluster":
            meat = _group_scores(Xb, groups[rows], sb[:, None] * r, n_groups, fi)
        counts = np.bincount(yi, sb, layout.n_classes)
        return H, meat, ll, unseparated(z, objective.y[rows]), counts

    H, meat, ll, unsep, counts = objective.blocks.map_sum(block)
    return H, meat, float(ll), int(unsep), counts


def _group_scores(Xb, g, W, n_groups, fit_intercept):
    """``u_g = sum_{i in g} W_i x~_i`` per class: (n_groups, k, p1), X never densified."""
    mb, n = Xb.shape
    k = W.shape[1]
    out = np.zeros((n_groups, k, n + (1 if fit_intercept else 0)))
    for cl in range(k):
        # the rows' weighted sum per group as one sparse (groups x rows) product
        ind = sp.csr_matrix((W[:, cl], (g, np.arange(mb))), shape=(n_groups, mb))
        prod = ind @ Xb
        out[:, cl, :n] = prod.toarray() if sp.issparse(prod) else prod
        if fit_intercept:
            out[:, cl, n] = np.bincount(g, weights=W[:, cl], minlength=n_groups)
    return out
