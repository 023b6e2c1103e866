"""Benchmark problems: data, penalty and the common objective they are judged on.

Every problem is judged on scikit-learn's objective ``C sum_i loss_i + ||w||^2 / 2``
(or without the penalty), evaluated in float64 by ``objective_value``, whatever
library produced the coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..objective.logistic import LogisticObjective


@dataclass
class Problem:
    """A data set with its penalty. ``X`` (m, n) float32/float64 or CSR, ``y`` in {0, 1}
    (binary) or class indices (multinomial)."""
    name: str
    X: object
    y: np.ndarray
    C: float = 1.0
    penalty: object = "l2"
    tags: set = field(default_factory=set)

    @property
    def n_classes(self):
        return int(self.y.max()) + 1

    @property
    def describe(self):
        m, n = self.X.shape
        kind = "CSR" if sp.issparse(self.X) else "dense"
        pen = "no penalty" if self.penalty is None else f"{self.penalty}, C={self.C:g}"
        return f"{m:,} x {n:,} {kind} {np.dtype(self.X.dtype).name}, {pen}"


def objective_value(problem, coef, intercept):
    """The problem's objective at (coef, intercept), divided by ``C * m`` (float64).

    coef : (n,) binary or (n, K) multinomial; intercept : float or (K,)
    """
    m = problem.X.shape[0]
    alpha = 0.0 if problem.penalty is None else 1.0 / (problem.C * m)
    obj = LogisticObjective(problem.X, problem.y, alpha=alpha, n_classes=max(2, problem.n_classes))
    return obj.loss(np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64))


def _classification(m, n, dtype, seed=0, n_informative=None, n_redundant=2):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=m, n_features=n,
                               n_informative=n_informative or max(2, n // 2),
                               n_redundant=n_redundant, random_state=seed)
    return np.ascontiguousarray(X, dtype=dtype), y.astype(np.int64)


def dense(m=1_000_000, n=100, dtype=np.float64, C=1.0, penalty="l2"):
    # unpenalized: no redundant (collinear) columns, or the optimum is not unique
    X, y = _classification(m, n, dtype, n_redundant=2 if penalty is not None else 0)
    name = f"dense {m // 1000}k x {n} {np.dtype(dtype).name}"
    if penalty is None:
        name += " unpenalized"
    return Problem(name, X, y, C=C, penalty=penalty, tags={"dense"})


def easy(m=1_000_000, n=100, dtype=np.float64, seed=0):
    """Well-conditioned logistic data: standard normal features, coefficients
    N(0, 1/n), labels drawn from the model (issue 21's problem: a fit's cost is then
    its reads of X, as few iterations are needed)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    w = rng.normal(0.0, 1.0 / np.sqrt(n), n)
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(np.int64)
    return Problem(f"easy dense {m // 1000}k x {n} {np.dtype(dtype).name}", X, y,
                   tags={"dense"})


def tall(m=10_000_000, n=28, dtype=np.float32):
    """HIGGS-like: many rows, few features (generated in pieces to bound memory)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal(n)
    X = np.empty((m, n), dtype=dtype)
    y = np.empty(m, dtype=np.int64)
    step = 1_000_000
    for r0 in range(0, m, step):
        r1 = min(m, r0 + step)
        Xi = rng.standard_normal((r1 - r0, n))
        z = Xi @ w * 0.5 + rng.logistic(size=r1 - r0)
        X[r0:r1] = Xi
        y[r0:r1] = z > 0
    return Problem(f"tall {m // 1_000_000}M x {n} {np.dtype(dtype).name}", X, y,
                   tags={"dense"})


def sparse_text(m=1_000_000, n=100_000, density=1e-4, seed=0, n_classes=2):
    """Text-like CSR: Zipf-distributed columns, tf-style values, a sparse true model
    (``n_classes > 2``: one per class, ``y = argmax(X W + Gumbel noise)``)."""
    rng = np.random.default_rng(seed)
    nnz_row = max(1, int(round(n * density)))
    ranks = np.arange(1, n + 1)
    p = 1.0 / ranks
    p /= p.sum()
    indices = rng.choice(n, size=m * nnz_row, p=p).astype(np.int32)
    indptr = np.arange(0, m * nnz_row + 1, nnz_row, dtype=np.int64)
    data = (1.0 + rng.poisson(0.5, size=m * nnz_row)).astype(np.float64)
    X = sp.csr_matrix((data, indices, indptr), shape=(m, n))
    X.sum_duplicates()
    name = f"sparse {m // 1000}k x {n // 1000}k, density {density:g}"
    if n_classes > 2:
        W = rng.standard_normal((n, n_classes)) * (rng.random((n, n_classes)) < 0.05)
        y = np.asarray(X @ W + rng.gumbel(size=(m, n_classes))).argmax(axis=1)
        return Problem(f"{name}, {n_classes} classes", X, y.astype(np.int64),
                       tags={"sparse", "multinomial"})
    w = rng.standard_normal(n) * (rng.random(n) < 0.05)
    y = ((X @ w) + rng.logistic(size=m) > 0).astype(np.int64)
    return Problem(name, X, y, tags={"sparse"})


def breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return Problem("breast cancer 569 x 30 (standardized)",
                   StandardScaler().fit_transform(X), y.astype(np.int64), tags={"small"})


def digits():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    return Problem("digits 1797 x 64, 10 classes (standardized)",
                   StandardScaler().fit_transform(X), y.astype(np.int64),
                   tags={"small", "multinomial"})


def full_set():
    """The problems of docs/benchmarks.md (several GB of memory; minutes to generate)."""
    return [lambda: dense(dtype=np.float64), lambda: dense(dtype=np.float32),
            lambda: easy(), lambda: dense(m=200_000, n=100, penalty=None), lambda: tall(),
            lambda: sparse_text(), breast_cancer, digits]


def small_set():
    """What ``vlogreg bench peers`` runs: small enough for under 2 minutes."""
    return [breast_cancer, digits, lambda: dense(m=100_000, n=100, dtype=np.float64),
            lambda: dense(m=100_000, n=100, dtype=np.float32)]
