"""The ops table: one row per op, holding everything cg knows about it.

A row names the op and gives
* its forward on one point (`scalar`: a function of Python floats with IEEE
  float64 results, from math or operator where they have one, else from
  cgcli/scalar.py) and on many points (`array`: where numpy's function lives,
  "numpy.sin", or cgcli/arrays.py's, "arrays.sigmoid"; resolved on first use,
  because importing numpy costs more than a whole one-shot command);
* its local gradients ∂out/∂input, written in cg's own expression language
  over the op's inputs `x` (and `y`) and its output `out`: the same text is
  evaluated during backprop and built as graph nodes for derivative
  expressions;
* where it is not differentiable, the convention (`at_kinks`, PyTorch's
  choices) and, for a kink a step can cross, the test `crosses_kink(a, b)`:
  does the op change branch between inputs a and inputs b? (`cg check`);
* for an operator, its spelling in cg's grammar and the precedence of the
  grammar rule (tests/test_ops.py checks both against grammar/cg.lark);
* a one-line doc.

The parser, the engine, the derivative printer, `cg check`, `cg functions`
and docs/functions.md all read this table; tests/test_ops.py walks every row.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from . import scalar
from .scalar import ieee

inf = math.inf

# Precedence levels of cg's grammar (grammar/cg.lark), loosest first.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Op:
    name: str
    scalar: Callable  # forward on one point
    array: str  # where the forward on many points lives: "numpy.sin", "arrays.sigmoid"
    grads: tuple[str, ...]  # local gradient for each input, over x, y, out
    doc: str
    at_kinks: str = ""  # the convention where the op is not differentiable
    crosses_kink: Callable[[list, list], bool] | None = None  # (inputs a, inputs b) → changed?
    infix: str = ""  # its operator in cg's grammar, if it has one
    precedence: int = ATOM  # of the grammar rule that writes the op with `infix`
    operands: tuple[int, ...] = ()  # the precedence each operand needs to go without ()
    function: bool = True  # also written as a call, name(x, …)
    # what cg diff and cg hessian build derivative expressions from, where it is not `grads`:
    # a form careful in float64 can have a derivative that cancels (d/dx of (1-x)*(1+x) is
    # (1-x) - (1+x), 0 near x = 0), where the textbook form's is -2*x
    symbolic: tuple[str, ...] = ()
    # any number of inputs from `arity` on (logsumexp(a, b, c)): `grads` gives the local
    # gradient for the first input x and for each later one, y
    variadic: bool = False
    # where the numbers are not `grads`' own: the function, in cgcli/scalar.py and
    # cgcli/arrays.py, that computes every local gradient at once from (inputs, out)
    local: str = ""

    @property
    def arity(self) -> int:
        """How many inputs; for a variadic op, the fewest."""
        return len(self.grads)

    @property
    def symbolic_grads(self) -> tuple[str, ...]:
        return self.symbolic or self.grads

    @property
    def symbol(self) -> str:
        """How the op is shown: its operator if it is written only that way, else '' (a call)."""
        return "" if self.function else self.infix

    @property
    def spelling(self) -> str:
        """The op applied to its inputs as a user writes it: 'x + y', '-x', 'pow(x, y)'."""
        args = INPUT_NAMES[: self.arity]
        if self.symbol:
            return f"{self.symbol}{args[0]}" if self.arity == 1 else f" {self.symbol} ".join(args)
        return f"{self.name}({', '.join(args)}{', ...' * self.variadic})"

    def local_gradients(self, backend) -> Callable:
        """The function `local` names: (inputs, out) → a local gradient for each input."""
        return getattr(backend, self.local)

    @cached_property
    def array_forward(self) -> Callable:
        """The forward on many points (numpy arrays), imported on first use."""
        import importlib  # with numpy, only when many points are computed

        module, _, name = self.array.rpartition(".")
        found = importlib.import_module(f".{module}" if module == "arrays" else module, __package__)
        return getattr(found, name)

    def forward(self, backend) -> Callable:
        """The forward on the backend's values: cgcli/scalar.py's one point or arrays.py's many."""
        return self.array_forward if backend.BATCH else self.scalar


def _op(name, scalar, array, grads, doc, symbolic="", **more) -> Op:
    grads = (grads,) if isinstance(grads, str) else tuple(grads)
    symbolic = (symbolic,) if isinstance(symbolic, str) and symbolic else tuple(symbolic)
    return Op(name, scalar, array, grads, doc, symbolic=symbolic, **more)


# Kinks a step can cross: each test gets the op's inputs at both ends of the step.


