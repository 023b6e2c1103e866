"""The ``vlogreg`` command line: a thin layer over the library.

Each command lives in its own module that provides ``add_parser(subparsers)``, which
registers the command and sets ``func`` to a ``run(args) -> int`` function. Errors the
user can fix (``UsageError``, ``ValueError``, ``OSError``) end with exit code 2 and one
line on stderr; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from . import bench, demo, evaluate, inspect, predict, train
from ._common import UsageError, safe_text

#: the command modules, in the order of ``vlogreg --help``
COMMANDS = (train, predict, evaluate, inspect, demo, bench)

__all__ = ["COMMANDS", "UsageError", "build_parser", "main", "walk"]

_DEBUG_HELP = "show full tracebacks instead of one-line errors"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vlogreg",
        description="Logistic regression with the fully vectorized gradient.")
    parser.add_argument("--version", action="version", version=f"vlogreg {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    # the global flags are accepted after the command too (``vlogreg train ... --debug``);
    # SUPPRESS keeps a subcommand from resetting what was given before it
    for path, p in walk(parser):
        if path:
            p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                           help=_DEBUG_HELP)
    return parser


def walk(parser, path=()):
    """``(command path, parser)`` for ``parser`` and every subcommand under it, depth
    first: ``((), vlogreg)``, ``(("train",), ...)``, ``(("bench", "loops"), ...)``."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, path + (name,))


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("vlogreg: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``vlogreg inspect m | head``): not an error of ours;
        # point stdout at devnull so the interpreter's final flush stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (UsageError, ValueError, OSError, ImportError) as exc:
        if args.debug:
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # messages quote names, labels and rows from the user's files: printed safely
        print(f"vlogreg {args.command}: error: {safe_text(msg)}", file=sys.stderr)
        return 2


def entry():
    """The ``vlogreg`` console script and ``python -m vlogreg``: ``main()``, then the
    process ends without the interpreter's teardown.

    By then every output is complete and on disk (``io.atomic``) and the standard
    streams are flushed here. The teardown is skipped because Arrow's native thread
    pools (its CSV and Parquet readers) can abort a process there, after the command
    has finished ("terminate called without an active exception", exit -6 instead of
    0 or 2: apache/arrow#34314), which happened in about one test run in three on this
    project's CLI tests. ``main()`` itself returns normally, for callers in Python.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing left to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
