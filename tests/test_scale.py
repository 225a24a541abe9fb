"""Huge and deep inputs: nothing recurses over the user's expression."""

import sys

import pytest
from conftest import run_bin

from cgcli import grad, parse


def lowered_recursion_limit(extra=120):
    """A recursion limit just above the current stack depth: any walk that recursed over
    the expression would need one frame per level and fail with RecursionError."""
    depth, frame = 0, sys._getframe()
    while frame:
        depth, frame = depth + 1, frame.f_back
    return depth + extra


@pytest.fixture
def shallow_stack():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(lowered_recursion_limit())
    yield
    sys.setrecursionlimit(old)


def test_deep_parentheses(shallow_stack):
    depth = 10_000
    r = grad("(" * depth + "x" + "+1)" * depth, {"x": 1})
    assert r.value == depth + 1
    assert r.gradients == {"x": 1.0}


def test_deep_function_nesting(shallow_stack):
    depth = 10_000
    r = grad("sin(" * depth + "x" + ")" * depth, {"x": 0.5})
    # d/dx sin^n(x) = product of cos along the chain: check by the chain rule
    import math

    v, g = 0.5, 1.0
    for _ in range(depth):
        g *= math.cos(v)
        v = math.sin(v)
    assert r.value == pytest.approx(v, rel=1e-12)
    assert r.gradients["x"] == pytest.approx(g, rel=1e-9)


def test_deep_power_tower_and_unary_minus(shallow_stack):
    r = grad("-" * 5001 + "x", {"x": 2})
    assert r.value == -2.0 and r.gradients == {"x": -1.0}
    r = grad("x" + "**1" * 5000, {"x": 3})
    assert r.value == 3.0 and r.gradients == {"x": 1.0}


def test_sum_of_100000_terms(shallow_stack):
    n = 100_000
    text = " + ".join(f"sin(x*{k})*y" for k in range(1, n + 1))
    r = grad(text, {"x": 0.001, "y": 2})
    import math

    assert r.value == pytest.approx(sum(math.sin(0.001 * k) * 2 for k in range(1, n + 1)), rel=1e-9)
    assert r.gradients["x"] == pytest.approx(
        sum(k * math.cos(0.001 * k) * 2 for k in range(1, n + 1)), rel=1e-9
    )


def test_huge_and_deep_through_the_installed_cg():
    n = 20_000
    text = " + ".join(f"sin(x*{k})*y" for k in range(1, n + 1))
    code, out, err = run_bin(
        ["grad", "-", "--x", "0.5", "--y", "2", "--format", "json", "--no-nodes"], input=text
    )
    assert code == 0, err
    assert '"grad": {"x": ' in out
    deep = "(" * 10_000 + "x" + ")+1" * 10_000
    code, out, err = run_bin(["grad", deep, "--x", "1", "--format", "plain"])
    assert (code, out) == (0, "f 10001\nx 1\n"), err


def test_deep_tree_output_is_cut_not_crashed():
    depth = 3_000
    code, out, err = run_bin(["grad", "sin(" * depth + "x" + ")" * depth, "--x", "1"])
    assert code == 0, err
    assert "deeper than" in out


def test_the_cycle_collector_is_paused_while_a_graph_is_built_and_computed(monkeypatch):
    import gc

    from cgcli import CgError, engine, parse
    from cgcli.graph import GraphBuilder

    seen = []
    apply, backward = GraphBuilder.apply, engine.backward
    monkeypatch.setattr(
        GraphBuilder, "apply", lambda *a: seen.append(("parse", gc.isenabled())) or apply(*a)
    )
    monkeypatch.setattr(
        engine,
        "backward",
        lambda *a, **k: seen.append(("grad", gc.isenabled())) or backward(*a, **k),
    )
    assert gc.isenabled()
    grad("sin(x)*y", {"x": 1, "y": 2})
    assert (
        ("parse", False) in seen
        and ("grad", False) in seen
        and not any(enabled for _, enabled in seen)
    )
    assert gc.isenabled()  # and on again afterwards, also after an error
    with pytest.raises(CgError):
        parse("sin(x")
    assert gc.isenabled()
    gc.disable()  # a caller that paused it keeps it paused
    try:
        parse("x+1")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_node_view_has_a_property_for_every_column_of_the_graph():
    import numpy as np

    from cgcli.graph import _COLUMNS, _SPARSE, Node

    g = parse("a = 2*x; a + 1")
    node = g.nodes[np.int64(2)]  # numpy integers index too
    for column in _COLUMNS + _SPARSE:
        assert isinstance(getattr(Node, column), property)
        assert getattr(node, column) == (
            getattr(g, column)[2] if column in _COLUMNS else getattr(g, column).get(2)
        )
    assert g.nodes[-1].op == "add" and node.name == "a"
