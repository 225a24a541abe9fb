"""The command line: exact output of each format, bindings, exit codes; cross-checked with the API."""

import json
import math
import re
import signal
import subprocess

import pytest
from conftest import run_bin, run_cli

from cgcli import __version__, grad
from cgcli.text import shortest_float


def test_grad_tree_shows_every_node(cg):
    code, out, err = cg(["grad", "(x+y)**2", "--x", "1", "--y", "2"], env={"NO_COLOR": "1"})
    assert (code, err) == (0, "")
    assert out == (
        "f = 9\n"
        "└── pow  (x+y)**2 = 9   grad 1   #4\n"
        "    ├── add  x+y = 3   grad 6   #2\n"
        "    │   ├── x = 1   grad 6   #0\n"
        "    │   └── y = 2   grad 6   #1\n"
        "    └── 2   #3\n"
        "∂f/∂x = 6\n"
        "∂f/∂y = 6\n"
    )
    assert "\x1b[" not in out  # no colour codes when NO_COLOR is set or stdout is not a terminal


def test_tree_shows_a_shared_node_once_then_as_reference():
    code, out, err = run_cli(["grad", "a = x+y; a*a + a", "--x", "1", "--y", "2"])
    assert code == 0
    assert out.count("add  a = x+y = 3") == 1
    assert "↑ #2 x+y (shared, shown above)" in out


def test_tree_on_an_ascii_terminal():
    code, out, err = run_bin(
        ["grad", "θ*(x+y)", "--x", "1", "--y", "2", "-v", "θ=3"], env={"PYTHONIOENCODING": "ascii"}
    )
    assert code == 0, err
    out.encode("ascii")  # nothing outside ASCII
    assert "df/dx = 3" in out and ("+-- " in out or "`-- " in out)
    assert "\\u03b8" in out  # the user's name is escaped, not dropped


def test_tree_prints_user_text_as_typed_not_as_markup():
    code, out, err = run_cli(
        ["grad", "-"], input="(x # [x] and [bold]y[/bold]\n + 1)", env={"NO_COLOR": "1"}
    )
    # no value for x: the error shows the program's line as typed, with the caret under x
    assert (code, out) == (2, "") and err.splitlines() == [
        "cg: error: no value for the variable x: pass --x VALUE",
        "  line 1: (x # [x] and [bold]y[/bold]",
        "           ^",
    ]
    code, out, err = run_cli(["grad", "-", "--x", "1"], input="(x # [x] and [bold]y[/bold]\n + 1)")
    assert code == 0 and "[x] and [bold]y[/bold]" in out


