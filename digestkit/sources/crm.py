"""The CRM (accounts, contacts, entitlements) behind any SQLAlchemy URL, filtered in SQL.

Sensitive columns (declared in the schema, or marked in the database's own ``column_catalog``)
are only read with ``include_sensitive=True``; counts for a digest never leave the database as
rows. Every comparison binds its value with the column's own type (native DATE, TIMESTAMP and
BOOLEAN columns in PostgreSQL, ISO text in SQLite). A database that cannot be read (driver
missing, server down, unknown database, locked or corrupt file, lost connection) is a one-line
SourceError naming the source and what to do.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from digestkit.clock import format_utc
from digestkit.exceptions import SourceError
from digestkit.sources.config import DataSources, SourcesLike, resolve_sources
from digestkit.sources.schema import KEYS, SCHEMAS, TIERS, sensitive_columns
from digestkit.sources.validate import (
    DAY_FORMAT,
    TimeLike,
    check_header,
    check_order,
    check_unique,
    coerce,
    utc_timestamp,
)

__all__ = [
    "CRM_TABLES",
    "MAX_IN_LIST",
    "CrmSpan",
    "count_entitlement_accounts",
    "crm_file",
    "crm_spans",
    "load_accounts",
    "load_contacts",
    "load_entitlements",
]

CRM_TABLES = ("accounts", "contacts", "entitlements")

# Above this many values an IN (...) list is replaced by a temporary table: databases cap the
# number of bound parameters (SQLite: 32766) and giant IN lists plan badly.
MAX_IN_LIST = 500

_GROUPABLE = ("tier", "product_id", "notification_variant", "initial_response_minutes", "terms")
_CATALOG = "column_catalog"
_POSTGRES_EXTRA = "pip install 'digestkit[postgres]'"

# What a database fault means for the user, matched on the driver's first message line (lower
# case). The order matters: the specific server replies before the generic connection failure.
_FAULTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), advice)
    for pattern, advice in (
        (
            r"database (table )?is locked",
            "the CRM database is locked by another program; run again when it has finished writing",
        ),
        (
            r"file is not a database|malformed|not a database",
            "not a readable SQLite database (corrupt, or another kind of file); restore the CRM "
            "file or point crm_url at the right one",
        ),
        (
            r"unable to open database file",
            "cannot open the CRM database file; check that it exists and is readable",
        ),
        (
            r'database ".*" does not exist',
            "the CRM database does not exist on that server; check the database name in crm_url",
        ),
        (
            r'authentication failed|role ".*" does not exist|no password supplied',
            "the CRM database server refused the login; check the user and password in crm_url",
        ),
        (
            r'relation ".*" does not exist|no such table',
            "a CRM table is missing; crm_url must name the database holding "
            + ", ".join(CRM_TABLES),
        ),
        (
            r"permission denied",
            "the CRM database user may not read it; grant it SELECT on the CRM tables",
        ),
        (
            r"server closed the connection|terminating connection|connection (is|already) "
            r"closed|connection has been closed|consuming input failed|connection lost",
            "the connection to the CRM database was lost; run again (it reconnects)",
        ),
        (
            r"connection refused|could not connect|connection failed|could not translate host|"
            r"name or service not known|timeout expired|no route to host|connection timed out",
            "cannot reach the CRM database server; check that it is running and that crm_url "
            "names the right host and port",
        ),
    )
)


class CrmSpan(NamedTuple):
    """How many rows a CRM table has and its first and last ``updated_at``, as stored."""

    rows: int
    first_update: str | datetime | None
    last_update: str | datetime | None


def crm_file(src: DataSources) -> Path | None:
    """The SQLite file behind the CRM URL; None for a database server (or an in-memory one)."""
    url = sa.make_url(src.crm_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def crm_spans(src: SourcesLike = None) -> dict[str, CrmSpan]:
    """Row count and ``updated_at`` range of each CRM table, counted in SQL."""
    sources = resolve_sources(src)
    out = {}
    for table in CRM_TABLES:
        with _connected(sources.crm_url, table) as conn:
            t = _typed_table(
                conn, table, _column_types(conn, table, _crm_where(sources.crm_url, table))
            )
            count, first, last = conn.execute(
                sa.select(sa.func.count(), sa.func.min(t.c.updated_at), sa.func.max(t.c.updated_at))
            ).one()
            out[table] = CrmSpan(count, first, last)
    return out


def load_accounts(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    account_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """CRM accounts as they stood at ``as_of`` (updated_at <= as_of), filtered in SQL."""
    _check_tiers(tiers)

    def conditions(t: sa.TableClause) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if tiers is not None:
            out.append(t.c.tier.in_(list(tiers)))
        if approved_only:
            out.append(t.c.record_status == "approved")
        return out

    return _read_crm(
        src,
        "accounts",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        conditions=conditions,
        in_lists={"account_id": account_ids},
    )


def load_contacts(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    account_ids: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """CRM contacts (names, e-mails and phones only with ``include_sensitive=True``)."""
    return _read_crm(
        src,
        "contacts",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        in_lists={"account_id": account_ids},
    )


def load_entitlements(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    product_ids: Sequence[str] | None = None,
    account_ids: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    active_on: TimeLike | None = None,
    columns: Sequence[str] | None = None,
    include_sensitive: bool = False,
) -> pd.DataFrame:
    """Entitlements, filtered in SQL; ``active_on`` keeps those with starts_on <= day <= ends_on."""
    _check_tiers(tiers)
    day = utc_timestamp(active_on, "active_on") if active_on is not None else None

    def conditions(t: sa.TableClause) -> list[sa.ColumnElement[bool]]:
        out: list[sa.ColumnElement[bool]] = []
        if tiers is not None:
            out.append(t.c.tier.in_(list(tiers)))
        if approved_only:
            out.append(t.c.record_status == "approved")
        if day is not None:
            out += [
                t.c.starts_on <= _day(t.c.starts_on, day),
                t.c.ends_on >= _day(t.c.ends_on, day),
            ]
        return out

    frame = _read_crm(
        src,
        "entitlements",
        as_of=as_of,
        columns=columns,
        include_sensitive=include_sensitive,
        conditions=conditions,
        in_lists={"product_id": product_ids, "account_id": account_ids},
    )
    if {"starts_on", "ends_on"} <= set(frame.columns):
        ids = frame["entitlement_id"]
        check_order(
            frame,
            "starts_on",
            "ends_on",
            where=_crm_where(resolve_sources(src).crm_url, "entitlements"),
            locate=lambda i: f"entitlement_id {ids.iloc[i]}",
        )
    return frame


def count_entitlement_accounts(
    src: SourcesLike = None,
    *,
    as_of: TimeLike | None = None,
    tiers: Sequence[str] | None = None,
    approved_only: bool = False,
    active_on: TimeLike | None = None,
    deviating_from_minutes: int | None = None,
    group_by: Sequence[str] = (),
    count_deviating_from: int | None = None,
) -> pd.DataFrame:
    """Distinct accounts with a matching entitlement, counted in SQL, per ``group_by`` group.

    ``deviating_from_minutes=N`` keeps entitlements whose terms differ from an N-minute initial
    response (another ``initial_response_minutes`` or any ``notification_variant``). Besides
    columns, ``group_by`` takes ``terms``: the notification variant, or "<N>-minute initial
    response" when there is none. ``count_deviating_from=N`` adds a ``deviating`` column: the
    accounts among them with such different terms, counted in the same scan, and
    ``deviating_terms``, how many different such terms there are, with ``deviating_term`` the
    first of them (when there is one, its accounts are the ``deviating`` ones: no second scan).
    Nothing sensitive can be grouped by, and no row leaves the database: a digest only needs
    counts. Returns the ``group_by`` columns and ``accounts``.
    """
    _check_tiers(tiers)
    for name in group_by:
        if name not in _GROUPABLE:
            raise SourceError(
                f"cannot group by it; choose from {', '.join(_GROUPABLE)}", field=name
            )
    sources = resolve_sources(src)
    with _connected(sources.crm_url, "entitlements") as conn:
        return _count_accounts(
            conn,
            _crm_where(sources.crm_url, "entitlements"),
            as_of=as_of,
            tiers=tiers,
            approved_only=approved_only,
            active_on=active_on,
            deviating_from_minutes=deviating_from_minutes,
            group_by=group_by,
            count_deviating_from=count_deviating_from,
        )


def _count_accounts(
    conn: sa.Connection,
    where: str,
    *,
    as_of: TimeLike | None,
    tiers: Sequence[str] | None,
    approved_only: bool,
    active_on: TimeLike | None,
    deviating_from_minutes: int | None,
    group_by: Sequence[str],
    count_deviating_from: int | None,
) -> pd.DataFrame:
    """:func:`count_entitlement_accounts` on an open connection."""
    t = _typed_table(conn, "entitlements", _column_types(conn, "entitlements", where))

    def deviates(minutes: int) -> sa.ColumnElement[bool]:
        return sa.or_(
            t.c.notification_variant.is_not(None), t.c.initial_response_minutes != int(minutes)
        )

    conditions: list[sa.ColumnElement[bool]] = []
    if tiers is not None:
        conditions.append(t.c.tier.in_(list(tiers)))
    if approved_only:
        # Nearly every record is approved: through its index that filter reads most of the table,
        # so it is written as an expression no index serves and the selective tier index is used.
        conditions.append(sa.func.coalesce(t.c.record_status, "") == "approved")
    if active_on is not None:
        day = utc_timestamp(active_on, "active_on")
        conditions += [
            t.c.starts_on <= _day(t.c.starts_on, day),
            t.c.ends_on >= _day(t.c.ends_on, day),
        ]
    if deviating_from_minutes is not None:
        conditions.append(deviates(deviating_from_minutes))
    terms_of = sa.func.coalesce(
        t.c.notification_variant,
        sa.cast(t.c.initial_response_minutes, sa.String) + "-minute initial response",
    )
    terms = terms_of.label("terms")
    keys = [terms if name == "terms" else t.c[name] for name in group_by]
    counts = [sa.func.count(sa.distinct(t.c.account_id)).label("accounts")]
    if count_deviating_from is not None:
        other = deviates(count_deviating_from)
        deviating = sa.case((other, t.c.account_id), else_=None)
        other_terms = sa.case((other, terms_of), else_=None)
        counts += [
            sa.func.count(sa.distinct(deviating)).label("deviating"),
            sa.func.count(sa.distinct(other_terms)).label("deviating_terms"),
            sa.func.min(other_terms).label("deviating_term"),
        ]

    def count(
        extra: Sequence[sa.ColumnElement[bool]], edge: datetime | str | None = None
    ) -> pd.DataFrame:
        columns: list[sa.ColumnElement[Any]] = list(counts)
        if edge is not None:
            columns.append(
                sa.func.sum(sa.case((t.c.updated_at >= edge, 1), else_=0)).label("_edge")
            )
        stmt = sa.select(*keys, *columns).where(*conditions, *extra).group_by(*keys).order_by(*keys)
        return pd.read_sql_query(stmt, conn)

    if as_of is None:
        frame = count([])
    else:
        when = utc_timestamp(as_of, "as_of")
        bound = _sql_bound(when, t.c.updated_at.type)
        second = _sql_second(when, t.c.updated_at.type)
        # The bound is the next whole second. The same scan counts the rows of as_of's own
        # second; only when there are some are they checked exactly in pandas, and those
        # really after as_of excluded by id in a second count.
        frame = count([t.c.updated_at <= bound], edge=second)
        if frame["_edge"].fillna(0).sum() > 0:
            edge = pd.read_sql_query(
                sa.select(t.c.entitlement_id, t.c.updated_at).where(
                    t.c.updated_at >= second, t.c.updated_at <= bound
                ),
                conn,
            )
            stamps = pd.to_datetime(edge["updated_at"], utc=True, errors="coerce", format="ISO8601")
            late = edge.loc[~(stamps <= when), "entitlement_id"].astype(str).tolist()
            if late:
                frame = count([t.c.updated_at <= bound, t.c.entitlement_id.not_in(late)])
        frame = frame.drop(columns="_edge", errors="ignore")
    if not group_by and frame.empty:
        frame = pd.DataFrame({name: [0] for name in frame.columns})
    for name in ("accounts", "deviating", "deviating_terms"):
        if name in frame:
            frame[name] = frame[name].astype("int64")
    return frame


@functools.cache
def _engine(url: str) -> sa.Engine:
    """One engine per URL; ``postgresql://`` means psycopg 3, the driver of digestkit[postgres]."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    masked = parsed.render_as_string(hide_password=True)
    # A server connection may have died since its last use (restart, failover): check first.
    options = {} if parsed.get_backend_name() == "sqlite" else {"pool_pre_ping": True}
    try:
        return sa.create_engine(parsed, **options)
    except ImportError as exc:
        if parsed.get_backend_name() == "postgresql":
            raise SourceError(
                f"the PostgreSQL driver (psycopg) is not installed; {_POSTGRES_EXTRA}", path=masked
            ) from exc
        raise SourceError(
            f"the database driver '{exc.name}' is not installed; install it with pip", path=masked
        ) from exc
    except sa.exc.NoSuchModuleError as exc:
        raise SourceError(
            f"unknown kind of database '{parsed.drivername}' in crm_url", path=masked
        ) from exc


