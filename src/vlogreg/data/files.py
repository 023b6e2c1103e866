"""Data files for the command line: CSV, Parquet, Arrow IPC / Feather, newline-delimited
JSON, .npy, .npz and svmlight / LIBSVM.

The format follows the file name's ending. Tables (CSV, Parquet, Arrow, NDJSON; read
with pyarrow) name their columns; the other formats do not, and their features are
named by position, ``x0, x1, ...``:

=============================  ================================================
``.csv`` ``.tsv``              header row; ``--target`` names the label column;
(``.gz`` ``.bz2`` ``.xz``      delimiter detected (``data.delimiter``)
``.zst``)
``.parquet`` ``.pq``           ``--target`` names the label column
``.feather`` ``.arrow``        Arrow IPC (file or stream format); as Parquet
``.ipc``
``.ndjson`` ``.jsonl``         one JSON object per line; as Parquet
``.npy``                       2-D numeric array; ``--target`` is a column index
                               (``-1`` for the last); features keep their index
``.npz``                       array ``X`` (m, n) and labels ``y`` (``--target``
                               names another array instead of ``y``)
``.svm`` ``.svmlight``         labels are the first field of every line;
``.libsvm``                    features ``x<index>`` as written in the file
=============================  ================================================

Every problem is a one-line ``ValueError`` naming the column and the row (rows are
counted from 1, the header excluded).
"""

from __future__ import annotations

import os

import numpy as np

from .._paths import regular_file
from .compressed import CODECS
from .npfiles import load_npy, load_npz
from .sources import memory_budget
from .tables import read_table, require_pyarrow, table_features

_EXT = {".csv": "csv", ".tsv": "csv",
        **{f"{t}{c}": "csv" for t in (".csv", ".tsv") for c in CODECS},
        ".parquet": "parquet", ".pq": "parquet",
        ".feather": "arrow", ".arrow": "arrow", ".ipc": "arrow",
        ".ndjson": "ndjson", ".jsonl": "ndjson", ".npy": "npy", ".npz": "npz",
        ".svm": "svmlight", ".svmlight": "svmlight", ".libsvm": "svmlight"}
#: the formats with named columns (read with pyarrow into a Table)
TABLES = ("csv", "parquet", "arrow", "ndjson")
#: spreadsheet workbooks: not read (that needs openpyxl and friends), named as such
_WORKBOOKS = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".numbers")

__all__ = ["Dataset", "data_format", "read_training_data", "read_data", "require_pyarrow"]


from .dataset import Dataset


def data_format(path):
    """``"csv"``, ``"parquet"``, ``"arrow"``, ``"ndjson"``, ``"npy"``, ``"npz"`` or
    ``"svmlight"``, from the name; a spreadsheet workbook is refused with the fix."""
    name = os.fspath(path).lower()
    for ext in sorted(_EXT, key=len, reverse=True):
        if name.endswith(ext):
            # a FIFO or a device (/dev/zero) would be read without end: refused here
            regular_file(path, "data file", folder_ok=_EXT[ext] == "parquet")
            return _EXT[ext]
    workbook = next((e for e in _WORKBOOKS if name.endswith(e)), None)
    if workbook is not None:
        raise ValueError(f"{os.fspath(path)} is a spreadsheet workbook ({workbook}), which "
                         f"vlogreg does not read; export the sheet as CSV (Save As, 'CSV "
                         f"UTF-8') and give that file.")
    raise ValueError(f"cannot tell the format of {os.fspath(path)!r} from its name; use one "
                     f"of the endings {', '.join(_EXT)}.")


def is_csv_name(path):
    """Whether ``path``'s name says CSV (``.csv``, ``.tsv``, compressed or not)."""
    name = os.fspath(path).lower()
    return any(name.endswith(e) for e, fmt in _EXT.items() if fmt == "csv")


