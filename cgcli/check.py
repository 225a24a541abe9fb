"""cg check: gradient checks for CI. Running the checks of cases (cases.py reads them); no printing.

A check compares a number cg computed (a backprop gradient, or the value) with a reference
that carries its own error bound, and a check's verdict says what the comparison can tell:

    fail          |cg − reference| > the reference's error + cg's own rounding + rtol·|reference| + atol
    inconclusive  they agree, but the errors are larger than rtol·|the number| + atol: the
                  reference cannot tell cg's number from a wrong one (rounding noise swamps it)
    pass          they agree, and the errors are that small

The references:

* `numeric`: ∂f/∂x from f alone, for every variable at every point: Ridders' extrapolation
  of central differences (cgcli/reference.py), its error from the tableau and from f's
  rounding noise, which backprop bounds; or, with the complex method, the complex step
  Im f(x + ih)/h (cgcli/complex_step.py), exact to rounding for analytic expressions;
* `hand-written`: a derivative written by hand (against), evaluated with the
  same bindings; its error is its own rounding noise;
* `expect`: a value or gradient stated up front (expect, expect_grad), at the
  bound point, taken as exact;
* `fuse`: when fused, the checks run on the fused graph, and its value and
  gradients are also compared with the fine-grained graph's.

cg's own rounding: f's value is off by at most ε·Σ|∂f/∂n|·|v_n| (n: the gates), and
backprop's ∂f/∂x by at most 4ε·Σ|∂f/∂n·∂n/∂x|.

When every step of the tableau crosses a kink (relu, abs, sign, max, min, floor, ceil change
branch, atan2 crosses its cut, or hypot's inputs pass within a step of (0, 0)), the central
difference is no evidence either way: the check's status is `kink` when backprop agrees with
the central, the left (f(x)−f(x−h))/h or the right (f(x+h)−f(x))/h difference at the
smallest step, and `fail` when it agrees with none. The first step keeps to one side of a kink
wherever the point is not at it, so a kink is met only at (or within 1e-8·|x| of) one.

A point is the bound one (the bindings given) and/or `random` points drawn
uniformly in a box with random.Random(seed). Many random points are computed
together, one pass over arrays per graph and per step; a point alone is the same code with
floats.
"""

from __future__ import annotations

import math
import random as _random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import api, reference, scalar
from .cases import Case, Settings
from .errors import EXIT_CHECK_FAILED, EXIT_INCONCLUSIVE, EXIT_NOT_FINITE, EXIT_OK
from .graph import Graph
from .ops import KINK_OPS, OPS
from .text import shortest_float

# A check's status, from good to bad; a case and a run take their worst one.
PASS, KINK, INCONCLUSIVE, FAIL, NONFINITE = "pass", "kink", "inconclusive", "fail", "nonfinite"
STATUSES = (PASS, KINK, INCONCLUSIVE, FAIL, NONFINITE)

# The kinds of check, in the order a point's rows are listed.
CHECKS = ("numeric", "hand-written", "expect", "fuse")


# ---------------------------------------------------------------------------
# what came out


@dataclass(slots=True)  # a million points make two million rows
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
    tolerance: float = 0.0  # the largest |cg − reference| that passes
    step: float | None = None  # the numeric reference's step

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
        """3 when a number is not finite, 1 when a check failed, 4 when some checks are
        inconclusive and none failed, else 0 (2, bad input, comes earlier)."""
        codes = {NONFINITE: EXIT_NOT_FINITE, FAIL: EXIT_CHECK_FAILED}
        codes[INCONCLUSIVE] = EXIT_INCONCLUSIVE
        return codes.get(self.status, EXIT_OK)

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
    batch = _Numbers(case, points[first:], kink_nodes) if len(points) - first > 1 else None
    rows = []
    for index, point in enumerate(points):
        k = index - first
        if batch is not None and k >= 0 and batch.finite[k]:
            rows += _check_point(case, index, point, batch, k, kink_nodes)
        else:  # alone, or again alone where a number is nan or inf (the notes say where from)
            # or where a step may cross a kink (each step is tested then)
            alone = _Numbers(case, [point], kink_nodes)
            rows += _check_point(case, index, point, alone, 0, kink_nodes)
    return CaseResult(case, points, rows, time.perf_counter() - start)


