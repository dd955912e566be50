"""The change-notification feed: one JSON publication event per line of ``events.jsonl``.

:func:`iter_feed` never raises on a bad line (the event runner quarantines it); :func:`load_feed`
is the validated table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from digestkit.exceptions import SourceError
from digestkit.sources.config import DataSources, SourcesLike, resolve_sources
from digestkit.sources.schema import EVENT_TYPES, SCHEMAS
from digestkit.sources.validate import coerce

__all__ = ["FeedLine", "iter_feed", "load_feed"]

_EVENT_FIELDS = tuple(c.name for c in SCHEMAS["events"])
_EVENT_IDS = ("event_id", "runbook_id", "revision", "actor")
_EVENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class FeedLine:
    """One line of the change feed: the event if it is valid, otherwise what is wrong with it."""

    line_no: int
    event: dict[str, str] | None  # every field of SCHEMAS["events"], as text
    error: str | None
    field: str | None = None
    text: str = ""
    partial: bool = False  # the last line, without its newline yet


class _EventProblem(NamedTuple):
    """What is wrong with a feed event: the field (None if it cannot be named) and the rule."""

    field: str | None
    reason: str


def _event_problem(event: Any) -> _EventProblem | None:
    """The problem of an invalid feed event (decoded JSON), None for a valid one."""
    if not isinstance(event, dict):
        return _EventProblem(None, f"not a JSON object but {type(event).__name__}")
    for key in event:
        if key not in _EVENT_FIELDS:
            named = key if _EVENT_ID.fullmatch(str(key)) else None
            return _EventProblem(named, f"unknown field; events have {', '.join(_EVENT_FIELDS)}")
    # Reasons name the field and the rule, never the value: they are logged and kept.
    for key in _EVENT_FIELDS:
        if key not in event:
            return _EventProblem(key, "missing field")
        if not isinstance(event[key], str) or not event[key].strip():
            return _EventProblem(key, f"must be non-empty text, not {type(event[key]).__name__}")
    for key in _EVENT_IDS:
        if not _EVENT_ID.fullmatch(event[key]):
            return _EventProblem(
                key, "is not an id (letters, digits, '.', '_', '-'; no spaces or slashes)"
            )
    if event["type"] not in EVENT_TYPES:
        return _EventProblem("type", f"is not one of {', '.join(EVENT_TYPES)}")
    try:
        occurred = datetime.fromisoformat(event["occurred_at"])
    except ValueError:
        return _EventProblem("occurred_at", "is not an ISO-8601 timestamp")
    if occurred.tzinfo is None:
        return _EventProblem("occurred_at", "has no time zone (end it with Z)")
    if not _SHA256.fullmatch(event["content_sha256"]):
        return _EventProblem("content_sha256", "is not 64 lowercase hex digits")
    return None


def iter_feed(path: str | Path | DataSources | None = None) -> Iterator[FeedLine]:
    """Every non-blank line of the feed, in order; a bad line gives ``error`` instead of raising.

    ``path`` is the feed file itself, or the sources (default: ``DEFAULT_DATA``) whose feed to read.
    """
    feed = (
        resolve_sources(path).feed if path is None or isinstance(path, DataSources) else Path(path)
    )
    if not feed.is_file():
        raise SourceError(
            "the change feed does not exist; pass --feed the events.jsonl of the feed", path=feed
        )
    with feed.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            line = _feed_line(line_no, raw)
            if line is not None:
                yield line


def load_feed(src: SourcesLike = None, *, strict: bool = True) -> pd.DataFrame:
    """The feed's events in file order; exact re-deliveries (same event twice) are dropped.

    ``strict`` raises on the first bad line or conflicting event_id; otherwise those are skipped.
    """
    path = resolve_sources(src).feed
    events: list[dict[str, str]] = []
    lines: list[int] = []
    first_line: dict[str, int] = {}  # event_id -> its position in events
    for line in iter_feed(path):
        if line.event is None:
            if strict:
                message = line.error or ""
                if line.field:
                    message = message.removeprefix(f"field '{line.field}': ")
                raise SourceError(message, path=path, row=f"line {line.line_no}", field=line.field)
            continue
        event_id = line.event["event_id"]
        if event_id in first_line:
            if events[first_line[event_id]] == line.event:
                continue
            if strict:
                raise SourceError(
                    f"event_id {event_id} conflicts with line {lines[first_line[event_id]]}",
                    path=path,
                    row=f"line {line.line_no}",
                    field="event_id",
                )
            continue
        first_line[event_id] = len(events)
        events.append(line.event)
        lines.append(line.line_no)
    frame = pd.DataFrame(events, columns=list(_EVENT_FIELDS))
    return coerce(frame, "events", where=str(path), locate=lambda i: f"line {lines[i]}")


def _feed_line(line_no: int, raw: bytes) -> FeedLine | None:
    """The FeedLine of one raw line; None for a blank one."""
    # Only the last line can lack its newline: the writer may still be writing it.
    partial = not raw.endswith(b"\n")
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        error = f"not UTF-8 text (byte {exc.start})"
        return FeedLine(line_no, None, error, text=repr(raw.rstrip(b"\r\n")), partial=partial)
    if not text.strip():
        return None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        error = f"not valid JSON: {exc.msg} (column {exc.colno})"
        return FeedLine(line_no, None, error, text=text, partial=partial)
    problem = _event_problem(event)
    if problem is None:
        return FeedLine(line_no, event, None, text=text, partial=partial)
    error = f"field '{problem.field}': {problem.reason}" if problem.field else problem.reason
    return FeedLine(line_no, None, error, field=problem.field, text=text, partial=partial)
