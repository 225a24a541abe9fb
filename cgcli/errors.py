"""Errors a user can cause, each pointing at the place in their input."""

from __future__ import annotations

from .text import escaped, shorten_long_words

# Exit codes, documented in the README and in `cg --help`.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NOT_FINITE = 3
EXIT_INCONCLUSIVE = 4  # cg check: no check failed, and some could not tell
EXIT_CANNOT_WRITE = 5  # the output could not be written (a full disk, a closed standard output)

_WINDOW = 72  # characters of a long input line shown around the caret


class CgError(Exception):
    """Bad input: a message, and what it is about, in the library's terms: the text and the
    offset in it, the variable whose value is wrong, or the file. (The command line turns a
    variable or a file into a caret under the word that gave it.)"""

    def __init__(
        self,
        message: str,
        source: str | None = None,
        pos: int | None = None,
        variable: str | None = None,
        file: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos
        self.variable = variable
        self.file = file

    def saying(self, message: str) -> CgError:
        """The same error (about the same text, variable or file) with another message."""
        error = type(self).__new__(type(self), message)  # not __init__: subclasses take other args
        error.__dict__.update(self.__dict__)
        error.message = message
        return error

    def prefixed(self, what: str, hint: str = "") -> CgError:
        """The same error, its message saying what it is about first ('wrt: ') and a hint last."""
        return self.saying(what + self.message + hint)

    def render(self, ascii: bool = False) -> str:
        """One line saying what is wrong, then the input line with a caret under the spot. With
        `ascii`, for a stream that writes other characters as \\u escapes: the caret counts those."""
        lines = [f"cg: error: {shorten_long_words(self.message)}"]
        if self.source is not None and self.pos is not None:
            lines += caret_lines(self.source, self.pos, ascii)
        return "\n".join(lines)


class UnboundVariable(CgError):
    """The expression uses a variable that has no value (`variable` names it; the caret is at its
    first use). `hint` ends the message: a bound name that looks like it, for example."""

    def __init__(self, name: str, source: str | None, pos: int | None, hint: str = ""):
        super().__init__(f"no value for the variable {name}{hint}", source, pos, variable=name)
        self.hint = hint


class NotAVariable(CgError):
    """A name given as one of the expression's variables (to differentiate by, say) is not one
    (`variable` names it)."""


class UnknownGate(CgError):
    """A name that is not one of the gates fusion knows."""


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
        head = escaped(shown[:col])
        shown, col = head + escaped(shown[col:]), len(head)
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
