"""Files cg reads and writes: input read up to a cap, output replaced whole or not at all.

Reading: an expression file, standard input or a file of points is read up to
CG_MAX_INPUT_BYTES bytes (64 MiB unless the environment says otherwise), so that
`-f /dev/zero` ends with a sentence instead of filling the memory.

Writing: an output file is written to a temporary file beside it, then renamed over
it. A full disk, Ctrl-C or an error half-way leaves the old file as it was; two cg
writing the same file leave one whole output, the last one's. The old file's
permissions are kept, and a symlink stays a link: the file it points to is replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

from .errors import CgError

CAP_VARIABLE = "CG_MAX_INPUT_BYTES"
DEFAULT_CAP = 64 * 2**20


def input_cap() -> int:
    """The most bytes cg reads from one input: CG_MAX_INPUT_BYTES, or 64 MiB."""
    text = os.environ.get(CAP_VARIABLE, "").strip()
    if not text:
        return DEFAULT_CAP
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise CgError(
            f"the environment variable {CAP_VARIABLE} must be a whole number of bytes, got {text!r}"
        )
    return int(text)


def size_words(n: int) -> str:
    """64 MiB, 1.5 GiB, 300 bytes: a size as a person says it."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def too_large(what: str, cap: int, file: str | None = None) -> CgError:
    return CgError(
        f"{what} is larger than {size_words(cap)}; set {CAP_VARIABLE} to raise the limit",
        file=file,
    )


def read_capped(source, what: str) -> bytes:
    """All bytes of `source` (a path, '-' for standard input, or a binary stream), at most
    input_cap() of them: more is a CgError naming `what`. An OSError (no such file) is the
    caller's to report, as it knows how the file was named."""
    cap = input_cap()
    word = str(source) if isinstance(source, (str, Path)) else None
    if word == "-":
        return _read_stream(sys.stdin.buffer, cap, what, word)
    if word is None:
        return _read_stream(source, cap, what, None)
    with open(source, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > cap:  # a regular file says its size: no need to read 64 MiB to refuse it
            raise too_large(what, cap, file=word)
        return _read_stream(stream, cap, what, word)


def _read_stream(stream, cap: int, what: str, word: str | None) -> bytes:
    data = stream.read(cap + 1)  # one byte more than allowed tells "more" from "exactly the cap"
    if data is None:
        data = b""
    if len(data) > cap:
        raise too_large(what, cap, file=word)
    return data


# ---------------------------------------------------------------------------
# writing


def same_file(a, b) -> bool:
    """Whether two paths name one file: the same file when both exist (through links, hard
    links, ./ or ..), else the same path once links and dots are resolved."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


@contextlib.contextmanager
def replaced(path, mode: str = "wb", encoding: str | None = None):
    """A file object to write `path`'s new content to; `path` is replaced when the block ends
    without an exception (KeyboardInterrupt included), and left as it was otherwise.

    The content goes to a temporary file in the same folder (a rename is atomic only within one
    file system), renamed over the target at the end. A path that names something other than a
    regular file (/dev/null, a pipe, /dev/stdout) cannot be replaced: it is written directly.
    """
    path = os.fspath(path)
    try:
        info = os.stat(path)  # follows symlinks: what a plain open() would write
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(path, mode, encoding=encoding) as f:
            yield f
        return
    target = os.path.realpath(path)  # a symlink's target is replaced, the link stays
    temporary, fd = _temporary_beside(target)
    try:
        with open(fd, mode, encoding=encoding) as f:
            if info is not None:  # the new file has the old one's permissions
                os.fchmod(f.fileno(), stat.S_IMODE(info.st_mode))
            yield f
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _temporary_beside(target: str) -> tuple[str, int]:
    """A new file next to `target`, hidden, named after it and unique to this writer. Created
    with mode 0o666 so that the umask gives a new output the permissions any new file gets."""
    folder, name = os.path.split(target)
    for attempt in range(100):
        temporary = os.path.join(folder, f".{name}.{os.getpid()}.{attempt}.cg-tmp")
        try:
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # left behind by a killed cg of the same process id
            continue
    raise FileExistsError(f"cannot create a temporary file beside {target}")


def write_bytes(path, data: bytes) -> None:
    """`path`'s content replaced by `data`, whole or not at all (see replaced)."""
    with replaced(path) as f:
        f.write(data)
