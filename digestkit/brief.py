"""The brief a duty manager reads first: a digest ordered by what needs attention, in plain words.

:func:`build_brief` turns a digest (the JSON of ``docs/digest-json.md``) into a :class:`Brief`:

- **attention** — flags and open questions, each one line saying what to confirm and with which
  team, marked *new in rX* / *open since rX* by comparing with the digests of the earlier
  published revisions (the baseline's first), new ones first, then in :data:`URGENCY` order;
- **resolved** — what the baseline's digest flagged and this one no longer does;
- **changes** — the changed steps one line each, linked both ways with the flags they cause;
  removing a placeholder ("None at publication.") is not a change, and a change that adds an open
  question is shown as that question;
- **holds** — what still holds, folded into one line and grouped (ownership, exceptions,
  entitlements);
- **sources** — each ``[S#]`` with the text a reader can check: runbook lines, the registry row's
  fields, the exception's id, status and dates, or a plain description of the CRM count.

:func:`load_brief` gathers the inputs (earlier digests, registry, register, runbook texts,
clarifications) from the sources and the workspace; :func:`build_brief` itself reads nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from markdown_it import MarkdownIt

from digestkit import clock

__all__ = [
    "URGENCY",
    "Brief",
    "Cite",
    "Context",
    "Item",
    "QuotedSource",
    "Status",
    "build_brief",
    "count",
    "earlier_digests",
    "flag_key",
    "human_date",
    "load_brief",
    "load_context",
    "plain",
    "revision_page",
    "shown_changes",
]

#: The order of urgency of what needs attention, most urgent first: who to page and who owns a
#: product come first (a wrong page costs minutes), then exceptions that change handling, then
#: customer commitments, then record-keeping. Open questions come last: the runbook already
#: says they are open.
URGENCY: tuple[str, ...] = (
    "ownership_conflict",
    "unknown_reference",
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

_KIND_LABELS = {
    "ownership_conflict": "ownership conflict",
    "unknown_reference": "unknown reference",
    "exception_expired": "exception expired",
    "exception_not_approved": "exception not approved",
    "ambiguous_carve_out": "ambiguous carve-out",
    "unsupported_impact_assumption": "customer commitment",
    "orphaned_exception": "orphaned exception",
    "exception_expiring": "exception expiring",
    "stale_ownership": "stale ownership",
    "open_question": "open question",
    "added": "added",
    "removed": "removed",
    "modified": "modified",
    "moved": "moved",
    "renumbered": "renumbered",
}
# A unit whose whole text is one of these says "nothing here yet": adding or removing it is not
# news in its own right.
_PLACEHOLDER = re.compile(r"(?:none(?: at publication)?|tbd|tba|n/?a|-+|—)\.?", re.IGNORECASE)
_LIST_MARKER = re.compile(r"\s*(?:\d+[.)]|[-*+]|#{1,6})\s+")
_STEP_NUMBER = re.compile(r"\s*(\d+)[.)]\s")
_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MD = MarkdownIt("commonmark")
_SOURCE_LINES = 40  # longer runbook ranges (a whole revision) are read on the revision page


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
    """What :func:`build_brief` reads besides the digest; every part optional."""

    history: Sequence[Mapping[str, Any]] = ()  # earlier digests, newest (the baseline's) first
    products: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # product_id -> row
    teams: Mapping[str, str] = field(default_factory=dict)  # team slug -> display name
    exceptions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # id -> row
    texts: Mapping[str, str] = field(default_factory=dict)  # runbook@revision -> Markdown text
    notes: Sequence[Mapping[str, str]] = ()  # clarifications (author, at, text, claim?)
    state: str = "draft"
    transition: Mapping[str, str] | None = None
    pages: str | None = None  # URL prefix of the workspace's revision pages, if any


# --- wording -------------------------------------------------------------------------------


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 change``, ``2 changes``: a number with its noun in the right form."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def human_date(day: date) -> str:
    """``Mon 1 Jun 2026``: how a page shows a day."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _human_when(text: str | None) -> str:
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
    text = _ISO_TIME.sub(lambda m: _human_when(m.group(0)), text)
    return _ISO_DATE.sub(lambda m: human_date(date(*map(int, m.groups()))), text)


def _lines(a: int, b: int) -> str:
    return f"line {a}" if a == b else f"lines {a}–{b}"


