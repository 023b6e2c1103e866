"""Out-of-core backend: fits streamed from .npy (file and memmap), Parquet row groups and
Zarr chunks equal the in-memory fit, in chunks of the size asked for; clear errors."""

from __future__ import annotations


import numpy as np
import pytest

from vlogreg import LogisticRegression
from vlogreg.data import memory_budget, open_source
from _fit_helpers import assert_same_fit, fit, make_data as _make_data

M, N = 1500, 4
SOLVER_KW = {"lbfgs": dict(tol=1e-10, max_iter=200), "newton": dict(tol=1e-10),
             "gd": dict(tol=0.0, max_iter=20), "agd": dict(tol=0.0, max_iter=20)}


def make_data(n_classes, seed=0, dtype=np.float64):
    return _make_data(M, N, n_classes, seed, dtype)


def write_parquet(path, X, y, row_group_size, dtype=None):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    pq.write_table(pa.table({**cols, "label": y}), path, row_group_size=row_group_size)
    return path


def write_zarr(path, X, y, chunk_rows):
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(path), mode="w")
    group.create_array("X", data=X, chunks=(chunk_rows, X.shape[1]))
    group.create_array("y", data=y, chunks=(chunk_rows,))
    return path


# ------------------------------------------------------------------------ same numbers
@pytest.mark.parametrize("solver", list(SOLVER_KW))
def test_npy_file_and_memmap_equal_in_memory(tmp_path, solver):
    X, y = make_data(2)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, M)
    np.save(tmp_path / "X.npy", X)
    ref = fit(X, y, sw, solver=solver, **SOLVER_KW[solver])
    rows = 400  # chunks of 400 rows: 4 chunks, the last one short
    for source in (open_source(tmp_path / "X.npy", chunk_bytes=rows * N * 8),
                   open_source(np.load(tmp_path / "X.npy", mmap_mode="r"),
                               chunk_bytes=rows * N * 8)):
        got = fit(source, y, sw, solver=solver, **SOLVER_KW[solver])
        assert_same_fit(ref, got)
        assert source.n_chunks == 4 and source.chunk_rows == rows
        assert source.max_rows_read == rows  # never more than one chunk at a time


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "agd"])
def test_parquet_row_groups_multinomial_class_weight(tmp_path, solver):
    X, y = make_data(3)
    labels = np.array(["ant", "bee", "cat"])[y]
    path = write_parquet(tmp_path / "d.parquet", X, labels, row_group_size=250)
    kw = dict(solver=solver, class_weight="balanced", **SOLVER_KW[solver])
    ref = fit(X, labels, **kw)
    source = open_source(path, target="label")
    got = fit(source, **kw)
    assert_same_fit(ref, got)
    assert source.n_chunks == 6 and source.max_rows_read == 250
    assert list(got.feature_names_in_) == [f"f{j}" for j in range(N)]


def test_parquet_directory_and_feature_selection(tmp_path):
    X, y = make_data(2)
    (tmp_path / "ds").mkdir()
    write_parquet(tmp_path / "ds" / "a.parquet", X[:700], y[:700], row_group_size=300)
    write_parquet(tmp_path / "ds" / "b.parquet", X[700:], y[700:], row_group_size=300)
    ref = fit(X[:, [0, 2]], y, solver="newton", tol=1e-10)
    source = open_source(tmp_path / "ds", target="label", features=["f0", "f2"])
    got = fit(source, solver="newton", tol=1e-10)
    assert_same_fit(ref, got)
    assert source.n_chunks == 6 and source.chunk_rows == 300


@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_zarr_group_and_array_equal_in_memory(tmp_path, solver):
    X, y = make_data(3)
    ref = fit(X, y, solver=solver, **SOLVER_KW[solver])
    path = write_zarr(tmp_path / "d.zarr", X, y, chunk_rows=200)
    source = open_source(path, chunk_bytes=450 * N * 8)  # rounded down to whole Zarr chunks
    assert source.chunk_rows == 400 and source.n_chunks == 4
    assert_same_fit(ref, fit(source, solver=solver, **SOLVER_KW[solver]))
    zarr = pytest.importorskip("zarr")
    arr = zarr.open_array(str(tmp_path / "xy.zarr"), mode="w", shape=(M, N + 1),
                          chunks=(300, N + 1), dtype="f8")
    arr[:] = np.column_stack([X, y])
    assert_same_fit(ref, fit(open_source(arr, target=-1), solver=solver,
                             **SOLVER_KW[solver]))


