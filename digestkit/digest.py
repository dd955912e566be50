"""The grounded digest of one published revision: what changed, what still holds, what is open.

:func:`build_digest` is the library's main entry point. The JSON contract of
:meth:`Digest.to_dict` is documented in ``docs/digest-json.md``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypedDict, cast, get_args

import pandas as pd

from digestkit import context as ctx
from digestkit import diff as diffmod
from digestkit import minimize
from digestkit import sources as src_mod
from digestkit.clock import format_utc
from digestkit.exceptions import DigestkitError, RevisionError
from digestkit.runbook import Runbook, parse_runbook

__all__ = [
    "PARTS",
    "SCHEMA_VERSION",
    "AuditParameters",
    "ChangeDetails",
    "ChangeKind",
    "Claim",
    "ClaimDetails",
    "ClaimKind",
    "Digest",
    "DigestAudit",
    "DigestHeader",
    "Part",
    "RenumberedDetails",
    "Source",
    "build_digest",
    "check_consistency",
    "compare_frame",
    "context_frame",
    "default_baseline",
    "revision_pair",
    "to_markdown",
]

SCHEMA_VERSION = 1
Part = Literal["changed_steps", "carried_forward", "open_questions", "flags"]
"""The parts of a digest, in the order it presents them."""
PARTS: tuple[Part, ...] = get_args(Part)
# The vocabulary of diff.CHANGE_KINDS: what a changed-steps claim reports.
ChangeKind = Literal["added", "removed", "modified", "moved", "renumbered"]
ClaimKind = ChangeKind | ctx.FindingKind


class RenumberedDetails(TypedDict):
    """``details`` of a renumbering claim: one entry per renumbered item."""

    section: list[str]
    unit: str
    items: list[dict[str, Any]]


# ``details`` of the other change claims: ``diff.change_to_dict`` (see docs/digest-json.md).
ChangeDetails = dict[str, Any]
ClaimDetails = ctx.Details | RenumberedDetails | ChangeDetails
_ID_PREFIX: dict[Part, str] = {
    "changed_steps": "CHG",
    "carried_forward": "CF",
    "open_questions": "OQ",
    "flags": "FLG",
}


@dataclass(frozen=True)
class Claim:
    """One statement of the digest with the sources it rests on."""

    id: str
    part: Part
    kind: ClaimKind
    text: str
    sources: tuple[ctx.SourceRef, ...]
    details: ClaimDetails

    def to_dict(self) -> dict[str, Any]:
        """The claim as in the digest JSON (``docs/digest-json.md``)."""
        return {
            "id": self.id,
            "part": self.part,
            "kind": self.kind,
            "text": self.text,
            "sources": [s.to_dict() for s in self.sources],
            "details": self.details,
        }


@dataclass(frozen=True)
class Source:
    """A distinct source reference of a digest, numbered ``S1``, ``S2``, ... by first use."""

    ref: str
    system: ctx.System
    id: str
    locator: str

    def to_dict(self) -> dict[str, str]:
        """The entry of the digest JSON's ``sources`` list."""
        # Written out: dataclasses.asdict deep-copies every field, and a replay turns hundreds of
        # thousands of these into JSON.
        return {"ref": self.ref, "system": self.system, "id": self.id, "locator": self.locator}


@dataclass(frozen=True)
class DigestHeader:
    """What was digested: the revision, its baseline, its publication and the as-of time."""

    runbook_id: str
    title: str
    revision: str
    revision_ref: str
    baseline: str | None
    baseline_ref: str | None
    baseline_note: str | None
    published_at: str
    publisher: str
    change_reason: str
    as_of: str

    def to_dict(self) -> dict[str, str | None]:
        """The JSON ``header`` object (keys in field order)."""
        return asdict(self)


@dataclass(frozen=True)
class AuditParameters:
    """The thresholds a digest was built with."""

    stale_after_days: int
    expiring_within_days: int


