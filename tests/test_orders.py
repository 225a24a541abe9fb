"""cg diff --order is bounded: a derivative that is 0 ends the work, an order past MAX_ORDER or
a derivative that grows too big is refused with a sentence saying where. The runs through the
installed cg have a memory and a time limit, so that a regression fails fast."""

import pytest
import sympy
from test_bounds import run_limited

from cgcli import derive, orders, parse
from cgcli.errors import CgError


def test_a_derivative_that_is_zero_ends_the_work_at_once():
    code, out, err = run_limited(["diff", "x", "--order", "1000000"], timeout=30)
    assert (code, out, err) == (0, "0\n", "")
    code, out, _ = run_limited(["diff", "x", "--order", "99999999999999999999999"], timeout=30)
    assert (code, out) == (0, "0\n")


def test_an_order_past_the_limit_is_refused_unless_the_derivative_became_zero():
    code, out, err = run_limited(["diff", "sin(x)", "--order", "101"], timeout=60)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "cg: error: order 101 is out of reach: cg differentiates at most 100 times, and the"
        " derivative of order 100 is not 0"
    ]
    code, out, err = run_limited(["diff", "sin(x)", "--order", "100"], timeout=60)
    assert (code, out) == (0, "sin(x)\n"), err  # d^100/dx^100 sin = sin: 100 is a multiple of 4


def test_a_derivative_that_grows_too_big_is_refused_saying_how_big_and_where():
    code, out, err = run_limited(["diff", "x**x", "--order", "20"], timeout=120)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "cg: error: order 20 is out of reach: the derivative of order 11 has 37,394 nodes, more"
        " than the 20,000 cg differentiates again (ask for order 11 at most)"
    ]


def test_the_order_below_the_refusal_still_works_and_is_right():
    x = sympy.Symbol("x", positive=True)
    graph = derive.derivative(parse("x**x"), "x", order=5)
    exact = sympy.diff(x**x, x, 5)
    for point in (0.5, 1.5, 2.0):
        value = sympy.N(exact.subs(x, point), 30)
        got = _value(graph, point)
        assert got == pytest.approx(float(value), rel=1e-12)


def _value(graph, point: float) -> float:
    from cgcli import api

    return api.evaluate(graph, {"x": point}).value


def test_zero_stops_the_loop_the_step_after_it_appears(monkeypatch):
    calls = []
    real = derive.derivative_graph
    monkeypatch.setattr(
        derive, "derivative_graph", lambda graph, wrt: calls.append(1) or real(graph, wrt)
    )
    assert derive.derivative(parse("x**3"), "x", order=50).source == "0"
    assert len(calls) == 4  # 3*x**2, 6*x, 6, 0


def test_the_total_size_of_all_orders_is_bounded_too(monkeypatch):
    monkeypatch.setattr(orders, "MAX_TOTAL_NODES", 100)
    with pytest.raises(CgError) as caught:
        derive.derivative(parse("tanh(x)"), "x", order=30)
    assert caught.value.message.startswith("order 30 is out of reach: the derivatives up to order")
    assert "nodes in all, more than the 100 cg computes" in caught.value.message


@pytest.mark.parametrize("order", [0, -1, True, 1.5])
def test_an_order_that_is_not_a_whole_number_from_1_is_refused(order):
    with pytest.raises(CgError, match="the order of a derivative is a whole number from 1"):
        derive.derivative(parse("x"), "x", order=order)
