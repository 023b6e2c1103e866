"""Tables as real files come (the sixth round of holes): Excel's ``sep=;`` first line,
``#`` comment lines above the header, the index pandas' ``to_csv`` writes, and the
formats pyarrow reads besides CSV and Parquet (Arrow IPC / Feather, newline-delimited
JSON, compressed CSV).

Every case runs as ``python -m vlogreg`` in a subprocess. The oracle of a file that
holds the same table as ``plain.csv`` (written by pandas with ``index=False``) is the
model trained on ``plain.csv``: the same coefficients, bit for bit, and the same
predictions (``plain.csv`` itself is checked against scikit-learn in test_cli.py).
"""

import io
import json

import numpy as np
import pytest

import vlogreg
from _cli import run_cli

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

FIT = ["--target", "y", "-q"]


def _one_line(proc):
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    return proc.stderr


def _coef(path):
    model = vlogreg.load(path)
    return np.concatenate([model.intercept_, model.coef_.ravel()])


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Four columns of scikit-learn's breast cancer data and its label, as plain.csv,
    and the model trained on it."""
    from sklearn.datasets import load_breast_cancer

    d = tmp_path_factory.mktemp("real")
    df = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 4, 8, -1]]
    df.columns = ["radius", "texture", "smoothness", "symmetry", "y"]
    df.to_csv(d / "plain.csv", index=False)
    proc = run_cli(["train", "plain.csv", *FIT, "--model", "plain.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    return d, df


def _same_as_plain(d, name, extra=(), predict=True):
    """Train on ``name``; the model, its predictions and its evaluation must be those
    of plain.csv."""
    out = f"{name}.vlogreg"
    proc = run_cli(["train", name, *FIT, "--model", out, *extra], d)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(d / out), _coef(d / "plain.vlogreg"))
    assert vlogreg.io.read_model_file(d / out).metadata["feature_names"] == \
        ["radius", "texture", "smoothness", "symmetry"]
    if not predict:
        return
    ref = run_cli(["predict", "plain.vlogreg", "plain.csv"], d).stdout
    got = run_cli(["predict", "plain.vlogreg", name, *extra], d)
    assert got.returncode == 0, got.stderr
    assert got.stdout == ref
    a = json.loads(run_cli(["evaluate", "plain.vlogreg", name, "--json", *extra],
                           d).stdout)
    b = json.loads(run_cli(["evaluate", "plain.vlogreg", "plain.csv", "--json"],
                           d).stdout)
    assert (a["log_loss"], a["accuracy"]) == (b["log_loss"], b["accuracy"])


# ------------------------------------------------------------- Excel's sep= line
def _excel(d, df, name, sep, decimal, first):
    with open(d / name, "w", newline="") as fh:
        fh.write(first + "\r\n")
        df.to_csv(fh, sep=sep, decimal=decimal, index=False, lineterminator="\r\n")


@pytest.mark.parametrize("sep,decimal,first", [(";", ",", "sep=;"), ("\t", ",", "sep=\t"),
                                               (",", ".", "sep=,"), (";", ".", '"sep=;"')])
def test_excel_s_sep_line_names_the_delimiter(work, sep, decimal, first):
    """Excel writes ``sep=;`` as the first line of a CSV and honours it when it opens
    one; the header is the next line."""
    d, df = work
    name = f"excel{ord(sep)}{first.startswith(chr(34))}.csv"
    _excel(d, df, name, sep, decimal, first)
    _same_as_plain(d, name, predict=sep == ";")


def test_a_sep_line_and_another_delimiter_is_one_line(work):
    d, df = work
    _excel(d, df, "excel_semi.csv", ";", ",", "sep=;")
    err = _one_line(run_cli(["train", "excel_semi.csv", *FIT, "--delimiter", ",",
                             "--model", "x.vlogreg"], d))
    assert "sep=;" in err and "--delimiter" in err, err
    assert not (d / "x.vlogreg").exists()


# ------------------------------------------------------------- comment lines
def _commented(d, df, name, middle=False):
    """plain.csv under a UCI-style block of ``#`` lines (one with commas); with
    ``middle`` a comment line between the rows too."""
    text = df.to_csv(index=False).splitlines(keepends=True)
    if middle:
        text.insert(200, "# second batch, same lab, same protocol,,\n")
    head = "# Breast Cancer Wisconsin (Diagnostic)\n# 4 features, label y\n#\n"
    (d / name).write_text(head + "".join(text))


def test_comment_lines_are_one_line_that_names_comment(work):
    d, df = work
    _commented(d, df, "uci.csv")
    err = _one_line(run_cli(["train", "uci.csv", *FIT, "--model", "x.vlogreg"], d))
    assert "first line" in err and "comment" in err and "--comment '#'" in err, err
    err = _one_line(run_cli(["predict", "plain.vlogreg", "uci.csv"], d))
    assert "--comment '#'" in err, err
    assert not (d / "x.vlogreg").exists()


@pytest.mark.parametrize("name,middle", [("uci.csv", False), ("uci_mid.csv", True),
                                         ("uci_mid.csv.gz", True)])
def test_comment_skips_the_lines_that_start_with_it(work, name, middle):
    import gzip

    d, df = work
    _commented(d, df, name, middle)
    if name.endswith(".gz"):
        (d / name).write_bytes(gzip.compress((d / name).read_bytes()))
    _same_as_plain(d, name, ["--comment", "#"])


def test_a_header_written_after_a_hash_is_read_as_pandas_reads_it(work):
    """np.savetxt(header=...) writes the header as ``# a,b,c``: a header, not a
    comment block (the data have as many fields); pandas names the first column
    '# radius', and so does vlogreg."""
    d, df = work
    np.savetxt(d / "savetxt.csv", df.to_numpy(), delimiter=",", fmt="%.17g",
               header=",".join(df.columns))
    proc = run_cli(["train", "savetxt.csv", *FIT, "--model", "s.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    names = vlogreg.io.read_model_file(d / "s.vlogreg").metadata["feature_names"]
    assert names == list(pd.read_csv(d / "savetxt.csv").columns[:-1])
    np.testing.assert_allclose(_coef(d / "s.vlogreg"), _coef(d / "plain.vlogreg"),
                               rtol=1e-9)


@pytest.mark.parametrize("args,words", [
    (["--comment", "##"], ["--comment takes one character", "'##'"]),
    (["--comment", ","], ["--comment", "delimiter"]),
])
def test_comment_mistakes_are_one_line(work, args, words):
    d, df = work
    _commented(d, df, "uci.csv")
    err = _one_line(run_cli(["train", "uci.csv", *FIT, "--model", "x.vlogreg", *args], d))
    assert all(w in err for w in words), err


def test_comment_applies_to_csv_only(work):
    d, _ = work
    np.save(d / "x.npy", np.ones((3, 5)))
    err = _one_line(run_cli(["predict", "plain.vlogreg", "x.npy", "--comment", "#"], d))
    assert "--comment applies to CSV files" in err, err


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_comment_filter_matches_a_line_by_line_filter(chunk, monkeypatch):
    """The stream without comment lines, read in chunks that cut lines (and \\r\\n)
    anywhere, equals the lines kept one by one."""
    from vlogreg.data import csvfile

    rng = np.random.default_rng(chunk)
    pieces = ["# c,1", "a,b", "1,2", "#x", "", "3,#4", " #5,6", "7,8"]
    ends = ["\n", "\r\n", "\r"]
    lines = [pieces[i] + ends[j] for i, j in zip(rng.integers(0, len(pieces), 200),
                                                 rng.integers(0, 3, 200))]
    text = "".join(lines).encode() + b"# no end"
    monkeypatch.setattr(csvfile._Uncommented, "chunk", chunk)
    got = io.BufferedReader(csvfile._Uncommented(io.BytesIO(text), b"#"), 5).read()
    want = b"".join(s for s in text.splitlines(keepends=True) if not s.startswith(b"#"))
    assert got == want


# ------------------------------------------------------------- pandas' index column
INDEXED = {
    "index.csv": lambda df: df,                                  # to_csv(): header ''
    "shuffled.csv": lambda df: df.sample(frac=1, random_state=0).sort_index(
        key=lambda i: (i * 7919) % len(df)),                     # train_test_split's
    "unnamed.csv": lambda df: df.reset_index().rename(columns={"index": "Unnamed: 0"}),
}


@pytest.mark.parametrize("name", list(INDEXED))
def test_the_index_pandas_to_csv_writes_is_left_out_with_a_note(work, name):
    """``df.to_csv(path)`` writes the index as a first column without a name (pandas
    reads it back as 'Unnamed: 0'); training on it as a feature is a wrong model. It
    is left out, with a warning; predict and evaluate then agree with train."""
    d, df = work
    frame = INDEXED[name](df)
    frame.to_csv(d / name, index=name != "unnamed.csv")
    proc = run_cli(["train", name, *FIT, "--model", f"{name}.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "index" in proc.stderr, proc.stderr
    assert "index=False" in proc.stderr and "--features" in proc.stderr, proc.stderr
    model = vlogreg.load(d / f"{name}.vlogreg")
    assert list(model.feature_names_in_) == ["radius", "texture", "smoothness",
                                             "symmetry"]
    if name != "shuffled.csv":
        _same_as_plain(d, name)
        return
    # the rows in another order: the same optimum, up to the solver's rounding
    np.testing.assert_allclose(_coef(d / f"{name}.vlogreg"), _coef(d / "plain.vlogreg"),
                               rtol=1e-6)
    got = pd.read_csv(io.StringIO(run_cli(["predict", "plain.vlogreg", name, "--id", ""],
                                          d).stdout))
    ref = pd.read_csv(io.StringIO(run_cli(["predict", "plain.vlogreg", "plain.csv"],
                                          d).stdout))
    np.testing.assert_array_equal(got.iloc[:, 1:], ref.iloc[got.iloc[:, 0]])


def test_an_index_named_in_features_is_a_feature_and_named_ids_stay(work):
    d, df = work
    df.to_csv(d / "index.csv")
    proc = run_cli(["train", "index.csv", *FIT, "--features", "", "radius", "--model",
                    "i.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    assert vlogreg.io.read_model_file(d / "i.vlogreg").metadata["feature_names"] == \
        ["", "radius"]
    # a named column of row numbers is the user's: kept, with the id warning as before
    df.rename_axis("row").to_csv(d / "row.csv")
    proc = run_cli(["train", "row.csv", *FIT, "--model", "r.vlogreg"], d)
    assert proc.returncode == 0 and "'row'" in proc.stderr, proc.stderr
    assert "row" in vlogreg.load(d / "r.vlogreg").feature_names_in_


# ------------------------------------------------------------- formats pyarrow reads
def _zstd(path, data):
    import pyarrow as pa

    if not pa.Codec.is_available("zstd"):
        pytest.skip("this pyarrow has no zstd codec")
    with pa.output_stream(path, compression="zstd") as out:
        out.write(data)


#: file name -> how the table is written to it
WRITERS = {
    "d.feather": lambda df, p: df.to_feather(p),
    "d.arrow": lambda df, p: df.to_feather(p, compression="uncompressed"),
    "d.ipc": lambda df, p: _ipc_stream(df, p),
    "d.jsonl": lambda df, p: df.to_json(p, orient="records", lines=True),
    "d.ndjson": lambda df, p: df.to_json(p, orient="records", lines=True),
    "d.csv.bz2": lambda df, p: df.to_csv(p, index=False),
    "d.csv.xz": lambda df, p: df.to_csv(p, index=False),
    "d.tsv.bz2": lambda df, p: df.to_csv(p, index=False, sep="\t"),
    "d.csv.zst": lambda df, p: _zstd(p, df.to_csv(index=False).encode()),
}


def _ipc_stream(df, path):
    """The Arrow IPC stream format (not the file format Feather v2 is)."""
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)


@pytest.mark.parametrize("name", list(WRITERS))
def test_formats_pyarrow_reads_train_predict_and_evaluate(work, name):
    d, df = work
    WRITERS[name](df, d / name)
    _same_as_plain(d, name)
    err = _one_line(run_cli(["inspect", name], d))
    assert "is a data file" in err, err


@pytest.mark.parametrize("name", ["book.xlsx", "book.xls", "book.ods", "book.xlsm"])
def test_a_workbook_is_one_line_that_says_export_csv(work, name):
    d, _ = work
    (d / name).write_bytes(b"PK\x03\x04 a workbook")
    err = _one_line(run_cli(["train", name, *FIT, "--model", "x.vlogreg"], d))
    assert "CSV" in err and "export" in err and name in err, err


def test_an_unknown_ending_names_the_formats_read(work):
    d, df = work
    df.to_json(d / "d.json", orient="records")
    err = _one_line(run_cli(["train", "d.json", *FIT, "--model", "x.vlogreg"], d))
    for ending in (".csv", ".feather", ".jsonl", ".csv.zst", ".parquet"):
        assert ending in err, err


@pytest.mark.parametrize("name,damage", [("bad.csv.bz2", b"BZh91AY&SY garbage"),
                                         ("bad.csv.xz", b"\xfd7zXZ\x00 garbage"),
                                         ("bad.feather", b"ARROW1 not really"),
                                         ("bad.jsonl", b'{"y": 1, "radius": }\n')])
def test_a_damaged_file_is_one_line(work, name, damage):
    d, _ = work
    (d / name).write_bytes(damage)
    err = _one_line(run_cli(["train", name, *FIT, "--model", "x.vlogreg"], d))
    assert name in err, err


def test_the_index_of_a_split_pandas_wrote_into_parquet_is_left_out(work):
    """to_parquet stores an index that is no RangeIndex (a train_test_split's) as a
    last column '__index_level_0__'; pandas reads it back as the index, not a
    feature."""
    d, df = work
    part = df.sample(frac=0.8, random_state=0)
    part.to_parquet(d / "split.parquet")
    part.to_csv(d / "split.csv", index=False)
    proc = run_cli(["train", "split.parquet", *FIT, "--model", "sp.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    assert "'__index_level_0__'" in proc.stderr and "to_parquet" in proc.stderr
    proc = run_cli(["train", "split.csv", *FIT, "--model", "sc.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(d / "sp.vlogreg"), _coef(d / "sc.vlogreg"))


# ------------------------------------------------------------- a user's files
def test_a_question_mark_for_missing_is_named_and_na_values_reads_it(work):
    """UCI's adult marks a missing value with '?': the error names --na-values; with
    it, '?' is missing as in pandas.read_csv(na_values='?'), and --missing drop
    trains on the complete rows, as pandas' dropna + the same fit."""
    d, df = work
    marked = df.astype({"texture": object})
    marked.loc[[3, 10, 40], "texture"] = "?"
    marked.to_csv(d / "qmark.csv", index=False)
    err = _one_line(run_cli(["train", "qmark.csv", *FIT, "--model", "x.vlogreg"], d))
    assert "'?'" in err and "--na-values '?'" in err, err
    err = _one_line(run_cli(["train", "qmark.csv", *FIT, "--na-values", "?", "--model",
                             "x.vlogreg"], d))
    assert "missing value" in err and "3 of 569 rows" in err, err
    proc = run_cli(["train", "qmark.csv", *FIT, "--na-values", "?", "--missing", "drop",
                    "--model", "q.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    pd.read_csv(d / "qmark.csv", na_values="?").dropna().to_csv(d / "complete.csv",
                                                                 index=False)
    proc = run_cli(["train", "complete.csv", *FIT, "--model", "c.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(d / "q.vlogreg"), _coef(d / "c.vlogreg"))
    got = run_cli(["predict", "q.vlogreg", "qmark.csv", "--na-values", "?", "--missing",
                   "drop"], d)
    assert got.returncode == 0, got.stderr
    assert pd.read_csv(io.StringIO(got.stdout))["predicted"].isna().sum() == 3


def test_thousands_separators_with_a_decimal_point_name_the_fix(work):
    d, df = work
    text = df.assign(radius=[f"{1000 * v:,.1f}" for v in df["radius"]])
    text.to_csv(d / "thousands.csv", index=False)
    assert '"17,990.0"' in (d / "thousands.csv").read_text()
    err = _one_line(run_cli(["train", "thousands.csv", *FIT, "--model", "x.vlogreg"], d))
    assert "'radius'" in err and "thousands separators" in err, err


@pytest.mark.parametrize("written", [lambda v: f"{v:.1f}%", lambda v: f"${v:,.2f}",
                                     lambda v: f"€ {v:.2f}"])
def test_numbers_with_a_percent_or_currency_sign_name_the_fix(work, written):
    """Not 'pass --one-hot' (every value a level of its own): remove the signs."""
    d, df = work
    df.assign(radius=[written(v) for v in df["radius"]]).to_csv(d / "signs.csv",
                                                                 index=False)
    err = _one_line(run_cli(["train", "signs.csv", *FIT, "--model", "x.vlogreg"], d))
    assert "'radius'" in err and "% or currency sign" in err, err


def test_one_hot_on_numbers_with_signs_says_each_value_became_a_category(work):
    """--one-hot accepts the text, but a category per price is no model anyone meant:
    the warning names the column and the fix; a real text column gets no such note."""
    d, df = work
    kinds = np.array(["red", "green", "blue"])[np.arange(len(df)) % 3]
    df.assign(radius=[f"${1000 * v:,.2f}" for v in df["radius"]], color=kinds).to_csv(
        d / "price.csv", index=False)
    proc = run_cli(["train", "price.csv", "--target", "y", "--one-hot", "--model",
                    "p.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "--one-hot made" in line]
    assert len(warned) == 1, proc.stderr
    assert "'radius'" in warned[0] and "% or currency sign" in warned[0], warned
    assert f"{df['radius'].nunique()} values" in warned[0], warned
    assert "'color'" not in proc.stderr, proc.stderr


def test_a_continuous_label_column_says_to_name_a_class_column(work):
    d, _ = work
    err = _one_line(run_cli(["train", "plain.csv", "--target", "radius", "--model",
                             "x.vlogreg"], d))
    assert "'radius'" in err and "continuous" in err and "--target" in err, err
    assert "sklearn" not in err and "regression target" not in err, err
