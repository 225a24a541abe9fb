"""Each fused shape against mpmath where the fine-grained graph rounds, cancels or overflows."""

import math

import mpmath
import pytest

from cgcli import fuse, grad, parse

mpmath.mp.prec = 300
mp = mpmath.mpf


def sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


def softplus(z):
    return mpmath.log(1 + mpmath.exp(z))


# shape, point, the exact function in mpmath (over the same names)
CASES = [
    ("log(1-sigmoid(z))", {"z": 30.0}, lambda z: mpmath.log(1 - sigmoid(z))),
    ("log(1/(1+exp(z)))", {"z": 800.0}, lambda z: -softplus(z)),
    ("1/(1+exp(z))", {"z": 800.0}, lambda z: sigmoid(-z)),
    ("x/(1+exp(-x))", {"x": -800.0}, lambda x: x * sigmoid(x)),
    ("2/(1+exp(-2*z))-1", {"z": 1e-10}, lambda z: mpmath.tanh(z)),
    ("sqrt(x**2+1)", {"x": 1e200}, lambda x: mpmath.sqrt(x**2 + 1)),
    ("sqrt(1+x*x)", {"x": 1e200}, lambda x: mpmath.sqrt(x**2 + 1)),
    ("log(x+sqrt(x**2+1))", {"x": -1e10}, lambda x: mpmath.asinh(x)),
    ("log(1+x)", {"x": 1e-20}, lambda x: mpmath.log1p(x)),
    ("exp(x)-1", {"x": 1e-20}, lambda x: mpmath.expm1(x)),
    ("log(s**2)", {"s": 1e200}, lambda s: mpmath.log(s**2)),
    ("log(s*s)", {"s": -1e-200}, lambda s: mpmath.log(s**2)),
    ("1-cos(x)", {"x": 1e-10}, lambda x: 2 * mpmath.sin(x / 2) ** 2),
    ("sqrt(1+x)-1", {"x": 1e-20}, lambda x: mpmath.sqrt(1 + x) - 1),
    ("(1+x)**n", {"x": 1e-10, "n": 1e10}, lambda x, n: (1 + x) ** n),  # compound interest
    ("(x+1)**n", {"x": -3e-9, "n": 2.5e8}, lambda x, n: (1 + x) ** n),
    (
        "-(t*log(sigmoid(z)) + (1-t)*log(1-sigmoid(z)))",
        {"z": 40.0, "t": 1.0},
        lambda z, t: softplus(z) - z * t,
    ),
    (
        "s = sigmoid(z); t*(-log(s))+(1-t)*(-log(1-s))",
        {"z": -40.0, "t": 0.0},
        lambda z, t: softplus(z) - z * t,
    ),
    ("softplus(z)-z*t", {"z": 40.0, "t": 1.0}, lambda z, t: softplus(z) - z * t),
]


def exact(f, point):
    """f's value and gradient at the point, in mpmath."""
    args = [mp(v) for v in point.values()]
    value = f(*args)
    grads = {}
    for k, name in enumerate(point):
        step = abs(args[k]) * mp(2) ** -120 or mp(2) ** -120  # relative: x is 1e200 or 1e-20
        grads[name] = mpmath.diff(lambda v, k=k: f(*args[:k], v, *args[k + 1 :]), args[k], h=step)
    return float(value), {n: float(g) for n, g in grads.items()}


def close(got, truth, ulps=4):
    if truth == 0 or abs(truth) < 1e-300:
        return abs(got) <= 1e-300
    return math.isfinite(got) and abs(got - truth) <= ulps * math.ulp(truth)


@pytest.mark.parametrize("text, point, f", CASES, ids=[c[0] for c in CASES])
def test_fused_shape_is_exact_where_fine_grained_is_not(text, point, f):
    value, grads = exact(f, point)
    fine, fused = grad(parse(text), point), grad(fuse(parse(text)), point)
    assert [n.op for n in fuse(parse(text)).nodes if n.fused], "no gate"
    assert close(fused.value, value), (fused.value, value)
    for name in point:
        assert close(fused.gradients[name], grads[name]), (name, fused.gradients[name], grads[name])
    fine_exact = close(fine.value, value) and all(close(fine.gradients[n], grads[n]) for n in point)
    assert not fine_exact  # the shape is worth fusing at this point


@pytest.mark.parametrize("x", [-0.7, -0.3, 0.1, 0.55, 0.8, 1.3, 4.0, 19.0, 25.0])
def test_tanh_local_gradient_within_two_ulps(x):
    truth = float(1 / mpmath.cosh(mp(x)) ** 2)
    assert close(grad("tanh(x)", {"x": x}).gradients["x"], truth, ulps=2)


