"""Generate docs/functions.md, the table of cg's functions and operators, from cgcli/ops.py.

    python docs/make_functions.py

Run it after every change to the ops table; tests/test_ops.py fails when
docs/functions.md is not what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parent / "functions.md"

INTRO = """\
# Functions and their local gradients

Generated from `cgcli/ops.py` by `python docs/make_functions.py`: do not edit.
`cg functions` prints the same table.

`x`, `y` are a gate's inputs and `out` its output. The conventions at points
where an op is not differentiable are PyTorch's: relu'(0) = 0, abs'(0) = 0,
max and min give 0.5 to each side at a tie.

Some local gradients are written for float64 rather than for the eye, where
the textbook form loses digits: tanh's `(1/cosh(x))**2` (not `1-out**2`, which
is 0 for |x| > 19), `(1-x)*(1+x)` for asin, acos and atanh (not `1-x**2`, which
cancels near ±1), `hypot` for atan2 and asinh (not `x**2+y**2`, which over- or
underflows beyond 1e±154), `sigmoid(x-y)` for logaddexp, `exp(x)` for expm1
(not `out+1`), and bce without its cancellation at y = 1. `tests/test_accuracy.py`
checks each against mpmath at 50 digits. `cg diff` and `cg hessian` build
derivative expressions from the textbook form where the careful one's own
derivative would cancel (the `cg diff:` entries below): d/dx of `(1-x)*(1+x)`
is `(1-x)-(1+x)`, 0 near x = 0, where the textbook's is `-2*x`.

`logsumexp`, `softmax` and `logsoftmax` take any number of inputs, two or
more: `y` stands for each input after the first. Their numbers, and tanh's,
come from one function of all the inputs (`local` in the ops table): the terms
exp(x - m) shifted by the largest input m, over their sum, never through the
rounded output; tanh's is `1-out**2` where |out| < 2/3, else `(1/cosh(x))**2`.
The formulas shown are what `cg diff` builds from, and what they compute.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def functions_md() -> str:
    from cgcli.ops import CONSTANTS, INPUT_NAMES, TABLE

    lines = [
        INTRO,
        "| function | computes | local gradient ∂out/∂input | at kinks |",
        "|---|---|---|---|",
    ]
    for op in TABLE:
        grads = [f"∂/∂{a}: `{g}`" for a, g in zip(INPUT_NAMES, op.grads)]
        if op.symbolic:
            grads.append("cg diff: " + ", ".join(f"`{g}`" for g in op.symbolic))
        cells = (f"`{op.spelling}`", _cell(op.doc), "<br>".join(grads), _cell(op.at_kinks))
        lines.append("| " + " | ".join(cells) + " |")
    constants = ", ".join(f"`{name}` = {value!r}" for name, value in CONSTANTS.items())
    lines += ["", f"Constants: {constants}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(TARGET.parent.parent))
    TARGET.write_text(functions_md(), encoding="utf-8")
    print(f"wrote {TARGET}")
