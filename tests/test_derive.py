"""Derivative expressions, second derivatives, Hessians and directional derivatives.

The oracle is SymPy: each random expression is generated twice, as cg text and
as a SymPy expression built with SymPy's constructors (never by parsing our
text), and SymPy's derivatives are evaluated with mpmath at 30 digits at the
same binary floats. Points where an op with a kink (abs, relu, max, min) is
within 0.05 of its kink are skipped. The command line is checked both
in-process and through the installed `cg`, by pasting `cg diff`'s output into
`cg eval` as a shell would.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from typing import NamedTuple

import mpmath
import pytest
import sympy
from conftest import cg_binary, run_cli

import cgcli
from cgcli import api, derive, engine, forward_mode
from cgcli.errors import CgError
from cgcli.printer import to_text
from cgcli.text import shortest_float


def hessian(graph, point):
    h = api.hessian(graph, point)
    return h.names, h.matrix


def directional(graph, point, direction):
    """(forward mode's derivative along the unit direction, gradient · the unit vector)"""
    d = api.directional(graph, point, direction)
    return d.forward_mode, d.gradient_dot_unit


NAMES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}


# ---------------------------------------------------------------------------
# Random expressions: cg text and SymPy expression side by side


class Expr(NamedTuple):
    text: str
    sym: object
    kinks: tuple = ()  # SymPy expressions that are 0 at a kink


def _p(e: Expr) -> str:
    return f"({e.text})"


def _positive(e: Expr) -> Expr:
    return Expr(f"(1 + {_p(e)}**2)", 1 + e.sym**2, e.kinks)


def _call(name, sym, *args, kinks=()):
    return Expr(
        f"{name}({', '.join(a.text for a in args)})", sym, sum((a.kinks for a in args), ()) + kinks
    )


def _sigmoid(s):
    return 1 / (1 + sympy.exp(-s))


UNARY = {
    "neg": lambda a: Expr(f"-{_p(a)}", -a.sym, a.kinks),
    "sin": lambda a: _call("sin", sympy.sin(a.sym), a),
    "cos": lambda a: _call("cos", sympy.cos(a.sym), a),
    "tanh": lambda a: _call("tanh", sympy.tanh(a.sym), a),
    "atan": lambda a: _call("atan", sympy.atan(a.sym), a),
    "asinh": lambda a: _call("asinh", sympy.asinh(a.sym), a),
    "sigmoid": lambda a: _call("sigmoid", _sigmoid(a.sym), a),
    "softplus": lambda a: _call("softplus", sympy.log(1 + sympy.exp(a.sym)), a),
    "logsigmoid": lambda a: _call("logsigmoid", -sympy.log(1 + sympy.exp(-a.sym)), a),
    "exp": lambda a: _call("exp", sympy.exp(a.sym), a),
    "expm1": lambda a: _call("expm1", sympy.exp(a.sym) - 1, a),
    "exp2": lambda a: _call("exp2", 2**a.sym, a),
    "sinh": lambda a: _call("sinh", sympy.sinh(a.sym), a),
    "cosh": lambda a: _call("cosh", sympy.cosh(a.sym), a),
    "square": lambda a: Expr(f"{_p(a)}**2", a.sym**2, a.kinks),
    "cube": lambda a: Expr(f"{_p(a)}^3", a.sym**3, a.kinks),
    "log": lambda a: (p := _positive(a)) and _call("log", sympy.log(p.sym), p),
    "log2": lambda a: (p := _positive(a)) and _call("log2", sympy.log(p.sym, 2), p),
    "log10": lambda a: (p := _positive(a)) and _call("log10", sympy.log(p.sym, 10), p),
    "log1p": lambda a: _call(
        "log1p", sympy.log(1 + a.sym**2), Expr(f"{_p(a)}**2", a.sym**2, a.kinks)
    ),
    "sqrt": lambda a: (p := _positive(a)) and _call("sqrt", sympy.sqrt(p.sym), p),
    "cbrt": lambda a: (p := _positive(a)) and _call("cbrt", sympy.cbrt(p.sym), p),
    "root": lambda a: (
        (p := _positive(a)) and Expr(f"{p.text}**-0.5", p.sym ** sympy.Rational(-1, 2), p.kinks)
    ),
    "asin": lambda a: (
        (h := _call("tanh", sympy.tanh(a.sym) / 2, a))
        and _call("asin", sympy.asin(h.sym), Expr(f"{h.text}/2", h.sym, h.kinks))
    ),
    "atanh": lambda a: (
        (h := _call("tanh", sympy.tanh(a.sym) / 2, a))
        and _call("atanh", sympy.atanh(h.sym), Expr(f"{h.text}/2", h.sym, h.kinks))
    ),
    "acosh": lambda a: _call(
        "acosh", sympy.acosh(2 + a.sym**2), Expr(f"2 + {_p(a)}**2", 2 + a.sym**2, a.kinks)
    ),
    "abs": lambda a: _call("abs", sympy.Abs(a.sym), a, kinks=(a.sym,)),
    "relu": lambda a: _call("relu", sympy.Max(a.sym, 0), a, kinks=(a.sym,)),
}

