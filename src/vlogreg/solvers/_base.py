"""What every solver shares: the result dataclass, the per-iteration report, stopping.

A solver is a function ``solve(objective, theta0, *, tol, max_iter, callback, ...)``
that reaches the data only through the objective (``value_and_grad``, ``value``,
``hessp``, ``hessian``, ``l1``) and returns a ``SolverResult``. It never branches on
the array type: that lives below the objective.

The stopping rule, one for every solver: converged when the max-norm of the gradient
of the problem as posed (in the original coordinates, whatever preconditioning a solver
uses inside; the minimum-norm subgradient with an L1 part), evaluated at the returned
theta, is at most ``stop_tol(tol, dtype)``. Nothing else counts as convergence: a flat
objective, a stalled line search or ``max_iter`` end the run unconverged.
``stop_tol`` raises a tol below what X's dtype can resolve to ``tol_floor(dtype)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..objective.passes import passes_of


@dataclass
class IterationState:
    """Passed to ``callback`` after each iteration (for progress bars and logging)."""

    n_iter: int
    loss: float
    grad_norm: float
    theta: np.ndarray
    #: what the solver's ``resume=`` needs to continue from here (arrays and floats)
    state: dict = None


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    theta : ndarray, shape (n_params,)
        The flat solution ``[coef.ravel(), intercept]`` (float64).
    coef : ndarray, shape (n,) or (n, K)
    intercept : float or ndarray (K,)
    n_iter : int
        Iterations made (one iteration = one step of the method).
    converged : bool
        True when the optimality measure ``grad_norm`` reached ``tol``.
    loss : float
        Final objective value, penalties included.
    grad_norm : float
        Final optimality measure: the max-norm of the (projected / proximal) gradient.
    loss_history : list of float
        Objective value after each iteration (the starting value first).
    n_evals : int
        Loss or loss+gradient evaluations (passes over X), line searches included.
    n_passes : float
        Every read of X the solver made (``objective.passes``): evaluations, Hessian
        products, the preconditioner's subsample (its share of the rows). The solver's
        cost is ``n_passes`` times one read of X; ``n_evals`` when the objective keeps
        no count.
    passes : dict
        ``n_passes`` by kind (``vlogreg.objective.passes.KINDS``), kinds with none left
        out.
    message : str
    tol : float
        The tolerance the run stopped on: ``stop_tol(tol, dtype)``.
    """

    theta: np.ndarray
    coef: np.ndarray
    intercept: object
    n_iter: int
    converged: bool
    loss: float
    grad_norm: float
    loss_history: list = field(default_factory=list)
    n_evals: int = 0
    message: str = ""
    tol: float = 0.0
    n_passes: float = 0.0
    passes: dict = field(default_factory=dict)


#: tol_floor's multiple of the dtype's machine epsilon. The gradient is a sum of terms
#: x_ij dz_i whose z carry X's rounding: at the optimum a float32 gradient is resolved
#: to 1e-8 .. 3e-7 on iris, standardized breast cancer and make_classification (1 to 3
#: eps), so 32 eps (3.8e-6) leaves a margin of 10; in float64 (7.1e-15) it is below any
#: tol in use. Raw features of size 1e3 and more resolve worse (breast cancer: 2e-5 in
#: float32): the ConvergenceWarning then says to scale them.
FLOOR_EPS = 32


def tol_floor(dtype):
    """The smallest gradient max-norm a fit on data of ``dtype`` is asked to reach:
    ``FLOOR_EPS * eps(dtype)``, 7.1e-15 for float64 and 3.8e-6 for float32."""
    return FLOOR_EPS * float(np.finfo(np.dtype(dtype)).eps)


def stop_tol(tol, dtype):
    """The tolerance a solver stops on: ``tol``, raised to ``tol_floor(dtype)``."""
    return max(float(tol), tol_floor(dtype))


def pass_snapshot(objective):
    """The objective's pass counts now (None when it keeps none), for ``make_result``."""
    p = passes_of(objective)
    return None if p is None else p.snapshot()


def make_result(objective, theta, *, n_iter, converged, loss, grad_norm, loss_history,
                n_evals, message, tol, passes_from=None):
    """The ``SolverResult``; ``passes_from`` is ``pass_snapshot`` at the solver's start."""
    coef, intercept = objective.unpack(theta)
    counter = passes_of(objective)
    passes = {} if counter is None or passes_from is None else counter.since(passes_from)
    n_passes = float(sum(passes.values())) if passes_from is not None and counter \
        is not None else float(n_evals)
    return SolverResult(theta=np.asarray(theta, dtype=np.float64), coef=np.array(coef),
                        intercept=np.array(intercept) if np.ndim(intercept) else
                        float(intercept), n_iter=int(n_iter), converged=bool(converged),
                        loss=float(loss), grad_norm=float(grad_norm),
                        loss_history=[float(v) for v in loss_history],
                        n_evals=int(n_evals), message=message, tol=float(tol),
                        n_passes=n_passes, passes=passes)


def start_point(objective, theta0, resume):
    """Where a solver starts: the resumed state's ``x``, else ``theta0``, else zeros
    (a float64 copy: the solver may update it in place)."""
    if resume is not None:
        return np.array(resume["x"], dtype=np.float64)
    return objective.zeros() if theta0 is None else np.array(theta0, dtype=np.float64)


def check_tol_max_iter(tol, max_iter):
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}.")
    if int(max_iter) != max_iter or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}.")


def soft_threshold(theta, threshold, mask):
    """Proximal operator of ``threshold * ||theta[mask]||_1``."""
    out = theta.copy()
    t = theta[mask]
    out[mask] = np.sign(t) * np.maximum(np.abs(t) - threshold, 0.0)
    return out


def min_norm_subgradient(theta, g, lam):
    """The minimum-norm subgradient of ``f + sum_j lam_j |theta_j|`` (0 at the optimum).

    ``theta``, ``g`` (the smooth gradient) and ``lam`` (per-entry L1 weights, 0 for
    unpenalized entries) broadcast together, e.g. (p, k) for k models::

        r_j = g_j + lam_j sign(theta_j)                 where theta_j != 0
        r_j = sign(g_j) max(|g_j| - lam_j, 0)           where theta_j == 0
    """
    return np.where(theta != 0, g + lam * np.sign(theta),
                    np.sign(g) * np.maximum(np.abs(g) - lam, 0.0))


def l1_optimality(theta, g, l1, mask):
    """Max-norm of the minimum-norm subgradient of ``f + l1 ||w||_1`` (0 at the optimum)."""
    if l1 == 0.0:
        return float(np.max(np.abs(g))) if g.size else 0.0
    r = min_norm_subgradient(theta, g, np.where(mask, l1, 0.0))
    return float(np.max(np.abs(r))) if r.size else 0.0
