"""The estimator's hyper-parameters: their checks (one-line errors naming the fix),
scikit-learn 1.9's warnings about ``penalty`` / ``l1_ratio`` / ``C``, and the solvers'
seed. Shared by the estimator and by the model-file reader, which checks the
parameters a file declares with the same rules."""

from __future__ import annotations

import numbers

import numpy as np

from ._spec import resolve_penalty
from ._warnings import warn
from .solvers import SKLEARN_SOLVERS, SOLVERS

_PENALTIES = ("deprecated", "l2", "l1", "elasticnet", None)
_SOLVERS = ("auto",) + tuple(SOLVERS) + tuple(s for s in SKLEARN_SOLVERS if s not in SOLVERS)


def _real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_params(est):
    """Validate the hyper-parameters: a one-line ValueError naming the parameter and the
    fix. One check per line (name, whether the value is bad, what to use instead)."""
    r, lr = est.l1_ratio, est.learning_rate
    checks = [
        ("penalty", est.penalty not in _PENALTIES,
         "use l1_ratio and C (penalty is deprecated), or 'l2', 'l1', 'elasticnet', None"),
        ("C", not _real(est.C) or np.isnan(est.C) or est.C <= 0,
         "C is the inverse penalty strength, a positive number (np.inf for no penalty)"),
        ("l1_ratio", r is not None and (not _real(r) or not 0 <= r <= 1),
         "use a number in [0, 1]: 0 for L2, 1 for L1, between for the elastic net"),
        ("l1_ratio", est.penalty == "elasticnet" and r is None,
         "penalty='elasticnet' needs l1_ratio, a number in [0, 1]"),
        ("dual", not isinstance(est.dual, (bool, np.bool_)),
         "use False (vlogreg solves the primal problem)"),
        ("dual", est.dual is True or est.dual is np.True_,
         "the dual formulation is not supported; use dual=False (the default)"),
        ("intercept_scaling", not _real(est.intercept_scaling)
         or not est.intercept_scaling > 0,
         "use a positive number (it has no effect: the intercept is never penalized)"),
        ("random_state", not (est.random_state is None
                              or isinstance(est.random_state, np.random.RandomState)
                              or (isinstance(est.random_state, numbers.Integral)
                                  and not isinstance(est.random_state, bool)
                                  and 0 <= est.random_state < 2**32)),
         "use None, an integer in [0, 2**32) or a numpy.random.RandomState"),
        ("n_jobs", est.n_jobs is not None and (
            not isinstance(est.n_jobs, numbers.Integral) or isinstance(est.n_jobs, bool)
            or est.n_jobs == 0),
         "use None, a positive number of threads, or -1 for all cores"),
        ("solver", est.solver not in _SOLVERS,
         f"choose one of {', '.join(map(repr, _SOLVERS))}"),
        ("tol", not _real(est.tol) or not est.tol >= 0 or not np.isfinite(est.tol),
         "use a non-negative number such as 1e-4"),
        ("max_iter", not isinstance(est.max_iter, numbers.Integral)
         or isinstance(est.max_iter, bool) or est.max_iter < 0,
         "use a non-negative integer such as 100"),
        ("learning_rate", lr is not None and (not _real(lr) or not lr > 0
                                              or not np.isfinite(lr)),
         "use a positive number, or None for the automatic step"),
        ("learning_rate", lr is not None and est.solver not in ("gd", "agd"),
         "a fixed learning rate only applies to solver='gd' or 'agd'"),
        ("class_weight", not (est.class_weight is None or est.class_weight == "balanced"
                              or isinstance(est.class_weight, dict)),
         "use None, 'balanced' or a dict {class: weight}"),
        # "False" (a string) is true: only real booleans
        ("fit_intercept", not isinstance(est.fit_intercept, (bool, np.bool_)),
         "use True or False"),
        ("warm_start", not isinstance(est.warm_start, (bool, np.bool_)), "use True or False"),
        ("standardize", not isinstance(est.standardize, (bool, np.bool_)),
         "use True (fit on unit-variance columns) or False"),
    ]
    for name, bad, fix in checks:
        if bad:
            raise ValueError(f"{type(est).__name__}: {name}={getattr(est, name)!r} is not "
                             f"valid; {fix}.")


def _penalty_warnings(est):
    """scikit-learn 1.9's warnings about ``penalty``, ``l1_ratio`` and ``C``: the same
    categories and conditions, and scikit-learn's first sentence word for word (users'
    filters match it), then vlogreg's detail."""
    p, r = est.penalty, est.l1_ratio
    if p == "deprecated" and r is None:
        warn("'l1_ratio=None' was deprecated in scikit-learn 1.8 and will be an error in "
             "1.10. Use 0 <= l1_ratio <= 1 instead (0 for the L2 penalty None means now).",
             FutureWarning)
    if p != "deprecated":
        warn(f"'penalty' was deprecated in scikit-learn 1.8 and will be removed in 1.10 "
             f"(penalty={p!r} is still honoured). To avoid this warning, leave 'penalty' "
             f"at its default and use 'l1_ratio' and 'C': l1_ratio=0 for 'l2', 1 for "
             f"'l1', between 0 and 1 for 'elasticnet', C=np.inf for None.", FutureWarning)
    penalty = resolve_penalty(p, est.C, r)
    if penalty != "elasticnet" and r is not None and 0 < r < 1:
        warn(f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
             f"(penalty={penalty}): l1_ratio={r!r} is ignored.")
    if (p == "l2" and r != 0) or (p == "l1" and r != 1):
        warn(f"Inconsistent values: penalty={p} with l1_ratio={r}. penalty={p!r} wins; "
             f"penalty is deprecated: set l1_ratio only.")
    if p is None and est.C != 1.0:
        warn(f"Setting penalty=None will ignore the C and l1_ratio parameters: C={est.C!r} "
             f"is ignored and the fit is unpenalized; use C=np.inf for no penalty, or a "
             f"penalty for C to matter.")


# scikit-learn's first sentence of the ConvergenceWarning of each of its solvers: a user's
# filter on it (warnings.filterwarnings("ignore", message="lbfgs failed to converge"),
# which matches the message's start) catches vlogreg's warning for the same solver name
_SKLEARN_CONVERGENCE = {
    "lbfgs": "lbfgs failed to converge after {n_iter} iteration(s).",
    "newton-cg": "newton-cg failed to converge. Increase the number of iterations.",
    "newton-cholesky": "Newton solver did not converge after {n_iter} iterations.",
    "sag": "The max_iter was reached which means the coef_ did not converge.",
    "saga": "The max_iter was reached which means the coef_ did not converge.",
    "liblinear": "Liblinear failed to converge, increase the number of iterations.",
}


def sklearn_convergence_lead(solver, n_iter, max_iter):
    """scikit-learn's first sentence for a fit with the scikit-learn solver name
    ``solver`` that stopped unconverged after ``n_iter`` iterations, or "" (vlogreg's own
    names, "auto", and sag's sentence where max_iter was not what stopped it)."""
    if solver in ("sag", "saga") and n_iter < max_iter:
        return ""
    return _SKLEARN_CONVERGENCE.get(solver, "").format(n_iter=n_iter)


def _seed(random_state):
    """The integer seed of the solver's random choices (None: 0, reproducible)."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    return int(random_state)
