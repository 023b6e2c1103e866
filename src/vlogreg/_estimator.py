"""``vlogreg.LogisticRegression``: scikit-learn's estimator API on the one-pass objective.

The objective is scikit-learn's, so the same ``C`` gives the same coefficients::

    C * sum_i s_i loss_i  +  penalty(w)

    penalty: "l2"          ||w||^2 / 2
             "l1"          ||w||_1
             "elasticnet"  l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2
             None          0          (C = inf means the same)

The intercept is never penalized. Internally the objective is divided by ``C S``
(``S = sum_i s_i``), which changes nothing but the scale: the gradient max-norm that
``tol`` bounds is that of the mean loss, as in scikit-learn's lbfgs.

``solver="auto"`` is ``vlogreg.solvers.choose_solver``. The data reach the fit through
a backend (``vlogreg.backends.backend_for(X)``: NumPy/SciPy, array API, Dask, files on
disk), which builds the objective from X, y, the weights and a plain ``FitSpec``; this
module never asks which backend it is, and predictions are the same functions
(``vlogreg._predict``) applied to every backend's decision values.
"""

from __future__ import annotations

import numbers
import warnings
from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _predict
from ._spec import FitSpec
from .backends import backend_for
from .objective.blocks import blas_single_thread
from .solvers import SOLVERS, choose_solver

_PENALTIES = ("l2", "l1", "elasticnet", None)
_SOLVERS = ("auto",) + tuple(SOLVERS)


class SeparationWarning(UserWarning):
    """The training data are perfectly separable, so the unpenalized fit has no finite optimum."""