def test_tanh_gelu_gradient_where_tanh_local_gradient_used_to_cost_21_ulps():
    # the GELU's derivative at -0.7 is a difference of two terms ten times larger than itself:
    # tanh's local gradient's error is multiplied tenfold
    c = float(mpmath.sqrt(2 / mpmath.pi))  # the float64 constant cg folds sqrt(2/pi) to
    text = "0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x**3)))"

    def gelu(x):
        return mp("0.5") * x * (1 + mpmath.tanh(mp(c) * (x + mp(0.044715) * x**3)))

    truth = float(mpmath.diff(gelu, mp(-0.7)))
    assert close(grad(text, {"x": -0.7}).gradients["x"], truth, ulps=10)


POW1P_POINTS = [
    (-3.0, 2.0),  # a negative base with an integer n: 4, where exp(2*log1p(-3)) is nan
    (-3.0, 3.0),
    (-3.0, 0.5),  # nan, as (-2)**0.5
    (-1.0, 2.0),  # the base 0: ∂/∂n is 0 where out = 0
    (-1.0, 0.0),  # ∂/∂x is 0·inf: nan, as pow's
    (-1.0, -1.0),  # the pole
    (0.0, math.inf),  # 1**inf is 1
    (-0.25, 1e300),  # underflows to 0
    (0.3, 2.5),
    (0.49, -7.0),
    (0.5, 3.0),
    (2.0, 0.5),
]


@pytest.mark.parametrize("x, n", POW1P_POINTS)
def test_pow1p_keeps_the_conventions_of_pow_with_the_base_1_plus_x(x, n):
    """Fused (1+x)**n against fine-grained (pow's own conventions), one point and a batch."""
    import numpy as np

    point = {"x": x, "n": n}
    fine = grad(parse("(1+x)**n"), point)
    fused = grad(fuse(parse("(1+x)**n")), point)
    batch = grad(fuse(parse("(1+x)**n")), {"x": np.array([x, x]), "n": np.array([n, n])})

    def same(a, b):
        if math.isnan(b) or math.isinf(b) or b == 0:
            return repr(a) == repr(b) or (a == b == 0)
        return abs(a - b) <= 4 * math.ulp(b)

    assert [n.op for n in fuse(parse("(1+x)**n")).nodes if n.fused] == ["pow1p"]
    for got in (fused, batch):
        value = got.value if got is fused else float(got.value[1])
        assert same(value, fine.value), (value, fine.value)
        for name in point:
            g = got.gradients[name] if got is fused else float(got.gradients[name][1])
            assert same(g, fine.gradients[name]), (name, g, fine.gradients[name])


@pytest.mark.parametrize(
    "x, n", [(0.25, 3.0), (0.375, 2000.0), (-0.25, 2441.0), (0.5, 7.0), (-0.125, 500.0)]
)
def test_pow1p_uses_pow_where_1_plus_x_is_exact(x, n):
    """x = 0.25, 0.375, -0.25: 1+x is exact, and pow(1+x, n) is within an ulp, where
    exp(n*log1p(x)) would be hundreds of ulps off."""
    truth = (1 + mp(x)) ** mp(n)
    got = grad(fuse(parse("(1+x)**n")), {"x": x, "n": n}).value
    assert abs(got - float(truth)) <= 2 * math.ulp(float(truth)), (got, float(truth))


def test_pow1p_derivatives_and_hessian_keep_their_digits():
    """cg diff builds ∂/∂n as xlog1py(out, x), not xlogy(out, 1+x); the Hessian is symmetric."""
    from cgcli.api import hessian
    from cgcli.derive import derivative
    from cgcli.printer import to_text

    x, n = 1e-10, 1e10
    text = to_text(derivative(parse("pow1p(x, n)"), "n"))
    exact = (1 + mp(x)) ** mp(n) * mpmath.log1p(mp(x))
    assert "xlog1py" in text
    assert close(grad(text, {"x": x, "n": n}).value, float(exact))
    h = hessian(parse("pow1p(x, n)"), {"x": x, "n": n}).matrix
    assert h[0][1] == h[1][0]
    assert close(h[1][1], float((1 + mp(x)) ** mp(n) * mpmath.log1p(mp(x)) ** 2), ulps=8)


@pytest.mark.parametrize(
    "expr",
    ["sigmoid(x)", "softplus(x)", "logsigmoid(x)", "bce(x, 0)", "bce(x, 1)", "1/(1+exp(x))"],
)
@pytest.mark.parametrize("xs", [[-710.0, 0.0], [710.0, 0.0], [-745.0, 750.0], [-709.5, 1.0]])
def test_the_sigmoid_family_keeps_subnormals_in_a_batch_as_one_point_does(expr, xs):
    """Past |x| = 709.78, σ(x) or σ(-x) is subnormal: a batch gives the same bits as one point
    (it used to flush them to 0 where exp(710) overflowed)."""
    import numpy as np

    graph = fuse(parse(expr))
    batch = grad(graph, {"x": np.array(xs)})
    for k, x in enumerate(xs):
        one = grad(graph, {"x": x})
        assert repr(float(batch.value[k])) == repr(one.value), (x, batch.value[k], one.value)
        assert repr(float(batch.gradients["x"][k])) == repr(one.gradients["x"]), x
