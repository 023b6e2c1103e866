"""Cache sizes read at run time (Linux sysfs, os.sysconf, a default), and the kernel
choices made from them."""

import pytest

from vlogreg import _hardware


def _fake_sysfs(root, caches):
    for i, (level, kind, size) in enumerate(caches):
        d = root / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")


@pytest.fixture
def sysfs(tmp_path, monkeypatch):
    monkeypatch.setattr(_hardware, "_SYSFS", str(tmp_path / "index*"))
    _hardware._sysfs_sizes.cache_clear()
    yield tmp_path
    _hardware._sysfs_sizes.cache_clear()


def test_sizes_come_from_sysfs_data_and_unified_caches(sysfs):
    # AMD Zen 5's layout: the 32K instruction cache is not the L1 data cache
    _fake_sysfs(sysfs, [(1, "Data", "48K"), (1, "Instruction", "32K"),
                        (2, "Unified", "1024K"), (3, "Unified", "32768K")])
    assert _hardware.cache_bytes(1, 7) == 48 * 1024
    assert _hardware.cache_bytes(2, 7) == 1 << 20
    assert _hardware.cache_bytes(3, 7) == 32 << 20


def test_unreadable_sizes_fall_back_to_the_default(sysfs):
    _fake_sysfs(sysfs, [(2, "Unified", "lots")])
    # no sysfs entry for the level and (on glibc's Python) no os.sysconf name: default
    if "SC_LEVEL2_CACHE_SIZE" not in getattr(__import__("os"), "sysconf_names", {}):
        assert _hardware.cache_bytes(2, 12345) == 12345
    assert _hardware._parse_size("2M") == 2 << 20
    assert _hardware._parse_size("4096") == 4096
    assert _hardware._parse_size("") == 0


def test_prefetch_distance_in_bytes_within_the_l1(monkeypatch):
    numba_common = pytest.importorskip("vlogreg._kernels.numba_common")
    monkeypatch.setattr(numba_common, "l1_bytes", lambda: 48 * 1024)
    # n = 100: the distances tuned on Zen 5 (16 float32 rows, 40 float64 rows)
    assert numba_common.prefetch_rows(100, 4) == 16
    assert numba_common.prefetch_rows(100, 8) == 40
    for n in (1, 3, 10, 37, 100, 500, 5000):
        for itemsize in (4, 8):
            rows = numba_common.prefetch_rows(n, itemsize)
            row_bytes = n * itemsize
            assert rows >= numba_common.B
            # never more than two thirds of L1 ahead, unless one block is already more
            assert rows * row_bytes <= max(32 * 1024, numba_common.B * row_bytes)
            assert rows * row_bytes >= min(numba_common.PREFETCH_BYTES[itemsize],
                                           32 * 1024) - row_bytes
    # a 32 KiB L1 (older cores): float64 rows of 100 features prefetch fewer rows ahead
    monkeypatch.setattr(numba_common, "l1_bytes", lambda: 32 * 1024)
    assert numba_common.prefetch_rows(100, 8) == (32 * 1024 * 2 // 3) // 800
