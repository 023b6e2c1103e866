"""L1 and elastic net for K models that share X: orthant-wise L-BFGS vectorized over
models ("batched_owlqn").

Model k minimises ``F_k(theta) = f_k(theta) + l1_k ||w_k||_1``, ``f_k`` the smooth
part of a batched objective (``value_and_grad(theta, models)``: the loss and the L2
term, every model in ONE read of X) and ``l1_k`` its L1 strength (``objective.l1``; the
first ``objective.n_coef`` rows of theta are penalized, the intercepts not).

The method is OWL-QN (Andrew and Gao, 2007), per model and vectorized over models as
``batched_lbfgs`` is: the L-BFGS direction of the minimum-norm subgradient
``r = min_norm_subgradient(theta, g, l1)``, its entries that disagree in sign with
``-r`` zeroed, then a backtracking search along it projected onto the orthant the step
started in (an entry that would change sign stops at 0, which is how coefficients
become exactly zero). The curvature pairs come from the smooth gradients alone. Why
OWL-QN rather than accelerated proximal gradient (FISTA): both read X once per
evaluation for all the models, but FISTA's rate is set by the condition number of f
(tens to thousands of steps to a gradient of 1e-4 on raw features), while OWL-QN keeps
L-BFGS's curvature model on the free coefficients.

Scaling: each model runs in the coordinates ``x = r_k * theta`` with ``r_k`` the square
root of the diagonal of its Hessian bound (``hessian_bounds``): diagonal so that the L1
term stays separable (``l1_k |theta_j| = (l1_k / r_kj) |x_j|``).

Stopping, the one rule of every solver (``_base``): the max-norm of the minimum-norm
subgradient in the original coordinates at most ``stop_tol(tol, dtype)``; models that
reach it or ``max_iter`` drop out of the batch.
"""

from __future__ import annotations

import numpy as np

from ._base import check_tol_max_iter, min_norm_subgradient, stop_tol
from .batched_lbfgs import ARMIJO, FLAT_EPS, MAX_LINE_SEARCH, BatchedResult, PairMemory


def _diagonal_scale(objective, models, theta0, precondition):
    """``r`` (p, k): the square root of each model's Hessian-bound diagonal (ones when
    ``precondition`` is False)."""
    k = len(models)
    if not precondition:
        return np.ones((objective.p, k))
    bounds = objective.hessian_bounds(
        models, theta0 if precondition == "start" and theta0 is not None else None)
    diag = bounds if bounds.ndim == 2 else np.diagonal(bounds, axis1=1, axis2=2)
    return np.sqrt(np.maximum(diag, np.finfo(np.float64).tiny)).T


def _orthant_project(x, orthant, penalized):
    """x with its penalized entries outside ``orthant`` (signs, 0 = stay at 0) set to 0."""
    return np.where(penalized & (np.sign(x) != orthant), 0.0, x)


