"""The Python API the command line calls: parse, evaluate, grad, hessian, directional.

    >>> from cgcli import grad
    >>> r = grad("(x+y)**2", {"x": 1, "y": 2})
    >>> r.value, r.gradients
    (9.0, {'x': 6.0, 'y': 6.0})

Bindings map a variable's name to a number or to the text of a constant
expression ("pi/4"). Bad input raises CgError; nan and inf do not raise,
they are reported in `warnings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from . import engine
from .errors import CgError, NotAVariable, UnboundVariable, UnknownGate
from .graph import Graph, cycle_collector_paused
from .ops import CONSTANTS
from .syntax import parse
from .text import did_you_mean, elide_middle, shortest_float

__all__ = [
    "parse",
    "fuse",
    "constant",
    "evaluate",
    "grad",
    "hessian",
    "directional",
    "Result",
    "Hessian",
    "Directional",
    "CgError",
]


@dataclass
class Result:
    graph: Graph
    values: list  # value of every node, by node id
    grads: list | None  # ∂f/∂node for every node (None where it does not depend on a variable)
    gradients: dict[str, float]  # ∂f/∂variable, for the variables asked for
    warnings: list[str] = field(default_factory=list)
    trace: list | None = None  # backprop's steps, when asked for (see engine.backward)
    points: int | None = None  # number of points of a batch; None for a single point

    @property
    def value(self):
        return self.values[self.graph.output]

    def _repr_html_(self) -> str:
        """In a notebook: the interactive circuit (cg graph -o FILE.html) in a sandboxed iframe."""
        from .display import notebook_html

        return notebook_html(self)

    def __rich_console__(self, console, options):
        """In a terminal, through Rich: the tree cg grad prints."""
        from .display import rich_tree

        yield rich_tree(self)


def fuse(expr: str | Graph, gates: list[str] | None = None) -> Graph:
    """The graph with every known subgraph replaced by one gate (all gates, or those named)."""
    from . import fusion

    known = fusion.gate_names()
    gates = names(gates) if gates is not None else None
    for name in gates or []:
        if name not in known:
            raise UnknownGate(f"unknown gate '{name}'{did_you_mean(name, known)}")
    return fusion.fuse(_as_graph(expr), gates)  # None: every gate; []: none


def constant(text: str, warnings: list | None = None) -> float:
    """The value of a constant expression such as '-2.5', '1e-3' or 'pi/4'. What parsing it had
    to say (a number too small for float64) is appended to `warnings`. The words inf, -inf and nan
    (as csv, JSON output and Python spell them) are values too, though not names in expressions."""
    if not isinstance(text, str):
        raise CgError(f"a constant expression is text, got {type(text).__name__}")
    if text.strip().lstrip("+-").lower() in ("inf", "infinity", "nan"):
        return float(text)
    graph = parse(text)
    if graph.variables:
        name, node = next(iter(graph.variables.items()))
        raise CgError(
            f"{text!r} is not a constant expression: it uses the name {name!r}",
            text,
            graph.nodes[node].start,
        )
    fwd = engine.forward(graph, {})
    if warnings is not None:  # 1e-400 becomes 0; 1e400 or exp(1000) is inf: said where
        warnings += graph.warnings + [w for w in (fwd.warning, fwd.later) if w]
    return fwd.values[graph.output]


def constant_within(
    text: str, piece: str, offset: int, warnings: list | None = None, what: str = ""
) -> float:
    """constant(piece), where piece starts at `offset` in `text`: an error points into the whole text."""
    try:
        return constant(piece, warnings)
    except CgError as e:
        raise CgError(f"{what}{e.message}", text, offset + (e.pos or 0)) from None


def as_float(value, what: str) -> float:
    """A value given through the Python API as a float: a number, or constant-expression text."""
    if isinstance(value, str):
        return constant(value)
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as e:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise CgError(f"{what}: {shown} is not a number ({e})") from None


def split_outside_parentheses(text: str, sep: str) -> list[tuple[str, int]]:
    """`text` cut at each `sep` that is not inside parentheses: (piece, offset of the piece)."""
    pieces, depth, begin = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            pieces.append((text[begin:i], begin))
            begin = i + 1
    pieces.append((text[begin:], begin))
    return pieces


MAX_POINTS = 10**9  # a range of more points is refused (8 GB for each array)


def _as_graph(expr: str | Graph) -> Graph:
    if not isinstance(expr, (str, Graph)):
        raise CgError(f"the expression must be text or a Graph, got {type(expr).__name__}")
    return expr if isinstance(expr, Graph) else parse(expr)


def names(given) -> list[str]:
    """Names given as a list, or as text: 'x' or 'x, y' (variables, gates). An empty name or one
    named twice is an error: it would otherwise be dropped without a word."""
    if not isinstance(given, str):
        if not isinstance(given, (list, tuple)) or not all(isinstance(n, str) for n in given):
            raise CgError(f"names must be text ('x,y') or a list of texts, got {given!r}")
        found = []
        for name in (n.strip() for n in given):
            if not name or name in found:
                raise CgError(
                    f"the list {list(given)!r} "
                    + (f"names {name} twice" if name else "has an empty name")
                )
            found.append(name)
        return found
    found, at = [], 0
    for piece in given.split(","):
        name = piece.strip()
        if not name:
            raise CgError(f"the list {given!r} has an empty name", given, at)
        if name in found:
            raise CgError(
                f"the list {given!r} names {name} twice",
                given,
                at + len(piece) - len(piece.lstrip()),
            )
        found.append(name)
        at += len(piece) + 1
    return found


def points(text: str, warnings: list | None = None):
    """A binding's value: a constant expression, a list `1,2,3`, or a range `start:stop:count`.

    A range has `count` evenly spaced points from start to stop, both included.
    Lists and ranges come back as float64 numpy arrays. Commas and colons inside
    parentheses belong to the expression (`max(1,2)`).
    """

    def value(piece: str, offset: int) -> float:
        return constant_within(text, piece, offset, warnings)

    listed, ranged = split_outside_parentheses(text, ","), split_outside_parentheses(text, ":")
    if len(listed) == 1 and len(ranged) == 1:
        return value(text, 0)
    import numpy as np

    if len(ranged) == 1:
        return np.array([value(*piece) for piece in listed], dtype=np.float64)
    if len(ranged) != 3 or len(listed) != 1:
        raise CgError(f"a range is start:stop:count, got {text!r}", text, len(text))
    start, stop, count = (value(*piece) for piece in ranged)
    at_count = ranged[2][1]
    if not (math.isfinite(count) and count == int(count) and 1 <= count <= MAX_POINTS):
        raise CgError(
            f"the count of a range must be a whole number from 1 to {MAX_POINTS:,}, got {ranged[2][0].strip()!r}",
            text,
            at_count,
        )
    if not (math.isfinite(start) and math.isfinite(stop)):
        which = ranged[0] if not math.isfinite(start) else ranged[1]
        raise CgError(
            f"the ends of a range must be finite, got {which[0].strip()!r}", text, which[1]
        )
    count = int(count)
    from .memory import check

    # the range and the least computed from it: f, a gradient, and the column written out
    check(count, 4 * 8, "the range and its results")
    if math.isfinite(stop - start):
        return np.linspace(start, stop, count)
    t = np.linspace(
        0.0, 1.0, count
    )  # stop - start overflows (-1e308:1e308:3): weigh the ends instead
    return start * (1.0 - t) + stop * t


def _environment(graph: Graph, bindings) -> tuple[dict, list[str], int | None, bool]:
    """Check the bindings against the graph's variables: every variable bound, no name unused.

    Returns the environment, the warnings, the number of points (None for scalars), and
    whether every bound value is finite. An array is the caller's own when it is float64
    already (not copied: see _compute).
    """
    env, warnings, n, first, finite = {}, list(graph.warnings), None, None, True
    unused = 0  # bindings of names the expression does not have
    if bindings is not None and not isinstance(bindings, Mapping):
        raise CgError(
            f"bindings map each variable's name to its value, such as {{'x': 1.0}}; got {type(bindings).__name__}"
        )
    for name, value in (bindings or {}).items():
        if name in CONSTANTS and name not in graph.variables:
            raise CgError(
                f"{name} is the constant {CONSTANTS[name]!r}; to use another value write '{name} = …; ' before the expression",
                variable=name,
            )
        if name not in graph.variables:
            unused += 1
            if unused <= 10:  # 100,000 lines of warnings would hide everything else
                warnings.append(f"binding {name} is not used by the expression")
            continue
        if isinstance(value, str):
            value = points(value, warnings)
        if getattr(value, "ndim", None) == 0:  # a numpy scalar or 0-d array: one value
            value = value.item()
        if hasattr(value, "__len__"):
            import numpy as np

            value = _points_array(value, name)
            if not len(value):
                raise CgError(f"{name} has no points", variable=name)
            if n is not None and len(value) != n:
                raise CgError(
                    f"{first} has {n} points but {name} has {len(value)}: arrays must have the same length",
                    variable=name,
                )
            n, first = len(value), name
            # a finite sum has no nan or inf in it (one pass, nothing allocated); an inf sum may
            # be an overflow of finite values, and is looked at point by point
            with np.errstate(all="ignore"):  # inf + -inf
                total = np.add.reduce(value)
            bad = np.flatnonzero(~np.isfinite(value)) if not math.isfinite(total) else []
            if len(bad):
                finite = False
                warnings.append(
                    f"variable {name} is {shortest_float(value[bad[0]])} at point {bad[0]}"
                )
        else:
            value = as_float(value, name)
            if not math.isfinite(value):
                warnings.append(f"variable {name} is {shortest_float(value)}")
                finite = False
        env[name] = value
    if unused > 10:
        warnings.append(f"and {unused - 10:,} more bindings are not used by the expression")
    for name, node in graph.variables.items():
        if name not in env:
            from .characters import lookalike_hint  # an error's path: not loaded at start-up

            raise UnboundVariable(
                name,
                graph.source,
                graph.nodes[node].start,
                lookalike_hint(name, bindings or {}),
            )
    return env, warnings, n, finite


def _points_array(value, name: str):
    """Many points given through the Python API: a 1-D sequence or array of real numbers, as float64."""
    import numpy as np

    if isinstance(value, (Mapping, set, frozenset, bytes, bytearray, memoryview)) or isinstance(
        value, np.ma.MaskedArray
    ):
        raise CgError(f"{name}: a {type(value).__name__} is not a list of numbers")
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nesting
        raise CgError(f"{name}: not a list of numbers ({e})") from None
    if (
        array.dtype.kind in "OU" and array.ndim == 1
    ):  # None, big ints, texts such as 'pi/4': each as one value
        return np.array(
            [as_float(item, f"{name}[{k}]") for k, item in enumerate(array.tolist())],
            dtype=np.float64,
        )
    from .pointsio import column

    # the checks a .npz member gets: real numbers, 1-D, exact; float64 is read in place
    return column(array, name, copy=False)


def _backend(n: int | None):
    if n is None:
        from . import scalar

        return scalar
    from . import arrays

    return arrays


def _spread(v, n: int | None):
    """A reported number as an array over all points (a batch's scalar results broadcast)."""
    if n is None or v is None:
        return v
    import numpy as np

    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))


