"""The batched objective where the data live (Dask, a source on disk, torch and
array-api-strict arrays): each model's column equals the single-model objective of the
same backend on the model's rows and the in-memory NumPy ``BatchedObjective``;
``LogisticRegressionCV`` and ``vlogreg.path`` on those inputs equal their in-memory
fits; on Dask each evaluation is one graph."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import vlogreg  # noqa: E402
from vlogreg._spec import FitSpec  # noqa: E402
from vlogreg.backends import array_api, outofcore  # noqa: E402
from vlogreg.backends import batched as bb  # noqa: E402
from vlogreg.backends import dask as bdask  # noqa: E402
from vlogreg.data import open_source  # noqa: E402
from vlogreg.objective.batched import BatchedObjective  # noqa: E402

M, N, CHUNK = 900, 5, 250  # 4 chunks (the last one short)


def _problem(seed=0, n_folds=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(M, N))
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=M) > 0).astype(int)
    sw = rng.uniform(0.2, 3.0, M)
    fold = rng.integers(0, n_folds, M).astype(np.int32)
    return X, y, sw, fold, rng


def _torch(X):
    torch = pytest.importorskip("torch")
    return torch.from_numpy(X)


def _inputs(kind, X, y, sw, tmp_path):
    """(backend module, X, y, sample_weight) of ``kind`` holding the same numbers."""
    if kind == "dask":
        return bdask, da.from_array(X, chunks=(CHUNK, N)), da.from_array(y, chunks=CHUNK), \
            None if sw is None else da.from_array(sw, chunks=CHUNK)
    if kind == "outofcore":
        np.save(tmp_path / "X.npy", X)
        return outofcore, open_source(tmp_path / "X.npy", chunk_bytes=CHUNK * N * 8), y, sw
    if kind == "strict":
        return array_api, pytest.importorskip("array_api_strict").asarray(X), y, sw
    return array_api, _torch(X), y, sw


KINDS = ["dask", "outofcore", "torch", "strict"]


@pytest.fixture
def sync_scheduler():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("K", [1, 6])
@pytest.mark.parametrize("weights", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_equals_single_objectives_and_numpy(kind, K, weights, fit_intercept, tmp_path,
                                            sync_scheduler):
    X, y, sw, fold, rng = _problem()
    sw = sw if weights else None
    exclude = np.array([1, -1, 0, 2, 1, 0][:K], dtype=np.int32)
    alpha = np.array([0.3, 0.0, 1e-3, 2.0, 0.05, 1e-6][:K])  # a penalty per model
    W = rng.normal(size=(N, K)) * 0.5
    b = rng.normal(size=K)
    backend, Xb, yb, swb = _inputs(kind, X, y, sw, tmp_path)
    spec = FitSpec(penalty="l2", C=1.0, fit_intercept=fit_intercept)
    grid = bb.prepare_grid(backend, Xb, yb, swb, spec)
    obj = grid.objective(fold, exclude, alpha, fit_intercept)
    loss, dw, db = obj.loss_grad(W, b)
    assert obj.passes.counts["loss_grad"] == grid.reads  # one evaluation: one pass
    # the in-memory NumPy batched objective
    ref = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                           fit_intercept=fit_intercept, kernel="numpy").loss_grad(W, b)
    np.testing.assert_allclose(loss, ref.loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, ref.dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, ref.db, rtol=1e-12, atol=1e-12)
    # each model: the single-model objective of the same backend, its rows weighted
    s = np.ones(M) if sw is None else sw
    for k in range(K):
        s_k = s * (fold != exclude[k])
        _, Xk, yk, swk = _inputs(kind, X, y, s_k, tmp_path)
        single = backend.prepare(Xk, yk, swk, spec).objective
        single.alpha = alpha[k]
        theta = np.append(W[:, k], b[k]) if fit_intercept else W[:, k]
        f, g = single.value_and_grad(theta)
        np.testing.assert_allclose(loss[k], f, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dw[:, k], g[:N], rtol=1e-12, atol=1e-12)
        if fit_intercept:
            np.testing.assert_allclose(db[k], g[N], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_subset_of_models_and_bounds_equal_numpy(kind, tmp_path, sync_scheduler):
    X, y, sw, fold, rng = _problem(seed=1)
    exclude = np.array([0, 1, 2, -1], dtype=np.int32)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    backend, Xb, yb, swb = _inputs(kind, X, y, sw, tmp_path)
    grid = bb.prepare_grid(backend, Xb, yb, swb, FitSpec(penalty="l2", C=1.0))
    obj = grid.objective(fold, exclude, alpha, True)
    ref = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                           kernel="numpy")
    models = np.array([3, 1])
    theta = rng.normal(size=(N + 1, 2))
    for got, want in zip(obj.value_and_grad(theta, models),
                         ref.value_and_grad(theta, models)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # the preconditioner reads the rows the in-memory one reads: the same bounds
    np.testing.assert_allclose(obj.hessian_bounds(models), ref.hessian_bounds(models),
                               rtol=1e-12)
    np.testing.assert_allclose(obj.hessian_bounds(models, theta),
                               ref.hessian_bounds(models, theta), rtol=1e-12)


def _cv_params(**kw):
    from sklearn.model_selection import StratifiedKFold

    return {**dict(Cs=5, cv=StratifiedKFold(4, shuffle=True, random_state=0),
                   l1_ratios=(0,), scoring="neg_log_loss", use_legacy_attributes=False,
                   tol=1e-10, max_iter=300), **kw}


def _fit_cv(X, y, sw=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence warning: the fits reached tol
        return vlogreg.LogisticRegressionCV(**_cv_params(**kw)).fit(X, y, sw)


def _assert_same_cv(got, ref):
    assert got.batched_ and ref.batched_
    assert got.C_ == ref.C_
    np.testing.assert_allclose(got.scores_, ref.scores_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.coefs_paths_, ref.coefs_paths_, rtol=0, atol=1e-7)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.intercept_, ref.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(got.classes_, ref.classes_)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_cv_equals_numpy(kind, scoring, tmp_path, sync_scheduler):
    X, y, sw, _, _ = _problem(seed=2)
    labels = np.array(["no", "yes"])[y]
    ref = _fit_cv(X, labels, sw, scoring=scoring)
    _, Xb, yb, swb = _inputs(kind, X, labels, sw, tmp_path)
    got = _fit_cv(Xb, yb, swb, scoring=scoring)
    _assert_same_cv(got, ref)
    assert got.passes_["loss_grad"] > 0 and got.passes_["prediction"] == 1


@pytest.mark.parametrize("kind", ["dask", "outofcore"])
def test_cv_class_weight_and_no_refit(kind, tmp_path, sync_scheduler):
    X, y, sw, _, _ = _problem(seed=3)
    ref = _fit_cv(X, y, class_weight="balanced", refit=False)
    _, Xb, yb, _ = _inputs(kind, X, y, None, tmp_path)
    _assert_same_cv(_fit_cv(Xb, yb, class_weight="balanced", refit=False), ref)


def test_dask_cv_passes_equal_graphs_run(sync_scheduler):
    """Every loss+gradient pass counted is one graph of per-chunk batched partials, the
    held-out scores one graph more; no graph materializes X on the client."""
    from dask.callbacks import Callback

    X, y, sw, _, _ = _problem(seed=4)
    graphs = []

    class Count(Callback):
        def _start(self, dsk):
            names = {k[0] if isinstance(k, tuple) else k for k in dict(dsk)}
            graphs.append({str(k).rsplit("-", 1)[0] for k in names})

    Xd = da.from_array(X, chunks=(CHUNK, N))
    with Count():
        est = _fit_cv(Xd, da.from_array(y, chunks=CHUNK), refit=False)
    n_batched = sum(any(k.startswith("batched_partial") for k in g) for g in graphs)
    n_heldout = sum(any(k.startswith("_heldout_block") for k in g) for g in graphs)
    assert est.passes_["loss_grad"] == n_batched > 0
    assert est.passes_["prediction"] == n_heldout == 1


def test_dask_cv_on_a_cluster_equals_numpy():
    """With a ``distributed.Client``: the chunks' tasks run on the persisted futures."""
    distributed = pytest.importorskip("distributed")
    X, y, sw, _, _ = _problem(seed=5)
    ref = _fit_cv(X, y, sw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster):
        got = _fit_cv(da.from_array(X, chunks=(CHUNK, N)), da.from_array(y, chunks=CHUNK),
                      da.from_array(sw, chunks=CHUNK))
    _assert_same_cv(got, ref)


