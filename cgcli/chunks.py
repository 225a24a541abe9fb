"""A batch of points computed in chunks: forward and backprop over CHUNK points at a time.

When only f and the variables' gradients are kept (keep_nodes=False), the points are split into
chunks of CHUNK: each chunk's intermediate arrays stay in the CPU's cache and are let go of as
soon as they are dead (engine.Lifetimes), and the chunks run side by side in THREADS threads
(numpy releases the GIL inside its array loops). Numbers and warnings do not depend on either.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import arrays, engine
from .graph import Graph

CHUNK = 65_536  # points per pass


def compute(graph, env, n, wanted, with_grad, warnings, finite):
    """f and the wanted variables' gradients at the n points of `env` (arrays or numbers),
    CHUNK points at a time; the first warning of each kind is appended to `warnings`.
    `finite`: every value in env is finite (api._environment looked)."""
    value = np.empty(n)
    gradients = {name: np.empty(n) for name in wanted or []}
    for op in {op for op, inputs in zip(graph.op, graph.inputs) if inputs}:
        engine.local_gradients(op)  # compiled once, before the threads start
    lifetimes = engine.Lifetimes(graph, arrays, with_grad)
    direct = gradients_from_the_kernel(graph, wanted) if with_grad else []

    def chunk(start: int) -> list:
        """Computes points start..start+CHUNK into value and gradients; the warnings found."""
        part = {k: v[start : start + CHUNK] if np.ndim(v) else v for k, v in env.items()}
        ours = {name: g[start : start + CHUNK] for name, g in gradients.items()}
        fwd = engine.forward(
            graph,
            part,
            arrays,
            first_point=start,
            save=with_grad,
            drop=lifetimes.forward,
            finite_inputs=finite,
            into=(value[start : start + CHUNK], *[ours.get(name) for name in direct]),
        )
        found = [("value", fwd.warning), ("nan after an inf", fwd.later)]
        if with_grad:
            bwd = engine.backward(
                graph,
                fwd.values,
                arrays,
                first_point=start,
                saved=fwd.saved,
                drop=lifetimes.backward,
                clean=fwd.clean,
            )
            for name in wanted:
                g = bwd.values[graph.variables[name]]
                if g is not ours[name]:  # not computed there by the kernel
                    ours[name][...] = 0.0 if g is None else g
            found.append(("gradient", bwd.warning))
        return found

    starts = range(0, n, CHUNK)
    if THREADS > 1 and len(starts) > 1:
        # numpy releases the GIL inside its array loops: chunks run side by side
        with ThreadPoolExecutor(min(THREADS, len(starts))) as pool:
            found = list(pool.map(chunk, starts))
    else:
        found = [chunk(start) for start in starts]
    seen: set[str] = set()
    for kind, w in (
        pair for pairs in found for pair in pairs
    ):  # the first of each kind, in the order of the points
        if w and kind not in seen:
            seen.add(kind)
            warnings.append(w)
    return value, gradients


def gradients_from_the_kernel(graph: Graph, wanted: list[str]) -> list[str | None]:
    """For each input of f's gate: the variable whose whole gradient is that input's local
    gradient, where f's gate has a kernel (arrays.KERNELS), so that the kernel computes it
    straight into the result: the variable is wanted and feeds nothing else. None elsewhere."""
    inputs = graph.inputs[graph.output]
    if graph.op[graph.output] not in arrays.KERNELS:
        return [None] * len(inputs)
    readers = Counter(i for gate_inputs in graph.inputs for i in gate_inputs)
    name_of = {node: name for name, node in graph.variables.items() if name in wanted}
    return [name_of.get(i) if readers[i] == 1 else None for i in inputs]


def _threads() -> int:
    """CG_THREADS, or the cores this process may use."""
    given = os.environ.get("CG_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


THREADS = _threads()  # threads for a batch computed in chunks