def _sign(v: float) -> int:
    return (v > 0) - (v < 0)


def _sign_changes(a: list, b: list) -> bool:
    return _sign(a[0]) != _sign(b[0])


def _order_changes(a: list, b: list) -> bool:
    return _sign(a[0] - a[1]) != _sign(b[0] - b[1])


def _floor_changes(a: list, b: list) -> bool:
    return math.floor(a[0]) != math.floor(b[0])


def _ceil_changes(a: list, b: list) -> bool:
    return math.ceil(a[0]) != math.ceil(b[0])


def _atan2_cut(a: list, b: list) -> bool:
    """atan2(x, y) jumps by 2π where x changes sign while y < 0."""
    return (a[1] < 0 or b[1] < 0) and math.copysign(1, a[0]) != math.copysign(1, b[0])


def _passes_cone_tip(a: list, b: list) -> bool:
    """hypot's cone has its tip at (0, 0): the step passes it closer than its own length.
    In units of the largest coordinate, so that the squares neither overflow (steps past
    1e154) nor underflow (below 1e-154)."""
    scale = max(abs(a[0]), abs(a[1]), abs(b[0]), abs(b[1]))
    if scale == 0 or not math.isfinite(scale):
        return False
    a, b = [v / scale for v in a], [v / scale for v in b]
    d0, d1 = b[0] - a[0], b[1] - a[1]
    length2 = d0 * d0 + d1 * d1
    if length2 == 0:
        return False
    # the point of the segment a→b nearest to (0, 0)
    t = min(1.0, max(0.0, -(a[0] * d0 + a[1] * d1) / length2))
    return math.hypot(a[0] + t * d0, a[1] + t * d1) < math.sqrt(length2)


_TIE = "at a tie each side gets 0.5"
_JUMPS = "0 at the jumps"

