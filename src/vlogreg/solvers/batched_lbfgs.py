"""L-BFGS vectorized over K models that share X ("batched_lbfgs").

Every iteration evaluates all the models still running in ONE call of the batched
objective (one read of X). Each model keeps its own L-BFGS memory, its own step length
and its own stopping: a model whose gradient max-norm reaches ``stop_tol(tol, dtype)``
(the one stopping rule, ``_base``) or ``max_iter`` drops out of the batch, and the next
evaluations leave it out (``objective.value_and_grad(theta, models)``).

Preconditioning, as the single-model ``lbfgs``: model k runs in the coordinates
``v = L_k^T theta`` with ``L_k L_k^T = P_k``, its Hessian bound (``hessian_bounds``),
so that with an empty memory a unit step is a Newton step at theta = 0.

The line search backtracks from the unit step (Armijo, per model, vectorized). Near the
optimum the objective's value no longer resolves the decrease (a gradient of 1e-8 moves
a loss of 0.1 by ~1e-16), so a step is also taken when the value is flat to rounding and
the slope along the step has not turned up (``|phi'(t)| <= 0.9 |phi'(0)|`` or still
negative): it reads the gradient where the value is blind, as the single solver's
``_polish`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._base import check_tol_max_iter, stop_tol

#: Armijo's sufficient-decrease constant and the most step halvings per iteration
ARMIJO = 1e-4
MAX_LINE_SEARCH = 20
#: a value within FLAT_EPS eps |f| of the start's is flat to rounding (a sum over m
#: rows carries more than one eps of error): the slope decides there
FLAT_EPS = 64


@dataclass
class BatchedResult:
    """What ``batched_lbfgs`` returns, one column / entry per model solved.

    Attributes
    ----------
    theta : ndarray (p, k)
        Each model's ``[w; b]``.
    n_iter : ndarray (k,) int
    converged : ndarray (k,) bool
        Gradient max-norm at most ``tol`` at the returned theta.
    loss : ndarray (k,)
    grad : ndarray (p, k)
        The gradient at theta (a warm start along C derives the next start's from it).
    grad_norm : ndarray (k,)
    n_evals : int
        Calls of the batched objective (reads of X).
    tol : float
        ``stop_tol(tol, dtype)``.
    """

    theta: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    grad_norm: np.ndarray
    n_evals: int
    tol: float


class _Coordinates:
    """theta <-> v = L^T theta per model, from the Cholesky factors of the bounds."""

    def __init__(self, bounds):
        if bounds is None:
            self.kind = None
        elif bounds.ndim == 2:  # diagonal bounds (k, p): L = sqrt(P)
            self.kind, self.r = "diag", np.sqrt(bounds).T  # (p, k)
        else:  # dense (k, p, p): M_k = L_k^{-1}
            self.kind = "dense"
            self.L = np.linalg.cholesky(bounds)
            eye = np.broadcast_to(np.eye(bounds.shape[1]), bounds.shape)
            self.M = np.linalg.solve(self.L, eye)

    def theta(self, x, j):
        """theta of the models j (positions in the batch) from their v = x (p, len(j))."""
        if self.kind is None:
            return x
        if self.kind == "diag":
            return x / self.r[:, j]
        return np.einsum("kij,ik->jk", self.M[j], x)  # M_k^T v_k

    def grad(self, g, j):
        """The gradient in v of the models j from their gradient in theta."""
        if self.kind is None:
            return g
        if self.kind == "diag":
            return g / self.r[:, j]
        return np.einsum("kij,jk->ik", self.M[j], g)  # M_k g_k

    def start(self, theta):
        if self.kind is None:
            return theta.copy()
        if self.kind == "diag":
            return theta * self.r
        return np.einsum("kji,jk->ik", self.L, theta)  # v_k = L_k^T theta_k


class PairMemory:
    """Each model's ``memory`` newest curvature pairs (s, y), newest first: the state of
    the batched quasi-Newton solvers (``batched_lbfgs``, ``batched_prox.batched_owlqn``).

    ``S``, ``Y`` (k, memory, p), ``rho`` (k, memory) = 1 / s.y, ``count`` (k,) pairs
    held per model.
    """

    def __init__(self, k, memory, p):
        self.memory = memory
        self.S, self.Y = np.zeros((k, memory, p)), np.zeros((k, memory, p))
        self.rho = np.zeros((k, memory))
        self.count = np.zeros(k, dtype=np.int64)

    def direction(self, g, models):
        """``-H g`` (p, len(models)) for the gradients g of ``models``."""
        return _two_loop(g, self.S[models], self.Y[models], self.rho[models],
                         self.count[models])

    def push(self, models, s_new, y_new):
        """Add the pairs (p, len(models)) of ``models`` that have curvature (s.y > 0; a
        flat step may give none)."""
        sy = np.einsum("pk,pk->k", s_new, y_new)
        keep = sy > 0
        kk = models[keep]
        self.S[kk] = np.concatenate([s_new[:, keep].T[:, None], self.S[kk, :-1]], axis=1)
        self.Y[kk] = np.concatenate([y_new[:, keep].T[:, None], self.Y[kk, :-1]], axis=1)
        self.rho[kk] = np.concatenate([(1.0 / sy[keep])[:, None], self.rho[kk, :-1]],
                                      axis=1)
        self.count[kk] = np.minimum(self.count[kk] + 1, self.memory)

    def forget(self, models):
        """Drop the pairs of ``models``; True for those that had none (no step found
        from steepest descent either: give up)."""
        empty = self.count[models] == 0
        self.count[models] = 0
        return empty


def _two_loop(g, S, Y, rho, count):
    """``-H g`` for each column of g (p, k) by the two-loop recursion over each model's
    ``count[k]`` newest pairs ``S[k, 0..]`` (newest first), vectorized over models."""
    q = -g.copy()
    mem = S.shape[1]
    alphas = np.zeros((mem, g.shape[1]))
    for i in range(mem):  # newest to oldest
        live = i < count
        a = rho[:, i] * np.einsum("kp,pk->k", S[:, i], q) * live
        q -= a * Y[:, i].T
        alphas[i] = a
    newest = count > 0
    sy = np.einsum("kp,kp->k", S[:, 0], Y[:, 0])
    yy = np.einsum("kp,kp->k", Y[:, 0], Y[:, 0])
    gamma = np.where(newest, sy / np.where(newest, yy, 1.0), 1.0)
    q *= gamma
    for i in reversed(range(mem)):  # oldest to newest
        live = i < count
        beta = rho[:, i] * np.einsum("kp,pk->k", Y[:, i], q)
        q += ((alphas[i] - beta) * live) * S[:, i].T
    return q


def batched_lbfgs(objective, theta0=None, *, models=None, tol=1e-4, max_iter=100,
                  memory=10, precondition=True, start=None):
    """Minimise the models ``models`` of a batched objective together.

    Parameters
    ----------
    objective : BatchedObjective
        ``value_and_grad(theta (p, k), models) -> (f (k,), g (p, k))``, ``p``,
        ``n_models``, ``dtype`` and ``hessian_bounds(models)``.
    theta0 : ndarray (p, k), optional
        Start of each model (zeros when omitted): a warm start along a path of C.
    models : ndarray of int (k,), optional
        Which of the objective's models to solve (all when omitted).
    tol : float
        Each model stops when its gradient max-norm is at most ``stop_tol(tol, dtype)``.
    max_iter : int
        Iterations per model.
    memory : int
        Correction pairs kept per model.
    precondition : bool, "start" or "shared"
        True: run each model in the coordinates whitened by its Hessian bound
        (``objective.hessian_bounds(models)``); "start": by its Hessian at theta0
        (``hessian_bounds(models, theta0)``, for a warm start, where the bound at
        theta = 0 overstates the curvature); "shared": by one Hessian at the models'
        mean theta0 (``hessian_bounds(models, theta0, shared=True)``, for models alike:
        the folds of one C); False: none.
    start : tuple (f (k,), g (p, k)), optional
        The objective's values and gradients at theta0 when the caller knows them
        (along a path of C they follow from the previous solution without reading X).

    Returns
    -------
    BatchedResult
    """
    check_tol_max_iter(tol, max_iter)
    tol = stop_tol(tol, objective.dtype)
    models = np.arange(objective.n_models) if models is None else np.asarray(models)
    k, p = len(models), objective.p
    theta = np.zeros((p, k)) if theta0 is None else np.array(theta0, dtype=np.float64)
    if start is None:
        f, g = objective.value_and_grad(theta, models)
        n_evals = 1
    else:
        f, g, n_evals = np.array(start[0], dtype=np.float64), np.array(start[1]), 0
    opt = np.max(np.abs(g), axis=0) if p else np.zeros(k)
    n_iter = np.zeros(k, dtype=np.int64)
    # only the models that need a step get a preconditioner: along a path of C most
    # warm starts already meet tol, and each model's Hessian is a Gram matrix to build;
    # the others keep theta0 bit for bit (no round trip through the coordinates)
    run = np.flatnonzero(opt > tol) if max_iter > 0 else np.zeros(0, dtype=np.intp)
    if run.size:
        at = precondition in ("start", "shared") and theta0 is not None
        bounds = None if not precondition else objective.hessian_bounds(
            models[run], theta[:, run] if at else None,
            **({"shared": True} if at and precondition == "shared" else {}))
        theta[:, run], f[run], g[:, run], opt[run], n_iter[run], evals = _iterate(
            objective, models[run], theta[:, run], f[run], g[:, run], opt[run],
            _Coordinates(bounds), tol, max_iter, memory)
        n_evals += evals
    return BatchedResult(theta=theta, n_iter=n_iter, converged=opt <= tol, loss=f, grad=g,
                         grad_norm=opt, n_evals=n_evals, tol=tol)


def _iterate(objective, models, theta, f, g, opt, coords, tol, max_iter, memory):
    """The L-BFGS iterations of ``models`` (k,) from ``theta`` (p, k), where the values
    are f (k,), the gradients g (p, k) and their max-norms opt (k,), in the
    coordinates ``coords``; ``(theta, f, g, opt, n_iter, n_evals)`` at the end."""
    k, p = len(models), theta.shape[0]
    f, g, opt = f.copy(), g.copy(), opt.copy()
    n_evals = 0
    x = coords.start(theta)
    gx = coords.grad(g, np.arange(k))
    n_iter = np.zeros(k, dtype=np.int64)
    pairs = PairMemory(k, memory, p)
    failed = np.zeros(k, dtype=bool)
    eps = np.finfo(np.float64).eps
    while True:
        act = np.flatnonzero((opt > tol) & (n_iter < max_iter) & ~failed)
        if act.size == 0:
            break
        d = pairs.direction(gx[:, act], act)
        slope0 = np.einsum("pk,pk->k", gx[:, act], d)
        bad = ~(slope0 < 0)  # rounding spoilt a model's pairs: steepest descent afresh
        if bad.any():
            pairs.forget(act[bad])
            d[:, bad] = -gx[:, act[bad]]
            slope0[bad] = -np.einsum("pk,pk->k", gx[:, act[bad]], gx[:, act[bad]])
        t = np.ones(act.size)
        pending = np.arange(act.size)  # positions in act still searching
        for _ in range(MAX_LINE_SEARCH):
            j = act[pending]
            xt = x[:, j] + t[pending] * d[:, pending]
            ft, gt = objective.value_and_grad(coords.theta(xt, j), models[j])
            n_evals += 1
            gxt = coords.grad(gt, j)
            slope = np.einsum("pk,pk->k", gxt, d[:, pending])
            s0, f0 = slope0[pending], f[j]
            armijo = ft <= f0 + ARMIJO * t[pending] * s0
            flat = (ft <= f0 + FLAT_EPS * eps * np.abs(f0)) & (slope <= 0.9 * np.abs(s0))
            ok = armijo | flat
            if ok.any():
                jo = j[ok]
                pairs.push(jo, xt[:, ok] - x[:, jo], gxt[:, ok] - gx[:, jo])
                x[:, jo], f[jo], g[:, jo], gx[:, jo] = xt[:, ok], ft[ok], gt[:, ok], gxt[:, ok]
                opt[jo] = np.max(np.abs(gt[:, ok]), axis=0) if p else 0.0
                n_iter[jo] += 1
            # backtrack the others: the minimum of the quadratic through f(0), phi'(0)
            # and f(t), kept in [t/10, t/2]
            tp, s0p = t[pending][~ok], s0[~ok]
            dec = (ft - f0 - s0 * t[pending])[~ok]
            quad = -s0p * tp ** 2 / (2 * np.where(dec > 0, dec, np.inf))
            pending = pending[~ok]
            t[pending] = np.clip(np.where(dec > 0, quad, 0.5 * tp), 0.1 * tp, 0.5 * tp)
            if pending.size == 0:
                break
        if pending.size:  # no step found: forget the memory once, then give up
            jp = act[pending]
            failed[jp] = pairs.forget(jp)
    return coords.theta(x, np.arange(k)), f, g, opt, n_iter, n_evals
