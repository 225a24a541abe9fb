"""Characters named, not guessed: what an error says about a character cg does not read.

A character that looks like one cg reads (− for -, × for *, a fullwidth （) is named with its
code point and the ASCII character to write; a digit of another script (١, １) is not a digit;
a superscript is not a power; a byte that is not UTF-8 is said to be one. Names that differ
only in look-alike letters (a Cyrillic х for a Latin x) are told apart.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import CgError

# Look-alikes NFKC does not map to the ASCII character they stand for.
_LOOKS_LIKE = {
    "\u2212": "-",  # MINUS SIGN
    "\u2010": "-",  # HYPHEN
    "\u2011": "-",  # NON-BREAKING HYPHEN
    "\u2012": "-",  # FIGURE DASH
    "\u2013": "-",  # EN DASH
    "\u2014": "-",  # EM DASH
    "\u00d7": "*",  # MULTIPLICATION SIGN
    "\u00b7": "*",  # MIDDLE DOT
    "\u22c5": "*",  # DOT OPERATOR
    "\u2217": "*",  # ASTERISK OPERATOR
    "\u2219": "*",  # BULLET OPERATOR
    "\u00f7": "/",  # DIVISION SIGN
    "\u2215": "/",  # DIVISION SLASH
    "\u2044": "/",  # FRACTION SLASH
    "\u02c6": "^",  # MODIFIER LETTER CIRCUMFLEX ACCENT
}

# Letters of other alphabets drawn like Latin ones (NFKC keeps them: they are letters of their own).
_LETTER_LOOKS_LIKE = dict(
    zip(
        "аеорсухіјѕԁԛԝАВЕЅІЈКМНОРСТХУԌαοιυνκρτχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
        "aeopcyxijsdqwABESIJKMHOPCTXYGaoiuvkptxABEZHIKMNOPTYX",
        strict=True,
    )
)

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾ⁿⁱ"
_OPERAND_BEFORE = re.compile(r"(?:\w+|\.?[0-9][0-9.]*|\))\Z")


def name_of(ch: str) -> str:
    """U+2212 MINUS SIGN: the code point and Unicode's name for it."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}{f' {name}' if name else ''}"


def undecodable_byte(ch: str) -> int | None:
    """The byte a character stands for when Python decoded a command-line word that was not
    UTF-8 (os.fsdecode's surrogate escapes U+DC80..U+DCFF); None for any other character."""
    return ord(ch) - 0xDC00 if 0xDC80 <= ord(ch) <= 0xDCFF else None


def not_utf8(ch: str) -> str:
    return f"the input holds the byte 0x{undecodable_byte(ch):02X}, which is not valid UTF-8: cg reads UTF-8 text"


def ascii_equivalent(ch: str) -> str | None:
    """The ASCII character `ch` stands for (－ → -, ０ → 0, ; → ;), or None (also for ASCII)."""
    if ch.isascii():
        return None
    if ch in _LOOKS_LIKE:
        return _LOOKS_LIKE[ch]
    if ch.isdecimal():  # a digit of any script: its value, as an ASCII digit
        return str(unicodedata.decimal(ch))
    same = unicodedata.normalize("NFKC", ch)
    return same if same.isascii() and same.isprintable() and len(same) == 1 else None


def unexpected_character(source: str, pos: int) -> str:
    """What the grammar's error says about the character at `pos` that no token starts with."""
    ch = source[pos]
    if ch.isascii():  # $, ?, `: nothing to name beyond the character itself
        return f"unexpected character {ch!r}"
    if undecodable_byte(ch) is not None:
        return not_utf8(ch)
    if ch in _SUPERSCRIPTS:
        run = re.match(f"[{_SUPERSCRIPTS}]+", source[pos:]).group()
        power = unicodedata.normalize("NFKC", run)
        before = _OPERAND_BEFORE.search(source, 0, pos)
        base = "(…)" if before and before.group() == ")" else before.group() if before else "x"
        return f"{name_of(ch)}: superscripts are not powers: write {base}**{power}"
    if "SUBSCRIPT" in unicodedata.name(ch, "") and ascii_equivalent(ch):
        return f"{name_of(ch)}: subscripts are not part of names: write _{ascii_equivalent(ch)}"
    same = ascii_equivalent(ch)
    if same is not None and ch.isdecimal():
        return f"{name_of(ch)} is not an ASCII digit: write {same}"
    if same is not None:
        return f"unexpected character {ch!r} ({name_of(ch)}, which looks like {same}): write {same}"
    if unicodedata.numeric(ch, None) is not None:  # ½, Ⅻ, ①: numbers, not digits cg reads
        return f"{name_of(ch)} is not an ASCII digit: write numbers with 0-9"
    return f"unexpected character {ch!r} ({name_of(ch)})"


def _skeleton(ch: str) -> str:
    """The Latin letter or ASCII character `ch` is drawn like, or `ch` itself."""
    if ch in _LETTER_LOOKS_LIKE:
        return _LETTER_LOOKS_LIKE[ch]
    same = unicodedata.normalize("NFKC", ch)
    return same if len(same) == 1 else ch


def lookalike_difference(name: str, other: str) -> str | None:
    """When two different names look the same (a Cyrillic х where the other has a Latin x):
    'the names х and x differ in one letter: х (U+0445 CYRILLIC SMALL LETTER HA) is not x'.
    None when they differ otherwise (in length, or in a letter that looks different)."""
    if name == other or len(name) != len(other):
        return None
    pairs = [(a, b) for a, b in zip(name, other) if a != b]
    if not all(_skeleton(a) == _skeleton(b) for a, b in pairs):
        return None
    count = "one letter" if len(pairs) == 1 else f"{len(pairs)} letters"
    said = "; ".join(
        f"{a} ({name_of(a)}) is not {b}" + ("" if b.isascii() else f" ({name_of(b)})")
        for a, b in pairs
    )
    return f"the names {name} and {other} differ in {count}: {said}"


def lookalike_hint(name: str, others) -> str:
    """'; ' and lookalike_difference with the first of `others` that looks like `name`, or ''."""
    for other in others:
        said = lookalike_difference(name, other)
        if said:
            return f"; {said}"
    return ""


def whole_number(text: str) -> int:
    """An integer written with ASCII digits and an optional sign. int() alone also reads ２,
    ١٠ and 1_0; here a character other than 0-9 is an error that names it."""
    stripped = text.strip()
    odd = next((i for i, ch in enumerate(stripped) if not ch.isascii()), None)
    if odd is not None:
        raise CgError(unexpected_character(stripped, odd), stripped, odd)
    if not re.fullmatch(r"[+-]?[0-9]+", stripped):
        raise CgError(f"{text!r} is not a whole number (digits 0-9)")
    return int(stripped)
