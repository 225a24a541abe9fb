"""Every malformed input: exit 2, one line saying what is wrong, the input, a caret; no traceback."""

import pytest
from conftest import run_bin, run_cli

# (expression, words the message must contain, column of the caret in the input)
CASES = [
    ("(x+", "unexpected end of input", 3),
    ("x+*y", "unexpected '*'", 2),
    ("2 3", "missing operator between '2' and '3'", 2),
    ("2x", "write 2*x", 1),
    ("2(x+1)", "implicit multiplication", 1),
    ("(x+1)(x-1)", "implicit multiplication", 5),
    ("sin(", "unexpected end of input", 4),
    ("sin x", "write sin(x)", 4),
    ("x$y", "unexpected character '$'", 1),
    (")", "unmatched ')'", 0),
    ("x+1)", "unmatched ')'", 3),
    ("(x+1", "missing ')'", 4),
    ("", "empty expression", 0),
    ("   # only a comment", "empty expression", 19),
    ("sine(x)", "unknown function 'sine' (did you mean sin?)", 0),
    ("max(x)", "max() takes 2 arguments, got 1", 0),
    ("exp(x, y)", "exp() takes 1 argument, got 2", 0),
    ("a\x00b", "NUL byte", 1),
    ("a = 1", "ends with an assignment", 5),
    ("x = ", "unexpected end of input", 4),
    ("x ** ", "unexpected end of input", 5),
    ("1 = x", "unexpected '='", 2),
    ("x,y", "unexpected ','", 1),
    # the caret counts terminal columns: a wide character takes two, a combining accent none
    ("变量+2x", "write 2*x", 6),
    (
        "cafe\u0301 + 1",
        "COMBINING ACUTE ACCENT cannot stand alone: write the accented letter as one character",
        3,
    ),
    (
        "x\u00a0+ 1",
        "the space U+00A0 (NO-BREAK SPACE), which cg does not read as a blank: use a plain space",
        1,
    ),
    ("x\u2028+ 1", "the space U+2028 (LINE SEPARATOR)", 1),
    ("x\u200b+ 1", "the invisible character U+200B (ZERO WIDTH SPACE)", 1),
    ("x\x07+ 1", "the control character U+0007;", 1),
]


def check_error(code, out, err, message, column, text):
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert lines[0].startswith("cg: error: ") and message in lines[0]
    shown = "".join(ch if ch.isprintable() else "?" for ch in text)
    assert lines[1] == "  " + shown
    assert lines[2] == " " * (2 + column) + "^"


@pytest.mark.parametrize("text, message, column", CASES)
def test_bad_expression_in_process(text, message, column):
    check_error(*run_cli(["grad", text]), message, column, text)


@pytest.mark.parametrize("text, message, column", CASES)
def test_bad_expression_installed_binary(text, message, column):
    check_error(*run_bin(["grad", "-"], input=text), message, column, text)


def test_error_on_a_later_line_names_the_line():
    code, out, err = run_cli(["grad", "a = x\nb = a +* 2\nb"])
    assert code == 2
    assert err.splitlines()[1:] == ["  line 2: b = a +* 2", " " * 17 + "^"]


def test_long_input_is_windowed_around_the_caret():
    text = " + ".join(f"x*{k}" for k in range(2000)) + " + $"
    code, out, err = run_cli(["grad", text])
    lines = err.splitlines()
    assert code == 2 and len(lines) == 3
    assert len(lines[1]) < 100 and lines[1].rstrip().endswith("+ $")
    assert lines[2].index("^") == lines[1].index("$")


def test_binary_file_input(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"x+\x00\xff\xfe")
    code, out, err = run_bin(["grad", "-f", str(path)])
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[0].startswith("cg: error: ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["grad", "x+y", "--x", "1"], "no value for the variable y: pass --y VALUE"),
        (["grad", "x", "--x", "1", "--x", "2"], "x is bound twice"),
        (["grad", "x", "--x", "1", "-v", "x=2"], "x is bound twice"),
        (
            ["grad", "x", "--x", "1", "--fromat", "json"],
            "unknown option --fromat (did you mean --format?)",
        ),
        (["grad", "x", "--x", "1+*2"], "--x: unexpected '*'"),
        (["grad", "x", "--x"], "--x needs a value"),
        (["grad", "x", "-v", "x"], "-v/--var takes NAME=VALUE"),
        (["grad", "x", "--x", "1", "--wrt", "y"], "--wrt y: the expression has no variable y"),
        (["grad", "x+e", "--x", "1", "--e", "2"], "e is the constant"),
        (["grad", "x", "+", "y"], "more than one expression"),
        (["grad", "--x", "1"], "no expression given"),
        (["grad", "x", "-f", "nonexistent-file.cg"], "not both"),
        (["grad", "-f", "nonexistent-file.cg"], "cannot read nonexistent-file.cg"),
    ],
)
def test_bad_bindings_and_usage(cg, args, message):
    code, out, err = cg(args)
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("cg: error: ") and message in err.splitlines()[0]


