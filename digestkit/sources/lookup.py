"""The CRM records the sensitive-data screen must read for a text: looked up by its words.

The screen (:mod:`digestkit.screen`) asks which accounts, contacts and contract clauses may
start or end with a text's words. Each lookup compares an SQL key of the name
(:func:`lookup_key`) with the words, so an index on that key (:func:`lookup_indexes`, which
the sample CRM has) serves it; without one the lookup scans the table. The result is a
superset: the screen folds and checks every record it gets.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from digestkit.sources.config import DataSources, SourcesLike, resolve_sources
from digestkit.sources.crm import _column_types, _connected, _crm_where
from digestkit.sources.schema import KEYS
from digestkit.sources.validate import check_header

__all__ = ["NameCandidates", "find_name_candidates", "lookup_indexes", "lookup_key"]

# How many leading (or trailing) characters of a name the candidate lookup compares in SQL.
_AFFIX = 4
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
# A name's first or last word longer than this is not keyed (its key is '', asked always).
_MAX_KEY = 64
_ALNUM = f"0123456789{_UPPER}{_LOWER}"
# Each (table, column, how) the screen looks up by lookup_key.
_NAME_KEYS = (
    ("accounts", "account_name", "start"),
    ("entitlements", "contract_clause", "start"),
    ("contacts", "contact_name", "start"),
    ("contacts", "contact_name", "end"),
    ("contacts", "phone", "digits"),
)


class NameCandidates(NamedTuple):
    """CRM records that may carry a word of a text (:func:`find_name_candidates`), by id."""

    accounts: list[tuple[str, str]]  # (account_id, account_name)
    contacts: list[tuple[str, str | None, str | None]]  # (contact_id, contact_name, phone)
    clauses: list[tuple[str, str]]  # (entitlement_id, contract_clause)


def find_name_candidates(
    src: SourcesLike = None,
    *,
    first_words: Collection[str] = (),
    last_words: Collection[str] = (),
    given_words: Collection[str] = (),
    phone_tails: Collection[str] = (),
) -> NameCandidates:
    """The CRM records whose sensitive text may start or end with one of a text's words.

    Words are lower-case ASCII letters and digits (as :func:`digestkit.normalize.fold` and a
    word pattern leave them). Returned, each list in id order: accounts whose name, and
    entitlements whose contract clause, starts with a word of ``first_words``; contacts whose name
    ends with a word of ``last_words`` or starts with one of ``given_words``, or whose phone's last
    seven digits are one of ``phone_tails``. It is a superset, filtered in SQL only as far as
    plain ASCII allows (:func:`lookup_key`): a name whose word stops at a letter that is not ASCII
    comes back when its ASCII part may belong to a word, one that starts or ends with no ASCII
    letter or digit comes back whatever it says, and the caller folds and checks every record.
    With the indexes of :func:`lookup_indexes` the lookups read only the matching rows. A
    database other than SQLite or PostgreSQL returns every record. Sensitive columns are read:
    this is for the sensitive-data screen.
    """
    sources = resolve_sources(src)
    first, last, given = sorted(set(first_words)), sorted(set(last_words)), sorted(set(given_words))
    tails = sorted({t[-4:] for t in phone_tails})
    accounts: list[tuple[str, str]] = []
    clauses: list[tuple[str, str]] = []
    contacts: list[tuple[str, str | None, str | None]] = []
    if first:
        accounts = _candidates(
            sources, "accounts", ["account_name"], [("start", "account_name", first)]
        )
        clauses = _candidates(
            sources, "entitlements", ["contract_clause"], [("start", "contract_clause", first)]
        )
    wanted = [
        ("end", "contact_name", last),
        ("start", "contact_name", given),
        ("digits", "phone", tails),
    ]
    if any(values for _, _, values in wanted):
        contacts = _candidates(sources, "contacts", ["contact_name", "phone"], wanted)
    return NameCandidates(accounts, contacts, clauses)


def _candidates(
    sources: DataSources,
    table: str,
    columns: Sequence[str],
    wanted: Sequence[tuple[str, str, Sequence[str]]],
) -> list[Any]:
    """Rows (id first, then ``columns``) of ``table`` matching any ``(how, column, values)``
    through :func:`lookup_key`: ``how`` is "start" or "end" (the column's first or last word, any
    case, against the values) or "digits" (the column's last four digits against the values')."""
    where = _crm_where(sources.crm_url, table)
    id_col = KEYS[table][0]
    with _connected(sources.crm_url, table) as conn:
        db_columns = _column_types(conn, table, where)
        check_header(list(db_columns), table, where=where, row=None)
        t = sa.table(table, *(sa.column(n, sa.String()) for n in [id_col, *columns]))
        # Sorted here: ORDER BY would walk the id index and fetch each row by it, a slower scan.
        select = sa.select(*t.c)
        dialect = conn.dialect.name
        if table == "entitlements":
            select = select.where(t.c.contract_clause.is_not(None))
        if dialect not in ("sqlite", "postgresql"):
            return [tuple(row) for row in conn.execute(select)]
        keys = [_key_values(how, values) for how, _, values in wanted if values]
        wanted = [(how, column, values) for how, column, values in wanted if values]
        budget = math.inf
        if dialect == "sqlite":
            # One bound value per key: stay under this build's limit, in as few queries as can be.
            driver = conn.connection.driver_connection
            if isinstance(driver, sqlite3.Connection):
                budget = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 8 * len(wanted)
        # A key and its four-character affix are bound values each.
        parts = max(1, math.ceil(2 * sum(map(len, keys)) / budget))
        rows: dict[str, tuple[Any, ...]] = {}
        for part in range(parts):
            conditions = [
                _key_condition(dialect, how, t.c[column], values[part::parts])
                for (how, column, _), values in zip(wanted, keys, strict=True)
            ]
            for row in conn.execute(select.where(sa.or_(*conditions))):
                rows.setdefault(str(row[0]), (str(row[0]), *row[1:]))
        return sorted(rows.values(), key=lambda row: str(row[0]))


def _key_values(how: str, words: Collection[str]) -> list[str]:
    """The :func:`lookup_key` values a row whose first ("start") or last ("end") word folds to one
    of ``words`` can have besides '': the word, or (a letter beside it not being ASCII, its key
    stops there) a part of it at the far end from that letter. "digits": the values' last four."""
    if how == "digits":
        return sorted({w[-_AFFIX:] for w in words if len(w) >= _AFFIX})
    # Keys longer than _MAX_KEY are '' (lookup_key): a long word's longer parts need no asking,
    # and one unbroken 40,000-character word does not ask for 800 million characters.
    if how == "start":
        return sorted({w[:n] for w in words for n in range(1, min(len(w), _MAX_KEY) + 1)})
    return sorted({w[-n:] for w in words for n in range(1, min(len(w), _MAX_KEY) + 1)})


