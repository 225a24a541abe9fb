"""cg check: gradient checks for CI. All the logic, no printing.

A check compares a number cg computed (a backprop gradient, or the value)
with a reference, under torch.autograd.gradcheck's rule and defaults:

    |cg − reference| ≤ atol + rtol·|reference|      (rtol 1e-3, atol 1e-5)

The references:

* `numeric`: the central finite difference (f(x+h) − f(x−h)) / ((x+h) − (x−h)),
  h = eps (1e-6), for every variable at every point;
* `hand-written`: a derivative written by hand (--against x=EXPR), evaluated
  with the same bindings;
* `expect`: a value or gradient stated up front (--expect, --expect-grad), at
  the bound point;
* `fuse`: with --fuse the checks run on the fused graph, and its value and
  gradients are also compared with the fine-grained graph's.

When the step from x−h to x+h crosses a kink (relu, abs, sign, max, min,
floor, ceil change branch, atan2 crosses its cut, or hypot's inputs pass
within a step of (0, 0)), the central difference
is no evidence either way: the check's status is `kink` when backprop agrees
with the central, the left (f(x)−f(x−h))/h or the right (f(x+h)−f(x))/h
difference, and `fail` when it agrees with none.

A point is the bound one (the bindings given) and/or `random` points drawn
uniformly in a box with random.Random(seed). Case files (TOML) hold many
named cases; `junit_xml` reports them for CI systems.
"""

from __future__ import annotations

import difflib
import functools
import math
import random as _random
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import api, scalar
from .engine import fmt
from .errors import EXIT_CHECK_FAILED, EXIT_NOT_FINITE, EXIT_OK, CgError, text_of
from .graph import Graph
from .ops import KINK_OPS, OPS
from .syntax import NAME

EPS, RTOL, ATOL = 1e-6, 1e-3, 1e-5  # torch.autograd.gradcheck's defaults
BOX = (-3.0, 3.0)  # where random points are drawn, unless --box says otherwise
SEED = 0

# A check's status, from good to bad; a case and a run take their worst one.
PASS, KINK, FAIL, NONFINITE = "pass", "kink", "fail", "nonfinite"
STATUSES = (PASS, KINK, FAIL, NONFINITE)

# The kinds of check, in the order a point's rows are listed.
CHECKS = ("numeric", "hand-written", "expect", "fuse")


# ---------------------------------------------------------------------------
# what to check


@dataclass
class Options:
    """Settings from the command line; None where not given. A case file's own keys win over them."""

    eps: float | None = None
    rtol: float | None = None
    atol: float | None = None
    random: int | None = None
    seed: int | None = None
    box: list[str] = field(default_factory=list)  # "LO:HI" (every variable) or "NAME=LO:HI"
    fuse: str | None = None  # "all", or gate names "sigmoid,softplus"


@dataclass
class Settings:
    eps: float = EPS
    rtol: float = RTOL
    atol: float = ATOL
    random: int = 0  # random points, besides the bound one
    seed: int = SEED
    box: dict[str, tuple[float, float]] = field(
        default_factory=dict
    )  # per variable, every variable listed
    fuse: bool = False
    gates: list[str] | None = None  # the gates --fuse uses; None: all of them


@dataclass
class Case:
    name: str
    source: str
    graph: Graph  # the graph the checks run on (fused with --fuse)
    fine: Graph | None  # the fine-grained graph, with --fuse
    bindings: dict[str, float] | None  # the bound point; None: random points only
    expect: float | None
    expect_grad: dict[str, float]
    against: dict[str, Graph]  # variable → its derivative written by hand
    settings: Settings
    warnings: list[str]

    @functools.cached_property
    def kink_nodes(self) -> list[int]:
        """The graph's nodes whose op has a kink (kinks() looks only at these, once per check)."""
        return [node for node, op in enumerate(self.graph.op) if op in KINK_OPS]


# ---------------------------------------------------------------------------
# what came out


@dataclass
class Row:
    """One check: cg's number beside a reference."""

    point: int  # index into the case's points
    check: str  # one of CHECKS
    wrt: str | None  # the variable of a gradient; None for the value f
    cg: float  # backprop's gradient or the forward value (the fused graph's, with --fuse)
    reference: (
        float  # numeric difference, hand-written derivative, expected number, fine-grained graph's
    )
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
    file: str | None = None  # the case file, or None for one expression on the command line

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
# reading the command line and case files


