"""The backend for many points: numpy float64 arrays, the batch twin of cgcli/scalar.py.

Here are only the forwards numpy lacks, or has with other results than one
point gets (nan for a domain error, ±inf for a pole or an overflow, never
complex); the ops table (cgcli/ops.py) says which function each op uses.
The engine calls them inside np.errstate(all="call"), so numpy's
floating-point flags tell it cheaply when a nan or inf may have appeared.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from . import scalar

# the engine's own arithmetic (backprop's products and sums)
add = np.add
mul = np.multiply
neg = np.negative


def pow(x, y):  # noqa: A001 - float64 arrays: nan, never complex, for x < 0 and y not an integer
    if not np.ndim(y):
        if not np.ndim(
            x
        ):  # one base beside many points: numpy's scalar power takes shortcuts IEEE pow does not
            return scalar.pow(float(x), float(y))
        # x**2 and x**1 (a square and its local gradient 2*x**1) are the common cases: cheaper
        # than np.power's general loop, and the same numbers (x*x is x² correctly rounded)
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


def sigmoid(x):
    """1/(1+exp(-x)) as e/(1+e) with e = exp(x), where no x is above 709 (e finite; below -709.78
    e is subnormal and so is σ, as one point gives it); else through exp(-|x|), which never
    overflows (_sigmoids)."""
    if not np.ndim(x):
        return scalar.sigmoid(x)
    if x.size and x.max() <= 709.0:  # a nan fails the test too
        e = np.exp(x)
        d = e + 1.0
        return np.divide(e, d, out=e)
    return _sigmoids(x)[0]


def _sigmoids(x):
    """σ(x) and σ(-x) from e = exp(-|x|) in [0, 1]: 1/(1+e) is the larger, e/(1+e) the smaller;
    both keep their digits and their subnormals at any x."""
    e = np.exp(-np.abs(x))
    d = e + 1.0
    big = np.divide(1.0, d)
    small = np.divide(e, d, out=e)
    positive = x >= 0
    return np.where(positive, big, small), np.where(positive, small, big)


def _sigmoid_kernel(x, out=(None, None)):
    """sigmoid's value and its local gradient out*sigmoid(-x) (cgcli/ops.py) from one exp, not two.

    With e = exp(x) and d = 1+e: σ(x) = e/d and σ(-x) = 1/d, each correctly rounded from e and
    d (scalar.sigmoid's formula for x < 0; for x >= 0 it differs from 1/(1+exp(-x)) by an ulp
    or two). Five passes over memory, one fewer than numpy's naive 1/(1+exp(-x)) with
    s*(1-s), which loses σ(-x)'s digits where σ(x) nears 1, and no array of its own when it
    writes into the results. Where some x is above 709 (e would
    overflow, and inf/inf is nan), both come from exp(-|x|) (_sigmoids), subnormals included.
    `out`: arrays the value and the local gradient go into (a chunk's slices of the results),
    or None. 1/d is np.divide(1.0, d): np.reciprocal has no SIMD loop for float64 and takes
    twice as long.
    """
    if not np.ndim(x):
        value = scalar.sigmoid(x)
        return value, (value * scalar.sigmoid(-x),)
    into, slope = out
    if x.size and x.max() <= 709.0:  # e is finite (a nan in x fails the test too)
        # e and d live in the result arrays when they are given: no array of the kernel's own
        e = np.exp(x, out=into)
        d = np.add(e, 1.0, out=slope)
        value = np.divide(e, d, out=e)
        np.divide(1.0, d, out=d)  # σ(-x)
        return value, (np.multiply(value, d, out=d),)
    value, d = _sigmoids(x)
    if into is not None:
        into[...] = value
        value = into
    return value, (np.multiply(value, d, out=d if slope is None else slope),)


def softplus(x):
    return np.logaddexp(0.0, x)


def logsigmoid(x):
    return -np.logaddexp(0.0, -x)


def bce(x, y):
    # as scalar.bce: relu(x) - x*y first (the large terms cancel exactly), then log1p(exp(-|x|))
    return (np.maximum(x, 0.0) - np.multiply(x, y)) + np.log1p(np.exp(-np.abs(x)))


def relu(x):
    return np.maximum(x, 0.0)


def pow1p(x, y):
    """As scalar.pow1p: exp(y*log1p(x)) where 1+x rounds and |x| < 0.5, pow(1+x, y) elsewhere."""
    if not np.ndim(x) and not np.ndim(y):
        return scalar.pow1p(float(x), float(y))
    base = np.add(x, 1.0)
    out = np.array(pow(base, y), dtype=np.float64)
    near = (np.abs(x) < 0.5) & (base - 1.0 != x)
    if np.any(near):
        out = np.where(near, np.exp(np.multiply(y, np.log1p(np.where(near, x, 0.0)))), out)
    return out


def _times_log(log):
    """As scalar._times_log: x * log(y), and 0 where x = 0 unless y is nan."""
    return lambda x, y: np.where((x == 0) & (y == y), 0.0, x * log(y))


xlogy, xlog1py = _times_log(np.log), _times_log(np.log1p)


def tanh_grads(inputs, out):
    """As scalar.tanh_grads: 1-out**2 where |out| < 2/3, else 1/cosh(x)²."""
    (x,) = inputs
    if not np.ndim(x):
        return scalar.tanh_grads([float(x)], float(out))
    sech = np.cosh(x)
    np.divide(1.0, sech, out=sech)
    np.square(sech, out=sech)
    near = np.abs(out) < 2 / 3
    return [np.where(near, 1.0 - np.square(out), sech)]


# Log-sum-exp, softmax and log-softmax of any number of inputs: as in cgcli/scalar.py, the
# inputs shifted by the largest, m, and the largest's term (exactly 1) kept out of the sum
# log1p takes. Where m is ±inf or an input is nan, the shifted terms are nan (inf - inf):
# the values there are set as the scalar path gives them, and the local gradients are nan.


def _shifted(xs):
    """(m, exp(x - m) for each x, the sum of all terms but one that is 1) over arrays."""
    xs = [np.asarray(x, dtype=np.float64) for x in xs]
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)  # nan where any is nan
    terms = [np.exp(x - m) for x in xs]
    rest = np.zeros(np.shape(m))
    seen = np.zeros(np.shape(m), dtype=bool)
    for x, t in zip(xs, terms):
        first = (x == m) & ~seen  # the largest input's term, once
        rest += np.where(first, 0.0, t)
        seen |= first
    return m, terms, rest


def _scalar_args(xs) -> bool:
    return not any(np.ndim(x) for x in xs)


def _as_one_point(xs, m, results, one_point):
    """Where the largest input is ±inf or some input nan, results[k] as the one-point function
    gives them (a point or two at the ends of a range: one at a time)."""
    for p in np.flatnonzero(~np.isfinite(m)):
        got = one_point(*[float(x[p]) if np.ndim(x) else float(x) for x in xs])
        for r, g in zip(results, got if isinstance(got, list) else [got]):
            r[p] = g
    return results


def logsumexp(*xs):
    if _scalar_args(xs):
        return scalar.logsumexp(*map(float, xs))
    m, _, rest = _shifted(xs)
    return _as_one_point(xs, m, [m + np.log1p(rest)], scalar.logsumexp)[0]


def softmax(*xs):
    if _scalar_args(xs):
        return scalar.softmax(*map(float, xs))
    m, terms, rest = _shifted(xs)
    return _as_one_point(xs, m, [terms[0] / (1.0 + rest)], scalar.softmax)[0]


def logsoftmax(*xs):
    if _scalar_args(xs):
        return scalar.logsoftmax(*map(float, xs))
    m, _, rest = _shifted(xs)
    return _as_one_point(xs, m, [(xs[0] - m) - np.log1p(rest)], scalar.logsoftmax)[0]


def _grads_at_one_point(grads):
    return lambda *xs: grads(list(xs), None)


def logsumexp_grads(inputs, out):
    if _scalar_args(inputs):
        return scalar.logsumexp_grads([float(x) for x in inputs], float(out))
    m, terms, rest = _shifted(inputs)
    total = 1.0 + rest
    found = [t / total for t in terms]
    return _as_one_point(inputs, m, found, _grads_at_one_point(scalar.logsumexp_grads))


def _others(terms, total):
    others = terms[1].copy()
    for t in terms[2:]:
        others += t
    return others / total


def softmax_grads(inputs, out):
    if _scalar_args(inputs):
        return scalar.softmax_grads([float(x) for x in inputs], float(out))
    m, terms, rest = _shifted(inputs)
    total = 1.0 + rest
    found = [out * _others(terms, total)] + [-out * (t / total) for t in terms[1:]]
    one_point = lambda *xs: scalar.softmax_grads(list(xs), scalar.softmax(*xs))  # noqa: E731
    return _as_one_point(inputs, m, found, one_point)


def logsoftmax_grads(inputs, out):
    if _scalar_args(inputs):
        return scalar.logsoftmax_grads([float(x) for x in inputs], float(out))
    m, terms, rest = _shifted(inputs)
    total = 1.0 + rest
    found = [_others(terms, total)] + [-(t / total) for t in terms[1:]]
    return _as_one_point(inputs, m, found, _grads_at_one_point(scalar.logsoftmax_grads))


# The error function. numpy has none: erf and erfc are made of three pieces, each accurate to
# an ulp or two, checked against mpmath in tests/test_erf.py.
# * |x| < 0.5: erf's Taylor series, 2/sqrt(pi) * sum of (-1)**n x**(2n+1) / (n! (2n+1)).
# * 0.5 <= |x| < 2: erfc's Taylor series around the nearest multiple c of 1/8, from math.erfc(c)
#   and erfc's derivatives, (-1)**n 2/sqrt(pi) H(n-1, c) exp(-c**2) (Hermite polynomials).
# * |x| >= 2: erfc(x) = exp(-x**2)/sqrt(pi) * 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))),
#   the continued fraction evaluated from its 80th level up, with x**2 split into a float and
#   its rounding error: exp of a rounded x**2 would be 700 ulps off at x = 26.
# erf is 1 - erfc, and erfc is 1 - erf, only where that cancels no digits.

_SERIES_TERMS = 18  # of erf's Taylor series: the last is below 1e-22 at |x| = 0.5
_ERF_SERIES = [(-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(_SERIES_TERMS)]
_TWO_OVER_ROOT_PI = 2 / math.sqrt(math.pi)
_ONE_OVER_ROOT_PI = 1 / math.sqrt(math.pi)
_STEP = 1 / 8  # between the centers of erfc's Taylor series, from 0.5 to 2
_TAYLOR_TERMS = 16  # the last is below 1e-22 of erfc at |x - c| <= 1/16
_FRACTION_LEVELS = 80  # of the continued fraction: enough from x = 2 on


def _erfc_taylor_table():
    """Row k: erfc's Taylor coefficients around c = 0.5 + k/8, erfc(c) first."""
    rows = []
    for k in range(int(1.5 / _STEP) + 1):
        c = 0.5 + k * _STEP
        scale = _TWO_OVER_ROOT_PI * math.exp(-c * c)  # c*c is exact
        hermite = [1.0, 2 * c]  # H(0, c), H(1, c), …
        while len(hermite) < _TAYLOR_TERMS:
            n = len(hermite) - 1
            hermite.append(2 * c * hermite[n] - 2 * n * hermite[n - 1])
        rows.append(
            [math.erfc(c)]
            + [
                (-1) ** n * scale * hermite[n - 1] / math.factorial(n)
                for n in range(1, _TAYLOR_TERMS)
            ]
        )
    return np.array(rows)


_ERFC_TAYLOR = _erfc_taylor_table()


def _erf_near_zero(x):
    z = x * x
    s = np.full_like(x, _ERF_SERIES[-1])
    for c in reversed(_ERF_SERIES[:-1]):
        s *= z
        s += c
    return (x * _TWO_OVER_ROOT_PI) * s


def _erfc_middle(x):
    """erfc(x) for 0.5 <= x < 2."""
    k = np.rint((x - 0.5) / _STEP).astype(np.intp)
    h = x - (0.5 + k * _STEP)  # exact
    table = _ERFC_TAYLOR[k]
    s = table[:, -1].copy()
    for n in range(_TAYLOR_TERMS - 2, 0, -1):
        s *= h
        s += table[:, n]
    s *= h
    return table[:, 0] + s


def _erfc_tail(x):
    """erfc(x) for x >= 2 (past 27.3 it is 0)."""
    x = np.minimum(x, 30.0)  # erfc(30) is 0 in float64; inf would make nan below
    t = x.copy()
    for level in range(_FRACTION_LEVELS, 0, -1):
        t = np.add(x, (level / 2) / t, out=t)
    # x*x = square + error exactly (Veltkamp's split of x into two halves of 26 bits)
    square = x * x
    high = x * 134217729.0  # 2**27 + 1
    high = high - (high - x)
    low = x - high
    error = ((high * high - square) + 2 * high * low) + low * low
    e = np.exp(-square)
    return (e - e * error) * (_ONE_OVER_ROOT_PI / t)


def _error_function(x, complement: bool):
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    out = np.full_like(x, np.nan)
    near = ax < 0.5
    out[near] = _erf_near_zero(x[near])
    if complement:
        out[near] = 1 - out[near]
    for piece, where in ((_erfc_middle, (ax >= 0.5) & (ax < 2)), (_erfc_tail, ax >= 2)):
        erfc = piece(ax[where])  # erfc(|x|)
        positive = x[where] > 0
        if complement:  # erfc(-a) = 2 - erfc(a)
            out[where] = np.where(positive, erfc, 2 - erfc)
        else:  # erf(±a) = ±(1 - erfc(a))
            out[where] = np.where(positive, 1 - erfc, erfc - 1)
    return out


def erf(x):
    if not np.ndim(x):
        return math.erf(x)
    return _error_function(x, complement=False)


def erfc(x):
    if not np.ndim(x):
        return math.erfc(x)
    return _error_function(x, complement=True)


# Kernels: an op's value and its local gradients computed together, sharing the work that
# evaluating the forward function and then the ops table's formulas would repeat. The
# numbers are the formulas' own; tests/test_batch.py checks that they are the same.
# kernel(*inputs, out=(value, local gradient for input 0, ...)): arrays to write into, or None.
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
