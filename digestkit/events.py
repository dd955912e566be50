"""The event runner: change-feed publication events -> digests posted to the handoff workspace.

:func:`process_feed` reads the feed from the workspace's persisted cursor and handles each line
once, under the workspace lock:

- a malformed line goes to ``quarantine.jsonl`` (line number and reason, never its text);
- ``runbook.draft_saved`` events, and publications of revisions withdrawn since, are recorded
  as ``skipped``;
- a ``runbook.withdrawn`` event is validated like a publication (runbook and revision exist;
  the repository has the revision withdrawn; content sha256 names its bytes, see
  :func:`check_revision`) and marks the revision's digest ``withdrawn`` (skipped when there is
  none);
- a publication event is validated (schema, by :func:`digestkit.sources.iter_feed`; runbook and
  revision exist; revision is published; content sha256 names its bytes), its digest is built
  from the content the event names, the notebook executed with papermill and rendered with
  nbconvert in ``tmp/``, and the folder renamed into ``digests/`` only when complete;
- the same event again (same id, same payload), or a revision already digested from the same
  bytes, is recorded as ``duplicate``; an event id re-used for a different payload, or a
  revision digested from other bytes, is a conflict: ``failed``, with the reason;
- a failure is recorded with a short reason (never a SQL statement) and retried on the next
  pass: the cursor never moves past a line that was not handled.

Every outcome is one line in ``state/events.jsonl`` (with the sha256 of the feed line it
handled, so an edited handled line is refused on the next pass) and one log line (ids only).
A digest posted or withdrawn and its outcome are one journaled change (:mod:`digestkit.journal`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple

import pandas as pd
import sqlalchemy as sa

from digestkit import clock, journal, render
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.ahead import Ahead
from digestkit.exceptions import DigestkitError, EventError, SourceError
from digestkit.fileio import (
    append_jsonl,
    canonical_json,
    failpoint,
    read_jsonl,
    sha256_bytes,
    write_atomic,
)
from digestkit.index import write_index
from digestkit.kernel import WarmKernel

__all__ = [
    "HANDLED",
    "PUBLISHED",
    "WITHDRAWN",
    "Outcome",
    "PassResult",
    "Status",
    "build_event_digest",
    "check_revision",
    "handle_line",
    "process_feed",
    "run_event",
    "short_reason",
    "skip_event",
    "watch",
]

log = logging.getLogger("digestkit.events")

PUBLISHED = "runbook.published"
WITHDRAWN = "runbook.withdrawn"
Status = Literal["processed", "skipped", "duplicate", "failed", "quarantined"]
#: Outcomes that are final: the cursor may move past their line (a failure is retried).
HANDLED: tuple[Status, ...] = ("processed", "skipped", "duplicate", "quarantined")

# What a source or the machine may raise while an event is handled: the event fails and is
# retried; anything else is a bug and stops the run.
_FAULTS = (DigestkitError, OSError, sa.exc.SQLAlchemyError, sqlite3.Error, pd.errors.DatabaseError)
_REASON_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """What happened to one feed line."""

    line_no: int
    event_id: str | None
    status: Status
    reason: str
    digest_id: str | None = None
    event_type: str | None = None


@dataclass(frozen=True)
class PassResult:
    """The outcomes of one pass over the feed, where the index page is, and what taking the
    lock recovered from a killed run."""

    outcomes: list[Outcome]
    index: Path
    cursor: int
    recovery: journal.Recovery = field(default_factory=journal.Recovery)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def short_reason(exc: BaseException) -> str:
    """The reason a failed event records: the error's first line, at most 300 characters.

    Never the SQL statement or parameters a database error carries, nor a traceback.
    """
    text = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    text = text.split("[SQL:")[0].strip() or type(exc).__name__
    if not isinstance(exc, DigestkitError):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def check_revision(sources: src_mod.DataSources, event: Mapping[str, Any]) -> pd.Series:
    """Check that an event matches the runbook repository; return the revision row (as now).

    The revision must exist and have held the bytes the event's ``content_sha256`` names: its
    file now, or, in a git repository, any state of it in its history with the status the event
    announces (published, or withdrawn), so a later commit to the revision (a typo fix) does not
    fail the events that came before it. For a publication, a revision the repository still has
    as a draft fails (the repository may lag the feed); one withdrawn since is returned, so the
    caller can skip it. For a withdrawal the repository must have the revision withdrawn: one
    still published there fails, so a forged or premature withdrawal never takes a digest off
    handoff.
    """
    ref = f"{event['runbook_id']}@{event['revision']}"
    try:
        row = src_mod.get_revision(sources, event["runbook_id"], event["revision"])
    except DigestkitError as exc:
        raise EventError(f"event {event['event_id']}: {short_reason(exc)}") from None
    if event["type"] == WITHDRAWN and row["status"] != "withdrawn":
        raise EventError(
            f"event {event['event_id']}: {ref} is '{row['status']}' in the runbook repository, "
            "not withdrawn; run again once the repository records the withdrawal (or close the "
            "event with digestkit skip-event)"
        )
    # A revision withdrawn since its publication is skipped by the caller, not failed.
    if event["type"] != WITHDRAWN and row["status"] not in ("published", "withdrawn"):
        raise EventError(
            f"event {event['event_id']}: {ref} is '{row['status']}' in the runbook repository, "
            "not published; publish it (or withdraw the event) and run again"
        )
    _named_content(sources, event, row)
    return row


def _named_content(
    sources: src_mod.DataSources, event: Mapping[str, Any], row: pd.Series
) -> src_mod.DataSources:
    """``sources`` reading the revision with the bytes ``event`` names: as they are when its
    file (``row``) holds them now, else pinned to the latest commit after which the revision held
    them with the status the event announces; EventError when it never did."""
    wanted = event["content_sha256"]
    if str(row["sha256"]) == wanted:
        return sources
    status = "withdrawn" if event["type"] == WITHDRAWN else "published"
    where = str(row["path"])
    if sources.runbooks_are_git:
        states = src_mod.revision_history(sources, event["runbook_id"], event["revision"])
        named = states[(states["sha256"] == wanted) & (states["status"] == status)]
        if len(named):
            return replace(sources, runbooks_commit=str(named["commit"].iloc[-1]))
        where += f" nor any {status} state of it in the repository's history"
    raise EventError(
        f"event {event['event_id']}: content_sha256 does not match {where}; the repository "
        f"holds different bytes than were {status} — resync it and run again"
    )


def _line_sha256(line: src_mod.FeedLine) -> str:
    return sha256_bytes(line.text.encode("utf-8", "surrogatepass"))


def _outcome_record(outcome: Outcome, line: src_mod.FeedLine) -> dict[str, Any]:
    """The state/events.jsonl line of ``outcome``: ids, status, reason and the line's sha256."""
    return {"at": clock.utc_now_text(), **asdict(outcome), "line_sha256": _line_sha256(line)}


