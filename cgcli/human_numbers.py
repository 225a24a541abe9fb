"""Numbers as the human view shows them: a float as its shortest text with a zero as 0, and for
many points the first point and the range over all points. The machine formats (JSON, CSV, plain
`name value` lines, .npz) write shortest_float instead, -0 included: they read back exactly."""

from __future__ import annotations

from .text import shortest_float


def human_float(v: float) -> str:
    """shortest_float, but a zero is 0: -0 is how a product with a negative rounds to 0 (relu's 0
    times a negative upstream), not a number a reader needs."""
    return "0" if v == 0 else shortest_float(v)


def _points(n: int) -> str:
    """'1 point', '3 points'."""
    return "1 point" if n == 1 else f"{n} points"


def at_points(n: int | None) -> str:
    """A heading's ' at 3 points: first point [range]' (how show() writes an array), or ''."""
    if not n:
        return ""
    return f" at {_points(n)}" + (": first point [range]" if n > 1 else "")


def show(v) -> str:
    """A number for people; for an array, its first point and the range over all points."""
    if not getattr(v, "ndim", 0):
        return human_float(v)
    import numpy as np

    nans = int(np.isnan(v).sum())
    if nans == len(v):
        return f"{human_float(v[0])} [nan .. nan]"
    lo, hi = np.nanmin(v), np.nanmax(v)
    if nans:  # the range of the others, and how many are nan: a nan point never hides
        return (
            f"{human_float(v[0])} [{human_float(lo)} .. {human_float(hi)}; nan at {_points(nans)}]"
        )
    return f"{human_float(v[0])} [{human_float(lo)} .. {human_float(hi)}]"
