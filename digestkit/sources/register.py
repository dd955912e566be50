"""The approved exception register: an append-only CSV whose ``summary`` is sensitive."""

from __future__ import annotations

import pandas as pd

from digestkit.sources.appendonly import csv_locator, latest_versions, read_csv_table
from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.schema import sensitive_columns
from digestkit.sources.validate import TimeLike, check_order

__all__ = ["load_exceptions"]


def load_exceptions(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    history: bool = False,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """Each exception's latest version at ``as_of``; ``summary`` only with include_sensitive."""
    path = resolve_sources(src).exceptions
    frame = read_csv_table(path, "exceptions")
    check_order(frame, "valid_from", "valid_to", where=str(path), locate=csv_locator(path))
    frame = latest_versions(frame, "exceptions", as_of=as_of, history=history)
    if not include_sensitive:
        frame = frame.drop(columns=list(sensitive_columns("exceptions")))
    return frame
