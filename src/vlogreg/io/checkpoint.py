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
import os
import zipfile

import numpy as np

from .atomic import atomic_write

FORMAT = "vlogreg-checkpoint"
FORMAT_VERSION = 1
_MAX_BYTES = 1 << 31  # a state is a few vectors: refuse anything near this


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
    """``(state, run)`` from a checkpoint file; ValueError (one line) if it is not one."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint {path!r} does not exist; check the path.")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "checkpoint.json" not in names:
                raise ValueError("no checkpoint.json member")
            meta = json.loads(zf.read("checkpoint.json"))
            if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format {meta.get('format')!r} version "
                                 f"{meta.get('format_version')!r}, expected {FORMAT} "
                                 f"{FORMAT_VERSION}")
            shapes = meta["arrays"]
            if names != {"checkpoint.json"} | {f"{k}.npy" for k in shapes}:
                raise ValueError("unexpected members")
            state = {}
            for key, shape in shapes.items():
                info = zf.getinfo(f"{key}.npy")
                if info.file_size > _MAX_BYTES:
                    raise ValueError(f"member {key}.npy is too large")
                arr = np.load(io.BytesIO(zf.read(info)), allow_pickle=False)
                if arr.dtype != np.float64 or list(arr.shape) != list(shape):
                    raise ValueError(f"member {key}.npy has dtype {arr.dtype} and shape "
                                     f"{arr.shape}, declared float64 {tuple(shape)}")
                state[key] = arr.tolist() if key in meta["lists"] else arr
            for key, value in meta["scalars"].items():
                if not isinstance(value, (int, float)):
                    raise ValueError(f"scalar {key!r} is not a number")
                state[key] = value
            return state, meta["run"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a readable vlogreg checkpoint ({exc}); start the "
                         f"training again without --resume.") from None
