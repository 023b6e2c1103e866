"""Safe model files: ``save`` and ``load`` without pickle.

A model file is a zip archive holding exactly ``metadata.json`` and one ``.npy`` member
per entry of the metadata's ``arrays`` manifest::

    coef.npy            (1, n_features) for two classes, (n_classes, n_features) otherwise
    intercept.npy       (1,) or (n_classes,)
    loss_history.npy    (n_iter + 1,)  the objective after each iteration
    inference_*.npy     optional, each (p,): coef, std_err, z, p_value, ci_low, ci_high

Arrays are float32 or float64 and are read with ``np.load(allow_pickle=False)`` after
their declared sizes, dtypes and shapes were checked against the metadata. Anything
else (another member, another dtype, a newer format version, a truncated file) is
refused with a one-line ``ValueError``. docs/model-format.md describes every field.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import secrets
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

FORMAT = "vlogreg-model"
FORMAT_VERSION = 1
#: refuse a metadata.json larger than this before reading it
MAX_METADATA_BYTES = 32 * 2**20
#: refuse files whose arrays declare more bytes than this, in all, before reading them
MAX_ARRAY_BYTES = 4 * 2**30
_NPY_HEADER_MAX = 65536 + 16  # magic, version, header length and a header of <= 64 KiB
_INFERENCE = ("coef", "std_err", "z", "p_value", "ci_low", "ci_high")
_ARRAYS = ("coef", "intercept", "loss_history") + tuple(f"inference_{a}" for a in _INFERENCE)
_KEYS = ("format", "format_version", "vlogreg_version", "estimator", "params", "classes",
         "n_features", "feature_names", "feature_names_in", "fit", "training", "inference",
         "arrays")
_INFERENCE_KEYS = ("names", "kind", "alpha", "n_obs", "sum_weights", "log_likelihood",
                   "note")
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
        ci_high`` (shape (p,)), when the file stores them.
    """

    path: str
    model: object
    metadata: dict
    inference: dict | None = None

    def summary(self):
        """The stored inference as a ``vlogreg.inference.Summary`` (``cov`` is None)."""
        if self.inference is None:
            return None
        from .inference import Summary
        return Summary(cov=None, **self.inference)


