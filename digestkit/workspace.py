"""The handoff workspace: its layout, one folder per digest, and each digest's state.

Layout (default root ``reports/workspace``)::

    digests/<runbook_id>@<revision>/   digest.ipynb, digest.html, digest.json, audit.json
    index.html                        digests by runbook, current first; events needing someone
    revisions/<runbook_id>@<rev>.html  each digested revision's text, lines anchored (#L84)
    audit.log                         append-only JSON Lines; each entry carries the previous hash
    state/cursor.json                 next feed line the event runner reads
    state/events.jsonl                outcome of every event (processed/skipped/duplicate/failed)
    state/audit-head.json             seq and hash of the last audit.log entry (catches truncation)
    state/intent.json                 the change being made, while it is made (digestkit.journal)
    quarantine.jsonl                  malformed feed lines: line number and reason, never the text
    .lock                             held by whoever changes the workspace
    tmp/                              digests being built; renamed into digests/ when complete

A digest is built as ``draft``; :func:`clarify` adds a reviewer's note and :func:`share` marks
it ``shared`` (reviewed for duty-manager handoff); a withdrawal event makes it ``withdrawn``
(:func:`mark_withdrawn`), after which it cannot be shared. Each re-renders the HTML and is
logged in the hash-chained audit.log (:mod:`digestkit.audit`) in the same journaled change
(:mod:`digestkit.journal`), so a process killed at any instant leaves a change that the next
command completes or undoes; files are written through :mod:`digestkit.fileio`. The index
page and the revision pages it links are written by :mod:`digestkit.index`.
"""

# No ``from __future__ import annotations``: it would clash with :func:`annotations` below,
# which the digest notebook imports by that name.
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, NotRequired, TypedDict, cast

from digestkit import clock, journal, render
from digestkit.exceptions import ScopeError, WorkspaceError
from digestkit.fileio import (
    canonical_json,
    failpoint,
    read_json,
    sha256_bytes,
    write_atomic,
)
from digestkit.screen import find_sensitive, find_sensitive_in_digest

if TYPE_CHECKING:
    from digestkit.kernel import WarmKernel
    from digestkit.policy import Violation
    from digestkit.sources import DataSources

__all__ = [
    "DEFAULT_WORKSPACE",
    "REQUIRED_FIELDS",
    "RESHARE_MEANING",
    "SHARE_MEANING",
    "STATES",
    "WITHDRAW_MEANING",
    "Annotations",
    "AuditRecord",
    "Clarification",
    "DigestState",
    "Layout",
    "Transition",
    "annotations",
    "clarify",
    "digest_sources",
    "find_digest",
    "load_audit",
    "load_digest",
    "mark_withdrawn",
    "new_audit",
    "open_workspace",
    "person_id",
    "refuse_sensitive",
    "render_folder",
    "scope_confirmations",
    "share",
    "share_problems",
    "state_transition",
]

DEFAULT_WORKSPACE = Path("reports/workspace")
SHARE_MEANING = "reviewed for duty-manager handoff"
WITHDRAW_MEANING = "revision withdrawn after publication; not for duty-manager handoff"
RESHARE_MEANING = "clarified after it was shared; share it again once reviewed"

DigestState = Literal["draft", "shared", "withdrawn"]
STATES: tuple[DigestState, ...] = ("draft", "shared", "withdrawn")

# "from" is a keyword, so the transition's shape is spelt in the functional form.
Transition = TypedDict(
    "Transition",
    {
        "from": DigestState | None,
        "to": DigestState,
        "at": str,
        "by": str,
        "meaning": NotRequired[str],
        "event_id": NotRequired[str | None],
    },
)
Transition.__doc__ = """One state change of a digest: from, to, when, by whom and what it means."""


class Clarification(TypedDict):
    """A reviewer's note on a digest (``digestkit clarify``), on one claim if ``claim`` is set."""

    author: str
    at: str
    text: str
    claim: NotRequired[str]


