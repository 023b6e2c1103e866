"""Training checkpoints: a solver's state, saved atomically, safe to load (no pickle).

A checkpoint is a zip holding ``checkpoint.json`` (format name and version, the
training run it belongs to, the scalars of the solver state) and one ``.npy`` member
per array of the state (read with ``allow_pickle=False``). ``vlogreg train`` writes one
when it is interrupted (SIGINT / SIGTERM) and ``vlogreg train --resume`` continues from
it; see ``LogisticRegression.fit(resume_from=...)``.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
import zlib

import numpy as np

from .._paths import open_regular
from ._format import _NPY_HEADER_MAX, _Invalid
from ._read import _read_array
from .atomic import atomic_write

FORMAT = "vlogreg-checkpoint"
FORMAT_VERSION = 1
_MAX_BYTES = 1 << 31  # a state is a few vectors: refuse anything near this
_MAX_JSON_BYTES = 1 << 24
_KEYS = {"format", "format_version", "run", "scalars", "lists", "arrays"}


def save_checkpoint(path, state, run):
    """Save a solver ``state`` (dict of float64 arrays, floats, ints, lists of floats)
    and ``run`` (JSON-ready dict describing the training run) to ``path``."""
    scalars, arrays = {}, {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[key] = np.ascontiguousarray(value, dtype=np.float64)
        elif isinstance(value, list):
            arrays[key] = np.asarray(value, dtype=np.float64)
        else:
            scalars[key] = float(value) if isinstance(value, float) else int(value)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "run": run,
            "scalars": scalars, "lists": [k for k, v in state.items() if isinstance(v, list)],
            "arrays": {k: list(a.shape) for k, a in arrays.items()}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("checkpoint.json", json.dumps(meta, sort_keys=True))
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.save(member, arr, allow_pickle=False)
            zf.writestr(f"{key}.npy", member.getvalue())
    atomic_write(path, buf.getvalue())


def load_checkpoint(path):
    """``(state, run)`` from a checkpoint file, every part checked before it is used.

    Raises ``FileNotFoundError`` for a missing file and a one-line ``ValueError``
    naming what is wrong for anything else: not a regular file, not a zip, corrupted
    deflate data, JSON of another shape, a member the manifest does not list, an array
    of another dtype or shape, NaN or inf anywhere. (Whether the state fits the solver
    that resumes it is checked by ``fit(resume_from=...)``.)
    """
    path = os.fspath(path)
    try:
        with open_regular(path, "checkpoint") as fh, zipfile.ZipFile(fh) as zf:
            return _load(zf)
    except _Invalid as exc:
        reason = str(exc)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            struct.error) as exc:
        reason = f"corrupt or truncated zip: {exc}"
    raise ValueError(f"{path} is not a readable vlogreg checkpoint ({reason}); start the "
                     f"training again without --resume.")


def _load(zf):
    infos = {i.filename: i for i in zf.infolist()}
    if len(infos) != len(zf.infolist()):
        raise _Invalid("duplicate members")
    info = infos.get("checkpoint.json")
    if info is None:
        raise _Invalid("no checkpoint.json member")
    if info.file_size > _MAX_JSON_BYTES:
        raise _Invalid(f"checkpoint.json declares {info.file_size} bytes")
    try:
        meta = json.loads(zf.read(info).decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Invalid(f"checkpoint.json is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT \
            or meta.get("format_version") != FORMAT_VERSION:
        got = meta if not isinstance(meta, dict) else \
            f"{meta.get('format')!r} version {meta.get('format_version')!r}"
        raise _Invalid(f"format {str(got)[:60]}, expected {FORMAT} {FORMAT_VERSION}")
    if set(meta) != _KEYS:
        raise _Invalid(f"checkpoint.json has the fields {sorted(meta)}, expected "
                       f"{sorted(_KEYS)}")
    run, scalars, lists, shapes = meta["run"], meta["scalars"], meta["lists"], meta["arrays"]
    if not isinstance(run, dict):
        raise _Invalid("its run is not an object")
    if not (isinstance(shapes, dict) and all(
            isinstance(k, str) and isinstance(v, list) and len(v) <= 2
            and all(_int(d) and 0 <= d < 2**40 for d in v) for k, v in shapes.items())):
        raise _Invalid("its arrays field is not {name: shape}")
    if not (isinstance(lists, list) and all(isinstance(k, str) and k in shapes
                                            for k in lists)):
        raise _Invalid("its lists field does not name arrays of the checkpoint")
    if not isinstance(scalars, dict) or set(scalars) & set(shapes):
        raise _Invalid("its scalars field is not {name: number}")
    if set(infos) != {"checkpoint.json"} | {f"{k}.npy" for k in shapes}:
        raise _Invalid("unexpected members")
    total = sum(math.prod(v) * 8 for v in shapes.values())
    if total > _MAX_BYTES:
        raise _Invalid(f"its arrays declare {total} bytes")
    state = {}
    for key, shape in shapes.items():
        info = infos[f"{key}.npy"]
        nbytes = math.prod(shape) * 8
        if not nbytes <= info.file_size <= nbytes + _NPY_HEADER_MAX:
            raise _Invalid(f"member {key}.npy holds {info.file_size} bytes, which does not "
                           f"match its declared float64 shape {tuple(shape)}")
        arr = _read_array(zf, info, {"dtype": "float64", "shape": shape})
        if arr.dtype != np.float64 or not np.isfinite(arr).all():
            raise _Invalid(f"member {key}.npy holds NaN, inf or not float64")
        state[key] = arr.tolist() if key in lists else arr
    for key, value in scalars.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not math.isfinite(value):
            raise _Invalid(f"scalar {key!r} is {str(value)[:40]}, not a finite number")
        state[key] = value
    return state, run


def _no_constant(name):
    raise _Invalid(f"checkpoint.json holds {name}, which is not valid JSON")


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)
