"""Property tests of the engine against oracles that do not share its code.

* SymPy. Each random expression is generated twice in parallel: as cg text
  (with Python's precedence and as few parentheses as it needs) and as a SymPy
  expression built with SymPy's constructors, never by parsing the text.
  SymPy's derivatives and value, evaluated with mpmath to 40 digits at the
  same binary floats, must match cg's value and gradients.
* Central finite differences of cg's forward pass (`cgcli.evaluate`): no
  backprop and no SymPy involved.
* The conventions written in cgcli/ops.py where an op has a kink: relu'(0) = 0,
  abs'(0) = 0, and max/min give 0.5 to each side of a tie. Checked exactly.
* Algebra: the two uses of `a` in `a = E; a*a` add up to 2*E*dE.
* IEEE semantics as README.md promises them: every result is a Python float
  (never complex, never an exception), and every nan or inf, in a value or a
  gradient, is reported by a warning that names the node where it first
  appeared (also where a fork's sum overflows, or a literal does).

The random expressions are smooth and well conditioned on the box
|x|, |y|, |z| <= 2: denominators and the arguments of log, sqrt and friends
have the form 1 + u**2, and a static bound keeps the value of every op the
generator draws within BOUND_LIMIT (a too-large argument is squashed with tanh
first). The SymPy and finite-difference tests run once per op, with that op
at the top of random expressions, so every op is checked on every run. All
tests are derandomized: CI sees the same examples each time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import mpmath
import pytest
import sympy
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import cgcli
from cgcli.ops import FUNCTIONS


def checked(max_examples: int):
    """Hypothesis settings of these tests: reproducible, no deadline, no example database."""
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None)


# ---------------------------------------------------------------------------
# Random expressions: cg text and SymPy expression, built side by side
# ---------------------------------------------------------------------------

VARIABLES = ("x", "y", "z")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in VARIABLES}
BOX = 2.0  # points are drawn from [-BOX, BOX] for every variable
BOUND_LIMIT = 10.0  # every generated subexpression has |value| <= this on the box
CONSTANTS = (0.1, 0.25, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)

# Precedence levels of the text, as in Python (and cg's grammar).
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Expr:
    text: str  # cg source
    sym: sympy.Expr  # the same function, built with SymPy's constructors
    prec: int  # precedence level of the text's outermost operator
    bound: float  # |value| <= bound wherever every variable is in [-BOX, BOX]
    names: frozenset = frozenset()  # variables used by the text
    kinks: tuple = ()  # SymPy expressions that are 0 at a kink of one of its ops


def operand(e: Expr, prec: int) -> str:
    """The text of e as an operand at precedence prec: parenthesized only if needed."""
    return e.text if e.prec >= prec else f"({e.text})"


def _merge(*args: Expr) -> dict:
    return {
        "names": frozenset().union(*(a.names for a in args)),
        "kinks": tuple(k for a in args for k in a.kinks),
    }


def number(c: float) -> Expr:
    text = repr(c)[:-2] if repr(c).endswith(".0") else repr(c)
    return Expr(text, sympy.Rational(c), ATOM, abs(c))  # Rational(c): the exact binary value


def variable(name: str) -> Expr:
    return Expr(name, SYMBOLS[name], ATOM, BOX, frozenset([name]))


def call(name: str, sym, bound: float, *args: Expr, kinks: tuple = ()) -> Expr:
    merged = _merge(*args)
    text = f"{name}({', '.join(a.text for a in args)})"
    return Expr(text, sym, ATOM, bound, merged["names"], merged["kinks"] + kinks)


def infix(a: Expr, symbol: str, b: Expr, sym, bound: float) -> Expr:
    """A left-associative binary operator (+ - * /)."""
    prec = SUM if symbol in "+-" else PRODUCT
    text = f"{operand(a, prec)} {symbol} {operand(b, prec + 1)}"
    return Expr(text, sym, prec, bound, **_merge(a, b))


def add(a, b):
    return infix(a, "+", b, a.sym + b.sym, a.bound + b.bound)


def sub(a, b):
    return infix(a, "-", b, a.sym - b.sym, a.bound + b.bound)


def mul(a, b):
    return infix(a, "*", b, a.sym * b.sym, a.bound * b.bound)


def div(a, b, bound):
    return infix(a, "/", b, a.sym / b.sym, bound)


def neg(a):
    return Expr("-" + operand(a, UNARY), -a.sym, UNARY, a.bound, **_merge(a))


def power(a: Expr, b: Expr, spelling: str, bound: float) -> Expr:
    """a ** b, spelled a**b, a^b or pow(a, b): base an atom, exponent a unary (as in Python)."""
    sym = sympy.Pow(a.sym, b.sym)
    if spelling == "pow":
        return call("pow", sym, bound, a, b)
    return Expr(
        f"{operand(a, ATOM)}{spelling}{operand(b, UNARY)}", sym, POWER, bound, **_merge(a, b)
    )


def positive(a: Expr, spelling: str) -> Expr:
    """1 + a**2 (>= 1): a safe denominator and a safe argument for log, sqrt, cbrt."""
    return add(number(1.0), square(a, spelling))


def square(a: Expr, spelling: str) -> Expr:
    return power(a, number(2.0), spelling, a.bound**2)


def cube(a: Expr, spelling: str) -> Expr:
    return power(a, number(3.0), spelling, a.bound**3)


def two_plus_square(a: Expr, spelling: str) -> Expr:
    return add(number(2.0), square(a, spelling))


def function(name: str, sym_of, bound_of):
    """A builder of name(a): sym_of gives the SymPy expression, bound_of the bound, from a's."""
    return lambda a, spelling: call(name, sym_of(a.sym), bound_of(a.bound), a)


