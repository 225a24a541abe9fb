"""--points files (CSV and .npz) that are malformed or unusual: a clear error or the right points, never a traceback or a warning."""

import numpy as np
import pytest
from conftest import run_bin, run_cli

from cgcli import pointsio
from cgcli.errors import CgError

# A numpy or Python warning raised in-process fails the test instead of passing unseen.
pytestmark = pytest.mark.filterwarnings("error")


def error_lines(result):
    """The stderr lines of a run that must have failed cleanly with exit code 2."""
    code, out, err = result
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err and "Warning" not in err
    return err.splitlines()


def about_file(result, src: str):
    """error_lines of an error about the file itself: its one line, after checking that the
    command line follows with a caret under the file's name."""
    first, line, caret = error_lines(result)
    assert line.startswith("  cg ") and caret.strip() == "^"
    assert line[caret.index("^") :].startswith(str(src)[:20])
    return [first]


def write(path, data: bytes):
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------------------
# CSV


def test_rows_shorter_than_the_header(tmp_path):
    src = write(tmp_path / "p.csv", b"x,y\n1\n2\n")
    assert error_lines(run_cli(["grad", "x*y", "--points", src])) == [
        f"cg: error: {src} line 2: 1 values for 2 columns",
        "  1",
        "   ^",
    ]


@pytest.mark.parametrize(
    "cell, pos, hint",
    [
        ("1_000", 2, ""),  # float() reads underscores, np.loadtxt does not
        ("2#3", 2, ""),  # not a comment: '#' is not part of a number
        # an Arabic-Indic digit: float() reads it, np.loadtxt does not; the error names it
        ("\u0661", 2, " (U+0661 ARABIC-INDIC DIGIT ONE: write 1)"),
        ("", 2, ""),
    ],
)
def test_a_cell_np_loadtxt_refuses_is_pointed_at(cell, pos, hint):
    line = f"3,{cell}"
    lines = error_lines(run_cli(["grad", "x*y", "--points", "-"], input=f"x,y\n1,2\n{line}\n"))
    assert lines == [
        f"cg: error: standard input line 3, column y: {cell!r} is not a number{hint}",
        f"  {line}",
        "  " + " " * pos + "^",
    ]


def test_an_unlocated_loadtxt_refusal_is_still_an_error_naming_the_file():
    error = pointsio._bad_cell(["x", "1"], ["x"], "p.csv")
    assert isinstance(error, CgError) and error.message == "p.csv: not a table of numbers"


def test_blank_and_whitespace_lines_hold_no_point(cg):
    code, out, err = cg(
        ["grad", "x*y", "--points", "-", "--format", "csv"], input="x,y\n1,2\n   \n\n3,4\n \n"
    )
    assert (code, out, err) == (
        0,
        "x,y,f,grad_x,grad_y\n1,2,2,2,1\n3,4,12,4,3\n",
        "",
    )


def test_a_leading_byte_order_mark_is_not_part_of_the_first_name(cg, tmp_path):
    src = write(tmp_path / "excel.csv", "\ufeffx,y\r\n1,2\r\n3,4\r\n".encode())
    code, out, err = cg(["grad", "x*y", "--points", src, "--format", "csv"])
    assert (code, out, err) == (
        0,
        "x,y,f,grad_x,grad_y\n1,2,2,2,1\n3,4,12,4,3\n",
        "",
    )


@pytest.mark.parametrize("text", [b"x,y\n", b"x,y", b"x,y\n\n  \n\n"])
def test_a_csv_without_rows_has_no_points(cg, tmp_path, text):
    src = write(tmp_path / "p.csv", text)
    assert error_lines(cg(["grad", "x*y", "--points", src])) == [
        f"cg: error: {src}: no points (the header is not followed by any row)"
    ]


# ---------------------------------------------------------------------------
# .npz


def npz(tmp_path, **arrays):
    path = tmp_path / "p.npz"
    np.savez(path, **arrays)
    return str(path)


