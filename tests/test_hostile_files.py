"""Hostile files (issue #14): every one is made here, in tmp_path, as an attacker would
make it, and must give a one-line ValueError that names the file, never a hang, a
traceback from inside NumPy, or memory out of proportion to what the file declares.

Classes covered: 1 (memory of a load, measured with tracemalloc against the declared
sizes), 4 (inputs that are not regular files), 5 (tiny files that declare huge
arrays), 13 (messages of forged metadata and object arrays).
"""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest
from sklearn.datasets import make_classification

import vlogreg
from vlogreg.data.files import read_data, read_training_data
from vlogreg.data.sources import open_source
from vlogreg.io.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def model():
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    return vlogreg.LogisticRegression().fit(X, y)


def _members(model, tmp_path):
    """(metadata dict, {member: bytes}) of a genuine model file."""
    path = tmp_path / "genuine.vlogreg"
    vlogreg.save(model, path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    return json.loads(members["metadata.json"]), members


def _forge(tmp_path, meta, members, name="forged.vlogreg", raw_meta=None):
    members = dict(members)
    members["metadata.json"] = raw_meta if raw_meta is not None else \
        json.dumps(meta, ensure_ascii=False).encode()
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return path


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _one_line_error(fn, *match):
    with pytest.raises(ValueError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg, msg
    for m in match:
        assert m in msg, msg
    return msg


def _peak(fn):
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ------------------------------------------------------------------ 1. bounded memory
@pytest.mark.parametrize("n, order", [(2**21, "<"), (2**20, ">"), (2**20 + 3, "<")])
def test_load_memory_is_bounded_by_the_declared_arrays(model, tmp_path, n, order):
    """A deflated loss_history of n zeros (a ~20 KB file declaring 8n bytes) takes the
    array's bytes once, plus metadata and a 1 MiB read buffer: no list, no copies
    (the old reader took ~5x: BytesIO, np.load, then a list of floats). Big-endian
    arrays are swapped in place, without a second copy."""
    meta, members = _members(model, tmp_path)
    meta["arrays"]["loss_history"] = {"dtype": "float64", "shape": [n]}
    members["loss_history.npy"] = _npy(np.zeros(n, dtype=f"{order}f8"))
    path = _forge(tmp_path, meta, members)
    assert path.stat().st_size < n // 50  # a small file that declares a lot
    declared = sum(8 * int(np.prod(s["shape"])) for s in meta["arrays"].values())
    loaded, peak = _peak(lambda: vlogreg.load(path))
    metadata = len(members["metadata.json"])
    assert peak <= declared + 24 * metadata + (2 << 20), (peak, declared)
    assert isinstance(loaded.loss_history_, np.ndarray)
    assert loaded.loss_history_.dtype == np.float64 and loaded.loss_history_.shape == (n,)
    assert not loaded.loss_history_.any()


@pytest.mark.parametrize("filler", [{}, [], 0, 0.5, "\u00e9"])
def test_load_memory_is_bounded_by_the_metadata_size(model, tmp_path, filler):
    """metadata.json's parsed objects take at most 24x its bytes (empty objects are the
    worst case, ~19x): with MAX_METADATA_BYTES that bounds what the JSON can cost."""
    meta, members = _members(model, tmp_path)
    meta["training"] = {"x": [filler] * 200_000}
    path = _forge(tmp_path, meta, members)
    _, peak = _peak(lambda: vlogreg.load(path))
    arrays = sum(8 * int(np.prod(s["shape"])) for s in meta["arrays"].values())
    metadata = len(json.dumps(meta, ensure_ascii=False).encode())
    assert peak <= arrays + 24 * metadata + (1 << 20), (peak, metadata)


def test_declared_sizes_beyond_the_limit_are_refused_before_reading(model, tmp_path,
                                                                    monkeypatch):
    meta, members = _members(model, tmp_path)
    meta["arrays"]["loss_history"] = {"dtype": "float64", "shape": [2**20]}
    members["loss_history.npy"] = _npy(np.zeros(2**20))
    path = _forge(tmp_path, meta, members)
    monkeypatch.setattr(vlogreg.io, "MAX_ARRAY_BYTES", 2**20)
    _, peak = _peak(lambda: _one_line_error(lambda: vlogreg.load(path), "forged.vlogreg",
                                            "more than the limit"))
    assert peak < 2**20  # refused from the manifest: the array was never allocated


def test_stream_shorter_or_longer_than_declared_is_refused(model, tmp_path):
    meta, members = _members(model, tmp_path)
    meta["arrays"]["loss_history"] = {"dtype": "float64", "shape": [100]}
    full = _npy(np.zeros(100))
    members["loss_history.npy"] = full[:-8]            # one float short
    _one_line_error(lambda: vlogreg.load(_forge(tmp_path, meta, members, "short.vlogreg")),
                    "short.vlogreg", "loss_history.npy")
    members["loss_history.npy"] = full + b"\0" * 8      # one float too many
    _one_line_error(lambda: vlogreg.load(_forge(tmp_path, meta, members, "long.vlogreg")),
                    "long.vlogreg", "loss_history.npy")


# ------------------------------------------------------------------ 4. not regular files
def _special(tmp_path, kind, name):
    path = tmp_path / name
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(kind)  # /dev/zero, /dev/urandom
    return path


KINDS = ["fifo", "/dev/zero", "/dev/urandom", "folder"]


@pytest.mark.parametrize("kind", KINDS)
def test_model_and_checkpoint_must_be_regular_files(tmp_path, kind):
    path = _special(tmp_path, kind, "m.vlogreg")
    _one_line_error(lambda: vlogreg.load(path), "m.vlogreg", "not a regular file")
    _one_line_error(lambda: load_checkpoint(path), "m.vlogreg", "not a regular file")


@pytest.mark.parametrize("kind", KINDS[:3])
@pytest.mark.parametrize("name", ["d.csv", "d.csv.gz", "d.parquet", "d.npy", "d.npz",
                                  "d.svm"])
def test_data_files_must_be_regular_files(tmp_path, kind, name):
    path = _special(tmp_path, kind, name)
    target = {"d.npy": -1, "d.svm": None, "d.npz": None}.get(name, "y")
    _one_line_error(lambda: read_training_data(path, target), name, "not a regular file")
    _one_line_error(lambda: read_data(path, {}, ["a", "b"]), name, "not a regular file")
    if name in ("d.npy", "d.parquet"):
        _one_line_error(lambda: open_source(path), name, "not a regular file")


def test_symlink_to_a_regular_file_is_still_read(tmp_path):
    X, y = make_classification(n_samples=30, n_features=4, random_state=1)
    np.save(tmp_path / "real.npy", np.column_stack([X, y]))
    (tmp_path / "link.npy").symlink_to(tmp_path / "real.npy")
    assert read_training_data(tmp_path / "link.npy", -1).X.shape == (30, 4)


# ------------------------------------------------------------------ 5. declared sizes
def _npy_header_only(path, shape, descr="<f8", payload=b""):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": descr, "fortran_order": False, "shape": shape})
        fh.write(payload)
    return path


@pytest.mark.parametrize("shape, payload", [((10**6, 10**5), b""),
                                            ((10**6, 10**5), b"\0" * 300),
                                            ((2**40, 3), b""),
                                            ((4, 3), b"\0" * 88)])  # one float short
def test_npy_header_larger_than_the_file_is_refused(tmp_path, shape, payload):
    path = _npy_header_only(tmp_path / "big.npy", shape, payload=payload)
    assert path.stat().st_size < 1000
    _, peak = _peak(lambda: _one_line_error(lambda: read_training_data(path, -1),
                                            "big.npy", str(shape[0]), "holds"))
    assert peak < 1 << 20


def test_npy_within_the_file_but_beyond_the_budget_is_refused(tmp_path, monkeypatch):
    np.save(tmp_path / "d.npy", np.zeros((5000, 30)))
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1M")
    _one_line_error(lambda: read_training_data(tmp_path / "d.npy", -1), "d.npy",
                    "memory budget", "VLOGREG_MEMORY_BUDGET")


def test_npz_members_are_checked_before_reading(tmp_path):
    # a member whose header declares (10**6, 10**5) but holds 24 bytes
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**5)})
    with zipfile.ZipFile(tmp_path / "big.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", header.getvalue() + b"\0" * 24)
        zf.writestr("y.npy", _npy(np.array([0, 1, 0])))
    _, peak = _peak(lambda: _one_line_error(
        lambda: read_training_data(tmp_path / "big.npz", None), "big.npz", "'X'",
        "100000"))
    assert peak < 1 << 20
    # object arrays (pickles): named, with the fix, before np.load's own message
    np.savez(tmp_path / "obj.npz", X=np.array([[1, "a"], [2, "b"]], dtype=object),
             y=np.array([0, 1]))
    msg = _one_line_error(lambda: read_training_data(tmp_path / "obj.npz", None),
                          "obj.npz", "'X'", "Python objects")
    assert "allow_pickle" not in msg
    np.savez(tmp_path / "objy.npz", X=np.zeros((2, 2)), y=np.array([0, "a"], dtype=object))
    _one_line_error(lambda: read_training_data(tmp_path / "objy.npz", None), "objy.npz",
                    "'y'", "Python objects")
    (tmp_path / "notzip.npz").write_bytes(b"PK\x03\x04 not a zip")
    _one_line_error(lambda: read_training_data(tmp_path / "notzip.npz", None),
                    "notzip.npz", "not a readable .npz")