@contextlib.contextmanager
def _connected(url: str, table: str) -> Iterator[sa.Connection]:
    """A connection to the CRM; any database fault inside becomes a one-line SourceError."""
    where = _crm_where(url, table)
    try:
        with _engine(url).connect() as conn:
            yield conn
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        raise SourceError(_fault(exc), path=where) from exc


def _fault(exc: Exception) -> str:
    """What a database error means and what to do, without the statement or its parameters."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    first = lines[0].strip() if lines else ""
    for pattern, advice in _FAULTS:
        if pattern.search(first.lower()):
            return advice
    if getattr(exc, "connection_invalidated", False):
        return "the connection to the CRM database was lost; run again (it reconnects)"
    # Never str(exc): SQLAlchemy appends the statement and its parameters.
    return f"the CRM database failed ({type(orig).__name__}: {first[:160]}); check crm_url"


def _crm_where(url: str, table: str) -> str:
    """How errors name a CRM table: the SQLite file's name, or the URL without its password."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return f"{Path(parsed.database).name}:{table}"
    return f"{parsed.render_as_string(hide_password=True)}:{table}"


def _column_types(
    conn: sa.Connection, table: str, where: str
) -> dict[str, sa.types.TypeEngine[Any]]:
    """The database's own type of each column of ``table``; SourceError if the table is missing."""
    if not sa.inspect(conn).has_table(table):
        raise SourceError(
            f"table is missing from the CRM database; crm_url must name the database holding "
            f"{', '.join(CRM_TABLES)}",
            path=where,
        )
    return {c["name"]: c["type"] for c in sa.inspect(conn).get_columns(table)}


