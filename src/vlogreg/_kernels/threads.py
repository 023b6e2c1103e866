"""How many threads the numba kernels and the BLAS run on."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController


@contextmanager
def kernel_threads(n):
    """numba's threads limited to ``n`` (None: unchanged). A Dask task gets one (the
    workers are the parallelism); ``n_jobs`` sets them for an in-memory fit. The
    kernels' results do not depend on their threads."""
    numba = sys.modules.get("numba") if n is not None else None  # imported by the kernel
    old = numba.get_num_threads() if numba is not None else None
    if old is not None and old > n:
        numba.set_num_threads(n)
    try:
        yield
    finally:
        if old is not None and old > n:
            numba.set_num_threads(old)


_controller = None


def blas_single_thread():
    """A context in which BLAS runs on one thread.

    Our own threads already spread the blocks of a large X over the cores, and nested
    BLAS threads would only fight them. For small X the BLAS calls are tiny (a solver's
    vector updates, a gemv on a cached block) and OpenBLAS's thread wake-ups cost more
    than they bring: on a busy machine they made a 30-iteration L-BFGS fit on breast
    cancer 30x slower (230 ms against 7 ms).
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