def _log_outcome(outcome: Outcome) -> Outcome:
    what = outcome.digest_id or outcome.event_id or "-"
    log.info("line %d %s %s: %s", outcome.line_no, what, outcome.status, outcome.reason)
    return outcome


def _record(layout: ws.Layout, outcome: Outcome, line: src_mod.FeedLine) -> Outcome:
    append_jsonl(layout.events, _outcome_record(outcome, line))
    return _log_outcome(outcome)


@dataclass
class _History:
    """What earlier passes handled: lines (-> the sha256 they had), event ids and withdrawn
    revisions (-> feed line); and the feed's events by line, to compare a re-used id's payload.
    """

    lines: set[int]
    ids: dict[str, int]
    withdrawn: dict[str, int]
    hashes: dict[int, str] = field(default_factory=dict)
    feed: dict[int, dict[str, str]] = field(default_factory=dict)

    def add(self, outcome: Outcome, line_sha256: str | None = None) -> None:
        if outcome.status in HANDLED:
            self.lines.add(outcome.line_no)
            if line_sha256:
                self.hashes.setdefault(outcome.line_no, line_sha256)
        if outcome.status not in ("processed", "skipped") or not outcome.event_id:
            return
        self.ids.setdefault(outcome.event_id, outcome.line_no)
        if outcome.event_type == WITHDRAWN and outcome.digest_id:
            self.withdrawn.setdefault(outcome.digest_id, outcome.line_no)


