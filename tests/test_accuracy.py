"""Local gradients where the textbook formula loses its digits: against mpmath at 50 digits.

Each case is a point where a formula such as 1-out**2 (tanh), exp(x-out) (logaddexp) or
1/sqrt(1-x**2) (asin) cancels, overflows or underflows in float64; the ops table's formulas
must stay within a few ulps there, one point and many points alike.
"""

import math

import mpmath
import numpy as np
import pytest

import cgcli

mpmath.mp.dps = 50
mp = mpmath.mpf

# expression, point, {variable: exact ∂f/∂variable as an mpmath function of the point}
CASES = [
    ("tanh(x)", {"x": 20.0}, {"x": lambda x: 1 / mpmath.cosh(x) ** 2}),
    ("tanh(x)", {"x": 5.0}, {"x": lambda x: 1 / mpmath.cosh(x) ** 2}),
    (
        "2*sigmoid(2*x)-1",
        {"x": 20.0},
        {"x": lambda x: 1 / mpmath.cosh(x) ** 2},
    ),  # fused into tanh by --fuse
    ("expm1(x)", {"x": -40.0}, {"x": lambda x: mpmath.exp(x)}),
    ("expm1(x)", {"x": -20.0}, {"x": lambda x: mpmath.exp(x)}),
    (
        "logaddexp(x, y)",
        {"x": 1e16, "y": 1e16},
        {"x": lambda x, y: mp(1) / 2, "y": lambda x, y: mp(1) / 2},
    ),
    (
        "logaddexp(x, y)",
        {"x": 1e6, "y": 1e6 - 1},
        {
            "x": lambda x, y: 1 / (1 + mpmath.exp(y - x)),
            "y": lambda x, y: 1 / (1 + mpmath.exp(x - y)),
        },
    ),
    (
        "atan2(y, x)",
        {"x": 3e-170, "y": 4e-170},
        {"y": lambda x, y: x / (x**2 + y**2), "x": lambda x, y: -y / (x**2 + y**2)},
    ),
    (
        "atan2(y, x)",
        {"x": 3e200, "y": 4e200},
        {"y": lambda x, y: x / (x**2 + y**2), "x": lambda x, y: -y / (x**2 + y**2)},
    ),
    ("asinh(x)", {"x": 1e200}, {"x": lambda x: 1 / mpmath.sqrt(x**2 + 1)}),
    ("acosh(x)", {"x": 1e200}, {"x": lambda x: 1 / mpmath.sqrt(x**2 - 1)}),
    ("acosh(x)", {"x": 1.0000000001}, {"x": lambda x: 1 / mpmath.sqrt(x**2 - 1)}),
    ("asin(x)", {"x": 0.9999999999}, {"x": lambda x: 1 / mpmath.sqrt(1 - x**2)}),
    ("acos(x)", {"x": -0.9999999999}, {"x": lambda x: -1 / mpmath.sqrt(1 - x**2)}),
    ("atanh(x)", {"x": 0.9999999999}, {"x": lambda x: 1 / (1 - x**2)}),
    (
        "pow1p(x, y)",
        {"x": 1e-10, "y": 1e10},
        {
            "x": lambda x, y: y * (1 + x) ** (y - 1),
            "y": lambda x, y: (1 + x) ** y * mpmath.log1p(x),
        },
    ),
    (
        "pow1p(x, y)",
        {"x": -0.4, "y": 30.0},
        {
            "x": lambda x, y: y * (1 + x) ** (y - 1),
            "y": lambda x, y: (1 + x) ** y * mpmath.log1p(x),
        },
    ),
    (
        "bce(x, y)",
        {"x": 20.0, "y": 1.0},
        {"x": lambda x, y: -1 / (1 + mpmath.exp(x)), "y": lambda x, y: -x},
    ),
    (
        "bce(x, y)",
        {"x": -30.0, "y": 0.0},
        {"x": lambda x, y: 1 / (1 + mpmath.exp(-x)), "y": lambda x, y: -x},
    ),
]


def _exact(f, point):
    return float(f(*[mp(v) for v in point.values()]))


@pytest.mark.parametrize("expr, point, exact", CASES)
@pytest.mark.parametrize("fuse", [False, True])
def test_local_gradients_keep_their_digits(expr, point, exact, fuse):
    graph = cgcli.parse(expr)
    if fuse:
        graph = cgcli.fuse(graph)
    one = cgcli.grad(graph, point)
    many = cgcli.grad(graph, {k: np.array([v, v]) for k, v in point.items()})
    for name, f in exact.items():
        want = _exact(f, point)
        for got in (one.gradients[name], *many.gradients[name]):
            assert got == pytest.approx(want, rel=4e-16 * 8, abs=0), (name, got, want)


@pytest.mark.parametrize("x, y", [(20.0, 1.0), (36.0, 1.0), (-30.0, 0.0), (2.5, 0.25)])
def test_bce_value_has_no_cancellation(x, y):
    exact = float(mpmath.log(1 + mpmath.exp(mp(x))) - mp(x) * mp(y))
    value = cgcli.grad(cgcli.parse("bce(x, y)"), {"x": x, "y": y}).value
    batch = cgcli.grad(cgcli.parse("bce(x, y)"), {"x": np.array([x]), "y": np.array([y])}).value
    assert value == pytest.approx(exact, rel=1e-15) and batch[0] == pytest.approx(exact, rel=1e-15)


def test_pow_one_half_in_a_batch_follows_ieee_pow_like_one_point():
    # numpy's shortcut for x**0.5 is sqrt: -0 at -0 and nan at -inf, where pow gives 0 and inf
    for x in (-0.0, -math.inf, 4.0):
        one = cgcli.evaluate(cgcli.parse("x**0.5"), {"x": x}).value
        many = cgcli.evaluate(cgcli.parse("x**0.5"), {"x": np.array([x, x])}).value
        assert repr(float(many[0])) == repr(one) == repr(math.pow(x, 0.5))
        # the base one value beside a variable with many points: the batch calls pow with a float base
        beside = cgcli.evaluate(
            cgcli.parse("z + x**0.5"), {"x": x, "z": np.array([0.0, 0.0])}
        ).value
        assert repr(float(beside[0])) == repr(0.0 + math.pow(x, 0.5))


# second derivatives: cg hessian backprops through the expression of ∂f/∂x, which cg diff
# builds from the ops' symbolic forms (ops.Op.symbolic): their own derivatives do not cancel
SECOND = [
    ("atanh(x)", 1e-17, lambda x: 2 * x / (1 - x**2) ** 2),
    ("asin(x)", 1e-12, lambda x: x / (1 - x**2) ** mp(1.5)),
    ("acos(x)", 0.5, lambda x: -x / (1 - x**2) ** mp(1.5)),
    ("tanh(x)", 800.0, lambda x: -2 * mpmath.tanh(x) / mpmath.cosh(x) ** 2),
    ("tanh(x)", 0.5, lambda x: -2 * mpmath.tanh(x) / mpmath.cosh(x) ** 2),
    ("asinh(x)", 1e-10, lambda x: -x / (x**2 + 1) ** mp(1.5)),
    ("acosh(x)", 3.0, lambda x: -x / (x**2 - 1) ** mp(1.5)),
]


@pytest.mark.parametrize("expr, x, exact", SECOND)
def test_second_derivatives_keep_their_digits(expr, x, exact):
    from cgcli.api import hessian

    matrix = hessian(cgcli.parse(expr), {"x": x}).matrix
    want = float(exact(mp(x)))
    assert matrix[0][0] == pytest.approx(want, rel=1e-14, abs=0) or matrix[0][0] == want == 0
