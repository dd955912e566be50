"""A seeded, clearly labelled simulated reviewer, so the report has numbers before a person reviews.

:func:`simulate_reviews` judges every digest against the gold labels (what a careful reviewer
would reject or add) and rewords a few claims at random (what reviewers do to generated text).
Its records carry :data:`~digestkit.review.SIMULATED_REVIEWER`; :func:`~.metrics.evaluate` sets
them aside once a person has reviewed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit import workspace as ws
from digestkit.clock import format_utc
from digestkit.evaluation.corrections import review_part
from digestkit.evaluation.gold import IssueMatch, load_gold, match_gold
from digestkit.evaluation.tables import timestamp
from digestkit.exceptions import SourceError
from digestkit.index import list_digests
from digestkit.resolve import SourceRef
from digestkit.review import SIMULATED_REVIEWER

__all__ = ["CORRECTION_ODDS", "simulate_reviews"]

CORRECTION_ODDS: dict[str, float] = {
    "changed_steps": 0.15,
    "entitlement_assumptions": 0.08,
    "ownership_mappings": 0.10,
    "carried_forward": 0.08,
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


def _missed_source(issue: IssueMatch, digest_id: str) -> SourceRef:
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


def _lines(span: tuple[int, int] | None, digest_id: str) -> tuple[int, int]:
    # A missed item must point the reviewer somewhere: a gold entry without lines cannot.
    if span is None:
        raise SourceError(f"gold entry {digest_id}: an issue or change has no lines", field="lines")
    return span


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
    :data:`_EDITS`). Each digest is rated on the usefulness scale by :func:`_usefulness`. Returns
    the records written. Everything is marked with ``reviewer``, and the report shows simulated
    reviews apart from people's.
    """
    layout = rv.workspace_layout(workspace)
    gold = load_gold(data) if gold is None else dict(gold)
    existing = rv.load_reviews(layout)
    done = set(existing.loc[existing["reviewer"] == reviewer, "digest_id"])
    written: list[rv.ReviewRecord] = []
    for entry in sorted(list_digests(layout), key=lambda e: e.digest_id):
        digest_id = entry.digest_id
        if digest_id in done:
            continue
        digest = ws.load_digest(layout, digest_id)
        rng = random.Random(f"{seed}:{digest_id}")
        match = match_gold(digest, gold[digest_id]) if digest_id in gold else None
        false_flags = {f.claim_id for f in match.false_flags} if match else set()
        on_formatting = {i for c in match.formatting for i in c.claim_ids} if match else set()
        moment = timestamp(digest["header"].get("published_at")) or pd.Timestamp(
            "2000-01-01", tz="UTC"
        )

        def at(rng: random.Random = rng) -> str:
            nonlocal moment
            moment += pd.Timedelta(minutes=rng.randint(2, 15))
            return format_utc(moment)

        for claim in rv.digest_claims(digest):
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
            what = ", ".join(issue.refs) or "lines {}-{}".format(*_lines(issue.lines, digest_id))
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
            lines = _lines(change.old_lines if removed else change.new_lines, digest_id)
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
        judged = [r for r in written if r["digest_id"] == digest_id]
        written.append(
            rv.add_usefulness(
                layout,
                digest_id,
                rating=_usefulness(judged),
                reviewer=reviewer,
                at=at(),
                simulated=True,
            )
        )
    return pd.DataFrame(written, columns=list(rv.COLUMNS))


def _usefulness(judged: list[rv.ReviewRecord]) -> int:
    """5, less one per rejected claim or missed item, never below 1: a digest that needed no
    fixing settled the handoff; each wrong or missing item left a question open."""
    wrong = sum(r["verdict"] in ("rejected", "missed") for r in judged)
    return max(1, 5 - wrong)
