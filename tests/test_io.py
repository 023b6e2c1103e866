"""vlogreg.save / vlogreg.load: exact round trips and refusal of every damaged file."""

import io
import json
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import StandardScaler

import vlogreg
from vlogreg import io as vio

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[:, :8], y


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _labels(kind, y):
    """The integer labels y as str, int, bool (binary only) or float labels."""
    return {"str": np.array(["cat", "dog", "emu"])[y], "int": y * 10 - 7,
            "bool": y == 1, "float": y * 2.0 - 1.0, "object": np.array(["a", "bb", "c"],
                                                                 dtype=object)[y]}[kind]


def _assert_same_model(a, b, X):
    assert type(b) is vlogreg.LogisticRegression
    assert b.coef_.dtype == a.coef_.dtype and b.intercept_.dtype == a.intercept_.dtype
    np.testing.assert_array_equal(b.coef_, a.coef_)
    np.testing.assert_array_equal(b.intercept_, a.intercept_)
    assert b.classes_.dtype == a.classes_.dtype
    np.testing.assert_array_equal(b.classes_, a.classes_)
    # exact, not approximate: the same arrays give the same floating-point operations
    np.testing.assert_array_equal(b.predict(X), a.predict(X))
    np.testing.assert_array_equal(b.predict_proba(X), a.predict_proba(X))
    np.testing.assert_array_equal(b.decision_function(X), a.decision_function(X))
    assert b.get_params() == a.get_params()
    assert b.n_features_in_ == a.n_features_in_
    np.testing.assert_array_equal(b.n_iter_, a.n_iter_)
    assert (b.converged_, b.solver_) == (a.converged_, a.solver_)
    np.testing.assert_array_equal(b.loss_history_, np.asarray(a.loss_history_))
    assert b.loss_history_.dtype == np.float64  # kept as an array: no list of floats


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes, labels", [
    (2, "str"), (2, "int"), (2, "bool"), (2, "float"), (2, "object"),
    (3, "str"), (3, "int"), (3, "float"), (3, "object")])
def test_round_trip_predicts_exactly(tmp_path, cancer, iris, dtype, labels, n_classes):
    X, y = cancer if n_classes == 2 else iris
    X = X.astype(dtype)
    model = vlogreg.LogisticRegression(C=0.5, max_iter=200).fit(X, _labels(labels, y))
    path = vio.save(model, tmp_path / "m.vlogreg")
    loaded = vlogreg.load(path)
    _assert_same_model(model, loaded, X)
    assert not hasattr(loaded, "feature_names_in_")
    assert vio.read_model_file(path).metadata["feature_names"] == \
        [f"x{j}" for j in range(X.shape[1])]


def test_round_trip_keeps_feature_names_and_params(tmp_path, iris):
    X, y = iris
    df = pd.DataFrame(X, columns=["sepal length", "sepal width", "petal length", "width"])
    model = vlogreg.LogisticRegression(l1_ratio=0.0, C=np.inf,
                                       class_weight={0: 2.0, 1: 1.0, 2: 0.5},
                                       solver="lbfgs", tol=1e-7, max_iter=500).fit(df, y)
    loaded = vlogreg.load(vio.save(model, tmp_path / "m.vlogreg"))
    _assert_same_model(model, loaded, df)
    assert list(loaded.feature_names_in_) == list(df.columns)
    assert loaded.C == np.inf and loaded.class_weight == {0: 2.0, 1: 1.0, 2: 0.5}
    # the loaded model refits like the original (params are real params)
    refit = loaded.fit(df, y)
    np.testing.assert_allclose(refit.coef_, model.coef_, rtol=1e-6, atol=1e-8)


