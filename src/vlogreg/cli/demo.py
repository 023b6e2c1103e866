"""``vlogreg demo``: train on the bundled breast-cancer data and show what happened.

The newcomer's first command: standardized features, a stratified train/test split
with a fixed seed, the model fitted by the "auto" solver, every solver compared on the
same objective, and the learning curves written as a PNG when matplotlib is there.
"""

from __future__ import annotations

import os
import time

from .._names import SOLVER_NAMES
from ._common import safe_text, save_figure

# NumPy and the estimator are imported where used (``vlogreg --help`` builds this parser)


def add_parser(sub):
    p = sub.add_parser("demo", help="train on the bundled breast-cancer data set",
                       description="Train on scikit-learn's bundled breast-cancer data "
                       "(standardized, stratified 75/25 split) and compare the solvers.")
    p.add_argument("--C", type=float, default=1.0, help="inverse L2 strength (default 1)")
    p.add_argument("--solver", default="auto",
                   choices=["auto", *SOLVER_NAMES])
    p.add_argument("--tol", type=float, default=1e-6,
                   help="gradient max-norm at which to stop (default 1e-6)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    p.add_argument("--out", default="vlogreg-demo",
                   help="folder for the learning-curve PNG (default ./vlogreg-demo)")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    p.set_defaults(func=run)


def load_demo_data(seed=0):
    """Breast cancer, standardized on the training part, stratified 75/25 split."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, stratify=data.target, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return (scaler.transform(X_train), scaler.transform(X_test), y_train, y_test,
            list(data.feature_names))


def _median_fit_time(make, X, y, repeat=5):
    import numpy as np

    times = []
    for _ in range(repeat):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    return model, float(np.median(times))


def _plot(path, fits, chosen):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    best = min(min(m.loss_history_) for m in fits.values())
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    main = fits[chosen]
    ax1.plot(range(len(main.loss_history_)), main.loss_history_, "o-", color="C0")
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("objective (mean log-loss + L2)")
    ax1.set_title(f"learning curve, solver={chosen}")
    ax1.grid(alpha=0.3)
    for i, (name, m) in enumerate(fits.items()):
        gap = np.maximum(np.asarray(m.loss_history_) - best, 1e-16)
        ax2.semilogy(range(len(gap)), gap, "-", color=f"C{i}", label=name)
    ax2.set_xscale("symlog", linthresh=10)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("objective - best")
    ax2.set_title("every solver, same objective")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def run(args):
    from sklearn.metrics import accuracy_score, log_loss

    from .._estimator import LogisticRegression

    if not args.C > 0:
        raise ValueError(f"--C must be a positive number, got {args.C}")
    X_train, X_test, y_train, y_test, _ = load_demo_data(args.seed)
    m, n = X_train.shape

    def make(solver, max_iter=100_000):
        return LogisticRegression(C=args.C, solver=solver, tol=args.tol, max_iter=max_iter)

    model, seconds = _median_fit_time(lambda: make(args.solver), X_train, y_train)
    print(f"vlogreg demo: breast cancer, {m} train / {len(y_test)} test examples, "
          f"{n} features (standardized), seed {args.seed}")
    print()
    chosen = model.solver_
    how = " (chosen by 'auto')" if args.solver == "auto" else ""
    print(f"  solver     {chosen}{how}, L2 penalty, C = {args.C:g}, tol = {args.tol:g}")
    status = "converged" if model.converged_ else "did NOT converge"
    print(f"  fit        {status} in {int(model.n_iter_[0])} iterations, "
          f"{seconds * 1e3:.2f} ms (median of 5)")
    print()
    print(f"  {'':14s}{'train':>10s}{'test':>10s}")
    rows = [("accuracy", lambda X, y: f"{100 * accuracy_score(y, model.predict(X)):.2f} %"),
            ("log-loss", lambda X, y: f"{log_loss(y, model.predict_proba(X)):.4f}")]
    for name, fn in rows:
        print(f"  {name:14s}{fn(X_train, y_train):>10s}{fn(X_test, y_test):>10s}")
    print()
    print("  every solver on the same objective (median of 3 fits):")
    print(f"  {'solver':10s}{'iterations':>12s}{'time':>12s}{'objective - best':>20s}")
    fits, times = {}, {}
    for solver in SOLVER_NAMES:
        fits[solver], times[solver] = _median_fit_time(lambda s=solver: make(s), X_train,
                                                       y_train, repeat=3)
    best = min(f.loss_history_[-1] for f in fits.values())
    for solver, fit in fits.items():
        print(f"  {solver:10s}{int(fit.n_iter_[0]):>12d}{times[solver] * 1e3:>9.2f} ms"
              f"{fit.loss_history_[-1] - best:>20.2e}")
    if not args.no_plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("\n  learning curve: install matplotlib (pip install 'vlogreg[plot]') "
                  "to get the PNG")
        else:
            os.makedirs(args.out, exist_ok=True)
            path = os.path.join(args.out, "learning_curve.png")
            _plot(path, fits, chosen)
            print(f"\n  learning curve -> {safe_text(path)}")
    return 0
