"""Building a brief from a digest and its context; :func:`build_brief` reads nothing itself.

Flags and open questions are marked new or open since an earlier revision and put in urgency
order; the baseline's flags this digest no longer has are resolved, by the changes whose lines
they cited; changes and flags citing overlapping lines are linked both ways; what still holds is
grouped and counted on one line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from digestkit.brief.history import attention_claims, flag_key, open_since
from digestkit.brief.model import URGENCY, Brief, Context, Item
from digestkit.brief.quotes import cites, quote_sources
from digestkit.brief.statements import (
    KIND_LABELS,
    Names,
    change_words,
    flag_words,
    question,
    redline,
)
from digestkit.brief.wording import count, human_when, locator_lines, plain

__all__ = ["build_brief", "shown_changes"]

# A unit whose whole text is one of these says "nothing here yet": adding or removing it is not
# news in its own right.
_PLACEHOLDER = re.compile(r"(?:none(?: at publication)?|tbd|tba|n/?a|-+|—)\.?", re.IGNORECASE)


def _runbook_spans(claim: Mapping[str, Any], ref: str) -> list[tuple[int, int]]:
    """The line ranges of ``ref`` a claim cites; a citation of the whole revision (from line 1,
    as an orphaned exception cites it) says nothing about which change caused it."""
    spans = []
    for s in claim.get("sources", []):
        span = locator_lines(s["locator"])
        if s["system"] == "runbook" and s["id"] == ref and span and span[0] > 1:
            spans.append(span)
    return spans


def _overlaps(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> bool:
    return any(x0 <= y1 and y0 <= x1 for x0, x1 in a for y0, y1 in b)


def _is_placeholder(change: Mapping[str, Any]) -> bool:
    d = change.get("details") or {}
    if change["kind"] not in ("added", "removed"):
        return False
    side = d.get("new") if change["kind"] == "added" else d.get("old")
    return side is not None and bool(_PLACEHOLDER.fullmatch(plain(side["text"]).strip()))


class _Links(NamedTuple):
    """How the changes shown relate to the flags and open questions."""

    changes: list[Mapping[str, Any]]  # shown: no placeholders, no added open questions
    caused: dict[str, list[str]]  # change id -> flag ids it raises
    causes: dict[str, list[str]]  # flag id -> change ids that raise it


def _links(digest: Mapping[str, Any], ref: str) -> _Links:
    """Link changes and flags that cite overlapping lines of the revision.

    Placeholders are not news; a change that adds an open question is shown as that question
    (new in this revision), not as a change of its own.
    """
    questions = {q["id"]: _runbook_spans(q, ref) for q in digest.get("open_questions", [])}
    claims = [c for c in digest.get("changed_steps", []) if not _is_placeholder(c)]
    folded: dict[str, str] = {}  # open question id -> the change that added it
    for change in claims:
        spans = _runbook_spans(change, ref)
        for qid, qspans in questions.items():
            if change["kind"] == "added" and _overlaps(spans, qspans):
                folded[qid] = change["id"]
    shown = [c for c in claims if c["id"] not in folded.values()]
    caused: dict[str, list[str]] = defaultdict(list)
    causes: dict[str, list[str]] = defaultdict(list)
    for flag in attention_claims(digest):
        spans = _runbook_spans(flag, ref)
        for change in shown:
            if _overlaps(spans, _runbook_spans(change, ref)):
                caused[change["id"]].append(flag["id"])
                causes[flag["id"]].append(change["id"])
    return _Links(shown, caused, causes)


def shown_changes(digest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The change claims a brief shows (no placeholders, no added open questions)."""
    ref = digest["header"].get("revision_ref") or digest["digest_id"]
    return _links(digest, ref).changes


def _urgency(item: Item) -> tuple[bool, int, str]:
    """New first, then :data:`URGENCY`, then claim id."""
    rank = URGENCY.index(item.kind) if item.kind in URGENCY else len(URGENCY)
    return (item.status != "new", rank, item.id)