def test_explicit_feature_names_training_info_and_summary(tmp_path, cancer):
    from vlogreg.inference import summary

    X, y = cancer
    model = vlogreg.LogisticRegression(C=np.inf).fit(X[:, :3], y)
    s = summary(model, X[:, :3], y)
    names = ["radius", "texture", "perimeter"]
    info = {"data": "cancer.csv", "metrics": {"accuracy": 0.9}}
    path = vio.save(model, tmp_path / "m.vlogreg", feature_names=names, training=info,
                    summary=s)
    mf = vio.read_model_file(path)
    assert mf.metadata["feature_names"] == names and mf.metadata["training"] == info
    assert not hasattr(mf.model, "feature_names_in_")  # names given, model had none
    stored = mf.summary()
    for a in ("coef", "std_err", "z", "p_value", "ci_low", "ci_high"):
        np.testing.assert_array_equal(getattr(stored, a), getattr(s, a))
    assert list(stored.names) == list(s.names)
    assert (stored.kind, stored.alpha, stored.n_obs) == (s.kind, s.alpha, s.n_obs)
    assert "std err" in str(stored)


def test_save_is_atomic_and_deterministic(tmp_path, cancer, monkeypatch):
    X, y = cancer
    model = vlogreg.LogisticRegression().fit(X, y)
    path = tmp_path / "m.vlogreg"
    vio.save(model, path)
    first = path.read_bytes()
    vio.save(model, path)
    assert path.read_bytes() == first  # same model, same bytes (fixed member dates)
    assert os.listdir(tmp_path) == ["m.vlogreg"]

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(np.lib.format, "write_array", broken)
    other = vlogreg.LogisticRegression(C=0.01).fit(X, y)
    with pytest.raises(OSError, match="disk full"):
        vio.save(other, path)
    assert path.read_bytes() == first  # the old file is untouched
    assert os.listdir(tmp_path) == ["m.vlogreg"]  # and no temporary file is left


def test_save_refuses_what_it_cannot_store(tmp_path, cancer):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LogisticRegression as SkLogReg

    X, y = cancer
    with pytest.raises(NotFittedError):
        vio.save(vlogreg.LogisticRegression(), tmp_path / "m")
    with pytest.raises(TypeError, match="vlogreg.LogisticRegression"):
        vio.save(SkLogReg().fit(X, y), tmp_path / "m")
    model = vlogreg.LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="2 feature names given for 8"):
        vio.save(model, tmp_path / "m", feature_names=["a", "b"])
    with pytest.raises(ValueError):
        vio.save(model, tmp_path / "m", training={"x": float("nan")})
    from vlogreg.inference import summary

    s = summary(model, X, y)
    s.names = s.names[:-1]  # a table that does not fit the model: refused, not written
    with pytest.raises(ValueError, match="cannot be stored.*inference"):
        vio.save(model, tmp_path / "m", summary=s)
    assert not os.listdir(tmp_path)


# ------------------------------------------------------------------- refusals
@pytest.fixture()
def saved(tmp_path, iris):
    X, y = iris
    model = vlogreg.LogisticRegression().fit(X, y)
    return vio.save(model, tmp_path / "good.vlogreg")


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rewrite(path, *, meta=None, replace=None, drop=(), extra=None):
    """Copy of the model file at ``path`` with its metadata or members changed."""
    members = _members(path)
    if meta is not None:
        m = json.loads(members["metadata.json"])
        meta(m)
        members["metadata.json"] = json.dumps(m).encode()
    members.update(replace or {})
    for name in drop:
        del members[name]
    members.update(extra or {})
    out = os.path.join(os.path.dirname(path), "tampered.vlogreg")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


def _npy(arr, **kw):
    buf = io.BytesIO()
    np.save(buf, arr, **kw)
    return buf.getvalue()


def _refused(path, match):
    with pytest.raises(ValueError, match=match) as info:
        vlogreg.load(path)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_refuses_files_that_are_not_model_zips(tmp_path, saved):
    (tmp_path / "text.vlogreg").write_text("hello")
    _refused(tmp_path / "text.vlogreg", "not a readable vlogreg model file")
    (tmp_path / "empty.vlogreg").write_bytes(b"")
    _refused(tmp_path / "empty.vlogreg", "not a readable vlogreg model file")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        vlogreg.load(tmp_path / "absent.vlogreg")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hi")
    _refused(other, "no metadata.json")


