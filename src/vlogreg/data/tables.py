"""Tables (read with pyarrow: CSV in ``data.csvfile``, Parquet, Arrow IPC and
newline-delimited JSON in ``data.arrowfiles``) turned into X, y and ids.

A numeric column (integers, floats, booleans) is a feature as it is. A text column
is encoded as 0/1 columns when asked (``data.encoding``: one column per level but the
reference level, as statsmodels' treatment coding), and rejected otherwise; a text
column whose distinct values are mostly numbers is taken for a numeric column with a
typo, and the first value that is not a number is named. Rows with missing values
(empty fields, ``NA``, ``NaN``...) are an error that counts them per column, or are
left out (``TableOptions.missing``, ``data.screening``); infinities are errors that
name the column and the row (counted from 1, the header excluded)."""

from __future__ import annotations

import math
import shlex

import numpy as np

from .arrowfiles import read_ipc, read_ndjson, read_parquet
from .csvfile import read_csv
from .dataset import Dataset
from .delimiter import COMMA_NUMBER, SIGNED, THOUSANDS, THOUSANDS_POINT
from .encoding import TableOptions, check_levels, encode_levels, reference_level
from .screening import (
    column_notes,
    index_note,
    missing_rows,
    pandas_index,
    refuse_empty_columns,
)

_LIST_MAX = 20  # column names shown in an error message


def require_pyarrow(path):
    """``pyarrow``, or a one-line ImportError saying which extra to install."""
    try:
        import pyarrow
    except ImportError:
        raise ImportError(f"reading and writing {path} needs pyarrow; install it with "
                          f"pip install 'vlogreg[cli]'.") from None
    return pyarrow


def read_table(path, fmt, *, text_columns=(), delimiter=None, decimal=None,
               comment=None, na_values=()):
    """A pyarrow Table from a table file of format ``fmt`` (``data.files``: csv,
    parquet, arrow, ndjson); a CSV file's ``delimiter`` and ``decimal`` mark are
    detected when None, and its lines that start with ``comment`` are skipped
    (``data.csvfile``), and ``na_values`` are missing values too."""
    pa = require_pyarrow(path)
    if fmt == "csv":
        table = read_csv(path, pa, text_columns=text_columns, delimiter=delimiter,
                         decimal=decimal, comment=comment, na_values=na_values)
    else:
        read = {"parquet": read_parquet, "arrow": read_ipc, "ndjson": read_ndjson}[fmt]
        table = read(path, pa)
    names = table.column_names
    dups = sorted({c for c in names if names.count(c) > 1})
    if dups:
        raise ValueError(f"{path} has several columns named {', '.join(map(repr, dups))}; "
                         f"give every column its own name.")
    if table.num_rows == 0:
        raise ValueError(f"{path} has no data rows.")
    return table


def _comma_hint(table, columns, row=0):
    """A hint naming the ``columns`` whose text from ``row`` on holds numbers written
    with a decimal comma (``3,25``) or thousands separators (``1,234``), or ""."""
    def commas(c):
        return [v.strip() for v in table.column(c).slice(row, 20).to_pylist()
                if isinstance(v, str) and (COMMA_NUMBER.fullmatch(v.strip())
                                           or THOUSANDS_POINT.fullmatch(v.strip()))]
    found = {c: commas(c) for c in columns}
    found = {c: v for c, v in found.items() if v}
    if not found:
        return _sign_hint(table, columns, row)
    names = f"{', '.join(map(repr, found))} {'looks' if len(found) == 1 else 'look'}"
    if any(THOUSANDS_POINT.fullmatch(v) for vs in found.values() for v in vs):
        return (f" ({names} written with thousands separators (1,234.5): remove them, "
                f"e.g. pandas.read_csv(path, thousands=',').to_csv(path, index=False))")
    if all(THOUSANDS.fullmatch(v) for vs in found.values() for v in vs):
        return (f" ({names} written with a decimal comma or with thousands separators: "
                f"pass --decimal , for a decimal comma, or remove the separators)")
    return f" ({names} written with a decimal comma: pass --decimal ,)"


def _sign_hint(table, columns, row):
    """A hint naming the ``columns`` whose text from ``row`` on is all numbers written
    with a percent or currency sign (``12%``, ``$1,234.50``), or ""."""
    def signed(c):
        values = [v for v in table.column(c).slice(row, 20).to_pylist() if v is not None]
        return bool(values) and all(isinstance(v, str) and SIGNED.fullmatch(v.strip())
                                    for v in values)
    found = [c for c in columns if signed(c)]
    if not found:
        return ""
    return (f" ({', '.join(map(repr, found))} {'holds' if len(found) == 1 else 'hold'} "
            f"numbers written with a % or currency sign: remove the signs (and any "
            f"thousands separators) so that they read as numbers)")