def batched_owlqn(objective, theta0=None, *, models=None, tol=1e-4, max_iter=100,
                  memory=10, precondition=True, start=None):
    """Minimise ``f_k + l1_k ||w_k||_1`` for the models ``models`` of a batched objective.

    Parameters
    ----------
    objective : BatchedObjective or BatchedMultinomial
        ``value_and_grad(theta (p, k), models) -> (f (k,), g (p, k))`` (smooth part),
        ``l1`` (n_models,), ``n_coef``, ``p``, ``n_models``, ``dtype``,
        ``hessian_bounds(models, theta=None)``.
    theta0 : ndarray (p, k), optional
        Start of each model (zeros when omitted): a warm start along a path of C.
    models : ndarray of int (k,), optional
        Which of the objective's models to solve (all when omitted).
    tol : float
        Each model stops when its minimum-norm subgradient's max-norm is at most
        ``stop_tol(tol, dtype)``.
    max_iter : int
        Iterations per model.
    memory : int
        Correction pairs kept per model.
    precondition : bool or "start"
        Scale by the diagonal of the Hessian bound at 0 (True), at theta0 ("start"), or
        not at all (False).
    start : tuple (f (k,), g (p, k)), optional
        The smooth part's values and gradients at theta0 when the caller knows them.

    Returns
    -------
    BatchedResult
        ``loss`` is the full objective ``F_k``, ``grad`` the smooth part's gradient,
        ``grad_norm`` the minimum-norm subgradient's max-norm.
    """
    check_tol_max_iter(tol, max_iter)
    tol = stop_tol(tol, objective.dtype)
    models = np.arange(objective.n_models) if models is None else np.asarray(models)
    k, p = len(models), objective.p
    theta = np.zeros((p, k)) if theta0 is None else np.array(theta0, dtype=np.float64)
    penalized = (np.arange(p) < objective.n_coef)[:, None]
    lam_theta = np.where(penalized, objective.l1[models][None, :], 0.0)  # (p, k)
    r = _diagonal_scale(objective, models, theta, precondition)
    lam = lam_theta / r  # the L1 weights in x = r theta
    x = theta * r
    if start is None:
        f, g = objective.value_and_grad(theta, models)
        n_evals = 1
    else:
        f, g, n_evals = np.array(start[0], dtype=np.float64), np.array(start[1]), 0
    F = f + np.abs(lam * x).sum(axis=0)
    gx = g / r
    opt = np.max(np.abs(min_norm_subgradient(theta, g, lam_theta)), axis=0) if p \
        else np.zeros(k)
    n_iter = np.zeros(k, dtype=np.int64)
    pairs = PairMemory(k, memory, p)
    failed = np.zeros(k, dtype=bool)
    eps = np.finfo(np.float64).eps
    while True:
        act = np.flatnonzero((opt > tol) & (n_iter < max_iter) & ~failed)
        if act.size == 0:
            break
        xa, la = x[:, act], lam[:, act]
        pg = min_norm_subgradient(xa, gx[:, act], la)
        d = pairs.direction(pg, act)
        d = np.where(d * pg < 0, d, 0.0)  # keep the entries that descend along -pg
        slope0 = np.einsum("pk,pk->k", pg, d)
        bad = ~(slope0 < 0)  # the memory's direction is useless: steepest descent afresh
        if bad.any():
            pairs.forget(act[bad])
            d[:, bad] = -pg[:, bad]
        # the orthant of each step: the current signs, and -pg's where at 0
        orthant = np.where(xa != 0, np.sign(xa), np.sign(-pg))
        t = np.ones(act.size)
        pending = np.arange(act.size)  # positions in act still searching
        for _ in range(MAX_LINE_SEARCH):
            j = act[pending]
            xt = _orthant_project(x[:, j] + t[pending] * d[:, pending],
                                  orthant[:, pending], penalized)
            thetat = xt / r[:, j]
            ft, gt = objective.value_and_grad(thetat, models[j])
            n_evals += 1
            Ft = ft + np.abs(lam[:, j] * xt).sum(axis=0)
            step = xt - x[:, j]
            gxt = gt / r[:, j]
            s0 = np.einsum("pk,pk->k", pg[:, pending], step)  # the model's decrease rate
            slope = np.einsum("pk,pk->k", min_norm_subgradient(xt, gxt, lam[:, j]), step)
            F0 = F[j]
            armijo = Ft <= F0 + ARMIJO * s0
            # the value blind to rounding: take the step if the slope has not turned up
            flat = (Ft <= F0 + FLAT_EPS * eps * np.abs(F0)) & (slope <= 0.9 * np.abs(s0))
            ok = (armijo | flat) & (s0 < 0)
            if ok.any():
                jo = j[ok]
                pairs.push(jo, step[:, ok], gxt[:, ok] - gx[:, jo])
                x[:, jo], f[jo], F[jo] = xt[:, ok], ft[ok], Ft[ok]
                g[:, jo], gx[:, jo] = gt[:, ok], gxt[:, ok]
                opt[jo] = np.max(np.abs(min_norm_subgradient(
                    thetat[:, ok], gt[:, ok], lam_theta[:, jo])), axis=0) if p else 0.0
                n_iter[jo] += 1
            pending = pending[~ok]
            t[pending] *= 0.5  # the projection bends the path: plain halving
            if pending.size == 0:
                break
        if pending.size:  # no step found: forget the memory once, then give up
            jp = act[pending]
            failed[jp] = pairs.forget(jp)
    return BatchedResult(theta=x / r, n_iter=n_iter, converged=opt <= tol, loss=F, grad=g,
                         grad_norm=opt, n_evals=n_evals, tol=tol)
