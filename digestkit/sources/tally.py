"""Entitlement counts at many as-of times, read once from a local SQLite CRM, counted in memory.

:func:`~digestkit.sources.crm.count_entitlement_accounts` counts in SQL, one scan per time. A
replay counts the same tier at dozens of times; :class:`TierEntitlements` reads the tier's rows
once and counts them in memory with exactly the SQL's comparisons, leaving to the SQL whatever
it cannot decide the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa

from digestkit.sources.config import FileStamp, SourcesLike, file_key, resolve_sources
from digestkit.sources.crm import (
    _catalog_sensitive,
    _check_tiers,
    _column_types,
    _connected,
    _crm_where,
    _day,
    _sql_bound,
    _sql_second,
    _typed_table,
    crm_file,
)
from digestkit.sources.schema import sensitive_columns
from digestkit.sources.validate import utc_timestamp

__all__ = ["TierCount", "TierEntitlements", "tier_entitlements"]


class TierCount(NamedTuple):
    """One tier's approved entitlements active at a time, as of that time: the accounts, those
    with terms other than a promised response time, how many such terms and the first of them
    (the ``accounts``, ``deviating``, ``deviating_terms`` and ``deviating_term`` of
    :func:`count_entitlement_accounts`)."""

    accounts: int
    deviating: int
    deviating_terms: int
    deviating_term: str | None


class TierEntitlements:
    """One tier's approved entitlements, counted at many times exactly as the SQL counts them.

    A replay counts the same tier at dozens of as-of times. The first time is counted in SQL;
    from a second time on, the tier's rows (account, days, update time and terms, as stored) are
    read once and counted in memory. :meth:`counts` and :meth:`by_terms` return what
    :func:`count_entitlement_accounts` returns with ``tiers=[tier], approved_only=True,
    active_on=as_of, as_of=as_of`` (and ``count_deviating_from`` or ``deviating_from_minutes``,
    ``group_by=["terms"]``), or None where only the SQL can say: the first time, a counted row
    updated within as_of's own second (the SQL checks those exactly), or stored values SQLite
    would not compare as Python compares them (anything but text days and times, whole minutes,
    or a column with a collation), or a column it reads marked sensitive. Account ids are kept
    only as ranks, and only counts leave it.
    """

    def __init__(self, url: str, tier: str) -> None:
        self.url = url
        self.tier = tier
        self._times: set[pd.Timestamp] = set()

    def counts(self, as_of: pd.Timestamp, minutes: int) -> TierCount | None:
        """The accounts and deviating accounts at ``as_of`` (None: count in SQL)."""
        picked = self._pick(as_of, minutes)
        if picked is None:
            return None
        rows, counted, deviating = picked
        terms = rows.term[deviating]
        return TierCount(
            rows.accounts(counted),
            rows.accounts(deviating),
            int(np.unique(terms).size),
            rows.term_names[int(terms.min())] if terms.size else None,
        )

    def by_terms(self, as_of: pd.Timestamp, minutes: int) -> pd.DataFrame | None:
        """Deviating accounts per terms at ``as_of``, by terms (None: count in SQL)."""
        picked = self._pick(as_of, minutes)
        if picked is None:
            return None
        rows, _, deviating = picked
        # Distinct (terms, account) pairs, then pairs per terms: COUNT(DISTINCT) per group.
        pairs = np.unique(rows.term[deviating] * rows.n_accounts + rows.account[deviating])
        codes, accounts = np.unique(pairs // rows.n_accounts, return_counts=True)
        return pd.DataFrame(
            {"terms": [rows.term_names[c] for c in codes], "accounts": accounts.astype("int64")}
        )

    def _pick(
        self, as_of: pd.Timestamp, minutes: int
    ) -> tuple[_TierRows, np.ndarray, np.ndarray] | None:
        self._times.add(as_of)
        rows = self._rows if len(self._times) > 1 else None
        counted = rows.counted(as_of) if rows is not None else None
        if rows is None or counted is None:
            return None
        return rows, counted, counted & rows.deviates(minutes)

    @functools.cached_property
    def _rows(self) -> _TierRows | None:
        with _connected(self.url, "entitlements") as conn:
            if conn.dialect.name != "sqlite":
                return None  # native types compare in the database's own way
            types = _column_types(conn, "entitlements", _crm_where(self.url, "entitlements"))
            names = _TierRows.COLUMNS
            if any(getattr(types[n], "collation", None) for n in names):
                return None
            if set(names) & (
                set(sensitive_columns("entitlements")) | _catalog_sensitive(conn, "entitlements")
            ):
                return None  # a column marked sensitive is never read as rows; the SQL counts
            t = _typed_table(conn, "entitlements", types)
            stmt = sa.select(*(t.c[n] for n in names)).where(
                t.c.tier.in_([self.tier]), sa.func.coalesce(t.c.record_status, "") == "approved"
            )
            return _TierRows.read(conn.execute(stmt).all())


class _TierRows:
    """A tier's rows as codes: each text column by its rank among the column's values (SQLite
    compares stored text as Python compares str), accounts and terms as small integers."""

    COLUMNS = (
        "account_id",
        "starts_on",
        "ends_on",
        "updated_at",
        "initial_response_minutes",
        "notification_variant",
    )

    def __init__(self, columns: list[tuple[Any, ...]]) -> None:
        accounts, starts, ends, updated, minutes, variants = columns
        _, self.account = _ranks(accounts, missing=-1)
        self.n_accounts = int(self.account.max()) + 1 if len(accounts) else 0
        # NULL passes no comparison: its rank fails the test it is used in.
        self.starts, self.start = _ranks(starts, missing=None)
        self.ends, self.end = _ranks(ends, missing=-1)
        self.updates, self.update = _ranks(updated, missing=None)
        self.variant = np.array([v is not None for v in variants], dtype=bool)
        self.has_minutes = np.array([m is not None for m in minutes], dtype=bool)
        self.minutes = np.array([0 if m is None else m for m in minutes], dtype=np.int64)
        # The SQL's terms: the variant, or "<N>-minute initial response" (NULL with neither).
        terms = [
            v if v is not None else None if m is None else f"{m}-minute initial response"
            for m, v in zip(minutes, variants, strict=True)
        ]
        names, self.term = _ranks(terms, missing=-1)
        self.term_names = [str(n) for n in names]

    @classmethod
    def read(cls, rows: Sequence[Any]) -> _TierRows | None:
        """The rows as codes, or None when a value is not one the codes compare like SQLite."""
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in cls.COLUMNS]
        for k in (0, 1, 2, 3, 5):
            # NumPy text drops trailing NULs: text with any NUL is left to the SQL.
            if not all(v is None or (type(v) is str and "\0" not in v) for v in columns[k]):
                return None
        if any(v is None for v in columns[0]) or not all(
            v is None or type(v) is int for v in columns[4]
        ):
            return None
        return cls(columns)

    def counted(self, as_of: pd.Timestamp) -> np.ndarray | None:
        """Which rows the SQL counts at ``as_of``; None when one of them was updated within
        as_of's own second (the SQL then checks those rows' times exactly)."""
        when = utc_timestamp(as_of, "as_of")
        # The literals the SQL binds for text columns (SQLite stores days and times as text).
        text = sa.String()
        day = str(_day(sa.column("day", text), utc_timestamp(as_of, "active_on")))
        bound, second = str(_sql_bound(when, text)), str(_sql_second(when, text))
        rows: np.ndarray = (
            (self.start < np.searchsorted(self.starts, day, side="right"))
            & (self.end >= np.searchsorted(self.ends, day, side="left"))
            & (self.update < np.searchsorted(self.updates, bound, side="right"))
        )
        if (rows & (self.update >= np.searchsorted(self.updates, second, side="left"))).any():
            return None
        return rows

    def deviates(self, minutes: int) -> np.ndarray:
        """Rows whose terms are other than ``minutes`` minutes (NULL minutes are not other)."""
        other: np.ndarray = self.variant | (self.has_minutes & (self.minutes != int(minutes)))
        return other

    def accounts(self, rows: np.ndarray) -> int:
        """Distinct accounts of ``rows``."""
        seen = np.bincount(self.account[rows], minlength=self.n_accounts)
        return int(np.count_nonzero(seen))


def _ranks(values: Sequence[Any], *, missing: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The distinct non-NULL values, sorted (NumPy text sorts by code point, as Python and
    SQLite's byte order do), and each value's rank among them; NULL ranks ``missing`` (None:
    one past the last)."""
    present = np.array([v is not None for v in values], dtype=bool)
    text = np.array([v for v in values if v is not None], dtype=str)
    distinct, rank = np.unique(text, return_inverse=True)
    codes = np.full(len(values), len(distinct) if missing is None else missing, dtype=np.int64)
    codes[present] = rank
    return distinct, codes


@functools.lru_cache(maxsize=8)
def _tier_entitlements(url: str, stamp: FileStamp, tier: str) -> TierEntitlements:
    # Keyed on the CRM file's stamp: a changed file is read again.
    return TierEntitlements(url, tier)


def tier_entitlements(src: SourcesLike, tier: str) -> TierEntitlements | None:
    """The :class:`TierEntitlements` of ``tier`` in a local SQLite CRM (None for other CRMs)."""
    _check_tiers([tier])
    sources = resolve_sources(src)
    path = crm_file(sources)
    if path is None:
        return None
    try:
        (stamp,) = file_key([path])
    except OSError:
        return None
    return _tier_entitlements(sources.crm_url, stamp, tier)
