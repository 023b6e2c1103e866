"""The backend protocol: what the estimator asks of the place where the data live.

A backend is a module with three functions; ``backend_for(X)`` picks one per call, and
the estimator never branches on it. A backend never calls the estimator: it gets the
fit's hyper-parameters as a plain ``FitSpec`` and, to predict, reads a fitted model's
attributes (``FittedModel``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from .._spec import FitSpec
from ..objective.protocol import Objective


@dataclass
class FitData:
    """What ``prepare`` returns: the objective and what the estimator records.

    Attributes
    ----------
    objective : Objective
        Loss, gradient and Hessian of the fit on these data (class indices, final
        weights and penalty strengths inside).
    classes : ndarray (K,)
        The sorted class labels; the objective's labels are indices into it.
    n_features : int
    feature_names : ndarray of str, or None
        The column names, when X has string column names (a DataFrame, a Parquet file).
    to_input : callable or None
        Moves a fitted NumPy attribute (``coef_``, ``intercept_``) to X's namespace and
        device, where scikit-learn's rule asks for it (an array-API X with
        ``array_api_dispatch`` on); None: the attributes stay NumPy.
    """

    objective: Objective
    classes: np.ndarray
    n_features: int
    feature_names: np.ndarray | None = None
    to_input: Callable | None = None


class FittedModel(Protocol):
    """The attributes of a fitted linear model that prediction reads."""

    coef_: np.ndarray        # (1, n) or (K, n)
    intercept_: np.ndarray   # (1,) or (K,)
    classes_: np.ndarray     # (K,)
    n_features_in_: int


@runtime_checkable
class Backend(Protocol):
    """The three functions of a backend module."""

    def prepare(self, X, y, sample_weight, spec: FitSpec) -> FitData:
        """Validate (X, y, sample_weight) in their own library (one-line errors naming
        the row, column and fix), encode the labels and weights once (``_labels``), and
        build the objective. Reads the data at most once besides the objective's own
        passes (a chunked backend checks and encodes in one pass)."""

    def decision_function(self, X, model: FittedModel) -> Any:
        """``z = X coef^T + intercept``: (m,) for two classes, (m, K) otherwise, in X's
        library (lazy where it is lazy); X checked against the model's features."""

    def map_rows(self, fn: Callable, z, n_cols: int | None, dtype=None) -> Any:
        """``fn`` applied to the rows of z, block by block where the backend is lazy:
        ``fn`` maps a block (r,) / (r, K) to (r, n_cols), or to (r,) for ``n_cols=None``."""


def set_features(names):
    """Column names as scikit-learn keeps them (an object array of str), or None."""
    return None if names is None else np.asarray(list(names), dtype=object)
