"""benchmarks/gpu_check.py runs end to end without a GPU (its --dry-run), so the one
run it gets on a GPU machine is not spent on a bug in the script itself."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu_check.py")


def _run(tmp_path, *args):
    out = tmp_path / "gpu_check.json"
    env = {k: v for k, v in os.environ.items()
           if k not in ("TRITON_INTERPRET", "VLOGREG_KERNEL", "OUT")}
    proc = subprocess.run([sys.executable, SCRIPT, "--out", str(out), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_without_a_gpu_it_says_so_and_succeeds(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the real run is gpu_check.py's job")
    proc, report = _run(tmp_path, "--skip-tests")
    assert proc.returncode == 0, proc.stderr
    assert "no CUDA GPU" in proc.stdout
    assert report["cuda"] is False and "loss_grad_float32" not in report


def test_dry_run_end_to_end(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    pytest.importorskip("array_api_compat")
    proc, report = _run(tmp_path, "--dry-run", "--m", "1000", "--n", "8", "--repeat", "7",
                        "--cpu-rows", "1000")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert report["dry_run"] is True and not any(k.startswith("error") for k in report)
    cases = {"read_sum", "read_gemv", "fused_kernel", "fused_objective",
             "vlogreg_two_pass", "torch_two_pass", "fused_hessp", "two_pass_hessp",
             "multinomial10_fused", "multinomial10_two_pass"}
    for name, rtol in (("float32", 1e-5), ("float64", 1e-12)):
        r = report[f"loss_grad_{name}"]
        assert r["shape"] == [1000, 8] and cases <= set(r["median_s"])
        assert all(len(v) == 7 and min(v) > 0 for v in r["all_s"].values())
        assert len(r["tuning_vs_read"]) == 2  # the tuning sweep ran (two cases in a dry run)
        for what, diff in r["fused_vs_two_pass_rel_diff"].items():
            assert diff <= rtol, (name, what, diff)
    fit = report["fit_float32"]
    assert fit["vlogreg_kernel_calls"] > 0  # the fit went through the kernel
    assert 0 <= fit["vlogreg_gap"] <= 1e-6
    assert abs(fit["torch_gap"]) < 1e-3  # torch's L-BFGS ran to a sensible point
    # 1e-5 is the GPU target on 2M rows; on 1000 rows two float32 fits end up to ~1e-4
    # apart (each within float32's noise of the float64 optimum: z = x . w's rounding
    # no longer averages out), measured for the CPU kernel and the Triton kernel alike
    assert fit["coef_max_rel_diff_gpu_vs_cpu"] <= 1e-3
