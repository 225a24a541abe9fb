"""The ops table (cgcli/ops.py): every row complete, the grammar and the docs agree with it,
and erf/erfc, added through it alone, right against mpmath and finite differences."""

from __future__ import annotations

import importlib.util
import inspect
import math
import re
from pathlib import Path

import mpmath
import numpy as np
import pytest

import cgcli
from cgcli import arrays, ops, scalar
from cgcli.syntax import BINARY, parse

REPO = Path(__file__).resolve().parent.parent


def _problems(op: ops.Op) -> list[str]:
    """What is missing or wrong in one row; [] for a complete row."""
    found = []
    if not re.fullmatch(r"[a-z][a-z0-9]*", op.name):
        found.append("a name that is not a lowercase word")
    if op.arity not in (1, 2):
        found.append(f"arity {op.arity}")
    if not callable(op.scalar):
        found.append("no forward for one point")
    else:
        with np.errstate(all="ignore"):
            try:
                value = op.scalar(*[0.5] * op.arity)
            except TypeError as e:
                found.append(f"the forward for one point does not take {op.arity} inputs ({e})")
            else:
                if not isinstance(value, float):
                    found.append(f"the forward for one point gives {type(value).__name__}")
    try:
        batch = op.array_forward
    except (ImportError, AttributeError) as e:
        found.append(f"no forward for many points at {op.array!r} ({e})")
    else:
        with np.errstate(all="ignore"):
            try:
                got = batch(*[np.array([0.25, 0.5])] * op.arity)
            except TypeError as e:
                found.append(f"the forward for many points does not take {op.arity} inputs ({e})")
            else:
                if np.shape(got) != (2,):
                    found.append("the forward for many points does not give one value per point")
    for text in op.grads + op.symbolic:
        try:
            formula = parse(text)
        except cgcli.CgError as e:
            found.append(f"local gradient {text!r} does not parse: {e.message}")
            continue
        unknown = set(formula.variables) - {*ops.INPUT_NAMES[: op.arity], "out"}
        if unknown:
            found.append(f"local gradient {text!r} names {sorted(unknown)}, not an input or out")
    if op.symbolic and len(op.symbolic) != op.arity:
        found.append("symbolic forms not one per input")
    if op.crosses_kink is not None:
        if not op.at_kinks:
            found.append("a kink without its convention (at_kinks)")
        if len(inspect.signature(op.crosses_kink).parameters) != 2:
            found.append("crosses_kink does not take (inputs a, inputs b)")
    if not op.doc:
        found.append("no doc line")
    if op.infix:
        if op.precedence not in (ops.SUM, ops.PRODUCT, ops.UNARY, ops.POWER):
            found.append(f"operator {op.infix!r} without a precedence")
        if len(op.operands) != op.arity:
            found.append("operand precedences not one per input")
    elif not op.function:
        found.append("neither an operator nor a function: no way to write it")
    return found


def test_every_row_is_complete():
    problems = {op.name: _problems(op) for op in ops.TABLE}
    assert {name: p for name, p in problems.items() if p} == {}
    assert len(ops.OPS) == len(ops.TABLE), "two rows with one name"


def test_the_completeness_check_finds_what_a_row_misses():
    # the check above must be able to fail: rows with a part missing or wrong
    sin = ops.OPS["sin"]
    relu = ops.OPS["relu"]
    broken = [
        ops.Op("sin", sin.scalar, "arrays.no_such_function", sin.grads, sin.doc),
        ops.Op("sin", None, sin.array, sin.grads, sin.doc),
        ops.Op("sin", sin.scalar, sin.array, ("cos(x",), sin.doc),
        ops.Op("sin", sin.scalar, sin.array, ("cos(z)",), sin.doc),
        ops.Op("sin", sin.scalar, sin.array, ("1", "1"), sin.doc),
        ops.Op(
            "relu", relu.scalar, relu.array, relu.grads, relu.doc, crosses_kink=relu.crosses_kink
        ),
        ops.Op("sin", sin.scalar, sin.array, sin.grads, ""),
    ]
    for row in broken:
        assert _problems(row), row


def test_every_function_parses_with_its_arity_and_computes_its_row():
    for name, op in ops.FUNCTIONS.items():
        args = ", ".join(["0.25"] * op.arity)
        value = cgcli.evaluate(f"{name}({args})").value
        want = op.scalar(*[0.25] * op.arity)
        assert value == want or (math.isnan(value) and math.isnan(want)), name
        wrong = op.arity - 1 if op.variadic else op.arity + 1  # a variadic op takes more
        with pytest.raises(cgcli.CgError, match="takes"):
            parse(f"{name}({', '.join(['1'] * wrong)})")
        if op.variadic:
            more = [0.25, -1.5, 3.0, 0.5][: op.arity + 2]
            value = cgcli.evaluate(f"{name}({', '.join(map(str, more))})").value
            assert value == op.scalar(*more), name