def test_json_format_matches_the_api(cg):
    code, out, err = cg(
        [
            "grad",
            "1/(1+exp(-(w0*x0+w1*x1+w2)))",
            "--w0",
            "2",
            "--x0",
            "-1",
            "--w1",
            "-3",
            "--x1",
            "-2",
            "--w2",
            "-3",
            "--format",
            "json",
        ]
    )
    assert code == 0
    data = json.loads(out)
    r = grad("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    assert data["value"] == r.value
    assert data["grad"] == r.gradients  # floats round-trip exactly
    assert list(data["grad"]) == ["w0", "x0", "w1", "x1", "w2"]
    assert len(data["nodes"]) == len(r.graph.nodes)
    for entry, node in zip(data["nodes"], r.graph.nodes):
        assert set(entry) >= {"id", "op", "name", "text", "value", "grad", "inputs"}
        assert entry["id"] == node.id and entry["inputs"] == list(node.inputs)
        assert entry["value"] == r.values[node.id]
    root = data["nodes"][-1]
    assert (root["op"], root["text"], root["grad"]) == ("div", "1/(1+exp(-(w0*x0+w1*x1+w2)))", 1.0)


@pytest.mark.parametrize(
    "program, bindings",
    [
        (
            'a = θ*2\nb = (a +  # "quoted" \\ and [x]\n  1e-3)\nlog(b - 1) + sqrt(-a) + 1/0 + c',
            {"θ": -0.5, "c": 1e308},
        ),
        ("pi = 3; x*pi + exp(1000)", {"x": 2.0}),
        ("2 + 3", {}),
    ],
)
def test_json_node_lines_are_what_the_encoder_writes(program, bindings):
    """result_output.node_json writes most node lines with f-strings, not the encoder: same text, byte for byte,
    for names, statement labels, escaped text (quotes, backslash, newline), nan and inf, and nodes
    with no gradient (constants; every node of cg eval)."""
    from cgcli import evaluate, result_output

    for r in (grad(program, bindings), evaluate(program, bindings)):
        for i in range(len(r.graph.op)):
            assert result_output.node_json(r, i) == json.dumps(
                result_output.node_entry(r, i), ensure_ascii=False, allow_nan=False
            )


def test_json_no_nodes_and_nonfinite_as_strings(cg):
    code, out, err = cg(
        ["grad", "sqrt(x) + log(y)", "--x", "0", "--y", "-1", "--format", "json", "--no-nodes"]
    )
    assert code == 3
    data = json.loads(out)
    assert "nodes" not in data
    assert data["value"] == "nan"
    assert data["grad"] == {"x": "inf", "y": -1.0}

    def reject(token):
        raise AssertionError(f"bare {token} in JSON")

    json.loads(out, parse_constant=reject)  # strict JSON: no NaN or Infinity tokens


def test_plain_format_full_precision(cg):
    code, out, err = cg(
        [
            "grad",
            "1/(1+exp(-(w0*x0+w1*x1+w2)))",
            "--w0",
            "2",
            "--x0",
            "-1",
            "--w1",
            "-3",
            "--x1",
            "-2",
            "--w2",
            "-3",
            "--format",
            "plain",
        ]
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "f 0.7310585786300049"
    assert [line.split()[0] for line in lines[1:]] == ["w0", "x0", "w1", "x1", "w2"]
    r = grad("1/(1+exp(-(w0*x0+w1*x1+w2)))", {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3})
    assert [float(line.split()[1]) for line in lines[1:]] == list(r.gradients.values())


@pytest.mark.parametrize(
    "bindings",
    [
        ["--x", "1", "--y", "2"],
        ["--x=1", "--y=2"],
        ["-v", "x=1", "--var", "y=2"],
        ["--x", "0.5+0.5", "--y", "4/2"],
        ["--x", "1e0", "--y", "2.0E+0"],
    ],
)
def test_binding_spellings(cg, bindings):
    code, out, err = cg(["grad", "(x+y)**2", *bindings, "--format", "plain"])
    assert (code, out, err) == (0, "f 9\nx 6\ny 6\n", "")


def test_negative_and_constant_expression_bindings(cg):
    code, out, err = cg(["grad", "x*t", "--x", "-2.5", "--t", "pi/4", "--format", "plain"])
    assert code == 0
    assert out.splitlines() == ["f " + repr(-2.5 * math.pi / 4), f"x {math.pi / 4!r}", "t -2.5"]


def test_bindings_before_the_expression(cg):
    code, out, err = cg(["grad", "--x", "1", "--y", "2", "(x+y)**2", "--format", "plain"])
    assert (code, out) == (0, "f 9\nx 6\ny 6\n")


def test_var_works_for_names_that_clash_with_options(cg):
    code, out, err = cg(
        ["grad", "format*wrt", "-v", "format=2", "-v", "wrt=3", "--format", "plain"]
    )
    assert (code, out) == (0, "f 6\nformat 3\nwrt 2\n")


def test_unused_binding_is_a_warning_naming_it(cg):
    code, out, err = cg(["grad", "x*2", "--x", "1", "--y", "5", "--format", "plain"])
    assert (code, out) == (0, "f 2\nx 2\n")
    assert err == "cg: warning: binding y is not used by the expression\n"


def test_unused_statement_is_a_warning(cg):
    code, out, err = cg(["eval", "a = 1; b = x; x*2", "--x", "1", "--format", "plain"])
    assert (code, out) == (0, "f 2\n")
    assert "statement 'a' is not used" in err and "statement 'b' is not used" in err


def test_wrt_limits_the_printed_gradients(cg):
    code, out, err = cg(
        ["grad", "x*y*z", "--x", "1", "--y", "2", "--z", "3", "--wrt", "z,x", "--format", "plain"]
    )
    assert (code, out) == (0, "f 6\nz 2\nx 6\n")


def test_wrt_decides_the_exit_code():
    args = ["grad", "sqrt(x) + y", "--x", "0", "--y", "1", "--format", "plain"]
    assert run_cli(args + ["--wrt", "y"])[0] == 0
    assert run_cli(args)[0] == 3


def test_eval_prints_the_value_only(cg):
    code, out, err = cg(["eval", "(x+y)**2", "--x", "1", "--y", "2", "--format", "plain"])
    assert (code, out) == (0, "f 9\n")


def test_expression_from_stdin_and_from_a_file(cg, tmp_path):
    program = "# the seed example\nz = x + y\nz**2\n"
    code, out, err = cg(["grad", "-", "--x", "1", "--y", "2", "--format", "plain"], input=program)
    assert (code, out) == (0, "f 9\nx 6\ny 6\n")
    path = tmp_path / "f.cg"
    path.write_text(program)
    code, out, err = cg(["grad", "-f", str(path), "--x", "1", "--y", "2", "--format", "plain"])
    assert (code, out) == (0, "f 9\nx 6\ny 6\n")
    for words in (
        ["-f", "-"],
        ["--file", "-"],
        ["-f-"],
    ):  # the file '-' is standard input, as for EXPR
        code, out, err = cg(
            ["grad", *words, "--x", "1", "--y", "2", "--format", "plain"], input=program
        )
        assert (code, out, err) == (0, "f 9\nx 6\ny 6\n", "")


@pytest.mark.parametrize(
    "expr, warning",
    [
        (
            "(-8)**(1/3)",
            "value nan first appears at node #5 (pow) '(-8)**(1/3)' from input -8, 0.3333333333333333",
        ),
        ("log(-1)", "value nan first appears at node #2 (log) 'log(-1)' from input -1"),
        ("sqrt(-1)", "value nan first appears at node #2 (sqrt) 'sqrt(-1)' from input -1"),
        ("1/0", "value inf first appears at node #2 (div) '1/0' from input 1, 0"),
        ("0**-1", "value inf first appears at node #3 (pow) '0**-1' from input 0, -1"),
        ("exp(1000)", "value inf first appears at node #1 (exp) 'exp(1000)' from input 1000"),
    ],
)
def test_nonfinite_values_warn_and_exit_3(cg, expr, warning):
    code, out, err = cg(["eval", expr, "--format", "plain"])
    assert code == 3
    assert out in ("f nan\n", "f inf\n")
    assert err == f"cg: warning: {warning}\n"


def test_version_and_help(cg):
    code, out, err = cg(["--version"])
    assert (code, out) == (0, f"cg {__version__}\n")
    code, out, err = cg(["grad", "--help"])
    assert code == 0
    assert "Exit codes" in out and "cg grad" in out


def test_python_dash_m_and_grammar_command(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "cgcli", "grad", "x*x", "--x", "3", "--format", "plain"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (proc.returncode, proc.stdout) == (0, "f 9\nx 6\n")


def test_functions_lists_every_op_with_its_rule(cg):
    from cgcli.ops import TABLE

    code, out, err = cg(["functions"], env={"COLUMNS": "200"})
    assert code == 0
    for op in TABLE:
        for formula in op.grads:
            assert formula in out
    assert "relu'(0) = 0" in out and "at a tie each side gets 0.5" in out


@pytest.mark.parametrize("expr", ["a = x+y; a*a + sin(a)", "1/(1+exp(-(w*x)))", "(x+y)**2"])
def test_rich_on_a_terminal_and_plain_when_piped_draw_the_same_tree(expr, monkeypatch):
    import io
    import re

    from cgcli import fuse, parse
    from cgcli.tree import write_tree

    class Terminal(io.StringIO):
        encoding = "utf-8"

        def isatty(self):
            return True

    class Pipe(io.StringIO):
        encoding = "utf-8"

    monkeypatch.setenv("COLUMNS", "500")  # a wide terminal: Rich wraps long lines in a narrow one
    r = grad(fuse(parse(expr)), {"x": 1, "y": 2, "w": 3})
    terminal, pipe = Terminal(), Pipe()
    write_tree(r, terminal, fused_from=99)
    write_tree(r, pipe, fused_from=99)
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # Rich's styles
    assert drawn == pipe.getvalue()
    assert "\x1b[" in terminal.getvalue()  # the terminal did get colours


def test_dir_prints_forward_mode_beside_gradient_dot_unit(cg):
    code, out, err = cg(["grad", "x*y + sin(x)", "--x", "1", "--y", "2", "--dir", "x=3,y=4"])
    assert code == 0, err
    *_, last = out.splitlines()
    forward_mode, dot = last.split("forward mode ")[1].split(", gradient · unit ")
    assert last.startswith("along (x=0.6, y=0.8): ")
    r = grad("x*y + sin(x)", {"x": 1, "y": 2})
    assert float(dot) == pytest.approx(0.6 * r.gradients["x"] + 0.8 * r.gradients["y"], rel=1e-15)
    assert float(forward_mode) == pytest.approx(float(dot), rel=1e-14)
    code, out, err = cg(
        ["grad", "x*y + sin(x)", "--x", "1", "--y", "2", "--dir", "x=3,y=4", "--format", "plain"]
    )
    # name value lines: the directional derivative is one more, `dir VALUE`
    assert [line.split(" ")[0] for line in out.splitlines()] == ["f", "x", "y", "dir"]
    assert out.splitlines()[-1] == f"dir {forward_mode}"


def test_dir_in_json_and_over_a_batch(cg):
    code, out, err = cg(
        ["grad", "x*x", "--x", "1,2", "--dir", "x=-2", "--format", "json", "--no-nodes"]
    )
    data = json.loads(out)
    assert data["directional"] == {
        "unit": {"x": -1.0},
        "forward_mode": [-2.0, -4.0],
        "gradient_dot_unit": [-2.0, -4.0],
    }


@pytest.mark.parametrize(
    "direction, message",
    [
        ("x=0", "zero vector"),
        ("z=1", "no variable z"),
        ("x", "NAME=VALUE"),
        ("x=1,x", "NAME=VALUE"),
    ],
)
def test_dir_errors(direction, message):
    code, out, err = run_cli(["grad", "x*x", "--x", "1", "--dir", direction])
    assert code == 2 and message in err


@pytest.mark.parametrize(
    "value, message",
    [
        ("0,0", "give NAME=VALUE,… such as x=1,y=0; got '0,0'"),
        ("x=1,x=2", "x is given twice"),
    ],
)
def test_a_dir_that_is_not_a_vector_is_said_under_its_value(cg, value, message):
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", "--dir", value])
    shown = f"cg grad 'x*y' --x 1 --y 2 --dir {value}"
    assert (code, err.splitlines()) == (
        2,
        [f"cg: error: --dir: {message}", "  " + shown, " " * (2 + shown.rindex(value)) + "^"],
    )


@pytest.mark.parametrize("dir_words", [["--dir", "x=0,y=-0"], ["--dir=x=0,y=-0"]])
def test_a_zero_direction_is_shown_under_the_dir_value(cg, dir_words):
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", *dir_words])
    shown = "cg grad 'x*y' --x 1 --y 2 " + " ".join(dir_words)
    assert (code, out, err.splitlines()) == (
        2,
        "",
        [
            "cg: error: --dir: the direction is the zero vector; "
            "give at least one component that is not 0",
            "  " + shown,
            " " * (2 + shown.index("x=0")) + "^",
        ],
    )


@pytest.mark.parametrize(
    "value, want",
    [
        ("-log(2)", -math.log(2)),
        ("-cos(1)", -math.cos(1)),
        ("-floor(2.5)", -2.0),
        ("-softplus(0)", -math.log(2)),
        ("-2.5e-3", -2.5e-3),
    ],
)
def test_a_binding_value_starting_with_minus_is_the_whole_word(cg, value, want):
    # click alone reads -log(2) as the short options -l and -o g(2), and -inf as -i -n -f
    code, out, err = cg(["grad", "x*y", "--x", value, "--y", "1", "--format", "plain"])
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "f " + shortest_float(want)
    code, out, err = cg(["grad", "x", "--x", "-inf", "--format", "plain"])
    assert (code, out, err) == (3, "f -inf\nx 1\n", "cg: warning: variable x is -inf\n")


def test_commas_and_colons_inside_parentheses_belong_to_the_value(cg):
    code, out, err = cg(["eval", "x", "--x", "max(1,2)", "--format", "plain"])
    assert (code, out, err) == (0, "f 2\n", "")
    code, out, err = cg(["eval", "x", "--x", "atan2(1,2),hypot(3,4)", "--format", "csv"])
    assert code == 0 and out == f"x,f\n{math.atan2(1, 2)!r},{math.atan2(1, 2)!r}\n5,5\n"
    code, out, err = cg(["eval", "x", "--x", "1,max(2,(3"])
    assert (
        code == 2
        and err
        == "cg: error: --x: missing ')' at the end of the input\n  1,max(2,(3\n            ^\n"
    )


@pytest.mark.parametrize(
    "value, message, caret",
    [
        (
            "0:1:1e999",
            "the count of a range must be a whole number from 1 to 1,000,000,000, got '1e999'",
            4,
        ),
        (
            "0:1:1e999-1e999",
            "the count of a range must be a whole number from 1 to 1,000,000,000, got '1e999-1e999'",
            4,
        ),
        (
            "0:1:1e12",
            "the count of a range must be a whole number from 1 to 1,000,000,000, got '1e12'",
            4,
        ),
        (
            "0:1:0",
            "the count of a range must be a whole number from 1 to 1,000,000,000, got '0'",
            4,
        ),
        ("0:1e999:3", "the ends of a range must be finite, got '1e999'", 2),
        ("0:1:2:3", "a range is start:stop:count, got '0:1:2:3'", 7),
        ("0:sin(y):3", "'sin(y)' is not a constant expression: it uses the name 'y'", 6),
    ],
)
def test_bad_ranges_are_refused_with_a_caret(cg, value, message, caret):
    code, out, err = cg(["eval", "x*2", "--x", value])
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [f"cg: error: --x: {message}", f"  {value}", " " * (2 + caret) + "^"]


def test_a_range_whose_width_overflows_still_has_its_ends():
    code, out, err = run_cli(["eval", "x", "--x", "-1e308:1e308:3", "--format", "csv"])
    assert (code, err) == (0, "") and out == "x,f\n-1e+308,-1e+308\n0,0\n1e+308,1e+308\n"


def test_a_binding_that_over_or_underflows_is_said(cg):
    code, out, err = cg(["grad", "x", "--x", "1e-400", "--format", "plain"])
    assert (
        code == 0
        and err == "cg: warning: --x: the number 1e-400 is too small for float64: it becomes 0\n"
    )
    # an overflow is said where it happens, as in an expression (it was only "variable x is inf")
    code, out, err = cg(["grad", "x", "--x", "1e308*10", "--format", "plain"])
    assert (
        code == 3
        and err
        == "cg: warning: --x: value inf first appears at node #2 (mul) '1e308*10' from input 1e+308, 10\ncg: warning: variable x is inf\n"
    )
    code, out, err = cg(["grad", "x", "--x", "1e400", "--format", "plain"])
    assert (
        code == 3
        and err
        == "cg: warning: --x: value inf first appears at node #0 (const) '1e400': too large for float64\ncg: warning: variable x is inf\n"
    )
    code, out, err = cg(["grad", "x", "--x", "1,1e308*10,-1e999", "--format", "csv"])
    assert code == 3 and err.splitlines() == [
        "cg: warning: --x: value inf first appears at node #2 (mul) '1e308*10' from input 1e+308, 10",
        "cg: warning: --x: value inf first appears at node #0 (const) '1e999': too large for float64",
        "cg: warning: variable x is inf at point 1",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["functions"],
        ["fusions"],
        ["grad", "x*y", "--x", "1", "--y", "2", "--dir", "x=1"],
        ["grad", "θ*2 + " + " + ".join(f"θ*{k}" for k in range(40)), "--θ", "1"],
        ["grad", "θ**2", "--θ", "1", "--explain"],
        ["grad", "θ*2", "--θ", "1", "--format", "plain"],
        ["grad", "θ*2", "--θ", "1,2", "--format", "csv"],
        ["check", "θ*θ", "--θ", "1"],
        ["hessian", "θ*y", "--θ", "1", "--y", "2"],
    ],
)
def test_an_ascii_only_terminal_gets_every_output_without_a_crash(args):
    code, out, err = run_bin(args, env={"PYTHONIOENCODING": "ascii"})
    assert code == 0 and "Traceback" not in err, err
    assert out.isascii() and out.strip()


@pytest.mark.parametrize(
    "args",
    [
        [
            "grad",
            "θ*2 + " + " + ".join(f"θ*{k}" for k in range(40)),
            "--θ",
            "1",
            "--format",
            "json",
        ],
        ["grad", "θ*2", "--θ", "1,2", "--format", "json"],
        ["hessian", "θ*y", "--θ", "1", "--y", "2", "--format", "json"],
        ["diff", "θ*θ*y", "--format", "json"],
        ["check", "θ*θ", "--θ", "1", "--format", "json"],
    ],
)
def test_json_on_an_ascii_only_terminal_is_the_same_json_in_escapes(args):
    code, out, err = run_bin(args, env={"PYTHONIOENCODING": "ascii"})
    assert code == 0 and out.isascii(), err
    code, want, err = run_bin(args, env={"PYTHONIOENCODING": "utf-8"})
    assert json.loads(out) == json.loads(want) and "θ" in want


def test_an_option_after_double_dash_is_read_as_a_binding_and_said_so(cg):
    code, out, err = cg(["grad", "--", "-x", "--x", "1", "--format", "plain"])
    assert code == 2
    assert (
        err
        == "cg: error: --format is an option: give options before --\n  cg grad -- -x --x 1 --format plain\n"
        + " " * 22
        + "^\n"
    )
    code, out, err = cg(["grad", "--format", "plain", "--", "-x", "--x", "1"])
    assert (code, out, err) == (0, "f -1\nx -1\n", "")


@pytest.mark.parametrize(
    "expr, bindings",
    [
        ("-x**3*sin(y)", ["--x", "2", "--y", "0.5"]),  # what cg diff prints for x**3*cos(y) --wrt y
        ("-softplus(-z)", ["--z", "0.3"]),
        ("-log(z)", ["--z", "0.3"]),
        ("-floor(z)", ["--z", "3.5"]),
    ],
)
def test_an_expression_that_starts_with_minus_is_read_whole(cg, expr, bindings):
    # click alone reads -x**3*cos(y) as the options -x, -o ... and -floor(z) as -f loor(z)
    code, out, err = cg(["grad", expr, *bindings, "--format", "plain"])
    assert (code, err) == (0, "")
    want = grad(expr, {b[2:]: float(v) for b, v in zip(bindings[::2], bindings[1::2])})
    assert out.splitlines()[0] == "f " + shortest_float(want.value)


def test_the_diff_to_eval_pipeline_works_for_a_negative_derivative(cg):
    code, derivative, err = cg(["diff", "x**3*cos(y)", "--wrt", "y"])
    assert (code, derivative) == (0, "-x**3*sin(y)\n")
    code, out, err = cg(["eval", derivative.strip(), "--x", "2", "--y", "0.5", "--format", "plain"])
    assert (code, out) == (0, "f " + shortest_float(-8 * math.sin(0.5)) + "\n")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--x", "3,4", "--explain"],
            "--explain shows the steps at one point: give each variable one value",
        ),
        (
            ["--x", "3", "--explain", "--format", "csv"],
            "--explain shows steps: use it with --format tree (the default) or json",
        ),
    ],
)
def test_explain_is_for_one_point_in_tree_or_json(cg, args, message):
    code, out, err = cg(["grad", "x*y", "--y", "1", *args])
    first, line, caret = err.splitlines()
    assert (code, out, first, line) == (
        2,
        "",
        f"cg: error: {message}",
        "  cg grad 'x*y' --y 1 " + " ".join(args),
    )
    assert caret == " " * line.index("--explain") + "^"


