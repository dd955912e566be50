"""Write a CRM by hand: the given rows of each table, in SQLite, as the screen tests need."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from digestkit.sources import SCHEMAS

WHEN = "2025-01-01T00:00:00Z"


def account(account_id: str, name: str) -> tuple:
    """An approved Premium account row."""
    return (account_id, name, "Premium", "EMEA", "approved", WHEN)


def contact(contact_id: str, account_id: str, name: str, phone: str) -> tuple:
    """An escalation contact row (its e-mail made from its id)."""
    return (
        contact_id, account_id, name, f"{contact_id.lower()}@example.test", phone,
        "escalation contact", WHEN,
    )  # fmt: skip


def write_crm_rows(
    path: Path, rows: Mapping[str, Sequence[tuple]], statements: Iterable[str] = ()
) -> None:
    """``rows`` per CRM table (columns in schema order), an empty column catalog, then
    ``statements`` (indexes, say)."""
    con = sqlite3.connect(path)
    for table, values in rows.items():
        cols = SCHEMAS[table]
        ddl = ", ".join(f"{c.name} {'INTEGER' if c.dtype == 'int' else 'TEXT'}" for c in cols)
        con.execute(f"CREATE TABLE {table} ({ddl})")
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(cols))})", values)
    con.execute(
        "CREATE TABLE column_catalog (table_name TEXT, column_name TEXT, dtype TEXT,"
        " sensitive INTEGER, description TEXT)"
    )
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
