"""cg check's reports: a table for people, JSON for scripts, JUnit XML for CI systems."""

from __future__ import annotations

import itertools
import json
from typing import IO

from .check import (
    FAIL,
    INCONCLUSIVE,
    KINK,
    NONFINITE,
    PASS,
    STATUSES,
    CaseResult,
    Point,
    Report,
    Row,
)
from .console import print_table, rich_console
from .text import as_ascii, ascii_only, elide_middle, json_number, shortest_float

# ---------------------------------------------------------------------------
# describing results


def point_text(point: Point) -> str:
    return ", ".join(f"{var}={shortest_float(v)}" for var, v in point.bindings.items())


def of_text(row: Row, d: str = "∂") -> str:
    return "f" if row.wrt is None else f"{d}f/{d}{row.wrt}"


def error_text(v: float) -> str:
    return f"{v:.2g}"


def describe(result: CaseResult, row: Row) -> str:
    """One line saying what a check compared and what came out."""
    at = point_text(result.points[row.point])
    line = (
        f"{row.status}: {row.check} {of_text(row)}"
        f"{' at ' + at if at else ''}: cg {shortest_float(row.cg)}, reference {shortest_float(row.reference)}, "
        f"abs err {error_text(row.abs_err)}, rel err {error_text(row.rel_err)}"
    )
    return line + (f" ({row.note})" if row.note else "")


def points_text(result: CaseResult) -> str:
    """'x=1, y=2 and 20 random points (seed 0, box x=-3:3, y=-3:3)'."""
    s = result.case.settings
    parts = []
    if result.case.bindings is not None:
        parts += [point_text(result.points[0])] if result.case.bindings else []
    if s.random:
        box = ", ".join(
            f"{var}={shortest_float(lo)}:{shortest_float(hi)}" for var, (lo, hi) in s.box.items()
        )
        parts.append(
            f"{s.random} random point{'s' if s.random != 1 else ''} (seed {s.seed}{', box ' + box if box else ''})"
        )
    return " and ".join(parts)


def case_label(case, with_file: bool) -> str:
    """A case's name, with its file's when cases come from several files."""
    return f"{case.name} ({case.file})" if with_file and case.file else case.name


def counts_text(result_or_counts) -> str:
    counts = (
        result_or_counts.counts() if isinstance(result_or_counts, CaseResult) else result_or_counts
    )
    return ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing checked"


# ---------------------------------------------------------------------------
# the table and JSON

_STATUS_STYLE = {
    PASS: "green",
    KINK: "yellow",
    INCONCLUSIVE: "cyan",
    FAIL: "bold red",
    NONFINITE: "bold magenta",
}


def write_table(report: Report, out: IO[str]) -> None:
    """A report as Rich tables.

    One expression: every check at the bound point, the checks at random points that did not
    pass, and a line with the counts, the points and the seed. A case file: one row per case,
    then the checks that did not pass, case by case, then the counts.
    """
    from rich.table import Table
    from rich.text import Text

    console = rich_console(out, table=True)
    ascii = ascii_only(console.file)
    d = "d" if ascii else "∂"

    def clean(s: str, limit: int | None = None) -> str:
        s = s.replace("\n", " \\n " if ascii else " ⏎ ")
        if limit is not None:
            s = elide_middle(s, limit)
        return as_ascii(s) if ascii else s

    def status(word: str) -> Text:
        return Text(word, _STATUS_STYLE.get(word, ""))

    def checks_table(result, rows, with_point: bool) -> Table:
        table = Table()
        with_note = any(row.note for row in rows)
        columns = (["at"] if with_point else []) + [
            "check",
            "of",
            "cg",
            "reference",
            "abs err",
            "rel err",
            "status",
        ]
        for column in columns + (["note"] if with_note else []):
            table.add_column(column, overflow="fold")
        for row in rows:
            cells = [clean(point_text(result.points[row.point]))] if with_point else []
            cells += [
                row.check,
                clean(of_text(row, d)),
                shortest_float(row.cg),
                shortest_float(row.reference),
            ]
            cells += [
                error_text(row.abs_err),
                error_text(row.rel_err),
                status(row.status),
            ]
            table.add_row(*cells, *([clean(row.note)] if with_note else []))
        return table

    def checks_line(result) -> str:
        n = len(result.rows)
        at = points_text(result)
        return f"{n} check{'s' if n != 1 else ''}{' at ' + clean(at) if at else ''}: {counts_text(result)}"

    if report.file is None:
        result = report.results[0]
        rows = [
            row
            for row in result.rows
            if result.points[row.point].origin == "bound" or row.status != PASS
        ]
        if rows:
            print_table(
                console,
                checks_table(
                    result, rows, any(result.points[row.point].origin == "random" for row in rows)
                ),
            )
        console.print(checks_line(result))
        return

    files = list(dict.fromkeys(r.case.file for r in report.results))
    console.print(clean("cg check " + " ".join(f"--cases {f}" for f in files)))
    table = Table()
    for column in ("case", "expression", "points", "checks", "status"):
        table.add_column(column, overflow="fold")
    for result in report.results:
        s, bound = result.case.settings, result.case.bindings is not None
        points = " + ".join(
            (["bound"] if bound else [])
            + ([f"{s.random} random (seed {s.seed})"] if s.random else [])
        )
        table.add_row(
            clean(case_label(result.case, len(files) > 1)),
            clean(result.case.source, 60),
            points,
            counts_text(result),
            status(result.status),
        )
    print_table(console, table)
    for result in report.results:
        rows = [row for row in result.rows if row.status != PASS]
        if rows:
            console.print(
                Text.assemble(
                    "case ",
                    (clean(case_label(result.case, len(files) > 1)), "bold"),
                    f": {clean(result.case.source, 120)}",
                )
            )
            print_table(console, checks_table(result, rows, with_point=True))
            console.print(checks_line(result))
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.status] = counts.get(result.status, 0) + 1
    ordered = {s: counts[s] for s in STATUSES if s in counts}
    n = len(report.results)
    console.print(f"{n} case{'s' if n != 1 else ''}: {counts_text(ordered)}")