def _grammar_operators() -> dict[str, tuple[str, int, tuple[int, ...]]]:
    """From grammar/cg.lark: rule alias → (operator token's spelling, level, operand levels)."""
    text = (REPO / "grammar" / "cg.lark").read_text(encoding="utf-8")
    levels = {"sum": ops.SUM, "product": ops.PRODUCT, "unary": ops.UNARY, "power": ops.POWER}
    levels["atom"] = ops.ATOM
    tokens = {
        name: re.findall(r'"([^"]+)"', spelled)
        for name, spelled in re.findall(r"^([A-Z]+):\s*(.+)$", text, re.M)
    }
    found = {}
    rule = None
    for line in text.splitlines():
        head = re.match(r"\?(\w+):", line)
        if head:
            rule = head.group(1)
        alternative = re.search(r"(?:\?\w+:|\|)\s*(.*?)\s*->\s*(\w+)\s*$", line)
        if not alternative or rule not in levels:
            continue
        symbols, alias = alternative.group(1).split(), alternative.group(2)
        operator_tokens = [s for s in symbols if s in tokens and s not in ("NUMBER", "NAME")]
        if not operator_tokens or "LPAR" in symbols:
            continue
        (token,) = operator_tokens
        operands = tuple(levels[s] for s in symbols if s in levels)
        found[alias] = (tokens[token][0], levels[rule], operands, tokens[token])
    return found


def test_the_grammars_operators_and_precedences_are_the_tables():
    grammar = _grammar_operators()
    grammar.pop("pos")  # unary plus is no op: it makes no node
    table = {op.name: op for op in ops.TABLE if op.infix}
    assert set(grammar) == set(table)
    for name, (spelling, level, operands, _) in grammar.items():
        op = table[name]
        assert op.infix == spelling, name
        assert op.precedence == level, name
        assert op.operands == operands, name
        assert len(operands) == op.arity, name
    assert BINARY == {name for name, op in table.items() if op.arity == 2}


def test_the_printer_writes_operators_as_the_table_says():
    from cgcli.printer import to_text

    for text in ["x + y", "x - y", "x*y", "x/y", "-x", "x**y", "-x**2", "2**-x", "(x - y) - z"]:
        assert to_text(parse(text)) == text.replace("(x - y) - z", "x - y - z")
    assert to_text(parse("x - (y - z)")) == "x - (y - z)"
    assert to_text(parse("(x**y)**z")) == "(x**y)**z"


def test_kink_detection_reads_the_table():
    from cgcli.check import kinks

    graph = parse("relu(x - 0.5) + floor(x)*hypot(x, 1)")
    values = lambda x: cgcli.evaluate(graph, {"x": x}).values  # noqa: E731
    relu, floor = (i for i, op in enumerate(graph.op) if op in ("relu", "floor"))
    assert kinks(graph, values(0.4), values(0.6)) == [relu]
    assert kinks(graph, values(0.9), values(1.1)) == [floor]
    assert kinks(graph, values(0.2), values(0.3)) == []
    assert ops.KINK_OPS == {"relu", "abs", "sign", "max", "min", "floor", "ceil", "atan2", "hypot"}


