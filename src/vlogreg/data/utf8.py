"""CSV files that are not UTF-8 text, refused in one line with the command that
converts them: UTF-16 (a byte-order mark), and Latin-1 / Windows-1252 bytes in the
header or in a column (which pyarrow would read as a ``binary`` column)."""

from __future__ import annotations

import io
import os
import shlex

from .compressed import CODECS, codec


def _not_utf8(path, what, source="latin1"):
    """The one message for a CSV file that is not UTF-8 text, with the command that
    converts it."""
    name = shlex.quote(os.fspath(path))
    ending = codec(name)
    command = (f"{CODECS[ending][2]} {name} | iconv -f {source} -t utf-8" if ending
               else f"iconv -f {source} -t utf-8 {name}")
    return ValueError(f"{path} is not UTF-8 text ({what}); save it as UTF-8, e.g. {command} "
                      f"> utf8.csv, or 'CSV UTF-8' in a spreadsheet's Save As.")


def refuse_utf16(path, source):
    """UTF-16 text (what some spreadsheets save as "Unicode text") starts with a
    byte-order mark; pyarrow would read it as ragged rows of NUL bytes."""
    if isinstance(source, io.BufferedReader):  # a decompressed or filtered stream
        head = source.peek(2)[:2]
    else:
        with open(source, "rb") as fh:
            head = fh.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff"):
        raise _not_utf8(path, "it starts with a UTF-16 byte-order mark", "utf-16")


def refuse_binary(table, path):
    """pyarrow reads a column that is not valid UTF-8 (Latin-1 or Windows-1252 text:
    ``Z\xfcrich``) as binary, and a header that is not as names it cannot decode."""
    import pyarrow as pa

    try:
        names = table.column_names
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, f"the header holds the byte "
                              f"{exc.object[exc.start:exc.start + 1]!r}") from None
    for name, field in zip(names, table.schema):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            values = table.column(name).to_pylist()
            row = next((i for i, v in enumerate(values) if v is not None
                        and not _decodes(v)), 0)
            raise _not_utf8(path, f"column {name!r} holds {values[row]!r} at row {row + 1}")


def _decodes(b):
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