def write_plain(report: Report, out: IO[str]) -> None:
    """`name value` lines, for `while read -r name value`: a case file's cases as `case STATUS
    NAME` (a case's name may hold spaces: it is the rest of the line), then the counts as
    `STATUS N` (of checks for one expression, of cases for a file), then `status STATUS`, the
    status the exit code says."""
    if report.file is None:
        counts = report.results[0].counts()
        lines = []
    else:
        lines = [f"case {r.status} {r.case.name}" for r in report.results]
        found = [r.status for r in report.results]
        counts = {s: found.count(s) for s in STATUSES if s in found}
    lines += [f"{status} {n}" for status, n in counts.items()]
    lines.append(f"status {report.status}")
    text = "\n".join(lines) + "\n"
    out.write(as_ascii(text) if ascii_only(out) else text)


def write_json(report: Report, out: IO[str]) -> None:
    """A report as one JSON object, every check at every point included. Written as it goes:
    each point and each check is made a dict and turned to text one at a time, so that a million
    random points take no more memory than the report itself (json.dumps of the whole took
    three times as much)."""
    cases = [
        {
            "name": result.case.name,
            "file": result.case.file,
            "expression": result.case.source,
            "status": result.status,
            "counts": result.counts(),
            "settings": _settings_json(result.case.settings),
            "points": _Each(_point_json(p) for p in result.points),
            "checks": _Each(_row_json(row) for row in result.rows),
            "warnings": result.case.warnings,
        }
        for result in report.results
    ]
    data = {
        "status": report.status,
        "exit_code": report.exit_code,
        "file": report.file,
        "cases": _Each(cases),
    }
    writer = _JsonWriter(out)
    writer.value(data)
    writer.text("\n")
    writer.flush()


def _settings_json(s) -> dict:
    return {
        "method": s.method,
        "eps": s.eps,
        "rtol": s.rtol,
        "atol": s.atol,
        "random": s.random,
        "seed": s.seed,
        "box": {var: list(span) for var, span in s.box.items()},
        "fuse": (s.gates or "all") if s.fuse else None,
    }


def _point_json(p: Point) -> dict:
    return {"origin": p.origin, "bindings": {k: json_number(v) for k, v in p.bindings.items()}}


def _row_json(row: Row) -> dict:
    entry = {
        "point": row.point,
        "check": row.check,
        "wrt": row.wrt,
        "cg": json_number(row.cg),
        "reference": json_number(row.reference),
        "abs_err": json_number(row.abs_err),
        "rel_err": json_number(row.rel_err),
        "status": row.status,
        "tolerance": json_number(row.tolerance),
        "note": row.note,
    }
    if row.step is not None:
        entry["step"] = json_number(row.step)
    if row.left is not None:
        entry["left"], entry["right"] = json_number(row.left), json_number(row.right)
    return entry


class _Each:
    """A JSON list whose items are made one at a time, as it is written."""

    def __init__(self, items):
        self.items = items


def _holds_each(value) -> bool:
    return isinstance(value, dict) and any(isinstance(v, _Each) for v in value.values())


