"""A result of cg grad or cg eval in the format asked: JSON (with the node list), `name value`
lines, or the human view (the tree or --explain's steps, and the directional derivative). No math
here."""

from __future__ import annotations

import json
from typing import IO

from .api import Result
from .console import rich_console
from .explain_output import explain_data, write_explain
from .human_numbers import human_float, show
from .text import ascii_only, json_number, shortest_float
from .tree import write_tree


def write_json(
    result: Result,
    out: IO[str],
    nodes: bool = True,
    fused_from: int | None = None,
    explain: bool = False,
    directional=None,
) -> None:
    """One JSON object; the node list is written a node at a time (it can be long)."""
    graph = result.graph
    head = {
        "expression": graph.source,
        "value": json_number(result.value),
        "grad": {name: json_number(g) for name, g in result.gradients.items()},
        "warnings": result.warnings,
    }
    if fused_from is not None:
        head["fused"] = {"nodes_before": fused_from, "nodes_after": len(graph.nodes)}
    if explain:
        head["explain"] = explain_data(result)
    if directional is not None:
        unit, forward_mode, dot = directional
        head["directional"] = {
            "unit": unit,
            "forward_mode": json_number(forward_mode),
            "gradient_dot_unit": json_number(dot),
        }
    ascii = ascii_only(out)  # then JSON's own \u escapes, so that the output stays valid JSON
    text = json.dumps(head, ensure_ascii=ascii, allow_nan=False)
    if not nodes:
        out.write(text + "\n")
        return
    out.write(text[:-1] + ', "nodes": [\n')
    for i in range(len(graph.op)):
        out.write((",\n" if i else "") + node_json(result, i, ascii))
    out.write("\n]}\n")


def node_entry(result: Result, i: int) -> dict:
    """Node i of the JSON node list."""
    graph = result.graph
    entry = {
        "id": i,
        "op": graph.op[i],
        "name": graph.name.get(i),
        "text": graph.text(i),
        "span": [graph.start[i], graph.end[i]],
        "value": json_number(result.values[i]),
        "grad": json_number(result.grads[i] if result.grads else None),
        "inputs": list(graph.inputs[i]),
    }
    if i in graph.fused:
        shape, count = graph.fused[i]
        entry["fused"] = {
            "gate": graph.op[i],
            "shape": shape,
            "replaced": graph.text(i),
            "nodes": count,
        }
    return entry


# (ensure_ascii=False, ensure_ascii=True): the encoder, and a str as JSON (json's C function when there is one)
_encode = [json.JSONEncoder(ensure_ascii=a, allow_nan=False).encode for a in (False, True)]
_string = [json.encoder.encode_basestring, json.encoder.encode_basestring_ascii]


def node_json(result: Result, i: int, ascii: bool = False) -> str:
    """node_entry as one line of JSON: written out directly where every field is a number or a
    string (the encoder's set-up per node would dominate: a 100,000-term sum has 500,000 nodes),
    through the encoder for arrays and fused gates. A test checks both give the same text."""
    graph = result.graph
    if result.points or i in graph.fused:
        return _encode[ascii](node_entry(result, i))
    name = graph.name.get(i)
    value = json_number(result.values[i])
    grad = json_number(result.grads[i] if result.grads else None)
    return (
        f'{{"id": {i}, "op": "{graph.op[i]}", "name": {"null" if name is None else _string[ascii](name)}, '
        f'"text": {_string[ascii](graph.text(i))}, "span": [{graph.start[i]}, {graph.end[i]}], '
        f'"value": {_scalar(value)}, "grad": {_scalar(grad)}, "inputs": [{", ".join(map(str, graph.inputs[i]))}]}}'
    )


def _scalar(v) -> str:
    """json_number()'s result as JSON: null, a float (repr, as json writes it), or "nan", "inf", "-inf"."""
    if v is None:
        return "null"
    return f'"{v}"' if isinstance(v, str) else float.__repr__(v)


def write_directional(along, out: IO[str]) -> None:
    """The directional derivative by forward mode, beside the gradient's dot product with the unit
    vector: one line, or on a terminal too narrow for it, a line for each part, so that no number
    is split."""
    unit, forward_mode, dot = along
    components = [f"{name}={human_float(u)}" for name, u in unit.items()]
    times = "." if ascii_only(out) else "·"
    results = [f"forward mode {show(forward_mode)}", f"gradient {times} unit {show(dot)}"]
    line = f"along ({', '.join(components)}): {', '.join(results)}"
    if out.isatty() and len(line) > rich_console(out, table=True).width:
        out.write("\n".join(["along:", *[f"  {c}" for c in components], *results]) + "\n")
    else:
        out.write(line + "\n")


def write_plain(result: Result, out: IO[str], along=None) -> None:
    """`name value` lines for `while read -r name value`: `f VALUE` first, then one `NAME
    GRADIENT` per variable, then `dir VALUE` (the directional derivative by forward mode) when
    asked; shortest round-trip floats."""
    lines = [f"f {shortest_float(result.value)}"]
    lines += [f"{name} {shortest_float(g)}" for name, g in result.gradients.items()]
    if along is not None:
        lines.append(f"dir {shortest_float(along[1])}")
    out.write("\n".join(lines) + "\n")


def write_result(
    result: Result,
    format: str,
    out: IO[str],
    nodes=True,
    fused_from=None,
    explain=False,
    along=None,
) -> None:
    """A result of cg grad or cg eval as json, plain or a tree; with `explain`, the steps; with
    `along` (api.directional's), the directional derivative."""
    if format == "json":
        write_json(result, out, nodes, fused_from, explain=explain, directional=along)
        return
    if format == "plain":
        write_plain(result, out, along)
        return
    if explain:
        write_explain(result, out)
    else:
        write_tree(result, out, fused_from=fused_from)
    if along is not None:
        write_directional(along, out)
