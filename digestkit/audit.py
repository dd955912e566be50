"""The workspace's audit trail: ``audit.log``, a hash chain of JSON Lines, and its verification.

Each entry records one change (ids and hashes only, never text a person typed) with the hash of
the entry before it. ``state/audit-head.json`` is the *head*: the seq and hash of the last entry,
where the hash covers the entry's seq, action, fields and ``prev``, so only the chain can produce
it. :func:`verify_audit` recomputes the chain and checks the head against it, each digest folder's
files against the hashes the log last recorded for them, and the runner's person-made and
processed outcomes in ``state/events.jsonl`` against the entries that must record them. A head
copied somewhere the workspace's writers cannot change is checked with ``expect_head``.

The next entry's seq comes from the log itself (its last entry), never from the head alone, so a
head left behind by a killed process cannot make two entries share a seq.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from digestkit import clock
from digestkit.exceptions import WorkspaceError
from digestkit.fileio import (
    append_once,
    canonical_json,
    failpoint,
    last_line,
    sha256_bytes,
    write_atomic,
)

if TYPE_CHECKING:
    from digestkit.workspace import Layout

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditProblem",
    "append_audit",
    "entry_hash",
    "next_entry",
    "read_head",
    "verify_audit",
    "write_entry",
]

#: The ``prev`` of the first entry: there is no entry before it.
GENESIS = "0" * 64

_HASH = re.compile(r"[0-9a-f]{64}")

# The files of a digest folder whose hashes audit.log entries pin, by the entry key.
_PINNED = (
    ("digest.json", "digest_sha256"),
    ("audit.json", "audit_sha256"),
    ("digest.html", "html_sha256"),
    ("digest.ipynb", "ipynb_sha256"),
    ("reviews.jsonl", "reviews_sha256"),
)


class AuditEntry(TypedDict):
    """One line of audit.log: what changed, by whom, pinned by hashes, chained by ``prev``."""

    seq: int
    at: str
    action: str  # digest.created | digest.clarified | digest.<state> | review.recorded | ...
    prev: str
    hash: str
    digest_id: NotRequired[str]
    by: NotRequired[str]
    event_id: NotRequired[str | None]
    review_id: NotRequired[str]
    digest_sha256: NotRequired[str]
    audit_sha256: NotRequired[str]
    html_sha256: NotRequired[str]
    ipynb_sha256: NotRequired[str]
    reviews_sha256: NotRequired[str]
    text_sha256: NotRequired[str]
    reason_sha256: NotRequired[str]


@dataclass(frozen=True)
class AuditProblem:
    """Something wrong with the audit trail: the audit.log line (None for a digest folder's
    files, which ``path`` names) and what it means."""

    line: int | None
    message: str
    path: str | None = None

    def location(self, layout: Layout) -> str:
        """Where to look: the file in the workspace, or audit.log and its line."""
        if self.path is not None:
            return str(layout.root / self.path)
        return f"{layout.audit_log}:{self.line}" if self.line else str(layout.audit_log)


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of an entry: sha256 of every field but ``hash`` (seq and ``prev`` included)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _as_entry(line: str) -> dict[str, Any] | None:
    """The entry on ``line``, or None if it is not one (not JSON, a field missing or mistyped)."""
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(entry, dict):
        return None
    seq, prev, claimed = entry.get("seq"), entry.get("prev"), entry.get("hash")
    if type(seq) is not int or seq < 1 or not isinstance(entry.get("action"), str):
        return None
    if not isinstance(prev, str) or not isinstance(claimed, str):
        return None
    return entry


def read_head(layout: Layout) -> tuple[dict[str, Any] | None, str | None]:
    """The head (``{"seq", "hash"}``) and None, or None and why the head file is not valid."""
    path = layout.audit_head
    if not path.exists():
        return None, None
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, f"{path} is not JSON"
    valid = (
        isinstance(head, dict)
        and set(head) == {"seq", "hash"}
        and type(head["seq"]) is int
        and head["seq"] >= 1
        and isinstance(head["hash"], str)
        and _HASH.fullmatch(head["hash"]) is not None
    )
    if not valid:
        return None, f'{path} is not a head ({{"seq": N, "hash": 64 hex digits}} expected)'
    return cast(dict[str, Any], head), None


def next_entry(layout: Layout, action: str, *, at: str | None = None, **fields: Any) -> AuditEntry:
    """The entry that would be appended now: seq and ``prev`` from the last entry of the log.

    A head ahead of the log (entries deleted after it was written) raises the seq past it, so
    the gap stays visible to :func:`verify_audit` instead of being reused.
    """
    line, torn = last_line(layout.audit_log)
    if torn:
        raise WorkspaceError(
            f"{layout.audit_log}: the last line is incomplete and no interrupted change names it; "
            "restore the file from backup (digestkit audit verify shows where it breaks)"
        )
    last = _as_entry(line) if line is not None else None
    if line is not None and last is None:
        raise WorkspaceError(
            f"{layout.audit_log}: the last line is not an audit entry; restore the file from "
            "backup (digestkit audit verify shows where it breaks)"
        )
    head, _ = read_head(layout)
    top = max(last["seq"] if last else 0, head["seq"] if head else 0)
    entry: dict[str, Any] = {
        "seq": top + 1,
        "at": at or clock.utc_now_text(),
        "action": action,
        **fields,
        "prev": last["hash"] if last else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    return cast(AuditEntry, entry)


def write_entry(layout: Layout, entry: Mapping[str, Any], *, point: str | None = None) -> None:
    """Append ``entry`` to audit.log (unless it is there already), then write the head.

    Both steps may be repeated after a kill: the line is appended once, the head rewritten.
    ``point`` prefixes the failure points of the two steps.
    """
    line = json.dumps(dict(entry), ensure_ascii=False, sort_keys=True)
    append_once(
        layout.audit_log,
        line,
        point=f"{point}.logging" if point else None,
        foreign_torn="raise",
    )
    if point:
        failpoint(f"{point}.logged")
    layout.audit_head.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(layout.audit_head, canonical_json({"seq": entry["seq"], "hash": entry["hash"]}))
    if point:
        failpoint(f"{point}.head")


def append_audit(
    layout: Layout, action: str, *, at: str | None = None, **fields: Any
) -> AuditEntry:
    """Append an entry (ids and hashes only) to audit.log, chained to the previous entry.

    ``at`` is the time of the change it records (default: now), so audit.json and audit.log
    agree; an ``audit_sha256`` field pins the digest's audit.json as it was written.
    """
    entry = next_entry(layout, action, at=at, **fields)
    write_entry(layout, entry)
    return entry


def verify_audit(layout: Layout, *, expect_head: str | None = None) -> list[AuditProblem]:
    """Every problem of the audit trail (empty when it is intact).

    Edited, reordered, deleted or unreadable entries; a missing, invalid or mismatched head;
    with ``expect_head``, a head kept elsewhere that is not an entry of the chain; digest folders
    and runner outcomes the log does not account for.
    """
    problems: list[AuditProblem] = []
    log = layout.audit_log
    raw = log.read_bytes() if log.exists() else b""
    lines = raw.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        problems.append(
            AuditProblem(len(lines), "the last line is incomplete (a write was cut short)")
        )
    entries: list[dict[str, Any]] = []
    seen: dict[int, int] = {}  # seq -> line
    last: dict[str, Any] | None = None
    for line_no, line in enumerate(lines, start=1):
        entry = _as_entry(line)
        if entry is None:
            problems.append(AuditProblem(line_no, "not an audit entry (edited or corrupted)"))
            continue
        seq, recomputed = entry["seq"], entry_hash(entry)
        if recomputed != entry["hash"]:
            problems.append(AuditProblem(line_no, f"entry seq {seq} was edited (hash mismatch)"))
        if seq in seen:
            problems.append(AuditProblem(line_no, f"entry seq {seq} repeats line {seen[seq]}"))
        elif last is not None and seq < last["seq"]:
            problems.append(
                AuditProblem(line_no, f"entry seq {seq} comes after seq {last['seq']} (reordered)")
            )
        elif last is not None and entry["prev"] != last["hash"]:
            problems.append(
                AuditProblem(line_no, f"entry seq {seq} does not chain to the entry before it")
            )
        elif last is None and entry["prev"] != GENESIS:
            problems.append(AuditProblem(line_no, f"entry seq {seq} does not start the chain"))
        seen.setdefault(seq, line_no)
        entries.append(entry)
        last = entry
    head, head_problem = read_head(layout)
    if head_problem:
        problems.append(AuditProblem(None, head_problem))
    elif head is None and lines:
        problems.append(AuditProblem(None, f"{layout.audit_head} is missing"))
    top = max([*seen, head["seq"] if head else 0], default=0)
    gaps = _gaps(seen, top)
    if gaps:
        spans = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in gaps)
        problems.append(AuditProblem(None, f"entries with seq {spans} were deleted"))
    if head and last and head["seq"] == last["seq"] and head["hash"] != entry_hash(last):
        problems.append(AuditProblem(len(lines), "the last entry is not the one the head records"))
    elif head and last and head["seq"] < last["seq"]:
        problems.append(
            AuditProblem(
                None, f"the head records seq {head['seq']} but the log goes on to {last['seq']}"
            )
        )
    if head is not None and last is None and not lines:
        problems.append(AuditProblem(None, f"the head records seq {head['seq']}: the log is gone"))
    if expect_head is not None:
        problems.extend(_check_expected(expect_head, entries))
    return problems + _verify_folders(layout, entries) + _verify_outcomes(layout, entries)


def _gaps(present: Iterable[int], top: int) -> list[tuple[int, int]]:
    """The runs of seqs 1..``top`` not in ``present``, as (first, last): ``[(4, 6)]``.

    Computed from the seqs present, never by listing 1..top: a forged seq may be huge.
    """
    gaps, expected = [], 1
    for seq in [*sorted(set(present)), top + 1]:
        if seq > expected:
            gaps.append((expected, seq - 1))
        expected = max(expected, seq + 1)
    return gaps


def _check_expected(expect_head: str, entries: list[dict[str, Any]]) -> list[AuditProblem]:
    """A head kept outside the workspace must be the hash of an entry of the chain."""
    expected = expect_head.strip().lower()
    if not _HASH.fullmatch(expected):
        return [AuditProblem(None, "--expect-head must be 64 hex digits (digestkit audit head)")]
    if any(entry_hash(e) == expected == e["hash"] for e in entries):
        return []
    return [
        AuditProblem(
            None,
            f"the expected head {expected[:12]}… is no entry of the chain: the log was truncated, "
            "rewritten or forked after that head was recorded",
        )
    ]


def _verify_folders(layout: Layout, entries: list[dict[str, Any]]) -> list[AuditProblem]:
    """Each digest folder against what audit.log last recorded for it."""
    logged: dict[str, dict[str, Any]] = {}  # digest_id -> last logged hash (and seq) per file
    for entry in entries:
        digest_id = entry.get("digest_id")
        if not isinstance(digest_id, str) or not digest_id:
            continue
        record = logged.setdefault(digest_id, {})
        for _, key in _PINNED:
            if entry.get(key):
                record[key], record[f"{key}_seq"] = entry[key], entry.get("seq")
    problems = []
    folders = (
        sorted(p for p in layout.digests.iterdir() if p.is_dir()) if layout.digests.is_dir() else []
    )
    for folder in folders:
        rel = folder.relative_to(layout.root).as_posix()
        found = logged.pop(folder.name, None)
        if found is None:
            problems.append(AuditProblem(None, "has no entry in audit.log", rel))
            continue
        for name, key in _PINNED:
            path = folder / name
            if key not in found and name == "reviews.jsonl" and path.exists():
                problems.append(
                    AuditProblem(None, "has no review.recorded entry in audit.log", f"{rel}/{name}")
                )
            if key not in found:
                continue  # written before digestkit logged this hash
            if not path.is_file():
                problems.append(AuditProblem(None, "is missing", f"{rel}/{name}"))
            elif sha256_bytes(path.read_bytes()) != found[key]:
                problems.append(
                    AuditProblem(
                        None,
                        f"was changed after audit.log seq {found[key + '_seq']} recorded it "
                        "(sha256 differs)",
                        f"{rel}/{name}",
                    )
                )
    for digest_id in sorted(logged):
        if "digest_sha256" in logged[digest_id]:
            problems.append(
                AuditProblem(None, "was deleted (audit.log records it)", f"digests/{digest_id}")
            )
    return problems


# The runner outcomes an audit.log entry must record: (status, event type) -> logged action.
_OUTCOME_ACTIONS = {
    ("processed", "runbook.published"): "digest.created",
    ("processed", "runbook.withdrawn"): "digest.withdrawn",
}


def _verify_outcomes(layout: Layout, entries: list[dict[str, Any]]) -> list[AuditProblem]:
    """Each state/events.jsonl outcome that changed the workspace against its audit.log entry.

    A person's skip and a processed event are written in the same change as their entry, so an
    outcome without one means the entry was deleted (a deleted last entry with a rewritten head).
    """
    path = layout.events
    if not path.exists():
        return []
    logged = {(e.get("action"), e.get("event_id")) for e in entries}
    rel = path.relative_to(layout.root).as_posix()
    problems = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            record = json.loads(line) if line else None
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            if line:
                problems.append(AuditProblem(None, f"line {line_no} is not a JSON object", rel))
            continue
        status, event_id = record.get("status"), record.get("event_id")
        action = _OUTCOME_ACTIONS.get((str(status), str(record.get("event_type"))))
        if status == "skipped" and str(record.get("reason", "")).startswith("skipped by "):
            action = "event.skipped"
        if action and (action, event_id) not in logged:
            problems.append(
                AuditProblem(
                    None,
                    f"line {line_no} records event {event_id} {status} but audit.log has no "
                    f"{action} entry for it (deleted)",
                    rel,
                )
            )
    return problems
