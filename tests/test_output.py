"""What cg writes, through the installed cg: one --format vocabulary for every command, plain
`name value` lines, colours, ASCII terminals, narrow tables, and writes that fail."""

import json
import math

import pytest
from conftest import run_bin

from cgcli.api import grad

# each command with a point to run it at, and what its json holds
COMMANDS = {
    "grad": ["grad", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "eval": ["eval", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "check": ["check", "x*y + sin(x)", "--x", "1", "--y", "2"],
    "diff": ["diff", "x*y + sin(x)"],
    "hessian": ["hessian", "x*y + sin(x)", "--x", "1", "--y", "2"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_human_and_its_other_names_json_and_plain(command):
    args = COMMANDS[command]
    code, default, err = run_bin(args)
    assert (code, err) == (0, "")
    for name in ("human", "tree", "table", "text"):
        assert run_bin([*args, "--format", name]) == (0, default, ""), name
    code, out, err = run_bin([*args, "--format", "json"])
    assert (code, err) == (0, "") and isinstance(json.loads(out), dict)
    code, out, err = run_bin([*args, "--format", "plain"])
    assert (code, err) == (0, "")
    assert all(len(line.split(" ", 1)) == 2 for line in out.splitlines()), out


def test_csv_is_for_the_commands_that_write_points():
    code, out, err = run_bin([*COMMANDS["hessian"], "--format", "csv"])
    assert code == 2 and "'csv' is not one of 'human', 'json', 'plain'" in err


def test_plain_reads_with_while_read_name_value():
    want = grad("x*y + sin(x)", {"x": 1, "y": 2})
    code, out, err = run_bin([*COMMANDS["grad"], "--format", "plain"])
    pairs = [line.split(" ") for line in out.splitlines()]
    assert [name for name, _ in pairs] == ["f", "x", "y"]
    assert [float(v) for _, v in pairs] == [want.value, want.gradients["x"], want.gradients["y"]]


def test_check_plain_says_the_counts_and_the_status_last():
    code, out, err = run_bin([*COMMANDS["check"], "--random", "3", "--format", "plain"])
    assert (code, err) == (0, "")
    assert out.splitlines() == ["pass 8", "status pass"]  # 2 gradients at 4 points
    code, out, err = run_bin(
        ["check", "x*x", "--x", "3", "--expect-grad", "x=5", "--format", "plain"]
    )
    assert (code, out.splitlines()) == (1, ["pass 1", "fail 1", "status fail"])


def test_diff_plain_is_one_program_per_line_that_cg_eval_reads():
    expr = "sin(x*y)*exp(x*y)"
    code, out, err = run_bin(["diff", expr, "--format", "plain"])
    assert (code, err) == (0, "")
    lines = dict(line.split(" ", 1) for line in out.splitlines())
    assert list(lines) == ["x", "y"] and "; " in lines["x"]  # a statement and the result
    want = grad(expr, {"x": 0.5, "y": 2})
    for name, program in lines.items():
        code, value, err = run_bin(["eval", program, "--x", "0.5", "--y", "2", "--format", "plain"])
        assert code == 0, err
        assert math.isclose(float(value.split()[1]), want.gradients[name], rel_tol=1e-14)


# ---------------------------------------------------------------------------
# writes that fail


def _to_dev_full(args):
    import subprocess

    from conftest import cg_binary

    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [cg_binary(), *args], stdout=full, stderr=subprocess.PIPE, timeout=120
        )
    return proc.returncode, proc.stderr.decode()


@pytest.mark.parametrize(
    "args",
    [
        COMMANDS["grad"],
        [*COMMANDS["grad"], "--format", "json"],
        ["grad", "x", "--x", "1,2", "--format", "csv"],
        COMMANDS["check"],
        COMMANDS["diff"],
        [*COMMANDS["hessian"], "--format", "plain"],
        ["functions"],
        ["--help"],
        ["grad", "--help"],
        ["--version"],
    ],
)
def test_a_full_disk_is_one_line_and_exit_5(args):
    code, err = _to_dev_full(args)
    assert (code, err) == (5, "cg: error: cannot write standard output: No space left on device\n")


# ---------------------------------------------------------------------------
# terminals: colours and characters


def run_tty(args, env=None, columns=100):
    """The installed cg with its standard output on a pseudo-terminal of `columns` columns:
    (exit code, what the terminal got, stderr)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    from conftest import cg_binary

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update({"TERM": "xterm", "LANG": "C.UTF-8", "COLUMNS": str(columns)}, **(env or {}))
    for name in [k for k, v in full_env.items() if v is None]:
        del full_env[name]
    proc = subprocess.Popen(
        [cg_binary(), *args], stdout=child, stderr=subprocess.PIPE, env=full_env
    )
    os.close(child)
    out = b""
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child's end closed
            break
        if not data:
            break
        out += data
    os.close(main)
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    return proc.returncode, out.decode().replace("\r\n", "\n"), err


ESC = "\x1b["
TREE = ["grad", "x*y", "--x", "1", "--y", "2"]
CHECK = ["check", "x*y", "--x", "1", "--y", "2"]


@pytest.mark.parametrize("args", [TREE, CHECK])
def test_colours_follow_color_no_color_and_force_color_in_every_output(args):
    assert ESC in run_tty(args)[1]  # a terminal gets colours
    assert ESC not in run_tty(args, {"NO_COLOR": "1"})[1]
    assert ESC not in run_tty(["--color", "never", *args])[1]
    assert ESC not in run_tty(args, {"TERM": "dumb"})[1]
    assert ESC not in run_bin(args)[1]  # a pipe gets none
    assert ESC in run_bin(args, env={"FORCE_COLOR": "1"})[1]
    assert ESC in run_bin(["--color", "always", *args])[1]
    assert ESC in run_bin(["--color=always", *args], env={"NO_COLOR": "1"})[1]
    assert ESC not in run_bin(["--color", "never", *args], env={"FORCE_COLOR": "1"})[1]


def test_colours_off_leave_the_same_text():
    plain = run_bin(TREE)[1]
    coloured = run_bin(["--color", "always", *TREE])[1]
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


@pytest.mark.parametrize(
    "env", [{"LANG": "C"}, {"LC_ALL": "POSIX"}, {"LANG": None}, {"TERM": "dumb"}]
)
@pytest.mark.parametrize(
    "args",
    [
        TREE,
        [*TREE, "--explain"],
        CHECK,
        ["hessian", "x*y", "--x", "1", "--y", "2"],
        ["functions"],
        ["fusions"],
    ],
)
def test_a_terminal_that_is_not_utf8_gets_ascii(env, args):
    code, out, err = run_tty(args, env)
    assert (code, err) == (0, "")
    assert out.isascii(), out
    import re

    out = re.sub(r"\x1b\[[0-9;]*m", "", out)  # colours, which a terminal that is not UTF-8 keeps
    assert ("dout/dx" if args[0] in ("functions", "fusions") else "df/dx") in out


def test_a_utf8_terminal_gets_guides_and_the_partial_sign_and_ascii_forces_ascii():
    code, out, err = run_tty(["--color", "never", *TREE], {"LANG": "en_US.UTF-8"})
    assert "└── " in out and "∂f/∂x = 2" in out
    code, out, err = run_tty(["--ascii", "--color", "never", *TREE])
    assert out.isascii() and "`-- " in out and "df/dx = 2" in out
    code, out, err = run_bin(["--ascii", "grad", "θ*2", "--θ", "1"])
    assert out.isascii() and "df/d\\u03b8 = 2" in out


# ---------------------------------------------------------------------------
# narrow terminals


@pytest.mark.parametrize("columns", [60, 40])
def test_a_narrow_terminal_splits_no_number_and_no_word(columns):
    args = ["check", "(x+y)**2", "--x", "1", "--y", "2", "--expect", "9"]
    code, out, err = run_tty(["--color", "never", *args], columns=columns)
    assert (code, err) == (0, "")
    assert all(len(line) <= columns for line in out.splitlines())
    # the central difference of ∂f/∂x, whole on its line (a table split it: 6.0000|000009|99201)
    numeric = json.loads(run_bin([*args, "--format", "json"])[1])["cases"][0]["checks"][0]
    assert f"reference: {numeric['reference']!r}" in out.splitlines()
    assert "check: numeric" in out.splitlines()  # not chec|k
    code, out, err = run_tty(
        ["--color", "never", "hessian", "x*y*zeta_long_name", "--x", "0.123456789012345"]
        + ["--y", "2", "--zeta_long_name", "3"],
        columns=columns,
    )
    assert "zeta_long_name: 0.123456789012345" in out.splitlines()
    code, out, err = run_tty(["--color", "never", "functions"], columns=columns)
    assert "function: pow(x, y)" in out.splitlines()


def test_a_table_that_fits_by_wrapping_keeps_every_header_whole():
    code, out, err = run_tty(["--color", "never", *TREE, "--explain"], columns=60)
    assert all(len(line) <= 60 for line in out.splitlines())
    assert "…" not in out and "upstream" in out and "contribution" in out  # not upstre…


def test_a_wide_terminal_keeps_the_table():
    code, out, err = run_tty(
        ["--color", "never", "check", "(x+y)**2", "--x", "1", "--y", "2"], columns=120
    )
    assert out.splitlines()[0].startswith("┏") and "│ numeric │ ∂f/∂x │ 6  │" in out


def test_the_tree_on_a_narrow_terminal_wraps_long_labels_between_words():
    expr = "sigmoid(w0*x0 + w1*x1 + w2) * tanh(w0*x0 - w1*x1)"
    point = {"w0": 0.3, "x0": 1.5, "w1": -2, "x1": 0.7, "w2": 1}
    args = [f"--{name}={value}" for name, value in point.items()]
    for color in ("never", "always"):
        code, out, err = run_tty(["--color", color, "grad", expr, *args], columns=60)
        import re

        out = re.sub(r"\x1b\[[0-9;]*m", "", out)
        assert all(len(line) <= 60 for line in out.splitlines())
        words = out.split()
        r = grad(expr, point)
        for g in r.gradients.values():
            assert repr(g) in words  # each number whole, on one line


def test_a_tree_too_deep_for_a_narrow_terminal_is_one_block_per_node():
    # at 30 columns the mul node's guides leave 18 columns: 0.8937358999283042 would split
    args = ["--color", "never", "grad", "sin(cos(tan(x*y)))", "--x", "1.23456789", "--y", "2"]
    code, out, err = run_tty(args, columns=30)
    assert (code, err) == (0, "")
    assert repr(math.sin(math.cos(math.tan(1.23456789 * 2)))) == "0.6437464689374641"
    assert out == (
        "f = 0.6437464689374641\n\n"
        "node: #5\nop: sin\nsource: sin(cos(tan(x*y)))\nvalue: 0.6437464689374641\n"
        "grad: 1\ninputs: #4\n\n"
        "node: #4\nop: cos\nsource: cos(tan(x*y))\nvalue: 0.6993840610051003\n"
        "grad: 0.7652388409709393\ninputs: #3\n\n"
        "node: #3\nop: tan\nsource: tan(x*y)\nvalue: -0.7962609531302085\n"
        "grad: 0.5469514491802051\ninputs: #2\n\n"
        "node: #2\nop: mul\nsource: x*y\nvalue: 2.46913578\n"
        "grad: 0.8937358999283042\ninputs: #0, #1\n\n"
        "node: #0\nop: var\nsource: x\nvalue: 1.23456789\ngrad: 1.7874717998566083\n\n"
        "node: #1\nop: var\nsource: y\nvalue: 2\ngrad: 1.1033776441917376\n\n"
        "∂f/∂x = 1.7874717998566083\n"
        "∂f/∂y = 1.1033776441917376\n"
    )
    r = grad("sin(cos(tan(x*y)))", {"x": 1.23456789, "y": 2})
    assert f"grad: {r.gradients['x']!r}" in out.splitlines()


def test_a_tree_whose_numbers_fit_stays_a_tree_at_30_columns():
    args = ["--color", "never", "grad", "(x+y)**2", "--x", "1.23456789", "--y", "2"]
    code, out, err = run_tty(args, columns=30)
    assert out.startswith("f = 10.462429435019052\n└── pow  (x+y)**2 = \n")
    assert all(len(line) <= 30 for line in out.splitlines())
    words = out.split()
    assert {"10.462429435019052", "3.23456789", "6.46913578", "1.23456789"} <= set(words)


# ---------------------------------------------------------------------------
# a zero's sign: 0 for people, -0 kept where the text reads back as the same float

MINUS_ZERO = ["grad", "-x*y", "--x", "0", "--y", "1"]  # -0 * 1 = -0 (IEEE), and ∂f/∂y = -x = -0


def test_the_tree_shows_a_zero_as_0_and_plain_json_and_csv_keep_minus_0():
    assert run_bin(MINUS_ZERO) == (
        0,
        "f = 0\n"
        "└── mul  -x*y = 0   grad 1   #3\n"
        "    ├── neg  -x = 0   grad 1   #1\n"
        "    │   └── x = 0   grad -1   #0\n"
        "    └── y = 1   grad 0   #2\n"
        "∂f/∂x = -1\n"
        "∂f/∂y = 0\n",
        "",
    )
    assert run_bin([*MINUS_ZERO, "--format", "plain"]) == (0, "f -0\nx -1\ny -0\n", "")
    data = json.loads(run_bin([*MINUS_ZERO, "--format", "json"])[1])
    assert math.copysign(1, data["value"]) == -1 and math.copysign(1, data["grad"]["y"]) == -1
    assert run_bin([*MINUS_ZERO, "--format", "csv"])[1] == "x,y,f,grad_x,grad_y\n0,1,-0,-1,-0\n"


def test_a_range_over_points_shows_a_zero_as_0():
    # f = x*y at x = -1, 0, 1 with y = 0: -0, 0, 0; ∂f/∂x = y = 0 throughout
    batch = ["grad", "x*y", "--x", "-1,0,1", "--y", "0"]
    assert run_bin(batch)[1].splitlines()[:2] == [
        "f = 0 [0 .. 0] at 3 points: first point [range]",
        "└── mul  x*y = 0 [0 .. 0]   grad 1   #2",
    ]
    assert run_bin([*batch, "--format", "csv"])[1].splitlines()[1] == "-1,0,-0,0,-1"
    # f = x*y*x: ∂f/∂x = 2xy = -0, 0, 0 and ∂²f/∂x² = 2y = 0
    code, out, err = run_bin(["hessian", "x*y*x", "--x", "-1,0,1", "--y", "0"])
    assert out.splitlines()[-3:] == ["f = 0 [0 .. 0]", "∂f/∂x = 0 [0 .. 0]", "∂f/∂y = 1 [0 .. 1]"]


def test_the_hessian_table_shows_a_zero_as_0_and_its_plain_rows_keep_minus_0():
    # f = -x*y*x at x = 0, y = 1: ∂²f/∂x∂y = -2x = -0, f and both gradients -0
    args = ["hessian", "-x*y*x", "--x", "0", "--y", "1"]
    assert run_bin(args)[1] == (
        "Hessian: ∂²f/∂r∂c in row r, column c\n"
        "┏━━━┳━━━━┳━━━┓\n"
        "┃   ┃ x  ┃ y ┃\n"
        "┡━━━╇━━━━╇━━━┩\n"
        "│ x │ -2 │ 0 │\n"
        "│ y │ 0  │ 0 │\n"
        "└───┴────┴───┘\n"
        "f = 0\n"
        "∂f/∂x = 0\n"
        "∂f/∂y = 0\n"
    )
    assert run_bin([*args, "--format", "plain"])[1] == "x -2 -0\ny -0 0\n"


def test_explain_shows_a_zero_as_0():
    code, out, err = run_bin([*MINUS_ZERO, "--explain"])
    assert out.splitlines()[2:4] == ["  #1 neg -x: neg(0) = 0", "  #3 mul -x*y: mul(0, 1) = 0"]
    assert "  #3 mul gate -x*y: upstream 1 × local 0 = 0 to #2 y" in out.splitlines()


def test_the_dir_line_on_a_narrow_terminal_gives_each_part_a_line():
    args = ["--color", "never", "grad", "x*y", "--x", "1", "--y", "2"]
    args += ["--dir", "x=1,y=-1.2345678901234567"]
    code, out, err = run_tty(args, columns=30)
    tail = out.splitlines()[-5:]
    assert code == 0 and tail == [
        "along:",
        "  x=0.6294217449900306",
        "  y=-0.7770638757101663",
        "forward mode 0.4817796142698948",
        "gradient · unit 0.4817796142698948",
    ], out
    code, out, err = run_tty(args, columns=200)
    assert out.splitlines()[-1] == (
        "along (x=0.6294217449900306, y=-0.7770638757101663): forward mode 0.4817796142698948, "
        "gradient · unit 0.4817796142698948"
    )
