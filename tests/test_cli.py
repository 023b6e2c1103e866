"""The model commands (train, predict, evaluate, inspect) run as a user runs them.

Every command and every error case runs once as ``python -m vlogreg ...`` in a
subprocess; the runs are independent, so they start together (each one spends about a
second importing). Results are compared with scikit-learn's metrics and with the
model read back by ``vlogreg.load``, never with stored outputs. The file formats and
the rarer errors run in-process through ``vlogreg.cli.main``.
"""

import io
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.datasets import dump_svmlight_file, load_breast_cancer, load_iris
from sklearn.model_selection import train_test_split

import vlogreg
from vlogreg.cli import main

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

FEATURES = ["mean radius", "mean texture", "mean smoothness", "worst concavity"]

#: name -> (arguments, what the one stderr line must contain); run as subprocesses
ERRORS = {
    "malformed csv": (["train", "ragged.csv", "--target", "y", "--model", "m.vlogreg"],
                      ["ragged.csv", "line 4 has 2 fields", "header has 3"]),
    "missing target": (["train", "train.csv", "--target", "label", "--model", "m.vlogreg"],
                       ["no column 'label'", "its columns are: id, mean radius"]),
    "non-numeric": (["train", "nonnum.csv", "--target", "y", "--model", "m.vlogreg"],
                    ["column 'b'", "'x3'", "row 3", "not a number"]),
    "nan": (["train", "nan.csv", "--target", "y", "--model", "m.vlogreg"],
            ["column 'b'", "missing value", "row 2"]),
    "single class": (["train", "one.csv", "--target", "y", "--model", "m.vlogreg"],
                     ["one class only"]),
    "corrupt model": (["inspect", "corrupt.vlogreg"], ["corrupt.vlogreg", "not a readable"]),
    "missing data file": (["evaluate", "model.vlogreg", "absent.csv"],
                          ["'absent.csv' does not exist"]),
}
#: the same contract, checked in-process (vlogreg.cli.main) to save start-up time
MORE_ERRORS = {
    "text columns": (["train", "text.csv", "--target", "y", "--model", "m.vlogreg"],
                     ["'color', 'city'", "--one-hot"]),
    "pyarrow missing": (["train", "train.csv", "--target", "diagnosis", "--model",
                         "m.vlogreg"], ["needs pyarrow", "pip install 'vlogreg[cli]'"]),
    "truncated model": (["predict", "truncated.vlogreg", "test.csv", "--out", "p.csv"],
                        ["truncated.vlogreg", "corrupt or truncated"]),
    "missing model file": (["predict", "absent.vlogreg", "test.csv", "--out", "p.csv"],
                           ["'absent.vlogreg' does not exist"]),
    "unknown format": (["train", "data.dat", "--target", "y", "--model", "m.vlogreg"],
                       ["cannot tell the format", ".parquet"]),
    "unseen label": (["evaluate", "model.vlogreg", "relabelled.csv"],
                     ["label 'unsure'", "row 1", "not one of the model's classes"]),
    "no label column": (["evaluate", "model.vlogreg", "unlabelled.csv"],
                        ["no column 'diagnosis'"]),
    "inference with l1": (["train", "train.csv", "--target", "diagnosis", "--penalty", "l1",
                           "--inference", "--model", "m.vlogreg"], ["--inference needs"]),
    "edited input spec": (["predict", "edited.vlogreg", "test.csv", "--out", "p.csv"],
                          ["training.input", "damaged"]),
    "id in an array file": (["predict", "model.vlogreg", "x.npy", "--id", "id", "--out",
                             "p.csv"], ["--id names a column"]),
}


