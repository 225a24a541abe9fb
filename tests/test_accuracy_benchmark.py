"""The ruler of benchmarks/accuracy.py: its ulps and its oracle, checked against exact arithmetic."""

from __future__ import annotations

import importlib.util
import math
import sys
from fractions import Fraction
from pathlib import Path

import pytest

mpmath = pytest.importorskip("mpmath")
sympy = pytest.importorskip("sympy")

_spec = importlib.util.spec_from_file_location(
    "accuracy_benchmark", Path(__file__).resolve().parent.parent / "benchmarks" / "accuracy.py"
)
accuracy = sys.modules[_spec.name] = importlib.util.module_from_spec(
    _spec
)  # dataclasses look it up
_spec.loader.exec_module(accuracy)


def truth(expr: str, var: str, point: dict[str, float]) -> float | None:
    from cgcli import api

    graph = api.parse(expr)
    f, symbols = accuracy.to_sympy(graph, accuracy.constants(graph))
    d = sympy.diff(f, symbols[var])
    return accuracy.oracle(d, {symbols[n]: point[n] for n in graph.variables})


def test_ulps_count_float64_steps():
    assert accuracy.ulps(1.0, 1.0) == 0
    assert accuracy.ulps(math.nextafter(1.0, 2.0), 1.0) == 1
    assert accuracy.ulps(math.nextafter(1.0, 0.0), 1.0) == 1
    assert accuracy.ulps(-0.0, 0.0) == 0
    assert accuracy.ulps(5e-324, -5e-324) == 2  # across zero
    assert accuracy.ulps(2.0, 1.0) == 2**52
    assert accuracy.ulps(math.nan, 1.0) == math.inf
    assert accuracy.ulps(math.inf, 1e308) == math.inf


def test_rounding_to_float64_is_rounding_once():
    with mpmath.workprec(200):
        tiny = mpmath.mpf(2) ** -100
        # just above a tie: rounding to 53 bits first would make it a tie, then round to even
        above_tie = mpmath.mpf(2) ** -1074 * (mpmath.mpf(5) / 2 + tiny)
        assert accuracy.to_float(above_tie) == 3 * 5e-324
        assert accuracy.to_float(1 + mpmath.mpf(2) ** -53 + tiny) == math.nextafter(1.0, 2.0)
        assert accuracy.to_float(-(mpmath.mpf(2) ** -1076)) == 0.0  # below half the least step
        assert math.copysign(1.0, accuracy.to_float(-(mpmath.mpf(2) ** -1076))) == -1.0
        assert accuracy.to_float(mpmath.mpf(2) ** 1024) == math.inf
        assert accuracy.to_float(mpmath.mpc(1, 1)) is None


def test_oracle_is_the_correctly_rounded_derivative():
    x = Fraction(0.3)  # the float64 nearest 0.3, exactly
    exact = 3 * x**2 - 4 * x + 1  # d/dx of x**3 - 2*x**2 + x - 5
    assert truth("x**3 - 2*x**2 + x - 5", "x", {"x": 0.3}) == float(exact)


def test_constants_are_the_float64_values_the_tools_use():
    c = Fraction(math.sqrt(2 / math.pi))  # what every tool computes for sqrt(2/pi)
    assert truth("sqrt(2/pi)*x", "x", {"x": 1.0}) == float(c)


@pytest.mark.parametrize(
    "expr, point, exact",
    [
        # σ(30)σ(-30): the rounding of σ(30) near 1 must not show
        ("sigmoid(z)", {"z": 30.0}, lambda: 1 / (1 + mpmath.exp(-30)) / (1 + mpmath.exp(30))),
        # softplus(z) - z: SymPy's derivative exp(z)/(1+exp(z)) - 1 cancels to -exp(-700)
        ("softplus(z)-z", {"z": 700.0}, lambda: -1 / (1 + mpmath.exp(700))),
        # a subnormal result: e**-740 is about 4e-322
        ("sigmoid(z)", {"z": -740.0}, lambda: mpmath.exp(-740) / (1 + mpmath.exp(-740)) ** 2),
        ("log(exp(a)+exp(b)+exp(c))", {"a": 710.0, "b": 720.0, "c": 730.0}, None),
    ],
)
def test_oracle_at_extreme_points(expr, point, exact):
    var = next(iter(point))
    if exact is None:  # ∂a of log-sum-exp is exp(a - lse): e**-20 / (1 + e**-10 + e**-20)
        a, b, c = (mpmath.mpf(point[n]) for n in "abc")
        exact = lambda: 1 / (1 + mpmath.exp(b - a) + mpmath.exp(c - a))  # noqa: E731
    with mpmath.workprec(4000):
        expected = float(exact())
    assert truth(expr, var, point) == expected


def test_oracle_leaves_out_what_it_cannot_decide():
    # SymPy's derivative has 1 - 1/(1+exp(-z)) in a denominator: 0 at any precision for z = 1e300
    assert truth("log(1-sigmoid(z))", "z", {"z": 1e300}) is None


def test_translations_compute_what_cg_computes():
    from cgcli import api

    expr = "s = sigmoid(z); t*(-log(s))+(1-t)*(-log(1-s)) + atan2(z, t) + x**3"
    point = {"z": 0.7, "t": 0.3, "x": -1.5}
    graph = api.parse(expr)
    folded = accuracy.constants(graph)
    f, symbols = accuracy.to_sympy(graph, folded)
    exact = f.subs({symbols[n]: sympy.Rational(v) for n, v in point.items()}).evalf(40)
    value = api.evaluate(graph, point).value
    assert float(exact) == pytest.approx(value, rel=1e-15)
    plain = accuracy.translate(graph, folded, _math_table(), float)
    assert plain(**point) == pytest.approx(value, rel=1e-15)


def _math_table():
    from cgcli.ops import OPS

    return {op: OPS[op].scalar for op in ("add", "sub", "mul", "neg", "log", "sigmoid", "atan2")}
