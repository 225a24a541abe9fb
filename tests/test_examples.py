"""Worked examples with hand-checked answers: the seed text's and cs231n's."""

import math

import pytest

from cgcli import evaluate, grad, parse


def test_seed_example_square_of_sum():
    # f = (x+y)**2 at x=1, y=2: z = 3, f = 9, df/dz = 2z = 6, dz/dx = dz/dy = 1
    r = grad("(x+y)**2", {"x": 1, "y": 2})
    assert r.value == 9.0
    assert r.gradients == {"x": 6.0, "y": 6.0}
    assert r.warnings == []


NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
POINT = {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}
# cs231n's published numbers; they come from s*(1-s) with s = sigmoid(1). The
# fine-grained graph rounds differently in the last bit or two, hence rel=1e-14.
EXPECTED = {
    "w0": -0.19661193324148185,
    "x0": 0.3932238664829637,
    "w1": -0.3932238664829637,
    "x1": -0.5898357997244456,
    "w2": 0.19661193324148185,
}


def test_cs231n_neuron():
    r = grad(NEURON, POINT)
    assert r.value == 0.7310585786300049
    assert r.gradients.keys() == EXPECTED.keys()
    for name, g in EXPECTED.items():
        assert r.gradients[name] == pytest.approx(g, rel=1e-14, abs=0)


def test_cs231n_neuron_intermediate_gradients():
    # the course notes' circuit: the gradient reaching the weighted sum is 0.2 (to 2 digits)
    r = grad(NEURON, POINT)
    g = r.graph
    by_text = {g.text(n): r.grads[n.id] for n in g.nodes}
    assert by_text["w0*x0+w1*x1+w2"] == pytest.approx(0.19661193324148185, rel=1e-14)
    assert by_text["exp(-(w0*x0+w1*x1+w2))"] == pytest.approx(-0.5344466453885230, rel=1e-14)


def test_fan_out_contributions_add_up():
    # f = x*x*x + x: df/dx = 3x² + 1 = 13 at x = 2, from four uses of one node
    r = grad("x*x*x + x", {"x": 2})
    assert r.value == 10.0
    assert r.gradients == {"x": 13.0}
    assert [n.op for n in r.graph.nodes].count("var") == 1


def test_one_node_per_variable_and_shared_subexpressions():
    g = parse("sin(x)*y + sin(x)*z")
    ops = [n.op for n in g.nodes]
    assert ops.count("sin") == 1 and ops.count("var") == 3


def test_statements_name_their_nodes_and_rebind():
    r = grad("a = x+y\nb = a*a  # square\na = 2*b; a + x", {"x": 1, "y": 2})
    assert r.value == 19.0  # a = 18 after rebinding, plus x
    assert r.gradients == {"x": 13.0, "y": 12.0}
    names = {n.name for n in r.graph.nodes}
    assert {"a", "b", "x", "y"} <= names


def test_constants_and_their_rebinding():
    assert evaluate("pi").value == math.pi
    assert evaluate("e").value == math.e
    assert evaluate("pi = 3; pi*2").value == 6.0
    assert evaluate("e = 2\ne**3").value == 8.0


@pytest.mark.parametrize(
    "text, value",
    [
        ("-2**2", -4.0),  # -(2**2)
        ("2**-1", 0.5),
        ("2**3**2", 512.0),  # 2**(3**2)
        ("2^3^2", 512.0),
        ("(2**3)**2", 64.0),
        ("10-4-3", 3.0),  # (10-4)-3
        ("64/4/2", 8.0),  # (64/4)/2
        ("2+3*4", 14.0),
        ("-3**2 + 2*-3", -15.0),
        ("+-+2", -2.0),
        ("2*-3**2", -18.0),
        ("pow(2, 10)", 1024.0),
        ("1e-3 + .5 + 2.5E+2 + 1.", 251.501),
    ],
)
def test_precedence_and_numbers(text, value):
    assert evaluate(text).value == pytest.approx(value, rel=1e-15)


def test_unicode_and_underscore_names():
    r = grad("θ*w_1 + x1", {"θ": 2, "w_1": 3, "x1": 1})
    assert r.value == 7.0
    assert r.gradients == {"θ": 3.0, "w_1": 2.0, "x1": 1.0}


def test_newlines_inside_parentheses_continue_the_line():
    assert evaluate("(1 +\n 2)*(3\n)").value == 9.0


def test_kink_conventions():
    r = grad("relu(x) + abs(y) + max(x, y) + min(y, x)", {"x": 0, "y": 0})
    # relu'(0) = 0, abs'(0) = 0, and each side of a tie gets 0.5 from max and from min
    assert r.gradients == {"x": 1.0, "y": 1.0}
    assert grad("relu(x)", {"x": 0}).gradients == {"x": 0.0}
    assert grad("abs(x)", {"x": 0}).gradients == {"x": 0.0}
    assert grad("max(x, y)", {"x": 1, "y": 1}).gradients == {"x": 0.5, "y": 0.5}


def test_constant_subgraphs_get_no_gradient():
    r = grad("x**2", {"x": -1})  # d/d(exponent) would be log(-1): never computed
    assert r.gradients == {"x": -2.0}
    assert r.warnings == []