def _typed_table(
    conn: sa.Connection, table: str, types: Mapping[str, sa.types.TypeEngine[Any]]
) -> sa.TableClause:
    """``table`` with each column typed as the database declares it, so binds carry that type.

    SQLite has no date types: whatever a column declares, days and times are stored (and
    compared) as ISO text there, so those columns are bound as text.
    """
    sqlite = conn.dialect.name == "sqlite"
    kinds = {c.name: c.dtype for c in SCHEMAS.get(table, ())}
    columns = []
    for name, type_ in types.items():
        if sqlite and kinds.get(name) in ("date", "datetime"):
            type_ = sa.String()
        columns.append(sa.column(name, type_))
    return sa.table(table, *columns)


def _catalog_sensitive(conn: sa.Connection, table: str) -> set[str]:
    """Columns the database's own column_catalog marks sensitive (if it has one)."""
    if not sa.inspect(conn).has_table(_CATALOG):
        return set()
    catalog = _typed_table(conn, _CATALOG, _column_types(conn, _CATALOG, _CATALOG))
    # The flag is read, not compared in SQL: it is 0/1 in SQLite, BOOLEAN in PostgreSQL, or text.
    rows = conn.execute(
        sa.select(catalog.c.column_name, catalog.c.sensitive).where(catalog.c.table_name == table)
    )
    return {str(name) for name, flag in rows if _marks_sensitive(flag)}


