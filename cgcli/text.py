"""Small things every output needs: numbers as text, long text cut in its middle, a did-you-mean
hint, and text for a stream that takes ASCII only."""

from __future__ import annotations

import codecs
import math

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
# streams that take ASCII only


def ascii_only(stream) -> bool:
    """The stream cannot take every character (an ASCII-only terminal, PYTHONIOENCODING=ascii)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return not encoding.lower().replace("-", "").startswith("utf")


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
