"""The full summary against statsmodels, on real data sets bundled with statsmodels
(spector, fair, anes96) and scikit-learn (breast cancer scaled and raw, iris, wine):
every covariance type (nonrobust, HC0, cluster) and every model statistic
(log-likelihood, null log-likelihood, McFadden R2, the LR test, AIC, BIC, df), binary
(``Logit``, ``GLM(freq_weights)``) and multinomial (``MNLogit``), and ``lr_test``
against ``compare_lr_test``. Each number to 1e-6 (relative), the models fitted tight.
The data sets that are perfectly separable are refused exactly when a linear program
finds a separating hyperplane; near-collinear columns are compared or named.
"""

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.stats import chi2
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression
from vlogreg.inference import COV_TYPES, lr_test, summary

RTOL = 1e-6


def _spector():
    d = sm.datasets.spector.load_pandas()  # 32 students: GPA, TUCE, PSI -> grade
    return d.exog.to_numpy(float), d.endog.to_numpy().astype(int), np.arange(32) % 8


def _fair():
    d = sm.datasets.fair.load_pandas().data  # 6366 women: any affair, clustered by occupation
    cols = ["rate_marriage", "age", "yrs_married", "children", "religious", "educ"]
    return (d[cols].to_numpy(float), (d["affairs"] > 0).to_numpy().astype(int),
            d["occupation"].to_numpy().astype(int))


def _cancer():
    data = load_breast_cancer()
    X = StandardScaler().fit_transform(data.data[:, [1, 4, 8, 9, 11]])
    return X, data.target, np.arange(len(X)) % 25


