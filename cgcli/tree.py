"""The human view of a result: a tree with f at its root, each node with its op, source text,
value and gradient; drawn by Rich on a terminal, as plain lines when piped."""

from __future__ import annotations

from typing import IO

from .api import Result
from .console import print_fields, rich_console
from .engine import local_values
from .human_numbers import at_points, show
from .text import as_ascii, ascii_only, color_on

TREE_MAX_NODES = 400  # nodes drawn before the tree says how many it left out
TREE_MAX_DEPTH = 40  # levels drawn before a branch is cut


def write_tree(result: Result, out: IO[str], fused_from: int | None = None) -> None:
    """f at the root, each node with op, source text, value and gradient.

    A node reached again through another path (shared in the DAG) is drawn
    once, then as a reference to its id. The walk is an explicit stack. On a
    terminal Rich draws the tree, in colour as color_on says, a long label
    wrapped between words; piped, the same lines are written as plain text,
    without importing Rich (a third of a one-shot run's time), unless colours
    are asked for. A terminal too narrow for a number beside its guides gets
    one block of `field: value` lines per node instead, as a narrow table does.
    """
    ascii = ascii_only(out)
    d, up, arrow = ("d", "^", "<-") if ascii else ("∂", "↑", "←")

    def clean(s: str) -> str:
        s = s.replace("\n", " \\n " if ascii else " ⏎ ")
        return as_ascii(s) if ascii else s

    graph, values, grads = result.graph, result.values, result.grads
    nodes = graph.nodes

    def label(node) -> tuple[list, list]:
        """The node's styled parts on its line of the tree, and its (field, text) pairs for
        the block form."""
        value = show(values[node.id])
        grad = None if grads is None else grads[node.id]
        fields = [("node", f"#{node.id}"), ("op", node.op)]
        if node.op == "var":
            parts = [(clean(node.name), "bold green"), f" = {value}"]
            fields += [("source", clean(node.name)), ("value", value)]
        elif node.op == "const":
            parts = [(clean(node.name or graph.text(node)), "magenta")]
            parts += [f" = {value}"] if node.name else []
            fields += [("source", parts[0][0]), ("value", value)]
        else:
            name = f"{clean(node.name)} = " if node.name else ""
            parts = [
                (node.op, "bold cyan"),
                "  ",
                name,
                (clean(graph.text(node)), "yellow"),
                f" = {value}",
            ]
            fields += [("source", name + clean(graph.text(node)))]
            if node.fused:
                shape, count = node.fused
                parts[1:1] = [(clean(f" {arrow} {shape}, {count} nodes"), "magenta")]
                fields += [("fused", parts[1][0].strip())]
            fields += [("value", value)]
        if grad is not None:
            parts += ["   grad ", (show(grad), "bold")]
            fields += [("grad", parts[-1][0])]
        if node.fused:
            local = local_values(graph, values, node.id, _backend_of(result))
            parts += ["   local ", ", ".join(show(v) for v in local)]
            fields += [("local", parts[-1])]
        if node.inputs:
            fields += [("inputs", ", ".join(f"#{i}" for i in node.inputs))]
        return parts + [(f"   #{node.id}", "dim")], fields

    # the tree as rows: (depth, last among its siblings, styled parts, a node's fields or None)
    how_many = at_points(result.points)
    rows = [(0, True, [("f", "bold"), f" = {show(result.value)}", (how_many, "dim")], None)]
    stack = [(graph.output, 1, True)]
    shown: set[int] = set()
    while stack:
        node_id, depth, last = stack.pop()
        node = nodes[node_id]
        if len(rows) > TREE_MAX_NODES:
            note = (
                f"… the tree stops at {TREE_MAX_NODES} nodes; --format json lists all {len(nodes)}"
            )
            rows.append((depth, True, [(clean(note), "dim")], None))
            break
        if node_id in shown and node.inputs:
            rows.append(
                (
                    depth,
                    last,
                    [
                        (f"{up} #{node.id} ", "dim"),
                        (clean(graph.text(node)), "yellow"),
                        (" (shared, shown above)", "dim"),
                    ],
                    None,
                )
            )
            continue
        shown.add(node_id)
        rows.append((depth, last, *label(node)))
        if node.inputs and depth + 1 > TREE_MAX_DEPTH:
            rows.append(
                (
                    depth + 1,
                    True,
                    [
                        (
                            clean(
                                f"… deeper than {TREE_MAX_DEPTH} levels; --format json lists every node"
                            ),
                            "dim",
                        )
                    ],
                    None,
                )
            )
            continue
        for k, i in reversed(list(enumerate(node.inputs))):
            stack.append((i, depth + 1, k == len(node.inputs) - 1))

    tail = []
    if fused_from is not None:
        tail.append([f"fused: {fused_from} nodes {'->' if ascii else '→'} {len(nodes)} nodes"])
    for name, g in result.gradients.items():
        tail.append([f"{d}f/{d}", (clean(name), "bold green"), f" = {show(g)}"])
    if color_on(out) or out.isatty():  # a terminal: Rich wraps long labels between words
        _rich_tree(rows, tail, out)
    else:
        _plain_tree(rows, tail, out, ascii)