def test_a_complex_array_is_refused(cg, tmp_path):
    src = npz(tmp_path, x=np.array([1 + 2j, 3]), y=np.array([1.0, 2.0]))
    assert error_lines(cg(["grad", "x*y", "--points", src])) == [
        f"cg: error: {src}: array x is complex: cg computes with real float64"
    ]


def test_a_2d_array_is_refused(tmp_path):
    src = npz(tmp_path, x=np.ones((2, 3)), y=np.ones(6))
    assert error_lines(run_cli(["grad", "x*y", "--points", src])) == [
        f"cg: error: {src}: array x has shape (2, 3): give one value per point (a 1-D array)"
    ]


def test_a_0d_array_is_one_value_that_broadcasts(cg, tmp_path):
    src = npz(tmp_path, x=np.float64(2.0), y=np.arange(3.0))
    assert pointsio.read_points(src)["x"] == 2.0 and type(pointsio.read_points(src)["x"]) is float
    code, out, err = cg(["grad", "x*y", "--points", src, "--format", "csv"])
    assert (code, out, err) == (
        0,
        "x,y,f,grad_x,grad_y\n2,0,0,0,2\n2,1,2,1,2\n2,2,4,2,2\n",
        "",
    )


def test_bool_and_integer_arrays_are_numbers(tmp_path):
    src = npz(
        tmp_path,
        x=np.array([True, False]),
        y=np.array([-3, 2**53], dtype=np.int64),
        z=np.array([7], dtype=np.uint8)[0],
    )
    cols = pointsio.read_points(src)
    assert (
        cols["x"].tolist() == [1.0, 0.0]
        and cols["y"].tolist() == [-3.0, 2.0**53]
        and cols["z"] == 7.0
    )
    assert cols["y"].dtype == np.float64 and type(cols["z"]) is float


@pytest.mark.parametrize(
    "array, message",
    [
        (
            np.array(["1", "2"]),
            "array x holds <U1 values: give numbers (bool, integer or float up to float64)",
        ),
        (
            np.array([1, 2**53 + 1]),
            "array x holds integers beyond 2**53, which float64 cannot hold exactly",
        ),
        (np.array([1.5], dtype=np.longdouble), f"array x holds {np.dtype(np.longdouble)} values"),
    ],
)
def test_arrays_that_float64_would_change_are_refused(tmp_path, array, message):
    if array.dtype.itemsize == 8 and array.dtype.kind == "f":
        pytest.skip("long double is float64 on this platform")
    src = npz(tmp_path, x=array, y=np.arange(float(array.size)))
    [line] = error_lines(run_cli(["grad", "x*y", "--points", src]))
    assert line.startswith(f"cg: error: {src}: {message}")


@pytest.mark.parametrize("data", [b"not a zip file", b"", b"PK\x03\x04 truncated"])
def test_a_file_that_is_no_npz_says_so(cg, tmp_path, data):
    src = write(tmp_path / "p.npz", data)
    assert about_file(cg(["grad", "x*y", "--points", src]), src) == [
        f"cg: error: {src} is not a valid .npz file"
    ]


def test_a_npy_file_named_npz_says_so(tmp_path):
    src = tmp_path / "p.npz"
    with open(src, "wb") as f:
        np.save(f, np.arange(3.0))
    [line] = about_file(run_cli(["grad", "x*y", "--points", str(src)]), str(src))
    assert line.startswith(f"cg: error: {src} is not a valid .npz file (")


def test_an_object_array_keeps_numpys_reason(tmp_path):
    src = npz(tmp_path, x=np.array([1, None], dtype=object), y=np.arange(2.0))
    assert about_file(run_cli(["grad", "x*y", "--points", src]), src) == [
        f"cg: error: cannot read {src}: array x: Object arrays cannot be loaded when allow_pickle=False"
    ]


