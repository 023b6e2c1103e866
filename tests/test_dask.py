"""Dask backend: fits on dask arrays / DataFrames equal the in-memory fit, one compute per
evaluation, lazy predictions, a worker killed mid-fit changes nothing, clear errors.

One LocalCluster (2 worker processes) serves the whole module."""

from __future__ import annotations

import os

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


from vlogreg import LogisticRegression  # noqa: E402
from vlogreg.backends import dask as _dask  # noqa: E402
from vlogreg.backends import memory  # noqa: E402
from vlogreg._estimator import SeparationWarning  # noqa: E402
from vlogreg.solvers import SOLVERS  # noqa: E402
from _fit_helpers import assert_same_fit, fit, make_data as _make_data  # noqa: E402

M, N, CHUNK = 1200, 4, 300  # 4 chunks: a tree with real leaves, computes stay cheap
SOLVER_KW = {"lbfgs": dict(tol=1e-10, max_iter=200), "newton": dict(tol=1e-10),
             # gd / agd: the first 20 iterations, which must be the in-memory ones
             "gd": dict(tol=0.0, max_iter=20), "agd": dict(tol=0.0, max_iter=20)}


def make_data(n_classes, seed=0, dtype=np.float64):
    return _make_data(M, N, n_classes, seed, dtype)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2)
        yield cluster, client


# ------------------------------------------------------------------------ same numbers
@pytest.mark.parametrize("solver", list(SOLVER_KW))
def test_array_fit_with_sample_weight_equals_in_memory(cluster, solver):
    X, y = make_data(2)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, M)
    ref = fit(X, y, sw, solver=solver, **SOLVER_KW[solver])
    got = fit(da.from_array(X, chunks=(CHUNK, 2)), da.from_array(y, chunks=500),
              da.from_array(sw, chunks=CHUNK), solver=solver, **SOLVER_KW[solver])
    assert_same_fit(ref, got)
    assert got.n_iter_[0] == ref.n_iter_[0]


@pytest.mark.parametrize("solver", list(SOLVER_KW))
def test_dataframe_multinomial_class_weight_equals_in_memory(cluster, solver):
    X, y = make_data(3)
    labels = np.array(["ant", "bee", "cat"])[y]
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(N)]).assign(label=labels)
    ddf = dd.from_pandas(df, npartitions=4)
    kw = dict(solver=solver, class_weight="balanced", **SOLVER_KW[solver])
    ref = fit(df.drop(columns="label"), labels, **kw)
    got = fit(ddf.drop(columns="label"), ddf["label"], **kw)
    assert_same_fit(ref, got)
    assert list(got.feature_names_in_) == list(ref.feature_names_in_)


def test_l1_lbfgs_equals_in_memory(cluster):
    X, y = make_data(2, seed=3)
    kw = dict(l1_ratio=1.0, C=0.05, solver="lbfgs", tol=1e-10, max_iter=300)
    ref = fit(X, y, **kw)
    got = fit(da.from_array(X, chunks=(CHUNK, N)), y, **kw)
    assert_same_fit(ref, got)
    assert np.sum(ref.coef_ == 0) >= 1  # the penalty did zero a coefficient


def test_float32_stays_float32(cluster):
    X, y = make_data(2)
    X32 = X.astype(np.float32)
    ref = fit(X, y, solver="lbfgs", tol=1e-10)
    got = fit(da.from_array(X32, chunks=(CHUNK, N)), y, solver="lbfgs", tol=1e-6)
    assert got.coef_.dtype == np.float32 and got.intercept_.dtype == np.float32
    # float32 sums stay within float32 accuracy of the float64 optimum
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-4)
    z = got.decision_function(da.from_array(X32, chunks=(CHUNK, N)))
    assert z.dtype == np.float32


# ------------------------------------------------------------------------- prediction
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predictions_are_lazy_and_equal_in_memory(cluster, n_classes):
    X, y = make_data(n_classes)
    Xd = da.from_array(X, chunks=(CHUNK, N))
    model = fit(Xd, y, solver="newton", tol=1e-8)
    ref = fit(X, y, solver="newton", tol=1e-8)
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array), method
        want = getattr(ref, method)(X)
        assert lazy.shape == want.shape
        if method == "predict":
            np.testing.assert_array_equal(lazy.compute(), want)
        else:
            np.testing.assert_allclose(lazy.compute(), want, rtol=1e-7, atol=1e-9)


