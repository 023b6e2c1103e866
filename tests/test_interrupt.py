"""Interrupted training loses nothing: SIGINT / SIGTERM write a checkpoint atomically,
``--resume`` ends with the same model; checkpoint and model writes are atomic."""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification

import vlogreg
from vlogreg.io.checkpoint import atomic_write, load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("interrupt")
    X, y = make_classification(n_samples=2000, n_features=15, random_state=0)
    np.savez(d / "d.npz", X=X, y=y)
    return d


def _train(d, *extra, signal_at=None):
    env = dict(os.environ)
    env.pop("VLOGREG_TEST_SIGNAL_AT", None)
    if signal_at:
        env["VLOGREG_TEST_SIGNAL_AT"] = signal_at
    return subprocess.run([sys.executable, "-m", "vlogreg", "train", "d.npz", "--max-iter",
                           "500", "--tol", "1e-8", "-q", *extra], cwd=d, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("solver, exact", [("gd", True), ("agd", True), ("newton", True),
                                           ("lbfgs", False)])
def test_sigint_checkpoint_and_resume(data, solver, exact):
    full = _train(data, "--solver", solver, "--model", f"full-{solver}.vlogreg")
    assert full.returncode == 0, full.stderr
    cut = _train(data, "--solver", solver, "--model", f"cut-{solver}.vlogreg",
                 signal_at="3:INT")
    assert cut.returncode == 130
    ckpt = data / f"cut-{solver}.vlogreg.ckpt"
    assert ckpt.exists() and not (data / f"cut-{solver}.vlogreg").exists()
    assert "SIGINT" in cut.stderr and f"--resume {ckpt.name}" in cut.stderr
    assert "Traceback" not in cut.stderr
    state, run = load_checkpoint(ckpt)
    assert state["n_iter"] == 3 and run["options"]["solver"] == solver
    resumed = _train(data, "--solver", solver, "--model", f"cut-{solver}.vlogreg",
                     "--resume", ckpt.name)
    assert resumed.returncode == 0, resumed.stderr
    a = vlogreg.load(data / f"full-{solver}.vlogreg")
    b = vlogreg.load(data / f"cut-{solver}.vlogreg")
    if exact:  # deterministic solvers: bit-identical, same iteration count
        assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
        assert a.n_iter_[0] == b.n_iter_[0]
    else:  # L-BFGS restarts its memory: the same optimum, to the tolerance
        np.testing.assert_allclose(b.coef_, a.coef_, rtol=1e-5, atol=1e-6)


def test_sigterm_exits_143_with_a_checkpoint(data):
    r = _train(data, "--solver", "gd", "--model", "term.vlogreg", "--checkpoint",
               "mine.ckpt", signal_at="2:TERM")
    assert r.returncode == 143 and (data / "mine.ckpt").exists()
    assert "SIGTERM" in r.stderr


def test_resume_refuses_another_run(data):
    r = _train(data, "--solver", "gd", "--model", "x.vlogreg", signal_at="2:INT")
    assert r.returncode == 130
    other = _train(data, "--solver", "gd", "--C", "2", "--model", "x.vlogreg", "--resume",
                   "x.vlogreg.ckpt")
    assert other.returncode == 2 and "another run" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1 and "Traceback" not in other.stderr


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04truncated"])
def test_corrupt_checkpoint_is_refused(data, content):
    (data / "bad.ckpt").write_bytes(content)
    r = _train(data, "--solver", "gd", "--model", "y.vlogreg", "--resume", "bad.ckpt")
    assert r.returncode == 2 and "checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_checkpoint_round_trip_and_tampering(tmp_path):
    state = {"x": np.arange(4.0), "y": np.ones(4), "t": 0.5, "momentum": 2.0, "n_iter": 7,
             "history": [3.0, 2.0, 1.0]}
    save_checkpoint(tmp_path / "c.ckpt", state, {"k": 1})
    back, run = load_checkpoint(tmp_path / "c.ckpt")
    assert run == {"k": 1} and back["n_iter"] == 7 and back["history"] == [3.0, 2.0, 1.0]
    assert np.array_equal(back["x"], state["x"]) and back["t"] == 0.5
    import zipfile
    with zipfile.ZipFile(tmp_path / "c.ckpt", "a") as zf:
        zf.writestr("evil.pkl", b"\x80\x04K\x01.")
    with pytest.raises(ValueError, match="unexpected members"):
        load_checkpoint(tmp_path / "c.ckpt")


def test_atomic_write_leaves_nothing_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")

    def boom(*a):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(target), b"new content")
    assert target.read_bytes() == b"old"            # the old file is intact
    assert os.listdir(tmp_path) == ["model.bin"]    # and no temporary is left


def test_model_save_is_atomic(tmp_path, monkeypatch):
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    model = vlogreg.LogisticRegression().fit(X, y)
    path = tmp_path / "m.vlogreg"
    vlogreg.save(model, path)
    before = path.read_bytes()

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        vlogreg.save(vlogreg.LogisticRegression(C=0.1).fit(X, y), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.vlogreg"]


def test_second_signal_ends_at_once():
    # the handler re-raises a second signal with the default action
    from vlogreg.cli.train import Interruption

    with Interruption() as intr:
        intr._handle(signal.SIGINT, None)
        assert intr.signum == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):
            intr._handle(signal.SIGINT, None)