def test_a_direction_component_may_hold_commas_in_parentheses(cg):
    code, out, err = cg(
        ["grad", "x*y", "--x", "1", "--y", "2", "--dir", "x=hypot(3,4),y=0", "--format", "plain"]
    )
    assert code == 0 and out.splitlines()[-1] == "dir 2"
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", "--dir", "x=atan2(1,z),y=1"])
    assert code == 2 and err.splitlines() == [
        "cg: error: --dir x: 'atan2(1,z)' is not a constant expression: it uses the name 'z'",
        "  x=atan2(1,z),y=1",
        "            ^",
    ]


def test_a_picture_with_a_gradient_that_is_not_finite_is_exit_3(cg, tmp_path):
    code, out, err = cg(["graph", "sqrt(x)", "--x", "0", "-o", str(tmp_path / "s.dot")])
    assert code == 3 and "gradient inf first appears" in err and (tmp_path / "s.dot").exists()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: grad("x", {"x": None}), "x: None is not a number"),
        (lambda: grad("x", {"x": 10**400}), "is not a number (int too large to convert to float)"),
        (lambda: grad(None, {}), "the expression must be text or a Graph, got NoneType"),
    ],
)
def test_the_api_raises_cgerror_for_bad_values(call, message):
    from cgcli import CgError

    with pytest.raises(CgError, match=re.escape(message)):
        call()
    assert grad("x*y", {"x": 1, "y": 2}, wrt="y,x").gradients == {"y": 1.0, "x": 2.0}
    assert grad("x", {"x": "pi/2"}).value == math.pi / 2