@pytest.mark.parametrize("index", [2_000_000_000, 50_000_000])
def test_svmlight_index_beyond_the_budget_is_refused(tmp_path, monkeypatch, index):
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1G")
    path = tmp_path / "wide.svm"
    path.write_text(f"1 1:0.5 3:1\n0 2:1 {index}:2\n1 1:1\n")
    assert path.stat().st_size < 400
    _one_line_error(lambda: read_training_data(path, None), "wide.svm", f"{index}",
                    "row 2", "memory budget")


def test_svmlight_index_within_the_budget_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1G")
    path = tmp_path / "ok.svm"
    path.write_text("1 1:0.5 3:1\n0 2:1 1000:2\n1 1:1\n")
    assert read_training_data(path, None).X.shape == (3, 1000)


def test_parquet_declaring_more_rows_than_the_budget_is_refused(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"a": np.zeros(300_000), "y": np.zeros(300_000)}),
                   tmp_path / "rle.parquet")
    assert (tmp_path / "rle.parquet").stat().st_size < 50_000  # run-length encoded
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1M")
    _one_line_error(lambda: read_training_data(tmp_path / "rle.parquet", "y"),
                    "rle.parquet", "300000 rows", "memory budget")


# ------------------------------------------------------------------ 13. forged metadata
def test_long_integers_and_overflowing_floats_in_metadata(model, tmp_path):
    meta, members = _members(model, tmp_path)
    raw = json.dumps(meta).replace('"n_features": 4', '"n_features": 4' + "0" * 5000)
    msg = _one_line_error(lambda: vlogreg.load(_forge(tmp_path, None, members, "a.vlogreg",
                                                      raw.encode())),
                          "a.vlogreg", "5001 digits")
    assert "4300" not in msg
    for field, value in [("n_features", "1e400"), ("training", '{"t": -1e999}')]:
        raw = json.dumps(meta).replace(f'"{field}": {json.dumps(meta[field])}',
                                       f'"{field}": {value}')
        _one_line_error(lambda: vlogreg.load(_forge(tmp_path, None, members, "b.vlogreg",
                                                    raw.encode())),
                        "b.vlogreg", "beyond the range of float64")