# ------------------------------------------------------------------------ writing
def save(model, path, *, feature_names=None, training=None, summary=None):
    """Write a fitted ``LogisticRegression`` to ``path``, atomically.

    Parameters
    ----------
    model : vlogreg.LogisticRegression, fitted
    path : str or os.PathLike
        Written through a temporary file in the same folder, then ``os.replace``.
    feature_names : sequence of str, optional
        Default: ``model.feature_names_in_``, else ``x0, x1, ...``.
    training : dict, optional
        JSON-serialisable description of the training run (stored as is).
    summary : vlogreg.inference.Summary, optional
        Standard errors and p-values to store (``vlogreg.inference.summary(model, X, y)``).

    Returns
    -------
    path : str

    The file is read back and validated before it replaces ``path``: ``save`` never
    leaves a file that ``load`` would refuse.
    """
    from ._estimator import LogisticRegression
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(model, LogisticRegression):
        raise TypeError(f"save() takes a vlogreg.LogisticRegression, got "
                        f"{type(model).__name__}.")
    check_is_fitted(model)
    meta, arrays = _describe(model, feature_names, training, summary)
    data = json.dumps(meta, allow_nan=False, ensure_ascii=False, indent=1).encode()
    path = os.fspath(path)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(_zinfo("metadata.json"), data)
                for name, arr in arrays.items():
                    with zf.open(_zinfo(f"{name}.npy"), "w",
                                 force_zip64=arr.nbytes > 2**31) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        with zipfile.ZipFile(tmp) as zf:
            try:
                _read(zf, path)
            except _Invalid as exc:
                raise ValueError(f"this model cannot be stored in the model format: "
                                 f"{exc}") from None
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _zinfo(name):
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _describe(model, feature_names, training, summary):
    """(metadata dict, {name: little-endian float array}) of a fitted model."""
    from . import __version__

    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if coef.dtype not in (np.float32, np.float64) or intercept.dtype != coef.dtype:
        raise ValueError(f"coef_ ({coef.dtype}) and intercept_ ({intercept.dtype}) must "
                         f"both be float32 or both float64 to be saved.")
    names = feature_names
    if names is None:
        names = getattr(model, "feature_names_in_", None)
    n = int(model.n_features_in_)
    names = [f"x{j}" for j in range(n)] if names is None else [str(s) for s in names]
    if len(names) != n:
        raise ValueError(f"{len(names)} feature names given for {n} features.")
    little = coef.dtype.newbyteorder("<")
    arrays = {"coef": coef.astype(little), "intercept": intercept.astype(little)}
    if getattr(model, "loss_history_", None) is not None:
        arrays["loss_history"] = np.asarray(model.loss_history_, dtype="<f8").reshape(-1)
    inference = None
    if summary is not None:
        inference = {"names": [str(s) for s in summary.names], "kind": str(summary.kind),
                     "alpha": float(summary.alpha), "n_obs": int(summary.n_obs),
                     "sum_weights": float(summary.sum_weights),
                     "log_likelihood": float(summary.log_likelihood),
                     "note": str(summary.note)}
        for a in _INFERENCE:
            arrays[f"inference_{a}"] = np.asarray(getattr(summary, a), dtype="<f8")
    params = model.get_params(deep=False)
    params.pop("callback", None)
    if params["C"] == math.inf:
        params["C"] = "inf"
    if isinstance(params["class_weight"], dict):
        cw = params["class_weight"]
        params["class_weight"] = {"labels": [_scalar(k) for k in cw],
                                  "weights": [float(v) for v in cw.values()]}
    classes = np.asarray(model.classes_)
    dtype = classes.dtype.str if classes.dtype.kind == "U" else classes.dtype.name
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "vlogreg_version": __version__,
        "estimator": "LogisticRegression", "params": params,
        "classes": {"kind": classes.dtype.kind, "dtype": dtype,
                    "values": [_scalar(c) for c in classes]},
        "n_features": n, "feature_names": names,
        "feature_names_in": hasattr(model, "feature_names_in_"),
        "fit": {"solver": str(getattr(model, "solver_", model.solver)),
                "n_iter": int(np.asarray(getattr(model, "n_iter_", [0])).max()),
                "converged": bool(getattr(model, "converged_", True))},
        "training": training, "inference": inference,
        "arrays": {k: {"dtype": a.dtype.name, "shape": list(a.shape)}
                   for k, a in arrays.items()},
    }
    return meta, arrays


def _scalar(v):
    v = v.item() if isinstance(v, np.generic) else v
    if not isinstance(v, (str, int, float, bool)) or (isinstance(v, float)
                                                      and not math.isfinite(v)):
        raise ValueError(f"class label {v!r} ({type(v).__name__}) cannot be saved; use "
                         f"str, int, bool or finite float labels.")
    return v


# ------------------------------------------------------------------------ reading
def load(path):
    """Read a model file written by ``save``: a fitted ``LogisticRegression``.

    Raises ``ValueError`` (one line, naming the problem) for anything that is not a
    valid vlogreg model file of a version this vlogreg reads.
    """
    return read_model_file(path).model