class AuditRecord(TypedDict):
    """A digest folder's audit.json: what the digest was built from, its state and history."""

    schema_version: int
    digest_id: str
    revision: str
    revision_ref: str
    baseline: str | None
    baseline_ref: str | None
    change_reason: str | None
    approved_by: str | None
    as_of: str | None
    revision_sha256: str | None
    snapshots: dict[str, str]
    digestkit_version: str | None
    parameters: dict[str, dict[str, Any]]  # "notebook" (papermill) and "digest" (thresholds)
    event_id: str | None
    digest_sha256: str
    created_at: str
    state: DigestState
    transitions: list[Transition]
    clarifications: list[Clarification]


_CLAIM_PARTS = ("changed_steps", "carried_forward", "open_questions", "flags")
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
    def revisions(self) -> Path:
        return self.root / "revisions"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def digest_dir(self, digest_id: str) -> Path:
        return self.digests / digest_id


class Annotations(NamedTuple):
    """What the workspace adds to a digest page: clarifications, state and who set it."""

    notes: list[Clarification]
    state: DigestState
    transition: Transition | None


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


# --- digests -------------------------------------------------------------------------------


def find_digest(layout: Layout, digest_id: str) -> Path:
    """The folder of ``digest_id``; WorkspaceError naming the known digests if it is missing."""
    from digestkit.index import list_digests  # index imports this module

    folder = layout.digest_dir(digest_id)
    if "/" in digest_id or not (folder / "audit.json").is_file():
        known = ", ".join(e.digest_id for e in list_digests(layout)) or "none yet"
        raise WorkspaceError(
            f"no digest '{digest_id}' in {layout.digests}; known: {known} "
            "(ids look like premium-s1-escalation@r7)"
        )
    return folder


def load_audit(layout: Layout, digest_id: str) -> AuditRecord:
    """The audit.json of ``digest_id``."""
    return _read_audit(find_digest(layout, digest_id) / "audit.json")


def _read_audit(path: Path) -> AuditRecord:
    # audit.log pins every audit.json digestkit writes; `digestkit audit verify` finds edits.
    return cast(AuditRecord, read_json(path))


def load_digest(layout: Layout, digest_id: str) -> dict[str, Any]:
    """The digest.json of ``digest_id``."""
    return read_json(find_digest(layout, digest_id) / "digest.json")


def annotations(workspace: str | Path | None, digest_id: str) -> Annotations:
    """Clarifications, state and its transition of a digest; a bare draft if not posted yet."""
    if workspace is None:
        return Annotations([], "draft", None)
    path = Layout(Path(workspace).resolve()).digest_dir(digest_id) / "audit.json"
    if not path.is_file():
        return Annotations([], "draft", None)
    audit = _read_audit(path)
    return Annotations(
        list(audit.get("clarifications", [])),
        audit.get("state", "draft"),
        state_transition(audit),
    )


def state_transition(audit: AuditRecord) -> Transition | None:
    """The transition into the current state (by, at, meaning); None while a digest is a draft."""
    state = audit.get("state", "draft")
    if state == "draft":
        return None
    into = [t for t in audit.get("transitions", []) if t.get("to") == state]
    return into[-1].copy() if into else None


def new_audit(
    digest: Mapping[str, Any],
    *,
    digest_sha256: str,
    parameters: Mapping[str, Any],
    event_id: str | None,
) -> AuditRecord:
    """The audit.json of a freshly built digest (state ``draft``)."""
    h, a = digest["header"], digest["audit"]
    at = clock.utc_now_text()
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
    kernel: "WarmKernel | None" = None,
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

        nb = nbformat.read(executed, as_version=4)  # type: ignore[no-untyped-call]
        nb.metadata.setdefault("papermill", {})["output_path"] = str(posted_to / "digest.ipynb")
        nbformat.write(nb, executed)  # type: ignore[no-untyped-call]
    render.notebook_to_html(executed, folder / "digest.html", title=title)


