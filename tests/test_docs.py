"""Every example shown in README.md and docs/*.md is run, and its output compared.

An example is a fenced block marked `console`:

    ```console
    $ cg grad "(x+y)**2" --x 1 --y 2 --format plain
    9
    x 6
    y 6
    $ cg hessian "x*y"   # exit 2
    ```

* A line starting with `$ ` is a command; the lines after it, up to the next
  `$ ` line or the end of the block, are exactly what it prints on stdout.
* A command ending in `# exit N` must exit with N; any other must exit 0.
  (bash reads the `#` as a comment, so the line still pastes into a shell.)
* Commands run one after another through `bash -c`, with the installed `cg`
  first on PATH, so pipes work (`echo "x*x" | cg diff - --wrt x`); write
  `2>&1` to show what goes to stderr. stdout is a pipe, so cg prints no
  colours and does not wrap to a terminal's width.
* Each Markdown file's examples share one empty working directory, in the
  order they appear. A file an example reads is shown in the page as a fenced
  block right after the line `<!-- file: NAME -->`; it is written there first.

After a change to what cg prints, `python tests/test_docs.py --update`
rewrites the shown outputs and exit codes from what cg prints now (read the
diff before committing it).
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)
_FILE = re.compile(r"^<!-- file: (\S+) -->\n```[^\n]*\n(.*?)^```$", re.M | re.S)
_EXIT = re.compile(r"\s+# exit (\d+)$")


@dataclass
class Example:
    page: Path
    line: int  # of the `$ ` line, 1-based
    command: str  # as shown, without `$ ` and without the exit comment
    exit_code: int
    output: str
    span: tuple[int, int]  # the example's text in the page: the `$ ` line to its output's end


def examples(page: Path) -> list[Example]:
    text = page.read_text(encoding="utf-8")
    found = []
    for block in _FENCE.finditer(text):
        start = block.start(1)
        lines = block.group(1).splitlines(keepends=True)
        if lines and not lines[0].startswith("$ "):
            raise AssertionError(f"{page.name}:{_line(text, start)}: a console block starts with $")
        offset = start
        for line in lines:
            if line.startswith("$ "):
                shown = line[2:].rstrip("\n")
                code = _EXIT.search(shown)
                found.append(
                    Example(
                        page,
                        _line(text, offset),
                        shown[: code.start()] if code else shown,
                        int(code.group(1)) if code else 0,
                        "",
                        (offset, offset + len(line)),
                    )
                )
            else:
                found[-1].output += line
                found[-1].span = (found[-1].span[0], offset + len(line))
            offset += len(line)
    return found


def files(page: Path) -> dict[str, str]:
    return dict(_FILE.findall(page.read_text(encoding="utf-8")))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _cg_directory() -> str:
    here = Path(sys.executable).parent
    if (here / "cg").exists():
        return str(here)
    from conftest import cg_binary  # pytest puts tests/ on sys.path

    return str(Path(cg_binary()).parent)


def run(example: Example, cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CG_")}
    env.update(
        PATH=_cg_directory() + os.pathsep + env.get("PATH", ""),
        COLUMNS="80",
        NO_COLOR="1",
        PYTHONIOENCODING="utf-8",
        LC_ALL="C.UTF-8",
    )
    proc = subprocess.run(
        ["bash", "-c", example.command],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def _prepare(page: Path, cwd: Path) -> None:
    for name, content in files(page).items():
        (cwd / name).write_text(content, encoding="utf-8")


def _pages_with_examples() -> list[Path]:
    return [page for page in PAGES if examples(page)]


@pytest.mark.parametrize("page", _pages_with_examples(), ids=lambda p: p.name)
def test_every_example_prints_what_the_page_shows(page, tmp_path):
    _prepare(page, tmp_path)
    for example in examples(page):
        code, out, err = run(example, tmp_path)
        where = f"{page.name}:{example.line}: $ {example.command}"
        assert out == example.output, where
        assert code == example.exit_code, f"{where}\nexit {code}\n{err}"


def test_every_command_has_an_example():
    shown = " ".join(e.command for page in PAGES for e in examples(page))
    for command in ["grad", "eval", "check", "diff", "hessian", "graph", "functions", "fusions"]:
        assert re.search(rf"\bcg {command}\b", shown), command
    assert "cg grammar" in shown and "cg --version" in shown


def test_the_form_is_read_as_documented(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- file: in.txt -->\n```text\nx*x\n```\n\n"
        "```console\n$ cg diff - --wrt x < in.txt\n2*x\n"
        "$ cg grad x   # exit 2\n$ echo hi\nhi\n```\n"
    )
    found = examples(page)
    assert [(e.command, e.exit_code, e.output) for e in found] == [
        ("cg diff - --wrt x < in.txt", 0, "2*x\n"),
        ("cg grad x", 2, ""),
        ("echo hi", 0, "hi\n"),
    ]
    assert files(page) == {"in.txt": "x*x\n"}
    _prepare(page, tmp_path)
    assert [run(e, tmp_path)[:2] for e in found] == [(0, "2*x\n"), (2, ""), (0, "hi\n")]


def update() -> None:
    """Rewrite every page's shown outputs and exit codes from what cg prints now."""
    import tempfile

    for page in _pages_with_examples():
        text = page.read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as cwd:
            _prepare(page, Path(cwd))
            pieces, end = [], 0
            for example in examples(page):
                code, out, err = run(example, Path(cwd))
                if out and not out.endswith("\n"):
                    out += "\n"
                suffix = f"   # exit {code}" if code else ""
                pieces += [text[end : example.span[0]], f"$ {example.command}{suffix}\n", out]
                end = example.span[1]
                if (code, out) != (example.exit_code, example.output):
                    print(f"{page.name}:{example.line}: $ {example.command}: updated")
            page.write_text("".join(pieces) + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_docs.py --update")
    sys.path.insert(0, str(Path(__file__).parent))
    update()
