"""``vlogreg bench``: timings measured live on this machine.

``vlogreg bench loops`` is the course note's speed table: one iteration's (dw, db, cost)
by the original two loops, the partial one loop and the vectorized form, on the same
random data, with the speed-up against the original and the largest difference
between their results. Times are medians over ``--repeat`` runs; each run of a fast
function loops it until it lasts at least 20 ms so the clock's resolution does not
show.
"""

from __future__ import annotations

import time

# NumPy, the reference loops and the peer adapters are imported where used
# (``vlogreg --help`` builds this parser)

#: the note's table: (n_x, m) sizes measured by default
DEFAULT_SIZES = [(2, 1000), (10, 10_000), (100, 10_000), (1000, 1000)]


def add_parser(sub):
    p = sub.add_parser("bench", help="measure speed on this machine",
                       description="Measure speed on this machine.")
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    loops = bsub.add_parser(
        "loops", help="the course's speed table: two loops, one loop, vectorized",
        description="Time one gradient iteration by the note's three implementations.")
    loops.add_argument("--n-x", type=int, help="number of features (default: the note's "
                       "four sizes)")
    loops.add_argument("--m", type=int, help="number of examples")
    loops.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    loops.add_argument("--seed", type=int, default=0)
    loops.set_defaults(func=run_loops)
    peers = bsub.add_parser(
        "peers", help="vlogreg against scikit-learn, glum, statsmodels, torch (small)",
        description="Time to a relative objective gap of 1e-6 on small problems, side by "
        "side with the peer libraries that are installed (under 2 minutes). The full set "
        "is benchmarks/run.py.")
    peers.add_argument("--repeat", type=int, default=3, help="timed runs per library")
    peers.add_argument("--target", type=float, default=1e-6,
                       help="relative objective gap to reach (default 1e-6)")
    peers.add_argument("--verbose", action="store_true", help="print every sweep fit")
    peers.set_defaults(func=run_peers)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def time_call(fn, repeat=3, min_seconds=0.02):
    """Median seconds per call of ``fn()`` over ``repeat`` runs."""
    import numpy as np

    fn()  # warm-up: imports, first-touch of memory
    per_call = []
    for _ in range(repeat):
        number, elapsed = 0, 0.0
        t0 = time.perf_counter()
        while elapsed < min_seconds:
            fn()
            number += 1
            elapsed = time.perf_counter() - t0
        per_call.append(elapsed / number)
    return float(np.median(per_call))


def loops_table(sizes, repeat=3, seed=0):
    """Rows of the speed table: dict per size with times, speed-ups and differences."""
    import numpy as np

    from ..reference import IMPLEMENTATIONS

    rng = np.random.default_rng(seed)
    rows = []
    for n_x, m in sizes:
        X = rng.standard_normal((n_x, m))
        Y = (rng.random((1, m)) < 0.5).astype(np.float64)
        w = rng.standard_normal((n_x, 1)) * 0.1
        b = 0.1
        results, times = {}, {}
        for name, fn in IMPLEMENTATIONS.items():
            results[name] = fn(w, b, X, Y)
            times[name] = time_call(lambda fn=fn: fn(w, b, X, Y), repeat=repeat)
        base = results["original (two loops)"]
        diff = max(max(float(np.max(np.abs(r[0] - base[0]))), abs(r[1] - base[1]),
                       abs(r[2] - base[2])) for r in results.values())
        rows.append({"n_x": n_x, "m": m, "times": times, "max_diff": diff})
    return rows


def run_loops(args):
    if (args.n_x is None) != (args.m is None):
        raise ValueError("give both --n-x and --m, or neither (for the note's four sizes)")
    if args.n_x is not None and (args.n_x < 1 or args.m < 1):
        raise ValueError("--n-x and --m must be at least 1")
    if args.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    sizes = DEFAULT_SIZES if args.n_x is None else [(args.n_x, args.m)]
    print("One gradient iteration (dw, db, cost), float64, median of "
          f"{args.repeat} runs; speed-up against the original two loops.")
    print()
    head = (f"{'n_x':>6s} {'m':>7s}  {'original':>11s}  {'partial':>19s}  "
            f"{'vectorized':>19s}  {'max |diff|':>10s}")
    print(head)
    print("-" * len(head))
    for row in loops_table(sizes, args.repeat, args.seed):
        t = row["times"]
        t0 = t["original (two loops)"]
        cells = []
        for name in ["partial (one loop)", "vectorized"]:
            cells.append(f"{_ms(t[name])} {t0 / t[name]:>6.1f}x")
        print(f"{row['n_x']:>6d} {row['m']:>7d}  {_ms(t0)}  {cells[0]:>19s}  "
              f"{cells[1]:>19s}  {row['max_diff']:>10.1e}")
    print()
    print("The note claims ~10x (partial) and ~300x (vectorized). Here the partial loop")
    print("pays NumPy's per-call overhead for every example, so with few features it is")
    print("no faster, even slower, than plain Python; the vectorized form hands the whole")
    print("product to BLAS and its speed-up grows with the data (see README).")
    return 0


def _ms(seconds):
    if seconds >= 1:
        return f"{seconds:9.2f} s "
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.1f} us"


def run_peers(args):
    from ..bench.adapters import ADAPTERS
    from ..bench.problems import small_set
    from ..bench.runner import format_table, run_problem

    if args.repeat < 1:
        raise ValueError("--repeat must be at least 1")
    if not 0 < args.target < 1:
        raise ValueError("--target must be a relative gap between 0 and 1, e.g. 1e-6")
    print(f"Time to a relative objective gap of {args.target:g}, median of {args.repeat} "
          "runs, libraries alternating.")
    for make in small_set():
        problem = make()
        print(f"\n## {problem.name}: {problem.describe}\n")
        # saga (minutes to a tight gap) is left to benchmarks/run.py; a peer whose fit
        # takes over 5 s stops its sweep there
        labels = [k for k in ADAPTERS if k != "sklearn saga"]
        out = run_problem(problem, labels=labels, targets=(args.target,),
                          repeat=args.repeat, max_fit_seconds=5,
                          log=print if args.verbose else (lambda *a: None))
        print(format_table(problem, out, args.target))
    return 0