def _key_condition(
    dialect: str, how: str, column: sa.ColumnElement[Any], keys: Sequence[str]
) -> sa.ColumnElement[bool]:
    """``column``'s :func:`lookup_key` among ``keys`` (or '').

    A table scan (no index on the key) first compares the column's first or last four
    characters, far cheaper per row than the key: only a name whose word starts (ends) with a
    key's four, or whose four are not all ASCII letters and digits, can have one of the keys.
    """
    found = _among(dialect, lookup_key(dialect, how, column.name), ["", *keys])
    if how == "digits":
        return found
    affixes = sorted(
        {k[:_AFFIX] if how == "start" else k[-_AFFIX:] for k in keys if len(k) >= _AFFIX}
    )
    if how == "start":
        part = sa.func.substr(column, 1, _AFFIX)
    else:
        part = (
            sa.func.substr(column, -_AFFIX)
            if dialect == "sqlite"
            else sa.func.right(column, _AFFIX)
        )
    among: sa.ColumnElement[bool]
    if dialect == "sqlite":
        # GLOB ranges are code points in SQLite (and a spelled-out class is slow to match).
        plain = part.op("GLOB")("[0-9A-Za-z]" * _AFFIX)
        among = sa.collate(part, "NOCASE").in_(affixes)
    else:
        # Spelled out: a range in a PostgreSQL bracket expression may follow the collation.
        plain = part.op("~")(f"^[{_ALNUM}]{{{_AFFIX}}}$")
        lower = sa.func.translate(part, _UPPER, _LOWER)
        among = lower == sa.any_(sa.literal(affixes, postgresql.ARRAY(sa.String())))
    # Values whose key is '' for their length or a NUL pass too.
    odd = [sa.func.length(column) > _MAX_KEY]
    if dialect == "sqlite":
        odd.append(sa.func.instr(sa.cast(column, sa.LargeBinary), sa.literal_column("x'00'")) > 0)
    return sa.and_(sa.or_(among, sa.not_(plain), *odd), found)