BINARY = {
    "add": lambda a, b: Expr(f"{_p(a)} + {_p(b)}", a.sym + b.sym, a.kinks + b.kinks),
    "sub": lambda a, b: Expr(f"{_p(a)} - {_p(b)}", a.sym - b.sym, a.kinks + b.kinks),
    "mul": lambda a, b: Expr(f"{_p(a)}*{_p(b)}", a.sym * b.sym, a.kinks + b.kinks),
    "div": lambda a, b: (
        (p := _positive(b)) and Expr(f"{_p(a)}/{p.text}", a.sym / p.sym, a.kinks + p.kinks)
    ),
    "pow": lambda a, b: (
        (p := _positive(a)) and Expr(f"{p.text}**{_p(b)}", p.sym**b.sym, p.kinks + b.kinks)
    ),
    "hypot": lambda a, b: (
        (p := _positive(b)) and _call("hypot", sympy.sqrt(a.sym**2 + p.sym**2), a, p)
    ),
    "atan2": lambda a, b: (p := _positive(b)) and _call("atan2", sympy.atan2(a.sym, p.sym), a, p),
    "xlogy": lambda a, b: (p := _positive(b)) and _call("xlogy", a.sym * sympy.log(p.sym), a, p),
    "logaddexp": lambda a, b: _call(
        "logaddexp", sympy.log(sympy.exp(a.sym) + sympy.exp(b.sym)), a, b
    ),
    "bce": lambda a, b: _call("bce", sympy.log(1 + sympy.exp(a.sym)) - a.sym * b.sym, a, b),
    "max": lambda a, b: _call("max", sympy.Max(a.sym, b.sym), a, b, kinks=(a.sym - b.sym,)),
    "min": lambda a, b: _call("min", sympy.Min(a.sym, b.sym), a, b, kinks=(a.sym - b.sym,)),
}

CONSTANTS = (0.5, 1.5, 2.0, 3.0, 0.25)


def expression(rng: random.Random, depth: int) -> Expr:
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.8:
            name = rng.choice(NAMES)
            return Expr(name, SYMBOLS[name])
        c = rng.choice(CONSTANTS)
        return Expr(shortest_float(c), sympy.Rational(c))
    if rng.random() < 0.5:
        return UNARY[rng.choice(sorted(UNARY))](expression(rng, depth - 1))
    return BINARY[rng.choice(sorted(BINARY))](
        expression(rng, depth - 1), expression(rng, depth - 1)
    )


_KINK_FUNCTIONS = {
    "Heaviside": lambda v, *a: mpmath.mpf(1) if v > 0 else mpmath.mpf(0),
    "DiracDelta": lambda *a: mpmath.mpf(0),  # never evaluated at a kink
}


