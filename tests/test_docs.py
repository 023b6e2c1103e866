"""Every ```python block of docs/*.md and README.md runs, so the docs cannot drift.

The blocks of one file run in order in one namespace (a page may build on its earlier
blocks), in a temporary working directory: a block that needs a file writes it. A
block preceded by the line ``<!-- no-run -->`` is skipped; use that sparingly.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["quickstart.md", "course.md", "solvers.md", "model-format.md", "cli.md",
         "scaling.md"]
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


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    for line, code, runs in python_blocks(path.read_text(encoding="utf-8")):
        if runs:
            # padding with newlines makes tracebacks point at the Markdown line
            exec(compile("\n" * (line - 1) + code, str(path), "exec"), namespace)
