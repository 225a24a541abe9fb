"""Derivatives as expressions: backprop that builds a graph instead of numbers.

Numeric backprop (cgcli/engine.py) walks the gates in reverse and, at each
gate, multiplies the upstream gradient by the gate's local gradient, a
formula of cgcli/ops.py over the gate's inputs `x`, `y` and its output `out`.
Here the same walk builds *nodes* instead: the upstream gradient is a node,
the local gradient's formula is instantiated as nodes over the gate's own
input and output nodes, and their product is one more node; contributions
that meet at a fork are added with an add node. The result is a graph that
computes ∂f/∂x:

* evaluate it and you have the gradient (`cg eval "$(cg diff …)"`);
* print it (`to_text`) and you have the derivative as a formula in cg's
  own language, which parses back to the same graph;
* differentiate it again and you have second derivatives (`--order 2`,
  Hessians: backprop over the derivative's graph gives a row of the Hessian).

Tidying happens as the nodes are made, never by walking an expression: the
`Tidy` builder's constructors fold constants and look at the *decomposition*
of their inputs, kept per node: a product is a coefficient times factors
`base**exponent`, a sum is a constant plus terms `coefficient * factors`.
Combining two decompositions merges repeated factors (x*x → x**2) and like
terms (x**2 + 2*x**2 → 3*x**2), drops 1s and 0s, cancels double negations,
and the node is rebuilt from the result. A decomposition holds at most
`PARTS` entries, so each constructor does a bounded amount of work however
large the expression: a longer sum or product is kept as one opaque part.

Forward mode (`directional`) is the other way round: one forward pass that
carries, with each node's value, its tangent along a direction, the sum over
the inputs of local gradient × the input's tangent. No backprop, no graph.

Nothing here recurses over the expression: the derivative loops over the
nodes in reverse order, the printer uses an explicit stack.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from . import engine, scalar
from .errors import CgError
from .graph import Graph, GraphBuilder
from .ops import CONSTANTS, INPUT_NAMES

PARTS = 8  # most terms of a sum, or factors of a product, that the tidier combines

# A product: coefficient and factors ((base node, exponent), ...), in order.
# A sum: constant, terms ((coefficient, factors), ...), and whether the constant is written first.
Factors = tuple[tuple[int, float], ...]


def _integer(e: float) -> bool:
    return math.isfinite(e) and e == int(e) and abs(e) <= 2**31


def _key(factors: Factors) -> tuple:
    """Factors compared as a multiset: x*y and y*x are like terms."""
    return tuple(sorted(factors))


def _merge_factors(fa: Factors, fb: Factors) -> Factors:
    """The factors of a product of two products: integer powers of the same base add up."""
    out = list(fa)
    for base, e in fb:
        for k, (other, e2) in enumerate(out):
            if other == base and _integer(e) and _integer(e2):
                out[k] = (base, e + e2)
                break
        else:
            out.append((base, e))
    return tuple((base, e) for base, e in out if e != 0)


# ---------------------------------------------------------------------------
# The tidying builder


class Tidy:
    """A GraphBuilder whose constructors simplify as they build.

    Identical subexpressions are one node (GraphBuilder's hash-consing), so a
    base or a term is recognised again by its node id.
    """

    def __init__(self) -> None:
        self.build = GraphBuilder("")
        self._prod: dict[int, tuple[float, Factors]] = {}
        self._sum: dict[int, tuple[float, tuple, bool]] = {}
        self._ops = {
            "add": self.add,
            "sub": self.sub,
            "mul": self.mul,
            "div": self.div,
            "neg": self.neg,
            "pow": self.pow,
        }

    # leaves and plain nodes

    def var(self, name: str) -> int:
        return self.build.var(name, 0, 0)

    def const(self, value: float) -> int:
        return self.build.const(float(value), 0, 0)

    def _raw(self, op: str, *inputs: int) -> int:
        return self.build.apply(op, inputs, 0, 0)

    def value(self, i: int) -> float | None:
        """The node's value when it is a constant."""
        return self.build.graph.value.get(i)  # only constants have one

    def apply(self, op: str, inputs: tuple[int, ...]) -> int:
        """The node for op(inputs), constants folded and the result tidied."""
        values = [self.value(i) for i in inputs]
        if None not in values:
            folded = getattr(scalar, op)(*values)
            # nan and inf have no literal: keep the expression
            return self.const(folded) if math.isfinite(folded) else self._raw(op, *inputs)
        tidy = self._ops.get(op)
        return tidy(*inputs) if tidy else self._raw(op, *inputs)

    def finish(self, output: int) -> Graph:
        return self.build.finish(output)

    # decompositions

    def product_of(self, i: int) -> tuple[float, Factors]:
        v = self.value(i)
        if v is not None:
            return v, ()
        return self._prod.get(i) or (1.0, ((i, 1.0),))

    def sum_of(self, i: int) -> tuple[float, tuple, bool]:
        v = self.value(i)
        if v is not None:
            return v, (), True
        found = self._sum.get(i)
        if found is not None:
            return found
        return 0.0, (self.product_of(i),), False

    # products

    def mul(self, a: int, b: int) -> int:
        (ca, fa), (cb, fb) = self._bounded(a, b)
        return self._product(ca * cb, _merge_factors(fa, fb), fallback=("mul", a, b))

    def div(self, a: int, b: int) -> int:
        (ca, fa), (cb, fb) = self._bounded(a, b)
        if cb == 0:
            return self._raw("div", a, b)
        inverse = tuple((base, -e) for base, e in fb)
        return self._product(ca / cb, _merge_factors(fa, inverse), fallback=("div", a, b))

    def neg(self, a: int) -> int:
        if a in self._sum:  # -(x - 1) is 1 - x
            const, terms, first = self._sum[a]
            return self._sum_node(-const, tuple((-c, f) for c, f in terms), first)
        c, f = self.product_of(a)
        return self._product(-c, f)

    def pow(self, a: int, b: int) -> int:
        k = self.value(b)
        if self.value(a) == 1:
            return self.const(1.0)  # 1**y is 1, also for y nan
        if k is None:
            return self._raw("pow", a, b)
        if k == 0:
            return self.const(1.0)
        ca, fa = self.product_of(a)
        if _integer(k) and all(_integer(e) for _, e in fa):  # (2*x)**2 is 4*x**2
            coef = scalar.pow(ca, k)
            if math.isfinite(coef):
                return self._product(coef, tuple((base, e * k) for base, e in fa))
        return self._product(1.0, ((a, k),))

    def _bounded(self, a: int, b: int):
        """The two products' decompositions, the longer kept whole when together they are too long."""
        pa, pb = self.product_of(a), self.product_of(b)
        if len(pa[1]) + len(pb[1]) > PARTS:
            if len(pa[1]) >= len(pb[1]):
                pa = (1.0, ((a, 1.0),))
            else:
                pb = (1.0, ((b, 1.0),))
            if len(pa[1]) + len(pb[1]) > PARTS:
                pa, pb = (1.0, ((a, 1.0),)), (1.0, ((b, 1.0),))
        return pa, pb

    def _product(self, coef: float, factors: Factors, fallback=None) -> int:
        """The node for coef * factors: coefficient first, negative powers below a fraction bar."""
        if not math.isfinite(coef):
            op, a, b = fallback
            return self._raw(op, a, b)
        if coef == 0 or not factors:
            return self.const(coef if factors == () else 0.0)  # 0*x is 0
        factors = tuple(
            sorted(factors, key=lambda f: f[0])
        )  # in the order the nodes were made: x*y, y*cos(x)
        up = [self._power(base, e) for base, e in factors if e > 0]
        down = [self._power(base, -e) for base, e in factors if e < 0]
        size = abs(coef)
        if size != 1 or not up:
            up.insert(0, self.const(size))
        node = self._chain("mul", up)
        if down:
            node = self._raw("div", node, self._chain("mul", down))
        if coef < 0:
            node = self._raw("neg", node)
        if node != factors[0][0]:  # not a bare factor
            self._prod.setdefault(node, (coef, factors))
        return node

    def _power(self, base: int, e: float) -> int:
        return base if e == 1 else self._raw("pow", base, self.const(e))

    def _chain(self, op: str, items: list[int]) -> int:
        node = items[0]
        for item in items[1:]:
            node = self._raw(op, node, item)
        return node

    # sums

    def add(self, a: int, b: int) -> int:
        return self._combine(a, b, 1.0)

    def sub(self, a: int, b: int) -> int:
        return self._combine(a, b, -1.0)

    def _combine(self, a: int, b: int, sign: float) -> int:
        (ca, ta, first), (cb, tb, _) = self.sum_of(a), self.sum_of(b)
        if len(ta) + len(tb) > PARTS:  # keep the longer side whole
            if len(ta) >= len(tb):
                ca, ta = 0.0, ((1.0, ((a, 1.0),)),)
                first = False
            else:
                cb, tb = 0.0, ((1.0, ((b, 1.0),)),)
            if len(ta) + len(tb) > PARTS:
                ca, ta, cb, tb = 0.0, ((1.0, ((a, 1.0),)),), 0.0, ((1.0, ((b, 1.0),)),)
        const = ca + sign * cb
        if not math.isfinite(const):
            return self._raw("add" if sign > 0 else "sub", a, b)
        terms = list(ta)
        keys = [_key(f) for _, f in terms]
        merged = False
        for c, f in tb:
            key = _key(f)
            if key in keys:  # like terms: add the coefficients
                k = keys.index(key)
                terms[k] = (terms[k][0] + sign * c, terms[k][1])
                merged = True
            else:
                terms.append((sign * c, f))
                keys.append(key)
        if not all(math.isfinite(c) for c, _ in terms):
            return self._raw("add" if sign > 0 else "sub", a, b)
        if (
            not merged
            and cb == 0
            and len(tb) == 1
            and (a in self._sum or (ca == 0 and len(ta) == 1 and ta[0][0] > 0))
        ):
            # one new term after a sum already in order: one node, nothing to rebuild
            c, f = terms[-1]
            node = self._raw("add" if c > 0 else "sub", a, self._product(abs(c), f))
            self._sum.setdefault(node, (const, tuple(terms), first))
            return node
        first = first or (not ta and ca > 0)  # a constant written first stays first: 1 - x**2
        return self._sum_node(const, tuple((c, f) for c, f in terms if c != 0), first)

    def _sum_node(self, const: float, terms: tuple, const_first: bool) -> int:
        """The node for const + terms: a positive part first, then + and - the others."""
        if not terms:
            return self.const(const)
        if len(terms) == 1 and const == 0:
            return self._product(*terms[0])
        total, rest = const, list(terms)
        if const_first and const > 0:
            node, const = self.const(const), 0.0
        else:
            lead = next((k for k, (c, _) in enumerate(rest) if c > 0), None)
            if lead is None and const > 0:
                node, const = self.const(const), 0.0
            else:
                node = self._product(*rest.pop(lead or 0))
        for c, f in rest:
            node = self._raw("add" if c > 0 else "sub", node, self._product(abs(c), f))
        if const:
            node = self._raw("add" if const > 0 else "sub", node, self.const(abs(const)))
        self._sum.setdefault(node, (total, terms, const_first))
        return node


# ---------------------------------------------------------------------------
# Symbolic backprop


def derivative_graph(graph: Graph, wrt: str) -> Graph:
    """∂f/∂wrt as a new, tidied graph (spans empty: print it with to_text)."""
    tidy = Tidy()
    new = _rebuild(graph, tidy)
    nodes = graph.nodes
    depends = [False] * len(nodes)  # on wrt
    for node in nodes:
        depends[node.id] = (
            node.name == wrt if node.op == "var" else any(depends[i] for i in node.inputs)
        )
    # contributions to each node, summed once all have arrived (in the order of the
    # expression, which reads better than the order backprop delivers them)
    contributions: dict[int, list[int]] = {graph.output: [tidy.const(1.0)]}
    for node in reversed(nodes):
        if not node.inputs:
            continue
        upstream = _total(tidy, contributions.pop(node.id, None))
        if upstream is None:
            continue
        formulas = engine.local_gradients(node.op, symbolic=True)
        at = {name: new[i] for name, i in zip(INPUT_NAMES, node.inputs)} | {"out": new[node.id]}
        for i, formula in zip(node.inputs, formulas):
            if depends[i]:
                local = instantiate(formula.graph, at, tidy)
                contributions.setdefault(i, []).append(tidy.mul(upstream, local))
    var = graph.variables.get(wrt)
    result = _total(tidy, contributions.get(var)) if var is not None else None
    return tidy.finish(tidy.const(0.0) if result is None else result)


def _total(tidy: Tidy, parts: list[int] | None) -> int | None:
    if not parts:
        return None
    total = parts[-1]
    for part in reversed(parts[:-1]):
        total = tidy.add(total, part)
    return total


def _rebuild(graph: Graph, tidy: Tidy) -> list[int]:
    """Every node of `graph` made again with the tidying builder; new id by old id."""
    new: list[int] = []
    for node in graph.nodes:
        if node.op == "var":
            new.append(tidy.var(node.name))
        elif node.op == "const":
            new.append(tidy.const(node.value))
        else:
            new.append(tidy.apply(node.op, tuple(new[i] for i in node.inputs)))
    return new


def instantiate(formula: Graph, at: dict[str, int], tidy: Tidy) -> int:
    """A local-gradient formula built as nodes, its x, y and out standing for the nodes in `at`."""
    new: list[int] = []
    for node in formula.nodes:
        if node.op == "var":
            new.append(at[node.name])
        elif node.op == "const":
            new.append(tidy.const(node.value))
        else:
            new.append(tidy.apply(node.op, tuple(new[i] for i in node.inputs)))
    return new[formula.output]


def derivative(graph: Graph, wrt: str, order: int = 1) -> Graph:
    """∂ⁿf/∂wrtⁿ as a parsed program: its `source` is the formula, its nodes have spans in it.

    Each step prints the derivative and parses the text again, so what --order 2
    differentiates is exactly what `cg diff` prints (and what a pipe would pass on).
    """
    from .orders import OrderBound
    from .syntax import parse

    bound = OrderBound(order)  # stops at a derivative that is 0, refuses one that grows too big
    avoid = set(graph.variables)
    for reached in range(1, order + 1):
        graph = parse(to_text(derivative_graph(graph, wrt), avoid))
        if bound.done(graph, reached):
            break
    return graph


# ---------------------------------------------------------------------------
# Printing a graph as a program

SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5
_INFIX = {"add": (" + ", SUM), "sub": (" - ", SUM), "mul": ("*", PRODUCT), "div": ("/", PRODUCT)}
_NAMED_CONSTANTS = {v: k for k, v in CONSTANTS.items()}


def to_text(graph: Graph, avoid=()) -> str:
    """The graph as a cg program that parses back to the same values.

    A node used more than once becomes a statement `t1 = …` printed before
    the final expression, unless it is small (a leaf, or one op over leaves).
    Parentheses only where cg's grammar needs them. `avoid`: names the
    statements must not take (the variables are always avoided).
    """
    nodes = graph.nodes
    uses = [0] * len(nodes)
    for node in nodes:
        for i in node.inputs:
            uses[i] += 1
    taken = set(avoid) | set(graph.variables)
    names = (n for n in (f"t{k}" for k in itertools.count(1)) if n not in taken)
    named: dict[int, str] = {}
    for node in nodes:
        if node.id != graph.output and uses[node.id] > 1 and not _small(graph, node):
            named[node.id] = next(names)
    lines = [f"{name} = {_expression(graph, i, named)}" for i, name in named.items()]
    lines.append(_expression(graph, graph.output, named))
    return "\n".join(lines)


def _small(graph: Graph, node) -> bool:
    return all(graph.nodes[i].op in ("var", "const") for i in node.inputs)


def _expression(graph: Graph, root: int, named: dict[int, str]) -> str:
    """One expression, with the named nodes (other than root) by their names. An explicit stack."""
    out: list[str] = []
    stack: list = [(root, 0)]
    while stack:
        item, need = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item != root and item in named:
            out.append(named[item])
            continue
        prec, parts = _layout(graph, graph.nodes[item], named)
        if prec < need:
            parts = ["(", *parts, ")"]
        stack.extend((p, 0) if isinstance(p, str) else p for p in reversed(parts))
    return "".join(out)


def _layout(graph: Graph, node, named) -> tuple[int, list]:
    """A node's precedence and its parts: text, or (input id, precedence it needs there)."""
    op, inputs = node.op, node.inputs
    if op == "var":
        return ATOM, [node.name]
    if op == "const":
        return _constant(node.value)
    if op in _INFIX:
        symbol, prec = _INFIX[op]
        return prec, [(inputs[0], prec), symbol, (inputs[1], prec + 1)]
    if op == "neg":
        child = inputs[0]
        if graph.nodes[child].op in ("mul", "div") and child not in named:
            # -(a*b) is (-a)*b to the last bit: write it without parentheses
            return PRODUCT, ["-", (child, PRODUCT)]
        return UNARY, ["-", (child, UNARY)]
    if op == "pow":
        return POWER, [(inputs[0], ATOM), "**", (inputs[1], UNARY)]
    parts: list = [op, "("]
    for k, i in enumerate(inputs):
        parts += [", "] * (k > 0) + [(i, 0)]
    return ATOM, parts + [")"]


def _constant(v: float) -> tuple[int, list]:
    if v != v:
        return ATOM, ["(1e999 - 1e999)"]  # nan has no literal
    if v in _NAMED_CONSTANTS:
        return ATOM, [_NAMED_CONSTANTS[v]]
    text = "1e999" if abs(v) == math.inf else engine.fmt(abs(v))
    if math.copysign(1.0, v) < 0:
        return UNARY, ["-" + text]
    return ATOM, [text]


# ---------------------------------------------------------------------------
# Hessians


@dataclass
class Hessian:
    names: list[str]
    matrix: list[list]  # matrix[i][j] = ∂²f/∂names[i]∂names[j]; floats, or arrays for a batch
    value: object  # f at the point(s)
    gradients: dict
    warnings: list[str] = field(default_factory=list)
    points: int | None = None


def hessian_at(graph: Graph, bindings, wrt: list[str] | None = None) -> Hessian:
    """The Hessian at the point(s): row i is backprop over the graph of ∂f/∂x_i."""
    from . import api

    base = api.grad(graph, bindings, wrt=wrt)
    names, n = list(base.gradients), base.points
    env = dict(bindings or {})
    result = Hessian(names, [], base.value, base.gradients, list(base.warnings), n)
    for name in names:
        d = derivative(graph, name)
        row = api.grad(d, {k: v for k, v in env.items() if k in d.variables})
        result.matrix.append([_spread(row.gradients.get(other, 0.0), n) for other in names])
        result.warnings += [f"in ∂f/∂{name} = {_short(d.source)}: {w}" for w in row.warnings]
    return result


def hessian(graph: Graph, env, wrt: list[str] | None = None) -> tuple[list[str], list[list]]:
    """(variable names, matrix of second derivatives) at the point(s) of `env`."""
    h = hessian_at(graph, env, wrt)
    return h.names, h.matrix


def _spread(v, n):
    if n is None:
        return float(v)
    import numpy as np

    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))