_OUTCOME_FIELDS = tuple(Outcome.__dataclass_fields__)


def _history(layout: ws.Layout) -> _History:
    history = _History(set(), {}, {})
    for rec in read_jsonl(layout.events):
        fields: dict[str, Any] = {f: rec.get(f) for f in _OUTCOME_FIELDS}
        if not isinstance(fields["line_no"], int) or fields["status"] not in (*HANDLED, "failed"):
            raise EventError(
                f"{layout.events}: a record without a line number or status ({rec.get('at')}); "
                "the file was edited: restore it from backup"
            )
        history.add(Outcome(**fields), rec.get("line_sha256"))
    return history


class _Built(NamedTuple):
    """A digest built for an event: from which sources, and its digest.json bytes."""

    sources: src_mod.DataSources
    digest: dict[str, Any]
    digest_json: bytes


def _digest_key(event: Mapping[str, Any]) -> tuple[str, str, str]:
    return event["runbook_id"], event["revision"], event["content_sha256"]


def _build(sources: src_mod.DataSources, event: Mapping[str, Any]) -> _Built:
    """The digest of ``event``, built from the sources read as holding the bytes it names."""
    from digestkit.digest import build_digest

    runbook_id, revision = event["runbook_id"], event["revision"]
    named = _named_content(sources, event, src_mod.get_revision(sources, runbook_id, revision))
    digest = build_digest(runbook_id, revision, data=named).to_dict()
    return _Built(named, digest, canonical_json(digest))


