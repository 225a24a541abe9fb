"""The computation graph as a picture: Graphviz DOT, Mermaid, and SVG/PNG through `dot`.

Drawn the way course notes draw circuits: left to right from the inputs to f,
each gate a node labelled with its operation (variables with their names),
each wire labelled with the value flowing forward and, under it in red, the
gradient flowing back along that wire (the gate's upstream × local gradient
for that input; at a fork the wires' gradients add up to the node's).
"""

from __future__ import annotations

import shutil
import subprocess

from .api import Result
from .engine import fmt
from .errors import CgError
from .ops import OPS

GRADIENT_COLOR = "#c0392b"
VALUE_COLOR = "#1e8449"


def gate_label(result: Result, node_id: int) -> str:
    node = result.graph.nodes[node_id]
    if node.op == "var":
        return node.name
    if node.op == "const":
        return node.name or fmt(node.value)
    op = OPS[node.op]
    label = op.symbol if op.symbol and op.arity == 2 else node.op
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


def number(v: float, digits: int) -> str:
    return fmt(v) if digits >= 17 else f"{v:.{digits}g}"


def to_dot(result: Result, digits: int = 4) -> str:
    lines = [
        "digraph cg {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in result.graph.nodes:
        shape = ", shape=plaintext" if node.op in ("var", "const") else ""
        lines.append(f'  n{node.id} [label="{_dot_escape(gate_label(result, node.id))}"{shape}];')
    lines.append('  f [label="f", shape=plaintext];')
    for a, b, value, grad in wires(result):
        label = f'<font color="{VALUE_COLOR}">{number(value, digits)}</font>'
        if grad is not None:
            label += f'<br/><font color="{GRADIENT_COLOR}">{number(grad, digits)}</font>'
        target = "f" if b is None else f"n{b}"
        lines.append(f"  n{a} -> {target} [label=<{label}>];")
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
        label = number(value, digits) + ("" if grad is None else f"<br/>∂ {number(grad, digits)}")
        lines.append(f'  n{a} -->|"{_mermaid_escape(label)}"| {"f" if b is None else f"n{b}"}')
    return "\n".join(lines) + "\n"


def render_with_graphviz(dot_source: str, fmt_name: str) -> bytes:
    """SVG or PNG bytes from `dot`; a clear error when Graphviz is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise CgError(
            f"drawing .{fmt_name} needs Graphviz's `dot`: install it (Debian/Ubuntu: apt-get install graphviz; "
            "macOS: brew install graphviz); .dot and .mmd files work without it"
        )
    proc = subprocess.run([dot, f"-T{fmt_name}"], input=dot_source.encode(), capture_output=True)
    if proc.returncode != 0:
        raise CgError(f"dot failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout
