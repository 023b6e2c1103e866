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
