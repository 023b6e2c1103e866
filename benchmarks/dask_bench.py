"""vlogreg against dask-ml's LogisticRegression (lbfgs, admm) on one Dask LocalCluster.

    python benchmarks/dask_bench.py [--rows 2000000] [--features 50] [--chunk-rows 250000]
                                    [--workers 2] [--C 1.0] [--max-seconds 60]
                                    [--data normal,correlated] [--repeats 3] [--phases]

Both fit the same persisted dask array and the same objective, no intercept (dask-ml
penalizes its intercept column) and no feature scaling (``normalize=False``; the data
are standard normal anyway):

    J(w) = (1/m) sum_i loss_i(w) + ||w||^2 / (2 C m)

The optimum J* comes from vlogreg's Newton method run to a gradient of 1e-12. The
figure is the wall time until the relative gap ``(J - J*) / J*`` first reaches 1e-6:
for vlogreg, from the call to ``fit`` (its persist and checks included) to the first
iterate below the gap (a callback records every iterate); dask-ml offers no callback,
so its smallest max_iter reaching the gap is searched once (max_iter = 1, 2, 4, ...,
then bisection; its tolerances set to 0) and the fit at that max_iter is timed ("> t":
not reached within --max-seconds of searching; t is its last fit's time, a lower
bound). Every J is evaluated the same way (vlogreg's objective on the cluster).
Each timing is the median of --repeats runs, the libraries' runs alternating. Prints a
Markdown table per data set. ``--phases`` prints instead where one vlogreg lbfgs fit's
time goes (the setup's round trip, each evaluation's; per phase its wall time, the
busiest worker's compute time and the tasks run), min and median over --repeats fits.
"""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
import warnings

import numpy as np

GAP = 1e-6


def make_data(rows, features, chunk_rows, seed, correlated=False):
    """Standard normal features, or raw-looking ones: a shared factor and mixed scales."""
    import dask
    import dask.array as da

    rs = da.random.RandomState(seed)
    X = rs.standard_normal((rows, features), chunks=(chunk_rows, features))
    if correlated:  # x_j = s_j (z_j + 2 z_0), scales s_j from 0.1 to 10
        scales = 10.0 ** np.linspace(-1, 1, features)
        X = (X + 2.0 * X[:, :1]) * scales
    w = np.random.default_rng(seed).standard_normal(features) / np.sqrt(features)
    y = (X @ w + rs.logistic(size=rows, chunks=chunk_rows) > 0).astype(np.float64)
    return dask.persist(X, y)


def vlogreg_time(X, y, C, solver, J_star):
    from vlogreg import LogisticRegression

    trace = []

    def record(state):  # stop as soon as the gap is reached
        trace.append((time.perf_counter(), state.loss))
        return (state.loss - J_star) / J_star <= GAP

    model = LogisticRegression(C=C, fit_intercept=False, solver=solver, tol=1e-12,
                               max_iter=500, callback=record)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    hit = [t - t0 for t, f in trace if (f - J_star) / J_star <= GAP]
    gap = (trace[-1][1] - J_star) / J_star if trace else float("nan")
    return (hit[0] if hit else float("nan")), len(trace), gap


def daskml_fit(X, y, C, solver, k, objective, J_star):
    """(seconds, gap) of one dask-ml fit with max_iter=k, its tolerances 0."""
    from dask_ml.linear_model import LogisticRegression

    kw = {"normalize": False}
    if solver == "admm":
        kw.update(abstol=0.0, reltol=0.0)
    model = LogisticRegression(C=C, fit_intercept=False, solver=solver, max_iter=k,
                               tol=0.0, solver_kwargs=kw)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    elapsed = time.perf_counter() - t0
    return elapsed, (objective.value(np.asarray(model.coef_, np.float64)) - J_star) / J_star