@pytest.mark.parametrize(
    "call, message, variable",
    [
        (lambda: grad("x*y", {"x": 1, "y": 2}, wrt="x,z"), "the expression has no variable z", "z"),
        (lambda: grad("x*y", {"x": 1}), "no value for the variable y", "y"),
        (lambda: grad("x+y", {"x": [1, 2], "y": []}), "y has no points", "y"),
    ],
)
def test_the_api_says_what_is_wrong_in_its_own_terms(call, message, variable):
    """No command-line words ('--wrt', 'pass --y VALUE'): the error names the variable, and the
    command line turns that into its own words and a caret."""
    from cgcli import CgError

    with pytest.raises(CgError) as caught:
        call()
    assert (caught.value.message, caught.value.variable) == (message, variable)


def test_a_short_option_with_its_value_attached_is_still_that_option(cg, tmp_path):
    (tmp_path / "prog").write_text("x*3")
    code, out, err = cg(["grad", f"-f{tmp_path / 'prog'}", "--x", "2", "--format", "plain"])
    assert (code, out, err) == (0, "f 6\nx 3\n", "")
    code, out, err = cg(["grad", "x*y", "-vx=2", "-vy=-log(2)", "--format", "plain"])
    assert (code, out.splitlines()[0]) == (0, "f " + shortest_float(-2 * math.log(2)))


