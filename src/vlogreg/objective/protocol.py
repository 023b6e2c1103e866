"""The ``Objective`` protocol: every member a solver may use, with shapes and meaning.

A solver sees the data only through an objective: the fixed data (X, the class indices
y, the weights s, the penalty strengths) are inside it, and the solver passes flat
parameter vectors ``theta`` (float64 NumPy, length ``n_params``, laid out by
``layout``: see ``vlogreg._layout.ParamLayout``). The smooth objective is

    J(theta) = (1/S) sum_i s_i loss_i(z_i)  +  (alpha / 2) ||w||^2,    z = X w + b

with the binary log-loss (k = 1) or the multinomial one (k = K classes); an L1 part
``l1 ||w||_1`` is not in J (it is not smooth) and is left to the solvers.

Implementations: ``LogisticObjective`` (NumPy / SciPy in memory), ``ChunkedObjective``
(row chunks: Dask, files on disk) and ``ArrayAPIObjective`` (torch, CuPy, ...). One
contract test (tests/test_objective_contract.py) checks that all of them give the same
numbers on the same data.

Designed for what comes next: an objective of several models at once (cross-validation
folds, a path of C) keeps this protocol: theta then concatenates the models' vectors
(its ``layout`` says how), each model with its own row mask and penalty, and one read
of X evaluates them all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .._layout import ParamLayout
from .passes import Passes

#: ``hessian_bound``'s defaults: rows sampled, and the largest dense bound (beyond it
#: the bound is diagonal). Shared by the solvers that call it and by a backend that
#: computes the bound ahead of the call (Dask's setup pass).
BOUND_MAX_ROWS = 32768
BOUND_MAX_DENSE = 1000


@runtime_checkable
class Objective(Protocol):
    """What every solver may ask of the data.

    Attributes
    ----------
    layout : ParamLayout
        How theta packs ``coef`` (n,) / (n, K) and the intercept(s).
    m, n : int
        Examples and features.
    k : int
        1 (binary) or K (multinomial): coefficient vectors.
    multinomial, fit_intercept : bool
    n_coef, n_params : int
        ``n k`` coefficients; the length of theta.
    dtype : numpy dtype
        X's float dtype (float32 or float64): what rounding the solvers can expect.
    alpha, l1 : float
        L2 strength (inside J) and L1 strength (outside J) of the mean objective.
    S : float
        Total weight ``sum_i s_i``.
    n_evals : int
        Passes over X made so far (loss, gradient, Hessian products), for the record.
    passes : Passes
        Every read of X so far, by kind (``objective.passes``), a row subsample
        counting its share: the fit's cost in reads of X.
    """

    layout: ParamLayout
    m: int
    n: int
    k: int
    multinomial: bool
    fit_intercept: bool
    n_coef: int
    n_params: int
    dtype: np.dtype
    alpha: float
    l1: float
    S: float
    n_evals: int
    passes: Passes

    # ---------------------------------------------------------- layout
    def zeros(self) -> np.ndarray:
        """theta = 0, (n_params,)."""

    def pack(self, coef, intercept) -> np.ndarray:
        """Flat theta from coef (n,) / (n, K) and intercept (float / (K,))."""

    def unpack(self, theta):
        """``(coef, intercept)`` of theta."""

    def penalized_mask(self) -> np.ndarray:
        """Boolean (n_params,): True on the coefficients, False on the intercepts."""

    def l1_value(self, theta) -> float:
        """``l1 ||w||_1`` (intercepts not penalized)."""

    # ---------------------------------------------------------- first order
    def value_and_grad(self, theta):
        """``(J(theta), grad J(theta))``: float and (n_params,) float64, ONE read of X:
        ``dz = s (a - y) / S``, ``dw = X^T dz + alpha w``, ``db = sum dz``."""

    def value(self, theta) -> float:
        """``J(theta)`` alone (one read of X)."""

    def grad(self, theta) -> np.ndarray:
        """``grad J(theta)``."""

    # ---------------------------------------------------------- second order
    def curvature(self, theta):
        """What ``hessp`` / ``hessian`` need at theta, computed once for many products:
        binary ``(h, None)`` with ``h = s a (1 - a) / S``; multinomial ``(A, s / S)``.
        Opaque to the solvers (a chunked objective returns theta itself)."""

    def hessp(self, theta, v, curvature=None) -> np.ndarray:
        """``H(theta) v`` (n_params,): ``X~^T (h * (X~ v)) + alpha v_w``, one read of X."""

    def hessian(self, theta, curvature=None) -> np.ndarray:
        """The full Hessian (n_params, n_params) in theta's layout, one read of X."""

    def hessian_bound(self, max_rows=BOUND_MAX_ROWS, max_dense=BOUND_MAX_DENSE, ridge=True,
                      theta=None):
        """A cheap SPD bound of the Hessian for preconditioning: the Gram matrix of a
        row subsample times 1/4 (1/2 multinomial) plus alpha; (p1, p1), or its diagonal
        (p1,) when ``p1 = n + fit_intercept > max_dense``. ``ridge=False`` leaves out
        ``secondorder.spd_ridge`` (for a wrapper that maps the bound first). ``theta``
        (binary loss): the Hessian at theta from the same rows, their curvature
        ``a (1 - a)`` in place of 1/4 (announced by ``expect("hessian_bound", theta)``,
        a chunked objective computes it in the pass of ``value_and_grad(theta)``)."""

    def lipschitz(self, n_iter=8, seed=0) -> float:
        """An estimate of the gradient's Lipschitz constant (power iterations)."""

    def separating_columns(self) -> list:
        """Indices of the columns that separate the classes by themselves (the classes'
        ranges of x_j do not overlap), for the SeparationWarning; ``[]`` where the
        objective cannot tell in one pass (chunked data)."""

    def separates(self, theta) -> bool:
        """True when theta classifies every example with a margin (one read of X): an
        unpenalized fit then has no finite optimum."""

    # ---------------------------------------------------------- hints
    def expect(self, op, theta=None) -> None:
        """The solver's next request, announced so that an objective whose passes are
        costly (chunked data) can fold it into the pass it makes now.

        ``expect("value_and_grad", theta)``: the next ``value_and_grad`` is at theta
        (L-BFGS, just before ``hessian_bound()``). ``expect("hessian_bound", theta)``:
        ``hessian_bound(theta=theta)`` follows the next ``value_and_grad(theta)``
        (L-BFGS after its first step). ``expect("hessian")``: from now on
        every ``value_and_grad`` will be followed by ``hessian`` at the same point
        (Newton with a dense Hessian). In-memory objectives ignore hints; a hint never
        changes a result, only the number of passes.
        """
