"""Quality metrics of the digests in a handoff workspace, against reviewer records and gold labels.

:func:`evaluate` computes, per digest and overall:

- **provenance completeness** — share of published revisions that have a digest in which every
  claim has at least one source that resolves (:func:`digestkit.resolve.resolve_source`) and the
  carry-forward context is present (a non-empty ``carried_forward`` part and an audit with
  ``as_of`` and snapshot hashes);
- **reviewer corrections** (from :mod:`digestkit.review`), for people and for the seeded
  simulation *apart* (:data:`REVIEW_SOURCES`; never mixed) — correction rate (corrected or
  rejected over reviewed claims), overall and per :data:`REVIEW_PARTS`; the normalized
  Levenshtein distance (rapidfuzz) between generated and corrected text; the missed-item rate;
  the usefulness ratings (:data:`digestkit.review.USEFULNESS_SCALE`);
- **surfacing** (where gold labels exist) — recall and false-flag rate per
  :data:`~digestkit.evaluation.gold.ISSUE_GROUPS` kind, with
  :func:`~digestkit.evaluation.gold.match_gold` deciding what matches, and whether each planted
  issue was surfaced before the first severity-one case needed it
  (:mod:`~digestkit.evaluation.timeliness`);
- **scope drift** — scope-guard violations per digest (:func:`digestkit.policy.check_digest`),
  and the guard's over-block rate on digests a person accepted (reviewed, nothing rejected);
- **latency** — from the runner's own records: pipeline latency (from when the event could be
  handled to the digest being posted) apart from backlog age (how long the event waited first).

:mod:`~digestkit.evaluation.headline` turns these into the four questions the report opens with.
:meth:`Evaluation.to_dict` is the JSON contract of ``digestkit evaluate --format json``
(``docs/evaluation-json.md``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd
from rapidfuzz.distance import Levenshtein

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.clock import as_utc, format_utc
from digestkit.evaluation import timeliness as tl
from digestkit.evaluation.gold import (
    ISSUE_KINDS,
    OPEN_PARTS,
    GoldMatch,
    issue_group,
    load_gold,
    match_gold,
)
from digestkit.evaluation.stats import Rate
from digestkit.exceptions import UsageError
from digestkit.fileio import read_jsonl
from digestkit.policy import check_digest
from digestkit.resolve import resolve_source
from digestkit.review import SIMULATED_REVIEWER, USEFUL_FROM
from digestkit.sample.writers import GENERATOR

__all__ = [
    "DIGEST_BRIEF",
    "REVIEW_PARTS",
    "REVIEW_SOURCES",
    "SCHEMA_VERSION",
    "SIMULATED_REVIEWER",
    "Bounds",
    "DigestMetrics",
    "Evaluation",
    "IssueTiming",
    "KindSurfacing",
    "PartCorrections",
    "ReviewPart",
    "ReviewSource",
    "evaluate_bounds",
    "format_value",
    "gold_source",
    "markdown_table",
    "parse_period",
    "rate",
    "records",
    "review_part",
    "timestamp",
]

SCHEMA_VERSION = 2

ReviewPart = Literal[
    "changed_steps", "entitlement_assumptions", "ownership_mappings", "carried_forward", "flags"
]
REVIEW_PARTS: tuple[ReviewPart, ...] = get_args(ReviewPart)
"""Parts the correction rate is broken down by: ``entitlement_assumptions`` are carried-forward
entitlement claims, ``carried_forward`` the other carried-forward claims (exceptions, unchanged
sections), ``flags`` includes open questions."""

ReviewSource = Literal["human", "simulated"]
REVIEW_SOURCES: tuple[ReviewSource, ...] = get_args(ReviewSource)
"""Whose reviews a number comes from: people's, or the seeded simulation's (never mixed)."""

DIGEST_BRIEF = (
    "digest_id",
    "published_at",
    "claims",
    "provenance_complete",
    "reviewed",
    "correction_rate",
    "usefulness",
    "issues_surfaced",
    "issues_total",
    "in_time",
    "tracked_issues",
    "scope_violations",
    "pipeline_seconds",
)
"""The per-digest columns a reader scans first."""


def review_part(part: str, kind: str | None) -> str:
    """The :data:`REVIEW_PARTS` entry a claim (or missed item) of ``part``/``kind`` counts under."""
    if kind in ("ownership_conflict", "ownership"):
        return "ownership_mappings"
    if kind == "entitlement_assumption":
        return "entitlement_assumptions"
    if part in OPEN_PARTS:
        return "flags"
    return part


def gold_source(sources: src_mod.DataSources) -> str | None:
    """``sample generator`` when the gold labels were written by the generator that planted the
    issues (``world.json`` says so), ``data`` for other gold labels, None without any."""
    if sources.gold is None:
        return None
    try:
        info = json.loads((sources.root / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "data"
    return (
        "sample generator"
        if isinstance(info, dict) and info.get("generator") == GENERATOR
        else "data"
    )


# --- plain values and tables -------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A metric as a table shows it: ``—`` for none, three decimals for a float."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
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
    """Every metric of a workspace: per digest, review part, issue kind and planted issue; the
    summary; and the :mod:`~digestkit.evaluation.headline` rows the report opens with."""

    workspace: str
    period: str | None
    digests: pd.DataFrame
    corrections: pd.DataFrame
    surfacing: pd.DataFrame
    issues: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    headline: pd.DataFrame = field(default_factory=pd.DataFrame)
    previous_period: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``digestkit evaluate --format json`` (docs/evaluation-json.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "workspace": self.workspace,
            "period": self.period,
            "previous_period": self.previous_period,
            "headline": records(self.headline),
            "summary": self.summary,
            "corrections_by_part": records(self.corrections),
            "surfacing_by_kind": records(self.surfacing),
            "issues": records(self.issues),
            "digests": records(self.digests),
        }

    def digest_brief(self) -> pd.DataFrame:
        """The per-digest columns of :data:`DIGEST_BRIEF`, in publication order."""
        return self.digests[[c for c in DIGEST_BRIEF if c in self.digests.columns]]

    def to_markdown(self) -> str:
        """The same numbers as Markdown tables, the four questions first."""
        from digestkit.evaluation.headline import headline_table

        title = f"# Evaluation of {self.workspace}" + (f" ({self.period})" if self.period else "")
        lines = [title, "", "## The four questions", "", markdown_table(headline_table(self))]
        simulated = self.summary.get("reviews", {}).get("simulated", {})
        if simulated.get("reviewed_claims") or simulated.get("rated_digests"):
            lines += [
                "",
                "### Simulated reviews (seeded simulation, not a person's judgement)",
                "",
                markdown_table(headline_table(self, simulated=True)),
            ]
        for title_, frame in (
            ("Corrections by part", self.corrections),
            ("Surfacing by issue kind", self.surfacing),
            ("Per digest", self.digest_brief()),
        ):
            lines += ["", f"## {title_}", "", markdown_table(frame)]
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
    # The latest verdict of one review source on one claim that is still in its digest.
    reviews: str
    digest_id: str
    part: str
    verdict: rv.ClaimVerdict
    edit_distance: float | None


@dataclass(frozen=True)
class _InPart:
    # A claim, or a missed item (of one review source), and the review part it counts under.
    reviews: str
    digest_id: str
    part: str


@dataclass(frozen=True)
class IssueTiming:
    """One row of :attr:`Evaluation.issues`: a planted issue of a digest and when it was needed."""

    digest_id: str
    runbook_id: str
    issue_kind: str
    group: str
    refs: str
    surfaced: bool
    published_at: pd.Timestamp | None
    posted_at: pd.Timestamp | None
    first_case_at: pd.Timestamp | None
    outcome: str | None


@dataclass(frozen=True)
class DigestMetrics:
    """One row of :attr:`Evaluation.digests` (review columns: people's; ``sim_``: simulated)."""

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
    usefulness: float | None
    sim_reviewed: int
    sim_correction_rate: float | None
    sim_missed: int
    sim_usefulness: float | None
    scope_violations: int
    has_gold: bool
    changes_total: int | None
    changes_found: int | None
    formatting_reported: int | None
    issues_total: int | None
    issues_surfaced: int | None
    flags_total: int | None
    false_flags: int | None
    tracked_issues: int | None
    in_time: int | None
    late: int | None
    event_id: str | None
    occurred_at: pd.Timestamp | None
    handled_at: pd.Timestamp | None
    posted_at: pd.Timestamp | None
    latency_seconds: float | None
    backlog_seconds: float | None
    pipeline_seconds: float | None


def _frame(rows: Sequence[Any], row_type: type) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in rows], columns=[f.name for f in fields(row_type)])


