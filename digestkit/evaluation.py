"""Quality metrics of the digests in a handoff workspace, against reviewer records and gold labels.

:func:`evaluate` computes, per digest and overall:

- **provenance completeness** — share of published revisions that have a digest in which every
  claim has at least one source that resolves (:func:`resolve_source`) and the carry-forward
  context is present (a non-empty ``carried_forward`` part and an audit with ``as_of`` and
  snapshot hashes);
- **reviewer corrections** (from :mod:`digestkit.review`) — correction rate (corrected or rejected
  over reviewed claims), overall and per :data:`REVIEW_PARTS`; the normalized Levenshtein distance
  (rapidfuzz) between generated and corrected text; the missed-item rate (missed items over
  reviewed claims plus missed items);
- **surfacing** (where gold labels exist) — recall and false-flag rate per :data:`ISSUE_GROUPS`
  kind, with :func:`match_gold` deciding what matches;
- **scope drift** — scope-guard violations per digest (:func:`digestkit.policy.check_digest`),
  and the guard's over-block rate on digests a reviewer accepted (reviewed, nothing rejected);
- **latency** — seconds from the publication event's ``occurred_at`` to the digest being posted.

:meth:`Evaluation.to_dict` is the JSON contract of ``digestkit evaluate --format json``
(``docs/evaluation-json.md``). :func:`simulate_reviews` writes a seeded, clearly labelled
simulated review of every digest; :func:`replay` rebuilds and scores every published revision
in-process; :func:`render_report` runs ``notebooks/evaluation_report.ipynb`` into HTML.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from rapidfuzz.distance import Levenshtein

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.exceptions import WorkspaceError

SCHEMA_VERSION = 1
REPORT_NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "evaluation_report.ipynb"
SIMULATED_REVIEWER = rv.SIMULATED_REVIEWER
"""Reviewer name of :func:`simulate_reviews`; the report says the reviews are simulated."""

REVIEW_PARTS = ("changed_steps", "carried_forward", "ownership_mappings", "flags")
"""Parts the correction rate is broken down by; ``flags`` includes open questions."""

ISSUE_GROUPS: dict[str, str] = {
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
ISSUE_KINDS = tuple(dict.fromkeys(ISSUE_GROUPS.values()))

_LINES = re.compile(r"^L(\d+)-L(\d+)$")
_OPEN_PARTS = ("open_questions", "flags")


def review_part(part: str, kind: str | None) -> str:
    """The :data:`REVIEW_PARTS` entry a claim (or missed item) of ``part``/``kind`` counts under."""
    if kind in ("ownership_conflict", "ownership"):
        return "ownership_mappings"
    if part in _OPEN_PARTS:
        return "flags"
    return part


# --- source resolution -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Index:
    runbook_lines: dict[str, int]
    products: frozenset[str]
    exceptions: frozenset[str]


@lru_cache(maxsize=8)
def _index(sources: src_mod.DataSources) -> _Index:
    revisions = src_mod.load_revisions(sources)
    return _Index(
        runbook_lines={
            f"{r.runbook_id}@{r.revision}": len(str(r.text).splitlines())
            for r in revisions.itertuples()
        },
        products=frozenset(src_mod.load_products(sources)["product_id"]),
        exceptions=frozenset(src_mod.load_exceptions(sources)["exception_id"]),
    )


@lru_cache(maxsize=256)
def _crm_rows(sources: src_mod.DataSources, tier: str | None, approved: bool, day: str | None):
    frame = src_mod.load_entitlements(
        sources,
        tiers=[tier] if tier else None,
        approved_only=approved,
        active_on=pd.Timestamp(day, tz="UTC") if day else None,
        columns=["entitlement_id"],
    )
    return len(frame)


_CRM_KEYS = ("tier", "record_status", "active_on")
_CRM_MARKERS = ("deviating",)


def resolve_source(ref: Mapping[str, Any], sources: src_mod.DataSources) -> bool:
    """Whether a claim's source reference points at something that exists in ``sources``.

    runbook: ``<runbook>@<rev>`` is a revision and ``L<a>-L<b>`` lies inside its file;
    registry: the product id exists and the locator is a products column; exceptions: the
    exception id exists and the locator is a register column; crm: the ``entitlements`` table
    (filters in the id after ``?`` or in the locator, ``key=value;…``: tier, record_status,
    active_on, and the ``deviating`` marker) has matching rows.
    """
    system, ident, locator = ref.get("system"), str(ref.get("id") or ""), ref.get("locator") or ""
    index = _index(sources)
    if system == "runbook":
        match = _LINES.match(locator)
        lines = index.runbook_lines.get(ident)
        if match is None or lines is None:
            return False
        first, last = int(match[1]), int(match[2])
        return 1 <= first <= last <= lines
    if system == "registry":
        columns = {c.name for c in src_mod.SCHEMAS["products"]}
        return ident in index.products and (not locator or locator in columns)
    if system == "exceptions":
        columns = {c.name for c in src_mod.SCHEMAS["exceptions"]}
        return ident in index.exceptions and (not locator or locator in columns)
    if system == "crm":
        table, _, query = ident.partition("?")
        if table != "entitlements":
            return False
        filters: dict[str, str] = {}
        for part in [*query.split("&"), *locator.split(";")]:
            part = part.strip()
            if not part or part in _CRM_MARKERS:
                continue
            key, sep, value = part.partition("=")
            if not sep or key not in _CRM_KEYS:
                return False
            filters[key] = value
        status = filters.get("record_status")
        if status not in (None, "approved"):
            return False
        try:
            return (
                _crm_rows(
                    sources, filters.get("tier"), status == "approved", filters.get("active_on")
                )
                > 0
            )
        except (ValueError, src_mod.SourceError):
            return False
    return False


# --- matching against gold labels --------------------------------------------------------------


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
        return ISSUE_GROUPS.get(self.kind, self.kind)

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
        return ISSUE_GROUPS.get(self.kind, self.kind)


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


def _pair(value: Sequence[int] | None) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None


def _overlap(a: Sequence[int] | None, b: Sequence[int] | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


def _spans(claim: Mapping[str, Any], ref: str | None) -> list[tuple[int, int]]:
    out = []
    for source in claim.get("sources", []):
        match = _LINES.match(source.get("locator") or "")
        if source.get("system") == "runbook" and source.get("id") == ref and match:
            out.append((int(match[1]), int(match[2])))
    return out


def _mentions(claim: Mapping[str, Any], refs: Sequence[str]) -> bool:
    # Whole-token match: EXC-104 must not be found inside EXC-1042.
    blob = json.dumps({k: claim.get(k) for k in ("text", "details", "sources")}, ensure_ascii=False)
    return all(re.search(rf"(?<![A-Za-z0-9]){re.escape(ref)}(?![A-Za-z0-9])", blob) for ref in refs)


def _issue_refs(issue: Mapping[str, Any]) -> tuple[str, ...]:
    refs = issue.get("refs") or ([issue["ref"]] if issue.get("ref") else [])
    return tuple(str(r) for r in refs)


def _surfaces(claim: Mapping[str, Any], issue: Mapping[str, Any], ref: str) -> bool:
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

    changes, formatting = [], []
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
    open_claims = [c for part in _OPEN_PARTS for c in digest.get(part, [])]
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
        raise src_mod.SourceError(f"not valid JSON ({exc.msg})", path=sources.gold) from None
    return dict(payload.get("revisions", {}))


# --- the evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """Every metric of a workspace: per digest, per review part, per issue kind, and a summary."""

    workspace: str
    period: str | None
    digests: pd.DataFrame
    corrections: pd.DataFrame
    surfacing: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``digestkit evaluate --format json`` (docs/evaluation-json.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "workspace": self.workspace,
            "period": self.period,
            "summary": self.summary,
            "corrections_by_part": _records(self.corrections),
            "surfacing_by_kind": _records(self.surfacing),
            "digests": _records(self.digests),
        }

    def summary_table(self) -> pd.DataFrame:
        """The summary as a two-column table (``metric``, ``value``) for display."""
        rows = [
            {"metric": f"{section}.{key}", "value": _fmt(value)}
            for section, values in self.summary.items()
            for key, value in values.items()
            if not isinstance(value, list | dict)
        ]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def to_markdown(self) -> str:
        """The same numbers as Markdown tables."""
        s = self.summary
        note = (
            "\n_Reviews are simulated (seeded reviewer simulation), not a person's judgement._\n"
            if s["reviews"]["simulated"]
            else ""
        )
        lines = [
            f"# Evaluation of {self.workspace}" + (f" ({self.period})" if self.period else ""),
            note,
            "## Summary",
            "",
            _markdown_table(self.summary_table()),
        ]
        for title, frame in (
            ("Corrections by part", self.corrections),
            ("Surfacing by issue kind", self.surfacing),
            ("Per digest", self.digests[[c for c in _DIGEST_BRIEF if c in self.digests]]),
        ):
            lines += ["", f"## {title}", "", _markdown_table(frame)]
        return "\n".join(lines) + "\n"


_DIGEST_BRIEF = (
    "digest_id",
    "published_at",
    "claims",
    "provenance_complete",
    "correction_rate",
    "missed_rate",
    "issues_surfaced",
    "issues_total",
    "false_flags",
    "scope_violations",
    "latency_seconds",
)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_None._"
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in _records(frame, raw=True)]
    return "\n".join([head, rule, *body])


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _records(frame: pd.DataFrame, *, raw: bool = False) -> list:
    rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False)]
    if raw:
        return rows
    return [dict(zip(frame.columns, row, strict=True)) for row in rows]


def _rate(num: float, den: float) -> float | None:
    return float(num) / den if den else None


_PERIOD = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _period(period: str | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """``None``/``all``; ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; or ``START..END`` (inclusive)."""
    if period in (None, "", "all"):
        return None
    start, sep, end = period.partition("..")
    parts = [p for p in (start, end) if p]
    try:
        if not parts or not all(_PERIOD.match(p) for p in parts):
            raise ValueError(period)
        if not sep:
            p = pd.Period(period, freq={4: "Y", 7: "M", 10: "D"}[len(period)])
            return p.start_time.tz_localize("UTC"), p.end_time.tz_localize("UTC")
        lo = pd.Timestamp(start, tz="UTC") if start else pd.Timestamp.min.tz_localize("UTC")
        hi = (
            pd.Period(end, freq={4: "Y", 7: "M", 10: "D"}[len(end)]).end_time.tz_localize("UTC")
            if end
            else pd.Timestamp.max.tz_localize("UTC")
        )
        if lo > hi:
            raise WorkspaceError(f"period '{period}' ends before it starts; write START..END")
        return lo, hi
    except ValueError as exc:
        raise WorkspaceError(
            f"period '{period}' is not YYYY, YYYY-MM, YYYY-MM-DD, START..END or 'all'"
        ) from exc


def _in(ts: Any, bounds: tuple[pd.Timestamp, pd.Timestamp] | None) -> bool:
    if bounds is None:
        return True
    if ts is None or pd.isna(ts):
        return False
    return bounds[0] <= pd.Timestamp(ts) <= bounds[1]


def _posted(layout: ws.Layout) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for entry in ws.list_digests(layout):
        out.append(
            (ws.load_digest(layout, entry.digest_id), ws.load_audit(layout, entry.digest_id))
        )
    return out


def _utc(value: Any) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _claims(digest: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [c for part in rv.PARTS for c in digest.get(part, [])]


def _carry_forward_present(digest: Mapping[str, Any]) -> bool:
    audit = digest.get("audit", {})
    # A first published revision has nothing to carry forward from; its header says so.
    first = digest.get("header", {}).get("baseline") is None
    return (
        (bool(digest.get("carried_forward")) or first)
        and bool(audit.get("as_of"))
        and bool(audit.get("snapshots"))
    )


def evaluate(
    workspace: str | Path,
    *,
    data: str | Path | src_mod.DataSources | None = None,
    gold: Mapping[str, Any] | None = None,
    period: str | None = None,
    missing_ok: bool = False,
) -> Evaluation:
    """Compute every metric of the workspace's digests.

    ``gold`` maps ``<runbook>@<rev>`` to gold entries (default: the data directory's gold labels;
    pass ``{}`` for none). ``period`` keeps revisions published in it (see :func:`_period`).
    With ``missing_ok`` a folder that is not (yet) a workspace evaluates as empty.
    """
    from digestkit.policy import check_digest

    bounds = _period(period)
    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    root = Path(workspace)
    if missing_ok and not (root / "digests").is_dir():
        posted: list[tuple[dict, dict]] = []
        reviews = pd.DataFrame(columns=list(rv.COLUMNS))
    else:
        layout = rv.workspace_layout(root)
        posted = _posted(layout)
        reviews = rv.load_reviews(layout)
    # Once a person has reviewed, the simulation's records would only blur their numbers.
    people = reviews["reviewer"].notna() & (reviews["reviewer"] != SIMULATED_REVIEWER)
    if people.any():
        reviews = reviews[people]
    posted = [(d, a) for d, a in posted if _in(_utc(d["header"].get("published_at")), bounds)]
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    published = published[[_in(t, bounds) for t in published["published_at"]]]
    occurred = _event_times(sources)
    latest = rv.latest_verdicts(reviews)
    missed = reviews[reviews["verdict"] == "missed"]

    rows, reviewed_rows, missed_rows, claim_rows, gold_matches = [], [], [], [], []
    for digest, audit in posted:
        digest_id = digest["digest_id"]
        claims = _claims(digest)
        by_id = {c["id"]: c for c in claims}
        for c in claims:
            claim_rows.append({"digest_id": digest_id, "part": review_part(c["part"], c["kind"])})
        unresolved = [
            c["id"] for c in claims if not any(resolve_source(s, sources) for s in c["sources"])
        ]
        mine = latest[latest["digest_id"] == digest_id]
        for r in mine.itertuples():
            claim = by_id.get(r.claim_id)
            if claim is None:  # the digest was rebuilt without this claim: the verdict is void
                continue
            distance = (
                Levenshtein.normalized_distance(claim["text"], r.text)
                if r.verdict == "corrected"
                else None
            )
            reviewed_rows.append(
                {
                    "digest_id": digest_id,
                    "part": review_part(claim["part"], claim["kind"]),
                    "verdict": r.verdict,
                    "edit_distance": distance,
                }
            )
        my_missed = missed[missed["digest_id"] == digest_id]
        for r in my_missed.itertuples():
            missed_rows.append({"digest_id": digest_id, "part": review_part(r.part, r.kind)})
        verdicts = [v["verdict"] for v in reviewed_rows if v["digest_id"] == digest_id]
        distances = [
            v["edit_distance"]
            for v in reviewed_rows
            if v["digest_id"] == digest_id and v["edit_distance"] is not None
        ]
        violations = check_digest(digest)
        accepted_by_reviewer = bool(verdicts) and "rejected" not in verdicts
        entry = gold.get(digest_id)
        match = match_gold(digest, entry) if entry else None
        if match is not None:
            gold_matches.append(match)
        event_at = _utc((audit.get("event") or {}).get("occurred_at")) or occurred.get(
            audit.get("event_id")
        )
        posted_at = _utc(audit.get("posted_at") or audit.get("created_at"))
        latency = (
            (posted_at - event_at).total_seconds() if event_at is not None and posted_at else None
        )
        n_reviewed = len(verdicts)
        n_changed = sum(v != "accepted" for v in verdicts)
        rows.append(
            {
                "digest_id": digest_id,
                "runbook_id": digest["header"]["runbook_id"],
                "revision": digest["header"]["revision"],
                "published_at": _utc(digest["header"].get("published_at")),
                "state": audit.get("state", "draft"),
                "claims": len(claims),
                "unresolved_claims": len(unresolved),
                "carry_forward_present": _carry_forward_present(digest),
                "provenance_complete": not unresolved and _carry_forward_present(digest),
                "reviewed": n_reviewed,
                "corrected": verdicts.count("corrected"),
                "rejected": verdicts.count("rejected"),
                "missed": len(my_missed),
                "correction_rate": _rate(n_changed, n_reviewed),
                "mean_edit_distance": sum(distances) / len(distances) if distances else None,
                "missed_rate": _rate(len(my_missed), n_reviewed + len(my_missed)),
                "reviewer_accepted": accepted_by_reviewer,
                "scope_violations": len(violations),
                "has_gold": match is not None,
                "changes_total": len(match.changes) if match else None,
                "changes_found": match.changes_found if match else None,
                "formatting_reported": match.formatting_reported if match else None,
                "issues_total": len(match.issues) if match else None,
                "issues_surfaced": match.issues_surfaced if match else None,
                "flags_total": len(match.flags) if match else None,
                "false_flags": len(match.false_flags) if match else None,
                "event_id": audit.get("event_id"),
                "occurred_at": event_at,
                "posted_at": posted_at,
                "latency_seconds": latency,
            }
        )
    digests = pd.DataFrame(rows, columns=list(_DIGEST_COLUMNS))
    if len(digests):
        digests = digests.sort_values(["published_at", "digest_id"], kind="stable")
        digests = digests.reset_index(drop=True)
    reviewed = pd.DataFrame(
        reviewed_rows, columns=["digest_id", "part", "verdict", "edit_distance"]
    )
    missed_items = pd.DataFrame(missed_rows, columns=["digest_id", "part"])
    claim_parts = pd.DataFrame(claim_rows, columns=["digest_id", "part"])
    corrections = _corrections(claim_parts, reviewed, missed_items)
    surfacing = _surfacing(gold_matches)
    complete = int(
        digests.loc[
            digests["digest_id"].isin(
                [f"{r.runbook_id}@{r.revision}" for r in published.itertuples()]
            ),
            "provenance_complete",
        ].sum()
    )
    summary = _summary(
        digests, reviewed, missed_items, reviews, surfacing, gold_matches, len(published), complete
    )
    return Evaluation(
        workspace=str(root),
        period=None if bounds is None else period,
        digests=digests,
        corrections=corrections,
        surfacing=surfacing,
        summary=summary,
    )


_DIGEST_COLUMNS = (
    "digest_id",
    "runbook_id",
    "revision",
    "published_at",
    "state",
    "claims",
    "unresolved_claims",
    "carry_forward_present",
    "provenance_complete",
    "reviewed",
    "corrected",
    "rejected",
    "missed",
    "correction_rate",
    "mean_edit_distance",
    "missed_rate",
    "reviewer_accepted",
    "scope_violations",
    "has_gold",
    "changes_total",
    "changes_found",
    "formatting_reported",
    "issues_total",
    "issues_surfaced",
    "flags_total",
    "false_flags",
    "event_id",
    "occurred_at",
    "posted_at",
    "latency_seconds",
)


def _event_times(sources: src_mod.DataSources) -> dict[str, pd.Timestamp]:
    feed = src_mod.load_feed(sources, strict=False)
    return {str(e): _utc(t) for e, t in zip(feed["event_id"], feed["occurred_at"], strict=True)}


def _corrections(
    claim_parts: pd.DataFrame, reviewed: pd.DataFrame, missed: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    for part in REVIEW_PARTS:
        mine = reviewed[reviewed["part"] == part]
        n = len(mine)
        corrected = int((mine["verdict"] == "corrected").sum())
        rejected = int((mine["verdict"] == "rejected").sum())
        n_missed = int((missed["part"] == part).sum())
        distances = mine["edit_distance"].dropna()
        rows.append(
            {
                "part": part,
                "claims": int((claim_parts["part"] == part).sum()),
                "reviewed": n,
                "accepted": int((mine["verdict"] == "accepted").sum()),
                "corrected": corrected,
                "rejected": rejected,
                "correction_rate": _rate(corrected + rejected, n),
                "mean_edit_distance": float(distances.mean()) if len(distances) else None,
                "missed": n_missed,
                "missed_rate": _rate(n_missed, n + n_missed),
            }
        )
    return pd.DataFrame(rows)


def _surfacing(matches: Sequence[GoldMatch]) -> pd.DataFrame:
    rows = []
    for kind in ISSUE_KINDS:
        issues = [i for m in matches for i in m.issues if i.group == kind]
        flags = [f for m in matches for f in m.flags if f.group == kind]
        surfaced = sum(i.surfaced for i in issues)
        false = sum(not f.matched for f in flags)
        if not issues and not flags and kind == "unknown_reference":
            continue  # not a planted kind: only shown when it occurs
        rows.append(
            {
                "issue_kind": kind,
                "gold_issues": len(issues),
                "surfaced": surfaced,
                "recall": _rate(surfaced, len(issues)),
                "flags": len(flags),
                "false_flags": false,
                "false_flag_rate": _rate(false, len(flags)),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "issue_kind",
            "gold_issues",
            "surfaced",
            "recall",
            "flags",
            "false_flags",
            "false_flag_rate",
        ],
    )


def _summary(
    digests: pd.DataFrame,
    reviewed: pd.DataFrame,
    missed: pd.DataFrame,
    reviews: pd.DataFrame,
    surfacing: pd.DataFrame,
    matches: Sequence[GoldMatch],
    n_published: int,
    complete: int,
) -> dict[str, Any]:
    n_reviewed = len(reviewed)
    corrected = int((reviewed["verdict"] == "corrected").sum())
    rejected = int((reviewed["verdict"] == "rejected").sum())
    distances = reviewed["edit_distance"].dropna()
    reviewers = sorted(set(reviews["reviewer"].dropna()))
    accepted = digests[digests["reviewer_accepted"].astype(bool)]
    over_blocked = int((accepted["scope_violations"] > 0).sum())
    latency = digests["latency_seconds"].dropna().astype(float)
    issues = int(surfacing["gold_issues"].sum())
    surfaced = int(surfacing["surfaced"].sum())
    flags = int(surfacing["flags"].sum())
    false = int(surfacing["false_flags"].sum())
    changes = sum(len(m.changes) for m in matches)
    found = sum(m.changes_found for m in matches)
    return {
        "provenance": {
            "published_revisions": n_published,
            "digests": len(digests),
            "complete": complete,
            "completeness": _rate(complete, n_published),
            "unresolved_claims": int(digests["unresolved_claims"].sum()),
        },
        "reviews": {
            "reviewers": reviewers,
            "simulated": SIMULATED_REVIEWER in reviewers,
            "reviewed_claims": n_reviewed,
            "corrected": corrected,
            "rejected": rejected,
            "correction_rate": _rate(corrected + rejected, n_reviewed),
            "mean_edit_distance": float(distances.mean()) if len(distances) else None,
            "missed_items": len(missed),
            "missed_rate": _rate(len(missed), n_reviewed + len(missed)),
        },
        "surfacing": {
            "digests_with_gold": len(matches),
            "gold_issues": issues,
            "surfaced": surfaced,
            "recall": _rate(surfaced, issues),
            "flags": flags,
            "false_flags": false,
            "false_flag_rate": _rate(false, flags),
            "gold_changes": changes,
            "changes_found": found,
            "change_recall": _rate(found, changes),
            "formatting_only": sum(len(m.formatting) for m in matches),
            "formatting_reported": sum(m.formatting_reported for m in matches),
        },
        "scope": {
            "violations": int(digests["scope_violations"].sum()),
            "digests_with_violations": int((digests["scope_violations"] > 0).sum()),
            "reviewer_accepted_digests": len(accepted),
            "over_blocked": over_blocked,
            "over_block_rate": _rate(over_blocked, len(accepted)),
        },
        "latency": {
            "digests": len(latency),
            "median_seconds": float(latency.median()) if len(latency) else None,
            "max_seconds": float(latency.max()) if len(latency) else None,
            "note": _latency_note(latency),
        },
    }


def _latency_note(latency: pd.Series) -> str | None:
    # A median over a day is a backlog or a historical feed processed at once, not the pipeline.
    if len(latency) and latency.median() > 86400:
        return (
            "events were processed long after they occurred (a historical feed or a backlog): "
            "this measures that delay, not the pipeline"
        )
    return None


# --- reviewer simulation -----------------------------------------------------------------------

CORRECTION_ODDS = {
    "changed_steps": 0.15,
    "carried_forward": 0.08,
    "ownership_mappings": 0.10,
    "flags": 0.12,
}
"""Chance that the simulated reviewer rewords a claim it does not reject, per review part."""

_EDITS = (
    # What duty-manager reviewers do to generated text: drop detail, tighten, say what to do.
    (re.compile(r" Facts: .*$"), ""),
    (
        re.compile(r"Not resolved here: confirm with the product owner\.$"),
        "Confirm with the product owner before the next handoff.",
    ),
    (re.compile(r"\bmodified in\b"), "changed in"),
    (re.compile(r" \((?:approved records|threshold \d+ days)\)"), ""),
    (re.compile(r"“([^”]{40})[^”]+”"), r"“\1…”"),
    (re.compile(r", as in the registry\.$"), " (matches the registry)."),
    (re.compile(r" \((?:was )?lines \d+-\d+\)"), ""),
    (re.compile(r"^The runbook\b"), "This revision"),
    (re.compile(r"is still approved and in force\.$"), "remains approved."),
)


def _plausible_edit(text: str, rng: random.Random) -> str | None:
    """A reviewer-like rewording of ``text``, or None when no edit applies."""
    edits = [(pattern, repl) for pattern, repl in _EDITS if pattern.search(text)]
    if not edits:
        return None
    pattern, repl = rng.choice(edits)
    edited = pattern.sub(repl, text, count=1).strip()
    return edited if edited and edited != text else None


def _missed_source(issue: IssueMatch, digest_id: str) -> dict[str, Any]:
    if issue.lines:
        return {
            "system": "runbook",
            "id": digest_id,
            "locator": f"L{issue.lines[0]}-L{issue.lines[1]}",
        }
    ref = issue.refs[0] if issue.refs else ""
    if ref.startswith("PRD-"):
        return {"system": "registry", "id": ref, "locator": "owning_team"}
    if ref.startswith("EXC-"):
        return {"system": "exceptions", "id": ref, "locator": "status"}
    return {"system": "runbook", "id": digest_id, "locator": None}


def simulate_reviews(
    workspace: str | Path,
    *,
    seed: int = 7,
    gold: Mapping[str, Any] | None = None,
    data: str | Path | src_mod.DataSources | None = None,
    reviewer: str = SIMULATED_REVIEWER,
) -> pd.DataFrame:
    """Write a seeded, deterministic simulated review of every digest not yet reviewed by it.

    Against the gold labels: flags matching no gold issue and changes reported on formatting-only
    edits are rejected; gold issues and changes the digest did not surface are added as missed
    items. Other claims are accepted, a few reworded (:data:`CORRECTION_ODDS`,
    :data:`_EDITS`). Returns the records written. Everything is marked with ``reviewer``, and the
    report says the reviews are simulated.
    """
    layout = rv.workspace_layout(workspace)
    gold = load_gold(data) if gold is None else dict(gold)
    existing = rv.load_reviews(layout)
    done = set(existing.loc[existing["reviewer"] == reviewer, "digest_id"])
    written: list[dict[str, Any]] = []
    for entry in sorted(ws.list_digests(layout), key=lambda e: e.digest_id):
        digest_id = entry.digest_id
        if digest_id in done:
            continue
        digest = ws.load_digest(layout, digest_id)
        rng = random.Random(f"{seed}:{digest_id}")
        match = match_gold(digest, gold[digest_id]) if digest_id in gold else None
        false_flags = {f.claim_id for f in match.false_flags} if match else set()
        on_formatting = {i for c in match.formatting for i in c.claim_ids} if match else set()
        clock = _utc(digest["header"].get("published_at")) or pd.Timestamp("2000-01-01", tz="UTC")

        def at(rng: random.Random = rng) -> str:
            nonlocal clock
            clock += pd.Timedelta(minutes=rng.randint(2, 15))
            return clock.strftime("%Y-%m-%dT%H:%M:%SZ")

        for claim in _claims(digest):
            verdict, text = "accepted", None
            if claim["id"] in false_flags:
                verdict, text = "rejected", "Not an issue in this revision's sources."
            elif claim["id"] in on_formatting:
                verdict, text = "rejected", "Formatting-only edit: the step did not change."
            elif rng.random() < CORRECTION_ODDS[review_part(claim["part"], claim["kind"])]:
                text = _plausible_edit(claim["text"], rng)
                verdict = "corrected" if text else "accepted"
            written.append(
                rv.add_review(
                    layout,
                    digest_id,
                    claim_id=claim["id"],
                    verdict=verdict,
                    text=text,
                    reviewer=reviewer,
                    at=at(),
                    simulated=True,
                )
            )
        for issue in match.issues if match else ():
            if issue.surfaced:
                continue
            what = ", ".join(issue.refs) or f"lines {issue.lines[0]}-{issue.lines[1]}"
            written.append(
                rv.add_missed(
                    layout,
                    digest_id,
                    text=f"Not surfaced: {issue.kind.replace('_', ' ')} concerning {what}.",
                    part="open_questions" if issue.kind == "open_question" else "flags",
                    kind=issue.kind,
                    source=_missed_source(issue, digest_id),
                    reviewer=reviewer,
                    at=at(),
                    simulated=True,
                )
            )
        for change in match.changes if match else ():
            if change.found:
                continue
            removed = change.new_lines is None
            lines = change.old_lines if removed else change.new_lines
            ref = digest["header"]["baseline_ref"] if removed else digest_id
            written.append(
                rv.add_missed(
                    layout,
                    digest_id,
                    text=f"Not reported: a step was {change.kind} (lines {lines[0]}-{lines[1]}).",
                    part="changed_steps",
                    kind=change.kind,
                    source={"system": "runbook", "id": ref, "locator": f"L{lines[0]}-L{lines[1]}"},
                    reviewer=reviewer,
                    at=at(),
                    simulated=True,
                )
            )
    return pd.DataFrame(written, columns=list(rv.COLUMNS))


# --- batch replay ------------------------------------------------------------------------------

REPLAY_COLUMNS = (
    "digest_id",
    "baseline",
    "claims",
    "changed_steps",
    "flags",
    "has_gold",
    "changes_total",
    "changes_found",
    "formatting_reported",
    "issues_total",
    "issues_surfaced",
    "false_flags",
    "seconds",
)


def replay(
    data: str | Path | src_mod.DataSources | None = None,
    *,
    pairs: Iterable[Sequence[str | None]] | None = None,
    gold: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Rebuild digests in-process and score them against the gold labels, one row per digest.

    ``pairs`` are ``(runbook_id, revision)`` or ``(runbook_id, revision, baseline)``; the default
    is every published revision against its previous one. A gold entry is used only when its
    baseline is the digest's. ``seconds`` is the wall time of building that digest.
    """
    from tqdm.auto import tqdm

    from digestkit.digest import build_digest

    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    if pairs is None:
        revisions = src_mod.load_revisions(sources)
        published = revisions[revisions["status"] == "published"]
        pairs = [(r.runbook_id, r.revision) for r in published.itertuples()]
    pairs = list(pairs)
    rows = []
    for pair in tqdm(pairs, disable=not progress, desc="replay", unit="digest"):
        runbook_id, revision, baseline = (*pair, None)[:3]
        start = time.perf_counter()
        digest = build_digest(runbook_id, revision, baseline=baseline, data=sources).to_dict()
        seconds = time.perf_counter() - start
        entry = gold.get(digest["digest_id"])
        if entry is not None and entry.get("baseline") != digest["header"]["baseline"]:
            entry = None
        match = match_gold(digest, entry) if entry is not None else None
        rows.append(
            {
                "digest_id": digest["digest_id"],
                "baseline": digest["header"]["baseline"],
                "claims": len(_claims(digest)),
                "changed_steps": len(digest["changed_steps"]),
                "flags": len(digest["flags"]) + len(digest["open_questions"]),
                "has_gold": match is not None,
                "changes_total": len(match.changes) if match else None,
                "changes_found": match.changes_found if match else None,
                "formatting_reported": match.formatting_reported if match else None,
                "issues_total": len(match.issues) if match else None,
                "issues_surfaced": match.issues_surfaced if match else None,
                "false_flags": len(match.false_flags) if match else None,
                "seconds": seconds,
            }
        )
    return pd.DataFrame(rows, columns=list(REPLAY_COLUMNS))


