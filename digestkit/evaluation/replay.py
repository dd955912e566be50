"""Batch replay: rebuild every published revision's digest in-process and score it against gold.

What ``digestkit evaluate --replay`` runs: no workspace and no reviewer, only the digest builder
and :func:`~digestkit.evaluation.gold.match_gold`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit.digest import build_digest
from digestkit.evaluation.gold import load_gold, match_gold
from digestkit.evaluation.metrics import SCHEMA_VERSION, format_value, markdown_table, rate, records

__all__ = [
    "REPLAY_COLUMNS",
    "ReplayRow",
    "replay",
    "replay_markdown",
    "replay_records",
    "replay_summary",
]


@dataclass(frozen=True)
class ReplayRow:
    """One digest of a :func:`replay`: its size and, with a gold entry, how it scores."""

    digest_id: str
    baseline: str | None
    claims: int
    changed_steps: int
    flags: int
    has_gold: bool
    changes_total: int | None
    changes_found: int | None
    formatting_reported: int | None
    issues_total: int | None
    issues_surfaced: int | None
    false_flags: int | None
    seconds: float


REPLAY_COLUMNS = tuple(f.name for f in fields(ReplayRow))


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
    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    todo: list[Sequence[str | None]]
    if pairs is None:
        revisions = src_mod.load_revisions(sources)
        published = revisions[revisions["status"] == "published"]
        todo = [(str(r.runbook_id), str(r.revision)) for r in published.itertuples()]
    else:
        todo = list(pairs)
    rows = []
    for pair in tqdm(todo, disable=not progress, desc="replay", unit="digest"):
        runbook_id, revision, baseline = (*pair, None)[:3]
        start = time.perf_counter()
        digest = build_digest(runbook_id, revision, baseline=baseline, data=sources).to_dict()
        seconds = time.perf_counter() - start
        entry = gold.get(digest["digest_id"])
        if entry is not None and entry.get("baseline") != digest["header"]["baseline"]:
            entry = None
        match = match_gold(digest, entry) if entry is not None else None
        rows.append(
            ReplayRow(
                digest_id=digest["digest_id"],
                baseline=digest["header"]["baseline"],
                claims=len(rv.digest_claims(digest)),
                changed_steps=len(digest["changed_steps"]),
                flags=len(digest["flags"]) + len(digest["open_questions"]),
                has_gold=match is not None,
                changes_total=len(match.changes) if match else None,
                changes_found=match.changes_found if match else None,
                formatting_reported=match.formatting_reported if match else None,
                issues_total=len(match.issues) if match else None,
                issues_surfaced=match.issues_surfaced if match else None,
                false_flags=len(match.false_flags) if match else None,
                seconds=seconds,
            )
        )
    return pd.DataFrame([asdict(r) for r in rows], columns=list(REPLAY_COLUMNS))


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
        "change_recall": rate(found, changes),
        "formatting_reported": int(scored["formatting_reported"].sum()),
        "gold_issues": issues,
        "issues_surfaced": surfaced,
        "issue_recall": rate(surfaced, issues),
        "flags": flags,
        "false_flags": false,
        "false_flag_rate": rate(false, flags),
        "median_seconds": float(frame["seconds"].median()) if len(frame) else None,
    }


def replay_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a :func:`replay` frame as plain JSON objects."""
    return records(frame)


def replay_markdown(frame: pd.DataFrame) -> str:
    """A :func:`replay` frame and its summary as Markdown tables."""
    summary = replay_summary(frame)
    totals = pd.DataFrame(
        [
            {"metric": k, "value": format_value(v)}
            for k, v in summary.items()
            if k != "schema_version"
        ]
    )
    return (
        "# Replay of every published revision\n\n"
        + markdown_table(totals)
        + "\n\n## Per digest\n\n"
        + markdown_table(frame)
        + "\n"
    )