def _check_params(est):
    """Validate the hyper-parameters; one-line ValueError naming the fix."""
    def bad(name, value, expected):
        raise ValueError(f"LogisticRegression: {name}={value!r} is not valid; {expected}.")

    if est.penalty not in _PENALTIES:
        bad("penalty", est.penalty, "use 'l2', 'l1', 'elasticnet' or None")
    if (not isinstance(est.C, numbers.Real) or isinstance(est.C, bool) or np.isnan(est.C)
            or est.C <= 0):
        bad("C", est.C, "C is the inverse penalty strength, a positive number (np.inf for "
            "no penalty)")
    if est.penalty == "elasticnet":
        r = est.l1_ratio
        if r is None or isinstance(r, bool) or not isinstance(r, numbers.Real) \
                or not 0 <= r <= 1:
            bad("l1_ratio", r, "penalty='elasticnet' needs l1_ratio, a number in [0, 1]")
    elif est.l1_ratio is not None:
        warnings.warn(f"l1_ratio={est.l1_ratio!r} is only used with penalty='elasticnet'; "
                      f"it is ignored with penalty={est.penalty!r}.", UserWarning,
                      stacklevel=3)
    if est.solver not in _SOLVERS:
        bad("solver", est.solver, f"choose one of {', '.join(map(repr, _SOLVERS))}")
    if not isinstance(est.tol, numbers.Real) or isinstance(est.tol, bool) \
            or not est.tol >= 0 or not np.isfinite(est.tol):
        bad("tol", est.tol, "use a non-negative number such as 1e-4")
    if not isinstance(est.max_iter, numbers.Integral) or isinstance(est.max_iter, bool) \
            or est.max_iter < 0:
        bad("max_iter", est.max_iter, "use a non-negative integer such as 100")
    if est.learning_rate is not None and (
            not isinstance(est.learning_rate, numbers.Real) or not est.learning_rate > 0
            or not np.isfinite(est.learning_rate)):
        bad("learning_rate", est.learning_rate, "use a positive number, or None for the "
            "automatic step")
    if est.learning_rate is not None and est.solver not in ("gd", "agd"):
        bad("learning_rate", est.learning_rate, "a fixed learning rate only applies to "
            "solver='gd' or 'agd'")
    if not (est.class_weight is None or est.class_weight == "balanced"
            or isinstance(est.class_weight, dict)):
        bad("class_weight", est.class_weight, "use None, 'balanced' or a dict "
            "{class: weight}")
    if not isinstance(getattr(est, "standardize", False), (bool, np.bool_)):
        bad("standardize", est.standardize, "use True (fit on unit-variance columns) or "
            "False")


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression (binary and multinomial) on the fully vectorized gradient.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, default="l2"
    C : float, default=1.0
        Inverse penalty strength; ``np.inf`` means no penalty.
    l1_ratio : float in [0, 1], optional
        Mixing of L1 in the elastic net (only with ``penalty="elasticnet"``).
    fit_intercept : bool, default=True
    tol : float, default=1e-4
        Stop when the max-norm of the (projected) gradient of the mean objective <= tol.
    max_iter : int, default=100
    solver : {"auto", "gd", "agd", "lbfgs", "newton"}, default="auto"
    class_weight : None, "balanced" or dict, default=None
        Weights per class, multiplied into ``sample_weight`` (as in scikit-learn).
    warm_start : bool, default=False
        Start from the previous fit's solution when the shapes agree.
    verbose : int, default=0
        1 prints a line every 10 iterations; 2 every iteration.
    learning_rate : float, optional
        Fixed step for "gd" / "agd" (the course's behaviour); None for the automatic
        Lipschitz step with backtracking.
    callback : callable, optional
        ``callback(state)`` after each iteration with a ``vlogreg.solvers.IterationState``
        (``n_iter``, ``loss``, ``grad_norm``, ``theta``); returning True stops the fit
        (then no ConvergenceWarning is raised). Progress bars and checkpoints use it.
    standardize : bool, default=False
        Fit on the columns scaled to unit variance, ``(x_j - mu_j) / sigma_j`` (centred
        when ``fit_intercept``; weighted by ``sample_weight``), so that a penalized fit
        does not depend on the columns' units. X is never copied: the means and scales
        come from the pass that validates X, and the objective evaluates
        ``z = X (w / sigma) - (mu / sigma) . w + b`` (sparse X stays sparse).
        ``coef_`` and ``intercept_`` are reported on the ORIGINAL scale (``predict``
        takes raw X). A constant column keeps ``sigma = 1`` (as StandardScaler): it is
        centred to zeros and its coefficient is 0. ``loss_history_`` and ``tol`` refer
        to the standardized problem.

    Attributes
    ----------
    coef_ : ndarray, shape (1, n_features) or (n_classes, n_features), X's float dtype
    intercept_ : ndarray, shape (1,) or (n_classes,)
    classes_ : ndarray, shape (n_classes,)
    n_iter_ : ndarray, shape (1,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when X has string column names)
    converged_ : bool
    loss_history_ : list of float
        The objective (divided by ``C S``) after each iteration.
    solver_ : str
        The solver that ran (what "auto" chose).
    """

    def __init__(self, penalty="l2", *, C=1.0, l1_ratio=None, fit_intercept=True, tol=1e-4,
                 max_iter=100, solver="auto", class_weight=None, warm_start=False,
                 verbose=0, learning_rate=None, callback=None, standardize=False):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.solver = solver
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.learning_rate = learning_rate
        self.callback = callback
        self.standardize = standardize

    # ----------------------------------------------------------------- helpers
    def _fit_spec(self):
        """The hyper-parameters a backend needs to build the objective (plain values)."""
        return FitSpec(penalty=self.penalty, C=self.C, l1_ratio=self.l1_ratio,
                       fit_intercept=self.fit_intercept, class_weight=self.class_weight,
                       solver=self.solver,
                       zero_start=not (self.warm_start and hasattr(self, "coef_")),
                       estimator=type(self).__name__,
                       standardize=bool(getattr(self, "standardize", False)))

    def _callback(self):
        user = self.callback
        if not self.verbose:
            return user
        every = 1 if self.verbose >= 2 else 10

        def cb(state):
            if state.n_iter % every == 0:
                print(f"[vlogreg] iter {state.n_iter:5d}  loss {state.loss:.10g}  "
                      f"grad {state.grad_norm:.3e}")
            return bool(user(state)) if user is not None else False
        return cb

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, sample_weight=None, resume_from=None):
        """Fit on X (m, n) dense or sparse, labels y (m,), optional sample_weight (m,).

        X may also be a chunked source (a dask array or DataFrame, or an out-of-core
        reader) or an array-API array (torch, CuPy): its backend builds the objective,
        and the same solvers run. ``y`` is required, except for an out-of-core source
        that holds the labels.

        Parameters
        ----------
        resume_from : dict, optional
            The ``state`` of an ``IterationState`` passed to ``callback`` by an earlier,
            interrupted fit on the same data and parameters: the fit continues from
            there. "gd", "agd" and "newton" end bit-identical to an uninterrupted fit;
            "lbfgs" reaches the same optimum to ``tol`` (its memory is not saved).

        Returns
        -------
        self
        """
        _check_params(self)
        data = backend_for(X).prepare(X, y, sample_weight, self._fit_spec())
        self.n_features_in_ = data.n_features
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self._fit_objective(data.objective, data.classes, resume_from)

    def _fit_objective(self, objective, classes, resume=None):
        """Solve ``objective`` and set the fitted attributes (any backend)."""
        self.classes_ = classes
        layout = objective.layout
        theta0 = None
        if self.warm_start and hasattr(self, "coef_") and \
                self.coef_.shape == (layout.k, layout.n):
            theta0 = layout.from_attributes(self.coef_, self.intercept_)
        # a standardized objective's parameters are those of the scaled columns: the
        # fitted attributes are mapped to and from the original scale through it
        scaled = self._fit_spec().standardize
        if scaled and theta0 is not None:
            theta0 = objective.standardized(theta0)
        solver = choose_solver(self.solver, has_l1=objective.l1 > 0,
                               n_params=objective.n_params, m=objective.m)
        kw = {}
        if solver in ("gd", "agd") and self.learning_rate is not None:
            kw["learning_rate"] = self.learning_rate
        if resume is not None:
            if "x" not in resume or np.shape(resume["x"]) != (objective.n_params,):
                raise ValueError("resume_from does not match this fit (its parameter vector "
                                 "has another size): resume with the same data and "
                                 "parameters as the interrupted fit.")
            kw["resume"] = resume
        with blas_single_thread():  # parallelism comes from the row blocks' threads
            result = SOLVERS[solver](objective, theta0, tol=self.tol,
                                     max_iter=self.max_iter, callback=self._callback(), **kw)
        unpenalized = objective.alpha == 0 and objective.l1 == 0
        theta = objective.original(result.theta) if scaled else result.theta
        self.coef_, self.intercept_ = layout.to_attributes(
            theta, objective.dtype, center_coef=unpenalized)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.converged_ = result.converged
        self.loss_history_ = result.loss_history
        self.solver_ = solver
        # the separation test reads X once more: only where it decides a warning
        final = layout.from_attributes(self.coef_, self.intercept_)
        separates = unpenalized and objective.separates(
            objective.standardized(final) if scaled else final)
        self._warn(result, separates, objective)
        return self

    def _warn(self, result, separates, objective):
        if separates:
            # one more read of X, only now: which columns separate the classes alone
            cols = objective.separating_columns()
            names = getattr(self, "feature_names_in_", None)
            shown = [repr(str(names[j])) if names is not None else f"column {j}"
                     for j in cols[:5]] + ([f"and {len(cols) - 5} more"] if len(cols) > 5
                                          else [])
            which = (f" {', '.join(shown)} alone separate{'s' if len(cols) == 1 else ''} "
                     f"the classes." if cols else "")
            warnings.warn(
                f"The training data are perfectly separable:{which} Without a penalty the "
                f"log-likelihood has no finite maximum, and these finite coefficients only "
                f"reflect where the solver stopped. Use penalty='l2' (any finite C) for a "
                f"well-defined fit{', or drop the separating column' if cols else ''}.",
                SeparationWarning, stacklevel=3)
            return
        if not result.converged and result.message != "stopped by callback":
            warnings.warn(
                f"solver={self.solver_!r} did not converge in {result.n_iter} iterations "
                f"(gradient max-norm {result.grad_norm:.2e} > tol={self.tol:g}; "
                f"{result.message}). Scale the features (e.g. sklearn.preprocessing."
                f"StandardScaler), raise max_iter, or try solver="
                f"{' or '.join(repr(o) for o in ('newton', 'lbfgs') if o != self.solver_)}.",
                ConvergenceWarning, stacklevel=3)

    # ------------------------------------------------------------- prediction
    def _rows(self, X, fn, n_cols, dtype=None):
        """``fn`` of the decision values, row block by row block, in X's backend."""
        backend = backend_for(X)
        return backend.map_rows(fn, backend.decision_function(X, self), n_cols, dtype)

    def decision_function(self, X):
        """``z = X coef^T + intercept``: shape (m,) for two classes, else (m, K).

        In X's library: a lazy dask array for a dask X, a tensor on X's device for torch.
        """
        check_is_fitted(self)
        return backend_for(X).decision_function(X, self)

    def predict_proba(self, X):
        """Class probabilities, shape (m, K), columns in the order of ``classes_``.

        Two classes: ``[sigmoid(-z), sigmoid(z)]`` (never ``1 - p``, so a small
        probability keeps its relative accuracy); more: the softmax of z.
        """
        check_is_fitted(self)
        return self._rows(X, _predict.proba, len(self.classes_))

    def predict_log_proba(self, X):
        """Log of ``predict_proba``, from z directly: finite for every finite z."""
        check_is_fitted(self)
        return self._rows(X, _predict.log_proba, len(self.classes_))

    def predict(self, X):
        """Predicted class labels, shape (m,)."""
        check_is_fitted(self)
        return self._rows(X, partial(_predict.labels, classes=self.classes_), None,
                          self.classes_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
