"""Reads of X: ``objective.passes``, ``SolverResult.n_passes`` and the estimator's
``n_passes_`` against an independent count of the rows each fit touched.

The count: X wrapped in an ndarray subclass whose every row access (a row slice, a
strided subsample, a boolean row mask, a product with all of X) adds the rows it
returns; views of it do not count again, so a block read once (and used twice while it
is in cache) counts once. A fit's reads are the rows touched over m.
"""

from __future__ import annotations

import numpy as np
import pytest

from vlogreg import LogisticObjective, LogisticRegression
from vlogreg._labels import _encode_sorted, encode_labels
from vlogreg.objective.passes import KINDS, Passes
from vlogreg.solvers import SOLVERS


class CountingX(np.ndarray):
    """X that counts the rows read through it (``rows[0]``); its views count nothing."""

    def __array_finalize__(self, obj):
        self.rows = None  # a view: the base counts the access that made it

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if self.rows is not None and isinstance(out, np.ndarray) and out.ndim == 2:
            self.rows[0] += out.shape[0]
        return out

    def __matmul__(self, other):
        if self.rows is not None:
            self.rows[0] += self.shape[0]
        return np.asarray(self) @ other


def counting(X):
    Xc = np.ascontiguousarray(X).view(CountingX)
    Xc.rows = [0]
    return Xc


def make_data(n_classes=2, m=3000, n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) * rng.uniform(0.5, 3.0, n)
    if n_classes == 2:
        y = (X[:, 0] - 0.5 * X[:, 1] + rng.logistic(size=m) > 0).astype(float)
    else:
        y = (X[:, :2] @ rng.standard_normal((2, n_classes))
             + rng.gumbel(size=(m, n_classes))).argmax(axis=1)
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_solver_passes_match_the_rows_read(solver, n_classes):
    X, y = make_data(n_classes)
    Xc = counting(X)
    # the NumPy path: the numba kernel would read X behind the wrapper's back
    obj = LogisticObjective(Xc, y, alpha=1e-3, n_classes=n_classes, kernel="numpy")
    res = SOLVERS[solver](obj, tol=1e-8, max_iter=200)
    assert res.n_iter > 0  # (converged or not: the count is what is checked)
    read = Xc.rows[0] / X.shape[0]
    assert res.n_passes == pytest.approx(read, rel=1e-12)
    assert obj.passes.total == pytest.approx(read, rel=1e-12)
    assert sum(res.passes.values()) == pytest.approx(res.n_passes)
    assert set(res.passes) <= set(KINDS)
    # every evaluation is one read: a loss+gradient, or (gd's backtracking) a loss
    assert res.passes.get("loss_grad", 0) + res.passes.get("loss", 0) == res.n_evals - (
        res.n_iter if solver == "newton" else 0)
    if solver in ("lbfgs", "newton"):  # their line searches read loss and gradient
        assert "loss" not in res.passes


def test_newton_with_hessian_products_counts_each_product():
    X, y = make_data(2, n=8)
    Xc = counting(X)
    obj = LogisticObjective(Xc, y, alpha=1e-3, kernel="numpy")
    res = SOLVERS["newton"](obj, tol=1e-8, dense_max=2)  # CG on Hessian products
    assert res.passes["hessp"] >= res.n_iter and res.passes["curvature"] == res.n_iter
    assert res.n_passes == pytest.approx(Xc.rows[0] / X.shape[0], rel=1e-12)


def test_kernel_calls_are_one_pass_each():
    """With the numba kernel, each kernel call reads X once: the count is its calls."""
    pytest.importorskip("numba")
    X, y = make_data(2, m=5000)
    obj = LogisticObjective(X, y, alpha=1e-3, kernel="numba")
    calls = [0]
    kernel = obj._kernel

    def counted(*args):
        calls[0] += 1
        return kernel(*args)

    obj._kernel = counted
    res = SOLVERS["lbfgs"](obj, tol=1e-8)
    assert res.passes["loss_grad"] == calls[0] == res.n_evals


def test_lbfgs_makes_no_pass_after_its_last_iterate():
    """The returned point's loss and gradient come from the iteration that reached it:
    the evaluations are the start, the first (Newton) step and the line searches'."""
    X, y = make_data(2, m=4000)
    obj = LogisticObjective(X, y, alpha=1e-3, kernel="numpy")
    seen = []
    orig = obj.value_and_grad
    obj.value_and_grad = lambda theta: (seen.append(np.array(theta)), orig(theta))[1]
    res = SOLVERS["lbfgs"](obj, tol=1e-8)
    assert len(seen) == res.n_evals
    # no two evaluations at the same point
    assert len({t.tobytes() for t in seen}) == len(seen)
    np.testing.assert_array_equal(seen[-1], res.theta)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "agd"])