@dataclass(frozen=True)
class DigestAudit:
    """What a digest was built from: revisions, source snapshots, version and parameters."""

    revision_ref: str
    baseline_ref: str | None
    as_of: str
    change_reason: str
    approved_by: str
    revision_sha256: str
    baseline_sha256: str | None
    snapshots: dict[str, str]  # table -> sha256 of what was read
    digestkit_version: str
    parameters: AuditParameters

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``audit`` object (keys in field order)."""
        return asdict(self)


@dataclass(frozen=True)
class Digest:
    """A revision's digest: header, the three parts, flags and the audit record."""

    header: DigestHeader
    changed_steps: tuple[Claim, ...]
    carried_forward: tuple[Claim, ...]
    open_questions: tuple[Claim, ...]
    flags: tuple[Claim, ...]
    audit: DigestAudit
    # Where it was built from (not part of the JSON): the brief reads quoted lines and earlier
    # digests from the same data.
    data: src_mod.DataSources | None = field(default=None, compare=False, repr=False)

    @property
    def digest_id(self) -> str:
        """``<runbook>@<revision>``."""
        return self.header.revision_ref

    @property
    def claims(self) -> tuple[Claim, ...]:
        """Every claim, part by part."""
        return self.changed_steps + self.carried_forward + self.open_questions + self.flags

    def part(self, part: Part) -> tuple[Claim, ...]:
        """The claims of one part."""
        claims: tuple[Claim, ...] = getattr(self, part)
        return claims

    def sources(self) -> list[Source]:
        """Every distinct source reference, numbered S1, S2, ... in order of first use."""
        seen: dict[ctx.SourceRef, str] = {}
        for claim in self.claims:
            for ref in claim.sources:
                seen.setdefault(ref, f"S{len(seen) + 1}")
        return [Source(label, ref.system, ref.id, ref.locator) for ref, label in seen.items()]

    def claims_frame(self, parts: Sequence[Part] = PARTS) -> pd.DataFrame:
        """One row per claim of ``parts``: id, part, kind, text and its sources."""
        return _claims_frame(c for part in parts for c in self.part(part))

    def to_dict(self) -> dict[str, Any]:
        """The digest JSON (``docs/digest-json.md``)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "digest_id": self.digest_id,
            "header": self.header.to_dict(),
            **{part: [c.to_dict() for c in self.part(part)] for part in PARTS},
            "sources": [s.to_dict() for s in self.sources()],
            "audit": self.audit.to_dict(),
        }


@dataclass(frozen=True)
class _Statement:
    """A claim before it is numbered within its part."""

    kind: ClaimKind
    text: str
    sources: tuple[ctx.SourceRef, ...]
    details: ClaimDetails


def _claims_frame(claims: Iterable[Claim]) -> pd.DataFrame:
    rows = [
        {
            "id": c.id,
            "part": c.part,
            "kind": c.kind,
            "text": c.text,
            "sources": "; ".join(f"{s.system}:{s.id}#{s.locator}" for s in c.sources),
        }
        for c in claims
    ]
    return pd.DataFrame(rows, columns=["id", "part", "kind", "text", "sources"])


def build_digest(
    runbook_id: str,
    revision: str,
    *,
    baseline: str | None = None,
    data: str | Path | src_mod.DataSources | None = None,
    as_of: str | pd.Timestamp | None = None,
    stale_after_days: int = ctx.STALE_AFTER_DAYS,
    expiring_within_days: int = ctx.EXPIRING_WITHIN_DAYS,
) -> Digest:
    """Build the digest of a published revision against its baseline.

    The baseline defaults to the previous published revision; the sources are read as of the
    revision's publication time unless ``as_of`` is given. Drafts and withdrawn revisions are
    refused with a :class:`~digestkit.exceptions.RevisionError`.

    >>> digest = build_digest("premium-s1-escalation", "r7")  # doctest: +SKIP
    >>> [c.kind for c in digest.flags]  # doctest: +SKIP
    ['ownership_conflict', 'exception_not_approved', ...]
    """
    sources = src_mod.open_sources(data)
    revisions = src_mod.load_revisions(sources, runbook_id=runbook_id)
    new_row = _published(revisions, runbook_id, revision, role="revision")
    old_row = _baseline(revisions, new_row, baseline)
    when = _as_of(as_of, new_row)

    context = _context(sources, when)
    names = context.registry_names
    # Customer data the runbook names is replaced before anything reads the text (minimize);
    # the CRM is asked once about the words of every text screened below.
    screened_texts = [new_row["text"], new_row["title"], new_row["change_reason"]]
    if old_row is not None:
        screened_texts.append(old_row["text"])
    minimize.prefetch([str(t) for t in screened_texts], sources)
    new_text = minimize.redact_revision(str(new_row["text"]), sources)
    new = _parse(new_text.text, new_row["path"], names)
    old_text, old = None, None
    if old_row is not None:
        old_text = minimize.redact_revision(str(old_row["text"]), sources)
        old = _parse(old_text.text, old_row["path"], names)
    changes = diffmod.diff_runbooks(old, new) if old is not None else None

    new_ref = f"{runbook_id}@{revision}"
    old_ref = f"{runbook_id}@{old_row['revision']}" if old_row is not None else None
    changed_lines = [c.new.lines for c in changes.changes if c.new] if changes else []
    findings = ctx.assess(
        new,
        revision_ref=new_ref,
        runbook_id=runbook_id,
        context=context,
        changed_lines=changed_lines,
        changed_sections=[c.section for c in changes.changes] if changes else [],
        baseline=old,
        baseline_ref=old_ref,
        stale_after_days=stale_after_days,
        expiring_within_days=expiring_within_days,
    )

    findings += minimize.redaction_findings(new_text, new_ref)
    if old_text is not None and old_ref is not None and changes is not None:
        # Baseline lines the digest shows (removed or changed ones) are cited too.
        shown = [c.old.lines for c in changes.changes if c.old is not None]
        findings += minimize.redaction_findings(
            minimize.Redacted(
                old_text.text,
                tuple(r for r in old_text.redactions if any(a <= r.line <= b for a, b in shown)),
            ),
            old_ref,
        )

    def screened(value: object) -> str:
        return minimize.redact_text(str(value), sources).text

    header = DigestHeader(
        runbook_id=runbook_id,
        title=screened(new_row["title"]),
        revision=revision,
        revision_ref=new_ref,
        baseline=str(old_row["revision"]) if old_row is not None else None,
        baseline_ref=old_ref,
        baseline_note=None
        if old_row is not None
        else "First published revision: there is no earlier published baseline to compare with.",
        # A published revision always has both (sources refuses one without).
        published_at=format_utc(pd.Timestamp(new_row["published_at"])),
        publisher=str(new_row["approved_by"]),
        change_reason=screened(new_row["change_reason"]),
        as_of=format_utc(when),
    )
    counts_used = _entitlement_terms(findings)
    audit = DigestAudit(
        revision_ref=new_ref,
        baseline_ref=old_ref,
        as_of=header.as_of,
        change_reason=header.change_reason,
        approved_by=header.publisher,
        revision_sha256=str(new_row["sha256"]),
        baseline_sha256=str(old_row["sha256"]) if old_row is not None else None,
        snapshots={
            "revisions": _revisions_sha256(revisions),
            **context.snapshot_hashes(counts_used),
        },
        digestkit_version=_version(),
        parameters=AuditParameters(stale_after_days, expiring_within_days),
    )
    by_part: dict[Part, list[_Statement]] = {part: [] for part in PARTS}
    by_part["changed_steps"] = _change_claims(changes, new_ref, old_ref) if changes else []
    for f in findings:
        by_part[f.part].append(_Statement(f.kind, f.text, f.sources, f.details))
    digest = Digest(
        header=header,
        changed_steps=_number("changed_steps", by_part["changed_steps"]),
        carried_forward=_number("carried_forward", by_part["carried_forward"]),
        open_questions=_number("open_questions", by_part["open_questions"]),
        flags=_number("flags", by_part["flags"]),
        audit=audit,
        data=sources,
    )
    problems = check_consistency(digest)
    if problems:
        raise DigestkitError(f"{new_ref}: the digest contradicts itself: {'; '.join(problems)}")
    return digest


# Claim kinds whose exception (``details.exception_id``) the runbook references.
_REFERENCING_KINDS = frozenset(
    ("exception", "exception_not_approved", "exception_expired", "exception_expiring",
     "exception_not_in_force")
)  # fmt: skip
_NO_LONGER = "no longer referenced"


def check_consistency(digest: Digest) -> list[str]:
    """Contradictions within ``digest`` (empty when there are none): an id that one claim says
    the runbook no longer references while another says the runbook references it."""
    gone: dict[str, str] = {}
    for claim in digest.changed_steps:
        facts: list[dict[str, Any]] = cast(dict[str, Any], claim.details).get("facts", [])
        for fact in facts if claim.kind != "renumbered" else []:
            if fact.get("old") and fact.get("new") is None and _NO_LONGER in fact["statement"]:
                gone.setdefault(str(fact["old"]), claim.id)
    problems = []
    for claim in digest.claims:
        details = cast(dict[str, Any], claim.details)
        referenced = None
        if claim.kind in _REFERENCING_KINDS:
            referenced = details.get("exception_id")
        elif claim.kind == "unknown_reference" and details.get("reference_kind") == "exception":
            referenced = details.get("value")
        if referenced is not None and referenced in gone:
            problems.append(
                f"{gone[referenced]} says {referenced} is no longer referenced, {claim.id} "
                "that the runbook references it"
            )
    return problems


def revision_pair(
    runbook_id: str,
    old: str | None = None,
    new: str | None = None,
    *,
    data: str | Path | src_mod.DataSources | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Two revisions of a runbook to compare, any status.

    ``new`` defaults to the latest published revision, ``old`` to the published revision before
    ``new`` (or, when ``new`` is a draft, the latest published one before it).
    """
    revisions = src_mod.load_revisions(data, runbook_id=runbook_id)
    published = revisions[revisions["status"] == "published"]
    if new is None:
        if published.empty:
            raise RevisionError(f"runbook '{runbook_id}' has no published revision")
        new = str(published["revision"].iloc[-1])
    new_row = src_mod.get_revision(data, runbook_id, new)
    if old is None:
        earlier = published[published["seq"] < new_row["seq"]]
        if earlier.empty:
            raise RevisionError(f"{runbook_id}@{new} has no earlier published revision to compare")
        old = str(earlier["revision"].iloc[-1])
    return src_mod.get_revision(data, runbook_id, old), new_row


