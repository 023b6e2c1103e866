"""docs/cli.md and the install lines cannot drift (issue 18, item 10).

The command line's parsers are walked: every command has a
section of docs/cli.md (a heading naming ``vlogreg COMMAND``) and every option of
the command is written in that section as ```--option``; the global options are in
the page's opening. The install commands of README.md and docs/ install from a
checkout (vlogreg is not on a package index) with extras that pyproject.toml defines.
"""

import argparse
import re
from pathlib import Path

import pytest
import tomllib

from vlogreg.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
CLI_MD = ROOT / "docs" / "cli.md"
#: documented once, at the top of the page, for every command
GLOBAL = {"-h", "--help", "--debug", "--version"}
_HEADING = re.compile(r"^#+ .*`vlogreg ([a-z ]+)`", re.MULTILINE)


def sections(text):
    """``{"train": text of its section, ...}``: from a heading naming ``vlogreg CMD`` to
    the next heading that names a command."""
    marks = [(m.start(), m.group(1).strip()) for m in _HEADING.finditer(text)]
    return {name: text[start:end] for (start, name), (end, _) in
            zip(marks, marks[1:] + [(len(text), None)])}


def walk(parser, path=()):
    """``(command path, parser)`` of ``parser`` and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, path + (name,))


def commands():
    """``[(command path, option strings)]`` of every subcommand."""
    out = []
    for path, parser in walk(build_parser()):
        if path:
            opts = sorted({s for a in parser._actions for s in a.option_strings
                           if s.startswith("--")} - GLOBAL)
            out.append((" ".join(path), opts))
    return out


@pytest.mark.parametrize("command,options", commands(), ids=[c for c, _ in commands()])
def test_every_command_and_option_is_in_cli_md(command, options):
    found = sections(CLI_MD.read_text(encoding="utf-8"))
    assert command in found, f"docs/cli.md has no section '## `vlogreg {command}`'"
    missing = [o for o in options if not re.search(rf"`{re.escape(o)}(?![\w-])", found[command])]
    assert not missing, f"docs/cli.md's section on vlogreg {command} lacks {missing}"


def test_global_options_are_in_the_opening():
    text = CLI_MD.read_text(encoding="utf-8")
    opening = text[:text.index("\n## ")]
    top = {s for a in build_parser()._actions for s in a.option_strings} - {"-h", "--help"}
    assert top and all(o in opening for o in top)


def test_the_walk_finds_every_command():
    names = [c for c, _ in commands()]
    assert {"train", "predict", "evaluate", "inspect", "demo", "bench", "bench loops",
            "bench peers"} <= set(names)
    # and the test would see a missing one: drop a section and check that it fails
    text = CLI_MD.read_text(encoding="utf-8")
    found = sections(text.replace("`vlogreg bench peers`", "`bench peers`"))
    assert "bench peers" not in found and "bench loops" in found


_BASH = re.compile(r"^```(?:bash|sh|console)[ \t]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _install_lines():
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in _BASH.findall(page.read_text(encoding="utf-8")):
            for line in block.splitlines():
                for part in line.split("&&"):
                    if re.match(r"\s*(python3? -m )?pip install ", part):
                        yield page.name, part.split("#")[0].strip()


def test_install_lines_install_from_a_checkout_with_real_extras():
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                 ["optional-dependencies"])
    lines = list(_install_lines())
    assert any(page == "README.md" for page, _ in lines)
    for page, line in lines:
        args = [a.strip("\"'") for a in line.split()[2:] if a != "-e"]
        for arg in args:
            m = re.fullmatch(r"\.(\[([\w,-]+)\])?", arg)
            assert m, f"{page}: `{line}` installs {arg!r}, not the checkout ('.')"
            unknown = set((m.group(2) or "").split(",")) - extras - {""}
            assert not unknown, f"{page}: `{line}` names unknown extras {unknown}"
