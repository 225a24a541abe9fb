"""Forward functions on numpy float64 arrays: the batch twin of cgcli/scalar.py.

One function per op of cgcli/ops.py, under the op's name, with the same
results as the scalar ones (nan for a domain error, ±inf for a pole or an
overflow). The engine calls them inside np.errstate(all="call"), so numpy's
floating-point flags tell it cheaply when a nan or inf may have appeared.
"""

from __future__ import annotations

import threading

import numpy as np

from . import scalar

add = np.add
sub = np.subtract
mul = np.multiply
div = np.true_divide
neg = np.negative


def pow(x, y):  # noqa: A001 - float64 arrays: nan, never complex, for x < 0 and y not an integer
    if not np.ndim(y):
        if not np.ndim(
            x
        ):  # one base beside many points: numpy's scalar power takes shortcuts IEEE pow does not
            return scalar.pow(float(x), float(y))
        # x**2 and x**1 (a square and its local gradient 2*x**1) are the common cases: 3x faster
        # than np.power, and the same numbers (x*x is x² correctly rounded)
        if y == 2.0:
            return np.square(x)
        if y == 1.0:
            return np.positive(x)  # a new array, as np.power gives
        if (
            y == 0.5
        ):  # numpy's own shortcut, sqrt, gives -0 at -0 and nan at -inf, where pow gives 0 and inf
            out = np.sqrt(x)
            out += 0.0  # -0.0 + 0.0 is 0.0
            return np.where(x == -np.inf, np.inf, out)
    return np.power(x, y)


exp = np.exp
exp2 = np.exp2
expm1 = np.expm1
log = np.log
log2 = np.log2
log10 = np.log10
log1p = np.log1p
sqrt = np.sqrt
cbrt = np.cbrt
sin = np.sin
cos = np.cos
tan = np.tan
asin = np.arcsin
acos = np.arccos
atan = np.arctan
atan2 = np.arctan2
sinh = np.sinh
cosh = np.cosh
tanh = np.tanh
asinh = np.arcsinh
acosh = np.arccosh
atanh = np.arctanh
abs = np.abs  # noqa: A001
sign = np.sign
floor = np.floor
ceil = np.ceil
max = np.maximum  # noqa: A001 - propagates nan, like scalar.max
min = np.minimum  # noqa: A001
hypot = np.hypot
logaddexp = np.logaddexp


def sigmoid(x):
    # 1/(1+exp(-x)) is accurate to the last bits everywhere in float64; for x < -709
    # exp overflows to inf (numpy flags it, cg finds no nan or inf in the result) and 1/inf = 0.
    if not np.ndim(x):
        return scalar.sigmoid(x)
    t = np.negative(x)
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def _sigmoid_kernel(x):
    """sigmoid's value and its local gradient out*sigmoid(-x) (cgcli/ops.py) from one exp, not two.

    With e = exp(-x): σ(x) = 1/(1+e) and σ(-x) = 1/(1+1/e), where 1/e is exp(x) within
    an ulp; at e = inf or 0 (|x| > 745) these give 0 and 1, as they should. Between
    x = 709.8 and 745, where σ(-x) is subnormal, 1/e overflows and the local gradient is
    0 where the scalar path gives a subnormal below 1e-308.
    """
    if not np.ndim(x):
        out = scalar.sigmoid(x)
        return out, (out * scalar.sigmoid(-x),)
    e = np.negative(x)
    np.exp(e, out=e)
    out = e + 1.0
    np.reciprocal(out, out=out)
    np.reciprocal(e, out=e)
    e += 1.0
    np.reciprocal(e, out=e)  # σ(-x)
    return out, (np.multiply(out, e, out=e),)


def softplus(x):
    return np.logaddexp(0.0, x)


def logsigmoid(x):
    return -np.logaddexp(0.0, -x)


def bce(x, y):
    # as scalar.bce: relu(x) - x*y first (the large terms cancel exactly), then log1p(exp(-|x|))
    return (np.maximum(x, 0.0) - np.multiply(x, y)) + np.log1p(np.exp(-np.abs(x)))


def relu(x):
    return np.maximum(x, 0.0)


def xlogy(x, y):
    return np.where((x == 0) & (y == y), 0.0, x * np.log(y))


# Kernels: an op's value and its local gradients computed together, sharing the work that
# evaluating the forward function and then the ops table's formulas would repeat. The
# numbers are the formulas' own; tests/test_batch.py checks that they are the same.
KERNELS = {"sigmoid": _sigmoid_kernel}

BATCH = True
# set by numpy when an operation overflowed, divided by zero or was invalid; per thread,
# as numpy's error state is (api.py computes chunks of points in parallel threads)
_state = threading.local()


def _on_fp_error(kind: str, flag: int) -> None:
    _state.flagged = True


def watching():
    """The context the engine evaluates in: numpy reports floating-point events to cg."""
    _state.flagged = False
    return np.errstate(all="call", call=_on_fp_error)


def looks_finite(v) -> bool:
    """The engine's cheap test before first_new_nonfinite: no floating-point event flagged."""
    return not getattr(_state, "flagged", False)


def all_finite(v) -> bool:
    return bool(np.isfinite(v).all())


def first_new_nonfinite(v, args, strict: bool = False, nan_only: bool = False) -> int | None:
    """The first point where v is ±inf although every input is finite there, or nan although no
    input is nan there (only that with nan_only); or None.

    Only looked for after numpy flagged an event: a clean operation cannot create nan or inf
    from finite inputs, so the common case costs nothing. `strict`: look anyway (backprop
    when some value is already inf: a local gradient made from it raises no flag).
    """
    if not strict and not getattr(_state, "flagged", False):
        return None
    _state.flagged = False
    new_inf, new_nan = (
        np.isinf(v) & (not nan_only),
        np.isnan(v),
    )  # inf from finite inputs; nan from inputs with no nan
    for a in args:
        if np.ndim(a):
            new_inf &= np.isfinite(a)
            new_nan &= ~np.isnan(a)
        else:
            new_inf &= bool(np.isfinite(a))
            new_nan &= not np.isnan(a)
    found = np.flatnonzero(new_inf | new_nan)
    return int(found[0]) if found.size else None


def at(v, point: int) -> float:
    return float(v[point]) if np.ndim(v) else float(v)
