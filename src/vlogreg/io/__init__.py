"""Safe model files: ``save`` and ``load`` without pickle.

A model file is a zip archive holding exactly ``metadata.json`` and one ``.npy`` member
per entry of the metadata's ``arrays`` manifest::

    coef.npy            (1, n_features) for two classes, (n_classes, n_features) otherwise
    intercept.npy       (1,) or (n_classes,)
    loss_history.npy    (n_iter + 1,)  the objective after each iteration
    inference_*.npy     optional, each (p,): coef, std_err, z, p_value, ci_low, ci_high

Arrays are float32 or float64 and are read with ``np.load(allow_pickle=False)`` after
their declared sizes, dtypes and shapes were checked against the metadata. Anything
else (another member, another dtype, a newer format version, a truncated file) is
refused with a one-line ``ValueError``. docs/model-format.md describes every field.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
import zlib

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._estimator import LogisticRegression
from .._paths import open_regular
from .._version import __version__
from ._format import (
    _DATE,
    _INFERENCE,
    _INFERENCE_STATS,
    FORMAT,
    FORMAT_VERSION,
    ModelFile,
    _Invalid,
)
from ._read import _read
from ._tablemodel import TableModel
from .atomic import atomic_write

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_ARRAY_BYTES", "MAX_METADATA_BYTES", "ModelFile",
           "TableModel", "atomic_write", "load", "read_model_file", "save"]

#: refuse a metadata.json larger than this before reading it
MAX_METADATA_BYTES = 32 * 2**20
#: refuse files whose arrays declare more bytes than this, in all, before reading them
MAX_ARRAY_BYTES = 4 * 2**30


# ------------------------------------------------------------------------ writing
def save(model, path, *, feature_names=None, training=None, summary=None):
    """Write a fitted ``LogisticRegression`` to ``path``, atomically.

    Parameters
    ----------
    model : vlogreg.LogisticRegression, fitted
    path : str or os.PathLike
        Written through a temporary file in the same folder, then ``os.replace``.
    feature_names : sequence of str, optional
        Default: ``model.feature_names_in_``, else ``x0, x1, ...``.
    training : dict, optional
        JSON-serialisable description of the training run (stored as is). Default
        for a ``TableModel`` (what ``load`` gives for a model trained on a table, or
        with a stored threshold): ``{"input": model.input_, "threshold": ...}``, so
        that it keeps reading DataFrames and deciding at its threshold.
    summary : vlogreg.inference.Summary, optional
        Standard errors and p-values to store (``vlogreg.inference.summary(model, X, y)``).

    Returns
    -------
    path : str

    The file is read back and validated before it replaces ``path``: ``save`` never
    leaves a file that ``load`` would refuse.
    """
    if not isinstance(model, LogisticRegression):
        raise TypeError(f"save() takes a vlogreg.LogisticRegression, got "
                        f"{type(model).__name__}.")
    check_is_fitted(model)
    if training is None:  # a loaded TableModel keeps its encoding and its threshold
        training = {}
        if isinstance(getattr(model, "input_", None), dict):
            training["input"] = model.input_
        if getattr(model, "threshold_", None) is not None:
            training["threshold"] = {"rule": getattr(model, "threshold_rule_", "stored"),
                                     "value": float(model.threshold_)}
        training = training or None
    meta, arrays = _describe(model, feature_names, training, summary)
    data = json.dumps(meta, allow_nan=False, ensure_ascii=False, indent=1).encode()

    def write(fh):
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(_zinfo("metadata.json"), data)
            for name, arr in arrays.items():
                with zf.open(_zinfo(f"{name}.npy"), "w",
                             force_zip64=arr.nbytes > 2**31) as member:
                    np.lib.format.write_array(member, arr, allow_pickle=False)

    def check(tmp):  # read back: save never leaves a file that load would refuse
        with zipfile.ZipFile(tmp) as zf:
            try:
                _read(zf, path, (MAX_METADATA_BYTES, MAX_ARRAY_BYTES))
            except _Invalid as exc:
                raise ValueError(f"this model cannot be stored in the model format: "
                                 f"{exc}") from None

    path = os.fspath(path)
    atomic_write(path, write, check=check)
    return path


def _zinfo(name):
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _describe(model, feature_names, training, summary):
    """(metadata dict, {name: little-endian float array}) of a fitted model."""
    # dense NumPy, whatever sparsify() or array_api_dispatch made of the attributes
    coef, intercept = model._numpy_attributes()
    if coef.dtype not in (np.float32, np.float64) or intercept.dtype != coef.dtype:
        raise ValueError(f"coef_ ({coef.dtype}) and intercept_ ({intercept.dtype}) must "
                         f"both be float32 or both float64 to be saved.")
    names = feature_names
    if names is None:
        names = getattr(model, "feature_names_in_", None)
    n = int(model.n_features_in_)
    names = [f"x{j}" for j in range(n)] if names is None else [str(s) for s in names]
    if len(names) != n:
        raise ValueError(f"{len(names)} feature names given for {n} features.")
    little = coef.dtype.newbyteorder("<")
    arrays = {"coef": coef.astype(little), "intercept": intercept.astype(little)}
    if getattr(model, "loss_history_", None) is not None:
        arrays["loss_history"] = np.asarray(model.loss_history_, dtype="<f8").reshape(-1)
    inference = None
    if summary is not None:
        inference = {"names": [str(s) for s in summary.names], "kind": str(summary.kind),
                     "alpha": float(summary.alpha), "n_obs": int(summary.n_obs),
                     "sum_weights": float(summary.sum_weights),
                     "log_likelihood": float(summary.log_likelihood),
                     "note": str(summary.note)}
        for k in _INFERENCE_STATS:
            v = getattr(summary, k, None)
            if k in ("cov_type", "n_groups"):
                inference[k] = None if v is None else (str(v) if k == "cov_type" else int(v))
            else:  # JSON has no NaN: a statistic that is not finite is stored as null
                inference[k] = float(v) if v is not None and math.isfinite(v) else None
        for a in _INFERENCE:
            arrays[f"inference_{a}"] = np.asarray(getattr(summary, a), dtype="<f8")
    params = model.get_params(deep=False)
    params.pop("callback", None)
    if isinstance(params.get("random_state"), np.random.RandomState):
        raise ValueError("random_state is a numpy RandomState, which a model file cannot "
                         "hold; fit with an integer seed (or None) to save the model.")
    if params["C"] == math.inf:
        params["C"] = "inf"
    if isinstance(params["class_weight"], dict):
        cw = params["class_weight"]
        params["class_weight"] = {"labels": [_scalar(k) for k in cw],
                                  "weights": [float(v) for v in cw.values()]}
    classes = np.asarray(model.classes_)
    dtype = classes.dtype.str if classes.dtype.kind == "U" else classes.dtype.name
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "vlogreg_version": __version__,
        "estimator": "LogisticRegression", "params": params,
        "classes": {"kind": classes.dtype.kind, "dtype": dtype,
                    "values": [_scalar(c) for c in classes]},
        "n_features": n, "feature_names": names,
        "feature_names_in": hasattr(model, "feature_names_in_"),
        "fit": {"solver": str(getattr(model, "solver_", model.solver)),
                "n_iter": int(np.asarray(getattr(model, "n_iter_", [0])).max()),
                "converged": bool(getattr(model, "converged_", True))},
        "training": training, "inference": inference,
        "arrays": {k: {"dtype": a.dtype.name, "shape": list(a.shape)}
                   for k, a in arrays.items()},
    }
    return meta, arrays


def _scalar(v):
    v = v.item() if isinstance(v, np.generic) else v
    if not isinstance(v, (str, int, float, bool)) or (isinstance(v, float)
                                                      and not math.isfinite(v)):
        raise ValueError(f"class label {v!r} ({type(v).__name__}) cannot be saved; use "
                         f"str, int, bool or finite float labels.")
    return v


# ------------------------------------------------------------------------ reading
def load(path):
    """Read a model file written by ``save``: a fitted ``LogisticRegression``.

    A model trained by ``vlogreg train`` on a CSV or Parquet table comes back as a
    ``TableModel``, which also predicts from a DataFrame of the table's raw columns; one
    trained with ``--threshold`` too, whose ``predict`` applies the stored threshold.

    Raises ``ValueError`` (one line, naming the problem) for anything that is not a
    valid vlogreg model file of a version this vlogreg reads.
    """
    return read_model_file(path).model


def read_model_file(path):
    """Read and validate a model file; return a ``ModelFile``."""
    path = os.fspath(path)
    try:
        # a FIFO or a device (/dev/zero) is refused before a byte is read
        with open_regular(path, "model file") as fh, zipfile.ZipFile(fh) as zf:
            return _read(zf, path, (MAX_METADATA_BYTES, MAX_ARRAY_BYTES))
    except _Invalid as exc:
        raise ValueError(f"{path}: {exc}") from None
    except MemoryError:
        raise ValueError(f"{path}: its arrays do not fit in the memory available now "
                         f"(they are within MAX_ARRAY_BYTES); free memory and load it "
                         f"again.") from None
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        # a safety net: every field is checked above, but a hand-made file must never
        # end in a traceback
        raise ValueError(f"{path}: malformed metadata ({type(exc).__name__}: {exc}).") \
            from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            struct.error) as exc:
        raise ValueError(f"{path} is not a readable vlogreg model file (corrupt or "
                         f"truncated zip: {exc}); save the model again.") from None
