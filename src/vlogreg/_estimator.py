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

How ``solver="auto"`` chooses (see docs/solvers.md for the measurements behind it):

- an L1 part (``"l1"``, or ``"elasticnet"`` with ``l1_ratio > 0``): ``"lbfgs"`` on the
  split ``w = u - v`` (exact, bound-constrained);
- a small problem (``p <= 200`` parameters and ``m p^2 <= 1e8``, where building the
  Hessian costs ``m p^2`` flops): ``"newton"``: a handful of iterations, each cheap;
- otherwise ``"lbfgs"``, preconditioned by a subsampled Hessian bound: one read of X
  per evaluation and tens of iterations, which beats ``m p^2`` per Newton step once
  the data are large.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .objective.blocks import blas_single_thread
from .objective.logistic import LogisticObjective
from ._math import log_softmax, sigmoid
from ._validation import check_finite, check_values
from .solvers import SOLVERS

_PENALTIES = ("l2", "l1", "elasticnet", None)
_SOLVERS = ("auto",) + tuple(SOLVERS)
AUTO_NEWTON_MAX_PARAMS = 200
AUTO_NEWTON_MAX_FLOPS = 1e8


def chunked_backend(X):
    """The backend module for X that is not NumPy / SciPy, or None.

    Chunked sources (dask, out-of-core readers) and array-API arrays (torch, CuPy,
    array-api-strict: computed on X's device) have their own objective.

    A backend module provides ``prepare(estimator, X, y, sample_weight) ->
    (objective, classes)`` (it also sets ``n_features_in_``) and
    ``decision_function(estimator, X)``; ``predict``/``predict_proba`` are built on the
    latter with the backend's own elementwise maths.
    """
    root = type(X).__module__.split(".")[0]
    if root in ("dask", "dask_expr"):
        from .backends import dask as _dask

        return _dask
    if hasattr(X, "iter_row_chunks"):
        from .backends import outofcore as _outofcore

        return _outofcore
    if root in ("torch", "cupy", "array_api_strict", "jax"):
        from .backends import array_api as _array_api

        return _array_api
    return None


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
                 verbose=0, learning_rate=None, callback=None):
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

    # ----------------------------------------------------------------- helpers
    def _strengths(self, S):
        """(alpha, l1) of the mean objective for the total sample weight S."""
        if self.penalty is None or np.isinf(self.C):
            return 0.0, 0.0
        scale = 1.0 / (self.C * S)
        if self.penalty == "l2":
            return scale, 0.0
        if self.penalty == "l1":
            return 0.0, scale
        return (1.0 - self.l1_ratio) * scale, self.l1_ratio * scale

    def _choose_solver(self, objective):
        if self.solver != "auto":
            return self.solver
        if objective.l1 > 0:
            return "lbfgs"
        p = objective.n_params
        small = p <= AUTO_NEWTON_MAX_PARAMS and objective.m * p * p <= AUTO_NEWTON_MAX_FLOPS
        return "newton" if small else "lbfgs"

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
        reader): then its backend module builds the objective, and the same solvers run.
        ``y`` is required, except for an out-of-core source that holds the labels.

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
        backend = chunked_backend(X)
        if backend is not None:
            objective, classes = backend.prepare(self, X, y, sample_weight)
            check = getattr(objective, "separates", None)  # one more pass, unpenalized only
            sep = None if check is None else (lambda: check(objective.pack(
                self.coef_[0] if len(classes) == 2 else self.coef_.T,
                self.intercept_[0] if len(classes) == 2 else self.intercept_)))
            return self._fit_objective(objective, classes, separates=sep,
                                       resume=resume_from)
        objective, classes, X, y_idx = self._prepare(X, y, sample_weight)
        return self._fit_objective(objective, classes, resume=resume_from,
                                   separates=lambda: self._separates(X, y_idx))

    def encode_labels(self, y):
        """``(classes, y_idx)``: sorted classes and each label's index (>= 2 classes)."""
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"y holds one class only ({np.asarray(classes[:1]).tolist()[0]!r}); logistic "
                             f"regression needs samples of at least 2 classes in the data.")
        return classes, y_idx

    def final_weights(self, sw, classes, y, y_idx):
        """Checked sample weights with class_weight folded in (float64, sum > 0)."""
        check_finite(sw, "sample_weight")
        if np.any(sw < 0):
            raise ValueError(f"sample_weight has negative values (first at position "
                             f"{int(np.flatnonzero(sw < 0)[0])}); weights must be >= 0.")
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=y)
            sw = sw * cw[y_idx]
        if not sw.sum() > 0:
            raise ValueError("sample_weight sums to 0: give at least one sample a positive "
                             "weight.")
        return sw

    def _prepare(self, X, y, sample_weight):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"],
                             dtype=[np.float64, np.float32], ensure_all_finite=False)
        check_values(X, "X", columns=getattr(self, "feature_names_in_", None))
        classes, y_idx = self.encode_labels(y)
        sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        sw = self.final_weights(sw, classes, y, y_idx)
        alpha, l1 = self._strengths(float(sw.sum()))
        objective = LogisticObjective(X, y_idx, sw, alpha=alpha, l1=l1,
                                      fit_intercept=self.fit_intercept,
                                      n_classes=len(classes))
        return objective, classes, X, y_idx

    def _fit_objective(self, objective, classes, separates=None, resume=None):
        """Solve ``objective`` and set the fitted attributes (any backend)."""
        self.classes_ = classes
        K = len(classes)
        dtype = objective.dtype
        theta0 = None
        if self.warm_start and hasattr(self, "coef_") and \
                self.coef_.shape == (1 if K == 2 else K, objective.n):
            theta0 = objective.pack(self.coef_[0] if K == 2 else self.coef_.T,
                                    self.intercept_[0] if K == 2 else self.intercept_)
        solver = self._choose_solver(objective)
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
        coef, intercept = result.coef, result.intercept
        if K > 2:
            # softmax is unchanged by adding c to every class: report the centred solution
            # (the minimum-norm one, as scikit-learn does)
            intercept = intercept - intercept.mean()
            if objective.alpha == 0 and objective.l1 == 0:
                coef = coef - coef.mean(axis=1, keepdims=True)
            self.coef_ = np.ascontiguousarray(coef.T, dtype=dtype)
            self.intercept_ = np.asarray(intercept, dtype=dtype)
        else:
            self.coef_ = np.asarray(coef, dtype=dtype).reshape(1, -1)
            self.intercept_ = np.asarray([intercept], dtype=dtype)
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.converged_ = result.converged
        self.loss_history_ = result.loss_history
        self.solver_ = solver
        self._warn(result, objective, separates)
        return self

    def _warn(self, result, objective, separates):
        unpenalized = objective.alpha == 0 and objective.l1 == 0
        if unpenalized and separates is not None and separates():
            warnings.warn(
                "The training data are perfectly separable: without a penalty the "
                "log-likelihood has no finite maximum, and these finite coefficients only "
                "reflect where the solver stopped. Use penalty='l2' (any finite C) for a "
                "well-defined fit.", SeparationWarning, stacklevel=3)
            return
        if not result.converged and result.message != "stopped by callback":
            warnings.warn(
                f"solver={self.solver_!r} did not converge in {result.n_iter} iterations "
                f"(gradient max-norm {result.grad_norm:.2e} > tol={self.tol:g}; "
                f"{result.message}). Scale the features (e.g. sklearn.preprocessing."
                f"StandardScaler), raise max_iter, or try solver="
                f"{' or '.join(repr(o) for o in ('newton', 'lbfgs') if o != self.solver_)}.",
                ConvergenceWarning, stacklevel=3)

    def _separates(self, X, y_idx):
        """True when the fitted model classifies every training example with a margin."""
        z = self._decision(X)
        if len(self.classes_) == 2:
            return bool(np.all(np.where(y_idx == 1, z, -z) > 0))
        true = z[np.arange(len(y_idx)), y_idx]
        z = z.copy()
        z[np.arange(len(y_idx)), y_idx] = -np.inf
        return bool(np.all(true > z.max(axis=1)))

    # ------------------------------------------------------------- prediction
    def _decision(self, X):
        z = X @ self.coef_.T
        z = np.asarray(z) + self.intercept_
        return z[:, 0] if len(self.classes_) == 2 else z

    def _validate_predict(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"],
                          dtype=[np.float64, np.float32], reset=False,
                          ensure_all_finite=False)
        check_finite(X, "X", columns=getattr(self, "feature_names_in_", None))
        return X

    def decision_function(self, X):
        """``z = X coef^T + intercept``: shape (m,) for two classes, else (m, K).

        For a chunked X (a dask array) the result is lazy, in X's backend.
        """
        backend = chunked_backend(X)
        if backend is not None:
            check_is_fitted(self)
            return backend.decision_function(self, X)
        return self._decision(self._validate_predict(X))

    def predict_proba(self, X):
        """Class probabilities, shape (m, K), columns in the order of ``classes_``."""
        backend = chunked_backend(X)
        if backend is not None:  # lazy, in the backend (e.g. a dask array)
            check_is_fitted(self)
            return backend.predict_proba(self, X)
        z = self.decision_function(X)
        if len(self.classes_) == 2:
            # sigmoid(-z), not 1 - p: small probabilities keep their relative accuracy
            return np.column_stack([sigmoid(-z), sigmoid(z)])
        return np.exp(log_softmax(z))

    def predict_log_proba(self, X):
        """Log of ``predict_proba``, computed without underflow to -inf where avoidable."""
        backend = chunked_backend(X)
        if backend is not None:  # lazy, in the backend (e.g. a dask array)
            check_is_fitted(self)
            return backend.predict_log_proba(self, X)
        z = self.decision_function(X)
        if len(self.classes_) == 2:
            return log_softmax(np.column_stack([np.zeros_like(z), z]))
        return log_softmax(z)

    def predict(self, X):
        """Predicted class labels, shape (m,)."""
        backend = chunked_backend(X)
        if backend is not None:  # lazy, in the backend (e.g. a dask array)
            check_is_fitted(self)
            return backend.predict(self, X)
        z = self.decision_function(X)
        idx = (z > 0).astype(int) if len(self.classes_) == 2 else z.argmax(axis=1)
        return self.classes_[idx]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
