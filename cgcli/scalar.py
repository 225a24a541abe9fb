"""The backend for one point: Python floats with IEEE float64 results.

Python's math module raises where IEEE arithmetic returns a value
(math.log(0) raises, numpy gives -inf) and Python's ** can return a complex
number. The forwards here, and math's functions wrapped by `ieee`, return the
float numpy would return instead: nan for a domain error, ±inf for a pole or
an overflow. Here are only the forwards math and operator lack; the ops
table (cgcli/ops.py) says which function each op uses. Importing numpy costs
more than the whole one-shot command, so single points are computed here.
"""

from __future__ import annotations

import builtins
import contextlib
import math
import operator

inf = math.inf
nan = math.nan
builtin_max = builtins.max  # max is the op's name below


BATCH = False


def watching():
    return contextlib.nullcontext()


looks_finite = math.isfinite  # the engine's cheap test before first_new_nonfinite
all_finite = math.isfinite


def first_new_nonfinite(
    v, args, strict=False, nan_only=False
):  # strict: arrays' twin needs it; one point always looks
    """0 (a single point) when v is ±inf although every input is finite, or nan although no input
    is nan (inf*0 at x = inf); else None. nan_only: only the second."""
    if v != v:
        return 0 if all(a == a for a in args) else None
    return (
        0 if not nan_only and not math.isfinite(v) and all(math.isfinite(a) for a in args) else None
    )


def at(v, point):
    return v


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and y % 2 == 1


def ieee(f, pole=None, overflow=None):
    """A math function with IEEE results instead of exceptions: where it raises ValueError, the
    value `pole` gives for x, else nan; where it raises OverflowError, `overflow`, else ±inf with
    x's sign."""

    def safe(x: float) -> float:
        try:
            return f(x)
        except ValueError:
            return pole.get(x, nan) if pole else nan
        except OverflowError:
            return math.copysign(inf, x) if overflow is None else overflow

    safe.__name__ = f.__name__
    return safe


# the engine's own arithmetic (backprop's products and sums): float arithmetic never raises,
# inf and nan come out as IEEE says
add, sub, mul, neg = operator.add, operator.sub, operator.mul, operator.neg


def div(x, y):
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return nan
        return math.copysign(inf, x) * math.copysign(1.0, y)


def pow(x, y):  # noqa: A001 - the op's name
    try:
        return math.pow(x, y)
    except OverflowError:
        return -inf if x < 0 and _is_odd_integer(y) else inf
    except ValueError:
        if x == 0:  # 0 ** negative: a pole
            return -inf if math.copysign(1.0, x) < 0 and _is_odd_integer(y) else inf
        return nan  # negative ** non-integer: never complex


def pow1p(x, y):
    """(1+x)**y. Where 1+x rounds (|x| < 0.5 and (1+x)-1 is not x), the rounding would lose x's
    last digits, which pow then multiplies by y: exp(y*log1p(x)) keeps them, its error growing
    with |y*log1p(x)| instead. Elsewhere 1+x is exact or as good as log1p, and pow(1+x, y)
    keeps pow's conventions: a negative base with an integer y, the pole at x = -1, nan for a
    negative base with any other y. ((1+x)-1 is exact for 1+x in [0.5, 2]: Sterbenz.)"""
    if -0.5 < x < 0.5 and (1.0 + x) - 1.0 != x:
        try:
            return math.exp(y * math.log1p(x))
        except OverflowError:
            return inf
    return pow(1.0 + x, y)


def _times_log(log):
    """x * log(y), and 0 where x = 0 unless y is nan: xlogy, and xlog1py (pow1p's ∂/∂y is
    xlog1py(out, x))."""

    def times(x, y):
        if x == 0 and y == y:
            return 0.0
        return x * log(y)

    return times


def sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)  # x < 0 or nan
    return z / (1.0 + z)


def softplus(x):
    if x != x:
        return x
    return (x if x > 0 else 0.0) + math.log1p(math.exp(-abs(x)))


def logaddexp(x, y):
    if x == y:  # also inf == inf, where x - y would be nan
        return x + 0.6931471805599453  # log(2)
    big = x if x > y else y
    return big + math.log1p(math.exp(-(x - y if x > y else y - x)))


def logsigmoid(x):
    return -softplus(-x)


def bce(x, y):
    # softplus(x) - x*y with its two large terms cancelled first: exact at y = 1, x = 20
    return (x if x > 0 else 0.0) - x * y + math.log1p(math.exp(-abs(x)))


