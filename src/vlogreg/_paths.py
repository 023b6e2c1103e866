"""Paths the user gives: inputs must be regular files, read with bounded effort.

A path that is a FIFO, a character device (``/dev/zero``, ``/dev/urandom``, a
terminal) or a socket, or a symlink to one, would make a reader wait or read without
end; every file vlogreg reads is checked here first. ``open_regular`` opens the file
and checks what it opened (not the name), so a path swapped between the check and the
read cannot slip a device in.
"""

from __future__ import annotations

import os
import stat

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _kind(mode):
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse(path, what, mode):
    return ValueError(f"{what} {os.fspath(path)!r} is {_kind(mode)}, not a regular file; "
                      f"vlogreg reads {what}s from regular files only (copy the data into "
                      f"a file first).")


def regular_file(path, what, *, folder_ok=False):
    """``os.stat`` of ``path`` (symlinks followed) after checking it is a regular file.

    Parameters
    ----------
    path : str or os.PathLike
    what : str
        What the file is, for the message ("data file", "model file", ...).
    folder_ok : bool
        Accept a folder too (a Zarr store).

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    ValueError
        One line naming the path and what it is instead.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} {os.fspath(path)!r} does not exist; check the "
                                f"path.") from None
    if stat.S_ISREG(st.st_mode) or (folder_ok and stat.S_ISDIR(st.st_mode)):
        return st
    raise _refuse(path, what, st.st_mode)


def open_regular(path, what):
    """``path`` opened for binary reading, after checking that the opened file is a
    regular file (``O_NONBLOCK``: opening a FIFO does not wait for a writer)."""
    regular_file(path, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(path, what, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