def test_a_command_without_bindings_reports_an_extra_word_as_typed():
    code, out, err = run_cli(["functions", "-x"])
    assert code == 2 and "-x" in err and "\0" not in err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["eval", "-2o", "-x"],
            "cg: error: -o -x: write a .csv or a .npz file",
        ),  # -2o is -2 and -o: -x is -o's value
        (["eval", "-v", "--v", "2"], "cg: error: -v/--var takes NAME=VALUE, got '--v'"),
        (
            ["grad", "x", "--x", "1", "--exlpain", "--format", "plain"],
            "cg: error: unknown option --exlpain (did you mean --explain?)",
        ),
        (["grad", "x", "--x", "--format", "json"], "cg: error: --x needs a value: --x VALUE"),
        (
            ["check", "x", "--x", "1", "--expct", "5"],
            "cg: error: unknown option --expct (did you mean --expect?); the expression has no variable expct (bind one with -v expct=VALUE)",
        ),
        (
            ["check", "--", "x", "--x", "1", "--expect", "5"],
            "cg: error: --expect is an option: give options before --",
        ),
    ],
)
def test_words_next_to_options_are_read_as_the_user_meant(cg, args, message):
    code, out, err = cg(args)
    assert (
        code == 2 and err.splitlines()[0] == message and "\0" not in err and "Traceback" not in err
    )


