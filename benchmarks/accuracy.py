"""How exact are cg's gradients? cg, cg --fuse, PyTorch and JAX against an exact oracle.

    pip install -e '.[test]' torch jax jaxlib    # sympy, mpmath; torch and jax from PyPI (CPU)
    python benchmarks/accuracy.py                # the whole corpus (about a minute on 2 cores)
    python benchmarks/accuracy.py --quick        # a third of the expressions
    python benchmarks/accuracy.py --only softmax # the cases whose name or text holds a word

The oracle: each expression, read from cg's parsed graph, becomes a SymPy
expression (constant subexpressions folded to the float64 values every tool
computes for them, then taken as exact rationals); SymPy differentiates it,
and mpmath evaluates each derivative at the float64 point, at 2,304 bits
(float64's whole exponent range, twice) and again at twice the precision,
doubling until two successive precisions round to the same float64 and
agree to 2**-80 relative. Where they never do (a derivative SymPy writes
as 0/0 at the point), the output is left out and counted.

The tools: cg on the graph as parsed and fused (cgcli.api.fuse, as
`--fuse`), each at one point at a time (the scalar engine) and as one batch
of numpy arrays (the array engine); PyTorch (float64, autograd) and JAX
(float64, jax.grad, vmapped, not jitted) on the same graph, translated node
by node to their functions (sigmoid to torch.sigmoid and jax.nn.sigmoid,
softplus to torch.nn.functional.softplus and jax.nn.softplus, ...), never
by evaluating the text.

Error in ulps: how many float64 values lie between the tool's output and
the correctly rounded truth. An output is bad when it is nan or ±inf, or
more than 1,000 ulps off, where the truth is finite. Targets:
cg --fuse never worse than the better of PyTorch and JAX on any output by
more than 8 ulps and 4x; at most a fifth of their count of bad outputs.
Every output missing the first target is listed.
"""

from __future__ import annotations

import argparse
import math
import struct
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import mpmath
import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from cgcli import api  # noqa: E402
from cgcli.errors import CgError  # noqa: E402

BAD_ULPS = 1000  # more ulps than this is a wrong answer, not rounding
NEAR_ULPS, NEAR_RATIO = 8, 4  # the first target's slack: cg --fuse may be this much worse
START_BITS = 2304  # the oracle's first precision: 2**±1074 and 2**1024 with room to spare
MAX_BITS = START_BITS * 16


# ---------------------------------------------------------------------------------------------
# The corpus


@dataclass
class Case:
    name: str
    expr: str
    points: list[dict[str, float]]
    quick: bool = False  # in the --quick subset


def along(var: str, values, **fixed) -> list[dict[str, float]]:
    return [{var: float(v), **fixed} for v in values]


ORDINARY = (-2.5, -0.7, 0.3, 1.7)
TINY = (1e-10, -1e-10, 1e-300)
LOGIT = ORDINARY + (30, -30, 40, -40, 700, -700, 750, -750) + TINY + (1e300, -1e300)
POSITIVE = (0.3, 1.7, 25.0, 1e-10, 1e-300, 1e300)
SMALL = (-0.7, -0.3, 0.3, 1.7, 1e-10, -1e-10, 1e-300, 1e-5)  # near 0 is where these are hard


def pairs(big: float) -> list[dict[str, float]]:
    """(a, b) at ±big and ordinary spreads."""
    return [
        {"a": 0.3, "b": -1.2},
        {"a": 2.0, "b": 2.0},
        {"a": big, "b": -big},
        {"a": -big, "b": big},
        {"a": big, "b": big - 3},
        {"a": -big, "b": -big + 3},
    ]


ABC = [
    {"a": 0.3, "b": -1.2, "c": 2.0},
    {"a": 40.0, "b": -40.0, "c": 0.0},
    {"a": -40.0, "b": 40.0, "c": 1.0},
    {"a": 700.0, "b": -700.0, "c": 750.0},
    {"a": -700.0, "b": -750.0, "c": -710.0},
    {"a": 750.0, "b": 749.0, "c": 700.0},
    {"a": -750.0, "b": 700.0, "c": -700.0},
    {"a": 710.0, "b": 720.0, "c": 730.0},
]


