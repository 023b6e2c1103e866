"""course: the week-2 assignment's API, shapes and types, against hand-written formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vlogreg import course

# the assignment's own test values
W_T = np.array([[1.0], [2.0]])
B_T = 2.0
X_T = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
Y_T = np.array([[1, 0, 1]])


def textbook_propagate(w, b, X, Y):
    """The assignment's formulas, written out here (safe: small |z|)."""
    m = X.shape[1]
    A = 1.0 / (1.0 + np.exp(-(np.dot(w.T, X) + b)))
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    dw = np.dot(X, (A - Y).T) / m
    db = np.sum(A - Y) / m
    return dw, float(db), float(cost)


def seven_lines(w, b, X, Y, num_iterations, learning_rate):
    """The note's seven vectorized lines, in a plain loop: the independent oracle."""
    m = X.shape[1]
    costs = []
    for i in range(num_iterations):
        Z = np.dot(w.T, X) + b
        A = 1.0 / (1.0 + np.exp(-Z))
        dZ = A - Y
        dw = (1 / m) * np.dot(X, dZ.T)
        db = (1 / m) * np.sum(dZ)
        if i % 100 == 0:
            costs.append(float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m))
        w = w - learning_rate * dw
        b = b - learning_rate * db
    return w, b, dw, db, costs


def separable_ish(m=200, seed=0):
    rng = np.random.default_rng(seed)
    Y = (rng.random(m) < 0.5).astype(float)
    X = rng.standard_normal((2, m)) * 0.6 + np.where(Y == 1, 1.5, -1.5) * np.array([[1.0],
                                                                                     [0.5]])
    return X, Y.reshape(1, m)


# --------------------------------------------------------------------------- sigmoid
def test_sigmoid_assignment_values():
    out = course.sigmoid(np.array([0, 2]))
    np.testing.assert_allclose(out, [0.5, 1.0 / (1.0 + math.exp(-2.0))], rtol=1e-15)
    assert out.shape == (2,)
    z = np.linspace(-4, 4, 6).reshape(2, 3)
    np.testing.assert_allclose(course.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)


# --------------------------------------------------------------------------- initialize
def test_initialize_with_zeros():
    w, b = course.initialize_with_zeros(2)
    assert isinstance(w, np.ndarray)
    assert w.shape == (2, 1)
    assert w.dtype == np.float64
    assert np.all(w == 0)
    assert type(b) is float and b == 0.0  # the notebook asserts a plain float
    w1, _ = course.initialize_with_zeros(np.int64(1))
    assert w1.shape == (1, 1)


@pytest.mark.parametrize("dim, exc, match", [
    (0, ValueError, r"dim must be at least 1"),
    (-3, ValueError, r"dim must be at least 1"),
    (2.0, TypeError, r"dim must be an integer"),
    (True, TypeError, r"dim must be an integer"),
    ("2", TypeError, r"dim must be an integer"),
])
def test_initialize_with_zeros_bad_dim(dim, exc, match):
    with pytest.raises(exc, match=match):
        course.initialize_with_zeros(dim)


# --------------------------------------------------------------------------- propagate
def test_propagate_assignment_values():
    grads, cost = course.propagate(W_T, B_T, X_T, Y_T)
    assert set(grads) == {"dw", "db"}
    dw_ref, db_ref, cost_ref = textbook_propagate(W_T, B_T, X_T, Y_T)
    assert grads["dw"].shape == (2, 1)
    # the notebook's own assertion, before its tests run (np.float64 is a float too)
    assert type(grads["db"]) == np.float64 and isinstance(grads["db"], float)
    assert isinstance(cost, float)
    np.testing.assert_allclose(grads["dw"], dw_ref, rtol=1e-13)
    np.testing.assert_allclose(grads["db"], db_ref, rtol=1e-10)
    np.testing.assert_allclose(cost, cost_ref, rtol=1e-13)
    # the assignment notebook's published expected output
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], atol=1e-8)
    np.testing.assert_allclose(grads["db"], 0.00145557813678, atol=1e-12)
    np.testing.assert_allclose(cost, 5.801545319394553, rtol=1e-12)