@pytest.mark.parametrize(
    "expr, first_line",
    [
        ("-cos(x", "cg: error: missing ')' at the end of the input"),
        ("-softplu(x)", "cg: error: unknown function 'softplu' (did you mean softplus?)"),
    ],
)
def test_a_bad_expression_that_starts_with_minus_gets_the_parsers_error(cg, expr, first_line):
    code, out, err = cg(["grad", expr, "--x", "1"])
    assert code == 2 and err.splitlines()[:2] == [first_line, f"  {expr}"]


def test_a_binding_after_the_stdin_dash_may_start_with_minus(cg):
    code, out, err = cg(["grad", "-", "--x", "-log(2)", "--format", "plain"], input="x*3")
    assert (code, out, err) == (0, f"f {shortest_float(-3 * math.log(2))}\nx 3\n", "")


def test_bindings_take_inf_and_nan_and_the_nan_they_make_is_named(cg):
    code, out, err = cg(["grad", "x*0", "--x", "-inf", "--format", "plain"])
    assert (code, out) == (3, "f nan\nx 0\n")
    assert (
        err
        == "cg: warning: variable x is -inf\ncg: warning: value nan first appears at node #2 (mul) 'x*0' from input -inf, 0\n"
    )
    code, out, err = cg(["grad", "x*0", "--x", "1,INF", "--format", "csv"])
    assert (code, out) == (
        3,
        "x,f,grad_x\n1,0,0\ninf,nan,0\n",
    ) and "at node #2 (mul) 'x*0' from input inf, 0 at point 1" in err
    assert cg(["eval", "x", "--x", "nan", "--format", "plain"])[:2] == (3, "f nan\n")


