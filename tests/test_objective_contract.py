"""The ``Objective`` contract: every implementation gives the same numbers on the same data.

A solver sees the data only through the members of ``vlogreg.objective.protocol.Objective``,
so a fit on a dask array, a Parquet file or a torch tensor equals the in-memory fit
exactly when every member answers the same. This file builds each objective the way a
fit builds it (``backend_for(X).prepare(X, y, sample_weight, FitSpec(...)).objective``;
the class constructor where a kernel must be forced) on one set of data per problem,
and compares every member at a few parameter vectors with the in-memory NumPy C-order
objective (the reference), to float64 rounding (rtol 1e-12):

- the layout (``layout``, ``n_params``, ``n_coef``, ``k``, ``zeros``, ``pack`` /
  ``unpack``, ``penalized_mask``) and the strengths (``S``, ``alpha``, ``l1``);
- ``value``, ``value_and_grad`` (its value is ``value()``, its gradient ``grad()``),
  ``hessp`` (with and without a precomputed ``curvature``), ``hessian``, ``l1_value``,
  ``separates`` (on separable data and on noisy data);
- ``hessian_bound`` and ``lipschitz``: finite and positive definite / positive
  everywhere, equal to the in-memory ones where the objective reads every row; with
  ``theta`` (binary), equal to ``hessian(theta)`` there.

Implementations: ``LogisticObjective`` (C and Fortran order, CSR; its numba kernel
forced and its NumPy path), ``ChunkedObjective`` (Dask on a distributed LocalCluster,
``.npy`` and Parquet files in several chunks), ``ArrayAPIObjective`` (torch CPU,
array-api-strict, and the fused Triton kernel in Triton's interpreter; Triton decides
at import time whether it interprets, so those cases run in a child pytest started with
``TRITON_INTERPRET=1``, as in tests/test_triton.py).

"All equal" could mean "all equally wrong", so the reference itself is checked once
against oracles that share no code with it: the loss and gradient against a direct
formula (``scipy.special.logsumexp`` over the one-hot labels), the gradient against
central finite differences of ``value``, ``hessp`` against finite differences of
``grad``, ``hessian @ v`` against ``hessp``, the Hessian's symmetry, the intercept
against a column of ones (``fit_intercept=True`` on X equals ``fit_intercept=False`` on
``[X, 1]``), and the strengths against ``1 / (C S)`` with ``S`` and the balanced class
weights computed here (scikit-learn's ``compute_class_weight``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.utils.class_weight import compute_class_weight

from vlogreg._layout import ParamLayout
from vlogreg._spec import FitSpec
from vlogreg.backends import backend_for
from vlogreg.objective.array_api import ArrayAPIObjective
from vlogreg.objective.chunked import ChunkedObjective
from vlogreg.objective.logistic import LogisticObjective
from vlogreg.objective.passes import Passes
from vlogreg.objective.protocol import Objective


def _interpreted():
    """True in the child process: Triton imported in interpreter mode."""
    if os.environ.get("TRITON_INTERPRET") != "1":
        return False
    try:
        from vlogreg._kernels.triton_common import interpretable
    except Exception:  # noqa: BLE001  (no triton, or a broken install: no child cases)
        return False
    return interpretable()


INTERPRETED = _interpreted()

M, N = 240, 5            # examples, features
CHUNK_ROWS = 70          # chunked backends: 4 chunks (70, 70, 70, 30), the last one short
C = 0.7                  # inverse penalty strength (L2 and L1 alike)
RTOL = 1e-12             # float64: the backends differ only in the order of their sums
FD_STEP, FD_RTOL = 1e-6, 1e-6  # central differences: error ~ h^2 + eps / h
LABELS = np.array([-1, 2, 7])  # not 0..K-1: every backend encodes the labels itself


# ---------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    n_classes: int
    fit_intercept: bool
    weights: str      # "none", "sample" (non-uniform), "balanced" (sample + class weights)
    penalty: str      # "l2" or "l1"
    separable: bool = False
    C: float = C      # a strong penalty (small C) makes alpha dominate the Hessian bound

    @property
    def id(self):
        return "-".join([
            "bin" if self.n_classes == 2 else f"multi{self.n_classes}",
            "icpt" if self.fit_intercept else "noicpt", self.weights, self.penalty,
            *(["separable"] if self.separable else []),
            *([f"C{self.C:g}"] if self.C != C else [])])

    def spec(self, fit_intercept=None, penalty="same"):
        return FitSpec(penalty=self.penalty if penalty == "same" else penalty, C=self.C,
                       fit_intercept=(self.fit_intercept if fit_intercept is None
                                      else fit_intercept),
                       class_weight="balanced" if self.weights == "balanced" else None)


#: the full grid (noisy labels), plus separable data for the ``separates`` contract
PROBLEMS = [Problem(k, fi, w, pen) for k in (2, 3) for fi in (True, False)
            for w in ("none", "sample", "balanced") for pen in ("l2", "l1")] + \
    [Problem(k, fi, "sample", "l2", separable=True) for k in (2, 3) for fi in (True, False)]

#: the reduced grid of the costly backends: every value of every axis at least once
REDUCED = [Problem(2, True, "sample", "l2"), Problem(2, False, "none", "l1"),
           Problem(3, True, "balanced", "l2"), Problem(3, False, "sample", "l1"),
           Problem(2, True, "sample", "l2", True), Problem(3, False, "sample", "l2", True),
           Problem(2, True, "none", "l2", C=0.01)]


@dataclass
class Data:
    X: np.ndarray            # (M, N) float64, C order, about 30 % zeros (for CSR)
    y: np.ndarray            # (M,) labels from LABELS
    sw: np.ndarray | None    # (M,) sample weights, or None
    theta_gen: np.ndarray    # the generating parameters, in theta's layout
    thetas: list             # the random points of the comparisons


def _draw_rows(rng, m):
    X = rng.standard_normal((m, N)) * np.array([3.0, 1.0, 0.5, 1.0, 2.0])
    X[rng.random((m, N)) < 0.3] = 0.0
    return X


@functools.cache
def make_data(p: Problem) -> Data:
    """Data of a noisy linear model (or noiseless with a margin: separable)."""
    rng = np.random.default_rng([*PROBLEMS, *REDUCED].index(p) + 1)
    K = p.n_classes
    k = 1 if K == 2 else K
    W = rng.standard_normal((N, k)) / np.sqrt(N)
    # uneven classes, so that class_weight="balanced" changes the weights
    b = (np.array([0.8]) if K == 2 else np.array([0.8, 0.0, -0.5])[:K]) \
        if p.fit_intercept else np.zeros(k)
    X = _draw_rows(rng, M)
    if p.separable:
        # labels of the model itself, every row at least 0.05 from a boundary (redrawn
        # otherwise): the generating theta separates them in every backend's rounding
        def margin(X):
            Z = X @ W + b
            if K == 2:
                return np.abs(Z[:, 0])
            top = np.sort(Z, axis=1)
            return top[:, -1] - top[:, -2]

        while (bad := margin(X) < 0.05).any():
            X[bad] = _draw_rows(rng, int(bad.sum()))
        Z = X @ W + b
        y_idx = (Z[:, 0] > 0).astype(int) if K == 2 else Z.argmax(axis=1)
    elif K == 2:
        z = (X @ W + b)[:, 0]
        y_idx = (rng.random(M) < 1 / (1 + np.exp(-z))).astype(int)
    else:
        y_idx = (X @ W + b + rng.gumbel(size=(M, K))).argmax(axis=1)
    assert len(np.unique(y_idx)) == K
    sw = None if p.weights == "none" else rng.uniform(0.2, 3.0, M)
    layout = ParamLayout(N, K, p.fit_intercept)
    theta_gen = layout.pack(W[:, 0] if K == 2 else W, b[0] if K == 2 else b)
    thetas = [rng.standard_normal(layout.n_params) * scale for scale in (0.5, 2.0)]
    return Data(X, LABELS[:K][y_idx], sw, theta_gen, thetas + [theta_gen])


# ---------------------------------------------------------------------------- builders
def _prepare(X, y, sw, spec):
    return backend_for(X).prepare(X, y, sw, spec).objective


def reference(p: Problem, **spec_kw):
    """The in-memory NumPy objective on C-order X, as a fit builds it."""
    d = make_data(p)
    return _prepare(d.X, d.y, d.sw, p.spec(**spec_kw))


def _same_args(p, X, kernel):
    # the constructor with the reference's encoded labels, final weights and strengths
    ref = reference(p)
    return LogisticObjective(X, ref.y, ref.s, alpha=ref.alpha,
                             l1=ref.l1, fit_intercept=p.fit_intercept,
                             n_classes=p.n_classes, kernel=kernel)


@contextlib.contextmanager
def _env(**kw):
    old = {k: os.environ.get(k) for k in kw}
    os.environ.update(kw)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build(backend, p, request):
    """The objective of problem ``p`` on ``backend`` (see BACKENDS)."""
    d = make_data(p)
    X, y, sw, spec = d.X, d.y, d.sw, p.spec()
    # The in-memory objective takes its numba kernel ("auto") only for X of at least
    # _kernels.MIN_KERNEL_BYTES (1 MiB): these small X never do, so "auto" is the NumPy
    # block path, and the kernel is forced (kernel="numba") through the constructor. The
    # kernels serve the loss+gradient (value, value_and_grad, grad): binary dense and CSR,
    # multinomial dense (numba_kcol).
    if backend == "numpy-C":
        obj = _prepare(X, y, sw, spec)
        assert obj._kernel is None  # small X: the NumPy path (see above)
    elif backend == "numpy-C-forced-numpy":
        obj = _same_args(p, X, "numpy")
    elif backend == "numpy-C-numba":
        obj = _same_args(p, X, "numba")
        assert obj._kernel is not None
    elif backend == "numpy-F":
        obj = _prepare(np.asfortranarray(X), y, sw, spec)
        assert obj.X.flags.f_contiguous and not obj.X.flags.c_contiguous
    elif backend == "numpy-F-numba":
        obj = _same_args(p, np.asfortranarray(X), "numba")
        assert obj._kernel is not None
    elif backend == "csr":
        obj = _prepare(sp.csr_matrix(X), y, sw, spec)
        assert sp.issparse(obj.X) and obj.X.format == "csr"
    elif backend == "csr-numba":
        obj = _same_args(p, sp.csr_matrix(X), "numba")
        assert obj._kernel is not None
    elif backend == "dask":
        da = pytest.importorskip("dask.array")
        request.getfixturevalue("dask_client")  # the default client while the fit runs
        Xd = da.from_array(X, chunks=(CHUNK_ROWS, N))
        obj = _prepare(Xd, da.from_array(y, chunks=CHUNK_ROWS),
                       None if sw is None else da.from_array(sw, chunks=CHUNK_ROWS), spec)
        assert obj.chunks.client is not None and len(obj.chunks._futures[0]) == 4
    elif backend == "npy":
        from vlogreg.data import open_source

        path = request.getfixturevalue("tmp_path") / "X.npy"
        np.save(path, X)
        source = open_source(path, chunk_bytes=CHUNK_ROWS * N * 8)
        assert source.n_chunks == 4
        obj = _prepare(source, y, sw, spec)
    elif backend == "parquet":
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        from vlogreg.data import open_source

        path = request.getfixturevalue("tmp_path") / "d.parquet"
        cols = {f"f{j}": X[:, j] for j in range(N)}
        pq.write_table(pa.table({**cols, "label": y}), path, row_group_size=CHUNK_ROWS)
        source = open_source(path, target="label")
        assert source.n_chunks == 4
        obj = _prepare(source, None, sw, spec)  # the labels are the file's column
    elif backend == "torch":
        torch = pytest.importorskip("torch")
        obj = _prepare(torch.from_numpy(X), y, sw, spec)
        assert obj._fused is None  # CPU tensors: the two products
    elif backend == "array_api_strict":
        xps = pytest.importorskip("array_api_strict")
        obj = _prepare(xps.asarray(X), y, sw, spec)
    elif backend == "triton":
        torch = pytest.importorskip("torch")
        with _env(VLOGREG_KERNEL="triton"):  # what a fit does with the kernel forced
            obj = _prepare(torch.from_numpy(X), y, sw, spec)
        assert obj._fused is not None
    else:
        raise AssertionError(backend)
    return obj


#: backend -> (the objective's class, the problems it runs on)
_BINARY = [p for p in PROBLEMS if p.n_classes == 2]
BACKENDS = {
    "numpy-C": (LogisticObjective, PROBLEMS),  # the reference's own construction
    "numpy-C-forced-numpy": (LogisticObjective, PROBLEMS),
    "numpy-C-numba": (LogisticObjective, PROBLEMS),  # multinomial: the K-column kernel
    "numpy-F": (LogisticObjective, PROBLEMS),
    "numpy-F-numba": (LogisticObjective, PROBLEMS),
    "csr": (LogisticObjective, PROBLEMS),
    "csr-numba": (LogisticObjective, _BINARY),
    "torch": (ArrayAPIObjective, PROBLEMS),
    "array_api_strict": (ArrayAPIObjective, PROBLEMS),
    "dask": (ChunkedObjective, REDUCED),
    "npy": (ChunkedObjective, REDUCED),
    "parquet": (ChunkedObjective, REDUCED),
}
if INTERPRETED:  # the child process (see test_triton_interpreter_contract)
    BACKENDS["triton"] = (ArrayAPIObjective, REDUCED)
#: the bounds depend on the weights, the intercept and K, not on the penalty's kind
BOUND_PROBLEMS = REDUCED


def _cases(problems_of=lambda probs: probs):
    return [pytest.param(b, p, id=f"{b}-{p.id}") for b, (_, probs) in BACKENDS.items()
            for p in problems_of(probs)]


def _bound_cases():
    return _cases(lambda probs: [p for p in BOUND_PROBLEMS if p in probs])


# ---------------------------------------------------------------------------- comparisons
def assert_close(got, want, what, rtol=RTOL):
    """``got == want`` to ``rtol``, entry by entry, with an absolute floor of ``rtol``
    times the quantity's scale (its largest entry).

    Why the floor: an entry near zero (a gradient component near a stationary point, a
    Hessian entry between nearly uncorrelated features) is a sum of terms of the
    quantity's scale that cancel; summed in another order (other chunks, blocks,
    threads, a device) it carries an absolute rounding error of about eps times that
    scale, which relative to the tiny entry itself can be anything."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    err = np.abs(got - want)
    ok = err <= rtol * np.abs(want) + rtol * scale
    if not np.all(ok):
        rel = float(np.max(err / np.maximum(np.abs(want), scale if scale > 0 else 1.0)))
        raise AssertionError(f"{what}: max relative difference {rel:.3e} > {rtol:g} "
                             f"(scale {scale:.3e}, max abs difference {err.max():.3e})")


