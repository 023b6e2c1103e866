"""numba's on-disk cache of the kernels, dropped when any kernel module changes.

numba keys a cached function on the source of the file that defines it, but the
kernels inline functions from their sibling modules (``numba_common``'s exp and log1p
series, ``numba_kcol_rows``' row functions, ``_intrinsics``): after an edit, a merge,
a ``git pull`` or an upgrade that changes only such a sibling, numba would load the
machine code compiled from the OLD sibling and compute with it. So the cache directory
holds a stamp, the digest of every ``_kernels/*.py`` and numba's version; where it
differs, the kernels' cached files are removed before anything is loaded (then
compiled again once, with ``compile_note``'s line on stderr).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

HERE = Path(__file__).resolve().parent
STAMP = "vlogreg-kernels.stamp"


def sources_digest(folder=HERE):
    """sha256 of numba's version and every ``*.py`` of ``folder``, in name order."""
    h = hashlib.sha256(numba.__version__.encode())
    for path in sorted(folder.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_path():
    """The directory numba caches this package's kernels in (the first of numba's
    locators that takes a file here, as numba picks it), or None."""
    try:
        from numba.core.caching import CacheImpl

        for locator in CacheImpl._locator_classes:
            found = locator.from_function(sources_digest, str(HERE / "numba_common.py"))
            if found is not None:
                return found.get_cache_path()
    except Exception:  # numba's internals moved: keep its own (per-file) invalidation
        return None
    return None


def clear_stale(path, digest, stems):
    """Remove the cached kernels (``<stem>.*.nbi`` / ``.nbc`` for ``stems``) in
    ``path`` unless its stamp reads ``digest``, then write the stamp. Returns how
    many files were removed. Never raises: a read-only or vanished cache directory
    leaves numba to its own checks."""
    stamp = os.path.join(path, STAMP)
    try:
        with open(stamp, encoding="ascii") as f:
            if f.read() == digest:
                return 0
    except (OSError, UnicodeDecodeError):
        pass
    removed = 0
    try:
        names = os.listdir(path)
    except OSError:
        return 0
    for name in names:
        if name.endswith((".nbi", ".nbc")) and name.split(".", 1)[0] in stems:
            try:
                os.remove(os.path.join(path, name))
                removed += 1
            except OSError:  # another process removed it first
                pass
    try:  # atomically: a concurrent process reads the old stamp or the new one
        tmp = f"{stamp}.{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(digest)
        os.replace(tmp, stamp)
    except OSError:
        pass
    return removed


def check():
    """Drop this package's stale cached kernels (called once, on the first import of
    a kernel module)."""
    path = cache_path()
    if path is not None:
        clear_stale(path, sources_digest(), {p.stem for p in HERE.glob("*.py")})
