"""scikit-learn's own ``test_logistic.py``, run against vlogreg's estimators.

``prepare`` copies the installed scikit-learn's ``linear_model/tests/test_logistic.py``
into a temporary folder with its ``from sklearn.linear_model import LogisticRegression,
LogisticRegressionCV`` rewritten to import vlogreg's (line numbers kept, so tracebacks
point at scikit-learn's lines); ``run`` runs it with pytest in a fresh interpreter, with
scikit-learn's ``conftest.py`` loaded as a plugin (``-p sklearn.conftest``: its fixtures
such as ``global_random_seed``) and this module as a second plugin, which marks the tests
of ``XFAIL`` ``xfail(strict=True)`` and writes every test's outcome to a JSON file.
Nothing is written into site-packages, and vlogreg's own pytest settings (its
``filterwarnings``) do not apply: the tests run under scikit-learn's conditions.

``XFAIL`` is the list of scikit-learn tests that vlogreg legitimately does not pass,
each with its reason; strict, so that a test that starts passing is noticed. It was
triaged against scikit-learn ``TRIAGED_FOR``; on another minor version the harness
skips (its tests differ), unless ``VLOGREG_SKLEARN_SUITE=any``.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TRIAGED_FOR = "1.9"
OURS = ("LogisticRegression", "LogisticRegressionCV")
REPORT_ENV = "VLOGREG_SKLEARN_SUITE_REPORT"

# "name" (every parametrization of the test) or "name[glob]" (the parametrizations
# whose id matches the fnmatch glob) -> why vlogreg does not pass it
_LIBLINEAR = "scikit-learn's liblinear (its C code)"
_MORE = ("vlogreg's solvers accept more than scikit-learn's, and the test asserts the "
         "refusal: ")
XFAIL = {
    # ----------------------------------------------------- liblinear's own internals
    "test_dtype_match[*-liblinear]":
        f"{_LIBLINEAR} computes in float64 only, so scikit-learn returns float64 coef_ "
        "for float32 X; vlogreg keeps float32 for every solver name",
    "test_large_sparse_matrix[*-liblinear]":
        f"{_LIBLINEAR} refuses int64 sparse indices; vlogreg's kernels take them",
    "test_large_sparse_matrix[*-sag]":
        "scikit-learn's sag (Cython) refuses int64 sparse indices; vlogreg's solver "
        "behind 'sag' takes them",
    "test_large_sparse_matrix[*-saga]":
        "scikit-learn's saga (Cython) refuses int64 sparse indices; vlogreg's solver "
        "behind 'saga' takes them",
    "test_liblinear_with_large_values":
        f"{_LIBLINEAR} freezes when X.max() > 1e30, so scikit-learn refuses it; vlogreg "
        "fits such X",
    # -------------------------------------------------------- the dual formulation
    "test_liblinear_dual_random_state":
        "dual=True (liblinear's dual problem): vlogreg solves the primal only and says "
        "so with a one-line ValueError",
    "test_logisticregression_liblinear_sample_weight[*-params1]":
        "dual=True (liblinear's dual problem): vlogreg solves the primal only",
    "test_sample_and_class_weight_equivalence_liblinear":
        "dual=True (liblinear's dual problem): vlogreg solves the primal only",
    # ------------------------------------------ refusals of what vlogreg does fit
    "test_check_solver_option":
        _MORE + "'lbfgs', 'newton-cg', 'newton-cholesky' and 'sag' fit L1 and the elastic "
        "net, 'liblinear' fits multiclass problems (docs/solvers.md); its dual=True "
        "refusal is vlogreg's own one-line message",
    "test_liblinear_multiclass_raises":
        _MORE + "solver='liblinear' runs vlogreg's 'auto', which fits multiclass problems",
    "test_logisticregression_warns_with_n_jobs":
        "n_jobs has an effect in vlogreg (the threads of its loss+gradient kernel), so "
        "scikit-learn 1.9's FutureWarning that it has none would be false",
    # ------------------------------------------------ where each solver stops
    "test_scores_attribute_layout_elasticnet":
        "at the test's tol=1e-3, vlogreg's path (warm-started along C) and its fits "
        "from zero stop at different points below a gradient max-norm of 1e-3, and "
        "their mean scores differ by up to 1.7e-3 relative (the test allows 1e-3); at "
        "tol=1e-8 they agree to 4e-8 (tests/test_sklearn_users_code.py checks the "
        "layout there)",
    # ------------------------------------------- scikit-learn's private machinery
    "test_logistic_cv_multinomial_score":
        "passes vlogreg's get_params() to scikit-learn's private _log_reg_scoring_path, "
        "which does not take vlogreg's own parameters (learning_rate, callback, "
        "standardize)",
    "test_newton_cholesky_fallback_to_lbfgs":
        "compares n_iter_ with scikit-learn's newton-cholesky fallback to its lbfgs on a "
        "singular Hessian; vlogreg's 'newton' (behind 'newton-cholesky') damps its own "
        "steps and converges without falling back, in its own number of iterations",
    # ------------------------------------------ scikit-learn's experimental callbacks
    "test_logistic_regression_callback_support":
        "scikit-learn 1.9's experimental callback API (set_callbacks, sklearn.callback); "
        "vlogreg has its own callback= parameter",
    "test_logistic_regression_callback_fitted_estimator":
        "scikit-learn 1.9's experimental callback API (set_callbacks, sklearn.callback); "
        "vlogreg has its own callback= parameter",
    "test_logistic_regression_callback_support_warning":
        "scikit-learn 1.9's experimental callback API (set_callbacks, sklearn.callback); "
        "vlogreg has its own callback= parameter",
}


def xfail_reason(name):
    """The ``XFAIL`` reason for a test called ``name`` (``func`` or ``func[ids]``), or
    None."""
    func, _, ids = name.partition("[")
    ids = ids[:-1]
    for key, reason in XFAIL.items():
        kfunc, sep, glob = key.partition("[")
        if kfunc == func and (not sep or (ids and fnmatch.fnmatchcase(ids, glob[:-1]))):
            return reason
    return None


def unused_entries(names):
    """The ``XFAIL`` keys that match none of the test ``names`` (a stale list)."""
    out = []
    for key in XFAIL:
        kfunc, sep, glob = key.partition("[")
        if not any(n.partition("[")[0] == kfunc and (
                not sep or fnmatch.fnmatchcase(n.partition("[")[2][:-1], glob[:-1]))
                for n in names):
            out.append(key)
    return out


# ------------------------------------------------------------------ the copy
class NotRunnable(Exception):
    """Why scikit-learn's test file cannot run here (the test skips with it)."""