def _vlogreg(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "vlogreg", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with the data files, and a model trained in-process."""
    d = tmp_path_factory.mktemp("cli")
    data = load_breast_cancer(as_frame=True)
    df = data.frame[FEATURES].copy()
    df.insert(0, "id", np.arange(5000, 5000 + len(df)))
    df["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    train, test = train_test_split(df, test_size=0.3, stratify=df["diagnosis"],
                                   random_state=0)
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    test.drop(columns="diagnosis").to_csv(d / "unlabelled.csv", index=False)
    test.assign(diagnosis=["unsure"] + list(test["diagnosis"][1:])).to_csv(
        d / "relabelled.csv", index=False)
    (d / "ragged.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,6\n7,8,1\n")
    (d / "nonnum.csv").write_text("a,b,y\n1,2,0\n3,4,1\n5,x3,1\n7,8,0\n9,1,1\n")
    (d / "nan.csv").write_text("a,b,y\n1,2,0\n3,,1\n5,6,1\n7,8,0\n")
    (d / "text.csv").write_text("a,color,city,y\n1,red,A,0\n3,blue,B,1\n5,red,A,1\n")
    (d / "one.csv").write_text("a,b,y\n1,2,0\n3,4,0\n")
    (d / "data.dat").write_text("not really")
    (d / "corrupt.vlogreg").write_bytes(b"PK\x03\x04 this is not a zip archive")
    np.save(d / "x.npy", np.ones((3, len(FEATURES))))
    cwd = os.getcwd()
    os.chdir(d)
    try:
        assert main(["train", "train.csv", "--target", "diagnosis", "--exclude", "id",
                     "--inference", "--model", "model.vlogreg", "--quiet"]) == 0
    finally:
        os.chdir(cwd)
    trained = vlogreg.io.read_model_file(d / "model.vlogreg")
    vlogreg.save(trained.model, d / "edited.vlogreg", feature_names=FEATURES,
                 training={"input": {"format": "table", "columns": "mean radius"}})
    good = (d / "model.vlogreg").read_bytes()
    (d / "truncated.vlogreg").write_bytes(good[:len(good) // 2])
    return d


@pytest.fixture(scope="module")
def runs(work):
    """Every subprocess of this module, run concurrently: name -> CompletedProcess."""
    env = dict(os.environ, MPLBACKEND="Agg")
    jobs = {name: (args, env) for name, (args, _) in ERRORS.items()}
    jobs.update({
        "train json": (["train", "train.csv", "--target", "diagnosis", "--exclude", "id",
                        "--inference", "--json", "--model", "json.vlogreg"], env),
        "predict": (["predict", "model.vlogreg", "test.csv", "--out", "preds.csv", "--id",
                     "id"], env),
        "evaluate json": (["evaluate", "model.vlogreg", "test.csv", "--json", "--plots",
                           "plots"], env),
        "inspect json": (["inspect", "model.vlogreg", "--json"], env),
    })
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(_vlogreg, args, work, e)
                   for name, (args, e) in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.fixture(scope="module")
def model(work):
    return vlogreg.load(work / "model.vlogreg")


def _ok(r):
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r.stdout


def _xy(work, name):
    df = pd.read_csv(work / name, engine="python")
    # C order, as the CLI builds X: BLAS may round differently for another layout
    return df, np.ascontiguousarray(df[FEATURES].to_numpy()), df["diagnosis"].to_numpy()


@pytest.mark.parametrize("case", list(ERRORS))
def _one_line_error(code, out, err, command, parts):
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"vlogreg {command}: error: ")
    for part in parts:
        assert part in lines[0]


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_with_exit_code_2(runs, work, case):
    r = runs[case]
    args, parts = ERRORS[case]
    _one_line_error(r.returncode, r.stdout, r.stderr, args[0], parts)
    assert r.stdout == "" and not (work / "m.vlogreg").exists()


@pytest.mark.parametrize("case", list(MORE_ERRORS))
def test_more_errors_are_one_line(work, monkeypatch, capsys, case):
    monkeypatch.chdir(work)
    if case == "pyarrow missing":
        for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
            monkeypatch.setitem(sys.modules, name, None)  # `import pyarrow...` now fails
    args, parts = MORE_ERRORS[case]
    code = main(args)
    out, err = capsys.readouterr()
    _one_line_error(code, out, err, args[0], parts)
    assert not (work / "m.vlogreg").exists()


def test_debug_lets_the_exception_through(work, monkeypatch):
    monkeypatch.chdir(work)
    with pytest.raises(ValueError, match="no column 'label'"):  # Python prints the traceback
        main(["--debug", "train", "train.csv", "--target", "label", "--model", "m.vlogreg"])


def test_train_report_and_refit(work, model, monkeypatch, capsys):
    monkeypatch.chdir(work)
    assert main(["train", "train.csv", "--target", "diagnosis", "--exclude", "id",
                 "--model", "text.vlogreg"]) == 0
    out = capsys.readouterr().out
    assert "train.csv" in out and "converged" in out and "text.vlogreg" in out
    # the fit's cost in reads of X: at least the checks' and one per iteration
    found = re.search(r"converged in (\d+) iterations, ([\d.]+) passes over the data", out)
    assert found and float(found[2]) >= int(found[1]) + 1, out
    again = vlogreg.load(work / "text.vlogreg")  # the same data and options, the same fit
    _, X, _ = _xy(work, "test.csv")
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_train_json(runs, work):
    r = json.loads(_ok(runs["train json"]))
    m = vlogreg.load(work / r["model"])
    _, X, y = _xy(work, "train.csv")
    assert r["n_samples"] == len(y) and r["n_features"] == len(FEATURES)
    assert r["classes"] == ["benign", "malignant"] == list(m.classes_)
    assert r["n_iter"] == m.n_iter_[0] and r["converged"] is m.converged_ is True
    assert r["n_passes"] >= r["n_iter"] + 1  # the checks' read, one or more per iteration
    assert r["solver"] == m.solver_ and r["time"] > 0 and r["inference"] is True
    assert r["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y, m.predict(X)))
    assert r["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y, m.predict_proba(X)))


def test_predict_writes_probabilities_labels_and_ids(runs, work, model):
    assert "preds.csv" in _ok(runs["predict"])
    df, X, _ = _xy(work, "test.csv")
    preds = pd.read_csv(work / "preds.csv", engine="python")
    assert list(preds.columns) == ["id", "proba_benign", "proba_malignant", "predicted"]
    np.testing.assert_array_equal(preds["id"], df["id"])
    np.testing.assert_array_equal(preds[["proba_benign", "proba_malignant"]],
                                  model.predict_proba(X))  # written in full precision
    np.testing.assert_array_equal(preds["predicted"], model.predict(X))


def test_evaluate_json_matches_scikit_learn(runs, work, model):
    r = json.loads(_ok(runs["evaluate json"]))
    _, X, y = _xy(work, "test.csv")
    proba, pred = model.predict_proba(X), model.predict(X)
    assert r["n_samples"] == len(y)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert r["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert r["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "malignant", proba[:, 1]))
    p, rec, f, s = skm.precision_recall_fscore_support(y, pred)
    assert [c["precision"] for c in r["per_class"]] == pytest.approx(list(p))
    assert [c["recall"] for c in r["per_class"]] == pytest.approx(list(rec))
    assert [c["f1"] for c in r["per_class"]] == pytest.approx(list(f))
    assert [c["support"] for c in r["per_class"]] == list(s)
    assert r["positive_label"] == "malignant" and r["f1"] == pytest.approx(f[1])
    assert r["macro"]["f1"] == pytest.approx(f.mean())
    assert r["confusion_matrix"]["matrix"] == skm.confusion_matrix(y, pred).tolist()
    for name in ("roc.png", "calibration.png", "learning_curve.png"):
        png = (work / "plots" / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_evaluate_text(work, model, monkeypatch, capsys):
    monkeypatch.chdir(work)
    assert main(["evaluate", "model.vlogreg", "test.csv"]) == 0
    out = capsys.readouterr().out
    _, X, y = _xy(work, "test.csv")
    assert f"{100 * skm.accuracy_score(y, model.predict(X)):.2f} %" in out
    assert f"{skm.log_loss(y, model.predict_proba(X)):.4f}" in out
    assert "confusion matrix" in out and "malignant" in out


def test_inspect_json_and_text(runs, work, model):
    from vlogreg.inference import summary

    r = json.loads(_ok(runs["inspect json"]))
    assert r["format"] == "vlogreg-model" and r["format_version"] == 1
    assert r["feature_names"] == FEATURES and r["classes"] == ["benign", "malignant"]
    coef = {row["name"]: row["coef"] for row in r["coefficients"]}
    assert coef["intercept"] == model.intercept_[0]
    assert [coef[n] for n in FEATURES] == list(model.coef_[0])
    _, X, y = _xy(work, "train.csv")
    # the model read back names its features: give them (a bare array warns, as in sklearn)
    s = summary(model, pd.DataFrame(X, columns=model.feature_names_in_), y)
    rows = r["inference"]["rows"]
    assert [row["name"] for row in rows] == ["intercept"] + FEATURES
    np.testing.assert_allclose([row["std_err"] for row in rows], s.std_err, rtol=1e-9)
    np.testing.assert_allclose([row["p_value"] for row in rows], s.p_value, rtol=1e-9)

def test_inspect_text(work, model, monkeypatch, capsys):
    from vlogreg.inference import summary

    monkeypatch.chdir(work)
    assert main(["inspect", "model.vlogreg"]) == 0
    out = capsys.readouterr().out
    _, X, y = _xy(work, "train.csv")
    # the model read back names its features: give them (a bare array warns, as in sklearn)
    s = summary(model, pd.DataFrame(X, columns=model.feature_names_in_), y)
    assert "std err" in out and all(n in out for n in FEATURES)
    assert f"{s.std_err[1]:.4f}" in out


# ------------------------------------------------------------------ in-process
def _main(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def iris_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("formats")
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])
    np.save(d / "iris.npy", np.column_stack([X[:, :2], y, X[:, 2:]]))  # labels in column 2
    np.savez(d / "iris.npz", X=X, y=names[y])
    dump_svmlight_file(X, y, str(d / "iris.svm"), zero_based=False)
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"]).assign(species=names[y])
    df.to_parquet(d / "iris.parquet")
    df.to_csv(d / "iris.tsv", sep="\t", index=False)
    return d, X, y, names


@pytest.mark.parametrize("fmt, target, labels", [
    ("npy", "2", "int"), ("npz", None, "str"), ("svm", None, "int"),
    ("parquet", "species", "str"), ("tsv", "species", "str")])
def test_formats_train_predict_evaluate(iris_files, tmp_path, capsys, fmt, target, labels):
    d, X, y, names = iris_files
    data = str(d / f"iris.{fmt}")
    model_path = str(tmp_path / "m.vlogreg")
    args = ["train", data, "--model", model_path, "--quiet"]
    assert _main(args + (["--target", target] if target else []), capsys)[0] == 0
    model = vlogreg.load(model_path)
    y_true = names[y] if labels == "str" else y
    reference = vlogreg.LogisticRegression().fit(X, y_true)  # same data, same defaults
    np.testing.assert_array_equal(model.classes_, reference.classes_)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9, atol=1e-12)
    out = tmp_path / "p.parquet"
    assert _main(["predict", model_path, data, "--out", str(out)], capsys)[0] == 0
    preds = pd.read_parquet(out)
    np.testing.assert_array_equal(preds["predicted"], model.predict(X))
    # svmlight gives a sparse X, whose products round differently from the dense X here
    np.testing.assert_allclose(preds.iloc[:, :3].to_numpy(), model.predict_proba(X),
                               rtol=1e-12, atol=1e-15)
    code, js, _ = _main(["evaluate", model_path, data, "--json"], capsys)
    assert code == 0
    r = json.loads(js)
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y_true, model.predict(X)))
    assert r["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y_true, model.predict_proba(X), multi_class="ovr"))


def test_one_hot_encodes_text_columns_and_reuses_the_categories(tmp_path, capsys):
    rng = np.random.default_rng(0)
    color = rng.choice(["red", "green", "blue"], 200)
    x = rng.normal(size=200)
    y = (x + (color == "red") + rng.normal(size=200) > 0.5).astype(int)
    pd.DataFrame({"x": x, "color": color, "y": y}).to_csv(tmp_path / "d.csv", index=False)
    m = str(tmp_path / "m.vlogreg")
    assert _main(["train", str(tmp_path / "d.csv"), "--target", "y", "--one-hot",
                  "--model", m, "--quiet"], capsys)[0] == 0
    model = vlogreg.load(m)
    # reference coding: "blue", first in sorted order, has no column
    Xd = np.column_stack([x] + [(color == c).astype(float) for c in ["green", "red"]])
    np.testing.assert_allclose(model.coef_, vlogreg.LogisticRegression().fit(Xd, y).coef_,
                               rtol=1e-9)
    meta = vlogreg.io.read_model_file(m).metadata
    assert meta["feature_names"] == ["x", "color=green", "color=red"]
    # prediction rows in another order, with only some categories present
    pd.DataFrame({"color": ["red", "red"], "x": [0.1, -2.0]}).to_csv(tmp_path / "n.csv",
                                                                      index=False)
    out = tmp_path / "p.csv"
    assert _main(["predict", m, str(tmp_path / "n.csv"), "--out", str(out)], capsys)[0] == 0
    expected = model.predict_proba(np.array([[0.1, 0, 1], [-2.0, 0, 1]]))
    preds = pd.read_csv(out, engine="python")  # Python's float(): correctly rounded
    np.testing.assert_array_equal(preds.iloc[:, :2].to_numpy(), expected)
    pd.DataFrame({"color": ["red", "purple"], "x": [0.1, 2.0]}).to_csv(tmp_path / "u.csv",
                                                                       index=False)
    code, _, err = _main(["predict", m, str(tmp_path / "u.csv"), "--out", str(out)], capsys)
    assert code == 2 and "'purple' at row 2" in err and "never saw" in err


@pytest.mark.parametrize("args, message", [
    (["train", "{d}/x.npy", "--target", "7", "--model", "{d}/m"], "out of range"),
    (["train", "{d}/x.npy", "--target", "y", "--model", "{d}/m"], "column's index"),
    (["train", "{d}/x.npy", "--target", "0", "--one-hot", "--model", "{d}/m"],
     "select CSV and Parquet columns"),
    (["train", "{d}/x.npz", "--model", "{d}/m"], "no array 'X'"),
    (["train", "{d}/x.svm", "--model", "{d}/m"], "not a valid svmlight"),
    (["train", "{d}/inf.csv", "--target", "y", "--model", "{d}/m"], "holds inf at row 2"),
    (["train", "{d}/inf.csv", "--target", "y", "--features", "a", "zz", "--model", "{d}/m"],
     "no column 'zz'"),
    (["train", "{d}/inf.csv", "--target", "y", "--features", "y", "--model", "{d}/m"],
     "cannot also be a feature"),
    (["train", "{d}/inf.csv", "--target", "y", "--model", "{d}/no/m"], "does not exist"),
    (["train", "{d}/x.parquet", "--target", "y", "--model", "{d}/m"], "not a readable Parquet"),
])
def test_more_errors_in_process(tmp_path, capsys, args, message):
    np.save(tmp_path / "x.npy", np.array([[1.0, 0.0], [2.0, 1.0]]))
    np.savez(tmp_path / "x.npz", A=np.ones((2, 2)))
    (tmp_path / "x.svm").write_text("1 1:2 oops\n")
    (tmp_path / "inf.csv").write_text("a,b,y\n1,2,0\n3,inf,1\n")
    (tmp_path / "x.parquet").write_text("a,b\n")
    code, out, err = _main([a.format(d=tmp_path) for a in args], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_progress_bar_appears_only_after_the_delay():
    from rich.console import Console

    from vlogreg.cli.train import FitProgress
    from vlogreg.solvers import IterationState

    def run(delay):
        buf = io.StringIO()
        bar = FitProgress(Console(file=buf, force_terminal=True, width=120), max_iter=50,
                          tol=1e-4, delay=delay)
        X, y = load_iris(return_X_y=True)
        model = vlogreg.LogisticRegression(solver="gd", max_iter=50, callback=bar)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        bar(IterationState(50, 0.25, 1.5e-3, None))  # the last state is what stays shown
        bar.close()
        return buf.getvalue()
    shown = run(delay=0.0)
    assert "iteration 50/50" in shown and "loss 0.25" in shown and "1.50e-03" in shown
    assert run(delay=60.0) == ""


def test_without_rich_there_is_no_bar_and_without_matplotlib_no_plots(work, monkeypatch,
                                                                      capsys):
    from vlogreg.cli.train import FitProgress

    monkeypatch.setitem(sys.modules, "rich", None)  # `import rich...` now fails
    monkeypatch.setitem(sys.modules, "rich.console", None)
    assert FitProgress.for_terminal(100, 1e-4) is None
    monkeypatch.chdir(work)
    assert main(["train", "train.csv", "--target", "diagnosis", "--exclude", "id",
                 "--model", "norich.vlogreg", "--quiet"]) == 0
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["evaluate", "model.vlogreg", "test.csv", "--plots", "noplots"])
    _one_line_error(code, *capsys.readouterr(), "evaluate",
                    ["--plots needs matplotlib", "vlogreg[cli]"])


def test_the_process_ends_with_every_line_written(work):
    """``python -m vlogreg`` ends through ``cli.entry`` (os._exit after flushing, which
    skips Arrow's thread-pool teardown): a pipe still receives the whole output, and the
    exit code is the command's."""
    r = _vlogreg(["predict", "model.vlogreg", "test.csv", "--id", "id", "--out", "-"], work)
    _ok(r)
    lines = r.stdout.splitlines()
    n_rows = len(pd.read_csv(work / "test.csv"))
    assert len(lines) == n_rows + 1 and lines[-1].count(",") == lines[0].count(",")
    r = _vlogreg(["inspect", "model.vlogreg", "--json"], work)
    _ok(r)
    assert json.loads(r.stdout)["n_features"] == len(FEATURES)
    r = _vlogreg(["inspect", "missing.vlogreg"], work)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
