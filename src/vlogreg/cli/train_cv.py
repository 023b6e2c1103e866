"""``vlogreg train --cv K``: choose C by cross-validation before the fit.

The folds x Cs fits are ``vlogreg.LogisticRegressionCV``'s (the binary L2 ones share each
read of X); the scores per C (mean and standard deviation across folds) are printed, the
C of the best mean score is chosen, and ``train`` then fits the whole data at that C as
usual. ``--plots DIR`` writes validation_curve.png (the mean score per C, +- one
standard deviation, the chosen C marked) and coefficient_path.png (every coefficient of
the whole data's fit along the same Cs, ``vlogreg.path``).
"""

from __future__ import annotations

import os
import sys

from ._common import UsageError, finish_plot, plot_text, refuse_overwrite

PLOTS = ("validation_curve.png", "coefficient_path.png")


def add_arguments(p):
    p.add_argument("--cv", type=int, metavar="K",
                   help="choose C by K-fold (stratified) cross-validation first, then fit "
                   "the whole data at the best C")
    p.add_argument("--Cs", type=int, default=10, metavar="N",
                   help="with --cv: N values of C, np.logspace(-4, 4, N) (default 10)")
    p.add_argument("--scoring", default="neg_log_loss", metavar="NAME",
                   help="with --cv: a scikit-learn scorer name (default neg_log_loss)")
    p.add_argument("--plots", metavar="DIR",
                   help="with --cv: write validation_curve.png and coefficient_path.png")


def check(args):
    """One-line usage errors for the cross-validation options."""
    if args.cv is None:
        if args.plots:
            raise UsageError("--plots draws the cross-validation curves: add --cv K "
                             "(vlogreg evaluate --plots draws the fit's own plots).")
        return
    if args.cv < 2:
        raise UsageError(f"--cv {args.cv}: cross-validation needs at least 2 folds.")
    if args.Cs < 1:
        raise UsageError(f"--Cs {args.Cs}: give at least 1 value of C.")
    if args.penalty == "none":
        raise UsageError("--cv chooses C, the penalty's strength: use --penalty l2, l1 or "
                         "elasticnet with it.")
    if args.resume:
        raise UsageError("--resume continues one fit; leave out --cv (the chosen C is in "
                         "--C of the interrupted run).")
    from sklearn.metrics import get_scorer_names

    if args.scoring not in get_scorer_names():
        raise UsageError(f"--scoring {args.scoring} is not a scikit-learn scorer; use e.g. "
                         f"neg_log_loss, accuracy or roc_auc.")
    if args.plots:
        refuse_overwrite({f"--plots {n}": os.path.join(args.plots, n) for n in PLOTS},
                         {"DATA": args.data})


def select_c(args, X, y, l1_ratio, report=True):
    """Fit the folds x Cs models, print the scores per C; returns the dict of the
    cross-validation (Cs, mean, std, chosen C) and the estimator."""
    import numpy as np

    from .._cv import LogisticRegressionCV

    cv = LogisticRegressionCV(Cs=args.Cs, cv=args.cv, l1_ratios=(l1_ratio,),
                              scoring=args.scoring, tol=args.tol, max_iter=args.max_iter,
                              class_weight=args.class_weight, solver=args.solver,
                              refit=False, use_legacy_attributes=False)
    cv.fit(X, y)
    scores = cv.scores_[:, 0, :]  # (n_folds, n_cs)
    mean, std = scores.mean(axis=0), scores.std(axis=0)
    best = int(np.argmax(scores.sum(axis=0)))  # scikit-learn's refit choice
    info = {"folds": int(args.cv), "scoring": args.scoring, "Cs": cv.Cs_.tolist(),
            "mean": mean.tolist(), "std": std.tolist(), "C": float(cv.Cs_[best]),
            "batched": bool(cv.batched_)}
    if report:
        print(f"vlogreg train: {args.cv}-fold cross-validation over {len(cv.Cs_)} values "
              f"of C ({args.scoring}; mean and standard deviation across folds)")
        print(f"  {'C':>12s}{'mean':>12s}{'std':>12s}")
        for k, C in enumerate(cv.Cs_):
            mark = "  <- chosen" if k == best else ""
            print(f"  {C:>12.4g}{mean[k]:>12.5f}{std[k]:>12.5f}{mark}")
        print(f"  chosen C = {info['C']:.4g}; fitting the whole data at it")
        sys.stdout.flush()
    return info


def write_plots(folder, info, X, y, args, l1_ratio, feature_names):
    """validation_curve.png and coefficient_path.png in ``folder``; their paths."""
    import numpy as np

    from .._regpath import logistic_path

    try:
        import matplotlib
    except ImportError:
        raise ImportError("--plots needs matplotlib; install it with pip install "
                          "'vlogreg[cli]'.") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, n) for n in PLOTS]
    Cs, mean, std = (np.asarray(info[k]) for k in ("Cs", "mean", "std"))
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.semilogx(Cs, mean, "o-", label=f"mean over {info['folds']} folds")
    ax.fill_between(Cs, mean - std, mean + std, alpha=0.25, label="+- one std")
    ax.axvline(info["C"], color="grey", ls=":", label=f"chosen C = {info['C']:.3g}")
    finish_plot(fig, ax, paths[0], "C (inverse penalty strength)", info["scoring"],
                "validation curve", legend_size="small")
    path = logistic_path(X, y, Cs=Cs, l1_ratio=l1_ratio, class_weight=args.class_weight,
                         tol=args.tol, max_iter=args.max_iter, solver=args.solver)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    coefs = path.coefs.reshape(len(Cs), -1)  # (n_cs, k n)
    order = np.argsort(Cs)
    n_lines = coefs.shape[1]
    for j in range(n_lines):
        label = None
        if n_lines <= 10 and path.coefs.shape[1] == 1:
            label = plot_text(feature_names[j])
        ax.semilogx(Cs[order], coefs[order, j], "-", lw=1, label=label)
    ax.axvline(info["C"], color="grey", ls=":")
    finish_plot(fig, ax, paths[1], "C (inverse penalty strength)", "coefficient",
                "coefficient path (whole data)", legend_size="small")
    return paths

    plt.close(fig)
