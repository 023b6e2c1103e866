"""``vlogreg train`` on data larger than the memory budget: streamed from disk in chunks.

The budget is half the memory available now (``VLOGREG_MEMORY_BUDGET`` overrides it,
e.g. 8G). .npy, Parquet and Zarr stream; other formats are read as usual. ``--inference``
(nonrobust or HC0 covariance) reads the chunks once more for the standard errors.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

from ._common import UsageError, safe_text
from ._status import data_bytes, human_size
from ._words import in_cli_words

STREAMABLE = (".npy", ".parquet", ".pq", ".zarr")


def train_streamed(args, penalty_params, inference):
    """Train from disk in chunks when DATA is larger than the memory budget, or None.

    ``penalty_params``: the estimator's penalty arguments from the flags;
    ``inference(model, data, cov_type)``: train's ``(Summary, None)`` or ``(None, why)``.
    """
    from .._estimator import LogisticRegression
    from ..data.sources import memory_budget, open_source
    from ..io import save

    path = args.data.rstrip("/")
    if not os.path.exists(path):
        return None  # read_training_data reports it
    size, budget = data_bytes(path), memory_budget()
    if size <= budget:
        return None
    if not path.lower().endswith(STREAMABLE) and not os.path.isdir(path):
        print(f"vlogreg train: warning: {safe_text(args.data)} ({human_size(size)}) is "
              f"larger than the memory budget ({human_size(budget)}) and this format "
              f"cannot be streamed; reading it whole (convert it to Parquet or .npy to stream).",
              file=sys.stderr)
        return None

    if args.one_hot or args.exclude or args.resume or args.threshold or args.cv \
            or args.missing != "error" or (args.inference and args.cov_type == "cluster"):
        raise UsageError("--one-hot, --exclude, --missing drop, --cov-type cluster, "
                         "--resume, --threshold and --cv need the data in memory, but DATA "
                         "is larger than the memory budget; raise VLOGREG_MEMORY_BUDGET or "
                         "prepare the columns beforehand.")
    source = open_source(path, target=args.target, features=args.features)
    if not args.quiet and not args.json:
        print(f"vlogreg train: {safe_text(args.data)} is {human_size(size)}, above the "
              f"memory budget of {human_size(budget)}: streaming it from disk in "
              f"{source.n_chunks} chunks of {human_size(source.chunk_bytes)}")
    model = LogisticRegression(**penalty_params, solver=args.solver,
                               max_iter=args.max_iter, tol=args.tol,
                               class_weight=args.class_weight,
                               standardize=args.standardize)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(source)
        except ValueError as exc:  # the estimator's checks, in the flags' words
            raise ValueError(in_cli_words(exc)) from exc
        seconds = time.perf_counter() - t0
        n = source.shape[1]
        names = source.feature_names or [f"x{j}" for j in range(n)]
        summary, note = None, None
        if args.inference:  # labels inside the source: y=None
            summary, note = inference(model, _Streamed(source, names), args.cov_type)
    training = {"data": os.path.basename(path), "n_samples": int(source.shape[0]),
                "time_s": seconds, "out_of_core": True, "chunks": source.n_chunks}
    save(model, args.model, feature_names=list(names), training=training, summary=summary)
    notes = [str(w.message).strip().splitlines()[0] for w in caught] + \
        ([note] if note else [])
    notes = [in_cli_words(line) for line in notes]
    for line in notes:
        print(f"vlogreg train: warning: {safe_text(line)}", file=sys.stderr)
    result = {"model": args.model, "n_samples": int(source.shape[0]), "n_features": n,
              "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
              "solver": model.solver_, "n_iter": int(model.n_iter_[0]),
              "n_passes": round(float(model.n_passes_), 3),
              "converged": bool(model.converged_), "time": seconds, "out_of_core": True,
              "memory_budget": budget, "data_bytes": size,
              "inference": summary is not None, "warnings": notes}
    if args.json:
        print(json.dumps(result))
    elif not args.quiet:
        status = "converged" if model.converged_ else "did NOT converge"
        print(f"  solver     {model.solver_}, {status} in {result['n_iter']} iterations, "
              f"{result['n_passes']:.1f} passes over the data, {seconds:.3f} s")
        if summary is not None:
            print(f"  inference  standard errors, odds ratios and model tests stored "
                  f"({summary.kind}, {summary.cov_type} covariance)")
        print(f"  model   -> {safe_text(args.model)}")
    return 0


class _Streamed:
    """What train's ``inference`` reads of the data: the source as X, its labels inside
    (y None), no cluster ids, the columns' names."""

    def __init__(self, source, names):
        self.X, self.y, self.ids, self.feature_names = source, None, None, list(names)