@pytest.mark.parametrize(
    "args, caret_under",
    [
        (["grad", "x", "--x", "1", "--fromat", "json"], "--fromat"),
        # a name the library says is no variable: under the option that gave it
        (["grad", "x", "--x", "1", "--wrt", "z"], "--wrt"),
        (["hessian", "x", "--x", "1", "--wrt", "x,z"], "--wrt"),
        (["grad", "x", "--x", "1", "--x", "2"], "--x 2"),  # the second binding
        (["grad", "x", "--x=1", "--x=2"], "--x=2"),
        (["grad", "y", "--y"], "--y"),
        (["grad", "x", "-v", "x"], "x"),  # the last x: -v's value
        (["check", "x", "--x", "1", "--expct", "5"], "--expct"),
        # an option the command does not have, which click would hand over as the expression -o
        (["hessian", "x*y", "--x", "1", "--y", "2", "-o", "h.csv"], "-o"),
        (["grad", "x", "--x", "1", "-z"], "-z"),
        (["eval", "x*2", "--x", "--", "--format", "plain"], "--x"),  # click would drop the --
        (["grad", "x", "--var=x"], "--var=x"),
        (["grad", "x", "-v", "x=1", "-v", "x=2"], "x=2"),
        # arrays of different lengths: the caret under the second binding's points
        (["grad", "x+y", "--x", "1,2", "--y", "1,2,3"], "1,2,3"),
        (["grad", "x+y", "--x", "1,2", "--y=1,2,3"], "--y=1,2,3"),
        (["eval", "x+y", "--y", "0:1:3", "-v", "x=1,2"], "x=1,2"),
        (["grad", "x", "+", "y"], "+"),  # more than one expression: where the second starts
        (["grad", "x", "-f", "nofile.cg"], "x"),
        (["grad", "-f", "nofile.cg"], "nofile.cg"),
        (["grad", "-f", "./nofile.cg"], "./nofile.cg"),  # shown by Path() as nofile.cg
        (["grad", "x", "--x", "1,2", "-o/nonexistent/out.csv"], "-o/nonexistent/out.csv"),
        (["grad", "x*y", "-vx=1,2", "-vy=1,2,3"], "-vy=1,2,3"),
        (["grad", "x*y", "-v", "x=1,2,3", "--var=y=1,2"], "--var=y=1,2"),
        # an option given twice with different values: under the one that is wrong
        (
            ["check", "x", "--x", "1", "--expect-grad", "y=1", "--expect-grad", "x=1"],
            "--expect-grad y=1",
        ),
        (["check", "x", "--x", "1", "--against", "y=1", "--against", "x=1"], "--against y=1"),
        (["check", "x", "--random", "2", "--box", "3:1", "--box", "x=0:1"], "--box 3:1"),
        (
            ["check", "x", "--random", "2", "--box", "3:1", "--box", "30:40"],
            "--box 3:1",
        ),  # not a prefix of 30:40
        (["grad", "f", "--f", "1", "-o", "out.csv"], "1"),  # a variable named as an output column
        (["diff", "x", "--formt", "json"], "--formt"),
        (["diff", "x*y", "--x", "1"], "1"),  # cg diff takes no values
        # a gate that does not exist, as cg check says it
        (["grad", "sigmoid(x)", "--x", "1", "--fuse", "sigmod"], "--fuse"),
        (["diff", "sigmoid(x)", "--fuse=sigmoid,relu"], "--fuse"),
    ],
)
def test_binding_errors_show_the_command_line_with_a_caret(cg, args, caret_under):
    import shlex

    code, out, err = cg(args)
    shown = "cg " + " ".join(shlex.quote(a) for a in args)
    first, line, caret = err.splitlines()
    assert (code, line) == (2, "  " + shown)
    assert caret == " " * (2 + shown.rindex(caret_under)) + "^"


def test_a_gate_list_with_an_empty_name_points_into_the_list():
    code, out, err = run_cli(["grad", "sigmoid(x)", "--x", "1", "--fuse", "sigmoid,,softplus"])
    assert code == 2
    assert err.splitlines() == [
        "cg: error: --fuse: the list 'sigmoid,,softplus' has an empty name",
        "  sigmoid,,softplus",
        "          ^",
    ]


@pytest.mark.parametrize("args", [["grad", "--x", "1"], ["check", "--x", "1"]])
def test_no_expression_puts_the_caret_after_the_end(cg, args):
    code, out, err = cg(args)
    shown = "cg " + " ".join(args)
    assert code == 2
    assert err.splitlines()[1:] == ["  " + shown, " " * (2 + len(shown)) + "^"]


