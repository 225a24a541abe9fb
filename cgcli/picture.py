"""The computation graph as a picture: Graphviz DOT, Mermaid, SVG/PNG/PDF through Graphviz,
and the interactive circuit page (cgcli/circuit.py). The file's extension says which.

Drawn the way course notes draw circuits: left to right from the inputs to f,
each gate a node labelled with its operation (variables with their names and,
under the name, their total gradient), each wire labelled with the value
flowing forward (green, above the wire) and the gradient flowing back along
that wire (red, below it): the gate's upstream × local gradient for that
input, so at a fork the wires' gradients add up to the node's. A legend at the
foot says so.

Graphviz places a wire's label beside the wire, where it may sit nearer to
another wire; so the layout is made twice: `dot` lays the graph out, each
label is moved onto a point of its own wire, and `neato -n2` draws the result
with every position fixed.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import subprocess
from pathlib import Path

from .api import Result
from .errors import CgError
from .ops import OPS
from .text import shortest_float, significant

GRADIENT_COLOR = "#c0392b"
VALUE_COLOR = "#1e8449"

# the file's extension → what to draw
FORMATS = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".mmd": "mmd",
    ".mermaid": "mmd",
    ".html": "html",
}

# operators drawn by their symbol (pow's is not in the ops table: ** and ^ both spell it)
_SYMBOLS = {"pow": "**"}


def format_for(path: Path | str) -> str:
    """What a picture file wants, from its extension: svg, png, pdf, dot, mmd or html."""
    kind = FORMATS.get(Path(path).suffix.lower())
    if kind is None:
        raise CgError(
            f"the file's extension says what to draw: {', '.join(FORMATS)}", file=str(path)
        )
    return kind


def draw(result: Result, kind: str, digits: int = 4) -> bytes:
    """The picture of a result in one of the FORMATS' kinds, as the file's bytes."""
    if kind == "mmd":
        return to_mermaid(result, digits).encode()
    if kind == "html":
        from . import circuit

        error = circuit.too_large(result.graph)
        if error:
            raise error.prefixed(
                "", ": draw it as a picture (-o FILE.svg), or follow its steps (cg grad --explain)"
            )
        return circuit.page(result, digits).encode()
    source = to_dot(result, digits)
    if kind == "dot":
        return source.encode()
    if len(result.graph.nodes) > GRAPHVIZ_NODES:
        raise GraphvizError(
            f"the graph has {len(result.graph.nodes):,} nodes, more than the {GRAPHVIZ_NODES:,}"
            f" Graphviz lays out in reasonable time: write a .dot file instead"
        )
    return render_with_graphviz(source, kind)


def gate_label(result: Result, node_id: int) -> str:
    node = result.graph.nodes[node_id]
    if node.op == "var":
        return node.name
    if node.op == "const":
        return node.name or shortest_float(node.value)
    label = OPS[node.op].symbol or _SYMBOLS.get(node.op, node.op)
    if node.fused:
        label += f" ({node.fused[1]} nodes fused)"
    return label


def wires(result: Result):
    """(from id, to id or None for f, value, gradient or None) for every wire, inputs first."""
    along: dict[tuple[int, int], list[float]] = {}  # x*x has two wires from x into one gate
    for gate, i, _, _, contribution in result.trace or []:
        along.setdefault((gate, i), []).append(contribution)
    for node in result.graph.nodes:
        used: dict[int, int] = {}
        for i in node.inputs:
            k = used[i] = used.get(i, -1) + 1
            grads = along.get((node.id, i), [])
            yield i, node.id, result.values[i], grads[k] if k < len(grads) else None
    out = result.graph.output
    yield out, None, result.values[out], 1.0


def _dot_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def on_wire(v: float, digits: int) -> str:
    """v to `digits` significant digits (17: exactly). A zero is 0: -0 is how a product with a
    negative rounds to 0 (relu's 0 times a negative upstream), not a number a reader needs."""
    return "0" if v == 0 and digits < 17 else significant(v, digits)


LEGEND = (
    f'<font color="{VALUE_COLOR}">value</font> above each wire, '
    f'<font color="{GRADIENT_COLOR}">gradient ∂f/∂(wire)</font> below it; '
    f'under a variable, <font color="{GRADIENT_COLOR}">its total gradient</font> (the sum over its wires)'
)


def wire_label(value: str, grad: str | None) -> str:
    """A wire's label: the value, an empty line where the wire passes, the gradient (a wire from
    a constant has none: the empty line keeps its value above the wire)."""
    label = f'<font color="{VALUE_COLOR}">{value}</font><br/> '
    if grad is not None:
        label += f'<br/><font color="{GRADIENT_COLOR}">{grad}</font>'
    return label


def to_dot(result: Result, digits: int = 4, ids: str = "", legend: bool = True) -> str:
    """The circuit as Graphviz source. Nodes are n<id> (f for the output), with the SVG id
    <ids>g<id>; wires have the SVG id <ids>w<k>, k counting wires in the order of `wires`.
    `legend`: the legend at the foot (a page that has its own leaves it out)."""
    graph, grads = result.graph, result.grads
    lines = [
        "digraph cg {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        f'  labelloc=b; fontname="Helvetica"; fontsize=10; label=<{LEGEND if legend else ""}>;',
    ]
    for node in graph.nodes:
        label = f'"{_dot_escape(gate_label(result, node.id))}"'
        if node.op == "var" and grads is not None and grads[node.id] is not None:
            total = on_wire(grads[node.id], digits)
            label = (
                f'<{_dot_escape(node.name)}<br/><font point-size="10" color="{GRADIENT_COLOR}">'
                f"∂f/∂{_dot_escape(node.name)} = {total}</font>>"
            )
        shape = ", shape=plaintext" if node.op in ("var", "const") else ""
        lines.append(f'  n{node.id} [id="{ids}g{node.id}", label={label}{shape}];')
    lines.append(f'  f [id="{ids}gf", label="f", shape=plaintext];')
    for k, (a, b, value, grad) in enumerate(wires(result)):
        label = wire_label(on_wire(value, digits), None if grad is None else on_wire(grad, digits))
        target = "f" if b is None else f"n{b}"
        lines.append(f'  n{a} -> {target} [id="{ids}w{k}", label=<{label}>];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(result: Result, digits: int = 4) -> str:
    lines = ["flowchart LR"]
    for node in result.graph.nodes:
        label = _mermaid_escape(gate_label(result, node.id))
        lines.append(f'  n{node.id}["{label}"]' if node.inputs else f'  n{node.id}(["{label}"])')
    lines.append('  f(["f"])')
    for a, b, value, grad in wires(result):
        label = on_wire(value, digits) + ("" if grad is None else f"<br/>∂ {on_wire(grad, digits)}")
        lines.append(f'  n{a} -->|"{_mermaid_escape(label)}"| {"f" if b is None else f"n{b}"}')
    return "\n".join(lines) + "\n"


class GraphvizError(CgError):
    """Graphviz is missing, fails, takes too long, or is given a graph too big for it."""


GRAPHVIZ_NODES = 2_000  # more and dot's layout takes minutes (a 400-node graph can take one)
GRAPHVIZ_SECONDS = 60  # each of dot and neato: stopped beyond, with the advice to write .dot


def _graphviz(program: str, args: list[str], source: str, fmt_name: str) -> bytes:
    """What Graphviz's `program` writes for `source`. It runs at most GRAPHVIZ_SECONDS, and ends
    with cg: Ctrl-C, SIGTERM or an error here stop it (it would go on computing a layout for
    minutes that nobody reads)."""
    found = shutil.which(program)
    if found is None:
        raise GraphvizError(
            f"drawing .{fmt_name} needs Graphviz's `{program}`: install it (Debian/Ubuntu: apt-get install graphviz; "
            "macOS: brew install graphviz); .dot and .mmd files work without it"
        )
    proc = subprocess.Popen(
        [found, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        with _ended_on_sigterm(proc):
            out, err = proc.communicate(source.encode(), timeout=GRAPHVIZ_SECONDS)
    except subprocess.TimeoutExpired:
        raise GraphvizError(
            f"Graphviz's {program} took more than {GRAPHVIZ_SECONDS} s to draw .{fmt_name}:"
            " write a .dot file instead and draw it with Graphviz yourself"
        ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise GraphvizError(f"{program} failed: {err.decode(errors='replace').strip()}")
    return out


@contextlib.contextmanager
def _ended_on_sigterm(proc):
    """While `proc` runs, a SIGTERM to cg ends it first, then cg as SIGTERM would have. (Ctrl-C
    reaches it anyway: it is in cg's process group.)"""
    import os
    import signal

    def ended(signum, frame):
        proc.kill()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    try:
        before = signal.signal(signal.SIGTERM, ended)
    except ValueError:  # not the main thread (cg used as a library): no handler to set
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def render_with_graphviz(dot_source: str, fmt_name: str, file_kind: str | None = None) -> bytes:
    """SVG, PNG or PDF bytes from Graphviz, each wire's labels on that wire; a clear error when
    Graphviz is not installed, naming the kind of file asked for (`file_kind`, else fmt_name)."""
    shown = file_kind or fmt_name
    layout = json.loads(_graphviz("dot", ["-Tjson"], dot_source, shown))
    fixed = with_positions(dot_source, layout)
    return _graphviz("neato", ["-n2", f"-T{fmt_name}"], fixed, shown)


def with_positions(dot_source: str, layout: dict) -> str:
    """The dot source with dot's positions written in (nodes, wires, the legend), each wire's
    label moved to the point of its wire nearest to where dot put it: above and below the wire."""
    extra: dict[str, str] = {}
    for obj in layout.get("objects", []):
        extra[f"n:{obj['name']}"] = (
            f'pos="{obj["pos"]}", width={obj["width"]}, height={obj["height"]}'
        )
    for edge in layout.get("edges", []):
        pos, lp = edge.get("pos"), edge.get("lp")
        if pos is None:
            continue
        attrs = f'pos="{pos}"'
        if lp is not None:
            x, y = _nearest_on_spline(pos, *map(float, lp.split(",")))
            attrs += f', lp="{x:.2f},{y:.2f}"'
        extra[f"e:{edge['id']}"] = attrs
    # room below the lowest wire for its gradient, which now sits under it: the legend moves down
    x0, y0, x1, y1 = map(float, layout["bb"].split(","))
    head = f'  bb="{x0:g},{y0 - _BELOW:g},{x1:g},{y1:g}"; splines=true;'
    if "lp" in layout:
        x, y = map(float, layout["lp"].split(","))
        head += f' lp="{x:g},{y - _BELOW:g}";'
    lines = []
    for line in dot_source.splitlines():
        key = None
        if line.startswith("  n") or line.startswith("  f "):
            name, _, rest = line.strip().partition(" ")
            if rest.startswith("->"):
                key = "e:" + rest.split('id="', 1)[1].split('"', 1)[0]
            else:
                key = f"n:{name}"
        if key in extra:
            line = line[: line.rindex("]")] + ", " + extra[key] + "];"
        lines.append(line)
        if line.startswith("  labelloc"):
            lines.append(head)
    return "\n".join(lines) + "\n"


_BELOW = 14  # points: a line of the wires' labels


def _nearest_on_spline(pos: str, x: float, y: float) -> tuple[float, float]:
    """The point of an edge's spline (Graphviz's "e,x,y p0 p1 p2 p3 ...") nearest to (x, y)."""
    points = [
        tuple(map(float, p.split(","))) for p in pos.split() if not p.startswith(("e,", "s,"))
    ]
    best, best_d = points[0], math.inf
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i : i + 4]
        for step in range(33):
            t = step / 32
            u = 1 - t
            px = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
            py = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
            d = (px - x) ** 2 + (py - y) ** 2
            if d < best_d:
                best, best_d = (px, py), d
    return best
