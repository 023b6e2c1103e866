"""Second-order pieces every objective shares: weighted Gram matrices, the Hessian's
assembly in theta's layout, the SPD ridge of the Hessian bound, power iterations for the
Lipschitz constant."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from .._kernels.threads import blas_single_thread

#: rows per part of a threaded Gram matrix (``weighted_gram(n_threads=...)``): the parts
#: depend on the rows alone and are added in a fixed order, so the sum is the same for
#: any number of threads (the preconditioner, and with it the fit, does not depend on
#: ``n_jobs``)
GRAM_PART_ROWS = 8192


def weighted_gram(Xb, d, fit_intercept, dtype=None, n_threads=1):
    """``X~^T diag(d) X~`` for a block (dense or CSR, never densified), X~ = [X, 1].

    Dense Xb with ``d >= 0`` (every Hessian and its bound: ``s a (1 - a)``): the Gram
    matrix of ``R = sqrt(d) X`` by ``R^T R``, which NumPy hands to BLAS's syrk (half the
    multiply-adds of a general product, measured 2x faster at 32768 x 100); R is a
    copy of the part's rows in ``dtype`` (which gathers a strided view and converts
    float32 in the same cast), scaled in place.

    Parameters
    ----------
    Xb : ndarray (r, n) (any strides: a row subsample ``X[::step]`` is not copied
        first) or CSR matrix
    d : ndarray (r,)
    fit_intercept : bool
    dtype : numpy dtype, optional
        Of the products (default Xb's: float32 X's block products in float32, twice the
        flops per cycle, summed over blocks in float64); float64 for a preconditioner
        (see ``float64_rows``).
    n_threads : int
        Threads over parts of ``GRAM_PART_ROWS`` rows (dense Xb, ``d >= 0``), each with
        BLAS on one thread; the result does not depend on it.

    Returns
    -------
    ndarray (n + fit_intercept, n + fit_intercept), float64
    """
    if sp.issparse(Xb):
        G = (Xb.T @ Xb.multiply(d[:, None]).tocsr()).toarray()
        xd = np.asarray(Xb.T @ d).ravel()
        return bordered(G, xd, float(d.sum()), fit_intercept)
    dtype = Xb.dtype if dtype is None else np.dtype(dtype)
    if not np.all(d >= 0):  # (a multinomial Hessian's off-diagonal blocks)
        d_x = d.astype(dtype, copy=False)
        G = np.asarray(Xb.T @ (d_x[:, None] * Xb).astype(dtype, copy=False),
                       dtype=np.float64)
        xd = np.asarray(Xb.T @ d_x, dtype=np.float64)
        return bordered(G, xd, float(d.sum()), fit_intercept)
    r = np.sqrt(d).astype(dtype, copy=False)
    rows = Xb.shape[0]
    edges = list(range(0, max(rows, 1), GRAM_PART_ROWS)) + [rows]

    def part(i):
        lo, hi = edges[i], edges[i + 1]
        R = Xb[lo:hi].astype(dtype)  # gathered and converted by a plain cast loop,
        R *= r[lo:hi, None]  # then scaled in place: 10-25% faster than one multiply
        return np.asarray(R.T @ R, dtype=np.float64), np.asarray(R.T @ r[lo:hi],
                                                                 dtype=np.float64)

    n_parts = len(edges) - 1
    if n_threads > 1 and n_parts > 1:
        with blas_single_thread(), ThreadPoolExecutor(min(n_threads, n_parts)) as pool:
            parts = list(pool.map(part, range(n_parts)))
    else:
        parts = [part(i) for i in range(n_parts)]
    G, xd = parts[0]
    for Gi, xdi in parts[1:]:  # in part order: the same sum for any thread count
        G, xd = G + Gi, xd + xdi
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
