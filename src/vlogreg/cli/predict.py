"""``vlogreg predict``: class probabilities and labels for a data file."""

from __future__ import annotations

import csv
import io
import os
import sys

from ._common import open_model, predict, refuse_overwrite, safe_text
from ._decide import add_threshold, decision, labels_at
from ._status import Reading
from ._tableopts import add_table_options, table_options, with_dropped_rows
from ._tables import add_delimiter, check_order, csv_options, output_format


def add_parser(sub):
    p = sub.add_parser("predict", help="write class probabilities and labels for a data file",
                       description="Write, for every row of DATA, the probability of each "
                       "class (proba_<class>) and the predicted label (predicted).")
    p.add_argument("model", metavar="MODEL", help="model file written by vlogreg train")
    p.add_argument("data", metavar="DATA", help="data file with the model's features")
    p.add_argument("--out", default="-", help="output file: .csv, .tsv, .parquet or .pq; "
                   "- (the default) writes CSV to standard output")
    p.add_argument("--id", metavar="COLUMN", help="copy this column of DATA to the output")
    add_table_options(p, "predict")
    add_delimiter(p)
    add_threshold(p)
    p.set_defaults(func=run)


def run(args):
    from ..data.files import read_data

    refuse_overwrite({"--out": args.out}, {"MODEL": args.model, "DATA": args.data})
    output_format(args.out)  # an unknown ending is refused before any work
    check_order("predict", args.model, args.data)
    csv = csv_options(args)
    mf, spec = open_model(args.model)
    threshold, _ = decision(args.threshold, mf.metadata, mf.model.classes_)
    options = table_options(args)
    with Reading("predict", args.data) as reading:
        data = read_data(args.data, spec, mf.metadata["feature_names"], id_column=args.id,
                         options=options, **csv)
        reading.rows = data.X.shape[0]
    proba, labels = predict(mf.model, data.X)
    if threshold is not None:
        labels = labels_at(mf.model.classes_, proba, threshold)
    proba, labels, ids = with_dropped_rows(data, proba, labels)
    try:
        write_predictions(args.out, mf.model.classes_, proba, labels, ids, args.id)
    except BrokenPipeError:  # `vlogreg predict ... --out - | head`: the reader is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.out != "-":
        dropped = "" if data.dropped is None else \
            f" ({int(data.dropped.sum())} with missing values, left without a prediction)"
        print(f"vlogreg predict: {len(labels)} rows{dropped} -> {safe_text(args.out)}")
    return 0


def write_predictions(path, classes, proba, labels, ids=None, id_name="id"):
    """Write ``[id,] proba_<class>..., predicted`` as CSV (.csv), tab-separated text
    (.tsv) or Parquet (.parquet, .pq); another ending is a ``UsageError``.

    ``path="-"`` writes CSV to stdout; a file is written atomically (``io.atomic``):
    a failure midway leaves an earlier file of that name as it was. Floats are written
    in full precision.
    """
    import numpy as np

    from ..data.tables import require_pyarrow
    from ..io.atomic import atomic_write

    columns = ([id_name] if ids is not None else []) + \
        [f"proba_{c}" for c in classes] + ["predicted"]
    if len(set(columns)) != len(columns):
        raise ValueError(f"the id column {id_name!r} collides with an output column; "
                         f"rename it.")
    fmt = output_format(path)
    if fmt == "parquet":
        pa = require_pyarrow(path)
        import pyarrow.parquet as pq

        data = ([ids] if ids is not None else []) + list(proba.T) + [labels]
        table = pa.table(dict(zip(columns, data)))
        atomic_write(path, lambda fh: pq.write_table(table, fh))
        return
    rows, labels = proba.tolist(), labels.tolist()

    def write_csv(fh):
        out = csv.writer(fh, dialect="excel-tab") if fmt == "tsv" else csv.writer(fh)
        out.writerow(columns)
        if ids is None:
            out.writerows(r + [lab] for r, lab in zip(rows, labels))
        else:
            out.writerows([i] + r + [lab] for i, r, lab in zip(ids.tolist(), rows, labels))

    if path == "-":
        if sys.stdout.isatty():  # a person reads it: labels from the file made safe
            columns = [safe_text(c) for c in columns]
            labels = [safe_text(v) if isinstance(v, str) else v for v in labels]
            if ids is not None:
                ids = np.asarray([safe_text(v) if isinstance(v, str) else v
                                  for v in ids.tolist()], dtype=object)
        write_csv(sys.stdout)
        return

    def write_file(fh):
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        write_csv(text)
        text.flush()
        text.detach()  # atomic_write closes the file itself

    atomic_write(path, write_file)
