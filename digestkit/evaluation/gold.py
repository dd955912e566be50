"""Gold labels: what each labelled revision really changed and which issues it plants.

:func:`match_gold` compares a digest with its revision's gold entry; surfacing is reported by
:data:`ISSUE_GROUPS` kind (the exception problems are one kind).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from digestkit import sources as src_mod
from digestkit.exceptions import SourceError
from digestkit.resolve import line_span

__all__ = [
    "ISSUE_GROUPS",
    "ISSUE_KINDS",
    "OPEN_PARTS",
    "ChangeMatch",
    "FlagMatch",
    "GoldMatch",
    "IssueKind",
    "IssueMatch",
    "gold_counts",
    "issue_group",
    "load_gold",
    "match_gold",
]

IssueKind = Literal[
    "ambiguous_carve_out",
    "stale_ownership",
    "unsupported_impact_assumption",
    "ownership_conflict",
    "exception_problem",
    "open_question",
    "unknown_reference",
]
ISSUE_KINDS: tuple[IssueKind, ...] = get_args(IssueKind)
"""The issue kinds surfacing is reported by, in report order."""

ISSUE_GROUPS: dict[str, IssueKind] = {
    "ambiguous_carve_out": "ambiguous_carve_out",
    "stale_ownership": "stale_ownership",
    "unsupported_impact_assumption": "unsupported_impact_assumption",
    "ownership_conflict": "ownership_conflict",
    "exception_not_approved": "exception_problem",
    "exception_expired": "exception_problem",
    "exception_expiring": "exception_problem",
    "orphaned_exception": "exception_problem",
    "open_question": "open_question",
    "unknown_reference": "unknown_reference",
}
"""Flag kind -> the issue kind surfacing is reported by (the exception problems are one kind)."""

OPEN_PARTS = ("open_questions", "flags")
"""The digest parts whose claims surface issues."""


def issue_group(kind: str) -> str:
    """The :data:`ISSUE_KINDS` entry a flag or gold issue of ``kind`` is reported under."""
    return ISSUE_GROUPS.get(kind, kind)


@dataclass(frozen=True)
class ChangeMatch:
    """A gold change and the changed_steps claims that report it."""

    cls: str
    kind: str | None
    new_lines: tuple[int, int] | None
    old_lines: tuple[int, int] | None
    claim_ids: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.claim_ids)


@dataclass(frozen=True)
class IssueMatch:
    """A gold issue and the flags or open questions that surface it."""

    kind: str
    refs: tuple[str, ...]
    lines: tuple[int, int] | None
    claim_ids: tuple[str, ...]

    @property
    def group(self) -> str:
        return issue_group(self.kind)

    @property
    def surfaced(self) -> bool:
        return bool(self.claim_ids)


@dataclass(frozen=True)
class FlagMatch:
    """A flag or open question of the digest and whether it matches a gold issue."""

    claim_id: str
    kind: str
    matched: bool

    @property
    def group(self) -> str:
        return issue_group(self.kind)


@dataclass(frozen=True)
class GoldMatch:
    """How one digest compares with the gold entry of its revision.

    ``changes`` are the planted changes (``kind`` not null); ``formatting`` the formatting-only
    edits, each with the changed_steps claims that wrongly report it.
    """

    changes: tuple[ChangeMatch, ...]
    formatting: tuple[ChangeMatch, ...]
    issues: tuple[IssueMatch, ...]
    flags: tuple[FlagMatch, ...]

    @property
    def changes_found(self) -> int:
        return sum(c.found for c in self.changes)

    @property
    def formatting_reported(self) -> int:
        return sum(c.found for c in self.formatting)

    @property
    def issues_surfaced(self) -> int:
        return sum(i.surfaced for i in self.issues)

    @property
    def false_flags(self) -> tuple[FlagMatch, ...]:
        return tuple(f for f in self.flags if not f.matched)


def gold_counts(match: GoldMatch | None) -> dict[str, Any]:
    """The counts a replay or metrics row keeps of a digest's match (None where it has no gold)."""
    return {
        "has_gold": match is not None,
        "changes_total": len(match.changes) if match else None,
        "changes_found": match.changes_found if match else None,
        "formatting_reported": match.formatting_reported if match else None,
        "issues_total": len(match.issues) if match else None,
        "issues_surfaced": match.issues_surfaced if match else None,
        "false_flags": len(match.false_flags) if match else None,
    }


def _pair(value: Sequence[int] | None) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None