def sympy_at(sym, point: dict) -> float:
    """SymPy's expression at the point, with mpmath at 30 digits; nan when not a real number."""
    names = sorted(point)
    f = sympy.lambdify([SYMBOLS[n] for n in names], sym, modules=[_KINK_FUNCTIONS, "mpmath"])
    with mpmath.workdps(30):
        try:
            v = f(*(mpmath.mpf(point[n]) for n in names))
        except (ZeroDivisionError, ValueError, OverflowError):
            return math.nan
    return math.nan if isinstance(v, mpmath.mpc) else float(v)


def cases(seed: int, count: int, depth: int = 3):
    """(expression, point) pairs: finite, not huge, and away from every kink."""
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        e = expression(rng, depth)
        names = sorted(cgcli.parse(e.text).variables)
        if not names:
            continue
        point = {n: rng.uniform(-2, 2) for n in names}
        if any(abs(sympy_at(k, point)) < 0.05 for k in e.kinks):
            continue
        value = sympy_at(e.sym, point)
        if not (math.isfinite(value) and abs(value) < 1e6):
            continue
        found.append((e, point))
    return found


def close(got: float, want: float, scale: float = 1.0) -> bool:
    return math.isclose(got, want, rel_tol=1e-8, abs_tol=1e-10 * max(1.0, scale))


def value_of(graph_or_text, point: dict) -> float:
    graph = cgcli.parse(graph_or_text) if isinstance(graph_or_text, str) else graph_or_text
    return cgcli.evaluate(graph, {k: v for k, v in point.items() if k in graph.variables}).value


# ---------------------------------------------------------------------------
# Against SymPy


FIRST = cases(seed=7, count=60)


def test_the_random_expressions_cover_every_op():
    ops = {node.op for e, _ in FIRST for node in cgcli.parse(e.text).nodes}
    assert ops >= {
        "add",
        "sub",
        "mul",
        "div",
        "neg",
        "pow",
        "sin",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "max",
        "abs",
        "relu",
    }, ops


def test_derivative_expressions_agree_with_sympy():
    checked = 0
    for e, point in FIRST:
        graph = cgcli.parse(e.text)
        for name in point:
            want = sympy_at(sympy.diff(e.sym, SYMBOLS[name]), point)
            if not (math.isfinite(want) and abs(want) < 1e8):
                continue
            d = derive.derivative(graph, name)
            got = value_of(d, point)
            assert close(got, want, abs(want)), (
                f"d/d{name} of {e.text} at {point}: cg {d.source!r} gives {got!r}, SymPy {want!r}"
            )
            checked += 1
    assert checked >= 80


def test_second_derivatives_and_hessians_agree_with_sympy():
    checked = 0
    for e, point in FIRST[:24]:
        graph = cgcli.parse(e.text)
        names, matrix = hessian(graph, point)
        assert names == list(graph.variables)
        for i, a in enumerate(names):
            for j, b in enumerate(names):
                want = sympy_at(sympy.diff(e.sym, SYMBOLS[a], SYMBOLS[b]), point)
                if not (math.isfinite(want) and abs(want) < 1e8):
                    continue
                scale = abs(want) + abs(matrix[j][i])
                assert close(matrix[i][j], want, scale), (
                    f"H[{a},{b}] of {e.text} at {point}: {matrix[i][j]!r}, SymPy {want!r}"
                )
                assert close(matrix[i][j], matrix[j][i], scale), f"H of {e.text} is not symmetric"
                if i == j:  # --order 2 is the diagonal
                    d2 = value_of(derive.derivative(graph, a, order=2), point)
                    assert close(d2, want, scale), f"d2/d{a}2 of {e.text}: {d2!r}, SymPy {want!r}"
                checked += 1
    assert checked >= 40