def _rng_v(p, i):
    return np.random.default_rng(1000 + 10 * [*PROBLEMS, *REDUCED].index(p) + i)


# ---------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("backend,problem", _cases())
def test_objective_contract(backend, problem, request):
    cls = BACKENDS[backend][0]
    ref = reference(problem)
    obj = build(backend, problem, request)
    d = make_data(problem)

    # what it is, and the layout / strengths
    assert type(obj) is cls
    assert isinstance(obj, Objective)
    assert obj.layout == ref.layout
    for attr in ("m", "n", "k", "n_coef", "n_params", "multinomial", "fit_intercept"):
        assert getattr(obj, attr) == getattr(ref, attr), attr
    assert (obj.m, obj.n, obj.k) == (M, N, 1 if problem.n_classes == 2 else problem.n_classes)
    assert np.dtype(obj.dtype) == np.float64
    assert isinstance(obj.n_evals, int)
    for attr in ("S", "alpha", "l1"):
        assert_close(getattr(obj, attr), getattr(ref, attr), attr)
    assert (obj.alpha > 0) == (problem.penalty == "l2")
    assert (obj.l1 > 0) == (problem.penalty == "l1")
    zeros = obj.zeros()
    assert zeros.shape == (ref.n_params,) and not zeros.any()
    np.testing.assert_array_equal(obj.penalized_mask(), ref.penalized_mask())

    # the first evaluation at zero (Dask: the result folded into the setup's pass)
    f0, g0 = obj.value_and_grad(zeros)
    rf0, rg0 = ref.value_and_grad(zeros)
    assert_close(f0, rf0, "value_and_grad(0)[0]")
    assert_close(g0, rg0, "value_and_grad(0)[1]")

    for t, theta in enumerate(d.thetas):
        at = f"theta[{t}]"
        # layout round trip, and the same pieces as the reference's
        coef, intercept = obj.unpack(theta)
        rcoef, rintercept = ref.unpack(theta)
        np.testing.assert_array_equal(coef, rcoef)
        np.testing.assert_array_equal(intercept, rintercept)
        np.testing.assert_array_equal(obj.pack(coef, intercept), theta)

        # first order
        f, g = obj.value_and_grad(theta)
        rf, rg = ref.value_and_grad(theta)
        assert isinstance(f, float) and g.dtype == np.float64 and g.shape == theta.shape
        assert_close(f, rf, f"value_and_grad {at}")
        assert_close(g, rg, f"grad {at}")
        assert_close(obj.value(theta), f, f"value() vs value_and_grad {at}")
        assert_close(obj.grad(theta), g, f"grad() vs value_and_grad {at}")
        assert_close(obj.l1_value(theta), ref.l1_value(theta), f"l1_value {at}")
        if problem.penalty == "l2":
            assert obj.l1_value(theta) == 0.0

        # second order
        curv = obj.curvature(theta)
        for i in range(2):
            v = _rng_v(problem, 2 * t + i).standard_normal(ref.n_params)
            want = ref.hessp(theta, v)
            assert_close(obj.hessp(theta, v), want, f"hessp {at} v[{i}]")
            assert_close(obj.hessp(theta, v, curvature=curv), want,
                         f"hessp(curvature) {at} v[{i}]")
        H = ref.hessian(theta)
        assert_close(obj.hessian(theta), H, f"hessian {at}")
        assert_close(obj.hessian(theta, curvature=curv), H, f"hessian(curvature) {at}")

        assert bool(obj.separates(theta)) == bool(ref.separates(theta)), at

    # separable data: the generating parameters separate them; noisy data: nothing does
    assert bool(obj.separates(d.theta_gen)) is problem.separable

    # every read of X is counted, as its kind (tests/test_passes.py counts the rows)
    assert isinstance(obj.passes, Passes)
    theta = d.thetas[-1]
    for call, kind in [(obj.value_and_grad, "loss_grad"), (obj.hessian, "hessian"),
                       (obj.separates, "prediction")]:
        snap = obj.passes.snapshot()
        call(theta)
        got = obj.passes.since(snap)
        assert set(got) == {kind} and got[kind] >= 1, (kind, got)


