"""Decisions, not only probabilities (issue 18, item 4): ``train --threshold RULE``
stores a threshold picked on the training data, predict / evaluate apply it (or a
``--threshold`` number), evaluate reports PR AUC, the Brier score and log-loss, and
its plots add a precision-recall curve and the rows per calibration bin.

The CLI runs as a subprocess; every number is checked against scikit-learn's metrics
or a brute-force search over all thresholds, computed here from the model read back
by ``vlogreg.load``.
"""

import io
import json

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_iris

import vlogreg
from _cli import run_cli

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


_vlogreg = run_cli


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("decide")
    data = load_breast_cancer(as_frame=True)
    df = data.frame.iloc[:, [0, 1, 4, 7, 10]].copy()
    df["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    df.iloc[::2].to_csv(d / "train.csv", index=False)
    df.iloc[1::2].to_csv(d / "test.csv", index=False)
    iris = load_iris(as_frame=True)
    iris.frame.assign(target=iris.target_names[iris.target]).to_csv(d / "iris.csv",
                                                                    index=False)
    return d


def _xy(path, target):
    df = pd.read_csv(path)
    return df.drop(columns=target).to_numpy(float), df[target].to_numpy(str)


def _best(score, p):
    """The best ``score(t)`` over every distinct probability as threshold."""
    return max(score(t) for t in np.unique(p))


@pytest.mark.parametrize("rule", ["youden", "f1"])
def test_train_picks_the_rule_s_best_threshold_on_the_training_data(work, rule):
    proc = _vlogreg(["train", "train.csv", "--target", "diagnosis", "--standardize",
                     "--threshold", rule, "--model", f"{rule}.vlogreg", "--json"], work)
    assert proc.returncode == 0, proc.stderr
    t = json.loads(proc.stdout)["threshold"]
    assert t["rule"] == rule
    meta = vlogreg.io.read_model_file(work / f"{rule}.vlogreg").metadata
    assert meta["training"]["threshold"] == t
    model = vlogreg.load(work / f"{rule}.vlogreg")
    X, y = _xy(work / "train.csv", "diagnosis")
    p, pos = model.predict_proba(X)[:, 1], y == model.classes_[1]

    def youden(s):
        pred = p >= s
        return pred[pos].mean() - pred[~pos].mean()

    def f1(s):
        return skm.f1_score(pos, p >= s, zero_division=0)
    score = {"youden": youden, "f1": f1}[rule]
    assert score(t["value"]) == pytest.approx(_best(score, p), abs=1e-12)
    assert 0 < t["value"] < 1


def test_predict_and_evaluate_apply_the_stored_or_given_threshold(work):
    assert _vlogreg(["train", "train.csv", "--target", "diagnosis", "--standardize",
                     "--threshold", "youden", "--model", "t.vlogreg", "--quiet"],
                    work).returncode == 0
    model = vlogreg.load(work / "t.vlogreg")
    t = vlogreg.io.read_model_file(work / "t.vlogreg").metadata["training"]["threshold"]
    X, y = _xy(work / "test.csv", "diagnosis")
    proba = model.predict_proba(X)
    for extra, cut in (([], t["value"]), (["--threshold", "0.2"], 0.2)):
        proc = _vlogreg(["predict", "t.vlogreg", "test.csv", *extra], work)
        assert proc.returncode == 0, proc.stderr
        got = pd.read_csv(io.StringIO(proc.stdout))["predicted"].to_numpy(str)
        expected = np.where(proba[:, 1] >= cut, model.classes_[1], model.classes_[0])
        np.testing.assert_array_equal(got, expected)
        proc = _vlogreg(["evaluate", "t.vlogreg", "test.csv", "--json", *extra], work)
        r = json.loads(proc.stdout)
        assert r["threshold"]["value"] == cut
        assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, expected), abs=1e-15)
        np.testing.assert_array_equal(
            r["confusion_matrix"]["matrix"],
            skm.confusion_matrix(y, expected, labels=model.classes_))
    # a model without a stored threshold: the most probable class, as before
    assert _vlogreg(["train", "train.csv", "--target", "diagnosis", "--standardize",
                     "--model", "plain.vlogreg", "--quiet"], work).returncode == 0
    r = json.loads(_vlogreg(["evaluate", "plain.vlogreg", "test.csv", "--json"],
                            work).stdout)
    assert r["threshold"] is None
    plain = vlogreg.load(work / "plain.vlogreg")
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, plain.predict(X)), abs=0)