def after(inner, outer):
    """A builder of outer(inner(a)), e.g. sqrt(1 + a**2)."""
    return lambda a, spelling: outer(inner(a, spelling), spelling)


def halved(inner):
    """A builder of inner(a) / 2."""

    def build(a, spelling):
        e = inner(a, spelling)
        return div(e, number(2.0), e.bound / 2)

    return build


def one(_):
    return 1.0


SIN = function("sin", sympy.sin, one)
COS = function("cos", sympy.cos, one)
TANH = function("tanh", sympy.tanh, one)

# Smooth ops of one argument: name -> builder(a, spelling of **). Where an op has a
# singularity or a domain edge, its argument is kept away from it: 1 + a**2 >= 1,
# 2 + a**2 >= 2, |sin(a)/2| <= 1/2, |tanh(a)/2| <= 1/2.
SMOOTH_UNARY = {
    "neg": lambda a, spelling: neg(a),
    "sin": SIN,
    "cos": COS,
    "tanh": TANH,
    "atan": function("atan", sympy.atan, lambda b: math.pi / 2),
    "sigmoid": function("sigmoid", lambda u: 1 / (1 + sympy.exp(-u)), one),
    "softplus": function("softplus", lambda u: sympy.log(1 + sympy.exp(u)), lambda b: b + 1),
    "asinh": function("asinh", sympy.asinh, lambda b: b),
    "square": square,
    "cube": cube,
    "exp": function("exp", sympy.exp, math.exp),
    "expm1": function("expm1", lambda u: sympy.exp(u) - 1, math.exp),
    "exp2": function("exp2", lambda u: 2**u, lambda b: 2**b),
    "sinh": function("sinh", sympy.sinh, math.cosh),
    "cosh": function("cosh", sympy.cosh, math.cosh),
    "sqrt": after(positive, function("sqrt", sympy.sqrt, math.sqrt)),
    "cbrt": after(positive, function("cbrt", sympy.cbrt, math.cbrt)),
    "log": after(positive, function("log", sympy.log, math.log)),
    "log2": after(positive, function("log2", lambda u: sympy.log(u, 2), math.log2)),
    "log10": after(positive, function("log10", lambda u: sympy.log(u, 10), math.log10)),
    "log1p": after(square, function("log1p", lambda u: sympy.log(1 + u), math.log1p)),
    "asin": after(halved(SIN), function("asin", sympy.asin, lambda b: math.pi / 2)),
    "acos": after(halved(COS), function("acos", sympy.acos, lambda b: math.pi)),
    "atanh": after(halved(TANH), function("atanh", sympy.atanh, one)),
    "acosh": after(two_plus_square, function("acosh", sympy.acosh, math.acosh)),
}


def function2(name: str, sym_of, bound_of, *, kink=None):
    """A builder of name(a, b); kink(a, b), if given, is the SymPy expression that is 0 at its kink."""

    def build(a, b, spelling):
        kinks = (kink(a.sym, b.sym),) if kink else ()
        return call(name, sym_of(a.sym, b.sym), bound_of(a.bound, b.bound), a, b, kinks=kinks)

    return build


def second_positive(build2):
    """A builder of build2(a, 1 + b**2): b's place is kept away from 0."""
    return lambda a, b, spelling: build2(a, positive(b, spelling), spelling)