def _posted(layout: ws.Layout) -> list[tuple[dict[str, Any], ws.AuditRecord]]:
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


def _runner_free(layout: ws.Layout | None) -> dict[str, pd.Timestamp]:
    """Per digest built by the runner: when it finished the line before (``state/events.jsonl``).

    The runner handles feed lines one at a time, so it could start on an event no earlier than
    that. The first line a workspace ever handled has no record before it: it is left out.
    """
    if layout is None:
        return {}
    free: dict[str, pd.Timestamp] = {}
    previous: pd.Timestamp | None = None
    for record in read_jsonl(layout.events):
        digest_id = record.get("digest_id")
        built = record.get("status") == "processed" and record.get("event_type") in (
            None,
            "runbook.published",
        )
        if built and digest_id and previous is not None:
            free.setdefault(str(digest_id), previous)
        previous = timestamp(record.get("at")) or previous
    return free


def _seconds(later: pd.Timestamp | None, earlier: pd.Timestamp | None) -> float | None:
    return (later - earlier).total_seconds() if later is not None and earlier is not None else None


def _mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None


def _issue_timings(
    digest: Mapping[str, Any],
    match: GoldMatch,
    entry: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    cases: pd.DataFrame | None,
    posted_at: pd.Timestamp | None,
) -> list[IssueTiming]:
    header = digest["header"]
    published = timestamp(header.get("published_at"))
    rows = []
    for issue, matched in zip(entry.get("issues", []), match.issues, strict=True):
        first = None
        if cases is not None and published is not None:
            first = tl.first_case(tl.issue_scope(issue, sources), published, cases)
        surfaced = matched.surfaced
        outcome = (
            tl.issue_outcome(surfaced=surfaced, posted_at=posted_at, first_case_at=first)
            if cases is not None or not surfaced
            else None  # surfaced, but without the cases nobody can say whether in time
        )
        rows.append(
            IssueTiming(
                digest_id=digest["digest_id"],
                runbook_id=header["runbook_id"],
                issue_kind=matched.kind,
                group=issue_group(matched.kind),
                refs=", ".join(matched.refs),
                surfaced=surfaced,
                published_at=published,
                posted_at=posted_at,
                first_case_at=first,
                outcome=outcome,
            )
        )
    return rows


