"""cg check: gradient checks for CI. Running the checks of cases (cases.py reads them); no printing.

A check compares a number cg computed (a backprop gradient, or the value)
with a reference, under torch.autograd.gradcheck's rule and defaults:

    |cg − reference| ≤ atol + rtol·|reference|      (rtol 1e-3, atol 1e-5)

The references:

* `numeric`: the central finite difference (f(x+h) − f(x−h)) / ((x+h) − (x−h)),
  h = eps (1e-6), for every variable at every point;
* `hand-written`: a derivative written by hand (against), evaluated with the
  same bindings;
* `expect`: a value or gradient stated up front (expect, expect_grad), at the
  bound point;
* `fuse`: when fused, the checks run on the fused graph, and its value and
  gradients are also compared with the fine-grained graph's.

When the step from x−h to x+h crosses a kink (relu, abs, sign, max, min,
floor, ceil change branch, atan2 crosses its cut, or hypot's inputs pass
within a step of (0, 0)), the central difference
is no evidence either way: the check's status is `kink` when backprop agrees
with the central, the left (f(x)−f(x−h))/h or the right (f(x+h)−f(x))/h
difference, and `fail` when it agrees with none.

A point is the bound one (the bindings given) and/or `random` points drawn
uniformly in a box with random.Random(seed). Many random points are computed
together, one pass over arrays per graph; a point alone is the same code with
floats.
"""

from __future__ import annotations

import math
import random as _random
import time
from dataclasses import dataclass
from pathlib import Path

from . import api, scalar
from .cases import Case, Settings
from .errors import EXIT_CHECK_FAILED, EXIT_NOT_FINITE, EXIT_OK
from .graph import Graph
from .ops import KINK_OPS, OPS
from .text import shortest_float

# A check's status, from good to bad; a case and a run take their worst one.
PASS, KINK, FAIL, NONFINITE = "pass", "kink", "fail", "nonfinite"
STATUSES = (PASS, KINK, FAIL, NONFINITE)

# The kinds of check, in the order a point's rows are listed.
CHECKS = ("numeric", "hand-written", "expect", "fuse")


# ---------------------------------------------------------------------------
# what came out


@dataclass
class Row:
    """One check: cg's number beside a reference."""

    point: int  # index into the case's points
    check: str  # one of CHECKS
    wrt: str | None  # the variable of a gradient; None for the value f
    cg: float  # backprop's gradient or the forward value (the fused graph's, when fused)
    # numeric difference, hand-written derivative, expected number, fine-grained graph's
    reference: float
    status: str
    note: str = ""
    left: float | None = None  # one-sided differences, when the step crosses a kink
    right: float | None = None

    @property
    def abs_err(self) -> float:
        return abs(self.cg - self.reference)

    @property
    def rel_err(self) -> float:
        err = self.abs_err
        if self.reference == 0:
            return 0.0 if err == 0 else math.inf
        return err / abs(self.reference)


@dataclass
class Point:
    origin: str  # "bound" or "random"
    bindings: dict[str, float]


@dataclass
class CaseResult:
    case: Case
    points: list[Point]
    rows: list[Row]
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return _worst(row.status for row in self.rows)

    def counts(self) -> dict[str, int]:
        """How many checks have each status (statuses that occur, in STATUSES order)."""
        found = {s: sum(row.status == s for row in self.rows) for s in STATUSES}
        return {s: n for s, n in found.items() if n}


@dataclass
class Report:
    results: list[CaseResult]
    file: str | None = None  # the case file, or None for one case given directly

    @property
    def status(self) -> str:
        return _worst(r.status for r in self.results)

    @property
    def exit_code(self) -> int:
        """3 when a number is not finite, 1 when a check failed, else 0 (2, bad input, comes earlier)."""
        return {NONFINITE: EXIT_NOT_FINITE, FAIL: EXIT_CHECK_FAILED}.get(self.status, EXIT_OK)

    @property
    def warnings(self) -> list[str]:
        if self.file is None:
            return [w for r in self.results for w in r.case.warnings]
        return [f"case {r.case.name!r}: {w}" for r in self.results for w in r.case.warnings]


def _worst(statuses) -> str:
    return max(statuses, key=STATUSES.index, default=PASS)


# ---------------------------------------------------------------------------
# running the checks


def run(cases: list[Case], file: str | Path | None = None) -> Report:
    return Report([run_case(case) for case in cases], None if file is None else str(file))


