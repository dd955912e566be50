"""Crash recovery of the handoff workspace: an intent journal written before each state change.

Every change (a digest posted, clarified, shared or withdrawn; a review recorded; an event
skipped or quarantined) is described in ``state/intent.json`` before anything another command
reads is touched, in one of two phases:

``prepare``
    the change may overwrite the JSON documents listed under ``restore`` (a digest's audit.json,
    which the notebook reads while it re-renders the page). A killed change is *undone*: those
    documents are written back and its ``tmp/`` folders removed.
``commit``
    every new file is complete in ``tmp/`` and the audit.log entry is computed. A killed change
    is *completed*: folders and files are moved into place, lines appended (each once), the
    entry appended and the head written, the index page rewritten. Each step may run again.

:func:`locked` is the only way digestkit takes the workspace lock, and it runs :func:`recover`
first, so no command can start on a half-made change: after a kill at any instant the next
command finishes or undoes it, removes stale build folders from ``tmp/`` and sets aside a torn
last line of ``state/events.jsonl`` or ``quarantine.jsonl``, removes the half-written
temporary files of :func:`digestkit.fileio.write_atomic`, and says so on stderr.

Each step passes a named :func:`digestkit.fileio.failpoint` (``<action>.<step>``), at which a
test stops the process as ``kill -9`` would.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from digestkit import fileio
from digestkit.audit import AuditEntry, next_entry, write_entry
from digestkit.exceptions import WorkspaceError
from digestkit.fileio import (
    ATOMIC_SUFFIX,
    append_once,
    canonical_json,
    failpoint,
    make_build_dir,
    read_json,
    set_aside_torn_tail,
    sha256_bytes,
    write_atomic,
)

if TYPE_CHECKING:
    from digestkit.workspace import Layout

__all__ = ["Change", "Recovery", "append_logged", "change", "jsonl_line", "locked", "recover"]

log = logging.getLogger("digestkit.journal")


@dataclass
class Recovery:
    """What taking the lock found and did about an earlier process that was killed."""

    completed: str | None = None  # the action of a change finished (rolled forward)
    undone: str | None = None  # the action of a change undone (rolled back)
    removed: list[str] = field(default_factory=list)  # stale tmp/ and partial files, relative
    set_aside: list[str] = field(default_factory=list)  # files whose torn last line moved out

    def messages(self) -> list[str]:
        """One line per thing done, for stderr and the runner's log."""
        out = []
        if self.completed:
            out.append(f"completed the interrupted change {self.completed} (state/intent.json)")
        if self.undone:
            out.append(f"undid the interrupted change {self.undone} (state/intent.json)")
        out.extend(f"removed {p}, left by a killed run" for p in self.removed)
        out.extend(
            f"moved the torn last line of {p} (a killed run's half-written record) to {p}.torn; "
            "its feed line is handled again"
            for p in self.set_aside
        )
        return out


def jsonl_line(record: Mapping[str, Any]) -> str:
    """The line :func:`digestkit.fileio.append_jsonl` writes for ``record``."""
    return json.dumps(dict(record), ensure_ascii=False, sort_keys=True)


def _intent_path(layout: Layout) -> Path:
    return layout.root / "state" / "intent.json"


def _inside(layout: Layout, rel: str) -> Path:
    """The workspace path a journal names; WorkspaceError if it points outside the workspace."""
    path = (layout.root / rel).resolve()
    if not path.is_relative_to(layout.root) or path == layout.root:
        raise WorkspaceError(
            f"{_intent_path(layout)} names {rel!r}, outside the workspace; it was not written by "
            "digestkit: restore the workspace from backup"
        )
    return path


def _rel(layout: Layout, path: Path) -> str:
    # Paths relative to the workspace: a workspace moved after a kill still recovers.
    return path.resolve().relative_to(layout.root).as_posix()


@contextlib.contextmanager
def locked(layout: Layout, *, timeout: float = -1) -> Iterator[Recovery]:
    """Hold the workspace lock, after finishing or undoing what a killed process left."""
    with fileio.locked(layout.lock, timeout=timeout):
        yield recover(layout)


def recover(layout: Layout) -> Recovery:
    """Complete or undo the journaled change, remove stale ``tmp/`` entries, repair torn lines.

    The caller holds the workspace lock.
    """
    found = Recovery()
    path = _intent_path(layout)
    if path.exists():
        intent = read_json(path)
        if intent.get("phase") == "commit":
            _complete(layout, intent)
            found.completed = str(intent.get("action"))
        else:
            _undo(layout, intent)
            found.undone = str(intent.get("action"))
    for jsonl in (layout.events, layout.quarantine):
        if set_aside_torn_tail(jsonl):
            found.set_aside.append(_rel(layout, jsonl))
    stale = sorted(layout.tmp.iterdir()) if layout.tmp.is_dir() else []
    # Half-written files of write_atomic: where it writes (the root, state/, digest folders).
    folders = [layout.root, layout.root / "state"]
    if layout.digests.is_dir():
        folders.extend(p for p in layout.digests.iterdir() if p.is_dir())
    for folder in folders:
        stale.extend(sorted(folder.glob(f".*{ATOMIC_SUFFIX}")) if folder.is_dir() else [])
    for leftover in stale:
        _remove(leftover)
        found.removed.append(_rel(layout, leftover))
    if found.completed or found.undone:
        from digestkit.index import write_index  # index -> workspace -> this module

        write_index(layout)
    for message in found.messages():
        log.warning("%s: %s", layout.root, message)
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _complete(layout: Layout, intent: Mapping[str, Any]) -> None:
    """Run every step of a committed change that has not run yet (each is idempotent)."""
    action = intent["action"]
    for src_rel, dst_rel, sha256 in intent.get("moves", []):
        src, dst = _inside(layout, src_rel), _inside(layout, dst_rel)
        if src.exists():
            os.replace(src, dst)
        elif not dst.exists() or (sha256 and sha256_bytes(dst.read_bytes()) != sha256):
            raise WorkspaceError(
                f"{_intent_path(layout)}: cannot complete {action}: {src_rel} is gone and "
                f"{dst_rel} is not what it should be; restore the workspace from backup"
            )
        failpoint(f"{action}.moved:{dst.name}")
    for rel, line in intent.get("appends", []):
        name = Path(rel).name
        append_once(_inside(layout, rel), line, point=f"{action}.appending:{name}")
        failpoint(f"{action}.appended:{name}")
    if intent.get("audit"):
        write_entry(layout, intent["audit"], point=action)
    if intent.get("index"):
        from digestkit.index import write_index  # index -> workspace -> this module

        write_index(layout)
        failpoint(f"{action}.indexed")
    _intent_path(layout).unlink()
    failpoint(f"{action}.closed")
    for rel in intent.get("tmp", []):
        _remove(_inside(layout, rel))