def _digest_metrics(
    digest: Mapping[str, Any],
    audit: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    reviewed: Sequence[_Reviewed],
    missed: Mapping[str, int],
    ratings: Mapping[str, Sequence[float]],
    match: GoldMatch | None,
    timings: Sequence[IssueTiming],
    occurred: Mapping[str, pd.Timestamp | None],
    free: Mapping[str, pd.Timestamp],
) -> DigestMetrics:
    header = digest["header"]
    claims = rv.digest_claims(digest)
    unresolved = [
        c["id"] for c in claims if not any(resolve_source(s, sources) for s in c["sources"])
    ]
    human = [r for r in reviewed if r.reviews == "human"]
    simulated = [r for r in reviewed if r.reviews == "simulated"]
    verdicts = [r.verdict for r in human]
    distances = [r.edit_distance for r in human if r.edit_distance is not None]
    event_id = audit.get("event_id")
    event_at = timestamp((audit.get("event") or {}).get("occurred_at")) or (
        occurred.get(event_id) if event_id is not None else None
    )
    posted_at = timestamp(audit.get("posted_at") or audit.get("created_at"))
    runner_free = free.get(digest["digest_id"])
    handled_at = (
        max(event_at, runner_free) if event_at is not None and runner_free is not None else None
    )
    tracked = [t for t in timings if t.issue_kind in tl.TIMELY_KINDS]
    carried = _carry_forward_present(digest)
    sim_changed = sum(r.verdict != "accepted" for r in simulated)
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
        reviewed=len(verdicts),
        corrected=verdicts.count("corrected"),
        rejected=verdicts.count("rejected"),
        missed=missed.get("human", 0),
        correction_rate=rate(sum(v != "accepted" for v in verdicts), len(verdicts)),
        mean_edit_distance=_mean(distances),
        missed_rate=rate(missed.get("human", 0), len(verdicts) + missed.get("human", 0)),
        reviewer_accepted=bool(verdicts) and "rejected" not in verdicts,
        usefulness=_mean(ratings.get("human", [])),
        sim_reviewed=len(simulated),
        sim_correction_rate=rate(sim_changed, len(simulated)),
        sim_missed=missed.get("simulated", 0),
        sim_usefulness=_mean(ratings.get("simulated", [])),
        scope_violations=len(check_digest(digest)),
        has_gold=match is not None,
        changes_total=len(match.changes) if match else None,
        changes_found=match.changes_found if match else None,
        formatting_reported=match.formatting_reported if match else None,
        issues_total=len(match.issues) if match else None,
        issues_surfaced=match.issues_surfaced if match else None,
        flags_total=len(match.flags) if match else None,
        false_flags=len(match.false_flags) if match else None,
        tracked_issues=len(tracked) if match else None,
        in_time=sum(t.outcome == "in_time" for t in tracked) if match else None,
        late=sum(t.outcome == "late" for t in tracked) if match else None,
        event_id=event_id,
        occurred_at=event_at,
        handled_at=handled_at,
        posted_at=posted_at,
        latency_seconds=_seconds(posted_at, event_at),
        backlog_seconds=_seconds(handled_at, event_at),
        pipeline_seconds=_seconds(posted_at, handled_at),
    )