@pytest.mark.parametrize("backend,problem", _bound_cases())
def test_hessian_bound_lipschitz_and_hints(backend, problem, request):
    ref = reference(problem)
    obj = build(backend, problem, request)
    p1 = N + (1 if problem.fit_intercept else 0)

    # dense bound: symmetric positive definite
    P = obj.hessian_bound()
    assert P.shape == (p1, p1) and np.all(np.isfinite(P))
    assert_close(P, P.T, "hessian_bound symmetric")
    assert np.linalg.eigvalsh(P).min() > 0
    # diagonal bound (p1 > max_dense): positive
    Pd = obj.hessian_bound(max_dense=1)
    assert Pd.shape == (p1,) and np.all(np.isfinite(Pd)) and np.all(Pd > 0)
    # a subsample (every backend strides or picks chunks its own way): still SPD
    Ps = obj.hessian_bound(max_rows=60)
    assert Ps.shape == (p1, p1) and np.all(np.isfinite(Ps))
    assert np.linalg.eigvalsh(Ps).min() > 0
    L = obj.lipschitz()
    assert np.isfinite(L) and L > 0
    Ls = obj.lipschitz(max_rows=60) if isinstance(obj, ChunkedObjective) else L
    assert np.isfinite(Ls) and Ls > 0

    # With the default max_rows (>= M) every backend reads every row: the in-memory bound
    # and estimate. (LogisticObjective: the same code; ArrayAPIObjective: the in-memory
    # code on its rows; ChunkedObjective: its subset is all chunks, each read whole, and
    # its power iterations are the in-memory ones.) The SPD ridge (1e-10 of the mean
    # diagonal) is added after alpha on every backend: before, the chunked bound's ridge
    # left alpha out, 5e-11 of the bound's scale at C = 0.01 (the C0.01 problem).
    assert_close(P, ref.hessian_bound(), "hessian_bound")
    assert_close(Pd, ref.hessian_bound(max_dense=1), "hessian_bound (diagonal)")
    assert_close(L, ref.lipschitz(), "lipschitz")

    # hints never change a result (Objective.expect)
    theta = make_data(problem).thetas[0]
    obj.expect("value_and_grad", theta)
    assert_close(obj.hessian_bound(), ref.hessian_bound(), "hessian_bound after expect")
    f, g = obj.value_and_grad(theta)
    rf, rg = ref.value_and_grad(theta)
    assert_close(f, rf, "value after expect")
    assert_close(g, rg, "grad after expect")
    obj.expect("hessian")
    theta = make_data(problem).thetas[1]
    f, g = obj.value_and_grad(theta)
    assert_close(f, ref.value(theta), "value with expect('hessian')")
    assert_close(g, ref.grad(theta), "grad with expect('hessian')")
    assert_close(obj.hessian(theta), ref.hessian(theta), "hessian with expect('hessian')")

    # the Hessian at theta sampled on the bound's rows (L-BFGS re-whitens with it): with
    # every row sampled, the Hessian itself, from hessian's own code; announced, it
    # comes with the pass of value_and_grad there (a chunked objective: no pass more)
    obj = build(backend, problem, request)
    theta = make_data(problem).thetas[2]
    if problem.n_classes > 2:
        with pytest.raises(ValueError, match="binary loss"):
            obj.hessian_bound(theta=theta)
        return
    H = ref.hessian(theta)
    assert_close(obj.hessian_bound(theta=theta, ridge=False), H, "hessian_bound(theta)")
    assert_close(obj.hessian_bound(theta=theta, max_dense=1, ridge=False), np.diag(H),
                 "hessian_bound(theta) (diagonal)")
    obj.expect("hessian_bound", theta)
    assert_close(obj.value_and_grad(theta)[1], ref.grad(theta), "grad with the sample")
    snap = obj.passes.snapshot()
    assert_close(obj.hessian_bound(theta=theta, ridge=False), H, "hessian_bound(theta) "
                 "after expect")
    if isinstance(obj, ChunkedObjective):
        assert obj.passes.since(snap) == {}