def _locator_lines(locator: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"L(\d+)-L(\d+)", locator)
    return (int(match.group(1)), int(match.group(2))) if match else None


# --- flags ---------------------------------------------------------------------------------

_KEY_FIELDS = {
    "ownership_conflict": ("product_id", "runbook_team", "runbook_pager"),
    "stale_ownership": ("product_id",),
    "exception_not_approved": ("exception_id",),
    "exception_expired": ("exception_id",),
    "exception_expiring": ("exception_id",),
    "orphaned_exception": ("exception_id", "section"),
    "ambiguous_carve_out": ("exception_ids", "account_id", "product_id"),
    "unsupported_impact_assumption": ("tier", "minutes"),
    "unknown_reference": ("reference_kind", "value"),
}


def flag_key(claim: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes a flag or open question the same one in two digests (its ids, not its wording).

    A stale ownership is the same flag while it grows older; an open question is the same while
    its words are.
    """
    kind, details = claim["kind"], claim.get("details") or {}
    if kind == "open_question":
        return (kind, " ".join(claim["text"].split("“", 1)[-1].split()))
    values = (details.get(name) for name in _KEY_FIELDS.get(kind, ()))
    return (kind, *(repr(v) for v in values))


def _attention_claims(digest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*digest.get("flags", []), *digest.get("open_questions", [])]


def _since(key: tuple[str, ...], history: Sequence[Mapping[str, Any]]) -> str | None:
    """The earliest revision of an unbroken run of earlier digests that carry ``key``."""
    since = None
    for earlier in history:
        if key not in {flag_key(c) for c in _attention_claims(earlier)}:
            break
        since = earlier["header"]["revision"]
    return since


# --- building ------------------------------------------------------------------------------


class _Names:
    """Product and team names from the registry, falling back to ids when it is not at hand."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def product(self, product_id: str) -> str:
        row = self.ctx.products.get(product_id)
        return f"{row['product_name']} ({product_id})" if row else product_id

    def product_name(self, product_id: str) -> str:
        row = self.ctx.products.get(product_id)
        return row["product_name"] if row else product_id

    def team(self, slug: str) -> str:
        name = self.ctx.teams.get(slug)
        return f"{name} ({slug})" if name else slug

    def team_name(self, slug: str) -> str:
        return self.ctx.teams.get(slug, slug)

    def owner_of(self, product_id: str) -> str | None:
        row = self.ctx.products.get(product_id)
        return self.team(row["owning_team"]) if row else None

    def exception_product(self, exception_id: str) -> str | None:
        row = self.ctx.exceptions.get(exception_id)
        return row.get("product_id") if row else None

    def product_in(self, text: str) -> str | None:
        for product_id, row in self.ctx.products.items():
            if row["product_name"] in text:
                return product_id
        return None


def _flag_words(claim: Mapping[str, Any], names: _Names, publisher: str) -> tuple[str, str]:
    """The one-line headline of a flag and what to confirm with which team."""
    try:
        return _kind_words(claim, names, publisher)
    except (KeyError, TypeError, ValueError):  # details of an older or hand-written digest
        return plain(claim["text"]), f"Confirm with the runbook approver ({publisher})."


def _kind_words(claim: Mapping[str, Any], names: _Names, publisher: str) -> tuple[str, str]:
    kind, d = claim["kind"], claim.get("details") or {}
    if kind == "ownership_conflict":
        product = names.product(d["product_id"])
        owner = names.owner_of(d["product_id"]) or "the product's owning team"
        if "runbook_pager" in d:
            return (
                f"{product}: the runbook pages {d['runbook_pager']} first, the registry lists "
                f"{d['registry_pager']}.",
                f"Confirm the first pager with {owner}.",
            )
        return (
            f"{product}: the runbook says {names.team(d['runbook_team'])} owns it, the registry "
            f"says {names.team(d['registry_team'])}.",
            f"Confirm the owner with {names.team_name(d['registry_team'])} and "
            f"{names.team_name(d['runbook_team'])}.",
        )
    if kind == "stale_ownership":
        product = names.product(d["product_id"])
        verified = plain(str(d.get("last_verified_at", ""))[:10])
        owner = names.owner_of(d["product_id"]) or "its owning team"
        return (
            f"{product}: ownership last verified {count(int(d['age_days']), 'day')} ago "
            f"({verified}).",
            f"Ask {owner} to re-verify it in the registry.",
        )
    if kind in ("exception_not_approved", "exception_expired", "exception_expiring"):
        exc = d["exception_id"]
        product_id = names.exception_product(exc)
        about = f" ({names.product_name(product_id)})" if product_id else ""
        owner = (names.owner_of(product_id) if product_id else None) or "its product's team"
        until = plain(d["valid_to"]) if d.get("valid_to") else ""
        if kind == "exception_not_approved":
            return (
                f"{exc}{about} is referenced, but the register has it as {d['status']}.",
                f"Confirm its approval with {owner}.",
            )
        if kind == "exception_expired":
            return (
                f"{exc}{about} is referenced, but it expired on {until}.",
                f"Confirm with {owner} whether {exc} was renewed.",
            )
        return (
            f"{exc}{about} expires on {until}.",
            f"Confirm with {owner} whether {exc} will be renewed.",
        )
    if kind == "orphaned_exception":
        exc = d["exception_id"]
        product_id = names.exception_product(exc)
        owner = (names.owner_of(product_id) if product_id else None) or "its product's team"
        return (
            f"{exc} points to the section “{d['section']}”, which this revision does not have.",
            f"Confirm with {owner} which section {exc} applies to now.",
        )
    if kind == "ambiguous_carve_out":
        ids = " and ".join(d["exception_ids"])
        owner = names.owner_of(d["product_id"]) or "the product's owning team"
        return (
            f"{ids} give account {d['account_id']} different handling on "
            f"{names.product_name(d['product_id'])}.",
            f"Confirm with {owner} which handling applies.",
        )
    if kind == "unsupported_impact_assumption":
        deviating, accounts = int(d["deviating_accounts"]), int(d["accounts"])
        return (
            f"{deviating} of {count(accounts, 'active ' + d['tier'] + ' account')} have "
            f"contract terms other than the runbook's {d['minutes']}-minute initial update.",
            f"Confirm with the runbook approver ({publisher}) whether they need their own step.",
        )
    if kind == "unknown_reference":
        return (
            f"The runbook names {d['reference_kind']} {d['value']}, which the registry does not "
            "list.",
            f"Confirm the {d['reference_kind']} name with the runbook approver ({publisher}).",
        )
    raise KeyError(kind)


def _question(claim: Mapping[str, Any], ctx: Context) -> str:
    """An open question quoted whole, from the runbook lines it cites."""
    for source in claim.get("sources", []):
        span = _locator_lines(source["locator"])
        text = ctx.texts.get(source["id"])
        if source["system"] == "runbook" and span and text is not None:
            lines = text.splitlines()[span[0] - 1 : span[1]]
            return plain(" ".join(lines))
    return plain(claim["text"].split("“", 1)[-1].rstrip("”"))


def _cites(claim: Mapping[str, Any], refs: Mapping[tuple[str, str, str], str]) -> tuple[Cite, ...]:
    out = []
    for s in claim.get("sources", []):
        ref = refs.get((s["system"], s["id"], s["locator"]))
        if ref is not None:
            out.append(Cite(ref, _source_label(s["system"], s["id"], s["locator"])))
    return tuple(out)


def _source_label(system: str, record: str, locator: str) -> str:
    span = _locator_lines(locator)
    if system == "runbook" and span:
        return f"runbook {record}, {_lines(*span)}"
    if system == "crm":
        return "CRM entitlement count"
    return f"{system} {record}, {locator.replace('_', ' ')}"


def _runbook_spans(claim: Mapping[str, Any], ref: str) -> list[tuple[int, int]]:
    """The line ranges of ``ref`` a claim cites; a citation of the whole revision (from line 1,
    as an orphaned exception cites it) says nothing about which change caused it."""
    spans = []
    for s in claim.get("sources", []):
        span = _locator_lines(s["locator"])
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


def _unit_name(d: Mapping[str, Any]) -> str:
    side = d.get("new") or d.get("old") or {}
    number = _STEP_NUMBER.match(side.get("text", ""))
    if d.get("unit") == "list_item":
        return f"step {number.group(1)}" if number else "item"
    return {"table_row": "row", "heading": "heading", "paragraph": "paragraph"}.get(
        str(d.get("unit")), "text"
    )


def _change_words(claim: Mapping[str, Any]) -> tuple[str, str]:
    """The one-line headline of a change and its whole statement."""
    kind, d = claim["kind"], claim.get("details") or {}
    if kind == "renumbered":
        return plain(claim["text"]), plain(claim["text"])
    section = " › ".join(d.get("section", [])[1:] or d.get("section", [])) or "the runbook"
    side = d.get("new") or d.get("old") or {"text": "", "lines": [0, 0]}
    quoted = plain(side["text"])
    stated = d.get("facts", [])
    # "product X added here" says less than the exception or team fact beside it.
    telling = [f for f in stated if f.get("field") != "product"] or stated
    facts = "; ".join(f["statement"] for f in telling)
    where = _lines(*side["lines"])
    verb = {"added": "added", "removed": "removed", "modified": "changed", "moved": "moved"}[kind]
    unit = _unit_name(d)
    headline = f"{section} — {facts}." if facts else f"{section} — {unit} {verb}: “{quoted}”"
    whole = f"{section}, {unit} {verb} ({where}): “{quoted}”"
    if kind == "moved" and d.get("old"):
        whole += f" (was {_lines(*d['old']['lines'])})"
    return plain(headline), plain(whole + (f" {facts[0].upper()}{facts[1:]}." if facts else ""))


def _redline(claim: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    from digestkit.diff import word_segments

    d = claim.get("details") or {}
    if claim["kind"] != "modified" or not d.get("old") or not d.get("new"):
        return ()
    return tuple(word_segments(plain(d["old"]["text"]), plain(d["new"]["text"])))


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
    for flag in _attention_claims(digest):
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
        self.digest, self.ctx, self.names = digest, ctx, _Names(ctx)
        self.h: Mapping[str, Any] = digest["header"]
        self.revision: str = self.h["revision"]
        self.ref: str = self.h.get("revision_ref") or digest["digest_id"]
        self.publisher: str = self.h.get("publisher") or "—"
        self.refs = {(s["system"], s["id"], s["locator"]): s["ref"] for s in digest["sources"]}
        self.notes: dict[str, list[Mapping[str, str]]] = defaultdict(list)
        self.loose: list[Mapping[str, str]] = []
        for note in ctx.notes:
            shown = {**note, "at": _human_when(note.get("at"))}
            (self.notes[note["claim"]] if note.get("claim") else self.loose).append(shown)
        self.links = _links(digest, self.ref)
        self.resolves: dict[str, list[str]] = defaultdict(list)  # change id -> resolved ids

    def attention(self) -> list[Item]:
        items = []
        for claim in _attention_claims(self.digest):
            since = _since(flag_key(claim), self.ctx.history)
            if claim["kind"] == "open_question":
                headline = text = _question(claim, self.ctx)
                markers = ", ".join((claim.get("details") or {}).get("markers", []))
                product = self.names.product_in(headline)
                owner = self.names.owner_of(product) if product else None
                who = owner or f"the runbook approver ({self.publisher})"
                action = f"Marked {markers}; confirm the answer with {who}."
            else:
                headline, action = _flag_words(claim, self.names, self.publisher)
                text = plain(claim["text"])
            items.append(
                Item(
                    id=claim["id"],
                    kind=claim["kind"],
                    label=_KIND_LABELS.get(claim["kind"], claim["kind"].replace("_", " ")),
                    headline=headline,
                    text=text,
                    status="open" if since else "new",
                    status_label=f"open since {since}" if since else f"new in {self.revision}",
                    action=action,
                    links=tuple(self.links.causes.get(claim["id"], ())),
                    cites=_cites(claim, self.refs),
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
        now = {flag_key(c) for c in _attention_claims(self.digest)}
        items = []
        for claim in _attention_claims(previous):
            if flag_key(claim) in now:
                continue
            if claim["kind"] == "open_question":
                headline = plain(claim["text"].split("“", 1)[-1].rstrip("”"))
            else:
                headline = _flag_words(claim, self.names, self.publisher)[0]
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
                    label=_KIND_LABELS.get(claim["kind"], claim["kind"]),
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
            headline, whole = _change_words(claim)
            items.append(
                Item(
                    id=claim["id"],
                    kind=claim["kind"],
                    label=_KIND_LABELS.get(claim["kind"], claim["kind"]),
                    headline=headline,
                    text=whole,
                    status="changed",
                    status_label=f"changed in {self.revision}",
                    links=tuple(self.links.caused.get(claim["id"], ())),
                    resolves=tuple(self.resolves.get(claim["id"], ())),
                    cites=_cites(claim, self.refs),
                    redline=_redline(claim),
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
        published=_human_when(h.get("published_at")),
        publisher=b.publisher,
        change_reason=plain(h.get("change_reason") or "—"),
        as_of=_human_when(h.get("as_of")),
        approved_by=digest.get("audit", {}).get("approved_by") or "—",
        state=ctx.state,
        transition={**moved, "at": _human_when(moved.get("at"))} if moved else None,
        attention=tuple(attention),
        resolved=tuple(resolved),
        changes=tuple(changes),
        unchanged_sections=unchanged,
        holds_line=holds_line,
        holds=groups,
        sources=tuple(q for q in _quote_sources(digest, ctx, b.names) if q.ref in cited),
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
                cites=_cites(claim, refs),
                notes=tuple(notes.get(claim["id"], ())),
            )
        )
    titled = [("Unchanged sections", "unchanged_sections"), *((t, k) for k, t in _HOLD_GROUPS)]
    return unchanged, tuple(
        (title, tuple(grouped[kind])) for title, kind in titled if grouped[kind]
    )


_EXCEPTION_FIELDS = ("exception_id", "product_id", "account_id", "kind", "handling", "status",
                     "valid_from", "valid_to", "section")  # fmt: skip
_PRODUCT_FIELDS = ("product_id", "product_name", "owning_team", "escalation_pager",
                   "last_verified_at", "status")  # fmt: skip


def _quote_sources(digest: Mapping[str, Any], ctx: Context, names: _Names) -> list[QuotedSource]:
    out = []
    for s in digest.get("sources", []):
        system, record, locator = s["system"], s["id"], s["locator"]
        span = _locator_lines(locator)
        if system == "runbook" and span:
            text = ctx.texts.get(record)
            lines: tuple[tuple[int, str], ...] = ()
            more = 0
            if text is not None:
                all_lines = text.splitlines()
                wanted = range(span[0], min(span[1], len(all_lines)) + 1)
                lines = tuple((n, all_lines[n - 1]) for n in wanted[:_SOURCE_LINES])
                more = max(0, len(wanted) - _SOURCE_LINES)
            page = f"{ctx.pages}{record}.html#L{span[0]}" if ctx.pages is not None else None
            out.append(
                QuotedSource(s["ref"], system, record, _lines(*span), lines, more, page=page)
            )
        elif system == "registry":
            row = ctx.products.get(record, {})
            fields = tuple((f, _shown(row[f])) for f in _PRODUCT_FIELDS if f in row)
            if "owning_team" in row:
                fields += (("owning team name", ctx.teams.get(row["owning_team"], "—")),)
            out.append(
                QuotedSource(
                    s["ref"], "registry", record, f"field {locator}", fields=fields,
                    highlight=locator,
                )
            )  # fmt: skip
        elif system == "exceptions":
            row = ctx.exceptions.get(record, {})
            fields = tuple((f, _shown(row.get(f) or "—")) for f in _EXCEPTION_FIELDS if f in row)
            out.append(
                QuotedSource(
                    s["ref"], "exception register", record, f"field {locator}", fields=fields,
                    highlight=locator,
                )
            )  # fmt: skip
        else:
            out.append(
                QuotedSource(s["ref"], "CRM", record, "count", description=_crm_words(locator))
            )
    return out


def _shown(value: str) -> str:
    """A record's value for people: a midnight UTC time is a day (``valid_to``), others times."""
    if value.endswith("T00:00:00Z"):
        return plain(value[:10])
    return plain(value)


def _crm_words(locator: str) -> str:
    """The CRM count a locator names, in words (``tier=Premium;...;deviating``)."""
    parts = dict(p.split("=", 1) for p in locator.split(";") if "=" in p)
    active = parts.get("active_on")
    when = plain(active) if active else "the as-of date"
    what = (
        f"Accounts with an approved {parts.get('tier', '?')} entitlement active on {when}"
        if parts.get("record_status") == "approved"
        else f"Accounts with a {parts.get('tier', '?')} entitlement active on {when}"
    )
    if locator.endswith(";deviating"):
        what += ", of them those whose contract terms differ from the runbook's time"
    return what + ", counted in the CRM; no account is named."


# --- loading -------------------------------------------------------------------------------


def earlier_digests(
    runbook_id: str, baseline: str | None, *, data: Any = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The digests of ``baseline`` and the published revisions before it, newest first."""
    from digestkit import sources as src_mod

    out: list[dict[str, Any]] = []
    root = str(src_mod.open_sources(data).root)
    while baseline is not None and len(out) < limit:
        digest = _digest_of(runbook_id, baseline, root)
        out.append(digest)
        baseline = digest["header"].get("baseline")
    return out


@lru_cache(maxsize=128)
def _digest_of(runbook_id: str, revision: str, root: str) -> dict[str, Any]:
    from digestkit.digest import build_digest

    return build_digest(runbook_id, revision, data=root).to_dict()


def load_context(
    digest: Mapping[str, Any],
    *,
    data: Any = None,
    notes: Sequence[Mapping[str, str]] = (),
    state: str = "draft",
    transition: Mapping[str, str] | None = None,
    pages: str | None = None,
) -> Context:
    """What :func:`build_brief` needs from the sources: earlier digests, registry, register, texts.

    Only non-sensitive columns are read (the loaders leave the sensitive ones out).
    """
    from digestkit import minimize
    from digestkit import sources as src_mod

    h = digest["header"]
    src = src_mod.open_sources(data)
    history = earlier_digests(h["runbook_id"], h.get("baseline"), data=src)
    as_of = h.get("as_of")
    products = src_mod.load_products(src, as_of=as_of)
    teams = src_mod.load_teams(src, as_of=as_of)
    exceptions = src_mod.load_exceptions(src, as_of=as_of)
    revisions = src_mod.load_revisions(src, runbook_id=h["runbook_id"])
    cited = {s["id"] for s in digest.get("sources", []) if s["system"] == "runbook"}
    # Quoted lines pass through the same minimization as the digest: a customer named in the
    # runbook shows as its id or a placeholder here too.
    texts = {
        f"{r.runbook_id}@{r.revision}": minimize.redact_text(str(r.text), src).text
        for r in revisions.itertuples()
        if f"{r.runbook_id}@{r.revision}" in cited
    }
    return Context(
        history=history,
        products={str(r["product_id"]): _strings(r) for r in products.to_dict("records")},
        teams=dict(zip(teams["team"].astype(str), teams["display_name"].astype(str), strict=True)),
        exceptions={str(r["exception_id"]): _strings(r) for r in exceptions.to_dict("records")},
        texts=texts,
        notes=notes,
        state=state,
        transition=transition,
        pages=pages,
    )


def _strings(row: Mapping[Any, Any]) -> dict[str, str]:
    out = {}
    for key, value in row.items():
        if value is None or value != value:  # None, NaN, NaT
            out[str(key)] = ""
        elif hasattr(value, "date") and hasattr(value, "hour"):
            moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
            out[str(key)] = clock.format_utc(moment)
        else:
            out[str(key)] = str(value)
    return out


def load_brief(
    digest: Mapping[str, Any],
    *,
    data: Any = None,
    workspace: str | Path | None = None,
) -> Brief:
    """The brief of ``digest`` with everything the sources and the workspace add to it."""
    from digestkit.workspace import annotations

    notes, state, transition = annotations(workspace, digest["digest_id"])
    # Digest pages live in digests/<id>/; revision pages in revisions/ of the same workspace.
    pages = "../../revisions/" if workspace is not None else None
    ctx = load_context(
        digest,
        data=data,
        notes=[{k: str(v) for k, v in n.items()} for n in notes],
        state=state,
        transition={k: str(v) for k, v in transition.items()} if transition else None,
        pages=pages,
    )
    return build_brief(digest, ctx)


def revision_page(runbook_id: str, revision: str, *, data: Any = None) -> dict[str, Any]:
    """What a revision page shows: the revision's header fields and its numbered lines."""
    from digestkit import minimize
    from digestkit import sources as src_mod

    src = src_mod.open_sources(data)
    row = src_mod.get_revision(src, runbook_id, revision)
    text = minimize.redact_text(str(row["text"]), src).text
    return {
        "ref": f"{runbook_id}@{revision}",
        "title": str(row["title"]),
        "runbook_id": runbook_id,
        "revision": revision,
        "status": str(row["status"]),
        "published": _human_when(_iso(row.get("published_at"))),
        "lines": list(enumerate(text.splitlines(), start=1)),
    }


def _iso(value: Any) -> str | None:
    if value is None or value != value:
        return None
    if hasattr(value, "to_pydatetime"):
        return clock.format_utc(value.to_pydatetime())
    return str(value)
