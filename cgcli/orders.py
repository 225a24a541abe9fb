"""How far repeated differentiation goes: the bounds of ∂ⁿf/∂xⁿ.

A derivative is often bigger than what it came from (x**x: 8 nodes, then 23, 52, ... 37,394
at order 11, and each order takes about 2.5 times as long as the one before). So the work
stops, with a sentence saying where, when:
- a derivative is exactly 0: every higher one is 0 too, and that is the answer;
- the order passes MAX_ORDER without the derivative having become 0;
- a derivative to be differentiated again has more than MAX_NODES nodes, or all the
  derivatives so far more than MAX_TOTAL_NODES: the next order would take many seconds and
  hundreds of MB.
"""

from __future__ import annotations

from .errors import CgError

MAX_ORDER = 100
MAX_NODES = 20_000  # differentiating 20,000 nodes again takes about a second
MAX_TOTAL_NODES = 200_000


def is_zero(graph) -> bool:
    """Whether the graph is the constant 0, as the derivative of a constant prints and parses."""
    return len(graph.nodes) == 1 and graph.nodes[0].op == "const" and graph.nodes[0].value == 0


class OrderBound:
    """The watch over derivative(graph, wrt, order)'s loop: after each order, done() says whether
    the answer is there already, or raises CgError when the next order is out of bounds."""

    def __init__(self, order: int):
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise CgError(f"the order of a derivative is a whole number from 1, got {order!r}")
        self.order = order
        self.total = 0

    def done(self, graph, reached: int) -> bool:
        """After the derivative of order `reached`: True when it is the answer (the order asked
        for, or exactly 0 and so every higher one too)."""
        if reached >= self.order or is_zero(graph):
            return True
        size = len(graph.nodes)
        self.total += size
        asked = f"order {self.order:,} is out of reach"
        if reached >= MAX_ORDER:
            raise CgError(
                f"{asked}: cg differentiates at most {MAX_ORDER} times, and the derivative of"
                f" order {reached} is not 0"
            )
        if size > MAX_NODES:
            raise CgError(
                f"{asked}: the derivative of order {reached} has {size:,} nodes, more than the"
                f" {MAX_NODES:,} cg differentiates again (ask for order {reached} at most)"
            )
        if self.total > MAX_TOTAL_NODES:
            raise CgError(
                f"{asked}: the derivatives up to order {reached} have {self.total:,} nodes in all,"
                f" more than the {MAX_TOTAL_NODES:,} cg computes (ask for order {reached} at most)"
            )
        return False
