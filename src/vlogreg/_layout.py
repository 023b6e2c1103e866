"""``ParamLayout``: how the coefficients and intercepts pack into the flat vector theta.

Every solver works on one flat float64 vector ``theta`` of length ``n_params``::

    binary (k = 1):       theta = [w_0, ..., w_{n-1}, b]                 (b if fit_intercept)
    multinomial (k = K):  theta = [W.ravel(), b_0, ..., b_{K-1}]         W of shape (n, K),
                                                                          row-major: index j K + c

The estimator's attributes have another shape: ``coef_`` is (1, n) or (K, n) and
``intercept_`` is (1,) or (K,). This module is the one place that knows both, so the
objectives, the solvers, the backends, inference and the estimator cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParamLayout:
    """The layout of theta for ``n`` features and ``n_classes`` classes.

    Parameters
    ----------
    n : int
        Features.
    n_classes : int
        2 for the binary (sigmoid) model: one coefficient vector; K >= 3 for the
        multinomial (softmax) model: K of them.
    fit_intercept : bool
        Whether theta ends with the intercept(s).
    """

    n: int
    n_classes: int = 2
    fit_intercept: bool = True

    @property
    def multinomial(self) -> bool:
        return self.n_classes > 2

    @property
    def k(self) -> int:
        """Coefficient vectors: 1 (binary) or K (multinomial)."""
        return self.n_classes if self.multinomial else 1

    @property
    def n_coef(self) -> int:
        """Entries of theta that are coefficients (penalized): ``n k``."""
        return self.n * self.k

    @property
    def n_params(self) -> int:
        """Length of theta: ``n k`` plus ``k`` intercepts when fitted."""
        return self.n_coef + (self.k if self.fit_intercept else 0)

    @property
    def p1(self) -> int:
        """Parameters per class: ``n + 1`` with an intercept, else ``n``."""
        return self.n + (1 if self.fit_intercept else 0)

    # ------------------------------------------------------------------ theta
    def zeros(self) -> np.ndarray:
        return np.zeros(self.n_params)

    def unpack(self, theta):
        """``(coef, intercept)``: coef (n,) or (n, K); intercept a float or (K,).

        Views of theta where possible (no copy); without intercept it is 0 / zeros(K).
        """
        theta = np.asarray(theta)
        coef = theta[: self.n_coef]
        if self.multinomial:
            coef = coef.reshape(self.n, self.k)
        if self.fit_intercept:
            b = theta[self.n_coef:]
            intercept = b if self.multinomial else b[0]
        else:
            intercept = np.zeros(self.k) if self.multinomial else 0.0
        return coef, intercept

    def pack(self, coef, intercept) -> np.ndarray:
        """Inverse of ``unpack``: a flat float64 vector."""
        parts = [np.asarray(coef, dtype=np.float64).ravel()]
        if self.fit_intercept:
            parts.append(np.atleast_1d(np.asarray(intercept, dtype=np.float64)).ravel())
        return np.concatenate(parts)

    def coef_part(self, theta) -> np.ndarray:
        """The coefficients of theta, flat (n k,) (a view)."""
        return np.asarray(theta)[: self.n_coef]

    def join(self, dw, db) -> np.ndarray:
        """Flat gradient from its coef part ``dw`` (n,) / (n, K) and intercept part ``db``."""
        if self.fit_intercept:
            return np.concatenate([np.ravel(dw), np.atleast_1d(db).ravel()])
        return np.ravel(dw)

    def penalized_mask(self) -> np.ndarray:
        """Boolean mask over theta: True for the coefficients, False for intercepts."""
        mask = np.zeros(self.n_params, dtype=bool)
        mask[: self.n_coef] = True
        return mask

    def class_index(self) -> np.ndarray:
        """``idx`` (k, p1): theta's index of class c's features, then its intercept.

        ``theta[idx[c]]`` is the parameter vector ``[w_c, b_c]`` of class c; Hessian
        blocks per class and per-class preconditioners are placed with it.
        """
        idx = np.empty((self.k, self.p1), dtype=np.intp)
        for c in range(self.k):
            idx[c, :self.n] = np.arange(self.n) * self.k + c
            if self.fit_intercept:
                idx[c, self.n] = self.n_coef + c
        return idx

    # ---------------------------------------------- the estimator's attributes
    def to_attributes(self, theta, dtype=np.float64, *, center_coef=False):
        """``(coef_, intercept_)`` of shapes (k, n) and (k,) from theta.

        The multinomial solution is reported centred (softmax is unchanged by adding a
        constant to every class): intercepts of mean 0, as scikit-learn does, and with
        ``center_coef`` (an unpenalized fit, whose optimum is a whole line of solutions)
        each feature's coefficients too: the minimum-norm solution.
        """
        coef, intercept = self.unpack(theta)
        if self.multinomial:
            intercept = np.asarray(intercept, dtype=np.float64)
            intercept = intercept - intercept.mean()
            if center_coef:
                coef = coef - coef.mean(axis=1, keepdims=True)
            return (np.ascontiguousarray(np.asarray(coef).T, dtype=dtype),
                    np.asarray(intercept, dtype=dtype))
        return (np.asarray(coef, dtype=dtype).reshape(1, -1),
                np.asarray([intercept], dtype=dtype))

    def from_attributes(self, coef_, intercept_) -> np.ndarray:
        """theta from ``coef_`` (k, n) and ``intercept_`` (k,)."""
        coef_, intercept_ = np.asarray(coef_), np.asarray(intercept_)
        if self.multinomial:
            return self.pack(coef_.T, intercept_)
        return self.pack(coef_[0], intercept_[0])
