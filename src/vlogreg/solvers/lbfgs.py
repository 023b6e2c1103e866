"""L-BFGS ("lbfgs"): scipy.optimize's L-BFGS-B driven by the one-pass loss+gradient.

Each function evaluation is ONE read of X (``objective.value_and_grad``). An L1 part is
handled exactly by the classic split ``w = u - v`` with ``u, v >= 0``, so that

    f(w) + l1 ||w||_1  =  f(u - v) + l1 sum(u + v)

is smooth on the box and L-BFGS-B's bounds do the rest (the intercept stays free).
Stopping: scipy's projected-gradient max-norm ``pgtol = tol``, as scikit-learn does.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ._base import IterationState, check_tol_max_iter, l1_optimality, make_result


def lbfgs(objective, theta0=None, *, tol=1e-4, max_iter=1000, callback=None, memory=10):
    """Minimise ``objective`` with L-BFGS-B.

    Parameters
    ----------
    objective : LogisticObjective
    theta0 : ndarray (n_params,), optional
    tol : float
        Projected-gradient max-norm at which to stop.
    max_iter : int
    callback : callable(IterationState), optional; return True to stop.
    memory : int
        Number of correction pairs kept (scipy's ``maxcor``).

    Returns
    -------
    SolverResult
    """
    check_tol_max_iter(tol, max_iter)
    x0 = objective.zeros() if theta0 is None else np.array(theta0, dtype=np.float64)
    l1 = objective.l1
    mask = objective.penalized_mask()
    nc = int(mask.sum())
    evals = [0]
    last = {}  # the latest evaluation, to report the gradient norm at accepted points

    if l1 > 0:
        # theta = [u, v, rest]; w = u - v on the penalized entries
        def to_theta(x):
            theta = np.empty(objective.n_params)
            theta[mask] = x[:nc] - x[nc:2 * nc]
            theta[~mask] = x[2 * nc:]
            return theta

        def fun(x):
            theta = to_theta(x)
            f, g = objective.value_and_grad(theta)
            evals[0] += 1
            last.update(x=x.copy(), opt=l1_optimality(theta, g, l1, mask))
            gw = g[mask]
            f += l1 * float(x[:2 * nc].sum())
            return f, np.concatenate([gw + l1, -gw + l1, g[~mask]])

        w0 = x0[mask]
        x_start = np.concatenate([np.maximum(w0, 0), np.maximum(-w0, 0), x0[~mask]])
        bounds = [(0, None)] * (2 * nc) + [(None, None)] * (objective.n_params - nc)
    else:
        def to_theta(x):
            return x

        def fun(x):
            evals[0] += 1
            f, g = objective.value_and_grad(x)
            last.update(x=x.copy(), opt=float(np.max(np.abs(g))) if g.size else 0.0)
            return f, g

        x_start, bounds = x0, None

    history = []
    f0 = objective.value(x0) + objective.l1_value(x0)
    evals[0] += 1
    history.append(f0)
    stopped = [False]
    if max_iter == 0:  # scipy's maxiter=0 would still take a step
        f, g = objective.value_and_grad(x0)
        opt = l1_optimality(x0, g, l1, mask)
        return make_result(objective, x0, n_iter=0, converged=opt <= tol, loss=f0,
                           grad_norm=opt, loss_history=history, n_evals=evals[0] + 1,
                           message="converged" if opt <= tol else "reached max_iter=0")

    def cb(intermediate_result):
        theta = np.array(to_theta(intermediate_result.x))  # scipy reuses its buffer
        history.append(float(intermediate_result.fun))
        if callback is not None:
            same = "x" in last and np.array_equal(last["x"], intermediate_result.x)
            state = IterationState(len(history) - 1, float(intermediate_result.fun),
                                   last["opt"] if same else float("nan"), theta)
            if callback(state):
                stopped[0] = True
                raise StopIteration

    res = minimize(fun, x_start, method="L-BFGS-B", jac=True, bounds=bounds, callback=cb,
                   options={"maxiter": int(max_iter), "maxfun": max(15000, 2 * int(max_iter)),
                            "gtol": tol, "ftol": 64 * np.finfo(float).eps,
                            "maxcor": memory, "maxls": 50})
    theta = to_theta(res.x)
    f, g = objective.value_and_grad(theta)
    evals[0] += 1
    opt = l1_optimality(theta, g, l1, mask)
    # scipy also stops, successfully, when the objective is flat to rounding (ftol)
    converged = opt <= tol or (bool(res.success) and not stopped[0])
    if stopped[0]:
        message = "stopped by callback"
    elif opt <= tol:
        message = "converged"
    elif converged:
        message = ("converged: the objective no longer changes to rounding (gradient "
                   f"max-norm {opt:.2e})")
    else:
        msg = res.message if isinstance(res.message, str) else str(res.message)
        message = f"not converged: {msg}"
    return make_result(objective, theta, n_iter=res.nit, converged=converged,
                       loss=f + objective.l1_value(theta), grad_norm=opt,
                       loss_history=history, n_evals=evals[0], message=message)
