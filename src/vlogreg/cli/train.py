"""``vlogreg train``: fit a model on a data file and save it in the safe model format.

A progress bar (iteration, loss, gradient norm, elapsed time) appears on stderr when a
fit lasts longer than about a second, stderr is a terminal and rich is installed; it
is fed by the estimator's ``callback``. ``--json`` prints one JSON object on stdout.

Ctrl-C (SIGINT) or SIGTERM stops the fit at the end of the running iteration, writes a
checkpoint atomically and exits with 130 / 143; ``--resume CHECKPOINT`` continues from
it ("gd", "agd" and "newton" end with the same model, bit for bit, as a run that was
never interrupted; "lbfgs" with the same model to ``--tol``).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
import warnings

from .._names import COV_TYPES, SOLVER_NAMES
from .._textgrid import WIDTH, fit_list
from . import train_cv, train_stream
from ._common import UsageError, refuse_overwrite, safe_text
from ._decide import RULES, check_binary, parse_threshold, pick_threshold
from ._status import FitProgress, Reading
from ._tableopts import add_table_options, table_options, train_notes
from ._tables import add_delimiter, csv_options
from ._words import in_cli_words

# the estimator, NumPy and the data readers are imported in the functions that use
# them: building the parser (``vlogreg train --help``) must not wait for them

PENALTIES = {"l2": "l2", "l1": "l1", "elasticnet": "elasticnet", "none": None}


def add_parser(sub):
    p = sub.add_parser(
        "train", help="fit a model on a data file and save it",
        description="Fit a logistic regression on DATA (CSV, Parquet, .npy, .npz, "
        "svmlight) and save it to --model in vlogreg's safe model format. Features are "
        "used as they are (no hidden scaling).")
    p.add_argument("data", metavar="DATA", help="training data file")
    p.add_argument("--target", help="label column (CSV/Parquet: its name; .npy: its "
                   "index, e.g. -1; .npz: the label array, default y; svmlight: leave out)")
    p.add_argument("--features", nargs="+", metavar="COL",
                   help="feature columns (default: every column but the target and "
                   "--exclude)")
    p.add_argument("--exclude", nargs="+", default=[], metavar="COL",
                   help="columns that are not features, e.g. an id column")
    add_delimiter(p)
    p.add_argument("--one-hot", action="store_true",
                   help="encode text columns as 0/1 columns, one per level but the "
                   "reference level (otherwise they are an error)")
    add_table_options(p, "train")
    p.add_argument("--penalty", default="l2", choices=list(PENALTIES))
    p.add_argument("--C", type=float, default=1.0,
                   help="inverse penalty strength (default 1)")
    p.add_argument("--l1-ratio", type=float, help="L1 share of the elastic net, in [0, 1]")
    p.add_argument("--solver", default="auto",
                   choices=["auto", *SOLVER_NAMES])
    p.add_argument("--max-iter", type=int, default=100, help="default 100")
    p.add_argument("--tol", type=float, default=1e-4,
                   help="gradient max-norm at which to stop (default 1e-4)")
    p.add_argument("--class-weight", choices=["balanced"],
                   help="weight classes inversely to their frequency")
    p.add_argument("--standardize", action="store_true",
                   help="fit on columns scaled to unit variance (the penalty then does not "
                   "depend on the columns' units); coefficients are stored on the "
                   "original scale")
    p.add_argument("--inference", action="store_true",
                   help="compute standard errors, p-values, odds ratios and model tests "
                   "and store them in the model")
    p.add_argument("--cov-type", choices=list(COV_TYPES), default="nonrobust",
                   help="with --inference: the covariance of the standard errors "
                   "(default nonrobust; HC0: robust sandwich; cluster: needs --groups)")
    p.add_argument("--groups", metavar="COL",
                   help="with --cov-type cluster: the CSV/Parquet column of cluster labels "
                   "(not used as a feature)")
    p.add_argument("--threshold", metavar="RULE|P",
                   help="binary models: the probability of the second class from which "
                   "predict and evaluate choose it, stored in the model: a number in "
                   "(0, 1), or picked on the training data by a rule: youden (max TPR - "
                   "FPR) or f1 (max F1); default: none stored (0.5)")
    p.add_argument("--model", required=True, metavar="OUT", help="model file to write")
    p.add_argument("--json", action="store_true", help="print a JSON object on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no report")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="where an interrupted fit saves its state (default: MODEL.ckpt)")
    p.add_argument("--resume", metavar="CHECKPOINT",
                   help="continue an interrupted fit from its checkpoint (same data and "
                   "options)")
    train_cv.add_arguments(p)
    p.set_defaults(func=run)


class Interruption:
    """Turns SIGINT / SIGTERM into "stop after this iteration" and keeps the last state.

    Used as (part of) the estimator's callback; a second signal ends at once.
    """

    def __init__(self, inner=None):
        self.inner, self.signum, self.state, self._old = inner, None, None, {}
        # tests only: send ourselves a signal at an iteration ("5:INT"), to exercise the
        # real signal path deterministically
        at = os.environ.get("VLOGREG_TEST_SIGNAL_AT")
        self._test = (int(at.split(":")[0]), getattr(signal, "SIG" + at.split(":")[1])) \
            if at else None

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def _handle(self, signum, frame):
        if self.signum is not None:  # the second one: no more waiting, the usual
            signal.signal(signum, self._old.get(signum, signal.SIG_DFL))  # action
            os.kill(os.getpid(), signum)
        self.signum = signum

    def __call__(self, state):
        self.state = state
        if self._test is not None and state.n_iter == self._test[0]:
            os.kill(os.getpid(), self._test[1])
        stop = bool(self.inner(state)) if self.inner is not None else False
        return stop or self.signum is not None


def _penalty_params(args):
    """``C`` and ``l1_ratio`` for --penalty, --C and --l1-ratio: the estimator's
    ``penalty=`` is deprecated (as in scikit-learn 1.8+), l1_ratio and C say it all."""
    if args.l1_ratio is not None and args.penalty != "elasticnet":
        raise UsageError(f"--l1-ratio only applies to --penalty elasticnet, not "
                         f"--penalty {args.penalty}.")
    if args.penalty == "elasticnet" and args.l1_ratio is None:
        raise UsageError("--penalty elasticnet needs --l1-ratio, a number in [0, 1].")
    if args.penalty == "none":
        return {"C": math.inf, "l1_ratio": 0.0}
    ratio = {"l2": 0.0, "l1": 1.0}.get(args.penalty, args.l1_ratio)
    return {"C": args.C, "l1_ratio": ratio}


def run(args):
    import numpy as np

    from .._estimator import LogisticRegression
    from ..data.files import read_training_data
    from ..io import save

    penalty = PENALTIES[args.penalty]
    if args.inference and penalty in ("l1", "elasticnet"):
        raise UsageError(f"--inference needs --penalty l2 or none: there are no valid "
                         f"standard errors for an {args.penalty} fit.")
    train_cv.check(args)
    # the checkpoint may replace the one resumed from (its state is read by then), but
    # neither output may replace the data, and the model not the checkpoint
    checkpoint = args.checkpoint or f"{args.model}.ckpt"
    refuse_overwrite({"--checkpoint": checkpoint}, {"DATA": args.data})
    refuse_overwrite({"--model": args.model}, {"DATA": args.data, "--resume": args.resume,
                                               "--checkpoint": checkpoint})
    if (args.cov_type != "nonrobust" or args.groups) and not args.inference:
        raise UsageError("--cov-type and --groups choose the standard errors of "
                         "--inference; add --inference.")
    if (args.cov_type == "cluster") != (args.groups is not None):
        raise UsageError("--cov-type cluster and --groups COL go together: name the "
                         "column of cluster labels with --groups.")
    folder = os.path.dirname(os.path.abspath(args.model))
    if not os.path.isdir(folder):
        raise UsageError(f"the folder of --model {args.model} does not exist; create it "
                         f"first.")
    csv = csv_options(args)
    threshold = parse_threshold(args.threshold, RULES)
    streamed = train_stream.train_streamed(args, _penalty_params(args), _inference)
    if streamed is not None:
        return streamed
    options = table_options(args)
    with Reading("train", args.data, quiet=args.quiet) as reading:
        data = read_training_data(args.data, args.target, features=args.features,
                                  exclude=args.exclude, one_hot=args.one_hot,
                                  groups=args.groups, options=options, **csv)
        reading.rows = data.X.shape[0]
    found = np.unique(data.y)
    if found.dtype.kind == "f" and not np.all(found == np.round(found)):
        where, fix = ("the labels hold", "write class labels (e.g. 0 and 1)") \
            if args.target is None else (f"the label column {args.target!r} holds",
                                         "name a column of class labels with --target")
        raise ValueError(f"{args.data}: {where} continuous numbers ({len(found)} "
                         f"distinct values, e.g. {found[len(found) // 2].item()!r}); "
                         f"logistic regression predicts classes: {fix}.")
    if len(found) < 2:
        raise ValueError(f"{args.data}: the labels hold one class only ({found[0].item()!r}); "
                         f"training needs examples of at least 2 classes.")
    if threshold is not None:
        check_binary(found)
    cv_info = None if not args.cv else train_cv.select_c(
        args, data.X, data.y, _penalty_params(args)["l1_ratio"],
        report=not (args.json or args.quiet))
    if cv_info is not None:
        args.C = cv_info["C"]  # the whole data's fit at the chosen C
    model = LogisticRegression(**_penalty_params(args), solver=args.solver,
                               max_iter=args.max_iter, tol=args.tol,
                               class_weight=args.class_weight,
                               standardize=args.standardize)
    progress = None if args.quiet else FitProgress.for_terminal(args.max_iter, args.tol)
    run_info = _run_info(args, data)
    resume_state = _load_resume(args, run_info)
    interruption = Interruption(progress)
    model.callback = interruption
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        try:
            with interruption:
                model.fit(data.X, data.y, resume_from=resume_state)
        except ValueError as exc:  # the estimator's checks, in the flags' words
            raise ValueError(in_cli_words(exc, data.feature_names)) from exc
        finally:
            if progress is not None:
                progress.close(getattr(model, "n_iter_", [None])[0])
        seconds = time.perf_counter() - t0
        model.callback = None
        if interruption.signum is not None:
            return _interrupted(args, interruption, run_info)
        metrics = training_metrics(model, data.X, data.y)
        summary, note = None, None
        if args.inference:
            summary, note = _inference(model, data, args.cov_type)
    notes = train_notes(data, model, metrics) + \
        [str(w.message).strip().splitlines()[0] for w in caught] + ([note] if note else [])
    training = {"data": os.path.basename(args.data), "n_samples": int(data.X.shape[0]),
                "time_s": seconds, "metrics": metrics, "input": data.input}
    if data.dropped is not None:
        training["dropped_rows"] = int(data.dropped.sum())
    if threshold is not None:
        training["threshold"] = _threshold(threshold, model, data)

    save(model, args.model, feature_names=data.feature_names, training=training,
         summary=summary)
    notes = [in_cli_words(line, data.feature_names) for line in notes]
    for line in notes:
        print(f"vlogreg train: warning: {safe_text(line)}", file=sys.stderr)
    result = {"model": args.model, "n_samples": int(data.X.shape[0]),
              "n_features": len(data.feature_names),
              "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
              "solver": model.solver_, "n_iter": int(model.n_iter_[0]),
              "n_passes": round(float(model.n_passes_), 3),
              "converged": bool(model.converged_), "time": seconds, "metrics": metrics,
              "inference": summary is not None, "warnings": notes,
              "dropped_rows": training.get("dropped_rows", 0),
              "threshold": training.get("threshold"),
              **({"cv": cv_info} if cv_info else {})}
    if args.plots:
        result["plots"] = train_cv.write_plots(args.plots, cv_info, data.X, data.y, args,
                                               _penalty_params(args)["l1_ratio"],
                                               data.feature_names)
    if args.json:
        print(json.dumps(result))
    elif not args.quiet:
        _report(args, model, result, summary)
    return 0


def _run_info(args, data):
    """What a checkpoint must match to be resumed: the data and every fit option."""
    st = os.stat(args.data)
    return {"data": os.path.abspath(args.data), "data_size": st.st_size,
            "data_mtime_ns": st.st_mtime_ns, "shape": list(data.X.shape),
            "options": {k: getattr(args, k) for k in (
                "target", "features", "exclude", "one_hot", "penalty", "C", "l1_ratio",
                "solver", "max_iter", "tol", "class_weight", "missing", "reference",
                "keep_all_levels")}}


def _load_resume(args, run_info):
    if not args.resume:
        return None
    from ..io.checkpoint import load_checkpoint

    state, saved = load_checkpoint(args.resume)
    for key in ("data", "data_size", "data_mtime_ns", "shape", "options"):
        if saved.get(key) != run_info[key]:
            what = "the data file changed" if key.startswith("data") or key == "shape" \
                else "the options differ"
            raise UsageError(f"checkpoint {args.resume} belongs to another run ({what}: "
                             f"{key}); resume with the same DATA and options, or train "
                             f"without --resume.")
    return state


def _interrupted(args, interruption, run_info):
    """Write the checkpoint of an interrupted fit; the exit code 128 + signal."""
    from ..io.checkpoint import save_checkpoint

    name = signal.Signals(interruption.signum).name
    code = 128 + interruption.signum
    path = args.checkpoint or f"{args.model}.ckpt"
    if interruption.state is None or interruption.state.state is None:
        print(f"vlogreg train: {name} before the first iteration ended; nothing to "
              f"save. Run the same command again.", file=sys.stderr)
        return code
    save_checkpoint(path, interruption.state.state, run_info)
    shown = safe_text(path)
    print(f"vlogreg train: {name}: stopped after iteration {interruption.state.n_iter}; "
          f"checkpoint written to {shown}. Resume with the same command plus "
          f"--resume {shown}", file=sys.stderr)
    return code


def training_metrics(model, X, y):
    """Accuracy and log-loss of ``model`` on (X, y), as a JSON-ready dict."""
    from sklearn.metrics import accuracy_score, log_loss

    proba = model.predict_proba(X)  # one pass over X serves both metrics
    pred = model.classes_[proba.argmax(axis=1)]
    return {"accuracy": float(accuracy_score(y, pred)),
            "log_loss": float(log_loss(y, proba, labels=model.classes_))}


def _threshold(threshold, model, data):
    """``{"rule", "value"}`` to store: a given number, or a rule's pick on the
    training data (cli/_decide.py)."""
    if not isinstance(threshold, str):
        return {"rule": "given", "value": float(threshold)}
    p = model.predict_proba(data.X)[:, 1]
    return {"rule": threshold,
            "value": pick_threshold(threshold, data.y == model.classes_[1], p)}


def _inference(model, data, cov_type="nonrobust"):
    """(Summary, None), or (None, why) when the fit has no valid standard errors."""
    from ..inference import summary

    try:
        # the model was fitted on an array: the file's column names name the rows (and
        # the columns a collinearity message points at)
        result = summary(model, data.X, data.y, cov_type=cov_type,
                         groups=data.ids if cov_type == "cluster" else None,
                         feature_names=data.feature_names)
    except ValueError as exc:
        return None, f"no standard errors stored: {str(exc).strip().splitlines()[0]}"
    return result, None


def _report(args, model, r, summary):
    dropped = f" ({r['dropped_rows']} with missing values dropped)" \
        if r["dropped_rows"] else ""
    print(f"vlogreg train: {safe_text(args.data)}, {r['n_samples']} rows{dropped}, "
          f"{r['n_features']} features, {len(r['classes'])} classes")
    print(f"  classes    {fit_list(map(safe_text, r['classes']), WIDTH - 13)}")
    how = " (chosen by 'auto')" if args.solver == "auto" else ""
    pen = "no penalty" if args.penalty == "none" else f"{args.penalty} penalty, C = {args.C:g}"
    print(f"  solver     {r['solver']}{how}, {pen}")
    status = "converged" if r["converged"] else "did NOT converge"
    print(f"  fit        {status} in {r['n_iter']} iterations, {r['n_passes']:.1f} passes "
          f"over the data, {r['time']:.3f} s")
    m = r["metrics"]
    print(f"  training   accuracy {100 * m['accuracy']:.2f} %, log-loss {m['log_loss']:.4f}")
    if r["threshold"] is not None:
        t = r["threshold"]
        how = "given" if t["rule"] == "given" else f"by the {t['rule']} rule on the " \
            f"training data"
        print(f"  threshold  {t['value']:.4g} on P({safe_text(r['classes'][1])}), {how}")
    if summary is not None:
        print(f"  inference  standard errors, odds ratios and model tests stored "
              f"({summary.kind}, {summary.cov_type} covariance)")
    print(f"  model   -> {safe_text(args.model)}")
    if "plots" in r:
        print(f"  plots   -> {', '.join(map(safe_text, r['plots']))}")
