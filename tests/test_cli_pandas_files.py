"""The command line on the files pandas users write: categories, nullable dtypes,
booleans, numbers stored as text, an index written as a column.

The oracle of every model is a scikit-learn fit on X encoded here by hand from the
values (unpenalized, so the optimum is the same whatever the solver).
"""

import numpy as np
import pytest
import sklearn.linear_model as sklm

import vlogreg
from _cli import run_cli

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

M = 300
FIT = ["--target", "y", "--one-hot", "-q", "--penalty", "none", "--solver", "newton",
       "--tol", "1e-10", "--exclude", "id"]


def _frame(seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=M), rng.normal(size=M)
    grp = rng.choice(["a", "b", "c"], M)
    z = 0.3 + x1 - x2 + 0.8 * (grp == "b")
    y = np.where(rng.random(M) < 1 / (1 + np.exp(-z)), "yes", "no")
    return pd.DataFrame({"id": np.arange(M), "x1": x1, "x2": x2, "grp": grp, "y": y})


def _oracle(df, y):
    grp = np.asarray(df["grp"], dtype=str)
    X = np.column_stack([np.asarray(df["x1"], dtype=float), df["x2"], grp == "b",
                         grp == "c"]).astype(float)
    return X, sklm.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000,
                                      solver="newton-cholesky").fit(X, y)


#: file name -> the frame written (from the base frame)
WRITTEN = {
    "category.parquet": lambda d: d.assign(grp=d.grp.astype("category")),
    "y_category.parquet": lambda d: d.assign(y=d.y.astype("category")),
    "y_bool.parquet": lambda d: d.assign(y=d.y == "yes"),
    "float64_nullable.parquet": lambda d: d.assign(x1=d.x1.astype("Float64")),
    "boolean.parquet": lambda d: d.assign(x1=(d.x1 > 0).astype("boolean")),
    "numbers_as_text.parquet": lambda d: d.assign(x1=d.x1.map(repr)),
    "category_of_numbers.parquet": lambda d: d.assign(x1=pd.Categorical(d.x1.round())),
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("pandas_files")
    base = _frame()
    for name, make in WRITTEN.items():
        make(base).to_parquet(d / name)
    return d, base


@pytest.mark.parametrize("name", list(WRITTEN))
def test_cli_trains_on_what_pandas_writes_as_scikit_learn_fits_it(written, name):
    d, base = written
    df = WRITTEN[name](base)
    proc = run_cli(["train", name, *FIT, "--model", "m.vlogreg"], d)
    assert proc.returncode == 0, proc.stderr
    model = vlogreg.load(d / "m.vlogreg")
    y = np.asarray(df["y"])
    X, sk = _oracle(df, y)
    assert list(model.feature_names_in_) == ["x1", "x2", "grp=b", "grp=c"]
    np.testing.assert_array_equal(model.classes_, sk.classes_)
    np.testing.assert_allclose(model.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    # the loaded model reads the same frame in Python
    np.testing.assert_allclose(model.predict_proba(df), sk.predict_proba(X), atol=1e-8)
    proc = run_cli(["predict", "m.vlogreg", name, "--out", "p.csv"], d)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(d / "p.csv", dtype={"predicted": str})
    assert list(got["predicted"]) == [str(v) for v in sk.predict(X)]


def test_an_index_pandas_wrote_into_parquet_is_named(tmp_path):
    df = _frame().set_axis(pd.date_range("2020-01-01", periods=M))
    df.to_parquet(tmp_path / "dated.parquet")
    proc = run_cli(["train", "dated.parquet", *FIT, "--model", "m.vlogreg"], tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "'__index_level_0__'" in proc.stderr
    assert "index=False" in proc.stderr and "--exclude __index_level_0__" in proc.stderr
    proc = run_cli(["train", "dated.parquet", *FIT, "__index_level_0__", "--model",
                    "m.vlogreg"], tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_an_unnamed_index_column_in_a_csv_is_named_with_its_exclude(tmp_path):
    """pandas' to_csv writes the index as a first column with an empty name."""
    df = _frame().set_axis(pd.date_range("2020-01-01", periods=M))
    df.to_csv(tmp_path / "dated.csv")
    proc = run_cli(["train", "dated.csv", *FIT, "--model", "m.vlogreg"], tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "column '' has type date" in proc.stderr and "--exclude ''" in proc.stderr
    proc = run_cli(["train", "dated.csv", *FIT, "", "--model", "m.vlogreg"], tmp_path)
    assert proc.returncode == 0, proc.stderr
