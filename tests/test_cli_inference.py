"""``vlogreg train --standardize --inference --cov-type --groups`` and ``vlogreg inspect``,
run as a user runs them (subprocesses), against statsmodels and scikit-learn; the model
file's new fields: stored, read back, and old files without them still load."""

import json
import zipfile

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression as SkLR
from sklearn.preprocessing import StandardScaler

import vlogreg
from _cli import run_cli
from vlogreg import io as vio
from vlogreg.inference import summary

FEATURES = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]


_vlogreg = run_cli


@pytest.fixture(scope="module")
def fair(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_inference")
    df = sm.datasets.fair.load_pandas().data
    df = df.assign(affair=np.where(df["affairs"] > 0, "yes", "no"),
                   occupation=df["occupation"].astype(int).map(lambda k: f"occ{k}"))
    df[FEATURES + ["occupation", "affair"]].to_csv(d / "fair.csv", index=False)
    return d, df


def test_train_cluster_inference_and_inspect_equal_statsmodels(fair):
    d, df = fair
    r = _vlogreg(["train", "fair.csv", "--target", "affair", "--exclude", "occupation",
                  "--penalty", "none", "--tol", "1e-10", "--solver", "newton",
                  "--inference", "--cov-type", "cluster", "--groups", "occupation",
                  "--model", "fair.vlogreg", "-q"], d)
    assert r.returncode == 0, r.stderr
    r = _vlogreg(["inspect", "fair.vlogreg", "--json"], d)
    assert r.returncode == 0, r.stderr
    inf = json.loads(r.stdout)["inference"]
    y = (df["affair"] == "yes").to_numpy().astype(int)
    res = sm.Logit(y, sm.add_constant(df[FEATURES].to_numpy(float))).fit(
        method="newton", tol=1e-14, disp=0, cov_type="cluster",
        cov_kwds={"groups": df["occupation"].to_numpy()})
    assert inf["cov_type"] == "cluster" and inf["n_groups"] == 6
    assert [row["name"] for row in inf["rows"]] == ["intercept"] + FEATURES
    for key, want in [("std_err", res.bse), ("p_value", res.pvalues),
                      ("odds_ratio", np.exp(res.params))]:
        np.testing.assert_allclose([row[key] for row in inf["rows"]], want, rtol=1e-6)
    for key, want in [("null_log_likelihood", res.llnull), ("pseudo_r2", res.prsquared),
                      ("lr_stat", res.llr), ("aic", res.aic), ("bic", res.bic)]:
        assert inf[key] == pytest.approx(want, rel=1e-6), key
    text = _vlogreg(["inspect", "fair.vlogreg"], d).stdout
    for word in ["cluster-robust", "(6 groups)", "odds ratio", "LL-Null", "AIC", "BIC",
                 "Pseudo R-squ.", "rate_marriage"]:
        assert word in text, word


def test_train_standardize_equals_sklearn_pipeline(fair):
    d, df = fair
    r = _vlogreg(["train", "fair.csv", "--target", "affair", "--exclude", "occupation",
                  "--standardize", "--C", "0.01", "--solver", "newton", "--tol", "1e-12",
                  "--inference", "--cov-type", "HC0", "--model", "std.vlogreg", "-q"], d)
    assert r.returncode == 0, r.stderr
    model = vio.load(d / "std.vlogreg")
    assert model.standardize is True
    X = df[FEATURES].to_numpy(float)
    y = np.where(df["affair"] == "yes", "yes", "no")
    sc = StandardScaler().fit(X)
    lr = SkLR(C=0.01, solver="newton-cholesky", tol=1e-14).fit(sc.transform(X), y)
    coef = lr.coef_ / sc.scale_
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, lr.intercept_ - coef @ sc.mean_,
                               rtol=1e-8)
    stored = vio.read_model_file(d / "std.vlogreg").summary()
    assert stored.cov_type == "HC0" and stored.kind == "laplace-l2"


def test_flags_that_need_each_other(fair):
    d, _ = fair
    base = ["train", "fair.csv", "--target", "affair", "--model", "x.vlogreg"]
    for extra, part in [(["--cov-type", "HC0"], "add --inference"),
                        (["--inference", "--cov-type", "cluster"], "go together"),
                        (["--inference", "--cov-type", "cluster", "--groups", "nope"],
                         "no column 'nope' (the --groups column)")]:
        r = _vlogreg(base + extra, d)
        assert r.returncode == 2 and part in r.stderr, (extra, r.stderr)