@pytest.mark.parametrize("kind", KINDS)
def test_path_equals_numpy(kind, tmp_path, sync_scheduler):
    X, y, sw, _, _ = _problem(seed=6)
    ref = vlogreg.path(X, y, Cs=6, sample_weight=sw, tol=1e-10, max_iter=300)
    _, Xb, yb, swb = _inputs(kind, X, y, sw, tmp_path)
    got = vlogreg.path(Xb, yb, Cs=6, sample_weight=swb, tol=1e-10, max_iter=300)
    assert got.converged.all()
    np.testing.assert_allclose(got.coefs, ref.coefs, rtol=0, atol=1e-7)
    np.testing.assert_allclose(got.intercepts, ref.intercepts, rtol=0, atol=1e-7)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", ["multinomial", "l1", "shuffle_split"])
def test_cases_not_batched_run_per_model_on_the_backend(kind, case, tmp_path,
                                                        sync_scheduler):
    """Multinomial, L1 and splits that are not a partition: the single-model loop on the
    backend (each fold's other rows weighted 0) equals the in-memory loop on copies."""
    from sklearn.model_selection import ShuffleSplit

    X, y, sw, _, rng = _problem(seed=7)
    kw = dict(tol=1e-8, max_iter=1000, Cs=4)
    if case == "multinomial":
        y = np.where(X[:, 2] + rng.logistic(size=M) > 1.0, 2, y)
    elif case == "l1":
        kw.update(l1_ratios=(1,), solver="saga")
    else:
        kw.update(cv=ShuffleSplit(3, test_size=0.3, random_state=0))
    ref = _fit_cv(X, y, sw, **kw)
    _, Xb, yb, swb = _inputs(kind, X, y, sw, tmp_path)
    got = _fit_cv(Xb, yb, swb, **kw)
    assert not got.batched_ and got.passes_ is None
    assert got.C_ == ref.C_
    np.testing.assert_allclose(got.scores_, ref.scores_, rtol=0, atol=1e-7)
    np.testing.assert_allclose(got.coefs_paths_, ref.coefs_paths_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_l1_path_starts_at_the_same_c_min(kind, tmp_path, sync_scheduler):
    X, y, _, _, _ = _problem(seed=8)
    ref = vlogreg.path(X, y, Cs=4, l1_ratio=0.5, tol=1e-8)
    _, Xb, yb, _ = _inputs(kind, X, y, None, tmp_path)
    got = vlogreg.path(Xb, yb, Cs=4, l1_ratio=0.5, tol=1e-8)
    np.testing.assert_allclose(got.c_min, ref.c_min, rtol=1e-13)
    np.testing.assert_allclose(got.coefs, ref.coefs, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("scoring", ["roc_auc", "f1", "balanced_accuracy",
                                     "neg_brier_score", "recall"])
def test_other_scorers_where_x_lives_equal_numpy(kind, scoring, tmp_path, sync_scheduler):
    """Any scikit-learn scorer: its responses from the held-out decision values computed
    where X lives give the scores of the in-memory fit (which calls the scorer on the
    model and X's test rows)."""
    X, y, sw, _, _ = _problem(seed=9)
    labels = np.array(["no", "yes"])[y]
    ref = _fit_cv(X, labels, sw, scoring=scoring)
    _, Xb, yb, swb = _inputs(kind, X, labels, sw, tmp_path)
    got = _fit_cv(Xb, yb, swb, scoring=scoring)
    _assert_same_cv(got, ref)
    assert got.passes_["prediction"] == 1  # every fold's decision values: one pass


@pytest.mark.parametrize("kind", ["dask", "outofcore"])
def test_multinomial_scorer_with_labels_where_x_lives(kind, tmp_path, sync_scheduler):
    """A metric that takes ``labels`` (log_loss) and a macro average on three classes,
    through ``make_scorer`` objects: the in-memory fit's scores."""
    from sklearn.metrics import f1_score, log_loss, make_scorer

    X, _, _, _, rng = _problem(seed=11)
    y = np.argmax(X[:, :3] + rng.logistic(size=(M, 3)), axis=1)
    for scoring in (make_scorer(f1_score, average="macro"),
                    make_scorer(log_loss, greater_is_better=False,
                                response_method="predict_proba")):
        kw = dict(scoring=scoring, tol=1e-8)
        ref = _fit_cv(X, y, **kw)
        _, Xb, yb, _ = _inputs(kind, X, y, None, tmp_path)
        got = _fit_cv(Xb, yb, **kw)
        assert got.C_ == ref.C_
        np.testing.assert_allclose(got.scores_, ref.scores_, rtol=0, atol=1e-7)


def test_plain_callable_scorer_where_x_is_not_in_memory_says_what_to_do(sync_scheduler):
    X, y, _, _, _ = _problem(seed=9)
    with pytest.raises(ValueError, match="is a plain callable, which would need X of type "
                                         "Array in memory; pass a scorer name or "
                                         "sklearn.metrics.make_scorer"):
        _fit_cv(da.from_array(X, chunks=(CHUNK, N)), y,
                scoring=lambda est, X, y: float(est.score(X, y)))


def test_dask_x_never_comes_to_the_client(monkeypatch, sync_scheduler):
    """Of X, only the preconditioner's strided rows (at most ``BOUND_MAX_ROWS``) are
    computed for the client during the CV fit (checks, fold fits, scores, refit)."""
    import dask.base

    from vlogreg.objective.protocol import BOUND_MAX_ROWS

    m, n = BOUND_MAX_ROWS + 7_000, 8  # X is sampled with a stride of 2
    rng = np.random.default_rng(10)
    X = rng.normal(size=(m, n))
    y = (X[:, 0] + rng.logistic(size=m) > 0).astype(int)
    shapes = []
    compute = dask.base.compute

    def recording(*args, **kw):
        out = compute(*args, **kw)
        shapes.extend(np.shape(leaf) for leaf in
                      dask.core.flatten(out, container=(tuple, list))
                      if isinstance(leaf, np.ndarray))
        return out

    monkeypatch.setattr(dask.base, "compute", recording)
    monkeypatch.setattr(dask, "compute", recording)
    monkeypatch.setattr(da.Array, "__array__", lambda *a, **k: pytest.fail("np.asarray(X)"))
    est = _fit_cv(da.from_array(X, chunks=(10_000, n)), da.from_array(y, chunks=10_000),
                  tol=1e-6)
    assert est.batched_ and len(shapes) > est.passes_["loss_grad"]
    rows_of_x = [s[0] for s in shapes if len(s) == 2 and s[1] == n]
    assert rows_of_x and max(rows_of_x) <= BOUND_MAX_ROWS


def test_chunks_large_enough_run_the_kcol_kernel(monkeypatch, sync_scheduler):
    """Dask chunks of >= 1 MiB take the compiled K-column kernel (one numba thread per
    task); its sums equal the NumPy path's."""
    pytest.importorskip("numba")
    from vlogreg.objective import batched_chunked

    rng = np.random.default_rng(11)
    m, n, K = 60_000, 4, 5
    X = rng.normal(size=(m, n))
    y = (X[:, 0] + rng.logistic(size=m) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, m)
    fold = rng.integers(0, 3, m).astype(np.int32)
    exclude = np.array([0, 1, 2, -1, 0], dtype=np.int32)
    alpha = np.linspace(0.0, 0.4, K)
    W, b = rng.normal(size=(n, K)) * 0.3, rng.normal(size=K)
    ran = []
    kernel_for = batched_chunked.batched_kernel
    monkeypatch.setattr(batched_chunked, "batched_kernel",
                        lambda Xc, *a: ran.append(kernel_for(Xc, *a) is not None)
                        or kernel_for(Xc, *a))
    grid = bb.prepare_grid(bdask, da.from_array(X, chunks=(40_000, n)),
                           da.from_array(y, chunks=40_000), da.from_array(sw, chunks=40_000),
                           FitSpec(penalty="l2", C=1.0))
    got = grid.objective(fold, exclude, alpha, True).loss_grad(W, b)
    # one chunk of 40,000 rows (1.3 MB): compiled; one of 20,000 (0.6 MB): NumPy
    assert sorted(ran) == [False, True]
    ref = BatchedObjective(X, y, sw, fold=fold, exclude=exclude, alpha=alpha,
                           kernel="numpy").loss_grad(W, b)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)
