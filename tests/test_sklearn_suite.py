"""scikit-learn's own LogisticRegression tests pass on vlogreg's estimators.

The installed scikit-learn's ``linear_model/tests/test_logistic.py`` runs, in a fresh
interpreter, with ``LogisticRegression`` and ``LogisticRegressionCV`` imported from
vlogreg (``tests/_sklearn_suite.py``). Every test must pass (or skip for scikit-learn's
own reasons: no GPU library, float32 tests off), except those of ``XFAIL``, which must
fail: each has its reason, and one that starts passing fails here (strict xfail).
Skipped with the reason where the file cannot run (scikit-learn installed without its
tests, a test dependency missing, another scikit-learn minor version).
"""

from __future__ import annotations

import collections

import pytest

import _sklearn_suite as suite

SUBSTITUTED = """\
import numpy as np
from sklearn.linear_model import (LogisticRegression,
    SGDClassifier as SGD)

def f():
    from sklearn.linear_model import LogisticRegressionCV
    return 1
"""


def test_substitution_keeps_the_other_names_and_the_line_numbers():
    out = suite.substitute(SUBSTITUTED)
    lines = out.splitlines()
    assert len(lines) == len(SUBSTITUTED.splitlines())
    assert lines[1] == ("from sklearn.linear_model import SGDClassifier as SGD; "
                        "from vlogreg import LogisticRegression")
    assert lines[2] == ""
    assert lines[5] == "    from vlogreg import LogisticRegressionCV"
    namespace = {}
    exec(out, namespace)
    import vlogreg
    assert namespace["LogisticRegression"] is vlogreg.LogisticRegression
    with pytest.raises(suite.NotRunnable, match="does not import LogisticRegression"):
        suite.substitute("from sklearn.svm import LinearSVC\n")


def test_xfail_patterns_match_by_name_and_parameter_glob():
    assert suite.xfail_reason("test_check_solver_option[LogisticRegressionCV]")
    assert suite.xfail_reason("test_dtype_match[csr_array-True-liblinear]")
    assert suite.xfail_reason("test_dtype_match[csr_array-True-saga]") is None
    assert suite.xfail_reason("test_liblinear_dual_random_state[42]")
    assert suite.xfail_reason("test_nan") is None
    assert suite.unused_entries(["test_check_solver_option[x]"]) == \
        [k for k in suite.XFAIL if k != "test_check_solver_option"]


def test_scikit_learns_logistic_tests_pass_on_vlogreg(tmp_path):
    try:
        copy = suite.prepare(tmp_path)
    except suite.NotRunnable as exc:
        pytest.skip(f"scikit-learn's test_logistic.py cannot run: {exc}")
    code, outcomes, output = suite.run(copy)
    assert outcomes, f"no test ran (pytest exit code {code}):\n{output[-3000:]}"
    counts = collections.Counter(o.outcome for o in outcomes)
    failed = [o for o in outcomes if o.outcome == "failed"]
    if failed:  # the names first, then the first failures' tracebacks' ends
        pytest.fail(f"{len(failed)} of scikit-learn's tests fail on vlogreg "
                    f"({dict(counts)}); fix vlogreg, or add the test to XFAIL in "
                    f"tests/_sklearn_suite.py with its precise reason:\n"
                    + "\n".join(o.name for o in failed) + "\n\n"
                    + "\n\n".join(f"{o.name}\n{o.message}" for o in failed[:10]),
                    pytrace=False)
    assert code == 0, output[-3000:]
    stale = suite.unused_entries([o.name for o in outcomes])
    assert not stale, f"XFAIL entries that match no test of this scikit-learn: {stale}"
    assert counts["passed"] > counts["xfailed"], dict(counts)
    print(f"scikit-learn's test_logistic.py on vlogreg: {dict(counts)}")
