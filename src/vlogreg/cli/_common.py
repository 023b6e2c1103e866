"""What several commands share: the one-line usage error, opening a model file,
predicting quietly, JSON-ready values."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..io import read_model_file


class UsageError(Exception):
    """An error in what the user asked for: printed as one line, exit code 2."""


def open_model(path):
    """``(ModelFile, training input spec or {})`` of a model file."""
    mf = read_model_file(path)
    training = mf.metadata["training"] or {}
    return mf, training.get("input") or {}


def predict(model, X):
    """(probabilities (m, K), labels (m,)), quiet about feature names (files have none)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.predict_proba(X), model.predict(X)


def jsonable(v):
    """NumPy scalars as Python ones; NaN and inf as None (JSON has neither)."""
    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and not math.isfinite(v) else v