def lookup_key(dialect: str, how: str, column: str) -> str:
    """The SQL expression the screen looks names up by, for ``column`` of a CRM table.

    For ``how="start"`` (or "end") it is ``column``'s leading (trailing) run of ASCII letters
    and digits in lower case: a name's first (last) word, or its part up to a non-ASCII letter;
    '' (SQL cannot judge it: the screen reads and folds every such record) when there is none,
    it has over 64 letters or the value holds a NUL. For "digits", the last four characters
    when they are digits, else ''. NULL for NULL.
    Written out with its constants so that an index on exactly this expression serves the
    lookup (:func:`lookup_indexes`); without one the lookup scans the table.
    """
    # SQLite's text functions stop at a NUL, which Python reads past. (PostgreSQL has none.)
    nul = f"WHEN instr(CAST({column} AS BLOB), x'00') > 0 THEN '' " if dialect == "sqlite" else ""
    if how == "digits":
        last = (
            f"substr({column}, -{_AFFIX})" if dialect == "sqlite" else f"right({column}, {_AFFIX})"
        )
        if dialect == "sqlite":
            digits = f"{last} GLOB '{'[0-9]' * _AFFIX}'"
        else:
            digits = f"{last} ~ '^[0-9]{{{_AFFIX}}}$'"
        return f"(CASE {nul}WHEN {digits} THEN {last} WHEN {column} IS NOT NULL THEN '' END)"
    if how == "start":
        run = f"substr({column}, 1, length({column}) - length(ltrim({column}, '{_ALNUM}')))"
    else:
        run = f"substr({column}, length(rtrim({column}, '{_ALNUM}')) + 1)"
    # SQLite's lower() folds ASCII only; PostgreSQL's follows the database's locale (a Turkish
    # one lowers I to a dotless i), so the letters are mapped one by one there.
    lower = f"lower({run})" if dialect == "sqlite" else f"translate({run}, '{_UPPER}', '{_LOWER}')"
    return f"(CASE {nul}WHEN length({run}) > {_MAX_KEY} THEN '' ELSE {lower} END)"


def lookup_indexes(dialect: str = "sqlite") -> dict[str, str]:
    """``CREATE INDEX`` statements, by index name, that let the sensitive-data screen's CRM
    lookups (:func:`find_name_candidates`) read a few index entries instead of every row.

    The sample CRM has them; for your own CRM a database administrator may run them (SQLite or
    PostgreSQL, ``dialect``). Without them the screen still works, scanning each name column.
    """
    indexes = {}
    for table, column, how in _NAME_KEYS:
        name = f"ix_{table}_{column}_{how}"
        key = lookup_key(dialect, how, column)
        indexes[name] = f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({key})"
    return indexes


def _among(dialect: str, key: str, values: Sequence[str]) -> sa.ColumnElement[bool]:
    """The SQL expression ``key`` IN ``values``, in a form an index on ``key`` serves."""
    value = sa.literal_column(key, sa.String())
    if dialect == "sqlite":
        return value.in_(list(values))
    return value == sa.any_(sa.literal(list(values), postgresql.ARRAY(sa.String())))