@pytest.mark.parametrize("data,target", [("test.csv", "diagnosis"), ("iris.csv", "target")])
def test_evaluate_reports_pr_auc_brier_and_log_loss_as_scikit_learn(work, data, target):
    model_file = f"{target}.vlogreg"
    assert _vlogreg(["train", data, "--target", target, "--standardize", "--model",
                     model_file, "--quiet"], work).returncode == 0
    proc = _vlogreg(["evaluate", model_file, data, "--json", "--plots", f"plots-{target}"],
                    work)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    model = vlogreg.load(work / model_file)
    X, y = _xy(work / data, target)
    proba, classes = model.predict_proba(X), model.classes_
    assert r["log_loss"] == pytest.approx(skm.log_loss(y, proba, labels=classes), rel=1e-12)
    if len(classes) == 2:
        pos = y == classes[1]
        ap = skm.average_precision_score(pos, proba[:, 1])
        brier = skm.brier_score_loss(pos, proba[:, 1])
    else:
        onehot = (y[:, None] == classes[None, :]).astype(int)
        ap = skm.average_precision_score(onehot, proba, average="macro")
        brier = skm.brier_score_loss(y, proba, labels=classes)
    assert r["pr_auc"] == pytest.approx(ap, rel=1e-12)
    assert r["brier"] == pytest.approx(brier, rel=1e-12)
    # the plots: a PR curve beside the ROC curve, and rows per calibration bin
    assert [p.split("/")[-1] for p in r["plots"]] == ["roc.png", "pr.png",
                                                      "calibration.png", "learning_curve.png"]
    assert all((work / p).stat().st_size > 1000 for p in r["plots"])
    cols = [1] if len(classes) == 2 else range(len(classes))
    assert len(r["calibration"]) == len(cols)
    for k, cal in zip(cols, r["calibration"]):
        bins, p = cal["bins"], proba[:, k]
        frac, mean = calibration_curve(y == classes[k], p, n_bins=10)
        np.testing.assert_allclose([b["fraction_positive"] for b in bins], frac, rtol=1e-12)
        np.testing.assert_allclose([b["mean_predicted"] for b in bins], mean, rtol=1e-12)
        for b in bins:  # bins (low, high], the first one closed: counted by hand
            inside = (p > b["low"]) & (p <= b["high"]) if b["low"] > 0 else p <= b["high"]
            assert b["rows"] == int(inside.sum())
        assert sum(b["rows"] for b in bins) == len(p)
    text = _vlogreg(["evaluate", model_file, data], work).stdout
    assert "PR AUC" in text and "Brier" in text and "log-loss" in text


@pytest.mark.parametrize("args,words", [
    (["train", "train.csv", "--target", "diagnosis", "--threshold", "1.5", "--model",
      "x.vlogreg"], ["--threshold takes a probability", "youden, f1", "'1.5'"]),
    (["train", "iris.csv", "--target", "target", "--threshold", "youden", "--model",
      "x.vlogreg"], ["--threshold applies to a model of 2 classes", "has 3"]),
    (["predict", "target.vlogreg", "iris.csv", "--threshold", "0.3"],
     ["--threshold applies to a model of 2 classes"]),
    (["evaluate", "plain.vlogreg", "test.csv", "--threshold", "youden"],
     ["--threshold takes a probability", "'youden'"]),
])
def test_threshold_errors_are_one_line(work, args, words):
    for needed in (["train", "train.csv", "--target", "diagnosis", "--model",
                    "plain.vlogreg", "--quiet"],
                   ["train", "iris.csv", "--target", "target", "--model", "target.vlogreg",
                    "--quiet"]):
        if not (work / needed[-2]).exists():
            assert _vlogreg(needed, work).returncode == 0
    proc = _vlogreg(args, work)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert all(w in proc.stderr for w in words), proc.stderr
    assert not (work / "x.vlogreg").exists()


def test_a_loaded_model_predicts_at_its_stored_threshold_as_the_cli_does(work, tmp_path):
    """``vlogreg.load(...).predict`` gives ``vlogreg predict``'s labels: the stored
    threshold applies from Python too, from a DataFrame or an encoded array, and
    survives ``vlogreg.save``."""
    assert _vlogreg(["train", "train.csv", "--target", "diagnosis", "--standardize",
                     "--threshold", "f1", "--model", "f1.vlogreg", "--quiet"],
                    work).returncode == 0
    model = vlogreg.load(work / "f1.vlogreg")
    t = vlogreg.io.read_model_file(work / "f1.vlogreg").metadata["training"]["threshold"]
    assert model.threshold_ == t["value"] and model.threshold_rule_ == "f1"
    df = pd.read_csv(work / "test.csv")
    X, _ = _xy(work / "test.csv", "diagnosis")
    cli = pd.read_csv(io.StringIO(_vlogreg(["predict", "f1.vlogreg", "test.csv"],
                                           work).stdout))["predicted"].to_numpy(str)
    p = model.predict_proba(X)[:, 1]
    expected = np.where(p >= t["value"], model.classes_[1], model.classes_[0])
    np.testing.assert_array_equal(cli, expected)
    np.testing.assert_array_equal(model.predict(df.drop(columns="diagnosis")), expected)
    np.testing.assert_array_equal(model.predict(X), expected)
    vlogreg.save(model, tmp_path / "again.vlogreg")
    again = vlogreg.load(tmp_path / "again.vlogreg")
    assert again.threshold_ == model.threshold_
    np.testing.assert_array_equal(again.predict(X), expected)


def test_an_array_model_keeps_its_threshold_and_refuses_dataframes(work):
    X, y = _xy(work / "train.csv", "diagnosis")
    np.savez(work / "arr.npz", X=X, y=(y == "malignant").astype(float))
    assert _vlogreg(["train", "arr.npz", "--standardize", "--threshold", "0.3",
                     "--model", "arr.vlogreg", "--quiet"], work).returncode == 0
    model = vlogreg.load(work / "arr.vlogreg")
    assert model.threshold_ == 0.3
    p = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X),
                                  np.where(p >= 0.3, model.classes_[1], model.classes_[0]))
    # rows with 0.3 <= p < 0.5 exist here, so the threshold is what decides them
    assert np.any((p >= 0.3) & (p < 0.5))
    with pytest.raises(ValueError, match="not trained on a table"):
        model.predict(pd.DataFrame(X))
    # without a threshold, an array model loads as the plain estimator, as before
    assert _vlogreg(["train", "arr.npz", "--model", "arr0.vlogreg", "--quiet"],
                    work).returncode == 0
    assert type(vlogreg.load(work / "arr0.vlogreg")) is vlogreg.LogisticRegression