def pow_of_positive(a, b, spelling):
    """(1 + a**2) ** b: a positive base, any exponent."""
    base = positive(a, spelling)
    return power(base, b, spelling, base.bound**b.bound)


# Smooth ops of two arguments: name -> builder(a, b, spelling of **).
SMOOTH_BINARY = {
    "add": lambda a, b, spelling: add(a, b),
    "sub": lambda a, b, spelling: sub(a, b),
    "mul": lambda a, b, spelling: mul(a, b),
    "div": second_positive(lambda a, b, spelling: div(a, b, a.bound)),
    "pow": pow_of_positive,
    "hypot": second_positive(
        function2("hypot", lambda u, v: sympy.sqrt(u**2 + v**2), lambda p, q: p + q)
    ),
    "atan2": second_positive(function2("atan2", sympy.atan2, lambda p, q: math.pi)),
    "xlogy": second_positive(
        function2("xlogy", lambda u, v: u * sympy.log(v), lambda p, q: p * math.log(q))
    ),
}

# Ops with a kink, each noting the SymPy expression that is 0 at its kink.
KINK_UNARY = {
    "relu": lambda a, spelling: call("relu", sympy.Max(a.sym, 0), a.bound, a, kinks=(a.sym,)),
    "abs": lambda a, spelling: call("abs", sympy.Abs(a.sym), a.bound, a, kinks=(a.sym,)),
}
KINK_BINARY = {
    "max": function2("max", sympy.Max, max, kink=lambda u, v: u - v),
    "min": function2("min", sympy.Min, max, kink=lambda u, v: u - v),
}


def bounded(build, *args: Expr) -> Expr:
    """build(*args), with every argument squashed by tanh first if the result could exceed BOUND_LIMIT."""
    e = build(*args)
    if e.bound <= BOUND_LIMIT:
        return e
    return build(*(TANH(a, "**") for a in args))


SMOOTH_OPS = sorted(SMOOTH_UNARY | SMOOTH_BINARY)
KINK_OPS = sorted(KINK_UNARY | KINK_BINARY)


@st.composite
def expressions(
    draw, depth: int = 4, names: tuple = VARIABLES, kinks: bool = False, root: str | None = None
) -> Expr:
    """A random expression over `names`, its top op `root` if given.

    With kinks=True relu, abs, max and min appear too."""
    if root is None and (depth == 0 or draw(st.integers(0, 3)) == 0):
        return draw(st.sampled_from(names).map(variable) | st.sampled_from(CONSTANTS).map(number))
    unary = SMOOTH_UNARY | (KINK_UNARY if kinks else {})
    binary = SMOOTH_BINARY | (KINK_BINARY if kinks else {})
    if root is None:
        root = draw(
            st.sampled_from(sorted(unary))
            if draw(st.booleans())
            else st.sampled_from(sorted(binary))
        )
    spelling = draw(st.sampled_from(["**", "^", "pow"]))
    arguments = expressions(max(depth - 1, 0), names, kinks)
    if root in unary:
        return bounded(lambda a: unary[root](a, spelling), draw(arguments))
    return bounded(lambda a, b: binary[root](a, b, spelling), draw(arguments), draw(arguments))


@st.composite
def expressions_and_points(draw, kinks: bool = False, root: str | None = None):
    """(expression, point): the point binds exactly the expression's variables, each in [-BOX, BOX]."""
    e = draw(expressions(kinks=kinks, root=root))
    point = {name: draw(st.floats(-BOX, BOX), label=name) for name in sorted(e.names)}
    return e, point


# ---------------------------------------------------------------------------
# Oracles
# ---------------------------------------------------------------------------


def sympy_at(sym, point: dict) -> float:
    """SymPy's function at the point, computed with mpmath to 40 digits, rounded to a float.

    The variables get their exact binary values; nan where the result is not real.
    """
    names = sorted(point)
    f = sympy.lambdify([SYMBOLS[name] for name in names], sym, modules="mpmath")
    with mpmath.workdps(40):
        v = f(*(mpmath.mpf(point[name]) for name in names))
    return math.nan if isinstance(v, mpmath.mpc) else float(v)


def sympy_gradient(e: Expr, point: dict) -> dict[str, float]:
    return {name: sympy_at(sympy.diff(e.sym, SYMBOLS[name]), point) for name in point}


