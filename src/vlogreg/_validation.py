"""Input checks shared by every public function: one-line errors that name the fix.

Each check raises ``ValueError`` (a ``TypeError`` for a wrong kind of object) whose
message says what is wrong, where (which row, which column, which value) and what to
do about it. Nothing here copies X unless it has to convert it.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.sparse as sp


def _where(mask_2d_or_1d):
    """First (row, column) index where a boolean mask is True."""
    idx = np.argwhere(mask_2d_or_1d)
    return tuple(int(i) for i in idx[0]) if len(idx) else None


_FIX_NONFINITE = ("remove those rows or impute the missing values first (e.g. "
                  "sklearn.impute.SimpleImputer), NaN and inf are not valid inputs.")


def nonfinite_message(name, place, value, count):
    """The one message for a NaN or inf: what, where (``place``), how many, the fix."""
    what = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    more = f" ({count} non-finite values in all)" if count > 1 else ""
    # "Input X contains NaN": scikit-learn's words, which users' code matches
    return f"Input {name} contains {what} at {place}{more}; " + _FIX_NONFINITE


def cell(row, col, columns=None, rows_are="row"):
    """``"row 3, column 1 ('age')"``: a place in X for a message."""
    colname = f" ({columns[col]!r})" if columns is not None else ""
    return f"{rows_are} {row}, column {col}{colname}"


def first_nonfinite(Xc, offset=0):
    """``[row, column, value, count]`` of the first NaN / inf of a chunk, or None."""
    # column sums (ones @ X: BLAS, no temporary of X's size) are finite unless a value is
    # not, or they overflow; only then look element by element
    with np.errstate(all="ignore"):
        if np.all(np.isfinite(np.ones(Xc.shape[0], Xc.dtype) @ Xc)):
            return None
    finite = np.isfinite(Xc)
    if finite.all():
        return None
    r, c = np.argwhere(~finite)[0]
    return [offset + int(r), int(c), float(Xc[r, c]), int((~finite).sum())]


def check_finite(a, name, *, rows_are="row", columns=None):
    """Raise ``ValueError`` naming the first NaN or inf in ``a`` (dense or sparse).

    ``columns`` optionally names the columns (a DataFrame's feature names).
    """
    values = a.data if sp.issparse(a) else a
    if values.dtype.kind not in "fc":
        return
    # fast path without a temporary: min and max are finite only if every value is
    if values.size == 0 or (np.isfinite(values.min()) and np.isfinite(values.max())):
        return
    finite = np.isfinite(values)
    if finite.all():
        return
    if sp.issparse(a):
        coo = a.tocoo()
        bad = int(np.flatnonzero(~np.isfinite(coo.data))[0])
        pos, val = (int(coo.row[bad]), int(coo.col[bad])), coo.data[bad]
    else:
        pos = _where(~finite)
        val = a[pos]
    if len(pos) == 2:
        place = cell(pos[0], pos[1], columns, rows_are)
    else:
        place = f"position {pos[0]}"
    raise ValueError(nonfinite_message(name, place, val, int((~finite).sum())))


def is_missing(v):
    """Whether a value of an object array is a missing value: None, NaN, pandas' NA or
    NaT (recognised without importing pandas)."""
    return v is None or (isinstance(v, float) and v != v) or \
        type(v).__name__ in ("NAType", "NaTType")


def refuse_lazy(X):
    """Raise ``ValueError`` for a polars LazyFrame (a query not yet run), before
    scikit-learn's checks: they would warn of feature names, then fail on "setting an
    array element with a sequence"."""
    if type(X).__name__ == "LazyFrame" and hasattr(X, "collect"):
        raise ValueError("X is a polars LazyFrame, a query not yet run; pass its rows: "
                         "X.collect().")


def frame_problem(X):
    """The error to raise for a DataFrame (pandas, polars) that scikit-learn's checks
    refused, naming the column and the fix, or None when no column explains it.

    Called only once scikit-learn's conversion has failed (its words, "could not convert
    string to float: 'a'" or a dtype-promotion error, name neither column nor fix):
    duplicated column names, a date or duration column, text in a column.
    """
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray) or not hasattr(X, "__getitem__"):
        return None
    names = list(columns)
    dups = [c for c in dict.fromkeys(names) if names.count(c) > 1]
    if dups:
        return ValueError(f"X has several columns named {dups[0]!r}; give every column its "
                          f"own name (e.g. X.columns = [...]) or drop the copies.")
    for name in names:
        try:
            values = np.asarray(X[name])
        except Exception:  # a column the library cannot hand over: say nothing
            continue
        if values.dtype.kind in "Mm":
            return TypeError(
                f"X column {name!r} has dtype {values.dtype}, which is not a number; "
                f"convert it to numbers first (e.g. days since the first date: "
                f"(X[{name!r}] - X[{name!r}].min()).dt.days) or drop it.")
        if values.dtype.kind in "OUS":
            with contextlib.suppress(TypeError, ValueError):
                values.astype(np.float64)
                continue
            for i, v in enumerate(values):
                if is_missing(v):
                    continue
                try:
                    float(v)
                except (TypeError, ValueError):
                    return ValueError(
                        f"X column {name!r} holds text ({v!r}) at row {i}: could not "
                        f"convert string to float; encode text columns as numbers first "
                        f"(e.g. sklearn.preprocessing.OneHotEncoder, or "
                        f"pandas.get_dummies(X)).")
    return None