def run_case(case: Case) -> CaseResult:
    start = time.perf_counter()
    s = case.settings
    points = [] if case.bindings is None else [Point("bound", case.bindings)]
    rng = _random.Random(s.seed)
    for _ in range(s.random):
        points.append(
            Point("random", {var: rng.uniform(*s.box[var]) for var in case.graph.variables})
        )
    kink_nodes = [node for node, op in enumerate(case.graph.op) if op in KINK_OPS]
    first = 1 if case.bindings is not None else 0  # the bound point is computed alone
    batch = _Numbers(case, points[first:]) if len(points) - first > 1 else None
    rows = []
    for index, point in enumerate(points):
        k = index - first
        if batch is not None and k >= 0 and batch.finite[k]:
            rows += _check_point(case, index, point, batch, k, kink_nodes)
        else:  # alone, or again alone where a number is nan or inf: the notes say where from
            rows += _check_point(case, index, point, _Numbers(case, [point]), 0, kink_nodes)
    return CaseResult(case, points, rows, time.perf_counter() - start)


class _Numbers:
    """Every number the checks at some points compare: for one point as floats, for many as
    numpy arrays (one pass per graph and per shifted variable, never a loop over the points).
    Point k's numbers are column k of the arrays; a float is the same at every column."""

    def __init__(self, case: Case, points: list[Point]):
        graph, eps = case.graph, case.settings.eps
        if len(points) == 1:
            env = points[0].bindings
        else:
            import numpy as np

            env = {var: np.array([p.bindings[var] for p in points]) for var in graph.variables}
        result = api.grad(graph, env)
        self.value, self.gradients = result.value, result.gradients
        # every node's value with a variable moved a step h down and up
        self.minus = {
            var: api.evaluate(graph, {**env, var: env[var] - eps}).values for var in graph.variables
        }
        self.plus = {
            var: api.evaluate(graph, {**env, var: env[var] + eps}).values for var in graph.variables
        }
        hands = {
            var: api.evaluate(d, {v: env[v] for v in d.variables})
            for var, d in case.against.items()
        }
        self.hands = {var: r.value for var, r in hands.items()}
        fine = api.grad(case.fine, env) if case.fine is not None else None
        self.fine_value = None if fine is None else fine.value
        self.fine_gradients = {} if fine is None else fine.gradients
        if len(points) == 1:  # where a nan or inf first appeared, for the notes
            self.why = _why(result, graph)
            self.why_hand = {var: _why(r, case.against[var]) for var, r in hands.items()}
            self.why_fine = _why(fine, case.fine) if fine is not None else ""
            return
        # many points: the checks use a point's columns only where every number is finite;
        # elsewhere the point is computed again alone
        self.why, self.why_hand, self.why_fine = "", dict.fromkeys(hands, ""), ""
        numbers = [self.value, *self.gradients.values(), *self.hands.values()]
        numbers += [v[graph.output] for v in (*self.minus.values(), *self.plus.values())]
        if fine is not None:
            numbers += [fine.value, *fine.gradients.values()]
        self.finite = np.ones(len(points), dtype=bool)
        for n in numbers:
            self.finite &= np.isfinite(n)


def _why(result, graph: Graph) -> str:
    return "; ".join(result.warnings[len(graph.warnings) :])


class _Column:
    """Every node's value at point k, read from per-node values on demand."""

    def __init__(self, values: list, k: int):
        self.values, self.k = values, k

    def __getitem__(self, node: int) -> float:
        return _float_at(self.values[node], self.k)


def _float_at(v, k: int) -> float:
    return float(v[k]) if getattr(v, "ndim", 0) else float(v)


def close(cg: float, reference: float, settings: Settings) -> bool:
    """gradcheck's rule: |cg − reference| ≤ atol + rtol·|reference|."""
    return abs(cg - reference) <= settings.atol + settings.rtol * abs(reference)


def _finite(*values) -> bool:
    return all(math.isfinite(v) for v in values)


def _compare(index, check, wrt, cg, reference, settings, why_cg="", why_ref="") -> Row:
    """A row comparing two numbers; when one is not finite, the note says which and where it came from."""
    if not _finite(cg, reference):
        notes = []
        if not math.isfinite(cg):
            notes.append(
                f"cg's {'value' if wrt is None else 'gradient'} is {shortest_float(cg)}"
                + (f" ({why_cg})" if why_cg else "")
            )
        if not math.isfinite(reference):
            notes.append(
                f"the reference is {shortest_float(reference)}"
                + (f" ({why_ref})" if why_ref else "")
            )
        return Row(index, check, wrt, cg, reference, NONFINITE, "; ".join(notes))
    return Row(index, check, wrt, cg, reference, PASS if close(cg, reference, settings) else FAIL)


