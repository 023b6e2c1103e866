"""Predictions agree across backends, including where the decision values are huge.

``LogisticRegression`` predicts from whatever X it is given, each kind through its own
backend: NumPy (C and Fortran order) and SciPy CSR in memory, dask arrays (the local
threaded scheduler and a ``distributed`` cluster), row sources on disk
(``vlogreg.data.open_source`` of a ``.npy`` and a Parquet file), and array-API arrays
(torch CPU tensors, array-api-strict). For one fitted model, ``decision_function``,
``predict_proba``, ``predict_log_proba`` and ``predict`` must give, on every backend,
what the in-memory NumPy backend gives (the oracle; no number is hard-coded):

- decision values to ``rtol=1e-12`` (an absolute slack of ``1e-12 max|z|`` for the
  values near 0, where a different summation order is all that differs);
- probabilities and log-probabilities RELATIVELY (``atol=0``). With ``|z|`` of several
  hundred the smaller binary probability is about ``exp(-|z|)``, e.g. 1e-280: a backend
  computing ``P(class 0)`` as ``1 - p`` returns exactly 0.0 there (and ``log`` of it
  ``-inf``), which an absolute tolerance would let pass and a relative one does not;
- the labels exactly (the binary problem has string labels "no" / "yes", which the
  array-API backends return as a NumPy array of strings).

The fitted coefficients are scaled up by hand so that ``max |z|`` (binary) and the
largest spread ``max_k z - min_k z`` of a row (multinomial) are 650: a prediction test
may set the coefficients, and the test asserts that the data keep ``|z| > 300`` so it
cannot lose its power silently. A third problem sets ``coef_`` by hand so that z is
exactly ``+-700``, ``+-300``, ``+-1`` and 0 on a few rows.

Each backend's own output is also checked against the mathematics: finite
log-probabilities, probabilities strictly positive (``exp(-700) > 0`` in float64),
equal to ``exp(log_proba)`` relatively, rows summing to 1; and on the hand-set rows
the smaller binary probability equals ``exp(-|z|) / (1 + exp(-|z|))`` relatively.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg import LogisticRegression

M, N = 400, 5
NAMES = [f"f{j}" for j in range(N)]
SPREAD = 650.0          # max |z| (binary) / max row spread of z (multinomial)
METHODS = ["decision_function", "predict_proba", "predict_log_proba", "predict"]


# ----------------------------------------------------------------------- problems
def _fit(X, y, scale_to=None):
    """A model fitted in memory; its coefficients scaled so z reaches ``scale_to``."""
    model = LogisticRegression(C=100).fit(X, y)
    if scale_to is not None:
        z = model.decision_function(X)
        spread = np.abs(z).max() if z.ndim == 1 else np.ptp(z, axis=1).max()
        model.coef_ = model.coef_ * (scale_to / spread)
        model.intercept_ = model.intercept_ * (scale_to / spread)
    return model


def _binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(M, N)) * 30
    t = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) / 30 + 0.5 * rng.logistic(size=M)
    y = np.where(t > 0, "yes", "no")
    return X, _fit(X, y, SPREAD)


def _multinomial():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(M, N)) * 30
    t = X @ rng.normal(size=(N, 4)) / 30 + rng.gumbel(size=(M, 4))
    return X, _fit(X, t.argmax(axis=1), SPREAD)


def _exact700():
    """z = X[:, 0] exactly: coef_ = e_0, intercept_ = 0 on a model fitted to any data."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(12, N))
    X[:, 0] = [700, -700, 300, -300, 1, -1, 0, 650, -650, 699.5, -699.5, 0.25]
    model = _fit(X, (X[:, 0] + rng.normal(size=12) > 0).astype(int))
    model.coef_ = np.eye(1, N)
    model.intercept_ = np.zeros(1)
    return X, model


PROBLEMS = {"binary-str": _binary, "multinomial": _multinomial, "exact700": _exact700}


@pytest.fixture(scope="module")
def problem(request):
    """(X, model, the NumPy oracle {method: result}), built once per problem."""
    X, model = PROBLEMS[request.param]()
    oracle = {m: getattr(model, m)(X) for m in METHODS}
    z = oracle["decision_function"]
    assert np.abs(z).max() > 300 and np.abs(z).max() <= 700  # the test's power
    return X, model, oracle


