"""The names runbooks use for registry products, teams and pagers, read without pandas.

``digestkit diff`` needs only these names, and importing pandas would cost it more than the whole
diff. A registry file that is not plainly well-formed here is read by the full loader
(:mod:`~digestkit.sources.registry`) instead, so its error, or its reading, is the loader's own.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from digestkit.clock import parse_utc
from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.schema import KEYS, SCHEMAS

__all__ = ["RegistryNames", "registry_names"]

# A time the full loader reads the same way (pandas' ISO 8601 parser accepts a wider set).
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


class RegistryNames(NamedTuple):
    """Each product's and team's latest recorded version's names, by product id and team."""

    products: list[str]
    teams: list[str]
    display_names: list[str]
    pagers: list[str]


def registry_names(src: SourcesLike = None) -> RegistryNames:
    """The product names, team slugs, team display names and pagers the registry holds now."""
    sources = resolve_sources(src)
    products = _latest(sources.registry / "products.csv", "products")
    teams = _latest(sources.registry / "teams.csv", "teams")
    if products is not None and teams is not None:
        return RegistryNames(
            [p["product_name"] for p in products],
            [t["team"] for t in teams],
            [t["display_name"] for t in teams],
            [t["pager"] for t in teams],
        )
    from digestkit.sources.registry import load_products, load_teams

    product_frame, team_frame = load_products(sources), load_teams(sources)
    return RegistryNames(
        product_frame["product_name"].tolist(),
        team_frame["team"].tolist(),
        team_frame["display_name"].tolist(),
        team_frame["pager"].tolist(),
    )


def _latest(path: Path, table: str) -> list[dict[str, str]] | None:
    """Per id, the latest recorded version's row, by id; None unless every row is plainly valid."""
    columns = SCHEMAS[table]
    id_col = KEYS[table][0]
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            records = [r for r in csv.reader(handle) if r]  # the loader skips blank lines too
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if not records or sorted(records[0]) != sorted(c.name for c in columns):
        return None
    header = records[0]
    keyed: list[tuple[tuple[str, datetime], dict[str, str]]] = []
    for record in records[1:]:
        if len(record) != len(header):
            return None
        row = dict(zip(header, record, strict=True))
        for col in columns:
            value = row[col.name]
            if value == "":
                if not col.nullable:
                    return None
            elif col.dtype == "datetime":
                if not _ISO_TIME.fullmatch(value) or _time(value) is None:
                    return None
            elif col.dtype == "category":
                if value not in col.values:
                    return None
            elif col.dtype != "string":
                return None
        recorded_at = _time(row["recorded_at"])
        if recorded_at is None:
            return None
        keyed.append(((row[id_col], recorded_at), row))
    if len({key for key, _ in keyed}) != len(keyed):
        return None  # a repeated version: the loader says which
    latest: dict[str, dict[str, str]] = {}
    for (ident, _), row in sorted(keyed, key=lambda item: item[0]):
        latest[ident] = row
    return [latest[ident] for ident in sorted(latest)]


def _time(value: str) -> datetime | None:
    try:
        return parse_utc(value)
    except ValueError:
        return None