@pytest.mark.parametrize("keep", [0.2, 0.5, 0.9, 0.99])
def test_refuses_truncated_files(saved, keep):
    data = open(saved, "rb").read()
    cut = os.path.join(os.path.dirname(saved), "cut.vlogreg")
    with open(cut, "wb") as fh:
        fh.write(data[:int(len(data) * keep)])
    _refused(cut, "corrupt or truncated")


def test_refuses_a_flipped_byte(saved):
    data = bytearray(open(saved, "rb").read())
    with zipfile.ZipFile(saved) as zf:
        info = zf.getinfo("coef.npy")
    data[info.header_offset + 30 + len("coef.npy") + 5] ^= 0xFF  # inside coef's data
    bad = os.path.join(os.path.dirname(saved), "flipped.vlogreg")
    open(bad, "wb").write(bytes(data))
    _refused(bad, "corrupt|not a valid|holds")


def test_refuses_wrong_versions_and_format(saved):
    msg = _refused(_rewrite(saved, meta=lambda m: m.update(format_version=2)), "newer vlogreg")
    assert "upgrade vlogreg" in msg
    _refused(_rewrite(saved, meta=lambda m: m.update(format_version=0)), "format_version")
    _refused(_rewrite(saved, meta=lambda m: m.update(format_version="1")), "format_version")
    _refused(_rewrite(saved, meta=lambda m: m.update(format="other")), "not a vlogreg model")
    _refused(_rewrite(saved, meta=lambda m: m.update(surprise=1)), "unknown field.*surprise")
    _refused(_rewrite(saved, meta=lambda m: m.pop("fit")), "missing or unknown field.*fit")


def test_refuses_tampered_shapes(saved):
    def wider(m):
        m["arrays"]["coef"]["shape"] = [3, 5]
    _refused(_rewrite(saved, meta=wider), "arrays.coef must be listed with shape \\[3, 4\\]")

    def fewer_classes(m):
        m["classes"]["values"] = [0, 1]
    _refused(_rewrite(saved, meta=fewer_classes), "arrays.coef")
    # the member itself has another shape than the manifest says
    _refused(_rewrite(saved, replace={"coef.npy": _npy(np.zeros((4, 3)))}),
             "coef.npy holds float64 of shape \\(4, 3\\)")
    _refused(_rewrite(saved, replace={"coef.npy": _npy(np.zeros((300, 400)))}),
             "does not match its declared")


def test_refuses_other_dtypes(saved):
    _refused(_rewrite(saved, replace={"coef.npy": _npy(np.zeros((3, 4), dtype=np.int64))}),
             "holds int64")

    def int_manifest(m):
        m["arrays"]["coef"]["dtype"] = "int64"
    _refused(_rewrite(saved, meta=int_manifest), "arrays.coef must be")
    _refused(_rewrite(saved, replace={"intercept.npy": _npy(np.zeros(3, np.float32))}),
             "intercept.npy holds float32")


class _Boom:
    """Unpickling this would create a file: proof that nothing was unpickled."""

    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_refuses_pickles_without_running_them(saved, tmp_path):
    marker = tmp_path / "unpickled"
    _Boom.marker = str(marker)
    payload = pickle.dumps(_Boom())
    _refused(_rewrite(saved, replace={"coef.npy": payload}), "coef.npy is not a valid .npy")
    obj = np.empty((3, 4), dtype=object)
    obj[0, 0] = _Boom()
    _refused(_rewrite(saved, replace={"coef.npy": _npy(obj, allow_pickle=True)}),
             "holds object")
    _refused(_rewrite(saved, extra={"model.pkl": payload}), "unexpected member.*model.pkl")
    assert not marker.exists()