def evaluate(expr: str | Graph, bindings: dict | None = None, keep_nodes: bool = True) -> Result:
    """The forward pass only: every node's value (see grad for keep_nodes)."""
    return _compute(
        _as_graph(expr), bindings, None, with_grad=False, trace=False, keep_nodes=keep_nodes
    )


def grad(
    expr: str | Graph,
    bindings: dict | None = None,
    wrt: list[str] | None = None,
    trace: bool = False,
    keep_nodes: bool = True,
) -> Result:
    """Forward pass and backprop: the value and ∂f/∂ every variable (or those in `wrt`).

    With trace=True, `Result.trace` records every backprop step (cgcli/explain.py reads it).
    With many points and keep_nodes=False, the points are computed in chunks of CHUNK:
    faster (each chunk's intermediates stay in the CPU cache) and lighter on memory,
    but only f and the variables' gradients are kept.
    """
    graph = _as_graph(expr)
    wanted = list(graph.variables) if wrt is None else names(wrt)
    for name in wanted:
        if name not in graph.variables:
            raise NotAVariable(f"the expression has no variable {name}", variable=name)
    return _compute(graph, bindings, wanted, with_grad=True, trace=trace, keep_nodes=keep_nodes)


@cycle_collector_paused()
def _compute(graph, bindings, wanted, with_grad, trace, keep_nodes) -> Result:
    env, warnings, n, finite = _environment(graph, bindings)
    backend = _backend(n)
    chunked = False
    if n is not None:
        from . import chunks
        from .memory import check

        chunked = not keep_nodes and not trace and n > chunks.CHUNK

        # the results (f, the gradients), the nodes' values and gradients when they are kept,
        # and a column for each variable when the results are written out
        kept = len(graph.nodes) * (1 + with_grad) if not chunked else 1 + len(wanted or [])
        check(n, 8 * (kept + len(graph.variables)), "the values and gradients")
    if chunked:  # every result is a new array: the caller's own arrays are read in place
        value, gradients = chunks.compute(graph, env, n, wanted, with_grad, warnings, finite)
        values = [None] * len(graph.nodes)
        values[graph.output] = value
        return Result(graph, values, None, gradients, warnings, points=n)
    if n is not None:  # a variable's kept value (or f = x) must not be the caller's own array
        env = {name: v.copy() if hasattr(v, "copy") else v for name, v in env.items()}
    fwd = engine.forward(graph, env, backend, save=with_grad)
    warnings += [w for w in (fwd.warning, fwd.later) if w]
    values = fwd.values
    values[graph.output] = _spread(values[graph.output], n)
    result = Result(graph, values, None, {}, warnings, points=n)
    if with_grad:
        result.trace = [] if trace else None
        bwd = engine.backward(
            graph, values, backend, trace=result.trace, saved=fwd.saved, clean=fwd.clean
        )
        result.grads = bwd.values
        result.gradients = {name: _spread(bwd.values[graph.variables[name]], n) for name in wanted}
        result.warnings += [bwd.warning] if bwd.warning else []
    return result