def daskml_search(X, y, C, solver, objective, J_star, max_seconds):
    """The smallest max_iter reaching the gap: (k, seconds, gap), seconds < 0 if none."""
    fit = {}

    def run(k):
        fit[k] = daskml_fit(X, y, C, solver, k, objective, J_star)
        return fit[k][1] <= GAP

    k, total = 1, 0.0
    while not run(k):
        total += fit[k][0]
        if total > max_seconds or k >= 4096:  # not reached: its last fit is a lower bound
            return k, -fit[k][0], fit[k][1]
        k *= 2
    lo, hi = k // 2, k  # lo fails (or is 0), hi reaches the gap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if run(mid) else (mid, hi)
    return hi, fit[hi][0], fit[hi][1]


def phases(X, y, C, J_star, repeats):
    """Per phase of a vlogreg lbfgs fit (timed to the gap, as ``vlogreg_time``): wall
    seconds, the busiest worker's compute seconds, tasks; min and median over fits."""
    from distributed import get_task_stream

    from vlogreg.backends import dask as _dask
    from vlogreg.backends import dask_setup

    spans = []

    def timed(fn, name):
        def run(*a, **kw):
            t0 = time.time()
            out = fn(*a, **kw)
            spans.append((name, t0, time.time()))
            return out
        return run

    setup, map_sum = dask_setup.setup, _dask.DaskChunks.map_sum
    dask_setup.setup = timed(setup, "setup")
    _dask.DaskChunks.map_sum = timed(map_sum, "evaluation")
    rows = {}
    try:
        for _ in range(repeats):
            spans.clear()
            time.sleep(0.3)
            with get_task_stream() as ts:
                t0 = time.time()
                t, _, _ = vlogreg_time(X, y, C, "lbfgs", J_star)
            rows.setdefault("fit (to the gap)", []).append((t, float("nan"), 0))
            rows.setdefault("before the setup", []).append((spans[0][1] - t0,
                                                            float("nan"), 0))
            tasks = [(s["start"], s["stop"], d["worker"]) for d in ts.data
                     for s in d["startstops"] if s["action"] == "compute"]
            for i, (name, a, b) in enumerate(spans):
                mine = [(w, e - s) for s, e, w in tasks if a <= s <= b]
                busy = {}
                for w, dt in mine:
                    busy[w] = busy.get(w, 0.0) + dt
                rows.setdefault(f"{i}: {name}", []).append(
                    (b - a, max(busy.values(), default=0.0), len(mine)))
    finally:
        dask_setup.setup, _dask.DaskChunks.map_sum = setup, map_sum
    print("| phase | wall (s) min / median | busiest worker (s) min / median | tasks |")
    print("|---|---:|---:|---:|")
    for name, v in rows.items():
        v = np.array(v)
        print(f"| {name} | {v[:, 0].min():.3f} / {np.median(v[:, 0]):.3f} | "
              f"{v[:, 1].min():.3f} / {np.median(v[:, 1]):.3f} | {int(v[0, 2])} |")
    print(flush=True)


def reference_optimum(X, y, C):
    """(vlogreg's objective on the cluster, J*): J* from Newton to a gradient of 1e-12."""
    from vlogreg import LogisticRegression
    from vlogreg.backends import dask as _dask

    est = LogisticRegression(C=C, fit_intercept=False)
    objective = _dask.prepare(X, y, None, est._fit_spec()).objective
    with warnings.catch_warnings():  # "flat to rounding" at 1e-12 is the optimum
        warnings.simplefilter("ignore")
        ref = LogisticRegression(C=C, fit_intercept=False, solver="newton",
                                 tol=1e-12, max_iter=100).fit(X, y)
    return objective, objective.value(ref.coef_[0].astype(np.float64))


