"""L-BFGS ("lbfgs"): scipy.optimize's L-BFGS-B driven by the one-pass loss+gradient.

Each function evaluation is ONE read of X (``objective.value_and_grad``).

Preconditioning (smooth objectives): L-BFGS runs in the coordinates ``v = L^T theta``
where ``L L^T = P`` is the objective's cheap Hessian bound (``hessian_bound``: the
Gram matrix of a row subsample, scaled by 1/4). This changes the path, never the
objective or its minimiser; on raw, correlated features it cuts the iterations several
fold (47 -> 7 on make_classification 1M x 100). A diagonal P is used when there are
too many features for a dense one. From zero (binary, dense P), the first step is the
Newton step of P (the Hessian at 0, up to its sample); where m is large enough for it
to cost at most a pass, the coordinates are then whitened again by the Hessian at that
point, sampled on the same rows (``hessian_bound(theta=...)``), so that scipy's first
step there is a subsampled Newton step too.

An L1 part is handled exactly by the classic split ``w = u - v`` with ``u, v >= 0``:
``f(w) + l1 ||w||_1 = f(u - v) + l1 sum(u + v)``, smooth on the box, so L-BFGS-B's
bounds do the rest (the intercept stays free; no preconditioning there).

Stopping, the same for every solver (``_base``): the max-norm of the gradient of the
objective in the original coordinates (projected / minimum-norm subgradient with L1)
at most ``stop_tol(tol, dtype)``, whatever the preconditioning. scipy's line search
needs the objective to decrease, and near the optimum it changes below rounding long
before the gradient is small (a gradient of 1e-8 moves a loss of 0.1 by ~1e-16): when
scipy stops there, the smooth problem is finished by ``_polish``, L-BFGS steps whose
line search reads the gradient alone (its sign along the step), which keeps resolving
where the objective's value cannot.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.optimize import Bounds, minimize

from ..objective.protocol import BOUND_MAX_DENSE, BOUND_MAX_ROWS
from ._base import (
    IterationState,
    check_tol_max_iter,
    l1_optimality,
    make_result,
    pass_snapshot,
    start_point,
    stop_tol,
)
from .gd import gradient_descent


class _Converged(Exception):
    pass


def _direction(g, pairs):
    """``-H g`` by L-BFGS's two-loop recursion over the pairs ``(s, y)``, oldest first."""
    q = -g
    alphas = []
    for s, y in reversed(pairs):
        a = float(s @ q) / float(y @ s)
        q = q - a * y
        alphas.append(a)
    if pairs:
        s, y = pairs[-1]
        q = q * (float(s @ y) / float(y @ y))
    for (s, y), a in zip(pairs, reversed(alphas)):
        q = q + s * (a - float(y @ q) / float(y @ s))
    return q


def _polish(fun, x, g, *, tol, n_left, memory, last, after_step):
    """L-BFGS on a smooth convex objective with a line search on the gradient alone.

    ``fun(x) -> (f, g)``; the step length t along d is where the slope
    ``phi'(t) = g(x + t d) . d`` has shrunk to 0.9 of ``|phi'(0)|`` (the curvature
    condition of strong Wolfe), found by extrapolation and then secants on the
    bracket (phi' is increasing: the objective is convex). ``last["opt"]`` is the true
    gradient's max-norm at fun's latest point; ``after_step(x, f, opt)`` returns True
    to stop. Returns ``(x, n_steps, message)``; message is None when converged.
    """
    pairs, n, idle = [], 0, 0
    best = (last["opt"], x)  # L-BFGS's gradient is not monotone: the best point is kept
    while n < n_left:
        d = _direction(g, pairs)
        slope0 = float(g @ d)
        if not slope0 < 0:  # rounding spoilt the curvature pairs: start afresh
            pairs, d = [], -g
            slope0 = -float(g @ g)
        if slope0 == 0:
            return best[1], n, "the gradient vanished to rounding in the search direction"
        lo, hi, t = (0.0, slope0), None, 1.0
        for _ in range(30):
            f_t, g_t = fun(x + t * d)
            slope = float(g_t @ d)
            if abs(slope) <= 0.9 * abs(slope0):
                break
            if slope < 0:
                lo = (t, slope)
            else:
                hi = (t, slope)
            t = 4.0 * t if hi is None else \
                lo[0] - lo[1] * (hi[0] - lo[0]) / (hi[1] - lo[1])
        else:
            return best[1], n, "the line search on the gradient failed (rounding)"
        s, y = t * d, g_t - g
        if float(s @ y) > 0:
            pairs = (pairs + [(s, y)])[-memory:]
        x, g, n = x + s, g_t, n + 1
        opt = last["opt"]
        if after_step(x, f_t, opt):
            return x, n, "stopped by callback"
        if opt <= tol:
            return x, n, None
        # progress is a gradient 10% below the best one; 20 steps without it: the
        # gradient is at its rounding floor
        idle = 0 if opt < 0.9 * best[0] else idle + 1
        best = (opt, x) if opt < best[0] else best
        if idle >= 20:
            return best[1], n, ("the gradient no longer decreases (rounding, at the "
                                "precision of the data's dtype)")
    return best[1], n, f"reached max_iter={n_left}"