def compare_frame(old: pd.Series, new: pd.Series) -> pd.DataFrame:
    """The two revisions picked (``revision_pair``) side by side: revision, status, published."""
    keys = ["revision", "status", "published_at"]
    return pd.DataFrame({"old": old[keys], "new": new[keys]})


def context_frame(
    runbook_id: str,
    revision: str,
    *,
    baseline: str,
    data: str | Path | src_mod.DataSources | None = None,
    parts: Sequence[Part] = ("carried_forward", "open_questions", "flags"),
) -> pd.DataFrame:
    """The context claims of the digest of ``revision`` against ``baseline``, for exploring.

    A digest is only built between published revisions, newer against older; for any other
    pair this warns why and returns no rows (same columns), so a notebook keeps running.
    """
    try:
        digest = build_digest(runbook_id, revision, baseline=baseline, data=data)
    except RevisionError as exc:
        warnings.warn(f"no context for this pair: {exc}", stacklevel=2)
        return _claims_frame(())
    return digest.claims_frame(parts)


def _entitlement_terms(findings: Iterable[ctx.Finding]) -> list[tuple[str, int]]:
    """(tier, minutes) of every entitlement count the findings rest on (for the snapshot)."""
    terms = []
    for f in findings:
        if f.kind in ("entitlement_assumption", "unsupported_impact_assumption"):
            details = cast(ctx.EntitlementDetails, f.details)  # both kinds carry the counts
            terms.append((details["tier"], details["minutes"]))
    return terms


