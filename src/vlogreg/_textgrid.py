"""Text tables that fit a terminal: the columns split into blocks no wider than
``width``, long row labels on a line of their own.

``vlogreg inspect`` and ``evaluate`` print tables with a column per class; with seven
classes (or long names) one line would be ~170 characters, which a terminal wraps
into noise. Here the table is cut into blocks of columns, each with the row labels
again, the way pandas prints a wide DataFrame.
"""

from __future__ import annotations

#: the line width that the command line's tables keep to
WIDTH = 100


def _clip(text, n):
    return text if len(text) <= n else text[:max(n - 3, 1)] + "..."


def grid(corner, row_labels, col_labels, cells, *, width=WIDTH, cw=None, min_label=12,
         indent=""):
    """The lines of a table of ``cells[i][j]`` (already formatted strings).

    Parameters
    ----------
    corner : str
        Printed above the row labels.
    row_labels : sequence of str, length r
    col_labels : sequence of str, length c
    cells : sequence of r sequences of c str
    width : int or None
        The most characters per line; None: one block, however wide.
    cw : int, optional
        Column width (default: the widest column label or cell plus 2, at least 8).
    min_label : int
        The least width of the row-label column.
    indent : str
        Put before every line.

    Returns
    -------
    list of str
        One block when it fits, else blocks of as many columns as fit, separated by an
        empty line; a row label too long for its column sits on its own line, above
        its cells. Column labels longer than half the width are shortened with
        ``...`` (the only text that can be cut).
    """
    row_labels, col_labels = [str(r) for r in row_labels], [str(c) for c in col_labels]
    w = max([min_label] + [len(r) + 2 for r in row_labels] + [len(corner) + 2])
    cw = cw or max([8] + [len(c) + 2 for c in col_labels] +
                   [len(s) + 2 for row in cells for s in row])
    room = None if width is None else width - len(indent)
    if room is None or w + cw * len(col_labels) <= room:
        blocks, own_line = [range(len(col_labels))], False
    else:
        cw = min(cw, room // 2)
        per = max(1, (room - min(w, max(min_label, room // 3))) // cw)
        w = max(min_label, min(w, room - per * cw))  # the labels take what is left
        blocks = [range(s, min(s + per, len(col_labels)))
                  for s in range(0, len(col_labels), per)]
        own_line = True
    lines = []
    for b, cols in enumerate(blocks):
        if b:
            lines.append("")
        lines.append(indent + f"{_clip(corner, w - 1):{w}s}" + "".join(f"{_clip(col_labels[j], cw - 1):>{cw}s}"
                                             for j in cols))
        for label, row in zip(row_labels, cells):
            values = "".join(f"{row[j]:>{cw}s}" for j in cols)
            if own_line and len(label) > w - 2:
                lines.append(indent + label)
                label = ""
            lines.append(indent + f"{label:{w}s}" + values)
    return [line.rstrip() for line in lines]


def fit_list(items, room):
    """``"a, b, c, ... (4 more)"``: as many of ``items`` as fit in ``room`` characters."""
    items = [str(v) for v in items]
    for n in range(len(items), 0, -1):
        text = ", ".join(items[:n]) + ("" if n == len(items) else
                                       f", ... ({len(items) - n} more)")
        if len(text) <= room:
            return text
    return f"... ({len(items)} values)"