def _plain_tree(rows, tail, out, ascii: bool) -> None:
    """The rows with guide lines, as Rich would draw them, in plain text."""
    blank, through, branch, end = (
        ("    ", "|   ", "+-- ", "`-- ") if ascii else ("    ", "│   ", "├── ", "└── ")
    )
    lines, open_levels = [], []  # open_levels[k]: the ancestor at depth k+1 has siblings below
    for depth, last, parts, _ in rows:
        text = _text(parts)
        if depth == 0:
            lines.append(text)
            continue
        del open_levels[depth - 1 :]
        guides = "".join(through if more else blank for more in open_levels)
        lines.append(guides + (end if last else branch) + text)
        open_levels.append(not last)
    lines += [_text(parts) for parts in tail]
    out.write("\n".join(lines) + "\n")


def _rich_tree(rows, tail, out) -> None:
    from rich.text import Text
    from rich.tree import Tree

    console = rich_console(out, table=True)  # piped (--color always): lines as long as they are
    if not _numbers_fit(rows, console.width):
        _blocks(rows, tail, console)
        return
    tree = None
    branches = []
    for depth, _, parts, _ in rows:
        text = Text.assemble(*parts)
        if depth == 0:
            tree = Tree(text)
            branches = [tree]
            continue
        del branches[depth:]
        branches.append(branches[depth - 1].add(text))
    console.print(tree)
    for parts in tail:
        console.print(Text.assemble(*parts))


GUIDE = 4  # the columns Rich's guides take per level: "├── ", "│   "


def _numbers_fit(rows, width: int) -> bool:
    """Each node's numbers (and its op and id) are words no wider than its line beside the
    guides, so that Rich wraps its label between them and splits none. A long source text is
    the user's and may fold."""
    from rich.cells import cell_len

    return all(
        cell_len(word) <= width - GUIDE * depth
        for depth, _, _, fields in rows
        if fields
        for field, text in fields
        if field not in ("source", "fused")
        for word in text.split()
    )


def _blocks(rows, tail, console) -> None:
    """The tree on a terminal too narrow for it: f, then a block of `field: value` lines per
    row, the blocks apart by a blank line (a node's inputs name the rows below it), as
    print_table does for a table."""
    from rich.text import Text

    for _, _, parts, fields in rows:
        if fields is None:  # f, a shared node, a note where the tree stops
            console.print(Text(_text(parts)))
        else:
            print_fields(console, fields)
        console.print()
    for parts in tail:
        console.print(Text(_text(parts)))


def _text(parts) -> str:
    """A row's styled parts as plain text."""
    return "".join(p if isinstance(p, str) else p[0] for p in parts)


def _backend_of(result: Result):
    if result.points:
        from . import arrays

        return arrays
    from . import scalar

    return scalar