def _number(part: Part, items: Iterable[_Statement]) -> tuple[Claim, ...]:
    prefix = _ID_PREFIX[part]
    return tuple(
        Claim(f"{prefix}-{i:02d}", part, s.kind, s.text, s.sources, s.details)
        for i, s in enumerate(items, start=1)
    )


def _published(revisions: pd.DataFrame, runbook_id: str, revision: str, *, role: str) -> pd.Series:
    if revisions.empty:
        raise RevisionError(
            f"unknown runbook '{runbook_id}': the repository has no revisions of it"
        )
    match = revisions[revisions["revision"] == revision]
    if match.empty:
        known = ", ".join(revisions["revision"])
        raise RevisionError(
            f"unknown {role} '{revision}' of runbook '{runbook_id}'; known revisions: {known}"
        )
    row = match.iloc[0]
    if row["status"] != "published":
        published = ", ".join(revisions.loc[revisions["status"] == "published", "revision"])
        raise RevisionError(
            f"{runbook_id}@{revision} is {row['status']}, not published; only published "
            f"revisions can be digested or used as a baseline (published: {published})"
        )
    return row


def _baseline(
    revisions: pd.DataFrame, new_row: pd.Series, baseline: str | None
) -> pd.Series | None:
    if baseline is not None:
        row = _published(revisions, new_row["runbook_id"], baseline, role="baseline")
        if row["seq"] >= new_row["seq"]:
            raise RevisionError(
                f"baseline {baseline} is not older than revision {new_row['revision']}; "
                "pass an earlier published revision"
            )
        return row
    return default_baseline(revisions, new_row)