def read_model_file(path):
    """Read and validate a model file; return a ``ModelFile``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file {path!r} does not exist; check the path.")
    try:
        with zipfile.ZipFile(path) as zf:
            return _read(zf, path)
    except _Invalid as exc:
        raise ValueError(f"{path}: {exc}") from None
    except (TypeError, KeyError, AttributeError, IndexError) as exc:
        # a safety net: every field is checked above, but a hand-made file must never
        # end in a traceback
        raise ValueError(f"{path}: malformed metadata ({type(exc).__name__}: {exc}).") \
            from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            struct.error) as exc:
        raise ValueError(f"{path} is not a readable vlogreg model file (corrupt or "
                         f"truncated zip: {exc}); save the model again.") from None


def _read(zf, path):
    infos = {i.filename: i for i in zf.infolist()}
    if len(infos) != len(zf.infolist()):
        raise _Invalid("duplicate members in the archive; refusing to guess which is meant.")
    meta = _read_metadata(zf, infos)
    man = meta["arrays"]
    extra = sorted(set(infos) - {"metadata.json"} - {f"{k}.npy" for k in man})
    if extra:
        raise _Invalid(f"unexpected member(s) {', '.join(extra)}; a model file holds only "
                       f"metadata.json and the arrays its manifest lists.")
    total = 0
    for name, spec in man.items():
        info = infos.get(f"{name}.npy")
        if info is None:
            raise _Invalid(f"member {name}.npy listed in the manifest is missing.")
        nbytes = math.prod(spec["shape"]) * np.dtype(spec["dtype"]).itemsize
        total += nbytes
        if total > MAX_ARRAY_BYTES:
            raise _Invalid(f"the arrays declare {total} bytes, more than the limit of "
                           f"{MAX_ARRAY_BYTES} (vlogreg.io.MAX_ARRAY_BYTES).")
        if not nbytes <= info.file_size <= nbytes + _NPY_HEADER_MAX:
            raise _Invalid(f"{name}.npy holds {info.file_size} bytes, which does not match "
                           f"its declared {spec['dtype']} shape {tuple(spec['shape'])}.")
    arrays = {name: _read_array(zf, infos[f"{name}.npy"], spec) for name, spec in man.items()}
    return ModelFile(path, _build(meta, arrays), meta, _inference(meta, arrays))


def _read_metadata(zf, infos):
    for info in infos.values():
        if info.flag_bits & 0x1:
            raise _Invalid(f"member {info.filename} is encrypted; model files never are.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Invalid(f"member {info.filename} uses compression method "
                           f"{info.compress_type}; only stored and deflated are read.")
    info = infos.get("metadata.json")
    if info is None:
        raise _Invalid("no metadata.json: this zip archive is not a vlogreg model file.")
    if info.file_size > MAX_METADATA_BYTES:
        raise _Invalid(f"metadata.json declares {info.file_size} bytes, more than the "
                       f"limit of {MAX_METADATA_BYTES}.")

    def no_constants(name):  # NaN and Infinity are not JSON
        raise _Invalid(f"metadata.json holds {name}, which is not valid JSON.")
    try:
        meta = json.loads(zf.read(info).decode("utf-8"), parse_constant=no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise _Invalid(f"metadata.json is not valid UTF-8 JSON ({exc}).") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Invalid(f"metadata.json does not name the format {FORMAT!r}; this is not a "
                       f"vlogreg model file.")
    version = meta.get("format_version")
    if _int(version) and version > FORMAT_VERSION:
        raise _Invalid(f"format_version {version} was written by a newer vlogreg; this "
                       f"vlogreg reads format_version {FORMAT_VERSION}: upgrade vlogreg.")
    _check(version == FORMAT_VERSION and _int(version), "format_version",
           f"must be {FORMAT_VERSION}")
    keys = set(meta)
    if keys != set(_KEYS):
        wrong = sorted(keys ^ set(_KEYS))
        raise _Invalid(f"metadata.json has missing or unknown field(s) {', '.join(wrong)}.")
    _check(meta["estimator"] == "LogisticRegression", "estimator",
           "must be 'LogisticRegression'")
    _check(isinstance(meta["vlogreg_version"], str), "vlogreg_version", "must be a string")
    n = meta["n_features"]
    _check(_int(n) and 1 <= n <= 2**31, "n_features", "must be an integer >= 1")
    names = meta["feature_names"]
    _check(isinstance(names, list) and len(names) == n
           and all(isinstance(s, str) for s in names), "feature_names",
           "must be a list of n_features strings")
    _check(isinstance(meta["feature_names_in"], bool), "feature_names_in", "must be a bool")
    _check(meta["training"] is None or isinstance(meta["training"], dict), "training",
           "must be an object or null")
    _check_manifest(meta)
    return meta


def _check_manifest(meta):
    man, inf = meta["arrays"], meta["inference"]
    _check(isinstance(man, dict) and {"coef", "intercept"} <= set(man)
           and set(man) <= set(_ARRAYS), "arrays",
           f"must list coef, intercept and optionally {', '.join(_ARRAYS[2:])}")
    for name, spec in man.items():
        _check(isinstance(spec, dict) and set(spec) == {"dtype", "shape"}
               and spec["dtype"] in ("float32", "float64")
               and isinstance(spec["shape"], list)
               and all(_int(d) and 0 <= d < 2**40 for d in spec["shape"]),
               f"arrays.{name}", "must be {dtype: float32 or float64, shape: [ints]}")
    K = len(_classes(meta["classes"]))
    rows = 1 if K == 2 else K
    want = {"coef": [rows, meta["n_features"]], "intercept": [rows]}
    if inf is not None:
        _check(isinstance(inf, dict) and set(inf) == set(_INFERENCE_KEYS)
               and isinstance(inf["names"], list)
               and all(isinstance(s, str) for s in inf["names"])
               and isinstance(inf["kind"], str) and isinstance(inf["note"], str)
               and _int(inf["n_obs"]) and all(_number(inf[k]) for k in
                                              ("alpha", "sum_weights", "log_likelihood")),
               "inference", "must be null or an object with " + ", ".join(_INFERENCE_KEYS))
        want.update({f"inference_{a}": [len(inf["names"])] for a in _INFERENCE})
    if "loss_history" in man:
        _check(len(man["loss_history"]["shape"]) == 1, "arrays.loss_history",
               "must be one-dimensional")
    _check(inf is not None or not any(k.startswith("inference_") for k in man), "arrays",
           "lists inference arrays but the inference field is null")
    for name in want:
        _check(name in man and man[name]["shape"] == want[name], f"arrays.{name}",
               f"must be listed with shape {want[name]} (the classes, n_features and "
               f"inference names say so)")
    _check(man["coef"]["dtype"] == man["intercept"]["dtype"], "arrays.intercept",
           "must have coef's dtype")


def _read_array(zf, info, spec):
    with zf.open(info) as fh:
        buf = io.BytesIO(fh.read())
    try:
        version = np.lib.format.read_magic(buf)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"npy version {version}")
        shape, _, dtype = read_header(buf)
    except ValueError as exc:
        raise _Invalid(f"{info.filename} is not a valid .npy array ({exc}).") from None
    if dtype.kind != "f" or dtype.itemsize != np.dtype(spec["dtype"]).itemsize \
            or list(shape) != spec["shape"]:
        raise _Invalid(f"{info.filename} holds {dtype} of shape {shape}, but the manifest "
                       f"declares {spec['dtype']} of shape {tuple(spec['shape'])}.")
    buf.seek(0)
    try:
        arr = np.load(buf, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _Invalid(f"{info.filename} could not be read ({exc}).") from None
    if buf.tell() != len(buf.getvalue()):
        raise _Invalid(f"{info.filename} has bytes after its array data.")
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))


def _build(meta, arrays):
    from ._estimator import LogisticRegression, _check_params
    from .solvers import SOLVERS

    params = dict(meta["params"]) if isinstance(meta["params"], dict) else None
    allowed = set(LogisticRegression().get_params()) - {"callback"}
    _check(params is not None and set(params) <= allowed, "params",
           f"must be an object with keys among {', '.join(sorted(allowed))}")
    if params.get("C") == "inf":
        params["C"] = math.inf
    cw = params.get("class_weight")
    if isinstance(cw, dict):
        _check(set(cw) == {"labels", "weights"} and isinstance(cw["labels"], list)
               and isinstance(cw["weights"], list) and len(cw["labels"]) == len(cw["weights"])
               and all(_number(w) for w in cw["weights"])
               and all(isinstance(c, (str, int, float)) for c in cw["labels"]),
               "params.class_weight",
               "must be null, 'balanced' or {labels: [...], weights: [...]}")
        params["class_weight"] = dict(zip(cw["labels"], cw["weights"]))
    for key in ("fit_intercept", "warm_start"):
        _check(isinstance(params.get(key, False), bool), f"params.{key}", "must be a bool")
    _check(_int(params.get("verbose", 0)), "params.verbose", "must be an integer")
    model = LogisticRegression(**params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_params(model)
    except (ValueError, TypeError) as exc:
        raise _Invalid(f"params: {exc}") from None
    fit = meta["fit"]
    _check(isinstance(fit, dict) and set(fit) == {"solver", "n_iter", "converged"}
           and isinstance(fit["solver"], str) and fit["solver"] in SOLVERS
           and _int(fit["n_iter"]) and 0 <= fit["n_iter"] < 2**31
           and isinstance(fit["converged"], bool), "fit",
           "must be {solver: a solver name, n_iter: int >= 0, converged: bool}")
    coef, intercept = arrays["coef"], arrays["intercept"]
    if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        raise _Invalid("coef or intercept holds NaN or inf; the file is damaged.")
    model.coef_, model.intercept_ = coef, intercept
    model.classes_ = _classes(meta["classes"])
    model.n_features_in_ = meta["n_features"]
    if meta["feature_names_in"]:
        model.feature_names_in_ = np.asarray(meta["feature_names"], dtype=object)
    model.n_iter_ = np.array([fit["n_iter"]], dtype=np.int32)
    model.converged_ = fit["converged"]
    model.solver_ = fit["solver"]
    model.loss_history_ = [float(v) for v in arrays.get("loss_history", [])]
    return model


def _classes(spec):
    """The ``classes_`` array described by ``metadata["classes"]``, validated."""
    _check(isinstance(spec, dict) and set(spec) == {"kind", "dtype", "values"}
           and isinstance(spec["values"], list) and 2 <= len(spec["values"]) <= 2**20,
           "classes", "must be {kind, dtype, values: a list of >= 2 labels}")
    dtype, values = spec["dtype"], spec["values"]
    if isinstance(dtype, str) and re.fullmatch(r"[<>|=]?U[1-9][0-9]{0,4}", dtype):
        ok = all(isinstance(v, str) for v in values)
    elif dtype in _CLASS_DTYPES:
        kind = np.dtype(dtype).kind
        ok = all({"b": lambda v: isinstance(v, bool),
                  "f": lambda v: _number(v) and not isinstance(v, bool),
                  "O": lambda v: isinstance(v, (str, int, float))}.get(
                      kind, lambda v: _int(v))(v) for v in values)
    else:
        ok = False
    _check(ok, "classes", f"dtype {dtype!r} with these values is not a supported label type")
    try:
        arr = np.array(values, dtype=np.dtype(dtype))
    except (OverflowError, ValueError, TypeError) as exc:
        raise _Invalid(f"classes do not fit their dtype {dtype} ({exc}).") from None
    _check(spec["kind"] == arr.dtype.kind, "classes.kind", f"must be {arr.dtype.kind!r}")
    _check(len(set(values)) == len(values) and
           (arr.dtype.kind == "O" or bool(np.all(arr[:-1] < arr[1:]))) and
           (arr.dtype.kind != "U" or all(len(v) <= arr.dtype.itemsize // 4 for v in values)),
           "classes.values", "must be distinct and sorted")
    return arr


def _inference(meta, arrays):
    if meta["inference"] is None:
        return None
    out = dict(meta["inference"])
    out["names"] = np.asarray(out["names"], dtype=object)
    for a in _INFERENCE:
        out[a] = arrays[f"inference_{a}"]
    return out


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check(ok, field, expected):
    if not ok:
        raise _Invalid(f"metadata field {field} {expected}.")
