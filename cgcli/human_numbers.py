"""Numbers as the human view shows them: a float as its shortest text, and for many points the
first point and the range over all points."""

from __future__ import annotations

from .text import shortest_float


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
        return shortest_float(v)
    import numpy as np

    nans = int(np.isnan(v).sum())
    if nans == len(v):
        return f"{shortest_float(v[0])} [nan .. nan]"
    lo, hi = np.nanmin(v), np.nanmax(v)
    if nans:  # the range of the others, and how many are nan: a nan point never hides
        return f"{shortest_float(v[0])} [{shortest_float(lo)} .. {shortest_float(hi)}; nan at {_points(nans)}]"
    return f"{shortest_float(v[0])} [{shortest_float(lo)} .. {shortest_float(hi)}]"
