"""Solvers: each reaches the data only through the objective, and returns a SolverResult.

``choose_solver`` is the one home of the rule behind ``solver="auto"`` (see
docs/solvers.md for the measurements behind it):

- an L1 part: "lbfgs" on the split ``w = u - v`` (exact, bound-constrained);
- a small problem (``p <= AUTO_NEWTON_MAX_PARAMS`` parameters and
  ``m p^2 <= AUTO_NEWTON_MAX_FLOPS``, the cost of one Hessian): "newton", a handful of
  cheap iterations;
- otherwise "lbfgs", preconditioned: one read of X per evaluation.

scikit-learn's solver names are accepted too (``SKLEARN_SOLVERS``): each runs the
vlogreg solver of the same family, on the same objective (docs/solvers.md).
"""

from .._names import SOLVER_NAMES
from ._base import IterationState, SolverResult, stop_tol, tol_floor
from .batched_lbfgs import BatchedResult, batched_lbfgs
from .gd import gradient_descent
from .lbfgs import lbfgs
from .newton import newton


def _gd(objective, theta0=None, **kw):
    return gradient_descent(objective, theta0, accelerated=False, **kw)


def _agd(objective, theta0=None, **kw):
    return gradient_descent(objective, theta0, accelerated=True, **kw)


#: solver name -> function(objective, theta0, *, tol, max_iter, callback)
SOLVERS = dict(zip(SOLVER_NAMES, (_gd, _agd, lbfgs, newton)))

#: scikit-learn's solver name -> the vlogreg solver that runs for it (same objective;
#: liblinear serves L1 and L2 on small data, which is what "auto" chooses between)
SKLEARN_SOLVERS = {"lbfgs": "lbfgs", "newton-cg": "newton", "newton-cholesky": "newton",
                   "sag": "agd", "saga": "agd", "liblinear": "auto"}

AUTO_NEWTON_MAX_PARAMS = 200
AUTO_NEWTON_MAX_FLOPS = 1e8


def choose_solver(solver, *, has_l1, n_params, m):
    """The solver that runs for ``solver`` ("auto", a name of ``SOLVERS`` or of
    ``SKLEARN_SOLVERS``) on a problem of ``m`` examples and ``n_params`` parameters, with
    or without an L1 part."""
    solver = SKLEARN_SOLVERS.get(solver, solver)
    if solver != "auto":
        return solver
    if has_l1:
        return "lbfgs"
    small = n_params <= AUTO_NEWTON_MAX_PARAMS and m * n_params ** 2 <= AUTO_NEWTON_MAX_FLOPS
    return "newton" if small else "lbfgs"


__all__ = ["SOLVERS", "SKLEARN_SOLVERS", "SolverResult", "IterationState", "choose_solver",
           "batched_lbfgs", "BatchedResult",
           "gradient_descent", "lbfgs", "newton", "stop_tol", "tol_floor"]