def _source_of(reviewer: Any) -> str:
    return "simulated" if reviewer == SIMULATED_REVIEWER else "human"


def evaluate(
    workspace: str | Path,
    *,
    data: str | Path | src_mod.DataSources | None = None,
    gold: Mapping[str, Any] | None = None,
    period: str | None = None,
    missing_ok: bool = False,
    targets: Mapping[str, float] | None = None,
) -> Evaluation:
    """Compute every metric of the workspace's digests, and the headline against the previous
    period (:func:`digestkit.evaluation.headline.previous_period`).

    ``gold`` maps ``<runbook>@<rev>`` to gold entries (default: the data directory's gold labels;
    pass ``{}`` for none). ``period`` keeps revisions published in it (see :func:`parse_period`).
    With ``missing_ok`` a folder that is not (yet) a workspace evaluates as empty. ``targets``
    overrides entries of :data:`digestkit.evaluation.headline.TARGETS`.
    """
    from digestkit.evaluation import headline as hl

    bounds = parse_period(period)
    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    current = evaluate_bounds(
        workspace, sources=sources, gold=gold, bounds=bounds, missing_ok=missing_ok
    )
    current = replace(current, period=None if bounds is None else period)
    revisions = src_mod.load_revisions(sources)
    published = revisions.loc[revisions["status"] == "published", "published_at"]
    previous = hl.previous_period(period, bounds, published)
    before = (
        evaluate_bounds(
            workspace, sources=sources, gold=gold, bounds=previous[1], missing_ok=missing_ok
        )
        if previous is not None
        else None
    )
    return replace(
        current,
        headline=hl.headline(current, before, targets=targets),
        previous_period=previous[0] if previous is not None else None,
    )


