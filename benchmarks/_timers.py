"""``Timers``: exclusive time and calls per phase of a fit, by wrapping the functions
that make up each phase (the phase scripts ``cv_phases.py`` and ``fit_phases.py``)."""

from __future__ import annotations

import functools
import time


class Timers:
    """Exclusive time and calls per label, by wrapping the phases' functions: a
    wrapped call's time less that of the wrapped calls inside it."""

    def __init__(self):
        self.time, self.calls, self._stack = {}, {}, []

    def wrap(self, owner, name, label):
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def timed(*args, **kw):
            self._stack.append(0.0)
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                total = time.perf_counter() - t
                inner = self._stack.pop()
                if self._stack:
                    self._stack[-1] += total
                self.time[label] = self.time.get(label, 0.0) + total - inner
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, name, timed)

    def reset(self):
        self.time, self.calls = {}, {}