def _coordinates(objective, x0, precondition):
    """(to_theta, x_start, grad_to_x, bounds, whitened) for the chosen parametrisation;
    ``whitened``: by the Cholesky factor of a dense bound (the Hessian's, up to scale)."""
    l1 = objective.l1
    mask = objective.penalized_mask()
    nc = int(mask.sum())
    if l1 > 0:
        def to_theta(x):
            theta = np.empty(objective.n_params)
            theta[mask] = x[:nc] - x[nc:2 * nc]
            theta[~mask] = x[2 * nc:]
            return theta

        def grad_to_x(x, f, g):
            gw = g[mask]
            return (f + l1 * float(x[:2 * nc].sum()),
                    np.concatenate([gw + l1, -gw + l1, g[~mask]]))

        w0 = x0[mask]
        x_start = np.concatenate([np.maximum(w0, 0), np.maximum(-w0, 0), x0[~mask]])
        # arrays, not a list of 2 nc + 1 pairs: scipy (1.17) turns a list into arrays,
        # back into pairs, then into arrays again, each element in Python; a Bounds
        # skips the first of those (the per-element loops left are scipy's own)
        lb = np.zeros(objective.n_params + nc)
        lb[2 * nc:] = -np.inf
        bounds = Bounds(lb, np.inf)
        return to_theta, x_start, grad_to_x, bounds, False
    if not precondition:
        return (lambda x: x), x0, (lambda x, f, g: (f, g)), None, False
    # the loss and gradient at x0 come next: a chunked objective computes them in the
    # bound's pass
    objective.expect("value_and_grad", x0)
    to_theta, x_start, grad_to_x, whitened = _whitening(objective, objective.hessian_bound(),
                                                        x0)
    return to_theta, x_start, grad_to_x, None, whitened


def _whitening(objective, P, x0):
    """(to_theta, x_start, grad_to_x, whitened) of the coordinates ``v = L^T theta``
    per class, ``L L^T = P`` (dense P), or ``v = sqrt(P) theta`` (diagonal P)."""
    k = objective.k
    p1 = P.shape[0]
    idx = objective.layout.class_index()  # theta's indices of each class's [w_c, b_c]
    if P.ndim == 1:
        r = np.sqrt(P)

        def to_theta(x):
            theta = np.empty(objective.n_params)
            theta[idx] = x.reshape(k, p1) / r
            return theta

        def grad_to_x(x, f, g):
            return f, (g[idx] / r).ravel()

        return to_theta, (x0[idx] * r).ravel(), grad_to_x, False
    L = np.linalg.cholesky(P)  # P = L L^T

    def to_theta(x):
        theta = np.empty(objective.n_params)
        # theta = L^{-T} v, for every class at once
        theta[idx] = sla.solve_triangular(L, x.reshape(k, p1).T, trans="T",
                                          lower=True, check_finite=False).T
        return theta

    def grad_to_x(x, f, g):
        gx = sla.solve_triangular(L, g[idx].T, lower=True, check_finite=False)
        return f, gx.T.ravel()

    return to_theta, (x0[idx] @ L).ravel(), grad_to_x, True


def _resamples(objective):
    """Whether the Hessian sampled at the first step pays: its Gram matrix on the
    bound's rows costs ``rows p1^2`` multiply-adds, at most one pass's ``m p1``."""
    p1 = objective.n + (1 if objective.fit_intercept else 0)
    return BOUND_MAX_ROWS * p1 <= objective.m and p1 <= BOUND_MAX_DENSE


def _rewhiten(objective, theta1):
    """The whitening by the Hessian at ``theta1`` sampled on the bound's rows
    (``hessian_bound(theta=theta1)``); None if it is not SPD to rounding."""
    try:
        return _whitening(objective, objective.hessian_bound(theta=theta1), theta1)
    except np.linalg.LinAlgError:  # not SPD to rounding: keep the bound's coordinates
        return None


