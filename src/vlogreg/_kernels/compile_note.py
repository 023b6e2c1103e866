"""One line on stderr the first time a process compiles vlogreg's numba kernels.

A cold numba cache costs tens of seconds before the first fit of a process; a newcomer
deserves to know why. numba fires its ``numba:compile`` event only when it really
compiles (a signature not in memory and not loaded from the on-disk cache), so a
process that finds its kernels cached stays silent.

A plain write to stderr rather than a warning: warnings can be turned into errors
(``-W error``, pytest's ``filterwarnings = error``), which would make a user's suite
fail on a cold cache only; and rather than logging, which is silent unless the
application configured it.
"""

from __future__ import annotations

import sys

from numba.core import event

MESSAGE = "vlogreg: compiling its numba kernels (cached after the first run)..."


class _FirstCompile(event.Listener):
    def __init__(self):
        self.said = False

    def on_start(self, ev):
        if self.said:
            return
        func = getattr(ev.data.get("dispatcher"), "py_func", None)
        if (getattr(func, "__module__", None) or "").startswith("vlogreg."):
            self.said = True
            sys.stderr.write(MESSAGE + "\n")
            sys.stderr.flush()

    def on_end(self, ev):
        pass


_listener = None


def install():
    """Listen for numba's compilations (once per process)."""
    global _listener
    if _listener is None:
        _listener = _FirstCompile()
        event.register("numba:compile", _listener)
