"""vlogreg: logistic regression with the fully vectorized gradient, as fast as the hardware allows.

Public API
----------
LogisticRegression      scikit-learn estimator (binary and multinomial, L2 / L1 / elastic net)
LogisticObjective       the one-pass loss, gradient and Hessian (examples as rows)
SolverResult            what every solver returns
course                  the course's functions, examples as columns
reference               the loop versions (two loops, one loop) and the vectorized one
save, load              safe model files (a zip of JSON and .npy, never pickle; vlogreg.io)
"""

from . import course, reference
from ._estimator import LogisticRegression, SeparationWarning
from .objective.logistic import LogisticObjective, LossGrad
from ._math import sigmoid
from .io import load, save
from .solvers import SolverResult
from ._version import __version__

__all__ = ["LogisticRegression", "LogisticObjective", "LossGrad", "SeparationWarning",
           "SolverResult", "course", "load", "reference", "save", "sigmoid",
           "__version__"]
