"""The event runner: change-feed publication events -> digests posted to the handoff workspace.

:func:`process_feed` reads the feed from the workspace's persisted cursor and handles each line
once, under the workspace lock:

- a malformed line goes to ``quarantine.jsonl`` (line number and reason, never its text);
- ``runbook.draft_saved`` events, and publications of revisions withdrawn since, are recorded
  as ``skipped``; a ``runbook.withdrawn`` event marks the revision's digest ``withdrawn`` (and
  is skipped when there is none);
- a publication event is validated (schema, by :func:`digestkit.sources.iter_feed`; runbook and
  revision exist; revision is published; content sha256 matches), its digest is built, the
  notebook executed with papermill and rendered with nbconvert in ``tmp/``, and the folder
  renamed into ``digests/`` only when complete;
- an event id seen before, or a revision already digested, is recorded as ``duplicate``;
- a failure is recorded with its error and retried on the next pass: the cursor never moves
  past a line that was not handled.

Every outcome is one line in ``state/events.jsonl`` and one log line (ids only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from digestkit import clock, render
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.audit import append_audit, logged_hashes
from digestkit.exceptions import DigestkitError, EventError
from digestkit.fileio import (
    append_jsonl,
    canonical_json,
    locked,
    make_build_dir,
    read_jsonl,
    sha256_bytes,
    write_atomic,
)
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
    "skip_event",
    "watch",
]

log = logging.getLogger("digestkit.events")

PUBLISHED = "runbook.published"
WITHDRAWN = "runbook.withdrawn"
Status = Literal["processed", "skipped", "duplicate", "failed", "quarantined"]
#: Outcomes that are final: the cursor may move past their line (a failure is retried).
HANDLED: tuple[Status, ...] = ("processed", "skipped", "duplicate", "quarantined")


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
    """The outcomes of one pass over the feed, and where the index page is."""

    outcomes: list[Outcome]
    index: Path
    cursor: int

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def check_revision(sources: src_mod.DataSources, event: Mapping[str, Any]) -> pd.Series:
    """Check that a publication event matches the runbook repository; return the revision row.

    A revision the repository still has as a draft fails (the repository may lag the feed); one
    withdrawn since is returned, so the caller can skip it.
    """
    ref = f"{event['runbook_id']}@{event['revision']}"
    try:
        row = src_mod.get_revision(sources, event["runbook_id"], event["revision"])
    except DigestkitError as exc:
        raise EventError(f"event {event['event_id']}: {exc}") from None
    # A revision withdrawn since its publication is skipped by the caller, not failed.
    if row["status"] not in ("published", "withdrawn"):
        raise EventError(
            f"event {event['event_id']}: {ref} is '{row['status']}' in the runbook repository, "
            "not published; publish it (or withdraw the event) and run again"
        )
    if str(row["sha256"]) != event["content_sha256"]:
        raise EventError(
            f"event {event['event_id']}: content_sha256 does not match {row['path']}; the "
            "repository holds different bytes than were published — resync it and run again"
        )
    return row


def _record(layout: ws.Layout, outcome: Outcome) -> Outcome:
    append_jsonl(layout.events, {"at": clock.utc_now_text(), **asdict(outcome)})
    what = outcome.digest_id or outcome.event_id or "-"
    log.info("line %d %s %s: %s", outcome.line_no, what, outcome.status, outcome.reason)
    return outcome


@dataclass
class _History:
    """What earlier passes handled: lines, event ids and withdrawn revisions (-> feed line)."""

    lines: set[int]
    ids: dict[str, int]
    withdrawn: dict[str, int]

    def add(self, outcome: Outcome) -> None:
        if outcome.status in HANDLED:
            self.lines.add(outcome.line_no)
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
        history.add(Outcome(**fields))
    return history


def build_event_digest(
    layout: ws.Layout,
    event: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    notebook: Path = render.DIGEST_NOTEBOOK,
    kernel: WarmKernel | None = None,
) -> str:
    """Build, render and post the digest of a validated publication event; return its id.

    Everything is written to a folder under ``tmp/`` that is renamed into ``digests/`` only once
    complete, so a failure leaves no partial digest.
    """
    from digestkit.digest import build_digest

    digest = build_digest(event["runbook_id"], event["revision"], data=sources).to_dict()
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
    build = make_build_dir(layout.tmp, digest_id)
    try:
        digest_bytes = canonical_json(digest)
        (build / "digest.json").write_bytes(digest_bytes)
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
        (build / "audit.json").write_bytes(canonical_json(audit))
        build.rename(layout.digest_dir(digest_id))
    finally:
        shutil.rmtree(build, ignore_errors=True)
    append_audit(
        layout,
        "digest.created",
        at=audit["created_at"],
        digest_id=digest_id,
        by="digestkit",
        event_id=event["event_id"],
        digest_sha256=audit["digest_sha256"],
        **logged_hashes(layout, digest_id, audit),
    )
    return digest_id


def handle_line(
    layout: ws.Layout,
    line: src_mod.FeedLine,
    *,
    sources: src_mod.DataSources,
    history: _History,
    notebook: Path = render.DIGEST_NOTEBOOK,
    kernel: WarmKernel | None = None,
) -> Outcome:
    """Handle one feed line (the caller holds the lock) and record its outcome."""
    if line.error is not None or line.event is None:
        reason = line.error or "empty event"
        append_jsonl(
            layout.quarantine,
            {
                "at": clock.utc_now_text(),
                "line_no": line.line_no,
                "field": line.field,
                "reason": reason,
            },
        )
        return _record(layout, Outcome(line.line_no, None, "quarantined", reason))
    event = line.event  # iter_feed has checked it against SCHEMAS["events"]
    event_id, kind = event["event_id"], event["type"]
    digest_id = f"{event['runbook_id']}@{event['revision']}"

    def outcome(status: Status, reason: str) -> Outcome:
        return _record(layout, Outcome(line.line_no, event_id, status, reason, digest_id, kind))

    if event_id in history.ids:
        return outcome(
            "duplicate", f"event id already handled at feed line {history.ids[event_id]}"
        )
    if kind == WITHDRAWN:
        if layout.digest_dir(digest_id).exists():
            return outcome(*_withdraw(layout, event, digest_id, notebook))
        return outcome(
            "skipped",
            f"{digest_id} has no digest to withdraw; a later publication event for it is skipped",
        )
    if kind != PUBLISHED:
        return outcome("skipped", f"{kind} event: drafts are not digested")
    # Validated before the duplicate check: a re-delivery whose content no longer matches the
    # repository is a problem to see, not a duplicate to ignore.
    try:
        row = check_revision(sources, event)
    except EventError as exc:
        return outcome("failed", str(exc))
    if layout.digest_dir(digest_id).exists():
        return outcome("duplicate", f"{digest_id} is already digested")
    if digest_id in history.withdrawn:
        line_no = history.withdrawn[digest_id]
        return outcome("skipped", f"{digest_id} was withdrawn (feed line {line_no}): no digest")
    if row["status"] == "withdrawn":
        return outcome("skipped", f"{digest_id} was withdrawn after publication: no digest")
    try:
        build_event_digest(layout, event, sources=sources, notebook=notebook, kernel=kernel)
    except (DigestkitError, OSError) as exc:  # bad data, a failed notebook, a full disk
        return outcome("failed", str(exc))
    return outcome("processed", "digest built")


def _withdraw(
    layout: ws.Layout, event: Mapping[str, Any], digest_id: str, notebook: Path
) -> tuple[Status, str]:
    """(status, reason) of a withdrawal event for a digested revision."""
    event_id = event["event_id"]
    try:
        transition = ws.mark_withdrawn(
            layout,
            digest_id,
            by=event["actor"],
            at=event["occurred_at"],
            event_id=event_id,
            notebook=notebook,
        )
    except (DigestkitError, OSError) as exc:
        return "failed", str(exc)
    if transition is None:
        return "skipped", f"{digest_id} is already withdrawn"
    return "processed", "digest marked withdrawn"


def _read_cursor(layout: ws.Layout) -> int:
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


def _check_cursor(layout: ws.Layout, lines: list[src_mod.FeedLine], feed: Path) -> None:
    """Refuse a feed other than the one the workspace has handled so far, or a shortened one.

    Either would otherwise look like "nothing new" while events go unhandled. The feed is
    recognised by the hash of the lines already handled, so the same feed at a new path (a moved
    data folder) is accepted, and a different file at the same path is not.
    """
    if not layout.cursor.exists():
        return
    cursor = json.loads(layout.cursor.read_text(encoding="utf-8"))
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
        """Hold the workspace lock with the feed read and checked; then advance the cursor."""
        with locked(self.layout.lock, timeout=timeout):
            self.lines = list(src_mod.iter_feed(self.feed))
            _check_cursor(self.layout, self.lines, self.feed)
            self.history = _history(self.layout)
            yield self
            self.cursor = _advance_cursor(self.layout, self.lines, self.feed, self.history.lines)
            ws.write_index(self.layout)


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

    With ``kernel`` every digest notebook of the pass runs on that kept kernel.
    """
    run = _Run.open(data, workspace, feed)
    outcomes = []
    with run.under_lock(lock_timeout):
        start = _read_cursor(run.layout)
        for line in run.lines:
            if line.line_no < start or line.line_no in run.history.lines:
                continue
            if line.partial and line.error is not None:
                # A writer may still be finishing it: left, unrecorded, for the next pass.
                log.info(
                    "line %d: incomplete (no newline yet), left for the next pass", line.line_no
                )
                continue
            outcome = handle_line(
                run.layout,
                line,
                sources=run.sources,
                history=run.history,
                notebook=notebook,
                kernel=kernel,
            )
            outcomes.append(outcome)
            run.history.add(outcome)
    return PassResult(outcomes=outcomes, index=run.layout.index, cursor=run.cursor)


