"""The benchmark runner's reads-of-X columns (no time is asserted: only how the figures
relate to each other and to a fit's own count)."""

from __future__ import annotations

import numpy as np
import pytest

from vlogreg import LogisticRegression
from vlogreg.bench import runner
from vlogreg.bench.problems import easy
from vlogreg.bench.runner import format_table, run_problem


def test_run_problem_reports_time_in_reads_and_counted_passes(monkeypatch):
    monkeypatch.setattr(runner, "PAUSE", 0.0)
    problem = easy(m=3000, n=8)
    out = run_problem(problem, labels=["vlogreg lbfgs", "sklearn lbfgs"], targets=(1e-5,),
                      repeat=2, log=lambda s: None)
    assert out["read_seconds"] > 0
    res = out["results"][1e-5]
    for label, r in res.items():
        assert r["reads"] == pytest.approx(r["seconds"] / out["read_seconds"])
    assert res["sklearn lbfgs"]["n_passes"] is None  # a peer counts nothing
    v = res["vlogreg lbfgs"]
    # the count is the fit's own: the same fit again gives the same n_passes_
    clf = LogisticRegression(C=1.0, l1_ratio=0.0, solver="lbfgs", tol=v["tol"],
                             max_iter=10_000).fit(problem.X, problem.y)
    assert v["n_passes"] == clf.n_passes_ and v["n_iter"] == clf.n_iter_[0]
    table = format_table(problem, out, 1e-5)
    assert "| in reads of X | reads counted |" in table
    row = next(line for line in table.splitlines() if line.startswith("| vlogreg lbfgs"))
    assert f"| {v['n_passes']:.1f} |" in row and f"| {v['reads']:.1f} |" in row


def test_easy_problem_is_the_model_it_says():
    p = easy(m=200_000, n=10, seed=3)
    assert p.X.dtype == np.float64 and set(np.unique(p.y)) == {0, 1}
    np.testing.assert_allclose(p.X.mean(axis=0), 0, atol=0.01)
    np.testing.assert_allclose(p.X.std(axis=0), 1, atol=0.01)