def replay_summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Totals of a :func:`replay` frame: recall of changes and issues, false flags, build time."""
    scored = frame[frame["has_gold"].astype(bool)]
    changes, found = int(scored["changes_total"].sum()), int(scored["changes_found"].sum())
    issues, surfaced = int(scored["issues_total"].sum()), int(scored["issues_surfaced"].sum())
    flags = int(scored["flags"].sum())
    false = int(scored["false_flags"].sum())
    return {
        "schema_version": SCHEMA_VERSION,
        "digests": len(frame),
        "digests_with_gold": len(scored),
        "gold_changes": changes,
        "changes_found": found,
        "change_recall": _rate(found, changes),
        "formatting_reported": int(scored["formatting_reported"].sum()),
        "gold_issues": issues,
        "issues_surfaced": surfaced,
        "issue_recall": _rate(surfaced, issues),
        "flags": flags,
        "false_flags": false,
        "false_flag_rate": _rate(false, flags),
        "median_seconds": float(frame["seconds"].median()) if len(frame) else None,
    }


def replay_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`replay` frame as plain JSON objects."""
    return _records(frame)


def replay_markdown(frame: pd.DataFrame) -> str:
    """A :func:`replay` frame and its summary as Markdown tables."""
    summary = replay_summary(frame)
    totals = pd.DataFrame(
        [{"metric": k, "value": _fmt(v)} for k, v in summary.items() if k != "schema_version"]
    )
    return (
        "# Replay of every published revision\n\n"
        + _markdown_table(totals)
        + "\n\n## Per digest\n\n"
        + _markdown_table(frame)
        + "\n"
    )


