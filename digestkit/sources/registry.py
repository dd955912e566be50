"""The registry: product ownership, teams and known issues, each an append-only CSV."""

from __future__ import annotations

import pandas as pd

from digestkit.sources.appendonly import latest_versions, read_csv_table
from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.validate import TimeLike

__all__ = ["load_known_issues", "load_products", "load_teams"]


def load_products(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each product's latest recorded version at ``as_of`` (every version with ``history=True``)."""
    return _load(src, "products", as_of=as_of, history=history)


def load_teams(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each team's latest recorded version at ``as_of`` (every version with ``history=True``)."""
    return _load(src, "teams", as_of=as_of, history=history)


def load_known_issues(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Each known issue's latest recorded version at ``as_of`` (all with ``history=True``)."""
    return _load(src, "known_issues", as_of=as_of, history=history)


def _load(src: SourcesLike, table: str, *, as_of: TimeLike | None, history: bool) -> pd.DataFrame:
    path = resolve_sources(src).registry / f"{table}.csv"
    return latest_versions(read_csv_table(path, table), table, as_of=as_of, history=history)
