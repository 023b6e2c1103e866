"""GPU check: the GPU tests and the GPU benchmark in one go, figures to a JSON file.

    python benchmarks/gpu_check.py [--out gpu_check.json] [--m 10000000] [--n 100]

Needs an NVIDIA GPU with torch (CUDA build); CuPy is used too when installed. Steps:

1. ``pytest -m gpu tests/test_array_api.py``: the estimator on CUDA arrays equals the
   CPU fit (exit code and summary line recorded);
2. one loss+gradient of vlogreg's array-API objective on X (m, n) float32 on the GPU,
   against one read of X (``X.sum(0)`` and a gemv) and torch's own two-pass step, all
   timed with CUDA events, medians of 20;
3. a fit to a relative objective gap of 1e-6: vlogreg (lbfgs on the GPU arrays)
   against ``torch.optim.LBFGS`` on the same data, and the coefficients of the GPU fit
   against the CPU fit of the same float32 data.

Everything measured goes to the JSON file with the card's name; docs/benchmarks.md
quotes it. Nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np


def cuda_median(fn, repeat=20):
    import torch

    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="gpu_check.json")
    ap.add_argument("--m", type=int, default=10_000_000)
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("no CUDA GPU: this script is for a GPU machine")
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(os.path.dirname(here), "src"))
    from vlogreg import LogisticRegression
    from vlogreg._array_api import ArrayAPIObjective

    report = {"card": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "m": args.m, "n": args.n}
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "gpu",
                            os.path.join(os.path.dirname(here), "tests",
                                         "test_array_api.py")],
                           capture_output=True, text=True)
    report["gpu_tests"] = {"exit_code": tests.returncode,
                           "summary": tests.stdout.strip().splitlines()[-1:]}

    g = torch.Generator(device="cuda").manual_seed(0)
    X = torch.randn(args.m, args.n, device="cuda", dtype=torch.float32, generator=g)
    w_true = torch.randn(args.n, device="cuda", generator=g) / np.sqrt(args.n)
    y = (X @ w_true + torch.randn(args.m, device="cuda", generator=g) > 0).cpu().numpy()
    obj = ArrayAPIObjective(X, y.astype(np.int64), alpha=1.0 / args.m)
    theta = np.zeros(obj.n_params)
    v = torch.randn(args.n, device="cuda")
    yt = torch.from_numpy(y.astype(np.float32)).cuda()

    def torch_two_pass():
        z = X @ v
        return X.T @ (torch.sigmoid(z) - yt)

    t_sum = cuda_median(lambda: X.sum(0))
    t_gemv = cuda_median(lambda: X @ v)
    t_obj = cuda_median(lambda: obj.value_and_grad(theta))
    t_torch = cuda_median(torch_two_pass)
    floor = min(t_sum, t_gemv)
    report["loss_grad"] = {"read_sum_s": t_sum, "read_gemv_s": t_gemv,
                           "vlogreg_s": t_obj, "torch_two_pass_s": t_torch,
                           "vlogreg_vs_read": t_obj / floor,
                           "torch_vs_read": t_torch / floor}

    # fits: a tight reference on the GPU, then time to a gap of 1e-6
    ref = LogisticRegression(solver="newton", tol=1e-10, max_iter=50).fit(X, y)
    f_star = obj.value(obj.pack(ref.coef_[0], ref.intercept_[0]))
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model = LogisticRegression(solver="lbfgs", tol=1e-6, max_iter=1000).fit(X, y)
    torch.cuda.synchronize()
    t_fit = time.perf_counter() - t0
    gap = (obj.value(obj.pack(model.coef_[0], model.intercept_[0])) - f_star) / f_star

    wt = torch.zeros(args.n, device="cuda", requires_grad=True)
    bt = torch.zeros(1, device="cuda", requires_grad=True)
    opt = torch.optim.LBFGS([wt, bt], lr=1, max_iter=1000, tolerance_grad=1e-7,
                            tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(X @ wt + bt, yt) \
            + 0.5 / args.m * (wt * wt).sum()
        loss.backward()
        return loss

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    opt.step(closure)
    torch.cuda.synchronize()
    t_torch_fit = time.perf_counter() - t0
    gap_torch = (obj.value(np.concatenate([wt.detach().cpu().numpy(),
                                           bt.detach().cpu().numpy()])) - f_star) / f_star
    cpu = LogisticRegression(solver="lbfgs", tol=1e-6, max_iter=1000).fit(
        X[:2_000_000].cpu().numpy(), y[:2_000_000])
    gpu_small = LogisticRegression(solver="lbfgs", tol=1e-6, max_iter=1000).fit(
        X[:2_000_000], y[:2_000_000])
    report["fit"] = {"vlogreg_s": t_fit, "vlogreg_gap": gap, "vlogreg_iters":
                     int(model.n_iter_[0]), "torch_lbfgs_s": t_torch_fit,
                     "torch_gap": gap_torch,
                     "coef_max_rel_diff_gpu_vs_cpu_2M": float(
                         np.abs(gpu_small.coef_ - cpu.coef_).max()
                         / np.abs(cpu.coef_).max())}
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
