"""The package's layers hold: imports go downward only, no sibling modules import each
other in a cycle (import-linter's contracts in pyproject.toml), and the estimator never
asks which backend holds the data."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "vlogreg"


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is missing: pip install '.[test]' installs import-linter")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


def _names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.name for a in node.names)
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["_estimator.py", "solvers/lbfgs.py", "solvers/newton.py",
                                    "solvers/gd.py", "solvers/_base.py"])
def test_no_backend_branches(module):
    """The estimator and the solvers see the data only through the backend protocol
    and the objective: they name no array library and no backend module."""
    backend_words = {"dask", "torch", "cupy", "jax", "array_api_strict", "issparse",
                     "iter_row_chunks", "outofcore", "array_api", "ndarray_type",
                     "chunked_backend", "is_array_api", "library"}
    assert not (_names(SRC / module) & backend_words)