def test_one_hot_collinearity_names_real_columns(tmp_path):
    # a full one-hot encoding (--keep-all-levels) plus the intercept: singular, named by
    # the file's columns
    rng = np.random.default_rng(0)
    colors = rng.choice(["red", "green", "blue"], 300)
    x = rng.standard_normal(300)
    y = (x + rng.standard_normal(300) > 0).astype(int)
    lines = ["x,color,y"] + [f"{a:.6f},{c},{b}" for a, c, b in zip(x, colors, y)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    r = _vlogreg(["train", "d.csv", "--target", "y", "--one-hot", "--keep-all-levels",
                  "--penalty", "none", "--inference", "--model", "m.vlogreg", "-q"], tmp_path)
    assert r.returncode == 0, r.stderr
    note = [line for line in r.stderr.splitlines() if "no standard errors" in line]
    assert note and "collinear" in note[0], r.stderr
    assert "color" in note[0] and "'x1'" not in note[0] and "'x2'" not in note[0], note[0]


# -------------------------------------------------------------------- the model file
def test_statistics_round_trip_and_old_files_load(tmp_path):
    d = sm.datasets.spector.load_pandas()
    X, y = d.exog.to_numpy(float), d.endog.to_numpy().astype(int)
    model = vlogreg.LogisticRegression(C=np.inf, tol=1e-10, standardize=True).fit(X, y)
    s = summary(model, X, y, cov_type="HC0")
    path = vio.save(model, tmp_path / "m.vlogreg", summary=s)
    mf = vio.read_model_file(path)
    assert mf.model.standardize is True
    back = mf.summary()
    for k in ("null_log_likelihood", "pseudo_r2", "lr_stat", "lr_df", "lr_pvalue", "aic",
              "bic", "df_model", "df_resid", "cov_type", "n_groups"):
        assert getattr(back, k) == getattr(s, k), k
    np.testing.assert_array_equal(back.odds_ratio, s.odds_ratio)

    # a file as vlogreg wrote it before: no standardize param, no statistics
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["metadata.json"])
    del meta["params"]["standardize"]
    for k in ("null_log_likelihood", "pseudo_r2", "lr_stat", "lr_df", "lr_pvalue", "aic",
              "bic", "df_model", "df_resid", "cov_type", "n_groups"):
        del meta["inference"][k]
    members["metadata.json"] = json.dumps(meta).encode()
    old = tmp_path / "old.vlogreg"
    with zipfile.ZipFile(old, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    mf = vio.read_model_file(old)
    assert mf.model.standardize is False  # the default
    np.testing.assert_array_equal(mf.model.coef_, model.coef_)  # predicts the same
    back = mf.summary()
    assert np.isnan(back.aic) and back.cov_type == "nonrobust"
    assert "std err" in back.to_text(odds_ratios=True)


# ------------------------------------------------- summary() of a model the CLI trained
def test_summary_of_a_table_model_takes_raw_columns_or_encoded_x(fair, recwarn):
    """A TableModel's summary reads what its predict reads: the table of raw columns
    (text encoded by the stored levels) or X in the order of feature_names_in_, without
    a feature-names warning; the numbers are statsmodels' on X encoded here."""
    d, df = fair
    r = _vlogreg(["train", "fair.csv", "--target", "affair", "--one-hot", "--penalty",
                  "none", "--tol", "1e-10", "--solver", "newton", "--model",
                  "occ.vlogreg", "-q"], d)
    assert r.returncode == 0, r.stderr
    model = vlogreg.load(d / "occ.vlogreg")
    occ = sorted(df["occupation"].unique())
    X = np.column_stack([df[FEATURES].to_numpy(float)]
                        + [(df["occupation"] == o).to_numpy(float) for o in occ[1:]])
    assert list(model.feature_names_in_) == FEATURES + [f"occupation={o}" for o in occ[1:]]
    y = df["affair"].to_numpy()
    res = sm.Logit((y == "yes").astype(int), sm.add_constant(X)).fit(
        method="newton", tol=1e-14, disp=0)
    raw = df[["affair", "occupation"] + FEATURES[::-1]]  # any order, the label kept in
    for given in (raw, X):
        s = summary(model, given, y)
        assert list(s.names) == ["intercept", *model.feature_names_in_]
        np.testing.assert_allclose(s.std_err, res.bse, rtol=1e-6)
        np.testing.assert_allclose(s.coef, res.params, rtol=1e-6)
    assert not [w for w in recwarn if "feature names" in str(w.message)], \
        [str(w.message) for w in recwarn]
    with pytest.raises(ValueError, match=rf"shape \(6366, 6\).*fitted on {X.shape[1]} "):
        summary(model, X[:, :6], y)
    with pytest.raises(ValueError, match="no column 'educ'"):
        summary(model, raw.drop(columns="educ"), y)