class _Numbers:
    """Every number the checks at some points compare, with their errors: for one point as
    floats, for many as numpy arrays (one pass per graph and per shifted variable, never a loop
    over the points). Point k's numbers are column k of the arrays; a float is the same at
    every column."""

    def __init__(self, case: Case, points: list[Point], kink_nodes: list[int] | None = None):
        graph, s = case.graph, case.settings
        if kink_nodes is None:
            kink_nodes = [node for node, op in enumerate(graph.op) if op in KINK_OPS]
        n = len(points)
        if n == 1:
            env = points[0].bindings
        else:
            env = {var: np.array([p.bindings[var] for p in points]) for var in graph.variables}
        result = api.grad(graph, env)
        self.value, self.gradients = result.value, result.gradients
        self.value_noise = reference.rounding_noise(graph, result.values, result.grads, n)
        self.cg_noise: dict = {}
        self.estimates: dict = {}
        self.rows: dict = {}  # the tableau's forward passes, by variable (one point: kink tests)
        for var in graph.variables:
            # one variable's tangents at a time: a node's array each
            carried = reference.tangents(graph, result.values, var)
            self.cg_noise[var] = reference.backprop_noise(graph, result.grads, carried, n)
            if s.method == "complex":
                from . import complex_step

                reach_x = reference.reach(graph, result.values, carried, n)
                e = complex_step.estimate(graph, env, var, reach_x, n)
                e.error = e.error + self.cg_noise[var]  # its rounding is backprop's, in kind
                self.estimates[var] = e
                continue

            def valid_of(rows):
                return [not kinks(graph, m, p, kink_nodes) for _, _, m, p in rows]

            self.estimates[var], rows = reference.estimate(
                graph,
                env,
                var,
                result,
                carried,
                s.eps,
                valid_of if n == 1 and kink_nodes else None,
            )
            if n == 1:
                self.rows[var] = rows
            del rows
        hands = {
            var: api.grad(d, {v: env[v] for v in d.variables}) for var, d in case.against.items()
        }
        self.hands = {var: r.value for var, r in hands.items()}
        self.hand_noise = {
            var: reference.rounding_noise(case.against[var], r.values, r.grads, n)
            for var, r in hands.items()
        }
        fine = api.grad(case.fine, env) if case.fine is not None else None
        self.fine_value = None if fine is None else fine.value
        self.fine_gradients = {} if fine is None else fine.gradients
        if fine is not None:
            self.fine_value_noise = reference.rounding_noise(case.fine, fine.values, fine.grads, n)
            self.fine_cg_noise = {
                var: reference.backprop_noise(
                    case.fine, fine.grads, reference.tangents(case.fine, fine.values, var), n
                )
                for var in case.fine.variables
            }
        if n == 1:  # where a nan or inf first appeared, for the notes
            self._as_lists()
            self.why = _why(result, graph)
            self.why_hand = {var: _why(r, case.against[var]) for var, r in hands.items()}
            self.why_fine = _why(fine, case.fine) if fine is not None else ""
            return
        # many points: the checks use a point's columns only where every number is finite and
        # no step can cross a kink; elsewhere the point is computed again alone
        self.why, self.why_hand, self.why_fine = "", dict.fromkeys(hands, ""), ""
        numbers = [self.value, *self.gradients.values(), *self.hands.values()]
        numbers += [e.value for e in self.estimates.values()]
        if fine is not None:
            numbers += [fine.value, *fine.gradients.values()]
        self.finite = np.ones(n, dtype=bool)
        for number in numbers:
            self.finite &= np.isfinite(number)
        if kink_nodes:
            for e in self.estimates.values():
                self.finite &= ~np.asarray(e.floored, dtype=bool)
        self._as_lists()

    def _as_lists(self) -> None:
        """The arrays every row reads as lists of floats: the rows read them point by point (a
        list is read faster); the others, read by a few rows, stay arrays (lighter)."""
        for name in ("value", "fine_value"):
            setattr(self, name, _listed(getattr(self, name, None)))
        for name in ("gradients", "hands", "fine_gradients"):
            found = getattr(self, name, None)
            if found is not None:
                setattr(self, name, {k: _listed(v) for k, v in found.items()})
        for e in self.estimates.values():
            e.value = _listed(e.value)


