"""``FitSpec``: what a fit asks of the data, as plain values (no estimator inside).

The estimator builds one from its parameters and hands it to a backend, which builds
the objective from it; a backend never reads the estimator. ``strengths`` is the one
place where ``C``, the penalty and the total sample weight become the strengths of the
mean objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FitSpec:
    """The fit's hyper-parameters that shape the objective.

    Attributes
    ----------
    penalty : {"l2", "l1", "elasticnet", None}
    C : float
        Inverse penalty strength (``inf``: no penalty).
    l1_ratio : float or None
        L1's share of the elastic net.
    fit_intercept : bool
    class_weight : None, "balanced" or dict {label: weight}
    solver : str
        The solver asked for ("auto" or a name); a backend that folds the solver's
        first requests into its setup pass (Dask) needs it.
    zero_start : bool
        Whether the solver starts at theta = 0 (not a warm start).
    estimator : str
        The estimator's name, for error messages.
    standardize : bool
        Fit on columns scaled to unit variance (centred with an intercept); the backend
        computes the scales in its validation pass (``vlogreg._scaling``).
    """

    penalty: str | None = "l2"
    C: float = 1.0
    l1_ratio: float | None = None
    fit_intercept: bool = True
    class_weight: object = None
    solver: str = "auto"
    zero_start: bool = True
    estimator: str = "LogisticRegression"
    standardize: bool = False

    def strengths(self, S):
        """``(alpha, l1)`` of the mean objective for the total sample weight ``S``.

        ``C sum_i s_i loss_i + penalty(w)`` divided by ``C S``: the L2 part becomes
        ``(alpha / 2) ||w||^2`` and the L1 part ``l1 ||w||_1``.
        """
        if self.penalty is None or np.isinf(self.C):
            return 0.0, 0.0
        scale = 1.0 / (self.C * S)
        if self.penalty == "l2":
            return scale, 0.0
        if self.penalty == "l1":
            return 0.0, scale
        return (1.0 - self.l1_ratio) * scale, self.l1_ratio * scale

    @property
    def has_l1(self) -> bool:
        return self.strengths(1.0)[1] > 0
