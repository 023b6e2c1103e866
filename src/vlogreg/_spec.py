"""``FitSpec``: what a fit asks of the data, as plain values (no estimator inside).

The estimator builds one from its parameters and hands it to a backend, which builds
the objective from it; a backend never reads the estimator. ``strengths`` is the one
place where ``C``, the penalty and the total sample weight become the strengths of the
mean objective.
"""

from __future__ import annotations

import math
import os
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
    n_jobs : int or None
        Threads of the in-memory and out-of-core kernels (None: the default, all cores
        for large X; -1 all cores, -2 all but one, as in scikit-learn).
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
    n_jobs: int | None = None
    estimator: str = "LogisticRegression"
    standardize: bool = False

    def strengths(self, S, exp2=0):
        """``(alpha, l1)`` of the mean objective for the total sample weight
        ``S * 2**exp2`` (``exp2``: the power of two ``_labels.scaled_weights`` took out).

        ``C sum_i s_i loss_i + penalty(w)`` divided by ``C S``: the L2 part becomes
        ``(alpha / 2) ||w||^2`` and the L1 part ``l1 ||w||_1``. ``1 / (C S)`` is formed
        from the mantissas and exponents of C and S, so that neither ``C S`` underflowing
        nor S overflowing gives inf or NaN; where the strength itself is beyond float64
        (C = 5e-324), a one-line ValueError says so.
        """
        if self.penalty is None or np.isinf(self.C):
            return 0.0, 0.0
        (mc, ec), (ms, es) = math.frexp(float(self.C)), math.frexp(float(S))
        try:  # equal to 1.0 / (C * S) wherever that does not over- or underflow
            scale = math.ldexp(1.0 / (mc * ms), -(ec + es + exp2))
        except OverflowError:
            raise ValueError(
                f"{self.estimator}: C={self.C!r} with sample weights summing to "
                f"{ms:.3g}*2**{es + exp2} makes the penalty strength 1 / (C * "
                f"sum(sample_weight)) larger than float64 holds; raise C or the weights "
                f"(only their product matters).") from None
        if self.penalty == "l2":
            return scale, 0.0
        if self.penalty == "l1":
            return 0.0, scale
        return (1.0 - self.l1_ratio) * scale, self.l1_ratio * scale

    @property
    def has_l1(self) -> bool:
        return self.strengths(1.0)[1] > 0


def resolve_penalty(penalty, C, l1_ratio):
    """The penalty a fit uses, by scikit-learn 1.9's rules (warnings are the estimator's).

    ``penalty="deprecated"`` (the default): ``l1_ratio`` decides, 0 (or None) is "l2",
    1 is "l1", between is "elasticnet", and ``C = inf`` is no penalty (None). An explicit
    ``penalty`` (deprecated, still honoured) wins over ``l1_ratio``.
    """
    if penalty != "deprecated":
        return penalty
    if C == np.inf:
        return None
    if l1_ratio is None or l1_ratio == 0:
        return "l2"
    return "l1" if l1_ratio == 1 else "elasticnet"


def n_threads(n_jobs):
    """Threads for ``n_jobs`` (scikit-learn's convention), None for the default."""
    if n_jobs is None:
        return None
    cores = os.cpu_count() or 1
    return int(n_jobs) if n_jobs > 0 else max(1, cores + 1 + int(n_jobs))
