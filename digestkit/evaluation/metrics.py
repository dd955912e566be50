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

Each concern has its own module: :mod:`~digestkit.evaluation.periods` (``--period``),
:mod:`~digestkit.evaluation.corrections`, :mod:`~digestkit.evaluation.surfacing`,
:mod:`~digestkit.evaluation.latency` and :mod:`~digestkit.evaluation.tables` (plain values, JSON
rows, Markdown); this module builds the per-digest rows and the summary from them.
:mod:`~digestkit.evaluation.headline` turns these into the four questions the report opens with.
:meth:`Evaluation.to_dict` is the JSON contract of ``digestkit evaluate --format json``
(``docs/evaluation-json.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from rapidfuzz.distance import Levenshtein

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.evaluation import headline as hl
from digestkit.evaluation import timeliness as tl
from digestkit.evaluation.corrections import (
    REVIEW_PARTS,
    REVIEW_SOURCES,
    InPart,
    PartCorrections,
    Reviewed,
    ReviewPart,
    ReviewSource,
    corrections_by_part,
    review_part,
    review_source,
    review_summary,
)
from digestkit.evaluation.gold import GoldMatch, gold_counts, load_gold, match_gold
from digestkit.evaluation.latency import (
    event_times,
    latency_summary,
    runner_free,
    seconds_between,
)
from digestkit.evaluation.periods import Bounds, in_period, parse_period
from digestkit.evaluation.surfacing import (
    IssueTiming,
    KindSurfacing,
    gold_source,
    issue_timings,
    surfacing_by_kind,
    surfacing_summary,
)
from digestkit.evaluation.tables import (
    format_value,
    frame_of,
    interval,
    markdown_table,
    rate,
    records,
    timestamp,
)
from digestkit.index import list_digests
from digestkit.policy import check_digest
from digestkit.resolve import resolve_source
from digestkit.review import SIMULATED_REVIEWER

# The names that moved to the sibling modules in the split stay importable from here too.
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
    "evaluate",
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
        title = f"# Evaluation of {self.workspace}" + (f" ({self.period})" if self.period else "")
        lines = [title, "", "## The four questions", "", markdown_table(hl.headline_table(self))]
        simulated = self.summary.get("reviews", {}).get("simulated", {})
        if simulated.get("reviewed_claims") or simulated.get("rated_digests"):
            lines += [
                "",
                "### Simulated reviews (seeded simulation, not a person's judgement)",
                "",
                markdown_table(hl.headline_table(self, simulated=True)),
            ]
        for title_, frame in (
            ("Corrections by part", self.corrections),
            ("Surfacing by issue kind", self.surfacing),
            ("Per digest", self.digest_brief()),
        ):
            lines += ["", f"## {title_}", "", markdown_table(frame)]
        return "\n".join(lines) + "\n"


# --- per-digest rows ---------------------------------------------------------------------------


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


def _posted(layout: ws.Layout) -> list[tuple[dict[str, Any], ws.AuditRecord]]:
    return [
        (ws.load_digest(layout, entry.digest_id), ws.load_audit(layout, entry.digest_id))
        for entry in list_digests(layout)
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


def _mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None


def _digest_metrics(
    digest: Mapping[str, Any],
    audit: Mapping[str, Any],
    *,
    sources: src_mod.DataSources,
    reviewed: Sequence[Reviewed],
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
        **gold_counts(match),
        flags_total=len(match.flags) if match else None,
        tracked_issues=len(tracked) if match else None,
        in_time=sum(t.outcome == "in_time" for t in tracked) if match else None,
        late=sum(t.outcome == "late" for t in tracked) if match else None,
        event_id=event_id,
        occurred_at=event_at,
        handled_at=handled_at,
        posted_at=posted_at,
        latency_seconds=seconds_between(posted_at, event_at),
        backlog_seconds=seconds_between(handled_at, event_at),
        pipeline_seconds=seconds_between(posted_at, handled_at),
    )


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
    reviews = reviews.assign(reviews=[review_source(r) for r in reviews["reviewer"]])
    posted = [
        (d, a) for d, a in posted if in_period(timestamp(d["header"].get("published_at")), bounds)
    ]
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    published = published[[in_period(t, bounds) for t in published["published_at"]]]
    occurred = event_times(sources)
    free = runner_free(layout)
    cases = tl.cases_of(sources)
    # The last verdict of each source: a person's verdict must not replace the simulation's.
    latest = pd.concat(
        [rv.latest_verdicts(reviews[reviews["reviews"] == source]) for source in REVIEW_SOURCES]
    )
    missed = reviews[reviews["verdict"] == "missed"]
    ratings = rv.latest_ratings(reviews)

    rows: list[DigestMetrics] = []
    reviewed: list[Reviewed] = []
    missed_items: list[InPart] = []
    claim_parts: list[InPart] = []
    timings: list[IssueTiming] = []
    matches: list[GoldMatch] = []
    for digest, audit in posted:
        digest_id = digest["digest_id"]
        claims = rv.digest_claims(digest)
        by_id = {c["id"]: c for c in claims}
        claim_parts += [
            InPart(source, digest_id, review_part(c["part"], c["kind"]))
            for c in claims
            for source in REVIEW_SOURCES
        ]
        mine: list[Reviewed] = []
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
            mine.append(Reviewed(str(r.reviews), digest_id, part, r.verdict, distance))
        reviewed += mine
        my_missed = missed[missed["digest_id"] == digest_id]
        missed_items += [
            InPart(str(r.reviews), digest_id, review_part(str(r.part), r.kind))
            for r in my_missed.itertuples()
        ]
        my_ratings = ratings[ratings["digest_id"] == digest_id]
        entry = gold.get(digest_id)
        match = match_gold(digest, entry) if entry else None
        posted_at = timestamp(audit.get("posted_at") or audit.get("created_at"))
        mine_timed = (
            issue_timings(digest, match, entry, sources=sources, cases=cases, posted_at=posted_at)
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
    digests = frame_of(rows, DigestMetrics)
    if len(digests):
        digests = digests.sort_values(["published_at", "digest_id"], kind="stable")
        digests = digests.reset_index(drop=True)
    reviewed_frame = frame_of(reviewed, Reviewed)
    missed_frame = frame_of(missed_items, InPart)
    issues = frame_of(timings, IssueTiming)
    corrections = corrections_by_part(frame_of(claim_parts, InPart), reviewed_frame, missed_frame)
    surfacing = surfacing_by_kind(matches, issues)
    published_ids = [f"{r.runbook_id}@{r.revision}" for r in published.itertuples()]
    complete = int(
        digests.loc[digests["digest_id"].isin(published_ids), "provenance_complete"].sum()
    )
    posted_ids = set(digests["digest_id"])
    rated = ratings[ratings["digest_id"].isin(posted_ids)]
    summary = {
        "provenance": _provenance(digests, len(published), complete),
        "reviews": {
            source: review_summary(
                reviewed_frame[reviewed_frame["reviews"] == source],
                missed_frame[missed_frame["reviews"] == source],
                reviews[reviews["reviews"] == source],
                rated[rated["reviews"] == source],
            )
            for source in REVIEW_SOURCES
        },
        "surfacing": surfacing_summary(surfacing, matches, issues, sources, cases is not None),
        "scope": _scope(digests),
        "latency": latency_summary(digests),
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


# --- the summary -------------------------------------------------------------------------------


def _provenance(digests: pd.DataFrame, n_published: int, complete: int) -> dict[str, Any]:
    lo, hi = interval(complete, n_published)
    return {
        "published_revisions": n_published,
        "digests": len(digests),
        "complete": complete,
        "completeness": rate(complete, n_published),
        "ci_low": lo,
        "ci_high": hi,
        "unresolved_claims": int(digests["unresolved_claims"].sum()),
    }


def _scope(digests: pd.DataFrame) -> dict[str, Any]:
    accepted = digests[digests["reviewer_accepted"].astype(bool)]
    over_blocked = int((accepted["scope_violations"] > 0).sum())
    drifted = int((digests["scope_violations"] > 0).sum())
    lo, hi = interval(drifted, len(digests))
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