def _make_functions_module():
    spec = importlib.util.spec_from_file_location(
        "make_functions", REPO / "docs" / "make_functions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_functions_md_is_generated_from_the_table():
    made = _make_functions_module().functions_md()
    committed = (REPO / "docs" / "functions.md").read_text(encoding="utf-8")
    assert committed == made, "docs/functions.md is stale: run python docs/make_functions.py"
    for op in ops.TABLE:  # and the generator shows every row
        assert f"`{op.spelling}`" in made, op.name
        for formula in op.grads:
            assert f"`{formula}`" in made, (op.name, formula)
        assert op.at_kinks in made


# ---------------------------------------------------------------------------
# erf and erfc

mpmath.mp.dps = 40

# the whole line, densely where the pieces of arrays.erf meet (0.5, 2), and the tails
POINTS = np.unique(
    np.concatenate(
        [
            np.linspace(-30, 30, 6001),
            np.linspace(0.4, 2.1, 1701),
            -np.linspace(0.4, 2.1, 1701),
            np.geomspace(1e-300, 0.6, 300),
            -np.geomspace(1e-300, 0.6, 300),
            [5.0, 10.0, 26.0, 26.5, 27.0, 27.2, 27.25, 27.3, 0.5, 2.0, np.nextafter(0.5, 0)],
            [np.nextafter(2.0, 0), 5e-324, -5e-324, 0.0, -0.0, 1e-20],
        ]
    )
)
TINY = 5e-324


def _ulps(got: float, want: float) -> float:
    """got's distance from want in units of want's last place (subnormals: of the smallest one)."""
    if got == want:
        return 0.0
    return abs(got - want) / max(math.ulp(want), TINY)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_and_erfc_for_many_points_are_within_a_few_ulps_of_mpmath(name):
    exact = {"erf": mpmath.erf, "erfc": mpmath.erfc}[name]
    got = ops.OPS[name].array_forward(POINTS)
    worst = max(
        (_ulps(float(g), float(exact(mpmath.mpf(float(x))))), float(x)) for x, g in zip(POINTS, got)
    )
    assert worst[0] <= 3, f"{name}: {worst[0]} ulps at x = {worst[1]!r}"


def test_erf_and_erfc_at_the_tails_and_specials():
    f, g = arrays.erf, arrays.erfc
    xs = np.array([5.0, 10.0, 26.0, 27.0, 27.3, 28.0, np.inf, -np.inf, np.nan, -0.0])
    one, batch = [math.erfc(x) for x in xs], g(xs)
    for x, a, b in zip(xs, one, batch):
        assert (math.isnan(a) and math.isnan(b)) or _ulps(b, a) <= 3, x
    assert g(np.array([10.0]))[0] == pytest.approx(2.088487583762545e-45, rel=1e-15)
    assert g(np.array([26.0]))[0] == pytest.approx(5.663192408856143e-296, rel=1e-15)
    assert g(np.array([28.0, np.inf]))[0] == 0.0 and g(np.array([-np.inf]))[0] == 2.0
    assert list(f(np.array([np.inf, -np.inf]))) == [1.0, -1.0]
    assert math.copysign(1, f(np.array([-0.0]))[0]) == -1  # erf(-0) is -0
    assert f(np.array([1e-310]))[0] == math.erf(1e-310)  # subnormal in, subnormal out


def test_erf_and_erfc_keep_a_constant_beside_many_points_one_float():
    assert arrays.erf(0.5) == math.erf(0.5) and arrays.erfc(3.0) == math.erfc(3.0)


@pytest.mark.parametrize("x", [-3.0, -0.7, 0.0, 0.3, 1.1, 2.5, 5.0, 10.0, 26.0])
def test_erf_and_erfc_gradients_at_one_point_agree_with_mpmath(x):
    slope = 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-(mpmath.mpf(x) ** 2))
    for name, sign in (("erf", 1), ("erfc", -1)):
        r = cgcli.grad(f"{name}(x)", {"x": x})
        assert r.value == pytest.approx(
            float((mpmath.erf if sign > 0 else mpmath.erfc)(x)), rel=4e-16
        )
        # exp(-x**2) of a rounded x**2: a relative error of x**2 times float64's
        assert r.gradients["x"] == pytest.approx(
            float(sign * slope), rel=1e-15 * (1 + x * x), abs=1e-320
        )


def test_erf_and_erfc_gradients_agree_with_finite_differences():
    for x in (-1.3, -0.2, 0.4, 0.9, 1.7, 3.0):
        h = 1e-6  # the difference of two values near 1 keeps about 10 digits
        for name in ("erf", "erfc"):
            f = ops.OPS[name].scalar
            numeric = (f(x + h) - f(x - h)) / (2 * h)
            assert cgcli.grad(f"{name}(x)", {"x": x}).gradients["x"] == pytest.approx(
                numeric, rel=1e-7, abs=1e-9
            )


def test_erf_and_erfc_for_a_batch_agree_with_one_point_at_a_time_and_mpmath():
    xs = np.linspace(0, 1, 1000)
    for name in ("erf", "erfc"):
        r = cgcli.grad(f"{name}(x)*y", {"x": xs, "y": 2.0})
        for k in (0, 1, 333, 500, 999):
            one = cgcli.grad(f"{name}(x)*y", {"x": float(xs[k]), "y": 2.0})
            assert _ulps(float(r.value[k]), one.value) <= 3
            assert r.gradients["x"][k] == one.gradients["x"]
            exact = (mpmath.erf if name == "erf" else mpmath.erfc)(float(xs[k]))
            assert _ulps(float(r.gradients["y"][k]), float(exact)) <= 3


def test_erf_through_the_command_line_and_cg_diff(cg):
    code, out, err = cg(["grad", "erf(x) + erfc(x)", "--x", "0:1:1000", "--format", "csv"])
    assert code == 0, err
    rows = [line.split(",") for line in out.splitlines()[1:]]
    assert len(rows) == 1000
    assert all(float(f) == pytest.approx(1.0, abs=2e-16) for _, f, _ in rows)
    assert all(abs(float(g)) <= 2e-16 for *_, g in rows)  # the two gradients cancel
    code, out, err = cg(["diff", "erf(2*x)", "--wrt", "x"])
    assert code == 0, err
    assert cgcli.evaluate(out, {"x": 0.3}).value == pytest.approx(
        float(4 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-0.36)), rel=1e-15
    )


def test_no_op_forward_lives_in_the_backends_when_math_or_numpy_has_it():
    # the backends hold what math and numpy lack; the rows point at math, operator and numpy
    for op in ops.TABLE:
        if op.array.startswith("arrays."):
            assert not hasattr(np, op.array.removeprefix("arrays.")) or op.name in (
                "pow",  # numpy's power takes shortcuts IEEE pow does not, for one base
            ), op.name
    assert not hasattr(scalar, "sin") and not hasattr(arrays, "sin")
