"""Hostile checkpoints, numbers and parameters (issue #14): a one-line error or the
right answer, never a traceback from inside a solver and never NaN coefficients.

Classes covered: 9 (tampered checkpoints, in Python and on the command line), 10
(extreme but finite weights and C: the rescaled fit equals the fit of the same problem
at ordinary scale), 11 (parameters accepted but wrong), 13 (labels with missing values
or mixed types, a ragged non-UTF-8 CSV row).
"""

import io
import json
import math
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import make_classification

from vlogreg import LogisticRegression
from vlogreg.cli import main
from vlogreg.io.checkpoint import load_checkpoint, save_checkpoint

SOLVERS = ["gd", "agd", "lbfgs", "newton"]


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=200, n_features=5, random_state=0)


def _one_line(exc_info, *match):
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    for m in match:
        assert m in msg, msg
    return msg


# ------------------------------------------------------------------ 9. checkpoints
def _state(data, solver):
    X, y = data
    saved = {}

    def stop(state):
        if state.n_iter == 3:
            saved.update(state.state)
            return True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression(solver=solver, tol=1e-10, max_iter=200, callback=stop).fit(X, y)
    return saved


def _rewrite(path, out, json_fn=None, members=None):
    """A copy of checkpoint ``path`` with its JSON or members changed."""
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    if json_fn is not None:
        items["checkpoint.json"] = json_fn(json.loads(items["checkpoint.json"]))
    items.update(members or {})
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in items.items():
            zf.writestr(n, b if isinstance(b, bytes) else json.dumps(b))
    return out


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