def _check_point(
    case: Case,
    index: int,
    point: Point,
    numbers: _Numbers,
    k: int = 0,
    kink_nodes: list[int] | None = None,
) -> list[Row]:
    """The rows of one point, read at column k of `numbers`. `kink_nodes`: the graph's nodes
    whose op has a kink, when the caller knows them (found once per case, not once per point)."""
    s, graph, why = case.settings, case.graph, numbers.why
    value = _float_at(numbers.value, k)
    grads = {var: _float_at(g, k) for var, g in numbers.gradients.items()}
    rows = [
        _numeric(case, index, point.bindings, numbers, k, value, grads[var], var, kink_nodes)
        for var in graph.variables
    ]
    for var in case.against:
        hand, why_hand = _float_at(numbers.hands[var], k), numbers.why_hand[var]
        rows.append(_compare(index, "hand-written", var, grads[var], hand, s, why, why_hand))
    if point.origin == "bound":
        if case.expect is not None:
            rows.append(_compare(index, "expect", None, value, case.expect, s, why))
        for var, expected in case.expect_grad.items():
            rows.append(_compare(index, "expect", var, grads[var], expected, s, why))
    if case.fine is not None:
        fine_value, why_fine = _float_at(numbers.fine_value, k), numbers.why_fine
        fine_grads = {var: _float_at(g, k) for var, g in numbers.fine_gradients.items()}
        rows.append(_compare(index, "fuse", None, value, fine_value, s, why, why_fine))
        rows += [
            _compare(index, "fuse", var, grads[var], fine_grads[var], s, why, why_fine)
            for var in graph.variables
        ]
    return rows


def _numeric(case, index, env, numbers, k, f0, cg, var, kink_nodes) -> Row:
    """Backprop's ∂f/∂var (cg) beside the central difference, with the kink check."""
    s, graph, why = case.settings, case.graph, numbers.why
    x = env[var]
    xm, xp = x - s.eps, x + s.eps
    if xp == xm:
        note = (
            f"the step is lost: {var} ± h == {var} at {var} = {shortest_float(x)}; "
            f"use a larger {case.setting_name('eps')}"
        )
        return Row(index, "numeric", var, cg, math.nan, NONFINITE, note)
    minus, plus = _Column(numbers.minus[var], k), _Column(numbers.plus[var], k)
    fm, fp = minus[graph.output], plus[graph.output]
    central = scalar.div(scalar.sub(fp, fm), xp - xm)
    if not _finite(cg, f0, fm, fp, central):
        notes = []
        if not math.isfinite(cg):
            notes.append(f"the gradient is {shortest_float(cg)}")
        if not math.isfinite(f0):
            notes.append(f"f is {shortest_float(f0)}")
        notes += [
            f"f at {var}{side}h is {shortest_float(v)}"
            for side, v in (("-", fm), ("+", fp))
            if not math.isfinite(v)
        ]
        if _finite(f0, fm, fp) and not math.isfinite(central):
            notes.append("the difference overflows")
        note = ", ".join(notes) + (f" ({why})" if why else "")
        return Row(index, "numeric", var, cg, central, NONFINITE, note)
    crossed = kinks(graph, minus, plus, kink_nodes)
    if not crossed:
        return Row(index, "numeric", var, cg, central, PASS if close(cg, central, s) else FAIL)
    left = scalar.div(f0 - fm, x - xm)
    right = scalar.div(fp - f0, xp - x)
    agree = [
        (side, d)
        for side, d in (("central", central), ("left", left), ("right", right))
        if math.isfinite(d) and close(cg, d, s)
    ]
    node = graph.nodes[crossed[0]]
    where = f"node #{node.id} ({node.op}) '{graph.text(node)}'"
    more = f" and {len(crossed) - 1} more" if len(crossed) > 1 else ""
    note = f"step crosses a kink at {where}{more}; "
    if agree:
        note += f"backprop agrees with the {agree[0][0]} difference {shortest_float(agree[0][1])}"
    else:
        note += f"backprop agrees with no difference (left {shortest_float(left)}, right {shortest_float(right)})"
    return Row(index, "numeric", var, cg, central, KINK if agree else FAIL, note, left, right)


def kinks(graph: Graph, minus: list, plus: list, candidates: list[int] | None = None) -> list[int]:
    """Ids of the nodes that change branch between two forward passes (finite inputs only).
    `candidates`: the graph's nodes whose op has a kink, when the caller knows them (run_case finds them once per case)."""
    if candidates is None:
        candidates = [node for node, op in enumerate(graph.op) if op in KINK_OPS]
    found = []
    for node in candidates:
        a = [minus[i] for i in graph.inputs[node]]
        b = [plus[i] for i in graph.inputs[node]]
        if _finite(*a, *b) and OPS[graph.op[node]].crosses_kink(a, b):
            found.append(node)
    return found
