"""Which character separates the fields of a CSV file: ``,``, ``;``, tab or ``|``; and
which one marks its decimals: ``.`` or ``,``.

Spreadsheets in many locales write ``;`` (the comma being their decimal mark), and
``.tsv`` files use tabs. The rule: the candidate that splits the header and the next
lines into the same number of fields (quoted fields skipped), and the most of them;
a ``.tsv`` name prefers the tab, anything else the comma, when neither decides.

The decimal mark is ``,`` when the fields are not separated by commas, some field of
the first lines is a number written with a decimal comma (``3,25``, ``-0,5e-3``) and
none is written with a decimal point (``3.25``); else ``.``. Where every such number
could also be an integer with thousands separators (``1,234``, ``12,500,000``), only a
``;`` between fields (the comma-decimal locales' own delimiter) makes it a decimal
comma: a tab-separated ``1,234`` is not silently read as 1.234. Thousands separators
are not read (``1.234,5`` is text).

Lines that start with a comment character (``--comment``) are no lines here. A first
line ``sep=;`` (Excel writes it, and honours it when it opens a CSV) names the
delimiter, and the header is the next line (``sep_line``).
"""

from __future__ import annotations

import re

from .compressed import DAMAGED, codec, open_text

#: the delimiters tried, in the order that breaks ties
CANDIDATES = (",", ";", "\t", "|")
#: lines looked at (the header and the first data lines)
_LINES = 20
#: the names ``--delimiter`` accepts besides the character itself
NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|"}
#: the decimal marks ``--decimal`` accepts
DECIMALS = (".", ",")
COMMA_NUMBER = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
_POINT_NUMBER = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
#: an integer with thousands separators, which a decimal comma can look like
THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
#: a number with thousands separators and a decimal point (1,234.5): no decimal comma
THOUSANDS_POINT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d*")
#: a number written with a percent or currency sign (12%, -3.5 %, $1,234.50, € 7)
SIGNED = re.compile(r"[+-]?[$€£¥]\s*[+-]?[\d,]*\.?\d+|[+-]?[\d,]*\.?\d+\s*%")
#: Excel's first line that names the delimiter (quoted by some writers)
_SEP_LINE = re.compile(r'\ufeff?"?sep=([^"\r\n])"?', re.IGNORECASE)


def _fields(line, sep):
    """How many times ``sep`` separates fields in ``line`` (outside double quotes)."""
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            count += 1
    return count


def _head(path, comment):
    lines = []
    with open_text(path) as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line and not (comment and line.startswith(comment)):
                lines.append(line)
            if len(lines) >= _LINES:
                break
    return lines


def sep_line(path):
    """The delimiter that the first line of ``path`` names as Excel's ``sep=;``
    (``sep=,``, ``"sep=;"``, ``sep=<tab>``), or None when it is no such line (Excel
    too looks at the first line only)."""
    try:
        with open_text(path) as fh:
            line = fh.readline(64)
    except DAMAGED:
        return None
    match = _SEP_LINE.fullmatch(line.rstrip("\r\n"))
    return None if match is None else match.group(1)


def head_lines(path, comment=None):
    """The file's first non-empty lines (header first) but those that start with
    ``comment``, or [] when it cannot be read (the reader then reports the unreadable
    file in its own words)."""
    try:
        return _head(path, comment)
    except DAMAGED:  # EOFError: a truncated .gz
        return []


def sniff_delimiter(path, lines=None):
    """The delimiter of the CSV file ``path`` (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv`` / ``.tsv`` file, optionally compressed (``data.compressed``).
    lines : list of str, optional
        Its ``head_lines``, when already read.

    Returns
    -------
    str
        One of ``CANDIDATES``.
    """
    name = str(path).lower()
    ending = codec(name)
    hint = "\t" if name[:len(name) - len(ending or "")].endswith(".tsv") else ","
    lines = head_lines(path) if lines is None else lines
    if not lines:
        return hint
    best, best_n = None, 0
    for sep in sorted(CANDIDATES, key=lambda s: s != hint):  # the hint first: wins ties
        counts = {_fields(line, sep) for line in lines}
        n = _fields(lines[0], sep)
        if len(counts) == 1 and n > best_n:
            best, best_n = sep, n
    if best is None:  # ragged: the header's most frequent candidate
        n, _, sep = max((_fields(lines[0], s), s == hint, s) for s in CANDIDATES)
        best = sep if n > 0 else hint
    return best


def parse_delimiter(text):
    """``--delimiter`` as the one character it names (``tab``, ``\\t``, ``;``, ...)."""
    sep = NAMES.get(text.lower(), text) if isinstance(text, str) else text
    if not isinstance(sep, str) or len(sep) != 1 or sep in "\"\r\n":
        raise ValueError(f"--delimiter takes one character (or comma, semicolon, tab, "
                         f"pipe), got {text!r}.")
    return sep


def comment_header(lines):
    """Whether the header line ``lines[0]`` is a comment (UCI's and many scientific
    files' ``# ...`` lines above the header): it starts with ``#`` and the next line
    does too, or has another number of fields. A ``# a,b,c`` line over rows of as many
    fields is a header (``np.savetxt(header=...)`` writes it), read as pandas reads
    it."""
    if len(lines) < 2 or not lines[0].startswith("#"):
        return False
    if lines[1].startswith("#"):
        return True
    sep = sniff_delimiter("", [line for line in lines if not line.startswith("#")])
    return _fields(lines[0], sep) != _fields(lines[1], sep)


def parse_comment(text):
    """``--comment`` as the one character that starts a comment line."""
    if not isinstance(text, str) or len(text) != 1 or text in "\"\r\n":
        raise ValueError(f"--comment takes one character (the one that starts the lines "
                         f"to skip, e.g. '#'), got {text!r}.")
    return text


def sniff_decimal(path, delimiter, lines=None):
    """The decimal mark of the CSV file ``path`` whose fields ``delimiter`` separates:
    ``","`` or ``"."`` (see the module docstring); ``lines``: its ``head_lines``, when
    already read."""
    if delimiter == ",":
        return "."
    lines = head_lines(path) if lines is None else lines
    # the header (lines[0]) names columns, it holds no numbers
    fields = [f.strip() for line in lines[1:] for f in line.split(delimiter)]
    comma = [f for f in fields if COMMA_NUMBER.fullmatch(f)]
    point = any(_POINT_NUMBER.fullmatch(f) for f in fields)
    decisive = delimiter == ";" or any(not THOUSANDS.fullmatch(f) for f in comma)
    return "," if comma and decisive and not point else "."


def parse_decimal(text):
    """``--decimal`` as ``"."`` or ``","``."""
    mark = {"point": ".", "comma": ","}.get(str(text).lower(), text)
    if mark not in DECIMALS:
        raise ValueError(f"--decimal takes . or , (or point, comma), got {text!r}.")
    return mark
