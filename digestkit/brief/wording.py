"""Plain words for the brief: sentences without Markdown, human dates and times, counted nouns."""

from __future__ import annotations

import re
from datetime import date

from markdown_it import MarkdownIt

from digestkit import clock

__all__ = ["count", "human_date", "human_when", "line_span", "locator_lines", "plain"]

_LIST_MARKER = re.compile(r"\s*(?:\d+[.)]|[-*+]|#{1,6})\s+")
_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MD = MarkdownIt("commonmark")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 change``, ``2 changes``: a number with its noun in the right form."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def human_date(day: date) -> str:
    """``Mon 1 Jun 2026``: how a page shows a day."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def human_when(text: str | None) -> str:
    """A UTC timestamp as a page shows it; ``—`` when missing, the text itself when unparsable."""
    if not text:
        return "—"
    try:
        return clock.human_time(clock.parse_utc(text))
    except ValueError:
        return text


def _inline_text(text: str) -> str:
    tokens = _MD.parseInline(text)
    out: list[str] = []
    for token in tokens:
        for child in token.children or []:
            if child.type in ("text", "code_inline", "html_inline"):
                out.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                out.append(" ")
    return "".join(out)


def plain(text: str) -> str:
    """Runbook or claim text as a plain sentence: no list markers, table pipes or inline Markdown.

    Times read ``Mon 1 Jun 2026, 09:30 UTC`` and dates ``Mon 1 Jun 2026``.
    """
    text = " ".join(text.split())
    if text.startswith("|") and text.endswith("|"):
        text = " · ".join(cell.strip() for cell in text.strip("|").split("|"))
    text = _LIST_MARKER.sub("", text, count=1) if _LIST_MARKER.match(text) else text
    text = _inline_text(text)
    text = _ISO_TIME.sub(lambda m: human_when(m.group(0)), text)
    return _ISO_DATE.sub(lambda m: human_date(date(*map(int, m.groups()))), text)


def line_span(a: int, b: int) -> str:
    """``line 84`` or ``lines 84–86``."""
    return f"line {a}" if a == b else f"lines {a}–{b}"


def locator_lines(locator: str) -> tuple[int, int] | None:
    """The first and last line of a runbook locator ``L84-L86``; None for any other locator."""
    match = re.fullmatch(r"L(\d+)-L(\d+)", locator)
    return (int(match.group(1)), int(match.group(2))) if match else None
