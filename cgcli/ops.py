"""The ops table: every gate cg knows, its forward, and its local gradients.

Each row names an op, its arity, and for every input the local gradient
∂out/∂input, written in cg's own expression language over the op's inputs
`x` (and `y`) and its output `out`. The same text is evaluated numerically
during backprop and can be built as graph nodes (derivative expressions,
second derivatives). The forward of each op is the function of the same
name in the numeric backends (cgcli/scalar.py; numpy for arrays).

`at_kinks` writes down the convention where the op is not differentiable;
the choices are PyTorch's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    grads: tuple[str, ...]  # local gradient for each input, over x, y, out
    doc: str
    at_kinks: str = ""
    symbol: str = ""  # infix spelling, for operators
    # what cg diff and cg hessian build derivative expressions from, where it is not `grads`:
    # a form careful in float64 can have a derivative that cancels (d/dx of (1-x)*(1+x) is
    # (1-x) - (1+x), 0 near x = 0), where the textbook form's is -2*x
    symbolic: tuple[str, ...] = ()

    @property
    def symbolic_grads(self) -> tuple[str, ...]:
        return self.symbolic or self.grads


def _op(name, grads, doc, at_kinks="", symbol="", symbolic=""):
    grads = (grads,) if isinstance(grads, str) else tuple(grads)
    symbolic = (symbolic,) if isinstance(symbolic, str) and symbolic else tuple(symbolic)
    return Op(name, len(grads), grads, doc, at_kinks, symbol, symbolic)


# fmt: off
TABLE = [
    #   op         local gradient(s) ∂out/∂x [, ∂out/∂y]          what it computes
    _op("add",     ("1", "1"),                                    "x + y", symbol="+"),
    _op("sub",     ("1", "-1"),                                   "x - y", symbol="-"),
    _op("mul",     ("y", "x"),                                    "x * y", symbol="*"),
    _op("div",     ("1/y", "-out/y"),                             "x / y", symbol="/"),
    _op("neg",     "-1",                                          "-x", symbol="-"),
    _op("pow",     ("y*x**(y-1)", "xlogy(out, x)"),               "x ** y (also x^y, pow(x, y)); nan for x < 0 and y not an integer",
        at_kinks="∂/∂y is 0 where out = 0 (x = 0, y > 0); ∂/∂x at x = 0, y = 0 is nan (0·inf)"),
    _op("exp",     "out",                                         "e ** x"),
    _op("exp2",    "out*log(2)",                                  "2 ** x"),
    _op("expm1",   "exp(x)",                                      "e ** x - 1, exact for small x"),  # not out+1: 1 swamps a small out
    _op("log",     "1/x",                                         "natural logarithm; -inf at 0, nan below"),
    _op("log2",    "1/(x*log(2))",                                "base-2 logarithm"),
    _op("log10",   "1/(x*log(10))",                               "base-10 logarithm"),
    _op("log1p",   "1/(1+x)",                                     "log(1 + x), exact for small x"),
    _op("xlogy",   ("log(y)", "x/y"),                             "x * log(y), and 0 where x = 0"),
    _op("sqrt",    "0.5/out",                                     "square root; nan below 0", at_kinks="inf at 0"),
    _op("cbrt",    "1/(3*out**2)",                                "real cube root, also of negative numbers", at_kinks="inf at 0"),
    _op("sin",     "cos(x)",                                      "sine (radians)"),
    _op("cos",     "-sin(x)",                                     "cosine"),
    _op("tan",     "1+out**2",                                    "tangent"),
    # (1-x)*(1+x), not 1-x**2: near ±1, x**2 rounds before the subtraction cancels
    _op("asin",    "1/sqrt((1-x)*(1+x))",                         "arcsine; nan outside [-1, 1]", symbolic="1/sqrt(1-x**2)"),
    _op("acos",    "-1/sqrt((1-x)*(1+x))",                        "arccosine; nan outside [-1, 1]", symbolic="-1/sqrt(1-x**2)"),
    _op("atan",    "1/(1+x**2)",                                  "arctangent"),
    # hypot, not x**2+y**2, which underflows below 1e-154 and overflows above 1e154
    _op("atan2",   ("y/hypot(x,y)/hypot(x,y)", "-x/hypot(x,y)/hypot(x,y)"), "angle of the point (y, x): atan2(y, x)", at_kinks="nan at (0, 0)"),
    _op("sinh",    "cosh(x)",                                     "hyperbolic sine"),
    _op("cosh",    "sinh(x)",                                     "hyperbolic cosine"),
    # not 1-out**2, which is 0 once out rounds to ±1 (|x| > 19); its derivative, though, is the tidy one
    _op("tanh",    "(1/cosh(x))**2",                              "hyperbolic tangent", symbolic="1-out**2"),
    _op("asinh",   "1/hypot(x,1)",                                "inverse hyperbolic sine"),
    _op("acosh",   "1/(sqrt(x-1)*sqrt(x+1))",                     "inverse hyperbolic cosine; nan below 1"),
    _op("atanh",   "1/((1-x)*(1+x))",                             "inverse hyperbolic tangent; nan outside [-1, 1]", symbolic="1/(1-x**2)"),
    _op("sigmoid", "out*sigmoid(-x)",                             "1 / (1 + exp(-x)), computed without overflow"),
    _op("softplus", "sigmoid(x)",                                 "log(1 + exp(x)), computed without overflow"),
    _op("relu",    "sign(out)",                                   "max(x, 0)", at_kinks="relu'(0) = 0"),
    _op("abs",     "sign(x)",                                     "absolute value", at_kinks="abs'(0) = 0"),
    _op("sign",    "0",                                           "-1, 0 or 1", at_kinks="sign'(0) = 0"),
    _op("floor",   "0",                                           "largest integer <= x", at_kinks="0 at the jumps"),
    _op("ceil",    "0",                                           "smallest integer >= x", at_kinks="0 at the jumps"),
    _op("max",     ("(1+sign(x-y))/2", "(1-sign(x-y))/2"),        "the larger of x and y", at_kinks="at a tie each side gets 0.5"),
    _op("min",     ("(1-sign(x-y))/2", "(1+sign(x-y))/2"),        "the smaller of x and y", at_kinks="at a tie each side gets 0.5"),
    _op("hypot",   ("x/out", "y/out"),                            "sqrt(x**2 + y**2), computed without overflow", at_kinks="nan at (0, 0)"),
    # sigmoid(x-y) = exp(x-out) without out, which has lost x's last bits when x is large
    _op("logaddexp", ("sigmoid(x-y)", "sigmoid(y-x)"),            "log(exp(x) + exp(y)) (log-sum-exp of two), without overflow"),
    _op("logsigmoid", "sigmoid(-x)",                              "log(sigmoid(x)), without overflow"),
    # (1-y)*sigmoid(x) - y*sigmoid(-x) is sigmoid(x)-y without its cancellation at y = 1, x large
    _op("bce",     ("(1-y)*sigmoid(x)-y*sigmoid(-x)", "-x"),      "binary cross-entropy of sigmoid(x) against target y: softplus(x) - x*y"),
]
# fmt: on

OPS: dict[str, Op] = {op.name: op for op in TABLE}

# Operators have their own syntax; every other op is also a function a user can call.
OPERATORS = {"add", "sub", "mul", "div", "neg"}
FUNCTIONS: dict[str, Op] = {op.name: op for op in TABLE if op.name not in OPERATORS}

CONSTANTS: dict[str, float] = {
    "pi": 3.141592653589793,
    "e": 2.718281828459045,
}

# Names of the inputs in the gradient formulas, by position.
INPUT_NAMES = ("x", "y")
