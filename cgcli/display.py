"""How a Result shows itself: the circuit page in a notebook, the Rich tree in a terminal."""

from __future__ import annotations

import html
import io

from .api import Result
from .errors import CgError


def notebook_html(result: Result) -> str | None:
    """The circuit page in an iframe (its script and styles kept apart from the notebook's, no
    network, no access to the notebook); None for many points, where a notebook shows the text."""
    if result.points is not None:
        return None
    from .circuit import page

    try:
        text = page(result)
    except CgError as e:  # too many nodes, Graphviz missing: said in the cell
        return f"<p>cg: {html.escape(e.message)}</p>"
    return (
        f'<iframe srcdoc="{html.escape(text, quote=True)}" sandbox="allow-scripts" '
        'style="width: 100%; height: 640px; border: 1px solid #ddd;" '
        f'title="the circuit of {html.escape(result.graph.source[:80], quote=True)}"></iframe>'
    )


class _Terminal(io.StringIO):
    """A text buffer that says it is a terminal: the tree is drawn by Rich, in colour."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def rich_tree(result: Result):
    """The tree of cg grad (cg eval for a result without gradients) as a Rich renderable."""
    from rich.text import Text

    from .tree import write_tree

    out = _Terminal()
    write_tree(result, out)
    return Text.from_ansi(out.getvalue().rstrip("\n"))
