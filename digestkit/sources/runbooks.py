"""The runbook repository as pandas tables: the records of :mod:`~digestkit.sources.revisions`.

The ``revisions`` table (see ``SCHEMAS``) has one row per readable revision; files that cannot be
read are :class:`RevisionProblem` (left out and reported, every other revision still loads).
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.revisions import (
    Repository,
    RevisionProblem,
    read_repository,
    read_revision,
    revision_problems,
    revision_states,
)
from digestkit.sources.schema import SCHEMAS
from digestkit.sources.validate import TimeLike, coerce, utc_timestamp

__all__ = [
    "RevisionProblem",
    "get_revision",
    "load_revisions",
    "revision_history",
    "revision_problems",
]

_COLUMNS = [c.name for c in SCHEMAS["revisions"]]


def load_revisions(
    src: SourcesLike = None,
    *,
    runbook_id: str | None = None,
    as_of: TimeLike | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Every readable revision of every runbook (or of ``runbook_id``), by runbook_id and seq.

    ``seq`` orders a runbook's revisions by their ids in natural order (r2 < r10). With ``as_of``,
    a git repository gives each revision as it stood then; revisions published after it are hidden
    (drafts stay, ``status`` says which). Files that cannot be read are left out and logged
    (:func:`revision_problems` lists them); ``strict=True`` raises the first one instead.
    """
    when = None if as_of is None else utc_timestamp(as_of, "as_of")
    repository = read_repository(src, runbook_id=runbook_id, as_of=when, strict=strict)
    frame = _frame(repository)
    if runbook_id is not None:
        frame = frame[frame["runbook_id"] == runbook_id]
    if when is not None:
        frame = frame[~(frame["published_at"] > when).fillna(False)]
    return frame.reset_index(drop=True)


def get_revision(src: SourcesLike, runbook_id: str, revision: str) -> pd.Series[Any]:
    """The one revision ``runbook_id``/``revision`` as a row of :func:`load_revisions`.

    A revision whose file cannot be read is a RevisionError quoting the file's problem.
    """
    sources = resolve_sources(src)
    read_revision(sources, runbook_id, revision)  # the errors for a missing or unreadable one
    frame = load_revisions(sources, runbook_id=runbook_id)
    return frame[frame["revision"] == revision].iloc[0]


def revision_history(src: SourcesLike, runbook_id: str, revision: str) -> pd.DataFrame:
    """Each recorded state of one revision, oldest first: what it was after each commit.

    Columns: ``commit`` and ``committed_at`` (None in a folder repository, which keeps only the
    current state), ``status``, ``published_at``, ``sha256`` and ``path``; a state where the file
    could not be read has ``status`` None and ``problem`` set.
    """
    states = revision_states(src, runbook_id, revision)
    frame = pd.DataFrame([s._asdict() for s in states])
    frame["committed_at"] = pd.to_datetime(frame["committed_at"], utc=True)
    frame["published_at"] = pd.to_datetime(frame["published_at"], utc=True, format="ISO8601")
    return frame


@functools.lru_cache(maxsize=16)
def _frame(repository: Repository) -> pd.DataFrame:
    """The revisions table of ``repository`` (cached per read: callers filter into new frames,
    so the cached one stays intact)."""
    rows = [
        vars(r) | {"published_at": None if r.published_at is None else r.published_at.isoformat()}
        for r in repository.revisions
    ]
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    return coerce(
        frame,
        "revisions",
        where=str(repository.root),
        locate=lambda i: repository.revisions[i].path,
    )
