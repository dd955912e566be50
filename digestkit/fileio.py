"""How digestkit writes and reads its files: atomically, as canonical JSON, under one lock.

Every file of a handoff workspace goes through here, so readers never see half a file, a JSON
document has one byte form (the one its sha256 pins), and files get the modes ordinary files
get, whatever temporary-file helpers default to. Appends are idempotent (:func:`append_once`)
and a line torn by a killed writer is repaired, not read as data.

:func:`failpoint` marks each step of a state change: naming one in ``$DIGESTKIT_FAILPOINT``
ends the process there as ``kill -9`` would, which is how the recovery of every step is tested.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from digestkit.exceptions import WorkspaceError

__all__ = [
    "ATOMIC_SUFFIX",
    "FAILPOINT_ENV",
    "FAILPOINT_TRACE_ENV",
    "KILLED",
    "append_jsonl",
    "append_once",
    "canonical_json",
    "current_umask",
    "failpoint",
    "last_line",
    "locked",
    "make_build_dir",
    "read_json",
    "read_jsonl",
    "set_aside_torn_tail",
    "sha256_bytes",
    "write_atomic",
]

#: Environment variable naming the failure point at which the process is to stop.
FAILPOINT_ENV = "DIGESTKIT_FAILPOINT"
#: Environment variable naming a file that every failure point passed is appended to.
FAILPOINT_TRACE_ENV = "DIGESTKIT_FAILPOINT_TRACE"
#: Exit status of a process stopped at a failure point (128 + SIGKILL, as after ``kill -9``).
KILLED = 137
#: How the temporary file of :func:`write_atomic` ends (``.<name>.<random>.partial``), so one a
#: killed writer left behind can be found and removed.
ATOMIC_SUFFIX = ".partial"

# Longest line the tail readers expect (audit entries and outcomes are far shorter).
_TAIL = 1 << 16


def failpoint(name: str, *, before_exit: Callable[[], None] | None = None) -> None:
    """Stop the process at once, as ``kill -9`` would, if $DIGESTKIT_FAILPOINT is ``name``.

    No ``finally`` block, ``atexit`` hook or buffered write runs; ``before_exit`` may first do
    part of the next step (half a line) to leave a torn write behind.
    """
    trace = os.environ.get(FAILPOINT_TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
    if os.environ.get(FAILPOINT_ENV) == name:
        if before_exit is not None:
            before_exit()
        os._exit(KILLED)


@contextlib.contextmanager
def locked(lock: Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold the workspace lock file ``lock``; ``timeout`` seconds (-1: forever), then
    WorkspaceError."""
    file_lock = FileLock(str(lock))
    try:
        file_lock.acquire(timeout=timeout)
    except Timeout:
        raise WorkspaceError(
            f"{lock}: another digestkit process is changing this workspace; "
            "wait for it to finish or use another --workspace"
        ) from None
    try:
        yield
    finally:
        file_lock.release()


def canonical_json(payload: object) -> bytes:
    """The bytes digestkit writes for a JSON document (sorted keys, UTF-8, trailing newline)."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True)
    return (text + "\n").encode("utf-8")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def current_umask() -> int:
    """The process umask (reading it means setting it; it is put straight back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def make_build_dir(parent: Path, name: str) -> Path:
    """A fresh folder ``<name>.<random>`` under ``parent`` with a normal folder's mode (mkdtemp
    makes 0700, and the folder is renamed to where a web server must read it)."""
    build = Path(tempfile.mkdtemp(dir=parent, prefix=f"{name}."))
    build.chmod(0o777 & ~current_umask())
    return build


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename, so readers never see half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=ATOMIC_SUFFIX)
    try:
        # mkstemp makes 0600 files; give the file the mode any other file here gets.
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; WorkspaceError (what to do) if it is missing or not JSON."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: missing; rebuild the digest with digestkit run") from None
    except json.JSONDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid JSON ({exc}); restore it from backup") from None
    if not isinstance(payload, dict):
        raise WorkspaceError(f"{path}: not a JSON object; restore it from backup")
    return payload


def append_jsonl(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON object as a line to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of ``path`` (an empty list if it does not exist).

    WorkspaceError names the file and line of one that is not a JSON object.
    """
    if not path.exists():
        return []
    records = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            raise WorkspaceError(
                f"{path}:{line_no}: not a JSON object (the file was edited or damaged); "
                "restore it from backup, or move that line out of the file"
            )
        records.append(record)
    return records


def _tail(path: Path, at_least: int = 0) -> tuple[bytes, int]:
    """The last bytes of ``path`` (at least ``at_least`` + 1 if it has them) and its size."""
    with path.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - max(_TAIL, at_least + 1)))
        return fh.read(), size


def last_line(path: Path) -> tuple[str | None, bytes]:
    """The last complete line of ``path`` (None if it has none) and any torn text after it.

    Torn text is a last line without its newline: what a writer killed mid-append leaves.
    """
    if not path.exists():
        return None, b""
    tail, _ = _tail(path)
    cut = tail.rfind(b"\n")
    torn = tail[cut + 1 :]
    if cut < 0:
        return None, torn
    start = tail.rfind(b"\n", 0, cut) + 1
    return tail[start:cut].decode("utf-8", "replace"), torn


def set_aside_torn_tail(path: Path) -> bytes:
    """Cut a torn last line off ``path`` into ``<path>.torn``; return it (b"" if none)."""
    if not path.exists():
        return b""
    _, torn = last_line(path)
    if torn:
        with path.with_name(path.name + ".torn").open("ab") as fh:
            fh.write(torn + b"\n")
        os.truncate(path, path.stat().st_size - len(torn))
    return torn


def append_once(
    path: Path,
    line: str,
    *,
    point: str | None = None,
    foreign_torn: Literal["set_aside", "raise"] = "set_aside",
) -> None:
    """Append ``line`` to ``path`` unless it already is the last line (so a retry is harmless).

    A torn last line that is the start of ``line`` is this append interrupted: it is completed.
    Any other torn line is set aside into ``<path>.torn`` or, with ``foreign_torn="raise"``,
    refused (WorkspaceError). ``point`` names the failure point between the two halves.
    """
    data = (line + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        tail, size = _tail(path, len(data))
        whole = len(tail) == size
        if tail.endswith(data) and (
            (whole and len(tail) == len(data)) or tail[-len(data) - 1 : -len(data)] == b"\n"
        ):
            return
        torn = tail[tail.rfind(b"\n") + 1 :]
        if torn and data.startswith(torn):
            os.truncate(path, size - len(torn))
        elif torn and foreign_torn == "raise":
            raise WorkspaceError(
                f"{path}: the last line is incomplete and is not the one being written; "
                "restore the file from backup (digestkit audit verify shows where it breaks)"
            )
        elif torn:
            set_aside_torn_tail(path)
    with path.open("ab") as fh:
        if point is not None:

            def half() -> None:
                fh.write(data[: len(data) // 2])
                fh.flush()

            failpoint(point, before_exit=half)
        fh.write(data)