class _JsonWriter:
    """json.dumps's text (its default separators), written a piece at a time: a dict or list
    holding an _Each is written key by key, the _Each item by item; the rest by json.dumps."""

    def __init__(self, out: IO[str]):
        self.out, self.pieces, self.size = out, [], 0
        self.ascii = ascii_only(out)

    def text(self, piece: str) -> None:
        self.pieces.append(piece)
        self.size += len(piece)
        if self.size > 2**20:  # a megabyte of text at a time
            self.flush()

    def flush(self) -> None:
        self.out.write("".join(self.pieces))
        self.pieces, self.size = [], 0

    def value(self, value) -> None:
        # a fixed nesting (report, case, list): not the depth of anything the user wrote
        if isinstance(value, _Each):
            self.text("[")
            items, first = iter(value.items), True
            while batch := list(itertools.islice(items, 4096)):
                if not first:
                    self.text(", ")
                first = False
                if any(_holds_each(item) for item in batch):
                    for k, item in enumerate(batch):
                        self.text(", " if k else "")
                        self.value(item)
                else:  # a run of plain items in one json.dumps: its "[...]" less the brackets
                    self.text(self.dumps(batch)[1:-1])
            self.text("]")
        elif _holds_each(value):
            self.text("{")
            for k, (key, item) in enumerate(value.items()):
                self.text((", " if k else "") + self.dumps(key) + ": ")
                self.value(item)
            self.text("}")
        else:
            self.text(self.dumps(value))

    def dumps(self, value) -> str:
        return json.dumps(value, ensure_ascii=self.ascii, allow_nan=False)


# ---------------------------------------------------------------------------
# JUnit XML

# what each check compares cg with, as a failure's message says it
_REFERENCE = {
    "numeric": "central difference",
    "hand-written": "hand-written",
    "expect": "expected",
    "fuse": "fine-grained graph",
}


def failure_message(result: CaseResult, row: Row, count: int) -> str:
    """What a CI system shows of a failed case: which value or gradient, at which point, by how
    much and how much was allowed, and how many other checks failed too."""
    at = point_text(result.points[row.point])
    reference = _REFERENCE.get(row.check, row.check)
    message = (
        f"{of_text(row)}{' at ' + at if at else ''}: cg {shortest_float(row.cg)}, "
        f"{reference} {shortest_float(row.reference)}"
    )
    if row.status == FAIL:
        message += f", off by {error_text(row.abs_err)} (allowed {error_text(row.tolerance)})"
    others = count - 1
    if others:
        message += f"; {others} more check{'s' * (others > 1)} {row.status}"
    return message


def junit_xml(report: Report, suite: str = "cg check") -> bytes:
    """A JUnit XML report: one <testcase> per case; a failed check is a <failure>, a non-finite
    number an <error>, a case whose checks could not tell (inconclusive) is <skipped>."""
    import xml.etree.ElementTree as ET

    results = report.results
    failures = sum(r.status == FAIL for r in results)
    errors = sum(r.status == NONFINITE for r in results)
    skipped = sum(r.status == INCONCLUSIVE for r in results)
    seconds = f"{sum(r.seconds for r in results):.6f}"
    counts = {
        "tests": str(len(results)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(skipped),
        "time": seconds,
    }
    root = ET.Element("testsuites", {"name": suite, **counts})
    testsuite = ET.SubElement(root, "testsuite", {"name": suite, **counts})
    for r in results:
        testcase = ET.SubElement(
            testsuite,
            "testcase",
            {"classname": r.case.file or suite, "name": r.case.name, "time": f"{r.seconds:.6f}"},
        )
        properties = ET.SubElement(testcase, "properties")
        ET.SubElement(properties, "property", {"name": "expression", "value": r.case.source})
        ET.SubElement(properties, "property", {"name": "points", "value": points_text(r)})
        problems = [row for row in r.rows if row.status != PASS]
        lines = [describe(r, row) for row in problems]
        if r.status in (FAIL, NONFINITE):
            worst = next(row for row in problems if row.status == r.status)
            tag = "failure" if r.status == FAIL else "error"
            message = failure_message(r, worst, sum(row.status == r.status for row in r.rows))
            element = ET.SubElement(testcase, tag, {"message": message, "type": r.status})
            element.text = "\n".join(lines)
        elif r.status == INCONCLUSIVE:
            worst = next(row for row in problems if row.status == r.status)
            element = ET.SubElement(testcase, "skipped", {"message": describe(r, worst)})
            element.text = "\n".join(lines)
        summary = (
            f"{len(r.rows)} check{'s' * (len(r.rows) != 1)} at {points_text(r)}: {counts_text(r)}"
        )
        ET.SubElement(testcase, "system-out").text = "\n".join(
            [summary, *(line for line in lines if line.startswith(KINK))]
        )
        if r.case.warnings:
            ET.SubElement(testcase, "system-err").text = "\n".join(
                f"warning: {w}" for w in r.case.warnings
            )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
