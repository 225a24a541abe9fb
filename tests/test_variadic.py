"""logsumexp, softmax and logsoftmax: functions of any number of inputs, and the gates --fuse
finds for their spelled-out forms, against mpmath."""

import math

import mpmath
import numpy as np
import pytest

from cgcli import fuse, grad, parse
from cgcli.derive import derivative

mpmath.mp.prec = 300
mp = mpmath.mpf


def lse(*xs):
    return mpmath.log(mpmath.fsum(mpmath.exp(x) for x in xs))


def exact(f, point):
    """The value and gradient in mpmath; the derivatives by hand from lse's: ∂lse/∂aᵢ = sᵢ."""
    args = [mp(v) for v in point.values()]
    s = [mpmath.exp(a - lse(*args)) for a in args]
    return f(args, s)


EXACT = {  # function of (args, s) → (value, [gradient for each arg])
    "logsumexp": lambda a, s: (lse(*a), s),
    "softmax": lambda a, s: (s[0], [s[0] * (1 - s[0])] + [-s[0] * sj for sj in s[1:]]),
    "logsoftmax": lambda a, s: (a[0] - lse(*a), [1 - s[0]] + [-sj for sj in s[1:]]),
}

SPELLED = [
    ("log(exp(a)+exp(b)+exp(c))", "logsumexp"),
    ("log((exp(c)+exp(a))+exp(b))", "logsumexp"),
    ("logaddexp(logaddexp(a, b), c)", "logsumexp"),
    ("logaddexp(a, logaddexp(b, c))", "logsumexp"),
    ("s = exp(a)+exp(b)+exp(c); log(s)", "logsumexp"),
    ("exp(a)/(exp(a)+exp(b)+exp(c))", "softmax"),
    ("exp(a)/(exp(b)+exp(c)+exp(a))", "softmax"),
    ("a - log(exp(a)+exp(b)+exp(c))", "logsoftmax"),
    ("a - logaddexp(logaddexp(a, b), c)", "logsoftmax"),
]
POINTS = [
    {"a": 0.3, "b": -1.2, "c": 2.0},
    {"a": 40.0, "b": -40.0, "c": 3.0},
    {"a": 700.0, "b": -700.0, "c": 699.0},
    {"a": -750.0, "b": 750.0, "c": 740.0},
    {"a": 30.0, "b": 30.0, "c": -30.0},
    {"a": 750.0, "b": 749.0, "c": 700.0},
]


def close(got, truth, ulps=4):
    truth = float(truth)
    if abs(truth) < 1e-300:
        return abs(got) < 1e-300
    return math.isfinite(got) and abs(got - truth) <= ulps * math.ulp(truth)


@pytest.mark.parametrize("text, gate", SPELLED)
def test_spelled_forms_fuse_to_one_gate_of_every_input(text, gate):
    fused = fuse(parse(text))
    (node,) = [n for n in fused.nodes if n.fused]
    assert node.op == gate and node.id == fused.output
    assert sorted(fused.name[i] for i in node.inputs) == ["a", "b", "c"]
    if gate != "logsumexp":  # the first input is the one in the numerator, or subtracted
        assert fused.name[node.inputs[0]] == "a"


@pytest.mark.parametrize("text, gate", SPELLED)
@pytest.mark.parametrize("point", POINTS)
def test_fused_is_exact_at_ordinary_and_extreme_points(text, gate, point):
    value, grads = exact(EXACT[gate], point)
    r = grad(fuse(parse(text)), point)
    assert close(r.value, value), (r.value, value)
    for name, g in zip(point, grads):
        assert close(r.gradients[name], g), (name, r.gradients[name], g)


@pytest.mark.parametrize("gate", list(EXACT))
@pytest.mark.parametrize("point", POINTS)
def test_the_functions_called_by_name_are_exact(gate, point):
    value, grads = exact(EXACT[gate], point)
    r = grad(f"{gate}(a, b, c)", point)
    assert close(r.value, value)
    for name, g in zip(point, grads):
        assert close(r.gradients[name], g), (name, r.gradients[name], g)


def test_unfused_nested_logaddexp_is_what_the_gate_fixes():
    point = {"a": 750.0, "b": 749.0, "c": 700.0}
    _, grads = exact(EXACT["logsumexp"], point)
    fine = grad("logaddexp(logaddexp(a, b), c)", point).gradients["c"]
    assert not close(fine, grads[2], ulps=50)  # through the rounded inner output
    assert close(grad(fuse("logaddexp(logaddexp(a, b), c)"), point).gradients["c"], grads[2])


def test_softmax_spelled_out_is_nan_unfused_and_exact_fused():
    text, point = "exp(a)/(exp(a)+exp(b)+exp(c))", {"a": 800.0, "b": -40.0, "c": 3.0}
    assert math.isnan(grad(text, point).gradients["a"])
    assert grad(fuse(text), point).gradients == {"a": 0.0, "b": -0.0, "c": -0.0} or all(
        abs(v) < 1e-300 for v in grad(fuse(text), point).gradients.values()
    )


def test_four_terms_and_a_shared_inner_exp():
    text = "log(exp(a)+exp(b)+exp(c)+exp(d)) + 2*exp(a)"
    point = {"a": 0.5, "b": -1.0, "c": 2.0, "d": 0.0}
    fine, fused = grad(text, point), grad(fuse(text), point)
    assert "logsumexp" in [n.op for n in fused.graph.nodes]
    for name in point:
        assert fused.gradients[name] == pytest.approx(fine.gradients[name], rel=1e-14)


def test_batch_equals_one_point_at_a_time_also_at_infinities():
    xs = np.array([0.3, 40.0, 700.0, -750.0, math.inf, -math.inf, math.nan, math.inf])
    ys = np.array([-1.2, -40.0, -700.0, 750.0, 1.0, -math.inf, 0.0, math.inf])
    for gate in EXACT:
        r = grad(f"{gate}(x, y, 2)", {"x": xs, "y": ys}, keep_nodes=False)
        for k, (x, y) in enumerate(zip(xs, ys)):
            one = grad(f"{gate}(x, y, 2)", {"x": float(x), "y": float(y)})
            for got, want in [(r.value[k], one.value)] + [
                (r.gradients[n][k], one.gradients[n]) for n in ("x", "y")
            ]:
                assert got == pytest.approx(want, rel=1e-14, nan_ok=True), (gate, x, y)


def test_derivative_printer_builds_the_textbook_forms():
    assert derivative(parse("logsumexp(a, b, c)"), "b").source == "exp(b - logsumexp(a, b, c))"
    assert derivative(parse("softmax(a, b)"), "a").source == "softmax(a, b)*(1 - softmax(a, b))"


def test_too_few_inputs_is_an_error():
    from cgcli import CgError

    with pytest.raises(CgError, match="takes 2 or more arguments"):
        parse("softmax(a)")
