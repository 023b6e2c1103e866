"""The options that say how a table becomes X, shared by train, predict and evaluate:
``--missing``, ``--handle-unknown`` and, for train, ``--reference`` and
``--keep-all-levels`` (see ``data.encoding`` and ``data.screening``)."""

from __future__ import annotations

import shlex

from ._common import UsageError

# NumPy and the encoders are imported in the functions: building the parsers (``--help``)
# must not wait for them


def add_table_options(p, command):
    """Register the table options of ``command`` (train, predict, evaluate) on ``p``."""
    p.add_argument("--missing", choices=["error", "drop"], default="error",
                   help="rows with a missing value (empty, NA) in a used column: an error "
                   "that counts them (default), or drop them and say how many"
                   + ("; their ids stay in the output, with an empty prediction"
                      if command == "predict" else ""))
    if command == "train":
        p.add_argument("--reference", action="append", default=[], metavar="COL=LEVEL",
                       help="with --one-hot: the level of COL that gets no 0/1 column "
                       "(default: the first in sorted order); repeatable")
        p.add_argument("--keep-all-levels", action="store_true",
                       help="with --one-hot: one 0/1 column per level, none dropped "
                       "(collinear with the intercept: use a penalty)")
    else:
        p.add_argument("--handle-unknown", choices=["error", "ignore"], default="error",
                       help="a text level the model never saw: an error (default), or "
                       "all-zero columns for it (the reference level's encoding)")


def table_options(args):
    """The ``TableOptions`` of parsed arguments."""
    from ..data.encoding import TableOptions

    refs = {}
    for item in getattr(args, "reference", []):
        column, sep, level = item.partition("=")
        if not sep or not column:
            raise UsageError(f"--reference takes COL=LEVEL (e.g. --reference "
                             f"married=yes), got {item!r}.")
        refs[column] = level
    keep_all = getattr(args, "keep_all_levels", False)
    if (refs or keep_all) and not getattr(args, "one_hot", False):
        raise UsageError("--reference and --keep-all-levels choose how --one-hot encodes "
                         "text columns; add --one-hot.")
    if refs and keep_all:
        raise UsageError("--reference drops a level and --keep-all-levels keeps them all; "
                         "choose one.")
    return TableOptions(missing=args.missing,
                        handle_unknown=getattr(args, "handle_unknown", "error"),
                        reference=refs, keep_all_levels=keep_all)


def train_notes(data, model, metrics):
    """The warnings of a training run about its data: ids and constants among the
    features (``data.notes``), and a training accuracy of 100 % with the columns that
    alone separate the classes (a leak of the label, most often)."""
    import numpy as np

    from ..data.screening import separating_columns

    notes = list(data.notes) + _label_notes(model.classes_)
    if metrics["accuracy"] < 1.0:
        return notes
    y = np.asarray(data.y)
    dense = not hasattr(data.X, "tocsr")
    blocks = data.blocks or {name: (j, j + 1, False)
                             for j, name in enumerate(data.feature_names)}
    alone = separating_columns(data.X, y, blocks) if dense else []
    if alone:
        named = ", ".join(map(repr, alone[:5])) + (" ..." if len(alone) > 5 else "")
        notes.append(f"training accuracy is 100 %: column(s) {named} alone separate the "
                     f"classes; check that they do not leak the label (leave one out with "
                     f"--exclude {shlex.quote(alone[0])}).")
    else:
        together = " together (no single column does)" if dense else ""
        notes.append(f"training accuracy is 100 %: the features separate the "
                     f"classes{together}; without a penalty the coefficients grow without "
                     f"bound: keep one (--penalty l2, a smaller --C) and check for a leak.")
    return notes


def _label_notes(classes):
    """A warning when text labels differ only in case or surrounding spaces ('yes',
    'Yes', 'yes '): they are distinct classes, rarely what the file meant."""
    groups = {}
    for c in classes:
        if isinstance(c, str):
            groups.setdefault(c.strip().casefold(), []).append(str(c))
    alike = [g for g in groups.values() if len(g) > 1]
    if not alike:
        return []
    shown = "; ".join(", ".join(map(repr, g)) for g in alike[:3])
    return [f"the labels {shown} differ only in case or spaces, so they are different "
            f"classes ({len(classes)} in all); clean the label column if they are one."]


def with_dropped_rows(data, proba, labels):
    """(proba, labels, ids) with a row for every row of the file: the rows dropped for a
    missing value (``--missing drop``) get None (an empty field) as prediction."""
    import numpy as np

    if data.dropped is None:
        return proba, labels, data.ids
    keep = ~data.dropped
    full_proba = np.full((len(keep), proba.shape[1]), None, dtype=object)
    full_proba[keep] = proba
    full_labels = np.full(len(keep), None, dtype=object)
    full_labels[keep] = labels
    return full_proba, full_labels, data.file_ids