# ------------------------------------------------------------- Triton's interpreter (child)
@pytest.mark.skipif(INTERPRETED, reason="this is the child process")
def test_triton_interpreter_contract():
    """The contract on the fused Triton kernel (ArrayAPIObjective, kernel forced, CPU
    torch tensors), in a child pytest with TRITON_INTERPRET=1: Triton reads it when it
    is imported, and it would change the rest of this process's tests."""
    import importlib.util

    for mod in ("torch", "triton"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"the Triton kernel needs {mod}")
    env = dict(os.environ, TRITON_INTERPRET="1")
    env.pop("VLOGREG_KERNEL", None)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "triton-",
         os.path.abspath(__file__)],
        check=False, cwd=root, env=env, capture_output=True, text=True,
        timeout=600)
    out = proc.stdout[-8000:] + proc.stderr[-3000:]
    if proc.returncode == 5:  # no test collected: triton.language was not interpreted
        pytest.skip(f"Triton's interpreter is not available here: {out[-500:]}")
    assert proc.returncode == 0, out
    expected = 2 * len(REDUCED)  # the contract and the bounds, on the reduced grid
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) == expected and " failed" not in proc.stdout, out


# ---------------------------------------------------------------------------- oracles
def _direct(p, theta, spec_kw=None):
    """Loss and gradient of the mean objective written out here, from the definitions
    (softmax over K columns; the binary model as K = 2 with z = [0, z])."""
    d = make_data(p)
    spec = p.spec(**(spec_kw or {}))
    K = p.n_classes
    y_idx = np.searchsorted(LABELS[:K], d.y)
    counts = np.bincount(y_idx, minlength=K)
    s = np.ones(M) if d.sw is None else d.sw.copy()
    if spec.class_weight == "balanced":  # scikit-learn's own balanced weights
        cw = compute_class_weight("balanced", classes=np.arange(K), y=y_idx)
        np.testing.assert_allclose(cw, M / (K * counts))
        s = s * cw[y_idx]
    S = s.sum()
    strength = 0.0 if spec.penalty is None else 1.0 / (C * S)
    alpha = strength if spec.penalty == "l2" else 0.0
    l1 = strength if spec.penalty == "l1" else 0.0

    k = 1 if K == 2 else K
    nc = N * k
    W = theta[:nc].reshape(N, k)
    b = theta[nc:] if spec.fit_intercept else np.zeros(k)
    Z = d.X @ W + b
    if K == 2:
        Z = np.hstack([np.zeros((M, 1)), Z])
    Y = np.eye(K)[y_idx]
    loss = np.sum(s * (logsumexp(Z, axis=1) - np.sum(Y * Z, axis=1))) / S
    D = (np.exp(Z - logsumexp(Z, axis=1, keepdims=True)) - Y) * s[:, None] / S
    if K == 2:
        D = D[:, 1:]
    gW = d.X.T @ D + alpha * W
    g = np.concatenate([gW.ravel(), D.sum(axis=0) if spec.fit_intercept else []])
    value = loss + 0.5 * alpha * np.sum(W * W)
    return value, g, S, alpha, l1


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.id for p in PROBLEMS])
def test_oracle_reference_equals_the_definitions(problem):
    ref = reference(problem)
    for theta in [ref.zeros()] + make_data(problem).thetas:
        value, g, S, alpha, l1 = _direct(problem, theta)
        assert_close(ref.S, S, "S")
        assert_close(ref.alpha, alpha, "alpha")
        assert_close(ref.l1, l1, "l1")
        # a few ulps more than the backends' rtol: logsumexp is another formula
        assert_close(ref.value(theta), value, "value", rtol=1e-11)
        assert_close(ref.grad(theta), g, "grad", rtol=1e-11)
        assert_close(ref.l1_value(theta), l1 * np.abs(theta[:ref.n_coef]).sum(), "l1_value")
    # at zero every class is equally likely: log 2 / log K
    assert_close(ref.value(ref.zeros()), np.log(problem.n_classes), "value(0)")


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if not p.separable],
                         ids=[p.id for p in PROBLEMS if not p.separable])