def build_event_digest(
    layout: ws.Layout,
    event: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    notebook: Path = render.DIGEST_NOTEBOOK,
    kernel: WarmKernel | None = None,
    outcome: Mapping[str, Any] | None = None,
    ahead: Ahead[_Built] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> str:
    """Build, render and post the digest of a validated publication event; return its id.

    The digest describes the content the event names: in a git repository whose revision was
    committed to since (a typo fix), the repository is read as it stood when the revision held
    the event's bytes (:func:`check_revision`). Everything is written to a folder under ``tmp/``
    that is renamed into ``digests/`` only once complete, so a failure leaves no partial digest.
    The rename, the audit.log entry and the state/events.jsonl ``outcome`` record (if given) are
    one journaled change.

    ``ahead`` may hold the digest built in the background (:func:`_build`); it is used if it
    was built from the sources as they are read now. ``meanwhile`` is called once the digest is
    built, as the notebook starts: the runner starts building the next event's digest.
    """
    if kernel is not None:
        kernel.start()  # a kernel not running yet boots while the digest is built
    runbook_id, revision = event["runbook_id"], event["revision"]
    built = ahead.take(_digest_key(event)) if ahead is not None else None
    if built is None or built.sources != _named_content(
        sources, event, src_mod.get_revision(sources, runbook_id, revision)
    ):
        built = _build(sources, event)
    digest = built.digest
    if digest["audit"]["revision_sha256"] != event["content_sha256"]:
        # The repository moved on between the check and the build: never post a digest of
        # other bytes than the event names; the event fails and is retried.
        raise EventError(
            f"event {event['event_id']}: the digest of {runbook_id}@{revision} was built from "
            "other bytes than the event names; run again once the repository settles"
        )
    digest_id: str = digest["digest_id"]
    parameters = {
        "runbook": event["runbook_id"],
        "revision": event["revision"],
        "baseline": digest["header"].get("baseline"),
        "data": str(sources.root),
        "as_of": digest["header"]["as_of"],
        "workspace": str(layout.root),
        # The notebook renders the digest built here (relative to its folder) instead of
        # building it a second time: one build per event, and the HTML shows the hashed JSON.
        "digest_json": "digest.json",
    }
    with journal.change(layout, "digest.created") as current:
        build = current.build_dir(digest_id)
        digest_bytes = built.digest_json
        (build / "digest.json").write_bytes(digest_bytes)
        if meanwhile is not None:
            meanwhile()
        ws.render_folder(
            build,
            parameters=parameters,
            title=render.title_for(digest),
            notebook=notebook,
            kernel=kernel,
            posted_to=layout.digest_dir(digest_id),
        )
        audit = ws.new_audit(
            digest,
            digest_sha256=sha256_bytes(digest_bytes),
            parameters=parameters,
            event_id=event["event_id"],
        )
        audit_bytes = canonical_json(audit)
        (build / "audit.json").write_bytes(audit_bytes)
        failpoint("digest.created.built")
        current.commit(
            moves=[(build, layout.digest_dir(digest_id))],
            appends=[(layout.events, outcome)] if outcome is not None else [],
            audit={
                "at": audit["created_at"],
                "digest_id": digest_id,
                "by": "digestkit",
                "event_id": event["event_id"],
                "digest_sha256": audit["digest_sha256"],
                "audit_sha256": sha256_bytes(audit_bytes),
                "html_sha256": sha256_bytes((build / "digest.html").read_bytes()),
                "ipynb_sha256": sha256_bytes((build / "digest.ipynb").read_bytes()),
            },
        )
    return digest_id


def _conflict(event: Mapping[str, Any], earlier: Mapping[str, Any] | None) -> list[str]:
    """The fields in which ``event`` differs from the earlier event with its id."""
    if earlier is None:
        return []
    return sorted(k for k in {*event, *earlier} if event.get(k) != earlier.get(k))


def handle_line(
    layout: ws.Layout,
    line: src_mod.FeedLine,
    *,
    sources: src_mod.DataSources,
    history: _History,
    notebook: Path = render.DIGEST_NOTEBOOK,
    kernel: WarmKernel | None = None,
    ahead: Ahead[_Built] | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> Outcome:
    """Handle one feed line (the caller holds the lock) and record its outcome.

    ``ahead`` and ``meanwhile`` are passed on to :func:`build_event_digest`.
    """
    if line.error is not None or line.event is None:
        reason = line.error or "empty event"
        quarantined = Outcome(line.line_no, None, "quarantined", reason)
        with journal.change(layout, "event.quarantined") as current:
            current.commit(
                appends=[
                    (
                        layout.quarantine,
                        {
                            "at": clock.utc_now_text(),
                            "line_no": line.line_no,
                            "field": line.field,
                            "reason": reason,
                        },
                    ),
                    (layout.events, _outcome_record(quarantined, line)),
                ]
            )
        return _log_outcome(quarantined)
    event = line.event  # iter_feed has checked it against SCHEMAS["events"]
    event_id, kind = event["event_id"], event["type"]
    digest_id = f"{event['runbook_id']}@{event['revision']}"

    def made(status: Status, reason: str) -> Outcome:
        return Outcome(line.line_no, event_id, status, reason, digest_id, kind)

    def outcome(status: Status, reason: str) -> Outcome:
        return _record(layout, made(status, reason), line)

    if event_id in history.ids:
        first = history.ids[event_id]
        differ = _conflict(event, history.feed.get(first))
        if differ:
            return outcome(
                "failed",
                f"conflict: event id {event_id} was used at feed line {first} for another event "
                f"({', '.join(differ)} differ); an id names one event, so publish this change "
                f"under a new id and close this line with digestkit skip-event {event_id}",
            )
        return outcome("duplicate", f"event id already handled at feed line {first}")
    if kind not in (PUBLISHED, WITHDRAWN):
        return outcome("skipped", f"{kind} event: drafts are not digested")
    # Validated before the duplicate check: a re-delivery whose content no longer matches the
    # repository is a problem to see, not a duplicate to ignore.
    try:
        row = check_revision(sources, event)
    except EventError as exc:
        return outcome("failed", str(exc))
    except _FAULTS as exc:
        return outcome("failed", short_reason(exc))
    if kind == WITHDRAWN:
        if layout.digest_dir(digest_id).exists():
            return _withdraw(layout, line, made, notebook)
        return outcome(
            "skipped",
            f"{digest_id} has no digest to withdraw; a later publication event for it is skipped",
        )
    if layout.digest_dir(digest_id).exists():
        digested = _digested_sha256(layout, digest_id)
        if digested not in (None, event["content_sha256"]):
            return outcome(
                "failed",
                f"conflict: {digest_id} was digested from other bytes (revision sha256 "
                f"{digested[:12]}…) than this event names; a published revision must not change: "
                f"publish a new revision, and close this line with digestkit skip-event {event_id}",
            )
        return outcome("duplicate", f"{digest_id} is already digested")
    if digest_id in history.withdrawn:
        line_no = history.withdrawn[digest_id]
        return outcome("skipped", f"{digest_id} was withdrawn (feed line {line_no}): no digest")
    if row["status"] == "withdrawn":
        return outcome("skipped", f"{digest_id} was withdrawn after publication: no digest")
    processed = made("processed", "digest built")
    try:
        build_event_digest(
            layout,
            event,
            sources=sources,
            notebook=notebook,
            kernel=kernel,
            outcome=_outcome_record(processed, line),
            ahead=ahead,
            meanwhile=meanwhile,
        )
    except _FAULTS as exc:  # bad data, a failed notebook, a database fault, a full disk
        return outcome("failed", short_reason(exc))
    return _log_outcome(processed)


def _digested_sha256(layout: ws.Layout, digest_id: str) -> str | None:
    """The revision sha256 the digest of ``digest_id`` was built from (None if unrecorded)."""
    try:
        recorded = ws.load_audit(layout, digest_id).get("revision_sha256")
    except DigestkitError:
        return None
    return recorded if isinstance(recorded, str) else None


def _withdraw(
    layout: ws.Layout,
    line: src_mod.FeedLine,
    made: Callable[[Status, str], Outcome],
    notebook: Path,
) -> Outcome:
    """The outcome of a validated withdrawal event for a digested revision."""
    event = line.event or {}
    processed = made("processed", "digest marked withdrawn")
    try:
        transition = ws.mark_withdrawn(
            layout,
            f"{event['runbook_id']}@{event['revision']}",
            by=event["actor"],
            at=event["occurred_at"],
            event_id=event["event_id"],
            notebook=notebook,
            outcome=_outcome_record(processed, line),
        )
    except _FAULTS as exc:
        return _record(layout, made("failed", short_reason(exc)), line)
    if transition is None:
        return _record(layout, made("skipped", "the digest is already withdrawn"), line)
    return _log_outcome(processed)


def _read_cursor(layout: ws.Layout) -> int:
    # _check_cursor has refused a cursor that does not parse.
    if not layout.cursor.exists():
        return 1
    return int(json.loads(layout.cursor.read_text(encoding="utf-8"))["next_line"])


def _prefix_sha256(lines: Iterable[src_mod.FeedLine], before: int) -> str:
    """sha256 of the feed's lines before line ``before``: what the cursor has handled."""
    digest = hashlib.sha256()
    for line in lines:
        if line.line_no < before:
            digest.update(f"{line.line_no}\t{line.text}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _check_handled(
    layout: ws.Layout, lines: list[src_mod.FeedLine], feed: Path, history: _History
) -> None:
    """Refuse a feed in which a line already handled (before the cursor or after it) changed."""
    text = {ln.line_no: ln for ln in lines}
    for line_no, recorded in sorted(history.hashes.items()):
        line = text.get(line_no)
        if line is not None and _line_sha256(line) != recorded:
            raise EventError(
                f"{feed}: line {line_no} is not the line the workspace {layout.root} handled "
                "(its sha256 differs); the feed was edited, so restore it or use a new --workspace"
            )


def _check_cursor(layout: ws.Layout, lines: list[src_mod.FeedLine], feed: Path) -> None:
    """Refuse a feed other than the one the workspace has handled so far, or a shortened one.

    Either would otherwise look like "nothing new" while events go unhandled. The feed is
    recognised by the hash of the lines already handled, so the same feed at a new path (a moved
    data folder) is accepted, and a different file at the same path is not.
    """
    if not layout.cursor.exists():
        return
    try:
        cursor = json.loads(layout.cursor.read_text(encoding="utf-8"))
        int(cursor["next_line"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise EventError(
            f"{layout.cursor}: not a cursor; delete it (the next pass rebuilds it from "
            "state/events.jsonl and checks the feed again)"
        ) from None
    followed, next_line = cursor.get("feed"), int(cursor["next_line"])
    recorded = cursor.get("prefix_sha256")  # absent in cursors written before it existed
    same_content = recorded is not None and recorded == _prefix_sha256(lines, next_line)
    if followed and Path(followed).resolve() != feed.resolve():
        if same_content:
            return  # the same feed, moved
        raise EventError(
            f"the workspace {layout.root} follows the feed {followed} (next line {next_line}), "
            f"not {feed}; pass that --feed, or use a new --workspace for this feed"
        )
    last = max((ln.line_no for ln in lines), default=0)
    if next_line > last + 1:
        raise EventError(
            f"{feed}: the feed ends at line {last} but the workspace {layout.root} has handled it "
            f"up to line {next_line - 1}; the feed was truncated or replaced, so restore it or "
            "use a new --workspace"
        )
    if recorded is not None and not same_content:
        raise EventError(
            f"{feed}: lines 1-{next_line - 1} are not the lines the workspace {layout.root} "
            "handled; the feed was replaced or edited, so restore it or use a new --workspace"
        )


def _advance_cursor(
    layout: ws.Layout, lines: list[src_mod.FeedLine], feed: Path, handled: set[int]
) -> int:
    """Move the cursor to the first line not handled yet; never past a failed one."""
    cursor = _read_cursor(layout)
    for line in lines:
        if line.line_no < cursor:
            continue
        if line.line_no not in handled:
            break
        cursor = line.line_no + 1
    payload = {
        "next_line": cursor,
        "feed": str(feed),
        "prefix_sha256": _prefix_sha256(lines, cursor),
        "at": clock.utc_now_text(),
    }
    write_atomic(layout.cursor, canonical_json(payload))
    return cursor


@dataclass
class _Run:
    """What every runner command opens: the sources, the feed it follows and the workspace.

    :meth:`under_lock` is the rest of the prologue (lock, read the feed, check the cursor, load the
    history) and the epilogue (move the cursor, rewrite the index page).
    """

    sources: src_mod.DataSources
    feed: Path
    layout: ws.Layout
    lines: list[src_mod.FeedLine] = field(default_factory=list)
    history: _History = field(default_factory=lambda: _History(set(), {}, {}))
    cursor: int = 1
    recovery: journal.Recovery = field(default_factory=journal.Recovery)

    @classmethod
    def open(
        cls,
        data: str | Path | None,
        workspace: str | Path,
        feed: str | Path | None,
        *,
        create: bool = True,
    ) -> _Run:
        """Open the sources and the workspace (``create`` as in :func:`ws.open_workspace`)."""
        sources = src_mod.open_sources(data)
        feed_path = Path(feed).resolve() if feed is not None else sources.feed
        return cls(sources, feed_path, ws.open_workspace(workspace, create=create))

    @contextmanager
    def under_lock(self, timeout: float) -> Iterator[_Run]:
        """Hold the workspace lock (recovering from a killed run) with the feed read and checked;
        then advance the cursor."""
        with journal.locked(self.layout, timeout=timeout) as recovery:
            self.recovery = recovery
            self.lines = list(src_mod.iter_feed(self.feed))
            _check_cursor(self.layout, self.lines, self.feed)
            self.history = _history(self.layout)
            _check_handled(self.layout, self.lines, self.feed, self.history)
            self.history.feed = {ln.line_no: ln.event for ln in self.lines if ln.event}
            yield self
            self.cursor = _advance_cursor(self.layout, self.lines, self.feed, self.history.lines)
            write_index(self.layout)


def process_feed(
    *,
    data: str | Path | None = None,
    workspace: str | Path = ws.DEFAULT_WORKSPACE,
    feed: str | Path | None = None,
    notebook: Path = render.DIGEST_NOTEBOOK,
    lock_timeout: float = -1,
    kernel: WarmKernel | None = None,
) -> PassResult:
    """One pass over the change feed from the cursor; return every outcome and the index path.

    With ``kernel`` every digest notebook of the pass runs on that kept kernel. While a notebook
    runs, the next publication's digest is built in a background thread (:class:`Ahead`): it only
    reads the sources, and the runner's own thread reads them again only once it is built.
    """
    run = _Run.open(data, workspace, feed)
    outcomes = []
    with run.under_lock(lock_timeout), Ahead(_build) as ahead:
        start = _read_cursor(run.layout)
        handled = run.history.lines
        later = deque(ln for ln in run.lines if ln.event and ln.event["type"] == PUBLISHED)
        for line in run.lines:
            if line.line_no < start or line.line_no in run.history.lines:
                continue
            if line.partial and line.error is not None:
                # A writer may still be finishing it: left, unrecorded, for the next pass.
                log.info(
                    "line %d: incomplete (no newline yet), left for the next pass", line.line_no
                )
                continue
            # The next publication not handled yet: built while this line's notebook runs.
            while later and (later[0].line_no <= line.line_no or later[0].line_no in handled):
                later.popleft()
            upcoming = later[0].event if later else None
            key = _digest_key(upcoming) if upcoming else None
            start_next = partial(ahead.start, key, run.sources, upcoming) if key else None
            ahead.settle()
            outcome = handle_line(
                run.layout,
                line,
                sources=run.sources,
                history=run.history,
                notebook=notebook,
                kernel=kernel,
                ahead=ahead,
                meanwhile=start_next,
            )
            outcomes.append(outcome)
            run.history.add(outcome, _line_sha256(line))
    return PassResult(
        outcomes=outcomes, index=run.layout.index, cursor=run.cursor, recovery=run.recovery
    )


def _find_event(
    lines: list[src_mod.FeedLine], event_id: str, feed: Path, handled: set[int]
) -> tuple[src_mod.FeedLine, dict[str, Any]]:
    """The feed line of ``event_id`` (the first not handled yet, if the id is re-used) and its
    event; EventError naming the feed's range if there is none."""
    found = [ln for ln in lines if ln.event and ln.event.get("event_id") == event_id]
    for line in sorted(found, key=lambda ln: (ln.line_no in handled, ln.line_no)):
        if line.event is not None:
            return line, line.event
    ids = [ln.event["event_id"] for ln in lines if ln.event]
    known = f"its events run from {ids[0]} to {ids[-1]}" if ids else "it has no events"
    raise EventError(f"{feed}: no event '{event_id}'; {known}")


def run_event(
    event_id: str,
    *,
    data: str | Path | None = None,
    workspace: str | Path = ws.DEFAULT_WORKSPACE,
    feed: str | Path | None = None,
    notebook: Path = render.DIGEST_NOTEBOOK,
    lock_timeout: float = -1,
) -> Outcome:
    """Handle the one event ``event_id`` of the feed now (as a pass would); return its outcome."""
    run = _Run.open(data, workspace, feed)
    with run.under_lock(lock_timeout):
        line, _ = _find_event(run.lines, event_id, run.feed, run.history.lines)
        history = run.history
        if line.line_no in history.lines:  # run again on purpose: not a duplicate of itself
            history.ids = {k: v for k, v in history.ids.items() if v != line.line_no}
        outcome = handle_line(
            run.layout, line, sources=run.sources, history=history, notebook=notebook
        )
        history.add(outcome, _line_sha256(line))
    return outcome


def skip_event(
    event_id: str,
    *,
    by: str,
    reason: str,
    data: str | Path | None = None,
    workspace: str | Path = ws.DEFAULT_WORKSPACE,
    feed: str | Path | None = None,
    lock_timeout: float = -1,
) -> Outcome:
    """Record a failing event as skipped by a person, so the cursor can move past it.

    For an event that cannot succeed (its revision will never match, it names a runbook that
    does not exist): who and why are kept in state/events.jsonl and audit.log.
    """
    run = _Run.open(data, workspace, feed, create=False)
    by = ws.person_id(by, option="--by", src=run.sources)
    if not reason.strip():
        raise EventError("skip-event needs a --reason saying why the event cannot be handled")
    ws.refuse_sensitive(reason, run.sources, what="--reason")
    with run.under_lock(lock_timeout):
        line, event = _find_event(run.lines, event_id, run.feed, run.history.lines)
        if line.line_no in run.history.lines:
            raise EventError(f"{event_id} (feed line {line.line_no}) is already handled")
        outcome = Outcome(
            line.line_no,
            event_id,
            "skipped",
            f"skipped by {by}: {reason.strip()}",
            f"{event['runbook_id']}@{event['revision']}",
            event["type"],
        )
        journal.append_logged(
            run.layout,
            "event.skipped",
            run.layout.events,
            _outcome_record(outcome, line),
            by=by,
            event_id=event_id,
            reason_sha256=sha256_bytes(reason.strip().encode("utf-8")),
        )
        _log_outcome(outcome)
        run.history.add(outcome, _line_sha256(line))
    return outcome


def check_connections(sources: src_mod.DataSources) -> None:
    """Connect to the CRM and read its table names; SourceError (one line) if it cannot be used.

    The runner calls it before each pass, so an unreachable, locked or non-database CRM stops the
    pass with one line instead of failing every event of it.
    """
    url = sa.make_url(sources.crm_url)
    where = url.render_as_string(hide_password=True)
    database = src_mod.crm_file(sources)
    if database is not None and not database.is_file():
        # SQLite would create the missing file on connect.
        raise SourceError("CRM database not found; restore it (retried)", path=database)
    engine = None
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            sa.inspect(conn).get_table_names()
    except (sa.exc.SQLAlchemyError, sqlite3.Error, ImportError) as exc:  # ImportError: no driver
        raise SourceError(
            f"CRM cannot be used now ({short_reason(exc)}); check the database, the next pass "
            "retries",
            path=str(database) if database is not None else where,
        ) from None
    finally:
        if engine is not None:
            engine.dispose()


def watch(
    *,
    data: str | Path | None = None,
    workspace: str | Path = ws.DEFAULT_WORKSPACE,
    feed: str | Path | None = None,
    once: bool = False,
    interval: float = 30.0,
    on_pass: Callable[[PassResult], None] | None = None,
    on_error: Callable[[DigestkitError], None] | None = None,
    warm_kernel: bool = True,
) -> PassResult:
    """Process the feed every ``interval`` seconds (once with ``once``); return the last pass.

    Before each pass the CRM connection is checked. A pass that cannot run (a source or
    database fault) is logged in one line, given to ``on_error`` and retried after ``interval``;
    with ``once`` its error is raised. The digest notebooks of every pass run on one kept kernel
    (:class:`WarmKernel`, each notebook in an emptied namespace) unless ``warm_kernel`` is False.
    """
    with WarmKernel() if warm_kernel else nullcontext() as kernel:
        while True:
            try:
                check_connections(src_mod.open_sources(data))
                result = process_feed(data=data, workspace=workspace, feed=feed, kernel=kernel)
            except _FAULTS as exc:
                # A database error's text holds its SQL: passed on as its short reason only.
                error = exc if isinstance(exc, DigestkitError) else EventError(short_reason(exc))
                if once:
                    raise error from None
                log.warning("pass failed, retrying in %gs: %s", interval, short_reason(error))
                if on_error is not None:
                    on_error(error)
            else:
                if on_pass is not None:
                    on_pass(result)
                if once:
                    return result
            time.sleep(interval)
