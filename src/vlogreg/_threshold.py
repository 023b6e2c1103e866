"""The decision threshold that ``vlogreg train --threshold RULE`` stores in a model file.

One owner for reading it back, used by the command line (predict, evaluate) and by
``vlogreg.load`` (``TableModel.predict``), so that a model file gives the same labels
from Python as from ``vlogreg predict``. Imports nothing (the CLI's ``--help`` stays
free of NumPy).
"""

from __future__ import annotations


def stored_threshold(metadata):
    """``{"rule", "value"}`` stored by ``train --threshold RULE``, or None.

    ``metadata`` is a model file's metadata (a dict); a value outside (0, 1] or of
    another type (an edited file) counts as no threshold.
    """
    t = (metadata.get("training") or {}).get("threshold")
    ok = isinstance(t, dict) and isinstance(t.get("value"), float) and 0 < t["value"] <= 1
    return t if ok else None
