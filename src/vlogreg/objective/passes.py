"""``Passes``: how many times a fit read X, by kind, so that its cost can be stated in
reads of X (a fit's floor is its passes times one read).

A pass over all m rows counts 1; a pass over a row subsample counts its share
``rows / m`` (the preconditioner's bound reads 32768 strided rows: 0.033 of 1M rows).
Every objective owns one ``Passes`` (``objective.passes``) and adds to it wherever it
reads X; the backend adds its validation pass; the solvers report what they spent
(``SolverResult.n_passes``) and the estimator the whole fit (``n_passes_``).

Kinds:

- ``validation``: the finiteness / scale checks (and column moments) before the solver;
- ``loss_grad``: the loss and gradient (``value_and_grad``, one fused read);
- ``loss``: the loss alone (``value``);
- ``hessp``: a Hessian-vector product; ``curvature``: ``X theta`` for the curvature
  of many products; ``hessian``: the full Hessian (its curvature in the same read);
- ``bound``: the preconditioner's Gram bound and the power iterations of ``lipschitz``;
- ``prediction``: ``X theta`` alone (the separation test, a decision function).
"""

from __future__ import annotations

KINDS = ("validation", "loss_grad", "loss", "hessp", "curvature", "hessian", "bound",
         "prediction")


class Passes:
    """Reads of X by kind (floats: a subsample counts its share of the rows)."""

    def __init__(self):
        self.counts = dict.fromkeys(KINDS, 0.0)

    def add(self, kind, reads=1.0):
        """Record ``reads`` passes of ``kind`` (one of ``KINDS``)."""
        if kind not in self.counts:
            raise ValueError(f"unknown kind of pass {kind!r}; one of {KINDS}")
        self.counts[kind] += float(reads)

    @property
    def total(self) -> float:
        """All reads of X so far."""
        return float(sum(self.counts.values()))

    def snapshot(self) -> dict:
        """The counts now (a copy), for ``since``."""
        return dict(self.counts)

    def since(self, snapshot) -> dict:
        """The reads made after ``snapshot``, by kind (kinds with none left out)."""
        return {k: v - snapshot.get(k, 0.0) for k, v in self.counts.items()
                if v - snapshot.get(k, 0.0) > 0}

    def __repr__(self):
        parts = ", ".join(f"{k}={v:g}" for k, v in self.counts.items() if v)
        return f"Passes(total={self.total:g}{', ' if parts else ''}{parts})"


def passes_of(objective):
    """The objective's ``Passes``, or None for an objective that keeps no count."""
    p = getattr(objective, "passes", None)
    return p if isinstance(p, Passes) else None
