"""The kernels' numba cache is dropped when any kernel module changes (numba itself
only notices a change to the file that defines the cached function, not to the
siblings it inlines)."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("numba")

from vlogreg._kernels import cache_stamp  # noqa: E402


def _touch(folder, *names):
    for n in names:
        (folder / n).write_bytes(b"x")


def test_a_changed_digest_removes_the_kernels_cache_only(tmp_path):
    kernels = ("numba_kcol.kcol_dense-57.py311.nbi", "numba_kcol.kcol_dense-57.py311.1.nbc")
    others = ("numba_kcol.cpython-311.pyc", "someone_else.f-3.py311.nbi", "notes.txt")
    _touch(tmp_path, *kernels, *others)
    stems = {"numba_kcol", "numba_common"}
    # no stamp yet (a cache written before stamps existed): everything of ours goes
    assert cache_stamp.clear_stale(str(tmp_path), "d1", stems) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*others, cache_stamp.STAMP])
    assert (tmp_path / cache_stamp.STAMP).read_text() == "d1"
    # the same sources: the cache compiled since is kept
    _touch(tmp_path, *kernels)
    assert cache_stamp.clear_stale(str(tmp_path), "d1", stems) == 0
    assert all((tmp_path / k).exists() for k in kernels)
    # a sibling changed: dropped again
    assert cache_stamp.clear_stale(str(tmp_path), "d2", stems) == 2
    assert not any((tmp_path / k).exists() for k in kernels)
    assert (tmp_path / cache_stamp.STAMP).read_text() == "d2"


def test_a_missing_or_read_only_directory_is_left_to_numba(tmp_path):
    assert cache_stamp.clear_stale(str(tmp_path / "absent"), "d", {"numba_kcol"}) == 0


def test_the_digest_follows_every_kernel_source(tmp_path):
    for p in cache_stamp.HERE.glob("*.py"):
        shutil.copy(p, tmp_path / p.name)
    before = cache_stamp.sources_digest(tmp_path)
    assert before == cache_stamp.sources_digest(cache_stamp.HERE)
    rows = tmp_path / "numba_kcol_rows.py"  # inlined into numba_kcol's kernel
    rows.write_text(rows.read_text() + "\n# an edit\n")
    assert cache_stamp.sources_digest(tmp_path) != before


def test_the_stamp_lives_where_numba_caches_the_kernels():
    from vlogreg._kernels import numba_binary

    path = cache_stamp.cache_path()
    assert path is not None
    assert path == numba_binary.loss_grad_dense._cache._cache_path