class _Where:
    """How messages name a setting: `--expect-grad` on the command line, `expect_grad` in a case file."""

    def __init__(self, prefix: str = "", file: bool = False):
        self.prefix = prefix
        self.file = file

    def __call__(self, key: str) -> str:
        return key if self.file else "--" + key.replace("_", "-")

    def error(
        self,
        message: str,
        source: str | None = None,
        pos: int | None = None,
        binding: str | None = None,
    ) -> CgError:
        """`binding`: the variable whose binding is wrong, when the command line bound it."""
        return CgError(self.prefix + message, source, pos, None if self.file else binding)

    def wrap(self, error: CgError, what: str = "") -> CgError:
        wrapped = error.prefixed(self.prefix + what)
        if self.file:  # a case file's binding is not on the command line
            wrapped.binding = None
        return wrapped


_COMMAND_LINE = _Where()


def _number(value, label: str, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        raise CgError(
            f"{label} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}"
        )
    return float(value)


def _integer(value, label: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or (minimum is not None and value < minimum)
    ):
        at_least = f" >= {minimum}" if minimum is not None else ""
        raise CgError(f"{label} must be an integer{at_least}, got {value!r}")
    if maximum is not None and value > maximum:
        raise CgError(f"{label} must be at most {maximum:,}, got {value:,}")
    return value


MAX_RANDOM = 10**6  # random points per case: a million take about a minute and 1 GB


def _value(value, label: str, where: _Where) -> float:
    """A number, or the text of a constant expression ('pi/4')."""
    if isinstance(value, str):
        try:
            return api.constant(value)
        except CgError as e:
            raise where.wrap(e, f"{label}: ") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise where.error(f"{label} must be a number or a constant expression, got {value!r}")


def _pairs(items: list[str], label: str) -> dict[str, str]:
    """NAME=VALUE items (--expect-grad x=6, --against x=2*x) as a dict; a name given twice is an error."""
    found: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not NAME.match(name) or not value.strip():
            raise CgError(f"{label} takes NAME=VALUE, got {item!r}")
        if name in found:
            raise CgError(f"{label} {name} is given twice")
        found[name] = value
    return found


def _box(items, label: str, where: _Where) -> dict[str, tuple[float, float]]:
    """'LO:HI' for every variable ('' in the result), 'NAME=LO:HI' for one; LO and HI constant expressions."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise where.error(f"{label} must be 'LO:HI', 'NAME=LO:HI' or a list of them, got {items!r}")
    box: dict[str, tuple[float, float]] = {}
    for item in items:
        if not isinstance(item, str):
            raise where.error(f"{label} takes 'LO:HI' or 'NAME=LO:HI', got {item!r}")
        name, eq, span = item.partition("=") if "=" in item else ("", "", item)
        name = name.strip()
        lo, colon, hi = span.partition(":")
        if (eq and not NAME.match(name)) or not colon or not lo.strip() or not hi.strip():
            raise where.error(
                f"{label} takes LO:HI or NAME=LO:HI (such as -3:3 or x=0:1), got {item!r}"
            )
        ends = tuple(_value(end, f"{label} {item}", where) for end in (lo, hi))
        if not all(math.isfinite(v) for v in ends) or ends[0] > ends[1]:
            raise where.error(f"{label} {item}: the box must be finite with LO <= HI")
        if name in box:
            raise where.error(f"{label} {name or 'LO:HI'} is given twice")
        box[name] = ends  # type: ignore[assignment]
    return box


def _fuse(value, label: str, where: _Where) -> tuple[bool, list[str] | None]:
    if value is None or value is False:
        return False, None
    if value is True or value == "all":
        return True, None
    names = []
    if isinstance(value, str) or isinstance(value, list) and all(isinstance(n, str) for n in value):
        try:
            names = api.names(
                value
            )  # an empty name or one named twice is an error, as in cg grad --fuse
        except CgError as e:
            raise where.wrap(e, f"{label}: ") from None
    if not names:
        raise where.error(
            f'{label} must be true, false, "all" or gate names such as "sigmoid,softplus", got {value!r}'
        )
    return True, names


_SETTING_KEYS = ("eps", "rtol", "atol", "random", "seed", "box", "fuse")


def _settings(raw: dict, where: _Where) -> Settings:
    """Settings from raw values (None: the default), each checked; raises CgError naming the setting."""
    s = Settings()
    try:
        if raw.get("eps") is not None:
            s.eps = _number(raw["eps"], where("eps"), positive=True)
        if raw.get("rtol") is not None:
            s.rtol = _number(raw["rtol"], where("rtol"))
        if raw.get("atol") is not None:
            s.atol = _number(raw["atol"], where("atol"))
        if raw.get("random") is not None:
            s.random = _integer(raw["random"], where("random"), minimum=0, maximum=MAX_RANDOM)
        if raw.get("seed") is not None:
            s.seed = _integer(raw["seed"], where("seed"))
    except CgError as e:
        raise where.wrap(e) from None
    s.box = _box(raw.get("box") or [], where("box"), where)
    s.fuse, s.gates = _fuse(raw.get("fuse"), where("fuse"), where)
    return s


def _build(
    name: str | None,
    source: str | Graph,
    bindings: dict[str, float],
    expect,
    expect_grad: dict,
    against: dict,
    raw: dict,
    where: _Where,
) -> Case:
    """A Case, every part checked; bad input raises CgError (exit 2) before anything runs."""
    try:
        fine = source if isinstance(source, Graph) else api.parse(source)
    except CgError as e:
        raise where.wrap(e) from None
    source = fine.source
    variables = fine.variables
    settings = _settings(raw, where)
    warnings = list(fine.warnings)

    graph = fine
    if settings.fuse:
        try:
            graph = api.fuse(fine, settings.gates)
        except CgError as e:
            raise where.wrap(e, f"{where('fuse')}: ") from None
        if not any(node.fused for node in graph.nodes):
            warnings.append(
                f"{where('fuse')}: nothing in the expression matches a gate (`cg fusions` lists the shapes)"
            )

    # the bound point: every variable bound, unless only random points are asked for
    for var, value in bindings.items():
        if hasattr(value, "__len__"):  # a list or range of points (cg grad --x 1,2,3)
            raise where.error(
                f"{var} is bound to {len(value)} points: cg check checks one bound point; "
                f"for more use {where('random')} N, or {'one case per point' if where.file else 'a case file'}",
                binding=var,
            )
    bound: dict[str, float] | None = dict(bindings)
    if not bindings and settings.random and variables:
        bound = None
    if bound is not None:
        for var, node in variables.items():
            if var not in bound and where.file:
                raise where.error(
                    f"no value for the variable {var}: add it to bindings (or check random points only: random = N)",
                    source,
                    fine.nodes[node].start,
                )
        try:
            api.evaluate(
                fine, bound
            )  # the same checks and messages as cg grad (a constant rebound, a variable unbound)
        except CgError as e:
            raise where.wrap(e) from None
        warnings += [
            f"binding {var} is not used by the expression" for var in bound if var not in variables
        ]
        bound = {var: bound[var] for var in variables}

    if expect is not None:
        expect = _value(expect, where("expect"), where)
    grads = {}
    for var, value in expect_grad.items():
        label = f"{where('expect_grad')} {var}"
        if var not in variables:
            raise where.error(f"{label}: the expression has no variable {var}")
        grads[var] = _value(value, label, where)
    for label, v in [
        (where("expect"), expect),
        *((f"{where('expect_grad')} {k}", v) for k, v in grads.items()),
    ]:
        if v is not None and not math.isfinite(v):
            raise where.error(f"{label}: an expected number must be finite, got {fmt(v)}")
    if bound is None and (expect is not None or grads):
        what = where("expect") if expect is not None else where("expect_grad")
        raise where.error(
            f"{what} needs the bound point: bind every variable{' in bindings' if where.file else ''}"
        )

    derivatives = {}
    for var, text in against.items():
        label = f"{where('against')} {var}"
        if not isinstance(text, str):
            raise where.error(f"{label} must be the text of an expression, got {text!r}")
        if var not in variables:
            raise where.error(f"{label}: the expression has no variable {var}")
        try:
            derivative = api.parse(text)
        except CgError as e:
            raise where.wrap(e, f"{label}: ") from None
        for used, node in derivative.variables.items():
            if used not in variables:
                raise where.error(
                    f"{label}: the derivative uses {used}, which the expression does not have",
                    text,
                    derivative.nodes[node].start,
                )
        derivatives[var] = derivative

    for var in settings.box:
        if var and var not in variables:
            warnings.append(f"{where('box')} {var}: the expression has no variable {var}")
    if not settings.random:
        given = [where(k) for k in ("box", "seed") if raw.get(k) not in (None, [], "")]
        if given:
            warnings.append(
                f"{' and '.join(given)} {'has' if len(given) == 1 else 'have'} no effect without {where('random')}"
            )
    default_box = settings.box.get("", BOX)
    settings.box = {var: settings.box.get(var, default_box) for var in variables}
    if not variables and expect is None:
        warnings.append(
            f"nothing to check: the expression has no variables (use {where('expect')} to check its value)"
        )
    return Case(
        name or source,
        source,
        graph,
        fine if settings.fuse else None,
        bound,
        expect,
        grads,
        derivatives,
        settings,
        warnings,
    )


def from_command_line(
    source: str | Graph,
    bindings: dict[str, float],
    expect: str | None = None,
    expect_grad: list[str] | None = None,
    against: list[str] | None = None,
    options: Options | None = None,
) -> Case:
    """The case `cg check EXPR [bindings] [options]` describes (EXPR as text or parsed); option values as typed."""
    options = options or Options()
    raw = {key: getattr(options, key) for key in _SETTING_KEYS}
    return _build(
        None,
        source,
        bindings,
        expect,
        _pairs(expect_grad or [], "--expect-grad"),
        _pairs(against or [], "--against"),
        raw,
        _COMMAND_LINE,
    )


# keys of a [[case]] table
CASE_KEYS = ("name", "expr", "bindings", "expect", "expect_grad", "against", *_SETTING_KEYS)


def load_cases(path: str | Path, options: Options | None = None) -> list[Case]:
    """The cases of a TOML case file, each checked. The file's keys win over the command line's options."""
    options = options or Options()
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror}", word=str(path)) from None
    text = text_of(data, f"the case file {path}")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CgError(f"{path}: not valid TOML: {e}") from None
    for key in doc:
        if key != "case":
            raise CgError(
                f"{path}: unknown key {key!r} at the top level{_hint(key, ['case'])}: write each case as a [[case]] table"
            )
    tables = doc.get("case")
    if isinstance(tables, dict):
        raise CgError(
            f"{path}: [case] is one table; write each case as a [[case]] table (two brackets), as a list of cases"
        )
    if not isinstance(tables, list) or not tables:
        raise CgError(f'{path}: no cases: write each case as a [[case]] table with expr = "..."')
    if not all(isinstance(table, dict) for table in tables):
        raise CgError(f'{path}: case must hold tables ([[case]] with expr = "..."), got {tables!r}')

    cli = {key: getattr(options, key) for key in _SETTING_KEYS}
    _settings(cli, _COMMAND_LINE)  # a bad --rtol is the command line's, not the first case's
    cases, names = [], set()
    for number, table in enumerate(tables, 1):
        label = (
            repr(table["name"])
            if isinstance(table.get("name"), str) and table["name"]
            else f"#{number}"
        )
        where = _Where(f"{path}: case {label}: ", file=True)
        for key in table:
            if key not in CASE_KEYS:
                raise where.error(
                    f"unknown key {key!r}{_hint(key, CASE_KEYS)}; a case takes {', '.join(CASE_KEYS)}"
                )
        expr = table.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            raise where.error('expr must be the expression\'s text, such as expr = "(x+y)**2"')
        name = table.get("name", expr)
        if not isinstance(name, str) or not name.strip():
            raise where.error(f"name must be a non-empty text, got {name!r}")
        if (
            not name.isprintable()
        ):  # a report (JUnit XML, a terminal) cannot carry control characters
            raise where.error(f"name must be printable text, got {name!r}")
        if name in names:
            raise where.error("another case has the same name: a report needs each name once")
        names.add(name)
        tables_of = {}
        for key in ("bindings", "expect_grad", "against"):
            value = table.get(key, {})
            if not isinstance(value, dict):
                raise where.error(
                    f"{key} must be a table such as {key} = {{ x = 1 }}, got {value!r}"
                )
            for var in value:
                if not NAME.match(
                    var
                ):  # what the grammar takes as a name (reports cannot carry others)
                    raise where.error(f"{key}: {var!r} is not a variable name")
            tables_of[key] = value
        bindings = {
            var: _value(value, f"bindings {var}", where)
            for var, value in tables_of["bindings"].items()
        }
        raw = dict(cli, **{key: table[key] for key in _SETTING_KEYS if key in table})
        case = _build(
            name,
            expr,
            bindings,
            table.get("expect"),
            tables_of["expect_grad"],
            tables_of["against"],
            raw,
            where,
        )
        cases.append(case)
    return cases


def _hint(word: str, known) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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
    first = 1 if case.bindings is not None else 0
    batch = _Batch(case, points[first:]) if len(points) - first > 1 else None
    rows = []
    for index, point in enumerate(points):
        numbers = batch.at(index - first) if batch and index >= first else None
        rows += _check_point(case, index, point, numbers or _OnePoint(case, point.bindings))
    return CaseResult(case, points, rows, time.perf_counter() - start)


class _OnePoint:
    """The numbers one point's checks need, computed for that point alone."""

    def __init__(self, case: Case, env: dict[str, float]):
        self.case, self.env = case, env
        result = api.grad(case.graph, env)
        self.value, self.gradients = result.value, result.gradients
        self.why = _why(result, case.graph)  # where a nan or inf first appeared

    def shifted(self, var: str, side: int) -> list:
        """Every node's value with var moved by a step h to one side (-1 or 1)."""
        x = self.env[var] + side * self.case.settings.eps
        return api.evaluate(self.case.graph, {**self.env, var: x}).values

    def hand(self, var: str) -> tuple[float, str]:
        derivative = self.case.against[var]
        result = api.evaluate(derivative, {v: self.env[v] for v in derivative.variables})
        return result.value, _why(result, derivative)

    def fine(self) -> tuple[float, dict, str]:
        result = api.grad(self.case.fine, self.env)
        return result.value, result.gradients, _why(result, self.case.fine)


def _why(result, graph: Graph) -> str:
    return "; ".join(result.warnings[len(graph.warnings) :])


class _Batch:
    """The same numbers for many random points at once: one pass over numpy arrays per graph
    (and per shifted variable), never a loop over the points. A point where any of them is
    nan or inf is computed again alone, so that its notes say where that came from."""

    def __init__(self, case: Case, points: list[Point]):
        import numpy as np

        graph, eps = case.graph, case.settings.eps
        env = {var: np.array([p.bindings[var] for p in points]) for var in graph.variables}
        result = api.grad(graph, env)
        self.value, self.gradients = result.value, result.gradients
        # x + (-1)*h is x - h exactly, as _OnePoint computes it
        self.minus = {
            var: api.evaluate(graph, {**env, var: env[var] - eps}).values for var in graph.variables
        }
        self.plus = {
            var: api.evaluate(graph, {**env, var: env[var] + eps}).values for var in graph.variables
        }
        self.hands = {
            var: api.evaluate(d, {v: env[v] for v in d.variables}).value for var, d in case.against.items()
        }  # fmt: skip
        self.fine_result = api.grad(case.fine, env) if case.fine is not None else None
        numbers = [self.value, *self.gradients.values(), *self.hands.values()]
        numbers += [v[graph.output] for v in (*self.minus.values(), *self.plus.values())]
        if self.fine_result is not None:
            numbers += [self.fine_result.value, *self.fine_result.gradients.values()]
        self.finite = np.ones(len(points), dtype=bool)
        for n in numbers:
            self.finite &= np.isfinite(n)

    def at(self, k: int) -> _PointOfBatch | None:
        """Point k's numbers, or None where one of them is not finite."""
        return _PointOfBatch(self, k) if self.finite[k] else None


class _PointOfBatch:
    """_OnePoint's questions, answered from a _Batch's arrays at one point."""

    why = ""  # every number is finite here

    def __init__(self, batch: _Batch, k: int):
        self.batch, self.k = batch, k
        # _float_at: an expression with no variable has one value, not an array, at every point
        self.value = _float_at(batch.value, k)
        self.gradients = {var: _float_at(g, k) for var, g in batch.gradients.items()}

    def shifted(self, var: str, side: int) -> _Column:
        return _Column((self.batch.minus if side < 0 else self.batch.plus)[var], self.k)

    def hand(self, var: str) -> tuple[float, str]:
        return _float_at(self.batch.hands[var], self.k), ""

    def fine(self) -> tuple[float, dict, str]:
        r = self.batch.fine_result
        return (
            _float_at(r.value, self.k),
            {var: _float_at(g, self.k) for var, g in r.gradients.items()},
            "",
        )


class _Column:
    """Every node's value at point k, read from a batch's per-node arrays on demand."""

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
                f"cg's {'value' if wrt is None else 'gradient'} is {fmt(cg)}"
                + (f" ({why_cg})" if why_cg else "")
            )
        if not math.isfinite(reference):
            notes.append(
                f"the reference is {fmt(reference)}" + (f" ({why_ref})" if why_ref else "")
            )
        return Row(index, check, wrt, cg, reference, NONFINITE, "; ".join(notes))
    return Row(index, check, wrt, cg, reference, PASS if close(cg, reference, settings) else FAIL)