def _listed(v):
    return v.tolist() if getattr(v, "ndim", 0) else v


def judge(case: Case, var: str, derivative: float) -> Row:
    """The numeric check of a derivative computed elsewhere (another tool's, or one by hand)
    in place of backprop's: ∂f/∂var at the case's bound point beside cg's numeric reference."""
    point = Point("bound", case.bindings or {})
    numbers = _Numbers(case, [point])
    kink_nodes = [node for node, op in enumerate(case.graph.op) if op in KINK_OPS]
    value = _float_at(numbers.value, 0)
    return _numeric(case, 0, point.bindings, numbers, 0, value, derivative, var, kink_nodes)


def _why(result, graph: Graph) -> str:
    return "; ".join(result.warnings[len(graph.warnings) :])


def _float_at(v, k: int) -> float:
    if type(v) is list:
        return v[k]
    return v.item(k) if getattr(v, "ndim", 0) else float(v)


def verdict(cg: float, ref: float, error: float, settings: Settings) -> tuple[str, float]:
    """(status, tolerance) of cg's number beside a reference, `error` the sum of both numbers'
    error bounds: fail when they differ by more than the errors and the user's slack
    (rtol·|reference| + atol), inconclusive when they agree but the errors alone are larger
    than that slack (the reference cannot tell a right number from a slightly wrong one)."""
    slack = settings.rtol * abs(ref) + settings.atol
    tolerance = error + slack
    if abs(cg - ref) > tolerance:
        return FAIL, tolerance
    decisive = settings.rtol * max(abs(cg), abs(ref)) + settings.atol
    if cg != ref and error > decisive:
        return INCONCLUSIVE, tolerance
    return PASS, tolerance


def _finite(*values) -> bool:
    return all(math.isfinite(v) for v in values)


def _compare(index, check, wrt, cg, reference_, error, settings, why_cg="", why_ref="") -> Row:
    """A row comparing two numbers; when one is not finite, the note says which and where it
    came from."""
    if not _finite(cg, reference_):
        notes = []
        if not math.isfinite(cg):
            notes.append(
                f"cg's {'value' if wrt is None else 'gradient'} is {shortest_float(cg)}"
                + (f" ({why_cg})" if why_cg else "")
            )
        if not math.isfinite(reference_):
            notes.append(
                f"the reference is {shortest_float(reference_)}"
                + (f" ({why_ref})" if why_ref else "")
            )
        return Row(index, check, wrt, cg, reference_, NONFINITE, "; ".join(notes))
    status, tolerance = verdict(cg, reference_, error, settings)
    note = ""
    if status == INCONCLUSIVE:
        note = (
            f"between them, the two numbers are only known to ±{_g(error)} (rounding): "
            f"more than {_g(settings.rtol)} of them"
        )
    return Row(index, check, wrt, cg, reference_, status, note, tolerance=tolerance)


