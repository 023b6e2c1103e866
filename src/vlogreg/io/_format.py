"""The model file format's names and shapes, shared by the writer and the reader."""

from __future__ import annotations

from dataclasses import dataclass

from ..inference import Summary

FORMAT = "vlogreg-model"
FORMAT_VERSION = 1
_NPY_HEADER_MAX = 65536 + 16  # magic, version, header length and a header of <= 64 KiB
_INFERENCE = ("coef", "std_err", "z", "p_value", "ci_low", "ci_high")
_ARRAYS = ("coef", "intercept", "loss_history") + tuple(f"inference_{a}" for a in _INFERENCE)
_KEYS = ("format", "format_version", "vlogreg_version", "estimator", "params", "classes",
         "n_features", "feature_names", "feature_names_in", "fit", "training", "inference",
         "arrays")
_INFERENCE_KEYS = ("names", "kind", "alpha", "n_obs", "sum_weights", "log_likelihood",
                   "note")
#: optional (files of vlogreg before them lack them; the format version stays 1): the
#: model statistics (numbers, null when not finite), the covariance type, the clusters
_INFERENCE_STATS = ("null_log_likelihood", "pseudo_r2", "lr_stat", "lr_df", "lr_pvalue",
                    "aic", "bic", "df_model", "df_resid", "cov_type", "n_groups")
_CLASS_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64", "object")
_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the same model gives the same bytes


class _Invalid(ValueError):
    """Raised while reading; ``read_model_file`` prefixes the file name."""


@dataclass
class ModelFile:
    """What a model file holds: the model, its metadata and the stored inference.

    Attributes
    ----------
    path : str
    model : vlogreg.LogisticRegression
        Fitted; predicts exactly as the model that was saved.
    metadata : dict
        The parsed ``metadata.json``.
    inference : dict or None
        ``metadata["inference"]`` plus the arrays ``coef, std_err, z, p_value, ci_low,
        ci_high`` (shape (p,)), when the file stores them (the odds ratios are
        ``exp`` of coef and the interval: derived, not stored).
    """
    path: str
    model: object
    metadata: dict
    inference: dict | None = None

    def summary(self):
        """The stored inference as a ``vlogreg.inference.Summary`` (``cov`` is None)."""
        if self.inference is None:
            return None
        return Summary(cov=None, **self.inference)