def test_oracle_penalty_changes_only_its_own_terms(problem):
    # the L2 part is (alpha / 2) ||w||^2 in value, alpha w in grad, alpha I in the
    # Hessian's coefficient block; the L1 part is only l1 and l1_value
    ref = reference(problem)
    free = reference(problem, penalty=None)
    assert free.alpha == 0.0 and free.l1 == 0.0
    mask = ref.penalized_mask()
    strength = 1.0 / (C * ref.S)
    for theta in make_data(problem).thetas:
        w = np.where(mask, theta, 0.0)
        alpha = strength if problem.penalty == "l2" else 0.0
        assert_close(ref.value(theta), free.value(theta) + 0.5 * alpha * w @ w, "value")
        assert_close(ref.grad(theta), free.grad(theta) + alpha * w, "grad")
        assert_close(ref.hessian(theta), free.hessian(theta) + alpha * np.diag(mask * 1.0),
                     "hessian")
        want_l1 = strength * np.abs(w).sum() if problem.penalty == "l1" else 0.0
        assert_close(ref.l1_value(theta), want_l1, "l1_value")


@pytest.mark.parametrize("problem", REDUCED, ids=[p.id for p in REDUCED])
def test_oracle_derivatives_equal_finite_differences(problem):
    ref = reference(problem)
    rng = np.random.default_rng(7)
    for theta in make_data(problem).thetas[:2]:
        g = ref.grad(theta)
        # gradient: central differences of value, entry by entry
        fd = np.empty_like(g)
        for i in range(ref.n_params):
            e = np.zeros_like(theta)
            e[i] = FD_STEP
            fd[i] = (ref.value(theta + e) - ref.value(theta - e)) / (2 * FD_STEP)
        assert_close(g, fd, "grad vs finite differences", rtol=FD_RTOL)
        H = ref.hessian(theta)
        assert_close(H, H.T, "hessian symmetric")
        for _ in range(2):
            v = rng.standard_normal(ref.n_params)
            hv = ref.hessp(theta, v)
            # Hessian-vector product: central differences of grad along v
            fd = (ref.grad(theta + FD_STEP * v) - ref.grad(theta - FD_STEP * v)) / (2 * FD_STEP)
            assert_close(hv, fd, "hessp vs finite differences", rtol=FD_RTOL)
            assert_close(H @ v, hv, "hessian @ v vs hessp")
        # the Hessian of a convex objective: positive semi-definite
        assert np.linalg.eigvalsh(H).min() > -RTOL * np.abs(H).max()


