"""Out-of-core backend: fit from a file larger than memory, one row chunk at a time.

``open_source(path)`` returns a row source (a ``.npy`` file or memmap, a Parquet file or
directory, a Zarr array or group); ``LogisticRegression().fit(source, y)`` streams it.
Every solver evaluation is one sequential pass: chunk ``i + 1`` is read by a thread
while chunk ``i`` is computed (``LogisticObjective`` on the chunk, its threads over the
chunk's row blocks), and the chunks' sums are added in file order. A ``.npy`` file (or a
file-backed memmap) is read with sequential ``readinto`` calls into two reusable buffers
(``data.readahead``): memory is bounded by two chunks (``source.chunk_bytes`` each, twice
that when the labels are a column of the file), whatever the size of the file. Parquet
and Zarr chunks are decoded by the same read-ahead thread (two chunks at a time too).

``memory_budget()`` is what the command line compares the data size with to choose
this path: half the memory available, or ``VLOGREG_MEMORY_BUDGET`` (bytes; "8G").
"""

from __future__ import annotations

import glob
import os
from contextlib import closing

import numpy as np

from .._paths import regular_file
from .readahead import NpyFileReader, mapped_file, read_ahead

#: bytes of X per chunk: large enough for sequential reads at full disk speed
DEFAULT_CHUNK_BYTES = 64 << 20


