"""cg check's numeric reference: ∂f/∂x from values of f alone, and how far it can be trusted.

Ridders' method: central differences D(h) = (f(x+h) − f(x−h)) / ((x+h) − (x−h)) at the
steps h0, h0/2, h0/4, … (ROWS of them), extrapolated to h = 0 by Neville's scheme in h²; the
entry of the tableau with the smallest error is the estimate. Its error is the tableau's own
(how much the entry differs from its neighbours) plus f's rounding noise over the step.

* The first step h0 is a tenth of the expression's reach in x: how far x may move before some
  gate's input leaves the stretch where the gate is nearly linear (log(u) and u**2: |u|;
  sin(u) and exp(u): 1; relu(u): the distance to its kink; 1/u: |u|; x + y: no limit), each
  divided by how fast the input moves with x (a forward sweep of tangents ∂u/∂x). So log(x)
  at x = 1e-5 steps 1e-6, sin(x) at x = 1e11 steps 0.1, x**2 at 1e8 steps 1e7, and the step
  stays inside the domain and on one side of a kink wherever the reach can say so.
* f's rounding noise: a gate n that rounds its value v_n by at most ε·|v_n| moves f by
  |∂f/∂n|·ε·|v_n|, and backprop has every ∂f/∂n: the noise of f is at most
  ε·Σ|∂f/∂n|·|v_n| (plus the same for an underflow to 0). Over a step h it becomes noise/h,
  amplified by the extrapolation's weights, which the tableau carries along.
* backprop's own rounding: each node's share ∂f/∂n·∂n/∂x of the gradient is rounded by a few ε,
  so ∂f/∂x is off by at most a few ε·Σ|∂f/∂n·∂n/∂x|.

Everything here works on numpy arrays, one entry per point (one point is an array of one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import api, arrays, engine, scalar
from .graph import Graph

EPS = 2.0**-52  # a gate's rounding: a correctly rounded op is within half of this
TINY = 2.0**-1074  # the rounding of a value that underflows
ROWS = 8  # steps of the tableau: h0 down to h0/128
SAFETY = 4.0  # the reference's error is this many times the tableau's estimate of it
REACH_PART = 0.1  # the first step is this part of the reach
# the smallest first step, where the reach is 0 (at a kink or a pole): relative to |x|, well
# clear of x's last bits; absolute at x = 0
FLOOR, FLOOR_AT_0 = 2.0**-40, 1e-8
CHUNK = 65_536  # points per tableau, for many


@dataclass
class Estimate:
    """The reference for ∂f/∂x at each point, with what decides how far it is trusted."""

    value: np.ndarray  # the estimate of ∂f/∂x
    error: np.ndarray  # how far it may be off: SAFETY × (tableau error + rounding noise)
    noise: np.ndarray  # the rounding noise's part of error
    step: np.ndarray  # the step h of the tableau row chosen
    first_step: np.ndarray
    reach: np.ndarray  # the expression's reach in x (inf where f is linear in x)
    found: np.ndarray  # a tableau entry was finite (else: f is not finite at every step)
    floored: np.ndarray  # the first step is longer than the reach allows (FLOOR, or given)


def rounding_noise(graph: Graph, values: list, grads: list, n: int) -> np.ndarray:
    """At most how far f's computed value is from f at the same inputs: ε·Σ|∂f/∂n|·|v_n|."""
    total = np.zeros(n)
    with np.errstate(all="ignore"):
        for node, inputs in enumerate(graph.inputs):
            g = grads[node]
            if not inputs or g is None:
                continue
            total += np.abs(g) * (EPS * np.abs(values[node]) + TINY)
    return total


def tangents(graph: Graph, values: list, var: str) -> list:
    """∂n/∂var for every node n (None where n does not depend on var), from the values."""
    carried: list = [None] * len(graph.op)
    carried[graph.variables[var]] = 1.0
    backend = arrays if any(np.ndim(v) for v in values if v is not None) else scalar
    with np.errstate(all="ignore"):
        for node, inputs in enumerate(graph.inputs):
            if not inputs:
                continue
            args = [values[i] for i in inputs]
            total = None
            for i, local in zip(inputs, engine.local_gradients(graph.op[node])):
                t = carried[i]
                if t is None:
                    continue
                term = np.multiply(local(args, values[node], backend), t)
                total = term if total is None else total + term
            carried[node] = total
    return carried