@pytest.mark.parametrize("problem", [p for p in PROBLEMS if p.fit_intercept
                                     and not p.separable],
                         ids=[p.id for p in PROBLEMS if p.fit_intercept and not p.separable])
def test_oracle_intercept_is_a_column_of_ones(problem):
    """fit_intercept=True on X equals fit_intercept=False on [X, 1], except that the
    column's coefficient is penalized: its L2 term (alpha / 2) b^2 and L1 term l1 |b|
    are taken out here."""
    d = make_data(problem)
    with_b = reference(problem)
    X1 = np.hstack([d.X, np.ones((M, 1))])
    ones = _prepare(X1, d.y, d.sw, problem.spec(fit_intercept=False))
    assert with_b.S == ones.S and with_b.alpha == ones.alpha and with_b.l1 == ones.l1
    for theta in d.thetas:
        coef, b = with_b.unpack(theta)
        b = np.atleast_1d(b)
        # [X, 1]'s coefficients: X's, then the intercepts as the last row (n + 1, k)
        coef1 = np.vstack([np.reshape(coef, (N, -1)), b[None, :]])
        theta1 = ones.pack(coef1 if problem.n_classes > 2 else coef1[:, 0], 0.0)
        f1, g1 = ones.value_and_grad(theta1)
        f, g = with_b.value_and_grad(theta)
        assert_close(f, f1 - 0.5 * with_b.alpha * b @ b, "value")
        gcoef1, _ = ones.unpack(g1)
        gcoef1 = np.reshape(gcoef1, (N + 1, -1))
        gcoef, gb = with_b.unpack(g)
        assert_close(np.reshape(gcoef, (N, -1)), gcoef1[:N], "grad (coef)")
        assert_close(np.atleast_1d(gb), gcoef1[N] - with_b.alpha * b, "grad (intercept)")
        assert_close(with_b.l1_value(theta), ones.l1_value(theta1)
                     - with_b.l1 * np.abs(b).sum(), "l1_value")
