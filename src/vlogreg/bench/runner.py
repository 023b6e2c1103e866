"""Run the adapters side by side on a problem and measure time to a relative objective gap.

For each library: fit at tol = 1e-2, 1e-3, ... until the relative gap
``(F - F*) / |F*|`` to the best objective value seen (a tight reference fit included)
is at most the target; that tol is then timed ``repeat`` times, the libraries taking
turns (alternating, so that a noisy minute hurts all of them alike), and the median is
reported. The sweep's (time, gap) points make the gap-against-time plots.

Time to solution is also given in reads of X: the median time over the median of one
read (``X @ v``, timed in the same rounds); every timing, fit or read, starts after a
pause of ``PAUSE`` seconds (BLAS threads spin ~0.1 s after a call and slow whatever
starts meanwhile). vlogreg's fits also report the reads they counted (``n_passes_``).
"""

from __future__ import annotations

import time

import numpy as np

from ..io.atomic import atomic_write
from .adapters import ADAPTERS
from .problems import objective_value

TOLS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
#: seconds of rest before each timed fit or read
PAUSE = 0.3


def one_read(X, pause=PAUSE):
    """Seconds of one read of X: the product ``X @ v`` (dense or CSR), after a pause."""
    v = np.ones(X.shape[1], dtype=X.dtype)
    time.sleep(pause)
    t0 = time.perf_counter()
    X @ v
    return time.perf_counter() - t0


def reference_value(problem):
    """F* from tight fits of two different solvers (the lower one counts)."""
    import dataclasses

    import numpy as np

    # float32 data cannot resolve a 1e-10 gradient: the reference fits run on a float64
    # copy, and their solutions are judged on the problem's own data
    ref = problem if problem.X.dtype == np.float64 else dataclasses.replace(
        problem, X=problem.X.astype(np.float64))
    values = []
    for label in ("vlogreg newton", "vlogreg lbfgs"):
        fit = ADAPTERS[label](ref, 1e-10)
        values.append(objective_value(problem, fit.coef, fit.intercept))
    return min(values)


def run_problem(problem, labels=None, targets=(1e-6,), repeat=3, log=print,
                max_fit_seconds=120):
    """Sweep and time every adapter on ``problem``.

    Returns
    -------
    dict with "reference" (F*), "read_seconds" (median of one read of X in the timing
    rounds), "sweeps" {label: [(tol, seconds, gap, n_iter)]}, "results" {target:
    {label: {"tol", "seconds" (median), "reads" (seconds / read_seconds), "n_passes"
    (reads counted by the fit, vlogreg only), "gap", "n_iter"} or None}}.
    """
    labels = list(ADAPTERS) if labels is None else labels
    f_star = reference_value(problem)
    sweeps, chosen, failures = {}, {t: {} for t in targets}, {}
    for label in labels:
        points = []
        for tol in TOLS:
            try:
                fit = ADAPTERS[label](problem, tol)
            except Exception as exc:  # a peer failing is a result, not a crash
                log(f"    {label:24s} tol={tol:.0e}  failed: {type(exc).__name__}: {exc}")
                failures[label] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                break
            if fit is None:
                break
            gap = (objective_value(problem, fit.coef, fit.intercept) - f_star) / abs(f_star)
            points.append((tol, fit.seconds, gap, fit.n_iter))
            log(f"    {label:24s} tol={tol:.0e}  {fit.seconds:8.3f} s  gap {gap:9.2e}  "
                f"iters {fit.n_iter}")
            for t in targets:
                if t not in chosen or label in chosen[t]:
                    continue
                if gap <= t:
                    chosen[t][label] = tol
            stalled = len(points) >= 3 and points[-1][2] >= 0.5 * points[-3][2]
            if gap <= min(targets) or fit.seconds > max_fit_seconds or stalled:
                break
        if points:
            sweeps[label] = points
    results = {t: {} for t in targets}
    timings = {(t, lab): [] for t in targets for lab in chosen[t]}
    reads = []
    for _ in range(repeat):
        reads.append(one_read(problem.X))
        for t in targets:
            for label, tol in chosen[t].items():
                time.sleep(PAUSE)
                fit = ADAPTERS[label](problem, tol)
                gap = (objective_value(problem, fit.coef, fit.intercept) - f_star) / abs(f_star)
                timings[(t, label)].append((fit.seconds, gap, fit.n_iter, fit.n_passes))
    read_seconds = float(np.median(reads)) if reads else None
    for t in targets:
        for label in sweeps:
            runs = timings.get((t, label))
            if not runs:
                results[t][label] = None
                continue
            secs = [r[0] for r in runs]
            results[t][label] = {"tol": chosen[t][label], "seconds": float(np.median(secs)),
                                 "reads": float(np.median(secs)) / read_seconds,
                                 "n_passes": runs[-1][3],
                                 "gap": max(r[1] for r in runs), "n_iter": runs[-1][2],
                                 "all_seconds": secs}
    return {"reference": f_star, "read_seconds": read_seconds, "sweeps": sweeps,
            "results": results, "failures": failures}


def format_table(problem, out, target):
    """Markdown table of one problem's results at one target gap."""
    res = out["results"][target]
    peers = [v["seconds"] for k, v in res.items() if v and not k.startswith("vlogreg")]
    best_peer = min(peers) if peers else None
    lines = ["| library | tol | iterations | median time | in reads of X | reads counted "
             "| max gap | vs fastest peer |",
             "|---|---|---|---|---|---|---|---|"]
    for label, why in out.get("failures", {}).items():
        res.setdefault(label, None)
    for label, r in sorted(res.items(), key=lambda kv: (kv[1] is None,
                                                        kv[1]["seconds"] if kv[1] else 0)):
        if r is None:
            why = out.get("failures", {}).get(label)
            what = f"failed: {why}" if why else f"gap {target:g} not reached"
            lines.append(f"| {label} | - | - | {what} | - | - | - | - |")
            continue
        ratio = f"{best_peer / r['seconds']:.2f}x faster" if best_peer else "-"
        if best_peer and r["seconds"] > best_peer:
            ratio = f"{r['seconds'] / best_peer:.2f}x slower"
        reads = f"{r['reads']:.1f}" if r.get("reads") is not None else "-"
        counted = f"{r['n_passes']:.1f}" if r.get("n_passes") is not None else "-"
        lines.append(f"| {label} | {r['tol']:.0e} | {r['n_iter']} | {_fmt(r['seconds'])} | "
                     f"{reads} | {counted} | {r['gap']:.1e} | {ratio} |")
    return "\n".join(lines)


def _fmt(seconds):
    return f"{seconds:.3f} s" if seconds >= 0.1 else f"{seconds * 1e3:.2f} ms"


def plot_sweeps(problem, out, path):
    """Objective gap against time, one line per library (log-log), to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (label, pts) in enumerate(out["sweeps"].items()):
        t = [p[1] for p in pts]
        g = [max(p[2], 1e-16) for p in pts]
        style = "-o" if label.startswith("vlogreg") else "--s"
        ax.loglog(t, g, style, color=f"C{i % 10}", label=label, markersize=4)
    ax.axhline(1e-6, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("fit time (s)")
    ax.set_ylabel("relative objective gap")
    ax.set_title(problem.name)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=100))
    plt.close(fig)