@pytest.mark.parametrize(
    "args, lines",
    [
        (
            ["grad", "x", "--x", "1", "--wrt", "x,x"],
            ["cg: error: --wrt: the list 'x,x' names x twice", "  x,x", "    ^"],
        ),
        (
            ["hessian", "x*y", "--x", "1", "--y", "2", "--wrt", "x,,y"],
            ["cg: error: --wrt: the list 'x,,y' has an empty name", "  x,,y", "    ^"],
        ),
        # cg check took a gate twice, and dropped an empty name, without a word
        (
            ["check", "x", "--x", "1", "--fuse=sigmoid,sigmoid"],
            [
                "cg: error: --fuse: the list 'sigmoid,sigmoid' names sigmoid twice",
                "  sigmoid,sigmoid",
                "          ^",
            ],
        ),
        (
            ["check", "x", "--x", "1", "--fuse=sigmoid,,softplus"],
            [
                "cg: error: --fuse: the list 'sigmoid,,softplus' has an empty name",
                "  sigmoid,,softplus",
                "          ^",
            ],
        ),
    ],
)
def test_name_lists_say_which_option_they_belong_to(cg, args, lines):
    code, out, err = cg(args)
    assert (code, err.splitlines()) == (2, lines)


def test_unbound_variable_points_at_its_first_use():
    code, out, err = run_cli(["grad", "x + y*y", "--x", "1"])
    assert err.splitlines()[1:] == ["  x + y*y", "      ^"]


def test_not_a_constant_binding_points_into_the_value():
    code, out, err = run_cli(["grad", "x", "--x", "2*y"])
    assert code == 2
    assert err.splitlines()[1:] == ["  2*y", "    ^"]


def test_unknown_option_format_value_is_a_usage_error(cg):
    code, out, err = cg(["grad", "x", "--x", "1", "--format", "xml"])
    assert code == 2 and "Traceback" not in err


@pytest.mark.parametrize(
    "command, usage",
    [
        ("eval", "cg eval EXPR [--x VALUE ...]"),
        ("hessian", "cg hessian EXPR [--x VALUE ...]"),
        ("diff", "cg diff EXPR"),
    ],
)
def test_no_expression_names_the_command_that_needs_one(command, usage):
    code, out, err = run_cli([command])
    shown = f"cg {command}"
    assert (code, err) == (
        2,
        f"cg: error: no expression given: {usage} (EXPR '-' reads standard input)\n  {shown}\n{' ' * (2 + len(shown))}^\n",
    )


# click's own usage errors, in cg's form: (words after cg, the message's start, the caret's column
# in the shown command line "cg WORDS" (None: just after its end))
USAGE_CASES = [
    (
        ["grad", "x", "--x", "1", "--format", "xml"],
        "invalid value for '--format': 'xml' is not one of 'human', 'json', 'plain', 'csv', 'tree', 'table', 'text'",
        25,
    ),
    (["grad", "x", "--x", "1", "--format=xml"], "invalid value for '--format'", 25),
    (["grad", "(x", "--format", "j son"], "invalid value for '--format': 'j son'", 23),
    (
        ["check", "x", "--x", "1", "--random", "abc"],
        "--random takes a whole number, got 'abc'",
        26,
    ),
    (["grad", "x", "--x", "1", "--format"], "option '--format' requires an argument", None),
    (
        ["gradd", "x"],
        "no such command 'gradd'",
        3,
    ),  # newer click adds ". Did you mean 'grad', 'graph'?"
    (["functions", "--bogus"], "no such option: --bogus", 13),
    (["--bogus"], "no such option: --bogus", 3),
    # click would write a file named '=a.csv'
    (
        ["grad", "x", "--x", "1", "-o=a.csv"],
        "write -o a.csv or --output=a.csv (after a short option, '=' would be part of the value)",
        16,
    ),
    (["graph", "x", "-f=f.txt"], "write -f f.txt or --file=f.txt", 11),
    # click keeps the last of an option given twice: cg check would check only 1 and pass
    (
        ["check", "x", "--x", "1", "--expect", "5", "--expect", "1"],
        "--expect is given twice: give it once",
        28,
    ),
    (["grad", "x", "--x", "1", "--wrt", "x", "--wrt=x"], "--wrt is given twice: give it once", 24),
    (
        ["grad", "x", "--x", "1", "-o", "a.csv", "--output", "b.csv"],
        "--output is given twice: give it once",
        25,
    ),
    (["grad", "x", "--x", "1,2", "-oa.csv", "-ob.csv"], "-o is given twice: give it once", 26),
    (["fusions", "extra"], "got unexpected extra argument", 11),
    (["graph", "x", "--x", "1"], "missing option '--output' / '-o'", None),
]


