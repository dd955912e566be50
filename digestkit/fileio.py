"""How digestkit writes and reads its files: atomically, as canonical JSON, under one lock.

Every file of a handoff workspace goes through here, so readers never see half a file, a JSON
document has one byte form (the one its sha256 pins), and files get the modes ordinary files
get, whatever temporary-file helpers default to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from digestkit.exceptions import WorkspaceError

__all__ = [
    "append_jsonl",
    "canonical_json",
    "current_umask",
    "locked",
    "make_build_dir",
    "read_json",
    "read_jsonl",
    "sha256_bytes",
    "write_atomic",
]


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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
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
    """Every JSON line of ``path`` (an empty list if it does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
