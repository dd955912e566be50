"""Batch replay: rebuild digests of published revision pairs in-process and score them on gold.

What ``digestkit evaluate --replay`` runs — every pair of :func:`published_pairs` — with no
workspace and no reviewer, only the digest builder and
:func:`~digestkit.evaluation.gold.match_gold`. :func:`replay_plan` gives any number of distinct
``(pair, as_of)`` items with distinct as-of times, for benchmarks that must not replay the same
digest twice.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
from tqdm.auto import tqdm

from digestkit import minimize
from digestkit import review as rv
from digestkit import sources as src_mod
from digestkit.clock import format_utc
from digestkit.digest import build_digest
from digestkit.evaluation.gold import gold_counts, load_gold, match_gold
from digestkit.evaluation.metrics import SCHEMA_VERSION
from digestkit.evaluation.tables import format_value, markdown_table, rate, records, timestamp
from digestkit.exceptions import SourceError, UsageError

__all__ = [
    "REPLAY_COLUMNS",
    "ReplayPair",
    "ReplayRow",
    "published_pairs",
    "replay",
    "replay_markdown",
    "replay_plan",
    "replay_records",
    "replay_summary",
]


class ReplayPair(NamedTuple):
    """One digest to rebuild: a revision, its baseline (None: the previous published one) and
    the time to read the sources at (None: the revision's publication)."""

    runbook_id: str
    revision: str
    baseline: str | None = None
    as_of: str | None = None


def _published(sources: src_mod.DataSources) -> pd.DataFrame:
    revisions = src_mod.load_revisions(sources)
    published = revisions[revisions["status"] == "published"]
    return published.sort_values(["runbook_id", "seq"], kind="stable")


def published_pairs(data: str | Path | src_mod.DataSources | None = None) -> list[ReplayPair]:
    """Every pair of published revisions of one runbook, the baseline published earlier; a
    runbook's first published revision on its own (no baseline). Runbook, then revision order."""
    published = _published(src_mod.open_sources(data))
    pairs = []
    for _, revs in published.groupby("runbook_id", sort=False):
        ids = [str(r) for r in revs["revision"]]
        runbook = str(revs["runbook_id"].iloc[0])
        pairs.append(ReplayPair(runbook, ids[0]))
        pairs += [ReplayPair(runbook, new, old) for i, new in enumerate(ids) for old in ids[:i]]
    return pairs


def replay_plan(
    data: str | Path | src_mod.DataSources | None = None, count: int = 200
) -> list[ReplayPair]:
    """``count`` distinct items over the :func:`published_pairs` that have a baseline, each with
    its own as-of time: the pairs in turn, the n-th read n minutes after the revision's
    publication (moved on by a second while another item already has that time)."""
    sources = src_mod.open_sources(data)
    pairs = [p for p in published_pairs(sources) if p.baseline is not None]
    if not pairs:
        raise SourceError("no runbook has two published revisions to replay", path=sources.root)
    published = _published(sources)
    at: dict[tuple[str, str], pd.Timestamp] = {}
    for runbook_id, revision, published_at in zip(
        published["runbook_id"], published["revision"], published["published_at"], strict=True
    ):
        when = timestamp(published_at)
        if when is not None:  # the runbook loader requires it of a published revision
            at[(str(runbook_id), str(revision))] = when
    used: set[pd.Timestamp] = set()
    plan = []
    for n in range(count):
        pair = pairs[n % len(pairs)]
        when = at[(pair.runbook_id, pair.revision)] + pd.Timedelta(minutes=n + 1)
        while when in used:
            when += pd.Timedelta(seconds=1)
        used.add(when)
        plan.append(pair._replace(as_of=format_utc(when)))
    return plan


def _as_pair(item: Sequence[str | None]) -> ReplayPair:
    runbook_id, revision = (item[0], item[1]) if len(item) >= 2 else (None, None)
    if runbook_id is None or revision is None or len(item) > 4:
        raise UsageError(
            f"replay pair {tuple(item)!r} is not (runbook_id, revision[, baseline[, as_of]])"
        )
    return ReplayPair(runbook_id, revision, *item[2:])


@dataclass(frozen=True)
class ReplayRow:
    """One digest of a :func:`replay`: its size and, with a gold entry, how it scores."""

    digest_id: str
    baseline: str | None
    as_of: str
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

    ``pairs`` are :class:`ReplayPair` items or tuples ``(runbook_id, revision[, baseline[,
    as_of]])``; the default is every :func:`published_pairs` item. A gold entry is used only
    when its baseline and as-of time are the digest's: the labels describe that digest only.
    ``seconds`` is the wall time of building that digest.
    """
    sources = src_mod.open_sources(data)
    gold = load_gold(sources) if gold is None else dict(gold)
    todo = [_as_pair(p) for p in (published_pairs(sources) if pairs is None else pairs)]
    # The screen asks the CRM once about every word of the texts replayed, not once per digest
    # that brings a new word (each such question scans the CRM's name columns).
    revisions = src_mod.load_revisions(sources)
    wanted = {(p.runbook_id, r) for p in todo for r in (p.revision, p.baseline) if r}
    keys = zip(revisions["runbook_id"], revisions["revision"], strict=True)
    texts = revisions.loc[[key in wanted for key in keys], ["text", "title", "change_reason"]]
    minimize.prefetch([v for v in texts.to_numpy().ravel() if isinstance(v, str)], sources)
    rows = []
    try:
        for pair in tqdm(todo, disable=not progress, desc="replay", unit="digest"):
            rows.append(_replay_one(pair, sources, gold))
    finally:
        gc.unfreeze()
    return pd.DataFrame([asdict(r) for r in rows], columns=list(REPLAY_COLUMNS))


def _replay_one(
    pair: ReplayPair, sources: src_mod.DataSources, gold: Mapping[str, Any]
) -> ReplayRow:
    # What earlier digests left (the caches of sources, parses and contexts) is frozen, so the
    # collector's full passes scan only what this digest makes: about twenty passes over the
    # whole heap cost a quarter of a 200-pair replay. `replay` unfreezes it at the end.
    gc.freeze()
    start = time.perf_counter()
    digest = build_digest(
        pair.runbook_id, pair.revision, baseline=pair.baseline, as_of=pair.as_of, data=sources
    ).to_dict()
    seconds = time.perf_counter() - start
    header = digest["header"]
    entry = gold.get(digest["digest_id"])
    if entry is not None and (
        entry.get("baseline") != header["baseline"]
        or timestamp(entry.get("as_of") or header["as_of"]) != timestamp(header["as_of"])
    ):
        entry = None
    match = match_gold(digest, entry) if entry is not None else None
    return ReplayRow(
        digest_id=digest["digest_id"],
        baseline=header["baseline"],
        as_of=format_utc(timestamp(header["as_of"]) or pd.Timestamp(0, tz="UTC")),
        claims=len(rv.digest_claims(digest)),
        changed_steps=len(digest["changed_steps"]),
        flags=len(digest["flags"]) + len(digest["open_questions"]),
        **gold_counts(match),
        seconds=seconds,
    )


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
        "# Replay of published revision pairs\n\n"
        + markdown_table(totals)
        + "\n\n## Per digest\n\n"
        + markdown_table(frame)
        + "\n"
    )
