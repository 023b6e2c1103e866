"""What ``fit(resume_from=state)`` needs, checked before a solver sees the state.

A state comes from a callback of an earlier fit, or from a checkpoint file that may
have been edited or damaged. A missing key, a vector of the wrong size, a NaN or a step
of 0 would otherwise end deep inside a solver (``KeyError: 't'``, a
``ZeroDivisionError``) or give NaN coefficients. ``check_resume`` raises one
``ValueError`` line naming the key and what it should be.
"""

from __future__ import annotations

import numbers

import numpy as np

#: the keys each solver's state holds (see the solvers' ``state`` dicts)
_VECTORS = {"gd": ("x", "y"), "agd": ("x", "y"), "lbfgs": ("x",), "newton": ("x",)}
_STEPS = {"gd": ("t", "momentum"), "agd": ("t", "momentum")}
_FIX = "resume with the state of an interrupted fit on the same data and parameters"


def _bad(key, what):
    raise ValueError(f"resume_from[{key!r}] {what}; {_FIX}.")


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def check_resume(state, solver, n_params):
    """Raise a one-line ``ValueError`` unless ``state`` can resume ``solver`` on a
    problem with ``n_params`` parameters.

    Parameters
    ----------
    state : dict
        ``x`` (and ``y`` for gd / agd): float vectors of size ``n_params``, finite;
        ``n_iter``: integer >= 0; ``history``: a non-empty sequence of finite floats;
        ``t`` (> 0) and ``momentum`` (>= 1) for gd / agd.
    solver : str
        The solver that will run ("gd", "agd", "lbfgs", "newton").
    n_params : int
    """
    if not isinstance(state, dict):
        raise ValueError(f"resume_from must be a dict (a callback's state.state), got "
                         f"{type(state).__name__}; {_FIX}.")
    for key in _VECTORS.get(solver, ("x",)):
        if key not in state:
            _bad(key, f"is missing (solver {solver!r} needs it)")
        try:
            v = np.asarray(state[key], dtype=np.float64)
        except (TypeError, ValueError):
            _bad(key, "is not a vector of numbers")
        if v.shape != (n_params,):
            _bad(key, f"has shape {v.shape}, this fit has {n_params} parameters (another "
                      f"size: other data or parameters)")
        if not np.isfinite(v).all():
            _bad(key, "holds NaN or inf")
    n_iter = state.get("n_iter")
    if not isinstance(n_iter, numbers.Integral) or isinstance(n_iter, bool) or n_iter < 0:
        _bad("n_iter", f"is {n_iter!r}; it must be an integer >= 0")
    history = state.get("history")
    try:
        h = np.asarray(history, dtype=np.float64)
    except (TypeError, ValueError):
        h = np.empty(0)
    if history is None or isinstance(history, (str, bytes)) or h.ndim != 1 or not len(h) \
            or not np.isfinite(h).all():
        _bad("history", "must be a non-empty list of finite losses")
    for key in _STEPS.get(solver, ()):
        v = state.get(key)
        low = 0.0 if key == "t" else 1.0
        if not _real(v) or not np.isfinite(v) or not (v > low if key == "t" else v >= low):
            _bad(key, f"is {v!r}; it must be a finite number {'> 0' if key == 't' else '>= 1'}")
