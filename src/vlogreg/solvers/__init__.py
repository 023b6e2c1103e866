"""Solvers: each reaches the data only through the objective, and returns a SolverResult."""

from ._base import IterationState, SolverResult
from .gd import gradient_descent
from .lbfgs import lbfgs
from .newton import newton


def _gd(objective, theta0=None, **kw):
    return gradient_descent(objective, theta0, accelerated=False, **kw)


def _agd(objective, theta0=None, **kw):
    return gradient_descent(objective, theta0, accelerated=True, **kw)


#: solver name -> function(objective, theta0, *, tol, max_iter, callback)
SOLVERS = {"gd": _gd, "agd": _agd, "lbfgs": lbfgs, "newton": newton}

__all__ = ["SOLVERS", "SolverResult", "IterationState", "gradient_descent", "lbfgs", "newton"]
