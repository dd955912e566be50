"""Quality metrics of the digests in a handoff workspace, against reviewer records and gold labels.

:func:`evaluate` computes, per digest and overall:

- **provenance completeness** — share of published revisions that have a digest in which every
  claim has at least one source that resolves (:func:`digestkit.resolve.resolve_source`) and the
  carry-forward context is present (a non-empty ``carried_forward`` part and an audit with
  ``as_of`` and snapshot hashes);
- **reviewer corrections** (from :mod:`digestkit.review`) — correction rate (corrected or rejected
  over reviewed claims), overall and per :data:`REVIEW_PARTS`; the normalized Levenshtein distance
  (rapidfuzz) between generated and corrected text; the missed-item rate (missed items over
  reviewed claims plus missed items);
- **surfacing** (where gold labels exist) — recall and false-flag rate per
  :data:`~digestkit.evaluation.gold.ISSUE_GROUPS` kind, with
  :func:`~digestkit.evaluation.gold.match_gold` deciding what matches;
- **scope drift** — scope-guard violations per digest (:func:`digestkit.policy.check_digest`),
  and the guard's over-block rate on digests a reviewer accepted (reviewed, nothing rejected);
- **latency** — seconds from the publication event's ``occurred_at`` to the digest being posted.

:meth:`Evaluation.to_dict` is the JSON contract of ``digestkit evaluate --format json``
(``docs/evaluation-json.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
from rapidfuzz.distance import Levenshtein

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.clock import as_utc, format_utc
from digestkit.evaluation.gold import ISSUE_KINDS, OPEN_PARTS, GoldMatch, load_gold, match_gold
from digestkit.exceptions import UsageError
from digestkit.policy import check_digest
from digestkit.resolve import resolve_source
from digestkit.review import SIMULATED_REVIEWER

__all__ = [
    "DIGEST_BRIEF",
    "REVIEW_PARTS",
    "SCHEMA_VERSION",
    "SIMULATED_REVIEWER",
    "DigestMetrics",
    "Evaluation",
    "KindSurfacing",
    "PartCorrections",
    "ReviewPart",
    "evaluate",
    "format_value",
    "markdown_table",
    "parse_period",
    "rate",
    "records",
    "review_part",
    "timestamp",
]

SCHEMA_VERSION = 1

ReviewPart = Literal["changed_steps", "carried_forward", "ownership_mappings", "flags"]
REVIEW_PARTS: tuple[ReviewPart, ...] = get_args(ReviewPart)
"""Parts the correction rate is broken down by; ``flags`` includes open questions."""

DIGEST_BRIEF = (
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
"""The per-digest columns a reader scans first."""


def review_part(part: str, kind: str | None) -> str:
    """The :data:`REVIEW_PARTS` entry a claim (or missed item) of ``part``/``kind`` counts under."""
    if kind in ("ownership_conflict", "ownership"):
        return "ownership_mappings"
    if part in OPEN_PARTS:
        return "flags"
    return part


# --- plain values and tables -------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A metric as a table shows it: ``—`` for none, three decimals for a float."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else format_utc(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as plain JSON objects (no timestamps, numpy scalars or NaN)."""
    return [dict(zip(frame.columns, row, strict=True)) for row in _rows(frame)]


def _rows(frame: pd.DataFrame) -> list[list[Any]]:
    return [[_plain(v) for v in row] for row in frame.itertuples(index=False)]


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table (``_None._`` when it is empty)."""
    if frame.empty:
        return "_None._"
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(format_value(v) for v in row) + " |" for row in _rows(frame)]
    return "\n".join([head, rule, *body])


def rate(num: float, den: float) -> float | None:
    """``num / den``, or None when there is nothing to divide by."""
    return float(num) / den if den else None


def timestamp(value: Any) -> pd.Timestamp | None:
    """``value`` (text, datetime or pandas time) as a UTC timestamp; None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(as_utc(pd.Timestamp(value)))


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
            "corrections_by_part": records(self.corrections),
            "surfacing_by_kind": records(self.surfacing),
            "digests": records(self.digests),
        }

    def summary_table(self) -> pd.DataFrame:
        """The summary as a two-column table (``metric``, ``value``) for display."""
        rows = [
            {"metric": f"{section}.{key}", "value": format_value(value)}
            for section, values in self.summary.items()
            for key, value in values.items()
            if not isinstance(value, list | dict)
        ]
        return pd.DataFrame(rows, columns=["metric", "value"])

    def digest_brief(self) -> pd.DataFrame:
        """The per-digest columns of :data:`DIGEST_BRIEF`, in publication order."""
        return self.digests[[c for c in DIGEST_BRIEF if c in self.digests.columns]]

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
            markdown_table(self.summary_table()),
        ]
        for title, frame in (
            ("Corrections by part", self.corrections),
            ("Surfacing by issue kind", self.surfacing),
            ("Per digest", self.digest_brief()),
        ):
            lines += ["", f"## {title}", "", markdown_table(frame)]
        return "\n".join(lines) + "\n"


