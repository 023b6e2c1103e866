"""How many threads the numba kernels and the BLAS run on."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

from .._spec import n_threads


def _controller_now():
    global _controller
    if _controller is None:
        # the BLAS the kernels call (numba's wrapper of scipy's cython_blas): loaded
        # first, else a controller made before its first call cannot limit it
        import scipy.linalg.cython_blas  # noqa: F401
        _controller = ThreadpoolController()
    return _controller


def threadpool_limit():
    """The fewest threads any BLAS or OpenMP library of this process is set to (by
    threadpoolctl's ``threadpool_limits``, ``OMP_NUM_THREADS``, ...), or None when none
    is set below ``os.cpu_count()``. Read before a fit sets BLAS to one thread."""
    counts = [lib.num_threads for lib in _controller_now().lib_controllers
              if lib.user_api in ("blas", "openmp") and lib.num_threads]
    limit = min(counts, default=None)
    return limit if limit is not None and limit < (os.cpu_count() or 1) else None


def fit_threads(n_jobs):
    """Threads of a fit's kernels and row blocks: ``n_jobs`` (scikit-learn's
    convention; None: all cores), capped by threadpoolctl's limits (a fit inside
    ``threadpool_limits(1)``, or a joblib worker that set them, stays on one thread)."""
    n, limit = n_threads(n_jobs), threadpool_limit()
    if limit is None:
        return n
    return limit if n is None else min(n, limit)


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
    return _controller_now().limit(limits=1, user_api="blas")
