"""What the block sizes depend on: this machine's cache sizes, read at run time."""

from __future__ import annotations

import functools
import glob
import os

_NAMES = {1: "SC_LEVEL1_DCACHE_SIZE", 2: "SC_LEVEL2_CACHE_SIZE", 3: "SC_LEVEL3_CACHE_SIZE"}
_SYSFS = "/sys/devices/system/cpu/cpu0/cache/index*"


def _parse_size(text):
    """``"48K"``, ``"1024K"``, ``"32M"`` or a plain number of bytes -> bytes (0 if not)."""
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    digits = text[:-1] if scale != 1 else text
    return int(digits) * scale if digits.isdigit() else 0


@functools.cache
def _sysfs_sizes():
    """``{level: bytes}`` of cpu0's data and unified caches from Linux's sysfs (empty
    elsewhere)."""
    sizes = {}
    for d in glob.glob(_SYSFS):
        try:
            with open(os.path.join(d, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(d, "level")) as f:
                level = int(f.read())
            with open(os.path.join(d, "size")) as f:
                size = _parse_size(f.read())
        except (OSError, ValueError):
            continue
        if kind in ("Data", "Unified") and size > 0:
            sizes[level] = size
    return sizes


def cache_bytes(level, default):
    """Bytes of the level-``level`` (1, 2 or 3) data cache: per core for L1 and L2, the
    size cpu0 shares for L3; from Linux's sysfs, else ``os.sysconf`` (where Python
    knows the name: not on glibc, whose Python has no ``SC_LEVEL*`` names), else
    ``default``."""
    size = _sysfs_sizes().get(level, 0)
    if size > 0:
        return size
    try:
        size = os.sysconf(_NAMES[level])
    except (ValueError, OSError, AttributeError):
        size = 0
    return size if size and size > 0 else default