def evaluate_bounds(
    workspace: str | Path,
    *,
    sources: src_mod.DataSources,
    gold: Mapping[str, Any],
    bounds: Bounds | None,
    missing_ok: bool = False,
) -> Evaluation:
    """Every metric of the digests of revisions published within ``bounds`` (None: all), without
    the headline; :func:`evaluate` is what callers want."""
    root = Path(workspace)
    posted: list[tuple[dict[str, Any], ws.AuditRecord]]
    layout: ws.Layout | None = None
    if missing_ok and not (root / "digests").is_dir():
        posted = []
        reviews = pd.DataFrame(columns=list(rv.COLUMNS))
    else:
        layout = rv.workspace_layout(root)
        posted = _posted(layout)
        reviews = rv.load_reviews(layout)
    reviews = reviews.assign(reviews=[_source_of(r) for r in reviews["reviewer"]])
    posted = [(d, a) for d, a in posted if _in(timestamp(d["header"].get("published_at")), bounds)]
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    published = published[[_in(t, bounds) for t in published["published_at"]]]
    occurred = _event_times(sources)
    free = _runner_free(layout)
    cases = tl.cases_of(sources)
    # The last verdict of each source: a person's verdict must not replace the simulation's.
    latest = pd.concat(
        [rv.latest_verdicts(reviews[reviews["reviews"] == source]) for source in REVIEW_SOURCES]
    )
    missed = reviews[reviews["verdict"] == "missed"]
    ratings = rv.latest_ratings(reviews)

    rows: list[DigestMetrics] = []
    reviewed: list[_Reviewed] = []
    missed_items: list[_InPart] = []
    claim_parts: list[_InPart] = []
    timings: list[IssueTiming] = []
    matches: list[GoldMatch] = []
    for digest, audit in posted:
        digest_id = digest["digest_id"]
        claims = rv.digest_claims(digest)
        by_id = {c["id"]: c for c in claims}
        claim_parts += [
            _InPart(source, digest_id, review_part(c["part"], c["kind"]))
            for c in claims
            for source in REVIEW_SOURCES
        ]
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
            mine.append(_Reviewed(str(r.reviews), digest_id, part, r.verdict, distance))
        reviewed += mine
        my_missed = missed[missed["digest_id"] == digest_id]
        missed_items += [
            _InPart(str(r.reviews), digest_id, review_part(str(r.part), r.kind))
            for r in my_missed.itertuples()
        ]
        my_ratings = ratings[ratings["digest_id"] == digest_id]
        entry = gold.get(digest_id)
        match = match_gold(digest, entry) if entry else None
        posted_at = timestamp(audit.get("posted_at") or audit.get("created_at"))
        mine_timed = (
            _issue_timings(digest, match, entry, sources=sources, cases=cases, posted_at=posted_at)
            if match is not None and entry is not None
            else []
        )
        timings += mine_timed
        if match is not None:
            matches.append(match)
        rows.append(
            _digest_metrics(
                digest,
                audit,
                sources=sources,
                reviewed=mine,
                missed={s: int((my_missed["reviews"] == s).sum()) for s in REVIEW_SOURCES},
                ratings={
                    s: [float(v) for v in my_ratings.loc[my_ratings["reviews"] == s, "rating"]]
                    for s in REVIEW_SOURCES
                },
                match=match,
                timings=mine_timed,
                occurred=occurred,
                free=free,
            )
        )
    digests = _frame(rows, DigestMetrics)
    if len(digests):
        digests = digests.sort_values(["published_at", "digest_id"], kind="stable")
        digests = digests.reset_index(drop=True)
    reviewed_frame = _frame(reviewed, _Reviewed)
    missed_frame = _frame(missed_items, _InPart)
    issues = _frame(timings, IssueTiming)
    corrections = _corrections(_frame(claim_parts, _InPart), reviewed_frame, missed_frame)
    surfacing = _surfacing(matches, issues)
    published_ids = [f"{r.runbook_id}@{r.revision}" for r in published.itertuples()]
    complete = int(
        digests.loc[digests["digest_id"].isin(published_ids), "provenance_complete"].sum()
    )
    posted_ids = set(digests["digest_id"])
    rated = ratings[ratings["digest_id"].isin(posted_ids)]
    summary = {
        "provenance": _provenance(digests, len(published), complete),
        "reviews": {
            source: _reviews(
                reviewed_frame[reviewed_frame["reviews"] == source],
                missed_frame[missed_frame["reviews"] == source],
                reviews[reviews["reviews"] == source],
                rated[rated["reviews"] == source],
            )
            for source in REVIEW_SOURCES
        },
        "surfacing": _surfacing_summary(surfacing, matches, issues, sources, cases is not None),
        "scope": _scope(digests),
        "latency": _latency(digests),
    }
    return Evaluation(
        workspace=str(root),
        period=None,
        digests=digests,
        corrections=corrections,
        surfacing=surfacing,
        issues=issues,
        summary=summary,
    )


# --- breakdowns and the summary ----------------------------------------------------------------


@dataclass(frozen=True)
class PartCorrections:
    """One row of :attr:`Evaluation.corrections`: one review source's verdicts on one part."""

    reviews: str
    part: str
    claims: int
    reviewed: int
    accepted: int
    corrected: int
    rejected: int
    correction_rate: float | None
    ci_low: float | None
    ci_high: float | None
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
    ci_low: float | None
    ci_high: float | None
    flags: int
    false_flags: int
    false_flag_rate: float | None
    in_time: int
    late: int
    missed: int


