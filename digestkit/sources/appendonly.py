"""Append-only CSV tables (the registry and the exception register): one row per recorded version.

A table's state at time T is, per id, the latest version recorded by then.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import pandas as pd

from digestkit.exceptions import SourceError
from digestkit.sources.config import FileStamp, file_key
from digestkit.sources.schema import KEYS
from digestkit.sources.validate import (
    Locate,
    TimeLike,
    check_header,
    check_unique,
    coerce,
    utc_timestamp,
)

__all__ = ["csv_locator", "latest_versions", "read_csv_table"]


def csv_locator(path: Path) -> Locate:
    """Map a data-row position to its file line (header = line 1), counting quoted newlines."""

    def locate(pos: int) -> str:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            start, seen = 1, -1
            for record in reader:
                if record:  # pandas skips blank lines, so they do not count as rows
                    if seen == pos:
                        return f"line {start}"
                    seen += 1
                start = reader.line_num + 1
        return f"line {pos + 2}"

    return locate


def read_csv_table(path: Path, table: str) -> pd.DataFrame:
    """Every row of ``path`` validated as ``table``; re-read only when the file changed."""
    # Replays and bursts read the same registry and register for many as_of times.
    (stamp,) = file_key([path])
    return _parse_csv(table, stamp)


def latest_versions(
    frame: pd.DataFrame, table: str, *, as_of: TimeLike | None, history: bool
) -> pd.DataFrame:
    """Per id, the latest version recorded by ``as_of`` (every such version with ``history``)."""
    id_col = KEYS[table][0]
    if as_of is not None:
        frame = frame[frame["recorded_at"] <= utc_timestamp(as_of, "as_of")]
    frame = frame.sort_values([id_col, "recorded_at"], kind="stable")
    if not history:
        frame = frame.drop_duplicates(id_col, keep="last")
    return frame.reset_index(drop=True)


@functools.lru_cache(maxsize=16)
def _parse_csv(table: str, stamp: FileStamp) -> pd.DataFrame:
    # Keyed on the file's stamp; callers only filter or sort what they get (new frames), so the
    # cached frame stays intact.
    path = Path(stamp.path)
    try:
        frame = pd.read_csv(
            path, dtype="string", keep_default_na=False, na_values=[""], encoding="utf-8"
        )
    except pd.errors.EmptyDataError as exc:
        raise SourceError("file is empty; it needs at least the header line", path=path) from exc
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise SourceError(
            f"not valid CSV: {exc}".strip(),
            path=path,
            row=f"line {line.group(1)}" if line else None,
        ) from exc
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})", path=path) from exc
    check_header(list(frame.columns), table, where=str(path), row="line 1")
    locate = csv_locator(path)
    frame = coerce(frame, table, where=str(path), locate=locate)
    check_unique(frame, table, where=str(path), locate=locate)
    return frame