@dataclass
class Hessian:
    names: list[str]
    matrix: list[list]  # matrix[i][j] = ∂²f/∂names[i]∂names[j]; floats, or arrays for a batch
    value: object  # f at the point(s)
    gradients: dict
    warnings: list[str] = field(default_factory=list)
    points: int | None = None


def hessian(
    expr: str | Graph, bindings: dict | None = None, wrt: list[str] | None = None
) -> Hessian:
    """The matrix of second derivatives at the point(s), for every variable (or those in `wrt`).

    Row i is backprop over the graph of ∂f/∂x_i, the derivative expression cgcli/derive.py builds.
    """
    from .derive import derivative  # imported when asked for: a one-shot cg grad does without

    graph = _as_graph(expr)
    first = grad(graph, bindings, wrt=wrt)
    names, n = list(first.gradients), first.points
    result = Hessian(names, [], first.value, first.gradients, list(first.warnings), n)
    for name in names:
        d = derivative(graph, name)
        row = grad(d, {k: v for k, v in (bindings or {}).items() if k in d.variables})
        result.matrix.append([_spread(row.gradients.get(other, 0.0), n) for other in names])
        shown = elide_middle(d.source.replace("\n", "; "), 60)
        result.warnings += [f"in ∂f/∂{name} = {shown}: {w}" for w in row.warnings]
    return result


