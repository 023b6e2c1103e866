"""Readable output for many classes (issue 18, item 8): with 7 classes and long
names, ``train``, ``inspect`` and ``evaluate`` keep every line within 100 characters
(tables in blocks of columns, one block per class for the inference table) and lose
no number or name on the way.

The CLI runs as a subprocess; the numbers looked for are the model's own, read back
with ``vlogreg.load`` and formatted here.
"""

import subprocess
import sys

import numpy as np
import pytest

import vlogreg

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

COVER = ["Spruce/Fir", "Lodgepole Pine", "Ponderosa Pine", "Cottonwood/Willow", "Aspen",
         "Douglas-fir", "Krummholz"]
FEATURES = ["Elevation", "Horizontal_Distance_To_Hydrology", "Vertical_Distance_To_Roadways",
            "Hillshade_9am", "Slope"]


def _vlogreg(args, cwd):
    proc = subprocess.run([sys.executable, "-m", "vlogreg", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(7)
    m = 1400
    X = rng.normal(size=(m, len(FEATURES)))
    W = rng.normal(size=(len(FEATURES), len(COVER))) * 1.5
    y = np.array(COVER)[np.argmax(X @ W + rng.gumbel(size=(m, len(COVER))), axis=1)]
    pd.DataFrame(X, columns=FEATURES).assign(cover=y).to_csv(d / "cover.csv", index=False)
    pd.DataFrame(X, columns=FEATURES).assign(cover=y == "Aspen").to_csv(d / "aspen.csv",
                                                                         index=False)
    return d


def _narrow(text):
    wide = [line for line in text.splitlines() if len(line) > 100]
    assert not wide, f"{len(wide)} lines over 100 characters, e.g. {wide[0]!r}"


def test_seven_classes_fit_in_100_columns(work):
    out = _vlogreg(["train", "cover.csv", "--target", "cover", "--model", "c.vlogreg"], work)
    _narrow(out)
    out = _vlogreg(["inspect", "c.vlogreg"], work)
    _narrow(out)
    model = vlogreg.load(work / "c.vlogreg")
    for name in FEATURES + COVER:
        assert name in out
    for v in np.concatenate([model.intercept_, model.coef_.ravel()]):
        assert f"{v:.6g}" in out  # every coefficient, untruncated
    out = _vlogreg(["evaluate", "c.vlogreg", "cover.csv"], work)
    _narrow(out)
    df = pd.read_csv(work / "cover.csv")
    pred = model.predict(df[FEATURES].to_numpy())
    cm = pd.crosstab(df["cover"], pred)
    # the confusion matrix's cells, block by block: each row label's counts in order
    block = out.split("confusion matrix")[1]
    got = {c: [] for c in COVER}
    for line in block.splitlines():
        for c in COVER:
            rest = line.strip()[len(c):].split()
            if line.strip().startswith(c) and rest and all(v.isdigit() for v in rest):
                got[c] += [int(v) for v in rest]
    for c in COVER:
        assert got[c] == [int(cm.loc[c].get(k, 0)) for k in sorted(COVER)], c


@pytest.mark.parametrize("data,target", [("cover.csv", "cover"), ("aspen.csv", "cover")])
def test_inference_tables_fit_in_100_columns(work, data, target):
    out = _vlogreg(["train", data, "--target", target, "--penalty", "none", "--inference",
                    "--model", "i.vlogreg"], work)
    _narrow(out)
    out = _vlogreg(["inspect", "i.vlogreg"], work)
    _narrow(out)
    summary = vlogreg.io.read_model_file(work / "i.vlogreg").summary()
    for name in summary.names:
        assert str(name).split(":")[-1] in out
    for v in list(summary.coef) + list(summary.odds_ratio):
        assert f"{v:.4f}" in out or f"{v:.3e}" in out
    assert out.count("odds ratio") >= 1
