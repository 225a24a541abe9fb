"""cg check in CI, through the installed cg: several case files (--cases repeated, or a quoted
glob cg expands), and the JUnit XML report as a CI system's reader (junitparser) sees it."""

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import run_bin

junitparser = pytest.importorskip("junitparser")

A = """\
[[case]]
name = "square"
expr = "(x+y)**2"
bindings = { x = 1, y = 2 }
expect_grad = { x = 7 }

[[case]]
name = "kink"
expr = "abs(x)"
bindings = { x = 0 }
"""

B = """\
[[case]]
name = "square"
expr = "x*x"
bindings = { x = 3 }

[[case]]
name = "pole"
expr = "1/x"
bindings = { x = 0 }
"""

C = """\
[[case]]
name = "sine"
expr = "sin(x)"
bindings = { x = 1 }
against = { x = "cos(x) + 0.1" }
random = 3
"""


@pytest.fixture
def checks(tmp_path, monkeypatch):
    folder = tmp_path / "checks"
    (folder / "more").mkdir(parents=True)
    (folder / "a.toml").write_text(A)
    (folder / "b.toml").write_text(B)
    (folder / "more" / "c.toml").write_text(C)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cases_of(out: str) -> list[tuple[str, str]]:
    return [(c["file"], c["name"]) for c in json.loads(out)["cases"]]


def test_cases_given_twice_run_both_files_in_order(checks):
    words = ["check", "--cases", "checks/b.toml", "--cases", "checks/a.toml", "--format", "json"]
    code, out, err = run_bin(words)
    assert code == 3, err  # the worst: 1/x at 0 is not finite
    assert cases_of(out) == [
        ("checks/b.toml", "square"),
        ("checks/b.toml", "pole"),
        ("checks/a.toml", "square"),
        ("checks/a.toml", "kink"),
    ]


def test_a_quoted_glob_is_expanded_by_cg_sorted(checks):
    code, out, err = run_bin(["check", "--cases", "checks/*.toml", "--format", "json"])
    assert [f for f, _ in cases_of(out)] == ["checks/a.toml"] * 2 + ["checks/b.toml"] * 2
    code, out, err = run_bin(["check", "--cases", "checks/**/*.toml", "--format", "json"])
    assert sorted({f for f, _ in cases_of(out)}) == [
        "checks/a.toml",
        "checks/b.toml",
        "checks/more/c.toml",
    ]


def test_the_table_names_each_file_and_each_case_with_its_file(checks):
    code, out, err = run_bin(["check", "--cases", "checks/a.toml", "--cases", "checks/b.toml"])
    lines = out.splitlines()
    assert lines[0] == "cg check --cases checks/a.toml --cases checks/b.toml"
    assert "square (checks/b.toml)" in out and "pole (checks/b.toml)" in out


@pytest.mark.parametrize(
    "words, message",
    [
        (["--cases", "nothing/*.toml"], "--cases nothing/*.toml: no file matches"),
        (
            ["--cases", "checks/*.toml", "--cases", "checks/a.toml"],
            "--cases checks/a.toml: the file is named twice",
        ),
        (["--cases", "checks/a.toml", "--cases", "./checks/a.toml"], "the file is named twice"),
    ],
)
def test_a_glob_that_matches_nothing_or_a_file_named_twice_is_an_error(checks, words, message):
    code, out, err = run_bin(["check", *words])
    assert (code, out) == (2, "")
    first, shown, caret = err.splitlines()
    assert first.startswith("cg: error: ") and message in first
    assert shown[caret.index("^") :].removeprefix("'") == shown[shown.rindex(words[-1]) :], err


def test_a_file_whose_name_holds_a_star_is_read_as_named(checks):
    (checks / "checks" / "[odd].toml").write_text(B.split("[[case]]")[1].join(["[[case]]", ""]))
    code, out, err = run_bin(["check", "--cases", "checks/[odd].toml", "--format", "json"])
    assert cases_of(out) == [("checks/[odd].toml", "square")], err


# ---------------------------------------------------------------------------
# JUnit


def junit(*words) -> tuple[int, "junitparser.JUnitXml", ET.Element]:
    code, out, err = run_bin(["check", *words, "--junit", "report.xml"])
    return code, junitparser.JUnitXml.fromfile("report.xml"), ET.parse("report.xml").getroot()


def test_junit_counts_classnames_and_messages_as_a_ci_reader_sees_them(checks):
    code, report, _ = junit("--cases", "checks/*.toml", "--cases", "checks/more/c.toml")
    assert code == 3
    (suite,) = list(report)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (5, 2, 1, 0)
    assert (report.tests, report.failures, report.errors, report.skipped) == (5, 2, 1, 0)
    outcomes = {}
    for case in suite:
        outcomes[(case.classname, case.name)] = [(r._tag, r.message) for r in case.result]
    assert outcomes == {
        ("checks/a.toml", "square"): [
            # 6 against 7: off by 1, allowed atol + rtol*|7| = 0 + 1e-6*7
            ("failure", "∂f/∂x at x=1, y=2: cg 6, expected 7, off by 1 (allowed 7e-06)")
        ],
        ("checks/a.toml", "kink"): [],
        ("checks/b.toml", "square"): [],
        ("checks/b.toml", "pole"): [("error", "∂f/∂x at x=0: cg -inf, central difference nan")],
        ("checks/more/c.toml", "sine"): [
            (
                "failure",
                "∂f/∂x at x=1: cg 0.5403023058681398, hand-written 0.6403023058681397, "
                "off by 0.1 (allowed 6.4e-07); 3 more checks fail",
            )
        ],
    }


def test_junit_of_one_expression_keeps_the_command_as_classname(checks):
    code, report, _ = junit("x*x", "--x", "3")
    (case,) = list(next(iter(report)))
    assert (code, case.classname, case.name, case.result) == (0, "cg check", "x*x", [])


def test_junit_has_the_shape_ci_schemas_ask_for(checks):
    """The elements, attributes and order the JUnit schema of Jenkins and GitLab ask for:
    testsuites > testsuite (name, tests, failures, errors, skipped, time) > testcase (name,
    classname, time) holding properties, then at most one of failure, error or skipped (each
    with message and type), then system-out, then system-err."""
    _, _, root = junit("--cases", "checks/*.toml", "--cases", "checks/more/c.toml")
    assert root.tag == "testsuites"
    order = ["properties", "failure", "error", "skipped", "system-out", "system-err"]
    for suite in root:
        assert suite.tag == "testsuite"
        assert {"name", "tests", "failures", "errors", "skipped", "time"} <= set(suite.attrib)
        for case in suite:
            assert case.tag == "testcase" and {"name", "classname", "time"} <= set(case.attrib)
            tags = [child.tag for child in case]
            assert tags == sorted(tags, key=order.index)
            outcomes = [c for c in case if c.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1
            for outcome in outcomes:
                assert {"message", "type"} <= set(outcome.attrib)
            float(case.attrib["time"])
        counted = {
            "tests": len(suite),
            "failures": len(suite.findall("testcase/failure")),
            "errors": len(suite.findall("testcase/error")),
            "skipped": len(suite.findall("testcase/skipped")),
        }
        assert {k: int(suite.attrib[k]) for k in counted} == counted