def as_float_array(a, name, *, ndim=None):
    """``a`` as a floating ndarray (float32 stays float32, anything else becomes float64)."""
    if sp.issparse(a):
        raise TypeError(f"{name} is a sparse matrix, but this function takes a dense "
                        f"array; call {name}.toarray() first.")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be read as a numeric array ({exc}); pass a "
                         f"rectangular NumPy array.") from None
    if arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind == "f":
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
    elif arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} holds values that are not numbers; encode them as "
                             f"numbers first.") from None
    else:
        raise ValueError(f"{name} has dtype {arr.dtype}, which is not numeric; pass "
                         f"numbers (float32 or float64).")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}; "
                         f"reshape it (e.g. {name}.reshape(...)).")
    return arr


def check_binary01(y, name="Y"):
    """Raise ``ValueError`` unless every value of ``y`` is 0 or 1."""
    bad = (y != 0) & (y != 1)
    if bad.any():
        pos = _where(bad)
        raise ValueError(
            f"{name} must hold labels 0 and 1 only, but {name}[{', '.join(map(str, pos))}] "
            f"= {y[pos]!r}; encode the two classes as 0 and 1 (e.g. (y == positive_label)"
            f".astype(float)).")


#: largest |value| in X per dtype: beyond it, sums of squares (Hessians, Lipschitz
#: bounds) overflow; float32 products stay float32, hence its lower limit
MAX_ABS = {np.dtype(np.float64): 1e100, np.dtype(np.float32): 1e15}


def check_scale(a, name, *, columns=None):
    """Raise ``ValueError`` when ``a`` holds values too large for the fit's arithmetic."""
    values = a.data if hasattr(a, "indptr") else a
    limit = MAX_ABS.get(values.dtype)
    if limit is None or values.size == 0:
        return
    amax = float(np.max(np.abs(values)))
    if amax <= limit:
        return
    if hasattr(a, "indptr"):
        coo = a.tocoo()
        col = int(coo.col[int(np.argmax(np.abs(coo.data)))])
    else:
        col = int(np.unravel_index(int(np.argmax(np.abs(values))), values.shape)[-1])
    label = f"column {col}" + (f" ({columns[col]!r})" if columns is not None else "")
    raise ValueError(
        f"{name} has values as large as {amax:.3g} ({label}); features this large "
        f"overflow {values.dtype} arithmetic in the fit (limit {limit:g}); scale them first, "
        f"e.g. with sklearn.preprocessing.StandardScaler or MaxAbsScaler.")


def check_values(a, name, *, columns=None):
    """``check_finite`` and ``check_scale`` in one pass over ``a``, without a copy.

    A sum of squares propagates NaN and inf and bounds every |value|; only when it does
    not settle the question do ``min``/``max`` (and, on failure, a search that names the
    place) run.
    """
    values = a.data if hasattr(a, "indptr") else a
    if values.dtype.kind not in "fc" or values.size == 0:
        return
    limit = MAX_ABS.get(values.dtype)
    # one pass, no temporary: a finite sum of squares below limit^2 settles both checks
    # (NaN and inf propagate into it); otherwise min/max and, on failure, the search
    idx = "ijklmn"[:values.ndim]
    sq = float(np.einsum(f"{idx},{idx}->", values, values))
    if limit is not None and np.isfinite(sq) and sq <= limit * limit:
        return
    lo, hi = values.min(), values.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        check_finite(a, name, columns=columns)
    if limit is not None and max(-float(lo), float(hi)) > limit:
        check_scale(a, name, columns=columns)