# --- periods -----------------------------------------------------------------------------------

_PERIOD = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_FREQ = {4: "Y", 7: "M", 10: "D"}  # by the length of YYYY, YYYY-MM, YYYY-MM-DD

Bounds = tuple[pd.Timestamp, pd.Timestamp]


def parse_period(period: str | None) -> Bounds | None:
    """``None``/``all``; ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; or ``START..END`` (inclusive).

    Anything else is a :class:`~digestkit.exceptions.UsageError`.
    """
    if period in (None, "", "all"):
        return None
    start, sep, end = period.partition("..")
    parts = [p for p in (start, end) if p]
    try:
        if not parts or not all(_PERIOD.match(p) for p in parts):
            raise ValueError(period)
        if not sep:
            p = pd.Period(period, freq=_FREQ[len(period)])
            return p.start_time.tz_localize("UTC"), p.end_time.tz_localize("UTC")
        lo = pd.Timestamp(start, tz="UTC") if start else pd.Timestamp.min.tz_localize("UTC")
        hi = (
            pd.Period(end, freq=_FREQ[len(end)]).end_time.tz_localize("UTC")
            if end
            else pd.Timestamp.max.tz_localize("UTC")
        )
        if lo > hi:
            raise UsageError(f"period '{period}' ends before it starts; write START..END")
        return lo, hi
    except ValueError as exc:
        raise UsageError(
            f"period '{period}' is not YYYY, YYYY-MM, YYYY-MM-DD, START..END or 'all'"
        ) from exc


def _in(ts: Any, bounds: Bounds | None) -> bool:
    if bounds is None:
        return True
    if ts is None or pd.isna(ts):
        return False
    return bool(bounds[0] <= pd.Timestamp(ts) <= bounds[1])


# --- per-digest rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reviewed:
    # The latest verdict on one claim that is still in its digest.
    digest_id: str
    part: str
    verdict: rv.ClaimVerdict
    edit_distance: float | None


@dataclass(frozen=True)
class _InPart:
    # A claim, or a missed item, and the review part it counts under.
    digest_id: str
    part: str


@dataclass(frozen=True)
class DigestMetrics:
    """One row of :attr:`Evaluation.digests`."""

    digest_id: str
    runbook_id: str
    revision: str
    published_at: pd.Timestamp | None
    state: str
    claims: int
    unresolved_claims: int
    carry_forward_present: bool
    provenance_complete: bool
    reviewed: int
    corrected: int
    rejected: int
    missed: int
    correction_rate: float | None
    mean_edit_distance: float | None
    missed_rate: float | None
    reviewer_accepted: bool
    scope_violations: int
    has_gold: bool
    changes_total: int | None
    changes_found: int | None
    formatting_reported: int | None
    issues_total: int | None
    issues_surfaced: int | None
    flags_total: int | None
    false_flags: int | None
    event_id: str | None
    occurred_at: pd.Timestamp | None
    posted_at: pd.Timestamp | None
    latency_seconds: float | None


def _frame(rows: Sequence[Any], row_type: type) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in rows], columns=[f.name for f in fields(row_type)])


def _posted(layout: ws.Layout) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (ws.load_digest(layout, entry.digest_id), ws.load_audit(layout, entry.digest_id))
        for entry in ws.list_digests(layout)
    ]


def _carry_forward_present(digest: Mapping[str, Any]) -> bool:
    audit = digest.get("audit", {})
    # A first published revision has nothing to carry forward from; its header says so.
    first = digest.get("header", {}).get("baseline") is None
    return (
        (bool(digest.get("carried_forward")) or first)
        and bool(audit.get("as_of"))
        and bool(audit.get("snapshots"))
    )


def _event_times(sources: src_mod.DataSources) -> dict[str, pd.Timestamp | None]:
    feed = src_mod.load_feed(sources, strict=False)
    return {
        str(e): timestamp(t) for e, t in zip(feed["event_id"], feed["occurred_at"], strict=True)
    }