def _scaled(to_theta, grad_to_x, x, c):
    """The parametrisation ``x' = c x``: its (to_theta, grad_to_x) and the point x'."""
    def to_theta_c(xc):
        return to_theta(xc / c)

    def grad_to_xc(xc, f, g):
        f, gx = grad_to_x(xc / c, f, g)
        return f, gx / c

    return to_theta_c, grad_to_xc, x * c


def lbfgs(objective, theta0=None, *, tol=1e-4, max_iter=1000, callback=None, memory=10,
          precondition=True, resume=None, seed=0):
    """Minimise ``objective`` with L-BFGS-B.

    Parameters
    ----------
    objective : LogisticObjective
    theta0 : ndarray (n_params,), optional
    tol : float
        Max-norm of the (projected) gradient at which to stop.
    max_iter : int
    callback : callable(IterationState), optional; return True to stop.
    memory : int
        Number of correction pairs kept (scipy's ``maxcor``).
    precondition : bool
        Run in the coordinates whitened by ``objective.hessian_bound()`` (smooth
        objectives only; ignored with an L1 part).
    resume : dict, optional
        A ``state.state`` from an earlier run: continues from its theta. scipy's
        L-BFGS memory is not saved, so the resumed run reaches the same optimum (to
        ``tol``) but not bit for bit.
    seed : int
        Seeds the one random choice: the first step of the proximal steps that finish
        an L1 fit when scipy stops short of tol (``gradient_descent``'s ``seed``).

    Returns
    -------
    SolverResult
    """
    check_tol_max_iter(tol, max_iter)
    passes_from = pass_snapshot(objective)
    tol = stop_tol(tol, objective.dtype)
    x0 = start_point(objective, theta0, resume)
    n_done = 0 if resume is None else int(resume["n_iter"])
    l1 = objective.l1
    mask = objective.penalized_mask()
    to_theta, x_start, grad_to_x, bounds, whitened = _coordinates(objective, x0,
                                                                  precondition)
    evals = [0]
    last = {}  # the latest evaluation: the gradient norm at accepted points

    known = {}  # an evaluation made here: scipy's first call gets it, not another pass

    def fun(x):
        theta = to_theta(x)
        if "x" in known and np.array_equal(x, known["x"]):
            f, g = known.pop("fg")
            known.clear()
        else:
            f, g = objective.value_and_grad(theta)
            evals[0] += 1
        last.update(x=x.copy(), opt=l1_optimality(theta, g, l1, mask), fg=(f, g))
        f_x, g_x = grad_to_x(x, f, g)
        last["gx"] = g_x
        return f_x, g_x

    f0, g0 = objective.value_and_grad(x0)
    evals[0] += 1
    if np.array_equal(to_theta(x_start), x0):  # exact: the start is x0 itself
        known.update(x=x_start.copy(), fg=(f0, g0))
    f0 += objective.l1_value(x0)
    history = [f0] if resume is None else list(resume["history"])
    opt0 = l1_optimality(x0, g0, l1, mask)
    if max_iter == 0 or opt0 <= tol:  # scipy's maxiter=0 would still take a step
        return make_result(objective, x0, n_iter=0, converged=opt0 <= tol, loss=f0,
                           grad_norm=opt0, loss_history=history, n_evals=evals[0],
                           message="converged" if opt0 <= tol else "reached max_iter=0",
                           tol=tol, passes_from=passes_from)
    stopped = [False]
    if (precondition and l1 == 0 and not objective.multinomial and resume is None
            and not np.any(x0)):
        # at theta = 0 every a(1 - a) is 1/4: the binary Hessian IS the preconditioner's
        # bound (up to its subsampling), so one step v - grad_v is a Newton step, where
        # scipy's first step would be a short one along -grad_v
        _, gv = grad_to_x(x_start, f0, g0)
        x1 = x_start - gv
        theta1 = to_theta(x1)
        resample = whitened and _resamples(objective)
        if resample:  # a chunked objective samples the Hessian at theta1 in its pass
            objective.expect("hessian_bound", theta1)
        f1, g1 = objective.value_and_grad(theta1)
        evals[0] += 1
        if f1 < f0:
            x_start = x1
            known.clear()
            known.update(x=x1.copy(), fg=(f1, g1))
            # the curvature a (1 - a) is now below the bound's 1/4, by a factor that
            # differs along w and across it: in coordinates whitened by the Hessian AT
            # theta1 (sampled on the bound's rows), scipy's first step below is a
            # (subsampled) Newton step, where in the bound's it fell short (standard
            # normal 2M x 50: the gap 1e-6 in 3 evaluations after the setup, not 4)
            rewhitened = _rewhiten(objective, theta1) if resample else None
            if rewhitened is not None:
                to_theta, x_start, grad_to_x, _ = rewhitened
                known["x"] = x_start.copy()
    if whitened and "fg" in known:
        # scipy's first step, with no curvature pairs yet, has unit length along
        # -grad; in the whitened coordinates the step that P (the Hessian's bound, so a
        # conservative Newton step) takes is -grad_v itself, of length ||grad_v||, and
        # scipy's overshot it (one more pass, a line search back). Coordinates scaled
        # by 1 / ||grad_v|| make that step scipy's first trial; L-BFGS's later steps
        # do not depend on the scale (its initial Hessian is scaled by s.y / y.y). Not
        # with a diagonal P (many features): its step is a Jacobi step, no Newton step
        # (on sparse text data the scaled start took 3% more passes)
        _, gv = grad_to_x(x_start, *known["fg"])
        norm = float(np.linalg.norm(gv))
        if np.isfinite(norm) and norm > 0:
            to_theta, grad_to_x, x_start = _scaled(to_theta, grad_to_x, x_start, 1 / norm)
            known["x"] = x_start.copy()

    def cb(intermediate_result):
        theta = np.array(to_theta(intermediate_result.x))  # scipy reuses its buffer
        history.append(float(intermediate_result.fun))
        same = "x" in last and np.array_equal(last["x"], intermediate_result.x)
        opt = last["opt"] if same else float("nan")
        n = n_done + intermediate_result.nit if hasattr(intermediate_result, "nit") \
            else len(history) - 1
        if callback is not None and callback(IterationState(
                n, history[-1], opt, theta, {"x": theta.copy(), "n_iter": n,
                                             "history": list(history)})):
            stopped[0] = True
            raise StopIteration
        if opt <= tol:
            raise StopIteration

    res = minimize(fun, x_start, method="L-BFGS-B", jac=True, bounds=bounds, callback=cb,
                   options={"maxiter": int(max_iter), "maxfun": max(15000, 2 * int(max_iter)),
                            "gtol": 0.0, "ftol": 64 * np.finfo(float).eps,
                            "maxcor": memory, "maxls": 50})
    x, n_iter = res.x, res.nit
    msg = res.message if isinstance(res.message, str) else str(res.message)
    if not np.array_equal(last["x"], x):  # scipy's line search ended elsewhere
        fun(x)
    polished = [0]

    def step_done(theta_new, f_new, opt):  # a polishing step: history and callback
        history.append(float(f_new))
        polished[0] += 1
        n = n_done + n_iter + polished[0]
        if callback is not None and callback(IterationState(
                n, history[-1], opt, theta_new,
                {"x": theta_new.copy(), "n_iter": n, "history": list(history)})):
            stopped[0] = True
            return True
        return False

    theta = None
    if not stopped[0] and n_iter < max_iter and last["opt"] > tol:
        # scipy stopped on a flat objective (or a failed line search) short of tol
        if l1 == 0:
            x, n_more, why = _polish(
                fun, x, last["gx"], tol=tol, n_left=max_iter - n_iter, memory=memory,
                last=last, after_step=lambda xn, fn, o: step_done(to_theta(xn), fn, o))
        else:
            # the split's bounds keep _polish out: proximal accelerated gradient steps
            # (whose step rule reads gradients where values are flat) finish the job
            more = gradient_descent(
                objective, to_theta(x), accelerated=True, tol=tol,
                max_iter=max_iter - n_iter, seed=seed,
                callback=lambda st: step_done(st.theta, st.loss, st.grad_norm))
            theta, n_more = more.theta, more.n_iter
            evals[0] += more.n_evals
            why = None if more.converged else more.message
        n_iter += n_more
        msg = msg if why is None else f"{msg}; then {why}"
    if theta is None and np.array_equal(last["x"], x):
        # the returned point is fun's latest: its loss and gradient are known, no pass
        theta, (f, g) = to_theta(x), last["fg"]
    else:
        theta = to_theta(x) if theta is None else theta
        f, g = objective.value_and_grad(theta)
        evals[0] += 1
    opt = l1_optimality(theta, g, l1, mask)
    # the one stopping rule: the true gradient at the returned theta; scipy's own stop
    # on a flat objective is no convergence (the gradient is what tol bounds)
    converged = opt <= tol
    if converged:
        message = "converged"
    elif stopped[0]:
        message = "stopped by callback"
    else:
        message = f"not converged: {msg}"
    return make_result(objective, theta, n_iter=n_done + n_iter, converged=converged,
                       loss=f + objective.l1_value(theta), grad_norm=opt,
                       loss_history=history, n_evals=evals[0], message=message, tol=tol,
                       passes_from=passes_from)
