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
            "assert set(vlogreg.__all__) <= set(dir(vlogreg)); print(type(m).__name__)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "LogisticRegression"
    proc = subprocess.run([sys.executable, "-c", "import vlogreg; vlogreg.nothing"],
                          capture_output=True, text=True, timeout=120)
    assert "has no attribute 'nothing'" in proc.stderr