def backprop_noise(graph: Graph, grads: list, carried: list, n: int) -> np.ndarray:
    """At most how far backprop's ∂f/∂var is from the exact one at the same values."""
    total = np.zeros(n)
    with np.errstate(all="ignore"):
        for node, inputs in enumerate(graph.inputs):
            if inputs and grads[node] is not None and carried[node] is not None:
                total += np.abs(np.multiply(grads[node], carried[node]))
    return 4 * EPS * total


def reach(graph: Graph, values: list, carried: list, n: int) -> np.ndarray:
    """How far var may move before some gate's input leaves its nearly linear stretch."""
    found = np.full(n, np.inf)
    with np.errstate(all="ignore"):
        for node, inputs in enumerate(graph.inputs):
            if not inputs or carried[node] is None:
                continue
            v = [np.asarray(values[i], dtype=float) for i in inputs]
            t = [np.abs(0.0 if carried[i] is None else carried[i]) for i in inputs]
            r = _reach(graph.op[node], v, t, carried, inputs, values[node])
            found = np.fmin(found, np.where(np.isnan(r), np.inf, r))
    return found


def _reach(op: str, v: list, t: list, carried: list, inputs, out) -> np.ndarray:
    """One gate's reach in var (t: |∂input/∂var|)."""
    if op in ("add", "sub", "neg"):
        return np.inf
    if op == "mul":  # bilinear: its second-order term is t0·t1·h²
        signed = [0.0 if carried[i] is None else carried[i] for i in inputs]
        return np.abs(v[0] * signed[1] + v[1] * signed[0]) / (t[0] * t[1])
    if op == "div":
        return np.abs(v[1]) / t[1]
    if op in ("pow", "pow1p"):  # base**y bends over a y-th of the base, and over 1/log(base) in y
        base = np.abs(v[0] if op == "pow" else 1 + v[0])
        return np.fmin(base / (t[0] * np.fmax(1, np.abs(v[1]))), 1 / np.abs(np.log(base) * t[1]))
    if op == "xlogy":
        return np.abs(v[1]) / t[1]
    if op == "xlog1py":
        return np.abs(1 + v[1]) / t[1]
    if op in _RELATIVE:  # a pole, a branch point or a kink at 0
        return np.abs(v[0]) / t[0]
    if op == "log1p":
        return np.abs(1 + v[0]) / t[0]
    if op == "tan":
        return np.fmin(1, np.abs(np.cos(v[0]))) / t[0]
    if op in ("asin", "acos", "atanh"):
        return np.fmin(1, np.abs(1 - np.abs(v[0]))) / t[0]
    if op == "acosh":
        return np.abs(v[0] - 1) / t[0]
    if op in ("floor", "ceil"):
        return np.abs(v[0] - np.rint(v[0])) / t[0]
    if op in ("max", "min"):
        signed = [0.0 if carried[i] is None else carried[i] for i in inputs]
        return np.abs(v[0] - v[1]) / np.abs(signed[0] - signed[1])
    if op == "hypot":
        return np.asarray(out) / np.hypot(t[0], t[1])
    if op == "atan2":  # the cone's tip at (0, 0), and the cut where x crosses 0 with y < 0
        tip = np.hypot(v[0], v[1]) / np.hypot(t[0], t[1])
        return np.where(v[1] < 0, np.fmin(tip, np.abs(v[0]) / t[0]), tip)
    # exp, sin, tanh, sigmoid, erf …: they bend over a unit of their input
    return 1 / np.max(np.array(np.broadcast_arrays(*t)), axis=0)


_RELATIVE = frozenset(
    ("log", "log2", "log10", "sqrt", "cbrt", "relu", "abs", "sign"),
)