# fmt: off
TABLE = [
    # the operators
    _op("add", operator.add, "numpy.add", ("1", "1"), "x + y",
        infix="+", precedence=SUM, operands=(SUM, PRODUCT), function=False),
    _op("sub", operator.sub, "numpy.subtract", ("1", "-1"), "x - y",
        infix="-", precedence=SUM, operands=(SUM, PRODUCT), function=False),
    _op("mul", operator.mul, "numpy.multiply", ("y", "x"), "x * y",
        infix="*", precedence=PRODUCT, operands=(PRODUCT, UNARY), function=False),
    _op("div", scalar.div, "numpy.true_divide", ("1/y", "-out/y"), "x / y",
        infix="/", precedence=PRODUCT, operands=(PRODUCT, UNARY), function=False),
    _op("neg", operator.neg, "numpy.negative", "-1", "-x",
        infix="-", precedence=UNARY, operands=(UNARY,), function=False),
    # ** binds tighter than a unary minus on its left and looser on its right: -x**2, 2**-x
    _op("pow", scalar.pow, "arrays.pow", ("y*x**(y-1)", "xlogy(out, x)"),
        "x ** y (also x^y, pow(x, y)); nan for x < 0 and y not an integer",
        at_kinks="∂/∂y is 0 where out = 0 (x = 0, y > 0); ∂/∂x at x = 0, y = 0 is nan (0·inf)",
        infix="**", precedence=POWER, operands=(ATOM, UNARY)),
    # exp(y*log1p(x)) where 1+x would round away x's digits (cgcli/scalar.py); its ∂/∂y keeps
    # them too, where xlogy(out, 1+x) would not
    _op("pow1p", scalar.pow1p, "arrays.pow1p", ("y*pow1p(x,y-1)", "xlog1py(out,x)"),
        "(1 + x) ** y, without rounding 1+x where that loses x's digits; pow's conventions "
        "with 1+x as the base",
        at_kinks="∂/∂y is 0 where out = 0 (x = -1, y > 0); ∂/∂x at x = -1, y = 0 is nan (0·inf)"),
    # exponentials and logarithms
    _op("exp", ieee(math.exp, overflow=inf), "numpy.exp", "out", "e ** x"),
    _op("exp2", ieee(math.exp2, overflow=inf), "numpy.exp2", "out*log(2)", "2 ** x"),
    # not out+1: 1 swamps a small out
    _op("expm1", ieee(math.expm1, overflow=inf), "numpy.expm1", "exp(x)",
        "e ** x - 1, exact for small x"),
    _op("log", ieee(math.log, pole={0.0: -inf}), "numpy.log", "1/x",
        "natural logarithm; -inf at 0, nan below"),
    _op("log2", ieee(math.log2, pole={0.0: -inf}), "numpy.log2", "1/(x*log(2))",
        "base-2 logarithm"),
    _op("log10", ieee(math.log10, pole={0.0: -inf}), "numpy.log10", "1/(x*log(10))",
        "base-10 logarithm"),
    _op("log1p", ieee(math.log1p, pole={-1.0: -inf}), "numpy.log1p", "1/(1+x)",
        "log(1 + x), exact for small x"),
    _op("xlogy", scalar.xlogy, "arrays.xlogy", ("log(y)", "x/y"), "x * log(y), and 0 where x = 0"),
    _op("xlog1py", scalar.xlog1py, "arrays.xlog1py", ("log1p(y)", "x/(1+y)"),
        "x * log1p(y), and 0 where x = 0"),
    # roots
    _op("sqrt", ieee(math.sqrt), "numpy.sqrt", "0.5/out", "square root; nan below 0",
        at_kinks="inf at 0"),
    _op("cbrt", math.cbrt, "numpy.cbrt", "1/(3*out**2)", "real cube root, also of negative numbers",
        at_kinks="inf at 0"),
    # trigonometry
    _op("sin", ieee(math.sin), "numpy.sin", "cos(x)", "sine (radians)"),
    _op("cos", ieee(math.cos), "numpy.cos", "-sin(x)", "cosine"),
    _op("tan", ieee(math.tan), "numpy.tan", "1+out**2", "tangent"),
    # (1-x)*(1+x), not 1-x**2: near ±1, x**2 rounds before the subtraction cancels
    _op("asin", ieee(math.asin), "numpy.arcsin", "1/sqrt((1-x)*(1+x))",
        "arcsine; nan outside [-1, 1]", symbolic="1/sqrt(1-x**2)"),
    _op("acos", ieee(math.acos), "numpy.arccos", "-1/sqrt((1-x)*(1+x))",
        "arccosine; nan outside [-1, 1]", symbolic="-1/sqrt(1-x**2)"),
    _op("atan", math.atan, "numpy.arctan", "1/(1+x**2)", "arctangent"),
    # hypot, not x**2+y**2, which underflows below 1e-154 and overflows above 1e154
    _op("atan2", math.atan2, "numpy.arctan2",
        ("y/hypot(x,y)/hypot(x,y)", "-x/hypot(x,y)/hypot(x,y)"),
        "angle of the point (y, x): atan2(y, x)", at_kinks="nan at (0, 0)",
        crosses_kink=_atan2_cut),
    # hyperbolic functions
    _op("sinh", ieee(math.sinh), "numpy.sinh", "cosh(x)", "hyperbolic sine"),
    _op("cosh", ieee(math.cosh, overflow=inf), "numpy.cosh", "sinh(x)", "hyperbolic cosine"),
    # (1/cosh(x))**2 is off by 2-3 ulps everywhere; 1-out**2 is closer where |out| < 2/3 but
    # loses digits as |out| nears 1 (0 once out rounds to ±1, |x| > 19): their error bounds
    # cross near |out| = 2/3, and `local` picks the better (cgcli/scalar.py's tanh_grads)
    _op("tanh", math.tanh, "numpy.tanh", "(1/cosh(x))**2",
        "hyperbolic tangent; its local gradient is 1-out**2 where |out| < 2/3",
        symbolic="1-out**2", local="tanh_grads"),
    _op("asinh", math.asinh, "numpy.arcsinh", "1/hypot(x,1)", "inverse hyperbolic sine"),
    _op("acosh", ieee(math.acosh), "numpy.arccosh", "1/(sqrt(x-1)*sqrt(x+1))",
        "inverse hyperbolic cosine; nan below 1"),
    _op("atanh", ieee(math.atanh, pole={1.0: inf, -1.0: -inf}), "numpy.arctanh",
        "1/((1-x)*(1+x))", "inverse hyperbolic tangent; nan outside [-1, 1]",
        symbolic="1/(1-x**2)"),
    # the error function: exp(-x**2) underflows to 0 past |x| = 27.3, where erf is ±1
    _op("erf", math.erf, "arrays.erf", "2/sqrt(pi)*exp(-x**2)",
        "error function, 2/sqrt(pi) times the integral of exp(-t**2) from 0 to x; "
        "defined for every x, -1 to 1"),
    _op("erfc", math.erfc, "arrays.erfc", "-2/sqrt(pi)*exp(-x**2)",
        "complementary error function 1 - erf(x), exact where erf(x) is near 1; defined for "
        "every x, 2 to 0: subnormal (fewer digits) past x = 26.5, 0 past 27.2"),
    # machine learning
    _op("sigmoid", scalar.sigmoid, "arrays.sigmoid", "out*sigmoid(-x)",
        "1 / (1 + exp(-x)), computed without overflow"),
    _op("softplus", scalar.softplus, "arrays.softplus", "sigmoid(x)",
        "log(1 + exp(x)), computed without overflow"),
    _op("relu", scalar.relu, "arrays.relu", "sign(out)", "max(x, 0)",
        at_kinks="relu'(0) = 0", crosses_kink=_sign_changes),
    # pieces
    _op("abs", math.fabs, "numpy.abs", "sign(x)", "absolute value",
        at_kinks="abs'(0) = 0", crosses_kink=_sign_changes),
    _op("sign", scalar.sign, "numpy.sign", "0", "-1, 0 or 1",
        at_kinks="sign'(0) = 0", crosses_kink=_sign_changes),
    _op("floor", scalar.floor, "numpy.floor", "0", "largest integer <= x",
        at_kinks=_JUMPS, crosses_kink=_floor_changes),
    _op("ceil", scalar.ceil, "numpy.ceil", "0", "smallest integer >= x",
        at_kinks=_JUMPS, crosses_kink=_ceil_changes),
    _op("max", scalar.max, "numpy.maximum", ("(1+sign(x-y))/2", "(1-sign(x-y))/2"),
        "the larger of x and y", at_kinks=_TIE, crosses_kink=_order_changes),
    _op("min", scalar.min, "numpy.minimum", ("(1-sign(x-y))/2", "(1+sign(x-y))/2"),
        "the smaller of x and y", at_kinks=_TIE, crosses_kink=_order_changes),
    _op("hypot", math.hypot, "numpy.hypot", ("x/out", "y/out"),
        "sqrt(x**2 + y**2), computed without overflow", at_kinks="nan at (0, 0)",
        crosses_kink=_passes_cone_tip),
    # sigmoid(x-y) = exp(x-out) without out, which has lost x's last bits when x is large
    _op("logaddexp", scalar.logaddexp, "numpy.logaddexp", ("sigmoid(x-y)", "sigmoid(y-x)"),
        "log(exp(x) + exp(y)) (log-sum-exp of two), without overflow"),
    _op("logsigmoid", scalar.logsigmoid, "arrays.logsigmoid", "sigmoid(-x)",
        "log(sigmoid(x)), without overflow"),
    # any number of inputs; y stands for each input after the first
    _op("logsumexp", scalar.logsumexp, "arrays.logsumexp", ("exp(x-out)", "exp(y-out)"),
        "log(exp(x) + exp(y) + ...) of any number of inputs, without overflow",
        variadic=True, local="logsumexp_grads"),
    _op("softmax", scalar.softmax, "arrays.softmax", ("out*(1-out)", "-out*exp(y-x)*out"),
        "exp(x) / (exp(x) + exp(y) + ...): the softmax weight of the first input among all",
        variadic=True, local="softmax_grads"),
    _op("logsoftmax", scalar.logsoftmax, "arrays.logsoftmax", ("1-exp(out)", "-exp(y-x+out)"),
        "x - logsumexp(x, y, ...): the log of softmax(x, y, ...)",
        variadic=True, local="logsoftmax_grads"),
    # (1-y)*sigmoid(x) - y*sigmoid(-x) is sigmoid(x)-y without its cancellation at y = 1, x large
    _op("bce", scalar.bce, "arrays.bce", ("(1-y)*sigmoid(x)-y*sigmoid(-x)", "-x"),
        "binary cross-entropy of sigmoid(x) against target y: softplus(x) - x*y"),
]
# fmt: on

OPS: dict[str, Op] = {op.name: op for op in TABLE}

# Every op but the operators is also a function a user can call by name.
FUNCTIONS: dict[str, Op] = {op.name: op for op in TABLE if op.function}
# Operators written between two operands, each the name of its grammar rule.
BINARY_OPERATORS: dict[str, Op] = {op.name: op for op in TABLE if op.infix and op.arity == 2}
VARIADIC = frozenset(op.name for op in TABLE if op.variadic)
# Ops whose local gradients a backend function computes, all at once (Op.local).
ALL_AT_ONCE = frozenset(op.name for op in TABLE if op.local)
# Ops a step can cross a kink of (cg check looks at these nodes).
KINK_OPS = frozenset(op.name for op in TABLE if op.crosses_kink)

CONSTANTS: dict[str, float] = {
    "pi": 3.141592653589793,
    "e": 2.718281828459045,
}

# Names of the inputs in the gradient formulas, by position.
INPUT_NAMES = ("x", "y")