def test_propagate_random_against_textbook():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 25))
    Y = rng.integers(0, 2, (1, 25))
    w = rng.standard_normal((4, 1))
    grads, cost = course.propagate(w, -0.3, X, Y)
    dw_ref, db_ref, cost_ref = textbook_propagate(w, -0.3, X, Y)
    np.testing.assert_allclose(grads["dw"], dw_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["db"], db_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cost, cost_ref, rtol=1e-12)


def test_propagate_cost_finite_where_textbook_is_not():
    # a confidently wrong example: the textbook cost is log(0) = -inf; the true one is 1000/1
    w = np.array([[1.0]])
    X = np.array([[1000.0]])
    grads, cost = course.propagate(w, 0.0, X, np.array([[0]]))
    assert cost == pytest.approx(1000.0, rel=1e-15)
    assert grads["dw"][0, 0] == pytest.approx(1000.0, rel=1e-15)
    assert grads["db"] == pytest.approx(1.0, rel=1e-15)


# --------------------------------------------------------------------------- optimize
def test_optimize_assignment_values_and_seven_line_oracle():
    params, grads, costs = course.optimize(W_T, B_T, X_T, Y_T, num_iterations=100,
                                           learning_rate=0.009, print_cost=False)
    assert set(params) == {"w", "b"} and set(grads) == {"dw", "db"}
    assert params["w"].shape == (2, 1) and isinstance(params["b"], float)
    assert grads["dw"].shape == (2, 1) and isinstance(grads["db"], float)
    w, b, dw, db, costs_ref = seven_lines(W_T, B_T, X_T, Y_T, 100, 0.009)
    np.testing.assert_allclose(params["w"], w, rtol=1e-12)
    np.testing.assert_allclose(params["b"], b, rtol=1e-12)
    np.testing.assert_allclose(grads["dw"], dw, rtol=1e-12)
    np.testing.assert_allclose(grads["db"], db, rtol=1e-12)
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-12)
    # the assignment notebook's published expected output
    np.testing.assert_allclose(params["w"], [[0.19033591], [0.12259159]], atol=1e-8)
    np.testing.assert_allclose(params["b"], 1.92535983008, atol=1e-10)
    np.testing.assert_allclose(grads["dw"], [[0.67752042], [1.41625495]], atol=1e-8)
    np.testing.assert_allclose(grads["db"], 0.219194504541, atol=1e-10)


@pytest.mark.parametrize("num_iterations", [1, 99, 100, 101, 250, 300])
def test_optimize_costs_every_100_iterations_and_decreasing(num_iterations):
    X, Y = separable_ish(60, seed=2)
    w0, b0 = course.initialize_with_zeros(2)
    params, grads, costs = course.optimize(w0, b0, X, Y, num_iterations=num_iterations,
                                           learning_rate=0.1)
    assert len(costs) == math.ceil(num_iterations / 100)
    assert all(isinstance(c, float) for c in costs)
    w, b, dw, db, costs_ref = seven_lines(w0, b0, X, Y, num_iterations, 0.1)
    np.testing.assert_allclose(costs, costs_ref, rtol=1e-12)
    np.testing.assert_allclose(params["w"], w, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(params["b"], b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["dw"], dw, rtol=1e-12, atol=1e-15)
    # the first cost is the cost at w = 0: log 2
    assert costs[0] == pytest.approx(math.log(2), rel=1e-15)
    assert all(c1 < c0 for c0, c1 in zip(costs, costs[1:]))


def test_optimize_zero_iterations_returns_start():
    params, grads, costs = course.optimize(W_T, B_T, X_T, Y_T, num_iterations=0)
    np.testing.assert_array_equal(params["w"], W_T)
    assert params["b"] == B_T
    assert costs == []


def test_optimize_does_not_mutate_callers_w():
    w = W_T.copy()
    X = X_T.copy()
    params, _, _ = course.optimize(w, B_T, X, Y_T, num_iterations=50, learning_rate=0.1)
    np.testing.assert_array_equal(w, W_T)
    np.testing.assert_array_equal(X, X_T)
    assert params["w"] is not w
    assert not np.shares_memory(params["w"], w)


def test_optimize_print_cost(capsys):
    course.optimize(W_T, B_T, X_T, Y_T, num_iterations=150, learning_rate=0.009,
                    print_cost=True)
    out = capsys.readouterr().out
    assert "Cost after iteration 0" in out
    assert "Cost after iteration 100" in out
    assert "Cost after iteration 200" not in out
    course.optimize(W_T, B_T, X_T, Y_T, num_iterations=150, print_cost=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kw, match", [
    (dict(num_iterations=-1), r"num_iterations must be a non-negative integer"),
    (dict(num_iterations=10.5), r"num_iterations must be a non-negative integer"),
    (dict(learning_rate=0.0), r"learning_rate must be a positive number"),
    (dict(learning_rate=-0.1), r"learning_rate must be a positive number"),
    (dict(learning_rate=float("nan")), r"learning_rate must be a positive number"),
    (dict(learning_rate=float("inf")), r"learning_rate must be a positive number"),
])
def test_optimize_bad_hyperparameters(kw, match):
    with pytest.raises(ValueError, match=match):
        course.optimize(W_T, B_T, X_T, Y_T, **kw)


