"""``.npy`` and ``.npz`` data files, read only after their headers were checked.

A ``.npy`` header declares a shape and a dtype; a few hundred bytes can declare
terabytes. Before any array is allocated, the declared size is checked against the
bytes the file really holds (a mismatch is a truncated or forged file) and against the
memory budget (``data.sources.memory_budget``: ``VLOGREG_MEMORY_BUDGET`` or half the
available memory), and object arrays (pickles) are refused by name. Every problem is a
one-line ``ValueError`` naming the file, the array and the size.
"""

from __future__ import annotations

import math
import zipfile
import zlib

import numpy as np

from .._paths import open_regular
from .sources import memory_budget

_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
            (2, 0): np.lib.format.read_array_header_2_0}


def _size(nbytes):
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20),
                        ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes} bytes"


def _header(fh, where):
    """``(shape, dtype, header bytes)`` of the .npy stream ``fh`` (at its start)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version not in _READERS:
            raise ValueError(f"unsupported .npy version {version}")
        shape, _, dtype = _READERS[version](fh, max_header_size=65536)
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise ValueError(f"{where} is not a readable .npy array ({exc}).") from None
    return shape, dtype, 6 + 2 + (2 if version == (1, 0) else 4)


def check_declared(where, shape, dtype, stored_bytes):
    """Refuse an array whose header does not match the bytes stored, or that would not
    fit in the memory budget as float64 (which every fit converts it to)."""
    if dtype.hasobject:
        raise ValueError(f"{where} holds Python objects (dtype {dtype}), which vlogreg never "
                         f"unpickles; save numbers: np.save(path, X.astype(float)).")
    n_items = math.prod(shape)
    declared = n_items * dtype.itemsize
    if declared != stored_bytes:
        raise ValueError(f"{where} declares {dtype} of shape {tuple(shape)} "
                         f"({_size(declared)}) but holds {_size(stored_bytes)} of data; the "
                         f"file is truncated or damaged: save it again.")
    budget = memory_budget()
    if n_items * 8 > budget:
        raise ValueError(f"{where} declares shape {tuple(shape)}: {_size(n_items * 8)} as "
                         f"float64, more than the memory budget of {_size(budget)}; raise "
                         f"VLOGREG_MEMORY_BUDGET (e.g. 64G) if this machine has the memory.")


def load_npy(path):
    """The array of a ``.npy`` file, after its header was checked."""
    with open_regular(path, "data file") as fh:
        shape, dtype, _ = _header(fh, path)
        start = fh.tell()
        end = fh.seek(0, 2)
        check_declared(path, shape, dtype, end - start)
        fh.seek(0)
        try:
            return np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"{path} is not a readable .npy array ({exc}).") from None


def load_npz(path, names):
    """``{name: array}`` of the arrays ``names`` that a ``.npz`` file holds (others are
    left out), each checked before it is read; and the list of all its arrays."""
    with open_regular(path, "data file") as fh:
        try:
            with zipfile.ZipFile(fh) as zf:
                members = {i.filename[:-4]: i for i in zf.infolist()
                           if i.filename.endswith(".npy")}
                out = {}
                for name in names:
                    info = members.get(name)
                    if info is None:
                        continue
                    where = f"{path}: array {name!r}"
                    with zf.open(info) as member:
                        shape, dtype, _ = _header(member, where)
                        header = member.tell()
                    check_declared(where, shape, dtype, info.file_size - header)
                    with zf.open(info) as member:
                        try:
                            out[name] = np.lib.format.read_array(member, allow_pickle=False)
                        except ValueError as exc:
                            raise ValueError(f"{where} could not be read ({exc}); save the "
                                             f"file again.") from None
                return out, sorted(members)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                RuntimeError) as exc:
            raise ValueError(f"{path} is not a readable .npz file ({exc}); save it again "
                             f"with np.savez(path, X=X, y=y).") from None
