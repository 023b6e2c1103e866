"""No silent waits (issue 18, item 7): ``--version`` and ``--help`` answer without
loading the numeric stack, a long read says what it reads and how fast, and the
progress bar ends at the iteration where the fit really ended.

Every command runs as ``python -m vlogreg`` in a subprocess, as a user runs it.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pyarrow")

#: what ``--version`` / ``--help`` must not import: the numeric stack and the estimator
HEAVY = ("numpy", "scipy", "sklearn", "pandas", "pyarrow", "matplotlib", "numba",
         "vlogreg._estimator", "vlogreg.io", "vlogreg.data")

HELP_CALLS = [["--version"], ["--help"], ["train", "--help"], ["predict", "--help"],
              ["evaluate", "--help"], ["inspect", "--help"], ["demo", "--help"],
              ["bench", "--help"], ["bench", "loops", "--help"], ["bench", "peers", "--help"]]


def _imported(args):
    """The modules ``python -X importtime -m vlogreg ARGS`` imported, and its stdout."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "vlogreg", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return names, proc.stdout


@pytest.mark.parametrize("args", HELP_CALLS, ids=" ".join)
def test_help_and_version_leave_the_numeric_stack_unloaded(args):
    names, out = _imported(args)
    assert "vlogreg" in names  # the parse really ran in this interpreter
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY or
                   any(n == h or n.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"vlogreg {' '.join(args)} imported {heavy[:8]}"
    assert ("vlogreg 0." in out) if args == ["--version"] else ("usage: vlogreg" in out)


def test_package_names_still_resolve_on_first_use():
    code = ("import sys, vlogreg; assert 'numpy' not in sys.modules; "
            "m = vlogreg.LogisticRegression(); import vlogreg.course; "
            "assert vlogreg.course.sigmoid is not None and vlogreg.load and vlogreg.save; "
            "assert set(vlogreg.__all__) <= set(dir(vlogreg)); "
            "assert vlogreg.io.read_model_file and vlogreg.solvers.SOLVERS; "
            "print(type(m).__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "LogisticRegression"
    proc = subprocess.run([sys.executable, "-c", "import vlogreg; vlogreg.nothing"],
                          capture_output=True, text=True, timeout=120)
    assert "has no attribute 'nothing'" in proc.stderr


# ---------------------------------------------------------------- while it works
@pytest.fixture(scope="module")
def table(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer

    d = tmp_path_factory.mktemp("waits")
    data = load_breast_cancer()
    header = ",".join(f"f{j}" for j in range(data.data.shape[1])) + ",y"
    rows = np.column_stack([data.data, data.target])
    np.savetxt(d / "cancer.csv", rows, delimiter=",", header=header, comments="",
               fmt="%.10g")
    return d


def _env(**extra):
    return dict(os.environ, **extra)


def test_a_read_says_what_it_reads_and_how_fast(table):
    """With the status delay at 0 every read is announced; the size and rows are the
    file's own (rows counted here, size from the file system)."""
    proc = subprocess.run(
        [sys.executable, "-m", "vlogreg", "train", "cancer.csv", "--target", "y",
         "--model", "m.vlogreg", "--json"], cwd=table, capture_output=True, text=True,
        timeout=300, env=_env(VLOGREG_PROGRESS_DELAY="0"))
    assert proc.returncode == 0, proc.stderr
    kib = os.path.getsize(table / "cancer.csv") / 1024
    lines = proc.stderr.splitlines()
    assert f"vlogreg train: reading cancer.csv ({kib:.2f} KiB) ..." in lines
    rows = len((table / "cancer.csv").read_text().splitlines()) - 1
    done = [s for s in lines if s.startswith("vlogreg train: read ")]
    assert len(done) == 1 and re.match(rf"vlogreg train: read {rows:,} rows in "
                                       r"[\d.]+ s(, [\d,]+ rows/s)?$", done[0]), lines
    # stdout keeps exactly the one JSON object
    import json
    assert json.loads(proc.stdout)["n_samples"] == rows
    # the default delay (1 s) keeps a quick read quiet, and --quiet always does
    for env, extra in ((_env(), []), (_env(VLOGREG_PROGRESS_DELAY="0"), ["--quiet"])):
        proc = subprocess.run(
            [sys.executable, "-m", "vlogreg", "train", "cancer.csv", "--target", "y",
             "--model", "m.vlogreg", *extra], cwd=table, capture_output=True, text=True,
            timeout=300, env=env)
        assert proc.returncode == 0 and "reading" not in proc.stderr, proc.stderr


def _in_terminal(args, cwd, env):
    """Run ``python -m vlogreg ARGS`` with stderr on a pseudo-terminal: (code, stdout,
    what the terminal showed)."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "vlogreg", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out, shown.decode(errors="replace")


def test_progress_bar_ends_at_the_real_last_iteration(table):
    pytest.importorskip("rich")
    import json

    code, out, shown = _in_terminal(
        ["train", "cancer.csv", "--target", "y", "--standardize", "--solver", "lbfgs",
         "--max-iter", "100", "--model", "m.vlogreg", "--json"], table,
        _env(VLOGREG_PROGRESS_DELAY="0", COLUMNS="200", TERM="xterm"))
    assert code == 0, shown
    n_iter = json.loads(out)["n_iter"]
    assert 0 < n_iter < 100  # converged well before --max-iter
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    frames = re.findall(r"iteration (\d+)/(\d+)", plain)
    assert frames, plain[-2000:]
    assert frames[-1] == (str(n_iter), str(n_iter)), frames[-3:]


def test_the_bar_of_an_early_convergence_ends_full():
    """The bar of a fit that converged at iteration 5 of --max-iter 100 ends at 5/5:
    fed by a real fit (newton converges in a few iterations), as train feeds it."""
    pytest.importorskip("rich")
    import io

    from rich.console import Console
    from sklearn.datasets import load_breast_cancer

    from vlogreg import LogisticRegression
    from vlogreg.cli.train import FitProgress

    X, y = load_breast_cancer(return_X_y=True)
    buf = io.StringIO()
    bar = FitProgress(Console(file=buf, force_terminal=True, width=150), max_iter=100,
                      tol=1e-4, delay=0.0)
    model = LogisticRegression(solver="newton", standardize=True, max_iter=100,
                               callback=bar).fit(X, y)
    n = int(model.n_iter_[0])
    assert 0 < n < 100
    bar.close()  # ends at the last iteration seen (train passes model.n_iter_ too)
    frames = re.findall(r"iteration (\d+)/(\d+)", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "",
                                                          buf.getvalue()))
    assert frames[-1] == (str(n), str(n)), frames[-3:]
