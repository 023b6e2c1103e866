"""``warn``: every warning vlogreg gives points at the caller's line, not at vlogreg's.

``warnings.warn`` attributes a warning to the frame ``stacklevel`` levels up; a fixed
level is right for one call path only (``fit`` called directly, through a Pipeline, from
the CLI, ...). Here the level is counted: the first frame outside the vlogreg package
is the one the user wrote (or scikit-learn's, when a meta-estimator calls ``fit``), so
``warnings.filterwarnings(..., module=...)`` and the printed file:line are theirs.
"""

from __future__ import annotations

import os
import sys
import warnings

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """``warnings.warn(message, category)`` attributed to the first frame outside vlogreg."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
