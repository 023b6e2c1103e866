"""``vlogreg train --cv K``: the scores per C, the chosen C and the refit, as a user runs
it (``python -m vlogreg`` in a subprocess), against scikit-learn's LogisticRegressionCV."""

import json
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLR
from sklearn.linear_model import LogisticRegressionCV as SkCV
from sklearn.preprocessing import StandardScaler

import vlogreg
from _cli import run_cli

pd = pytest.importorskip("pandas")


_vlogreg = run_cli


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cv")
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X[:, :6])
    cols = [f"f{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    df["label"] = y
    df.to_csv(d / "train.csv", index=False)
    return d, X, y


def test_cv_json_chooses_scikit_learns_c_and_refits(data):
    d, X, y = data
    proc = _vlogreg(["train", "train.csv", "--target", "label", "--model", "m.vlogreg",
                     "--cv", "4", "--Cs", "6", "--tol", "1e-10", "--max-iter", "1000",
                     "--json"], d)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ref = SkCV(Cs=6, cv=4, scoring="neg_log_loss", l1_ratios=(0,), tol=1e-12,
                   max_iter=10_000, use_legacy_attributes=False).fit(X, y)
    np.testing.assert_allclose(out["cv"]["Cs"], ref.Cs_)
    np.testing.assert_allclose(out["cv"]["mean"], ref.scores_[:, 0, :].mean(axis=0),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["cv"]["std"], ref.scores_[:, 0, :].std(axis=0),
                               rtol=1e-5, atol=1e-6)
    assert out["cv"]["C"] == ref.C_
    model = vlogreg.load(d / "m.vlogreg")
    fit = SkLR(C=ref.C_, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, fit.coef_, rtol=1e-6, atol=1e-7)


def test_cv_report_and_plots(data):
    pytest.importorskip("matplotlib")
    d, _, _ = data
    proc = _vlogreg(["train", "train.csv", "--target", "label", "--model", "p.vlogreg",
                     "--cv", "3", "--Cs", "4", "--scoring", "accuracy", "--plots", "plots"],
                    d)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "3-fold cross-validation over 4 values of C (accuracy" in lines[0]
    assert sum("<- chosen" in line for line in lines) == 1
    assert any(line.strip().startswith("chosen C = ") for line in lines)
    for name in ("validation_curve.png", "coefficient_path.png"):
        png = (d / "plots" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("extra, message", [
    (["--plots", "x"], "--plots draws the cross-validation curves"),
    (["--cv", "1"], "at least 2 folds"),
    (["--cv", "3", "--penalty", "none"], "--cv chooses C"),
    (["--cv", "3", "--scoring", "bogus"], "--scoring bogus is not a scikit-learn scorer"),
    (["--cv", "3", "--Cs", "0"], "--Cs 0"),
])
def test_cv_usage_errors_are_one_line(data, extra, message):
    d, _, _ = data
    proc = _vlogreg(["train", "train.csv", "--target", "label", "--model", "e.vlogreg",
                     *extra], d)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
