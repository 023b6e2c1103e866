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

import copy
from functools import partial

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _predict
from ._arrays import to_numpy
from ._params import _check_params, _penalty_warnings, _seed, sklearn_convergence_lead
from ._resume import check_resume
from ._spec import FitSpec, resolve_penalty
from ._warnings import warn
from .backends import backend_for
from .backends.memory import check_X
from .objective.blocks import blas_single_thread
from .objective.passes import passes_of
from .solvers import SOLVERS, choose_solver

_SPARSE = (sp.spmatrix, sp.sparray)  # what sparsify() may leave in coef_
class SeparationWarning(ConvergenceWarning):
    """The training data are perfectly separable, so the unpenalized fit has no finite
    optimum. A ``ConvergenceWarning``: a filter on those catches it too."""


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression (binary and multinomial) on the fully vectorized gradient.

    The constructor takes scikit-learn 1.9's whole signature (and the same penalty
    rules), then vlogreg's own ``learning_rate`` and ``callback``.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, deprecated
        As in scikit-learn 1.8+: deprecated (a FutureWarning) but honoured; it wins over
        ``l1_ratio``. Leave it at its default and use ``l1_ratio`` and ``C``.
    C : float, default=1.0
        Inverse penalty strength; ``np.inf`` means no penalty.
    l1_ratio : float in [0, 1], default=0.0
        Chooses the penalty ``l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2``: 0 is L2,
        1 is L1, between is the elastic net.
    dual : bool, default=False
        Only False: vlogreg solves the primal problem (True is a ValueError).
    tol : float, default=1e-4
        Stop when the max-norm of the (projected) gradient of the mean objective is at
        most ``max(tol, vlogreg.solvers.tol_floor(dtype))``: a tol below what X's dtype
        can resolve is raised to that floor (``7.1e-15`` for float64, ``3.8e-6`` for
        float32). ``converged_`` and the ConvergenceWarning say whether it was met.
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        Accepted for scikit-learn's signature; no effect (as in scikit-learn outside
        liblinear): the intercept is a parameter of its own and never penalized.
    class_weight : None, "balanced" or dict, default=None
        Weights per class, multiplied into ``sample_weight`` (as in scikit-learn).
    random_state : None, int or numpy.random.RandomState, default=None
        Seeds every random choice a solver makes. There is one: the start vector of
        the power iterations behind the first step of "gd" and "agd" (and of the
        proximal steps that finish an L1 "lbfgs" fit); "newton" makes none, and the
        preconditioner's row subsample is a fixed stride. None: a fixed seed, so
        repeated fits are identical.
    solver : str, default="auto"
        "auto" (``vlogreg.solvers.choose_solver``), "gd", "agd", "lbfgs", "newton", or a
        scikit-learn name: "newton-cg" and "newton-cholesky" run "newton", "sag" and
        "saga" run "agd", "liblinear" runs "auto" (docs/solvers.md).
    max_iter : int, default=100
    verbose : int, default=0
        1 prints a line every 10 iterations; 2 every iteration.
    warm_start : bool, default=False
        Start from the previous fit's solution when the shapes agree.
    n_jobs : int, optional
        Threads of the loss+gradient kernel (in memory and out of core); None for the
        default (all cores for large X), -1 all cores. A Dask fit's parallelism is its
        workers', an array-API fit's its device's.
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
        An array of X's namespace and device for an array-API X when scikit-learn's
        ``array_api_dispatch`` is on (as scikit-learn's rule); a SciPy sparse matrix
        after ``sparsify()``.
    intercept_ : ndarray, shape (1,) or (n_classes,)
    classes_ : ndarray, shape (n_classes,)
    n_iter_ : ndarray, shape (1,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str (when X has string column names)
    converged_ : bool
        Whether the stopping rule of ``tol`` was met (no ConvergenceWarning then).
    loss_history_ : list of float
        The objective (divided by ``C S``) after each iteration.
    solver_ : str
        The vlogreg solver that ran (what "auto" or a scikit-learn name chose).
    n_passes_ : float
        The fit's reads of X, all of them: validation, the solver's evaluations,
        Hessian products and preconditioner (a row subsample counts its share), the
        separation test. The fit's cost is about ``n_passes_`` times one read of X.
    passes_ : dict
        ``n_passes_`` by kind (``vlogreg.objective.passes.KINDS``).
    """

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, dual=False, tol=1e-4,
                 fit_intercept=True, intercept_scaling=1, class_weight=None,
                 random_state=None, solver="auto", max_iter=100, verbose=0,
                 warm_start=False, n_jobs=None, learning_rate=None, callback=None,
                 standardize=False):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.learning_rate = learning_rate
        self.callback = callback
        self.standardize = standardize

    # ----------------------------------------------------------------- helpers
    def _fit_spec(self):
        """The hyper-parameters a backend needs to build the objective (plain values)."""
        return FitSpec(penalty=resolve_penalty(self.penalty, self.C, self.l1_ratio),
                       C=self.C, l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
                       class_weight=self.class_weight, solver=self.solver,
                       zero_start=not (self.warm_start and hasattr(self, "coef_")),
                       n_jobs=self.n_jobs, estimator=type(self).__name__,
                       standardize=bool(self.standardize))

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
        _penalty_warnings(self)
        data = backend_for(X).prepare(X, y, sample_weight, self._fit_spec())
        self.n_features_in_ = data.n_features
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self._fit_objective(data.objective, data.classes, resume_from,
                                   data.to_input)

    def _fit_objective(self, objective, classes, resume=None, to_input=None):
        """Solve ``objective`` and set the fitted attributes (any backend).

        ``to_input`` (from the backend) moves a NumPy attribute to the input's namespace
        and device, where scikit-learn's rule asks for it (``array_api_dispatch``).
        """
        self.classes_ = classes
        layout = objective.layout
        theta0 = None
        if self.warm_start and hasattr(self, "coef_") and \
                self.coef_.shape == (layout.k, layout.n):
            theta0 = layout.from_attributes(*self._numpy_attributes())
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
        if solver != "newton":  # newton makes no random choice
            kw["seed"] = _seed(self.random_state)
        if resume is not None:
            check_resume(resume, solver, objective.n_params)
            kw["resume"] = resume
        with blas_single_thread():  # parallelism comes from the row blocks' threads
            result = SOLVERS[solver](objective, theta0, tol=self.tol,
                                     max_iter=self.max_iter, callback=self._callback(), **kw)
        unpenalized = objective.alpha == 0 and objective.l1 == 0
        theta = objective.original(result.theta) if scaled else result.theta
        coef, intercept = layout.to_attributes(theta, objective.dtype,
                                               center_coef=unpenalized)
        self.coef_, self.intercept_ = (coef, intercept) if to_input is None else \
            (to_input(coef), to_input(intercept))
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.converged_ = result.converged
        self.loss_history_ = result.loss_history
        self.solver_ = solver
        # the separation test reads X once more: only where it decides a warning
        final = layout.from_attributes(coef, intercept)
        separates = unpenalized and objective.separates(
            objective.standardized(final) if scaled else final)
        counter = passes_of(objective)
        self.passes_ = {k: v for k, v in counter.counts.items() if v} if counter is not \
            None else dict(result.passes)
        self.n_passes_ = float(sum(self.passes_.values())) if counter is not None else \
            float(result.n_passes)
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
            warn(f"The training data are perfectly separable:{which} Without a penalty the "
                 f"log-likelihood has no finite maximum, and these finite coefficients only "
                 f"reflect where the solver stopped. Use C < np.inf with a penalty for a "
                 f"well-defined fit{', or drop the separating column' if cols else ''}.",
                 SeparationWarning)
            return
        if not result.converged and result.message != "stopped by callback":
            others = " or ".join(repr(o) for o in ("newton", "lbfgs") if o != self.solver_)
            lead = sklearn_convergence_lead(self.solver, result.n_iter, self.max_iter)
            warn(f"{lead + ' ' if lead else ''}solver={self.solver_!r} did not converge in "
                 f"{result.n_iter} iterations (gradient max-norm {result.grad_norm:.2e} > "
                 f"tol={result.tol:.2g}; {result.message}). Scale the features (e.g. "
                 f"sklearn.preprocessing.StandardScaler), raise max_iter, or try "
                 f"solver={others}.", ConvergenceWarning)

    def _numpy_attributes(self):
        """``(coef_, intercept_)`` as dense NumPy arrays, whatever ``sparsify`` or
        ``array_api_dispatch`` made of them."""
        return to_numpy(self.coef_), to_numpy(self.intercept_)

    def _inference_X(self, X):
        """X as ``vlogreg.inference.summary`` reads it: (m, n_features_in_), validated
        as ``predict`` validates it. ``TableModel`` (io) first encodes a table of raw
        columns, and takes a bare array to be in the order of ``feature_names_in_``."""
        n = self.n_features_in_
        shape = X.shape if hasattr(X, "shape") else np.shape(X)
        if len(shape) != 2 or shape[1] != n:
            raise ValueError(f"X has shape {tuple(shape)}, but the model was fitted on {n} "
                             f"features; pass the (m, {n}) data the model was fitted on.")
        return check_X(X, self)

    def _predictor(self):
        """``self``, or a shallow copy with NumPy ``coef_`` / ``intercept_`` for the
        backends (which read NumPy attributes) when they are sparse or array-API."""
        if isinstance(self.coef_, np.ndarray) and isinstance(self.intercept_, np.ndarray):
            return self
        model = copy.copy(self)
        model.coef_, model.intercept_ = self._numpy_attributes()
        return model

    def sparsify(self):
        """Store ``coef_`` as a SciPy CSR matrix (worth it when most entries are 0, e.g.
        after an L1 fit); predictions are unchanged. ``intercept_`` stays dense.

        Returns
        -------
        self
        """
        check_is_fitted(self, msg="This %(name)s is not fitted yet: call fit before "
                                  "sparsify().")
        self.coef_ = sp.csr_matrix(self._numpy_attributes()[0])
        return self

    def densify(self):
        """Store ``coef_`` as a dense ndarray again (a no-op when it already is).

        Returns
        -------
        self
        """
        check_is_fitted(self, msg="This %(name)s is not fitted yet: call fit before "
                                  "densify().")
        if isinstance(self.coef_, _SPARSE):
            self.coef_ = self.coef_.toarray()
        return self

    # ------------------------------------------------------------- prediction
    def _rows(self, X, fn, n_cols, dtype=None):
        """``fn`` of the decision values, row block by row block, in X's backend."""
        backend = backend_for(X)
        return backend.map_rows(fn, backend.decision_function(X, self._predictor()),
                                n_cols, dtype)

    def decision_function(self, X):
        """``z = X coef^T + intercept``: shape (m,) for two classes, else (m, K).

        In X's library: a lazy dask array for a dask X, a tensor on X's device for torch.
        """
        check_is_fitted(self)
        return backend_for(X).decision_function(X, self._predictor())

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

    def _predict_proba_lr(self, X):
        """One-vs-rest probability estimates (m, K): ``sigmoid(z_k)`` normalized per row
        (scikit-learn's ``LinearClassifierMixin._predict_proba_lr``); ``predict_proba``
        gives the fitted multinomial model's."""
        check_is_fitted(self)
        return self._rows(X, _predict.ovr_proba, len(self.classes_))

    def predict(self, X):
        """Predicted class labels, shape (m,)."""
        check_is_fitted(self)
        return self._rows(X, partial(_predict.labels, classes=self.classes_), None,
                          self.classes_.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
