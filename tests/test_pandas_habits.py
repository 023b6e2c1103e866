"""pandas users' habits: nullable dtypes, categories, numbers as strings, labels as a
DataFrame column, odd column names, a DatetimeIndex.

Each case either fits as scikit-learn's LogisticRegression fits the same frame (the
oracle: its classes, feature names and, unpenalized, its coefficients) or is refused
in one line that names the column and the fix.
"""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as sklm

import vlogreg

pd = pytest.importorskip("pandas")

M = 200
EXACT = dict(C=np.inf, tol=1e-12, max_iter=500)


def _base(seed=0):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=M), rng.normal(size=M)
    y = (rng.random(M) < 1 / (1 + np.exp(-(x1 - x2)))).astype(int)
    return pd.DataFrame({"x1": x1, "x2": x2}), y


def _words(y):
    return np.where(y == 1, "yes", "no")


#: name -> (X, y) built from the base frame: frames scikit-learn fits
WORKS = {
    "Int64": lambda X, y: (X.assign(x1=pd.array(np.round(10 * X.x1), dtype="Int64")), y),
    "Float64": lambda X, y: (X.assign(x1=pd.array(X.x1, dtype="Float64")), y),
    "boolean": lambda X, y: (X.assign(x1=pd.array(X.x1 > 0, dtype="boolean")), y),
    "category of numbers": lambda X, y: (X.assign(x1=pd.Categorical(np.round(X.x1))), y),
    "numbers as object strings": lambda X, y: (X.assign(x1=X.x1.astype(str)), y),
    "numbers as string dtype": lambda X, y: (X.assign(x1=X.x1.astype(str).astype("string")),
                                             y),
    "y a DataFrame column of str": lambda X, y: (X, pd.DataFrame({"t": _words(y)})),
    "y category": lambda X, y: (X, pd.Series(pd.Categorical(_words(y)))),
    "y bool": lambda X, y: (X, pd.Series(y == 1)),
    "y string dtype": lambda X, y: (X, pd.Series(_words(y), dtype="string")),
    "y Int64": lambda X, y: (X, pd.Series(y, dtype="Int64")),
    "integer column names": lambda X, y: (X.set_axis([0, 1], axis=1), y),
    "DatetimeIndex": lambda X, y: (X.set_axis(pd.date_range("2020", periods=M)), y),
}


@pytest.mark.parametrize("case", list(WORKS))
def test_frames_scikit_learn_fits_fit_the_same(case):
    X, y = WORKS[case](*_base())
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        sk = sklm.LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000,
                                     solver="newton-cholesky").fit(X, y)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        est = vlogreg.LogisticRegression(**EXACT).fit(X, y)
    assert [type(w.message) for w in ours] == [type(w.message) for w in theirs]
    np.testing.assert_array_equal(est.classes_, sk.classes_)
    assert (hasattr(est, "feature_names_in_") == hasattr(sk, "feature_names_in_"))
    if hasattr(sk, "feature_names_in_"):
        np.testing.assert_array_equal(est.feature_names_in_, sk.feature_names_in_)
    np.testing.assert_allclose(est.coef_, sk.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(est.predict(X), sk.predict(X))


#: name -> (X, y, exception, what the one line must say): frames that are refused
REFUSED = {
    "Int64 with NA": (lambda X, y: (X.assign(x1=pd.array(
        [None, *np.round(10 * X.x1[1:])], dtype="Int64")), y),
        ValueError, r"NaN at row 0, column 0 \('x1'\)"),
    "boolean with NA": (lambda X, y: (X.assign(x2=pd.array(
        [*(X.x2[:-1] > 0), None], dtype="boolean")), y),
        ValueError, rf"NaN at row {M - 1}, column 1 \('x2'\)"),
    "y boolean with NA": (lambda X, y: (X, pd.Series(pd.array([*(y[:-1] == 1), None],
                                                               dtype="boolean"))),
                          ValueError, rf"missing label \(<NA>\) at row {M - 1}"),
    "y Int64 with NA": (lambda X, y: (X, pd.Series([None, *y[1:]], dtype="Int64")),
                        ValueError, r"missing label \((<NA>|NaN)\) at row 0"),
    "y category with NaN": (lambda X, y: (X, pd.Series(pd.Categorical([None,
                                                                       *_words(y[1:])]))),
                            ValueError, r"missing label \(NaN\) at row 0"),
    "category of text": (lambda X, y: (X.assign(x2=pd.Categorical(_words(y))), y),
                         ValueError, r"X column 'x2' holds text \('(no|yes)'\) at row 0.*"
                                     r"OneHotEncoder"),
    "object text among numbers": (lambda X, y: (X.assign(x1=[*X.x1[:5], "n/a",
                                                             *X.x1[6:]]), y),
                                  ValueError, r"X column 'x1' holds text \('n/a'\) at row 5"),
    "duplicated column names": (lambda X, y: (X.set_axis(["x", "x"], axis=1), y),
                                ValueError, r"X has several columns named 'x'.*X.columns"),
    "datetime column": (lambda X, y: (X.assign(t=pd.date_range("2020", periods=M)), y),
                        TypeError, r"X column 't' has dtype datetime64\[\w+\].*not a number"),
    "timedelta column": (lambda X, y: (X.assign(t=pd.to_timedelta(np.arange(M), "D")), y),
                         TypeError, r"X column 't' has dtype timedelta64\[\w+\]"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_frames_that_are_refused_say_which_column_and_the_fix(case):
    build, exc, match = REFUSED[case]
    X, y = build(*_base())
    with pytest.raises(Exception) as theirs:  # scikit-learn refuses them too
        sklm.LogisticRegression().fit(X, y)
    with pytest.raises(exc, match=match) as ours:
        vlogreg.LogisticRegression().fit(X, y)
    assert "\n" not in str(ours.value), str(ours.value)
    # a user's `except` written for scikit-learn's error still catches ours
    for base in (ValueError, TypeError):
        if isinstance(theirs.value, base):
            assert isinstance(ours.value, base), (theirs.value, ours.value)


@pytest.mark.parametrize("case", ["category of text", "datetime column",
                                  "object text among numbers"])
def test_predict_names_the_column_too(case):
    build, exc, match = REFUSED[case]
    bad, y = build(*_base())
    numeric = bad.assign(**{c: np.arange(M) % 3 for c in bad.columns
                            if bad[c].dtype.kind not in "fiu"})
    est = vlogreg.LogisticRegression().fit(numeric, y)
    with pytest.raises(exc, match=match):
        est.predict(bad)
