"""The forward pass and backprop as steps a person can follow (--explain, cg graph).

Forward: each node in the order it is computed, with the values it took in.
Backward: in the order backprop runs, one step per gate and input —
upstream gradient × local gradient = the contribution handed to that input —
and, where several contributions meet at a fork, a step with their sum,
placed where backprop has collected them all (just before that node's own
gate passes its gradient on).
"""

from __future__ import annotations

from dataclasses import dataclass

from .api import Result


@dataclass
class ForwardStep:
    node: int
    op: str
    text: str
    inputs: list[float]
    value: float


@dataclass
class BackwardStep:
    gate: int
    op: str
    text: str
    upstream: float
    local: float
    contribution: float
    to: int
    to_text: str


@dataclass
class ForkStep:
    node: int
    text: str
    contributions: list[float]
    total: float


def forward_steps(result: Result) -> list[ForwardStep]:
    graph, values = result.graph, result.values
    return [
        ForwardStep(n.id, n.op, graph.text(n), [values[i] for i in n.inputs], values[n.id])
        for n in graph.nodes
    ]


def backward_steps(result: Result) -> list[BackwardStep | ForkStep]:
    """The trace of api.grad(..., trace=True) as steps, with the sums at forks."""
    graph = result.graph
    incoming: dict[int, list[float]] = {}
    steps: list[BackwardStep | ForkStep] = []

    def close_fork(node_id: int) -> None:
        parts = incoming.get(node_id, [])
        if len(parts) > 1:
            steps.append(
                ForkStep(node_id, graph.text(graph.nodes[node_id]), parts, result.grads[node_id])
            )

    current = None
    for gate, i, upstream, local, contribution in result.trace:
        if gate != current:
            close_fork(gate)
            current = gate
        node = graph.nodes[gate]
        steps.append(
            BackwardStep(
                gate,
                node.op,
                graph.text(node),
                upstream,
                local,
                contribution,
                i,
                graph.text(graph.nodes[i]),
            )
        )
        incoming.setdefault(i, []).append(contribution)
    for node in reversed(graph.nodes):  # leaves: their sums come last
        if not node.inputs:
            close_fork(node.id)
    return steps
