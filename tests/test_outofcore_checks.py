"""One checking pass per source while its files are unchanged.

``fit(source)`` reads the files once to check them (labels, NaN/inf, weights) before the
solver's passes. ``summary(model, source, None)`` after it, a second fit on the same
source, and ``vlogreg train --inference`` on streamed data reuse that check instead of
reading the files again, as long as the files are unchanged (path, inode, size, times).
The oracles: the reads counted by wrapping the source's chunk reader, and the in-memory
fit and summary of the same rows."""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg.data import open_source
from vlogreg.inference import summary


def _data():
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data[:, [1, 4, 8, 9, 11]])
    return np.ascontiguousarray(X), data.target.astype(np.float64)


class _Counted:
    """Counts the full passes over a source (chunk 0 read = one pass started)."""

    def __init__(self, source, monkeypatch):
        self.passes = 0
        inner = source.iter_row_chunks

        def counted(indices=None):
            for start, Xc, yc in inner(indices):
                if start == 0:
                    self.passes += 1
                yield start, Xc, yc

        monkeypatch.setattr(source, "iter_row_chunks", counted)


def _npy_source(tmp_path, X, y, name="Xy.npy"):
    path = tmp_path / name
    np.save(path, np.column_stack([X, y]))
    return path, open_source(path, target=-1, chunk_bytes=100 * 6 * 8)


def test_summary_after_fit_reads_the_files_once_less(tmp_path, monkeypatch):
    X, y = _data()
    _, source = _npy_source(tmp_path, X, y)
    assert source.n_chunks > 1
    reads = _Counted(source, monkeypatch)
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(source)
    fit_passes = reads.passes
    assert model.passes_.get("validation") == 1 and fit_passes == model.n_passes_
    s = summary(model, source, None)
    assert reads.passes - fit_passes == 1  # the information's pass, no second check
    ref = summary(LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y), X, y)
    np.testing.assert_allclose(s.std_err, ref.std_err, rtol=1e-6)
    np.testing.assert_allclose(s.log_likelihood, ref.log_likelihood, rtol=1e-9)


def test_a_second_fit_reuses_the_check_and_counts_no_validation_pass(tmp_path,
                                                                    monkeypatch):
    X, y = _data()
    _, source = _npy_source(tmp_path, X, y)
    first = LogisticRegression(C=1.0, tol=1e-8).fit(source)
    reads = _Counted(source, monkeypatch)
    second = LogisticRegression(C=0.5, tol=1e-8).fit(source)
    assert "validation" not in second.passes_
    assert reads.passes == second.n_passes_
    assert first.passes_["validation"] == 1
    ref = LogisticRegression(C=0.5, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(second.coef_, ref.coef_, rtol=1e-5, atol=1e-7)


def test_standardize_needs_the_moments_so_a_plain_check_is_not_reused(tmp_path,
                                                                       monkeypatch):
    X, y = _data()
    _, source = _npy_source(tmp_path, X * 3.0 + 1.0, y)
    LogisticRegression(C=1.0, tol=1e-8).fit(source)  # checked without the moments
    reads = _Counted(source, monkeypatch)
    model = LogisticRegression(C=1.0, tol=1e-8, standardize=True).fit(source)
    assert model.passes_.get("validation") == 1
    ref = LogisticRegression(C=1.0, tol=1e-8, standardize=True).fit(X * 3.0 + 1.0, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-5, atol=1e-7)
    again = LogisticRegression(C=1.0, tol=1e-8).fit(source)  # the moments' check serves
    assert "validation" not in again.passes_
    assert reads.passes == model.n_passes_ + again.n_passes_


def test_a_file_written_again_is_checked_again(tmp_path):
    X, y = _data()
    path, source = _npy_source(tmp_path, X, y)
    model = LogisticRegression(C=np.inf, tol=1e-8, max_iter=1000).fit(source)
    bad = np.column_stack([X, y])
    bad[123, 2] = np.nan
    st = os.stat(path)
    np.save(path, bad)  # same size and shape: only the contents (and times) differ
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime
    assert os.path.getsize(path) == st.st_size
    with pytest.raises(ValueError, match=r"row 123") as e:
        summary(model, source, None)
    assert "\n" not in str(e.value)


def test_labels_passed_as_arrays_are_checked_every_time(tmp_path, monkeypatch):
    X, y = _data()
    np.save(tmp_path / "X.npy", X)
    source = open_source(tmp_path / "X.npy", chunk_bytes=100 * 5 * 8)
    LogisticRegression(C=1.0, tol=1e-8).fit(source, y)
    y2 = y.copy()
    y2[7] = np.nan  # an array the caller changed in place between the fits
    with pytest.raises(ValueError, match=r"NaN"):
        LogisticRegression(C=1.0, tol=1e-8).fit(source, y2)


def test_parquet_directory_fingerprint_follows_its_files(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    X, y = _data()
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(y)), 3)):
        cols = {f"f{j}": X[rows, j] for j in range(X.shape[1])}
        pq.write_table(pa.table({**cols, "label": y[rows]}), folder / f"p{k}.parquet")
    source = open_source(folder, target="label")
    before = source.fingerprint()
    assert before is not None and len(before) == 3
    assert source.fingerprint() == before
    os.utime(folder / "p1.parquet", ns=(1, 1))
    assert source.fingerprint() != before


def test_sources_in_memory_have_no_fingerprint():
    X, y = _data()
    source = open_source(np.column_stack([X, y]), target=-1)
    assert source.fingerprint() is None
