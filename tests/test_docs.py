"""Every ```python block of docs/*.md and README.md runs, so the docs cannot drift.

The blocks of one file run in order in one namespace (a page may build on its earlier
blocks), in a FRESH interpreter per page (a subprocess, as a user runs them: an example
that only works because a test imported something first fails here), in a temporary
working directory: a block that needs a file writes it. A block preceded by the line
``<!-- no-run -->`` is skipped; use that sparingly.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["quickstart.md", "course.md", "solvers.md", "model-format.md", "cli.md",
         "model-selection.md",
         "scaling.md", "inference.md"]
FILES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
NO_RUN = "<!-- no-run -->"
_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def python_blocks(text):
    """``(first line number, code, runs)`` of each ```python block of Markdown ``text``."""
    for m in _FENCE.finditer(text):
        before = text[:m.start()].rstrip("\n").splitlines()
        runs = not (before and before[-1].strip() == NO_RUN)
        yield text.count("\n", 0, m.start()) + 2, m.group(1), runs


def test_block_extraction():
    text = ("# t\n```python\na = 1\n```\n\n<!-- no-run -->\n```python\nraise SystemExit\n```"
            "\n```bash\nrm -rf /\n```\n```python\nb = 2\n```\n")
    blocks = list(python_blocks(text))
    assert [(line, runs) for line, _, runs in blocks] == [(3, True), (8, False), (14, True)]
    assert [code for _, code, _ in blocks] == ["a = 1\n", "raise SystemExit\n", "b = 2\n"]


def test_the_guide_pages_exist():
    missing = [p for p in PAGES if not (ROOT / "docs" / p).is_file()]
    assert not missing


#: runs a page's blocks, given as JSON [path, first line, code] on stdin, in one namespace;
#: padding with newlines makes tracebacks point at the Markdown line
_RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for path, line, code in json.load(sys.stdin):
    exec(compile("\\n" * (line - 1) + code, path, "exec"), namespace)
"""


def run_page(path, cwd):
    """Run the page's blocks in a fresh interpreter; ``(returncode, stderr)``."""
    blocks = [[str(path), line, code]
              for line, code, runs in python_blocks(path.read_text(encoding="utf-8")) if runs]
    env = dict(os.environ, MPLBACKEND="Agg")
    # as strict as the test suite (pyproject: RuntimeWarnings are errors)
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", _RUNNER],
                          input=json.dumps(blocks), cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run(path, tmp_path):
    code, err = run_page(path, tmp_path)
    assert code == 0, f"{path.name} failed in a fresh interpreter:\n{err[-4000:]}"


def test_a_page_runs_in_a_fresh_interpreter(tmp_path):
    """The runner really starts clean: a page that uses a module nobody imported fails
    unless ``import vlogreg`` brings it (as it must for ``vlogreg.inference``)."""
    page = tmp_path / "page.md"
    page.write_text("```python\nimport vlogreg\nvlogreg.inference.summary\n"
                    "vlogreg.data.open_source\n```\n")
    assert run_page(page, tmp_path) == (0, "")
    page.write_text("```python\nimport json\njson.tool\n```\n")  # json.tool: not imported
    code, err = run_page(page, tmp_path)
    assert code != 0 and "AttributeError" in err