def test_float32_file_stays_float32_and_predictions(tmp_path):
    X, y = make_data(2, dtype=np.float32)
    np.save(tmp_path / "X.npy", np.column_stack([X, y]).astype(np.float32))
    ref = fit(X.astype(np.float64), y, solver="lbfgs", tol=1e-10)
    source = open_source(tmp_path / "X.npy", target=-1, chunk_bytes=300 * (N + 1) * 4)
    got = fit(source, solver="lbfgs", tol=1e-6)
    assert source.dtype == np.float32 and got.coef_.dtype == np.float32
    # float32 sums stay within float32 accuracy of the float64 optimum
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=0, atol=1e-4)
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        np.testing.assert_allclose(getattr(got, method)(source),
                                   getattr(got, method)(X), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_one_line_errors(tmp_path):
    X, y = make_data(2)
    Xn = X.copy()
    Xn[1234, 1] = np.nan
    path = write_parquet(tmp_path / "nan.parquet", Xn, y, row_group_size=500)
    with pytest.raises(ValueError, match=r"X contains NaN at row 1234, column 1 \('f1'\)"):
        LogisticRegression().fit(open_source(path, target="label"), None)
    np.save(tmp_path / "X.npy", X)
    source = open_source(tmp_path / "X.npy", chunk_bytes=4096)
    (tmp_path / "d.csv").write_text("a,b\n1,0\n")
    errors = {
        "one class only": lambda: LogisticRegression().fit(source, np.zeros(M)),
        r"y has shape \(1499,\) but the source has 1500 rows":
            lambda: LogisticRegression().fit(source, y[:-1]),
        "no labels: pass y": lambda: LogisticRegression().fit(source, None),
        r"column\(s\) \['nope'\] are not in .*; its columns are \['f0'":
            lambda: open_source(path, target="nope"),
        r"column\(s\) \['g1'\]": lambda: open_source(path, target="label",
                                                     features=["f0", "g1"]),
        "already holds the labels": lambda: LogisticRegression().fit(
            open_source(path, target="label"), y),
        "cannot tell the format": lambda: open_source(tmp_path / "d.csv"),
        r"array\(s\) \['labels'\] are not in the Zarr group":
            lambda: open_source(write_zarr(tmp_path / "z.zarr", X, y, 500),
                                target="labels"),
    }
    for message, call in errors.items():
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


def test_memory_budget(monkeypatch):
    monkeypatch.delenv("VLOGREG_MEMORY_BUDGET", raising=False)
    assert memory_budget() > 0
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1.5G")
    assert memory_budget() == int(1.5 * (1 << 30))
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "lots")
    with pytest.raises(ValueError, match="not a size"):
        memory_budget()


# ------------------------------------------------------------------- read-ahead buffers
def test_npy_file_streams_through_two_reused_buffers(tmp_path):
    import threading

    X, y = make_data(2, dtype=np.float32)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Xy.npy", np.column_stack([X, y]).astype(np.float32))
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    threads = threading.active_count()
    for source, direct in ((open_source(tmp_path / "X.npy", chunk_bytes=200 * N * 4), True),
                           (open_source(mm[100:], chunk_bytes=200 * N * 4), True),
                           (open_source(tmp_path / "Xy.npy", target=-1,
                                        chunk_bytes=200 * (N + 1) * 4), False)):
        assert source._reader is not None  # a memmap is read through its file too
        off = 100 if source.shape[0] < M else 0
        seen = set()
        for start, Xc, yc in source.iter_row_chunks():
            assert Xc.dtype == np.float32 and Xc.flags.c_contiguous
            np.testing.assert_array_equal(Xc, X[off + start: off + start + len(Xc)])
            if yc is not None:
                np.testing.assert_array_equal(yc, y[start: start + len(Xc)])
            seen.add(Xc.__array_interface__["data"][0])
        assert len(seen) == 2  # double buffering: no allocation per chunk
        # stopping early stops the reading thread
        for _ in source.iter_row_chunks():
            break
        assert threading.active_count() == threads
    # run to run, the same bits; the objective equals the in-memory one in float64
    X64 = make_data(2)[0]
    np.save(tmp_path / "X64.npy", X64)
    ref = fit(X64, y, solver="lbfgs", max_iter=3)
    got = [fit(open_source(tmp_path / "X64.npy", chunk_bytes=300 * N * 8), y,
               solver="lbfgs", max_iter=3) for _ in range(2)]
    np.testing.assert_array_equal(got[0].coef_, got[1].coef_)
    assert_same_fit(ref, got[0])


def test_truncated_npy_file_is_a_clear_error(tmp_path):
    X, y = make_data(2)
    np.save(tmp_path / "X.npy", X)
    source = open_source(tmp_path / "X.npy", chunk_bytes=400 * N * 8)
    with open(tmp_path / "X.npy", "r+b") as f:
        f.truncate(f.seek(0, 2) - 8 * N * 10)
    with pytest.raises(ValueError, match="ends before row 1500"):
        LogisticRegression().fit(source, y)
