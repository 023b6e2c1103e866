"""Running the command line as a user does, for the CLI tests."""

import os
import subprocess
import sys

import vlogreg


def run_cli(args, cwd):
    """``python -m vlogreg ARGS`` in ``cwd``: a CompletedProcess with text stdout/stderr.

    The subprocess imports the vlogreg this test imported (PYTHONPATH may be relative,
    or point at another checkout), with matplotlib's file-only backend.
    """
    src = os.path.dirname(os.path.dirname(vlogreg.__file__))
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "vlogreg", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