def default_baseline(revisions: pd.DataFrame, new_row: pd.Series) -> pd.Series | None:
    """The baseline a digest of ``new_row`` takes when none is given: the runbook's published
    revision just before it (None for its first). ``revisions`` are the runbook's."""
    earlier = revisions[(revisions["status"] == "published") & (revisions["seq"] < new_row["seq"])]
    return earlier.sort_values("seq").iloc[-1] if len(earlier) else None


def _as_of(as_of: str | pd.Timestamp | None, row: pd.Series) -> pd.Timestamp:
    published = pd.Timestamp(row["published_at"])
    if as_of is None:
        return published
    try:
        when = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise RevisionError(f"--as-of '{as_of}' is not an ISO date or time") from exc
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    if when < published:
        # Before publication the revision did not apply; its context would be someone else's.
        raise RevisionError(
            f"--as-of {format_utc(when)} is before {row['runbook_id']}@{row['revision']} "
            f"was published ({format_utc(published)}); pass a later time or omit --as-of"
        )
    return when


def _context(sources: src_mod.DataSources, when: pd.Timestamp) -> ctx.ContextTables:
    """The context as of ``when``, reused while the source files are unchanged.

    A replay digests many revisions published at the same few times; each context is read once.
    Sources that are not local files (a CRM server) are read every time.
    """
    stamp = _fingerprint(sources)
    if stamp is None:
        return ctx.load_context(sources, as_of=when)
    return _cached_context(sources, when, stamp)


@lru_cache(maxsize=32)
def _cached_context(
    sources: src_mod.DataSources, when: pd.Timestamp, stamp: tuple[object, ...]
) -> ctx.ContextTables:
    # ``stamp`` (the files' stat) is only part of the key: changed files get a new context.
    return ctx.load_context(sources, as_of=when)


def _fingerprint(sources: src_mod.DataSources) -> tuple[object, ...] | None:
    crm = src_mod.crm_file(sources)
    if crm is None:
        return None
    try:
        key: tuple[object, ...] = src_mod.file_key(
            [crm, sources.exceptions, *sorted(sources.registry.glob("*.csv"))]
        )
    except OSError:
        return None
    return key


@dataclass(frozen=True)
class _RevisionTable:
    """The repository table, equal (and hashed) by its files' paths and content hashes."""

    key: tuple[tuple[str, str], ...]
    frame: pd.DataFrame = field(compare=False)


def _revisions_sha256(revisions: pd.DataFrame) -> str:
    # Every column of the repository table follows from its files' paths and bytes, so those
    # identify the snapshot: a replay hashes the (large) table once, not once per digest.
    key = tuple(zip(revisions["path"], revisions["sha256"], strict=True))
    return _table_sha256(_RevisionTable(key, revisions))


@lru_cache(maxsize=64)
def _table_sha256(table: _RevisionTable) -> str:
    return src_mod.snapshot_sha256(table.frame)


@lru_cache(maxsize=256)
def _parse(text: str, path: str, names: tuple[tuple[str, ...], ...]) -> Runbook:
    # Replays parse the same revision many times with the same registry names: cache by content.
    products, teams, pagers = names
    return parse_runbook(text, path=path, products=products, teams=teams, pagers=pagers)


def _change_claims(changes: diffmod.Diff, new_ref: str, old_ref: str | None) -> list[_Statement]:
    out: list[_Statement] = []
    run: list[diffmod.Change] = []  # consecutive renumberings in one section become one claim

    def flush() -> None:
        if run:
            out.append(_renumbered_claim(list(run), new_ref))
            run.clear()

    for change in changes.changes:
        if change.unit == "front_matter":
            continue  # publication metadata: the header reports it
        if change.kind == "renumbered":
            if run and run[-1].section != change.section:
                flush()
            run.append(change)
            continue
        flush()
        refs = []
        if change.new is not None:
            refs.append(_lines_ref(new_ref, change.new))
        if change.old is not None and old_ref is not None:
            refs.append(_lines_ref(old_ref, change.old))
        details = diffmod.change_to_dict(change)
        kind = cast(ChangeKind, change.kind)
        out.append(_Statement(kind, _change_sentence(change), tuple(refs), details))
    flush()
    return out


def _lines_ref(ref: str, span: diffmod.Span) -> ctx.SourceRef:
    return ctx.SourceRef("runbook", ref, f"L{span.lines[0]}-L{span.lines[1]}")


_LIST_NUMBER = re.compile(r"\s*(\d+)[.)]")


