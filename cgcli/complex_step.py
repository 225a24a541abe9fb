"""The complex-step derivative: ∂f/∂x = Im f(x + ih) / h, exact to rounding for analytic f.

f's gates are evaluated on complex numbers; with h tiny the h² terms of the Taylor series are
far below the last bit, and no difference cancels, so the reference is as good as f's own
rounding. Each op's complex forward is written here, apart from the ops table, so that the
reference shares nothing with backprop's local gradients: numpy's complex functions where they
keep f's digits, else the first-order form f(a) + i·b·f′(a) with f′ written out (the same to the
last bit, since b² vanishes beside a): where numpy has none, and where its complex form rounds
away digits the real one keeps (log1p's 1+z, bce's softplus(z) - z·t at large z).

Ops whose derivative jumps (relu, abs, sign, floor, ceil, max, min) are not analytic: a case
that uses one with the complex method is refused before it runs (NOT_ANALYTIC, why for each).
"""

from __future__ import annotations

import math

import numpy as np

from . import arrays
from .graph import Graph

# the step: a 2^-40 part of the expression's reach in x (h² is a 2^-80 part: gone)
PART = 2.0**-40

NOT_ANALYTIC = {
    "relu": "its derivative jumps at 0",
    "abs": "its derivative jumps at 0",
    "sign": "it jumps at 0",
    "floor": "it jumps at each integer",
    "ceil": "it jumps at each integer",
    "max": "its derivative jumps where x = y",
    "min": "its derivative jumps where x = y",
}


def _first_order(f, *partials):
    """f(a + ib, …) = f(a, …) + i·(b·∂f/∂x + …) for parts b far below a's last bit: f and each
    input's partial derivative are functions of the real parts."""

    def forward(*zs):
        reals = [np.real(z) for z in zs]
        slope = sum(np.imag(z) * d(*reals) for z, d in zip(zs, partials))
        return f(*reals) + 1j * slope

    return forward


def _pow(x, y):
    # a negative base with an integer exponent: (−1)^y·(−x)^y, away from log's branch cut
    whole = (np.imag(y) == 0) & (np.real(y) == np.round(np.real(y)))
    negative = np.real(x) < 0
    sign = np.where(np.mod(np.real(y), 2) == 0, 1.0, -1.0)
    return np.where(whole & negative, sign * np.power(-x, y), np.power(x, y))


def _sigmoid(z):
    # exp of a negative real part only: 1/(1+exp(−z)) for Re z ≥ 0, exp(z)/(1+exp(z)) below
    e = np.exp(-np.abs(z.real) + 1j * np.where(z.real >= 0, -z.imag, z.imag))
    return np.where(z.real >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(z):
    # max(Re z, 0) + log1p(exp(−|Re z|)) with the imaginary parts carried
    positive = z.real > 0
    e = np.exp(np.where(positive, -z, z))
    return np.where(positive, z, 0) + np.log1p(e)


def _logaddexp(x, y):
    larger = np.where(x.real >= y.real, x, y)
    smaller = np.where(x.real >= y.real, y, x)
    return larger + np.log1p(np.exp(smaller - larger))


def _logsumexp(*xs):
    # shifted by the largest real part, whose imaginary part is carried in the shift
    m = xs[0]
    for x in xs[1:]:
        m = np.where(x.real > m.real, x, m)
    return m + np.log(sum(np.exp(x - m) for x in xs))


def _xlogy(x, y):
    return np.where(x == 0, 0, x * np.log(y))


def _atan2(x, y):
    # the angle of (y, x) and its first-order change: (y·dx − x·dy)/(x² + y²)
    a, c = x.real, y.real
    r = np.hypot(a, c)
    return np.arctan2(a, c) + 1j * ((c / r) * (x.imag / r) - (a / r) * (y.imag / r))


def _hypot(x, y):
    a, c = x.real, y.real
    r = np.hypot(a, c)
    return r + 1j * ((a / r) * x.imag + (c / r) * y.imag)


COMPLEX = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "neg": np.negative,
    "pow": _pow,
    "pow1p": _first_order(
        arrays.pow1p,
        lambda x, y: y * arrays.pow1p(x, y - 1),
        lambda x, y: arrays.xlog1py(arrays.pow1p(x, y), x),
    ),
    "exp": np.exp,
    "exp2": lambda z: np.exp(z * math.log(2)),
    "expm1": _first_order(np.expm1, np.exp),
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": _first_order(np.log1p, lambda a: 1 / (1 + a)),
    "xlog1py": _first_order(arrays.xlog1py, lambda x, y: np.log1p(y), lambda x, y: x / (1 + y)),
    "xlogy": _xlogy,
    "sqrt": np.sqrt,
    "cbrt": _first_order(np.cbrt, lambda a: 1 / (3 * np.cbrt(a) ** 2)),
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "atan2": _atan2,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "erf": _first_order(arrays.erf, lambda a: 2 / math.sqrt(math.pi) * np.exp(-a * a)),
    "erfc": _first_order(arrays.erfc, lambda a: -2 / math.sqrt(math.pi) * np.exp(-a * a)),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "logsigmoid": lambda z: -_softplus(-z),
    "logaddexp": _logaddexp,
    "logsumexp": _logsumexp,
    "logsoftmax": lambda *xs: xs[0] - _logsumexp(*xs),
    "softmax": lambda *xs: np.exp(xs[0] - _logsumexp(*xs)),
    "bce": _first_order(
        arrays.bce,
        lambda x, t: (1 - t) * arrays.sigmoid(x) - t * arrays.sigmoid(-x),
        lambda x, t: -x,
    ),
    "hypot": _hypot,
}


def forward(graph: Graph, env: dict, var: str, h) -> np.ndarray:
    """f at var + i·h (the other variables real), as complex arrays."""
    n = np.size(h)
    values: list = [None] * len(graph.op)
    for name, node in graph.variables.items():
        values[node] = np.broadcast_to(np.asarray(env[name], dtype=complex), (n,)).copy()
    values[graph.variables[var]] = values[graph.variables[var]] + 1j * h
    for node, v in graph.value.items():
        values[node] = np.full(n, v, dtype=complex)
    with np.errstate(all="ignore"):
        for node, inputs in enumerate(graph.inputs):
            if inputs:
                values[node] = np.asarray(
                    COMPLEX[graph.op[node]](*[values[i] for i in inputs]), dtype=complex
                )
    return values[graph.output]


def estimate(graph: Graph, env: dict, var: str, reach_x, n: int):
    """The complex-step reference for ∂f/∂var at the points of env, as reference.Estimate
    (its error is filled in by the caller: that of backprop, whose rounding it shares)."""
    from .reference import TINY, Estimate

    x = np.abs(np.broadcast_to(np.asarray(env[var], dtype=float), (n,)))
    scale = np.fmin(np.broadcast_to(reach_x, (n,)), np.fmax(x, 1.0))
    h = PART * np.where(scale > 0, scale, np.fmax(x, 1.0))
    with np.errstate(all="ignore"):
        value = forward(graph, env, var, h).imag / h
    # an imaginary part that underflows loses its last bits: at most TINY per gate
    gates = sum(1 for inputs in graph.inputs if inputs)
    underflow = 4 * gates * TINY / h
    zero = np.zeros(n)
    return Estimate(
        value,
        underflow,
        underflow,
        h,
        h,
        np.broadcast_to(reach_x, (n,)),
        np.isfinite(value),
        zero.astype(bool),
    )
