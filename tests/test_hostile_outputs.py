"""Outputs and terminals under attack (issue #14): nothing the user has is lost, and
text from someone else's file cannot drive the terminal.

Classes covered: 2 (control characters in everything printed), 3 (the atomic writer:
O_EXCL / O_NOFOLLOW, planted symlinks), 6 (every output atomic: a failure midway
leaves the old file), 7 (an output that is an input is refused), 8 (temporary files of
a killed save are cleaned up by the next save). Commands run in-process through
``vlogreg.cli.main``, except the ``kill -9``, which needs a process to kill.
"""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification

import vlogreg
from vlogreg.cli import main
from vlogreg.cli._common import safe_text
from vlogreg.io import atomic as atomic_mod
from vlogreg.io.atomic import SUFFIX, atomic_write, remove_stale

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

#: what an attacker puts in names, labels and metadata
HOSTILE = ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "ok\n  accuracy   100.00 %", "a\rb",
           "x\x1b[8mhidden\x1b[0m", "rtl\u202eexe.txt", "nul\x00", "del\x7f", "c1\x9b31m",
           "line\u2028sep", "zero\u200bwidth", "bell\x07"]
#: a character a terminal may act on: everything but printable text and our newlines
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e"
                    "\u2060-\u2069\ufeff]")


def _files(tmp_path, n=120):
    """A training CSV whose column names and labels are all hostile."""
    X, y = make_classification(n_samples=n, n_features=4, random_state=0)
    names = [HOSTILE[0], HOSTILE[2], HOSTILE[5], HOSTILE[9]]
    labels = np.where(y == 1, HOSTILE[1], HOSTILE[4])
    df = pd.DataFrame(X, columns=names)
    df["target\x1b[31m"] = labels
    df.to_csv(tmp_path / "t.csv", index=False)
    return names


def _check_clean(text, where):
    bad = UNSAFE.search(text)
    assert bad is None, f"{where}: {bad.group()!r} at {bad.start()} in {text[:400]!r}"


# ------------------------------------------------------------------ 2. terminal safety
@pytest.mark.parametrize("value", HOSTILE)
def test_safe_text_leaves_nothing_a_terminal_acts_on(value):
    shown = safe_text(value)
    _check_clean(shown, "safe_text")
    assert "\n" not in shown and shown.isprintable()
    assert safe_text("plain é 日本 text") == "plain é 日本 text"  # readable text kept


def test_reports_escape_file_text(tmp_path, capsys):
    _files(tmp_path)
    model = tmp_path / "m\x1b[2J.vlogreg"
    commands = [
        ["train", str(tmp_path / "t.csv"), "--target", "target\x1b[31m", "--model",
         str(model), "--inference", "--penalty", "none"],
        ["inspect", str(model)],
        ["evaluate", str(model), str(tmp_path / "t.csv")],
        ["predict", str(model), str(tmp_path / "t.csv"), "--out", str(tmp_path / "p.csv")],
        ["inspect", str(model), "--json"],
    ]
    outputs = []
    for argv in commands:
        code = main(argv)
        out = capsys.readouterr()
        assert code == 0, (argv, out.err)
        _check_clean(out.out + out.err, argv[0])
        outputs.append(out.out)
    # no fake report line: "accuracy" appears once in each report, where we print it
    assert sum("accuracy" in line for line in outputs[2].splitlines()) == 1
    assert sum(line.lstrip().startswith("accuracy") for line in
               outputs[0].splitlines()) == 0   # train prints "training   accuracy"
    # the escaped names are there, readable
    assert "\\x1b]0;pwned\\x07" in outputs[1] and "\\x1b[2J" in outputs[1]
    # JSON keeps the exact values (escaped by JSON itself)
    import json
    assert HOSTILE[0] in json.loads(outputs[4])["feature_names"]


def test_inspect_escapes_forged_metadata(tmp_path, capsys):
    X, y = make_classification(n_samples=60, n_features=3, n_informative=2,
                               n_redundant=0, random_state=0)
    y = np.where(y == 1, "\x1b]2;title\x07", "b\x1b[?1049h")
    model = vlogreg.LogisticRegression(class_weight={"b\x1b[?1049h": 2.0}).fit(X, y)
    training = {"data": "\x1b[2Jdata.csv", "n_samples": "9\n  fake line", "metrics":
                {"accuracy": 0.5}, "time_s": 1.0}
    vlogreg.save(model, tmp_path / "m.vlogreg", feature_names=HOSTILE[:3],
                 training=training)
    assert main(["inspect", str(tmp_path / "m.vlogreg")]) == 0
    out = capsys.readouterr().out
    _check_clean(out, "inspect")
    assert not any(line.startswith("  fake line") for line in out.splitlines())