# --- the report --------------------------------------------------------------------------------


def render_report(
    workspace: str | Path,
    out_html: str | Path | None = None,
    *,
    period: str | None = None,
    data: str | Path | src_mod.DataSources | None = None,
) -> Path:
    """Run the evaluation report notebook with papermill and export it (no inputs) to HTML.

    The default output is ``<workspace>/evaluation/report.html``, the executed notebook next to it.
    """
    from digestkit import render

    layout = rv.workspace_layout(workspace)
    _period(period)  # fail before starting a kernel
    # One file per period, so a period's report never replaces the whole-history one.
    name = (
        "report.html"
        if period in (None, "", "all")
        else f"report-{period.replace('..', '_to_')}.html"
    )
    out = Path(out_html) if out_html else layout.root / "evaluation" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    root = data.root if isinstance(data, src_mod.DataSources) else data
    parameters = {
        "workspace": str(layout.root),
        "period": period or "all",
        "data": str(Path(root).resolve()) if root else None,
    }
    executed = render.execute_notebook(
        out.with_suffix(".ipynb"), parameters=parameters, notebook=REPORT_NOTEBOOK, cwd=out.parent
    )
    _export(executed, out, title=f"Evaluation — {layout.root.name}")
    return out


def _export(notebook: Path, output: Path, *, title: str) -> None:
    # Like render.notebook_to_html, but the report keeps its Markdown cells (headings, definitions).
    import nbformat
    from nbconvert import HTMLExporter

    from digestkit import render

    nb = nbformat.read(notebook, as_version=4)
    nb.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        template_file=str(render.TEMPLATE),
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    output.write_text(body, encoding="utf-8")