def _g(v: float) -> str:
    return f"{v:.2g}"


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
    cg_noise = {var: _float_at(e, k) for var, e in numbers.cg_noise.items()}
    rows = [
        _numeric(case, index, point.bindings, numbers, k, value, grads[var], var, kink_nodes)
        for var in graph.variables
    ]
    for var in case.against:
        hand, why_hand = _float_at(numbers.hands[var], k), numbers.why_hand[var]
        error = 2 * _float_at(numbers.hand_noise[var], k) + cg_noise[var]
        rows.append(_compare(index, "hand-written", var, grads[var], hand, error, s, why, why_hand))
    if point.origin == "bound":
        if case.expect is not None:
            error = 2 * _float_at(numbers.value_noise, k)
            rows.append(_compare(index, "expect", None, value, case.expect, error, s, why))
        for var, expected in case.expect_grad.items():
            rows.append(_compare(index, "expect", var, grads[var], expected, cg_noise[var], s, why))
    if case.fine is not None:
        fine_value, why_fine = _float_at(numbers.fine_value, k), numbers.why_fine
        fine_grads = {var: _float_at(g, k) for var, g in numbers.fine_gradients.items()}
        error = 2 * (_float_at(numbers.value_noise, k) + _float_at(numbers.fine_value_noise, k))
        rows.append(_compare(index, "fuse", None, value, fine_value, error, s, why, why_fine))
        numeric = {row.wrt: row for row in rows if row.check == "numeric"}
        for var in graph.variables:
            error = cg_noise[var] + _float_at(numbers.fine_cg_noise[var], k)
            row = _compare(index, "fuse", var, grads[var], fine_grads[var], error, s, why, why_fine)
            rows.append(_fine_grained_lost_digits(row, numeric.get(var)))
    return rows


def _fine_grained_lost_digits(row: Row, numeric: Row | None) -> Row:
    """A fused gradient that differs from the fine-grained graph's but agrees with the numeric
    reference, while the fine-grained one does not, is right: the fine-grained graph lost digits
    to rounding where the fused gate keeps them ((1+x)**n at x = 1e-14: 1+x rounds). The bound on
    that rounding would need second derivatives; the independent reference decides instead."""
    if row.status != FAIL or numeric is None or numeric.status != PASS:
        return row
    if abs(row.reference - numeric.reference) <= numeric.tolerance:
        return row  # the fine-grained graph agrees with the reference too: the fused one is off
    row.status = PASS
    row.note = (
        f"the fine-grained graph's gradient is {_g(row.rel_err)} off, and off the numeric "
        f"reference {shortest_float(numeric.reference)} too, which the fused one matches: "
        "the fine-grained graph lost digits to rounding"
    )
    return row


