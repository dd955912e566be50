"""UTC time as digestkit writes and reads it: one format for records, one for people."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = [
    "UTC_FORMAT",
    "as_utc",
    "format_utc",
    "human_time",
    "parse_utc",
    "utc_now",
    "utc_now_text",
]

#: Every timestamp digestkit writes into JSON, logs and feeds (second precision, ``Z`` suffix).
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def as_utc(when: datetime) -> datetime:
    """``when`` in UTC; a naive datetime is taken to be UTC already (as every source stores it)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def format_utc(when: datetime) -> str:
    """``2026-06-01T09:30:00Z`` for ``when`` (naive values are taken as UTC)."""
    return as_utc(when).strftime(UTC_FORMAT)


def human_time(when: datetime) -> str:
    """``Mon 1 Jun 2026, 09:30 UTC``: how a page shows a time to a person."""
    moment = as_utc(when)
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M} UTC"


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` or an offset; naive means UTC) into an aware UTC datetime.

    Raises ``ValueError`` for text that is not such a time, so callers can name the field.
    """
    return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def utc_now() -> datetime:
    """The current time, aware, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def utc_now_text() -> str:
    """The current time in :data:`UTC_FORMAT`."""
    return format_utc(utc_now())
