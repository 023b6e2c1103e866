"""How a table's text columns become 0/1 columns: reference (treatment) coding.

A text column with levels ``l_1 < l_2 < ... < l_L`` (sorted) becomes ``L - 1`` columns
``name=l_j``, one per level but the *reference* (the first in sorted order, unless the
user chose another), as statsmodels' formulas (``C(x)``, treatment coding) and
scikit-learn's ``OneHotEncoder(drop="first")`` do: with an intercept, all ``L`` columns
would sum to the intercept's column and the coefficients would not be identified. A row
of the reference level is all zeros; each coefficient is the change in log-odds from
the reference level to that level. ``keep_all_levels`` keeps the ``L`` columns (the
old encoding, and the one of model files written before references existed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_SHOWN = 5  # unknown values named in an error message


@dataclass
class TableOptions:
    """How rows with missing values, text columns and unseen levels are handled.

    Attributes
    ----------
    missing : {"error", "drop"}
        A row with a missing value (empty, NA, NaN) in a column that is used: an error
        that counts them per column, or the row is left out (and counted).
    handle_unknown : {"error", "ignore"}
        A level that training never saw: an error naming column and values, or all
        zeros in that column's 0/1 columns (the reference level's row).
    reference : dict {column: level}
        Training only: the reference level of a text column (default: the first level
        in sorted order).
    keep_all_levels : bool
        Training only: one 0/1 column per level, no reference dropped.
    python : bool
        Word the fixes for a Python caller (``model.handle_unknown = "ignore"``) rather
        than for the command line (``--handle-unknown ignore``).
    """

    missing: str = "error"
    handle_unknown: str = "error"
    reference: dict = field(default_factory=dict)
    keep_all_levels: bool = False
    python: bool = False

    def hint(self, what):
        """The fix a message proposes, in the caller's words."""
        if self.python:
            return {"missing": "drop or impute those rows first (e.g. df.dropna())",
                    "unknown": "correct them, or set model.handle_unknown = 'ignore' to "
                               "give them all-zero columns"}[what]
        return {"missing": "drop those rows with --missing drop, or impute the values "
                           "first",
                "unknown": "correct them, or pass --handle-unknown ignore to give them "
                           "all-zero columns"}[what]


def reference_level(levels, name, options):
    """The level of ``name`` to drop at training: None with ``keep_all_levels``."""
    if options.keep_all_levels:
        return None
    ref = options.reference.get(name, levels[0])
    if ref not in levels:
        shown = ", ".join(map(repr, levels[:20])) + (", ..." if len(levels) > 20 else "")
        raise ValueError(f"--reference {name}={ref}: column {name!r} has no level {ref!r} "
                         f"(its levels: {shown}).")
    return ref


def check_levels(levels, reference, name):
    """Stored levels (sorted, distinct strings) and reference (one of them, or None)."""
    if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels) \
            or levels != sorted(set(levels)) or not levels \
            or not (reference is None or reference in levels):
        raise ValueError(f"the model file's one-hot categories of {name!r} are damaged "
                         f"(expected sorted distinct strings and a reference among them).")
    return levels


def encode_levels(values, name, levels, reference, path, options, rows=None):
    """The 0/1 columns of one text column.

    Parameters
    ----------
    values : ndarray (m,) of str
    levels : list of str, sorted
    reference : str or None
        The level that gets no column (None: every level gets one).
    options : TableOptions
        ``handle_unknown`` decides what a value not in ``levels`` gives.
    rows : ndarray (m,) of int, optional
        The file's row number (from 1) of each value, when rows were dropped before;
        default ``1, 2, ..., m``.

    Returns
    -------
    block : ndarray (m, L - 1) float64, or (m, L) when ``reference`` is None
        ``block[i, j] = 1`` when row i has the j-th kept level, else 0.
    names : list of str
        ``name=level`` for the kept levels.
    """
    lv = np.asarray(levels, dtype=str)
    pos = np.minimum(np.searchsorted(lv, values), len(levels) - 1)
    known = lv[pos] == values
    if not known.all() and options.handle_unknown != "ignore":
        bad = np.flatnonzero(~known)
        number = bad + 1 if rows is None else np.asarray(rows)[bad]
        seen, first = np.unique(values[bad], return_index=True)
        order = np.argsort(first)[:_SHOWN]
        named = ", ".join(f"{str(seen[k])!r} at row {number[first[k]]}" for k in order)
        more = f" and {len(seen) - _SHOWN} more" if len(seen) > _SHOWN else ""
        known_shown = ", ".join(levels[:20]) + (", ..." if len(levels) > 20 else "")
        raise ValueError(f"{path}: column {name!r} has {len(seen)} value(s) the model "
                         f"never saw in training: {named}{more} (known: {known_shown}); "
                         f"{options.hint('unknown')}.")
    block = np.zeros((len(values), len(levels)))
    block[np.flatnonzero(known), pos[known]] = 1.0
    kept = [j for j, v in enumerate(levels) if v != reference]
    return block[:, kept], [f"{name}={levels[j]}" for j in kept]
