"""The table formats besides CSV that pyarrow reads, as a pyarrow Table: Parquet,
Arrow IPC (Feather v1 and v2, the IPC file and stream formats) and newline-delimited
JSON (one object per line, pandas' ``to_json(orient="records", lines=True)``).

Every file that cannot be read is a one-line ``ValueError`` naming it and its format.
"""

from __future__ import annotations

import os

from .sources import memory_budget


def read_parquet(path, pa):
    """The Table of a Parquet file (or dataset folder), refused before reading when its
    metadata declare more than the memory budget."""
    import pyarrow.parquet as pq

    try:
        _check_parquet_size(pq, path)
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path} is not a readable Parquet file ({_first_line(exc)}).") \
            from None


def read_ipc(path, pa):
    """The Table of an Arrow IPC file: Feather (v1, or v2 = the IPC file format) or the
    IPC stream format, memory-mapped."""
    from pyarrow import feather

    try:
        return feather.read_table(path, memory_map=True)
    except (pa.ArrowInvalid, OSError) as exc:
        first = exc
    try:  # the stream format has no footer: Feather's reader does not take it
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_stream(source).read_all()
    except (pa.ArrowInvalid, OSError):
        raise ValueError(f"{path} is not a readable Arrow IPC / Feather file "
                         f"({_first_line(first)}).") from None


def read_ndjson(path, pa):
    """The Table of a newline-delimited JSON file: one object per line, its keys the
    columns (a key missing from a line: a missing value)."""
    import pyarrow.json as pjson

    try:
        return pjson.read_json(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path} is not readable newline-delimited JSON "
                         f"({_first_line(exc)}); write one object per line, e.g. pandas' "
                         f"df.to_json(path, orient='records', lines=True).") from None


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _check_parquet_size(pq, path):
    """Refuse a Parquet file whose metadata declare more values than the memory budget
    holds as float64: run-length encoding lets a few kilobytes declare billions."""
    if os.path.isdir(path):
        return  # a dataset folder: its files are read one by one, as they come
    meta = pq.ParquetFile(path).metadata
    need, budget = meta.num_rows * max(meta.num_columns, 1) * 8, memory_budget()
    if need > budget:
        raise ValueError(f"{path} declares {meta.num_rows} rows of {meta.num_columns} "
                         f"columns, {need / 2**30:.3g} GiB as float64, more than the memory "
                         f"budget of {budget / 2**30:.3g} GiB; raise VLOGREG_MEMORY_BUDGET "
                         f"(e.g. 64G) if this machine has the memory.")
