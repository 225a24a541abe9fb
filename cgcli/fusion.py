"""--fuse: replace known subgraphs by one gate with a hand-written local gradient.

Small gates need no derivative written by hand but do more work, and an
intermediate such as exp(1000) can overflow; one big gate (a sigmoid) is
computed in one step, its local gradient written by hand in cgcli/ops.py.

Each gate's shapes are data, written in cg's own language. In a shape, the
gate's argument names (z, a, b, t) stand for any subexpression; + and *
match in either order; a negation -z also matches 0-z, -1*z and (-1)*z;
^ is **. Shapes may use other gates (tanh's 2*sigmoid(2*z)-1): gates are
fused inputs first, so the inner sigmoid is already one gate when the
outer shape is tried. What a shape becomes is an expression too: mostly one
op over the argument names (sigmoid(z)), sometimes a few (sigmoid(-z), or
2*log(abs(s)) for log(s**2)); it is built with the matched subexpressions
in place of the names. Adding a gate is adding one entry here and, for a new
op, its row in cgcli/ops.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph, GraphBuilder

# what a match becomes    the shapes it replaces, tried in this order (the first match wins)
GATES = {
    "sigmoid(z)": ("1/(1+exp(-z))", "exp(z)/(1+exp(z))", "(1+exp(-z))**-1"),
    # 1 - sigmoid(30) has lost all but 3 digits of sigmoid(-30)
    "sigmoid(-z)": ("1/(1+exp(z))", "1-sigmoid(z)"),
    "x*sigmoid(x)": ("x/(1+exp(-x))",),  # swish (SiLU): exp(750) is inf where x*sigmoid(x) is 0
    "tanh(z)": (
        "(exp(z)-exp(-z))/(exp(z)+exp(-z))",
        "2*sigmoid(2*z)-1",
        "2/(1+exp(-2*z))-1",
    ),
    "softplus(z)": ("log(1+exp(z))",),
    "logaddexp(a, b)": ("log(exp(a)+exp(b))",),
    "hypot(a, b)": ("sqrt(a**2+b**2)", "sqrt(a*a+b*b)"),
    "hypot(x, 1)": ("sqrt(x**2+1)", "sqrt(x*x+1)"),
    "asinh(x)": ("log(x+hypot(x, 1))",),
    "logsigmoid(z)": ("log(sigmoid(z))", "-softplus(-z)"),
    # log(1 - sigmoid(z)) is log(sigmoid(-z)) once its inner shape is fused
    "bce(z, t)": (
        "-(t*logsigmoid(z) + (1-t)*logsigmoid(-z))",
        "-t*logsigmoid(z) - (1-t)*logsigmoid(-z)",
        "t*(-logsigmoid(z)) + (1-t)*(-logsigmoid(-z))",
        "softplus(z) - z*t",
    ),
    # after softplus, which is log(1+exp(z)) with a better gradient
    "log1p(x)": ("log(1+x)",),
    "expm1(x)": ("exp(x)-1",),
    # after sigmoid, whose (1+exp(-z))**-1 is this shape too; 1+x rounds away x's last digits
    "pow1p(x, n)": ("(1+x)**n",),
    "2*log(abs(s))": ("log(s**2)", "log(s*s)"),  # s**2 overflows past 1e154
    "2*sin(x/2)**2": ("1-cos(x)",),  # cancels near x = 0
    "x/(sqrt(1+x)+1)": ("sqrt(1+x)-1",),  # cancels near x = 0
}
# the name `--fuse NAME` knows a gate by where it is not the op it becomes
NAMES = {
    "x*sigmoid(x)": "swish",
    "2*log(abs(s))": "logsquare",
    "2*sin(x/2)**2": "versine",
    "x/(sqrt(1+x)+1)": "sqrt1pm1",
}

# Gates of any number of inputs: a sum of any length is no fixed shape, so these are found by
# code (_variadic) after the shapes, and listed here for `cg fusions`.
VARIADIC_GATES = {
    "logsumexp(a, b, ...)": (
        "log(exp(a)+exp(b)+...)",  # three terms or more; two are logaddexp
        "logaddexp(logaddexp(a, b), c)",  # nested, in any arrangement, with logsumexp too
    ),
    "softmax(a, b, ...)": ("exp(a)/(exp(a)+exp(b)+...)",),
    "logsoftmax(a, b, ...)": ("a - logsumexp(a, b, ...)", "a - logaddexp(a, b)"),
}
# the shapes' texts, in the order _variadic names them
VARIADIC_GATES_SHAPES = [text for texts in VARIADIC_GATES.values() for text in texts]
_LOG_SUMS = ("logaddexp", "logsumexp")

_COMMUTATIVE = {"add", "mul"}
_NEGATIONS = (
    "neg",
    "sub",
    "mul",
)  # the ops that may spell -z: -z, 0-z, -1*z (negated() reads them)


@dataclass
class Shape:
    gate: str  # the name of the gate it becomes (gate_name)
    becomes: Graph  # what it becomes, over the shape's names
    text: str
    graph: Graph


_shapes: list[Shape] | None = None


def gate_name(becomes: str) -> str:
    """sigmoid for sigmoid(z) and sigmoid(-z); swish for x*sigmoid(x)."""
    return NAMES.get(becomes) or becomes.split("(")[0]


def gate_names() -> list[str]:
    every = [gate_name(becomes) for becomes in GATES] + [g.split("(")[0] for g in VARIADIC_GATES]
    return list(dict.fromkeys(every))


def gate_op(becomes: str) -> str | None:
    """The op a gate is, where it is one op over its names (sigmoid(z)); else None."""
    name = becomes.split("(")[0]
    return None if becomes in NAMES else name


def shapes() -> list[Shape]:
    """Every shape, parsed once into a small pattern graph."""
    global _shapes
    if _shapes is None:
        from .syntax import parse

        _shapes = []
        for becomes, texts in GATES.items():
            built = parse(becomes)
            _shapes += [Shape(gate_name(becomes), built, text, parse(text)) for text in texts]
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
                    i = _instantiate(shape.becomes, binding, build, start, end)
                    build.graph.fused[i] = (shape.text, len(replaced))
                    break
            else:
                found = _variadic(build.graph, i, only)
                if found is not None:
                    gate, inputs, text, replaced = found
                    i = build.apply(gate, inputs, start, end)
                    build.graph.fused[i] = (text, replaced)
        if op != "var" and node in graph.name:
            build.label(i, graph.name[node])
        new_id.append(i)
    fused = build.finish(new_id[graph.output])
    fused.warnings = list(graph.warnings)
    return fused


def _variadic(graph: Graph, root: int, only: list[str] | None):
    """(gate, its inputs, the shape's text, how many nodes it covers) for a variadic gate at
    root, or None: log of a sum of three or more exps, nested logaddexp and logsumexp
    (flattened), exp(a) over a sum of exps that holds it, a minus the log-sum-exp of terms
    that hold it. The walks go through sums and nested gates only (iterative, bounded by the
    graph)."""
    ops, inputs = graph.op, graph.inputs
    wanted = lambda gate: only is None or gate in only  # noqa: E731
    op = ops[root]
    if op == "log" and wanted("logsumexp"):
        terms, covered = _sum_terms(graph, inputs[root][0])
        if len(terms) >= 3 and all(ops[t] == "exp" for t in terms):
            exps = tuple(inputs[t][0] for t in terms)
            return "logsumexp", exps, VARIADIC_GATES_SHAPES[0], covered + len(terms) + 1
    if op in _LOG_SUMS and wanted("logsumexp"):
        flat, covered, stack = [], 1, list(reversed(inputs[root]))
        while stack:
            i = stack.pop()
            if ops[i] in _LOG_SUMS:
                stack.extend(reversed(inputs[i]))
                covered += 1
            else:
                flat.append(i)
        if covered > 1:
            return "logsumexp", tuple(flat), VARIADIC_GATES_SHAPES[1], covered
    if op == "div" and wanted("softmax"):
        top, bottom = inputs[root]
        terms, covered = _sum_terms(graph, bottom)
        if ops[top] == "exp" and len(terms) >= 2 and top in terms:
            if all(ops[t] == "exp" for t in terms):
                others = list(terms)
                others.remove(top)
                exps = (inputs[top][0], *(inputs[t][0] for t in others))
                return "softmax", exps, VARIADIC_GATES_SHAPES[2], covered + len(terms) + 1
    if op == "sub" and wanted("logsoftmax"):
        a, total = inputs[root]
        if ops[total] in _LOG_SUMS and a in inputs[total]:
            others = list(inputs[total])
            others.remove(a)
            text = VARIADIC_GATES_SHAPES[3 if ops[total] == "logsumexp" else 4]
            return "logsoftmax", (a, *others), text, 2
    return None


def _sum_terms(graph: Graph, top: int) -> tuple[list[int], int]:
    """The terms of a sum written with + (in order), and how many + nodes hold them."""
    terms, adds, stack = [], 0, [top]
    while stack:
        i = stack.pop()
        if graph.op[i] == "add":
            stack.extend(reversed(graph.inputs[i]))
            adds += 1
        else:
            terms.append(i)
    return terms, adds


def _instantiate(becomes: Graph, binding: dict, build: GraphBuilder, start: int, end: int) -> int:
    """What a shape becomes, built with the matched subexpressions for its names: its root node."""
    graph = build.graph
    built: list[int] = []
    for op, inputs, node in zip(becomes.op, becomes.inputs, range(len(becomes.op))):
        if op == "var":
            i = binding[becomes.name[node]]
        elif op == "const":
            i = build.const(becomes.value[node], start, end)
        elif op == "neg" and graph.op[built[inputs[0]]] == "neg":  # -(-z) is z
            i = graph.inputs[built[inputs[0]]][0]
        else:
            i = build.apply(op, tuple(built[j] for j in inputs), start, end)
        built.append(i)
    return built[becomes.output]


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
