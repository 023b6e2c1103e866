"""The SeparationWarning names a column that separates the classes by itself."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from vlogreg import LogisticRegression, SeparationWarning


def _data(K=2):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    # column 2 alone orders the classes (thresholds 0 and 1): disjoint class ranges
    y = np.digitize(X[:, 2], [0.0, 1.0][:K - 1])
    return X, y


def _message(X, y, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LogisticRegression(C=np.inf, max_iter=30, **kw).fit(X, y)
    msgs = [str(w.message) for w in caught if issubclass(w.category, SeparationWarning)]
    assert msgs, [str(w.message) for w in caught]
    return msgs[0]


@pytest.mark.parametrize("kind", ["dense", "csr", "dataframe", "standardized",
                                  "array_api_strict"])
def test_binary_separating_column_is_named(kind):
    X, y = _data()
    if kind == "csr":
        X = sp.csr_matrix(X)
    elif kind == "dataframe":
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(X, columns=["age", "income", "score", "height"])
    elif kind == "array_api_strict":
        X = pytest.importorskip("array_api_strict").asarray(X)
    msg = _message(X, y, standardize=kind == "standardized")
    name = "'score'" if kind == "dataframe" else "column 2"
    assert f"{name} alone separates the classes" in msg and "drop the separating" in msg
    assert "column 0" not in msg and "column 1" not in msg


def test_multinomial_ordered_classes_name_the_column():
    X, y = _data(K=3)
    assert "column 2 alone separates" in _message(X, y)


def test_separable_without_a_single_column_names_none():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)  # separable, by neither column alone
    msg = _message(X, y)
    assert "alone" not in msg and "perfectly separable" in msg
