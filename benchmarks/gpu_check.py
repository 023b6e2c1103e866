"""GPU check: the GPU tests and the GPU benchmark in one go, figures to a JSON file.

    python benchmarks/gpu_check.py [--out PATH] [--m 10000000] [--n 100] [--repeat 9]

Needs an NVIDIA GPU, torch (CUDA build) and triton; CuPy is used by the tests when
installed. Steps, each written to the JSON file as soon as it is done:

1. ``pytest -m gpu tests/test_triton.py tests/test_array_api.py``: the fused kernel and
   the estimator on CUDA arrays against the NumPy objective / CPU fit (pass / fail /
   skip counts and the summary line);
2. on X (m, n) float32, and float64 where the GPU has room: one read of X
   (``X.sum(0)`` and a gemv ``X @ v``), the fused Triton loss+gradient (kernel alone
   and the whole objective call with its host transfers), vlogreg's two-pass
   array-API objective, torch's (and CuPy's, when installed) own two-pass gradient,
   one Hessian-vector product fused and two-pass, and the multinomial loss+gradient
   (10 classes) fused and two-pass; then the kernel alone for
   BLOCK_M x num_warps around the plan's choice (the tuning sweep); alternating, medians of
   ``--repeat`` (>= 7) runs, each timed with CUDA events and synchronized. The target
   is ``fused_kernel_vs_read <= 1.15`` on float32;
3. a fit to a relative objective gap of 1e-6: vlogreg (lbfgs, the fused kernel) against
   ``torch.optim.LBFGS`` (strong Wolfe) on the same float32 data (both gaps measured
   by the float64 objective on the same numbers), and the largest
   ``|coef|`` difference of the float32 GPU fit against the CPU fit of the same rows.

``--dry-run`` runs steps 2 and 3 on small CPU tensors through Triton's interpreter
(``--m 4000 --n 20`` by default there), timed by the wall clock: it proves the script
end to end on a machine without a GPU (tests/test_gpu_check.py does so in CI); its
times mean nothing.

Output: ``--out``, by default ``$OUT/gpu_check.json`` when ``$OUT`` is set, else
``gpu_check.json``. Exit codes: 0 when it ran and every GPU test passed, and also when
there is no CUDA GPU (or no torch): it says so, writes ``{"cuda": false, ...}`` and
stops; 1 when a GPU test failed or a step raised (the JSON file says which). Nothing
here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)  # triton_audit's SWEEP
DEVICE = "cuda"  # --dry-run: "cpu" (Triton's interpreter)


def parse_args(argv=None):
    default_out = os.path.join(os.environ["OUT"], "gpu_check.json") if os.environ.get("OUT") \
        else "gpu_check.json"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Exit codes: 0 ran (or no GPU: says so), 1 a GPU "
                                        "test failed or a step raised.")
    ap.add_argument("--out", default=default_out, help=f"JSON file (default {default_out})")
    ap.add_argument("--m", type=int, default=None, help="rows of X (default 10M; 4000 "
                                                        "with --dry-run)")
    ap.add_argument("--n", type=int, default=None, help="features (default 100; 20 with "
                                                        "--dry-run)")
    ap.add_argument("--repeat", type=int, default=9, help="timed runs per case (>= 7)")
    ap.add_argument("--skip-tests", action="store_true", help="skip step 1 (pytest -m gpu)")
    ap.add_argument("--skip-fit", action="store_true", help="skip step 3 (the fits)")
    ap.add_argument("--cpu-rows", type=int, default=2_000_000,
                    help="rows of the GPU-vs-CPU coefficient check (default 2M)")
    ap.add_argument("--dry-run", action="store_true",
                    help="steps 2-3 on small CPU tensors in Triton's interpreter (no GPU)")
    args = ap.parse_args(argv)
    args.m = args.m or (4000 if args.dry_run else 10_000_000)
    args.n = args.n or (20 if args.dry_run else 100)
    return args


class Report(dict):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def save(self):
        d = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(d, exist_ok=True)
        with open(self.path, "w") as f:
            json.dump(self, f, indent=1, default=float)


def run_gpu_tests():
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider",
           os.path.join(ROOT, "tests", "test_triton.py"),
           os.path.join(ROOT, "tests", "test_array_api.py")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    summary = lines[-1] if lines else ""
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|"
                                                  r"deselected)", summary)}
    return {"exit_code": proc.returncode, "summary": summary, "counts": counts,
            "seconds": time.perf_counter() - t0,
            "failures_tail": proc.stdout[-4000:] if proc.returncode != 0 else ""}


def sync():
    import torch

    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(cases, repeat):
    """Medians (s) of each case, run alternately ``repeat`` times after a warm-up.

    On the GPU each run is timed by CUDA events around it, synchronized; in the dry run
    by the wall clock.
    """
    import torch

    for fn in cases.values():
        fn()
    sync()
    times = {k: [] for k in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            sync()
            if DEVICE == "cuda":
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times[name].append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {k: float(np.median(v)) for k, v in times.items()}, times


def make_data(m, n, dtype, seed=0):
    import torch

    g = torch.Generator(device=DEVICE).manual_seed(seed)
    X = torch.randn(m, n, device=DEVICE, dtype=dtype, generator=g)
    w_true = torch.randn(n, device=DEVICE, dtype=dtype, generator=g) / np.sqrt(n)
    noise = torch.randn(m, device=DEVICE, dtype=dtype, generator=g)
    y = ((X @ w_true + noise) > 0).to(dtype)
    return X, y


def bench_loss_grad(X, y_dev, repeat):
    """Step 2 for one dtype: reads of X, the fused kernel, the two-pass paths."""
    import torch

    from vlogreg.objective.array_api import ArrayAPIObjective

    m, n = X.shape
    y = y_dev.cpu().numpy().astype(np.int64)
    fused = ArrayAPIObjective(X, y, alpha=1.0 / m)
    two = ArrayAPIObjective(X, y, alpha=1.0 / m, kernel="array_api")
    assert fused._fused is not None, "the fused kernel was not selected on CUDA"
    kernel = fused._fused
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(fused.n_params) / np.sqrt(n)
    v = torch.as_tensor(theta[:n], dtype=X.dtype, device=DEVICE)
    cfg = dict(kernel.cfg)
    wb = torch.as_tensor(theta, dtype=X.dtype, device=DEVICE)

    def kernel_only():  # the launch alone: no host transfer, no partial sum
        kernel.launch(wb, kernel.y, kernel.s)

    def torch_two_pass():
        z = X @ v
        dz = torch.sigmoid(z) - y_dev
        return X.T @ dz, dz.sum()

    curv = fused.curvature(theta)  # Newton-CG's products share one curvature
    cases = {"read_sum": lambda: X.sum(0), "read_gemv": lambda: X @ v,
             "fused_kernel": kernel_only,
             "fused_objective": lambda: fused.value_and_grad(theta),
             "vlogreg_two_pass": lambda: two.value_and_grad(theta),
             "torch_two_pass": torch_two_pass,
             "fused_hessp": lambda: fused.hessp(theta, theta, curv),
             "two_pass_hessp": lambda: two.hessp(theta, theta, curv)}
    # the multinomial loss, 10 classes: its fused kernel against its two products
    y10 = np.random.default_rng(1).integers(0, 10, m)
    multi = ArrayAPIObjective(X, y10, alpha=1.0 / m, n_classes=10)
    multi_two = ArrayAPIObjective(X, y10, alpha=1.0 / m, n_classes=10, kernel="array_api")
    theta10 = rng.standard_normal(multi.n_params) / np.sqrt(n)
    if multi._fused is not None:
        cases["multinomial10_fused"] = lambda: multi.value_and_grad(theta10)
    cases["multinomial10_two_pass"] = lambda: multi_two.value_and_grad(theta10)
    try:  # CuPy's own two-pass step, the other anchor
        import cupy

        if DEVICE == "cuda":
            Xcp, ycp, vcp = (cupy.from_dlpack(a) for a in (X, y_dev, v))

            def cupy_two_pass():
                dz = 1 / (1 + cupy.exp(-(Xcp @ vcp))) - ycp
                return Xcp.T @ dz, dz.sum()

            cases["cupy_two_pass"] = cupy_two_pass
    except ImportError:
        pass
    med, raw = timed(cases, repeat)
    sweep = tune(X, kernel, wb, repeat)
    f1, g1 = fused.value_and_grad(theta)
    f2, g2 = two.value_and_grad(theta)
    h1, h2 = fused.hessp(theta, theta, curv), two.hessp(theta, theta, curv)
    m1, m2 = multi.value_and_grad(theta10), multi_two.value_and_grad(theta10)
    floor = min(med["read_sum"], med["read_gemv"])
    return {"shape": [m, n], "dtype": str(X.dtype), "plan": cfg, "median_s": med,
            "all_s": raw, "read_GBps": X.numel() * X.element_size() / floor / 1e9,
            "fused_kernel_vs_read": med["fused_kernel"] / floor,
            "fused_objective_vs_read": med["fused_objective"] / floor,
            "vlogreg_two_pass_vs_read": med["vlogreg_two_pass"] / floor,
            "torch_two_pass_vs_read": med["torch_two_pass"] / floor,
            "vs_read": {k: t / floor for k, t in med.items()},
            "tuning_vs_read": {k: t / floor for k, t in sweep.items()},
            "target_fused_vs_read": 1.15,
            "fused_vs_two_pass_rel_diff": {
                "loss": abs(f1 - f2) / abs(f2),
                "grad": float(np.abs(g1 - g2).max() / np.abs(g2).max()),
                "hessp": float(np.abs(h1 - h2).max() / np.abs(h2).max()),
                "multinomial10_loss": abs(m1[0] - m2[0]) / abs(m2[0]),
                "multinomial10_grad": float(np.abs(m1[1] - m2[1]).max()
                                            / np.abs(m2[1]).max())}}


def tune(X, kernel, wb, repeat):
    """The kernel alone for BLOCK_M x num_warps around the plan's choice: medians (s).

    The plan's defaults were chosen offline as the largest tiles without register
    spills in ptxas's report for sm_90 (benchmarks/triton_audit.py); this is the
    measurement that confirms or replaces them.
    """
    from vlogreg._kernels import triton_binary as tb

    from triton_audit import SWEEP

    cases = {}
    grid = SWEEP if DEVICE == "cuda" else [(32, 4), (64, 8)]  # dry run: two cheap ones
    for bm, warps in grid:
        if bm * kernel.cfg["BLOCK_N"] * X.element_size() > 64 * 1024:
            continue
        fb = tb.FusedBinary(X, kernel.y, kernel.s, block_m=bm, num_warps=warps)
        cases[f"BLOCK_M={bm},num_warps={warps}"] = lambda fb=fb: fb.launch(wb, fb.y, fb.s)
    med, _ = timed(cases, repeat)
    return med


def bench_fit(X, y_dev, cpu_rows):
    """Step 3 on float32 X: vlogreg vs torch L-BFGS to a gap of 1e-6, GPU vs CPU coef."""
    import torch

    from vlogreg import LogisticRegression
    from vlogreg.objective.array_api import ArrayAPIObjective
    from vlogreg._kernels import triton_binary as tb

    m, n = X.shape
    y = y_dev.cpu().numpy().astype(np.int64)
    # the gaps are measured in float64 on the same (float32) numbers: the float32
    # objective itself is only good to ~1e-7, too close to the 1e-6 asked for
    X64 = X.to(torch.float64)
    obj = ArrayAPIObjective(X64, y, alpha=1.0 / m)  # C = 1: alpha = 1 / m
    t0 = time.perf_counter()
    ref = LogisticRegression(solver="newton", tol=1e-10, max_iter=50).fit(X64, y)
    t_ref = time.perf_counter() - t0
    f_star = obj.value(obj.pack(ref.coef_[0], ref.intercept_[0]))

    calls = tb.n_calls
    sync()
    t0 = time.perf_counter()
    model = LogisticRegression(solver="lbfgs", tol=1e-6, max_iter=1000).fit(X, y)
    sync()
    t_fit = time.perf_counter() - t0
    kernel_calls = tb.n_calls - calls
    gap = (obj.value(obj.pack(model.coef_[0], model.intercept_[0])) - f_star) / f_star

    wt = torch.zeros(n, device=DEVICE, requires_grad=True)
    bt = torch.zeros(1, device=DEVICE, requires_grad=True)
    opt = torch.optim.LBFGS([wt, bt], lr=1, max_iter=1000, tolerance_grad=1e-7,
                            tolerance_change=1e-12, line_search_fn="strong_wolfe")
    n_closure = [0]

    def closure():
        n_closure[0] += 1
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ wt + bt, y_dev) \
            + 0.5 / m * (wt * wt).sum()
        loss.backward()
        return loss

    sync()
    t0 = time.perf_counter()
    opt.step(closure)
    sync()
    t_torch = time.perf_counter() - t0
    theta_t = np.concatenate([wt.detach().cpu().numpy(), bt.detach().cpu().numpy()])
    gap_torch = (obj.value(theta_t.astype(np.float64)) - f_star) / f_star

    k = min(cpu_rows, m)
    Xs, ys = X[:k], y[:k]
    cpu = LogisticRegression(solver="lbfgs", tol=1e-8, max_iter=2000).fit(Xs.cpu().numpy(), ys)
    gpu = LogisticRegression(solver="lbfgs", tol=1e-8, max_iter=2000).fit(Xs, ys)
    diff = float(np.abs(gpu.coef_.astype(np.float64) - cpu.coef_).max())
    del X64, obj
    return {"reference_newton_s": t_ref, "f_star": f_star,
            "vlogreg_lbfgs_s": t_fit, "vlogreg_gap": gap,
            "vlogreg_iters": int(np.ravel(model.n_iter_)[0]),
            "vlogreg_kernel_calls": kernel_calls,
            "torch_lbfgs_s": t_torch, "torch_gap": gap_torch, "torch_closures": n_closure[0],
            "gpu_vs_cpu_rows": k, "coef_max_abs_diff_gpu_vs_cpu": diff,
            "coef_max_rel_diff_gpu_vs_cpu": diff / float(np.abs(cpu.coef_).max())}


def main(argv=None):
    global DEVICE
    args = parse_args(argv)
    args.repeat = max(7, args.repeat)
    report = Report(args.out)
    report.update({"m": args.m, "n": args.n, "repeat": args.repeat})
    if args.dry_run:  # before torch and triton are imported: the interpreter
        DEVICE = "cpu"
        os.environ["TRITON_INTERPRET"] = "1"
        os.environ["VLOGREG_KERNEL"] = "triton"  # CPU tensors take the kernel too
    try:
        import torch
    except ImportError:
        torch = None
    if not args.dry_run and (torch is None or not torch.cuda.is_available()):
        why = "torch is not installed" if torch is None else "no CUDA GPU is visible to torch"
        print(f"gpu_check: {why}; this script needs a machine with an NVIDIA GPU (or "
              f"--dry-run). Nothing measured; wrote {args.out}.")
        report.update({"cuda": False, "reason": why})
        report.save()
        return 0
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import triton

    card = (torch.cuda.get_device_name(0) if DEVICE == "cuda" else
            "cpu: a dry run in Triton's interpreter, its times mean nothing")
    report.update({"cuda": DEVICE == "cuda", "dry_run": args.dry_run, "card": card,
                   "torch": torch.__version__, "triton": triton.__version__,
                   "cuda_runtime": torch.version.cuda})
    ok = True
    if not (args.skip_tests or args.dry_run):
        report["gpu_tests"] = run_gpu_tests()
        ok = report["gpu_tests"]["exit_code"] == 0
        print("gpu tests:", report["gpu_tests"]["summary"], flush=True)
        report.save()

    steps = [("float32", torch.float32)]
    free = torch.cuda.mem_get_info()[0] if DEVICE == "cuda" else float("inf")
    if free > 3.5 * args.m * args.n * 8:  # X64 + room for the two-pass temporaries
        steps.append(("float64", torch.float64))
    else:
        report["float64_skipped"] = f"{free / 2**30:.1f} GiB free on the GPU"
    for name, dtype in steps:
        try:
            X, y = make_data(args.m, args.n, dtype)
            report[f"loss_grad_{name}"] = bench_loss_grad(X, y, args.repeat)
            r = report[f"loss_grad_{name}"]
            print(f"{name}: fused kernel {r['fused_kernel_vs_read']:.3f}x one read, "
                  f"objective {r['fused_objective_vs_read']:.3f}x, torch two-pass "
                  f"{r['torch_two_pass_vs_read']:.3f}x ({r['read_GBps']:.0f} GB/s)", flush=True)
            if name == "float32" and not args.skip_fit:
                report["fit_float32"] = bench_fit(X, y, args.cpu_rows)
                print("fit:", json.dumps(report["fit_float32"]), flush=True)
            del X, y
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
        except Exception:
            ok = False
            report[f"error_{name}"] = traceback.format_exc()
            print(report[f"error_{name}"], file=sys.stderr)
        report.save()
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