def _numeric(case, index, env, numbers, k, f0, cg, var, kink_nodes) -> Row:
    """Backprop's ∂f/∂var (cg) beside the numeric reference, with the kink check."""
    s, graph, why = case.settings, case.graph, numbers.why
    e = numbers.estimates[var]
    ref = _float_at(e.value, k)
    error = _float_at(e.error, k)
    cg_noise = _float_at(numbers.cg_noise[var], k)
    step = _float_at(e.step, k) if math.isfinite(_float_at(e.step, k)) else None
    rows = numbers.rows.get(var)
    if not _finite(cg, f0):
        notes = []
        if not math.isfinite(cg):
            notes.append(f"the gradient is {shortest_float(cg)}")
        if not math.isfinite(f0):
            notes.append(f"f is {shortest_float(f0)}")
        if rows is not None:  # f beside x at the smallest step
            _, _, minus, plus = rows[-1]
            notes += [
                f"f at {var}{side}h is {shortest_float(v)}"
                for side, v in (("-", minus[graph.output]), ("+", plus[graph.output]))
                if not math.isfinite(v)
            ]
        note = ", ".join(notes) + (f" ({why})" if why else "")
        return Row(index, "numeric", var, cg, ref, NONFINITE, note)
    if rows is not None and kink_nodes:
        crossing = [kinks(graph, m, p, kink_nodes) for _, _, m, p in rows]
        if all(crossing):
            return _at_kink(case, index, env, var, f0, cg, cg_noise, rows, crossing[-1])
    if not math.isfinite(ref):
        if rows is not None:
            xm, xp, minus, plus = rows[-1]
            if xp == xm:
                note = (
                    f"the step is lost: {var} ± h == {var} at {var} = {shortest_float(env[var])}; "
                    f"use a larger {case.setting_name('eps')}"
                )
                return Row(index, "numeric", var, cg, math.nan, NONFINITE, note)
            fm, fp = minus[graph.output], plus[graph.output]
            h = (xp - xm) / 2
            sides = [
                f"f at {var}{side}h is {shortest_float(v)}"
                for side, v in (("-", fm), ("+", fp))
                if not math.isfinite(v)
            ]
            note = (", ".join(sides) or "the difference overflows") + (
                f" at every step down to h = {_g(h)}"
            )
        else:
            note = "the reference is not finite"
        return Row(index, "numeric", var, cg, ref, NONFINITE, note + (f" ({why})" if why else ""))
    status, tolerance = verdict(cg, ref, error + cg_noise, s)
    note = ""
    if status == FAIL and bool(_float_at(e.floored, k)):
        # the steps are longer than the stretch where f is smooth: no evidence of a fault
        status = INCONCLUSIVE
        note = (
            f"every step (from h = {_g(_float_at(e.first_step, k))}) is longer than the stretch "
            f"where f is smooth in {var} (about {_g(_float_at(e.reach, k))})"
        )
    elif status == INCONCLUSIVE:
        noise = _float_at(e.noise, k)
        if noise >= error / 2:
            note = (
                f"rounding noise in f swamps the differences: the reference is only known to "
                f"±{_g(error)} at step {_g(step or math.nan)}"
            )
        else:
            note = f"the extrapolation does not settle: the reference is only known to ±{_g(error)}"
        if cg_noise > error:
            note = (
                f"cg's own rounding (±{_g(cg_noise)}) is larger than {_g(s.rtol)} of the gradient"
            )
    return Row(index, "numeric", var, cg, ref, status, note, tolerance=tolerance, step=step)


def _at_kink(case, index, env, var, f0, cg, cg_noise, rows, crossed) -> Row:
    """Every step crosses a kink: backprop beside the central and one-sided differences at the
    smallest step (a kink does not fail when backprop took one side)."""
    s, graph = case.settings, case.graph
    out = graph.output
    x = env[var]
    (xm2, xp2, m2, p2), (xm, xp, minus, plus) = rows[-2], rows[-1]
    fm, fp = minus[out], plus[out]
    central = scalar.div(scalar.sub(fp, fm), xp - xm)
    left = scalar.div(f0 - fm, x - xm)
    right = scalar.div(fp - f0, xp - x)
    # how much a one-sided difference still moves with the step, and the noise over it
    left2 = scalar.div(f0 - m2[out], x - xm2)
    right2 = scalar.div(p2[out] - f0, xp2 - x)
    noise = reference.EPS * (abs(f0) + abs(fm) + abs(fp)) / max(xp - x, x - xm)
    moves = {"central": 0.0, "left": abs(left - left2), "right": abs(right - right2)}
    agree = []
    for side, d in (("central", central), ("left", left), ("right", right)):
        if math.isfinite(d):
            slack = reference.SAFETY * (noise + moves[side]) + cg_noise
            if abs(cg - d) <= slack + s.rtol * abs(d) + s.atol:
                agree.append((side, d))
    node = graph.nodes[crossed[0]]
    where = f"node #{node.id} ({node.op}) '{graph.text(node)}'"
    more = f" and {len(crossed) - 1} more" if len(crossed) > 1 else ""
    note = f"step crosses a kink at {where}{more}; "
    if agree:
        note += f"backprop agrees with the {agree[0][0]} difference {shortest_float(agree[0][1])}"
    else:
        note += f"backprop agrees with no difference (left {shortest_float(left)}, right {shortest_float(right)})"
    status = KINK if agree else FAIL
    return Row(index, "numeric", var, cg, central, status, note, left, right, step=(xp - xm) / 2)


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