# --- plots (matplotlib figures for the report notebook) -----------------------------------------


def _figure(width: float = 8.0, height: float = 3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _empty(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"No {what} yet.", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def plot_over_time(evaluation: Evaluation):
    """Per-revision metrics in publication order: provenance, corrections, misses, recall."""
    fig, ax = _figure()
    d = evaluation.digests
    if d.empty:
        _empty(ax, "digests")
        return fig
    x = range(len(d))
    recall = d["issues_surfaced"].astype(float) / d["issues_total"].astype(float).where(
        d["issues_total"].astype(float) > 0
    )
    series = {
        "provenance complete": d["provenance_complete"].astype(float),
        "correction rate": d["correction_rate"].astype(float),
        "missed-item rate": d["missed_rate"].astype(float),
        "surfacing recall": recall,
    }
    for label, values in series.items():
        ax.plot(x, values.to_numpy(), marker="o", label=label)
    ax.set_xticks(list(x), list(d["digest_id"]), rotation=30, ha="right", fontsize="small")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("share")
    ax.set_title("Per revision, in publication order")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return fig


def plot_corrections(evaluation: Evaluation):
    """Correction rate and missed-item rate by part."""
    fig, ax = _figure(7.0, 3.2)
    c = evaluation.corrections
    if int(c["reviewed"].sum()) == 0 and int(c["missed"].sum()) == 0:
        _empty(ax, "reviews")
        return fig
    x = list(range(len(c)))
    ax.bar(
        [i - 0.2 for i in x],
        c["correction_rate"].astype(float).fillna(0),
        0.4,
        label="correction rate",
    )
    ax.bar(
        [i + 0.2 for i in x],
        c["missed_rate"].astype(float).fillna(0),
        0.4,
        label="missed-item rate",
    )
    ax.set_xticks(x, [p.replace("_", " ") for p in c["part"]])
    ax.set_ylabel("share")
    ax.set_title("Reviewer corrections by part")
    ax.legend(fontsize="small")
    return fig


def plot_surfacing(evaluation: Evaluation):
    """Surfacing recall and false-flag rate by issue kind."""
    fig, ax = _figure(8.0, 3.4)
    s = evaluation.surfacing
    if s.empty or int(s["gold_issues"].sum()) + int(s["flags"].sum()) == 0:
        _empty(ax, "gold-labelled digests")
        return fig
    y = list(range(len(s)))
    ax.barh([i - 0.2 for i in y], s["recall"].astype(float).fillna(0), 0.4, label="recall")
    ax.barh(
        [i + 0.2 for i in y],
        s["false_flag_rate"].astype(float).fillna(0),
        0.4,
        label="false-flag rate",
    )
    ax.set_yticks(y, [k.replace("_", " ") for k in s["issue_kind"]])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_title("Surfacing of planted issues by kind")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


# --- report tables -----------------------------------------------------------------------------


def report_preamble(evaluation: Evaluation) -> str:
    """The Markdown lines that open the report: scope, data, and whether reviews are simulated."""
    s = evaluation.summary
    lines = [
        f"**Workspace:** `{evaluation.workspace}` — **period:** {evaluation.period or 'all'} — "
        f"**digests:** {s['provenance']['digests']} of {s['provenance']['published_revisions']} "
        f"published revisions — **gold-labelled:** {s['surfacing']['digests_with_gold']}."
    ]
    reviewers = s["reviews"]["reviewers"]
    if s["reviews"]["simulated"]:
        lines.append(
            f"\n> **Simulated reviews.** Records by `{SIMULATED_REVIEWER}` come from "
            "`digestkit.evaluation.simulate_reviews` (seeded): it rejects flags and changes the "
            "gold labels contradict, adds the gold issues the digest missed, and rewords a few "
            "claims at random. They show how the report reads; they are not a person's judgement."
        )
    elif not reviewers:
        lines.append("\n> No review records yet: correction metrics are empty.")
    else:
        lines.append(f"\nReviewers: {', '.join(reviewers)}.")
    return "\n".join(lines)


def digest_table(evaluation: Evaluation) -> pd.DataFrame:
    """The per-digest metrics a reader scans first, in publication order."""
    d = evaluation.digests
    return d[[c for c in _DIGEST_BRIEF if c in d.columns]]


def scope_latency_table(evaluation: Evaluation) -> pd.DataFrame:
    """Per digest: scope-guard violations, whether a reviewer accepted it, and latency."""
    d = evaluation.digests
    columns = [
        "digest_id",
        "scope_violations",
        "reviewer_accepted",
        "event_id",
        "occurred_at",
        "posted_at",
    ]
    return d[columns].assign(latency=d["latency_seconds"].map(duration))


def duration(seconds: float | None) -> str | None:
    """Seconds as a reader scans them: ``42 s``, ``3 min 5 s``, ``2 h 4 min``, ``220 d 3 h``."""
    if seconds is None or pd.isna(seconds):
        return None
    s = round(float(seconds))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60)):
        if s >= size:
            return f"{s // size} {unit} {s % size // sub_size} {sub}"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"


def table(frame: pd.DataFrame):
    """A metrics table for the report: no index column, blanks as "—", three decimals."""
    return frame.style.hide(axis="index").format(na_rep="—", precision=3)
