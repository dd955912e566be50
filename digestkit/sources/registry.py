"""The registry: product ownership, teams and known issues, each an append-only CSV.

Runbooks name products and teams by name; :func:`name_conflicts` finds the names that more than
one registry id carries, so a reader flags the ambiguity (citing every row) instead of picking.
"""

from __future__ import annotations

import pandas as pd

from digestkit.sources.appendonly import latest_versions, read_csv_table
from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.validate import TimeLike

__all__ = [
    "NAMED_TABLES",
    "load_known_issues",
    "load_products",
    "load_teams",
    "name_conflicts",
    "name_key",
]

#: The registry tables runbooks refer to by name: table -> (id column, name column).
NAMED_TABLES = {"products": ("product_id", "product_name"), "teams": ("team", "display_name")}


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


def name_key(name: str) -> str:
    """A registry name as a runbook may write it: case and runs of white space do not matter."""
    return " ".join(str(name).casefold().split())


def name_conflicts(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The rows of ``frame`` (``products`` or ``teams`` as loaded) whose name another id carries.

    Names match by :func:`name_key`. Returns those rows with a ``name_key`` column, by name_key
    and id; empty when every name is unambiguous. Load with ``as_of`` for the names in force then.
    """
    id_col, name_col = NAMED_TABLES[table]
    keys = frame[name_col].map(name_key)
    ids = frame.groupby(keys)[id_col].transform("nunique")
    clash = (ids > 1).to_numpy(dtype=bool)
    out = frame[clash].assign(name_key=keys[clash])
    return out.sort_values(["name_key", id_col], kind="stable").reset_index(drop=True)
