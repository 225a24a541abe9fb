"""Property tests of the engine against oracles that do not share its code.

* SymPy. Each random expression is generated twice in parallel: as cg text
  (with Python's precedence and as few parentheses as it needs) and as a SymPy
  expression built with SymPy's constructors, never by parsing the text.
  SymPy's derivatives, and the value, evaluated with mpmath to 40 digits at
  the same binary floats, must match cg's value and gradients.
* Central finite differences of cg's forward pass (`cgcli.evaluate`): no
  backprop and no SymPy involved.
* The conventions written in cgcli/ops.py where an op has a kink: relu'(0) = 0,
  abs'(0) = 0, and max/min give 0.5 to each side of a tie. Checked exactly.
* IEEE semantics as README.md promises them: every result is a Python float
  (never complex, never an exception), and every nan or inf, in a value or a
  gradient, is reported by a warning that names the node where it first
  appeared.

The random expressions stay smooth and well conditioned on the box
|x|, |y|, |z| <= 2: denominators and the arguments of log, sqrt and friends
are of the form 1 + u**2, and a static bound on |value| keeps every
subexpression below BOUND_LIMIT (a too-large argument is squashed with tanh
first). Every test runs derandomized, so CI sees the same examples each time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import mpmath
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
    return Expr(f"{operand(a, ATOM)}{spelling}{operand(b, UNARY)}", sym, POWER, bound, **_merge(a, b))


def sigmoid_sym(u):
    return 1 / (1 + sympy.exp(-u))


def positive(a: Expr, spelling: str) -> Expr:
    """1 + a**2: a safe denominator and a safe argument for log, sqrt, cbrt."""
    return add(number(1.0), power(a, number(2.0), spelling, a.bound**2))


def tanh_of(a: Expr) -> Expr:
    return call("tanh", sympy.tanh(a.sym), 1.0, a)


# Smooth ops of one argument: name -> builder(a, spelling of **).
SMOOTH_UNARY = {
    "neg": lambda a, s: neg(a),
    "sin": lambda a, s: call("sin", sympy.sin(a.sym), 1.0, a),
    "cos": lambda a, s: call("cos", sympy.cos(a.sym), 1.0, a),
    "tanh": lambda a, s: tanh_of(a),
    "atan": lambda a, s: call("atan", sympy.atan(a.sym), math.pi / 2, a),
    "sigmoid": lambda a, s: call("sigmoid", sigmoid_sym(a.sym), 1.0, a),
    "softplus": lambda a, s: call("softplus", sympy.log(1 + sympy.exp(a.sym)), a.bound + 1, a),
    "asinh": lambda a, s: call("asinh", sympy.asinh(a.sym), a.bound, a),
    "square": lambda a, s: power(a, number(2.0), s, a.bound**2),
    "cube": lambda a, s: power(a, number(3.0), s, a.bound**3),
    "exp": lambda a, s: call("exp", sympy.exp(a.sym), math.exp(a.bound), a),
    "expm1": lambda a, s: call("expm1", sympy.exp(a.sym) - 1, math.exp(a.bound), a),
    "exp2": lambda a, s: call("exp2", 2**a.sym, 2**a.bound, a),
    "sinh": lambda a, s: call("sinh", sympy.sinh(a.sym), math.cosh(a.bound), a),
    "cosh": lambda a, s: call("cosh", sympy.cosh(a.sym), math.cosh(a.bound), a),
    "sqrt": lambda a, s: (p := positive(a, s)) and call("sqrt", sympy.sqrt(p.sym), math.sqrt(p.bound), p),
    "cbrt": lambda a, s: (p := positive(a, s)) and call("cbrt", sympy.cbrt(p.sym), p.bound, p),
    "log": lambda a, s: (p := positive(a, s)) and call("log", sympy.log(p.sym), math.log(p.bound), p),
    "log2": lambda a, s: (p := positive(a, s)) and call("log2", sympy.log(p.sym, 2), math.log(p.bound), p),
    "log10": lambda a, s: (p := positive(a, s)) and call("log10", sympy.log(p.sym, 10), math.log(p.bound), p),
    "log1p": lambda a, s: (
        (q := power(a, number(2.0), s, a.bound**2)) and call("log1p", sympy.log(1 + q.sym), math.log1p(q.bound), q)
    ),
    # arguments kept well inside the domain: |sin/2| <= 1/2, 2 + u**2 >= 2
    "asin": lambda a, s: (h := div(SMOOTH_UNARY["sin"](a, s), number(2.0), 0.5))
    and call("asin", sympy.asin(h.sym), math.pi / 2, h),
    "acos": lambda a, s: (h := div(SMOOTH_UNARY["cos"](a, s), number(2.0), 0.5))
    and call("acos", sympy.acos(h.sym), math.pi, h),
    "atanh": lambda a, s: (h := div(tanh_of(a), number(2.0), 0.5)) and call("atanh", sympy.atanh(h.sym), 1.0, h),
    "acosh": lambda a, s: (p := add(number(2.0), power(a, number(2.0), s, a.bound**2)))
    and call("acosh", sympy.acosh(p.sym), math.acosh(p.bound), p),
}


def _pow_of_positive(a, b, s):
    base = positive(a, s)
    return power(base, b, s, base.bound**b.bound)


# Smooth ops of two arguments: name -> builder(a, b, spelling of **).
SMOOTH_BINARY = {
    "add": lambda a, b, s: add(a, b),
    "sub": lambda a, b, s: sub(a, b),
    "mul": lambda a, b, s: mul(a, b),
    "div": lambda a, b, s: div(a, positive(b, s), a.bound),
    "pow": _pow_of_positive,
    "hypot": lambda a, b, s: (p := positive(b, s))
    and call("hypot", sympy.sqrt(a.sym**2 + p.sym**2), a.bound + p.bound, a, p),
    "atan2": lambda a, b, s: (p := positive(b, s)) and call("atan2", sympy.atan2(a.sym, p.sym), math.pi, a, p),
    "xlogy": lambda a, b, s: (p := positive(b, s))
    and call("xlogy", a.sym * sympy.log(p.sym), a.bound * math.log(p.bound), a, p),
}

# Ops with a kink, each with the SymPy expression that is 0 at its kink.
KINK_UNARY = {
    "relu": lambda a, s: call("relu", sympy.Max(a.sym, 0), a.bound, a, kinks=(a.sym,)),
    "abs": lambda a, s: call("abs", sympy.Abs(a.sym), a.bound, a, kinks=(a.sym,)),
}
KINK_BINARY = {
    "max": lambda a, b, s: call("max", sympy.Max(a.sym, b.sym), max(a.bound, b.bound), a, b, kinks=(a.sym - b.sym,)),
    "min": lambda a, b, s: call("min", sympy.Min(a.sym, b.sym), max(a.bound, b.bound), a, b, kinks=(a.sym - b.sym,)),
}


def bounded(build, *args: Expr) -> Expr:
    """build(*args), with every argument squashed by tanh first if the result could exceed BOUND_LIMIT."""
    e = build(*args)
    if e.bound <= BOUND_LIMIT:
        return e
    return build(*(tanh_of(a) for a in args))


@st.composite
def expressions(draw, depth: int = 4, names: tuple = VARIABLES, kinks: bool = False) -> Expr:
    """A random expression over `names`; with kinks=True relu, abs, max and min appear too."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(names).map(variable) | st.sampled_from(CONSTANTS).map(number))
    spelling = draw(st.sampled_from(["**", "^", "pow"]))
    sub_expressions = expressions(depth - 1, names, kinks)
    if draw(st.booleans()):
        table = SMOOTH_UNARY | (KINK_UNARY if kinks else {})
        build = table[draw(st.sampled_from(sorted(table)))]
        return bounded(lambda a: build(a, spelling), draw(sub_expressions))
    table = SMOOTH_BINARY | (KINK_BINARY if kinks else {})
    build = table[draw(st.sampled_from(sorted(table)))]
    return bounded(lambda a, b: build(a, b, spelling), draw(sub_expressions), draw(sub_expressions))