def central_difference(text: str, point: dict, name: str) -> float:
    """∂f/∂name from cg's forward pass alone: (f(v+h) - f(v-h)) / 2h."""
    v = point[name]
    h = 1e-6 * max(1.0, abs(v))
    up = cgcli.evaluate(text, {**point, name: v + h}).value
    down = cgcli.evaluate(text, {**point, name: v - h}).value
    return (up - down) / ((v + h) - (v - h))


def assert_close(got: float, want: float, rel: float, abs_: float, what: str) -> None:
    assert math.isclose(got, want, rel_tol=rel, abs_tol=abs_), (
        f"{what}: got {got!r}, expected {want!r}"
    )


def shown(e: Expr, point: dict) -> str:
    return f"cg {e.text!r} at {point}"


# ---------------------------------------------------------------------------
# 1. Values and gradients against SymPy (item 4's "the value equals SymPy's" too)
# ---------------------------------------------------------------------------

SYMPY_REL, SYMPY_ABS = 1e-9, 1e-12


@checked(150)
@given(expressions_and_points())
def test_value_matches_sympy(case):
    e, point = case
    want = sympy_at(e.sym, point)
    assume(math.isfinite(want))
    r = cgcli.evaluate(e.text, point)
    assert_close(r.value, want, SYMPY_REL, SYMPY_ABS, f"value of {shown(e, point)}")
    assert r.warnings == [], shown(e, point)


@pytest.mark.parametrize("root", SMOOTH_OPS)
@checked(6)
@given(data=st.data())
def test_gradients_match_sympy(root, data):
    # every smooth op is the top of some expressions, whatever the random draw
    e, point = data.draw(expressions_and_points(root=root), label="case")
    assume(math.isfinite(sympy_at(e.sym, point)))
    r = cgcli.grad(e.text, point)
    assert_close(
        r.value, sympy_at(e.sym, point), SYMPY_REL, SYMPY_ABS, f"value of {shown(e, point)}"
    )
    assert set(r.gradients) == e.names
    for name, want in sympy_gradient(e, point).items():
        assume(math.isfinite(want))
        assert_close(
            r.gradients[name], want, SYMPY_REL, SYMPY_ABS, f"∂/∂{name} of {shown(e, point)}"
        )
    assert r.warnings == [], shown(e, point)


# ---------------------------------------------------------------------------
# 2. Gradients against central finite differences of the forward pass
# ---------------------------------------------------------------------------


def assert_gradients_match_differences(e: Expr, point: dict) -> None:
    r = cgcli.grad(e.text, point)
    assert set(r.gradients) == e.names
    for name in point:
        fd = central_difference(e.text, point, name)
        assert_close(
            r.gradients[name],
            fd,
            1e-5,
            1e-6 * (1 + abs(r.value)),
            f"∂/∂{name} of {shown(e, point)}",
        )


@pytest.mark.parametrize("root", SMOOTH_OPS)
@checked(8)
@given(data=st.data())
def test_gradients_match_finite_differences(root, data):
    assert_gradients_match_differences(*data.draw(expressions_and_points(root=root), label="case"))


# ---------------------------------------------------------------------------
# 3. Kink ops: finite differences away from the kinks, the conventions at them
# ---------------------------------------------------------------------------

KINK_MARGIN = 1e-3


@pytest.mark.parametrize("root", KINK_OPS)
@checked(30)
@given(data=st.data())
def test_kink_ops_match_finite_differences_away_from_kinks(root, data):
    e, point = data.draw(expressions_and_points(kinks=True, root=root), label="case")
    assume(all(abs(sympy_at(k, point)) > KINK_MARGIN for k in e.kinks))
    assert_gradients_match_differences(e, point)


def in_z():
    """A random smooth expression of z alone (or a constant)."""
    return expressions(depth=3, names=("z",))


def value_in_z(e: Expr, z: float) -> float:
    return cgcli.evaluate(e.text, {"z": z} if e.names else {}).value


@checked(60)
@given(
    op=st.sampled_from(["relu", "abs"]),
    s=in_z(),
    t=in_z(),
    at=st.floats(-BOX, BOX),
    z=st.floats(-BOX, BOX),
)
def test_relu_and_abs_have_zero_gradient_at_the_kink(op, s, t, at, z):
    # f = op(x*S - y*S) + x*T at x = y: op's argument is exactly 0, so with op'(0) = 0
    # ∂f/∂x = 0*S + T = T and ∂f/∂y = 0 exactly (op'(0) = 1 would give S + T and -S).
    x, y = variable("x"), variable("y")
    f = add(KINK_UNARY[op](sub(mul(x, s), mul(y, s)), "**"), mul(x, t))
    point = {"x": at, "y": at, "z": z}
    r = cgcli.grad(f.text, point)
    assert r.gradients["x"] == value_in_z(t, z), f"∂/∂x of {f.text!r} at {point}"
    assert r.gradients["y"] == 0.0, f"∂/∂y of {f.text!r} at {point}"