def test_mixed_derivatives_by_differentiating_twice_agree_with_sympy():
    checked = 0
    for e, point in FIRST[24:]:
        names = sorted(point)
        if len(names) < 2:
            continue
        a, b = names[:2]
        d = derive.derivative(derive.derivative(cgcli.parse(e.text), a), b)
        want = sympy_at(sympy.diff(e.sym, SYMBOLS[a], SYMBOLS[b]), point)
        if math.isfinite(want) and abs(want) < 1e8:
            assert close(value_of(d, point), want, abs(want)), (
                f"d2/d{a}d{b} of {e.text}: {d.source!r}"
            )
            checked += 1
    assert checked >= 8


# ---------------------------------------------------------------------------
# The derivative as text: it parses, evaluates to the derivative graph's numbers, reads well


def test_printed_text_evaluates_exactly_like_the_graph_it_prints():
    for e, point in FIRST:
        graph = cgcli.parse(e.text)
        assert value_of(to_text(graph), point) == value_of(graph, point), (
            e.text
        )  # the printer on a parsed graph
        for name in point:
            raw = derive.derivative_graph(graph, name)
            values = engine.forward(
                raw, {k: v for k, v in point.items() if k in raw.variables}
            ).values
            want = values[raw.output]
            got = value_of(to_text(raw), point)
            assert got == want or (got != got and want != want), f"{e.text}: {to_text(raw)!r}"


@pytest.mark.parametrize(
    "text",
    [
        "(-2)**x",
        "x**-2",
        "2**-x",
        "-x**2",
        "(-x)**2",
        "x-(y-z)",
        "x-y-z",
        "x/(y*z)",
        "x/y/z",
        "x**y**z",
        "(x**y)**z",
        "-(x*y)",
        "x*(-y)",
        "-(-x)",
        "--x*y",
        "x - -y",
        "(x + y)*(x - y)",
        "-(x + y)",
        "2**x**-1",
        "-pi*e",
        "atan2(-x, y)",
        "1e300*x",
        "1e-7 + x",
        "x*1e400",
        "-0.0*x + 0*y",
        "a = sin(x); a*a + a/y",
    ],
)
def test_printer_round_trip_is_exact(text):
    graph = cgcli.parse(text)
    printed = to_text(graph)
    point = {"x": 0.7, "y": -1.3, "z": 2.1}
    got, want = value_of(printed, point), value_of(graph, point)
    assert got == want or (got != got and want != want), (text, printed)


@pytest.mark.parametrize(
    "expr, wrt, expected",
    [
        ("x*x*x", "x", "3*x**2"),
        ("x*1 + 0", "x", "1"),
        ("-(-x)", "x", "1"),
        ("0*x + x*y", "x", "y"),
        ("x*y*x", "x", "2*x*y"),
        ("sin(x)*sin(x)", "x", "2*sin(x)*cos(x)"),
        ("(x+y)**2", "x", "2*(x + y)"),
        ("x/y", "y", "-x/y**2"),
        ("log(x)", "x", "1/x"),
        ("tanh(x)", "x", "1 - tanh(x)**2"),
        ("x**3*y**2", "y", "2*x**3*y"),
        ("(x-1)**2 + (x+1)**3", "x", "2*(x - 1) + 3*(x + 1)**2"),
        ("1/(1+exp(-x))", "x", "t1 = exp(-x)\nt1/(1 + t1)**2"),
        ("x*y", "z", "0"),
    ],
)
def test_derivatives_read_like_a_person_would_write_them(expr, wrt, expected):
    code, out, err = run_cli(["diff", expr, "--wrt", wrt])
    assert code == 0
    assert out == expected + "\n"


def test_a_repeated_subexpression_is_printed_once_as_a_statement():
    text = derive.derivative(cgcli.parse("exp(sin(x)*y) / (1 + exp(sin(x)*y))"), "x").source
    lines = text.splitlines()
    assert len(lines) >= 2 and lines[0].startswith("t1 = ")
    assert text.count("exp(") == 1, text  # exp(sin(x)*y) is computed once, then used by name
    assert all(line.split(" = ")[0] not in ("x", "y") for line in lines[:-1])
    # a statement's name never takes a variable's
    shadow = derive.derivative(cgcli.parse("exp(sin(x)*t1)/(1 + exp(sin(x)*t1))"), "x").source
    assert "t1 =" not in shadow and "t2 = " in shadow
    point = {"x": 0.3, "t1": 1.7}
    assert close(
        value_of(shadow, point),
        cgcli.grad("exp(sin(x)*t1)/(1 + exp(sin(x)*t1))", point).gradients["x"],
    )