def source_file():
    """The installed scikit-learn's ``test_logistic.py`` and scikit-learn's version."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise NotRunnable("scikit-learn is not installed")
    import sklearn
    path = Path(list(spec.submodule_search_locations)[0]) / "linear_model" / "tests" / \
        "test_logistic.py"
    if not path.is_file():
        raise NotRunnable(f"scikit-learn {sklearn.__version__} was installed without its "
                          f"tests ({path} is missing)")
    return path, sklearn.__version__


def substitute(text):
    """``text`` with every ``from sklearn.linear_model import ...`` of ``OURS`` importing
    them from vlogreg instead (the other names still from scikit-learn), on the same
    line: the file keeps its line numbers."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    found = False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0
                and node.module == "sklearn.linear_model"):
            continue
        ours = [a for a in node.names if a.name in OURS]
        if not ours:
            continue
        found = True
        first = lines[node.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]

        def names(aliases):
            return ", ".join(a.name + (f" as {a.asname}" if a.asname else "")
                             for a in aliases)
        rest = [a for a in node.names if a.name not in OURS]
        stmt = (f"from sklearn.linear_model import {names(rest)}; " if rest else "") + \
            f"from vlogreg import {names(ours)}"
        lines[node.lineno - 1] = indent + stmt + "\n"
        for i in range(node.lineno, node.end_lineno):  # a multi-line import's rest
            lines[i] = "\n"
    if not found:
        raise NotRunnable("its test_logistic.py does not import LogisticRegression from "
                          "sklearn.linear_model, so vlogreg's cannot be substituted")
    return "".join(lines)


def check_imports(text):
    """Raise NotRunnable if an import of the file (other than vlogreg) or scikit-learn's
    conftest fails here (an optional test dependency missing, a moved private name)."""
    for node in ast.parse(text).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and \
                getattr(node, "module", None) != "vlogreg":
            try:
                exec(compile(ast.Module([node], []), "<test_logistic.py>", "exec"), {})
            except ImportError as exc:
                raise NotRunnable(f"its test_logistic.py cannot import here "
                                  f"({ast.unparse(node)[:80]}...: {exc})") from None
    try:
        importlib.import_module("sklearn.conftest")
    except ImportError as exc:
        raise NotRunnable(f"its conftest.py cannot be imported here ({exc})") from None