def read_training_data(path, target, *, features=None, exclude=(), one_hot=False,
                       groups=None, options=None, delimiter=None, decimal=None,
                       comment=None, na_values=()):
    """Read X, y and the feature names of a training file (see the module docstring);
    ``groups``: a table's column of cluster labels, read as ``ids`` (not a feature);
    ``options``: a ``TableOptions`` (missing values, reference levels; tables only);
    ``delimiter``, ``decimal``: a CSV file's, detected when None; ``comment``: the
    character that starts a CSV file's lines to skip, or None; ``na_values``: a CSV
    file's missing-value markers besides pyarrow's (empty, NA, NaN, null ...)."""
    fmt = data_format(path)
    if fmt in TABLES:
        if target is None:
            raise ValueError(f"{path}: name the label column with --target.")
        table = read_table(path, fmt, delimiter=delimiter, decimal=decimal,
                           comment=comment, na_values=na_values)
        return table_features(table, path, fmt, target=target, features=features,
                              exclude=exclude, one_hot=one_hot, labels_required=True,
                              id_column=groups, id_what="the --groups column",
                              options=options)
    _tables_only(options, fmt)
    if groups is not None:
        raise ValueError(f"--groups names a column of a CSV or Parquet file; {path} has no "
                         f"column names.")
    if features or exclude or one_hot:
        raise ValueError(f"--features, --exclude and --one-hot select CSV and Parquet "
                         f"columns; for a {fmt} file, select the columns before saving it.")
    if fmt == "npy":
        arr = _load_npy(path)
        t = _column_index(target, arr.shape[1], path)
        keep = [j for j in range(arr.shape[1]) if j != t]
        X, y = _matrix(arr[:, keep], path), _integral(arr[:, t])
        _check_labels(y, path, f"column {t}")
        return Dataset(X, y, [f"x{j}" for j in keep],
                       input={"format": "npy", "target": t, "n_columns": arr.shape[1]})
    if fmt == "npz":
        name = "y" if target is None else target
        X, y = _load_npz(path, name, required=True)
        _check_labels(y, path, f"array {name!r}")
        return Dataset(X, y, [f"x{j}" for j in range(X.shape[1])],
                       input={"format": "npz", "target": name})
    if target is not None:
        raise ValueError(f"{path}: svmlight files hold the label first on every line; "
                         f"leave out --target.")
    X, y = _load_svmlight(path)
    _check_labels(y, path, "the labels")
    offset = int(X.shape[1] > 1 and X[:, 0].nnz == 0)  # 1-based indices: column 0 unused
    X = X[:, offset:]
    return Dataset(X, y, [f"x{j + offset}" for j in range(X.shape[1])],
                   input={"format": "svmlight", "offset": offset})


def read_data(path, model_input, feature_names, *, target=None, id_column=None,
              labels_required=False, options=None, delimiter=None, decimal=None,
              comment=None, na_values=()):
    """Read the features a model was trained on (and labels, ids) from any format.

    Tables are matched by column name (``model_input["columns"]`` or the feature
    names); the other formats by position: ``len(feature_names)`` columns, or one more
    when the model was trained on a .npy file with its label column at the same index.
    """
    fmt = data_format(path)
    n = len(feature_names)
    model_input = checked_input(model_input)
    if fmt in TABLES:
        columns = model_input.get("columns", feature_names)
        one_hot = model_input.get("one_hot", {})
        if target is None and labels_required and model_input.get("format") == "table":
            target = model_input.get("target")
        table = read_table(path, fmt, text_columns=list(one_hot), delimiter=delimiter,
                           decimal=decimal, comment=comment, na_values=na_values)
        return table_features(table, path, fmt, target=target, features=columns,
                              id_column=id_column, categories=one_hot,
                              references=model_input.get("reference", {}),
                              labels_required=labels_required, options=options)
    _tables_only(options, fmt)
    if id_column is not None:
        raise ValueError(f"--id names a column of a CSV or Parquet file; {path} has no "
                         f"column names.")
    y = None
    if fmt == "npy":
        arr = _load_npy(path)
        t = None
        if target is not None:
            t = _column_index(target, arr.shape[1], path)
        elif arr.shape[1] == n + 1 and model_input.get("format") == "npy":
            t = _column_index(model_input.get("target"), n + 1, path)
        if t is not None:
            y = _integral(arr[:, t])
            arr = arr[:, [j for j in range(arr.shape[1]) if j != t]]
        X = _matrix(arr, path)
    elif fmt == "npz":
        X, y = _load_npz(path, "y" if target is None else target,
                         required=labels_required or target is not None)
    else:
        offset = model_input.get("offset", 0) if model_input.get("format") == "svmlight" \
            else 0
        X, y = _load_svmlight(path, n_features=n + offset)
        if offset and X[:, 0].nnz:
            raise ValueError(f"{path} uses feature index 0, but the model was trained on "
                             f"a file whose indices start at 1.")
        X = X[:, offset:]
    if X.shape[1] != n:
        raise ValueError(f"{path} has {X.shape[1]} feature columns, but the model takes "
                         f"{n}; give the same columns as in training.")
    if not (labels_required or target is not None):
        y = None
    elif y is None:
        raise ValueError(f"{path} has no label column; pass --target with the label "
                         f"column's index (.npy) or array name (.npz).")
    else:
        _check_labels(y, path, "the labels")
    return Dataset(X, y, list(feature_names))


def _tables_only(options, fmt):
    if options is not None and options.missing == "drop":
        raise ValueError(f"--missing drop applies to CSV and Parquet tables; remove the "
                         f"rows with missing values from the {fmt} file first.")


def checked_input(spec):
    """``training.input`` of a model file, checked (the file may have been edited);
    ``reference`` ({column: level}, absent in files written before it) names the
    level of each one-hot column that has no 0/1 column."""
    if not isinstance(spec, dict):
        return {}
    columns, one_hot = spec.get("columns", []), spec.get("one_hot", {})
    refs = spec.get("reference", {})
    ok = (isinstance(columns, list) and all(isinstance(c, str) for c in columns)
          and isinstance(one_hot, dict) and all(isinstance(v, list) for v in one_hot.values())
          and isinstance(refs, dict)
          and all(isinstance(v, str) and v in one_hot.get(k, ()) for k, v in refs.items())
          and spec.get("offset", 0) in (0, 1)
          and isinstance(spec.get("target"), (str, int, type(None))))
    if not ok:
        raise ValueError("the model file's training.input (how to read its features) is "
                         "damaged; train the model again.")
    return spec


