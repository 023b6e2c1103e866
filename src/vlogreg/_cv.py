"""``vlogreg.LogisticRegressionCV``: scikit-learn 1.9's estimator, its folds x Cs fits
sharing each read of X.

The fits of every fold and C come from ``_regpath.solve_grid`` (binary L2 on folds that
partition the rows: the batched objective and L-BFGS, warm-started along C; otherwise
one model at a time, warm-started along C), the scores from scikit-learn's scorers on
each fold's test rows exactly as scikit-learn computes them, and the attributes
(``C_``, ``l1_ratio_``, ``coefs_paths_``, ``scores_``, ``n_iter_``, with or without
``use_legacy_attributes``) have scikit-learn's shapes and meaning.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import check_cv
from sklearn.utils import metadata_routing
from sklearn.utils.class_weight import compute_class_weight

from ._cvscores import (
    DIRECT,
    direct_scores,
    fold_scorer,
    heldout_scores,
    metadata_router,
    model_scores,
    routed_metadata,
)
from ._estimator import LogisticRegression
from ._kernels.threads import fit_threads
from ._params import _check_params, _seed
from ._regpath import check_cs, fold_ids, grid_passes, prepare_grid_data, solve_grid
from ._warnings import warn

_LEGACY_MSG = (
    "The fitted attributes of {} will be simplified in scikit-learn 1.10 to remove "
    "redundancy. Set `use_legacy_attributes=False` to enable the new behavior now, or set "
    "it to `True` to silence this warning during the transition period while keeping the "
    "deprecated behavior for the time being. The default value of use_legacy_attributes "
    "will change from True to False in scikit-learn 1.10.")


class LogisticRegressionCV(LogisticRegression):
    """Logistic regression with C (and l1_ratio) chosen by cross-validation.

    scikit-learn 1.9's signature, defaults, warnings and fitted attributes; the
    folds x Cs fits share each read of X (see ``vlogreg._regpath``). The objective of
    every fit is ``LogisticRegression``'s, so every path point equals
    ``LogisticRegression(C=C, l1_ratio=r, tol=tol).fit`` on the fold's rows to ``tol``.

    Parameters
    ----------
    Cs : int or array-like, default=10
        An int: ``np.logspace(-4, 4, Cs)``.
    l1_ratios : array-like or None, default="warn"
        The l1_ratios tried (0: L2, 1: L1). "warn" (the default) is None with
        scikit-learn's FutureWarning: L2 alone, and no l1_ratio axis in the legacy
        attributes.
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        scikit-learn's ``check_cv`` (stratified 5-fold by default).
    dual : bool, default=False
        Only False.
    penalty : {"l2", "l1", "elasticnet"}, deprecated
        As in scikit-learn 1.9 (a FutureWarning; honoured).
    scoring : str, callable or None, default="warn"
        A scorer name or callable; None (and "warn", with scikit-learn's FutureWarning)
        is accuracy.
    solver : str, default="lbfgs"
        The single-model solver where the batched one does not apply (vlogreg's or
        scikit-learn's names, as ``LogisticRegression``).
    tol, max_iter, class_weight, n_jobs, verbose, intercept_scaling, random_state
        As in ``LogisticRegression`` (``n_jobs``: threads of the loss+gradient).
    refit : bool, default=True
        Refit on all the data at the best C (and l1_ratio), from the folds' mean
        solution (from zero for "liblinear", as scikit-learn's); else average the
        folds' best coefficients.
    use_legacy_attributes : bool, default="warn"
        scikit-learn 1.9's switch: True (and "warn", with its FutureWarning) keeps the
        dict attributes, False gives the arrays of scikit-learn 1.10.

    Attributes
    ----------
    Cs_ : ndarray (n_cs,)
    l1_ratios_ : ndarray (n_l1_ratios,)
    coefs_paths_ : dict or ndarray
        Legacy: {class: (n_folds, n_cs[, n_l1_ratios], n_dof)}; else
        (n_folds, n_l1_ratios, n_cs, n_classes or 1, n_dof).
    scores_ : dict or ndarray
        Legacy: {class: (n_folds, n_cs[, n_l1_ratios])}; else (n_folds, n_l1_ratios, n_cs).
    C_, l1_ratio_ : ndarray (n_classes or 1,) (legacy) or float
    n_iter_ : ndarray
        Legacy: (1, n_folds, n_cs[, n_l1_ratios]); else (n_folds, n_l1_ratios, n_cs).
    coef_, intercept_, classes_, n_features_in_, feature_names_in_
    batched_ : bool
        Whether the fold fits ran in the batched objective.
    passes_ : dict or None
        Reads of X by kind (``vlogreg.objective.passes``) of the batched fold fits and,
        for X not in memory (Dask, array API, a source on disk), of its checks, the
        preconditioner's row sample and the held-out scores; the refit's are its own.
        None where the fits ran one model at a time.
    """

    # score's sample_weight is only the scorer's (scikit-learn's request, and routing error)
    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    def __init__(self, *, Cs=10, l1_ratios="warn", fit_intercept=True, cv=None, dual=False,
                 penalty="deprecated", scoring="warn", solver="lbfgs", tol=1e-4,
                 max_iter=100, class_weight=None, n_jobs=None, verbose=0, refit=True,
                 intercept_scaling=1.0, random_state=None, use_legacy_attributes="warn"):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.dual = dual
        self.penalty = penalty
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes

    # ------------------------------------------------------------ parameters
    def _settings(self):
        """``(penalty, l1_ratios or None, scoring, legacy)`` with scikit-learn 1.9's
        warnings, after the checks (one-line errors)."""
        name = type(self).__name__
        l1_ratios = None if isinstance(self.l1_ratios, str) and self.l1_ratios == "warn" \
            else self.l1_ratios
        if isinstance(self.l1_ratios, str) and self.l1_ratios == "warn":
            warn("The default value for l1_ratios will change from None to (0.0,) in "
                 "version 1.10. To avoid this warning, explicitly set a value, e.g. "
                 "l1_ratios=(0,).", FutureWarning)
        if l1_ratios is not None and (
                np.ndim(l1_ratios) != 1 or len(l1_ratios) == 0
                or any(not isinstance(r, numbers.Real) or isinstance(r, bool)
                       or not 0 <= r <= 1 for r in l1_ratios)):
            raise ValueError(f"{name}: l1_ratios={l1_ratios!r} is not valid; use a "
                             f"non-empty list of numbers in [0, 1] (0 for L2, 1 for L1).")
        if self.penalty == "deprecated":
            if self.l1_ratios is None:  # explicitly: scikit-learn 1.9 deprecates it
                warn("'l1_ratios=None' was deprecated in scikit-learn 1.8 and will be an "
                     "error in 1.10. Use a list of values in [0, 1] instead, e.g. "
                     "l1_ratios=(0,) for the L2 penalty None means now.", FutureWarning)
            if l1_ratios is None or np.all(np.asarray(l1_ratios) == 0):
                penalty = "l2"
            elif np.all(np.asarray(l1_ratios) == 1):
                penalty = "l1"
            else:
                penalty = "elasticnet"
        elif self.penalty in ("l1", "l2", "elasticnet"):
            penalty = self.penalty
            warn("'penalty' was deprecated in version 1.8 and will be removed in 1.10. "
                 "Use l1_ratios=(0,) instead of penalty='l2', l1_ratios=(1,) instead of "
                 "penalty='l1', l1_ratios set to floats between 0 and 1 instead of "
                 "penalty='elasticnet'.", FutureWarning)
            if penalty == "elasticnet" and l1_ratios is None:
                raise ValueError(f"{name}: penalty='elasticnet' needs l1_ratios, a list "
                                 f"of numbers in [0, 1].")
        else:
            raise ValueError(f"{name}: penalty={self.penalty!r} is not valid; leave it "
                             f"'deprecated' and use l1_ratios.")
        scoring = None if self.scoring == "warn" else self.scoring
        if self.scoring == "warn":
            warn("The default value of the parameter 'scoring' will change from None, "
                 "i.e. accuracy, to 'neg_log_loss' in version 1.11. To silence this "
                 "warning, explicitly set the scoring parameter.", FutureWarning)
        legacy = self.use_legacy_attributes
        if legacy == "warn":
            warn(_LEGACY_MSG.format(name), FutureWarning)
            legacy = True
        if not isinstance(legacy, (bool, np.bool_)):
            raise ValueError(f"{name}: use_legacy_attributes={legacy!r} is not valid; "
                             f"use True or False.")
        if not isinstance(self.refit, (bool, np.bool_)):
            raise ValueError(f"{name}: refit={self.refit!r} is not valid; use True or "
                             f"False.")
        if self.dual is not False:
            raise ValueError(f"{name}: dual={self.dual!r} is not valid; use False "
                             f"(vlogreg solves the primal problem).")
        # the checks of the parameters LogisticRegression shares, under this name
        try:
            _check_params(LogisticRegression(
                tol=self.tol, max_iter=self.max_iter, class_weight=self.class_weight,
                solver=self.solver, n_jobs=self.n_jobs, random_state=self.random_state,
                fit_intercept=self.fit_intercept, intercept_scaling=self.intercept_scaling,
                verbose=self.verbose))
        except ValueError as e:
            raise ValueError(str(e).replace("LogisticRegression:", f"{name}:", 1)) from None
        return penalty, l1_ratios, scoring, bool(legacy)

    def _scorer(self, scoring):
        return get_scorer("accuracy" if scoring is None else scoring)

    def _get_scorer(self):
        """The scorer of ``scoring`` (accuracy for None and "warn"), as scikit-learn's."""
        return self._scorer(None if self.scoring == "warn" else self.scoring)

    def get_metadata_routing(self):
        """scikit-learn's metadata routing (``vlogreg._cvscores.metadata_router``)."""
        return metadata_router(self)

    # ------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None, **params):
        """Fit every fold x C (x l1_ratio) model, choose by the mean score, refit.

        Parameters
        ----------
        X : array-like or sparse matrix (m, n), or any X ``LogisticRegression.fit``
            takes (a dask array, a torch / CuPy array, a source on disk): the fold fits,
            the held-out scores and the refit then run where it lives.
        y : array-like (m,)
        sample_weight : array-like (m,), optional
            Training weights, and the scorer's weights on each fold's test rows.
        **params
            With scikit-learn's metadata routing on (``sklearn.set_config(
            enable_metadata_routing=True)``), routed as there: to the splitter's
            ``split`` (e.g. ``groups``) and to the scorer that requests them; without
            it, a one-line error (as scikit-learn).

        Returns
        -------
        self
        """
        penalty, l1_ratios, scoring, legacy = self._settings()
        split_params, weigh_scores = routed_metadata(self, "fit", sample_weight, params)
        name = type(self).__name__
        data = prepare_grid_data(X, y, sample_weight, class_weight=None,
                                 fit_intercept=self.fit_intercept, estimator=name)
        Xv, classes = data.X, data.classes
        y_lab = classes[data.y]
        sw_user = None if sample_weight is None else data.s * 2.0 ** data.exp2  # exact
        class_weight = self.class_weight
        if isinstance(class_weight, dict) and not set(class_weight) <= set(classes):
            raise ValueError(f"{name}: class_weight's keys {sorted(class_weight)} are not "
                             f"all classes of y {list(classes)}; use the labels as keys.")
        if class_weight == "balanced":  # on the whole y, as scikit-learn
            cw = compute_class_weight("balanced", classes=classes, y=y_lab,
                                      sample_weight=sw_user)
            class_weight = dict(zip(classes, cw))
        if class_weight is not None:  # (a source on disk may hold the labels: X, y)
            data = prepare_grid_data(*((Xv, y_lab) if data.backend is None else (X, y)),
                                     sample_weight, class_weight=class_weight,
                                     fit_intercept=self.fit_intercept, estimator=name)
        self.classes_ = classes
        self.n_features_in_ = Xv.shape[1]
        if data.feature_names is not None:
            self.feature_names_in_ = data.feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        cv = check_cv(self.cv, y_lab, classifier=True)
        # the splitters read X's length only: a stand-in where X is not in memory
        folds = list(cv.split(Xv if data.backend is None else
                              np.empty((len(y_lab), 0)), y_lab, **split_params))
        Cs = check_cs(self.Cs, name)
        ratios = [None] if l1_ratios is None else list(l1_ratios)
        # the l1_ratios count only with the elastic net (scikit-learn: an explicit
        # penalty='l2' or 'l1' wins over them)
        l1_of = [float(r) if penalty == "elasticnet" else float(penalty == "l1")
                 for r in ratios]
        grids = [solve_grid(data, Cs, l1_ratio=r, trains=[tr for tr, _ in folds],
                            tests=[te for _, te in folds], fit_intercept=self.fit_intercept,
                            tol=self.tol, max_iter=self.max_iter, solver=self.solver,
                            seed=_seed(self.random_state), n_jobs=self.n_jobs)
                 for r in l1_of]
        self.batched_ = all(g.batched for g in grids)
        n_bad = sum(int((~g.converged).sum()) for g in grids)
        if n_bad:
            warn(f"{n_bad} of {sum(g.converged.size for g in grids)} fold fits did not "
                 f"reach tol={self.tol:g} in max_iter={self.max_iter} iterations; raise "
                 f"max_iter, or scale the features (e.g. StandardScaler).",
                 ConvergenceWarning)
        # (n_folds, n_l1, n_cs, k, n_dof) and (n_folds, n_l1, n_cs)
        paths = np.stack([g.coefs for g in grids], axis=1)
        n_iter = np.stack([g.n_iter for g in grids], axis=1)
        if data.backend is None:
            scores = self._fold_scores(paths, folds, Xv, y_lab,
                                       sample_weight if weigh_scores else None, scoring)
        else:  # held-out decision values in one pass where X lives
            scores = self._backend_scores(data, paths, folds, y_lab,
                                          sw_user if weigh_scores else None, scoring)
        self.passes_ = grid_passes(data, grids)
        self.Cs_ = Cs
        self._set_attributes(paths, n_iter, scores, folds, ratios, l1_of, legacy,
                             penalty, class_weight, X, y, sample_weight, data)
        return self

    def _backend_scores(self, data, paths, folds, y, sample_weight, scoring):
        """``_fold_scores`` for X on a backend (Dask, array API, disk): the folds'
        decision values in one pass (``BackendGrid.heldout``), then the same formulas."""
        scorer = None
        if scoring not in DIRECT:  # scikit-learn's scorer on the held-out responses
            scorer = fold_scorer(self._scorer(scoring), self.classes_)
            if not hasattr(scorer, "_response_method"):
                raise ValueError(f"{type(self).__name__}: scoring={scoring!r} is a plain "
                                 f"callable, which would need X of type "
                                 f"{type(data.X).__name__} in memory; pass a scorer name "
                                 f"or sklearn.metrics.make_scorer(...), or X as a NumPy "
                                 f"array.")
        F, L, nC, k, p = paths.shape
        coefs = paths.reshape(F, L * nC * k, p)
        tests = [te for _, te in folds]
        fold = fold_ids([tr for tr, _ in folds], tests, len(y))
        if fold is not None:  # every row in one test set: one pass for all the folds
            Z = data.backend.heldout(fold, coefs, self.fit_intercept)
            Z = [Z[te] for te in tests]
        else:  # test sets that overlap or leave rows out: one pass per fold
            zero = np.zeros(len(y), dtype=np.int32)
            Z = [data.backend.heldout(zero, coefs[i:i + 1], self.fit_intercept)[te]
                 for i, te in enumerate(tests)]
        if scorer is not None:
            return heldout_scores(scorer, paths, folds, Z, y, sample_weight,
                                  self.classes_)
        return direct_scores(scoring, paths, folds, np.empty((0, p - self.fit_intercept)),
                             np.searchsorted(self.classes_, y), sample_weight,
                             self.fit_intercept, heldout=Z)

    def _fold_scores(self, paths, folds, X, y, sample_weight, scoring):
        """scores (n_folds, n_l1, n_cs): the scorer on each fold's test rows, as
        scikit-learn's ``_log_reg_scoring_path`` (labels of the whole y passed to
        scorers that take them; the test rows' sample weights)."""
        if scoring in DIRECT:
            return direct_scores(scoring, paths, folds, X, np.searchsorted(
                self.classes_, y), sample_weight, self.fit_intercept,
                fit_threads(self.n_jobs))
        model = LogisticRegression(fit_intercept=self.fit_intercept)
        model.classes_, model.n_features_in_ = self.classes_, X.shape[1]
        return model_scores(fold_scorer(self._scorer(scoring), self.classes_), model, paths,
                            folds, X, y, sample_weight)

    def _set_attributes(self, paths, n_iter, scores, folds, ratios, l1_of, legacy, penalty,
                        class_weight, X, y, sample_weight, data=None):
        """scikit-learn 1.9's fitted attributes from the fold fits (its shapes, its
        choice of the best C and l1_ratio, its refit or average).

        The refit of a binary L2 choice runs in the batched solver on ``data`` (the
        validated data of ``fit``, class weights folded in): from the folds' mean
        solution, which usually meets tol already, it then costs one read of X, with
        no second validation of X and no Hessian; any other refit is
        ``LogisticRegression.fit``."""
        classes, n = self.classes_, self.n_features_in_
        binary = len(classes) == 2
        k = 1 if binary else len(classes)
        F = len(folds)
        if binary:  # (1, n_folds, n_cs, n_l1, n_dof)
            cp = np.swapaxes(paths[:, :, :, 0, :], 1, 2)[None]
        else:  # (n_classes, n_folds, n_cs, n_l1, n_dof)
            cp = np.moveaxis(paths, (0, 1, 3), (1, 3, 0))
        keys = classes[1:] if binary else classes
        sc = np.tile(np.swapaxes(scores, 1, 2)[None], (k, 1, 1, 1))
        self.n_iter_ = np.swapaxes(n_iter, 1, 2)[None].astype(np.int32)
        self.scores_ = dict(zip(keys, sc))
        self.coefs_paths_ = dict(zip(keys, cp))
        l1r_arr = np.asarray(ratios)
        s0 = sc[0]  # (n_folds, n_cs, n_l1), the same for every class
        if self.refit:
            best = np.unravel_index(np.argmax(s0.sum(axis=0)), s0.shape[1:])
            C_, l1_ratio_ = self.Cs_[best[0]], ratios[best[1]]
            init = cp[:, :, best[0], best[1], :].mean(axis=1)  # (k, n_dof)
            if self.solver == "liblinear":  # no warm start there: scikit-learn's refit
                init = None                 # is LogisticRegression's fit, and so is ours
            if binary and l1_of[best[1]] == 0 and data is not None and init is not None:
                coef, intercept, self.converged_ = self._refit_batched(data, C_, init[0])
            else:
                coef, intercept, self.converged_ = self._refit(
                    C_, l1_of[best[1]], init, class_weight, X, y, sample_weight)
        else:  # each fold's best, averaged
            best = np.unravel_index(np.argmax(s0.reshape(F, -1), axis=1), s0.shape[1:])
            w = np.mean([cp[:, i, best[0][i], best[1][i], :] for i in range(F)], axis=0)
            coef = w[:, :n]
            intercept = w[:, n] if self.fit_intercept else np.zeros(k)
            C_ = float(np.mean(self.Cs_[best[0]]))
            l1_ratio_ = (float(np.mean(l1r_arr[best[1]])) if penalty == "elasticnet"
                         else 0.0)
            self.converged_ = True
        self.coef_, self.intercept_ = coef, intercept
        self.C_ = np.asarray([C_] * k)
        self.l1_ratio_ = np.asarray([l1_ratio_] * k)  # None stays None, as scikit-learn
        self.l1_ratios_ = l1r_arr
        no_l1_axis = ratios == [None]
        if no_l1_axis:  # no l1_ratios: the legacy attributes lose that axis
            self.coefs_paths_ = {c: v[:, :, 0, :] for c, v in self.coefs_paths_.items()}
            self.scores_ = {c: v[:, :, 0] for c, v in self.scores_.items()}
            self.n_iter_ = self.n_iter_[:, :, :, 0]
        if not legacy:
            self.C_ = float(self.C_[0])
            if no_l1_axis:
                self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
            else:
                self.l1_ratio_ = float(self.l1_ratio_[0])
            # (n_folds, n_l1_ratios, n_cs, n_classes or 1, n_dof) and (n_folds, n_l1, n_cs)
            self.coefs_paths_ = np.moveaxis(cp, (0, 1, 3), (3, 0, 1))
            self.scores_ = np.moveaxis(s0, (1, 2), (2, 1))
            self.n_iter_ = np.moveaxis(np.swapaxes(n_iter, 1, 2), (1, 2), (2, 1)).astype(
                np.int32)

    def _refit(self, C, l1_ratio, init, class_weight, X, y, sample_weight):
        """``LogisticRegression(C, l1_ratio).fit`` on all the data from ``init`` (k,
        n_dof; None: from zero): ``(coef (k, n), intercept (k,), converged)``."""
        n = self.n_features_in_
        est = LogisticRegression(
            C=C, l1_ratio=l1_ratio, tol=self.tol, max_iter=self.max_iter,
            class_weight=class_weight, solver=self.solver, n_jobs=self.n_jobs,
            fit_intercept=self.fit_intercept, random_state=self.random_state,
            warm_start=init is not None, verbose=max(0, self.verbose - 1))
        if init is not None:
            est.coef_ = init[:, :n].copy()
            est.intercept_ = init[:, n].copy() if self.fit_intercept else \
                np.zeros(init.shape[0])
        est.fit(X, y, sample_weight)
        return (np.asarray(est.coef_, dtype=np.float64),
                np.asarray(est.intercept_, dtype=np.float64), est.converged_)

    def _refit_batched(self, data, C, theta0):
        """The binary L2 refit at C from ``theta0`` ([w; b]) in the batched solver
        (``solve_grid`` with one training set): ``(coef (1, n), intercept (1,),
        converged)``, and a ConvergenceWarning as ``LogisticRegression``'s."""
        n = self.n_features_in_
        grid = solve_grid(data, [C], fit_intercept=self.fit_intercept, tol=self.tol,
                          max_iter=self.max_iter, n_jobs=self.n_jobs, theta0=theta0)
        w = grid.coefs[0, 0]  # (1, n_dof)
        converged = bool(grid.converged[0, 0])
        if not converged:
            warn(f"The refit at C={C:g} did not converge in {int(grid.n_iter[0, 0])} "
                 f"iterations (tol={self.tol:g}, max_iter={self.max_iter}); raise "
                 f"max_iter, or scale the features (e.g. StandardScaler).",
                 ConvergenceWarning)
        return (w[:, :n].copy(), w[:, n].copy() if self.fit_intercept else np.zeros(1),
                converged)

    def score(self, X, y, sample_weight=None, **params):
        """The ``scoring`` metric (accuracy when None) of the fitted model on (X, y);
        ``sample_weight`` reaches the scorer as in scikit-learn (routed where metadata
        routing is on)."""
        _, weigh = routed_metadata(self, "score", sample_weight, params)
        kw = {"sample_weight": sample_weight} if weigh else {}
        return self._get_scorer()(self, X, y, **kw)