def _undo(layout: Layout, intent: Mapping[str, Any]) -> None:
    """Put back what a change prepared but never committed had overwritten."""
    for rel, document in intent.get("restore", {}).items():
        path = _inside(layout, rel)
        if document is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, canonical_json(document))
    _intent_path(layout).unlink()
    for rel in intent.get("tmp", []):
        _remove(_inside(layout, rel))


class Change:
    """One state change under way (made by :func:`change`; the caller holds the lock)."""

    def __init__(self, layout: Layout, action: str) -> None:
        self.layout, self.action = layout, action
        self.committed = False
        self._intent: dict[str, Any] = {
            "action": action,
            "phase": "prepare",
            "restore": {},
            "tmp": [],
            "moves": [],
            "appends": [],
            "audit": None,
            "index": False,
        }
        self._journaled = False

    def build_dir(self, name: str) -> Path:
        """A fresh folder in ``tmp/`` for this change's files, removed when it ends."""
        path = make_build_dir(self.layout.tmp, name)
        self._intent["tmp"].append(_rel(self.layout, path))
        if self._journaled:
            self._write()
        return path

    def keep(self, path: Path) -> None:
        """Journal the JSON document at ``path`` so that undoing the change puts it back.

        Call it before overwriting ``path``; the change is journaled (``prepare``) from here.
        """
        document = read_json(path) if path.exists() else None
        self._intent["restore"][_rel(self.layout, path)] = document
        self._write()
        failpoint(f"{self.action}.prepared")

    def commit(
        self,
        *,
        moves: Sequence[tuple[Path, Path]] = (),
        appends: Sequence[tuple[Path, Mapping[str, Any]]] = (),
        audit: Mapping[str, Any] | None = None,
        index: bool = False,
    ) -> AuditEntry | None:
        """Journal the finished change (``commit``), then make it: from here it is completed.

        ``moves``: (file or folder in tmp/, where it goes); ``appends``: (JSON Lines file,
        record); ``audit``: the fields of the audit.log entry (``at`` included), whose seq and
        ``prev`` are taken now, under the lock. Returns the entry.
        """
        entry = None
        if audit is not None:
            fields = dict(audit)
            entry = next_entry(self.layout, self.action, at=fields.pop("at", None), **fields)
        self._intent.update(
            phase="commit",
            moves=[
                [
                    _rel(self.layout, src),
                    _rel(self.layout, dst),
                    sha256_bytes(src.read_bytes()) if src.is_file() else None,
                ]
                for src, dst in moves
            ],
            appends=[[_rel(self.layout, path), jsonl_line(rec)] for path, rec in appends],
            audit=dict(entry) if entry is not None else None,
            index=index,
        )
        self._write()
        failpoint(f"{self.action}.committed")
        self.committed = True
        _complete(self.layout, self._intent)
        return entry

    def undo(self) -> None:
        """Put back what the uncommitted change overwrote and remove its tmp folders."""
        if self._journaled:
            _undo(self.layout, self._intent)
        else:
            for rel in self._intent["tmp"]:
                _remove(self.layout.root / rel)

    def _write(self) -> None:
        path = _intent_path(self.layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, canonical_json(self._intent))
        self._journaled = True


@contextlib.contextmanager
def change(layout: Layout, action: str) -> Iterator[Change]:
    """Make one journaled state change named ``action``; undone if it fails before committing.

    The caller holds the lock (:func:`locked`). A change a failure left half-made earlier in
    this process is completed first. A failure after the commit leaves the journal for the
    next command to complete.
    """
    if _intent_path(layout).exists():
        recover(layout)
    current = Change(layout, action)
    try:
        yield current
    finally:
        if not current.committed:
            current.undo()


def append_logged(
    layout: Layout,
    action: str,
    path: Path,
    record: Mapping[str, Any],
    *,
    pin: str | None = None,
    **fields: Any,
) -> AuditEntry:
    """Append ``record`` to the JSON Lines file ``path`` and log ``action`` as one change.

    With ``pin`` the entry also records, under that key, the sha256 of ``path`` as it is after
    the append. The caller holds the lock.
    """
    if pin is not None:
        before = path.read_bytes() if path.exists() else b""
        fields[pin] = sha256_bytes(before + (jsonl_line(record) + "\n").encode("utf-8"))
    with change(layout, action) as current:
        entry = current.commit(appends=[(path, record)], audit=fields)
    return cast(AuditEntry, entry)  # an entry was asked for, so one was written
