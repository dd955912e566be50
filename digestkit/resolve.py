"""Whether a claim's source reference points at something that exists in the source systems.

A source reference is ``{"system": …, "id": …, "locator": …}`` (``docs/digest-json.md``).
Both the evaluation (provenance completeness) and reviewer records (a missed item's source must
resolve) check references here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal, TypedDict, get_args

import pandas as pd

from digestkit import sources as src_mod
from digestkit.exceptions import SourceError

__all__ = ["SYSTEMS", "SourceRef", "System", "line_span", "resolve_source"]

System = Literal["runbook", "crm", "registry", "exceptions"]
SYSTEMS: tuple[System, ...] = get_args(System)
"""The source systems a claim may cite."""


class SourceRef(TypedDict):
    """A claim's source reference as the digest JSON and review records store it."""

    system: str
    id: str
    locator: str | None


_LINES = re.compile(r"^L(\d+)-L(\d+)$")
_CRM_KEYS = ("tier", "record_status", "active_on")
_CRM_MARKERS = ("deviating",)


def line_span(locator: str | None) -> tuple[int, int] | None:
    """The ``(first, last)`` lines of a runbook locator ``L<a>-L<b>``; None for anything else."""
    match = _LINES.match(locator or "")
    return (int(match[1]), int(match[2])) if match else None


@dataclass(frozen=True)
class _Index:
    runbook_lines: dict[str, int]
    products: frozenset[str]
    exceptions: frozenset[str]


@lru_cache(maxsize=8)
def _index(sources: src_mod.DataSources) -> _Index:
    revisions = src_mod.load_revisions(sources)
    return _Index(
        runbook_lines={
            f"{r.runbook_id}@{r.revision}": len(str(r.text).splitlines())
            for r in revisions.itertuples()
        },
        products=frozenset(src_mod.load_products(sources)["product_id"]),
        exceptions=frozenset(src_mod.load_exceptions(sources)["exception_id"]),
    )


@lru_cache(maxsize=256)
def _crm_rows(
    sources: src_mod.DataSources, tier: str | None, approved: bool, day: str | None
) -> int:
    frame = src_mod.load_entitlements(
        sources,
        tiers=[tier] if tier else None,
        approved_only=approved,
        active_on=pd.Timestamp(day, tz="UTC") if day else None,
        columns=["entitlement_id"],
    )
    return len(frame)


@cache
def _columns(table: str) -> frozenset[str]:
    return frozenset(c.name for c in src_mod.SCHEMAS[table])


def _crm_resolves(ident: str, locator: str, sources: src_mod.DataSources) -> bool:
    table, _, query = ident.partition("?")
    if table != "entitlements":
        return False
    filters: dict[str, str] = {}
    for part in [*query.split("&"), *locator.split(";")]:
        part = part.strip()
        if not part or part in _CRM_MARKERS:
            continue
        key, sep, value = part.partition("=")
        if not sep or key not in _CRM_KEYS:
            return False
        filters[key] = value
    status = filters.get("record_status")
    if status not in (None, "approved"):
        return False
    try:
        rows = _crm_rows(
            sources, filters.get("tier"), status == "approved", filters.get("active_on")
        )
    except (ValueError, SourceError):
        return False
    return rows > 0


def resolve_source(ref: Mapping[str, Any], sources: src_mod.DataSources) -> bool:
    """Whether a claim's source reference points at something that exists in ``sources``.

    runbook: ``<runbook>@<rev>`` is a revision and ``L<a>-L<b>`` lies inside its file;
    registry: the product id exists and the locator is a products column; exceptions: the
    exception id exists and the locator is a register column; crm: the ``entitlements`` table
    (filters in the id after ``?`` or in the locator, ``key=value;…``: tier, record_status,
    active_on, and the ``deviating`` marker) has matching rows.
    """
    system, ident, locator = ref.get("system"), str(ref.get("id") or ""), ref.get("locator") or ""
    index = _index(sources)
    if system == "runbook":
        span = line_span(locator)
        lines = index.runbook_lines.get(ident)
        if span is None or lines is None:
            return False
        return 1 <= span[0] <= span[1] <= lines
    if system == "registry":
        return ident in index.products and (not locator or locator in _columns("products"))
    if system == "exceptions":
        return ident in index.exceptions and (not locator or locator in _columns("exceptions"))
    if system == "crm":
        return _crm_resolves(ident, locator, sources)
    return False
