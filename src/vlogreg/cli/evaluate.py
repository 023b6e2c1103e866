"""``vlogreg evaluate``: a model's metrics on a labelled data file, and optional plots.

Accuracy, log-loss, ROC AUC and PR AUC (average precision; for more classes the macro
means of one-vs-rest values), the Brier score, precision / recall / F1 per class and
their macro means, and the confusion matrix; a binary model's labels at its threshold
(``--threshold``, or the one ``train --threshold`` stored; ``cli/_decide.py``).
``--plots DIR`` writes roc.png, pr.png, calibration.png (with the rows per bin) and
learning_curve.png.
"""

from __future__ import annotations

import json
import os

from .._textgrid import WIDTH, grid
from ._common import (
    finish_plot,
    jsonable,
    open_model,
    plot_text,
    predict,
    refuse_overwrite,
    safe_text,
)
from ._decide import (
    add_threshold,
    calibration_bins,
    decision,
    labels_at,
    probability_metrics,
)
from ._status import Reading
from ._tableopts import add_table_options, table_options
from ._tables import add_delimiter, check_order, csv_options


def add_parser(sub):
    p = sub.add_parser("evaluate", help="metrics of a model on a labelled data file",
                       description="Accuracy, log-loss, ROC AUC, precision / recall / F1 and "
                       "the confusion matrix of MODEL on DATA.")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--target", help="label column (default: the one the model was trained "
                   "with)")
    p.add_argument("--plots", metavar="DIR",
                   help="write roc.png, pr.png (precision-recall), calibration.png (with "
                   "rows per bin) and learning_curve.png to DIR")
    p.add_argument("--json", action="store_true", help="print a JSON object on stdout")
    add_table_options(p, "evaluate")
    add_delimiter(p)
    add_threshold(p)
    p.set_defaults(func=run)


def metrics(model, X, y, threshold=None):
    """The evaluation of ``model`` on (X, y) as a JSON-ready dict (see module docstring);
    the labels of a binary model at ``threshold`` when one is given."""
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
    if threshold is not None:
        pred = labels_at(classes, proba, threshold)
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
           **probability_metrics(classes, y, proba),
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


_PLOTS = ("roc.png", "pr.png", "calibration.png", "learning_curve.png")


def run(args):
    from ..data.files import match_labels, read_data

    if args.plots:
        refuse_overwrite({f"--plots {n}": os.path.join(args.plots, n) for n in _PLOTS},
                         {"MODEL": args.model, "DATA": args.data})
    check_order("evaluate", args.model, args.data)
    csv = csv_options(args)
    mf, spec = open_model(args.model)
    model = mf.model
    threshold, source = decision(args.threshold, mf.metadata, model.classes_)
    options = table_options(args)
    with Reading("evaluate", args.data) as reading:
        data = read_data(args.data, spec, mf.metadata["feature_names"],
                         target=args.target, labels_required=True, options=options,
                         **csv)
        reading.rows = data.X.shape[0]
    y = match_labels(data.y, model.classes_, args.data)
    result, proba = metrics(model, data.X, y, threshold)
    result = {"model": args.model, "data": args.data, **result,
              "threshold": None if threshold is None else {"value": threshold,
                                                           "source": source},
              "dropped_rows": 0 if data.dropped is None else int(data.dropped.sum())}
    if args.plots:
        result["plots"], result["calibration"] = write_plots(args.plots, model, y, proba)
    if args.json:
        print(json.dumps(result))
        return 0
    _report(result)
    return 0


