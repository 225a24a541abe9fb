"""The memory a batch of points takes, weighed before it is taken.

Every point costs 8 bytes in each float64 array that holds one number per point: a range's own
array, the value f, each gradient, and every node's value (and gradient) when those are kept.
A batch whose arrays would not fit in the memory available now (Linux's MemAvailable, or the
machine's physical memory, and at most the process's address-space limit) is refused before
any of them is made, with the estimate, instead of filling the memory and being killed.
"""

from __future__ import annotations

import os
import resource

from .errors import CgError
from .files import size_words


def available() -> int | None:
    """The bytes cg may still fill, or None when the system does not say."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        found = min(found, soft)
    return found


def check(points: int, per_point: int, what: str) -> None:
    """Refuse `points` points taking `per_point` bytes each (for `what`) beyond the memory
    available, saying how much they need, how much there is, and how many points would fit."""
    needed = points * per_point
    there = available()
    if there is None or needed <= there:
        return
    raise CgError(
        f"{points:,} points need about {size_words(needed)} of memory for {what}"
        f" ({per_point:,} bytes a point), more than the {size_words(there)} available:"
        f" give at most about {there // per_point:,} points at a time"
    )