def _rerender(
    layout: Layout,
    digest_id: str,
    audit: AuditRecord,
    *,
    action: str,
    logged: Mapping[str, Any],
    notebook: Path,
    outcome: Mapping[str, Any] | None = None,
    index: bool = False,
) -> None:
    """Write the new audit.json, re-render, and log ``action`` as one journaled change.

    ``logged`` are the audit.log fields besides the digest id and hashes; ``outcome`` a
    state/events.jsonl record written in the same change. On failure the old audit.json is put
    back; a kill is completed or undone by the next command (:mod:`digestkit.journal`).
    """
    folder = find_digest(layout, digest_id)
    digest = load_digest(layout, digest_id)
    with journal.change(layout, action) as current:
        # The notebook reads state and clarifications from the live audit.json, so it is written
        # before rendering; the journal keeps the old one to put back if the change is undone.
        current.keep(folder / "audit.json")
        audit_bytes = canonical_json(audit)
        write_atomic(folder / "audit.json", audit_bytes)
        failpoint(f"{action}.wrote:audit.json")
        build = current.build_dir(digest_id)
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
        failpoint(f"{action}.rendered")
        current.commit(
            moves=[(build / name, folder / name) for name in ("digest.ipynb", "digest.html")],
            appends=[(layout.events, outcome)] if outcome is not None else [],
            audit={
                **logged,
                "digest_id": digest_id,
                "audit_sha256": sha256_bytes(audit_bytes),
                "html_sha256": sha256_bytes((build / "digest.html").read_bytes()),
                "ipynb_sha256": sha256_bytes((build / "digest.ipynb").read_bytes()),
            },
            index=index,
        )


def digest_sources(layout: Layout, digest_id: str) -> "DataSources | None":
    """The sources the digest was built from, as its audit records them; None if it does not."""
    from digestkit import sources

    recorded = load_audit(layout, digest_id).get("parameters", {}).get("notebook")
    if recorded is None:
        return None
    return sources.open_sources(recorded.get("data"))  # None: the default world


def refuse_sensitive(text: str, src: "DataSources | None", *, what: str) -> None:
    """Raise ScopeError if typed ``text`` holds customer-sensitive data (named by kind and id)."""
    found = find_sensitive(text, src)
    if found:
        raise ScopeError(
            f"refusing the {what}: it contains {'; '.join(found)}; customer-sensitive data never "
            "goes into the workspace, so refer to accounts and contacts by id or count instead",
            violations=found,
        )


_PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def person_id(value: str, *, option: str, src: "DataSources | None" = None) -> str:
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
    claim: str | None = None,
    notebook: Path = render.DIGEST_NOTEBOOK,
) -> Clarification:
    """Append a reviewer's clarification to the digest's audit, re-render it, return the note.

    With ``claim`` (a claim id such as ``FLG-02``) the note answers that claim and is shown with
    it. Refused (ScopeError, nothing written) when the text is out of the digest's scope or holds
    customer-sensitive data; WorkspaceError when the digest has no such claim.
    """
    from digestkit.policy import blocking, check_digest

    if not text.strip():
        raise WorkspaceError("clarify needs a non-empty --text")
    if claim is not None:
        digest = load_digest(layout, digest_id)
        ids = [c["id"] for part in _CLAIM_PARTS for c in digest.get(part, [])]
        if claim not in ids:
            raise WorkspaceError(
                f"{digest_id} has no claim '{claim}'; its claims: {', '.join(ids) or 'none'}"
            )
    src = digest_sources(layout, digest_id)
    author = person_id(author, option="--author", src=src)
    # Checked first: the scope refusal quotes the sentence, this one never repeats the value.
    refuse_sensitive(text, src, what="clarification")
    # Only a block-level sentence is refused here; a confirm-level one is kept, and sharing the
    # digest then needs --confirm-scope.
    violations = blocking(check_digest({"clarifications": [{"text": text}]}))
    if violations:
        v = violations[0]
        raise ScopeError(
            f"refusing the clarification: {v.rule.replace('_', ' ')} in '{v.sentence}'; a digest "
            "is informational, so state a fact or an open question instead"
        )
    with journal.locked(layout):
        audit = load_audit(layout, digest_id)
        note: Clarification = {"author": author, "at": clock.utc_now_text(), "text": text.strip()}
        if claim is not None:
            note["claim"] = claim
        audit["clarifications"] = [*audit.get("clarifications", []), note]
        if audit.get("state") == "shared":
            # What was reviewed for handoff has changed: it must be shared again.
            _transition(audit, "draft", by=author, at=note["at"], meaning=RESHARE_MEANING)
        _rerender(
            layout,
            digest_id,
            audit,
            action="digest.clarified",
            logged={
                "at": note["at"],
                "by": note["author"],
                "text_sha256": sha256_bytes(note["text"].encode("utf-8")),
                **({"claim": claim} if claim is not None else {}),
            },
            notebook=notebook,
            index=True,
        )
    return note