def neuron_points() -> list[dict[str, float]]:
    """cs231n's neuron at its classic point, then scaled so that w0*x0+w1*x1+w2 = ±30 ... ±750."""
    points = [{"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}]  # z = 1
    for z in (30.0, -30.0, 40.0, -40.0, 700.0, -700.0, 750.0, -750.0):
        points.append({"w0": 2.0, "x0": z / 4, "w1": -3.0, "x1": -z / 6, "w2": 0.0})
    return points


BCE_T = [0.0, 1.0, 0.3]


def bce_points() -> list[dict[str, float]]:
    return [{"z": z, "t": t} for t in BCE_T for z in (0.3, -1.7, 30.0, -30.0, 40.0, -40.0, 700.0)]


GELU = "0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x**3)))"

CORPUS: list[Case] = [
    # classic
    Case("poly", "x**3 - 2*x**2 + x - 5", along("x", ORDINARY + (1e-10, 1e100, -1e100)), True),
    Case("square of sum", "(x+y)**2", [{"x": 1.0, "y": 2.0}, {"x": 1e150, "y": -1e150 + 1e135}]),
    Case("product", "x*y + sin(x)*y", [{"x": 0.3, "y": 2.0}, {"x": 1e10, "y": -3.0}]),
    Case("sin cos", "sin(x)*cos(x)", along("x", ORDINARY + (1e-10, 1e5, 1e300)), True),
    Case("tan", "tan(x)", along("x", ORDINARY + (1e-10, 1.5707963267948966))),
    Case("exp sin", "exp(sin(x))", along("x", ORDINARY + (1e-300,))),
    Case("log", "log(x)", along("x", POSITIVE)),
    Case("log of square+1", "log(x**2+1)", along("x", ORDINARY + (1e-10, 1e100, 1e200))),
    Case("gaussian", "exp(-x**2/2)", along("x", ORDINARY + (30, 1e-10))),
    Case("x exp(-x)", "x*exp(-x)", along("x", ORDINARY + (30, 700, -700))),
    Case("sqrt", "sqrt(x)", along("x", POSITIVE)),
    Case("reciprocal", "1/x", along("x", ORDINARY + (1e-10, 1e-300, 1e300))),
    Case("atan", "atan(x)", along("x", ORDINARY + (1e-10, 1e10, 1e300))),
    Case("asin", "asin(x)", along("x", (0.3, -0.7, 0.999999, 1e-10))),
    Case("power", "x**y", [{"x": 1.7, "y": 2.5}, {"x": 0.3, "y": -1.5}, {"x": 1e10, "y": 30.0}]),
    Case("sinh cosh", "sinh(x) + cosh(x)", along("x", ORDINARY + (1e-10, 700, -700))),
    Case(
        "atan2",
        "atan2(y, x)",
        [{"x": 1.0, "y": 2.0}, {"x": 1e-300, "y": 1e-300}, {"x": -1e300, "y": 1.0}],
    ),
    Case("x log x", "x*log(x)", along("x", POSITIVE)),
    Case("cs231n neuron", "1/(1+exp(-(w0*x0+w1*x1+w2)))", neuron_points(), True),
    Case(
        "mse",
        "(w*x+b-y)**2",
        [{"w": 0.5, "x": 2.0, "b": 0.1, "y": 1.0}, {"w": 1e8, "x": 1e8, "b": 0.0, "y": 1e16}],
    ),
    # sigmoid, softplus, logsigmoid: spelled out and as functions
    Case("sigmoid", "sigmoid(z)", along("z", LOGIT), True),
    Case("sigmoid spelled", "1/(1+exp(-z))", along("z", LOGIT), True),
    Case("sigmoid as exp/(1+exp)", "exp(z)/(1+exp(z))", along("z", LOGIT)),
    Case("sigmoid(-z) spelled", "1/(1+exp(z))", along("z", LOGIT)),
    Case("swish", "x/(1+exp(-x))", along("x", LOGIT), True),
    Case("x*sigmoid(x)", "x*sigmoid(x)", along("x", LOGIT)),
    Case("softplus", "softplus(z)", along("z", LOGIT)),
    Case("softplus spelled", "log(1+exp(z))", along("z", LOGIT), True),
    Case("logsigmoid", "logsigmoid(z)", along("z", LOGIT)),
    Case("log(sigmoid)", "log(sigmoid(z))", along("z", LOGIT)),
    Case("log(1/(1+exp(-z)))", "log(1/(1+exp(-z)))", along("z", LOGIT)),
    Case("log(1-sigmoid)", "log(1-sigmoid(z))", along("z", LOGIT), True),
    Case("log(1/(1+exp(z)))", "log(1/(1+exp(z)))", along("z", LOGIT)),
    Case(
        "logistic loss",
        "log(1+exp(-y*(w*x+b)))",
        [
            {"w": 0.5, "x": 2.0, "b": 0.1, "y": 1.0},
            {"w": 20.0, "x": 2.0, "b": 0.0, "y": 1.0},
            {"w": 20.0, "x": 2.0, "b": 0.0, "y": -1.0},
            {"w": 350.0, "x": 2.0, "b": 0.0, "y": 1.0},
        ],
    ),
    # binary cross-entropy
    Case("bce", "bce(z, t)", bce_points(), True),
    Case("bce spelled", "-(t*log(sigmoid(z)) + (1-t)*log(1-sigmoid(z)))", bce_points()),
    Case("bce of s", "s = sigmoid(z); t*(-log(s))+(1-t)*(-log(1-s))", bce_points()),
    Case("bce as softplus", "softplus(z)-z*t", bce_points()),
    Case("bce spelled raw", "-(t*log(1/(1+exp(-z))) + (1-t)*log(1-1/(1+exp(-z))))", bce_points()),
    # log-sum-exp and softmax
    Case("logaddexp", "logaddexp(a, b)", pairs(700) + pairs(750)[2:]),
    Case("logaddexp spelled", "log(exp(a)+exp(b))", pairs(700) + pairs(750)[2:], True),
    Case("nested logaddexp", "logaddexp(logaddexp(a, b), c)", ABC, True),
    Case("logsumexp of 3", "log(exp(a)+exp(b)+exp(c))", ABC, True),
    Case("softmax", "exp(a)/(exp(a)+exp(b)+exp(c))", ABC, True),
    Case("log softmax", "a - log(exp(a)+exp(b)+exp(c))", ABC),
    Case("logsumexp", "logsumexp(a, b, c)", ABC),
    Case("softmax by name", "softmax(a, b, c)", ABC),
    Case("logsoftmax", "logsoftmax(a, b, c)", ABC),
    Case("logsumexp of 4", "log(exp(a)+exp(b)+exp(c)+exp(d))", [p | {"d": -3.0} for p in ABC]),
    # tanh and GELU
    Case("tanh", "tanh(z)", along("z", LOGIT)),
    Case("tanh spelled", "(exp(z)-exp(-z))/(exp(z)+exp(-z))", along("z", LOGIT)),
    Case("tanh via sigmoid", "2/(1+exp(-2*z))-1", along("z", LOGIT)),
    Case("tanh-GELU", GELU, along("x", ORDINARY + (-3.0, 3.0, 30, -30, 1e-10, -1e-10)), True),
    Case(
        "neuron tanh",
        "v*tanh(w*x+b)",
        [{"v": 2.0, "w": 0.5, "x": 2.0, "b": 0.1}, {"v": 2.0, "w": 20.0, "x": 2.0, "b": 0.0}],
    ),
    Case("lstm gate", "sigmoid(a)*tanh(b)", pairs(30) + pairs(40)[2:]),
    # the classic cancellations
    Case("sqrt(x**2+1)", "sqrt(x**2+1)", along("x", ORDINARY + (1e-10, 1e10, 1e200, 1e300)), True),
    Case("sqrt(1+x**2)", "sqrt(1+x**2)", along("x", ORDINARY + (1e-10, 1e200, 1e300))),
    Case(
        "hypot",
        "hypot(x, y)",
        [{"x": 3.0, "y": 4.0}, {"x": 1e-300, "y": 1e-300}, {"x": 1e300, "y": 1e300}],
    ),
    Case(
        "hypot spelled",
        "sqrt(x**2+y**2)",
        [
            {"x": 3.0, "y": 4.0},
            {"x": 1e-300, "y": 1e-300},
            {"x": 1e300, "y": 1e300},
            {"x": 1e-170, "y": 2e-170},
        ],
    ),
    Case(
        "asinh spelled",
        "log(x+sqrt(x**2+1))",
        along("x", ORDINARY + (1e-10, 1e10, 1e200, -1e10)),
        True,
    ),
    Case("asinh", "asinh(x)", along("x", ORDINARY + (1e-10, 1e10, 1e200, -1e10))),
    Case("1-cos", "1-cos(x)", along("x", SMALL), True),
    Case("sqrt(1+x)-1", "sqrt(1+x)-1", along("x", SMALL)),
    Case("(1+x)**10", "(1+x)**10", along("x", SMALL)),
    Case("(1+x)**1000", "(1+x)**1000", along("x", (0.3, 1e-3, 1e-10, -1e-10, 1e-300)), True),
    Case(
        "compound interest",
        "(1+r)**n",
        [
            {"r": 0.05, "n": 10.0},
            {"r": 1e-6, "n": 1e6},
            {"r": 1e-10, "n": 1e10},
            {"r": -3e-9, "n": 2.5e8},
            {"r": -3.0, "n": 3.0},  # a negative base with an integer n
        ],
    ),
    Case("log(1+x)", "log(1+x)", along("x", SMALL)),
    Case("log1p", "log1p(x)", along("x", SMALL)),
    Case("exp(x)-1", "exp(x)-1", along("x", SMALL), True),
    Case("expm1", "expm1(x)", along("x", SMALL)),
    Case("log(s**2)", "log(s**2)", along("s", (0.3, -1.7, 1e-10, 1e-170, 1e170, 1e300))),
]


# ---------------------------------------------------------------------------------------------
# The graph as SymPy, PyTorch and JAX see it


def constants(graph) -> list:
    """The float64 value of every node that depends on no variable (None for the others): what
    every tool computes for 2/pi or sqrt(2/pi) before the variables come in."""
    values = api.evaluate(graph, {name: 1.0 for name in graph.variables}).values
    return [None if graph.needs_grad[i] else float(values[i]) for i in range(len(graph.op))]


def _sym_ops():
    s = sympy

    def sigmoid(x):
        return 1 / (1 + s.exp(-x))

    def softplus(x):
        return s.log(1 + s.exp(x))

    return {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y,
        "neg": lambda x: -x,
        "pow": lambda x, y: x**y,
        "pow1p": lambda x, y: (1 + x) ** y,
        "exp": s.exp,
        "exp2": lambda x: 2**x,
        "expm1": lambda x: s.exp(x) - 1,
        "log": s.log,
        "log2": lambda x: s.log(x) / s.log(2),
        "log10": lambda x: s.log(x) / s.log(10),
        "log1p": lambda x: s.log(1 + x),
        "xlogy": lambda x, y: x * s.log(y),
        "xlog1py": lambda x, y: x * s.log(1 + y),
        "sqrt": s.sqrt,
        "sin": s.sin,
        "cos": s.cos,
        "tan": s.tan,
        "asin": s.asin,
        "acos": s.acos,
        "atan": s.atan,
        "atan2": s.atan2,  # cg's atan2(x, y) is numpy's arctan2(x, y), SymPy's atan2(x, y)
        "sinh": s.sinh,
        "cosh": s.cosh,
        "tanh": s.tanh,
        "asinh": s.asinh,
        "acosh": s.acosh,
        "atanh": s.atanh,
        "sigmoid": sigmoid,
        "softplus": softplus,
        "logsigmoid": lambda x: -softplus(-x),
        "bce": lambda x, y: softplus(x) - x * y,
        "logaddexp": lambda x, y: s.log(s.exp(x) + s.exp(y)),
        "logsumexp": lambda *xs: s.log(sum(s.exp(x) for x in xs)),
        "softmax": lambda *xs: s.exp(xs[0]) / sum(s.exp(x) for x in xs),
        "logsoftmax": lambda *xs: xs[0] - s.log(sum(s.exp(x) for x in xs)),
        "hypot": lambda x, y: s.sqrt(x**2 + y**2),
        "abs": s.Abs,
        "relu": lambda x: s.Max(x, 0),
        "max": s.Max,
        "min": s.Min,
    }


def to_sympy(graph, folded) -> tuple[sympy.Expr, dict[str, sympy.Symbol]]:
    ops = _sym_ops()
    symbols = {name: sympy.Symbol(name, real=True) for name in graph.variables}
    vals: list = [None] * len(graph.op)
    for i, op in enumerate(graph.op):
        if folded[i] is not None:
            vals[i] = sympy.Rational(folded[i])  # the float64 constant, exactly
        elif op == "var":
            vals[i] = symbols[graph.name[i]]
        else:
            vals[i] = ops[op](*[vals[j] for j in graph.inputs[i]])
    return vals[graph.output], symbols


def _exponent(graph, folded, j):
    """A constant exponent as a Python number, as a user writes x**3 (JAX: integer_pow)."""
    v = folded[j]
    if v is not None and v == int(v) and abs(v) < 2**31:
        return int(v)
    return v


def translate(graph, folded, table, constant):
    """f(**variables) computing the graph with `table`'s functions, node by node in order."""

    def f(**env):
        vals: list = [None] * len(graph.op)
        for i, op in enumerate(graph.op):
            if folded[i] is not None:
                vals[i] = constant(folded[i])
            elif op == "var":
                vals[i] = env[graph.name[i]]
            elif op == "pow" and folded[graph.inputs[i][1]] is not None:
                x, y = graph.inputs[i]
                vals[i] = vals[x] ** _exponent(graph, folded, y)
            else:
                vals[i] = table[op](*[vals[j] for j in graph.inputs[i]])
        return vals[graph.output]

    return f


def torch_table(torch):
    F = torch.nn.functional
    return {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "div": torch.div,
        "neg": torch.neg,
        "pow": torch.pow,
        "pow1p": lambda x, y: torch.pow(1 + x, y),
        "exp": torch.exp,
        "exp2": torch.exp2,
        "expm1": torch.expm1,
        "log": torch.log,
        "log2": torch.log2,
        "log10": torch.log10,
        "log1p": torch.log1p,
        "xlogy": torch.xlogy,
        "xlog1py": torch.special.xlog1py,
        "sqrt": torch.sqrt,
        "sin": torch.sin,
        "cos": torch.cos,
        "tan": torch.tan,
        "asin": torch.asin,
        "acos": torch.acos,
        "atan": torch.atan,
        "atan2": torch.atan2,
        "sinh": torch.sinh,
        "cosh": torch.cosh,
        "tanh": torch.tanh,
        "asinh": torch.asinh,
        "acosh": torch.acosh,
        "atanh": torch.atanh,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
        "logsigmoid": F.logsigmoid,
        "bce": lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
        "logaddexp": torch.logaddexp,
        "hypot": torch.hypot,
        "abs": torch.abs,
        "relu": torch.relu,
        "max": torch.maximum,
        "min": torch.minimum,
        "logsumexp": lambda *xs: torch.logsumexp(torch.stack(xs), 0),
        "softmax": lambda *xs: torch.softmax(torch.stack(xs), 0)[0],
        "logsoftmax": lambda *xs: torch.log_softmax(torch.stack(xs), 0)[0],
    }


def jax_table(jax, jnp):
    from jax.scipy.special import xlog1py, xlogy

    nn = jax.nn
    return {
        "add": jnp.add,
        "sub": jnp.subtract,
        "mul": jnp.multiply,
        "div": jnp.divide,
        "neg": jnp.negative,
        "pow": jnp.power,
        "pow1p": lambda x, y: jnp.power(1 + x, y),
        "exp": jnp.exp,
        "exp2": jnp.exp2,
        "expm1": jnp.expm1,
        "log": jnp.log,
        "log2": jnp.log2,
        "log10": jnp.log10,
        "log1p": jnp.log1p,
        "xlogy": xlogy,
        "xlog1py": xlog1py,
        "sqrt": jnp.sqrt,
        "sin": jnp.sin,
        "cos": jnp.cos,
        "tan": jnp.tan,
        "asin": jnp.arcsin,
        "acos": jnp.arccos,
        "atan": jnp.arctan,
        "atan2": jnp.arctan2,
        "sinh": jnp.sinh,
        "cosh": jnp.cosh,
        "tanh": jnp.tanh,
        "asinh": jnp.arcsinh,
        "acosh": jnp.arccosh,
        "atanh": jnp.arctanh,
        "sigmoid": nn.sigmoid,
        "softplus": nn.softplus,
        "logsigmoid": nn.log_sigmoid,
        # optax.sigmoid_binary_cross_entropy's formula
        "bce": lambda x, y: -(y * nn.log_sigmoid(x) + (1 - y) * nn.log_sigmoid(-x)),
        "logaddexp": jnp.logaddexp,
        "hypot": jnp.hypot,
        "abs": jnp.abs,
        "relu": nn.relu,
        "max": jnp.maximum,
        "min": jnp.minimum,
        "logsumexp": lambda *xs: nn.logsumexp(jnp.stack(xs), axis=0),
        "softmax": lambda *xs: nn.softmax(jnp.stack(xs), axis=0)[0],
        "logsoftmax": lambda *xs: nn.log_softmax(jnp.stack(xs), axis=0)[0],
    }


# ---------------------------------------------------------------------------------------------
# The oracle


_MP = {
    sympy.exp: mpmath.exp,
    sympy.log: mpmath.log,
    sympy.sin: mpmath.sin,
    sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan,
    sympy.asin: mpmath.asin,
    sympy.acos: mpmath.acos,
    sympy.atan: mpmath.atan,
    sympy.sinh: mpmath.sinh,
    sympy.cosh: mpmath.cosh,
    sympy.tanh: mpmath.tanh,
    sympy.asinh: mpmath.asinh,
    sympy.acosh: mpmath.acosh,
    sympy.atanh: mpmath.atanh,
    sympy.Abs: mpmath.fabs,
    sympy.sign: mpmath.sign,
    sympy.Heaviside: lambda x, h0=None: mpmath.mpf(1 if x > 0 else 0 if x < 0 else 0.5),
    sympy.Max: lambda *a: max(a),
    sympy.Min: lambda *a: min(a),
}


def mp_eval(expr: sympy.Expr, env: dict) -> mpmath.mpf:
    """expr at env (Symbol → mpf) at mpmath's current precision; its tree walked with a stack."""
    done: dict = {}
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in done:
            continue
        if not ready and e.args and not e.is_Number:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in done)
            continue
        if e.is_Symbol:
            v = env[e]
        elif e.is_Integer:
            v = mpmath.mpf(int(e))
        elif e.is_Rational:
            v = mpmath.mpf(int(e.p)) / int(e.q)
        elif e is sympy.pi:
            v = +mpmath.pi
        elif e is sympy.E:
            v = mpmath.e()
        else:
            args = [done[a] for a in e.args]
            if e.is_Add:
                v = mpmath.fsum(args)
            elif e.is_Mul:
                v = mpmath.fprod(args)
            elif e.is_Pow:
                v = mpmath.power(*args)
            elif e.func in _MP:
                v = _MP[e.func](*args)
            elif e.func is sympy.atan2:
                v = mpmath.atan2(*args)
            else:
                raise ValueError(f"the oracle has no {e.func.__name__}")
        done[e] = v
    return done[expr]


def to_float(v) -> float | None:
    """The correctly rounded float64 of an mpf (±inf past float64's range), or None if not real."""
    if isinstance(v, mpmath.mpc) or not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
        return None
    with mpmath.workprec(53):
        r = +v  # mpmath rounds to nearest, ties to even; exponents are unbounded
    if r == 0:
        return math.copysign(0.0, float(mpmath.sign(v)) or 1.0)
    if mpmath.fabs(r) >= mpmath.mpf(2) ** 1024:
        return math.inf if v > 0 else -math.inf
    return float(r) if mpmath.fabs(r) >= mpmath.mpf(2) ** -1022 else _subnormal(v)


def _subnormal(v) -> float:
    """Below 2**-1022 float64's step is 2**-1074: round v to that grid."""
    steps = mpmath.nint(v * mpmath.mpf(2) ** 1074)  # nint: to nearest, ties to even
    return math.ldexp(float(steps), -1074) if steps else math.copysign(0.0, float(v))


def oracle(derivative: sympy.Expr, env: dict[sympy.Symbol, float]) -> float | None:
    """The correctly rounded float64 of the derivative at env, or None if it cannot be decided."""
    previous = None
    bits = START_BITS
    while bits <= MAX_BITS:
        try:
            with mpmath.workprec(bits):
                v = mp_eval(derivative, {s: mpmath.mpf(x) for s, x in env.items()})
                current = (to_float(v), v)
        except (ZeroDivisionError, ValueError, OverflowError):
            current = (None, None)
        if current[0] is not None and previous is not None and previous[0] == current[0]:
            a, b = previous[1], current[1]
            with mpmath.workprec(bits):
                if a == b or mpmath.fabs(a - b) <= mpmath.fabs(b) * mpmath.mpf(2) ** -80:
                    return current[0]
        previous = current
        bits *= 2
    return None


# ---------------------------------------------------------------------------------------------
# Measuring


def ordered(x: float) -> int:
    """float64 as an integer in the same order: neighbours differ by 1, -0.0 and 0.0 are both 0."""
    (i,) = struct.unpack("<q", struct.pack("<d", x))
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def ulps(got: float, truth: float) -> float:
    """Float64 steps between got and the (finite) truth; inf for nan or ±inf."""
    if not math.isfinite(got):
        return math.inf
    return float(abs(ordered(got) - ordered(truth)))


@dataclass
class Output:
    case: Case
    point: dict[str, float]
    var: str
    truth: float | None
    got: dict[str, float] = field(default_factory=dict)  # tool → value

    def err(self, tool: str) -> float:
        return ulps(self.got[tool], self.truth) if tool in self.got else math.nan


CG_TOOLS = ("cg", "cg batch", "cg --fuse", "cg --fuse batch")


def run_cg(graph, case: Case, variables) -> dict[str, list[dict[str, float]]]:
    """tool → per point, {variable: ∂f/∂variable}."""
    fused = api.fuse(graph)
    found = {}
    for tool, g in (("cg", graph), ("cg --fuse", fused)):
        rows = []
        for p in case.points:
            try:
                rows.append({k: float(v) for k, v in api.grad(g, p).gradients.items()})
            except CgError:
                rows.append(dict.fromkeys(variables, math.nan))
        found[tool] = rows
        batch = {v: np.array([p[v] for p in case.points]) for v in variables}
        grads = api.grad(g, batch, keep_nodes=False).gradients
        found[tool + " batch"] = [
            {v: float(grads[v][k]) for v in variables} for k in range(len(case.points))
        ]
    return found


def run_torch(torch, graph, folded, case: Case, variables):
    f = translate(graph, folded, torch_table(torch), lambda c: torch.tensor(c, dtype=torch.float64))
    env = {
        v: torch.tensor([p[v] for p in case.points], dtype=torch.float64, requires_grad=True)
        for v in variables
    }
    out = f(**env)
    out = out.expand(len(case.points)) if out.dim() == 0 else out
    grads = torch.autograd.grad(
        out, [env[v] for v in variables], grad_outputs=torch.ones_like(out), allow_unused=True
    )
    grads = [np.zeros(len(case.points)) if g is None else g.detach().numpy() for g in grads]
    return [{v: float(g[k]) for v, g in zip(variables, grads)} for k in range(len(case.points))]


def run_jax(jax, jnp, graph, folded, case: Case, variables):
    f = translate(graph, folded, jax_table(jax, jnp), lambda c: jnp.asarray(c, dtype=jnp.float64))

    def positional(*args):
        return f(**dict(zip(variables, args)))

    d = jax.vmap(jax.grad(positional, argnums=tuple(range(len(variables)))))
    arrays = [jnp.asarray([p[v] for p in case.points], dtype=jnp.float64) for v in variables]
    grads = [np.asarray(g) for g in d(*arrays)]
    return [{v: float(g[k]) for v, g in zip(variables, grads)} for k in range(len(case.points))]


def measure(cases: list[Case], frameworks: dict) -> tuple[list[Output], list[str], list[str]]:
    """Every output of every case, with the truth and each tool's value; the outputs the oracle
    could not decide; the tools measured."""
    outputs, undecided = [], []
    tools = list(CG_TOOLS) + list(frameworks)
    for case in cases:
        graph = api.parse(case.expr)
        variables = list(graph.variables)
        folded = constants(graph)
        expr, symbols = to_sympy(graph, folded)
        derivatives = {v: sympy.diff(expr, symbols[v]) for v in variables}
        results = run_cg(graph, case, variables)
        if "PyTorch" in frameworks:
            results["PyTorch"] = run_torch(frameworks["PyTorch"], graph, folded, case, variables)
        if "JAX" in frameworks:
            jax, jnp = frameworks["JAX"]
            results["JAX"] = run_jax(jax, jnp, graph, folded, case, variables)
        for k, p in enumerate(case.points):
            for v in variables:
                truth = oracle(derivatives[v], {symbols[n]: p[n] for n in variables})
                if truth is None:
                    undecided.append(f"`{case.expr}` at {point_text(p)}, ∂{v}")
                    continue
                if not math.isfinite(truth):
                    continue  # the true gradient overflows float64: nothing to compare
                got = {tool: results[tool][k][v] for tool in tools}
                outputs.append(Output(case, p, v, truth, got))
    return outputs, undecided, tools


# ---------------------------------------------------------------------------------------------
# Reporting


def quantile(errors: list[float], q: float) -> float:
    s = sorted(errors)
    return s[min(len(s) - 1, math.ceil(q * len(s)) - 1)] if s else math.nan


def shown(u: float) -> str:
    if u == math.inf:
        return "nonfinite"
    return f"{u:.0f}" if u < 1e6 else f"{u:.1e}"


def point_text(p: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in p.items())


def best_reference(o: Output, references: list[str]) -> float:
    return min((o.err(t) for t in references), default=math.nan)


def misses(outputs: list[Output], tool: str, references: list[str]) -> list[Output]:
    """Outputs where `tool` is worse than the better reference by more than 8 ulps and 4x."""
    found = []
    for o in outputs:
        mine, best = o.err(tool), best_reference(o, references)
        if mine > best + NEAR_ULPS and mine > NEAR_RATIO * best:
            found.append(o)
    return found


def report(outputs: list[Output], undecided: list[str], tools: list[str], seconds: float) -> None:
    references = [t for t in ("PyTorch", "JAX") if t in tools]
    n_cases = len({id(o.case) for o in outputs})
    print(
        f"{len(outputs)} outputs (gradient components) of {n_cases} expressions; "
        f"{len(undecided)} left out where the oracle could not decide; {seconds:.0f} s"
    )
    for text in undecided:
        print(f"  left out: {text}")
    print()
    shared = [o for o in outputs if all(o.err(t) <= BAD_ULPS for t in tools)]
    print(
        f"ulps over the {len(shared)} outputs every tool gets within {BAD_ULPS:,} ulps; "
        f"bad over all {len(outputs)}:\n"
    )
    print(
        "| tool | median ulps | p99 ulps | max ulps | bad: nonfinite or > 1,000 ulps | nonfinite |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    bad = {}
    for tool in tools:
        errors = [o.err(tool) for o in shared]
        bad[tool] = sum(1 for o in outputs if o.err(tool) > BAD_ULPS)
        nonfinite = sum(1 for o in outputs if o.err(tool) == math.inf)
        print(
            f"| {tool} | {shown(quantile(errors, 0.5))} | {shown(quantile(errors, 0.99))} | "
            f"{shown(max(errors, default=math.nan))} | {bad[tool]} | {nonfinite} |"
        )
    print()
    if references:
        fewest = min(bad[t] for t in references)
        for tool in ("cg --fuse", "cg --fuse batch"):
            missed = misses(outputs, tool, references)
            print(
                f"{tool}: {len(missed)} outputs worse than the better of "
                f"{' and '.join(references)} by more than {NEAR_ULPS} ulps and {NEAR_RATIO}x; "
                f"{bad[tool]} bad outputs against their {fewest} (target: at most {fewest / 5:g})"
            )
        print()
        print_misses(outputs, references)
    print_worst(outputs, tools)


def print_misses(outputs: list[Output], references: list[str]) -> None:
    single = misses(outputs, "cg --fuse", references)
    batch = misses(outputs, "cg --fuse batch", references)
    missed = [o for o in outputs if o in single or o in batch]
    if not missed:
        return
    print("Misses of the first target (cg --fuse worse than the better reference):\n")
    print("| expression | point | ∂ | truth | cg --fuse | batch | best of PyTorch/JAX |")
    print("|---|---|---|---:|---:|---:|---:|")
    for o in sorted(missed, key=lambda o: -o.err("cg --fuse")):
        print(
            f"| `{o.case.expr}` | {point_text(o.point)} | {o.var} | {o.truth:.17g} | "
            f"{shown(o.err('cg --fuse'))} | {shown(o.err('cg --fuse batch'))} | "
            f"{shown(best_reference(o, references))} |"
        )
    print()


def print_worst(outputs: list[Output], tools: list[str], threshold: float = 16) -> None:
    """Per expression, each tool's worst output, for the expressions where some tool is past
    `threshold` ulps."""
    by_case: dict[int, list[Output]] = {}
    for o in outputs:
        by_case.setdefault(id(o.case), []).append(o)
    rows = []
    for group in by_case.values():
        worst = {t: max(o.err(t) for o in group) for t in tools}
        if max(worst.values()) > threshold:
            bad = {t: sum(o.err(t) > BAD_ULPS for o in group) for t in tools}
            rows.append((group[0].case, worst, bad))
    if not rows:
        return
    print(f"Worst output per expression, where some tool is past {threshold:g} ulps (bad count):\n")
    print("| expression | " + " | ".join(tools) + " |")
    print("|---|" + "---:|" * len(tools))
    for case, worst, bad in rows:
        cells = [f"{shown(worst[t])} ({bad[t]})" for t in tools]
        print(f"| `{case.expr}` | " + " | ".join(cells) + " |")
    print()


def print_detail(outputs: list[Output], tools: list[str]) -> None:
    print("| expression | point | ∂ | truth | " + " | ".join(tools) + " |")
    print("|---|---|---|---:|" + "---:|" * len(tools))
    for o in outputs:
        cells = [f"{o.got[t]:.17g} ({shown(o.err(t))})" for t in tools]
        print(
            f"| `{o.case.expr}` | {point_text(o.point)} | {o.var} | {o.truth:.17g} | "
            + " | ".join(cells)
            + " |"
        )


def frameworks(no_torch: bool, no_jax: bool) -> dict:
    found = {}
    if not no_torch:
        try:
            import torch

            torch.set_num_threads(1)
            found["PyTorch"] = torch
        except ImportError:
            print("PyTorch is not installed: left out (pip install torch)", file=sys.stderr)
    if not no_jax:
        try:
            import jax

            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            found["JAX"] = (jax, jnp)
        except ImportError:
            print("JAX is not installed: left out (pip install jax jaxlib)", file=sys.stderr)
    return found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the marked third of the corpus")
    ap.add_argument("--only", help="the cases whose name or expression contains this text")
    ap.add_argument("--detail", action="store_true", help="every output of every case, one a line")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--no-jax", action="store_true", help="leave JAX out")
    args = ap.parse_args(argv)
    cases = [c for c in CORPUS if c.quick or not args.quick]
    if args.only:
        cases = [c for c in cases if args.only in c.name or args.only in c.expr]
    if not cases:
        print("no case matches", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")  # overflow and invalid values are what is being measured
    np.seterr(all="ignore")
    start = time.perf_counter()
    outputs, undecided, tools = measure(cases, frameworks(args.no_torch, args.no_jax))
    report(outputs, undecided, tools, time.perf_counter() - start)
    if args.detail:
        print_detail(outputs, tools)
    return 0


if __name__ == "__main__":
    sys.exit(main())