TAMPER = {
    "json is a list": lambda m: [1, 2],
    "json is a string": lambda m: "checkpoint",
    "no run": lambda m: {k: v for k, v in m.items() if k != "run"},
    "run is a list": lambda m: {**m, "run": [1]},
    "scalars is a list": lambda m: {**m, "scalars": [1]},
    "scalar is a string": lambda m: {**m, "scalars": {**m["scalars"], "n_iter": "3"}},
    "scalar is a bool": lambda m: {**m, "scalars": {**m["scalars"], "n_iter": True}},
    "scalar is huge": lambda m: {**m, "scalars": {**m["scalars"], "t": 1e400}},
    "arrays is a list": lambda m: {**m, "arrays": ["x"]},
    "shape is a string": lambda m: {**m, "arrays": {**m["arrays"], "x": "6"}},
    "shape is negative": lambda m: {**m, "arrays": {**m["arrays"], "x": [-6]}},
    "shape is wrong": lambda m: {**m, "arrays": {**m["arrays"], "x": [7]}},
    "lists names nothing": lambda m: {**m, "lists": ["nothing"]},
    "lists is a dict": lambda m: {**m, "lists": {"history": 1}},
    "extra field": lambda m: {**m, "pickle": "cos\nsystem\n"},
    "newer version": lambda m: {**m, "format_version": 2},
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_tampered_checkpoint_json_is_one_line(data, tmp_path, case):
    save_checkpoint(tmp_path / "c.ckpt", _state(data, "gd"), {"data": "d"})
    bad = _rewrite(tmp_path / "c.ckpt", tmp_path / "bad.ckpt",
                   json_fn=lambda m: json.dumps(TAMPER[case](m)).encode())
    with pytest.raises(ValueError) as info:
        load_checkpoint(bad)
    _one_line(info, "bad.ckpt", "not a readable vlogreg checkpoint")


@pytest.mark.parametrize("member, value", [
    ("x.npy", np.full(6, np.nan)), ("y.npy", np.array([0, 0, np.inf, 0, 0, 0])),
    ("x.npy", np.zeros(6, dtype=np.float32)), ("x.npy", np.zeros((6, 1))),
    ("history.npy", np.array([np.nan])), ("x.npy", np.array(["a"] * 6)),
])
def test_bad_checkpoint_arrays_are_one_line(data, tmp_path, member, value):
    save_checkpoint(tmp_path / "c.ckpt", _state(data, "gd"), {})
    bad = _rewrite(tmp_path / "c.ckpt", tmp_path / "bad.ckpt", members={member: _npy(value)})
    with pytest.raises(ValueError) as info:
        load_checkpoint(bad)
    _one_line(info, "bad.ckpt")


def test_corrupted_deflate_data_and_truncation_are_one_line(data, tmp_path):
    save_checkpoint(tmp_path / "c.ckpt", _state(data, "agd"), {})
    raw = bytearray((tmp_path / "c.ckpt").read_bytes())
    with zipfile.ZipFile(tmp_path / "c.ckpt") as zf:
        info = zf.getinfo("x.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start, start + info.compress_size):  # scramble the deflate stream
        raw[i] ^= 0x5A
    (tmp_path / "deflate.ckpt").write_bytes(bytes(raw))
    for name, content in [("deflate.ckpt", None),
                          ("half.ckpt", bytes(raw[:len(raw) // 2])),
                          ("empty.ckpt", b""), ("text.ckpt", b"not a zip")]:
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError) as info:
            load_checkpoint(tmp_path / name)
        _one_line(info, name)


@pytest.mark.parametrize("solver", SOLVERS)
def test_resume_state_is_checked_against_the_solver(data, solver):
    X, y = data
    state = _state(data, solver)
    n = X.shape[1] + 1
    needs = ["x", "n_iter", "history"] + (["y", "t", "momentum"] if "gd" in solver else [])
    for key in needs:
        broken = {k: v for k, v in state.items() if k != key}
        with pytest.raises(ValueError) as info:
            LogisticRegression(solver=solver).fit(X, y, resume_from=broken)
        _one_line(info, repr(key))
    changes = {"x": np.full(n, np.nan), "n_iter": -1, "history": [],
               "y": np.zeros(n + 1), "t": 0.0, "momentum": math.inf}
    for key, value in changes.items():
        if key not in needs:
            continue
        with pytest.raises(ValueError) as info:
            LogisticRegression(solver=solver).fit(X, y, resume_from={**state, key: value})
        _one_line(info, repr(key))
    with pytest.raises(ValueError) as info:
        LogisticRegression(solver=solver).fit(X, y, resume_from=[1, 2])
    _one_line(info, "dict")
    # the genuine state resumes
    LogisticRegression(solver=solver, max_iter=500).fit(X, y, resume_from=state)


def test_cli_resume_from_a_tampered_checkpoint(data, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X, y = data
    pd.DataFrame(X, columns=list("abcde")).assign(y=y).to_csv(tmp_path / "d.csv",
                                                              index=False)
    save_checkpoint(tmp_path / "c.ckpt", _state(data, "gd"), {})
    bad = _rewrite(tmp_path / "c.ckpt", tmp_path / "bad.ckpt",
                   json_fn=lambda m: json.dumps({**m, "scalars": []}).encode())
    assert main(["train", str(tmp_path / "d.csv"), "--target", "y", "--model",
                 str(tmp_path / "m.vlogreg"), "--resume", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.ckpt" in err and "Traceback" not in err


# ------------------------------------------------------------------ 10. extreme numbers
def _fit(X, y, **kw):
    sw = kw.pop("sample_weight", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(tol=1e-10, max_iter=2000, **kw).fit(X, y,
                                                                      sample_weight=sw)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("k, c", [(1000, -1000), (-1000, 1000), (1020, -1020),
                                  (-1060, 1023), (1023, -30), (-1074, 1023)])
def test_power_of_two_weights_give_the_same_fit_bit_for_bit(data, solver, k, c):
    """Weights 2**k with C = 2**c are the problem of weights 1 with C = 2**(k + c) (the
    optimum depends on C * S only): the same coefficients, bit for bit, where the sum
    of the weights overflows (k = 1020, 1023) or they are subnormal (k = -1060, -1074)."""
    X, y = data
    ref = _fit(X, y, solver=solver, C=math.ldexp(1.0, k + c))
    got = _fit(X, y, solver=solver, C=math.ldexp(1.0, c),
               sample_weight=np.full(len(y), math.ldexp(1.0, k)))
    assert np.isfinite(got.coef_).all()
    np.testing.assert_array_equal(got.coef_, ref.coef_)
    np.testing.assert_array_equal(got.intercept_, ref.intercept_)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("w", [1e308, 1e-320, 3e-310, 1.7e308])
def test_extreme_weights_unpenalized_equal_unit_weights(data, solver, w):
    """Without a penalty the optimum does not depend on a common factor of the weights:
    weights of 1e308 (their sum overflows) and 1e-320 (subnormal) fit as weights of 1."""
    X, y = data
    X = X[:, :3]  # not separable: a finite optimum for every solver to reach
    ref = _fit(X, y, solver=solver, penalty=None)
    got = _fit(X, y, solver=solver, penalty=None, sample_weight=np.full(len(y), w))
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-7, atol=1e-9)


def test_mixed_extreme_weights_match_the_rescaled_problem(data):
    X, y = data
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 2.0, len(y))
    ref = _fit(X, y, solver="newton", C=0.5, sample_weight=base)
    # every weight times 2**1000, C divided by it: the same problem
    got = _fit(X, y, solver="newton", C=math.ldexp(0.5, -1000),
               sample_weight=np.ldexp(base, 1000))
    np.testing.assert_array_equal(got.coef_, ref.coef_)
    # and times 1e300 (not a power of two): the same optimum to rounding
    got = _fit(X, y, solver="newton", C=0.5e-300, sample_weight=base * 1e300)
    np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-8)


@pytest.mark.parametrize("C, w", [(5e-324, 1.0), (1e-300, 1e-300), (1.0, 1e-320),
                                  (1e-5, 1e-310)])
def test_penalty_strength_beyond_float64_is_refused(data, C, w):
    X, y = data
    with pytest.raises(ValueError) as info:
        _fit(X, y, C=C, sample_weight=np.full(len(y), w))
    _one_line(info, "larger than float64", "raise C")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("C", [5e-324, 1e-300, 1e-10, 1.0, 1e300, math.inf])
@pytest.mark.parametrize("w", [1e-320, 1e-300, 1.0, 1e300, 1e308])
def test_never_nan(data, solver, C, w):
    X, y = data
    try:
        model = _fit(X[:50], y[:50], solver=solver, C=C,
                     sample_weight=np.full(50, w))
    except ValueError as exc:
        assert "\n" not in str(exc) and "float64" in str(exc)
        return
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()


def test_chunked_backend_refuses_an_overflowing_weight_sum(data):
    pytest.importorskip("dask")
    import dask.array as da

    X, y = data
    with pytest.raises(ValueError) as info:
        LogisticRegression().fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50),
                                 sample_weight=da.from_array(np.full(len(y), 1e308),
                                                             chunks=50))
    _one_line(info, "outside float64's normal range")


# ------------------------------------------------------------------ 11. parameters
@pytest.mark.parametrize("cw", [{0: -1}, {1: -1e-300}, {0: math.inf}, {0: math.nan},
                                {0: "2"}, {0: True}, {0: None}, {0: [1]}, {1: -math.inf}])
def test_bad_class_weight_values_are_named(data, cw):
    X, y = data
    with pytest.raises(ValueError) as info:
        LogisticRegression(class_weight=cw).fit(X, y)
    _one_line(info, f"class_weight[{next(iter(cw))!r}]", ">= 0")


def test_zero_class_weight_leaves_a_class_out_but_not_all(data):
    X, y = data
    LogisticRegression(class_weight={0: 0.0, 1: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="sums to 0"):
        LogisticRegression(class_weight={0: 0, 1: 0}).fit(X, y)


@pytest.mark.parametrize("name", ["fit_intercept", "warm_start"])
@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, 1.0, [True]])
def test_bool_parameters_must_be_bools(data, name, value):
    X, y = data
    with pytest.raises(ValueError) as info:
        LogisticRegression(**{name: value}).fit(X, y)
    _one_line(info, f"{name}={value!r}", "True or False")


def test_numpy_bools_are_bools(data):
    X, y = data
    model = LogisticRegression(fit_intercept=np.False_, warm_start=np.True_).fit(X, y)
    assert np.all(model.intercept_ == 0)


def test_learning_rate_true_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="learning_rate=True"):
        LogisticRegression(solver="gd", learning_rate=True).fit(X, y)


# ------------------------------------------------------------------ 13. labels, CSV rows
def _labels_cases():
    pd = pytest.importorskip("pandas")
    return {
        "None among str": (np.array(["a", None, "b"] * 10, dtype=object), "None", "row 1"),
        "None first": (np.array([None, "a", "b"] * 10, dtype=object), "None", "row 0"),
        "nan among str": (np.array(["a", "b", np.nan] * 10, dtype=object), "NaN", "row 2"),
        "float nan": (np.array([0.0, 1.0, np.nan] * 10), "NaN", "row 2"),
        "pandas NA": (pd.array(["a", "b", pd.NA] * 10, dtype="string"), "<NA>", "row 2"),
        "pandas NA Int64": (pd.array([0, pd.NA, 1] * 10, dtype="Int64"), "row 1", None),
        "NaT": (np.array(["a", pd.NaT, "b"] * 10, dtype=object), "NaT", "row 1"),
        "str and int": (np.array(["1", 1, "2"] * 10, dtype=object), "int, str", None),
    }


@pytest.mark.parametrize("case", ["None among str", "None first", "nan among str",
                                  "float nan", "pandas NA", "pandas NA Int64", "NaT",
                                  "str and int"])
def test_bad_labels_are_named(case):
    y, *match = _labels_cases()[case]
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError) as info:
        LogisticRegression().fit(X, y)
    msg = _one_line(info, *[m for m in match if m])
    assert "not supported between" not in msg and "ambiguous" not in msg


@pytest.mark.parametrize("row", [b"3,\xff\xfe,4,5\n", b"\xff,1\n", b"\x80\x81\x82\n"])
def test_ragged_non_utf8_csv_row_is_one_line(tmp_path, capsys, row):
    pytest.importorskip("pyarrow")
    (tmp_path / "r.csv").write_bytes(b"a,b,y\n1,2,0\n" + row + b"1,2,1\n")
    assert main(["train", str(tmp_path / "r.csv"), "--target", "y", "--model",
                 str(tmp_path / "m.vlogreg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Exception ignored" not in err, err
    assert "r.csv" in err