def _overlap(a: Sequence[int] | None, b: Sequence[int] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def _spans(claim: Mapping[str, Any], ref: str | None) -> list[tuple[int, int]]:
    out = []
    for source in claim.get("sources", []):
        span = line_span(source.get("locator"))
        if source.get("system") == "runbook" and source.get("id") == ref and span:
            out.append(span)
    return out


def _mentions(claim: Mapping[str, Any], refs: Sequence[str]) -> bool:
    # Whole-token match: EXC-104 must not be found inside EXC-1042.
    blob = json.dumps({k: claim.get(k) for k in ("text", "details", "sources")}, ensure_ascii=False)
    return all(re.search(rf"(?<![A-Za-z0-9]){re.escape(ref)}(?![A-Za-z0-9])", blob) for ref in refs)


def _issue_refs(issue: Mapping[str, Any]) -> tuple[str, ...]:
    refs = issue.get("refs") or ([issue["ref"]] if issue.get("ref") else [])
    return tuple(str(r) for r in refs)


def _surfaces(claim: Mapping[str, Any], issue: Mapping[str, Any], ref: str | None) -> bool:
    if claim["kind"] != issue["kind"]:
        return False
    refs = _issue_refs(issue)
    if refs:
        return _mentions(claim, refs)
    return any(_overlap(span, issue.get("lines")) for span in _spans(claim, ref))


def match_gold(digest: Mapping[str, Any], gold_entry: Mapping[str, Any]) -> GoldMatch:
    """Match a digest (the dict of ``docs/digest-json.md``) against its revision's gold entry.

    A gold change is found by a changed_steps claim of the same kind whose runbook source on the
    new revision overlaps ``new_lines`` (for removals: on the baseline, overlapping
    ``old_lines``). A formatting-only entry (kind null) is *reported* — wrongly — when such a
    claim of any kind overlaps it. A gold issue is surfaced by a flag or open question of the same
    kind that mentions every gold ref (in its text, details or sources, as a whole token) or, when
    the issue has no ref, whose runbook lines overlap the gold lines. A flag matching no gold
    issue is a false flag.
    """
    header = digest.get("header", {})
    new_ref = header.get("revision_ref") or digest.get("digest_id")
    old_ref = header.get("baseline_ref")
    steps = digest.get("changed_steps", [])

    def reporting(change: Mapping[str, Any], *, same_kind: bool) -> tuple[str, ...]:
        ids = []
        for claim in steps:
            if same_kind and claim["kind"] != change["kind"]:
                continue
            if change.get("new_lines") is not None:
                hit = any(_overlap(s, change["new_lines"]) for s in _spans(claim, new_ref))
            else:
                hit = any(_overlap(s, change.get("old_lines")) for s in _spans(claim, old_ref))
            if hit:
                ids.append(claim["id"])
        return tuple(ids)

    changes: list[ChangeMatch] = []
    formatting: list[ChangeMatch] = []
    for change in gold_entry.get("changes", []):
        kind = change.get("kind")
        found = ChangeMatch(
            cls=change.get("class", ""),
            kind=kind,
            new_lines=_pair(change.get("new_lines")),
            old_lines=_pair(change.get("old_lines")),
            claim_ids=reporting(change, same_kind=kind is not None),
        )
        (changes if kind is not None else formatting).append(found)
    open_claims = [c for part in OPEN_PARTS for c in digest.get(part, [])]
    gold_issues = list(gold_entry.get("issues", []))
    issues = tuple(
        IssueMatch(
            kind=issue["kind"],
            refs=_issue_refs(issue),
            lines=_pair(issue.get("lines")),
            claim_ids=tuple(c["id"] for c in open_claims if _surfaces(c, issue, new_ref)),
        )
        for issue in gold_issues
    )
    flags = tuple(
        FlagMatch(c["id"], c["kind"], any(_surfaces(c, i, new_ref) for i in gold_issues))
        for c in open_claims
    )
    return GoldMatch(tuple(changes), tuple(formatting), issues, flags)


def load_gold(data: str | Path | src_mod.DataSources | None = None) -> dict[str, Any]:
    """The ``revisions`` of the data directory's gold labels (empty if it has none)."""
    sources = src_mod.open_sources(data)
    if sources.gold is None:
        return {}
    try:
        payload = json.loads(sources.gold.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON ({exc.msg})", path=sources.gold) from None
    return dict(payload.get("revisions", {}))