def one_data_set(args, correlated):
    """The table rows for one data set: (library, solver, seconds, iterations, gap)."""
    X, y = make_data(args.rows, args.features, args.chunk_rows, args.seed, correlated)
    objective, J_star = reference_optimum(X, y, args.C)
    ours = ("lbfgs", "newton")
    search = {s: daskml_search(X, y, args.C, s, objective, J_star, args.max_seconds)
              for s in ("lbfgs", "admm")}
    # keyed by library too: both have an "lbfgs", whose times must not be pooled
    times = {(lib, s): [] for lib, names in (("vlogreg", ours), ("dask-ml", search))
             for s in names}
    last = {}
    for _ in range(args.repeats):  # alternating: a slow spell of the machine hits all
        for s in ours:
            t, it, gap = vlogreg_time(X, y, args.C, s, J_star)
            times["vlogreg", s].append(t)
            last[s] = (it, gap)
        for s, (k, t, gap) in search.items():
            if t > 0:
                times["dask-ml", s].append(
                    daskml_fit(X, y, args.C, s, k, objective, J_star)[0])
    rows = [("vlogreg", s, float(np.median(times["vlogreg", s])), *last[s]) for s in ours]
    for s, (k, t, gap) in search.items():
        rows.append(("dask-ml", s, float(np.median(times["dask-ml", s])) if t > 0 else t,
                     k, gap))
    mins = {key: min(v) for key, v in times.items() if v}  # the least disturbed runs
    return J_star, rows, mins


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--features", type=int, default=50)
    p.add_argument("--chunk-rows", type=int, default=250_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="normal,correlated",
                   help="comma-separated: normal (standard normal features), correlated "
                        "(a shared factor and scales from 0.1 to 10)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per solver (median)")
    p.add_argument("--phases", action="store_true",
                   help="where one vlogreg lbfgs fit's time goes, instead of the tables")
    p.add_argument("--max-seconds", type=float, default=60.0,
                   help="give up the max_iter search of a dask-ml solver after this much "
                        "fitting time")
    args = p.parse_args(argv)

    from distributed import Client, LocalCluster

    print(f"Command: `python {' '.join(map(shlex.quote, sys.argv))}`  ")
    print(f"LocalCluster {args.workers} workers x 1 thread (processes); C={args.C}; "
          f"medians of {args.repeats} alternating runs; {platform.node()}, Python "
          f"{platform.python_version()}\n")
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        for kind in args.data.split(","):
            if args.phases:
                print(f"Data: {kind}; phases of a vlogreg lbfgs fit over {args.repeats} "
                      f"fits\n")
                X, y = make_data(args.rows, args.features, args.chunk_rows, args.seed,
                                 kind == "correlated")
                phases(X, y, args.C, reference_optimum(X, y, args.C)[1], args.repeats)
                continue
            J_star, rows, mins = one_data_set(args, kind == "correlated")
            best = min(t for lib, _, t, _, _ in rows if lib == "vlogreg" and t == t)
            what = "correlated, scaled" if kind == "correlated" else "standard normal"
            print(f"Data: {args.rows} x {args.features} {what} float64 in chunks of "
                  f"{args.chunk_rows} rows. Time to a relative objective gap of {GAP:g} "
                  f"(J* = {J_star:.12g}).\n")
            print("| library | solver | time to gap (s) | iterations (dask-ml: max_iter) "
                  "| final gap | vs best vlogreg |")
            print("|---|---|---:|---:|---:|---:|")
            for lib, solver, t, it, gap in rows:
                # a negative time: the gap was not reached; |t| is a lower bound
                low = "> " if t < 0 else ""
                ratio = "" if lib == "vlogreg" else f"{low}{abs(t) / best:.1f}x"
                shown = f"{low}{abs(t):.2f}" if t == t else "not reached"
                print(f"| {lib} | {solver} | {shown} | {it} | {gap:.1e} | {ratio} |")
            low = min(t for (lib, _), t in mins.items() if lib == "vlogreg")
            print("\nMinima of the runs: " + "; ".join(
                f"{lib} {solver} {t:.2f} s ({t / low:.1f}x)"
                for (lib, solver), t in mins.items()) + ".")
            print(flush=True)


if __name__ == "__main__":
    main()