def relu(x):
    return x if not x <= 0 else 0.0  # keeps nan


def sign(x):
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x if x != x else 0.0


def _integral(f):
    # math.floor/ceil give ints, which have no -0.0: ceil(-0.5) is -0.0, as numpy gives
    return lambda x: math.copysign(float(f(x)), x) if math.isfinite(x) else x


def max(x, y):  # noqa: A001
    if x != x or y != y:
        return nan
    return x if x > y else y  # y at a tie, as numpy's maximum: max(-0.0, 0.0) is 0.0


def min(x, y):  # noqa: A001
    if x != x or y != y:
        return nan
    return x if x < y else y  # y at a tie, as numpy's minimum


_log = ieee(math.log, pole={0.0: -inf})
_log1p = ieee(math.log1p, pole={-1.0: -inf})
xlogy, xlog1py = _times_log(_log), _times_log(_log1p)
_cosh = ieee(math.cosh, overflow=inf)
floor = _integral(math.floor)
ceil = _integral(math.ceil)


def tanh_grads(inputs, out):
    """tanh's local gradient: 1-out**2 where it is the closer (|out| < 2/3), else 1/cosh(x)²."""
    if abs(out) < 2 / 3:
        return [1.0 - out * out]
    c = _cosh(inputs[0])
    return [(1.0 / c) ** 2]


# Log-sum-exp, softmax and log-softmax of any number of inputs (variadic ops). Each shifts its
# inputs by the largest, m: exp(x - m) is at most 1 and never overflows; the one term that is
# exactly 1 stays out of the sum that log1p takes, so the small terms keep their digits. The
# local gradients are those terms over their sum, never through the rounded output.


def _shifted(xs) -> tuple[float, list[float], float] | None:
    """(m, exp(x - m) for each x, the sum of all terms but one that is 1); None for a nan, for
    inputs all -inf, or more than one +inf. With one +inf, its term is 1 and the others 0."""
    m = -inf
    for x in xs:
        if x != x:
            return None
        m = x if x > m else m
    if m == -inf or (m == inf and sum(x == inf for x in xs) > 1):
        return None
    terms = [1.0 if x == inf else 0.0 for x in xs] if m == inf else [math.exp(x - m) for x in xs]
    rest = list(terms)
    rest.remove(1.0)  # the largest input's term
    return m, terms, math.fsum(rest)


def _largest_or_nan(xs) -> float:
    return nan if any(x != x for x in xs) else builtin_max(xs)


def logsumexp(*xs):
    found = _shifted(xs)
    if found is None:
        return _largest_or_nan(xs)  # inf if any is inf; -inf if all are
    m, _, rest = found
    return m + math.log1p(rest)


def _terms_and_total(inputs):
    """The shifted terms exp(x - m) and their sum, or None where _shifted has none."""
    found = _shifted(inputs)
    if found is None:
        return None
    _, terms, rest = found
    return terms, 1.0 + rest


def logsumexp_grads(inputs, out):
    found = _terms_and_total(inputs)
    if found is None:
        return [nan] * len(inputs)
    terms, total = found
    return [t / total for t in terms]


def softmax(*xs):
    """exp(x) / (exp(x) + exp(y1) + …) for xs = (x, y1, …)."""
    found = _shifted(xs)
    if found is None:
        return nan
    _, terms, rest = found
    return terms[0] / (1.0 + rest)


def softmax_grads(inputs, out):
    # ∂/∂x = out·(1 - out) written as out·Σ s_j over the others: no cancellation near out = 1
    found = _terms_and_total(inputs)
    if found is None:
        return [nan] * len(inputs)
    terms, total = found
    others = math.fsum(terms[1:]) / total
    return [out * others] + [-out * (t / total) for t in terms[1:]]


def logsoftmax(*xs):
    """x - logsumexp(x, y1, …) for xs = (x, y1, …)."""
    found = _shifted(xs)
    if found is None:
        return nan
    m, _, rest = found
    return (0.0 if xs[0] == m else xs[0] - m) - math.log1p(rest)  # inf - inf is nan


def logsoftmax_grads(inputs, out):
    found = _terms_and_total(inputs)
    if found is None:
        return [nan] * len(inputs)
    terms, total = found
    return [math.fsum(terms[1:]) / total] + [-(t / total) for t in terms[1:]]