def _report(r):
    dropped = f" ({r['dropped_rows']} with missing values dropped)" \
        if r["dropped_rows"] else ""
    print(f"vlogreg evaluate: {safe_text(r['model'])} on {safe_text(r['data'])}, "
          f"{r['n_samples']} rows{dropped}")
    auc = "undefined (one class only)" if r["roc_auc"] is None else f"{r['roc_auc']:.4f}"
    print(f"  accuracy   {100 * r['accuracy']:.2f} %")
    print(f"  log-loss   {r['log_loss']:.4f}")
    ovr = "" if len(r["per_class"]) == 2 else "  (one-vs-rest, macro mean)"
    print(f"  ROC AUC    {auc}" + ("" if r["roc_auc"] is None else ovr))
    print("  PR AUC     " + ("undefined" if r["pr_auc"] is None else f"{r['pr_auc']:.4f}")
          + "  (average precision" + (")" if not ovr else ", one-vs-rest, macro mean)"))
    print(f"  Brier      {r['brier']:.4f}")
    t = r.get("threshold")
    print("  decision   " + ("the most probable class" if t is None else
                             f"threshold {t['value']:.4g} ({t['source']}) on the "
                             f"probability of {safe_text(r['per_class'][1]['label'])}"))
    labels = [safe_text(c["label"]) for c in r["per_class"]]
    print()
    m = r["macro"]
    cells = [[f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}",
              str(c["support"])] for c in r["per_class"]]
    cells.append([f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}", ""])
    print("\n".join(grid("", [*labels, "macro mean"], ["precision", "recall", "f1",
                                                       "support"], cells, width=WIDTH,
                          cw=10, indent="  ")))
    print()
    print("  confusion matrix (rows: true label, columns: predicted label)")
    matrix = [[str(v) for v in row] for row in r["confusion_matrix"]["matrix"]]
    print("\n".join(grid("", labels, labels, matrix, width=WIDTH, indent="  ")))
    if "plots" in r:
        print()
        print(f"  plots   -> {', '.join(map(safe_text, r['plots']))}")


def write_plots(folder, model, y, proba):
    """roc.png, pr.png, calibration.png and learning_curve.png in ``folder``.

    Returns
    -------
    paths : list of str
    calibration : list of dict
        Per plotted class: ``label`` and its ``bins`` (``_decide.calibration_bins``),
        the numbers behind calibration.png, whose lower panel shows the rows per bin.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plots needs matplotlib; install it with pip install "
                          "'vlogreg[cli]'.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    os.makedirs(folder, exist_ok=True)
    classes = model.classes_
    cols = [1] if len(classes) == 2 else list(range(len(classes)))
    paths = [os.path.join(folder, n) for n in _PLOTS]
    curves = [k for k in cols if 0 < (y == classes[k]).sum() < len(y)]

    def name(k):
        label = plot_text(classes[k])
        return f"{label} vs rest" if len(cols) > 1 else f"positive class {label}"
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    for k in curves:
        fpr, tpr, _ = roc_curve(y == classes[k], proba[:, k])
        auc = roc_auc_score(y == classes[k], proba[:, k])
        ax.plot(fpr, tpr, label=f"{name(k)} (AUC {auc:.3f})")
    finish_plot(fig, ax, paths[0], "false positive rate", "true positive rate", "ROC curve")
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for k in curves:
        truth = y == classes[k]
        precision, recall, _ = precision_recall_curve(truth, proba[:, k])
        ap = average_precision_score(truth, proba[:, k])
        line, = ax.step(recall, precision, where="post", label=f"{name(k)} (AP {ap:.3f})")
        ax.axhline(truth.mean(), ls=":", color=line.get_color(), lw=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    finish_plot(fig, ax, paths[1], "recall", "precision",
                "precision-recall curve (dotted: share of positives)")
    fig, (ax, bars) = plt.subplots(2, 1, figsize=(5.5, 6.5), sharex=True,
                                   gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    calibration = []
    width = 0.1 / len(cols)
    for i, k in enumerate(cols):
        bins = calibration_bins(y == classes[k], proba[:, k])
        calibration.append({"label": jsonable(classes[k]), "bins": bins})
        mean = [b["mean_predicted"] for b in bins]
        line, = ax.plot(mean, [b["fraction_positive"] for b in bins], "o-",
                        label=f"class {plot_text(classes[k])}")
        bars.bar([b["low"] + (i + 0.5) * width for b in bins], [b["rows"] for b in bins],
                 width=width, color=line.get_color())
        if len(cols) == 1:  # one class: the counts fit next to the points
            for b in bins:
                ax.annotate(str(b["rows"]), (b["mean_predicted"], b["fraction_positive"]),
                            textcoords="offset points", xytext=(4, -10), fontsize=7)
    bars.set_ylabel("rows per bin")
    bars.set_xlabel("mean predicted probability")
    bars.grid(alpha=0.3)
    finish_plot(fig, ax, paths[2], "", "fraction of positives",
                "calibration (10 bins; numbers: rows per bin)")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    loss = np.asarray(model.loss_history_, dtype=float)
    ax.plot(np.arange(len(loss)), loss, "o-" if len(loss) < 50 else "-")
    finish_plot(fig, ax, paths[3], "iteration",
                "training objective (mean log-loss + penalty)",
                f"learning curve, solver={model.solver_}")
    return paths, calibration