# ---------------------------------------------------------------------------
# The command line: cg eval "$(cg diff EXPR --wrt x)" equals cg grad


ROUND_TRIP = [
    ("(x+y)**2", {"x": 1, "y": 2}),
    ("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}),
    ("a = x*y; a*a + sin(a)/(1 + x**2)", {"x": 0.5, "y": -1.5}),
    ("max(x, y)*relu(x) + abs(y)**1.5", {"x": 1.25, "y": -0.5}),
]


def _bindings(point: dict) -> list[str]:
    return [f"--{k}={v!r}" for k, v in point.items()]


def _plain(out: str) -> float:
    """The value of `f VALUE`, the first line of --format plain."""
    name, value = out.splitlines()[0].split(" ")
    assert name == "f"
    return float(value)


@pytest.mark.parametrize("expr, point", ROUND_TRIP)
def test_eval_of_diff_equals_grad(cg, expr, point):
    for name in point:
        code, text, err = cg(["diff", expr, "--wrt", name])
        assert code == 0, err
        code, out, err = cg(["eval", text.rstrip("\n"), *_bindings(point), "--format", "plain"])
        assert code == 0, err
        code, grad_out, _ = cg(
            ["grad", expr, *_bindings(point), "--wrt", name, "--format", "plain"]
        )
        want = float(grad_out.splitlines()[1].split()[1])
        assert math.isclose(_plain(out), want, rel_tol=1e-13, abs_tol=1e-15), (expr, name, text)
        if cg is not run_cli:
            break  # one variable per expression through the binary is enough


def test_eval_of_diff_through_a_real_shell():
    cg = cg_binary()
    script = f'"{cg}" eval "$("{cg}" diff "x**3*sin(y)" --wrt x)" --x 2 --y 0.5 --format plain'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert math.isclose(_plain(proc.stdout), 3 * 4 * math.sin(0.5), rel_tol=1e-15)


def test_order_two_is_diff_piped_into_diff_and_pipes_give_mixed_derivatives(cg):
    expr = "x**3*y**2 + sin(x*y)"
    code, twice, _ = cg(["diff", expr, "--wrt", "x", "--order", "2"])
    code1, first, _ = cg(["diff", expr, "--wrt", "x"])
    code2, piped, _ = cg(["diff", "-", "--wrt", "x"], input=first)
    assert (code, code1, code2) == (0, 0, 0)
    assert twice == piped
    code, mixed, err = cg(["diff", "-", "--wrt", "y"], input=first)
    assert code == 0, err
    x, y = 0.75, -1.25
    want = 6 * x**2 * y + math.cos(x * y) - x * y * math.sin(x * y)
    assert close(value_of(mixed, {"x": x, "y": y}), want)
    assert close(value_of(twice, {"x": x, "y": y}), 6 * x * y**2 - y**2 * math.sin(x * y))


def test_several_variables_print_one_pasteable_block_each():
    expr, point = "x**2*y + exp(y)", {"x": 1.5, "y": -0.5}
    code, out, err = run_cli(["diff", expr, "--wrt", "x,y"])
    assert code == 0, err
    blocks = out.rstrip("\n").split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["# df/dx", "# df/dy"]
    gradients = cgcli.grad(expr, point).gradients
    for block, name in zip(blocks, "xy"):
        assert close(value_of(block, point), gradients[name])
    code, out, err = run_cli(["diff", expr])  # default: every variable
    assert out.rstrip("\n").split("\n\n") == blocks
    code, out, err = run_cli(["diff", expr, "--wrt", "x,y", "--order", "2"])
    assert out.startswith("# d^2f/dx^2\n2*y\n\n# d^2f/dy^2\n")
    code, out, err = run_cli(["diff", expr, "--wrt", "y,x", "--format", "json"])
    data = json.loads(out)
    assert data["wrt"] == ["y", "x"] and data["order"] == 1 and data["expression"] == expr
    assert data["derivatives"]["x"] == "2*x*y"


def test_diff_usage_errors_and_warnings(cg):
    code, out, err = cg(["diff", "x*y", "--wrt", "x", "--x", "1"])
    assert code == 2 and "takes no values" in err and out == ""
    code, out, err = cg(
        ["diff", "x*y", "-v", "x=1"]
    )  # cg eval's -v: said as such, not "more than one expression"
    assert (code, out, err) == (
        2,
        "",
        'cg: error: cg diff prints a formula and takes no values (-v x=1): bind them in cg eval "$(cg diff … --wrt x)" -v x=1\n'
        "  cg diff 'x*y' -v x=1\n" + " " * 16 + "^\n",
    )
    # cg eval reads one derivative: with several variables the advice names one with --wrt
    for words, given, wrt in [
        (["x*y", "--x", "1"], "--x 1", " --wrt x"),
        (["x*y", "--q", "1"], "--q 1", " --wrt x"),  # q is no variable: the first one
        (["x*y", "--wrt", "y,x", "-v", "x=1"], "-v x=1", " --wrt x"),
        (["x*y", "--wrt", "y", "--x", "1"], "--x 1", ""),
        (["x", "--x", "1"], "--x 1", ""),
    ]:
        code, out, err = cg(["diff", *words])
        assert (code, out, err.splitlines()[0]) == (
            2,
            "",
            f"cg: error: cg diff prints a formula and takes no values ({given}): "
            f'bind them in cg eval "$(cg diff …{wrt})" {given}',
        )
    assert cg(["diff", "-v"])[:2] == (0, "-1\n")  # the expression -v
    code, out, err = cg(["diff", "--", "-x", "--wrt", "x"])
    assert (code, out, err.splitlines()) == (
        2,
        "",
        [
            "cg: error: --wrt is an option: give options before --",
            "  cg diff -- -x --wrt x",
            " " * 16 + "^",
        ],
    )
    code, out, err = cg(["diff", "x*y", "--wrt", "q"])
    assert (code, out) == (0, "0\n") and "does not use q" in err
    code, out, err = cg(["diff", "2*pi"])
    assert code == 2 and "no variables" in err
    code, out, err = cg(["diff", "x*y", "--order", "0"])
    assert code == 2
    code, out, err = cg(["diff", "x*", "--wrt", "x"])
    assert code == 2 and "^" in err


# ---------------------------------------------------------------------------
# Hessians


def test_hessian_of_a_quadratic_form_is_its_constant_matrix():
    # f = 1/2 v'Av + b'v + c with A symmetric
    expr = "1.5*x**2 + 2*x*y - y**2 + 5*x*z + 0.5*z**2 - 3*y*z - x + 4*z + 7"
    a = [[3.0, 2.0, 5.0], [2.0, -2.0, -3.0], [5.0, -3.0, 1.0]]
    rng = random.Random(3)
    for _ in range(5):
        point = {n: rng.uniform(-10, 10) for n in "xyz"}
        names, matrix = hessian(cgcli.parse(expr), point)
        assert names == ["x", "y", "z"]
        assert matrix == a


def test_hessian_of_x_times_y(cg):
    for x, y in [(1, 2), (-3.5, 0.25), (0, 0)]:
        names, matrix = hessian(cgcli.parse("x*y"), {"x": x, "y": y})
        assert (names, matrix) == (["x", "y"], [[0.0, 1.0], [1.0, 0.0]])
    code, out, err = cg(["hessian", "x*y", "--x", "1", "--y", "2", "--format", "json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["variables"] == ["x", "y"] and data["hessian"] == [[0, 1], [1, 0]]
    assert data["value"] == 2 and data["grad"] == {"x": 2, "y": 1}
    code, out, err = cg(["hessian", "x*y", "--x", "1", "--y", "2", "--format", "plain"])
    assert (code, out) == (0, "x 0 1\ny 1 0\n")


def test_hessian_table_and_options():
    code, out, err = run_cli(["hessian", "x**2*y", "--x", "3", "--y", "2"], env={"NO_COLOR": "1"})
    assert code == 0, err
    assert (
        "Hessian" in out and "│ x │ 4 │ 6 │" in out and "│ y │ 6 │ 0 │" in out and "f = 18" in out
    )
    code, out, err = run_cli(
        ["hessian", "x**2*y", "--x", "3", "--y", "2", "--wrt", "y,x", "--format", "plain"]
    )
    assert (code, out) == (0, "y 0 6\nx 6 4\n")
    code, out, err = run_cli(["hessian", "x**2*y", "--x", "1,2,3", "--y", "2", "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["hessian"] == [[[4, 4, 4], [2, 4, 6]], [[2, 4, 6], [0, 0, 0]]]
    code, out, err = run_cli(["hessian", "x**2*y", "--x", "1"])
    assert code == 2 and "no value for the variable y" in err
    code, out, err = run_cli(["hessian", "log(x)*y", "--x", "0", "--y", "1", "--format", "plain"])
    assert code == 3 and "inf" in out


# ---------------------------------------------------------------------------
# --fuse


def test_diff_with_fuse_uses_the_gates_hand_written_gradients():
    code, out, err = run_cli(["diff", "1/(1+exp(-z))", "--wrt", "z", "--fuse"])
    assert (code, out) == (0, "sigmoid(z)*sigmoid(-z)\n")
    code, twice, err = run_cli(["diff", "1/(1+exp(-z))", "--wrt", "z", "--fuse", "--order", "2"])
    s = 1 / (1 + math.exp(-0.7))
    assert close(value_of(twice, {"z": 0.7}), s * (1 - s) * (1 - 2 * s))
    # where the fine-grained derivative overflows, the fused one does not
    assert math.isnan(value_of(derive.derivative(cgcli.parse("1/(1+exp(-z))"), "z"), {"z": -800}))
    assert value_of(out, {"z": -800}) == 0.0


@pytest.mark.parametrize(
    "expr, point",
    [
        ("log(exp(a)+exp(b))*a", {"a": 0.3, "b": -1.2}),
        ("-(t*log(1/(1+exp(-z))) + (1-t)*log(1-1/(1+exp(-z))))", {"z": 0.8, "t": 0.25}),
        ("sqrt(a**2+b**2) + log(1+exp(a*b))", {"a": 1.5, "b": -0.5}),
    ],
)
def test_hessian_with_fuse_agrees_with_the_fine_grained_graph(cg, expr, point):
    fused = cgcli.fuse(expr)
    assert any(node.fused for node in fused.nodes)
    names, fine = hessian(cgcli.parse(expr), point)
    names_fused, coarse = hessian(fused, point)
    assert names == names_fused
    for row_a, row_b in zip(fine, coarse):
        for a, b in zip(row_a, row_b):
            assert close(a, b, abs(a))
    code, out, err = cg(["hessian", expr, *_bindings(point), "--fuse", "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["hessian"] == coarse


# ---------------------------------------------------------------------------
# Directional derivatives in forward mode


@pytest.mark.parametrize("e, point", FIRST[:20])
def test_directional_derivative_agrees_with_gradient_dot_unit(e, point):
    rng = random.Random(e.text)
    direction = {name: rng.uniform(-3, 3) for name in point}
    along, dot = directional(cgcli.parse(e.text), point, direction)
    length = math.sqrt(sum(v * v for v in direction.values()))
    want = sum(
        sympy_at(sympy.diff(e.sym, SYMBOLS[n]), point) * v / length for n, v in direction.items()
    )
    assert close(along, dot, abs(dot)), e.text
    if math.isfinite(want) and abs(want) < 1e8:
        assert close(along, want, abs(want)), e.text


def test_directional_is_forward_mode_and_scales_to_unit_length(monkeypatch):
    graph = cgcli.parse("x**2*y + sin(y)")
    along, dot = directional(graph, {"x": 1, "y": 2}, {"x": 3, "y": 4})
    assert close(along, (4 * 3 + (1 + math.cos(2)) * 4) / 5) and close(dot, along)
    along, _ = directional(graph, {"x": 1, "y": 2}, {"x": 1})  # y's component is 0
    assert along == 4.0

    def no_backprop(*args, **kwargs):
        raise AssertionError("forward mode must not run backprop")

    monkeypatch.setattr(engine, "backward", no_backprop)
    value, tangent = forward_mode.forward_mode(graph, {"x": 1.0, "y": 2.0}, {"x": 0.6, "y": 0.8})
    assert value == 2 + math.sin(2) and close(tangent, 0.6 * 4 + 0.8 * (1 + math.cos(2)))
    monkeypatch.undo()
    # directional's first number is forward mode's, with the unit vector
    seen = []
    monkeypatch.setattr(
        forward_mode,
        "forward_mode",
        lambda g, env, unit, backend: seen.append(unit) or (0.0, 12345.0),
    )
    assert directional(graph, {"x": 1, "y": 2}, {"x": 3, "y": 4})[0] == 12345.0
    assert seen == [{"x": 0.6, "y": 0.8}]


def test_directional_on_a_batch_and_with_fuse():
    import numpy as np

    graph = cgcli.fuse("1/(1+exp(-(w*x)))")
    along, dot = directional(graph, {"w": [0.5, -2, 3], "x": 1.5}, {"w": 1, "x": 1})
    s = 1 / (1 + np.exp(-1.5 * np.array([0.5, -2, 3])))
    want = s * (1 - s) * (1.5 + np.array([0.5, -2, 3])) / math.sqrt(2)
    assert np.allclose(along, want, rtol=1e-12) and np.allclose(dot, want, rtol=1e-12)


def test_directional_errors():
    graph = cgcli.parse("x*y")
    with pytest.raises(CgError, match="zero vector"):
        directional(graph, {"x": 1, "y": 2}, {"x": 0, "y": 0})
    with pytest.raises(CgError, match="no variable z"):
        directional(graph, {"x": 1, "y": 2}, {"z": 1})
    with pytest.raises(CgError, match="no value for the variable y"):
        directional(graph, {"x": 1}, {"x": 1})


# ---------------------------------------------------------------------------
# Big inputs: nothing recurses over the expression


def _stack_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame:
        depth, frame = depth + 1, frame.f_back
    return depth


def test_derivatives_of_huge_and_deep_expressions_do_not_recurse():
    old = sys.getrecursionlimit()
    sum_text = " + ".join(f"sin(x*{k})*y" for k in range(1, 3001))
    deep_text = "sin(" * 2000 + "x" + ")" * 2000
    sum_graph, deep_graph = cgcli.parse(sum_text), cgcli.parse(deep_text)
    sys.setrecursionlimit(_stack_depth() + 120)
    try:
        d_sum = derive.derivative(sum_graph, "x")
        d_deep = derive.derivative(deep_graph, "x")
        second = derive.derivative(
            cgcli.parse("*".join(f"x{k}" for k in range(300))), "x7", order=2
        )
    finally:
        sys.setrecursionlimit(old)
    point = {"x": 0.001, "y": 2.0}
    assert close(value_of(d_sum, point), cgcli.grad(sum_graph, point).gradients["x"], 1e4)
    assert close(value_of(d_deep, {"x": 0.5}), cgcli.grad(deep_graph, {"x": 0.5}).gradients["x"])
    assert d_sum.source.startswith("y*cos(x) + 2*y*cos(2*x) + 3*y*cos(3*x)")
    assert second.source == "0"