@checked(60)
@given(
    op=st.sampled_from(["max", "min"]),
    s=in_z(),
    t=in_z(),
    at=st.floats(-BOX, BOX),
    z=st.floats(-BOX, BOX),
)
def test_max_and_min_split_a_tie_half_and_half(op, s, t, at, z):
    # f = op(x*S, y*S) + x*T at x = y: a tie, each side gets 0.5,
    # so ∂f/∂x = 0.5*S + T and ∂f/∂y = 0.5*S.
    x, y = variable("x"), variable("y")
    f = add(KINK_BINARY[op](mul(x, s), mul(y, s), "**"), mul(x, t))
    point = {"x": at, "y": at, "z": z}
    r = cgcli.grad(f.text, point)
    half_s = 0.5 * value_in_z(s, z)
    assert r.gradients["x"] == half_s + value_in_z(t, z), f"∂/∂x of {f.text!r} at {point}"
    assert r.gradients["y"] == half_s, f"∂/∂y of {f.text!r} at {point}"


@checked(60)
@given(op=st.sampled_from(["max", "min"]), case=expressions_and_points())
def test_max_and_min_of_a_node_with_itself_pass_its_gradient_through(op, case):
    # op(E, E) has one node on both sides: a tie, 0.5 + 0.5 reaches E.
    e, point = case
    alone = cgcli.grad(e.text, point)
    twice = cgcli.grad(f"{op}({e.text}, {e.text})", point)
    assert twice.value == alone.value
    assert twice.gradients == alone.gradients, shown(e, point)


# ---------------------------------------------------------------------------
# 4. Algebraic properties
# ---------------------------------------------------------------------------


@checked(100)
@given(expressions_and_points())
def test_fan_out_square_has_gradient_two_e_de(case):
    # a = E; a*a uses the node a twice: the two contributions add up to 2*E*dE.
    e, point = case
    plain = cgcli.grad(e.text, point)
    squared = cgcli.grad(f"a = {e.text}; a*a", point)
    assert squared.value == plain.value * plain.value
    slack = 1e-13 * 2 * abs(plain.value) * BOUND_LIMIT**2  # contributions to dE can cancel
    for name, g in plain.gradients.items():
        want = 2 * plain.value * g
        assert_close(
            squared.gradients[name], want, 1e-12, slack, f"∂/∂{name} of a*a, a = {shown(e, point)}"
        )


# ---------------------------------------------------------------------------
# 5. IEEE: floats only, never an exception, every nan/inf reported at its node
# ---------------------------------------------------------------------------

SPECIAL_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1e-300, -1e-300, 5e-324, -5e-324,
    2.2250738585072014e-308, 1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308,
    710.0, -710.0, 746.0, -746.0, 1e16, -1e16,
]  # fmt: skip
floats = st.sampled_from(SPECIAL_FLOATS) | st.floats(allow_nan=False, allow_infinity=False)

ONE_ARGUMENT = {f"{name}(x)": name for name, op in FUNCTIONS.items() if op.arity == 1} | {
    "-x": "neg"
}
TWO_ARGUMENTS = {f"{name}(x, y)": name for name, op in FUNCTIONS.items() if op.arity == 2} | {
    "x + y": "add",
    "x - y": "sub",
    "x * y": "mul",
    "x / y": "div",
    "x ** y": "pow",
    "x ^ y": "pow",
}


def reported(warnings: list[str], kind: str, op: str) -> bool:
    """A warning says where a non-finite `kind` ('value' or 'gradient') first appeared: at an `op` node."""
    pattern = re.compile(rf"{kind} (nan|inf|-inf) first appears at node #\d+ \({op}\)")
    return any(pattern.match(w) for w in warnings)


def assert_ieee_result(text: str, point: dict, op: str) -> None:
    r = cgcli.grad(text, point)
    where = (
        f"cg {text!r} at {point}: value {r.value!r}, gradients {r.gradients}, warnings {r.warnings}"
    )
    assert type(r.value) is float, where
    assert all(type(g) is float for g in r.gradients.values()), where
    if not math.isfinite(r.value):
        assert reported(r.warnings, "value", op), where
    if not all(math.isfinite(g) for g in r.gradients.values()):
        assert reported(r.warnings, "gradient", op), where


