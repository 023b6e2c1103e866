"""Newton's method ("newton") with a backtracking line search, for the smooth objective.

Each iteration solves ``H d = -g`` at the current point:

- few parameters (``n_params <= dense_max``): H is built in one read of X
  (``objective.hessian``) and solved by Cholesky; a singular H (the multinomial loss is
  flat along "add c to every class's intercept"; an unpenalized fit on separable data)
  falls back to the minimum-norm solution from ``eigh``;
- many parameters: truncated conjugate gradients on Hessian-vector products
  (``objective.hessp``, one read of X each), stopped at the forcing tolerance
  ``min(0.5, sqrt(||g||)) ||g||`` (Dembo, Eisenstat & Steihaug).

Then Armijo backtracking from the full step. Quadratic convergence near the optimum:
a handful of iterations, each a few passes over X.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator, cg

from ._base import (
    IterationState,
    check_tol_max_iter,
    make_result,
    pass_snapshot,
    start_point,
    stop_tol,
)


def _direction_dense(H, g, singular_ok):
    if singular_ok:
        return _min_norm_direction(H, g)
    try:
        c = sla.cho_factor(H, lower=False, check_finite=False)
        d = sla.cho_solve(c, -g, check_finite=False)
        if np.all(np.isfinite(d)):
            return d
    except (sla.LinAlgError, ValueError):
        pass
    return _min_norm_direction(H, g)


def _min_norm_direction(H, g):
    lam, V = np.linalg.eigh(H)
    keep = lam > lam.max() * 1e-12 if lam.max() > 0 else np.zeros(lam.shape, bool)
    return -(V[:, keep] @ ((V[:, keep].T @ g) / lam[keep]))


def newton(objective, theta0=None, *, tol=1e-4, max_iter=100, callback=None,
           dense_max=None, resume=None):
    """Minimise the smooth objective by damped Newton steps.

    Parameters
    ----------
    objective : LogisticObjective (``l1`` must be 0)
    theta0 : ndarray (n_params,), optional
    tol : float
        Gradient max-norm at which to stop.
    max_iter : int
    callback : callable(IterationState), optional; return True to stop.
    dense_max : int, optional
        Largest ``n_params`` for which the full Hessian is formed; default 500 for
        the binary loss and 300 for the multinomial.
    resume : dict, optional
        A ``state.state`` from an earlier run: Newton's next step depends on theta
        alone, so the resumed run ends bit-identical to an uninterrupted one.

    Returns
    -------
    SolverResult
    """
    check_tol_max_iter(tol, max_iter)
    passes_from = pass_snapshot(objective)
    tol = stop_tol(tol, objective.dtype)
    if objective.l1 > 0:
        raise ValueError("solver='newton' needs a smooth objective, but the penalty has an "
                         "L1 part; use solver='lbfgs' or 'agd' for penalty='l1' or "
                         "'elasticnet'.")
    if dense_max is None:
        dense_max = 300 if objective.multinomial else 500
    x = start_point(objective, theta0, resume)
    if objective.n_params <= dense_max:  # each step asks for H where it took the gradient
        objective.expect("hessian")
    f, g = objective.value_and_grad(x)
    n_evals = 1
    history = [f] if resume is None else list(resume["history"])
    opt = float(np.max(np.abs(g))) if g.size else 0.0
    n_iter = 0 if resume is None else int(resume["n_iter"])
    converged = opt <= tol
    message = "converged" if converged else f"reached max_iter={max_iter}"
    rounding = 64 * float(np.finfo(objective.dtype).eps)
    # f is summed in float64, but float32 data round z: f's noise is the dtype's
    slack = max(1e-13, rounding)
    best_opt, stalled = opt, 0
    while not converged and n_iter < max_iter:
        if objective.n_params <= dense_max:
            # curvature and Hessian in the same read of X
            d = _direction_dense(objective.hessian(x), g,
                                 singular_ok=objective.multinomial)
            n_evals += 1
        else:
            curv = objective.curvature(x)  # once, for the many products below
            n_evals += 1
            gnorm = float(np.linalg.norm(g))
            op = LinearOperator((objective.n_params,) * 2, dtype=np.float64,
                                matvec=lambda v: objective.hessp(x, v, curv))
            d, _ = cg(op, -g, rtol=min(0.5, np.sqrt(gnorm)), maxiter=50)
        slope = float(g @ d)
        if not slope < 0:  # not a descent direction (numerically): fall back to -g
            d, slope = -g, -float(g @ g)
        step = 1.0
        while True:
            x_new = x + step * d
            f_new, g_new = objective.value_and_grad(x_new)
            n_evals += 1
            if f_new <= f + 1e-4 * step * slope + slack * abs(f) or step < 1e-10:
                break
            step *= 0.5
        opt_new = float(np.max(np.abs(g_new))) if g_new.size else 0.0
        # near the optimum f changes below rounding: then a step that shrinks the
        # gradient is progress too; a rise beyond rounding means the search failed
        if f_new > f + slack * abs(f) or (f_new > f and opt_new >= opt):
            message = ("the line search made no progress: the objective is flat to rounding "
                       "here (loss %.17g); the gradient max-norm is %.3g" % (f, opt))
            break
        n_iter += 1
        moved = (f - f_new) > 0 or opt_new < opt
        # progress that is not rounding noise: f down by more than the data's precision,
        # or a new best gradient; three steps without it and tol is out of reach
        if (f - f_new) > rounding * abs(f) or opt_new < 0.9 * best_opt:
            stalled = 0
        else:
            stalled += 1
        best_opt = min(best_opt, opt_new)
        x, f, g = x_new, f_new, g_new
        history.append(f)
        opt = opt_new
        stop = callback is not None and callback(IterationState(
            n_iter, f, opt, x.copy(), {"x": x.copy(), "n_iter": n_iter,
                                       "history": list(history)}))
        if opt <= tol:
            converged, message = True, "converged"
        elif step < 1e-10 or not moved or stalled >= 3:
            message = ("the line search made no progress: the objective is flat to rounding "
                       "here (loss %.17g); the gradient max-norm is %.3g" % (f, opt))
            break
        elif stop:
            message = "stopped by callback"
            break
    return make_result(objective, x, n_iter=n_iter, converged=converged, loss=f,
                       grad_norm=opt, loss_history=history, n_evals=n_evals,
                       message=message, tol=tol, passes_from=passes_from)
