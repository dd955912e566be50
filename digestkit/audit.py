"""The workspace's audit trail: ``audit.log``, a hash chain of JSON Lines, and its verification.

Each entry records one change (ids and hashes only, never text a person typed) with the hash of
the entry before it; ``state/audit-head.json`` keeps the seq and hash of the last one, so an
edited, reordered, deleted or truncated entry is found by :func:`verify_audit`, which also checks
each digest folder's files against the hashes the log last recorded for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict, cast

from digestkit import clock
from digestkit.fileio import append_jsonl, canonical_json, read_json, sha256_bytes, write_atomic

if TYPE_CHECKING:
    from digestkit.workspace import Layout

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditProblem",
    "append_audit",
    "logged_hashes",
    "verify_audit",
]

#: The ``prev`` of the first entry: there is no entry before it.
GENESIS = "0" * 64

# The files of a digest folder whose hashes audit.log entries pin, by the entry key.
_PINNED = (
    ("digest.json", "digest_sha256"),
    ("audit.json", "audit_sha256"),
    ("digest.html", "html_sha256"),
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


def logged_hashes(layout: Layout, digest_id: str, audit: Mapping[str, Any]) -> dict[str, str]:
    """The hashes an audit.log entry pins for a digest folder: its audit.json and its page."""
    page = layout.digest_dir(digest_id) / "digest.html"
    return {
        "audit_sha256": sha256_bytes(canonical_json(audit)),
        "html_sha256": sha256_bytes(page.read_bytes()),
    }


def _entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return sha256_bytes(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def append_audit(
    layout: Layout, action: str, *, at: str | None = None, **fields: Any
) -> AuditEntry:
    """Append an entry (ids and hashes only) to audit.log, chained to the previous entry.

    ``at`` is the time of the change it records (default: now), so audit.json and audit.log
    agree; an ``audit_sha256`` field pins the digest's audit.json as it was written.
    """
    head = read_json(layout.audit_head) if layout.audit_head.exists() else None
    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS)
    entry = {"seq": seq, "at": at or clock.utc_now_text(), "action": action, **fields, "prev": prev}
    layout.audit_head.parent.mkdir(parents=True, exist_ok=True)
    entry["hash"] = _entry_hash(entry)
    append_jsonl(layout.audit_log, entry)
    write_atomic(layout.audit_head, canonical_json({"seq": seq, "hash": entry["hash"]}))
    return cast(AuditEntry, entry)


def verify_audit(layout: Layout) -> list[AuditProblem]:
    """Every edited, reordered or deleted entry of audit.log (empty when the chain is intact)."""
    problems: list[AuditProblem] = []
    log = layout.audit_log
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    seen: dict[int, int] = {}  # seq -> line
    last: dict[str, Any] | None = None
    for line_no, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            seq, claimed_prev, claimed_hash = int(entry["seq"]), entry["prev"], entry["hash"]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            problems.append(AuditProblem(line_no, "not an audit entry (edited or corrupted)"))
            continue
        if _entry_hash(entry) != claimed_hash:
            problems.append(AuditProblem(line_no, f"entry seq {seq} was edited (hash mismatch)"))
        if seq in seen:
            problems.append(AuditProblem(line_no, f"entry seq {seq} repeats line {seen[seq]}"))
        elif last is not None and seq < last["seq"]:
            problems.append(
                AuditProblem(line_no, f"entry seq {seq} comes after seq {last['seq']} (reordered)")
            )
        elif last is not None and seq == last["seq"] + 1 and claimed_prev != last["hash"]:
            problems.append(
                AuditProblem(line_no, f"entry seq {seq} does not chain to the entry before it")
            )
        elif last is None and seq == 1 and claimed_prev != GENESIS:
            problems.append(AuditProblem(line_no, "entry seq 1 does not start the chain"))
        seen.setdefault(seq, line_no)
        last = entry
    head = read_json(layout.audit_head) if layout.audit_head.exists() else None
    if head is None and lines:
        problems.append(AuditProblem(None, f"{layout.audit_head} is missing"))
    top = max([*seen, head["seq"] if head else 0], default=0)
    missing = sorted(set(range(1, top + 1)) - set(seen))
    if missing:
        problems.append(
            AuditProblem(None, f"entries with seq {', '.join(map(str, missing))} were deleted")
        )
    elif head and last and head["seq"] == last["seq"] and head["hash"] != last["hash"]:
        problems.append(AuditProblem(len(lines), "the last entry differs from the recorded head"))
    return problems + _verify_folders(layout, lines)


def _verify_folders(layout: Layout, lines: list[str]) -> list[AuditProblem]:
    """Each digest folder against what audit.log last recorded for it."""
    logged: dict[str, dict[str, Any]] = {}  # digest_id -> last logged hash (and seq) per file
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # reported by the chain check
        if not isinstance(entry, dict) or not entry.get("digest_id"):
            continue
        record = logged.setdefault(entry["digest_id"], {})
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
