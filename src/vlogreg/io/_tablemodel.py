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

A binary model trained with ``vlogreg train --threshold RULE`` stores the threshold it
picked; ``load`` gives such a model (of any input format) as a ``TableModel`` whose
``predict`` applies it (``threshold_``), so Python and ``vlogreg predict`` give the
same labels. ``predict_proba`` and ``decision_function`` do not depend on it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._estimator import LogisticRegression
from .._threshold import stored_threshold
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
    threshold_ : float or None
        The threshold stored by ``vlogreg train --threshold`` (binary models):
        ``predict`` gives ``classes_[1]`` where ``P(classes_[1]) >= threshold_``.
        None: the most probable class, as ``LogisticRegression.predict``.
    threshold_rule_ : str
        The rule that picked it (``youden``, ``f1``, or ``given`` for a number).
    """

    handle_unknown = "error"
    input_ = None
    threshold_ = None

    def _encode(self, X):
        table = _as_arrow(X)
        if table is None:
            return X
        if self.input_ is None:
            raise ValueError("this model was not trained on a table, so it does not read "
                             "DataFrames of raw columns; pass X as an array of the "
                             "model's feature columns.")
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

    def _inference_X(self, X):
        """``summary(model, X, y)`` takes what ``predict`` takes: a DataFrame of raw
        columns, or X encoded in the order of ``feature_names_in_`` (no names warning)."""
        return self._quiet(super()._inference_X, X)

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
        """Predicted labels (m,) of a DataFrame of raw columns or an encoded X: at the
        stored ``threshold_`` when there is one, else the most probable class."""
        if self.threshold_ is None:
            return self._quiet(super().predict, X)
        p = self.predict_proba(X)[:, 1]
        return np.where(p >= self.threshold_, self.classes_[1], self.classes_[0])


def table_model(model, meta):
    """``model`` as a ``TableModel`` when the file says how to read a table or stores a
    decision threshold, else as is.

    A ``training.input`` that does not check out (an edited file) leaves no table
    spec: ``vlogreg predict`` reports the damage when it needs it.
    """
    spec = _table_spec(meta)
    stored = stored_threshold(meta) if len(model.classes_) == 2 else None
    if spec is None and stored is None:
        return model
    out = TableModel(**model.get_params(deep=False))
    out.__dict__.update(model.__dict__)
    if spec is not None:
        out.input_ = spec
        out.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    if stored is not None:
        out.threshold_ = stored["value"]
        out.threshold_rule_ = str(stored.get("rule", "stored"))
    return out


def _table_spec(meta):
    """The checked ``training.input`` of a table, or None."""
    spec = (meta.get("training") or {}).get("input")
    if not isinstance(spec, dict) or spec.get("format") != "table":
        return None
    try:
        spec = checked_input(spec)
    except ValueError:
        return None
    if not isinstance(spec.get("columns"), list) or not spec["columns"]:
        return None
    return spec
