"""Checks of a table before and after a fit: missing values, ids, constants, leaks.

``missing_rows`` finds the rows with a missing value (null, or NaN in a float
column) in the columns that are used, and says, per column, how many and which;
``pandas_index`` finds the unnamed index column pandas' ``to_csv`` writes (left out
of the features); ``column_notes`` warns of a feature that is different in every row
(an id left in) or the same in every row (a constant); ``separating_columns`` names the
columns that alone separate the classes, the usual cause of a training accuracy of
100 %.
"""

from __future__ import annotations

import re
import shlex

import numpy as np

_ROWS_SHOWN = 5
_MIN_ROWS = 10  # fewer rows: "different in every row" says nothing


def _missing_mask(col):
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = pc.is_null(col)
    if pa.types.is_floating(col.type):
        mask = pc.or_(mask, pc.fill_null(pc.is_nan(col), False))
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def missing_rows(table, columns, path, options):
    """Boolean mask (m,) of the rows to drop, or None when no row misses a value.

    Raises ``ValueError`` (count and first rows per column, rows counted from 1)
    unless ``options.missing == "drop"``.
    """
    masks = {c: _missing_mask(table.column(c)) for c in dict.fromkeys(columns)}
    masks = {c: m for c, m in masks.items() if m.any()}
    if not masks:
        return None
    drop = np.logical_or.reduce(list(masks.values()))
    if options.missing == "drop":
        if drop.all():
            raise ValueError(f"{path}: every one of its {len(drop)} rows has a missing "
                             f"value in a used column; no row is left to use.")
        return drop
    parts = []
    for c, m in masks.items():
        count, rows = int(m.sum()), np.flatnonzero(m)[:_ROWS_SHOWN] + 1
        shown = ", ".join(map(str, rows)) + (", ..." if count > _ROWS_SHOWN else "")
        parts.append(f"column {c!r} in {count} row{'s' * (count > 1)} "
                     f"(row{'s' * (count > 1)} {shown})")
    raise ValueError(f"{path}: {int(drop.sum())} of {len(drop)} rows have a missing value "
                     f"(empty or NA): {'; '.join(parts)}; {options.hint('missing')}.")


def refuse_empty_columns(table, features, path):
    """Raise ``ValueError`` for a training feature that is empty in every row: a
    delimiter at the end of every line (a spreadsheet's export) makes one, named ''.
    ``--missing drop`` would otherwise be proposed, and would drop every row."""
    if table.num_rows < 2:
        return
    for c in features:
        if table.column(c).null_count == table.num_rows:
            why = " (a delimiter at the end of every line makes one)" if c == "" else ""
            raise ValueError(f"{path}: column {c!r} is empty in every row{why}; leave it "
                             f"out with --exclude {shlex.quote(c)}.")


def column_notes(table, features):
    """One-line warnings about training features: ids (a different value in every row:
    text, or whole numbers) and constants (the same value in every row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    notes, m = [], table.num_rows
    for c in features:
        col = table.column(c)
        distinct = pc.count_distinct(col).as_py()
        if distinct == 1 and m > 1:
            value = col[0].as_py()
            notes.append(f"column {c!r} has the same value ({value!r}) in every row: it "
                         f"carries no information; leave it out with --exclude "
                         f"{shlex.quote(c)}.")
        elif distinct == m and m >= _MIN_ROWS and _id_like(col, pa):
            notes.append(f"column {c!r} has a different value in every row, like an id: "
                         f"it cannot generalize; leave it out with --exclude "
                         f"{shlex.quote(c)}.")
    return notes


#: a header cell left empty, as pandas' to_csv writes its index's (pandas reads it back
#: as 'Unnamed: 0', and writes that name when the frame is saved again)
_UNNAMED = re.compile(r"(?:Unnamed: \d+)?")
#: the name pandas' to_parquet / to_feather give an index that is no RangeIndex
_PARQUET_INDEX = re.compile(r"__index_level_\d+__")


def pandas_index(table):
    """The columns that hold an index pandas wrote: the leading columns without a name
    ('' or 'Unnamed: 0', ``DataFrame.to_csv``'s default) and the ``__index_level_0__``
    columns of ``to_parquet``, that hold whole numbers >= 0, a different one in every
    row (0..m-1, or any subset of row numbers in any order: a train_test_split's)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def row_numbers(col):
        return (pa.types.is_integer(col.type) and col.null_count == 0
                and pc.min(col).as_py() >= 0
                and pc.count_distinct(col).as_py() == table.num_rows)

    names = table.column_names
    lead = next((j for j, c in enumerate(names)
                 if not (_UNNAMED.fullmatch(c) and row_numbers(table.column(c)))),
                len(names))
    return names[:lead] + [c for c in names[lead:] if _PARQUET_INDEX.fullmatch(c)
                           and row_numbers(table.column(c))]


def index_note(name):
    """The warning that the unnamed index column ``name`` was left out."""
    how = "to_parquet" if _PARQUET_INDEX.fullmatch(name) else "to_csv"
    return (f"column {name!r} holds the row numbers of the index that pandas' {how} "
            f"writes: it is left out of the features; write the file with index=False, "
            f"or name it in --features to use it.")


def _id_like(col, pa):
    """Whether a column that differs in every row looks like an id: text, or whole
    numbers packed densely (their range at most twice the row count: 1..m, or a
    sample of such ids; an income in dollars is spread far wider)."""
    t = col.type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return False
    x = np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)
    whole = bool(np.all(np.isfinite(x)) and np.all(x == np.round(x)))
    return whole and x.max() - x.min() + 1 <= 2 * len(x)


def separating_columns(X, y, blocks):
    """The columns that alone separate the classes of ``y``.

    Parameters
    ----------
    X : ndarray (m, n)
    y : ndarray (m,)
    blocks : dict {column: (start, stop, is_category)}
        Which columns of X each file column became.

    Returns
    -------
    list of str
        A category separates when each of its levels holds one class; a number when,
        sorted by it, each class is one run of rows and no value holds two classes.
    """
    out = []
    for name, (a, b, is_category) in blocks.items():
        if b <= a:
            continue
        block = np.asarray(X[:, a:b])
        key = np.where(block.any(axis=1), block.argmax(axis=1), -1) if is_category \
            else block[:, 0]
        if _separates(key, y, is_category):
            out.append(name)
    return out


def _separates(key, y, nominal):
    order = np.argsort(key, kind="stable")
    k, c = key[order], y[order]
    new_value = np.r_[True, k[1:] != k[:-1]]
    same_value_other_class = (~new_value[1:]) & (c[1:] != c[:-1])
    if same_value_other_class.any():
        return False
    if nominal:
        return True
    runs = 1 + int(np.count_nonzero(c[1:] != c[:-1]))
    return runs == len(np.unique(y))