def share_problems(layout: Layout, digest_id: str) -> list[str]:
    """Why ``digest_id`` may not be shared yet (empty when it may).

    Only block-level scope violations are problems; confirm-level ones are
    :func:`scope_confirmations`.
    """
    from digestkit.policy import blocking, check_digest

    folder = find_digest(layout, digest_id)
    audit, digest = load_audit(layout, digest_id), load_digest(layout, digest_id)
    problems = []
    if sha256_bytes((folder / "digest.json").read_bytes()) != audit.get("digest_sha256"):
        problems.append("digest.json does not match the sha256 recorded in audit.json")
    for where, key in REQUIRED_FIELDS:
        if digest.get(where, {}).get(key) in (None, "", {}, []):
            problems.append(f"required field {where}.{key} is missing")
    for part in _CLAIM_PARTS:
        problems.extend(
            f"claim {c.get('id')} has no source" for c in digest.get(part, []) if not c["sources"]
        )
    # Minimization holds for every source, the runbook's own text included: a digest that still
    # carries customer data (one built before redaction, or edited) is not for handoff.
    problems.extend(
        f"customer-sensitive data in {found}"
        for found in find_sensitive_in_digest(digest, digest_sources(layout, digest_id))
    )
    checked = {**digest, "clarifications": audit.get("clarifications", [])}
    problems.extend(
        f"scope guard: {v.where} {v.rule.replace('_', ' ')} in '{v.sentence}'"
        for v in blocking(check_digest(checked))
    )
    return problems


# --- scope confirmation (issue 16): confirm-level sentences need the sharer's confirmation ------


def scope_confirmations(layout: Layout, digest_id: str) -> "list[Violation]":
    """The confirm-level scope-guard sentences of a digest and its clarifications."""
    from digestkit.policy import check_digest, to_confirm

    digest = load_digest(layout, digest_id)
    checked = {**digest, "clarifications": load_audit(layout, digest_id).get("clarifications", [])}
    return to_confirm(check_digest(checked))


def _confirm_scope(layout: Layout, digest_id: str, *, confirm_scope: bool) -> list[dict[str, str]]:
    """Refuse to share while confirm-level sentences are unconfirmed; return what is confirmed.

    The share's own audit.log entry records the confirmation (``scope_confirmed``: each sentence
    by where, rule and sha256 — ids and hashes only, like every log entry) with its who and
    when, so a confirmation is never logged apart from the share it allowed.
    """
    pending = scope_confirmations(layout, digest_id)
    if pending and not confirm_scope:
        listed = "; ".join(
            f"{v.where} {v.rule.replace('_', ' ')} in '{v.sentence}'" for v in pending
        )
        raise WorkspaceError(
            f"refusing to share {digest_id} without --confirm-scope: {len(pending)} sentence(s) "
            f"may make a decision that belongs to the duty manager: {listed}; rephrase them, or "
            "confirm they only inform by sharing again with --confirm-scope"
        )
    return [
        {
            "where": v.where,
            "rule": v.rule,
            "sentence_sha256": sha256_bytes(v.sentence.encode("utf-8")),
        }
        for v in pending
    ]