# ----------------------------------------------------------------------- backends
@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        yield c


def _dask(scheduler):
    def make(X, model, tmp, request):
        da = pytest.importorskip("dask.array")
        sched = request.getfixturevalue("client") if scheduler == "distributed" \
            else scheduler
        return da.from_array(X, chunks=(128, N)), lambda r: r.compute(scheduler=sched)
    return make


def _npy(X, model, tmp, request):
    from vlogreg.data import open_source

    np.save(tmp / "X.npy", X)
    return open_source(tmp / "X.npy", chunk_bytes=128 * N * 8), np.asarray


def _parquet(X, model, tmp, request):
    """A Parquet source has column names: the model that reads it is fitted on a
    DataFrame with those names, then given the oracle model's coefficients."""
    pd = pytest.importorskip("pandas")
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    from vlogreg.data import open_source

    names = NAMES[:X.shape[1]]
    pq.write_table(pa.table({c: X[:, j] for j, c in enumerate(names)}),
                   tmp / "X.parquet", row_group_size=128)
    y = model.classes_[np.arange(len(X)) % len(model.classes_)]  # every class
    named = LogisticRegression(C=100).fit(pd.DataFrame(X, columns=names), y)
    named.coef_, named.intercept_ = model.coef_.copy(), model.intercept_.copy()
    return open_source(tmp / "X.parquet"), np.asarray, named


def _torch(X, model, tmp, request):
    torch = pytest.importorskip("torch")
    return torch.asarray(X, dtype=torch.float64), \
        lambda r: r.numpy() if isinstance(r, torch.Tensor) else r


def _strict(X, model, tmp, request):
    xps = pytest.importorskip("array_api_strict")
    return xps.asarray(X), \
        lambda r: r if isinstance(r, np.ndarray) else np.from_dlpack(r)


BACKENDS = {
    "numpy-C": lambda X, *a: (np.ascontiguousarray(X), np.asarray),
    "numpy-F": lambda X, *a: (np.asfortranarray(X), np.asarray),
    "csr": lambda X, *a: (sp.csr_matrix(X), np.asarray),
    "dask-threads": _dask("threads"),
    "dask-distributed": _dask("distributed"),
    "npy-source": _npy,
    "parquet-source": _parquet,
    "torch": _torch,
    "array-api-strict": _strict,
}


@pytest.fixture
def predicted(problem, backend, tmp_path, request):
    """{method: that backend's result as a NumPy array}, and the oracle."""
    X, model, oracle = problem
    Xb, to_np, *named = BACKENDS[backend](X, model, tmp_path, request)
    model = named[0] if named else model
    return {m: to_np(getattr(model, m)(Xb)) for m in METHODS}, oracle


pytestmark = [pytest.mark.parametrize("problem", list(PROBLEMS), indirect=True),
              pytest.mark.parametrize("backend", list(BACKENDS))]


# -------------------------------------------------------------------------- tests
@pytest.mark.parametrize("method", METHODS)
def test_equals_numpy(predicted, method):
    got, oracle = predicted
    got, want = got[method], oracle[method]
    assert got.shape == want.shape
    if method == "predict":
        np.testing.assert_array_equal(got, want)
    elif method == "decision_function":
        np.testing.assert_allclose(got, want, rtol=1e-12,
                                   atol=1e-12 * np.abs(want).max())
    else:  # relative: an exact 0.0 (or -inf) where the truth is 1e-280 fails
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)


def test_identities(predicted):
    """The backend's own output against the mathematics, not against NumPy's."""
    got, _ = predicted
    z, P, logP = got["decision_function"], got["predict_proba"], got["predict_log_proba"]
    assert np.isfinite(logP).all() and (logP <= 0).all()
    assert (P > 0).all(), f"P == 0 at {np.argwhere(P == 0)[:5].tolist()} (|z| <= 700)"
    np.testing.assert_allclose(P, np.exp(logP), rtol=1e-12, atol=0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    if z.ndim == 1:  # the smaller probability: sigmoid(-|z|), computed here in Python
        small = [math.exp(-abs(v)) / (1 + math.exp(-abs(v))) for v in z.tolist()]
        np.testing.assert_allclose(P.min(axis=1), small, rtol=1e-13, atol=0)
        np.testing.assert_allclose(logP.min(axis=1),
                                   [math.log(s) for s in small], rtol=1e-13, atol=0)
