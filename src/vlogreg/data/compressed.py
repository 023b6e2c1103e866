"""Compressed CSV files: ``.gz``, ``.bz2``, ``.xz`` (Python's codecs) and ``.zst``
(pyarrow's zstd codec), decompressed as a stream that stops at the memory budget.

A few megabytes of compressed text can hold hundreds of gigabytes (a "zip bomb"),
which would otherwise fill the memory before any row is checked; the text is about
the size of its table, so the budget bounds it.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib

from .sources import memory_budget

#: ending -> (codec, the command that tests such a file, the one that decompresses it)
CODECS = {".gz": ("gzip", "gunzip -t", "gunzip -c"),
          ".bz2": ("bz2", "bunzip2 -t", "bunzip2 -c"),
          ".xz": ("xz", "xz -t", "xz -dc"),
          ".zst": ("zstd", "zstd -t", "zstd -dc")}
#: what the codecs raise on damaged data (pyarrow's zstd: OSError, ArrowInvalid)
DAMAGED = (EOFError, OSError, zlib.error, lzma.LZMAError)


def codec(path):
    """The ending of a compressed file (``.gz``, ``.bz2``, ``.xz``, ``.zst``), or None."""
    name = str(path).lower()
    return next((e for e in CODECS if name.endswith(e)), None)


def open_binary(path):
    """The decompressed bytes of ``path`` as a binary stream (``path`` has an ending of
    ``CODECS``)."""
    ending = codec(path)
    if ending == ".zst":
        import pyarrow as pa

        return pa.input_stream(str(path), compression="zstd")
    return {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}[ending](path, "rb")


def open_text(path):
    """``path`` as UTF-8 text (undecodable bytes replaced), decompressed when its
    ending says so; newlines kept as they are."""
    if codec(path) is None:
        return open(path, encoding="utf-8", errors="replace", newline="")
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="replace",
                            newline="")


def capped(fh):
    """A buffered stream over the decompressed ``fh`` that raises ``TooLarge`` past the
    memory budget."""
    return io.BufferedReader(_Capped(fh, memory_budget()), 1 << 20)


class TooLarge(Exception):
    def __init__(self, limit):
        super().__init__(limit)
        self.limit = limit


class _Capped(io.RawIOBase):
    """A stream that raises ``TooLarge`` past ``limit`` bytes read."""

    def __init__(self, fh, limit):
        self.fh, self.limit, self.n = fh, limit, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        k = self.fh.readinto(buffer)
        self.n += k
        if self.n > self.limit:
            raise TooLarge(self.limit)
        return k
