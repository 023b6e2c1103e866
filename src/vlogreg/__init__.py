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
LogisticRegressionCV    cross-validated C (and l1_ratio), scikit-learn's interface

The names are imported on first use (PEP 562): ``import vlogreg`` alone loads neither
NumPy nor scikit-learn, so that ``vlogreg --version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

#: public name -> (module, attribute in it, or None for the module itself)
_LAZY = {
    "LogisticRegression": ("._estimator", "LogisticRegression"),
    "SeparationWarning": ("._estimator", "SeparationWarning"),
    "LogisticRegressionCV": ("._cv", "LogisticRegressionCV"),
    "logistic_path": ("._regpath", "logistic_path"),
    "path": ("._regpath", "logistic_path"),
    "PathResult": ("._regpath", "PathResult"),
    "LogisticObjective": (".objective.logistic", "LogisticObjective"),
    "LossGrad": (".objective.logistic", "LossGrad"),
    "SolverResult": (".solvers", "SolverResult"),
    "sigmoid": ("._math", "sigmoid"),
    "load": (".io", "load"),
    "save": (".io", "save"),
    "course": (".course", None),
    "data": (".data", None),
    "inference": (".inference", None),
    "reference": (".reference", None),
}

__all__ = ["LogisticRegression", "LogisticRegressionCV", "LogisticObjective", "LossGrad",
           "SeparationWarning", "SolverResult", "course", "data", "inference", "load",
           "reference", "save", "sigmoid", "__version__", "path", "logistic_path",
           "PathResult"]


def __getattr__(name):
    # a subpackage not listed (vlogreg.io, vlogreg.solvers, ...) is reachable as an
    # attribute too, as it was when this file imported everything
    module, attr = _LAZY.get(name, ("." + name, None))
    try:
        mod = importlib.import_module(module, __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module 'vlogreg' has no attribute {name!r}") from None
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # static tools see the names as if imported eagerly
    from . import course, data, inference, reference
    from ._cv import LogisticRegressionCV
    from ._estimator import LogisticRegression, SeparationWarning
    from ._math import sigmoid
    from ._regpath import PathResult, logistic_path
    from ._regpath import logistic_path as path
    from .io import load, save
    from .objective.logistic import LogisticObjective, LossGrad
    from .solvers import SolverResult
