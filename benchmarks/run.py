"""Side-by-side benchmarks against the peers, written to docs/benchmarks.md.

    python benchmarks/run.py                    # every problem (needs ~6 GB, ~30 min)
    python benchmarks/run.py --only "dense 1000k x 100 float64"   # one (name prefix)
    python benchmarks/run.py --only "easy dense" --labels "vlogreg auto,sklearn lbfgs"
    python benchmarks/run.py --render           # rebuild docs/benchmarks.md from results
    python benchmarks/targets.py > benchmarks/results/targets.md   # issue 16's, one run
    python benchmarks/kernel.py > benchmarks/results/kernel.md
    python benchmarks/memory.py > benchmarks/results/memory.md
    python benchmarks/sparse_multinomial_bench.py > benchmarks/results/sparse_multinomial.md
    (dask.md, outofcore.md, gpu.md: tables from dask_bench.py, outofcore_bench.py and
    gpu_check.py, with their commands, rendered as they are)

Each problem's results go to benchmarks/results/<slug>.json and its gap-against-time
plot to docs/benchmarks/<slug>.png; --render assembles the Markdown page with the
command that produced each figure. Nothing here runs in CI, and nothing asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
PLOTS = os.path.join(ROOT, "docs", "benchmarks")
TARGETS = (1e-5, 1e-6)


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def machine():
    import numpy as np
    from threadpoolctl import threadpool_info

    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = ", ".join(f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
                     f"{i['num_threads']} threads)" for i in threadpool_info())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}; BLAS: {blas}; OPENBLAS_CORETYPE="
            f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")


def run(only, repeat, labels=None):
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from vlogreg.bench.problems import full_set
    from vlogreg.bench.runner import plot_sweeps, run_problem

    os.makedirs(RESULTS, exist_ok=True)
    os.makedirs(PLOTS, exist_ok=True)
    for make in full_set():
        t0 = time.perf_counter()
        problem = make()
        if only and not problem.name.startswith(only):
            continue
        print(f"## {problem.name} ({problem.describe}), generated in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        out = run_problem(problem, labels=labels, targets=TARGETS, repeat=repeat,
                          log=lambda s: print(s, flush=True))
        out["name"], out["describe"] = problem.name, problem.describe
        out["machine"] = machine()
        out["command"] = f'python benchmarks/run.py --only "{problem.name}"' + (
            f' --labels "{",".join(labels)}"' if labels else "")
        out["date"] = time.strftime("%Y-%m-%d")
        out["results"] = {f"{t:g}": r for t, r in out["results"].items()}
        with open(os.path.join(RESULTS, slug(problem.name) + ".json"), "w") as f:
            json.dump(out, f, indent=1)
        plot_sweeps(problem, out, os.path.join(PLOTS, slug(problem.name) + ".png"))


def render():
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from vlogreg.bench.runner import format_table

    parts = ["# Benchmarks", "",
             "Measured by the scripts in `benchmarks/` (never in CI: nothing asserts a "
             "time). Time to a relative objective gap `(F - F*) / F*`, where F* is the "
             "lowest objective value any fit reached (tight reference fits included); each "
             "library's tolerance is the loosest of 1e-2, 1e-3, ... that reaches the gap, "
             "then timed 3 times with the libraries alternating; the median is shown. All "
             "libraries fit the same objective (scikit-learn's, C=1, unpenalized "
             "intercept). \"in reads of X\": the median time over one read of X (`X @ v`, "
             "timed in the same rounds, each timing after a 0.3 s pause); \"reads counted"
             "\": the passes over X the vlogreg fit made (`n_passes_`, docs/solvers.md).",
             ""]
    for name in ("summary", "targets", "kernel", "memory", "reads", "kernel_floor", "layered",
                 "dask", "outofcore", "gpu", "cv", "sparse_multinomial"):
        path = os.path.join(RESULTS, f"{name}.md")
        if os.path.exists(path):
            parts += [open(path).read().strip(), ""]
    for fn in sorted(os.listdir(RESULTS)):
        if not fn.endswith(".json"):
            continue
        out = json.load(open(os.path.join(RESULTS, fn)))
        out["results"] = {float(k): v for k, v in out["results"].items()}
        parts += [f"## {out['name']}", "", f"{out['describe']}. Command: `{out['command']}` "
                  f"({out['date']}). Machine: {out['machine']}.", ""]
        for t in sorted(out["results"], reverse=True):
            parts += [f"Gap {t:g}:", "", format_table(None, out, t), ""]
        png = slug(out["name"]) + ".png"
        if os.path.exists(os.path.join(PLOTS, png)):
            parts += [f"![{out['name']}](benchmarks/{png})", ""]
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as f:
        f.write("\n".join(parts))
    print("wrote docs/benchmarks.md")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run the problems whose name starts with this")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--labels", help="comma-separated adapters (default: all), e.g. "
                    "\"vlogreg auto,sklearn lbfgs\"")
    ap.add_argument("--render", action="store_true", help="only rebuild docs/benchmarks.md")
    args = ap.parse_args()
    if not args.render:
        run(args.only, args.repeat,
            None if not args.labels else [s.strip() for s in args.labels.split(",")])
    render()


if __name__ == "__main__":
    main()