def test_estimator_reports_the_fits_passes(solver):
    X, y = make_data(2)
    clf = LogisticRegression(solver=solver, tol=1e-8).fit(X, y)
    assert clf.passes_["validation"] == 1  # the checks' one read
    assert clf.n_passes_ == pytest.approx(sum(clf.passes_.values()))
    # the fit's passes = the solver's alone (no separation test: C is finite): the
    # checks' read also made the solver's first loss+gradient, at theta = 0
    obj = LogisticObjective(X, y, alpha=1.0 / X.shape[0])
    res = SOLVERS[solver](obj, tol=1e-8, **({} if solver == "newton" else {"seed": 0}))
    assert clf.n_iter_[0] == res.n_iter
    assert clf.n_passes_ == pytest.approx(res.n_passes)
    assert clf.passes_["loss_grad"] == res.passes["loss_grad"] - 1


def test_checks_and_first_evaluation_share_one_read():
    """checked_start: the gradient it keeps is the objective's own at theta = 0, and
    the solver's first value_and_grad takes it without a read."""
    from vlogreg.objective.start import checked_start

    for n_classes, dtype in [(2, np.float64), (3, np.float64), (2, np.float32)]:
        X, y = make_data(n_classes)
        X = X.astype(dtype)
        s = np.random.default_rng(1).uniform(0, 2, X.shape[0])
        ref = LogisticObjective(X, y, s, alpha=0.1, n_classes=n_classes, kernel="numpy")
        f_ref, g_ref = ref.value_and_grad(ref.zeros())
        Xc = counting(X)
        obj = LogisticObjective(Xc, y, s, alpha=0.1, n_classes=n_classes, kernel="numpy")
        assert checked_start(obj) == 1.0
        assert Xc.rows[0] == X.shape[0]  # one read
        f, g = obj.value_and_grad(obj.zeros())
        assert Xc.rows[0] == X.shape[0]  # no second one
        assert f == pytest.approx(f_ref, rel=1e-6 if dtype == np.float32 else 1e-14)
        np.testing.assert_allclose(g, g_ref, rtol=1e-5 if dtype == np.float32 else 1e-10,
                                   atol=1e-7 if dtype == np.float32 else 1e-15)
        obj.value_and_grad(obj.zeros())  # kept once only: this one reads X
        assert Xc.rows[0] == 2 * X.shape[0]


def test_unpenalized_fit_counts_its_separation_test():
    X, y = make_data(2)
    clf = LogisticRegression(C=np.inf, tol=1e-8).fit(X, y)
    assert clf.passes_["prediction"] == 1


def test_passes_record():
    p = Passes()
    p.add("loss_grad")
    p.add("bound", 0.25)
    snap = p.snapshot()
    p.add("hessp", 2)
    assert p.total == 3.25 and p.since(snap) == {"hessp": 2.0}
    with pytest.raises(ValueError, match="unknown kind"):
        p.add("gradient")


# ------------------------------------------------------------------- label encoding
@pytest.mark.parametrize("y", [
    np.array([0, 1, 1, 0, 1]),
    np.array([3, -2, 7, 3, 7, -2, 5]),
    np.array([True, False, True]),
    np.array([5, 6, 6, 5], dtype=np.uint8),
    np.array([1, 10**5, 1, 7], dtype=np.int32),
    np.array([0, 2**40, 3]),  # a range too wide to count: np.unique
])
def test_fast_label_encoding_matches_np_unique(y):
    classes, y_idx = encode_labels(y)
    ref_classes, ref_idx = np.unique(y, return_inverse=True)
    assert classes.dtype == ref_classes.dtype
    np.testing.assert_array_equal(classes, ref_classes)
    np.testing.assert_array_equal(y_idx, ref_idx.ravel())
    assert y_idx.dtype == np.intp
    np.testing.assert_array_equal(_encode_sorted(y)[1], ref_idx)


@pytest.mark.parametrize("y", [np.ones(4, dtype=int), np.ones(3, dtype=bool)])
def test_fast_label_encoding_refuses_one_class(y):
    with pytest.raises(ValueError, match="one class only"):
        encode_labels(y)


@pytest.mark.parametrize("m,n,seed", [(20000, 10, 0), (5000, 5, 2), (30000, 30, 3)])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_lbfgs_on_easy_data_reads_x_once_per_iteration(m, n, seed, tol):
    """Well-conditioned data (standard normal features, coefficients N(0, 1/n)): the
    start, the Newton step from 0, then one loss+gradient per iteration, none spent on a
    line search (scipy's first step is the bound's Newton step, not an overshoot)."""
    from vlogreg.bench.problems import easy

    p = easy(m=m, n=n, seed=seed)
    res = SOLVERS["lbfgs"](LogisticObjective(p.X, p.y, alpha=1.0 / m), tol=tol)
    assert res.converged
    assert res.n_evals <= res.n_iter + 2, (res.n_iter, res.n_evals)
    clf = LogisticRegression(tol=tol, solver="lbfgs").fit(p.X, p.y)
    # in a fit, the start's evaluation comes with the checks
    assert clf.passes_["loss_grad"] <= clf.n_iter_[0] + 1
    assert clf.n_passes_ <= clf.n_iter_[0] + 2 + clf.passes_["bound"]
