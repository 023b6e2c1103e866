"""The row functions of the K-column kernel (``numba_kcol``): from a block's decision
values ``zb`` (K, nb) to its ``dz`` (K, nb) and loss terms, vectorized over the rows.

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
    for k in range(K):
        ek = eb[k]
        g = 0.0
        for i in range(nb):
            d = ek[i] * norm[i]
            if int(y[g0 + i]) == k:
                d -= sw[g0 + i]
            dzb[k, i] = d
            g += d
        gacc[k] += g
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
