"""The source records a digest's context reads, as they stood at a time, indexed for lookups.

:func:`load_context` loads the registry and exception register whole (they are small);
entitlements stay in the CRM and are only counted, on demand and once per (tier, minutes). The
exceptions in force for a runbook, and the ambiguous carve-outs among them, are computed once
per runbook. Every cache lives and dies with its :class:`ContextTables`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property, partial
from typing import NamedTuple

import pandas as pd

from digestkit import sources as src_mod
from digestkit.sources.tally import TierCount, tier_entitlements

__all__ = [
    "AmbiguousCarveOut",
    "ContextTables",
    "EntitlementCounts",
    "InForce",
    "Lookups",
    "Product",
    "load_context",
    "norm_name",
]


def norm_name(name: str) -> str:
    """A product, team or section name as the lookups key it: lower case, spaces collapsed."""
    return " ".join(name.lower().split())


class Product(NamedTuple):
    """A product's registry record, as the context checks read it."""

    product_id: str
    product_name: str
    owning_team: str
    escalation_pager: str
    last_verified_at: pd.Timestamp


class Lookups(NamedTuple):
    """The registry and register indexed for resolving a runbook's references."""

    product_by_name: dict[str, Product]  # normalized product name -> record
    team_by_display: dict[str, str]  # normalized display name -> team slug
    team_display: dict[str, str]  # team slug -> display name
    known_pagers: set[str]
    exceptions: pd.DataFrame  # indexed by exception_id
    # normalized product name several product ids carry -> their records (never resolved to one)
    ambiguous_products: dict[str, tuple[Product, ...]]


class EntitlementCounts(NamedTuple):
    """Approved, active entitlements of a tier, counted against a promised response time."""

    accounts: int
    deviating: int  # accounts with terms other than the promised minutes
    by_terms: pd.DataFrame  # deviating accounts per terms (columns terms, accounts)


class AmbiguousCarveOut(NamedTuple):
    """Exceptions in force that give one account and product different handlings."""

    account_id: str
    product_id: str
    exception_ids: tuple[str, ...]
    handling: tuple[str, ...]


class InForce(NamedTuple):
    """A runbook's approved, valid exceptions and the ambiguous carve-outs among them."""

    sections: pd.DataFrame  # exception_id, section, normed (normalized section title)
    ambiguous: list[AmbiguousCarveOut]