@st.composite
def expressions_and_points(draw, kinks: bool = False):
    """(expression, point): the point binds exactly the expression's variables, each in [-BOX, BOX]."""
    e = draw(expressions(kinks=kinks))
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
    assert math.isclose(got, want, rel_tol=rel, abs_tol=abs_), f"{what}: got {got!r}, expected {want!r}"


def shown(e: Expr, point: dict) -> str:
    return f"cg {e.text!r} at {point}"


# ---------------------------------------------------------------------------
# 1. Values and gradients against SymPy
# ---------------------------------------------------------------------------


@checked(300)
@given(expressions_and_points())
def test_value_matches_sympy(case):
    e, point = case
    want = sympy_at(e.sym, point)
    assume(math.isfinite(want))
    r = cgcli.evaluate(e.text, point)
    assert_close(r.value, want, 1e-9, 1e-12, f"value of {shown(e, point)}")
    assert r.warnings == [], shown(e, point)


@checked(150)
@given(expressions_and_points())
def test_gradients_match_sympy(case):
    e, point = case
    assume(math.isfinite(sympy_at(e.sym, point)))
    r = cgcli.grad(e.text, point)
    assert set(r.gradients) == e.names
    for name, want in sympy_gradient(e, point).items():
        assume(math.isfinite(want))
        assert_close(r.gradients[name], want, 1e-9, 1e-12, f"∂/∂{name} of {shown(e, point)}")
    assert r.warnings == [], shown(e, point)