@pytest.mark.parametrize("dtype, values", [
    ("float16", [0.0, 70000.0]),    # inf as float16
    ("float32", [0.0, 1e39]),       # inf as float32
    ("float16", [0.0, 0.1]),        # not exact: the model would predict 0.0999755859375
    ("int8", [0, 300]),
    ("uint8", [-1, 1]),
    ("uint64", [0, 2**64]),
    ("int64", [0, 2**63]),
])
def test_class_values_must_fit_their_dtype(model, tmp_path, dtype, values):
    meta, members = _members(model, tmp_path)
    kind = np.dtype(dtype).kind
    meta["classes"] = {"kind": kind, "dtype": dtype, "values": values}
    _one_line_error(lambda: vlogreg.load(_forge(tmp_path, meta, members)),
                    "forged.vlogreg", "class")


def test_class_values_that_fit_are_read(model, tmp_path):
    meta, members = _members(model, tmp_path)
    meta["classes"] = {"kind": "f", "dtype": "float16", "values": [0.0, 0.0999755859375]}
    loaded = vlogreg.load(_forge(tmp_path, meta, members))
    assert loaded.classes_.dtype == np.float16
    assert loaded.classes_.tolist() == [0.0, 0.0999755859375]


def test_out_of_core_npy_with_a_forged_header_names_the_file(tmp_path):
    path = _npy_header_only(tmp_path / "h.npy", (10**6, 10**5), payload=b"\0" * 100)
    _one_line_error(lambda: open_source(path), "h.npy", "not a readable .npy")
    np.save(tmp_path / "o.npy", np.array([[1, "a"]], dtype=object))
    _one_line_error(lambda: open_source(tmp_path / "o.npy"), "o.npy", "Python objects")


