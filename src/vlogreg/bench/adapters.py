"""One adapter per library: fit a Problem at a tolerance, return coefficients and time.

Each adapter is ``fit(problem, tol) -> Fit``, or None when the library is not installed
or does not solve that problem (statsmodels only the unpenalized ones, glum only
binary). Every adapter fits the same objective: scikit-learn's
``C sum_i loss_i + ||w||^2 / 2`` with an unpenalized intercept.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._estimator import LogisticRegression


@dataclass
class Fit:
    """Coefficients in the common layout: coef (n,) or (n, K), intercept float or (K,)."""
    coef: np.ndarray
    intercept: object
    seconds: float
    n_iter: int
    #: the reads of X the fit counted (vlogreg's ``n_passes_``); None for the peers
    n_passes: float = None


def _timed(fn):
    """``(fn(), seconds)``; the peers' convergence warnings are not results: silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - t0


def _from_estimator(est, seconds, K):
    if K > 2:
        return Fit(est.coef_.T.astype(np.float64), est.intercept_.astype(np.float64),
                   seconds, int(np.max(est.n_iter_)))
    return Fit(est.coef_.ravel().astype(np.float64), float(est.intercept_[0]), seconds,
               int(np.max(est.n_iter_)))


def vlogreg_fit(solver):
    def fit(problem, tol):
        C = np.inf if problem.penalty is None else problem.C  # l1_ratio=0: L2
        est = LogisticRegression(C=C, l1_ratio=0.0, solver=solver,
                                 tol=tol, max_iter=10_000)
        _, seconds = _timed(lambda: est.fit(problem.X, problem.y))
        out = _from_estimator(est, seconds, problem.n_classes)
        out.n_passes = float(est.n_passes_)
        return out
    return fit


def sklearn_fit(solver):
    def fit(problem, tol):
        from sklearn.linear_model import LogisticRegression

        if solver == "saga" and problem.X.shape[0] * problem.X.shape[1] > 5e7:
            return None  # minutes per fit: left out of the big runs
        C = np.inf if problem.penalty is None else problem.C
        est = LogisticRegression(C=C, l1_ratio=0.0, solver=solver, tol=tol,
                                 max_iter=10_000)
        _, seconds = _timed(lambda: est.fit(problem.X, problem.y))
        return _from_estimator(est, seconds, problem.n_classes)
    return fit


def glum_fit(problem, tol):
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError:
        return None
    if problem.n_classes > 2:
        return None
    m = problem.X.shape[0]
    # glum minimizes mean loss + alpha ||w||^2 / 2: alpha = 1 / (C m) is the same problem
    alpha = 0.0 if problem.penalty is None else 1.0 / (problem.C * m)
    est = GeneralizedLinearRegressor(family="binomial", alpha=alpha, l1_ratio=0.0,
                                     gradient_tol=tol, max_iter=1000)
    _, seconds = _timed(lambda: est.fit(problem.X, problem.y))
    return Fit(np.asarray(est.coef_, dtype=np.float64), float(est.intercept_), seconds,
               int(est.n_iter_))


def statsmodels_fit(problem, tol):
    try:
        import statsmodels.api as sm
    except ImportError:
        return None
    if problem.penalty is not None or problem.n_classes > 2 or sp.issparse(problem.X):
        return None

    def run():
        Xc = sm.add_constant(problem.X.astype(np.float64), has_constant="add")
        return sm.Logit(problem.y, Xc).fit(method="newton", tol=tol, disp=0, maxiter=100)

    res, seconds = _timed(run)
    params = np.asarray(res.params)
    return Fit(params[1:], float(params[0]), seconds, int(res.mle_retvals["iterations"]))


def torch_fit(problem, tol):
    """torch.optim.LBFGS (strong Wolfe line search) on CPU tensors."""
    try:
        import torch
    except ImportError:
        return None
    if sp.issparse(problem.X) or problem.n_classes > 2:
        return None
    X = torch.from_numpy(problem.X)
    y = torch.from_numpy(problem.y.astype(problem.X.dtype))
    m, n = problem.X.shape
    alpha = 0.0 if problem.penalty is None else 1.0 / (problem.C * m)

    def run():
        w = torch.zeros(n, dtype=X.dtype, requires_grad=True)
        b = torch.zeros(1, dtype=X.dtype, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=1, max_iter=10_000, tolerance_grad=tol,
                                tolerance_change=1e-12, history_size=10,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            z = X @ w + b
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
            loss = loss + 0.5 * alpha * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
        return w.detach().numpy().astype(np.float64), float(b.detach()[0]), \
            opt.state[opt._params[0]]["n_iter"]

    (coef, intercept, n_iter), seconds = _timed(run)
    return Fit(coef, intercept, seconds, int(n_iter))


#: library/solver label -> adapter
ADAPTERS = {
    "vlogreg auto": vlogreg_fit("auto"),
    "vlogreg lbfgs": vlogreg_fit("lbfgs"),
    "vlogreg newton": vlogreg_fit("newton"),
    "sklearn lbfgs": sklearn_fit("lbfgs"),
    "sklearn newton-cholesky": sklearn_fit("newton-cholesky"),
    "sklearn saga": sklearn_fit("saga"),
    "glum": glum_fit,
    "statsmodels newton": statsmodels_fit,
    "torch lbfgs": torch_fit,
}