def _interval(k: int, n: int) -> tuple[float | None, float | None]:
    return Rate(k, n).interval or (None, None)


def _corrections(
    claim_parts: pd.DataFrame, reviewed: pd.DataFrame, missed: pd.DataFrame
) -> pd.DataFrame:
    rows = []
    for source in REVIEW_SOURCES:
        for part in REVIEW_PARTS:
            mine = reviewed[(reviewed["reviews"] == source) & (reviewed["part"] == part)]
            n = len(mine)
            corrected = int((mine["verdict"] == "corrected").sum())
            rejected = int((mine["verdict"] == "rejected").sum())
            n_missed = int(((missed["reviews"] == source) & (missed["part"] == part)).sum())
            distances = mine["edit_distance"].dropna()
            lo, hi = _interval(corrected + rejected, n)
            rows.append(
                PartCorrections(
                    reviews=source,
                    part=part,
                    claims=int(
                        ((claim_parts["reviews"] == source) & (claim_parts["part"] == part)).sum()
                    ),
                    reviewed=n,
                    accepted=int((mine["verdict"] == "accepted").sum()),
                    corrected=corrected,
                    rejected=rejected,
                    correction_rate=rate(corrected + rejected, n),
                    ci_low=lo,
                    ci_high=hi,
                    mean_edit_distance=float(distances.mean()) if len(distances) else None,
                    missed=n_missed,
                    missed_rate=rate(n_missed, n + n_missed),
                )
            )
    return _frame(rows, PartCorrections)


