"""``TableModel``: a model trained by ``vlogreg train`` on a table, usable from Python.

``vlogreg.load`` returns one for a model file whose ``training.input`` describes a
CSV or Parquet table. Its ``predict``, ``predict_proba``, ``predict_log_proba`` and
``decision_function`` take a pandas or polars DataFrame (or a pyarrow Table) of the
file's raw columns and build X as ``vlogreg predict`` does, by the one reader of the
command line (``data.tables.table_features``): the stored column order, the stored
text levels and reference levels (``data.encoding``). ``standardize=True`` needs
nothing more: the coefficients are stored on the original scale. A NumPy array (or
sparse matrix) is taken to be X already encoded, in the order of
``feature_names_in_``, as before.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._estimator import LogisticRegression
from ..data.encoding import TableOptions
from ..data.files import checked_input

_NAMES_WARNING = "X does not have valid feature names"


def _as_arrow(X):
    """A pyarrow Table of a pandas / polars DataFrame or pyarrow Table, else None."""
    module = type(X).__module__.split(".")[0]
    if module not in ("pandas", "polars", "pyarrow"):
        return None
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError("predicting from a DataFrame of raw columns needs pyarrow; "
                          "install it with pip install 'vlogreg[cli]'.") from None
    if isinstance(X, pa.Table):
        return X
    if module == "polars" and hasattr(X, "to_arrow"):
        return X.to_arrow()
    if module == "pandas" and hasattr(X, "columns"):
        return pa.Table.from_pandas(X, preserve_index=False)
    return None


class TableModel(LogisticRegression):
    """A ``LogisticRegression`` that also reads DataFrames of raw columns.

    Attributes
    ----------
    input_ : dict
        The model file's ``training.input``: ``columns`` (the raw feature columns, in
        order), ``one_hot`` ({column: sorted levels}), ``reference`` ({column: the
        level without a 0/1 column}), ``target``.
    feature_names_in_ : ndarray of str, shape (n_features,)
        The encoded columns (``age``, ``married=yes``, ...): the columns of X.
    handle_unknown : {"error", "ignore"}
        A text level never seen in training: an error naming column and values
        (default), or all zeros in that column's 0/1 columns.
    """

    handle_unknown = "error"

    def _encode(self, X):
        table = _as_arrow(X)
        if table is None:
            return X
        from ..data.tables import table_features

        spec = self.input_
        if table.num_rows == 0:
            raise ValueError("the DataFrame has no rows.")
        data = table_features(
            table, "the DataFrame", "table", features=spec["columns"],
            categories=spec.get("one_hot", {}), references=spec.get("reference", {}),
            options=TableOptions(handle_unknown=self.handle_unknown, python=True))
        return data.X

    def _quiet(self, method, X):
        X = self._encode(X)
        with warnings.catch_warnings():  # X is in the order of feature_names_in_
            warnings.filterwarnings("ignore", message=_NAMES_WARNING)
            return method(X)

    def decision_function(self, X):
        """``z = X coef^T + intercept`` of a DataFrame of raw columns or an encoded X."""
        return self._quiet(super().decision_function, X)

    def predict_proba(self, X):
        """Class probabilities (m, K) of a DataFrame of raw columns or an encoded X."""
        return self._quiet(super().predict_proba, X)

    def predict_log_proba(self, X):
        """Log-probabilities (m, K) of a DataFrame of raw columns or an encoded X."""
        return self._quiet(super().predict_log_proba, X)

    def predict(self, X):
        """Predicted labels (m,) of a DataFrame of raw columns or an encoded X."""
        return self._quiet(super().predict, X)


def table_model(model, meta):
    """``model`` as a ``TableModel`` when the file says how to read a table, else as is.

    A ``training.input`` that does not check out (an edited file) leaves the plain
    model: ``vlogreg predict`` reports the damage when it needs the spec.
    """
    spec = (meta.get("training") or {}).get("input")
    if not isinstance(spec, dict) or spec.get("format") != "table":
        return model
    try:
        spec = checked_input(spec)
    except ValueError:
        return model
    if not isinstance(spec.get("columns"), list) or not spec["columns"]:
        return model
    out = TableModel(**model.get_params(deep=False))
    out.__dict__.update(model.__dict__)
    out.input_ = spec
    out.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    return out