def test_error_lines_are_escaped(tmp_path, capsys):
    df = pd.DataFrame({"a\x1b]0;x\x07": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    df.to_csv(tmp_path / "t.csv", index=False)
    code = main(["train", str(tmp_path / "t.csv"), "--target", "no\x1b[2Jsuch",
                 "--model", str(tmp_path / "m.vlogreg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    _check_clean(err, "error")


# ------------------------------------------------------------------ 3 / 8. atomic writer
def test_atomic_write_refuses_a_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    target = tmp_path / "out.bin"
    monkeypatch.setattr(atomic_mod.secrets, "token_hex", lambda n: "0" * 12)
    planted = tmp_path / f".out.bin.{os.getpid()}-{'0' * 12}{SUFFIX}"
    planted.symlink_to(victim)
    with pytest.raises(FileExistsError):
        atomic_write(target, b"attacker wins?")
    assert victim.read_bytes() == b"precious" and not target.exists()
    assert planted.is_symlink()  # not ours: left alone


def test_atomic_write_replaces_a_symlinked_target_not_its_destination(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    (tmp_path / "out.csv").symlink_to(victim)
    atomic_write(tmp_path / "out.csv", b"new")
    assert victim.read_bytes() == b"precious"
    assert not (tmp_path / "out.csv").is_symlink()
    assert (tmp_path / "out.csv").read_bytes() == b"new"


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    stale = tmp_path / f".m.vlogreg.{dead}-{'a' * 12}{SUFFIX}"
    alive = tmp_path / f".m.vlogreg.{live}-{'b' * 12}{SUFFIX}"
    other = tmp_path / f".other.vlogreg.{dead}-{'c' * 12}{SUFFIX}"
    link = tmp_path / f".m.vlogreg.{dead}-{'d' * 12}{SUFFIX}"
    lookalike = tmp_path / f".m.vlogreg.{dead}-notrandom{SUFFIX}"
    for p in (stale, alive, other, lookalike):
        p.write_bytes(b"partial")
    (tmp_path / "keep.txt").write_bytes(b"keep")
    link.symlink_to(tmp_path / "keep.txt")
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    vlogreg.save(vlogreg.LogisticRegression().fit(X, y), tmp_path / "m.vlogreg")
    assert not stale.exists()                       # a dead process's: removed
    assert alive.exists() and other.exists()        # a live writer's, another target's
    assert lookalike.exists() and link.is_symlink()  # not our name, not a regular file
    assert (tmp_path / "keep.txt").read_bytes() == b"keep"
    assert remove_stale(tmp_path / "m.vlogreg") == []


def test_kill_9_during_a_save_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    X, y = make_classification(n_samples=50, n_features=4, random_state=0)
    path = tmp_path / "m.vlogreg"
    vlogreg.save(vlogreg.LogisticRegression().fit(X, y), path)
    before = path.read_bytes()
    script = (
        "import os, sys, time, numpy as np, vlogreg\n"
        "from vlogreg.io import atomic\n"
        "real = os.fsync\n"
        "def stall(fd):\n"
        "    print('writing', flush=True); time.sleep(60)\n"
        "atomic.os.fsync = stall\n"
        "X = np.random.default_rng(0).standard_normal((50, 4)); y = X[:, 0] > 0\n"
        "vlogreg.save(vlogreg.LogisticRegression(C=0.1).fit(X, y), sys.argv[1])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    left = [p for p in os.listdir(tmp_path) if p.endswith(SUFFIX)]
    assert len(left) == 1 and str(proc.pid) in left[0]  # what kill -9 leaves
    assert path.read_bytes() == before                  # the old model is intact
    vlogreg.save(vlogreg.LogisticRegression().fit(X, y), path)
    assert os.listdir(tmp_path) == ["m.vlogreg"]


# ------------------------------------------------------------------ 6. atomic outputs
@pytest.fixture()
def trained(tmp_path):
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    pd.DataFrame(X, columns=list("abcd")).assign(y=y).to_csv(tmp_path / "d.csv",
                                                             index=False)
    assert main(["train", str(tmp_path / "d.csv"), "--target", "y", "--model",
                 str(tmp_path / "m.vlogreg"), "-q"]) == 0
    return tmp_path


@pytest.mark.parametrize("out, fail_at", [("p.csv", "fsync"), ("p.parquet", "fsync"),
                                          ("p.csv", "replace"), ("p.csv", "write")])
def test_failed_prediction_write_keeps_the_old_file(trained, monkeypatch, capsys, out,
                                                    fail_at):
    d = trained
    (d / out).write_bytes(b"old predictions")

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")

    if fail_at == "write":  # midway through the rows
        import csv
        real = csv.writer

        class Writer:
            def __init__(self, fh):
                self.inner, self.n = real(fh), 0

            def writerow(self, row):
                self.inner.writerow(row)

            def writerows(self, rows):
                for row in rows:
                    self.n += 1
                    if self.n == 10:
                        disk_full()
                    self.inner.writerow(row)
        monkeypatch.setattr(csv, "writer", Writer)
    else:
        monkeypatch.setattr(atomic_mod.os, fail_at, disk_full)
    code = main(["predict", str(d / "m.vlogreg"), str(d / "d.csv"), "--out", str(d / out)])
    assert code == 2 and "No space left" in capsys.readouterr().err
    assert (d / out).read_bytes() == b"old predictions"
    assert not [p for p in os.listdir(d) if p.endswith(SUFFIX)]


def test_failed_plot_and_model_writes_keep_the_old_files(trained, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    d = trained
    (d / "plots").mkdir()
    for name in ("roc.png", "calibration.png", "learning_curve.png"):
        (d / "plots" / name).write_bytes(b"old plot")
    model = (d / "m.vlogreg").read_bytes()

    def disk_full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic_mod.os, "fsync", disk_full)
    assert main(["evaluate", str(d / "m.vlogreg"), str(d / "d.csv"), "--plots",
                 str(d / "plots")]) == 2
    assert main(["train", str(d / "d.csv"), "--target", "y", "--C", "0.1", "--model",
                 str(d / "m.vlogreg"), "-q"]) == 2
    capsys.readouterr()
    assert all((d / "plots" / n).read_bytes() == b"old plot" for n in os.listdir(d / "plots"))
    assert (d / "m.vlogreg").read_bytes() == model


# ------------------------------------------------------------------ 7. inputs kept
def _refused(argv, capsys, *kept):
    before = [p.read_bytes() for p in kept]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "same file" in err and "never writes over its inputs" in err, err
    assert [p.read_bytes() for p in kept] == before


def test_outputs_that_are_inputs_are_refused(trained, capsys):
    d = trained
    data, model = d / "d.csv", d / "m.vlogreg"
    (d / "link.csv").symlink_to(data)
    os.link(model, d / "hard.vlogreg")
    (d / "sub").mkdir()
    cases = [
        ["predict", str(model), str(data), "--out", str(data)],
        ["predict", str(model), str(data), "--out", str(model)],
        ["predict", str(model), str(data), "--out", str(d / "link.csv")],      # symlink
        ["predict", str(model), str(d / "link.csv"), "--out", str(data)],
        ["predict", str(model), str(data), "--out", str(d / "hard.vlogreg")],  # hard link
        ["predict", str(model), str(data), "--out", str(d / "sub" / ".." / "d.csv")],
        ["train", str(data), "--target", "y", "--model", str(data)],
        ["train", str(data), "--target", "y", "--model", str(d / "link.csv")],
        ["train", str(data), "--target", "y", "--model", str(model), "--checkpoint",
         str(data)],
        ["train", str(data), "--target", "y", "--model", str(model), "--checkpoint",
         str(model)],
    ]
    for argv in cases:
        _refused(argv, capsys, data, model)
    (d / "plots").mkdir()
    os.link(data, d / "plots" / "roc.png")
    _refused(["evaluate", str(model), str(data), "--plots", str(d / "plots")], capsys,
             data, model)


def test_writing_into_an_input_folder_is_refused(tmp_path, capsys):
    zarr = pytest.importorskip("zarr")
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    store = zarr.open(str(tmp_path / "d.zarr"), mode="w", shape=(40, 5), dtype="f8")
    store[:] = np.column_stack([X, y])
    assert main(["train", str(tmp_path / "d.zarr"), "--target", "-1", "--model",
                 str(tmp_path / "d.zarr" / "m.vlogreg")]) == 2
    assert "same file" in capsys.readouterr().err


def test_distinct_outputs_are_written(trained, capsys):
    d = trained
    assert main(["predict", str(d / "m.vlogreg"), str(d / "d.csv"), "--out",
                 str(d / "p.csv")]) == 0
    assert len(pd.read_csv(d / "p.csv")) == 80
    capsys.readouterr()


def test_predictions_to_a_terminal_are_escaped_and_to_a_pipe_exact(tmp_path, monkeypatch):
    import io

    _files(tmp_path)
    model = tmp_path / "m.vlogreg"
    assert main(["train", str(tmp_path / "t.csv"), "--target", "target\x1b[31m",
                 "--model", str(model), "-q"]) == 0

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, exact in [(Terminal(), False), (io.StringIO(), True)]:
        monkeypatch.setattr(sys, "stdout", stream)
        assert main(["predict", str(model), str(tmp_path / "t.csv"), "--out", "-"]) == 0
        monkeypatch.undo()
        text = stream.getvalue()
        if exact:  # a pipe or a file gets the labels as they are (CSV quotes them)
            assert HOSTILE[1] in text
        else:
            _check_clean(text.replace("\r\n", "\n"), "predict to a terminal")


def test_every_file_written_goes_through_the_atomic_writer():
    """No module but io/atomic.py opens a file for writing, saves a figure or a table
    to a path: they write into the file object atomic_write hands them. The one
    exception is not a user's output: _kernels/cache_stamp.py writes the stamp of
    numba's cache directory, below io's layer, by its own temporary file and
    os.replace."""
    from pathlib import Path

    src = Path(vlogreg.__file__).parent
    direct = re.compile(r"""open\([^)]*["'][wax]b?\+?["']|\.savefig\((?!fh\b)|"""
                        r"""write_table\([^,]+,(?!\s*fh\b)|np\.save[z]?\((?!member\b)|"""
                        r"""\.to_(csv|parquet)\(|write_(bytes|text)\(""")
    found = [f"{p.relative_to(src)}:{n}" for p in src.rglob("*.py")
             if p.name not in ("atomic.py", "cache_stamp.py")
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if direct.search(line.split("#")[0]) and "f\"" not in line
             and "f'" not in line]
    assert not found, found