def _surfacing(matches: Sequence[GoldMatch], issues: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for kind in ISSUE_KINDS:
        gold_issues = [i for m in matches for i in m.issues if i.group == kind]
        flags = [f for m in matches for f in m.flags if f.group == kind]
        surfaced = sum(i.surfaced for i in gold_issues)
        false = sum(not f.matched for f in flags)
        if not gold_issues and not flags and kind == "unknown_reference":
            continue  # not a planted kind: only shown when it occurs
        outcomes = issues.loc[issues["group"] == kind, "outcome"]
        lo, hi = _interval(surfaced, len(gold_issues))
        rows.append(
            KindSurfacing(
                issue_kind=kind,
                gold_issues=len(gold_issues),
                surfaced=surfaced,
                recall=rate(surfaced, len(gold_issues)),
                ci_low=lo,
                ci_high=hi,
                flags=len(flags),
                false_flags=false,
                false_flag_rate=rate(false, len(flags)),
                in_time=int((outcomes == "in_time").sum()),
                late=int((outcomes == "late").sum()),
                missed=int((outcomes == "missed").sum()),
            )
        )
    return _frame(rows, KindSurfacing)


def _provenance(digests: pd.DataFrame, n_published: int, complete: int) -> dict[str, Any]:
    lo, hi = _interval(complete, n_published)
    return {
        "published_revisions": n_published,
        "digests": len(digests),
        "complete": complete,
        "completeness": rate(complete, n_published),
        "ci_low": lo,
        "ci_high": hi,
        "unresolved_claims": int(digests["unresolved_claims"].sum()),
    }


def _reviews(
    reviewed: pd.DataFrame, missed: pd.DataFrame, records_: pd.DataFrame, rated: pd.DataFrame
) -> dict[str, Any]:
    n_reviewed = len(reviewed)
    corrected = int((reviewed["verdict"] == "corrected").sum())
    rejected = int((reviewed["verdict"] == "rejected").sum())
    distances = reviewed["edit_distance"].dropna()
    lo, hi = _interval(corrected + rejected, n_reviewed)
    per_digest = rated.groupby("digest_id")["rating"].mean() if len(rated) else pd.Series()
    useful = int((per_digest >= USEFUL_FROM).sum())
    useful_lo, useful_hi = _interval(useful, len(per_digest))
    return {
        "reviewers": sorted(set(records_["reviewer"].dropna())),
        "reviewed_claims": n_reviewed,
        "corrected": corrected,
        "rejected": rejected,
        "correction_rate": rate(corrected + rejected, n_reviewed),
        "ci_low": lo,
        "ci_high": hi,
        "mean_edit_distance": float(distances.mean()) if len(distances) else None,
        "missed_items": len(missed),
        "missed_rate": rate(len(missed), n_reviewed + len(missed)),
        "rated_digests": len(per_digest),
        "mean_usefulness": float(per_digest.mean()) if len(per_digest) else None,
        "useful_digests": useful,
        "useful_share": rate(useful, len(per_digest)),
        "useful_ci_low": useful_lo,
        "useful_ci_high": useful_hi,
    }


def _surfacing_summary(
    surfacing: pd.DataFrame,
    matches: Sequence[GoldMatch],
    issues: pd.DataFrame,
    sources: src_mod.DataSources,
    cases_available: bool,
) -> dict[str, Any]:
    n_issues = int(surfacing["gold_issues"].sum())
    surfaced = int(surfacing["surfaced"].sum())
    flags = int(surfacing["flags"].sum())
    false = int(surfacing["false_flags"].sum())
    changes = sum(len(m.changes) for m in matches)
    found = sum(m.changes_found for m in matches)
    tracked = issues[issues["issue_kind"].isin(tl.TIMELY_KINDS)]
    known = tracked[tracked["outcome"].notna()]
    in_time = int((known["outcome"] == "in_time").sum())
    lo, hi = _interval(in_time, len(known))
    return {
        "gold_source": gold_source(sources),
        "digests_with_gold": len(matches),
        "gold_issues": n_issues,
        "surfaced": surfaced,
        "recall": rate(surfaced, n_issues),
        "flags": flags,
        "false_flags": false,
        "false_flag_rate": rate(false, flags),
        "gold_changes": changes,
        "changes_found": found,
        "change_recall": rate(found, changes),
        "formatting_only": sum(len(m.formatting) for m in matches),
        "formatting_reported": sum(m.formatting_reported for m in matches),
        "cases_available": cases_available,
        "tracked_issues": len(known),
        "in_time": in_time,
        "late": int((known["outcome"] == "late").sum()),
        "missed": int((known["outcome"] == "missed").sum()),
        "in_time_rate": rate(in_time, len(known)),
        "in_time_ci_low": lo,
        "in_time_ci_high": hi,
    }


def _scope(digests: pd.DataFrame) -> dict[str, Any]:
    accepted = digests[digests["reviewer_accepted"].astype(bool)]
    over_blocked = int((accepted["scope_violations"] > 0).sum())
    drifted = int((digests["scope_violations"] > 0).sum())
    lo, hi = _interval(drifted, len(digests))
    return {
        "violations": int(digests["scope_violations"].sum()),
        "digests_with_violations": drifted,
        "drift_rate": rate(drifted, len(digests)),
        "ci_low": lo,
        "ci_high": hi,
        "reviewer_accepted_digests": len(accepted),
        "over_blocked": over_blocked,
        "over_block_rate": rate(over_blocked, len(accepted)),
    }


def _quantile(series: pd.Series, q: float) -> float | None:
    return float(series.quantile(q)) if len(series) else None


def _latency(digests: pd.DataFrame) -> dict[str, Any]:
    pipeline = digests["pipeline_seconds"].dropna().astype(float)
    backlog = digests["backlog_seconds"].dropna().astype(float)
    end_to_end = digests["latency_seconds"].dropna().astype(float)
    out: dict[str, Any] = {}
    for key, series in (("pipeline", pipeline), ("backlog", backlog), ("end_to_end", end_to_end)):
        out[f"{key}_digests"] = len(series)
        out[f"{key}_p50_seconds"] = _quantile(series, 0.5)
        out[f"{key}_p95_seconds"] = _quantile(series, 0.95)
        out[f"{key}_max_seconds"] = float(series.max()) if len(series) else None
    return {**out, "note": _latency_note(backlog)}


def _latency_note(backlog: pd.Series) -> str | None:
    # Events that waited over a day were a historical feed or a backlog, not the pipeline's doing.
    if len(backlog) and backlog.max() > 86400:
        return (
            "some events waited more than a day before the runner could handle them (a "
            "historical feed or a backlog): that wait is backlog age, not pipeline latency"
        )
    return None
