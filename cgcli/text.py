"""Small things every output needs: numbers as text, long text cut in its middle, a did-you-mean
hint, and text for a stream that takes ASCII only."""

from __future__ import annotations

import codecs
import math
import os

# ---------------------------------------------------------------------------
# numbers


def shortest_float(v: float) -> str:
    """Shortest text that reads back as the same float ('9' for 9.0); nan, inf, -inf."""
    if v != v:
        return "nan"
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def json_number(v):
    """A float for JSON; nan and ±inf as the strings "nan", "inf", "-inf"; a list for an array."""
    if v is None:
        return None
    if getattr(v, "ndim", 0):
        return [x if x - x == 0 else shortest_float(x) for x in v.tolist()]
    v = float(v)
    return v if v - v == 0 else shortest_float(v)


def significant(v: float, digits: int) -> str:
    """`v` to `digits` significant digits; 17 or more: exact (shortest_float)."""
    return shortest_float(v) if digits >= 17 else f"{v:.{digits}g}"


# ---------------------------------------------------------------------------
# long text


def elide_middle(text: str, limit: int, start: int = 0, end: int | None = None) -> str:
    """text[start:end] with its middle replaced by ' … ' when it is longer than `limit`
    characters (the piece is not copied whole: it may be most of a long input)."""
    end = len(text) if end is None else end
    if end - start <= limit:
        return text[start:end]
    half = limit // 2
    return text[start : start + half] + " … " + text[end - half : end]


def shorten_long_words(message: str) -> str:
    """The message with each word of over 80 characters (a 100,000-letter name pasted by
    mistake) cut in its middle and counted, so that the line stays one line."""
    if len(message) <= 200:
        return message
    return " ".join(
        w if len(w) <= 80 else f"{w[:50]}…({len(w) - 70:,} characters)…{w[-20:]}"
        for w in message.split(" ")
    )


# ---------------------------------------------------------------------------
# hints


def closest(word: str, known) -> str | None:
    """The known word closest to `word` when one is close enough to be a typo, else None."""
    import difflib

    close = difflib.get_close_matches(word, list(known), n=1)
    return close[0] if close else None


def did_you_mean(word: str, known) -> str:
    """' (did you mean sin?)' for a word close to a known one, else ''."""
    close = closest(word, known)
    return f" (did you mean {close}?)" if close else ""


# ---------------------------------------------------------------------------
# streams: colours, and streams that take ASCII only


class Terminal:
    """cg's options for what it writes: --color auto|always|never, --ascii (the command line
    sets them before each command)."""

    color = "auto"
    ascii = False


def color_on(stream) -> bool:
    """Whether to write colours to `stream`: --color always or never; else NO_COLOR (set and not
    empty) turns them off, FORCE_COLOR turns them on, and otherwise a terminal gets them (not
    TERM=dumb). The same rule for every output, as https://no-color.org asks."""
    if Terminal.color != "auto":
        return Terminal.color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def ascii_only(stream) -> bool:
    """The stream takes ASCII only: --ascii; an encoding that is not UTF-8
    (PYTHONIOENCODING=ascii); or a terminal whose locale is not UTF-8 (LANG=C, LC_ALL=POSIX,
    no locale set) or that is TERM=dumb. Python writes UTF-8 under the C locale anyway (its UTF-8
    mode), which such a terminal shows as mojibake; piped output follows the encoding only."""
    if Terminal.ascii:
        return True
    encoding = getattr(stream, "encoding", None) or "utf-8"
    if not encoding.lower().replace("-", "").startswith("utf"):
        return True
    return _real_terminal(stream) and not _utf8_terminal()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _real_terminal(stream) -> bool:
    """A terminal device (not a buffer that says it is one, as a notebook's)."""
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return False


def _utf8_terminal() -> bool:
    """The terminal's locale, as the user set it, names UTF-8 (and TERM is not dumb)."""
    if os.environ.get("TERM") == "dumb":
        return False
    for variable in ("LC_ALL", "LC_CTYPE", "LANG"):
        name = os.environ.get(variable, "")
        if variable == "LC_CTYPE" and _coerced(name):
            continue  # Python set it for the C locale (PEP 538): the user's is LANG's, or none
        if name:
            return "utf8" in name.lower().replace("-", "")
    return False  # no locale: C


def _coerced(name: str) -> bool:
    """LC_CTYPE was set by Python itself, coercing a C locale to UTF-8 (it then runs in UTF-8
    mode without being asked to)."""
    import sys

    asked = os.environ.get("PYTHONUTF8") == "1" or "utf8" in getattr(sys, "_xoptions", {})
    return sys.flags.utf8_mode and not asked and name in ("C.UTF-8", "C.utf8", "UTF-8")


_FOR_ASCII = {"∂²": "d2", "∂": "d", "×": "x", "·": ".", "…": "...", "←": "<-", "→": "->", "↑": "^"}


def plain_signs(text: str) -> str:
    """`text` for an ASCII-only stream: ∂ as d, × as x, arrows as -> and the like, every other
    character that is not ASCII as a \\u escape."""
    for sign, ascii in _FOR_ASCII.items():
        text = text.replace(sign, ascii)
    return escaped(text)


def _u_escape(error: UnicodeEncodeError) -> tuple[str, int]:
    """What a stream cannot encode, as \\u03b8 (Python's backslashreplace writes \\xd7 below U+0100)."""
    text = error.object[error.start : error.end]
    return "".join(
        f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in text
    ), error.end


U_ESCAPE = "cg-u-escape"  # the error handler's name, for str.encode and stream.reconfigure
codecs.register_error(U_ESCAPE, _u_escape)


def escaped(text: str) -> str:
    """`text` in ASCII: every other character as a \\u escape."""
    return text.encode("ascii", U_ESCAPE).decode("ascii")


def as_ascii(text: str) -> str:
    """`text` for an ASCII-only stream: '…' as '...', other characters as \\u escapes."""
    return escaped(text.replace("…", "..."))
