"""What the block sizes depend on: this machine's cache sizes, read at run time."""

from __future__ import annotations

import os

_NAMES = {2: "SC_LEVEL2_CACHE_SIZE", 3: "SC_LEVEL3_CACHE_SIZE"}


def cache_bytes(level, default):
    """Bytes of the level-``level`` (2 or 3) data cache (``os.sysconf``: per core for L2,
    the shared size for L3), ``default`` where the system does not say."""
    try:
        size = os.sysconf(_NAMES[level])
    except (ValueError, OSError, AttributeError):
        size = 0
    return size if size and size > 0 else default
