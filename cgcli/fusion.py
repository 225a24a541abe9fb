"""--fuse: replace known subgraphs by one gate with a hand-written local gradient.

Small gates need no derivative written by hand but do more work, and an
intermediate such as exp(1000) can overflow; one big gate (a sigmoid) is
computed in one step, its local gradient written by hand in cgcli/ops.py.

Each gate's shapes are data, written in cg's own language. In a shape, the
gate's argument names (z, a, b, t) stand for any subexpression; + and *
match in either order; a negation -z also matches 0-z, -1*z and (-1)*z;
^ is **. Shapes may use other gates (tanh's 2*sigmoid(2*z)-1): gates are
fused inputs first, so the inner sigmoid is already one gate when the
outer shape is tried. Adding a gate is adding one entry here and its op in
cgcli/ops.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph, GraphBuilder

# gate             shapes it replaces
GATES = {
    "sigmoid(z)": ("1/(1+exp(-z))", "exp(z)/(1+exp(z))", "(1+exp(-z))**-1"),
    "tanh(z)": ("(exp(z)-exp(-z))/(exp(z)+exp(-z))", "2*sigmoid(2*z)-1"),
    "softplus(z)": ("log(1+exp(z))",),
    "logaddexp(a, b)": ("log(exp(a)+exp(b))",),
    "hypot(a, b)": ("sqrt(a**2+b**2)", "sqrt(a*a+b*b)"),
    "logsigmoid(z)": ("log(sigmoid(z))", "-softplus(-z)"),
    "bce(z, t)": (
        "-(t*logsigmoid(z) + (1-t)*log(1-sigmoid(z)))",
        "-t*logsigmoid(z) - (1-t)*log(1-sigmoid(z))",
    ),
}

_COMMUTATIVE = {"add", "mul"}
_NEGATIONS = (
    "neg",
    "sub",
    "mul",
)  # the ops that may spell -z: -z, 0-z, -1*z (negated() reads them)


@dataclass
class Shape:
    gate: str  # the op it becomes
    args: tuple[str, ...]  # the gate's argument names, in order
    text: str
    graph: Graph


_shapes: list[Shape] | None = None


def gate_names() -> list[str]:
    return [call.split("(")[0] for call in GATES]


def shapes() -> list[Shape]:
    """Every shape, parsed once into a small pattern graph."""
    global _shapes
    if _shapes is None:
        from .syntax import parse

        _shapes = []
        for call, texts in GATES.items():
            gate, _, rest = call.partition("(")
            args = tuple(a.strip() for a in rest.rstrip(")").split(","))
            _shapes += [Shape(gate, args, text, parse(text)) for text in texts]
    return _shapes


def fuse(graph: Graph, only: list[str] | None = None) -> Graph:
    """A new graph in which every match of a known shape is one gate."""
    by_root: dict[str, list[Shape]] = {}  # the shapes a gate may be the root of, by the gate's op
    for shape in shapes():
        if only is None or shape.gate in only:
            root = shape.graph.op[shape.graph.output]
            for op in _NEGATIONS if root == "neg" else (root,):
                by_root.setdefault(op, []).append(shape)
    build = GraphBuilder(graph.source)
    new_id: list[int] = []
    for node, op in enumerate(graph.op):  # the columns: graph.nodes would make a view per node
        start, end = graph.start[node], graph.end[node]
        if op == "var":
            i = build.var(graph.name[node], start, end)
        elif op == "const":
            i = build.const(graph.value[node], start, end)
        else:
            i = build.apply(op, tuple(new_id[j] for j in graph.inputs[node]), start, end)
            for shape in by_root.get(op, ()):
                found = _match(shape, build.graph, i)
                if found is not None:
                    binding, replaced = found
                    i = build.apply(shape.gate, tuple(binding[a] for a in shape.args), start, end)
                    build.graph.fused[i] = (shape.text, len(replaced))
                    break
        if op != "var" and node in graph.name:
            build.label(i, graph.name[node])
        new_id.append(i)
    fused = build.finish(new_id[graph.output])
    fused.warnings = list(graph.warnings)
    return fused


def _match(shape: Shape, graph: Graph, root: int):
    """(binding of the shape's names to node ids, ids of the nodes the shape covers) or None.

    Recursion here follows the shape, a handful of nodes deep; never the user's expression.
    """
    pattern = shape.graph
    ops, inputs, values = graph.op, graph.inputs, graph.value

    def is_const(i, value=None):
        return ops[i] == "const" and (value is None or values[i] == value)

    def minus_one(i):
        return is_const(i, -1) or (ops[i] == "neg" and is_const(inputs[i][0], 1))

    def negated(i):
        """The x such that node i computes -x, in any of its spellings."""
        if ops[i] == "neg":
            return [inputs[i][0]]
        if ops[i] == "sub" and is_const(inputs[i][0], 0):
            return [inputs[i][1]]
        if ops[i] == "mul":
            a, b = inputs[i]
            return [b] * minus_one(a) + [a] * minus_one(b)
        return []

    def match(p, g, binding, covered):
        op = pattern.op[p]
        if op == "var":
            if binding.setdefault(pattern.name[p], g) != g:
                return None
            return binding, covered
        if op == "const":
            return (binding, covered | {g}) if is_const(g, pattern.value[p]) else None
        if op == "neg" and pattern.op[pattern.inputs[p][0]] != "const":
            for inner in negated(g):
                found = match(
                    pattern.inputs[p][0],
                    inner,
                    dict(binding),
                    covered | {g} | _spelling(graph, g, inner),
                )
                if found:
                    return found
            return None
        if ops[g] != op:
            return None
        orders = [inputs[g]]
        if op in _COMMUTATIVE and inputs[g][0] != inputs[g][1]:
            orders.append(inputs[g][::-1])
        for order in orders:
            found = binding, covered | {g}
            for pi, gi in zip(pattern.inputs[p], order):
                found = match(pi, gi, dict(found[0]), found[1])
                if found is None:
                    break
            if found:
                return found
        return None

    result = match(pattern.output, root, {}, frozenset())
    if result is None:
        return None
    binding, covered = result
    return binding, covered - set(binding.values())


def _spelling(graph: Graph, g: int, inner: int) -> set[int]:
    """The nodes a negation's spelling uses besides its operand (the 0 of 0-z, the -1 of -1*z)."""
    others = [i for i in graph.inputs[g] if i != inner]
    return {*others, *(j for i in others for j in graph.inputs[i])}