class _Builder:
    """The parts of one brief, built from one digest and its context."""

    def __init__(self, digest: Mapping[str, Any], ctx: Context) -> None:
        self.digest, self.ctx, self.names = digest, ctx, Names(ctx)
        self.h: Mapping[str, Any] = digest["header"]
        self.revision: str = self.h["revision"]
        self.ref: str = self.h.get("revision_ref") or digest["digest_id"]
        self.publisher: str = self.h.get("publisher") or "—"
        self.refs = {(s["system"], s["id"], s["locator"]): s["ref"] for s in digest["sources"]}
        self.notes: dict[str, list[Mapping[str, str]]] = defaultdict(list)
        self.loose: list[Mapping[str, str]] = []
        for note in ctx.notes:
            shown = {**note, "at": human_when(note.get("at"))}
            (self.notes[note["claim"]] if note.get("claim") else self.loose).append(shown)
        self.links = _links(digest, self.ref)
        self.resolves: dict[str, list[str]] = defaultdict(list)  # change id -> resolved ids

    def attention(self) -> list[Item]:
        items = []
        for claim in attention_claims(self.digest):
            since = open_since(flag_key(claim), self.ctx.history)
            if claim["kind"] == "open_question":
                headline = text = question(claim, self.ctx)
                markers = ", ".join((claim.get("details") or {}).get("markers", []))
                product = self.names.product_in(headline)
                owner = self.names.owner_of(product) if product else None
                who = owner or f"the runbook approver ({self.publisher})"
                action = f"Marked {markers}; confirm the answer with {who}."
            else:
                headline, action = flag_words(claim, self.names, self.publisher)
                text = plain(claim["text"])
            items.append(
                Item(
                    id=claim["id"],
                    kind=claim["kind"],
                    label=KIND_LABELS.get(claim["kind"], claim["kind"].replace("_", " ")),
                    headline=headline,
                    text=text,
                    status="open" if since else "new",
                    status_label=f"open since {since}" if since else f"new in {self.revision}",
                    action=action,
                    links=tuple(self.links.causes.get(claim["id"], ())),
                    cites=cites(claim, self.refs),
                    notes=tuple(self.notes.get(claim["id"], ())),
                )
            )
        return sorted(items, key=_urgency)

    def resolved(self) -> list[Item]:
        """The baseline digest's flags and questions this one no longer has."""
        if not self.ctx.history:
            return []
        previous = self.ctx.history[0]
        before = previous["header"]["revision"]
        now = {flag_key(c) for c in attention_claims(self.digest)}
        items = []
        for claim in attention_claims(previous):
            if flag_key(claim) in now:
                continue
            if claim["kind"] == "open_question":
                headline = plain(claim["text"].split("“", 1)[-1].rstrip("”"))
            else:
                headline = flag_words(claim, self.names, self.publisher)[0]
            old_spans = _runbook_spans(claim, previous["header"].get("revision_ref", ""))
            baseline_ref = self.h.get("baseline_ref") or ""
            by = tuple(
                c["id"]
                for c in self.links.changes
                if _overlaps(old_spans, _runbook_spans(c, baseline_ref))
            )
            item_id = f"{before}:{claim['id']}"
            for change_id in by:
                self.resolves[change_id].append(item_id)
            items.append(
                Item(
                    id=item_id,
                    kind=claim["kind"],
                    label=KIND_LABELS.get(claim["kind"], claim["kind"]),
                    headline=f"{before} flagged: {headline}",
                    text=plain(claim["text"]),
                    status="resolved",
                    status_label=f"resolved in {self.revision}",
                    links=by,
                )
            )
        return items

    def changes(self) -> list[Item]:
        """The changes shown, after :meth:`resolved` (which finds what each one resolves)."""
        items = []
        for claim in self.links.changes:
            headline, whole = change_words(claim)
            items.append(
                Item(
                    id=claim["id"],
                    kind=claim["kind"],
                    label=KIND_LABELS.get(claim["kind"], claim["kind"]),
                    headline=headline,
                    text=whole,
                    status="changed",
                    status_label=f"changed in {self.revision}",
                    links=tuple(self.links.caused.get(claim["id"], ())),
                    resolves=tuple(self.resolves.get(claim["id"], ())),
                    cites=cites(claim, self.refs),
                    redline=redline(claim),
                    notes=tuple(self.notes.get(claim["id"], ())),
                )
            )
        return items