# ----------------------------------------------------------------- one compute per step
class GraphCounter(distributed.diagnostics.plugin.SchedulerPlugin):
    """Counts the graphs the scheduler receives: one per compute / persist."""

    name = "vlogreg-test-graph-counter"

    def __init__(self):
        self.n = 0

    def update_graph(self, scheduler, **kwargs):
        self.n += 1


def _prepare(est, X, y, sw):
    """The Dask backend's objective and classes for the estimator's parameters."""
    data = _dask.prepare(X, y, sw, est._fit_spec())
    return data.objective, data.classes


def test_one_compute_per_evaluation(cluster):
    cl, client = cluster
    counter = GraphCounter()
    cl.scheduler.add_plugin(counter)
    try:
        X, y = make_data(3)
        obj, _ = _prepare(LogisticRegression(), da.from_array(X, chunks=(CHUNK, N)),
                               y, None)
        theta = np.full(obj.n_params, 0.1)
        obj.value(theta)  # the persists of prepare reach the scheduler before this compute
        calls = {"value_and_grad": (theta,), "value": (theta,), "hessp": (theta, theta),
                 "hessian": (theta,), "hessian_bound": ()}
        for name, args in calls.items():
            before = counter.n
            getattr(obj, name)(*args)
            assert counter.n - before == 1, name
        before = counter.n
        obj.lipschitz(n_iter=3)
        assert counter.n - before == 3  # one per power iteration
        before, passes = counter.n, obj.n_evals
        result = SOLVERS["lbfgs"](obj, tol=1e-8, max_iter=50)
        # the preconditioner's pass also evaluates theta = 0, where L-BFGS said
        # (expect) it starts
        assert counter.n - before == obj.n_evals - passes == result.n_evals
        assert result.n_passes == counter.n - before  # every compute reads every chunk
        before, passes = counter.n, obj.n_evals
        result = SOLVERS["newton"](obj, tol=1e-8, max_iter=50)
        # Newton said (expect) it wants the Hessian where it takes the gradient: each
        # evaluation brings the Hessian at its point along
        assert counter.n - before == obj.n_evals - passes == result.n_evals - result.n_iter
        assert result.n_passes == counter.n - before
    finally:
        cl.scheduler.remove_plugin(name=GraphCounter.name)