def _anes():
    d = sm.datasets.anes96.load_pandas().data  # 944 voters: 7 party identifications
    X = d[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(float)
    return X, d["PID"].to_numpy().astype(int), d["educ"].to_numpy().astype(int)


def _iris():
    data = load_iris()  # versicolor against virginica: the two classes that overlap
    keep = data.target > 0
    return data.data[keep], (data.target[keep] == 2).astype(int), np.arange(100) % 10


def _wine():
    data = load_wine()  # class 1 against the rest, on four raw (unscaled) columns
    return data.data[:, :4], (data.target == 1).astype(int), np.arange(178) % 12


def _cancer_raw():
    # the ten "mean" columns as they come: units from 1e-2 to 1e3, and radius, perimeter
    # and area nearly collinear (perimeter ~ 2 pi radius): a badly conditioned information
    data = load_breast_cancer()
    return data.data[:, :10], data.target, np.arange(len(data.target)) % 20


def _anes_vote():
    d = sm.datasets.anes96.load_pandas().data  # 944 voters: Clinton or Dole
    X = d[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(float)
    return X, d["vote"].to_numpy().astype(int), d["educ"].to_numpy().astype(int)


BINARY = {"spector": _spector, "fair": _fair, "breast_cancer": _cancer, "iris": _iris,
          "wine": _wine, "breast_cancer_raw": _cancer_raw, "anes96_vote": _anes_vote}


def _mle(X, y, w=None):
    model = LogisticRegression(C=np.inf, tol=1e-12, max_iter=1000, solver="newton")
    return model.fit(X, y, sample_weight=w)


def _sm_fit(X, y, cls=sm.Logit, cov_type="nonrobust", groups=None):
    kw = {"cov_kwds": {"groups": groups}} if groups is not None else {}
    return cls(y, sm.add_constant(X)).fit(method="newton", tol=1e-14, maxiter=200, disp=0,
                                          cov_type=cov_type, **kw)


def _close(got, want, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rtol, atol=0)


def _check_table(s, r, flat=np.asarray):
    _close(s.coef, flat(r.params))
    _close(s.std_err, flat(r.bse))
    _close(s.z, flat(r.tvalues))
    _close(s.p_value, flat(r.pvalues))
    ci = np.asarray(r.conf_int())
    if ci.ndim == 2 and ci.shape[1] == 2:
        lo, hi = ci[:, 0], ci[:, 1]
    else:  # MNLogit: (classes, params, 2) stacked
        lo, hi = ci[..., 0].ravel(), ci[..., 1].ravel()
    _close(s.ci_low, lo)
    _close(s.ci_high, hi)
    _close(s.odds_ratio, np.exp(flat(r.params)))
    _close(s.or_ci_low, np.exp(lo))
    _close(s.or_ci_high, np.exp(hi))


def _check_statistics(s, r):
    _close(s.log_likelihood, r.llf, 1e-10)
    _close(s.null_log_likelihood, r.llnull)  # statsmodels fits the null model itself
    _close(s.pseudo_r2, r.prsquared)
    _close(s.lr_stat, r.llr)
    _close(s.lr_pvalue, r.llr_pvalue)
    _close(s.aic, r.aic, 1e-10)
    _close(s.bic, r.bic, 1e-10)
    assert s.df_model == r.df_model and s.lr_df == r.df_model
    assert s.df_resid == r.df_resid


# ----------------------------------------------------------------------- binary
@pytest.mark.parametrize("name", BINARY)
def test_binary_table_and_statistics_equal_logit(name):
    X, y, _ = BINARY[name]()
    s = summary(_mle(X, y), X, y)
    r = _sm_fit(X, y)
    assert s.cov_type == "nonrobust"
    _check_table(s, r)
    _check_statistics(s, r)
    np.testing.assert_allclose(s.cov, r.cov_params(), rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_binary_robust_covariances_equal_logit(name, cov_type):
    X, y, groups = BINARY[name]()
    kw = {"groups": groups} if cov_type == "cluster" else {}
    s = summary(_mle(X, y), X, y, cov_type=cov_type, **kw)
    r = _sm_fit(X, y, cov_type=cov_type, **kw)
    assert s.cov_type == cov_type
    _check_table(s, r)
    _check_statistics(s, r)  # the statistics do not depend on the covariance
    np.testing.assert_allclose(s.cov, r.cov_params(), rtol=RTOL, atol=1e-14)
    if cov_type == "cluster":
        assert s.n_groups == len(np.unique(groups))
    text = str(s)
    assert {"HC0": "HC0", "cluster": "cluster-robust"}[cov_type] in text


def test_weights_equal_glm_freq_weights():
    X, y, _ = _fair()
    w = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    s = summary(_mle(X, y, w), X, y, sample_weight=w)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(),
               freq_weights=w).fit(tol=1e-14)
    _check_table(s, r)
    _close(s.log_likelihood, r.llf, 1e-10)
    _close(s.null_log_likelihood, r.llnull)
    _close(s.pseudo_r2, r.pseudo_rsquared(kind="mcf"))
    _close(s.aic, r.aic, 1e-10)
    _close(s.bic, r.bic_llf, 1e-10)
    assert s.df_model == r.df_model and s.df_resid == r.df_resid


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_weighted_robust_covariances_equal_logit_on_repeated_rows(cov_type):
    # frequency weights: a row of weight k is k copies of it (in the same cluster)
    X, y, groups = _spector()
    w = np.random.default_rng(1).integers(1, 4, len(y))
    Xr, yr, gr = np.repeat(X, w, axis=0), np.repeat(y, w), np.repeat(groups, w)
    kw = {"groups": groups} if cov_type == "cluster" else {}
    s = summary(_mle(X, y, w.astype(float)), X, y, sample_weight=w.astype(float),
                cov_type=cov_type, **kw)
    r = _sm_fit(Xr, yr, cov_type=cov_type, groups=gr if cov_type == "cluster" else None)
    _check_table(s, r)
    _check_statistics(s, r)


def test_lr_test_equals_compare_lr_test():
    X, y, _ = _fair()
    small = summary(_mle(X[:, :3], y), X[:, :3], y)
    full = summary(_mle(X, y), X, y)
    t = lr_test(small, full)
    # the test from statsmodels' two fits (Logit has no compare_lr_test) and scipy's chi2
    rf, rs = _sm_fit(X, y), _sm_fit(X[:, :3], y)
    stat, df = 2 * (rf.llf - rs.llf), rf.df_model - rs.df_model
    _close(t.statistic, stat)
    _close(t.p_value, chi2.sf(stat, df))
    assert t.df == df == 3
    with pytest.raises(ValueError, match="restricted, full"):
        lr_test(full, small)
    pen = LogisticRegression(C=0.1).fit(X, y)
    with pytest.raises(ValueError, match=r"penalized.*C=np.inf"):
        lr_test(small, summary(pen, X, y))
    with pytest.raises(ValueError, match="different data"):
        lr_test(summary(_mle(X[::2, :3], y[::2]), X[::2, :3], y[::2]), full)


# ------------------------------------------------------------------ multinomial
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_multinomial_equals_mnlogit(cov_type):
    X, y, groups = _anes()
    kw = {"groups": groups} if cov_type == "cluster" else {}
    model = _mle(X, y)
    s = summary(model, X, y, cov_type=cov_type, **kw)
    r = _sm_fit(X, y, cls=sm.MNLogit, cov_type=cov_type, **kw)

    def flat(a):  # statsmodels: (params, classes 2..K); vlogreg: class by class
        return np.asarray(a).T.ravel()

    assert list(s.names[:2]) == ["1:intercept", "1:x0"] and len(s.names) == 6 * 6
    _check_table(s, r, flat)
    _check_statistics(s, r)
    assert "against 0" in s.note


# ----------------------------------------------------------------------- errors
def test_bad_cov_type_and_groups_are_named():
    X, y, groups = _spector()
    model = _mle(X, y)
    with pytest.raises(ValueError, match="cov_type='HC3' is not valid; use one of"):
        summary(model, X, y, cov_type="HC3")
    with pytest.raises(ValueError, match="cluster' needs groups"):
        summary(model, X, y, cov_type="cluster")
    with pytest.raises(ValueError, match="only used with cov_type='cluster'"):
        summary(model, X, y, groups=groups)
    with pytest.raises(ValueError, match="one cluster label per row"):
        summary(model, X, y, cov_type="cluster", groups=groups[:-1])
    with pytest.raises(ValueError, match="holds 1 cluster"):
        summary(model, X, y, cov_type="cluster", groups=np.zeros(len(y)))


def test_feature_names_name_collinear_columns():
    X, y, _ = _spector()
    X = np.column_stack([X, X[:, 0] + X[:, 2]])
    model = _mle(X, y)
    with pytest.raises(ValueError, match=r"'(GPA|PSI|GPA\+PSI)'.*collinear"):
        summary(model, X, y, feature_names=["GPA", "TUCE", "PSI", "GPA+PSI"])


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_without_intercept_equals_logit_without_constant(cov_type):
    # statsmodels' counts without a constant: df_model = rank - 1, and llnull is still
    # the model with a constant
    X, y, groups = _fair()
    kw = {"cov_kwds": {"groups": groups}} if cov_type == "cluster" else {}
    model = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12,
                               solver="newton").fit(X, y)
    s = summary(model, X, y, cov_type=cov_type,
                groups=groups if cov_type == "cluster" else None)
    r = sm.Logit(y, X).fit(method="newton", tol=1e-14, disp=0, cov_type=cov_type, **kw)
    _check_table(s, r)
    _check_statistics(s, r)


# ------------------------------------------- separation and near-collinearity, real data
def _separable_by_lp(X, y):
    """Whether some (w, b) has (2 y - 1)(x w + b) >= 1 for every row: scipy's linprog,
    on standardized columns (separation does not depend on the columns' units)."""
    from scipy.optimize import linprog

    Xs = StandardScaler().fit_transform(X)
    sign = 2.0 * y - 1.0
    A = -sign[:, None] * np.column_stack([Xs, np.ones(len(y))])
    res = linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(len(y)),
                  bounds=[(None, None)] * A.shape[1], method="highs")
    return res.status == 0


