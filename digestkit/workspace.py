"""The handoff workspace: one folder per digest, an index page, and a hash-chained audit log.

Layout (default root ``reports/workspace``)::

    digests/<runbook_id>@<revision>/   digest.ipynb, digest.html, digest.json, audit.json
    index.html                        every digest, newest first
    audit.log                         append-only JSON Lines; each entry carries the previous hash
    state/cursor.json                 next feed line the event runner reads
    state/events.jsonl                outcome of every event (processed/skipped/duplicate/failed)
    state/audit-head.json             seq and hash of the last audit.log entry (catches truncation)
    quarantine.jsonl                  malformed feed lines: line number and reason, never the text
    .lock                             held by whoever changes the workspace
    tmp/                              digests being built; renamed into digests/ when complete

A digest is built as ``draft``; :func:`clarify` adds a reviewer's note and :func:`share` marks
it ``shared`` (reviewed for duty-manager handoff); a withdrawal event makes it ``withdrawn``
(:func:`mark_withdrawn`), after which it cannot be shared. Each re-renders the HTML.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

from filelock import FileLock, Timeout

from digestkit import render
from digestkit.exceptions import ScopeError, WorkspaceError
from digestkit.screen import find_sensitive

DEFAULT_WORKSPACE = Path("reports/workspace")
SHARE_MEANING = "reviewed for duty-manager handoff"
WITHDRAW_MEANING = "revision withdrawn after publication; not for duty-manager handoff"
RESHARE_MEANING = "clarified after it was shared; share it again once reviewed"
STATES = ("draft", "shared", "withdrawn")
GENESIS = "0" * 64

# Fields a digest must carry before it may be shared: (where, key) in digest.json.
REQUIRED_FIELDS = (
    ("header", "runbook_id"),
    ("header", "revision"),
    ("header", "revision_ref"),
    ("header", "published_at"),
    ("header", "publisher"),
    ("header", "change_reason"),
    ("header", "as_of"),
    ("audit", "approved_by"),
    ("audit", "snapshots"),
)


@dataclass(frozen=True)
class Layout:
    """Paths of one workspace."""

    root: Path

    @property
    def digests(self) -> Path:
        return self.root / "digests"

    @property
    def index(self) -> Path:
        return self.root / "index.html"

    @property
    def audit_log(self) -> Path:
        return self.root / "audit.log"

    @property
    def audit_head(self) -> Path:
        return self.root / "state" / "audit-head.json"

    @property
    def cursor(self) -> Path:
        return self.root / "state" / "cursor.json"

    @property
    def events(self) -> Path:
        return self.root / "state" / "events.jsonl"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine.jsonl"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def digest_dir(self, digest_id: str) -> Path:
        return self.digests / digest_id


@dataclass(frozen=True)
class DigestEntry:
    """One row of the index page."""

    digest_id: str
    runbook_id: str
    revision: str
    baseline: str | None
    published_at: str | None
    created_at: str
    state: str
    changed_steps: int
    flags: int
    open_questions: int
    transition: Mapping[str, Any] | None = None  # into the current state: by, at, meaning


class Annotations(NamedTuple):
    """What the workspace adds to a digest page: clarifications, state and who set it."""

    notes: list[dict[str, Any]]
    state: str
    transition: dict[str, Any] | None


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


def open_workspace(root: str | Path = DEFAULT_WORKSPACE, *, create: bool = True) -> Layout:
    """Return the workspace's layout, creating its folders unless ``create`` is False.

    With ``create=False`` a folder that is not a workspace is an error, so a mistyped path is
    never reported as an intact, empty workspace.
    """
    layout = Layout(Path(root).resolve())
    if not create:
        if not layout.digests.is_dir():
            raise WorkspaceError(
                f"no handoff workspace at {layout.root}: check --workspace, or create one with "
                f"`digestkit run --workspace {root}`"
            )
        return layout
    for folder in (layout.digests, layout.tmp, layout.cursor.parent):
        folder.mkdir(parents=True, exist_ok=True)
    return layout


@contextlib.contextmanager
def locked(layout: Layout, *, timeout: float = -1) -> Iterator[None]:
    """Hold the workspace lock; ``timeout`` seconds (-1 waits forever) before WorkspaceError."""
    lock = FileLock(str(layout.lock))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WorkspaceError(
            f"{layout.lock}: another digestkit process is changing this workspace; "
            "wait for it to finish or use another --workspace"
        ) from None
    try:
        yield
    finally:
        lock.release()


def now_iso() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_json(payload: Any) -> bytes:
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


def make_build_dir(layout: Layout, digest_id: str) -> Path:
    """A fresh folder under ``tmp/`` to build a digest in, with a normal folder's mode (mkdtemp
    makes 0700, and the folder is renamed into ``digests/`` where a web server must read it)."""
    build = Path(tempfile.mkdtemp(dir=layout.tmp, prefix=f"{digest_id}."))
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


# --- digests -------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"{path}: missing; rebuild the digest with digestkit run") from None
    except json.JSONDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid JSON ({exc}); restore it from backup") from None


def find_digest(layout: Layout, digest_id: str) -> Path:
    """The folder of ``digest_id``; WorkspaceError naming the known digests if it is missing."""
    folder = layout.digest_dir(digest_id)
    if "/" in digest_id or not (folder / "audit.json").is_file():
        known = ", ".join(e.digest_id for e in list_digests(layout)) or "none yet"
        raise WorkspaceError(
            f"no digest '{digest_id}' in {layout.digests}; known: {known} "
            "(ids look like premium-s1-escalation@r7)"
        )
    return folder


def load_audit(layout: Layout, digest_id: str) -> dict[str, Any]:
    """The audit.json of ``digest_id``."""
    return _read_json(find_digest(layout, digest_id) / "audit.json")


def load_digest(layout: Layout, digest_id: str) -> dict[str, Any]:
    """The digest.json of ``digest_id``."""
    return _read_json(find_digest(layout, digest_id) / "digest.json")


def annotations(workspace: str | Path | None, digest_id: str) -> Annotations:
    """Clarifications, state and its transition of a digest; a bare draft if not posted yet."""
    if workspace is None:
        return Annotations([], "draft", None)
    path = Layout(Path(workspace).resolve()).digest_dir(digest_id) / "audit.json"
    if not path.is_file():
        return Annotations([], "draft", None)
    audit = _read_json(path)
    return Annotations(
        list(audit.get("clarifications", [])),
        str(audit.get("state", "draft")),
        state_transition(audit),
    )


def state_transition(audit: Mapping[str, Any]) -> dict[str, Any] | None:
    """The transition into the current state (by, at, meaning); None while a digest is a draft."""
    state = audit.get("state", "draft")
    if state == "draft":
        return None
    into = [t for t in audit.get("transitions", []) if t.get("to") == state]
    return dict(into[-1]) if into else None


def new_audit(
    digest: Mapping[str, Any],
    *,
    digest_sha256: str,
    parameters: Mapping[str, Any],
    event_id: str | None,
) -> dict[str, Any]:
    """The audit.json of a freshly built digest (state ``draft``)."""
    h, a = digest["header"], digest["audit"]
    at = now_iso()
    return {
        "schema_version": 1,
        "digest_id": digest["digest_id"],
        "revision": h["revision"],
        "revision_ref": a["revision_ref"],
        "baseline": h.get("baseline"),
        "baseline_ref": a.get("baseline_ref"),
        "change_reason": a.get("change_reason"),
        "approved_by": a.get("approved_by"),
        "as_of": a.get("as_of"),
        "revision_sha256": a.get("revision_sha256"),
        "snapshots": a.get("snapshots", {}),
        "digestkit_version": a.get("digestkit_version"),
        "parameters": {"notebook": dict(parameters), "digest": a.get("parameters", {})},
        "event_id": event_id,
        "digest_sha256": digest_sha256,
        "created_at": at,
        "state": "draft",
        "transitions": [
            {"from": None, "to": "draft", "at": at, "by": "digestkit", "event_id": event_id}
        ],
        "clarifications": [],
    }


def render_folder(
    folder: Path,
    *,
    parameters: Mapping[str, Any],
    title: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
    kernel: render.WarmKernel | None = None,
    posted_to: Path | None = None,
) -> None:
    """Execute the digest notebook into ``folder``/digest.ipynb and render digest.html.

    ``posted_to`` is the folder the files will be moved to; the notebook's papermill metadata
    names it as the output path instead of the build folder, which is deleted.
    """
    executed = render.execute_notebook(
        folder / "digest.ipynb", parameters=parameters, notebook=notebook, cwd=folder, kernel=kernel
    )
    if posted_to is not None:
        import nbformat

        nb = nbformat.read(executed, as_version=4)
        nb.metadata.setdefault("papermill", {})["output_path"] = str(posted_to / "digest.ipynb")
        nbformat.write(nb, executed)
    render.notebook_to_html(executed, folder / "digest.html", title=title)


def _rerender(layout: Layout, digest_id: str, audit: dict[str, Any], *, notebook: Path) -> None:
    """Write the new audit.json and re-render; on failure put the old audit.json back."""
    folder = find_digest(layout, digest_id)
    digest = load_digest(layout, digest_id)
    old = (folder / "audit.json").read_bytes()
    write_atomic(folder / "audit.json", canonical_json(audit))
    build = make_build_dir(layout, digest_id)
    try:
        shutil.copyfile(folder / "digest.json", build / "digest.json")
        # The workspace may have been moved or restored elsewhere since the digest was built:
        # the notebook reads clarifications and state from where the digest is now.
        render_folder(
            build,
            parameters={**audit["parameters"]["notebook"], "workspace": str(layout.root)},
            title=render.title_for(digest),
            notebook=notebook,
            posted_to=folder,
        )
        for name in ("digest.ipynb", "digest.html"):
            os.replace(build / name, folder / name)
    except BaseException:
        write_atomic(folder / "audit.json", old)
        raise
    finally:
        shutil.rmtree(build, ignore_errors=True)


def digest_sources(layout: Layout, digest_id: str) -> Any:
    """The sources the digest was built from, as its audit records them; None if it does not."""
    from digestkit import sources

    recorded = load_audit(layout, digest_id).get("parameters", {}).get("notebook")
    if recorded is None:
        return None
    return sources.open_sources(recorded.get("data"))  # None: the default world


def refuse_sensitive(text: str, src: Any, *, what: str) -> None:
    """Raise ScopeError if typed ``text`` holds customer-sensitive data (named by kind and id)."""
    found = find_sensitive(text, src)
    if found:
        raise ScopeError(
            f"refusing the {what}: it contains {'; '.join(found)}; customer-sensitive data never "
            "goes into the workspace, so refer to accounts and contacts by id or count instead"
        )


_PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def person_id(value: str, *, option: str, src: Any = None) -> str:
    """A staff member's user id (``u-lead``, ``m.ross``), checked before it is recorded.

    Names and e-mail addresses are refused: the workspace records who did what by id, and a
    customer's name typed here would otherwise land in the audit trail.
    """
    value = (value or "").strip()
    if not _PERSON_ID.fullmatch(value):
        raise WorkspaceError(
            f"{option} must be a user id such as u-lead or m.ross (letters, digits, '.', '_', '-'; "
            "no spaces or e-mail addresses)"
        )
    refuse_sensitive(value, src, what=f"{option} value")
    return value


def clarify(
    layout: Layout,
    digest_id: str,
    *,
    author: str,
    text: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
) -> dict[str, Any]:
    """Append a reviewer's clarification to the digest's audit, re-render it, return the note.

    Refused (ScopeError, nothing written) when the text is out of the digest's scope or holds
    customer-sensitive data.
    """
    from digestkit.policy import check_digest

    if not text.strip():
        raise WorkspaceError("clarify needs a non-empty --text")
    src = digest_sources(layout, digest_id)
    author = person_id(author, option="--author", src=src)
    # Checked first: the scope refusal quotes the sentence, this one never repeats the value.
    refuse_sensitive(text, src, what="clarification")
    violations = check_digest({"clarifications": [{"text": text}]})
    if violations:
        v = violations[0]
        raise ScopeError(
            f"refusing the clarification: {v.rule.replace('_', ' ')} in '{v.sentence}'; a digest "
            "is informational, so state a fact or an open question instead"
        )
    with locked(layout):
        audit = load_audit(layout, digest_id)
        note = {"author": author, "at": now_iso(), "text": text.strip()}
        audit["clarifications"] = [*audit.get("clarifications", []), note]
        if audit.get("state") == "shared":
            # What was reviewed for handoff has changed: it must be shared again.
            _transition(audit, "draft", by=author, at=note["at"], meaning=RESHARE_MEANING)
        _rerender(layout, digest_id, audit, notebook=notebook)
        append_audit(
            layout,
            "digest.clarified",
            at=note["at"],
            digest_id=digest_id,
            **logged_hashes(layout, digest_id, audit),
            by=note["author"],
            text_sha256=sha256_bytes(note["text"].encode("utf-8")),
        )
        write_index(layout)
    return note


def share_problems(layout: Layout, digest_id: str) -> list[str]:
    """Why ``digest_id`` may not be shared yet (empty when it may)."""
    from digestkit.policy import check_digest

    folder = find_digest(layout, digest_id)
    audit, digest = load_audit(layout, digest_id), load_digest(layout, digest_id)
    problems = []
    if sha256_bytes((folder / "digest.json").read_bytes()) != audit.get("digest_sha256"):
        problems.append("digest.json does not match the sha256 recorded in audit.json")
    for where, key in REQUIRED_FIELDS:
        if digest.get(where, {}).get(key) in (None, "", {}, []):
            problems.append(f"required field {where}.{key} is missing")
    for part in ("changed_steps", "carried_forward", "open_questions", "flags"):
        problems.extend(
            f"claim {c.get('id')} has no source" for c in digest.get(part, []) if not c["sources"]
        )
    checked = {**digest, "clarifications": audit.get("clarifications", [])}
    problems.extend(
        f"scope guard: {v.where} {v.rule.replace('_', ' ')} in '{v.sentence}'"
        for v in check_digest(checked)
    )
    return problems


def share(
    layout: Layout,
    digest_id: str,
    *,
    by: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
) -> dict[str, Any]:
    """Mark a digest shared (who, when, what it means) and re-render; refused if not ready."""
    by = person_id(by, option="--by", src=digest_sources(layout, digest_id))
    with locked(layout):
        audit = load_audit(layout, digest_id)
        if audit.get("state") == "shared":
            last = state_transition(audit) or {"by": "?", "at": "?"}
            raise WorkspaceError(f"{digest_id} is already shared (by {last['by']} at {last['at']})")
        if audit.get("state") == "withdrawn":
            t = state_transition(audit) or {"by": "?", "at": "?"}
            raise WorkspaceError(
                f"refusing to share {digest_id}: its revision was withdrawn after publication "
                f"(by {t['by']} at {t['at']}); a withdrawn revision's digest is not for handoff"
            )
        problems = share_problems(layout, digest_id)
        if problems:
            raise WorkspaceError(
                f"refusing to share {digest_id}: {'; '.join(problems)}; "
                "resolve these first (a source problem needs the digest rebuilt)"
            )
        at = now_iso()
        transition = _move(
            layout,
            digest_id,
            audit,
            to="shared",
            by=by,
            at=at,
            logged_at=at,
            meaning=SHARE_MEANING,
            notebook=notebook,
        )
        write_index(layout)
    return transition


def mark_withdrawn(
    layout: Layout,
    digest_id: str,
    *,
    by: str,
    at: str,
    event_id: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
) -> dict[str, Any] | None:
    """Mark the digest of a withdrawn revision ``withdrawn`` and re-render it.

    The caller holds the workspace lock (the event runner does). Returns the transition, or None
    if the digest was already withdrawn. A withdrawn digest can no longer be shared.
    """
    audit = load_audit(layout, digest_id)
    if audit.get("state") == "withdrawn":
        return None
    # ``at`` is when the revision was withdrawn (the event); the log entry says when we saw it.
    return _move(
        layout,
        digest_id,
        audit,
        to="withdrawn",
        by=by,
        at=at,
        logged_at=None,
        meaning=WITHDRAW_MEANING,
        notebook=notebook,
        event_id=event_id,
    )


def _transition(audit: dict[str, Any], to: str, **fields: Any) -> dict[str, Any]:
    """Move ``audit`` to state ``to``, appending the transition (by, at, meaning, ...)."""
    transition = {"from": audit.get("state", "draft"), "to": to, **fields}
    audit["state"] = to
    audit["transitions"] = [*audit.get("transitions", []), transition]
    return transition


def _move(
    layout: Layout,
    digest_id: str,
    audit: dict[str, Any],
    *,
    to: str,
    by: str,
    at: str,
    logged_at: str | None,
    meaning: str,
    notebook: Path,
    **extra: Any,
) -> dict[str, Any]:
    """Record a state transition in audit.json, re-render the digest, log it; return it."""
    transition = _transition(audit, to, by=by, at=at, meaning=meaning, **extra)
    _rerender(layout, digest_id, audit, notebook=notebook)
    append_audit(
        layout,
        f"digest.{to}",
        at=logged_at,
        digest_id=digest_id,
        **logged_hashes(layout, digest_id, audit),
        by=by,
        **extra,
    )
    return transition


# --- index -----------------------------------------------------------------------------------


def list_digests(layout: Layout) -> list[DigestEntry]:
    """Every digest of the workspace, newest publication first."""
    entries = []
    if not layout.digests.is_dir():
        return entries
    for folder in layout.digests.iterdir():
        if not (folder / "audit.json").is_file() or not (folder / "digest.json").is_file():
            continue
        audit, digest = _read_json(folder / "audit.json"), _read_json(folder / "digest.json")
        h = digest["header"]
        entries.append(
            DigestEntry(
                digest_id=digest["digest_id"],
                runbook_id=h["runbook_id"],
                revision=h["revision"],
                baseline=h.get("baseline"),
                published_at=h.get("published_at"),
                created_at=audit.get("created_at", ""),
                state=audit.get("state", "draft"),
                changed_steps=len(digest.get("changed_steps", [])),
                flags=len(digest.get("flags", [])),
                open_questions=len(digest.get("open_questions", [])),
                transition=state_transition(audit),
            )
        )
    entries.sort(key=lambda e: (e.published_at or "", e.created_at, e.digest_id), reverse=True)
    return entries


def index_html(entries: list[DigestEntry]) -> str:
    """The index page of the workspace as a standalone HTML document."""
    rows = "".join(
        f'<tr><td><a href="digests/{escape(e.digest_id)}/digest.html">{escape(e.digest_id)}</a>'
        f"</td><td>{escape(e.runbook_id)}</td><td>{escape(e.revision)}</td>"
        f"<td>{escape(e.baseline or '—')}</td><td>{escape(e.published_at or '—')}</td>"
        f"<td>{render.state_badge(e.state)}"
        f"{_transition_note(e.transition)}</td>"
        f'<td class="n">{e.changed_steps}</td><td class="n">{e.flags}</td>'
        f'<td class="n">{e.open_questions}</td></tr>'
        for e in entries
    )
    empty = '<p class="dk-empty">No digests yet.</p>' if not entries else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Runbook digests — handoff workspace</title>"
        f"{render.STYLE}<style>body {{ margin: 2rem; }} .dk {{ max-width: none; }}"
        " .dk td { white-space: nowrap; } .dk td.n { text-align: right !important; }</style>"
        '</head><body><div class="dk"><h2>Runbook digests</h2>'
        '<p class="dk-lede">Published runbook revisions, newest first. Draft digests are not yet '
        "reviewed; shared ones were reviewed for duty-manager handoff.</p>"
        '<table id="digests"><thead><tr><th>Digest</th><th>Runbook</th><th>Revision</th>'
        "<th>Baseline</th><th>Published</th><th>State</th><th>Changes</th><th>Flags</th>"
        f"<th>Open questions</th></tr></thead><tbody>{rows}</tbody></table>{empty}"
        "</div></body></html>\n"
    )


def _transition_note(transition: Mapping[str, Any] | None) -> str:
    if not transition:
        return ""
    by, at = escape(transition["by"]), escape(transition["at"])
    return f'<br><small class="dk-transition">by {by} at {at}</small>'


def write_index(layout: Layout) -> Path:
    """Rewrite index.html from the digest folders; return its path."""
    write_atomic(layout.index, index_html(list_digests(layout)).encode("utf-8"))
    return layout.index


# --- audit log -------------------------------------------------------------------------------


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
) -> dict[str, Any]:
    """Append an entry (ids and hashes only) to audit.log, chained to the previous entry.

    ``at`` is the time of the change it records (default: now), so audit.json and audit.log
    agree; an ``audit_sha256`` field pins the digest's audit.json as it was written.
    """
    head = _read_json(layout.audit_head) if layout.audit_head.exists() else None
    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, GENESIS)
    entry = {"seq": seq, "at": at or now_iso(), "action": action, **fields, "prev": prev}
    layout.audit_head.parent.mkdir(parents=True, exist_ok=True)
    entry["hash"] = _entry_hash(entry)
    append_jsonl(layout.audit_log, entry)
    write_atomic(layout.audit_head, canonical_json({"seq": seq, "hash": entry["hash"]}))
    return entry


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
    head = _read_json(layout.audit_head) if layout.audit_head.exists() else None
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
        for key in ("digest_sha256", "audit_sha256", "html_sha256", "reviews_sha256"):
            if entry.get(key):
                record[key], record[f"{key}_seq"] = entry[key], entry.get("seq")
    problems = []
    folders = (
        sorted(p for p in layout.digests.iterdir() if p.is_dir()) if layout.digests.is_dir() else []
    )
    for folder in folders:
        rel = folder.relative_to(layout.root).as_posix()
        record = logged.pop(folder.name, None)
        if record is None:
            problems.append(AuditProblem(None, "has no entry in audit.log", rel))
            continue
        for name, key in (
            ("digest.json", "digest_sha256"),
            ("audit.json", "audit_sha256"),
            ("digest.html", "html_sha256"),
            ("reviews.jsonl", "reviews_sha256"),
        ):
            path = folder / name
            if key not in record:
                continue  # written before digestkit logged this hash
            if not path.is_file():
                problems.append(AuditProblem(None, "is missing", f"{rel}/{name}"))
            elif sha256_bytes(path.read_bytes()) != record[key]:
                problems.append(
                    AuditProblem(
                        None,
                        f"was changed after audit.log seq {record[key + '_seq']} recorded it "
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
