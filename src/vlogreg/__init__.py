"""vlogreg: logistic regression with the fully vectorized gradient, as fast as the hardware allows.

Public API
----------
LogisticRegression      scikit-learn estimator (binary and multinomial, L2 / L1 / elastic net)
LogisticRegressionCV    C (and l1_ratio) by cross-validation, the folds' fits batched
LogisticObjective       the one-pass loss, gradient and Hessian (examples as rows)
SolverResult            what every solver returns
course                  the course's functions, examples as columns
reference               the loop versions (two loops, one loop) and the vectorized one
save, load              safe model files (a zip of JSON and .npy, never pickle; vlogreg.io)
inference               standard errors, z-statistics, p-values, confidence intervals
data                    open_source(path): .npy / Parquet / Zarr files streamed by fit
path, logistic_path     coefficients along a grid of C, warm-started (PathResult)
"""

from . import course, data, inference, reference
from ._cv import LogisticRegressionCV
from ._estimator import LogisticRegression, SeparationWarning
from ._math import sigmoid
from ._regpath import PathResult, logistic_path
from ._version import __version__
from .io import load, save
from .objective.logistic import LogisticObjective, LossGrad
from .solvers import SolverResult

__all__ = ["LogisticRegression", "LogisticRegressionCV", "LogisticObjective", "LossGrad", "SeparationWarning",
           "SolverResult", "course", "data", "inference", "load", "reference", "save",
           "sigmoid", "__version__", "path", "logistic_path", "PathResult"]

path = logistic_path