# ------------------------------------------------------------------- arrays
def _load_npy(path):
    arr = load_npy(path)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{path} must hold a 2-D numeric array (examples as rows), got "
                         f"{arr.dtype} of shape {arr.shape}.")
    return arr


def _load_npz(path, target, *, required):
    arrays, names = load_npz(path, ["X", target])
    if "X" not in arrays:
        raise ValueError(f"{path} has no array 'X' (it has {', '.join(names)}); save the "
                         f"features as X, e.g. np.savez(path, X=X, y=y).")
    X = _matrix(arrays["X"], path, "X")
    if target not in arrays:
        if required:
            raise ValueError(f"{path} has no label array {target!r} (it has "
                             f"{', '.join(names)}); name it with --target.")
        return X, None
    y = arrays[target]
    if y.ndim != 1 or len(y) != X.shape[0]:
        raise ValueError(f"{path}: labels {target!r} have shape {y.shape}, expected "
                         f"({X.shape[0]},), one per row of X.")
    return X, y


def _load_svmlight(path, n_features=None):
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(path, n_features=n_features, dtype=np.float64,
                                  zero_based=True)
    except ValueError as exc:
        raise ValueError(f"{path} is not a valid svmlight / LIBSVM file ({exc}).") from None
    bad = ~np.isfinite(X.data)
    if bad.any():
        row = int(np.searchsorted(X.indptr, np.flatnonzero(bad)[0], side="right")) - 1
        raise ValueError(f"{path}: row {row + 1} holds a NaN or inf feature value; remove "
                         f"or impute it.")
    X = X.tocsr()
    _check_width(X, path)
    return X, _integral(y)


#: a fit keeps about this many vectors of the model's size (coefficients, gradient,
#: L-BFGS pairs, ...); a sparse file's width sets that size
_MODEL_COPIES = 32


def _check_width(X, path):
    """Refuse a sparse file whose largest feature index makes the dense model larger
    than the memory budget (one line of text can name feature 2,000,000,000)."""
    need, budget = X.shape[1] * 8 * _MODEL_COPIES, memory_budget()
    if need > budget and X.nnz:
        at = int(np.argmax(X.indices))
        row = int(np.searchsorted(X.indptr, at, side="right"))
        raise ValueError(f"{path}: row {row} uses feature index {int(X.indices[at])}, so "
                         f"the model would have {X.shape[1]} coefficients per class and "
                         f"need about {need / 2**30:.3g} GiB, more than the memory budget "
                         f"of {budget / 2**30:.3g} GiB; renumber the features densely "
                         f"(or raise VLOGREG_MEMORY_BUDGET).")


def _matrix(arr, path, name="the array"):
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"{path}: {name} must be a 2-D numeric array, got {arr.dtype} of "
                         f"shape {arr.shape}.")
    X = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"{path}: column {j} has a NaN or inf at row {i + 1}; remove or "
                         f"impute the missing values first.")
    return X


def _column_index(target, n_columns, path):
    try:
        t = int(target)
    except (TypeError, ValueError):
        raise ValueError(f"for a .npy file --target is the label column's index (e.g. -1 "
                         f"for the last column), got {target!r}.") from None
    if not -n_columns <= t < n_columns:
        raise ValueError(f"--target {t} is out of range: {path} has {n_columns} columns.")
    return t % n_columns


def _integral(y):
    """Float labels that are all whole numbers (svmlight, .npy) as int64."""
    if y.dtype.kind == "f" and np.isfinite(y).all() and np.all(y == np.round(y)) \
            and np.abs(y).max(initial=0) < 2**53:
        return y.astype(np.int64)
    return y


def _check_labels(y, path, where):
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{path}: {where} has a NaN or inf label at row {row + 1}; every "
                         f"example needs a label.")



def match_labels(y, classes, path):
    """``y`` in the type of the model's ``classes``; an unknown label names its row."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "UO" and y.dtype.kind not in "UO":
        y = y.astype(str)
    elif classes.dtype.kind in "biuf" and y.dtype.kind in "UO":
        try:
            y = y.astype(classes.dtype)
        except ValueError:
            pass  # reported as unknown labels below
    known = np.isin(y, classes)
    if not known.all():
        row = int(np.flatnonzero(~known)[0])
        shown = ", ".join(map(str, classes[:20])) + (", ..." if len(classes) > 20 else "")
        label = y[row].item() if isinstance(y[row], np.generic) else y[row]
        raise ValueError(f"{path}: the label {label!r} at row {row + 1} is not one of the "
                         f"model's classes ({shown}).")
    return y