# ---------------------------------------------------------------------------
# 2. Gradients against central finite differences of the forward pass
# ---------------------------------------------------------------------------


def assert_gradients_match_differences(e: Expr, point: dict) -> None:
    r = cgcli.grad(e.text, point)
    assert set(r.gradients) == e.names
    for name in point:
        fd = central_difference(e.text, point, name)
        assert_close(r.gradients[name], fd, 1e-5, 1e-6 * (1 + abs(r.value)), f"∂/∂{name} of {shown(e, point)}")


@checked(150)
@given(expressions_and_points())
def test_gradients_match_finite_differences(case):
    assert_gradients_match_differences(*case)


# ---------------------------------------------------------------------------
# 3. Kink ops: finite differences away from the kinks, the conventions at them
# ---------------------------------------------------------------------------

KINK_MARGIN = 1e-3


@checked(150)
@given(expressions_and_points(kinks=True))
def test_kink_ops_match_finite_differences_away_from_kinks(case):
    e, point = case
    assume(all(abs(sympy_at(k, point)) > KINK_MARGIN for k in e.kinks))
    assert_gradients_match_differences(e, point)


def smooth_in_z():
    return expressions(depth=3, names=("z",))


@checked(100)
@given(
    kink=st.sampled_from(["relu", "abs"]),
    s=smooth_in_z(),
    t=smooth_in_z(),
    at=st.floats(-BOX, BOX),
    z=st.floats(-BOX, BOX),
)
def test_relu_and_abs_have_zero_gradient_at_the_kink(kink, s, t, at, z):
    # f = k(x*S - y*S) + x*T at x = y: the argument is exactly 0, so with k'(0) = 0
    # ∂f/∂x = 0*S + T = T and ∂f/∂y = 0 exactly (k'(0) = 1 would give S + T and -S).
    xs, ys = mul(variable("x"), s), mul(variable("y"), s)
    f = add(KINK_UNARY[kink](sub(xs, ys), "**"), mul(variable("x"), t))
    point = {"x": at, "y": at, "z": z}
    r = cgcli.grad(f.text, point)
    t_value = cgcli.evaluate(t.text, {"z": z} if t.names else {}).value
    assert r.gradients["x"] == t_value, f"∂/∂x of {f.text!r} at {point}"
    assert r.gradients["y"] == 0.0, f"∂/∂y of {f.text!r} at {point}"


@checked(100)
@given(
    op=st.sampled_from(["max", "min"]),
    s=smooth_in_z(),
    t=smooth_in_z(),
    at=st.floats(-BOX, BOX),
    z=st.floats(-BOX, BOX),
)
def test_max_and_min_split_a_tie_half_and_half(op, s, t, at, z):
    # f = op(x*S, y*S) + x*T at x = y: a tie, each side gets 0.5,
    # so ∂f/∂x = 0.5*S + T and ∂f/∂y = 0.5*S.
    f = add(KINK_BINARY[op](mul(variable("x"), s), mul(variable("y"), s), "**"), mul(variable("x"), t))
    point = {"x": at, "y": at, "z": z}
    r = cgcli.grad(f.text, point)
    s_value = cgcli.evaluate(s.text, {"z": z} if s.names else {}).value
    t_value = cgcli.evaluate(t.text, {"z": z} if t.names else {}).value
    assert r.gradients["x"] == 0.5 * s_value + t_value, f"∂/∂x of {f.text!r} at {point}"
    assert r.gradients["y"] == 0.5 * s_value, f"∂/∂y of {f.text!r} at {point}"


@checked(100)
@given(op=st.sampled_from(["max", "min"]), case=expressions_and_points())
def test_max_and_min_of_a_node_with_itself_pass_its_gradient_through(op, case):
    # op(E, E) is one node on both sides: a tie, 0.5 + 0.5 reaches E.
    e, point = case
    alone = cgcli.grad(e.text, point)
    twice = cgcli.grad(f"{op}({e.text}, {e.text})", point)
    assert twice.value == alone.value
    assert twice.gradients == alone.gradients, shown(e, point)


# ---------------------------------------------------------------------------
# 4. Algebraic properties
# ---------------------------------------------------------------------------


