"""What the commands that read tables and write predictions share: ``--delimiter``,
MODEL and DATA in the right order, and the output formats known by their ending."""

from __future__ import annotations

import os
import zipfile

from ._common import UsageError, safe_text

#: output ending -> format (anything else is refused rather than written as CSV)
OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_CSV_INPUTS = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


def add_delimiter(p):
    """Add ``--delimiter`` to the parser ``p`` of a command that reads DATA."""
    p.add_argument("--delimiter", metavar="CHAR",
                   help="field delimiter of a CSV DATA file: one character, or comma, "
                   "semicolon, tab, pipe (default: detected from the file; .tsv prefers "
                   "tab)")


def delimiter_of(args):
    """``--delimiter`` as one character, or None (detect it); refused for non-CSV DATA."""
    if args.delimiter is None:
        return None
    if not str(args.data).lower().endswith(_CSV_INPUTS):
        raise UsageError(f"--delimiter applies to CSV files; DATA {safe_text(args.data)} "
                         f"is not one (.csv, .tsv): leave the option out.")
    from ..data.delimiter import parse_delimiter

    try:
        return parse_delimiter(args.delimiter)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _is_model_file(path):
    """Whether ``path`` is a regular file that holds a vlogreg model (a zip archive
    with a metadata.json member); FIFOs and devices are never opened here."""
    try:
        if not os.path.isfile(path) or not zipfile.is_zipfile(path):
            return False
        with zipfile.ZipFile(path) as zf:
            return "metadata.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def check_order(command, model, data):
    """Raise ``UsageError`` when DATA is a model file and MODEL is not: the two
    arguments were given the other way round (the model would otherwise be reported
    as a corrupt zip)."""
    if _is_model_file(data) and not _is_model_file(model):
        raise UsageError(f"MODEL and DATA look swapped: {safe_text(data)} is a model file "
                         f"and {safe_text(model)} is not; the model comes first: vlogreg "
                         f"{command} {safe_text(data)} {safe_text(model)} ...")


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