def _check_point(case: Case, index: int, point: Point, at: _OnePoint | _PointOfBatch) -> list[Row]:
    s, graph, env = case.settings, case.graph, point.bindings
    value, grads, why = at.value, at.gradients, at.why
    rows = [_numeric(case, index, env, at, var) for var in graph.variables]
    for var in case.against:
        hand, why_hand = at.hand(var)
        rows.append(_compare(index, "hand-written", var, grads[var], hand, s, why, why_hand))
    if point.origin == "bound":
        if case.expect is not None:
            rows.append(_compare(index, "expect", None, value, case.expect, s, why))
        for var, expected in case.expect_grad.items():
            rows.append(_compare(index, "expect", var, grads[var], expected, s, why))
    if case.fine is not None:
        fine_value, fine_grads, why_fine = at.fine()
        rows.append(_compare(index, "fuse", None, value, fine_value, s, why, why_fine))
        rows += [
            _compare(index, "fuse", var, grads[var], fine_grads[var], s, why, why_fine)
            for var in graph.variables
        ]
    return rows


def _numeric(case: Case, index: int, env: dict[str, float], at, var: str) -> Row:
    """Backprop's ∂f/∂var beside the central difference, with the kink check."""
    s, graph, why = case.settings, case.graph, at.why
    x = env[var]
    xm, xp = x - s.eps, x + s.eps
    if xp == xm:
        note = f"the step is lost: {var} ± h == {var} at {var} = {fmt(x)}; use a larger --eps"
        return Row(index, "numeric", var, at.gradients[var], math.nan, NONFINITE, note)
    minus, plus = at.shifted(var, -1), at.shifted(var, 1)
    f0, fm, fp = at.value, minus[graph.output], plus[graph.output]
    cg = at.gradients[var]
    central = scalar.div(scalar.sub(fp, fm), xp - xm)
    if not _finite(cg, f0, fm, fp, central):
        notes = []
        if not math.isfinite(cg):
            notes.append(f"the gradient is {fmt(cg)}")
        if not math.isfinite(f0):
            notes.append(f"f is {fmt(f0)}")
        notes += [
            f"f at {var}{side}h is {fmt(v)}"
            for side, v in (("-", fm), ("+", fp))
            if not math.isfinite(v)
        ]
        if _finite(f0, fm, fp) and not math.isfinite(central):
            notes.append("the difference overflows")
        note = ", ".join(notes) + (f" ({why})" if why else "")
        return Row(index, "numeric", var, cg, central, NONFINITE, note)
    crossed = kinks(graph, minus, plus, case.kink_nodes)
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
        note += f"backprop agrees with the {agree[0][0]} difference {fmt(agree[0][1])}"
    else:
        note += f"backprop agrees with no difference (left {fmt(left)}, right {fmt(right)})"
    return Row(index, "numeric", var, cg, central, KINK if agree else FAIL, note, left, right)


