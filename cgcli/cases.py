"""cg check's cases: what to check and how, from a case file (TOML) or from values given directly
(the command line's). Every value is checked before anything runs; bad input raises CgError.

A message about a bad value says where the value came from: a case's place in its file
("checks.toml: case 'sq': rtol must be ..."), or the setting by name. A setting's name is its
key (eps, expect_grad), unless the caller names settings otherwise: the command line passes
its option names, so that its messages say what its user typed.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import api, files
from .errors import CgError, text_of
from .graph import Graph
from .syntax import NAME
from .text import closest, shortest_float

# rtol: how close is close enough, relative to the number: a check passes when cg and the
# reference agree within their error bounds plus rtol·|reference| + atol, and the bounds are
# within rtol·|number| + atol (else it cannot tell, and says inconclusive)
RTOL, ATOL = 1e-6, 0.0
METHODS = ("ridders", "complex")  # the numeric reference: extrapolated differences, complex step
BOX = (-3.0, 3.0)  # where random points are drawn, unless the box setting says otherwise
SEED = 0
MAX_RANDOM = 10**6  # random points per case: a bound on one case's time and memory

# The settings, by key: a case file's keys and the values the command line passes.
SETTING_KEYS = ("method", "eps", "rtol", "atol", "random", "seed", "box", "fuse")

# keys of a [[case]] table
CASE_KEYS = ("name", "expr", "bindings", "expect", "expect_grad", "against", *SETTING_KEYS)


@dataclass(frozen=True)
class Settings:
    """How a case is checked."""

    eps: float | None = None  # the first step of the tableau; None: from the expression's reach
    rtol: float = RTOL
    atol: float = ATOL
    random: int = 0  # random points, besides the bound one
    seed: int = SEED
    # where random points lie: as given, "" standing for every variable; in a Case, per variable
    box: dict[str, tuple[float, float]] = field(default_factory=dict)
    fuse: bool = False
    gates: tuple[str, ...] | None = None  # the gates fuse uses; None: all of them
    method: str = "ridders"  # the numeric reference (METHODS)


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    graph: Graph  # the graph the checks run on (fused with the fuse setting)
    fine: Graph | None  # the fine-grained graph, when fused
    bindings: dict[str, float] | None  # the bound point; None: random points only
    expect: float | None
    expect_grad: dict[str, float]
    against: dict[str, Graph]  # variable → its derivative written by hand
    settings: Settings
    warnings: list[str]
    setting_name: Callable[[str], str]  # what notes call a setting ("use a larger eps")
    file: str | None = None  # the case file it is from; None: given directly


def _key(key: str) -> str:
    return key


class _Origin:
    """Where a case's values came from, as its messages say it: a case in a file (the case's
    place first, settings named by their keys), or values given directly (settings named as the
    caller names them)."""

    def __init__(
        self, place: str = "", in_file: bool = False, setting_name: Callable[[str], str] = _key
    ):
        self.place = place  # "checks.toml: case 'sq': ", or ""
        self.in_file = in_file
        self.setting_name = setting_name

    def error(
        self,
        message: str,
        source: str | None = None,
        pos: int | None = None,
        variable: str | None = None,
    ) -> CgError:
        """`variable`: the one whose given binding is wrong (a file's bindings are its own)."""
        return CgError(self.place + message, source, pos, None if self.in_file else variable)

    def wrap(self, error: CgError, what: str = "") -> CgError:
        wrapped = error.prefixed(self.place + what)
        if self.in_file:
            wrapped.variable = None
        return wrapped


def _non_negative(value, label: str, positive: bool = False) -> float:
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


def _value(value, label: str, origin: _Origin) -> float:
    """A number, or the text of a constant expression ('pi/4')."""
    if isinstance(value, str):
        try:
            return api.constant(value)
        except CgError as e:
            raise origin.wrap(e, f"{label}: ") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise origin.error(f"{label} must be a number or a constant expression, got {value!r}")


def _pairs(items: list[str], label: str, form: str = "NAME=VALUE") -> dict[str, str]:
    """NAME=VALUE items (x=6, x=2*x) as a dict; a name given twice is an error. `form` is how
    the message for a malformed item writes them (NAME=EXPR for a derivative by hand)."""
    found: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not NAME.match(name) or not value.strip():
            raise CgError(f"{label} takes {form}, got {item!r}")
        if name in found:
            raise CgError(f"{label} {name} is given twice")
        found[name] = value
    return found


def _box(items, label: str, origin: _Origin) -> dict[str, tuple[float, float]]:
    """'LO:HI' for every variable ('' in the result), 'NAME=LO:HI' for one; LO and HI constant expressions."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list):
        raise origin.error(
            f"{label} must be 'LO:HI', 'NAME=LO:HI' or a list of them, got {items!r}"
        )
    box: dict[str, tuple[float, float]] = {}
    for item in items:
        if not isinstance(item, str):
            raise origin.error(f"{label} takes 'LO:HI' or 'NAME=LO:HI', got {item!r}")
        name, eq, span = item.partition("=") if "=" in item else ("", "", item)
        name = name.strip()
        lo, colon, hi = span.partition(":")
        if (eq and not NAME.match(name)) or not colon or not lo.strip() or not hi.strip():
            raise origin.error(
                f"{label} takes LO:HI or NAME=LO:HI (such as -3:3 or x=0:1), got {item!r}"
            )
        ends = tuple(_value(end, f"{label} {item}", origin) for end in (lo, hi))
        if not all(math.isfinite(v) for v in ends) or ends[0] > ends[1]:
            raise origin.error(f"{label} {item}: the box must be finite with LO <= HI")
        if name in box:
            raise origin.error(f"{label} {name or 'LO:HI'} is given twice")
        box[name] = ends  # type: ignore[assignment]
    return box


def _method(value, label: str) -> str:
    if value not in METHODS:
        close = closest(value, METHODS) if isinstance(value, str) else None
        hint = f" (did you mean {close!r}?)" if close else ""
        raise CgError(f"{label} must be ridders or complex, got {value!r}{hint}")
    return value


def _analytic(graph: Graph, label: str, origin: _Origin) -> None:
    """The complex step differentiates analytic ops only: the first op that is not, named."""
    from .complex_step import COMPLEX, NOT_ANALYTIC

    for node, op in enumerate(graph.op):
        if op in NOT_ANALYTIC:
            why = (
                f"is not analytic ({NOT_ANALYTIC[op]}), so the complex step cannot differentiate it"
            )
        elif op not in COMPLEX and graph.inputs[node]:
            why = "has no complex forward"
        else:
            continue
        raise origin.error(
            f"{label} complex: {op} {why}; use {label} ridders",
            graph.source,
            graph.start[node],
        )


def _fuse(value, label: str, origin: _Origin) -> tuple[bool, tuple[str, ...] | None]:
    if value is None or value is False:
        return False, None
    if value is True or value == "all":
        return True, None
    names = []
    if isinstance(value, str) or isinstance(value, list) and all(isinstance(n, str) for n in value):
        try:
            # an empty name or one named twice is an error, as in cg grad's gate lists
            names = api.names(value)
        except CgError as e:
            raise origin.wrap(e, f"{label}: ") from None
    if not names:
        raise origin.error(
            f'{label} must be true, false, "all" or gate names such as "sigmoid,softplus", got {value!r}'
        )
    return True, tuple(names)


def _settings(values: Mapping, origin: _Origin) -> Settings:
    """Settings from values by key (None or absent: the default), each checked."""
    found = {}
    try:
        if values.get("method") is not None:
            found["method"] = _method(values["method"], origin.setting_name("method"))
        if values.get("eps") is not None:
            found["eps"] = _non_negative(values["eps"], origin.setting_name("eps"), positive=True)
        for key in ("rtol", "atol"):
            if values.get(key) is not None:
                found[key] = _non_negative(values[key], origin.setting_name(key))
        if values.get("random") is not None:
            found["random"] = _integer(
                values["random"], origin.setting_name("random"), 0, MAX_RANDOM
            )
        if values.get("seed") is not None:
            found["seed"] = _integer(values["seed"], origin.setting_name("seed"))
    except CgError as e:
        raise origin.wrap(e) from None
    found["box"] = _box(values.get("box") or [], origin.setting_name("box"), origin)
    found["fuse"], found["gates"] = _fuse(values.get("fuse"), origin.setting_name("fuse"), origin)
    return Settings(**found)


def _case(
    name: str | None,
    source: str | Graph,
    bindings: dict[str, float],
    expect,
    expect_grad: dict,
    against: dict,
    values: Mapping,
    origin: _Origin,
) -> Case:
    """A Case, every part checked: the one path for case files and values given directly."""
    try:
        fine = source if isinstance(source, Graph) else api.parse(source)
    except CgError as e:
        raise origin.wrap(e) from None
    source = fine.source
    variables = fine.variables
    settings = _settings(values, origin)
    warnings = list(fine.warnings)

    graph = fine
    if settings.fuse:
        gates = None if settings.gates is None else list(settings.gates)
        try:
            graph = api.fuse(fine, gates)
        except CgError as e:
            raise origin.wrap(e, f"{origin.setting_name('fuse')}: ") from None
        if not any(node.fused for node in graph.nodes):  # no fuse rows: nothing to compare
            warnings.append(
                f"{origin.setting_name('fuse')}: nothing in the expression matches a gate (`cg fusions` lists the shapes)"
            )
            graph = fine

    if settings.method == "complex":
        _analytic(graph, origin.setting_name("method"), origin)

    # the bound point: every variable bound, unless only random points are asked for
    for var, value in bindings.items():
        if hasattr(value, "__len__"):  # a list or range of points, as cg grad takes them
            raise origin.error(
                f"{var} is bound to {len(value)} points: cg check checks one bound point; "
                f"for more use {origin.setting_name('random')} N, or {'one case per point' if origin.in_file else 'a case file'}",
                variable=var,
            )
    bound: dict[str, float] | None = dict(bindings)
    if not bindings and settings.random and variables:
        bound = None
    if bound is not None:
        for var, node in variables.items():
            if var not in bound and origin.in_file:
                raise origin.error(
                    f"no value for the variable {var}: add it to bindings (or check random points only: random = N)",
                    source,
                    fine.nodes[node].start,
                )
        try:
            # the same checks and messages as cg grad (a constant rebound, a variable unbound)
            api.evaluate(fine, bound)
        except CgError as e:
            raise origin.wrap(e) from None
        warnings += [
            f"binding {var} is not used by the expression" for var in bound if var not in variables
        ]
        bound = {var: bound[var] for var in variables}

    if expect is not None:
        expect = _value(expect, origin.setting_name("expect"), origin)
    grads = {}
    for var, value in expect_grad.items():
        label = f"{origin.setting_name('expect_grad')} {var}"
        if var not in variables:
            raise origin.error(f"{label}: the expression has no variable {var}")
        grads[var] = _value(value, label, origin)
    for label, v in [
        (origin.setting_name("expect"), expect),
        *((f"{origin.setting_name('expect_grad')} {k}", v) for k, v in grads.items()),
    ]:
        if v is not None and not math.isfinite(v):
            raise origin.error(
                f"{label}: an expected number must be finite, got {shortest_float(v)}"
            )
    if bound is None and (expect is not None or grads):
        what = (
            origin.setting_name("expect")
            if expect is not None
            else origin.setting_name("expect_grad")
        )
        raise origin.error(
            f"{what} needs the bound point: bind every variable{' in bindings' if origin.in_file else ''}"
        )

    derivatives = {}
    for var, text in against.items():
        label = f"{origin.setting_name('against')} {var}"
        if not isinstance(text, str):
            raise origin.error(f"{label} must be the text of an expression, got {text!r}")
        if var not in variables:
            raise origin.error(f"{label}: the expression has no variable {var}")
        try:
            derivative = api.parse(text)
        except CgError as e:
            raise origin.wrap(e, f"{label}: ") from None
        for used, node in derivative.variables.items():
            if used not in variables:
                raise origin.error(
                    f"{label}: the derivative uses {used}, which the expression does not have",
                    text,
                    derivative.nodes[node].start,
                )
        derivatives[var] = derivative

    for var in settings.box:
        if var and var not in variables:
            warnings.append(
                f"{origin.setting_name('box')} {var}: the expression has no variable {var}"
            )
    if not settings.random:
        given = [
            origin.setting_name(k) for k in ("box", "seed") if values.get(k) not in (None, [], "")
        ]
        if given:
            warnings.append(
                f"{' and '.join(given)} {'has' if len(given) == 1 else 'have'} no effect without {origin.setting_name('random')}"
            )
    every = settings.box.get("", BOX)
    settings = replace(settings, box={var: settings.box.get(var, every) for var in variables})
    if not variables and expect is None:
        warnings.append(
            f"nothing to check: the expression has no variables (use {origin.setting_name('expect')} to check its value)"
        )
    return Case(
        name or source,
        source,
        graph,
        fine if graph is not fine else None,  # fused, and something was: the fuse rows
        bound,
        expect,
        grads,
        derivatives,
        settings,
        warnings,
        origin.setting_name,
    )


def from_values(
    source: str | Graph,
    bindings: dict[str, float],
    expect: str | None = None,
    expect_grad: list[str] | None = None,
    against: list[str] | None = None,
    settings: Mapping | None = None,
    setting_name: Callable[[str], str] = _key,
) -> Case:
    """One case from values given directly (the expression as text or parsed): `expect_grad` and
    `against` as NAME=EXPR texts, `settings` by key as typed (None or absent: the default).
    `setting_name(key)` is what messages call a setting."""
    origin = _Origin(setting_name=setting_name)
    return _case(
        None,
        source,
        bindings,
        expect,
        _pairs(expect_grad or [], setting_name("expect_grad")),
        _pairs(against or [], setting_name("against"), "NAME=EXPR"),
        settings or {},
        origin,
    )


def load(
    path: str | Path, settings: Mapping | None = None, setting_name: Callable[[str], str] = _key
) -> list[Case]:
    """The cases of a TOML case file, each checked. `settings` (by key, as in from_values) apply
    to every case; a case's own keys win over them."""
    settings = settings or {}
    path = Path(path)
    try:
        data = files.read_capped(path, f"the case file {path}")
    except OSError as e:
        raise CgError(f"cannot read {path}: {e.strerror}", file=str(path)) from None
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

    given = {key: settings.get(key) for key in SETTING_KEYS}
    _settings(given, _Origin(setting_name=setting_name))  # a bad one is the caller's, not a case's
    cases, names = [], set()
    for number, table in enumerate(tables, 1):
        label = (
            repr(table["name"])
            if isinstance(table.get("name"), str) and table["name"]
            else f"#{number}"
        )
        origin = _Origin(f"{path}: case {label}: ", in_file=True)
        for key in table:
            if key not in CASE_KEYS:
                raise origin.error(
                    f"unknown key {key!r}{_hint(key, CASE_KEYS)}; a case takes {', '.join(CASE_KEYS)}"
                )
        expr = table.get("expr")
        if not isinstance(expr, str) or not expr.strip():
            raise origin.error('expr must be the expression\'s text, such as expr = "(x+y)**2"')
        name = table.get("name", expr)
        if not isinstance(name, str) or not name.strip():
            raise origin.error(f"name must be a non-empty text, got {name!r}")
        # a report (JUnit XML, a terminal) cannot carry control characters
        if not name.isprintable():
            raise origin.error(f"name must be printable text, got {name!r}")
        if name in names:
            raise origin.error("another case has the same name: a report needs each name once")
        names.add(name)
        tables_of = {}
        for key in ("bindings", "expect_grad", "against"):
            value = table.get(key, {})
            if not isinstance(value, dict):
                raise origin.error(
                    f"{key} must be a table such as {key} = {{ x = 1 }}, got {value!r}"
                )
            for var in value:
                # what the grammar takes as a name (reports cannot carry others)
                if not NAME.match(var):
                    raise origin.error(f"{key}: {var!r} is not a variable name")
            tables_of[key] = value
        bindings = {
            var: _value(value, f"bindings {var}", origin)
            for var, value in tables_of["bindings"].items()
        }
        values = dict(given, **{key: table[key] for key in SETTING_KEYS if key in table})
        case = _case(
            name,
            expr,
            bindings,
            table.get("expect"),
            tables_of["expect_grad"],
            tables_of["against"],
            values,
            origin,
        )
        cases.append(replace(case, file=str(path)))
    return cases


def _hint(word: str, known) -> str:
    close = closest(word, known)
    return f" (did you mean {close!r}?)" if close else ""
