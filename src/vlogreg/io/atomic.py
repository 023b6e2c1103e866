"""The one atomic writer: every file vlogreg writes goes through ``atomic_write``.

The content is written to a new hidden file in the target's folder (created with
``O_EXCL``: never an existing file), flushed to disk, optionally checked, and only then
renamed over the target with ``os.replace``. An interrupted or failed write leaves the
target as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets


def atomic_write(path, content, *, check=None):
    """Write ``content`` to ``path`` atomically; return ``path`` (a str).

    Parameters
    ----------
    path : str or os.PathLike
    content : bytes, or callable(file) -> None
        The bytes, or a function that writes them into the open binary file.
    check : callable(tmp_path) -> None, optional
        Called on the complete temporary file before it replaces ``path``; an
        exception it raises cancels the write.
    """
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
