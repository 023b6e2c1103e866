"""``vlogreg train`` streams the data from disk when it is larger than the memory budget."""

import json
import os
import subprocess
import sys

import numpy as np
from sklearn.datasets import make_classification

import vlogreg


def _train(cwd, *args, budget=None):
    env = dict(os.environ)
    env.pop("VLOGREG_MEMORY_BUDGET", None)
    if budget:
        env["VLOGREG_MEMORY_BUDGET"] = budget
    return subprocess.run([sys.executable, "-m", "vlogreg", "train", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=120)


def test_npy_above_the_budget_is_streamed_with_the_same_model(tmp_path):
    X, y = make_classification(n_samples=20_000, n_features=10, random_state=0)
    np.save(tmp_path / "d.npy", np.column_stack([X, y]))
    r = _train(tmp_path, "d.npy", "--target", "-1", "--model", "oc.vlogreg", "--json",
               budget="100K")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["out_of_core"] and out["memory_budget"] == 100 * 1024
    assert out["data_bytes"] > out["memory_budget"]
    r2 = _train(tmp_path, "d.npy", "--target", "-1", "--model", "mem.vlogreg", "-q")
    assert r2.returncode == 0, r2.stderr
    a, b = vlogreg.load(tmp_path / "oc.vlogreg"), vlogreg.load(tmp_path / "mem.vlogreg")
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=1e-12)
    text = _train(tmp_path, "d.npy", "--target", "-1", "--model", "oc.vlogreg",
                  budget="100K")
    assert "above the memory budget of 100.00 KiB" in text.stdout


def test_options_that_need_memory_are_refused_when_streaming(tmp_path):
    X, y = make_classification(n_samples=5_000, n_features=5, random_state=0)
    np.save(tmp_path / "d.npy", np.column_stack([X, y]))
    for flags in (["--threshold", "0.5"], ["--inference", "--cov-type", "cluster",
                                             "--groups", "x0"]):
        r = _train(tmp_path, "d.npy", "--target", "-1", *flags, "--model", "m.vlogreg",
                   budget="10K")
        assert r.returncode == 2 and "memory budget" in r.stderr, (flags, r.stderr)
        assert "Traceback" not in r.stderr


def test_streamed_inference_equals_the_in_memory_one(tmp_path):
    # --inference on data above the budget: the standard errors summed chunk by chunk
    # equal those of the same file read whole (which test_cli_inference checks against
    # statsmodels)
    X, y = make_classification(n_samples=6_000, n_features=4, n_redundant=0,
                               random_state=1)
    np.save(tmp_path / "d.npy", np.column_stack([X, y]))
    for name, budget in (("oc", "50K"), ("mem", None)):
        r = _train(tmp_path, "d.npy", "--target", "-1", "--penalty", "none",
                   "--inference", "--cov-type", "HC0", "--tol", "1e-10",
                   "--model", f"{name}.vlogreg", "--json", budget=budget)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert out["inference"] and out.get("out_of_core", False) == (name == "oc")
    a = vlogreg.io.read_model_file(tmp_path / "oc.vlogreg").summary()
    b = vlogreg.io.read_model_file(tmp_path / "mem.vlogreg").summary()
    assert a.cov_type == b.cov_type == "HC0"
    np.testing.assert_allclose(a.std_err, b.std_err, rtol=1e-6)
    np.testing.assert_allclose(a.log_likelihood, b.log_likelihood, rtol=1e-9)


def test_bad_budget_is_a_clear_error(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((4, 3)))
    r = _train(tmp_path, "d.npy", "--target", "-1", "--model", "m.vlogreg", budget="lots")
    assert r.returncode == 2 and "VLOGREG_MEMORY_BUDGET" in r.stderr
