"""The row functions of the K-column kernel (``numba_kcol``): from a block's decision
values ``zb`` (K, nb) to its ``dz`` (K, nb) and loss terms, vectorized over the rows;
and ``softmax_groups``, the softmax of one row's z (K,) for the CSR kernel
(``numba_kcol_csr.kcol_csr``, ``numba_softmax_csr``), vectorized over the classes.

Both write ``dzb[k, i] = w_ik (a_ik - y_ik)`` (in X's dtype, for the block's second
product), add ``sum_i dzb[k, i]`` to ``gacc[k]`` in float64, and sum the loss terms
``w_ik loss_ik`` in float64.
"""

from __future__ import annotations

import math

from numba import njit

from .numba_common import _elementwise, exp_neg32, exp_neg64

SOFTMAX = 0   # one multinomial model over K classes
BATCHED = 1   # K binary models, model k on the rows with fold != exclude[k]
BINARY = 2    # one binary model on every row (K = 1): numba_binary's C-order kernel


@njit(inline="always", fastmath={"contract"})
def binary_rows(zb, nb, y, sw, g0, eb, dz64, dzb, gacc, single):
    """One binary model (K = 1) on rows ``g0 .. g0 + nb``: ``dzb[0, :nb]`` and
    ``gacc[0] += sum dz``; returns ``sum s_i loss_i`` (``numba_common._elementwise``)."""
    loss = _elementwise(zb[0], y[g0:g0 + nb], sw[g0:g0 + nb], nb, eb, dz64, single)
    g = 0.0
    for i in range(nb):
        dzb[0, i] = dz64[i]
        g += dz64[i]
    gacc[0] += g
    return loss


@njit(inline="always", fastmath={"contract"})
def _exp_rows(zk, zmax, ek, norm, nb, single):
    """``ek = exp(zk - zmax)``, ``norm += ek`` (every argument <= 0)."""
    if single:
        for i in range(nb):
            e = exp_neg32(zk[i] - zmax[i])
            ek[i] = e
            norm[i] += e
    else:
        for i in range(nb):
            e = exp_neg64(zk[i] - zmax[i])
            ek[i] = e
            norm[i] += e


@njit(inline="always", fastmath={"contract"})
def softmax_rows(zb, nb, y, sw, g0, eb, zmax, norm, dzb, gacc, single):
    """Multinomial rows ``g0 .. g0 + nb`` of X: ``a_i = softmax(z_i)``,

        loss_i = log(sum_k exp(z_ik - max_k z_ik)) - (z_iy - max_k z_ik)
        dz_ik  = s_i (a_ik - [k == y_i])

    Returns ``sum_i s_i loss_i`` (float64). ``y`` holds class indices.
    """
    K = zb.shape[0]
    for i in range(nb):
        zmax[i] = zb[0, i]
        norm[i] = 0.0
    for k in range(1, K):
        zk = zb[k]
        for i in range(nb):
            zmax[i] = max(zmax[i], zk[i])
    for k in range(K):
        _exp_rows(zb[k], zmax, eb[k], norm, nb, single)
    loss = 0.0
    for i in range(nb):
        s = sw[g0 + i]
        yi = int(y[g0 + i])
        loss += s * (math.log(norm[i]) - (zb[yi, i] - zmax[i]))
        norm[i] = s / norm[i]   # from here on: s_i / sum_k exp(z_ik - zmax_i)
    # a_ik s_i for every class, then the label's - s_i row by row: no branch on y in
    # the loop over the rows, which vectorizes
    for k in range(K):
        ek = eb[k]
        g = 0.0
        for i in range(nb):
            d = ek[i] * norm[i]
            dzb[k, i] = d
            g += d
        gacc[k] += g
    for i in range(nb):
        yi = int(y[g0 + i])
        s = sw[g0 + i]
        dzb[yi, i] = eb[yi, i] * norm[i] - s   # one rounding to X's dtype, as before
        gacc[yi] -= s
    return loss


@njit(inline="always", fastmath={"contract"})
def batched_binary_rows(zb, nb, y, sw, fold, exclude, g0, eb, wb, dz64, dzb, gacc, lacc,
                        single):
    """K binary models on rows ``g0 .. g0 + nb``: with ``w_ik = s_i [fold_i != exclude_k]``,

        lacc[k] += sum_i w_ik (max(z_ik, 0) - y_i z_ik + log1p(exp(-|z_ik|)))
        dz_ik    = w_ik (sigmoid(z_ik) - y_i)

    (the binary kernel's per-row maths, ``numba_common._elementwise``, per column).
    """
    K = zb.shape[0]
    yb = y[g0:g0 + nb]
    for k in range(K):
        ex = exclude[k]
        for i in range(nb):
            wb[i] = sw[g0 + i] if fold[g0 + i] != ex else 0.0
        lacc[k] += _elementwise(zb[k], yb, wb, nb, eb, dz64, single)
        g = 0.0
        for i in range(nb):
            dzb[k, i] = dz64[i]
            g += dz64[i]
        gacc[k] += g


@njit(inline="always", fastmath={"contract"})
def _exp_group(z, e, o, C, zmax, single):
    """``e[o + c] = exp(z[o + c] - zmax)`` for c < C; returns their sum."""
    norm = 0.0
    if single:
        for c in range(o, o + C):
            t = exp_neg32(z[c] - zmax)
            e[c] = t
            norm += t
    else:
        for c in range(o, o + C):
            t = exp_neg64(z[c] - zmax)
            e[c] = t
            norm += t
    return norm


@njit(inline="always", fastmath={"contract"})
def softmax_groups(z, e, dz, yi, si, fi, exclude, C, lacc, gacc, single):
    """One row of X for K multinomial models of C classes each (model g's decision
    values ``z[g C:(g + 1) C]``; one model: ``exclude = [-1]``): with ``w_g = s_i
    [fold_i != exclude_g]`` and ``a_g = softmax(z_g)``,

        lacc[g]      += w_g (log sum_c exp(z_gc - max_c z_gc) - (z_g,y_i - max_c z_gc))
        dz[g C + c]   = w_g (a_gc - [c == y_i]),   gacc[g C + c] += dz[g C + c]

    The row-at-a-time twin of ``softmax_rows`` (the CSR kernel has one row's z, a
    (K C,)-vector, at a time); the loops run over the classes.
    """
    for g in range(exclude.shape[0]):
        w = si if fi != exclude[g] else 0.0
        o = g * C
        zmax = z[o]
        for c in range(o + 1, o + C):
            zmax = max(zmax, z[c])
        norm = _exp_group(z, e, o, C, zmax, single)
        lacc[g] += w * (math.log(norm) - (z[o + yi] - zmax))
        r = w / norm
        for c in range(o, o + C):
            d = e[c] * r
            dz[c] = d
            gacc[c] += d
        dz[o + yi] -= w
        gacc[o + yi] -= w
