"""summary() on X that is not in memory: a dask array or DataFrame, and files read in
chunks (vlogreg.data.open_source). The information, middle term, log-likelihood and
class counts are summed chunk by chunk in one pass; the oracles are statsmodels' Logit
(binary MLE, nonrobust and HC0) and vlogreg's in-memory summary (itself tested against
statsmodels in test_inference.py) for what statsmodels does not fit (penalized,
standardized, weighted multinomial)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg.data import open_source
from vlogreg.inference import summary

da = pytest.importorskip("dask.array")
RTOL = 1e-6


def _breast_cancer():
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data[:, [1, 4, 8, 9, 11]])
    return X, data.target


def _multiclass(m=1200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 3))
    z = X @ rng.standard_normal((3, 3)) + rng.gumbel(size=(m, 3))
    return X, np.array(["ant", "bee", "cat"])[z.argmax(axis=1)]


def _same(a, b, rtol=RTOL):
    """Two Summaries agree in every number they report."""
    assert list(a.names) == list(b.names)
    for f in ("coef", "std_err", "z", "p_value", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=rtol, atol=1e-12,
                                   err_msg=f)
    for f in ("log_likelihood", "null_log_likelihood", "n_obs", "sum_weights", "aic",
              "bic", "lr_stat"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=rtol, err_msg=f)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_dask_mle_equals_statsmodels_logit(cov_type):
    sm = pytest.importorskip("statsmodels.api")
    X, y = _breast_cancer()
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    s = summary(model, da.from_array(X, chunks=(97, 5)), da.from_array(y, chunks=97),
                cov_type=cov_type)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type=cov_type, method="newton",
                                              tol=1e-12)
    np.testing.assert_allclose(s.coef, ref.params, rtol=1e-5)
    np.testing.assert_allclose(s.std_err, ref.bse, rtol=1e-5)
    np.testing.assert_allclose(s.p_value, ref.pvalues, rtol=1e-4)
    np.testing.assert_allclose(s.log_likelihood, ref.llf, rtol=1e-9)
    np.testing.assert_allclose(s.null_log_likelihood, ref.llnull, rtol=1e-9)
    np.testing.assert_allclose(s.pseudo_r2, ref.prsquared, rtol=1e-9)
    assert s.n_obs == len(y)


@pytest.mark.parametrize("kw", [dict(C=0.05), dict(C=0.2, standardize=True),
                                dict(C=np.inf, class_weight="balanced")])
def test_dask_weighted_multinomial_equals_in_memory(kw):
    X, y = _multiclass()
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    model = LogisticRegression(tol=1e-10, max_iter=1000, **kw).fit(X, y, sample_weight=sw)
    ref = summary(model, X, y, sample_weight=sw, cov_type="HC0")
    got = summary(model, da.from_array(X, chunks=(250, 3)), da.from_array(y, chunks=250),
                  sample_weight=da.from_array(sw, chunks=250), cov_type="HC0")
    _same(ref, got)


def test_dask_dataframe_keeps_the_column_names():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = _breast_cancer()
    df = pd.DataFrame(X, columns=[f"c{j}" for j in range(5)])
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(df, y)
    ref = summary(model, df, y)
    ddf = dd.from_pandas(df, npartitions=4)
    got = summary(model, ddf, dd.from_pandas(pd.Series(y), npartitions=4))
    _same(ref, got)
    assert "c3" in list(got.names)
    with pytest.raises(ValueError, match=r"differ from those seen in fit") as e:
        summary(model, ddf.rename(columns={"c3": "other"}),
                dd.from_pandas(pd.Series(y), npartitions=4))
    assert "\n" not in str(e.value)


def test_parquet_file_equals_in_memory(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    X, y = _multiclass(900, seed=1)
    cols = {f"f{j}": X[:, j] for j in range(X.shape[1])}
    pq.write_table(pa.table({**cols, "label": y}), tmp_path / "d.parquet",
                   row_group_size=200)
    source = open_source(tmp_path / "d.parquet", target="label")
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(source)
    import pandas as pd  # pyarrow's tables come back through pandas in the oracle
    ref = summary(model, pd.DataFrame(cols), y)
    _same(ref, summary(model, source, None), rtol=1e-6)
    _same(summary(model, pd.DataFrame(cols), y, cov_type="HC0"),
          summary(model, source, None, cov_type="HC0"), rtol=1e-6)


def test_npy_file_binary_mle_equals_statsmodels(tmp_path):
    sm = pytest.importorskip("statsmodels.api")
    X, y = _breast_cancer()
    np.save(tmp_path / "Xy.npy", np.ascontiguousarray(np.column_stack([X, y])))
    source = open_source(tmp_path / "Xy.npy", target=-1, chunk_bytes=100 * 6 * 8)
    assert source.n_chunks > 1
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(source)
    s = summary(model, source, None)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-12)
    np.testing.assert_allclose(s.std_err, ref.bse, rtol=1e-5)
    np.testing.assert_allclose(s.log_likelihood, ref.llf, rtol=1e-9)


def test_chunked_errors_are_one_line_and_read_nothing_first():
    X, y = _breast_cancer()
    Xd, yd = da.from_array(X, chunks=(100, 5)), da.from_array(y, chunks=100)
    model = LogisticRegression(C=np.inf, tol=1e-8).fit(X, y)
    with pytest.raises(ValueError, match=r"needs X in memory") as e:
        summary(model, Xd, yd, cov_type="cluster", groups=np.arange(len(y)) % 7)
    assert "\n" not in str(e.value)
    X3, y3 = _multiclass()
    three = LogisticRegression(C=np.inf, tol=1e-8).fit(X3, y3)
    two = np.where(y3 == "cat", "bee", y3)
    with pytest.raises(ValueError, match=r"holds the classes \['ant', 'bee'\], but the "
                                         r"model was fitted on \['ant', 'bee', 'cat'\]"):
        summary(three, da.from_array(X3, chunks=(300, 3)), da.from_array(two, chunks=300))
    with pytest.raises(ValueError, match=r"fitted on 5 features") as e:
        summary(model, Xd[:, :4], yd)
    lasso = LogisticRegression(l1_ratio=1.0, C=0.5, solver="saga", tol=1e-6).fit(X, y)
    with pytest.raises(ValueError, match=r"has an L1 part"):
        summary(lasso, Xd, yd)


def test_torch_tensors_give_the_numpy_summary():
    torch = pytest.importorskip("torch")
    X, y = _breast_cancer()
    model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    _same(summary(model, X, y, cov_type="HC0"),
          summary(model, torch.from_numpy(X), torch.from_numpy(y), cov_type="HC0"),
          rtol=1e-12)