def test_fused_passes_give_the_same_numbers(cluster):
    """The results computed ahead in a shared pass are those of a pass of their own.

    To the last bits, not bit for bit: a chunk copied to another worker process lands
    at another memory alignment, and BLAS rounds a product differently there (seen: one
    ulp in about one run in five). A rounding difference in a sum of products is
    bounded relative to the sum of the terms' sizes, not to the sum itself (an entry
    0.00027 of a matrix whose diagonal is 0.25 differed by 1e-14 of itself, 1e-17 of the
    matrix), so each comparison is to 1e-14 of the largest entry. The pass counts show
    what was shared."""

    def same(a, b):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14 * np.abs(b).max())

    X, y = make_data(2, seed=4)
    obj, _ = _prepare(LogisticRegression(), da.from_array(X, chunks=(CHUNK, N)), y,
                           None)
    ref, _ = _prepare(LogisticRegression(), da.from_array(X, chunks=(CHUNK, N)), y,
                           None)
    zero, theta = obj.zeros(), np.linspace(-0.5, 0.5, obj.n_params)
    obj.expect("value_and_grad", zero)  # what L-BFGS says before it asks for the bound
    same(obj.hessian_bound(), ref.hessian_bound())
    f, g = ref.value_and_grad(zero)
    passes = obj.n_evals
    f2, g2 = obj.value_and_grad(zero)  # computed with the bound: no pass
    assert obj.n_evals == passes
    same(f2, f)
    same(g2, g)
    same(obj.hessian(zero), ref.hessian(zero))
    obj.expect("hessian")  # what Newton says: the Hessian follows each gradient
    f, g = ref.value_and_grad(theta)
    f2, g2 = obj.value_and_grad(theta)  # the Hessian at theta comes in this pass
    passes = obj.n_evals
    same(obj.hessian(theta), ref.hessian(theta))
    assert obj.n_evals == passes
    same(f2, f)
    same(g2, g)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_setup_pass_gives_the_same_numbers(cluster, n_classes):
    """prepare's one round trip also computes L-BFGS's first pass (the preconditioner's
    bound and the loss and gradient at zero): the numbers of a pass of their own."""
    X, y = make_data(n_classes, seed=8)
    sw = np.random.default_rng(3).uniform(0.5, 1.5, M)
    Xd = da.from_array(X, chunks=(CHUNK, N))
    obj, classes = _prepare(LogisticRegression(solver="lbfgs",
                                                    class_weight="balanced"), Xd, y, sw)
    assert set(obj._known) == {"bound", "value_and_grad"}
    # solver "auto" picks Newton here: its setup brings no bound
    ref, _ = _prepare(LogisticRegression(class_weight="balanced"), Xd, y, sw)
    assert ref.spec == obj.spec and list(classes) == list(range(n_classes))
    passes, zero = obj.n_evals, obj.zeros()
    # the same operation on the same chunks; the Gram and the gradient have been seen to
    # differ in their last bit between two tasks on a chunk (cause not found): 1e-13
    np.testing.assert_allclose(obj.hessian_bound(), ref.hessian_bound(), rtol=1e-13,
                               atol=1e-15)
    f, g = obj.value_and_grad(zero)
    assert obj.n_evals == passes  # both came with the setup: no pass
    f2, g2 = ref._sum("value_and_grad", zero)  # a pass of its own (same caveat)
    np.testing.assert_allclose([f, *g], [float(f2), *g2], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_classes, dtype", [(2, np.float64), (3, np.float64),
                                              (2, np.float32)])
def test_setup_loss_and_gradient_at_zero_are_the_definition(cluster, n_classes, dtype,
                                                             fit_intercept):
    """The setup's loss and gradient at zero (from the label sums of the read that
    checks X) against their definition, J(0) = log K and
    dW = X^T (s (1/K - Y)) / S, computed here from X: sample and class weights, a chunk
    holding one class only, float32 X."""
    from sklearn.utils.class_weight import compute_class_weight

    X, y = make_data(n_classes, seed=11, dtype=dtype)
    y[:CHUNK] = 0  # the first chunk holds one class
    sw = np.random.default_rng(4).uniform(0.0, 2.0, M)
    sw[::7] = 0.0
    obj, _ = _prepare(LogisticRegression(solver="lbfgs", class_weight="balanced",
                                         fit_intercept=fit_intercept),
                      da.from_array(X, chunks=(CHUNK, N)), y, sw)
    f, g = obj._known["value_and_grad"][1]
    classes = np.arange(n_classes)
    s = sw * compute_class_weight("balanced", classes=classes, y=y)[y]
    Y = (y[:, None] == classes).astype(np.float64)
    dz = s[:, None] * (1.0 / n_classes - Y) / s.sum()
    dz = dz[:, 1:] if n_classes == 2 else dz
    want = (X.astype(np.float64).T @ dz).ravel()
    want = np.concatenate([want, dz.sum(axis=0)]) if fit_intercept else want
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-15 * np.abs(want).max())
    np.testing.assert_allclose(float(f), np.log(n_classes), rtol=1e-14)


@pytest.mark.parametrize("bad", ["nan at zero weight", "inf and -inf", "float32 -inf"])
def test_setup_check_finds_every_nonfinite_value(cluster, bad):
    """The check of X rides on the label sums: a NaN where the weight is 0, an inf and
    a -inf in one column (their sum alone could hide them), float32: each is named."""
    X, y = make_data(2, dtype=np.float32 if bad == "float32 -inf" else np.float64)
    sw = np.ones(M)
    if bad == "nan at zero weight":
        X[613, 1], sw[613] = np.nan, 0.0
        want = r"X contains NaN at row 613, column 1"
    elif bad == "inf and -inf":
        X[613, 1], X[950, 1] = np.inf, -np.inf
        want = r"X contains (inf|infinity).* at row 613, column 1"
    else:
        X[1100, 3] = -np.inf
        want = r"X contains -(inf|infinity).* at row 1100, column 3"
    with pytest.raises(ValueError, match=want) as info:
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, N)), y, sw)
    assert "\n" not in str(info.value)


