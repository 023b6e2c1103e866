"""The objective: loss, gradient and Hessian of the fit, the only way solvers see data."""

from .logistic import LogisticObjective, LossGrad

__all__ = ["LogisticObjective", "LossGrad"]
