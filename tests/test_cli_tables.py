"""The command line on messy tables (issue 18, items 1, 2, 3 and 5): text categories
with spaces, a yes/no target, missing values, an id and a date column.

Every command runs as a user runs it (``python -m vlogreg`` in a subprocess, all of a
module's runs at once); the oracles are statsmodels' formula fit (treatment coding),
scikit-learn / vlogreg fits on tables encoded here by pandas, and the rows of the files.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import vlogreg
from _cli import run_cli

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
smf = pytest.importorskip("statsmodels.formula.api")

TARGET = "low birth"


_vlogreg = run_cli


def _births(m=400, seed=3):
    """A births-like table: id, date, two text categories (with spaces), age, a yes/no
    target drawn from a known logistic model."""
    rng = np.random.default_rng(seed)
    married = rng.choice(["married", "not married"], m)
    region = rng.choice(["north east", "south", "west coast"], m)
    age = rng.normal(28, 5, m).round(1)
    z = -0.4 + 0.9 * (married == "not married") + 0.06 * (age - 28) \
        - 0.5 * (region == "south")
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-z)), "yes", "no")
    return pd.DataFrame({"id": np.arange(1001, 1001 + m),
                         "date": pd.date_range("2019-01-01", periods=m).astype(str),
                         "married": married, "age": age, "region": region, TARGET: y})


def _with_missing(df):
    out = df.copy()
    out.loc[[2, 9, 10, 57], "age"] = np.nan
    out.loc[[9, 33], "married"] = None
    return out


TRAIN = ["--target", TARGET, "--exclude", "id", "date", "--one-hot", "-q"]
EXACT = ["--penalty", "none", "--inference", "--tol", "1e-10", "--solver", "newton"]

#: name -> arguments of every run of this module
RUNS = {
    "mle": ["train", "births.csv", *TRAIN, *EXACT, "--model", "mle.vlogreg"],
    "mle ref": ["train", "births.csv", *TRAIN, *EXACT, "--reference",
                "married=not married", "--reference", "region=west coast",
                "--model", "ref.vlogreg"],
    "l2": ["train", "births.csv", *TRAIN, "--model", "l2.vlogreg"],
    "standardized": ["train", "births.csv", *TRAIN, "--standardize", "--C", "0.05",
                     "--model", "std.vlogreg"],
    "missing error": ["train", "missing.csv", *TRAIN, "--model", "x.vlogreg"],
    "missing drop": ["train", "missing.csv", *TRAIN[:-1], "--missing", "drop", "--json",
                     "--model", "drop.vlogreg"],
    "leaks": ["train", "leaky.csv", "--target", TARGET, "--one-hot", "--exclude", "date",
              "--model", "leaky.vlogreg", "--json"],
}
#: runs that need a model from RUNS first
LATER = {
    "unknown": ["predict", "l2.vlogreg", "unseen.csv", "--out", "u.csv"],
    "unknown ignore": ["predict", "l2.vlogreg", "unseen.csv", "--out", "ui.csv",
                       "--handle-unknown", "ignore"],
    "predict missing": ["predict", "l2.vlogreg", "missing.csv", "--out", "pm.csv"],
    "predict drop": ["predict", "l2.vlogreg", "missing.csv", "--out", "pd.csv", "--id",
                     "id", "--missing", "drop"],
    "evaluate drop": ["evaluate", "l2.vlogreg", "missing.csv", "--missing", "drop",
                      "--json"],
    "predict std": ["predict", "std.vlogreg", "births.csv", "--out", "ps.csv"],
    "evaluate feature target": ["evaluate", "l2.vlogreg", "births.csv", "--target", "age"],
    "unknown after drop": ["predict", "l2.vlogreg", "unseen_missing.csv", "--out", "um.csv",
                           "--missing", "drop"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("tables")
    df = _births()
    df.to_csv(d / "births.csv", index=False)
    _with_missing(df).to_csv(d / "missing.csv", index=False)
    unseen = df.head(6).copy()
    unseen.loc[[1, 4], "region"] = ["mid west", "the moon"]
    unseen.to_csv(d / "unseen.csv", index=False)
    unseen.assign(age=[np.nan] + list(unseen["age"][1:])).to_csv(
        d / "unseen_missing.csv", index=False)
    leaky = df.assign(survey="wave 1", outcome=np.where(df[TARGET] == "yes", "bad", "good"))
    leaky.to_csv(d / "leaky.csv", index=False)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        first = {k: pool.submit(_vlogreg, a, d) for k, a in RUNS.items()}
        done = {k: f.result() for k, f in first.items()}
        later = {k: pool.submit(_vlogreg, a, d) for k, a in LATER.items()}
        done.update({k: f.result() for k, f in later.items()})
    return d, df, done


def _ok(r):
    assert r.returncode == 0, r.stderr
    return r


# ------------------------------------------------ item 1: reference (treatment) coding
def _statsmodels(df, married_ref="married", region_ref="north east"):
    formula = (f"y ~ C(married, Treatment({married_ref!r})) + age + "
               f"C(region, Treatment({region_ref!r}))")
    data = df.assign(y=(df[TARGET] == "yes").astype(int))
    fit = smf.logit(formula, data=data).fit(disp=0, method="newton", tol=1e-12)
    # statsmodels' names -> vlogreg's ("C(married, ...)[T.not married]" -> "married=...")
    rename = {"Intercept": "intercept", "age": "age"}
    for name in fit.params.index:
        if name.startswith("C("):
            col = name[2:name.index(",")]
            rename[name] = f"{col}={name[name.index('[T.') + 3:-1]}"
    return fit.params.rename(rename), fit.bse.rename(rename)


@pytest.mark.parametrize("run, model, refs", [
    ("mle", "mle.vlogreg", ("married", "north east")),
    ("mle ref", "ref.vlogreg", ("not married", "west coast"))])
def test_one_hot_drops_a_reference_level_and_matches_statsmodels(runs, run, model, refs):
    d, df, done = runs
    _ok(done[run])
    mf = vlogreg.io.read_model_file(d / model)
    assert mf.inference is not None, "standard errors were dropped"
    names = list(mf.inference["names"])
    coef, se = _statsmodels(df, *refs)
    assert sorted(names) == sorted(coef.index)  # one column per level but the reference
    np.testing.assert_allclose(mf.inference["coef"], coef[names].to_numpy(), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(mf.inference["std_err"], se[names].to_numpy(), rtol=1e-6)
    spec = mf.metadata["training"]["input"]
    assert spec["one_hot"] == {"married": ["married", "not married"],
                               "region": ["north east", "south", "west coast"]}
    assert spec["reference"] == {"married": refs[0], "region": refs[1]}


def test_unseen_levels_are_named_or_ignored(runs):
    d, _, done = runs
    r = done["unknown"]
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1
    for part in ("column 'region'", "'mid west' at row 2", "'the moon' at row 5",
                 "--handle-unknown ignore"):
        assert part in err, err
    # rows are the file's, also after dropping rows with missing values
    assert "'mid west' at row 2" in done["unknown after drop"].stderr
    assert "'the moon' at row 5" in done["unknown after drop"].stderr
    _ok(done["unknown ignore"])
    model = vlogreg.load(d / "l2.vlogreg")
    got = pd.read_csv(d / "ui.csv", engine="python")
    unseen = pd.read_csv(d / "unseen.csv")
    # an unseen level: zeros in region's columns (the reference level's row)
    X = np.column_stack([unseen["married"] == "not married", unseen["age"],
                         unseen["region"] == "south", unseen["region"] == "west coast"])
    want = model.predict_proba(X.astype(float))
    np.testing.assert_allclose(got[["proba_no", "proba_yes"]].to_numpy(), want, rtol=1e-12)


# ------------------------------------------------------------ item 2: missing values
def test_missing_values_are_counted_per_column(runs):
    _, _, done = runs
    r = done["missing error"]
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1
    # rows counted from 1 after the header: pandas' rows 2, 9, 10, 57 and 9, 33
    for part in ("5 of 400 rows", "column 'age' in 4 rows (rows 3, 10, 11, 58)",
                 "column 'married' in 2 rows (rows 10, 34)", "--missing drop"):
        assert part in err, err
    assert done["predict missing"].returncode == 2
    assert "5 of 400 rows" in done["predict missing"].stderr


def test_missing_drop_trains_on_the_complete_rows(runs):
    d, df, done = runs
    r = json.loads(_ok(done["missing drop"]).stdout)
    assert r["dropped_rows"] == 5 and r["n_samples"] == 395
    kept = _with_missing(df).dropna()
    X = np.column_stack([kept["married"] == "not married", kept["age"],
                         kept["region"] == "south", kept["region"] == "west coast"])
    want = vlogreg.LogisticRegression().fit(X.astype(float), kept[TARGET].to_numpy())
    got = vlogreg.load(d / "drop.vlogreg")
    np.testing.assert_allclose(got.coef_, want.coef_, rtol=1e-6, atol=1e-9)


def test_predict_keeps_the_dropped_rows_ids_and_evaluate_counts_them(runs):
    d, df, done = runs
    assert "5 with missing values" in _ok(done["predict drop"]).stdout
    out = pd.read_csv(d / "pd.csv", engine="python")
    full = _with_missing(df)
    assert list(out["id"]) == list(full["id"])  # every row, in the file's order
    gone = full.isna().any(axis=1).to_numpy()
    assert out.loc[gone, ["proba_no", "proba_yes", "predicted"]].isna().all().all()
    model = vlogreg.load(d / "l2.vlogreg")
    want = model.predict_proba(full[~gone])  # the DataFrame of raw columns (item 5)
    np.testing.assert_allclose(out.loc[~gone, ["proba_no", "proba_yes"]].to_numpy(), want,
                               rtol=1e-12)
    ev = json.loads(_ok(done["evaluate drop"]).stdout)
    assert ev["dropped_rows"] == 5 and ev["n_samples"] == 395
    assert ev["accuracy"] == pytest.approx(
        np.mean(model.predict(full[~gone]) == full.loc[~gone, TARGET].to_numpy()))


# ------------------------------------------------------- item 3: leaks and constants
def test_ids_constants_and_separating_columns_are_warned(runs):
    _, _, done = runs
    r = _ok(done["leaks"])
    warnings = json.loads(r.stdout)["warnings"]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("vlogreg train: warning:")]
    assert len(lines) == len(warnings) == 3, r.stderr
    by = {name: [w for w in warnings if f"column '{name}'" in w or f"'{name}'" in w]
          for name in ("id", "survey", "outcome")}
    assert "different value in every row" in by["id"][0] and "--exclude id" in by["id"][0]
    assert "same value" in by["survey"][0] and "--exclude survey" in by["survey"][0]
    assert "100 %" in by["outcome"][0] and "--exclude outcome" in by["outcome"][0]


# --------------------------------------------------- item 5: CLI models in Python
def test_cli_model_predicts_from_a_dataframe_of_raw_columns(runs):
    d, df, _ = runs
    model = vlogreg.load(d / "l2.vlogreg")
    names = ["married=not married", "age", "region=south", "region=west coast"]
    assert list(model.feature_names_in_) == names
    X = np.column_stack([df["married"] == "not married", df["age"],
                         df["region"] == "south", df["region"] == "west coast"]).astype(float)
    # raw columns in another order, with the unused ones (id, date, target) still there
    raw = df[["region", TARGET, "age", "date", "id", "married"]]
    np.testing.assert_array_equal(model.predict_proba(raw), model.predict_proba(X))
    np.testing.assert_array_equal(model.decision_function(raw), X @ model.coef_[0]
                                  + model.intercept_[0])
    np.testing.assert_array_equal(model.predict(raw), model.predict(X))
    with pytest.raises(ValueError, match="column 'region'.*'the moon'"):
        model.predict(raw.assign(region="the moon"))
    model.handle_unknown = "ignore"  # the moon: zeros in region's columns (north east's)
    np.testing.assert_array_equal(model.predict_proba(raw.assign(region="the moon")),
                                  model.predict_proba(X * [1, 1, 0, 0]))
    with pytest.raises(ValueError, match=r"1 of 400 rows have a missing value.*dropna"):
        model.predict(raw.assign(age=[np.nan] + list(raw["age"][1:])))


def test_standardized_cli_model_in_python_matches_vlogreg_predict(runs):
    d, df, done = runs
    _ok(done["predict std"])
    model = vlogreg.load(d / "std.vlogreg")
    assert model.standardize is True
    cli = pd.read_csv(d / "ps.csv", engine="python")
    np.testing.assert_array_equal(model.predict_proba(df)[:, 1], cli["proba_yes"])
    assert list(model.predict(df)) == list(cli["predicted"])


def test_numpy_input_works_without_warnings(runs, recwarn):
    d, _, _ = runs
    model = vlogreg.load(d / "l2.vlogreg")
    X = np.zeros((3, 4))
    p = model.predict_proba(X)
    assert p.shape == (3, 2) and not [w for w in recwarn if "feature names" in str(w.message)]


def test_polars_frames_are_read_too(runs):
    pl = pytest.importorskip("polars")
    d, df, _ = runs
    model = vlogreg.load(d / "l2.vlogreg")
    np.testing.assert_array_equal(model.predict_proba(pl.from_pandas(df)),
                                  model.predict_proba(df))


def test_a_loaded_table_model_saves_with_its_encoding(runs, tmp_path):
    d, df, _ = runs
    model = vlogreg.load(d / "l2.vlogreg")
    vlogreg.save(model, tmp_path / "again.vlogreg")
    again = vlogreg.load(tmp_path / "again.vlogreg")
    np.testing.assert_array_equal(again.predict_proba(df), model.predict_proba(df))


# ------------------------------------------------- item 9: messages in the CLI's words
#: name -> (extra train arguments, exit code, what stderr must say)
MESSAGES = {
    "C zero": (["--C", "0"], 2, ["--C 0.0 is not valid", "--penalty none for no penalty"]),
    "negative tol": (["--tol", "-1"], 2, ["--tol -1.0 is not valid"]),
    "l1 ratio": (["--penalty", "elasticnet", "--l1-ratio", "2"], 2,
                 ["--l1-ratio 2.0 is not valid"]),
    "newton l1": (["--penalty", "l1", "--solver", "newton"], 2,
                  ["--solver newton needs", "--solver lbfgs or agd", "--penalty l1"]),
    "not converged": (["--solver", "gd", "--max-iter", "2"], 0,
                      ["--solver gd did not converge", "--tol 0.0001", "--max-iter 2",
                       "(--standardize)", "raise --max-iter"]),
    "collinear": (["--keep-all-levels", "--penalty", "none", "--inference"], 0,
                  ["no standard errors stored", "train with --penalty l2"]),
}
#: the library's Python, which the command line must not print
PYTHON_WORDS = ("np.inf", "l1_ratio", "max_iter", "solver='", "penalty='", "penalty=None",
                "StandardScaler", "sklearn", "LogisticRegression", " C=", "tol=")


@pytest.fixture(scope="module")
def messages(tmp_path_factory):
    d = tmp_path_factory.mktemp("messages")
    _births(200).to_csv(d / "births.csv", index=False)
    sep = _births(60)
    sep["outcome"] = np.where(sep[TARGET] == "yes", 1.0, -1.0)  # separates the classes
    sep.to_csv(d / "separable.csv", index=False)
    base = ["train", "births.csv", *TRAIN, "--model", "m.vlogreg"]
    jobs = {k: base + a for k, (a, _, _) in MESSAGES.items()}
    jobs["separable"] = ["train", "separable.csv", *TRAIN, "--penalty", "none",
                         "--model", "s.vlogreg"]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {k: pool.submit(_vlogreg, a, d) for k, a in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("name", list(MESSAGES))
def test_messages_speak_of_flags(messages, name):
    _, code, parts = MESSAGES[name]
    r = messages[name]
    assert r.returncode == code, r.stderr
    for part in parts:
        assert part in r.stderr, r.stderr
    for word in PYTHON_WORDS:
        assert word not in r.stderr, (word, r.stderr)


def test_evaluate_target_that_is_a_feature_speaks_of_evaluate_flags(runs):
    # evaluate has no --features: the message names the flag it has
    r = runs[2]["evaluate feature target"]
    assert r.returncode == 2 and "--target age names a feature of the model" in r.stderr
    assert "--features" not in r.stderr, r.stderr


def test_separation_warning_speaks_of_flags(messages):
    r = messages["separable"]
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stderr.splitlines() if "perfectly separable" in ln]
    # the library names the column by its index in X; the CLI by the file's name
    assert line and "--penalty l2" in line[0] and "column 'outcome'" in line[0], r.stderr
    for word in PYTHON_WORDS:
        assert word not in r.stderr, (word, r.stderr)


# ------------------------------------------------------------ in-process: rarer paths
def test_pyarrow_tables_are_read_too(runs):
    pa = pytest.importorskip("pyarrow")
    d, df, _ = runs
    model = vlogreg.load(d / "l2.vlogreg")
    np.testing.assert_array_equal(model.predict_proba(pa.Table.from_pandas(df)),
                                  model.predict_proba(df))


def test_files_written_before_references_keep_every_level(tmp_path, capsys):
    from vlogreg.cli import main

    df = _births(120)
    levels = ["north east", "south", "west coast"]
    X = np.column_stack([df["age"]] + [df["region"] == v for v in levels]).astype(float)
    fitted = vlogreg.LogisticRegression().fit(X, df[TARGET].to_numpy())
    # the training.input of vlogreg 0.1.0: one_hot without reference
    old = {"format": "table", "columns": ["age", "region"], "one_hot": {"region": levels},
           "target": TARGET}
    names = ["age"] + [f"region={v}" for v in levels]
    vlogreg.save(fitted, tmp_path / "old.vlogreg", feature_names=names,
                 training={"input": old})
    df.to_csv(tmp_path / "b.csv", index=False)
    assert main(["predict", str(tmp_path / "old.vlogreg"), str(tmp_path / "b.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0
    got = pd.read_csv(tmp_path / "p.csv", engine="python")
    np.testing.assert_array_equal(got[["proba_no", "proba_yes"]].to_numpy(),
                                  fitted.predict_proba(X))
    loaded = vlogreg.load(tmp_path / "old.vlogreg")
    assert list(loaded.feature_names_in_) == names
    np.testing.assert_array_equal(loaded.predict_proba(df), fitted.predict_proba(X))


@pytest.mark.parametrize("extra, message", [
    (["--reference", "region=mars"], "no level 'mars'"),
    (["--reference", "age=30"], "not text features encoded by --one-hot"),
    (["--reference", "region"], "takes COL=LEVEL"),
    (["--reference", "region=south", "--keep-all-levels"], "choose one"),
])
def test_reference_mistakes_are_one_line_errors(tmp_path, capsys, extra, message):
    from vlogreg.cli import main

    _births(50).to_csv(tmp_path / "b.csv", index=False)
    code = main(["train", str(tmp_path / "b.csv"), *TRAIN, "--model",
                 str(tmp_path / "m.vlogreg"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1, err


def test_reference_flags_need_one_hot(tmp_path, capsys):
    from vlogreg.cli import main

    _births(50).to_csv(tmp_path / "b.csv", index=False)
    code = main(["train", str(tmp_path / "b.csv"), "--target", TARGET, "--keep-all-levels",
                 "--model", str(tmp_path / "m.vlogreg")])
    assert code == 2 and "add --one-hot" in capsys.readouterr().err


def test_spread_out_distinct_numbers_are_no_id(tmp_path, capsys):
    from vlogreg.cli import main

    df = _births(80)
    rng = np.random.default_rng(5)
    df["income"] = rng.choice(np.arange(20_000, 200_000), 80, replace=False)  # distinct
    df["row number"] = np.arange(80)  # an id with a space in its name
    df.drop(columns=["id", "date"]).to_csv(tmp_path / "b.csv", index=False)
    assert main(["train", str(tmp_path / "b.csv"), "--target", TARGET, "--one-hot",
                 "--model", str(tmp_path / "m.vlogreg"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "'income'" not in err, err
    assert "column 'row number' has a different value in every row" in err, err
    assert "--exclude 'row number'" in err, err
