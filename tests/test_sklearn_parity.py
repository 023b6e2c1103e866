"""Drop-in for scikit-learn 1.9's LogisticRegression (issue #15): its whole constructor,
its solver names, its penalty rules and warnings, sparsify / densify, warnings a
scikit-learn user's filters catch, and array-API fitted attributes.

The oracle is scikit-learn 1.9 itself: the same parameters must give the same penalty
(checked on the coefficients, fitted by its saga) and the same warnings.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as sk
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler

import vlogreg
from vlogreg import LogisticRegression, SeparationWarning
from vlogreg.backends import backend_for
from vlogreg.solvers import SKLEARN_SOLVERS, SOLVERS, choose_solver


@pytest.fixture(scope="module")
def bc():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def twenty():
    """The issue's L1 reproduction: 200 x 20, standardized."""
    X, y = make_classification(n_samples=200, n_features=20, random_state=0)
    return StandardScaler().fit_transform(X), y


def _record(fn):
    """(result, [(category, message, filename)]) of fn(), every warning recorded."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn()
    return out, [(w.category, str(w.message), w.filename) for w in rec]


# ------------------------------------------------------------------ 1. the signature
def test_constructor_takes_scikit_learns_whole_signature():
    theirs = set(inspect.signature(sk.LogisticRegression).parameters)
    ours = set(inspect.signature(LogisticRegression).parameters)
    assert theirs <= ours, theirs - ours
    for name in theirs:  # the same defaults, except the solver ("auto" picks one)
        if name != "solver":
            assert LogisticRegression().get_params()[name] == \
                sk.LogisticRegression().get_params()[name], name


@pytest.mark.parametrize("kw", [dict(random_state=0), dict(n_jobs=2), dict(n_jobs=-1),
                                dict(intercept_scaling=2.0), dict(dual=False),
                                dict(random_state=np.random.RandomState(1))])
def test_scikit_learn_params_fit_the_same_model(bc, kw):
    X, y = bc
    ref = LogisticRegression(tol=1e-10).fit(X, y)
    got = LogisticRegression(tol=1e-10, **kw).fit(X, y)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-8)


def test_dual_true_is_a_one_line_error(bc):
    X, y = bc
    with pytest.raises(ValueError, match=r"dual=True .*not supported.*dual=False") as info:
        LogisticRegression(dual=True).fit(X, y)
    assert "\n" not in str(info.value)


def test_random_state_seeds_the_solvers_random_choice(bc):
    X, y = bc
    runs = {seed: LogisticRegression(solver="gd", random_state=seed, tol=1e-8,
                                     max_iter=5000).fit(X, y) for seed in (0, 1)}
    again = LogisticRegression(solver="gd", random_state=1, tol=1e-8, max_iter=5000).fit(X, y)
    assert again.loss_history_ == runs[1].loss_history_  # the same seed, the same path
    assert runs[0].loss_history_ != runs[1].loss_history_  # another first step
    np.testing.assert_allclose(runs[0].coef_, runs[1].coef_, rtol=0, atol=1e-6)


def test_n_jobs_sets_the_kernels_threads():
    X, y = make_classification(n_samples=20_000, n_features=60, random_state=0)  # 9.6 MB
    for n_jobs, want in [(1, 1), (2, 2), (-1, os.cpu_count())]:
        est = LogisticRegression(n_jobs=n_jobs)
        objective = backend_for(X).prepare(X, y, None, est._fit_spec()).objective
        assert objective.blocks.n_threads == min(want, len(objective.blocks)), n_jobs
    one = LogisticRegression(n_jobs=1, tol=1e-10).fit(X, y)
    two = LogisticRegression(n_jobs=2, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(two.coef_, one.coef_, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(SKLEARN_SOLVERS))
def test_scikit_learn_solver_names_run_their_vlogreg_solver(bc, name):
    X, y = bc
    est = LogisticRegression(solver=name, tol=1e-8, max_iter=5000).fit(X, y)
    want = choose_solver(SKLEARN_SOLVERS[name], has_l1=False, n_params=31, m=len(y))
    assert est.solver_ == want and est.solver_ in SOLVERS
    assert est.converged_
    if name != "liblinear":  # liblinear alone penalizes the intercept
        theirs = sk.LogisticRegression(solver=name, tol=1e-10, max_iter=10_000).fit(X, y)
        np.testing.assert_allclose(est.coef_, theirs.coef_, rtol=0, atol=1e-4)


# ----------------------------------------------------------- 2. l1_ratio decides
def test_l1_ratio_one_fits_l1_as_scikit_learn(twenty):
    """The issue: l1_ratio=1, C=0.05 fitted L2 (20 of 20 non-zero) with a warning."""
    X, y = twenty
    ours, caught = _record(lambda: LogisticRegression(l1_ratio=1, C=0.05, tol=1e-10,
                                                      max_iter=1000).fit(X, y))
    theirs = sk.LogisticRegression(l1_ratio=1, C=0.05, solver="saga", tol=1e-12,
                                   max_iter=100_000).fit(X, y)
    assert caught == []
    assert np.count_nonzero(ours.coef_) == np.count_nonzero(theirs.coef_) < 20
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-5)


def test_the_default_gives_no_warning(twenty):
    X, y = twenty
    _, caught = _record(lambda: LogisticRegression().fit(X, y))
    assert caught == []


# (penalty, l1_ratio, C): every rule of scikit-learn 1.9's fit for these three
PENALTY_CASES = [
    ("deprecated", 0.0, 1.0), ("deprecated", None, 1.0), ("deprecated", 1.0, 0.5),
    ("deprecated", 0.5, 0.5), ("deprecated", 0.0, np.inf), ("deprecated", 1.0, np.inf),
    ("l2", 0.0, 1.0), ("l2", None, 1.0), ("l2", 0.5, 1.0), ("l2", 1.0, 1.0),
    ("l1", 0.0, 0.5), ("l1", 1.0, 0.5), ("elasticnet", 0.5, 0.5), ("elasticnet", 0.0, 0.5),
    (None, 0.0, 1.0), (None, 0.0, 2.0), (None, 0.5, 1.0),
]


@pytest.mark.parametrize("penalty, l1_ratio, C", PENALTY_CASES)
def test_penalty_rules_and_warnings_are_scikit_learns(twenty, penalty, l1_ratio, C):
    X, y = twenty
    X, y = X[:80, :5], y[:80]  # small: saga reaches its optimum quickly
    kw = dict(penalty=penalty, l1_ratio=l1_ratio, C=C)
    theirs, their_w = _record(lambda: sk.LogisticRegression(
        **kw, solver="saga", tol=1e-12, max_iter=200_000).fit(X, y))
    ours, our_w = _record(lambda: LogisticRegression(**kw, tol=1e-10, max_iter=5000)
                          .fit(X, y))
    # the same warnings by category, in the same order (saga's own convergence aside)
    assert [c for c, _, _ in our_w] == [c for c, _, _ in their_w
                                        if not issubclass(c, ConvergenceWarning)]
    # and the same penalty, read off the coefficients
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-4)


@pytest.mark.filterwarnings("ignore:'penalty' was deprecated:FutureWarning")
def test_elasticnet_without_l1_ratio_is_an_error_in_both(twenty):
    X, y = twenty
    with pytest.raises(ValueError, match="l1_ratio"):
        sk.LogisticRegression(penalty="elasticnet", l1_ratio=None, solver="saga").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio=None.*elasticnet"):
        LogisticRegression(penalty="elasticnet", l1_ratio=None).fit(X, y)


# --------------------------------------------------------- 3. sparsify / densify
def test_sparsify_and_densify(twenty, tmp_path):
    X, y = twenty
    est = LogisticRegression(l1_ratio=1, C=0.05).fit(X, y)
    dense = est.coef_.copy()
    want = est.predict_proba(X), est.decision_function(X), est.predict(X)
    assert est.sparsify() is est and sp.issparse(est.coef_)
    np.testing.assert_array_equal(est.coef_.toarray(), dense)
    for got, ref in zip((est.predict_proba(X), est.decision_function(X), est.predict(X)),
                        want):
        np.testing.assert_array_equal(got, ref)
    loaded = vlogreg.load(vlogreg.save(est, tmp_path / "sparse.vlogreg"))
    np.testing.assert_array_equal(loaded.coef_, dense)
    assert est.densify() is est and isinstance(est.coef_, np.ndarray)
    np.testing.assert_array_equal(est.coef_, dense)
    with pytest.raises(NotFittedError, match="sparsify"):
        LogisticRegression().sparsify()
    with pytest.raises(NotFittedError, match="densify"):
        LogisticRegression().densify()


# -------------------------------------------------------------------- 4. warnings
def test_penalty_none_with_c_warns_that_c_is_ignored(twenty):
    X, y = twenty
    _, caught = _record(lambda: LogisticRegression(penalty=None, C=2.0).fit(X, y))
    assert [c for c, _, _ in caught] == [FutureWarning, UserWarning]
    assert caught[1][1].startswith("Setting penalty=None will ignore the C") and \
        "C=2.0 is ignored" in caught[1][1]


def test_separation_warning_is_a_convergence_warning():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    assert issubclass(SeparationWarning, ConvergenceWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)  # a user's existing filter
        LogisticRegression(C=np.inf, max_iter=50).fit(X, y)


def test_every_warning_points_at_the_users_line(twenty):
    X, y = twenty
    Xs = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    for make in (lambda: LogisticRegression(solver="gd", max_iter=3).fit(X, y),
                 lambda: LogisticRegression(penalty="l2").fit(X, y),
                 lambda: LogisticRegression(C=np.inf, max_iter=50).fit(Xs, [0, 0, 1, 1])):
        _, caught = _record(make)
        assert caught and {f for _, _, f in caught} == {__file__}, caught


# ---------------------------------------------------------------- 6. array API
_ARRAY_API_SCRIPT = """
import numpy as np, sklearn, torch, array_api_strict as xps
from sklearn.datasets import load_breast_cancer
from vlogreg import LogisticRegression
X, y = load_breast_cancer(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
ref = LogisticRegression(tol=1e-10).fit(X, y)
for to in (torch.asarray, xps.asarray):
    Xa = to(X)
    with sklearn.config_context(array_api_dispatch=True):
        est = LogisticRegression(tol=1e-10).fit(Xa, y)
        for a in (est.coef_, est.intercept_):
            assert type(a) is type(Xa) and a.device == Xa.device, type(a)
        p = est.predict_proba(Xa)
    assert np.allclose(np.asarray(est.coef_), ref.coef_, rtol=0, atol=1e-8)
    assert np.allclose(np.from_dlpack(p), ref.predict_proba(X), rtol=0, atol=1e-8)
    est = LogisticRegression(tol=1e-10).fit(Xa, y)  # dispatch off: NumPy as before
    assert type(est.coef_) is np.ndarray and type(est.intercept_) is np.ndarray
print("ok")
"""


def test_array_api_dispatch_gives_attributes_in_the_inputs_namespace():
    pytest.importorskip("torch")
    pytest.importorskip("array_api_strict")
    # scikit-learn refuses array_api_dispatch unless scipy was imported with
    # SCIPY_ARRAY_API=1, which this process did not: a fresh interpreter does it
    env = dict(os.environ, SCIPY_ARRAY_API="1",
               PYTHONPATH=str(Path(vlogreg.__file__).parents[1]))
    r = subprocess.run([sys.executable, "-c", _ARRAY_API_SCRIPT], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


def test_threads_follow_threadpoolctl_limits(monkeypatch):
    # a fit inside threadpool_limits(1) (or a joblib worker that set them) stays on one
    # thread, n_jobs included: the limit caps it; without a limit n_jobs decides
    from threadpoolctl import threadpool_limits

    from vlogreg.objective.logistic import LogisticObjective

    X, y = make_classification(n_samples=20_000, n_features=60, random_state=0)  # 9.6 MB

    def prepared(**kw):
        return backend_for(X).prepare(X, y, None, LogisticRegression(**kw)._fit_spec()
                                      ).objective

    with threadpool_limits(limits=1):
        for kw in ({}, {"n_jobs": 2}, {"n_jobs": -1}):
            obj = prepared(**kw)
            assert obj.blocks.n_threads == 1 and obj._kernel_threads == 1, kw
    cores = os.cpu_count()
    assert prepared(n_jobs=2).blocks.n_threads == min(2, cores)
    # the kernel runs on the objective's threads (numba's, set around the call)
    numba = pytest.importorskip("numba")
    seen = []
    real = LogisticObjective.loss_grad

    def spy(self, coef, intercept):
        if self._kernel is not None and not hasattr(self._kernel, "spied"):
            kernel = self._kernel

            def counting(*a):
                seen.append(numba.get_num_threads())
                return kernel(*a)

            counting.spied = True
            self._kernel = counting
        return real(self, coef, intercept)

    monkeypatch.setattr(LogisticObjective, "loss_grad", spy)
    with threadpool_limits(limits=1):
        LogisticRegression(solver="lbfgs").fit(X, y)
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored
