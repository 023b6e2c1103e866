"""Reading model files: every field, member, dtype and size is checked before use.

The other half of ``vlogreg.io`` (which writes them and documents the format): split
out so each module holds one idea. Everything here raises ``io._Invalid`` (a
ValueError) with a one-line message; ``io.read_model_file`` adds the file name.
"""

from __future__ import annotations

import json
import math
import re
import warnings
import zipfile

import numpy as np

from .._estimator import LogisticRegression
from .._params import _check_params
from ..solvers import SOLVERS
from ._format import (
    _ARRAYS,
    _CLASS_DTYPES,
    _INFERENCE,
    _INFERENCE_KEYS,
    _INFERENCE_STATS,
    _KEYS,
    _NPY_HEADER_MAX,
    FORMAT,
    FORMAT_VERSION,
    ModelFile,
    _Invalid,
)
from ._tablemodel import table_model

_MAX_DIGITS = 40  # uint64 labels have 20 digits; sizes and counts fewer


def _read(zf, path, limits):
    """The ``ModelFile`` in the open zip ``zf``; ``limits`` = (metadata bytes, array
    bytes), the writer's module's limits as they are at the call (they can be changed)."""
    infos = {i.filename: i for i in zf.infolist()}
    if len(infos) != len(zf.infolist()):
        raise _Invalid("duplicate members in the archive; refusing to guess which is meant.")
    max_metadata, max_arrays = limits
    meta = _read_metadata(zf, infos, max_metadata)
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
        if total > max_arrays:
            raise _Invalid(f"the arrays declare {total} bytes, more than the limit of "
                           f"{max_arrays} (vlogreg.io.MAX_ARRAY_BYTES).")
        if not nbytes <= info.file_size <= nbytes + _NPY_HEADER_MAX:
            raise _Invalid(f"{name}.npy holds {info.file_size} bytes, which does not match "
                           f"its declared {spec['dtype']} shape {tuple(spec['shape'])}.")
    arrays = {name: _read_array(zf, infos[f"{name}.npy"], spec) for name, spec in man.items()}
    # a model trained on a table also reads DataFrames of its raw columns
    model = table_model(_build(meta, arrays), meta)
    return ModelFile(path, model, meta, _inference(meta, arrays))


def _read_metadata(zf, infos, max_bytes):
    for info in infos.values():
        if info.flag_bits & 0x1:
            raise _Invalid(f"member {info.filename} is encrypted; model files never are.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Invalid(f"member {info.filename} uses compression method "
                           f"{info.compress_type}; only stored and deflated are read.")
    info = infos.get("metadata.json")
    if info is None:
        raise _Invalid("no metadata.json: this zip archive is not a vlogreg model file.")
    if info.file_size > max_bytes:
        raise _Invalid(f"metadata.json declares {info.file_size} bytes, more than the "
                       f"limit of {max_bytes}.")

    def no_constants(name):  # NaN and Infinity are not JSON
        raise _Invalid(f"metadata.json holds {name}, which is not valid JSON.")

    def bounded_int(text):  # a 5,000-digit integer is no size, count or label we write
        if len(text.lstrip("-")) > _MAX_DIGITS:
            raise _Invalid(f"metadata.json holds an integer of {len(text)} digits "
                           f"({text[:12]}...); no field of a model file is that large.")
        return int(text)

    def finite_float(text):  # 1e400 would parse as inf
        value = float(text)
        if not math.isfinite(value):
            raise _Invalid(f"metadata.json holds the number {text[:40]}, beyond the range "
                           f"of float64.")
        return value
    try:
        meta = json.loads(zf.read(info).decode("utf-8"), parse_constant=no_constants,
                          parse_int=bounded_int, parse_float=finite_float)
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
        _check(isinstance(inf, dict) and set(_INFERENCE_KEYS) <= set(inf)
               and set(inf) <= set(_INFERENCE_KEYS) | set(_INFERENCE_STATS)
               and all(inf.get(k) is None or _number(inf[k]) for k in _INFERENCE_STATS
                       if k not in ("cov_type", "n_groups"))
               and inf.get("cov_type", "nonrobust") in ("nonrobust", "HC0", "cluster")
               and (inf.get("n_groups") is None or _int(inf["n_groups"]))
               and isinstance(inf["names"], list)
               and all(isinstance(s, str) for s in inf["names"])
               and isinstance(inf["kind"], str) and isinstance(inf["note"], str)
               and _int(inf["n_obs"]) and all(_number(inf[k]) for k in
                                              ("alpha", "sum_weights", "log_likelihood")),
               "inference", "must be null or an object with " + ", ".join(_INFERENCE_KEYS)
               + " and optionally " + ", ".join(_INFERENCE_STATS))
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


_CHUNK = 1 << 18  # bytes decompressed per read: the only buffer besides the array itself


def _read_array(zf, info, spec):
    """The array of one member, streamed into an array allocated once at its declared
    (already checked) size: memory is the array's bytes plus one chunk, never a copy."""
    with zf.open(info) as fh:
        try:
            version = np.lib.format.read_magic(fh)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"npy version {version}")
            shape, fortran, dtype = read_header(fh)
        except (ValueError, EOFError) as exc:
            raise _Invalid(f"{info.filename} is not a valid .npy array ({exc}).") from None
        if dtype.kind != "f" or dtype.itemsize != np.dtype(spec["dtype"]).itemsize \
                or list(shape) != spec["shape"]:
            raise _Invalid(f"{info.filename} holds {dtype} of shape {shape}, but the "
                           f"manifest declares {spec['dtype']} of shape "
                           f"{tuple(spec['shape'])}.")
        flat = np.empty(math.prod(shape), dtype=dtype)
        view, pos = memoryview(flat).cast("B"), 0
        while pos < len(view):
            n = fh.readinto(view[pos:pos + _CHUNK])
            if not n:
                raise _Invalid(f"{info.filename} ends after {pos} of its {len(view)} bytes "
                               f"of array data; the file is truncated.")
            pos += n
        if fh.read(1):
            raise _Invalid(f"{info.filename} has bytes after its array data.")
    if not dtype.isnative:  # swapped in place: no second copy of the array
        flat = flat.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return flat.reshape(shape, order="F" if fortran else "C")


def _build(meta, arrays):
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
    for key in ("fit_intercept", "warm_start", "standardize"):
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
    # kept as the float64 array it was read into (a list would take 4x its memory)
    model.loss_history_ = arrays.get("loss_history", np.empty(0))
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
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # float overflow: an error
            arr = np.array(values, dtype=np.dtype(dtype))
    except (OverflowError, ValueError, TypeError, RuntimeWarning) as exc:
        raise _Invalid(f"classes do not fit their dtype {dtype} ({exc}).") from None
    if arr.dtype.kind in "biuf" and arr.tolist() != values:
        # 70000 as float16 is inf, 0.1 as float16 is 0.0999755859375: the file says
        # one label and the model would predict another
        bad = next(v for v, a in zip(values, arr.tolist()) if v != a)
        raise _Invalid(f"class label {bad!r} cannot be stored exactly as {dtype}; the file "
                       f"is damaged or was edited.")
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
    # a statistic stored as null (not finite) is NaN; files written before the model
    # statistics lack them: the Summary's defaults (NaN, "nonrobust") stand in
    for k in _INFERENCE_STATS:
        if k != "n_groups" and k in out and out[k] is None:
            out[k] = math.nan
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