def kinks(graph: Graph, minus: list, plus: list, candidates: list[int] | None = None) -> list[int]:
    """Ids of the nodes that change branch between two forward passes (finite inputs only).
    `candidates`: the graph's nodes whose op has a kink, when the caller knows them (Case.kink_nodes)."""
    if candidates is None:
        candidates = [node for node, op in enumerate(graph.op) if op in KINK_OPS]
    found = []
    for node in candidates:
        a = [minus[i] for i in graph.inputs[node]]
        b = [plus[i] for i in graph.inputs[node]]
        if _finite(*a, *b) and OPS[graph.op[node]].crosses_kink(a, b):
            found.append(node)
    return found


# ---------------------------------------------------------------------------
# describing results (the JUnit report and the renderers use these)


def point_text(point: Point) -> str:
    return ", ".join(f"{var}={fmt(v)}" for var, v in point.bindings.items())


def of_text(row: Row, d: str = "∂") -> str:
    return "f" if row.wrt is None else f"{d}f/{d}{row.wrt}"


def error_text(v: float) -> str:
    return f"{v:.2g}"


def describe(result: CaseResult, row: Row) -> str:
    """One line saying what a check compared and what came out."""
    at = point_text(result.points[row.point])
    line = (
        f"{row.status}: {row.check} {of_text(row)}"
        f"{' at ' + at if at else ''}: cg {fmt(row.cg)}, reference {fmt(row.reference)}, "
        f"abs err {error_text(row.abs_err)}, rel err {error_text(row.rel_err)}"
    )
    return line + (f" ({row.note})" if row.note else "")