@checked(150)
@given(expressions_and_points())
def test_fan_out_square_has_gradient_two_e_de(case):
    # a = E; a*a uses the node a twice: the two contributions add up to 2*E*dE.
    e, point = case
    plain = cgcli.grad(e.text, point)
    squared = cgcli.grad(f"a = {e.text}; a*a", point)
    assert squared.value == plain.value * plain.value
    scale = 2 * abs(plain.value) * BOUND_LIMIT**2  # contributions can cancel: absolute slack
    for name, g in plain.gradients.items():
        want = 2 * plain.value * g
        assert_close(squared.gradients[name], want, 1e-12, 1e-13 * scale, f"∂/∂{name} of a*a, a = {shown(e, point)}")


# ---------------------------------------------------------------------------
# 5. IEEE: floats only, never an exception, every nan/inf reported at its node
# ---------------------------------------------------------------------------

SPECIAL_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 1e-300, -1e-300, 5e-324, -5e-324,
    2.2250738585072014e-308, 1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308,
    710.0, -710.0, 746.0, -746.0, 1e16, -1e16,
]  # fmt: skip
floats = st.sampled_from(SPECIAL_FLOATS) | st.floats(allow_nan=False, allow_infinity=False)

UNARY_FUNCTIONS = sorted(name for name, op in FUNCTIONS.items() if op.arity == 1)
BINARY_FUNCTIONS = sorted(name for name, op in FUNCTIONS.items() if op.arity == 2)
# text -> the op of its one gate
BINARY_TEXTS = {"x + y": "add", "x - y": "sub", "x * y": "mul", "x / y": "div", "x ** y": "pow", "x ^ y": "pow"} | {
    f"{name}(x, y)": name for name in BINARY_FUNCTIONS
}


def reported(warnings: list[str], kind: str, op: str) -> bool:
    """A warning says where a non-finite `kind` ('value' or 'gradient') first appeared, at an `op` node."""
    pattern = re.compile(rf"{kind} (nan|inf|-inf) first appears at node #\d+ \({op}\)")
    return any(pattern.match(w) for w in warnings)


def assert_ieee_result(text: str, point: dict, op: str) -> None:
    r = cgcli.grad(text, point)
    where = f"cg {text!r} at {point}: value {r.value!r}, gradients {r.gradients}, warnings {r.warnings}"
    assert type(r.value) is float, where
    assert all(type(g) is float for g in r.gradients.values()), where
    if not math.isfinite(r.value):
        assert reported(r.warnings, "value", op), where
    if not all(math.isfinite(g) for g in r.gradients.values()):
        assert reported(r.warnings, "gradient", op), where


@checked(800)
@given(name=st.sampled_from(UNARY_FUNCTIONS), x=floats)
def test_every_function_of_one_argument_gives_a_float_and_reports_nan_inf(name, x):
    assert_ieee_result(f"{name}(x)", {"x": x}, name)


@checked(800)
@given(text=st.sampled_from(sorted(BINARY_TEXTS)), x=floats, y=floats)
def test_every_op_of_two_arguments_gives_a_float_and_reports_nan_inf(text, x, y):
    assert_ieee_result(text, {"x": x, "y": y}, BINARY_TEXTS[text])


@checked(300)
@given(
    scale=st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 1e300, 1e200]),
    a=expressions(depth=3),
    b=expressions(depth=3),
    point=st.fixed_dictionaries({name: st.sampled_from([0.0, 1.0, -1.0]) | st.floats(-BOX, BOX) for name in VARIABLES}),
)
@example(scale=1e308, a=SMOOTH_UNARY["sin"](variable("x"), "**"), b=variable("x"), point={"x": 0.0, "y": 0.0, "z": 0.0})
def test_a_non_finite_gradient_is_reported_even_when_it_comes_from_a_fan_out(scale, a, b, point):
    # scale*A + scale*B: each contribution to a variable is finite, their sum can overflow
    # (1e308*sin(x) + 1e308*x at x = 0: value 0, ∂/∂x = 1e308 + 1e308 = inf).
    big = number(scale) if scale > 0 else neg(number(-scale))
    f = add(mul(big, a), mul(big, b))
    point = {name: v for name, v in point.items() if name in f.names}
    r = cgcli.grad(f.text, point)
    where = f"cg {f.text!r} at {point}: value {r.value!r}, gradients {r.gradients}, warnings {r.warnings}"
    if not all(math.isfinite(g) for g in r.gradients.values()):
        assert any(re.match(r"gradient \S+ first appears at node #\d+ ", w) for w in r.warnings), where
