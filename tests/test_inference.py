"""vlogreg.inference against independent oracles.

- unpenalized fits: statsmodels' Logit (Newton, own Hessian) and GLM(freq_weights);
- L2 fits: the inverse of a central-difference Hessian of the negative log posterior
  ``sum_i s_i loss_i + ||w||^2 / (2 C)``, written here with scipy and nothing from vlogreg.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from scipy.special import expit, logsumexp, softmax
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.preprocessing import StandardScaler

from vlogreg import LogisticRegression, SeparationWarning
from vlogreg import inference
from vlogreg.inference import Summary, summary

RTOL = 1e-5


def _mle(**kw):
    return LogisticRegression(**{"C": np.inf, "tol": 1e-10, "max_iter": 1000, **kw})


def _classification():
    # n_redundant=0: make_classification's default redundant columns are exact linear
    # combinations of the informative ones, which makes the MLE information singular
    X, y = make_classification(n_samples=500, n_features=5, n_informative=3,
                               n_redundant=0, flip_y=0.1, random_state=0)
    return X, y


def _breast_cancer():
    data = load_breast_cancer()
    cols = [1, 4, 8, 9, 11]  # texture, smoothness, symmetry, fractal dim., texture se
    X = StandardScaler().fit_transform(data.data[:, cols])
    return X, data.target


DATASETS = {"make_classification": _classification, "breast_cancer": _breast_cancer}


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _assert_matches(s, params, bse, z, p, ci):
    np.testing.assert_allclose(s.coef, params, rtol=RTOL)
    np.testing.assert_allclose(s.std_err, bse, rtol=RTOL)
    np.testing.assert_allclose(s.z, z, rtol=RTOL)
    np.testing.assert_allclose(s.p_value, p, rtol=RTOL)
    np.testing.assert_allclose(s.ci_low, ci[:, 0], rtol=RTOL)
    np.testing.assert_allclose(s.ci_high, ci[:, 1], rtol=RTOL)


# --------------------------------------------------------------------- MLE oracles
@pytest.mark.parametrize("name", DATASETS)
def test_mle_equals_statsmodels_logit(name):
    X, y = DATASETS[name]()
    s = summary(_mle().fit(X, y), X, y)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
    assert s.kind == "mle"
    assert list(s.names) == ["intercept"] + [f"x{j}" for j in range(X.shape[1])]
    _assert_matches(s, r.params, r.bse, r.tvalues, r.pvalues, r.conf_int())
    assert s.log_likelihood == pytest.approx(r.llf, rel=1e-10)
    np.testing.assert_allclose(s.cov, r.cov_params(), rtol=RTOL, atol=1e-12)
    assert s.n_obs == len(y) and s.sum_weights == len(y)


def test_mle_without_intercept_equals_statsmodels():
    X, y = _classification()
    s = summary(_mle(fit_intercept=False).fit(X, y), X, y)
    r = sm.Logit(y, X).fit(method="newton", tol=1e-12, disp=0)
    assert list(s.names) == [f"x{j}" for j in range(5)]
    _assert_matches(s, r.params, r.bse, r.tvalues, r.pvalues, r.conf_int())


def test_other_alpha_gives_other_intervals():
    X, y = _classification()
    s = summary(_mle().fit(X, y), X, y, alpha=0.1)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
    np.testing.assert_allclose(np.column_stack([s.ci_low, s.ci_high]),
                               r.conf_int(alpha=0.1), rtol=RTOL)
    assert "[0.05" in str(s) and "0.95]" in str(s)


def test_sample_weight_equals_glm_freq_weights():
    X, y = _classification()
    w = np.random.default_rng(1).integers(1, 5, size=len(y)).astype(float)
    s = summary(_mle().fit(X, y, sample_weight=w), X, y, sample_weight=w)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(),
               freq_weights=w).fit(tol=1e-13)
    _assert_matches(s, r.params, r.bse, r.tvalues, r.pvalues, r.conf_int())
    assert s.sum_weights == pytest.approx(w.sum())
    # frequency weights are replicated rows: a second, independent oracle
    Xr, yr = np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))
    sr = summary(_mle().fit(Xr, yr), Xr, yr)
    np.testing.assert_allclose(s.std_err, sr.std_err, rtol=RTOL)


def test_class_weight_is_folded_in_like_fit():
    X, y = _classification()
    cw = {0: 1.0, 1: 3.0}
    s = summary(_mle(class_weight=cw).fit(X, y), X, y)
    r = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(),
               freq_weights=np.where(y == 1, 3.0, 1.0)).fit(tol=1e-13)
    _assert_matches(s, r.params, r.bse, r.tvalues, r.pvalues, r.conf_int())


def test_sparse_and_small_blocks_equal_dense(monkeypatch):
    X, y = _classification()
    model = _mle().fit(X, y)
    dense = summary(model, X, y)
    sparse = summary(model, sp.csr_matrix(X), y)
    # a few rows per densified block: the block sums must add up to the same matrix
    monkeypatch.setattr(inference._summary, "_DENSE_BLOCK_BYTES", 8 * 6 * 7)
    blocked = summary(model, sp.csr_matrix(X), y)
    for other in (sparse, blocked):
        np.testing.assert_allclose(other.std_err, dense.std_err, rtol=1e-10)
        np.testing.assert_allclose(other.cov, dense.cov, rtol=1e-10, atol=1e-14)


# -------------------------------------------------------------- names and printing
def test_dataframe_names_reach_names_frame_and_str():
    pd = pytest.importorskip("pandas")
    X, y = _breast_cancer()
    cols = ["texture", "smoothness", "symmetry", "fractal dim", "texture se"]
    s = summary(_mle().fit(pd.DataFrame(X, columns=cols), y),
                pd.DataFrame(X, columns=cols), y)
    assert list(s.names) == ["intercept"] + cols
    frame = s.to_frame()
    assert list(frame.index) == ["intercept"] + cols
    assert list(frame.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]",
                                   "odds ratio", "OR [0.025", "OR 0.975]"]
    np.testing.assert_array_equal(frame["std err"].to_numpy(), s.std_err)
    np.testing.assert_array_equal(frame["OR 0.975]"].to_numpy(), np.exp(s.ci_high))
    text = str(s)
    for word in ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]", "maximum likelihood"]:
        assert word in text
    rows = text.splitlines()
    for name in ["intercept"] + cols:
        assert any(r.startswith(name + " ") for r in rows), name
    # aligned: every table row as wide as the header row
    header = next(r for r in rows if "std err" in r)
    table = [r for r in rows if r.split(" ")[0] in {"intercept", "texture", "smoothness"}]
    assert {len(r) for r in table} == {len(header)}


# -------------------------------------------------------------- penalized (Laplace)
def _fd_hessian(grad, theta, h=1e-5):
    """Central-difference Hessian (symmetrized) of an analytic gradient."""
    p = len(theta)
    H = np.empty((p, p))
    for j in range(p):
        e = np.zeros(p)
        e[j] = h
        H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    H = (H + H.T) / 2
    return H


def test_l2_binary_is_laplace_of_the_posterior():
    X, y = _breast_cancer()
    C = 0.05
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    model = LogisticRegression(C=C, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=w)
    s = summary(model, X, y, sample_weight=w)
    assert s.kind == "laplace-l2"
    assert "posterior" in s.note and "not frequentist" in s.note.lower() and "C=0.05" in s.note
    X1 = np.column_stack([np.ones(len(y)), X])

    def grad(theta):  # of sum_i s_i loss_i + ||w||^2 / (2C), intercept unpenalized
        g = X1.T @ (w * (expit(X1 @ theta) - y))
        g[1:] += theta[1:] / C
        return g

    theta = np.concatenate([model.intercept_, model.coef_[0]])
    assert np.max(np.abs(grad(theta))) < 1e-6  # the fit is at the posterior mode
    cov = np.linalg.inv(_fd_hessian(grad, theta))
    np.testing.assert_allclose(s.coef, theta)
    np.testing.assert_allclose(s.std_err, np.sqrt(np.diag(cov)), rtol=RTOL)
    np.testing.assert_allclose(s.cov, cov, rtol=1e-4, atol=1e-10)
    # the prior matters here (else the test could not tell Laplace from MLE)
    mle = summary(_mle().fit(X, y, sample_weight=w), X, y, sample_weight=w)
    assert np.all(s.std_err[1:] < 0.95 * mle.std_err[1:])


def test_l2_with_huge_C_tends_to_the_mle():
    X, y = _classification()
    s = summary(LogisticRegression(C=1e8, tol=1e-10, max_iter=1000).fit(X, y), X, y)
    r = sm.Logit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0)
    assert s.kind == "laplace-l2"
    np.testing.assert_allclose(s.std_err, r.bse, rtol=RTOL)


def test_l2_multinomial_is_constrained_laplace():
    data = load_iris()
    X = StandardScaler().fit_transform(data.data)
    labels = np.array(["setosa", "versicolor", "virginica"])
    y = labels[data.target]
    C = 0.5
    model = LogisticRegression(C=C, tol=1e-10, max_iter=1000).fit(X, y)
    s = summary(model, X, y)
    assert s.kind == "laplace-l2" and "centred" in s.note
    n, K = X.shape[1], 3
    assert list(s.names[: n + 1]) == ["setosa:intercept"] + [f"setosa:x{j}" for j in range(n)]
    assert len(s.names) == K * (n + 1) and s.names[-1] == f"virginica:x{n - 1}"
    Y = np.eye(K)[data.target]
    X1 = np.column_stack([np.ones(len(y)), X])

    def grad(theta):  # theta = per class [b_k, w_k]; sum loss + ||W||^2 / (2C)
        T = theta.reshape(K, n + 1)
        G = (X1.T @ (softmax(X1 @ T.T, axis=1) - Y)).T
        G[:, 1:] += T[:, 1:] / C
        return G.ravel()

    theta = np.column_stack([model.intercept_, model.coef_]).ravel()
    assert np.max(np.abs(grad(theta))) < 1e-6
    np.testing.assert_allclose(s.coef, theta)
    H = _fd_hessian(grad, theta)
    # the loss is flat along "same shift of every intercept", and the fit reports
    # centred intercepts: the Gaussian restricted to sum_k b_k = 0
    u = np.zeros(K * (n + 1))
    u[:: n + 1] = 1.0
    Q = np.linalg.svd(u[None, :])[2][1:].T  # orthonormal basis of u's complement
    cov = Q @ np.linalg.inv(Q.T @ H @ Q) @ Q.T
    np.testing.assert_allclose(s.std_err, np.sqrt(np.diag(cov)), rtol=RTOL)
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-10)
    # loss written independently of the softmax above: log-likelihood at the fit
    Z = X1 @ theta.reshape(K, n + 1).T
    assert s.log_likelihood == pytest.approx(np.sum(Z[Y == 1] - logsumexp(Z, axis=1)))


# ------------------------------------------------------------------------ refusals
@pytest.mark.parametrize("kw", [{"l1_ratio": 1.0}, {"l1_ratio": 0.5}])
def test_l1_fits_are_refused(kw):
    X, y = _classification()
    model = LogisticRegression(C=0.1, max_iter=500, **kw).fit(X, y)
    with pytest.raises(ValueError, match="lasso.*C=np.inf"):
        summary(model, X, y)


def test_unfitted_model_is_refused():
    X, y = _classification()
    with pytest.raises(ValueError, match="not fitted.*fit"):
        summary(LogisticRegression(), X, y)
    with pytest.raises(TypeError, match="vlogreg.LogisticRegression"):
        summary(object(), X, y)


def test_separable_data_is_refused():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(SeparationWarning):
        model = _mle(max_iter=50).fit(X, y)
    with pytest.raises(ValueError, match="separable.*penalty='l2'"):
        summary(model, X, y)


def test_collinear_columns_are_named():
    X, y = _classification()
    X = np.column_stack([X, 2.0 * X[:, 0]])  # a plain duplicate, rescaled
    model = _mle(max_iter=50).fit(X, y)
    with pytest.raises(ValueError, match=r"singular.*'x[05]', 'x[05]' are \(nearly\) "
                                         r"collinear.*drop"):
        summary(model, X, y)
    # make_classification's redundant columns: combinations of the informative ones
    X, y = make_classification(n_samples=500, n_features=5, flip_y=0.1, random_state=0)
    model = _mle(max_iter=50).fit(X, y)
    with pytest.raises(ValueError, match=r"singular.*collinear.*drop"):
        summary(model, X, y)


def test_inputs_that_do_not_match_the_model():
    X, y = _classification()
    model = _mle().fit(X, y)
    with pytest.raises(ValueError, match="5 features"):
        summary(model, X[:, :4], y)
    with pytest.raises(ValueError, match="one label per row"):
        summary(model, X, y[:-1])
    with pytest.raises(ValueError, match=r"y\[0\] = 7 is not one of the classes"):
        summary(model, X, np.where(np.arange(len(y)) == 0, 7, y))
    with pytest.raises(ValueError, match="not one of the classes"):
        summary(model, X, np.array(["a"] * len(y)))
    with pytest.raises(ValueError, match="alpha"):
        summary(model, X, y, alpha=1.5)
    with pytest.raises(ValueError, match="negative"):
        summary(model, X, y, sample_weight=-np.ones(len(y)))


def test_unconverged_fit_warns():
    X, y = _classification()
    with pytest.warns(Warning):
        model = _mle(max_iter=1).fit(X, y)
    with pytest.warns(UserWarning, match="did not converge"):
        s = summary(model, X, y)
    assert isinstance(s, Summary)
