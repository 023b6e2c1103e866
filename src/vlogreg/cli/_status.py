"""Status lines on stderr for waits the user would otherwise sit through in silence.

A wait is announced once it lasts ``status_delay()`` seconds (1 s;
``VLOGREG_PROGRESS_DELAY`` sets another, 0 announces every wait at once, as the tests
do): a file read says ``reading PATH (SIZE) ...`` and, at its end, how many rows came
in how long. Quick reads print nothing. A fit shows a progress bar (``FitProgress``).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time

from ._common import safe_text


def status_delay():
    """Seconds before a wait is shown: ``VLOGREG_PROGRESS_DELAY``, else 1."""
    try:
        return max(0.0, float(os.environ.get("VLOGREG_PROGRESS_DELAY", "1")))
    except ValueError:
        return 1.0


def human_size(nbytes):
    """``nbytes`` in GiB, MiB or KiB, two decimals (``"2.00 GiB"``)."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{nbytes} bytes"


def data_bytes(path):
    """The size of a file, or the total of the files in a folder (a Zarr store)."""
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path)
                   for f in fs)
    return os.path.getsize(path)


class Reading:
    """``with Reading("train", path) as r: data = read(...); r.rows = len(data.X)``.

    Once the read has lasted ``status_delay()`` seconds, stderr gets
    ``vlogreg train: reading PATH (SIZE) ...``; then, when it ends, ``read N rows in
    T s (R rows/s)``. Nothing is printed when ``quiet`` or when the read ended sooner.
    """

    def __init__(self, command, path, quiet=False):
        self.command, self.path, self.quiet = command, path, quiet
        self.rows, self.shown, self._timer = None, False, None

    def _announce(self):
        try:
            size = f" ({human_size(data_bytes(self.path))})"
        except OSError:
            size = ""  # the reader will say what is wrong with the path
        print(f"vlogreg {self.command}: reading {safe_text(self.path)}{size} ...",
              file=sys.stderr, flush=True)
        self.shown = True

    def __enter__(self):
        self.t0 = time.perf_counter()
        if not self.quiet:
            delay = status_delay()
            if delay == 0:
                self._announce()
            else:
                self._timer = threading.Timer(delay, self._announce)
                self._timer.daemon = True
                self._timer.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
        seconds = time.perf_counter() - self.t0
        if self.shown and exc_type is None and self.rows is not None:
            rate = f", {self.rows / seconds:,.0f} rows/s" if seconds > 0 else ""
            print(f"vlogreg {self.command}: read {self.rows:,} rows in {seconds:.1f} s"
                  f"{rate}", file=sys.stderr, flush=True)
        return False


class FitProgress:
    """Estimator callback that shows a rich progress bar once a fit lasts ``delay`` s.

    Parameters
    ----------
    console : rich.console.Console
    max_iter, tol : the fit's, shown in the bar
    delay : float
        Seconds before the bar appears (short fits show nothing).
    """

    def __init__(self, console, max_iter, tol, delay=1.0):
        self.console, self.max_iter, self.tol, self.delay = console, max_iter, tol, delay
        self.t0 = time.perf_counter()
        self.progress, self.last = None, 0

    @classmethod
    def for_terminal(cls, max_iter, tol):
        """A FitProgress on stderr, or None when rich is missing or stderr is no terminal."""
        try:
            from rich.console import Console
        except ImportError:
            return None
        console = Console(stderr=True)
        return cls(console, max_iter, tol, status_delay()) if console.is_terminal else None

    def __call__(self, state):
        elapsed = time.perf_counter() - self.t0
        self.last = state.n_iter
        if self.progress is None:
            if elapsed < self.delay:
                return False
            self._start()
        self.progress.update(self.task, completed=state.n_iter, loss=state.loss,
                             grad=state.grad_norm, elapsed=elapsed)
        return False

    def _start(self):
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("iteration {task.completed:.0f}/{task.total:.0f}"),
            BarColumn(), TextColumn("loss {task.fields[loss]:.6g}"),
            TextColumn(f"|grad| {{task.fields[grad]:.2e}} (tol {self.tol:g})"),
            TextColumn("{task.fields[elapsed]:.1f} s"), console=self.console)
        self.progress.start()
        self.task = self.progress.add_task("fit", total=self.max_iter, loss=math.nan,
                                           grad=math.nan, elapsed=0.0)

    def close(self, n_iter=None):
        """Stop the bar at the fit's last iteration ``n_iter`` (default: the last one
        seen): a fit that converged at 5 of --max-iter 100 ends full at 5/5, not 5/100."""
        if self.progress is not None:
            last = self.last if n_iter is None else int(n_iter)
            self.progress.update(self.task, total=max(last, 1), completed=last)
            self.progress.stop()
