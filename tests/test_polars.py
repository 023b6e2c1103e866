"""polars users: ``fit`` / ``predict`` / ``summary`` on polars frames and series, and the
command line reading the files polars writes (Parquet, CSV).

The oracles: scikit-learn's LogisticRegression on the same frames (what a polars user
compares with), the NumPy arrays of the same values, and, for the command line, a
scikit-learn fit on X encoded here by hand. Skipped when polars is not installed.
"""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as sklm

import vlogreg
from _cli import run_cli
from vlogreg.inference import summary

pl = pytest.importorskip("polars")
pytest.importorskip("pyarrow")

#: an unpenalized fit solved to the dtype's floor: two fits of the same data agree to
#: about 1e-8, whatever their solver
EXACT = dict(C=np.inf, tol=1e-12, max_iter=500)


@pytest.fixture(scope="module")
def cancer():
    """The first five columns of scikit-learn's breast cancer data, as polars."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer(as_frame=True)
    X = d.data.iloc[:, :5]
    return pl.from_pandas(X), pl.Series("malignant", 1 - d.target.to_numpy())


def test_fit_on_polars_is_the_fit_on_its_numpy_values(cancer):
    X, y = cancer
    est = vlogreg.LogisticRegression(**EXACT).fit(X, y)
    ref = vlogreg.LogisticRegression(**EXACT).fit(X.to_numpy(), y.to_numpy())
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    np.testing.assert_array_equal(est.intercept_, ref.intercept_)
    sk = sklm.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000,
                                 solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(est.feature_names_in_, sk.feature_names_in_)
    assert list(est.feature_names_in_) == X.columns


def test_predictions_on_a_polars_frame(cancer, recwarn):
    X, y = cancer
    est = vlogreg.LogisticRegression().fit(X, y)
    Xn = X.to_numpy()
    np.testing.assert_array_equal(est.predict(X), est.predict(X.to_pandas()))
    np.testing.assert_array_equal(est.predict_proba(X), est.predict_proba(X.to_pandas()))
    np.testing.assert_array_equal(est.decision_function(X), Xn @ est.coef_[0]
                                  + est.intercept_[0])
    assert not [w for w in recwarn if "feature names" in str(w.message)]
    # another order of the same columns: scikit-learn's error, as for pandas
    with pytest.raises(ValueError, match="same order"):
        est.predict(X.select(X.columns[::-1]))


@pytest.mark.parametrize("kind", ["str", "categorical", "bool", "frame"])
def test_labels_as_polars_series_of_any_kind(cancer, kind):
    X, y = cancer
    words = pl.Series("y", np.where(y.to_numpy() == 1, "malignant", "benign"))
    y_in = {"str": words, "categorical": words.cast(pl.Categorical),
            "bool": y.cast(pl.Boolean), "frame": y.to_frame()}[kind]
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        est = vlogreg.LogisticRegression(max_iter=1000).fit(X, y_in)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        sk = sklm.LogisticRegression(max_iter=1000).fit(X, y_in)
    np.testing.assert_array_equal(est.classes_, sk.classes_)
    assert [type(w.message) for w in ours] == [type(w.message) for w in theirs]
    assert set(est.predict(X)) <= set(sk.classes_)


def test_a_lazy_frame_is_refused_in_one_line_that_says_collect(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match=r"polars LazyFrame.*X.collect\(\)"):
        vlogreg.LogisticRegression().fit(X.lazy(), y)
    est = vlogreg.LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"polars LazyFrame.*X.collect\(\)"):
        est.predict(X.lazy())


def test_missing_values_in_a_polars_frame_are_named(cancer):
    X, y = cancer
    first = X.columns[0]
    holes = X.with_columns(pl.when(pl.int_range(pl.len()) == 7).then(None)
                           .otherwise(pl.col(first)).alias(first))
    with pytest.raises(ValueError, match=rf"NaN at row 7, column 0 \('{first}'\)"):
        vlogreg.LogisticRegression().fit(holes, y)


def test_summary_of_polars_input_is_that_of_pandas_input(cancer):
    X, y = cancer
    est = vlogreg.LogisticRegression(**EXACT).fit(X, y)
    got = summary(est, X, y)
    ref = summary(est, X.to_pandas(), y.to_pandas())
    assert list(got.names) == ["intercept", *X.columns]
    for field in ("coef", "std_err", "p_value", "ci_low", "ci_high"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field))


# ------------------------------------------------------ the CLI on files polars writes
def _table(m=300, seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=m), rng.normal(size=m)
    grp = rng.choice(["a", "b", "c"], m)
    z = 0.5 + x1 - x2 + 0.8 * (grp == "b")
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-z)), "yes", "no")
    return pl.DataFrame({"id": np.arange(m), "x1": x1, "x2": x2, "grp": grp, "y": y})


@pytest.fixture(scope="module")
def polars_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("polars")
    df = _table()
    df.write_parquet(d / "plain.parquet")
    df.write_csv(d / "plain.csv")
    # polars' Categorical and Enum are Arrow dictionary columns in Parquet
    df.with_columns(pl.col("grp").cast(pl.Categorical)).write_parquet(d / "cat.parquet")
    df.with_columns(pl.col("grp").cast(pl.Enum(["a", "b", "c"]))) \
        .write_parquet(d / "enum.parquet")
    df.with_columns(pl.col("x1").cast(pl.Float32)).write_parquet(d / "f32.parquet")
    return d, df


@pytest.mark.parametrize("name", ["plain.parquet", "plain.csv", "cat.parquet",
                                  "enum.parquet"])
def test_cli_trains_on_what_polars_writes(polars_files, name):
    d, df = polars_files
    model = f"{name}.vlogreg"
    proc = run_cli(["train", name, "--target", "y", "--exclude", "id", "--one-hot", "-q",
                    "--penalty", "none", "--solver", "newton", "--tol", "1e-10",
                    "--model", model], d)
    assert proc.returncode == 0, proc.stderr
    got = vlogreg.load(d / model)
    assert list(got.feature_names_in_) == ["x1", "x2", "grp=b", "grp=c"]
    grp = df["grp"].to_numpy()
    X = np.column_stack([df["x1"].to_numpy(), df["x2"].to_numpy(), grp == "b",
                         grp == "c"]).astype(float)
    sk = sklm.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000,
                                 solver="newton-cholesky").fit(X, df["y"].to_numpy())
    np.testing.assert_array_equal(got.classes_, sk.classes_)
    np.testing.assert_allclose(got.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    # the loaded model reads the polars frame of raw columns, categorical or not
    raw = df.with_columns(pl.col("grp").cast(pl.Categorical))
    np.testing.assert_allclose(got.predict_proba(raw), sk.predict_proba(X), atol=1e-8)


def test_cli_predicts_and_evaluates_a_polars_categorical_file(polars_files):
    d, df = polars_files
    proc = run_cli(["train", "plain.parquet", "--target", "y", "--exclude", "id",
                    "--one-hot", "-q", "--model", "m.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    for data in ("cat.parquet", "enum.parquet", "f32.parquet"):
        out = f"p_{data}.csv"
        proc = run_cli(["predict", "m.vlogreg", data, "--out", out], d)
        assert proc.returncode == 0, proc.stderr
        got = pl.read_csv(d / out)
        assert got["predicted"].to_list() == list(
            vlogreg.load(d / "m.vlogreg").predict(pl.read_parquet(d / data)))
    proc = run_cli(["evaluate", "m.vlogreg", "cat.parquet", "--json"], d)
    assert proc.returncode == 0, proc.stderr