def test_setup_is_one_read_and_one_wait(cluster, monkeypatch):
    """prepare reads X once (one stats task per chunk), waits for the workers once (one
    gather) and answers L-BFGS's first requests (the bound, the loss and gradient at
    zero) from that read; the encoding's tasks are not waited for: the first
    evaluation's tasks follow them. No merge task, no first pass of its own."""
    from distributed.utils import key_split

    _, client = cluster
    X, y = make_data(2, seed=13)
    sw = np.random.default_rng(5).uniform(0.5, 1.5, M)
    Xd = da.from_array(X, chunks=((200, 500, 100, 400), (N,)))  # unequal chunks
    gathers = []
    real = distributed.Client.gather
    monkeypatch.setattr(distributed.Client, "gather",
                        lambda self, *a, **kw: (gathers.append(1), real(self, *a, **kw))[1])
    with distributed.get_task_stream() as ts:
        obj, _ = _prepare(LogisticRegression(solver="lbfgs"), Xd, y, sw)
        assert len(gathers) == 1
        passes = obj.n_evals
        obj.expect("value_and_grad", obj.zeros())
        obj.hessian_bound()
        obj.value_and_grad(obj.zeros())
        assert len(gathers) == 1 and obj.n_evals == passes  # both came with the setup
        theta = np.linspace(-0.3, 0.3, obj.n_params)
        obj.expect("hessian_bound", theta)
        obj.value_and_grad(theta)
        obj.hessian_bound(theta=theta)  # came with the evaluation
        assert len(gathers) == 2 and obj.n_evals == passes + 1
    ran = {}
    for task in ts.data:
        ran[key_split(task["key"])] = ran.get(key_split(task["key"]), 0) + 1
    assert ran.pop("stats") == 4 and ran.pop("encode_y") == 4 and ran.pop("encode_s") == 4
    assert 1 <= ran.pop("group_partial") <= 2
    # the rest: the persist of the arrays made here (from_array, C order): no merge
    # task, no first pass of its own
    assert all("array" in name for name in ran), ran


def test_fit_with_rewhitening_equals_in_memory(cluster, monkeypatch):
    """L-BFGS samples the Hessian at its Newton step's point in that evaluation (m large
    enough for it to pay): the same coefficients and iterations as in memory, chunks of
    unequal sizes, sample weights, an intercept; one compute per evaluation."""
    import importlib

    cl, _ = cluster
    lbfgs_module = importlib.import_module("vlogreg.solvers.lbfgs")
    rng = np.random.default_rng(9)
    m = 100_000  # BOUND_MAX_ROWS * p1 <= m with p1 = 3
    X = rng.standard_normal((m, 2)) * [0.7, 1.8]
    y = (X @ [1.2, -0.8] + 0.3 + rng.logistic(size=m) > 0).astype(int)
    sw = rng.uniform(0.0, 2.0, m)
    calls = []
    real = lbfgs_module._rewhiten
    monkeypatch.setattr(lbfgs_module, "_rewhiten", lambda *a: (calls.append(1), real(*a))[1])
    kw = dict(solver="lbfgs", tol=1e-10, max_iter=200, C=10.0)
    ref = fit(X, y, sw, **kw)
    counter = GraphCounter()
    cl.scheduler.add_plugin(counter)
    try:
        got = fit(da.from_array(X, chunks=((30_000, 45_000, 25_000), (2,))),
                  da.from_array(y, chunks=40_000), da.from_array(sw, chunks=30_000), **kw)
    finally:
        cl.scheduler.remove_plugin(name=GraphCounter.name)
    assert calls == [1, 1]  # both re-whitened after their Newton step
    assert_same_fit(ref, got)
    assert got.n_iter_[0] == ref.n_iter_[0]
    # graphs: persist, the stats, the two encodings, then one per evaluation after the
    # setup's (a task group per map; the rechunks of y and the weights ride in persist)
    assert counter.n <= 4 + got.passes_["loss_grad"]