def _sides(change: diffmod.Change) -> tuple[diffmod.Span, diffmod.Span]:
    """Both sides of a change that pairs an old unit with a new one (modified, moved, ...)."""
    if change.old is None or change.new is None:
        raise ValueError(f"a {change.kind} change at {change.locator} needs both sides")
    return change.old, change.new


def _renumbered_claim(run: list[diffmod.Change], new_ref: str) -> _Statement:
    pairs = [_sides(c) for c in run]

    def number(span: diffmod.Span) -> str:
        match = _LIST_NUMBER.match(span.text)
        return match.group(1) if match else "?"

    def label(old: diffmod.Span, new: diffmod.Span) -> str:
        # Nested items are indented in the source; say so, their numbers restart per parent.
        nested = "sub-step " if new.text[:1].isspace() else ""
        return f"{nested}{number(old)} → {number(new)}"

    moves = ", ".join(label(old, new) for old, new in pairs)
    first, last = pairs[0][1].lines[0], pairs[-1][1].lines[1]
    noun = "item" if len(run) == 1 else "items"
    text = (
        f"{len(run)} {noun} renumbered in {_where(run[0].section)}, wording unchanged: "
        f"{moves} (lines {first}-{last})."
    )
    details: RenumberedDetails = {
        "section": list(run[0].section),
        "unit": run[0].unit,
        "items": [diffmod.change_to_dict(c) for c in run],
    }
    refs = tuple(_lines_ref(new_ref, new) for _, new in pairs)
    return _Statement("renumbered", text, refs, details)


_MARKER = re.compile(r"\s*(?:(\d+)[.)]|[-*+])\s+")
_UNIT_NAMES = {
    "table_row": "Table row",
    "heading": "Heading",
    "paragraph": "Paragraph",
    "blockquote": "Quote",
    "code": "Code block",
    "html": "HTML block",
}


def _unit_label(change: diffmod.Change) -> str:
    span = change.new or change.old
    if span is None:
        raise ValueError(f"a change at {change.locator} has neither side")
    text = " ".join(span.text.split())
    marker = _MARKER.match(text) if change.unit == "list_item" else None
    if marker:
        text = text[marker.end() :]
    if change.unit == "table_row":
        text = " | ".join(cell.strip() for cell in text.strip("|").split("|"))
    preview = ctx.quote(text)
    if marker:
        name = f"Step {marker.group(1)}" if marker.group(1) else "Item"
    else:
        name = _UNIT_NAMES.get(change.unit, "Text")
    return f"{name} “{preview}”"


def _step_number(span: diffmod.Span | None) -> str | None:
    match = _LIST_NUMBER.match(span.text) if span else None
    return match.group(1) if match else None


def _where(section: Iterable[str]) -> str:
    path = list(section)
    return " › ".join(path[1:] or path) or "the document"


def _span(span: diffmod.Span | None) -> str:
    return f"lines {span.lines[0]}-{span.lines[1]}" if span else ""


def _change_sentence(change: diffmod.Change) -> str:
    label = _unit_label(change)
    where = _where(change.section)
    facts = "; ".join(f.statement for f in change.facts)
    tail = f" Facts: {facts}." if facts else ""
    if change.kind == "added":
        return f"{label} added in {where} ({_span(change.new)}).{tail}"
    if change.kind == "removed":
        return f"{label} removed from {where} (was {_span(change.old)}).{tail}"
    if change.kind == "moved":
        old_where = _where(change.old_section) if change.old_section else where
        old_no, new_no = _step_number(change.old), _step_number(change.new)
        was = f"step {old_no} in {old_where}" if old_no else old_where
        now = f"step {new_no} in {where}" if new_no else where
        return (
            f"{label} moved from {was} ({_span(change.old)}) to {now} ({_span(change.new)}).{tail}"
        )
    return f"{label} modified in {where} ({_span(change.new)}).{tail}"


def _version() -> str:
    from digestkit import __version__

    return __version__


def to_markdown(digest: Digest, *, data: str | Path | src_mod.DataSources | None = None) -> str:
    """The digest as Markdown: the same brief as its HTML page (:mod:`digestkit.brief`).

    ``data`` is where the digest was built from (by default, what :func:`build_digest` read); the
    brief reads the earlier revisions' digests, the registry and the runbook lines it quotes from
    there.
    """
    from digestkit import brief, render

    source = data if data is not None else digest.data
    return render.to_markdown(brief.load_brief(digest.to_dict(), data=source))