def _pair(load, a, b):
    data = load()
    keep = np.isin(data.target, [a, b])
    return data.data[keep], (data.target[keep] == b).astype(int)


SEPARATION = {
    "iris setosa/versicolor": lambda: _pair(load_iris, 0, 1),
    "iris versicolor/virginica": lambda: _pair(load_iris, 1, 2),
    "wine 0/1": lambda: _pair(load_wine, 0, 1),
    "wine 1/2": lambda: _pair(load_wine, 1, 2),
    "breast_cancer all 30 raw": lambda: load_breast_cancer(return_X_y=True),
    "breast_cancer 10 raw": lambda: _cancer_raw()[:2],
}


@pytest.mark.parametrize("name", SEPARATION)
def test_summary_is_refused_exactly_on_separable_data(name):
    import warnings

    X, y = SEPARATION[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SeparationWarning / not converged: the point
        model = _mle(X, y)
    if _separable_by_lp(X, y):
        with pytest.raises(ValueError, match="perfectly separable.*penalty='l2'"):
            summary(model, X, y)
    else:
        s, r = summary(model, X, y), _sm_fit(X, y)
        _check_table(s, r)
        _check_statistics(s, r)


@pytest.mark.parametrize("eps", [1e-2, 1e-6])
def test_near_collinear_column_equals_logit_or_is_named(eps):
    """A column selfLR + age + eps * noise added to anes96: at 1e-2 its standard error
    is statsmodels'; at 1e-6 (a variance inflation near 1e10, where statsmodels' own
    numbers carry few digits) the summary names the tied columns instead."""
    X, y, _ = _anes_vote()
    noise = np.random.default_rng(0).standard_normal(len(y))
    X = np.column_stack([X, X[:, 1] + X[:, 2] + eps * noise])
    with warnings.catch_warnings():
        if eps <= 1e-4:  # near 1e10 of variance inflation Newton may stop on a loss flat
            # to rounding and summary() says so before it refuses: not what is tested
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="The model did not converge")
        model = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000,
                                   solver="newton").fit(X, y)
        if eps > 1e-4:
            s, r = summary(model, X, y), _sm_fit(X, y)
            _check_table(s, r)
            _check_statistics(s, r)
        else:
            with pytest.raises(ValueError, match=r"singular.*'x5'.*collinear"):
                summary(model, X, y)