def test_a_nan_point_shows_in_the_range_and_hessian_exits_3_for_a_nan_value(cg):
    code, out, err = cg(["eval", "log(x)", "--x", "1,-1,2"])
    assert code == 3 and out.startswith(
        "f = 0 [0 .. 0.6931471805599453; nan at 1 point] at 3 points"
    )
    code, out, err = cg(["hessian", "log(x)", "--x", "-1"])
    assert code == 3 and "f = nan" in out
    code, out, err = cg(["hessian", "log(x)", "--x", "-1", "--format", "json"])
    assert code == 3 and '"value": "nan"' in out
    assert cg(["hessian", "log(x)", "--x", "-1", "--format", "plain"])[:2] == (
        0,
        "x -1\n",
    )  # only the matrix is printed


def test_an_ascii_only_terminal_gets_escapes_on_stderr_and_from_diff_with_the_caret_in_place():
    ascii = {"PYTHONIOENCODING": "ascii"}
    code, out, err = run_bin(["grad", "log(θ)", "--θ", "-1", "--format", "plain"], env=ascii)
    assert (code, out) == (3, "f nan\n\\u03b8 -1\n") and "'log(\\u03b8)'" in err and err.isascii()
    code, out, err = run_bin(["grad", "θ*"], env=ascii)
    assert err.splitlines()[1:] == ["  \\u03b8*", " " * 9 + "^"]
    code, out, err = run_bin(["diff", "θ**2"], env=ascii)
    assert (code, out) == (0, "2*\\u03b8\n")


