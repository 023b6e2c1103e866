"""CSV files (read with pyarrow) as a pyarrow Table: the delimiter and the decimal mark
detected (``data.delimiter``) or named by Excel's ``sep=;`` first line, comment lines
skipped (``--comment``), a compressed file decompressed within the memory budget
(``data.compressed``), and every malformed file refused in one line that names the
line and the fix."""

from __future__ import annotations

import contextlib
import io
import sys

from .compressed import CODECS, DAMAGED, TooLarge, capped, codec, open_binary, open_text
from .delimiter import (
    comment_header,
    head_lines,
    sep_line,
    sniff_decimal,
    sniff_delimiter,
)
from .utf8 import refuse_binary, refuse_utf16


def read_csv(path, pa, *, text_columns=(), delimiter=None, decimal=None, comment=None,
             na_values=()):
    """The pyarrow Table of the CSV file ``path`` (decompressed: ``.gz``, ``.bz2``,
    ``.xz``, ``.zst``); ``delimiter``
    and ``decimal`` are detected when None; ``text_columns`` are read as text; the
    lines that start with ``comment`` (one character, or None) are skipped; the fields
    ``na_values`` are missing values, as pyarrow's own (empty, NA, NaN, null ...)."""
    import pyarrow.csv as pcsv

    invalid = []

    def on_invalid(row):
        invalid.append(row)
        return "error"
    lines = head_lines(path, comment)
    named, skip = sep_line(path), 0
    if named is not None:  # Excel's "sep=;" line: the delimiter, then the header
        if delimiter is not None and delimiter != named:
            raise ValueError(f"{path} starts with Excel's line sep={named}, which names "
                             f"{named!r} as the delimiter, but --delimiter gave "
                             f"{delimiter!r}; leave out --delimiter.")
        delimiter, skip, lines = named, 1, lines and lines[1:]
    if delimiter is None:
        delimiter = sniff_delimiter(path, lines)
    if decimal is None:
        decimal = sniff_decimal(path, delimiter, lines)
    if comment is None and comment_header(lines):
        raise ValueError(f"{path}: its first line {lines[0][:40]!r} is a comment, not "
                         f"the header; pass --comment '#' to skip the lines that start "
                         f"with #.")
    if comment is not None and comment == delimiter:
        raise ValueError(f"--comment {comment!r} is the delimiter of {path}; the comment "
                         f"character must be another one (e.g. '#').")
    parse = pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid)
    read = pcsv.ReadOptions(skip_rows=skip)
    # an empty text field is a missing value, as in a numeric column (not a level "")
    convert = pcsv.ConvertOptions(column_types={c: pa.string() for c in text_columns},
                                  strings_can_be_null=True, decimal_point=decimal)
    if na_values:
        convert.null_values = list(convert.null_values) + list(na_values)
    undecodable = []
    try:
        with _undecodable_rows(undecodable), _csv_source(path, comment) as source:
            refuse_utf16(path, source)
            table = pcsv.read_csv(source, read_options=read, parse_options=parse,
                                      convert_options=convert)
    except TooLarge as exc:
        raise ValueError(
            f"{path} decompresses to more than {exc.limit / 2**30:.3g} GiB, the memory "
            f"budget; decompress it and convert it to Parquet (which streams), or "
            f"raise VLOGREG_MEMORY_BUDGET (e.g. 64G) if this machine has the memory."
        ) from None
    except DAMAGED as exc:
        if codec(path) is None:
            raise
        kind, check, _ = CODECS[codec(path)]
        raise ValueError(f"{path} is not a readable {kind} file ({exc}); download or "
                         f"copy it again, or check it with {check}.") from None
    except pa.ArrowInvalid as exc:
        what = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        # no bytes, or blank lines only: there is no delimiter or quoting to check
        if what.startswith(("Empty CSV file", "CSV parse error: Empty CSV file")):
            raise ValueError(f"{path} is empty: it has no header line and no rows; "
                             f"check that it was written completely.") from None
        if undecodable and not invalid:
            what = (f"a row has the wrong number of fields and is not UTF-8 text "
                    f"({what[:80]!r}); save the file as UTF-8 text")
        if invalid:
            r = invalid[0]
            what = (f"{_line_of(path, r.text)}has {r.actual_columns} fields where the "
                    f"header has {r.expected_columns} ({r.text[:60]!r})")
        raise ValueError(f"{path} is not a well-formed CSV file: {what}; check the "
                         f"delimiter, the quoting and the number of fields.") from None
    refuse_binary(table, path)
    return table


@contextlib.contextmanager
def _undecodable_rows(seen):
    """pyarrow decodes a ragged row as UTF-8 before it calls ``invalid_row_handler``;
    when that fails it prints "Exception ignored ..." and a traceback on stderr, ahead
    of the real error. Here such a row is noted in ``seen`` instead (other unraisable
    exceptions go to the usual hook)."""
    old = sys.unraisablehook

    def hook(unraisable):
        if isinstance(unraisable.exc_value, UnicodeDecodeError):
            seen.append(unraisable.exc_value)
        else:
            old(unraisable)
    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = old


class _Uncommented(io.RawIOBase):
    """The bytes of ``fh`` without the lines that start with ``comment`` (bytes):
    pyarrow's CSV reader has no comment option. A line inside a quoted field that
    starts with it is dropped too."""

    chunk = 1 << 20  # bytes read at a time

    def __init__(self, fh, comment):
        self.fh, self.comment, self.out, self.tail = fh, comment, b"", b""

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self.out:
            chunk = self.fh.read(self.chunk)
            if not chunk and not self.tail:
                return 0
            lines = (self.tail + chunk).splitlines(keepends=True)
            # a last line without its end (or a \r that may begin \r\n) waits for the
            # next chunk, unless at the end
            self.tail = lines.pop() if chunk and not lines[-1].endswith(b"\n") else b""
            self.out = b"".join(s for s in lines if not s.startswith(self.comment))
        k = min(len(buffer), len(self.out))
        buffer[:k], self.out = self.out[:k], self.out[k:]
        return k


@contextlib.contextmanager
def _csv_source(path, comment=None):
    """What pyarrow's CSV reader reads: the path itself, or for a compressed file its
    text, as a stream that stops at the memory budget (``data.compressed``); without
    the lines that start with ``comment`` when given."""
    with contextlib.ExitStack() as stack:
        if codec(path) is not None:
            source = capped(stack.enter_context(open_binary(path)))
        elif comment is not None:
            source = stack.enter_context(open(path, "rb"))
        else:
            yield path
            return
        if comment is not None:
            source = io.BufferedReader(_Uncommented(source, comment.encode()), 1 << 20)
        yield source


def _line_of(path, text):
    try:
        with open_text(path) as fh:
            for number, line in enumerate(fh, 1):
                if line.rstrip("\r\n") == text:
                    return f"line {number} "
    except DAMAGED:
        pass
    return "a line "