class Directional(NamedTuple):
    unit: dict[str, float]  # the direction scaled to length 1
    forward_mode: object  # the derivative along it by forward mode: a float, or an array
    gradient_dot_unit: object  # backprop's gradient · the same unit vector


def directional(
    expr: str | Graph, bindings: dict | None, direction: Mapping[str, float]
) -> Directional:
    """The directional derivative at the point(s), along `direction` (variable name → component,
    a number or constant-expression text; missing ones are 0), scaled to length 1: by forward
    mode (cgcli/forward_mode.py), and as backprop's gradient · the unit vector. The two agree.
    A zero vector is a CgError."""
    from .forward_mode import forward_mode, unit_vector  # imported when asked for, as derive

    graph = _as_graph(expr)
    if not isinstance(direction, Mapping):
        raise CgError(f"a direction maps variable names to numbers, got {type(direction).__name__}")
    unit = unit_vector(graph, {k: as_float(v, f"direction {k}") for k, v in direction.items()})
    env, _, n, _ = _environment(graph, bindings)
    _, along = forward_mode(graph, env, unit, _backend(n))
    gradients = grad(graph, bindings).gradients
    dot = sum((gradients[name] * u for name, u in unit.items() if u != 0), 0.0)
    return Directional(unit, _spread(along, n), _spread(dot, n))
