"""The one atomic writer: every file vlogreg writes goes through ``atomic_write``.

The content is written to a new hidden file in the target's folder, flushed to disk,
optionally checked, and only then renamed over the target with ``os.replace``. An
interrupted or failed write leaves the target as it was.

The temporary file is created with ``O_EXCL`` and ``O_NOFOLLOW``: it is always a new
file, never one that exists, and never the target of a symlink planted under its name
(its name is random besides). It is named ``.<target>.<pid>-<random>.vlogreg-tmp``; one
left by a process that was killed (``kill -9``: no cleanup ran) is removed by the next
write to the same target, once its process is gone.
"""

from __future__ import annotations

import os
import re
import secrets
import stat

SUFFIX = ".vlogreg-tmp"


def _tmp_pattern(base):
    return re.compile(re.escape(f".{base}.") + r"(\d+)-[0-9a-f]{12}" + re.escape(SUFFIX))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid we can ask about: keep it
    return True


def remove_stale(path):
    """Remove the temporary files of earlier writes to ``path`` whose process is gone
    (regular files of this user only); return their names."""
    folder, base = os.path.split(os.path.abspath(os.fspath(path)))
    pattern, removed = _tmp_pattern(base), []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = pattern.fullmatch(name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        full = os.path.join(folder, name)
        try:
            st = os.lstat(full)  # never follow a link planted under such a name
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid():
                os.unlink(full)
                removed.append(name)
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


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
    folder, base = os.path.split(os.path.abspath(path))
    remove_stale(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(6)}{SUFFIX}")
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0))
    fd = os.open(tmp, flags, 0o666)
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
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(folder)
    return path


def _sync_folder(folder):
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
