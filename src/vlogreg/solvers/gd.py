"""Gradient descent ("gd") and Nesterov's accelerated gradient ("agd"), proximal for L1.

No learning rate to tune: the first step is ``1 / L`` from a power-iteration estimate
of the gradient's Lipschitz constant (``objective.lipschitz()``), then a backtracking
line search halves the step until the sufficient-decrease condition holds

    F(x+) <= f(y) + g(y).(x+ - y) + ||x+ - y||^2 / (2 t),   x+ = prox_{t l1}(y - t g(y))

and lets it grow by 20% after each accepted step (the local curvature is often far
below L). "agd" adds Nesterov momentum (FISTA) with an adaptive restart when the
momentum points uphill (O'Donoghue & Candes, 2015). With a fixed ``learning_rate``
there is no line search: the course's ``w -= alpha * dw`` exactly.

Stopping: the max-norm of the gradient mapping ``(y - x+) / t`` (the gradient itself
when there is no L1 part) at most ``tol``, or ``max_iter`` iterations.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    IterationState,
    check_tol_max_iter,
    l1_optimality,
    make_result,
    pass_snapshot,
    soft_threshold,
    start_point,
    stop_tol,
)

_GROW = 1.2
_SHRINK = 0.5


def gradient_descent(objective, theta0=None, *, accelerated=False, learning_rate=None,
                     tol=1e-4, max_iter=1000, callback=None, resume=None, seed=0):
    """Minimise ``objective`` (smooth part + ``l1 ||w||_1``) by (accelerated) gradient steps.

    Parameters
    ----------
    objective : LogisticObjective
    theta0 : ndarray (n_params,), optional
        Start; zeros by default.
    accelerated : bool
        Nesterov momentum (FISTA) with adaptive restart.
    learning_rate : float, optional
        Fixed step; ``None`` for the Lipschitz step with backtracking.
    tol, max_iter : stopping rule (see module doc).
    callback : callable(IterationState), optional
        Called after each iteration; return True to stop early. ``state.state`` holds
        what ``resume`` needs to continue exactly where the run was.
    resume : dict, optional
        A ``state.state`` from an earlier run on the same objective: the run continues
        from it and ends bit-identical to one that was never interrupted.
    seed : int
        Seeds the power iterations that estimate the first step (``lipschitz``).

    Returns
    -------
    SolverResult
    """
    check_tol_max_iter(tol, max_iter)
    passes_from = pass_snapshot(objective)
    tol = stop_tol(tol, objective.dtype)
    x = start_point(objective, theta0, resume)
    l1 = objective.l1
    mask = objective.penalized_mask()
    fixed = learning_rate is not None
    if fixed:
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number, got "
                             f"{learning_rate!r}.")
        t = float(learning_rate)
    elif resume is not None:
        t = float(resume["t"])
    else:
        t = 1.0 / objective.lipschitz(seed=seed)
    n_evals = 0

    slack = max(1e-12, 64 * float(np.finfo(objective.dtype).eps))

    def prox(v, step):
        return soft_threshold(v, step * l1, mask) if l1 > 0 else v

    y = x.copy() if resume is None else np.array(resume["y"], dtype=np.float64)
    fy, gy = objective.value_and_grad(y)
    n_evals += 1
    F = fy + objective.l1_value(x)
    history = [F] if resume is None else list(resume["history"])
    momentum = 1.0 if resume is None else float(resume["momentum"])
    converged = False
    opt = l1_optimality(y, gy, l1, mask)
    n_iter = 0 if resume is None else int(resume["n_iter"])
    message = f"reached max_iter={max_iter}"
    if opt <= tol:
        converged, message = True, "converged"
    near = False  # f is within rounding of the model: steps are judged by gradients
    while not converged and n_iter < max_iter:
        # one proximal gradient step from y, with backtracking on the step t
        stalled, g_new = False, None
        while True:
            x_new = prox(y - t * gy, t)
            d = x_new - y
            if fixed:
                f_new = None
                break
            if not np.any(d):  # the step no longer changes theta: nothing left to try
                stalled = True
                break
            if near or not accelerated:
                # plain gd continues from x_new itself: its gradient comes in the pass
                # that tests the step (a value-only test would read X again after it)
                f_new, g_new = objective.value_and_grad(x_new)
            else:
                f_new = objective.value(x_new)
            n_evals += 1
            dd = float(d @ d)
            model = fy + float(gy @ d) + dd / (2.0 * t)
            # f is summed in float64, but float32 data round z: f's noise is the
            # dtype's. Beyond it the test on values decides; within it, its twin on
            # gradients, (g(x+) - g(y)).d <= ||d||^2 / t (the same condition for a
            # quadratic, which f is near the optimum), resolved to the gradient's
            # precision: an f-only test there accepts any step, and the 20% growth
            # below then makes steps too long to converge (agd's momentum oscillates)
            noise = slack * abs(fy)
            if f_new <= model - noise:
                break
            if f_new <= model + noise:
                near = True
                if g_new is None:
                    f_new, g_new = objective.value_and_grad(x_new)
                    n_evals += 1
                if float((g_new - gy) @ d) <= dd / t:
                    break
            g_new = None
            t *= _SHRINK
        if stalled:
            message = ("the line search stalled: no step decreases the objective beyond "
                       "rounding (at the precision of the data's dtype; features on very "
                       "different scales also do this: standardize them)")
            break
        n_iter += 1
        if accelerated:
            new_momentum = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * momentum**2))
            beta = (momentum - 1.0) / new_momentum
            if float(d @ (x_new - x)) < 0 and n_iter > 1:
                # the momentum pointed uphill: restart it
                new_momentum, beta = 1.0, 0.0
            y = x_new + beta * (x_new - x)
            momentum = new_momentum
        else:
            y = x_new
        x = x_new
        if y is x_new and g_new is not None:  # evaluated there by the line search
            fy, gy = f_new, g_new
        else:
            fy, gy = objective.value_and_grad(y)
            n_evals += 1
        if accelerated:
            F = (f_new if f_new is not None else objective.value(x)) + objective.l1_value(x)
            n_evals += f_new is None
        else:
            F = fy + objective.l1_value(x)
        history.append(F)
        if not np.isfinite(F):
            message = ("the loss became non-finite: the learning rate is too large; lower it "
                       "or leave learning_rate=None for the automatic step")
            break
        opt = l1_optimality(y, gy, l1, mask)
        if opt <= tol:
            converged, message = True, "converged"
            if accelerated:  # optimal at the extrapolated point y: return it, its loss
                x = y
                history[-1] = fy + objective.l1_value(y)
        if not fixed and not converged:
            t *= _GROW
        if callback is not None:
            state = {"x": x.copy(), "y": y.copy(), "t": t, "momentum": momentum,
                     "n_iter": n_iter, "history": list(history)}
            if callback(IterationState(n_iter, F, opt, x.copy(), state)) and not converged:
                message = "stopped by callback"
                break
    return make_result(objective, x, n_iter=n_iter, converged=converged, loss=history[-1],
                       grad_norm=opt, loss_history=history, n_evals=n_evals,
                       message=message, tol=tol, passes_from=passes_from)
