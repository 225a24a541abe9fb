"""Errors a user can cause, each pointing at the place in their input."""

from __future__ import annotations

import codecs

# Exit codes, documented in the README and in `cg --help`.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FINITE = 3

_WINDOW = 72  # characters of a long input line shown around the caret


def _u_escape(error: UnicodeEncodeError) -> tuple[str, int]:
    """What a stream cannot encode, as \\u03b8 (Python's backslashreplace writes \\xd7 below U+0100)."""
    text = error.object[error.start : error.end]
    return "".join(
        f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}" for ch in text
    ), error.end


U_ESCAPE = "cg-u-escape"  # the error handler's name, for str.encode and stream.reconfigure
codecs.register_error(U_ESCAPE, _u_escape)


class CgError(Exception):
    """Bad input: a message, and optionally the text and the offset it is about, or what on the
    command line it is about: the variable whose binding is wrong, or a word as typed (a file's
    name; "" for something missing at the end). The command line then shows a caret there."""

    def __init__(
        self,
        message: str,
        source: str | None = None,
        pos: int | None = None,
        binding: str | None = None,
        word: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos
        self.binding = binding
        self.word = word

    def prefixed(self, what: str, hint: str = "") -> CgError:
        """The same error, its message saying what it is about first ('--wrt: ') and a hint last."""
        return CgError(what + self.message + hint, self.source, self.pos, self.binding, self.word)

    def render(self, ascii: bool = False) -> str:
        """One line saying what is wrong, then the input line with a caret under the spot. With
        `ascii`, for a stream that writes other characters as \\u escapes: the caret counts those."""
        lines = [f"cg: error: {_shortened(self.message)}"]
        if self.source is not None and self.pos is not None:
            lines += caret_lines(self.source, self.pos, ascii)
        return "\n".join(lines)


def _shortened(message: str) -> str:
    """The message with each word of over 80 characters (a 100,000-letter name pasted by
    mistake) cut in its middle, so that the line stays one line; the input line below has it."""
    if len(message) <= 200:
        return message
    return " ".join(
        w if len(w) <= 80 else f"{w[:50]}…({len(w) - 70:,} characters)…{w[-20:]}"
        for w in message.split(" ")
    )


def text_of(data: bytes, what: str) -> str:
    """A file's or standard input's bytes as text; a UTF-8 byte-order mark (Notepad's) is not text.
    Bytes that are not UTF-8: "`what` is not valid UTF-8 text", the caret at the first of them."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        shown = data.decode("utf-8", errors="replace")
        raise CgError(
            f"{what} is not valid UTF-8 text", shown, len(data[: e.start].decode("utf-8"))
        ) from None


def caret_lines(source: str, pos: int, ascii: bool = False) -> list[str]:
    """The line of `source` holding offset `pos` and a caret under it.

    `pos` may equal len(source): the caret then stands just after the end.
    Long lines are cut to a window around the caret; unprintable characters
    are shown as '?' so that the caret stays aligned.
    """
    pos = max(0, min(pos, len(source)))
    start = source.rfind("\n", 0, pos) + 1
    end = source.find("\n", pos)
    end = len(source) if end == -1 else end
    line, col = source[start:end], pos - start
    if line.endswith("\r") and col < len(line):  # a CRLF file's line ends before its \r
        line = line[:-1]
    prefix = ""
    if start or end < len(source):
        prefix = f"line {source.count(chr(10), 0, start) + 1}: "
    left = ""
    if len(line) > _WINDOW:
        lo = max(0, col - _WINDOW // 2)
        hi = lo + _WINDOW
        left = "…" if lo else ""
        right = "…" if hi < len(line) else ""
        line, col = line[lo:hi] + right, col - lo
    shown = "".join(ch if ch.isprintable() else "?" for ch in line)
    if ascii:
        head = shown[:col].encode("ascii", U_ESCAPE).decode("ascii")
        shown, col = head + shown[col:].encode("ascii", U_ESCAPE).decode("ascii"), len(head)
    indent = "  " + prefix + left
    under = _columns(shown[:col])
    if under and col < len(shown) and _columns(shown[col]) == 0:
        under -= 1  # a combining accent: under the letter it sits on
    return [indent + shown, " " * (len(indent) + under) + "^"]


def _columns(text: str) -> int:
    """How many terminal columns the text takes: 2 for a wide character (变), 0 for a combining one."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def out_of_memory(doing: str = "computing") -> CgError:
    """The one-line error for a MemoryError raised anywhere (the command line's top level catches
    it; exit EXIT_BAD_INPUT, as for input too big to handle): never a traceback."""
    return CgError(
        f"out of memory while {doing}: give fewer points or a smaller expression"
        " (the input's size limit is CG_MAX_INPUT_BYTES)"
    )