def _digest_metrics(
    digest: Mapping[str, Any],
    audit: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    reviewed: Sequence[_Reviewed],
    missed: int,
    match: GoldMatch | None,
    occurred: Mapping[str, pd.Timestamp | None],
) -> DigestMetrics:
    header = digest["header"]
    claims = rv.digest_claims(digest)
    unresolved = [
        c["id"] for c in claims if not any(resolve_source(s, sources) for s in c["sources"])
    ]
    verdicts = [r.verdict for r in reviewed]
    distances = [r.edit_distance for r in reviewed if r.edit_distance is not None]
    event_id = audit.get("event_id")
    event_at = timestamp((audit.get("event") or {}).get("occurred_at")) or (
        occurred.get(event_id) if event_id is not None else None
    )
    posted_at = timestamp(audit.get("posted_at") or audit.get("created_at"))
    latency = (posted_at - event_at).total_seconds() if event_at is not None and posted_at else None
    n_reviewed = len(verdicts)
    n_changed = sum(v != "accepted" for v in verdicts)
    carried = _carry_forward_present(digest)
    return DigestMetrics(
        digest_id=digest["digest_id"],
        runbook_id=header["runbook_id"],
        revision=header["revision"],
        published_at=timestamp(header.get("published_at")),
        state=audit.get("state", "draft"),
        claims=len(claims),
        unresolved_claims=len(unresolved),
        carry_forward_present=carried,
        provenance_complete=not unresolved and carried,
        reviewed=n_reviewed,
        corrected=verdicts.count("corrected"),
        rejected=verdicts.count("rejected"),
        missed=missed,
        correction_rate=rate(n_changed, n_reviewed),
        mean_edit_distance=sum(distances) / len(distances) if distances else None,
        missed_rate=rate(missed, n_reviewed + missed),
        reviewer_accepted=bool(verdicts) and "rejected" not in verdicts,
        scope_violations=len(check_digest(digest)),
        has_gold=match is not None,
        changes_total=len(match.changes) if match else None,
        changes_found=match.changes_found if match else None,
        formatting_reported=match.formatting_reported if match else None,
        issues_total=len(match.issues) if match else None,
        issues_surfaced=match.issues_surfaced if match else None,
        flags_total=len(match.flags) if match else None,
        false_flags=len(match.false_flags) if match else None,
        event_id=event_id,
        occurred_at=event_at,
        posted_at=posted_at,
        latency_seconds=latency,
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
    pass ``{}`` for none). ``period`` keeps revisions published in it (see :func:`parse_period`).
    With ``missing_ok`` a folder that is not (yet) a workspace evaluates as empty.
    """
    bounds = parse_period(period)
    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    root = Path(workspace)
    posted: list[tuple[dict[str, Any], dict[str, Any]]]
    if missing_ok and not (root / "digests").is_dir():
        posted = []
        reviews = pd.DataFrame(columns=list(rv.COLUMNS))
    else:
        layout = rv.workspace_layout(root)
        posted = _posted(layout)
        reviews = rv.load_reviews(layout)
    # Once a person has reviewed, the simulation's records would only blur their numbers.
    people = reviews["reviewer"].notna() & (reviews["reviewer"] != SIMULATED_REVIEWER)
    if people.any():
        reviews = reviews[people]
    posted = [(d, a) for d, a in posted if _in(timestamp(d["header"].get("published_at")), bounds)]
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    published = published[[_in(t, bounds) for t in published["published_at"]]]
    occurred = _event_times(sources)
    latest = rv.latest_verdicts(reviews)
    missed = reviews[reviews["verdict"] == "missed"]

    rows: list[DigestMetrics] = []
    reviewed: list[_Reviewed] = []
    missed_items: list[_InPart] = []
    claim_parts: list[_InPart] = []
    matches: list[GoldMatch] = []
    for digest, audit in posted:
        digest_id = digest["digest_id"]
        claims = rv.digest_claims(digest)
        by_id = {c["id"]: c for c in claims}
        claim_parts += [_InPart(digest_id, review_part(c["part"], c["kind"])) for c in claims]
        mine: list[_Reviewed] = []
        for r in latest[latest["digest_id"] == digest_id].itertuples():
            claim = by_id.get(r.claim_id)
            if claim is None:  # the digest was rebuilt without this claim: the verdict is void
                continue
            distance = (
                Levenshtein.normalized_distance(claim["text"], r.text)
                if r.verdict == "corrected"
                else None
            )
            part = review_part(claim["part"], claim["kind"])
            mine.append(_Reviewed(digest_id, part, r.verdict, distance))
        reviewed += mine
        my_missed = missed[missed["digest_id"] == digest_id]
        missed_items += [
            _InPart(digest_id, review_part(r.part, r.kind)) for r in my_missed.itertuples()
        ]
        entry = gold.get(digest_id)
        match = match_gold(digest, entry) if entry else None
        if match is not None:
            matches.append(match)
        rows.append(
            _digest_metrics(
                digest,
                audit,
                sources=sources,
                reviewed=mine,
                missed=len(my_missed),
                match=match,
                occurred=occurred,
            )
        )
    digests = _frame(rows, DigestMetrics)
    if len(digests):
        digests = digests.sort_values(["published_at", "digest_id"], kind="stable")
        digests = digests.reset_index(drop=True)
    reviewed_frame = _frame(reviewed, _Reviewed)
    missed_frame = _frame(missed_items, _InPart)
    corrections = _corrections(_frame(claim_parts, _InPart), reviewed_frame, missed_frame)
    surfacing = _surfacing(matches)
    published_ids = [f"{r.runbook_id}@{r.revision}" for r in published.itertuples()]
    complete = int(
        digests.loc[digests["digest_id"].isin(published_ids), "provenance_complete"].sum()
    )
    summary = _summary(
        digests, reviewed_frame, missed_frame, reviews, surfacing, matches, len(published), complete
    )
    return Evaluation(
        workspace=str(root),
        period=None if bounds is None else period,
        digests=digests,
        corrections=corrections,
        surfacing=surfacing,
        summary=summary,
    )


# --- breakdowns and the summary ----------------------------------------------------------------


@dataclass(frozen=True)
class PartCorrections:
    """One row of :attr:`Evaluation.corrections`: reviewer verdicts on one review part."""

    part: str
    claims: int
    reviewed: int
    accepted: int
    corrected: int
    rejected: int
    correction_rate: float | None
    mean_edit_distance: float | None
    missed: int
    missed_rate: float | None


@dataclass(frozen=True)
class KindSurfacing:
    """One row of :attr:`Evaluation.surfacing`: gold issues and flags of one issue kind."""

    issue_kind: str
    gold_issues: int
    surfaced: int
    recall: float | None
    flags: int
    false_flags: int
    false_flag_rate: float | None


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
            PartCorrections(
                part=part,
                claims=int((claim_parts["part"] == part).sum()),
                reviewed=n,
                accepted=int((mine["verdict"] == "accepted").sum()),
                corrected=corrected,
                rejected=rejected,
                correction_rate=rate(corrected + rejected, n),
                mean_edit_distance=float(distances.mean()) if len(distances) else None,
                missed=n_missed,
                missed_rate=rate(n_missed, n + n_missed),
            )
        )
    return _frame(rows, PartCorrections)


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
            KindSurfacing(
                issue_kind=kind,
                gold_issues=len(issues),
                surfaced=surfaced,
                recall=rate(surfaced, len(issues)),
                flags=len(flags),
                false_flags=false,
                false_flag_rate=rate(false, len(flags)),
            )
        )
    return _frame(rows, KindSurfacing)


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
            "completeness": rate(complete, n_published),
            "unresolved_claims": int(digests["unresolved_claims"].sum()),
        },
        "reviews": {
            "reviewers": reviewers,
            "simulated": SIMULATED_REVIEWER in reviewers,
            "reviewed_claims": n_reviewed,
            "corrected": corrected,
            "rejected": rejected,
            "correction_rate": rate(corrected + rejected, n_reviewed),
            "mean_edit_distance": float(distances.mean()) if len(distances) else None,
            "missed_items": len(missed),
            "missed_rate": rate(len(missed), n_reviewed + len(missed)),
        },
        "surfacing": {
            "digests_with_gold": len(matches),
            "gold_issues": issues,
            "surfaced": surfaced,
            "recall": rate(surfaced, issues),
            "flags": flags,
            "false_flags": false,
            "false_flag_rate": rate(false, flags),
            "gold_changes": changes,
            "changes_found": found,
            "change_recall": rate(found, changes),
            "formatting_only": sum(len(m.formatting) for m in matches),
            "formatting_reported": sum(m.formatting_reported for m in matches),
        },
        "scope": {
            "violations": int(digests["scope_violations"].sum()),
            "digests_with_violations": int((digests["scope_violations"] > 0).sum()),
            "reviewer_accepted_digests": len(accepted),
            "over_blocked": over_blocked,
            "over_block_rate": rate(over_blocked, len(accepted)),
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
