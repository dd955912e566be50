"""Write a CRM by hand: the given rows of each table, in SQLite, as the screen tests need."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from digestkit.sources import SCHEMAS


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