def test_evaluation_is_one_task_per_worker_group(cluster):
    """An evaluation submits one task per group of chunks that live on one worker
    (2 single-threaded workers: at most 2 tasks for 8 chunks), and its sum is the
    per-chunk one to rounding (the order of the additions differs)."""
    _, client = cluster
    X, y = make_data(2, seed=12)
    obj, _ = _prepare(LogisticRegression(), da.from_array(X, chunks=(150, N)), y, None)
    chunks = obj.chunks
    theta = np.linspace(-0.3, 0.3, obj.n_params)
    f, g = obj.value_and_grad(theta)
    groups = chunks._groups
    xf = chunks._futures[0]
    assert sorted(i for grp in groups for i in grp) == list(range(len(xf))) == \
        list(range(8))
    who = client.who_has(xf)
    for grp in groups:  # a worker holds all of a group's chunks (maybe copies, too)
        assert set.intersection(*(set(who[xf[i].key]) for i in grp))
    assert len(groups) <= 2  # one task per worker thread, not one per chunk (8)
    chunks._groups = [[i] for i in range(len(xf))]  # one task per chunk
    f1, g1 = obj.value_and_grad(theta)
    np.testing.assert_allclose(f, f1, rtol=1e-14)
    np.testing.assert_allclose(g, g1, rtol=1e-14, atol=1e-14 * np.abs(g1).max())


def test_chunk_groups_follow_workers_threads_and_replicas():
    """The evaluation tasks' groups: a worker's chunks split over its threads, a chunk
    held twice to the worker with fewer chunks, a chunk held nowhere on its own."""
    from types import SimpleNamespace

    from vlogreg.backends.dask_setup import chunk_groups

    holders = [("a",), ("b",), ("a",), ("a", "b"), ("a",), ("b",), (), ("a", "b"), ("c",)]
    futures = [SimpleNamespace(key=i) for i in range(len(holders))]
    client = SimpleNamespace(who_has=lambda fs: {f.key: holders[f.key] for f in fs},
                             nthreads=lambda: {"a": 2, "b": 1, "c": 4})
    # 3 goes to b (1 chunk against a's 2); 7 to a (3 each: the first holder); a's
    # 0, 2, 4, 7 over its 2 threads; b's 1, 3, 5 in one task; 6 alone; c's 8
    assert chunk_groups(client, futures) == [[0, 2], [1, 3, 5], [4, 7], [6], [8]]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_over_chunks_equals_in_memory(cluster, n_classes):
    X, y = make_data(n_classes, seed=6)
    sw = np.random.default_rng(2).uniform(0.5, 1.5, M)
    kw = dict(solver="newton", tol=1e-10, C=0.5)
    ref = fit(X, y, sw, **kw)
    got = fit(da.from_array(X, chunks=(CHUNK, N)), y, sw, **kw)
    assert_same_fit(ref, got)
    assert got.n_iter_[0] == ref.n_iter_[0]


@pytest.mark.parametrize("n_classes", [2, 3])
def test_separates_is_the_in_memory_test(cluster, n_classes):
    X, y = make_data(n_classes, seed=7)
    obj, _ = _prepare(LogisticRegression(), da.from_array(X, chunks=(CHUNK, N)), y,
                           None)
    model = fit(X, y, solver="newton", tol=1e-8)
    theta = obj.pack(model.coef_[0] if n_classes == 2 else model.coef_.T,
                     model.intercept_[0] if n_classes == 2 else model.intercept_)
    assert not obj.separates(theta)  # noisy labels: some examples are misclassified
    Xs = X.copy()
    Xs[:, 0] = np.where(y == 1, 5.0, -5.0) if n_classes == 2 else 5.0 * y
    obj, _ = _prepare(LogisticRegression(), da.from_array(Xs, chunks=(CHUNK, N)), y,
                           None)
    with pytest.warns(SeparationWarning):  # in memory it warns; the chunked test agrees
        sep = fit(Xs, y, C=np.inf, solver="newton", tol=1e-6, max_iter=30)
    theta = obj.pack(sep.coef_[0] if n_classes == 2 else sep.coef_.T,
                     sep.intercept_[0] if n_classes == 2 else sep.intercept_)
    want = memory.prepare(Xs, y, None, sep._fit_spec()).objective.separates(theta)
    theta = obj.pack(sep.coef_[0] if n_classes == 2 else sep.coef_.T,
                     sep.intercept_[0] if n_classes == 2 else sep.intercept_)
    assert obj.separates(theta) == want


