"""What the commands that read tables and write predictions share: ``--delimiter``,
``--decimal``, ``--comment`` and ``--na-values``, MODEL and DATA in the right order, and the output
formats known by their ending."""

from __future__ import annotations

import os
import zipfile

from ._common import UsageError, safe_text

#: output ending -> format (anything else is refused rather than written as CSV)
OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def add_delimiter(p):
    """Add ``--delimiter``, ``--decimal``, ``--comment`` and ``--na-values`` to the
    parser ``p`` of a command that reads DATA."""
    p.add_argument("--delimiter", metavar="CHAR",
                   help="field delimiter of a CSV DATA file: one character, or comma, "
                   "semicolon, tab, pipe (default: the one Excel's first line sep=; names, "
                   "or detected from the file; .tsv prefers tab)")
    p.add_argument("--decimal", metavar="MARK",
                   help="decimal mark of the numbers in a CSV DATA file: . or , (default: "
                   "detected: , when the fields are not comma-separated and the numbers "
                   "are written 3,25)")
    p.add_argument("--comment", metavar="CHAR",
                   help="skip the lines of a CSV DATA file that start with CHAR (e.g. "
                   "'#': the comment lines above the header of UCI and scientific files)")
    p.add_argument("--na-values", action="append", default=[], metavar="TOKEN",
                   help="a field of a CSV DATA file that marks a missing value, besides "
                   "empty, NA, NaN, null (e.g. '?', as UCI's adult writes); repeatable")


def csv_options(args):
    """``{"delimiter", "decimal", "comment", "na_values"}`` of the options of that name
    (None: detect it from the file; no comment lines; () no extra marker), for ``read_training_data`` / ``read_data``; refused for a DATA
    that is not CSV."""
    given = {o: v for o, v in (("--delimiter", args.delimiter), ("--decimal", args.decimal),
                               ("--comment", args.comment),
                               ("--na-values", args.na_values or None)) if v is not None}
    from ..data.files import is_csv_name

    if given and not is_csv_name(args.data):
        verb = "applies" if len(given) == 1 else "apply"
        raise UsageError(f"{', '.join(given)} {verb} to CSV files; DATA "
                         f"{safe_text(args.data)} is not one (.csv, .tsv): leave the "
                         f"option out.")
    from ..data.delimiter import parse_comment, parse_decimal, parse_delimiter

    try:
        return {"delimiter": None if args.delimiter is None
                else parse_delimiter(args.delimiter),
                "decimal": None if args.decimal is None else parse_decimal(args.decimal),
                "comment": None if args.comment is None else parse_comment(args.comment),
                "na_values": tuple(args.na_values)}
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def is_model_file(path):
    """Whether ``path`` is a regular file that holds a vlogreg model (a zip archive
    with a metadata.json member); FIFOs and devices are never opened here."""
    try:
        if not os.path.isfile(path) or not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            return "metadata.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def check_order(command, model, data=None):
    """Raise ``UsageError`` when DATA is a model file and MODEL is not (the two
    arguments were given the other way round), or when MODEL is a data file: either
    would otherwise be reported as a corrupt zip. ``inspect`` takes MODEL only."""
    if data is not None and is_model_file(data) and not is_model_file(model):
        order = "" if command == "inspect" else f" {safe_text(model)} ..."
        raise UsageError(f"MODEL and DATA look swapped: {safe_text(data)} is a model file "
                         f"and {safe_text(model)} is not; the model comes first: vlogreg "
                         f"{command} {safe_text(data)}{order}")
    fmt = _data_format(model)
    if fmt is not None and not is_model_file(model):
        usage = "MODEL" if command == "inspect" else "MODEL DATA"
        raise UsageError(f"{safe_text(model)} is a data file ({fmt}), not a model file; "
                         f"MODEL is the file that vlogreg train --model wrote: vlogreg "
                         f"{command} {usage}")


def _data_format(path):
    """The data format a regular file's name says (``data.files``), or None."""
    from ..data.files import data_format

    try:
        return data_format(path) if os.path.isfile(path) else None
    except ValueError:
        return None


def output_format(path):
    """``"csv"``, ``"tsv"`` or ``"parquet"`` for ``--out path`` (``-``: CSV on stdout)."""
    if path == "-":
        return "csv"
    name = str(path).lower()
    for ending, fmt in OUTPUT_FORMATS.items():
        if name.endswith(ending):
            return fmt
    ending = os.path.splitext(name)[1] or "no ending"
    raise UsageError(f"--out {safe_text(path)}: unknown output format ({safe_text(ending)}); "
                     f"use .csv, .tsv, .parquet (or .pq), or - for CSV on standard "
                     f"output.")
