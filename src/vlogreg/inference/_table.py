"""``Summary``: the inference table of a fitted model, as arrays, a DataFrame and text."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from .._textgrid import grid

#: ``cov_type`` in words, for the text table's header
COV_TYPES = {"nonrobust": "nonrobust (inverse information)",
             "HC0": "HC0 (heteroskedasticity-robust sandwich)",
             "cluster": "cluster-robust sandwich"}


@dataclass(eq=False)
class Summary:
    """Inference table of a fitted ``LogisticRegression``; arrays have shape (p,).

    Attributes
    ----------
    names : ndarray of str
        ``"intercept"`` first (when fitted), then the features; for K >= 3 classes,
        ``"label:intercept"``, ``"label:feature"`` class by class.
    coef, std_err, z, p_value, ci_low, ci_high : ndarray of float64
        ``z = coef / std_err``, ``p_value = 2 norm.sf(|z|)``,
        ``ci = coef -+ norm.ppf(1 - alpha / 2) std_err``.
    cov : ndarray, shape (p, p)
        The covariance matrix the standard errors come from, in ``names`` order.
    kind : {"mle", "laplace-l2"}
    alpha : float
        The intervals have level ``1 - alpha``.
    n_obs : int
        Rows of X.
    sum_weights : float
        ``N = sum_i s_i`` (class weights included): the number of observations of the
        statistics below (frequency weights).
    log_likelihood : float
        ``ll = sum_i s_i log p(y_i | x_i)`` at ``coef`` (never includes the penalty).
    note : str
        What the numbers mean, in words.
    odds_ratio, or_ci_low, or_ci_high : ndarray of float64
        ``exp(coef)`` and ``exp(ci)``: odds ratios (binary; the intercept's is the odds at
        x = 0), relative-risk ratios against the reference class (multinomial).
    null_log_likelihood : float
        ``ll0 = sum_k N_k log(N_k / N)``: the intercept-only model (as statsmodels' llnull,
        which has a constant even when the model has none); ``N_k`` weight of class k.
    pseudo_r2 : float
        McFadden's ``1 - ll / ll0``.
    lr_stat, lr_df, lr_pvalue : float
        The likelihood-ratio test against the intercept-only model:
        ``2 (ll - ll0)``, ``df_model``, ``chi2.sf(lr_stat, lr_df)``.
    aic, bic : float
        ``-2 ll + 2 q`` and ``-2 ll + log(N) q``, ``q = df_model + K - 1`` parameters.
    df_model, df_resid : float
        ``q - (K - 1)`` and ``N - q``, as statsmodels' Logit / MNLogit / GLM count them.
    cov_type : {"nonrobust", "HC0", "cluster"}
    n_groups : int or None
        Clusters of a ``cov_type="cluster"`` covariance.
    """

    names: np.ndarray
    coef: np.ndarray
    std_err: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    cov: np.ndarray
    kind: str
    alpha: float
    n_obs: int
    sum_weights: float
    log_likelihood: float
    note: str
    # the fields below came later: a model file written before them leaves them unset
    null_log_likelihood: float = math.nan
    pseudo_r2: float = math.nan
    lr_stat: float = math.nan
    lr_df: float = math.nan
    lr_pvalue: float = math.nan
    aic: float = math.nan
    bic: float = math.nan
    df_model: float = math.nan
    df_resid: float = math.nan
    cov_type: str = "nonrobust"
    n_groups: int | None = None

    # odds ratios follow from coef and its interval: derived, so they never disagree
    @property
    def odds_ratio(self) -> np.ndarray:
        return np.exp(np.asarray(self.coef, dtype=np.float64))

    @property
    def or_ci_low(self) -> np.ndarray:
        return np.exp(np.asarray(self.ci_low, dtype=np.float64))

    @property
    def or_ci_high(self) -> np.ndarray:
        return np.exp(np.asarray(self.ci_high, dtype=np.float64))

    def _columns(self, odds_ratios=True):
        lo, hi = f"[{self.alpha / 2:g}", f"{1 - self.alpha / 2:g}]"
        cols = {"coef": self.coef, "std err": self.std_err, "z": self.z,
                "P>|z|": self.p_value, lo: self.ci_low, hi: self.ci_high}
        if odds_ratios:
            cols.update({"odds ratio": self.odds_ratio, "OR " + lo: self.or_ci_low,
                         "OR " + hi: self.or_ci_high})
        return cols

    def to_frame(self):
        """The table as a pandas DataFrame indexed by ``names``: statsmodels' columns,
        then the odds ratio and its interval."""
        try:
            import pandas as pd
        except ImportError:  # pandas is optional for vlogreg, only this method needs it
            raise ImportError("Summary.to_frame() needs pandas; install it with `pip "
                              "install pandas`, or read the Summary's arrays.") from None
        return pd.DataFrame(self._columns(), index=pd.Index(list(self.names)))

    def to_text(self, odds_ratios=False, width=None):
        """The table as text; ``odds_ratios=True`` adds ``exp(coef)`` and its interval.

        ``width``: the most characters per line. A wider table is printed in blocks:
        one per class (K >= 3 classes), its columns split where they do not fit
        (``vlogreg._textgrid.grid``), the header wrapped.
        """
        cols = self._columns(odds_ratios)
        names = [str(n) for n in self.names]
        rows = [self._cells(i, odds_ratios) for i in range(len(names))]
        w = max(12, max((len(n) for n in names), default=0) + 2)
        cw = 13 if odds_ratios else 11
        full = w + cw * len(cols)
        narrow = width is not None and full > width
        line = min(full, width) if narrow else full
        title = ("Logistic regression: maximum likelihood" if self.kind == "mle" else
                 "Logistic regression: Laplace approximation of the L2 fit")
        groups = f" ({self.n_groups} groups)" if self.n_groups else ""
        stats = [(f"No. observations: {self.n_obs}   Sum of weights: "
                  f"{self.sum_weights:.6g}   Covariance: "
                  f"{COV_TYPES.get(self.cov_type, self.cov_type)}{groups}"),
                 (f"Log-likelihood: {self.log_likelihood:.6g}   LL-Null: "
                  f"{self.null_log_likelihood:.6g}   Pseudo R-squ. (McFadden): "
                  f"{self.pseudo_r2:.4f}"),
                 (f"LLR: {self.lr_stat:.6g} (df {self.lr_df:g})   LLR p-value: "
                  f"{_p(self.lr_pvalue)}   AIC: {self.aic:.6g}   BIC: {self.bic:.6g}"),
                 f"Df model: {self.df_model:g}   Df residuals: {self.df_resid:g}"]
        if narrow:
            stats = [part for s in stats for part in textwrap.wrap(s, width=line)]
        lines = [title.center(line), "=" * line, *stats, "=" * line]
        if not narrow:
            lines += [" " * w + "".join(f"{c:>{cw}s}" for c in cols), "-" * full]
            lines += [f"{name:<{w}s}" + "".join(f"{c:>{cw}s}" for c in cells)
                      for name, cells in zip(names, rows)]
        for b, (label, idx) in enumerate(_class_blocks(names) if narrow else []):
            lines += ([""] if b else []) + ([f"{label}:"] if label else [])
            cut = len(label) + 1 if label else 0
            lines += grid("", [names[i][cut:] for i in idx], cols, [rows[i] for i in idx],
                          width=width, cw=11)
        lines.append("=" * line)
        lines += textwrap.wrap("Note: " + self.note, width=line if narrow else max(line, 60))
        return "\n".join(lines)

    def _cells(self, i, odds_ratios):
        cells = [_fmt(self.coef[i]), _fmt(self.std_err[i]), _fmt(self.z[i], 3),
                 _p(self.p_value[i]), _fmt(self.ci_low[i], 3), _fmt(self.ci_high[i], 3)]
        if odds_ratios:
            cells += [_fmt(self.odds_ratio[i]), _fmt(self.or_ci_low[i], 3),
                      _fmt(self.or_ci_high[i], 3)]
        return cells

    def __str__(self):
        return self.to_text()


def _class_blocks(names):
    """``[(class label, row indices)]`` of a multinomial table (names ``label:name``,
    class by class), or ``[("", all rows)]`` when the names are not in such blocks."""
    labels = [n.split(":", 1)[0] if ":" in n else None for n in names]
    runs = []
    for i, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][1].append(i)
        else:
            runs.append((label, [i]))
    if None in labels or len(runs) < 2 or len({len(r) for _, r in runs}) != 1 \
            or len({label for label, _ in runs}) != len(runs):
        return [("", list(range(len(names))))]
    return runs


def _p(p):
    if not np.isfinite(p):
        return "nan"
    return f"{p:.3f}" if p >= 1e-3 else f"{p:.2e}"


def _fmt(v, digits=4):
    # fixed point where it is readable, else scientific: 1e-7 must not print as 0.0000
    if v == 0 or (1e-3 <= abs(v) < 1e5) or not np.isfinite(v):
        return f"{v:.{digits}f}"
    return f"{v:.3e}"
