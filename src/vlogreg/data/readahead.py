"""Read-ahead for the out-of-core backend: chunks read by a thread into reusable buffers.

``read_ahead(todo, fill, make_slot)`` yields ``fill(i, slot)`` for every chunk ``i``,
computed by one background thread while the caller works on the previous chunk. The
thread fills a fixed set of preallocated slots (two by default: double buffering), so a
pass allocates nothing per chunk and holds at most ``n_slots`` chunks, whatever the size
of the file. A yielded chunk is a view of a slot: it is valid until the caller asks for
the next one (the slot then goes back to the thread).

``NpyFileReader`` fills the slots of a ``.npy`` file (or a file-backed ``np.memmap``)
with plain sequential ``readinto`` calls into the slot's buffer: no page faults, no
per-chunk allocation, no copy or dtype conversion of X when the file holds exactly the
float32 / float64 features (the kernels take the C-contiguous block as it is read). The
file is read with ``POSIX_FADV_SEQUENTIAL``; when it is larger than the memory available
its pages are dropped behind the reader (``POSIX_FADV_DONTNEED``), since they could not
stay cached for the next pass anyway and would only evict other processes' pages.
"""

from __future__ import annotations

import mmap
import os
import queue
import threading

import numpy as np

_STOP = object()


def read_ahead(todo, fill, make_slot, n_slots=2):
    """Yield ``fill(i, slot)`` for ``i`` in ``todo``, computed one chunk ahead by a thread.

    ``make_slot()`` makes the reusable buffers of one slot (``n_slots`` are made). A value
    yielded is valid until the generator is resumed; closing the generator early (or an
    exception in the caller) stops the thread after the read in progress. An exception
    raised by ``fill`` is raised here, at the chunk it concerns.
    """
    todo = list(todo)
    if not todo:
        return
    free, ready = queue.Queue(), queue.Queue()
    for _ in range(max(1, min(n_slots, len(todo)))):
        free.put(make_slot())
    stop = threading.Event()

    def worker():
        try:
            for i in todo:
                slot = free.get()
                if slot is _STOP or stop.is_set():
                    return
                ready.put((slot, fill(i, slot), None))
        except BaseException as exc:  # handed to the caller, raised there
            ready.put((None, None, exc))

    thread = threading.Thread(target=worker, name="vlogreg-read-ahead", daemon=True)
    thread.start()
    try:
        for _ in todo:
            slot, value, exc = ready.get()
            if exc is not None:
                raise exc
            yield value
            del value
            free.put(slot)
    finally:
        stop.set()
        free.put(_STOP)  # wakes the thread if it waits for a slot
        thread.join()


def mapped_file(arr):
    """``(path, byte offset of arr[0, 0])`` of a C-contiguous, file-backed, read-only or
    shared ``np.memmap`` (a slice of one too), else None: such an array is read from its
    file with plain reads rather than through page faults."""
    mm, name = getattr(arr, "_mmap", None), getattr(arr, "filename", None)
    if mm is None or not name or getattr(arr, "mode", None) not in ("r", "r+") \
            or not arr.flags.c_contiguous or not os.path.isfile(name):
        return None
    try:
        base = np.frombuffer(mm, np.uint8).ctypes.data
    except (TypeError, ValueError, BufferError):
        return None
    start = arr.offset - arr.offset % mmap.ALLOCATIONGRANULARITY  # how np.memmap maps
    return name, start + arr.ctypes.data - base


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _fadvise(fd, offset, length, advice):
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, offset, length, advice)
        except OSError:
            pass


class NpyFileReader:
    """Row chunks of a C-order array stored in a file at ``offset`` (a ``.npy`` body).

    Parameters
    ----------
    path : str
    offset : int
        Byte offset of row 0.
    raw_dtype : numpy dtype of the stored values
    ncol : int
        Stored columns (the features, plus the label column when ``target`` is set).
    dtype : float32 or float64, what X is given as (a conversion only if it differs)
    target : int or None
        The label column (already checked, in ``0..ncol - 1``), or None.
    """

    def __init__(self, path, offset, raw_dtype, ncol, dtype, target=None):
        self.path, self.offset, self.ncol, self.target = path, int(offset), ncol, target
        self.raw_dtype, self.dtype = np.dtype(raw_dtype), np.dtype(dtype)
        self.row_bytes = ncol * self.raw_dtype.itemsize
        #: whether the rows read are X itself (no label column, no conversion): one
        #: buffer per slot, no copy at all
        self.direct = target is None and self.raw_dtype == self.dtype \
            and self.raw_dtype.isnative
        self.drop_behind = False  # set by open(): the file is larger than free memory

    def make_slot(self, rows):
        """The buffers of one slot: the raw rows, and X when it is not the raw rows."""
        raw = np.empty((rows, self.ncol), self.raw_dtype)
        if self.direct:
            return raw, None
        return raw, np.empty((rows, self.ncol - (self.target is not None)), self.dtype)

    def open(self):
        """The file, opened for one sequential pass (unbuffered: reads go to the slots)."""
        f = open(self.path, "rb", buffering=0)
        _fadvise(f.fileno(), 0, 0, getattr(os, "POSIX_FADV_SEQUENTIAL", 2))
        avail = _mem_available()
        size = os.fstat(f.fileno()).st_size
        self.drop_behind = avail is not None and size > avail
        return f

    def fill(self, f, r0, r1, slot):
        """Rows ``r0:r1`` read into ``slot``: ``(X (r, n) of dtype, labels (r,) or None)``."""
        raw, xbuf = slot
        rows = r1 - r0
        block = raw[:rows]
        view = memoryview(block.reshape(-1).view(np.uint8))
        pos = self.offset + r0 * self.row_bytes
        f.seek(pos)
        done = 0
        while done < len(view):
            n = f.readinto(view[done:])
            if not n:
                raise ValueError(f"{self.path} ends before row {r1} (truncated file?); "
                                 f"save it again.")
            done += n
        if self.drop_behind:  # these pages cannot stay cached until the next pass
            _fadvise(f.fileno(), pos, done, getattr(os, "POSIX_FADV_DONTNEED", 4))
        if self.direct:
            return block, None
        X = xbuf[:rows]
        t = self.target
        if t is None:
            X[...] = block
            return X, None
        X[:, :t] = block[:, :t]
        X[:, t:] = block[:, t + 1:]
        return X, block[:, t].copy()