def _na_hint(value, fmt):
    """A hint for a CSV value that is no number and no word (``?``, ``-``, ``.``):
    a missing-value marker, as UCI's adult writes ``?``; or ""."""
    text = value.as_py()
    if fmt != "csv" or not isinstance(text, str) or not text.strip() \
            or any(ch.isalnum() for ch in text):
        return ""
    return (f" (if {text!r} marks a missing value, pass --na-values "
            f"{shlex.quote(text)}, and --missing drop to leave those rows out)")


def table_features(table, path, fmt, *, target=None, features=None, exclude=(),
                   id_column=None, one_hot=False, categories=None, references=None,
                   labels_required=False, id_what="the --id column", options=None):
    """``Dataset`` of the feature columns (all but target / id / exclude by default).

    ``categories`` ({column: sorted levels}) and ``references`` ({column: the level
    without a column}; absent in files written before references: every level kept)
    are the encoding of a trained model; without them, ``one_hot`` decides whether
    text columns are encoded (``data.encoding``: reference coding unless
    ``options.keep_all_levels``). ``options`` (``TableOptions``) says what a missing
    value and an unseen level do.
    """
    import pyarrow as pa

    options = options or TableOptions()
    training = categories is None
    table = _decoded(table)
    names = table.column_names

    def check_present(cols, what):
        absent = [c for c in cols if c not in names]
        if absent:
            shown = ", ".join(names[:_LIST_MAX]) + (
                f", ... ({len(names) - _LIST_MAX} more)" if len(names) > _LIST_MAX else "")
            missing = ", ".join(map(repr, absent[:5])) + (
                f" and {len(absent) - 5} more" if len(absent) > 5 else "")
            if len(absent) > 1:  # "no columns 'x1', 'grp' (features of the model)"
                what = what.replace("a feature", "features")
            raise ValueError(f"{path} has no column{'s' * (len(absent) > 1)} {missing} "
                             f"({what}); its columns are: {shown}.")
    with_labels = target is not None and (labels_required or target in names)
    if with_labels:
        check_present([target], "the --target label column")
    if id_column is not None:
        check_present([id_column], id_what)
    check_present(list(exclude), "given to --exclude")
    index = []
    if features is None:
        index = [c for c in pandas_index(table) if c not in (target, id_column)]
        features = [c for c in names if c not in (target, id_column) and c not in exclude
                    and c not in index]
    else:
        check_present(features, "a feature of the model" if not training
                      else "given to --features")
        if target in features and training:
            raise ValueError(f"the label column {target!r} cannot also be a feature; drop "
                             f"it from --features.")
        if target in features:  # evaluate --target naming one of the model's features
            raise ValueError(f"--target {target} names a feature of the model, not a label "
                             f"column; name the column of true labels with --target.")
    if not features:
        raise ValueError(f"{path} has no feature columns left besides the label column.")
    if training:
        refuse_empty_columns(table, features, path)
    # rows with a missing value: an error, or left out (a prediction keeps their ids)
    used = list(features) + ([target] if with_labels else []) + \
        ([id_column] if training and id_column is not None else [])
    dropped = missing_rows(table, used, path, options)
    file_ids = None
    if dropped is not None:
        if id_column is not None:
            file_ids = table.column(id_column).to_numpy(zero_copy_only=False)
        table = table.filter(pa.array(~dropped))
    # the file's row number (from 1, header excluded) of each kept row: messages name
    # rows of the file, not of what is left after --missing drop
    rows = None if dropped is None else np.flatnonzero(~dropped) + 1
    y = labels_of(table, target, path, rows) if with_labels else None
    ids = None if id_column is None else \
        table.column(id_column).to_numpy(zero_copy_only=False)
    blocks, out_names, encoding, refs, text, spans = [], [], {}, {}, [], {}
    number_text = []  # notes: numbers written as text that --one-hot encoded
    for c in features:
        col, start = table.column(c), len(out_names)
        if not training and c in categories:
            ref = (references or {}).get(c)
            cats = check_levels(categories[c], ref, c)
        elif _is_text(col):
            share, bad = _text_numbers(col)
            if bad and (share > 0.5 or not training):
                row = _first_row(col, bad)
                raise ValueError(f"{path}: column {c!r} has the value {col[row].as_py()!r} "
                                 f"at row {_row(row, rows)}, which is not a number; "
                                 f"correct it or remove the row"
                                 f"{_comma_hint(table, [c], row) or _na_hint(col[row], fmt)}.")
            if bad and not one_hot:
                text.append(c)
                continue
            _no_missing(col, c, path)
            if not bad:  # numbers stored as text (e.g. a Parquet string column)
                blocks.append(_numbers(col.cast(pa.float64()), c, path, rows))
                out_names.append(c)
                spans[c] = (start, start + 1, False)
                continue
            cats = sorted(col.unique().drop_null().cast(pa.string()).to_pylist())
            ref = reference_level(cats, c, options)
        else:
            blocks.append(_numbers(col, c, path, rows))
            out_names.append(c)
            spans[c] = (start, start + 1, False)
            continue
        _no_missing(col, c, path)
        values = np.asarray(col.cast(pa.string()).to_pylist(), dtype=str)
        block, block_names = encode_levels(values, c, cats, ref, path, options,
                                           rows=rows)
        blocks.append(block)
        out_names += block_names
        spans[c] = (start, len(out_names), True)
        encoding[c] = cats
        hint = _comma_hint(table, [c]) if training else ""
        if hint:  # one category per price or percentage: almost surely not meant
            number_text.append(f"--one-hot made each of the {len(cats)} values of column "
                               f"{c!r} a category of its own{hint}.")
        if ref is not None:
            refs[c] = ref
    if text:
        raise ValueError(f"{path}: feature column(s) {', '.join(map(repr, text))} hold text; "
                         f"pass --one-hot to encode them as 0/1 columns, or leave them out "
                         f"with --exclude"
                         f"{_comma_hint(table, text)}.")
    stray = [c for c in options.reference if c not in encoding] if training else []
    if stray:
        raise ValueError(f"--reference names column(s) {', '.join(map(repr, stray))}, "
                         f"which are not text features encoded by --one-hot.")
    if not out_names:
        raise ValueError(f"{path}: the features give no columns (a text column with one "
                         f"level has nothing to compare with its reference level).")
    X = np.column_stack(blocks)
    notes = [index_note(c) for c in index if c not in exclude] + number_text + \
        column_notes(table, features) if training else []
    return Dataset(X, y, out_names, ids, input={
        "format": "table", "columns": list(features), "one_hot": encoding,
        "reference": refs, "target": target}, dropped=dropped, file_ids=file_ids,
        notes=notes, blocks=spans)