def points_text(result: CaseResult) -> str:
    """'x=1, y=2 and 20 random points (seed 0, box x=-3:3, y=-3:3)'."""
    s = result.case.settings
    parts = []
    if result.case.bindings is not None:
        parts += [point_text(result.points[0])] if result.case.bindings else []
    if s.random:
        box = ", ".join(f"{var}={fmt(lo)}:{fmt(hi)}" for var, (lo, hi) in s.box.items())
        parts.append(
            f"{s.random} random point{'s' if s.random != 1 else ''} (seed {s.seed}{', box ' + box if box else ''})"
        )
    return " and ".join(parts)


def counts_text(result_or_counts) -> str:
    counts = (
        result_or_counts.counts() if isinstance(result_or_counts, CaseResult) else result_or_counts
    )
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing checked"


def junit_xml(report: Report, suite: str = "cg check") -> bytes:
    """A JUnit XML report: one <testcase> per case; a failed check is a <failure>, a non-finite number an <error>."""
    import xml.etree.ElementTree as ET

    results = report.results
    failures = sum(r.status == FAIL for r in results)
    errors = sum(r.status == NONFINITE for r in results)
    seconds = f"{sum(r.seconds for r in results):.6f}"
    counts = {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": seconds,
    }
    root = ET.Element("testsuites", {"name": suite, **counts})
    testsuite = ET.SubElement(root, "testsuite", {"name": suite, **counts})
    for r in results:
        testcase = ET.SubElement(
            testsuite,
            "testcase",
            {"classname": suite, "name": r.case.name, "time": f"{r.seconds:.6f}"},
        )
        properties = ET.SubElement(testcase, "properties")
        ET.SubElement(properties, "property", {"name": "expression", "value": r.case.source})
        ET.SubElement(properties, "property", {"name": "points", "value": points_text(r)})
        problems = [row for row in r.rows if row.status != PASS]
        lines = [describe(r, row) for row in problems]
        if r.status in (FAIL, NONFINITE):
            worst = next(row for row in problems if row.status == r.status)
            tag = "failure" if r.status == FAIL else "error"
            element = ET.SubElement(
                testcase, tag, {"message": describe(r, worst), "type": r.status}
            )
            element.text = "\n".join(lines)
        summary = (
            f"{len(r.rows)} check{'s' * (len(r.rows) != 1)} at {points_text(r)}: {counts_text(r)}"
        )
        ET.SubElement(testcase, "system-out").text = "\n".join(
            [summary, *(line for line in lines if line.startswith(KINK))]
        )
        if r.case.warnings:
            ET.SubElement(testcase, "system-err").text = "\n".join(
                f"warning: {w}" for w in r.case.warnings
            )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
