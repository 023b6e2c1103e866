"""What several commands share: the one-line usage error, opening a model file,
predicting quietly, JSON-ready values, text from files made safe to print, and the
rule that no output replaces an input."""

from __future__ import annotations

import math
import os
import warnings

# NumPy and vlogreg.io are imported where used: ``vlogreg --help`` imports this module
# and must not wait for them


class UsageError(Exception):
    """An error in what the user asked for: printed as one line, exit code 2."""


def open_model(path):
    """``(ModelFile, training input spec or {})`` of a model file."""
    from ..io import read_model_file

    mf = read_model_file(path)
    training = mf.metadata["training"] or {}
    return mf, training.get("input") or {}


def predict(model, X):
    """(probabilities (m, K), labels (m,)), quiet about feature names (files have none)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return model.predict_proba(X), model.predict(X)


def jsonable(v):
    """NumPy scalars as Python ones; NaN and inf as None (JSON has neither)."""
    import numpy as np

    v = v.item() if isinstance(v, np.generic) else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


# ------------------------------------------------------------------ printing safely
def _escape(c):
    if c.isprintable():
        return c
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else (
        f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")


def safe_text(value):
    """``str(value)`` with every character that Python does not call printable written
    as an escape (``\\x1b``, ``\\x0a``, ``\\u202e``).

    The one function through which text that came from a file (names, labels, metadata,
    file names, messages) is printed: control characters (escape sequences, bells,
    carriage returns, newlines), format characters (bidi overrides, zero-width marks)
    and line separators could otherwise retitle or clear the terminal, hide text or
    fake report lines.
    """
    s = str(value)
    return s if s.isprintable() else "".join(map(_escape, s))


# ------------------------------------------------------------------ outputs
def _same(a, b):
    """Whether paths a and b are one file (same inode: symlinks and hard links
    included), or a lies inside the folder b (a Zarr store, say)."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass  # one of them does not exist (yet)
    real_a, real_b = os.path.realpath(a), os.path.realpath(b)
    return real_a == real_b or (os.path.isdir(real_b) and
                                real_a.startswith(real_b.rstrip(os.sep) + os.sep))


def refuse_overwrite(outputs, inputs):
    """Raise ``UsageError`` when an output is one of the inputs, or two outputs are one.

    Parameters
    ----------
    outputs, inputs : dict {what: path or None}
        ``what`` names the option in the message (``"--out"``, ``"DATA"``); None and
        ``"-"`` (standard output) are skipped.
    """
    outputs = {k: v for k, v in outputs.items() if v is not None and v != "-"}
    inputs = {k: v for k, v in inputs.items() if v is not None and v != "-"}
    seen = []
    for out_name, out in outputs.items():
        for in_name, src in list(inputs.items()) + seen:
            if _same(out, src):
                raise UsageError(
                    f"{out_name} {safe_text(out)} is the same file as {in_name} "
                    f"{safe_text(src)}; vlogreg never writes over its inputs: choose "
                    f"another output path.")
        seen.append((out_name, out))


def save_figure(fig, path, dpi=100):
    """A matplotlib figure as a PNG at ``path``, atomically (``io.atomic``)."""
    from ..io.atomic import atomic_write

    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    return path


def plot_text(label):
    """A label from a file as plot text: escaped, and ``$`` kept literal (matplotlib would
    parse ``$...$`` as mathtext, and fail on a bad one)."""
    return safe_text(label).replace("$", r"\$")


def finish_plot(fig, ax, path, xlabel, ylabel, title, legend_size=None):
    """Label, grid and legend ``ax``, write ``fig`` to ``path`` (``save_figure``) and
    close it."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=legend_size)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