def memory_budget():
    """Bytes of data that may be held in memory: half of what is available now."""
    env = os.environ.get("VLOGREG_MEMORY_BUDGET")
    if env:
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
        s = env.strip().upper().rstrip("B")
        try:
            return int(float(s[:-1]) * units[s[-1]]) if s[-1:] in units else int(float(s))
        except ValueError:
            raise ValueError(f"VLOGREG_MEMORY_BUDGET={env!r} is not a size; use bytes or "
                             f"a number with K, M, G or T (e.g. 8G).") from None
    try:
        with open("/proc/meminfo") as f:
            info = {ln.split(":")[0]: int(ln.split()[1]) * 1024 for ln in f}
        avail = info.get("MemAvailable", info["MemTotal"])
    except (OSError, KeyError, ValueError, IndexError):
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(avail // 2)


class RowSource:
    """Rows of X (and optionally the labels) read chunk by chunk.

    Attributes
    ----------
    shape : (m, n)
    dtype : float32 or float64 (what the chunks are converted to)
    feature_names : list of str or None
    starts : ndarray (C + 1,)
        Chunk ``i`` holds rows ``starts[i]:starts[i + 1]``.
    has_target : bool
        Whether the chunks carry the labels (``target=``).
    max_rows_read : int
        The most rows materialised by one read so far (memory is bounded by it).
    """

    feature_names = None
    has_target = False

    def _set_chunks(self, m, rows_per_chunk):
        self.starts = np.append(np.arange(0, m, max(1, int(rows_per_chunk))), m)
        self.max_rows_read = 0

    @staticmethod
    def _rows_for(n, itemsize, chunk_bytes, align=1):
        rows = max(1, (chunk_bytes or DEFAULT_CHUNK_BYTES) // max(1, n * itemsize))
        return max(align, rows // align * align)

    @property
    def n_chunks(self):
        return len(self.starts) - 1

    @property
    def chunk_rows(self):
        return int(np.diff(self.starts).max(initial=0))

    @property
    def chunk_bytes(self):
        return self.chunk_rows * self.shape[1] * self.dtype.itemsize

    @property
    def nbytes(self):
        return self.shape[0] * self.shape[1] * self.dtype.itemsize

    def fingerprint(self):
        """What identifies the rows' current contents, or None where that cannot be known
        (rows in memory, Zarr, a source defined elsewhere): each file's path, inode,
        size and times. While it is unchanged, a fit's checking pass over this source serves
        the next one (``backends.outofcore.prepare``)."""
        return None

    def read(self, i):
        """Chunk ``i``: ``(X_c (r, n) of self.dtype, labels (r,) or None)``."""
        X, y = self._read(int(self.starts[i]), int(self.starts[i + 1]))
        self.max_rows_read = max(self.max_rows_read, X.shape[0])
        return np.ascontiguousarray(X, dtype=self.dtype), y

    def iter_row_chunks(self, indices=None):
        """Yield ``(start, X_c, y_c)``; the next chunk is read while this one is used.

        A chunk may be a view of a reusable buffer: it is valid until the next one is
        asked for (copy it to keep it).
        """
        todo = list(range(self.n_chunks) if indices is None else indices)
        with closing(read_ahead(todo, lambda i, _: self.read(i), lambda: None)) as chunks:
            for i, (Xc, yc) in zip(todo, chunks):
                yield int(self.starts[i]), Xc, yc


def _files_stat(paths):
    """``((path, inode, size, mtime_ns, ctime_ns), ...)`` of ``paths`` (a file written
    again or replaced changes one of them), or None if one cannot be read."""
    try:
        return tuple((p, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                     for p, st in ((os.fspath(p), os.stat(p)) for p in paths))
    except OSError:
        return None


def _float_dtype(dt, what):
    dt = np.dtype(dt)
    if dt.kind not in "biuf":
        raise ValueError(f"{what} has dtype {dt}, which is not numeric; store numbers.")
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float64)


def _split_target(block, target, n_columns):
    if target is None:
        return block, None
    t = int(target) % n_columns if -n_columns <= int(target) < n_columns else None
    if t is None:
        raise ValueError(f"target={target!r} is not a column index of an array with "
                         f"{n_columns} columns; use 0..{n_columns - 1} or -1 for the last.")
    return np.delete(block, t, axis=1), block[:, t].copy()  # a view would pin the block


class NpySource(RowSource):
    """A 2-D ``.npy`` file, or an array / np.memmap. A file (and a file-backed memmap) is
    read with sequential ``readinto`` calls into two reusable buffers (``data.readahead``)."""

    def __init__(self, path_or_array, target=None, chunk_bytes=None):
        arr = path_or_array
        self.path = None
        if not isinstance(arr, np.ndarray):
            self.path = os.fspath(arr)
            try:  # only the header and the layout
                arr = np.load(self.path, mmap_mode="r")
            except ValueError as exc:  # a header that declares more than the file holds
                raise ValueError(f"{self.path} is not a readable .npy array of numbers "
                                 f"({exc}); save it again with np.save.") from None
            if not arr.flags.c_contiguous:
                raise ValueError(f"{self.path} is stored in Fortran order; save it in C "
                                 f"order: np.save(path, np.ascontiguousarray(X)).")
        if arr.ndim != 2:
            raise ValueError(f"the array has shape {arr.shape}; a 2-D (m, n) array is "
                             f"needed.")
        self._arr, self._target = arr, target
        _split_target(np.empty((0, arr.shape[1])), target, arr.shape[1])  # check target
        self.has_target = target is not None
        self.dtype = _float_dtype(arr.dtype, "the array")
        self.shape = (arr.shape[0], arr.shape[1] - self.has_target)
        self._set_chunks(arr.shape[0], self._rows_for(arr.shape[1], arr.dtype.itemsize,
                                                      chunk_bytes))
        where = (self.path, arr.offset) if self.path is not None else mapped_file(arr)
        self._reader = None
        if where is not None and arr.shape[1] > 0:
            t = None if target is None else int(target) % arr.shape[1]
            self._reader = NpyFileReader(*where, arr.dtype, arr.shape[1], self.dtype, t)
        if self._reader is not None and self.path is not None:
            self._arr = None  # no mapping kept: reads go through the file

    def _read(self, r0, r1):
        block = np.asarray(self._arr[r0:r1])
        return _split_target(block, self._target, block.shape[1])

    def fingerprint(self):
        return None if self.path is None else _files_stat([self.path])

    def _fill(self, f, i, slot):
        r0, r1 = int(self.starts[i]), int(self.starts[i + 1])
        self.max_rows_read = max(self.max_rows_read, r1 - r0)
        return self._reader.fill(f, r0, r1, slot)

    def read(self, i):
        if self._reader is None:
            return super().read(i)
        with self._reader.open() as f:
            return self._fill(f, i, self._reader.make_slot(int(np.diff(self.starts)[i])))

    def iter_row_chunks(self, indices=None):
        if self._reader is None:
            yield from super().iter_row_chunks(indices)
            return
        todo = list(range(self.n_chunks) if indices is None else indices)
        rows = int(np.diff(self.starts)[todo].max()) if todo else 0
        with self._reader.open() as f, closing(read_ahead(
                todo, lambda i, slot: self._fill(f, i, slot),
                lambda: self._reader.make_slot(rows))) as chunks:
            for i, (Xc, yc) in zip(todo, chunks):
                yield int(self.starts[i]), Xc, yc


class ParquetSource(RowSource):
    """A Parquet file, or a directory of them; a chunk is one row group (pyarrow)."""

    def __init__(self, path, target=None, features=None):
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = os.fspath(path)
        files = [path] if os.path.isfile(path) else sorted(
            glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True)
            + glob.glob(os.path.join(path, "**", "*.pq"), recursive=True))
        if not files:
            raise ValueError(f"no Parquet files at {path!r}; pass a .parquet file or a "
                             f"directory holding some.")
        self._paths, self._files = files, [pq.ParquetFile(f) for f in files]
        schema = self._files[0].schema_arrow
        names = list(schema.names)
        wanted = ([target] if target is not None else []) + list(features or [])
        unknown = [c for c in wanted if c not in names]
        if unknown:
            raise ValueError(f"column(s) {unknown} are not in {path}; its columns are "
                             f"{names}.")
        self.feature_names = list(features) if features else [c for c in names
                                                               if c != target]
        types = {c: schema.field(c).type for c in self.feature_names}
        for c, t in types.items():
            if not (pa.types.is_integer(t) or pa.types.is_floating(t)
                    or pa.types.is_boolean(t)):
                raise ValueError(f"column {c!r} of {path} has type {t}; encode it as "
                                 f"numbers, or leave it out with features=[...].")
        f32 = all(t == pa.float32() for t in types.values())
        self.dtype = np.dtype(np.float32 if f32 else np.float64)
        self._target, self.has_target = target, target is not None
        self._groups = [(f, g) for f, pf in enumerate(self._files)
                        for g in range(pf.metadata.num_row_groups)]
        sizes = [self._files[f].metadata.row_group(g).num_rows for f, g in self._groups]
        self.starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.shape = (int(self.starts[-1]), len(self.feature_names))
        self.max_rows_read = 0

    def read(self, i):
        f, g = self._groups[i]
        cols = self.feature_names + ([self._target] if self.has_target else [])
        try:
            table = self._files[f].read_row_group(g, columns=cols)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{self._paths[f]} lacks columns of the first file ({exc}); "
                             f"give all files the same columns.") from None
        X = np.empty((table.num_rows, len(self.feature_names)), dtype=self.dtype)
        for j, c in enumerate(self.feature_names):  # nulls become NaN: the checks name them
            X[:, j] = table.column(c).to_numpy(zero_copy_only=False)
        y = table.column(self._target).to_numpy(zero_copy_only=False) \
            if self.has_target else None
        self.max_rows_read = max(self.max_rows_read, X.shape[0])
        return X, y

    def fingerprint(self):
        return _files_stat(self._paths)


class ZarrSource(RowSource):
    """A 2-D Zarr array (``target`` a column index) or a group with arrays X and y.

    For a group, ``features`` names the 2-D array (default "X") and ``target`` the
    labels (default "y" when present). A chunk is a whole number of Zarr row chunks.
    """

    def __init__(self, path_or_obj, target=None, features=None, chunk_bytes=None):
        import zarr

        obj = path_or_obj
        if isinstance(obj, (str, os.PathLike)):
            obj = zarr.open(os.fspath(obj), mode="r")
        self._y = None
        if isinstance(obj, zarr.Group):
            keys = list(obj.array_keys())
            xname = features or "X"
            yname = target if target is not None else ("y" if "y" in keys else None)
            unknown = [k for k in (xname, yname) if k is not None and k not in keys]
            if unknown:
                raise ValueError(f"array(s) {unknown} are not in the Zarr group; it holds "
                                 f"{keys} (features= names X, target= the labels).")
            obj, self._y, target = obj[xname], (obj[yname] if yname else None), None
        if len(obj.shape) != 2:
            raise ValueError(f"the Zarr array has shape {obj.shape}; a 2-D (m, n) array is "
                             f"needed.")
        self._arr, self._target = obj, target
        _split_target(np.empty((0, obj.shape[1])), target, obj.shape[1])
        self.has_target = target is not None or self._y is not None
        self.dtype = _float_dtype(obj.dtype, "the Zarr array")
        self.shape = (obj.shape[0], obj.shape[1] - (target is not None))
        self._set_chunks(obj.shape[0], self._rows_for(obj.shape[1], obj.dtype.itemsize,
                                                      chunk_bytes, align=obj.chunks[0]))

    def _read(self, r0, r1):
        X, y = _split_target(np.asarray(self._arr[r0:r1]), self._target, self._arr.shape[1])
        return X, (np.asarray(self._y[r0:r1]) if self._y is not None else y)


def open_source(path, target=None, features=None, chunk_bytes=None):
    """A row source for ``LogisticRegression.fit`` (out-of-core), chosen by the path.

    Parameters
    ----------
    path : str, PathLike, ndarray / np.memmap, or zarr array / group
        ``.npy`` (2-D), ``.parquet`` / ``.pq`` or a directory of them, ``.zarr``.
    target : int or str, optional
        The labels: a column index (.npy, Zarr array), a column name (Parquet) or an
        array name (Zarr group). Without it, pass ``y`` to ``fit``.
    features : list of str or str, optional
        Parquet: the feature columns (default: all but ``target``); Zarr group: the name
        of the 2-D array (default "X").
    chunk_bytes : int, optional
        Bytes of X per chunk (default 64 MiB); Parquet uses its row groups.
    """
    if isinstance(path, np.ndarray):
        return NpySource(path, target, chunk_bytes)
    if not isinstance(path, (str, os.PathLike)):
        return ZarrSource(path, target, features, chunk_bytes)
    p = os.fspath(path).rstrip("/")
    # a FIFO or a device (/dev/zero) would be read without end: refused first
    regular_file(p, "data file", folder_ok=True)
    low = p.lower()
    if low.endswith(".npy"):
        try:  # "-1" from a command line is a column index too
            target, named = (None if target is None else int(target)), features is not None
        except (TypeError, ValueError):
            named = True
        if named:
            raise ValueError(f"{p}: a .npy file has no column names; give target as a "
                             f"column index (-1 for the last) and select the features "
                             f"before saving it.")
        return NpySource(p, target, chunk_bytes)
    if isinstance(features, str) and not low.endswith(".zarr"):
        features = [features]
    if low.endswith(".zarr") or any(os.path.exists(os.path.join(p, f)) for f in
                                    ("zarr.json", ".zarray", ".zgroup")):
        return ZarrSource(p, target, features, chunk_bytes)
    if low.endswith((".parquet", ".pq")) or os.path.isdir(p):
        return ParquetSource(p, target, features)
    raise ValueError(f"cannot tell the format of {p!r}; use .npy, .parquet / .pq (or a "
                     f"directory of them) or .zarr.")