@dataclass
class Outcome:
    """One scikit-learn test's result: ``outcome`` is passed, failed, skipped or
    xfailed; ``message`` the first lines of a failure."""

    name: str
    outcome: str
    message: str = ""


def prepare(folder):
    """Write the substituted copy and an empty pytest.ini into ``folder``; return the
    copy's path. Raises NotRunnable (the caller skips) where it cannot run."""
    import sklearn
    path, version = source_file()
    minor = ".".join(version.split(".")[:2])
    if minor != TRIAGED_FOR and os.environ.get("VLOGREG_SKLEARN_SUITE") != "any":
        raise NotRunnable(f"XFAIL was triaged for scikit-learn {TRIAGED_FOR}, this is "
                          f"{sklearn.__version__} (VLOGREG_SKLEARN_SUITE=any runs it anyway)")
    text = substitute(path.read_text(encoding="utf-8"))
    check_imports(text)
    folder = Path(folder)
    (folder / "pytest.ini").write_text("[pytest]\n")  # not vlogreg's pytest settings
    copy = folder / "test_sklearn_logistic.py"
    copy.write_text(text, encoding="utf-8")
    return copy


def run(copy, timeout=1200):
    """Run the copy with pytest in a fresh interpreter: ``(returncode, [Outcome], output)``.

    The interpreter imports the vlogreg of this process and this module as a plugin;
    the caller's PYTEST_ADDOPTS and xdist variables are left out. Two
    pytest-xdist workers where it is installed (about a minute on 2 cores), else one.
    """
    import vlogreg
    here = Path(__file__).resolve().parent
    src = Path(vlogreg.__file__).resolve().parents[1]
    report = copy.parent / "outcomes.json"
    # not the caller's pytest options, nor its xdist worker's identity
    env = {k: v for k, v in os.environ.items()
           if k != "PYTEST_ADDOPTS" and not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))}
    # SCIPY_ARRAY_API=1: scikit-learn's array-API tests run (on NumPy, array-api-strict
    # and torch's CPU where installed) instead of skipping, as in scikit-learn's CI
    env.update(PYTHONPATH=os.pathsep.join([str(src), str(here), env.get("PYTHONPATH", "")]),
               MPLBACKEND="Agg", SCIPY_ARRAY_API="1", **{REPORT_ENV: str(report)},
               # no bytecode cache written next to scikit-learn's files (pytest's
               # assert-rewritten conftest): site-packages is left as it was
               PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-p", "sklearn.conftest", "-p", "_sklearn_suite", "-c", str(copy.parent /
           "pytest.ini"), "--rootdir", str(copy.parent), "-rfE", str(copy)]
    if importlib.util.find_spec("xdist") is not None:  # two workers where pytest-xdist is
        cmd[3:3] = ["-n", "2"]
    proc = subprocess.run(cmd, cwd=copy.parent, env=env, capture_output=True, text=True,
                          timeout=timeout)
    outcomes = [Outcome(**o) for o in json.loads(report.read_text())] \
        if report.exists() else []
    return proc.returncode, outcomes, proc.stdout + proc.stderr


# ------------------------------------------ the plugin (in the child interpreter)
_results = {}


def pytest_collection_modifyitems(config, items):
    import pytest

    import vlogreg
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.LogisticRegression is not \
                vlogreg.LogisticRegression:  # the substitution did not take
            raise pytest.UsageError(f"{module.__file__} tests scikit-learn's "
                                    f"LogisticRegression, not vlogreg's")
        reason = xfail_reason(item.name)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::", 1)[-1]
    previous = _results.get(name)
    if report.failed:
        outcome = "failed"
    elif hasattr(report, "wasxfail"):
        outcome = "xfailed"
    elif report.skipped:
        outcome = "skipped"
    elif report.when == "call":
        outcome = "passed"
    else:
        return
    if previous is None or previous.outcome in ("passed", "skipped", "xfailed"):
        message = "\n".join(str(report.longrepr).splitlines()[-12:]) if report.failed \
            else ""
        _results[name] = Outcome(name, outcome, message)


def pytest_sessionfinish(session):
    path = os.environ.get(REPORT_ENV)
    if path and not hasattr(session.config, "workerinput"):  # the controller writes
        Path(path).write_text(json.dumps([vars(o) for o in _results.values()]))
