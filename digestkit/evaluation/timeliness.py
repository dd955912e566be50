"""Surfaced in time: was the issue in a posted digest before a live case needed the runbook?

A gold issue concerns products and accounts (:func:`issue_scope`): a ``PRD-`` ref is a product,
an exception ref brings its account and product, a notification-variant ref brings the accounts
whose entitlements carry it. The issue was *surfaced in time* when the digest surfaced it and was
posted before the first severity-one case (:func:`digestkit.sources.load_cases`) opened on one of
those products or accounts after the revision's publication — or no such case has been opened.
It was *late* when the digest surfaced it only after that case, and *missed* when the digest did
not surface it at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

import pandas as pd

from digestkit import sources as src_mod
from digestkit.sources.cases import load_cases

__all__ = [
    "OUTCOMES",
    "TIMELY_KINDS",
    "IssueScope",
    "Outcome",
    "cases_of",
    "first_case",
    "issue_outcome",
    "issue_scope",
]

TIMELY_KINDS = ("ambiguous_carve_out", "stale_ownership", "unsupported_impact_assumption")
"""The issue kinds the surfaced-in-time question is asked of."""

Outcome = Literal["in_time", "late", "missed"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True)
class IssueScope:
    """The products and accounts a gold issue concerns."""

    products: frozenset[str]
    accounts: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.products or self.accounts)


@dataclass(frozen=True)
class _Index:
    products: frozenset[str]
    exceptions: dict[str, tuple[str, str]]  # exception id -> (account id, product id)
    variants: dict[str, frozenset[str]]  # notification variant -> accounts


@lru_cache(maxsize=8)
def _index(sources: src_mod.DataSources) -> _Index:
    register = src_mod.load_exceptions(sources)
    entitlements = src_mod.load_entitlements(
        sources, approved_only=True, columns=["account_id", "notification_variant"]
    ).dropna(subset=["notification_variant"])
    return _Index(
        products=frozenset(src_mod.load_products(sources)["product_id"]),
        exceptions={
            str(e): (str(a), str(p))
            for e, a, p in zip(
                register["exception_id"],
                register["account_id"],
                register["product_id"],
                strict=True,
            )
        },
        variants={
            str(v): frozenset(map(str, group["account_id"]))
            for v, group in entitlements.groupby("notification_variant")
        },
    )


def issue_scope(issue: Mapping[str, Any], sources: src_mod.DataSources) -> IssueScope:
    """The products and accounts ``issue`` (a gold issue) concerns, from its ``ref``/``refs``."""
    index = _index(sources)
    refs = [issue.get("ref"), *(issue.get("refs") or [])]
    products: set[str] = set()
    accounts: set[str] = set()
    for ref in (str(r) for r in refs if r):
        if ref in index.products:
            products.add(ref)
        elif ref in index.exceptions:
            account, product = index.exceptions[ref]
            accounts.add(account)
            products.add(product)
        else:
            accounts |= index.variants.get(ref, frozenset())
    return IssueScope(frozenset(products), frozenset(accounts))


@lru_cache(maxsize=8)
def cases_of(sources: src_mod.DataSources) -> pd.DataFrame | None:
    """The data's severity-one cases (read once per data directory); None when the CRM has none."""
    return load_cases(sources, missing_ok=True)


def first_case(
    scope: IssueScope, published_at: pd.Timestamp, cases: pd.DataFrame
) -> pd.Timestamp | None:
    """When the first case on the scope's products or accounts was opened after publication."""
    after = cases[cases["opened_at"] > published_at]
    mine = after[
        after["product_id"].isin(scope.products) | after["account_id"].isin(scope.accounts)
    ]
    return None if mine.empty else pd.Timestamp(mine["opened_at"].iloc[0])


def issue_outcome(
    *, surfaced: bool, posted_at: pd.Timestamp | None, first_case_at: pd.Timestamp | None
) -> Outcome:
    """``missed``, ``late`` (posted at or after the first case) or ``in_time``."""
    if not surfaced:
        return "missed"
    if first_case_at is not None and (posted_at is None or posted_at >= first_case_at):
        return "late"
    return "in_time"
