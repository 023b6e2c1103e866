"""``vlogreg evaluate``: a model's metrics on a labelled data file, and optional plots.

Accuracy, log-loss, ROC AUC (binary; the macro mean of one-vs-rest AUCs for more
classes), precision / recall / F1 per class and their macro means, and the confusion
matrix. ``--plots DIR`` writes roc.png, calibration.png and learning_curve.png.
"""

from __future__ import annotations

import json
import os

from ._common import (
    jsonable,
    open_model,
    predict,
    refuse_overwrite,
    safe_text,
    save_figure,
)
from ._status import Reading
from ._tables import add_delimiter, check_order, delimiter_of


def add_parser(sub):
    p = sub.add_parser("evaluate", help="metrics of a model on a labelled data file",
                       description="Accuracy, log-loss, ROC AUC, precision / recall / F1 and "
                       "the confusion matrix of MODEL on DATA.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--target", help="label column (default: the one the model was trained "
                   "with)")
    p.add_argument("--plots", metavar="DIR",
                   help="write roc.png, calibration.png and learning_curve.png to DIR")
    p.add_argument("--json", action="store_true", help="print a JSON object on stdout")
    add_delimiter(p)
    p.set_defaults(func=run)


def metrics(model, X, y):
    """The evaluation of ``model`` on (X, y) as a JSON-ready dict (see module docstring)."""
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
        roc_auc_score,
    )


    classes = model.classes_
    proba, pred = predict(model, X)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    aucs = {}
    for k, c in enumerate(classes[1:] if len(classes) == 2 else classes,
                          start=int(len(classes) == 2)):
        truth = y == c
        if 0 < truth.sum() < len(y):  # AUC needs both positives and negatives
            aucs[k] = float(roc_auc_score(truth, proba[:, k]))
    out = {"n_samples": int(len(y)), "accuracy": float(accuracy_score(y, pred)),
           "log_loss": float(log_loss(y, proba, labels=classes)),
           "roc_auc": float(np.mean(list(aucs.values()))) if aucs else None,
           "per_class": [{"label": jsonable(c), "precision": float(p[k]),
                          "recall": float(r[k]), "f1": float(f[k]), "support": int(s[k])}
                         for k, c in enumerate(classes)],
           "macro": {"precision": float(p.mean()), "recall": float(r.mean()),
                     "f1": float(f.mean())},
           "confusion_matrix": {"labels": [jsonable(c) for c in classes],
                                "matrix": confusion_matrix(y, pred, labels=classes).tolist()}}
    if len(classes) == 2:
        out["positive_label"] = jsonable(classes[1])
        out.update(precision=float(p[1]), recall=float(r[1]), f1=float(f[1]))
    return out, proba


_PLOTS = ("roc.png", "calibration.png", "learning_curve.png")


def run(args):
    from ..data.files import match_labels, read_data

    if args.plots:
        refuse_overwrite({f"--plots {n}": os.path.join(args.plots, n) for n in _PLOTS},
                         {"MODEL": args.model, "DATA": args.data})
    check_order("evaluate", args.model, args.data)
    sep = delimiter_of(args)
    mf, spec = open_model(args.model)
    model = mf.model
    with Reading("evaluate", args.data) as reading:
        data = read_data(args.data, spec, mf.metadata["feature_names"],
                         target=args.target, labels_required=True, delimiter=sep)
        reading.rows = data.X.shape[0]
    y = match_labels(data.y, model.classes_, args.data)
    result, proba = metrics(model, data.X, y)
    result = {"model": args.model, "data": args.data, **result}
    if args.plots:
        result["plots"] = write_plots(args.plots, model, y, proba)
    if args.json:
        print(json.dumps(result))
        return 0
    _report(result)
    return 0


def _report(r):
    print(f"vlogreg evaluate: {safe_text(r['model'])} on {safe_text(r['data'])}, "
          f"{r['n_samples']} rows")
    auc = "undefined (one class only)" if r["roc_auc"] is None else f"{r['roc_auc']:.4f}"
    print(f"  accuracy   {100 * r['accuracy']:.2f} %")
    print(f"  log-loss   {r['log_loss']:.4f}")
    print(f"  ROC AUC    {auc}" + ("" if len(r["per_class"]) == 2 or r["roc_auc"] is None
                                  else "  (one-vs-rest, macro mean)"))
    labels = [safe_text(c["label"]) for c in r["per_class"]]
    w = max([12] + [len(s) + 2 for s in labels])
    print()
    print(f"  {'':{w}s}{'precision':>10s}{'recall':>10s}{'f1':>10s}{'support':>10s}")
    for c, label in zip(r["per_class"], labels):
        print(f"  {label:{w}s}{c['precision']:>10.4f}{c['recall']:>10.4f}{c['f1']:>10.4f}"
              f"{c['support']:>10d}")
    m = r["macro"]
    print(f"  {'macro mean':{w}s}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}")
    print()
    print("  confusion matrix (rows: true label, columns: predicted label)")
    cw = max([8] + [len(s) + 2 for s in labels])
    print(f"  {'':{w}s}" + "".join(f"{s:>{cw}s}" for s in labels))
    for label, row in zip(labels, r["confusion_matrix"]["matrix"]):
        print(f"  {label:{w}s}" + "".join(f"{v:>{cw}d}" for v in row))
    if "plots" in r:
        print()
        print(f"  plots   -> {', '.join(map(safe_text, r['plots']))}")


def write_plots(folder, model, y, proba):
    """roc.png, calibration.png and learning_curve.png in ``folder``; their paths."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plots needs matplotlib; install it with pip install "
                          "'vlogreg[cli]'.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score, roc_curve

    os.makedirs(folder, exist_ok=True)
    classes = model.classes_
    cols = [1] if len(classes) == 2 else list(range(len(classes)))
    paths = [os.path.join(folder, n) for n in _PLOTS]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    for k in cols:
        truth = y == classes[k]
        if 0 < truth.sum() < len(y):
            fpr, tpr, _ = roc_curve(truth, proba[:, k])
            label = _plain(classes[k])
            name = f"{label} vs rest" if len(cols) > 1 else f"positive class {label}"
            ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(truth, proba[:, k]):.3f})")
    _finish(fig, ax, paths[0], "false positive rate", "true positive rate", "ROC curve")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    for k in cols:
        frac, mean = calibration_curve(y == classes[k], proba[:, k], n_bins=10)
        ax.plot(mean, frac, "o-", label=f"class {_plain(classes[k])}")
    _finish(fig, ax, paths[1], "mean predicted probability", "fraction of positives",
            "calibration (10 bins)")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    loss = np.asarray(model.loss_history_, dtype=float)
    ax.plot(np.arange(len(loss)), loss, "o-" if len(loss) < 50 else "-")
    _finish(fig, ax, paths[2], "iteration", "training objective (mean log-loss + penalty)",
            f"learning curve, solver={model.solver_}")
    return paths


def _plain(label):
    """A class label as plot text: escaped, and ``$`` kept literal (matplotlib would
    parse ``$...$`` in a label from a file as mathtext, and fail on a bad one)."""
    return safe_text(label).replace("$", r"\$")


def _finish(fig, ax, path, xlabel, ylabel, title):
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    plt.close(fig)
