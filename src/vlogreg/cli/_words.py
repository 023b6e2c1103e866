"""The library's messages in the command line's words.

The estimator and the inference speak Python (``solver='newton'``, ``C=np.inf``,
``raise max_iter``, ``sklearn.preprocessing.StandardScaler``); a person at the command
line set flags. ``in_cli_words`` rewrites those phrases into the flags that set them
(``--solver newton``, ``--penalty none``, ``raise --max-iter``, ``--standardize``), for
every error and warning a command prints that came from the library. Quoted text (a
column named ``C``, say) is left alone: each pattern refuses a quote or a word
character just before it.
"""

from __future__ import annotations

import re

_NOT_AFTER = r"(?<![\w'=.-])"  # not inside a quoted name, a word or another assignment

#: (pattern, replacement), applied in order: the longer phrases first
_RULES = [(re.compile(p), r) for p, r in (
    (r"^LogisticRegression: ", ""),
    (r"Scale the features \(e\.g\. sklearn\.preprocessing\.\s*StandardScaler\)",
     "Scale the features (--standardize)"),
    (r"sklearn\.preprocessing\.StandardScaler", "--standardize"),
    (r"Use C < np\.inf with a penalty", "Train with a penalty (--penalty l2)"),
    (r"\(np\.inf for no penalty\)", "(--penalty none for no penalty)"),
    (r"(?:re)?fit with penalty='l2' \(any finite C\)", "train with --penalty l2 (any --C)"),
    (r"(?:re)?fit with C=np\.inf", "train with --penalty none"),
    (r"(?:re)?fit with penalty='(\w+)'", r"train with --penalty \1"),
    (_NOT_AFTER + r"C=(?:np\.)?inf\b", "--penalty none"),
    (_NOT_AFTER + r"solver='(\w+)' or '(\w+)'", r"--solver \1 or \2"),
    (_NOT_AFTER + r"penalty='(\w+)' or '(\w+)'", r"--penalty \1 or \2"),
    (_NOT_AFTER + r"solver='(\w+)'", r"--solver \1"),
    (_NOT_AFTER + r"penalty='(\w+)'", r"--penalty \1"),
    (_NOT_AFTER + r"penalty=None\b", "--penalty none"),
    (_NOT_AFTER + r"l1_ratio=([^\s,;)]+?)(?=[\s,;)]|\.?$)", r"--l1-ratio \1"),
    (_NOT_AFTER + r"max_iter=(\d+)", r"--max-iter \1"),
    (_NOT_AFTER + r"tol=([0-9][0-9.eE+-]*[0-9]|-[0-9][0-9.eE+-]*[0-9]|[0-9])",
     r"--tol \1"),
    (_NOT_AFTER + r"C=([^\s,;)]+?)(?=[\s,;)]|\.?$)", r"--C \1"),
    (r"; C is the inverse", "; --C is the inverse"),
    (_NOT_AFTER + r"l1_ratio\b", "--l1-ratio"),
    (_NOT_AFTER + r"max_iter\b", "--max-iter"),
    (_NOT_AFTER + r"class_weight\b", "--class-weight"),
    (_NOT_AFTER + r"learning_rate\b", "--learning-rate"),
)]


_COLUMN = re.compile(r"(?<![\w'])column (\d+)\b")


def in_cli_words(message, names=None):
    """``message`` with the library's Python phrases replaced by the CLI's flags.

    ``names``: the feature names of the X the library saw, which names its columns by
    index (``column 4``): each such index becomes the name (``column 'outcome'``).
    """
    text = str(message)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    if names is not None:
        text = _COLUMN.sub(lambda m: f"column {names[int(m.group(1))]!r}"
                           if int(m.group(1)) < len(names) else m.group(0), text)
    return text