def test_refuses_extra_missing_and_duplicate_members(saved, tmp_path):
    _refused(_rewrite(saved, extra={"notes.txt": b"hi"}), "unexpected member.*notes.txt")
    _refused(_rewrite(saved, drop=["intercept.npy"]), "intercept.npy .* is missing")
    dup = tmp_path / "dup.vlogreg"
    members = _members(saved)
    with zipfile.ZipFile(dup, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("coef.npy", _npy(np.ones((3, 4))))
    _refused(dup, "duplicate members")


def test_refuses_huge_declared_sizes(saved, monkeypatch):
    def huge(m):
        m["arrays"]["loss_history"]["shape"] = [2**39]
    _refused(_rewrite(saved, meta=huge), "declare .* bytes, more than the limit")
    # a member that inflates far beyond its declared shape is refused before reading
    bomb = b"\0" * (64 * 2**20)
    _refused(_rewrite(saved, replace={"intercept.npy": bomb}), "does not match its declared")
    monkeypatch.setattr(vio, "MAX_METADATA_BYTES", 100)
    _refused(saved, "metadata.json declares .* more than the limit")


@pytest.mark.parametrize("change, match", [
    (lambda m: m["classes"].update(values=[2, 1, 0]), "distinct and sorted"),
    (lambda m: m["classes"].update(values=[0, 0, 1]), "distinct and sorted"),
    (lambda m: m["classes"].update(dtype="complex128"), "supported label type"),
    (lambda m: m["classes"].update(values=[0, 1, 2**70]), "fit their dtype"),
    (lambda m: m["params"].update(C=-1), "C=-1"),
    (lambda m: m["params"].update(penalty="l3"), "penalty"),
    (lambda m: m["params"].update(callback="os.system"), "params must be"),
    (lambda m: m["fit"].update(solver=["newton"]), "metadata field fit"),
    (lambda m: m.update(n_features=True), "n_features"),
    (lambda m: m.update(feature_names=["a"]), "feature_names"),
    (lambda m: m.update(inference={"names": []}), "inference"),
])
def test_refuses_tampered_metadata(saved, change, match):
    _refused(_rewrite(saved, meta=change), match)


def test_refuses_invalid_json_and_non_finite_values(saved):
    _refused(_rewrite(saved, replace={"metadata.json": b"{not json"}), "not valid UTF-8 JSON")
    _refused(_rewrite(saved, replace={"metadata.json": b"[" * 100000}), "not valid")
    text = _members(saved)["metadata.json"].replace(b'"C": 1.0', b'"C": NaN')
    _refused(_rewrite(saved, replace={"metadata.json": text}), "NaN")
    _refused(_rewrite(saved, replace={"coef.npy": _npy(np.full((3, 4), np.nan))}),
             "NaN or inf")


# ------------------------------------------------- scikit-learn 1.9's parameters
def test_new_constructor_params_round_trip(tmp_path, iris):
    """Every parameter of scikit-learn 1.9's signature is a stored param."""
    X, y = iris
    model = vlogreg.LogisticRegression(C=0.5, l1_ratio=0.5, dual=False, intercept_scaling=2.0,
                                       random_state=3, n_jobs=1, solver="saga",
                                       tol=1e-6, max_iter=2000).fit(X, y)
    loaded = vlogreg.load(vio.save(model, tmp_path / "m.vlogreg"))
    assert loaded.get_params() == model.get_params()
    _assert_same_model(model, loaded, X)


def test_random_state_instance_cannot_be_saved(tmp_path, iris):
    X, y = iris
    model = vlogreg.LogisticRegression(random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(ValueError, match="random_state.*integer seed") as info:
        vio.save(model, tmp_path / "m.vlogreg")
    assert "\n" not in str(info.value)


def test_old_files_without_the_new_params_still_load(saved, iris):
    """A file written before scikit-learn 1.9's parameters existed: penalty='l2',
    l1_ratio=None, and no dual / intercept_scaling / random_state / n_jobs keys."""
    X, _ = iris
    old = {"penalty": "l2", "C": 1.0, "l1_ratio": None, "fit_intercept": True, "tol": 1e-4,
           "max_iter": 100, "solver": "auto", "class_weight": None, "warm_start": False,
           "verbose": 0, "learning_rate": None}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading is silent, whatever the params say
        loaded = vlogreg.load(_rewrite(saved, meta=lambda m: m.__setitem__("params", old)))
    new = vlogreg.load(saved)
    assert {k: v for k, v in loaded.get_params().items() if k in old} == old
    np.testing.assert_array_equal(loaded.predict_proba(X), new.predict_proba(X))