def _marks_sensitive(flag: object) -> bool:
    """Whether a column_catalog ``sensitive`` value marks its column; unclear values do (fail
    closed), only an empty one or a clear no (0, false, no) does not."""
    if flag is None:
        return False
    if isinstance(flag, bool | int | float):
        return bool(flag)
    return str(flag).strip().lower() not in ("", "0", "false", "f", "no", "n")


def _read_crm(
    src: SourcesLike,
    table: str,
    *,
    as_of: TimeLike | None,
    columns: Sequence[str] | None,
    include_sensitive: bool,
    conditions: Callable[[sa.TableClause], list[sa.ColumnElement[bool]]] | None = None,
    in_lists: Mapping[str, Sequence[str] | None] | None = None,
) -> pd.DataFrame:
    """Select ``columns`` of ``table`` with every filter in the SQL, then validate the rows."""
    sources = resolve_sources(src)
    where = _crm_where(sources.crm_url, table)
    id_col = KEYS[table][0]
    with _connected(sources.crm_url, table) as conn:
        db_columns = _column_types(conn, table, where)
        check_header(list(db_columns), table, where=where, row=None)
        t = _typed_table(conn, table, db_columns)
        sensitive = set(sensitive_columns(table)) | _catalog_sensitive(conn, table)
        wanted = _wanted_columns(table, columns, sensitive, include_sensitive, where=where)
        selected = wanted + (
            ["updated_at"] if as_of is not None and "updated_at" not in wanted else []
        )
        stmt = sa.select(*(t.c[n] for n in selected)).order_by(t.c[id_col])
        stmt = stmt.where(*(conditions(t) if conditions is not None else ()))
        if as_of is not None:
            bound = _sql_bound(utc_timestamp(as_of, "as_of"), t.c.updated_at.type)
            stmt = stmt.where(t.c.updated_at <= bound)
        temp_tables: list[sa.Table] = []
        try:
            for name, given in (in_lists or {}).items():
                if given is None:
                    continue
                values = sorted({str(v) for v in given})
                if len(values) <= MAX_IN_LIST:
                    stmt = stmt.where(t.c[name].in_(values))
                    continue
                if conn.dialect.name == "postgresql":
                    # One array parameter: no temporary table, so a read-only replica serves it.
                    array = sa.literal(values, postgresql.ARRAY(t.c[name].type))
                    stmt = stmt.where(t.c[name] == sa.any_(array))
                    continue
                temp = sa.Table(
                    f"digestkit_filter_{name}",
                    sa.MetaData(),
                    sa.Column("value", t.c[name].type, primary_key=True),
                    prefixes=["TEMPORARY"],
                )
                temp.create(conn)
                temp_tables.append(temp)
                conn.execute(temp.insert(), [{"value": v} for v in values])
                stmt = stmt.where(t.c[name].in_(sa.select(temp.c.value)))
            frame = pd.read_sql_query(stmt, conn)
        finally:
            for temp in temp_tables:
                temp.drop(conn)
            if temp_tables:
                conn.commit()  # some drivers run DDL outside the transaction; make the drop stick
    ids = frame[id_col]
    frame = coerce(frame, table, where=where, locate=lambda i: f"{id_col} {ids.iloc[i]}")
    check_unique(frame, table, where=where, locate=lambda i: f"{id_col} {ids.iloc[i]}")
    if as_of is not None:
        # The SQL bound is coarse (whole seconds, text or native timestamps); this one is exact.
        frame = frame[frame["updated_at"] <= utc_timestamp(as_of, "as_of")]
    return frame[wanted].reset_index(drop=True)