@pytest.mark.parametrize("args, match", [
    ((np.zeros((3, 1)), 0.0, X_T, Y_T), r"w has shape \(3, 1\) but X has n_x = 2"),
    ((W_T, 0.0, X_T, np.array([[1, 0]])), r"X has m = 3 examples .* but Y has 2"),
    ((W_T, 0.0, X_T, np.array([[1, 0, 3]])), r"labels 0 and 1"),
    ((W_T, 0.0, np.array([[1.0, np.nan, 0.0], [0.0, 0.0, 0.0]]), Y_T), r"X contains NaN"),
])
@pytest.mark.parametrize("fn", ["propagate", "optimize"])
def test_propagate_and_optimize_bad_data(fn, args, match):
    with pytest.raises(ValueError, match=match):
        getattr(course, fn)(*args)


# --------------------------------------------------------------------------- predict
def test_predict_assignment_values():
    w = np.array([[0.1124579], [0.23106775]])
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    pred = course.predict(w, -0.3, X)
    assert pred.shape == (1, 3)
    assert pred.dtype == np.float64
    expected = (1 / (1 + np.exp(-(w.T @ X - 0.3))) > 0.5).astype(float)
    np.testing.assert_array_equal(pred, expected)
    np.testing.assert_array_equal(pred, [[1.0, 1.0, 0.0]])


def test_predict_threshold_is_strictly_above_one_half():
    X = np.array([[-1.0, 0.0, 1.0]])
    pred = course.predict(np.array([[1.0]]), 0.0, X)
    # sigmoid(0) = 0.5 is not > 0.5
    np.testing.assert_array_equal(pred, [[0.0, 0.0, 1.0]])
    assert set(np.unique(pred)) <= {0.0, 1.0}


def test_predict_bad_input():
    with pytest.raises(ValueError, match=r"w has shape \(3, 1\)"):
        course.predict(np.zeros((3, 1)), 0.0, X_T)
    with pytest.raises(ValueError, match=r"X contains inf"):
        course.predict(W_T, 0.0, np.array([[np.inf, 0.0], [0.0, 0.0]]))


# --------------------------------------------------------------------------- model
MODEL_KEYS = {"costs", "Y_prediction_test", "Y_prediction_train", "w", "b", "learning_rate",
              "num_iterations"}