# --- end of scope confirmation -----------------------------------------------------------------


def share(
    layout: Layout,
    digest_id: str,
    *,
    by: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
    confirm_scope: bool = False,
) -> Transition:
    """Mark a digest shared (who, when, what it means) and re-render; refused if not ready.

    Confirm-level scope-guard sentences are refused unless ``confirm_scope`` (the sharer read
    them); the confirmation is logged with who and when.
    """
    by = person_id(by, option="--by", src=digest_sources(layout, digest_id))
    with journal.locked(layout):
        audit = load_audit(layout, digest_id)
        last = state_transition(audit)
        by_at = f"by {last['by']} at {last['at']}" if last else "by ? at ?"
        if audit.get("state") == "shared":
            raise WorkspaceError(f"{digest_id} is already shared ({by_at})")
        if audit.get("state") == "withdrawn":
            raise WorkspaceError(
                f"refusing to share {digest_id}: its revision was withdrawn after publication "
                f"({by_at}); a withdrawn revision's digest is not for handoff"
            )
        problems = share_problems(layout, digest_id)
        if problems:
            raise WorkspaceError(
                f"refusing to share {digest_id}: {'; '.join(problems)}; "
                "resolve these first (a source problem needs the digest rebuilt)"
            )
        at = clock.utc_now_text()
        confirmed = _confirm_scope(layout, digest_id, confirm_scope=confirm_scope)
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
            index=True,
            logged_extra={"scope_confirmed": confirmed} if confirmed else {},
        )
    return transition


def mark_withdrawn(
    layout: Layout,
    digest_id: str,
    *,
    by: str,
    at: str,
    event_id: str,
    notebook: Path = render.DIGEST_NOTEBOOK,
    outcome: Mapping[str, Any] | None = None,
) -> Transition | None:
    """Mark the digest of a withdrawn revision ``withdrawn`` and re-render it.

    The caller holds the workspace lock (the event runner does) and may pass the
    state/events.jsonl ``outcome`` record to write in the same change. Returns the transition,
    or None if the digest was already withdrawn. A withdrawn digest can no longer be shared.
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
        outcome=outcome,
    )


def _transition(
    audit: AuditRecord,
    to: DigestState,
    *,
    by: str,
    at: str,
    meaning: str,
    event_id: str | None = None,
) -> Transition:
    """Move ``audit`` to state ``to``, appending the transition (by, at, meaning, event)."""
    transition: Transition = {
        "from": audit.get("state", "draft"),
        "to": to,
        "by": by,
        "at": at,
        "meaning": meaning,
    }
    if event_id is not None:
        transition["event_id"] = event_id
    audit["state"] = to
    audit["transitions"] = [*audit.get("transitions", []), transition]
    return transition


def _move(
    layout: Layout,
    digest_id: str,
    audit: AuditRecord,
    *,
    to: DigestState,
    by: str,
    at: str,
    logged_at: str | None,
    meaning: str,
    notebook: Path,
    event_id: str | None = None,
    outcome: Mapping[str, Any] | None = None,
    index: bool = False,
    logged_extra: Mapping[str, Any] | None = None,
) -> Transition:
    """Record a state transition in audit.json, re-render the digest, log it; return it."""
    transition = _transition(audit, to, by=by, at=at, meaning=meaning, event_id=event_id)
    event = {} if event_id is None else {"event_id": event_id}
    _rerender(
        layout,
        digest_id,
        audit,
        action=f"digest.{to}",
        logged={"at": logged_at, "by": by, **event, **(logged_extra or {})},
        notebook=notebook,
        outcome=outcome,
        index=index,
    )
    return transition
