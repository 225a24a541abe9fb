"""The Python API the command line calls: parse, evaluate, grad.

    >>> from cgcli import grad
    >>> r = grad("(x+y)**2", {"x": 1, "y": 2})
    >>> r.value, r.gradients
    (9.0, {'x': 6.0, 'y': 6.0})

Bindings map a variable's name to a number or to the text of a constant
expression ("pi/4"). Bad input raises CgError; nan and inf do not raise,
they are reported in `warnings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import engine
from .errors import CgError
from .graph import Graph
from .ops import CONSTANTS
from .syntax import parse

__all__ = ["parse", "fuse", "constant", "evaluate", "grad", "Result", "CgError"]


@dataclass
class Result:
    graph: Graph
    values: list  # value of every node, by node id
    grads: list | None  # ∂f/∂node for every node (None where it does not depend on a variable)
    gradients: dict[str, float]  # ∂f/∂variable, for the variables asked for
    warnings: list[str] = field(default_factory=list)
    trace: list | None = None  # backprop's steps, when asked for (see engine.backward)

    @property
    def value(self) -> float:
        return self.values[self.graph.output]


def fuse(expr: str | Graph, gates: list[str] | None = None) -> Graph:
    """The graph with every known subgraph replaced by one gate (all gates, or those named)."""
    from . import fusion

    known = fusion.gate_names()
    for name in gates or []:
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise CgError(f"unknown gate '{name}'{hint}; `cg fusions` lists them")
    return fusion.fuse(_as_graph(expr), gates or None)


def constant(text: str) -> float:
    """The value of a constant expression such as '-2.5', '1e-3' or 'pi/4'."""
    graph = parse(text)
    if graph.variables:
        name, node = next(iter(graph.variables.items()))
        raise CgError(f"{text!r} is not a constant expression: it uses the name {name!r}", text, graph.nodes[node].start)
    return engine.forward(graph, {}).values[graph.output]


def _as_graph(expr: str | Graph) -> Graph:
    return expr if isinstance(expr, Graph) else parse(expr)


def _environment(graph: Graph, bindings) -> tuple[dict[str, float], list[str]]:
    """Check the bindings against the graph's variables: every variable bound, no name unused."""
    env, warnings = {}, list(graph.warnings)
    for name, value in (bindings or {}).items():
        if name in CONSTANTS and name not in graph.variables:
            raise CgError(f"{name} is the constant {CONSTANTS[name]!r}; to use another value write '{name} = …; ' before the expression")
        if name not in graph.variables:
            warnings.append(f"binding {name} is not used by the expression")
            continue
        env[name] = float(constant(value) if isinstance(value, str) else value)
    for name, node in graph.variables.items():
        if name not in env:
            raise CgError(f"no value for the variable {name}: pass --{name} VALUE", graph.source, graph.nodes[node].start)
    return env, warnings


def evaluate(expr: str | Graph, bindings: dict | None = None) -> Result:
    """The forward pass only: every node's value."""
    graph = _as_graph(expr)
    env, warnings = _environment(graph, bindings)
    fwd = engine.forward(graph, env)
    warnings += [fwd.warning] if fwd.warning else []
    return Result(graph, fwd.values, None, {}, warnings)


def grad(expr: str | Graph, bindings: dict | None = None, wrt: list[str] | None = None, trace: bool = False) -> Result:
    """Forward pass and backprop: the value and ∂f/∂ every variable (or those in `wrt`).

    With trace=True, `Result.trace` records every backprop step (cgcli/explain.py reads it).
    """
    graph = _as_graph(expr)
    names = list(graph.variables) if wrt is None else list(wrt)
    for name in names:
        if name not in graph.variables:
            raise CgError(f"--wrt {name}: the expression has no variable {name}")
    result = evaluate(graph, bindings)
    result.trace = [] if trace else None
    bwd = engine.backward(graph, result.values, trace=result.trace)
    result.grads = bwd.values
    result.gradients = {name: bwd.values[graph.variables[name]] for name in names}
    result.warnings += [bwd.warning] if bwd.warning else []
    return result