@pytest.mark.parametrize("words, message, column", USAGE_CASES)
def test_usage_errors_are_one_line_with_a_caret(cg, words, message, column, tmp_path, monkeypatch):
    import shlex

    monkeypatch.chdir(tmp_path)
    code, out, err = cg(words)
    assert list(tmp_path.iterdir()) == []
    shown = "cg " + " ".join(shlex.quote(w) for w in words)
    assert (code, out) == (2, "")
    first, *rest = err.splitlines()
    assert first.startswith(f"cg: error: {message}")
    assert rest == ["  " + shown, " " * (2 + (len(shown) if column is None else column)) + "^"]


def test_no_arguments_still_shows_the_help(cg):
    code, out, err = cg([])
    assert "[OPTIONS] COMMAND [ARGS]" in out + err and "cg: error" not in out + err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["eval", "x*y", "--x", "1", "--y", "2", "--explain"],
            "cg eval has no option --explain (cg grad has it)",
        ),
        (
            ["eval", "x", "--x", "1", "--wrt", "x"],
            "cg eval has no option --wrt (cg grad, cg diff, cg hessian have it)",
        ),
        (
            ["grad", "x", "--x", "1", "--expect", "3"],
            "cg grad has no option --expect (cg check has it)",
        ),
    ],
)
def test_another_commands_option_is_named_as_such(cg, args, message):
    code, out, err = cg(args)
    assert (code, out, err.splitlines()[0]) == (2, "", f"cg: error: {message}")
    assert cg(["eval", "wrt*2", "--wrt", "3", "--format", "plain"])[:2] == (
        0,
        "f 6\n",
    )  # a variable of that name is fine


def test_end_of_a_file_with_its_last_newline_points_after_the_last_character(cg):
    code, out, err = cg(["grad", "-", "--x", "1"], input="a = x\n(a + 1\n")
    assert (code, err.splitlines()[1:]) == (2, ["  line 2: (a + 1", " " * 16 + "^"])


def test_an_ascii_only_stderr_gets_u_escapes_for_every_character():
    code, out, err = run_bin(
        ["grad", "x/0", "--x", "1", "--format", "plain"], env={"PYTHONIOENCODING": "ascii"}
    )
    assert "upstream 1 \\u00d7 local gradient inf" in err and "\\x" not in err


@pytest.mark.parametrize(
    "text, lines",
    [
        (
            "0x10",
            [
                "cg: error: numbers are decimal: 0x10 (hexadecimal, binary, octal) is not supported",
                "  0x10",
                "  ^",
            ],
        ),  # said "write 0*x10"
        (
            "1_000*x",
            ["cg: error: digits cannot be grouped with '_': write 1000", "  1_000*x", "   ^"],
        ),
        ("2x", ["cg: error: implicit multiplication is not supported: write 2*x", "  2x", "   ^"]),
    ],
)
def test_numbers_written_as_in_other_languages(text, lines):
    code, out, err = run_cli(["grad", text, "--x", "1"])
    assert (code, err.splitlines()) == (2, lines)


def test_an_empty_binding_points_at_it_on_the_command_line(cg):
    code, out, err = cg(["grad", "x**2", "--x", ""])
    assert (code, err.splitlines()) == (
        2,
        ["cg: error: --x: no value", "  cg grad 'x**2' --x ''", " " * 21 + "^"],
    )


def test_a_crlf_line_is_shown_without_its_cr():
    code, out, err = run_cli(["grad", "-", "--x", "1", "--y", "2"], input="a = x*y\r\na + (\r\n")
    assert (code, err.splitlines()[1:]) == (2, ["  line 2: a + (", " " * 15 + "^"])


def test_an_empty_command_has_the_caret_under_its_first_quote(cg):
    code, out, err = cg([""])
    assert (code, err.splitlines()[1:]) == (2, ["  cg ''", "     ^"])


def test_a_huge_name_in_a_message_is_cut_in_its_middle():
    name = "x" * 100_000
    code, out, err = run_cli(["grad", name])
    first = err.splitlines()[0]
    assert code == 2 and len(first) < 400 and "…(99,931 characters)…" in first


def test_many_unused_statements_are_said_in_eleven_lines():
    text = "; ".join(f"a{i} = 1" for i in range(20_000)) + "; x"
    code, out, err = run_cli(["grad", text, "--x", "1", "--format", "plain"])
    lines = err.splitlines()
    assert (code, len(lines)) == (0, 11)
    assert lines[0] == "cg: warning: statement 'a0' is not used by the result"
    assert lines[-1] == "cg: warning: and 19,990 more statements are not used by the result"