@pytest.mark.parametrize("n_classes", [2, 3])
def test_chunked_fit_warns_on_separation_as_in_memory(cluster, n_classes):
    import warnings

    X, y = make_data(n_classes, seed=7)
    Xs = X.copy()
    Xs[:, 0] = np.where(y == 1, 5.0, -5.0) if n_classes == 2 else 5.0 * y
    kw = dict(C=np.inf, solver="newton", tol=1e-6, max_iter=30)
    with pytest.warns(SeparationWarning):
        fit(da.from_array(Xs, chunks=(CHUNK, N)), y, **kw)
    with warnings.catch_warnings():  # noisy labels: no separation, no warning
        warnings.simplefilter("error", SeparationWarning)
        fit(da.from_array(X, chunks=(CHUNK, N)), y, C=np.inf, solver="newton",
            tol=1e-8)


# -------------------------------------------------------------------------------- faults
def test_worker_killed_mid_fit_gives_the_same_coefficients(cluster):
    cl, client = cluster
    X, y = make_data(2, seed=5)
    Xd = da.from_array(X, chunks=(CHUNK, N))
    kw = dict(solver="lbfgs", tol=1e-10, max_iter=200)
    ref = fit(X, y, **kw)
    killed = []

    def kill_one_worker(state):
        if state.n_iter == 2 and not killed:
            victim = sorted(client.scheduler_info()["workers"])[0]
            try:
                client.run(os._exit, 1, workers=[victim])
            except Exception:  # the worker dies before it can answer
                pass
            killed.append(victim)
        return False

    got = fit(Xd, y, callback=kill_one_worker, **kw)
    assert killed
    assert_same_fit(ref, got)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next tests


# ---------------------------------------------------------------------------- bad input
def test_bad_input_one_line_errors(cluster):
    X, y = make_data(2)
    Xn = X.copy()
    Xn[700, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN at row 700, column 2.*impute"):
        LogisticRegression().fit(da.from_array(Xn, chunks=(CHUNK, N)), y)
    with pytest.raises(ValueError, match="one class only"):
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, N)), np.ones(M))
    with pytest.raises(ValueError, match=r"y has 1199 values but X has 1200 rows"):
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, N)), y[:-1])
    with pytest.raises(ValueError, match=r"sample_weight has the value -1.0 at position 3"):
        sw = np.ones(M)
        sw[3] = -1
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, N)), y, sw)
    df = pd.DataFrame(X, columns=list("abcd"))
    model = fit(dd.from_pandas(df, npartitions=2), y, solver="newton")
    lazy = model.predict_proba(dd.from_pandas(df, npartitions=2))  # no partition lengths
    assert isinstance(lazy, da.Array)                               # computed: lazy
    want = fit(df, y, solver="newton").predict_proba(df)
    np.testing.assert_allclose(lazy.compute(), want, atol=1e-9)
    with pytest.raises(ValueError, match=r"unknown: \['e'\], missing: \['d'\]"):
        model.predict(dd.from_pandas(df.rename(columns={"d": "e"}), npartitions=2))
    with pytest.raises(ValueError, match="column 'city' of X has dtype"):
        LogisticRegression().fit(dd.from_pandas(df.assign(city="x"), npartitions=2), y)
    lazy = model.predict_proba(da.from_array(Xn, chunks=(CHUNK, N)))  # raises on compute
    with pytest.raises(ValueError, match=r"X contains NaN at row 700, column 2"):
        lazy.compute()
    for err in (ValueError,):
        with pytest.raises(err) as info:
            LogisticRegression().fit(da.from_array(Xn, chunks=(CHUNK, N)), y)
        assert "\n" not in str(info.value)