def _wanted_columns(
    table: str,
    columns: Sequence[str] | None,
    sensitive: set[str],
    include_sensitive: bool,
    *,
    where: str,
) -> list[str]:
    """The columns to select in schema order: all readable ones, or the id plus ``columns``."""
    names = [c.name for c in SCHEMAS[table]]
    if columns is None:
        return [n for n in names if include_sensitive or n not in sensitive]
    for name in columns:
        if name not in names:
            raise SourceError(
                f"unknown column; {table} has {', '.join(names)}", path=where, field=name
            )
        if name in sensitive and not include_sensitive:
            raise SourceError(
                "is sensitive; pass include_sensitive=True to read it", path=where, field=name
            )
    id_col = KEYS[table][0]
    return [n for n in names if n == id_col or n in columns]


def _day(column: sa.ColumnElement[Any], when: pd.Timestamp) -> date | datetime | str:
    """The UTC calendar day of ``when`` in ``column``'s representation: a date for a DATE
    column, midnight for a timestamp one, ``YYYY-MM-DD`` text otherwise (which sorts as dates)."""
    day = when.tz_convert("UTC").tz_localize(None).normalize()
    if isinstance(column.type, sa.DateTime):
        return _native(day.tz_localize("UTC"), column.type)
    if isinstance(column.type, sa.Date):
        return day.date()
    return day.strftime(DAY_FORMAT)


def _sql_bound(as_of: pd.Timestamp, column_type: sa.types.TypeEngine[Any]) -> datetime | str:
    """An upper bound for ``updated_at <= as_of`` in the column's own representation.

    ISO text compares correctly as text only at equal precision, so the bound is the next whole
    second: it lets through every row at or before ``as_of`` (and a few after, filtered later).
    """
    bound = as_of.floor("s") + pd.Timedelta(seconds=1)
    if isinstance(column_type, sa.DateTime):
        return _native(bound, column_type)
    return format_utc(bound.to_pydatetime())


def _sql_second(when: pd.Timestamp, column_type: sa.types.TypeEngine[Any]) -> datetime | str:
    """The start of ``when``'s second, comparable with the column (ISO text sorts by prefix)."""
    start = when.floor("s")
    if isinstance(column_type, sa.DateTime):
        return _native(start, column_type)
    # Without the zone suffix: every stored form of a time in that second sorts at or after it.
    return format_utc(start.to_pydatetime()).removesuffix("Z")


def _native(when: pd.Timestamp, column_type: sa.DateTime) -> datetime:
    """``when`` as a datetime for a native timestamp column (naive UTC unless it keeps zones)."""
    return when.to_pydatetime() if column_type.timezone else when.tz_localize(None).to_pydatetime()


def _check_tiers(tiers: Sequence[str] | None) -> None:
    unknown = [t for t in tiers or () if t not in TIERS]
    if unknown:
        raise SourceError(f"unknown tier '{unknown[0]}'; known: {', '.join(TIERS)}", field="tier")