@pytest.mark.parametrize("text", sorted(ONE_ARGUMENT))
@checked(25)
@given(x=floats)
def test_every_op_of_one_argument_gives_a_float_and_reports_nan_inf(text, x):
    assert_ieee_result(text, {"x": x}, ONE_ARGUMENT[text])


@pytest.mark.parametrize("text", sorted(TWO_ARGUMENTS))
@checked(40)
@given(x=floats, y=floats)
def test_every_op_of_two_arguments_gives_a_float_and_reports_nan_inf(text, x, y):
    assert_ieee_result(text, {"x": x, "y": y}, TWO_ARGUMENTS[text])


@checked(200)
@given(
    scale=st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 1e300, 1e200]),
    a=expressions(depth=3),
    b=expressions(depth=3),
    point=st.fixed_dictionaries(
        {name: st.sampled_from([0.0, 1.0, -1.0]) | st.floats(-BOX, BOX) for name in VARIABLES}
    ),
)
@example(
    scale=1e308, a=SIN(variable("x"), "**"), b=variable("x"), point={"x": 0.0, "y": 0.0, "z": 0.0}
)
def test_a_non_finite_gradient_is_reported_even_when_it_comes_from_a_fan_out(scale, a, b, point):
    # scale*A + scale*B: each contribution to a variable is finite, their sum can overflow
    # (1e308*sin(x) + 1e308*x at x = 0: value 0, ∂/∂x = 1e308 + 1e308 = inf).
    big = number(scale) if scale > 0 else neg(number(-scale))
    f = add(mul(big, a), mul(big, b))
    point = {name: v for name, v in point.items() if name in f.names}
    r = cgcli.grad(f.text, point)
    where = f"cg {f.text!r} at {point}: value {r.value!r}, gradients {r.gradients}, warnings {r.warnings}"
    if not all(math.isfinite(g) for g in r.gradients.values()):
        assert any(re.match(r"gradient \S+ first appears at node #\d+ ", w) for w in r.warnings), (
            where
        )


@checked(60)
@given(
    mantissa=st.integers(1, 99),
    exponent=st.integers(309, 999),
    template=st.sampled_from(["{n}", "x + {n}", "x * {n}", "{n} - {n}", "sin(x) / {n}"]),
    x=st.floats(-BOX, BOX),
)
def test_a_number_too_big_for_a_float_is_never_silent(mantissa, exponent, template, x):
    # the literal itself is where inf first appears (even where the result is finite again,
    # as in sin(x) / 1e999): an error or a warning, never nothing
    text = template.format(n=f"{mantissa}e{exponent}")
    try:
        r = cgcli.grad(text, {"x": x} if "x" in text else {})
    except cgcli.CgError:
        return
    where = (
        f"cg {text!r} at x = {x}: value {r.value!r}, gradients {r.gradients}, warnings {r.warnings}"
    )
    assert any("first appears at node" in w for w in r.warnings), where


@checked(80)
@given(case=expressions_and_points(), fused=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_chunks_that_let_go_of_dead_arrays_give_the_batch_results(case, fused, seed):
    """In chunks (keep_nodes=False) forward and backprop drop every array as soon as it is dead
    (engine.Lifetimes); a value dropped too early would be None or garbage where a local
    gradient reads it. The same points in one pass that keeps every node are the oracle."""
    import numpy as np

    from cgcli import chunks

    e, point = case
    rng = np.random.default_rng(seed)
    bindings = {name: rng.uniform(-BOX, BOX, 37) for name in point}
    graph = cgcli.fuse(e.text) if fused else cgcli.parse(e.text)
    whole = cgcli.grad(graph, bindings, keep_nodes=True)
    chunk, chunks.CHUNK = chunks.CHUNK, 8
    try:
        parts = cgcli.grad(graph, bindings, keep_nodes=False)
        value = cgcli.evaluate(graph, bindings, keep_nodes=False).value
    finally:
        chunks.CHUNK = chunk
    where = f"cg {e.text!r}{' --fuse' if fused else ''}"
    np.testing.assert_allclose(parts.value, whole.value, rtol=1e-15, atol=0, err_msg=where)
    np.testing.assert_allclose(value, whole.value, rtol=1e-15, atol=0, err_msg=where)
    for name in point:
        np.testing.assert_allclose(
            parts.gradients[name], whole.gradients[name], rtol=1e-15, atol=0, err_msg=where
        )