def first_step(x, reach_x, gradient, noise, given: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The tableau's first step at each point, and whether it is longer than the reach allows
    (a kink may lie inside it, or f may bend within it)."""
    x = np.abs(np.asarray(x, dtype=float))
    with np.errstate(all="ignore"):
        if given is not None:
            h0 = np.full(x.shape, given)
        else:
            # where f is linear, a step long enough that the noise is a 1e-8 part of the slope
            linear = np.fmax(REACH_PART * np.fmax(x, 1.0), 1e8 * noise / np.abs(gradient))
            h0 = np.fmin(REACH_PART * reach_x, np.where(np.isfinite(linear), linear, np.inf))
            h0 = np.where(np.isfinite(h0), h0, REACH_PART * np.fmax(x, 1.0))
            h0 = np.fmax(h0, np.where(x > 0, FLOOR * x, FLOOR_AT_0))
    return h0, h0 > REACH_PART * reach_x * (1 + 1e-12)


def shifted(graph: Graph, env: dict, var: str, h0, keep_nodes: bool) -> list:
    """The forward passes at x ± h for the tableau's steps: (x−h, x+h, values at x−h, at x+h);
    without keep_nodes, f's value only ({output node: value})."""
    x = env[var]
    rows = []
    for i in range(ROWS):
        h = h0 * 0.5**i if np.ndim(x) else float(np.asarray(h0).reshape(-1)[0]) * 0.5**i
        xm, xp = x - h, x + h
        minus = api.evaluate(graph, {**env, var: xm}, keep_nodes=keep_nodes).values
        plus = api.evaluate(graph, {**env, var: xp}, keep_nodes=keep_nodes).values
        if not keep_nodes:  # f only: eight rows of every node's array would not fit
            out = graph.output
            minus, plus = {out: minus[out]}, {out: plus[out]}
        rows.append((xm, xp, minus, plus))
    return rows


def ridders(graph: Graph, rows: list, noise, valid: list | None = None) -> tuple:
    """The tableau's best entry at each point: (estimate, tableau error, noise part, step).
    `valid[i]`: row i may be used (its step crosses no kink); an entry that uses a row that may
    not, or a value that is not finite, is never chosen."""
    return _tableau(graph.output, rows, noise, valid)


def _cut(v, part: slice):
    return v[part] if np.ndim(v) else v


def _tableau(out: int, rows: list, noise, valid: list | None) -> tuple:
    n = np.size(noise)
    best = [np.full(n, np.nan), np.full(n, np.inf), np.full(n, np.inf), np.full(n, np.nan)]
    best_total = np.full(n, np.inf)
    previous: list = []
    widths = []
    with np.errstate(all="ignore"):
        for i, (xm, xp, minus, plus) in enumerate(rows):
            fm, fp = np.asarray(minus[out], dtype=float), np.asarray(plus[out], dtype=float)
            width = np.asarray(xp - xm, dtype=float)
            widths.append(width)
            d = (fp - fm) / width
            nd = (2 * noise + EPS * (np.abs(fp) + np.abs(fm))) / width
            ok = np.isfinite(d) & np.isfinite(nd) & (width > 0)
            if valid is not None:
                ok = ok & valid[i]
            column = [(d, nd, ok)]
            for j in range(1, i + 1):
                a0, n0, ok0 = column[j - 1]
                a1, n1, ok1 = previous[j - 1]
                factor = (widths[i - j] / width) ** 2
                a = a0 + (a0 - a1) / (factor - 1)
                na = (factor * n0 + n1) / (factor - 1)
                err = np.fmax(np.abs(a - a0), np.abs(a - a1))
                fine = ok0 & ok1 & np.isfinite(a) & np.isfinite(err)
                column.append((a, na, fine))
                total = np.where(fine, err + na, np.inf)
                better = total < best_total
                if better.any():
                    best_total = np.where(better, total, best_total)
                    for k, new in enumerate((a, err, na, width / 2)):
                        best[k] = np.where(better, new, best[k])
            previous = column
    return tuple(best)


def estimate(
    graph: Graph, env: dict, var: str, result, carried, given_step, valid_of=None
) -> tuple[Estimate, list]:
    """The reference for ∂f/∂var at the points of env (floats: one point), and the tableau's
    rows for one point (for a kink test; none for many). `result`: api.grad's at env;
    `carried`: tangents(…, var)."""
    n = int(np.size(result.value))
    noise = rounding_noise(graph, result.values, result.grads, n)
    x = np.asarray(env[var], dtype=float).reshape(-1)
    reach_x = np.broadcast_to(reach(graph, result.values, carried, n), (n,))
    h0, floored = first_step(x, reach_x, result.gradients[var], noise, given_step)
    if n == 1:
        rows = shifted(graph, env, var, h0, keep_nodes=True)
        valid = None if valid_of is None else valid_of(rows)
        value, err, na, step = ridders(graph, rows, noise, valid)
    else:  # CHUNK points at a time: the tableau's sixteen passes of f stay small
        rows, parts = [], []
        for start in range(0, n, CHUNK):
            part = slice(start, start + CHUNK)
            some = {name: _cut(v, part) for name, v in env.items()}
            passes = shifted(graph, some, var, h0[part], keep_nodes=False)
            parts.append(ridders(graph, passes, noise[part]))
        value, err, na, step = (np.concatenate([p[k] for p in parts]) for k in range(4))
    found = np.isfinite(value)
    error = SAFETY * (err + na)
    return Estimate(value, error, SAFETY * na, step, h0, reach_x, found, floored), rows