def _decoded(table):
    """``table`` with its dictionary columns (pandas' category, polars' Categorical and
    Enum, in a Parquet file or a DataFrame) as plain columns of their values: pyarrow's
    kernels (``count_distinct``, ``is_nan``, casts to float) take no dictionaries, and
    a category of numbers is a numeric column, as scikit-learn reads it."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            col = table.column(i).cast(field.type.value_type)
            table = table.set_column(i, field.name, col)
    return table


def _row(i, rows):
    """The file's row number (from 1) of row ``i`` of the table (``rows``: the file row
    of each table row after rows were left out, or None)."""
    return i + 1 if rows is None else int(rows[i])


def labels_of(table, name, path, rows=None):
    """The label column as a NumPy array (text as str, numbers as they are)."""
    import pyarrow as pa

    col = table.column(name)
    _no_missing(col, name, path, what="label")
    if _is_text(col):
        return np.asarray(col.cast(pa.string()).to_pylist(), dtype=str)
    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
        raise ValueError(f"{path}: label column {name!r} has type {t}; use text, integer, "
                         f"boolean or float labels.")
    y = col.to_numpy(zero_copy_only=False)
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        row = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"{path}: label column {name!r} holds {y[row]} at row "
                         f"{_row(row, rows)}; "
                         f"every example needs a finite label.")
    return y


def _is_text(col):
    import pyarrow as pa

    t = col.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _text_numbers(col):
    """(share of the distinct values that are numbers, the distinct ones that are not)."""
    import pyarrow as pa

    values = col.unique().drop_null().cast(pa.string()).to_pylist()
    bad = [v for v in values if not _is_number(v)]
    return (1.0 - len(bad) / len(values) if values else 0.0), bad


def _is_number(s):
    try:
        return math.isfinite(float(s))
    except ValueError:
        return False


def _first_row(col, values):
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pc.is_in(col.cast(pa.string()), value_set=pa.array(values, pa.string()))
    return int(np.flatnonzero(mask.to_numpy(zero_copy_only=False))[0])


def _no_missing(col, name, path, what="feature"):
    if col.null_count:
        import pyarrow.compute as pc

        row = int(np.flatnonzero(pc.is_null(col).to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"{path}: {what} column {name!r} has a missing value (empty or NA) "
                         f"at row {row + 1}; remove the row or impute the value first.")


def _numbers(col, name, path, rows=None):
    import pyarrow as pa

    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_decimal(t) or pa.types.is_null(t)):
        # pandas writes a DataFrame's index into Parquet as a column of this name
        index = " (convert it, or"
        if name.startswith("__index_level_"):
            index = (" (the index pandas wrote with DataFrame.to_parquet: write the file "
                     "with index=False, or")
        raise ValueError(f"{path}: column {name!r} has type {t}, which is not a number"
                         f"{index} leave it out with --exclude {shlex.quote(name)}).")
    _no_missing(col, name, path)
    x = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path}: column {name!r} holds {x[row]} at row "
                         f"{_row(row, rows)}; remove "
                         f"the row or impute the value first (NaN and inf are not valid).")
    return x
