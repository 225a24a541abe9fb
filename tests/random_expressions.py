"""Random cg expressions, each built twice: as cg text and as its SymPy twin.

The SymPy expression is built with SymPy's constructors, never by parsing the
text, so it is an oracle that shares no code with cg. The text has Python's
precedence and as few parentheses as it needs.

The expressions are smooth and well conditioned on the box |x|, |y|, |z| <= BOX:
denominators and the arguments of log, sqrt and friends have the form 1 + u**2,
and a static bound keeps the value of every op the generator draws within
BOUND_LIMIT (a too-large argument is squashed with tanh first). Ops with a kink
(relu, abs, max, min) note where it is, so a test can stay away from it.

`grow` builds one expression from a `choose` function, so the same generator
serves hypothesis (`draw(st.sampled_from(...))`) and a seeded random.Random.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
import sympy

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


# ---------------------------------------------------------------------------
# Constructors


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
    prec = UNARY if text.startswith("-") else ATOM  # -0.5 is neg applied to 0.5
    return Expr(text, sympy.Rational(c), prec, abs(c))  # Rational(c): the exact binary value


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


def inverse_sqrt(a: Expr, spelling: str) -> Expr:
    """(1 + a**2)**-0.5: a negative, fractional exponent, written with a unary minus."""
    return power(positive(a, spelling), number(-0.5), spelling, 1.0)


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


def softplus(u):
    return sympy.log(1 + sympy.exp(u))


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
    "softplus": function("softplus", softplus, lambda b: b + 1),
    "logsigmoid": function("logsigmoid", lambda u: -softplus(-u), lambda b: b + 1),
    "asinh": function("asinh", sympy.asinh, lambda b: b),
    "square": square,
    "cube": cube,
    "inverse_sqrt": inverse_sqrt,
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
    "logaddexp": function2(
        "logaddexp", lambda u, v: sympy.log(sympy.exp(u) + sympy.exp(v)), lambda p, q: max(p, q) + 1
    ),
    "bce": function2("bce", lambda u, v: softplus(u) - u * v, lambda p, q: p + 1 + p * q),
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

SMOOTH_OPS = sorted(SMOOTH_UNARY | SMOOTH_BINARY)
KINK_OPS = sorted(KINK_UNARY | KINK_BINARY)


def bounded(build, *args: Expr) -> Expr:
    """build(*args), with every argument squashed by tanh first if the result could exceed BOUND_LIMIT."""
    e = build(*args)
    if e.bound <= BOUND_LIMIT:
        return e
    return build(*(TANH(a, "**") for a in args))


# ---------------------------------------------------------------------------
# The generator

# Where grow picks a leaf, 3 times in 4 a variable; hypothesis shrinks to the first.
LEAF = (True, False, False, False)
LEAF_KIND = ("variable", "variable", "variable", "constant")


def grow(
    choose: Callable[[Sequence], object],
    depth: int = 4,
    names: tuple = VARIABLES,
    kinks: bool = False,
    root: str | None = None,
) -> Expr:
    """A random expression over `names`, at most `depth` ops below its top op `root` if given.

    choose(options) picks one of the options. With kinks=True relu, abs, max and min appear too."""
    if root is None and (depth == 0 or choose(LEAF)):
        if choose(LEAF_KIND) == "variable":
            return variable(choose(names))
        return number(choose(CONSTANTS))
    unary = SMOOTH_UNARY | (KINK_UNARY if kinks else {})
    binary = SMOOTH_BINARY | (KINK_BINARY if kinks else {})
    if root is None:
        root = choose(sorted(unary) if choose((True, False)) else sorted(binary))
    spelling = choose(("**", "^", "pow"))

    def argument() -> Expr:
        return grow(choose, max(depth - 1, 0), names, kinks)

    if root in unary:
        return bounded(lambda a: unary[root](a, spelling), argument())
    return bounded(lambda a, b: binary[root](a, b, spelling), argument(), argument())


def random_expression(rng: random.Random, **options) -> Expr:
    """grow's expression with the choices made by a seeded random.Random."""
    return grow(rng.choice, **options)


# ---------------------------------------------------------------------------
# The oracle: SymPy's expression evaluated with mpmath

# What SymPy's derivatives of relu, abs, max and min are made of; never needed at a kink.
_KINK_FUNCTIONS = {
    "Heaviside": lambda v, *a: mpmath.mpf(1) if v > 0 else mpmath.mpf(0),
    "DiracDelta": lambda *a: mpmath.mpf(0),
}


def sympy_at(sym, point: dict, digits: int = 40) -> float:
    """SymPy's function at the point, computed with mpmath to `digits` digits, rounded to a float.

    The variables get their exact binary values; nan where the result is not real.
    """
    names = sorted(point)
    f = sympy.lambdify([SYMBOLS[name] for name in names], sym, modules=[_KINK_FUNCTIONS, "mpmath"])
    with mpmath.workdps(digits):
        v = f(*(mpmath.mpf(point[name]) for name in names))
    return math.nan if isinstance(v, mpmath.mpc) else float(v)