@pytest.mark.parametrize(
    "arrays", [{"x": np.zeros(0), "y": np.zeros(0)}, {"x": np.float64(1), "y": np.zeros(0)}, {}]
)
def test_a_npz_without_points(tmp_path, arrays):
    src = npz(tmp_path, **arrays)
    assert about_file(run_cli(["grad", "x*y", "--points", src]), src) == [
        f"cg: error: {src}: no points"
    ]


def test_zero_points_through_the_installed_cg(tmp_path):
    src = npz(tmp_path, x=np.zeros(0), y=np.zeros(0))
    assert about_file(run_bin(["grad", "x*y", "--points", src]), src) == [
        f"cg: error: {src}: no points"
    ]


def test_write_npz_gives_a_reason_when_the_os_error_has_no_strerror(tmp_path, monkeypatch):
    def savez(*args, **kwargs):
        raise OSError("the disk said no")

    monkeypatch.setattr(np, "savez", savez)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CgError, match=r"^cannot write o\.npz: the disk said no$"):
        pointsio.write_npz({"f": np.zeros(2)}, "o.npz")
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind


@pytest.mark.parametrize("header, column, caret", [("x,y,", 3, 4), ("x,,y", 2, 2), (",x,y", 1, 0)])
def test_a_header_column_without_a_name_is_an_error(tmp_path, header, column, caret):
    path = tmp_path / "p.csv"
    path.write_text(f"{header}\n1,2,3\n")
    code, out, err = run_cli(["grad", "x*y", "--points", str(path), "--format", "csv"])
    assert code == 2 and err.splitlines() == [
        f"cg: error: {path}: column {column} of the header has no name",
        f"  {header}",
        " " * (2 + caret) + "^",
    ]


@pytest.mark.parametrize("first, caret", [("1,2", 0), ("x, -2.5", 3)])
def test_a_first_row_of_numbers_is_said_to_be_no_header(cg, tmp_path, first, caret):
    path = tmp_path / "p.csv"
    path.write_text(f"{first}\n3,4\n")
    assert error_lines(cg(["grad", "x*y", "--points", str(path), "--format", "csv"])) == [
        f"cg: error: {path}: the first row should name the variables "
        "(a header row such as x,y), but it holds numbers",
        f"  {first}",
        " " * (2 + caret) + "^",
    ]
    path.write_text("infinity,x\n3,4\n")  # a name that float() reads is still a name
    code, out, err = cg(["eval", "infinity*x", "--points", str(path), "--format", "csv"])
    assert (code, out, err) == (0, "infinity,x,f\n3,4,12\n", "")


def test_a_column_longer_than_a_binding_points_at_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: the command line fits on one line
    src = write(tmp_path / "p.csv", b"y\n1\n2\n") and "p.csv"
    shown = f"cg eval x+y --x 1,2,3 --points {src}"
    assert error_lines(run_cli(["eval", "x+y", "--x", "1,2,3", "--points", src])) == [
        "cg: error: x has 3 points but y has 2: arrays must have the same length",
        "  " + shown,
        " " * (2 + shown.index(src)) + "^",
    ]


def test_a_csv_that_is_not_utf8_points_at_the_byte(tmp_path):
    src = write(
        tmp_path / "p.csv", b"x\n1\n\xff2\n"
    )  # 'cannot read …: utf-8 codec can't decode byte 0xff in position 4'
    assert error_lines(run_cli(["grad", "x", "--points", src])) == [
        f"cg: error: {src} is not valid UTF-8 text",
        "  line 3: \ufffd2",
        "          ^",
    ]


def test_a_column_that_is_also_bound_points_at_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "p.csv", b"x\n1\n")
    assert error_lines(run_cli(["grad", "x", "--x=1", "--points", "p.csv"])) == [
        "cg: error: x is bound twice (--x and a column of p.csv)",
        "  cg grad x --x=1 --points p.csv",
        " " * 27 + "^",
    ]
