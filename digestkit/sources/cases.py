"""The CRM's severity-one cases: which account and product needed the runbook, and when.

Only what the evaluation needs to tell whether a digest came before the first live case on its
product or account: ``case_id``, the pseudonymous ``account_id``, ``product_id`` and
``opened_at``. The table holds nothing sensitive (no subject, description or contact), so it has
no sensitive columns to screen. It lives in the CRM database next to the other CRM tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from digestkit.exceptions import SourceError
from digestkit.sources.config import SourcesLike, resolve_sources
from digestkit.sources.crm import _crm_where, _engine
from digestkit.sources.schema import SCHEMAS, Column
from digestkit.sources.validate import TimeLike, utc_timestamp

__all__ = ["CASES_COLUMNS", "CASES_TABLE", "load_cases"]

CASES_TABLE = "cases"

CASES_COLUMNS: tuple[Column, ...] = SCHEMAS[CASES_TABLE]
"""Columns of the ``cases`` table (declared in ``SCHEMAS``); none is sensitive."""

_NAMES = tuple(c.name for c in CASES_COLUMNS)
_T = sa.table(CASES_TABLE, *(sa.column(n) for n in _NAMES))


def load_cases(
    src: SourcesLike = None,
    *,
    opened_after: TimeLike | None = None,
    product_ids: Sequence[str] | None = None,
    account_ids: Sequence[str] | None = None,
    missing_ok: bool = False,
) -> pd.DataFrame | None:
    """Severity-one cases, in ``opened_at`` order, filtered in SQL.

    ``opened_after`` keeps cases opened strictly after that time; ``product_ids`` and
    ``account_ids`` keep cases on any of those products *or* accounts. A CRM without the table is
    a SourceError, or None with ``missing_ok``.
    """
    sources = resolve_sources(src)
    where = _crm_where(sources.crm_url, CASES_TABLE)
    with _engine(sources.crm_url).connect() as conn:
        inspector = sa.inspect(conn)
        if not inspector.has_table(CASES_TABLE):
            if missing_ok:
                return None
            raise SourceError("table is missing from the CRM database", path=where)
        present = [c["name"] for c in inspector.get_columns(CASES_TABLE)]
        missing = [n for n in _NAMES if n not in present]
        if missing:
            raise SourceError(
                f"missing column(s) {', '.join(missing)}", path=where, field=missing[0]
            )
        stmt = sa.select(*(_T.c[n] for n in _NAMES)).order_by(_T.c.opened_at, _T.c.case_id)
        scope = []
        if product_ids is not None:
            scope.append(_T.c.product_id.in_(sorted(set(product_ids))))
        if account_ids is not None:
            scope.append(_T.c.account_id.in_(sorted(set(account_ids))))
        if scope:
            stmt = stmt.where(sa.or_(*scope))
        frame = pd.read_sql_query(stmt, conn)
    frame = _validated(frame, where)
    if opened_after is not None:
        frame = frame[frame["opened_at"] > utc_timestamp(opened_after, "opened_after")]
    return frame.reset_index(drop=True)


def _validated(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    for name in _NAMES:
        empty = frame[name].isna() | (frame[name].astype("string").str.strip() == "")
        if empty.any():
            row = f"case_id {frame['case_id'].iloc[int(empty.to_numpy().argmax())]}"
            raise SourceError(
                "is empty but every row needs a value", path=where, row=row, field=name
            )
    opened = pd.to_datetime(frame["opened_at"], utc=True, format="ISO8601", errors="coerce")
    if opened.isna().any():
        pos = int(opened.isna().to_numpy().argmax())
        raise SourceError(
            f"is not an ISO-8601 timestamp such as 2026-06-01T09:30:00Z "
            f"(got {frame['opened_at'].iloc[pos]!r})",
            path=where,
            row=f"case_id {frame['case_id'].iloc[pos]}",
            field="opened_at",
        )
    dup = frame["case_id"].duplicated()
    if dup.any():
        case = frame["case_id"].iloc[int(dup.to_numpy().argmax())]
        raise SourceError(f"duplicate case_id ({case})", path=where, row=f"case_id {case}")
    out = frame.astype({n: "string" for n in _NAMES if n != "opened_at"})
    out["opened_at"] = opened
    return out
