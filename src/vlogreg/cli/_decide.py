"""Decisions from probabilities: the threshold of a binary model, the rules that pick
it on the training data, and the metrics of probabilities (PR AUC, Brier score).

A binary model predicts its second class when ``p = P(class 1) >= t``. ``t`` is 0.5
unless ``--threshold`` gives another number, or the model stores one that
``vlogreg train --threshold RULE`` picked on the training data:

- ``youden``: the ``t`` with the largest Youden index ``J = TPR - FPR`` (sensitivity
  plus specificity minus 1), the point of the ROC curve farthest above the diagonal;
- ``f1``: the ``t`` with the largest F1 = 2 PR / (P + R) of the second class.
"""

from __future__ import annotations

from .._threshold import stored_threshold
from ._common import UsageError

#: ``vlogreg train --threshold`` rules (module docstring)
RULES = ("youden", "f1")


def add_threshold(p):
    """predict's and evaluate's ``--threshold P``."""
    p.add_argument("--threshold", metavar="P",
                   help="binary models: predict the second class when its probability is "
                   "at least P (default: the threshold stored by train --threshold, else "
                   "the most probable class)")


def parse_threshold(text, rules=()):
    """``--threshold``: a number in (0, 1), or (train only) one of ``rules``."""
    if text is None:
        return None
    if text in rules:
        return text
    try:
        t = float(text)
    except ValueError:
        t = None
    if t is None or not 0 < t < 1:
        also = f", or a rule: {', '.join(rules)}" if rules else ""
        raise UsageError(f"--threshold takes a probability between 0 and 1 (e.g. 0.3)"
                         f"{also}; got {text!r}.")
    return t


def check_binary(classes, option="--threshold"):
    if len(classes) != 2:
        raise UsageError(f"{option} applies to a model of 2 classes; this one has "
                         f"{len(classes)} (predictions take the most probable class).")


def pick_threshold(rule, positive, p):
    """The threshold of ``rule`` (``RULES``) on labels ``positive`` (m,) bool and
    probabilities ``p`` (m,) of the positive class.

    Returns the probability itself (not a midpoint), so that ``p >= t`` classifies the
    training rows as the rule's optimum does.
    """
    import numpy as np
    from sklearn.metrics import precision_recall_curve, roc_curve

    if rule == "youden":
        fpr, tpr, t = roc_curve(positive, p)
        best = np.argmax(tpr - fpr)
    else:
        precision, recall, t = precision_recall_curve(positive, p)
        f1 = np.divide(2 * precision * recall, precision + recall,
                       out=np.zeros_like(precision), where=precision + recall > 0)[:-1]
        best = np.argmax(f1)
    return float(min(t[best], 1.0))


def decision(args_threshold, metadata, classes):
    """``(t, where it came from)`` for predict / evaluate, or ``(None, None)`` when the
    most probable class decides (no --threshold and none stored)."""
    t = parse_threshold(args_threshold)
    if t is not None:
        check_binary(classes)
        return t, "--threshold"
    stored = stored_threshold(metadata)
    if stored is not None and len(classes) == 2:
        return stored["value"], f"{stored.get('rule', 'stored')} rule, from training"
    return None, None


def labels_at(classes, proba, t):
    """The labels of a binary model at threshold ``t``: ``classes[1]`` where
    ``proba[:, 1] >= t``."""
    import numpy as np

    return np.where(proba[:, 1] >= t, classes[1], classes[0])


def probability_metrics(classes, y, proba):
    """PR AUC (average precision) and the Brier score of ``proba`` (m, K) for ``y``.

    Binary: average precision of the second class, Brier ``mean((p - y)^2)``. More
    classes: the macro mean of one-vs-rest average precisions, and Brier
    ``mean(sum_k (p_k - [y = k])^2)`` (scikit-learn's multi-class definition).
    """
    import numpy as np
    from sklearn.metrics import average_precision_score

    onehot = (np.asarray(y)[:, None] == np.asarray(classes)[None, :]).astype(float)
    if len(classes) == 2:
        cols = [1]
        brier = float(np.mean((proba[:, 1] - onehot[:, 1]) ** 2))
    else:
        cols = range(len(classes))
        brier = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    aps = [float(average_precision_score(onehot[:, k], proba[:, k])) for k in cols
           if 0 < onehot[:, k].sum()]
    return {"pr_auc": float(np.mean(aps)) if aps else None, "brier": brier}


def calibration_bins(positive, p, n_bins=10):
    """The calibration table of probabilities ``p`` (m,) for labels ``positive`` (m,)
    bool: ``n_bins`` equal-width bins of [0, 1], the empty ones left out.

    Returns
    -------
    list of dict
        Per bin: ``low``, ``high``, ``rows`` (how many probabilities fall in it),
        ``mean_predicted`` (their mean) and ``fraction_positive``.
    """
    import numpy as np

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # the bin rule of sklearn.calibration.calibration_curve(strategy="uniform")
    k = np.searchsorted(edges[1:-1], p)
    rows = np.bincount(k, minlength=n_bins)
    pred = np.bincount(k, weights=p, minlength=n_bins)
    true = np.bincount(k, weights=np.asarray(positive, dtype=float), minlength=n_bins)
    return [{"low": float(edges[b]), "high": float(edges[b + 1]), "rows": int(rows[b]),
             "mean_predicted": float(pred[b] / rows[b]),
             "fraction_positive": float(true[b] / rows[b])}
            for b in range(n_bins) if rows[b]]
