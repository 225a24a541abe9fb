"""Bad characters named, not guessed: only ASCII digits are digits, look-alikes are named with
their code point and the character to write, names that differ in a look-alike letter are told
apart. Expected messages are written out by hand; the code points are checked against Python's
unicodedata, an independent table."""

import unicodedata

import pytest
from conftest import run_bin

from cgcli import characters, parse
from cgcli.errors import CgError


def error_of(args, input=None):
    """The first stderr line and the caret's column of a run that failed with exit code 2."""
    code, out, err = run_bin(args, input=input)
    assert code == 2, (out, err)
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    return lines[0], lines[2].index("^") - 2 if len(lines) > 2 else None


@pytest.mark.parametrize(
    "expr, message, at",
    [
        ("x+\uff11", "U+FF11 FULLWIDTH DIGIT ONE is not an ASCII digit: write 1", 2),
        ("\u0661\u0660*2", "U+0661 ARABIC-INDIC DIGIT ONE is not an ASCII digit: write 1", 0),
        ("1\u0663", "U+0663 ARABIC-INDIC DIGIT THREE is not an ASCII digit: write 3", 1),
        ("x\u0663", "U+0663 ARABIC-INDIC DIGIT THREE is not an ASCII digit: write 3", 1),
        (
            "x \u2212 1",
            "unexpected character '−' (U+2212 MINUS SIGN, which looks like -): write -",
            2,
        ),
        (
            "x \u00d7 2",
            "unexpected character '×' (U+00D7 MULTIPLICATION SIGN, which looks like *): write *",
            2,
        ),
        (
            "x \u00f7 2",
            "unexpected character '÷' (U+00F7 DIVISION SIGN, which looks like /): write /",
            2,
        ),
        (
            "y = x\u037e y",
            "unexpected character '\u037e' (U+037E GREEK QUESTION MARK, which looks like ;): write ;",
            5,
        ),
        (
            "\uff08x+1)",
            "unexpected character '（' (U+FF08 FULLWIDTH LEFT PARENTHESIS, which looks like (): write (",
            0,
        ),
        (
            "x\uff0b1",
            "unexpected character '＋' (U+FF0B FULLWIDTH PLUS SIGN, which looks like +): write +",
            1,
        ),
        ("x\u00b2", "U+00B2 SUPERSCRIPT TWO: superscripts are not powers: write x**2", 1),
        ("2*x\u00b2\u00b3", "U+00B2 SUPERSCRIPT TWO: superscripts are not powers: write x**23", 3),
        ("(x+1)\u00b3", "U+00B3 SUPERSCRIPT THREE: superscripts are not powers: write (…)**3", 5),
        ("x\u2081", "U+2081 SUBSCRIPT ONE: subscripts are not part of names: write _1", 1),
        (
            "\u00bd*x",
            "U+00BD VULGAR FRACTION ONE HALF is not an ASCII digit: write numbers with 0-9",
            0,
        ),
        ("x$y", "unexpected character '$'", 1),
        ("x\u2192y", "unexpected character '→' (U+2192 RIGHTWARDS ARROW)", 1),
        (
            "1e+",
            "the number 1e+ has no exponent: write its digits (1e+3), or 1*e to multiply by the constant e",
            1,
        ),
        ("x + 2.5E-", "the number 2.5E- has no exponent: write its digits (2.5E-3)", 7),
    ],
)
def test_a_character_cg_does_not_read_is_named(expr, message, at):
    assert error_of(["eval", expr, "--x", "2", "--y", "1"]) == (f"cg: error: {message}", at)


def test_the_code_points_named_are_unicodes_own():
    for ch in "\uff11\u0661\u2212\u00d7\u00f7\u037e\uff08\u00b2\u2081\u00bd\u0445":
        assert characters.name_of(ch) == f"U+{ord(ch):04X} {unicodedata.name(ch)}"


@pytest.mark.parametrize("value", ["\uff11", "\uff11,\uff12", "1:\uff12:3", "2*\u0661", "\uff11e3"])
def test_a_binding_with_a_non_ascii_digit_is_refused(value):
    first, _ = error_of(["eval", "x", "--x", value])
    assert first.startswith("cg: error: --x: U+") and "is not an ASCII digit: write" in first


def test_a_byte_that_is_not_utf8_on_the_command_line_is_said_to_be_one():
    assert error_of(["eval", b"x+\xff".decode("utf-8", "surrogateescape"), "--x", "1"]) == (
        "cg: error: the input holds the byte 0xFF, which is not valid UTF-8: cg reads UTF-8 text",
        2,
    )


def test_names_that_differ_in_a_lookalike_letter_are_told_apart():
    first, at = error_of(["grad", "\u0445+1", "--x", "1"])  # a Cyrillic х, a Latin --x
    assert at == 0
    assert first == (
        "cg: error: no value for the variable х: pass --х VALUE; the names х and x differ in one"
        " letter: х (U+0445 CYRILLIC SMALL LETTER HA) is not x"
    )
    assert characters.lookalike_difference("\u0440\u0445", "px") == (
        "the names рх and px differ in 2 letters: р (U+0440 CYRILLIC SMALL LETTER ER) is not p;"
        " х (U+0445 CYRILLIC SMALL LETTER HA) is not x"
    )
    assert characters.lookalike_difference("\u0445", "y") is None  # different letters
    assert characters.lookalike_difference("xx", "x") is None
    assert characters.lookalike_difference("x", "x") is None
    assert characters.lookalike_hint("\uff58", ["y", "x"]) == (  # a fullwidth ｘ
        "; the names ｘ and x differ in one letter: ｘ (U+FF58 FULLWIDTH LATIN SMALL LETTER X) is not x"
    )


@pytest.mark.parametrize("text", ["\u03b8 + 1", "x_1 + x2", "\u53d8\u91cf*2", "caf\u00e9"])
def test_names_of_any_alphabet_with_ascii_digits_still_parse(text):
    graph = parse(text)
    assert len(graph.variables) in (1, 2)


def test_a_number_is_ascii_digits_only_in_the_library_too():
    with pytest.raises(CgError, match="^U\\+0660 ARABIC-INDIC DIGIT ZERO is not an ASCII digit"):
        parse("1\u0660")
    assert characters.ascii_equivalent("\u0669") == "9"
    assert characters.ascii_equivalent("a") is None
    assert characters.ascii_equivalent("\u2192") is None


@pytest.mark.parametrize(
    "text, value", [("12", 12), (" -3 ", -3), ("+7", 7), ("99999999999999999999999", 10**23 - 1)]
)
def test_a_whole_number_is_ascii_digits(text, value):
    assert characters.whole_number(text) == value


@pytest.mark.parametrize(
    "text, message",
    [
        ("\uff12", "U+FF12 FULLWIDTH DIGIT TWO is not an ASCII digit: write 2"),
        ("1\u0660", "U+0660 ARABIC-INDIC DIGIT ZERO is not an ASCII digit: write 0"),
        ("1_0", "'1_0' is not a whole number (digits 0-9)"),
        ("1.5", "'1.5' is not a whole number (digits 0-9)"),
        ("", "'' is not a whole number (digits 0-9)"),
    ],
)
def test_a_whole_number_with_other_characters_is_refused(text, message):
    with pytest.raises(CgError) as caught:
        characters.whole_number(text)
    assert caught.value.message == message
