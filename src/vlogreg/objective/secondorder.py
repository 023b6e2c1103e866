"""Second-order pieces every objective shares: weighted Gram matrices, the Hessian's
assembly in theta's layout, the SPD ridge of the Hessian bound, power iterations for the
Lipschitz constant."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def weighted_gram(Xb, d, fit_intercept):
    """``X~^T diag(d) X~`` for a block (dense or CSR, never densified), X~ = [X, 1]."""
    if sp.issparse(Xb):
        G = (Xb.T @ Xb.multiply(d[:, None]).tocsr()).toarray()
        xd = np.asarray(Xb.T @ d).ravel()
    else:
        # float32 X: the block's products in float32 (twice the flops per cycle),
        # summed over blocks in float64
        d_x = d.astype(Xb.dtype, copy=False)
        G = np.asarray(Xb.T @ (d_x[:, None] * Xb), dtype=np.float64)
        xd = np.asarray(Xb.T @ d_x, dtype=np.float64)
    return bordered(G, xd, float(d.sum()), fit_intercept)


def float64_rows(Xs):
    """A row subsample in float64, for the preconditioner's Gram matrix: a float32 Gram
    (relative rounding ~1e-7 on every entry) moves the near-zero eigenvalues of
    collinear columns by orders of magnitude, and with them the whitened coordinates
    L-BFGS runs in (float32 fits then took 9 iterations where float64 took 7). The
    subsample is small (<= 32768 rows): its copy costs a fraction of one read of X."""
    if sp.issparse(Xs):
        return Xs if Xs.dtype == np.float64 else Xs.astype(np.float64)
    return np.asarray(Xs, dtype=np.float64)


def bordered(G, xd, dsum, fit_intercept):
    """``X~^T diag(d) X~`` (n+1, n+1) from ``G = X^T diag(d) X``, ``xd = X^T d`` and
    ``dsum = sum(d)``: the intercept's row and column; ``G`` alone without intercept."""
    if not fit_intercept:
        return G
    n = G.shape[0]
    out = np.empty((n + 1, n + 1))
    out[:n, :n] = G
    out[:n, n] = out[n, :n] = xd
    out[n, n] = dsum
    return out


def assemble_hessian(blocks, layout, alpha):
    """The Hessian in theta's layout from its class blocks ``(k, k, p1, p1)``.

    Block (i, j) lands on the rows of class i's and the columns of class j's
    parameters (``layout.class_index()``); ``alpha`` on the coef diagonal. Shared by
    every backend's ``hessian``.
    """
    idx = layout.class_index()
    H = np.zeros((layout.n_params, layout.n_params))
    for i in range(layout.k):
        for j in range(layout.k):
            H[np.ix_(idx[i], idx[j])] = blocks[i, j]
    H[np.arange(layout.n_coef), np.arange(layout.n_coef)] += alpha
    return H


def spd_ridge(P):
    """The Hessian bound ``P`` kept SPD for duplicated or constant columns.

    Dense P (in place): a ridge of 1e-10 of each diagonal entry, which, unlike one from
    the mean diagonal, never swamps a column of tiny scale (columns scaled 1e12 and
    1e-12 differ by 1e48 there); an all-zero column gets 1e-10 of the mean. Diagonal
    P: the floor 1e-10 of its mean.
    """
    if P.ndim == 2:
        dg = np.diag(P).copy()
        P[np.diag_indices(P.shape[0])] += 1e-10 * np.where(dg > 0, dg,
                                                           max(dg.mean(), 1e-300))
        return P
    return np.maximum(P, 1e-10 * max(P.mean(), 1e-300))


def power_lipschitz(gram_vec, p1, multinomial, alpha, n_iter=8, seed=0):
    """``factor * lambda_max + alpha`` by ``n_iter`` power iterations of ``gram_vec``.

    ``gram_vec(v)`` is ``X~^T diag(s) X~ v / S`` for v of length ``p1``; every backend
    (in memory, chunked, array API) supplies its own and shares these iterations, so
    they all take the same first step.
    """
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(p1)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(n_iter):
        w = gram_vec(v)
        lam = float(np.linalg.norm(w))
        if lam == 0.0:
            break
        v = w / lam
    return (0.5 if multinomial else 0.25) * lam + alpha
