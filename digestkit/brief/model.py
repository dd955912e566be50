"""What a brief is made of: its items, their citations, the quoted sources and the context read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from digestkit.brief.wording import count, plain

__all__ = ["URGENCY", "Brief", "Cite", "Context", "Item", "QuotedSource", "Status"]

#: The order of urgency of what needs attention, most urgent first: who to page and who owns a
#: product come first (a wrong page costs minutes), then exceptions that change handling, then
#: customer commitments, then record-keeping. Open questions come last: the runbook already
#: says they are open.
URGENCY: tuple[str, ...] = (
    "ownership_conflict",
    "unknown_reference",
    "ambiguous_reference",
    "exception_expired",
    "exception_not_approved",
    "ambiguous_carve_out",
    "unsupported_impact_assumption",
    "orphaned_exception",
    "exception_expiring",
    "stale_ownership",
    "open_question",
)

Status = Literal["new", "open", "resolved", "changed", "holds"]
"""Where an item of the brief stands: a flag new or open, resolved, a change, an assumption."""


@dataclass(frozen=True)
class Cite:
    """One ``[S#]`` a statement rests on."""

    ref: str
    label: str  # "runbook premium-s1-escalation@r7, line 84"


@dataclass(frozen=True)
class Item:
    """One statement of the brief: a flag, open question, change or assumption."""

    id: str
    kind: str
    label: str  # the kind in words
    headline: str  # one line, plain words
    text: str  # the whole statement, plain words
    status: Status
    status_label: str  # "new in r7", "open since r4", "resolved in r7", ...
    action: str | None = None  # what to confirm, and with which team
    links: tuple[str, ...] = ()  # related claim ids: a flag's changes, a change's flags
    resolves: tuple[str, ...] = ()  # a change's: the baseline's flags it resolves
    cites: tuple[Cite, ...] = ()
    redline: tuple[tuple[str, str], ...] = ()  # (op, words) with op "=", "-" or "+"
    notes: tuple[Mapping[str, str], ...] = ()  # clarifications attached to this claim


@dataclass(frozen=True)
class QuotedSource:
    """A source as a reader can check it: what it is, where, and the quoted text or fields."""

    ref: str
    system: str
    record: str
    where: str  # "line 84", "field owning_team", "count", ...
    lines: tuple[tuple[int, str], ...] = ()  # runbook (line number, text)
    more_lines: int = 0  # lines of the range not quoted here
    fields: tuple[tuple[str, str], ...] = ()  # registry/register (field, value)
    highlight: str | None = None  # the field cited
    description: str = ""  # the CRM count in words
    page: str | None = None  # revision page and anchor, relative to the digest page

    @property
    def summary(self) -> str:
        """The source on one line: the quoted line, the cited field, or the count described."""
        if self.lines:
            first = plain(self.lines[0][1])
            extra = len(self.lines) - 1 + self.more_lines
            return f"“{first}”" + (f" and {count(extra, 'more line')}" if extra else "")
        cited = [value for name, value in self.fields if name == self.highlight]
        if cited:
            return "; ".join(cited)
        return self.description or "not at hand"


@dataclass(frozen=True)
class Brief:
    """Everything a digest page and its Markdown show, in the order they show it."""

    digest_id: str
    title: str
    runbook_id: str
    revision: str
    baseline: str | None
    baseline_note: str | None
    published: str
    publisher: str
    change_reason: str
    as_of: str
    approved_by: str
    state: str
    transition: Mapping[str, str] | None
    attention: tuple[Item, ...]
    resolved: tuple[Item, ...]
    changes: tuple[Item, ...]
    unchanged_sections: str | None
    holds_line: str  # empty when nothing beyond the unchanged sections holds
    holds: tuple[tuple[str, tuple[Item, ...]], ...]
    sources: tuple[QuotedSource, ...]
    notes: tuple[Mapping[str, str], ...]  # clarifications not attached to a claim

    @property
    def new_count(self) -> int:
        """How many items needing attention are new in this revision."""
        return sum(1 for i in self.attention if i.status == "new")

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item with a claim id, in page order (for the details and the anchors)."""
        held = tuple(i for _, group in self.holds for i in group)
        return self.attention + self.changes + held


@dataclass(frozen=True)
class Context:
    """What :func:`~digestkit.brief.build_brief` reads besides the digest; every part optional."""

    history: Sequence[Mapping[str, Any]] = ()  # earlier digests, newest (the baseline's) first
    products: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # product_id -> row
    teams: Mapping[str, str] = field(default_factory=dict)  # team slug -> display name
    exceptions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # id -> row
    texts: Mapping[str, str] = field(default_factory=dict)  # runbook@revision -> Markdown text
    notes: Sequence[Mapping[str, str]] = ()  # clarifications (author, at, text, claim?)
    state: str = "draft"
    transition: Mapping[str, str] | None = None
    pages: str | None = None  # URL prefix of the workspace's revision pages, if any