# ------------------------------------------------------------- compressed CSV: bombs and damage
def _compressed(path, data):
    """``data`` written compressed as ``path``'s ending says (.gz, .bz2, .xz, .zst)."""
    import bz2
    import gzip
    import lzma

    import pyarrow as pa

    ending = str(path).rsplit(".", 1)[1]
    if ending == "zst":
        if not pa.Codec.is_available("zstd"):
            pytest.skip("this pyarrow has no zstd codec")
        with pa.output_stream(str(path), compression="zstd") as out:
            for chunk in data:
                out.write(chunk)
        return
    opener = {"gz": lambda p: gzip.open(p, "wb", compresslevel=9), "bz2": lambda p: bz2.open(p, "wb"),
              "xz": lambda p: lzma.open(p, "wb")}[ending]
    with opener(path) as fh:
        for chunk in data:
            fh.write(chunk)


def _bomb_rows(n_rows):
    """A CSV of n_rows rows of "0,1" (compresses ~1000:1, as a bomb does), in chunks."""
    yield b"a,y\n"
    block = b"0,1\n1,0\n" * 4096
    for _ in range(n_rows // 8192):
        yield block


@pytest.mark.parametrize("ending", ["gz", "bz2", "xz", "zst"])
def test_a_compressed_csv_that_decompresses_past_the_memory_budget_is_refused(
        tmp_path, monkeypatch, ending):
    # ~8 MB of text from a few kilobytes, against a budget of 1 MiB: refused before
    # the text is all in memory, with the way out named. xz's decoder holds its 8 MiB
    # dictionary (preset 6, xz's default): there, 32 MB of text against 16 MiB
    rows, limit = (8_000_000, 16 << 20) if ending == "xz" else (2_000_000, 8 << 20)
    bomb = tmp_path / f"bomb.csv.{ending}"
    _compressed(bomb, _bomb_rows(rows))
    assert bomb.stat().st_size < 100_000
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1M")
    msg = _one_line_error(lambda: read_training_data(bomb, "y"),
                          bomb.name, "decompresses to more than", "memory budget",
                          "VLOGREG_MEMORY_BUDGET", "Parquet")
    assert "0.000977 GiB" in msg
    _, peak = _peak(lambda: _one_line_error(
        lambda: read_data(bomb, {}, ["a"]), "decompresses"))
    assert peak < limit
    # within the budget it is read as before
    monkeypatch.setenv("VLOGREG_MEMORY_BUDGET", "1G")
    data = read_training_data(bomb, "y")
    assert data.X.shape == (rows // 8192 * 8192, 1)


@pytest.mark.parametrize("ending,words", [("gz", ["gzip", "gunzip -t"]),
                                          ("bz2", ["bz2", "bunzip2 -t"]),
                                          ("xz", ["xz", "xz -t"]),
                                          ("zst", ["zstd", "zstd -t"])])
@pytest.mark.parametrize("damage", ["truncated", "not compressed"])
def test_a_damaged_compressed_csv_is_a_one_line_error(tmp_path, damage, ending, words):
    good = b"a,y\n" + b"0.5,1\n1.5,0\n" * 1000
    path = tmp_path / f"d.csv.{ending}"
    _compressed(path, [good])
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) // 2] if damage == "truncated" else good)
    for fn in (lambda: read_training_data(path, "y"),
               lambda: read_data(path, {}, ["a"])):
        _one_line_error(fn, path.name, f"is not a readable {words[0]} file", words[1])


@pytest.mark.parametrize("bad_cell, words", [
    (("b", "oops"), ["column 'b'", "'oops'", "at row 6"]),
    (("b", "inf"), ["column 'b'", "inf at row 6"]),
    (("y", "inf"), ["label column 'y'", "inf at row 6"]),
])
def test_rows_named_after_missing_drop_are_the_file_s_rows(tmp_path, bad_cell, words):
    """With --missing drop, rows 2 and 3 are left out; a bad value in the file's row 6
    is still called row 6 (it was called row 4, its place among the kept rows)."""
    from vlogreg.data.encoding import TableOptions

    rows = [["a", "b", "y"]] + [[str(i), str(i % 3 + 0.5), str(i % 2)] for i in range(12)]
    rows[2][0] = ""
    rows[3][1] = "NA"
    col, value = bad_cell
    rows[6][rows[0].index(col)] = value
    (tmp_path / "d.csv").write_text("\n".join(",".join(r) for r in rows) + "\n")
    _one_line_error(lambda: read_training_data(tmp_path / "d.csv", "y",
                                               options=TableOptions(missing="drop")),
                    "d.csv", *words)