def _short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "; ")
    return text if len(text) <= limit else text[: limit // 2] + " … " + text[-(limit // 2) :]


# ---------------------------------------------------------------------------
# Directional derivatives, in forward mode


def parse_direction(text: str) -> dict[str, float]:
    """`x=1,y=0` → {'x': 1.0, 'y': 0.0}; each component a constant expression (`x=1/sqrt(2)`)."""
    from .api import constant_within, split_outside_parentheses

    direction: dict[str, float] = {}
    for item, at in split_outside_parentheses(text, ","):  # x=atan2(1,2),y=1
        spelled, eq, value = item.partition("=")
        name = spelled.strip()
        if not eq or not name:
            raise CgError(f"--dir takes NAME=VALUE,…, got {text!r}")
        if name in direction:
            raise CgError(f"--dir: {name} is given twice")
        direction[name] = constant_within(
            text, value, at + len(spelled) + 1, what=f"--dir {name}: "
        )
    return direction


def unit_vector(graph: Graph, direction: dict[str, float]) -> dict[str, float]:
    """The direction scaled to length 1; variables it leaves out have component 0."""
    for name in direction:
        if name not in graph.variables:
            raise CgError(f"--dir {name}: the expression has no variable {name}")
    from .api import number

    values = [number(v, f"--dir {name}") for name, v in direction.items()]
    if not all(math.isfinite(v) for v in values):
        raise CgError("--dir: every component of the direction must be finite")
    length = math.hypot(*values)
    if length == 0:
        raise CgError(
            "--dir: the direction is the zero vector; give at least one component that is not 0"
        )
    return {name: v / length for name, v in zip(direction, values)}


def forward_mode(graph: Graph, env: dict, tangents: dict[str, float], backend=scalar):
    """One forward pass carrying (value, tangent) per node; returns f and its tangent.

    The tangent of a gate is the sum over its inputs of local gradient × the
    input's tangent; nodes that do not depend on a moving variable carry none.
    """
    nodes = graph.nodes
    values: list = [None] * len(nodes)
    carried: list = [None] * len(nodes)
    with backend.watching():  # numpy's floating-point events go to cg, not to stderr
        _carry(graph, env, tangents, backend, values, carried)
    t = carried[graph.output]
    return values[graph.output], 0.0 if t is None else t


def _carry(
    graph: Graph, env: dict, tangents: dict[str, float], backend, values: list, carried: list
) -> None:
    for node in graph.nodes:
        if node.op == "var":
            values[node.id] = env[node.name]
            t = tangents.get(node.name, 0.0)
            carried[node.id] = t if t != 0 else None
            continue
        if node.op == "const":
            values[node.id] = node.value
            continue
        args = [values[i] for i in node.inputs]
        out = values[node.id] = getattr(backend, node.op)(*args)
        total = None
        for i, local in zip(node.inputs, engine.local_gradients(node.op)):
            t = carried[i]
            if t is None:
                continue
            term = backend.mul(local(args, out, backend), t)
            total = term if total is None else backend.add(total, term)
        carried[node.id] = total


def directional(graph: Graph, env, direction: dict[str, float]):
    """(forward-mode derivative along the unit direction, gradient · the same unit vector).

    `env` binds every variable (numbers, constant-expression text, or arrays for a
    batch); `direction` maps variable names to components (missing ones are 0) and
    is scaled to length 1; a zero vector is a CgError. The gradient comes from
    backprop, the first number from one forward pass: the two must agree.
    """
    from . import api

    unit = unit_vector(graph, direction)
    checked, _, n = api._environment(graph, env)
    _, along = forward_mode(graph, checked, unit, api._backend(n))
    gradients = api.grad(graph, env).gradients
    dot = 0.0
    for name, u in unit.items():
        if u != 0:
            dot = dot + gradients[name] * u
    return _spread(along, n), _spread(dot, n)