@dataclass(frozen=True)
class ContextTables:
    """The source records a digest reads, each as it stood at ``as_of``.

    Registry and register tables are small and loaded whole; entitlements stay in the CRM and
    are only counted (:meth:`entitlement_counts`), so a million accounts cost a few SQL counts.
    """

    as_of: pd.Timestamp
    products: pd.DataFrame
    teams: pd.DataFrame
    exceptions: pd.DataFrame
    sources: src_mod.DataSources

    @cached_property
    def lookups(self) -> Lookups:
        """The tables indexed for lookups; computed once, every digest of the context shares it."""
        return _lookups(self)

    @cached_property
    def registry_names(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The registry's product names, team display names and pagers, each sorted: the names a
        revision's facts are found against, once per context rather than once per digest."""
        products, teams = self.products, self.teams
        return (
            tuple(sorted(products["product_name"])),
            tuple(sorted(teams["display_name"])),
            tuple(sorted(set(products["escalation_pager"]) | set(teams["pager"]))),
        )

    def in_force(self, runbook_id: str) -> InForce:
        """The runbook's approved, valid exceptions (see :class:`InForce`), once per runbook."""
        return self._in_force(runbook_id)

    def entitlement_counts(self, tier: str, minutes: int) -> EntitlementCounts:
        """Accounts with approved, active ``tier`` entitlements and, of them, those whose terms
        are other than ``minutes`` minutes (in all and per terms)."""
        return self._entitlement_counts(tier, minutes)

    # Caches that live and die with the context (a digest's context cache decides how long).
    @cached_property
    def _in_force(self) -> Callable[[str], InForce]:
        return cache(partial(_in_force, self))

    @cached_property
    def _entitlement_counts(self) -> Callable[[str, int], EntitlementCounts]:
        return cache(partial(_count_entitlements, self))

    @cached_property
    def _table_hashes(self) -> dict[str, str]:
        # A cached context serves many digests: hash its tables once.
        return {
            name: src_mod.snapshot_sha256(getattr(self, name))
            for name in ("products", "teams", "exceptions")
        }

    def snapshot_hashes(self, counts_used: Iterable[tuple[str, int]]) -> dict[str, str]:
        """sha256 of every table read; entitlements as the counts of ``counts_used``."""
        rows = []
        for tier, minutes in sorted(set(counts_used)):
            total, deviating, by_terms = self.entitlement_counts(tier, minutes)
            terms = ";".join(f"{a}={b}" for a, b in by_terms.itertuples(index=False))
            rows.append(
                {"tier": tier, "minutes": minutes, "accounts": total, "deviating": deviating,
                 "terms": terms}
            )  # fmt: skip
        counts = pd.DataFrame(
            rows,
            columns=["tier", "minutes", "accounts", "deviating", "terms"],
        )
        return {**self._table_hashes, "entitlements": src_mod.snapshot_sha256(counts)}


def _count_entitlements(context: ContextTables, tier: str, minutes: int) -> EntitlementCounts:
    as_of = context.as_of
    # The tier's approved entitlements active at as_of, counted in SQL.
    count = partial(
        src_mod.count_entitlement_accounts,
        context.sources,
        as_of=as_of,
        tiers=[tier],
        approved_only=True,
        active_on=as_of,
    )
    # A replay counts each tier at many times: from the second on, in memory (same numbers).
    tally = tier_entitlements(context.sources, tier)
    first = tally.counts(as_of, minutes) if tally is not None else None
    if first is None:
        # One scan counts the accounts and, of them, those with other terms (an account may
        # deviate in two ways, so the per-terms counts below need not add up to it).
        scanned = count(count_deviating_from=minutes).iloc[0]
        first = TierCount(
            int(scanned["accounts"]),
            int(scanned["deviating"]),
            int(scanned["deviating_terms"]),
            None if pd.isna(scanned["deviating_term"]) else str(scanned["deviating_term"]),
        )
    total, deviating = first.accounts, first.deviating
    if first.deviating_terms == 1:
        # One other terms: the deviating accounts are its accounts, so no second scan.
        by_terms = pd.DataFrame(
            {"terms": [str(first.deviating_term)], "accounts": [deviating]}
        ).astype({"accounts": "int64"})
    elif deviating:
        in_memory = tally.by_terms(as_of, minutes) if tally is not None else None
        by_terms = (
            in_memory
            if in_memory is not None
            else count(deviating_from_minutes=minutes, group_by=["terms"])
        )
    else:
        by_terms = pd.DataFrame(columns=["terms", "accounts"])
    return EntitlementCounts(total, deviating, by_terms)


def load_context(sources: src_mod.DataSources, *, as_of: pd.Timestamp) -> ContextTables:
    """The registry and exception register as of ``as_of``; entitlements are counted on demand."""
    return ContextTables(
        as_of=as_of,
        products=src_mod.load_products(sources, as_of=as_of),
        teams=src_mod.load_teams(sources, as_of=as_of),
        exceptions=src_mod.load_exceptions(sources, as_of=as_of),
        sources=sources,
    )


def _lookups(context: ContextTables) -> Lookups:
    products, teams = context.products, context.teams
    records = products[list(Product._fields)].itertuples(index=False, name=None)
    by_name: dict[str, list[Product]] = {}
    for n, row in zip(products["product_name"], records, strict=True):
        by_name.setdefault(norm_name(n), []).append(Product(*row))
    # Two products with one name: which one the runbook means is not guessed, it is flagged.
    product_by_name = {k: found[0] for k, found in by_name.items() if len(found) == 1}
    ambiguous_products = {
        k: tuple(sorted(found, key=lambda p: p.product_id))
        for k, found in by_name.items()
        if len(found) > 1
    }
    team_by_display = {
        norm_name(n): t for n, t in zip(teams["display_name"], teams["team"], strict=True)
    }
    team_display = dict(zip(teams["team"], teams["display_name"], strict=True))
    known_pagers = set(products["escalation_pager"]) | set(teams["pager"])
    exceptions = context.exceptions.set_index("exception_id", drop=False)
    return Lookups(
        product_by_name, team_by_display, team_display, known_pagers, exceptions, ambiguous_products
    )


def _in_force(context: ContextTables, runbook_id: str) -> InForce:
    """The runbook's approved, valid exceptions (id, section, normalized section), and the
    (account, product, ids, handlings) of those that give one account and product two handlings.

    Both depend on the context only, so a replay computes them once per runbook and as_of.
    """
    exc = context.exceptions
    as_of = context.as_of
    today = as_of.tz_localize(None).normalize() if as_of.tzinfo else as_of
    in_force = exc[
        (exc["runbook_id"] == runbook_id)
        & (exc["status"] == "approved")
        & (exc["valid_from"] <= today)
        & (exc["valid_to"].isna() | (exc["valid_to"] >= today))
    ]
    sections = in_force[["exception_id", "section"]].astype(object)
    normed = {title: norm_name(title) for title in sections["section"].unique()}
    sections = sections.assign(normed=sections["section"].map(normed))
    groups = in_force.groupby(["account_id", "product_id"], sort=True)["handling"].nunique()
    keys = groups[groups > 1].index
    candidates = in_force[
        pd.MultiIndex.from_frame(in_force[["account_id", "product_id"]]).isin(keys)
    ]
    ambiguous = []
    for account_id, product_id in keys:
        same = candidates[
            (candidates["account_id"] == account_id) & (candidates["product_id"] == product_id)
        ].sort_values("exception_id")
        handling = tuple(sorted(set(same["handling"])))
        ambiguous.append(
            AmbiguousCarveOut(account_id, product_id, tuple(same["exception_id"]), handling)
        )
    return InForce(sections, ambiguous)
