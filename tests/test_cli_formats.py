"""Tables as they come (issue 18, item 6): ``;`` and tab delimiters detected or given
with --delimiter, MODEL and DATA given the other way round, output endings that are
no known format, predictions on standard output, --debug after the command.

Every case runs as ``python -m vlogreg`` in a subprocess, on files with the problem;
results are compared with the same data read from a plain comma CSV and with the
model read back by ``vlogreg.load``.
"""

import io
import json

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

import vlogreg
from _cli import run_cli


_vlogreg = run_cli


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The same table as comma, semicolon (with decimal commas in a text column) and
    tab-separated files, and a model trained on the comma one."""
    d = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(3)
    m = 240
    df = pd.DataFrame({"individual": np.arange(1, m + 1),
                       "mode": rng.choice(["air", "bus", "train"], m),
                       "income": rng.normal(50, 10, m).round(2),
                       "size": rng.integers(1, 6, m)})
    z = 0.08 * (df["income"] - 50) + (df["mode"] == "air") * 1.0 - 0.3 * df["size"] + 0.5
    df["choice"] = np.where(rng.random(m) < 1 / (1 + np.exp(-z)), "yes", "no")
    df.to_csv(d / "comma.csv", index=False)
    df.to_csv(d / "semi.csv", index=False, sep=";")
    df.to_csv(d / "tabs.tsv", index=False, sep="\t")
    df.to_csv(d / "tabs.csv", index=False, sep="\t")
    df.to_csv(d / "pipes.txt.csv", index=False, sep="|")
    assert _vlogreg(["train", "comma.csv", "--target", "choice", "--exclude", "individual",
                     "--one-hot", "--model", "model.vlogreg", "--quiet"], d).returncode == 0
    return d


def _coef(path):
    model = vlogreg.load(path)
    return np.concatenate([model.intercept_, model.coef_.ravel()])


@pytest.mark.parametrize("name,extra", [("semi.csv", []), ("tabs.tsv", []),
                                        ("tabs.csv", []),
                                        ("pipes.txt.csv", ["--delimiter", "pipe"]),
                                        ("semi.csv", ["--delimiter", ";"])])
def test_delimiter_detected_or_given_trains_the_same_model(work, name, extra):
    out = f"m-{name}-{len(extra)}.vlogreg"
    proc = _vlogreg(["train", name, "--target", "choice", "--exclude", "individual",
                     "--one-hot", "--model", out, "--quiet", *extra], work)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(work / out), _coef(work / "model.vlogreg"))
    assert vlogreg.io.read_model_file(work / out).metadata["feature_names"] == \
        vlogreg.io.read_model_file(work / "model.vlogreg").metadata["feature_names"]


def test_a_wrong_delimiter_is_refused_in_one_line(work):
    for args, words in (
            (["train", "semi.csv", "--target", "choice", "--delimiter", ",", "--model",
              "x.vlogreg"], ["no column 'choice'"]),
            (["train", "semi.csv", "--target", "choice", "--delimiter", ";;", "--model",
              "x.vlogreg"], ["--delimiter takes one character", "';;'"]),
            (["predict", "model.vlogreg", "x.npy", "--delimiter", ";"],
             ["--delimiter applies to CSV files"])):
        if "x.npy" in args:
            np.save(work / "x.npy", np.ones((2, 3)))
        proc = _vlogreg(args, work)
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert all(w in proc.stderr for w in words), proc.stderr
    assert not (work / "x.vlogreg").exists()


def test_predict_and_evaluate_on_a_semicolon_file(work):
    proc = _vlogreg(["predict", "model.vlogreg", "semi.csv", "--id", "individual"], work)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    df = pd.read_csv(work / "comma.csv")
    model = vlogreg.load(work / "model.vlogreg")
    X = pd.get_dummies(df.drop(columns=["individual", "choice"]), columns=["mode"],
                       dtype=float)
    names = vlogreg.io.read_model_file(work / "model.vlogreg").metadata["feature_names"]
    X.columns = [c.replace("mode_", "mode=") for c in X.columns]
    proba = model.predict_proba(X[names].to_numpy())
    np.testing.assert_array_equal(got["individual"], df["individual"])
    np.testing.assert_allclose(got[["proba_no", "proba_yes"]], proba, rtol=1e-12)
    proc = _vlogreg(["evaluate", "model.vlogreg", "semi.csv", "--json"], work)
    assert proc.returncode == 0, proc.stderr


def test_predict_without_out_writes_only_csv_on_stdout(work):
    proc = _vlogreg(["predict", "model.vlogreg", "comma.csv"], work)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout))
    assert list(got.columns) == ["proba_no", "proba_yes", "predicted"]
    assert len(got) == len(pd.read_csv(work / "comma.csv"))
    assert set(got["predicted"]) <= {"no", "yes"}


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_swapped_model_and_data_are_named(work, command):
    proc = _vlogreg([command, "comma.csv", "model.vlogreg"], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "MODEL and DATA look swapped" in proc.stderr
    assert f"vlogreg {command} model.vlogreg comma.csv" in proc.stderr
    assert "zip" not in proc.stderr


#: inspect's arguments -> what its one-line error must say
INSPECT_MISTAKES = {
    ("comma.csv",): ["comma.csv is a data file (csv), not a model file",
                     "vlogreg inspect MODEL"],
    ("comma.csv", "model.vlogreg"): ["MODEL and DATA look swapped",
                                     "vlogreg inspect model.vlogreg"],
    ("model.vlogreg", "comma.csv"): ["inspect takes one MODEL file",
                                     "vlogreg evaluate model.vlogreg comma.csv"],
    ("model.vlogreg", "model.vlogreg"): ["inspect takes one MODEL file",
                                         "inspect each one"],
}


@pytest.mark.parametrize("files", list(INSPECT_MISTAKES))
def test_inspect_names_a_data_file_or_swapped_arguments(work, files):
    proc = _vlogreg(["inspect", *files], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    for words in INSPECT_MISTAKES[files]:
        assert words in proc.stderr, proc.stderr
    assert "zip" not in proc.stderr and "usage" not in proc.stderr


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_data_file_given_as_the_model_is_named(work, command):
    proc = _vlogreg([command, "comma.csv", "comma.csv"], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "comma.csv is a data file (csv), not a model file" in proc.stderr
    assert f"vlogreg {command} MODEL DATA" in proc.stderr and "zip" not in proc.stderr


def test_inspect_usage_shows_one_model(work):
    proc = _vlogreg(["inspect", "--help"], work)
    assert "MODEL" in proc.stdout and "extra" not in proc.stdout


@pytest.mark.parametrize("out", ["p.xlsx", "p", "p.json"])
def test_an_unknown_output_ending_is_an_error(work, out):
    proc = _vlogreg(["predict", "model.vlogreg", "comma.csv", "--out", out], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "unknown output format" in proc.stderr and ".parquet" in proc.stderr
    assert not (work / out).exists()


def test_tsv_output_is_tab_separated(work):
    proc = _vlogreg(["predict", "model.vlogreg", "comma.csv", "--out", "p.tsv"], work)
    assert proc.returncode == 0, proc.stderr
    tsv = pd.read_csv(work / "p.tsv", sep="\t")
    csv = pd.read_csv(io.StringIO(_vlogreg(["predict", "model.vlogreg", "comma.csv"],
                                           work).stdout))
    pd.testing.assert_frame_equal(tsv, csv)


def test_debug_is_accepted_after_the_command(work):
    args = ["evaluate", "model.vlogreg", "absent.csv"]
    after = _vlogreg([*args, "--debug"], work)
    before = _vlogreg(["--debug", *args], work)
    plain = _vlogreg(args, work)
    for proc in (after, before):
        assert proc.returncode != 0 and "Traceback" in proc.stderr, proc.stderr
    assert plain.returncode == 2 and "Traceback" not in plain.stderr


# ------------------------------------------------------------- decimal commas
@pytest.fixture(scope="module")
def euro(work):
    """comma.csv as a spreadsheet in a comma-decimal locale writes it: ``;`` between
    fields, ``,`` before decimals (and the same with tabs)."""
    df = pd.read_csv(work / "comma.csv")
    df.to_csv(work / "euro.csv", index=False, sep=";", decimal=",")
    df.to_csv(work / "euro.tsv", index=False, sep="\t", decimal=",")
    assert "," in (work / "euro.csv").read_text().splitlines()[1]
    return work


@pytest.mark.parametrize("name,extra", [("euro.csv", []), ("euro.tsv", []),
                                        ("euro.csv", ["--decimal", ","]),
                                        ("euro.csv", ["--decimal", "comma",
                                                      "--delimiter", ";"])])
def test_decimal_commas_detected_or_given_train_the_same_model(euro, name, extra):
    out = f"e-{name}-{len(extra)}.vlogreg"
    proc = _vlogreg(["train", name, "--target", "choice", "--exclude", "individual",
                     "--one-hot", "--model", out, "--quiet", *extra], euro)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(euro / out), _coef(euro / "model.vlogreg"))


def test_predict_and_evaluate_read_decimal_commas(euro):
    ref = _vlogreg(["predict", "model.vlogreg", "comma.csv"], euro)
    got = _vlogreg(["predict", "model.vlogreg", "euro.csv"], euro)
    assert got.returncode == 0, got.stderr
    assert got.stdout == ref.stdout
    a = json.loads(_vlogreg(["evaluate", "model.vlogreg", "euro.csv", "--json"],
                            euro).stdout)
    b = json.loads(_vlogreg(["evaluate", "model.vlogreg", "comma.csv", "--json"],
                            euro).stdout)
    assert a["log_loss"] == b["log_loss"] and a["accuracy"] == b["accuracy"]


def test_a_wrong_decimal_mark_is_one_line_that_names_the_fix(euro):
    np.save(euro / "x.npy", np.ones((2, 3)))
    for args, words in (
            (["train", "euro.csv", "--target", "choice", "--exclude", "individual",
              "--decimal", ".", "--model", "x.vlogreg"],
             ["'income'", "decimal comma", "--decimal ,"]),
            (["predict", "model.vlogreg", "euro.csv", "--decimal", "."],
             ["'income'", "not a number", "--decimal ,"]),
            (["train", "euro.csv", "--target", "choice", "--decimal", "x", "--model",
              "x.vlogreg"], ["--decimal takes . or ,", "'x'"]),
            (["predict", "model.vlogreg", "x.npy", "--decimal", ","],
             ["--decimal applies to CSV files"])):
        proc = _vlogreg(args, euro)
        assert proc.returncode in (1, 2) and len(proc.stderr.splitlines()) == 1, \
            proc.stderr
        assert all(w in proc.stderr for w in words), proc.stderr
    assert not (euro / "x.vlogreg").exists()


@pytest.mark.parametrize("text,sep,mark", [
    ("a;b\n1,5;2\n-0,25e-3;7\n", ";", ","),
    ("a;b\n1.5;2\n3,5;7\n", ";", "."),        # a decimal point anywhere: points
    ("a;b\n1;2\nx,y;7\n", ";", "."),          # text with a comma is not a number
    ("a,b\n1,5\n", ",", "."),                 # comma-separated: never a decimal comma
    ("a\tb\n1,5\t2,25\n", "\t", ","),
    ("a\tb\n1,234\t2\n12,500,000\t3\n", "\t", "."),  # thousands, not decimals
    ("a\tb\n1,234\t2\n0,5\t3\n", "\t", ","),  # 0,5 decides
    ("a;b\n1,234;2\n", ";", ","),              # ; : the comma-decimal locales' own
])
def test_sniff_decimal(tmp_path, text, sep, mark):
    from vlogreg.data.delimiter import sniff_decimal, sniff_delimiter

    (tmp_path / "f.csv").write_text(text)
    assert sniff_delimiter(tmp_path / "f.csv") == sep
    assert sniff_decimal(tmp_path / "f.csv", sep) == mark


def test_thousands_separators_in_a_tab_file_are_not_read_as_decimals(tmp_path):
    """A US spreadsheet's tab-separated ``1,234`` must not become 1.234: it stays text,
    and the error names both readings."""
    from vlogreg.data.files import read_training_data

    rows = ["a\tb\ty"] + [f"{1000 + 37 * i:,}\t{i % 3}\t{i % 2}" for i in range(30)]
    (tmp_path / "us.tsv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError) as info:
        read_training_data(tmp_path / "us.tsv", "y")
    msg = str(info.value)
    assert "'a'" in msg and "thousands separators" in msg and "--decimal ," in msg, msg


# ------------------------------------------------------------- text that is not UTF-8
def _encoded(work, name, encoding, rename=None):
    """comma.csv with a level 'Zürich' (and a header name with an umlaut when
    ``rename``), written in ``encoding``; gzipped when the name ends .gz."""
    import gzip

    df = pd.read_csv(work / "comma.csv").replace({"mode": {"bus": "Zürich"}})
    text = df.rename(columns=rename or {}).to_csv(index=False).encode(encoding)
    path = work / name
    (gzip.open if name.endswith(".gz") else open)(path, "wb").write(text)
    return name


@pytest.mark.parametrize("name,encoding,rename,words", [
    ("latin1.csv", "latin-1", None, ["column 'mode' holds b'Z\\xfcrich' at row",
                                     "iconv -f latin1 -t utf-8 latin1.csv"]),
    ("cp1252.csv", "cp1252", {"size": "größe"}, ["the header holds the byte b'\\xf6'"]),
    ("utf16.csv", "utf-16", None, ["UTF-16 byte-order mark", "iconv -f utf-16"]),
    ("latin1.csv.gz", "latin-1", None, ["gunzip -c latin1.csv.gz | iconv -f latin1"]),
])
def test_text_that_is_not_utf8_is_one_line_with_the_conversion(work, name, encoding,
                                                               rename, words):
    _encoded(work, name, encoding, rename)
    proc = _vlogreg(["train", name, "--target", "choice", "--exclude", "individual",
                     "--one-hot", "--model", "x.vlogreg", "-q"], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert f"{name} is not UTF-8 text" in proc.stderr and "save it as UTF-8" in proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_a_byte_order_mark_reads_the_umlaut(work, encoding):
    name = _encoded(work, f"{encoding}.csv", encoding, {"size": "größe"})
    proc = _vlogreg(["train", name, "--target", "choice", "--exclude", "individual",
                     "--one-hot", "--model", f"{encoding}.vlogreg", "-q"], work)
    assert proc.returncode == 0, proc.stderr
    model = vlogreg.load(work / f"{encoding}.vlogreg")
    names = list(model.feature_names_in_)
    assert model.input_["one_hot"]["mode"] == ["Zürich", "air", "train"]
    assert "größe" in names and "\ufeff" not in "".join(names)


def test_a_delimiter_at_the_end_of_every_line_names_the_empty_column(work):
    """A spreadsheet's export with a trailing comma: a last column named '' that is
    empty in every row (before: '240 of 240 rows have a missing value ... --missing
    drop', which would drop every row)."""
    text = (work / "comma.csv").read_text().splitlines()
    (work / "trailing.csv").write_text("".join(line + ",\n" for line in text))
    args = ["train", "trailing.csv", "--target", "choice", "--one-hot", "-q", "--model",
            "t.vlogreg", "--exclude", "individual"]
    proc = _vlogreg(args, work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "column '' is empty in every row" in proc.stderr
    assert "--exclude ''" in proc.stderr and "--missing drop" not in proc.stderr
    proc = _vlogreg([*args, ""], work)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(_coef(work / "t.vlogreg"), _coef(work / "model.vlogreg"))


@pytest.mark.parametrize("relabel,shown", [
    ({"yes": "Yes"}, "'Yes', 'yes'"),
    ({"no": "no "}, "'no', 'no '"),
])
def test_labels_that_differ_in_case_or_spaces_are_warned(work, relabel, shown):
    df = pd.read_csv(work / "comma.csv")
    df.loc[::5, "choice"] = df.loc[::5, "choice"].replace(relabel)
    df.to_csv(work / "labels.csv", index=False)
    proc = _vlogreg(["train", "labels.csv", "--target", "choice", "--one-hot", "-q",
                     "--exclude", "individual", "--model", "l.vlogreg"], work)
    assert proc.returncode == 0, proc.stderr
    assert vlogreg.load(work / "l.vlogreg").classes_.size == 3  # as written: 3 classes
    line = [s for s in proc.stderr.splitlines() if "differ only in case or spaces" in s]
    assert line and shown in line[0] and "(3 in all)" in line[0], proc.stderr


def test_clean_labels_get_no_such_warning(work):
    proc = _vlogreg(["train", "comma.csv", "--target", "choice", "--one-hot", "-q",
                     "--exclude", "individual", "--model", "c.vlogreg"], work)
    assert proc.returncode == 0 and "differ only" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("text", ["", "\n", "\n\n"])
def test_an_empty_file_is_named_empty(tmp_path, text):
    (tmp_path / "empty.csv").write_text(text)
    proc = _vlogreg(["train", "empty.csv", "--target", "y", "--model", "e.vlogreg"],
                    tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "empty.csv is empty: it has no header line and no rows" in proc.stderr
    assert "delimiter" not in proc.stderr


def test_predict_on_a_file_without_the_models_columns_names_them_all(work):
    df = pd.read_csv(work / "comma.csv").rename(columns={"income": "salary"})
    df.drop(columns="size").to_csv(work / "renamed.csv", index=False)
    proc = _vlogreg(["predict", "model.vlogreg", "renamed.csv", "--out", "r.csv"], work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert ("renamed.csv has no columns 'income', 'size' (features of the model); its "
            "columns are: individual, mode, salary, choice.") in proc.stderr