def test_output_file_with_a_format_that_would_print_is_an_error(cg, tmp_path):
    target = tmp_path / "w.csv"
    code, out, err = cg(
        ["grad", "x*y", "--x", "1,2", "--y", "3", "-o", str(target), "--format", "json"]
    )
    assert (
        (code, out) == (2, "")
        and err.startswith(
            f"cg: error: -o {target} writes the results to the file and prints nothing"
        )
        and not target.exists()
    )
    assert cg(["grad", "x*y", "--x", "1,2", "--y", "3", "-o", str(target), "--format", "csv"])[
        :2
    ] == (0, "")
    assert target.read_text().startswith("x,y,f,grad_x,grad_y\n")


def test_small_things_said_not_dropped(cg, tmp_path):
    # a byte-order mark starting a file or stdin is not part of the program
    code, out, err = cg(["grad", "-", "--x", "1", "--format", "plain"], input="\ufeffx*2\n")
    assert (code, out, err) == (0, "f 2\nx 2\n", "")
    # a name twice in --wrt, or an empty one, is an error, not silently dropped
    code, out, err = cg(["grad", "x*y", "--x", "1", "--y", "2", "--wrt", "x,x"])
    assert (code, out) == (2, "") and err.splitlines() == [
        "cg: error: --wrt: the list 'x,x' names x twice",
        "  x,x",
        "    ^",
    ]
    assert cg(["grad", "x*y", "--x", "1", "--y", "2", "--wrt", "x,,y"])[2].startswith(
        "cg: error: --wrt: the list 'x,,y' has an empty name"
    )
    # one point of a range is 'at 1 point'
    assert cg(["grad", "x", "--x", "0:1:1"])[1].startswith("f = 0 [0 .. 0] at 1 point\n")
    # a repeated column of a points file: the caret under the repeat
    points = tmp_path / "dup.csv"
    points.write_text("x, y,x\n1,2,3\n")
    code, out, err = cg(["grad", "x*y", "--points", str(points)])
    assert err.splitlines()[1:] == ["  x, y,x", "       ^"] and "the column name 'x' repeats" in err


@pytest.mark.skipif(not hasattr(signal, "SIGPIPE"), reason="no SIGPIPE on this system")
@pytest.mark.parametrize(
    "args",
    [
        [
            "grad",
            "x**2",
            "--x",
            "0:1:200000",
            "--format",
            "csv",
        ],  # said "cannot write None: Broken pipe", exit 2
        [
            "check",
            "(x+y)**2",
            "--x",
            "1",
            "--y",
            "2",
            "--random",
            "3000",
            "--format",
            "json",
        ],  # exit 1: "a check failed"
    ],
)
def test_a_reader_that_goes_away_stops_cg_quietly(args):
    from conftest import cg_binary

    proc = subprocess.Popen([cg_binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)  # the output is far larger than a pipe holds: cg is still writing
    proc.stdout.close()  # as `| head -c 10` does
    err = proc.stderr.read()
    assert (proc.wait(timeout=120), err) == (-signal.SIGPIPE, b"")  # the shell shows 141


@pytest.mark.parametrize("name", ["foo", "wrt", "exp"])
def test_a_name_bound_with_v_is_a_binding_not_a_mistyped_option(cg, name):
    # -v foo=1 said "unknown option --var foo (did you mean --var?)"
    code, out, err = cg(["grad", "x", "-v", f"{name}=1", "--x", "1", "--format", "plain"])
    assert (code, out, err) == (
        0,
        "f 1\nx 1\n",
        f"cg: warning: binding {name} is not used by the expression\n",
    )