def test_model_keys_shapes_and_accuracy():
    X, Y = separable_ish(200, seed=3)
    Xtr, Ytr, Xte, Yte = X[:, :150], Y[:, :150], X[:, 150:], Y[:, 150:]
    d = course.model(Xtr, Ytr, Xte, Yte, num_iterations=1000, learning_rate=0.5)
    assert set(d) == MODEL_KEYS
    assert d["Y_prediction_train"].shape == (1, 150)
    assert d["Y_prediction_test"].shape == (1, 50)
    assert d["Y_prediction_train"].dtype == np.float64
    assert set(np.unique(d["Y_prediction_train"])) <= {0.0, 1.0}
    assert d["w"].shape == (2, 1) and isinstance(d["b"], float)
    assert d["learning_rate"] == 0.5 and d["num_iterations"] == 1000
    assert len(d["costs"]) == 10
    train_acc = np.mean(d["Y_prediction_train"] == Ytr)
    test_acc = np.mean(d["Y_prediction_test"] == Yte)
    assert train_acc >= 0.95 and test_acc >= 0.9
    # the model is initialize -> the seven lines -> predict
    w, b, _, _, costs = seven_lines(np.zeros((2, 1)), 0.0, Xtr, Ytr, 1000, 0.5)
    np.testing.assert_allclose(d["w"], w, rtol=1e-10)
    np.testing.assert_allclose(d["b"], b, rtol=1e-10)
    np.testing.assert_allclose(d["costs"], costs, rtol=1e-10)
    np.testing.assert_array_equal(d["Y_prediction_test"],
                                  (1 / (1 + np.exp(-(w.T @ Xte + b))) > 0.5).astype(float))


def test_model_print_cost(capsys):
    X, Y = separable_ish(40, seed=4)
    course.model(X, Y, X, Y, num_iterations=101, learning_rate=0.1, print_cost=True)
    out = capsys.readouterr().out
    assert "Cost after iteration 0" in out and "Cost after iteration 100" in out
    assert "train accuracy" in out and "test accuracy" in out


@pytest.mark.parametrize("which, match", [
    ("X_test features", r"X_test has shape \(3, 5\) but X_train has n_x = 2"),
    ("X_train 1-D", r"X_train must have shape \(n_x, m_train\)"),
    ("Y_test labels", r"labels 0 and 1"),
    ("Y_test length", r"but Y_test has 4"),
    ("Y_train length", r"but Y_train has 9"),
    ("Y_train labels", r"labels 0 and 1"),
])
def test_model_bad_input_fails_before_training(which, match, capsys):
    X, Y = separable_ish(10, seed=5)
    args = {"X_train": X, "Y_train": Y, "X_test": X[:, :5], "Y_test": Y[:, :5]}
    if which == "X_test features":
        args["X_test"] = np.zeros((3, 5))
    elif which == "X_train 1-D":
        args["X_train"] = X[0]
    elif which == "Y_test labels":
        args["Y_test"] = np.array([[0, 1, 2, 0, 1]])
    elif which == "Y_test length":
        args["Y_test"] = Y[:, :4]
    elif which == "Y_train length":
        args["Y_train"] = Y[:, :9]
    elif which == "Y_train labels":
        args["Y_train"] = Y * 2
    with pytest.raises(ValueError, match=match):
        course.model(**args, num_iterations=200, print_cost=True)
    assert "Cost after iteration" not in capsys.readouterr().out


def test_model_error_names_the_test_set():
    X, Y = separable_ish(10, seed=5)
    with pytest.raises(ValueError, match=r"Y_test"):
        course.model(X, Y, X[:, :5], Y[:, :4], num_iterations=10)


# --------------------------------------------------------------- validation, once per call
@pytest.mark.parametrize("num_iterations", [1, 50])
def test_optimize_and_model_validate_once_per_call(monkeypatch, num_iterations):
    """Validating X (a NaN scan of n_x * m values) on every iteration made optimize
    ~1.4x slower than the learner's seven lines; now it happens once per argument."""
    calls = []
    check = course.check_finite

    def counting(a, name, *args, **kw):
        calls.append(name)
        return check(a, name, *args, **kw)

    monkeypatch.setattr(course, "check_finite", counting)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 30))
    Y = (rng.random((1, 30)) < 0.5).astype(float)
    w, b = course.initialize_with_zeros(5)
    params, grads, _ = course.optimize(w, b, X, Y, num_iterations, 0.1)
    assert calls.count("X") == 1
    assert type(grads["db"]) == np.float64 and type(params["b"]) is float
    calls.clear()
    course.model(X, Y, X[:, :7], Y[:, :7], num_iterations, 0.1)
    assert calls.count("X_train") == 1 and calls.count("X_test") == 1
    assert len(calls) == 6  # X, w, Y for the training set and for the test set
