"""``vlogreg predict``: class probabilities and labels for a data file."""

from __future__ import annotations

import os
import sys

from ..data.files import read_data, write_predictions
from ._common import open_model, predict


def add_parser(sub):
    p = sub.add_parser("predict", help="write class probabilities and labels for a data file",
                       description="Write, for every row of DATA, the probability of each "
                       "class (proba_<class>) and the predicted label (predicted).")
    p.add_argument("model", metavar="MODEL", help="model file written by vlogreg train")
    p.add_argument("data", metavar="DATA", help="data file with the model's features")
    p.add_argument("--out", required=True, help="output file: .csv, .parquet, or - for "
                   "CSV on stdout")
    p.add_argument("--id", metavar="COLUMN", help="copy this column of DATA to the output")
    p.set_defaults(func=run)


def run(args):
    mf, spec = open_model(args.model)
    data = read_data(args.data, spec, mf.metadata["feature_names"], id_column=args.id)
    proba, labels = predict(mf.model, data.X)
    try:
        write_predictions(args.out, mf.model.classes_, proba, labels, data.ids, args.id)
    except BrokenPipeError:  # `vlogreg predict ... --out - | head`: the reader is done
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if args.out != "-":
        print(f"vlogreg predict: {len(labels)} rows -> {args.out}")
    return 0