def _find_event(
    lines: list[src_mod.FeedLine], event_id: str, feed: Path
) -> tuple[src_mod.FeedLine, dict[str, Any]]:
    """The feed line of ``event_id`` and its event; EventError naming the feed's range if none."""
    for line in lines:
        if line.event and line.event.get("event_id") == event_id:
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
        line, _ = _find_event(run.lines, event_id, run.feed)
        history = run.history
        if line.line_no in history.lines:  # run again on purpose: not a duplicate of itself
            history.ids = {k: v for k, v in history.ids.items() if v != line.line_no}
        outcome = handle_line(
            run.layout, line, sources=run.sources, history=history, notebook=notebook
        )
        history.add(outcome)
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
        line, event = _find_event(run.lines, event_id, run.feed)
        if line.line_no in run.history.lines:
            raise EventError(f"{event_id} (feed line {line.line_no}) is already handled")
        outcome = _record(
            run.layout,
            Outcome(
                line.line_no,
                event_id,
                "skipped",
                f"skipped by {by}: {reason.strip()}",
                f"{event['runbook_id']}@{event['revision']}",
                event["type"],
            ),
        )
        append_audit(
            run.layout,
            "event.skipped",
            by=by,
            event_id=event_id,
            reason_sha256=sha256_bytes(reason.strip().encode("utf-8")),
        )
        run.history.add(outcome)
    return outcome


def watch(
    *,
    data: str | Path | None = None,
    workspace: str | Path = ws.DEFAULT_WORKSPACE,
    feed: str | Path | None = None,
    once: bool = False,
    interval: float = 30.0,
    on_pass: Callable[[PassResult], None] | None = None,
    warm_kernel: bool = True,
) -> PassResult:
    """Process the feed every ``interval`` seconds (once with ``once``); return the last pass.

    The digest notebooks of every pass run on one kept kernel (:class:`WarmKernel`, each
    notebook in an emptied namespace) unless ``warm_kernel`` is False.
    """
    with WarmKernel() if warm_kernel else nullcontext() as kernel:
        while True:
            result = process_feed(data=data, workspace=workspace, feed=feed, kernel=kernel)
            if on_pass is not None:
                on_pass(result)
            if once:
                return result
            time.sleep(interval)