def build_brief(digest: Mapping[str, Any], ctx: Context | None = None) -> Brief:
    """The brief of ``digest`` (its JSON); ``ctx`` adds history, names, quotes and notes."""
    ctx = ctx or Context()
    b = _Builder(digest, ctx)
    h, baseline = b.h, b.h.get("baseline")
    attention, resolved = b.attention(), b.resolved()
    changes = b.changes()
    unchanged, groups = _holds(digest, b.refs, b.notes, baseline)
    counted = [(title, items) for title, items in groups if title != "Unchanged sections"]
    held = sum(len(items) for _, items in counted)
    kinds = ", ".join(count(len(items), *_GROUP_NOUNS[title]) for title, items in counted)
    since_word = f"unchanged since {baseline}" if baseline else "checked against the sources"
    holds_line = f"{count(held, 'assumption')} {since_word}: {kinds}." if held else ""
    moved = ctx.transition
    # Only sources a shown statement cites: a placeholder's lines are not listed on their own.
    shown = [*attention, *changes, *(i for _, items in groups for i in items)]
    cited = {c.ref for i in shown for c in i.cites}
    return Brief(
        digest_id=digest["digest_id"],
        title=h.get("title") or h["runbook_id"],
        runbook_id=h["runbook_id"],
        revision=b.revision,
        baseline=baseline,
        baseline_note=h.get("baseline_note"),
        published=human_when(h.get("published_at")),
        publisher=b.publisher,
        change_reason=plain(h.get("change_reason") or "—"),
        as_of=human_when(h.get("as_of")),
        approved_by=digest.get("audit", {}).get("approved_by") or "—",
        state=ctx.state,
        transition={**moved, "at": human_when(moved.get("at"))} if moved else None,
        attention=tuple(attention),
        resolved=tuple(resolved),
        changes=tuple(changes),
        unchanged_sections=unchanged,
        holds_line=holds_line,
        holds=groups,
        sources=tuple(q for q in quote_sources(digest, ctx) if q.ref in cited),
        notes=tuple(b.loose),
    )


_GROUP_NOUNS = {
    "Ownership": ("product owner", "product owners"),
    "Exceptions": ("exception", "exceptions"),
    "Entitlements": ("entitlement count", "entitlement counts"),
}
_HOLD_GROUPS = (
    ("ownership", "Ownership"),
    ("exception", "Exceptions"),
    ("entitlement_assumption", "Entitlements"),
)


def _holds(
    digest: Mapping[str, Any],
    refs: Mapping[tuple[str, str, str], str],
    notes: Mapping[str, Sequence[Mapping[str, str]]],
    baseline: str | None,
) -> tuple[str | None, tuple[tuple[str, tuple[Item, ...]], ...]]:
    unchanged = None
    grouped: dict[str, list[Item]] = defaultdict(list)  # claim kind -> items
    for claim in digest.get("carried_forward", []):
        text = plain(claim["text"])
        if claim["kind"] == "unchanged_sections":
            sections = [p[-1] for p in (claim.get("details") or {}).get("sections", [])]
            unchanged = f"Unchanged since {baseline}: {', '.join(sections)}." if sections else text
        grouped[claim["kind"]].append(
            Item(
                id=claim["id"],
                kind=claim["kind"],
                label=claim["kind"].replace("_", " "),
                headline=text,
                text=text,
                status="holds",
                status_label="holds",
                cites=cites(claim, refs),
                notes=tuple(notes.get(claim["id"], ())),
            )
        )
    titled = [("Unchanged sections", "unchanged_sections"), *((t, k) for k, t in _HOLD_GROUPS)]
    return unchanged, tuple(
        (title, tuple(grouped[kind])) for title, kind in titled if grouped[kind]
    )
